/*-------------------------------------------------------------------------
 *
 * objstore.h
 *	  The object-store interface: the few operations a Delta table needs
 *	  from the place it lives, with a backend per kind of place (a local
 *	  directory, S3 and S3-compatible stores).
 *
 * A store is opened on a root URL (s3://bucket/prefix, file:///path, or a
 * plain path) and addresses objects by keys relative to that root: a key
 * is one or more '/'-separated components of [A-Za-z0-9._=-] (a Delta
 * partition path has '='), none of them empty, "." or "..", so no key can
 * leave the root.  Every operation fails with a message naming the store
 * (bucket or directory), the operation and the key.
 *
 * What each backend promises:
 *	- put and put_file make the object visible complete or not at all (a
 *	  local temp file renamed into place; one S3 PUT, or a multipart upload
 *	  that only its completion makes visible);
 *	- put_if_absent is the Delta log's commit primitive: it creates the key
 *	  only if nothing is there and says OBJSTORE_EXISTS when another writer
 *	  got there first (local: link(), which fails on an existing name; S3:
 *	  PUT with If-None-Match: *, 412 Precondition Failed);
 *	- an object is durable when the call returns OBJSTORE_OK (local: the
 *	  file and its directory are fsynced).
 *
 * Nothing here buffers a whole object: put_file streams a file of any size
 * and get_file streams into one.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_OBJSTORE_H
#define CDC_OBJSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"

typedef enum ObjStoreResult
{
	OBJSTORE_OK = 0,
	OBJSTORE_ERROR,				/* failed for good (retries spent): errstr */
	OBJSTORE_NOT_FOUND,			/* get, get_file: no such key */
	OBJSTORE_EXISTS				/* put_if_absent: the key exists already */
} ObjStoreResult;

/*
 * Settings of the S3 backend (the local one has none).  Strings are
 * borrowed for the duration of objstore_open only.  NULL or 0 means the
 * default, which is what the AWS tools do.
 */
typedef struct ObjStoreOptions
{
	const char *endpoint;		/* http(s)://host[:port]; default
								 * $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL,
								 * else https://s3.<region>.amazonaws.com */
	const char *region;			/* default $AWS_REGION, $AWS_DEFAULT_REGION,
								 * the profile's region, else us-east-1 */
	const char *profile;		/* default $AWS_PROFILE, else "default" */
	int			path_style;		/* 1 path-style, 0 virtual-hosted, -1 =
								 * default: path-style with an endpoint
								 * (S3-compatible stores), else virtual */
	const char *ca_file;		/* CA bundle (PEM) for TLS; NULL = system */
	bool		insecure;		/* skip TLS verification (tests only) */
	int64_t		multipart_threshold;	/* bytes; larger files go multipart
										 * (default 64 MiB) */
	int64_t		part_size;		/* bytes per part, >= 5 MiB (default 16 MiB) */
	int			max_attempts;	/* per request, >= 1 (default 6) */
	int			timeout_ms;		/* per request (default 120000) */
	const char *staging_dir;	/* local directory for files on their way
								 * to or from S3 (default $TMPDIR, /tmp) */
	/* debug lines (uploads, retries) go here; NULL = nowhere */
	void		(*log_debug) (const char *line);
	int			list_page_size; /* keys per ListObjectsV2 page, 1..1000
								 * (default: S3's, 1000); tests page
								 * small */
} ObjStoreOptions;

typedef struct ObjStore ObjStore;

/* Called once per listed key, in key order; return false to stop. */
typedef bool (*ObjStoreListFn) (const char *key, int64_t size,
								int64_t mtime_ms, void *arg);

/*
 * Opens the store at url.  For a local root the directory is created if
 * missing; for S3 nothing is contacted yet (the first request finds out
 * about credentials and the bucket).
 */
extern ObjStore *objstore_open(const char *url, const ObjStoreOptions *opts,
							   char *errstr, size_t errlen);
extern void objstore_close(ObjStore *s);

/* "s3://bucket/prefix" or the local directory, for messages. */
extern const char *objstore_describe(const ObjStore *s);

/* true for the S3 backend. */
extern bool objstore_is_remote(const ObjStore *s);

/* true if key is a valid key (see above). */
extern bool objstore_key_ok(const char *key);

/* Creates or replaces key with len bytes of data. */
extern ObjStoreResult objstore_put(ObjStore *s, const char *key,
								   const void *data, size_t len,
								   char *errstr, size_t errlen);

/*
 * Creates or replaces key with the content of the local file path, and
 * removes the file: it is handed over, so a local store can move it into
 * place instead of copying.  On failure the file is left where it was.
 * S3 uploads files larger than multipart_threshold in parts.
 */
extern ObjStoreResult objstore_put_file(ObjStore *s, const char *key,
										const char *path,
										char *errstr, size_t errlen);

/* Creates key with data only if it does not exist: OBJSTORE_EXISTS if it
 * does (whoever wrote it). */
extern ObjStoreResult objstore_put_if_absent(ObjStore *s, const char *key,
											 const void *data, size_t len,
											 char *errstr, size_t errlen);

/* Appends the object's content to out (which must fit in memory: the log's
 * JSON commits and _last_checkpoint, not data files). */
extern ObjStoreResult objstore_get(ObjStore *s, const char *key, ByteBuf *out,
								   char *errstr, size_t errlen);

/* Writes the object's content to the local file path (created or
 * truncated). */
extern ObjStoreResult objstore_get_file(ObjStore *s, const char *key,
										const char *path,
										char *errstr, size_t errlen);

/*
 * Lists the keys that start with prefix and sort after start_after (NULL
 * or "" = from the first), in byte order, calling fn for each.  Keys are
 * relative to the root.  A prefix is matched as bytes, not as a folder:
 * "_delta_log/0000" lists every commit from 0000...
 */
extern ObjStoreResult objstore_list(ObjStore *s, const char *prefix,
									const char *start_after,
									ObjStoreListFn fn, void *arg,
									char *errstr, size_t errlen);

/* Deletes key; deleting a missing key is OBJSTORE_OK (as on S3). */
extern ObjStoreResult objstore_delete(ObjStore *s, const char *key,
									  char *errstr, size_t errlen);

/*
 * A fresh local path (out, PATH_MAX bytes) where a file meant for key can
 * be written before objstore_put_file hands it over: beside the key's own
 * file (hidden, same file system, so the put is a rename) for a local
 * store, in the staging directory for S3.  Creates the directory.
 */
extern bool objstore_stage_path(ObjStore *s, const char *key, char *out,
								size_t outlen, char *errstr, size_t errlen);

/*
 * The local file that holds key (out, PATH_MAX bytes), for a local store;
 * false for a remote one (get_file a copy instead).
 */
extern bool objstore_local_file(ObjStore *s, const char *key, char *out,
								size_t outlen);

/* Requests sent and bytes uploaded so far (bench/delta prints them). */
typedef struct ObjStoreStats
{
	int64_t		requests;		/* HTTP requests, retries included; for a
								 * local store, operations */
	int64_t		retries;
	int64_t		bytes_uploaded;
} ObjStoreStats;

extern void objstore_stats(const ObjStore *s, ObjStoreStats *out);

#endif							/* CDC_OBJSTORE_H */
