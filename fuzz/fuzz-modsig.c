// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz the appended-signature trailer and PKCS#7 parser and verifier: the input is a
 * whole signed file, and also a detached PKCS#7 over a fixed payload.  The trust store
 * holds the shared test certificates, so inputs derived from real signatures reach the
 * signer lookup and the signature checks.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdint.h>
#include <stdlib.h>

#include <vouch/vouch.h>

#include "modsig-certs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static vouch_ctx *ctx;
static vouch_trust *trust;

static int setup(void)
{
	vouch_cert *c = NULL;

	if (vouch_ctx_new(&ctx) < 0 || vouch_trust_new(ctx, &trust) < 0)
		return -1;
	if (vouch_cert_load_mem(ctx, rsa2048_der, rsa2048_der_len, &c) < 0)
		return -1;
	vouch_trust_add_cert(trust, c, "builtin");
	vouch_cert_free(c);
	if (vouch_cert_load_mem(ctx, ecdsa_p256_der, ecdsa_p256_der_len, &c) < 0)
		return -1;
	vouch_trust_add_cert(trust, c, "platform");
	vouch_cert_free(c);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t payload[] = "ELF-not-really-a-module\n";
	struct vouch_modsig_verify_options opts = VOUCH_MODSIG_VERIFY_OPTIONS_INIT;
	struct vouch_digest bl = { .algo = VOUCH_HASH_SHA256, .len = 32 };
	struct vouch_modsig_result res;
	struct vouch_modsig_info info;
	size_t plen, slen;

	if (!ctx && setup() < 0)
		abort();
	opts.blacklist = &bl;
	opts.n_blacklist = 1;
	opts.allowed_hashes = ~0U;
	if (vouch_modsig_find(ctx, data, size, &plen, &slen) == 0 && (plen > size || slen > size - plen))
		abort();
	if (vouch_modsig_parse(ctx, data, size, &info) == 0 &&
	    (info.payload_len + info.sig_len > size || info.signature_len > info.sig_len))
		abort();
	vouch_modsig_verify(ctx, trust, data, size, NULL, &res);
	vouch_modsig_verify(ctx, trust, data, size, &opts, &res);
	vouch_modsig_parse_pkcs7(ctx, data, size, &info);
	vouch_modsig_verify_detached(ctx, trust, payload, sizeof(payload) - 1, data, size, NULL, &res);
	return 0;
}
