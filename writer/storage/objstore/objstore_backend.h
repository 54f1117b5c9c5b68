/*-------------------------------------------------------------------------
 *
 * objstore_backend.h
 *	  What a backend of the object store implements (objstore.c checks the
 *	  keys and dispatches; each backend does the I/O).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_OBJSTORE_BACKEND_H
#define CDC_OBJSTORE_BACKEND_H

#include "objstore.h"

typedef struct ObjStoreOps
{
	ObjStoreResult (*put) (ObjStore *s, const char *key, const void *data,
						   size_t len, bool if_absent,
						   char *errstr, size_t errlen);
	ObjStoreResult (*put_file) (ObjStore *s, const char *key,
								const char *path,
								char *errstr, size_t errlen);
	ObjStoreResult (*get) (ObjStore *s, const char *key, ByteBuf *buf,
						   int fd, char *errstr, size_t errlen);
	ObjStoreResult (*list) (ObjStore *s, const char *prefix,
							const char *start_after, ObjStoreListFn fn,
							void *arg, char *errstr, size_t errlen);
	ObjStoreResult (*del) (ObjStore *s, const char *key,
						   char *errstr, size_t errlen);
	bool		(*stage_path) (ObjStore *s, const char *key, char *out,
							   size_t outlen, char *errstr, size_t errlen);
	bool		(*local_file) (ObjStore *s, const char *key, char *out,
							   size_t outlen);
	void		(*close) (ObjStore *s);
} ObjStoreOps;

/* The part every backend's store begins with. */
struct ObjStore
{
	const ObjStoreOps *ops;
	char	   *describe;		/* owned: for messages */
	bool		remote;
	ObjStoreStats stats;
};

/* get writes either into buf (non-NULL) or to fd. */

/* A random name part: 16 hex digits (never reused after a crash). */
extern void objstore_random_hex(char *out);

/*
 * Whether list reports key: a valid key none of whose components starts
 * with '.' (temporary files, and what Delta readers skip anyway), so both
 * backends list the same keys.
 */
extern bool objstore_key_listed(const char *key);

/* root: a local directory path. */
extern ObjStore *objstore_local_open(const char *root,
									 char *errstr, size_t errlen);

/* bucket and prefix ("" or without leading/trailing '/') from the URL. */
extern ObjStore *objstore_s3_open(const char *bucket, const char *prefix,
								  const ObjStoreOptions *opts,
								  char *errstr, size_t errlen);

#endif							/* CDC_OBJSTORE_BACKEND_H */
