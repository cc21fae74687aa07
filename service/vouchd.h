/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouchd internals shared by its source files: the configuration, the server's state
 * and the request helpers (vouchd-http.c).  Endpoints live one group per file
 * (vouchd-agents.c, vouchd-enroll.c); vouchd.c has the router, TLS setup and main().
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
#include "conf.h"
#include "config.h"
#include "store.h"
#include "vouchd-request.h"

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
	const char *ear_key;
	const char *config;
	char *conf_buf; /* the configuration file's text, which the strings above may point into */
	uint32_t nonce_ttl;
	uint32_t max_connections; /* open connections; more are closed at once */
	uint32_t handshake_timeout; /* s from accept to the first complete request */
	uint32_t agent_rate; /* attestations per second and agent; more: 429 */
	uint32_t cache_agents; /* agents whose decoded AK and state are kept (vouchd-cache.c) */
	uint32_t db_connections; /* PostgreSQL: commits in flight while the next round runs */
	uint32_t max_rate; /* attestations per second in all; more: 503 */
	uint32_t interval; /* s: the agents' expected attestation period */
	uint32_t grace; /* s: how late an attestation may be before the agent is overdue */
	bool grace_set;
	const char *webhooks[MAX_WEBHOOKS];
	size_t n_webhooks;
	const char *webhook_secret;
	bool verify_chain;
	/* enrollment (vouchd-enroll.c) */
	const char *ek_ca;
	const char *agent_ca_cert;
	const char *agent_ca_key;
	uint32_t enroll_ttl;
	bool allow_ek_public;
	/* pull mode (vouchd-pull.c): the client certificate vouchd shows agents, the CA their
	 * server certificates chain to, the networks their URLs may point into, the period */
	const char *pull_cert;
	const char *pull_key;
	const char *pull_ca;
	char **pull_allow; /* CIDRs, n_pull_allow of them */
	size_t n_pull_allow;
	/* the pull rounds' period is @interval above: the agents' attestation period */
	uint32_t pull_timeout; /* seconds for one fetch, connection to last byte */
	/* several nodes over one database: this node's name in leases and duties */
	const char *node_id;
	char node_buf[STORE_ID_MAX + 1]; /* the default, hostname:pid */
	uint32_t retention_days; /* prune results older than this, daily; 0: keep all */
	bool check_config;
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

/* parsed reference values by the SHA-256 of their document (vouchd-admin.c) */
#define REF_CACHE_MAX 32
struct ref_cached {
	char hash[2 * STORE_HASH_SIZE + 1];
	vouch_attest_reference *ref;
	uint64_t used;
};

/* vouchd-cache.c: the agents' decoded AKs and states, bounded (--cache-agents) */
#define CACHE_AGENTS_DEFAULT 16384
#define DB_CONNECTIONS_DEFAULT 3
struct agent_cache;
int agent_cache_new(size_t capacity, struct agent_cache **ret);
size_t agent_cache_capacity(const struct agent_cache *c);
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
	/* who may act as what: each role's certificates chain to its own CAs only */
	X509_STORE *agent_cas, *operator_cas;
	vouch_trust *ek_cas;
	X509 *agent_ca;
	EVP_PKEY *agent_ca_key;
	struct event_base *base;
	uint64_t attest_trusted, attest_untrusted, attest_error, rejected;
	struct histogram phase[_PHASE_MAX];
	struct pull *pull; /* the poller, NULL without --pull-cert */
	uint64_t pull_fetches, pull_failures;
	struct histogram commit; /* st->ops->commit(), every endpoint */
	/* the attestation results' signing key (vouchd-ear.c) */
	EVP_PKEY *ear_key;
	char ear_kid[48]; /* its RFC 7638 thumbprint, base64url */
	json_object *ear_jwks;
	char *ear_pem;
	struct ref_cached ref_cache[REF_CACHE_MAX];
	uint64_t ref_tick;
	struct notify *notify; /* vouchd-notify.c */
	bool notify_pending; /* events appended in the open batch: announce after its commit */
	/* verdicts of the open batch (trusted, untrusted, error): counted once it committed */
	uint64_t batch_verdicts[3];
	/* connections (vouchd.c): count, closed for the cap or the deadline */
	int conn_index;
	uint64_t connections, shed, timed_out;
	/* rate limits (vouchd.c) */
	struct rate { char id[STORE_ID_MAX + 1]; int64_t second; uint32_t n; } *rates;
	int64_t global_second;
	uint32_t global_n;
	/* group commit (vouchd-http.c) */
	struct event *flush;
	bool batch_open;
	double batch_t0;
	struct pending { struct evhttp_request *req; int code; json_object *o; } *pending;
	size_t n_pending, size_pending;
	struct inflight *inflight; /* rounds whose COMMIT is in flight, oldest first */
};

double now_mono(void);
void observe(struct server *srv, int phase, double seconds);
void hist_observe(struct histogram *h, double seconds);
int store_commit(struct server *srv);
void reply_json(struct server *srv, struct evhttp_request *req, int code, json_object *o);
int store_begin(struct server *srv);
void flush_batch(evutil_socket_t fd, short what, void *arg);
void flush_reap(struct server *srv, bool wait);
void count_verdicts(struct server *srv, const uint64_t v[3]);
void conn_request_seen(struct server *srv, struct evhttp_request *req);
int rate_check(struct server *srv, struct evhttp_request *req, const char *id);
/* a refused request: one line of reason, nothing stored */
__attribute__((format(printf, 4, 5)))
void refuse(struct server *srv, struct evhttp_request *req, int code, const char *fmt, ...);
json_object *hex_json(const uint8_t *buf, size_t len);
char *request_body(struct server *srv, struct evhttp_request *req, size_t *ret_len);
int b64_decode(const char *s, uint8_t **ret, size_t *ret_len);
int hex_decode(const char *s, uint8_t *buf, size_t size, size_t *ret_len);
bool cert_names(X509 *cert, const char *id);
int require_agent(struct server *srv, struct evhttp_request *req, const char *id);
/* 0 when the client certificate chains to --operator-ca; else refuses the request */
int require_operator(struct server *srv, struct evhttp_request *req);
X509_STORE *load_ca_store(const char *path);

/* vouchd-agents.c: the agents' endpoints */
void do_mode(struct server *srv, struct evhttp_request *req, const char *id);
void do_nonce(struct server *srv, struct evhttp_request *req, const char *id);
void do_attest(struct server *srv, struct evhttp_request *req, const char *id);
void do_verify(struct server *srv, struct evhttp_request *req);
int new_nonce(struct server *srv, const char *id, struct store_nonce *ret);

/* why attest_evidence() refused: the HTTP status push answers with, a one-line reason */
struct attest_error {
	int code;
	char msg[512];
};

/*
 * Verify @ev from agent @id against its stored state and store the outcome, in ONE
 * transaction: the agent's nonce consumed, the new state (when trusted), the result row and,
 * for a push agent, its next nonce.  @expect is NULL for pushed evidence; the poller passes
 * the nonce it asked with, which must still be the agent's.  @resend: the agent sent this
 * again after a transport error (X-Vouch-Retry: 1); its own quote over a nonce already used
 * is then refused (409) instead of recorded as a replay.  @restart: the evidence says its
 * list restarted after ima.from_entry (a kexec); it is chained on the stored state only when
 * the quote's resetCount is the stored one, and replayed from entry 1 after a new boot.
 * 0 with *@ret the verdict document (trusted or not), or -EPERM with @e filled and nothing
 * changed.
 */
int attest_evidence(struct server *srv, const char *id, const struct vouch_evidence *ev,
		    const struct store_nonce *expect, bool resend, bool restart, json_object **ret,
		    struct attest_error *e);
/* the evidence document's optional "ima": { "restart": true } */
bool evidence_restart(const char *body, size_t len);

/* vouchd-pull.c: pull mode */
/* a registration's "mode" and "url" members: checked, copied into @a and removed from @o;
 * 0, or -EBADMSG (400) / -EPERM (403, a URL outside --pull-allow) with @err set */
int pull_registration(struct server *srv, json_object *o, struct store_agent *a, char *err,
		      size_t err_size);
int pull_start(struct server *srv);
/* --check-config: 0 when every --pull-allow value parses, else one line each to stderr */
int pull_allow_check(const struct config *c);
void pull_stop(struct server *srv);

/* vouchd-enroll.c: enrollment by credential activation, the agents' certificates */
int enroll_setup(struct server *srv);
void enroll_cleanup(struct server *srv);
void do_enroll(struct server *srv, struct evhttp_request *req, const char *id);
void do_activate(struct server *srv, struct evhttp_request *req, const char *id);

/* vouchd-ear.c: EAT attestation results (EAR), signed ES256 JWTs */
char *b64url(const uint8_t *buf, size_t len);
int es256_sign(EVP_PKEY *key, const char *input, uint8_t sig[64]);
int jwt_es256(EVP_PKEY *key, const char *kid, json_object *claims, char **ret);
int ear_setup(struct server *srv);
void ear_free(struct server *srv);
void do_ear_key(struct server *srv, struct evhttp_request *req, bool pem);
/* @genuine_tpm: the agent's AK was proven at enrollment to live next to a certified EK */
json_object *ear_claims(struct server *srv, const struct vouch_attest_result *res, const char *id,
			bool genuine_tpm, const uint8_t *nonce, size_t nonce_len, int64_t now);
int ear_attach(struct server *srv, const struct vouch_attest_result *res, const char *id,
	       bool genuine_tpm, const uint8_t *nonce, size_t nonce_len, char **verdict);

/* vouchd-admin.c: the operators' management API */
#define HISTORY_MAX 20 /* results shown per agent */
/* handles the request and returns true when @uri is one of the management API's or the
 * web page's */
bool admin_route(struct server *srv, struct evhttp_request *req, const char *uri);
/* the reference values named @name ("default": --reference, maybe NULL), parsed once per
 * document; -ENOENT for an unknown name */
int agent_reference(struct server *srv, const char *name, const vouch_attest_reference **ret);
void ref_cache_free(struct server *srv);
/* the fleet overview and one agent's record, as the API returns them; NULL on a store
 * failure (*ret_code 503) or an unknown agent (404) */
json_object *fleet_agents_json(struct server *srv, const char *after, int *ret_code);
/* agents per page of GET /v1/agents and of the fleet page: the answer's "next" is the id
 * to ask after (header X-Vouch-After; /fleet/after/ID) */
#define FLEET_PAGE 1000
json_object *fleet_agent_json(struct server *srv, const char *id, size_t limit, int *ret_code);
/* the failed checks of the agent's newest result: [ {check, detail} ], or NULL */
json_object *latest_failures_json(struct server *srv, const char *id);
const char *method_name(enum evhttp_cmd_type cmd);

/* vouchd-web.c: the fleet web page (operators only) */
/* the fleet page: counts of the whole fleet, the agents of one page after @after ("": the first) */
void do_web_fleet(struct server *srv, struct evhttp_request *req, const char *after);
void do_web_agent(struct server *srv, struct evhttp_request *req, const char *id);

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
/* --check-config: 0 when --webhook-secret @path is one vouchd would accept */
int webhook_secret_check(const char *path);
/* GET /v1/events: the outbox as text/event-stream (operators only) */
void do_events(struct server *srv, struct evhttp_request *req);

#endif
