// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd: responses, request bodies and the agent's identity from its client certificate.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include "vouchd.h"

const double buckets[N_BUCKETS] = { 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5 };
const char *const phase_names[_PHASE_MAX] = { "parse", "verify", "store", "commit" };

double now_mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

void observe(struct server *srv, int phase, double seconds)
{
	hist_observe(&srv->phase[phase], seconds);
}

void hist_observe(struct histogram *h, double seconds)
{
	for (size_t i = 0; i < N_BUCKETS; i++)
		if (seconds <= buckets[i])
			h->counts[i]++;
	h->n++;
	h->sum += seconds;
}

/* commit, timed for vouchd_db_commit_seconds */
int store_commit(struct server *srv)
{
	double t0 = now_mono();
	int r = srv->store->ops->commit(srv->store);

	/* inside a batch this releases a savepoint: the COMMIT is flush_batch()'s */
	if (!srv->batch_open)
		hist_observe(&srv->commit, now_mono() - t0);
	return r;
}

/* --- responses ------------------------------------------------------------------------- */

static void send_text(struct evhttp_request *req, int code, const char *text)
{
	struct evbuffer *b = evbuffer_new();

	if (!b) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	/* answers quote what agents sent: never to be sniffed into HTML by a browser */
	evhttp_add_header(evhttp_request_get_output_headers(req), "X-Content-Type-Options",
			  "nosniff");
	evbuffer_add_printf(b, "%s\n", text);
	evhttp_send_reply(req, code, code < 300 ? "OK" : "Refused", b);
	evbuffer_free(b);
}

/*
 * Group commit.  The first request of an event-loop round that writes opens one database
 * transaction (store batch_begin) and activates srv->flush; every request's writes are a
 * savepoint in it, and every reply of the round waits in srv->pending.  flush runs after
 * the round's other callbacks: one COMMIT (one WAL fsync, synchronous = FULL) for all of
 * them, and only then are the replies sent and the round's events streamed and delivered.
 * So a reply is never sent, nor an event announced, for a result that a crash of vouchd,
 * or of the machine, could still lose; if the COMMIT fails, every waiting request gets 503
 * instead of its reply (nothing of the round was stored).  With a pool of connections
 * (PostgreSQL, --db-connections > 1) the COMMIT is sent and its answer awaited in the
 * event loop (struct inflight): the next round is verified meanwhile.
 */
int store_begin(struct server *srv)
{
	struct store *st = srv->store;

	if (!srv->batch_open && srv->flush) {
		if (srv->inflight)
			flush_reap(srv, false);
		if (st->ops->batch_begin(st) < 0)
			return -EIO;
		srv->batch_open = true;
		srv->batch_t0 = now_mono();
		event_active(srv->flush, EV_TIMEOUT, 0);
	}
	return st->ops->begin(st);
}

void count_verdicts(struct server *srv, const uint64_t v[3])
{
	srv->attest_trusted += v[0];
	srv->attest_untrusted += v[1];
	srv->attest_error += v[2];
}

/* a round whose COMMIT is in flight (store commit_start()): its replies wait for the answer */
struct inflight {
	struct inflight *next;
	struct server *srv;
	struct store_commit *commit;
	struct event *ev;
	struct pending *pending;
	size_t n_pending;
	bool notify;
	uint64_t verdicts[3];
	double t0;
};

/* a reply's "result" is the seq its commit gave (deferred appends, store.h seq_resolve) */
static void resolve_result(struct server *srv, struct store_commit *c, json_object *o)
{
	json_object *v;
	uint64_t seq, real = 0;

	if (!json_object_object_get_ex(o, "result", &v) || !json_object_is_type(v, json_type_int))
		return;
	seq = (uint64_t)json_object_get_int64(v);
	if (!store_seq_deferred(seq))
		return;
	if (c)
		(void)srv->store->ops->commit_seq(c, seq, &real);
	else
		real = store_seq(srv->store, seq);
	json_object_object_add(o, "result", json_object_new_int64((int64_t)real));
}

/* the replies of a round, once its commit's outcome @r is known: only now are they sent, and
 * its events streamed and delivered */
static void finish_round(struct server *srv, struct pending *pending, size_t n, int r,
			 double t0, bool notify, const uint64_t verdicts[3], struct store_commit *c)
{
	if (r == 0)
		count_verdicts(srv, verdicts);
	observe(srv, PHASE_COMMIT, now_mono() - t0);
	hist_observe(&srv->commit, now_mono() - t0);
	for (size_t i = 0; i < n; i++) {
		struct pending *p = &pending[i];

		if (r == 0) {
			resolve_result(srv, c, p->o);
			send_text(p->req, p->code,
				  json_object_to_json_string_ext(p->o, JSON_C_TO_STRING_PLAIN));
		} else {
			send_text(p->req, 503, "{\"error\":\"cannot store the result\"}");
		}
		json_object_put(p->o);
	}
	if (r < 0)
		fprintf(stderr, "vouchd: commit of %zu requests failed: all refused\n", n);
	if (r == 0 && notify)
		notify_committed(srv);
}

static void inflight_done(struct inflight *f, int r)
{
	struct server *srv = f->srv;
	struct inflight **pp = &srv->inflight;

	while (*pp && *pp != f)
		pp = &(*pp)->next;
	if (*pp)
		*pp = f->next;
	finish_round(srv, f->pending, f->n_pending, r, f->t0, f->notify, f->verdicts, f->commit);
	free(f->pending);
	if (f->ev)
		event_free(f->ev);
	srv->store->ops->commit_free(f->commit);
	free(f);
}

static void on_commit(evutil_socket_t fd, short what, void *arg)
{
	struct inflight *f = arg;
	int r = f->srv->store->ops->commit_poll(f->commit, false);

	if (r != -EAGAIN)
		inflight_done(f, r);
}

/* the rounds whose answers are in (the store may have read one itself, waiting for a free
 * connection), or, with @wait, all of them (shutdown) */
void flush_reap(struct server *srv, bool wait)
{
	struct inflight *f = srv->inflight, *next;

	for (; f; f = next) {
		int r = srv->store->ops->commit_poll(f->commit, wait);

		next = f->next;
		if (r != -EAGAIN)
			inflight_done(f, r);
	}
}

/* the open round's replies, its commit's outcome @r known now */
static void finish_open_round(struct server *srv, int r)
{
	finish_round(srv, srv->pending, srv->n_pending, r, srv->batch_t0, srv->notify_pending,
		     srv->batch_verdicts, NULL);
	srv->n_pending = 0;
	srv->notify_pending = false;
	memset(srv->batch_verdicts, 0, sizeof(srv->batch_verdicts));
}

/* the round's COMMIT sent; its answer comes to on_commit() while the next round runs */
static int flush_async(struct server *srv)
{
	struct store *st = srv->store;
	struct inflight *f = calloc(1, sizeof(*f)), **tail = &srv->inflight;
	int fd, r;

	if (!f)
		return -ENOMEM;
	r = st->ops->commit_start(st, &f->commit, &fd);
	srv->batch_open = false;
	if (r < 0) {
		free(f);
		finish_open_round(srv, r);
		return 0;
	}
	f->srv = srv;
	f->pending = srv->pending;
	f->n_pending = srv->n_pending;
	f->notify = srv->notify_pending;
	memcpy(f->verdicts, srv->batch_verdicts, sizeof(f->verdicts));
	memset(srv->batch_verdicts, 0, sizeof(srv->batch_verdicts));
	f->t0 = srv->batch_t0;
	srv->pending = NULL;
	srv->n_pending = srv->size_pending = 0;
	srv->notify_pending = false;
	while (*tail)
		tail = &(*tail)->next;
	*tail = f;
	f->ev = event_new(srv->base, fd, EV_READ | EV_PERSIST, on_commit, f);
	if (!f->ev || event_add(f->ev, NULL) < 0)
		inflight_done(f, st->ops->commit_poll(f->commit, true));
	return 0;
}

void flush_batch(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	int r;

	if (!srv->batch_open)
		return;
	if (srv->store->ops->commit_start && srv->cfg.db_connections > 1 && flush_async(srv) == 0)
		return;
	r = srv->store->ops->batch_commit(srv->store);
	srv->batch_open = false;
	finish_open_round(srv, r);
}

void reply_json(struct server *srv, struct evhttp_request *req, int code, json_object *o)
{
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	if (srv->batch_open) {
		struct pending *p;

		if (srv->n_pending == srv->size_pending) {
			size_t size = srv->size_pending ? 2 * srv->size_pending : 64;

			p = realloc(srv->pending, size * sizeof(*p));
			if (!p) {
				evhttp_send_error(req, HTTP_SERVUNAVAIL, NULL);
				return;
			}
			srv->pending = p;
			srv->size_pending = size;
		}
		p = &srv->pending[srv->n_pending];
		/* serialised after the commit, which may fill in its "result" */
		p->o = json_object_get(o);
		p->req = req;
		p->code = code;
		srv->n_pending++;
		return;
	}
	send_text(req, code, text);
}

const char *method_name(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	default: return "?";
	}
}

/* a refused request: one line of reason, nothing stored */
__attribute__((format(printf, 4, 5)))
void refuse(struct server *srv, struct evhttp_request *req, int code, const char *fmt, ...)
{
	_cleanup_(json_putp) json_object *o = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* one line, whatever the library's message held */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	srv->rejected++;
	fprintf(stderr, "vouchd: %s %s: %d %s\n", method_name(evhttp_request_get_command(req)),
		evhttp_request_get_uri(req), code, msg);
	if (!o) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	json_object_object_add(o, "error", json_object_new_string(msg));
	reply_json(srv, req, code, o);
}

json_object *hex_json(const uint8_t *buf, size_t len)
{
	char s[2 * STORE_NONCE_MAX + 1];

	for (size_t i = 0; i < len && i < STORE_NONCE_MAX; i++)
		snprintf(s + 2 * i, 3, "%02x", buf[i]);
	s[2 * (len < STORE_NONCE_MAX ? len : STORE_NONCE_MAX)] = '\0';
	return json_object_new_string(s);
}

/* --- request input -------------------------------------------------------------------- */

/* The body, NUL-terminated, or NULL after refusing the request. */
char *request_body(struct server *srv, struct evhttp_request *req, size_t *ret_len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	size_t n = evbuffer_get_length(in);
	char *body;

	if (!ct || strncmp(ct, "application/json", 16) != 0 || (ct[16] && ct[16] != ';')) {
		refuse(srv, req, 415, "the body must be application/json");
		return NULL;
	}
	if (n == 0) {
		refuse(srv, req, 400, "empty body");
		return NULL;
	}
	if (n > MAX_BODY) {
		refuse(srv, req, 413, "body of %zu bytes exceeds %u", n, MAX_BODY);
		return NULL;
	}
	body = malloc(n + 1);
	if (!body || evbuffer_remove(in, body, n) != (int)n) {
		free(body);
		refuse(srv, req, 500, "out of memory");
		return NULL;
	}
	body[n] = '\0';
	*ret_len = n;
	return body;
}

/* the library's strict decoders, over a NUL-terminated JSON string; empty is refused */
int b64_decode(const char *s, uint8_t **ret, size_t *ret_len)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_BODY)
		return -EBADMSG;
	return vouch_base64_decode(s, n, ret, ret_len);
}

int hex_decode(const char *s, uint8_t *buf, size_t size, size_t *ret_len)
{
	size_t n = strlen(s);

	return n == 0 || vouch_hex_decode(s, n, buf, size, ret_len) < 0 ? -EBADMSG : 0;
}

/* --- agent identity (mutual TLS) -------------------------------------------------------- */

static bool asn1_equals(const ASN1_STRING *s, const char *id)
{
	size_t n = strlen(id);

	return s && (size_t)ASN1_STRING_length(s) == n &&
	       memcmp(ASN1_STRING_get0_data(s), id, n) == 0;
}

/* the client certificate names @id: its CN, or a DNS or URI subjectAltName */
bool cert_names(X509 *cert, const char *id)
{
	X509_NAME *subj = X509_get_subject_name(cert);
	GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	bool match = false;
	int i = -1;

	while (!match && subj && (i = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0)
		match = asn1_equals(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)), id);
	for (int j = 0; !match && sans && j < sk_GENERAL_NAME_num(sans); j++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, j);

		if (g->type == GEN_DNS || g->type == GEN_URI)
			match = asn1_equals(g->d.ia5, id);
	}
	GENERAL_NAMES_free(sans);
	return match;
}

X509_STORE *load_ca_store(const char *path)
{
	X509_STORE *st = X509_STORE_new();

	if (!st || X509_STORE_load_file(st, path) != 1) {
		X509_STORE_free(st);
		return NULL;
	}
	return st;
}

enum { ROLE_CHECKED = 1, ROLE_AGENT = 2, ROLE_OPERATOR = 4 };

/* does the peer's certificate chain to @cas, as a TLS client certificate? */
static bool chains_to(X509_STORE *cas, SSL *ssl, X509 *peer)
{
	X509_STORE_CTX *xs;
	bool ok;

	if (!cas || !(xs = X509_STORE_CTX_new()))
		return false;
	ok = X509_STORE_CTX_init(xs, cas, peer, SSL_get_peer_cert_chain(ssl)) == 1 &&
	     X509_STORE_CTX_set_purpose(xs, X509_PURPOSE_SSL_CLIENT) == 1 &&
	     X509_verify_cert(xs) == 1;
	X509_STORE_CTX_free(xs);
	return ok;
}

/*
 * The roles the connection's client certificate holds.  The TLS handshake accepts a chain to
 * any configured CA; each role is then decided against that role's CAs alone, so that an
 * operator's certificate named like an agent cannot act as the agent, nor the reverse.
 * Decided once per connection (a TLS 1.3 connection keeps its peer) and kept with the SSL.
 */
static unsigned roles(struct server *srv, struct evhttp_request *req, X509 **ret_peer)
{
	static int idx = -1;
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	X509 *peer;
	uintptr_t r;

	*ret_peer = NULL;
	if (!ssl || !(peer = SSL_get1_peer_certificate(ssl)))
		return 0;
	*ret_peer = peer;
	if (SSL_get_verify_result(ssl) != X509_V_OK)
		return 0;
	if (idx < 0)
		idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	r = idx < 0 ? 0 : (uintptr_t)SSL_get_ex_data(ssl, idx);
	if (!(r & ROLE_CHECKED)) {
		r = ROLE_CHECKED;
		if (chains_to(srv->agent_cas, ssl, peer))
			r |= ROLE_AGENT;
		if (chains_to(srv->operator_cas, ssl, peer))
			r |= ROLE_OPERATOR;
		if (idx >= 0)
			SSL_set_ex_data(ssl, idx, (void *)r);
	}
	return (unsigned)r;
}

/* 0 when the verified client certificate is an agent's and names @id (any agent when @id
 * is NULL); else refuses the request */
int require_agent(struct server *srv, struct evhttp_request *req, const char *id)
{
	_cleanup_(x509_freep) X509 *peer = NULL;
	unsigned r = roles(srv, req, &peer);

	if (!(r & ROLE_AGENT)) {
		refuse(srv, req, 401, "a client certificate issued by the agents' CA is required");
		return -EACCES;
	}
	if (id && !cert_names(peer, id)) {
		refuse(srv, req, 403, "the client certificate does not name agent '%s'", id);
		return -EPERM;
	}
	return 0;
}

int require_operator(struct server *srv, struct evhttp_request *req)
{
	_cleanup_(x509_freep) X509 *peer = NULL;

	if (!(roles(srv, req, &peer) & ROLE_OPERATOR)) {
		refuse(srv, req, srv->operator_cas ? 403 : 404, "%s",
		       srv->operator_cas ? "an operator certificate (issued by --operator-ca) is required"
					 : "the management API is off: vouchd has no --operator-ca");
		return -EPERM;
	}
	return 0;
}
