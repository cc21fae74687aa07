// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Quote verification: the shared swtpm vectors verify; each must-fail vector in
 * tests/vectors/quote fails exactly the check it targets; parsers reject malformed input.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <stdlib.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "internal.h"
#include "quote-internal.h"
#include "tap.h"

static vouch_ctx *ctx;

static uint8_t *slurp(const char *path, size_t *len)
{
	return tap_slurp(ctx, path, 1 << 20, len);
}

static size_t hexfile(const char *path, uint8_t *out, size_t size)
{
	size_t len, n = 0;
	uint8_t *b = slurp(path, &len);

	while (b && len && (b[len - 1] == '\n' || b[len - 1] == ' '))
		len--;
	if (!b || hex_decode((const char *)b, len, out, size, &n) < 0)
		n = 0;
	free(b);
	return n;
}

struct qcase {
	const char *name;
	const char *ak;	   /* file */
	const char *msg;   /* prefix for .msg/.sig */
	const char *pcrs;  /* values file */
	const char *sel;   /* requested selection */
	const char *nonce; /* nonce file */
	bool shared;	   /* in tests/vectors/tpm2 */
	int fails;	   /* the one check that must fail, or -1 */
	int ret;	   /* expected return */
};

static void run(const struct qcase *q)
{
	struct vouch_quote_verify_options o = VOUCH_QUOTE_VERIFY_OPTIONS_INIT;
	_cleanup_free_ struct vouch_quote_result *res = calloc(1, sizeof(*res));
	struct vouch_pcrs pcrs;
	const char *(*P)(const char *) = q->shared ? vec : tvec;
	char f[256];
	uint8_t nonce[80];
	_cleanup_free_ uint8_t *msg = NULL, *sig = NULL, *vals = NULL;
	size_t msg_len, sig_len, vals_len, nonce_len;
	vouch_ak *ak = NULL;
	int r;

	snprintf(f, sizeof(f), "%s%s", q->shared ? "tpm2/" : "quote/", q->ak);
	if (ok_ret(vouch_ak_load(ctx, P(f), &ak), "%s: load AK %s", q->name, q->ak) < 0)
		return;
	snprintf(f, sizeof(f), "%s%s.msg", q->shared ? "tpm2/" : "quote/", q->msg);
	msg = slurp(P(f), &msg_len);
	snprintf(f, sizeof(f), "%s%s.sig", q->shared ? "tpm2/" : "quote/", q->msg);
	sig = slurp(P(f), &sig_len);
	snprintf(f, sizeof(f), "%s%s", q->shared ? "tpm2/" : "quote/", q->pcrs);
	vals = slurp(P(f), &vals_len);
	snprintf(f, sizeof(f), "%s%s", q->shared ? "tpm2/" : "quote/", q->nonce);
	nonce_len = hexfile(P(f), nonce, sizeof(nonce));
	ok(msg && sig && vals && nonce_len, "%s: inputs read", q->name);
	ok_ret(vouch_pcrs_parse_selection(q->sel, &pcrs), "%s: selection '%s'", q->name, q->sel);
	ok_ret(vouch_pcrs_set_values(&pcrs, vals, vals_len), "%s: PCR values fit the selection",
	       q->name);
	o.nonce = nonce;
	o.nonce_len = nonce_len;
	o.pcrs = &pcrs;
	r = vouch_quote_verify(ctx, ak, msg, msg_len, sig, sig_len, &o, res);
	ok_err(r, q->ret, "%s: verify returns %d", q->name, q->ret);
	for (int i = 0; i < _VOUCH_QUOTE_CHECK_MAX; i++) {
		bool want_fail = i == q->fails;

		/* a non-quote attestation cannot carry a selection or digest either */
		if (q->fails == VOUCH_QUOTE_CHECK_TYPE && (i == VOUCH_QUOTE_CHECK_PCR_SELECTION ||
							   i == VOUCH_QUOTE_CHECK_PCR_DIGEST))
			want_fail = true;
		if (!ok((res->checks[i] < 0) == want_fail, "%s: check %s %s", q->name,
			vouch_quote_check_name(i), want_fail ? "fails" : "passes"))
			printf("#   %d: %s\n", res->checks[i], res->detail[i]);
	}
	vouch_ak_free(ak);
}

static const struct qcase cases[] = {
	{ "shared rsa", "ak-rsa.pem", "quote-rsa", "quote-rsa.pcrs", "sha256:10", "nonce.hex", true,
	  -1, 0 },
	{ "shared ecc", "ak-ecc.pem", "quote-ecc", "quote-ecc.pcrs", "sha256:10", "nonce.hex", true,
	  -1, 0 },
	{ "shared rsa, TPM2B_PUBLIC AK", "ak-rsa.tpm2b_public", "quote-rsa", "quote-rsa.pcrs",
	  "sha256:10", "nonce.hex", true, -1, 0 },
	{ "shared ecc, TPM2B_PUBLIC AK", "ak-ecc.tpm2b_public", "quote-ecc", "quote-ecc.pcrs",
	  "sha256:10", "nonce.hex", true, -1, 0 },
	{ "rsassa", "ak.pub", "good", "good.pcrs", "sha256:0,10", "nonce.hex", false, -1, 0 },
	{ "rsapss", "akpss.pub", "good-pss", "good-pss.pcrs", "sha256:0,10", "nonce.hex", false, -1,
	  0 },
	{ "rsapss, PEM AK", "akpss.pem", "good-pss", "good-pss.pcrs", "sha256:0,10", "nonce.hex",
	  false, -1, 0 },
	{ "ecdsa", "akecc.pub", "good-ecc", "good-ecc.pcrs", "sha256:0,10", "nonce.hex", false, -1,
	  0 },
	/* must fail, one per check */
	{ "wrong nonce", "ak.pub", "good", "good.pcrs", "sha256:0,10", "old-nonce.hex", false,
	  VOUCH_QUOTE_CHECK_NONCE, -EKEYREJECTED },
	{ "replayed old quote", "ak.pub", "old-nonce", "good.pcrs", "sha256:0,10", "nonce.hex",
	  false, VOUCH_QUOTE_CHECK_NONCE, -EKEYREJECTED },
	{ "TPM2_Sign over bytes without the magic", "ak.pub", "forged", "forged.pcrs",
	  "sha256:0,10", "nonce.hex", false, VOUCH_QUOTE_CHECK_MAGIC, -EKEYREJECTED },
	{ "attestation type TIME, not QUOTE", "ak.pub", "time", "good.pcrs", "sha256:0,10",
	  "nonce.hex", false, VOUCH_QUOTE_CHECK_TYPE, -EKEYREJECTED },
	{ "PCR 11 quote offered as PCR 10 (CVE-2024-29039)", "ak.pub", "pcr11", "pcr11.pcrs",
	  "sha256:10", "nonce.hex", false, VOUCH_QUOTE_CHECK_PCR_SELECTION, -EKEYREJECTED },
	{ "PCR values not matching pcrDigest", "ak.pub", "good", "bad-values.pcrs", "sha256:0,10",
	  "nonce.hex", false, VOUCH_QUOTE_CHECK_PCR_DIGEST, -EKEYREJECTED },
	{ "signature by another key", "ak2.pub", "good", "good.pcrs", "sha256:0,10", "nonce.hex",
	  false, VOUCH_QUOTE_CHECK_SIGNATURE, -EKEYREJECTED },
	{ "signature by another key (PEM)", "ak2.pem", "good", "good.pcrs", "sha256:0,10",
	  "nonce.hex", false, VOUCH_QUOTE_CHECK_SIGNATURE, -EKEYREJECTED },
	{ "disallowed algorithm (rsassa-sha1)", "aksha1.pub", "sha1-scheme", "sha1-scheme.pcrs",
	  "sha256:0,10", "nonce.hex", false, VOUCH_QUOTE_CHECK_ALGORITHMS, -EPERM },
	{ "PSS signature presented to an RSASSA AK", "ak.pub", "good-pss", "good-pss.pcrs",
	  "sha256:0,10", "nonce.hex", false, VOUCH_QUOTE_CHECK_SIGNATURE, -EKEYREJECTED },
};

static void test_selection(void)
{
	struct vouch_pcrs p;

	ok_ret(vouch_pcrs_parse_selection("sha256:0-10+sha1:10,16", &p), "parse two banks");
	ok(p.n_banks == 2 && p.banks[0].algo == VOUCH_HASH_SHA256 && p.banks[0].present == 0x7ff &&
		   p.banks[1].algo == VOUCH_HASH_SHA1 && p.banks[1].present == ((1U << 10) | (1U << 16)),
	   "banks and masks");
	ok_ret(vouch_pcrs_parse_selection("sha384:all", &p), "all");
	ok(p.banks[0].present == 0xffffff, "all = 24 PCRs");
	ok_err(vouch_pcrs_parse_selection("sha256:24", &p), -EINVAL, "PCR 24 refused");
	ok_err(vouch_pcrs_parse_selection("sha256:3-1", &p), -EINVAL, "reversed range");
	ok_err(vouch_pcrs_parse_selection("sha256:1+sha256:2", &p), -EINVAL, "duplicate bank");
	ok_err(vouch_pcrs_parse_selection("md99:1", &p), -ENOENT, "unknown bank");
	ok_err(vouch_pcrs_parse_selection("sha256:", &p), -EINVAL, "empty list");
	ok_err(vouch_pcrs_parse_selection("sha256:1,", &p), -EINVAL, "trailing comma");
	ok_err(vouch_pcrs_parse_selection("", &p), -EINVAL, "empty");
	ok_ret(vouch_pcrs_parse_selection("sha256:0,10", &p), "two PCRs");
	ok_err(vouch_pcrs_set_values(&p, (const uint8_t *)"x", 1), -EBADMSG, "short values");
}

static void test_parsers(void)
{
	_cleanup_free_ uint8_t *msg = NULL;
	struct tpms_attest a;
	struct tpmt_signature s;
	size_t len;
	int bad = 0;

	msg = slurp(vec("tpm2/quote-rsa.msg"), &len);
	if (!msg)
		return;
	ok_ret(tpms_attest_parse(msg, len, &a), "shared quote parses");
	ok(a.magic == TPM_GENERATED_VALUE && a.type == TPM_ST_ATTEST_QUOTE && a.extra_len == 20 &&
		   a.sel.n_banks == 1 && a.sel.banks[0].present == 1U << 10 && a.pcr_digest_len == 32,
	   "fields");
	/* every truncation is malformed, never a crash */
	for (size_t n = 0; n < len; n++)
		bad += tpms_attest_parse(msg, n, &a) == -EBADMSG;
	ok(bad == (int)len, "all %zu truncations rejected", len);
	{
		_cleanup_free_ uint8_t *longer = malloc(len + 1);

		memcpy(longer, msg, len);
		longer[len] = 0;
		ok_err(tpms_attest_parse(longer, len + 1, &a), -EBADMSG, "trailing byte rejected");
	}
	ok_err(tpmt_signature_parse((const uint8_t *)"\x00\x14\x00\x0b\x00\x05zz", 8, &s), -EBADMSG,
	       "TPM2B longer than the signature");
	ok_err(tpmt_signature_parse((const uint8_t *)"\x12\x34", 2, &s), -EBADMSG,
	       "unknown scheme");
	ok_ret(tpmt_signature_parse((const uint8_t *)"\x00\x10", 2, &s), "NULL signature parses");
}

static void test_ak(void)
{
	vouch_ak *ak = NULL;
	struct vouch_ak_info info;
	_cleanup_free_ uint8_t *name = NULL;
	_cleanup_free_ char *pem = NULL;
	_cleanup_free_ uint8_t *ref = NULL;
	size_t name_len, ref_len;

	name = slurp(vec("tpm2/ak-rsa.name"), &name_len);
	if (ok_ret(vouch_ak_load(ctx, vec("tpm2/ak-rsa.tpm2b_public"), &ak), "load TPM2B_PUBLIC") <
	    0)
		return;
	vouch_ak_get_info(ak, &info);
	ok(info.has_public_area && info.key_type == VOUCH_KEY_RSA && info.key_bits == 2048 &&
		   info.scheme == TPM_ALG_RSASSA && info.scheme_hash == VOUCH_HASH_SHA256,
	   "RSA AK info");
	ok(name && info.name_len == name_len && !memcmp(info.name, name, name_len),
	   "name equals tpm2_readpublic's");
	ok_ret(vouch_ak_export_pem(ctx, ak, &pem), "export PEM");
	ref = slurp(vec("tpm2/ak-rsa.pem"), &ref_len);
	ok(pem && ref && strlen(pem) == ref_len && !memcmp(pem, ref, ref_len),
	   "PEM equals tpm2_readpublic's");
	vouch_ak_free(ak);
	free(name);
	name = slurp(vec("tpm2/ak-ecc.name"), &name_len);
	if (ok_ret(vouch_ak_load(ctx, vec("tpm2/ak-ecc.tpm2b_public"), &ak), "load ECC") < 0)
		return;
	vouch_ak_get_info(ak, &info);
	ok(info.key_type == VOUCH_KEY_EC && info.key_bits == 256 && info.scheme == TPM_ALG_ECDSA,
	   "ECC AK info");
	ok(name && info.name_len == name_len && !memcmp(info.name, name, name_len), "ECC name");
	vouch_ak_free(ak);
	ok_err(vouch_ak_load_mem(ctx, (const uint8_t *)"\x00\x02\x00\x01", 4, &ak), -EBADMSG,
	       "truncated public area");
	ok_err(vouch_ak_load(ctx, vec("tpm2/ek.pem"), &ak), 0, "the EK loads as a key");
	vouch_ak_free(ak);
	ak = NULL;
	/*
	 * PEM and DER public keys go through one decoder cached in the context: the same key
	 * twice, PEM after a certificate block, DER with a byte more or less (refused), and a
	 * PEM block that is not a public key.
	 */
	{
		_cleanup_free_ uint8_t *p = slurp(vec("tpm2/ak-rsa.pem"), &ref_len);
		static const char crt[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
		_cleanup_free_ uint8_t *both = NULL, *der = NULL;
		char fpr[65] = "";
		int der_len = 0;

		for (int i = 0; p && i < 2; i++) {
			ok_ret(vouch_ak_load_mem(ctx, p, ref_len, &ak), "PEM AK, load %d", i);
			if (ak && i == 0)
				snprintf(fpr, sizeof(fpr), "%s", ak_fingerprint(ak));
			ok(ak && !strcmp(fpr, ak_fingerprint(ak)), "same fingerprint, load %d", i);
			if (i == 1 && ak) {
				/* the DER form, made by OpenSSL itself */
				BIO *b = BIO_new_mem_buf(p, (int)ref_len);
				EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
				unsigned char *q = NULL;

				der_len = k ? i2d_PUBKEY(k, &q) : -1;
				if (der_len > 0) {
					der = malloc((size_t)der_len + 1);
					memcpy(der, q, (size_t)der_len);
					der[der_len] = 0;
				}
				OPENSSL_free(q);
				EVP_PKEY_free(k);
				BIO_free(b);
			}
			vouch_ak_free(ak);
			ak = NULL;
		}
		both = malloc(sizeof(crt) + ref_len);
		memcpy(both, crt, sizeof(crt) - 1);
		memcpy(both + sizeof(crt) - 1, p, ref_len);
		ok_ret(vouch_ak_load_mem(ctx, both, sizeof(crt) - 1 + ref_len, &ak),
		       "PEM AK after a certificate block");
		vouch_ak_free(ak);
		ak = NULL;
		ok_err(vouch_ak_load_mem(ctx, both, sizeof(crt) - 1, &ak), -EBADMSG,
		       "a certificate block alone is no public key");
		if (der) {
			ok_ret(vouch_ak_load_mem(ctx, der, (size_t)der_len, &ak), "DER AK");
			ok(ak && !strcmp(fpr, ak_fingerprint(ak)), "DER AK: same fingerprint");
			vouch_ak_free(ak);
			ak = NULL;
			ok_err(vouch_ak_load_mem(ctx, der, (size_t)der_len + 1, &ak), -EBADMSG,
			       "DER AK with a trailing byte refused");
			ok_err(vouch_ak_load_mem(ctx, der, (size_t)der_len - 1, &ak), -EBADMSG,
			       "truncated DER AK refused");
			ok_ret(vouch_ak_load_mem(ctx, der, (size_t)der_len, &ak),
			       "and the decoder still works after failures");
			vouch_ak_free(ak);
		}
	}
}

static void test_evidence(void)
{
	struct vouch_evidence *ev = NULL, *back = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	char *json = NULL;
	size_t len;

	{
		char path[4096];
		const char *src = getenv("VOUCH_SRCDIR");

		snprintf(path, sizeof(path), "%s/fuzz/corpus/fuzz-evidence/full.json", src ? src : ".");
		buf = slurp(path, &len);
	}
	if (!ok(buf != NULL, "evidence seed read"))
		return;
	if (ok_ret(vouch_evidence_parse(ctx, (const char *)buf, len, &ev), "parse evidence") < 0)
		return;
	ok(ev->attest_len == 121 + 12 && ev->sig_len == 262 && ev->pcrs.n_banks == 1 &&
		   ev->pcrs.banks[0].present == 1U << 10 && ev->ima_from_entry == 3 &&
		   ev->ima_list_len == 9 && ev->eventlog_len == 3 && ev->ak_name_len == 34,
	   "fields (attest %zu, ima %zu, eventlog %zu)", ev->attest_len, ev->ima_list_len,
	   ev->eventlog_len);
	ok_ret(vouch_evidence_format(ctx, ev, &json), "format");
	ok_ret(vouch_evidence_parse(ctx, json, strlen(json), &back), "parse what we wrote");
	ok(back && back->attest_len == ev->attest_len &&
		   !memcmp(back->attest, ev->attest, ev->attest_len) &&
		   back->eventlog_len == ev->eventlog_len && back->ima_list_len == ev->ima_list_len &&
		   !memcmp(&back->pcrs, &ev->pcrs, sizeof(ev->pcrs)),
	   "round trip");
	vouch_evidence_free(back);
	vouch_evidence_free(ev);
	vouch_free(json);
	{
		static const char *const bad[] = {
			"",
			"[]",
			"{\"format\":\"vouch-evidence\",\"version\":2}",
			"{\"format\":\"vouch-evidence\",\"version\":1,\"quote\":{\"attest\":\"0\","
			"\"signature\":\"00\"},\"pcrs\":[{\"bank\":\"sha256\",\"values\":{}}]}",
			"{\"format\":\"vouch-evidence\",\"version\":1,\"quote\":{\"attest\":\"00\","
			"\"signature\":\"00\"},\"pcrs\":[{\"bank\":\"sha256\",\"values\":{\"24\":\"00\"}}]}",
			"{\"format\":\"vouch-evidence\",\"version\":1,\"quote\":{\"attest\":\"00\","
			"\"signature\":\"00\"},\"pcrs\":[{\"bank\":\"md5\",\"values\":{}}]}",
			"{\"format\":\"vouch-evidence\",\"version\":1,\"quote\":{\"attest\":\"00\","
			"\"signature\":\"00\"},\"pcrs\":[]}",
		};

		for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
			ok_err(vouch_evidence_parse(ctx, bad[i], strlen(bad[i]), &ev), -EBADMSG,
			       "malformed evidence %zu rejected", i);
	}
}


/*
 * Issue 13 item 6: tpm2_quote's default PCR file (-o without -F values: the serialized
 * TPML_PCR_SELECTION + TPML_DIGEST that tpm2_checkquote reads), made by tpm2_quote 5.4 on
 * swtpm (tests/vectors/attest/make-vectors.sh), is read as the values it holds.
 */
static void test_serialized_pcrs(void)
{
	struct vouch_quote_verify_options o = VOUCH_QUOTE_VERIFY_OPTIONS_INIT;
	struct vouch_quote_result res;
	_cleanup_free_ uint8_t *ser = NULL, *vals = NULL, *msg = NULL, *sig = NULL;
	size_t ser_len = 0, vals_len = 0, msg_len = 0, sig_len = 0;
	struct vouch_pcrs a, b, c;
	uint8_t nonce[64];
	size_t nonce_len = hexfile(tvec("attest/nonce.hex"), nonce, sizeof(nonce));
	vouch_ak *ak = NULL;

	ser = slurp(tvec("attest/tpm2-quote.pcrs"), &ser_len);
	vals = slurp(tvec("attest/tpm2-quote.values"), &vals_len);
	msg = slurp(tvec("attest/tpm2-quote.msg"), &msg_len);
	sig = slurp(tvec("attest/tpm2-quote.sig"), &sig_len);
	ok_ret(vouch_ak_load(ctx, tvec("attest/pcr11-ak.pub"), &ak), "the AK");
	vouch_pcrs_parse_selection("sha256:10,11", &a);
	b = a;
	c = a;
	ok_ret(ser ? vouch_pcrs_set_values(&a, ser, ser_len) : -EIO,
	       "tpm2_quote's default -o file is read");
	ok_ret(vals ? vouch_pcrs_set_values(&b, vals, vals_len) : -EIO, "and its -F values file");
	ok(!memcmp(&a, &b, sizeof(a)), "both give the same values");
	o.nonce = nonce;
	o.nonce_len = nonce_len;
	o.pcrs = &a;
	ok_ret(vouch_quote_verify(ctx, ak, msg, msg_len, sig, sig_len, &o, &res),
	       "the real quote verifies with them");
	vouch_pcrs_parse_selection("sha256:10", &c);
	ok_err(vouch_pcrs_set_values(&c, ser, ser_len), -EBADMSG,
	       "must fail: a serialized file of another selection");
	vouch_pcrs_parse_selection("sha256:10,11", &c);
	ok_err(vouch_pcrs_set_values(&c, ser, ser_len - 1), -EBADMSG, "must fail: truncated");
	ser[0x88] = 3; /* the TPML_DIGEST claims 3 digests for 2 selected PCRs */
	ok_err(vouch_pcrs_set_values(&c, ser, ser_len), -EBADMSG,
	       "must fail: more digests than selected PCRs");
	vouch_ak_free(ak);
}

/*
 * The attacks on a lenient JSON reader, each written as the document an attacker sends: every
 * one must be refused with a message that names the trick.
 */
#define EV "{\"format\":\"vouch-evidence\",\"version\":1,\"quote\":{\"attest\":\"00\"," \
	   "\"signature\":\"00\"},\"pcrs\":[{\"bank\":\"sha256\",\"values\":{}}]"

/* EV with a member "x" of @depth nested empty lists, in @buf (of @size); its length */
static size_t nested(char *buf, size_t size, int depth)
{
	size_t n = (size_t)snprintf(buf, size, EV ",\"x\":");

	for (int i = 0; i < depth; i++)
		buf[n++] = '[';
	for (int i = 0; i < depth; i++)
		buf[n++] = ']';
	buf[n++] = '}';
	buf[n] = 0;
	return n;
}

static void evidence_refused(const char *doc, const char *why, const char *name)
{
	struct vouch_evidence *ev = NULL;
	int r = vouch_evidence_parse(ctx, doc, strlen(doc), &ev);
	const char *msg = r == -EBADMSG ? vouch_ctx_last_error(ctx) : "(accepted)";

	ok(r == -EBADMSG && msg && strstr(msg, why), "evidence with %s refused: %s", name, msg);
	if (r == 0)
		vouch_evidence_free(ev);
}

static void test_evidence_strict(void)
{
	static const char good[] = EV ",\"ima\":{\"from_entry\":9223372036854775807,"
				      "\"binary\":\"QUFBQQ==\"},\"eventlog\":\"QUE=\"}";
	char deep[256];
	struct vouch_evidence *ev = NULL;
	size_t n;

	evidence_refused(EV ",/* ignore me */\"eventlog\":\"QUFB\"}", "comment", "a comment");
	evidence_refused(EV ",\"eventlog\":\"QUFB\" // ignore me\n}", "comment", "a // comment");
	evidence_refused(EV ",'eventlog':'QUFB'}", "single quote", "single quotes");
	evidence_refused(EV ",\"eventlog\":\"QUFB\",}", "trailing comma", "a trailing comma");
	evidence_refused(EV ",\"ima\":{\"from_entry\":[1,2,],\"binary\":\"QUFB\"}}", "trailing comma",
			 "a trailing comma in a list");
	evidence_refused(EV ",\"ima\":{\"from_entry\":03,\"binary\":\"QUFB\"}}", "leading zero",
			 "a leading zero");
	evidence_refused(EV ",\"ima\":{\"from_entry\":-00,\"binary\":\"QUFB\"}}", "leading zero",
			 "a negative leading zero");
	/* the verifier saw one list, a lenient reader keeps the other: the last wins */
	evidence_refused(EV ",\"ima\":{\"from_entry\":0,\"binary\":\"QUFB\"},"
			    "\"ima\":{\"from_entry\":0,\"binary\":\"QkJC\"}}",
			 "duplicate key 'ima'", "a duplicate key");
	evidence_refused(EV ",\"ima\":{\"from_entry\":0,\"from_\\u0065ntry\":7,\"binary\":\"QUFB\"}}",
			 "duplicate key", "a duplicate key spelt with an escape");
	evidence_refused(EV ",\"eventlog\":\"QUFB-!!!junk\"}", "base64", "base64 with junk after '-'");
	evidence_refused(EV ",\"eventlog\":\"QU FB\"}", "base64", "base64 with a space");
	evidence_refused(EV ",\"eventlog\":\"QUF\"}", "base64", "base64 without its padding");
	evidence_refused(EV ",\"eventlog\":\"QUE=QUFB\"}", "base64", "base64 padding in the middle");
	evidence_refused(EV ",\"eventlog\":\"QUF=\"}", "base64", "non-canonical base64");
	evidence_refused(EV ",\"ima\":{\"from_entry\":18446744073709551615,\"binary\":\"QUFB\"}}",
			 "out of range", "a from_entry of 2^64-1");
	evidence_refused(EV ",\"ima\":{\"from_entry\":99999999999999999999999,\"binary\":\"QUFB\"}}",
			 "out of range", "a from_entry past 2^64");
	evidence_refused(EV ",\"ima\":{\"from_entry\":-1,\"binary\":\"QUFB\"}}", "out of range",
			 "a negative from_entry");
	evidence_refused(EV ",\"ima\":{\"from_entry\":1.5,\"binary\":\"QUFB\"}}", "from_entry",
			 "a fractional from_entry");
	evidence_refused(EV ",\"ima\":{\"from_entry\":0,\"binary\":\"\"}}", "empty",
			 "an empty list string");
	evidence_refused(EV ",\"eventlog\":\"\"}", "empty", "an empty event log string");
	/* an empty tail after a verified state: the idle machine's round (quote only) */
	{
		static const char idle[] = EV ",\"ima\":{\"from_entry\":7,\"binary\":\"\"}}";
		_cleanup_free_ char *back = NULL;

		ev = NULL;
		ok_ret(vouch_evidence_parse(ctx, idle, sizeof(idle) - 1, &ev),
		       "an empty list after entry 7 parses");
		ok(ev && ev->ima_list && ev->ima_list_len == 0 && ev->ima_from_entry == 7,
		   "as an empty list, not an absent one");
		ok_ret(ev ? vouch_evidence_format(ctx, ev, &back) : -EIO, "and formats");
		ok(back && strstr(back, "\"binary\": \"\""), "back as an empty string");
		vouch_evidence_free(ev);
		ev = NULL;
	}
	evidence_refused(EV ",\"ima\":{\"from_entry\":NaN,\"binary\":\"QUFB\"}}", "unexpected",
			 "NaN");
	evidence_refused(EV ",\"eventlog\":\"QU\\u0000FB\"}", "NUL", "a NUL in a string");
	evidence_refused(EV ",\"eventlog\":\"QU\tFB\"}", "control character",
			 "a raw control character in a string");
	evidence_refused(EV "} trailing", "after the object", "data after the object");
	n = nested(deep, sizeof(deep), 20);
	evidence_refused(deep, "nest", "over-deep nesting");
	/* the root and 15 lists: 16 levels, the most evidence may have */
	n = nested(deep, sizeof(deep), 15);
	ok_ret(vouch_evidence_parse(ctx, deep, n, &ev), "16 levels of nesting parse");
	vouch_evidence_free(ev);
	ev = NULL;
	/* and the strict reader still takes what the formatter writes */
	ok_ret(vouch_evidence_parse(ctx, good, strlen(good), &ev),
	       "a strict document with the largest from_entry parses");
	ok(ev && ev->ima_from_entry == INT64_MAX && ev->ima_list_len == 4 &&
		   !memcmp(ev->ima_list, "AAAA", 4) && ev->eventlog_len == 2,
	   "its values");
	vouch_evidence_free(ev);
}

/* each quote of cases[] checked as it says */
static void test_cases(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run(&cases[i]);
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_selection, test_parsers, test_ak, test_evidence, test_serialized_pcrs,
		test_evidence_strict, test_cases
	};

	return tap_run_ctx(&ctx, tests, ARRAY_SIZE(tests));
}
