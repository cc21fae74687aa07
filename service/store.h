/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouchd storage: one interface, one file per backend (store-sqlite.c; PostgreSQL later).
 *
 * A backend fills a struct store_ops; callers only use the inline wrappers below.  Every
 * function returns 0 or a negative errno: -ENOENT when a record does not exist, -EIO for a
 * database failure (the backend logs the database's message to stderr), -ENOMEM.
 * Writes happen between begin() and commit(); rollback() discards them.  Inside a
 * transaction a write that returns nothing but its status may be pipelined (PostgreSQL): its
 * failure is then returned by the next operation that reads, or by commit(), at the latest;
 * callers check every call and roll back on any error, so either way nothing is stored.
 * All state changes of one attestation (nonce consumed, new state, next nonce, result row)
 * go in ONE transaction, or, between batch_begin() and batch_commit() (group commit), in one
 * savepoint of the batch's transaction: durable only once batch_commit() returns 0.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCHD_STORE_H
#define VOUCHD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define STORE_ID_MAX 64
#define STORE_NONCE_MAX 32
#define STORE_HASH_SIZE 32
#define STORE_URL_MAX 256

/* an agent's registration; @ak is owned by the record (store_agent_clear()) */
struct store_agent {
	char id[STORE_ID_MAX + 1];
	uint8_t *ak; /* TPM2B_PUBLIC, or PEM/DER SubjectPublicKeyInfo */
	size_t ak_len;
	char ak_fpr[65]; /* hex SHA-256 of the AK's PEM, as struct vouch_attest_state.ak */
	int64_t registered; /* Unix time */
	char reference[STORE_ID_MAX + 1]; /* reference-values id, "default" */
	/* hex SHA-256 of the DER SubjectPublicKeyInfo of the EK the AK was proven to live next
	 * to by credential activation; empty for records from before enrollment */
	char ek_fpr[65];
	bool ek_certified; /* that EK's certificate chained to --ek-ca */
	/* how evidence arrives: "push" (the agent POSTs it; "" reads as push) or "pull" (vouchd
	 * fetches it from @url, an https URL with an IP-literal host: vouchd-pull.c) */
	char mode[8];
	char url[STORE_URL_MAX + 1];
};

/* an enrollment waiting for its credential to be activated; @ak and @csr are owned
 * (store_enrollment_clear()) */
struct store_enrollment {
	char id[STORE_ID_MAX + 1];
	uint8_t *ak; /* TPM2B_PUBLIC */
	size_t ak_len;
	char ak_fpr[65];
	char ek_fpr[65];
	uint8_t secret_hash[STORE_HASH_SIZE]; /* SHA-256 of the credential's secret */
	char *csr; /* PEM PKCS#10 of the agent's TLS key */
	int64_t deadline; /* Unix time after which activation is refused */
	bool ek_certified; /* the EK came with a certificate that chained to --ek-ca */
};

/* what the previous rounds verified; @state_json is owned (store_state_clear()) */
struct store_state {
	char *state_json; /* a vouch-attest-state document */
	uint32_t reset_count; /* the boot the state belongs to (quote clockInfo) */
	uint32_t restart_count;
};

struct store_nonce {
	uint8_t nonce[STORE_NONCE_MAX];
	size_t len;
	int64_t deadline; /* Unix time after which the nonce is refused */
};

/* one row of the append-only results table */
struct store_result {
	const char *agent;
	int64_t time;
	const char *verdict; /* "trusted", "untrusted", "error" */
	const char *body; /* the verdict JSON */
};

/* agents by the verdict of their last result; REGISTERED: no result yet */
enum {
	STORE_AGENT_REGISTERED,
	STORE_AGENT_TRUSTED,
	STORE_AGENT_UNTRUSTED,
	STORE_AGENT_ERROR,
	_STORE_AGENT_STATE_MAX,
};

/* one agent in the fleet overview (agent_list); strings owned, store_agent_info_clear() */
struct store_agent_info {
	char id[STORE_ID_MAX + 1];
	int64_t registered;
	char reference[STORE_ID_MAX + 1];
	char *state_json; /* NULL before the first trusted round */
	uint64_t last_seq; /* the agent's newest result since it registered, 0 if none */
	int64_t last_time;
	char last_verdict[16];
};

/* a results row read back (results_for_agent); @body owned */
struct store_result_row {
	uint64_t seq;
	int64_t time;
	char verdict[16];
	char *body;
};

/* a named reference-values document, stored once by content (reference_get/list) */
struct store_reference {
	char name[STORE_ID_MAX + 1];
	char hash[2 * STORE_HASH_SIZE + 1]; /* hex SHA-256 of the document */
	int64_t updated;
	char *body; /* NULL from reference_list */
};

/* an agent's place in the state machine (vouchd(8), AGENT STATES) */
#define STORE_STATE_MAX 15
struct store_status {
	char state[STORE_STATE_MAX + 1]; /* "enrolled", "trusted", "untrusted", "overdue" */
	int64_t deadline; /* Unix time the next attestation is due by; 0: none yet */
	int64_t since; /* Unix time of the last transition */
};

/* one row of the outbox: a transition, delivered to webhooks and event streams */
#define STORE_REASON_MAX 255
struct store_event {
	uint64_t seq; /* the event's id, from 1, assigned by outbox_append() */
	int64_t time;
	char type[STORE_STATE_MAX + 1]; /* enrolled, trusted, untrusted, recovered, overdue */
	char agent[STORE_ID_MAX + 1];
	char from[STORE_STATE_MAX + 1]; /* "" for enrolled */
	char to[STORE_STATE_MAX + 1];
	uint64_t result; /* the results row that caused it; 0: none */
	char reason[STORE_REASON_MAX + 1]; /* one line */
};

/* a webhook's delivery cursor: every event up to @delivered reached it */
struct store_webhook {
	uint64_t delivered;
	uint32_t attempts; /* failed attempts at the event after @delivered */
	int64_t next_attempt; /* Unix time; 0: now */
};

struct store;

/* open(): leave the schema as it is (vouchd db status): only schema_version() may be called */
#define STORE_OPEN_NO_MIGRATE 1u
/* open(): up to @n connections (PostgreSQL; 0 or 1: one), for commits in flight */
#define STORE_OPEN_POOL(n) (((unsigned)(n) & 0xffu) << 8)
#define STORE_OPEN_POOL_SIZE(flags) (((flags) >> 8) & 0xffu)

struct store_commit;

struct store_ops {
	const char *name;
	/* open (creating and migrating the schema, unless STORE_OPEN_NO_MIGRATE) @dsn; a path
	 * for sqlite, a libpq connection string or URI for postgresql */
	int (*open)(const char *dsn, unsigned flags, struct store **ret);
	void (*close)(struct store *s);
	/* group commit: one transaction around many; begin/commit/rollback then only mark
	 * (savepoints) and batch_commit() makes them all durable at once, or none */
	int (*batch_begin)(struct store *s);
	int (*batch_commit)(struct store *s);
	/* a backend may defer a batch's result and event appends to batch_commit(), so that
	 * the lock that orders them across nodes is held for the commit only, not the round:
	 * result_append() and outbox_append() inside a batch then return a deferred seq
	 * (store_seq_deferred()), which an event's @result may carry, and seq_resolve() turns
	 * into the real one once batch_commit() returned 0 (until the next batch_begin()).
	 * NULL: appends are never deferred */
	int (*seq_resolve)(struct store *s, uint64_t deferred, uint64_t *ret_seq);
	/* optional, inside a transaction: read what an attestation of @id reads (agent_get,
	 * nonce_take, state_get, status_get, in that order, with their locks) at once; each
	 * of those calls for @id then returns its answer (once) without a round trip; the
	 * answers go with the request.  An error leaves the transaction as a failed read does */
	int (*attest_prefetch)(struct store *s, const char *id);
	/* asynchronous group commit, NULL where the backend has none (batch_commit() only).
	 * commit_start() ends the batch as batch_commit() does but does not wait for the
	 * answer: it returns the commit in flight and a descriptor that becomes readable when
	 * the answer may be in; the store goes on with another connection of its pool
	 * (STORE_OPEN_POOL; with every one in flight, the next operation waits for the oldest).
	 * commit_poll(): -EAGAIN while the answer is not in (unless @wait), else the outcome,
	 * 0 or batch_commit()'s errors; a result is acknowledged only after 0.  Then
	 * commit_seq() resolves the batch's deferred seqs.  commit_free() (waits if need be). */
	int (*commit_start)(struct store *s, struct store_commit **ret, int *ret_fd);
	int (*commit_poll)(struct store_commit *c, bool wait);
	int (*commit_seq)(struct store_commit *c, uint64_t deferred, uint64_t *ret_seq);
	void (*commit_free)(struct store_commit *c);
	int (*begin)(struct store *s);
	int (*commit)(struct store *s);
	void (*rollback)(struct store *s);
	int (*agent_get)(struct store *s, const char *id, struct store_agent *ret);
	int (*agent_put)(struct store *s, const struct store_agent *a);
	int (*agent_count)(struct store *s, uint64_t *ret);
	/* call @fn for each agent in pull mode (outside a transaction is fine); stops at and
	 * returns @fn's first negative return */
	int (*pull_list)(struct store *s, int (*fn)(void *userdata, const char *id, const char *url),
			 void *userdata);
	/* agents per STORE_AGENT_*: the verdict of each agent's newest result row */
	int (*agent_states)(struct store *s, uint64_t ret[_STORE_AGENT_STATE_MAX]);
	int (*state_get)(struct store *s, const char *id, struct store_state *ret);
	int (*state_put)(struct store *s, const char *id, const struct store_state *st);
	int (*nonce_put)(struct store *s, const char *id, const struct store_nonce *n);
	/* return and delete the agent's nonce (single use); -ENOENT when there is none */
	int (*nonce_take)(struct store *s, const char *id, struct store_nonce *ret);
	/* store the agent's pending enrollment, replacing an earlier one */
	int (*enrollment_put)(struct store *s, const struct store_enrollment *e);
	/* return and delete the agent's pending enrollment (single use); -ENOENT when none */
	int (*enrollment_take)(struct store *s, const char *id, struct store_enrollment *ret);
	/* delete the enrollments whose deadline is before @now; *ret_left = how many remain */
	int (*enrollment_purge)(struct store *s, int64_t now, uint64_t *ret_left);
	/* append a row: hash = SHA-256(prev_hash || the row's fields, length-prefixed) */
	int (*result_append)(struct store *s, const struct store_result *r, uint64_t *ret_seq);
	/* recompute the chain: 0 intact, -EKEYREJECTED and *ret_bad = first bad row's seq */
	int (*chain_verify)(struct store *s, uint64_t *ret_rows, uint64_t *ret_bad);
	/* one page of the fleet: the agents whose id sorts after @after ("": from the first),
	 * ordered by id, at most @limit, each with its state and newest result; free with
	 * store_agent_infos_free().  Paged so that a node's memory does not grow with the
	 * fleet (vouchd(8), MEMORY). */
	int (*agent_list)(struct store *s, const char *after, size_t limit,
			  struct store_agent_info **ret, size_t *ret_n);
	/* remove the agent with its state and nonce; its results stay (append-only) */
	int (*agent_delete)(struct store *s, const char *id);
	/* name -> the document with SHA-256 @hash; the document is stored once per hash */
	int (*reference_put)(struct store *s, const char *name, const char *hash, const char *body,
			     int64_t time);
	/* -ENOENT for an unknown name; ret->body owned (store_reference_clear()) */
	int (*reference_get)(struct store *s, const char *name, struct store_reference *ret);
	/* every name, ordered, without bodies; free() the array */
	int (*reference_list)(struct store *s, struct store_reference **ret, size_t *ret_n);
	/* -ENOENT when the agent is not registered */
	int (*agent_set_reference)(struct store *s, const char *id, const char *name);
	/* the agent's newest @limit results since it registered, newest first;
	 * store_result_rows_free() */
	int (*results_for_agent)(struct store *s, const char *id, size_t limit,
				 struct store_result_row **ret, size_t *ret_n);
	/* the agent's state; -ENOENT for one registered before states existed */
	int (*status_get)(struct store *s, const char *id, struct store_status *ret);
	int (*status_put)(struct store *s, const char *id, const struct store_status *st);
	/* up to @max agents not overdue whose deadline (> 0) is before @now */
	int (*status_due)(struct store *s, int64_t now, char (*ret)[STORE_ID_MAX + 1], size_t max,
			  size_t *ret_n);
	int (*status_count)(struct store *s, const char *state, uint64_t *ret);
	/* append an event (in the transaction of the change it reports); sets e->seq */
	int (*outbox_append)(struct store *s, struct store_event *e);
	/* up to @limit events with seq > @after, in order */
	int (*outbox_pending)(struct store *s, uint64_t after, size_t limit,
			      struct store_event *ret, size_t *ret_n);
	/* the highest seq, 0 when empty */
	int (*outbox_last)(struct store *s, uint64_t *ret);
	/* a webhook's cursor; all zero for one never seen */
	int (*webhook_get)(struct store *s, const char *url, struct store_webhook *ret);
	/* @seq reached @url: the cursor moves to it (never back), attempts reset */
	int (*outbox_mark_delivered)(struct store *s, uint64_t seq, const char *url);
	/* another failed attempt at the event after the cursor; retry at @next_attempt */
	int (*outbox_mark_failed)(struct store *s, const char *url, uint32_t attempts,
				  int64_t next_attempt);

	/* --- several vouchd nodes over one database (trivially true for one SQLite node) ---
	 * Invariants every backend keeps, whatever the number of nodes:
	 * - agent_get() and status_get() inside a transaction lock that agent's row until
	 *   commit/rollback (PostgreSQL: SELECT ... FOR UPDATE), so two nodes never advance one
	 *   agent's state twice; nonce_take() is atomic (a nonce is taken once, by one node);
	 * - outbox_pending(after) never skips an event: an event that becomes visible later
	 *   has a higher seq than every event visible before it (seqs are assigned in commit
	 *   order, e.g. under a lock taken at commit time), and the results chain likewise
	 *   links rows in commit order, so chain_verify() holds with concurrent writers. */
	/* claim pull-mode agents for @node until @now + @ttl: those it holds already and those
	 * whose lease is free or expired, at most @max in all; another node's live lease is
	 * skipped, never waited for (PostgreSQL: FOR UPDATE SKIP LOCKED).  Then call @fn for
	 * each agent @node holds; stops at and returns @fn's first negative return. */
	int (*pull_claim)(struct store *s, const char *node, int64_t now, int64_t ttl, size_t max,
			  int (*fn)(void *userdata, const char *id, const char *url),
			  void *userdata);
	/* give up every lease of @node (clean shutdown: another node takes over at once) */
	int (*lease_release)(struct store *s, const char *node);
	/* a duty one node does at a time (e.g. "outbox": webhook delivery): 0 when @node holds
	 * it until @now + @ttl (acquired or renewed), -EBUSY while another node's lease is live */
	int (*duty_claim)(struct store *s, const char *duty, const char *node, int64_t now,
			  int64_t ttl);

	/* --- operations --- */
	/* the schema version of the open database and the one this build writes */
	int (*schema_version)(struct store *s, int *ret_version, int *ret_latest);
	/* retention: delete results older than @before (Unix time) but each agent's newest;
	 * chain_verify() still verifies what is left (anchors keep the pruned rows' hashes) */
	int (*result_prune)(struct store *s, int64_t before, uint64_t *ret_pruned);
	/* a consistent copy of the live database in @path (written to a temporary file,
	 * fsynced, renamed); -EOPNOTSUPP where the database has its own tools (pg_dump) */
	int (*backup)(struct store *s, const char *path);
};

struct store {
	const struct store_ops *ops;
};

extern const struct store_ops store_sqlite_ops;
/* NULL when vouchd was built without libpq */
extern const struct store_ops *const store_pg_ops;

/* the backend that @dsn names (store.c): PostgreSQL for a libpq URI or keyword string,
 * else SQLite; NULL when that backend is not built in */
const struct store_ops *store_backend(const char *dsn);
/* open @dsn with its backend; -EPROTONOSUPPORT when that backend is not built in */
int store_open(const char *dsn, unsigned flags, struct store **ret);

/*
 * The hash of one results row: SHA-256(prev || seq || agent || time || verdict || body), each
 * field with a 64-bit big-endian length (numbers as 8 big-endian bytes).  Shared by every
 * backend so that a chain moved between backends still verifies (store-chain.c).
 */
int store_row_hash(const uint8_t prev[STORE_HASH_SIZE], uint64_t seq, const char *agent,
		   int64_t time, const char *verdict, const char *body,
		   uint8_t ret[STORE_HASH_SIZE]);

/* a seq that batch_commit() assigns (see seq_resolve): the bit above any real seq */
#define STORE_SEQ_DEFERRED (UINT64_C(1) << 62)

static inline bool store_seq_deferred(uint64_t seq)
{
	return (seq & STORE_SEQ_DEFERRED) != 0;
}

/* @seq itself, or what the committed batch made of it; 0 when it cannot be resolved */
static inline uint64_t store_seq(struct store *s, uint64_t seq)
{
	uint64_t r;

	if (!store_seq_deferred(seq))
		return seq;
	return s->ops->seq_resolve && s->ops->seq_resolve(s, seq, &r) == 0 ? r : 0;
}

static inline void store_agent_clear(struct store_agent *a)
{
	free(a->ak);
	a->ak = NULL;
}

static inline void store_enrollment_clear(struct store_enrollment *e)
{
	free(e->ak);
	e->ak = NULL;
	free(e->csr);
	e->csr = NULL;
}

static inline void store_state_clear(struct store_state *st)
{
	free(st->state_json);
	st->state_json = NULL;
}

static inline void store_agent_infos_free(struct store_agent_info *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].state_json);
	free(v);
}

static inline void store_result_rows_free(struct store_result_row *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].body);
	free(v);
}

static inline void store_reference_clear(struct store_reference *r)
{
	free(r->body);
	r->body = NULL;
}

#endif
