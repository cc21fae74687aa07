// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Credential protection without a TPM: KDFa against known answers (Python's hmac module)
 * and against OpenSSL's independent KBKDF; MakeCredential's output structure; the
 * tpm2-tools file format; the AK attribute check on real public areas (tests/vectors/tpm2).
 * Activation against swtpm and tpm2-tools is tests/integration/test-credential.sh.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "credential-internal.h"
#include "internal.h"
#include "tap.h"

#include <vouch/credential.h>

static vouch_ctx *ctx;

/* a vector's bytes, NULL (and the test fails on it) when unreadable */
static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *buf = NULL;

	return read_file_all(ctx, path, 1 << 20, &buf, len) < 0 ? NULL : buf;
}

static size_t unhex(const char *hex, uint8_t *out, size_t size)
{
	size_t n = 0;

	return hex_decode(hex, strlen(hex), out, size, &n) < 0 ? 0 : n;
}

/* KDFa = SP 800-108 counter mode with HMAC, 32-bit counter and length, 0x00 separator */
static int kbkdf(const char *md, const uint8_t *key, size_t key_len, const char *label,
		 const uint8_t *ctx_in, size_t ctx_len, uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "KBKDF", NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM p[7], *q = p;
	int ok;

	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, (char *)"HMAC", 0);
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, key_len);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)label,
						 strlen(label));
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)ctx_in, ctx_len);
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, (char *)"counter", 0);
	*q = OSSL_PARAM_construct_end();
	ok = kctx && EVP_KDF_derive(kctx, out, out_len, p) == 1;
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return ok ? 0 : -1;
}

static void test_kdfa(void)
{
	static const struct {
		int algo;
		size_t key_len;
		const char *label;
		bool with_name;
		uint32_t bits;
		const char *want;
	} kat[] = {
		{ VOUCH_HASH_SHA256, 32, "STORAGE", true, 128, "b91888b6a1ff89e4a7e93e3b502fc6b4" },
		{ VOUCH_HASH_SHA256, 32, "INTEGRITY", false, 256,
		  "bacf689f634ece301e1f1b15b072d9c87db6a69585db42b1a0cb8f73ebe2692e" },
		/* more than one HMAC block, a partial last block */
		{ VOUCH_HASH_SHA256, 32, "IDENTITY", true, 520,
		  "19dfa9fef026571db31aecebb5e0c1f4af640ca65b6646a8686a228316c04a26403f5a6b38162d"
		  "d8cf2a9f38504f7c6dad0cecefc837786739de774ec496c5028c" },
		{ VOUCH_HASH_SHA1, 20, "STORAGE", false, 128, "b840d4706d8d33c918011d70237caaa5" },
	};
	uint8_t key[32], name[34], want[80], got[80], ref[80];

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	/* name = 0x000b || SHA-256("vouch ak") */
	unhex("000b6ff3042cce6020556fea4b84dbe76d766d150afcf9ed1205ad0d3a34f8675771", name,
	      sizeof(name));
	for (size_t i = 0; i < ARRAY_SIZE(kat); i++) {
		size_t n = unhex(kat[i].want, want, sizeof(want));

		memset(got, 0, sizeof(got));
		ok_ret(credential_kdfa(ctx, kat[i].algo, key, kat[i].key_len, kat[i].label,
				       kat[i].with_name ? name : NULL, kat[i].with_name ? 34 : 0,
				       NULL, 0, kat[i].bits, got),
		       "KDFa %s %u bits runs", kat[i].label, kat[i].bits);
		ok(n == kat[i].bits / 8 && !memcmp(got, want, n), "KDFa %s %u bits = known answer",
		   kat[i].label, kat[i].bits);
	}
	/* random inputs: KDFa == OpenSSL's KBKDF (a different implementation of the same PRF) */
	for (int round = 0; round < 8; round++) {
		uint8_t k[32], u[40];
		uint32_t bits = 8 * (1 + (uint32_t)round * 9);

		RAND_bytes(k, sizeof(k));
		RAND_bytes(u, sizeof(u));
		credential_kdfa(ctx, VOUCH_HASH_SHA256, k, sizeof(k), "STORAGE", u, 20, u + 20, 20,
				bits, got);
		ok(kbkdf("SHA256", k, sizeof(k), "STORAGE", u, sizeof(u), ref, bits / 8) == 0 &&
			   !memcmp(got, ref, bits / 8),
		   "KDFa == OpenSSL KBKDF counter mode, %u bits", bits);
	}
	ok_err(credential_kdfa(ctx, VOUCH_HASH_SHA256, key, 32, "X", NULL, 0, NULL, 0, 12, got),
	       -EINVAL, "KDFa refuses a bit count that is not whole bytes");
}

static void test_make(void)
{
	_cleanup_free_ uint8_t *ek = NULL, *ekpem = NULL, *akpub = NULL;
	uint8_t *blob = NULL, *enc = NULL, *file = NULL, name[34];
	size_t ek_len = 0, pem_len = 0, ak_len = 0, blob_len, enc_len, file_len;
	const uint8_t *b, *e;
	size_t bl, el;
	const uint8_t secret[] = "enrollment secret";

	ek = slurp(vec("tpm2/ek.pub"), &ek_len);
	ekpem = slurp(vec("tpm2/ek.pem"), &pem_len);
	akpub = slurp(vec("tpm2/ak-rsa.tpm2b_public"), &ak_len);
	unhex("000b6ff3042cce6020556fea4b84dbe76d766d150afcf9ed1205ad0d3a34f8675771", name,
	      sizeof(name));
	if (!ek || !ekpem || !akpub) {
		ok(0, "vectors readable");
		return;
	}
	if (ok_ret(vouch_credential_make(ctx, ek, ek_len, name, sizeof(name), secret,
					 sizeof(secret) - 1, &blob, &blob_len, &enc, &enc_len),
		   "make a credential to the swtpm EK (TPM2B_PUBLIC)") == 0) {
		/* TPM2B_ID_OBJECT: size || TPM2B_DIGEST(32-byte HMAC) || 2 + secret */
		ok(blob_len == 2 + 2 + 32 + 2 + sizeof(secret) - 1 &&
			   get_be16(blob) == blob_len - 2 && get_be16(blob + 2) == 32,
		   "credential blob is a TPM2B_ID_OBJECT with a SHA-256 HMAC");
		ok(enc_len == 2 + 256 && get_be16(enc) == 256,
		   "encrypted secret is a 2048-bit RSA-OAEP block");
		ok_ret(vouch_credential_encode(ctx, blob, blob_len, enc, enc_len, &file, &file_len),
		       "encode in tpm2-tools' format");
		ok(file && file_len == 8 + blob_len + enc_len && get_be32(file) == 0xbadcc0de &&
			   get_be32(file + 4) == 1,
		   "0xBADCC0DE, version 1");
		ok(file && vouch_credential_decode(ctx, file, file_len, &b, &bl, &e, &el) == 0 &&
			   bl == blob_len && !memcmp(b, blob, bl) && el == enc_len &&
			   !memcmp(e, enc, el),
		   "decode gives back both parts");
		ok_err(vouch_credential_decode(ctx, file, file_len - 1, &b, &bl, &e, &el), -EBADMSG,
		       "truncated file is malformed");
		if (file) {
			file[0] ^= 1;
			ok_err(vouch_credential_decode(ctx, file, file_len, &b, &bl, &e, &el),
			       -EBADMSG, "wrong magic is malformed");
		}
		vouch_free(file);
		vouch_free(blob);
		vouch_free(enc);
	}
	blob = enc = NULL;
	ok_ret(vouch_credential_make(ctx, ekpem, pem_len, name, sizeof(name), secret, 8, &blob,
				     &blob_len, &enc, &enc_len),
	       "make a credential to a PEM EK (TCG template assumed)");
	vouch_free(blob);
	vouch_free(enc);
	{
		_cleanup_free_ uint8_t *ecc = NULL;
		size_t ecc_len = 0;

		ecc = slurp(vec("tpm2/ek-ecc.pub"), &ecc_len);
		blob = enc = NULL;
		ok(ecc && vouch_credential_make(ctx, ecc, ecc_len, name, sizeof(name), secret, 8,
						&blob, &blob_len, &enc, &enc_len) == 0,
		   "make a credential to an ECC P-256 EK");
		/* TPM2B_ENCRYPTED_SECRET of a TPMS_ECC_POINT: 2 + (2 + 32) + (2 + 32) */
		ok(enc && enc_len == 70 && get_be16(enc) == 68 && get_be16(enc + 2) == 32 &&
			   get_be16(enc + 36) == 32,
		   "the ECC secret is the ephemeral P-256 point");
		vouch_free(blob);
		vouch_free(enc);
	}
	ok_err(vouch_credential_make(ctx, ek, ek_len, name, 33, secret, 8, &blob, &blob_len, &enc,
				     &enc_len),
	       -EBADMSG, "a name whose length does not fit its nameAlg is malformed");
	ok_err(vouch_credential_make(ctx, ek, ek_len, name, sizeof(name), secret, 0, &blob,
				     &blob_len, &enc, &enc_len),
	       -EINVAL, "an empty secret is refused");
	{
		uint8_t big[33] = { 0 };

		ok_err(vouch_credential_make(ctx, ek, ek_len, name, sizeof(name), big, sizeof(big),
					     &blob, &blob_len, &enc, &enc_len),
		       -EINVAL, "a secret longer than the nameAlg digest is refused");
	}
	ok_err(vouch_credential_make(ctx, akpub, ak_len, name, sizeof(name), secret, 8, &blob,
				     &blob_len, &enc, &enc_len),
	       -EOPNOTSUPP, "a signing key is not an EK");
	ok_err(vouch_credential_make(ctx, (const uint8_t *)"junk", 4, name, sizeof(name), secret,
				     8, &blob, &blob_len, &enc, &enc_len),
	       -EBADMSG, "junk is not an EK");
}

static void test_check_ak(void)
{
	_cleanup_free_ uint8_t *ak = NULL, *ek = NULL, *akpem = NULL;
	size_t ak_len = 0, ek_len = 0, pem_len = 0;
	vouch_ak *k = NULL;

	ak = slurp(vec("tpm2/ak-rsa.tpm2b_public"), &ak_len);
	ek = slurp(vec("tpm2/ek.pub"), &ek_len);
	akpem = slurp(vec("tpm2/ak-rsa.pem"), &pem_len);
	if (!ak || !ek || !akpem || ak_len < 8) {
		ok(0, "vectors readable");
		return;
	}
	if (vouch_ak_load_mem(ctx, ak, ak_len, &k) == 0)
		ok_ret(vouch_credential_check_ak(ctx, k), "the swtpm AK (restricted signing) passes");
	vouch_ak_free(k), k = NULL;
	/* attributes are bytes 6..9 of the TPM2B_PUBLIC (size, type, nameAlg, TPMA_OBJECT) */
	ak[7] |= 0x02; /* TPMA_OBJECT_DECRYPT (bit 17) */
	if (vouch_ak_load_mem(ctx, ak, ak_len, &k) == 0)
		ok_err(vouch_credential_check_ak(ctx, k), -EKEYREJECTED, "an AK that decrypts fails");
	vouch_ak_free(k), k = NULL;
	ak[7] &= (uint8_t)~0x03; /* neither decrypt nor restricted (bit 16) */
	if (vouch_ak_load_mem(ctx, ak, ak_len, &k) == 0)
		ok_err(vouch_credential_check_ak(ctx, k), -EKEYREJECTED,
		       "an unrestricted AK fails");
	vouch_ak_free(k), k = NULL;
	ak[7] |= 0x01;
	ak[9] &= (uint8_t)~0x02; /* fixedTPM */
	if (vouch_ak_load_mem(ctx, ak, ak_len, &k) == 0)
		ok_err(vouch_credential_check_ak(ctx, k), -EKEYREJECTED,
		       "an AK without fixedTPM fails");
	vouch_ak_free(k), k = NULL;
	if (vouch_ak_load_mem(ctx, ek, ek_len, &k) == 0)
		ok_err(vouch_credential_check_ak(ctx, k), -EKEYREJECTED, "the EK is no AK");
	vouch_ak_free(k), k = NULL;
	if (vouch_ak_load_mem(ctx, akpem, pem_len, &k) == 0)
		ok_err(vouch_credential_check_ak(ctx, k), -EKEYREJECTED,
		       "a bare PEM key has no attributes to check");
	vouch_ak_free(k);
}

int main(void)
{
	static void (*const tests[])(void) = { test_kdfa, test_make, test_check_ak };

	return tap_run_ctx(&ctx, tests, ARRAY_SIZE(tests));
}
