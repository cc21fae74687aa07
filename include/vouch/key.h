/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch: private keys, certificates and trust stores
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_KEY_H
#define VOUCH_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vouch/ctx.h>

#ifdef __cplusplus
extern "C" {
#endif

/** vouch_key - a private key (opaque; the key material stays inside OpenSSL) */
typedef struct vouch_key vouch_key;
/** vouch_cert - an X.509 certificate (opaque) */
typedef struct vouch_cert vouch_cert;
/** vouch_trust - a set of trusted certificates, each tagged with a keyring name (opaque) */
typedef struct vouch_trust vouch_trust;

/** enum vouch_key_type - public key algorithm */
enum vouch_key_type {
	VOUCH_KEY_RSA = 1,
	VOUCH_KEY_EC = 2,
	VOUCH_KEY_OTHER = 3,
	_VOUCH_KEY_TYPE_MAX,
	_VOUCH_KEY_TYPE_INVALID = -22,
};

/**
 * vouch_pass_fn - passphrase callback for encrypted private keys
 * @userdata: as given to the loader
 * @buf: where to write the passphrase (not NUL-terminated)
 * @size: size of @buf
 *
 * Called only if the key is encrypted.  Return: the passphrase length, or a negative errno
 * to abort the load (returned by the loader unchanged).
 */
typedef int (*vouch_pass_fn)(void *userdata, char *buf, size_t size);

/**
 * vouch_key_load() - load a private key file
 * @ctx: the context
 * @path: PEM or DER; PKCS#8 (plain or encrypted), PKCS#1 RSA or SEC1 EC
 * @pass_fn: asked for a passphrase if the key is encrypted; may be NULL
 * @userdata: for @pass_fn
 * @ret_key: the key, released with vouch_key_free()
 *
 * Refuses a key file that is readable or writable by group or others, or not a regular file.
 * Return: 0; -ENOENT, -EISDIR, -EACCES and other open(2)/read(2) errors; -EPERM (mode too
 * open); -EBADMSG (not a key); -EKEYREJECTED (wrong passphrase); -ENOMEM.
 * Since: 0.1
 */
int vouch_key_load(vouch_ctx *ctx, const char *path, vouch_pass_fn pass_fn, void *userdata,
		   vouch_key **ret_key);

/**
 * vouch_key_load_mem() - like vouch_key_load() from memory (no file mode check)
 * Since: 0.1
 */
int vouch_key_load_mem(vouch_ctx *ctx, const uint8_t *buf, size_t len, vouch_pass_fn pass_fn,
		       void *userdata, vouch_key **ret_key);

/** vouch_key_free() - release a key; NULL is accepted. Since: 0.1 */
void vouch_key_free(vouch_key *key);

/** vouch_key_type() - enum vouch_key_type of @key. Since: 0.1 */
int vouch_key_type(const vouch_key *key);

/** vouch_key_bits() - key size in bits (modulus or curve order). Since: 0.1 */
unsigned vouch_key_bits(const vouch_key *key);

/**
 * struct vouch_keygen_options - what vouch_key_generate() makes
 * @version: must be 1
 * @type: VOUCH_KEY_RSA or VOUCH_KEY_EC
 * @bits: RSA modulus size (2048 when 0; 1024 to 16384)
 * @curve: EC curve name, "prime256v1"/"P-256" when NULL; P-384 and P-521 too
 * @subject: one-line subject ("/CN=x/O=y" or "CN=x,O=y"); "CN=vouch signing key" when NULL
 * @days: certificate validity in days (3650 when 0)
 * @serial: certificate serial; a random 64-bit one when 0
 * @reserved: must be zero
 */
struct vouch_keygen_options {
	uint32_t version;
	int type;
	unsigned bits;
	const char *curve;
	const char *subject;
	unsigned days;
	uint64_t serial;
	uint64_t reserved[8];
};
#define VOUCH_KEYGEN_OPTIONS_INIT { .version = 1, .type = VOUCH_KEY_RSA }

/**
 * vouch_key_generate() - make a key pair and a self-signed code-signing certificate
 * @ctx: the context
 * @opts: the options
 * @ret_key: the key
 * @ret_cert: the certificate: subjectKeyIdentifier (hash), authorityKeyIdentifier,
 *            keyUsage=digitalSignature, extendedKeyUsage=codeSigning, CA:FALSE, sha256
 *
 * Return: 0, -EINVAL, -EIO (OpenSSL failure), -ENOMEM.
 * Since: 0.1
 */
int vouch_key_generate(vouch_ctx *ctx, const struct vouch_keygen_options *opts,
		       vouch_key **ret_key, vouch_cert **ret_cert);

/**
 * vouch_key_save() - write @key as PKCS#8 PEM, created 0600 with O_EXCL (never overwrites)
 * Return: 0, -EEXIST, other open(2)/write(2) errors, -EIO.
 * Since: 0.1
 */
int vouch_key_save(vouch_ctx *ctx, const vouch_key *key, const char *path);

/**
 * vouch_key_matches_cert() - whether @cert holds the public half of @key
 * Return: true or false.
 * Since: 0.1
 */
bool vouch_key_matches_cert(const vouch_key *key, const vouch_cert *cert);

/**
 * vouch_cert_load() - load one certificate (PEM or DER; the first one of a PEM file)
 * Return: 0; open/read errors; -EBADMSG (not a certificate); -ENOMEM.
 * Since: 0.1
 */
int vouch_cert_load(vouch_ctx *ctx, const char *path, vouch_cert **ret_cert);

/**
 * vouch_cert_load_mem() - like vouch_cert_load() from memory
 * Since: 0.1
 */
int vouch_cert_load_mem(vouch_ctx *ctx, const uint8_t *buf, size_t len, vouch_cert **ret_cert);

/** vouch_cert_free() - release a certificate; NULL is accepted. Since: 0.1 */
void vouch_cert_free(vouch_cert *cert);

/**
 * vouch_cert_save() - write @cert as PEM (temp file, fsync, rename)
 * Return: 0, or open/write errors, -EIO.
 * Since: 0.1
 */
int vouch_cert_save(vouch_ctx *ctx, const vouch_cert *cert, const char *path);

/**
 * struct vouch_cert_info - what a certificate says; all pointers owned by the certificate
 * @subject: one-line RFC 2253 subject
 * @issuer: one-line RFC 2253 issuer
 * @serial: serial number bytes (big endian, minimal)
 * @serial_len: their number
 * @skid: subjectKeyIdentifier bytes, NULL if the extension is missing
 * @skid_len: their number
 * @has_ima_keyid: whether @ima_keyid is set (needs a SKID of 4 or more bytes)
 * @ima_keyid: the IMA key id, the last four SKID bytes read big endian
 * @key_type: enum vouch_key_type
 * @key_bits: key size in bits
 * @curve: EC curve short name, or NULL
 * @not_before: validity start, seconds since the epoch
 * @not_after: validity end, seconds since the epoch
 * @is_ca: basicConstraints CA:TRUE
 * @code_signing: extendedKeyUsage absent or containing codeSigning
 */
struct vouch_cert_info {
	const char *subject;
	const char *issuer;
	const uint8_t *serial;
	size_t serial_len;
	const uint8_t *skid;
	size_t skid_len;
	bool has_ima_keyid;
	uint32_t ima_keyid;
	int key_type;
	unsigned key_bits;
	const char *curve;
	int64_t not_before;
	int64_t not_after;
	bool is_ca;
	bool code_signing;
};

/**
 * vouch_cert_get_info() - describe a certificate
 * @cert: the certificate
 * @ret_info: filled in; valid while @cert lives
 * Return: 0.
 * Since: 0.1
 */
int vouch_cert_get_info(const vouch_cert *cert, struct vouch_cert_info *ret_info);

/**
 * vouch_cert_get_der() - the certificate's DER encoding
 * @cert: the certificate
 * @ret_der: pointer to bytes owned by @cert
 * @ret_len: their number
 * Return: 0.
 * Since: 0.1
 */
int vouch_cert_get_der(const vouch_cert *cert, const uint8_t **ret_der, size_t *ret_len);

/**
 * vouch_trust_new() - an empty trust store
 * Return: 0, -ENOMEM.
 * Since: 0.1
 */
int vouch_trust_new(vouch_ctx *ctx, vouch_trust **ret_trust);

/** vouch_trust_free() - release a trust store; NULL is accepted. Since: 0.1 */
void vouch_trust_free(vouch_trust *trust);

/**
 * vouch_trust_add_cert() - add a certificate under a keyring name
 * @trust: the store
 * @cert: the certificate; the store takes its own reference
 * @keyring: a name such as "builtin", "secondary", "platform", ".ima"; "default" when NULL
 * Return: 0, -EINVAL, -ENOMEM.
 * Since: 0.1
 */
int vouch_trust_add_cert(vouch_trust *trust, const vouch_cert *cert, const char *keyring);

/**
 * vouch_trust_add_path() - add every certificate found at @path
 * @trust: the store
 * @path: one certificate (PEM/DER), a PEM bundle, or a directory of such files
 *        (files that hold no certificate are an error, not skipped)
 * @keyring: as for vouch_trust_add_cert()
 * Return: 0; open/read errors; -EBADMSG (a file is not a certificate); -ENOENT (an empty
 * directory); -ENOMEM.
 * Since: 0.1
 */
int vouch_trust_add_path(vouch_trust *trust, const char *path, const char *keyring);

/** vouch_trust_count() - number of certificates in @trust. Since: 0.1 */
size_t vouch_trust_count(const vouch_trust *trust);

/**
 * vouch_trust_get() - the @index-th certificate and its keyring name (owned by @trust)
 * Return: 0 or -ERANGE.
 * Since: 0.1
 */
int vouch_trust_get(const vouch_trust *trust, size_t index, const vouch_cert **ret_cert,
		    const char **ret_keyring);

/**
 * vouch_trust_find_keyid() - find a certificate by IMA key id (SKID tail match, as the
 * kernel's "id:%08x" lookup)
 * Return: 0, or -ENOKEY.
 * Since: 0.1
 */
int vouch_trust_find_keyid(const vouch_trust *trust, uint32_t keyid, const vouch_cert **ret_cert,
			   const char **ret_keyring);

/**
 * vouch_trust_find_skid() - find a certificate by its exact subjectKeyIdentifier
 * Return: 0, or -ENOKEY.
 * Since: 0.1
 */
int vouch_trust_find_skid(const vouch_trust *trust, const uint8_t *skid, size_t skid_len,
			  const vouch_cert **ret_cert, const char **ret_keyring);

/**
 * vouch_trust_find_issuer_serial() - find a certificate by DER issuer name and serial bytes
 * @issuer_der: the issuer Name, DER encoded (whole SEQUENCE)
 * @serial: serial number bytes, big endian
 * Return: 0, or -ENOKEY.
 * Since: 0.1
 */
int vouch_trust_find_issuer_serial(const vouch_trust *trust, const uint8_t *issuer_der,
				   size_t issuer_len, const uint8_t *serial, size_t serial_len,
				   const vouch_cert **ret_cert, const char **ret_keyring);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_KEY_H */
