// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd: the attestation verifier service.  HTTPS with mutual TLS (libevent's evhttp over
 * bufferevent_openssl, TLS 1.3 only); agents enroll (their AK proven by credential activation
 * to live in a TPM whose EK certificate chains to the EK CAs, which earns them their client
 * certificate), fetch a nonce and push evidence carrying only the measurement-list entries
 * the service has not verified yet; every check is vouch_attest_verify()'s, incremental
 * against the state kept in the store.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "notify.h"
#include "tls-server.h"
#include "vouchd.h"

/* one histogram's series; @labels: 'name="value",' or "" */
static void put_histogram(struct evbuffer *b, const char *name, const char *labels,
			  const struct histogram *h)
{
	size_t n = strlen(labels);
	/* the labels without their trailing comma, for _sum and _count */
	int bare = n ? (int)n - 1 : 0;

	for (size_t i = 0; i < N_BUCKETS; i++)
		evbuffer_add_printf(b, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels, buckets[i],
				    (unsigned long long)h->counts[i]);
	evbuffer_add_printf(b, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels,
			    (unsigned long long)h->n);
	if (n) {
		evbuffer_add_printf(b, "%s_sum{%.*s} %.6f\n", name, bare, labels, h->sum);
		evbuffer_add_printf(b, "%s_count{%.*s} %llu\n", name, bare, labels,
				    (unsigned long long)h->n);
	} else {
		evbuffer_add_printf(b, "%s_sum %.6f\n%s_count %llu\n", name, h->sum, name,
				    (unsigned long long)h->n);
	}
}

/*
 * The Prometheus text format (0.0.4), checked by 'promtool check metrics' in the tests.
 * Names taken by other parts of vouchd, not defined here: vouchd_agents_overdue (gauge,
 * agents past their attestation interval) and vouchd_webhook_backlog (gauge, undelivered
 * notifications).
 */
/* from /proc/self/statm (pages); 0 when it cannot be read */
static unsigned long long resident_bytes(void)
{
	unsigned long long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%llu %llu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * (unsigned long long)sysconf(_SC_PAGESIZE);
}

static void do_metrics(struct server *srv, struct evhttp_request *req)
{
	static const char *const states[_STORE_AGENT_STATE_MAX] = {
		[STORE_AGENT_REGISTERED] = "registered", [STORE_AGENT_TRUSTED] = "trusted",
		[STORE_AGENT_UNTRUSTED] = "untrusted", [STORE_AGENT_ERROR] = "error",
	};
	uint64_t by_state[_STORE_AGENT_STATE_MAX] = { 0 };
	struct evbuffer *b = evbuffer_new();
	uint64_t agents = 0, hits, misses;
	bool db_ok;

	if (!b)
		return evhttp_send_error(req, HTTP_INTERNAL, NULL);
	db_ok = srv->store->ops->agent_count(srv->store, &agents) == 0 &&
		srv->store->ops->agent_states(srv->store, by_state) == 0;
	evbuffer_add_printf(b,
			    "# HELP vouchd_attestations_total Attestations by verdict.\n"
			    "# TYPE vouchd_attestations_total counter\n"
			    "vouchd_attestations_total{result=\"trusted\"} %llu\n"
			    "vouchd_attestations_total{result=\"untrusted\"} %llu\n"
			    "vouchd_attestations_total{result=\"error\"} %llu\n"
			    "# HELP vouchd_requests_refused_total Requests refused with a 4xx/5xx.\n"
			    "# TYPE vouchd_requests_refused_total counter\n"
			    "vouchd_requests_refused_total %llu\n"
			    "# HELP vouchd_pull_rounds_total Pull rounds started.\n"
			    "# TYPE vouchd_pull_rounds_total counter\n"
			    "vouchd_pull_rounds_total %llu\n"
			    "# HELP vouchd_pull_rounds_failed_total Pull rounds that judged no evidence.\n"
			    "# TYPE vouchd_pull_rounds_failed_total counter\n"
			    "vouchd_pull_rounds_failed_total %llu\n"
			    "# HELP vouchd_database_up Whether the last read of the database succeeded.\n"
			    "# TYPE vouchd_database_up gauge\n"
			    "vouchd_database_up %d\n"
			    "# HELP vouchd_agents Registered agents.\n"
			    "# TYPE vouchd_agents gauge\n"
			    "vouchd_agents %llu\n"
			    "# HELP vouchd_agents_by_state Registered agents by the verdict of their "
			    "last attestation (registered: none yet).\n"
			    "# TYPE vouchd_agents_by_state gauge\n",
			    (unsigned long long)srv->attest_trusted,
			    (unsigned long long)srv->attest_untrusted,
			    (unsigned long long)srv->attest_error, (unsigned long long)srv->rejected,
			    (unsigned long long)srv->pull_fetches, (unsigned long long)srv->pull_failures,
			    db_ok, (unsigned long long)agents);
	for (int i = 0; i < _STORE_AGENT_STATE_MAX; i++)
		evbuffer_add_printf(b, "vouchd_agents_by_state{state=\"%s\"} %llu\n", states[i],
				    (unsigned long long)by_state[i]);
	evbuffer_add_printf(b, "# HELP vouchd_phase_seconds Time per attestation phase.\n"
			       "# TYPE vouchd_phase_seconds histogram\n");
	for (int p = 0; p < _PHASE_MAX; p++) {
		char labels[64];

		snprintf(labels, sizeof(labels), "phase=\"%s\",", phase_names[p]);
		put_histogram(b, "vouchd_phase_seconds", labels, &srv->phase[p]);
	}
	evbuffer_add_printf(b, "# HELP vouchd_db_commit_seconds Time per database commit.\n"
			       "# TYPE vouchd_db_commit_seconds histogram\n");
	put_histogram(b, "vouchd_db_commit_seconds", "", &srv->commit);
	notify_metrics(srv, b); /* vouchd_agents_overdue, vouchd_webhook_backlog */
	agent_cache_stats(srv->cache, &hits, &misses);
	evbuffer_add_printf(b,
			    "# HELP vouchd_agent_cache_total Lookups of decoded AKs by outcome.\n"
			    "# TYPE vouchd_agent_cache_total counter\n"
			    "vouchd_agent_cache_total{result=\"hit\"} %llu\n"
			    "vouchd_agent_cache_total{result=\"miss\"} %llu\n"
			    "# HELP vouchd_agent_cache_capacity Agents whose decoded AK and state are kept.\n"
			    "# TYPE vouchd_agent_cache_capacity gauge\n"
			    "vouchd_agent_cache_capacity %llu\n"
			    "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
			    "# TYPE process_resident_memory_bytes gauge\n"
			    "process_resident_memory_bytes %llu\n"
			    "# HELP vouchd_connections Open client connections.\n"
			    "# TYPE vouchd_connections gauge\n"
			    "vouchd_connections %llu\n"
			    "# HELP vouchd_connections_closed_total Connections vouchd closed.\n"
			    "# TYPE vouchd_connections_closed_total counter\n"
			    "vouchd_connections_closed_total{reason=\"shed\"} %llu\n"
			    "vouchd_connections_closed_total{reason=\"deadline\"} %llu\n",
			    (unsigned long long)hits, (unsigned long long)misses,
			    (unsigned long long)agent_cache_capacity(srv->cache), resident_bytes(),
			    (unsigned long long)srv->connections, (unsigned long long)srv->shed,
			    (unsigned long long)(srv->timed_out - srv->shed));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void do_plain(struct evhttp_request *req, int code, const char *text)
{
	struct evbuffer *b = evbuffer_new();

	if (!b)
		return evhttp_send_error(req, HTTP_INTERNAL, NULL);
	evbuffer_add_printf(b, "%s\n", text);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
	evhttp_send_reply(req, code, code == 200 ? "OK" : "Unavailable", b);
	evbuffer_free(b);
}

static void route(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *uri = evhttp_request_get_uri(req);
	char id[STORE_ID_MAX + 1];
	const char *p, *slash;
	size_t n;

	conn_request_seen(srv, req);
	if (!uri || strchr(uri, '?') || strchr(uri, '%'))
		return refuse(srv, req, 400, "query strings and escapes are not accepted");
	if (strcmp(uri, "/healthz") == 0 && cmd == EVHTTP_REQ_GET)
		return do_plain(req, 200, "ok");
	if (strcmp(uri, "/readyz") == 0 && cmd == EVHTTP_REQ_GET) {
		uint64_t agents;

		return do_plain(req, srv->store->ops->agent_count(srv->store, &agents) == 0 ? 200 : 503,
				"ready");
	}
	if (strcmp(uri, "/metrics") == 0 && cmd == EVHTTP_REQ_GET)
		return do_metrics(srv, req);
	if (strcmp(uri, "/v1/ear/key") == 0 && cmd == EVHTTP_REQ_GET)
		return do_ear_key(srv, req, false);
	if (strcmp(uri, "/v1/ear/key.pem") == 0 && cmd == EVHTTP_REQ_GET)
		return do_ear_key(srv, req, true);
	if (strcmp(uri, "/v1/verify") == 0 && cmd == EVHTTP_REQ_POST)
		return do_verify(srv, req);
	if (strcmp(uri, "/v1/events") == 0 && cmd == EVHTTP_REQ_GET)
		return do_events(srv, req);
	if (admin_route(srv, req, uri))
		return;
	if (strncmp(uri, "/v1/agents/", 11) != 0)
		return refuse(srv, req, 404, "no such endpoint");
	p = uri + 11;
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : 0;
	if (!slash || !valid_id(p, n))
		return refuse(srv, req, 400, "invalid agent id (1-%d of [A-Za-z0-9._-])", STORE_ID_MAX);
	memcpy(id, p, n);
	id[n] = '\0';
	/* enrollment answers without a client certificate: the agent has none yet */
	if (strcmp(slash, "/enroll") == 0 && cmd == EVHTTP_REQ_POST)
		return do_enroll(srv, req, id);
	if (strcmp(slash, "/activate") == 0 && cmd == EVHTTP_REQ_POST)
		return do_activate(srv, req, id);
	if (strcmp(slash, "/mode") == 0 && cmd == EVHTTP_REQ_POST)
		return do_mode(srv, req, id);
	if (strcmp(slash, "/nonce") == 0 && cmd == EVHTTP_REQ_GET)
		return do_nonce(srv, req, id);
	if (strcmp(slash, "/attest") == 0 && cmd == EVHTTP_REQ_POST)
		return do_attest(srv, req, id);
	refuse(srv, req, 404, "no such endpoint");
}

/* --- setup ----------------------------------------------------------------------------- */

/*
 * Every accepted connection: a struct conn hung on its SSL (ex_data, released with it, so
 * with the connection).  evhttp's timeout is per read: a client sending one byte a second
 * never trips it, in the handshake or in the headers.  The deadline timer closes a
 * connection that has not delivered a complete request handshake_timeout seconds after
 * accept, or 30 s after its previous request; and connections above max_connections are
 * closed at once (shed) so that descriptors stay for the agents.  Closing = shutdown(2) of
 * the socket: evhttp then sees the end of the stream and frees the connection itself.
 */
#define REQUEST_INTERVAL 30

struct conn {
	struct server *srv;
	struct bufferevent *bev;
	struct event *deadline;
};

static void conn_close(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	evutil_socket_t s = bufferevent_getfd(c->bev);

	c->srv->timed_out++;
	if (s >= 0)
		shutdown(s, SHUT_RDWR);
}

static void conn_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct conn *c = ptr;

	if (!c)
		return;
	c->srv->connections--;
	if (c->deadline)
		event_free(c->deadline);
	free(c);
}

static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
	struct server *srv = arg;
	SSL *ssl = SSL_new(srv->ssl);
	struct conn *c = calloc(1, sizeof(*c));
	struct timeval tv = { .tv_sec = srv->cfg.handshake_timeout };

	if (!ssl || !c) {
		SSL_free(ssl);
		free(c);
		return NULL;
	}
	c->srv = srv;
	c->bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE);
	c->deadline = evtimer_new(base, conn_close, c);
	if (!c->bev || !c->deadline || SSL_set_ex_data(ssl, srv->conn_index, c) != 1) {
		if (c->deadline)
			event_free(c->deadline);
		if (c->bev)
			bufferevent_free(c->bev);
		else
			SSL_free(ssl);
		free(c);
		return NULL;
	}
	srv->connections++;
	if (srv->connections > srv->cfg.max_connections) {
		srv->shed++;
		tv.tv_sec = 0;
	}
	evtimer_add(c->deadline, &tv);
	return c->bev;
}

void conn_request_seen(struct server *srv, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	struct conn *c = ssl ? SSL_get_ex_data(ssl, srv->conn_index) : NULL;
	struct timeval tv = { .tv_sec = REQUEST_INTERVAL };

	if (c && srv->connections <= srv->cfg.max_connections)
		evtimer_add(c->deadline, &tv);
}

/*
 * Per agent: at most agent_rate attestations in a second (429); in all: max_rate (503).
 * Windows of one wall-clock second, in a direct-mapped table of RATE_SLOTS ids (an id
 * colliding with another restarts its count: a bound on memory, not on an id).
 */
#define RATE_SLOTS 4096

int rate_check(struct server *srv, struct evhttp_request *req, const char *id)
{
	int64_t now = (int64_t)time(NULL);
	uint32_t h = 2166136261U;
	struct rate *r;

	for (const char *p = id; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619U;
	r = &srv->rates[h % RATE_SLOTS];
	if (strcmp(r->id, id) != 0 || r->second != now) {
		snprintf(r->id, sizeof(r->id), "%s", id);
		r->second = now;
		r->n = 0;
	}
	if (srv->global_second != now) {
		srv->global_second = now;
		srv->global_n = 0;
	}
	if (srv->cfg.agent_rate && r->n >= srv->cfg.agent_rate) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
		refuse(srv, req, 429, "more than %u attestations a second for agent '%s'",
		       srv->cfg.agent_rate, id);
		return -EBUSY;
	}
	if (srv->cfg.max_rate && srv->global_n >= srv->cfg.max_rate) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
		refuse(srv, req, 503, "more than %u attestations a second in all", srv->cfg.max_rate);
		return -EBUSY;
	}
	r->n++;
	srv->global_n++;
	return 0;
}

static void ssl_error(const char *what, const char *path)
{
	tls_error("vouchd", what, path);
}

/* the shared server context (tls-server.c), and the operators' CAs asked for beside the
 * agents': each role is then decided against its own CAs (require_agent(),
 * require_operator()); /healthz and /metrics answer without a certificate */
static SSL_CTX *tls_setup(const struct config *c)
{
	SSL_CTX *ssl = tls_server_ctx("vouchd", c->tls_cert, c->tls_key, c->client_ca);

	if (ssl && c->operator_ca &&
	    (SSL_CTX_load_verify_locations(ssl, c->operator_ca, NULL) != 1 ||
	     SSL_add_file_cert_subjects_to_stack(SSL_CTX_get_client_CA_list(ssl),
						 c->operator_ca) != 1)) {
		ssl_error("cannot load CA", c->operator_ca);
		SSL_CTX_free(ssl);
		return NULL;
	}
	return ssl;
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
	fprintf(stderr, "vouchd: signal %d, stopping\n", (int)fd);
	event_base_loopexit(arg, NULL);
}

static int parse_u32(const char *s, uint32_t max, uint32_t *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || *s == '-' || *s == '+' || v > max)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "vouchd: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
	fprintf(stderr, "usage: vouchd [--config FILE] --listen 127.0.0.1:PORT --db PATH --tls-cert CRT "
			"--tls-key KEY --client-ca CA [--operator-ca CA] [--trust CERTS] "
			"[--reference REF.json] [--pcrs SEL] [--nonce-ttl S] [--ear-key KEY]\n"
			"              [--interval S] [--grace S] [--webhook URL... --webhook-secret FILE]\n"
			"              [--max-connections N] [--handshake-timeout S] [--agent-rate N] "
			"[--max-rate N] [--cache-agents N] [--db-connections N]\n"
			"              [--agent-ca-cert CRT --agent-ca-key KEY "
			"[--ek-ca CERTS] [--allow-ek-public] [--enroll-ttl S]]\n"
			"              [--pull-cert CRT --pull-key KEY --pull-ca CA "
			"--pull-allow CIDR... [--interval S] [--pull-timeout S]]\n"
			"              [--node-id NAME] [--retention-days N] [--check-config]\n"
			"       vouchd --db DSN --verify-chain\n"
			"       vouchd db status|migrate|backup PATH|prune --older-than DAYS "
			"(--db DSN | --config FILE)\n");
	return -EINVAL;
}

/* a node's name in the database's leases: printable, short, no spaces */
static bool valid_node_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > STORE_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && !strchr("._:-", s[i]))
			return false;
	return true;
}

/* long options without a one-letter code */
enum {
	OPT_PULL_CERT = 0x100,
	OPT_PULL_KEY,
	OPT_PULL_CA,
	OPT_PULL_ALLOW,
	OPT_PULL_TIMEOUT,
	OPT_MAX_CONNECTIONS,
	OPT_HANDSHAKE_TIMEOUT,
	OPT_AGENT_RATE,
	OPT_MAX_RATE,
	OPT_CACHE_AGENTS,
	OPT_DB_CONNECTIONS,
	OPT_NODE_ID,
	OPT_RETENTION_DAYS,
	OPT_CHECK_CONFIG,
};

static const struct option opts[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "db", required_argument, NULL, 'd' },
	{ "tls-cert", required_argument, NULL, 'c' },
	{ "tls-key", required_argument, NULL, 'k' },
	{ "client-ca", required_argument, NULL, 'a' },
	{ "operator-ca", required_argument, NULL, 'O' },
	{ "trust", required_argument, NULL, 't' },
	{ "reference", required_argument, NULL, 'r' },
	{ "pcrs", required_argument, NULL, 'p' },
	{ "nonce-ttl", required_argument, NULL, 'n' },
	{ "ear-key", required_argument, NULL, 'e' },
	{ "verify-chain", no_argument, NULL, 'V' },
	{ "ek-ca", required_argument, NULL, 'E' },
	{ "allow-ek-public", no_argument, NULL, 'P' },
	{ "agent-ca-cert", required_argument, NULL, 'A' },
	{ "agent-ca-key", required_argument, NULL, 'K' },
	{ "enroll-ttl", required_argument, NULL, 'T' },
	{ "pull-cert", required_argument, NULL, OPT_PULL_CERT },
	{ "pull-key", required_argument, NULL, OPT_PULL_KEY },
	{ "pull-ca", required_argument, NULL, OPT_PULL_CA },
	{ "pull-allow", required_argument, NULL, OPT_PULL_ALLOW },
	{ "interval", required_argument, NULL, 'i' },
	{ "pull-timeout", required_argument, NULL, OPT_PULL_TIMEOUT },
	{ "grace", required_argument, NULL, 'g' },
	{ "webhook", required_argument, NULL, 'w' },
	{ "webhook-secret", required_argument, NULL, 'W' },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
	{ "handshake-timeout", required_argument, NULL, OPT_HANDSHAKE_TIMEOUT },
	{ "agent-rate", required_argument, NULL, OPT_AGENT_RATE },
	{ "max-rate", required_argument, NULL, OPT_MAX_RATE },
	{ "cache-agents", required_argument, NULL, OPT_CACHE_AGENTS },
	{ "db-connections", required_argument, NULL, OPT_DB_CONNECTIONS },
	{ "node-id", required_argument, NULL, OPT_NODE_ID },
	{ "retention-days", required_argument, NULL, OPT_RETENTION_DAYS },
	{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
	{ "config", required_argument, NULL, 'C' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'v' },
	{ 0 },
};

/* the options that name a file, a URL or a secret: kept as given */
static const struct {
	int opt;
	size_t offset; /* of a const char * in struct config */
} string_opts[] = {
	{ 'd', offsetof(struct config, db) },
	{ 'c', offsetof(struct config, tls_cert) },
	{ 'k', offsetof(struct config, tls_key) },
	{ 'a', offsetof(struct config, client_ca) },
	{ 'O', offsetof(struct config, operator_ca) },
	{ 't', offsetof(struct config, trust) },
	{ 'r', offsetof(struct config, reference) },
	{ 'e', offsetof(struct config, ear_key) },
	{ 'C', offsetof(struct config, config) },
	{ 'E', offsetof(struct config, ek_ca) },
	{ 'A', offsetof(struct config, agent_ca_cert) },
	{ 'K', offsetof(struct config, agent_ca_key) },
	{ OPT_PULL_CERT, offsetof(struct config, pull_cert) },
	{ OPT_PULL_KEY, offsetof(struct config, pull_key) },
	{ OPT_PULL_CA, offsetof(struct config, pull_ca) },
	{ 'W', offsetof(struct config, webhook_secret) },
};

/* the options that take a number: its range, and the words for one out of it */
static const struct {
	int opt;
	size_t offset; /* of a uint32_t in struct config */
	uint32_t min, max;
	const char *why;
} number_opts[] = {
	{ 'n', offsetof(struct config, nonce_ttl), 1, 86400, "1 to 86400 seconds" },
	{ 'T', offsetof(struct config, enroll_ttl), 1, 3600, "1 to 3600 seconds" },
	{ 'i', offsetof(struct config, interval), 1, 86400, "1 to 86400 seconds" },
	{ 'g', offsetof(struct config, grace), 0, 7 * 86400, "0 to 604800 seconds" },
	{ OPT_MAX_CONNECTIONS, offsetof(struct config, max_connections), 1, 1000000,
	  "1 to 1000000" },
	{ OPT_HANDSHAKE_TIMEOUT, offsetof(struct config, handshake_timeout), 1, 3600,
	  "1 to 3600 seconds" },
	{ OPT_AGENT_RATE, offsetof(struct config, agent_rate), 0, 1000000,
	  "0 (off) to 1000000 a second" },
	{ OPT_MAX_RATE, offsetof(struct config, max_rate), 0, 1000000,
	  "0 (off) to 1000000 a second" },
	{ OPT_CACHE_AGENTS, offsetof(struct config, cache_agents), 4, 16777216,
	  "4 to 16777216 agents" },
	{ OPT_DB_CONNECTIONS, offsetof(struct config, db_connections), 1, 8, "1 to 8 connections" },
	{ OPT_PULL_TIMEOUT, offsetof(struct config, pull_timeout), 1, 300, "1 to 300 seconds" },
	{ OPT_RETENTION_DAYS, offsetof(struct config, retention_days), 0, 100000,
	  "0 (keep everything) to 100000 days" },
};

/* a string or number option from the tables into @c; -ENOENT: not one of theirs */
static int set_table_option(struct config *c, int opt, const char *arg, const char **why)
{
	for (size_t i = 0; i < ARRAY_SIZE(string_opts); i++)
		if (string_opts[i].opt == opt) {
			*(const char **)((char *)c + string_opts[i].offset) = arg;
			return 0;
		}
	for (size_t i = 0; i < ARRAY_SIZE(number_opts); i++)
		if (number_opts[i].opt == opt) {
			uint32_t *v = (uint32_t *)((char *)c + number_opts[i].offset);

			if (parse_u32(arg, number_opts[i].max, v) < 0 || *v < number_opts[i].min) {
				*why = number_opts[i].why;
				return -EINVAL;
			}
			if (opt == 'g')
				c->grace_set = true;
			return 0;
		}
	return -ENOENT;
}

/* --webhook: repeatable, up to MAX_WEBHOOKS different https:// URLs */
static int add_webhook(struct config *c, const char *arg, const char **why)
{
	if (c->n_webhooks == MAX_WEBHOOKS) {
		*why = "at most 8 webhooks";
		return -EINVAL;
	}
	if (webhook_url_check(arg) < 0) {
		*why = "an https:// URL (http:// only to 127.0.0.1)";
		return -EINVAL;
	}
	for (size_t i = 0; i < c->n_webhooks; i++)
		if (strcmp(c->webhooks[i], arg) == 0) {
			*why = "a webhook given twice";
			return -EINVAL;
		}
	c->webhooks[c->n_webhooks++] = arg;
	return 0;
}

/* one option's value into @c, from the command line or the configuration file */
static int set_option(struct config *c, int opt, const char *arg, const char **why)
{
	struct vouch_pcrs sel;
	const char *colon;
	uint32_t port;
	int r = set_table_option(c, opt, arg, why);

	if (r != -ENOENT)
		return r;
	switch (opt) {
	case 'l':
		colon = strrchr(arg, ':');
		if (!colon || colon == arg || colon - arg >= 64 ||
		    parse_u32(colon + 1, 65535, &port) < 0) {
			*why = "HOST:PORT";
			return -EINVAL;
		}
		c->listen = arg;
		break;
	case 'p':
		if (vouch_pcrs_parse_selection(arg, &sel) < 0) {
			*why = "a PCR selection such as sha256:0-10";
			return -EINVAL;
		}
		c->pcrs = arg;
		break;
	case 'V': c->verify_chain = true; break;
	case 'P': c->allow_ek_public = true; break;
	case OPT_PULL_ALLOW: {
		/* repeatable, and each value may list several networks, comma-separated */
		char **a = reallocarray(c->pull_allow, c->n_pull_allow + 1, sizeof(*a));

		if (!a) {
			*why = "out of memory";
			return -ENOMEM;
		}
		c->pull_allow = a;
		a[c->n_pull_allow++] = (char *)arg;
		break;
	}
	case 'w':
		return add_webhook(c, arg, why);
	case OPT_NODE_ID:
		if (!valid_node_id(arg)) {
			*why = "1 to 64 of [A-Za-z0-9._:-]";
			return -EINVAL;
		}
		c->node_id = arg;
		break;
	case OPT_CHECK_CONFIG: c->check_config = true; break;
	default:
		*why = "not an option";
		return -EINVAL;
	}
	return 0;
}

struct file_opts {
	struct config *c;
	uint64_t cli; /* the options the command line gave: they win over the file */
};

static int set_from_file(void *userdata, int index, const char *value, const char **why)
{
	struct file_opts *f = userdata;
	struct config scratch = *f->c;
	int r;

	/* checked either way, so that a bad line fails even when the command line wins */
	if (!(f->cli & (UINT64_C(1) << index)))
		return set_option(f->c, opts[index].val, value, why);
	scratch.pull_allow = NULL;
	scratch.n_pull_allow = 0;
	scratch.n_webhooks = 0;
	r = set_option(&scratch, opts[index].val, value, why);
	free(scratch.pull_allow);
	return r;
}

static int parse_args(int argc, char **argv, struct config *c)
{
	static const char *const refused[] = { "config", "help", "version", "check-config",
					       NULL };
	struct file_opts f = { .c = c };
	int opt, index;

	c->nonce_ttl = 60;
	c->enroll_ttl = 60;
	c->interval = 10;
	c->max_connections = 1024;
	c->handshake_timeout = 10;
	c->agent_rate = 10;
	c->cache_agents = CACHE_AGENTS_DEFAULT;
	c->db_connections = DB_CONNECTIONS_DEFAULT;
	c->max_rate = 0;
	c->pull_timeout = 10;
	while ((opt = getopt_long(argc, argv, "", opts, &index)) != -1) {
		const char *why = NULL;

		if (opt == 'h') {
			usage_error("the attestation verifier service; see vouchd(8)", NULL);
			return 1;
		}
		if (opt == 'v') {
			printf("vouchd %s\n", VOUCH_VERSION);
			return 1;
		}
		if (opt == '?')
			return -EINVAL;
		/* --pull-allow and --webhook add one each time; any other option once */
		if (opt != OPT_PULL_ALLOW && opt != 'w' && (f.cli & (UINT64_C(1) << index)))
			return usage_error("option given twice, refusing:", argv[optind - 1]);
		f.cli |= UINT64_C(1) << index;
		if (set_option(c, opt, optarg, &why) < 0)
			return usage_error(why ? "invalid option value:" : "invalid option", optarg);
	}
	if (optind != argc)
		return usage_error("unexpected argument", argv[optind]);
	if (c->config && conf_load("vouchd", c->config, opts, refused, set_from_file, &f,
				   &c->conf_buf) < 0)
		return -EINVAL;
	if (!c->db)
		return usage_error("--db is required", NULL);
	if (!c->node_id) {
		char host[STORE_ID_MAX + 1] = "";

		/* hostname:pid, cut to fit and to the characters a node id allows */
		if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
			snprintf(host, sizeof(host), "vouchd");
		host[strcspn(host, ".")] = '\0';
		snprintf(c->node_buf, sizeof(c->node_buf), "%.40s:%ld", host, (long)getpid());
		for (char *x = c->node_buf; *x; x++)
			if (!strchr("._:-", *x) && !((*x >= 'a' && *x <= 'z') || (*x >= 'A' && *x <= 'Z') ||
						    (*x >= '0' && *x <= '9')))
				*x = '-';
		c->node_id = c->node_buf;
	}
	if (c->verify_chain)
		return 0;
	if (!c->listen || !c->tls_cert || !c->tls_key || !c->client_ca)
		return usage_error("--listen, --tls-cert, --tls-key and --client-ca are required", NULL);
	if (!c->agent_ca_cert != !c->agent_ca_key)
		return usage_error("--agent-ca-cert and --agent-ca-key go together", NULL);
	if ((c->ek_ca || c->allow_ek_public) && !c->agent_ca_cert)
		return usage_error("--ek-ca and --allow-ek-public need --agent-ca-cert", NULL);
	if (c->agent_ca_cert && !c->ek_ca && !c->allow_ek_public)
		return usage_error("enrollment needs --ek-ca (or --allow-ek-public)", NULL);
	if (!c->pcrs)
		c->pcrs = "sha256:0-10";
	if (!c->grace_set)
		c->grace = 2 * c->interval;
	if (c->n_webhooks > 0 && !c->webhook_secret)
		return usage_error("--webhook needs --webhook-secret (every event is signed)", NULL);
	if (c->webhook_secret && c->n_webhooks == 0)
		return usage_error("--webhook-secret without --webhook", NULL);
	if ((c->pull_cert || c->pull_key || c->pull_ca || c->n_pull_allow) &&
	    (!c->pull_cert || !c->pull_key || !c->pull_ca))
		return usage_error("pull mode needs --pull-cert, --pull-key and --pull-ca", NULL);
	if (c->pull_key) {
		struct stat sb;

		if (stat(c->pull_key, &sb) == 0 && (sb.st_mode & 077))
			return usage_error("readable by group or others, refusing:", c->pull_key);
	}
	return 0;
}

static int verify_chain(struct store *st)
{
	uint64_t rows = 0, bad = 0;
	int r = st->ops->chain_verify(st, &rows, &bad);

	if (r == -EKEYREJECTED) {
		printf("results: hash chain broken at row %llu\n", (unsigned long long)bad);
		return 1;
	}
	if (r < 0)
		return EXIT_RUNTIME;
	printf("results: %llu rows, hash chain intact\n", (unsigned long long)rows);
	return 0;
}

/* --retention-days: results older than N days go, each agent's newest stays, the chain
 * stays verifiable (result_prune()); at the start and then once a day, on every node (a
 * second prune of the same rows finds nothing) */
static void retention_prune(struct server *srv)
{
	struct store *st = srv->store;
	int64_t before = (int64_t)time(NULL) - (int64_t)srv->cfg.retention_days * 86400;
	uint64_t pruned = 0;
	int r;

	if (!st->ops->result_prune)
		return;
	r = st->ops->result_prune(st, before, &pruned);
	if (r < 0)
		fprintf(stderr, "vouchd: retention: cannot prune the results older than %u days: %s\n",
			srv->cfg.retention_days, strerror(-r));
	else if (pruned)
		fprintf(stderr, "vouchd: retention: %llu results older than %u days pruned\n",
			(unsigned long long)pruned, srv->cfg.retention_days);
}

static void on_retention(evutil_socket_t fd, short what, void *arg)
{
	retention_prune(arg);
}

/* systemd's watchdog: a ping at half its interval while the event loop turns */
static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	sd_notifyf(0, "WATCHDOG=1\nSTATUS=serving; %llu trusted, %llu untrusted, %llu error",
		   (unsigned long long)srv->attest_trusted,
		   (unsigned long long)srv->attest_untrusted,
		   (unsigned long long)srv->attest_error);
}

static int serve(struct server *srv)
{
	struct evhttp *http = NULL;
	struct evhttp_bound_socket *bound;
	struct event *sigterm = NULL, *sigint = NULL, *watchdog = NULL, *retention = NULL;
	int one = 1;
	uint64_t wd_usec = 0;
	char host[64];
	const char *colon = strrchr(srv->cfg.listen, ':');
	uint32_t port;
	int r = -EINVAL;

	if (!colon || (size_t)(colon - srv->cfg.listen) >= sizeof(host) ||
	    parse_u32(colon + 1, 65535, &port) < 0)
		return usage_error("invalid --listen (HOST:PORT)", srv->cfg.listen);
	memcpy(host, srv->cfg.listen, (size_t)(colon - srv->cfg.listen));
	host[colon - srv->cfg.listen] = '\0';
	srv->base = event_base_new();
	http = srv->base ? evhttp_new(srv->base) : NULL;
	if (!http)
		goto out;
	evhttp_set_bevcb(http, tls_bev, srv);
	evhttp_set_max_body_size(http, MAX_BODY);
	evhttp_set_max_headers_size(http, 16384);
	evhttp_set_timeout(http, 30);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
					   EVHTTP_REQ_DELETE);
	evhttp_set_gencb(http, route, srv);
	srv->flush = event_new(srv->base, -1, 0, flush_batch, srv);
	if (!srv->flush)
		goto out;
	/* before the socket: an invalid --pull-allow is a usage error, not a bound port */
	r = pull_start(srv);
	if (r < 0)
		goto out;
	r = -EINVAL;
	bound = evhttp_bind_socket_with_handle(http, host, (uint16_t)port);
	if (!bound) {
		fprintf(stderr, "vouchd: cannot listen on '%s': %m\n", srv->cfg.listen);
		r = -EADDRINUSE;
		goto out;
	}
	/* inherited by every accepted socket (Linux): a reply leaves in several TLS records,
	 * and Nagle's algorithm against the client's delayed ACK held the last one ~40 ms */
	(void)setsockopt(evhttp_bound_socket_get_fd(bound), IPPROTO_TCP, TCP_NODELAY, &one,
			 sizeof(one));
	sigterm = evsignal_new(srv->base, SIGTERM, on_signal, srv->base);
	sigint = evsignal_new(srv->base, SIGINT, on_signal, srv->base);
	if (!sigterm || !sigint || event_add(sigterm, NULL) < 0 || event_add(sigint, NULL) < 0)
		goto out;
	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0) {
		struct timeval tv = { .tv_sec = (time_t)(wd_usec / 2 / 1000000),
				      .tv_usec = (suseconds_t)(wd_usec / 2 % 1000000) };

		watchdog = event_new(srv->base, -1, EV_PERSIST, on_watchdog, srv);
		if (!watchdog || event_add(watchdog, &tv) < 0)
			goto out;
	}
	if (srv->cfg.retention_days) {
		struct timeval day = { .tv_sec = 86400 };

		retention = event_new(srv->base, -1, EV_PERSIST, on_retention, srv);
		if (!retention || event_add(retention, &day) < 0)
			goto out;
		retention_prune(srv);
	}
	signal(SIGPIPE, SIG_IGN);
	r = notify_start(srv);
	if (r < 0) {
		fprintf(stderr, "vouchd: cannot start the event delivery\n");
		goto out;
	}
	fprintf(stderr, "vouchd: listening on %s (TLS 1.3, client certificates from '%s'), "
			"node '%s'\n",
		srv->cfg.listen, srv->cfg.client_ca, srv->cfg.node_id);
	sd_notifyf(0, "READY=1\nSTATUS=listening on %s", srv->cfg.listen);
	if (watchdog)
		on_watchdog(-1, 0, srv);
	r = event_base_dispatch(srv->base) < 0 ? -EIO : 0;
	sd_notify(0, "STOPPING=1");
out:
	if (srv->flush) {
		flush_batch(-1, 0, srv); /* the last round's replies, after its commit */
		flush_reap(srv, true);
		event_free(srv->flush);
		srv->flush = NULL;
	}
	free(srv->pending);
	if (watchdog)
		event_free(watchdog);
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	pull_stop(srv);
	if (http)
		evhttp_free(http); /* closes the event streams */
	notify_stop(srv);
	if (retention)
		event_free(retention);
	/* a clean stop hands this node's pull agents and duties to the others at once */
	if (srv->store->ops->lease_release &&
	    srv->store->ops->lease_release(srv->store, srv->cfg.node_id) < 0)
		fprintf(stderr, "vouchd: cannot release the leases of node '%s'\n", srv->cfg.node_id);
	if (srv->base)
		event_base_free(srv->base);
	return r;
}

/* is @x one of the certificates in @st? */
static bool store_has(X509_STORE *st, X509 *x)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(st);

	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		X509 *c = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));

		if (c && X509_cmp(c, x) == 0)
			return true;
	}
	return false;
}

/*
 * The agents' and the operators' CAs, each in its own store (require_agent(),
 * require_operator()).  A CA in both would make every agent an operator: refused.
 */
static int role_stores(struct server *srv)
{
	const struct config *c = &srv->cfg;
	STACK_OF(X509_OBJECT) *objs;

	if (!(srv->agent_cas = load_ca_store(c->client_ca))) {
		ssl_error("cannot load CA", c->client_ca);
		return -EIO;
	}
	if (!c->operator_ca)
		return 0;
	if (!(srv->operator_cas = load_ca_store(c->operator_ca))) {
		ssl_error("cannot load CA", c->operator_ca);
		return -EIO;
	}
	objs = X509_STORE_get0_objects(srv->operator_cas);
	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));

		if (x && store_has(srv->agent_cas, x)) {
			fprintf(stderr, "vouchd: a CA is both in --client-ca '%s' and --operator-ca "
					"'%s': every agent would be an operator, refusing\n",
				c->client_ca, c->operator_ca);
			return -EINVAL;
		}
	}
	return 0;
}

static void free_allow(struct server *srv)
{
	free(srv->cfg.pull_allow);
}

/* descriptors: the hard limit, and connections fit in it with room for the database */
static void fit_nofile(struct config *c)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)c->max_connections + 64) {
		c->max_connections = rl.rlim_cur > 128 ? (uint32_t)rl.rlim_cur - 64 : 64;
		fprintf(stderr, "vouchd: at most %u connections (RLIMIT_NOFILE %llu)\n",
			c->max_connections, (unsigned long long)rl.rlim_cur);
	}
}

/* --- operations: --check-config, vouchd db ... ------------------------------------------- */

/* @path, when set, opens for reading; else one line naming @opt and a problem counted */
static bool readable(const char *opt, const char *path, unsigned *problems)
{
	int fd;

	if (!path)
		return true;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		fprintf(stderr, "vouchd: %s '%s': cannot open: %m\n", opt, path);
		(*problems)++;
		return false;
	}
	close(fd);
	return true;
}

/* the database: opened without migrating, its schema version against this build's */
static int check_db(const char *dsn)
{
	struct store *st = NULL;
	int v = 0, latest = 0, r;

	if (store_backend(dsn) == &store_sqlite_ops && access(dsn, F_OK) < 0) {
		char dir[PATH_MAX];
		const char *slash = strrchr(dsn, '/');

		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - dsn) + (slash == dsn) : 1,
			 slash ? dsn : ".");
		if (access(dir, W_OK) < 0) {
			fprintf(stderr, "vouchd: --db '%s': does not exist, and directory '%s' is "
					"not writable: %m\n", dsn, dir);
			return 1;
		}
		printf("database: '%s' does not exist yet (created at the first start)\n", dsn);
		return 0;
	}
	r = store_open(dsn, STORE_OPEN_NO_MIGRATE, &st);
	if (r < 0) {
		fprintf(stderr, "vouchd: --db '%s': cannot open%s\n", dsn,
			r == -EPROTONOSUPPORT ? ": built without PostgreSQL (libpq)" : "");
		return 1;
	}
	r = st->ops->schema_version ? st->ops->schema_version(st, &v, &latest) : -EOPNOTSUPP;
	st->ops->close(st);
	if (r < 0) {
		fprintf(stderr, "vouchd: --db '%s': cannot read the schema version\n", dsn);
		return 1;
	}
	printf("database: %s schema version %d (this vouchd: %d)%s\n", store_backend(dsn)->name,
	       v, latest, v < latest ? ", migrated at the start" : "");
	if (v > latest) {
		fprintf(stderr, "vouchd: --db '%s': schema version %d is newer than this vouchd's %d\n",
			dsn, v, latest);
		return 1;
	}
	return 0;
}

/* every file the configuration names opened and loaded as vouchd would, the database's
 * schema read; one line on stderr per problem */
static int check_config(struct server *srv)
{
	const struct config *c = &srv->cfg;
	unsigned problems = 0;
	SSL_CTX *ssl;
	bool ok;

	/* each file opened, then loaded as vouchd would when it opened */
	ok = readable("--tls-cert", c->tls_cert, &problems);
	ok &= readable("--tls-key", c->tls_key, &problems);
	ok &= readable("--client-ca", c->client_ca, &problems);
	ok &= readable("--operator-ca", c->operator_ca, &problems);
	if (ok) {
		ssl = tls_setup(c);
		/* the same CAs again, in their roles: only when they loaded above */
		problems += !ssl || role_stores(srv) < 0;
		SSL_CTX_free(ssl);
	}
	if (vouch_ctx_new(&srv->ctx) < 0)
		return EXIT_RUNTIME;
	if (readable("--trust", c->trust, &problems) && c->trust &&
	    (vouch_trust_new(srv->ctx, &srv->trust) < 0 ||
	     vouch_trust_add_path(srv->trust, c->trust, NULL) < 0)) {
		fprintf(stderr, "vouchd: --trust '%s': %s\n", c->trust, vouch_ctx_last_error(srv->ctx));
		problems++;
	}
	if (readable("--reference", c->reference, &problems) && c->reference &&
	    vouch_attest_reference_load(srv->ctx, c->reference, &srv->reference) < 0) {
		fprintf(stderr, "vouchd: --reference '%s': %s\n", c->reference,
			vouch_ctx_last_error(srv->ctx));
		problems++;
	}
	ok = readable("--ek-ca", c->ek_ca, &problems);
	ok &= readable("--agent-ca-cert", c->agent_ca_cert, &problems);
	ok &= readable("--agent-ca-key", c->agent_ca_key, &problems);
	if (ok)
		problems += enroll_setup(srv) < 0;
	if (readable("--ear-key", c->ear_key, &problems) && c->ear_key)
		problems += ear_setup(srv) < 0;
	if (readable("--webhook-secret", c->webhook_secret, &problems) && c->webhook_secret)
		problems += webhook_secret_check(c->webhook_secret) < 0;
	ok = readable("--pull-cert", c->pull_cert, &problems);
	ok &= readable("--pull-key", c->pull_key, &problems);
	ok &= readable("--pull-ca", c->pull_ca, &problems);
	if (ok && c->pull_cert) {
		SSL_CTX *p = SSL_CTX_new(TLS_client_method());
		X509_STORE *ca = load_ca_store(c->pull_ca);

		if (!p || SSL_CTX_use_certificate_chain_file(p, c->pull_cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(p, c->pull_key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(p) != 1) {
			ssl_error("--pull-cert/--pull-key: not a certificate and its key",
				  c->pull_cert);
			problems++;
		}
		if (!ca) {
			ssl_error("cannot load CA", c->pull_ca);
			problems++;
		}
		SSL_CTX_free(p);
		X509_STORE_free(ca);
	}
	problems += pull_allow_check(c) < 0;
	problems += check_db(c->db);
	if (problems) {
		fprintf(stderr, "vouchd: configuration%s%s: %u problem(s)\n", c->config ? " " : "",
			c->config ? c->config : "", problems);
		return EXIT_RUNTIME;
	}
	printf("configuration%s%s: ok (node '%s')\n", c->config ? " " : "",
	       c->config ? c->config : "", c->node_id);
	return 0;
}

static int db_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "vouchd: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
	fprintf(stderr, "usage: vouchd db status|migrate (--db DSN | --config FILE)\n"
			"       vouchd db backup PATH (--db PATH | --config FILE)\n"
			"       vouchd db prune --older-than DAYS (--db DSN | --config FILE)\n");
	return EXIT_USAGE;
}

static int db_chain(struct store *st, const char *what)
{
	uint64_t rows = 0, bad = 0;
	int r = st->ops->chain_verify(st, &rows, &bad);

	if (r == -EKEYREJECTED) {
		printf("%s: hash chain broken at row %llu\n", what, (unsigned long long)bad);
		return 1;
	}
	if (r < 0)
		return EXIT_RUNTIME;
	printf("%s: %llu rows, hash chain intact\n", what, (unsigned long long)rows);
	return 0;
}

/* the schema version of @dsn without migrating it; -errno */
static int db_version(const char *dsn, int *ret_version, int *ret_latest)
{
	struct store *st = NULL;
	int r = store_open(dsn, STORE_OPEN_NO_MIGRATE, &st);

	if (r < 0) {
		fprintf(stderr, "vouchd: cannot open database '%s'%s\n", dsn,
			r == -EPROTONOSUPPORT ? ": built without PostgreSQL (libpq)" : "");
		return r;
	}
	r = st->ops->schema_version ? st->ops->schema_version(st, ret_version, ret_latest) :
				      -EOPNOTSUPP;
	st->ops->close(st);
	if (r < 0)
		fprintf(stderr, "vouchd: '%s': cannot read the schema version\n", dsn);
	return r;
}

static int db_status(const char *dsn)
{
	struct store *st = NULL;
	uint64_t agents = 0;
	int v, latest, r = db_version(dsn, &v, &latest);

	if (r < 0)
		return EXIT_RUNTIME;
	printf("backend: %s\n", store_backend(dsn)->name);
	printf("schema: %d (this vouchd: %d)%s\n", v, latest,
	       v < latest ? ", 'vouchd db migrate' brings it up to date" :
	       v > latest ? ", newer than this vouchd" : ", up to date");
	if (v > latest)
		return EXIT_RUNTIME;
	if (v < latest)
		return 0; /* the counts need the current schema: after the migration */
	if (store_open(dsn, 0, &st) < 0 || st->ops->agent_count(st, &agents) < 0) {
		fprintf(stderr, "vouchd: cannot read database '%s'\n", dsn);
		if (st)
			st->ops->close(st);
		return EXIT_RUNTIME;
	}
	printf("agents: %llu\n", (unsigned long long)agents);
	r = db_chain(st, "results");
	st->ops->close(st);
	return r;
}

static int db_migrate(const char *dsn)
{
	struct store *st = NULL;
	int from = 0, to, latest = 0, r = 0;

	/* a new SQLite file is created at version 0 and brought up like any other */
	if (store_backend(dsn) != &store_sqlite_ops || access(dsn, F_OK) == 0)
		r = db_version(dsn, &from, &latest);
	if (r < 0)
		return EXIT_RUNTIME;
	if (from > latest) {
		fprintf(stderr, "vouchd: '%s': schema version %d is newer than this vouchd's %d, "
				"refusing\n", dsn, from, latest);
		return EXIT_RUNTIME;
	}
	r = store_open(dsn, 0, &st);
	if (r == 0) {
		r = st->ops->schema_version ? st->ops->schema_version(st, &to, &latest) :
					      -EOPNOTSUPP;
		st->ops->close(st);
	}
	if (r < 0) {
		fprintf(stderr, "vouchd: '%s': migration from schema %d failed, nothing changed\n",
			dsn, from);
		return EXIT_RUNTIME;
	}
	if (from == to)
		printf("schema: %d, up to date\n", to);
	else
		printf("schema: migrated from %d to %d\n", from, to);
	return 0;
}

static int db_backup(const char *dsn, const char *path)
{
	struct store *st = NULL;
	int v, latest, r;

	if (store_backend(dsn) != &store_sqlite_ops)
		return db_usage("db backup copies SQLite databases; for PostgreSQL use pg_dump "
				"(and pg_restore)", NULL);
	r = db_version(dsn, &v, &latest);
	if (r < 0)
		return EXIT_RUNTIME;
	r = store_open(dsn, STORE_OPEN_NO_MIGRATE, &st);
	if (r == 0) {
		r = st->ops->backup ? st->ops->backup(st, path) : -EOPNOTSUPP;
		st->ops->close(st);
	}
	if (r < 0) {
		fprintf(stderr, "vouchd: cannot back up '%s' to '%s': %s\n", dsn, path, strerror(-r));
		return EXIT_RUNTIME;
	}
	printf("backup: '%s' written (schema %d)\n", path, v);
	if (v != latest)
		return 0; /* verifying would migrate the copy: leave it as it was */
	st = NULL;
	if (store_open(path, 0, &st) < 0) {
		fprintf(stderr, "vouchd: the backup '%s' does not open\n", path);
		return EXIT_RUNTIME;
	}
	r = db_chain(st, "backup");
	st->ops->close(st);
	return r;
}

static int db_prune(const char *dsn, uint32_t days)
{
	struct store *st = NULL;
	uint64_t pruned = 0;
	int v, latest, r = db_version(dsn, &v, &latest);

	if (r == 0)
		r = store_open(dsn, 0, &st);
	if (r < 0) {
		fprintf(stderr, "vouchd: cannot open database '%s'\n", dsn);
		return EXIT_RUNTIME;
	}
	r = st->ops->result_prune ?
		    st->ops->result_prune(st, (int64_t)time(NULL) - (int64_t)days * 86400, &pruned) :
		    -EOPNOTSUPP;
	if (r == -EKEYREJECTED) {
		fprintf(stderr, "vouchd: '%s': the hash chain is broken, not pruning\n", dsn);
		st->ops->close(st);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "vouchd: '%s': cannot prune: %s\n", dsn, strerror(-r));
		st->ops->close(st);
		return EXIT_RUNTIME;
	}
	printf("pruned: %llu results older than %u days\n", (unsigned long long)pruned, days);
	r = db_chain(st, "results");
	st->ops->close(st);
	return r;
}

/* vouchd db VERB [PATH] [--db DSN] [--config FILE] [--older-than DAYS] */
static int db_command(int argc, char **argv)
{
	static const struct option dbopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'C' },
		{ "older-than", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const refused[] = { "config", "help", "version", "check-config",
					       NULL };
	struct config c = { 0 };
	struct file_opts f = { .c = &c };
	const char *verb, *conf = NULL, *older = NULL, *path = NULL;
	char *buf = NULL;
	uint32_t days = 0;
	int opt, r;

	if (argc < 2)
		return db_usage("db needs a command", NULL);
	verb = argv[1];
	optind = 1;
	while ((opt = getopt_long(argc - 1, argv + 1, "", dbopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (c.db)
				return db_usage("option given twice, refusing:", "--db");
			c.db = optarg;
			break;
		case 'C':
			if (conf)
				return db_usage("option given twice, refusing:", "--config");
			conf = optarg;
			break;
		case 'o':
			if (older)
				return db_usage("option given twice, refusing:", "--older-than");
			older = optarg;
			if (parse_u32(optarg, 100000, &days) < 0)
				return db_usage("invalid --older-than (0 to 100000 days):", optarg);
			break;
		case 'h':
			db_usage("the database's operations; see vouchd(8)", NULL);
			return 0;
		default:
			return db_usage("invalid option", NULL);
		}
	}
	if (optind < argc - 1)
		path = argv[1 + optind++];
	if (optind < argc - 1)
		return db_usage("unexpected argument", argv[1 + optind]);
	if (strcmp(verb, "backup") == 0 ? !path : !!path)
		return db_usage(path ? "unexpected argument" : "db backup needs a PATH", path);
	if (strcmp(verb, "prune") == 0 ? !older : !!older)
		return db_usage(older ? "--older-than is for db prune" :
					"db prune needs --older-than DAYS", NULL);
	if (strcmp(verb, "status") && strcmp(verb, "migrate") && strcmp(verb, "backup") &&
	    strcmp(verb, "prune"))
		return db_usage("unknown db command", verb);
	if (conf) {
		/* the file's db unless --db was given; every other key checked and ignored */
		for (int i = 0; opts[i].name; i++)
			if (c.db && strcmp(opts[i].name, "db") == 0)
				f.cli |= UINT64_C(1) << i;
		r = conf_load("vouchd", conf, opts, refused, set_from_file, &f, &buf);
		free(c.pull_allow);
		if (r < 0) {
			free(buf);
			return r == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
		}
	}
	if (!c.db) {
		free(buf);
		return db_usage("--db (or a --config with db) is required", NULL);
	}
	if (strcmp(verb, "status") == 0)
		r = db_status(c.db);
	else if (strcmp(verb, "migrate") == 0)
		r = db_migrate(c.db);
	else if (strcmp(verb, "backup") == 0)
		r = db_backup(c.db, path);
	else
		r = db_prune(c.db, days);
	free(buf);
	return r;
}

static int run(int argc, char **argv)
{
	_cleanup_(free_allow) struct server srv = { 0 };
	int r;

	if (argc >= 2 && strcmp(argv[1], "db") == 0)
		return db_command(argc - 1, argv + 1);
	r = parse_args(argc, argv, &srv.cfg);
	if (r != 0) {
		free(srv.cfg.conf_buf);
		return r > 0 ? 0 : r == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
	}
	if (srv.cfg.check_config) {
		r = check_config(&srv);
		ear_free(&srv);
		X509_STORE_free(srv.agent_cas);
		X509_STORE_free(srv.operator_cas);
		enroll_cleanup(&srv);
		vouch_attest_reference_free(srv.reference);
		vouch_trust_free(srv.trust);
		vouch_ctx_free(srv.ctx);
		free(srv.cfg.conf_buf);
		return r;
	}
	r = store_open(srv.cfg.db, STORE_OPEN_POOL(srv.cfg.db_connections), &srv.store);
	if (r < 0) {
		fprintf(stderr, "vouchd: cannot open database '%s'%s\n", srv.cfg.db,
			r == -EPROTONOSUPPORT ? ": this vouchd was built without PostgreSQL (libpq)" : "");
		free(srv.cfg.conf_buf);
		return EXIT_RUNTIME;
	}
	if (srv.cfg.verify_chain) {
		r = verify_chain(srv.store);
		srv.store->ops->close(srv.store);
		free(srv.cfg.conf_buf);
		return r;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		srv.store->ops->close(srv.store);
		return EXIT_RUNTIME;
	}
	r = vouch_ctx_new(&srv.ctx);
	if (r == 0 && vouch_pcrs_parse_selection(srv.cfg.pcrs, &srv.pcrs) < 0) {
		usage_error("invalid --pcrs", srv.cfg.pcrs);
		r = -EINVAL;
	}
	if (r == 0 && srv.cfg.trust) {
		r = vouch_trust_new(srv.ctx, &srv.trust);
		if (r == 0)
			r = vouch_trust_add_path(srv.trust, srv.cfg.trust, NULL);
	}
	if (r == 0 && srv.cfg.reference)
		r = vouch_attest_reference_load(srv.ctx, srv.cfg.reference, &srv.reference);
	if (r < 0 && srv.ctx)
		fprintf(stderr, "vouchd: %s\n", vouch_ctx_last_error(srv.ctx));
	if (r == 0)
		r = role_stores(&srv);
	if (r == 0)
		r = enroll_setup(&srv);
	if (r == 0)
		r = agent_cache_new(srv.cfg.cache_agents, &srv.cache);
	if (r == 0 && !(srv.rates = calloc(RATE_SLOTS, sizeof(*srv.rates))))
		r = -ENOMEM;
	srv.conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_free);
	if (r == 0 && srv.conn_index < 0)
		r = -ENOMEM;
	if (r == 0)
		fit_nofile(&srv.cfg);
	if (r == 0 && !(srv.ssl = tls_setup(&srv.cfg)))
		r = -EIO;
	if (r == 0)
		r = ear_setup(&srv);
	if (r == 0)
		r = serve(&srv);
	ear_free(&srv);
	SSL_CTX_free(srv.ssl);
	X509_STORE_free(srv.agent_cas);
	X509_STORE_free(srv.operator_cas);
	enroll_cleanup(&srv);
	ref_cache_free(&srv);
	agent_cache_free(srv.cache);
	free(srv.rates);
	vouch_attest_reference_free(srv.reference);
	vouch_trust_free(srv.trust);
	vouch_ctx_free(srv.ctx);
	srv.store->ops->close(srv.store);
	curl_global_cleanup();
	free(srv.cfg.conf_buf);
	return r == 0 ? 0 : r == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
}

int main(int argc, char **argv)
{
	return run(argc, argv);
}
