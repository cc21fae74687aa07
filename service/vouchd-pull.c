// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd pull mode: for each agent registered with "mode": "pull", every --interval seconds
 * a fresh nonce (stored like a push nonce), then
 *
 *   GET <url>/v1/quote?nonce=HEX&offset=N&pcrs=SEL
 *
 * over mutual TLS (vouchd shows --pull-cert; the agent's server certificate must chain to
 * --pull-ca and name the agent's id: the certificate enrollment issued it, so the evidence
 * comes from the enrolled agent whatever address the URL names), and the answer goes through attest_evidence(),
 * the very transaction pushed evidence goes through.  204 means no entry after N: nothing
 * is recorded.  A failed fetch (connection, TLS, timeout, HTTP error, not evidence)
 * consumes the nonce and appends an "error" result with the reason; no state moves.
 *
 * The fetches run on libcurl's multi interface driven by the daemon's libevent loop
 * (curl_multi_socket_action(), one event per socket, one timer), so polling never blocks
 * the push endpoints.
 *
 * The URL comes from the agent, so it is attacker-controlled: only https, the host an IP
 * literal (no DNS to rebind) inside one of the operator's --pull-allow networks, no user
 * info, query or fragment; redirects are never followed.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <arpa/inet.h>

#include <curl/curl.h>

#include "curl-client.h"
#include "vouchd.h"

struct cidr {
	int af;
	uint8_t addr[16];
	unsigned prefix;
};

struct fetch {
	struct pull *p;
	struct fetch *next;
	CURL *easy;
	char id[STORE_ID_MAX + 1];
	struct store_nonce nonce;
	uint64_t offset;
	struct buf body; /* the answer: more than a push body may be fails the transfer */
	char errbuf[CURL_ERROR_SIZE];
};

struct pull {
	struct server *srv;
	CURLM *multi;
	struct event *tick; /* LEASE_ROUNDS a interval: leases renewed, due rounds started */
	unsigned ticks;
	char (*held)[STORE_ID_MAX + 1]; /* the agents this node held at the last tick, sorted */
	size_t n_held;
	struct event *timer;
	struct fetch *fetches; /* in flight; one per agent at most */
	struct cidr *allow;
	size_t n_allow;
};

/* --- the agents' URLs --------------------------------------------------------------------- */

static int parse_cidr(const char *s, struct cidr *ret)
{
	char addr[INET6_ADDRSTRLEN + 1], *end;
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long prefix;
	struct cidr c = { 0 };

	if (n == 0 || n >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, c.addr) == 1)
		c.af = AF_INET;
	else if (inet_pton(AF_INET6, addr, c.addr) == 1)
		c.af = AF_INET6;
	else
		return -EINVAL;
	prefix = c.af == AF_INET ? 32 : 128;
	if (slash) {
		errno = 0;
		prefix = strtoul(slash + 1, &end, 10);
		if (errno || !slash[1] || *end || slash[1] == '-' || slash[1] == '+' ||
		    prefix > (c.af == AF_INET ? 32U : 128U))
			return -EINVAL;
	}
	c.prefix = (unsigned)prefix;
	*ret = c;
	return 0;
}

static bool cidr_has(const struct cidr *c, int af, const uint8_t *addr)
{
	unsigned full = c->prefix / 8, rest = c->prefix % 8;

	if (c->af != af || memcmp(c->addr, addr, full) != 0)
		return false;
	return rest == 0 || ((c->addr[full] ^ addr[full]) & (uint8_t)(0xff00 >> rest)) == 0;
}

/* @url checked (see the top of the file) and normalised to https://IP:PORT in @out */
static int check_url(const struct pull *p, const char *url, char *out, size_t out_size,
		     char *err, size_t err_size)
{
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *x = NULL;
	char ip[INET6_ADDRSTRLEN + 1];
	uint8_t addr[16];
	size_t n;
	int af = 0, r = -EBADMSG;

	if (strlen(url) > STORE_URL_MAX) {
		snprintf(err, err_size, "'url' is longer than %d bytes", STORE_URL_MAX);
		return -EBADMSG;
	}
	u = curl_url();
	if (!u) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		snprintf(err, err_size, "'url' is not a URL");
		goto out;
	}
	if (strcmp(scheme, "https") != 0) {
		snprintf(err, err_size, "'url' must be https, not '%.16s'", scheme);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &x, 0) != CURLUE_NO_USER ||
	    curl_url_get(u, CURLUPART_QUERY, &x, 0) != CURLUE_NO_QUERY ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &x, 0) != CURLUE_NO_FRAGMENT ||
	    (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK && strcmp(path, "/") != 0)) {
		snprintf(err, err_size, "'url' is https://IP:PORT, without user, path or query");
		goto out;
	}
	n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(ip)) {
		memcpy(ip, host + 1, n - 2);
		ip[n - 2] = '\0';
		af = inet_pton(AF_INET6, ip, addr) == 1 ? AF_INET6 : 0;
	} else if (n < sizeof(ip)) {
		memcpy(ip, host, n + 1);
		af = inet_pton(AF_INET, ip, addr) == 1 ? AF_INET : 0;
	}
	if (!af) {
		snprintf(err, err_size, "the host of 'url' must be an IP address, not a name");
		goto out;
	}
	r = -EPERM;
	for (size_t i = 0; r < 0 && i < p->n_allow; i++)
		if (cidr_has(&p->allow[i], af, addr))
			r = 0;
	if (r < 0) {
		snprintf(err, err_size, "'url' %.64s is outside the networks of --pull-allow", host);
		goto out;
	}
	if ((size_t)snprintf(out, out_size, "https://%s:%s", host, port) >= out_size) {
		snprintf(err, err_size, "'url' is too long");
		r = -EBADMSG;
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(x);
	curl_url_cleanup(u);
	return r;
}

int pull_registration(struct server *srv, json_object *o, struct store_agent *a, char *err,
		      size_t err_size)
{
	json_object *m = NULL, *u = NULL;
	bool has_mode = json_object_object_get_ex(o, "mode", &m);
	bool has_url = json_object_object_get_ex(o, "url", &u);
	const char *mode = "push";
	int r = 0;

	if (has_mode && !json_object_is_type(m, json_type_string)) {
		snprintf(err, err_size, "'mode' has the wrong type");
		return -EBADMSG;
	}
	if (has_mode)
		mode = json_object_get_string(m);
	if (strcmp(mode, "push") != 0 && strcmp(mode, "pull") != 0) {
		snprintf(err, err_size, "'mode' is \"push\" or \"pull\"");
		return -EBADMSG;
	}
	if (strcmp(mode, "push") == 0 && has_url) {
		snprintf(err, err_size, "'url' is for \"mode\": \"pull\"");
		return -EBADMSG;
	}
	if (strcmp(mode, "pull") == 0) {
		if (!srv->pull) {
			snprintf(err, err_size, "pull mode is not enabled on this server");
			return -EPERM;
		}
		if (!has_url || !json_object_is_type(u, json_type_string)) {
			snprintf(err, err_size, "pull mode needs a 'url' string");
			return -EBADMSG;
		}
		r = check_url(srv->pull, json_object_get_string(u), a->url, sizeof(a->url), err,
			      err_size);
		if (r < 0)
			return r == -EPERM ? -EPERM : -EBADMSG;
	}
	snprintf(a->mode, sizeof(a->mode), "%s", mode);
	json_object_object_del(o, "mode");
	json_object_object_del(o, "url");
	return 0;
}

/* --- the outcome of a fetch ---------------------------------------------------------------- */

/* a round that did not produce evidence to judge: the nonce is spent, an "error" row says why */
static void record_error(struct server *srv, const char *id, const char *reason)
{
	_cleanup_(json_putp) json_object *o = json_object_new_object();
	struct store *st = srv->store;
	struct store_nonce n;
	uint64_t seq = 0;
	int r;

	fprintf(stderr, "vouchd: agent '%s': pull failed: %s\n", id, reason);
	srv->attest_error++;
	srv->pull_failures++;
	if (!o)
		return;
	json_object_object_add(o, "verdict", json_object_new_string("error"));
	json_object_object_add(o, "agent", json_object_new_string(id));
	json_object_object_add(o, "mode", json_object_new_string("pull"));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	if (st->ops->begin(st) < 0)
		return;
	r = st->ops->nonce_take(st, id, &n);
	if (r == 0 || r == -ENOENT) {
		struct store_result row = {
			.agent = id, .time = (int64_t)time(NULL), .verdict = "error",
			.body = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
		};

		r = st->ops->result_append(st, &row, &seq);
	}
	if (r == 0)
		r = store_commit(srv);
	if (r < 0)
		st->ops->rollback(st);
}

static void nothing_new(struct server *srv, struct fetch *f)
{
	struct store *st = srv->store;
	struct store_nonce n;

	fprintf(stderr, "vouchd: agent '%s': no entries after %llu (pulled)\n", f->id,
		(unsigned long long)f->offset);
	if (st->ops->begin(st) < 0)
		return;
	if (st->ops->nonce_take(st, f->id, &n) == 0 && store_commit(srv) == 0)
		return;
	st->ops->rollback(st);
}

static void judge(struct server *srv, struct fetch *f)
{
	_cleanup_(evidence_freep) struct vouch_evidence *ev = NULL;
	_cleanup_(json_putp) json_object *out = NULL;
	struct attest_error e;
	double t0 = now_mono();
	char reason[600];

	if (vouch_evidence_parse(srv->ctx, f->body.data, f->body.len, &ev) < 0) {
		snprintf(reason, sizeof(reason), "not an evidence document: %s",
			 vouch_ctx_last_error(srv->ctx));
		for (char *c = reason; *c; c++)
			if (*c == '\n' || *c == '\r')
				*c = ' ';
		return record_error(srv, f->id, reason);
	}
	observe(srv, PHASE_PARSE, now_mono() - t0);
	if (attest_evidence(srv, f->id, ev, &f->nonce, false,
			    evidence_restart(f->body.data, f->body.len), &out, &e) < 0) {
		snprintf(reason, sizeof(reason), "refused (%d): %s", e.code, e.msg);
		return record_error(srv, f->id, reason);
	}
}

static void fetch_free(struct fetch *f)
{
	if (!f)
		return;
	if (f->easy) {
		curl_multi_remove_handle(f->p->multi, f->easy);
		curl_easy_cleanup(f->easy);
	}
	free(f->body.data);
	free(f);
}

static void finish(struct pull *p, struct fetch *f, CURLcode rc)
{
	struct server *srv = p->srv;
	char reason[CURL_ERROR_SIZE + 128];
	long code = 0;

	for (struct fetch **pp = &p->fetches; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	if (rc == CURLE_OK)
		curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK) {
		snprintf(reason, sizeof(reason), "fetch: %s%s%s", curl_easy_strerror(rc),
			 f->errbuf[0] ? ": " : "", f->errbuf);
		record_error(srv, f->id, reason);
	} else if (code == 204) {
		nothing_new(srv, f);
	} else if (code != 200 || !f->body.data) {
		snprintf(reason, sizeof(reason), "the agent answered HTTP %ld", code);
		record_error(srv, f->id, reason);
	} else {
		judge(srv, f);
	}
	fetch_free(f);
}

static void check_done(struct pull *p)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(p->multi, &left))) {
		struct fetch *f = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&f);
		if (f)
			finish(p, f, msg->data.result);
	}
}

/* --- libcurl on the event loop ----------------------------------------------------------------- */

static void on_socket_event(evutil_socket_t fd, short kind, void *arg)
{
	struct pull *p = arg;
	int running = 0, flags = (kind & EV_READ ? CURL_CSELECT_IN : 0) |
				 (kind & EV_WRITE ? CURL_CSELECT_OUT : 0);

	curl_multi_socket_action(p->multi, fd, flags, &running);
	check_done(p);
}

static void on_curl_timeout(evutil_socket_t fd, short kind, void *arg)
{
	struct pull *p = arg;
	int running = 0;

	curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(p);
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct pull *p = userp;
	struct event *ev = socketp;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (ev) {
			event_free(ev);
			curl_multi_assign(p->multi, s, NULL);
		}
		return 0;
	}
	kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0) |
		       EV_PERSIST);
	if (ev) {
		event_del(ev);
		if (event_assign(ev, p->srv->base, s, kind, on_socket_event, p) < 0)
			return -1;
	} else {
		ev = event_new(p->srv->base, s, kind, on_socket_event, p);
		if (!ev)
			return -1;
		curl_multi_assign(p->multi, s, ev);
	}
	return event_add(ev, NULL) < 0 ? -1 : 0;
}

static int on_timer(CURLM *multi, long ms, void *userp)
{
	struct pull *p = userp;
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	if (ms < 0)
		return evtimer_del(p->timer) < 0 ? -1 : 0;
	return evtimer_add(p->timer, &tv) < 0 ? -1 : 0;
}

/* --- one round per agent ------------------------------------------------------------------------ */

/* a fresh nonce and the agent's offset, committed before the request leaves */
static int prepare(struct server *srv, struct fetch *f)
{
	struct store *st = srv->store;
	struct store_state s = { 0 };
	int r;

	if (st->ops->begin(st) < 0)
		return -EIO;
	r = st->ops->state_get(st, f->id, &s);
	if (r == 0) {
		struct vouch_attest_state vs;

		if (vouch_attest_state_parse(srv->ctx, s.state_json, strlen(s.state_json), &vs) == 0)
			f->offset = vs.entries;
		store_state_clear(&s);
	} else if (r == -ENOENT) {
		r = 0;
	}
	if (r == 0)
		r = new_nonce(srv, f->id, &f->nonce);
	if (r == 0)
		r = store_commit(srv);
	if (r < 0)
		st->ops->rollback(st);
	return r;
}

/* the SSL_CTX ex_data slot of the fetch a connection belongs to (ssl_ctx_setup()) */
static int fetch_idx = -1;

/* depth 0: the agent's certificate must name the agent this fetch is for */
static int verify_agent(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	const struct fetch *f = ssl ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), fetch_idx) : NULL;
	X509 *cert = X509_STORE_CTX_get_current_cert(xs);

	if (!ok || X509_STORE_CTX_get_error_depth(xs) != 0)
		return ok;
	if (!f || !cert || !cert_names(cert, f->id)) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_HOSTNAME_MISMATCH);
		return 0;
	}
	return 1;
}

/* libcurl makes an SSL_CTX per connection and hands it here before the handshake */
static CURLcode ssl_ctx_setup(CURL *easy, void *sslctx, void *userdata)
{
	SSL_CTX *ctx = sslctx;

	(void)easy;
	if (fetch_idx < 0 || SSL_CTX_set_ex_data(ctx, fetch_idx, userdata) != 1)
		return CURLE_SSL_CERTPROBLEM;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_agent);
	return CURLE_OK;
}

static int start_fetch(struct pull *p, const char *id, const char *stored_url)
{
	struct server *srv = p->srv;
	_cleanup_free_ char *url = NULL;
	char base[STORE_URL_MAX + 1], err[256], hex[2 * STORE_NONCE_MAX + 1];
	struct fetch *f;
	char *pcrs;
	int r;

	for (f = p->fetches; f; f = f->next)
		if (strcmp(f->id, id) == 0)
			return 0; /* the previous round is still under way */
	if (fetch_idx < 0 && (fetch_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL)) < 0)
		return -ENOMEM;
	/* the allowed networks may have shrunk since the agent registered */
	if (check_url(p, stored_url, base, sizeof(base), err, sizeof(err)) < 0) {
		record_error(srv, id, err);
		return 0;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->p = p;
	f->body.max = MAX_BODY;
	snprintf(f->id, sizeof(f->id), "%s", id);
	r = prepare(srv, f);
	if (r < 0) {
		free(f);
		return r;
	}
	for (size_t i = 0; i < f->nonce.len; i++)
		snprintf(hex + 2 * i, 3, "%02x", f->nonce.nonce[i]);
	f->easy = curl_easy_init();
	pcrs = f->easy ? curl_easy_escape(f->easy, srv->cfg.pcrs, 0) : NULL;
	if (!pcrs || asprintf(&url, "%s/v1/quote?nonce=%s&offset=%llu&pcrs=%s", base, hex,
			      (unsigned long long)f->offset, pcrs) < 0) {
		curl_free(pcrs);
		fetch_free(f);
		return -ENOMEM;
	}
	curl_free(pcrs);
	curl_easy_setopt(f->easy, CURLOPT_URL, url);
	curl_easy_setopt(f->easy, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(f->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(f->easy, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
	curl_easy_setopt(f->easy, CURLOPT_SSLCERT, srv->cfg.pull_cert);
	curl_easy_setopt(f->easy, CURLOPT_SSLKEY, srv->cfg.pull_key);
	curl_easy_setopt(f->easy, CURLOPT_CAINFO, srv->cfg.pull_ca);
	curl_easy_setopt(f->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	/* the name checked is the agent id, not the URL's IP address (verify_agent()) */
	curl_easy_setopt(f->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(f->easy, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_setup);
	curl_easy_setopt(f->easy, CURLOPT_SSL_CTX_DATA, f);
	curl_easy_setopt(f->easy, CURLOPT_TIMEOUT, (long)srv->cfg.pull_timeout);
	curl_easy_setopt(f->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f->easy, CURLOPT_ERRORBUFFER, f->errbuf);
	curl_easy_setopt(f->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(f->easy, CURLOPT_WRITEDATA, &f->body);
	curl_easy_setopt(f->easy, CURLOPT_PRIVATE, f);
	if (curl_multi_add_handle(p->multi, f->easy) != CURLM_OK) {
		fetch_free(f);
		return -ENOMEM;
	}
	f->next = p->fetches;
	p->fetches = f;
	srv->pull_fetches++;
	return 0;
}

struct due {
	char (*id)[STORE_ID_MAX + 1];
	char (*url)[STORE_URL_MAX + 1];
	size_t n, cap;
};

static int collect(void *userdata, const char *id, const char *url)
{
	struct due *d = userdata;

	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		void *a = reallocarray(d->id, cap, sizeof(*d->id));

		if (!a)
			return -ENOMEM;
		d->id = a;
		a = reallocarray(d->url, cap, sizeof(*d->url));
		if (!a)
			return -ENOMEM;
		d->url = a;
		d->cap = cap;
	}
	snprintf(d->id[d->n], sizeof(d->id[d->n]), "%s", id);
	snprintf(d->url[d->n], sizeof(d->url[d->n]), "%s", url);
	d->n++;
	return 0;
}

/*
 * Several nodes over one database: a pull agent is fetched by the node holding its lease.
 * Leases last one interval (at least 2 s) and are renewed LEASE_ROUNDS times an interval,
 * so a node that dies loses them within an interval; the next tick of another node claims
 * them and fetches the agents it took over at once: the agents are back within 2
 * intervals.  Every LEASE_ROUNDS-th tick is a round of every agent held.
 */
#define LEASE_ROUNDS 4
#define PULL_MAX ((size_t)1 << 30) /* agents one node may hold: no cap but memory */

static int64_t lease_ttl(const struct server *srv)
{
	return srv->cfg.interval < 2 ? 2 : (int64_t)srv->cfg.interval;
}

static int id_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void on_tick(evutil_socket_t fd, short kind, void *arg)
{
	struct pull *p = arg;
	struct store *st = p->srv->store;
	struct due d = { 0 };
	bool round = p->ticks++ % LEASE_ROUNDS == 0;
	size_t taken = 0;
	int r;

	/* the list first, the rounds after: a round writes to the store */
	if (st->ops->pull_claim)
		r = st->ops->pull_claim(st, p->srv->cfg.node_id, (int64_t)time(NULL), lease_ttl(p->srv),
					PULL_MAX, collect, &d);
	else
		r = st->ops->pull_list(st, collect, &d);
	if (r < 0) {
		fprintf(stderr, "vouchd: cannot claim the pull agents\n");
		free(d.id);
		free(d.url);
		return;
	}
	for (size_t i = 0; i < d.n; i++) {
		bool had = p->held && bsearch(d.id[i], p->held, p->n_held, sizeof(*p->held), id_cmp);

		taken += !had;
		if ((round || !had) && start_fetch(p, d.id[i], d.url[i]) < 0)
			fprintf(stderr, "vouchd: agent '%s': cannot start a pull round\n", d.id[i]);
	}
	if (taken)
		fprintf(stderr, "vouchd: node '%s' now holds %zu pull agent(s), %zu new\n",
			p->srv->cfg.node_id, d.n, taken);
	free(d.url);
	free(p->held);
	p->held = d.id;
	p->n_held = d.n;
	if (p->n_held > 1)
		qsort(p->held, p->n_held, sizeof(*p->held), id_cmp);
}

/* --- setup --------------------------------------------------------------------------------------- */

/* the --pull-allow values (each one network or several, comma-separated) into @ret */
static int parse_allow(const struct config *c, struct cidr **ret, size_t *ret_n)
{
	struct cidr *allow;
	size_t n = 0, k = 0;

	for (size_t i = 0; i < c->n_pull_allow; i++) {
		n++;
		for (const char *x = c->pull_allow[i]; *x; x++)
			n += *x == ',';
	}
	allow = calloc(n ? n : 1, sizeof(*allow));
	if (!allow)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_pull_allow; i++) {
		const char *s = c->pull_allow[i];

		for (;;) {
			size_t len = strcspn(s, ",");
			char one[INET6_ADDRSTRLEN + 8];

			if (len >= sizeof(one) || (memcpy(one, s, len), one[len] = '\0',
						   parse_cidr(one, &allow[k])) < 0) {
				fprintf(stderr, "vouchd: invalid --pull-allow '%.*s' (ADDRESS[/PREFIX])\n",
					(int)len, s);
				free(allow);
				return -EINVAL;
			}
			k++;
			if (!s[len])
				break;
			s += len + 1;
		}
	}
	*ret = allow;
	*ret_n = k;
	return 0;
}

int pull_allow_check(const struct config *c)
{
	struct cidr *allow = NULL;
	size_t n = 0;
	int r = parse_allow(c, &allow, &n);

	free(allow);
	return r;
}

int pull_start(struct server *srv)
{
	struct timeval tv = { .tv_sec = srv->cfg.interval / LEASE_ROUNDS,
			      .tv_usec = (suseconds_t)(srv->cfg.interval % LEASE_ROUNDS) *
					 (1000000 / LEASE_ROUNDS) };
	struct pull *p;
	int r;

	if (!srv->cfg.pull_cert)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->srv = srv;
	srv->pull = p;
	r = parse_allow(&srv->cfg, &p->allow, &p->n_allow);
	if (r < 0)
		return r;
	p->multi = curl_multi_init();
	p->timer = p->multi ? evtimer_new(srv->base, on_curl_timeout, p) : NULL;
	p->tick = p->timer ? event_new(srv->base, -1, EV_PERSIST, on_tick, p) : NULL;
	if (!p->tick || event_add(p->tick, &tv) < 0)
		return -ENOMEM;
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
	fprintf(stderr, "vouchd: pull mode every %u s, %zu allowed network(s)\n",
		srv->cfg.interval, p->n_allow);
	return 0;
}

void pull_stop(struct server *srv)
{
	struct pull *p = srv->pull;

	if (!p)
		return;
	while (p->fetches) {
		struct fetch *f = p->fetches;

		p->fetches = f->next;
		fetch_free(f);
	}
	if (p->multi)
		curl_multi_cleanup(p->multi);
	if (p->tick)
		event_free(p->tick);
	if (p->timer)
		event_free(p->timer);
	free(p->allow);
	free(p->held);
	free(p);
	srv->pull = NULL;
}
