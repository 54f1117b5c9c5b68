/*-------------------------------------------------------------------------
 *
 * paths.c
 *	  Name sanitising and root confinement for table directories
 *	  (see paths.h).
 *
 * Escaping alone already keeps '/', "." and ".." out of a component; the
 * realpath() check after creating each directory also catches symlinks
 * that someone placed under the root.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "paths.h"

/*
 * A name whose escaped form is longer than PATHS_MAX_COMPONENT keeps the
 * first PATHS_KEEP bytes of it (never half an escape), then "--" and the
 * first 128 bits of the SHA-256 of the whole name in hex.  An escaped name
 * never holds "--" (a '-' is always followed by two hex digits), so a
 * shortened name meets no other name; two shortened ones would need a
 * SHA-256 collision.
 */
#define PATHS_HASH_HEX 32
#define PATHS_KEEP (PATHS_MAX_COMPONENT - 2 - PATHS_HASH_HEX)

bool
paths_sanitize(const char *name, char *out, size_t outlen,
			   char *errstr, size_t errlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t		n = 0;
	const unsigned char *p;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (name == NULL || name[0] == '\0')
	{
		snprintf(errstr, errlen, "empty name cannot be a directory");
		return false;
	}
	if (outlen <= PATHS_MAX_COMPONENT)
	{
		snprintf(errstr, errlen, "directory name buffer too small");
		return false;
	}
	for (p = (const unsigned char *) name; *p; p++)
	{
		bool		plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '_';
		size_t		need = plain ? 1 : 3;

		if (n + need > PATHS_MAX_COMPONENT)
			break;
		if (plain)
			out[n++] = (char) *p;
		else
		{
			out[n++] = '-';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	out[n] = '\0';
	if (*p == '\0')
		return true;			/* the whole name fits */
	if (!EVP_Digest(name, strlen(name), md, &mdlen, EVP_sha256(), NULL) ||
		mdlen * 2 < PATHS_HASH_HEX)
	{
		snprintf(errstr, errlen, "could not hash the name \"%.64s\"", name);
		return false;
	}
	/* cut back to PATHS_KEEP bytes, not inside an escape */
	n = n < PATHS_KEEP ? n : PATHS_KEEP;
	while (n > 0 && (out[n - 1] == '-' || (n > 1 && out[n - 2] == '-')))
		n--;
	out[n++] = '-';
	out[n++] = '-';
	for (int i = 0; i < PATHS_HASH_HEX / 2; i++)
	{
		out[n++] = hex[md[i] >> 4];
		out[n++] = hex[md[i] & 15];
	}
	out[n] = '\0';
	return true;
}

bool
paths_is_shortened(const char *component)
{
	return strstr(component, "--") != NULL;
}

static bool
paths_under(const char *canon_root, const char *canon)
{
	size_t		n = strlen(canon_root);

	if (strcmp(canon_root, "/") == 0)
		return canon[0] == '/';
	return strncmp(canon, canon_root, n) == 0 &&
		(canon[n] == '\0' || canon[n] == '/');
}

bool
paths_inside(const char *root, const char *path)
{
	char		r[PATH_MAX];
	char		p[PATH_MAX];

	if (realpath(root, r) == NULL || realpath(path, p) == NULL)
		return false;
	return paths_under(r, p);
}

/* mkdir -p of an absolute or relative path. */
static bool
paths_mkdirs(const char *path, char *errstr, size_t errlen)
{
	char		buf[PATH_MAX];
	size_t		len = strlen(path);

	if (len >= sizeof(buf))
	{
		snprintf(errstr, errlen, "path too long");
		return false;
	}
	memcpy(buf, path, len + 1);
	for (char *s = buf + 1; ; s++)
	{
		if (*s == '/' || *s == '\0')
		{
			char		c = *s;

			*s = '\0';
			if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			{
				snprintf(errstr, errlen, "could not create directory \"%s\": %s",
						 buf, strerror(errno));
				return false;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	return true;
}

bool
paths_table_dir(const char *root, const char *schema, const char *table,
				char *out, size_t outlen, char *errstr, size_t errlen)
{
	char		canon_root[PATH_MAX];
	char		cur[PATH_MAX];
	char		comp[PATHS_MAX_COMPONENT + 1];
	const char *names[2] = {schema, table};

	if (!paths_mkdirs(root, errstr, errlen))
		return false;
	if (realpath(root, canon_root) == NULL)
	{
		snprintf(errstr, errlen, "could not resolve \"%s\": %s", root,
				 strerror(errno));
		return false;
	}
	snprintf(cur, sizeof(cur), "%s", canon_root);
	for (int i = 0; i < 2; i++)
	{
		char		next[PATH_MAX];

		if (!paths_sanitize(names[i], comp, sizeof(comp), errstr, errlen))
			return false;
		if ((size_t) snprintf(next, sizeof(next), "%s/%s", cur, comp) >= sizeof(next))
		{
			snprintf(errstr, errlen, "path too long under \"%s\"", root);
			return false;
		}
		if (mkdir(next, 0755) != 0 && errno != EEXIST)
		{
			snprintf(errstr, errlen, "could not create directory \"%s\": %s",
					 next, strerror(errno));
			return false;
		}
		if (realpath(next, cur) == NULL)
		{
			snprintf(errstr, errlen, "could not resolve \"%s\": %s", next,
					 strerror(errno));
			return false;
		}
		if (!paths_under(canon_root, cur) || strcmp(cur, canon_root) == 0)
		{
			snprintf(errstr, errlen, "\"%s\" resolves outside the root \"%s\"",
					 next, canon_root);
			return false;
		}
	}
	if (strlen(cur) >= outlen)
	{
		snprintf(errstr, errlen, "path too long");
		return false;
	}
	strcpy(out, cur);
	return true;
}
