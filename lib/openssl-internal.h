/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The key module's internals (key.c, key-cert.c, key-trust.c): the structures behind the key,
 * certificate and trust store handles, and cleanup helpers for OpenSSL types.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_OPENSSL_INTERNAL_H
#define VOUCH_LIB_OPENSSL_INTERNAL_H

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "internal.h"

/* Defines T_freep(T **) calling T_free(), for OpenSSL types whose destructor is named so. */
#define OSSL_FREEP(T) DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(T *, T##_freep, T##_free)

OSSL_FREEP(EVP_PKEY) OSSL_FREEP(EVP_PKEY_CTX) OSSL_FREEP(EVP_MD_CTX) OSSL_FREEP(EVP_CIPHER_CTX)
OSSL_FREEP(EVP_MAC) OSSL_FREEP(EVP_MAC_CTX)
OSSL_FREEP(X509) OSSL_FREEP(X509_NAME) OSSL_FREEP(X509_EXTENSION) OSSL_FREEP(X509_STORE)
OSSL_FREEP(X509_STORE_CTX)
OSSL_FREEP(ASN1_INTEGER) OSSL_FREEP(ASN1_OCTET_STRING) OSSL_FREEP(CMS_ContentInfo)
OSSL_FREEP(ECDSA_SIG)
/* the exceptions: a plain free(), a whole BIO chain, BIGNUM's short name */
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(X509V3_CTX *, X509V3_CTX_freep, free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(BIO *, BIO_freep, BIO_free_all)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(BIGNUM *, BN_freep, BN_free)

struct vouch_key {
	EVP_PKEY *pkey;
};

struct vouch_cert {
	int refs;
	X509 *x509;
	EVP_PKEY *pubkey; /* borrowed from x509 via X509_get0_pubkey */
	uint8_t *der;
	size_t der_len;
	char *subject;
	char *issuer;
	uint8_t *serial;
	size_t serial_len;
	uint8_t *skid;
	size_t skid_len;
	uint8_t *issuer_der;
	size_t issuer_der_len;
	struct vouch_cert_info info;
};

struct trust_entry {
	struct vouch_cert *cert;
	char *keyring;
};

struct vouch_trust {
	vouch_ctx *ctx;
	struct trust_entry *entries;
	size_t n, cap;
};

/* A key or certificate file is never legitimately larger than this. */
#define KEY_FILE_MAX (1024 * 1024)

/* VOUCH_KEY_RSA, VOUCH_KEY_EC or VOUCH_KEY_OTHER for an OpenSSL key. */
int key_pkey_type(const EVP_PKEY *pkey);
/* @buf holds a PEM block ("-----BEGIN "), not DER. */
bool key_looks_pem(const uint8_t *buf, size_t len);
/* The bytes written to memory BIO @bio (owned by it): 0, or -EIO. */
int key_bio_to_mem(BIO *bio, const uint8_t **ret, size_t *ret_len);
/* Every certificate in a buffer (PEM bundle or DER, @name in messages), each given to @fn. */
int cert_load_all_mem(vouch_ctx *ctx, const uint8_t *buf, size_t len, const char *name,
		      int (*fn)(vouch_ctx *, X509 *, void *), void *userdata);

/* Internal accessors used by the signature modules. */
EVP_PKEY *key_pkey(const vouch_key *key);
EVP_PKEY *cert_pkey(const vouch_cert *cert);
X509 *cert_x509(const vouch_cert *cert);
vouch_cert *cert_ref(const vouch_cert *cert);
/* Wrap an X509 (reference taken) into a vouch_cert. */
int cert_from_x509(vouch_ctx *ctx, X509 *x509, vouch_cert **ret);
/* Map a key to the digest/signature OIDs; returns the EVP_MD for @algo. */
const EVP_MD *ssl_md(vouch_ctx *ctx, int algo);

#endif /* VOUCH_LIB_OPENSSL_INTERNAL_H */
