// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The storage interface through its SQLite backend: records round-trip, a nonce is single
 * use, a rolled-back transaction leaves nothing, the results chain verifies and an edited
 * or deleted row is found, a reopened database keeps everything.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "tap.h"

static void raw(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	if (sqlite3_open(path, &db) == SQLITE_OK)
		sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
}

int main(void)
{
	char dir[] = "/tmp/vouch-store.XXXXXX", path[64], cmd[96];
	const struct store_ops *ops = &store_sqlite_ops;
	struct store *s = NULL;
	struct store_agent a = { .ak_len = 3, .registered = 1 }, g = { 0 };
	struct store_state st = { .reset_count = 7, .restart_count = 1 }, gs = { 0 };
	struct store_nonce n = { .len = 4, .deadline = 99 }, gn = { 0 };
	struct store_result row = { .agent = "a1", .time = 5, .verdict = "trusted" };
	uint8_t ak[3] = { 1, 2, 3 };
	uint64_t rows = 0, bad = 0, count = 0, seq = 0;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/db", dir);
	ok_ret(ops->open(path, &s), "open and migrate a new database");
	snprintf(a.id, sizeof(a.id), "a1");
	snprintf(a.ak_fpr, sizeof(a.ak_fpr), "%064d", 0);
	snprintf(a.reference, sizeof(a.reference), "default");
	a.ak = ak;
	ok_err(ops->agent_get(s, "a1", &g), -ENOENT, "unknown agent: -ENOENT");

	ok_ret(ops->begin(s), "begin");
	ok_ret(ops->agent_put(s, &a), "agent put");
	ops->rollback(s);
	ok_err(ops->agent_get(s, "a1", &g), -ENOENT, "a rolled-back registration is gone");

	ok_ret(-(ops->begin(s) || ops->agent_put(s, &a) || ops->commit(s)), "agent put, committed");
	ok_ret(ops->agent_get(s, "a1", &g), "agent get");
	ok(g.ak_len == 3 && memcmp(g.ak, ak, 3) == 0 && g.registered == 1 &&
		   strcmp(g.reference, "default") == 0,
	   "the record round-trips");
	store_agent_clear(&g);
	ok_ret(ops->agent_count(s, &count), "agent count");
	ok(count == 1, "one agent");

	/* group commit: savepoints in one transaction; a rolled-back one leaves the others,
	 * and nothing is stored before batch_commit() */
	ok_ret(ops->batch_begin(s), "batch begin");
	snprintf(a.id, sizeof(a.id), "b1");
	ok_ret(-(ops->begin(s) || ops->agent_put(s, &a) || ops->commit(s)), "b1 in the batch");
	snprintf(a.id, sizeof(a.id), "b2");
	ok_ret(-(ops->begin(s) || ops->agent_put(s, &a)), "b2 in the batch");
	ops->rollback(s);
	ok_ret(ops->agent_get(s, "b1", &g), "b1 visible inside the batch");
	store_agent_clear(&g);
	ok_err(ops->agent_get(s, "b2", &g), -ENOENT, "b2 rolled back alone");
	{
		sqlite3 *db = NULL;
		sqlite3_stmt *q = NULL;
		int rows_b1 = -1;

		/* another connection (a crash now) sees nothing of the open batch */
		if (sqlite3_open(path, &db) == SQLITE_OK &&
		    sqlite3_prepare_v2(db, "SELECT count(*) FROM agents WHERE id = 'b1'", -1, &q,
				       NULL) == SQLITE_OK &&
		    sqlite3_step(q) == SQLITE_ROW)
			rows_b1 = sqlite3_column_int(q, 0);
		sqlite3_finalize(q);
		sqlite3_close(db);
		ok(rows_b1 == 0, "nothing of the batch is stored before batch_commit");
	}
	ok_ret(ops->batch_commit(s), "batch commit");
	ok_ret(ops->agent_get(s, "b1", &g), "b1 stored");
	store_agent_clear(&g);
	ok_err(ops->agent_get(s, "b2", &g), -ENOENT, "b2 not");
	ok_ret(-(ops->begin(s) || ops->commit(s)), "outside a batch: plain transactions again");
	snprintf(a.id, sizeof(a.id), "a1");

	st.state_json = (char *)"{\"entries\":3}";
	ok_ret(-(ops->begin(s) || ops->state_put(s, "a1", &st) || ops->commit(s)), "state put");
	ok_ret(ops->state_get(s, "a1", &gs), "state get");
	ok(gs.state_json && strcmp(gs.state_json, st.state_json) == 0 && gs.reset_count == 7 &&
		   gs.restart_count == 1,
	   "the state and its boot round-trip");
	store_state_clear(&gs);

	memcpy(n.nonce, "\x01\x02\x03\x04", 4);
	ok_ret(-(ops->begin(s) || ops->nonce_put(s, "a1", &n) || ops->commit(s)), "nonce put");
	ok_ret(ops->begin(s), "begin");
	ok_ret(ops->nonce_take(s, "a1", &gn), "nonce taken");
	ok(gn.len == 4 && memcmp(gn.nonce, n.nonce, 4) == 0 && gn.deadline == 99, "nonce round-trips");
	ok_err(ops->nonce_take(s, "a1", &gn), -ENOENT, "a nonce is taken once");
	ops->rollback(s);
	ok_ret(-(ops->begin(s) || ops->nonce_take(s, "a1", &gn) || ops->commit(s)),
	       "a rolled-back take left the nonce");

	for (int i = 0; i < 5; i++) {
		row.body = i % 2 ? "{\"verdict\":\"untrusted\"}" : "{\"verdict\":\"trusted\"}";
		ok_ret(-(ops->begin(s) || ops->result_append(s, &row, &seq) || ops->commit(s)),
		       "result %d appended", i + 1);
	}
	ok(seq == 5, "sequence numbers from 1");
	ok_ret(ops->chain_verify(s, &rows, &bad), "the chain verifies");
	ok(rows == 5, "over 5 rows");
	ops->close(s);
	s = NULL;

	raw(path, "UPDATE results SET verdict = 'x' WHERE seq = 2");
	ok_ret(ops->open(path, &s), "reopen");
	ok_ret(ops->chain_verify(s, &rows, &bad), "UPDATE through SQL was refused by the trigger");
	ops->close(s);
	raw(path, "DROP TRIGGER results_no_update; UPDATE results SET body = '{}' WHERE seq = 3");
	ok_ret(ops->open(path, &s), "reopen");
	ok_err(ops->chain_verify(s, &rows, &bad), -EKEYREJECTED, "an edited row breaks the chain");
	ok(bad == 3, "at row 3");
	ops->close(s);
	raw(path, "UPDATE results SET body = '{\"verdict\":\"trusted\"}' WHERE seq = 3; "
		  "DROP TRIGGER results_no_delete; DELETE FROM results WHERE seq = 4");
	ok_ret(ops->open(path, &s), "reopen");
	ok_err(ops->chain_verify(s, &rows, &bad), -EKEYREJECTED, "a deleted row breaks the chain");
	ok(bad == 5, "found at the row after it");
	ok_ret(ops->agent_get(s, "a1", &g), "the agent survived the reopen");
	store_agent_clear(&g);
	ops->close(s);

	raw(path, "PRAGMA user_version = 99");
	ok_err(ops->open(path, &s), -EPROTO, "an unknown schema version is refused");

	snprintf(cmd, sizeof(cmd), "%s/db", dir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/db-wal", dir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/db-shm", dir);
	unlink(cmd);
	rmdir(dir);
	return tap_done();
}
