// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd: enrollment.  An agent without a certificate proves that its AK lives in the TPM
 * whose EK certificate it shows, and gets its mTLS client certificate for it:
 *
 *   POST /v1/agents/{id}/enroll   { "ek_cert": b64 DER | "ek_public": b64 TPM2B_PUBLIC,
 *                                   "ak": b64 TPM2B_PUBLIC, "csr": PEM PKCS#10 }
 *     the EK certificate chains to --ek-ca (or the bare EK is allowed by --allow-ek-public),
 *     the AK has the attributes of a TPM-resident signing key, the CSR's signature verifies;
 *     then TPM2_MakeCredential (in software) to the EK for the AK's name with a fresh random
 *     secret, stored as a pending enrollment with only the secret's SHA-256:
 *     200 { "agent", "credential": b64 (tpm2_makecredential's file), "deadline", "ak", "ek" }
 *   POST /v1/agents/{id}/activate { "secret": hex }
 *     only the TPM holding both the EK and the AK gets the secret back
 *     (TPM2_ActivateCredential); the pending enrollment is consumed by any attempt, right or
 *     wrong, and refused after its deadline; then an X.509 client certificate (CN and URI
 *     subjectAltName = id, clientAuth) for the CSR's key, signed by --agent-ca-key:
 *     201 (200 when the same EK and AK enrolled again) { "agent", "certificate": PEM, "ak",
 *     "ek", "registered" }
 *
 * Both answer without a client certificate: nothing the agent says is believed before the
 * credential is activated.  An id enrolled with another EK or AK is refused with 409.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <openssl/pem.h>

#include <vouch/credential.h>
#include <vouch/digest.h>

#include "vouchd.h"

#define SECRET_LEN 32
#define CERT_DAYS 365
/* pending enrollments at most: each costs an attacker an EK certificate (public) and a
 * request, so their number is bounded; expired ones are purged first */
#define MAX_PENDING 4096

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(X509_REQ *, x509_req_freep, X509_REQ_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(BIO *, bio_freep, BIO_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(EVP_PKEY *, pkey_freep, EVP_PKEY_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_cert *, cert_freep, vouch_cert_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(BIGNUM *, bn_freep, BN_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(X509_NAME *, x509_name_freep, X509_NAME_free)

static void to_hex(const uint8_t *buf, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", buf[i]);
}

/* hex SHA-256 of the key's DER SubjectPublicKeyInfo */
static int spki_fpr(EVP_PKEY *pk, char out[65])
{
	_cleanup_free_ unsigned char *der = NULL;
	unsigned char md[SHA256_DIGEST_LENGTH];
	int n = i2d_PUBKEY(pk, &der);

	if (n <= 0 || !SHA256(der, (size_t)n, md))
		return -EIO;
	to_hex(md, sizeof(md), out);
	return 0;
}

/* the AK's fingerprint as /attest and the state know it: hex SHA-256 of its PEM */
static int ak_fingerprint(vouch_ctx *ctx, const vouch_ak *ak, char out[65])
{
	_cleanup_free_ char *pem = NULL;
	struct vouch_digest d;
	int r;

	r = vouch_ak_export_pem(ctx, ak, &pem);
	if (r == 0)
		r = vouch_digest_buf(ctx, VOUCH_HASH_SHA256, pem, strlen(pem), &d);
	if (r == 0)
		r = vouch_digest_to_hex(&d, out, 65);
	return r;
}

static char *b64_encode(const uint8_t *buf, size_t len)
{
	char *s = malloc(4 * ((len + 2) / 3) + 1);

	if (s)
		EVP_EncodeBlock((unsigned char *)s, buf, (int)len);
	return s;
}

/* a TLS key the agent CA signs for: EC of 256 bits or more, RSA of 2048 or more */
static bool key_acceptable(EVP_PKEY *pk)
{
	int bits = EVP_PKEY_get_bits(pk);

	return (EVP_PKEY_is_a(pk, "EC") && bits >= 256) || (EVP_PKEY_is_a(pk, "RSA") && bits >= 2048);
}

int enroll_setup(struct server *srv)
{
	const struct config *c = &srv->cfg;
	_cleanup_(bio_freep) BIO *b = NULL;
	struct stat sb;
	int r;

	if (c->ek_ca) {
		r = vouch_trust_new(srv->ctx, &srv->ek_cas);
		if (r == 0)
			r = vouch_trust_add_path(srv->ek_cas, c->ek_ca, NULL);
		if (r == 0 && vouch_trust_count(srv->ek_cas) == 0)
			r = -ENOKEY;
		if (r < 0) {
			fprintf(stderr, "vouchd: --ek-ca '%s': %s\n", c->ek_ca,
				vouch_ctx_last_error(srv->ctx));
			return r;
		}
	}
	if (!c->agent_ca_cert)
		return 0;
	if (stat(c->agent_ca_key, &sb) == 0 && (sb.st_mode & 077)) {
		fprintf(stderr, "vouchd: '%s' is readable by group or others, refusing\n",
			c->agent_ca_key);
		return -EPERM;
	}
	b = BIO_new_file(c->agent_ca_cert, "r");
	srv->agent_ca = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	b = BIO_new_file(c->agent_ca_key, "r");
	srv->agent_ca_key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	if (!srv->agent_ca || !srv->agent_ca_key ||
	    X509_check_private_key(srv->agent_ca, srv->agent_ca_key) != 1 ||
	    X509_check_ca(srv->agent_ca) == 0) {
		fprintf(stderr, "vouchd: --agent-ca-cert '%s' / --agent-ca-key '%s': not a CA "
				"certificate and its key\n", c->agent_ca_cert, c->agent_ca_key);
		ERR_clear_error();
		return -EKEYREJECTED;
	}
	return 0;
}

void enroll_cleanup(struct server *srv)
{
	vouch_trust_free(srv->ek_cas);
	X509_free(srv->agent_ca);
	EVP_PKEY_free(srv->agent_ca_key);
}

static int add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, value);
	int r = e && X509_add_ext(x, e, -1) == 1 ? 0 : -EIO;

	X509_EXTENSION_free(e);
	return r;
}

/* the agent's certificate, PEM: CN and URI SAN @id, clientAuth (its requests) and serverAuth
 * (a pull agent serves its quotes with it), random serial */
static int issue_cert(struct server *srv, const char *id, X509_REQ *csr, char **ret_pem)
{
	_cleanup_(x509_freep) X509 *x = X509_new();
	_cleanup_(x509_name_freep) X509_NAME *name = X509_NAME_new();
	_cleanup_(bn_freep) BIGNUM *bn = NULL;
	_cleanup_(bio_freep) BIO *out = BIO_new(BIO_s_mem());
	const EVP_MD *md = EVP_sha256();
	unsigned char serial[16];
	char san[8 + STORE_ID_MAX];
	X509V3_CTX v3;
	char *data;
	long n;

	if (!x || !name || !out || RAND_bytes(serial, sizeof(serial)) != 1)
		return -ENOMEM;
	serial[0] = (serial[0] & 0x7f) | 0x40; /* positive, 16 bytes */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) || X509_set_version(x, 2) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(srv->agent_ca)) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)id, -1, -1,
				       0) != 1 ||
	    X509_set_subject_name(x, name) != 1 || !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)CERT_DAYS * 86400) ||
	    X509_set_pubkey(x, X509_REQ_get0_pubkey(csr)) != 1)
		return -EIO;
	/* never beyond the CA's own validity */
	if (ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(srv->agent_ca)) > 0 &&
	    X509_set1_notAfter(x, X509_get0_notAfter(srv->agent_ca)) != 1)
		return -EIO;
	/* @id is [A-Za-z0-9._-] (valid_id()): nothing of the config syntax */
	snprintf(san, sizeof(san), "URI:%s", id);
	X509V3_set_ctx(&v3, srv->agent_ca, x, NULL, NULL, 0);
	if (add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, &v3, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_ext(x, &v3, NID_ext_key_usage, "clientAuth,serverAuth") < 0 ||
	    add_ext(x, &v3, NID_subject_alt_name, san) < 0 ||
	    add_ext(x, &v3, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, &v3, NID_authority_key_identifier, "keyid:always") < 0)
		return -EIO;
	if (EVP_PKEY_is_a(srv->agent_ca_key, "ED25519") || EVP_PKEY_is_a(srv->agent_ca_key, "ED448"))
		md = NULL;
	if (X509_sign(x, srv->agent_ca_key, md) <= 0 || PEM_write_bio_X509(out, x) != 1)
		return -EIO;
	n = BIO_get_mem_data(out, &data);
	if (n <= 0 || !(*ret_pem = strndup(data, (size_t)n)))
		return -ENOMEM;
	return 0;
}

/* the EK: its key (DER SubjectPublicKeyInfo, for the certificate case) and fingerprint */
static int ek_from_cert(struct server *srv, struct evhttp_request *req, const uint8_t *der,
			size_t len, uint8_t **ret_spki, size_t *ret_spki_len, char ek_fpr[65])
{
	_cleanup_(cert_freep) vouch_cert *cert = NULL;
	_cleanup_(x509_freep) X509 *x = NULL;
	const unsigned char *p = der;
	unsigned char *spki = NULL;
	EVP_PKEY *pk;
	int n, r;

	if (!srv->ek_cas) {
		refuse(srv, req, 403, "no EK CA is configured (--ek-ca): EK certificates cannot be "
				      "checked");
		return -EPERM;
	}
	x = d2i_X509(NULL, &p, (long)len);
	if (!x || p != der + len || vouch_cert_load_mem(srv->ctx, der, len, &cert) < 0) {
		ERR_clear_error();
		refuse(srv, req, 400, "'ek_cert' is not a DER X.509 certificate");
		return -EBADMSG;
	}
	pk = X509_get0_pubkey(x);
	n = pk ? i2d_PUBKEY(pk, &spki) : -1;
	if (n <= 0) {
		ERR_clear_error();
		refuse(srv, req, 400, "'ek_cert' has no usable public key");
		return -EBADMSG;
	}
	r = vouch_credential_check_ek_cert(srv->ctx, cert, srv->ek_cas, spki, (size_t)n);
	if (r == 0)
		r = spki_fpr(pk, ek_fpr);
	if (r < 0) {
		OPENSSL_free(spki);
		refuse(srv, req, r == -EKEYREJECTED ? 403 : 400, "the EK certificate is refused: %s",
		       vouch_ctx_last_error(srv->ctx));
		return r;
	}
	/* the caller releases it with free(): a copy out of OpenSSL's allocator */
	*ret_spki = malloc((size_t)n);
	if (*ret_spki)
		memcpy(*ret_spki, spki, (size_t)n);
	OPENSSL_free(spki);
	if (!*ret_spki) {
		refuse(srv, req, 500, "out of memory");
		return -ENOMEM;
	}
	*ret_spki_len = (size_t)n;
	return 0;
}

static int ek_public_fpr(struct server *srv, const uint8_t *pub, size_t len, char ek_fpr[65])
{
	_cleanup_(ak_freep) vouch_ak *ek = NULL;
	_cleanup_free_ char *pem = NULL;
	_cleanup_(bio_freep) BIO *b = NULL;
	_cleanup_(pkey_freep) EVP_PKEY *pk = NULL;

	if (vouch_ak_load_mem(srv->ctx, pub, len, &ek) < 0 ||
	    vouch_ak_export_pem(srv->ctx, ek, &pem) < 0)
		return -EBADMSG;
	b = BIO_new_mem_buf(pem, -1);
	pk = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
	if (!pk) {
		ERR_clear_error();
		return -EBADMSG;
	}
	return spki_fpr(pk, ek_fpr);
}

static bool enroll_configured(struct server *srv, struct evhttp_request *req)
{
	if (srv->agent_ca && (srv->ek_cas || srv->cfg.allow_ek_public))
		return true;
	refuse(srv, req, 404, "enrollment is not configured (--agent-ca-cert, --ek-ca)");
	return false;
}

/* 0 when @id is free, 1 when it is enrolled with this EK and AK (a record from before
 * enrollment, without EK, may be enrolled with its AK: the activation proves more than its
 * registration did); -EEXIST after refusing */
static int check_existing(struct server *srv, struct evhttp_request *req, const char *id,
			  const char *ak_fpr, const char *ek_fpr, struct store_agent *ret_old)
{
	struct store *st = srv->store;
	struct store_agent old = { 0 };
	int r = st->ops->agent_get(st, id, &old);

	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		refuse(srv, req, 503, "database unavailable");
		return r;
	}
	store_agent_clear(&old);
	if (old.ek_fpr[0] && strcmp(old.ek_fpr, ek_fpr) != 0) {
		refuse(srv, req, 409, "agent '%s' is enrolled with another EK", id);
		return -EEXIST;
	}
	if (strcmp(old.ak_fpr, ak_fpr) != 0) {
		refuse(srv, req, 409, "agent '%s' is enrolled with another AK", id);
		return -EEXIST;
	}
	if (ret_old)
		*ret_old = old;
	return 1;
}

void do_enroll(struct server *srv, struct evhttp_request *req, const char *id)
{
	_cleanup_free_ char *body = NULL, *cred_b64 = NULL;
	_cleanup_free_ uint8_t *spki = NULL, *blob = NULL, *enc = NULL, *file = NULL;
	_cleanup_(json_putp) json_object *out = NULL;
	_cleanup_(request_enroll_clear) struct request_enroll rq = { 0 };
	const uint8_t *ekbuf;
	const vouch_ak *ak;
	struct store *st = srv->store;
	struct store_enrollment e = { 0 };
	struct vouch_ak_info info;
	uint8_t secret[SECRET_LEN];
	uint64_t pending = 0;
	const char *csr_pem;
	bool by_cert;
	size_t len, eklen, spki_len = 0, blob_len, enc_len, file_len;
	char err[256];
	EVP_PKEY *pk;
	int r;

	if (!enroll_configured(srv, req) || !(body = request_body(srv, req, &len)))
		return;
	/* the body's shape, its DER, PEM and TPM structures (vouchd-request.c, fuzzed) */
	r = request_parse_enroll(srv->ctx, body, len, &rq, err, sizeof(err));
	if (r < 0)
		return refuse(srv, req, r == -ENOMEM ? 500 : 400, "%s", err);
	by_cert = rq.by_cert;
	ekbuf = rq.ek, eklen = rq.ek_len;
	csr_pem = rq.csr_pem;
	ak = rq.key;
	if (!by_cert && !srv->cfg.allow_ek_public)
		return refuse(srv, req, 403, "an EK without certificate is not accepted "
					     "(--allow-ek-public)");

	/* every check runs before anything is made or stored: the EK ... */
	if (by_cert) {
		if (ek_from_cert(srv, req, ekbuf, eklen, &spki, &spki_len, e.ek_fpr) < 0)
			return;
		e.ek_certified = true;
	} else if (ek_public_fpr(srv, ekbuf, eklen, e.ek_fpr) < 0) {
		return refuse(srv, req, 400, "'ek_public' is not a TPM2B_PUBLIC");
	}
	/* ... the AK: a TPM-resident restricted signing key ... */
	vouch_ak_get_info(ak, &info);
	r = vouch_credential_check_ak(srv->ctx, ak);
	if (r < 0)
		return refuse(srv, req, 403, "the AK is refused: %s", vouch_ctx_last_error(srv->ctx));
	if (ak_fingerprint(srv->ctx, ak, e.ak_fpr) < 0)
		return refuse(srv, req, 500, "cannot fingerprint the AK");
	/* ... the CSR: self-signed by the key it asks a certificate for (verified when
	 * parsed), a key the agent CA signs for */
	pk = X509_REQ_get0_pubkey(rq.csr);
	if (!key_acceptable(pk))
		return refuse(srv, req, 400, "the CSR's key must be EC (256 bits or more) or RSA "
					     "(2048 bits or more)");

	if (RAND_bytes(secret, sizeof(secret)) != 1)
		return refuse(srv, req, 500, "no randomness");
	r = vouch_credential_make(srv->ctx, by_cert ? spki : ekbuf, by_cert ? spki_len : eklen,
				  info.name, info.name_len, secret, sizeof(secret), &blob,
				  &blob_len, &enc, &enc_len);
	if (r == 0)
		r = vouch_credential_encode(srv->ctx, blob, blob_len, enc, enc_len, &file,
					    &file_len);
	if (r < 0 || !SHA256(secret, sizeof(secret), e.secret_hash)) {
		OPENSSL_cleanse(secret, sizeof(secret));
		return refuse(srv, req, r == -EOPNOTSUPP || r == -EBADMSG ? 400 : 500,
			      "cannot make a credential to this EK: %s",
			      vouch_ctx_last_error(srv->ctx));
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	if (!(cred_b64 = b64_encode(file, file_len)))
		return refuse(srv, req, 500, "out of memory");

	snprintf(e.id, sizeof(e.id), "%s", id);
	e.ak = rq.ak;
	e.ak_len = rq.ak_len;
	e.csr = (char *)csr_pem;
	e.deadline = (int64_t)time(NULL) + srv->cfg.enroll_ttl;
	if (st->ops->begin(st) < 0)
		return refuse(srv, req, 503, "database unavailable");
	r = check_existing(srv, req, id, e.ak_fpr, e.ek_fpr, NULL);
	if (r < 0) {
		st->ops->rollback(st);
		return;
	}
	if (st->ops->enrollment_purge(st, (int64_t)time(NULL), &pending) < 0) {
		st->ops->rollback(st);
		return refuse(srv, req, 503, "database unavailable");
	}
	if (pending >= MAX_PENDING) {
		st->ops->rollback(st);
		return refuse(srv, req, 503, "too many pending enrollments, try again later");
	}
	if (st->ops->enrollment_put(st, &e) < 0 || store_commit(srv) < 0) {
		st->ops->rollback(st);
		return refuse(srv, req, 503, "database unavailable");
	}
	fprintf(stderr, "vouchd: agent '%s': enrollment pending, AK %s, EK %s\n", id, e.ak_fpr,
		e.ek_fpr);
	out = json_object_new_object();
	json_object_object_add(out, "agent", json_object_new_string(id));
	json_object_object_add(out, "credential", json_object_new_string(cred_b64));
	json_object_object_add(out, "deadline", json_object_new_int64(e.deadline));
	json_object_object_add(out, "ak", json_object_new_string(e.ak_fpr));
	json_object_object_add(out, "ek", json_object_new_string(e.ek_fpr));
	reply_json(srv, req, 200, out);
}

void do_activate(struct server *srv, struct evhttp_request *req, const char *id)
{
	_cleanup_free_ char *body = NULL, *cert = NULL;
	_cleanup_(json_putp) json_object *out = NULL;
	_cleanup_(x509_req_freep) X509_REQ *csr = NULL;
	struct store *st = srv->store;
	struct store_enrollment e = { 0 };
	struct store_agent a = { 0 }, old = { 0 };
	struct store_status status = { 0 };
	uint8_t secret[64], h[SHA256_DIGEST_LENGTH];
	size_t len, secret_len;
	char err[256];
	int r, existing;

	if (!enroll_configured(srv, req) || !(body = request_body(srv, req, &len)))
		return;
	if (request_parse_activate(body, len, secret, &secret_len, err, sizeof(err)) < 0)
		return refuse(srv, req, 400, "%s", err);
	SHA256(secret, secret_len, h);
	OPENSSL_cleanse(secret, sizeof(secret));

	if (st->ops->begin(st) < 0)
		return refuse(srv, req, 503, "database unavailable");
	r = st->ops->enrollment_take(st, id, &e);
	if (r == -ENOENT) {
		st->ops->rollback(st);
		return refuse(srv, req, 404, "no pending enrollment for agent '%s'", id);
	}
	if (r < 0) {
		st->ops->rollback(st);
		return refuse(srv, req, 503, "database unavailable");
	}
	/* from here every refusal commits: any attempt consumes the enrollment, so a secret
	 * is never guessed twice and a credential is never activated twice */
	if (e.deadline < (int64_t)time(NULL) ||
	    CRYPTO_memcmp(h, e.secret_hash, sizeof(h)) != 0) {
		bool late = e.deadline < (int64_t)time(NULL);

		store_enrollment_clear(&e);
		if (store_commit(srv) < 0) {
			st->ops->rollback(st);
			return refuse(srv, req, 503, "database unavailable");
		}
		if (late)
			return refuse(srv, req, 409, "the enrollment of agent '%s' expired: enroll "
						     "again", id);
		return refuse(srv, req, 403, "the secret does not match: the enrollment of agent "
					     "'%s' is void", id);
	}
	existing = check_existing(srv, req, id, e.ak_fpr, e.ek_fpr, &old);
	if (existing < 0) {
		/* another EK or AK: consumed like a wrong secret; a database error: nothing */
		store_enrollment_clear(&e);
		if (existing != -EEXIST || store_commit(srv) < 0)
			st->ops->rollback(st);
		return;
	}
	csr = request_csr_parse(e.csr); /* checked at /enroll, stored by us */
	if (!csr || issue_cert(srv, id, csr, &cert) < 0) {
		ERR_clear_error();
		store_enrollment_clear(&e);
		st->ops->rollback(st);
		return refuse(srv, req, 500, "cannot issue the certificate");
	}
	snprintf(a.id, sizeof(a.id), "%s", id);
	a.ak = e.ak;
	a.ak_len = e.ak_len;
	memcpy(a.ak_fpr, e.ak_fpr, sizeof(a.ak_fpr));
	memcpy(a.ek_fpr, e.ek_fpr, sizeof(a.ek_fpr));
	a.ek_certified = e.ek_certified;
	a.registered = existing ? old.registered : (int64_t)time(NULL);
	snprintf(a.reference, sizeof(a.reference), "%s", existing ? old.reference : "default");
	/* a re-enrollment keeps how the agent's evidence arrives */
	if (existing) {
		memcpy(a.mode, old.mode, sizeof(a.mode));
		memcpy(a.url, old.url, sizeof(a.url));
	}
	r = st->ops->agent_put(st, &a);
	/* a new agent enters the state machine, with its first deadline (vouchd-notify.c) */
	if (r == 0 && !existing)
		r = agent_transition(srv, id, "enrolled", 0, "enrolled", a.registered, &status);
	if (r == 0)
		r = store_commit(srv);
	if (r < 0) {
		store_enrollment_clear(&e);
		st->ops->rollback(st);
		return refuse(srv, req, 503, "database unavailable");
	}
	notify_committed(srv);
	fprintf(stderr, "vouchd: agent '%s' enrolled, AK %s, EK %s\n", id, e.ak_fpr, e.ek_fpr);
	out = json_object_new_object();
	json_object_object_add(out, "agent", json_object_new_string(id));
	json_object_object_add(out, "certificate", json_object_new_string(cert));
	json_object_object_add(out, "ak", json_object_new_string(e.ak_fpr));
	json_object_object_add(out, "ek", json_object_new_string(e.ek_fpr));
	json_object_object_add(out, "registered", json_object_new_boolean(!existing));
	if (!existing)
		json_object_object_add(out, "next_deadline", json_object_new_int64(status.deadline));
	store_enrollment_clear(&e);
	reply_json(srv, req, existing ? 200 : 201, out);
}
