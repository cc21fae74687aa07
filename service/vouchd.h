/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouchd internals shared by its source files: the configuration, the server's state
 * and the request helpers (vouchd-http.c).  Endpoints live one group per file
 * (vouchd-agents.c); vouchd.c has the router, TLS setup and main().
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCHD_H
#define VOUCHD_H

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <vouch/attest.h>
#include <vouch/ctx.h>
#include <vouch/evidence.h>
#include <vouch/key.h>
#include <vouch/quote.h>

#include "cleanup.h"
#include "config.h"
#include "store.h"
#include "vouchd-request.h"

#define NONCE_LEN 32
#define EXIT_USAGE 2
#define EXIT_RUNTIME 3

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(json_object *, json_putp, json_object_put)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(struct vouch_evidence *, evidence_freep, vouch_evidence_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(struct vouch_attest_result *, result_freep,
				 vouch_attest_result_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_ak *, ak_freep, vouch_ak_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(X509 *, x509_freep, X509_free)

struct config {
	const char *listen;
	const char *db;
	const char *tls_cert;
	const char *tls_key;
	const char *client_ca;
	const char *trust;
	const char *reference;
	const char *pcrs;
	uint32_t nonce_ttl;
	uint32_t max_connections; /* open connections; more are closed at once */
	uint32_t handshake_timeout; /* s from accept to the first complete request */
	uint32_t agent_rate; /* attestations per second and agent; more: 429 */
	uint32_t max_rate; /* attestations per second in all; more: 503 */
	bool verify_chain;
};

/* Prometheus histogram buckets (seconds) of each phase of an attestation */
#define N_BUCKETS 8
extern const double buckets[N_BUCKETS];
enum { PHASE_PARSE, PHASE_VERIFY, PHASE_STORE, PHASE_COMMIT, _PHASE_MAX };
extern const char *const phase_names[_PHASE_MAX];

struct histogram {
	uint64_t counts[N_BUCKETS];
	uint64_t n;
	double sum;
};

/* vouchd-cache.c: the agents' decoded AKs and states, bounded */
#define CACHE_SLOTS 4096
struct agent_cache;
int agent_cache_new(struct agent_cache **ret);
void agent_cache_free(struct agent_cache *c);
void agent_cache_stats(const struct agent_cache *c, uint64_t *hits, uint64_t *misses);
int agent_cache_ak(struct agent_cache *c, vouch_ctx *ctx, const struct store_agent *a,
		   const vouch_ak **ret);
int agent_cache_state(struct agent_cache *c, vouch_ctx *ctx, const char *id, const char *json,
		      struct vouch_attest_state *ret);
void agent_cache_state_put(struct agent_cache *c, const char *id, const char *json,
			   const struct vouch_attest_state *st);

struct server {
	struct config cfg;
	struct agent_cache *cache;
	vouch_ctx *ctx;
	struct store *store;
	vouch_trust *trust;
	vouch_attest_reference *reference;
	struct vouch_pcrs pcrs;
	SSL_CTX *ssl;
	struct event_base *base;
	uint64_t attest_trusted, attest_untrusted, attest_error, rejected;
	uint64_t connections, shed, timed_out;
	int conn_index; /* SSL ex_data: the connection's struct conn */
	struct rate { char id[STORE_ID_MAX + 1]; int64_t second; uint32_t n; } *rates;
	int64_t global_second;
	uint32_t global_n;
	/* group commit (vouchd-http.c) */
	struct event *flush;
	bool batch_open;
	double batch_t0;
	struct pending { struct evhttp_request *req; int code; char *text; } *pending;
	size_t n_pending, size_pending;
	struct histogram phase[_PHASE_MAX];
};

double now_mono(void);
void observe(struct server *srv, int phase, double seconds);
void reply_json(struct server *srv, struct evhttp_request *req, int code, json_object *o);
int store_begin(struct server *srv);
void flush_batch(evutil_socket_t fd, short what, void *arg);
/* a refused request: one line of reason, nothing stored */
__attribute__((format(printf, 4, 5)))
void refuse(struct server *srv, struct evhttp_request *req, int code, const char *fmt, ...);
json_object *hex_json(const uint8_t *buf, size_t len);
char *request_body(struct server *srv, struct evhttp_request *req, size_t *ret_len);
bool cert_names(X509 *cert, const char *id);
int require_agent(struct server *srv, struct evhttp_request *req, const char *id);

/* vouchd.c: a request arrived complete on its connection: its deadline moves on */
void conn_request_seen(struct server *srv, struct evhttp_request *req);
/* 0, or refuses the request (429 / 503 with Retry-After) */
int rate_check(struct server *srv, struct evhttp_request *req, const char *id);

/* vouchd-agents.c: the agents' endpoints */
void do_register(struct server *srv, struct evhttp_request *req, const char *id);
void do_nonce(struct server *srv, struct evhttp_request *req, const char *id);
void do_attest(struct server *srv, struct evhttp_request *req, const char *id);
void do_verify(struct server *srv, struct evhttp_request *req);

#endif
