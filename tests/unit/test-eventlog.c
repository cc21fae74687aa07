// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Firmware event log replay against tpm2_eventlog's PCRs; malformed logs; quirks.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"
#include "tap.h"

static vouch_ctx *ctx;

/* the "pcrs:" section of tpm2_eventlog's output */
static int expected(struct vouch_pcrs *exp)
{
	_cleanup_fclose_ FILE *f = fopen(tvec("eventlog/tpm2_eventlog.txt"), "re");
	char line[512];
	bool in = false;
	int bank = -1;

	memset(exp, 0, sizeof(*exp));
	exp->n_banks = 2;
	exp->banks[0].algo = VOUCH_HASH_SHA1;
	exp->banks[1].algo = VOUCH_HASH_SHA256;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned pcr;
		char hex[200];

		if (!strncmp(line, "pcrs:", 5)) {
			in = true;
			continue;
		}
		if (!in)
			continue;
		if (strstr(line, "sha1:"))
			bank = 0;
		else if (strstr(line, "sha256:"))
			bank = 1;
		else if (bank >= 0 && sscanf(line, " %u : 0x%199[0-9a-f]", &pcr, hex) == 2 &&
			 pcr < VOUCH_PCR_COUNT) {
			size_t n;

			if (hex_decode(hex, strlen(hex), exp->banks[bank].pcr[pcr],
				       VOUCH_HASH_MAX_SIZE, &n) < 0)
				return -EBADMSG;
			exp->banks[bank].present |= 1U << pcr;
		}
	}
	return exp->banks[0].present && exp->banks[1].present ? 0 : -ENODATA;
}

static bool same(const struct vouch_pcrs *a, const struct vouch_pcrs *b, uint32_t *diff)
{
	*diff = 0;
	for (uint32_t k = 0; k < 2; k++) {
		size_t sz = vouch_hash_info(a->banks[k].algo)->size;

		for (unsigned i = 0; i < VOUCH_PCR_COUNT; i++)
			if ((b->banks[k].present & (1U << i)) &&
			    ((a->banks[k].present & (1U << i)) == 0 ||
			     memcmp(a->banks[k].pcr[i], b->banks[k].pcr[i], sz)))
				*diff |= 1U << i;
		if (a->banks[k].present != b->banks[k].present)
			*diff |= a->banks[k].present ^ b->banks[k].present;
	}
	return *diff == 0;
}

static void two_banks(struct vouch_pcrs *p)
{
	memset(p, 0, sizeof(*p));
	p->n_banks = 2;
	p->banks[0].algo = VOUCH_HASH_SHA1;
	p->banks[1].algo = VOUCH_HASH_SHA256;
}


struct seen {
	uint32_t n;
	uint32_t type[32];
	enum vouch_eventlog_binding binding[32];
	uint32_t bound_len[32];
	bool bound_in_data[32];
};

static int collect(const struct vouch_eventlog_event *e, void *userdata)
{
	struct seen *s = userdata;

	if (s->n < 32) {
		s->type[s->n] = e->type;
		s->binding[s->n] = e->binding;
		s->bound_len[s->n] = e->bound_len;
		s->bound_in_data[s->n] = e->bound ? e->bound >= e->data &&
							    e->bound + e->bound_len <= e->data + e->data_len
						  : e->bound_len == 0;
	}
	s->n++;
	return 0;
}

/* the guest's /sys/class/tpm/tpm0/pcr-ALG/ values ("PCR-00: HEX") of the SeaBIOS capture */
static int seabios_pcrs(struct vouch_pcrs *exp)
{
	static const char *const names[] = { "sha1", "sha256", "sha384", "sha512" };
	static const int algos[] = { VOUCH_HASH_SHA1, VOUCH_HASH_SHA256, VOUCH_HASH_SHA384,
				     VOUCH_HASH_SHA512 };

	memset(exp, 0, sizeof(*exp));
	exp->n_banks = 4;
	for (unsigned b = 0; b < 4; b++) {
		char path[64], line[256], hex[200];
		_cleanup_fclose_ FILE *f = NULL;
		unsigned pcr;

		snprintf(path, sizeof(path), "eventlog/seabios-pcrs-%s.txt", names[b]);
		f = fopen(tvec(path), "re");
		if (!f)
			return -errno;
		exp->banks[b].algo = algos[b];
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "PCR-%u: %199[0-9A-Fa-f]", &pcr, hex) == 2 && pcr <= 7) {
				if (hex_decode(hex, strlen(hex), exp->banks[b].pcr[pcr],
					       VOUCH_HASH_MAX_SIZE, NULL) < 0)
					return -EBADMSG;
				exp->banks[b].present |= 1U << pcr;
			}
		if (exp->banks[b].present != 0xff)
			return -ENODATA;
	}
	return 0;
}

static void four_banks(struct vouch_pcrs *p)
{
	memset(p, 0, sizeof(*p));
	p->n_banks = 4;
	p->banks[0].algo = VOUCH_HASH_SHA1;
	p->banks[1].algo = VOUCH_HASH_SHA256;
	p->banks[2].algo = VOUCH_HASH_SHA384;
	p->banks[3].algo = VOUCH_HASH_SHA512;
}

static void sha256_only(struct vouch_pcrs *p)
{
	memset(p, 0, sizeof(*p));
	p->n_banks = 1;
	p->banks[0].algo = VOUCH_HASH_SHA256;
}

/* Issue 13 item 17: the real SeaBIOS log (tests/vectors/eventlog/make-seabios.sh) and its
 * tampered twins.  Records: 14 events after the Spec ID header; the last (offset 2709) is
 * PCR 7's EV_SEPARATOR 0xffffffff, the sixth (offset 1162) PCR 4's EV_ACTION "Calling INT
 * 19h", the first (offset 77) PCR 1's SMBIOS EV_EVENT_TAG. */
static void seabios(void)
{
	static struct vouch_pcrs exp, got;
	_cleanup_free_ uint8_t *log = NULL, *t = NULL;
	struct vouch_eventlog_info info;
	size_t len;

	if (ok_ret(seabios_pcrs(&exp), "SeaBIOS guest PCRs read") < 0 ||
	    ok_ret(read_file_all(ctx, tvec("eventlog/seabios.bin"), 1 << 20, &log, &len),
		   "SeaBIOS log read") < 0)
		return;
	t = malloc(len);
	if (!t)
		return;
	four_banks(&got);
	ok_ret(vouch_eventlog_replay(ctx, log, len, &got, &info), "SeaBIOS log replays, 4 banks");
	ok(info.crypto_agile && info.n_algos == 4 && info.n_events == 14, "agile, 4 banks, 14 events");
	{
		bool same8 = true;

		for (unsigned b = 0; b < 4; b++) {
			size_t sz = vouch_hash_info(exp.banks[b].algo)->size;

			same8 &= (got.banks[b].present & 0xff) == 0xff;
			for (unsigned i = 0; i <= 7; i++)
				same8 &= !memcmp(got.banks[b].pcr[i], exp.banks[b].pcr[i], sz);
		}
		ok(same8, "PCRs 0-7 of every bank equal the guest's sysfs values");
	}

	/* the twin: PCR 7's separator data 0xffffffff -> 0xfffffffe, digests unchanged, so
	 * the replay (and the quote) still match: only the data/digest check can see it */
	memcpy(t, log, len);
	ok(get_be32(t + len - 4) == 0xffffffff, "the last record's data is 0xffffffff");
	t[len - 1] = 0xfe;
	sha256_only(&got);
	ok_err(vouch_eventlog_replay(ctx, t, len, &got, NULL), -EKEYREJECTED,
	       "EV_SEPARATOR data not what its digest covers: rejected");
	ok(strstr(vouch_ctx_last_error(ctx), "event 14") != NULL, "the diagnostic names event 14 (%s)",
	   vouch_ctx_last_error(ctx));

	/* sibling: an EV_ACTION string rewritten */
	memcpy(t, log, len);
	ok(!memcmp(t + 1365 - 15, "Calling INT 19h", 15), "found the EV_ACTION");
	t[1365 - 3] = '8';
	four_banks(&got);
	ok_err(vouch_eventlog_replay(ctx, t, len, &got, NULL), -EKEYREJECTED,
	       "EV_ACTION string not what its digest covers: rejected");

	/* every bank present: only the sha1 digest of PCR 7's separator is wrong, and only
	 * sha256 is replayed */
	memcpy(t, log, len);
	ok(t[2709 + 8] == 4 && t[2709 + 12] == 0x04 && t[2709 + 13] == 0,
	   "found the separator's sha1 digest");
	t[2709 + 12 + 2] ^= 1;
	sha256_only(&got);
	ok_err(vouch_eventlog_replay(ctx, t, len, &got, NULL), -EKEYREJECTED,
	       "a wrong digest in a bank not replayed: rejected");

	/* the SMBIOS EV_EVENT_TAG: SeaBIOS's digest is of the SMBIOS tables, not of the event
	 * data, so its data is free; changing it leaves a good log */
	memcpy(t, log, len);
	t[77 + 12 + 4 * 2 + 20 + 32 + 48 + 64 + 4 + 10] ^= 1;
	four_banks(&got);
	ok_ret(vouch_eventlog_replay(ctx, t, len, &got, NULL), "EV_EVENT_TAG data is not covered");

	{
		struct seen s = { 0 };
		bool sep = true;

		ok_ret(vouch_eventlog_foreach(ctx, log, len, collect, &s), "foreach over SeaBIOS");
		for (unsigned i = 6; i < 14; i++)
			sep &= s.type[i] == 0x4 && s.binding[i] == VOUCH_EVENTLOG_BOUND;
		ok(s.n == 14 && s.binding[0] == VOUCH_EVENTLOG_UNBOUND && s.type[0] == 0x6 &&
			   s.binding[1] == VOUCH_EVENTLOG_BOUND && s.binding[5] == VOUCH_EVENTLOG_BOUND &&
			   sep,
		   "EV_EVENT_TAGs unbound; EV_ACTIONs and the 8 EV_SEPARATORs bound");
	}
}

/* a sha256-only crypto agile log: the Spec ID header, then records appended by add() */
struct mini {
	uint8_t buf[1024];
	size_t len;
};

static void mini_init(struct mini *m)
{
	static const uint8_t spec[] = "Spec ID Event03";
	uint8_t *p = m->buf;

	memset(m, 0, sizeof(*m));
	put_le32(p + 4, 3);			/* pcr 0, EV_NO_ACTION, 20 zero bytes */
	put_le32(p + 28, 16 + 4 + 4 + 4 + 4 + 1);
	memcpy(p + 32, spec, 16);		/* platform class 0, version 2.0.2, uintn 2 */
	p[32 + 21] = 2;
	p[32 + 22] = 2;
	p[32 + 23] = 2;
	put_le32(p + 32 + 24, 1);
	p[32 + 28] = 0x0b;			/* sha256, 32 bytes, no vendor info */
	p[32 + 30] = 32;
	m->len = 32 + 16 + 4 + 4 + 4 + 4 + 1;
}

/* a record whose sha256 digest is H(@digest_of) */
static void mini_add(struct mini *m, uint32_t pcr, uint32_t type, const void *data, size_t len,
		     const void *digest_of, size_t digest_len)
{
	struct vouch_digest d;
	uint8_t *p = m->buf + m->len;

	vouch_digest_buf(ctx, VOUCH_HASH_SHA256, digest_of, digest_len, &d);
	put_le32(p, pcr);
	put_le32(p + 4, type);
	put_le32(p + 8, 1);
	p[12] = 0x0b;
	memcpy(p + 14, d.bytes, 32);
	put_le32(p + 46, (uint32_t)len);
	memcpy(p + 50, data, len);
	m->len += 50 + len;
}

/* the rules of the binding table on small logs */
static void binding_rules(void)
{
	static const uint8_t one[4] = { 1, 0, 0, 0 }, ff[4] = { 0xff, 0xff, 0xff, 0xff };
	static struct vouch_pcrs got;
	uint8_t var[16 + 8 + 8 + 8 + 3] = { 0 };
	struct mini m;
	struct seen s;

	/* an error separator: digest H(00000001), data anything: unbound, not rejected */
	mini_init(&m);
	mini_add(&m, 7, 0x4, "oops", 4, one, 4);
	sha256_only(&got);
	ok_ret(vouch_eventlog_replay(ctx, m.buf, m.len, &got, NULL), "error separator accepted");
	memset(&s, 0, sizeof(s));
	ok_ret(vouch_eventlog_foreach(ctx, m.buf, m.len, collect, &s), "foreach");
	ok(s.n == 1 && s.binding[0] == VOUCH_EVENTLOG_UNBOUND, "error separator: data unbound");

	/* UEFI_VARIABLE_DATA: GUID, name length 4, data length 3, "Boot", 3 bytes */
	put_le32(var + 16, 4);
	put_le32(var + 24, 3);
	memcpy(var + 32, "B\0o\0o\0t\0", 8);
	memcpy(var + 40, "abc", 3);
	mini_init(&m);
	mini_add(&m, 1, 0x80000002, var, sizeof(var), var, sizeof(var));	/* the spec's */
	mini_add(&m, 1, 0x80000002, var, sizeof(var), "abc", 3);		/* EDK2's */
	mini_add(&m, 7, 0x800000e0, var, sizeof(var), "abc", 3);
	mini_add(&m, 1, 0x80000001, var, sizeof(var), var, sizeof(var));
	mini_add(&m, 7, 0x4, ff, 4, ff, 4);
	mini_add(&m, 4, 0x80000003, "image path", 10, "the image", 9);
	memset(&s, 0, sizeof(s));
	ok_ret(vouch_eventlog_foreach(ctx, m.buf, m.len, collect, &s), "variables, separator, image");
	ok(s.n == 6 && s.binding[0] == VOUCH_EVENTLOG_BOUND &&
		   s.binding[1] == VOUCH_EVENTLOG_VARIABLE_DATA &&
		   s.binding[2] == VOUCH_EVENTLOG_VARIABLE_DATA &&
		   s.binding[3] == VOUCH_EVENTLOG_BOUND && s.binding[4] == VOUCH_EVENTLOG_BOUND &&
		   s.binding[5] == VOUCH_EVENTLOG_UNBOUND,
	   "bound, VariableData only (BOOT, AUTHORITY), bound, bound, unbound");
	ok(s.bound_len[0] == sizeof(var) && s.bound_len[1] == 3 && s.bound_len[2] == 3 &&
		   s.bound_len[4] == 4 && s.bound_len[5] == 0 && s.bound_in_data[0] &&
		   s.bound_in_data[1] && s.bound_in_data[5],
	   "the bound part: whole data, the VariableData, nothing");

	/* must-fail: a driver-config variable only its VariableData hashes to (the name and
	 * GUID would be free), and one whose data is another's */
	mini_init(&m);
	mini_add(&m, 7, 0x80000001, var, sizeof(var), "abc", 3);
	sha256_only(&got);
	ok_err(vouch_eventlog_replay(ctx, m.buf, m.len, &got, NULL), -EKEYREJECTED,
	       "EV_EFI_VARIABLE_DRIVER_CONFIG must cover the whole UEFI_VARIABLE_DATA");
	mini_init(&m);
	mini_add(&m, 1, 0x80000002, var, sizeof(var), "abd", 3);
	ok_err(vouch_eventlog_replay(ctx, m.buf, m.len, &got, NULL), -EKEYREJECTED,
	       "EV_EFI_VARIABLE_BOOT covering neither form: rejected");
	mini_init(&m);
	mini_add(&m, 5, 0x80000007, "Exit Boot Services Invocation", 29,
		 "Exit Boot Services Returned with Success", 40);
	ok_err(vouch_eventlog_replay(ctx, m.buf, m.len, &got, NULL), -EKEYREJECTED,
	       "EV_EFI_ACTION string that is not the one hashed: rejected");
	memset(&s, 0, sizeof(s));
	ok_err(vouch_eventlog_foreach(ctx, m.buf, m.len, collect, &s), -EKEYREJECTED,
	       "foreach rejects it too");
	ok(s.n == 0, "and hands over no record of a bad log");
	mini_init(&m);
	mini_add(&m, 0, 0x8, "1.0", 3, "2.0", 3);
	ok_err(vouch_eventlog_replay(ctx, m.buf, m.len, &got, NULL), -EKEYREJECTED,
	       "EV_S_CRTM_VERSION not the one hashed: rejected");

	ok_streq(vouch_eventlog_type_name(0x4), "EV_SEPARATOR", "type name");
	ok(vouch_eventlog_type_name(0x12345) == NULL, "unknown type: NULL");
}

/* the tpm2_eventlog vector: replay, header and a StartupLocality 3 variant */
static void test_agile(const uint8_t *log, size_t len, const struct vouch_pcrs *exp)
{
	static struct vouch_pcrs got;
	struct vouch_eventlog_info info;
	uint32_t diff;

	two_banks(&got);
	ok_ret(vouch_eventlog_replay(ctx, log, len, &got, &info), "replay sha1 + sha256");
	ok(info.crypto_agile && info.n_algos == 2 && info.startup_locality == 0 &&
		   info.n_events == 19,
	   "header: agile, 2 banks, no locality, 19 events (got %u)", info.n_events);
	if (!ok(same(&got, exp, &diff), "every PCR equals tpm2_eventlog's"))
		printf("#   differing PCRs: 0x%06x\n", diff);

	/* StartupLocality 3: PCR 0 starts at 00..03 (FORMATS §12.5; tpm2-tools 5.4 instead
	 * extends the EV_NO_ACTION's zero digest, so PCR 0 is checked against hashlib) */
	{
		_cleanup_free_ uint8_t *loc = NULL;
		static const char pcr0[] =
			"4146f3382f0ce764fd6c3c14c978a5a193774bab2a11ce0783bec77f747e197d";
		uint8_t want[32];
		size_t loc_len;

		hex_decode(pcr0, 64, want, sizeof(want), NULL);
		read_file_all(ctx, tvec("eventlog/tcg2-locality.bin"), 1 << 20, &loc, &loc_len);
		two_banks(&got);
		ok_ret(vouch_eventlog_replay(ctx, loc, loc_len, &got, &info), "replay with locality");
		ok(info.startup_locality == 3 && info.n_events == 20, "locality 3, 20 events");
		ok(!memcmp(got.banks[1].pcr[0], want, 32), "sha256 PCR 0 starts from locality 3");
		same(&got, exp, &diff);
		ok(diff == 1U, "PCRs 1-23 equal tpm2_eventlog's (diff 0x%06x)", diff);
	}
}

/* firmware padding after the last record; a record relabelled EV_NO_ACTION */
static void test_padding_relabel(const uint8_t *log, size_t len, const struct vouch_pcrs *exp)
{
	static struct vouch_pcrs got;
	struct vouch_eventlog_info info;
	_cleanup_free_ uint8_t *pad = NULL;
	uint32_t diff;

	pad = malloc(len + 64);
	memcpy(pad, log, len);
	memset(pad + len, 0, 64);
	two_banks(&got);
	ok_ret(vouch_eventlog_replay(ctx, pad, len + 64, &got, &info), "zero padding tolerated");
	ok(same(&got, exp, &diff) && info.trailing_bytes == 64, "same PCRs, 64 trailing bytes");
	memset(pad + len, 0xff, 64);
	two_banks(&got);
	ok_ret(vouch_eventlog_replay(ctx, pad, len + 64, &got, &info), "0xff padding tolerated");
	pad[len + 10] = 0x01;
	two_banks(&got);
	ok_err(vouch_eventlog_replay(ctx, pad, len + 64, &got, &info), -EBADMSG,
	       "garbage after the last record is malformed");

	/* the type is not covered by the digest: relabelling an event EV_NO_ACTION hides it,
	 * which changes the replay (and so fails against the quote) */
	{
		/* the last record is PCR 14 "MokList": pcr(4) type(4) ... */
		size_t off = len - (4 + 4 + 4 + 2 + 20 + 2 + 32 + 4 + 7);

		memcpy(pad, log, len);
		ok(get_be32(pad + off) == 0x0e000000, "found the last record");
		put_le32(pad + off + 4, 3);
		two_banks(&got);
		ok_ret(vouch_eventlog_replay(ctx, pad, len, &got, &info), "relabelled log parses");
		ok(!same(&got, exp, &diff) && diff == 1U << 14, "but PCR 14 no longer replays");
	}
}

/* a missing bank, every truncation, an algorithm the header does not list */
static void test_bad_logs(const uint8_t *log, size_t len)
{
	static struct vouch_pcrs got;
	_cleanup_free_ uint8_t *pad = malloc(len);
	int bad = 0;

	/* a bank the log does not have */
	memset(&got, 0, sizeof(got));
	got.n_banks = 1;
	got.banks[0].algo = VOUCH_HASH_SHA384;
	ok_err(vouch_eventlog_replay(ctx, log, len, &got, NULL), -ENODATA, "no sha384 bank");

	/* every truncation: a valid shorter log or -EBADMSG, never a crash */
	for (size_t n = 0; n < len; n++) {
		int r;

		two_banks(&got);
		r = vouch_eventlog_replay(ctx, log, n, &got, NULL);
		bad += r != 0 && r != -EBADMSG && r != -ENODATA;
	}
	ok(bad == 0, "truncations are handled");

	/* an algorithm missing from the Spec ID table */
	memcpy(pad, log, len);
	{
		/* first agile record right after the header: pcr, type, count, alg */
		size_t hdr = 32 + 24 + 4 + 2 * 4 + 1;

		ok(pad[hdr + 12] == 0x04 && pad[hdr + 13] == 0x00, "first record's first digest is sha1");
		pad[hdr + 12] = 0x0c; /* sha384, not in the table */
		two_banks(&got);
		ok_err(vouch_eventlog_replay(ctx, pad, len, &got, NULL), -EBADMSG,
		       "algorithm not in the Spec ID table");
	}
}

/* a TPM 1.2 (SHA-1 only) log: the same records without a header */
static void test_tpm12(void)
{
	static struct vouch_pcrs got;
	struct vouch_eventlog_info info;
	uint8_t l12[4 + 4 + 20 + 4 + 3] = { 0 };
	uint8_t in[40] = { 0 };
	struct vouch_digest d;

	l12[0] = 8;
	l12[4] = 0x0d;
	memset(l12 + 8, 0x11, 20);
	l12[28] = 3;
	memset(&got, 0, sizeof(got));
	got.n_banks = 1;
	got.banks[0].algo = VOUCH_HASH_SHA1;
	ok_ret(vouch_eventlog_replay(ctx, l12, sizeof(l12), &got, &info), "SHA-1 log");
	memset(in + 20, 0x11, 20);
	vouch_digest_buf(ctx, VOUCH_HASH_SHA1, in, 40, &d);
	ok(!info.crypto_agile && got.banks[0].present == 1U << 8 &&
		   !memcmp(got.banks[0].pcr[8], d.bytes, 20),
	   "PCR 8 = sha1(0 || digest)");
}

int main(void)
{
	static struct vouch_pcrs exp;
	_cleanup_free_ uint8_t *log = NULL;
	size_t len;

	if (vouch_ctx_new(&ctx) < 0)
		return 1;
	if (ok_ret(expected(&exp), "tpm2_eventlog's PCRs read") < 0 ||
	    ok_ret(read_file_all(ctx, tvec("eventlog/tcg2-agile.bin"), 1 << 20, &log, &len),
		   "log read") < 0)
		return tap_done();
	test_agile(log, len, &exp);
	test_padding_relabel(log, len, &exp);
	test_bad_logs(log, len);
	test_tpm12();
	seabios();
	binding_rules();
	vouch_ctx_free(ctx);
	return tap_done();
}
