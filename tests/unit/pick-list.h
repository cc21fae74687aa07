/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test helper: lists made of entries picked from a real list (Debian 6.1's), each put into
 * a PCR of the test's choosing and optionally relabelled with another template name -- the
 * attacker's moves on a list (the PCR index and the template name are not covered by the
 * template digest) -- and the sha256 PCR values such a list replays to.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_TESTS_PICK_LIST_H
#define VOUCH_TESTS_PICK_LIST_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vouch/log.h"

struct pick {
	unsigned n;	  /* entry of the source list (1-based) */
	uint32_t pcr;	  /* the PCR the new list names */
	const char *tmpl; /* NULL: the entry's own template; else relabel (sig read as buf) */
};

/* A binary list of the picked entries; NULL on failure. */
static inline uint8_t *pick_list(vouch_ctx *c, const uint8_t *src, size_t src_len,
				 const struct pick *p, size_t np, size_t *ret_len)
{
	struct vouch_log_writer_options wo = VOUCH_LOG_WRITER_OPTIONS_INIT;
	vouch_log_writer *w = NULL;
	const uint8_t *out;
	uint8_t *copy = NULL;
	int k = vouch_log_writer_new(c, &wo, &w);

	for (size_t i = 0; k == 0 && i < np; i++) {
		vouch_log_reader *rd = NULL;
		struct vouch_log_entry e;

		k = vouch_log_reader_new(c, src, src_len, NULL, &rd);
		for (unsigned n = 0; k == 0 && n < p[i].n;)
			k = vouch_log_next(rd, &e) > 0 ? (n++, 0) : -ENOENT;
		if (k == 0 && p[i].tmpl) {
			struct vouch_log_field f[VOUCH_LOG_MAX_FIELDS];

			memcpy(f, e.fields, sizeof(f));
			for (size_t j = 0; j < e.n_fields; j++)
				if (f[j].id == VOUCH_LOG_FIELD_SIG && !strcmp(p[i].tmpl, "ima-buf"))
					f[j].id = VOUCH_LOG_FIELD_BUF;
			k = vouch_log_writer_append(w, p[i].pcr, p[i].tmpl, f, e.n_fields, false,
						    NULL);
		} else if (k == 0) {
			e.pcr = p[i].pcr;
			k = vouch_log_writer_add(w, &e);
		}
		vouch_log_reader_free(rd);
	}
	if (k == 0 && vouch_log_writer_get(w, &out, ret_len) == 0 && (copy = malloc(*ret_len)))
		memcpy(copy, out, *ret_len);
	vouch_log_writer_free(w);
	return copy;
}

/* PCR @pcr of bank @algo (hashed) after replaying @list (all zero before). */
static inline int pick_replay(vouch_ctx *c, const uint8_t *list, size_t len, int algo,
			      uint32_t pcr, uint8_t *out)
{
	vouch_log_replay *rp = NULL;
	vouch_log_reader *rd = NULL;
	struct vouch_log_entry e;
	struct vouch_digest d;
	int k = vouch_log_replay_new(c, &algo, NULL, 1, &rp);

	if (k == 0)
		k = vouch_log_reader_new(c, list, len, NULL, &rd);
	while (k == 0 && vouch_log_next(rd, &e) > 0)
		k = vouch_log_replay_add(rp, &e);
	if (k == 0)
		k = vouch_log_replay_get(rp, algo, pcr, &d);
	if (k == 0)
		memcpy(out, d.bytes, d.len);
	vouch_log_reader_free(rd);
	vouch_log_replay_free(rp);
	return k;
}

#endif
