/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bounds-checked cursor over untrusted bytes.  Every parser of wire data reads through it:
 * a short read returns -EBADMSG and leaves the cursor unchanged, so there are no struct
 * casts and no unchecked lengths anywhere.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_CURSOR_H
#define VOUCH_LIB_CURSOR_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cursor {
	const uint8_t *p;
	size_t left;
};

static inline void cur_init(struct cursor *c, const void *buf, size_t len)
{
	c->p = buf;
	c->left = len;
}

static inline size_t cur_left(const struct cursor *c)
{
	return c->left;
}

static inline int cur_skip(struct cursor *c, size_t n)
{
	if (c->left < n)
		return -EBADMSG;
	c->p += n;
	c->left -= n;
	return 0;
}

/* Point *ret at the next n bytes (inside the buffer) and advance. */
static inline int cur_bytes(struct cursor *c, size_t n, const uint8_t **ret)
{
	if (c->left < n)
		return -EBADMSG;
	*ret = c->p;
	c->p += n;
	c->left -= n;
	return 0;
}

static inline int cur_copy(struct cursor *c, void *out, size_t n)
{
	if (c->left < n)
		return -EBADMSG;
	memcpy(out, c->p, n);
	c->p += n;
	c->left -= n;
	return 0;
}

/* Split off a sub-cursor of n bytes. */
static inline int cur_sub(struct cursor *c, size_t n, struct cursor *ret)
{
	const uint8_t *p;
	int r = cur_bytes(c, n, &p);

	if (r < 0)
		return r;
	cur_init(ret, p, n);
	return 0;
}

/*
 * The @n-byte unsigned integer at the cursor (big-endian when @be), advancing past it; -EBADMSG
 * and nothing consumed or stored when fewer than @n bytes are left. The fixed-width readers below
 * are this with constant arguments, which the compiler folds into the plain loads.
 */
static inline int cur_uint(struct cursor *c, size_t n, bool be, uint64_t *v)
{
	uint64_t x = 0;

	if (c->left < n)
		return -EBADMSG;
	/* unrolled, the shifts of constant bytes fold into one load (and a byte swap) */
#ifdef __clang__
#pragma clang loop unroll(full)
#else
#pragma GCC unroll 8
#endif
	for (size_t i = 0; i < n; i++)
		x |= (uint64_t)c->p[i] << (8 * (be ? n - 1 - i : i));
	c->p += n;
	c->left -= n;
	*v = x;
	return 0;
}

/* Defines name(struct cursor *, type *): cur_uint() of sizeof(type) bytes. */
#define CUR_DEFINE_READER(name, type, be)                                                          \
	static inline int name(struct cursor *c, type *v)                                          \
	{                                                                                          \
		uint64_t x;                                                                        \
		int r = cur_uint(c, sizeof(type), be, &x);                                         \
		if (r < 0)                                                                         \
			return r;                                                                  \
		*v = (type)x;                                                                      \
		return 0;                                                                          \
	}

CUR_DEFINE_READER(cur_u8, uint8_t, true)
CUR_DEFINE_READER(cur_u16be, uint16_t, true) CUR_DEFINE_READER(cur_u16le, uint16_t, false)
CUR_DEFINE_READER(cur_u32be, uint32_t, true) CUR_DEFINE_READER(cur_u32le, uint32_t, false)
CUR_DEFINE_READER(cur_u64be, uint64_t, true) CUR_DEFINE_READER(cur_u64le, uint64_t, false)

/* A u16 big-endian length followed by that many bytes (TPM2B). */
static inline int cur_tpm2b(struct cursor *c, const uint8_t **ret, size_t *ret_len)
{
	struct cursor save = *c;
	uint16_t n;

	if (cur_u16be(c, &n) < 0 || cur_bytes(c, n, ret) < 0) {
		*c = save;
		return -EBADMSG;
	}
	*ret_len = n;
	return 0;
}

#endif /* VOUCH_LIB_CURSOR_H */
