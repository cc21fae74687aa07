/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * JSON documents read from untrusted files (lib/json.c).
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_JSON_INTERNAL_H
#define VOUCH_LIB_JSON_INTERNAL_H

#include <stddef.h>

#include <json-c/json.h>

/*
 * One whole JSON object of at most @max bytes and @depth levels: only whitespace may follow
 * it.  Returns a new reference, or NULL (malformed, too large, not an object, no memory).
 */
json_object *json_parse_object(const char *json, size_t len, size_t max, int depth);

#endif
