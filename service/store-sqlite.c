// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd storage in SQLite: WAL journal, one connection per vouchd process (its single event
 * loop is the one writer; several nodes on one machine take turns under SQLite's write lock,
 * waiting up to the busy timeout), every statement prepared once at open.  Inside a batch (group commit)
 * begin/commit/rollback are the savepoint 'req' of the batch's one transaction.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store-sql.h"
#include "store.h"

#define SCHEMA_VERSION 7

enum {
	Q_AGENT_GET,
	Q_AGENT_PUT,
	Q_AGENT_COUNT,
	Q_PULL_LIST,
	Q_AGENT_STATES,
	Q_STATE_GET,
	Q_STATE_PUT,
	Q_NONCE_PUT,
	Q_NONCE_GET,
	Q_NONCE_DEL,
	Q_ENROLL_PUT,
	Q_ENROLL_GET,
	Q_ENROLL_DEL,
	Q_ENROLL_PURGE,
	Q_ENROLL_COUNT,
	Q_LAST_ROW,
	Q_RESULT_ADD,
	Q_ROWS,
	Q_AGENT_LIST,
	Q_AGENT_DEL_NONCE,
	Q_AGENT_DEL_STATE,
	Q_AGENT_DEL,
	Q_REF_DOC_PUT,
	Q_REF_NAME_PUT,
	Q_REF_GET,
	Q_REF_LIST,
	Q_AGENT_SET_REF,
	Q_AGENT_RESULTS,
	Q_STATUS_GET,
	Q_STATUS_PUT,
	Q_STATUS_DUE,
	Q_STATUS_COUNT,
	Q_OUTBOX_LAST,
	Q_OUTBOX_ADD,
	Q_OUTBOX_PENDING,
	Q_WEBHOOK_GET,
	Q_WEBHOOK_DELIVERED,
	Q_WEBHOOK_FAILED,
	Q_AGENT_DEL_STATUS,
	Q_LEASE_CLAIM,
	Q_LEASE_HELD,
	Q_LEASE_RELEASE,
	Q_DUTY_RELEASE,
	Q_DUTY_CLAIM,
	Q_ANCHOR_GET,
	_Q_MAX,
};

/* SQLite's own statements number their parameters ?N; the shared ones (store-sql.h) are
 * written $N, as PostgreSQL has them, and sqlite_params() makes them ?N */
static const char *const queries[_Q_MAX] = {
	[Q_AGENT_GET] = SQL_AGENT_GET,
	[Q_AGENT_PUT] = SQL_AGENT_PUT,
	[Q_AGENT_COUNT] = SQL_AGENT_COUNT,
	[Q_PULL_LIST] = SQL_PULL_LIST,
	/* the newest row per agent: seq is the append order */
	[Q_AGENT_STATES] = "SELECT (SELECT verdict FROM results WHERE agent = agents.id "
			   "AND time >= agents.registered ORDER BY seq DESC LIMIT 1) AS v, count(*) FROM agents GROUP BY v",
	[Q_STATE_GET] = SQL_STATE_GET,
	[Q_STATE_PUT] = SQL_STATE_PUT,
	[Q_NONCE_PUT] = SQL_NONCE_PUT,
	[Q_NONCE_GET] = "SELECT nonce, deadline FROM nonces WHERE agent = ?1",
	[Q_NONCE_DEL] = "DELETE FROM nonces WHERE agent = ?1",
	[Q_ENROLL_PUT] = SQL_ENROLL_PUT,
	[Q_ENROLL_GET] = "SELECT ak, ak_fpr, ek_fpr, secret_hash, csr, deadline, ek_certified "
			 "FROM enrollments WHERE agent = ?1",
	[Q_ENROLL_DEL] = "DELETE FROM enrollments WHERE agent = ?1",
	[Q_ENROLL_PURGE] = SQL_ENROLL_PURGE,
	[Q_ENROLL_COUNT] = SQL_ENROLL_COUNT,
	[Q_LAST_ROW] = "SELECT seq, hash FROM results ORDER BY seq DESC LIMIT 1",
	[Q_RESULT_ADD] = "INSERT INTO results (seq, agent, time, verdict, body, hash) "
			 "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_ROWS] = "SELECT seq, agent, time, verdict, body, hash FROM results ORDER BY seq",
	/* a results row belongs to the agent's current registration when it is not older
	 * than it: a deleted and re-registered id starts with an empty history */
	[Q_AGENT_LIST] = SQL_AGENT_LIST,
	[Q_AGENT_DEL_NONCE] = SQL_AGENT_DEL_NONCE,
	[Q_AGENT_DEL_STATE] = SQL_AGENT_DEL_STATE,
	[Q_AGENT_DEL] = SQL_AGENT_DEL,
	[Q_REF_DOC_PUT] = SQL_REF_DOC_PUT,
	[Q_REF_NAME_PUT] = SQL_REF_NAME_PUT,
	[Q_REF_GET] = SQL_REF_GET,
	[Q_REF_LIST] = SQL_REF_LIST,
	[Q_AGENT_SET_REF] = SQL_AGENT_SET_REF,
	[Q_AGENT_RESULTS] = SQL_AGENT_RESULTS,
	[Q_STATUS_GET] = SQL_STATUS_GET,
	[Q_STATUS_PUT] = SQL_STATUS_PUT,
	[Q_STATUS_DUE] = SQL_STATUS_DUE,
	[Q_STATUS_COUNT] = SQL_STATUS_COUNT,
	[Q_OUTBOX_LAST] = SQL_OUTBOX_LAST,
	[Q_OUTBOX_ADD] = "INSERT INTO outbox (seq, time, type, agent, from_state, to_state, result, "
			 "reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[Q_OUTBOX_PENDING] = SQL_OUTBOX_PENDING,
	[Q_WEBHOOK_GET] = SQL_WEBHOOK_GET,
	[Q_WEBHOOK_DELIVERED] = "INSERT INTO webhooks (url, delivered, attempts, next_attempt) "
				"VALUES (?1, ?2, 0, 0) ON CONFLICT(url) DO UPDATE SET "
				"delivered = max(delivered, ?2), attempts = 0, next_attempt = 0",
	[Q_WEBHOOK_FAILED] = SQL_WEBHOOK_FAILED,
	[Q_AGENT_DEL_STATUS] = SQL_AGENT_DEL_STATUS,
	/* the node's own leases first, so that a smaller @max never drops one for another */
	[Q_LEASE_CLAIM] = "UPDATE agents SET lease_node = ?1, lease_until = ?2 + ?3 WHERE id IN "
			  "(SELECT id FROM agents WHERE mode = 'pull' AND url IS NOT NULL AND "
			  "(lease_node = ?1 OR lease_node IS NULL OR lease_until <= ?2) "
			  "ORDER BY lease_node IS NOT ?1, id LIMIT ?4)",
	[Q_LEASE_HELD] = SQL_LEASE_HELD,
	[Q_LEASE_RELEASE] = SQL_LEASE_RELEASE,
	[Q_DUTY_RELEASE] = SQL_DUTY_RELEASE,
	[Q_DUTY_CLAIM] = "INSERT INTO duties (name, node, until) VALUES (?1, ?2, ?3 + ?4) "
			 "ON CONFLICT(name) DO UPDATE SET node = ?2, until = ?3 + ?4 "
			 "WHERE duties.node = ?2 OR duties.until <= ?3",
	[Q_ANCHOR_GET] = SQL_ANCHOR_GET,
};

/* pending enrollments: no foreign key, the agent does not exist before its first one */
#define ENROLLMENTS                                                                        \
	"CREATE TABLE enrollments (agent TEXT PRIMARY KEY, ak BLOB NOT NULL,"               \
	" ak_fpr TEXT NOT NULL, ek_fpr TEXT NOT NULL, secret_hash BLOB NOT NULL,"          \
	" csr TEXT NOT NULL, deadline INTEGER NOT NULL);"

/* Results are append-only: the triggers refuse UPDATE and DELETE through SQL; a direct
 * edit of the file (or dropping the triggers) is what the hash chain detects. */
static const char schema[] =
	"CREATE TABLE agents (id TEXT PRIMARY KEY, ak BLOB NOT NULL, ak_fpr TEXT NOT NULL,"
	" registered INTEGER NOT NULL, reference TEXT NOT NULL);"
	"CREATE TABLE states (agent TEXT PRIMARY KEY REFERENCES agents(id), state TEXT NOT NULL,"
	" reset_count INTEGER NOT NULL, restart_count INTEGER NOT NULL);"
	"CREATE TABLE nonces (agent TEXT PRIMARY KEY REFERENCES agents(id), nonce BLOB NOT NULL,"
	" deadline INTEGER NOT NULL);"
	"CREATE TABLE results (seq INTEGER PRIMARY KEY, agent TEXT NOT NULL, time INTEGER NOT NULL,"
	" verdict TEXT NOT NULL, body TEXT NOT NULL, hash BLOB NOT NULL);"
	"CREATE TRIGGER results_no_update BEFORE UPDATE ON results"
	" BEGIN SELECT RAISE(ABORT, 'results are append-only'); END;"
	"CREATE TRIGGER results_no_delete BEFORE DELETE ON results"
	" BEGIN SELECT RAISE(ABORT, 'results are append-only'); END;"
	"PRAGMA user_version = 1;";

/* schema version N-1 -> N, applied in order inside one transaction; a new database is
 * version 1 (above) brought up through all of them */
static const char *const migrations[] = {
	/* 1 -> 2: enrollment (the EK an agent's AK was proven to live next to) */
	"ALTER TABLE agents ADD COLUMN ek_fpr TEXT NOT NULL DEFAULT '';"
	ENROLLMENTS
	"PRAGMA user_version = 2;",
	/* 2 -> 3: per-agent mode (push, pull) and the pull agent's URL */
	"ALTER TABLE agents ADD COLUMN mode TEXT NOT NULL DEFAULT 'push';"
	"ALTER TABLE agents ADD COLUMN url TEXT;"
	"PRAGMA user_version = 3;",
	/* 3 -> 4: named reference values, each document stored once by its SHA-256; the
	 * agents' history is read by agent */
	"CREATE TABLE reference_docs (hash TEXT PRIMARY KEY, body TEXT NOT NULL);"
	"CREATE TABLE reference_names (name TEXT PRIMARY KEY,"
	" hash TEXT NOT NULL REFERENCES reference_docs(hash), updated INTEGER NOT NULL);"
	"CREATE INDEX results_agent ON results (agent, seq);"
	"PRAGMA user_version = 4;",
	/*
	 * 4 -> 5: the agents' states and the outbox of their transitions, written in the
	 * transaction of the change; the webhooks' delivery cursors.  Events are append-only
	 * like results.  Agents registered before have no status row until their next
	 * attestation (they count as enrolled, without a deadline).
	 */
	"CREATE TABLE agent_status (agent TEXT PRIMARY KEY REFERENCES agents(id),"
	" state TEXT NOT NULL, deadline INTEGER NOT NULL, since INTEGER NOT NULL);"
	"CREATE INDEX agent_status_deadline ON agent_status (deadline);"
	"CREATE TABLE outbox (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, type TEXT NOT NULL,"
	" agent TEXT NOT NULL, from_state TEXT NOT NULL, to_state TEXT NOT NULL, result INTEGER,"
	" reason TEXT NOT NULL);"
	"CREATE TRIGGER outbox_no_update BEFORE UPDATE ON outbox"
	" BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
	"CREATE TABLE webhooks (url TEXT PRIMARY KEY, delivered INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL, next_attempt INTEGER NOT NULL);"
	"PRAGMA user_version = 5;",
	/* 5 -> 6: whether the EK was certified by an EK CA (a bare EK, --allow-ek-public, or an
	 * operator's provisioning is not: the results then claim nothing about the hardware) */
	"ALTER TABLE agents ADD COLUMN ek_certified INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE enrollments ADD COLUMN ek_certified INTEGER NOT NULL DEFAULT 0;"
	"PRAGMA user_version = 6;",
	/*
	 * 6 -> 7: several nodes over one database and retention.  A pull agent is fetched by
	 * the node holding its lease (lease_node until lease_until, Unix time, which is the
	 * first second it no longer holds); a duty (the
	 * outbox's delivery) is done by one node at a time.  Pruning deletes old results; an
	 * anchor keeps the hash of a pruned row whose successor stays, so that the chain
	 * still verifies from there.  The only way to delete results is result_prune(): it
	 * opens the trigger by a row in prune_permit, inside its own transaction.
	 */
	"ALTER TABLE agents ADD COLUMN lease_node TEXT;"
	"ALTER TABLE agents ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE duties (name TEXT PRIMARY KEY, node TEXT NOT NULL, until INTEGER NOT NULL);"
	"CREATE TABLE anchors (seq INTEGER PRIMARY KEY, hash BLOB NOT NULL,"
	" pruned INTEGER NOT NULL);"
	"CREATE TABLE prune_permit (one INTEGER PRIMARY KEY CHECK (one = 1));"
	"DROP TRIGGER IF EXISTS results_no_delete;"
	"CREATE TRIGGER results_no_delete BEFORE DELETE ON results"
	" WHEN NOT EXISTS (SELECT 1 FROM prune_permit)"
	" BEGIN SELECT RAISE(ABORT, 'results are append-only'); END;"
	"CREATE TRIGGER anchors_no_update BEFORE UPDATE ON anchors"
	" BEGIN SELECT RAISE(ABORT, 'anchors are append-only'); END;"
	"PRAGMA user_version = 7;",
};

struct store_sqlite {
	struct store base;
	sqlite3 *db;
	sqlite3_stmt *q[_Q_MAX];
	bool batch, in_req;
};

static struct store_sqlite *S(struct store *s)
{
	return (struct store_sqlite *)s;
}

static int db_err(struct store_sqlite *s, const char *what)
{
	fprintf(stderr, "vouchd: sqlite: %s: %s\n", what, sqlite3_errmsg(s->db));
	return -EIO;
}

static sqlite3_stmt *stmt(struct store *s, int q)
{
	sqlite3_stmt *st = S(s)->q[q];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static int exec(struct store_sqlite *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "vouchd: sqlite: %s\n", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

static void sq_close(struct store *base)
{
	struct store_sqlite *s = S(base);

	if (!s)
		return;
	for (int i = 0; i < _Q_MAX; i++)
		sqlite3_finalize(s->q[i]);
	sqlite3_close(s->db);
	free(s);
}

static int migrate(struct store_sqlite *s)
{
	sqlite3_stmt *st = NULL;
	int v = -1, r;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return db_err(s, "schema version");
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (v == SCHEMA_VERSION)
		return 0;
	if (v < 0 || v > SCHEMA_VERSION) {
		fprintf(stderr, "vouchd: database schema version %d is not %d, refusing\n", v,
			SCHEMA_VERSION);
		return -EPROTO;
	}
	r = exec(s, "BEGIN IMMEDIATE");
	if (r == 0 && v == 0) {
		r = exec(s, schema);
		v = 1;
	}
	for (; r == 0 && v < SCHEMA_VERSION; v++)
		r = exec(s, migrations[v - 1]);
	if (r == 0)
		return exec(s, "COMMIT");
	exec(s, "ROLLBACK");
	return r;
}

/* @sql with each $N parameter (PostgreSQL's numbering) as SQLite's ?N */
static int sqlite_params(const char *sql, char *buf, size_t size)
{
	size_t n = 0;

	for (; *sql; sql++) {
		if (n + 1 >= size)
			return -E2BIG;
		buf[n++] = sql[0] == '$' && sql[1] >= '0' && sql[1] <= '9' ? '?' : sql[0];
	}
	buf[n] = '\0';
	return 0;
}

static int sq_open(const char *path, unsigned flags, struct store **ret)
{
	struct store_sqlite *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->base.ops = &store_sqlite_ops;
	/* without migrating (vouchd db status, --check-config) nothing is created either */
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
				  (flags & STORE_OPEN_NO_MIGRATE ? 0 : SQLITE_OPEN_CREATE),
			    NULL) != SQLITE_OK) {
		r = db_err(s, path);
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	/*
	 * WAL: readers (sqlite3 CLI, backups) never block the writer.  FULL sync: every COMMIT
	 * fsyncs the WAL, so a committed attestation survives a power cut (on a disk that
	 * honours cache flushes), not only a crash of vouchd.  NORMAL would survive the
	 * process crash but could lose the last commits at power loss; vouchd keeps FULL and
	 * amortises the fsync instead (batch_begin/batch_commit: group commit, vouchd-http.c).
	 */
	r = exec(s, flags & STORE_OPEN_NO_MIGRATE ? "PRAGMA foreign_keys = ON" :
		    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
		    "PRAGMA foreign_keys = ON");
	if (r == 0 && !(flags & STORE_OPEN_NO_MIGRATE))
		r = migrate(s);
	for (int i = 0; r == 0 && !(flags & STORE_OPEN_NO_MIGRATE) && i < _Q_MAX; i++) {
		char sql[2048];

		r = sqlite_params(queries[i], sql, sizeof(sql));
		if (r == 0 && sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->q[i],
						 NULL) != SQLITE_OK)
			r = db_err(s, queries[i]);
	}
	if (r < 0)
		goto fail;
	*ret = &s->base;
	return 0;
fail:
	sq_close(&s->base);
	return r;
}

static int sq_batch_begin(struct store *s)
{
	int r = exec(S(s), "BEGIN IMMEDIATE");

	S(s)->batch = r == 0;
	return r;
}

static int sq_batch_commit(struct store *s)
{
	int r = exec(S(s), "COMMIT");

	if (r < 0 && !sqlite3_get_autocommit(S(s)->db))
		exec(S(s), "ROLLBACK");
	S(s)->batch = S(s)->in_req = false;
	return r;
}

static int sq_begin(struct store *s)
{
	int r = exec(S(s), S(s)->batch ? "SAVEPOINT req" : "BEGIN IMMEDIATE");

	S(s)->in_req = r == 0;
	return r;
}

static int sq_commit(struct store *s)
{
	int r = exec(S(s), S(s)->batch ? "RELEASE req" : "COMMIT");

	if (r == 0)
		S(s)->in_req = false;
	return r;
}

static void sq_rollback(struct store *s)
{
	if (S(s)->batch) {
		if (S(s)->in_req)
			exec(S(s), "ROLLBACK TO req; RELEASE req");
	} else if (!sqlite3_get_autocommit(S(s)->db)) {
		exec(S(s), "ROLLBACK");
	}
	S(s)->in_req = false;
}

static int copy_text(sqlite3_stmt *st, int col, char *buf, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	int n = sqlite3_column_bytes(st, col);

	if (!t || n < 0 || (size_t)n >= size)
		return -EIO;
	memcpy(buf, t, (size_t)n);
	buf[n] = '\0';
	return 0;
}

static int step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_err(S(s), what);
}

/* bind @key to ?1 and step: 0 on the row (read it, then reset), -ENOENT (reset) on none */
static int row_by_key(struct store *s, sqlite3_stmt *st, const char *key, const char *what)
{
	int rc;

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return -ENOENT;
	}
	if (rc != SQLITE_ROW)
		return db_err(S(s), what);
	return 0;
}

/* the one integer of a count(*) or max() statement */
static int step_u64(struct store *s, sqlite3_stmt *st, const char *what, uint64_t *ret)
{
	if (sqlite3_step(st) != SQLITE_ROW)
		return db_err(S(s), what);
	*ret = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

/* statement @q with @key as ?1, run to its end */
static int run_by_key(struct store *s, int q, const char *key, const char *what)
{
	sqlite3_stmt *st = stmt(s, q);

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	return step_done(s, st, what);
}

/* room for element @n of the array *@pv (@size bytes each, @cap of them): doubled, @first
 * at first */
static int grow(void *pv, size_t *cap, size_t n, size_t size, size_t first)
{
	void **v = pv, *nv;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? 2 * *cap : first;
	nv = realloc(*v, c * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = c;
	return 0;
}

static int sq_agent_get(struct store *s, const char *id, struct store_agent *ret)
{
	sqlite3_stmt *st = stmt(s, Q_AGENT_GET);
	struct store_agent a = { 0 };
	int rc, n;

	rc = row_by_key(s, st, id, "agent");
	if (rc < 0)
		return rc;
	n = sqlite3_column_bytes(st, 0);
	if (n <= 0 || snprintf(a.id, sizeof(a.id), "%s", id) >= (int)sizeof(a.id) ||
	    copy_text(st, 1, a.ak_fpr, sizeof(a.ak_fpr)) < 0 ||
	    copy_text(st, 3, a.reference, sizeof(a.reference)) < 0 ||
	    copy_text(st, 4, a.ek_fpr, sizeof(a.ek_fpr)) < 0 ||
	    copy_text(st, 5, a.mode, sizeof(a.mode)) < 0 ||
	    (sqlite3_column_type(st, 6) != SQLITE_NULL &&
	     copy_text(st, 6, a.url, sizeof(a.url)) < 0)) {
		sqlite3_reset(st);
		return -EIO;
	}
	a.ak = malloc((size_t)n);
	if (!a.ak) {
		sqlite3_reset(st);
		return -ENOMEM;
	}
	memcpy(a.ak, sqlite3_column_blob(st, 0), (size_t)n);
	a.ak_len = (size_t)n;
	a.registered = sqlite3_column_int64(st, 2);
	a.ek_certified = sqlite3_column_int(st, 7) != 0;
	sqlite3_reset(st);
	*ret = a;
	return 0;
}

static int sq_agent_put(struct store *s, const struct store_agent *a)
{
	sqlite3_stmt *st = stmt(s, Q_AGENT_PUT);

	sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, a->ak, (int)a->ak_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->ak_fpr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, a->registered);
	sqlite3_bind_text(st, 5, a->reference, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, a->ek_fpr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, a->mode[0] ? a->mode : "push", -1, SQLITE_STATIC);
	if (a->url[0])
		sqlite3_bind_text(st, 8, a->url, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 8);
	sqlite3_bind_int(st, 9, a->ek_certified);
	return step_done(s, st, "agent put");
}

static int sq_pull_list(struct store *s, int (*fn)(void *userdata, const char *id, const char *url),
			void *userdata)
{
	sqlite3_stmt *st = stmt(s, Q_PULL_LIST);
	char id[STORE_ID_MAX + 1], url[STORE_URL_MAX + 1];
	int rc = SQLITE_DONE, r = 0;

	/* the callback must not use the store: collect, then act (the statement is still open) */
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (copy_text(st, 0, id, sizeof(id)) < 0 || copy_text(st, 1, url, sizeof(url)) < 0)
			continue;
		r = fn(userdata, id, url);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_err(S(s), "pull agents");
	sqlite3_reset(st);
	return r;
}

static int sq_agent_count(struct store *s, uint64_t *ret)
{
	return step_u64(s, stmt(s, Q_AGENT_COUNT), "agent count", ret);
}

static int sq_agent_states(struct store *s, uint64_t ret[_STORE_AGENT_STATE_MAX])
{
	sqlite3_stmt *st = stmt(s, Q_AGENT_STATES);
	int rc;

	memset(ret, 0, _STORE_AGENT_STATE_MAX * sizeof(*ret));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		uint64_t n = (uint64_t)sqlite3_column_int64(st, 1);

		if (!v)
			ret[STORE_AGENT_REGISTERED] += n;
		else if (strcmp(v, "trusted") == 0)
			ret[STORE_AGENT_TRUSTED] += n;
		else if (strcmp(v, "untrusted") == 0)
			ret[STORE_AGENT_UNTRUSTED] += n;
		else
			ret[STORE_AGENT_ERROR] += n;
	}
	if (rc != SQLITE_DONE)
		return db_err(S(s), "agent states");
	sqlite3_reset(st);
	return 0;
}

static int sq_state_get(struct store *s, const char *id, struct store_state *ret)
{
	sqlite3_stmt *st = stmt(s, Q_STATE_GET);
	const unsigned char *t;
	int rc;

	rc = row_by_key(s, st, id, "state");
	if (rc < 0)
		return rc;
	t = sqlite3_column_text(st, 0);
	ret->state_json = t ? strdup((const char *)t) : NULL;
	ret->reset_count = (uint32_t)sqlite3_column_int64(st, 1);
	ret->restart_count = (uint32_t)sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	return ret->state_json ? 0 : -ENOMEM;
}

static int sq_state_put(struct store *s, const char *id, const struct store_state *v)
{
	sqlite3_stmt *st = stmt(s, Q_STATE_PUT);

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v->state_json, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, v->reset_count);
	sqlite3_bind_int64(st, 4, v->restart_count);
	return step_done(s, st, "state put");
}

static int sq_nonce_put(struct store *s, const char *id, const struct store_nonce *n)
{
	sqlite3_stmt *st = stmt(s, Q_NONCE_PUT);

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, n->nonce, (int)n->len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, n->deadline);
	return step_done(s, st, "nonce put");
}

static int sq_nonce_take(struct store *s, const char *id, struct store_nonce *ret)
{
	sqlite3_stmt *st = stmt(s, Q_NONCE_GET);
	struct store_nonce n = { 0 };
	int rc, len;

	rc = row_by_key(s, st, id, "nonce");
	if (rc < 0)
		return rc;
	len = sqlite3_column_bytes(st, 0);
	if (len <= 0 || len > STORE_NONCE_MAX) {
		sqlite3_reset(st);
		return -EIO;
	}
	memcpy(n.nonce, sqlite3_column_blob(st, 0), (size_t)len);
	n.len = (size_t)len;
	n.deadline = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	rc = run_by_key(s, Q_NONCE_DEL, id, "nonce delete");
	if (rc == 0)
		*ret = n;
	return rc;
}

static int sq_enrollment_put(struct store *s, const struct store_enrollment *e)
{
	sqlite3_stmt *st = stmt(s, Q_ENROLL_PUT);

	if (!e->ak || !e->ak_len || !e->csr)
		return -EINVAL;
	sqlite3_bind_text(st, 1, e->id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, e->ak, (int)e->ak_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, e->ak_fpr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, e->ek_fpr, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, e->secret_hash, STORE_HASH_SIZE, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, e->csr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, e->deadline);
	sqlite3_bind_int(st, 8, e->ek_certified);
	return step_done(s, st, "enrollment put");
}

static int sq_enrollment_take(struct store *s, const char *id, struct store_enrollment *ret)
{
	sqlite3_stmt *st = stmt(s, Q_ENROLL_GET);
	struct store_enrollment e = { 0 };
	const unsigned char *csr;
	int rc, n;

	rc = row_by_key(s, st, id, "enrollment");
	if (rc < 0)
		return rc;
	n = sqlite3_column_bytes(st, 0);
	csr = sqlite3_column_text(st, 4);
	if (n <= 0 || !csr || sqlite3_column_bytes(st, 3) != STORE_HASH_SIZE ||
	    snprintf(e.id, sizeof(e.id), "%s", id) >= (int)sizeof(e.id) ||
	    copy_text(st, 1, e.ak_fpr, sizeof(e.ak_fpr)) < 0 ||
	    copy_text(st, 2, e.ek_fpr, sizeof(e.ek_fpr)) < 0) {
		sqlite3_reset(st);
		return -EIO;
	}
	e.ak = malloc((size_t)n);
	e.csr = strdup((const char *)csr);
	if (!e.ak || !e.csr) {
		sqlite3_reset(st);
		store_enrollment_clear(&e);
		return -ENOMEM;
	}
	memcpy(e.ak, sqlite3_column_blob(st, 0), (size_t)n);
	e.ak_len = (size_t)n;
	memcpy(e.secret_hash, sqlite3_column_blob(st, 3), STORE_HASH_SIZE);
	e.deadline = sqlite3_column_int64(st, 5);
	e.ek_certified = sqlite3_column_int(st, 6) != 0;
	sqlite3_reset(st);
	rc = run_by_key(s, Q_ENROLL_DEL, id, "enrollment delete");
	if (rc < 0) {
		store_enrollment_clear(&e);
		return rc;
	}
	*ret = e;
	return 0;
}

static int sq_enrollment_purge(struct store *s, int64_t now, uint64_t *ret_left)
{
	sqlite3_stmt *st = stmt(s, Q_ENROLL_PURGE);
	int rc;

	sqlite3_bind_int64(st, 1, now);
	rc = step_done(s, st, "enrollment purge");
	if (rc < 0)
		return rc;
	return step_u64(s, stmt(s, Q_ENROLL_COUNT), "enrollment count", ret_left);
}

static int sq_result_append(struct store *s, const struct store_result *r, uint64_t *ret_seq)
{
	sqlite3_stmt *st = stmt(s, Q_LAST_ROW);
	uint8_t prev[STORE_HASH_SIZE] = { 0 }, h[STORE_HASH_SIZE];
	uint64_t seq = 1;
	int rc;

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 1) != STORE_HASH_SIZE) {
			sqlite3_reset(st);
			return -EIO;
		}
		seq = (uint64_t)sqlite3_column_int64(st, 0) + 1;
		memcpy(prev, sqlite3_column_blob(st, 1), STORE_HASH_SIZE);
	} else if (rc != SQLITE_DONE) {
		return db_err(S(s), "last result");
	}
	sqlite3_reset(st);
	rc = store_row_hash(prev, seq, r->agent, r->time, r->verdict, r->body, h);
	if (rc < 0)
		return rc;
	st = stmt(s, Q_RESULT_ADD);
	sqlite3_bind_int64(st, 1, (int64_t)seq);
	sqlite3_bind_text(st, 2, r->agent, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, r->time);
	sqlite3_bind_text(st, 4, r->verdict, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->body, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, h, STORE_HASH_SIZE, SQLITE_STATIC);
	rc = step_done(s, st, "result append");
	if (rc == 0 && ret_seq)
		*ret_seq = seq;
	return rc;
}

static int sq_chain_verify(struct store *s, uint64_t *ret_rows, uint64_t *ret_bad)
{
	sqlite3_stmt *st = stmt(s, Q_ROWS);
	uint8_t prev[STORE_HASH_SIZE] = { 0 }, h[STORE_HASH_SIZE];
	uint64_t rows = 0, expect = 1;
	int rc, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);

		rows++;
		/* a pruned stretch ends in an anchor: the hash of the row before this one */
		if (seq > expect) {
			sqlite3_stmt *a = stmt(s, Q_ANCHOR_GET);

			sqlite3_bind_int64(a, 1, (int64_t)seq - 1);
			if (sqlite3_step(a) == SQLITE_ROW &&
			    sqlite3_column_bytes(a, 0) == STORE_HASH_SIZE) {
				memcpy(prev, sqlite3_column_blob(a, 0), STORE_HASH_SIZE);
				expect = seq;
			}
			sqlite3_reset(a);
		}
		/* a deleted row breaks the sequence; an edited one its hash */
		r = store_row_hash(prev, seq, (const char *)sqlite3_column_text(st, 1),
				   sqlite3_column_int64(st, 2),
				   (const char *)sqlite3_column_text(st, 3),
				   (const char *)sqlite3_column_text(st, 4), h);
		if (r < 0)
			break;
		if (seq != expect || sqlite3_column_bytes(st, 5) != STORE_HASH_SIZE ||
		    memcmp(h, sqlite3_column_blob(st, 5), STORE_HASH_SIZE) != 0) {
			*ret_bad = seq;
			r = -EKEYREJECTED;
			break;
		}
		memcpy(prev, h, sizeof(prev));
		expect++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_err(S(s), "results");
	sqlite3_reset(st);
	*ret_rows = rows;
	return r;
}

static int sq_agent_list(struct store *s, const char *after, size_t limit,
			 struct store_agent_info **ret, size_t *ret_n)
{
	sqlite3_stmt *st = stmt(s, Q_AGENT_LIST);
	struct store_agent_info *v = NULL;
	size_t n = 0, cap = 0;
	int rc, r = 0;

	if (sqlite3_bind_text(st, 1, after, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit) != SQLITE_OK) {
		sqlite3_reset(st);
		return db_err(S(s), "agent list");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_agent_info *i;
		const unsigned char *t;

		r = grow(&v, &cap, n, sizeof(*v), 16);
		if (r < 0)
			break;
		i = &v[n];
		memset(i, 0, sizeof(*i));
		if (copy_text(st, 0, i->id, sizeof(i->id)) < 0 ||
		    copy_text(st, 2, i->reference, sizeof(i->reference)) < 0) {
			r = -EIO;
			break;
		}
		n++;
		i->registered = sqlite3_column_int64(st, 1);
		t = sqlite3_column_text(st, 3);
		if (t && !(i->state_json = strdup((const char *)t))) {
			r = -ENOMEM;
			break;
		}
		if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
			i->last_seq = (uint64_t)sqlite3_column_int64(st, 4);
			i->last_time = sqlite3_column_int64(st, 5);
			if (copy_text(st, 6, i->last_verdict, sizeof(i->last_verdict)) < 0) {
				r = -EIO;
				break;
			}
		}
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_err(S(s), "agent list");
	sqlite3_reset(st);
	if (r < 0) {
		store_agent_infos_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int sq_agent_delete(struct store *s, const char *id)
{
	static const int q[] = { Q_AGENT_DEL_NONCE, Q_AGENT_DEL_STATE, Q_AGENT_DEL_STATUS,
				 Q_AGENT_DEL };
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof(q) / sizeof(q[0]); i++)
		r = run_by_key(s, q[i], id, "agent delete");
	if (r == 0 && sqlite3_changes(S(s)->db) == 0)
		return -ENOENT;
	return r;
}

static int sq_reference_put(struct store *s, const char *name, const char *hash,
			    const char *body, int64_t time)
{
	sqlite3_stmt *st = stmt(s, Q_REF_DOC_PUT);
	int r;

	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, body, -1, SQLITE_STATIC);
	r = step_done(s, st, "reference put");
	if (r < 0)
		return r;
	st = stmt(s, Q_REF_NAME_PUT);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, time);
	return step_done(s, st, "reference name put");
}

static int sq_reference_get(struct store *s, const char *name, struct store_reference *ret)
{
	sqlite3_stmt *st = stmt(s, Q_REF_GET);
	struct store_reference ref = { 0 };
	const unsigned char *t;
	int rc;

	rc = row_by_key(s, st, name, "reference");
	if (rc < 0)
		return rc;
	t = sqlite3_column_text(st, 2);
	if (snprintf(ref.name, sizeof(ref.name), "%s", name) >= (int)sizeof(ref.name) ||
	    copy_text(st, 0, ref.hash, sizeof(ref.hash)) < 0 || !t) {
		sqlite3_reset(st);
		return -EIO;
	}
	ref.updated = sqlite3_column_int64(st, 1);
	ref.body = strdup((const char *)t);
	sqlite3_reset(st);
	if (!ref.body)
		return -ENOMEM;
	*ret = ref;
	return 0;
}

static int sq_reference_list(struct store *s, struct store_reference **ret, size_t *ret_n)
{
	sqlite3_stmt *st = stmt(s, Q_REF_LIST);
	struct store_reference *v = NULL;
	size_t n = 0, cap = 0;
	int rc, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = grow(&v, &cap, n, sizeof(*v), 8);
		if (r < 0)
			break;
		memset(&v[n], 0, sizeof(v[n]));
		if (copy_text(st, 0, v[n].name, sizeof(v[n].name)) < 0 ||
		    copy_text(st, 1, v[n].hash, sizeof(v[n].hash)) < 0) {
			r = -EIO;
			break;
		}
		v[n++].updated = sqlite3_column_int64(st, 2);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_err(S(s), "reference list");
	sqlite3_reset(st);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int sq_agent_set_reference(struct store *s, const char *id, const char *name)
{
	sqlite3_stmt *st = stmt(s, Q_AGENT_SET_REF);
	int r;

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	r = step_done(s, st, "agent reference");
	if (r == 0 && sqlite3_changes(S(s)->db) == 0)
		return -ENOENT;
	return r;
}

static int sq_results_for_agent(struct store *s, const char *id, size_t limit,
				struct store_result_row **ret, size_t *ret_n)
{
	sqlite3_stmt *st = stmt(s, Q_AGENT_RESULTS);
	struct store_result_row *v;
	size_t n = 0;
	int rc = SQLITE_DONE, r = 0;

	if (limit == 0 || limit > 10000)
		return -EINVAL;
	v = calloc(limit, sizeof(*v));
	if (!v)
		return -ENOMEM;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)limit);
	while (n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 3);

		v[n].seq = (uint64_t)sqlite3_column_int64(st, 0);
		v[n].time = sqlite3_column_int64(st, 1);
		if (copy_text(st, 2, v[n].verdict, sizeof(v[n].verdict)) < 0 || !t) {
			r = -EIO;
			break;
		}
		if (!(v[n].body = strdup((const char *)t))) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	if (r == 0 && n < limit && rc != SQLITE_DONE)
		r = db_err(S(s), "agent results");
	sqlite3_reset(st);
	if (r < 0) {
		store_result_rows_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int sq_status_get(struct store *s, const char *id, struct store_status *ret)
{
	sqlite3_stmt *st = stmt(s, Q_STATUS_GET);
	struct store_status v = { 0 };
	int rc;

	rc = row_by_key(s, st, id, "status");
	if (rc < 0)
		return rc;
	rc = copy_text(st, 0, v.state, sizeof(v.state));
	v.deadline = sqlite3_column_int64(st, 1);
	v.since = sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	if (rc == 0)
		*ret = v;
	return rc;
}

static int sq_status_put(struct store *s, const char *id, const struct store_status *v)
{
	sqlite3_stmt *st = stmt(s, Q_STATUS_PUT);

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, v->deadline);
	sqlite3_bind_int64(st, 4, v->since);
	return step_done(s, st, "status put");
}

static int sq_status_due(struct store *s, int64_t now, char (*ret)[STORE_ID_MAX + 1], size_t max,
			 size_t *ret_n)
{
	sqlite3_stmt *st = stmt(s, Q_STATUS_DUE);
	size_t n = 0;
	int rc = SQLITE_DONE, r = 0;

	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = copy_text(st, 0, ret[n], sizeof(ret[n]));
		if (r < 0)
			break;
		n++;
	}
	if (r == 0 && n < max && rc != SQLITE_DONE)
		r = db_err(S(s), "due agents");
	sqlite3_reset(st);
	*ret_n = n;
	return r;
}

static int sq_status_count(struct store *s, const char *state, uint64_t *ret)
{
	sqlite3_stmt *st = stmt(s, Q_STATUS_COUNT);

	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	return step_u64(s, st, "status count", ret);
}

static int sq_outbox_last(struct store *s, uint64_t *ret)
{
	return step_u64(s, stmt(s, Q_OUTBOX_LAST), "last event", ret);
}

static int sq_outbox_append(struct store *s, struct store_event *e)
{
	sqlite3_stmt *st;
	uint64_t seq;
	int r = sq_outbox_last(s, &seq);

	if (r < 0)
		return r;
	st = stmt(s, Q_OUTBOX_ADD);
	sqlite3_bind_int64(st, 1, (int64_t)seq + 1);
	sqlite3_bind_int64(st, 2, e->time);
	sqlite3_bind_text(st, 3, e->type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, e->agent, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, e->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, e->to, -1, SQLITE_STATIC);
	if (e->result)
		sqlite3_bind_int64(st, 7, (int64_t)e->result);
	else
		sqlite3_bind_null(st, 7);
	sqlite3_bind_text(st, 8, e->reason, -1, SQLITE_STATIC);
	r = step_done(s, st, "event append");
	if (r == 0)
		e->seq = seq + 1;
	return r;
}

static int sq_outbox_pending(struct store *s, uint64_t after, size_t limit,
			     struct store_event *ret, size_t *ret_n)
{
	sqlite3_stmt *st = stmt(s, Q_OUTBOX_PENDING);
	size_t n = 0;
	int rc = SQLITE_DONE, r = 0;

	sqlite3_bind_int64(st, 1, (int64_t)after);
	sqlite3_bind_int64(st, 2, (int64_t)limit);
	while (n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_event *e = &ret[n];

		memset(e, 0, sizeof(*e));
		e->seq = (uint64_t)sqlite3_column_int64(st, 0);
		e->time = sqlite3_column_int64(st, 1);
		e->result = (uint64_t)sqlite3_column_int64(st, 6); /* NULL reads as 0 */
		if (copy_text(st, 2, e->type, sizeof(e->type)) < 0 ||
		    copy_text(st, 3, e->agent, sizeof(e->agent)) < 0 ||
		    copy_text(st, 4, e->from, sizeof(e->from)) < 0 ||
		    copy_text(st, 5, e->to, sizeof(e->to)) < 0 ||
		    copy_text(st, 7, e->reason, sizeof(e->reason)) < 0) {
			r = -EIO;
			break;
		}
		n++;
	}
	if (r == 0 && n < limit && rc != SQLITE_DONE)
		r = db_err(S(s), "events");
	sqlite3_reset(st);
	*ret_n = n;
	return r;
}

static int sq_webhook_get(struct store *s, const char *url, struct store_webhook *ret)
{
	sqlite3_stmt *st = stmt(s, Q_WEBHOOK_GET);
	int rc;

	sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*ret = (struct store_webhook){ 0 };
	if (rc == SQLITE_ROW) {
		ret->delivered = (uint64_t)sqlite3_column_int64(st, 0);
		ret->attempts = (uint32_t)sqlite3_column_int64(st, 1);
		ret->next_attempt = sqlite3_column_int64(st, 2);
	} else if (rc != SQLITE_DONE) {
		return db_err(S(s), "webhook");
	}
	sqlite3_reset(st);
	return 0;
}

static int sq_outbox_mark_delivered(struct store *s, uint64_t seq, const char *url)
{
	sqlite3_stmt *st = stmt(s, Q_WEBHOOK_DELIVERED);

	sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	return step_done(s, st, "webhook delivered");
}

static int sq_outbox_mark_failed(struct store *s, const char *url, uint32_t attempts,
				 int64_t next_attempt)
{
	sqlite3_stmt *st = stmt(s, Q_WEBHOOK_FAILED);

	sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, attempts);
	sqlite3_bind_int64(st, 3, next_attempt);
	return step_done(s, st, "webhook failed");
}

/* --- several nodes over one file ---------------------------------------------------- */

struct lease_id {
	char id[STORE_ID_MAX + 1];
	char url[STORE_URL_MAX + 1];
};

static int sq_pull_claim(struct store *s, const char *node, int64_t now, int64_t ttl, size_t max,
			 int (*fn)(void *userdata, const char *id, const char *url), void *userdata)
{
	struct lease_id *v = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st;
	int rc, r;

	if (!node || !*node || ttl <= 0 || max > INT64_MAX)
		return -EINVAL;
	r = sq_begin(s);
	if (r < 0)
		return r;
	st = stmt(s, Q_LEASE_CLAIM);
	sqlite3_bind_text(st, 1, node, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, ttl);
	sqlite3_bind_int64(st, 4, (int64_t)max);
	r = step_done(s, st, "pull claim");
	/* the callback may use the store: collect the held agents, then call it */
	st = stmt(s, Q_LEASE_HELD);
	sqlite3_bind_text(st, 1, node, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = grow(&v, &cap, n, sizeof(*v), 16);
		if (r < 0)
			break;
		if (copy_text(st, 0, v[n].id, sizeof(v[n].id)) < 0 ||
		    copy_text(st, 1, v[n].url, sizeof(v[n].url)) < 0)
			continue;
		n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_err(S(s), "pull leases");
	sqlite3_reset(st);
	if (r == 0)
		r = sq_commit(s);
	if (r < 0)
		sq_rollback(s);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = fn(userdata, v[i].id, v[i].url);
	free(v);
	return r;
}

static int sq_lease_release(struct store *s, const char *node)
{
	int r = sq_begin(s);

	if (r < 0)
		return r;
	r = run_by_key(s, Q_LEASE_RELEASE, node, "lease release");
	if (r == 0)
		r = run_by_key(s, Q_DUTY_RELEASE, node, "duty release");
	if (r == 0)
		r = sq_commit(s);
	if (r < 0)
		sq_rollback(s);
	return r;
}

static int sq_duty_claim(struct store *s, const char *duty, const char *node, int64_t now,
			 int64_t ttl)
{
	sqlite3_stmt *st = stmt(s, Q_DUTY_CLAIM);
	int r;

	if (!duty || !*duty || !node || !*node || ttl <= 0)
		return -EINVAL;
	sqlite3_bind_text(st, 1, duty, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, node, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, ttl);
	/* one statement: atomic under the database's write lock (busy_timeout waits for it) */
	r = step_done(s, st, "duty claim");
	if (r == 0 && sqlite3_changes(S(s)->db) == 0)
		return -EBUSY;
	return r;
}

/* --- operations ----------------------------------------------------------------------- */

static int user_version(struct store_sqlite *s, int *ret)
{
	sqlite3_stmt *st = NULL;
	int r = -EIO;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return db_err(s, "schema version");
	if (sqlite3_step(st) == SQLITE_ROW) {
		*ret = sqlite3_column_int(st, 0);
		r = 0;
	} else {
		r = db_err(s, "schema version");
	}
	sqlite3_finalize(st);
	return r;
}

static int sq_schema_version(struct store *s, int *ret_version, int *ret_latest)
{
	int v, r = user_version(S(s), &v);

	if (r < 0)
		return r;
	*ret_version = v;
	*ret_latest = SCHEMA_VERSION;
	return 0;
}

/*
 * Retention.  The chain is verified first (pruning must not launder an edited row); then,
 * for every pruned row whose successor stays, its hash becomes an anchor, and the rows go.
 * All in one transaction: a crash leaves the rows or the rows' anchors, never neither.
 */
static int sq_result_prune(struct store *s, int64_t before, uint64_t *ret_pruned)
{
	static const char anchor[] =
		"INSERT OR IGNORE INTO anchors (seq, hash, pruned) "
		"SELECT r.seq, r.hash, ?2 FROM results r "
		"WHERE r.time < ?1 AND r.seq NOT IN (SELECT max(seq) FROM results GROUP BY agent) "
		"AND EXISTS (SELECT 1 FROM results n WHERE n.seq = r.seq + 1 AND NOT "
		"(n.time < ?1 AND n.seq NOT IN (SELECT max(seq) FROM results GROUP BY agent)))";
	static const char del[] =
		"DELETE FROM results WHERE time < ?1 "
		"AND seq NOT IN (SELECT max(seq) FROM results GROUP BY agent)";
	struct store_sqlite *q = S(s);
	sqlite3_stmt *st = NULL;
	uint64_t rows = 0, bad = 0, pruned = 0;
	int r = sq_begin(s);

	if (r < 0)
		return r;
	r = sq_chain_verify(s, &rows, &bad);
	if (r == -EKEYREJECTED)
		fprintf(stderr, "vouchd: results: hash chain broken at row %llu, not pruning\n",
			(unsigned long long)bad);
	if (r == 0 && sqlite3_prepare_v2(q->db, anchor, -1, &st, NULL) != SQLITE_OK)
		r = db_err(q, "prune anchors");
	if (r == 0) {
		sqlite3_bind_int64(st, 1, before);
		sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
		if (sqlite3_step(st) != SQLITE_DONE)
			r = db_err(q, "prune anchors");
	}
	sqlite3_finalize(st);
	st = NULL;
	if (r == 0)
		r = exec(q, "INSERT INTO prune_permit VALUES (1)");
	if (r == 0 && sqlite3_prepare_v2(q->db, del, -1, &st, NULL) != SQLITE_OK)
		r = db_err(q, "prune");
	if (r == 0) {
		sqlite3_bind_int64(st, 1, before);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = db_err(q, "prune");
		else
			pruned = (uint64_t)sqlite3_changes(q->db);
	}
	sqlite3_finalize(st);
	if (r == 0)
		r = exec(q, "DELETE FROM prune_permit");
	if (r == 0)
		r = sq_commit(s);
	if (r < 0) {
		sq_rollback(s);
		return r;
	}
	if (ret_pruned)
		*ret_pruned = pruned;
	return 0;
}

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

/*
 * An online copy: sqlite3's backup API reads one consistent snapshot (WAL: the writers go
 * on meanwhile) into a temporary file next to @path, which is fsynced and renamed over it.
 */
static int sq_backup(struct store *s, const char *path)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *slash;
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	int fd, rc, r = 0;

	if (!path || !*path || snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return -EINVAL;
	slash = strrchr(path, '/');
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	else
		snprintf(dir, sizeof(dir), ".");
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(fd);
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "vouchd: sqlite: '%s': %s\n", tmp, sqlite3_errmsg(dst));
		r = -EIO;
		goto out;
	}
	b = sqlite3_backup_init(dst, "main", S(s)->db, "main");
	if (!b) {
		fprintf(stderr, "vouchd: sqlite: backup to '%s': %s\n", tmp, sqlite3_errmsg(dst));
		r = -EIO;
		goto out;
	}
	while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED)
		sqlite3_sleep(50);
	if (sqlite3_backup_finish(b) != SQLITE_OK || rc != SQLITE_DONE) {
		fprintf(stderr, "vouchd: sqlite: backup to '%s': %s\n", tmp, sqlite3_errmsg(dst));
		r = -EIO;
		goto out;
	}
	/* the copy is a plain file of its own: no WAL beside it once renamed */
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "vouchd: sqlite: '%s': %s\n", tmp, sqlite3_errmsg(dst));
		r = -EIO;
		goto out;
	}
	if (sqlite3_close(dst) != SQLITE_OK) {
		r = -EIO;
		goto out;
	}
	dst = NULL;
	r = fsync_path(tmp, O_RDONLY);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r == 0)
		return fsync_path(dir, O_RDONLY | O_DIRECTORY);
out:
	sqlite3_close(dst);
	unlink(tmp);
	return r;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.batch_begin = sq_batch_begin,
	.batch_commit = sq_batch_commit,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.agent_get = sq_agent_get,
	.agent_put = sq_agent_put,
	.agent_count = sq_agent_count,
	.pull_list = sq_pull_list,
	.agent_states = sq_agent_states,
	.state_get = sq_state_get,
	.state_put = sq_state_put,
	.nonce_put = sq_nonce_put,
	.nonce_take = sq_nonce_take,
	.enrollment_put = sq_enrollment_put,
	.enrollment_take = sq_enrollment_take,
	.enrollment_purge = sq_enrollment_purge,
	.result_append = sq_result_append,
	.chain_verify = sq_chain_verify,
	.agent_list = sq_agent_list,
	.agent_delete = sq_agent_delete,
	.reference_put = sq_reference_put,
	.reference_get = sq_reference_get,
	.reference_list = sq_reference_list,
	.agent_set_reference = sq_agent_set_reference,
	.results_for_agent = sq_results_for_agent,
	.status_get = sq_status_get,
	.status_put = sq_status_put,
	.status_due = sq_status_due,
	.status_count = sq_status_count,
	.outbox_append = sq_outbox_append,
	.outbox_pending = sq_outbox_pending,
	.outbox_last = sq_outbox_last,
	.webhook_get = sq_webhook_get,
	.outbox_mark_delivered = sq_outbox_mark_delivered,
	.outbox_mark_failed = sq_outbox_mark_failed,
	.pull_claim = sq_pull_claim,
	.lease_release = sq_lease_release,
	.duty_claim = sq_duty_claim,
	.schema_version = sq_schema_version,
	.result_prune = sq_result_prune,
	.backup = sq_backup,
};
