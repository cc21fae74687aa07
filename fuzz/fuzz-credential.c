// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz what enrollment reads from the other side: the input as a credential file
 * (tpm2-tools' 0xBADCC0DE format, vouch_credential_decode()), as the EK given to
 * vouch_credential_make() (TPM2B_PUBLIC, TPMT_PUBLIC, PEM/DER key or certificate) and as an
 * AK checked by vouch_credential_check_ak().
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

#include <vouch/credential.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* nameAlg sha256 || 32 bytes */
	static const uint8_t name[34] = { 0x00, 0x0b, 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t secret[16] = "fuzzing secret";
	const uint8_t *blob, *enc;
	size_t blob_len, enc_len;
	static vouch_ctx *ctx; /* one for the run: its digest cache is not what is fuzzed */
	vouch_ak *ak = NULL;

	if (!ctx && vouch_ctx_new(&ctx) < 0)
		return 0;
	if (vouch_credential_decode(ctx, data, size, &blob, &blob_len, &enc, &enc_len) == 0) {
		uint8_t *again = NULL;
		size_t again_len;

		/* what decodes encodes back to the same bytes */
		if (vouch_credential_encode(ctx, blob, blob_len, enc, enc_len, &again, &again_len) ||
		    again_len != size || memcmp(again, data, size))
			abort();
		vouch_free(again);
	}
	{
		uint8_t *b = NULL, *e = NULL;

		if (vouch_credential_make(ctx, data, size, name, sizeof(name), secret,
					  sizeof(secret), &b, &blob_len, &e, &enc_len) == 0) {
			vouch_free(b);
			vouch_free(e);
		}
	}
	if (vouch_ak_load_mem(ctx, data, size, &ak) == 0) {
		vouch_credential_check_ak(ctx, ak);
		vouch_ak_free(ak);
	}
	return 0;
}
