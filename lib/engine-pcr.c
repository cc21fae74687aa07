// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The engine's TPM backend: every entry the engine appends to its list is also extended into
 * a TPM (vouch_tpm_*, chosen by a TCTI string), in every active bank, the way the kernel's
 * ima_pcr_extend() does; the list stays durable before the extend.  At start the list must
 * replay to the TPM's PCRs, up to the documented tail (the last group's entries) whose
 * extends a crash lost.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>
#include <stdlib.h>

#include "engine-internal.h"
#include <vouch/tpm.h>

struct engine_tpm {
	vouch_ctx *ctx;
	vouch_tpm *tpm;
	char *tcti;
	size_t n_banks;
	int algo[VOUCH_PCR_MAX_BANKS];
	int mode[VOUCH_PCR_MAX_BANKS]; /* enum vouch_log_bank_mode */
	/* extends durable in the list but not yet in the TPM, in list order; then the staged
	 * ones (computed before their entries are written, so that nothing but the TPM itself
	 * can fail once they are durable) */
	struct tpm_extend {
		uint32_t pcr;
		struct vouch_digest d[VOUCH_PCR_MAX_BANKS];
	} *pend;
	size_t n_pend, n_staged, cap;
};

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_log_reader *, log_reader_freep, vouch_log_reader_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(struct engine_tpm *, engine_tpm_freep, engine_tpm_free)

void engine_tpm_free(struct engine_tpm *t)
{
	if (!t)
		return;
	vouch_tpm_close(t->tpm);
	free(t->pend);
	free(t->tcti);
	free(t);
}

const char *engine_tpm_tcti(const struct engine_tpm *t)
{
	return t ? t->tcti : NULL;
}

/* What @entry extends into each bank. */
static int bank_digests(struct engine_tpm *t, const struct vouch_log_entry *entry,
			struct vouch_digest *d)
{
	for (size_t b = 0; b < t->n_banks; b++) {
		int r = vouch_log_extend_digest(t->ctx, entry, t->algo[b], t->mode[b], &d[b]);

		if (r < 0)
			return r;
	}
	return 0;
}

/* A TPM error in the engine's words, keeping tss2's decoded text. */
static int tpm_fail(vouch_ctx *ctx, int r, const char *what, const char *tcti)
{
	char why[512];

	snprintf(why, sizeof(why), "%s", vouch_ctx_last_error(ctx));
	return ctx_err(ctx, r, "cannot %s of TPM '%s': %s", what, tcti, why);
}

static int push(struct engine_tpm *t, uint32_t pcr, const struct vouch_digest *d)
{
	int r = vouch_tpm_pcr_extend(t->tpm, pcr, d, t->n_banks);

	return r < 0 ? tpm_fail(t->ctx, r, "extend a PCR for the measurement list", t->tcti) : 0;
}

int engine_tpm_sync(struct engine_tpm *t)
{
	size_t done = 0;
	int r = 0;

	if (!t)
		return 0;
	while (done < t->n_pend) {
		r = push(t, t->pend[done].pcr, t->pend[done].d);
		if (r < 0)
			break;
		done++;
	}
	/* what failed stays pending, first in line (the staged ones stay behind it) */
	if (done) {
		memmove(t->pend, t->pend + done, (t->n_pend - done + t->n_staged) * sizeof(*t->pend));
		t->n_pend -= done;
	}
	return r;
}

int engine_tpm_stage(struct engine_tpm *t, const struct vouch_log_entry *entry)
{
	size_t n = t->n_pend + t->n_staged;
	int r;

	if (n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		struct tpm_extend *p = mem_reallocarray(t->pend, cap, sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->pend = p;
		t->cap = cap;
	}
	r = bank_digests(t, entry, t->pend[n].d);
	if (r < 0)
		return r;
	t->pend[n].pcr = entry->pcr;
	t->n_staged++;
	return 0;
}

void engine_tpm_commit(struct engine_tpm *t, bool durable)
{
	if (!t)
		return;
	if (durable)
		t->n_pend += t->n_staged;
	t->n_staged = 0;
}

static bool same_pcrs(const struct vouch_pcrs *a, const struct vouch_pcrs *b)
{
	for (uint32_t k = 0; k < a->n_banks; k++) {
		size_t sz = vouch_hash_info(a->banks[k].algo)->size;

		for (unsigned i = 0; i < VOUCH_PCR_COUNT; i++)
			if ((a->banks[k].present >> i & 1) &&
			    memcmp(a->banks[k].pcr[i], b->banks[k].pcr[i], sz) != 0)
				return false;
	}
	return true;
}

static int pcr_extend_value(vouch_ctx *ctx, struct vouch_pcr_bank *bank, uint32_t pcr,
			    const struct vouch_digest *d)
{
	size_t sz = vouch_hash_info(bank->algo)->size;
	uint8_t buf[2 * VOUCH_HASH_MAX_SIZE];
	struct vouch_digest nd;
	int r;

	memcpy(buf, bank->pcr[pcr], sz);
	memcpy(buf + sz, d->bytes, sz);
	r = vouch_digest_buf(ctx, bank->algo, buf, 2 * sz, &nd);
	if (r < 0)
		return r;
	memcpy(bank->pcr[pcr], nd.bytes, sz);
	return 0;
}

/*
 * Replay the list against the TPM: *ret_prefix = the number of leading entries whose replay
 * equals the TPM's PCRs (every PCR the list touches, and PCR 10, in every bank), -1 when no
 * prefix does.  The last entry's extend values are left in @last (for the tail).
 */
static int replay(struct engine_tpm *t, const uint8_t *list, size_t len, uint64_t entries,
		  int64_t *ret_prefix, uint32_t *ret_last_pcr, struct vouch_digest *last,
		  bool *ret_reset)
{
	_cleanup_(log_reader_freep) vouch_log_reader *rd = NULL;
	_cleanup_free_ struct vouch_pcrs *tp = mem_zalloc(sizeof(*tp));
	_cleanup_free_ struct vouch_pcrs *rp = mem_zalloc(sizeof(*rp));
	struct vouch_log_entry e;
	uint32_t mask = 1U << 10;
	uint64_t n = 0;
	int64_t prefix = -1;
	int r;

	if (!tp || !rp)
		return -ENOMEM;
	/* pass 1: which PCRs the list touches */
	r = len ? vouch_log_reader_new(t->ctx, list, len, NULL, &rd) : 0;
	while (rd && (r = vouch_log_next(rd, &e)) > 0) {
		if (e.pcr >= VOUCH_PCR_COUNT)
			return ctx_err(t->ctx, -EBADMSG, "measurement list entry for PCR %u", e.pcr);
		mask |= 1U << e.pcr;
	}
	if (r < 0)
		return r;
	vouch_log_reader_free(TAKE_PTR(rd));
	tp->n_banks = rp->n_banks = (uint32_t)t->n_banks;
	for (size_t b = 0; b < t->n_banks; b++) {
		tp->banks[b].algo = rp->banks[b].algo = t->algo[b];
		tp->banks[b].present = rp->banks[b].present = mask;
	}
	r = vouch_tpm_pcr_read(t->tpm, tp);
	if (r < 0)
		return tpm_fail(t->ctx, r, "read the PCRs", t->tcti);
	*ret_reset = true;
	for (size_t b = 0; b < t->n_banks; b++)
		for (size_t i = 0; i < vouch_hash_info(t->algo[b])->size; i++)
			*ret_reset &= tp->banks[b].pcr[10][i] == 0;
	/* pass 2: replay, comparing after every entry */
	if (same_pcrs(tp, rp))
		prefix = 0;
	r = len ? vouch_log_reader_new(t->ctx, list, len, NULL, &rd) : 0;
	if (r < 0)
		return r;
	while (rd && (r = vouch_log_next(rd, &e)) > 0) {
		int k = bank_digests(t, &e, last);

		for (size_t b = 0; k == 0 && b < t->n_banks; b++)
			k = pcr_extend_value(t->ctx, &rp->banks[b], e.pcr, &last[b]);
		if (k < 0)
			return k;
		*ret_last_pcr = e.pcr;
		if (same_pcrs(tp, rp))
			prefix = (int64_t)n + 1;
		n++;
	}
	if (r < 0)
		return r;
	if (n != entries)
		return ctx_err(t->ctx, -EBADMSG, "the measurement list holds %llu entries, not %llu",
			       (unsigned long long)n, (unsigned long long)entries);
	*ret_prefix = prefix;
	return 0;
}

int engine_tpm_verify(struct engine_tpm *t, const uint8_t *list, size_t list_len,
		      uint64_t entries)
{
	struct vouch_digest last[VOUCH_PCR_MAX_BANKS];
	uint32_t last_pcr = 0;
	int64_t prefix;
	bool reset;
	int r;

	if (!t)
		return 0;
	r = replay(t, list, list_len, entries, &prefix, &last_pcr, last, &reset);
	if (r < 0)
		return r;
	if (prefix == (int64_t)entries)
		return 0;
	if (prefix > 0)
		return ctx_err(t->ctx, -EBADMSG,
			       "the PCRs of TPM '%s' include only the first %lld of the %llu list "
			       "entries",
			       t->tcti, (long long)prefix, (unsigned long long)entries);
	return ctx_err(t->ctx, -EBADMSG,
		       "the PCRs of TPM '%s' do not match the measurement list (%s)", t->tcti,
		       reset ? "its PCR 10 is reset: a new boot or another TPM"
			     : "another writer extended them, or another TPM");
}

static int read_binding(vouch_ctx *ctx, const char *path, char **ret)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;
	int r = read_file_all(ctx, path, 4096, &buf, &len);

	if (r == -ENOENT) {
		vouch_ctx_clear_error(ctx);
		*ret = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\0'))
		len--;
	if (!len || memchr(buf, '\n', len) || memchr(buf, '\0', len))
		return ctx_err(ctx, -EBADMSG, "corrupt TPM binding '%s'", path);
	*ret = mem_alloc(len + 1);
	if (!*ret)
		return -ENOMEM;
	memcpy(*ret, buf, len);
	(*ret)[len] = '\0';
	return 0;
}

/* Extend the entries after the first @from into the TPM, in list order (the tail). */
static int push_tail(struct engine_tpm *t, const uint8_t *list, size_t len, uint64_t from)
{
	_cleanup_(log_reader_freep) vouch_log_reader *rd = NULL;
	struct vouch_digest d[VOUCH_PCR_MAX_BANKS];
	struct vouch_log_entry e;
	uint64_t n = 0;
	int r = vouch_log_reader_new(t->ctx, list, len, NULL, &rd);

	while (r == 0 && (r = vouch_log_next(rd, &e)) > 0) {
		if (n++ < from) {
			r = 0;
			continue;
		}
		r = bank_digests(t, &e, d);
		if (r == 0)
			r = push(t, e.pcr, d);
	}
	return r;
}

int engine_tpm_attach(vouch_ctx *ctx, const char *tcti, const char *state_dir,
		      const uint8_t *list, size_t list_len, uint64_t entries,
		      struct engine_tpm **ret)
{
	_cleanup_(engine_tpm_freep) struct engine_tpm *t = NULL;
	_cleanup_free_ char *path = NULL, *bound = NULL;
	struct vouch_digest last[VOUCH_PCR_MAX_BANKS];
	int algos[VOUCH_PCR_MAX_BANKS];
	uint32_t last_pcr = 0;
	int64_t prefix = -1;
	bool reset = false, tail = false;
	int r;

	*ret = NULL;
	if (state_dir) {
		size_t a = strlen(state_dir), b = strlen(ENGINE_TCTI_FILE);

		path = mem_alloc(a + b + 2);
		if (!path)
			return -ENOMEM;
		memcpy(path, state_dir, a);
		path[a] = '/';
		memcpy(path + a + 1, ENGINE_TCTI_FILE, b + 1);
		r = read_binding(ctx, path, &bound);
		if (r < 0)
			return r;
	}
	if (!tcti)
		tcti = bound;
	if (!tcti)
		return 0; /* the software bank only */
	if (state_dir && !bound && entries)
		return ctx_err(ctx, -EBADMSG,
			       "the %llu entries in '%s' were measured without a TPM: refusing to "
			       "continue them on TPM '%s' (use a new state directory)",
			       (unsigned long long)entries, state_dir, tcti);
	t = mem_zalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->ctx = ctx;
	t->tcti = mem_strdup(tcti);
	if (!t->tcti)
		return -ENOMEM;
	r = vouch_tpm_open(ctx, tcti, &t->tpm); /* its message names the TCTI */
	if (r < 0)
		return r;
	r = vouch_tpm_get_banks(t->tpm, algos, ARRAY_SIZE(algos), &t->n_banks);
	if (r < 0)
		return tpm_fail(ctx, r, "read the PCR banks", tcti);
	if (t->n_banks == 0)
		return ctx_err(ctx, -EOPNOTSUPP, "TPM '%s' has no PCR bank vouch knows", tcti);
	for (size_t b = 0; b < t->n_banks; b++) {
		t->algo[b] = algos[b];
		/* the kernel extends banks whose hash it lacks with the padded SHA-1 */
		t->mode[b] = vouch_hash_available(ctx, algos[b]) ? VOUCH_LOG_BANK_HASHED
								 : VOUCH_LOG_BANK_PADDED;
	}
	r = replay(t, list, list_len, entries, &prefix, &last_pcr, last, &reset);
	if (r < 0)
		return r;
	/*
	 * The documented tail: entries durable in the list whose TPM extends a crash lost.  The
	 * engine extends the TPM only after a group of entries is durable and writes no group
	 * before the earlier extends are done, so the TPM is at most one group behind (and the
	 * boot_aggregate, alone in its group, is in it once anything else is).
	 */
	if (entries && prefix < (int64_t)entries &&
	    (prefix == (int64_t)entries - 1 ||
	     (prefix >= 1 && entries - (uint64_t)prefix <= VOUCH_ENGINE_GROUP_MAX))) {
		r = push_tail(t, list, list_len, (uint64_t)prefix);
		if (r < 0)
			return r;
		tail = true;
	} else if (prefix != (int64_t)entries) {
		if (prefix > 0)
			return ctx_err(ctx, -EBADMSG,
				       "TPM '%s' includes only %lld of the %llu entries in '%s' "
				       "(more than the tail of one group a crash can leave)",
				       tcti, (long long)prefix, (unsigned long long)entries,
				       state_dir ? state_dir : "memory");
		return ctx_err(ctx, -EBADMSG,
			       "the PCRs of TPM '%s' do not match the measurement list in '%s' (%s)",
			       tcti, state_dir ? state_dir : "memory",
			       reset ? "its PCR 10 is reset: the TPM restarted or is another one, "
				       "start a new state directory"
				     : "another writer extended them, or another TPM");
	}
	if (path && (!bound || strcmp(bound, tcti) != 0)) {
		r = write_file_atomic(ctx, path, tcti, strlen(tcti), 0600);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(t);
	return tail ? 1 : 0;
}

int engine_tpm_boot_bank(struct engine_tpm *t, int hash_algo, struct vouch_pcr_bank *ret)
{
	_cleanup_free_ struct vouch_pcrs *p = mem_zalloc(sizeof(*p));
	int algo = -1;
	int r;

	if (!p)
		return -ENOMEM;
	/* ima_calc_boot_aggregate(): the bank of ima_hash, else sha256, else sha1 */
	for (size_t b = 0; b < t->n_banks; b++) {
		if (t->algo[b] == hash_algo) {
			algo = hash_algo;
			break;
		}
		if (t->algo[b] == VOUCH_HASH_SHA256)
			algo = VOUCH_HASH_SHA256;
		if (algo < 0 && t->algo[b] == VOUCH_HASH_SHA1)
			algo = VOUCH_HASH_SHA1;
	}
	if (algo < 0)
		return ctx_err(t->ctx, -EOPNOTSUPP,
			       "TPM '%s' has no bank for the boot_aggregate (sha256 or sha1)",
			       t->tcti);
	p->n_banks = 1;
	p->banks[0].algo = algo;
	p->banks[0].present = 0x3ff;
	r = vouch_tpm_pcr_read(t->tpm, p);
	if (r < 0)
		return tpm_fail(t->ctx, r, "read PCRs 0-9 (boot_aggregate)", t->tcti);
	memset(ret, 0, sizeof(*ret));
	ret->algo = algo;
	ret->present = 0x3ff;
	for (unsigned i = 0; i <= 9; i++)
		memcpy(ret->pcr[i], p->banks[0].pcr[i], VOUCH_HASH_MAX_SIZE);
	return 0;
}
