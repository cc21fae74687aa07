// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * JSON documents read from untrusted files: a whole object, nothing but whitespace after it.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdint.h>

#include "json-internal.h"

json_object *json_parse_object(const char *json, size_t len, size_t max, int depth)
{
	struct json_tokener *tok;
	json_object *root;

	if (len > max || len > INT32_MAX)
		return NULL;
	tok = json_tokener_new_ex(depth);
	if (!tok)
		return NULL;
	root = json_tokener_parse_ex(tok, json, (int)len);
	if (root && json_tokener_get_parse_end(tok) < len)
		for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
			if (json[i] != ' ' && json[i] != '\n' && json[i] != '\t' && json[i] != '\r') {
				json_object_put(root);
				root = NULL;
				break;
			}
	json_tokener_free(tok);
	if (root && !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		root = NULL;
	}
	return root;
}
