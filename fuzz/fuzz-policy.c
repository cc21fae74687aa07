// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz the IMA policy parser.  Invariants checked on every accepted input: the canonical
 * form parses again and prints identically, and matching a request built from the input
 * never fails.
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
	struct vouch_policy_parse_options o = VOUCH_POLICY_PARSE_OPTIONS_INIT;
	struct vouch_policy_request q = VOUCH_POLICY_REQUEST_INIT;
	struct vouch_policy_decision d;
	struct vouch_policy_diag e;
	static vouch_ctx *ctx; /* one for the run: its digest cache is not what is fuzzed */
	vouch_policy *p = NULL, *p2 = NULL;
	char *out = NULL, *out2 = NULL;

	if (!ctx && vouch_ctx_new(&ctx) < 0)
		return 0;
	/* the first byte picks the parse flags, as a kernel config would */
	if (size > 0)
		o.flags = data[0] & (VOUCH_POLICY_PARSE_BUILTIN | VOUCH_POLICY_PARSE_NO_MODSIG);
	if (vouch_policy_parse(ctx, (const char *)data, size, &o, &p, &e) == 0) {
		if (vouch_policy_format(p, &out) < 0)
			abort();
		if (vouch_policy_parse(ctx, out, strlen(out), &o, &p2, NULL) < 0)
			abort();
		if (vouch_policy_format(p2, &out2) < 0 || strcmp(out, out2) != 0)
			abort();
		for (int f = 0; f < 15; f++) {
			q.func = f;
			q.mask = size > 1 ? data[1] & 0xf : 4;
			q.uid = size > 2 ? data[2] : 0;
			q.fsmagic = size > 3 ? data[3] : 0;
			q.keyring = ".ima";
			q.label = "selinux";
			if (vouch_policy_match(p, &q, &d) < 0)
				abort();
		}
		for (size_t i = 0; i < vouch_policy_warning_count(p); i++) {
			struct vouch_policy_diag w;

			if (vouch_policy_get_warning(p, i, &w) < 0 || !w.message)
				abort();
		}
	}
	vouch_free(out);
	vouch_free(out2);
	vouch_policy_free(p);
	vouch_policy_free(p2);
	return 0;
}
