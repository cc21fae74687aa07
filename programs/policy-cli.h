/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the policy, load and simulate commands.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_PROGRAMS_POLICY_CLI_H
#define VOUCH_PROGRAMS_POLICY_CLI_H

#include "cli.h"

/* Load FILE or "builtin:NAMES"; prints errors; returns 0 or an exit code. */
int cli_load_policy(vouch_ctx *ctx, const char *cmd, const char *spec, uint32_t flags,
		    vouch_policy **ret);

#endif
