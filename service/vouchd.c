// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd: the attestation verifier service.  HTTPS with mutual TLS (libevent's evhttp over
 * bufferevent_openssl, TLS 1.3 only); agents register an AK, fetch a nonce and push
 * evidence carrying only the measurement-list entries the service has not verified yet;
 * every check is vouch_attest_verify()'s, incremental against the state kept in the store.
 *
 * Copyright (C) 2026 The vouch authors
 */
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
	bool verify_chain;
};

/* Prometheus histogram buckets (seconds) of each phase of an attestation */
static const double buckets[] = { 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5 };
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))
enum { PHASE_PARSE, PHASE_VERIFY, PHASE_STORE, _PHASE_MAX };
static const char *const phase_names[_PHASE_MAX] = { "parse", "verify", "store" };

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
	struct event_base *base;
	uint64_t attest_trusted, attest_untrusted, attest_error, rejected;
	struct histogram phase[_PHASE_MAX];
};

static double now_mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void observe(struct server *srv, int phase, double seconds)
{
	struct histogram *h = &srv->phase[phase];

	for (size_t i = 0; i < N_BUCKETS; i++)
		if (seconds <= buckets[i])
			h->counts[i]++;
	h->n++;
	h->sum += seconds;
}

/* --- responses ------------------------------------------------------------------------- */

static void reply_json(struct evhttp_request *req, int code, json_object *o)
{
	struct evbuffer *b = evbuffer_new();

	if (!b) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	evbuffer_add_printf(b, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	evhttp_send_reply(req, code, code < 300 ? "OK" : "Refused", b);
	evbuffer_free(b);
}

/* a refused request: one line of reason, nothing stored */
__attribute__((format(printf, 4, 5)))
static void refuse(struct server *srv, struct evhttp_request *req, int code, const char *fmt, ...)
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
	fprintf(stderr, "vouchd: %s %s: %d %s\n",
		evhttp_request_get_command(req) == EVHTTP_REQ_GET ? "GET" : "POST",
		evhttp_request_get_uri(req), code, msg);
	if (!o) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	json_object_object_add(o, "error", json_object_new_string(msg));
	reply_json(req, code, o);
}

static json_object *hex_json(const uint8_t *buf, size_t len)
{
	char s[2 * STORE_NONCE_MAX + 1];

	for (size_t i = 0; i < len && i < STORE_NONCE_MAX; i++)
		snprintf(s + 2 * i, 3, "%02x", buf[i]);
	s[2 * (len < STORE_NONCE_MAX ? len : STORE_NONCE_MAX)] = '\0';
	return json_object_new_string(s);
}

/* --- request input -------------------------------------------------------------------- */

/* The body, NUL-terminated, or NULL after refusing the request. */
static char *request_body(struct server *srv, struct evhttp_request *req, size_t *ret_len)
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
 * A small request document (register, verify): strict RFC 8259 (json-c's strict mode),
 * MAX_DEPTH levels, nothing after it.  The evidence inside is then read again by
 * vouch_evidence_parse() with libvouch's own strict reader.
 */
static json_object *parse_request(const char *body, size_t len, char *err, size_t err_size)
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
static int b64_decode(const char *s, uint8_t **ret, size_t *ret_len)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_BODY)
		return -EBADMSG;
	return vouch_base64_decode(s, n, ret, ret_len);
}

static int hex_decode(const char *s, uint8_t *buf, size_t size, size_t *ret_len)
{
	size_t n = strlen(s);

	return n == 0 || vouch_hex_decode(s, n, buf, size, ret_len) < 0 ? -EBADMSG : 0;
}

/* The only keys @o may have are @keys (NULL-terminated); each must be a string except
 * "evidence" (an object). */
static int check_keys(json_object *o, const char *const *keys, char *err, size_t err_size)
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

static bool valid_id(const char *id, size_t n)
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
static bool cert_names(X509 *cert, const char *id)
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

/* 0 when the verified client certificate names @id (any identity when @id is NULL); else
 * refuses the request */
static int require_agent(struct server *srv, struct evhttp_request *req, const char *id)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	_cleanup_(x509_freep) X509 *peer = ssl ? SSL_get1_peer_certificate(ssl) : NULL;

	if (!peer || SSL_get_verify_result(ssl) != X509_V_OK) {
		refuse(srv, req, 401, "a client certificate issued by the agents' CA is required");
		return -EACCES;
	}
	if (id && !cert_names(peer, id)) {
		refuse(srv, req, 403, "the client certificate does not name agent '%s'", id);
		return -EPERM;
	}
	return 0;
}

/* --- endpoints --------------------------------------------------------------------------- */

static int new_nonce(struct server *srv, const char *id, struct store_nonce *ret)
{
	struct store_nonce n = { .len = NONCE_LEN };

	if (RAND_bytes(n.nonce, NONCE_LEN) != 1)
		return -EIO;
	n.deadline = (int64_t)time(NULL) + srv->cfg.nonce_ttl;
	*ret = n;
	return srv->store->ops->nonce_put(srv->store, id, &n);
}

static void add_nonce(json_object *o, const struct store_nonce *n)
{
	json_object_object_add(o, "nonce", hex_json(n->nonce, n->len));
	json_object_object_add(o, "deadline", json_object_new_int64(n->deadline));
}

static void do_register(struct server *srv, struct evhttp_request *req, const char *id)
{
	static const char *const keys[] = { "ak", NULL };
	_cleanup_free_ char *body = NULL, *pem = NULL;
	_cleanup_free_ uint8_t *akbuf = NULL;
	_cleanup_(json_putp) json_object *o = NULL, *out = NULL;
	_cleanup_(ak_freep) vouch_ak *ak = NULL;
	struct store *st = srv->store;
	struct store_agent a = { 0 }, old = { 0 };
	struct vouch_digest d;
	char err[256];
	size_t len, aklen;
	int r;

	if (require_agent(srv, req, id) < 0 || !(body = request_body(srv, req, &len)))
		return;
	o = parse_request(body, len, err, sizeof(err));
	if (!o || check_keys(o, keys, err, sizeof(err)) < 0)
		return refuse(srv, req, 400, "%s", err);
	if (b64_decode(json_object_get_string(json_object_object_get(o, "ak")), &akbuf, &aklen) < 0)
		return refuse(srv, req, 400, "'ak' is not base64");
	r = vouch_ak_load_mem(srv->ctx, akbuf, aklen, &ak);
	if (r < 0)
		return refuse(srv, req, 400, "'ak' is not an attestation key: %s",
			      vouch_ctx_last_error(srv->ctx));
	r = vouch_ak_export_pem(srv->ctx, ak, &pem);
	if (r == 0)
		r = vouch_digest_buf(srv->ctx, VOUCH_HASH_SHA256, pem, strlen(pem), &d);
	if (r == 0)
		r = vouch_digest_to_hex(&d, a.ak_fpr, sizeof(a.ak_fpr));
	if (r < 0)
		return refuse(srv, req, 500, "cannot fingerprint the AK");
	/*
	 * TODO(enrollment): an AK is taken on the agent's word (its certificate) today.  The
	 * enrollment being built in parallel verifies the EK certificate against the TPM
	 * vendors' CAs and proves with TPM2_MakeCredential / ActivateCredential that this AK
	 * lives in that TPM; it plugs in here, before the record is stored.
	 */
	snprintf(a.id, sizeof(a.id), "%s", id);
	a.ak = akbuf;
	a.ak_len = aklen;
	a.registered = (int64_t)time(NULL);
	snprintf(a.reference, sizeof(a.reference), "default");
	if (st->ops->begin(st) < 0)
		return refuse(srv, req, 503, "database unavailable");
	r = st->ops->agent_get(st, id, &old);
	if (r == 0) {
		bool same = strcmp(old.ak_fpr, a.ak_fpr) == 0;

		store_agent_clear(&old);
		st->ops->rollback(st);
		/* a new AK would orphan the verified state: that is enrollment's decision */
		if (!same)
			return refuse(srv, req, 409, "agent '%s' is registered with another AK", id);
		out = json_object_new_object();
		json_object_object_add(out, "agent", json_object_new_string(id));
		json_object_object_add(out, "ak", json_object_new_string(a.ak_fpr));
		json_object_object_add(out, "registered", json_object_new_boolean(false));
		return reply_json(req, 200, out);
	}
	if (r != -ENOENT || st->ops->agent_put(st, &a) < 0 || st->ops->commit(st) < 0) {
		st->ops->rollback(st);
		return refuse(srv, req, 503, "database unavailable");
	}
	fprintf(stderr, "vouchd: agent '%s' registered, AK %s\n", id, a.ak_fpr);
	out = json_object_new_object();
	json_object_object_add(out, "agent", json_object_new_string(id));
	json_object_object_add(out, "ak", json_object_new_string(a.ak_fpr));
	json_object_object_add(out, "registered", json_object_new_boolean(true));
	reply_json(req, 201, out);
}

static void do_nonce(struct server *srv, struct evhttp_request *req, const char *id)
{
	_cleanup_(json_putp) json_object *out = NULL;
	struct store *st = srv->store;
	struct store_agent a = { 0 };
	struct store_state s = { 0 };
	struct store_nonce n;
	uint64_t offset = 0;
	int r;

	if (require_agent(srv, req, id) < 0)
		return;
	if (st->ops->begin(st) < 0)
		return refuse(srv, req, 503, "database unavailable");
	r = st->ops->agent_get(st, id, &a);
	store_agent_clear(&a);
	if (r == -ENOENT) {
		st->ops->rollback(st);
		return refuse(srv, req, 404, "agent '%s' is not registered", id);
	}
	if (r == 0) {
		r = st->ops->state_get(st, id, &s);
		if (r == 0) {
			struct vouch_attest_state vs;

			if (vouch_attest_state_parse(srv->ctx, s.state_json, strlen(s.state_json),
						     &vs) == 0)
				offset = vs.entries;
			store_state_clear(&s);
		} else if (r == -ENOENT) {
			r = 0;
		}
	}
	if (r == 0)
		r = new_nonce(srv, id, &n);
	if (r < 0 || st->ops->commit(st) < 0) {
		st->ops->rollback(st);
		return refuse(srv, req, 503, "database unavailable");
	}
	out = json_object_new_object();
	json_object_object_add(out, "agent", json_object_new_string(id));
	add_nonce(out, &n);
	json_object_object_add(out, "offset", json_object_new_int64((int64_t)offset));
	json_object_object_add(out, "pcrs", json_object_new_string(srv->cfg.pcrs));
	reply_json(req, 200, out);
}

static const char *verdict_word(int r)
{
	return r == 0 ? "trusted" : vouch_error_is_verdict(r) ? "untrusted" : "error";
}

static void count(struct server *srv, int r)
{
	if (r == 0)
		srv->attest_trusted++;
	else if (vouch_error_is_verdict(r))
		srv->attest_untrusted++;
	else
		srv->attest_error++;
}

static void do_attest(struct server *srv, struct evhttp_request *req, const char *id)
{
	struct vouch_attest_verify_options o = VOUCH_ATTEST_VERIFY_OPTIONS_INIT;
	_cleanup_(evidence_freep) struct vouch_evidence *ev = NULL;
	_cleanup_(result_freep) struct vouch_attest_result *res = NULL;
	_cleanup_(ak_freep) vouch_ak *ak = NULL;
	_cleanup_free_ char *body = NULL, *verdict = NULL, *state_json = NULL;
	_cleanup_(json_putp) json_object *out = NULL;
	struct store *st = srv->store;
	struct store_agent a = { 0 };
	struct store_state old = { 0 };
	struct store_nonce n, next;
	struct vouch_attest_state vs = { 0 };
	bool have_state = false, new_boot = false;
	uint64_t seq = 0, offset;
	double t0 = now_mono(), t1, t2;
	size_t len;
	int r, vr;

	if (require_agent(srv, req, id) < 0 || !(body = request_body(srv, req, &len)))
		return;
	r = vouch_evidence_parse(srv->ctx, body, len, &ev);
	if (r < 0)
		return refuse(srv, req, 400, "not an evidence document: %s",
			      vouch_ctx_last_error(srv->ctx));
	/* without a list vouch_attest_verify() passes on the quote alone and the stored PCR 10
	 * is never compared: push mode always carries the entries after the offset */
	if (!ev->ima_list)
		return refuse(srv, req, 400, "the evidence has no IMA measurement list");
	t1 = now_mono();
	observe(srv, PHASE_PARSE, t1 - t0);

	if (st->ops->begin(st) < 0)
		return refuse(srv, req, 503, "database unavailable");
	r = st->ops->agent_get(st, id, &a);
	if (r == -ENOENT) {
		st->ops->rollback(st);
		return refuse(srv, req, 404, "agent '%s' is not registered", id);
	}
	if (r == 0)
		r = vouch_ak_load_mem(srv->ctx, a.ak, a.ak_len, &ak) < 0 ? -EIO : 0;
	store_agent_clear(&a);
	if (r == 0) {
		r = st->ops->nonce_take(st, id, &n);
		if (r == -ENOENT || (r == 0 && n.deadline < (int64_t)time(NULL))) {
			/* nothing changes: the expired nonce stays until a new one replaces it */
			st->ops->rollback(st);
			return refuse(srv, req, 409, "no valid nonce for agent '%s': %s", id,
				      r == 0 ? "it expired" : "GET its nonce first");
		}
	}
	if (r == 0) {
		r = st->ops->state_get(st, id, &old);
		if (r == 0) {
			have_state = true;
			r = vouch_attest_state_parse(srv->ctx, old.state_json,
						     strlen(old.state_json), &vs) < 0 ? -EIO : 0;
		} else if (r == -ENOENT) {
			r = 0;
		}
	}
	if (r < 0) {
		st->ops->rollback(st);
		store_state_clear(&old);
		return refuse(srv, req, 503, "database unavailable");
	}

	o.ak = ak;
	o.ak_label = id;
	o.nonce = n.nonce;
	o.nonce_len = n.len;
	o.pcrs = &srv->pcrs;
	o.reference = srv->reference;
	o.trust = srv->trust;
	o.state = have_state ? &vs : NULL;
	o.state_label = id;
	vr = vouch_attest_verify(srv->ctx, &o, ev, &res);
	/*
	 * A new boot (the TPM's resetCount moved on; it is signed in the quote's clockInfo,
	 * TPM 2.0 Library Part 2, TPMS_CLOCK_INFO) resets PCR 10: the list starts again and the
	 * old state does not apply.  The count is believed only when this quote's signature
	 * and nonce verified; the second run checks everything again.
	 */
	if (res && have_state && res->quote.parsed && res->quote.reset_count != old.reset_count &&
	    res->quote.checks[VOUCH_QUOTE_CHECK_SIGNATURE] == 0 &&
	    res->quote.checks[VOUCH_QUOTE_CHECK_NONCE] == 0) {
		vouch_attest_result_free(res);
		res = NULL;
		o.state = NULL;
		new_boot = true;
		vr = vouch_attest_verify(srv->ctx, &o, ev, &res);
	}
	t2 = now_mono();
	observe(srv, PHASE_VERIFY, t2 - t1);
	if (!res) {
		st->ops->rollback(st);
		store_state_clear(&old);
		return refuse(srv, req, 500, "cannot verify: %s", vouch_ctx_last_error(srv->ctx));
	}
	r = vouch_attest_result_to_json(srv->ctx, res, &verdict);
	offset = have_state && !new_boot ? vs.entries : 0;
	if (r == 0 && vr == 0 && res->state.valid) {
		struct store_state ns = { .reset_count = res->quote.reset_count,
					  .restart_count = res->quote.restart_count };

		r = vouch_attest_state_format(srv->ctx, &res->state, &state_json);
		ns.state_json = state_json;
		if (r == 0)
			r = st->ops->state_put(st, id, &ns);
		offset = res->state.entries;
	}
	if (r == 0) {
		struct store_result row = { .agent = id, .time = (int64_t)time(NULL),
					    .verdict = verdict_word(vr), .body = verdict };

		r = st->ops->result_append(st, &row, &seq);
	}
	if (r == 0)
		r = new_nonce(srv, id, &next);
	if (r == 0)
		r = st->ops->commit(st);
	store_state_clear(&old);
	if (r < 0) {
		st->ops->rollback(st);
		return refuse(srv, req, 503, "cannot store the result");
	}
	observe(srv, PHASE_STORE, now_mono() - t2);
	count(srv, vr);
	fprintf(stderr, "vouchd: agent '%s': %s (result %llu, offset %llu)\n", id, verdict_word(vr),
		(unsigned long long)seq, (unsigned long long)offset);

	out = json_tokener_parse(verdict);
	if (!out)
		return refuse(srv, req, 500, "out of memory");
	json_object_object_add(out, "agent", json_object_new_string(id));
	json_object_object_add(out, "result", json_object_new_int64((int64_t)seq));
	json_object_object_add(out, "new_boot", json_object_new_boolean(new_boot));
	json_object_object_add(out, "offset", json_object_new_int64((int64_t)offset));
	add_nonce(out, &next);
	reply_json(req, 200, out);
}

/* stateless: { "ak": base64, "nonce": hex, "evidence": {...} } against the default policy */
static void do_verify(struct server *srv, struct evhttp_request *req)
{
	static const char *const keys[] = { "ak", "nonce", "evidence", NULL };
	struct vouch_attest_verify_options o = VOUCH_ATTEST_VERIFY_OPTIONS_INIT;
	_cleanup_(evidence_freep) struct vouch_evidence *ev = NULL;
	_cleanup_(result_freep) struct vouch_attest_result *res = NULL;
	_cleanup_(ak_freep) vouch_ak *ak = NULL;
	_cleanup_(json_putp) json_object *doc = NULL;
	_cleanup_free_ char *body = NULL, *verdict = NULL;
	_cleanup_free_ uint8_t *akbuf = NULL;
	_cleanup_(json_putp) json_object *out = NULL;
	uint8_t nonce[64];
	size_t len, aklen, nonce_len;
	const char *evtext;
	char err[256];
	int r, vr;

	/* stateless, but every verification costs CPU: only for holders of a certificate */
	if (require_agent(srv, req, NULL) < 0 || !(body = request_body(srv, req, &len)))
		return;
	doc = parse_request(body, len, err, sizeof(err));
	if (!doc || check_keys(doc, keys, err, sizeof(err)) < 0)
		return refuse(srv, req, 400, "%s", err);
	if (b64_decode(json_object_get_string(json_object_object_get(doc, "ak")), &akbuf, &aklen) < 0)
		return refuse(srv, req, 400, "'ak' is not base64");
	if (hex_decode(json_object_get_string(json_object_object_get(doc, "nonce")), nonce,
		       sizeof(nonce), &nonce_len) < 0)
		return refuse(srv, req, 400, "'nonce' is not 1 to 64 bytes of hex");
	if (vouch_ak_load_mem(srv->ctx, akbuf, aklen, &ak) < 0)
		return refuse(srv, req, 400, "'ak' is not an attestation key: %s",
			      vouch_ctx_last_error(srv->ctx));
	evtext = json_object_to_json_string_ext(json_object_object_get(doc, "evidence"),
						JSON_C_TO_STRING_PLAIN);
	if (vouch_evidence_parse(srv->ctx, evtext, strlen(evtext), &ev) < 0)
		return refuse(srv, req, 400, "not an evidence document: %s",
			      vouch_ctx_last_error(srv->ctx));
	o.ak = ak;
	o.nonce = nonce;
	o.nonce_len = nonce_len;
	o.pcrs = &srv->pcrs;
	o.reference = srv->reference;
	o.trust = srv->trust;
	vr = vouch_attest_verify(srv->ctx, &o, ev, &res);
	if (!res)
		return refuse(srv, req, 500, "cannot verify: %s", vouch_ctx_last_error(srv->ctx));
	r = vouch_attest_result_to_json(srv->ctx, res, &verdict);
	if (r < 0 || !(out = json_tokener_parse(verdict)))
		return refuse(srv, req, 500, "out of memory");
	(void)vr;
	reply_json(req, 200, out);
}

static void do_metrics(struct server *srv, struct evhttp_request *req)
{
	struct evbuffer *b = evbuffer_new();
	uint64_t agents = 0;

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

static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
	SSL *ssl = SSL_new(arg);

	if (!ssl)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					      BEV_OPT_CLOSE_ON_FREE);
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
			"[--nonce-ttl S]\n       vouchd --db PATH --verify-chain\n");
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
		{ "verify-chain", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ 0 },
	};
	int opt;

	c->nonce_ttl = 60;
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
	evhttp_set_bevcb(http, tls_bev, srv->ssl);
	evhttp_set_max_body_size(http, MAX_BODY);
	evhttp_set_max_headers_size(http, 16384);
	evhttp_set_timeout(http, 30);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_gencb(http, route, srv);
	if (evhttp_bind_socket(http, host, (uint16_t)port) != 0) {
		fprintf(stderr, "vouchd: cannot listen on '%s': %m\n", srv->cfg.listen);
		r = -EADDRINUSE;
		goto out;
	}
	sigterm = evsignal_new(srv->base, SIGTERM, on_signal, srv->base);
	sigint = evsignal_new(srv->base, SIGINT, on_signal, srv->base);
	if (!sigterm || !sigint || event_add(sigterm, NULL) < 0 || event_add(sigint, NULL) < 0)
		goto out;
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "vouchd: listening on %s (TLS 1.3, client certificates from '%s')\n",
		srv->cfg.listen, srv->cfg.client_ca);
	r = event_base_dispatch(srv->base) < 0 ? -EIO : 0;
out:
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
	if (r == 0 && !(srv.ssl = tls_setup(&srv.cfg)))
		r = -EIO;
	if (r == 0)
		r = serve(&srv);
	SSL_CTX_free(srv.ssl);
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
