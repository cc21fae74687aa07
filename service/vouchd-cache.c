// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd: a bounded per-agent cache of what every attestation would otherwise decode again
 * from the store: the AK (vouch_ak_load_mem() decodes the key and fingerprints it, an
 * OpenSSL encoder run of ~100 us) and the parsed verified state.
 *
 * The store stays the truth.  Every request still reads the agent's row and state; the
 * cache only answers when what it holds was made from exactly those bytes: the same agent
 * id, the same stored AK fingerprint AND the same AK bytes, the same state text.  Anything
 * else is a miss, decoded afresh (and, for an AK, its fingerprint recomputed and compared
 * with the stored one: a row whose AK and fingerprint disagree is refused, never cached).
 * CACHE_SLOTS direct-mapped slots by a hash of the id: memory is bounded (a slot holds one
 * AK and one state document), a colliding agent evicts the other.  One event loop, so no
 * locking.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include "vouchd.h"

struct cache_slot {
	char id[STORE_ID_MAX + 1];
	char ak_fpr[65];
	uint8_t *ak_bytes;
	size_t ak_len;
	vouch_ak *ak;
	char *state_json; /* the stored text @state was parsed from; NULL = none */
	struct vouch_attest_state state;
};

struct agent_cache {
	struct cache_slot slot[CACHE_SLOTS];
	uint64_t hits, misses;
};

int agent_cache_new(struct agent_cache **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

static void slot_clear(struct cache_slot *s)
{
	vouch_ak_free(s->ak);
	free(s->ak_bytes);
	free(s->state_json);
	memset(s, 0, sizeof(*s));
}

void agent_cache_free(struct agent_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		slot_clear(&c->slot[i]);
	free(c);
}

void agent_cache_stats(const struct agent_cache *c, uint64_t *hits, uint64_t *misses)
{
	*hits = c ? c->hits : 0;
	*misses = c ? c->misses : 0;
}

/* FNV-1a */
static struct cache_slot *slot_of(struct agent_cache *c, const char *id)
{
	uint32_t h = 2166136261U;

	for (const char *p = id; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619U;
	return &c->slot[h % CACHE_SLOTS];
}

static int fingerprint(vouch_ctx *ctx, const vouch_ak *ak, char fpr[65])
{
	_cleanup_free_ char *pem = NULL;
	struct vouch_digest d;
	int r = vouch_ak_export_pem(ctx, ak, &pem);

	if (r == 0)
		r = vouch_digest_buf(ctx, VOUCH_HASH_SHA256, pem, strlen(pem), &d);
	if (r == 0)
		r = vouch_digest_to_hex(&d, fpr, 65);
	return r;
}

/*
 * The AK of the stored record @a, owned by the cache: valid until the next agent_cache_*()
 * call for another agent.  -EIO when the stored AK does not load or does not match its
 * stored fingerprint.
 */
int agent_cache_ak(struct agent_cache *c, vouch_ctx *ctx, const struct store_agent *a,
		   const vouch_ak **ret)
{
	struct cache_slot *s = slot_of(c, a->id);
	_cleanup_(ak_freep) vouch_ak *ak = NULL;
	char fpr[65];

	if (s->ak && strcmp(s->id, a->id) == 0 && strcmp(s->ak_fpr, a->ak_fpr) == 0 &&
	    s->ak_len == a->ak_len && memcmp(s->ak_bytes, a->ak, a->ak_len) == 0) {
		c->hits++;
		*ret = s->ak;
		return 0;
	}
	c->misses++;
	if (vouch_ak_load_mem(ctx, a->ak, a->ak_len, &ak) < 0 || fingerprint(ctx, ak, fpr) < 0 ||
	    strcmp(fpr, a->ak_fpr) != 0)
		return -EIO;
	slot_clear(s);
	s->ak_bytes = malloc(a->ak_len);
	if (!s->ak_bytes)
		return -ENOMEM;
	memcpy(s->ak_bytes, a->ak, a->ak_len);
	s->ak_len = a->ak_len;
	snprintf(s->id, sizeof(s->id), "%s", a->id);
	snprintf(s->ak_fpr, sizeof(s->ak_fpr), "%s", a->ak_fpr);
	s->ak = TAKE_PTR(ak);
	*ret = s->ak;
	return 0;
}

/*
 * The parsed state of agent @id from its stored text @json; call after agent_cache_ak() for
 * the same agent (the slot belongs to it then).  -EBADMSG when @json is not a state.
 */
int agent_cache_state(struct agent_cache *c, vouch_ctx *ctx, const char *id, const char *json,
		      struct vouch_attest_state *ret)
{
	struct cache_slot *s = slot_of(c, id);
	struct vouch_attest_state st;
	int r;

	if (s->ak && strcmp(s->id, id) == 0 && s->state_json && strcmp(s->state_json, json) == 0) {
		*ret = s->state;
		return 0;
	}
	r = vouch_attest_state_parse(ctx, json, strlen(json), &st);
	if (r < 0)
		return r;
	agent_cache_state_put(c, id, json, &st);
	*ret = st;
	return 0;
}

/* after a commit: @json (the text just stored) is the state @st of @id */
void agent_cache_state_put(struct agent_cache *c, const char *id, const char *json,
			   const struct vouch_attest_state *st)
{
	struct cache_slot *s = slot_of(c, id);

	if (!s->ak || strcmp(s->id, id) != 0)
		return;
	free(s->state_json);
	s->state_json = strdup(json);
	s->state = *st;
}
