// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd: the agents' state machine and what it tells the world.
 *
 * Every transition (enrolled, trusted, untrusted, recovered, overdue) is written to the
 * outbox in the store transaction that changes the state; the outbox is the only source of
 * what is sent.  Webhooks and event streams are cursors into it: a webhook's cursor is
 * stored and moves only on a 2xx answer (at least once, in order, backoff persisted), an
 * event stream's cursor lives with the connection (Last-Event-ID resumes it).
 *
 * Webhooks are POSTed with libcurl's multi interface driven by the daemon's own libevent
 * loop (curl_multi_socket_action(), one event per socket and a timer): no thread, so the
 * store keeps its single connection and single writer, and a slow receiver never blocks
 * an attestation.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>

#include <openssl/core_names.h>

#include "vouchd.h"

#define MAX_STREAMS 32
#define STREAM_BUF_MAX (256U << 10) /* unsent bytes a stream may hold before it waits */
#define STREAM_BATCH 64
#define STREAM_WRITE_TIMEOUT 60 /* s: a client that stops reading is dropped */
#define HEARTBEAT_S 15
#define BACKOFF_MIN 1
#define BACKOFF_MAX 300
#define WEBHOOK_TIMEOUT_S 10
#define DUE_BATCH 64
#define SECRET_MAX 4096
/* several nodes: every node's streams read the outbox this often, for the events the other
 * nodes commit; the webhooks are the duty of one node, held for DUTY_TTL_S and renewed
 * every DUTY_RENEW polls (1 s) */
#define POLL_MS 250
#define DUTY_TTL_S 3
#define DUTY_RENEW 4

struct notify;

struct webhook {
	struct notify *nt;
	const char *url;
	struct store_webhook cur; /* delivered, attempts, next_attempt: as stored */
	CURL *easy; /* the POST in flight, or NULL */
	struct curl_slist *headers;
	char *body;
	uint64_t seq; /* of the event in flight */
	struct event *retry;
};

struct stream {
	struct notify *nt;
	struct evhttp_request *req;
	uint64_t sent; /* the last event id written to it */
	struct stream *next;
};

struct notify {
	struct server *srv;
	uint64_t last; /* the highest event id in the outbox */
	struct event *watchdog, *heartbeat, *curl_timer, *poll;
	bool duty; /* this node delivers the webhooks (duty "outbox") */
	unsigned polls;
	CURLM *multi;
	EVP_MAC *mac;
	struct webhook hooks[MAX_WEBHOOKS];
	size_t n_hooks;
	struct stream *streams;
	size_t n_streams;
	uint8_t secret[SECRET_MAX];
	size_t secret_len;
	struct store_event batch[STREAM_BATCH];
};

/* --- events ---------------------------------------------------------------------------- */

/* the type of the event for a move from @from to @to; NULL: no event */
static const char *event_type(const char *from, const char *to)
{
	if (strcmp(from, to) == 0)
		return NULL;
	if (strcmp(to, "trusted") == 0)
		return strcmp(from, "untrusted") == 0 || strcmp(from, "overdue") == 0 ? "recovered"
										     : "trusted";
	return to; /* enrolled, untrusted, overdue */
}

/* a reason may quote the agent's own strings (paths from its list): one line of printable
 * ASCII, so the event stays one line of valid UTF-8 JSON whatever the agent sent */
static void one_line(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
	for (char *p = dst; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = (unsigned char)*p < 0x20 ? ' ' : '?';
}

int agent_transition(struct server *srv, const char *id, const char *to, uint64_t result,
		     const char *reason, int64_t now, struct store_status *ret)
{
	struct store *st = srv->store;
	struct store_status cur = { 0 }, next = { 0 };
	struct store_event e = { .time = now, .result = result };
	const char *type;
	int r;

	r = st->ops->status_get(st, id, &cur);
	if (r == -ENOENT) {
		/* a registration, or an agent registered before states existed (schema 1) */
		snprintf(cur.state, sizeof(cur.state), "%s",
			 strcmp(to, "enrolled") == 0 ? "" : "enrolled");
		r = 0;
	}
	if (r < 0)
		return r;
	type = event_type(cur.state, to);
	snprintf(next.state, sizeof(next.state), "%s", to);
	/* every verdict (and the registration) sets the next deadline; overdue keeps it */
	next.deadline = strcmp(to, "overdue") == 0
				? cur.deadline
				: now + (int64_t)srv->cfg.interval + (int64_t)srv->cfg.grace;
	next.since = type ? now : cur.since;
	r = st->ops->status_put(st, id, &next);
	if (r < 0 || !type)
		goto out;
	snprintf(e.type, sizeof(e.type), "%s", type);
	snprintf(e.agent, sizeof(e.agent), "%s", id);
	snprintf(e.from, sizeof(e.from), "%s", cur.state);
	snprintf(e.to, sizeof(e.to), "%s", to);
	one_line(e.reason, sizeof(e.reason), reason ? reason : "");
	r = st->ops->outbox_append(st, &e);
	if (r == 0 && !store_seq_deferred(e.seq))
		fprintf(stderr, "vouchd: event %" PRIu64 ": agent '%s' %s (%s -> %s)\n", e.seq, id,
			type, cur.state[0] ? cur.state : "-", to);
	else if (r == 0)
		fprintf(stderr, "vouchd: event at commit: agent '%s' %s (%s -> %s)\n", id, type,
			cur.state[0] ? cur.state : "-", to);
out:
	if (r == 0 && ret)
		*ret = next;
	return r;
}

/* the event as one line of JSON: the webhook body and the stream's data line */
static char *event_json(const struct store_event *e)
{
	_cleanup_(json_putp) json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "id", json_object_new_int64((int64_t)e->seq));
	json_object_object_add(o, "type", json_object_new_string(e->type));
	json_object_object_add(o, "agent", json_object_new_string(e->agent));
	json_object_object_add(o, "time", json_object_new_int64(e->time));
	json_object_object_add(o, "from", e->from[0] ? json_object_new_string(e->from) : NULL);
	json_object_object_add(o, "to", json_object_new_string(e->to));
	json_object_object_add(o, "result", e->result ? json_object_new_int64((int64_t)e->result)
						      : NULL);
	json_object_object_add(o, "reason", json_object_new_string(e->reason));
	return strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

/* --- event streams (GET /v1/events) --------------------------------------------------- */

static void stream_pump(struct stream *s);

static void stream_written(struct evhttp_connection *conn, void *arg)
{
	stream_pump(arg);
}

static size_t stream_queued(struct stream *s)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(s->req);

	if (!conn)
		return SIZE_MAX;
	return evbuffer_get_length(bufferevent_get_output(evhttp_connection_get_bufferevent(conn)));
}

static void stream_send(struct stream *s, struct evbuffer *b)
{
	evhttp_send_reply_chunk_with_cb(s->req, b, stream_written, s);
}

/* write the events after s->sent, a batch at a time, while the client keeps up */
static void stream_pump(struct stream *s)
{
	struct notify *nt = s->nt;
	struct store *st = nt->srv->store;
	struct evbuffer *b;
	size_t n = 0;

	if (s->sent >= nt->last || stream_queued(s) > STREAM_BUF_MAX)
		return; /* the write callback pumps again when the buffer drained */
	if (st->ops->outbox_pending(st, s->sent, STREAM_BATCH, nt->batch, &n) < 0 || n == 0)
		return;
	/* only what is committed (nt->last): a group commit may hold newer rows still */
	while (n > 0 && nt->batch[n - 1].seq > nt->last)
		n--;
	if (n == 0)
		return;
	b = evbuffer_new();
	if (!b)
		return;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *json = event_json(&nt->batch[i]);

		if (!json)
			break;
		evbuffer_add_printf(b, "id: %" PRIu64 "\nevent: %s\ndata: %s\n\n", nt->batch[i].seq,
				    nt->batch[i].type, json);
		s->sent = nt->batch[i].seq;
	}
	stream_send(s, b);
	evbuffer_free(b);
}

static void stream_unlink(struct stream *s)
{
	for (struct stream **p = &s->nt->streams; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			s->nt->n_streams--;
			return;
		}
}

/* the connection goes away: the client left, a write failed or timed out, or shutdown */
static void stream_closed(struct evhttp_connection *conn, void *arg)
{
	struct stream *s = arg;

	stream_unlink(s);
	fprintf(stderr, "vouchd: event stream closed (%zu open)\n", s->nt->n_streams);
	/* a request libevent detached from its failed connection is ours to free */
	if (!evhttp_request_get_connection(s->req))
		evhttp_send_reply_end(s->req);
	free(s);
}

static int parse_u64(const char *v, uint64_t *ret)
{
	char *end;
	unsigned long long x;

	if (!v || *v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*ret = x;
	return 0;
}

void do_events(struct server *srv, struct evhttp_request *req)
{
	struct notify *nt = srv->notify;
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct timeval wt = { .tv_sec = STREAM_WRITE_TIMEOUT };
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const char *last_id;
	struct stream *s;
	uint64_t from = nt->last;

	if (require_operator(srv, req) < 0)
		return;
	last_id = evhttp_find_header(evhttp_request_get_input_headers(req), "Last-Event-ID");
	if (last_id && parse_u64(last_id, &from) < 0)
		return refuse(srv, req, 400, "Last-Event-ID is not an event id");
	if (nt->n_streams >= MAX_STREAMS)
		return refuse(srv, req, 503, "too many event streams (%d)", MAX_STREAMS);
	s = calloc(1, sizeof(*s));
	if (!s || !conn) {
		free(s);
		return refuse(srv, req, 500, "out of memory");
	}
	s->nt = nt;
	s->req = req;
	s->sent = from;
	s->next = nt->streams;
	nt->streams = s;
	nt->n_streams++;
	evhttp_connection_set_closecb(conn, stream_closed, s);
	/* no read timeout: the client only listens; a stuck writer is dropped */
	bufferevent_set_timeouts(evhttp_connection_get_bufferevent(conn), NULL, &wt);
	evhttp_add_header(h, "Content-Type", "text/event-stream");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply_start(req, 200, "OK");
	fprintf(stderr, "vouchd: event stream opened after event %" PRIu64 " (%zu open)\n", from,
		nt->n_streams);
	stream_pump(s);
}

static void heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct notify *nt = arg;

	for (struct stream *s = nt->streams; s; s = s->next) {
		struct evbuffer *b;

		if (stream_queued(s) > STREAM_BUF_MAX || !(b = evbuffer_new()))
			continue;
		evbuffer_add_printf(b, ": ping\n\n");
		stream_send(s, b);
		evbuffer_free(b);
	}
}

/* --- webhooks -------------------------------------------------------------------------- */

static void webhook_kick(struct webhook *w);

static int sign(struct notify *nt, const char *body, char hex[2 * EVP_MAX_MD_SIZE + 1])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC_CTX *c = EVP_MAC_CTX_new(nt->mac);
	uint8_t md[EVP_MAX_MD_SIZE];
	size_t len = 0;
	int r = -EIO;

	if (c && EVP_MAC_init(c, nt->secret, nt->secret_len, params) == 1 &&
	    EVP_MAC_update(c, (const uint8_t *)body, strlen(body)) == 1 &&
	    EVP_MAC_final(c, md, &len, sizeof(md)) == 1) {
		for (size_t i = 0; i < len; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		r = 0;
	}
	EVP_MAC_CTX_free(c);
	return r;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	return size * n;
}

static void webhook_release(struct webhook *w)
{
	if (w->easy) {
		curl_multi_remove_handle(w->nt->multi, w->easy);
		curl_easy_cleanup(w->easy);
		w->easy = NULL;
	}
	curl_slist_free_all(w->headers);
	w->headers = NULL;
	free(w->body);
	w->body = NULL;
}

static void webhook_retry_in(struct webhook *w, int64_t seconds)
{
	struct timeval tv = { .tv_sec = seconds > 0 ? seconds : 0 };

	evtimer_add(w->retry, &tv);
}

static int webhook_post(struct webhook *w, const struct store_event *e)
{
	char hex[2 * EVP_MAX_MD_SIZE + 1], line[sizeof(hex) + 64];
	struct curl_slist *l;

	w->body = event_json(e);
	if (!w->body || sign(w->nt, w->body, hex) < 0)
		return -ENOMEM;
	w->headers = curl_slist_append(NULL, "Content-Type: application/json");
	snprintf(line, sizeof(line), "Idempotency-Key: %" PRIu64, e->seq);
	l = w->headers ? curl_slist_append(w->headers, line) : NULL;
	snprintf(line, sizeof(line), "X-Vouch-Signature: sha256=%s", hex);
	l = l ? curl_slist_append(l, line) : NULL;
	snprintf(line, sizeof(line), "X-Vouch-Event: %s", e->type);
	l = l ? curl_slist_append(l, line) : NULL;
	l = l ? curl_slist_append(l, "Expect:") : NULL; /* no 100-continue round trip */
	if (!l || !(w->easy = curl_easy_init()))
		return -ENOMEM;
	w->seq = e->seq;
	if (curl_easy_setopt(w->easy, CURLOPT_URL, w->url) != CURLE_OK ||
	    curl_easy_setopt(w->easy, CURLOPT_PROTOCOLS_STR, "https,http") != CURLE_OK ||
	    curl_easy_setopt(w->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(w->easy, CURLOPT_TIMEOUT, (long)WEBHOOK_TIMEOUT_S) != CURLE_OK ||
	    curl_easy_setopt(w->easy, CURLOPT_HTTPHEADER, w->headers) != CURLE_OK ||
	    curl_easy_setopt(w->easy, CURLOPT_POSTFIELDS, w->body) != CURLE_OK ||
	    curl_easy_setopt(w->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(w->body)) != CURLE_OK ||
	    curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK ||
	    curl_easy_setopt(w->easy, CURLOPT_USERAGENT, "vouchd/" VOUCH_VERSION) != CURLE_OK ||
	    curl_easy_setopt(w->easy, CURLOPT_PRIVATE, w) != CURLE_OK ||
	    curl_multi_add_handle(w->nt->multi, w->easy) != CURLM_OK)
		return -EIO;
	return 0;
}

/* deliver the event after the cursor, unless one is in flight or waiting for its retry */
static void webhook_kick(struct webhook *w)
{
	struct notify *nt = w->nt;
	struct store *st = nt->srv->store;
	struct store_event e;
	int64_t now = (int64_t)time(NULL);
	size_t n = 0;

	if (!nt->duty || w->easy || evtimer_pending(w->retry, NULL) ||
	    w->cur.delivered >= nt->last)
		return;
	if (w->cur.next_attempt > now)
		return webhook_retry_in(w, w->cur.next_attempt - now);
	if (st->ops->outbox_pending(st, w->cur.delivered, 1, &e, &n) < 0 || n == 0)
		return webhook_retry_in(w, BACKOFF_MIN);
	if (webhook_post(w, &e) < 0) {
		fprintf(stderr, "vouchd: webhook %s: cannot send event %" PRIu64 "\n", w->url,
			e.seq);
		webhook_release(w);
		webhook_retry_in(w, BACKOFF_MIN);
	}
}

static void webhook_retry(evutil_socket_t fd, short what, void *arg)
{
	webhook_kick(arg);
}

static void webhook_done(struct webhook *w, CURLcode rc)
{
	struct store *st = w->nt->srv->store;
	int64_t now = (int64_t)time(NULL), delay;
	long code = 0;
	uint64_t seq = w->seq;

	curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &code);
	webhook_release(w);
	if (rc == CURLE_OK && code >= 200 && code < 300) {
		/* a failed write only means the event is sent again after a restart */
		if (st->ops->begin(st) < 0 || st->ops->outbox_mark_delivered(st, seq, w->url) < 0 ||
		    st->ops->commit(st) < 0)
			st->ops->rollback(st);
		w->cur = (struct store_webhook){ .delivered = seq };
		return webhook_kick(w);
	}
	if (w->cur.attempts < UINT32_MAX)
		w->cur.attempts++;
	delay = BACKOFF_MIN << (w->cur.attempts - 1 < 9 ? w->cur.attempts - 1 : 9);
	if (delay > BACKOFF_MAX)
		delay = BACKOFF_MAX;
	w->cur.next_attempt = now + delay;
	fprintf(stderr, "vouchd: webhook %s: event %" PRIu64 " not delivered (%s, HTTP %ld), "
			"attempt %" PRIu32 ", again in %" PRId64 " s\n",
		w->url, seq, rc == CURLE_OK ? "answered" : curl_easy_strerror(rc), code,
		w->cur.attempts, delay);
	if (st->ops->begin(st) < 0 ||
	    st->ops->outbox_mark_failed(st, w->url, w->cur.attempts, w->cur.next_attempt) < 0 ||
	    st->ops->commit(st) < 0)
		st->ops->rollback(st);
	webhook_retry_in(w, delay);
}

static void curl_check(struct notify *nt)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(nt->multi, &left))) {
		struct webhook *w = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&w);
		if (w)
			webhook_done(w, m->data.result);
	}
}

static void curl_event(evutil_socket_t fd, short what, void *arg)
{
	struct notify *nt = arg;
	int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) |
		    (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running;

	curl_multi_socket_action(nt->multi, fd, flags, &running);
	curl_check(nt);
}

static void curl_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct notify *nt = arg;
	int running;

	curl_multi_socket_action(nt->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	curl_check(nt);
}

static int curl_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct notify *nt = arg;
	struct event *ev = sockp;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (ev)
			event_free(ev);
		curl_multi_assign(nt->multi, fd, NULL);
		return 0;
	}
	kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0) |
		       EV_PERSIST);
	if (ev) {
		event_del(ev);
		event_assign(ev, nt->srv->base, fd, kind, curl_event, nt);
	} else {
		ev = event_new(nt->srv->base, fd, kind, curl_event, nt);
		if (!ev)
			return -1;
		curl_multi_assign(nt->multi, fd, ev);
	}
	return event_add(ev, NULL) < 0 ? -1 : 0;
}

static int curl_timer(CURLM *multi, long ms, void *arg)
{
	struct notify *nt = arg;
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	if (ms < 0)
		evtimer_del(nt->curl_timer);
	else
		evtimer_add(nt->curl_timer, &tv);
	return 0;
}

/* https anywhere, plain http only to 127.0.0.1 (a receiver on the same host, for tests) */
int webhook_url_check(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int r = -EINVAL;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    (strcmp(scheme, "https") == 0 ||
	     (strcmp(scheme, "http") == 0 && strcmp(host, "127.0.0.1") == 0)))
		r = 0;
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return r;
}

static int load_secret(struct notify *nt, const char *path)
{
	struct stat sb;
	ssize_t n;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0 || fstat(fd, &sb) < 0) {
		fprintf(stderr, "vouchd: cannot read --webhook-secret '%s': %m\n", path);
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	if (sb.st_mode & 077) {
		fprintf(stderr, "vouchd: '%s' is readable by group or others, refusing\n", path);
		close(fd);
		return -EINVAL;
	}
	while (len < sizeof(nt->secret) &&
	       (n = read(fd, nt->secret + len, sizeof(nt->secret) - len)) > 0)
		len += (size_t)n;
	close(fd);
	while (len > 0 && (nt->secret[len - 1] == '\n' || nt->secret[len - 1] == '\r'))
		len--;
	if (len == 0 || len == sizeof(nt->secret)) {
		fprintf(stderr, "vouchd: --webhook-secret '%s' must hold 1 to %d bytes\n", path,
			SECRET_MAX - 1);
		return -EINVAL;
	}
	nt->secret_len = len;
	return 0;
}

int webhook_secret_check(const char *path)
{
	struct notify *nt = calloc(1, sizeof(*nt));
	int r;

	if (!nt)
		return -ENOMEM;
	r = load_secret(nt, path);
	OPENSSL_cleanse(nt->secret, sizeof(nt->secret));
	free(nt);
	return r;
}

/* --- the overdue watchdog -------------------------------------------------------------- */

static void watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct notify *nt = arg;
	struct store *st = nt->srv->store;
	char ids[DUE_BATCH][STORE_ID_MAX + 1];
	int64_t now = (int64_t)time(NULL);
	size_t n = 0;
	int r;

	if (st->ops->status_due(st, now, ids, DUE_BATCH, &n) < 0 || n == 0)
		return;
	r = st->ops->begin(st);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct store_status cur;
		int g;

		/* every node runs this: re-read under the row lock (status_get in the
		 * transaction), as another node may have marked it or taken an attestation
		 * since the list was read; only a move that is still due happens, once */
		g = st->ops->status_get(st, ids[i], &cur);
		if (g == -ENOENT)
			continue;
		if (g < 0) {
			r = g;
			break;
		}
		if (strcmp(cur.state, "overdue") == 0 || cur.deadline <= 0 || cur.deadline >= now)
			continue;
		r = agent_transition(nt->srv, ids[i], "overdue", 0,
				     "no attestation by the deadline", now, NULL);
	}
	if (r == 0)
		r = st->ops->commit(st);
	if (r < 0) {
		st->ops->rollback(st);
		return;
	}
	notify_committed(nt->srv);
}

/* --- several nodes: the webhooks' duty, the outbox polled ------------------------------ */

static void duty_renew(struct notify *nt)
{
	struct server *srv = nt->srv;
	struct store *st = srv->store;
	bool had = nt->duty;

	if (nt->n_hooks == 0)
		return;
	nt->duty = !st->ops->duty_claim ||
		   st->ops->duty_claim(st, "outbox", srv->cfg.node_id, (int64_t)time(NULL),
				       DUTY_TTL_S) == 0;
	if (!nt->duty) {
		/* a standby node: its cursors follow the stored ones, for the backlog metric */
		for (size_t i = 0; i < nt->n_hooks; i++)
			if (!nt->hooks[i].easy)
				(void)st->ops->webhook_get(st, nt->hooks[i].url, &nt->hooks[i].cur);
	}
	if (nt->duty == had)
		return;
	fprintf(stderr, "vouchd: node '%s' %s the webhook delivery\n", srv->cfg.node_id,
		nt->duty ? "holds" : "no longer holds");
	if (!nt->duty)
		return; /* a POST in flight finishes: at least once allows it twice */
	for (size_t i = 0; i < nt->n_hooks; i++) {
		struct webhook *w = &nt->hooks[i];

		/* the cursor moved on while another node delivered */
		if (!w->easy && st->ops->webhook_get(st, w->url, &w->cur) == 0) {
			if (evtimer_pending(w->retry, NULL))
				evtimer_del(w->retry);
			webhook_kick(w);
		}
	}
}

static void poll_outbox(evutil_socket_t fd, short what, void *arg)
{
	struct notify *nt = arg;

	if (nt->polls++ % DUTY_RENEW == 0)
		duty_renew(nt);
	notify_committed(nt->srv);
}

/* --- life cycle ------------------------------------------------------------------------ */

void notify_committed(struct server *srv)
{
	struct notify *nt = srv->notify;
	uint64_t last;

	/* inside a group commit: announced by flush_batch() once it is on disk */
	if (srv->batch_open) {
		srv->notify_pending = true;
		return;
	}

	if (!nt || srv->store->ops->outbox_last(srv->store, &last) < 0 || last <= nt->last)
		return;
	nt->last = last;
	for (struct stream *s = nt->streams; s; s = s->next)
		stream_pump(s);
	for (size_t i = 0; i < nt->n_hooks; i++)
		webhook_kick(&nt->hooks[i]);
}

void notify_metrics(struct server *srv, struct evbuffer *b)
{
	struct notify *nt = srv->notify;
	uint64_t overdue = 0, backlog = 0;

	(void)srv->store->ops->status_count(srv->store, "overdue", &overdue);
	for (size_t i = 0; nt && i < nt->n_hooks; i++)
		if (nt->last - nt->hooks[i].cur.delivered > backlog)
			backlog = nt->last - nt->hooks[i].cur.delivered;
	evbuffer_add_printf(b,
			    "# HELP vouchd_agents_overdue Agents whose attestation is overdue.\n"
			    "# TYPE vouchd_agents_overdue gauge\n"
			    "vouchd_agents_overdue %" PRIu64 "\n"
			    "# HELP vouchd_webhook_backlog Events not yet delivered to every webhook.\n"
			    "# TYPE vouchd_webhook_backlog gauge\n"
			    "vouchd_webhook_backlog %" PRIu64 "\n",
			    overdue, backlog);
}

int notify_start(struct server *srv)
{
	const struct config *c = &srv->cfg;
	struct timeval second = { .tv_sec = 1 }, beat = { .tv_sec = HEARTBEAT_S },
		       poll = { .tv_usec = POLL_MS * 1000 };
	struct notify *nt = calloc(1, sizeof(*nt));
	int r;

	if (!nt)
		return -ENOMEM;
	srv->notify = nt;
	nt->srv = srv;
	r = srv->store->ops->outbox_last(srv->store, &nt->last);
	if (r < 0)
		return r;
	nt->watchdog = event_new(srv->base, -1, EV_PERSIST, watchdog, nt);
	nt->heartbeat = event_new(srv->base, -1, EV_PERSIST, heartbeat, nt);
	nt->poll = event_new(srv->base, -1, EV_PERSIST, poll_outbox, nt);
	if (!nt->watchdog || !nt->heartbeat || !nt->poll || event_add(nt->watchdog, &second) < 0 ||
	    event_add(nt->heartbeat, &beat) < 0 || event_add(nt->poll, &poll) < 0)
		return -ENOMEM;
	if (c->n_webhooks == 0)
		return 0;
	r = load_secret(nt, c->webhook_secret);
	if (r < 0)
		return r;
	if (!(nt->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) ||
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(nt->multi = curl_multi_init()) ||
	    !(nt->curl_timer = evtimer_new(srv->base, curl_timeout, nt)))
		return -ENOMEM;
	curl_multi_setopt(nt->multi, CURLMOPT_SOCKETFUNCTION, curl_socket);
	curl_multi_setopt(nt->multi, CURLMOPT_SOCKETDATA, nt);
	curl_multi_setopt(nt->multi, CURLMOPT_TIMERFUNCTION, curl_timer);
	curl_multi_setopt(nt->multi, CURLMOPT_TIMERDATA, nt);
	for (size_t i = 0; i < c->n_webhooks; i++) {
		struct webhook *w = &nt->hooks[i];

		w->nt = nt;
		w->url = c->webhooks[i];
		w->retry = evtimer_new(srv->base, webhook_retry, w);
		if (!w->retry)
			return -ENOMEM;
		nt->n_hooks++;
		r = srv->store->ops->webhook_get(srv->store, w->url, &w->cur);
		if (r < 0)
			return r;
		fprintf(stderr, "vouchd: webhook %s: delivered up to event %" PRIu64 " of %" PRIu64
				"\n", w->url, w->cur.delivered, nt->last);
	}
	duty_renew(nt); /* and, when this node holds the duty, deliver */
	nt->polls = 1;
	return 0;
}

/* after evhttp_free() (which closed the streams), before event_base_free() */
void notify_stop(struct server *srv)
{
	struct notify *nt = srv->notify;

	if (!nt)
		return;
	/* evhttp_free() closed every connection; a stream left means no close callback ran
	 * for it, and its request went with the connection */
	while (nt->streams) {
		struct stream *s = nt->streams;

		nt->streams = s->next;
		free(s);
	}
	for (size_t i = 0; i < nt->n_hooks; i++) {
		webhook_release(&nt->hooks[i]);
		event_free(nt->hooks[i].retry);
	}
	if (nt->multi)
		curl_multi_cleanup(nt->multi);
	if (nt->curl_timer)
		event_free(nt->curl_timer);
	if (nt->mac) {
		EVP_MAC_free(nt->mac);
		curl_global_cleanup();
	}
	if (nt->poll)
		event_free(nt->poll);
	if (nt->watchdog)
		event_free(nt->watchdog);
	if (nt->heartbeat)
		event_free(nt->heartbeat);
	OPENSSL_cleanse(nt->secret, sizeof(nt->secret));
	free(nt);
	srv->notify = NULL;
}
