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

static inline int cur_u8(struct cursor *c, uint8_t *v)
{
	if (c->left < 1)
		return -EBADMSG;
	*v = c->p[0];
	c->p++;
	c->left--;
	return 0;
}

static inline int cur_u16be(struct cursor *c, uint16_t *v)
{
	if (c->left < 2)
		return -EBADMSG;
	*v = (uint16_t)(c->p[0] << 8 | c->p[1]);
	c->p += 2;
	c->left -= 2;
	return 0;
}

static inline int cur_u16le(struct cursor *c, uint16_t *v)
{
	if (c->left < 2)
		return -EBADMSG;
	*v = (uint16_t)(c->p[1] << 8 | c->p[0]);
	c->p += 2;
	c->left -= 2;
	return 0;
}

static inline int cur_u32be(struct cursor *c, uint32_t *v)
{
	if (c->left < 4)
		return -EBADMSG;
	*v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 |
	     (uint32_t)c->p[3];
	c->p += 4;
	c->left -= 4;
	return 0;
}

static inline int cur_u32le(struct cursor *c, uint32_t *v)
{
	if (c->left < 4)
		return -EBADMSG;
	*v = (uint32_t)c->p[3] << 24 | (uint32_t)c->p[2] << 16 | (uint32_t)c->p[1] << 8 |
	     (uint32_t)c->p[0];
	c->p += 4;
	c->left -= 4;
	return 0;
}

static inline int cur_u64be(struct cursor *c, uint64_t *v)
{
	uint32_t hi, lo;

	if (c->left < 8)
		return -EBADMSG;
	cur_u32be(c, &hi);
	cur_u32be(c, &lo);
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

static inline int cur_u64le(struct cursor *c, uint64_t *v)
{
	uint32_t hi, lo;

	if (c->left < 8)
		return -EBADMSG;
	cur_u32le(c, &lo);
	cur_u32le(c, &hi);
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

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
