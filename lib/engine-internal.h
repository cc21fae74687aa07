/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Engine internals: the engine's state (struct vouch_engine) and what its files share:
 * lifecycle, configuration and calls (engine.c), the measurement list and its group commit
 * (engine-list.c), the state directory and the latch (engine-state.c), the hook path
 * (engine-hook.c), the appraisal helpers (engine-appraise.c) and the TPM backend
 * (engine-pcr.c).
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_ENGINE_INTERNAL_H
#define VOUCH_LIB_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "internal.h"
#include "policy-internal.h"
#include <vouch/engine.h>
#include <vouch/ima.h>
#include <vouch/log.h>

#define N_PCR 24
#define N_BANKS 2
#define CACHE_BUCKETS 4096

static const int bank_algo[N_BANKS] = { VOUCH_HASH_SHA1, VOUCH_HASH_SHA256 };

typedef uint8_t pcr_state[N_BANKS][N_PCR][VOUCH_HASH_MAX_SIZE];

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


/* ---------------------------------------------------------------- engine.c */

/*
 * The context of the hook call running on this thread, if any: hook calls may run on
 * several threads at once, each with a worker context of its own (its error message, its
 * cached digests); everything else uses the engine's context.
 */
struct engine_call_tls {
	const vouch_engine *e;
	vouch_ctx *ctx;
};
extern __thread struct engine_call_tls engine_call_tls;

static inline vouch_ctx *ectx(const vouch_engine *e)
{
	return engine_call_tls.e == e ? engine_call_tls.ctx : e->ctx;
}

static inline int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline bool func_valid(int func)
{
	return func > VOUCH_FUNC_NONE && func < _VOUCH_FUNC_MAX && func != VOUCH_FUNC_POST_SETATTR;
}

/* One event to the audit callback (one at a time: the callback need not be thread safe). */
void engine_emit(vouch_engine *e, int func, const char *action, const char *name, int result,
		 const char *reason, int mode, unsigned rule, const struct vouch_digest *d);

/* The arguments of one public call, for engine_call(): each call uses its own. */
struct engine_args {
	int func, id, fd, mode, keyring;
	uint32_t mask;
	const char *name;
	const void *buf;
	size_t len;
	bool contents, enforce;
	struct vouch_engine_result *ret;
	vouch_policy *policy;
	vouch_trust *trust;
	const struct vouch_digest *digests;
	vouch_engine_audit_fn audit_fn;
	void *audit_ud;
};

/*
 * Run @fn as one public call on @e (-EINVAL when @e is NULL): a hook (@exclusive false:
 * shared with other hooks, on a worker context of its own whose error message the caller's
 * context gets) or a change of the configuration (exclusive: no hook runs meanwhile).
 */
int engine_call(vouch_engine *e, bool exclusive,
		int (*fn)(vouch_engine *e, const struct engine_args *a),
		const struct engine_args *a);

/* ---------------------------------------------------------------- engine-list.c */

/* Whether the engine can fill template @t (a built-in name or a format). */
bool engine_template_supported(const char *t);

/*
 * Walk the binary list: checks each complete record and remembers its template digest,
 * extends it into e->pcr when @extend_pcrs; returns the offset after the last complete
 * record in *ret_end (a torn tail is left out), -EBADMSG for a malformed record.
 */
int engine_list_walk(vouch_engine *e, const uint8_t *buf, size_t len, bool extend_pcrs,
		     uint64_t *ret_count, size_t *ret_end);

/* The offset after the first @n records of @buf, a list engine_list_walk() has checked. */
size_t engine_list_skip(const uint8_t *buf, uint64_t n);

/* Append one record: durable in the list first, then the PCRs: 0, 1 (hash_exists), -errno. */
int engine_measure_append(vouch_engine *e, uint32_t pcr, const char *tmpl,
			  const struct vouch_digest *d, const char *name, const uint8_t *sig,
			  size_t sig_len, const uint8_t *buf, size_t buf_len);

/* Write the PCR file for the state as of now (list lock held; dropped during the I/O). */
int engine_checkpoint(vouch_engine *e);

/* ---------------------------------------------------------------- engine-state.c */

/* Open (or create) the state directory: lock it, read the latch, recover the list. */
int engine_state_open(vouch_engine *e);

/* Write the PCR file: the software bank @pcrs after the first @entries entries of the list. */
int engine_pcr_file_write(vouch_engine *e, pcr_state pcrs, uint64_t entries);

/* Pin the current trust stores and xattr name for the latch (the first latch only). */
int engine_latch_pin(vouch_engine *e);
/* Write the latch file (the latched funcs and what the latch pinned). */
int engine_latch_write(vouch_engine *e);

/* The trust for @keyring: the one the latch pinned for a latched consumer. */
static inline const vouch_trust *trust_for(const vouch_engine *e, int keyring, bool latched)
{
	return latched ? e->pin[keyring] : e->trust[keyring];
}

/* ---------------------------------------------------------------- engine-pcr.c */

/*
 * The engine's TPM PCR backend: the engine extends a TPM, through vouch_tpm_*, in addition
 * to its software bank, which stays the state's own record.
 */
/* The state file that binds a state directory to its TPM (the TCTI string, one line). */
#define ENGINE_TCTI_FILE "tcti"

struct engine_tpm;

/*
 * Open the TPM named by @tcti (NULL: the one @state_dir is bound to, if any; *ret stays
 * NULL when there is none) and check it against the list: the list (@list, @entries
 * entries) must replay to the TPM's PCRs, except for the documented tail: the entries of
 * the last group (at most VOUCH_ENGINE_GROUP_MAX) may be durable without their TPM
 * extends, which are then completed in list order.  Binds @state_dir to
 * the TPM.  Returns 0, 1 (tail entries were extended), or a negative errno: -EBADMSG
 * when the TPM and the list disagree beyond that tail.
 */
int engine_tpm_attach(vouch_ctx *ctx, const char *tcti, const char *state_dir,
		      const uint8_t *list, size_t list_len, uint64_t entries,
		      struct engine_tpm **ret);

/*
 * Stage the extend of an entry that is about to be written (as the kernel: its template
 * digest hashed with each active bank's algorithm, zero-padded SHA-1 where that is not
 * available, all-ones for a violation), before it is durable: computing it is what can
 * fail without the TPM.  engine_tpm_commit() then makes the staged extends pending (the
 * entries are durable) or drops them (they are not); engine_tpm_sync() pushes the pending
 * ones in list order.  Until every pending extend is in the TPM no new entry may be
 * written.
 */
int engine_tpm_stage(struct engine_tpm *t, const struct vouch_log_entry *entry);
void engine_tpm_commit(struct engine_tpm *t, bool durable);

/* Push the pending extends in order; 0 when nothing is pending.  What fails stays pending. */
int engine_tpm_sync(struct engine_tpm *t);

/* PCRs 0-9 of the bank the kernel would take for the boot_aggregate with @hash_algo: that
 * algorithm's bank, else sha256, else sha1. */
int engine_tpm_boot_bank(struct engine_tpm *t, int hash_algo, struct vouch_pcr_bank *ret);

/* The TPM's PCRs equal the replay of the whole list: 0, or -EBADMSG. */
int engine_tpm_verify(struct engine_tpm *t, const uint8_t *list, size_t list_len,
		      uint64_t entries);

/* The TCTI in use. */
const char *engine_tpm_tcti(const struct engine_tpm *t);

void engine_tpm_free(struct engine_tpm *t);

/* ---------------------------------------------------------------- engine-appraise.c */

bool engine_has_modsig(const uint8_t *buf, size_t len);
int engine_modsig_verify(vouch_ctx *ctx, const vouch_trust *trust, const uint8_t *buf, size_t len,
			 uint64_t allowed_algos, const struct vouch_digest *blacklist,
			 size_t n_blacklist, const char **ret_reason);
/* @d (algorithm and bytes) is one of the @n digests of @list */
bool engine_digest_blacklisted(const struct vouch_digest *d, const struct vouch_digest *list,
			       size_t n);
const char *engine_reason(int r);
/*
 * Parse a security.ima value with the library's parser (vouch_xattr_parse()): 0,
 * -EBADMSG (malformed, or a security.evm type), -EOPNOTSUPP (a legacy v1 signature).
 */
int engine_xattr_parse(vouch_ctx *ctx, const uint8_t *v, size_t len,
		       struct vouch_xattr_value *ret);
/* A signature by its type byte, well-formed or not (as the kernel's fix and ima-sig test). */
bool engine_xattr_is_sig(const uint8_t *v, size_t len);
/* Verify the value @v (@len bytes, parsed into @pv) against @d, the file's digest. */
int engine_ima_verify(vouch_ctx *ctx, const vouch_trust *trust, const uint8_t *v, size_t len,
		      const struct vouch_xattr_value *pv, const struct vouch_digest *d,
		      bool allow_digest, uint64_t allowed_algos);

#endif
