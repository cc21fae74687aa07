// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd's per-agent cache (service/vouchd-cache.c): a hit only for the same id, stored
 * fingerprint and AK bytes; another AK under the same id, or a fingerprint that is not the
 * stored AK's, is never answered from the cache; states are reused only for the same text.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <malloc.h>

#include "vouchd.h"
#include "tap.h"

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(1 << 16);

	*len = f && buf ? fread(buf, 1, 1 << 16, f) : 0;
	if (f)
		fclose(f);
	return buf;
}

static void fpr_of(vouch_ctx *ctx, const uint8_t *b, size_t n, char out[65])
{
	vouch_ak *ak = NULL;
	char *pem = NULL;
	struct vouch_digest d;

	out[0] = '\0';
	if (vouch_ak_load_mem(ctx, b, n, &ak) == 0 && vouch_ak_export_pem(ctx, ak, &pem) == 0 &&
	    vouch_digest_buf(ctx, VOUCH_HASH_SHA256, pem, strlen(pem), &d) == 0)
		vouch_digest_to_hex(&d, out, 65);
	vouch_free(pem);
	vouch_ak_free(ak);
}

/* a state with @banks (a selection such as "sha1:0-7+sha256:10"), PCR values a pattern */
static char *state_doc(vouch_ctx *ctx, const char *fpr, const char *banks, uint64_t entries,
		       struct vouch_attest_state *st)
{
	char *json = NULL;

	memset(st, 0, sizeof(*st));
	st->valid = true;
	st->entries = entries;
	snprintf(st->ak, sizeof(st->ak), "%s", fpr);
	if (vouch_pcrs_parse_selection(banks, &st->pcrs) < 0)
		return NULL;
	for (uint32_t b = 0; b < st->pcrs.n_banks; b++)
		for (unsigned i = 0; i < VOUCH_PCR_COUNT; i++)
			memset(st->pcrs.banks[b].pcr[i], (int)(b * 31 + i + entries), VOUCH_HASH_MAX_SIZE);
	if (vouch_attest_state_format(ctx, st, &json) < 0)
		return NULL;
	return json;
}

static bool same_state(const struct vouch_attest_state *a, const struct vouch_attest_state *b)
{
	if (a->valid != b->valid || a->entries != b->entries || strcmp(a->ak, b->ak) != 0 ||
	    a->pcrs.n_banks != b->pcrs.n_banks)
		return false;
	for (uint32_t i = 0; i < a->pcrs.n_banks; i++) {
		const struct vouch_pcr_bank *x = &a->pcrs.banks[i], *y = &b->pcrs.banks[i];
		const struct vouch_hash_info *hi = vouch_hash_info(x->algo);

		if (x->algo != y->algo || x->present != y->present || !hi)
			return false;
		for (unsigned p = 0; p < VOUCH_PCR_COUNT; p++)
			if ((x->present & (1u << p)) && memcmp(x->pcr[p], y->pcr[p], hi->size) != 0)
				return false;
	}
	return true;
}

/* one set of four: a fifth agent evicts the least recently used, the others stay */
static void lru(vouch_ctx *ctx, const struct store_agent *proto)
{
	struct agent_cache *c = NULL;
	struct store_agent a = *proto;
	const vouch_ak *k;
	uint64_t hits, misses;

	ok_ret(agent_cache_new(4, &c), "a cache of 4");
	ok(agent_cache_capacity(c) == 4, "capacity 4");
	for (int i = 0; i < 5; i++) {
		snprintf(a.id, sizeof(a.id), "lru%d", i);
		agent_cache_ak(c, ctx, &a, &k);
		if (i == 3) { /* lru0 used again: lru1 is now the oldest */
			snprintf(a.id, sizeof(a.id), "lru0");
			agent_cache_ak(c, ctx, &a, &k);
		}
	}
	agent_cache_stats(c, &hits, &misses);
	ok(hits == 1 && misses == 5, "5 agents: 5 misses, lru0 hit once (%llu, %llu)",
	   (unsigned long long)hits, (unsigned long long)misses);
	for (int i = 0; i < 5; i++) {
		snprintf(a.id, sizeof(a.id), "lru%d", i);
		agent_cache_ak(c, ctx, &a, &k);
		agent_cache_stats(c, &hits, &misses);
		if (i == 1)
			ok(misses == 6, "lru1, the least recently used, was evicted");
		else if (i == 0)
			ok(hits == 2, "lru0, used again before the fifth came, stayed");
	}
	agent_cache_free(c);
}

/* the packed state gives back every selected PCR of every bank, and nothing else */
static void packed_states(vouch_ctx *ctx, const struct store_agent *a)
{
	struct agent_cache *c = NULL;
	struct vouch_attest_state st, got;
	const vouch_ak *k;
	char *json = NULL;

	ok_ret(agent_cache_new(8, &c), "a cache of 8");
	agent_cache_ak(c, ctx, a, &k);
	json = state_doc(ctx, a->ak_fpr, "sha1:0-7+sha256:10+sha384:16,23+sha512:all", 7, &st);
	ok(json != NULL, "a state of four banks");
	ok_ret(agent_cache_state(c, ctx, a->id, json, &got), "parsed, packed");
	ok(same_state(&st, &got), "the parsed state is the state");
	memset(&got, 0xa5, sizeof(got));
	ok_ret(agent_cache_state(c, ctx, a->id, json, &got), "from the cache");
	ok(same_state(&st, &got), "the unpacked state is the state, all four banks");
	got.pcrs.banks[3].pcr[5][63] ^= 1;
	ok(!same_state(&st, &got), "(the comparison sees a changed PCR value)");
	vouch_free(json);
	agent_cache_free(c);
}

/* heap bytes per cached agent: ≤ 4 KiB with a P-256 or an RSA-2048 AK and a sha256:10
 * state; and a cache of 256 stays at 256 entries' worth however many agents pass */
static void memory(vouch_ctx *ctx, const struct store_agent *ecc, const struct store_agent *rsa)
{
	const struct store_agent *protos[2] = { ecc, rsa };
	const char *names[2] = { "P-256", "RSA-2048" };

	for (int p = 0; p < 2; p++) {
		struct agent_cache *c = NULL;
		struct store_agent a = *protos[p];
		struct vouch_attest_state st, got;
		struct mallinfo2 m0, m1;
		const vouch_ak *k;
		char *json = state_doc(ctx, a.ak_fpr, "sha256:10", 1000, &st);
		size_t per, n = 1000;
		bool all = json != NULL;

		m0 = mallinfo2();
		all = all && agent_cache_new(1024, &c) == 0;
		for (size_t i = 0; all && i < n; i++) {
			snprintf(a.id, sizeof(a.id), "agent-%zu", i);
			all = agent_cache_ak(c, ctx, &a, &k) == 0 &&
			      agent_cache_state(c, ctx, a.id, json, &got) == 0;
		}
		m1 = mallinfo2();
		per = (m1.uordblks - m0.uordblks) / n;
		ok(all, "%zu %s agents cached", n, names[p]);
		if (m1.uordblks == m0.uordblks) { /* a sanitizer's allocator: no statistics */
			tap_skip("memory per agent: mallinfo2() counts nothing under this allocator");
			agent_cache_free(c);
			vouch_free(json);
			continue;
		}
		ok(per <= 4096, "%s: %zu bytes of hot state per agent (limit 4096)", names[p], per);
		agent_cache_free(c);

		m0 = mallinfo2();
		all = all && agent_cache_new(256, &c) == 0;
		for (size_t i = 0; all && i < 4 * n; i++) {
			snprintf(a.id, sizeof(a.id), "agent-%zu", i);
			all = agent_cache_ak(c, ctx, &a, &k) == 0 &&
			      agent_cache_state(c, ctx, a.id, json, &got) == 0;
		}
		m1 = mallinfo2();
		ok(all && m1.uordblks - m0.uordblks <= 256 * 4096,
		   "%s: 4000 agents through a cache of 256 hold %zu bytes (bound %d)", names[p],
		   (size_t)(m1.uordblks - m0.uordblks), 256 * 4096);
		agent_cache_free(c);
		vouch_free(json);
	}
}

int main(void)
{
	vouch_ctx *ctx = NULL;
	struct agent_cache *c = NULL;
	struct store_agent ecc = { .id = "agent1" }, rsa = { .id = "agent1" }, x;
	const vouch_ak *k1 = NULL, *k2 = NULL, *k3 = NULL;
	struct vouch_attest_state vs, st = { .valid = true, .entries = 3 };
	uint64_t hits, misses, before;
	struct vouch_ak_info info;
	char *json = NULL, *json2 = NULL;

	if (vouch_ctx_new(&ctx) < 0 || agent_cache_new(64, &c) < 0)
		return 1;
	ecc.ak = slurp(vec("tpm2/ak-ecc.pem"), &ecc.ak_len);
	rsa.ak = slurp(vec("tpm2/ak-rsa.pem"), &rsa.ak_len);
	fpr_of(ctx, ecc.ak, ecc.ak_len, ecc.ak_fpr);
	fpr_of(ctx, rsa.ak, rsa.ak_len, rsa.ak_fpr);
	ok(ecc.ak_fpr[0] && rsa.ak_fpr[0] && strcmp(ecc.ak_fpr, rsa.ak_fpr), "two AKs");

	ok_ret(agent_cache_ak(c, ctx, &ecc, &k1), "first lookup decodes");
	ok_ret(agent_cache_ak(c, ctx, &ecc, &k2), "second lookup");
	ok(k1 && k1 == k2, "the same decoded AK is answered");
	agent_cache_stats(c, &hits, &misses);
	ok(hits == 1 && misses == 1, "one hit, one miss");

	/* the stored AK changed (another AK, its own fingerprint): decoded again, not reused */
	ok_ret(agent_cache_ak(c, ctx, &rsa, &k3), "another AK under the same id");
	ok(k3 && vouch_ak_get_info(k3, &info) == 0 && info.key_type == VOUCH_KEY_RSA,
	   "... is the new (RSA) AK");
	/* bytes of one AK, fingerprint of another: refused, cached or not */
	x = rsa;
	memcpy(x.ak_fpr, ecc.ak_fpr, sizeof(x.ak_fpr));
	ok_err(agent_cache_ak(c, ctx, &x, &k3), -EIO, "RSA bytes with the ECC fingerprint: refused");
	x = ecc;
	memcpy(x.ak_fpr, rsa.ak_fpr, sizeof(x.ak_fpr));
	ok_err(agent_cache_ak(c, ctx, &x, &k3), -EIO, "ECC bytes with the RSA fingerprint: refused");
	/* the cached AK's fingerprint with other bytes: a miss, then refused */
	ok_ret(agent_cache_ak(c, ctx, &ecc, &k1), "ECC again");
	x = rsa;
	memcpy(x.ak_fpr, ecc.ak_fpr, sizeof(x.ak_fpr));
	ok_err(agent_cache_ak(c, ctx, &x, &k3), -EIO, "cached fingerprint, other bytes: refused");
	/* another id never gets agent1's entry */
	x = ecc;
	snprintf(x.id, sizeof(x.id), "agent2");
	ok_ret(agent_cache_ak(c, ctx, &ecc, &k1), "agent1 cached");
	agent_cache_stats(c, &hits, &misses);
	before = misses;
	ok_ret(agent_cache_ak(c, ctx, &x, &k2), "agent2 with the same AK");
	agent_cache_stats(c, &hits, &misses);
	ok(misses == before + 1, "... is a miss: an entry is never another id's");

	/* states: the same text is parsed once; other text is parsed again */
	ok_ret(agent_cache_ak(c, ctx, &ecc, &k1), "agent1");
	snprintf(st.ak, sizeof(st.ak), "%s", ecc.ak_fpr);
	vouch_pcrs_parse_selection("sha256:10", &st.pcrs);
	ok_ret(vouch_attest_state_format(ctx, &st, &json), "a state document");
	st.entries = 19;
	ok_ret(vouch_attest_state_format(ctx, &st, &json2), "another");
	ok_ret(agent_cache_state(c, ctx, "agent1", json, &vs), "state parsed");
	ok(vs.entries == 3, "3 entries");
	ok_ret(agent_cache_state(c, ctx, "agent1", json2, &vs), "other text");
	ok(vs.entries == 19, "19 entries: not the cached state");
	ok_err(agent_cache_state(c, ctx, "agent1", "{}", &vs), -EBADMSG, "not a state: refused");
	agent_cache_state_put(c, "agent1", json, &st);
	ok_ret(agent_cache_state(c, ctx, "agent1", json, &vs), "put, then the same text");
	ok(vs.entries == 19, "the state put with that text");

	vouch_free(json);
	vouch_free(json2);
	agent_cache_free(c);
	c = NULL;

	lru(ctx, &ecc);
	packed_states(ctx, &ecc);
	memory(ctx, &ecc, &rsa);

	free(ecc.ak);
	free(rsa.ak);
	agent_cache_free(c);
	vouch_ctx_free(ctx);
	return tap_done();
}
