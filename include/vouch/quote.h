/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch: TPM 2.0 attestation keys, PCR sets and quote verification
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_QUOTE_H
#define VOUCH_QUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vouch/ctx.h>
#include <vouch/digest.h>

#ifdef __cplusplus
extern "C" {
#endif

/** VOUCH_PCR_MAX_BANKS - banks in one selection */
#define VOUCH_PCR_MAX_BANKS 8

/**
 * struct vouch_pcrs - a PCR selection (banks in TPML_PCR_SELECTION order) and its values
 * @n_banks: number of valid @banks
 * @banks: the banks
 */
struct vouch_pcrs {
	uint32_t n_banks;
	struct vouch_pcr_bank banks[VOUCH_PCR_MAX_BANKS];
};

/**
 * vouch_pcrs_parse_selection() - parse a selection such as "sha256:0-10+sha1:10"
 * @spec: banks separated by '+', each "ALGO:LIST" where LIST is comma-separated PCR
 *        numbers or ranges "A-B" (0..23), or "all"
 * @ret_pcrs: the selection, values zeroed
 *
 * Return: 0, -EINVAL (syntax, duplicate bank, PCR out of range), -ENOENT (unknown
 * algorithm).
 * Since: 0.1
 */
int vouch_pcrs_parse_selection(const char *spec, struct vouch_pcrs *ret_pcrs);

/**
 * vouch_pcrs_set_values() - fill the values of a selection from concatenated digests
 * @pcrs: the selection; its values are overwritten
 * @buf: the values bank by bank in selection order, ascending PCR index within a bank,
 *       each at its bank's digest size (what "tpm2_quote -o FILE" writes)
 * @len: length of @buf; must match the selection exactly
 *
 * Return: 0, -EBADMSG (wrong length), -EINVAL.
 * Since: 0.1
 */
int vouch_pcrs_set_values(struct vouch_pcrs *pcrs, const uint8_t *buf, size_t len);

/** vouch_ak - the public part of a TPM attestation key (opaque) */
typedef struct vouch_ak vouch_ak;

/**
 * vouch_ak_load_mem() - read an attestation key's public part
 * @ctx: the context
 * @buf: PEM or DER SubjectPublicKeyInfo, TPM2B_PUBLIC, or TPMT_PUBLIC
 * @len: length of @buf
 * @ret_ak: the key, to be released with vouch_ak_free()
 *
 * A TPM public area also gives the key's scheme, attributes and name, which verification
 * then enforces (the signature must use the key's scheme; the key must be restricted).
 *
 * Return: 0, -EBADMSG (not a key, or an unsupported key type), -ENOMEM.
 * Since: 0.1
 */
int vouch_ak_load_mem(vouch_ctx *ctx, const uint8_t *buf, size_t len, vouch_ak **ret_ak);

/**
 * vouch_ak_load() - vouch_ak_load_mem() on a file
 * Return: as vouch_ak_load_mem(), plus the errors of open(2) and read(2).
 * Since: 0.1
 */
int vouch_ak_load(vouch_ctx *ctx, const char *path, vouch_ak **ret_ak);

/**
 * vouch_ak_free() - release a key; NULL is accepted
 * Since: 0.1
 */
void vouch_ak_free(vouch_ak *ak);

/**
 * struct vouch_ak_info - what is known about an attestation key
 * @key_type: enum vouch_key_type
 * @key_bits: RSA modulus or EC field size in bits
 * @has_public_area: whether the key was loaded from a TPM public area
 * @attributes: TPMA_OBJECT (when @has_public_area)
 * @scheme: TPM_ALG_ID of the signing scheme, 0x0010 (NULL) when any is allowed or unknown
 * @scheme_hash: enum vouch_hash_algo of the scheme, or -1
 * @name: the TPM name (nameAlg || H(TPMT_PUBLIC)), when @has_public_area
 * @name_len: length of @name, 0 when unknown
 */
struct vouch_ak_info {
	int key_type;
	unsigned key_bits;
	bool has_public_area;
	uint32_t attributes;
	uint16_t scheme;
	int scheme_hash;
	uint8_t name[2 + VOUCH_HASH_MAX_SIZE];
	size_t name_len;
};

/**
 * vouch_ak_get_info() - describe a key
 * @ak: the key
 * @ret_info: filled in
 * Return: 0, or -EINVAL.
 * Since: 0.1
 */
int vouch_ak_get_info(const vouch_ak *ak, struct vouch_ak_info *ret_info);

/**
 * vouch_ak_get_public_area() - the TPM2B_PUBLIC the key was loaded from
 * @ak: the key
 * @ret_buf: bytes owned by @ak
 * @ret_len: their length
 * Return: 0, or -ENODATA when the key came from a PEM/DER public key.
 * Since: 0.1
 */
int vouch_ak_get_public_area(const vouch_ak *ak, const uint8_t **ret_buf, size_t *ret_len);

/**
 * vouch_ak_export_pem() - the key as a PEM SubjectPublicKeyInfo
 * @ctx: the context
 * @ak: the key
 * @ret_pem: NUL-terminated PEM text, released with vouch_free()
 * Return: 0, -ENOMEM, -EIO.
 * Since: 0.1
 */
int vouch_ak_export_pem(vouch_ctx *ctx, const vouch_ak *ak, char **ret_pem);

/**
 * enum vouch_quote_check - the checks of vouch_quote_verify(), all always run
 * @VOUCH_QUOTE_CHECK_MAGIC: magic == TPM_GENERATED_VALUE
 * @VOUCH_QUOTE_CHECK_TYPE: type == TPM_ST_ATTEST_QUOTE
 * @VOUCH_QUOTE_CHECK_NONCE: extraData == the verifier's nonce
 * @VOUCH_QUOTE_CHECK_PCR_SELECTION: the quoted selection == the requested one
 * @VOUCH_QUOTE_CHECK_PCR_DIGEST: pcrDigest == H_sig(claimed PCR values)
 * @VOUCH_QUOTE_CHECK_SIGNATURE: the signature verifies under the AK with the AK's scheme
 * @VOUCH_QUOTE_CHECK_ALGORITHMS: signature hash, PCR banks and key in the allow-list
 */
enum vouch_quote_check {
	VOUCH_QUOTE_CHECK_MAGIC,
	VOUCH_QUOTE_CHECK_TYPE,
	VOUCH_QUOTE_CHECK_NONCE,
	VOUCH_QUOTE_CHECK_PCR_SELECTION,
	VOUCH_QUOTE_CHECK_PCR_DIGEST,
	VOUCH_QUOTE_CHECK_SIGNATURE,
	VOUCH_QUOTE_CHECK_ALGORITHMS,
	_VOUCH_QUOTE_CHECK_MAX,
};

/**
 * vouch_quote_check_name() - short name of a check ("magic", "pcr_digest", ...)
 * @check: enum vouch_quote_check
 * Return: a static string, "?" when out of range.
 * Since: 0.1
 */
const char *vouch_quote_check_name(int check);

/**
 * VOUCH_QUOTE_DEFAULT_HASHES - default allow-list: sha256, sha384, sha512, sm3
 */
#define VOUCH_QUOTE_DEFAULT_HASHES                                                                 \
	((1U << VOUCH_HASH_SHA256) | (1U << VOUCH_HASH_SHA384) | (1U << VOUCH_HASH_SHA512) |       \
	 (1U << VOUCH_HASH_SM3))

/**
 * struct vouch_quote_verify_options - what the verifier asked for
 * @version: 1
 * @nonce: the qualifying data given to TPM2_Quote (1..64 bytes)
 * @nonce_len: its length
 * @pcrs: the requested selection, with the PCR values claimed for it
 * @allowed_hashes: bit (1 << enum vouch_hash_algo) per allowed hash; 0 = the default
 * @min_rsa_bits: smallest RSA AK accepted; 0 = 2048
 * @reserved: must be zero
 */
struct vouch_quote_verify_options {
	uint32_t version;
	const uint8_t *nonce;
	size_t nonce_len;
	const struct vouch_pcrs *pcrs;
	uint32_t allowed_hashes;
	uint32_t min_rsa_bits;
	uint32_t reserved[4];
};

#define VOUCH_QUOTE_VERIFY_OPTIONS_INIT { .version = 1 }

/** VOUCH_QUOTE_DETAIL_SIZE - size of each check's explanation */
#define VOUCH_QUOTE_DETAIL_SIZE 160

/**
 * struct vouch_quote_result - the outcome of every check, and the quote's fields
 * @checks: per enum vouch_quote_check: 0 passed, else a negative errno
 * @detail: per check, why it failed (or what it saw), NUL-terminated
 * @parsed: whether the TPMS_ATTEST parsed; when false the fields below are zero
 * @type: TPM_ST of the structure
 * @qualified_signer: qualifiedSigner (TPM2B_NAME contents)
 * @qualified_signer_len: its length
 * @extra_data: extraData
 * @extra_data_len: its length
 * @clock: clockInfo.clock (ms)
 * @reset_count: clockInfo.resetCount (obfuscated for non-EH/PH keys)
 * @restart_count: clockInfo.restartCount (likewise)
 * @safe: clockInfo.safe
 * @firmware_version: firmwareVersion (likewise)
 * @quoted: the quoted selection (values zero)
 * @pcr_digest: the quoted pcrDigest
 * @pcr_digest_len: its length
 * @sig_alg: TPM_ALG_ID of the signature, 0 when it did not parse
 * @sig_hash: enum vouch_hash_algo of the signature, or -1
 */
struct vouch_quote_result {
	int checks[_VOUCH_QUOTE_CHECK_MAX];
	char detail[_VOUCH_QUOTE_CHECK_MAX][VOUCH_QUOTE_DETAIL_SIZE];
	bool parsed;
	uint16_t type;
	uint8_t qualified_signer[2 + VOUCH_HASH_MAX_SIZE];
	size_t qualified_signer_len;
	uint8_t extra_data[VOUCH_HASH_MAX_SIZE + 2];
	size_t extra_data_len;
	uint64_t clock;
	uint32_t reset_count;
	uint32_t restart_count;
	bool safe;
	uint64_t firmware_version;
	struct vouch_pcrs quoted;
	uint8_t pcr_digest[VOUCH_HASH_MAX_SIZE];
	size_t pcr_digest_len;
	uint16_t sig_alg;
	int sig_hash;
};

/**
 * vouch_quote_verify() - verify a TPM2_Quote, every check unconditionally
 * @ctx: the context
 * @ak: the attestation key
 * @attest: the signed TPMS_ATTEST (without the TPM2B size)
 * @attest_len: its length
 * @sig: the TPMT_SIGNATURE
 * @sig_len: its length
 * @opts: the nonce, the requested selection with claimed values, the allow-list
 * @result: when not NULL, receives each check's outcome (also on a negative verdict)
 *
 * Runs all of enum vouch_quote_check, whatever the earlier ones found, and passes only when
 * all pass.  The signature is checked with the scheme the key declares (RSASSA, RSAPSS with
 * the salt length auto-detected, ECDSA); no other padding is tried.
 *
 * Return: 0 when every check passed; else the code of the first failing check in enum
 * order: -EBADMSG (malformed quote or signature), -EKEYREJECTED (signature, digest, nonce,
 * selection or magic/type mismatch), -EPERM (algorithm not allowed); -EINVAL for bad
 * options, -ENOMEM.
 * Since: 0.1
 */
int vouch_quote_verify(vouch_ctx *ctx, const vouch_ak *ak, const uint8_t *attest,
		       size_t attest_len, const uint8_t *sig, size_t sig_len,
		       const struct vouch_quote_verify_options *opts,
		       struct vouch_quote_result *result);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_QUOTE_H */
