// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * store-fill DSN N [AK-FILE]: a fleet of N agents in a vouchd database, through the store
 * interface (so the results chain is real): agent-0000000 ..., each registered with the AK
 * of AK-FILE (or three bytes), a state document, a status and one result row.  For the
 * memory tests (tests/service/test-vouchd-memory.sh) and benchmarks: what a node holds
 * must not grow with N.  Commits every 5000 agents.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

int main(int argc, char **argv)
{
	static uint8_t akbuf[1 << 14];
	const char *state = "{\"type\":\"vouch-attest-state\",\"version\":1,\"entries\":1200,"
			    "\"pcrs\":{\"sha256\":{\"10\":\"11111111111111111111111111111111"
			    "11111111111111111111111111111111\"}}}";
	struct store_agent a = { .ak = akbuf, .ak_len = 3, .reference = "default", .mode = "push" };
	struct store_state st = { .state_json = (char *)state };
	struct store_status ss = { .state = "trusted" };
	struct store_result row = { .verdict = "trusted", .body = "{\"verdict\":\"trusted\"}" };
	struct store *s = NULL;
	unsigned long n;
	int64_t now = (int64_t)time(NULL);
	uint64_t seq;
	int r = 0;

	if (argc < 3 || (n = strtoul(argv[2], NULL, 10)) == 0) {
		fprintf(stderr, "usage: store-fill DSN N [AK-FILE]\n");
		return 2;
	}
	if (argc > 3) {
		FILE *f = fopen(argv[3], "rb");

		if (!f) {
			fprintf(stderr, "store-fill: %s: %s\n", argv[3], strerror(errno));
			return 3;
		}
		a.ak_len = fread(akbuf, 1, sizeof(akbuf), f);
		fclose(f);
	}
	memset(a.ak_fpr, 'a', 64);
	if (store_open(argv[1], 0, &s) < 0) {
		fprintf(stderr, "store-fill: cannot open %s\n", argv[1]);
		return 3;
	}
	for (unsigned long i = 0; r == 0 && i < n; i++) {
		if (i % 5000 == 0 && (i ? s->ops->commit(s) : 0) == 0)
			r = s->ops->begin(s);
		snprintf(a.id, sizeof(a.id), "agent-%07lu", i);
		a.registered = now - 60;
		ss.deadline = now + 3600;
		ss.since = now - 30;
		row.agent = a.id;
		row.time = now - 30;
		if (r == 0)
			r = s->ops->agent_put(s, &a);
		if (r == 0)
			r = s->ops->state_put(s, a.id, &st);
		if (r == 0)
			r = s->ops->status_put(s, a.id, &ss);
		if (r == 0)
			r = s->ops->result_append(s, &row, &seq);
	}
	if (r == 0)
		r = s->ops->commit(s);
	else
		s->ops->rollback(s);
	s->ops->close(s);
	if (r < 0) {
		fprintf(stderr, "store-fill: %s\n", strerror(-r));
		return 3;
	}
	return 0;
}
