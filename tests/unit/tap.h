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

/* Known values of tests/vectors/ima/file.txt: its fs-verity sha256 digest, and its §13.5 sigv3
 * (over the fs-verity file id) by ima/fmt-rsa.key, key id 3d0b8968, as hex. */
#define IMA_FILE_VERITY_HEX "5701372e3bf270c88bc63396adac4cd7e21dec8e8d5e42500006d23bb0bdfb5e"
#define IMA_FILE_SIGV3_HEX                                                                         \
	"060304" "3d0b8968" "0100"                                                                 \
	"121e574e9642356d844196e4d9722559dbc644c941164012d275d3c38d4dc50dac727e0f6ae5c2e4"         \
	"6554ff6798932c79f3313e3844da42bbf8a53ec81b83f5286cb5c4e0490e7a7fc3945e895bd8cb0b"         \
	"75d6d1235468f6b87cd82e9c69abd46fb16855ffb657942a86dd1b006d5537bc5744890c380bbf3d"         \
	"9b2defc51308b4926caee266c14fe16cd09dac5fc1b9d9284dc85e0b831ffc490f3378d1eaa074db"         \
	"f9a2d8bf3f77198a8e46750da23123a74cd87203237edbbd062db599d1ebe7431ca01d06f024b3a5"         \
	"99e369c1eaaae573959f1f7708eb62727da494ca0c79ee157e1f3c566a18857d28e3bd779d4ac4a4"         \
	"3edbc0635db8e3137466c9eff5257209"

#ifdef VOUCH_LIB_INTERNAL_H
/* A test's main() on one library context: *ctx made, the @n @tests run in order, *ctx freed;
 * the plan and exit code of tap_done(), or 1 without a context. */
static inline int tap_run_ctx(vouch_ctx **ctx, void (*const tests[])(void), size_t n)
{
	if (vouch_ctx_new(ctx) < 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		tests[i]();
	vouch_ctx_free(*ctx);
	*ctx = NULL;
	return tap_done();
}

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
