/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch: TPM 2.0 credential activation for enrollment: the verifier's TPM2_MakeCredential in
 * software, the agent's TPM2_ActivateCredential, the EK certificate and AK attribute checks
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_CREDENTIAL_H
#define VOUCH_CREDENTIAL_H

#include <stddef.h>
#include <stdint.h>

#include <vouch/ctx.h>
#include <vouch/key.h>
#include <vouch/quote.h>
#include <vouch/tpm.h>

#ifdef __cplusplus
extern "C" {
#endif

/** VOUCH_TPM_EK_CERT_RSA_NV - NV index of the RSA 2048 EK certificate (TCG EK profile) */
#define VOUCH_TPM_EK_CERT_RSA_NV 0x01c00002U

/**
 * vouch_credential_make() - TPM2_MakeCredential in software (the verifier has no TPM)
 * @ctx: the context
 * @ek: the endorsement key: TPM2B_PUBLIC or TPMT_PUBLIC (its nameAlg and symmetric are used),
 *      a PEM/DER public key or an EK certificate (then the TCG EK template's: SHA-256,
 *      AES-128-CFB)
 * @ek_len: length of @ek
 * @name: the AK's name, nameAlg (2 bytes, big-endian) || digest
 * @name_len: length of @name
 * @secret: what the TPM gives back only to the AK loaded next to the EK
 * @secret_len: 1 up to the digest size of the EK's nameAlg
 * @ret_blob: the TPM2B_ID_OBJECT (credentialBlob), released with vouch_free()
 * @ret_blob_len: its length
 * @ret_enc_secret: the TPM2B_ENCRYPTED_SECRET, released with vouch_free()
 * @ret_enc_secret_len: its length
 *
 * Trusted Platform Module Library Part 1 section 24 (Credential Protection): a random seed
 * is encrypted to an RSA EK with RSA-OAEP (label "IDENTITY"), or for an ECC EK (NIST P-256 or
 * P-384) derived with KDFe from ECDH with an ephemeral key, whose point is then the encrypted
 * secret; the secret is encrypted with AES-CFB under KDFa(seed, "STORAGE", name) and the
 * result is HMACed with KDFa(seed, "INTEGRITY") over it and the name.
 *
 * Return: 0; -EINVAL; -EBADMSG (the EK or the name do not parse); -EOPNOTSUPP (another curve
 * or key type, an EK whose symmetric is not AES-128/256-CFB or which is not a restricted
 * decryption key);
 * -ENOMEM; -EIO (OpenSSL failed).
 * Since: 0.1
 */
int vouch_credential_make(vouch_ctx *ctx, const uint8_t *ek, size_t ek_len, const uint8_t *name,
			  size_t name_len, const uint8_t *secret, size_t secret_len,
			  uint8_t **ret_blob, size_t *ret_blob_len, uint8_t **ret_enc_secret,
			  size_t *ret_enc_secret_len);

/**
 * vouch_credential_encode() - the file tpm2_makecredential writes and
 * tpm2_activatecredential reads: 0xBADCC0DE, version 1, TPM2B_ID_OBJECT,
 * TPM2B_ENCRYPTED_SECRET
 * @ctx: the context
 * @blob: TPM2B_ID_OBJECT
 * @blob_len: its length
 * @enc_secret: TPM2B_ENCRYPTED_SECRET
 * @enc_secret_len: its length
 * @ret_buf: the file's bytes, released with vouch_free()
 * @ret_len: their length
 * Return: 0, -EINVAL, -EBADMSG (a part is not a well-formed TPM2B), -ENOMEM.
 * Since: 0.1
 */
int vouch_credential_encode(vouch_ctx *ctx, const uint8_t *blob, size_t blob_len,
			    const uint8_t *enc_secret, size_t enc_secret_len, uint8_t **ret_buf,
			    size_t *ret_len);

/**
 * vouch_credential_decode() - split such a file (untrusted bytes)
 * @ctx: the context
 * @buf: the file
 * @len: its length
 * @ret_blob: the TPM2B_ID_OBJECT inside @buf (not copied)
 * @ret_blob_len: its length
 * @ret_enc_secret: the TPM2B_ENCRYPTED_SECRET inside @buf (not copied)
 * @ret_enc_secret_len: its length
 * Return: 0, -EINVAL, -EBADMSG (wrong magic or version, truncated, trailing bytes).
 * Since: 0.1
 */
int vouch_credential_decode(vouch_ctx *ctx, const uint8_t *buf, size_t len,
			    const uint8_t **ret_blob, size_t *ret_blob_len,
			    const uint8_t **ret_enc_secret, size_t *ret_enc_secret_len);

/**
 * vouch_credential_check_ak() - may this key be enrolled as an attestation key?
 * @ctx: the context; its last error says why not
 * @ak: the key, loaded from its TPM public area (vouch_ak_load_mem() of a TPM2B_PUBLIC)
 *
 * The key must be restricted, sign, not decrypt, fixedTPM, fixedParent and
 * sensitiveDataOrigin (generated inside that TPM, never leaves it), with a signing scheme
 * vouch_quote_verify() checks (RSASSA, RSA-PSS or ECDSA with SHA-256/384/512) and a name.
 *
 * Return: 0; -EKEYREJECTED (refused, the context says which attribute); -EINVAL.
 * Since: 0.1
 */
int vouch_credential_check_ak(vouch_ctx *ctx, const vouch_ak *ak);

/**
 * vouch_credential_check_ek_cert() - does the EK certificate chain to a configured EK CA and
 * certify this EK?
 * @ctx: the context
 * @cert: the EK certificate
 * @cas: the EK CA certificates (roots and intermediates, all trusted)
 * @ek: the EK public key as given to vouch_credential_make() (TPM2B_PUBLIC, TPMT_PUBLIC,
 *      PEM/DER public key)
 * @ek_len: length of @ek
 *
 * The chain is checked with OpenSSL's X509 verification at the current time, without an
 * extended key usage requirement (EK certificates often carry none, or TCG's own); their
 * critical subjectAltName with TPM manufacturer attributes is accepted.
 *
 * Return: 0; -EKEYREJECTED (the chain does not verify, or the certificate's key is not @ek);
 * -ENOKEY (@cas is empty); -EBADMSG (@ek does not parse); -EINVAL; -ENOMEM.
 * Since: 0.1
 */
int vouch_credential_check_ek_cert(vouch_ctx *ctx, const vouch_cert *cert,
				   const vouch_trust *cas, const uint8_t *ek, size_t ek_len);

/**
 * vouch_credential_activate() - TPM2_ActivateCredential: the secret back from a credential
 * @tpm: the connection
 * @ak_handle: the persistent AK the credential was made for (authorized with an empty
 *             password)
 * @ek_handle: a persistent EK (RSA or ECC), or 0 to create the EK from the TCG RSA 2048 EK
 *             template in the endorsement hierarchy (flushed afterwards)
 * @blob: TPM2B_ID_OBJECT
 * @blob_len: its length
 * @enc_secret: TPM2B_ENCRYPTED_SECRET
 * @enc_secret_len: its length
 * @ret_secret: the secret, released with vouch_free()
 * @ret_secret_len: its length
 *
 * The EK is authorized with the TCG EK policy (PolicySecret of the endorsement hierarchy,
 * empty endorsement password).
 *
 * Return: 0; -EKEYREJECTED (the credential is not for this AK on this TPM's EK, or was
 * altered); -EBADMSG (not TPM2B structures); -ENOENT (no such handle); -EINVAL; a TPM error.
 * Since: 0.1
 */
int vouch_credential_activate(vouch_tpm *tpm, uint32_t ak_handle, uint32_t ek_handle,
			      const uint8_t *blob, size_t blob_len, const uint8_t *enc_secret,
			      size_t enc_secret_len, uint8_t **ret_secret, size_t *ret_secret_len);

/**
 * vouch_tpm_ek_public() - the EK's public area
 * @tpm: the connection
 * @ek_handle: a persistent EK, or 0 to create it from the TCG RSA 2048 EK template
 * @ret_pub: TPM2B_PUBLIC, released with vouch_free()
 * @ret_len: its length
 * Return: 0; -ENOENT; -EINVAL; a TPM error.
 * Since: 0.1
 */
int vouch_tpm_ek_public(vouch_tpm *tpm, uint32_t ek_handle, uint8_t **ret_pub, size_t *ret_len);

/**
 * vouch_tpm_ek_cert() - the EK certificate the manufacturer stored in NV
 * @tpm: the connection
 * @nv_index: VOUCH_TPM_EK_CERT_RSA_NV, or 0 for it
 * @ret_der: the certificate's bytes as stored (DER), released with vouch_free()
 * @ret_len: their length
 * Return: 0; -ENOENT (no certificate there); a TPM error.
 * Since: 0.1
 */
int vouch_tpm_ek_cert(vouch_tpm *tpm, uint32_t nv_index, uint8_t **ret_der, size_t *ret_len);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_CREDENTIAL_H */
