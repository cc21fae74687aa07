/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch: TPM 2.0 backend (tss2 ESYS): PCRs, attestation keys, quotes
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_TPM_H
#define VOUCH_TPM_H

#include <stddef.h>
#include <stdint.h>

#include <vouch/ctx.h>
#include <vouch/digest.h>
#include <vouch/quote.h>

#ifdef __cplusplus
extern "C" {
#endif

/** vouch_tpm - a connection to a TPM (opaque) */
typedef struct vouch_tpm vouch_tpm;

/** VOUCH_TPM_DEFAULT_TCTI - the TCTI used when none is given */
#define VOUCH_TPM_DEFAULT_TCTI "device:/dev/tpmrm0"

/**
 * vouch_tpm_open() - connect to a TPM
 * @ctx: the context; must outlive the connection
 * @tcti: a tss2 TCTI string ("device:/dev/tpmrm0", "swtpm:host=127.0.0.1,port=2321"), or
 *        NULL for VOUCH_TPM_DEFAULT_TCTI
 * @ret_tpm: the connection, closed with vouch_tpm_close()
 *
 * tss2 logs to stderr on its own; the library must not print, so the first call sets the
 * environment variable TSS2_LOG to "all+NONE" unless it is already set (tss2 3.x has no other
 * switch; this is process-wide: set TSS2_LOG yourself beforehand to see tss2's messages).
 * TPM errors come back as negative errnos with Tss2_RC_Decode()'s text in the context.
 *
 * Return: 0; -ENODEV (no such TPM / TCTI), -ECONNREFUSED, -EIO, -ENOMEM, -EOPNOTSUPP (built
 * without tss2).
 * Since: 0.1
 */
int vouch_tpm_open(vouch_ctx *ctx, const char *tcti, vouch_tpm **ret_tpm);

/**
 * vouch_tpm_close() - disconnect; NULL is accepted
 * Since: 0.1
 */
void vouch_tpm_close(vouch_tpm *tpm);

/**
 * vouch_tpm_get_banks() - the active PCR banks
 * @tpm: the connection
 * @ret_algos: receives enum vouch_hash_algo values (banks vouch does not know are left out)
 * @size: capacity of @ret_algos
 * @ret_n: number written
 * Return: 0, or a negative errno (see vouch_tpm_open()).
 * Since: 0.1
 */
int vouch_tpm_get_banks(vouch_tpm *tpm, int *ret_algos, size_t size, size_t *ret_n);

/**
 * vouch_tpm_pcr_read() - read the PCRs of a selection
 * @tpm: the connection
 * @pcrs: in: the selection; out: the values
 * Return: 0, -EINVAL, or a TPM error.
 * Since: 0.1
 */
int vouch_tpm_pcr_read(vouch_tpm *tpm, struct vouch_pcrs *pcrs);

/**
 * vouch_tpm_pcr_extend() - extend one PCR with one digest per bank
 * @tpm: the connection
 * @pcr: the PCR index (0..23)
 * @digests: digests; their algo names the bank
 * @n: number of @digests (1..8)
 * Return: 0, -EINVAL, or a TPM error (-EACCES for a PCR the locality may not extend).
 * Since: 0.1
 */
int vouch_tpm_pcr_extend(vouch_tpm *tpm, uint32_t pcr, const struct vouch_digest *digests,
			 size_t n);

/** enum vouch_tpm_hierarchy - where an attestation key lives */
enum vouch_tpm_hierarchy {
	VOUCH_TPM_HIERARCHY_OWNER = 1,
	VOUCH_TPM_HIERARCHY_ENDORSEMENT = 2,
};

/** enum vouch_tpm_scheme - signing scheme of an attestation key */
enum vouch_tpm_scheme {
	VOUCH_TPM_SCHEME_RSASSA = 1,
	VOUCH_TPM_SCHEME_RSAPSS = 2,
	VOUCH_TPM_SCHEME_ECDSA = 3,
};

/**
 * struct vouch_tpm_ak_options - attestation key parameters
 * @version: 1
 * @hierarchy: enum vouch_tpm_hierarchy (0 = owner)
 * @scheme: enum vouch_tpm_scheme (0 = RSASSA); RSA keys are 2048 bits, EC keys NIST P-256
 * @hash: enum vouch_hash_algo of the scheme (sha256, sha384 or sha512)
 * @handle: the persistent handle (0x81000000..0x81ffffff) the key is stored at
 * @reserved: must be zero
 */
struct vouch_tpm_ak_options {
	uint32_t version;
	int hierarchy;
	int scheme;
	int hash;
	uint32_t handle;
	uint32_t reserved[4];
};

#define VOUCH_TPM_AK_OPTIONS_INIT { .version = 1, .hash = VOUCH_HASH_SHA256 }

/**
 * vouch_tpm_ak_create() - create a restricted signing key as a primary object in the
 * hierarchy and persist it at @opts->handle
 * @tpm: the connection
 * @opts: the parameters
 * @ret_ak: when not NULL, the public part (with its TPM public area and name)
 * Return: 0; -EEXIST (the handle is taken), -EINVAL, or a TPM error.
 * Since: 0.1
 */
int vouch_tpm_ak_create(vouch_tpm *tpm, const struct vouch_tpm_ak_options *opts,
			vouch_ak **ret_ak);

/**
 * vouch_tpm_ak_load() - the public part of a persistent key
 * @tpm: the connection
 * @handle: its persistent handle
 * @ret_ak: the key
 * Return: 0; -ENOENT (no object there), or a TPM error.
 * Since: 0.1
 */
int vouch_tpm_ak_load(vouch_tpm *tpm, uint32_t handle, vouch_ak **ret_ak);

/**
 * vouch_tpm_ak_evict() - remove one of vouch's attestation keys
 * @tpm: the connection
 * @handle: its persistent handle
 * The object there must be an RSA/ECC key with exactly the attributes vouch_tpm_ak_create()
 * gives (restricted signing, fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth), a
 * SHA-256 name and no policy; the EK, the SRK and other keys are refused.
 * Return: 0; -ENOENT, -EPERM (not a vouch AK; nothing evicted), or a TPM error.
 * Since: 0.1
 */
int vouch_tpm_ak_evict(vouch_tpm *tpm, uint32_t handle);

/**
 * vouch_tpm_quote() - TPM2_Quote over a selection, with the PCR values it covers
 * @tpm: the connection
 * @handle: the persistent AK
 * @nonce: qualifying data (1..64 bytes)
 * @nonce_len: its length
 * @pcrs: in: the selection; out: the PCR values the quote covers
 * @ret_attest: the signed TPMS_ATTEST, released with vouch_free()
 * @ret_attest_len: its length
 * @ret_sig: the TPMT_SIGNATURE, released with vouch_free()
 * @ret_sig_len: its length
 *
 * The values are read after the quote and checked against its pcrDigest; if a PCR changed
 * in between, the quote is retried (up to 5 times), so the values always match the quote.
 *
 * Return: 0; -EINVAL; -EAGAIN (the PCRs kept changing); a TPM error.
 * Since: 0.1
 */
int vouch_tpm_quote(vouch_tpm *tpm, uint32_t handle, const uint8_t *nonce, size_t nonce_len,
		    struct vouch_pcrs *pcrs, uint8_t **ret_attest, size_t *ret_attest_len,
		    uint8_t **ret_sig, size_t *ret_sig_len);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_TPM_H */
