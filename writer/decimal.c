/*-------------------------------------------------------------------------
 *
 * decimal.c
 *	  Exact decimals: Debezium's unscaled bytes, text, Delta's decimal(p,s).
 *
 * Unscaled values of any length (a numeric without typmod, or with more
 * than 38 digits) are rendered as text 9 digits at a time over 32-bit
 * limbs, so the longest numeric PostgreSQL has takes well under a second.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytebuf.h"
#include "decimal.h"

bool
decimal_from_be(const unsigned char *b, size_t n, __int128 *out)
{
	unsigned __int128 v;

	/* sign bytes in front change nothing (Java's toByteArray has none) */
	while (n > 16 && (b[0] == 0 || b[0] == 0xff) && (b[0] & 0x80) == (b[1] & 0x80))
	{
		b++;
		n--;
	}
	if (n > 16)
		return false;
	if (n == 0)
	{
		*out = 0;
		return true;
	}
	v = (b[0] & 0x80) ? ~(unsigned __int128) 0 : 0;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | b[i];
	*out = (__int128) v;
	return true;
}

size_t
decimal_text_cap(size_t n, int scale)
{
	/* 256^n < 10^(2.41 n): 3 digits a byte; sign, "0.", NUL */
	return n * 3 + (size_t) (scale > 0 ? scale : -scale) + 8;
}

void
decimal_be_text(const unsigned char *b, size_t n, int scale, char *out)
{
	size_t		nlimbs = (n + 3) / 4;
	uint32_t   *limb = bytebuf_xcalloc(nlimbs ? nlimbs : 1, sizeof(uint32_t));
	char	   *digits = bytebuf_xmalloc(n * 3 + 10);
	bool		neg = n > 0 && (b[0] & 0x80);
	size_t		nd = 0,
				first = 0,
				o = 0;

	/* magnitude into limbs, most significant first */
	for (size_t i = 0; i < n; i++)
	{
		size_t		pos = n - 1 - i;	/* byte index from the low end */
		unsigned char c = neg ? (unsigned char) ~b[i] : b[i];

		limb[nlimbs - 1 - pos / 4] |= (uint32_t) c << (8 * (pos % 4));
	}
	if (neg)
	{
		/* ~x + 1 */
		for (size_t i = nlimbs; i-- > 0;)
			if (++limb[i] != 0)
				break;
	}
	/* 9 digits per pass, least significant first */
	while (first < nlimbs)
	{
		uint64_t	rem = 0;

		for (size_t i = first; i < nlimbs; i++)
		{
			uint64_t	cur = (rem << 32) | limb[i];

			limb[i] = (uint32_t) (cur / 1000000000u);
			rem = cur % 1000000000u;
		}
		while (first < nlimbs && limb[first] == 0)
			first++;
		for (int k = 0; k < 9; k++)
		{
			digits[nd++] = (char) ('0' + rem % 10);
			rem /= 10;
		}
	}
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	if (nd == 0)
		digits[nd++] = '0';
	if (neg)
		out[o++] = '-';
	if (scale > 0 && nd <= (size_t) scale)
	{
		/* 0.000ddd */
		out[o++] = '0';
		out[o++] = '.';
		for (size_t k = nd; k < (size_t) scale; k++)
			out[o++] = '0';
		for (size_t i = nd; i-- > 0;)
			out[o++] = digits[i];
	}
	else
	{
		for (size_t i = nd; i-- > 0;)
		{
			out[o++] = digits[i];
			if (i == (size_t) scale && scale > 0)
				out[o++] = '.';
		}
		/* a negative scale: the unscaled value counts tens, hundreds, ... */
		for (int k = scale; k < 0 && !(nd == 1 && digits[0] == '0'); k++)
			out[o++] = '0';
	}
	out[o] = '\0';
	free(limb);
	free(digits);
}

static const __int128 pow10_128[39] = {
	(__int128) 1LL, (__int128) 10LL, (__int128) 100LL, (__int128) 1000LL,
	(__int128) 10000LL, (__int128) 100000LL, (__int128) 1000000LL,
	(__int128) 10000000LL, (__int128) 100000000LL, (__int128) 1000000000LL,
	(__int128) 10000000000LL, (__int128) 100000000000LL,
	(__int128) 1000000000000LL, (__int128) 10000000000000LL,
	(__int128) 100000000000000LL, (__int128) 1000000000000000LL,
	(__int128) 10000000000000000LL, (__int128) 100000000000000000LL,
	(__int128) 1000000000000000000LL,
	(__int128) 1000000000000000000LL * 10,
	(__int128) 1000000000000000000LL * 100,
	(__int128) 1000000000000000000LL * 1000,
	(__int128) 1000000000000000000LL * 10000,
	(__int128) 1000000000000000000LL * 100000,
	(__int128) 1000000000000000000LL * 1000000,
	(__int128) 1000000000000000000LL * 10000000,
	(__int128) 1000000000000000000LL * 100000000,
	(__int128) 1000000000000000000LL * 1000000000,
	(__int128) 1000000000000000000LL * 10000000000LL,
	(__int128) 1000000000000000000LL * 100000000000LL,
	(__int128) 1000000000000000000LL * 1000000000000LL,
	(__int128) 1000000000000000000LL * 10000000000000LL,
	(__int128) 1000000000000000000LL * 100000000000000LL,
	(__int128) 1000000000000000000LL * 1000000000000000LL,
	(__int128) 1000000000000000000LL * 10000000000000000LL,
	(__int128) 1000000000000000000LL * 100000000000000000LL,
	(__int128) 1000000000000000000LL * 1000000000000000000LL,
	(__int128) 1000000000000000000LL * 1000000000000000000LL * 10,
	(__int128) 1000000000000000000LL * 1000000000000000000LL * 100,
};

void
decimal_text(__int128 v, int scale, char *buf, size_t buflen)
{
	unsigned char be[16];

	if (buflen < decimal_text_cap(16, scale))
	{
		if (buflen > 0)
			buf[0] = '\0';
		return;
	}
	for (int i = 15; i >= 0; i--)
	{
		be[i] = (unsigned char) (v & 0xff);
		v >>= 8;
	}
	decimal_be_text(be, 16, scale, buf);
}

bool
decimal_parse_text(const char *s, size_t len, int scale, __int128 *out)
{
	__int128	v = 0;
	bool		neg = false,
				dot = false,
				any = false;
	int			frac = 0;
	size_t		i = 0;

	if (scale < 0 || scale > DECIMAL_MAX_PRECISION)
		return false;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	for (; i < len; i++)
	{
		if (s[i] == '.' && !dot)
		{
			dot = true;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return false;
		any = true;
		if (dot && frac == scale)
		{
			if (s[i] != '0')
				return false;	/* would lose digits */
			continue;
		}
		if (v > pow10_128[37])
			return false;
		v = v * 10 + (s[i] - '0');
		if (dot)
			frac++;
	}
	if (!any)
		return false;
	for (; frac < scale; frac++)
	{
		if (v > pow10_128[37])
			return false;
		v *= 10;
	}
	*out = neg ? -v : v;
	return true;
}

bool
decimal_rescale(__int128 v, int from, int precision, int to, __int128 *out)
{
	__int128	lim;

	if (precision < 1 || precision > DECIMAL_MAX_PRECISION || to < 0 ||
		to > precision || from < 0)
		return false;
	lim = pow10_128[precision];
	if (from < to)
	{
		__int128	m = pow10_128[to - from];

		if (v >= lim / m || v <= -lim / m)
			return false;
		v *= m;
	}
	else if (from > to)
	{
		int			d = from - to;

		/* would round: refuse */
		if (d > DECIMAL_MAX_PRECISION)
		{
			if (v != 0)
				return false;
		}
		else if (v % pow10_128[d] != 0)
			return false;
		else
			v /= pow10_128[d];
	}
	if (v >= lim || v <= -lim)
		return false;
	*out = v;
	return true;
}
