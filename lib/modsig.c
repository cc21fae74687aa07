// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Appended and detached PKCS#7 signatures ("modsig"), FORMATS.md §1: status names, the
 * OIDs, DER through the bounds-checked cursor, the PKCS#7 decoder, the trailer, and
 * stripping a signature from a file.  Signing is lib/modsig-sign.c, verification
 * lib/modsig-verify.c.
 *
 * Verification does not use OpenSSL's CMS code: it is more permissive than the kernel
 * (signed attributes, other signature OIDs, embedded content), so the message is decoded
 * here through the bounds-checked cursor and every rule of
 * crypto/asymmetric_keys/pkcs7_{parser,verify}.c that applies to
 * VERIFYING_MODULE_SIGNATURE is checked explicitly (lib/modsig-verify.c).
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

#include "modsig-internal.h"
#include "openssl-internal.h"

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

int modsig_status_errno(int status)
{
	return status_errno[status];
}

VOUCH_EXPORT const char *vouch_modsig_status_name(int status)
{
	return enum_name(status_names, ARRAY_SIZE(status_names), status, "unknown");
}

/* --- OIDs (DER content bytes) -------------------------------------------------------- */

static const uint8_t oid_signed_data[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02 };
static const uint8_t oid_data[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01 };


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

const uint8_t modsig_oid_pkcs1_prefix[8] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01 };

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



int modsig_der_next(struct cursor *c, struct tlv *t)
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


/* Record a fatal decoding error: the structure cannot be read any further. */
#define pk7_bad(ctx, what) ctx_err(ctx, -EBADMSG, "malformed PKCS#7: %s", what)

static int der_expect(vouch_ctx *ctx, struct cursor *c, uint8_t tag, struct tlv *t,
		      const char *what)
{
	if (modsig_der_next(c, t) < 0)
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
	if (cur_left(&seq.val) && modsig_der_next(&seq.val, &params) < 0)
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
	if (modsig_der_next(&si.val, &sid) < 0)
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

		if (modsig_der_next(&si.val, &attrs) < 0)
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

		if (modsig_der_next(&si.val, &attrs) < 0)
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
int modsig_pk7_decode(vouch_ctx *ctx, const uint8_t *der, size_t len, struct pk7 *p)
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
	if (modsig_der_next(&sd.val, &algs) < 0 || (algs.tag != TAG_SET && algs.tag != TAG_SEQUENCE))
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

		if (modsig_der_next(&inner.val, &content) < 0 || content.tag != TAG_CTX0 ||
		    cur_left(&inner.val))
			return pk7_bad(ctx, "cannot read the encapsulated content");
		p->has_content = true;
	}
	/* certificates [0]/[2] and crls [1]/[3]: only used for chains, which vouch does not
	 * build (the signer must be in the trust store itself) */
	if (der_peek(&sd.val, TAG_CTX0) || der_peek(&sd.val, TAG_CTX2)) {
		struct tlv certs;

		if (modsig_der_next(&sd.val, &certs) < 0)
			return pk7_bad(ctx, "cannot read the certificates");
	}
	if (der_peek(&sd.val, TAG_CTX1) || der_peek(&sd.val, TAG_CTX3)) {
		struct tlv crls;

		if (modsig_der_next(&sd.val, &crls) < 0)
			return pk7_bad(ctx, "cannot read the CRLs");
	}
	if (modsig_der_next(&sd.val, &sis) < 0 || (sis.tag != TAG_SET && sis.tag != TAG_SEQUENCE))
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
			if (modsig_der_next(&sis.val, &other) < 0 || other.tag != TAG_SEQUENCE)
				return pk7_bad(ctx, "cannot read a SignerInfo");
		}
		if (p->info->n_signers++ > 64)
			return pk7_bad(ctx, "too many SignerInfos");
	}
	if (p->info->n_signers == 0)
		return pk7_bad(ctx, "no SignerInfo");
	return 0;
}

void modsig_info_init(struct vouch_modsig_info *info, size_t file_len)
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
	modsig_info_init(&info, len);
	info.sig_len = len;
	r = modsig_pk7_decode(ctx, der, len, &p);
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
	modsig_info_init(&info, len);
	info.payload_len = plen;
	info.sig_offset = plen;
	info.sig_len = slen;
	r = modsig_pk7_decode(ctx, buf + plen, slen, &p);
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

/* --- files ---------------------------------------------------------------------------- */

int modsig_file_mode(vouch_ctx *ctx, const char *path, unsigned *ret_mode)
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

VOUCH_EXPORT int vouch_modsig_strip_file(vouch_ctx *ctx, const char *path, const char *out_path,
					 size_t *ret_removed)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len, plen, slen;
	unsigned mode;
	int r;

	if (!ctx || !path)
		return -EINVAL;
	r = modsig_file_mode(ctx, path, &mode);
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
