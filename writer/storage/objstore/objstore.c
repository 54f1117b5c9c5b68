/*-------------------------------------------------------------------------
 *
 * objstore.c
 *	  Opening a store from its root URL, checking keys, and dispatching to
 *	  the backend (see objstore.h).  The I/O is in objstore_local.c and
 *	  objstore_s3.c.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "objstore_backend.h"

#define OBJSTORE_MAX_KEY 1024	/* S3's limit on key bytes */

bool
objstore_key_ok(const char *key)
{
	const char *comp = key;
	size_t		len = strlen(key);

	if (len == 0 || len > OBJSTORE_MAX_KEY)
		return false;
	for (const char *p = key;; p++)
	{
		if (*p == '/' || *p == '\0')
		{
			size_t		n = p - comp;

			if (n == 0 || (n == 1 && comp[0] == '.') ||
				(n == 2 && comp[0] == '.' && comp[1] == '.'))
				return false;
			if (*p == '\0')
				return true;
			comp = p + 1;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
			  *p == '-' || *p == '='))
			return false;
	}
}

bool
objstore_key_listed(const char *key)
{
	if (!objstore_key_ok(key) || key[0] == '.')
		return false;
	return strstr(key, "/.") == NULL;
}

/* A list prefix may be empty or end in '/', and need not be a whole key. */
static bool
objstore_prefix_ok(const char *prefix)
{
	char		buf[OBJSTORE_MAX_KEY + 2];
	size_t		len;

	if (prefix == NULL || prefix[0] == '\0')
		return true;
	len = strlen(prefix);
	if (len > OBJSTORE_MAX_KEY)
		return false;
	memcpy(buf, prefix, len + 1);
	if (buf[len - 1] == '/')
		buf[len - 1] = '\0';
	return objstore_key_ok(buf);
}

static bool
objstore_check_key(const ObjStore *s, const char *op, const char *key,
				   char *errstr, size_t errlen)
{
	if (key != NULL && objstore_key_ok(key))
		return true;
	snprintf(errstr, errlen,
			 "%s on %s: invalid key \"%.200s\" (keys are '/'-separated "
			 "components of [A-Za-z0-9._=-], none empty, \".\" or \"..\")",
			 op, s->describe, key ? key : "(null)");
	return false;
}

ObjStore *
objstore_open(const char *url, const ObjStoreOptions *opts,
			  char *errstr, size_t errlen)
{
	static const ObjStoreOptions defaults = {.path_style = -1};

	if (url == NULL || url[0] == '\0')
	{
		snprintf(errstr, errlen, "the table root is empty");
		return NULL;
	}
	if (opts == NULL)
		opts = &defaults;
	if (strncmp(url, "s3://", 5) == 0 || strncmp(url, "s3a://", 6) == 0)
	{
		const char *b = strstr(url, "://") + 3;
		const char *slash = strchr(b, '/');
		size_t		blen = slash ? (size_t) (slash - b) : strlen(b);
		char		bucket[64];
		char		prefix[OBJSTORE_MAX_KEY + 1];
		size_t		plen;

		/* S3's bucket names: 3-63 of [a-z0-9.-] */
		if (blen < 3 || blen > 63 || strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789.-") < blen)
		{
			snprintf(errstr, errlen,
					 "invalid bucket name in \"%.300s\" (3 to 63 of a-z, 0-9, '.' and '-')",
					 url);
			return NULL;
		}
		memcpy(bucket, b, blen);
		bucket[blen] = '\0';
		prefix[0] = '\0';
		if (slash)
		{
			const char *p = slash + 1;

			plen = strlen(p);
			while (plen > 0 && p[plen - 1] == '/')
				plen--;
			if (plen > OBJSTORE_MAX_KEY - 200)
			{
				snprintf(errstr, errlen, "the prefix of \"%.300s\" is too long", url);
				return NULL;
			}
			memcpy(prefix, p, plen);
			prefix[plen] = '\0';
			if (plen > 0 && !objstore_key_ok(prefix))
			{
				snprintf(errstr, errlen,
						 "invalid prefix in \"%.300s\" ('/'-separated components of [A-Za-z0-9._=-], none empty, \".\" or \"..\")",
						 url);
				return NULL;
			}
		}
		return objstore_s3_open(bucket, prefix, opts, errstr, errlen);
	}
	if (strncmp(url, "file://", 7) == 0)
	{
		const char *path = url + 7;

		/* file:///abs/path; file://localhost/abs/path is the same place */
		if (strncmp(path, "localhost/", 10) == 0)
			path += 9;
		if (path[0] != '/')
		{
			snprintf(errstr, errlen,
					 "\"%.300s\": a file URL needs an absolute path (file:///path)",
					 url);
			return NULL;
		}
		return objstore_local_open(path, errstr, errlen);
	}
	if (strstr(url, "://") != NULL)
	{
		snprintf(errstr, errlen,
				 "\"%.300s\": unknown storage scheme (s3://, file:// or a path)",
				 url);
		return NULL;
	}
	return objstore_local_open(url, errstr, errlen);
}

void
objstore_close(ObjStore *s)
{
	char	   *describe;

	if (s == NULL)
		return;
	describe = s->describe;
	s->ops->close(s);
	free(describe);
}

const char *
objstore_describe(const ObjStore *s)
{
	return s->describe;
}

bool
objstore_is_remote(const ObjStore *s)
{
	return s->remote;
}

void
objstore_stats(const ObjStore *s, ObjStoreStats *out)
{
	*out = s->stats;
}

ObjStoreResult
objstore_put(ObjStore *s, const char *key, const void *data, size_t len,
			 char *errstr, size_t errlen)
{
	if (!objstore_check_key(s, "put", key, errstr, errlen))
		return OBJSTORE_ERROR;
	return s->ops->put(s, key, data, len, false, errstr, errlen);
}

ObjStoreResult
objstore_put_if_absent(ObjStore *s, const char *key, const void *data,
					   size_t len, char *errstr, size_t errlen)
{
	if (!objstore_check_key(s, "put-if-absent", key, errstr, errlen))
		return OBJSTORE_ERROR;
	return s->ops->put(s, key, data, len, true, errstr, errlen);
}

ObjStoreResult
objstore_put_file(ObjStore *s, const char *key, const char *path,
				  char *errstr, size_t errlen)
{
	if (!objstore_check_key(s, "put", key, errstr, errlen))
		return OBJSTORE_ERROR;
	return s->ops->put_file(s, key, path, errstr, errlen);
}

ObjStoreResult
objstore_get(ObjStore *s, const char *key, ByteBuf *out,
			 char *errstr, size_t errlen)
{
	if (!objstore_check_key(s, "get", key, errstr, errlen))
		return OBJSTORE_ERROR;
	return s->ops->get(s, key, out, -1, errstr, errlen);
}

ObjStoreResult
objstore_get_file(ObjStore *s, const char *key, const char *path,
				  char *errstr, size_t errlen)
{
	ObjStoreResult r;
	int			fd;

	if (!objstore_check_key(s, "get", key, errstr, errlen))
		return OBJSTORE_ERROR;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
	{
		snprintf(errstr, errlen, "get %s of %s: could not create \"%s\": %s",
				 key, s->describe, path, strerror(errno));
		return OBJSTORE_ERROR;
	}
	r = s->ops->get(s, key, NULL, fd, errstr, errlen);
	if (close(fd) != 0 && r == OBJSTORE_OK)
	{
		snprintf(errstr, errlen, "get %s of %s: could not write \"%s\": %s",
				 key, s->describe, path, strerror(errno));
		r = OBJSTORE_ERROR;
	}
	if (r != OBJSTORE_OK)
		unlink(path);
	return r;
}

ObjStoreResult
objstore_list(ObjStore *s, const char *prefix, const char *start_after,
			  ObjStoreListFn fn, void *arg, char *errstr, size_t errlen)
{
	if (!objstore_prefix_ok(prefix))
	{
		snprintf(errstr, errlen, "list on %s: invalid prefix \"%.200s\"",
				 s->describe, prefix);
		return OBJSTORE_ERROR;
	}
	return s->ops->list(s, prefix ? prefix : "",
						start_after ? start_after : "", fn, arg,
						errstr, errlen);
}

ObjStoreResult
objstore_delete(ObjStore *s, const char *key, char *errstr, size_t errlen)
{
	if (!objstore_check_key(s, "delete", key, errstr, errlen))
		return OBJSTORE_ERROR;
	return s->ops->del(s, key, errstr, errlen);
}

bool
objstore_stage_path(ObjStore *s, const char *key, char *out, size_t outlen,
					char *errstr, size_t errlen)
{
	if (!objstore_check_key(s, "stage", key, errstr, errlen))
		return false;
	return s->ops->stage_path(s, key, out, outlen, errstr, errlen);
}

bool
objstore_local_file(ObjStore *s, const char *key, char *out, size_t outlen)
{
	if (!objstore_key_ok(key))
		return false;
	return s->ops->local_file(s, key, out, outlen);
}

void
objstore_random_hex(char *out)
{
	uint64_t	rnd = 0;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		rnd = ((uint64_t) ts.tv_nsec << 20) ^ (uint64_t) ts.tv_sec ^
			((uint64_t) getpid() << 40);
	}
	snprintf(out, 17, "%016llx", (unsigned long long) rnd);
}
