// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz the security.ima / security.evm value parsers and the verification paths behind them.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdint.h>
#include <stdlib.h>

#include <vouch/vouch.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t hmac_key[] = "0123456789abcdef0123456789abcdef";
	static const uint8_t ima[] = { 0x04, 0x04, 0x3f, 0x86, 0x56, 0x64 };
	vouch_ctx *ctx = NULL;
	vouch_trust *trust = NULL;
	struct vouch_xattr_value v;
	struct vouch_digest d = { .algo = VOUCH_HASH_SHA256, .len = 32 };
	struct vouch_ima_verify_options io = VOUCH_IMA_VERIFY_OPTIONS_INIT;
	struct vouch_evm_verify_options eo = VOUCH_EVM_VERIFY_OPTIONS_INIT;
	struct vouch_evm_xattr x = { "security.ima", ima, sizeof(ima) };
	struct vouch_evm_inputs in = VOUCH_EVM_INPUTS_INIT;

	if (vouch_ctx_new(&ctx) < 0)
		return 0;
	if (vouch_xattr_parse(ctx, data, size, &v) == 0 && v.digest_len) {
		/* pointers stay inside the input */
		volatile uint8_t sink = v.digest[v.digest_len - 1];
		(void)sink;
	}
	if (vouch_trust_new(ctx, &trust) == 0) {
		io.flags = VOUCH_IMA_VERIFY_ALLOW_DIGEST;
		if (size && data[0] == 0x01)
			d = (struct vouch_digest){ .algo = VOUCH_HASH_SHA1, .len = 20 };
		vouch_ima_verify_digest(ctx, trust, &io, data, size, &d, NULL);
		in.xattrs = &x;
		in.n_xattrs = 1;
		in.mode = 0100644;
		eo.hmac_key = hmac_key;
		eo.hmac_key_len = 32;
		vouch_evm_verify(ctx, trust, &eo, &in, data, size, NULL);
		vouch_trust_free(trust);
	}
	vouch_ctx_free(ctx);
	return 0;
}
