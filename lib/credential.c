// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Credential protection (Trusted Platform Module Library Part 1 section 24): the verifier's
 * half of TPM2_MakeCredential in software, the file format tpm2-tools uses for it, and the
 * enrollment checks of the AK's attributes and of the EK certificate.  The agent's half,
 * TPM2_ActivateCredential, is in tpm.c.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "credential-internal.h"
#include "cursor.h"
#include "internal.h"
#include "openssl-internal.h"
#include "quote-internal.h"

#include <vouch/credential.h>

#define TPM_ALG_AES 0x0006
#define TPM_ALG_CFB 0x0043
#define TPMA_OBJECT_FIXEDTPM 0x00000002U
#define TPMA_OBJECT_FIXEDPARENT 0x00000010U
#define TPMA_OBJECT_SENSITIVEDATAORIGIN 0x00000020U
#define CREDENTIAL_MAGIC 0xbadcc0deU
#define CREDENTIAL_VERSION 1
#define CREDENTIAL_FILE_MAX 4096

/* one HMAC (EVP_MAC) over a list of parts */
static int hmac_parts(vouch_ctx *ctx, int algo, const uint8_t *key, size_t key_len,
		      const uint8_t *const *parts, const size_t *lens, size_t n, uint8_t *out)
{
	_cleanup_(EVP_MAC_freep) EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	_cleanup_(EVP_MAC_CTX_freep) EVP_MAC_CTX *mctx = NULL;
	const struct vouch_hash_info *hi = vouch_hash_info(algo);
	OSSL_PARAM params[2];
	size_t out_len;

	if (!hi)
		return ctx_err(ctx, -EINVAL, "unknown hash");
	mctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	if (!mctx)
		return ctx_err_ssl(ctx, -ENOMEM, "cannot set up HMAC");
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)hi->name, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(mctx, key, key_len, params))
		return ctx_err_ssl(ctx, -EIO, "HMAC-%s init failed", hi->name);
	for (size_t i = 0; i < n; i++)
		if (lens[i] && !EVP_MAC_update(mctx, parts[i], lens[i]))
			return ctx_err_ssl(ctx, -EIO, "HMAC failed");
	if (!EVP_MAC_final(mctx, out, &out_len, hi->size) || out_len != hi->size)
		return ctx_err_ssl(ctx, -EIO, "HMAC failed");
	return 0;
}

int credential_kdfa(vouch_ctx *ctx, int algo, const uint8_t *key, size_t key_len,
		    const char *label, const uint8_t *context_u, size_t u_len,
		    const uint8_t *context_v, size_t v_len, uint32_t bits, uint8_t *out)
{
	const struct vouch_hash_info *hi = vouch_hash_info(algo);
	uint8_t counter[4], lbits[4], block[VOUCH_HASH_MAX_SIZE];
	size_t want = bits / 8, done = 0;
	int r = 0;

	if (!hi || !bits || bits % 8)
		return ctx_err(ctx, -EINVAL, "invalid KDFa parameters");
	put_be32(lbits, bits);
	/* the label's terminating NUL is part of the input (Part 1 section 11.4.10.2) */
	for (uint32_t i = 1; done < want && r == 0; i++) {
		const uint8_t *parts[] = { counter, (const uint8_t *)label, context_u, context_v,
					   lbits };
		size_t lens[] = { 4, strlen(label) + 1, u_len, v_len, 4 };
		size_t take = want - done < hi->size ? want - done : hi->size;

		put_be32(counter, i);
		r = hmac_parts(ctx, algo, key, key_len, parts, lens, ARRAY_SIZE(parts), block);
		if (r == 0)
			memcpy(out + done, block, take);
		done += take;
	}
	OPENSSL_cleanse(block, sizeof(block));
	return r;
}

/* the EK as an OpenSSL key with the parameters its public area declares */
struct ek_info {
	vouch_ak *ak;
	vouch_cert *cert;
	EVP_PKEY *pkey; /* owned by ak or cert */
	int name_algo;
	unsigned sym_bits;
};

static void ek_info_done(struct ek_info *ek)
{
	vouch_ak_free(ek->ak);
	vouch_cert_free(ek->cert);
}

static int ek_load(vouch_ctx *ctx, const uint8_t *buf, size_t len, struct ek_info *ret)
{
	struct ak_params p;
	int r;

	memset(ret, 0, sizeof(*ret));
	/* the TCG EK template (EK Credential Profile, RSA 2048 template L-1) when not given */
	ret->name_algo = VOUCH_HASH_SHA256;
	ret->sym_bits = 128;
	r = vouch_ak_load_mem(ctx, buf, len, &ret->ak);
	if (r == -EBADMSG && vouch_cert_load_mem(ctx, buf, len, &ret->cert) == 0) {
		ret->pkey = cert_pkey(ret->cert);
		r = 0;
	} else if (r == -EBADMSG) {
		return ctx_err(ctx, -EBADMSG, "the EK is not a TPM public area, public key or "
			       "certificate");
	}
	if (r < 0)
		return r;
	if (ret->ak) {
		ak_get_params(ret->ak, &p);
		ret->pkey = p.pkey;
		if (p.type) {
			/* an EK is a storage key: restricted decrypt (Part 1 section 24.1) */
			struct vouch_ak_info info;

			vouch_ak_get_info(ret->ak, &info);
			if ((info.attributes & (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT |
						TPMA_OBJECT_SIGN)) !=
			    (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT))
				return ctx_err(ctx, -EOPNOTSUPP, "the EK is not a restricted "
					       "decryption key (attributes 0x%08x)", info.attributes);
			if (p.sym_alg != TPM_ALG_AES || p.sym_mode != TPM_ALG_CFB ||
			    (p.sym_bits != 128 && p.sym_bits != 256))
				return ctx_err(ctx, -EOPNOTSUPP, "the EK's symmetric algorithm is not "
					       "AES-128/256-CFB");
			ret->name_algo = vouch_hash_by_tpm_alg(p.name_alg);
			ret->sym_bits = p.sym_bits;
		}
	}
	if (EVP_PKEY_get_base_id(ret->pkey) == EVP_PKEY_EC) {
		char group[32] = "";

		EVP_PKEY_get_utf8_string_param(ret->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
					       sizeof(group), NULL);
		if (strcmp(group, "prime256v1") && strcmp(group, "secp384r1"))
			return ctx_err(ctx, -EOPNOTSUPP, "EC endorsement keys must be NIST P-256 or "
				       "P-384");
	} else if (EVP_PKEY_get_base_id(ret->pkey) != EVP_PKEY_RSA) {
		return ctx_err(ctx, -EOPNOTSUPP, "the EK is neither RSA nor EC");
	}
	return 0;
}

/* TPM2B_ENCRYPTED_SECRET: RSA-OAEP of the seed with the nameAlg, label "IDENTITY\0" */
static int seal_seed_rsa(vouch_ctx *ctx, const struct ek_info *ek, const uint8_t *seed,
			 size_t seed_len, uint8_t **ret, size_t *ret_len)
{
	_cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, ek->pkey,
										       NULL);
	const struct vouch_hash_info *hi = vouch_hash_info(ek->name_algo);
	_cleanup_free_ uint8_t *out = NULL;
	unsigned char *label;
	size_t ct_len = 0;

	if (!pctx || EVP_PKEY_encrypt_init(pctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md_name(pctx, hi->name, NULL) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, hi->name, NULL) <= 0)
		return ctx_err_ssl(ctx, -EIO, "cannot set up RSA-OAEP for the EK");
	label = OPENSSL_memdup("IDENTITY", sizeof("IDENTITY"));
	if (!label)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	if (EVP_PKEY_CTX_set0_rsa_oaep_label(pctx, label, sizeof("IDENTITY")) <= 0) {
		OPENSSL_free(label);
		return ctx_err_ssl(ctx, -EIO, "cannot set the OAEP label");
	}
	if (EVP_PKEY_encrypt(pctx, NULL, &ct_len, seed, seed_len) <= 0 || ct_len > 0xffff - 2)
		return ctx_err_ssl(ctx, -EIO, "RSA-OAEP encryption to the EK failed");
	out = mem_alloc(2 + ct_len);
	if (!out)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	if (EVP_PKEY_encrypt(pctx, out + 2, &ct_len, seed, seed_len) <= 0)
		return ctx_err_ssl(ctx, -EIO, "RSA-OAEP encryption to the EK failed");
	put_be16(out, (uint16_t)ct_len);
	*ret_len = 2 + ct_len;
	*ret = TAKE_PTR(out);
	return 0;
}

/* an EC key's public point as x and y (fixed width) from its uncompressed encoding */
static int ec_point_xy(vouch_ctx *ctx, EVP_PKEY *pkey, uint8_t *xy, size_t size, size_t *ret_fs)
{
	size_t len = 0;

	if (!EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, xy, size, &len) ||
	    len < 3 || len % 2 == 0 || xy[0] != 0x04)
		return ctx_err_ssl(ctx, -EIO, "cannot encode an EC point");
	memmove(xy, xy + 1, len - 1);
	*ret_fs = (len - 1) / 2;
	return 0;
}

/*
 * KDFe (Part 1 section 11.4.10.3): H([i]32 || Z || label || 0x00 || party_u || party_v),
 * counter mode over the hash itself (SP 800-56A concatenation KDF).
 */
static int kdfe(vouch_ctx *ctx, int algo, const uint8_t *z, size_t z_len, const char *label,
		const uint8_t *u, size_t u_len, const uint8_t *v, size_t v_len, size_t out_len,
		uint8_t *out)
{
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
	const struct vouch_hash_info *hi = vouch_hash_info(algo);
	uint8_t block[VOUCH_HASH_MAX_SIZE], counter[4];
	size_t done = 0;

	if (!md || !hi)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	for (uint32_t i = 1; done < out_len; i++) {
		size_t take = out_len - done < hi->size ? out_len - done : hi->size;

		put_be32(counter, i);
		if (!EVP_DigestInit_ex(md, ssl_md(ctx, algo), NULL) ||
		    !EVP_DigestUpdate(md, counter, 4) || !EVP_DigestUpdate(md, z, z_len) ||
		    !EVP_DigestUpdate(md, label, strlen(label) + 1) ||
		    !EVP_DigestUpdate(md, u, u_len) || !EVP_DigestUpdate(md, v, v_len) ||
		    !EVP_DigestFinal_ex(md, block, NULL))
			return ctx_err_ssl(ctx, -EIO, "KDFe failed");
		memcpy(out + done, block, take);
		done += take;
	}
	OPENSSL_cleanse(block, sizeof(block));
	return 0;
}

/*
 * An ECC EK: the seed comes from ECDH with an ephemeral key (Part 1 section 24.3 via
 * C.6.1); TPM2B_ENCRYPTED_SECRET carries the ephemeral point as a TPMS_ECC_POINT.
 */
static int seed_ecc(vouch_ctx *ctx, const struct ek_info *ek, uint8_t *seed, size_t seed_len,
		    uint8_t **ret, size_t *ret_len)
{
	_cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *gctx = EVP_PKEY_CTX_new_from_pkey(NULL, ek->pkey,
										       NULL);
	_cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *dctx = NULL;
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *eph = NULL;
	uint8_t z[72], eph_xy[2 * 72 + 1], ek_xy[2 * 72 + 1], *out;
	size_t z_len = sizeof(z), fs, ek_fs;
	int r;

	/* a key on the EK's curve: keygen from the EK's own domain parameters */
	if (!gctx || EVP_PKEY_keygen_init(gctx) <= 0 || EVP_PKEY_keygen(gctx, &eph) <= 0)
		return ctx_err_ssl(ctx, -EIO, "cannot make an ephemeral EC key");
	dctx = EVP_PKEY_CTX_new_from_pkey(NULL, eph, NULL);
	if (!dctx || EVP_PKEY_derive_init(dctx) <= 0 ||
	    EVP_PKEY_derive_set_peer(dctx, ek->pkey) <= 0 ||
	    EVP_PKEY_derive(dctx, z, &z_len) <= 0) {
		OPENSSL_cleanse(z, sizeof(z));
		return ctx_err_ssl(ctx, -EIO, "ECDH with the EK failed");
	}
	r = ec_point_xy(ctx, eph, eph_xy, sizeof(eph_xy), &fs);
	if (r == 0)
		r = ec_point_xy(ctx, ek->pkey, ek_xy, sizeof(ek_xy), &ek_fs);
	/* seed = KDFe(nameAlg, Z.x, "IDENTITY", ephemeral.x, EK.x, digest bits) */
	if (r == 0)
		r = kdfe(ctx, ek->name_algo, z, z_len, "IDENTITY", eph_xy, fs, ek_xy, ek_fs,
			 seed_len, seed);
	OPENSSL_cleanse(z, sizeof(z));
	if (r < 0)
		return r;
	out = mem_alloc(2 + 2 + fs + 2 + fs);
	if (!out)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	put_be16(out, (uint16_t)(2 + fs + 2 + fs));
	put_be16(out + 2, (uint16_t)fs);
	memcpy(out + 4, eph_xy, fs);
	put_be16(out + 4 + fs, (uint16_t)fs);
	memcpy(out + 6 + fs, eph_xy + fs, fs);
	*ret = out;
	*ret_len = 2 + 2 + fs + 2 + fs;
	return 0;
}

static int aes_cfb_encrypt(vouch_ctx *ctx, unsigned bits, const uint8_t *key, const uint8_t *in,
			   size_t len, uint8_t *out)
{
	_cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *cctx = EVP_CIPHER_CTX_new();
	static const uint8_t iv[16];
	int n1 = 0, n2 = 0;

	/* IV of zeros: the key is used once (Part 1 section 24.4) */
	if (!cctx ||
	    !EVP_EncryptInit_ex(cctx, bits == 256 ? EVP_aes_256_cfb128() : EVP_aes_128_cfb128(),
				NULL, key, iv) ||
	    !EVP_EncryptUpdate(cctx, out, &n1, in, (int)len) ||
	    !EVP_EncryptFinal_ex(cctx, out + n1, &n2) || (size_t)(n1 + n2) != len)
		return ctx_err_ssl(ctx, -EIO, "AES-CFB encryption failed");
	return 0;
}

VOUCH_EXPORT int vouch_credential_make(vouch_ctx *ctx, const uint8_t *ek_buf, size_t ek_len,
				       const uint8_t *name, size_t name_len,
				       const uint8_t *secret, size_t secret_len,
				       uint8_t **ret_blob, size_t *ret_blob_len,
				       uint8_t **ret_enc_secret, size_t *ret_enc_secret_len)
{
	uint8_t seed[VOUCH_HASH_MAX_SIZE], sym_key[32], hmac_key[VOUCH_HASH_MAX_SIZE];
	uint8_t plain[2 + VOUCH_HASH_MAX_SIZE], hmac[VOUCH_HASH_MAX_SIZE];
	_cleanup_free_ uint8_t *enc_secret = NULL;
	uint8_t *blob = NULL;
	const struct vouch_hash_info *hi, *name_hi;
	struct ek_info ek;
	size_t enc_secret_len = 0, blob_len = 0, enc_len, seed_len;
	int r;

	if (!ctx || !ek_buf || !name || !secret || !ret_blob || !ret_blob_len ||
	    !ret_enc_secret || !ret_enc_secret_len)
		return -EINVAL;
	name_hi = name_len >= 2 ? vouch_hash_info(vouch_hash_by_tpm_alg(get_be16(name))) : NULL;
	if (!name_hi || name_len != 2 + name_hi->size)
		return ctx_err(ctx, -EBADMSG, "the AK name is not nameAlg || digest");
	r = ek_load(ctx, ek_buf, ek_len, &ek);
	hi = r == 0 ? vouch_hash_info(ek.name_algo) : NULL;
	if (r == 0 && !hi)
		r = ctx_err(ctx, -EOPNOTSUPP, "the EK's nameAlg is not supported");
	/* the TPM unmarshals the secret as a TPM2B_DIGEST of the EK's nameAlg at most */
	if (r == 0 && (!secret_len || secret_len > hi->size))
		r = ctx_err(ctx, -EINVAL, "the secret must be 1 to %zu bytes", hi->size);
	if (r < 0)
		goto out;
	/* the seed is as long as the EK's nameAlg digest (Part 1 section 24.3 via 11.4.10.1) */
	seed_len = hi->size;
	if (EVP_PKEY_get_base_id(ek.pkey) == EVP_PKEY_EC) {
		r = seed_ecc(ctx, &ek, seed, seed_len, &enc_secret, &enc_secret_len);
	} else if (RAND_bytes(seed, (int)seed_len) != 1) {
		r = ctx_err_ssl(ctx, -EIO, "no randomness");
	} else {
		r = seal_seed_rsa(ctx, &ek, seed, seed_len, &enc_secret, &enc_secret_len);
	}
	/* symKey = KDFa(nameAlg, seed, "STORAGE", name, NULL, keyBits) (section 24.4) */
	if (r == 0)
		r = credential_kdfa(ctx, ek.name_algo, seed, seed_len, "STORAGE", name, name_len,
				    NULL, 0, ek.sym_bits, sym_key);
	/* HMACkey = KDFa(nameAlg, seed, "INTEGRITY", NULL, NULL, digest bits) (section 24.5) */
	if (r == 0)
		r = credential_kdfa(ctx, ek.name_algo, seed, seed_len, "INTEGRITY", NULL, 0, NULL,
				    0, (uint32_t)hi->size * 8, hmac_key);
	if (r < 0)
		goto out;
	/* encIdentity = CFB(symKey, TPM2B_DIGEST(secret)) */
	enc_len = 2 + secret_len;
	put_be16(plain, (uint16_t)secret_len);
	memcpy(plain + 2, secret, secret_len);
	blob_len = 2 + 2 + hi->size + enc_len;
	blob = mem_alloc(blob_len);
	if (!blob) {
		r = ctx_err(ctx, -ENOMEM, "out of memory");
		goto out;
	}
	r = aes_cfb_encrypt(ctx, ek.sym_bits, sym_key, plain, enc_len, blob + 4 + hi->size);
	if (r == 0) {
		/* outerHMAC = HMAC(HMACkey, encIdentity || name) */
		const uint8_t *parts[] = { blob + 4 + hi->size, name };
		size_t lens[] = { enc_len, name_len };

		r = hmac_parts(ctx, ek.name_algo, hmac_key, hi->size, parts, lens, 2, hmac);
	}
	if (r < 0)
		goto out;
	/* TPM2B_ID_OBJECT: size || TPM2B_DIGEST(outerHMAC) || encIdentity */
	put_be16(blob, (uint16_t)(blob_len - 2));
	put_be16(blob + 2, (uint16_t)hi->size);
	memcpy(blob + 4, hmac, hi->size);
	*ret_blob = TAKE_PTR(blob);
	*ret_blob_len = blob_len;
	*ret_enc_secret = TAKE_PTR(enc_secret);
	*ret_enc_secret_len = enc_secret_len;
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_cleanse(sym_key, sizeof(sym_key));
	OPENSSL_cleanse(hmac_key, sizeof(hmac_key));
	OPENSSL_cleanse(plain, sizeof(plain));
	free(blob);
	ek_info_done(&ek);
	return r;
}

/* a whole TPM2B: its size field covers exactly the rest */
static bool whole_tpm2b(const uint8_t *p, size_t len)
{
	return len >= 2 && get_be16(p) == len - 2;
}

VOUCH_EXPORT int vouch_credential_encode(vouch_ctx *ctx, const uint8_t *blob, size_t blob_len,
					 const uint8_t *enc_secret, size_t enc_secret_len,
					 uint8_t **ret_buf, size_t *ret_len)
{
	uint8_t *buf;

	if (!ctx || !blob || !enc_secret || !ret_buf || !ret_len)
		return -EINVAL;
	if (!whole_tpm2b(blob, blob_len) || !whole_tpm2b(enc_secret, enc_secret_len) ||
	    8 + blob_len + enc_secret_len > CREDENTIAL_FILE_MAX)
		return ctx_err(ctx, -EBADMSG, "not a TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET");
	buf = mem_alloc(8 + blob_len + enc_secret_len);
	if (!buf)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	put_be32(buf, CREDENTIAL_MAGIC);
	put_be32(buf + 4, CREDENTIAL_VERSION);
	memcpy(buf + 8, blob, blob_len);
	memcpy(buf + 8 + blob_len, enc_secret, enc_secret_len);
	*ret_buf = buf;
	*ret_len = 8 + blob_len + enc_secret_len;
	return 0;
}

VOUCH_EXPORT int vouch_credential_decode(vouch_ctx *ctx, const uint8_t *buf, size_t len,
					 const uint8_t **ret_blob, size_t *ret_blob_len,
					 const uint8_t **ret_enc_secret,
					 size_t *ret_enc_secret_len)
{
	const uint8_t *blob, *sec, *p;
	size_t blob_len, sec_len;
	uint32_t magic, version;
	struct cursor c;

	if (!ctx || (!buf && len) || !ret_blob || !ret_blob_len || !ret_enc_secret ||
	    !ret_enc_secret_len)
		return -EINVAL;
	cur_init(&c, buf, len);
	if (len > CREDENTIAL_FILE_MAX || cur_u32be(&c, &magic) < 0 ||
	    cur_u32be(&c, &version) < 0 || magic != CREDENTIAL_MAGIC ||
	    version != CREDENTIAL_VERSION)
		return ctx_err(ctx, -EBADMSG, "not a credential file (magic 0xbadcc0de, version 1)");
	p = buf + 8;
	if (cur_tpm2b(&c, &blob, &blob_len) < 0 || !blob_len)
		return ctx_err(ctx, -EBADMSG, "truncated credential blob");
	if (cur_tpm2b(&c, &sec, &sec_len) < 0 || !sec_len || cur_left(&c))
		return ctx_err(ctx, -EBADMSG, "truncated or overlong encrypted secret");
	*ret_blob = p;
	*ret_blob_len = 2 + blob_len;
	*ret_enc_secret = sec - 2;
	*ret_enc_secret_len = 2 + sec_len;
	return 0;
}

VOUCH_EXPORT int vouch_credential_check_ak(vouch_ctx *ctx, const vouch_ak *ak)
{
	const uint32_t need = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN | TPMA_OBJECT_FIXEDTPM |
			      TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN;
	struct vouch_ak_info info;

	if (!ctx || !ak || vouch_ak_get_info(ak, &info) < 0)
		return -EINVAL;
	if (!info.has_public_area || !info.name_len)
		return ctx_err(ctx, -EKEYREJECTED, "the AK has no TPM public area: its attributes "
			       "cannot be checked");
	if (info.attributes & TPMA_OBJECT_DECRYPT)
		return ctx_err(ctx, -EKEYREJECTED, "the AK can decrypt (attributes 0x%08x): an "
			       "attestation key must only sign", info.attributes);
	if ((info.attributes & need) != need)
		return ctx_err(ctx, -EKEYREJECTED, "the AK lacks%s%s%s%s%s (attributes 0x%08x)",
			       info.attributes & TPMA_OBJECT_RESTRICTED ? "" : " restricted",
			       info.attributes & TPMA_OBJECT_SIGN ? "" : " sign",
			       info.attributes & TPMA_OBJECT_FIXEDTPM ? "" : " fixedTPM",
			       info.attributes & TPMA_OBJECT_FIXEDPARENT ? "" : " fixedParent",
			       info.attributes & TPMA_OBJECT_SENSITIVEDATAORIGIN ?
				       "" : " sensitiveDataOrigin",
			       info.attributes);
	/* vouch_quote_verify() checks signatures of these schemes only */
	if (!((info.key_type == VOUCH_KEY_RSA &&
	       (info.scheme == TPM_ALG_RSASSA || info.scheme == TPM_ALG_RSAPSS)) ||
	      (info.key_type == VOUCH_KEY_EC && info.scheme == TPM_ALG_ECDSA)) ||
	    (info.scheme_hash != VOUCH_HASH_SHA256 && info.scheme_hash != VOUCH_HASH_SHA384 &&
	     info.scheme_hash != VOUCH_HASH_SHA512))
		return ctx_err(ctx, -EKEYREJECTED, "the AK's signing scheme 0x%04x is not RSASSA, "
			       "RSA-PSS or ECDSA with SHA-256/384/512", info.scheme);
	return 0;
}

VOUCH_EXPORT int vouch_credential_check_ek_cert(vouch_ctx *ctx, const vouch_cert *cert,
						const vouch_trust *cas, const uint8_t *ek_buf,
						size_t ek_len)
{
	_cleanup_(X509_STORE_freep) X509_STORE *store = NULL;
	_cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *sctx = NULL;
	const vouch_cert *ca;
	struct ek_info ek;
	size_t n = 0;
	int r, vr;

	if (!ctx || !cert || !cas || !ek_buf)
		return -EINVAL;
	store = X509_STORE_new();
	sctx = X509_STORE_CTX_new();
	if (!store || !sctx)
		return ctx_err_ssl(ctx, -ENOMEM, "out of memory");
	while (vouch_trust_get(cas, n, &ca, NULL) == 0) {
		if (!X509_STORE_add_cert(store, cert_x509(ca)))
			return ctx_err_ssl(ctx, -ENOMEM, "cannot add an EK CA certificate");
		n++;
	}
	if (!n)
		return ctx_err(ctx, -ENOKEY, "no EK CA certificate is configured");
	/*
	 * Every configured CA is a trust anchor, intermediates included (PARTIAL_CHAIN): a
	 * fleet pins the manufacturer CA that issues its EK certificates.  No purpose is set,
	 * since EK certificates carry no or TCG-specific extended key usage.
	 */
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	if (!X509_STORE_CTX_init(sctx, store, cert_x509(cert), NULL))
		return ctx_err_ssl(ctx, -ENOMEM, "cannot set up certificate verification");
	vr = X509_verify_cert(sctx);
	if (vr != 1) {
		int e = X509_STORE_CTX_get_error(sctx);

		ssl_clear_errors();
		return ctx_err(ctx, -EKEYREJECTED, "the EK certificate does not verify: %s",
			       X509_verify_cert_error_string(e));
	}
	r = ek_load(ctx, ek_buf, ek_len, &ek);
	if (r == 0 && EVP_PKEY_eq(ek.pkey, cert_pkey(cert)) != 1) {
		ssl_clear_errors();
		r = ctx_err(ctx, -EKEYREJECTED, "the EK certificate certifies another key than "
			    "the EK");
	}
	ek_info_done(&ek);
	return r;
}
