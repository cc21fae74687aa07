// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz the evidence document parser, and write back what it accepted.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdint.h>
#include <stdlib.h>

#include <vouch/vouch.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vouch_evidence *ev = NULL;
	static vouch_ctx *ctx; /* one for the run: its digest cache is not what is fuzzed */

	if (!ctx && vouch_ctx_new(&ctx) < 0)
		return 0;
	if (vouch_evidence_parse(ctx, (const char *)data, size, &ev) == 0) {
		char *json = NULL;

		if (vouch_evidence_format(ctx, ev, &json) == 0)
			vouch_free(json);
		vouch_evidence_free(ev);
	}
	return 0;
}
