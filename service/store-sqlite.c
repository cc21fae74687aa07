// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd storage in SQLite: WAL journal, one connection (the daemon's single event loop is
 * the one writer), every statement prepared once at open.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"

#define SCHEMA_VERSION 2

enum {
	Q_AGENT_GET,
	Q_AGENT_PUT,
	Q_AGENT_COUNT,
	Q_STATE_GET,
	Q_STATE_PUT,
	Q_NONCE_PUT,
	Q_NONCE_GET,
	Q_NONCE_DEL,
	Q_LAST_ROW,
	Q_RESULT_ADD,
	Q_ROWS,
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
	_Q_MAX,
};

static const char *const queries[_Q_MAX] = {
	[Q_AGENT_GET] = "SELECT ak, ak_fpr, registered, reference FROM agents WHERE id = ?1",
	[Q_AGENT_PUT] = "INSERT INTO agents (id, ak, ak_fpr, registered, reference) "
			"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(id) DO UPDATE SET "
			"ak = ?2, ak_fpr = ?3, registered = ?4, reference = ?5",
	[Q_AGENT_COUNT] = "SELECT count(*) FROM agents",
	[Q_STATE_GET] = "SELECT state, reset_count, restart_count FROM states WHERE agent = ?1",
	[Q_STATE_PUT] = "INSERT INTO states (agent, state, reset_count, restart_count) "
			"VALUES (?1, ?2, ?3, ?4) ON CONFLICT(agent) DO UPDATE SET "
			"state = ?2, reset_count = ?3, restart_count = ?4",
	[Q_NONCE_PUT] = "INSERT INTO nonces (agent, nonce, deadline) VALUES (?1, ?2, ?3) "
			"ON CONFLICT(agent) DO UPDATE SET nonce = ?2, deadline = ?3",
	[Q_NONCE_GET] = "SELECT nonce, deadline FROM nonces WHERE agent = ?1",
	[Q_NONCE_DEL] = "DELETE FROM nonces WHERE agent = ?1",
	[Q_LAST_ROW] = "SELECT seq, hash FROM results ORDER BY seq DESC LIMIT 1",
	[Q_RESULT_ADD] = "INSERT INTO results (seq, agent, time, verdict, body, hash) "
			 "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_ROWS] = "SELECT seq, agent, time, verdict, body, hash FROM results ORDER BY seq",
	[Q_STATUS_GET] = "SELECT state, deadline, since FROM agent_status WHERE agent = ?1",
	[Q_STATUS_PUT] = "INSERT INTO agent_status (agent, state, deadline, since) "
			 "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(agent) DO UPDATE SET "
			 "state = ?2, deadline = ?3, since = ?4",
	[Q_STATUS_DUE] = "SELECT agent FROM agent_status WHERE state != 'overdue' AND deadline > 0 "
			 "AND deadline < ?1 ORDER BY deadline LIMIT ?2",
	[Q_STATUS_COUNT] = "SELECT count(*) FROM agent_status WHERE state = ?1",
	[Q_OUTBOX_LAST] = "SELECT coalesce(max(seq), 0) FROM outbox",
	[Q_OUTBOX_ADD] = "INSERT INTO outbox (seq, time, type, agent, from_state, to_state, result, "
			 "reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[Q_OUTBOX_PENDING] = "SELECT seq, time, type, agent, from_state, to_state, result, reason "
			     "FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
	[Q_WEBHOOK_GET] = "SELECT delivered, attempts, next_attempt FROM webhooks WHERE url = ?1",
	[Q_WEBHOOK_DELIVERED] = "INSERT INTO webhooks (url, delivered, attempts, next_attempt) "
				"VALUES (?1, ?2, 0, 0) ON CONFLICT(url) DO UPDATE SET "
				"delivered = max(delivered, ?2), attempts = 0, next_attempt = 0",
	[Q_WEBHOOK_FAILED] = "INSERT INTO webhooks (url, delivered, attempts, next_attempt) "
			     "VALUES (?1, 0, ?2, ?3) ON CONFLICT(url) DO UPDATE SET "
			     "attempts = ?2, next_attempt = ?3",
};

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

/*
 * Version 2: the agents' states and the outbox of their transitions, written in the
 * transaction of the change; the webhooks' delivery cursors.  Events are append-only like
 * results.  Agents registered under version 1 have no status row until their next
 * attestation (they count as enrolled, without a deadline).
 */
static const char schema_v2[] =
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
	"PRAGMA user_version = 2;";

struct store_sqlite {
	struct store base;
	sqlite3 *db;
	sqlite3_stmt *q[_Q_MAX];
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
	if (r == 0 && v < 1)
		r = exec(s, schema);
	if (r == 0 && v < 2)
		r = exec(s, schema_v2);
	if (r == 0)
		return exec(s, "COMMIT");
	exec(s, "ROLLBACK");
	return r;
}

static int sq_open(const char *path, struct store **ret)
{
	struct store_sqlite *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->base.ops = &store_sqlite_ops;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				  SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		r = db_err(s, path);
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	/* WAL: readers (sqlite3 CLI, backups) never block the writer; FULL sync: a committed
	 * attestation survives a power cut, not only a crash */
	r = exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
		    "PRAGMA foreign_keys = ON");
	if (r == 0)
		r = migrate(s);
	for (int i = 0; r == 0 && i < _Q_MAX; i++)
		if (sqlite3_prepare_v3(s->db, queries[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i],
				       NULL) != SQLITE_OK)
			r = db_err(s, queries[i]);
	if (r < 0)
		goto fail;
	*ret = &s->base;
	return 0;
fail:
	sq_close(&s->base);
	return r;
}

static int sq_begin(struct store *s)
{
	return exec(S(s), "BEGIN IMMEDIATE");
}

static int sq_commit(struct store *s)
{
	return exec(S(s), "COMMIT");
}

static void sq_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(S(s)->db))
		exec(S(s), "ROLLBACK");
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

static int sq_agent_get(struct store *s, const char *id, struct store_agent *ret)
{
	sqlite3_stmt *st = stmt(s, Q_AGENT_GET);
	struct store_agent a = { 0 };
	int rc, n;

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return -ENOENT;
	}
	if (rc != SQLITE_ROW)
		return db_err(S(s), "agent");
	n = sqlite3_column_bytes(st, 0);
	if (n <= 0 || snprintf(a.id, sizeof(a.id), "%s", id) >= (int)sizeof(a.id) ||
	    copy_text(st, 1, a.ak_fpr, sizeof(a.ak_fpr)) < 0 ||
	    copy_text(st, 3, a.reference, sizeof(a.reference)) < 0) {
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
	return step_done(s, st, "agent put");
}

static int sq_agent_count(struct store *s, uint64_t *ret)
{
	sqlite3_stmt *st = stmt(s, Q_AGENT_COUNT);

	if (sqlite3_step(st) != SQLITE_ROW)
		return db_err(S(s), "agent count");
	*ret = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

static int sq_state_get(struct store *s, const char *id, struct store_state *ret)
{
	sqlite3_stmt *st = stmt(s, Q_STATE_GET);
	const unsigned char *t;
	int rc;

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return -ENOENT;
	}
	if (rc != SQLITE_ROW)
		return db_err(S(s), "state");
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

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return -ENOENT;
	}
	if (rc != SQLITE_ROW)
		return db_err(S(s), "nonce");
	len = sqlite3_column_bytes(st, 0);
	if (len <= 0 || len > STORE_NONCE_MAX) {
		sqlite3_reset(st);
		return -EIO;
	}
	memcpy(n.nonce, sqlite3_column_blob(st, 0), (size_t)len);
	n.len = (size_t)len;
	n.deadline = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	st = stmt(s, Q_NONCE_DEL);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = step_done(s, st, "nonce delete");
	if (rc == 0)
		*ret = n;
	return rc;
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

static int sq_status_get(struct store *s, const char *id, struct store_status *ret)
{
	sqlite3_stmt *st = stmt(s, Q_STATUS_GET);
	struct store_status v = { 0 };
	int rc;

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return -ENOENT;
	}
	if (rc != SQLITE_ROW)
		return db_err(S(s), "status");
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
	if (sqlite3_step(st) != SQLITE_ROW)
		return db_err(S(s), "status count");
	*ret = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

static int sq_outbox_last(struct store *s, uint64_t *ret)
{
	sqlite3_stmt *st = stmt(s, Q_OUTBOX_LAST);

	if (sqlite3_step(st) != SQLITE_ROW)
		return db_err(S(s), "last event");
	*ret = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
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

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.agent_get = sq_agent_get,
	.agent_put = sq_agent_put,
	.agent_count = sq_agent_count,
	.state_get = sq_state_get,
	.state_put = sq_state_put,
	.nonce_put = sq_nonce_put,
	.nonce_take = sq_nonce_take,
	.result_append = sq_result_append,
	.chain_verify = sq_chain_verify,
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
};
