// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Private keys, certificates and trust stores on top of OpenSSL.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "cursor.h"
#include "internal.h"
#include "openssl-internal.h"

/* A key or certificate file is never legitimately larger than this. */
#define KEY_FILE_MAX (1024 * 1024)

EVP_PKEY *key_pkey(const vouch_key *key)
{
	return key->pkey;
}

EVP_PKEY *cert_pkey(const vouch_cert *cert)
{
	return cert->pubkey;
}

X509 *cert_x509(const vouch_cert *cert)
{
	return cert->x509;
}

vouch_cert *cert_ref(const vouch_cert *cert)
{
	vouch_cert *c = (vouch_cert *)cert;

	c->refs++;
	return c;
}

static int pkey_type(const EVP_PKEY *pkey)
{
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		return VOUCH_KEY_RSA;
	case EVP_PKEY_EC:
		return VOUCH_KEY_EC;
	default:
		return VOUCH_KEY_OTHER;
	}
}

/* --- private keys ------------------------------------------------------------------- */

struct pass_state {
	vouch_pass_fn fn;
	void *userdata;
	bool asked;
	int err;
};

static int pem_pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_state *ps = u;
	int n;

	ps->asked = true;
	if (!ps->fn) {
		ps->err = -ENOKEY;
		return -1;
	}
	n = ps->fn(ps->userdata, buf, (size_t)size);
	if (n < 0) {
		ps->err = n;
		return -1;
	}
	return n > size ? size : n;
}

static bool looks_pem(const uint8_t *buf, size_t len)
{
	return memmem(buf, len, "-----BEGIN ", 11) != NULL;
}

/*
 * The first PEM block labelled "... PRIVATE KEY" (PKCS#8, encrypted PKCS#8, PKCS#1, SEC1),
 * as PEM_read_bio_PrivateKey() would find it: its offset, or -1 (a certificate, say, is
 * refused without a decoder run).
 */
static ssize_t pem_private_key_at(const uint8_t *buf, size_t len)
{
	const uint8_t *p = buf, *end = buf + len;

	while ((p = memmem(p, (size_t)(end - p), "-----BEGIN ", 11))) {
		const uint8_t *label = p + 11, *close;

		close = memmem(label, (size_t)(end - label), "-----", 5);
		if (!close)
			return -1;
		if (close - label >= 11 && !memcmp(close - 11, "PRIVATE KEY", 11))
			return p - buf;
		p = label;
	}
	return -1;
}

/* one DER tag and length; the contents in @ret; -EBADMSG for BER's indefinite length too */
static int der_tlv(struct cursor *c, uint8_t *ret_tag, struct cursor *ret)
{
	uint8_t tag, b;
	size_t n = 0;

	if (cur_u8(c, &tag) < 0 || cur_u8(c, &b) < 0)
		return -EBADMSG;
	if (b & 0x80) {
		unsigned k = b & 0x7f;

		if (k == 0 || k > 4)
			return -EBADMSG;
		while (k--) {
			if (cur_u8(c, &b) < 0)
				return -EBADMSG;
			n = n << 8 | b;
		}
	} else {
		n = b;
	}
	*ret_tag = tag;
	return cur_sub(c, n, ret);
}

/*
 * Every DER private key is a SEQUENCE whose first member is an INTEGER (PKCS#8, PKCS#1 and
 * SEC1 start with a version) or, encrypted PKCS#8, a SEQUENCE then an OCTET STRING: a buffer
 * that is plainly no key (a certificate: SEQUENCE, SEQUENCE, SEQUENCE) is refused without
 * running the decoder.
 */
static bool der_not_key(const uint8_t *buf, size_t len)
{
	struct cursor c, seq, first;
	uint8_t tag, tag2;

	if (!len || buf[0] != 0x30)
		return true;
	cur_init(&c, buf, len);
	if (der_tlv(&c, &tag, &seq) < 0 || der_tlv(&seq, &tag, &first) < 0)
		return false; /* unclear: the decoder decides */
	if (tag == 0x02)
		return false;
	if (tag != 0x30)
		return true;
	if (der_tlv(&seq, &tag2, &first) < 0)
		return false;
	return tag2 != 0x04;
}

enum { KEY_DEC_DER, KEY_DEC_PEM, KEY_DEC_SPKI };

/*
 * Decode one private key with the context's cached decoder for DER or PEM (any structure:
 * PKCS#8 in the clear or encrypted, PKCS#1, SEC1; legacy PEM encryption too).  The
 * passphrase callback is set again on every call, which also drops whatever passphrase the
 * decoder may have kept from an earlier call.  -ENOMEM when no decoder can be built; 0 with
 * *ret_pkey NULL when the bytes are not a key (OpenSSL's reason left in its error queue).
 */
static int key_decode(vouch_ctx *ctx, int which, const uint8_t *buf, size_t len,
		      struct pass_state *ps, EVP_PKEY **ret_pkey, size_t *ret_left)
{
	static const struct {
		const char *input, *structure;
		int selection;
	} dec[] = {
		[KEY_DEC_DER] = { "DER", NULL, EVP_PKEY_KEYPAIR },
		[KEY_DEC_PEM] = { "PEM", NULL, EVP_PKEY_KEYPAIR },
		[KEY_DEC_SPKI] = { "DER", "SubjectPublicKeyInfo", EVP_PKEY_PUBLIC_KEY },
	};
	OSSL_DECODER_CTX *dctx = ctx->key_dec[which];
	const unsigned char *p = buf;
	size_t left = len;
	int ok;

	if (!dctx) {
		dctx = OSSL_DECODER_CTX_new_for_pkey(&ctx->key_dec_out[which], dec[which].input,
						     dec[which].structure, NULL,
						     dec[which].selection, NULL, NULL);
		if (!dctx)
			return -ENOMEM;
		if (OSSL_DECODER_CTX_get_num_decoders(dctx) == 0) {
			OSSL_DECODER_CTX_free(dctx);
			return -ENOMEM;
		}
		ctx->key_dec[which] = dctx;
	}
	if (ps && !OSSL_DECODER_CTX_set_pem_password_cb(dctx, pem_pass_cb, ps))
		return -ENOMEM;
	EVP_PKEY_free(TAKE_PTR(ctx->key_dec_out[which]));
	ok = OSSL_DECODER_from_data(dctx, &p, &left);
	*ret_pkey = TAKE_PTR(ctx->key_dec_out[which]);
	if (!ok)
		EVP_PKEY_free(TAKE_PTR(*ret_pkey));
	if (ret_left)
		*ret_left = left;
	return 0;
}

int spki_decode(vouch_ctx *ctx, const uint8_t *der, size_t len, EVP_PKEY **ret_pkey)
{
	EVP_PKEY *pkey = NULL;
	size_t left = 0;
	int r;

	*ret_pkey = NULL;
	if (!len || len > INT32_MAX)
		return -EBADMSG;
	r = key_decode(ctx, KEY_DEC_SPKI, der, len, NULL, &pkey, &left);
	if (r < 0)
		return r;
	if (!pkey || left) {
		EVP_PKEY_free(pkey);
		return -EBADMSG;
	}
	*ret_pkey = pkey;
	return 0;
}

VOUCH_EXPORT int vouch_key_load_mem(vouch_ctx *ctx, const uint8_t *buf, size_t len,
				    vouch_pass_fn pass_fn, void *userdata, vouch_key **ret_key)
{
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
	struct pass_state ps = { .fn = pass_fn, .userdata = userdata };
	vouch_key *key;
	int r;

	if (!ctx || (!buf && len) || !ret_key)
		return -EINVAL;
	if (len > INT32_MAX)
		return ctx_err(ctx, -EFBIG, "key too large");
	if (looks_pem(buf, len)) {
		ssize_t at = pem_private_key_at(buf, len);

		if (at < 0)
			return ctx_err(ctx, -EBADMSG, "not a private key: no PRIVATE KEY block");
		r = key_decode(ctx, KEY_DEC_PEM, buf + at, len - (size_t)at, &ps, &pkey, NULL);
	} else {
		/* DER: PKCS#8 (clear or encrypted), PKCS#1 or SEC1 */
		if (der_not_key(buf, len))
			return ctx_err(ctx, -EBADMSG, "not a private key");
		r = key_decode(ctx, KEY_DEC_DER, buf, len, &ps, &pkey, NULL);
	}
	if (r == -ENOMEM)
		return ctx_err_ssl(ctx, -ENOMEM, "cannot build the OpenSSL key decoder");
	if (!pkey) {
		if (ps.err == -ENOKEY)
			return ctx_err(ctx, -ENOKEY, "the key is encrypted and no passphrase was given");
		if (ps.err < 0)
			return ctx_err(ctx, ps.err, "cannot read the passphrase");
		if (ps.asked)
			return ctx_err(ctx, -EKEYREJECTED, "wrong passphrase");
		return ctx_err_ssl(ctx, -EBADMSG, "not a private key");
	}
	key = mem_zalloc(sizeof(*key));
	if (!key)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	key->pkey = TAKE_PTR(pkey);
	*ret_key = key;
	return 0;
}

VOUCH_EXPORT int vouch_key_load(vouch_ctx *ctx, const char *path, vouch_pass_fn pass_fn,
				void *userdata, vouch_key **ret_key)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0;
	struct stat st;
	int r;

	if (!ctx || !path || !ret_key)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ctx_err(ctx, -errno, "cannot open '%s': %m", path);
	if (fstat(fd, &st) < 0)
		return ctx_err(ctx, -errno, "cannot stat '%s': %m", path);
	if (S_ISDIR(st.st_mode))
		return ctx_err(ctx, -EISDIR, "'%s' is a directory, not a key file", path);
	if (!S_ISREG(st.st_mode))
		return ctx_err(ctx, -EINVAL, "'%s' is not a regular file", path);
	if (st.st_mode & 077)
		return ctx_err(ctx, -EPERM,
			       "refusing private key '%s': readable or writable by group or others "
			       "(mode %04o; run chmod 600)",
			       path, (unsigned)(st.st_mode & 07777));
	r = read_fd_all(ctx, fd, path, KEY_FILE_MAX, &buf, &len);
	if (r < 0)
		return r;
	r = vouch_key_load_mem(ctx, buf, len, pass_fn, userdata, ret_key);
	OPENSSL_cleanse(buf, len);
	if (r < 0) {
		char msg[VOUCH_ERRMSG_SIZE];

		snprintf(msg, sizeof(msg), "%s", ctx->errmsg);
		return ctx_err(ctx, r, "'%s': %s", path, msg);
	}
	return 0;
}

VOUCH_EXPORT void vouch_key_free(vouch_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

VOUCH_EXPORT int vouch_key_type(const vouch_key *key)
{
	return key ? pkey_type(key->pkey) : -EINVAL;
}

VOUCH_EXPORT unsigned vouch_key_bits(const vouch_key *key)
{
	return key ? (unsigned)EVP_PKEY_get_bits(key->pkey) : 0;
}

VOUCH_EXPORT bool vouch_key_matches_cert(const vouch_key *key, const vouch_cert *cert)
{
	bool ok;

	if (!key || !cert)
		return false;
	ok = EVP_PKEY_eq(key->pkey, cert->pubkey) == 1;
	ssl_clear_errors();
	return ok;
}

static int bio_to_mem(BIO *bio, const uint8_t **ret, size_t *ret_len)
{
	char *p = NULL;
	long n = BIO_get_mem_data(bio, &p);

	if (n < 0)
		return -EIO;
	*ret = (const uint8_t *)p;
	*ret_len = (size_t)n;
	return 0;
}

VOUCH_EXPORT int vouch_key_save(vouch_ctx *ctx, const vouch_key *key, const char *path)
{
	_cleanup_(BIO_freep) BIO *bio = NULL;
	_cleanup_close_ int fd = -1;
	const uint8_t *pem;
	size_t len;
	int r;

	if (!ctx || !key || !path)
		return -EINVAL;
	bio = BIO_new(BIO_s_secmem());
	if (!bio)
		bio = BIO_new(BIO_s_mem());
	if (!bio || !PEM_write_bio_PKCS8PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL))
		return ctx_err_ssl(ctx, -EIO, "cannot encode the private key");
	if (bio_to_mem(bio, &pem, &len) < 0)
		return ctx_err_ssl(ctx, -EIO, "cannot encode the private key");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return ctx_err(ctx, -EEXIST, "refusing to overwrite '%s'", path);
		return ctx_err(ctx, -errno, "cannot create '%s': %m", path);
	}
	r = write_all(fd, pem, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && close(TAKE_FD(fd)) < 0)
		r = -errno;
	if (r < 0) {
		unlink(path);
		errno = -r;
		return ctx_err(ctx, r, "cannot write '%s': %m", path);
	}
	return 0;
}

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
	if (bio_to_mem(bio, &p, &len) < 0)
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
	c->info.key_type = pkey_type(c->pubkey);
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
static int certs_from_mem(vouch_ctx *ctx, const uint8_t *buf, size_t len, const char *name,
			  int (*fn)(vouch_ctx *, X509 *, void *), void *userdata)
{
	int count = 0, r;

	if (len > INT32_MAX)
		return ctx_err(ctx, -EFBIG, "'%s' is too large", name);
	if (looks_pem(buf, len)) {
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
	r = certs_from_mem(ctx, buf, len, "<memory>", take_first, &c);
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
	r = certs_from_mem(ctx, buf, len, path, take_first, &c);
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
	if (!bio || !PEM_write_bio_X509(bio, cert->x509) || bio_to_mem(bio, &pem, &len) < 0)
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

/* --- key generation ------------------------------------------------------------------ */

static int parse_subject(vouch_ctx *ctx, const char *s, X509_NAME **ret)
{
	_cleanup_(X509_NAME_freep) X509_NAME *name = X509_NAME_new();
	_cleanup_free_ char *copy = mem_strdup(s);
	char sep = s[0] == '/' ? '/' : ',';
	char *p, *next;

	if (!name || !copy)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	p = copy[0] == '/' ? copy + 1 : copy;
	for (; p && *p; p = next) {
		char *eq;

		next = strchr(p, sep);
		if (next)
			*next++ = '\0';
		while (*p == ' ')
			p++;
		eq = strchr(p, '=');
		if (!eq || eq == p || !eq[1])
			return ctx_err(ctx, -EINVAL, "malformed subject component '%s' in '%s'", p,
				       s);
		*eq = '\0';
		if (!X509_NAME_add_entry_by_txt(name, p, MBSTRING_UTF8,
						(const unsigned char *)(eq + 1), -1, -1, 0))
			return ctx_err_ssl(ctx, -EINVAL, "unknown subject attribute '%s' in '%s'",
					   p, s);
	}
	if (X509_NAME_entry_count(name) == 0)
		return ctx_err(ctx, -EINVAL, "empty subject '%s'", s);
	*ret = TAKE_PTR(name);
	return 0;
}

static int add_ext(vouch_ctx *ctx, X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	_cleanup_(X509_EXTENSION_freep) X509_EXTENSION *ext =
		X509V3_EXT_conf_nid(NULL, v3, nid, value);

	if (!ext || !X509_add_ext(x, ext, -1))
		return ctx_err_ssl(ctx, -EIO, "cannot add extension %s", OBJ_nid2sn(nid));
	return 0;
}

VOUCH_EXPORT int vouch_key_generate(vouch_ctx *ctx, const struct vouch_keygen_options *opts,
				    vouch_key **ret_key, vouch_cert **ret_cert)
{
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
	_cleanup_(X509_freep) X509 *x = NULL;
	_cleanup_(X509_NAME_freep) X509_NAME *name = NULL;
	_cleanup_(BN_freep) BIGNUM *bn = NULL;
	X509V3_CTX v3;
	vouch_key *key;
	uint64_t serial;
	unsigned days;
	int r;

	if (!ctx || !opts || !ret_key || !ret_cert)
		return -EINVAL;
	if (opts->version != 1)
		return ctx_err(ctx, -EINVAL, "unsupported keygen options version %u",
			       opts->version);
	for (size_t i = 0; i < ARRAY_SIZE(opts->reserved); i++)
		if (opts->reserved[i])
			return ctx_err(ctx, -EINVAL, "reserved keygen option fields must be zero");
	if (opts->type == VOUCH_KEY_RSA) {
		unsigned bits = opts->bits ? opts->bits : 2048;

		if (bits < 1024 || bits > 16384)
			return ctx_err(ctx, -EINVAL, "RSA key size %u out of range (1024-16384)",
				       bits);
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	} else if (opts->type == VOUCH_KEY_EC) {
		const char *curve = opts->curve ? opts->curve : "P-256";
		int nid = EC_curve_nist2nid(curve);

		if (nid == NID_undef)
			nid = OBJ_sn2nid(curve);
		if (nid == NID_undef || (nid != NID_X9_62_prime256v1 && nid != NID_secp384r1 &&
					 nid != NID_secp521r1 && nid != NID_X9_62_prime192v1))
			return ctx_err(ctx, -EINVAL,
				       "unsupported curve '%s' (P-192, P-256, P-384, P-521)", curve);
		if (opts->bits)
			return ctx_err(ctx, -EINVAL, "EC keys take a curve, not a bit count");
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", OBJ_nid2sn(nid));
	} else {
		return ctx_err(ctx, -EINVAL, "key type must be RSA or EC");
	}
	if (!pkey)
		return ctx_err_ssl(ctx, -EIO, "key generation failed");

	r = parse_subject(ctx, opts->subject ? opts->subject : "CN=vouch signing key", &name);
	if (r < 0)
		return r;
	serial = opts->serial;
	while (serial == 0) {
		if (RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1)
			return ctx_err_ssl(ctx, -EIO, "no randomness for the serial number");
		serial &= INT64_MAX; /* positive INTEGER */
	}
	days = opts->days ? opts->days : 3650;
	x = X509_new();
	bn = BN_new();
	if (!x || !bn)
		return ctx_err_ssl(ctx, -ENOMEM, "out of memory");
	if (!BN_set_word(bn, serial) || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
	    !X509_set_version(x, X509_VERSION_3) || !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, name) || !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) ||
	    !X509_set_pubkey(x, pkey))
		return ctx_err_ssl(ctx, -EIO, "cannot build the certificate");
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if ((r = add_ext(ctx, x, &v3, NID_subject_key_identifier, "hash")) < 0 ||
	    (r = add_ext(ctx, x, &v3, NID_authority_key_identifier, "keyid:always")) < 0 ||
	    (r = add_ext(ctx, x, &v3, NID_basic_constraints, "critical,CA:FALSE")) < 0 ||
	    (r = add_ext(ctx, x, &v3, NID_key_usage, "digitalSignature")) < 0 ||
	    (r = add_ext(ctx, x, &v3, NID_ext_key_usage, "codeSigning")) < 0)
		return r;
	if (!X509_sign(x, pkey, EVP_sha256()))
		return ctx_err_ssl(ctx, -EIO, "cannot sign the certificate");

	key = mem_zalloc(sizeof(*key));
	if (!key)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	r = cert_from_x509(ctx, x, ret_cert);
	if (r < 0) {
		free(key);
		return r;
	}
	key->pkey = TAKE_PTR(pkey);
	*ret_key = key;
	return 0;
}

/* --- trust stores -------------------------------------------------------------------- */

VOUCH_EXPORT int vouch_trust_new(vouch_ctx *ctx, vouch_trust **ret_trust)
{
	vouch_trust *t;

	if (!ctx || !ret_trust)
		return -EINVAL;
	t = mem_zalloc(sizeof(*t));
	if (!t)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	t->ctx = ctx;
	*ret_trust = t;
	return 0;
}

VOUCH_EXPORT void vouch_trust_free(vouch_trust *trust)
{
	if (!trust)
		return;
	for (size_t i = 0; i < trust->n; i++) {
		vouch_cert_free(trust->entries[i].cert);
		free(trust->entries[i].keyring);
	}
	free(trust->entries);
	free(trust);
}

VOUCH_EXPORT int vouch_trust_add_cert(vouch_trust *trust, const vouch_cert *cert,
				      const char *keyring)
{
	char *name;

	if (!trust || !cert)
		return -EINVAL;
	if (trust->n == trust->cap) {
		size_t cap = trust->cap ? trust->cap * 2 : 8;
		struct trust_entry *e = mem_reallocarray(trust->entries, cap, sizeof(*e));

		if (!e)
			return ctx_err(trust->ctx, -ENOMEM, "out of memory");
		trust->entries = e;
		trust->cap = cap;
	}
	name = mem_strdup(keyring ? keyring : "default");
	if (!name)
		return ctx_err(trust->ctx, -ENOMEM, "out of memory");
	trust->entries[trust->n].cert = cert_ref(cert);
	trust->entries[trust->n].keyring = name;
	trust->n++;
	return 0;
}

struct add_state {
	vouch_trust *trust;
	const char *keyring;
};

static int add_x509(vouch_ctx *ctx, X509 *x, void *userdata)
{
	struct add_state *st = userdata;
	vouch_cert *c = NULL;
	int r = cert_from_x509(ctx, x, &c);

	if (r < 0)
		return r;
	r = vouch_trust_add_cert(st->trust, c, st->keyring);
	vouch_cert_free(c);
	return r;
}

static int trust_add_file(vouch_trust *trust, const char *path, const char *keyring)
{
	_cleanup_free_ uint8_t *buf = NULL;
	struct add_state st = { trust, keyring };
	size_t len;
	int r;

	r = read_file_all(trust->ctx, path, KEY_FILE_MAX, &buf, &len);
	if (r < 0)
		return r;
	r = certs_from_mem(trust->ctx, buf, len, path, add_x509, &st);
	return r < 0 ? r : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

VOUCH_EXPORT int vouch_trust_add_path(vouch_trust *trust, const char *path, const char *keyring)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	if (!trust || !path)
		return -EINVAL;
	if (stat(path, &st) < 0)
		return ctx_err(trust->ctx, -errno, "cannot open '%s': %m", path);
	if (!S_ISDIR(st.st_mode))
		return trust_add_file(trust, path, keyring);

	d = opendir(path);
	if (!d)
		return ctx_err(trust->ctx, -errno, "cannot open directory '%s': %m", path);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = mem_reallocarray(names, cap ? cap * 2 : 16, sizeof(*nn));

			if (!nn) {
				r = ctx_err(trust->ctx, -ENOMEM, "out of memory");
				goto out;
			}
			names = nn;
			cap = cap ? cap * 2 : 16;
		}
		names[n] = mem_alloc(strlen(path) + strlen(de->d_name) + 2);
		if (!names[n]) {
			r = ctx_err(trust->ctx, -ENOMEM, "out of memory");
			goto out;
		}
		snprintf(names[n], strlen(path) + strlen(de->d_name) + 2, "%s/%s", path,
			 de->d_name);
		n++;
	}
	/* deterministic order: verdicts must not depend on readdir order */
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n && r == 0; i++) {
		struct stat fst;

		if (stat(names[i], &fst) < 0 || !S_ISREG(fst.st_mode))
			continue;
		r = trust_add_file(trust, names[i], keyring);
	}
	if (r == 0 && n == 0)
		r = ctx_err(trust->ctx, -ENOENT, "no certificates in directory '%s'", path);
out:
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

VOUCH_EXPORT size_t vouch_trust_count(const vouch_trust *trust)
{
	return trust ? trust->n : 0;
}

VOUCH_EXPORT int vouch_trust_get(const vouch_trust *trust, size_t index,
				 const vouch_cert **ret_cert, const char **ret_keyring)
{
	if (!trust)
		return -EINVAL;
	if (index >= trust->n)
		return -ERANGE;
	if (ret_cert)
		*ret_cert = trust->entries[index].cert;
	if (ret_keyring)
		*ret_keyring = trust->entries[index].keyring;
	return 0;
}

static int trust_hit(const vouch_trust *trust, size_t i, const vouch_cert **ret_cert,
		     const char **ret_keyring)
{
	if (ret_cert)
		*ret_cert = trust->entries[i].cert;
	if (ret_keyring)
		*ret_keyring = trust->entries[i].keyring;
	return 0;
}

VOUCH_EXPORT int vouch_trust_find_keyid(const vouch_trust *trust, uint32_t keyid,
					const vouch_cert **ret_cert, const char **ret_keyring)
{
	if (!trust)
		return -EINVAL;
	for (size_t i = 0; i < trust->n; i++) {
		const vouch_cert *c = trust->entries[i].cert;

		if (c->info.has_ima_keyid && c->info.ima_keyid == keyid)
			return trust_hit(trust, i, ret_cert, ret_keyring);
	}
	return -ENOKEY;
}

VOUCH_EXPORT int vouch_trust_find_skid(const vouch_trust *trust, const uint8_t *skid,
				       size_t skid_len, const vouch_cert **ret_cert,
				       const char **ret_keyring)
{
	if (!trust || (!skid && skid_len))
		return -EINVAL;
	for (size_t i = 0; i < trust->n; i++) {
		const vouch_cert *c = trust->entries[i].cert;

		if (c->skid && c->skid_len == skid_len && memcmp(c->skid, skid, skid_len) == 0)
			return trust_hit(trust, i, ret_cert, ret_keyring);
	}
	return -ENOKEY;
}

VOUCH_EXPORT int vouch_trust_find_issuer_serial(const vouch_trust *trust,
						const uint8_t *issuer_der, size_t issuer_len,
						const uint8_t *serial, size_t serial_len,
						const vouch_cert **ret_cert,
						const char **ret_keyring)
{
	if (!trust || !issuer_der || !serial)
		return -EINVAL;
	/* DER INTEGER may carry a leading 0x00 for a positive number with the top bit set */
	while (serial_len > 1 && serial[0] == 0) {
		serial++;
		serial_len--;
	}
	for (size_t i = 0; i < trust->n; i++) {
		const vouch_cert *c = trust->entries[i].cert;

		if (c->issuer_der_len == issuer_len &&
		    memcmp(c->issuer_der, issuer_der, issuer_len) == 0 &&
		    c->serial_len == serial_len && memcmp(c->serial, serial, serial_len) == 0)
			return trust_hit(trust, i, ret_cert, ret_keyring);
	}
	return -ENOKEY;
}
