/*-------------------------------------------------------------------------
 *
 * s3_credentials.h
 *	  AWS credentials found where the AWS tools find them, and kept fresh.
 *
 * The chain, first match wins (the AWS CLI's order, less the providers
 * that need an AWS host to test: SSO, credential_process, container and
 * instance metadata):
 *	1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 *	   optionally AWS_SESSION_TOKEN;
 *	2. a web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (or the
 *	   profile's web_identity_token_file and role_arn), exchanged for
 *	   temporary credentials with STS AssumeRoleWithWebIdentity at
 *	   $AWS_ENDPOINT_URL_STS or https://sts.<region>.amazonaws.com;
 *	3. the profile ($AWS_PROFILE, else "default") in the shared credentials
 *	   file ($AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials);
 *	4. the profile in the config file ($AWS_CONFIG_FILE, else
 *	   ~/.aws/config, sections "[profile NAME]" and "[default]").
 *
 * Temporary credentials are renewed S3_CRED_REFRESH_MS before they
 * expire, and credentials from a file are re-read when the file changes
 * (a tool that rotates keys rewrites it), so a long-running writer never
 * signs with expired keys.  Secrets never appear in an error message.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_S3_CREDENTIALS_H
#define CDC_S3_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define S3_CRED_REFRESH_MS (5 * 60 * 1000)

typedef struct S3Credentials
{
	char		access_key[256];
	char		secret_key[256];
	char	   *session_token;	/* owned, NULL if none */
	int64_t		expires_ms;		/* wall clock; 0 = does not expire */
} S3Credentials;

typedef struct S3CredProvider S3CredProvider;

/*
 * profile: NULL = $AWS_PROFILE or "default"; ca_file/insecure: TLS for the
 * STS request.  Reads nothing yet.
 */
extern S3CredProvider *s3_cred_new(const char *profile, const char *ca_file,
								   bool insecure);
extern void s3_cred_free(S3CredProvider *p);

/*
 * Current credentials (owned by p, valid until the next call), loaded or
 * renewed when needed; force renews them even if they look valid (S3 said
 * ExpiredToken).  false + errstr if none can be found.
 */
extern const S3Credentials *s3_cred_get(S3CredProvider *p, bool force,
										char *errstr, size_t errlen);

/* Where the current credentials came from ("environment", ...). */
extern const char *s3_cred_source(const S3CredProvider *p);

/*
 * The region of the profile in the config file, copied into out; false if
 * it sets none.
 */
extern bool s3_cred_profile_region(S3CredProvider *p, char *out,
								   size_t outlen);

#endif							/* CDC_S3_CREDENTIALS_H */
