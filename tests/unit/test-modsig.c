// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The vouch authors */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "openssl-internal.h"
#include "tap.h"

static vouch_ctx *ctx;

/* The keys, certificates, sign-file vectors and signers every test uses. */
static vouch_key *rsa_key, *ec_key;
static vouch_cert *rsa_crt, *ec_crt, *other_crt;
static vouch_trust *trust;
static vouch_modsig_signer *signer, *skid_signer, *ec_signer;
static uint8_t *blob, *good, *good_skid, *p7;
static size_t blob_len, good_len, good_skid_len, p7_len;

static uint8_t *slurp(const char *path, size_t *len)
{
	return tap_slurp(ctx, path, 1 << 24, len);
}

static vouch_key *load_key(const char *path)
{
	size_t len;
	_cleanup_free_ uint8_t *buf = slurp(path, &len);
	vouch_key *key = NULL;

	if (buf)
		vouch_key_load_mem(ctx, buf, len, NULL, NULL, &key);
	return key;
}

static vouch_cert *load_cert(const char *path)
{
	vouch_cert *c = NULL;

	vouch_cert_load(ctx, path, &c);
	return c;
}

static int verify_path(const vouch_trust *t, const char *path,
		       const struct vouch_modsig_verify_options *opts, struct vouch_modsig_result *res)
{
	size_t len;
	_cleanup_free_ uint8_t *buf = slurp(path, &len);

	if (!buf)
		return -EIO;
	return vouch_modsig_verify(ctx, t, buf, len, opts, res);
}

/* Every must-fail vector of tests/vectors/modsig with the rule it breaks. */
static const struct {
	const char *file;
	int status;
	int err;
} vectors[] = {
	{ "payload-flip.ko", VOUCH_MODSIG_BAD_SIGNATURE, -EKEYREJECTED },
	{ "sig-flip.ko", VOUCH_MODSIG_BAD_SIGNATURE, -EKEYREJECTED },
	{ "pkcs7-tag.ko", VOUCH_MODSIG_BAD_PKCS7, -EBADMSG },
	{ "pkcs7-version.ko", VOUCH_MODSIG_BAD_PKCS7, -EBADMSG },
	{ "content-type.ko", VOUCH_MODSIG_BAD_PKCS7, -EBADMSG },
	{ "signed-attrs.ko", VOUCH_MODSIG_BAD_PKCS7, -EBADMSG },
	{ "sigalg-sha256withrsa.ko", VOUCH_MODSIG_ALGO_NOT_ALLOWED, -EPERM },
	{ "digest-sha1.ko", VOUCH_MODSIG_ALGO_NOT_ALLOWED, -EPERM },
	{ "wrong-key.ko", VOUCH_MODSIG_BAD_SIGNATURE, -EKEYREJECTED },
	{ "unknown-signer.ko", VOUCH_MODSIG_UNKNOWN_SIGNER, -ENOKEY },
	{ "trailer-short.ko", VOUCH_MODSIG_BAD_TRAILER, -EBADMSG },
	{ "siglen-past-start.ko", VOUCH_MODSIG_BAD_TRAILER, -EBADMSG },
	{ "id-type.ko", VOUCH_MODSIG_BAD_TRAILER, -EBADMSG },
	{ "pad-nonzero.ko", VOUCH_MODSIG_BAD_TRAILER, -EBADMSG },
	{ "bad-marker.ko", VOUCH_MODSIG_NO_SIGNATURE, -ENODATA },
	{ "siglen-short.ko", VOUCH_MODSIG_BAD_PKCS7, -EBADMSG },
};

/* An RSA signature one byte longer than the modulus (0x00 ‖ sig): same value, wrong size. */
static int long_rsa_sig(vouch_modsig_signer *s, const uint8_t *payload, size_t len,
			uint8_t **ret, size_t *ret_len)
{
	_cleanup_free_ uint8_t *der = NULL;
	_cleanup_(CMS_ContentInfo_freep) CMS_ContentInfo *cms = NULL;
	const unsigned char *p;
	unsigned char *q;
	ASN1_OCTET_STRING *sig;
	uint8_t buf[1024];
	size_t der_len;
	int n;

	if (vouch_modsig_sign_pkcs7(s, payload, len, &der, &der_len) < 0)
		return -1;
	p = der;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)der_len);
	if (!cms)
		return -1;
	sig = CMS_SignerInfo_get0_signature(sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0));
	n = ASN1_STRING_length(sig);
	if (n <= 0 || n + 1 > (int)sizeof(buf))
		return -1;
	buf[0] = 0;
	memcpy(buf + 1, ASN1_STRING_get0_data(sig), (size_t)n);
	if (!ASN1_OCTET_STRING_set(sig, buf, n + 1))
		return -1;
	n = i2d_CMS_ContentInfo(cms, NULL);
	*ret = malloc((size_t)n);
	q = *ret;
	if (!q || i2d_CMS_ContentInfo(cms, &q) != n)
		return -1;
	*ret_len = (size_t)n;
	return 0;
}

static bool load_fixtures(void)
{
	rsa_key = load_key(vec("keys/rsa2048.key"));
	ec_key = load_key(vec("keys/ecdsa-p256.key"));
	rsa_crt = load_cert(vec("keys/rsa2048.crt"));
	ec_crt = load_cert(vec("keys/ecdsa-p256.crt"));
	other_crt = load_cert(tvec("modsig/unknown.crt"));
	blob = slurp(vec("peer/blob.ko"), &blob_len);
	good = slurp(vec("peer/blob.rsa2048.ko"), &good_len);
	good_skid = slurp(vec("peer/blob.rsa2048-skid.ko"), &good_skid_len);
	p7 = slurp(vec("peer/blob.rsa2048.pkcs7.der"), &p7_len);
	if (!ok(rsa_key && ec_key && rsa_crt && ec_crt && other_crt && blob && good && good_skid &&
			p7,
		"load keys, certificates and sign-file vectors"))
		return false;
	vouch_trust_new(ctx, &trust);
	vouch_trust_add_cert(trust, ec_crt, "platform");
	vouch_trust_add_cert(trust, rsa_crt, "secondary");
	return true;
}

/* --- signing: byte-identical with sign-file ------------------------------------ */
static void test_sign_like_sign_file(void)
{
	struct vouch_modsig_sign_options so = VOUCH_MODSIG_SIGN_OPTIONS_INIT;
	uint8_t *out = NULL;
	size_t out_len = 0;

	ok_ret(vouch_modsig_signer_new(ctx, rsa_key, rsa_crt, &so, &signer), "RSA signer");
	so.signer_id = VOUCH_MODSIG_SKID;
	ok_ret(vouch_modsig_signer_new(ctx, rsa_key, rsa_crt, &so, &skid_signer), "SKID signer");
	so.signer_id = VOUCH_MODSIG_ISSUER_SERIAL;
	ok_ret(vouch_modsig_signer_new(ctx, ec_key, ec_crt, &so, &ec_signer), "ECDSA signer");

	ok_ret(vouch_modsig_sign_pkcs7(signer, blob, blob_len, &out, &out_len), "sign PKCS#7");
	ok(out_len == p7_len && !memcmp(out, p7, p7_len), "PKCS#7 == sign-file's blob.rsa2048.pkcs7.der");
	free(out);
	ok_ret(vouch_modsig_sign_trailer(signer, blob, blob_len, &out, &out_len), "sign trailer");
	ok(blob_len + out_len == good_len && !memcmp(out, good + blob_len, out_len),
	   "blob.ko + trailer == sign-file's blob.rsa2048.ko");
	free(out);
	ok_ret(vouch_modsig_sign_trailer(skid_signer, blob, blob_len, &out, &out_len),
	       "sign trailer by SKID");
	ok(blob_len + out_len == good_skid_len && !memcmp(out, good_skid + blob_len, out_len),
	   "blob.ko + trailer == sign-file -k's blob.rsa2048-skid.ko");
	free(out);
}

/* batch: one signer, many payloads, each verifies and is bound to its payload */
static void test_sign_batch(void)
{
	struct vouch_modsig_result res;
	int good_n = 0, bad_n = 0;

	for (int i = 0; i < 16; i++) {
		uint8_t payload[257], *tr = NULL, *file;
		size_t tl;

		for (size_t k = 0; k < sizeof(payload); k++)
			payload[k] = (uint8_t)(k * 31 + i);
		if (vouch_modsig_sign_trailer(i % 2 ? ec_signer : signer, payload,
					      sizeof(payload), &tr, &tl) < 0)
			continue;
		file = malloc(sizeof(payload) + tl);
		memcpy(file, payload, sizeof(payload));
		memcpy(file + sizeof(payload), tr, tl);
		if (vouch_modsig_verify(ctx, trust, file, sizeof(payload) + tl, NULL, &res) == 0 &&
		    !strcmp(res.keyring, i % 2 ? "platform" : "secondary"))
			good_n++;
		file[i] ^= 0x80;
		if (vouch_modsig_verify(ctx, trust, file, sizeof(payload) + tl, NULL, &res) ==
			    -EKEYREJECTED &&
		    res.status == VOUCH_MODSIG_BAD_SIGNATURE)
			bad_n++;
		free(file);
		free(tr);
	}
	ok(good_n == 16, "batch: 16 payloads signed with reused RSA/ECDSA signers verify (%d)",
	   good_n);
	ok(bad_n == 16, "batch: each with one flipped payload bit fails (%d)", bad_n);
}

/* --- verification of sign-file and Debian outputs -------------------------------- */
static void test_verify_known(void)
{
	struct vouch_modsig_result res;

	ok_ret(vouch_modsig_verify(ctx, trust, good, good_len, NULL, &res), "blob.rsa2048.ko verifies");
	ok(res.status == VOUCH_MODSIG_OK && res.failed == 0 && res.signer == rsa_crt,
	   "status OK, the rsa2048 certificate vouched");
	ok_streq(res.keyring, "secondary", "the verdict names the keyring");
	ok(res.payload_len == blob_len && res.sig_offset == blob_len && res.sig_len == p7_len &&
		   res.hash_algo == VOUCH_HASH_SHA256 && res.signer_id == VOUCH_MODSIG_ISSUER_SERIAL,
	   "offsets, lengths, hash and signer id reported");
	ok_ret(verify_path(trust, vec("peer/blob.rsa2048-skid.ko"), NULL, &res),
	       "blob.rsa2048-skid.ko verifies");
	ok(res.signer_id == VOUCH_MODSIG_SKID, "  by SKID");
	ok_ret(verify_path(trust, vec("peer/blob.ecdsa-p256.ko"), NULL, &res),
	       "blob.ecdsa-p256.ko verifies");
	ok(res.key_type == VOUCH_KEY_EC && !strcmp(res.keyring, "platform"), "  ECDSA, platform");
	ok_ret(verify_path(trust, vec("debian-6.1/mod/labmod-signed.ko"), NULL, &res),
	       "debian labmod-signed.ko verifies");
	ok_err(verify_path(trust, vec("debian-6.1/mod/labmod-badsigbytes.ko"), NULL, &res),
	       -EKEYREJECTED, "debian labmod-badsigbytes.ko: bad signature");
	ok(res.status == VOUCH_MODSIG_BAD_SIGNATURE, "  status bad signature");
	ok_err(verify_path(trust, vec("debian-6.1/mod/labmod-badpkcs7.ko"), NULL, &res), -EBADMSG,
	       "debian labmod-badpkcs7.ko: malformed");
	ok(res.status == VOUCH_MODSIG_BAD_PKCS7, "  status malformed PKCS#7");
	ok_err(verify_path(trust, vec("debian-6.1/mod/labmod-unsigned.ko"), NULL, &res), -ENODATA,
	       "debian labmod-unsigned.ko: no signature");
	ok(res.status == VOUCH_MODSIG_NO_SIGNATURE, "  status no signature");
	ok_err(verify_path(trust, vec("debian-6.1/mod/crc-itu-t.ko"), NULL, &res), -ENOKEY,
	       "Debian-signed crc-itu-t.ko: unknown signer");
	ok(res.status == VOUCH_MODSIG_UNKNOWN_SIGNER && !res.signer, "  status unknown signer");
}

/* --- must-fail vectors, each its own rule ------------------------------------------ */
static void test_must_fail(void)
{
	struct vouch_modsig_verify_options vo = VOUCH_MODSIG_VERIFY_OPTIONS_INIT;
	struct vouch_modsig_result res;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(vectors); i++) {
		char rel[256];

		snprintf(rel, sizeof(rel), "modsig/%s", vectors[i].file);
		r = verify_path(trust, tvec(rel), NULL, &res);
		ok(r == vectors[i].err && res.status == vectors[i].status, "%s: %s (%d, status %s)",
		   vectors[i].file, vouch_modsig_status_name(vectors[i].status), r,
		   vouch_modsig_status_name(res.status));
	}
	vo.allowed_hashes = 1U << VOUCH_HASH_SHA1;
	ok_ret(verify_path(trust, tvec("modsig/digest-sha1.ko"), &vo, &res),
	       "digest-sha1.ko verifies once sha1 is allowed");
	ok_err(verify_path(trust, vec("peer/blob.rsa2048.ko"), &vo, &res), -EPERM,
	       "and sha256 is refused when only sha1 is allowed");
	vo.allowed_hashes = 0;
	ok_err(verify_path(trust, tvec("modsig/wrong-key.ko"), NULL, &res), -EKEYREJECTED,
	       "wrong key: the signer is found by issuer+serial");
	ok(res.signer == rsa_crt, "  and the signature fails against its key");
	r = verify_path(trust, tvec("modsig/signed-attrs.ko"), NULL, &res);
	ok(res.failed & (1U << VOUCH_MODSIG_BAD_SIGNATURE) &&
		   res.failed & (1U << VOUCH_MODSIG_BAD_PKCS7),
	   "every check runs: signed-attrs.ko also records the failed signature check");
}

/* RSA signature length != modulus length */
static void test_rsa_sig_length(void)
{
	struct vouch_modsig_result res;
	_cleanup_free_ uint8_t *lp7 = NULL;
	size_t lp7_len = 0;

	ok(long_rsa_sig(signer, blob, blob_len, &lp7, &lp7_len) == 0, "build a 257-byte RSA signature");
	ok_err(vouch_modsig_verify_detached(ctx, trust, blob, blob_len, lp7, lp7_len, NULL, &res),
	       -EKEYREJECTED, "RSA signature longer than the modulus is refused");
	ok(res.status == VOUCH_MODSIG_BAD_SIGNATURE &&
		   strstr(vouch_ctx_last_error(ctx), "257 bytes"),
	   "  with its reason: %s", vouch_ctx_last_error(ctx));
}

/* ECDSA on a curve the 6.1 kernel cannot verify (P-521) */
static void test_p521(void)
{
	struct vouch_modsig_result res;
	struct vouch_keygen_options ko = VOUCH_KEYGEN_OPTIONS_INIT;
	vouch_key *k521 = NULL;
	vouch_cert *c521 = NULL;
	vouch_modsig_signer *s521 = NULL;
	vouch_trust *t521 = NULL;
	_cleanup_free_ uint8_t *sig521 = NULL;
	size_t sig521_len = 0;

	ko.type = VOUCH_KEY_EC;
	ko.curve = "P-521";
	ok_ret(vouch_key_generate(ctx, &ko, &k521, &c521), "generate a P-521 key");
	ok_ret(vouch_modsig_signer_new(ctx, k521, c521, NULL, &s521), "P-521 signer");
	ok_ret(vouch_modsig_sign_pkcs7(s521, blob, blob_len, &sig521, &sig521_len),
	       "P-521 signature");
	vouch_trust_new(ctx, &t521);
	vouch_trust_add_cert(t521, c521, NULL);
	ok_err(vouch_modsig_verify_detached(ctx, t521, blob, blob_len, sig521, sig521_len,
					    NULL, &res),
	       -EPERM, "P-521: algorithm not allowed (the kernel has P-192/256/384)");
	ok(res.status == VOUCH_MODSIG_ALGO_NOT_ALLOWED &&
		   !(res.failed & (1U << VOUCH_MODSIG_BAD_SIGNATURE)),
	   "  while the signature itself verifies");
	vouch_trust_free(t521);
	vouch_modsig_signer_free(s521);
	vouch_cert_free(c521);
	vouch_key_free(k521);
}

/* --- blacklist ---------------------------------------------------------------------- */
/* @vo refuses the one "bin:" hash @bin and the one "tbs:" hash @tbs; NULL: none */
static void blacklists(struct vouch_modsig_verify_options *vo, const struct vouch_digest *bin,
		       const struct vouch_digest *tbs)
{
	vo->blacklist = bin;
	vo->n_blacklist = bin ? 1 : 0;
	vo->blacklist_tbs = tbs;
	vo->n_blacklist_tbs = tbs ? 1 : 0;
}

static void test_blacklist(void)
{
	struct vouch_modsig_verify_options vo = VOUCH_MODSIG_VERIFY_OPTIONS_INIT;
	struct vouch_modsig_result res;
	struct vouch_digest bl[2];

	vouch_digest_buf(ctx, VOUCH_HASH_SHA256, good, good_len, &bl[0]);
	vo.blacklist = bl;
	vo.n_blacklist = 1;
	ok_err(vouch_modsig_verify(ctx, trust, good, good_len, &vo, &res), -EPERM,
	       "whole-file sha256 on the blacklist (Debian module rule)");
	ok(res.status == VOUCH_MODSIG_BLACKLISTED, "  status blacklisted");
	vouch_digest_buf(ctx, VOUCH_HASH_SHA256, blob, blob_len, &bl[0]);
	ok_err(vouch_modsig_verify(ctx, trust, good, good_len, &vo, &res), -EPERM,
	       "payload digest on the blacklist (IMA check_blacklist)");
	memset(&bl[0], 0, sizeof(bl[0]));
	bl[0].len = 32;
	ok_ret(vouch_modsig_verify(ctx, trust, good, good_len, &vo, &res),
	       "an unrelated blacklist entry does not matter");
	vo.blacklist = NULL;
	vo.n_blacklist = 0;
}

/*
 * --- a revoked signer: "tbs:" names the signer certificate's TBSCertificate hash ------
 * The attacker holds a module signed by a certificate that is still in the trust store
 * but revoked by a tbs: entry (certs/blacklist.c); vector made with openssl + sign-file.
 */
static void test_revoked_signer(void)
{
	struct vouch_modsig_verify_options vo = VOUCH_MODSIG_VERIFY_OPTIONS_INIT;
	struct vouch_modsig_result res;
	_cleanup_free_ uint8_t *rk = NULL, *bltxt = NULL;
	size_t rk_len = 0, bl_len = 0, n = 0;
	vouch_cert *rcrt = load_cert(tvec("modsig/revoked.crt"));
	vouch_trust *rtrust = NULL;
	struct vouch_digest tbs = { .algo = -1 }, bin;
	const char *line;

	rk = slurp(tvec("modsig/revoked-signer.ko"), &rk_len);
	bltxt = slurp(tvec("modsig/revoked.blacklist"), &bl_len);
	line = bltxt ? strstr((const char *)bltxt, "\ntbs:") : NULL;
	ok(rcrt && rk && line && hex_decode(line + 5, 64, tbs.bytes, sizeof(tbs.bytes), &n) == 0 &&
		   n == 32,
	   "load the revoked signer vector and its tbs: blacklist");
	tbs.len = n;
	vouch_trust_new(ctx, &rtrust);
	vouch_trust_add_cert(rtrust, rcrt, NULL);
	vouch_trust_add_cert(rtrust, rsa_crt, NULL);
	ok_ret(vouch_modsig_verify(ctx, rtrust, rk, rk_len, NULL, &res),
	       "revoked-signer.ko verifies without the blacklist");
	blacklists(&vo, NULL, &tbs);
	ok_err(vouch_modsig_verify(ctx, rtrust, rk, rk_len, &vo, &res), -EPERM,
	       "tbs: entry of the signer certificate refuses the module");
	ok(res.status == VOUCH_MODSIG_BLACKLISTED && res.signer == rcrt &&
		   !(res.failed & (1U << VOUCH_MODSIG_BAD_SIGNATURE)),
	   "  status blacklisted, the signature itself verifies");
	ok(strstr(vouch_ctx_last_error(ctx), "certificate") != NULL,
	   "  the reason names the signer certificate: %s", vouch_ctx_last_error(ctx));
	ok_err(vouch_modsig_verify_detached(ctx, rtrust, blob, blob_len, rk + blob_len,
					    rk_len - blob_len - 40, &vo, &res),
	       -EPERM, "  detached too");
	ok_ret(vouch_modsig_verify(ctx, rtrust, good, good_len, &vo, &res),
	       "  another signer is not affected");
	/* the same bytes as a bin: entry do not revoke a certificate */
	blacklists(&vo, &tbs, NULL);
	ok_ret(vouch_modsig_verify(ctx, rtrust, rk, rk_len, &vo, &res),
	       "  the TBS hash as a bin: entry does not refuse the module");
	/* and a file hash as a tbs: entry does not refuse the file */
	vouch_digest_buf(ctx, VOUCH_HASH_SHA256, rk, rk_len, &bin);
	blacklists(&vo, NULL, &bin);
	ok_ret(vouch_modsig_verify(ctx, rtrust, rk, rk_len, &vo, &res),
	       "  the file hash as a tbs: entry does not refuse it");
	blacklists(&vo, NULL, NULL);
	vouch_trust_free(rtrust);
	vouch_cert_free(rcrt);
}

/* --- detached ----------------------------------------------------------------------- */
static void test_detached(void)
{
	struct vouch_modsig_result res;
	vouch_trust *trust2 = NULL;

	ok_ret(vouch_modsig_verify_detached(ctx, trust, blob, blob_len, p7, p7_len, NULL, &res),
	       "detached PKCS#7 verifies against blob.ko");
	ok(res.sig_offset == 0 && res.payload_len == blob_len, "  detached offsets");
	ok_err(vouch_modsig_verify_detached(ctx, trust, good, good_len, p7, p7_len, NULL, &res),
	       -EKEYREJECTED, "detached PKCS#7 does not verify another payload");

	/* trust without the signer; trust naming */
	vouch_trust_new(ctx, &trust2);
	vouch_trust_add_cert(trust2, other_crt, NULL);
	ok_err(vouch_modsig_verify(ctx, trust2, good, good_len, NULL, &res), -ENOKEY,
	       "trust store without the signer: unknown signer");
	vouch_trust_free(trust2);
}

/* --- trailer and info --------------------------------------------------------------- */
static void test_trailer_info(void)
{
	struct vouch_modsig_result res;
	struct vouch_modsig_info info;
	uint8_t *out = NULL;
	size_t out_len = 0, plen, slen;
	int r;

	ok_ret(vouch_modsig_find(ctx, good, good_len, &plen, &slen), "find the trailer");
	ok(plen == blob_len && slen == p7_len, "  payload %zu, PKCS#7 %zu", plen, slen);
	ok_err(vouch_modsig_find(ctx, blob, blob_len, &plen, &slen), -ENODATA, "unsigned: -ENODATA");
	ok_ret(vouch_modsig_parse(ctx, good, good_len, &info), "parse");
	ok_streq(info.signer, "Integrity lab RSA-2048 signing key", "  signer = issuer CN (modinfo)");
	ok(info.hash_algo == VOUCH_HASH_SHA256 && info.key_type == VOUCH_KEY_RSA &&
		   info.signature_len == 256 && info.n_signers == 1 && info.serial_len == 8,
	   "  hash, key type, signature length, serial");
	ok_ret(vouch_modsig_parse_pkcs7(ctx, p7, p7_len, &info), "parse a detached PKCS#7");
	ok_err(vouch_modsig_parse_pkcs7(ctx, p7, p7_len - 1, &info), -EBADMSG,
	       "truncated PKCS#7 is malformed");
	/* a marker alone and tiny files: the trailer checks never read outside the buffer */
	ok_err(vouch_modsig_verify(ctx, trust, (const uint8_t *)VOUCH_MODSIG_MARKER,
				   VOUCH_MODSIG_MARKER_LEN, NULL, &res),
	       -ENODATA, "the marker alone is not a signature (the kernel wants len > 28)");
	for (size_t n = 1; n <= 40; n++) {
		uint8_t tiny[80] = { 0 };

		memcpy(tiny + n, VOUCH_MODSIG_MARKER, VOUCH_MODSIG_MARKER_LEN);
		r = vouch_modsig_verify(ctx, trust, tiny, n + VOUCH_MODSIG_MARKER_LEN, NULL, &res);
		if (r != -EBADMSG || res.status != VOUCH_MODSIG_BAD_TRAILER) {
			ok(0, "%zu bytes + marker: malformed trailer (got %d)", n, r);
			break;
		}
		if (n == 40)
			ok(1, "1..40 bytes + marker: malformed trailer, no overread");
	}
	ok_ret(vouch_modsig_make_trailer(ctx, p7, p7_len, &out, &out_len), "make trailer");
	ok(out_len == p7_len + 40 && !memcmp(out, good + blob_len, out_len),
	   "  equals sign-file's trailer");
	free(out);
}

/* --- argument checks ---------------------------------------------------------------- */
static void test_arguments(void)
{
	struct vouch_modsig_verify_options vo = VOUCH_MODSIG_VERIFY_OPTIONS_INIT;
	struct vouch_modsig_result res;
	struct vouch_modsig_sign_options bad = VOUCH_MODSIG_SIGN_OPTIONS_INIT;
	vouch_modsig_signer *s = NULL;

	bad.version = 2;
	ok_err(vouch_modsig_signer_new(ctx, rsa_key, rsa_crt, &bad, &s), -EINVAL,
	       "options version 2 refused");
	bad.version = 1;
	bad.reserved[3] = 1;
	ok_err(vouch_modsig_signer_new(ctx, rsa_key, rsa_crt, &bad, &s), -EINVAL,
	       "non-zero reserved options refused");
	bad.reserved[3] = 0;
	bad.hash_algo = VOUCH_HASH_MD5;
	ok_err(vouch_modsig_signer_new(ctx, rsa_key, rsa_crt, &bad, &s), -EINVAL,
	       "md5 signing refused");
	ok_err(vouch_modsig_signer_new(ctx, rsa_key, ec_crt, NULL, &s), -EKEYREJECTED,
	       "key that does not match the certificate refused");
	vo.reserved[0] = 1;
	ok_err(vouch_modsig_verify(ctx, trust, good, good_len, &vo, &res), -EINVAL,
	       "non-zero reserved verify options refused");
	vo.reserved[0] = 0;
	ok_err(vouch_modsig_verify(ctx, NULL, good, good_len, NULL, &res), -EINVAL,
	       "NULL trust refused");
	ok_streq(vouch_modsig_status_name(99), "unknown", "status name out of range");
}

/* --- allocation failures: every one is reported, none crashes or leaks ----------- */
static void test_alloc_failures(void)
{
	uint8_t *out = NULL;
	size_t out_len = 0;
	int r;
	bool all_enomem = true;
	long n;

	for (n = 1; n < 200; n++) {
		mem_fail_at(n);
		r = vouch_modsig_sign_trailer(signer, blob, blob_len, &out, &out_len);
		mem_fail_at(0);
		if (r == 0) {
			free(out);
			break;
		}
		if (r != -ENOMEM)
			all_enomem = false;
	}
	ok(all_enomem && n < 200, "sign: allocation failures 1..%ld give -ENOMEM", n - 1);
}

static void free_fixtures(void)
{
	vouch_modsig_signer_free(signer);
	vouch_modsig_signer_free(skid_signer);
	vouch_modsig_signer_free(ec_signer);
	vouch_modsig_signer_free(NULL);
	vouch_trust_free(trust);
	vouch_key_free(rsa_key);
	vouch_key_free(ec_key);
	vouch_cert_free(rsa_crt);
	vouch_cert_free(ec_crt);
	vouch_cert_free(other_crt);
	free(blob);
	free(good);
	free(good_skid);
	free(p7);
}

int main(void)
{
	if (vouch_ctx_new(&ctx) < 0)
		return 1;
	if (!load_fixtures())
		return tap_done();
	test_sign_like_sign_file();
	test_sign_batch();
	test_verify_known();
	test_must_fail();
	test_rsa_sig_length();
	test_p521();
	test_blacklist();
	test_revoked_signer();
	test_detached();
	test_trailer_info();
	test_arguments();
	test_alloc_failures();
	free_fixtures();
	vouch_ctx_free(ctx);
	return tap_done();
}
