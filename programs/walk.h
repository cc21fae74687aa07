/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A parallel file walker for the per-file commands (ima hash/sign/verify/show, evm): collects
 * regular files (recursing with -r, never following symlinks), runs a callback on every core,
 * shows a progress bar on a terminal, prints results in argument order and a summary.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_PROGRAMS_WALK_H
#define VOUCH_PROGRAMS_WALK_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

enum walk_outcome {
	WALK_DONE = 0, /* signed, verified, hashed, shown */
	WALK_SKIPPED,
	WALK_FAILED,
};

/* What one callback run produced; strings are malloc'd and printed in order by the walker. */
struct walk_result {
	enum walk_outcome outcome;
	int exit_code;	   /* EXIT_* for a failure */
	char *out;	   /* stdout text (with its newline), or NULL */
	char *err;	   /* one diagnostic line without newline (prefixed "vouch: "), or NULL */
	json_object *json; /* an element of the --json array, or NULL */
};

/*
 * The file a callback works on: @fd is opened O_RDONLY|O_NOFOLLOW, a regular file and the
 * very inode that was listed; @dirfd is its directory (AT_FDCWD for a file named on the
 * command line) and @name its name there: files next to it (PATH.sig) are opened relative
 * to @dirfd, never by @path, which is only for messages.
 */
struct walk_file {
	const char *path;
	int fd;
	int dirfd;
	const char *name;
};

/*
 * Per-file callback, @ctx the worker's own library context.  Runs concurrently on several
 * threads: @shared must only be read.
 */
typedef void (*walk_fn)(void *shared, vouch_ctx *ctx, const struct walk_file *f,
			struct walk_result *res);

struct walk_options {
	const char *cmd;      /* "ima sign", for messages */
	const char *done_verb; /* "signed" */
	bool recursive;
	bool json;	      /* print the collected JSON array */
	const char *skip_suffix; /* skip files ending like this (".sig" with --sigfile) */
	unsigned threads;     /* 0: all online cores */
};

/* Run @fn on every file under @paths; returns the exit code (3 over 1 over 0). */
int walk_run(const struct walk_options *opts, char **paths, size_t n_paths, walk_fn fn,
	     void *shared);

/*
 * Test hook between the walk and the opens: when VOUCH_TEST_WALK_PAUSE names a FIFO, open it
 * for reading and wait for its end of file, so that a test can change the tree in between.
 */
void walk_test_pause(void);

/* printf into a new string (NULL on allocation failure). */
char *walk_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Record a failure with one stderr line "PATH: MESSAGE". */
void walk_fail(struct walk_result *res, int exit_code, const char *path, const char *msg);

/*
 * Open @rel below the directory @dfd with @flags, never through a symlink nor out of @dfd
 * (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, else one O_NOFOLLOW component at a time).
 * Returns the fd or a negative errno (-ELOOP for a symlink on the way).
 */
int walk_open_beneath(int dfd, const char *rel, int flags);

#endif /* VOUCH_PROGRAMS_WALK_H */
