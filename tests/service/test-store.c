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

	/* states, the outbox and the webhooks' cursors */
	{
		struct store_status ss = { .state = "trusted", .deadline = 100, .since = 5 }, gss;
		struct store_event e = { .time = 7, .type = "trusted", .agent = "a1",
					 .from = "enrolled", .to = "trusted", .result = 3,
					 .reason = "first trusted attestation" },
				   got[4];
		struct store_webhook w;
		char due[4][STORE_ID_MAX + 1];
		size_t nd = 9, ne = 9;
		uint64_t last = 9;

		ok_err(ops->status_get(s, "a1", &gss), -ENOENT, "no status yet: -ENOENT");
		ok_ret(ops->outbox_last(s, &last), "outbox_last on an empty outbox");
		ok(last == 0, "is 0");
		ok_ret(ops->begin(s), "begin");
		ok_ret(ops->status_put(s, "a1", &ss), "status put");
		ok_ret(ops->outbox_append(s, &e), "event appended");
		ops->rollback(s);
		ok_err(ops->status_get(s, "a1", &gss), -ENOENT, "a rolled-back status is gone");
		ok_ret(-(ops->outbox_pending(s, 0, 4, got, &ne) || ne != 0),
		       "and so is its event");
		ok_ret(-(ops->begin(s) || ops->status_put(s, "a1", &ss) ||
			 ops->outbox_append(s, &e) || ops->commit(s)),
		       "status and event in one transaction");
		ok(e.seq == 1, "the first event is id 1");
		ok_ret(ops->status_get(s, "a1", &gss), "status get");
		ok(strcmp(gss.state, "trusted") == 0 && gss.deadline == 100 && gss.since == 5,
		   "the status round-trips");
		e.result = 0;
		snprintf(e.type, sizeof(e.type), "overdue");
		ok_ret(-(ops->begin(s) || ops->outbox_append(s, &e) || ops->commit(s)),
		       "a second event");
		ok(e.seq == 2, "id 2");
		ok_ret(ops->outbox_pending(s, 0, 4, got, &ne), "pending after 0");
		ok(ne == 2 && got[0].seq == 1 && got[1].seq == 2 && got[0].result == 3 &&
			   got[1].result == 0 && strcmp(got[0].reason, e.reason) == 0 &&
			   strcmp(got[1].type, "overdue") == 0 &&
			   strcmp(got[0].from, "enrolled") == 0,
		   "both events, in order, round-trip (result NULL reads 0)");
		ok_ret(-(ops->outbox_pending(s, 1, 1, got, &ne) || ne != 1 || got[0].seq != 2),
		       "pending after 1, limit 1: event 2");
		ok_ret(-(ops->outbox_pending(s, 2, 4, got, &ne) || ne != 0), "nothing after 2");

		ok_ret(ops->status_due(s, 100, due, 4, &nd), "due at 100");
		ok(nd == 0, "the deadline is not passed at 100");
		ok_ret(ops->status_due(s, 101, due, 4, &nd), "due at 101");
		ok(nd == 1 && strcmp(due[0], "a1") == 0, "a1 is past its deadline at 101");
		snprintf(ss.state, sizeof(ss.state), "overdue");
		ok_ret(-(ops->begin(s) || ops->status_put(s, "a1", &ss) || ops->commit(s)),
		       "a1 overdue");
		ok_ret(-(ops->status_due(s, 101, due, 4, &nd) || nd != 0),
		       "an overdue agent is not due again");
		ok_ret(-(ops->status_count(s, "overdue", &count) || count != 1), "one overdue");

		ok_ret(ops->webhook_get(s, "https://h/x", &w), "an unknown webhook");
		ok(w.delivered == 0 && w.attempts == 0 && w.next_attempt == 0, "starts at 0");
		ok_ret(-(ops->begin(s) || ops->outbox_mark_failed(s, "https://h/x", 2, 55) ||
			 ops->commit(s)),
		       "a failed attempt");
		ok_ret(ops->webhook_get(s, "https://h/x", &w), "webhook get");
		ok(w.delivered == 0 && w.attempts == 2 && w.next_attempt == 55, "backoff persisted");
		ok_ret(-(ops->begin(s) || ops->outbox_mark_delivered(s, 2, "https://h/x") ||
			 ops->outbox_mark_delivered(s, 1, "https://h/x") || ops->commit(s)),
		       "delivered 2, then a late 1");
		ok_ret(ops->webhook_get(s, "https://h/x", &w), "webhook get");
		ok(w.delivered == 2 && w.attempts == 0 && w.next_attempt == 0,
		   "the cursor never moves back; attempts reset");
	}
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
	ok_ret(-(ops->outbox_last(s, &seq) || seq != 2), "the events survived the reopen");
	ops->close(s);

	/* a version 1 database is migrated in place */
	raw(path, "DROP TABLE agent_status; DROP TABLE outbox; DROP TABLE webhooks; "
		  "PRAGMA user_version = 1");
	ok_ret(ops->open(path, &s), "a version 1 database opens");
	ok_ret(-(ops->outbox_last(s, &seq) || seq != 0), "with an empty outbox");
	ok_ret(ops->agent_get(s, "a1", &g), "and its agents");
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
