// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Private keys on top of OpenSSL: loaded from PEM or DER files, saved, described, and
 * generated (with a self-signed certificate).  Certificates are in key-cert.c, trust stores
 * in key-trust.c.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "cursor.h"
#include "internal.h"
#include "openssl-internal.h"

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

int key_pkey_type(const EVP_PKEY *pkey)
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

bool key_looks_pem(const uint8_t *buf, size_t len)
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
	if (key_looks_pem(buf, len)) {
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
	return key ? key_pkey_type(key->pkey) : -EINVAL;
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

int key_bio_to_mem(BIO *bio, const uint8_t **ret, size_t *ret_len)
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
	if (key_bio_to_mem(bio, &pem, &len) < 0)
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
	if (check_reserved(ctx, opts->reserved, sizeof(opts->reserved),
			   "reserved keygen option fields must be zero") < 0)
		return -EINVAL;
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

