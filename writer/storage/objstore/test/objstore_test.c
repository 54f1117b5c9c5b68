/*-------------------------------------------------------------------------
 *
 * objstore_test.c
 *	  Unit tests of the object store, run the same against every backend
 *	  (t/220_objstore.pl runs them on a local directory and on a real
 *	  S3-compatible server), and a small command-line client the TAP tests
 *	  use to stage races and failures.
 *
 *	objstore_test suite URL             the checks, as TAP
 *	objstore_test race URL PREFIX N TAG after a line on stdin, put-if-absent
 *	                                    PREFIX/0..N-1 with content TAG;
 *	                                    prints the keys won
 *	objstore_test put URL KEY FILE      objstore_put_file
 *	objstore_test put-if-absent URL KEY TEXT
 *	objstore_test get URL KEY FILE      objstore_get_file
 *	objstore_test list URL PREFIX [START]
 *	objstore_test delete URL KEY
 *	objstore_test mirror URL PREFIX DIR copies every key under PREFIX to
 *	                                    DIR/<key> (tests read S3 tables
 *	                                    with DuckDB from the copy)
 *	objstore_test twice URL KEY         get, wait for a line on stdin, get
 *	                                    again (credentials renewed between)
 *
 * S3 settings come from the environment as the AWS tools read them, plus
 * OBJSTORE_TEST_MULTIPART (bytes) for the multipart threshold and part
 * size.  A failing command prints the error and exits 1; "not found"
 * exits 3 and "exists" exits 4.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "objstore.h"

static int	ntests = 0;
static int	nfailed = 0;

static void
check(bool ok, const char *name, const char *detail)
{
	ntests++;
	if (!ok)
		nfailed++;
	printf("%sok %d - %s\n", ok ? "" : "not ", ntests, name);
	if (!ok && detail && detail[0])
		printf("# %s\n", detail);
	fflush(stdout);
}

static ObjStore *
open_store(const char *url, bool small_pages)
{
	ObjStoreOptions o = {.path_style = -1};
	const char *mp = getenv("OBJSTORE_TEST_MULTIPART");
	char		err[1024];
	ObjStore   *s;

	if (mp)
		o.multipart_threshold = o.part_size = atoll(mp);
	o.max_attempts = getenv("OBJSTORE_TEST_ATTEMPTS") ?
		atoi(getenv("OBJSTORE_TEST_ATTEMPTS")) : 0;
	if (small_pages)
		o.list_page_size = 2;
	s = objstore_open(url, &o, err, sizeof(err));
	if (s == NULL)
	{
		fprintf(stderr, "objstore_test: %s\n", err);
		exit(1);
	}
	return s;
}

typedef struct Listing
{
	char		keys[4096];		/* "k1 k2 ..." */
	int64_t		sizes;
	int			n;
	int			stop_after;		/* 0 = never */
} Listing;

static bool
collect(const char *key, int64_t size, int64_t mtime_ms, void *arg)
{
	Listing    *l = arg;
	size_t		len = strlen(l->keys);

	snprintf(l->keys + len, sizeof(l->keys) - len, "%s%s", len ? " " : "", key);
	l->sizes += size;
	l->n++;
	return l->stop_after == 0 || l->n < l->stop_after;
}

static void
write_random_file(const char *path, size_t size)
{
	FILE	   *fp = fopen(path, "w");
	uint32_t	x = 2463534242u;

	for (size_t i = 0; i < size; i++)
	{
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		fputc(x & 0xff, fp);
	}
	fclose(fp);
}

static bool
same_files(const char *a, const char *b)
{
	FILE	   *fa = fopen(a, "r");
	FILE	   *fb = fopen(b, "r");
	bool		same = fa && fb;

	while (same)
	{
		int			ca = fgetc(fa);
		int			cb = fgetc(fb);

		if (ca != cb)
			same = false;
		if (ca == EOF || cb == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

static int
suite(const char *url)
{
	ObjStore   *s = open_store(url, false);
	ObjStore   *paged = open_store(url, true);
	char		err[2048];
	char		tmpdir[] = "/tmp/objstore_test.XXXXXX";
	char		src[300];
	char		dst[300];
	ByteBuf		b = {0};
	Listing		l;
	ObjStoreResult r;
	static const char bin[] = "a\0b\nc";
	const char *mp = getenv("OBJSTORE_TEST_MULTIPART");
	size_t		big = mp ? (size_t) atoll(mp) * 2 + 12345 : 3 * 1024 * 1024;
	ObjStoreStats st;

	if (mkdtemp(tmpdir) == NULL)
	{
		perror("mkdtemp");
		return 1;
	}
	snprintf(src, sizeof(src), "%s/src", tmpdir);
	snprintf(dst, sizeof(dst), "%s/dst", tmpdir);

	r = objstore_put(s, "t/bin", bin, sizeof(bin), err, sizeof(err));
	check(r == OBJSTORE_OK, "put", err);
	r = objstore_get(s, "t/bin", &b, err, sizeof(err));
	check(r == OBJSTORE_OK && b.len == sizeof(bin) &&
		  memcmp(b.data, bin, sizeof(bin)) == 0,
		  "get returns the bytes put, NUL and newline included", err);

	b.len = 0;
	r = objstore_get(s, "t/missing", &b, err, sizeof(err));
	check(r == OBJSTORE_NOT_FOUND, "get of a missing key is not found", err);

	r = objstore_put_if_absent(s, "t/_delta_log/00.json", "first", 5, err, sizeof(err));
	check(r == OBJSTORE_OK, "put-if-absent creates a new key", err);
	r = objstore_put_if_absent(s, "t/_delta_log/00.json", "second", 6, err, sizeof(err));
	check(r == OBJSTORE_EXISTS, "put-if-absent on an existing key says it exists", err);
	b.len = 0;
	r = objstore_get(s, "t/_delta_log/00.json", &b, err, sizeof(err));
	check(r == OBJSTORE_OK && b.len == 5 && memcmp(b.data, "first", 5) == 0,
		  "the losing put-if-absent left the first content", err);

	r = objstore_put(s, "t/_last_checkpoint", "v1", 2, err, sizeof(err));
	r = r == OBJSTORE_OK ? objstore_put(s, "t/_last_checkpoint", "v22", 3, err, sizeof(err)) : r;
	b.len = 0;
	if (r == OBJSTORE_OK)
		r = objstore_get(s, "t/_last_checkpoint", &b, err, sizeof(err));
	check(r == OBJSTORE_OK && b.len == 3 && memcmp(b.data, "v22", 3) == 0,
		  "put replaces an existing key", err);

	write_random_file(src, 1000);
	write_random_file(dst, 1000);
	r = objstore_put_file(s, "t/part=1/small.parquet", src, err, sizeof(err));
	check(r == OBJSTORE_OK && access(src, F_OK) != 0,
		  "put_file takes the file over (it is gone after)", err);
	/* a new file at the old name must not change the object */
	write_random_file(src, 10);
	if (r == OBJSTORE_OK)
		r = objstore_get_file(s, "t/part=1/small.parquet", src, err, sizeof(err));
	check(r == OBJSTORE_OK && same_files(src, dst),
		  "put_file and get_file of a small file ('=' in the key)", err);

	write_random_file(src, big);
	write_random_file(dst, big);
	r = objstore_put_file(s, "t/big.parquet", src, err, sizeof(err));
	if (r == OBJSTORE_OK)
		r = objstore_get_file(s, "t/big.parquet", src, err, sizeof(err));
	check(r == OBJSTORE_OK && same_files(src, dst),
		  mp ? "put_file of a file of three parts (multipart) reads back the same"
		  : "put_file of a 3 MiB file reads back the same", err);
	r = objstore_get_file(s, "t/nothing-here", dst, err, sizeof(err));
	check(r == OBJSTORE_NOT_FOUND && access(dst, F_OK) != 0,
		  "get_file of a missing key is not found and leaves no file", err);

	/* byte order: '.' (0x2e) sorts before '/' (0x2f) */
	{
		const char *keys[] = {"l/a/1", "l/a/10", "l/a/2", "l/b/1", "l/a.x",
		"l/a/sub/k"};
		bool		ok = true;

		for (int i = 0; i < 6 && ok; i++)
			ok = objstore_put(s, keys[i], "x", 1, err, sizeof(err)) == OBJSTORE_OK;
		check(ok, "put of six keys to list", err);
	}
	memset(&l, 0, sizeof(l));
	r = objstore_list(s, "l/", NULL, collect, &l, err, sizeof(err));
	check(r == OBJSTORE_OK &&
		  strcmp(l.keys, "l/a.x l/a/1 l/a/10 l/a/2 l/a/sub/k l/b/1") == 0 &&
		  l.sizes == 6,
		  "list of a prefix gives every key below it, in byte order, with sizes",
		  r == OBJSTORE_OK ? l.keys : err);
	memset(&l, 0, sizeof(l));
	r = objstore_list(s, "l/a/", "l/a/10", collect, &l, err, sizeof(err));
	check(r == OBJSTORE_OK && strcmp(l.keys, "l/a/2 l/a/sub/k") == 0,
		  "list from a start key gives the keys after it only",
		  r == OBJSTORE_OK ? l.keys : err);
	memset(&l, 0, sizeof(l));
	r = objstore_list(s, "l/a/1", NULL, collect, &l, err, sizeof(err));
	check(r == OBJSTORE_OK && strcmp(l.keys, "l/a/1 l/a/10") == 0,
		  "a list prefix matches bytes, not whole names",
		  r == OBJSTORE_OK ? l.keys : err);
	memset(&l, 0, sizeof(l));
	l.stop_after = 2;
	r = objstore_list(s, "l/", NULL, collect, &l, err, sizeof(err));
	check(r == OBJSTORE_OK && strcmp(l.keys, "l/a.x l/a/1") == 0,
		  "list stops when the callback says so", r == OBJSTORE_OK ? l.keys : err);
	memset(&l, 0, sizeof(l));
	r = objstore_list(paged, "l/", "l/a/1", collect, &l, err, sizeof(err));
	check(r == OBJSTORE_OK &&
		  strcmp(l.keys, "l/a/10 l/a/2 l/a/sub/k l/b/1") == 0,
		  "list across pages of two keys loses and repeats nothing",
		  r == OBJSTORE_OK ? l.keys : err);
	memset(&l, 0, sizeof(l));
	r = objstore_list(s, "nothing/", NULL, collect, &l, err, sizeof(err));
	check(r == OBJSTORE_OK && l.n == 0, "list of an empty prefix is empty", err);

	r = objstore_delete(s, "l/a/2", err, sizeof(err));
	b.len = 0;
	check(r == OBJSTORE_OK &&
		  objstore_get(s, "l/a/2", &b, err, sizeof(err)) == OBJSTORE_NOT_FOUND,
		  "delete removes the key", err);
	r = objstore_delete(s, "l/a/2", err, sizeof(err));
	check(r == OBJSTORE_OK, "delete of a missing key succeeds", err);
	memset(&l, 0, sizeof(l));
	r = objstore_list(s, "t/_delta_log/", NULL, collect, &l, err, sizeof(err));
	check(r == OBJSTORE_OK && strcmp(l.keys, "t/_delta_log/00.json") == 0,
		  "no temporary object is listed after the writes",
		  r == OBJSTORE_OK ? l.keys : err);

	{
		const char *bad[] = {"", "/abs", "../up", "a/../../up", "a//b", "a/./b",
		"a/", "sp ace", "a\\b", "q?x"};
		bool		all = true;
		char		failed[2400] = "";

		for (int i = 0; i < 10; i++)
		{
			r = objstore_put(s, bad[i], "x", 1, err, sizeof(err));
			if (r != OBJSTORE_ERROR || strstr(err, objstore_describe(s)) == NULL)
			{
				all = false;
				snprintf(failed, sizeof(failed), "key \"%s\" accepted or message without the store: %s",
						 bad[i], err);
			}
		}
		check(all, "keys that could leave the root are refused, naming the store", failed);
	}

	objstore_stats(s, &st);
	check(st.requests > 20 && st.bytes_uploaded >= (int64_t) big,
		  "requests and bytes uploaded are counted", NULL);

	unlink(src);
	unlink(dst);
	rmdir(tmpdir);
	bytebuf_free(&b);
	objstore_close(s);
	objstore_close(paged);
	printf("1..%d\n", ntests);
	return nfailed ? 1 : 0;
}

static int
result_exit(ObjStoreResult r, const char *err)
{
	switch (r)
	{
		case OBJSTORE_OK:
			return 0;
		case OBJSTORE_NOT_FOUND:
			fprintf(stderr, "objstore_test: not found\n");
			return 3;
		case OBJSTORE_EXISTS:
			fprintf(stderr, "objstore_test: exists\n");
			return 4;
		default:
			fprintf(stderr, "objstore_test: %s\n", err);
			return 1;
	}
}

typedef struct Mirror
{
	ObjStore   *s;
	const char *dir;
	bool		failed;
	int			n;
} Mirror;

static bool
mirror_one(const char *key, int64_t size, int64_t mtime_ms, void *arg)
{
	Mirror	   *m = arg;
	char		path[4096];
	char		err[2048];
	ObjStoreResult r;

	snprintf(path, sizeof(path), "%s/%s", m->dir, key);
	for (char *p = path + strlen(m->dir) + 1; *p; p++)
	{
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	r = objstore_get_file(m->s, key, path, err, sizeof(err));
	if (r == OBJSTORE_NOT_FOUND)
		return true;			/* deleted or being replaced since the listing */
	if (r != OBJSTORE_OK)
	{
		fprintf(stderr, "objstore_test: %s\n", err);
		m->failed = true;
		return false;
	}
	m->n++;
	return true;
}

static int
mirror(const char *url, const char *prefix, const char *dir)
{
	Mirror		m = {open_store(url, false), dir, false, 0};
	char		err[2048];
	ObjStoreResult r;

	mkdir(dir, 0755);
	r = objstore_list(m.s, prefix, NULL, mirror_one, &m, err, sizeof(err));
	objstore_close(m.s);
	if (r != OBJSTORE_OK)
		fprintf(stderr, "objstore_test: %s\n", err);
	return r != OBJSTORE_OK || m.failed ? 1 : 0;
}

static int
race(const char *url, const char *prefix, int n, const char *tag)
{
	ObjStore   *s = open_store(url, false);
	char		err[2048];
	char		line[16];

	/* both racers start on one signal: a line on stdin */
	if (fgets(line, sizeof(line), stdin) == NULL)
		return 2;
	for (int i = 0; i < n; i++)
	{
		char		key[512];
		ObjStoreResult r;

		snprintf(key, sizeof(key), "%s/%05d.json", prefix, i);
		r = objstore_put_if_absent(s, key, tag, strlen(tag), err, sizeof(err));
		if (r == OBJSTORE_OK)
			printf("%s\n", key);
		else if (r != OBJSTORE_EXISTS)
		{
			fprintf(stderr, "objstore_test: %s\n", err);
			return 1;
		}
	}
	objstore_close(s);
	return 0;
}

int
main(int argc, char **argv)
{
	char		err[2048];
	ObjStore   *s;
	int			rc;

	if (argc == 3 && strcmp(argv[1], "suite") == 0)
		return suite(argv[2]);
	if (argc == 5 && strcmp(argv[1], "mirror") == 0)
		return mirror(argv[2], argv[3], argv[4]);
	if (argc == 6 && strcmp(argv[1], "race") == 0)
		return race(argv[2], argv[3], atoi(argv[4]), argv[5]);
	if (argc < 4)
	{
		fprintf(stderr, "usage: see the head of objstore_test.c\n");
		return 2;
	}
	s = open_store(argv[2], false);
	if (strcmp(argv[1], "put") == 0 && argc == 5)
		rc = result_exit(objstore_put_file(s, argv[3], argv[4], err, sizeof(err)), err);
	else if (strcmp(argv[1], "put-if-absent") == 0 && argc == 5)
		rc = result_exit(objstore_put_if_absent(s, argv[3], argv[4], strlen(argv[4]),
												err, sizeof(err)), err);
	else if (strcmp(argv[1], "get") == 0 && argc == 5)
		rc = result_exit(objstore_get_file(s, argv[3], argv[4], err, sizeof(err)), err);
	else if (strcmp(argv[1], "delete") == 0 && argc == 4)
		rc = result_exit(objstore_delete(s, argv[3], err, sizeof(err)), err);
	else if (strcmp(argv[1], "list") == 0 && (argc == 4 || argc == 5))
	{
		Listing		l = {0};
		ObjStoreResult r = objstore_list(s, argv[3], argc == 5 ? argv[4] : NULL,
										 collect, &l, err, sizeof(err));

		if (r == OBJSTORE_OK && l.n > 0)
			printf("%s\n", l.keys);
		rc = result_exit(r, err);
	}
	else if (strcmp(argv[1], "twice") == 0 && argc == 4)
	{
		ByteBuf		b = {0};
		char		line[16];

		rc = result_exit(objstore_get(s, argv[3], &b, err, sizeof(err)), err);
		printf("first %d\n", rc);
		fflush(stdout);
		if (fgets(line, sizeof(line), stdin) == NULL)
			return 2;
		rc = result_exit(objstore_get(s, argv[3], &b, err, sizeof(err)), err);
		printf("second %d\n", rc);
		bytebuf_free(&b);
	}
	else
	{
		fprintf(stderr, "usage: see the head of objstore_test.c\n");
		rc = 2;
	}
	objstore_close(s);
	return rc;
}
