// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd-ear.c without a server: base64url (RFC 4648 section 10 vectors), the ES256 JWS
 * (three parts, the 64-byte r || s signature verifying under the key after conversion back
 * to DER) and the trustworthiness vector of hand-made check lists.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdarg.h>

#include "vouchd.h"

static int n_test, failed;
static const uint8_t nonce[4] = { 1, 2, 3, 4 };

/* vouchd-http.c's group commit announces events through vouchd-notify.c, not linked here */
void notify_committed(struct server *srv)
{
	(void)srv;
}

static void ok(bool cond, const char *what)
{
	n_test++;
	if (!cond)
		failed = 1;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_test, what);
}

static int b64url_decode(const char *s, uint8_t *out, size_t size, size_t *ret_len)
{
	char buf[1024];
	size_t n = strlen(s);
	int len;

	if (n + 4 >= sizeof(buf) || (n + 3) / 4 * 3 > size)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		buf[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	while (n % 4)
		buf[n++] = '=';
	buf[n] = '\0';
	len = EVP_DecodeBlock(out, (unsigned char *)buf, (int)n);
	if (len < 0)
		return -EINVAL;
	while (n > 0 && buf[--n] == '=')
		len--;
	*ret_len = (size_t)len;
	return 0;
}

static bool verify(EVP_PKEY *key, const char *jwt)
{
	const char *dot = strrchr(jwt, '.');
	uint8_t raw[80], der[80], *p = der;
	size_t raw_len;
	ECDSA_SIG *es = ECDSA_SIG_new();
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool good = false;
	int der_len;

	if (!dot || !es || !md || b64url_decode(dot + 1, raw, sizeof(raw), &raw_len) < 0 ||
	    raw_len != 64)
		goto out;
	ECDSA_SIG_set0(es, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL));
	der_len = i2d_ECDSA_SIG(es, &p);
	good = der_len > 0 && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	       EVP_DigestVerify(md, der, (size_t)der_len, (const unsigned char *)jwt,
				(size_t)(dot - jwt)) == 1;
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return good;
}

static void add(struct vouch_attest_result *res, const char *name, int status)
{
	res->checks[res->n_checks].name = name;
	res->checks[res->n_checks++].status = status;
}

static int tv(json_object *claims, const char *sub, const char *claim)
{
	json_object *s = json_object_object_get(json_object_object_get(claims, "submods"), sub);

	return json_object_get_int(json_object_object_get(
		json_object_object_get(s, "ear.trustworthiness-vector"), claim));
}

static const char *status(json_object *claims, const char *sub)
{
	json_object *s = json_object_object_get(json_object_object_get(claims, "submods"), sub);

	return json_object_get_string(json_object_object_get(s, "ear.status"));
}

/* The claims for the check list given as n (name, status) pairs, res's before dropped. */
static json_object *claims_with(struct server *srv, struct vouch_attest_result *res,
				bool ek_certified, int n, ...)
{
	va_list ap;

	res->n_checks = 0;
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *name = va_arg(ap, const char *);

		add(res, name, va_arg(ap, int));
	}
	va_end(ap);
	return ear_claims(srv, res, "a1", ek_certified, nonce, sizeof(nonce), 1000);
}

static void test_base64url(void)
{
	static const struct {
		const char *in, *out;
	} vec[] = { { "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		    { "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" } };
	static const uint8_t binary[] = { 0xfb, 0xff, 0xbf };
	bool all = true;
	char *s;

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		s = b64url((const uint8_t *)vec[i].in, strlen(vec[i].in));
		all = all && s && strcmp(s, vec[i].out) == 0;
		free(s);
	}
	ok(all, "base64url: the RFC 4648 vectors, without padding");
	s = b64url(binary, sizeof(binary));
	ok(s && strcmp(s, "-_-_") == 0, "base64url: '-' and '_' for 62 and 63");
	free(s);
}

/* the ES256 JWS of the claims of a list where everything passed */
static void test_jws(struct server *srv, struct vouch_attest_result *res)
{
	json_object *claims;
	char *jwt = NULL, *flipped;

	res->quote.parsed = true;
	claims = claims_with(srv, res, false, 4, "signature", 0, "nonce", 0, "ima_list", 0,
			     "reference", 0);
	ok(claims && jwt_es256(srv->ear_key, srv->ear_kid, claims, &jwt) == 0, "a JWT is signed");
	ok(jwt && strchr(jwt, '.') && strchr(strchr(jwt, '.') + 1, '.') &&
		   !strchr(strrchr(jwt, '.') + 1, '='),
	   "three parts, no padding");
	ok(jwt && strlen(strrchr(jwt, '.') + 1) == 86, "the signature is 64 bytes (86 characters)");
	ok(jwt && verify(srv->ear_key, jwt), "r || s verifies under the key (converted to DER)");
	flipped = jwt ? strdup(jwt) : NULL;
	if (flipped) {
		char *sig = strrchr(flipped, '.') + 1;

		sig[5] = sig[5] == 'A' ? 'B' : 'A';
	}
	ok(flipped && !verify(srv->ear_key, flipped), "a flipped signature character does not");
	free(flipped);
	free(jwt);
	ok(strcmp(status(claims, "boot"), "affirming") == 0 &&
		   strcmp(status(claims, "runtime"), "affirming") == 0 &&
		   tv(claims, "runtime", "executables") == 2 && tv(claims, "boot", "hardware") == 0,
	   "all passed with reference values: affirming, executables 2, hardware 0");
	ok(strcmp(json_object_get_string(json_object_object_get(claims, "eat_nonce")), "01020304") == 0 &&
		   json_object_get_int64(json_object_object_get(claims, "iat")) == 1000,
	   "eat_nonce and iat");
	json_object_put(claims);
}

/* enrolled with a certified EK: the hardware is affirmed, unless the quote fails */
static void test_certified_ek(struct server *srv, struct vouch_attest_result *res)
{
	json_object *claims;

	claims = ear_claims(srv, res, "a1", true, nonce, sizeof(nonce), 1000);
	ok(tv(claims, "boot", "hardware") == 2 && strcmp(status(claims, "boot"), "affirming") == 0,
	   "a certified EK and a good quote: hardware 2");
	json_object_put(claims);
	claims = claims_with(srv, res, true, 1, "signature", -EKEYREJECTED);
	ok(tv(claims, "boot", "hardware") == 0 && tv(claims, "boot", "instance-identity") == 99,
	   "a certified EK but a bad signature: no hardware claim, instance-identity 99");
	json_object_put(claims);
	claims = claims_with(srv, res, true, 2, "signature", 0, "ak_attributes", -EKEYREJECTED);
	ok(tv(claims, "boot", "hardware") == 97, "a certified EK but bad AK attributes: hardware 97");
	json_object_put(claims);
}

/* the trustworthiness vector of failed, missing and unknown checks */
static void test_vectors(struct server *srv, struct vouch_attest_result *res)
{
	json_object *claims;

	claims = claims_with(srv, res, false, 2, "signature", 0, "ima_list", 0);
	ok(tv(claims, "runtime", "executables") == 33 && tv(claims, "runtime", "file-system") == 32 &&
		   strcmp(status(claims, "runtime"), "warning") == 0,
	   "without reference values: executables 33, file-system 32, warning");
	json_object_put(claims);

	claims = claims_with(srv, res, false, 2, "signature", 0, "reference", -EKEYREJECTED);
	ok(tv(claims, "runtime", "executables") == 96 &&
		   strcmp(status(claims, "runtime"), "contraindicated") == 0 &&
		   strcmp(status(claims, "boot"), "affirming") == 0,
	   "a reference failure: executables 96, runtime contraindicated, boot affirming");
	json_object_put(claims);

	claims = claims_with(srv, res, false, 3, "signature", -EKEYREJECTED, "ak_attributes",
			     -EKEYREJECTED, "eventlog", -EIO);
	ok(tv(claims, "boot", "instance-identity") == 99 && tv(claims, "boot", "hardware") == 97 &&
		   tv(claims, "boot", "configuration") == -1 &&
		   strcmp(status(claims, "boot"), "contraindicated") == 0,
	   "a bad signature: 99; bad AK attributes: hardware 97; eventlog not checked: -1");
	json_object_put(claims);

	claims = claims_with(srv, res, false, 4, "signature", 0, "eventlog", -EIO, "reference",
			     -EKEYREJECTED, "ima_list", -EIO);
	ok(tv(claims, "boot", "configuration") == -1 && strcmp(status(claims, "boot"), "none") == 0,
	   "a check that could not be done: -1 and status none, never affirming");
	ok(tv(claims, "runtime", "executables") == 96,
	   "a could-not-check does not hide a failure (executables stays 96)");
	json_object_put(claims);

	claims = claims_with(srv, res, false, 1, "a_new_check", -EKEYREJECTED);
	ok(tv(claims, "runtime", "instance-identity") == 96,
	   "a failed check the table does not know: instance-identity 96");
	json_object_put(claims);

	res->quote.parsed = false;
	claims = claims_with(srv, res, false, 0);
	ok(tv(claims, "boot", "instance-identity") == 99, "an unparsed quote: 99");
	json_object_put(claims);
}

int main(void)
{
	struct server srv = { .cfg = { .pcrs = "sha256:0-10" } };
	struct vouch_attest_result res = { 0 };

	test_base64url();
	ok(ear_setup(&srv) == 0 && srv.ear_key && srv.ear_pem && srv.ear_kid[0],
	   "an ephemeral P-256 key, its PEM and thumbprint");
	ok(strlen(srv.ear_kid) == 43, "the kid is a base64url SHA-256 (43 characters)");
	test_jws(&srv, &res);
	test_certified_ek(&srv, &res);
	test_vectors(&srv, &res);
	ear_free(&srv);
	printf("1..%d\n", n_test);
	return failed;
}
