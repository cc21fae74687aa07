// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz the key-format parsers: certificates (PEM/DER, bundles) and private keys.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdint.h>
#include <stdlib.h>

#include <vouch/vouch.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* one context for the whole run: its digest cache is not what is fuzzed */
	static vouch_ctx *ctx;
	vouch_cert *cert = NULL;
	vouch_key *key = NULL;

	if (!ctx && vouch_ctx_new(&ctx) < 0)
		return 0;
	if (vouch_cert_load_mem(ctx, data, size, &cert) == 0) {
		struct vouch_cert_info info;

		vouch_cert_get_info(cert, &info);
		vouch_cert_free(cert);
	}
	if (vouch_key_load_mem(ctx, data, size, NULL, NULL, &key) == 0)
		vouch_key_free(key);
	return 0;
}
