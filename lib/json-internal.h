/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * JSON documents read from untrusted files (lib/json.c).
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_JSON_INTERNAL_H
#define VOUCH_LIB_JSON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "cleanup.h"

/* _cleanup_(json_putp): the one cleanup helper for a json_object reference */
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(json_object *, json_putp, json_object_put)

/*
 * One whole JSON object of at most @max bytes and @depth nested objects and lists, read
 * strictly (RFC 8259): no comments, single quotes, trailing commas, leading zeros, NaN or
 * Infinity, raw control characters, \u0000 or invalid UTF-8 in strings; no integer outside
 * int64_t (json-c would clamp it); no key twice in one object (json-c keeps the last); only
 * whitespace after it.  On success *ret is a new reference; on -EBADMSG @err (of @err_size
 * bytes) says why and at which byte; -ENOMEM.
 */
int json_parse_object(const char *json, size_t len, size_t max, int depth, json_object **ret,
		      char *err, size_t err_size);

/* @v is an integer (not a double, string or bool) in [0, @max]: 0 and *ret, or -ERANGE/-EBADMSG */
int json_get_uint(json_object *v, uint64_t max, uint64_t *ret);

/*
 * Strict base64 (RFC 4648 §4): the alphabet only, no whitespace, length a multiple of 4,
 * '=' only as the final padding, unused bits zero.  -EBADMSG or 0 and a new buffer.
 */
int base64_decode_strict(const char *s, size_t n, uint8_t **ret, size_t *ret_len);

#endif
