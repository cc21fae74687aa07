// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The engine's measurement list: the records it writes (through the log module's
 * template table and writer), the software PCR banks they extend, the template digests
 * already in the list, and the group commit that makes entries durable before their
 * extends.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "engine-internal.h"
#include "log-internal.h"

/*
 * Group commit: the PCR file is a checkpoint of the software bank, written when it lags
 * the list by CKPT_LAG entries or by CKPT_INTERVAL_NS (so a lightly loaded engine keeps it
 * current), at engine_free(), and before any group that would let it lag by more than
 * VOUCH_ENGINE_TAIL_MAX entries.
 */
#define CKPT_LAG 512
#define CKPT_INTERVAL_NS 100000000LL

/* ---------------------------------------------------------------- list records */

/*
 * Templates the engine can fill: any built-in name or format (resolved by the log module's
 * template table) whose fields are among d-ng, d-ngv2, n-ng, sig, buf, d-modsig, modsig,
 * evmsig (the last three are left empty).  The list encoding itself is the log module's
 * (vouch_log_writer_append()).
 */
static bool field_fillable(int id)
{
	switch (id) {
	case VOUCH_LOG_FIELD_D_NG:
	case VOUCH_LOG_FIELD_D_NGV2:
	case VOUCH_LOG_FIELD_N_NG:
	case VOUCH_LOG_FIELD_SIG:
	case VOUCH_LOG_FIELD_BUF:
	case VOUCH_LOG_FIELD_D_MODSIG:
	case VOUCH_LOG_FIELD_MODSIG:
	case VOUCH_LOG_FIELD_EVMSIG:
		return true;
	default:
		return false;
	}
}

/* The fields of template name or format @t; -EOPNOTSUPP when the engine cannot fill one. */
static int template_fields(const char *t, struct log_template *ret)
{
	if (log_template_parse(t, strlen(t), ret) < 0)
		return -EOPNOTSUPP;
	for (size_t i = 0; i < ret->n_fields; i++)
		if (!field_fillable(ret->ids[i]))
			return -EOPNOTSUPP;
	return 0;
}

bool engine_template_supported(const char *t)
{
	struct log_template lt;

	return template_fields(t, &lt) == 0;
}

static int extend(vouch_ctx *ctx, pcr_state pcrs, int bank, uint32_t pcr,
		  const struct vouch_digest *v)
{
	struct vouch_digest nd;
	uint8_t tmp[2 * VOUCH_HASH_MAX_SIZE];
	size_t n = vouch_hash_info(bank_algo[bank])->size;
	int r;

	memcpy(tmp, pcrs[bank][pcr], n);
	memcpy(tmp + n, v->bytes, n);
	r = vouch_digest_buf(ctx, bank_algo[bank], tmp, 2 * n, &nd);
	if (r < 0)
		return r;
	memcpy(pcrs[bank][pcr], nd.bytes, n);
	return 0;
}

static size_t seen_slot(const vouch_engine *e, const uint8_t *d, uint32_t pcr)
{
	size_t h = ((size_t)get_be32(d) ^ pcr * 0x9e3779b9u) & (e->seen_cap - 1);

	while (e->seen[h].pcr && (e->seen[h].pcr != pcr + 1 || memcmp(e->seen[h].d, d, 20)))
		h = (h + 1) & (e->seen_cap - 1);
	return h;
}

static bool seen_has(const vouch_engine *e, const uint8_t *d, uint32_t pcr)
{
	return e->seen_cap && e->seen[seen_slot(e, d, pcr)].pcr != 0;
}

/* Room for @n more seen entries (so that adding them after a durable append cannot fail). */
static int seen_reserve(vouch_engine *e, size_t n)
{
	if ((e->n_seen + n) * 2 > e->seen_cap) {
		struct seen_ent *old = e->seen;
		size_t old_cap = e->seen_cap, cap = old_cap ? old_cap * 2 : 256;

		while ((e->n_seen + n) * 2 > cap)
			cap *= 2;
		e->seen = mem_zalloc(cap * sizeof(*e->seen));
		if (!e->seen) {
			e->seen = old;
			return -ENOMEM;
		}
		e->seen_cap = cap;
		for (size_t i = 0; i < old_cap; i++)
			if (old[i].pcr)
				e->seen[seen_slot(e, old[i].d, old[i].pcr - 1)] = old[i];
		free(old);
	}
	return 0;
}

static int seen_add(vouch_engine *e, const uint8_t *d, uint32_t pcr)
{
	size_t h;
	int r = seen_reserve(e, 1);

	if (r < 0)
		return r;
	h = seen_slot(e, d, pcr);
	if (!e->seen[h].pcr) {
		memcpy(e->seen[h].d, d, 20);
		e->seen[h].pcr = pcr + 1;
		e->n_seen++;
	}
	return 0;
}

/* Per-bank extend values of one record (sha1 = the record's template digest). */
static int record_values(vouch_ctx *ctx, const uint8_t *sha1, const uint8_t *data,
			 size_t data_len, struct vouch_digest *v)
{
	static const uint8_t zero[20];
	bool violation = !memcmp(sha1, zero, 20);

	for (int b = 0; b < N_BANKS; b++) {
		int r;

		v[b].algo = bank_algo[b];
		v[b].len = vouch_hash_info(bank_algo[b])->size;
		if (violation)
			memset(v[b].bytes, 0xff, v[b].len);
		else if (bank_algo[b] == VOUCH_HASH_SHA1)
			memcpy(v[b].bytes, sha1, 20);
		else if ((r = vouch_digest_buf(ctx, bank_algo[b], data, data_len, &v[b])) < 0)
			return r;
	}
	return 0;
}

static int record_extend(vouch_engine *e, uint32_t pcr, const uint8_t *sha1, const uint8_t *data,
			 size_t data_len)
{
	struct vouch_digest v[N_BANKS];
	int r = record_values(ectx(e), sha1, data, data_len, v);

	for (int b = 0; r == 0 && b < N_BANKS; b++)
		r = extend(ectx(e), e->pcr, b, pcr, &v[b]);
	return r;
}

int engine_list_walk(vouch_engine *e, const uint8_t *buf, size_t len, bool extend_pcrs,
		     uint64_t *ret_count, size_t *ret_end)
{
	size_t off = 0;
	uint64_t count = 0;

	for (;;) {
		size_t start = off, name_len, data_len;
		uint32_t pcr;
		struct vouch_digest sha1;
		int r;

		if (len - off < 28)
			break;
		pcr = log_get32(buf + off, VOUCH_LOG_ORDER_LE);
		name_len = log_get32(buf + off + 24, VOUCH_LOG_ORDER_LE);
		if (pcr >= N_PCR || name_len == 0 || name_len > LOG_MAX_NAME_LEN)
			return ctx_err(ectx(e), -EBADMSG, "corrupt measurement list record %llu",
				       (unsigned long long)count + 1);
		off += 28;
		if (len - off < name_len + 4) {
			off = start;
			break;
		}
		off += name_len;
		data_len = log_get32(buf + off, VOUCH_LOG_ORDER_LE);
		off += 4;
		if (data_len > LOG_MAX_ENTRY_DATA)
			return ctx_err(ectx(e), -EBADMSG, "corrupt measurement list record %llu",
				       (unsigned long long)count + 1);
		if (len - off < data_len) {
			off = start;
			break;
		}
		/* the SHA-1 template digest must be that of the data (or zero: violation) */
		r = vouch_digest_buf(ectx(e), VOUCH_HASH_SHA1, buf + off, data_len, &sha1);
		if (r < 0)
			return r;
		{
			static const uint8_t zero[20];

			if (memcmp(buf + start + 4, sha1.bytes, 20) != 0 &&
			    memcmp(buf + start + 4, zero, 20) != 0)
				return ctx_err(ectx(e), -EBADMSG,
					       "measurement list record %llu: template digest does not "
					       "match its data",
					       (unsigned long long)count + 1);
		}
		if (extend_pcrs) {
			r = record_extend(e, pcr, buf + start + 4, buf + off, data_len);
			if (r < 0)
				return r;
		}
		r = seen_add(e, buf + start + 4, pcr);
		if (r < 0)
			return r;
		off += data_len;
		count++;
	}
	*ret_count = count;
	*ret_end = off;
	return 0;
}

size_t engine_list_skip(const uint8_t *buf, uint64_t n)
{
	size_t off = 0;

	for (uint64_t i = 0; i < n; i++) {
		size_t data = off + 28 + log_get32(buf + off + 24, VOUCH_LOG_ORDER_LE);

		off = data + 4 + log_get32(buf + data, VOUCH_LOG_ORDER_LE);
	}
	return off;
}

/* ---------------------------------------------------------------- group commit */

/*
 * Group commit.  A hook call that appends an entry queues it (struct pending, on its stack)
 * and waits.  The first waiter that finds no flush running becomes the flusher for
 * everything queued (up to VOUCH_ENGINE_GROUP_MAX entries): it writes the group with one
 * write() and one fdatasync(), then, in list order, extends each entry into the software
 * PCRs and the TPM, and only then wakes the group's callers.  Entries that arrive during
 * the flush form the next group.  So an entry is extended only after it is durable, in
 * list order, and a call returns only after its entry is durable and extended; a crash
 * leaves at most one group durable without its extends (and the PCR file, a checkpoint of
 * the software bank, up to VOUCH_ENGINE_TAIL_MAX entries behind the list): the next start
 * completes those extends (engine_state_open(), engine_tpm_attach()).
 */

/*
 * Take back whatever a failed append left after the last whole record (e->list_len): a
 * torn record must never be followed by another.  If even that fails, the list stays
 * marked torn and no record is appended until a retry succeeds.
 */
static int list_cut(vouch_engine *e)
{
	if (e->list_fd < 0)
		return 0;
	if (ftruncate(e->list_fd, (off_t)e->list_len) < 0 || fsync(e->list_fd) < 0) {
		e->list_torn = true;
		return ctx_err(ectx(e), -errno,
			       "cannot take a failed record back out of the measurement list: %m");
	}
	e->list_torn = false;
	return 0;
}

static int list_reserve(vouch_engine *e, size_t n)
{
	if (e->list_len + n > e->list_cap) {
		size_t cap = e->list_cap ? e->list_cap : 4096;
		uint8_t *p;

		while (cap < e->list_len + n)
			cap *= 2;
		p = mem_realloc(e->list, cap);
		if (!p)
			return -ENOMEM;
		e->list = p;
		e->list_cap = cap;
	}
	return 0;
}

int engine_checkpoint(vouch_engine *e)
{
	pcr_state snap;
	uint64_t n = e->entries;
	int r;

	if (!e->state_dir || n == e->ckpt_entries)
		return 0;
	memcpy(snap, e->pcr, sizeof(snap));
	pthread_mutex_unlock(&e->list_lock);
	r = engine_pcr_file_write(e, snap, n);
	pthread_mutex_lock(&e->list_lock);
	if (r == 0) {
		e->ckpt_entries = n;
		e->ckpt_ns = mono_ns();
	}
	return r;
}

static bool dup_in_group(const struct pending *g, const struct pending *p)
{
	for (; g != p; g = g->next)
		if (!g->dup && g->pcr == p->pcr && !CRYPTO_memcmp(g->tdigest, p->tdigest, 20))
			return true;
	return false;
}

/* Flush the queue as one group (list lock held, no flush running). */
static void group_flush(vouch_engine *e)
{
	struct pending *g = e->q_head, *p, *next, **cut = &e->q_head;
	size_t k = 0, total = 0, n_new = 0;
	pcr_state np;
	int r;

	e->flushing = true;
	while (*cut && k < VOUCH_ENGINE_GROUP_MAX) {
		cut = &(*cut)->next;
		k++;
	}
	e->q_head = *cut;
	*cut = NULL;
	if (!e->q_head)
		e->q_tail = &e->q_head;

	/*
	 * Everything that can fail without I/O comes first (earlier TPM extends, memory, the
	 * new PCR values, the TPM's extend values), so that a failed group leaves the list, the
	 * PCRs and the PCR file as they were: a reported failure means nothing was measured.
	 */
	r = engine_tpm_sync(e->tpm); /* never more than one group ahead of the TPM */
	if (r == 0 && e->list_torn)
		r = list_cut(e);
	memcpy(np, e->pcr, sizeof(np));
	for (p = g; r == 0 && p; p = p->next) {
		/* the same entry already in the list or earlier in the group: "hash_exists" */
		p->dup = seen_has(e, p->tdigest, p->pcr) || dup_in_group(g, p);
		if (p->dup)
			continue;
		total += p->rec_len;
		n_new++;
		for (int b = 0; r == 0 && b < N_BANKS; b++)
			r = extend(ectx(e), np, b, p->pcr, &p->v[b]);
		if (r == 0 && e->tpm)
			r = engine_tpm_stage(e->tpm, p->ent);
	}
	if (r == 0)
		r = list_reserve(e, total);
	if (r == 0)
		r = seen_reserve(e, n_new);
	/* keep the PCR file within VOUCH_ENGINE_TAIL_MAX entries of the list */
	if (r == 0 && e->entries + n_new - e->ckpt_entries > VOUCH_ENGINE_TAIL_MAX)
		r = engine_checkpoint(e);
	if (r == 0 && n_new) {
		uint8_t *at = e->list + e->list_len; /* reserved; only the flusher moves it */

		for (p = g; p; p = p->next)
			if (!p->dup) {
				memcpy(at, p->rec, p->rec_len);
				at += p->rec_len;
			}
		if (e->list_fd >= 0) {
			const uint8_t *base = e->list + e->list_len;

			pthread_mutex_unlock(&e->list_lock);
			r = write_all(e->list_fd, base, total);
			if (r == 0 && fdatasync(e->list_fd) < 0)
				r = -errno;
			pthread_mutex_lock(&e->list_lock);
			if (r < 0) {
				errno = -r;
				r = ctx_err(ectx(e), r, "cannot append to the measurement list: %m");
				list_cut(e);
			}
		}
	}
	engine_tpm_commit(e->tpm, r == 0);
	if (r == 0 && n_new) {
		/* durable: extend, in list order (nothing here can fail but the TPM) */
		memcpy(e->pcr, np, sizeof(np));
		e->list_len += total;
		e->entries += n_new;
		for (p = g; p; p = p->next)
			if (!p->dup)
				seen_add(e, p->tdigest, p->pcr); /* reserved above */
		e->groups++;
		e->grouped += n_new;
		r = engine_tpm_sync(e->tpm); /* on failure: pending, pushed before the next group */
	}
	for (p = g; p; p = next) {
		const char *m = vouch_ctx_last_error(ectx(e));

		/* the TPM backend reports in the engine's context (under this lock too) */
		if (!*m)
			m = vouch_ctx_last_error(e->ctx);
		next = p->next; /* p is gone once its caller sees it done */
		p->status = r < 0 ? r : p->dup ? 1 : 0;
		if (r < 0)
			snprintf(p->msg, sizeof(p->msg), "%s", m);
		p->done = true;
	}
	pthread_cond_broadcast(&e->list_cond);
	/* a checkpoint when it lags enough, or the engine is not busy enough to batch it */
	if (r == 0 && e->state_dir && e->entries != e->ckpt_entries &&
	    (e->entries - e->ckpt_entries >= CKPT_LAG || mono_ns() - e->ckpt_ns >= CKPT_INTERVAL_NS))
		(void)engine_checkpoint(e); /* retried later; its lag is bounded above */
	e->flushing = false;
	pthread_cond_broadcast(&e->list_cond);
}

/* Queue @p and wait until its group is durable and extended: 0, 1 (hash_exists), -errno. */
static int list_commit(vouch_engine *e, struct pending *p)
{
	pthread_mutex_lock(&e->list_lock);
	if (seen_has(e, p->tdigest, p->pcr)) {
		/* durable and extended already (seen entries are) */
		pthread_mutex_unlock(&e->list_lock);
		return 1;
	}
	p->next = NULL;
	*e->q_tail = p;
	e->q_tail = &p->next;
	while (!p->done) {
		if (!e->flushing)
			group_flush(e);
		else
			pthread_cond_wait(&e->list_cond, &e->list_lock);
	}
	pthread_mutex_unlock(&e->list_lock);
	if (p->status < 0 && p->msg[0])
		return ctx_err(ectx(e), p->status, "%s", p->msg);
	return p->status;
}

/* The entry goes through list_commit(). */
int engine_measure_append(vouch_engine *e, uint32_t pcr, const char *tmpl,
			  const struct vouch_digest *d, const char *name, const uint8_t *sig,
			  size_t sig_len, const uint8_t *buf, size_t buf_len)
{
	struct vouch_log_field f[VOUCH_LOG_MAX_FIELDS];
	struct log_template lt;
	uint8_t dng[48 + VOUCH_HASH_MAX_SIZE], dngv2[48 + VOUCH_HASH_MAX_SIZE];
	const char *an = vouch_hash_info(d->algo)->name;
	size_t al = strlen(an), n = 0;
	_cleanup_free_ char *nm = NULL;
	vouch_log_writer *w = NULL;
	struct vouch_log_entry ent;
	struct pending p = { .status = 0 };
	int r;

	if (template_fields(tmpl, &lt) < 0) {
		tmpl = "ima-ng";
		template_fields(tmpl, &lt);
	}
	n = lt.n_fields;
	/* d-ng: "algo:" NUL digest; d-ngv2: "ima:algo:" NUL digest; n-ng: name NUL */
	memcpy(dng, an, al);
	dng[al] = ':';
	dng[al + 1] = '\0';
	memcpy(dng + al + 2, d->bytes, d->len);
	memcpy(dngv2, "ima:", 4);
	memcpy(dngv2 + 4, dng, al + 2 + d->len);
	nm = mem_strdup(name);
	if (!nm)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		f[i].id = lt.ids[i];
		f[i].data = NULL;
		f[i].len = 0;
		switch (lt.ids[i]) {
		case VOUCH_LOG_FIELD_D_NG:
			f[i].data = dng;
			f[i].len = al + 2 + d->len;
			break;
		case VOUCH_LOG_FIELD_D_NGV2:
			f[i].data = dngv2;
			f[i].len = 4 + al + 2 + d->len;
			break;
		case VOUCH_LOG_FIELD_N_NG:
			f[i].data = (const uint8_t *)nm;
			f[i].len = strlen(nm) + 1;
			break;
		case VOUCH_LOG_FIELD_SIG:
			f[i].data = sig;
			f[i].len = sig ? sig_len : 0;
			break;
		case VOUCH_LOG_FIELD_BUF:
			f[i].data = buf;
			f[i].len = buf ? buf_len : 0;
			break;
		default: /* d-modsig, modsig, evmsig: empty */
			break;
		}
	}
	r = vouch_log_writer_new(ectx(e), NULL, &w);
	if (r < 0)
		return r;
	r = vouch_log_writer_append(w, pcr, tmpl, f, n, false, &ent);
	if (r == 0)
		r = vouch_log_writer_get(w, &p.rec, &p.rec_len);
	/* the extend values are computed here, outside the engine's locks */
	if (r == 0)
		r = record_values(ectx(e), ent.template_digest, ent.template_data,
				  ent.template_data_len, p.v);
	if (r == 0) {
		p.pcr = pcr;
		p.tdigest = ent.template_digest;
		p.ent = &ent;
		r = list_commit(e, &p);
	}
	vouch_log_writer_free(w);
	return r;
}
