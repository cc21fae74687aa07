// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd: the attestation verifier service.  HTTPS with mutual TLS (libevent's evhttp over
 * bufferevent_openssl, TLS 1.3 only); agents register an AK, fetch a nonce and push
 * evidence carrying only the measurement-list entries the service has not verified yet;
 * every check is vouch_attest_verify()'s, incremental against the state kept in the store.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "vouchd.h"

static void do_metrics(struct server *srv, struct evhttp_request *req)
{
	struct evbuffer *b = evbuffer_new();
	uint64_t agents = 0, hits, misses;

	if (!b)
		return evhttp_send_error(req, HTTP_INTERNAL, NULL);
	(void)srv->store->ops->agent_count(srv->store, &agents);
	evbuffer_add_printf(b,
			    "# HELP vouchd_attestations_total Attestations by verdict.\n"
			    "# TYPE vouchd_attestations_total counter\n"
			    "vouchd_attestations_total{result=\"trusted\"} %llu\n"
			    "vouchd_attestations_total{result=\"untrusted\"} %llu\n"
			    "vouchd_attestations_total{result=\"error\"} %llu\n"
			    "# HELP vouchd_requests_refused_total Requests refused with a 4xx/5xx.\n"
			    "# TYPE vouchd_requests_refused_total counter\n"
			    "vouchd_requests_refused_total %llu\n"
			    "# HELP vouchd_agents Registered agents.\n"
			    "# TYPE vouchd_agents gauge\n"
			    "vouchd_agents %llu\n"
			    "# HELP vouchd_phase_seconds Time per attestation phase.\n"
			    "# TYPE vouchd_phase_seconds histogram\n",
			    (unsigned long long)srv->attest_trusted,
			    (unsigned long long)srv->attest_untrusted,
			    (unsigned long long)srv->attest_error, (unsigned long long)srv->rejected,
			    (unsigned long long)agents);
	for (int p = 0; p < _PHASE_MAX; p++) {
		const struct histogram *h = &srv->phase[p];

		for (size_t i = 0; i < N_BUCKETS; i++)
			evbuffer_add_printf(b, "vouchd_phase_seconds_bucket{phase=\"%s\",le=\"%g\"} %llu\n",
					    phase_names[p], buckets[i],
					    (unsigned long long)h->counts[i]);
		evbuffer_add_printf(b,
				    "vouchd_phase_seconds_bucket{phase=\"%s\",le=\"+Inf\"} %llu\n"
				    "vouchd_phase_seconds_sum{phase=\"%s\"} %.6f\n"
				    "vouchd_phase_seconds_count{phase=\"%s\"} %llu\n",
				    phase_names[p], (unsigned long long)h->n, phase_names[p], h->sum,
				    phase_names[p], (unsigned long long)h->n);
	}
	agent_cache_stats(srv->cache, &hits, &misses);
	evbuffer_add_printf(b,
			    "# HELP vouchd_agent_cache_total Lookups of decoded AKs by outcome.\n"
			    "# TYPE vouchd_agent_cache_total counter\n"
			    "vouchd_agent_cache_total{result=\"hit\"} %llu\n"
			    "vouchd_agent_cache_total{result=\"miss\"} %llu\n"
			    "# HELP vouchd_connections Open client connections.\n"
			    "# TYPE vouchd_connections gauge\n"
			    "vouchd_connections %llu\n"
			    "# HELP vouchd_connections_closed_total Connections vouchd closed.\n"
			    "# TYPE vouchd_connections_closed_total counter\n"
			    "vouchd_connections_closed_total{reason=\"shed\"} %llu\n"
			    "vouchd_connections_closed_total{reason=\"deadline\"} %llu\n",
			    (unsigned long long)hits, (unsigned long long)misses,
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
	if (strcmp(uri, "/v1/verify") == 0 && cmd == EVHTTP_REQ_POST)
		return do_verify(srv, req);
	if (strncmp(uri, "/v1/agents/", 11) != 0)
		return refuse(srv, req, 404, "no such endpoint");
	p = uri + 11;
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : 0;
	if (!slash || !valid_id(p, n))
		return refuse(srv, req, 400, "invalid agent id (1-%d of [A-Za-z0-9._-])", STORE_ID_MAX);
	memcpy(id, p, n);
	id[n] = '\0';
	if (strcmp(slash, "/register") == 0 && cmd == EVHTTP_REQ_POST)
		return do_register(srv, req, id);
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
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	fprintf(stderr, "vouchd: %s '%s': %s\n", what, path, e ? buf : "failed");
	ERR_clear_error();
}

static SSL_CTX *tls_setup(const struct config *c)
{
	SSL_CTX *ssl = SSL_CTX_new(TLS_server_method());
	STACK_OF(X509_NAME) *cas;
	struct stat sb;

	if (!ssl)
		return NULL;
	if (stat(c->tls_key, &sb) == 0 && (sb.st_mode & 077)) {
		fprintf(stderr, "vouchd: '%s' is readable by group or others, refusing\n", c->tls_key);
		goto fail;
	}
	SSL_CTX_set_min_proto_version(ssl, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(ssl, TLS1_3_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ssl, c->tls_cert) != 1) {
		ssl_error("cannot load certificate", c->tls_cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ssl, c->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ssl) != 1) {
		ssl_error("cannot load key", c->tls_key);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ssl, c->client_ca, NULL) != 1 ||
	    !(cas = SSL_load_client_CA_file(c->client_ca))) {
		ssl_error("cannot load CA", c->client_ca);
		goto fail;
	}
	SSL_CTX_set_client_CA_list(ssl, cas);
	/* asked for, not demanded: /healthz and /metrics answer without one; agent endpoints
	 * refuse a request without a verified certificate (require_agent()) */
	SSL_CTX_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	return ssl;
fail:
	SSL_CTX_free(ssl);
	return NULL;
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
	fprintf(stderr, "usage: vouchd --listen 127.0.0.1:PORT --db PATH --tls-cert CRT --tls-key KEY "
			"--client-ca CA [--trust CERTS] [--reference REF.json] [--pcrs SEL] "
			"[--nonce-ttl S] [--max-connections N] [--handshake-timeout S] "
			"[--agent-rate N] [--max-rate N]\n       vouchd --db PATH --verify-chain\n");
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct config *c)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'd' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "client-ca", required_argument, NULL, 'a' },
		{ "trust", required_argument, NULL, 't' },
		{ "reference", required_argument, NULL, 'r' },
		{ "pcrs", required_argument, NULL, 'p' },
		{ "nonce-ttl", required_argument, NULL, 'n' },
		{ "max-connections", required_argument, NULL, 'C' },
		{ "handshake-timeout", required_argument, NULL, 'H' },
		{ "agent-rate", required_argument, NULL, 'R' },
		{ "max-rate", required_argument, NULL, 'M' },
		{ "verify-chain", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ 0 },
	};
	int opt;

	c->nonce_ttl = 60;
	c->max_connections = 1024;
	c->handshake_timeout = 10;
	c->agent_rate = 10;
	c->max_rate = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char **slot = NULL;

		switch (opt) {
		case 'l': slot = &c->listen; break;
		case 'd': slot = &c->db; break;
		case 'c': slot = &c->tls_cert; break;
		case 'k': slot = &c->tls_key; break;
		case 'a': slot = &c->client_ca; break;
		case 't': slot = &c->trust; break;
		case 'r': slot = &c->reference; break;
		case 'p': slot = &c->pcrs; break;
		case 'n':
			if (parse_u32(optarg, 86400, &c->nonce_ttl) < 0 || c->nonce_ttl == 0)
				return usage_error("invalid --nonce-ttl", optarg);
			break;
		case 'C':
			if (parse_u32(optarg, 1000000, &c->max_connections) < 0 || !c->max_connections)
				return usage_error("invalid --max-connections", optarg);
			break;
		case 'H':
			if (parse_u32(optarg, 3600, &c->handshake_timeout) < 0 || !c->handshake_timeout)
				return usage_error("invalid --handshake-timeout", optarg);
			break;
		case 'R':
			if (parse_u32(optarg, 1000000, &c->agent_rate) < 0)
				return usage_error("invalid --agent-rate", optarg);
			break;
		case 'M':
			if (parse_u32(optarg, 1000000, &c->max_rate) < 0)
				return usage_error("invalid --max-rate", optarg);
			break;
		case 'V': c->verify_chain = true; break;
		case 'h':
			usage_error("the attestation verifier service; see vouchd(8)", NULL);
			return 1;
		case 'v':
			printf("vouchd %s\n", VOUCH_VERSION);
			return 1;
		default:
			return -EINVAL;
		}
		if (slot) {
			if (*slot)
				return usage_error("option given twice, refusing:", argv[optind - 1]);
			*slot = optarg;
		}
	}
	if (optind != argc)
		return usage_error("unexpected argument", argv[optind]);
	if (!c->db)
		return usage_error("--db is required", NULL);
	if (c->verify_chain)
		return 0;
	if (!c->listen || !c->tls_cert || !c->tls_key || !c->client_ca)
		return usage_error("--listen, --tls-cert, --tls-key and --client-ca are required", NULL);
	if (!c->pcrs)
		c->pcrs = "sha256:0-10";
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

static int serve(struct server *srv)
{
	struct evhttp *http = NULL;
	struct evhttp_bound_socket *bound;
	int one = 1;
	struct event *sigterm = NULL, *sigint = NULL;
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
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_gencb(http, route, srv);
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
	srv->flush = event_new(srv->base, -1, 0, flush_batch, srv);
	if (!srv->flush)
		goto out;
	sigterm = evsignal_new(srv->base, SIGTERM, on_signal, srv->base);
	sigint = evsignal_new(srv->base, SIGINT, on_signal, srv->base);
	if (!sigterm || !sigint || event_add(sigterm, NULL) < 0 || event_add(sigint, NULL) < 0)
		goto out;
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "vouchd: listening on %s (TLS 1.3, client certificates from '%s')\n",
		srv->cfg.listen, srv->cfg.client_ca);
	r = event_base_dispatch(srv->base) < 0 ? -EIO : 0;
out:
	if (srv->flush) {
		flush_batch(-1, 0, srv);
		event_free(srv->flush);
	}
	free(srv->pending);
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	if (http)
		evhttp_free(http);
	if (srv->base)
		event_base_free(srv->base);
	return r;
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

static int run(int argc, char **argv)
{
	struct server srv = { 0 };
	int r;

	r = parse_args(argc, argv, &srv.cfg);
	if (r != 0)
		return r > 0 ? 0 : EXIT_USAGE;
	r = store_sqlite_ops.open(srv.cfg.db, &srv.store);
	if (r < 0) {
		fprintf(stderr, "vouchd: cannot open database '%s'\n", srv.cfg.db);
		return EXIT_RUNTIME;
	}
	if (srv.cfg.verify_chain) {
		r = verify_chain(srv.store);
		srv.store->ops->close(srv.store);
		return r;
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
		r = agent_cache_new(&srv.cache);
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
		r = serve(&srv);
	SSL_CTX_free(srv.ssl);
	agent_cache_free(srv.cache);
	free(srv.rates);
	vouch_attest_reference_free(srv.reference);
	vouch_trust_free(srv.trust);
	vouch_ctx_free(srv.ctx);
	srv.store->ops->close(srv.store);
	return r == 0 ? 0 : r == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
}

int main(int argc, char **argv)
{
	return run(argc, argv);
}
