// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd: EAT Attestation Results (draft-ietf-rats-ear) with the AR4SI trustworthiness
 * vector (draft-ietf-rats-ar4si), signed as a JWT (RFC 7519) with ES256 (RFC 7518 3.4).
 *
 * Each attestation round gets one EAR with two submodules: "boot" (the quoted PCRs 0-9,
 * the firmware event log, IMA's boot_aggregate) and "runtime" (the IMA list against the
 * reference values and signatures).  The claims are derived from the checks of
 * vouch_attest_verify() only; the table is in man/vouchd.8 (ATTESTATION RESULTS).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>

#include "vouchd.h"

#define EAR_PROFILE "tag:github.com,2023:veraison/ear"

/* AR4SI values (draft-ietf-rats-ar4si section 2.3) */
enum {
	AR_MALFUNCTION = -1, /* the verifier could not appraise */
	AR_NONE = 0, /* no claim made */
	AR_AFFIRMING = 2, /* trustworthy instance, approved configuration / executables / files */
	AR_UNRECOGNIZED_FILES = 32, /* file-system: files not recognised */
	AR_UNRECOGNIZED_RT = 33, /* executables: loaded, but not recognised */
	AR_CONTRAINDICATED = 96, /* untrustworthy instance, unsupportable config, ... */
	AR_UNRECOGNIZED_HW = 97, /* hardware: not recognised */
	AR_CRYPTO_FAILED = 99, /* cryptographic validation of the evidence failed */
};

enum { TV_INSTANCE, TV_CONFIGURATION, TV_EXECUTABLES, TV_FILE_SYSTEM, TV_HARDWARE, _TV_MAX };
static const char *const tv_names[_TV_MAX] = { "instance-identity", "configuration",
					       "executables", "file-system", "hardware" };

static int tier(int v)
{
	if (v >= 96 || v <= -2)
		return 3; /* contraindicated */
	if (v >= 32)
		return 2; /* warning */
	if (v >= 2)
		return 1; /* affirming */
	return 0; /* none */
}

static const char *const tier_names[] = { "none", "affirming", "warning", "contraindicated" };

/*
 * keep the worse of two values: the higher tier; within one, the more specific.  A check
 * that could not be done (-1) takes the place of an affirming value: never affirm what was
 * not checked.
 */
static void worsen(int *claim, int v)
{
	int a = tier(*claim) * 1000 + (*claim == AR_MALFUNCTION ? 1 : *claim);
	int b = tier(v) * 1000 + (v == AR_MALFUNCTION ? 1 : v);

	if (v == AR_MALFUNCTION ? tier(*claim) <= 1 : b > a)
		*claim = v;
}

static bool is_any(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(name, *list) == 0)
			return true;
	return false;
}

/* the vector from the checks: see man/vouchd.8, ATTESTATION RESULTS */
static void vector(const struct vouch_attest_result *res, bool genuine_tpm, int tv[_TV_MAX])
{
	static const char *const identity[] = { "magic", "type", "nonce", "algorithms", "ak_name",
						"ak_attributes", "state", NULL };
	static const char *const config[] = { "pcr_selection", "pcr_digest", "pcr_values",
					      "eventlog", "boot_aggregate", NULL };
	static const char *const list[] = { "ima_list", "ima_templates", NULL };
	static const char *const approval[] = { "reference", "signatures", NULL };
	bool approved = false;

	tv[TV_INSTANCE] = res->quote.parsed ? AR_AFFIRMING : AR_CRYPTO_FAILED;
	tv[TV_CONFIGURATION] = AR_AFFIRMING;
	/* no claim unless enrollment proved the AK lives next to an EK an EK CA certified */
	tv[TV_HARDWARE] = AR_NONE;
	for (size_t i = 0; i < res->n_checks; i++) {
		const struct vouch_attest_check *c = &res->checks[i];

		if (c->status == 0 && is_any(c->name, approval))
			approved = true;
	}
	tv[TV_EXECUTABLES] = approved ? AR_AFFIRMING : AR_UNRECOGNIZED_RT;
	tv[TV_FILE_SYSTEM] = approved ? AR_AFFIRMING : AR_UNRECOGNIZED_FILES;
	for (size_t i = 0; i < res->n_checks; i++) {
		const struct vouch_attest_check *c = &res->checks[i];
		bool verdict = c->status < 0 && vouch_error_is_verdict(c->status);
		int bad = verdict ? AR_CONTRAINDICATED : AR_MALFUNCTION;

		if (c->status >= 0)
			continue;
		if (strcmp(c->name, "signature") == 0) {
			worsen(&tv[TV_INSTANCE], verdict ? AR_CRYPTO_FAILED : AR_MALFUNCTION);
		} else if (is_any(c->name, identity)) {
			worsen(&tv[TV_INSTANCE], bad);
			if (strcmp(c->name, "ak_attributes") == 0 && verdict)
				worsen(&tv[TV_HARDWARE], AR_UNRECOGNIZED_HW);
		} else if (is_any(c->name, config)) {
			worsen(&tv[TV_CONFIGURATION], bad);
		} else if (is_any(c->name, list) || is_any(c->name, approval)) {
			worsen(&tv[TV_EXECUTABLES], bad);
			worsen(&tv[TV_FILE_SYSTEM], bad);
		} else {
			/* a check this table does not know yet: never let it pass silently */
			worsen(&tv[TV_INSTANCE], bad);
		}
	}
	/* a genuine TPM, and this very AK signed this quote: the hardware is affirmed */
	if (genuine_tpm && tv[TV_INSTANCE] == AR_AFFIRMING && tv[TV_HARDWARE] == AR_NONE)
		tv[TV_HARDWARE] = AR_AFFIRMING;
}

static json_object *submod(const int *tv, const int *which, size_t n, const char *policy)
{
	json_object *o = json_object_new_object(), *v = json_object_new_object();
	bool malfunction = false;
	int t = 0;

	for (size_t i = 0; i < n; i++) {
		json_object_object_add(v, tv_names[which[i]], json_object_new_int(tv[which[i]]));
		if (tier(tv[which[i]]) > t)
			t = tier(tv[which[i]]);
		malfunction |= tv[which[i]] == AR_MALFUNCTION;
	}
	/* part of it could not be appraised: no claim rather than "affirming" */
	if (malfunction && t <= 1)
		t = 0;
	json_object_object_add(o, "ear.status", json_object_new_string(tier_names[t]));
	json_object_object_add(o, "ear.trustworthiness-vector", v);
	json_object_object_add(o, "ear.appraisal-policy-id", json_object_new_string(policy));
	return o;
}

/* --- JWS --------------------------------------------------------------------------------- */

char *b64url(const uint8_t *buf, size_t len)
{
	char *s = malloc(4 * ((len + 2) / 3) + 1);
	int n;

	if (!s)
		return NULL;
	n = EVP_EncodeBlock((unsigned char *)s, buf, (int)len);
	while (n > 0 && s[n - 1] == '=')
		n--;
	s[n] = '\0';
	for (char *p = s; *p; p++)
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	return s;
}

/* ES256: ECDSA P-256 over SHA-256, the signature as the 64 bytes r || s (RFC 7518 3.4) */
int es256_sign(EVP_PKEY *key, const char *input, uint8_t sig[64])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const unsigned char *p;
	unsigned char der[80];
	size_t der_len = sizeof(der);
	ECDSA_SIG *es = NULL;
	const BIGNUM *r, *s;
	int ret = -EIO;

	if (!md)
		return -ENOMEM;
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, der, &der_len, (const unsigned char *)input, strlen(input)) != 1)
		goto out;
	p = der;
	es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	if (!es || p != der + der_len)
		goto out;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, sig, 32) != 32 || BN_bn2binpad(s, sig + 32, 32) != 32)
		goto out;
	ret = 0;
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ret;
}

/* header.payload.signature, each base64url without padding (RFC 7515 7.1) */
int jwt_es256(EVP_PKEY *key, const char *kid, json_object *claims, char **ret)
{
	_cleanup_(json_putp) json_object *hdr = json_object_new_object();
	_cleanup_free_ char *h = NULL, *c = NULL, *input = NULL, *s = NULL;
	const char *text;
	uint8_t sig[64];
	int r;

	if (!hdr)
		return -ENOMEM;
	json_object_object_add(hdr, "alg", json_object_new_string("ES256"));
	json_object_object_add(hdr, "typ", json_object_new_string("JWT"));
	if (kid)
		json_object_object_add(hdr, "kid", json_object_new_string(kid));
	text = json_object_to_json_string_ext(hdr, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	h = b64url((const uint8_t *)text, strlen(text));
	text = json_object_to_json_string_ext(claims, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	c = b64url((const uint8_t *)text, strlen(text));
	if (!h || !c || asprintf(&input, "%s.%s", h, c) < 0)
		return -ENOMEM;
	r = es256_sign(key, input, sig);
	if (r < 0)
		return r;
	s = b64url(sig, sizeof(sig));
	if (!s || asprintf(ret, "%s.%s", input, s) < 0)
		return -ENOMEM;
	return 0;
}

/* --- the key ----------------------------------------------------------------------------- */

static int jwk_coords(EVP_PKEY *key, char **x, char **y)
{
	BIGNUM *bx = NULL, *by = NULL;
	uint8_t bx_buf[32], by_buf[32];
	int r = -EIO;

	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1 &&
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &by) == 1 &&
	    BN_bn2binpad(bx, bx_buf, 32) == 32 && BN_bn2binpad(by, by_buf, 32) == 32) {
		*x = b64url(bx_buf, 32);
		*y = b64url(by_buf, 32);
		r = *x && *y ? 0 : -ENOMEM;
	}
	BN_free(bx);
	BN_free(by);
	return r;
}

static bool is_p256(EVP_PKEY *key)
{
	char group[64];

	return EVP_PKEY_is_a(key, "EC") &&
	       EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
					      sizeof(group), NULL) == 1 &&
	       strcmp(group, "prime256v1") == 0;
}

static EVP_PKEY *load_key(const char *path)
{
	struct stat sb;
	EVP_PKEY *key;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "vouchd: cannot open --ear-key '%s': %m\n", path);
		return NULL;
	}
	if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077)) {
		fprintf(stderr, "vouchd: '%s' is readable by group or others, refusing\n", path);
		fclose(f);
		return NULL;
	}
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (!key || !is_p256(key)) {
		fprintf(stderr, "vouchd: --ear-key '%s' is not a P-256 private key in PEM\n", path);
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

int ear_setup(struct server *srv)
{
	_cleanup_free_ char *x = NULL, *y = NULL, *thumb = NULL;
	_cleanup_(json_putp) json_object *jwk = NULL;
	char *canon = NULL;
	uint8_t d[32];
	BIO *bio = NULL;
	char *pem;
	long n;

	if (srv->cfg.ear_key) {
		srv->ear_key = load_key(srv->cfg.ear_key);
	} else {
		srv->ear_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		if (srv->ear_key)
			fprintf(stderr, "vouchd: attestation results are signed by an ephemeral key "
					"(no --ear-key): relying parties must fetch /v1/ear/key again "
					"after each restart\n");
	}
	if (!srv->ear_key)
		return -EINVAL;
	if (jwk_coords(srv->ear_key, &x, &y) < 0)
		return -EIO;
	/* RFC 7638 thumbprint: the required members in lexicographic order, no whitespace */
	if (asprintf(&canon, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y) < 0)
		return -ENOMEM;
	n = EVP_Digest(canon, strlen(canon), d, NULL, EVP_sha256(), NULL) == 1 ? 0 : -1;
	free(canon);
	if (n < 0 || !(thumb = b64url(d, sizeof(d))))
		return -EIO;
	snprintf(srv->ear_kid, sizeof(srv->ear_kid), "%s", thumb);
	jwk = json_object_new_object();
	json_object_object_add(jwk, "kty", json_object_new_string("EC"));
	json_object_object_add(jwk, "crv", json_object_new_string("P-256"));
	json_object_object_add(jwk, "x", json_object_new_string(x));
	json_object_object_add(jwk, "y", json_object_new_string(y));
	json_object_object_add(jwk, "alg", json_object_new_string("ES256"));
	json_object_object_add(jwk, "use", json_object_new_string("sig"));
	json_object_object_add(jwk, "kid", json_object_new_string(thumb));
	srv->ear_jwks = json_object_new_object();
	json_object_object_add(srv->ear_jwks, "keys", json_object_new_array());
	json_object_array_add(json_object_object_get(srv->ear_jwks, "keys"), TAKE_PTR(jwk));
	bio = BIO_new(BIO_s_mem());
	if (!bio || PEM_write_bio_PUBKEY(bio, srv->ear_key) != 1 ||
	    (n = BIO_get_mem_data(bio, &pem)) <= 0 || !(srv->ear_pem = strndup(pem, (size_t)n))) {
		BIO_free(bio);
		return -EIO;
	}
	BIO_free(bio);
	return 0;
}

void ear_free(struct server *srv)
{
	EVP_PKEY_free(srv->ear_key);
	json_object_put(srv->ear_jwks);
	free(srv->ear_pem);
}

/* GET /v1/ear/key: the JWK Set; GET /v1/ear/key.pem: the same key as PEM */
void do_ear_key(struct server *srv, struct evhttp_request *req, bool pem)
{
	struct evbuffer *b;

	if (!pem)
		return reply_json(srv, req, 200, srv->ear_jwks);
	b = evbuffer_new();
	if (!b)
		return evhttp_send_error(req, HTTP_INTERNAL, NULL);
	evbuffer_add(b, srv->ear_pem, strlen(srv->ear_pem));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/x-pem-file");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

/* --- the result --------------------------------------------------------------------------- */

json_object *ear_claims(struct server *srv, const struct vouch_attest_result *res, const char *id,
			bool genuine_tpm, const uint8_t *nonce, size_t nonce_len, int64_t now)
{
	static const int boot[] = { TV_INSTANCE, TV_HARDWARE, TV_CONFIGURATION };
	static const int runtime[] = { TV_INSTANCE, TV_EXECUTABLES, TV_FILE_SYSTEM };
	json_object *o = json_object_new_object(), *vid, *subs;
	char policy[160];
	int tv[_TV_MAX];

	if (!o)
		return NULL;
	vector(res, genuine_tpm, tv);
	json_object_object_add(o, "eat_profile", json_object_new_string(EAR_PROFILE));
	json_object_object_add(o, "iat", json_object_new_int64(now));
	vid = json_object_new_object();
	json_object_object_add(vid, "developer", json_object_new_string("https://vouch.example.org"));
	json_object_object_add(vid, "build", json_object_new_string("vouchd " VOUCH_VERSION));
	json_object_object_add(o, "ear.verifier-id", vid);
	json_object_object_add(o, "eat_nonce", hex_json(nonce, nonce_len));
	json_object_object_add(o, "sub", json_object_new_string(id));
	subs = json_object_new_object();
	snprintf(policy, sizeof(policy), "vouchd:boot:pcrs=%s", srv->cfg.pcrs);
	json_object_object_add(subs, "boot", submod(tv, boot, 3, policy));
	snprintf(policy, sizeof(policy), "vouchd:runtime:reference=%s,signatures=%s",
		 srv->reference ? "yes" : "no", srv->trust ? "yes" : "no");
	json_object_object_add(subs, "runtime", submod(tv, runtime, 3, policy));
	json_object_object_add(o, "submods", subs);
	return o;
}

/* the verdict document *@verdict with "ear": the signed result of the same checks */
int ear_attach(struct server *srv, const struct vouch_attest_result *res, const char *id,
	       bool genuine_tpm, const uint8_t *nonce, size_t nonce_len, char **verdict)
{
	_cleanup_(json_putp) json_object *claims = NULL, *doc = NULL;
	_cleanup_free_ char *jwt = NULL;
	char *s;
	int r;

	claims = ear_claims(srv, res, id, genuine_tpm, nonce, nonce_len, (int64_t)time(NULL));
	doc = json_tokener_parse(*verdict);
	if (!claims || !doc || !json_object_is_type(doc, json_type_object))
		return -ENOMEM;
	r = jwt_es256(srv->ear_key, srv->ear_kid, claims, &jwt);
	if (r < 0)
		return r;
	json_object_object_add(doc, "ear", json_object_new_string(jwt));
	s = strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	if (!s)
		return -ENOMEM;
	free(*verdict);
	*verdict = s;
	return 0;
}
