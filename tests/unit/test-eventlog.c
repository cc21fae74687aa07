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

			if (hex_decode(hex, strlen(hex), exp->banks[bank].values[pcr],
				       VOUCH_HASH_MAX_SIZE, &n) < 0)
				return -EBADMSG;
			exp->banks[bank].mask |= 1U << pcr;
		}
	}
	return exp->banks[0].mask && exp->banks[1].mask ? 0 : -ENODATA;
}

static bool same(const struct vouch_pcrs *a, const struct vouch_pcrs *b, uint32_t *diff)
{
	*diff = 0;
	for (uint32_t k = 0; k < 2; k++) {
		size_t sz = vouch_hash_info(a->banks[k].algo)->size;

		for (unsigned i = 0; i < VOUCH_PCR_COUNT; i++)
			if ((b->banks[k].mask & (1U << i)) &&
			    ((a->banks[k].mask & (1U << i)) == 0 ||
			     memcmp(a->banks[k].values[i], b->banks[k].values[i], sz)))
				*diff |= 1U << i;
		if (a->banks[k].mask != b->banks[k].mask)
			*diff |= a->banks[k].mask ^ b->banks[k].mask;
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

int main(void)
{
	static struct vouch_pcrs exp, got;
	struct vouch_eventlog_info info;
	_cleanup_free_ uint8_t *log = NULL;
	_cleanup_free_ uint8_t *pad = NULL;
	size_t len;
	uint32_t diff;
	int bad = 0;

	if (vouch_ctx_new(&ctx) < 0)
		return 1;
	if (ok_ret(expected(&exp), "tpm2_eventlog's PCRs read") < 0 ||
	    ok_ret(read_file_all(ctx, tvec("eventlog/tcg2-agile.bin"), 1 << 20, &log, &len),
		   "log read") < 0)
		return tap_done();

	two_banks(&got);
	ok_ret(vouch_eventlog_replay(ctx, log, len, &got, &info), "replay sha1 + sha256");
	ok(info.crypto_agile && info.n_algos == 2 && info.startup_locality == 0 &&
		   info.n_events == 19,
	   "header: agile, 2 banks, no locality, 19 events (got %u)", info.n_events);
	if (!ok(same(&got, &exp, &diff), "every PCR equals tpm2_eventlog's"))
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
		ok(!memcmp(got.banks[1].values[0], want, 32), "sha256 PCR 0 starts from locality 3");
		same(&got, &exp, &diff);
		ok(diff == 1U, "PCRs 1-23 equal tpm2_eventlog's (diff 0x%06x)", diff);
	}

	/* firmware padding after the last record */
	pad = malloc(len + 64);
	memcpy(pad, log, len);
	memset(pad + len, 0, 64);
	two_banks(&got);
	ok_ret(vouch_eventlog_replay(ctx, pad, len + 64, &got, &info), "zero padding tolerated");
	ok(same(&got, &exp, &diff) && info.trailing_bytes == 64, "same PCRs, 64 trailing bytes");
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
		ok(!same(&got, &exp, &diff) && diff == 1U << 14, "but PCR 14 no longer replays");
	}

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
	/* a TPM 1.2 (SHA-1 only) log: the same records without a header */
	{
		uint8_t l12[4 + 4 + 20 + 4 + 3] = { 0 };
		struct vouch_digest d;

		l12[0] = 8;
		l12[4] = 0x0d;
		memset(l12 + 8, 0x11, 20);
		l12[28] = 3;
		memset(&got, 0, sizeof(got));
		got.n_banks = 1;
		got.banks[0].algo = VOUCH_HASH_SHA1;
		ok_ret(vouch_eventlog_replay(ctx, l12, sizeof(l12), &got, &info), "SHA-1 log");
		{
			uint8_t in[40] = { 0 };

			memset(in + 20, 0x11, 20);
			vouch_digest_buf(ctx, VOUCH_HASH_SHA1, in, 40, &d);
		}
		ok(!info.crypto_agile && got.banks[0].mask == 1U << 8 &&
			   !memcmp(got.banks[0].values[8], d.bytes, 20),
		   "PCR 8 = sha1(0 || digest)");
	}
	vouch_ctx_free(ctx);
	return tap_done();
}
