/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internals of the modsig module: the DER reader and PKCS#7 decoder of lib/modsig.c, used
 * by the signer (lib/modsig-sign.c, to build its RSA template) and the verifier
 * (lib/modsig-verify.c); and the verifier over a digest already computed, for the
 * measurement lists' ima-modsig entries (lib/log-sig.c).
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_MODSIG_INTERNAL_H
#define VOUCH_LIB_MODSIG_INTERNAL_H

#include "cursor.h"
#include "internal.h"
#include <vouch/log.h>
#include <vouch/modsig.h>

/* A signed blob the kernel loads is never near this size (kernel_read_file() uses INT_MAX). */
#define MODSIG_FILE_MAX ((size_t)INT32_MAX)

#define TAG_INTEGER 0x02
#define TAG_OCTET_STRING 0x04
#define TAG_OID 0x06
#define TAG_SEQUENCE 0x30
#define TAG_SET 0x31
#define TAG_CTX0 0xa0 /* [0] constructed */
#define TAG_CTX1 0xa1
#define TAG_CTX2 0xa2
#define TAG_CTX3 0xa3
#define TAG_CTX0_PRIM 0x80 /* [0] IMPLICIT OCTET STRING */

struct tlv {
	uint8_t tag;
	const uint8_t *start; /* the whole TLV */
	size_t total;
	struct cursor val; /* the value */
};

struct oid_row {
	uint8_t len;
	uint8_t bytes[10];
	int value;	   /* digest: enum vouch_hash_algo; signature: enum vouch_key_type */
	int hash;	   /* signature rows: the hash bound to the OID, -1 for rsaEncryption */
	const char *name;
};

struct pk7 {
	struct vouch_modsig_info *info;
	int sd_version;		/* -1 when not a one-byte INTEGER */
	int si_version;
	bool content_is_data;
	bool has_content;
	bool has_authattrs;
	const uint8_t *digest_oid;
	size_t digest_oid_len;
	const uint8_t *sig_oid;
	size_t sig_oid_len;
	const struct oid_row *sig_row; /* NULL when not one vouch verifies */
};

/* One definite-length TLV with a low tag number; anything else is malformed (-EBADMSG). */
int modsig_der_next(struct cursor *c, struct tlv *t);
/* Decode a PKCS#7 SignedData into @p (and @p->info); -EBADMSG with a message, -ENOMEM. */
int modsig_pk7_decode(vouch_ctx *ctx, const uint8_t *der, size_t len, struct pk7 *p);
void modsig_info_init(struct vouch_modsig_info *info, size_t file_len);
/* 1.2.840.113549.1.1: sha*WithRSAEncryption and friends, named in the refusal */
extern const uint8_t modsig_oid_pkcs1_prefix[8];
/* The negative errno of an enum vouch_modsig_status (0 for VOUCH_MODSIG_OK). */
int modsig_status_errno(int status);
/* The permission bits of the regular file @path; -EISDIR, -EINVAL, or stat's error. */
int modsig_file_mode(vouch_ctx *ctx, const char *path, unsigned *ret_mode);

/*
 * The PKCS#7 verifier of vouch_modsig_verify() (lib/modsig-verify.c) over a payload digest
 * already computed, with the default policy (allow-list sha224..sha512, no blacklist).
 * Fills @ret (status, failed, signer); returns 0 after judging, or a negative errno when
 * the check could not run.
 */
int modsig_verify_pkcs7_digest(vouch_ctx *ctx, const vouch_trust *trust, vouch_sig_cache *cache,
			       const uint8_t *p7, size_t p7_len, const struct vouch_digest *digest,
			       struct vouch_modsig_result *ret);

#endif /* VOUCH_LIB_MODSIG_INTERNAL_H */
