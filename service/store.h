/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouchd storage: one interface, one file per backend (store-sqlite.c; PostgreSQL later).
 *
 * A backend fills a struct store_ops; callers only use the inline wrappers below.  Every
 * function returns 0 or a negative errno: -ENOENT when a record does not exist, -EIO for a
 * database failure (the backend logs the database's message to stderr), -ENOMEM.
 * Writes happen between begin() and commit(); rollback() discards them.  All state changes
 * of one attestation (nonce consumed, new state, next nonce, result row) go in ONE
 * transaction, or, between batch_begin() and batch_commit() (group commit), in one
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

/* an agent's registration; @ak is owned by the record (store_agent_clear()) */
struct store_agent {
	char id[STORE_ID_MAX + 1];
	uint8_t *ak; /* TPM2B_PUBLIC, or PEM/DER SubjectPublicKeyInfo */
	size_t ak_len;
	char ak_fpr[65]; /* hex SHA-256 of the AK's PEM, as struct vouch_attest_state.ak */
	int64_t registered; /* Unix time */
	char reference[STORE_ID_MAX + 1]; /* reference-values id, "default" */
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

struct store;

struct store_ops {
	const char *name;
	/* open (creating and migrating the schema) @dsn; a path for sqlite */
	int (*open)(const char *dsn, struct store **ret);
	void (*close)(struct store *s);
	/* group commit: one transaction around many; begin/commit/rollback then only mark
	 * (savepoints) and batch_commit() makes them all durable at once, or none */
	int (*batch_begin)(struct store *s);
	int (*batch_commit)(struct store *s);
	int (*begin)(struct store *s);
	int (*commit)(struct store *s);
	void (*rollback)(struct store *s);
	int (*agent_get)(struct store *s, const char *id, struct store_agent *ret);
	int (*agent_put)(struct store *s, const struct store_agent *a);
	int (*agent_count)(struct store *s, uint64_t *ret);
	int (*state_get)(struct store *s, const char *id, struct store_state *ret);
	int (*state_put)(struct store *s, const char *id, const struct store_state *st);
	int (*nonce_put)(struct store *s, const char *id, const struct store_nonce *n);
	/* return and delete the agent's nonce (single use); -ENOENT when there is none */
	int (*nonce_take)(struct store *s, const char *id, struct store_nonce *ret);
	/* append a row: hash = SHA-256(prev_hash || the row's fields, length-prefixed) */
	int (*result_append)(struct store *s, const struct store_result *r, uint64_t *ret_seq);
	/* recompute the chain: 0 intact, -EKEYREJECTED and *ret_bad = first bad row's seq */
	int (*chain_verify)(struct store *s, uint64_t *ret_rows, uint64_t *ret_bad);
};

struct store {
	const struct store_ops *ops;
};

extern const struct store_ops store_sqlite_ops;

/*
 * The hash of one results row: SHA-256(prev || seq || agent || time || verdict || body), each
 * field with a 64-bit big-endian length (numbers as 8 big-endian bytes).  Shared by every
 * backend so that a chain moved between backends still verifies (store-chain.c).
 */
int store_row_hash(const uint8_t prev[STORE_HASH_SIZE], uint64_t seq, const char *agent,
		   int64_t time, const char *verdict, const char *body,
		   uint8_t ret[STORE_HASH_SIZE]);

static inline void store_agent_clear(struct store_agent *a)
{
	free(a->ak);
	a->ak = NULL;
}

static inline void store_state_clear(struct store_state *st)
{
	free(st->state_json);
	st->state_json = NULL;
}

#endif
