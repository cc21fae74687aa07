// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz the attestation inputs a verifier reads from files: reference values (and a lookup in
 * what was accepted) and the incremental state.
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
	static const char *names[] = { "/usr/bin/a", "/tmp/x", "a.log", "", "boot_aggregate" };
	struct vouch_attest_state *st = malloc(sizeof(*st));
	vouch_attest_reference *ref = NULL;
	static vouch_ctx *ctx; /* one for the run */

	if (!st || (!ctx && vouch_ctx_new(&ctx) < 0)) {
		free(st);
		return 0;
	}
	if (vouch_attest_reference_parse(ctx, (const char *)data, size, &ref) == 0) {
		struct vouch_digest d = { .algo = VOUCH_HASH_SHA256, .len = 32 };

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			(void)vouch_attest_reference_check(ref, names[i], &d);
		vouch_attest_reference_free(ref);
	}
	(void)vouch_attest_state_parse(ctx, (const char *)data, size, st);
	free(st);
	return 0;
}
