/*-------------------------------------------------------------------------
 *
 * paths.c
 *	  Name sanitising for table keys (see paths.h).
 *
 * Escaping alone already keeps '/', "." and ".." out of a component; the
 * local object store's realpath() check of each directory it writes to
 * also catches symlinks that someone placed under the root.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

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

bool
paths_table_key(const char *schema, const char *table, char *out,
				size_t outlen, char *errstr, size_t errlen)
{
	char		s[PATHS_MAX_COMPONENT + 1];
	char		t[PATHS_MAX_COMPONENT + 1];

	if (!paths_sanitize(schema, s, sizeof(s), errstr, errlen) ||
		!paths_sanitize(table, t, sizeof(t), errstr, errlen))
		return false;
	if ((size_t) snprintf(out, outlen, "%s/%s", s, t) >= outlen)
	{
		snprintf(errstr, errlen, "table key too long");
		return false;
	}
	return true;
}
