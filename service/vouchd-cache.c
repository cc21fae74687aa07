// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd: a bounded per-agent cache of what every attestation would otherwise decode again
 * from the store: the AK (vouch_ak_load_mem() decodes the key and fingerprints it, an
 * OpenSSL encoder run of ~100 us) and the parsed verified state.
 *
 * The store stays the truth.  Every request still reads the agent's row and state; the
 * cache only answers when what it holds was made from exactly those bytes: the same agent
 * id, the same stored AK fingerprint AND the same AK bytes (by SHA-256), the same state text
 * (by SHA-256).  Anything else is a miss, decoded afresh (and, for an AK, its fingerprint
 * recomputed and compared with the stored one: a row whose AK and fingerprint disagree is
 * refused, never cached).
 *
 * Memory is the point (vouchd(8), MEMORY): a node serves any number of agents with a fixed
 * number of entries, --cache-agents (rounded up to whole sets of CACHE_WAYS).  An entry holds
 * the decoded AK (an OpenSSL EVP_PKEY: ~2.5 KiB for P-256, ~1.5 KiB for RSA-2048), two
 * hashes and the state in packed form (the PCR values of the selected PCRs only: a
 * struct vouch_attest_state is 12 KiB, its sha256:10 content 32 bytes).  Set-associative
 * (CACHE_WAYS ways, the least recently used evicted), so agents that hash to one set do not
 * thrash while the cache has room.  One event loop, so no locking.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include "vouchd.h"

#include <openssl/sha.h>

#define CACHE_WAYS 4

struct cache_slot {
	char id[STORE_ID_MAX + 1];
	char ak_fpr[65];
	uint8_t ak_hash[SHA256_DIGEST_LENGTH]; /* of the stored AK bytes @ak was decoded from */
	uint8_t state_hash[SHA256_DIGEST_LENGTH]; /* of the stored state text; with @packed */
	vouch_ak *ak; /* NULL: the slot is free */
	uint8_t *packed; /* the state (pack_state()); NULL: none */
	uint64_t used; /* the lookup clock at the last use: LRU within the set */
};

struct agent_cache {
	size_t n_sets;
	uint64_t clock;
	uint64_t hits, misses;
	struct cache_slot slot[]; /* n_sets * CACHE_WAYS */
};

/*
 * A state, packed: valid, entries, the AK fingerprint, then per bank the algorithm, the
 * selection mask and the values of the selected PCRs only, at the bank's digest size.
 */
struct packed_head {
	uint64_t entries;
	char ak[65];
	bool valid;
	uint32_t n_banks;
};

static size_t bank_values_size(const struct vouch_pcr_bank *b)
{
	const struct vouch_hash_info *hi = vouch_hash_info(b->algo);

	return hi ? (size_t)__builtin_popcount(b->present) * hi->size : 0;
}

static uint8_t *pack_state(const struct vouch_attest_state *st)
{
	size_t len = sizeof(struct packed_head);
	struct packed_head h = { .entries = st->entries, .valid = st->valid,
				 .n_banks = st->pcrs.n_banks };
	uint8_t *buf, *p;

	if (h.n_banks > VOUCH_PCR_MAX_BANKS)
		return NULL;
	for (uint32_t i = 0; i < h.n_banks; i++)
		len += sizeof(int) + sizeof(uint32_t) + bank_values_size(&st->pcrs.banks[i]);
	buf = malloc(len);
	if (!buf)
		return NULL;
	memcpy(h.ak, st->ak, sizeof(h.ak));
	memcpy(buf, &h, sizeof(h));
	p = buf + sizeof(h);
	for (uint32_t i = 0; i < h.n_banks; i++) {
		const struct vouch_pcr_bank *b = &st->pcrs.banks[i];
		const struct vouch_hash_info *hi = vouch_hash_info(b->algo);

		memcpy(p, &b->algo, sizeof(int));
		p += sizeof(int);
		memcpy(p, &b->present, sizeof(uint32_t));
		p += sizeof(uint32_t);
		for (unsigned pcr = 0; hi && pcr < VOUCH_PCR_COUNT; pcr++)
			if (b->present & (1u << pcr)) {
				memcpy(p, b->pcr[pcr], hi->size);
				p += hi->size;
			}
	}
	return buf;
}

static void unpack_state(const uint8_t *buf, struct vouch_attest_state *st)
{
	struct packed_head h;
	const uint8_t *p = buf + sizeof(h);

	memcpy(&h, buf, sizeof(h));
	memset(st, 0, sizeof(*st));
	st->valid = h.valid;
	st->entries = h.entries;
	memcpy(st->ak, h.ak, sizeof(st->ak));
	st->pcrs.n_banks = h.n_banks;
	for (uint32_t i = 0; i < h.n_banks; i++) {
		struct vouch_pcr_bank *b = &st->pcrs.banks[i];
		const struct vouch_hash_info *hi;

		memcpy(&b->algo, p, sizeof(int));
		p += sizeof(int);
		memcpy(&b->present, p, sizeof(uint32_t));
		p += sizeof(uint32_t);
		hi = vouch_hash_info(b->algo);
		for (unsigned pcr = 0; hi && pcr < VOUCH_PCR_COUNT; pcr++)
			if (b->present & (1u << pcr)) {
				memcpy(b->pcr[pcr], p, hi->size);
				p += hi->size;
			}
	}
}

static void slot_clear(struct cache_slot *s)
{
	vouch_ak_free(s->ak);
	free(s->packed);
	memset(s, 0, sizeof(*s));
}

int agent_cache_new(size_t capacity, struct agent_cache **ret)
{
	size_t n_sets = capacity ? (capacity + CACHE_WAYS - 1) / CACHE_WAYS : 1;

	if (n_sets > SIZE_MAX / CACHE_WAYS / sizeof(struct cache_slot) - 1)
		return -EINVAL;
	/* calloc: pages of sets never used are never touched */
	*ret = calloc(1, sizeof(**ret) + n_sets * CACHE_WAYS * sizeof(struct cache_slot));
	if (!*ret)
		return -ENOMEM;
	(*ret)->n_sets = n_sets;
	return 0;
}

size_t agent_cache_capacity(const struct agent_cache *c)
{
	return c ? c->n_sets * CACHE_WAYS : 0;
}

void agent_cache_free(struct agent_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_sets * CACHE_WAYS; i++)
		slot_clear(&c->slot[i]);
	free(c);
}

void agent_cache_stats(const struct agent_cache *c, uint64_t *hits, uint64_t *misses)
{
	*hits = c ? c->hits : 0;
	*misses = c ? c->misses : 0;
}

/* FNV-1a */
static struct cache_slot *set_of(struct agent_cache *c, const char *id)
{
	uint32_t h = 2166136261U;

	for (const char *p = id; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619U;
	return &c->slot[(h % c->n_sets) * CACHE_WAYS];
}

/* @id's slot, or NULL */
static struct cache_slot *find(struct agent_cache *c, const char *id)
{
	struct cache_slot *set = set_of(c, id);

	for (size_t w = 0; w < CACHE_WAYS; w++)
		if (set[w].ak && strcmp(set[w].id, id) == 0) {
			set[w].used = ++c->clock;
			return &set[w];
		}
	return NULL;
}

/* an empty slot for @id: its own (emptied), else a free one, else the least recently used
 * of the set */
static struct cache_slot *claim(struct agent_cache *c, const char *id)
{
	struct cache_slot *set = set_of(c, id), *victim = NULL;

	for (size_t w = 0; w < CACHE_WAYS && !victim; w++)
		if (set[w].ak && strcmp(set[w].id, id) == 0)
			victim = &set[w];
	for (size_t w = 0; w < CACHE_WAYS && !victim; w++)
		if (!set[w].ak)
			victim = &set[w];
	if (!victim) {
		victim = &set[0];
		for (size_t w = 1; w < CACHE_WAYS; w++)
			if (set[w].used < victim->used)
				victim = &set[w];
	}
	slot_clear(victim);
	return victim;
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
	struct cache_slot *s = find(c, a->id);
	_cleanup_(ak_freep) vouch_ak *ak = NULL;
	uint8_t hash[SHA256_DIGEST_LENGTH];
	char fpr[65];

	SHA256(a->ak, a->ak_len, hash);
	if (s && strcmp(s->ak_fpr, a->ak_fpr) == 0 && memcmp(s->ak_hash, hash, sizeof(hash)) == 0) {
		c->hits++;
		*ret = s->ak;
		return 0;
	}
	c->misses++;
	if (vouch_ak_load_mem(ctx, a->ak, a->ak_len, &ak) < 0 || fingerprint(ctx, ak, fpr) < 0 ||
	    strcmp(fpr, a->ak_fpr) != 0)
		return -EIO;
	s = claim(c, a->id);
	snprintf(s->id, sizeof(s->id), "%s", a->id);
	snprintf(s->ak_fpr, sizeof(s->ak_fpr), "%s", a->ak_fpr);
	memcpy(s->ak_hash, hash, sizeof(hash));
	s->ak = TAKE_PTR(ak);
	s->used = ++c->clock;
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
	struct cache_slot *s = find(c, id);
	struct vouch_attest_state st;
	uint8_t hash[SHA256_DIGEST_LENGTH];
	int r;

	SHA256((const uint8_t *)json, strlen(json), hash);
	if (s && s->packed && memcmp(s->state_hash, hash, sizeof(hash)) == 0) {
		unpack_state(s->packed, ret);
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
	struct cache_slot *s = find(c, id);

	if (!s)
		return;
	free(s->packed);
	s->packed = pack_state(st);
	if (s->packed)
		SHA256((const uint8_t *)json, strlen(json), s->state_hash);
}
