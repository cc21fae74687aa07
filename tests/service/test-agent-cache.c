// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd's per-agent cache (service/vouchd-cache.c): a hit only for the same id, stored
 * fingerprint and AK bytes; another AK under the same id, or a fingerprint that is not the
 * stored AK's, is never answered from the cache; states are reused only for the same text.
 *
 * Copyright (C) 2026 The vouch authors
 */
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

	if (vouch_ctx_new(&ctx) < 0 || agent_cache_new(&c) < 0)
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
	free(ecc.ak);
	free(rsa.ak);
	agent_cache_free(c);
	vouch_ctx_free(ctx);
	return tap_done();
}
