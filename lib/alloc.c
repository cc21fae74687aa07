// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Allocation wrappers with fault injection: VOUCH_TEST_FAIL_ALLOC=N makes the Nth library
 * allocation (counting from 1) fail, so tests can walk every failure path.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "internal.h"

static atomic_long alloc_count;
static long fail_at = -1; /* -1: not read yet, 0: off */

bool mem_fail_injected(void)
{
	long n;

	if (fail_at < 0) {
		const char *e = getenv("VOUCH_TEST_FAIL_ALLOC");
		uint64_t v = 0;

		fail_at = (e && parse_u64(e, &v) == 0 && v <= (uint64_t)LONG_MAX) ? (long)v : 0;
	}
	if (fail_at == 0)
		return false;
	n = atomic_fetch_add(&alloc_count, 1) + 1;
	return n == fail_at;
}

void mem_fail_at(long n)
{
	fail_at = n;
	atomic_store(&alloc_count, 0);
}

long mem_alloc_count(void)
{
	return atomic_load(&alloc_count);
}

void *mem_alloc(size_t n)
{
	if (mem_fail_injected())
		return NULL;
	return malloc(n ? n : 1);
}

void *mem_zalloc(size_t n)
{
	if (mem_fail_injected())
		return NULL;
	return calloc(1, n ? n : 1);
}

void *mem_realloc(void *p, size_t n)
{
	if (mem_fail_injected())
		return NULL;
	return realloc(p, n ? n : 1);
}

void *mem_reallocarray(void *p, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		return NULL;
	return mem_realloc(p, nmemb * size);
}

int mem_grow(void *pp, size_t *cap, size_t need, size_t size, size_t initial)
{
	void **p = pp;
	size_t n;
	void *q;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap : initial;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return -ENOMEM;
		n *= 2;
	}
	q = mem_reallocarray(*p, n, size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

char *mem_strdup(const char *s)
{
	return mem_dup(s, strlen(s) + 1);
}

void *mem_dup(const void *p, size_t n)
{
	void *q = mem_alloc(n);

	if (q && n)
		memcpy(q, p, n);
	return q;
}
