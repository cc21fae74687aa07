// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Hex, number and name-table parsing.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <limits.h>
#include <strings.h>

#include "internal.h"

void hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *in, size_t in_len, uint8_t *out, size_t out_size, size_t *ret_len)
{
	if (in_len % 2)
		return -EBADMSG;
	if (in_len / 2 > out_size)
		return -ENOBUFS;
	for (size_t i = 0; i < in_len / 2; i++) {
		int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EBADMSG;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (ret_len)
		*ret_len = in_len / 2;
	return 0;
}

int parse_u64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;
	unsigned base = 10;

	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return -EINVAL;
	}
	for (; *s; s++) {
		int d = hexval(*s);

		if (d < 0 || (unsigned)d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return -ERANGE;
		v = v * base + (uint64_t)d;
	}
	*ret = v;
	return 0;
}

int parse_u32(const char *s, uint32_t *ret)
{
	uint64_t v;
	int r = parse_u64(s, &v);

	if (r < 0)
		return r;
	if (v > UINT32_MAX)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

int parse_u32_digits(const char *s, size_t n, size_t max_digits, uint32_t *ret)
{
	char tmp[16];

	if (n == 0 || n > max_digits || n >= sizeof(tmp))
		return -EBADMSG;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -EBADMSG;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return parse_u32(tmp, ret) < 0 ? -EBADMSG : 0;
}

int name_lookup(const struct name_value *t, size_t n, const char *name, bool fold_case,
		int *ret_value)
{
	for (size_t i = 0; i < n; i++)
		if (fold_case ? !strcasecmp(name, t[i].name) : !strcmp(name, t[i].name)) {
			*ret_value = t[i].value;
			return 0;
		}
	return -ENOENT;
}

VOUCH_EXPORT int vouch_hex_decode(const char *s, size_t n, uint8_t *out, size_t size,
				  size_t *ret_len)
{
	if ((!s && n) || (!out && size))
		return -EINVAL;
	return hex_decode(s, n, out, size, ret_len);
}
