// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd storage in SQLite: WAL journal, one connection (the daemon's single event loop is
 * the one writer), every statement prepared once at open.  Inside a batch (group commit)
 * begin/commit/rollback are the savepoint 'req' of the batch's one transaction.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"

#define SCHEMA_VERSION 1

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
	if (v != 0) {
		fprintf(stderr, "vouchd: database schema version %d is not %d, refusing\n", v,
			SCHEMA_VERSION);
		return -EPROTO;
	}
	r = exec(s, "BEGIN IMMEDIATE");
	if (r == 0)
		r = exec(s, schema);
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
	/*
	 * WAL: readers (sqlite3 CLI, backups) never block the writer.  FULL sync: every COMMIT
	 * fsyncs the WAL, so a committed attestation survives a power cut (on a disk that
	 * honours cache flushes), not only a crash of vouchd.  NORMAL would survive the
	 * process crash but could lose the last commits at power loss; vouchd keeps FULL and
	 * amortises the fsync instead (batch_begin/batch_commit: group commit, vouchd-http.c).
	 */
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
	.state_get = sq_state_get,
	.state_put = sq_state_put,
	.nonce_put = sq_nonce_put,
	.nonce_take = sq_nonce_take,
	.result_append = sq_result_append,
	.chain_verify = sq_chain_verify,
};
