/*-------------------------------------------------------------------------
 *
 * decimal.h
 *	  Exact decimals of the writer: Debezium's big-endian two's complement
 *	  unscaled bytes, their text, and Delta's decimal(p,s) (at most 38
 *	  digits, an __int128).  Nothing here rounds: a value that would lose a
 *	  digit is refused.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_WRITER_DECIMAL_H
#define CDC_WRITER_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>

/* Digits of Delta's widest decimal. */
#define DECIMAL_MAX_PRECISION 38

/*
 * Longest unscaled value taken, in bytes: PostgreSQL's numeric holds at
 * most 131072 digits before the point and 16383 after, about 61 KB.
 */
#define DECIMAL_MAX_BYTES 65536

/* Largest scale taken: PostgreSQL's numeric display scale is 14 bits. */
#define DECIMAL_MAX_SCALE 16383

/*
 * Smallest scale taken: PostgreSQL 15's numeric(p,s) takes s down to -1000
 * (numeric(5,-2) holds 12300 as 123 at scale -2, as Debezium sends it).
 */
#define DECIMAL_MIN_SCALE (-1000)

/*
 * Big-endian two's complement bytes -> __int128; false if the value needs
 * more than 16 bytes.
 */
extern bool decimal_from_be(const unsigned char *b, size_t n, __int128 *out);

/* Room decimal_be_text needs for n bytes at scale (with the NUL). */
extern size_t decimal_text_cap(size_t n, int scale);

/*
 * Renders n big-endian two's complement bytes (any n up to
 * DECIMAL_MAX_BYTES) at scale as text ("-0.00001", and "12300" for 123 at
 * scale -2); out has decimal_text_cap(n, scale) bytes.
 */
extern void decimal_be_text(const unsigned char *b, size_t n, int scale,
							char *out);

/* Renders an unscaled __int128 at scale; buf >= 48 + scale bytes. */
extern void decimal_text(__int128 v, int scale, char *buf, size_t buflen);

/* Parses "-12.345" into an unscaled value at scale; false if it would round. */
extern bool decimal_parse_text(const char *s, size_t len, int scale,
							   __int128 *out);

/*
 * Moves v from scale `from` to decimal(precision, to); false if it would
 * round or does not fit.
 */
extern bool decimal_rescale(__int128 v, int from, int precision, int to,
							__int128 *out);

#endif							/* CDC_WRITER_DECIMAL_H */
