/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the libcurl clients (vouch-agent, vouch-fleet, vouchd's pull mode) share: an answer
 * collected in memory up to a limit, and a JSON answer's string members.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCHD_CURL_CLIENT_H
#define VOUCHD_CURL_CLIENT_H

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/* an answer body, NUL-terminated; longer than @max bytes fails the transfer */
struct buf {
	char *data;
	size_t len, max;
};

/* CURLOPT_WRITEFUNCTION for a struct buf */
static inline size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t add = size * n;
	char *nb;

	if (b->len + add > b->max || !(nb = realloc(b->data, b->len + add + 1)))
		return 0;
	memcpy(nb + b->len, p, add);
	b->len += add;
	nb[b->len] = '\0';
	b->data = nb;
	return add;
}

/* the string member @k of @o, or NULL */
static inline const char *jstr(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

#endif /* VOUCHD_CURL_CLIENT_H */
