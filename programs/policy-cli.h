/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the policy, load and simulate commands.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_PROGRAMS_POLICY_CLI_H
#define VOUCH_PROGRAMS_POLICY_CLI_H

#include "cli.h"

/* Read a whole (small) file, NUL-terminated; "-" is stdin.  Returns 0 or -errno. */
int cli_read_small_file(const char *path, size_t max, char **ret_buf, size_t *ret_len);
/* The same from an open descriptor, from its current offset. */
int cli_read_fd_all(int fd, size_t max, char **ret_buf, size_t *ret_len);
/* Load FILE or "builtin:NAMES"; prints errors; returns 0 or an exit code. */
int cli_load_policy(vouch_ctx *ctx, const char *cmd, const char *spec, uint32_t flags,
		    vouch_policy **ret);

#endif
