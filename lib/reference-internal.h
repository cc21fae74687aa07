/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vouch-reference document shared by lib/reference.c (building it) and lib/attest.c
 * (judging measurements with it).
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_REFERENCE_INTERNAL_H
#define VOUCH_LIB_REFERENCE_INTERNAL_H

#include <stddef.h>

#include <json-c/json.h>

#include <vouch/ctx.h>

#define REFERENCE_JSON_MAX ((size_t)256 << 20)

/*
 * Check that @root is a vouch-reference document, version 1 or 2 (or without a version: 1),
 * and when it carries an "id" that the id matches its content.  -EBADMSG with the reason
 * in the context, -ENOMEM.
 */
int reference_validate(vouch_ctx *ctx, json_object *root);

/*
 * Parse @json (@len bytes, at most @max) as strict JSON and reference_validate() it: the
 * document in @ret_root.  -EBADMSG with the reason in the context, -ENOMEM.
 */
int reference_parse_root(vouch_ctx *ctx, const char *json, size_t len, size_t max,
			 json_object **ret_root);

/*
 * The canonical JSON of @o (object keys in byte order, no whitespace), with the member
 * "id" of the top-level object left out when @skip_id.  A new NUL-terminated buffer, or NULL
 * (out of memory, or a number that is not an integer).
 */
char *reference_canonical(json_object *o, bool skip_id, size_t *ret_len);

#endif
