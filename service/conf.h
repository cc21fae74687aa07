/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The configuration files of vouchd and vouch-agent (--config FILE): one parser for both.
 *
 * Format: one "key = value" per line; '#' starts a comment line; blank lines are ignored;
 * whitespace around the key and the value is dropped.  A key is the long name of a
 * command-line option that takes a value; an option without a value (a switch) takes
 * "true" or "false".  An unknown key, a key given twice, a line without '=', an empty
 * value or a value the option refuses stop the program with exit code 2 and FILE:LINE.
 * Options given on the command line override the file's.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_SERVICE_CONF_H
#define VOUCH_SERVICE_CONF_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#define CONF_MAX_SIZE (64U << 10)
#define CONF_MAX_LINE 4096

/*
 * Called once per key, in file order: @index into the option table, @value the value
 * (NULL for a switch set to "true"; a switch set to "false" is not reported).  Returns 0,
 * or a negative errno after setting *@why to a short reason.
 */
typedef int (*conf_set_fn)(void *userdata, int index, const char *value, const char **why);

/*
 * conf_load() - read @path and hand each key to @set
 * @prog: the program's name for messages ("vouchd")
 * @opts: the getopt_long table; keys are its names, except those in @refused ("config",
 *        "help", "version": a file cannot name another file or print and exit)
 * @ret_buf: the file's text, which the values point into: free() it after the last use
 *
 * Prints "PROG: FILE:LINE: reason" to stderr and returns -EINVAL for a bad file, -errno
 * when it cannot be read.
 */
int conf_load(const char *prog, const char *path, const struct option *opts,
	      const char *const *refused, conf_set_fn set, void *userdata, char **ret_buf);

#endif
