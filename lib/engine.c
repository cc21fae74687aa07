// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The integrity engine: every consumer of loaded data goes through one hook path; the
 * policy decides measure / appraise / audit; measurements go to an append-only list whose
 * entries are durable before their PCR extend; enforcement can be latched on, never off.
 *
 * This file: the engine's lifecycle, its configuration (set_*) and queries, and the calls
 * from several threads (engine_call()).  The list is in engine-list.c, the state directory
 * in engine-state.c, the hook path in engine-hook.c.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "engine-internal.h"

__thread struct engine_call_tls engine_call_tls;

/* ---------------------------------------------------------------- lifecycle */

void engine_emit(vouch_engine *e, int func, const char *action, const char *name, int result,
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
	if (e->locks_ready)
		pthread_mutex_lock(&e->audit_lock);
	e->audit_fn(e->audit_ud, &ev);
	if (e->locks_ready)
		pthread_mutex_unlock(&e->audit_lock);
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
	if (check_reserved(ctx, opts->reserved, sizeof(opts->reserved),
			   "reserved engine option set") < 0)
		return -EINVAL;
	if (opts->hash_algo && !vouch_hash_available(ctx, opts->hash_algo))
		return ctx_err(ctx, -EINVAL, "hash algorithm %d not available", opts->hash_algo);
	if (opts->template_name && !engine_template_supported(opts->template_name))
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
		r = engine_state_open(e);
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
		engine_emit(e, 0, "recover", engine_tpm_tcti(e->tpm), 0,
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
			r = engine_measure_append(e, 10, e->template_name, &ba, "boot_aggregate",
						  NULL, 0, NULL, 0);
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
			(void)engine_checkpoint(e);
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

/* ---------------------------------------------------------------- configuration */

static int set_policy(vouch_engine *e, const struct engine_args *a)
{
	vouch_policy *policy = a->policy;
	const char *what, *why;
	size_t idx;
	unsigned line;

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

static int set_trust(vouch_engine *e, const struct engine_args *a)
{
	if (a->keyring < 0 || a->keyring >= _VOUCH_KEYRING_MAX) {
		vouch_trust_free(a->trust);
		return -EINVAL;
	}
	vouch_trust_free(e->trust[a->keyring]);
	e->trust[a->keyring] = a->trust;
	e->gen++;
	return 0;
}

static int set_blacklist(vouch_engine *e, const struct engine_args *a)
{
	struct vouch_digest *copy = NULL;
	size_t n = a->len;

	if ((n && !a->digests) || n > SIZE_MAX / sizeof(*copy))
		return -EINVAL;
	if (n) {
		copy = mem_alloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, a->digests, n * sizeof(*copy));
	}
	free(e->blacklist);
	e->blacklist = copy;
	e->n_blacklist = n;
	e->gen++;
	return 0;
}

static int set_mode(vouch_engine *e, const struct engine_args *a)
{
	int func = a->func, mode = a->mode;

	if (mode < 0 || mode >= _VOUCH_MODE_MAX || (func != 0 && !func_valid(func)))
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

static int set_sig_enforce(vouch_engine *e, const struct engine_args *a)
{
	int func = a->func;
	bool changed = false;
	int r;

	if (func != 0 && !func_valid(func))
		return -EINVAL;
	if (!a->enforce) {
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
	r = engine_latch_pin(e);
	if (r < 0)
		return r;
	for (int f = 1; f < _VOUCH_FUNC_MAX; f++) {
		if ((func == 0 || f == func) && func_valid(f) && !e->latch[f]) {
			e->latch[f] = true;
			e->mode[f] = VOUCH_MODE_ENFORCE;
		}
	}
	e->gen++;
	return engine_latch_write(e);
}

static int set_audit_fn(vouch_engine *e, const struct engine_args *a)
{
	e->audit_fn = a->audit_fn;
	e->audit_ud = a->audit_ud;
	return 0;
}

VOUCH_EXPORT int vouch_engine_set_policy(vouch_engine *e, vouch_policy *policy)
{
	struct engine_args a = { .policy = policy };

	if (!e) {
		vouch_policy_free(policy);
		return -EINVAL;
	}
	return engine_call(e, true, set_policy, &a);
}

VOUCH_EXPORT int vouch_engine_set_trust(vouch_engine *e, int keyring, vouch_trust *trust)
{
	struct engine_args a = { .keyring = keyring, .trust = trust };

	if (!e) {
		vouch_trust_free(trust);
		return -EINVAL;
	}
	return engine_call(e, true, set_trust, &a);
}

VOUCH_EXPORT int vouch_engine_set_blacklist(vouch_engine *e, const struct vouch_digest *digests,
					   size_t n)
{
	struct engine_args a = { .digests = digests, .len = n };

	return engine_call(e, true, set_blacklist, &a);
}

VOUCH_EXPORT int vouch_engine_set_mode(vouch_engine *e, int func, int mode)
{
	struct engine_args a = { .func = func, .mode = mode };

	return engine_call(e, true, set_mode, &a);
}

VOUCH_EXPORT int vouch_engine_set_sig_enforce(vouch_engine *e, int func, bool enforce)
{
	struct engine_args a = { .func = func, .enforce = enforce };

	return engine_call(e, true, set_sig_enforce, &a);
}

VOUCH_EXPORT void vouch_engine_set_audit_fn(vouch_engine *e, vouch_engine_audit_fn fn,
					    void *userdata)
{
	struct engine_args a = { .audit_fn = fn, .audit_ud = userdata };

	engine_call(e, true, set_audit_fn, &a);
}

/* ---------------------------------------------------------------- queries */

/* The mode of @func as set, and in *ret_latched its latch: -EINVAL when there is no @func. */
static int func_state(const vouch_engine *ce, int func, bool *ret_latched)
{
	vouch_engine *e = (vouch_engine *)ce; /* the locks only */
	int mode;

	if (!e || !func_valid(func))
		return -EINVAL;
	pthread_rwlock_rdlock(&e->cfg_lock);
	*ret_latched = e->latch[func];
	mode = e->mode[func];
	pthread_rwlock_unlock(&e->cfg_lock);
	return mode;
}

VOUCH_EXPORT int vouch_engine_get_mode(const vouch_engine *e, int func)
{
	bool latched = false;
	int mode = func_state(e, func, &latched);

	return mode >= 0 && latched ? VOUCH_MODE_ENFORCE : mode;
}

VOUCH_EXPORT bool vouch_engine_get_sig_enforce(const vouch_engine *e, int func)
{
	bool latched = false;

	return func_state(e, func, &latched) >= 0 && latched;
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


VOUCH_EXPORT uint64_t vouch_engine_entry_count(const vouch_engine *ce)
{
	vouch_engine *e = (vouch_engine *)ce; /* the locks only */
	uint64_t n;

	if (!e)
		return 0;
	pthread_mutex_lock(&e->list_lock);
	n = e->entries;
	pthread_mutex_unlock(&e->list_lock);
	return n;
}

VOUCH_EXPORT int vouch_engine_get_pcr(const vouch_engine *ce, int algo, uint32_t pcr,
				      struct vouch_digest *ret)
{
	vouch_engine *e = (vouch_engine *)ce; /* the locks only */

	if (!e || !ret || pcr >= N_PCR)
		return -EINVAL;
	for (int k = 0; k < N_BANKS; k++) {
		if (bank_algo[k] != algo)
			continue;
		ret->algo = algo;
		ret->len = vouch_hash_info(algo)->size;
		pthread_mutex_lock(&e->list_lock);
		memcpy(ret->bytes, e->pcr[k][pcr], ret->len);
		pthread_mutex_unlock(&e->list_lock);
		return 0;
	}
	return -EINVAL;
}

VOUCH_EXPORT int vouch_engine_get_list(const vouch_engine *ce, const uint8_t **ret_buf,
				       size_t *ret_len)
{
	vouch_engine *e = (vouch_engine *)ce; /* the locks only */

	if (!e || !ret_buf || !ret_len)
		return -EINVAL;
	pthread_mutex_lock(&e->list_lock);
	*ret_buf = e->list;
	*ret_len = e->list_len;
	pthread_mutex_unlock(&e->list_lock);
	return 0;
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

/* Enter a call (engine_call()). */
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
	c->prev_e = engine_call_tls.e;
	c->prev_ctx = engine_call_tls.ctx;
	engine_call_tls.e = e;
	engine_call_tls.ctx = w->ctx;
	return 0;
}

static int call_end(vouch_engine *e, struct call *c, int r)
{
	struct worker *w = c->w;

	if (w) {
		engine_call_tls.e = c->prev_e;
		engine_call_tls.ctx = c->prev_ctx;
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

int engine_call(vouch_engine *e, bool exclusive,
		int (*fn)(vouch_engine *e, const struct engine_args *a),
		const struct engine_args *a)
{
	struct call c;
	int r;

	if (!e)
		return -EINVAL;
	r = call_begin(e, &c, exclusive);
	if (r < 0)
		return r;
	return call_end(e, &c, fn(e, a));
}
