// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd storage in PostgreSQL (libpq): several vouchd nodes over one database.
 *
 * One connection per store handle, every statement prepared once per connection
 * (PQprepare; again after a reconnect), parameters sent in binary for bytea, in libpq's
 * pipeline mode: inside a transaction the writes that return nothing travel with the next
 * read or the commit (an attestation is about five round trips, not eleven).  Inside a
 * batch (group commit) begin/commit/rollback are the savepoint 'req' of the batch's one
 * transaction, as in store-sqlite.c; a request's commit reads its writes' answers, so a
 * failed request fails alone.
 *
 * Several nodes:
 * - agent_get() and status_get() inside a transaction are SELECT ... FOR UPDATE: one
 *   agent's attestation is serialised across nodes by its row lock;
 * - the results chain and the outbox take their seq from a row of 'heads'.  A transaction
 *   (or a batch) queues its appends and writes them at its commit, under the heads' lock
 *   taken then, last, after every row lock (one lock order: no deadlock between a
 *   watchdog and an attestation), and held for the two round trips of the commit only: a
 *   second writer waits, then continues from the committed row.  So seqs are gap-free and
 *   in commit order, the chain links rows in commit order, and outbox_pending(after) never
 *   skips an event.  Inside a transaction the seqs are deferred ones (seq_resolve());
 * - pull agents are leased (agents.lease_node, lease_until) with FOR UPDATE SKIP LOCKED;
 *   duties are rows of 'duties' claimed by one INSERT ... ON CONFLICT DO UPDATE ... WHERE;
 *   a lease or a duty held until T is expired from T on (until <= now).
 *
 * A broken connection (PostgreSQL restarted) fails the operation it happens in with -EIO
 * (the caller rolls back); the next begin(), or the next operation outside a transaction,
 * reconnects (PQreset) and prepares the statements again.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "store-sql.h"
#include "store.h"

#define SCHEMA_VERSION 1
/* pg_advisory_xact_lock key of the migration: "vouchd" in ASCII */
#define MIGRATE_LOCK "118111117099104100"

enum {
	Q_AGENT_GET,
	Q_AGENT_GET_LOCK,
	Q_AGENT_PUT,
	Q_AGENT_COUNT,
	Q_PULL_LIST,
	Q_AGENT_STATES,
	Q_STATE_GET,
	Q_STATE_PUT,
	Q_NONCE_PUT,
	Q_NONCE_TAKE,
	Q_ENROLL_PUT,
	Q_ENROLL_TAKE,
	Q_ENROLL_PURGE,
	Q_ENROLL_COUNT,
	Q_HEAD_LOCK,
	Q_RESULT_ADD,
	Q_ROWS,
	Q_ANCHOR_GET,
	Q_AGENT_LIST,
	Q_AGENT_DEL_NONCE,
	Q_AGENT_DEL_STATE,
	Q_AGENT_DEL_STATUS,
	Q_AGENT_DEL,
	Q_REF_DOC_PUT,
	Q_REF_NAME_PUT,
	Q_REF_GET,
	Q_REF_LIST,
	Q_AGENT_SET_REF,
	Q_AGENT_RESULTS,
	Q_STATUS_GET,
	Q_STATUS_GET_LOCK,
	Q_STATUS_PUT,
	Q_STATUS_DUE,
	Q_STATUS_COUNT,
	Q_OUTBOX_LAST,
	Q_OUTBOX_ADD,
	Q_OUTBOX_PENDING,
	Q_WEBHOOK_GET,
	Q_WEBHOOK_DELIVERED,
	Q_WEBHOOK_FAILED,
	Q_LEASE_RENEW,
	Q_LEASE_CLAIM,
	Q_LEASE_HELD,
	Q_LEASE_RELEASE,
	Q_DUTY_RELEASE,
	Q_DUTY_CLAIM,
	Q_PRUNE_ANCHOR,
	Q_PRUNE,
	Q_HEADS_LOCK,
	Q_RESULT_INSERT,
	Q_OUTBOX_INSERT,
	Q_HEAD_SET,
	_Q_MAX,
};

static const char *const queries[_Q_MAX] = {
	[Q_AGENT_GET] = SQL_AGENT_GET,
	/* inside a transaction: the agent's row is this node's until commit/rollback */
	[Q_AGENT_GET_LOCK] = "SELECT ak, ak_fpr, registered, reference, ek_fpr, mode, url, "
			     "ek_certified FROM agents WHERE id = $1 FOR UPDATE",
	[Q_AGENT_PUT] = SQL_AGENT_PUT,
	[Q_AGENT_COUNT] = SQL_AGENT_COUNT,
	[Q_PULL_LIST] = SQL_PULL_LIST,
	[Q_AGENT_STATES] = "SELECT v, count(*) FROM (SELECT (SELECT verdict FROM results "
			   "WHERE agent = agents.id AND time >= agents.registered "
			   "ORDER BY seq DESC LIMIT 1) AS v FROM agents) x GROUP BY v",
	[Q_STATE_GET] = SQL_STATE_GET,
	[Q_STATE_PUT] = SQL_STATE_PUT,
	[Q_NONCE_PUT] = SQL_NONCE_PUT,
	/* single use, atomically: of two nodes, one gets the row */
	[Q_NONCE_TAKE] = "DELETE FROM nonces WHERE agent = $1 RETURNING nonce, deadline",
	[Q_ENROLL_PUT] = SQL_ENROLL_PUT,
	[Q_ENROLL_TAKE] = "DELETE FROM enrollments WHERE agent = $1 RETURNING ak, ak_fpr, "
			  "ek_fpr, secret_hash, csr, deadline, ek_certified",
	[Q_ENROLL_PURGE] = SQL_ENROLL_PURGE,
	[Q_ENROLL_COUNT] = SQL_ENROLL_COUNT,
	/* the chain's head, locked until the appending transaction ends */
	[Q_HEAD_LOCK] = "SELECT seq, hash FROM heads WHERE name = 'results' FOR UPDATE",
	[Q_RESULT_ADD] = "WITH h AS (UPDATE heads SET seq = $1, hash = $6 WHERE name = 'results') "
			 "INSERT INTO results (seq, agent, time, verdict, body, hash) "
			 "VALUES ($1, $2, $3, $4, $5, $6)",
	/* the chain in pages: memory does not grow with the table */
	[Q_ROWS] = "SELECT seq, agent, time, verdict, body, hash FROM results WHERE seq > $1 "
		   "ORDER BY seq LIMIT 1000",
	[Q_ANCHOR_GET] = SQL_ANCHOR_GET,
	[Q_AGENT_LIST] = SQL_AGENT_LIST,
	[Q_AGENT_DEL_NONCE] = SQL_AGENT_DEL_NONCE,
	[Q_AGENT_DEL_STATE] = SQL_AGENT_DEL_STATE,
	[Q_AGENT_DEL_STATUS] = SQL_AGENT_DEL_STATUS,
	[Q_AGENT_DEL] = SQL_AGENT_DEL,
	[Q_REF_DOC_PUT] = SQL_REF_DOC_PUT,
	[Q_REF_NAME_PUT] = SQL_REF_NAME_PUT,
	[Q_REF_GET] = SQL_REF_GET,
	[Q_REF_LIST] = SQL_REF_LIST,
	[Q_AGENT_SET_REF] = SQL_AGENT_SET_REF,
	[Q_AGENT_RESULTS] = SQL_AGENT_RESULTS,
	[Q_STATUS_GET] = SQL_STATUS_GET,
	[Q_STATUS_GET_LOCK] = "SELECT state, deadline, since FROM agent_status WHERE agent = $1 "
			      "FOR UPDATE",
	[Q_STATUS_PUT] = SQL_STATUS_PUT,
	[Q_STATUS_DUE] = SQL_STATUS_DUE,
	[Q_STATUS_COUNT] = SQL_STATUS_COUNT,
	[Q_OUTBOX_LAST] = SQL_OUTBOX_LAST,
	/* the outbox's head row is locked until commit: seqs in commit order, no gaps */
	[Q_OUTBOX_ADD] = "WITH h AS (UPDATE heads SET seq = seq + 1 WHERE name = 'outbox' "
			 "RETURNING seq) INSERT INTO outbox (seq, time, type, agent, from_state, "
			 "to_state, result, reason) SELECT h.seq, $1::bigint, $2::text, $3::text, "
			 "$4::text, $5::text, $6::bigint, $7::text FROM h "
			 "RETURNING seq",
	/* a batch's commit: both heads, the results' first (the one lock order) */
	[Q_HEADS_LOCK] = "SELECT name, seq, hash FROM heads WHERE name IN ('results', 'outbox') "
			 "ORDER BY name DESC FOR UPDATE",
	[Q_RESULT_INSERT] = "INSERT INTO results (seq, agent, time, verdict, body, hash) "
			    "VALUES ($1, $2, $3, $4, $5, $6)",
	[Q_OUTBOX_INSERT] = "INSERT INTO outbox (seq, time, type, agent, from_state, to_state, "
			    "result, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	[Q_HEAD_SET] = "UPDATE heads SET seq = $2, hash = $3 WHERE name = $1",
	[Q_OUTBOX_PENDING] = SQL_OUTBOX_PENDING,
	[Q_WEBHOOK_GET] = SQL_WEBHOOK_GET,
	[Q_WEBHOOK_DELIVERED] = "INSERT INTO webhooks (url, delivered, attempts, next_attempt) "
				"VALUES ($1, $2, 0, 0) ON CONFLICT (url) DO UPDATE SET "
				"delivered = greatest(webhooks.delivered, $2::bigint), attempts = 0, "
				"next_attempt = 0",
	[Q_WEBHOOK_FAILED] = SQL_WEBHOOK_FAILED,
	/* the node's live leases are renewed, all of them (a smaller @max never drops one) */
	[Q_LEASE_RENEW] = "UPDATE agents SET lease_until = $2::bigint + $3::bigint "
			  "WHERE lease_node = $1 AND lease_until > $2 AND mode = 'pull' "
			  "AND url IS NOT NULL",
	/* then free or expired ones, up to @max held in all; rows another node is working on
	 * (locked) are skipped, never waited for.  The count is of this transaction's own
	 * renewals: a row another node has locked for a moment cannot make it take more */
	[Q_LEASE_CLAIM] = "UPDATE agents SET lease_node = $1::text, lease_until = $2::bigint + $3::bigint "
			  "WHERE id IN "
			  "(SELECT id FROM agents WHERE mode = 'pull' AND url IS NOT NULL AND "
			  "(lease_node IS NULL OR lease_until <= $2) ORDER BY id "
			  "LIMIT greatest($4::bigint - (SELECT count(*) FROM agents "
			  "WHERE lease_node = $1 AND lease_until > $2 AND mode = 'pull' "
			  "AND url IS NOT NULL), 0) FOR UPDATE SKIP LOCKED)",
	[Q_LEASE_HELD] = SQL_LEASE_HELD,
	[Q_LEASE_RELEASE] = SQL_LEASE_RELEASE,
	[Q_DUTY_RELEASE] = SQL_DUTY_RELEASE,
	[Q_DUTY_CLAIM] = "INSERT INTO duties (name, node, until) VALUES ($1, $2, $3::bigint + $4::bigint) "
			 "ON CONFLICT (name) DO UPDATE SET node = $2, until = $3::bigint + $4::bigint "
			 "WHERE duties.node = $2 OR duties.until <= $3",
	/* every pruned row whose successor stays leaves its hash (store-sqlite.c's design) */
	[Q_PRUNE_ANCHOR] = "INSERT INTO anchors (seq, hash, pruned) "
			   "SELECT r.seq, r.hash, $2::bigint FROM results r "
			   "WHERE r.time < $1 AND r.seq NOT IN (SELECT max(seq) FROM results "
			   "GROUP BY agent) AND EXISTS (SELECT 1 FROM results n "
			   "WHERE n.seq = r.seq + 1 AND NOT (n.time < $1 AND n.seq NOT IN "
			   "(SELECT max(seq) FROM results GROUP BY agent))) "
			   "ON CONFLICT (seq) DO NOTHING",
	[Q_PRUNE] = "DELETE FROM results WHERE time < $1 "
		    "AND seq NOT IN (SELECT max(seq) FROM results GROUP BY agent)",
};

/*
 * Schema version N-1 -> N, forward only, each applied with its version row in one
 * transaction under an advisory lock (two nodes starting at once: one migrates, the other
 * waits and finds the work done).  Version 1 has everything the SQLite schema 7 has.
 * Ids sort byte by byte (COLLATE "C"), as in SQLite: agent_list pages by id.  Columns have
 * SQLite's types where an operator's SQL would see a difference (ek_certified is 0 or 1).
 * Results, outbox events and anchors are append-only (triggers); result_prune() opens the
 * results trigger for its own transaction only (vouchd.prune, a transaction-local setting).
 */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE agents (id text COLLATE \"C\" PRIMARY KEY, ak bytea NOT NULL,"
	" ak_fpr text NOT NULL, registered bigint NOT NULL, reference text NOT NULL,"
	" ek_fpr text NOT NULL DEFAULT '', mode text NOT NULL DEFAULT 'push', url text,"
	" ek_certified integer NOT NULL DEFAULT 0, lease_node text,"
	" lease_until bigint NOT NULL DEFAULT 0);"
	"CREATE INDEX agents_pull ON agents (lease_until) WHERE mode = 'pull';"
	"CREATE TABLE states (agent text COLLATE \"C\" PRIMARY KEY REFERENCES agents(id),"
	" state text NOT NULL, reset_count bigint NOT NULL, restart_count bigint NOT NULL);"
	"CREATE TABLE nonces (agent text COLLATE \"C\" PRIMARY KEY REFERENCES agents(id),"
	" nonce bytea NOT NULL, deadline bigint NOT NULL);"
	"CREATE TABLE enrollments (agent text COLLATE \"C\" PRIMARY KEY, ak bytea NOT NULL,"
	" ak_fpr text NOT NULL, ek_fpr text NOT NULL, secret_hash bytea NOT NULL,"
	" csr text NOT NULL, deadline bigint NOT NULL,"
	" ek_certified integer NOT NULL DEFAULT 0);"
	"CREATE TABLE heads (name text PRIMARY KEY, seq bigint NOT NULL, hash bytea NOT NULL);"
	"INSERT INTO heads VALUES ('results', 0, decode(repeat('00', 32), 'hex')),"
	" ('outbox', 0, '');"
	"CREATE TABLE results (seq bigint PRIMARY KEY, agent text COLLATE \"C\" NOT NULL,"
	" time bigint NOT NULL, verdict text NOT NULL, body text NOT NULL, hash bytea NOT NULL);"
	"CREATE INDEX results_agent ON results (agent, seq);"
	"CREATE INDEX results_time ON results (time);"
	"CREATE TABLE anchors (seq bigint PRIMARY KEY, hash bytea NOT NULL, pruned bigint NOT NULL);"
	"CREATE FUNCTION vouchd_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	" IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'results' AND"
	" current_setting('vouchd.prune', true) = 'on' THEN RETURN OLD; END IF;"
	" RAISE EXCEPTION '% are append-only', TG_TABLE_NAME; END $$;"
	"CREATE TRIGGER results_append_only BEFORE UPDATE OR DELETE ON results"
	" FOR EACH ROW EXECUTE FUNCTION vouchd_append_only();"
	"CREATE TRIGGER anchors_append_only BEFORE UPDATE ON anchors"
	" FOR EACH ROW EXECUTE FUNCTION vouchd_append_only();"
	"CREATE TABLE reference_docs (hash text PRIMARY KEY, body text NOT NULL);"
	"CREATE TABLE reference_names (name text COLLATE \"C\" PRIMARY KEY,"
	" hash text NOT NULL REFERENCES reference_docs(hash), updated bigint NOT NULL);"
	"CREATE TABLE agent_status (agent text COLLATE \"C\" PRIMARY KEY REFERENCES agents(id),"
	" state text NOT NULL, deadline bigint NOT NULL, since bigint NOT NULL);"
	"CREATE INDEX agent_status_deadline ON agent_status (deadline);"
	"CREATE TABLE outbox (seq bigint PRIMARY KEY, time bigint NOT NULL, type text NOT NULL,"
	" agent text NOT NULL, from_state text NOT NULL, to_state text NOT NULL, result bigint,"
	" reason text NOT NULL);"
	"CREATE TRIGGER outbox_append_only BEFORE UPDATE ON outbox"
	" FOR EACH ROW EXECUTE FUNCTION vouchd_append_only();"
	"CREATE TABLE webhooks (url text PRIMARY KEY, delivered bigint NOT NULL,"
	" attempts bigint NOT NULL, next_attempt bigint NOT NULL);"
	"CREATE TABLE duties (name text PRIMARY KEY, node text NOT NULL, until bigint NOT NULL);",
};

/* the seqs a commit gave its deferred results and events, by their deferred index */
struct seq_map {
	uint64_t *r, *e;
	size_t n_r, n_e;
	bool valid;
};

struct store_pg {
	struct store base;
	PGconn *c;
	bool prepared; /* the statements exist on this connection */
	bool pipeline; /* in libpq's pipeline mode (once migrated and prepared) */
	bool broken; /* the pipeline lost count: reconnect before the next transaction */
	int pending; /* commands sent since the last sync, their results unread */
	double retry_at; /* a failed reconnect is not tried again before (CLOCK_MONOTONIC) */
	bool batch, in_req;
	/* a request's savepoint committed but not yet released: the next begin() releases it
	 * in the same round trip (COMMIT releases it otherwise) */
	bool release;
	/* this transaction holds the results head's lock; @head_seq, @head_hash are its values
	 * (our own last append), so the next append needs no round trip to read them */
	bool head_locked;
	uint64_t head_seq;
	uint8_t head_hash[STORE_HASH_SIZE];
	/* a batch's result and event appends, written by its commit (see batch_commit());
	 * @mark_*: where the open request's own begin, so that its rollback drops them */
	struct deferred_result {
		char *agent, *verdict, *body;
		int64_t time;
		uint64_t seq; /* once committed */
	} *dres;
	struct deferred_event {
		struct store_event ev;
	} *dev;
	size_t n_dres, n_dev, size_dres, size_dev, mark_dres, mark_dev;
	struct seq_map last; /* the seqs the last commit assigned (seq_resolve()) */
	struct store_commit *inflight; /* a batch's COMMIT sent, its answer not read yet */
	/* attest_prefetch(): the answers of an attestation's reads for @pre_id, each taken
	 * once by the read it answers, dropped when the request ends */
	PGresult *pre[_Q_MAX];
	char pre_id[STORE_ID_MAX + 1];
};

/* a batch's commit in flight (commit_start()), then its outcome and its seqs */
struct store_commit {
	struct store_pg *conn; /* until the answer is read */
	int n; /* answers due, the COMMIT's last */
	int result;
	bool done;
	uint64_t order;
	struct seq_map seqs; /* the seqs it assigned (commit_seq()) */
};

/*
 * The store handle: a pool of connections.  Every operation runs on the current one; a
 * batch whose commit is in flight keeps its connection until the answer is read, and the
 * next operation takes another one (or, when every one has a commit in flight, waits for
 * the oldest).  So the event loop verifies the next round's requests while the last
 * round's COMMIT is being written to disk.
 */
#define POOL_MAX 8

struct pg_pool {
	struct store base;
	struct store_pg *conn[POOL_MAX];
	size_t n, cur;
	uint64_t order;
};

/* the server's message, on one line */
static void log_msg(const char *what, const char *msg)
{
	char line[512];
	size_t n = 0;
	bool space = false;

	for (; msg && *msg && n < sizeof(line) - 1; msg++) {
		if (*msg == '\n' || *msg == '\t' || *msg == ' ') {
			space = n > 0;
			continue;
		}
		if (space && n < sizeof(line) - 2)
			line[n++] = ' ';
		space = false;
		line[n++] = *msg;
	}
	line[n] = '\0';
	fprintf(stderr, "vouchd: postgresql: %s: %s\n", what, line);
}

/* --- parameters -------------------------------------------------------------------------- */

#define MAX_PARAMS 10

struct params {
	int n;
	const char *v[MAX_PARAMS];
	int len[MAX_PARAMS];
	int fmt[MAX_PARAMS];
	char num[MAX_PARAMS][24];
};

static void p_str(struct params *p, const char *s)
{
	p->v[p->n] = s;
	p->len[p->n] = 0;
	p->fmt[p->n++] = 0;
}

static void p_i64(struct params *p, int64_t x)
{
	snprintf(p->num[p->n], sizeof(p->num[p->n]), "%" PRId64, x);
	p_str(p, p->num[p->n]);
}

/* binary: bytes go as they are, no escaping */
static void p_bin(struct params *p, const void *b, size_t len)
{
	p->v[p->n] = b ? b : "";
	p->len[p->n] = (int)len;
	p->fmt[p->n++] = 1;
}

/* --- the connection ------------------------------------------------------------------------ */

static int prepare_all(struct store_pg *s)
{
	for (int i = 0; i < _Q_MAX; i++) {
		char name[8];
		PGresult *r;
		bool ok;

		snprintf(name, sizeof(name), "q%d", i);
		r = PQprepare(s->c, name, queries[i], 0, NULL);
		ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		if (!ok)
			log_msg(queries[i], PQresultErrorMessage(r));
		PQclear(r);
		if (!ok)
			return -EIO;
	}
	s->prepared = true;
	return 0;
}

/*
 * Pipeline mode: a command is sent without waiting for its answer; the answers are read at
 * the next sync.  Within a transaction, writes that return nothing are only sent (state,
 * status and nonce puts, the result row): they travel with the next read or with the
 * commit, one round trip for several commands.  An error among them fails that read or
 * the commit (-EIO), so the caller rolls back as before.  Outside a transaction every
 * command is synced at once (each is its own implicit transaction).
 */
static int pipeline_on(struct store_pg *s)
{
	if (PQenterPipelineMode(s->c) != 1) {
		log_msg("pipeline", PQerrorMessage(s->c));
		return -EIO;
	}
	s->pipeline = true;
	s->pending = 0;
	return 0;
}

/* between transactions: a broken connection is made again, with its statements */
static int ensure(struct store_pg *s)
{
	if (PQstatus(s->c) == CONNECTION_OK && s->prepared && !s->broken)
		return 0;
	if (PQstatus(s->c) != CONNECTION_OK || s->broken) {
		struct timespec t;
		double now;

		/* while the server is away, requests fail at once rather than each waiting up to
		 * connect_timeout in the event loop: at most five attempts a second */
		clock_gettime(CLOCK_MONOTONIC, &t);
		now = (double)t.tv_sec + (double)t.tv_nsec / 1e9;
		if (now < s->retry_at)
			return -EIO;
		s->prepared = s->pipeline = s->broken = false;
		s->pending = 0;
		PQreset(s->c);
		if (PQstatus(s->c) != CONNECTION_OK) {
			log_msg("reconnect", PQerrorMessage(s->c));
			s->retry_at = now + 0.2;
			return -EIO;
		}
		if (PQpipelineStatus(s->c) != PQ_PIPELINE_OFF && PQexitPipelineMode(s->c) != 1) {
			s->broken = true;
			return -EIO;
		}
		fprintf(stderr, "vouchd: postgresql: reconnected\n");
	}
	if (prepare_all(s) < 0)
		return -EIO;
	return pipeline_on(s);
}

static bool in_tx(struct store_pg *s)
{
	return s->batch || s->in_req;
}

static int send_prepared(struct store_pg *s, int q, const struct params *p, const char *what)
{
	char name[8];

	snprintf(name, sizeof(name), "q%d", q);
	if (PQsendQueryPrepared(s->c, name, p ? p->n : 0, p ? p->v : NULL, p ? p->len : NULL,
				p ? p->fmt : NULL, 0) != 1) {
		log_msg(what, PQerrorMessage(s->c));
		s->broken = true;
		return -EIO;
	}
	s->pending++;
	return 0;
}

static int send_sql(struct store_pg *s, const char *sql, const char *what)
{
	if (PQsendQueryParams(s->c, sql, 0, NULL, NULL, NULL, NULL, 0) != 1) {
		log_msg(what, PQerrorMessage(s->c));
		s->broken = true;
		return -EIO;
	}
	s->pending++;
	return 0;
}

/* read the answers to @n commands and their sync (already sent), as sync_read(); with @all,
 * every command's result lands in all[i] (on success only) */
static int read_synced_all(struct store_pg *s, int n, const char *what, PGresult **ret,
			   PGresult **all)
{
	PGresult *r, *last = NULL;
	int e = 0;

	for (int i = 0; i < n; i++) {
		int st;

		r = PQgetResult(s->c);
		if (!r) {
			log_msg(what, PQerrorMessage(s->c));
			s->broken = true;
			PQclear(last);
			return -EIO;
		}
		st = PQresultStatus(r);
		if (st == PGRES_FATAL_ERROR) {
			if (e == 0)
				log_msg(what, PQresultErrorMessage(r));
			e = -EIO;
		} else if (st == PGRES_PIPELINE_ABORTED) {
			e = -EIO;
		}
		if (all && e == 0)
			all[i] = r;
		else if (i == n - 1 && e == 0 && ret)
			last = r;
		else
			PQclear(r);
		/* a command's results end with NULL */
		while ((r = PQgetResult(s->c)))
			PQclear(r);
	}
	r = PQgetResult(s->c);
	if (!r || PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
		if (e == 0)
			log_msg(what, r ? PQresultErrorMessage(r) : PQerrorMessage(s->c));
		s->broken = true;
		e = -EIO;
	}
	PQclear(r);
	if (PQstatus(s->c) != CONNECTION_OK)
		s->broken = true;
	if (e < 0) {
		PQclear(last);
		for (int i = 0; all && i < n; i++) {
			PQclear(all[i]);
			all[i] = NULL;
		}
		return e;
	}
	if (ret)
		*ret = last;
	return 0;
}

static int read_synced(struct store_pg *s, int n, const char *what, PGresult **ret)
{
	return read_synced_all(s, n, what, ret, NULL);
}

/*
 * Sync and read the answers of every command sent: 0, or -EIO with the first error logged.
 * *ret (when not NULL, and all went well) is the last command's result, to PQclear().
 */
static int sync_read(struct store_pg *s, const char *what, PGresult **ret)
{
	int n = s->pending;

	s->pending = 0;
	if (PQpipelineSync(s->c) != 1) {
		log_msg(what, PQerrorMessage(s->c));
		s->broken = true;
		return -EIO;
	}
	return read_synced(s, n, what, ret);
}

/* run a prepared statement; *ret (when not NULL) is the result to PQclear().  Inside a
 * transaction a statement whose result is not asked for is only sent (see above). */
static int run(struct store_pg *s, int q, const struct params *p, const char *what,
	       PGresult **ret)
{
	int e;

	if (!in_tx(s)) {
		e = ensure(s);
		if (e < 0)
			return e;
	}
	if (s->broken)
		return -EIO;
	e = send_prepared(s, q, p, what);
	if (e < 0 || (!ret && in_tx(s)))
		return e;
	return sync_read(s, what, ret);
}

/* the prefetched answers end with the request (or the transaction) */
static void prefetch_drop(struct store_pg *s)
{
	if (!s->pre_id[0])
		return;
	for (int q = 0; q < _Q_MAX; q++) {
		PQclear(s->pre[q]);
		s->pre[q] = NULL;
	}
	s->pre_id[0] = '\0';
}

/* run() for a read that attest_prefetch() may have answered already: that answer, once */
static int run_id(struct store_pg *s, int q, const char *id, const char *what, PGresult **ret)
{
	struct params p = { 0 };

	if (s->pre[q] && strcmp(s->pre_id, id) == 0) {
		*ret = s->pre[q];
		s->pre[q] = NULL;
		return 0;
	}
	p_str(&p, id);
	return run(s, q, &p, what, ret);
}

/* plain SQL, synced: outside pipeline mode (migrations) with PQexec */
static int query(struct store_pg *s, const char *sql, const char *what, PGresult **ret)
{
	PGresult *r;
	int st;

	if (s->pipeline) {
		if (s->broken)
			return -EIO;
		st = send_sql(s, sql, what);
		return st < 0 ? st : sync_read(s, what, ret);
	}
	r = PQexec(s->c, sql);
	st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		log_msg(what, r ? PQresultErrorMessage(r) : PQerrorMessage(s->c));
		PQclear(r);
		return -EIO;
	}
	if (ret)
		*ret = r;
	else
		PQclear(r);
	return 0;
}

static int exec(struct store_pg *s, const char *sql, const char *what)
{
	return query(s, sql, what, NULL);
}

/* COMMIT of a failed transaction "succeeds" as a ROLLBACK: that is a failure here */
static int exec_commit(struct store_pg *s)
{
	PGresult *r = NULL;
	int ret;

	if (s->pipeline) {
		if (s->broken)
			return -EIO;
		ret = send_sql(s, "COMMIT", "commit");
		if (ret == 0)
			ret = sync_read(s, "commit", &r);
	} else {
		ret = query(s, "COMMIT", "commit", &r);
	}
	if (ret == 0 && strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		log_msg("commit", "the transaction was rolled back after an error");
		ret = -EIO;
	}
	PQclear(r);
	return ret;
}

/* after a failed commit: end the transaction if the server still has it open */
static void tx_abort(struct store_pg *s)
{
	if (s->pending)
		(void)sync_read(s, "rollback", NULL);
	if (!s->broken && PQstatus(s->c) == CONNECTION_OK &&
	    PQtransactionStatus(s->c) != PQTRANS_IDLE)
		exec(s, "ROLLBACK", "rollback");
}

static uint64_t changes(PGresult *r)
{
	return strtoull(PQcmdTuples(r), NULL, 10);
}

static int64_t col_i64(PGresult *r, int row, int col)
{
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static bool col_bool(PGresult *r, int row, int col)
{
	return PQgetvalue(r, row, col)[0] == 't';
}

static int col_text(PGresult *r, int row, int col, char *buf, size_t size)
{
	int n = PQgetlength(r, row, col);

	if (PQgetisnull(r, row, col) || n < 0 || (size_t)n >= size)
		return -EIO;
	memcpy(buf, PQgetvalue(r, row, col), (size_t)n);
	buf[n] = '\0';
	return 0;
}

/* a bytea column (text format: \x hex) into malloc()ed bytes */
static int col_bytes(PGresult *r, int row, int col, uint8_t **ret, size_t *ret_len)
{
	unsigned char *b;
	size_t n = 0;

	if (PQgetisnull(r, row, col))
		return -EIO;
	b = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &n);
	if (!b)
		return -ENOMEM;
	*ret = malloc(n ? n : 1);
	if (!*ret) {
		PQfreemem(b);
		return -ENOMEM;
	}
	memcpy(*ret, b, n);
	PQfreemem(b);
	*ret_len = n;
	return 0;
}

/* a bytea column of exactly @size bytes into @buf */
static int col_fixed(PGresult *r, int row, int col, uint8_t *buf, size_t size)
{
	uint8_t *b = NULL;
	size_t n = 0;
	int e = col_bytes(r, row, col, &b, &n);

	if (e == 0 && n != size)
		e = -EIO;
	if (e == 0)
		memcpy(buf, b, size);
	free(b);
	return e;
}

static char *col_strdup(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

/* --- open, migrate ------------------------------------------------------------------------- */

/* --- deferred appends ---------------------------------------------------------------------- */

/*
 * Inside a batch, result_append() and outbox_append() only queue their rows; the batch's
 * commit locks both heads (results first), numbers and chains the rows, writes them and
 * commits, all in two round trips.  So the heads - one lock every node's every append needs -
 * are held for the commit only, not for the whole event-loop round in which the requests
 * were verified (which serialised the nodes: the second waited, its event loop blocked, for
 * the first's round).  A request's rollback drops its own queued rows (its savepoint).
 */
/* a deferred seq: STORE_SEQ_DEFERRED | index, with this bit for an event's */
#define DEFERRED_EVENT (UINT64_C(1) << 61)
#define DEFERRED_INDEX(seq) ((seq) & (DEFERRED_EVENT - 1))

static void deferred_drop(struct store_pg *s, size_t n_dres, size_t n_dev)
{
	while (s->n_dres > n_dres) {
		struct deferred_result *d = &s->dres[--s->n_dres];

		free(d->agent);
		free(d->verdict);
		free(d->body);
	}
	if (s->n_dev > n_dev)
		s->n_dev = n_dev;
}

static void seq_map_clear(struct seq_map *m)
{
	free(m->r);
	free(m->e);
	*m = (struct seq_map){ 0 };
}

/* keep the seqs the commit just made, before the queued rows go */
static int seq_map_capture(struct store_pg *s, struct seq_map *m)
{
	seq_map_clear(m);
	if ((s->n_dres && !(m->r = calloc(s->n_dres, sizeof(*m->r)))) ||
	    (s->n_dev && !(m->e = calloc(s->n_dev, sizeof(*m->e))))) {
		seq_map_clear(m);
		return -ENOMEM; /* committed, but its seqs cannot be told: the caller says 503 */
	}
	for (size_t i = 0; i < s->n_dres; i++)
		m->r[i] = s->dres[i].seq;
	for (size_t i = 0; i < s->n_dev; i++)
		m->e[i] = s->dev[i].ev.seq;
	m->n_r = s->n_dres;
	m->n_e = s->n_dev;
	m->valid = true;
	return 0;
}

static int seq_map_lookup(const struct seq_map *m, uint64_t deferred, uint64_t *ret_seq)
{
	uint64_t i = DEFERRED_INDEX(deferred);
	bool event = deferred & DEFERRED_EVENT;

	if (!m->valid || !store_seq_deferred(deferred) || i >= (event ? m->n_e : m->n_r))
		return -ENOENT;
	*ret_seq = event ? m->e[i] : m->r[i];
	return 0;
}

static void *grow(void *v, size_t *size, size_t n, size_t elem)
{
	size_t size_new;
	void *p;

	if (n < *size)
		return v;
	size_new = *size ? 2 * *size : 64;
	p = realloc(v, size_new * elem);
	if (p)
		*size = size_new;
	return p;
}

static int defer_result(struct store_pg *s, const struct store_result *res, uint64_t *ret_seq)
{
	struct deferred_result *d, *v = grow(s->dres, &s->size_dres, s->n_dres, sizeof(*d));

	if (!v)
		return -ENOMEM;
	s->dres = v;
	d = &v[s->n_dres];
	*d = (struct deferred_result){ .agent = strdup(res->agent),
				       .verdict = strdup(res->verdict),
				       .body = strdup(res->body),
				       .time = res->time };
	if (!d->agent || !d->verdict || !d->body) {
		free(d->agent);
		free(d->verdict);
		free(d->body);
		return -ENOMEM;
	}
	if (ret_seq)
		*ret_seq = STORE_SEQ_DEFERRED | s->n_dres;
	s->n_dres++;
	return 0;
}

static int defer_event(struct store_pg *s, struct store_event *ev)
{
	struct deferred_event *v = grow(s->dev, &s->size_dev, s->n_dev, sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->dev = v;
	/* a deferred result it names must be this batch's */
	if (store_seq_deferred(ev->result) &&
	    ((ev->result & DEFERRED_EVENT) || DEFERRED_INDEX(ev->result) >= s->n_dres))
		return -EINVAL;
	ev->seq = STORE_SEQ_DEFERRED | DEFERRED_EVENT | s->n_dev;
	v[s->n_dev++].ev = *ev;
	return 0;
}

/* send the queued rows (the heads are locked and read in @heads) */
static int deferred_send(struct store_pg *s, PGresult *heads)
{
	uint64_t rseq = 0, oseq = 0;
	uint8_t hash[STORE_HASH_SIZE];
	bool have_r = false, have_o = false;
	int e;

	for (int i = 0; i < PQntuples(heads); i++) {
		if (strcmp(PQgetvalue(heads, i, 0), "results") == 0) {
			rseq = (uint64_t)col_i64(heads, i, 1);
			have_r = col_fixed(heads, i, 2, hash, sizeof(hash)) == 0;
		} else if (strcmp(PQgetvalue(heads, i, 0), "outbox") == 0) {
			oseq = (uint64_t)col_i64(heads, i, 1);
			have_o = true;
		}
	}
	if (!have_r || !have_o) {
		log_msg("heads", "missing or damaged");
		return -EIO;
	}
	for (size_t i = 0; i < s->n_dres; i++) {
		struct deferred_result *d = &s->dres[i];
		struct params p = { 0 };

		d->seq = ++rseq;
		e = store_row_hash(hash, d->seq, d->agent, d->time, d->verdict, d->body, hash);
		if (e < 0)
			return e;
		p_i64(&p, (int64_t)d->seq);
		p_str(&p, d->agent);
		p_i64(&p, d->time);
		p_str(&p, d->verdict);
		p_str(&p, d->body);
		p_bin(&p, hash, sizeof(hash));
		e = send_prepared(s, Q_RESULT_INSERT, &p, "result append");
		if (e < 0)
			return e;
	}
	for (size_t i = 0; i < s->n_dev; i++) {
		struct store_event *ev = &s->dev[i].ev;
		struct params p = { 0 };
		uint64_t result = ev->result;

		if (store_seq_deferred(result))
			result = s->dres[DEFERRED_INDEX(result)].seq;
		ev->seq = ++oseq;
		p_i64(&p, (int64_t)ev->seq);
		p_i64(&p, ev->time);
		p_str(&p, ev->type);
		p_str(&p, ev->agent);
		p_str(&p, ev->from);
		p_str(&p, ev->to);
		if (result)
			p_i64(&p, (int64_t)result);
		else
			p_str(&p, NULL);
		p_str(&p, ev->reason);
		e = send_prepared(s, Q_OUTBOX_INSERT, &p, "event append");
		if (e < 0)
			return e;
	}
	if (s->n_dres) {
		struct params p = { 0 };

		p_str(&p, "results");
		p_i64(&p, (int64_t)rseq);
		p_bin(&p, hash, sizeof(hash));
		e = send_prepared(s, Q_HEAD_SET, &p, "results head");
		if (e < 0)
			return e;
	}
	if (s->n_dev) {
		struct params p = { 0 };

		p_str(&p, "outbox");
		p_i64(&p, (int64_t)oseq);
		p_bin(&p, "", 0);
		e = send_prepared(s, Q_HEAD_SET, &p, "outbox head");
		if (e < 0)
			return e;
	}
	return 0;
}

/* lock the heads and send the batch's queued rows, to be committed with them */
static int deferred_write(struct store_pg *s)
{
	PGresult *heads;
	int e;

	if (s->n_dres == 0 && s->n_dev == 0)
		return 0;
	if (s->broken)
		return -EIO;
	/* the savepoint of the batch's last request, released with the lock's round trip */
	e = send_prepared(s, Q_HEADS_LOCK, NULL, "heads");
	if (e == 0)
		e = sync_read(s, "heads", &heads);
	if (e < 0)
		return e;
	e = deferred_send(s, heads);
	PQclear(heads);
	return e;
}


/* --- the pool and commits in flight ------------------------------------------------------ */

static void conn_batch_end(struct store_pg *s)
{
	s->batch = s->in_req = s->head_locked = false;
}

/*
 * Read a commit's answer: with @wait false, -EAGAIN while it is not in; else the commit's
 * outcome (as batch_commit()), kept in @c with the seqs the commit assigned, and the
 * connection is free again.
 */
static int commit_drive(struct store_commit *c, bool wait)
{
	struct store_pg *s = c->conn;
	PGresult *r = NULL;
	int e;

	if (c->done)
		return c->result;
	if (!wait && PQconsumeInput(s->c) == 1 && PQisBusy(s->c))
		return -EAGAIN;
	e = read_synced(s, c->n, "commit", &r);
	if (e == 0 && strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		log_msg("commit", "the transaction was rolled back after an error");
		e = -EIO;
	}
	PQclear(r);
	if (e == 0)
		e = seq_map_capture(s, &c->seqs);
	else
		tx_abort(s);
	deferred_drop(s, 0, 0);
	conn_batch_end(s);
	s->inflight = NULL;
	c->conn = NULL;
	c->done = true;
	c->result = e;
	return e;
}

static struct pg_pool *pool_of(struct store *base)
{
	return (struct pg_pool *)base;
}

/* the connection to work on: the current one, unless its batch's commit is in flight */
static struct store_pg *P(struct store *base)
{
	struct pg_pool *p = pool_of(base);
	struct store_commit *oldest = NULL;

	if (!p->conn[p->cur]->inflight)
		return p->conn[p->cur];
	for (size_t i = 0; i < p->n; i++) {
		struct store_commit *c = p->conn[i]->inflight;

		if (!c) {
			p->cur = i;
			return p->conn[i];
		}
		if (!oldest || c->order < oldest->order) {
			oldest = c;
			p->cur = i;
		}
	}
	(void)commit_drive(oldest, true); /* its owner finds the outcome in it */
	return p->conn[p->cur];
}

static void conn_close(struct store_pg *s)
{
	if (!s)
		return;
	if (s->inflight)
		(void)commit_drive(s->inflight, true);
	prefetch_drop(s);
	PQfinish(s->c);
	deferred_drop(s, 0, 0);
	seq_map_clear(&s->last);
	free(s->dres);
	free(s->dev);
	free(s);
}

static void pg_close(struct store *base)
{
	struct pg_pool *p = pool_of(base);

	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		conn_close(p->conn[i]);
	free(p);
}

static int pg_seq_resolve(struct store *base, uint64_t deferred, uint64_t *ret_seq)
{
	return seq_map_lookup(&P(base)->last, deferred, ret_seq);
}

/* the version of the open database; 0 for an empty one */
static int read_version(struct store_pg *s, int *ret)
{
	PGresult *r = NULL;
	int e = query(s, "SELECT to_regclass('schema_version') IS NOT NULL", "schema version", &r);

	if (e < 0)
		return e;
	if (!col_bool(r, 0, 0)) {
		PQclear(r);
		*ret = 0;
		return 0;
	}
	PQclear(r);
	r = NULL;
	e = query(s, "SELECT coalesce(max(version), 0) FROM schema_version", "schema version", &r);
	if (e == 0)
		*ret = (int)col_i64(r, 0, 0);
	PQclear(r);
	return e;
}

static int migrate(struct store_pg *s)
{
	int v = -1, r;

	r = exec(s, "BEGIN", "migrate");
	if (r == 0)
		r = exec(s, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")", "migration lock");
	if (r == 0)
		r = exec(s, "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY,"
			    " applied bigint NOT NULL)", "schema version");
	if (r == 0)
		r = read_version(s, &v);
	if (r == 0 && (v < 0 || v > SCHEMA_VERSION)) {
		fprintf(stderr, "vouchd: database schema version %d is not %d, refusing\n", v,
			SCHEMA_VERSION);
		r = -EPROTO;
	}
	for (; r == 0 && v < SCHEMA_VERSION; v++) {
		char sql[128];

		r = exec(s, migrations[v], "migration");
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, %lld)", v + 1,
			 (long long)time(NULL));
		if (r == 0)
			r = exec(s, sql, "schema version");
	}
	if (r == 0)
		return exec_commit(s);
	exec(s, "ROLLBACK", "rollback");
	return r;
}

/* the server's warnings go to stderr like its errors; its notices are not news */
static void notice(void *userdata, const char *msg)
{
	(void)userdata;
	if (strncmp(msg, "NOTICE", 6) != 0 && strncmp(msg, "DEBUG", 5) != 0 &&
	    strncmp(msg, "LOG", 3) != 0 && strncmp(msg, "INFO", 4) != 0)
		log_msg("server", msg);
}

static int conn_open(const char *dsn, unsigned flags, struct store_pg **ret)
{
	/*
	 * Defaults that @dsn (expanded last) may override.  A server that does not answer does
	 * not hang the event loop forever: connecting gives up after 5 s, a dead peer is found
	 * by TCP keepalives within a minute.  A node that stalls inside a transaction (stopped,
	 * or its machine gone) holds row locks: the server ends its session after 10 s idle,
	 * and no one waits more than 10 s for a lock (the request fails instead, 503).  The
	 * notices of CREATE ... IF NOT EXISTS are not news: warnings only.  A commit returns
	 * once it is on disk (synchronous_commit on, whatever the server's default): vouchd
	 * answers a result only then.  PQreset() reuses all of them.
	 */
	static const char *const keys[] = { "connect_timeout", "keepalives_idle",
					    "keepalives_interval", "keepalives_count",
					    "application_name", "options", "dbname", NULL };
	const char *values[] = { "5", "30", "10", "3", "vouchd",
				 "-c client_min_messages=warning -c lock_timeout=10s "
				 "-c idle_in_transaction_session_timeout=10s -c synchronous_commit=on",
				 dsn, NULL };
	struct store_pg *s = calloc(1, sizeof(*s));
	int r = 0;

	if (!s)
		return -ENOMEM;
	s->c = PQconnectdbParams(keys, values, 1);
	if (!s->c) {
		free(s);
		return -ENOMEM;
	}
	PQsetNoticeProcessor(s->c, notice, NULL);
	if (PQstatus(s->c) != CONNECTION_OK) {
		log_msg("connect", PQerrorMessage(s->c));
		r = -EIO;
		goto fail;
	}
	if (!(flags & STORE_OPEN_NO_MIGRATE))
		r = migrate(s);
	if (r == 0 && !(flags & STORE_OPEN_NO_MIGRATE))
		r = prepare_all(s);
	if (r == 0 && !(flags & STORE_OPEN_NO_MIGRATE))
		r = pipeline_on(s);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	conn_close(s);
	return r;
}

/* the first connection migrates; the others prepare their statements when first used */
static int pg_open(const char *dsn, unsigned flags, struct store **ret)
{
	struct pg_pool *p = calloc(1, sizeof(*p));
	size_t n = STORE_OPEN_POOL_SIZE(flags);
	int r;

	if (!p)
		return -ENOMEM;
	p->base.ops = store_pg_ops;
	n = n < 1 ? 1 : n > POOL_MAX ? POOL_MAX : n;
	r = conn_open(dsn, flags, &p->conn[0]);
	for (p->n = r == 0; r == 0 && p->n < n; p->n++)
		r = conn_open(dsn, flags | STORE_OPEN_NO_MIGRATE, &p->conn[p->n]);
	if (r < 0) {
		pg_close(&p->base);
		return r;
	}
	*ret = &p->base;
	return 0;
}

/*
 * An attestation's reads, in one round trip instead of four: the agent's row (locked), its
 * nonce (taken), its state and its status (locked), in the order the attestation takes them
 * one by one, so the lock order between nodes is unchanged.  Each answer is used by the
 * first agent_get/nonce_take/state_get/status_get of @id in the request; what the request
 * does not use goes with it (a taken nonce comes back with its rollback).
 */
static int pg_attest_prefetch(struct store *base, const char *id)
{
	static const int qs[] = { Q_AGENT_GET_LOCK, Q_NONCE_TAKE, Q_STATE_GET, Q_STATUS_GET_LOCK };
	struct store_pg *s = P(base);
	PGresult *all[4] = { NULL };
	struct params p = { 0 };
	int e = 0;

	prefetch_drop(s);
	if (!in_tx(s) || s->broken || strlen(id) >= sizeof(s->pre_id))
		return -EINVAL;
	p_str(&p, id);
	for (size_t i = 0; e == 0 && i < 4; i++)
		e = send_prepared(s, qs[i], &p, "attestation reads");
	if (e == 0) {
		/* what was sent before (the request's SAVEPOINT) answers first */
		int n = s->pending;
		PGresult **res = calloc((size_t)n, sizeof(*res));

		s->pending = 0;
		if (!res || PQpipelineSync(s->c) != 1) {
			log_msg("attestation reads", res ? PQerrorMessage(s->c) : "out of memory");
			s->broken = true;
			free(res);
			return -EIO;
		}
		e = read_synced_all(s, n, "attestation reads", NULL, res);
		for (int i = 0; i < n; i++) {
			if (e == 0 && i >= n - 4)
				all[i - (n - 4)] = res[i];
			else
				PQclear(res[i]);
		}
		free(res);
	}
	if (e < 0)
		return e;
	for (size_t i = 0; i < 4; i++)
		s->pre[qs[i]] = all[i];
	snprintf(s->pre_id, sizeof(s->pre_id), "%s", id);
	return 0;
}

/* --- transactions ------------------------------------------------------------------------- */

/* BEGIN on a connection that may have broken since the last transaction */
static int tx_begin(struct store_pg *s)
{
	int r = ensure(s);

	if (r == 0)
		r = exec(s, "BEGIN", "begin");
	/* the server restarted since: the first command finds out; once more, reconnected */
	if (r < 0 && (s->broken || PQstatus(s->c) != CONNECTION_OK)) {
		r = ensure(s);
		if (r == 0)
			r = exec(s, "BEGIN", "begin");
	}
	return r;
}

static int pg_batch_begin(struct store *base)
{
	struct store_pg *s = P(base);
	int r;

	deferred_drop(s, 0, 0);
	seq_map_clear(&s->last);
	s->mark_dres = s->mark_dev = 0;
	r = tx_begin(s);

	s->batch = r == 0;
	s->in_req = s->head_locked = false;
	return r;
}

/* write the queued appends and COMMIT, waiting for the answer; the seqs then resolve */
static int commit_now(struct store_pg *s)
{
	int r = deferred_write(s);

	if (r == 0)
		r = exec_commit(s);
	if (r == 0)
		r = seq_map_capture(s, &s->last);
	else
		tx_abort(s);
	deferred_drop(s, 0, 0);
	return r;
}

static int pg_batch_commit(struct store *base)
{
	struct store_pg *s = P(base);
	int r = commit_now(s);

	conn_batch_end(s);
	return r;
}

/* as batch_commit(), but the answer is read later (commit_drive()), on this connection, while
 * the next operations take another one */
static int pg_commit_start(struct store *base, struct store_commit **ret, int *ret_fd)
{
	struct pg_pool *p = pool_of(base);
	struct store_pg *s = P(base);
	struct store_commit *c = calloc(1, sizeof(*c));
	int r = c ? 0 : -ENOMEM;

	/* waits for the heads, which the commit before ours holds until its COMMIT is done */
	if (r == 0)
		r = deferred_write(s);
	if (r == 0)
		r = s->broken ? -EIO : send_sql(s, "COMMIT", "commit");
	if (r == 0 && PQpipelineSync(s->c) != 1) {
		log_msg("commit", PQerrorMessage(s->c));
		s->broken = true;
		r = -EIO;
	}
	if (r < 0) {
		free(c);
		tx_abort(s);
		deferred_drop(s, 0, 0);
		seq_map_clear(&s->last);
		conn_batch_end(s);
		return r;
	}
	c->n = s->pending;
	s->pending = 0;
	c->conn = s;
	c->order = ++p->order;
	s->inflight = c;
	*ret = c;
	*ret_fd = PQsocket(s->c);
	return 0;
}

static int pg_commit_poll(struct store_commit *c, bool wait)
{
	return commit_drive(c, wait);
}

static int pg_commit_seq(struct store_commit *c, uint64_t deferred, uint64_t *ret_seq)
{
	return c->done ? seq_map_lookup(&c->seqs, deferred, ret_seq) : -ENOENT;
}

static void pg_commit_free(struct store_commit *c)
{
	if (!c)
		return;
	if (!c->done)
		(void)commit_drive(c, true);
	seq_map_clear(&c->seqs);
	free(c);
}

static int pg_begin(struct store *base)
{
	struct store_pg *s = P(base);
	int r;

	prefetch_drop(s);
	if (!s->batch) {
		s->head_locked = false;
		deferred_drop(s, 0, 0);
		seq_map_clear(&s->last);
		r = tx_begin(s);
	} else {
		/* sent with the request's first read */
		r = s->broken ? -EIO : send_sql(s, "SAVEPOINT req", "begin");
		s->mark_dres = s->n_dres;
		s->mark_dev = s->n_dev;
	}
	s->in_req = r == 0;
	return r;
}

static int pg_commit(struct store *base)
{
	struct store_pg *s = P(base);
	int r;

	prefetch_drop(s);
	if (s->batch) {
		/* the request's writes are answered here: an error is its own, not the batch's */
		r = s->broken ? -EIO : send_sql(s, "RELEASE SAVEPOINT req", "commit");
		if (r == 0)
			r = sync_read(s, "commit", NULL);
		if (r == 0)
			s->in_req = false;
		return r;
	}
	s->head_locked = false;
	r = commit_now(s);
	s->in_req = false;
	return r;
}

static void pg_rollback(struct store *base)
{
	struct store_pg *s = P(base);

	prefetch_drop(s);
	/* the head's lock may have gone with the savepoint, its values surely */
	s->head_locked = false;
	/* the answers to what was sent, errors included, end the pipeline's aborted state */
	if (s->pending && !s->broken)
		(void)sync_read(s, "rollback", NULL);
	if (s->batch) {
		if (s->in_req)
			deferred_drop(s, s->mark_dres, s->mark_dev);
		if (s->in_req && !s->broken &&
		    (send_sql(s, "ROLLBACK TO SAVEPOINT req", "rollback") < 0 ||
		     send_sql(s, "RELEASE SAVEPOINT req", "rollback") < 0 ||
		     sync_read(s, "rollback", NULL) < 0))
			s->broken = true; /* the batch's commit fails, the next batch reconnects */
	} else {
		deferred_drop(s, 0, 0);
		if (!s->broken && PQstatus(s->c) == CONNECTION_OK &&
		    PQtransactionStatus(s->c) != PQTRANS_IDLE)
			exec(s, "ROLLBACK", "rollback");
	}
	s->in_req = false;
}

/* --- agents --------------------------------------------------------------------------------- */

static int pg_agent_get(struct store *base, const char *id, struct store_agent *ret)
{
	struct store_pg *s = P(base);
	struct store_agent a = { 0 };
	PGresult *r;
	int e;

	e = run_id(s, in_tx(s) ? Q_AGENT_GET_LOCK : Q_AGENT_GET, id, "agent", &r);
	if (e < 0)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return -ENOENT;
	}
	if (snprintf(a.id, sizeof(a.id), "%s", id) >= (int)sizeof(a.id) ||
	    col_text(r, 0, 1, a.ak_fpr, sizeof(a.ak_fpr)) < 0 ||
	    col_text(r, 0, 3, a.reference, sizeof(a.reference)) < 0 ||
	    col_text(r, 0, 4, a.ek_fpr, sizeof(a.ek_fpr)) < 0 ||
	    col_text(r, 0, 5, a.mode, sizeof(a.mode)) < 0 ||
	    (!PQgetisnull(r, 0, 6) && col_text(r, 0, 6, a.url, sizeof(a.url)) < 0))
		e = -EIO;
	if (e == 0)
		e = col_bytes(r, 0, 0, &a.ak, &a.ak_len);
	if (e == 0 && a.ak_len == 0)
		e = -EIO;
	a.registered = col_i64(r, 0, 2);
	a.ek_certified = col_i64(r, 0, 7) != 0;
	PQclear(r);
	if (e < 0) {
		store_agent_clear(&a);
		return e;
	}
	*ret = a;
	return 0;
}

static int pg_agent_put(struct store *base, const struct store_agent *a)
{
	struct params p = { 0 };

	p_str(&p, a->id);
	p_bin(&p, a->ak, a->ak_len);
	p_str(&p, a->ak_fpr);
	p_i64(&p, a->registered);
	p_str(&p, a->reference);
	p_str(&p, a->ek_fpr);
	p_str(&p, a->mode[0] ? a->mode : "push");
	p_str(&p, a->url[0] ? a->url : NULL);
	p_str(&p, a->ek_certified ? "1" : "0");
	return run(P(base), Q_AGENT_PUT, &p, "agent put", NULL);
}

static int count_query(struct store_pg *s, int q, const struct params *p, const char *what,
		       uint64_t *ret)
{
	PGresult *r;
	int e = run(s, q, p, what, &r);

	if (e < 0)
		return e;
	if (PQntuples(r) != 1)
		e = -EIO;
	else
		*ret = (uint64_t)col_i64(r, 0, 0);
	PQclear(r);
	return e;
}

static int pg_agent_count(struct store *base, uint64_t *ret)
{
	return count_query(P(base), Q_AGENT_COUNT, NULL, "agent count", ret);
}

static int pg_pull_list(struct store *base,
			int (*fn)(void *userdata, const char *id, const char *url), void *userdata)
{
	PGresult *r = NULL;
	int e = run(P(base), Q_PULL_LIST, NULL, "pull agents", &r);

	if (e < 0)
		return e;
	/* the rows are all here: the callback may use the store */
	for (int i = 0; e == 0 && i < PQntuples(r); i++) {
		char id[STORE_ID_MAX + 1], url[STORE_URL_MAX + 1];

		if (col_text(r, i, 0, id, sizeof(id)) < 0 || col_text(r, i, 1, url, sizeof(url)) < 0)
			continue;
		e = fn(userdata, id, url);
	}
	PQclear(r);
	return e;
}

static int pg_agent_states(struct store *base, uint64_t ret[_STORE_AGENT_STATE_MAX])
{
	PGresult *r;
	int e = run(P(base), Q_AGENT_STATES, NULL, "agent states", &r);

	if (e < 0)
		return e;
	memset(ret, 0, _STORE_AGENT_STATE_MAX * sizeof(*ret));
	for (int i = 0; i < PQntuples(r); i++) {
		const char *v = PQgetvalue(r, i, 0);
		uint64_t n = (uint64_t)col_i64(r, i, 1);

		if (PQgetisnull(r, i, 0))
			ret[STORE_AGENT_REGISTERED] += n;
		else if (strcmp(v, "trusted") == 0)
			ret[STORE_AGENT_TRUSTED] += n;
		else if (strcmp(v, "untrusted") == 0)
			ret[STORE_AGENT_UNTRUSTED] += n;
		else
			ret[STORE_AGENT_ERROR] += n;
	}
	PQclear(r);
	return 0;
}

static int pg_state_get(struct store *base, const char *id, struct store_state *ret)
{
	PGresult *r;
	int e;

	e = run_id(P(base), Q_STATE_GET, id, "state", &r);
	if (e < 0)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return -ENOENT;
	}
	ret->state_json = col_strdup(r, 0, 0);
	ret->reset_count = (uint32_t)col_i64(r, 0, 1);
	ret->restart_count = (uint32_t)col_i64(r, 0, 2);
	PQclear(r);
	return ret->state_json ? 0 : -ENOMEM;
}

static int pg_state_put(struct store *base, const char *id, const struct store_state *v)
{
	struct params p = { 0 };

	p_str(&p, id);
	p_str(&p, v->state_json);
	p_i64(&p, v->reset_count);
	p_i64(&p, v->restart_count);
	return run(P(base), Q_STATE_PUT, &p, "state put", NULL);
}

static int pg_nonce_put(struct store *base, const char *id, const struct store_nonce *n)
{
	struct params p = { 0 };

	if (n->len == 0 || n->len > STORE_NONCE_MAX)
		return -EINVAL;
	p_str(&p, id);
	p_bin(&p, n->nonce, n->len);
	p_i64(&p, n->deadline);
	return run(P(base), Q_NONCE_PUT, &p, "nonce put", NULL);
}

static int pg_nonce_take(struct store *base, const char *id, struct store_nonce *ret)
{
	struct store_nonce n = { 0 };
	uint8_t *b = NULL;
	size_t len = 0;
	PGresult *r;
	int e;

	e = run_id(P(base), Q_NONCE_TAKE, id, "nonce", &r);
	if (e < 0)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return -ENOENT;
	}
	e = col_bytes(r, 0, 0, &b, &len);
	if (e == 0 && (len == 0 || len > STORE_NONCE_MAX))
		e = -EIO;
	if (e == 0) {
		memcpy(n.nonce, b, len);
		n.len = len;
		n.deadline = col_i64(r, 0, 1);
		*ret = n;
	}
	free(b);
	PQclear(r);
	return e;
}

static int pg_enrollment_put(struct store *base, const struct store_enrollment *e)
{
	struct params p = { 0 };

	if (!e->ak || !e->ak_len || !e->csr)
		return -EINVAL;
	p_str(&p, e->id);
	p_bin(&p, e->ak, e->ak_len);
	p_str(&p, e->ak_fpr);
	p_str(&p, e->ek_fpr);
	p_bin(&p, e->secret_hash, STORE_HASH_SIZE);
	p_str(&p, e->csr);
	p_i64(&p, e->deadline);
	p_str(&p, e->ek_certified ? "1" : "0");
	return run(P(base), Q_ENROLL_PUT, &p, "enrollment put", NULL);
}

static int pg_enrollment_take(struct store *base, const char *id, struct store_enrollment *ret)
{
	struct store_enrollment e = { 0 };
	struct params p = { 0 };
	PGresult *r;
	int err;

	p_str(&p, id);
	err = run(P(base), Q_ENROLL_TAKE, &p, "enrollment", &r);
	if (err < 0)
		return err;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return -ENOENT;
	}
	if (snprintf(e.id, sizeof(e.id), "%s", id) >= (int)sizeof(e.id) ||
	    col_text(r, 0, 1, e.ak_fpr, sizeof(e.ak_fpr)) < 0 ||
	    col_text(r, 0, 2, e.ek_fpr, sizeof(e.ek_fpr)) < 0 || PQgetisnull(r, 0, 4))
		err = -EIO;
	if (err == 0)
		err = col_fixed(r, 0, 3, e.secret_hash, STORE_HASH_SIZE);
	if (err == 0)
		err = col_bytes(r, 0, 0, &e.ak, &e.ak_len);
	if (err == 0 && e.ak_len == 0)
		err = -EIO;
	if (err == 0 && !(e.csr = col_strdup(r, 0, 4)))
		err = -ENOMEM;
	e.deadline = col_i64(r, 0, 5);
	e.ek_certified = col_i64(r, 0, 6) != 0;
	PQclear(r);
	if (err < 0) {
		store_enrollment_clear(&e);
		return err;
	}
	*ret = e;
	return 0;
}

static int pg_enrollment_purge(struct store *base, int64_t now, uint64_t *ret_left)
{
	struct params p = { 0 };
	int e;

	p_i64(&p, now);
	e = run(P(base), Q_ENROLL_PURGE, &p, "enrollment purge", NULL);
	if (e < 0)
		return e;
	return count_query(P(base), Q_ENROLL_COUNT, NULL, "enrollment count", ret_left);
}

/* --- results ---------------------------------------------------------------------------------- */

/* lock the results head until the transaction ends, and read it (unless this transaction
 * holds it already: then it is what our last append wrote) */
static int head_lock(struct store_pg *s)
{
	PGresult *r;
	int e;

	if (s->head_locked)
		return 0;
	e = run(s, Q_HEAD_LOCK, NULL, "results head", &r);
	if (e < 0)
		return e;
	if (PQntuples(r) != 1 || col_fixed(r, 0, 1, s->head_hash, sizeof(s->head_hash)) < 0) {
		PQclear(r);
		log_msg("results head", "missing or damaged");
		return -EIO;
	}
	s->head_seq = (uint64_t)col_i64(r, 0, 0);
	PQclear(r);
	/* outside a transaction the lock ends with the statement */
	s->head_locked = in_tx(s);
	return 0;
}

static int pg_result_append(struct store *base, const struct store_result *res, uint64_t *ret_seq)
{
	struct store_pg *s = P(base);
	uint8_t h[STORE_HASH_SIZE];
	struct params p = { 0 };
	uint64_t seq;
	int e;

	if (in_tx(s))
		return defer_result(s, res, ret_seq);
	/* outside a transaction a concurrent append fails on the seq's primary key */
	e = head_lock(s);
	if (e < 0)
		return e;
	seq = s->head_seq + 1;
	e = store_row_hash(s->head_hash, seq, res->agent, res->time, res->verdict, res->body, h);
	if (e < 0)
		return e;
	p_i64(&p, (int64_t)seq);
	p_str(&p, res->agent);
	p_i64(&p, res->time);
	p_str(&p, res->verdict);
	p_str(&p, res->body);
	p_bin(&p, h, sizeof(h));
	e = run(s, Q_RESULT_ADD, &p, "result append", NULL);
	if (e < 0) {
		s->head_locked = false;
		return e;
	}
	if (s->head_locked) {
		s->head_seq = seq;
		memcpy(s->head_hash, h, sizeof(h));
	}
	if (ret_seq)
		*ret_seq = seq;
	return 0;
}

static int anchor_get(struct store_pg *s, uint64_t seq, uint8_t ret[STORE_HASH_SIZE])
{
	struct params p = { 0 };
	PGresult *r;
	int e;

	p_i64(&p, (int64_t)seq);
	e = run(s, Q_ANCHOR_GET, &p, "anchor", &r);
	if (e < 0)
		return e;
	e = PQntuples(r) == 1 ? col_fixed(r, 0, 0, ret, STORE_HASH_SIZE) : -ENOENT;
	PQclear(r);
	return e;
}

static int pg_chain_verify(struct store *base, uint64_t *ret_rows, uint64_t *ret_bad)
{
	struct store_pg *s = P(base);
	uint8_t prev[STORE_HASH_SIZE] = { 0 }, h[STORE_HASH_SIZE], stored[STORE_HASH_SIZE];
	uint64_t rows = 0, expect = 1, last = 0;
	int e = 0;

	for (;;) {
		struct params p = { 0 };
		PGresult *r;
		int n;

		p_i64(&p, (int64_t)last);
		e = run(s, Q_ROWS, &p, "results", &r);
		if (e < 0)
			break;
		n = PQntuples(r);
		for (int i = 0; e == 0 && i < n; i++) {
			uint64_t seq = (uint64_t)col_i64(r, i, 0);

			rows++;
			last = seq;
			/* a pruned stretch ends in an anchor: the hash of the row before this one */
			if (seq > expect && anchor_get(s, seq - 1, prev) == 0)
				expect = seq;
			/* a deleted row breaks the sequence; an edited one its hash */
			e = store_row_hash(prev, seq, PQgetvalue(r, i, 1), col_i64(r, i, 2),
					   PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), h);
			if (e < 0)
				break;
			if (seq != expect || col_fixed(r, i, 5, stored, sizeof(stored)) < 0 ||
			    memcmp(h, stored, sizeof(h)) != 0) {
				*ret_bad = seq;
				e = -EKEYREJECTED;
				break;
			}
			memcpy(prev, h, sizeof(prev));
			expect++;
		}
		PQclear(r);
		if (e < 0 || n < 1000)
			break;
	}
	*ret_rows = rows;
	return e;
}

/* --- the fleet --------------------------------------------------------------------------------- */

static int pg_agent_list(struct store *base, const char *after, size_t limit,
			 struct store_agent_info **ret, size_t *ret_n)
{
	struct store_agent_info *v = NULL;
	struct params p = { 0 };
	PGresult *r;
	size_t n = 0;
	int e;

	p_str(&p, after ? after : "");
	p_i64(&p, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	e = run(P(base), Q_AGENT_LIST, &p, "agent list", &r);
	if (e < 0)
		return e;
	if (PQntuples(r) > 0 && !(v = calloc((size_t)PQntuples(r), sizeof(*v))))
		e = -ENOMEM;
	for (int k = 0; e == 0 && k < PQntuples(r); k++) {
		struct store_agent_info *i = &v[n];

		if (col_text(r, k, 0, i->id, sizeof(i->id)) < 0 ||
		    col_text(r, k, 2, i->reference, sizeof(i->reference)) < 0) {
			e = -EIO;
			break;
		}
		n++;
		i->registered = col_i64(r, k, 1);
		if (!PQgetisnull(r, k, 3) && !(i->state_json = col_strdup(r, k, 3))) {
			e = -ENOMEM;
			break;
		}
		if (!PQgetisnull(r, k, 4)) {
			i->last_seq = (uint64_t)col_i64(r, k, 4);
			i->last_time = col_i64(r, k, 5);
			if (col_text(r, k, 6, i->last_verdict, sizeof(i->last_verdict)) < 0) {
				e = -EIO;
				break;
			}
		}
	}
	PQclear(r);
	if (e < 0) {
		store_agent_infos_free(v, n);
		return e;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int pg_agent_delete(struct store *base, const char *id)
{
	static const int q[] = { Q_AGENT_DEL_NONCE, Q_AGENT_DEL_STATE, Q_AGENT_DEL_STATUS };
	struct params p = { 0 };
	PGresult *r;
	int e = 0;

	p_str(&p, id);
	for (size_t i = 0; e == 0 && i < sizeof(q) / sizeof(q[0]); i++)
		e = run(P(base), q[i], &p, "agent delete", NULL);
	if (e == 0)
		e = run(P(base), Q_AGENT_DEL, &p, "agent delete", &r);
	if (e < 0)
		return e;
	e = changes(r) == 0 ? -ENOENT : 0;
	PQclear(r);
	return e;
}

static int pg_reference_put(struct store *base, const char *name, const char *hash,
			    const char *body, int64_t time)
{
	struct params p = { 0 }, q = { 0 };
	int e;

	p_str(&p, hash);
	p_str(&p, body);
	e = run(P(base), Q_REF_DOC_PUT, &p, "reference put", NULL);
	if (e < 0)
		return e;
	p_str(&q, name);
	p_str(&q, hash);
	p_i64(&q, time);
	return run(P(base), Q_REF_NAME_PUT, &q, "reference name put", NULL);
}

static int pg_reference_get(struct store *base, const char *name, struct store_reference *ret)
{
	struct store_reference ref = { 0 };
	struct params p = { 0 };
	PGresult *r;
	int e;

	p_str(&p, name);
	e = run(P(base), Q_REF_GET, &p, "reference", &r);
	if (e < 0)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return -ENOENT;
	}
	if (snprintf(ref.name, sizeof(ref.name), "%s", name) >= (int)sizeof(ref.name) ||
	    col_text(r, 0, 0, ref.hash, sizeof(ref.hash)) < 0 || PQgetisnull(r, 0, 2))
		e = -EIO;
	ref.updated = col_i64(r, 0, 1);
	if (e == 0 && !(ref.body = col_strdup(r, 0, 2)))
		e = -ENOMEM;
	PQclear(r);
	if (e == 0)
		*ret = ref;
	return e;
}

static int pg_reference_list(struct store *base, struct store_reference **ret, size_t *ret_n)
{
	struct store_reference *v = NULL;
	PGresult *r;
	size_t n = 0;
	int e = run(P(base), Q_REF_LIST, NULL, "reference list", &r);

	if (e < 0)
		return e;
	if (PQntuples(r) > 0 && !(v = calloc((size_t)PQntuples(r), sizeof(*v))))
		e = -ENOMEM;
	for (int k = 0; e == 0 && k < PQntuples(r); k++) {
		if (col_text(r, k, 0, v[n].name, sizeof(v[n].name)) < 0 ||
		    col_text(r, k, 1, v[n].hash, sizeof(v[n].hash)) < 0) {
			e = -EIO;
			break;
		}
		v[n++].updated = col_i64(r, k, 2);
	}
	PQclear(r);
	if (e < 0) {
		free(v);
		return e;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int pg_agent_set_reference(struct store *base, const char *id, const char *name)
{
	struct params p = { 0 };
	PGresult *r;
	int e;

	p_str(&p, id);
	p_str(&p, name);
	e = run(P(base), Q_AGENT_SET_REF, &p, "agent reference", &r);
	if (e < 0)
		return e;
	e = changes(r) == 0 ? -ENOENT : 0;
	PQclear(r);
	return e;
}

static int pg_results_for_agent(struct store *base, const char *id, size_t limit,
				struct store_result_row **ret, size_t *ret_n)
{
	struct store_result_row *v;
	struct params p = { 0 };
	PGresult *r;
	size_t n = 0;
	int e;

	if (limit == 0 || limit > 10000)
		return -EINVAL;
	p_str(&p, id);
	p_i64(&p, (int64_t)limit);
	e = run(P(base), Q_AGENT_RESULTS, &p, "agent results", &r);
	if (e < 0)
		return e;
	v = calloc(limit, sizeof(*v));
	if (!v) {
		PQclear(r);
		return -ENOMEM;
	}
	for (int k = 0; k < PQntuples(r) && n < limit; k++) {
		v[n].seq = (uint64_t)col_i64(r, k, 0);
		v[n].time = col_i64(r, k, 1);
		if (col_text(r, k, 2, v[n].verdict, sizeof(v[n].verdict)) < 0) {
			e = -EIO;
			break;
		}
		if (!(v[n].body = col_strdup(r, k, 3))) {
			e = -ENOMEM;
			break;
		}
		n++;
	}
	PQclear(r);
	if (e < 0) {
		store_result_rows_free(v, n);
		return e;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* --- states and the outbox ----------------------------------------------------------------- */

static int pg_status_get(struct store *base, const char *id, struct store_status *ret)
{
	struct store_pg *s = P(base);
	struct store_status v = { 0 };
	PGresult *r;
	int e;

	/* the event a transition appends takes the heads at commit, after every row lock
	 * (deferred appends): one lock order for watchdogs and attestations on all nodes */
	e = run_id(s, in_tx(s) ? Q_STATUS_GET_LOCK : Q_STATUS_GET, id, "status", &r);
	if (e < 0)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return -ENOENT;
	}
	e = col_text(r, 0, 0, v.state, sizeof(v.state));
	v.deadline = col_i64(r, 0, 1);
	v.since = col_i64(r, 0, 2);
	PQclear(r);
	if (e == 0)
		*ret = v;
	return e;
}

static int pg_status_put(struct store *base, const char *id, const struct store_status *v)
{
	struct params p = { 0 };

	p_str(&p, id);
	p_str(&p, v->state);
	p_i64(&p, v->deadline);
	p_i64(&p, v->since);
	return run(P(base), Q_STATUS_PUT, &p, "status put", NULL);
}

static int pg_status_due(struct store *base, int64_t now, char (*ret)[STORE_ID_MAX + 1],
			 size_t max, size_t *ret_n)
{
	struct params p = { 0 };
	PGresult *r;
	size_t n = 0;
	int e;

	p_i64(&p, now);
	p_i64(&p, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	e = run(P(base), Q_STATUS_DUE, &p, "due agents", &r);
	if (e < 0)
		return e;
	for (int k = 0; e == 0 && k < PQntuples(r) && n < max; k++) {
		e = col_text(r, k, 0, ret[n], sizeof(ret[n]));
		if (e == 0)
			n++;
	}
	PQclear(r);
	*ret_n = n;
	return e;
}

static int pg_status_count(struct store *base, const char *state, uint64_t *ret)
{
	struct params p = { 0 };

	p_str(&p, state);
	return count_query(P(base), Q_STATUS_COUNT, &p, "status count", ret);
}

static int pg_outbox_last(struct store *base, uint64_t *ret)
{
	return count_query(P(base), Q_OUTBOX_LAST, NULL, "last event", ret);
}

static int pg_outbox_append(struct store *base, struct store_event *ev)
{
	struct store_pg *s = P(base);
	struct params p = { 0 };
	PGresult *r;
	int e;

	if (in_tx(s))
		return defer_event(s, ev);
	/* the results head first, as an attestation takes them: one lock order between nodes */
	e = head_lock(s);
	if (e < 0)
		return e;
	p_i64(&p, ev->time);
	p_str(&p, ev->type);
	p_str(&p, ev->agent);
	p_str(&p, ev->from);
	p_str(&p, ev->to);
	if (ev->result)
		p_i64(&p, (int64_t)ev->result);
	else
		p_str(&p, NULL);
	p_str(&p, ev->reason);
	e = run(s, Q_OUTBOX_ADD, &p, "event append", &r);
	if (e < 0)
		return e;
	if (PQntuples(r) != 1) {
		log_msg("event append", "the outbox head is missing");
		e = -EIO;
	} else {
		ev->seq = (uint64_t)col_i64(r, 0, 0);
	}
	PQclear(r);
	return e;
}

static int pg_outbox_pending(struct store *base, uint64_t after, size_t limit,
			     struct store_event *ret, size_t *ret_n)
{
	struct params p = { 0 };
	PGresult *r;
	size_t n = 0;
	int e;

	p_i64(&p, (int64_t)after);
	p_i64(&p, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	e = run(P(base), Q_OUTBOX_PENDING, &p, "events", &r);
	if (e < 0)
		return e;
	for (int k = 0; k < PQntuples(r) && n < limit; k++) {
		struct store_event *ev = &ret[n];

		memset(ev, 0, sizeof(*ev));
		ev->seq = (uint64_t)col_i64(r, k, 0);
		ev->time = col_i64(r, k, 1);
		ev->result = PQgetisnull(r, k, 6) ? 0 : (uint64_t)col_i64(r, k, 6);
		if (col_text(r, k, 2, ev->type, sizeof(ev->type)) < 0 ||
		    col_text(r, k, 3, ev->agent, sizeof(ev->agent)) < 0 ||
		    col_text(r, k, 4, ev->from, sizeof(ev->from)) < 0 ||
		    col_text(r, k, 5, ev->to, sizeof(ev->to)) < 0 ||
		    col_text(r, k, 7, ev->reason, sizeof(ev->reason)) < 0) {
			e = -EIO;
			break;
		}
		n++;
	}
	PQclear(r);
	*ret_n = n;
	return e;
}

static int pg_webhook_get(struct store *base, const char *url, struct store_webhook *ret)
{
	struct params p = { 0 };
	PGresult *r;
	int e;

	p_str(&p, url);
	e = run(P(base), Q_WEBHOOK_GET, &p, "webhook", &r);
	if (e < 0)
		return e;
	*ret = (struct store_webhook){ 0 };
	if (PQntuples(r) == 1) {
		ret->delivered = (uint64_t)col_i64(r, 0, 0);
		ret->attempts = (uint32_t)col_i64(r, 0, 1);
		ret->next_attempt = col_i64(r, 0, 2);
	}
	PQclear(r);
	return 0;
}

static int pg_outbox_mark_delivered(struct store *base, uint64_t seq, const char *url)
{
	struct params p = { 0 };

	p_str(&p, url);
	p_i64(&p, (int64_t)seq);
	return run(P(base), Q_WEBHOOK_DELIVERED, &p, "webhook delivered", NULL);
}

static int pg_outbox_mark_failed(struct store *base, const char *url, uint32_t attempts,
				 int64_t next_attempt)
{
	struct params p = { 0 };

	p_str(&p, url);
	p_i64(&p, attempts);
	p_i64(&p, next_attempt);
	return run(P(base), Q_WEBHOOK_FAILED, &p, "webhook failed", NULL);
}

/* --- several nodes --------------------------------------------------------------------------- */

static int pg_pull_claim(struct store *base, const char *node, int64_t now, int64_t ttl,
			 size_t max, int (*fn)(void *userdata, const char *id, const char *url),
			 void *userdata)
{
	struct params p = { 0 }, q = { 0 };
	PGresult *r = NULL;
	int e;

	if (!node || !*node || ttl <= 0 || max > INT64_MAX)
		return -EINVAL;
	e = pg_begin(base);
	if (e < 0)
		return e;
	p_str(&p, node);
	p_i64(&p, now);
	p_i64(&p, ttl);
	e = run(P(base), Q_LEASE_RENEW, &p, "pull renew", NULL);
	p_i64(&p, (int64_t)max);
	if (e == 0)
		e = run(P(base), Q_LEASE_CLAIM, &p, "pull claim", NULL);
	p_str(&q, node);
	p_i64(&q, now);
	if (e == 0)
		e = run(P(base), Q_LEASE_HELD, &q, "pull leases", &r);
	if (e == 0)
		e = pg_commit(base);
	if (e < 0) {
		pg_rollback(base);
		PQclear(r);
		return e;
	}
	/* committed: the callback may use the store */
	for (int k = 0; e == 0 && k < PQntuples(r); k++) {
		char id[STORE_ID_MAX + 1], url[STORE_URL_MAX + 1];

		if (col_text(r, k, 0, id, sizeof(id)) < 0 || col_text(r, k, 1, url, sizeof(url)) < 0)
			continue;
		e = fn(userdata, id, url);
	}
	PQclear(r);
	return e;
}

static int pg_lease_release(struct store *base, const char *node)
{
	struct params p = { 0 };
	int e = pg_begin(base);

	if (e < 0)
		return e;
	p_str(&p, node);
	e = run(P(base), Q_LEASE_RELEASE, &p, "lease release", NULL);
	if (e == 0)
		e = run(P(base), Q_DUTY_RELEASE, &p, "duty release", NULL);
	if (e == 0)
		e = pg_commit(base);
	if (e < 0)
		pg_rollback(base);
	return e;
}

static int pg_duty_claim(struct store *base, const char *duty, const char *node, int64_t now,
			 int64_t ttl)
{
	struct params p = { 0 };
	PGresult *r;
	int e;

	if (!duty || !*duty || !node || !*node || ttl <= 0)
		return -EINVAL;
	p_str(&p, duty);
	p_str(&p, node);
	p_i64(&p, now);
	p_i64(&p, ttl);
	/* one statement: the row's lock makes the claim atomic between nodes */
	e = run(P(base), Q_DUTY_CLAIM, &p, "duty claim", &r);
	if (e < 0)
		return e;
	e = changes(r) == 0 ? -EBUSY : 0;
	PQclear(r);
	return e;
}

/* --- operations ---------------------------------------------------------------------------- */

static int pg_schema_version(struct store *base, int *ret_version, int *ret_latest)
{
	struct store_pg *s = P(base);
	int v = 0, e;

	/* a handle opened without migrating has no statements: only its connection */
	if (!in_tx(s) && (PQstatus(s->c) != CONNECTION_OK || s->broken)) {
		e = s->prepared || s->broken ? ensure(s) : (PQreset(s->c), 0);
		if (e < 0 || PQstatus(s->c) != CONNECTION_OK) {
			log_msg("reconnect", PQerrorMessage(s->c));
			return -EIO;
		}
	}
	e = read_version(s, &v);
	if (e < 0)
		return e;
	*ret_version = v;
	*ret_latest = SCHEMA_VERSION;
	return 0;
}

/*
 * Retention: the chain is verified first (pruning must not launder an edited row); then for
 * every pruned row whose successor stays its hash becomes an anchor, and the rows go.  One
 * transaction that holds the chain's head, so no row is appended meanwhile: the last row
 * (whose successor is not yet written) is always its agent's newest and stays.
 */
static int pg_result_prune(struct store *base, int64_t before, uint64_t *ret_pruned)
{
	struct store_pg *s = P(base);
	struct params p = { 0 }, q = { 0 };
	uint64_t rows = 0, bad = 0, pruned = 0;
	PGresult *r;
	int e = pg_begin(base);

	if (e < 0)
		return e;
	e = head_lock(s);
	if (e == 0)
		e = pg_chain_verify(base, &rows, &bad);
	if (e == -EKEYREJECTED)
		fprintf(stderr, "vouchd: results: hash chain broken at row %llu, not pruning\n",
			(unsigned long long)bad);
	p_i64(&p, before);
	p_i64(&p, (int64_t)time(NULL));
	if (e == 0)
		e = run(s, Q_PRUNE_ANCHOR, &p, "prune anchors", NULL);
	if (e == 0)
		e = exec(s, "SELECT set_config('vouchd.prune', 'on', true)", "prune");
	q.n = 0;
	p_i64(&q, before);
	if (e == 0 && (e = run(s, Q_PRUNE, &q, "prune", &r)) == 0) {
		pruned = changes(r);
		PQclear(r);
	}
	if (e == 0)
		e = exec(s, "SELECT set_config('vouchd.prune', 'off', true)", "prune");
	if (e == 0)
		e = pg_commit(base);
	if (e < 0) {
		pg_rollback(base);
		return e;
	}
	if (ret_pruned)
		*ret_pruned = pruned;
	return 0;
}

/* PostgreSQL has its own tools for a consistent copy: pg_dump, pg_basebackup */
static int pg_backup(struct store *base, const char *path)
{
	(void)base;
	(void)path;
	return -EOPNOTSUPP;
}

static const struct store_ops pg_ops = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.seq_resolve = pg_seq_resolve,
	.attest_prefetch = pg_attest_prefetch,
	.commit_start = pg_commit_start,
	.commit_poll = pg_commit_poll,
	.commit_seq = pg_commit_seq,
	.commit_free = pg_commit_free,
	.batch_begin = pg_batch_begin,
	.batch_commit = pg_batch_commit,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.agent_get = pg_agent_get,
	.agent_put = pg_agent_put,
	.agent_count = pg_agent_count,
	.pull_list = pg_pull_list,
	.agent_states = pg_agent_states,
	.state_get = pg_state_get,
	.state_put = pg_state_put,
	.nonce_put = pg_nonce_put,
	.nonce_take = pg_nonce_take,
	.enrollment_put = pg_enrollment_put,
	.enrollment_take = pg_enrollment_take,
	.enrollment_purge = pg_enrollment_purge,
	.result_append = pg_result_append,
	.chain_verify = pg_chain_verify,
	.agent_list = pg_agent_list,
	.agent_delete = pg_agent_delete,
	.reference_put = pg_reference_put,
	.reference_get = pg_reference_get,
	.reference_list = pg_reference_list,
	.agent_set_reference = pg_agent_set_reference,
	.results_for_agent = pg_results_for_agent,
	.status_get = pg_status_get,
	.status_put = pg_status_put,
	.status_due = pg_status_due,
	.status_count = pg_status_count,
	.outbox_append = pg_outbox_append,
	.outbox_pending = pg_outbox_pending,
	.outbox_last = pg_outbox_last,
	.webhook_get = pg_webhook_get,
	.outbox_mark_delivered = pg_outbox_mark_delivered,
	.outbox_mark_failed = pg_outbox_mark_failed,
	.pull_claim = pg_pull_claim,
	.lease_release = pg_lease_release,
	.duty_claim = pg_duty_claim,
	.schema_version = pg_schema_version,
	.result_prune = pg_result_prune,
	.backup = pg_backup,
};

const struct store_ops *const store_pg_ops = &pg_ops;
