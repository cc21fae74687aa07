// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch-agent --mode pull: an HTTPS server (libevent's evhttp over bufferevent_openssl, TLS
 * 1.3 only, like vouchd) that answers the verifier's
 *
 *   GET /v1/quote?nonce=HEX&offset=N[&pcrs=SEL]
 *
 * with the evidence document push mode would POST: a quote over the nonce and the list
 * entries after entry N (all of them after a reboot), 204 when there is none.  Only a
 * client certificate chained to --cacert that names --verifier-name (a DNS subjectAltName,
 * or the CN of a certificate without one) may ask: every quote costs TPM time.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <vouch/digest.h>
#include <vouch/quote.h>

#include "agent.h"
#include "tls-server.h"
#include "cleanup.h"

#define MAX_NONCE 64

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(X509 *, x509_freep, X509_free)

static void reply(struct evhttp_request *req, int code, const char *type, const char *text)
{
	struct evbuffer *b = evbuffer_new();

	if (!b)
		return evhttp_send_error(req, HTTP_INTERNAL, NULL);
	if (text) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
		evbuffer_add(b, text, strlen(text));
	}
	evhttp_send_reply(req, code, code < 300 ? "OK" : "Refused", b);
	evbuffer_free(b);
}

/* a refused request: a one-line JSON reason */
__attribute__((format(printf, 3, 4)))
static void refuse(struct evhttp_request *req, int code, const char *fmt, ...)
{
	char msg[256], out[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			*p = ' ';
	fprintf(stderr, "vouch-agent: GET %s: %d %s\n", evhttp_request_get_uri(req), code, msg);
	snprintf(out, sizeof(out), "{\"error\":\"%s\"}\n", msg);
	reply(req, code, "application/json", out);
}

/* 0 when the peer holds a verified certificate naming the verifier, else refuses */
static int require_verifier(struct agent *ag, struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	_cleanup_(x509_freep) X509 *peer = ssl ? SSL_get1_peer_certificate(ssl) : NULL;

	if (!peer || SSL_get_verify_result(ssl) != X509_V_OK) {
		refuse(req, 401, "a client certificate issued by the verifier's CA is required");
		return -EACCES;
	}
	if (X509_check_host(peer, ag->verifier_name, 0, X509_CHECK_FLAG_NO_WILDCARDS, NULL) != 1) {
		refuse(req, 403, "the client certificate does not name the verifier '%s'",
		       ag->verifier_name);
		return -EPERM;
	}
	return 0;
}

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || !*s || *end || *s < '0' || *s > '9')
		return -EINVAL;
	*ret = v;
	return 0;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct agent *ag = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	const char *nonce_hex = NULL, *offset_s = NULL, *pcrs = NULL;
	_cleanup_free_ char *json = NULL;
	struct evkeyvalq q = { 0 };
	struct evkeyval *kv;
	uint8_t nonce[MAX_NONCE];
	size_t nonce_len = 0;
	uint64_t from = 0, sent = 0;
	int r;

	if (require_verifier(ag, req) < 0)
		return;
	if (!path || strcmp(path, "/v1/quote") != 0)
		return refuse(req, 404, "no such endpoint");
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET)
		return refuse(req, 405, "GET only");
	TAILQ_INIT(&q);
	if (!query || evhttp_parse_query_str(query, &q) < 0) {
		evhttp_clear_headers(&q);
		return refuse(req, 400, "a query nonce=HEX&offset=N[&pcrs=SEL] is required");
	}
	r = 0;
	TAILQ_FOREACH(kv, &q, next) {
		const char **slot = strcmp(kv->key, "nonce") == 0    ? &nonce_hex
				    : strcmp(kv->key, "offset") == 0 ? &offset_s
				    : strcmp(kv->key, "pcrs") == 0   ? &pcrs
								     : NULL;

		if (!slot || *slot)
			r = -EINVAL;
		else
			*slot = kv->value;
	}
	if (r < 0 || !nonce_hex || !offset_s)
		r = -EINVAL;
	if (r == 0 && (!*nonce_hex || vouch_hex_decode(nonce_hex, strlen(nonce_hex), nonce,
						       sizeof(nonce), &nonce_len) < 0))
		r = -EBADMSG;
	if (r == 0 && parse_u64(offset_s, &from) < 0)
		r = -ERANGE;
	if (r == 0 && pcrs) {
		struct vouch_pcrs sel;

		if (vouch_pcrs_parse_selection(pcrs, &sel) < 0)
			r = -EDOM;
	}
	if (r < 0) {
		evhttp_clear_headers(&q);
		return refuse(req, 400, "%s",
			      r == -EINVAL	 ? "the query is nonce=HEX&offset=N[&pcrs=SEL], each once"
			      : r == -EBADMSG ? "'nonce' is not 1 to 64 bytes of hex"
			      : r == -ERANGE  ? "'offset' is not a number"
					      : "'pcrs' is not a PCR selection");
	}
	r = agent_build_evidence(ag->ctx, ag->tcti, ag->handle, ag->ima, pcrs ? pcrs : ag->pcrs,
				 nonce, nonce_len, &from, &ag->list_base, &json, &sent);
	evhttp_clear_headers(&q);
	if (r < 0)
		return refuse(req, 500, "cannot build the evidence");
	fprintf(stderr, "vouch-agent: quote for the verifier: entries after %llu, %llu sent\n",
		(unsigned long long)from, (unsigned long long)sent);
	if (!json)
		return reply(req, 204, NULL, NULL);
	reply(req, 200, "application/json", json);
}

static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
	SSL *ssl = SSL_new(arg);

	if (!ssl)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					      BEV_OPT_CLOSE_ON_FREE);
}


static void on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	fprintf(stderr, "vouch-agent: signal %d, stopping\n", (int)fd);
	event_base_loopexit(arg, NULL);
}

int agent_serve(struct agent *ag, int (*ready)(struct agent *ag))
{
	const char *colon = strrchr(ag->listen, ':');
	struct event_base *base = NULL;
	struct evhttp *http = NULL;
	struct event *sigterm = NULL, *sigint = NULL;
	SSL_CTX *ssl = NULL;
	char host[64], *end;
	unsigned long port;
	int r = -EINVAL;

	if (!colon || colon == ag->listen || (size_t)(colon - ag->listen) >= sizeof(host)) {
		fprintf(stderr, "vouch-agent: invalid --listen '%s' (HOST:PORT)\n", ag->listen);
		return -EINVAL;
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || !colon[1] || colon[1] == '-' || colon[1] == '+' || port > 65535) {
		fprintf(stderr, "vouch-agent: invalid --listen '%s' (HOST:PORT)\n", ag->listen);
		return -EINVAL;
	}
	memcpy(host, ag->listen, (size_t)(colon - ag->listen));
	host[colon - ag->listen] = '\0';
	/* asked for, checked per request (require_verifier()): a refusal is an HTTP 401/403
	 * with a reason rather than a failed handshake */
	ssl = tls_server_ctx("vouch-agent", ag->cert, ag->key, ag->cacert);
	base = ssl ? event_base_new() : NULL;
	http = base ? evhttp_new(base) : NULL;
	if (!http) {
		r = -EIO;
		goto out;
	}
	evhttp_set_bevcb(http, tls_bev, ssl);
	evhttp_set_max_body_size(http, 0);
	evhttp_set_max_headers_size(http, 16384);
	evhttp_set_timeout(http, 30);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_gencb(http, on_request, ag);
	if (evhttp_bind_socket(http, host, (uint16_t)port) != 0) {
		fprintf(stderr, "vouch-agent: cannot listen on '%s': %m\n", ag->listen);
		r = -EADDRINUSE;
		goto out;
	}
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	if (!sigterm || !sigint || event_add(sigterm, NULL) < 0 || event_add(sigint, NULL) < 0) {
		r = -EIO;
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	if (ready) {
		r = ready(ag);
		if (r < 0)
			goto out;
	}
	fprintf(stderr, "vouch-agent: pull mode, listening on %s for '%s'\n", ag->listen,
		ag->verifier_name);
	r = event_base_dispatch(base) < 0 ? -EIO : 0;
out:
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	if (http)
		evhttp_free(http);
	if (base)
		event_base_free(base);
	SSL_CTX_free(ssl);
	return r;
}
