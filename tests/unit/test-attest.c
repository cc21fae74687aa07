// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch_attest_verify(): every check, called directly.  The whole call passes on the swtpm
 * quote vectors (tests/vectors/quote); the measurement-list checks run on Debian 6.1's real
 * list and PCRs (tests/vectors/debian-6.1) offered with the same quote: the quote then
 * fails pcr_digest (its PCRs are another machine's), which the list checks do not depend on,
 * and each list check has its own pass and must-fail case.  Reference values and the
 * incremental state are parsed, saved and reloaded.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"
#include "pick-list.h"
#include "tap.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_trust *, vouch_trust_freep, vouch_trust_free)

static vouch_ctx *ctx;
static vouch_ak *ak;
static uint8_t nonce[64];
static size_t nonce_len;
static uint8_t *list;
static size_t list_len;
static struct vouch_pcrs debian; /* sha256 PCRs 0-10 of the Debian run */

static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *buf = NULL;

	/* a missing vector fails the test: nothing is skipped silently */
	if (read_file_all(ctx, path, 1 << 24, &buf, len) < 0) {
		ok(0, "read the vector %s: %s", path, vouch_ctx_last_error(ctx));
		*len = 0;
		return NULL;
	}
	return buf;
}

static int status(const struct vouch_attest_result *res, const char *name)
{
	for (size_t i = 0; i < res->n_checks; i++)
		if (!strcmp(res->checks[i].name, name))
			return res->checks[i].status;
	return 99; /* not run */
}

static void dump(const struct vouch_attest_result *res)
{
	for (size_t i = 0; res && i < res->n_checks; i++)
		printf("#   %-14s %4d %s\n", res->checks[i].name, res->checks[i].status,
		       res->checks[i].detail);
}

/* good.* by ak.pub with its PCR values (sha256:0,10); the evidence owns copies */
static struct vouch_evidence *quote_evidence(const char *msg)
{
	struct vouch_evidence *ev = NULL;
	char f[64];

	if (vouch_evidence_new(&ev) < 0)
		abort();
	snprintf(f, sizeof(f), "quote/%s.msg", msg);
	ev->attest = slurp(tvec(f), &ev->attest_len);
	snprintf(f, sizeof(f), "quote/%s.sig", msg);
	ev->sig = slurp(tvec(f), &ev->sig_len);
	return ev;
}

static void load_debian_pcrs(void)
{
	_cleanup_free_ uint8_t *txt = NULL;
	size_t len, got;
	const char *p;

	txt = slurp(vec("debian-6.1/pcrs-sha256.txt"), &len);
	ok_ret(vouch_pcrs_parse_selection("sha256:0-10", &debian), "selection sha256:0-10");
	for (unsigned i = 0; txt && i <= 10; i++) {
		char key[16];

		snprintf(key, sizeof(key), "PCR-%02u: ", i);
		p = strstr((const char *)txt, key);
		if (!p || hex_decode(p + 8, 64, debian.banks[0].pcr[i], 32, &got) < 0 || got != 32)
			ok(0, "PCR %u in pcrs-sha256.txt", i);
	}
}

/* The sha256 PCR 10 after the first @n entries of the Debian list. */
static void pcr10_after(uint64_t n, uint8_t out[32])
{
	vouch_log_reader *rd = NULL;
	struct vouch_log_entry e;
	uint8_t buf[64] = { 0 };

	if (vouch_log_reader_new(ctx, list, list_len, NULL, &rd) < 0) {
		ok(0, "the Debian list opens for PCR 10 after %llu entries", (unsigned long long)n);
		return;
	}
	for (uint64_t i = 0; i < n && vouch_log_next(rd, &e) > 0; i++) {
		struct vouch_digest d;

		if (vouch_log_extend_digest(ctx, &e, VOUCH_HASH_SHA256, VOUCH_LOG_BANK_HASHED, &d) < 0 ||
		    (memcpy(buf + 32, d.bytes, 32), vouch_digest_buf(ctx, VOUCH_HASH_SHA256, buf, 64,
								      &d) < 0))
			break;
		memcpy(buf, d.bytes, 32);
	}
	memcpy(out, buf, 32);
	vouch_log_reader_free(rd);
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Byte offset of entry @n (1-based) of an ima-sig/ima-buf list without a kexec header. */
static size_t entry_offset(uint64_t n)
{
	size_t off = 0;

	for (uint64_t i = 1; i < n && off + 32 <= list_len; i++) {
		uint32_t nl = le32(list + off + 24);
		uint32_t dl = le32(list + off + 28 + nl);

		off += 32 + nl + dl;
	}
	return off;
}

struct run_opts {
	const struct vouch_pcrs *pcrs;
	const uint8_t *ima;
	size_t ima_len;
	uint64_t from;
	const vouch_attest_reference *ref;
	const vouch_trust *trust;
	const struct vouch_attest_state *state;
	uint32_t flags;
	const vouch_ak *ak;
};

static int verify(const struct run_opts *r, struct vouch_attest_result **res)
{
	struct vouch_attest_verify_options o = VOUCH_ATTEST_VERIFY_OPTIONS_INIT;
	struct vouch_evidence *ev = quote_evidence("good");
	int ret;

	ev->ima_list = (uint8_t *)r->ima;
	ev->ima_list_len = r->ima_len;
	ev->ima_from_entry = r->from;
	o.flags = VOUCH_ATTEST_PCRS_HAVE_VALUES | r->flags;
	o.ak = r->ak ? r->ak : ak;
	o.nonce = nonce;
	o.nonce_len = nonce_len;
	o.pcrs = r->pcrs;
	o.reference = r->ref;
	o.trust = r->trust;
	o.state = r->state;
	*res = NULL;
	ret = vouch_attest_verify(ctx, &o, ev, res);
	ev->ima_list = NULL;
	vouch_evidence_free(ev);
	return ret;
}

static void test_quote_only(void)
{
	struct vouch_attest_verify_options o = VOUCH_ATTEST_VERIFY_OPTIONS_INIT;
	struct vouch_attest_result *res = NULL;
	struct vouch_evidence *ev = quote_evidence("good");
	_cleanup_free_ uint8_t *vals = NULL;
	struct vouch_pcrs pcrs;
	size_t len;
	int r;

	vals = slurp(tvec("quote/good.pcrs"), &len);
	vouch_pcrs_parse_selection("sha256:0,10", &pcrs);
	ok_ret(vals ? vouch_pcrs_set_values(&pcrs, vals, len) : -EIO, "good.pcrs fits");
	o.ak = ak;
	o.nonce = nonce;
	o.nonce_len = nonce_len;
	o.pcrs = &pcrs;
	o.flags = VOUCH_ATTEST_PCRS_HAVE_VALUES;
	r = vouch_attest_verify(ctx, &o, ev, &res);
	ok_err(r, 0, "the quote vectors without logs: trusted");
	ok(res && res->first_failure == -1, "no failed check");
	ok(res && status(res, "signature") == 0 && status(res, "nonce") == 0,
	   "quote checks pass");
	ok(res && status(res, "eventlog") == 1 && status(res, "ima_list") == 1,
	   "event log and list: not applicable");
	if (r)
		dump(res);
	vouch_attest_result_free(res);

	/* quote must-fail: a replayed old quote */
	vouch_evidence_free(ev);
	ev = quote_evidence("old-nonce");
	r = vouch_attest_verify(ctx, &o, ev, &res);
	ok_err(r, -EKEYREJECTED, "replayed quote: not trusted");
	ok(res && status(res, "nonce") < 0 && res->first_failure >= 0 &&
		   !strcmp(res->checks[res->first_failure].name, "nonce"),
	   "the first failure is the nonce");
	vouch_attest_result_free(res);

	/* pcr_values must-fail: evidence that lacks a requested PCR */
	o.flags = 0;
	ev->pcrs = pcrs;
	ev->pcrs.banks[0].present &= ~(1U << 10);
	r = vouch_attest_verify(ctx, &o, ev, &res);
	ok(r < 0 && res && status(res, "pcr_values") == -EBADMSG, "missing PCR 10 value fails");
	vouch_attest_result_free(res);

	/* ak_name must-fail: the evidence names another AK */
	ev->pcrs = pcrs;
	ev->ak_name = (uint8_t *)strdup("another key name");
	ev->ak_name_len = strlen((char *)ev->ak_name);
	r = vouch_attest_verify(ctx, &o, ev, &res);
	ok(r == -EKEYREJECTED && res && status(res, "ak_name") == -EKEYREJECTED,
	   "another AK's name fails");
	vouch_attest_result_free(res);

	/* the call itself */
	o.reserved[0] = 1;
	ok_err(vouch_attest_verify(ctx, &o, ev, &res), -EINVAL, "reserved must be zero");
	vouch_evidence_free(ev);
}

static vouch_attest_reference *ref_of(const char *json)
{
	vouch_attest_reference *ref = NULL;

	if (vouch_attest_reference_parse(ctx, json, strlen(json), &ref) < 0)
		printf("# %s\n", vouch_ctx_last_error(ctx));
	return ref;
}

#define REF_HEAD "{\"format\":\"vouch-reference\",\"version\":1,\"exclude\":[\"/mnt/\",\"/keys/\"," \
		 "\"/lib*\",\"_ima\",\"/bin/hello*\"],\"files\":{"
#define BUSYBOX "\"/bin/busybox\":[\"sha256:3d9f2889d6782537624a4e1a10e68a2ddd53e0ee8bac02676f27308f42ec6bf6\"],"
#define KEYCTL "\"/bin/keyctl\":\"SHA256:33833AE8FF4C4E374D918676928E280AF17DFB1AAEEDF2D93B5CF08F003A8849\","
#define LABTOOL "\"/bin/labtool\":[\"sha256:0000000000000000000000000000000000000000000000000000000000000000\",\"sha256:fdb5ad7f6c48906a66b6be1216dded4ea6c470701c3f59c375042f3a455d053d\"]"

/* pass: the list replays to PCR 10 at entry 26, boot_aggregate, templates, reference */
static void list_pass(vouch_attest_reference *ref, struct vouch_attest_state *ret_st)
{
	struct vouch_attest_result *res = NULL;
	struct run_opts ro = { .pcrs = &debian, .ima = list, .ima_len = list_len, .ref = ref };
	int r;

	r = verify(&ro, &res);
	ok(r == -EKEYREJECTED && res && status(res, "pcr_digest") < 0 &&
		   status(res, "signature") == 0 && status(res, "nonce") == 0,
	   "Debian PCRs under the swtpm quote: the quote's PCR checks fail, its signature not");
	ok(res && status(res, "ima_list") == 0, "list replays to PCR 10");
	ok(res && status(res, "ima_templates") == 0, "template digests pass");
	ok(res && status(res, "boot_aggregate") == 0, "boot_aggregate matches PCRs 0-9");
	ok(res && status(res, "reference") == 0, "every attested entry is allowed");
	ok(res && res->ima_covered && res->covered_first == 1 && res->covered_last == 26 &&
		   res->uncovered == 0 && res->first_bad_entry == 0,
	   "covered 1-26, no uncovered entry");
	ok(res && res->state.valid && res->state.entries == 26 &&
		   !memcmp(res->state.pcrs.banks[0].pcr[10], debian.banks[0].pcr[10], 32),
	   "the new state: 26 entries at the quoted PCR 10");
	for (size_t i = 0; res && i < res->n_checks; i++)
		if (res->checks[i].status < 0 && strncmp(res->checks[i].name, "pcr_", 4))
			dump(res);
	*ret_st = res ? res->state : (struct vouch_attest_state){ 0 };
	vouch_attest_result_free(res);
}

/* must-fails of the list: PCR 10, boot_aggregate, a template digest, reference values */
static void list_must_fail(vouch_attest_reference *ref, vouch_attest_reference *noref,
			   vouch_attest_reference *badref)
{
	struct vouch_attest_result *res = NULL;
	struct vouch_pcrs p = debian;
	_cleanup_free_ uint8_t *bad = NULL;
	struct run_opts ro = { .pcrs = &debian, .ima = list, .ima_len = list_len, .ref = ref };
	size_t off;

	/* ima_list must-fail: a PCR 10 the list does not reach */
	p.banks[0].pcr[10][0] ^= 1;
	ro.pcrs = &p;
	verify(&ro, &res);
	ok(res && status(res, "ima_list") == -EKEYREJECTED && !res->ima_covered && !res->state.valid,
	   "list against another PCR 10 fails");
	vouch_attest_result_free(res);

	/* boot_aggregate must-fail: PCR 0 differs */
	p = debian;
	p.banks[0].pcr[0][5] ^= 1;
	verify(&ro, &res);
	ok(res && status(res, "boot_aggregate") == -EKEYREJECTED && status(res, "ima_list") == 0,
	   "boot_aggregate against another PCR 0 fails, the list still replays");
	vouch_attest_result_free(res);
	ro.pcrs = &debian;

	/* ima_templates must-fail: entry 2's file digest altered */
	bad = malloc(list_len);
	memcpy(bad, list, list_len);
	off = entry_offset(2);
	bad[off + 32 + 7 + 4 + 4 + 8] ^= 1; /* header, "ima-sig", data len, digest len, "sha256:\0" */
	ro.ima = bad;
	verify(&ro, &res);
	ok(res && status(res, "ima_templates") == -EKEYREJECTED && res->first_bad_entry == 2,
	   "an altered entry fails its template digest, entry 2");
	vouch_attest_result_free(res);
	ro.ima = list;

	/* reference must-fail: a file not listed, and a digest not allowed */
	ro.ref = noref;
	verify(&ro, &res);
	ok(res && status(res, "reference") == -EKEYREJECTED && res->first_bad_entry == 2 &&
		   strstr(res->checks[res->n_checks - 1].detail, "not in the reference values"),
	   "busybox not in the reference values");
	vouch_attest_result_free(res);
	ro.ref = badref;
	verify(&ro, &res);
	ok(res && status(res, "reference") == -EKEYREJECTED && res->first_bad_entry == 10,
	   "labtool's digest not allowed (entry 10)");
	vouch_attest_result_free(res);
	ro.ref = NULL;
}

/* signatures: entries 1-10 verify with rsa2048; the whole list has bad ones */
static void list_signatures(const struct vouch_attest_state *st)
{
	_cleanup_(vouch_trust_freep) vouch_trust *trust = NULL, *other = NULL;
	struct vouch_attest_result *res = NULL;
	struct vouch_pcrs p = debian;
	struct run_opts ro = { .pcrs = &debian, .ima = list, .ima_len = list_len };

	ok_ret(vouch_trust_new(ctx, &trust), "trust");
	ok_ret(vouch_trust_add_path(trust, vec("keys/rsa2048.crt"), NULL), "rsa2048 trusted");
	ro.trust = trust;
	verify(&ro, &res);
	ok(res && status(res, "signatures") == -EKEYREJECTED && res->first_bad_entry > 10,
	   "bad signatures in the list fail");
	vouch_attest_result_free(res);
	/* entry 14 (hello-rsa) alone, continuing a state after entry 13: 1 signature verifies */
	{
		struct vouch_attest_state s13 = { .valid = true, .entries = 13 };

		memcpy(s13.ak, st->ak, sizeof(s13.ak));
		vouch_pcrs_parse_selection("sha256:10", &s13.pcrs);
		pcr10_after(13, s13.pcrs.banks[0].pcr[10]);
		p = debian;
		pcr10_after(14, p.banks[0].pcr[10]);
		ro.pcrs = &p;
		ro.ima = list + entry_offset(14);
		ro.ima_len = list_len - entry_offset(14);
		ro.from = 13;
		ro.state = &s13;
		verify(&ro, &res);
		ok(res && status(res, "ima_list") == 0 && res->covered_first == 14 &&
			   res->covered_last == 14 && res->uncovered == 12 &&
			   status(res, "signatures") == 0 &&
			   strstr(res->checks[res->n_checks - 1].detail, "1 signatures verified"),
		   "entry 14 after a state of 13: its signature verifies, 12 entries uncovered");
		if (res && status(res, "signatures"))
			dump(res);
		vouch_attest_result_free(res);
		ok_ret(vouch_trust_new(ctx, &other), "trust");
		ok_ret(vouch_trust_add_path(other, vec("keys/ecdsa-p256.crt"), NULL),
		       "ecdsa trusted");
		ro.trust = other;
		verify(&ro, &res);
		ok(res && status(res, "signatures") == -EKEYREJECTED && res->first_bad_entry == 14,
		   "the same signature under an untrusted key fails");
		vouch_attest_result_free(res);
		ro.ima = list;
		ro.ima_len = list_len;
		ro.from = 0;
		ro.state = NULL;
	}
	ro.trust = NULL;
	ro.pcrs = &debian;
}

/* incremental state: round 2 carries the entries after 26 (none yet) */
static void list_rounds(struct vouch_attest_state *st)
{
	struct vouch_attest_result *res = NULL;
	struct run_opts ro = { .pcrs = &debian, .ima = list, .ima_len = list_len };
	size_t off;
	int r;

	off = entry_offset(27);
	ro.ima = list + off;
	ro.ima_len = list_len - off;
	ro.from = 26;
	ro.state = st;
	verify(&ro, &res);
	ok(res && status(res, "ima_list") == 0 && res->covered_last == 26 && res->uncovered == 0 &&
		   status(res, "boot_aggregate") == 1,
	   "round 2 verifies against the state");
	vouch_attest_result_free(res);
	/* an idle machine: nothing after entry 26, the quote alone against the state */
	ro.ima = list + list_len;
	ro.ima_len = 0;
	r = verify(&ro, &res);
	ok(r == -EKEYREJECTED && res && status(res, "ima_list") == 0 && res->covered_last == 26 &&
		   res->state.valid && res->state.entries == 26,
	   "an empty tail replays the state to the quoted PCR 10 (the state stays at 26)");
	vouch_attest_result_free(res);
	ro.state = NULL;
	r = verify(&ro, &res);
	ok(r < 0 && res && status(res, "ima_list") == -EPERM && !res->state.valid,
	   "an empty tail without the state fails");
	vouch_attest_result_free(res);
	{
		struct vouch_attest_state moved = *st;

		ro.state = &moved;
		moved.pcrs.banks[0].pcr[10][0] ^= 1;
		r = verify(&ro, &res);
		ok(r == -EKEYREJECTED && res && status(res, "ima_list") == -EKEYREJECTED &&
			   !res->state.valid,
		   "an empty tail against a state that does not replay to the quote fails");
		vouch_attest_result_free(res);
	}
	ro.ima = list + off;
	ro.ima_len = list_len - off;
	ro.state = NULL;
	verify(&ro, &res);
	ok(res && status(res, "ima_list") == -EPERM, "round 2 without the state fails");
	vouch_attest_result_free(res);
	ro.state = st;
	ro.from = 25;
	verify(&ro, &res);
	ok(res && status(res, "ima_list") == -EPERM, "a state of another entry count fails");
	vouch_attest_result_free(res);
	ro.from = 26;
	st->ak[0] = st->ak[0] == '0' ? '1' : '0';
	verify(&ro, &res);
	ok(res && status(res, "state") == -EPERM && status(res, "ima_list") == -EPERM,
	   "a state of another AK fails");
	vouch_attest_result_free(res);
	st->ak[0] = st->ak[0] == '0' ? '1' : '0';
}

/* the state survives a save and a load */
static void list_state_file(const struct vouch_attest_state *st)
{
	char path[] = "/tmp/vouch-attest-XXXXXX";
	struct vouch_attest_state back;
	int fd = mkstemp(path);

	if (fd >= 0)
		close(fd);
	ok_ret(vouch_attest_state_save(ctx, path, st), "state saved");
	ok_ret(vouch_attest_state_load(ctx, path, &back), "state loaded");
	ok(back.valid && back.entries == 26 && !strcmp(back.ak, st->ak) &&
		   back.pcrs.n_banks == st->pcrs.n_banks &&
		   !memcmp(back.pcrs.banks[0].pcr[10], st->pcrs.banks[0].pcr[10], 32),
	   "the same state back");
	unlink(path);
	ok_ret(vouch_attest_state_load(ctx, path, &back), "a missing state: first round");
	ok(!back.valid, "not valid");
}

/*
 * Issue 19: a kexec restarts the list while the TPM keeps PCR 10.  The whole list, as the
 * fresh list of a kernel kexec'd after entry 7 of a list that left PCR 10 at zero (a state
 * made for the test), replays on that state; with VOUCH_ATTEST_LIST_RESTARTED its entry 1
 * is checked as the new kernel's boot_aggregate, without it is judged as a file.
 */
static void list_restart(const struct vouch_attest_state *st, const vouch_attest_reference *ref)
{
	struct vouch_attest_state kept = *st;
	struct vouch_attest_result *res = NULL;
	struct run_opts ro = { .pcrs = &debian, .ima = list, .ima_len = list_len, .from = 7,
			       .ref = ref, .state = &kept, .flags = VOUCH_ATTEST_LIST_RESTARTED };
	size_t off;
	int r;

	kept.entries = 7;
	for (uint32_t b = 0; b < kept.pcrs.n_banks; b++)
		for (uint32_t i = 10; i < VOUCH_PCR_COUNT; i++)
			memset(kept.pcrs.banks[b].pcr[i], 0, sizeof(kept.pcrs.banks[b].pcr[i]));
	/* the quote vectors are of another selection: the list's own checks are what count */
	verify(&ro, &res);
	ok(res && status(res, "ima_list") == 0 && status(res, "boot_aggregate") == 0 &&
		   status(res, "reference") == 0 && res->covered_first == 8 &&
		   res->state.entries == 7 + 26,
	   "a restarted list chains on the state: its boot_aggregate checked, entries 8-33");
	vouch_attest_result_free(res);
	ro.flags = 0;
	r = verify(&ro, &res);
	ok(r == -EKEYREJECTED && res && status(res, "boot_aggregate") == 1 &&
		   status(res, "reference") == -EKEYREJECTED,
	   "without the flag the new kernel's boot_aggregate is judged as a file");
	vouch_attest_result_free(res);
	/* must-fail: a "restart" whose first entry is no boot_aggregate */
	off = entry_offset(27);
	ro.ima = list + off;
	ro.ima_len = list_len - off;
	ro.from = 26;
	ro.state = st;
	ro.flags = VOUCH_ATTEST_LIST_RESTARTED;
	r = verify(&ro, &res);
	ok(r == -EKEYREJECTED && res && status(res, "boot_aggregate") == -EKEYREJECTED,
	   "a restart that does not start with a boot_aggregate fails");
	vouch_attest_result_free(res);
}

static void test_list(void)
{
	vouch_attest_reference *ref = ref_of(REF_HEAD BUSYBOX KEYCTL LABTOOL "}}");
	vouch_attest_reference *noref = ref_of(REF_HEAD KEYCTL LABTOOL "}}");
	vouch_attest_reference *badref = ref_of(REF_HEAD BUSYBOX KEYCTL
						"\"/bin/labtool\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"}}");
	struct vouch_attest_state st;

	ok(ref && noref && badref, "reference values parse");
	list_pass(ref, &st);
	list_must_fail(ref, noref, badref);
	list_signatures(&st);
	list_rounds(&st);
	list_restart(&st, ref);
	list_state_file(&st);
	vouch_attest_reference_free(ref);
	vouch_attest_reference_free(noref);
	vouch_attest_reference_free(badref);
}


/* @sel with Debian's PCRs 0-9 and, from 10 up, what @l replays to */
static void pick_pcrs(struct vouch_pcrs *p, const char *sel, const uint8_t *l, size_t len)
{
	vouch_pcrs_parse_selection(sel, p);
	for (uint32_t b = 0; b < p->n_banks; b++)
		for (uint32_t i = 0; i < VOUCH_PCR_COUNT; i++) {
			if (!(p->banks[b].present >> i & 1))
				continue;
			if (i < 10 && p->banks[b].algo == VOUCH_HASH_SHA256)
				memcpy(p->banks[b].pcr[i], debian.banks[0].pcr[i], 32);
			else if (i >= 10 && l)
				pick_replay(ctx, l, len, p->banks[b].algo, i, p->banks[b].pcr[i]);
		}
}

#define PICK_1_10 { 1, 10, NULL }, { 2, 10, NULL }, { 3, 10, NULL }, { 4, 10, NULL }, \
	{ 5, 10, NULL }, { 6, 10, NULL }, { 7, 10, NULL }, { 8, 10, NULL }, { 9, 10, NULL }, \
	{ 10, 10, NULL }

/*
 * Issue 13 item 1, the attack: the kernel extended an entry into PCR 11 (policy pcr=11); it
 * must be replayed into PCR 11 and judged, and deleting or forging it must break the
 * replay of the quoted PCR 11.  An entry of a PCR the quote does not cover is not attested.
 */
static void test_pcr_binding(void)
{
	static const struct pick honest[] = { PICK_1_10, { 11, 11, NULL } }; /* hello-badsig */
	static const struct pick deleted[] = { PICK_1_10 };
	static const struct pick forged[] = { PICK_1_10, { 14, 11, NULL } }; /* hello-rsa */
	static const struct pick unquoted[] = { { 1, 10, NULL }, { 3, 10, NULL }, { 2, 11, NULL },
						{ 4, 10, NULL } };
	_cleanup_(vouch_trust_freep) vouch_trust *trust = NULL;
	_cleanup_free_ uint8_t *lh = NULL, *ld = NULL, *lf = NULL, *lu = NULL;
	vouch_attest_reference *ref = ref_of(REF_HEAD BUSYBOX KEYCTL LABTOOL "}}");
	struct vouch_attest_result *res = NULL;
	size_t nh = 0, nd = 0, nf = 0, nu = 0;
	struct vouch_pcrs p;
	struct run_opts ro = { .pcrs = &p };

	lh = pick_list(ctx, list, list_len, honest, ARRAY_SIZE(honest), &nh);
	ld = pick_list(ctx, list, list_len, deleted, ARRAY_SIZE(deleted), &nd);
	lf = pick_list(ctx, list, list_len, forged, ARRAY_SIZE(forged), &nf);
	lu = pick_list(ctx, list, list_len, unquoted, ARRAY_SIZE(unquoted), &nu);
	ok(lh && ld && lf && lu && ref, "lists with an entry in PCR 11");
	ok_ret(vouch_trust_new(ctx, &trust), "trust");
	ok_ret(vouch_trust_add_path(trust, vec("keys/rsa2048.crt"), NULL), "rsa2048 trusted");
	ro.trust = trust;
	pick_pcrs(&p, "sha256:0-11", lh, nh);

	ro.ima = lh, ro.ima_len = nh;
	verify(&ro, &res);
	if (!ok(res && status(res, "ima_list") == 0 && res->covered_last == 11 &&
		   status(res, "signatures") == -EKEYREJECTED && res->first_bad_entry == 11,
	   "the PCR 11 entry with a bad signature is attested and judged: not trusted"))
		dump(res);
	vouch_attest_result_free(res);

	/* the attacks: the PCR 11 entry deleted, or forged */
	{
		const struct {
			const uint8_t *l;
			size_t n;
			const char *what;
		} attacks[] = {
			{ ld, nd, "deleted, PCR 11 quoted" },
			{ lf, nf, "forged (a good one instead)" },
		};

		for (size_t i = 0; i < ARRAY_SIZE(attacks); i++) {
			ro.ima = attacks[i].l, ro.ima_len = attacks[i].n;
			verify(&ro, &res);
			if (!ok(res && status(res, "ima_list") == -EKEYREJECTED && !res->ima_covered,
				"attack: the PCR 11 entry %s: the list does not replay", attacks[i].what))
				dump(res);
			vouch_attest_result_free(res);
		}
	}

	/* busybox (allowed by the reference values) in PCR 11, which is not quoted */
	pick_pcrs(&p, "sha256:0-10", lu, nu);
	ro.ima = lu, ro.ima_len = nu, ro.trust = NULL, ro.ref = ref;
	verify(&ro, &res);
	if (!ok(res && status(res, "ima_list") == 0 && res->covered_last == 4 && res->unverified == 1 &&
		   status(res, "reference") == -EKEYREJECTED && res->first_bad_entry == 3 &&
		   strstr(res->checks[res->n_checks - 1].detail, "not quoted"),
	   "attack: an entry of an unquoted PCR is not attested: the reference check fails"))
		dump(res);
	vouch_attest_result_free(res);
	vouch_attest_reference_free(ref);
}

/*
 * Issue 13 item 2, the attack: the template name is not in the template digest; an ima-sig
 * entry with a bad signature relabelled ima-buf (same field layout, the signature read as
 * the buffer) replays the same and must still fail, under --trust and under reference
 * values.  The kernel's real ima-buf entry (the _ima keyring, entry 9) stays acceptable.
 */
static void test_labels(void)
{
	static const struct pick relabel[] = { PICK_1_10, { 11, 10, "ima-buf" } };
	static const struct pick clean[] = { { 1, 10, NULL }, { 9, 10, NULL }, { 14, 10, NULL },
					     { 20, 10, NULL } };
	_cleanup_(vouch_trust_freep) vouch_trust *trust = NULL;
	_cleanup_free_ uint8_t *lr = NULL, *lc = NULL;
	vouch_attest_reference *ref = ref_of(
		REF_HEAD BUSYBOX KEYCTL LABTOOL ",\"/mnt/test/bin/hello-badsig\":\"sha256:"
		"a7f7a50f962fa6ea1556d0d7941fce35a22bdd839245d5b023db8304c70116ca\"}}");
	struct vouch_attest_result *res = NULL;
	size_t nr = 0, nc = 0;
	struct vouch_pcrs p;
	struct run_opts ro = { .pcrs = &p };

	lr = pick_list(ctx, list, list_len, relabel, ARRAY_SIZE(relabel), &nr);
	lc = pick_list(ctx, list, list_len, clean, ARRAY_SIZE(clean), &nc);
	ok(lr && lc && ref, "a list with hello-badsig relabelled ima-buf");
	ok_ret(vouch_trust_new(ctx, &trust), "trust");
	ok_ret(vouch_trust_add_path(trust, vec("keys/rsa2048.crt"), NULL), "rsa2048 trusted");
	pick_pcrs(&p, "sha256:0-10", lr, nr);
	ro.ima = lr, ro.ima_len = nr, ro.trust = trust;
	verify(&ro, &res);
	if (!ok(res && status(res, "ima_list") == 0 && status(res, "signatures") == -EKEYREJECTED &&
		   res->first_bad_entry == 11,
	   "attack: bad signature relabelled ima-buf: the signature check still fails"))
		dump(res);
	vouch_attest_result_free(res);
	ro.trust = NULL, ro.ref = ref;
	verify(&ro, &res);
	if (!ok(res && status(res, "reference") == -EKEYREJECTED && res->first_bad_entry == 11,
	   "attack: the relabelled entry fails the reference values too"))
		dump(res);
	vouch_attest_result_free(res);

	/* boot_aggregate, the _ima keyring's ima-buf and two verified files: all required sigs */
	pick_pcrs(&p, "sha256:0-10", lc, nc);
	ro.ima = lc, ro.ima_len = nc, ro.trust = trust, ro.ref = NULL;
	ro.flags = VOUCH_ATTEST_REQUIRE_SIGS;
	verify(&ro, &res);
	if (!ok(res && status(res, "signatures") == 0 && status(res, "boot_aggregate") == 0 &&
		   strstr(res->checks[res->n_checks - 1].detail, "1 buffer events"),
	   "--require-sigs: boot_aggregate and the kernel's keyring event need no signature"))
		dump(res);
	vouch_attest_result_free(res);
	ro.flags = 0;
	vouch_attest_reference_free(ref);
}

/* Issue 13 item 3, the attack: a list without a single signature under --require-sigs. */
static void test_require_sigs(void)
{
	static const struct pick unsigned_[] = { PICK_1_10 };
	_cleanup_(vouch_trust_freep) vouch_trust *trust = NULL;
	_cleanup_free_ uint8_t *l = NULL;
	struct vouch_attest_result *res = NULL;
	size_t n = 0;
	struct vouch_pcrs p;
	struct run_opts ro = { .pcrs = &p, .flags = VOUCH_ATTEST_REQUIRE_SIGS };

	l = pick_list(ctx, list, list_len, unsigned_, ARRAY_SIZE(unsigned_), &n);
	ok_ret(vouch_trust_new(ctx, &trust), "trust");
	ok_ret(vouch_trust_add_path(trust, vec("keys/rsa2048.crt"), NULL), "rsa2048 trusted");
	pick_pcrs(&p, "sha256:0-10", l, n);
	ro.ima = l, ro.ima_len = n, ro.trust = trust;
	verify(&ro, &res);
	if (!ok(res && status(res, "signatures") == -EKEYREJECTED && res->first_bad_entry == 2 &&
		   strstr(res->checks[res->n_checks - 1].detail, "signature none"),
	   "attack: unsigned files under --require-sigs fail"))
		dump(res);
	vouch_attest_result_free(res);
	ro.trust = NULL;
	ok_err(verify(&ro, &res), -EINVAL, "--require-sigs without a trust store is refused");
}

/*
 * Issue 13 item 4, the attack on the state: sha256:10+sha1:10, sha1 listed last.  The saved
 * state must hold each bank's own replay, and the next round must verify against it.
 */
static void test_state_banks(void)
{
	static const struct pick first[] = { PICK_1_10 };
	_cleanup_free_ uint8_t *l = NULL;
	struct vouch_attest_result *res = NULL;
	uint8_t want[32];
	size_t n = 0;
	struct vouch_pcrs p;
	struct run_opts ro = { .pcrs = &p };
	struct vouch_attest_state st = { 0 };

	l = pick_list(ctx, list, list_len, first, ARRAY_SIZE(first), &n);
	pick_pcrs(&p, "sha256:10+sha1:10", l, n);
	ro.ima = l, ro.ima_len = n;
	verify(&ro, &res);
	pick_replay(ctx, l, n, VOUCH_HASH_SHA256, 10, want);
	ok(res && status(res, "ima_list") == 0 && res->state.valid &&
		   res->state.pcrs.banks[0].algo == VOUCH_HASH_SHA256 &&
		   !memcmp(res->state.pcrs.banks[0].pcr[10], want, 32),
	   "attack: sha256 bank first, sha1 last: the state holds the sha256 replay");
	if (res)
		st = res->state;
	vouch_attest_result_free(res);
	/* round 2: nothing new, the state must match the quote again */
	ro.ima = l + n, ro.ima_len = 0, ro.from = 10, ro.state = &st;
	verify(&ro, &res);
	if (!ok(res && status(res, "ima_list") == 0 && res->covered_last == 10,
	   "the next round verifies against that state"))
		dump(res);
	vouch_attest_result_free(res);
}

/* Issue 13 item 5: an AK given as PEM cannot have its attributes checked; say so, or fail. */
static void test_ak_attributes(void)
{
	struct vouch_attest_result *res = NULL;
	vouch_ak *pem = NULL;
	struct run_opts ro = { .pcrs = &debian };

	ok_ret(vouch_ak_load(ctx, tvec("quote/ak.pem"), &pem), "the AK as PEM");
	ro.ak = pem;
	verify(&ro, &res);
	ok(res && status(res, "ak_attributes") == 1 && !res->ak_attributes_verified &&
		   status(res, "signature") == 0,
	   "attack: a PEM AK verifies the quote, but the verdict says its attributes are unchecked");
	vouch_attest_result_free(res);
	ro.flags = VOUCH_ATTEST_REQUIRE_AK_PUBLIC_AREA;
	verify(&ro, &res);
	ok(res && status(res, "ak_attributes") == -EPERM, "and fails when a TPM public area is required");
	vouch_attest_result_free(res);
	ro.ak = NULL;
	verify(&ro, &res);
	ok(res && status(res, "ak_attributes") == 0 && res->ak_attributes_verified,
	   "the TPM2B_PUBLIC AK: restricted signing key checked");
	vouch_attest_result_free(res);
	vouch_ak_free(pem);
}

#define AK64 "\"ak\":\"0000000000000000000000000000000000000000000000000000000000000000\","
#define ST "{\"format\":\"vouch-attest-state\",\"version\":1,"
#define ST0 "{\"format\":\"vouch-attest-state\","
#define Z40 "0000000000000000000000000000000000000000"
#define Z38 "00000000000000000000000000000000000000"

static void test_parsers(void)
{
	static const char *bad_ref[] = {
		"", "[]", "{\"format\":\"vouch-reference\"}", "{\"format\":1,\"files\":{}}",
		"{\"format\":\"vouch-reference\",\"files\":[]}",
		"{\"format\":\"vouch-reference\",\"files\":{},\"exclude\":\"/tmp\"}",
		"{\"format\":\"vouch-reference\",\"files\":{},\"exclude\":[1]}",
		"{\"format\":\"vouch-reference\",\"files\":{\"/a\":1}}",
		"{\"format\":\"vouch-reference\",\"files\":{\"/a\":[null]}}",
		"{\"format\":\"vouch-reference\",\"files\":{}} x",
	};
	static const char *bad_state[] = {
		"", "{}", ST "\"ak\":\"00\",\"entries\":1,\"pcrs\":{}}",
		ST AK64 "\"entries\":-1,\"pcrs\":{}}",
		ST AK64 "\"entries\":1,\"pcrs\":{\"nosuch\":{}}}",
		ST AK64 "\"entries\":1,\"pcrs\":{\"sha1\":{\"24\":\"" Z40 "\"}}}",
		ST AK64 "\"entries\":1,\"pcrs\":{\"sha1\":{\"10\":\"zz" Z38 "\"}}}",
		/* another version, none, one spelt as a string, a member this version lacks */
		ST0 "\"version\":2," AK64 "\"entries\":1,\"pcrs\":{}}",
		ST0 AK64 "\"entries\":1,\"pcrs\":{}}",
		ST0 "\"version\":\"1\"," AK64 "\"entries\":1,\"pcrs\":{}}",
		ST AK64 "\"entries\":1,\"pcrs\":{},\"boot\":7}",
	};
	const char *good = ST AK64 "\"entries\":3,\"pcrs\":{\"sha1\":{\"10\":\"01" Z38 "\"}}}";
	struct vouch_attest_state st;
	vouch_attest_reference *ref = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(bad_ref); i++)
		ok_err(vouch_attest_reference_parse(ctx, bad_ref[i], strlen(bad_ref[i]), &ref),
		       -EBADMSG, "malformed reference values %zu rejected", i);
	for (size_t i = 0; i < ARRAY_SIZE(bad_state); i++)
		ok_err(vouch_attest_state_parse(ctx, bad_state[i], strlen(bad_state[i]), &st),
		       -EBADMSG, "malformed state %zu rejected", i);
	ok_ret(vouch_attest_state_parse(ctx, good, strlen(good), &st), "a state parses");
	ok(st.valid && st.entries == 3 && st.pcrs.banks[0].pcr[10][0] == 1 &&
		   st.pcrs.banks[0].present == 1U << 10,
	   "its values");
}

#define REF "{\"format\":\"vouch-reference\",\"files\":"

static void refused(bool state, const char *doc, const char *why, const char *name)
{
	vouch_attest_reference *ref = NULL;
	struct vouch_attest_state st;
	int r = state ? vouch_attest_state_parse(ctx, doc, strlen(doc), &st)
		      : vouch_attest_reference_parse(ctx, doc, strlen(doc), &ref);
	const char *msg = r == -EBADMSG ? vouch_ctx_last_error(ctx) : "(accepted)";

	ok(r == -EBADMSG && msg && strstr(msg, why), "%s with %s refused: %s",
	   state ? "state" : "reference", name, msg);
	vouch_attest_reference_free(ref);
}

/* the lenient reader's tricks, as an attacker writes them into reference values and state */
static void test_strict_json(void)
{
	refused(false, REF "{\"/usr/bin/a\":\"sha256:" Z40 "\" /* or anything */}}", "comment",
		"a comment");
	refused(false, REF "{'/usr/bin/a':'sha256:" Z40 "'}}", "single quote", "single quotes");
	refused(false, REF "{\"/usr/bin/a\":[\"sha256:" Z40 "\",]}}", "trailing comma",
		"a trailing comma");
	/* the reviewer reads the first value, a lenient reader keeps the second */
	refused(false, REF "{\"/usr/bin/a\":\"sha256:" Z40 "\",\"/usr/bin/a\":\"sha256:" Z38 "01\"}}",
		"duplicate key '/usr/bin/a'", "a duplicate file");
	refused(false, REF "{},\"exclude\":[],\"exclude\":[\"/\"]}", "duplicate key 'exclude'",
		"a duplicate exclude list");
	refused(false, REF "{\"/usr/bin/a\":[]}}", "empty", "an empty digest list");
	refused(true, ST AK64 "\"entries\":010,\"pcrs\":{}}", "leading zero", "a leading zero");
	refused(true, ST AK64 "\"entries\":18446744073709551615,\"pcrs\":{}}", "out of range",
		"entries of 2^64-1");
	refused(true, ST AK64 "\"entries\":1e3,\"pcrs\":{}}", "entries", "fractional entries");
	refused(true, ST AK64 "\"entries\":1,\"entries\":0,\"pcrs\":{}}", "duplicate key 'entries'",
		"duplicate entries");
	refused(true, ST AK64 "\"entries\":1,\"pcrs\":{\"sha1\":{\"10\":\"" Z40 "\",\"10\":\"01" Z38
			      "\"}}}",
		"duplicate key '10'", "a duplicate PCR");
	refused(true, ST AK64 "\"entries\":1,\"pcrs\":{\"sha1\":{\"010\":\"" Z40 "\"}}}", "PCR index",
		"a PCR index with a leading zero");
}

/* vouch_evidence_new() is the one constructor: empty evidence, released with its buffers */
static void test_evidence_new(void)
{
	struct vouch_evidence *ev = NULL;

	ok_err(vouch_evidence_new(NULL), -EINVAL, "vouch_evidence_new(NULL)");
	ok_ret(vouch_evidence_new(&ev), "vouch_evidence_new");
	ok(ev && !ev->attest && !ev->sig && !ev->ima_list && !ev->eventlog && !ev->ak_name &&
	       !ev->attest_len && !ev->ima_from_entry && !ev->pcrs.n_banks,
	   "the new evidence is empty");
	if (ev) {
		ev->attest = malloc(4);
		ev->attest_len = ev->attest ? 4 : 0;
	}
	vouch_evidence_free(ev); /* frees what it points to: valgrind and ASan see a leak otherwise */
	vouch_evidence_free(NULL);
}

int main(void)
{
	_cleanup_free_ uint8_t *hex = NULL;
	size_t len;

	if (vouch_ctx_new(&ctx) < 0)
		return 1;
	ok_ret(vouch_ak_load(ctx, tvec("quote/ak.pub"), &ak), "AK");
	hex = slurp(tvec("quote/nonce.hex"), &len);
	while (hex && len && (hex[len - 1] == '\n' || hex[len - 1] == ' '))
		len--;
	ok(hex && hex_decode((const char *)hex, len, nonce, sizeof(nonce), &nonce_len) == 0,
	   "nonce");
	list = slurp(vec("debian-6.1/binary_runtime_measurements"), &list_len);
	ok(list != NULL, "Debian list");
	load_debian_pcrs();
	if (ak && list) {
		test_quote_only();
		test_list();
		test_pcr_binding();
		test_labels();
		test_require_sigs();
		test_state_banks();
		test_ak_attributes();
	}
	test_parsers();
	test_strict_json();
	test_evidence_new();
	free(list);
	vouch_ak_free(ak);
	vouch_ctx_free(ctx);
	return tap_done();
}
