// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The integrity engine: every consumer of loaded data goes through one hook path; the
 * policy decides measure / appraise / audit; measurements go to an append-only list whose
 * entries are durable before their PCR extend; enforcement can be latched on, never off.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "engine-internal.h"
#include "engine-pcr-internal.h"
#include "log-internal.h"
#include "openssl-internal.h"
#include "policy-internal.h"
#include <vouch/log.h>

#define N_PCR 24
#define N_BANKS 2
#define CACHE_BUCKETS 4096
#define NAME_MAX_LEN 4096
#define MAX_TEMPLATE_DATA ((size_t)1 << 24)
#define LIST_FILE "measurements"
#define PCR_FILE "pcrs"
#define LATCH_FILE "sig_enforce"
#define PIN_FILE_IMA "sig_enforce.trust"
#define PIN_FILE_KERNEL "sig_enforce.trust-kernel"
#define FUSE_SUPER_MAGIC 0x65735546
#define HASH_CHUNK ((size_t)256 << 10)
/*
 * Group commit: the PCR file is a checkpoint of the software bank, written when it lags
 * the list by CKPT_LAG entries or by CKPT_INTERVAL_NS (so a lightly loaded engine keeps it
 * current), at engine_free(), and before any group that would let it lag by more than
 * VOUCH_ENGINE_TAIL_MAX entries.
 */
#define CKPT_LAG 512
#define CKPT_INTERVAL_NS 100000000LL

static const int bank_algo[N_BANKS] = { VOUCH_HASH_SHA1, VOUCH_HASH_SHA256 };

struct cache_ent {
	struct cache_ent *next;
	uint64_t dev, ino, size;
	int64_t mtime_s, ctime_s;
	uint32_t mtime_ns, ctime_ns;
	uint64_t gen;
	uint64_t measured_pcrs;
	bool audited;
	/* per func: the last appraisal and what decided it (the rule and its requirements) */
	struct cache_appraisal {
		bool valid;
		bool latched;
		unsigned rule;
		uint32_t flags;
		uint64_t algos;
		int appraisal;
		const char *reason;
	} appraised[_VOUCH_FUNC_MAX];
	struct vouch_digest digest;
};

/* One list entry on its way to the list: lives on the stack of the hook call that waits. */
struct pending {
	struct pending *next;
	uint32_t pcr;
	const uint8_t *rec; /* the record, binary_runtime_measurements format */
	size_t rec_len;
	const uint8_t *tdigest; /* its SHA-1 template digest (20 bytes) */
	const struct vouch_log_entry *ent;
	struct vouch_digest v[N_BANKS]; /* what it extends into each software bank */
	bool done, dup;
	int status;
	char msg[VOUCH_ERRMSG_SIZE];
};

/* A library context for one hook call at a time (vouch_ctx is not thread safe). */
struct worker {
	struct worker *next_free, *next_all;
	vouch_ctx *ctx;
};

struct vouch_engine {
	vouch_ctx *ctx;
	/*
	 * Locks, always taken in this order: cfg (read by hooks, written by set_*), then
	 * cache, list, audit, pool.  Nothing slow runs under cache; the list lock is released
	 * while a group is written and synced (the flusher alone touches the list file then).
	 */
	pthread_rwlock_t cfg_lock;
	pthread_mutex_t cache_lock;
	pthread_mutex_t list_lock;
	pthread_cond_t list_cond;
	pthread_mutex_t audit_lock;
	pthread_mutex_t pool_lock;
	bool locks_ready;
	bool ready; /* vouch_engine_new() succeeded */
	struct worker *pool; /* free worker contexts */
	struct worker *workers; /* all of them (freed with the engine) */
	size_t n_workers;
	/* group commit (under list_lock) */
	struct pending *q_head, **q_tail;
	bool flushing; /* one thread writes and syncs a group; the others queue meanwhile */
	uint64_t ckpt_entries; /* entries the PCR file on disk includes */
	int64_t ckpt_ns;	/* when it was written (CLOCK_MONOTONIC) */
	uint64_t groups, grouped; /* statistics: groups written, entries in them */

	uint32_t flags;
	int hash_algo;
	char *template_name;
	char *xattr_name;
	vouch_policy *policy;
	vouch_trust *trust[_VOUCH_KEYRING_MAX];
	vouch_trust *pin[_VOUCH_KEYRING_MAX]; /* pinned by the latch: latched consumers' trust */
	bool pinned;
	bool xattr_explicit; /* the caller named the xattr (must match a pinned one) */
	struct vouch_digest *blacklist; /* appraise_flag=check_blacklist */
	size_t n_blacklist;
	int mode[_VOUCH_FUNC_MAX];
	bool latch[_VOUCH_FUNC_MAX];
	vouch_engine_audit_fn audit_fn;
	void *audit_ud;

	char *state_dir;
	int list_fd;
	bool list_torn; /* a failed append could not be cut off yet: nothing may follow it */
	uint8_t *list;
	size_t list_len, list_cap;
	uint64_t entries;
	uint8_t pcr[N_BANKS][N_PCR][VOUCH_HASH_MAX_SIZE];
	struct engine_tpm *tpm; /* also extended when set (engine-pcr.c) */

	struct cache_ent *cache[CACHE_BUCKETS];
	uint64_t gen;
	bool policy_creds; /* the policy tests task ids: read them per call */
	/* superblock magic per device (fixed for a superblock's lifetime) */
	struct {
		uint64_t dev;
		uint64_t magic;
		bool valid;
	} fsmagic[8];
	unsigned fsmagic_next;

	/* template digests already in the list, per PCR (ima_lookup_digest_entry) */
	struct seen_ent {
		uint8_t d[20];
		uint32_t pcr; /* pcr + 1; 0 = empty slot */
	} *seen;
	size_t n_seen, seen_cap;
};

/* ---------------------------------------------------------------- helpers */

/*
 * The context of the hook call running on this thread, if any: hook calls may run on
 * several threads at once, each with a worker context of its own (its error message, its
 * cached digests); everything else uses the engine's context.
 */
static __thread struct {
	const vouch_engine *e;
	vouch_ctx *ctx;
} call_tls;

static vouch_ctx *ectx(const vouch_engine *e)
{
	return call_tls.e == e ? call_tls.ctx : e->ctx;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static bool func_valid(int func)
{
	return func > VOUCH_FUNC_NONE && func < _VOUCH_FUNC_MAX && func != VOUCH_FUNC_POST_SETATTR;
}

static char *state_path(const vouch_engine *e, const char *name)
{
	size_t a = strlen(e->state_dir), b = strlen(name);
	char *p = mem_alloc(a + b + 2);

	if (!p)
		return NULL;
	memcpy(p, e->state_dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}

static void emit(vouch_engine *e, int func, const char *action, const char *name, int result,
		 const char *reason, int mode, unsigned rule, const struct vouch_digest *d)
{
	struct vouch_engine_event ev = {
		.func = func,
		.action = action,
		.name = name ? name : "",
		.result = result,
		.reason = reason ? reason : "",
		.mode = mode,
		.rule = rule,
		.digest = d,
	};

	if (!e->audit_fn)
		return;
	/* one event at a time: the callback need not be thread safe */
	if (e->locks_ready)
		pthread_mutex_lock(&e->audit_lock);
	e->audit_fn(e->audit_ud, &ev);
	if (e->locks_ready)
		pthread_mutex_unlock(&e->audit_lock);
}

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

static bool template_supported(const char *t)
{
	struct log_template lt;

	return template_fields(t, &lt) == 0;
}

typedef uint8_t pcr_state[N_BANKS][N_PCR][VOUCH_HASH_MAX_SIZE];

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

/*
 * Walk the binary list: calls @fn per complete record; returns the offset after the last
 * complete record in *ret_end (a torn tail is left out), -EBADMSG for a malformed record.
 */
static int list_walk(vouch_engine *e, const uint8_t *buf, size_t len, bool extend_pcrs,
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
		pcr = (uint32_t)buf[off] | (uint32_t)buf[off + 1] << 8 | (uint32_t)buf[off + 2] << 16 |
		      (uint32_t)buf[off + 3] << 24;
		name_len = (size_t)buf[off + 24] | (size_t)buf[off + 25] << 8 |
			   (size_t)buf[off + 26] << 16 | (size_t)buf[off + 27] << 24;
		if (pcr >= N_PCR || name_len == 0 || name_len > 255)
			return ctx_err(ectx(e), -EBADMSG, "corrupt measurement list record %llu",
				       (unsigned long long)count + 1);
		off += 28;
		if (len - off < name_len + 4) {
			off = start;
			break;
		}
		off += name_len;
		data_len = (size_t)buf[off] | (size_t)buf[off + 1] << 8 |
			   (size_t)buf[off + 2] << 16 | (size_t)buf[off + 3] << 24;
		off += 4;
		if (data_len > MAX_TEMPLATE_DATA)
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

/* ---------------------------------------------------------------- state files */

/* Read state file @name, NUL-terminated; 1 (and nothing) when it does not exist. */
static int state_file_read(vouch_engine *e, const char *path, size_t max, uint8_t **ret_buf)
{
	size_t len;
	int r = read_file_all(ectx(e), path, max, ret_buf, &len);

	if (r == -ENOENT) {
		vouch_ctx_clear_error(ectx(e));
		return 1;
	}
	if (r < 0)
		return r;
	(*ret_buf)[len] = '\0';
	return 0;
}

/* Make the state directory's entries (renames, a new list file) durable. */
static int state_dir_sync(vouch_engine *e)
{
	_cleanup_close_ int fd = open(e->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0)
		return ctx_err(ectx(e), -errno, "cannot sync the state directory '%s': %m",
			       e->state_dir);
	return 0;
}

/*
 * Replace state file @name with @len bytes (temp + fsync + rename + fsync of the
 * directory, so that a power cut after this returns cannot bring back the old file).
 * A failed directory sync is reported in *ret_dir_err (the file itself is replaced).
 */
static int state_file_replace(vouch_engine *e, const char *name, const void *buf, size_t len,
			      int *ret_dir_err)
{
	_cleanup_free_ char *path = state_path(e, name);
	int r;

	if (!path)
		return -ENOMEM;
	r = write_file_atomic(ectx(e), path, buf, len, 0600);
	if (r < 0)
		return r;
	*ret_dir_err = state_dir_sync(e);
	return 0;
}

/* Replace state file @name with the text in @b; frees @b.  Every step must be durable. */
static int state_file_write(vouch_engine *e, const char *name, struct textbuf *b)
{
	int r, dir_err = 0;

	if (b->oom) {
		tb_free(b);
		return -ENOMEM;
	}
	r = state_file_replace(e, name, b->s ? b->s : "", b->len, &dir_err);
	tb_free(b);
	return r < 0 ? r : dir_err;
}

/* Write the PCR file: the software bank @pcrs after the first @entries entries of the list. */
static int pcr_file_write(vouch_engine *e, pcr_state pcrs, uint64_t entries)
{
	struct textbuf b = { 0 };
	int r, dir_err = 0;

	if (!e->state_dir)
		return 0;
	tb_printf(&b, "vouch-pcrs 1\nentries %llu\n", (unsigned long long)entries);
	for (int k = 0; k < N_BANKS; k++) {
		size_t n = vouch_hash_info(bank_algo[k])->size;

		for (int i = 0; i < N_PCR; i++) {
			char hex[2 * VOUCH_HASH_MAX_SIZE + 1];

			hex_encode(pcrs[k][i], n, hex);
			tb_printf(&b, "%s PCR-%02d: %s\n", vouch_hash_info(bank_algo[k])->name, i,
				  hex);
		}
	}
	if (b.oom) {
		tb_free(&b);
		return -ENOMEM;
	}
	/*
	 * The directory is synced too, but its failure is not reported: the list entries are
	 * durable, and a PCR file whose rename a power cut loses is the documented tail that
	 * the next start completes.  Only a PCR file that was not replaced is a failure.
	 */
	r = state_file_replace(e, PCR_FILE, b.s ? b.s : "", b.len, &dir_err);
	tb_free(&b);
	return r;
}

/* Parse the PCR file; missing = all zero and 0 entries. */
static int pcr_file_read(vouch_engine *e, uint64_t *ret_entries,
			 uint8_t pcrs[N_BANKS][N_PCR][VOUCH_HASH_MAX_SIZE])
{
	_cleanup_free_ char *path = state_path(e, PCR_FILE);
	_cleanup_free_ uint8_t *buf = NULL;
	char *line, *save = NULL;
	bool header = false, have_entries = false;
	int r;

	if (!path)
		return -ENOMEM;
	memset(pcrs, 0, sizeof(e->pcr));
	r = state_file_read(e, path, 1 << 20, &buf);
	if (r == 1)
		*ret_entries = 0;
	if (r != 0)
		return r < 0 ? r : 0;
	for (line = strtok_r((char *)buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char alg[16], hex[2 * VOUCH_HASH_MAX_SIZE + 2];
		unsigned idx;
		unsigned long long n;

		if (!strcmp(line, "vouch-pcrs 1")) {
			header = true;
		} else if (sscanf(line, "entries %llu", &n) == 1) {
			*ret_entries = n;
			have_entries = true;
		} else if (sscanf(line, "%15s PCR-%u: %129s", alg, &idx, hex) == 3 && idx < N_PCR) {
			int a = vouch_hash_by_name(alg), k = -1;
			size_t got;

			for (int i = 0; i < N_BANKS; i++)
				if (bank_algo[i] == a)
					k = i;
			if (k < 0 || hex_decode(hex, strlen(hex), pcrs[k][idx], VOUCH_HASH_MAX_SIZE,
						&got) < 0 ||
			    got != vouch_hash_info(a)->size)
				return ctx_err(ectx(e), -EBADMSG, "corrupt PCR file '%s'", path);
		} else {
			return ctx_err(ectx(e), -EBADMSG, "corrupt PCR file '%s'", path);
		}
	}
	if (!header || !have_entries)
		return ctx_err(ectx(e), -EBADMSG, "corrupt PCR file '%s'", path);
	return 0;
}

/* ---------------------------------------------------------------- latch file */

/*
 * The latch file: one func name per line, plus what the latch pinned when it was first
 * set: "xattr NAME" (the appraised xattr) and "pinned" (the trust stores are in
 * PIN_FILE_IMA / PIN_FILE_KERNEL, PEM; a missing file is an empty keyring).  Once a
 * consumer is latched, its appraisals use the pinned trust and xattr, never the caller's.
 */
static const char *const pin_file[_VOUCH_KEYRING_MAX] = { PIN_FILE_IMA, PIN_FILE_KERNEL };
static const char *const pin_keyring[_VOUCH_KEYRING_MAX] = { ".ima", "kernel" };

static int latch_write(vouch_engine *e)
{
	struct textbuf b = { 0 };

	if (!e->state_dir)
		return 0;
	if (e->pinned)
		tb_printf(&b, "xattr %s\npinned\n", e->xattr_name);
	for (int f = 1; f < _VOUCH_FUNC_MAX; f++)
		if (e->latch[f])
			tb_printf(&b, "%s\n", vouch_policy_func_name(f));
	return state_file_write(e, LATCH_FILE, &b);
}

/* A copy of @t (NULL stays NULL): the latch keeps its own. */
static int trust_copy(vouch_engine *e, const vouch_trust *t, vouch_trust **ret)
{
	vouch_trust *c = NULL;
	int r;

	*ret = NULL;
	if (!t)
		return 0;
	r = vouch_trust_new(ectx(e), &c);
	for (size_t i = 0; r == 0 && i < vouch_trust_count(t); i++) {
		const vouch_cert *cert;
		const char *kr;

		r = vouch_trust_get(t, i, &cert, &kr);
		if (r == 0)
			r = vouch_trust_add_cert(c, cert, kr);
	}
	if (r < 0) {
		vouch_trust_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

static int pin_file_write(vouch_engine *e, int k)
{
	const vouch_trust *t = e->pin[k];
	BIO *bio;
	char *mem;
	long n;
	int r = 0;

	bio = BIO_new(BIO_s_mem());
	if (!bio)
		return ctx_err_ssl(ectx(e), -ENOMEM, "out of memory");
	for (size_t i = 0; t && i < vouch_trust_count(t); i++) {
		const vouch_cert *cert;

		if (vouch_trust_get(t, i, &cert, NULL) < 0 ||
		    !PEM_write_bio_X509(bio, cert_x509(cert))) {
			r = ctx_err_ssl(ectx(e), -EIO, "cannot encode the pinned trust store");
			break;
		}
	}
	n = BIO_get_mem_data(bio, &mem);
	if (r == 0) {
		int dir_err = 0;

		r = state_file_replace(e, pin_file[k], n > 0 ? mem : "", n > 0 ? (size_t)n : 0,
				       &dir_err);
		if (r == 0)
			r = dir_err;
	}
	BIO_free(bio);
	return r;
}

static int pin_file_read(vouch_engine *e, int k)
{
	_cleanup_free_ char *path = state_path(e, pin_file[k]);
	struct stat st;
	int r;

	if (!path)
		return -ENOMEM;
	r = vouch_trust_new(ectx(e), &e->pin[k]);
	if (r < 0)
		return r;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0; /* pinned empty */
		return ctx_err(ectx(e), -errno, "cannot read the pinned trust '%s': %m", path);
	}
	if (st.st_size == 0)
		return 0;
	r = vouch_trust_add_path(e->pin[k], path, pin_keyring[k]);
	if (r < 0)
		return ctx_err(ectx(e), r == -ENOENT ? -EBADMSG : r,
			       "corrupt pinned trust '%s': %s", path, vouch_ctx_last_error(ectx(e)));
	return 0;
}

/* Pin the current trust stores and xattr name for the latch (the first latch only). */
static int latch_pin(vouch_engine *e)
{
	int r;

	if (e->pinned)
		return 0;
	for (int k = 0; k < _VOUCH_KEYRING_MAX; k++) {
		r = trust_copy(e, e->trust[k], &e->pin[k]);
		if (r < 0)
			return r;
		if (e->state_dir) {
			r = pin_file_write(e, k);
			if (r < 0)
				return r;
		}
	}
	e->pinned = true;
	return 0;
}

static const vouch_trust *trust_for(const vouch_engine *e, int keyring, bool latched)
{
	return latched ? e->pin[keyring] : e->trust[keyring];
}

static int latch_read(vouch_engine *e)
{
	_cleanup_free_ char *path = state_path(e, LATCH_FILE);
	_cleanup_free_ uint8_t *buf = NULL;
	char *line, *save = NULL;
	const char *xattr = NULL;
	bool pinned = false;
	int r;

	if (!path)
		return -ENOMEM;
	r = state_file_read(e, path, 1 << 16, &buf);
	if (r != 0)
		return r < 0 ? r : 0;
	for (line = strtok_r((char *)buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int f;

		if (!strncmp(line, "xattr ", 6) && line[6]) {
			xattr = line + 6;
			continue;
		}
		if (!strcmp(line, "pinned")) {
			pinned = true;
			continue;
		}
		f = vouch_policy_func_by_name(line);
		/* an unreadable latch fails closed: refuse to start rather than forget it */
		if (f < 0)
			return ctx_err(ectx(e), -EBADMSG, "corrupt latch file '%s'", path);
		e->latch[f] = true;
		e->mode[f] = VOUCH_MODE_ENFORCE;
	}
	if (pinned != !!xattr)
		return ctx_err(ectx(e), -EBADMSG, "corrupt latch file '%s'", path);
	if (!pinned)
		return 0; /* latched before pinning existed: latched loads find no trusted key */
	if (e->xattr_explicit && strcmp(xattr, e->xattr_name) != 0)
		return ctx_err(ectx(e), -EROFS,
			       "state '%s' is latched on the xattr %s: refusing to appraise %s",
			       e->state_dir, xattr, e->xattr_name);
	if (strcmp(xattr, e->xattr_name) != 0) {
		char *x = mem_strdup(xattr);

		if (!x)
			return -ENOMEM;
		free(e->xattr_name);
		e->xattr_name = x;
	}
	for (int k = 0; k < _VOUCH_KEYRING_MAX; k++) {
		r = pin_file_read(e, k);
		if (r < 0)
			return r;
	}
	e->pinned = true;
	return 0;
}

/* ---------------------------------------------------------------- state */

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

static void remove_stale_temps(vouch_engine *e)
{
	DIR *d = opendir(e->state_dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strstr(de->d_name, ".vouch-")) {
			_cleanup_free_ char *p = state_path(e, de->d_name);

			if (p)
				unlink(p);
		}
	}
	closedir(d);
}

static int state_open(vouch_engine *e)
{
	_cleanup_free_ char *lpath = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	uint8_t saved[N_BANKS][N_PCR][VOUCH_HASH_MAX_SIZE];
	uint64_t count = 0, saved_entries = 0;
	size_t len = 0, end = 0;
	struct stat st;
	int r;

	if (mkdir(e->state_dir, 0700) < 0 && errno != EEXIST)
		return ctx_err(ectx(e), -errno, "cannot create state directory '%s': %m",
			       e->state_dir);
	if (stat(e->state_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return ctx_err(ectx(e), -ENOTDIR, "state directory '%s' is not a directory",
			       e->state_dir);
	lpath = state_path(e, LIST_FILE);
	if (!lpath)
		return -ENOMEM;
	e->list_fd = open(lpath, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (e->list_fd < 0)
		return ctx_err(ectx(e), -errno, "cannot open '%s': %m", lpath);
	/*
	 * One engine per state at a time: the list and the PCR file move together.  Everything
	 * else in the state is read or changed only under this lock: the temp files of another
	 * engine are in flight until it lets go, so stale ones are removed only now.
	 */
	if (flock(e->list_fd, LOCK_EX) < 0)
		return ctx_err(ectx(e), -errno, "cannot lock '%s': %m", lpath);
	r = state_dir_sync(e); /* the list file may be new */
	if (r < 0)
		return r;
	remove_stale_temps(e);
	r = latch_read(e);
	if (r < 0)
		return r;
	r = read_fd_all(ectx(e), e->list_fd, lpath, VOUCH_MAX_FILE_SIZE, &buf, &len);
	if (r < 0)
		return r;
	r = list_walk(e, buf, len, false, &count, &end);
	if (r < 0)
		return r;
	if (end < len) {
		/* a torn final record: never acknowledged, never extended */
		if (ftruncate(e->list_fd, (off_t)end) < 0 || fsync(e->list_fd) < 0)
			return ctx_err(ectx(e), -errno, "cannot cut the torn tail of '%s': %m", lpath);
		emit(e, 0, "recover", lpath, 0, "torn final record removed", 0, 0, NULL);
		len = end;
	}
	r = pcr_file_read(e, &saved_entries, saved);
	if (r < 0)
		return r;
	/*
	 * The documented tail: entries are written and synced in groups and extended after
	 * that, and the PCR file is a checkpoint that may lag the list by up to
	 * VOUCH_ENGINE_TAIL_MAX entries (see engine.h); a crash can leave that many durable
	 * entries without their extends.  More, or a PCR file ahead of the list, is refused.
	 */
	if (saved_entries > count || count - saved_entries > VOUCH_ENGINE_TAIL_MAX)
		return ctx_err(ectx(e), -EBADMSG,
			       "measurement list has %llu entries but the PCRs include %llu: "
			       "refusing the state in '%s'",
			       (unsigned long long)count, (unsigned long long)saved_entries,
			       e->state_dir);
	/* replay the entries the PCRs include and compare, then extend the tail */
	{
		size_t off = 0;
		uint64_t n = 0;

		memset(e->pcr, 0, sizeof(e->pcr));
		for (uint64_t i = 0; i < saved_entries; i++) {
			size_t nl = (size_t)buf[off + 24] | (size_t)buf[off + 25] << 8 |
				    (size_t)buf[off + 26] << 16 | (size_t)buf[off + 27] << 24;
			size_t dpos = off + 28 + nl;
			size_t dl = (size_t)buf[dpos] | (size_t)buf[dpos + 1] << 8 |
				    (size_t)buf[dpos + 2] << 16 | (size_t)buf[dpos + 3] << 24;

			off = dpos + 4 + dl;
		}
		r = list_walk(e, buf, off, true, &n, &end);
		if (r < 0)
			return r;
		if (memcmp(e->pcr, saved, sizeof(saved)) != 0)
			return ctx_err(ectx(e), -EBADMSG,
				       "software PCRs do not match the measurement list in '%s'",
				       e->state_dir);
		if (count > saved_entries) {
			r = list_walk(e, buf + off, len - off, true, &n, &end);
			if (r < 0)
				return r;
			r = pcr_file_write(e, e->pcr, count);
			if (r < 0)
				return r;
			if (count - saved_entries == 1)
				emit(e, 0, "recover", lpath, 0, "durable tail entry extended", 0, 0,
				     NULL);
			else
				emit(e, 0, "recover", lpath, 0, "durable tail entries extended", 0, 0,
				     NULL);
		}
	}
	e->ckpt_entries = count;
	e->ckpt_ns = mono_ns();
	e->entries = count;
	e->list = TAKE_PTR(buf);
	e->list_len = len;
	e->list_cap = len;
	return 0;
}

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
 * completes those extends (state_open(), engine_tpm_attach()).
 */

/* Write the PCR file for the state as of now (list lock held; dropped during the I/O). */
static int checkpoint(vouch_engine *e)
{
	pcr_state snap;
	uint64_t n = e->entries;
	int r;

	if (!e->state_dir || n == e->ckpt_entries)
		return 0;
	memcpy(snap, e->pcr, sizeof(snap));
	pthread_mutex_unlock(&e->list_lock);
	r = pcr_file_write(e, snap, n);
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
		r = checkpoint(e);
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
		(void)checkpoint(e); /* retried later; its lag is bounded above */
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

/* Append one record: durable in the list first, then the PCRs (list_commit()). */
static int measure_append(vouch_engine *e, uint32_t pcr, const char *tmpl,
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

static int locks_init(vouch_engine *e)
{
	pthread_rwlockattr_t a;
	int r;

	/* a writer (set_policy) is not starved by a steady stream of hooks */
	if (pthread_rwlockattr_init(&a) != 0)
		return -ENOMEM;
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	r = pthread_rwlock_init(&e->cfg_lock, &a);
	pthread_rwlockattr_destroy(&a);
	if (r != 0)
		return -ENOMEM;
	pthread_mutex_init(&e->cache_lock, NULL);
	pthread_mutex_init(&e->list_lock, NULL);
	pthread_cond_init(&e->list_cond, NULL);
	pthread_mutex_init(&e->audit_lock, NULL);
	pthread_mutex_init(&e->pool_lock, NULL);
	e->locks_ready = true;
	return 0;
}

VOUCH_EXPORT int vouch_engine_new(vouch_ctx *ctx, const struct vouch_engine_options *opts,
				  vouch_engine **ret)
{
	struct vouch_engine_options def = VOUCH_ENGINE_OPTIONS_INIT;
	vouch_engine *e;
	int r;

	if (!ctx || !ret)
		return -EINVAL;
	if (!opts)
		opts = &def;
	if (opts->version != 1 || (opts->flags & ~VOUCH_ENGINE_NO_CACHE))
		return ctx_err(ctx, -EINVAL, "unsupported engine options");
	for (size_t i = 0; i < ARRAY_SIZE(opts->reserved); i++)
		if (opts->reserved[i])
			return ctx_err(ctx, -EINVAL, "reserved engine option set");
	if (opts->hash_algo && !vouch_hash_available(ctx, opts->hash_algo))
		return ctx_err(ctx, -EINVAL, "hash algorithm %d not available", opts->hash_algo);
	if (opts->template_name && !template_supported(opts->template_name))
		return ctx_err(ctx, -EINVAL, "template '%s' not supported by the engine",
			       opts->template_name);
	e = mem_zalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->ctx = ctx;
	e->list_fd = -1;
	e->q_tail = &e->q_head;
	if (locks_init(e) < 0) {
		free(e);
		return -ENOMEM;
	}
	e->flags = opts->flags;
	e->audit_fn = opts->audit_fn;
	e->audit_ud = opts->audit_userdata;
	e->hash_algo = opts->hash_algo ? opts->hash_algo : VOUCH_HASH_SHA256;
	e->template_name = mem_strdup(opts->template_name ? opts->template_name : "ima-sig");
	e->xattr_name = mem_strdup(opts->xattr_name ? opts->xattr_name : "security.ima");
	e->xattr_explicit = opts->xattr_name != NULL;
	if (opts->state_dir)
		e->state_dir = mem_strdup(opts->state_dir);
	if (!e->template_name || !e->xattr_name || (opts->state_dir && !e->state_dir)) {
		vouch_engine_free(e);
		return -ENOMEM;
	}
	for (int f = 0; f < _VOUCH_FUNC_MAX; f++)
		e->mode[f] = VOUCH_MODE_ENFORCE; /* the kernel's default with CONFIG_IMA_APPRAISE */
	if (e->state_dir) {
		r = state_open(e);
		if (r < 0) {
			vouch_engine_free(e);
			return r;
		}
	}
	r = engine_tpm_attach(ctx, opts->tcti, e->state_dir, e->list, e->list_len, e->entries,
			      &e->tpm);
	if (r < 0) {
		vouch_engine_free(e);
		return r;
	}
	if (r == 1)
		emit(e, 0, "recover", engine_tpm_tcti(e->tpm), 0,
		     "durable tail entry extended into the TPM", 0, 0, NULL);
	if (e->entries == 0) {
		/* the first entry, as the kernel's: boot_aggregate over PCRs 0-9 of the software
		 * bank (all zero: nothing measures the boot into it) */
		struct vouch_pcr_bank bank = { .algo = e->hash_algo == VOUCH_HASH_SHA1
							       ? VOUCH_HASH_SHA1
							       : VOUCH_HASH_SHA256,
					       .present = 0xffffff };
		struct vouch_digest ba;

		/* with a TPM, its PCRs 0-9 as the kernel reads them */
		r = e->tpm ? engine_tpm_boot_bank(e->tpm, e->hash_algo, &bank) : 0;
		if (r == 0)
			r = vouch_log_boot_aggregate(ctx, &bank, &ba);
		if (r == 0)
			r = measure_append(e, 10, e->template_name, &ba, "boot_aggregate", NULL, 0,
					   NULL, 0);
		if (r < 0) {
			vouch_engine_free(e);
			return r;
		}
	}
	e->ready = true;
	*ret = e;
	return 0;
}

static void cache_clear(vouch_engine *e)
{
	for (size_t i = 0; i < CACHE_BUCKETS; i++) {
		while (e->cache[i]) {
			struct cache_ent *n = e->cache[i]->next;

			free(e->cache[i]);
			e->cache[i] = n;
		}
	}
}

VOUCH_EXPORT void vouch_engine_free(vouch_engine *e)
{
	if (!e)
		return;
	if (e->locks_ready) {
		/* a clean stop leaves no tail: the PCR file includes every entry */
		pthread_mutex_lock(&e->list_lock);
		if (e->ready && e->list_fd >= 0 && !e->list_torn)
			(void)checkpoint(e);
		pthread_mutex_unlock(&e->list_lock);
		pthread_rwlock_destroy(&e->cfg_lock);
		pthread_mutex_destroy(&e->cache_lock);
		pthread_mutex_destroy(&e->list_lock);
		pthread_cond_destroy(&e->list_cond);
		pthread_mutex_destroy(&e->audit_lock);
		pthread_mutex_destroy(&e->pool_lock);
	}
	while (e->workers) {
		struct worker *w = e->workers;

		e->workers = w->next_all;
		w->ctx->root = NULL; /* borrowed from the engine's context */
		vouch_ctx_free(w->ctx);
		free(w);
	}
	cache_clear(e);
	vouch_policy_free(e->policy);
	engine_tpm_free(e->tpm);
	for (int i = 0; i < _VOUCH_KEYRING_MAX; i++) {
		vouch_trust_free(e->trust[i]);
		vouch_trust_free(e->pin[i]);
	}
	if (e->list_fd >= 0)
		close(e->list_fd);
	free(e->list);
	free(e->seen);
	free(e->blacklist);
	free(e->state_dir);
	free(e->template_name);
	free(e->xattr_name);
	free(e);
}

static int engine_set_policy_locked(vouch_engine *e, vouch_policy *policy)
{
	const char *what, *why;
	size_t idx;
	unsigned line;

	if (!e) {
		vouch_policy_free(policy);
		return -EINVAL;
	}
	/* a condition that can never match here would silently skip its rule: refuse it */
	what = policy_engine_unevaluable(policy, &idx, &line, &why);
	if (what) {
		vouch_policy_free(policy);
		return ctx_err(ectx(e), -EOPNOTSUPP,
			       "policy line %u (rule %zu): %s cannot be enforced by the engine (%s): "
			       "remove the condition or the rule",
			       line, idx + 1, what, why);
	}
	vouch_policy_free(e->policy);
	e->policy = policy;
	e->policy_creds = policy_uses_creds(policy);
	e->gen++;
	return 0;
}

static int engine_set_trust_locked(vouch_engine *e, int keyring, vouch_trust *trust)
{
	if (!e || keyring < 0 || keyring >= _VOUCH_KEYRING_MAX) {
		vouch_trust_free(trust);
		return -EINVAL;
	}
	vouch_trust_free(e->trust[keyring]);
	e->trust[keyring] = trust;
	e->gen++;
	return 0;
}

static int engine_set_blacklist_locked(vouch_engine *e, const struct vouch_digest *digests,
					   size_t n)
{
	struct vouch_digest *copy = NULL;

	if (!e || (n && !digests) || n > SIZE_MAX / sizeof(*copy))
		return -EINVAL;
	if (n) {
		copy = mem_alloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, digests, n * sizeof(*copy));
	}
	free(e->blacklist);
	e->blacklist = copy;
	e->n_blacklist = n;
	e->gen++;
	return 0;
}

static int engine_set_mode_locked(vouch_engine *e, int func, int mode)
{
	if (!e || mode < 0 || mode >= _VOUCH_MODE_MAX || (func != 0 && !func_valid(func)))
		return -EINVAL;
	for (int f = 1; f < _VOUCH_FUNC_MAX; f++)
		if ((func == 0 || f == func) && e->latch[f] && mode != VOUCH_MODE_ENFORCE)
			return ctx_err(ectx(e), -EROFS,
				       "signature enforcement of %s is latched on: its mode stays "
				       "enforce",
				       vouch_policy_func_name(f));
	for (int f = 1; f < _VOUCH_FUNC_MAX; f++)
		if (func == 0 || f == func)
			e->mode[f] = mode;
	e->gen++;
	return 0;
}

static int engine_get_mode_locked(const vouch_engine *e, int func)
{
	if (!e || !func_valid(func))
		return -EINVAL;
	return e->latch[func] ? VOUCH_MODE_ENFORCE : e->mode[func];
}

static int engine_set_sig_enforce_locked(vouch_engine *e, int func, bool enforce)
{
	bool changed = false;
	int r;

	if (!e || (func != 0 && !func_valid(func)))
		return -EINVAL;
	if (!enforce) {
		for (int f = 1; f < _VOUCH_FUNC_MAX; f++)
			if ((func == 0 || f == func) && e->latch[f])
				return ctx_err(ectx(e), -EROFS,
					       "signature enforcement of %s cannot be turned off",
					       vouch_policy_func_name(f));
		return 0;
	}
	for (int f = 1; f < _VOUCH_FUNC_MAX; f++)
		if ((func == 0 || f == func) && func_valid(f) && !e->latch[f])
			changed = true;
	if (!changed)
		return 0;
	/* the first latch pins the trust stores and the xattr name it is enforced with */
	r = latch_pin(e);
	if (r < 0)
		return r;
	for (int f = 1; f < _VOUCH_FUNC_MAX; f++) {
		if ((func == 0 || f == func) && func_valid(f) && !e->latch[f]) {
			e->latch[f] = true;
			e->mode[f] = VOUCH_MODE_ENFORCE;
		}
	}
	e->gen++;
	return latch_write(e);
}

static bool engine_get_sig_enforce_locked(const vouch_engine *e, int func)
{
	return e && func_valid(func) && e->latch[func];
}

static void engine_set_audit_fn_locked(vouch_engine *e, vouch_engine_audit_fn fn,
					    void *userdata)
{
	if (!e)
		return;
	e->audit_fn = fn;
	e->audit_ud = userdata;
}

VOUCH_EXPORT int vouch_engine_func_for_id(int id)
{
	static const int map[] = {
		[VOUCH_READING_UNKNOWN] = VOUCH_FUNC_FILE_CHECK,
		[VOUCH_READING_FIRMWARE] = VOUCH_FUNC_FIRMWARE_CHECK,
		[VOUCH_READING_MODULE] = VOUCH_FUNC_MODULE_CHECK,
		[VOUCH_READING_KEXEC_IMAGE] = VOUCH_FUNC_KEXEC_KERNEL_CHECK,
		[VOUCH_READING_KEXEC_INITRAMFS] = VOUCH_FUNC_KEXEC_INITRAMFS_CHECK,
		[VOUCH_READING_POLICY] = VOUCH_FUNC_POLICY_CHECK,
		[VOUCH_READING_X509_CERTIFICATE] = VOUCH_FUNC_FILE_CHECK,
	};

	if (id >= 0 && id < (int)ARRAY_SIZE(map))
		return map[id];
	switch (id) {
	case VOUCH_LOADING_BPF:
	case VOUCH_LOADING_SECCOMP:
		return VOUCH_FUNC_POLICY_CHECK;
	case VOUCH_LOADING_KEXEC_CMDLINE:
		return VOUCH_FUNC_KEXEC_CMDLINE;
	default:
		return -EINVAL;
	}
}

static uint64_t engine_entry_count_locked(const vouch_engine *e)
{
	return e ? e->entries : 0;
}

static int engine_get_pcr_locked(const vouch_engine *e, int algo, uint32_t pcr,
				      struct vouch_digest *ret)
{
	if (!e || !ret || pcr >= N_PCR)
		return -EINVAL;
	for (int k = 0; k < N_BANKS; k++) {
		if (bank_algo[k] != algo)
			continue;
		ret->algo = algo;
		ret->len = vouch_hash_info(algo)->size;
		memcpy(ret->bytes, e->pcr[k][pcr], ret->len);
		return 0;
	}
	return -EINVAL;
}

static int engine_get_list_locked(const vouch_engine *e, const uint8_t **ret_buf,
				       size_t *ret_len)
{
	if (!e || !ret_buf || !ret_len)
		return -EINVAL;
	*ret_buf = e->list;
	*ret_len = e->list_len;
	return 0;
}

static int engine_verify_state_locked(vouch_engine *e)
{
	uint8_t saved[N_BANKS][N_PCR][VOUCH_HASH_MAX_SIZE];
	uint64_t count;
	size_t end;
	int r;

	if (!e)
		return -EINVAL;
	memcpy(saved, e->pcr, sizeof(saved));
	memset(e->pcr, 0, sizeof(e->pcr));
	r = list_walk(e, e->list, e->list_len, true, &count, &end);
	if (r == 0 && (count != e->entries || end != e->list_len))
		r = ctx_err(ectx(e), -EBADMSG, "measurement list does not hold %llu whole entries",
			    (unsigned long long)e->entries);
	if (r == 0 && memcmp(saved, e->pcr, sizeof(saved)) != 0)
		r = ctx_err(ectx(e), -EBADMSG, "software PCRs do not match the measurement list");
	memcpy(e->pcr, saved, sizeof(saved));
	if (r == 0)
		r = engine_tpm_verify(e->tpm, e->list, e->list_len, e->entries);
	return r;
}

/* ---------------------------------------------------------------- the hook path */

struct hook {
	int func;
	uint32_t mask;
	int fd;
	const char *name;
	const uint8_t *buf; /* the bytes handed to the consumer (post_* hooks), else NULL */
	size_t len;
	bool is_buffer; /* no file behind it: no xattr, no cache */
};

static struct cache_ent *cache_find(vouch_engine *e, const struct stat *st, bool create)
{
	size_t h = (size_t)((st->st_ino * 0x9e3779b97f4a7c15ull) ^ st->st_dev) % CACHE_BUCKETS;
	struct cache_ent *c;

	for (c = e->cache[h]; c; c = c->next)
		if (c->dev == (uint64_t)st->st_dev && c->ino == (uint64_t)st->st_ino)
			break;
	if (c) {
		bool same = c->size == (uint64_t)st->st_size &&
			    c->mtime_s == (int64_t)st->st_mtim.tv_sec &&
			    c->mtime_ns == (uint32_t)st->st_mtim.tv_nsec &&
			    c->ctime_s == (int64_t)st->st_ctim.tv_sec &&
			    c->ctime_ns == (uint32_t)st->st_ctim.tv_nsec;

		if (!same) {
			/* the file changed: forget everything, it is re-measured */
			struct cache_ent *next = c->next;

			memset(c, 0, sizeof(*c));
			c->next = next;
			c->dev = (uint64_t)st->st_dev;
			c->ino = (uint64_t)st->st_ino;
			c->gen = e->gen;
		} else if (c->gen != e->gen) {
			/* new policy, trust or mode: appraise again, measurements stand */
			c->gen = e->gen;
			c->audited = false;
			memset(c->appraised, 0, sizeof(c->appraised));
		}
	} else if (create) {
		c = mem_zalloc(sizeof(*c));
		if (!c)
			return NULL;
		c->dev = (uint64_t)st->st_dev;
		c->ino = (uint64_t)st->st_ino;
		c->gen = e->gen;
		c->next = e->cache[h];
		e->cache[h] = c;
	}
	if (c) {
		c->size = (uint64_t)st->st_size;
		c->mtime_s = (int64_t)st->st_mtim.tv_sec;
		c->mtime_ns = (uint32_t)st->st_mtim.tv_nsec;
		c->ctime_s = (int64_t)st->st_ctim.tv_sec;
		c->ctime_ns = (uint32_t)st->st_ctim.tv_nsec;
	}
	return c;
}

/* @c (cache lock held) still describes the file version @st under this configuration. */
static bool cache_current(const vouch_engine *e, const struct cache_ent *c, const struct stat *st)
{
	return c->dev == (uint64_t)st->st_dev && c->ino == (uint64_t)st->st_ino &&
	       c->size == (uint64_t)st->st_size && c->mtime_s == (int64_t)st->st_mtim.tv_sec &&
	       c->mtime_ns == (uint32_t)st->st_mtim.tv_nsec &&
	       c->ctime_s == (int64_t)st->st_ctim.tv_sec &&
	       c->ctime_ns == (uint32_t)st->st_ctim.tv_nsec && c->gen == e->gen;
}

/* Hash a file from offset 0 in one pass, in up to two algorithms (pread: no offset change). */
static int hash_fd(vouch_engine *e, int fd, const char *name, const int *algos, size_t n,
		   struct vouch_digest *ret)
{
	_cleanup_free_ uint8_t *chunk = mem_alloc(HASH_CHUNK);
	vouch_hasher *hs = NULL;
	uint64_t off = 0;
	int r;

	if (!chunk)
		return -ENOMEM;
	r = vouch_hasher_new(ectx(e), algos, n, &hs);
	if (r < 0)
		return r;
	for (;;) {
		ssize_t k = pread(fd, chunk, HASH_CHUNK, (off_t)off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = ctx_err(ectx(e), -errno, "cannot read '%s': %m", name);
			break;
		}
		if (k == 0) {
			r = vouch_hasher_final(hs, ret);
			break;
		}
		r = vouch_hasher_update(hs, chunk, (size_t)k);
		if (r < 0)
			break;
		off += (uint64_t)k;
	}
	vouch_hasher_free(hs);
	return r;
}

static void copy_reason(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;

	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

/* The fs-verity file digest of exactly the bytes handed to the consumer (@data), else of @fd. */
static int verity_digest(vouch_ctx *ctx, int fd, const uint8_t *data, size_t len, int algo,
			 struct vouch_digest *ret)
{
	_cleanup_close_ int mfd = -1;
	int r;

	if (!data)
		return fd >= 0 ? vouch_ima_fsverity_digest_fd(ctx, fd, algo, ret)
			       : ctx_err(ctx, -EOPNOTSUPP, "no bytes to digest");
	mfd = memfd_create("vouch-verity", MFD_CLOEXEC);
	if (mfd < 0)
		return ctx_err(ctx, -errno, "cannot create a memfd: %m");
	r = write_all(mfd, data, len);
	if (r < 0)
		return ctx_err(ctx, r, "cannot fill a memfd");
	return vouch_ima_fsverity_digest_fd(ctx, mfd, algo, ret);
}

/*
 * Appraise one load against what the deciding rule asks for (@d) and the latch.  What the
 * attacker controls: the bytes, the xattr value, an appended signature, the file system;
 * through a library caller also the trust stores and the xattr name, which is why a latched
 * consumer uses the trust pinned in the state (trust_for()).
 */
static int appraise(vouch_engine *e, const struct hook *h, const struct vouch_policy_decision *d,
		    bool latched, const uint8_t *data, size_t len, const struct vouch_digest *md,
		    const struct vouch_digest *alt, const uint8_t *xv, size_t xlen, uint64_t fsmagic,
		    const char **ret_reason)
{
	bool verity = d->appraise_flags & VOUCH_APPRAISE_VERITY;
	bool sig_required = latched || verity || (d->appraise_flags & VOUCH_APPRAISE_IMASIG);
	/* sigv3 rules accept nothing but a v3 signature: no appended signature */
	bool modsig_ok = !verity &&
			 (latched || h->is_buffer || (d->appraise_flags & VOUCH_APPRAISE_MODSIG));
	bool check_bl = d->appraise_flags & VOUCH_APPRAISE_BLACKLIST;
	uint64_t algos = (d->appraise_flags & VOUCH_APPRAISE_ALGOS) ? d->appraise_algos : 0;
	const vouch_trust *ima = trust_for(e, VOUCH_KEYRING_IMA, latched);
	int r;

	if ((d->appraise_flags & VOUCH_APPRAISE_FAIL_UNVERIFIABLE) && fsmagic == FUSE_SUPER_MAGIC) {
		*ret_reason = "unverifiable filesystem (fail_securely)";
		return ctx_err(ectx(e), -EPERM, "'%s': signatures on this filesystem are not "
					       "verifiable", h->name);
	}
	/* check_blacklist: the file digest too (the kernel's "bin:" hashes are file hashes) */
	if (check_bl && (engine_digest_blacklisted(md, e->blacklist, e->n_blacklist) ||
			 engine_digest_blacklisted(alt, e->blacklist, e->n_blacklist))) {
		*ret_reason = "blacklisted";
		return ctx_err(ectx(e), -EPERM, "'%s': its digest is on the blacklist", h->name);
	}
	/* an appended signature is used when allowed and there is no signature xattr */
	if (modsig_ok && engine_has_modsig(data, len) && !(xv && engine_xattr_is_sig(xv, xlen))) {
		const vouch_trust *t = ima;

		if (latched && (h->func == VOUCH_FUNC_MODULE_CHECK ||
				h->func == VOUCH_FUNC_KEXEC_KERNEL_CHECK) &&
		    trust_for(e, VOUCH_KEYRING_KERNEL, true))
			t = trust_for(e, VOUCH_KEYRING_KERNEL, true);
		if (!t) {
			*ret_reason = "unknown key";
			return ctx_err(ectx(e), -ENOKEY, "'%s': no trusted keys loaded", h->name);
		}
		return engine_modsig_verify(ectx(e), t, data, len, algos,
					    check_bl ? e->blacklist : NULL,
					    check_bl ? e->n_blacklist : 0, ret_reason);
	}
	if (!xv) {
		*ret_reason = "unsigned";
		return ctx_err(ectx(e), -EPERM, "'%s': no %s and no appended signature", h->name,
			       e->xattr_name);
	}
	{
		int algo = engine_xattr_algo(xv, xlen);
		bool v3 = xv[0] == VOUCH_XATTR_VERITY_DIGSIG;
		struct vouch_digest dd;

		if (algo < 0) {
			*ret_reason = "malformed signature";
			return ctx_err(ectx(e), -EBADMSG, "'%s': malformed %s", h->name, e->xattr_name);
		}
		/* digest_type=verity: only a v3 signature; without it, never a v3 signature */
		if (verity && !v3) {
			*ret_reason = "signature v3 (fs-verity) required";
			return ctx_err(ectx(e), -EPERM, "'%s': the rule asks for a v3 signature "
						       "(digest_type=verity), %s holds another form",
				       h->name, e->xattr_name);
		}
		if (!verity && v3) {
			*ret_reason = "signature v3 not allowed by the rule";
			return ctx_err(ectx(e), -EPERM, "'%s': a v3 signature needs a rule with "
						       "digest_type=verity appraise_type=sigv3",
				       h->name);
		}
		if (v3) {
			r = verity_digest(ectx(e), h->fd, data, len, algo, &dd);
			if (r < 0) {
				*ret_reason = "could not check";
				return r;
			}
		} else if (algo == md->algo) {
			dd = *md;
		} else if (alt->algo == algo) {
			dd = *alt;
		} else if (!vouch_hash_available(ectx(e), algo) || !data) {
			*ret_reason = "algorithm not allowed";
			return ctx_err(ectx(e), -EPERM, "'%s': hash algorithm %d not available",
				       h->name, algo);
		} else {
			r = vouch_digest_buf(ectx(e), algo, data, len, &dd);
			if (r < 0) {
				*ret_reason = "could not check";
				return r;
			}
		}
		if (sig_required && !engine_xattr_is_sig(xv, xlen)) {
			*ret_reason = "unsigned (digest only, signature required)";
			return ctx_err(ectx(e), -EPERM, "'%s': %s holds a digest, a signature is "
						       "required",
				       h->name, e->xattr_name);
		}
		r = engine_ima_verify(ectx(e), ima, xv, xlen, &dd, !sig_required, algos);
		*ret_reason = r == -EKEYREJECTED && !engine_xattr_is_sig(xv, xlen) ? "digest mismatch"
										  : engine_reason(r);
		return r;
	}
}

static void fix_xattr(vouch_engine *e, const struct hook *h, const struct vouch_digest *md,
		      const uint8_t *xv, size_t xlen)
{
	uint8_t v[2 + VOUCH_HASH_MAX_SIZE];

	if (h->fd < 0 || (xv && engine_xattr_is_sig(xv, xlen)) || engine_has_modsig(h->buf, h->len))
		return;
	v[0] = 0x04;
	v[1] = (uint8_t)md->algo;
	memcpy(v + 2, md->bytes, md->len);
	if (fsetxattr(h->fd, e->xattr_name, v, 2 + md->len, 0) == 0)
		emit(e, h->func, "fix", h->name, 0, "security.ima rewritten with the file hash",
		     VOUCH_MODE_FIX, 0, md);
}

/*
 * A cached appraisal answers only a request that the same rule, with the same
 * requirements, decides: another mask, another task (uid= rules) or another rule may ask
 * for more (appraise_type=imasig, sigv3, appraise_algos=, check_blacklist).
 */
static bool cache_appraisal_reusable(const struct cache_appraisal *ca,
				     const struct vouch_policy_decision *d, bool latched)
{
	return ca->valid && ca->latched == latched && ca->rule == d->appraise_rule &&
	       ca->flags == d->appraise_flags && ca->algos == d->appraise_algos;
}

static int process(vouch_engine *e, const struct hook *h, struct vouch_engine_result *ret)
{
	struct vouch_policy_request q = VOUCH_POLICY_REQUEST_INIT;
	struct vouch_policy_decision d = { .pcr = 10 };
	struct vouch_engine_result res = { 0 };
	bool latched = e->latch[h->func];
	bool want_measure, want_appraise, want_audit;
	struct vouch_digest alt = { .algo = -1 };
	_cleanup_free_ uint8_t *owned = NULL, *xv = NULL;
	const uint8_t *data = h->buf;
	size_t len = h->len, xlen = 0;
	struct cache_ent *c = NULL;
	bool measured = false, audited = false;
	struct stat st;
	uint64_t fsmagic = 0;
	int mode, r;
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	q.func = h->func;
	q.mask = h->mask;
	if (e->policy_creds && getresuid(&ruid, &euid, &suid) == 0 &&
	    getresgid(&rgid, &egid, &sgid) == 0) {
		q.uid = ruid;
		q.euid = euid;
		q.suid = suid;
		q.gid = rgid;
		q.egid = egid;
		q.sgid = sgid;
		q.cap_setuid = euid == 0;
		q.cap_setgid = euid == 0;
	}
	if (h->fd >= 0) {
		struct statfs sfs;

		if (fstat(h->fd, &st) < 0)
			return ctx_err(ectx(e), -errno, "cannot stat '%s': %m", h->name);
		if (!S_ISREG(st.st_mode))
			return ctx_err(ectx(e), -EINVAL, "'%s' is not a regular file", h->name);
		q.fowner = st.st_uid;
		q.fgroup = st.st_gid;
		{
			bool found = false;

			pthread_mutex_lock(&e->cache_lock);
			for (size_t i = 0; i < ARRAY_SIZE(e->fsmagic); i++)
				if (e->fsmagic[i].valid && e->fsmagic[i].dev == (uint64_t)st.st_dev) {
					fsmagic = e->fsmagic[i].magic;
					found = true;
					break;
				}
			if (!found && fstatfs(h->fd, &sfs) == 0) {
				unsigned k = e->fsmagic_next++ % ARRAY_SIZE(e->fsmagic);

				fsmagic = (uint64_t)(unsigned long)sfs.f_type;
				e->fsmagic[k].dev = (uint64_t)st.st_dev;
				e->fsmagic[k].magic = fsmagic;
				e->fsmagic[k].valid = true;
			}
			pthread_mutex_unlock(&e->cache_lock);
		}
		q.fsmagic = fsmagic;
	}
	if (e->policy) {
		r = vouch_policy_match(e->policy, &q, &d);
		if (r < 0)
			return r;
	}
	mode = latched ? VOUCH_MODE_ENFORCE : e->mode[h->func];
	if (!latched && mode == VOUCH_MODE_OFF && (d.actions & VOUCH_ACT_APPRAISE) &&
	    (h->func == VOUCH_FUNC_MODULE_CHECK || h->func == VOUCH_FUNC_FIRMWARE_CHECK ||
	     h->func == VOUCH_FUNC_KEXEC_KERNEL_CHECK || h->func == VOUCH_FUNC_POLICY_CHECK))
		mode = VOUCH_MODE_LOG; /* ima_appraise_flag(): such rules re-enable appraisal */
	want_measure = d.actions & VOUCH_ACT_MEASURE;
	want_appraise = latched || ((d.actions & VOUCH_ACT_APPRAISE) && mode != VOUCH_MODE_OFF);
	want_audit = d.actions & VOUCH_ACT_AUDIT;
	res.actions = d.actions | (latched ? VOUCH_ACT_APPRAISE : 0);
	res.mode = mode;
	if (!want_measure && !want_appraise && !want_audit)
		goto done;

	if (h->fd >= 0 && !(e->flags & VOUCH_ENGINE_NO_CACHE)) {
		bool hit;

		/*
		 * Entries are never freed while the engine lives: @c stays valid, and what is
		 * learnt below is stored only if it still describes this version of the file.
		 */
		pthread_mutex_lock(&e->cache_lock);
		c = cache_find(e, &st, true);
		if (!c) {
			pthread_mutex_unlock(&e->cache_lock);
			return -ENOMEM;
		}
		measured = c->measured_pcrs & ((uint64_t)1 << d.pcr);
		audited = c->audited;
		hit = (!want_measure || measured) &&
		      (!want_appraise ||
		       cache_appraisal_reusable(&c->appraised[h->func], &d, latched)) &&
		      (!want_audit || audited);
		if (hit) {
			res.cached = true;
			res.digest = c->digest;
			if (want_appraise) {
				res.appraised = true;
				res.appraisal = c->appraised[h->func].appraisal;
				copy_reason(res.reason, sizeof(res.reason),
					    c->appraised[h->func].reason);
			}
		}
		pthread_mutex_unlock(&e->cache_lock);
		if (hit)
			goto decide;
	}

	/* cold: the appraisal value first, so that one pass hashes in both algorithms */
	if (h->fd >= 0) {
		/* ask for the size first: values are small, XATTR_SIZE_MAX is 64 KiB */
		ssize_t n = fgetxattr(h->fd, e->xattr_name, NULL, 0);

		if (n > 65536)
			return ctx_err(ectx(e), -EBADMSG, "%s of '%s' is too large", e->xattr_name,
				       h->name);
		if (n > 0) {
			xv = mem_alloc((size_t)n);
			if (!xv)
				return -ENOMEM;
			n = fgetxattr(h->fd, e->xattr_name, xv, (size_t)n);
		}
		if (n < 0) {
			if (errno != ENODATA && errno != ENOTSUP)
				return ctx_err(ectx(e), -errno, "cannot read %s of '%s': %m",
					       e->xattr_name, h->name);
			free(xv);
			xv = NULL;
		} else if (n > 0) {
			xlen = (size_t)n;
		}
	}
	/*
	 * Read the bytes once, through the fd.  The whole file is kept only when an appended
	 * signature may be checked; otherwise it is hashed as it streams by.
	 */
	if (!data && h->fd >= 0 &&
	    (latched || (d.appraise_flags & VOUCH_APPRAISE_MODSIG))) {
		r = pread_fd_all(ectx(e), h->fd, h->name, VOUCH_MAX_FILE_SIZE, &owned, &len);
		if (r < 0)
			return r;
		data = owned;
	}
	if (!data && h->fd >= 0) {
		int xa = xv ? engine_xattr_algo(xv, xlen) : -1;
		int algos[2] = { e->hash_algo, xa };
		size_t na = xa >= 0 && xa != e->hash_algo && vouch_hash_available(ectx(e), xa) ? 2 : 1;
		struct vouch_digest ds[2];

		r = hash_fd(e, h->fd, h->name, algos, na, ds);
		if (r < 0)
			return r;
		res.digest = ds[0];
		if (na == 2)
			alt = ds[1];
	} else {
		if (!data)
			data = (const uint8_t *)"";
		r = vouch_digest_buf(ectx(e), e->hash_algo, data, len, &res.digest);
		if (r < 0)
			return r;
	}
	if (want_appraise) {
		const char *reason = "ok";

		r = appraise(e, h, &d, latched, data, len, &res.digest, &alt, xv, xlen, fsmagic,
			     &reason);
		if (r < 0 && !vouch_error_is_verdict(r) && r != -EOPNOTSUPP)
			return r;
		res.appraised = true;
		res.appraisal = r;
		copy_reason(res.reason, sizeof(res.reason), reason);
		emit(e, h->func, "appraise", h->name, r, reason, mode,
		     latched ? 0 : d.appraise_rule, &res.digest);
		if (r < 0 && mode == VOUCH_MODE_FIX) {
			fix_xattr(e, h, &res.digest, xv, xlen);
		}
		if (c) {
			struct cache_appraisal *ca = &c->appraised[h->func];

			pthread_mutex_lock(&e->cache_lock);
			if (cache_current(e, c, &st)) {
				ca->valid = true;
				ca->latched = latched;
				ca->rule = d.appraise_rule;
				ca->flags = d.appraise_flags;
				ca->algos = d.appraise_algos;
				ca->appraisal = r;
				ca->reason = reason;
			}
			pthread_mutex_unlock(&e->cache_lock);
		}
	}
	if (want_measure && !measured) {
		/* buffers default to ima-buf, as process_buffer_measurement() */
		const char *tmpl = d.template_name ? d.template_name
				   : h->is_buffer  ? "ima-buf"
						   : e->template_name;
		bool sig = xv && engine_xattr_is_sig(xv, xlen);

		r = measure_append(e, d.pcr, tmpl, &res.digest, h->name, sig ? xv : NULL,
				   sig ? xlen : 0, data, len);
		emit(e, h->func, "measure", h->name, r < 0 ? r : 0,
		     r < 0 ? "list write failed" : r > 0 ? "hash_exists" : "ok", mode, d.measure_rule,
		     &res.digest);
		if (r < 0)
			return r; /* fail closed: a load that cannot be measured does not proceed */
		res.measured = r == 0;
	}
	if (want_audit && !audited)
		emit(e, h->func, "audit", h->name, 0, "file hash", mode, d.audit_rule, &res.digest);
	if (c) {
		pthread_mutex_lock(&e->cache_lock);
		if (cache_current(e, c, &st)) {
			if (want_measure)
				c->measured_pcrs |= (uint64_t)1 << d.pcr;
			if (want_audit)
				c->audited = true;
			c->digest = res.digest;
		}
		pthread_mutex_unlock(&e->cache_lock);
	}

decide:
	if (res.appraised && res.appraisal < 0 && mode == VOUCH_MODE_ENFORCE &&
	    !(d.actions & VOUCH_ACT_DONT_APPRAISE && !latched))
		res.denied = true;
done:
	if (res.denied && !res.cached)
		emit(e, h->func, "deny", h->name, res.appraisal, res.reason, mode, d.appraise_rule,
		     &res.digest);
	if (ret)
		*ret = res;
	return res.denied ? -EACCES : 0;
}

static int engine_file_check_locked(vouch_engine *e, int func, int fd, const char *name,
					 uint32_t mask, struct vouch_engine_result *ret)
{
	struct hook h = { .func = func, .mask = mask, .fd = fd, .name = name };

	if (!e || fd < 0 || !name)
		return -EINVAL;
	if (func != VOUCH_FUNC_FILE_CHECK && func != VOUCH_FUNC_MMAP_CHECK &&
	    func != VOUCH_FUNC_BPRM_CHECK && func != VOUCH_FUNC_CREDS_CHECK)
		return ctx_err(ectx(e), -EINVAL, "func %d is not a file hook", func);
	return process(e, &h, ret);
}

static int engine_read_file_locked(vouch_engine *e, int id, int fd, const char *name,
					bool contents, struct vouch_engine_result *ret)
{
	struct hook h = { .mask = VOUCH_MAY_READ, .fd = fd, .name = name };

	if (!e || id < 0 || id > VOUCH_READING_X509_CERTIFICATE || fd < 0 || !name)
		return -EINVAL;
	if (contents) {
		/* the whole file comes to post_read_file: nothing to do yet */
		if (ret)
			memset(ret, 0, sizeof(*ret));
		return 0;
	}
	h.func = vouch_engine_func_for_id(id);
	return process(e, &h, ret);
}

static int engine_post_read_file_locked(vouch_engine *e, int id, int fd, const char *name,
					     const void *buf, size_t len,
					     struct vouch_engine_result *ret)
{
	struct hook h = { .mask = VOUCH_MAY_READ, .fd = fd, .name = name, .buf = buf, .len = len };
	int func;

	if (!e || id < 0 || id > VOUCH_READING_X509_CERTIFICATE || !name)
		return -EINVAL;
	func = vouch_engine_func_for_id(id);
	if (ret)
		memset(ret, 0, sizeof(*ret));
	if (fd < 0 && id == VOUCH_READING_X509_CERTIFICATE)
		return 0; /* integrity_load_x509(): permitted */
	if (fd < 0 || !buf || len == 0) {
		bool enforcing = e->latch[func] || e->mode[func] == VOUCH_MODE_ENFORCE;

		if (ret)
			ret->denied = enforcing;
		return enforcing ? ctx_err(ectx(e), -EACCES, "'%s': no file or no data", name) : 0;
	}
	h.func = func;
	return process(e, &h, ret);
}

static bool enforcing_with_rule(const vouch_engine *e, int func)
{
	return (e->latch[func] || e->mode[func] == VOUCH_MODE_ENFORCE) &&
	       (e->latch[func] || policy_has_appraise(e->policy, func));
}

static int engine_load_data_locked(vouch_engine *e, int id, bool contents,
					struct vouch_engine_result *ret)
{
	int func = vouch_engine_func_for_id(id);
	bool deny = false;

	if (!e || func < 0)
		return -EINVAL;
	switch (id) {
	case VOUCH_READING_KEXEC_IMAGE: /* kexec_load(): nothing to appraise */
		deny = enforcing_with_rule(e, func);
		break;
	case VOUCH_READING_FIRMWARE: /* sysfs fallback */
		deny = !contents && enforcing_with_rule(e, func);
		break;
	case VOUCH_READING_MODULE: /* init_module(): allowed when sig_enforce checks it later */
		deny = !e->latch[func] && enforcing_with_rule(e, func);
		break;
	default:
		break;
	}
	if (ret) {
		memset(ret, 0, sizeof(*ret));
		ret->denied = deny;
		ret->mode = e->latch[func] ? VOUCH_MODE_ENFORCE : e->mode[func];
		if (deny)
			snprintf(ret->reason, sizeof(ret->reason), "no file to appraise");
	}
	if (deny) {
		emit(e, func, "deny", "", -EACCES, "no file to appraise", VOUCH_MODE_ENFORCE, 0, NULL);
		return ctx_err(ectx(e), -EACCES, "load without a file refused: %s appraisal is "
						"enforced",
			       vouch_policy_func_name(func));
	}
	return 0;
}

static int engine_post_load_data_locked(vouch_engine *e, int id, const void *buf, size_t len,
					     const char *desc, struct vouch_engine_result *ret)
{
	struct hook h = { .mask = VOUCH_MAY_READ, .fd = -1, .name = desc, .buf = buf, .len = len,
			  .is_buffer = true };
	int func = vouch_engine_func_for_id(id);

	if (!e || func < 0 || !desc || (!buf && len))
		return -EINVAL;
	if (id == VOUCH_READING_FIRMWARE && enforcing_with_rule(e, func)) {
		/* ima_post_load_data(): a firmware buffer without a file cannot be appraised */
		if (ret) {
			memset(ret, 0, sizeof(*ret));
			ret->denied = true;
		}
		return ctx_err(ectx(e), -EACCES, "firmware buffer '%s' refused: appraisal is enforced",
			       desc);
	}
	if (id == VOUCH_READING_MODULE && !e->latch[func]) {
		/* init_module buffers are not measured or appraised by IMA */
		if (ret)
			memset(ret, 0, sizeof(*ret));
		return 0;
	}
	h.func = func;
	return process(e, &h, ret);
}

VOUCH_EXPORT const char *vouch_engine_get_tcti(const vouch_engine *e)
{
	return e ? engine_tpm_tcti(e->tpm) : NULL;
}

/* ---------------------------------------------------------------- calls from several threads */

struct call {
	struct worker *w;
	const vouch_engine *prev_e;
	vouch_ctx *prev_ctx;
};

/*
 * Enter a hook (@exclusive false: shared with other hooks, on a worker context of its own)
 * or a change of the configuration (exclusive: no hook runs meanwhile).
 */
static int call_begin(vouch_engine *e, struct call *c, bool exclusive)
{
	struct worker *w;

	c->w = NULL;
	if (exclusive) {
		pthread_rwlock_wrlock(&e->cfg_lock);
		return 0;
	}
	pthread_rwlock_rdlock(&e->cfg_lock);
	pthread_mutex_lock(&e->pool_lock);
	w = e->pool;
	if (w)
		e->pool = w->next_free;
	pthread_mutex_unlock(&e->pool_lock);
	if (!w) {
		w = mem_zalloc(sizeof(*w));
		if (w && vouch_ctx_new(&w->ctx) < 0) {
			free(w);
			w = NULL;
		}
		if (!w) {
			pthread_rwlock_unlock(&e->cfg_lock);
			return -ENOMEM;
		}
		pthread_mutex_lock(&e->pool_lock);
		w->next_all = e->workers;
		e->workers = w;
		e->n_workers++;
		pthread_mutex_unlock(&e->pool_lock);
	}
	/* the caller's logging and root, borrowed for the call */
	w->ctx->log_fn = e->ctx->log_fn;
	w->ctx->log_userdata = e->ctx->log_userdata;
	w->ctx->log_max_level = e->ctx->log_max_level;
	w->ctx->root = e->ctx->root;
	w->ctx->errmsg[0] = '\0';
	c->w = w;
	c->prev_e = call_tls.e;
	c->prev_ctx = call_tls.ctx;
	call_tls.e = e;
	call_tls.ctx = w->ctx;
	return 0;
}

static int call_end(vouch_engine *e, struct call *c, int r)
{
	struct worker *w = c->w;

	if (w) {
		call_tls.e = c->prev_e;
		call_tls.ctx = c->prev_ctx;
		if (w->ctx->errmsg[0]) {
			/* the caller's context gets the message, as from a single thread; the
			 * engine writes the caller's context only under the list lock (or
			 * exclusively) */
			pthread_mutex_lock(&e->list_lock);
			memcpy(e->ctx->errmsg, w->ctx->errmsg, sizeof(e->ctx->errmsg));
			pthread_mutex_unlock(&e->list_lock);
		}
		w->ctx->root = NULL;
		pthread_mutex_lock(&e->pool_lock);
		w->next_free = e->pool;
		e->pool = w;
		pthread_mutex_unlock(&e->pool_lock);
	}
	pthread_rwlock_unlock(&e->cfg_lock);
	return r;
}

VOUCH_EXPORT int vouch_engine_set_policy(vouch_engine *e, vouch_policy *policy)
{
	struct call c;

	if (!e) {
		vouch_policy_free(policy);
		return -EINVAL;
	}
	call_begin(e, &c, true);
	return call_end(e, &c, engine_set_policy_locked(e, policy));
}

VOUCH_EXPORT int vouch_engine_set_trust(vouch_engine *e, int keyring, vouch_trust *trust)
{
	struct call c;

	if (!e) {
		vouch_trust_free(trust);
		return -EINVAL;
	}
	call_begin(e, &c, true);
	return call_end(e, &c, engine_set_trust_locked(e, keyring, trust));
}

VOUCH_EXPORT int vouch_engine_set_blacklist(vouch_engine *e, const struct vouch_digest *digests,
					   size_t n)
{
	struct call c;

	if (!e)
		return -EINVAL;
	call_begin(e, &c, true);
	return call_end(e, &c, engine_set_blacklist_locked(e, digests, n));
}

VOUCH_EXPORT int vouch_engine_set_mode(vouch_engine *e, int func, int mode)
{
	struct call c;

	if (!e)
		return -EINVAL;
	call_begin(e, &c, true);
	return call_end(e, &c, engine_set_mode_locked(e, func, mode));
}

VOUCH_EXPORT int vouch_engine_set_sig_enforce(vouch_engine *e, int func, bool enforce)
{
	struct call c;

	if (!e)
		return -EINVAL;
	call_begin(e, &c, true);
	return call_end(e, &c, engine_set_sig_enforce_locked(e, func, enforce));
}

VOUCH_EXPORT void vouch_engine_set_audit_fn(vouch_engine *e, vouch_engine_audit_fn fn,
					    void *userdata)
{
	struct call c;

	if (!e)
		return;
	call_begin(e, &c, true);
	engine_set_audit_fn_locked(e, fn, userdata);
	call_end(e, &c, 0);
}

VOUCH_EXPORT int vouch_engine_get_mode(const vouch_engine *ce, int func)
{
	vouch_engine *e = (vouch_engine *)ce; /* the locks only */
	int r;

	if (!e)
		return -EINVAL;
	pthread_rwlock_rdlock(&e->cfg_lock);
	r = engine_get_mode_locked(e, func);
	pthread_rwlock_unlock(&e->cfg_lock);
	return r;
}

VOUCH_EXPORT bool vouch_engine_get_sig_enforce(const vouch_engine *ce, int func)
{
	vouch_engine *e = (vouch_engine *)ce; /* the locks only */
	bool r;

	if (!e)
		return false;
	pthread_rwlock_rdlock(&e->cfg_lock);
	r = engine_get_sig_enforce_locked(e, func);
	pthread_rwlock_unlock(&e->cfg_lock);
	return r;
}

VOUCH_EXPORT uint64_t vouch_engine_entry_count(const vouch_engine *ce)
{
	vouch_engine *e = (vouch_engine *)ce; /* the locks only */
	uint64_t n;

	if (!e)
		return 0;
	pthread_mutex_lock(&e->list_lock);
	n = engine_entry_count_locked(e);
	pthread_mutex_unlock(&e->list_lock);
	return n;
}

VOUCH_EXPORT int vouch_engine_get_pcr(const vouch_engine *ce, int algo, uint32_t pcr,
				      struct vouch_digest *ret)
{
	vouch_engine *e = (vouch_engine *)ce; /* the locks only */
	int r;

	if (!e)
		return -EINVAL;
	pthread_mutex_lock(&e->list_lock);
	r = engine_get_pcr_locked(e, algo, pcr, ret);
	pthread_mutex_unlock(&e->list_lock);
	return r;
}

VOUCH_EXPORT int vouch_engine_get_list(const vouch_engine *ce, const uint8_t **ret_buf,
				       size_t *ret_len)
{
	vouch_engine *e = (vouch_engine *)ce; /* the locks only */
	int r;

	if (!e)
		return -EINVAL;
	pthread_mutex_lock(&e->list_lock);
	r = engine_get_list_locked(e, ret_buf, ret_len);
	pthread_mutex_unlock(&e->list_lock);
	return r;
}

VOUCH_EXPORT int vouch_engine_verify_state(vouch_engine *e)
{
	int r;

	if (!e)
		return -EINVAL;
	pthread_mutex_lock(&e->list_lock);
	r = engine_verify_state_locked(e);
	pthread_mutex_unlock(&e->list_lock);
	return r;
}

VOUCH_EXPORT int vouch_engine_get_group_stats(const vouch_engine *ce, uint64_t *ret_groups,
					  uint64_t *ret_entries)
{
	vouch_engine *e = (vouch_engine *)ce; /* the locks only */

	if (!e || !ret_groups || !ret_entries)
		return -EINVAL;
	pthread_mutex_lock(&e->list_lock);
	*ret_groups = e->groups;
	*ret_entries = e->grouped;
	pthread_mutex_unlock(&e->list_lock);
	return 0;
}

VOUCH_EXPORT int vouch_engine_file_check(vouch_engine *e, int func, int fd, const char *name,
					 uint32_t mask, struct vouch_engine_result *ret)
{
	struct call c;
	int r;

	if (!e)
		return -EINVAL;
	r = call_begin(e, &c, false);
	if (r < 0)
		return r;
	return call_end(e, &c, engine_file_check_locked(e, func, fd, name, mask, ret));
}

VOUCH_EXPORT int vouch_engine_read_file(vouch_engine *e, int id, int fd, const char *name,
					bool contents, struct vouch_engine_result *ret)
{
	struct call c;
	int r;

	if (!e)
		return -EINVAL;
	r = call_begin(e, &c, false);
	if (r < 0)
		return r;
	return call_end(e, &c, engine_read_file_locked(e, id, fd, name, contents, ret));
}

VOUCH_EXPORT int vouch_engine_post_read_file(vouch_engine *e, int id, int fd, const char *name,
					     const void *buf, size_t len,
					     struct vouch_engine_result *ret)
{
	struct call c;
	int r;

	if (!e)
		return -EINVAL;
	r = call_begin(e, &c, false);
	if (r < 0)
		return r;
	return call_end(e, &c, engine_post_read_file_locked(e, id, fd, name, buf, len, ret));
}

VOUCH_EXPORT int vouch_engine_load_data(vouch_engine *e, int id, bool contents,
					struct vouch_engine_result *ret)
{
	struct call c;
	int r;

	if (!e)
		return -EINVAL;
	r = call_begin(e, &c, false);
	if (r < 0)
		return r;
	return call_end(e, &c, engine_load_data_locked(e, id, contents, ret));
}

VOUCH_EXPORT int vouch_engine_post_load_data(vouch_engine *e, int id, const void *buf, size_t len,
					     const char *desc, struct vouch_engine_result *ret)
{
	struct call c;
	int r;

	if (!e)
		return -EINVAL;
	r = call_begin(e, &c, false);
	if (r < 0)
		return r;
	return call_end(e, &c, engine_post_load_data_locked(e, id, buf, len, desc, ret));
}
