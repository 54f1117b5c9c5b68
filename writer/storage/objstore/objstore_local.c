/*-------------------------------------------------------------------------
 *
 * objstore_local.c
 *	  The object store on a local directory (file:///path or a plain path).
 *
 * A key is the file root/key.  Every write goes to a hidden temporary file
 * (".tmp-..." in the key's directory: Delta readers skip names starting
 * with '.', and so does objstore_list) that is fsynced and then given its
 * name: rename() to create or replace, link() to create only if absent
 * (link() fails with EEXIST when the name exists, whoever made it: the
 * mutual exclusion Delta's log needs).  The directory is fsynced after, so
 * the name survives a crash.  A crash leaves at most a temporary file,
 * never a partial object.
 *
 * Directories on the way to a key are created as needed and resolved with
 * realpath(): one that resolves outside the root (a symlink planted under
 * it) is refused.
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "objstore_backend.h"

#define LOCAL_TEMP_PREFIX ".tmp-"
#define LOCAL_COPY_CHUNK (256 * 1024)
#define LOCAL_TEMP_STALE_SECS 3600	/* no live writer keeps one this long */

typedef struct LocalStore
{
	ObjStore	base;
	char		root[PATH_MAX];	/* canonical */
} LocalStore;

static const ObjStoreOps local_ops;

/* mkdir -p */
static bool
local_mkdirs(const char *path, char *errstr, size_t errlen)
{
	char		buf[PATH_MAX];

	if (strlen(path) >= sizeof(buf))
	{
		snprintf(errstr, errlen, "path too long: \"%.200s...\"", path);
		return false;
	}
	strcpy(buf, path);
	for (char *p = buf + 1;; p++)
	{
		if (*p == '/' || *p == '\0')
		{
			char		c = *p;

			*p = '\0';
			if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			{
				snprintf(errstr, errlen, "could not create directory \"%s\": %s",
						 buf, strerror(errno));
				return false;
			}
			*p = c;
			if (c == '\0')
				return true;
		}
	}
}

ObjStore *
objstore_local_open(const char *root, char *errstr, size_t errlen)
{
	LocalStore *s;
	char		canon[PATH_MAX];

	if (!local_mkdirs(root, errstr, errlen))
		return NULL;
	if (realpath(root, canon) == NULL)
	{
		snprintf(errstr, errlen, "could not resolve \"%s\": %s", root,
				 strerror(errno));
		return NULL;
	}
	/* it concerns every table: say so now, not once per table */
	if (access(canon, W_OK | X_OK) != 0)
	{
		snprintf(errstr, errlen, "table root \"%s\" is not writable: %s",
				 canon, strerror(errno));
		return NULL;
	}
	s = bytebuf_xcalloc(1, sizeof(LocalStore));
	s->base.ops = &local_ops;
	s->base.describe = bytebuf_xstrdup(canon);
	s->base.remote = false;
	strcpy(s->root, canon);
	return &s->base;
}

static bool
local_inside(const char *root, const char *path)
{
	size_t		n = strlen(root);

	return strncmp(root, path, n) == 0 && (path[n] == '/' || path[n] == '\0' ||
										   strcmp(root, "/") == 0);
}

/*
 * The file name of key in path, and of its directory in dir (created when
 * create is set).  Each directory on the way is resolved with realpath()
 * before the next is made in it, so a symlink planted under the root can
 * neither redirect a write nor have a directory made outside the root.
 */
static bool
local_path(LocalStore *s, const char *op, const char *key, bool create,
		   char *path, char *dir, char *errstr, size_t errlen)
{
	char		canon[PATH_MAX];
	char	   *slash;

	if ((size_t) snprintf(path, PATH_MAX, "%s/%s", s->root, key) >= PATH_MAX)
	{
		snprintf(errstr, errlen, "%s %s in %s: path too long", op, key, s->root);
		return false;
	}
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	for (char *p = dir + strlen(s->root);; p++)
	{
		char		c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (create && mkdir(dir, 0755) != 0 && errno != EEXIST)
		{
			snprintf(errstr, errlen, "%s %s in %s: could not create directory \"%s\": %s",
					 op, key, s->root, dir, strerror(errno));
			return false;
		}
		if (realpath(dir, canon) == NULL)
		{
			if (errno == ENOENT && !create)
				return true;	/* the caller's open() says ENOENT */
			snprintf(errstr, errlen, "%s %s in %s: could not resolve \"%s\": %s",
					 op, key, s->root, dir, strerror(errno));
			return false;
		}
		if (!local_inside(s->root, canon))
		{
			snprintf(errstr, errlen, "%s %s in %s: \"%s\" resolves outside the root",
					 op, key, s->root, dir);
			return false;
		}
		*p = c;
		if (c == '\0')
			return true;
	}
}

static bool
local_fsync_dir(const char *dir)
{
	int			fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool		ok;

	if (fd < 0)
		return false;
	ok = fsync(fd) == 0;
	close(fd);
	return ok;
}

static bool
local_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0)
	{
		ssize_t		n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

/* A fresh temporary name in dir, for key's last component. */
static bool
local_temp_name(const char *dir, const char *key, char *tmp,
				char *errstr, size_t errlen)
{
	const char *base = strrchr(key, '/');
	char		rnd[17];

	base = base ? base + 1 : key;
	objstore_random_hex(rnd);
	if (snprintf(tmp, PATH_MAX, "%s/" LOCAL_TEMP_PREFIX "%.100s-%s", dir,
				 base, rnd) >= PATH_MAX)
	{
		snprintf(errstr, errlen, "%s in %s: path too long", key, dir);
		return false;
	}
	return true;
}

/*
 * Gives the fsynced temporary file tmp the name path: replacing (rename)
 * or only if absent (link).  Removes tmp either way.
 */
static ObjStoreResult
local_publish(LocalStore *s, const char *op, const char *key, const char *tmp,
			  const char *path, const char *dir, bool if_absent,
			  char *errstr, size_t errlen)
{
	if (if_absent)
	{
		if (link(tmp, path) != 0)
		{
			int			e = errno;

			unlink(tmp);
			if (e == EEXIST)
				return OBJSTORE_EXISTS;
			snprintf(errstr, errlen, "%s %s in %s: could not link \"%s\": %s",
					 op, key, s->root, tmp, strerror(e));
			return OBJSTORE_ERROR;
		}
		unlink(tmp);
	}
	else if (rename(tmp, path) != 0)
	{
		int			e = errno;

		unlink(tmp);
		snprintf(errstr, errlen, "%s %s in %s: could not rename \"%s\": %s",
				 op, key, s->root, tmp, strerror(e));
		return OBJSTORE_ERROR;
	}
	if (!local_fsync_dir(dir))
	{
		snprintf(errstr, errlen, "%s %s in %s: could not fsync \"%s\": %s",
				 op, key, s->root, dir, strerror(errno));
		return OBJSTORE_ERROR;
	}
	return OBJSTORE_OK;
}

static ObjStoreResult
local_put(ObjStore *base, const char *key, const void *data, size_t len,
		  bool if_absent, char *errstr, size_t errlen)
{
	LocalStore *s = (LocalStore *) base;
	const char *op = if_absent ? "put-if-absent" : "put";
	char		path[PATH_MAX];
	char		dir[PATH_MAX];
	char		tmp[PATH_MAX];
	int			fd;

	base->stats.requests++;
	if (!local_path(s, op, key, true, path, dir, errstr, errlen))
		return OBJSTORE_ERROR;
	if (!local_temp_name(dir, key, tmp, errstr, errlen))
		return OBJSTORE_ERROR;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
	{
		snprintf(errstr, errlen, "%s %s in %s: could not create \"%s\": %s",
				 op, key, s->root, tmp, strerror(errno));
		return OBJSTORE_ERROR;
	}
	if (!local_write_all(fd, data, len) || fsync(fd) != 0)
	{
		snprintf(errstr, errlen, "%s %s in %s: could not write \"%s\": %s",
				 op, key, s->root, tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return OBJSTORE_ERROR;
	}
	if (close(fd) != 0)
	{
		snprintf(errstr, errlen, "%s %s in %s: could not write \"%s\": %s",
				 op, key, s->root, tmp, strerror(errno));
		unlink(tmp);
		return OBJSTORE_ERROR;
	}
	base->stats.bytes_uploaded += len;
	return local_publish(s, op, key, tmp, path, dir, if_absent, errstr, errlen);
}

/* Copies src to the new file tmp and fsyncs it. */
static bool
local_copy(int in, const char *tmp, int64_t *bytes)
{
	char	   *buf = bytebuf_xmalloc(LOCAL_COPY_CHUNK);
	int			out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	bool		ok = out >= 0;

	while (ok)
	{
		ssize_t		n = read(in, buf, LOCAL_COPY_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			ok = n == 0;
			break;
		}
		ok = local_write_all(out, buf, n);
		*bytes += n;
	}
	if (ok)
		ok = fsync(out) == 0;
	if (out >= 0 && close(out) != 0)
		ok = false;
	free(buf);
	return ok;
}

/*
 * A file on the same file system is renamed into place, not copied (the
 * writer stages its Parquet files beside the table, so this is the usual
 * case); either way the object's content is fsynced before it gets its
 * name.
 */
static ObjStoreResult
local_put_file(ObjStore *base, const char *key, const char *src,
			   char *errstr, size_t errlen)
{
	LocalStore *s = (LocalStore *) base;
	char		path[PATH_MAX];
	char		dir[PATH_MAX];
	char		tmp[PATH_MAX];
	struct stat st;
	ObjStoreResult r;
	int			in;

	base->stats.requests++;
	if (!local_path(s, "put", key, true, path, dir, errstr, errlen))
		return OBJSTORE_ERROR;
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) != 0 || fsync(in) != 0)
	{
		snprintf(errstr, errlen, "put %s in %s: could not open and fsync \"%s\": %s",
				 key, s->root, src, strerror(errno));
		if (in >= 0)
			close(in);
		return OBJSTORE_ERROR;
	}
	if (rename(src, path) == 0)
	{
		close(in);
		base->stats.bytes_uploaded += st.st_size;
		if (!local_fsync_dir(dir))
		{
			snprintf(errstr, errlen, "put %s in %s: could not fsync \"%s\": %s",
					 key, s->root, dir, strerror(errno));
			return OBJSTORE_ERROR;
		}
		return OBJSTORE_OK;
	}
	if (errno != EXDEV)
	{
		snprintf(errstr, errlen, "put %s in %s: could not rename \"%s\": %s",
				 key, s->root, src, strerror(errno));
		close(in);
		return OBJSTORE_ERROR;
	}
	if (!local_temp_name(dir, key, tmp, errstr, errlen))
	{
		close(in);
		return OBJSTORE_ERROR;
	}
	if (!local_copy(in, tmp, &base->stats.bytes_uploaded))
	{
		snprintf(errstr, errlen, "put %s in %s: could not copy \"%s\" to \"%s\": %s",
				 key, s->root, src, tmp, strerror(errno));
		close(in);
		unlink(tmp);
		return OBJSTORE_ERROR;
	}
	close(in);
	r = local_publish(s, "put", key, tmp, path, dir, false, errstr, errlen);
	if (r == OBJSTORE_OK)
		unlink(src);
	return r;
}

static ObjStoreResult
local_get(ObjStore *base, const char *key, ByteBuf *buf, int outfd,
		  char *errstr, size_t errlen)
{
	LocalStore *s = (LocalStore *) base;
	char		path[PATH_MAX];
	char		dir[PATH_MAX];
	char	   *chunk;
	int			fd;
	bool		ok = true;

	base->stats.requests++;
	if (!local_path(s, "get", key, false, path, dir, errstr, errlen))
		return OBJSTORE_ERROR;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
	{
		if (errno == ENOENT)
			return OBJSTORE_NOT_FOUND;
		snprintf(errstr, errlen, "get %s in %s: could not open \"%s\": %s",
				 key, s->root, path, strerror(errno));
		return OBJSTORE_ERROR;
	}
	chunk = bytebuf_xmalloc(LOCAL_COPY_CHUNK);
	for (;;)
	{
		ssize_t		n = read(fd, chunk, LOCAL_COPY_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			snprintf(errstr, errlen, "get %s in %s: could not read \"%s\": %s",
					 key, s->root, path, strerror(errno));
			ok = false;
			break;
		}
		if (n == 0)
			break;
		if (buf)
			bytebuf_append(buf, chunk, n);
		else if (!local_write_all(outfd, chunk, n))
		{
			snprintf(errstr, errlen, "get %s in %s: could not write the local copy: %s",
					 key, s->root, strerror(errno));
			ok = false;
			break;
		}
	}
	free(chunk);
	close(fd);
	return ok ? OBJSTORE_OK : OBJSTORE_ERROR;
}

typedef struct LocalListing
{
	LocalStore *s;
	const char *start_after;
	ObjStoreListFn fn;
	void	   *arg;
	bool		stopped;
	char	   *errstr;
	size_t		errlen;
} LocalListing;

static int
local_cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * Lists the directory of the key prefix "rel" (ending in '/', or "" for the
 * root), taking the names that start with match, in key byte order: a
 * subdirectory "d" sorts as "d/", as its keys do.
 */
static bool
local_list_dir(LocalListing *l, const char *rel, const char *match)
{
	char		dirpath[PATH_MAX];
	DIR		   *d;
	struct dirent *de;
	char	  **names = NULL;
	int			n = 0,
				cap = 0;
	bool		ok = true;
	size_t		mlen = strlen(match);

	if ((size_t) snprintf(dirpath, sizeof(dirpath), "%s/%s", l->s->root, rel) >= sizeof(dirpath))
		return true;			/* no key can be that long */
	d = opendir(dirpath);
	if (d == NULL)
	{
		if (errno == ENOENT || errno == ENOTDIR)
			return true;
		snprintf(l->errstr, l->errlen, "list %s in %s: could not open \"%s\": %s",
				 rel, l->s->root, dirpath, strerror(errno));
		return false;
	}
	while ((de = readdir(d)) != NULL)
	{
		struct stat st;
		size_t		len = strlen(de->d_name);

		/*
		 * A temporary file whose writer died before naming it: an hour
		 * old, no live writer will rename or link it any more.
		 */
		if (strncmp(de->d_name, LOCAL_TEMP_PREFIX, strlen(LOCAL_TEMP_PREFIX)) == 0)
		{
			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				S_ISREG(st.st_mode) && time(NULL) - st.st_mtime > LOCAL_TEMP_STALE_SECS)
				unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (de->d_name[0] == '.' || strncmp(de->d_name, match, mlen) != 0 ||
			!objstore_key_ok(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
			!(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
			continue;
		if (n == cap)
		{
			cap = cap ? cap * 2 : 64;
			names = bytebuf_xrealloc(names, cap * sizeof(char *));
		}
		names[n] = bytebuf_xmalloc(len + 2);
		memcpy(names[n], de->d_name, len + 1);
		if (S_ISDIR(st.st_mode))
			strcat(names[n], "/");
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(char *), local_cmp_names);
	for (int i = 0; i < n && ok && !l->stopped; i++)
	{
		char		key[PATH_MAX];
		size_t		len = strlen(names[i]);

		if ((size_t) snprintf(key, sizeof(key), "%s%s", rel, names[i]) >= sizeof(key))
			continue;
		if (names[i][len - 1] == '/')
		{
			/* every key below sorts before start_after: skip the subtree */
			if (strcmp(key, l->start_after) < 0 &&
				strncmp(l->start_after, key, strlen(key)) != 0)
				continue;
			ok = local_list_dir(l, key, "");
		}
		else if (strcmp(key, l->start_after) > 0 && objstore_key_listed(key))
		{
			char		path[PATH_MAX];
			struct stat st;

			if ((size_t) snprintf(path, sizeof(path), "%s/%s", l->s->root, key) >= sizeof(path) ||
				stat(path, &st) != 0)
				continue;		/* deleted meanwhile */
			if (!l->fn(key, st.st_size,
					   (int64_t) st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000,
					   l->arg))
				l->stopped = true;
		}
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ok;
}

static ObjStoreResult
local_list(ObjStore *base, const char *prefix, const char *start_after,
		   ObjStoreListFn fn, void *arg, char *errstr, size_t errlen)
{
	LocalListing l = {(LocalStore *) base, start_after, fn, arg, false,
	errstr, errlen};
	char		rel[PATH_MAX];
	const char *slash = strrchr(prefix, '/');
	size_t		dlen = slash ? (size_t) (slash - prefix) + 1 : 0;

	base->stats.requests++;
	if (dlen + 2 > sizeof(rel))
	{
		snprintf(errstr, errlen, "list: prefix too long (%zu bytes)", dlen);
		return OBJSTORE_ERROR;
	}
	memcpy(rel, prefix, dlen);
	rel[dlen] = '\0';
	if (dlen > 0)
	{
		char		path[PATH_MAX];
		char		dir[PATH_MAX];
		char		probe[PATH_MAX];

		/* the prefix's directory must resolve inside the root */
		memcpy(probe, rel, dlen);
		strcpy(probe + dlen, "x");
		if (!local_path(l.s, "list", probe, false, path, dir, errstr, errlen))
			return OBJSTORE_ERROR;
	}
	return local_list_dir(&l, rel, prefix + dlen) ? OBJSTORE_OK : OBJSTORE_ERROR;
}

static ObjStoreResult
local_delete(ObjStore *base, const char *key, char *errstr, size_t errlen)
{
	LocalStore *s = (LocalStore *) base;
	char		path[PATH_MAX];
	char		dir[PATH_MAX];

	base->stats.requests++;
	if (!local_path(s, "delete", key, false, path, dir, errstr, errlen))
		return OBJSTORE_ERROR;
	if (unlink(path) != 0 && errno != ENOENT)
	{
		snprintf(errstr, errlen, "delete %s in %s: %s", key, s->root,
				 strerror(errno));
		return OBJSTORE_ERROR;
	}
	return OBJSTORE_OK;
}

static bool
local_stage_path(ObjStore *base, const char *key, char *out, size_t outlen,
				 char *errstr, size_t errlen)
{
	LocalStore *s = (LocalStore *) base;
	char		path[PATH_MAX];
	char		dir[PATH_MAX];
	char		tmp[PATH_MAX];

	if (!local_path(s, "stage", key, true, path, dir, errstr, errlen))
		return false;
	if (!local_temp_name(dir, key, tmp, errstr, errlen))
		return false;
	if (strlen(tmp) >= outlen)
	{
		snprintf(errstr, errlen, "stage %s in %s: path too long", key, s->root);
		return false;
	}
	strcpy(out, tmp);
	return true;
}

static bool
local_file(ObjStore *base, const char *key, char *out, size_t outlen)
{
	LocalStore *s = (LocalStore *) base;

	return (size_t) snprintf(out, outlen, "%s/%s", s->root, key) < outlen;
}

static void
local_close(ObjStore *base)
{
	free(base);
}

static const ObjStoreOps local_ops = {
	local_put,
	local_put_file,
	local_get,
	local_list,
	local_delete,
	local_stage_path,
	local_file,
	local_close
};
