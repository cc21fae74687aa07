/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scope-bound cleanup helpers shared by lib/ and programs/ (header only).
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_COMMON_CLEANUP_H
#define VOUCH_COMMON_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Take ownership of a pointer: return it and leave NULL behind. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p_ = (p);                                                           \
		(p) = NULL;                                                                        \
		_p_;                                                                               \
	})

#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd_ = (fd);                                                                   \
		(fd) = -1;                                                                         \
		_fd_;                                                                              \
	})

/* One line per type: defines typep(type **) calling func(*p) when non-NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(type, name, func)                                         \
	static inline void name(type *p)                                                           \
	{                                                                                          \
		if (*p)                                                                            \
			func(*p);                                                                  \
	}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* VOUCH_COMMON_CLEANUP_H */
