/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The quote module's internals: TPM 2.0 wire structures parsed from untrusted bytes
 * (quote-parse.c) and attestation keys (quote-ak.c), shared with quote verification
 * (quote.c), the TPM backend, the event log, credentials and the fuzz harnesses.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_QUOTE_INTERNAL_H
#define VOUCH_LIB_QUOTE_INTERNAL_H

#include "cursor.h"
#include "internal.h"

struct evp_pkey_st;

/* An attestation (or endorsement) key: quote-ak.c loads it, quote.c verifies with it. */
struct vouch_ak {
	struct evp_pkey_st *pkey;
	struct vouch_ak_info info;
	uint8_t *public_area; /* TPM2B_PUBLIC, when loaded from one */
	size_t public_len;
	int ec_nid;
	/* from a TPM public area: what credential.c needs of an EK (0 when not known) */
	uint16_t type, name_alg, sym_alg, sym_bits, sym_mode;
	/* SHA-256 of the PEM public key, hex: binds a state file to its AK (made at load) */
	char fingerprint[65];
};

/* The digest size of a PCR bank of hash algorithm @algo; 0 for an unknown algorithm. */
static inline size_t pcr_bank_size(int algo)
{
	const struct vouch_hash_info *hi = vouch_hash_info(algo);

	return hi ? hi->size : 0;
}

/* SHA-256 of the AK's PEM public key, lowercase hex (what a state file records) */
const char *ak_fingerprint(const vouch_ak *ak);

#define TPM_GENERATED_VALUE 0xff544347U
#define TPM_ST_ATTEST_QUOTE 0x8018
#define TPM_ALG_RSA 0x0001
#define TPM_ALG_HMAC 0x0005
#define TPM_ALG_NULL 0x0010
#define TPM_ALG_RSASSA 0x0014
#define TPM_ALG_RSAPSS 0x0016
#define TPM_ALG_ECDSA 0x0018
#define TPM_ALG_ECDAA 0x001a
#define TPM_ALG_SM2 0x001b
#define TPM_ALG_ECSCHNORR 0x001c
#define TPM_ALG_ECC 0x0023
#define TPM_ECC_NIST_P256 0x0003
#define TPM_ECC_NIST_P384 0x0004
#define TPM_ECC_NIST_P521 0x0005
#define TPMA_OBJECT_RESTRICTED 0x00010000U
#define TPMA_OBJECT_DECRYPT 0x00020000U
#define TPMA_OBJECT_SIGN 0x00040000U

struct tpms_attest {
	uint32_t magic;
	uint16_t type;
	const uint8_t *signer;
	size_t signer_len;
	const uint8_t *extra;
	size_t extra_len;
	uint64_t clock;
	uint32_t reset_count, restart_count;
	uint8_t safe;
	uint64_t firmware_version;
	/* only for TPM_ST_ATTEST_QUOTE */
	struct vouch_pcrs sel;
	const uint8_t *pcr_digest;
	size_t pcr_digest_len;
};

struct tpmt_signature {
	uint16_t sig_alg;
	uint16_t hash_alg; /* TPM_ALG_ID */
	const uint8_t *sig; /* RSA: the signature; ECC: r */
	size_t sig_len;
	const uint8_t *s; /* ECC only */
	size_t s_len;
};

/* TPML_PCR_SELECTION into a vouch_pcrs (values zeroed); -EBADMSG on anything malformed. */
int tpml_pcr_selection_parse(struct cursor *c, struct vouch_pcrs *ret);
/* TPMS_ATTEST; the whole buffer must be consumed. Pointers point into @buf. */
int tpms_attest_parse(const uint8_t *buf, size_t len, struct tpms_attest *ret);
/* TPMT_SIGNATURE; the whole buffer must be consumed. */
int tpmt_signature_parse(const uint8_t *buf, size_t len, struct tpmt_signature *ret);
/* Serialize a selection as TPML_PCR_SELECTION (3 select bytes per bank); returns length. */
size_t tpml_pcr_selection_put(const struct vouch_pcrs *sel, uint8_t *out, size_t size);
/* The concatenation of a selection's values (pcrDigest input). */
int pcrs_concat(const struct vouch_pcrs *pcrs, uint8_t **ret, size_t *ret_len);
/* Load a TPM public area (TPMT_PUBLIC bytes, no size) into an AK. */
int ak_from_tpmt_public(vouch_ctx *ctx, const uint8_t *buf, size_t len, vouch_ak **ret);

/*
 * What credential.c needs of an EK loaded with vouch_ak_load_mem(): the OpenSSL key (owned by
 * the vouch_ak) and, from a TPM public area, type, nameAlg and symmetric (0 when the key came
 * from a PEM/DER public key).
 */
struct ak_params {
	struct evp_pkey_st *pkey;
	uint16_t type, name_alg, sym_alg, sym_bits, sym_mode;
};
void ak_get_params(const vouch_ak *ak, struct ak_params *ret);

#endif /* VOUCH_LIB_QUOTE_INTERNAL_H */
