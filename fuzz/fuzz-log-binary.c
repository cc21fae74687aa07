// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz the binary and kexec measurement-list parsers (either byte order) and everything
 * that consumes their entries: replay, the ascii writer and the byte-order converter.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdint.h>
#include <stdlib.h>

#include <vouch/vouch.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(vouch_ctx *ctx, const uint8_t *data, size_t size, int format, int order)
{
	struct vouch_log_reader_options o = VOUCH_LOG_READER_OPTIONS_INIT;
	struct vouch_log_writer_options wa = VOUCH_LOG_WRITER_OPTIONS_INIT;
	struct vouch_log_writer_options wb = VOUCH_LOG_WRITER_OPTIONS_INIT;
	int algos[2] = { VOUCH_HASH_SHA1, VOUCH_HASH_SHA256 };
	vouch_log_reader *r = NULL;
	vouch_log_writer *a = NULL, *b = NULL;
	vouch_log_replay *rp = NULL;
	struct vouch_log_entry e;
	const uint8_t *out;
	size_t n = 0;

	o.format = format;
	o.order = order;
	o.max_entries = 4096;
	wa.format = VOUCH_LOG_FORMAT_ASCII;
	wb.order = order == VOUCH_LOG_ORDER_BE ? VOUCH_LOG_ORDER_LE : VOUCH_LOG_ORDER_BE;
	if (vouch_log_reader_new(ctx, data, size, &o, &r) < 0)
		return;
	if (vouch_log_writer_new(ctx, &wa, &a) < 0 || vouch_log_writer_new(ctx, &wb, &b) < 0 ||
	    vouch_log_replay_new(ctx, algos, NULL, 2, &rp) < 0)
		goto out;
	while (vouch_log_next(r, &e) > 0) {
		struct vouch_digest d;
		char name[64];

		vouch_log_replay_add(rp, &e);
		vouch_log_writer_add(a, &e);
		vouch_log_writer_add(b, &e);
		vouch_log_entry_digest(&e, &d, NULL);
		vouch_log_entry_name(&e, name, sizeof(name));
	}
	vouch_log_writer_get(a, &out, &n);
	vouch_log_writer_get(b, &out, &n);
out:
	vouch_log_replay_free(rp);
	vouch_log_writer_free(a);
	vouch_log_writer_free(b);
	vouch_log_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vouch_ctx *ctx = NULL;

	if (vouch_ctx_new(&ctx) < 0)
		return 0;
	run(ctx, data, size, VOUCH_LOG_FORMAT_AUTO, VOUCH_LOG_ORDER_AUTO);
	run(ctx, data, size, VOUCH_LOG_FORMAT_BINARY, VOUCH_LOG_ORDER_BE);
	run(ctx, data, size, VOUCH_LOG_FORMAT_KEXEC, VOUCH_LOG_ORDER_AUTO);
	vouch_ctx_free(ctx);
	return 0;
}
