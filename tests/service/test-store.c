// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The storage interface through its SQLite backend: records round-trip, a nonce is single
 * use, a rolled-back transaction leaves nothing, the results chain verifies and an edited
 * or deleted row is found, a reopened database keeps everything, a pull agent's mode and
 * URL round-trip, every earlier schema version is migrated; two nodes share pull leases and
 * duties, pruning keeps the chain verifiable (and tampering found), a live backup verifies.
 * With VOUCH_TEST_PG_DSN (test-store-pg.sh) the same contract on PostgreSQL, each case from
 * an empty schema, and several nodes (connections, processes) at once on one database.
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

static int list_one(void *userdata, const char *id, const char *url)
{
	char *out = userdata;

	snprintf(out + strlen(out), 128 - strlen(out), "%s=%s;", id, url);
	return 0;
}

static void raw(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	if (sqlite3_open(path, &db) == SQLITE_OK)
		sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
}

/* an agent's id and AK fingerprint, on the reference "default" */
static void agent_names(struct store_agent *a, const char *id, const char *ak_fpr)
{
	snprintf(a->id, sizeof(a->id), "%s", id);
	snprintf(a->ak_fpr, sizeof(a->ak_fpr), "%s", ak_fpr);
	snprintf(a->reference, sizeof(a->reference), "default");
}

/* the management API: the agent list, its pages and the agents' states (a second agent a2,
 * with a result, a nonce and a state, put first) */
static void fleet_list(struct store *s, struct store_agent *a2)
{
	const struct store_ops *ops = s->ops;
	struct store_agent_info *v = NULL;
	struct store_result row = { .agent = "a2", .time = 50, .verdict = "untrusted",
				    .body = "{\"verdict\":\"untrusted\"}" };
	struct store_nonce n = { .len = 1, .deadline = 1 };
	struct store_state st = { .state_json = (char *)"{}" };
	size_t nv = 0;
	uint64_t seq = 0;

	ok_ret(-(ops->begin(s) || ops->agent_put(s, a2) || ops->result_append(s, &row, &seq) ||
		 ops->nonce_put(s, "a2", &n) || ops->state_put(s, "a2", &st) || ops->commit(s)),
	       "a second agent with a result, a nonce and a state");
	ok_ret(ops->agent_list(s, "", 100, &v, &nv), "agent list");
	/* p1 (the pull agent of main()) never attested; a2's row 6 predates this registration */
	ok(nv == 3 && strcmp(v[0].id, "a1") == 0 && strcmp(v[1].id, "a2") == 0 &&
		   strcmp(v[2].id, "p1") == 0 && v[2].last_seq == 0,
	   "three agents, by id");
	ok(nv == 3 && v[0].last_seq == 5 && v[0].last_time == 5 &&
		   strcmp(v[0].last_verdict, "trusted") == 0 && v[0].state_json &&
		   strcmp(v[0].state_json, "{\"entries\":3}") == 0,
	   "a1: its newest result and its state");
	ok(nv == 3 && v[1].last_seq == 7 && strcmp(v[1].last_verdict, "untrusted") == 0 &&
		   strcmp(v[1].reference, "default") == 0,
	   "a2: its own newest result and reference");
	store_agent_infos_free(v, nv);
	/* pages: after an id, at most a limit */
	ok_ret(ops->agent_list(s, "", 2, &v, &nv), "the first page of 2");
	ok(nv == 2 && strcmp(v[0].id, "a1") == 0 && strcmp(v[1].id, "a2") == 0, "a1, a2");
	store_agent_infos_free(v, nv);
	ok_ret(ops->agent_list(s, "a2", 2, &v, &nv), "the page after a2");
	ok(nv == 1 && strcmp(v[0].id, "p1") == 0 && v[0].last_seq == 0, "p1 alone");
	store_agent_infos_free(v, nv);
	ok_ret(ops->agent_list(s, "a10", 1, &v, &nv), "after an id that is not registered");
	ok(nv == 1 && strcmp(v[0].id, "a2") == 0, "a2: ids compare byte by byte");
	store_agent_infos_free(v, nv);
	ok_ret(ops->agent_list(s, "p1", 5, &v, &nv), "after the last");
	ok(nv == 0, "an empty page");
	store_agent_infos_free(v, nv);
	{
		uint64_t by[_STORE_AGENT_STATE_MAX];

		/* a2's row 6 predates its registration: only row 7 counts, as in the list */
		ok_ret(ops->agent_states(s, by), "agent states");
		ok(by[STORE_AGENT_TRUSTED] == 1 && by[STORE_AGENT_UNTRUSTED] == 1 &&
			   by[STORE_AGENT_REGISTERED] == 1,
		   "a1 trusted, a2 untrusted, p1 registered");
		a2->registered = 60;
		ok_ret(-(ops->begin(s) || ops->agent_put(s, a2) || ops->commit(s)),
		       "a2 registered again, after its results");
		ok_ret(ops->agent_states(s, by), "agent states");
		ok(by[STORE_AGENT_TRUSTED] == 1 && by[STORE_AGENT_UNTRUSTED] == 0 &&
			   by[STORE_AGENT_REGISTERED] == 2,
		   "a2 counts as registered: its results are from before (%llu %llu %llu)",
		   (unsigned long long)by[STORE_AGENT_TRUSTED],
		   (unsigned long long)by[STORE_AGENT_UNTRUSTED],
		   (unsigned long long)by[STORE_AGENT_REGISTERED]);
		a2->registered = 40;
		ok_ret(-(ops->begin(s) || ops->agent_put(s, a2) || ops->commit(s)),
		       "a2 as it was");
	}
}

/* an agent's history, newest first */
static void fleet_history(struct store *s)
{
	const struct store_ops *ops = s->ops;
	struct store_result_row *h = NULL;
	size_t nv = 0;

	ok_ret(ops->results_for_agent(s, "a1", 3, &h, &nv), "a1's history");
	ok(nv == 3 && h[0].seq == 5 && h[1].seq == 4 && h[2].seq == 3 &&
		   strcmp(h[1].verdict, "trusted") == 0 && h[1].body && strstr(h[1].body, "untrusted"),
	   "the newest 3, newest first, with their bodies");
	store_result_rows_free(h, nv);
	ok_ret(ops->results_for_agent(s, "nobody", 3, &h, &nv), "an unknown agent's history");
	ok(nv == 0, "is empty");
	store_result_rows_free(h, nv);
	ok_err(ops->results_for_agent(s, "a1", 0, &h, &nv), -EINVAL, "a zero limit is refused");
}

/* named reference values: documents stored once by hash, names moved between them */
static void fleet_references(struct store *s)
{
	const struct store_ops *ops = s->ops;
	struct store_reference ref = { 0 }, *refs = NULL;
	const char *h1 = "1111111111111111111111111111111111111111111111111111111111111111";
	const char *h2 = "2222222222222222222222222222222222222222222222222222222222222222";
	size_t nv = 0;

	ok_err(ops->reference_get(s, "web", &ref), -ENOENT, "an unknown reference name: -ENOENT");
	ok_ret(-(ops->begin(s) || ops->reference_put(s, "web", h1, "{\"a\":1}", 10) ||
		 ops->reference_put(s, "db", h1, "{\"a\":1}", 11) || ops->commit(s)),
	       "two names for one document");
	ok_ret(ops->reference_get(s, "db", &ref), "reference get");
	ok(strcmp(ref.hash, h1) == 0 && strcmp(ref.body, "{\"a\":1}") == 0 && ref.updated == 11,
	   "the name points at the document");
	store_reference_clear(&ref);
	ok_ret(-(ops->begin(s) || ops->reference_put(s, "web", h2, "{\"a\":2}", 12) ||
		 ops->commit(s)),
	       "a name moved to another document");
	ok_ret(ops->reference_list(s, &refs, &nv), "reference list");
	ok(nv == 2 && strcmp(refs[0].name, "db") == 0 && strcmp(refs[0].hash, h1) == 0 &&
		   strcmp(refs[1].name, "web") == 0 && strcmp(refs[1].hash, h2) == 0 && !refs[0].body,
	   "both names, each with its hash");
	free(refs);
	ok_ret(-(ops->begin(s) || ops->reference_put(s, "x", h1, "{\"other\":1}", 13) ||
		 ops->commit(s)), "another body under a stored hash");
	ok_ret(ops->reference_get(s, "x", &ref), "the name points at the first document");
	ok(strcmp(ref.body, "{\"a\":1}") == 0, "whose content is unchanged");
	store_reference_clear(&ref);
}

/* an agent's reference set, then the agent deleted with its state and nonce */
static void fleet_delete(struct store *s, struct store_agent *a2)
{
	const struct store_ops *ops = s->ops;
	struct store_agent g = { 0 };
	struct store_result_row *h = NULL;
	struct store_nonce n = { 0 };
	struct store_state st = { 0 };
	size_t nv = 0;
	uint64_t count = 0;

	ok_ret(-(ops->begin(s) || ops->agent_set_reference(s, "a2", "web") || ops->commit(s)),
	       "agent set reference");
	ok_ret(ops->agent_get(s, "a2", &g), "agent get");
	ok(strcmp(g.reference, "web") == 0, "a2 uses 'web'");
	store_agent_clear(&g);
	ok_err(ops->agent_set_reference(s, "nobody", "web"), -ENOENT,
	       "setting an unknown agent's reference: -ENOENT");

	ok_ret(-(ops->begin(s) || ops->agent_delete(s, "a2") || ops->commit(s)), "agent delete");
	ok_err(ops->agent_get(s, "a2", &g), -ENOENT, "the agent is gone");
	ok_err(ops->state_get(s, "a2", &st), -ENOENT, "with its state");
	ok_err(ops->nonce_take(s, "a2", &n), -ENOENT, "and its nonce");
	ok_err(ops->agent_delete(s, "a2"), -ENOENT, "deleting it again: -ENOENT");
	ok_ret(ops->agent_count(s, &count), "agent count");
	ok(count == 2, "a1 and p1 left");
	a2->registered = 60;
	ok_ret(-(ops->begin(s) || ops->agent_put(s, a2) || ops->commit(s)), "a2 registers again");
	ok_ret(ops->results_for_agent(s, "a2", 10, &h, &nv), "its history");
	ok(nv == 0, "starts empty: the old registration's results are not its");
	store_result_rows_free(h, nv);
	ok_ret(-(ops->begin(s) || ops->agent_delete(s, "a2") || ops->commit(s)), "delete it again");
}

/* the management API's operations: list, history, named reference values, delete */
static void fleet(struct store *s, const struct store_agent *a1)
{
	struct store_agent a2 = *a1;

	snprintf(a2.id, sizeof(a2.id), "a2");
	a2.registered = 40;
	fleet_list(s, &a2);
	fleet_history(s);
	fleet_references(s);
	fleet_delete(s, &a2);
}

static int count_one(void *userdata, const char *id, const char *url)
{
	(void)id;
	(void)url;
	(*(size_t *)userdata)++;
	return 0;
}

static size_t claim(struct store *s, const char *node, int64_t now, int64_t ttl, size_t max)
{
	size_t n = 0;

	if (s->ops->pull_claim(s, node, now, ttl, max, count_one, &n) < 0)
		return (size_t)-1;
	return n;
}

static int64_t scalar(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int64_t v = -1;

	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

static void unlink_db(const char *path)
{
	char p[128];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

/* Node a puts four pull agents p0..p3 and a push agent (p, left as the push agent); then
 * nodes a and b claim, renew, lose and take over the pull agents' leases. */
static void lease_cases(struct store *a, struct store *b, struct store_agent *p)
{
	const struct store_ops *ops = a->ops;

	snprintf(p->ak_fpr, sizeof(p->ak_fpr), "f");
	snprintf(p->reference, sizeof(p->reference), "default");
	snprintf(p->mode, sizeof(p->mode), "pull");
	snprintf(p->url, sizeof(p->url), "https://127.0.0.1:1");
	ok_ret(ops->begin(a), "begin");
	for (int i = 0; i < 4; i++) {
		snprintf(p->id, sizeof(p->id), "p%d", i);
		ok_ret(ops->agent_put(a, p), "pull agent p%d", i);
	}
	snprintf(p->id, sizeof(p->id), "push1");
	snprintf(p->mode, sizeof(p->mode), "push");
	p->url[0] = '\0';
	ok_ret(ops->agent_put(a, p), "a push agent");
	ok_ret(ops->commit(a), "commit");

	ok(claim(a, "A", 100, 10, 3) == 3, "A claims at most 3 of the 4 pull agents");
	ok(claim(b, "B", 100, 10, 10) == 1, "B gets the one left; A's live leases are skipped");
	ok(claim(a, "A", 105, 10, 3) == 3, "A renews its 3");
	ok(claim(b, "B", 105, 10, 10) == 1, "B renews its 1, takes none of A's");
	ok(claim(a, "", 105, 10, 3) == (size_t)-1, "an empty node name is refused");
	ok(claim(a, "A", 105, 0, 3) == (size_t)-1, "a ttl of 0 is refused");
	/* A dies: its leases run out at 115 */
	ok(claim(b, "B", 114, 10, 10) == 1, "a second before the expiry A's leases still hold");
	ok(claim(b, "B", 115, 10, 10) == 4, "at it B takes all four over");
	ok(claim(a, "A", 117, 10, 10) == 0, "A, back, gets nothing while B's leases live");
	ok(claim(b, "B", 118, 10, 2) == 4, "a lower max never drops a lease B holds");
	ok_ret(ops->lease_release(b, "B"), "B releases its leases (clean shutdown)");
	ok(claim(a, "A", 119, 10, 10) == 4, "A takes them over at once");
}

/* nodes a and b take, renew and lose a duty lease */
static void duty_cases(struct store *a, struct store *b)
{
	const struct store_ops *ops = a->ops;

	ok_ret(ops->duty_claim(a, "outbox", "A", 200, 3), "A takes the outbox duty");
	ok_err(ops->duty_claim(b, "outbox", "B", 201, 3), -EBUSY, "B cannot while A's is live");
	ok_ret(ops->duty_claim(b, "other", "B", 201, 3), "another duty is another lease");
	ok_ret(ops->duty_claim(a, "outbox", "A", 202, 3), "A renews");
	ok_err(ops->duty_claim(b, "outbox", "B", 204, 3), -EBUSY, "until 205 it is A's");
	ok_ret(ops->duty_claim(b, "outbox", "B", 205, 3), "B takes it when A's lease runs out");
	ok_err(ops->duty_claim(a, "outbox", "A", 206, 3), -EBUSY, "A has lost it");
	ok_err(ops->duty_claim(a, "", "A", 206, 3), -EINVAL, "an empty duty is refused");
	ok_ret(ops->lease_release(b, "B"), "B releases");
	ok_ret(ops->duty_claim(a, "outbox", "A", 207, 3), "the duty is free at once");
}

/* two nodes (two connections) over one file: pull leases and duties */
static void nodes(const char *dir)
{
	const struct store_ops *ops = &store_sqlite_ops;
	struct store *a = NULL, *b = NULL;
	struct store_agent p = { .ak_len = 1, .registered = 1 };
	uint8_t ak[1] = { 1 };
	char path[96];

	snprintf(path, sizeof(path), "%s/nodes", dir);
	ok_ret(ops->open(path, 0, &a), "node A opens");
	ok_ret(ops->open(path, 0, &b), "node B opens the same file");
	if (!a || !b)
		return;
	p.ak = ak;
	lease_cases(a, b, &p);
	ok(scalar(path, "SELECT count(*) FROM agents WHERE lease_node IS NOT NULL AND "
			"mode = 'push'") == 0,
	   "a push agent is never leased");

	duty_cases(a, b);
	ops->close(a);
	ops->close(b);
	unlink_db(path);
}

static void append(struct store *s, const char *agent, int64_t time, const char *verdict)
{
	struct store_result r = { .agent = agent, .time = time, .verdict = verdict,
				  .body = "{\"x\":1}" };
	uint64_t seq;

	ok_ret(-(s->ops->begin(s) || s->ops->result_append(s, &r, &seq) || s->ops->commit(s)),
	       "result of %s at %lld", agent, (long long)time);
}

/* retention: the chain verifies after pruning, and a pruned chain still finds tampering */
static void retention(const char *dir)
{
	const struct store_ops *ops = &store_sqlite_ops;
	struct store *s = NULL, *c = NULL;
	uint64_t rows = 0, bad = 0, pruned = 0;
	char path[96], copy[96];
	int v = 0, latest = 0;

	snprintf(path, sizeof(path), "%s/ret", dir);
	snprintf(copy, sizeof(copy), "%s/ret-copy", dir);
	ok_ret(ops->open(path, 0, &s), "open");
	if (!s)
		return;
	ok_ret(ops->schema_version(s, &v, &latest), "schema version");
	ok(v == 7 && latest == 7, "a new database is at version 7, the latest");
	/* x: rows at 1..6 (seq 1,2,4,5,7,8), y: 3, 9 (seq 3, 9), z: one old row (seq 6) */
	append(s, "x", 1, "trusted");
	append(s, "x", 2, "trusted");
	append(s, "y", 3, "trusted");
	append(s, "x", 4, "untrusted");
	append(s, "x", 5, "trusted");
	append(s, "z", 2, "trusted");
	append(s, "x", 6, "trusted");
	append(s, "x", 7, "trusted");
	append(s, "y", 9, "trusted");
	ok_ret(ops->result_prune(s, 5, &pruned), "prune before time 5");
	/* gone: x's seq 1, 2, 4 and y's seq 3; z's only row stays, x's seq 5 (time 5) too */
	ok(pruned == 4, "4 rows pruned (%llu)", (unsigned long long)pruned);
	ok_ret(ops->chain_verify(s, &rows, &bad), "the pruned chain verifies");
	ok(rows == 5, "over the 5 rows left");
	ok(scalar(path, "SELECT count(*) FROM results WHERE agent = 'z'") == 1,
	   "an agent's newest row stays, however old");
	ok(scalar(path, "SELECT min(seq) FROM results WHERE agent = 'x'") == 5 &&
		   scalar(path, "SELECT count(*) FROM results WHERE agent = 'x'") == 3,
	   "x keeps its rows from time 5 on");
	ok_ret(ops->result_prune(s, 5, &pruned), "prune again");
	ok(pruned == 0, "nothing more to prune");
	append(s, "x", 10, "trusted");
	ok_ret(ops->chain_verify(s, &rows, &bad), "rows appended after pruning chain on");
	ok_ret(ops->result_prune(s, 100, &pruned), "prune everything but the newest");
	ok(pruned == 3, "3 more pruned (%llu)", (unsigned long long)pruned);
	ok_ret(ops->chain_verify(s, &rows, &bad), "verifies across two prunes");
	ok(rows == 3, "x, y and z keep one row each");
	ops->close(s);
	s = NULL;

	raw(path, "DELETE FROM results WHERE agent = 'z'");
	ok(scalar(path, "SELECT count(*) FROM results WHERE agent = 'z'") == 1,
	   "a DELETE through SQL is still refused by the trigger");

	ok_ret(ops->open(path, 0, &s), "reopen");
	if (!s)
		return;
	ok_ret(ops->backup(s, copy), "an online backup");
	ops->close(s);
	s = NULL;
	ok_ret(ops->open(copy, 0, &c), "the copy opens");
	if (c) {
		ok_ret(ops->chain_verify(c, &rows, &bad), "and its chain verifies");
		ok(rows == 3, "with the same rows");
		ops->close(c);
		c = NULL;
	}
	ok(access(copy, F_OK) == 0,
	   "the copy is in place");

	/* must fail: the rows left, an anchor, or a row deleted with no anchor */
	raw(path, "DROP TRIGGER results_no_update; UPDATE results SET body = '{}' WHERE agent = 'y'");
	ok_ret(ops->open(path, 0, &s), "reopen");
	ok_err(ops->chain_verify(s, &rows, &bad), -EKEYREJECTED,
	       "an edited row after pruning breaks the chain");
	ok(bad == 9, "at row 9 (%llu)", (unsigned long long)bad);
	ok_err(ops->result_prune(s, 1000, &pruned), -EKEYREJECTED,
	       "pruning a broken chain is refused");
	ops->close(s);
	s = NULL;
	raw(path, "UPDATE results SET body = '{\"x\":1}' WHERE agent = 'y'");
	ok_ret(ops->open(path, 0, &s), "reopen");
	ok_ret(ops->chain_verify(s, &rows, &bad), "restored, the chain verifies again");
	ops->close(s);
	s = NULL;
	raw(path, "DROP TRIGGER anchors_no_update; UPDATE anchors SET hash = zeroblob(32) "
		  "WHERE seq = (SELECT max(seq) FROM anchors)");
	ok_ret(ops->open(path, 0, &s), "reopen");
	ok_err(ops->chain_verify(s, &rows, &bad), -EKEYREJECTED, "an edited anchor breaks it");
	ops->close(s);
	s = NULL;
	ok_ret(ops->open(copy, 0, &s), "the backup");
	ok_ret(ops->chain_verify(s, &rows, &bad), "is untouched by edits of the original");
	ops->close(s);
	s = NULL;
	raw(copy, "DROP TRIGGER results_no_delete; DELETE FROM results WHERE agent = 'y'");
	ok_ret(ops->open(copy, 0, &s), "reopen the copy");
	ok_err(ops->chain_verify(s, &rows, &bad), -EKEYREJECTED,
	       "a row deleted outside pruning (no anchor) breaks the chain");
	ok(bad == 10, "found at the row after it (%llu)", (unsigned long long)bad);
	ok_err(ops->backup(s, "/nonexistent-dir/x"), -ENOENT,
	       "a backup into a missing directory fails");
	ops->close(s);
	unlink_db(path);
	unlink_db(copy);
}

/* a live writer does not stop a backup, and the copy has only what was committed */
static void backup_live(const char *dir)
{
	const struct store_ops *ops = &store_sqlite_ops;
	struct store *s = NULL, *w = NULL, *c = NULL;
	uint64_t rows = 0, bad = 0;
	char path[96], copy[96];

	snprintf(path, sizeof(path), "%s/live", dir);
	snprintf(copy, sizeof(copy), "%s/live-copy", dir);
	ok_ret(ops->open(path, 0, &s), "open");
	ok_ret(ops->open(path, 0, &w), "a second writer");
	if (!s || !w)
		return;
	append(s, "a", 1, "trusted");
	append(w, "a", 2, "trusted");
	{
		struct store_result r = { .agent = "a", .time = 3, .verdict = "trusted",
					  .body = "{}" };
		uint64_t seq;

		ok_ret(-(ops->begin(w) || ops->result_append(w, &r, &seq)),
		       "a write transaction left open");
		ok_ret(ops->backup(s, copy), "backup while it is open");
		ok_ret(ops->commit(w), "the writer commits after");
	}
	ok_ret(ops->open(copy, 0, &c), "the copy opens");
	if (c) {
		ok_ret(ops->chain_verify(c, &rows, &bad), "its chain verifies");
		ok(rows == 2, "the committed rows only (%llu)", (unsigned long long)rows);
		ops->close(c);
	}
	ok(scalar(path, "SELECT count(*) FROM results") == 3, "the original has all three");
	ops->close(s);
	ops->close(w);
	unlink_db(path);
	unlink_db(copy);
}

/* SQL that takes a database of version N down to N-1, as that version's code created it */
static const char *const downgrade[] = {
	[7] = "ALTER TABLE agents DROP COLUMN lease_node; ALTER TABLE agents DROP COLUMN lease_until;"
	      "DROP TABLE duties; DROP TABLE anchors; DROP TRIGGER IF EXISTS results_no_delete;"
	      "DROP TABLE prune_permit;"
	      "CREATE TRIGGER results_no_delete BEFORE DELETE ON results"
	      " BEGIN SELECT RAISE(ABORT, 'results are append-only'); END;"
	      "PRAGMA user_version = 6",
	[6] = "ALTER TABLE agents DROP COLUMN ek_certified;"
	      "ALTER TABLE enrollments DROP COLUMN ek_certified; PRAGMA user_version = 5",
	[5] = "DROP TABLE agent_status; DROP TABLE outbox; DROP TABLE webhooks;"
	      "PRAGMA user_version = 4",
	[4] = "DROP TABLE reference_names; DROP TABLE reference_docs; DROP INDEX results_agent;"
	      "PRAGMA user_version = 3",
	[3] = "ALTER TABLE agents DROP COLUMN url; ALTER TABLE agents DROP COLUMN mode;"
	      "PRAGMA user_version = 2",
	[2] = "ALTER TABLE agents DROP COLUMN ek_fpr; DROP TABLE enrollments;"
	      "PRAGMA user_version = 1",
};

/* every earlier version, with an agent and results, migrates to 7 and works there */
static void migrations(const char *dir)
{
	const struct store_ops *ops = &store_sqlite_ops;
	struct store_agent a = { .ak_len = 1, .registered = 1 }, g = { 0 };
	uint8_t ak[1] = { 9 };
	char path[96];

	a.ak = ak;
	agent_names(&a, "old", "f");
	snprintf(path, sizeof(path), "%s/mig", dir);
	for (int from = 1; from <= 6; from++) {
		struct store *s = NULL;
		uint64_t rows = 0, bad = 0, pruned = 0;
		size_t n = 0;
		int v = 0, latest = 0;

		ok_ret(ops->open(path, 0, &s), "v%d: a new database", from);
		if (!s)
			return;
		ok_ret(-(ops->begin(s) || ops->agent_put(s, &a) || ops->commit(s)), "with an agent");
		append(s, "old", 1, "trusted");
		append(s, "old", 2, "trusted");
		ops->close(s);
		s = NULL;
		for (int v2 = 7; v2 > from; v2--)
			raw(path, downgrade[v2]);
		ok(scalar(path, "PRAGMA user_version") == from, "taken down to version %d", from);
		ok_ret(ops->open(path, STORE_OPEN_NO_MIGRATE, &s), "v%d: opened without migrating",
		       from);
		if (s) {
			ok_ret(ops->schema_version(s, &v, &latest), "schema version");
			ok(v == from && latest == 7, "reports %d of 7 (%d)", from, v);
			ops->close(s);
			s = NULL;
		}
		ok(scalar(path, "PRAGMA user_version") == from, "and left at version %d", from);
		ok_ret(ops->open(path, 0, &s), "v%d: migrated on open", from);
		if (!s)
			return;
		ok_ret(-(ops->schema_version(s, &v, &latest) || v != 7), "now at version 7");
		ok_ret(ops->agent_get(s, "old", &g), "the agent survived");
		store_agent_clear(&g);
		ok_ret(ops->chain_verify(s, &rows, &bad), "the chain verifies");
		ok(rows == 2, "over its 2 rows");
		ok_ret(-(ops->begin(s) || ops->agent_put(s, &a) || ops->commit(s)),
		       "the agent can be written again");
		ok(claim(s, "n", 1, 5, 10) == 0, "pull_claim works (no pull agents)");
		ok_ret(ops->duty_claim(s, "outbox", "n", 1, 3), "duty_claim works");
		ok_ret(ops->result_prune(s, 10, &pruned), "result_prune works");
		ok(pruned == 1, "one row pruned");
		ok_ret(-(ops->chain_verify(s, &rows, &bad) || ops->outbox_last(s, &rows)),
		       "and the chain still verifies");
		(void)n;
		ops->close(s);
		unlink_db(path);
	}
}

/* --- the same contract on PostgreSQL (VOUCH_TEST_PG_DSN, test-store-pg.sh) ----------------- */

static const char *pg_dsn;

#ifdef VOUCHD_HAVE_LIBPQ
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <libpq-fe.h>

/* SQL on a connection of its own (another client: a crash, an operator, an attacker) */
static bool pg_sql(const char *sql)
{
	PGconn *c = PQconnectdb(pg_dsn);
	PGresult *r;
	int st;

	PQclear(PQexec(c, "SET client_min_messages = warning"));
	r = PQexec(c, sql);
	st = PQresultStatus(r);

	PQclear(r);
	PQfinish(c);
	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

static int64_t pg_scalar(const char *sql)
{
	PGconn *c = PQconnectdb(pg_dsn);
	PGresult *r = PQexec(c, sql);
	int64_t v = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return v;
}

/* an empty database: every case starts from nothing */
static void pg_reset(void)
{
	if (!pg_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
		printf("# could not reset the schema of %s\n", pg_dsn);
}

static struct store *pg_open(void)
{
	struct store *s = NULL;

	if (store_pg_ops->open(pg_dsn, 0, &s) < 0)
		return NULL;
	return s;
}

static double mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void pg_tamper(void)
{
	const struct store_ops *ops = store_pg_ops;
	struct store *s = NULL;
	struct store_agent g = { 0 };
	uint64_t rows = 0, bad = 0, seq = 0;

	ok(!pg_sql("UPDATE results SET verdict = 'x' WHERE seq = 2"),
	   "UPDATE of a result through SQL is refused by the trigger");
	ok(!pg_sql("DELETE FROM results WHERE seq = 2"), "and so is DELETE");
	ok(!pg_sql("UPDATE outbox SET reason = 'x' WHERE seq = 1"), "and an UPDATE of an event");
	s = pg_open();
	ok(s != NULL, "reopen");
	if (!s)
		return;
	ok_ret(ops->chain_verify(s, &rows, &bad), "the chain still verifies");
	ops->close(s);
	pg_sql("ALTER TABLE results DISABLE TRIGGER USER; UPDATE results SET body = '{}' WHERE seq = 3");
	s = pg_open();
	ok_err(ops->chain_verify(s, &rows, &bad), -EKEYREJECTED, "an edited row breaks the chain");
	ok(bad == 3, "at row 3");
	ops->close(s);
	pg_sql("UPDATE results SET body = '{\"verdict\":\"trusted\"}' WHERE seq = 3; "
	       "DELETE FROM results WHERE seq = 4");
	s = pg_open();
	ok_err(ops->chain_verify(s, &rows, &bad), -EKEYREJECTED, "a deleted row breaks the chain");
	ok(bad == 5, "found at the row after it");
	ok_ret(ops->agent_get(s, "a1", &g), "the agent survived the reopen");
	store_agent_clear(&g);
	ok_ret(-(ops->outbox_last(s, &seq) || seq != 2), "the events survived the reopen");
	ok_err(ops->backup(s, "/tmp/x"), -EOPNOTSUPP, "backup: pg_dump's job");
	ops->close(s);
}

/* versions: an empty database, NO_MIGRATE, reopening, a newer version, two nodes at once */
static void pg_schema(void)
{
	const struct store_ops *ops = store_pg_ops;
	struct store *s = NULL;
	int v = -1, latest = -1, status = 0;
	pid_t pid;

	pg_reset();
	ok_ret(ops->open(pg_dsn, STORE_OPEN_NO_MIGRATE, &s), "an empty database opens unmigrated");
	if (s) {
		ok_ret(ops->schema_version(s, &v, &latest), "schema version");
		ok(v == 0 && latest >= 1, "0 of %d", latest);
		ops->close(s);
		s = NULL;
	}
	ok(pg_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0,
	   "and is left empty");
	/* two nodes starting at once: the advisory lock lets one migrate, the other waits */
	pid = fork();
	if (pid == 0) {
		struct store *c = NULL;
		int r = ops->open(pg_dsn, 0, &c);

		_exit(r == 0 ? 0 : 1);
	}
	ok_ret(ops->open(pg_dsn, 0, &s), "migrated from empty");
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		   WEXITSTATUS(status) == 0,
	   "a second node opening at the same time succeeds too");
	if (!s)
		return;
	ok_ret(ops->schema_version(s, &v, &latest), "schema version");
	ok(v == latest && latest == 1, "at the latest, 1 (%d)", v);
	ops->close(s);
	s = NULL;
	ok(pg_scalar("SELECT count(*) FROM schema_version") == 1, "migrated once");
	ok_ret(ops->open(pg_dsn, 0, &s), "reopened");
	ops->close(s);
	s = NULL;
	ok(pg_scalar("SELECT count(*) FROM schema_version") == 1, "reopening changes nothing");
	pg_sql("INSERT INTO schema_version VALUES (99, 0)");
	ok_err(ops->open(pg_dsn, 0, &s), -EPROTO, "a newer schema version is refused");
	s = NULL;
	ok_ret(ops->open(pg_dsn, STORE_OPEN_NO_MIGRATE, &s), "but opens unmigrated");
	if (s) {
		ok_ret(ops->schema_version(s, &v, &latest), "schema version");
		ok(v == 99 && latest == 1, "99 of 1");
		ops->close(s);
	}
}

/* pull leases and duties between two nodes (the semantics of store-sqlite.c's) */
static void pg_leases(void)
{
	const struct store_ops *ops = store_pg_ops;
	struct store *a, *b;
	struct store_agent p = { .ak_len = 1, .registered = 1 }, g = { 0 };
	uint8_t ak[1] = { 1 };
	double t0;

	pg_reset();
	a = pg_open();
	b = pg_open();
	ok(a && b, "nodes A and B open one database");
	if (!a || !b)
		return;
	p.ak = ak;
	lease_cases(a, b, &p);
	ok(pg_scalar("SELECT count(*) FROM agents WHERE lease_node IS NOT NULL AND "
		     "mode = 'push'") == 0,
	   "a push agent is never leased");
	ok_ret(ops->lease_release(a, "A"), "A releases");

	/* a row another node is working on is skipped, not waited for */
	ok_ret(-(ops->begin(a) || ops->agent_get(a, "p0", &g)), "A locks p0 (an attestation)");
	store_agent_clear(&g);
	t0 = mono();
	ok(claim(b, "B", 200, 10, 10) == 3, "B claims the three others");
	ok(mono() - t0 < 2, "without waiting for A's lock (%.3f s)", mono() - t0);
	ops->rollback(a);
	ok(claim(b, "B", 201, 10, 10) == 4, "and p0 once A is done");
	ok_ret(ops->lease_release(b, "B"), "B releases");

	/* several nodes claiming at once: each agent goes to one of them */
	ok_ret(ops->begin(a), "begin");
	snprintf(p.mode, sizeof(p.mode), "pull");
	snprintf(p.url, sizeof(p.url), "https://127.0.0.1:1");
	for (int i = 4; i < 200; i++) {
		snprintf(p.id, sizeof(p.id), "p%d", i);
		if (ops->agent_put(a, &p) < 0)
			break;
	}
	ok_ret(ops->commit(a), "196 more pull agents");
	{
		pid_t pids[4];
		size_t sum = 0;
		int fds[2];

		ok(pipe(fds) == 0, "pipe");
		for (int k = 0; k < 4; k++) {
			pids[k] = fork();
			if (pids[k] == 0) {
				struct store *c = pg_open();
				char node[8];
				size_t n[3] = { 0 };

				snprintf(node, sizeof(node), "N%d", k);
				for (int j = 0; c && j < 3; j++)
					n[j] = claim(c, node, 300, 100, 80);
				if (write(fds[1], &n[2], sizeof(n[2])) != sizeof(n[2]))
					_exit(1);
				_exit(c ? 0 : 1);
			}
		}
		close(fds[1]);
		for (int k = 0; k < 4; k++) {
			size_t n = 0;
			int status = 0;

			if (read(fds[0], &n, sizeof(n)) == sizeof(n) && n != (size_t)-1)
				sum += n;
			waitpid(pids[k], &status, 0);
		}
		close(fds[0]);
		/* each node's list is its own: were one agent given to two, the lists would add
		 * up to more than the rows leased (a row another node locks for a moment is
		 * skipped, so not every agent need be leased yet) */
		ok(sum > 0 && (int64_t)sum == pg_scalar("SELECT count(*) FROM agents "
							"WHERE lease_node IS NOT NULL"),
		   "four nodes claiming at once: no agent held by two (%zu)", sum);
		ok(pg_scalar("SELECT max(n) FROM (SELECT count(*) AS n FROM agents "
			     "WHERE lease_node IS NOT NULL GROUP BY lease_node) x") <= 80,
		   "none holds more than its max");
		sum = 0;
		for (int k = 0; k < 4; k++) {
			char node[8];

			snprintf(node, sizeof(node), "N%d", k);
			sum += claim(a, node, 300, 100, 80);
		}
		ok(sum == 200, "one more round, node after node: all 200 held (%zu)", sum);
	}

	duty_cases(a, b);
	ops->close(a);
	ops->close(b);
}

/* a child process: @what on its own connection; exit status 0 when it returned @want */
static pid_t pg_child(int what, int want)
{
	pid_t pid = fork();

	if (pid == 0) {
		const struct store_ops *ops = store_pg_ops;
		struct store *c = pg_open();
		struct store_nonce n;
		struct store_agent g = { 0 };
		struct store_result row = { .agent = "w", .time = 1, .verdict = "trusted",
					    .body = "{}" };
		uint64_t seq = 0;
		int r;

		if (!c || ops->begin(c) < 0)
			_exit(99);
		if (what == 0)
			r = ops->nonce_take(c, "a1", &n);
		else if (what == 1)
			r = ops->agent_get(c, "a1", &g) == 0 ? 0 : -1;
		else if (what == 2)
			r = ops->result_append(c, &row, &seq);
		else {
			/* the overdue watchdog: the agent's status, then its event */
			struct store_status cur;
			struct store_event ev = { .time = 2, .type = "overdue", .agent = "a1",
						 .from = "trusted", .to = "overdue" };

			r = ops->status_get(c, "a1", &cur);
			if (r == 0)
				r = ops->outbox_append(c, &ev);
		}
		store_agent_clear(&g);
		if (r >= 0 && ops->commit(c) < 0)
			r = -100;
		/* an append's seq is the commit's */
		if (what == 2 && r == 0)
			r = (int)store_seq(c, seq);
		_exit(r == want ? 0 : 1);
	}
	return pid;
}

static bool child_ok(pid_t pid)
{
	int status = 0;

	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

/* group commit: appends in savepoints, one rolled back; another node's append, made while the
 * batch is open, does not wait for it (the heads are locked only by the batch's commit) */
static void pg_batch(void)
{
	const struct store_ops *ops = store_pg_ops;
	struct store_result row = { .agent = "b", .time = 1, .verdict = "trusted", .body = "{}" };
	struct store_event ev = { .time = 1, .type = "trusted", .agent = "b", .to = "trusted" };
	struct store *s;
	uint64_t seq[4] = { 0 }, rows = 0, bad = 0;
	pid_t pid;

	pg_reset();
	s = pg_open();
	if (!s)
		return;
	ok_ret(ops->batch_begin(s), "batch begin");
	ok_ret(-(ops->begin(s) || ops->result_append(s, &row, &seq[0]) ||
		 ops->outbox_append(s, &ev) || ops->commit(s)),
	       "request 1: a result and an event");
	pid = pg_child(2, 1);
	ok(child_ok(pid), "another node's append, made while the batch is open, got seq 1 at once");
	ok_ret(-(ops->begin(s) || ops->result_append(s, &row, &seq[1])), "request 2 appends");
	ops->rollback(s);
	ok_ret(-(ops->begin(s) || ops->result_append(s, &row, &seq[2]) || ops->commit(s)),
	       "request 3 appends");
	ok_ret(-(ops->begin(s) || ops->result_append(s, &row, &seq[3])), "request 4 appends");
	ev.result = seq[3];
	ok_ret(-(ops->outbox_append(s, &ev) || ops->commit(s)), "with an event naming it");
	ok(store_seq_deferred(seq[0]) && store_seq_deferred(ev.seq) && store_seq(s, seq[0]) == 0,
	   "inside the batch the seqs are deferred, unresolved");
	ok_ret(ops->batch_commit(s), "batch commit");
	ok(store_seq(s, seq[0]) == 2 && seq[1] == seq[2] && store_seq(s, seq[2]) == 3 &&
		   store_seq(s, seq[3]) == 4,
	   "resolved after the commit: 2, (a rolled-back one), 3, 4 (%llu %llu %llu)",
	   (unsigned long long)store_seq(s, seq[0]), (unsigned long long)store_seq(s, seq[2]),
	   (unsigned long long)store_seq(s, seq[3]));
	ok(store_seq(s, ev.seq) == 2, "events 1, 2");
	ok(pg_scalar("SELECT result FROM outbox WHERE seq = 2") == 4,
	   "the second event names its result, seq 4");
	ok_ret(ops->chain_verify(s, &rows, &bad), "the chain verifies");
	ok(rows == 4, "over 4 rows");
	ops->close(s);
}

/* an attestation's reads in one round trip: the same answers, each once, undone by a rollback */
static void pg_prefetch(void)
{
	const struct store_ops *ops = store_pg_ops;
	struct store_agent a = { .ak_len = 1, .registered = 1 }, g = { 0 };
	struct store_nonce n = { .len = 2, .deadline = 9 }, gn = { 0 };
	struct store_state st = { .state_json = "{}", .reset_count = 3 }, gs = { 0 };
	struct store_status ss = { .state = "trusted", .deadline = 5, .since = 1 }, gss = { 0 };
	uint8_t ak[1] = { 7 };
	struct store *s = pg_open();

	if (!s)
		return;
	ok(ops->attest_prefetch != NULL, "PostgreSQL prefetches an attestation's reads");
	a.ak = ak;
	agent_names(&a, "q", "fq");
	snprintf(a.mode, sizeof(a.mode), "push");
	ok_ret(-(ops->begin(s) || ops->agent_put(s, &a) || ops->nonce_put(s, "q", &n) ||
		 ops->state_put(s, "q", &st) || ops->status_put(s, "q", &ss) || ops->commit(s)),
	       "agent q with a nonce, a state and a status");
	ok_err(ops->attest_prefetch(s, "q"), -EINVAL, "outside a transaction: refused");
	ok_ret(-(ops->begin(s) || ops->attest_prefetch(s, "q")), "prefetch in a transaction");
	ok_ret(ops->agent_get(s, "q", &g), "agent_get");
	ok(g.ak_len == 1 && g.ak[0] == 7 && strcmp(g.ak_fpr, "fq") == 0, "the agent's row");
	store_agent_clear(&g);
	ok_ret(ops->nonce_take(s, "q", &gn), "nonce_take");
	ok(gn.len == 2 && gn.deadline == 9, "the nonce");
	ok_err(ops->nonce_take(s, "q", &gn), -ENOENT, "taken once: the second read finds none");
	ok_ret(ops->state_get(s, "q", &gs), "state_get");
	ok(gs.reset_count == 3 && gs.state_json && strcmp(gs.state_json, "{}") == 0, "the state");
	store_state_clear(&gs);
	ok_ret(ops->status_get(s, "q", &gss), "status_get");
	ok(strcmp(gss.state, "trusted") == 0 && gss.deadline == 5, "the status");
	ok_err(ops->agent_get(s, "r", &g), -ENOENT, "another id is read from the database");
	ops->rollback(s);
	ok_ret(-(ops->begin(s) || ops->nonce_take(s, "q", &gn) || ops->commit(s)),
	       "the rollback gave the nonce back");
	ok_ret(-(ops->begin(s) || ops->attest_prefetch(s, "nobody")), "prefetch of an unknown id");
	ok_err(ops->agent_get(s, "nobody", &g), -ENOENT, "is -ENOENT");
	ops->rollback(s);
	ok_ret(-(ops->begin(s) || ops->attest_prefetch(s, "q")), "a prefetch not used");
	ops->rollback(s);
	ok_ret(-(ops->begin(s) || ops->status_get(s, "q", &gss) || ops->commit(s)),
	       "is dropped with its request");
	ops->close(s);
}

/* commits in flight over a pool of connections: the next batch runs while one commits */
static void pg_pool(void)
{
	const struct store_ops *ops = store_pg_ops;
	struct store_result row = { .agent = "p", .time = 1, .verdict = "trusted", .body = "{}" };
	struct store_event ev = { .time = 1, .type = "trusted", .agent = "p", .to = "trusted" };
	struct store_commit *c[3] = { NULL };
	struct store_nonce n = { .len = 2, .deadline = 9 }, gn;
	struct store_agent a = { .ak_len = 1, .registered = 1 };
	uint8_t ak[1] = { 1 };
	struct store *s = NULL;
	uint64_t seq[3] = { 0 }, got = 0;
	int fd = -1, r;

	pg_reset();
	if (ops->open(pg_dsn, STORE_OPEN_POOL(2), &s) < 0) {
		ok(0, "a store with a pool of 2 connections");
		return;
	}
	ok(ops->commit_start && ops->commit_poll && ops->commit_seq && ops->commit_free,
	   "PostgreSQL commits asynchronously");
	a.ak = ak;
	agent_names(&a, "p", "f");
	ok_ret(-(ops->begin(s) || ops->agent_put(s, &a) || ops->commit(s)), "agent p");
	for (int k = 0; k < 3; k++) {
		ok_ret(-(ops->batch_begin(s) || ops->begin(s) ||
			 ops->result_append(s, &row, &seq[k]) || ops->outbox_append(s, &ev) ||
			 ops->commit(s)),
		       "batch %d: a result and an event", k + 1);
		ok_ret(ops->commit_start(s, &c[k], &fd), "batch %d: its COMMIT sent", k + 1);
		ok(fd >= 0, "with a descriptor to wait on");
		if (k == 0) {
			ok_err(ops->commit_seq(c[0], seq[0], &got), -ENOENT,
			       "before its answer is read, its seq does not resolve");
			ok_ret(-(ops->begin(s) || ops->nonce_put(s, "p", &n) || ops->commit(s)),
			       "meanwhile a transaction runs on the other connection");
		}
	}
	/* the third batch found both connections busy: the store read the oldest answer */
	r = ops->commit_poll(c[0], false);
	ok_ret(r, "batch 1's answer was read by the store when it needed the connection");
	ok_ret(ops->commit_poll(c[1], true), "batch 2 committed");
	ok_ret(ops->commit_poll(c[2], true), "batch 3 committed");
	for (int k = 0; k < 3; k++) {
		got = 0;
		ok(ops->commit_seq(c[k], seq[k], &got) == 0 && got == (uint64_t)k + 1,
		   "batch %d's result is seq %d (%llu)", k + 1, k + 1, (unsigned long long)got);
	}
	ok(ops->commit_seq(c[2], ev.seq, &got) == 0 && got == 3, "and its event seq 3");
	ok(pg_scalar("SELECT count(*) FROM outbox") == 3, "three events stored");
	for (int k = 0; k < 3; k++)
		ops->commit_free(c[k]);
	ok_ret(-(ops->begin(s) || ops->nonce_take(s, "p", &gn) || ops->commit(s)),
	       "the nonce put meanwhile is there");

	/* a commit that fails: the error is the poll's, nothing of the batch stays */
	ok_ret(-(ops->batch_begin(s) || ops->begin(s) || ops->result_append(s, &row, &seq[0]) ||
		 ops->commit(s)),
	       "a batch");
	/* the next seq taken behind the store's back: the batch's insert collides */
	ok(pg_scalar("INSERT INTO results (seq, agent, time, verdict, body, hash) VALUES "
		     "(4, 'x', 1, 'trusted', '{}', '\\x00') RETURNING 1") == 1,
	   "another writer took seq 4 without the head");
	r = ops->commit_start(s, &c[0], &fd);
	if (r == 0)
		r = ops->commit_poll(c[0], true);
	ok(r == -EIO, "the commit fails: %d", r);
	ok(r == 0 || ops->commit_seq(c[0], seq[0], &got) == -ENOENT,
	   "its seq resolves to nothing");
	if (r != 0)
		ops->commit_free(c[0]);
	ok(pg_scalar("SELECT count(*) FROM results") == 4, "nothing of it was stored");
	ops->close(s);
}

/* writers on several nodes: locks, a single-use nonce, the chain and the outbox in commit order */
static void pg_concurrency(void)
{
	const struct store_ops *ops = store_pg_ops;
	struct store *a;
	struct store_agent p = { .ak_len = 1, .registered = 1 }, g = { 0 };
	struct store_nonce n = { .len = 2, .deadline = 9 }, gn;
	struct store_result row = { .agent = "a1", .time = 1, .verdict = "trusted", .body = "{}" };
	uint8_t ak[1] = { 1 };
	uint64_t rows = 0, bad = 0, seq = 0, seen = 0;
	bool contiguous = true;
	pid_t pid, pids[3];
	double t0;

	pg_reset();
	a = pg_open();
	if (!a)
		return;
	p.ak = ak;
	agent_names(&p, "a1", "f");
	ok_ret(-(ops->begin(a) || ops->agent_put(a, &p) || ops->nonce_put(a, "a1", &n) ||
		 ops->commit(a)),
	       "an agent with a nonce");

	ok_ret(-(ops->begin(a) || ops->nonce_take(a, "a1", &gn)), "node A takes the nonce");
	pid = pg_child(0, -ENOENT);
	usleep(200000);
	ok_ret(ops->commit(a), "and commits");
	ok(child_ok(pid), "node B, taking it at the same time, waited and got -ENOENT");

	ok_ret(-(ops->begin(a) || ops->agent_get(a, "a1", &g)), "node A reads (locks) a1");
	store_agent_clear(&g);
	t0 = mono();
	pid = pg_child(1, 0);
	usleep(300000);
	ok_ret(ops->commit(a), "and commits after 0.3 s");
	ok(child_ok(pid) && mono() - t0 >= 0.3,
	   "node B's agent_get of a1 waited for A's transaction (%.3f s)", mono() - t0);

	/* an attestation on A (agent row, a queued result, then the status) against the overdue
	 * watchdog on B (the status, then an event): no deadlock, both go through */
	{
		struct store_status ss = { .state = "trusted", .deadline = 1, .since = 1 }, cur;

		ok_ret(-(ops->begin(a) || ops->status_put(a, "a1", &ss) || ops->commit(a)),
		       "a1 has a status");
		ok_ret(-(ops->begin(a) || ops->agent_get(a, "a1", &g) ||
			 ops->result_append(a, &row, &seq)),
		       "A: a1's row and a queued result");
		store_agent_clear(&g);
		pid = pg_child(3, 0);
		usleep(300000);
		t0 = mono();
		ok_ret(-(ops->status_get(a, "a1", &cur) || ops->status_put(a, "a1", &ss) ||
			 ops->commit(a)),
		       "A: a1's status, committed");
		ok(mono() - t0 < 0.5, "without a deadlock to break (%.3f s)", mono() - t0);
		ok(child_ok(pid), "B's watchdog went through after A");
	}

	/* an open transaction's append does not hold another node's; a rolled-back one leaves
	 * no gap */
	ok_ret(-(ops->begin(a) || ops->result_append(a, &row, &seq)), "A appends (row 2?)");
	pid = pg_child(2, 2);
	ok(child_ok(pid), "B, while A's transaction is open, appended row 2 without waiting");
	ops->rollback(a);
	ok(store_seq(a, seq) == 0, "A rolled back: its seq resolves to nothing");

	/* three nodes appending results and events at once; a reader follows the outbox */
	for (int k = 0; k < 3; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			struct store *c = pg_open();
			char agent[8];
			int bad_n = 0;

			snprintf(agent, sizeof(agent), "n%d", k);
			for (int i = 0; c && i < 100; i++) {
				struct store_result r = { .agent = agent, .time = i,
							  .verdict = "trusted", .body = "{}" };
				struct store_event e = { .time = i, .type = "trusted",
							 .to = "trusted" };
				uint64_t s2;

				snprintf(e.agent, sizeof(e.agent), "%s", agent);
				if (ops->begin(c) < 0 || ops->result_append(c, &r, &s2) < 0 ||
				    ops->outbox_append(c, &e) < 0 || ops->commit(c) < 0) {
					ops->rollback(c);
					bad_n++;
				}
			}
			_exit(c && bad_n == 0 ? 0 : 1);
		}
	}
	t0 = mono();
	while (seen < 301 && mono() - t0 < 60) {
		struct store_event ev[16];
		size_t ne = 0;

		if (ops->outbox_pending(a, seen, 16, ev, &ne) < 0)
			break;
		for (size_t i = 0; i < ne; i++) {
			if (ev[i].seq != seen + 1)
				contiguous = false;
			seen = ev[i].seq;
		}
	}
	ok(child_ok(pids[0]) && child_ok(pids[1]) && child_ok(pids[2]),
	   "three nodes appended 100 results and events each");
	ok(seen == 301 && contiguous,
	   "a reader polling meanwhile saw events 1..301, none skipped (%llu)",
	   (unsigned long long)seen);
	ok_ret(ops->chain_verify(a, &rows, &bad), "the chain verifies");
	ok(rows == 302, "over 302 rows");
	ok(pg_scalar("SELECT max(seq) - count(*) FROM results") == 0, "result seqs have no gap");
	ops->close(a);
}

/* a restarted server (here: the connection killed) does not kill the store */
static void pg_reconnect(void)
{
	const struct store_ops *ops = store_pg_ops;
	struct store *s;
	struct store_agent p = { .ak_len = 1, .registered = 1 }, g = { 0 };
	uint8_t ak[1] = { 1 };
	const char *kill = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
			   "WHERE datname = current_database() AND pid <> pg_backend_pid()";

	/* the stores closed by the tests before may still be leaving pg_stat_activity: wait (5 s
	 * at most) until none is listed, so that the count below is this store's session alone */
	for (int i = 0; i < 100 && pg_scalar("SELECT count(*) FROM pg_stat_activity "
					     "WHERE application_name = 'vouchd'") > 0; i++)
		usleep(50 * 1000);
	s = pg_open();
	if (!s)
		return;
	p.ak = ak;
	agent_names(&p, "r1", "f");
	ok(pg_scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'vouchd'") ==
		   1,
	   "the store's session is named 'vouchd'");
	{
		char dsn[512];
		struct store *o = NULL;

		/* a URI takes a query parameter, a keyword string one more keyword */
		snprintf(dsn, sizeof(dsn), "%s%sapplication_name=vouchd-b", pg_dsn,
			 strncmp(pg_dsn, "postgres", 8) != 0 ? " " : strchr(pg_dsn, '?') ? "&" : "?");
		ok_ret(store_pg_ops->open(dsn, 0, &o), "a DSN with its own application_name");
		ok(pg_scalar("SELECT count(*) FROM pg_stat_activity "
			     "WHERE application_name = 'vouchd-b'") == 1,
		   "overrides the default");
		if (o)
			ops->close(o);
	}
	ok(pg_scalar(kill) == 1, "the server ends the store's connection");
	ok_ret(-(ops->begin(s) || ops->agent_put(s, &p) || ops->commit(s)),
	       "the next transaction reconnects");
	ok_ret(ops->begin(s), "begin");
	ok(pg_scalar(kill) == 1, "the connection ends in the middle of a transaction");
	snprintf(p.id, sizeof(p.id), "r2");
	{
		/* a write may only be sent (pipelined): its failure shows at the latest at commit */
		int r = ops->agent_put(s, &p);

		ok_err(r ? r : ops->commit(s), -EIO, "the transaction fails: -EIO");
	}
	ops->rollback(s);
	ok_ret(ops->agent_get(s, "r1", &g), "outside a transaction the next operation reconnects");
	store_agent_clear(&g);
	ok_err(ops->agent_get(s, "r2", &g), -ENOENT, "nothing of the broken transaction stayed");
	ok(pg_scalar(kill) == 1, "once more, before a batch");
	ok_ret(ops->batch_begin(s), "batch_begin reconnects");
	ok_ret(-(ops->begin(s) || ops->agent_put(s, &p) || ops->commit(s)), "r2 in the batch");
	ok_ret(ops->batch_commit(s), "batch commit");
	ok_ret(ops->agent_get(s, "r2", &g), "r2 stored");
	store_agent_clear(&g);
	ops->close(s);
}

static void pg_append(struct store *s, const char *agent, int64_t time)
{
	struct store_result r = { .agent = agent, .time = time, .verdict = "trusted",
				  .body = "{\"x\":1}" };
	uint64_t seq;

	ok_ret(-(s->ops->begin(s) || s->ops->result_append(s, &r, &seq) || s->ops->commit(s)),
	       "result of %s at %lld", agent, (long long)time);
}

/* retention: the chain verifies after pruning, and a pruned chain still finds tampering */
static void pg_retention(void)
{
	const struct store_ops *ops = store_pg_ops;
	struct store *s;
	uint64_t rows = 0, bad = 0, pruned = 0;

	pg_reset();
	s = pg_open();
	if (!s)
		return;
	/* x: rows at 1..7 (seq 1,2,4,5,7,8), y: 3, 9 (seq 3, 9), z: one old row (seq 6) */
	pg_append(s, "x", 1);
	pg_append(s, "x", 2);
	pg_append(s, "y", 3);
	pg_append(s, "x", 4);
	pg_append(s, "x", 5);
	pg_append(s, "z", 2);
	pg_append(s, "x", 6);
	pg_append(s, "x", 7);
	pg_append(s, "y", 9);
	ok_ret(ops->result_prune(s, 5, &pruned), "prune before time 5");
	ok(pruned == 4, "4 rows pruned (%llu)", (unsigned long long)pruned);
	ok_ret(ops->chain_verify(s, &rows, &bad), "the pruned chain verifies");
	ok(rows == 5, "over the 5 rows left");
	ok(pg_scalar("SELECT count(*) FROM results WHERE agent = 'z'") == 1,
	   "an agent's newest row stays, however old");
	ok_ret(ops->result_prune(s, 5, &pruned), "prune again");
	ok(pruned == 0, "nothing more to prune");
	pg_append(s, "x", 10);
	ok_ret(ops->chain_verify(s, &rows, &bad), "rows appended after pruning chain on");
	ok_ret(ops->result_prune(s, 100, &pruned), "prune everything but the newest");
	ok(pruned == 3, "3 more pruned (%llu)", (unsigned long long)pruned);
	ok_ret(ops->chain_verify(s, &rows, &bad), "verifies across two prunes");
	ok(rows == 3, "x, y and z keep one row each");
	ok(!pg_sql("DELETE FROM results WHERE agent = 'z'"),
	   "a DELETE through SQL is still refused by the trigger");
	pg_sql("ALTER TABLE results DISABLE TRIGGER USER; "
	       "UPDATE results SET body = '{}' WHERE agent = 'y'");
	ok_err(ops->chain_verify(s, &rows, &bad), -EKEYREJECTED,
	       "an edited row after pruning breaks the chain");
	ok(bad == 9, "at row 9 (%llu)", (unsigned long long)bad);
	ok_err(ops->result_prune(s, 1000, &pruned), -EKEYREJECTED,
	       "pruning a broken chain is refused");
	pg_sql("UPDATE results SET body = '{\"x\":1}' WHERE agent = 'y'");
	ok_ret(ops->chain_verify(s, &rows, &bad), "restored, the chain verifies again");
	pg_sql("ALTER TABLE anchors DISABLE TRIGGER USER; UPDATE anchors SET hash = "
	       "decode(repeat('00', 32), 'hex') WHERE seq = (SELECT max(seq) FROM anchors)");
	ok_err(ops->chain_verify(s, &rows, &bad), -EKEYREJECTED, "an edited anchor breaks it");
	ops->close(s);
}

/* the rest of the cases, after the shared contract of main() */
static int pg_more(void)
{
	pg_tamper();
	pg_schema();
	pg_leases();
	pg_concurrency();
	pg_batch();
	pg_pool();
	pg_prefetch();
	pg_reconnect();
	pg_retention();
	pg_reset();
	return tap_done();
}
#else
static void pg_reset(void)
{
}

static int pg_more(void)
{
	return tap_done();
}
#endif

/* rows of @sql seen by another connection than the store's */
static int64_t other_count(const char *path, const char *sql)
{
#ifdef VOUCHD_HAVE_LIBPQ
	if (pg_dsn)
		return pg_scalar(sql);
#endif
	return scalar(path, sql);
}

static void test_agents(struct store *s, const struct store_agent *agent, const uint8_t *ak)
{
	const struct store_ops *ops = s->ops;
	struct store_agent a = *agent;
	struct store_agent g = { 0 };
	uint64_t count = 0;

	ok_err(ops->agent_get(s, "a1", &g), -ENOENT, "unknown agent: -ENOENT");

	ok_ret(ops->begin(s), "begin");
	ok_ret(ops->agent_put(s, &a), "agent put");
	ops->rollback(s);
	ok_err(ops->agent_get(s, "a1", &g), -ENOENT, "a rolled-back registration is gone");

	ok_ret(-(ops->begin(s) || ops->agent_put(s, &a) || ops->commit(s)), "agent put, committed");
	ok_ret(ops->agent_get(s, "a1", &g), "agent get");
	ok(g.ak_len == 3 && memcmp(g.ak, ak, 3) == 0 && g.registered == 1 &&
		   strcmp(g.reference, "default") == 0 && strcmp(g.ek_fpr, a.ek_fpr) == 0 &&
		   g.ek_certified,
	   "the record round-trips, with its EK fingerprint, certified");
	ok(strcmp(g.mode, "push") == 0 && g.url[0] == '\0', "an agent is a push agent by default");
	store_agent_clear(&g);
	ok_ret(ops->agent_count(s, &count), "agent count");
	ok(count == 1, "one agent");
	{
		struct store_agent p = a;
		char list[128] = "";

		snprintf(p.id, sizeof(p.id), "p1");
		snprintf(p.mode, sizeof(p.mode), "pull");
		snprintf(p.url, sizeof(p.url), "https://127.0.0.1:9443");
		ok_ret(-(ops->begin(s) || ops->agent_put(s, &p) || ops->commit(s)), "pull agent put");
		ok_ret(ops->agent_get(s, "p1", &g), "pull agent get");
		ok(strcmp(g.mode, "pull") == 0 && strcmp(g.url, p.url) == 0,
		   "mode and URL round-trip");
		store_agent_clear(&g);
		ok_ret(ops->pull_list(s, list_one, list), "pull list");
		ok(strcmp(list, "p1=https://127.0.0.1:9443;") == 0, "only the pull agent is listed");
		snprintf(p.mode, sizeof(p.mode), "push");
		p.url[0] = '\0';
		ok_ret(-(ops->begin(s) || ops->agent_put(s, &p) || ops->commit(s)),
		       "back to push mode");
		list[0] = '\0';
		ok_ret(ops->pull_list(s, list_one, list), "pull list");
		ok(list[0] == '\0', "no pull agent left");
	}
}

/* group commit: savepoints in one transaction; a rolled-back one leaves the others,
 * and nothing is stored before batch_commit() */
static void test_batch(struct store *s, const struct store_agent *agent, const char *path)
{
	const struct store_ops *ops = s->ops;
	struct store_agent a = *agent;
	struct store_agent g = { 0 };

	ok_ret(ops->batch_begin(s), "batch begin");
	snprintf(a.id, sizeof(a.id), "b1");
	ok_ret(-(ops->begin(s) || ops->agent_put(s, &a) || ops->commit(s)), "b1 in the batch");
	snprintf(a.id, sizeof(a.id), "b2");
	ok_ret(-(ops->begin(s) || ops->agent_put(s, &a)), "b2 in the batch");
	ops->rollback(s);
	ok_ret(ops->agent_get(s, "b1", &g), "b1 visible inside the batch");
	store_agent_clear(&g);
	ok_err(ops->agent_get(s, "b2", &g), -ENOENT, "b2 rolled back alone");
	/* another connection (a crash now) sees nothing of the open batch */
	ok(other_count(path, "SELECT count(*) FROM agents WHERE id = 'b1'") == 0,
	   "nothing of the batch is stored before batch_commit");
	ok_ret(ops->batch_commit(s), "batch commit");
	ok_ret(ops->agent_get(s, "b1", &g), "b1 stored");
	store_agent_clear(&g);
	ok_err(ops->agent_get(s, "b2", &g), -ENOENT, "b2 not");
	ok_ret(-(ops->begin(s) || ops->commit(s)), "outside a batch: plain transactions again");
	/* b1 served its purpose: the counts below are of a1, a2 and p1 */
	ok_ret(-(ops->begin(s) || ops->agent_delete(s, "b1") || ops->commit(s)), "b1 removed");
	snprintf(a.id, sizeof(a.id), "a1");
}

/* agent state and nonces */
static void test_state_nonce(struct store *s)
{
	const struct store_ops *ops = s->ops;
	struct store_state st = { .reset_count = 7, .restart_count = 1 }, gs = { 0 };
	struct store_nonce n = { .len = 4, .deadline = 99 }, gn = { 0 };

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
}

/* pending enrollments: single use, replaced by a newer one, gone after a rollback */
static void test_enrollments(struct store *s, struct store_enrollment *e, uint8_t *ak)
{
	const struct store_ops *ops = s->ops;
	struct store_enrollment ge = { 0 };
	uint64_t count = 0;

	snprintf(e->id, sizeof(e->id), "new1");
	snprintf(e->ak_fpr, sizeof(e->ak_fpr), "%064d", 2);
	snprintf(e->ek_fpr, sizeof(e->ek_fpr), "%064d", 3);
	e->ek_certified = true;
	memset(e->secret_hash, 0xa5, sizeof(e->secret_hash));
	e->ak = ak;
	e->csr = (char *)"-----BEGIN CERTIFICATE REQUEST-----\n";
	ok_err(ops->enrollment_take(s, "new1", &ge), -ENOENT, "no pending enrollment: -ENOENT");
	ok_ret(-(ops->begin(s) || ops->enrollment_put(s, e) || ops->commit(s)),
	       "enrollment put (an agent that is not registered)");
	ok_ret(ops->begin(s), "begin");
	ok_ret(ops->enrollment_take(s, "new1", &ge), "enrollment taken");
	ok(ge.ak_len == 3 && memcmp(ge.ak, ak, 3) == 0 && strcmp(ge.ak_fpr, e->ak_fpr) == 0 &&
		   strcmp(ge.ek_fpr, e->ek_fpr) == 0 && ge.ek_certified &&
		   memcmp(ge.secret_hash, e->secret_hash, STORE_HASH_SIZE) == 0 &&
		   strcmp(ge.csr, e->csr) == 0 && ge.deadline == 42 && strcmp(ge.id, "new1") == 0,
	   "the enrollment round-trips");
	store_enrollment_clear(&ge);
	ok_err(ops->enrollment_take(s, "new1", &ge), -ENOENT, "an enrollment is taken once");
	ops->rollback(s);
	e->deadline = 43;
	ok_ret(-(ops->begin(s) || ops->enrollment_put(s, e) || ops->commit(s)),
	       "a second enrollment replaces the first");
	ok_ret(-(ops->begin(s) || ops->enrollment_take(s, "new1", &ge) || ops->commit(s)),
	       "taken and committed");
	ok(ge.deadline == 43, "the newer one was kept");
	store_enrollment_clear(&ge);
	ok_err(ops->enrollment_take(s, "new1", &ge), -ENOENT, "a committed take is final");
	snprintf(e->id, sizeof(e->id), "old1");
	e->deadline = 10;
	ok_ret(-(ops->begin(s) || ops->enrollment_put(s, e) || ops->commit(s)), "an old one");
	snprintf(e->id, sizeof(e->id), "new1");
	e->deadline = 20;
	ok_ret(-(ops->begin(s) || ops->enrollment_put(s, e) || ops->commit(s)), "a newer one");
	ok_ret(-(ops->begin(s) || ops->enrollment_purge(s, 15, &count) || ops->commit(s)),
	       "purge the expired");
	ok(count == 1, "one left");
	ok_err(ops->enrollment_take(s, "old1", &ge), -ENOENT, "the expired one is gone");
	ok_ret(-(ops->begin(s) || ops->enrollment_take(s, "new1", &ge) || ops->commit(s)),
	       "the other one stays");
	store_enrollment_clear(&ge);
}

/* the results chain; agent states by their newest result */
static void test_results(struct store *s, const struct store_agent *agent)
{
	const struct store_ops *ops = s->ops;
	struct store_agent a = *agent;
	struct store_result row = { .agent = "a1", .time = 5, .verdict = "trusted" };
	uint64_t seq = 0;

	for (int i = 0; i < 5; i++) {
		row.body = i % 2 ? "{\"verdict\":\"untrusted\"}" : "{\"verdict\":\"trusted\"}";
		ok_ret(-(ops->begin(s) || ops->result_append(s, &row, &seq) || ops->commit(s)),
		       "result %d appended", i + 1);
	}
	ok(store_seq(s, seq) == 5, "sequence numbers from 1");
	{
		uint64_t states[_STORE_AGENT_STATE_MAX];
		struct store_agent b = a;

		snprintf(b.id, sizeof(b.id), "a2");
		ok_ret(-(ops->begin(s) || ops->agent_put(s, &b) || ops->commit(s)), "agent a2");
		ok_ret(ops->agent_states(s, states), "agent states");
		/* p1, the pull agent above, never attested either */
		ok(states[STORE_AGENT_TRUSTED] == 1 && states[STORE_AGENT_REGISTERED] == 2 &&
			   states[STORE_AGENT_UNTRUSTED] == 0 && states[STORE_AGENT_ERROR] == 0,
		   "a1 by its newest row (trusted), a2 and p1 registered");
		row.agent = "a2";
		row.verdict = "untrusted";
		ok_ret(-(ops->begin(s) || ops->result_append(s, &row, &seq) || ops->commit(s)),
		       "a result for a2");
		ok_ret(ops->agent_states(s, states), "agent states");
		ok(states[STORE_AGENT_TRUSTED] == 1 && states[STORE_AGENT_UNTRUSTED] == 1 &&
			   states[STORE_AGENT_REGISTERED] == 1,
		   "a2 untrusted by its newest row");
		row.agent = "a1";
		row.verdict = "trusted";
	}
}

/* states, the outbox and the webhooks' cursors */
static void test_outbox(struct store *s)
{
	const struct store_ops *ops = s->ops;
	uint64_t count = 0;
	struct store_status ss = { .state = "trusted", .deadline = 100, .since = 5 }, gss;
	struct store_event ev = { .time = 7, .type = "trusted", .agent = "a1",
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
	ok_ret(ops->outbox_append(s, &ev), "event appended");
	ops->rollback(s);
	ok_err(ops->status_get(s, "a1", &gss), -ENOENT, "a rolled-back status is gone");
	ok_ret(-(ops->outbox_pending(s, 0, 4, got, &ne) || ne != 0),
	       "and so is its event");
	ok_ret(-(ops->begin(s) || ops->status_put(s, "a1", &ss) ||
		 ops->outbox_append(s, &ev) || ops->commit(s)),
	       "status and event in one transaction");
	ok(store_seq(s, ev.seq) == 1, "the first event is id 1");
	ok_ret(ops->status_get(s, "a1", &gss), "status get");
	ok(strcmp(gss.state, "trusted") == 0 && gss.deadline == 100 && gss.since == 5,
	   "the status round-trips");
	ev.result = 0;
	snprintf(ev.type, sizeof(ev.type), "overdue");
	ok_ret(-(ops->begin(s) || ops->outbox_append(s, &ev) || ops->commit(s)),
	       "a second event");
	ok(store_seq(s, ev.seq) == 2, "id 2");
	ok_ret(ops->outbox_pending(s, 0, 4, got, &ne), "pending after 0");
	ok(ne == 2 && got[0].seq == 1 && got[1].seq == 2 && got[0].result == 3 &&
		   got[1].result == 0 && strcmp(got[0].reason, ev.reason) == 0 &&
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

/* SQLite: the triggers and the hash chain against edits through SQL */
static void test_sqlite_tamper(const char *path)
{
	const struct store_ops *ops = &store_sqlite_ops;
	struct store *s = NULL;
	struct store_agent g = { 0 };
	uint64_t rows = 0, bad = 0, seq = 0;

	raw(path, "UPDATE results SET verdict = 'x' WHERE seq = 2");
	ok_ret(ops->open(path, 0, &s), "reopen");
	ok_ret(ops->chain_verify(s, &rows, &bad), "UPDATE through SQL was refused by the trigger");
	ops->close(s);
	raw(path, "DROP TRIGGER results_no_update; UPDATE results SET body = '{}' WHERE seq = 3");
	ok_ret(ops->open(path, 0, &s), "reopen");
	ok_err(ops->chain_verify(s, &rows, &bad), -EKEYREJECTED, "an edited row breaks the chain");
	ok(bad == 3, "at row 3");
	ops->close(s);
	raw(path, "UPDATE results SET body = '{\"verdict\":\"trusted\"}' WHERE seq = 3; "
		  "DROP TRIGGER results_no_delete; DELETE FROM results WHERE seq = 4");
	ok_ret(ops->open(path, 0, &s), "reopen");
	ok_err(ops->chain_verify(s, &rows, &bad), -EKEYREJECTED, "a deleted row breaks the chain");
	ok(bad == 5, "found at the row after it");
	ok_ret(ops->agent_get(s, "a1", &g), "the agent survived the reopen");
	store_agent_clear(&g);
	ok_ret(-(ops->outbox_last(s, &seq) || seq != 2), "the events survived the reopen");
	ops->close(s);
}

/* a version 4 database (before states and events) is migrated in place */
static bool test_migrate_v4(const char *path)
{
	const struct store_ops *ops = &store_sqlite_ops;
	struct store *s = NULL;
	struct store_agent g = { 0 };
	uint64_t seq = 0;

	raw(path, downgrade[7]);
	raw(path, "DROP TABLE agent_status; DROP TABLE outbox; DROP TABLE webhooks; "
		  "ALTER TABLE agents DROP COLUMN ek_certified; "
		  "ALTER TABLE enrollments DROP COLUMN ek_certified; "
		  "PRAGMA user_version = 4");
	s = NULL;
	ok_ret(ops->open(path, 0, &s), "a version 4 database opens");
	if (!s)
		return false;
	ok_ret(-(ops->outbox_last(s, &seq) || seq != 0), "with an empty outbox");
	ok_ret(ops->agent_get(s, "a1", &g), "and its agents");
	store_agent_clear(&g);
	ops->close(s);
	return true;
}

/* a version 1 database (before enrollment) is migrated, its agents kept */
static bool test_migrate_v1(const char *dir, const struct store_enrollment *e)
{
	const struct store_ops *ops = &store_sqlite_ops;
	struct store *s = NULL;
	struct store_agent g = { 0 };
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "%s/v1", dir);
	raw(cmd, "CREATE TABLE agents (id TEXT PRIMARY KEY, ak BLOB NOT NULL, ak_fpr TEXT NOT NULL,"
		 " registered INTEGER NOT NULL, reference TEXT NOT NULL);"
		 "CREATE TABLE states (agent TEXT PRIMARY KEY, state TEXT NOT NULL,"
		 " reset_count INTEGER NOT NULL, restart_count INTEGER NOT NULL);"
		 "CREATE TABLE nonces (agent TEXT PRIMARY KEY, nonce BLOB NOT NULL,"
		 " deadline INTEGER NOT NULL);"
		 "CREATE TABLE results (seq INTEGER PRIMARY KEY, agent TEXT NOT NULL,"
		 " time INTEGER NOT NULL, verdict TEXT NOT NULL, body TEXT NOT NULL,"
		 " hash BLOB NOT NULL);"
		 "INSERT INTO agents VALUES ('old', x'010203', 'f', 7, 'default');"
		 "PRAGMA user_version = 1;");
	s = NULL;
	ok_ret(ops->open(cmd, 0, &s), "a version 1 database opens");
	if (!s)
		return false;
	ok_ret(ops->agent_get(s, "old", &g), "its agent is still there");
	ok(g.ak_len == 3 && g.registered == 7 && g.ek_fpr[0] == '\0',
	   "with an empty EK fingerprint");
	store_agent_clear(&g);
	ok_ret(-(ops->begin(s) || ops->enrollment_put(s, e) || ops->commit(s)),
	       "the migrated database takes enrollments");
	ops->close(s);
	ok_ret(ops->open(cmd, 0, &s), "and reopens at the current version");
	ops->close(s);
	unlink_db(cmd);
	return true;
}

/* a schema version newer than this build */
static void test_unknown_version(const char *path)
{
	const struct store_ops *ops = &store_sqlite_ops;
	struct store *s = NULL;

	raw(path, "PRAGMA user_version = 99");
	ok_err(ops->open(path, 0, &s), -EPROTO, "an unknown schema version is refused");
	s = NULL;
	ok_ret(ops->open(path, STORE_OPEN_NO_MIGRATE, &s), "opened without migrating");
	if (s) {
		int v = 0, latest = 0;

		ok_ret(ops->schema_version(s, &v, &latest), "its schema version is read");
		ok(v == 99 && latest == 7, "99, newer than this build's 7");
		ops->close(s);
	}
}

/* a version 2 database (enrollment, before pull mode): its agents become push agents */
static bool test_migrate_v2(const char *path)
{
	const struct store_ops *ops = &store_sqlite_ops;
	struct store *s = NULL;
	struct store_agent g = { 0 };

	raw(path, "PRAGMA user_version = 7");
	raw(path, downgrade[7]);
	raw(path, "ALTER TABLE agents DROP COLUMN url; ALTER TABLE agents DROP COLUMN mode; "
		  "DROP TABLE reference_names; DROP TABLE reference_docs; DROP INDEX results_agent; "
		  "DROP TABLE agent_status; DROP TABLE outbox; DROP TABLE webhooks; "
		  "ALTER TABLE agents DROP COLUMN ek_certified; "
		  "ALTER TABLE enrollments DROP COLUMN ek_certified; "
		  "PRAGMA user_version = 2");
	s = NULL;
	ok_ret(ops->open(path, 0, &s), "a version 2 database is migrated");
	if (!s)
		return false;
	ok_ret(ops->agent_get(s, "a1", &g), "its agent survived");
	ok(strcmp(g.mode, "push") == 0 && g.url[0] == '\0', "as a push agent");
	store_agent_clear(&g);
	ops->close(s);
	return true;
}

/* a version 1 database (before named reference values) migrates in place */
static void test_migrate_v1_references(const char *dir)
{
	const struct store_ops *ops = &store_sqlite_ops;
	struct store *s = NULL;
	struct store_agent g = { 0 };
	char path[64];
	
	snprintf(path, sizeof(path), "%s/v1", dir);

	raw(path, "CREATE TABLE agents (id TEXT PRIMARY KEY, ak BLOB NOT NULL, ak_fpr TEXT NOT NULL,"
		  " registered INTEGER NOT NULL, reference TEXT NOT NULL);"
		  "CREATE TABLE states (agent TEXT PRIMARY KEY REFERENCES agents(id), state TEXT NOT NULL,"
		  " reset_count INTEGER NOT NULL, restart_count INTEGER NOT NULL);"
		  "CREATE TABLE nonces (agent TEXT PRIMARY KEY REFERENCES agents(id), nonce BLOB NOT NULL,"
		  " deadline INTEGER NOT NULL);"
		  "CREATE TABLE results (seq INTEGER PRIMARY KEY, agent TEXT NOT NULL, time INTEGER NOT NULL,"
		  " verdict TEXT NOT NULL, body TEXT NOT NULL, hash BLOB NOT NULL);"
		  "INSERT INTO agents VALUES ('old', x'01', 'f', 1, 'default');"
		  "PRAGMA user_version = 1;");
	ok_ret(ops->open(path, 0, &s), "a version 1 database opens");
	ok_ret(ops->agent_get(s, "old", &g), "its agent survived the migration");
	store_agent_clear(&g);
	ok_ret(-(ops->begin(s) || ops->reference_put(s, "r", "00", "{}", 1) || ops->commit(s)),
	       "and it has the reference tables");
	ops->close(s);
	s = NULL;
	ok_ret(ops->open(path, 0, &s), "reopened at version 2");
	ops->close(s);
	unlink_db(path);
}

int main(void)
{
	char dir[] = "/tmp/vouch-store.XXXXXX", path[64];
	const struct store_ops *ops = &store_sqlite_ops;
	struct store *s = NULL;
	struct store_agent a = { .ak_len = 3, .registered = 1 };
	struct store_enrollment e = { .ak_len = 3, .deadline = 42 };
	uint8_t ak[3] = { 1, 2, 3 };
	uint64_t rows = 0, bad = 0;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/db", dir);
	/* the same cases on PostgreSQL (test-store-pg.sh), each from an empty database */
	pg_dsn = getenv("VOUCH_TEST_PG_DSN");
	if (pg_dsn && *pg_dsn) {
		if (!store_pg_ops) {
			tap_skip("VOUCH_TEST_PG_DSN is set but this build has no libpq");
			rmdir(dir);
			return tap_done();
		}
		ops = store_pg_ops;
		pg_reset();
	} else {
		pg_dsn = NULL;
	}
	ok_ret(ops->open(pg_dsn ? pg_dsn : path, 0, &s), "open and migrate a new database");
	snprintf(a.id, sizeof(a.id), "a1");
	snprintf(a.ak_fpr, sizeof(a.ak_fpr), "%064d", 0);
	snprintf(a.reference, sizeof(a.reference), "default");
	snprintf(a.ek_fpr, sizeof(a.ek_fpr), "%064d", 1);
	a.ek_certified = true;
	a.ak = ak;
	test_agents(s, &a, ak);
	test_batch(s, &a, path);
	test_state_nonce(s);
	test_enrollments(s, &e, ak);
	test_results(s, &a);
	test_outbox(s);
	ok_ret(ops->chain_verify(s, &rows, &bad), "the chain verifies");
	ok(rows == 6, "over 6 rows");
	fleet(s, &a);
	ops->close(s);
	s = NULL;
	if (pg_dsn) {
		rmdir(dir);
		return pg_more();
	}

	test_sqlite_tamper(path);
	if (!test_migrate_v4(path) || !test_migrate_v1(dir, &e))
		return tap_done();
	test_unknown_version(path);
	if (!test_migrate_v2(path))
		return tap_done();
	test_migrate_v1_references(dir);

	nodes(dir);
	retention(dir);
	backup_live(dir);
	migrations(dir);

	unlink_db(path);
	rmdir(dir);
	return tap_done();
}
