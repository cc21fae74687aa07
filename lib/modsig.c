// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Appended and detached PKCS#7 signatures ("modsig"), FORMATS.md §1.
 *
 * Signing goes through OpenSSL's CMS API with exactly the calls and flags of the kernel's
 * scripts/sign-file, so RSA output is byte-identical.  Verification does not use OpenSSL's
 * CMS code: it is more permissive than the kernel (signed attributes, other signature
 * OIDs, embedded content), so the message is decoded here through the bounds-checked
 * cursor and every rule of crypto/asymmetric_keys/pkcs7_{parser,verify}.c that applies to
 * VERIFYING_MODULE_SIGNATURE is checked explicitly; only the final public-key operation
 * (EVP_PKEY_verify over the payload digest) is OpenSSL's.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "cursor.h"
#include "internal.h"
#include "openssl-internal.h"
#include "modsig-internal.h"
#include "sigv2-internal.h"

/* --- names --------------------------------------------------------------------------- */

static const char *const status_names[_VOUCH_MODSIG_STATUS_MAX] = {
	[VOUCH_MODSIG_OK] = "ok",
	[VOUCH_MODSIG_NO_SIGNATURE] = "no signature",
	[VOUCH_MODSIG_BAD_TRAILER] = "malformed trailer",
	[VOUCH_MODSIG_BAD_PKCS7] = "malformed PKCS#7",
	[VOUCH_MODSIG_ALGO_NOT_ALLOWED] = "algorithm not allowed",
	[VOUCH_MODSIG_UNKNOWN_SIGNER] = "unknown signer",
	[VOUCH_MODSIG_BAD_SIGNATURE] = "bad signature",
	[VOUCH_MODSIG_BLACKLISTED] = "blacklisted",
};

static const int status_errno[_VOUCH_MODSIG_STATUS_MAX] = {
	[VOUCH_MODSIG_OK] = 0,
	[VOUCH_MODSIG_NO_SIGNATURE] = -ENODATA,
	[VOUCH_MODSIG_BAD_TRAILER] = -EBADMSG,
	[VOUCH_MODSIG_BAD_PKCS7] = -EBADMSG,
	[VOUCH_MODSIG_ALGO_NOT_ALLOWED] = -EPERM,
	[VOUCH_MODSIG_UNKNOWN_SIGNER] = -ENOKEY,
	[VOUCH_MODSIG_BAD_SIGNATURE] = -EKEYREJECTED,
	[VOUCH_MODSIG_BLACKLISTED] = -EPERM,
};

VOUCH_EXPORT const char *vouch_modsig_status_name(int status)
{
	if (status < 0 || status >= _VOUCH_MODSIG_STATUS_MAX)
		return "unknown";
	return status_names[status];
}

/* --- OIDs (DER content bytes) -------------------------------------------------------- */

static const uint8_t oid_signed_data[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02 };
static const uint8_t oid_data[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01 };

struct oid_row {
	uint8_t len;
	uint8_t bytes[10];
	int value;	   /* digest: enum vouch_hash_algo; signature: enum vouch_key_type */
	int hash;	   /* signature rows: the hash bound to the OID, -1 for rsaEncryption */
	const char *name;
};

/* pkcs7_sig_note_digest_algo(): the digests the 6.1 kernel knows */
static const struct oid_row digest_oids[] = {
	{ 8, { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x04 }, VOUCH_HASH_MD4, 0, "md4" },
	{ 8, { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05 }, VOUCH_HASH_MD5, 0, "md5" },
	{ 5, { 0x2b, 0x0e, 0x03, 0x02, 0x1a }, VOUCH_HASH_SHA1, 0, "sha1" },
	{ 9, { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 }, VOUCH_HASH_SHA256, 0, "sha256" },
	{ 9, { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02 }, VOUCH_HASH_SHA384, 0, "sha384" },
	{ 9, { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03 }, VOUCH_HASH_SHA512, 0, "sha512" },
	{ 9, { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04 }, VOUCH_HASH_SHA224, 0, "sha224" },
	{ 8, { 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x11 }, VOUCH_HASH_SM3, 0, "sm3" },
	{ 8, { 0x2a, 0x85, 0x03, 0x07, 0x01, 0x01, 0x02, 0x02 }, VOUCH_HASH_STREEBOG256, 0,
	  "streebog256" },
	{ 8, { 0x2a, 0x85, 0x03, 0x07, 0x01, 0x01, 0x02, 0x03 }, VOUCH_HASH_STREEBOG512, 0,
	  "streebog512" },
};

/*
 * pkcs7_sig_note_pkey_algo(): what vouch verifies.  The kernel also knows SM2 and GOST,
 * which vouch does not verify (reported as "algorithm not allowed").
 */
static const struct oid_row sig_oids[] = {
	{ 9, { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 }, VOUCH_KEY_RSA, -1,
	  "rsaEncryption" },
	{ 7, { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01 }, VOUCH_KEY_EC, VOUCH_HASH_SHA1,
	  "ecdsa-with-SHA1" },
	{ 8, { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x01 }, VOUCH_KEY_EC, VOUCH_HASH_SHA224,
	  "ecdsa-with-SHA224" },
	{ 8, { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 }, VOUCH_KEY_EC, VOUCH_HASH_SHA256,
	  "ecdsa-with-SHA256" },
	{ 8, { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03 }, VOUCH_KEY_EC, VOUCH_HASH_SHA384,
	  "ecdsa-with-SHA384" },
	{ 8, { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04 }, VOUCH_KEY_EC, VOUCH_HASH_SHA512,
	  "ecdsa-with-SHA512" },
};

/* 1.2.840.113549.1.1.x: sha*WithRSAEncryption and friends, named in the refusal */
static const uint8_t oid_pkcs1_prefix[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01 };

static bool oid_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

static const struct oid_row *oid_lookup(const struct oid_row *t, size_t n, const uint8_t *oid,
					size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (oid_eq(t[i].bytes, t[i].len, oid, len))
			return &t[i];
	return NULL;
}

/* --- DER through the cursor ----------------------------------------------------------- */

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

/* One definite-length TLV with a low tag number; anything else is malformed. */
static int der_next(struct cursor *c, struct tlv *t)
{
	struct cursor save = *c;
	const uint8_t *start = c->p;
	uint8_t tag, b;
	size_t len = 0;

	if (cur_u8(c, &tag) < 0 || cur_u8(c, &b) < 0)
		goto bad;
	if ((tag & 0x1f) == 0x1f)
		goto bad;
	if (b & 0x80) {
		unsigned n = b & 0x7f;

		/* 0x80 is BER indefinite length: never produced by sign-file, not DER */
		if (n == 0 || n > 4)
			goto bad;
		for (unsigned i = 0; i < n; i++) {
			if (cur_u8(c, &b) < 0)
				goto bad;
			len = len << 8 | b;
		}
	} else {
		len = b;
	}
	if (cur_sub(c, len, &t->val) < 0)
		goto bad;
	t->tag = tag;
	t->start = start;
	t->total = (size_t)(c->p - start);
	return 0;
bad:
	*c = save;
	return -EBADMSG;
}

static bool der_peek(const struct cursor *c, uint8_t tag)
{
	return cur_left(c) > 0 && c->p[0] == tag;
}

/* --- PKCS#7 decoding ------------------------------------------------------------------ */

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

/* Record a fatal decoding error: the structure cannot be read any further. */
#define pk7_bad(ctx, what) ctx_err(ctx, -EBADMSG, "malformed PKCS#7: %s", what)

static int der_expect(vouch_ctx *ctx, struct cursor *c, uint8_t tag, struct tlv *t,
		      const char *what)
{
	if (der_next(c, t) < 0)
		return ctx_err(ctx, -EBADMSG, "malformed PKCS#7: cannot read %s", what);
	if (t->tag != tag)
		return ctx_err(ctx, -EBADMSG, "malformed PKCS#7: %s has tag 0x%02x, expected 0x%02x",
			       what, t->tag, tag);
	return 0;
}

static int der_small_int(const struct tlv *t)
{
	if (cur_left(&t->val) != 1)
		return -1;
	return t->val.p[0];
}

/* AlgorithmIdentifier ::= SEQUENCE { OID, parameters ANY OPTIONAL }; parameters ignored. */
static int der_algo(vouch_ctx *ctx, struct cursor *c, const char *what, const uint8_t **ret_oid,
		    size_t *ret_len)
{
	struct tlv seq, oid, params;
	int r;

	r = der_expect(ctx, c, TAG_SEQUENCE, &seq, what);
	if (r < 0)
		return r;
	r = der_expect(ctx, &seq.val, TAG_OID, &oid, what);
	if (r < 0)
		return r;
	if (cur_left(&seq.val) && der_next(&seq.val, &params) < 0)
		return ctx_err(ctx, -EBADMSG, "malformed PKCS#7: bad parameters in %s", what);
	if (cur_left(&seq.val))
		return ctx_err(ctx, -EBADMSG, "malformed PKCS#7: trailing data in %s", what);
	*ret_oid = oid.val.p;
	*ret_len = cur_left(&oid.val);
	return 0;
}

static void name_text(const uint8_t *der, size_t len, struct vouch_modsig_info *info)
{
	const unsigned char *p = der;
	_cleanup_(X509_NAME_freep) X509_NAME *name = NULL;
	_cleanup_(BIO_freep) BIO *bio = NULL;
	int i;

	if (len > INT32_MAX)
		return;
	name = d2i_X509_NAME(NULL, &p, (long)len);
	if (!name)
		goto out;
	i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (i >= 0) {
		const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
		unsigned char *utf8 = NULL;
		int n = s ? ASN1_STRING_to_UTF8(&utf8, s) : -1;

		if (n > 0)
			snprintf(info->signer, sizeof(info->signer), "%.*s", n, (char *)utf8);
		OPENSSL_free(utf8);
	}
	bio = BIO_new(BIO_s_mem());
	if (bio && X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		char *mem = NULL;
		long n = BIO_get_mem_data(bio, &mem);

		if (n > 0)
			snprintf(info->issuer, sizeof(info->issuer), "%.*s", (int)n, mem);
	}
	/* the names come from untrusted input: no control characters reach a terminal */
	for (char *s = info->signer; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	for (char *s = info->issuer; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
out:
	ssl_clear_errors();
}

static int decode_signer_info(vouch_ctx *ctx, struct cursor *c, struct pk7 *p)
{
	struct vouch_modsig_info *info = p->info;
	struct tlv si, ver, sid, sig;
	int r;

	r = der_expect(ctx, c, TAG_SEQUENCE, &si, "SignerInfo");
	if (r < 0)
		return r;
	r = der_expect(ctx, &si.val, TAG_INTEGER, &ver, "SignerInfo version");
	if (r < 0)
		return r;
	p->si_version = der_small_int(&ver);
	if (der_next(&si.val, &sid) < 0)
		return pk7_bad(ctx, "cannot read the signer identifier");
	if (sid.tag == TAG_SEQUENCE) {
		struct tlv issuer, serial;

		r = der_expect(ctx, &sid.val, TAG_SEQUENCE, &issuer, "issuer name");
		if (r < 0)
			return r;
		r = der_expect(ctx, &sid.val, TAG_INTEGER, &serial, "serial number");
		if (r < 0)
			return r;
		if (cur_left(&sid.val))
			return pk7_bad(ctx, "trailing data in issuerAndSerialNumber");
		if (cur_left(&serial.val) == 0)
			return pk7_bad(ctx, "empty serial number");
		info->signer_id = VOUCH_MODSIG_ISSUER_SERIAL;
		info->issuer_der = issuer.start;
		info->issuer_der_len = issuer.total;
		info->serial = serial.val.p;
		info->serial_len = cur_left(&serial.val);
		name_text(issuer.start, issuer.total, info);
	} else if (sid.tag == TAG_CTX0_PRIM) {
		if (cur_left(&sid.val) == 0)
			return pk7_bad(ctx, "empty subjectKeyIdentifier");
		info->signer_id = VOUCH_MODSIG_SKID;
		info->skid = sid.val.p;
		info->skid_len = cur_left(&sid.val);
	} else {
		return ctx_err(ctx, -EBADMSG,
			       "malformed PKCS#7: signer identifier has tag 0x%02x", sid.tag);
	}
	r = der_algo(ctx, &si.val, "SignerInfo digestAlgorithm", &p->digest_oid,
		     &p->digest_oid_len);
	if (r < 0)
		return r;
	if (der_peek(&si.val, TAG_CTX0) || der_peek(&si.val, TAG_CTX2)) {
		struct tlv attrs;

		if (der_next(&si.val, &attrs) < 0)
			return pk7_bad(ctx, "cannot read the authenticated attributes");
		p->has_authattrs = true;
	}
	r = der_algo(ctx, &si.val, "SignerInfo digestEncryptionAlgorithm", &p->sig_oid,
		     &p->sig_oid_len);
	if (r < 0)
		return r;
	r = der_expect(ctx, &si.val, TAG_OCTET_STRING, &sig, "encryptedDigest");
	if (r < 0)
		return r;
	info->signature = sig.val.p;
	info->signature_len = cur_left(&sig.val);
	if (der_peek(&si.val, TAG_CTX1) || der_peek(&si.val, TAG_CTX3)) {
		struct tlv attrs;

		if (der_next(&si.val, &attrs) < 0)
			return pk7_bad(ctx, "cannot read the unauthenticated attributes");
	}
	if (cur_left(&si.val))
		return pk7_bad(ctx, "trailing data in SignerInfo");

	{
		const struct oid_row *d = oid_lookup(digest_oids, ARRAY_SIZE(digest_oids),
						     p->digest_oid, p->digest_oid_len);

		info->hash_algo = d ? d->value : -1;
	}
	p->sig_row = oid_lookup(sig_oids, ARRAY_SIZE(sig_oids), p->sig_oid, p->sig_oid_len);
	info->key_type = p->sig_row ? p->sig_row->value : VOUCH_KEY_OTHER;
	return 0;
}

/*
 * Decode ContentInfo/SignedData/SignerInfo (crypto/asymmetric_keys/pkcs7.asn1).  Returns
 * -EBADMSG only when the structure cannot be read; rule violations are left in @p for
 * the verifier to judge.
 */
static int pk7_decode(vouch_ctx *ctx, const uint8_t *der, size_t len, struct pk7 *p)
{
	struct cursor c;
	struct tlv ci, ct, wrap, sd, ver, algs, inner, inner_ct, sis;
	int r;

	cur_init(&c, der, len);
	if (len == 0)
		return pk7_bad(ctx, "empty");
	r = der_expect(ctx, &c, TAG_SEQUENCE, &ci, "ContentInfo");
	if (r < 0)
		return r;
	if (cur_left(&c))
		return ctx_err(ctx, -EBADMSG, "malformed PKCS#7: %zu bytes after the ContentInfo",
			       cur_left(&c));
	r = der_expect(ctx, &ci.val, TAG_OID, &ct, "contentType");
	if (r < 0)
		return r;
	if (!oid_eq(ct.val.p, cur_left(&ct.val), oid_signed_data, sizeof(oid_signed_data)))
		return pk7_bad(ctx, "contentType is not signedData");
	r = der_expect(ctx, &ci.val, TAG_CTX0, &wrap, "SignedData wrapper");
	if (r < 0)
		return r;
	if (cur_left(&ci.val))
		return pk7_bad(ctx, "trailing data in ContentInfo");
	r = der_expect(ctx, &wrap.val, TAG_SEQUENCE, &sd, "SignedData");
	if (r < 0)
		return r;
	if (cur_left(&wrap.val))
		return pk7_bad(ctx, "trailing data after SignedData");

	r = der_expect(ctx, &sd.val, TAG_INTEGER, &ver, "SignedData version");
	if (r < 0)
		return r;
	p->sd_version = der_small_int(&ver);
	/* DigestAlgorithmIdentifiers: a SET or a SEQUENCE; the kernel ignores the content */
	if (der_next(&sd.val, &algs) < 0 || (algs.tag != TAG_SET && algs.tag != TAG_SEQUENCE))
		return pk7_bad(ctx, "cannot read digestAlgorithms");
	r = der_expect(ctx, &sd.val, TAG_SEQUENCE, &inner, "encapsulated contentInfo");
	if (r < 0)
		return r;
	r = der_expect(ctx, &inner.val, TAG_OID, &inner_ct, "encapsulated contentType");
	if (r < 0)
		return r;
	p->content_is_data = oid_eq(inner_ct.val.p, cur_left(&inner_ct.val), oid_data,
				    sizeof(oid_data));
	if (cur_left(&inner.val)) {
		struct tlv content;

		if (der_next(&inner.val, &content) < 0 || content.tag != TAG_CTX0 ||
		    cur_left(&inner.val))
			return pk7_bad(ctx, "cannot read the encapsulated content");
		p->has_content = true;
	}
	/* certificates [0]/[2] and crls [1]/[3]: only used for chains, which vouch does not
	 * build (the signer must be in the trust store itself) */
	if (der_peek(&sd.val, TAG_CTX0) || der_peek(&sd.val, TAG_CTX2)) {
		struct tlv certs;

		if (der_next(&sd.val, &certs) < 0)
			return pk7_bad(ctx, "cannot read the certificates");
	}
	if (der_peek(&sd.val, TAG_CTX1) || der_peek(&sd.val, TAG_CTX3)) {
		struct tlv crls;

		if (der_next(&sd.val, &crls) < 0)
			return pk7_bad(ctx, "cannot read the CRLs");
	}
	if (der_next(&sd.val, &sis) < 0 || (sis.tag != TAG_SET && sis.tag != TAG_SEQUENCE))
		return pk7_bad(ctx, "cannot read signerInfos");
	if (cur_left(&sd.val))
		return pk7_bad(ctx, "trailing data in SignedData");
	p->info->n_signers = 0;
	while (cur_left(&sis.val)) {
		if (p->info->n_signers == 0) {
			r = decode_signer_info(ctx, &sis.val, p);
			if (r < 0)
				return r;
		} else {
			struct tlv other;

			/* only one is judged; more than one is refused by the verifier */
			if (der_next(&sis.val, &other) < 0 || other.tag != TAG_SEQUENCE)
				return pk7_bad(ctx, "cannot read a SignerInfo");
		}
		if (p->info->n_signers++ > 64)
			return pk7_bad(ctx, "too many SignerInfos");
	}
	if (p->info->n_signers == 0)
		return pk7_bad(ctx, "no SignerInfo");
	return 0;
}

static void info_init(struct vouch_modsig_info *info, size_t file_len)
{
	memset(info, 0, sizeof(*info));
	info->file_len = file_len;
	info->hash_algo = -1;
	info->signer_id = -1;
}

VOUCH_EXPORT int vouch_modsig_parse_pkcs7(vouch_ctx *ctx, const uint8_t *der, size_t len,
					  struct vouch_modsig_info *ret_info)
{
	struct vouch_modsig_info info;
	struct pk7 p = { .info = &info };
	int r;

	if (!ctx || (!der && len) || !ret_info)
		return -EINVAL;
	info_init(&info, len);
	info.sig_len = len;
	r = pk7_decode(ctx, der, len, &p);
	if (r < 0)
		return r;
	*ret_info = info;
	return 0;
}

/* --- the trailer ---------------------------------------------------------------------- */

/*
 * kernel/module/signing.c: module_sig_check() + mod_verify_sig() +
 * kernel/module_signature.c: mod_check_sig().
 */
VOUCH_EXPORT int vouch_modsig_find(vouch_ctx *ctx, const uint8_t *buf, size_t len,
				   size_t *ret_payload_len, size_t *ret_sig_len)
{
	struct cursor c;
	uint8_t algo, hash, id_type, signer_len, key_id_len, pad[3];
	uint32_t sig_len;
	size_t flen;

	if (!ctx || (!buf && len) || !ret_payload_len || !ret_sig_len)
		return -EINVAL;
	if (len <= VOUCH_MODSIG_MARKER_LEN ||
	    memcmp(buf + len - VOUCH_MODSIG_MARKER_LEN, VOUCH_MODSIG_MARKER,
		   VOUCH_MODSIG_MARKER_LEN) != 0)
		return ctx_err(ctx, -ENODATA, "no signature marker at the end of the file");
	flen = len - VOUCH_MODSIG_MARKER_LEN;
	if (flen <= VOUCH_MODSIG_STRUCT_LEN)
		return ctx_err(ctx, -EBADMSG,
			       "malformed trailer: %zu bytes before the marker, too short for "
			       "struct module_signature",
			       flen);
	cur_init(&c, buf + flen - VOUCH_MODSIG_STRUCT_LEN, VOUCH_MODSIG_STRUCT_LEN);
	if (cur_u8(&c, &algo) < 0 || cur_u8(&c, &hash) < 0 || cur_u8(&c, &id_type) < 0 ||
	    cur_u8(&c, &signer_len) < 0 || cur_u8(&c, &key_id_len) < 0 ||
	    cur_copy(&c, pad, sizeof(pad)) < 0 || cur_u32be(&c, &sig_len) < 0)
		return ctx_err(ctx, -EBADMSG, "malformed trailer: short struct module_signature");
	/* mod_check_sig() checks in this order */
	if (sig_len >= flen - VOUCH_MODSIG_STRUCT_LEN)
		return ctx_err(ctx, -EBADMSG,
			       "malformed trailer: sig_len %u reaches past the start of the file "
			       "(%zu bytes before the struct)",
			       sig_len, flen - VOUCH_MODSIG_STRUCT_LEN);
	if (id_type != 2)
		return ctx_err(ctx, -EBADMSG,
			       "malformed trailer: id_type %u is not PKEY_ID_PKCS7 (2)", id_type);
	if (algo || hash || signer_len || key_id_len || pad[0] || pad[1] || pad[2])
		return ctx_err(ctx, -EBADMSG,
			       "malformed trailer: struct module_signature has non-zero fields "
			       "(algo %u hash %u signer_len %u key_id_len %u)",
			       algo, hash, signer_len, key_id_len);
	*ret_payload_len = flen - VOUCH_MODSIG_STRUCT_LEN - sig_len;
	*ret_sig_len = sig_len;
	return 0;
}

VOUCH_EXPORT int vouch_modsig_parse(vouch_ctx *ctx, const uint8_t *buf, size_t len,
				    struct vouch_modsig_info *ret_info)
{
	struct vouch_modsig_info info;
	struct pk7 p = { .info = &info };
	size_t plen, slen;
	int r;

	if (!ctx || (!buf && len) || !ret_info)
		return -EINVAL;
	r = vouch_modsig_find(ctx, buf, len, &plen, &slen);
	if (r < 0)
		return r;
	info_init(&info, len);
	info.payload_len = plen;
	info.sig_offset = plen;
	info.sig_len = slen;
	r = pk7_decode(ctx, buf + plen, slen, &p);
	if (r < 0)
		return r;
	*ret_info = info;
	return 0;
}

VOUCH_EXPORT int vouch_modsig_make_trailer(vouch_ctx *ctx, const uint8_t *pkcs7, size_t len,
					   uint8_t **ret_trailer, size_t *ret_len)
{
	size_t total;
	uint8_t *t;

	if (!ctx || !pkcs7 || len == 0 || len > UINT32_MAX || !ret_trailer || !ret_len)
		return -EINVAL;
	total = len + VOUCH_MODSIG_STRUCT_LEN + VOUCH_MODSIG_MARKER_LEN;
	t = mem_alloc(total);
	if (!t)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	memcpy(t, pkcs7, len);
	/* struct module_signature: all zero but id_type = PKEY_ID_PKCS7 and sig_len (BE) */
	memset(t + len, 0, VOUCH_MODSIG_STRUCT_LEN);
	t[len + 2] = 2;
	put_be32(t + len + 8, (uint32_t)len);
	memcpy(t + len + VOUCH_MODSIG_STRUCT_LEN, VOUCH_MODSIG_MARKER, VOUCH_MODSIG_MARKER_LEN);
	*ret_trailer = t;
	*ret_len = total;
	return 0;
}

/* --- signing -------------------------------------------------------------------------- */

struct vouch_modsig_signer {
	vouch_ctx *ctx;
	EVP_PKEY *pkey;
	X509 *x509;
	const EVP_MD *md;
	int hash_algo;
	int signer_id;
	/*
	 * RSA fast path: without signed attributes the only bytes of the message that depend on
	 * the payload are the signature value, and an RSA signature is always modulus-sized.  So
	 * the message is built once with sign-file's CMS calls (over an empty payload) and each
	 * blob only costs a digest and one EVP_PKEY_sign() into a copy of that template.
	 */
	bool tmpl_tried; /* built on first use: a signer that signs nothing costs nothing */
	uint8_t *tmpl;
	size_t tmpl_len;
	size_t tmpl_sig_off;
	size_t tmpl_sig_len;
	EVP_PKEY_CTX *sign_ctx;
};

static int cms_sign(vouch_modsig_signer *s, const uint8_t *payload, size_t len, uint8_t **ret,
		    size_t *ret_len);

/* Build the RSA template; on any surprise the signer simply keeps using CMS per blob. */
static void template_init(vouch_modsig_signer *s)
{
	struct vouch_modsig_info info;
	struct pk7 p = { .info = &info };
	uint8_t *der = NULL;
	size_t der_len;

	if (EVP_PKEY_get_base_id(s->pkey) != EVP_PKEY_RSA)
		return;
	if (cms_sign(s, NULL, 0, &der, &der_len) < 0)
		goto fail;
	info_init(&info, der_len);
	if (pk7_decode(s->ctx, der, der_len, &p) < 0 || p.has_authattrs ||
	    info.signature_len != (size_t)EVP_PKEY_get_size(s->pkey))
		goto fail;
	s->sign_ctx = EVP_PKEY_CTX_new(s->pkey, NULL);
	if (!s->sign_ctx || EVP_PKEY_sign_init(s->sign_ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(s->sign_ctx, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(s->sign_ctx, s->md) <= 0)
		goto fail;
	s->tmpl = der;
	s->tmpl_len = der_len;
	s->tmpl_sig_off = (size_t)(info.signature - der);
	s->tmpl_sig_len = info.signature_len;
	return;
fail:
	EVP_PKEY_CTX_free(s->sign_ctx);
	s->sign_ctx = NULL;
	free(der);
	ssl_clear_errors();
	vouch_ctx_clear_error(s->ctx);
}

VOUCH_EXPORT int vouch_modsig_signer_new(vouch_ctx *ctx, const vouch_key *key,
					 const vouch_cert *cert,
					 const struct vouch_modsig_sign_options *opts,
					 vouch_modsig_signer **ret_signer)
{
	static const struct vouch_modsig_sign_options defaults = VOUCH_MODSIG_SIGN_OPTIONS_INIT;
	vouch_modsig_signer *s;
	const EVP_MD *md;
	int t;

	if (!ctx || !key || !cert || !ret_signer)
		return -EINVAL;
	if (!opts)
		opts = &defaults;
	if (opts->version != 1)
		return ctx_err(ctx, -EINVAL, "unsupported modsig sign options version %u",
			       opts->version);
	if (check_reserved(ctx, opts->reserved, sizeof(opts->reserved),
			   "reserved modsig sign option fields must be zero") < 0)
		return -EINVAL;
	switch (opts->hash_algo) {
	case VOUCH_HASH_SHA1:
	case VOUCH_HASH_SHA224:
	case VOUCH_HASH_SHA256:
	case VOUCH_HASH_SHA384:
	case VOUCH_HASH_SHA512:
		break;
	default:
		return ctx_err(ctx, -EINVAL,
			       "cannot sign with hash algorithm %d: sha1, sha224, sha256, sha384 "
			       "or sha512",
			       opts->hash_algo);
	}
	if (opts->signer_id != VOUCH_MODSIG_ISSUER_SERIAL && opts->signer_id != VOUCH_MODSIG_SKID)
		return ctx_err(ctx, -EINVAL, "unknown signer id form %d", opts->signer_id);
	if (opts->signer_id == VOUCH_MODSIG_SKID && !cert->skid)
		return ctx_err(ctx, -EINVAL,
			       "certificate '%s' has no subjectKeyIdentifier, cannot sign by SKID",
			       cert->subject);
	t = vouch_key_type(key);
	if (t != VOUCH_KEY_RSA && t != VOUCH_KEY_EC)
		return ctx_err(ctx, -EINVAL, "the kernel verifies RSA and ECDSA keys only");
	if (!vouch_key_matches_cert(key, cert))
		return ctx_err(ctx, -EKEYREJECTED,
			       "the private key does not belong to certificate '%s'", cert->subject);
	md = ssl_md(ctx, opts->hash_algo);
	if (!md)
		return ctx_err(ctx, -EOPNOTSUPP, "hash algorithm %s is not available",
			       vouch_hash_info(opts->hash_algo)->name);
	s = mem_zalloc(sizeof(*s));
	if (!s)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	if (!EVP_PKEY_up_ref(key_pkey(key))) {
		free(s);
		return ctx_err_ssl(ctx, -EIO, "EVP_PKEY_up_ref failed");
	}
	s->pkey = key_pkey(key);
	if (!X509_up_ref(cert_x509(cert))) {
		EVP_PKEY_free(s->pkey);
		free(s);
		return ctx_err_ssl(ctx, -EIO, "X509_up_ref failed");
	}
	s->x509 = cert_x509(cert);
	s->ctx = ctx;
	s->md = md;
	s->hash_algo = opts->hash_algo;
	s->signer_id = opts->signer_id;
	*ret_signer = s;
	return 0;
}

VOUCH_EXPORT void vouch_modsig_signer_free(vouch_modsig_signer *signer)
{
	if (!signer)
		return;
	EVP_PKEY_free(signer->pkey);
	X509_free(signer->x509);
	EVP_PKEY_CTX_free(signer->sign_ctx);
	free(signer->tmpl);
	free(signer);
}

static int template_sign(vouch_modsig_signer *s, const uint8_t *payload, size_t len,
			 uint8_t **ret, size_t *ret_len)
{
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	size_t sig_len = s->tmpl_sig_len;
	uint8_t *der;

	if (!EVP_Digest(payload ? (const void *)payload : "", len, digest, &dlen, s->md, NULL))
		return ctx_err_ssl(s->ctx, -EIO, "cannot compute the digest");
	der = mem_dup(s->tmpl, s->tmpl_len);
	if (!der)
		return ctx_err(s->ctx, -ENOMEM, "out of memory");
	if (EVP_PKEY_sign(s->sign_ctx, der + s->tmpl_sig_off, &sig_len, digest, dlen) <= 0 ||
	    sig_len != s->tmpl_sig_len) {
		free(der);
		return ctx_err_ssl(s->ctx, -EIO, "cannot sign");
	}
	*ret = der;
	*ret_len = s->tmpl_len;
	return 0;
}

VOUCH_EXPORT int vouch_modsig_sign_pkcs7(vouch_modsig_signer *s, const uint8_t *payload,
					 size_t len, uint8_t **ret_pkcs7, size_t *ret_len)
{
	if (!s || (!payload && len) || !ret_pkcs7 || !ret_len)
		return -EINVAL;
	if (len > INT32_MAX)
		return ctx_err(s->ctx, -EFBIG, "cannot sign more than 2 GiB in one blob");
	if (!s->tmpl_tried) {
		s->tmpl_tried = true;
		template_init(s);
	}
	if (s->tmpl)
		return template_sign(s, payload, len, ret_pkcs7, ret_len);
	return cms_sign(s, payload, len, ret_pkcs7, ret_len);
}

/* The message exactly as scripts/sign-file.c builds it (FORMATS.md §1.5). */
static int cms_sign(vouch_modsig_signer *s, const uint8_t *payload, size_t len,
		    uint8_t **ret_pkcs7, size_t *ret_len)
{
	_cleanup_(CMS_ContentInfo_freep) CMS_ContentInfo *cms = NULL;
	_cleanup_(BIO_freep) BIO *bio = NULL;
	unsigned flags = CMS_NOCERTS | CMS_BINARY | CMS_NOSMIMECAP | CMS_NOATTR;
	unsigned char *p;
	uint8_t *der;
	int n;

	bio = BIO_new_mem_buf(payload ? (const void *)payload : "", (int)len);
	if (!bio)
		return ctx_err_ssl(s->ctx, -ENOMEM, "out of memory");
	cms = CMS_sign(NULL, NULL, NULL, NULL,
		       CMS_NOCERTS | CMS_PARTIAL | CMS_BINARY | CMS_DETACHED | CMS_STREAM);
	if (!cms)
		return ctx_err_ssl(s->ctx, -EIO, "cannot create the PKCS#7 message");
	if (s->signer_id == VOUCH_MODSIG_SKID)
		flags |= CMS_USE_KEYID;
	if (!CMS_add1_signer(cms, s->x509, s->pkey, s->md, flags))
		return ctx_err_ssl(s->ctx, -EIO, "cannot add the signer");
	if (CMS_final(cms, bio, NULL, CMS_NOCERTS | CMS_BINARY) != 1)
		return ctx_err_ssl(s->ctx, -EIO, "cannot sign");
	n = i2d_CMS_ContentInfo(cms, NULL);
	if (n <= 0)
		return ctx_err_ssl(s->ctx, -EIO, "cannot encode the PKCS#7 message");
	der = mem_alloc((size_t)n);
	if (!der)
		return ctx_err(s->ctx, -ENOMEM, "out of memory");
	p = der;
	if (i2d_CMS_ContentInfo(cms, &p) != n) {
		free(der);
		return ctx_err_ssl(s->ctx, -EIO, "cannot encode the PKCS#7 message");
	}
	*ret_pkcs7 = der;
	*ret_len = (size_t)n;
	return 0;
}

VOUCH_EXPORT int vouch_modsig_sign_trailer(vouch_modsig_signer *s, const uint8_t *payload,
					   size_t len, uint8_t **ret_trailer, size_t *ret_len)
{
	_cleanup_free_ uint8_t *der = NULL;
	size_t der_len;
	int r;

	if (!s || !ret_trailer || !ret_len)
		return -EINVAL;
	r = vouch_modsig_sign_pkcs7(s, payload, len, &der, &der_len);
	if (r < 0)
		return r;
	return vouch_modsig_make_trailer(s->ctx, der, der_len, ret_trailer, ret_len);
}

/* --- verification --------------------------------------------------------------------- */

struct verdict {
	uint32_t failed;
	int first;
	char msg[VOUCH_ERRMSG_SIZE];
};

PRINTF_FMT(3, 4) static void fail(struct verdict *v, int status, const char *fmt, ...)
{
	va_list ap;

	v->failed |= 1U << status;
	if (v->first != VOUCH_MODSIG_OK && v->first <= status)
		return;
	v->first = status;
	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
}

#define DEFAULT_ALLOWED_HASHES                                                                     \
	((1U << VOUCH_HASH_SHA224) | (1U << VOUCH_HASH_SHA256) | (1U << VOUCH_HASH_SHA384) |       \
	 (1U << VOUCH_HASH_SHA512))

static int check_opts(vouch_ctx *ctx, const struct vouch_modsig_verify_options *opts)
{
	if (opts->version != 1)
		return ctx_err(ctx, -EINVAL, "unsupported modsig verify options version %u",
			       opts->version);
	if (check_reserved(ctx, opts->reserved, sizeof(opts->reserved),
			   "reserved modsig verify option fields must be zero") < 0)
		return -EINVAL;
	if ((opts->n_blacklist && !opts->blacklist) ||
	    (opts->n_blacklist_tbs && !opts->blacklist_tbs))
		return -EINVAL;
	return 0;
}

static bool blacklisted(const struct vouch_modsig_verify_options *opts,
			const struct vouch_digest *d)
{
	for (size_t i = 0; i < opts->n_blacklist; i++) {
		const struct vouch_digest *b = &opts->blacklist[i];

		if (d->len && b->len == d->len && CRYPTO_memcmp(b->bytes, d->bytes, d->len) == 0)
			return true;
	}
	return false;
}

static int digest_of(vouch_ctx *ctx, int algo, const uint8_t *buf, size_t len,
		     struct vouch_digest *ret)
{
	const EVP_MD *md = ssl_md(ctx, algo);
	unsigned n = 0;

	if (!md)
		return -EOPNOTSUPP;
	if (!EVP_Digest(buf ? (const void *)buf : "", len, ret->bytes, &n, md, NULL))
		return ctx_err_ssl(ctx, -EIO, "cannot compute a %s digest",
				   vouch_hash_info(algo)->name);
	ret->algo = algo;
	ret->len = n;
	return 0;
}

/*
 * certs/blacklist.c: a "tbs:" entry revokes the certificate whose TBSCertificate has that
 * hash.  x509_get_sig_params() hashes the TBS with the certificate's own signature hash;
 * vouch also tries SHA-1 and SHA-2 (refusing more, never less).  The TBS is the first
 * element of the certificate as it was loaded (the bytes the kernel hashes, not a
 * re-encoding).  *ret_algo: the hash that matched, or -1.
 */
static int tbs_blacklisted(vouch_ctx *ctx, const vouch_cert *cert,
			   const struct vouch_modsig_verify_options *opts, int *ret_algo)
{
	int algos[] = { -1, VOUCH_HASH_SHA1, VOUCH_HASH_SHA224, VOUCH_HASH_SHA256,
			VOUCH_HASH_SHA384, VOUCH_HASH_SHA512 };
	struct cursor c;
	struct tlv crt, tbs;
	int md_nid = NID_undef;

	*ret_algo = -1;
	cur_init(&c, cert->der, cert->der_len);
	if (der_next(&c, &crt) < 0 || crt.tag != TAG_SEQUENCE || der_next(&crt.val, &tbs) < 0 ||
	    tbs.tag != TAG_SEQUENCE)
		return ctx_err(ctx, -EINVAL, "cannot find the TBSCertificate of '%s'",
			       cert->subject);
	if (OBJ_find_sigid_algs(X509_get_signature_nid(cert->x509), &md_nid, NULL) &&
	    md_nid != NID_undef)
		algos[0] = vouch_hash_by_name(OBJ_nid2sn(md_nid));
	ssl_clear_errors();
	for (size_t a = 0; a < ARRAY_SIZE(algos); a++) {
		struct vouch_digest d;
		int r;

		if (algos[a] < 0 || (a > 0 && algos[a] == algos[0]))
			continue;
		r = digest_of(ctx, algos[a], tbs.start, tbs.total, &d);
		if (r == -EOPNOTSUPP && a == 0)
			continue;
		if (r < 0)
			return r;
		for (size_t i = 0; i < opts->n_blacklist_tbs; i++) {
			const struct vouch_digest *b = &opts->blacklist_tbs[i];

			if (b->len == d.len && CRYPTO_memcmp(b->bytes, d.bytes, d.len) == 0) {
				*ret_algo = algos[a];
				return 0;
			}
		}
	}
	return 0;
}

/*
 * The signature check proper: EVP_PKEY_verify over the digest, no re-hashing, through the
 * one public-key step of lib/sigv2.c (with @cache, outcomes are remembered).
 */
static int check_signature(vouch_ctx *ctx, vouch_sig_cache *cache, const vouch_cert *signer,
			   const struct pk7 *p, const struct vouch_digest *d, struct verdict *v)
{
	EVP_PKEY *pkey = cert_pkey(signer);
	const struct vouch_modsig_info *info = p->info;
	int key_type = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA  ? VOUCH_KEY_RSA
		       : EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC ? VOUCH_KEY_EC
								   : VOUCH_KEY_OTHER;
	int ok;

	if (key_type != info->key_type) {
		fail(v, VOUCH_MODSIG_BAD_SIGNATURE,
		     "signature algorithm %s does not fit the signer's %s key",
		     p->sig_row->name, key_type == VOUCH_KEY_RSA ? "RSA" : "non-RSA");
		return 0;
	}
	/* public_key_verify_signature(): RSA signatures are exactly modulus-sized */
	if (key_type == VOUCH_KEY_RSA && info->signature_len != (size_t)EVP_PKEY_get_size(pkey)) {
		fail(v, VOUCH_MODSIG_BAD_SIGNATURE,
		     "RSA signature is %zu bytes, the signer's modulus %d bytes",
		     info->signature_len, EVP_PKEY_get_size(pkey));
		return 0;
	}
	ok = sig_pkey_verify(ctx, cache, signer, d->algo, d->bytes, d->len, info->signature,
			     info->signature_len);
	if (ok < 0)
		return ctx_err_ssl(ctx, -EIO, "cannot set up signature verification");
	if (!ok)
		fail(v, VOUCH_MODSIG_BAD_SIGNATURE, "the signature does not match the payload");
	return 0;
}

static void result_init(struct vouch_modsig_result *res)
{
	memset(res, 0, sizeof(*res));
	res->hash_algo = -1;
	res->signer_id = -1;
}

/*
 * Every rule, in one pass: the one PKCS#7 verifier of vouch (vouch verify, the engine, and
 * ima-modsig entries of a measurement list through modsig_verify_pkcs7_digest()).
 * @whole/@whole_len is the whole file for Debian's blacklist (NULL: none); @given, when
 * not NULL, is the payload digest already computed (a list's d-modsig) instead of
 * @payload.  Returns 0 after judging (the verdict is in @v), or a negative errno when the
 * check could not run.
 */
static int verify_pkcs7(vouch_ctx *ctx, const vouch_trust *trust, const uint8_t *payload,
			size_t plen, const struct vouch_digest *given, const uint8_t *der,
			size_t der_len, const uint8_t *whole, size_t whole_len,
			const struct vouch_modsig_verify_options *opts, vouch_sig_cache *cache,
			struct vouch_modsig_result *res, struct verdict *v)
{
	struct vouch_modsig_info info;
	struct pk7 p = { .info = &info };
	uint32_t allowed = opts->allowed_hashes ? opts->allowed_hashes : DEFAULT_ALLOWED_HASHES;
	const vouch_cert *signer = NULL;
	const char *keyring = NULL;
	bool have_digest = false;
	int r;

	/* Debian's "MODSIGN: checking the blacklisted hash": SHA-256 of the whole file */
	if (opts->n_blacklist && whole) {
		struct vouch_digest d;

		r = digest_of(ctx, VOUCH_HASH_SHA256, whole, whole_len, &d);
		if (r < 0)
			return r;
		if (blacklisted(opts, &d))
			fail(v, VOUCH_MODSIG_BLACKLISTED, "the file's sha256 is blacklisted");
	}

	info_init(&info, whole_len);
	r = pk7_decode(ctx, der, der_len, &p);
	if (r == -EBADMSG) {
		fail(v, VOUCH_MODSIG_BAD_PKCS7, "%s", vouch_ctx_last_error(ctx));
		return 0;
	}
	if (r < 0)
		return r;
	res->hash_algo = info.hash_algo;
	res->key_type = info.key_type;
	res->signer_id = info.signer_id;

	/* pkcs7_note_signeddata_version() / pkcs7_note_signerinfo_version() */
	if (p.sd_version != 1 && p.sd_version != 3)
		fail(v, VOUCH_MODSIG_BAD_PKCS7, "malformed PKCS#7: SignedData version %d (1 or 3)",
		     p.sd_version);
	if (p.si_version == 1) {
		if (p.sd_version != 1)
			fail(v, VOUCH_MODSIG_BAD_PKCS7,
			     "malformed PKCS#7: SignerInfo version 1 in SignedData version %d",
			     p.sd_version);
		if (info.signer_id != VOUCH_MODSIG_ISSUER_SERIAL)
			fail(v, VOUCH_MODSIG_BAD_PKCS7,
			     "malformed PKCS#7: SignerInfo version 1 names its signer by SKID");
	} else if (p.si_version == 3) {
		if (p.sd_version == 1)
			fail(v, VOUCH_MODSIG_BAD_PKCS7,
			     "malformed PKCS#7: SignerInfo version 3 in SignedData version 1");
		if (info.signer_id != VOUCH_MODSIG_SKID)
			fail(v, VOUCH_MODSIG_BAD_PKCS7,
			     "malformed PKCS#7: SignerInfo version 3 names its signer by issuer "
			     "and serial");
	} else {
		fail(v, VOUCH_MODSIG_BAD_PKCS7, "malformed PKCS#7: SignerInfo version %d (1 or 3)",
		     p.si_version);
	}
	/* pkcs7_verify(VERIFYING_MODULE_SIGNATURE): data, detached, no authattrs */
	if (!p.content_is_data)
		fail(v, VOUCH_MODSIG_BAD_PKCS7,
		     "malformed PKCS#7: encapsulated contentType is not data");
	if (p.has_content)
		fail(v, VOUCH_MODSIG_BAD_PKCS7,
		     "malformed PKCS#7: the content is embedded, a module signature is detached");
	if (p.has_authattrs)
		fail(v, VOUCH_MODSIG_BAD_PKCS7,
		     "malformed PKCS#7: signed attributes are not allowed in a module signature");
	if (info.n_signers != 1)
		fail(v, VOUCH_MODSIG_BAD_PKCS7, "malformed PKCS#7: %u SignerInfos, expected one",
		     info.n_signers);

	/* algorithms */
	if (info.hash_algo < 0)
		fail(v, VOUCH_MODSIG_ALGO_NOT_ALLOWED,
		     "digest algorithm is not one the kernel knows");
	else if (!(allowed & (1U << info.hash_algo)))
		fail(v, VOUCH_MODSIG_ALGO_NOT_ALLOWED, "digest algorithm %s is not allowed",
		     vouch_hash_info(info.hash_algo)->name);
	if (!p.sig_row) {
		if (p.sig_oid_len == sizeof(oid_pkcs1_prefix) + 1 &&
		    memcmp(p.sig_oid, oid_pkcs1_prefix, sizeof(oid_pkcs1_prefix)) == 0)
			fail(v, VOUCH_MODSIG_ALGO_NOT_ALLOWED,
			     "signature algorithm is 1.2.840.113549.1.1.%u, the kernel wants "
			     "rsaEncryption (1.2.840.113549.1.1.1)",
			     p.sig_oid[p.sig_oid_len - 1]);
		else
			fail(v, VOUCH_MODSIG_ALGO_NOT_ALLOWED,
			     "signature algorithm is neither rsaEncryption nor ecdsa-with-SHA*");
	} else if (p.sig_row->hash >= 0 && p.sig_row->hash != info.hash_algo) {
		fail(v, VOUCH_MODSIG_ALGO_NOT_ALLOWED, "%s does not match digest algorithm %s",
		     p.sig_row->name, info.hash_algo >= 0 ? vouch_hash_info(info.hash_algo)->name
							  : "(unknown)");
	}

	/* the payload digest, computed once, or the one the list recorded */
	if (given && info.hash_algo >= 0) {
		if (given->algo != info.hash_algo)
			fail(v, VOUCH_MODSIG_BAD_SIGNATURE,
			     "the recorded payload digest is %s, the signature's %s",
			     given->algo >= 0 && vouch_hash_info(given->algo)
				     ? vouch_hash_info(given->algo)->name
				     : "?",
			     vouch_hash_info(info.hash_algo)->name);
		else if (!ssl_md(ctx, info.hash_algo))
			fail(v, VOUCH_MODSIG_ALGO_NOT_ALLOWED,
			     "digest algorithm %s is not available here",
			     vouch_hash_info(info.hash_algo)->name);
		else if (given->len != vouch_hash_info(info.hash_algo)->size)
			fail(v, VOUCH_MODSIG_BAD_SIGNATURE, "the recorded payload digest is %zu bytes",
			     given->len);
		else {
			res->digest = *given;
			have_digest = true;
		}
	} else if (info.hash_algo >= 0) {
		r = digest_of(ctx, info.hash_algo, payload, plen, &res->digest);
		if (r == -EOPNOTSUPP)
			fail(v, VOUCH_MODSIG_ALGO_NOT_ALLOWED,
			     "digest algorithm %s is not available here",
			     vouch_hash_info(info.hash_algo)->name);
		else if (r < 0)
			return r;
		else
			have_digest = true;
	}
	if (have_digest && blacklisted(opts, &res->digest))
		fail(v, VOUCH_MODSIG_BLACKLISTED, "the payload's %s digest is blacklisted",
		     vouch_hash_info(info.hash_algo)->name);

	/* the signer: the kernel's asymmetric key id, issuer+serial or SKID, exact match */
	if (info.signer_id == VOUCH_MODSIG_ISSUER_SERIAL)
		r = vouch_trust_find_issuer_serial(trust, info.issuer_der, info.issuer_der_len,
						   info.serial, info.serial_len, &signer, &keyring);
	else
		r = vouch_trust_find_skid(trust, info.skid, info.skid_len, &signer, &keyring);
	if (r == -ENOKEY) {
		if (info.signer_id == VOUCH_MODSIG_ISSUER_SERIAL)
			fail(v, VOUCH_MODSIG_UNKNOWN_SIGNER,
			     "no trusted certificate for issuer '%s' serial of %zu bytes",
			     info.issuer, info.serial_len);
		else
			fail(v, VOUCH_MODSIG_UNKNOWN_SIGNER,
			     "no trusted certificate with the signer's subjectKeyIdentifier");
	} else if (r < 0) {
		return ctx_err(ctx, r, "cannot search the trust store");
	} else {
		res->signer = signer;
		res->keyring = keyring;
	}

	/* a revoked signer certificate ("tbs:"): the kernel never lets it into a keyring */
	if (signer && opts->n_blacklist_tbs) {
		int algo;

		r = tbs_blacklisted(ctx, signer, opts, &algo);
		if (r < 0)
			return r;
		if (algo >= 0)
			fail(v, VOUCH_MODSIG_BLACKLISTED,
			     "the signer certificate '%s' is blacklisted (tbs: %s of its "
			     "TBSCertificate)",
			     signer->subject, vouch_hash_info(algo)->name);
	}

	/* crypto/ecdsa.c in 6.1 registers NIST P-192, P-256 and P-384 only */
	if (signer && signer->info.key_type == VOUCH_KEY_EC &&
	    (!signer->info.curve || (strcmp(signer->info.curve, "P-192") != 0 &&
				     strcmp(signer->info.curve, "P-256") != 0 &&
				     strcmp(signer->info.curve, "P-384") != 0)))
		fail(v, VOUCH_MODSIG_ALGO_NOT_ALLOWED,
		     "the signer's curve %s is not one the kernel verifies (P-192, P-256, P-384)",
		     signer->info.curve ? signer->info.curve : "(unknown)");
	if (signer && p.sig_row && have_digest) {
		r = check_signature(ctx, cache, signer, &p, &res->digest, v);
		if (r < 0)
			return r;
	} else if (signer) {
		fail(v, VOUCH_MODSIG_BAD_SIGNATURE,
		     "the signature cannot be checked with these algorithms");
	}
	return 0;
}

static int finish(vouch_ctx *ctx, struct verdict *v, struct vouch_modsig_result *res,
		  struct vouch_modsig_result *out)
{
	res->status = v->first;
	res->failed = v->failed;
	if (v->first == VOUCH_MODSIG_OK) {
		vouch_ctx_clear_error(ctx);
	} else {
		ctx_err(ctx, status_errno[v->first], "%s", v->msg);
	}
	if (out)
		*out = *res;
	return status_errno[v->first];
}

VOUCH_EXPORT int vouch_modsig_verify(vouch_ctx *ctx, const vouch_trust *trust, const uint8_t *buf,
				     size_t len, const struct vouch_modsig_verify_options *opts,
				     struct vouch_modsig_result *result)
{
	static const struct vouch_modsig_verify_options defaults = VOUCH_MODSIG_VERIFY_OPTIONS_INIT;
	struct vouch_modsig_result res;
	struct verdict v = { 0 };
	size_t plen, slen;
	int r;

	if (!ctx || !trust || (!buf && len))
		return -EINVAL;
	if (!opts)
		opts = &defaults;
	r = check_opts(ctx, opts);
	if (r < 0)
		return r;
	result_init(&res);
	r = vouch_modsig_find(ctx, buf, len, &plen, &slen);
	if (r == -ENODATA || r == -EBADMSG) {
		fail(&v, r == -ENODATA ? VOUCH_MODSIG_NO_SIGNATURE : VOUCH_MODSIG_BAD_TRAILER, "%s",
		     vouch_ctx_last_error(ctx));
		if (opts->n_blacklist) {
			struct vouch_digest d;

			r = digest_of(ctx, VOUCH_HASH_SHA256, buf, len, &d);
			if (r < 0)
				return r;
			if (blacklisted(opts, &d))
				fail(&v, VOUCH_MODSIG_BLACKLISTED,
				     "the file's sha256 is blacklisted");
		}
		return finish(ctx, &v, &res, result);
	}
	if (r < 0)
		return r;
	res.payload_len = plen;
	res.sig_offset = plen;
	res.sig_len = slen;
	r = verify_pkcs7(ctx, trust, buf, plen, NULL, buf + plen, slen, buf, len, opts, NULL, &res,
			 &v);
	if (r < 0)
		return r;
	return finish(ctx, &v, &res, result);
}

VOUCH_EXPORT int vouch_modsig_verify_detached(vouch_ctx *ctx, const vouch_trust *trust,
					      const uint8_t *payload, size_t len,
					      const uint8_t *pkcs7, size_t pkcs7_len,
					      const struct vouch_modsig_verify_options *opts,
					      struct vouch_modsig_result *result)
{
	static const struct vouch_modsig_verify_options defaults = VOUCH_MODSIG_VERIFY_OPTIONS_INIT;
	struct vouch_modsig_result res;
	struct verdict v = { 0 };
	int r;

	if (!ctx || !trust || (!payload && len) || (!pkcs7 && pkcs7_len))
		return -EINVAL;
	if (!opts)
		opts = &defaults;
	r = check_opts(ctx, opts);
	if (r < 0)
		return r;
	result_init(&res);
	res.payload_len = len;
	res.sig_len = pkcs7_len;
	r = verify_pkcs7(ctx, trust, payload, len, NULL, pkcs7, pkcs7_len, payload, len, opts, NULL,
			 &res, &v);
	if (r < 0)
		return r;
	return finish(ctx, &v, &res, result);
}

int modsig_verify_pkcs7_digest(vouch_ctx *ctx, const vouch_trust *trust, vouch_sig_cache *cache,
			       const uint8_t *p7, size_t p7_len, const struct vouch_digest *digest,
			       struct vouch_modsig_result *ret)
{
	static const struct vouch_modsig_verify_options defaults = VOUCH_MODSIG_VERIFY_OPTIONS_INIT;
	struct verdict v = { 0 };
	int r;

	result_init(ret);
	ret->sig_len = p7_len;
	r = verify_pkcs7(ctx, trust, NULL, 0, digest, p7, p7_len, NULL, 0, &defaults, cache, ret,
			 &v);
	if (r < 0)
		return r;
	ret->status = v.first;
	ret->failed = v.failed;
	return 0;
}

/* --- files ---------------------------------------------------------------------------- */

/* A signed blob the kernel loads is never near this size (kernel_read_file() uses INT_MAX). */
#define MODSIG_FILE_MAX ((size_t)INT32_MAX)

static int file_mode(vouch_ctx *ctx, const char *path, unsigned *ret_mode)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return ctx_err(ctx, -errno, "cannot open '%s': %m", path);
	if (!S_ISREG(st.st_mode))
		return ctx_err(ctx, S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL,
			       "'%s' is not a regular file", path);
	*ret_mode = st.st_mode & 07777;
	return 0;
}

VOUCH_EXPORT int vouch_modsig_sign_file(vouch_modsig_signer *s, const char *path,
					const char *out_path, uint32_t flags, size_t *ret_sig_len)
{
	_cleanup_free_ uint8_t *buf = NULL, *der = NULL, *trailer = NULL;
	_cleanup_free_ char *p7s = NULL;
	size_t len, der_len, tlen, plen, slen;
	unsigned mode;
	int r;

	if (!s || !path || (flags & ~(VOUCH_MODSIG_REPLACE | VOUCH_MODSIG_DETACHED)))
		return -EINVAL;
	r = file_mode(s->ctx, path, &mode);
	if (r < 0)
		return r;
	r = read_file_all(s->ctx, path, MODSIG_FILE_MAX, &buf, &len);
	if (r < 0)
		return r;
	if (flags & VOUCH_MODSIG_DETACHED) {
		if (!out_path) {
			size_t n = strlen(path);

			p7s = mem_alloc(n + 5);
			if (!p7s)
				return ctx_err(s->ctx, -ENOMEM, "out of memory");
			memcpy(p7s, path, n);
			memcpy(p7s + n, ".p7s", 5);
			out_path = p7s;
		}
		r = vouch_modsig_sign_pkcs7(s, buf, len, &der, &der_len);
		if (r < 0)
			return r;
		r = write_file_atomic(s->ctx, out_path, der, der_len, 0644);
		if (r < 0)
			return r;
		if (ret_sig_len)
			*ret_sig_len = der_len;
		return 0;
	}
	plen = len;
	r = vouch_modsig_find(s->ctx, buf, len, &plen, &slen);
	if (r == 0 || r == -EBADMSG) {
		if (!(flags & VOUCH_MODSIG_REPLACE))
			return ctx_err(s->ctx, -EEXIST,
				       "'%s' is already signed (use --replace to re-sign)", path);
		if (r < 0)
			return ctx_err(s->ctx, r,
				       "cannot replace the signature of '%s': its trailer is "
				       "malformed",
				       path);
	} else if (r != -ENODATA) {
		return r;
	}
	vouch_ctx_clear_error(s->ctx);
	r = vouch_modsig_sign_trailer(s, buf, plen, &trailer, &tlen);
	if (r < 0)
		return r;
	{
		struct iovec iov[2] = {
			{ .iov_base = buf, .iov_len = plen },
			{ .iov_base = trailer, .iov_len = tlen },
		};

		/* in place (also -o naming the same file): content only, see fileio.c */
		if (!out_path || same_file(path, out_path))
			r = write_file_inplace_iov(s->ctx, path, iov, 2);
		else
			r = write_file_atomic_iov(s->ctx, out_path, iov, 2, mode);
	}
	if (r < 0)
		return r;
	if (ret_sig_len)
		*ret_sig_len = tlen - VOUCH_MODSIG_STRUCT_LEN - VOUCH_MODSIG_MARKER_LEN;
	return 0;
}

VOUCH_EXPORT int vouch_modsig_strip_file(vouch_ctx *ctx, const char *path, const char *out_path,
					 size_t *ret_removed)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len, plen, slen;
	unsigned mode;
	int r;

	if (!ctx || !path)
		return -EINVAL;
	r = file_mode(ctx, path, &mode);
	if (r < 0)
		return r;
	r = read_file_all(ctx, path, MODSIG_FILE_MAX, &buf, &len);
	if (r < 0)
		return r;
	r = vouch_modsig_find(ctx, buf, len, &plen, &slen);
	if (r < 0)
		return r;
	if (!out_path || same_file(path, out_path)) {
		struct iovec iov = { .iov_base = buf, .iov_len = plen };

		r = write_file_inplace_iov(ctx, path, &iov, 1);
	} else {
		r = write_file_atomic(ctx, out_path, buf, plen, mode);
	}
	if (r < 0)
		return r;
	if (ret_removed)
		*ret_removed = len - plen;
	return 0;
}

VOUCH_EXPORT int vouch_modsig_verify_file(vouch_ctx *ctx, const vouch_trust *trust,
					  const char *path, const char *sig_path,
					  const struct vouch_modsig_verify_options *opts,
					  struct vouch_modsig_result *result)
{
	_cleanup_free_ uint8_t *buf = NULL, *sig = NULL;
	size_t len, sig_len;
	int r;

	if (!ctx || !trust || !path)
		return -EINVAL;
	r = read_file_all(ctx, path, MODSIG_FILE_MAX, &buf, &len);
	if (r < 0)
		return r;
	if (!sig_path)
		return vouch_modsig_verify(ctx, trust, buf, len, opts, result);
	r = read_file_all(ctx, sig_path, 16 * 1024 * 1024, &sig, &sig_len);
	if (r < 0)
		return r;
	return vouch_modsig_verify_detached(ctx, trust, buf, len, sig, sig_len, opts, result);
}
