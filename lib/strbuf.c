// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The library's one string builder (struct strbuf, lib/internal.h): a growable,
 * NUL-terminated buffer that allocates through mem_realloc (fault injection).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

int sb_reserve(struct strbuf *sb, size_t more)
{
	if (more > SIZE_MAX / 2 - sb->len ||
	    mem_grow(&sb->s, &sb->cap, sb->len + more + 1, 1, 256) < 0) {
		sb->oom = true;
		return -ENOMEM;
	}
	return 0;
}

int sb_add(struct strbuf *sb, const void *s, size_t n)
{
	int r = sb_reserve(sb, n);

	if (r < 0)
		return r;
	if (n)
		memcpy(sb->s + sb->len, s, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
	return 0;
}

int sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	r = sb_reserve(sb, (size_t)n);
	if (r < 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
	return 0;
}

void sb_free(struct strbuf *sb)
{
	free(sb->s);
	sb->s = NULL;
	sb->len = sb->cap = 0;
	sb->oom = false;
}
