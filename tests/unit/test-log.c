// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The vouch authors */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "pick-list.h"
#include "log-internal.h"
#include "tap.h"

static vouch_ctx *ctx;

static uint8_t *slurp(const char *path, size_t *len)
{
	return tap_slurp(ctx, path, 1 << 26, len);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	hex_encode(b, n, out);
}

/* PCR 10 of @rp is @sha1 (check @what1) in the sha1 bank and @sha256 (@what256) in sha256 */
static void pcr10_is(vouch_log_replay *rp, const char *sha1, const char *what1, const char *sha256,
		     const char *what256)
{
	struct vouch_digest d;
	char h[129];

	vouch_log_replay_get(rp, VOUCH_HASH_SHA1, 10, &d);
	hex(d.bytes, d.len, h);
	ok_streq(h, sha1, "%s", what1);
	vouch_log_replay_get(rp, VOUCH_HASH_SHA256, 10, &d);
	hex(d.bytes, d.len, h);
	ok_streq(h, sha256, "%s", what256);
}

/* A vector file, what it must give (an error code, a verdict) and what it is */
struct vec_case {
	const char *file;
	int want;
	const char *what;
};

/* Read every entry of a list; returns the count or the first error. */
static int count_entries(const uint8_t *buf, size_t len, int format)
{
	struct vouch_log_reader_options o = VOUCH_LOG_READER_OPTIONS_INIT;
	vouch_log_reader *r = NULL;
	struct vouch_log_entry e;
	int k, n = 0;

	o.format = format;
	k = vouch_log_reader_new(ctx, buf, len, &o, &r);
	if (k < 0)
		return k;
	while ((k = vouch_log_next(r, &e)) > 0)
		n++;
	vouch_log_reader_free(r);
	return k < 0 ? k : n;
}

/* Convert a list to another format/order. */
static int convert(const uint8_t *buf, size_t len, int format, int order, uint8_t **ret,
		   size_t *ret_len)
{
	struct vouch_log_writer_options wo = VOUCH_LOG_WRITER_OPTIONS_INIT;
	vouch_log_reader *r = NULL;
	vouch_log_writer *w = NULL;
	struct vouch_log_entry e;
	const uint8_t *out;
	size_t n;
	int k;

	wo.format = format;
	wo.order = order;
	k = vouch_log_reader_new(ctx, buf, len, NULL, &r);
	if (k >= 0)
		k = vouch_log_writer_new(ctx, &wo, &w);
	while (k >= 0 && (k = vouch_log_next(r, &e)) > 0)
		k = vouch_log_writer_add(w, &e);
	if (k >= 0)
		k = vouch_log_writer_get(w, &out, &n);
	if (k >= 0) {
		*ret = mem_dup(out, n);
		*ret_len = n;
		if (!*ret)
			k = -ENOMEM;
	}
	vouch_log_writer_free(w);
	vouch_log_reader_free(r);
	return k < 0 ? k : 0;
}

static void test_s13_9(void)
{
	static const char *const sha1_td[] = {
		"6bdad7efa602f84ca31ffe3f11ff7c476e25dcdd", "d93a2d5e0e8ba2ae7a7407e55658aeb7432eaf96",
		"9de92d7a3f392c13cd256952f70807a11f7bdc8b", "720d996686fcf5ec14b503ec20210ccd58093218",
		"0000000000000000000000000000000000000000",
	};
	static const char *const sha256_td[] = {
		"7b400d2dda1901cf39118a43ceb3837cd1de0b584b757e8ee2cf173c9e1b3444",
		"e8682c1c9df5ddade69656acadaf8b6c922c5b49afb918ed1834c63dc569fd88",
		"0ef1dffbc01883bd1be394e6cfa12e43a5cb8fa1214a4eb454fa8588a8211ddc",
		"0001a440b7cc873ff0eb7d727d2ca412dfdf2e72ca58503f8dd7380f4b138cc9",
	};
	int algos[2] = { VOUCH_HASH_SHA1, VOUCH_HASH_SHA256 };
	size_t len = 0;
	uint8_t *buf = slurp(tvec("log/s13.9.bin"), &len);
	vouch_log_reader *r = NULL;
	vouch_log_replay *rp = NULL;
	struct vouch_log_entry e;
	struct vouch_digest d;
	char h[129];
	int k, n = 0, fmt, order;

	ok(buf && len == 799, "§13.9 list is 799 bytes");
	ok_ret(vouch_log_reader_new(ctx, buf, len, NULL, &r), "reader");
	ok_ret(vouch_log_replay_new(ctx, algos, NULL, 2, &rp), "replay sha1+sha256");
	while ((k = vouch_log_next(r, &e)) > 0) {
		hex(e.template_digest, 20, h);
		ok_streq(h, sha1_td[n], "§13.9 #%d SHA-1 template digest", n + 1);
		if (n < 4) {
			ok_ret(vouch_log_template_digest(ctx, &e, VOUCH_HASH_SHA256, &d), "digest");
			hex(d.bytes, d.len, h);
			ok_streq(h, sha256_td[n], "§13.9 #%d sha256 template digest", n + 1);
		}
		ok(e.violation == (n == 4), "#%d violation flag", n + 1);
		ok_ret(vouch_log_replay_add(rp, &e), "#%d replays", n + 1);
		n++;
	}
	ok(k == 0 && n == 5, "five entries, clean end");
	vouch_log_reader_format(r, &fmt, &order);
	ok(fmt == VOUCH_LOG_FORMAT_BINARY && order == VOUCH_LOG_ORDER_LE, "binary LE detected");
	pcr10_is(rp, "907be86361f3eabd2a1e26cf50a37757dcb36e30", "§13.9 sha1 PCR 10",
		 "8996b926daa141138fecd43093a11ff156c1c5956cdc04f9b1bd22bdd96f0981",
		 "§13.9 sha256 PCR 10 (violation extended as all-ones)");
	vouch_log_replay_free(rp);
	vouch_log_reader_free(r);

	/* ascii lines, with the trailing space of #4 */
	{
		uint8_t *a = NULL;
		size_t alen = 0;
		const char *l4 = "10 720d996686fcf5ec14b503ec20210ccd58093218 ima-sig sha256:"
				 "3f865664cafc0007c6ef91f7e6caacd1797d92f9b707100170bf3a656331b6cf "
				 "/tmp/tv/file_with_space.txt \n";
		const char *l1 = "10 6bdad7efa602f84ca31ffe3f11ff7c476e25dcdd ima-ng sha256:"
				 "7b6436b0c98f62380866d9432c2af0ee08ce16a171bda6951aecd95ee1307d61 "
				 "boot_aggregate\n";

		ok_ret(convert(buf, len, VOUCH_LOG_FORMAT_ASCII, 0, &a, &alen), "to ascii");
		ok(a && alen > strlen(l1) && !memcmp(a, l1, strlen(l1)), "§13.9 ascii line 1");
		ok(a && memmem(a, alen, l4, strlen(l4)), "§13.9 ascii line 4 ends with a space");
		ok(a && memmem(a, alen, "0302043d0b8968010", 17), "sig rendered as hex");
		free(a);
	}
	free(buf);
}

static void test_s13_10(void)
{
	int algos[2] = { VOUCH_HASH_SHA1, VOUCH_HASH_SHA256 };
	size_t len = 0;
	uint8_t *buf = slurp(tvec("log/s13.10.bin"), &len), *a = NULL;
	vouch_log_reader *r = NULL;
	vouch_log_replay *rp = NULL;
	struct vouch_log_entry e;
	struct vouch_digest d;
	size_t alen = 0;
	char h[129];

	ok_ret(vouch_log_reader_new(ctx, buf, len, NULL, &r), "reader (ima)");
	ok(vouch_log_next(r, &e) == 1 && !strcmp(e.template_name, "ima"), "legacy ima entry");
	hex(e.template_digest, 20, h);
	ok_streq(h, "8330fa1c80caa201a9628baa7401ed3d5baa197b", "§13.10 template digest");
	ok_ret(vouch_log_template_digest(ctx, &e, VOUCH_HASH_SHA256, &d), "sha256 digest");
	hex(d.bytes, d.len, h);
	ok_streq(h, "b19cfefcea7b6508e1ca7aac4ab574e92052decb4cef40c5329747232763c74d",
		 "§13.10 sha256 bank digest (name zero-padded to 256)");
	ok_ret(vouch_log_replay_new(ctx, algos, NULL, 2, &rp), "replay");
	ok_ret(vouch_log_replay_add(rp, &e), "replays");
	pcr10_is(rp, "d124ee49983b556906c3d0ea8d5a3d48edeaa518", "§13.10 sha1 PCR 10",
		 "75b38d47e88d709eb5232afca2b8ee539e92b2a955102d053ff033e674b51585",
		 "§13.10 sha256 PCR 10");
	ok(vouch_log_next(r, &e) == 0, "one entry");
	vouch_log_replay_free(rp);
	vouch_log_reader_free(r);
	ok_ret(convert(buf, len, VOUCH_LOG_FORMAT_ASCII, 0, &a, &alen), "ima to ascii");
	ok(a && alen == strlen("10 8330fa1c80caa201a9628baa7401ed3d5baa197b ima "
			       "5614f3d0790458b86052ad60bd5879bf356ffd3e /tmp/tv/file.txt\n") &&
		   !memcmp(a, "10 8330fa1c80caa201a9628baa7401ed3d5baa197b ima "
			      "5614f3d0790458b86052ad60bd5879bf356ffd3e /tmp/tv/file.txt\n",
			   alen),
	   "§13.10 ascii line");
	free(a);
	ok_err(convert(buf, len, VOUCH_LOG_FORMAT_KEXEC, 0, &a, &alen), -EINVAL,
	       "'ima' cannot go into a kexec buffer");
	free(buf);
}

static void test_s13_11(void)
{
	size_t len = 0, klen = 0, blen = 0;
	uint8_t *buf = slurp(tvec("log/s13.9.bin"), &len), *kx = slurp(tvec("log/s13.11.kexec"), &klen);
	uint8_t *out = NULL, *back = NULL;
	static const uint8_t hdr[24] = { 1, 0, 0, 0, 0, 0, 0, 0, 0x37, 3, 0, 0, 0, 0, 0, 0,
					 5, 0, 0, 0, 0, 0, 0, 0 };

	ok_ret(convert(buf, len, VOUCH_LOG_FORMAT_KEXEC, 0, &out, &blen), "export kexec");
	ok(out && blen == 823 && !memcmp(out, hdr, 24), "§13.11 header: version 1, size 823, count 5");
	ok(out && blen == klen && !memcmp(out, kx, klen), "byte-identical to the §13.11 buffer");
	ok(count_entries(kx, klen, VOUCH_LOG_FORMAT_AUTO) == 5, "kexec buffer auto-detected, 5 entries");
	ok_ret(convert(kx, klen, VOUCH_LOG_FORMAT_BINARY, 0, &back, &blen), "kexec back to binary");
	ok(back && blen == len && !memcmp(back, buf, len), "kexec -> binary is lossless");
	free(back);
	back = NULL;
	ok_ret(convert(buf, len, VOUCH_LOG_FORMAT_KEXEC, VOUCH_LOG_ORDER_BE, &back, &blen),
	       "big endian kexec buffer");
	ok(back && back[0] == 0 && back[1] == 1 && count_entries(back, blen, 0) == 5,
	   "big endian kexec header detected");
	{
		uint8_t *le = NULL;
		size_t lelen = 0;

		ok_ret(convert(back, blen, VOUCH_LOG_FORMAT_BINARY, VOUCH_LOG_ORDER_LE, &le, &lelen),
		       "back to canonical");
		ok(le && lelen == len && !memcmp(le, buf, len), "BE kexec -> canonical is lossless");
		free(le);
	}
	free(back);
	/* page padding after buffer_size is ignored, a short buffer is not */
	{
		uint8_t *pad = calloc(1, klen + 100);

		memcpy(pad, kx, klen);
		ok(count_entries(pad, klen + 100, VOUCH_LOG_FORMAT_KEXEC) == 5, "padding ignored");
		ok_err(count_entries(kx, klen - 1, VOUCH_LOG_FORMAT_KEXEC), -EBADMSG,
		       "buffer_size past the end");
		free(pad);
	}
	free(out);
	free(kx);
	free(buf);
}

/* The §13.9 list's sha1 and sha256 PCR files into @b[0..1], as @o's banks. */
static void s139_banks(struct vouch_pcr_bank *b, struct vouch_log_verify_options *o)
{
	ok_ret(vouch_pcr_bank_read(ctx, tvec("log/pcrs-s13.9-sha1.txt"), VOUCH_HASH_SHA1, &b[0]),
	       "sha1 PCR file");
	ok_ret(vouch_pcr_bank_read(ctx, tvec("log/pcrs-s13.9-sha256.txt"), VOUCH_HASH_SHA256, &b[1]),
	       "sha256 PCR file");
	o->banks = b;
	o->n_banks = 2;
}

/* Must-fail vectors, one test each, with their codes. */
static void test_must_fail(void)
{
	static const struct vec_case parse_fail[] = {
		{ "log/bad-truncated.bin", -EBADMSG, "a truncated last entry" },
		{ "log/bad-length-past-end.bin", -EBADMSG, "template data length past the end" },
		{ "log/bad-length-huge.bin", -EBADMSG, "template data length over the cap" },
		{ "log/bad-field-length.bin", -EBADMSG, "field length past the template data" },
		{ "log/bad-unknown-template.bin", -EBADMSG, "an unknown template" },
		{ "log/bad-kexec-count.kexec", -EBADMSG, "kexec header count does not match" },
	};
	struct vouch_pcr_bank *b = calloc(2, sizeof(*b));
	struct vouch_log_verify_options o = VOUCH_LOG_VERIFY_OPTIONS_INIT;
	struct vouch_log_verify_result res;
	vouch_log_reader *r = NULL;
	size_t len;
	uint8_t *buf;

	for (size_t i = 0; i < ARRAY_SIZE(parse_fail); i++) {
		buf = slurp(tvec(parse_fail[i].file), &len);
		ok_err(count_entries(buf, len, VOUCH_LOG_FORMAT_AUTO), parse_fail[i].want,
		       "must fail: %s", parse_fail[i].what);
		free(buf);
	}
	s139_banks(b, &o);
	o.flags = VOUCH_LOG_VERIFY_NO_BOOT_AGGREGATE;

	buf = slurp(tvec("log/s13.9.bin"), &len);
	vouch_log_reader_new(ctx, buf, len, NULL, &r);
	ok_ret(vouch_log_verify(ctx, r, &o, &res), "§13.9 verifies against its PCRs");
	ok(res.covered == 5 && res.banks[0].matched_at == 5 && res.banks[1].matched_at == 5 &&
		   res.violations == 1,
	   "both banks match at entry 5, one violation");
	vouch_log_reader_free(r);
	/* a longer list than the PCR state: prefix match, tail reported */
	{
		struct vouch_pcr_bank *early = calloc(2, sizeof(*early));
		vouch_log_replay *rp = NULL;
		int algos[2] = { VOUCH_HASH_SHA1, VOUCH_HASH_SHA256 };
		struct vouch_log_entry e;

		vouch_log_replay_new(ctx, algos, NULL, 2, &rp);
		vouch_log_reader_new(ctx, buf, len, NULL, &r);
		for (int i = 0; i < 3 && vouch_log_next(r, &e) > 0; i++)
			vouch_log_replay_add(rp, &e);
		vouch_log_reader_free(r);
		for (int i = 0; i < 2; i++) {
			struct vouch_digest d;

			early[i].algo = algos[i];
			vouch_log_replay_get(rp, algos[i], 10, &d);
			memcpy(early[i].pcr[10], d.bytes, d.len);
			early[i].present = 1u << 10;
		}
		vouch_log_replay_free(rp);
		o.banks = early;
		vouch_log_reader_new(ctx, buf, len, NULL, &r);
		ok_ret(vouch_log_verify(ctx, r, &o, &res), "PCRs read after entry 3 still verify");
		ok(res.covered == 3 && res.entries == 5, "3 entries attested, 2 measured later");
		vouch_log_reader_free(r);
		o.banks = b;
		free(early);
	}
	free(buf);

	buf = slurp(tvec("log/bad-flipped-digest.bin"), &len);
	vouch_log_reader_new(ctx, buf, len, NULL, &r);
	ok_err(vouch_log_verify(ctx, r, &o, &res), -EKEYREJECTED, "must fail: a flipped digest byte");
	ok(res.failed_entry == 2, "reported at its entry (2), got %llu",
	   (unsigned long long)res.failed_entry);
	ok(strstr(vouch_ctx_last_error(ctx), "entry 2"), "message names entry 2");
	vouch_log_reader_free(r);
	free(buf);

	buf = slurp(tvec("log/short-list.bin"), &len);
	vouch_log_reader_new(ctx, buf, len, NULL, &r);
	ok_err(vouch_log_verify(ctx, r, &o, &res), -EKEYREJECTED,
	       "must fail: a list shorter than the PCR state");
	ok(res.failed_bank == VOUCH_HASH_SHA1 && res.failed_entry == 1 && res.covered == 0,
	   "names the bank and entry 1");
	vouch_log_reader_free(r);
	free(buf);
	free(b);
}

/* boot_aggregate checks: all-zero PCRs 0-9 give the §13.9 value */
static void test_boot_aggregate(void)
{
	struct vouch_pcr_bank *b = calloc(2, sizeof(*b));
	struct vouch_log_verify_options o = VOUCH_LOG_VERIFY_OPTIONS_INIT;
	struct vouch_log_verify_result res;
	vouch_log_reader *r = NULL;
	uint8_t *buf = NULL;
	size_t len;

	s139_banks(b, &o);
	{
		struct vouch_pcr_bank *z = calloc(1, sizeof(*z));
		struct vouch_digest d;
		char h[129];

		z->algo = VOUCH_HASH_SHA256;
		z->present = 0xffffff;
		ok_ret(vouch_log_boot_aggregate(ctx, z, &d), "boot_aggregate sha256");
		hex(d.bytes, d.len, h);
		ok_streq(h, "7b6436b0c98f62380866d9432c2af0ee08ce16a171bda6951aecd95ee1307d61",
			 "§13.9 boot_aggregate, sha256 bank, PCRs 0-9 zero");
		z->algo = VOUCH_HASH_SHA1;
		ok_ret(vouch_log_boot_aggregate(ctx, z, &d), "boot_aggregate sha1");
		hex(d.bytes, d.len, h);
		ok_streq(h, "9797edf8d0eed36b1cf92547816051c8af4e45ee", "sha1 bank uses PCRs 0-7");
		z->present = 0x7f;
		ok_err(vouch_log_boot_aggregate(ctx, z, &d), -ENODATA, "PCR 7 missing");
		/* the short list's boot_aggregate checked against non-zero PCR 0: mismatch */
		b[1].present |= 0x3ff;
		o.flags = 0;
		free(buf);
		buf = slurp(tvec("log/s13.9.bin"), &len);
		vouch_log_reader_new(ctx, buf, len, NULL, &r);
		ok_ret(vouch_log_verify(ctx, r, &o, &res), "boot_aggregate matches zero PCRs 0-9");
		ok(res.boot_aggregate == 0 && res.boot_aggregate_algo == VOUCH_HASH_SHA256,
		   "boot_aggregate ok (sha256)");
		vouch_log_reader_free(r);
		b[1].pcr[0][0] = 1;
		vouch_log_reader_new(ctx, buf, len, NULL, &r);
		ok_err(vouch_log_verify(ctx, r, &o, &res), -EKEYREJECTED,
		       "must fail: boot_aggregate against another PCR 0");
		ok(res.boot_aggregate == -EKEYREJECTED, "boot_aggregate reported as mismatch");
		vouch_log_reader_free(r);
		o.n_banks = 1; /* sha1 only: the sha256 aggregate cannot be checked */
		vouch_log_reader_new(ctx, buf, len, NULL, &r);
		ok_err(vouch_log_verify(ctx, r, &o, &res), -ENODATA,
		       "boot_aggregate of a bank without PCR values: could not check");
		vouch_log_reader_free(r);
		free(z);
	}
	free(buf);
	free(b);
}

/* the verdicts of the shared signature check (lib/sigv2.c sig_check) in the list's order */
static void test_sig_order(void)
{
	const vouch_cert *c = NULL;
	struct vouch_cert_info info;
	vouch_trust *t = NULL;
	uint8_t value[9 + 256] = { 0x03, 2 }, md[64] = { 0 };
	int v = -1;

	ok_ret(vouch_trust_new(ctx, &t), "trust");
	ok_ret(vouch_trust_add_path(t, vec("keys/rsa2048.crt"), NULL), "rsa2048");
	vouch_trust_get(t, 0, &c, NULL);
	vouch_cert_get_info(c, &info);
	put_be16(value + 7, 256);
	value[2] = VOUCH_HASH_MD5;
	put_be32(value + 3, info.ima_keyid ^ 1);
	ctx_err(ctx, -EIO, "earlier");
	ok_ret(log_sig_verify_digest(ctx, t, NULL, value, sizeof(value), VOUCH_HASH_MD5, md, 16,
				     false, &v),
	       "md5, unknown key");
	ok(v == VOUCH_LOG_SIG_UNKNOWN_KEY, "must fail: an unknown key outranks a refused algorithm");
	ok_streq(vouch_ctx_last_error(ctx), "earlier", "the caller's message survives");
	put_be32(value + 3, info.ima_keyid);
	ok_ret(log_sig_verify_digest(ctx, t, NULL, value, sizeof(value), VOUCH_HASH_MD5, md, 16,
				     false, &v),
	       "md5, trusted key");
	ok(v == VOUCH_LOG_SIG_UNSUPPORTED, "must fail: md5 is not on the allow-list");
	value[2] = VOUCH_HASH_SHA256;
	ok_ret(log_sig_verify_digest(ctx, t, NULL, value, sizeof(value), VOUCH_HASH_SHA256, md, 32,
				     false, &v),
	       "sha256, zero signature");
	ok(v == VOUCH_LOG_SIG_BAD, "must fail: the signature does not verify");
	put_be16(value + 7, 255);
	ok_ret(log_sig_verify_digest(ctx, t, NULL, value, sizeof(value) - 1, VOUCH_HASH_SHA256, md,
				     32, false, &v),
	       "sha256, 255 bytes");
	ok(v == VOUCH_LOG_SIG_MALFORMED, "must fail: an RSA signature shorter than the modulus");
	ok_streq(vouch_ctx_last_error(ctx), "earlier", "the caller's message survives");
	vouch_trust_free(t);
}

static void test_sigs(void)
{
	size_t len;
	uint8_t *buf = slurp(tvec("log/s13.9.bin"), &len);
	vouch_trust *t = NULL, *other = NULL;
	vouch_sig_cache *cache = NULL;
	vouch_log_reader *r = NULL;
	struct vouch_log_entry e;
	int v, verdicts[5];

	ok_ret(vouch_trust_new(ctx, &t), "trust");
	ok_ret(vouch_trust_add_path(t, tvec("log/s13-rsa.crt"), NULL), "§13.1 certificate");
	ok_ret(vouch_trust_new(ctx, &other), "trust 2");
	ok_ret(vouch_trust_add_path(other, vec("keys/rsa2048.crt"), NULL), "another key");
	ok_ret(vouch_sig_cache_new(ctx, 16, &cache), "cache");
	vouch_log_reader_new(ctx, buf, len, NULL, &r);
	for (int i = 0; i < 5 && vouch_log_next(r, &e) > 0; i++) {
		vouch_log_entry_verify_sig(ctx, t, cache, &e, &verdicts[i]);
		if (i == 2) {
			struct vouch_log_entry copy = e;
			struct vouch_log_field *f = (struct vouch_log_field *)
				vouch_log_entry_find(&copy, VOUCH_LOG_FIELD_SIG);
			uint8_t *sig = mem_dup(f->data, f->len);

			ok_ret(vouch_log_entry_verify_sig(ctx, t, cache, &e, &v), "again");
			ok(v == VOUCH_LOG_SIG_VERIFIED, "cached verdict is the same");
			ok_ret(vouch_log_entry_verify_sig(ctx, other, NULL, &e, &v), "other key");
			ok(v == VOUCH_LOG_SIG_UNKNOWN_KEY, "key id 3d0b8968 unknown to another store");
			sig[100] ^= 1;
			f->data = sig;
			ok_ret(vouch_log_entry_verify_sig(ctx, t, cache, &copy, &v), "flipped");
			ok(v == VOUCH_LOG_SIG_BAD, "a flipped signature byte is bad");
			f->len = 20;
			ok_ret(vouch_log_entry_verify_sig(ctx, t, cache, &copy, &v), "short");
			ok(v == VOUCH_LOG_SIG_MALFORMED, "a signature shorter than its header says");
			sig[0] = 0x05;
			f->len = 50;
			ok_ret(vouch_log_entry_verify_sig(ctx, t, cache, &copy, &v), "evm");
			ok(v == VOUCH_LOG_SIG_EVM_PORTABLE, "an EVM portable signature is named so");
			ok(!strcmp(vouch_log_sig_verdict_name(v), "evm-portable"), "as evm-portable");
			free(sig);
		}
	}
	ok(verdicts[0] == VOUCH_LOG_SIG_NONE && verdicts[2] == VOUCH_LOG_SIG_VERIFIED &&
		   verdicts[3] == VOUCH_LOG_SIG_NONE,
	   "§13.9 #3 verifies with the §13.1 key; no signature elsewhere");
	vouch_log_reader_free(r);
	vouch_sig_cache_free(cache);
	vouch_trust_free(other);
	vouch_trust_free(t);
	free(buf);
}

/* ima-sigv2 with a d-ngv2 "verity:" digest and the §13.5 sigv3 signature */
static void test_sigv3(void)
{
	static const char sig_hex[] = IMA_FILE_SIGV3_HEX;
	static const char verity_hex[] = IMA_FILE_VERITY_HEX;
	struct vouch_log_writer_options wo = VOUCH_LOG_WRITER_OPTIONS_INIT;
	uint8_t sig[265], dv[15 + 32];
	vouch_trust *t = NULL;
	vouch_log_writer *w = NULL;
	struct vouch_log_entry e;
	int v = -1;
	struct vouch_log_field f[3] = {
		{ VOUCH_LOG_FIELD_D_NGV2, dv, sizeof(dv) },
		{ VOUCH_LOG_FIELD_N_NG, (const uint8_t *)"/tmp/tv/file.txt", 17 },
		{ VOUCH_LOG_FIELD_SIG, sig, sizeof(sig) },
	};

	hex_decode(sig_hex, strlen(sig_hex), sig, sizeof(sig), NULL);
	memcpy(dv, "verity:sha256:", 15);
	hex_decode(verity_hex, 64, dv + 15, 32, NULL);
	vouch_trust_new(ctx, &t);
	vouch_trust_add_path(t, tvec("log/s13-rsa.crt"), NULL);
	vouch_log_writer_new(ctx, &wo, &w);
	ok_ret(vouch_log_writer_append(w, 10, "ima-sigv2", f, 3, false, &e), "ima-sigv2 entry");
	ok_ret(vouch_log_entry_verify_sig(ctx, t, NULL, &e, &v), "check");
	ok(v == VOUCH_LOG_SIG_VERIFIED, "§13.5 sigv3 over the ima_file_id verifies: %s",
	   vouch_log_sig_verdict_name(v));
	sig[0] = 0x03; /* a v2 signature where fs-verity requires sigv3 */
	sig[1] = 2;
	ok_ret(vouch_log_writer_append(w, 10, "ima-sigv2", f, 3, false, &e), "v2 over verity");
	ok_ret(vouch_log_entry_verify_sig(ctx, t, NULL, &e, &v), "check");
	ok(v == VOUCH_LOG_SIG_BAD, "a v2 signature on a verity digest: bad (%s)",
	   vouch_log_sig_verdict_name(v));
	vouch_log_writer_free(w);
	vouch_trust_free(t);
}

/*
 * ima-modsig entries are judged by the one PKCS#7 verifier of vouch verify: the attacker
 * writes a list whose modsig breaks a rule vouch verify enforces (SignerInfo version, sha1
 * outside the allow-list, a sha256WithRSA OID) but whose signature is valid over d-modsig.
 * For every modsig vector, the list verdict is "verified" exactly when vouch_modsig_verify()
 * accepts the same file.
 */
static void test_modsig_same_rules(void)
{
	static const char *const files[] = {
		"modsig/pkcs7-version.ko", "modsig/digest-sha1.ko", "modsig/sigalg-sha256withrsa.ko",
		"modsig/content-type.ko",  "modsig/signed-attrs.ko", "modsig/wrong-key.ko",
		"modsig/unknown-signer.ko", "modsig/sig-flip.ko",   "modsig/siglen-short.ko",
	};
	struct vouch_log_writer_options wo = VOUCH_LOG_WRITER_OPTIONS_INIT;
	vouch_trust *t = NULL;
	vouch_log_writer *w = NULL;

	vouch_trust_new(ctx, &t);
	vouch_trust_add_path(t, vec("keys/rsa2048.crt"), NULL);
	vouch_log_writer_new(ctx, &wo, &w);
	for (size_t i = 0; i < ARRAY_SIZE(files) + 1; i++) {
		const char *file = i < ARRAY_SIZE(files) ? tvec(files[i]) : vec("peer/blob.rsa2048.ko");
		size_t len = 0, plen = 0, slen = 0, nlen;
		uint8_t *buf = slurp(file, &len);
		struct vouch_modsig_info info;
		struct vouch_modsig_result res;
		struct vouch_digest d;
		const char *hn;
		uint8_t dmod[8 + VOUCH_HASH_MAX_SIZE], dng[40] = "sha256:";
		struct vouch_log_entry e;
		int v = -1, r, algo = VOUCH_HASH_SHA256;

		if (!ok(buf && vouch_modsig_find(ctx, buf, len, &plen, &slen) == 0, "%s: read", file)) {
			free(buf);
			continue;
		}
		if (vouch_modsig_parse_pkcs7(ctx, buf + plen, slen, &info) == 0 && info.hash_algo >= 0)
			algo = info.hash_algo;
		vouch_digest_buf(ctx, algo, buf, plen, &d);
		hn = vouch_hash_info(algo)->name;
		nlen = strlen(hn) + 2;
		memcpy(dmod, hn, nlen - 2);
		memcpy(dmod + nlen - 2, ":", 2);
		memcpy(dmod + nlen, d.bytes, d.len);
		{
			struct vouch_log_field f[5] = {
				{ VOUCH_LOG_FIELD_D_NG, dng, 40 },
				{ VOUCH_LOG_FIELD_N_NG, (const uint8_t *)"/lib/modules/m.ko", 18 },
				{ VOUCH_LOG_FIELD_SIG, NULL, 0 },
				{ VOUCH_LOG_FIELD_D_MODSIG, dmod, nlen + d.len },
				{ VOUCH_LOG_FIELD_MODSIG, buf + plen, slen },
			};

			ok_ret(vouch_log_writer_append(w, 10, "ima-modsig", f, 5, false, &e),
			       "%s: ima-modsig entry", file);
		}
		ok_ret(vouch_log_entry_verify_sig(ctx, t, NULL, &e, &v), "check");
		r = vouch_modsig_verify(ctx, t, buf, len, NULL, &res);
		ok((r == 0) == (v == VOUCH_LOG_SIG_VERIFIED),
		   "%s: list verdict %s, vouch verify %s: the same rules", file,
		   vouch_log_sig_verdict_name(v), vouch_modsig_status_name(res.status));
		free(buf);
	}
	vouch_log_writer_free(w);
	vouch_trust_free(t);
}

/* ima-modsig: the appended PKCS#7 of sign-file over d-modsig (issuer+serial and SKID ids) */
static void test_modsig(void)
{
	static const struct vec_case cases[] = {
		{ "peer/blob.rsa2048.pkcs7.der", VOUCH_LOG_SIG_VERIFIED, "RSA, issuer and serial" },
		{ "peer/blob.rsa2048-skid.pkcs7.der", VOUCH_LOG_SIG_VERIFIED, "RSA, SKID" },
		{ "peer/blob.ecdsa-p256.pkcs7.der", VOUCH_LOG_SIG_VERIFIED, "ECDSA P-256" },
	};
	struct vouch_log_writer_options wo = VOUCH_LOG_WRITER_OPTIONS_INIT;
	uint8_t dng[40], dmod[40];
	size_t blen = 0;
	uint8_t *blob = slurp(vec("peer/blob.ko"), &blen);
	struct vouch_digest bd;
	vouch_trust *t = NULL, *rsa_only = NULL;
	vouch_log_writer *w = NULL;

	ok_ret(vouch_digest_buf(ctx, VOUCH_HASH_SHA256, blob, blen, &bd), "blob digest");
	memcpy(dmod, "sha256:", 8);
	memcpy(dmod + 8, bd.bytes, 32);
	memcpy(dng, dmod, 40);
	dng[10] ^= 1; /* the file digest covers the signature: another value */
	vouch_trust_new(ctx, &t);
	vouch_trust_add_path(t, vec("keys/rsa2048.crt"), NULL);
	vouch_trust_add_path(t, vec("keys/ecdsa-p256.crt"), NULL);
	vouch_trust_new(ctx, &rsa_only);
	vouch_trust_add_path(rsa_only, vec("keys/rsa2048.crt"), NULL);
	vouch_log_writer_new(ctx, &wo, &w);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t plen = 0;
		uint8_t *p7 = slurp(vec(cases[i].file), &plen);
		struct vouch_log_field f[5] = {
			{ VOUCH_LOG_FIELD_D_NG, dng, 40 },
			{ VOUCH_LOG_FIELD_N_NG, (const uint8_t *)"/lib/modules/blob.ko", 21 },
			{ VOUCH_LOG_FIELD_SIG, NULL, 0 },
			{ VOUCH_LOG_FIELD_D_MODSIG, dmod, 40 },
			{ VOUCH_LOG_FIELD_MODSIG, p7, plen },
		};
		struct vouch_log_entry e;
		int v = -1;

		ok_ret(vouch_log_writer_append(w, 10, "ima-modsig", f, 5, false, &e), "modsig entry");
		ok_ret(vouch_log_entry_verify_sig(ctx, t, NULL, &e, &v), "check");
		ok(v == cases[i].want, "modsig %s: %s", cases[i].what, vouch_log_sig_verdict_name(v));
		if (i == 2) {
			ok_ret(vouch_log_entry_verify_sig(ctx, rsa_only, NULL, &e, &v), "check");
			ok(v == VOUCH_LOG_SIG_UNKNOWN_KEY, "modsig signer not trusted: unknown key");
		}
		if (i == 0) {
			dmod[20] ^= 1;
			ok_ret(vouch_log_writer_append(w, 10, "ima-modsig", f, 5, false, &e), "again");
			ok_ret(vouch_log_entry_verify_sig(ctx, t, NULL, &e, &v), "check");
			ok(v == VOUCH_LOG_SIG_BAD, "modsig over another d-modsig: bad");
			dmod[20] ^= 1;
			f[4].len = plen - 1;
			ok_ret(vouch_log_writer_append(w, 10, "ima-modsig", f, 5, false, &e), "cut");
			ok_ret(vouch_log_entry_verify_sig(ctx, t, NULL, &e, &v), "check");
			ok(v == VOUCH_LOG_SIG_MALFORMED, "truncated PKCS#7: malformed");
		}
		free(p7);
	}
	vouch_log_writer_free(w);
	vouch_trust_free(t);
	vouch_trust_free(rsa_only);
	free(blob);
}

/* the field values of every template (test_round_trips) */
struct rt_values {
	uint8_t sha1[20], sha256[32], sig[300], u32le[4], u16[2];
	uint8_t dng[40], dngv2[44], verity[47], xlen[8];
};

static void rt_values_init(struct rt_values *b)
{
	static const uint8_t u32le[4] = { 0xe8, 3, 0, 0 }, u16[2] = { 0xed, 0x81 };
	static const uint8_t xlen[8] = { 9, 0, 0, 0, 5, 0, 0, 0 };

	memcpy(b->u32le, u32le, sizeof(u32le));
	memcpy(b->u16, u16, sizeof(u16));
	memcpy(b->xlen, xlen, sizeof(xlen));
	for (size_t i = 0; i < sizeof(b->sha1); i++)
		b->sha1[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(b->sha256); i++)
		b->sha256[i] = (uint8_t)(i * 13 + 5);
	for (size_t i = 0; i < sizeof(b->sig); i++)
		b->sig[i] = (uint8_t)(i ^ 0x5a);
	memcpy(b->dng, "sha256:", 8);
	memcpy(b->dng + 8, b->sha256, 32);
	memcpy(b->dngv2, "ima:sha256:", 12);
	memcpy(b->dngv2 + 12, b->sha256, 32);
	memcpy(b->verity, "verity:sha256:", 15);
	memcpy(b->verity + 15, b->sha256, 32);
}

/* the fields of template number @t (@fmt) of test_round_trips, into @f; their count */
static size_t rt_fields(const struct rt_values *b, size_t t, const char *fmt,
			struct vouch_log_field *f)
{
	char ids[128];
	size_t n = 0;

	/* field ids of the template, from the library's own table */
	if (!strcmp(fmt, "ima"))
		snprintf(ids, sizeof(ids), "d|n");
	else if (strchr(fmt, '|'))
		snprintf(ids, sizeof(ids), "%s", fmt);
	else if (!strcmp(fmt, "ima-ng"))
		snprintf(ids, sizeof(ids), "d-ng|n-ng");
	else if (!strcmp(fmt, "ima-ngv2"))
		snprintf(ids, sizeof(ids), "d-ngv2|n-ng");
	else if (!strcmp(fmt, "ima-sig"))
		snprintf(ids, sizeof(ids), "d-ng|n-ng|sig");
	else if (!strcmp(fmt, "ima-sigv2"))
		snprintf(ids, sizeof(ids), "d-ngv2|n-ng|sig");
	else if (!strcmp(fmt, "ima-buf"))
		snprintf(ids, sizeof(ids), "d-ng|n-ng|buf");
	else if (!strcmp(fmt, "ima-modsig"))
		snprintf(ids, sizeof(ids), "d-ng|n-ng|sig|d-modsig|modsig");
	else
		snprintf(ids, sizeof(ids), "d-ng|n-ng|evmsig|xattrnames|xattrlengths|"
					   "xattrvalues|iuid|igid|imode");
	for (char *s = ids, *tok; (tok = strsep(&s, "|"));) {
		int id = vouch_log_field_by_name(tok);

		f[n].id = id;
		switch (id) {
		case VOUCH_LOG_FIELD_D:
			f[n].data = b->sha1, f[n].len = 20;
			break;
		case VOUCH_LOG_FIELD_N:
			f[n].data = (const uint8_t *)"/usr/bin/legacy", f[n].len = 15;
			if (strcmp(fmt, "ima"))
				f[n].len = 16;
			break;
		case VOUCH_LOG_FIELD_D_NG:
		case VOUCH_LOG_FIELD_D_MODSIG:
			f[n].data = b->dng, f[n].len = sizeof(b->dng);
			break;
		case VOUCH_LOG_FIELD_D_NGV2:
			f[n].data = t == 2 ? b->dngv2 : b->verity;
			f[n].len = t == 2 ? sizeof(b->dngv2) : sizeof(b->verity);
			break;
		case VOUCH_LOG_FIELD_N_NG:
			f[n].data = (const uint8_t *)"/usr/lib/x_(deleted)", f[n].len = 21;
			break;
		case VOUCH_LOG_FIELD_XATTRNAMES:
			f[n].data = (const uint8_t *)"security.ima|security.evm", f[n].len = 26;
			break;
		case VOUCH_LOG_FIELD_XATTRLENGTHS:
			f[n].data = b->xlen, f[n].len = 8;
			break;
		case VOUCH_LOG_FIELD_IUID:
		case VOUCH_LOG_FIELD_IGID:
			f[n].data = b->u32le, f[n].len = 4;
			break;
		case VOUCH_LOG_FIELD_IMODE:
			f[n].data = b->u16, f[n].len = 2;
			break;
		case VOUCH_LOG_FIELD_SIG:
			/* an empty last field: the ascii trailing-space quirk */
			f[n].data = b->sig, f[n].len = strcmp(fmt, "ima-sigv2") ? 265 : 0;
			break;
		default:
			f[n].data = b->sig, f[n].len = 14 + t;
		}
		n++;
	}
	return n;
}

/* binary -> ascii -> binary and LE -> BE -> LE of the list @out */
static void rt_conversions(const uint8_t *out, size_t olen)
{
	uint8_t *ascii = NULL, *bin = NULL, *be = NULL, *le = NULL, *be2 = NULL;
	size_t alen = 0, blen = 0, belen = 0, lelen = 0, be2len = 0;
	int algos[1] = { VOUCH_HASH_SHA256 };
	vouch_log_reader *r = NULL;
	vouch_log_replay *rp = NULL;
	struct vouch_log_entry e;
	int fmt = 0, order = 0, k, bad = 0;

	ok_ret(convert(out, olen, VOUCH_LOG_FORMAT_ASCII, 0, &ascii, &alen), "binary -> ascii");
	ok_ret(convert(ascii, alen, VOUCH_LOG_FORMAT_BINARY, 0, &bin, &blen), "ascii -> binary");
	ok(bin && blen == olen && !memcmp(bin, out, olen),
	   "binary -> ascii -> binary is lossless for every template");
	ok(ascii && memmem(ascii, alen, " 9 ", 3) && memmem(ascii, alen, "ima:sha256:", 11) &&
		   memmem(ascii, alen, "verity:sha256:", 14) && memmem(ascii, alen, " 1000 ", 6) &&
		   memmem(ascii, alen, " 33261\n", 7),
	   "ascii: %%2d PCR, d-ngv2 prefixes, iuid/imode as decimal");
	ok_ret(convert(out, olen, VOUCH_LOG_FORMAT_BINARY, VOUCH_LOG_ORDER_BE, &be, &belen),
	       "binary -> big endian");
	ok(be && belen == olen && memcmp(be, out, olen), "big endian list differs");
	vouch_log_reader_new(ctx, be, belen, NULL, &r);
	vouch_log_replay_new(ctx, algos, NULL, 1, &rp);
	while ((k = vouch_log_next(r, &e)) > 0)
		bad |= vouch_log_replay_add(rp, &e) < 0;
	vouch_log_reader_format(r, &fmt, &order);
	ok(k == 0 && !bad && order == VOUCH_LOG_ORDER_BE,
	   "big endian detected, its template digests recomputed for its byte order");
	vouch_log_replay_free(rp);
	vouch_log_reader_free(r);
	ok_ret(convert(be, belen, VOUCH_LOG_FORMAT_BINARY, VOUCH_LOG_ORDER_LE, &le, &lelen),
	       "big endian -> canonical");
	ok(le && lelen == olen && !memcmp(le, out, olen),
	   "binary -> big endian -> canonical is lossless");
	ok_err(convert(be, belen, VOUCH_LOG_FORMAT_KEXEC, VOUCH_LOG_ORDER_BE, &be2, &be2len),
	       -EINVAL, "the 'ima' entry cannot go into a kexec buffer");
	free(ascii);
	free(bin);
	free(be);
	free(le);
	free(be2);
}

/* Every template: build, write binary, then binary -> ascii -> binary and LE -> BE -> LE. */
static void test_round_trips(void)
{
	static const char *const templates[] = {
		"ima", "ima-ng", "ima-ngv2", "ima-sig", "ima-sigv2", "ima-buf", "ima-modsig",
		"evm-sig", "d-ng|n-ng|iuid|igid|imode|d|n|buf",
	};
	struct vouch_log_writer_options wo = VOUCH_LOG_WRITER_OPTIONS_INIT;
	vouch_log_writer *w = NULL;
	struct rt_values b;
	const uint8_t *out;
	size_t olen;

	rt_values_init(&b);
	ok_ret(vouch_log_writer_new(ctx, &wo, &w), "writer");
	for (size_t t = 0; t < ARRAY_SIZE(templates); t++) {
		struct vouch_log_field f[VOUCH_LOG_MAX_FIELDS];
		const char *fmt = templates[t];
		size_t n = rt_fields(&b, t, fmt, f);
		struct vouch_log_entry e;

		ok_ret(vouch_log_writer_append(w, (uint32_t)(t % 3 ? 10 : 9), fmt, f, n, false, &e),
		       "append a %s entry", fmt);
		ok(!strcmp(e.template_name, fmt) && e.n_fields == n, "%s entry returned", fmt);
		if (t == 1)
			ok_ret(vouch_log_writer_append(w, 10, fmt, f, n, true, NULL), "violation");
	}
	{
		struct vouch_log_field bad[2] = { { VOUCH_LOG_FIELD_D_NG, b.dng, 39 },
						  { VOUCH_LOG_FIELD_N_NG, (const uint8_t *)"x", 2 } };

		ok_err(vouch_log_writer_append(w, 10, "ima-ng", bad, 2, false, NULL), -EBADMSG,
		       "a digest of the wrong size is refused");
		bad[0].len = 40;
		ok_err(vouch_log_writer_append(w, 10, "ima-sig", bad, 2, false, NULL), -EINVAL,
		       "field count must match the template");
		ok_err(vouch_log_writer_append(w, 10, "no-such", bad, 2, false, NULL), -EINVAL,
		       "unknown template");
	}
	ok_ret(vouch_log_writer_get(w, &out, &olen), "written");
	ok(count_entries(out, olen, VOUCH_LOG_FORMAT_BINARY) == (int)ARRAY_SIZE(templates) + 1,
	   "every entry reads back");
	rt_conversions(out, olen);
	vouch_log_writer_free(w);
}


/* vouch_log_verify() of @l against Debian's sha256 PCRs 0-9 and what @pcrs_of replays to */
static int verify_pick(const uint8_t *l, size_t len, const uint8_t *pcrs_of, size_t pcrs_len,
		       uint32_t present, uint32_t flags, const vouch_trust *t,
		       struct vouch_log_verify_result *res)
{
	struct vouch_log_verify_options o = VOUCH_LOG_VERIFY_OPTIONS_INIT;
	struct vouch_pcr_bank b;
	vouch_log_reader *r = NULL;
	int k;

	if (vouch_pcr_bank_read(ctx, vec("debian-6.1/pcrs-sha256.txt"), VOUCH_HASH_SHA256, &b) < 0)
		return -EIO;
	b.present = present;
	for (uint32_t i = 10; i < VOUCH_PCR_COUNT; i++)
		if (present >> i & 1)
			pick_replay(ctx, pcrs_of, pcrs_len, VOUCH_HASH_SHA256, i, b.pcr[i]);
	o.banks = &b;
	o.n_banks = 1;
	o.trust = t;
	o.flags = flags;
	k = vouch_log_reader_new(ctx, l, len, NULL, &r);
	if (k == 0)
		k = vouch_log_verify(ctx, r, &o, res);
	vouch_log_reader_free(r);
	return k;
}

#define PICK_1_8 { 1, 10, NULL }, { 2, 10, NULL }, { 3, 10, NULL }, { 4, 10, NULL }, \
	{ 5, 10, NULL }, { 6, 10, NULL }, { 7, 10, NULL }, { 8, 10, NULL }

/*
 * Issue 13 items 1-3 in log verify, as the attacks: an entry of PCR 11 forged (PCR 11
 * values given); an entry of a PCR without values under --require-sigs; a bad signature
 * relabelled ima-buf; a list with no signatures at all under --require-sigs.
 */
static void test_verify_attacks(void)
{
	static const struct pick honest[] = { PICK_1_8, { 11, 11, NULL } };
	static const struct pick forged[] = { PICK_1_8, { 14, 11, NULL } };
	static const struct pick signed_[] = { { 1, 10, NULL }, { 9, 10, NULL }, { 14, 10, NULL },
					       { 20, 10, NULL } };
	static const struct pick in11[] = { { 1, 10, NULL }, { 14, 11, NULL }, { 20, 10, NULL } };
	static const struct pick relabel[] = { { 1, 10, NULL }, { 14, 10, NULL },
					       { 11, 10, "ima-buf" } };
	static const struct pick nosigs[] = { PICK_1_8 };
	const uint8_t *dl;
	uint8_t *deb = NULL, *lh, *lf, *ls, *l11, *lr, *ln;
	size_t deb_len = 0, nh = 0, nf = 0, ns = 0, n11 = 0, nr = 0, nn = 0;
	struct vouch_log_verify_result res;
	vouch_trust *t = NULL;
	const uint32_t p10 = 0x7ff, p11 = 0xfff, req = VOUCH_LOG_VERIFY_REQUIRE_SIGS;

	deb = slurp(vec("debian-6.1/binary_runtime_measurements"), &deb_len);
	dl = deb;
	lh = pick_list(ctx, dl, deb_len, honest, ARRAY_SIZE(honest), &nh);
	lf = pick_list(ctx, dl, deb_len, forged, ARRAY_SIZE(forged), &nf);
	ls = pick_list(ctx, dl, deb_len, signed_, ARRAY_SIZE(signed_), &ns);
	l11 = pick_list(ctx, dl, deb_len, in11, ARRAY_SIZE(in11), &n11);
	lr = pick_list(ctx, dl, deb_len, relabel, ARRAY_SIZE(relabel), &nr);
	ln = pick_list(ctx, dl, deb_len, nosigs, ARRAY_SIZE(nosigs), &nn);
	ok(lh && lf && ls && l11 && lr && ln, "lists picked from Debian's");
	ok_ret(vouch_trust_new(ctx, &t), "trust");
	ok_ret(vouch_trust_add_path(t, vec("keys/rsa2048.crt"), NULL), "rsa2048");

	ok_ret(verify_pick(lh, nh, lh, nh, p11, 0, NULL, &res), "PCR 10 and 11 replay");
	ok_err(verify_pick(lf, nf, lh, nh, p11, 0, NULL, &res), -EKEYREJECTED,
	       "attack: the PCR 11 entry forged, PCR 11 values given: not verified");
	ok_ret(verify_pick(ls, ns, ls, ns, p10, req, t, &res),
	       "--require-sigs: boot_aggregate, the _ima keyring event and two signed files");
	ok(res.sigs[VOUCH_LOG_SIG_VERIFIED] == 2 && res.buffers == 1, "2 verified, 1 buffer event");
	ok_err(verify_pick(l11, n11, l11, n11, p10, req, t, &res), -EKEYREJECTED,
	       "attack: a signed entry in PCR 11, which has no value: not attested");
	ok(res.unverified == 1, "one unverified entry");
	ok_err(verify_pick(lr, nr, lr, nr, p10, req, t, &res), -EKEYREJECTED,
	       "attack: a bad signature relabelled ima-buf fails --require-sigs");
	ok(res.unacceptable == 1, "one unacceptable entry");
	ok_err(verify_pick(ln, nn, ln, nn, p10, req, t, &res), -EKEYREJECTED,
	       "attack: a list without signatures fails --require-sigs");
	ok_ret(verify_pick(ln, nn, ln, nn, p10, 0, t, &res), "and passes without it");
	vouch_trust_free(t);
	free(lh), free(lf), free(ls), free(l11), free(lr), free(ln), free(deb);
}

static void test_pcr_files(void)
{
	char dir[] = "/tmp/vouch-test-log-XXXXXX", p[256];
	struct vouch_pcr_bank b;
	FILE *f;

	ok_ret(vouch_pcr_bank_read(ctx, vec("tpm2/pcr10-after.yaml"), VOUCH_HASH_SHA256, &b),
	       "tpm2_pcrread YAML, sha256 bank");
	ok(b.present == 1u << 10 && b.pcr[10][0] == 0xe3 && b.pcr[10][31] == 0x2d,
	   "YAML PCR 10 value");
	ok_ret(vouch_pcr_bank_read(ctx, vec("tpm2/pcr10-after.yaml"), VOUCH_HASH_SHA1, &b), "sha1");
	ok(b.pcr[10][0] == 0xd5, "YAML sha1 bank");
	ok_err(vouch_pcr_bank_read(ctx, vec("tpm2/pcr10-after.yaml"), VOUCH_HASH_SHA384, &b),
	       -ENOENT, "a bank not in the file");
	ok_ret(vouch_pcr_bank_read(ctx, vec("debian-6.1/pcrs-sha384.txt"), VOUCH_HASH_SHA384, &b),
	       "evmctl format");
	ok(b.present == 0xffffff, "24 PCRs");
	ok_err(vouch_pcr_bank_read(ctx, vec("debian-6.1/pcrs-sha384.txt"), VOUCH_HASH_SHA256, &b),
	       -EBADMSG, "values of the wrong size");
	/* Issue 13 item 7: the engine's own PCR file (STATE/pcrs, "vouch-pcrs 1") */
	{
		char eng[] = "/tmp/vouch-test-pcrs-XXXXXX";
		int fd = mkstemp(eng);
		FILE *ef = fd >= 0 ? fdopen(fd, "w") : NULL;

		if (ef) {
			fputs("vouch-pcrs 1\nentries 3\nsha1 PCR-10: 269fbcea5d158b6a4cb374d2aea0b5891a95d512\n"
			      "sha256 PCR-10: e3000000000000000000000000000000000000000000000000000000000000"
			      "2d\nsha256 PCR-11: 0000000000000000000000000000000000000000000000000000000000000000\n",
			      ef);
			fclose(ef);
		}
		ok_ret(vouch_pcr_bank_read(ctx, eng, VOUCH_HASH_SHA256, &b),
		       "the engine's PCR file is read (sha256 bank)");
		ok(b.present == (3u << 10) && b.pcr[10][0] == 0xe3 && b.pcr[10][31] == 0x2d,
		   "its sha256 PCRs 10 and 11");
		ok_ret(vouch_pcr_bank_read(ctx, eng, VOUCH_HASH_SHA1, &b), "and its sha1 bank");
		ok(b.present == 1u << 10 && b.pcr[10][0] == 0x26, "sha1 PCR 10");
		ok_err(vouch_pcr_bank_read(ctx, eng, VOUCH_HASH_SHA384, &b), -ENOENT,
		       "a bank it does not hold");
		ef = fopen(eng, "w");
		if (ef) {
			fputs("vouch-pcrs 1\nentries 3\nsha256 PCR-xx: 00\n", ef);
			fclose(ef);
		}
		ok_err(vouch_pcr_bank_read(ctx, eng, VOUCH_HASH_SHA256, &b), -EBADMSG,
		       "must fail: a malformed engine PCR line");
		unlink(eng);
	}
	/* a sysfs tree below the context root */
	ok(mkdtemp(dir) != NULL, "temp root");
	snprintf(p, sizeof(p), "%s/sys/class/tpm/tpm0/pcr-sha1", dir);
	for (char *s = p + strlen(dir) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
	snprintf(p + strlen(p), 8, "/10");
	f = fopen(p, "w");
	fputs("269FBCEA5D158B6A4CB374D2AEA0B5891A95D512\n", f);
	fclose(f);
	ok_ret(vouch_ctx_set_root(ctx, dir), "root");
	ok_ret(vouch_pcr_bank_read(ctx, NULL, VOUCH_HASH_SHA1, &b), "sysfs tree via the root");
	ok(b.present == 1u << 10 && b.pcr[10][0] == 0x26, "sysfs PCR 10");
	vouch_ctx_set_root(ctx, NULL);
	unlink(p);
	/* remove the tree, deepest first */
	for (int i = 0; i < 6; i++) {
		char *s = strrchr(p, '/');

		*s = '\0';
		rmdir(p);
	}
}

static void test_ascii_strict(void)
{
	static const char *const bad[] = {
		"10 6bdad7efa602f84ca31ffe3f11ff7c476e25dcdd ima-ng sha256:00 boot\n",
		"010 6bdad7efa602f84ca31ffe3f11ff7c476e25dcdd ima-ng sha256:" /* %2d */
		"7b6436b0c98f62380866d9432c2af0ee08ce16a171bda6951aecd95ee1307d61 boot_aggregate\n",
		"10 6BDAD7EFA602F84CA31FFE3F11FF7C476E25DCDD ima-ng sha256:"
		"7b6436b0c98f62380866d9432c2af0ee08ce16a171bda6951aecd95ee1307d61 boot_aggregate\n",
		"10 6bdad7efa602f84ca31ffe3f11ff7c476e25dcdd ima-ng sha256:"
		"7b6436b0c98f62380866d9432c2af0ee08ce16a171bda6951aecd95ee1307d61 boot_aggregate",
		"10 6bdad7efa602f84ca31ffe3f11ff7c476e25dcdd ima-ng sha256:"
		"7b6436b0c98f62380866d9432c2af0ee08ce16a171bda6951aecd95ee1307d61 boot extra\n",
	};
	const char *good = " 9 6bdad7efa602f84ca31ffe3f11ff7c476e25dcdd ima-ng sha256:"
			   "7b6436b0c98f62380866d9432c2af0ee08ce16a171bda6951aecd95ee1307d61 "
			   "boot_aggregate\n";

	ok(count_entries((const uint8_t *)good, strlen(good), VOUCH_LOG_FORMAT_AUTO) == 1,
	   "ascii ' 9' PCR line");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ok_err(count_entries((const uint8_t *)bad[i], strlen(bad[i]), VOUCH_LOG_FORMAT_ASCII),
		       -EBADMSG, "ascii must-fail %zu", i + 1);
	ok(count_entries(NULL, 0, VOUCH_LOG_FORMAT_AUTO) == 0, "an empty list has no entries");
}

/* Every allocation on the read/replay/write paths may fail without crashing or leaking. */
static void test_alloc_failures(void)
{
	size_t len;
	uint8_t *buf = slurp(tvec("log/s13.9.bin"), &len);
	int fails = 0, k = -ENOMEM;
	long n;

	for (n = 1; n < 200 && k == -ENOMEM; n++) {
		uint8_t *a = NULL;
		size_t alen;

		mem_fail_at(n);
		k = convert(buf, len, VOUCH_LOG_FORMAT_ASCII, 0, &a, &alen);
		mem_fail_at(0);
		if (k == -ENOMEM)
			fails++;
		else if (k == 0)
			ok(count_entries(a, alen, VOUCH_LOG_FORMAT_ASCII) == 5, "after %d failures", fails);
		free(a);
	}
	ok(fails > 2 && k == 0, "%d injected allocation failures, then success", fails);
	free(buf);
}

int main(void)
{
	ok_ret(vouch_ctx_new(&ctx), "context");
	ok(!strcmp(vouch_log_field_name(VOUCH_LOG_FIELD_D_MODSIG), "d-modsig") &&
		   vouch_log_field_by_name("xattrlengths") == VOUCH_LOG_FIELD_XATTRLENGTHS &&
		   vouch_log_field_by_name("nope") == -ENOENT,
	   "field names");
	test_s13_9();
	test_s13_10();
	test_s13_11();
	test_must_fail();
	test_boot_aggregate();
	test_sig_order();
	test_sigs();
	test_modsig();
	test_modsig_same_rules();
	test_sigv3();
	test_round_trips();
	test_verify_attacks();
	test_pcr_files();
	test_ascii_strict();
	test_alloc_failures();
	vouch_ctx_free(ctx);
	return tap_done();
}
