/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small TAP producer for the unit tests (meson test protocol: 'tap').
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_TESTS_TAP_H
#define VOUCH_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count, tap_failed;

__attribute__((format(printf, 4, 5))) static inline int tap_ok(int cond, const char *file, int line,
							       const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
/* r must be 0 (or >= 0) */
#define ok_ret(expr, ...)                                                                          \
	({                                                                                         \
		int _r = (expr);                                                                   \
		if (!tap_ok(_r >= 0, __FILE__, __LINE__, __VA_ARGS__))                             \
			printf("#   %s returned %d (%s)\n", #expr, _r, strerror(_r < 0 ? -_r : _r));  \
		_r;                                                                                \
	})
/* expr must return exactly err */
#define ok_err(expr, err, ...)                                                                     \
	({                                                                                         \
		int _r = (expr);                                                                   \
		if (!tap_ok(_r == (err), __FILE__, __LINE__, __VA_ARGS__))                         \
			printf("#   %s returned %d, expected %d\n", #expr, _r, (int)(err));        \
		_r;                                                                                \
	})
#define ok_streq(a, b, ...)                                                                        \
	({                                                                                         \
		const char *_a = (a), *_b = (b);                                                   \
		int _c = _a && _b && !strcmp(_a, _b);                                              \
		if (!tap_ok(_c, __FILE__, __LINE__, __VA_ARGS__))                                  \
			printf("#   got '%s'\n#   expected '%s'\n", _a ? _a : "(null)",            \
			       _b ? _b : "(null)");                                                \
		_c;                                                                                \
	})
#define ok_memeq(a, b, n, ...) ok(memcmp((a), (b), (n)) == 0, __VA_ARGS__)

static inline void tap_skip(const char *why)
{
	tap_count++;
	printf("ok %d # SKIP %s\n", tap_count, why);
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

/* DIR/NAME in one of 16 buffers used in turn: valid until 15 more calls */
static inline const char *tap_path(const char *dir, const char *name)
{
	static char buf[16][4096];
	static int i;

	i = (i + 1) % 16;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

/* Path of a file in tests/vectors (VOUCH_VECTORS set by meson). */
static inline const char *vec(const char *rel)
{
	const char *base = getenv("VOUCH_VECTORS");

	return tap_path(base ? base : "tests/vectors", rel);
}

/* Path of a file in tests/vectors (VOUCH_TEST_VECTORS set by meson). */
static inline const char *tvec(const char *rel)
{
	const char *base = getenv("VOUCH_TEST_VECTORS");

	return tap_path(base ? base : "tests/vectors", rel);
}

#ifdef VOUCH_LIB_INTERNAL_H
/* The file at @path (at most @max bytes), or NULL after a '#' line that says why. */
static inline uint8_t *tap_slurp(vouch_ctx *ctx, const char *path, size_t max, size_t *len)
{
	uint8_t *buf = NULL;

	if (read_file_all(ctx, path, max, &buf, len) < 0) {
		printf("# cannot read %s: %s\n", path, vouch_ctx_last_error(ctx));
		return NULL;
	}
	return buf;
}
#endif

#endif /* VOUCH_TESTS_TAP_H */
