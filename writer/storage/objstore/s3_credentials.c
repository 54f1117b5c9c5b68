/*-------------------------------------------------------------------------
 *
 * s3_credentials.c
 *	  The AWS credential chain (see s3_credentials.h).
 *
 * The shared files are INI: "[section]" headers, "key = value" lines, '#'
 * and ';' comments.  The credentials file names sections by profile; the
 * config file calls them "[profile NAME]", except "[default]".
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bytebuf.h"
#include "clock.h"
#include "s3_credentials.h"
#include "s3_xml.h"

#define S3_CRED_STS_ATTEMPTS 3

typedef enum S3CredSource
{
	S3_CRED_NONE,
	S3_CRED_ENV,
	S3_CRED_WEB_IDENTITY,
	S3_CRED_FILE
} S3CredSource;

struct S3CredProvider
{
	char		profile[128];
	char	   *ca_file;		/* owned, NULL = system */
	bool		insecure;
	S3CredSource source;
	char		source_text[PATH_MAX + 160];
	S3Credentials cur;
	/* for S3_CRED_FILE: the file read, and its mtime then */
	char		file[PATH_MAX];
	struct timespec file_mtime;
};

S3CredProvider *
s3_cred_new(const char *profile, const char *ca_file, bool insecure)
{
	S3CredProvider *p = bytebuf_xcalloc(1, sizeof(S3CredProvider));
	const char *env = getenv("AWS_PROFILE");

	if (profile == NULL || profile[0] == '\0')
		profile = env && env[0] ? env : "default";
	snprintf(p->profile, sizeof(p->profile), "%s", profile);
	p->ca_file = ca_file ? bytebuf_xstrdup(ca_file) : NULL;
	p->insecure = insecure;
	return p;
}

static void
s3_cred_clear(S3Credentials *c)
{
	/* the secret does not outlive its use in freed memory */
	explicit_bzero(c->secret_key, sizeof(c->secret_key));
	if (c->session_token)
	{
		explicit_bzero(c->session_token, strlen(c->session_token));
		free(c->session_token);
	}
	memset(c, 0, sizeof(*c));
}

void
s3_cred_free(S3CredProvider *p)
{
	if (p == NULL)
		return;
	s3_cred_clear(&p->cur);
	free(p->ca_file);
	free(p);
}

const char *
s3_cred_source(const S3CredProvider *p)
{
	return p->source_text;
}

/* $NAME or ~/.aws/<file> */
static void
s3_cred_file_path(const char *env_name, const char *file, char *out,
				  size_t outlen)
{
	const char *env = getenv(env_name);
	const char *home = getenv("HOME");

	if (env && env[0])
		snprintf(out, outlen, "%s", env);
	else
		snprintf(out, outlen, "%s/.aws/%s", home && home[0] ? home : ".", file);
}

static char *
s3_cred_trim(char *s)
{
	char	   *e;

	while (isspace((unsigned char) *s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char) e[-1]))
		*--e = '\0';
	return s;
}

/*
 * Looks up key in section of the INI file path; copies its value into out.
 * false if the file, the section or the key is missing.
 */
static bool
s3_cred_ini_get(const char *path, const char *section, const char *key,
				char *out, size_t outlen)
{
	FILE	   *fp = fopen(path, "r");
	char		line[4096];
	bool		in_section = false;
	bool		found = false;

	if (fp == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), fp))
	{
		char	   *s = s3_cred_trim(line);
		char	   *eq;

		if (s[0] == '#' || s[0] == ';' || s[0] == '\0')
			continue;
		if (s[0] == '[')
		{
			char	   *end = strchr(s, ']');

			if (end)
				*end = '\0';
			in_section = strcmp(s3_cred_trim(s + 1), section) == 0;
			continue;
		}
		if (!in_section || (eq = strchr(s, '=')) == NULL)
			continue;
		*eq = '\0';
		if (strcmp(s3_cred_trim(s), key) == 0)
		{
			snprintf(out, outlen, "%s", s3_cred_trim(eq + 1));
			found = true;
		}
	}
	explicit_bzero(line, sizeof(line));
	fclose(fp);
	return found;
}

/* The profile's key from the config file ("[profile NAME]" / "[default]"). */
static bool
s3_cred_config_get(S3CredProvider *p, const char *key, char *out,
				   size_t outlen)
{
	char		path[PATH_MAX];
	char		section[160];

	s3_cred_file_path("AWS_CONFIG_FILE", "config", path, sizeof(path));
	if (strcmp(p->profile, "default") == 0)
		snprintf(section, sizeof(section), "default");
	else
		snprintf(section, sizeof(section), "profile %s", p->profile);
	return s3_cred_ini_get(path, section, key, out, outlen);
}

bool
s3_cred_profile_region(S3CredProvider *p, char *out, size_t outlen)
{
	return s3_cred_config_get(p, "region", out, outlen);
}

/* Keys from section of the INI file path, if it has both. */
static bool
s3_cred_from_ini(S3CredProvider *p, const char *path, const char *section)
{
	S3Credentials c = {0};
	char		token[4096];
	struct stat st;

	if (!s3_cred_ini_get(path, section, "aws_access_key_id", c.access_key,
						 sizeof(c.access_key)) ||
		!s3_cred_ini_get(path, section, "aws_secret_access_key", c.secret_key,
						 sizeof(c.secret_key)) ||
		c.access_key[0] == '\0' || c.secret_key[0] == '\0')
	{
		s3_cred_clear(&c);
		return false;
	}
	if (s3_cred_ini_get(path, section, "aws_session_token", token, sizeof(token)) &&
		token[0])
		c.session_token = bytebuf_xstrdup(token);
	explicit_bzero(token, sizeof(token));
	s3_cred_clear(&p->cur);
	p->cur = c;
	p->source = S3_CRED_FILE;
	snprintf(p->file, sizeof(p->file), "%s", path);
	if (stat(path, &st) == 0)
		p->file_mtime = st.st_mtim;
	snprintf(p->source_text, sizeof(p->source_text), "%s [%s]", path, section);
	return true;
}

static size_t
s3_cred_collect(char *ptr, size_t size, size_t nmemb, void *arg)
{
	ByteBuf    *b = arg;

	if (b->len + size * nmemb > 1024 * 1024)
		return 0;				/* an STS answer is a few kB */
	bytebuf_append(b, ptr, size * nmemb);
	return size * nmemb;
}

static void
s3_cred_form_param(ByteBuf *b, CURL *curl, const char *name, const char *value)
{
	char	   *enc = curl_easy_escape(curl, value, 0);

	if (b->len > 0)
		bytebuf_putc(b, '&');
	bytebuf_puts(b, name);
	bytebuf_putc(b, '=');
	bytebuf_puts(b, enc ? enc : "");
	curl_free(enc);
}

typedef struct S3StsAnswer
{
	S3Credentials c;
	char		expiration[64];
} S3StsAnswer;

static void
s3_cred_sts_fn(const char *parent, const char *name, const char *text,
			   void *arg)
{
	S3StsAnswer *a = arg;

	if (strcmp(parent, "Credentials") != 0)
		return;
	if (strcmp(name, "AccessKeyId") == 0)
		snprintf(a->c.access_key, sizeof(a->c.access_key), "%s", text);
	else if (strcmp(name, "SecretAccessKey") == 0)
		snprintf(a->c.secret_key, sizeof(a->c.secret_key), "%s", text);
	else if (strcmp(name, "SessionToken") == 0 && a->c.session_token == NULL)
		a->c.session_token = bytebuf_xstrdup(text);
	else if (strcmp(name, "Expiration") == 0)
		snprintf(a->expiration, sizeof(a->expiration), "%s", text);
}

/* "2026-12-06T01:02:03Z" or with fractional seconds; 0 if unreadable */
static int64_t
s3_cred_parse_time(const char *s)
{
	struct tm	tm = {0};

	if (sscanf(s, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t) timegm(&tm) * 1000;
}

static void
s3_cred_region(S3CredProvider *p, char *out, size_t outlen)
{
	const char *r = getenv("AWS_REGION");

	if (r == NULL || r[0] == '\0')
		r = getenv("AWS_DEFAULT_REGION");
	if (r && r[0])
		snprintf(out, outlen, "%s", r);
	else if (!s3_cred_profile_region(p, out, outlen))
		snprintf(out, outlen, "us-east-1");
}

/*
 * STS AssumeRoleWithWebIdentity: the token file's content for temporary
 * credentials of role_arn.  The request is not signed (the token is the
 * proof), and STS answers in XML.
 */
static bool
s3_cred_web_identity(S3CredProvider *p, const char *token_file,
					 const char *role_arn, char *errstr, size_t errlen)
{
	char		endpoint[512];
	char		region[64];
	char		session[128];
	const char *env = getenv("AWS_ENDPOINT_URL_STS");
	const char *name = getenv("AWS_ROLE_SESSION_NAME");
	ByteBuf		token = {0};
	ByteBuf		form = {0};
	ByteBuf		answer = {0};
	FILE	   *fp;
	CURL	   *curl;
	char		curlerr[CURL_ERROR_SIZE];
	long		status = 0;
	bool		ok = false;

	fp = fopen(token_file, "r");
	if (fp == NULL)
	{
		snprintf(errstr, errlen, "could not read the web identity token file \"%s\": %s",
				 token_file, strerror(errno));
		return false;
	}
	for (;;)
	{
		char		chunk[4096];
		size_t		n = fread(chunk, 1, sizeof(chunk), fp);

		if (n == 0)
			break;
		bytebuf_append(&token, chunk, n);
	}
	fclose(fp);
	while (token.len > 0 && isspace(token.data[token.len - 1]))
		token.len--;
	bytebuf_putc(&token, '\0');

	s3_cred_region(p, region, sizeof(region));
	if (env && env[0])
		snprintf(endpoint, sizeof(endpoint), "%s", env);
	else
		snprintf(endpoint, sizeof(endpoint), "https://sts.%s.amazonaws.com", region);
	if (name && name[0])
		snprintf(session, sizeof(session), "%s", name);
	else
		snprintf(session, sizeof(session), "cdc-delta-writer-%d", (int) getpid());

	curl = curl_easy_init();
	if (curl == NULL)
	{
		snprintf(errstr, errlen, "could not initialise libcurl");
		bytebuf_free(&token);
		return false;
	}
	s3_cred_form_param(&form, curl, "Action", "AssumeRoleWithWebIdentity");
	s3_cred_form_param(&form, curl, "RoleArn", role_arn);
	s3_cred_form_param(&form, curl, "RoleSessionName", session);
	s3_cred_form_param(&form, curl, "Version", "2011-06-15");
	s3_cred_form_param(&form, curl, "WebIdentityToken", (const char *) token.data);
	explicit_bzero(token.data, token.len);
	bytebuf_free(&token);

	for (int attempt = 1; attempt <= S3_CRED_STS_ATTEMPTS; attempt++)
	{
		CURLcode	rc;

		answer.len = 0;
		curl_easy_reset(curl);
		curl_easy_setopt(curl, CURLOPT_URL, endpoint);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, (const char *) form.data);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long) form.len);
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, s3_cred_collect);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
		curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curlerr);
		curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
		curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
		if (p->ca_file)
			curl_easy_setopt(curl, CURLOPT_CAINFO, p->ca_file);
		if (p->insecure)
		{
			curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
		}
		curlerr[0] = '\0';
		rc = curl_easy_perform(curl);
		status = 0;
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
		if (rc == CURLE_OK && status == 200)
		{
			S3StsAnswer a = {0};
			char		xmlerr[128];

			if (!s3_xml_parse((const char *) answer.data, answer.len,
							  s3_cred_sts_fn, &a, xmlerr, sizeof(xmlerr)) ||
				a.c.access_key[0] == '\0' || a.c.secret_key[0] == '\0')
			{
				snprintf(errstr, errlen,
						 "AssumeRoleWithWebIdentity at %s for role \"%s\": no credentials in the answer",
						 endpoint, role_arn);
				s3_cred_clear(&a.c);
				break;
			}
			a.c.expires_ms = s3_cred_parse_time(a.expiration);
			s3_cred_clear(&p->cur);
			p->cur = a.c;
			p->source = S3_CRED_WEB_IDENTITY;
			snprintf(p->source_text, sizeof(p->source_text),
					 "web identity (role %s)", role_arn);
			ok = true;
			break;
		}
		if (rc != CURLE_OK)
			snprintf(errstr, errlen, "AssumeRoleWithWebIdentity at %s for role \"%s\" failed: %s",
					 endpoint, role_arn, curlerr[0] ? curlerr : curl_easy_strerror(rc));
		else
		{
			char		code[128] = "";
			char		msg[256] = "";

			bytebuf_putc(&answer, '\0');
			s3_xml_find((const char *) answer.data, answer.len - 1, "Code", code, sizeof(code));
			s3_xml_find((const char *) answer.data, answer.len - 1, "Message", msg, sizeof(msg));
			snprintf(errstr, errlen, "AssumeRoleWithWebIdentity at %s for role \"%s\": HTTP %ld %s%s%s",
					 endpoint, role_arn, status, code, msg[0] ? ": " : "", msg);
			if (status < 500 && status != 429)
				break;			/* refused: asking again will not help */
		}
		if (attempt < S3_CRED_STS_ATTEMPTS)
			usleep(200000u << attempt);
	}
	curl_easy_cleanup(curl);
	explicit_bzero(form.data, form.len);
	bytebuf_free(&form);
	bytebuf_free(&answer);
	return ok;
}

static bool
s3_cred_load(S3CredProvider *p, char *errstr, size_t errlen)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token_file = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	const char *role = getenv("AWS_ROLE_ARN");
	char		pfile[PATH_MAX];
	char		prole[512];
	char		path[PATH_MAX];
	char		section[160];

	if (id && id[0] && secret && secret[0])
	{
		const char *token = getenv("AWS_SESSION_TOKEN");

		s3_cred_clear(&p->cur);
		snprintf(p->cur.access_key, sizeof(p->cur.access_key), "%s", id);
		snprintf(p->cur.secret_key, sizeof(p->cur.secret_key), "%s", secret);
		if (token && token[0])
			p->cur.session_token = bytebuf_xstrdup(token);
		p->source = S3_CRED_ENV;
		snprintf(p->source_text, sizeof(p->source_text), "environment");
		return true;
	}
	if (!(token_file && token_file[0] && role && role[0]) &&
		s3_cred_config_get(p, "web_identity_token_file", pfile, sizeof(pfile)) &&
		s3_cred_config_get(p, "role_arn", prole, sizeof(prole)))
	{
		token_file = pfile;
		role = prole;
	}
	if (token_file && token_file[0] && role && role[0])
		return s3_cred_web_identity(p, token_file, role, errstr, errlen);

	s3_cred_file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials", path, sizeof(path));
	if (s3_cred_from_ini(p, path, p->profile))
		return true;
	s3_cred_file_path("AWS_CONFIG_FILE", "config", path, sizeof(path));
	if (strcmp(p->profile, "default") == 0)
		snprintf(section, sizeof(section), "default");
	else
		snprintf(section, sizeof(section), "profile %s", p->profile);
	if (s3_cred_from_ini(p, path, section))
		return true;
	snprintf(errstr, errlen,
			 "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
			 "or AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, or give profile \"%s\" "
			 "keys in the shared credentials or config file",
			 p->profile);
	return false;
}

/* Whether the current credentials should be loaded again. */
static bool
s3_cred_stale(S3CredProvider *p)
{
	struct stat st;

	if (p->source == S3_CRED_NONE)
		return true;
	if (p->cur.expires_ms != 0 &&
		clock_wall_ms() >= p->cur.expires_ms - S3_CRED_REFRESH_MS)
		return true;
	if (p->source == S3_CRED_FILE)
		return stat(p->file, &st) != 0 ||
			st.st_mtim.tv_sec != p->file_mtime.tv_sec ||
			st.st_mtim.tv_nsec != p->file_mtime.tv_nsec;
	return false;
}

const S3Credentials *
s3_cred_get(S3CredProvider *p, bool force, char *errstr, size_t errlen)
{
	if ((force || s3_cred_stale(p)) && !s3_cred_load(p, errstr, errlen))
	{
		/* still-valid temporary credentials outlive a failed renewal */
		if (p->source != S3_CRED_NONE && !force &&
			(p->cur.expires_ms == 0 || clock_wall_ms() < p->cur.expires_ms))
			return &p->cur;
		return NULL;
	}
	return &p->cur;
}
