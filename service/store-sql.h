/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouchd storage: the statements SQLite and PostgreSQL run with the same text.  Parameters
 * are numbered $N as PostgreSQL has them; store-sqlite.c makes them SQLite's ?N when it
 * prepares them.  Each backend's own statements stay in its file.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCHD_STORE_SQL_H
#define VOUCHD_STORE_SQL_H

#define SQL_AGENT_GET \
	"SELECT ak, ak_fpr, registered, reference, ek_fpr, mode, url, " \
	"ek_certified FROM agents WHERE id = $1"
#define SQL_AGENT_PUT \
	"INSERT INTO agents (id, ak, ak_fpr, registered, reference, ek_fpr, mode, " \
	"url, ek_certified) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) " \
	"ON CONFLICT (id) DO UPDATE SET ak = $2, ak_fpr = $3, registered = $4, " \
	"reference = $5, ek_fpr = $6, mode = $7, url = $8, ek_certified = $9"
#define SQL_AGENT_COUNT \
	"SELECT count(*) FROM agents"
#define SQL_PULL_LIST \
	"SELECT id, url FROM agents WHERE mode = 'pull' AND url IS NOT NULL " \
	"ORDER BY id"
#define SQL_STATE_GET \
	"SELECT state, reset_count, restart_count FROM states WHERE agent = $1"
#define SQL_STATE_PUT \
	"INSERT INTO states (agent, state, reset_count, restart_count) " \
	"VALUES ($1, $2, $3, $4) ON CONFLICT (agent) DO UPDATE SET " \
	"state = $2, reset_count = $3, restart_count = $4"
#define SQL_NONCE_PUT \
	"INSERT INTO nonces (agent, nonce, deadline) VALUES ($1, $2, $3) " \
	"ON CONFLICT (agent) DO UPDATE SET nonce = $2, deadline = $3"
#define SQL_ENROLL_PUT \
	"INSERT INTO enrollments (agent, ak, ak_fpr, ek_fpr, secret_hash, csr, " \
	"deadline, ek_certified) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) " \
	"ON CONFLICT (agent) DO UPDATE SET ak = $2, ak_fpr = $3, ek_fpr = $4, " \
	"secret_hash = $5, csr = $6, deadline = $7, ek_certified = $8"
#define SQL_ENROLL_PURGE \
	"DELETE FROM enrollments WHERE deadline < $1"
#define SQL_ENROLL_COUNT \
	"SELECT count(*) FROM enrollments"
#define SQL_ANCHOR_GET \
	"SELECT hash FROM anchors WHERE seq = $1"
#define SQL_AGENT_LIST \
	"SELECT a.id, a.registered, a.reference, s.state, " \
	"r.seq, r.time, r.verdict FROM agents a " \
	"LEFT JOIN states s ON s.agent = a.id " \
	"LEFT JOIN results r ON r.seq = (SELECT max(seq) FROM results " \
	"WHERE agent = a.id AND time >= a.registered) " \
	"WHERE a.id > $1 ORDER BY a.id LIMIT $2"
#define SQL_AGENT_DEL_NONCE \
	"DELETE FROM nonces WHERE agent = $1"
#define SQL_AGENT_DEL_STATE \
	"DELETE FROM states WHERE agent = $1"
#define SQL_AGENT_DEL_STATUS \
	"DELETE FROM agent_status WHERE agent = $1"
#define SQL_AGENT_DEL \
	"DELETE FROM agents WHERE id = $1"
#define SQL_REF_DOC_PUT \
	"INSERT INTO reference_docs (hash, body) VALUES ($1, $2) " \
	"ON CONFLICT (hash) DO NOTHING"
#define SQL_REF_NAME_PUT \
	"INSERT INTO reference_names (name, hash, updated) VALUES ($1, $2, $3) " \
	"ON CONFLICT (name) DO UPDATE SET hash = $2, updated = $3"
#define SQL_REF_GET \
	"SELECT n.hash, n.updated, d.body FROM reference_names n " \
	"JOIN reference_docs d ON d.hash = n.hash WHERE n.name = $1"
#define SQL_REF_LIST \
	"SELECT name, hash, updated FROM reference_names ORDER BY name"
#define SQL_AGENT_SET_REF \
	"UPDATE agents SET reference = $2 WHERE id = $1"
#define SQL_AGENT_RESULTS \
	"SELECT r.seq, r.time, r.verdict, r.body FROM results r " \
	"JOIN agents a ON a.id = r.agent WHERE r.agent = $1 " \
	"AND r.time >= a.registered ORDER BY r.seq DESC LIMIT $2"
#define SQL_STATUS_GET \
	"SELECT state, deadline, since FROM agent_status WHERE agent = $1"
#define SQL_STATUS_PUT \
	"INSERT INTO agent_status (agent, state, deadline, since) " \
	"VALUES ($1, $2, $3, $4) ON CONFLICT (agent) DO UPDATE SET " \
	"state = $2, deadline = $3, since = $4"
#define SQL_STATUS_DUE \
	"SELECT agent FROM agent_status WHERE state <> 'overdue' AND deadline > 0 " \
	"AND deadline < $1 ORDER BY deadline LIMIT $2"
#define SQL_STATUS_COUNT \
	"SELECT count(*) FROM agent_status WHERE state = $1"
#define SQL_OUTBOX_LAST \
	"SELECT coalesce(max(seq), 0) FROM outbox"
#define SQL_OUTBOX_PENDING \
	"SELECT seq, time, type, agent, from_state, to_state, result, reason " \
	"FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2"
#define SQL_WEBHOOK_GET \
	"SELECT delivered, attempts, next_attempt FROM webhooks WHERE url = $1"
#define SQL_WEBHOOK_FAILED \
	"INSERT INTO webhooks (url, delivered, attempts, next_attempt) " \
	"VALUES ($1, 0, $2, $3) ON CONFLICT (url) DO UPDATE SET " \
	"attempts = $2, next_attempt = $3"
#define SQL_LEASE_HELD \
	"SELECT id, url FROM agents WHERE mode = 'pull' AND url IS NOT NULL AND " \
	"lease_node = $1 AND lease_until > $2 ORDER BY id"
#define SQL_LEASE_RELEASE \
	"UPDATE agents SET lease_node = NULL, lease_until = 0 " \
	"WHERE lease_node = $1"
#define SQL_DUTY_RELEASE \
	"DELETE FROM duties WHERE node = $1"

#endif /* VOUCHD_STORE_SQL_H */
