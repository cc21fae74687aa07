/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch: appended ("module-style") and detached PKCS#7 signatures for any blob the kernel
 * loads, byte-compatible with scripts/sign-file and verified with the kernel's rules.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_MODSIG_H
#define VOUCH_MODSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vouch/ctx.h>
#include <vouch/digest.h>
#include <vouch/key.h>

#ifdef __cplusplus
extern "C" {
#endif

/** VOUCH_MODSIG_MARKER - the 28 bytes that end a signed file (MODULE_SIG_STRING, no NUL) */
#define VOUCH_MODSIG_MARKER "~Module signature appended~\n"
#define VOUCH_MODSIG_MARKER_LEN 28
/** VOUCH_MODSIG_STRUCT_LEN - size of struct module_signature before the marker */
#define VOUCH_MODSIG_STRUCT_LEN 12

/** enum vouch_modsig_signer_id - how the SignerInfo names its certificate */
enum vouch_modsig_signer_id {
	VOUCH_MODSIG_ISSUER_SERIAL = 0, /* SignedData v1, issuerAndSerialNumber (sign-file) */
	VOUCH_MODSIG_SKID = 1,		/* SignedData v3, subjectKeyIdentifier (sign-file -k) */
	_VOUCH_MODSIG_SIGNER_ID_MAX,
	_VOUCH_MODSIG_SIGNER_ID_INVALID = -22,
};

/**
 * enum vouch_modsig_status - the rule a verification failed, or OK
 *
 * Each has its return code: NO_SIGNATURE -ENODATA, BAD_TRAILER and BAD_PKCS7 -EBADMSG,
 * ALGO_NOT_ALLOWED and BLACKLISTED -EPERM, UNKNOWN_SIGNER -ENOKEY, BAD_SIGNATURE
 * -EKEYREJECTED.  When several rules fail, the first in this order is reported.
 */
enum vouch_modsig_status {
	VOUCH_MODSIG_OK = 0,
	VOUCH_MODSIG_NO_SIGNATURE = 1,	   /* no marker at the end of the file */
	VOUCH_MODSIG_BAD_TRAILER = 2,	   /* struct module_signature fails mod_check_sig() */
	VOUCH_MODSIG_BAD_PKCS7 = 3,	   /* DER, versions, content, signed attributes */
	VOUCH_MODSIG_ALGO_NOT_ALLOWED = 4, /* digest or signature algorithm refused */
	VOUCH_MODSIG_UNKNOWN_SIGNER = 5,   /* no trusted certificate has the signer's id */
	VOUCH_MODSIG_BAD_SIGNATURE = 6,	   /* the signature does not match the payload */
	VOUCH_MODSIG_BLACKLISTED = 7,	   /* file, payload or signer certificate blacklisted */
	_VOUCH_MODSIG_STATUS_MAX,
	_VOUCH_MODSIG_STATUS_INVALID = -22,
};

/**
 * vouch_modsig_status_name() - the rule's name, e.g. "bad signature"
 * @status: an enum vouch_modsig_status
 * Return: a static string ("unknown" when out of range).
 * Since: 0.1
 */
const char *vouch_modsig_status_name(int status);

/**
 * struct vouch_modsig_sign_options - how to sign
 * @version: must be 1
 * @hash_algo: enum vouch_hash_algo: sha1, sha224, sha256, sha384 or sha512
 * @signer_id: enum vouch_modsig_signer_id
 * @reserved: must be zero
 */
struct vouch_modsig_sign_options {
	uint32_t version;
	int hash_algo;
	int signer_id;
	uint64_t reserved[6];
};
#define VOUCH_MODSIG_SIGN_OPTIONS_INIT                                                             \
	{ .version = 1, .hash_algo = VOUCH_HASH_SHA256, .signer_id = VOUCH_MODSIG_ISSUER_SERIAL }

/** vouch_modsig_signer - a loaded key and certificate that sign many blobs (opaque) */
typedef struct vouch_modsig_signer vouch_modsig_signer;

/**
 * vouch_modsig_signer_new() - prepare to sign, reusing @key for every blob
 * @ctx: the context; must outlive the signer
 * @key: the private key (RSA or EC); the signer takes its own reference
 * @cert: the matching certificate; the signer takes its own reference
 * @opts: the options, or NULL for VOUCH_MODSIG_SIGN_OPTIONS_INIT
 * @ret_signer: the signer, released with vouch_modsig_signer_free()
 *
 * Return: 0; -EINVAL (bad options, or signer_id SKID and @cert has no SKID);
 * -EKEYREJECTED (@key does not match @cert); -EOPNOTSUPP (hash unavailable); -ENOMEM.
 * Since: 0.1
 */
int vouch_modsig_signer_new(vouch_ctx *ctx, const vouch_key *key, const vouch_cert *cert,
			    const struct vouch_modsig_sign_options *opts,
			    vouch_modsig_signer **ret_signer);

/** vouch_modsig_signer_free() - release a signer; NULL is accepted. Since: 0.1 */
void vouch_modsig_signer_free(vouch_modsig_signer *signer);

/**
 * vouch_modsig_sign_pkcs7() - the detached PKCS#7 of @payload, as sign-file builds it
 * @signer: the signer
 * @payload: the bytes to sign
 * @len: their number (at most INT32_MAX)
 * @ret_pkcs7: DER bytes, released with vouch_free()
 * @ret_len: their number
 *
 * No certificates, no signed attributes, rsaEncryption for RSA; RSA output is deterministic.
 * Return: 0, -EINVAL, -EFBIG, -EIO (OpenSSL failure), -ENOMEM.
 * Since: 0.1
 */
int vouch_modsig_sign_pkcs7(vouch_modsig_signer *signer, const uint8_t *payload, size_t len,
			    uint8_t **ret_pkcs7, size_t *ret_len);

/**
 * vouch_modsig_sign_trailer() - what to append to @payload to sign it
 * @signer: the signer
 * @payload: the bytes to sign
 * @len: their number
 * @ret_trailer: PKCS#7 DER ‖ struct module_signature ‖ marker, released with vouch_free()
 * @ret_len: their number
 *
 * Return: as vouch_modsig_sign_pkcs7().
 * Since: 0.1
 */
int vouch_modsig_sign_trailer(vouch_modsig_signer *signer, const uint8_t *payload, size_t len,
			      uint8_t **ret_trailer, size_t *ret_len);

/** Flags of vouch_modsig_sign_file() */
#define VOUCH_MODSIG_REPLACE (1U << 0)	/* strip an appended signature first */
#define VOUCH_MODSIG_DETACHED (1U << 1) /* write the PKCS#7 alone, leave the file alone */

/**
 * vouch_modsig_sign_file() - sign a file, appended (in place or to a copy) or detached
 * @signer: the signer
 * @path: the file to sign
 * @out_path: appended: the signed copy, or NULL to sign @path in place; detached: the
 *            PKCS#7 file, or NULL for "@path.p7s"
 * @flags: VOUCH_MODSIG_REPLACE, VOUCH_MODSIG_DETACHED
 * @ret_sig_len: when not NULL, the size of the PKCS#7 written
 *
 * Writes through a temporary file, fsync and rename: never a half-written file.  In
 * place (@out_path NULL or naming @path itself) changes the content only: a symlink is
 * followed, owner, group, mode and xattrs are kept or the file is left alone, a file with
 * several hard links is refused (-EMLINK).  An appended signature is refused on a file that already ends with
 * the marker unless VOUCH_MODSIG_REPLACE, which removes the old signature first (the
 * kernel only ever checks the last one).  A detached signature covers @path as it is.
 * Return: 0; -EEXIST (already signed); -EBADMSG (VOUCH_MODSIG_REPLACE and the old trailer
 * is malformed); -EINVAL; open/read/write errors; as vouch_modsig_sign_pkcs7().
 * Since: 0.1
 */
int vouch_modsig_sign_file(vouch_modsig_signer *signer, const char *path, const char *out_path,
			   uint32_t flags, size_t *ret_sig_len);

/**
 * vouch_modsig_strip_file() - remove the (last) appended signature of a file
 * @ctx: the context
 * @path: the signed file
 * @out_path: where to write the payload, or NULL for in place
 * @ret_removed: when not NULL, the number of bytes removed
 * In place as for vouch_modsig_sign_file() (links followed, owner, mode and xattrs kept,
 * -EMLINK for several hard links).
 * Return: 0; -ENODATA (not signed); -EBADMSG (malformed trailer); open/read/write errors.
 * Since: 0.1
 */
int vouch_modsig_strip_file(vouch_ctx *ctx, const char *path, const char *out_path,
			    size_t *ret_removed);

/**
 * vouch_modsig_make_trailer() - wrap an existing PKCS#7 into the appended trailer
 * @ctx: the context
 * @pkcs7: DER bytes (not checked)
 * @len: their number (1 to UINT32_MAX)
 * @ret_trailer: @pkcs7 ‖ struct module_signature ‖ marker, released with vouch_free()
 * @ret_len: their number
 * Return: 0, -EINVAL, -ENOMEM.
 * Since: 0.1
 */
int vouch_modsig_make_trailer(vouch_ctx *ctx, const uint8_t *pkcs7, size_t len,
			      uint8_t **ret_trailer, size_t *ret_len);

/**
 * struct vouch_modsig_info - what a signature says; pointers point into the parsed buffer
 * @file_len: length of the whole buffer
 * @payload_len: length of the signed part (offset of the PKCS#7)
 * @sig_offset: offset of the PKCS#7 (= @payload_len; 0 for a detached PKCS#7)
 * @sig_len: length of the PKCS#7 (the trailer's sig_len)
 * @hash_algo: enum vouch_hash_algo of the SignerInfo digest, or -1 when not a kernel one
 * @key_type: enum vouch_key_type implied by the signature algorithm
 * @signer_id: enum vouch_modsig_signer_id
 * @issuer_der: issuer Name (DER SEQUENCE) for issuer-serial, else NULL
 * @issuer_der_len: its length
 * @serial: serial number INTEGER content bytes for issuer-serial, else NULL
 * @serial_len: their number
 * @skid: subjectKeyIdentifier for skid, else NULL
 * @skid_len: its length
 * @signature: the encryptedDigest bytes
 * @signature_len: their number
 * @n_signers: number of SignerInfos (the fields above describe the first one)
 * @signer: the issuer's commonName, as modinfo shows "signer" ("" when none)
 * @issuer: the issuer name, RFC 2253 ("" when none)
 */
struct vouch_modsig_info {
	size_t file_len;
	size_t payload_len;
	size_t sig_offset;
	size_t sig_len;
	int hash_algo;
	int key_type;
	int signer_id;
	const uint8_t *issuer_der;
	size_t issuer_der_len;
	const uint8_t *serial;
	size_t serial_len;
	const uint8_t *skid;
	size_t skid_len;
	const uint8_t *signature;
	size_t signature_len;
	unsigned n_signers;
	char signer[256];
	char issuer[512];
};

/**
 * vouch_modsig_find() - locate an appended signature with the kernel's rules
 * @ctx: the context
 * @buf: the whole file
 * @len: its length
 * @ret_payload_len: length of the signed part
 * @ret_sig_len: length of the PKCS#7 that follows it
 *
 * Checks the marker and struct module_signature as mod_check_sig() does; does not parse
 * the PKCS#7.
 * Return: 0; -ENODATA (no marker: not signed); -EBADMSG (malformed trailer); -EINVAL.
 * Since: 0.1
 */
int vouch_modsig_find(vouch_ctx *ctx, const uint8_t *buf, size_t len, size_t *ret_payload_len,
		      size_t *ret_sig_len);

/**
 * vouch_modsig_parse() - locate and decode an appended signature
 * @ctx: the context
 * @buf: the whole file
 * @len: its length
 * @ret_info: filled in on success; its pointers point into @buf
 *
 * Decodes the PKCS#7 structure without applying the verification rules (see
 * vouch_modsig_verify() for those).
 * Return: 0; -ENODATA (not signed); -EBADMSG (malformed trailer or PKCS#7); -EINVAL.
 * Since: 0.1
 */
int vouch_modsig_parse(vouch_ctx *ctx, const uint8_t *buf, size_t len,
		       struct vouch_modsig_info *ret_info);

/**
 * vouch_modsig_parse_pkcs7() - decode a detached PKCS#7 (a .p7s file)
 * @ctx: the context
 * @der: the DER bytes
 * @len: their number
 * @ret_info: filled in on success; its pointers point into @der
 * Return: 0; -EBADMSG; -EINVAL.
 * Since: 0.1
 */
int vouch_modsig_parse_pkcs7(vouch_ctx *ctx, const uint8_t *der, size_t len,
			     struct vouch_modsig_info *ret_info);

/**
 * struct vouch_modsig_verify_options - verification policy
 * @version: must be 1
 * @allowed_hashes: bit (1U << enum vouch_hash_algo) per digest algorithm accepted;
 *                  0 means sha224, sha256, sha384 and sha512
 * @blacklist: the kernel's "bin:" hashes, file digests refused: a match with the SHA-256 of
 *             the whole file (Debian's module blacklist) or with the payload digest (IMA's
 *             check_blacklist); compared by length and bytes
 * @n_blacklist: number of @blacklist entries
 * @blacklist_tbs: the kernel's "tbs:" hashes, revoked certificates: a signer whose
 *             TBSCertificate hashes to one of them is refused (certs/blacklist.c,
 *             is_hash_blacklisted(BLACKLIST_HASH_X509_TBS)); the TBS is hashed with the
 *             certificate's own signature hash, as the kernel does, and also with SHA-1 and
 *             SHA-2 of the entry's length (a dbx/mokx SHA-256 entry revokes a certificate
 *             signed with SHA-512 too)
 * @n_blacklist_tbs: number of @blacklist_tbs entries
 * @reserved: must be zero
 */
struct vouch_modsig_verify_options {
	uint32_t version;
	uint32_t allowed_hashes;
	const struct vouch_digest *blacklist;
	size_t n_blacklist;
	const struct vouch_digest *blacklist_tbs;
	size_t n_blacklist_tbs;
	uint64_t reserved[4];
};
#define VOUCH_MODSIG_VERIFY_OPTIONS_INIT { .version = 1 }

/**
 * struct vouch_modsig_result - the verdict and what it rests on
 * @status: enum vouch_modsig_status: the first rule that failed, or OK
 * @failed: (1U << status) for every rule that failed: every check runs
 * @payload_len: length of the signed part
 * @sig_offset: offset of the PKCS#7 in the file (0 for detached)
 * @sig_len: length of the PKCS#7
 * @hash_algo: enum vouch_hash_algo of the signature, or -1
 * @key_type: enum vouch_key_type of the signature algorithm, or 0
 * @signer_id: enum vouch_modsig_signer_id, or -1 when the PKCS#7 could not be read
 * @signer: the trusted certificate that matched, owned by the trust store, or NULL
 * @keyring: its keyring name, owned by the trust store, or NULL
 * @digest: the payload digest (len 0 when not computed)
 * @reserved: zero
 */
struct vouch_modsig_result {
	int status;
	uint32_t failed;
	size_t payload_len;
	size_t sig_offset;
	size_t sig_len;
	int hash_algo;
	int key_type;
	int signer_id;
	const vouch_cert *signer;
	const char *keyring;
	struct vouch_digest digest;
	uint64_t reserved[4];
};

/**
 * vouch_modsig_verify() - verify a file with an appended signature, with the kernel's rules
 * @ctx: the context
 * @trust: the trusted certificates (direct match by issuer+serial or SKID; no chains)
 * @buf: the whole file
 * @len: its length
 * @opts: the policy, or NULL for VOUCH_MODSIG_VERIFY_OPTIONS_INIT
 * @result: when not NULL, filled in on every return (also on verdict failures) except
 *          -EINVAL; it says which rule failed
 *
 * Rules: marker and mod_check_sig(); ContentInfo signedData; SignedData version 1 or 3 and
 * SignerInfo version matching the sid form; encapsulated contentType data with no content
 * (detached); no signed attributes; exactly one SignerInfo; digest algorithm known and
 * allowed; signature algorithm rsaEncryption or ecdsa-with-<the same hash>; signer found
 * in @trust and of the same key type, EC keys on P-192, P-256 or P-384 (kernel 6.1); RSA signature exactly modulus-sized; the signature
 * verifies over the payload digest; neither the file ("bin:") nor the signer certificate
 * ("tbs:") blacklisted.  The reason is also the last error.
 * Return: 0 (trusted); -ENODATA, -EBADMSG, -EPERM, -ENOKEY, -EKEYREJECTED as given by
 * enum vouch_modsig_status; -EINVAL, -ENOMEM, -EIO (could not check).
 * Since: 0.1
 */
int vouch_modsig_verify(vouch_ctx *ctx, const vouch_trust *trust, const uint8_t *buf, size_t len,
			const struct vouch_modsig_verify_options *opts,
			struct vouch_modsig_result *result);

/**
 * vouch_modsig_verify_detached() - verify @payload against a detached PKCS#7
 * @ctx: the context
 * @trust: the trusted certificates
 * @payload: the signed bytes
 * @len: their number
 * @pkcs7: the DER PKCS#7 (a .p7s file)
 * @pkcs7_len: its length
 * @opts: as for vouch_modsig_verify()
 * @result: as for vouch_modsig_verify()
 *
 * Same rules as vouch_modsig_verify() without the trailer ones; the whole-file blacklist
 * digest is that of @payload.
 * Return: as vouch_modsig_verify() (never -ENODATA).
 * Since: 0.1
 */
int vouch_modsig_verify_detached(vouch_ctx *ctx, const vouch_trust *trust, const uint8_t *payload,
				 size_t len, const uint8_t *pkcs7, size_t pkcs7_len,
				 const struct vouch_modsig_verify_options *opts,
				 struct vouch_modsig_result *result);

/**
 * vouch_modsig_verify_file() - vouch_modsig_verify() or vouch_modsig_verify_detached() on files
 * @ctx: the context
 * @trust: the trusted certificates
 * @path: the file
 * @sig_path: a detached PKCS#7 (.p7s) for @path, or NULL for an appended signature
 * @opts: as for vouch_modsig_verify()
 * @result: as for vouch_modsig_verify()
 * Return: as vouch_modsig_verify(), plus open/read errors (could not check).
 * Since: 0.1
 */
int vouch_modsig_verify_file(vouch_ctx *ctx, const vouch_trust *trust, const char *path,
			     const char *sig_path, const struct vouch_modsig_verify_options *opts,
			     struct vouch_modsig_result *result);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_MODSIG_H */
