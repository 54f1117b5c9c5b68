/*-------------------------------------------------------------------------
 *
 * objstore_s3.c
 *	  The object store on S3 and S3-compatible stores (s3://bucket/prefix).
 *
 * libcurl sends the requests and signs them (CURLOPT_AWS_SIGV4); this file
 * supplies what curl does not: the payload's SHA-256 in
 * x-amz-content-sha256 (curl 7.88 hashes only POSTFIELDS, and S3 checks
 * the header against the body), the session token header, canonical
 * (sorted, encoded) query strings, and the S3 operations themselves:
 * PutObject, GetObject, ListObjectsV2, DeleteObject and the multipart
 * upload calls.
 *
 * Retries: a network error, a 5xx, 429 and S3's SlowDown, RequestTimeout,
 * ConditionalRequestConflict and ExpiredToken (after renewing the
 * credentials) are tried again with exponential backoff and jitter, up to
 * max_attempts; anything else fails at once.  Every failure names the
 * operation, the key and the bucket.
 *
 * put-if-absent is "PUT If-None-Match: *": 412 means the key exists.  When
 * an earlier attempt of the same call failed without an answer (it may
 * have created the key before the connection broke), a 412 is checked by
 * reading the object back: if it holds our bytes, the put succeeded.
 *
 * A file larger than multipart_threshold is uploaded in parts; only
 * CompleteMultipartUpload makes the object visible, so a writer killed
 * mid-upload leaves an incomplete upload (invisible; S3 lifecycle rules
 * abort old ones), never a partial object.  Bodies are read from the file
 * twice, once to hash and once to send, so memory stays flat.
 *
 * Nothing secret is ever printed: messages carry S3's error code and
 * message, never a header, and CURLOPT_VERBOSE is never set.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "clock.h"
#include "objstore_backend.h"
#include "s3_credentials.h"
#include "s3_xml.h"

#define S3_MIB (1024 * 1024)
#define S3_MIN_PART (5 * S3_MIB)
#define S3_MAX_PARTS 10000
#define S3_HASH_CHUNK (256 * 1024)
#define S3_BACKOFF_BASE_MS 200
#define S3_BACKOFF_MAX_MS 10000
#define S3_MAX_ERROR_BODY (64 * 1024)
#define S3_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct S3Store
{
	ObjStore	base;
	char		bucket[64];
	char		prefix[1024];	/* "" or "a/b", no '/' at either end */
	char		region[64];
	char		scheme[8];		/* "http" or "https" */
	char		host[256];		/* host[:port] of the endpoint */
	bool		path_style;
	char	   *ca_file;		/* owned */
	bool		insecure;
	char		staging_dir[PATH_MAX];
	int64_t		multipart_threshold;
	int64_t		part_size;
	int			max_attempts;
	long		timeout_ms;
	int			list_page_size; /* 0 = S3's default */
	void		(*log_debug) (const char *line);
	S3CredProvider *cred;
	CURL	   *curl;			/* reused: keeps the connection open */
} S3Store;

typedef struct S3Request
{
	const char *op;				/* for messages: "put", "get", ... */
	const char *method;
	const char *key;			/* below the prefix; NULL = the bucket */
	const char *list_prefix;	/* for messages of a list: its full prefix */
	const char *query;			/* canonical (sorted, encoded) or NULL */
	bool		if_none_match;
	const char *content_type;
	/* the body: memory, or a range of a file (body_fd >= 0) */
	const void *body;
	size_t		body_len;
	int			body_fd;
	int64_t		body_off;
	/* a 2xx answer's body goes to out, or to out_fd if >= 0 */
	ByteBuf    *out;
	int			out_fd;
	/* filled in */
	long		status;
	char		etag[128];
	ByteBuf		err;			/* a non-2xx answer's body */
	bool		out_failed;		/* writing out_fd failed */
	bool		unanswered;		/* an attempt got no answer (put-if-absent
								 * may have succeeded) */
	/* body cursor during a transfer */
	int64_t		sent;
} S3Request;

static const ObjStoreOps s3_ops;

/* Percent-encodes s as S3 wants (RFC 3986 unreserved kept; '/' kept if
 * keep_slash). */
static void
s3_encode(ByteBuf *b, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			(*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
			*p == '.' || *p == '~' || (keep_slash && *p == '/'))
			bytebuf_putc(b, *p);
		else
		{
			bytebuf_putc(b, '%');
			bytebuf_putc(b, hex[*p >> 4]);
			bytebuf_putc(b, hex[*p & 15]);
		}
	}
}

/* prefix/key, or key when there is no prefix. */
static void
s3_full_key(const S3Store *s, const char *key, char *out, size_t outlen)
{
	if (s->prefix[0])
		snprintf(out, outlen, "%s/%s", s->prefix, key);
	else
		snprintf(out, outlen, "%s", key);
}

static bool
s3_parse_endpoint(S3Store *s, const char *endpoint, char *errstr,
				  size_t errlen)
{
	const char *rest;
	size_t		n;

	if (strncmp(endpoint, "https://", 8) == 0)
	{
		strcpy(s->scheme, "https");
		rest = endpoint + 8;
	}
	else if (strncmp(endpoint, "http://", 7) == 0)
	{
		strcpy(s->scheme, "http");
		rest = endpoint + 7;
	}
	else
	{
		snprintf(errstr, errlen,
				 "S3 endpoint \"%.300s\" must start with http:// or https://",
				 endpoint);
		return false;
	}
	n = strcspn(rest, "/?#");
	if (n == 0 || n >= sizeof(s->host) || rest[n + strspn(rest + n, "/")] != '\0')
	{
		snprintf(errstr, errlen,
				 "S3 endpoint \"%.300s\" must be scheme://host[:port] (no path)",
				 endpoint);
		return false;
	}
	memcpy(s->host, rest, n);
	s->host[n] = '\0';
	return true;
}

static const char *
s3_env(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL;
}

ObjStore *
objstore_s3_open(const char *bucket, const char *prefix,
				 const ObjStoreOptions *opts, char *errstr, size_t errlen)
{
	S3Store    *s = bytebuf_xcalloc(1, sizeof(S3Store));
	const char *endpoint = opts->endpoint;
	char		defendpoint[128];
	char		describe[1200];
	static bool curl_ready = false;

	if (!curl_ready)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		{
			snprintf(errstr, errlen, "could not initialise libcurl");
			free(s);
			return NULL;
		}
		curl_ready = true;
	}
	snprintf(s->bucket, sizeof(s->bucket), "%s", bucket);
	snprintf(s->prefix, sizeof(s->prefix), "%s", prefix);
	s->cred = s3_cred_new(opts->profile, opts->ca_file, opts->insecure);

	if (opts->region && opts->region[0])
		snprintf(s->region, sizeof(s->region), "%s", opts->region);
	else if (s3_env("AWS_REGION"))
		snprintf(s->region, sizeof(s->region), "%s", s3_env("AWS_REGION"));
	else if (s3_env("AWS_DEFAULT_REGION"))
		snprintf(s->region, sizeof(s->region), "%s", s3_env("AWS_DEFAULT_REGION"));
	else if (!s3_cred_profile_region(s->cred, s->region, sizeof(s->region)))
		snprintf(s->region, sizeof(s->region), "us-east-1");
	if (strspn(s->region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(s->region))
	{
		snprintf(errstr, errlen, "invalid S3 region \"%.100s\"", s->region);
		goto fail;
	}

	if (endpoint == NULL || endpoint[0] == '\0')
		endpoint = s3_env("AWS_ENDPOINT_URL_S3");
	if (endpoint == NULL)
		endpoint = s3_env("AWS_ENDPOINT_URL");
	if (endpoint == NULL)
	{
		snprintf(defendpoint, sizeof(defendpoint), "https://s3.%s.amazonaws.com",
				 s->region);
		endpoint = defendpoint;
		s->path_style = opts->path_style == 1;
	}
	else
		s->path_style = opts->path_style != 0;
	if (!s3_parse_endpoint(s, endpoint, errstr, errlen))
		goto fail;
	/* a bucket with dots breaks TLS names as a subdomain */
	if (!s->path_style && strchr(s->bucket, '.') && strcmp(s->scheme, "https") == 0)
		s->path_style = true;

	s->ca_file = opts->ca_file && opts->ca_file[0] ? bytebuf_xstrdup(opts->ca_file) : NULL;
	s->insecure = opts->insecure;
	if (opts->staging_dir && opts->staging_dir[0])
		snprintf(s->staging_dir, sizeof(s->staging_dir), "%s", opts->staging_dir);
	else
		snprintf(s->staging_dir, sizeof(s->staging_dir), "%s",
				 s3_env("TMPDIR") ? s3_env("TMPDIR") : "/tmp");
	s->multipart_threshold = opts->multipart_threshold > 0 ?
		opts->multipart_threshold : 64 * S3_MIB;
	s->part_size = opts->part_size > 0 ? opts->part_size : 16 * S3_MIB;
	if (s->part_size < S3_MIN_PART)
	{
		snprintf(errstr, errlen, "S3 part size %" PRId64 " is below S3's minimum of 5 MiB",
				 s->part_size);
		goto fail;
	}
	s->max_attempts = opts->max_attempts > 0 ? opts->max_attempts : 6;
	s->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 120000;
	s->log_debug = opts->log_debug;
	s->list_page_size = opts->list_page_size > 0 && opts->list_page_size <= 1000 ?
		opts->list_page_size : 0;
	s->curl = curl_easy_init();
	if (s->curl == NULL)
	{
		snprintf(errstr, errlen, "could not initialise libcurl");
		goto fail;
	}

	snprintf(describe, sizeof(describe), "s3://%s%s%s", s->bucket,
			 s->prefix[0] ? "/" : "", s->prefix);
	s->base.ops = &s3_ops;
	s->base.describe = bytebuf_xstrdup(describe);
	s->base.remote = true;
	return &s->base;

fail:
	s3_cred_free(s->cred);
	free(s->ca_file);
	free(s);
	return NULL;
}

/* The request's URL: path-style or virtual-hosted. */
static void
s3_url(const S3Store *s, const S3Request *r, ByteBuf *url)
{
	char		full[2048];

	bytebuf_puts(url, s->scheme);
	bytebuf_puts(url, "://");
	if (!s->path_style)
	{
		bytebuf_puts(url, s->bucket);
		bytebuf_putc(url, '.');
	}
	bytebuf_puts(url, s->host);
	bytebuf_putc(url, '/');
	if (s->path_style)
	{
		bytebuf_puts(url, s->bucket);
		if (r->key)
			bytebuf_putc(url, '/');
	}
	if (r->key)
	{
		s3_full_key(s, r->key, full, sizeof(full));
		s3_encode(url, full, true);
	}
	if (r->query && r->query[0])
	{
		bytebuf_putc(url, '?');
		bytebuf_puts(url, r->query);
	}
	bytebuf_putc(url, '\0');
}

/* Hex SHA-256 of the request body (read from the file when it is one). */
static bool
s3_body_sha256(const S3Request *r, char *hex, char *errstr, size_t errlen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	bool		ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;

	if (ok && r->body_fd >= 0)
	{
		char	   *chunk = bytebuf_xmalloc(S3_HASH_CHUNK);
		int64_t		done = 0;

		while (ok && done < (int64_t) r->body_len)
		{
			size_t		want = r->body_len - done < S3_HASH_CHUNK ?
				r->body_len - done : S3_HASH_CHUNK;
			ssize_t		n = pread(r->body_fd, chunk, want, r->body_off + done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
			{
				snprintf(errstr, errlen, "could not read the file to upload: %s",
						 n == 0 ? "it is shorter than it was" : strerror(errno));
				ok = false;
				break;
			}
			ok = EVP_DigestUpdate(ctx, chunk, n) == 1;
			done += n;
		}
		free(chunk);
	}
	else if (ok && r->body_len > 0)
		ok = EVP_DigestUpdate(ctx, r->body, r->body_len) == 1;
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
	{
		if (errstr[0] == '\0')
			snprintf(errstr, errlen, "could not compute SHA-256");
		return false;
	}
	for (unsigned int i = 0; i < mdlen; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	return true;
}

static size_t
s3_read_body(char *buf, size_t size, size_t nitems, void *arg)
{
	S3Request  *r = arg;
	size_t		want = size * nitems;
	int64_t		left = (int64_t) r->body_len - r->sent;

	if ((int64_t) want > left)
		want = left;
	if (want == 0)
		return 0;
	if (r->body_fd >= 0)
	{
		ssize_t		n;

		do
			n = pread(r->body_fd, buf, want, r->body_off + r->sent);
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			return CURL_READFUNC_ABORT;
		want = n;
	}
	else
		memcpy(buf, (const char *) r->body + r->sent, want);
	r->sent += want;
	return want;
}

static int
s3_seek_body(void *arg, curl_off_t offset, int origin)
{
	S3Request  *r = arg;

	if (origin != SEEK_SET || offset < 0 || offset > (curl_off_t) r->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	r->sent = offset;
	return CURL_SEEKFUNC_OK;
}

typedef struct S3WriteCtx
{
	S3Store    *s;
	S3Request  *r;
} S3WriteCtx;

static size_t
s3_write_answer(char *ptr, size_t size, size_t nmemb, void *arg)
{
	S3WriteCtx *w = arg;
	S3Request  *r = w->r;
	size_t		n = size * nmemb;
	long		status = 0;

	curl_easy_getinfo(w->s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299)
	{
		if (r->err.len + n <= S3_MAX_ERROR_BODY)
			bytebuf_append(&r->err, ptr, n);
		return n;
	}
	if (r->out_fd >= 0)
	{
		const char *p = ptr;
		size_t		left = n;

		while (left > 0)
		{
			ssize_t		k = write(r->out_fd, p, left);

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
			{
				r->out_failed = true;
				return 0;
			}
			p += k;
			left -= k;
		}
	}
	else if (r->out)
		bytebuf_append(r->out, ptr, n);
	else if (r->err.len + n <= S3_MAX_ERROR_BODY)
		bytebuf_append(&r->err, ptr, n);	/* e.g. an error in a 200 */
	return n;
}

static size_t
s3_header(char *buf, size_t size, size_t nitems, void *arg)
{
	S3Request  *r = arg;
	size_t		n = size * nitems;

	if (n > 5 && strncasecmp(buf, "etag:", 5) == 0)
	{
		const char *v = buf + 5;
		size_t		len;

		while (*v == ' ' || *v == '\t')
			v++;
		len = n - (v - buf);
		while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
			len--;
		if (len < sizeof(r->etag))
		{
			memcpy(r->etag, v, len);
			r->etag[len] = '\0';
		}
	}
	return n;
}

/* S3's error code of the answer in r->err ("" if none). */
static void
s3_error_code(S3Request *r, char *code, size_t codelen, char *msg, size_t msglen)
{
	code[0] = '\0';
	if (msg)
		msg[0] = '\0';
	if (r->err.len == 0)
		return;
	s3_xml_find((const char *) r->err.data, r->err.len, "Code", code, codelen);
	if (msg)
		s3_xml_find((const char *) r->err.data, r->err.len, "Message", msg, msglen);
}

/* "put of \"p/k\" in bucket \"b\"" */
static void
s3_what(const S3Store *s, const S3Request *r, char *out, size_t outlen)
{
	char		full[2048];

	if (r->key)
	{
		s3_full_key(s, r->key, full, sizeof(full));
		snprintf(out, outlen, "S3 %s of \"%s\" in bucket \"%s\"", r->op, full,
				 s->bucket);
	}
	else if (r->list_prefix)
		snprintf(out, outlen, "S3 %s of \"%s\" in bucket \"%s\"", r->op,
				 r->list_prefix, s->bucket);
	else
		snprintf(out, outlen, "S3 %s in bucket \"%s\"", r->op, s->bucket);
}

/* The failure message of an HTTP answer the caller does not expect. */
static void
s3_http_error(const S3Store *s, S3Request *r, char *errstr, size_t errlen)
{
	char		what[2200];
	char		code[128];
	char		msg[512];
	const char *hint = "";

	s3_what(s, r, what, sizeof(what));
	s3_error_code(r, code, sizeof(code), msg, sizeof(msg));
	if (strcmp(code, "NoSuchBucket") == 0)
		hint = " (create the bucket, or check the table root)";
	else if (strcmp(code, "InvalidAccessKeyId") == 0 ||
			 strcmp(code, "SignatureDoesNotMatch") == 0)
		hint = " (check the credentials and the region)";
	snprintf(errstr, errlen, "%s: HTTP %ld%s%s%s%s%s; credentials from %s", what,
			 r->status, code[0] ? " " : "", code, msg[0] ? ": " : "", msg, hint,
			 s3_cred_source(s->cred)[0] ? s3_cred_source(s->cred) : "nowhere");
}

static void
s3_sleep_backoff(int attempt)
{
	int64_t		ms = S3_BACKOFF_BASE_MS;
	uint32_t	rnd = 0;

	for (int i = 1; i < attempt && ms < S3_BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > S3_BACKOFF_MAX_MS)
		ms = S3_BACKOFF_MAX_MS;
	if (getrandom(&rnd, sizeof(rnd), 0) < 0)
		rnd = (uint32_t) clock_monotonic_ms();
	/* jitter: half to all of it, so racing writers spread out */
	ms = ms / 2 + rnd % (ms / 2 + 1);
	usleep((useconds_t) ms * 1000);
}

static bool
s3_retryable_curl(CURLcode rc)
{
	switch (rc)
	{
		case CURLE_URL_MALFORMAT:
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_ABORTED_BY_CALLBACK:
		case CURLE_READ_ERROR:
		case CURLE_WRITE_ERROR:
		case CURLE_OUT_OF_MEMORY:
			return false;
		default:
			return true;
	}
}

/*
 * Sends r, retrying what is worth retrying.  true: an answer came that the
 * caller interprets (r->status, r->etag, r->err); false: failed for good,
 * errstr says why.
 */
static bool
s3_perform(S3Store *s, S3Request *r, char *errstr, size_t errlen)
{
	char		sha[65] = S3_EMPTY_SHA256;
	char		sigv4[128];
	char		curlerr[CURL_ERROR_SIZE];
	char		what[2200];
	size_t		out_len0 = r->out ? r->out->len : 0;
	bool		force_cred = false;
	ByteBuf		url = {0};

	errstr[0] = '\0';
	r->unanswered = false;
	if (r->body_len > 0 && !s3_body_sha256(r, sha, errstr, errlen))
	{
		char		why[512];

		snprintf(why, sizeof(why), "%s", errstr);
		s3_what(s, r, what, sizeof(what));
		snprintf(errstr, errlen, "%s: %s", what, why);
		return false;
	}
	s3_url(s, r, &url);
	snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3", s->region);

	for (int attempt = 1;; attempt++)
	{
		const S3Credentials *cred;
		struct curl_slist *headers = NULL;
		char		hdr[4400];
		CURLcode	rc;
		S3WriteCtx	w = {s, r};
		char		code[128];
		bool		retry;

		cred = s3_cred_get(s->cred, force_cred, hdr, sizeof(hdr));
		force_cred = false;
		if (cred == NULL)
		{
			s3_what(s, r, what, sizeof(what));
			snprintf(errstr, errlen, "%s: %s", what, hdr);
			bytebuf_free(&url);
			return false;
		}

		/* a fresh answer each attempt */
		r->status = 0;
		r->etag[0] = '\0';
		r->err.len = 0;
		r->sent = 0;
		r->out_failed = false;
		if (r->out)
			r->out->len = out_len0;
		if (r->out_fd >= 0 && (ftruncate(r->out_fd, 0) != 0 ||
							   lseek(r->out_fd, 0, SEEK_SET) != 0))
		{
			s3_what(s, r, what, sizeof(what));
			snprintf(errstr, errlen, "%s: could not truncate the local copy: %s",
					 what, strerror(errno));
			bytebuf_free(&url);
			return false;
		}

		curl_easy_reset(s->curl);
		curl_easy_setopt(s->curl, CURLOPT_URL, (const char *) url.data);
		curl_easy_setopt(s->curl, CURLOPT_AWS_SIGV4, sigv4);
		curl_easy_setopt(s->curl, CURLOPT_USERNAME, cred->access_key);
		curl_easy_setopt(s->curl, CURLOPT_PASSWORD, cred->secret_key);
		curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, curlerr);
		curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, s->timeout_ms);
		curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
		curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, s3_write_answer);
		curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &w);
		curl_easy_setopt(s->curl, CURLOPT_HEADERFUNCTION, s3_header);
		curl_easy_setopt(s->curl, CURLOPT_HEADERDATA, r);
		if (s->ca_file)
			curl_easy_setopt(s->curl, CURLOPT_CAINFO, s->ca_file);
		if (s->insecure)
		{
			curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYHOST, 0L);
		}

		snprintf(hdr, sizeof(hdr), "x-amz-content-sha256: %s", sha);
		headers = curl_slist_append(headers, hdr);
		if (cred->session_token)
		{
			ByteBuf		t = {0};

			bytebuf_puts(&t, "x-amz-security-token: ");
			bytebuf_puts(&t, cred->session_token);
			bytebuf_putc(&t, '\0');
			headers = curl_slist_append(headers, (const char *) t.data);
			explicit_bzero(t.data, t.len);
			bytebuf_free(&t);
		}
		if (r->if_none_match)
			headers = curl_slist_append(headers, "If-None-Match: *");
		if (r->content_type)
		{
			snprintf(hdr, sizeof(hdr), "Content-Type: %s", r->content_type);
			headers = curl_slist_append(headers, hdr);
		}

		if (strcmp(r->method, "PUT") == 0)
		{
			curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t) r->body_len);
			curl_easy_setopt(s->curl, CURLOPT_READFUNCTION, s3_read_body);
			curl_easy_setopt(s->curl, CURLOPT_READDATA, r);
			curl_easy_setopt(s->curl, CURLOPT_SEEKFUNCTION, s3_seek_body);
			curl_easy_setopt(s->curl, CURLOPT_SEEKDATA, r);
		}
		else if (strcmp(r->method, "POST") == 0)
		{
			curl_easy_setopt(s->curl, CURLOPT_POST, 1L);
			curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) r->body_len);
			curl_easy_setopt(s->curl, CURLOPT_READFUNCTION, s3_read_body);
			curl_easy_setopt(s->curl, CURLOPT_READDATA, r);
			curl_easy_setopt(s->curl, CURLOPT_SEEKFUNCTION, s3_seek_body);
			curl_easy_setopt(s->curl, CURLOPT_SEEKDATA, r);
		}
		else if (strcmp(r->method, "GET") != 0)
			curl_easy_setopt(s->curl, CURLOPT_CUSTOMREQUEST, r->method);
		curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, headers);

		curlerr[0] = '\0';
		s->base.stats.requests++;
		rc = curl_easy_perform(s->curl);
		curl_slist_free_all(headers);
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &r->status);

		if (rc == CURLE_OK)
		{
			s3_error_code(r, code, sizeof(code), NULL, 0);
			if (r->status >= 200 && r->status <= 299 && code[0] == '\0')
			{
				s->base.stats.bytes_uploaded += r->body_len;
				break;
			}
			if (strcmp(code, "ExpiredToken") == 0)
				force_cred = true;
			/* 501 Not Implemented is an answer, not a hiccup */
			retry = (r->status >= 500 && r->status != 501) || r->status == 429 ||
				strcmp(code, "SlowDown") == 0 ||
				strcmp(code, "RequestTimeout") == 0 ||
				strcmp(code, "ConditionalRequestConflict") == 0 ||
				strcmp(code, "InternalError") == 0 ||
				force_cred;
			if (!retry)
				break;			/* an answer for the caller */
		}
		else
		{
			if (r->out_failed)
			{
				s3_what(s, r, what, sizeof(what));
				snprintf(errstr, errlen, "%s: could not write the local copy: %s",
						 what, strerror(errno));
				bytebuf_free(&url);
				return false;
			}
			retry = s3_retryable_curl(rc);
			r->unanswered = true;
		}
		if (!retry || attempt >= s->max_attempts)
		{
			s3_what(s, r, what, sizeof(what));
			if (rc != CURLE_OK)
				snprintf(errstr, errlen, "%s failed after %d attempt%s: %s (endpoint %s://%s)",
						 what, attempt, attempt == 1 ? "" : "s",
						 curlerr[0] ? curlerr : curl_easy_strerror(rc),
						 s->scheme, s->host);
			else
			{
				char		why[3000];

				s3_http_error(s, r, why, sizeof(why));
				snprintf(errstr, errlen, "%s (after %d attempts)", why, attempt);
			}
			bytebuf_free(&url);
			return false;
		}
		s->base.stats.retries++;
		if (s->log_debug)
		{
			char		line[2400];

			s3_what(s, r, what, sizeof(what));
			snprintf(line, sizeof(line), "%s: attempt %d failed (%s), retrying",
					 what, attempt, rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP error");
			s->log_debug(line);
		}
		s3_sleep_backoff(attempt);
	}
	bytebuf_free(&url);
	return true;
}

static void
s3_request_init(S3Request *r, const char *op, const char *method,
				const char *key)
{
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->method = method;
	r->key = key;
	r->body_fd = -1;
	r->out_fd = -1;
}

static ObjStoreResult
s3_get_impl(ObjStore *base, const char *key, ByteBuf *buf, int fd,
			char *errstr, size_t errlen)
{
	S3Store    *s = (S3Store *) base;
	S3Request	r;
	char		code[128];
	ObjStoreResult res = OBJSTORE_OK;

	s3_request_init(&r, "get", "GET", key);
	r.out = buf;
	r.out_fd = fd;
	if (!s3_perform(s, &r, errstr, errlen))
		res = OBJSTORE_ERROR;
	else if (r.status == 404)
	{
		s3_error_code(&r, code, sizeof(code), NULL, 0);
		/* a missing bucket is an error, not a missing key */
		if (strcmp(code, "NoSuchKey") == 0 || code[0] == '\0')
			res = OBJSTORE_NOT_FOUND;
		else
		{
			s3_http_error(s, &r, errstr, errlen);
			res = OBJSTORE_ERROR;
		}
	}
	else if (r.status != 200)
	{
		s3_http_error(s, &r, errstr, errlen);
		res = OBJSTORE_ERROR;
	}
	bytebuf_free(&r.err);
	return res;
}

/* Whether key holds exactly data (settles an ambiguous put-if-absent). */
static bool
s3_holds(S3Store *s, const char *key, const void *data, size_t len)
{
	ByteBuf		got = {0};
	char		err[512];
	bool		same;

	same = s3_get_impl(&s->base, key, &got, -1, err, sizeof(err)) == OBJSTORE_OK &&
		got.len == len && (len == 0 || memcmp(got.data, data, len) == 0);
	bytebuf_free(&got);
	return same;
}

static ObjStoreResult
s3_put(ObjStore *base, const char *key, const void *data, size_t len,
	   bool if_absent, char *errstr, size_t errlen)
{
	S3Store    *s = (S3Store *) base;
	S3Request	r;
	ObjStoreResult res = OBJSTORE_OK;

	s3_request_init(&r, if_absent ? "put-if-absent" : "put", "PUT", key);
	r.body = data;
	r.body_len = len;
	r.if_none_match = if_absent;
	if (!s3_perform(s, &r, errstr, errlen))
		res = OBJSTORE_ERROR;
	else if (if_absent && r.status == 412)
		res = r.unanswered && s3_holds(s, key, data, len) ?
			OBJSTORE_OK : OBJSTORE_EXISTS;
	else if (r.status != 200)
	{
		s3_http_error(s, &r, errstr, errlen);
		res = OBJSTORE_ERROR;
	}
	bytebuf_free(&r.err);
	return res;
}

typedef struct S3Upload
{
	const char *key;
	char		upload_id[1024];
	char	  **etags;			/* owned, one per part */
	int			nparts;
} S3Upload;

static void
s3_upload_query(ByteBuf *q, const S3Upload *u, int part)
{
	q->len = 0;
	if (part > 0)
	{
		char		num[32];

		snprintf(num, sizeof(num), "partNumber=%d&", part);
		bytebuf_puts(q, num);
	}
	bytebuf_puts(q, "uploadId=");
	s3_encode(q, u->upload_id, false);
	bytebuf_putc(q, '\0');
}

/* Best effort: the parts of an upload that failed cost storage until
 * aborted. */
static void
s3_abort_upload(S3Store *s, S3Upload *u)
{
	S3Request	r;
	ByteBuf		q = {0};
	char		err[512];

	s3_upload_query(&q, u, 0);
	s3_request_init(&r, "abort multipart upload", "DELETE", u->key);
	r.query = (const char *) q.data;
	s3_perform(s, &r, err, sizeof(err));
	bytebuf_free(&r.err);
	bytebuf_free(&q);
}

static ObjStoreResult
s3_put_multipart(S3Store *s, const char *key, int fd, int64_t size,
				 char *errstr, size_t errlen)
{
	S3Upload	u = {key};
	S3Request	r;
	ByteBuf		q = {0};
	ByteBuf		doc = {0};
	ByteBuf		answer = {0};
	int64_t		part_size = s->part_size;
	ObjStoreResult res = OBJSTORE_ERROR;

	while ((size + part_size - 1) / part_size > S3_MAX_PARTS)
		part_size *= 2;
	u.nparts = (int) ((size + part_size - 1) / part_size);
	u.etags = bytebuf_xcalloc(u.nparts, sizeof(char *));

	s3_request_init(&r, "create multipart upload", "POST", key);
	r.query = "uploads=";
	r.out = &answer;
	if (!s3_perform(s, &r, errstr, errlen))
		goto done;
	bytebuf_free(&r.err);
	if (r.status != 200 ||
		!s3_xml_find((const char *) answer.data, answer.len, "UploadId",
					 u.upload_id, sizeof(u.upload_id)) || u.upload_id[0] == '\0')
	{
		s3_http_error(s, &r, errstr, errlen);
		goto done;
	}

	for (int i = 0; i < u.nparts; i++)
	{
		int64_t		off = (int64_t) i * part_size;

		if (s->log_debug)
		{
			char		line[1400];

			snprintf(line, sizeof(line), "S3 upload of \"%s%s%s\" in bucket \"%s\": part %d of %d",
					 s->prefix, s->prefix[0] ? "/" : "", key, s->bucket, i + 1, u.nparts);
			s->log_debug(line);
		}
		s3_upload_query(&q, &u, i + 1);
		s3_request_init(&r, "upload part", "PUT", key);
		r.query = (const char *) q.data;
		r.body_fd = fd;
		r.body_off = off;
		r.body_len = size - off < part_size ? size - off : part_size;
		if (!s3_perform(s, &r, errstr, errlen))
			goto abort;
		if (r.status != 200 || r.etag[0] == '\0')
		{
			s3_http_error(s, &r, errstr, errlen);
			bytebuf_free(&r.err);
			goto abort;
		}
		bytebuf_free(&r.err);
		u.etags[i] = bytebuf_xstrdup(r.etag);
	}

	bytebuf_puts(&doc, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (int i = 0; i < u.nparts; i++)
	{
		char		num[32];

		snprintf(num, sizeof(num), "%d", i + 1);
		bytebuf_puts(&doc, "<Part><PartNumber>");
		bytebuf_puts(&doc, num);
		bytebuf_puts(&doc, "</PartNumber><ETag>");
		s3_xml_escape(&doc, u.etags[i]);
		bytebuf_puts(&doc, "</ETag></Part>");
	}
	bytebuf_puts(&doc, "</CompleteMultipartUpload>");
	s3_upload_query(&q, &u, 0);
	s3_request_init(&r, "complete multipart upload", "POST", key);
	r.query = (const char *) q.data;
	r.body = doc.data;
	r.body_len = doc.len;
	r.content_type = "application/xml";
	/* S3 may report a failed completion inside a 200: r.err catches it */
	if (!s3_perform(s, &r, errstr, errlen))
		goto abort;
	if (r.status != 200)
	{
		s3_http_error(s, &r, errstr, errlen);
		bytebuf_free(&r.err);
		goto abort;
	}
	bytebuf_free(&r.err);
	res = OBJSTORE_OK;
	goto done;

abort:
	s3_abort_upload(s, &u);
done:
	for (int i = 0; i < u.nparts; i++)
		free(u.etags[i]);
	free(u.etags);
	bytebuf_free(&q);
	bytebuf_free(&doc);
	bytebuf_free(&answer);
	return res;
}

static ObjStoreResult
s3_put_file(ObjStore *base, const char *key, const char *path,
			char *errstr, size_t errlen)
{
	S3Store    *s = (S3Store *) base;
	struct stat st;
	ObjStoreResult res = OBJSTORE_OK;
	int			fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0)
	{
		snprintf(errstr, errlen, "S3 put of \"%s\" in bucket \"%s\": could not open \"%s\": %s",
				 key, s->bucket, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return OBJSTORE_ERROR;
	}
	if (st.st_size > s->multipart_threshold)
		res = s3_put_multipart(s, key, fd, st.st_size, errstr, errlen);
	else
	{
		S3Request	r;

		s3_request_init(&r, "put", "PUT", key);
		r.body_fd = fd;
		r.body_len = st.st_size;
		if (!s3_perform(s, &r, errstr, errlen))
			res = OBJSTORE_ERROR;
		else if (r.status != 200)
		{
			s3_http_error(s, &r, errstr, errlen);
			res = OBJSTORE_ERROR;
		}
		bytebuf_free(&r.err);
	}
	close(fd);
	if (res == OBJSTORE_OK)
		unlink(path);			/* handed over (see objstore.h) */
	return res;
}

/* "2026-12-06T00:20:25.000Z" -> ms since the epoch (0 if unreadable) */
static int64_t
s3_parse_time(const char *t)
{
	struct tm	tm = {0};
	int			ms = 0;

	if (sscanf(t, "%d-%d-%dT%d:%d:%d.%3d", &tm.tm_year, &tm.tm_mon,
			   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t) timegm(&tm) * 1000 + ms;
}

typedef struct S3ListPage
{
	S3Store    *s;
	ObjStoreListFn fn;
	void	   *arg;
	bool		stopped;
	bool		truncated;
	char		next_token[1024];
	char		key[1100];
	int64_t		size;
	int64_t		mtime;
	char		last_key[1100];	/* full key of the last entry seen */
} S3ListPage;

static void
s3_list_fn(const char *parent, const char *name, const char *text, void *arg)
{
	S3ListPage *p = arg;

	if (strcmp(parent, "Contents") == 0)
	{
		if (strcmp(name, "Key") == 0)
			snprintf(p->key, sizeof(p->key), "%s", text);
		else if (strcmp(name, "Size") == 0)
			p->size = strtoll(text, NULL, 10);
		else if (strcmp(name, "LastModified") == 0)
			p->mtime = s3_parse_time(text);
	}
	else if (strcmp(name, "Contents") == 0)
	{
		size_t		plen = strlen(p->s->prefix);
		const char *rel = p->key;

		snprintf(p->last_key, sizeof(p->last_key), "%s", p->key);
		if (plen > 0)
		{
			if (strncmp(rel, p->s->prefix, plen) != 0 || rel[plen] != '/')
				return;
			rel += plen + 1;
		}
		if (!p->stopped && objstore_key_listed(rel) &&
			!p->fn(rel, p->size, p->mtime, p->arg))
			p->stopped = true;
		p->key[0] = '\0';
		p->size = p->mtime = 0;
	}
	else if (strcmp(name, "IsTruncated") == 0)
		p->truncated = strcmp(text, "true") == 0;
	else if (strcmp(name, "NextContinuationToken") == 0)
		snprintf(p->next_token, sizeof(p->next_token), "%s", text);
}

static ObjStoreResult
s3_list(ObjStore *base, const char *prefix, const char *start_after,
		ObjStoreListFn fn, void *arg, char *errstr, size_t errlen)
{
	S3Store    *s = (S3Store *) base;
	S3ListPage	page = {s, fn, arg};
	char		full_prefix[2100];
	char		full_start[2100];
	ByteBuf		q = {0};
	ByteBuf		answer = {0};
	ObjStoreResult res = OBJSTORE_OK;

	/* keys below the store's prefix: "prefix/" + the caller's prefix */
	if (s->prefix[0])
		snprintf(full_prefix, sizeof(full_prefix), "%s/%s", s->prefix, prefix);
	else
		snprintf(full_prefix, sizeof(full_prefix), "%s", prefix);
	full_start[0] = '\0';
	if (start_after[0])
		s3_full_key(s, start_after, full_start, sizeof(full_start));

	do
	{
		S3Request	r;
		char		xmlerr[256];

		/* parameters in canonical (sorted) order, as SigV4 signs them */
		q.len = 0;
		if (page.next_token[0])
		{
			bytebuf_puts(&q, "continuation-token=");
			s3_encode(&q, page.next_token, false);
			bytebuf_putc(&q, '&');
		}
		bytebuf_puts(&q, "list-type=2");
		if (s->list_page_size > 0)
		{
			char		num[32];

			snprintf(num, sizeof(num), "&max-keys=%d", s->list_page_size);
			bytebuf_puts(&q, num);
		}
		if (full_prefix[0])
		{
			bytebuf_puts(&q, "&prefix=");
			s3_encode(&q, full_prefix, false);
		}
		if (full_start[0] && !page.next_token[0])
		{
			bytebuf_puts(&q, "&start-after=");
			s3_encode(&q, full_start, false);
		}
		bytebuf_putc(&q, '\0');

		s3_request_init(&r, "list", "GET", NULL);
		r.list_prefix = full_prefix;
		r.query = (const char *) q.data;
		answer.len = 0;
		r.out = &answer;
		if (!s3_perform(s, &r, errstr, errlen))
		{
			res = OBJSTORE_ERROR;
			break;
		}
		if (r.status != 200)
		{
			s3_http_error(s, &r, errstr, errlen);
			bytebuf_free(&r.err);
			res = OBJSTORE_ERROR;
			break;
		}
		bytebuf_free(&r.err);
		page.truncated = false;
		page.next_token[0] = '\0';
		if (!s3_xml_parse((const char *) answer.data, answer.len, s3_list_fn,
						  &page, xmlerr, sizeof(xmlerr)))
		{
			snprintf(errstr, errlen, "S3 list of \"%s\" in bucket \"%s\": %s",
					 full_prefix, s->bucket, xmlerr);
			res = OBJSTORE_ERROR;
			break;
		}
		if (page.truncated && page.next_token[0] == '\0')
		{
			snprintf(errstr, errlen,
					 "S3 list of \"%s\" in bucket \"%s\": a truncated page without NextContinuationToken",
					 full_prefix, s->bucket);
			res = OBJSTORE_ERROR;
			break;
		}
	} while (page.truncated && !page.stopped);
	bytebuf_free(&q);
	bytebuf_free(&answer);
	return res;
}

static ObjStoreResult
s3_delete(ObjStore *base, const char *key, char *errstr, size_t errlen)
{
	S3Store    *s = (S3Store *) base;
	S3Request	r;
	ObjStoreResult res = OBJSTORE_OK;

	s3_request_init(&r, "delete", "DELETE", key);
	if (!s3_perform(s, &r, errstr, errlen))
		res = OBJSTORE_ERROR;
	else if (r.status != 204 && r.status != 200)
	{
		char		code[128];

		s3_error_code(&r, code, sizeof(code), NULL, 0);
		if (!(r.status == 404 && strcmp(code, "NoSuchKey") == 0))
		{
			s3_http_error(s, &r, errstr, errlen);
			res = OBJSTORE_ERROR;
		}
	}
	bytebuf_free(&r.err);
	return res;
}

static bool
s3_stage_path(ObjStore *base, const char *key, char *out, size_t outlen,
			  char *errstr, size_t errlen)
{
	S3Store    *s = (S3Store *) base;
	const char *name = strrchr(key, '/');
	char		rnd[17];

	name = name ? name + 1 : key;
	if (mkdir(s->staging_dir, 0700) != 0 && errno != EEXIST)
	{
		snprintf(errstr, errlen, "could not create the staging directory \"%s\": %s",
				 s->staging_dir, strerror(errno));
		return false;
	}
	objstore_random_hex(rnd);
	if ((size_t) snprintf(out, outlen, "%s/cdc-%s-%.100s", s->staging_dir, rnd,
						  name) >= outlen)
	{
		snprintf(errstr, errlen, "the staging directory's path is too long");
		return false;
	}
	return true;
}

static bool
s3_local_file(ObjStore *base, const char *key, char *out, size_t outlen)
{
	return false;
}

static void
s3_close(ObjStore *base)
{
	S3Store    *s = (S3Store *) base;

	curl_easy_cleanup(s->curl);
	s3_cred_free(s->cred);
	free(s->ca_file);
	free(s);
}

static const ObjStoreOps s3_ops = {
	s3_put,
	s3_put_file,
	s3_get_impl,
	s3_list,
	s3_delete,
	s3_stage_path,
	s3_local_file,
	s3_close
};
