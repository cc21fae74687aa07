/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the ima and evm commands.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_PROGRAMS_IMA_CLI_H
#define VOUCH_PROGRAMS_IMA_CLI_H

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "walk.h"

const char *ima_type_name(int type);
/* The library's reason for @r, or the errno text when there is none. */
const char *ima_lib_reason(vouch_ctx *ctx, int r);
/* lower-case hex in a new string */
char *ima_hex(const uint8_t *b, size_t n);
/* Read the value from the xattr @xattr of the file, or from NAME.sig next to it (relative to
 * its directory fd); -ENODATA when absent. */
int ima_read_value(const struct walk_file *wf, const char *xattr, bool sigfile, uint8_t **ret,
		   size_t *ret_len, char *why, size_t why_size);
/* Write the value to the xattr @xattr of the file, or atomically to NAME.sig in its directory. */
int ima_write_value(const struct walk_file *wf, const char *xattr, bool sigfile,
		    const uint8_t *value, size_t len, char *why, size_t why_size);
json_object *ima_value_json(const struct vouch_xattr_value *v);
char *ima_value_text(const struct vouch_xattr_value *v);

#endif /* VOUCH_PROGRAMS_IMA_CLI_H */
