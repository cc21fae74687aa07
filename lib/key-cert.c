// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * X.509 certificates: loaded from PEM or DER, saved, matched against a private key, and
 * described (subject, issuer, serial, key identifiers, validity) for the CLI.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "internal.h"
#include "openssl-internal.h"

/* --- certificates -------------------------------------------------------------------- */

static char *name_oneline(X509_NAME *name)
{
	_cleanup_(BIO_freep) BIO *bio = BIO_new(BIO_s_mem());
	const uint8_t *p;
	size_t len;
	char *s;

	if (!bio)
		return NULL;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
		return NULL;
	if (key_bio_to_mem(bio, &p, &len) < 0)
		return NULL;
	s = mem_alloc(len + 1);
	if (!s)
		return NULL;
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

static int64_t asn1_time_to_epoch(const ASN1_TIME *t)
{
	struct tm tm = { 0 };

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

static void cert_release(vouch_cert *c)
{
	X509_free(c->x509);
	free(c->der);
	free(c->subject);
	free(c->issuer);
	free(c->serial);
	free(c->skid);
	free(c->issuer_der);
	free(c);
}

VOUCH_EXPORT void vouch_cert_free(vouch_cert *cert)
{
	if (!cert)
		return;
	if (--cert->refs > 0)
		return;
	cert_release(cert);
}

int cert_from_x509(vouch_ctx *ctx, X509 *x509, vouch_cert **ret)
{
	vouch_cert *c;
	const ASN1_OCTET_STRING *skid;
	const ASN1_INTEGER *serial;
	_cleanup_(BN_freep) BIGNUM *bn = NULL;
	unsigned char *der = NULL;
	int n;

	c = mem_zalloc(sizeof(*c));
	if (!c)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	c->refs = 1;
	if (!X509_up_ref(x509)) {
		free(c);
		return ctx_err_ssl(ctx, -EIO, "X509_up_ref failed");
	}
	c->x509 = x509;
	c->pubkey = X509_get0_pubkey(x509);
	if (!c->pubkey) {
		cert_release(c);
		return ctx_err_ssl(ctx, -EBADMSG, "certificate has an unusable public key");
	}
	n = i2d_X509(x509, &der);
	if (n <= 0) {
		cert_release(c);
		return ctx_err_ssl(ctx, -EBADMSG, "cannot encode certificate");
	}
	c->der = mem_dup(der, (size_t)n);
	c->der_len = (size_t)n;
	OPENSSL_free(der);
	der = NULL;
	n = i2d_X509_NAME(X509_get_issuer_name(x509), &der);
	if (n > 0) {
		c->issuer_der = mem_dup(der, (size_t)n);
		c->issuer_der_len = (size_t)n;
	}
	OPENSSL_free(der);
	c->subject = name_oneline(X509_get_subject_name(x509));
	c->issuer = name_oneline(X509_get_issuer_name(x509));
	serial = X509_get0_serialNumber(x509);
	bn = serial ? ASN1_INTEGER_to_BN(serial, NULL) : NULL;
	if (bn) {
		c->serial_len = (size_t)BN_num_bytes(bn);
		c->serial = mem_zalloc(c->serial_len ? c->serial_len : 1);
		if (c->serial)
			BN_bn2bin(bn, c->serial);
		if (c->serial_len == 0) /* serial 0 is one zero byte on the wire */
			c->serial_len = 1;
	}
	if (!c->der || !c->issuer_der || !c->subject || !c->issuer || !c->serial) {
		cert_release(c);
		return ctx_err_ssl(ctx, -ENOMEM, "out of memory");
	}
	skid = X509_get0_subject_key_id(x509);
	if (skid && ASN1_STRING_length(skid) > 0) {
		c->skid_len = (size_t)ASN1_STRING_length(skid);
		c->skid = mem_dup(ASN1_STRING_get0_data(skid), c->skid_len);
		if (!c->skid) {
			cert_release(c);
			return ctx_err(ctx, -ENOMEM, "out of memory");
		}
	}
	ssl_clear_errors();

	c->info.subject = c->subject;
	c->info.issuer = c->issuer;
	c->info.serial = c->serial;
	c->info.serial_len = c->serial_len;
	c->info.skid = c->skid;
	c->info.skid_len = c->skid_len;
	if (c->skid_len >= 4) {
		c->info.has_ima_keyid = true;
		c->info.ima_keyid = get_be32(c->skid + c->skid_len - 4);
	}
	c->info.key_type = key_pkey_type(c->pubkey);
	c->info.key_bits = (unsigned)EVP_PKEY_get_bits(c->pubkey);
	if (c->info.key_type == VOUCH_KEY_EC) {
		char name[80];
		size_t nl = 0;

		if (EVP_PKEY_get_utf8_string_param(c->pubkey, OSSL_PKEY_PARAM_GROUP_NAME, name,
						   sizeof(name), &nl)) {
			int nid = OBJ_sn2nid(name);
			const char *nist = nid != NID_undef ? EC_curve_nid2nist(nid) : NULL;

			/* static strings from OpenSSL's tables */
			c->info.curve = nist ? nist : (nid != NID_undef ? OBJ_nid2sn(nid) : NULL);
		}
		ssl_clear_errors();
	}
	c->info.not_before = asn1_time_to_epoch(X509_get0_notBefore(x509));
	c->info.not_after = asn1_time_to_epoch(X509_get0_notAfter(x509));
	c->info.is_ca = (X509_get_extension_flags(x509) & EXFLAG_CA) != 0;
	c->info.code_signing = !(X509_get_extension_flags(x509) & EXFLAG_XKUSAGE) ||
			       (X509_get_extended_key_usage(x509) & XKU_CODE_SIGN);
	*ret = c;
	return 0;
}

/* Load every certificate in a buffer; calls @fn for each. */
int cert_load_all_mem(vouch_ctx *ctx, const uint8_t *buf, size_t len, const char *name,
		      int (*fn)(vouch_ctx *, X509 *, void *), void *userdata)
{
	int count = 0, r;

	if (len > INT32_MAX)
		return ctx_err(ctx, -EFBIG, "'%s' is too large", name);
	if (key_looks_pem(buf, len)) {
		_cleanup_(BIO_freep) BIO *bio = BIO_new_mem_buf(buf, (int)len);

		if (!bio)
			return ctx_err_ssl(ctx, -ENOMEM, "out of memory");
		for (;;) {
			_cleanup_(X509_freep) X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);

			if (!x) {
				unsigned long e = ERR_peek_last_error();

				/* end of the bundle is "no start line"; anything else is bad PEM */
				if (count > 0 && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
					break;
				if (count == 0)
					return ctx_err_ssl(ctx, -EBADMSG,
							   "'%s' holds no certificate", name);
				return ctx_err_ssl(ctx, -EBADMSG,
						   "'%s': malformed certificate #%d", name,
						   count + 1);
			}
			r = fn(ctx, x, userdata);
			if (r < 0)
				return r;
			count++;
		}
		ssl_clear_errors();
	} else {
		const unsigned char *p = buf;
		_cleanup_(X509_freep) X509 *x = d2i_X509(NULL, &p, (long)len);

		if (!x)
			return ctx_err_ssl(ctx, -EBADMSG, "'%s' is not a certificate (PEM or DER)",
					   name);
		if ((size_t)(p - buf) != len)
			return ctx_err(ctx, -EBADMSG,
				       "'%s': %zu trailing bytes after the DER certificate", name,
				       len - (size_t)(p - buf));
		r = fn(ctx, x, userdata);
		if (r < 0)
			return r;
		count = 1;
	}
	return count;
}

static int take_first(vouch_ctx *ctx, X509 *x, void *userdata)
{
	vouch_cert **ret = userdata;

	if (*ret)
		return 0;
	return cert_from_x509(ctx, x, ret);
}

VOUCH_EXPORT int vouch_cert_load_mem(vouch_ctx *ctx, const uint8_t *buf, size_t len,
				     vouch_cert **ret_cert)
{
	vouch_cert *c = NULL;
	int r;

	if (!ctx || (!buf && len) || !ret_cert)
		return -EINVAL;
	r = cert_load_all_mem(ctx, buf, len, "<memory>", take_first, &c);
	if (r < 0) {
		vouch_cert_free(c);
		return r;
	}
	*ret_cert = c;
	return 0;
}

VOUCH_EXPORT int vouch_cert_load(vouch_ctx *ctx, const char *path, vouch_cert **ret_cert)
{
	_cleanup_free_ uint8_t *buf = NULL;
	vouch_cert *c = NULL;
	size_t len;
	int r;

	if (!ctx || !path || !ret_cert)
		return -EINVAL;
	r = read_file_all(ctx, path, KEY_FILE_MAX, &buf, &len);
	if (r < 0)
		return r;
	r = cert_load_all_mem(ctx, buf, len, path, take_first, &c);
	if (r < 0) {
		vouch_cert_free(c);
		return r;
	}
	*ret_cert = c;
	return 0;
}

VOUCH_EXPORT int vouch_cert_save(vouch_ctx *ctx, const vouch_cert *cert, const char *path)
{
	_cleanup_(BIO_freep) BIO *bio = BIO_new(BIO_s_mem());
	const uint8_t *pem;
	size_t len;

	if (!ctx || !cert || !path)
		return -EINVAL;
	if (!bio || !PEM_write_bio_X509(bio, cert->x509) || key_bio_to_mem(bio, &pem, &len) < 0)
		return ctx_err_ssl(ctx, -EIO, "cannot encode the certificate");
	return write_file_atomic(ctx, path, pem, len, 0644);
}

VOUCH_EXPORT int vouch_cert_get_info(const vouch_cert *cert, struct vouch_cert_info *ret_info)
{
	if (!cert || !ret_info)
		return -EINVAL;
	*ret_info = cert->info;
	return 0;
}

VOUCH_EXPORT int vouch_cert_get_der(const vouch_cert *cert, const uint8_t **ret_der,
				    size_t *ret_len)
{
	if (!cert || !ret_der || !ret_len)
		return -EINVAL;
	*ret_der = cert->der;
	*ret_len = cert->der_len;
	return 0;
}
