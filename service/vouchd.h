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

#define MAX_BODY (8U << 20) /* evidence with a long first list: a few MiB */
#define MAX_DEPTH 8 /* the request documents nest 3 levels; evidence is parsed by libvouch */
#define NONCE_LEN 32
#define EXIT_USAGE 2
#define EXIT_RUNTIME 3
#define MAX_WEBHOOKS 8

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
	const char *operator_ca; /* CAs of the operators' client certificates, or NULL */
	const char *trust;
	const char *reference;
	const char *pcrs;
	uint32_t nonce_ttl;
	uint32_t interval; /* s: the agents' expected attestation period */
	uint32_t grace; /* s: how late an attestation may be before the agent is overdue */
	const char *webhooks[MAX_WEBHOOKS];
	size_t n_webhooks;
	const char *webhook_secret;
	bool verify_chain;
};

/* Prometheus histogram buckets (seconds) of each phase of an attestation */
#define N_BUCKETS 8
extern const double buckets[N_BUCKETS];
enum { PHASE_PARSE, PHASE_VERIFY, PHASE_STORE, _PHASE_MAX };
extern const char *const phase_names[_PHASE_MAX];

struct histogram {
	uint64_t counts[N_BUCKETS];
	uint64_t n;
	double sum;
};

struct server {
	struct config cfg;
	vouch_ctx *ctx;
	struct store *store;
	vouch_trust *trust;
	vouch_attest_reference *reference;
	struct vouch_pcrs pcrs;
	SSL_CTX *ssl;
	/* who may act as what: each role's certificates chain to its own CAs only */
	X509_STORE *agent_cas, *operator_cas;
	struct event_base *base;
	uint64_t attest_trusted, attest_untrusted, attest_error, rejected;
	struct histogram phase[_PHASE_MAX];
	struct notify *notify; /* vouchd-notify.c */
};

double now_mono(void);
void observe(struct server *srv, int phase, double seconds);
void reply_json(struct evhttp_request *req, int code, json_object *o);
/* a refused request: one line of reason, nothing stored */
__attribute__((format(printf, 4, 5)))
void refuse(struct server *srv, struct evhttp_request *req, int code, const char *fmt, ...);
json_object *hex_json(const uint8_t *buf, size_t len);
char *request_body(struct server *srv, struct evhttp_request *req, size_t *ret_len);
json_object *parse_request(const char *body, size_t len, char *err, size_t err_size);
int b64_decode(const char *s, uint8_t **ret, size_t *ret_len);
int hex_decode(const char *s, uint8_t *buf, size_t size, size_t *ret_len);
int check_keys(json_object *o, const char *const *keys, char *err, size_t err_size);
bool valid_id(const char *id, size_t n);
bool cert_names(X509 *cert, const char *id);
int require_agent(struct server *srv, struct evhttp_request *req, const char *id);
/* 0 when the client certificate chains to --operator-ca; else refuses the request */
int require_operator(struct server *srv, struct evhttp_request *req);
X509_STORE *load_ca_store(const char *path);

/* vouchd-agents.c: the agents' endpoints */
void do_register(struct server *srv, struct evhttp_request *req, const char *id);
void do_nonce(struct server *srv, struct evhttp_request *req, const char *id);
void do_attest(struct server *srv, struct evhttp_request *req, const char *id);
void do_verify(struct server *srv, struct evhttp_request *req);

/* vouchd-notify.c: agent states, the outbox, webhooks, event streams, the watchdog */
/*
 * Inside a store transaction: move agent @id to state @to ("enrolled", "trusted",
 * "untrusted", "overdue"), set its next deadline (now + interval + grace; overdue keeps the
 * old one) and append the event the move means, if any (same state: none).  @result is the
 * results row behind it (0: none).  @ret, if not NULL, receives the new status.
 */
int agent_transition(struct server *srv, const char *id, const char *to, uint64_t result,
		     const char *reason, int64_t now, struct store_status *ret);
/* after a commit that may have appended events: stream and deliver them */
void notify_committed(struct server *srv);
void notify_metrics(struct server *srv, struct evbuffer *b);
int notify_start(struct server *srv);
void notify_stop(struct server *srv);
int webhook_url_check(const char *url);
/* GET /v1/events: the outbox as text/event-stream (operators only) */
void do_events(struct server *srv, struct evhttp_request *req);

#endif
