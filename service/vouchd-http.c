// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd: responses, request bodies and the agent's identity from its client certificate.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include "vouchd.h"

const double buckets[N_BUCKETS] = { 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5 };
const char *const phase_names[_PHASE_MAX] = { "parse", "verify", "store" };

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

	hist_observe(&srv->commit, now_mono() - t0);
	return r;
}

/* --- responses ------------------------------------------------------------------------- */

void reply_json(struct evhttp_request *req, int code, json_object *o)
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
	evbuffer_add_printf(b, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	evhttp_send_reply(req, code, code < 300 ? "OK" : "Refused", b);
	evbuffer_free(b);
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
	reply_json(req, code, o);
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

/*
 * A small request document (enroll, activate, verify): strict RFC 8259 (json-c's strict mode),
 * MAX_DEPTH levels, nothing after it.  The evidence inside is then read again by
 * vouch_evidence_parse() with libvouch's own strict reader.
 */
json_object *parse_request(const char *body, size_t len, char *err, size_t err_size)
{
	json_tokener *tok = json_tokener_new_ex(MAX_DEPTH);
	json_object *o;

	if (!tok) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, body, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		snprintf(err, err_size, "invalid JSON at byte %zu: %s", json_tokener_get_parse_end(tok),
			 e == json_tokener_continue ? "truncated" : json_tokener_error_desc(e));
		json_object_put(o);
		o = NULL;
	} else if (json_tokener_get_parse_end(tok) != len &&
		   strspn(body + json_tokener_get_parse_end(tok), " \t\r\n") !=
			   len - json_tokener_get_parse_end(tok)) {
		snprintf(err, err_size, "trailing data after the JSON document");
		json_object_put(o);
		o = NULL;
	} else if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, err_size, "the body must be a JSON object");
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
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

/* The only keys @o may have are @keys (NULL-terminated); each must be a string except
 * "evidence" (an object). */
int check_keys(json_object *o, const char *const *keys, char *err, size_t err_size)
{
	json_object_object_foreach(o, k, v)
	{
		bool known = false;

		for (size_t i = 0; keys[i]; i++)
			known = known || strcmp(k, keys[i]) == 0;
		if (!known) {
			snprintf(err, err_size, "unknown member '%.64s'", k);
			return -EBADMSG;
		}
		if (!json_object_is_type(v, strcmp(k, "evidence") ? json_type_string
								   : json_type_object)) {
			snprintf(err, err_size, "'%s' has the wrong type", k);
			return -EBADMSG;
		}
	}
	for (size_t i = 0; keys[i]; i++)
		if (!json_object_object_get_ex(o, keys[i], NULL)) {
			snprintf(err, err_size, "'%s' is missing", keys[i]);
			return -EBADMSG;
		}
	return 0;
}

/* --- agent identity (mutual TLS) -------------------------------------------------------- */

bool valid_id(const char *id, size_t n)
{
	if (n == 0 || n > STORE_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    id[i]) || !id[i])
			return false;
	return id[0] != '.';
}

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
