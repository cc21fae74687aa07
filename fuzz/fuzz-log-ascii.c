// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz the ascii measurement-list parser: every line is rebuilt into binary template data,
 * written back as ascii and binary, and replayed.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vouch/vouch.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vouch_log_reader_options o = VOUCH_LOG_READER_OPTIONS_INIT;
	struct vouch_log_writer_options wa = VOUCH_LOG_WRITER_OPTIONS_INIT;
	struct vouch_log_writer_options wb = VOUCH_LOG_WRITER_OPTIONS_INIT;
	int algos[1] = { VOUCH_HASH_SHA256 };
	static vouch_ctx *ctx; /* one for the run: its digest cache is not what is fuzzed */
	vouch_log_reader *r = NULL;
	vouch_log_writer *a = NULL, *b = NULL;
	vouch_log_replay *rp = NULL;
	struct vouch_log_entry e;
	const uint8_t *out;
	size_t n = 0;
	int k;

	if (!ctx && vouch_ctx_new(&ctx) < 0)
		return 0;
	o.format = VOUCH_LOG_FORMAT_ASCII;
	o.max_entries = 4096;
	wa.format = VOUCH_LOG_FORMAT_ASCII;
	if (vouch_log_reader_new(ctx, data, size, &o, &r) < 0 ||
	    vouch_log_writer_new(ctx, &wa, &a) < 0 || vouch_log_writer_new(ctx, &wb, &b) < 0 ||
	    vouch_log_replay_new(ctx, algos, NULL, 1, &rp) < 0)
		goto out;
	while ((k = vouch_log_next(r, &e)) > 0) {
		vouch_log_replay_add(rp, &e);
		vouch_log_writer_add(b, &e);
		vouch_log_writer_add(a, &e);
	}
	/* a list that parses completely is written back byte for byte */
	if (k == 0 && vouch_log_writer_get(a, &out, &n) == 0 && (n != size || memcmp(out, data, n)))
		abort();
	vouch_log_writer_get(b, &out, &n);
out:
	vouch_log_replay_free(rp);
	vouch_log_writer_free(a);
	vouch_log_writer_free(b);
	vouch_log_reader_free(r);
	return 0;
}
