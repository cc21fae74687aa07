// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch-fleet: the operators' client of vouchd's management API (also run as
 * 'vouch fleet ...', which executes this program).  HTTPS with the operator's client
 * certificate, libcurl; libvouch is not needed (the server judges, this program shows).
 *
 *   status [--json]              every agent: state, last verdict, last seen, entries
 *   show AGENT [--json]          one agent: history and the last failure's failing entries
 *   add-reference NAME FILE      store reference values under NAME
 *   set-reference AGENT NAME     the reference values AGENT's rounds are judged against
 *   add-agent AGENT AKFILE       provision AGENT with an AK the operator vouches for
 *   remove AGENT                 forget AGENT (its results stay in the chain)
 *   events [--follow]            the server's event stream (text/event-stream)
 *
 * Exit: 0 ok; 1 an agent shown is not trusted (status, show); 2 usage; 3 could not
 * (network, TLS, a refused request: the server's one-line reason is printed).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "cleanup.h"
#include "config.h"
#include "curl-client.h"

#define MAX_RESPONSE (8U << 20)
#define MAX_REFERENCE (8U << 20)
#define MAX_EVENT (1U << 20)
#define EXIT_UNTRUSTED 1
#define EXIT_USAGE 2
#define EXIT_RUNTIME 3

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(json_object *, json_putp, json_object_put)

struct fleet {
	const char *server, *cert, *key, *cacert, *last_event_id;
	const char *after; /* GET /v1/agents: the page after this agent id (X-Vouch-After) */
	bool json, follow;
	uint32_t count; /* events: stop after this many (0: no limit) */
	double idle; /* events without --follow: stop after this long without data */
	CURL *curl;
};

/* what the server (or an agent through it) wrote, safe for a terminal: control characters
 * become '?' (a file name must not move the cursor or retitle the window) */
static void put_safe(FILE *f, const char *s)
{
	for (; s && *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static void safe_copy(char *dst, size_t size, const char *s)
{
	size_t i = 0;

	for (; s && *s && i + 1 < size; s++)
		dst[i++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	dst[i] = '\0';
}

static void tls_options(struct fleet *fl, const char *url)
{
	curl_easy_reset(fl->curl);
	curl_easy_setopt(fl->curl, CURLOPT_URL, url);
	curl_easy_setopt(fl->curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(fl->curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
	curl_easy_setopt(fl->curl, CURLOPT_SSLCERT, fl->cert);
	curl_easy_setopt(fl->curl, CURLOPT_SSLKEY, fl->key);
	curl_easy_setopt(fl->curl, CURLOPT_CAINFO, fl->cacert);
	curl_easy_setopt(fl->curl, CURLOPT_CONNECTTIMEOUT, 20L);
}

/*
 * One request: 0 with the answer (a JSON object), 3 (EXIT_RUNTIME) after printing why it
 * did not happen or what the server refused.
 */
static int http(struct fleet *fl, const char *method, const char *path, const char *body,
		json_object **ret)
{
	_cleanup_free_ char *url = NULL;
	struct curl_slist *hdr = NULL;
	struct buf b = { .max = MAX_RESPONSE };
	json_object *o, *err;
	long code = 0;
	CURLcode rc;

	if (asprintf(&url, "%s%s", fl->server, path) < 0)
		return EXIT_RUNTIME;
	tls_options(fl, url);
	curl_easy_setopt(fl->curl, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(fl->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(fl->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(fl->curl, CURLOPT_WRITEDATA, &b);
	if (fl->after) {
		_cleanup_free_ char *h = NULL;

		if (asprintf(&h, "X-Vouch-After: %s", fl->after) < 0)
			return EXIT_RUNTIME;
		hdr = curl_slist_append(hdr, h);
	}
	if (body)
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(fl->curl, CURLOPT_HTTPHEADER, hdr);
	if (body) {
		curl_easy_setopt(fl->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(fl->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	}
	rc = curl_easy_perform(fl->curl);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		fprintf(stderr, "vouch-fleet: %s: %s\n", url, curl_easy_strerror(rc));
		free(b.data);
		return EXIT_RUNTIME;
	}
	curl_easy_getinfo(fl->curl, CURLINFO_RESPONSE_CODE, &code);
	o = b.data ? json_tokener_parse(b.data) : NULL;
	free(b.data);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		fprintf(stderr, "vouch-fleet: %s %s: HTTP %ld without a JSON answer\n", method,
			path, code);
		return EXIT_RUNTIME;
	}
	if (code < 200 || code > 299) {
		fprintf(stderr, "vouch-fleet: %s %s: HTTP %ld: ", method, path, code);
		put_safe(stderr, json_object_object_get_ex(o, "error", &err)
					 ? json_object_get_string(err) : "refused");
		fputc('\n', stderr);
		json_object_put(o);
		return EXIT_RUNTIME;
	}
	*ret = o;
	return 0;
}

static void print_time(json_object *o, const char *k, char *s, size_t size)
{
	json_object *v;
	struct tm tm;
	time_t t;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int)) {
		snprintf(s, size, "never");
		return;
	}
	t = (time_t)json_object_get_int64(v);
	if (!gmtime_r(&t, &tm) || !strftime(s, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(s, size, "?");
}

static bool bad_state(const char *s)
{
	return s && (strcmp(s, "untrusted") == 0 || strcmp(s, "error") == 0);
}

static void print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

/*
 * Every agent, page after page (GET /v1/agents answers FLEET_PAGE at a time with the id to
 * continue after in "next"), into one {"agents": [...]}.
 */
static int fetch_agents(struct fleet *fl, json_object **ret)
{
	_cleanup_(json_putp) json_object *all = json_object_new_array();
	_cleanup_free_ char *after = NULL;
	int r = 0;

	if (!all)
		return EXIT_RUNTIME;
	for (;;) {
		_cleanup_(json_putp) json_object *o = NULL;
		json_object *agents, *next;
		const char *nx;

		fl->after = after;
		r = http(fl, "GET", "/v1/agents", NULL, &o);
		fl->after = NULL;
		if (r)
			return r;
		if (!json_object_object_get_ex(o, "agents", &agents) ||
		    !json_object_is_type(agents, json_type_array)) {
			fprintf(stderr, "vouch-fleet: the server's answer has no agent list\n");
			return EXIT_RUNTIME;
		}
		for (size_t i = 0; i < json_object_array_length(agents); i++)
			json_object_array_add(all, json_object_get(json_object_array_get_idx(agents, i)));
		if (!json_object_object_get_ex(o, "next", &next) || !next)
			break;
		nx = json_object_get_string(next);
		/* a server that does not move forward would have us loop for ever */
		if (!nx || !*nx || (after && strcmp(nx, after) <= 0)) {
			fprintf(stderr, "vouch-fleet: the server's next page does not move forward\n");
			return EXIT_RUNTIME;
		}
		free(after);
		if (!(after = strdup(nx)))
			return EXIT_RUNTIME;
	}
	if (!(*ret = json_object_new_object()))
		return EXIT_RUNTIME;
	json_object_object_add(*ret, "agents", TAKE_PTR(all));
	return 0;
}

static int cmd_status(struct fleet *fl)
{
	_cleanup_(json_putp) json_object *o = NULL;
	json_object *agents;
	bool untrusted = false;
	int r;

	r = fetch_agents(fl, &o);
	if (r)
		return r;
	agents = json_object_object_get(o, "agents");
	if (!fl->json)
		printf("%-24s %-10s %-12s %-20s %8s  %s\n", "AGENT", "STATE", "LAST-VERDICT",
		       "LAST-SEEN", "ENTRIES", "REFERENCE");
	for (size_t i = 0; i < json_object_array_length(agents); i++) {
		json_object *a = json_object_array_get_idx(agents, i);
		const char *state = jstr(a, "state"), *lv = jstr(a, "last_verdict");
		char seen[32], id[72];

		untrusted = untrusted || bad_state(state);
		if (fl->json)
			continue;
		print_time(a, "last_time", seen, sizeof(seen));
		safe_copy(id, sizeof(id), jstr(a, "id"));
		printf("%-24s %-10s %-12s %-20s %8lld  ", id, state ? state : "?", lv ? lv : "-",
		       seen,
		       (long long)json_object_get_int64(json_object_object_get(a, "entries")));
		put_safe(stdout, jstr(a, "reference"));
		printf("\n");
	}
	if (fl->json)
		print_json(o);
	return untrusted ? EXIT_UNTRUSTED : 0;
}

static void print_failures(json_object *failures)
{
	for (size_t i = 0; failures && i < json_object_array_length(failures); i++) {
		json_object *f = json_object_array_get_idx(failures, i);

		printf("  ");
		put_safe(stdout, jstr(f, "check"));
		printf(": ");
		put_safe(stdout, jstr(f, "detail"));
		printf("\n");
	}
}

static int cmd_show(struct fleet *fl, const char *id)
{
	_cleanup_(json_putp) json_object *o = NULL;
	_cleanup_free_ char *path = NULL;
	json_object *a, *hist, *fail;
	char t[32];
	int r;

	if (asprintf(&path, "/v1/agents/%s", id) < 0)
		return EXIT_RUNTIME;
	r = http(fl, "GET", path, NULL, &o);
	if (r)
		return r;
	if (!json_object_object_get_ex(o, "agent", &a) ||
	    !json_object_object_get_ex(o, "history", &hist) ||
	    !json_object_is_type(hist, json_type_array)) {
		fprintf(stderr, "vouch-fleet: the server's answer has no agent record\n");
		return EXIT_RUNTIME;
	}
	fail = json_object_object_get(o, "last_failure");
	if (fl->json) {
		print_json(o);
		return bad_state(jstr(a, "state")) ? EXIT_UNTRUSTED : 0;
	}
	printf("agent:      ");
	put_safe(stdout, jstr(a, "id"));
	print_time(a, "last_time", t, sizeof(t));
	printf("\nstate:      %s\nlast seen:  %s\nentries:    %lld\nreference:  ",
	       jstr(a, "state") ? jstr(a, "state") : "?", t,
	       (long long)json_object_get_int64(json_object_object_get(a, "entries")));
	put_safe(stdout, jstr(a, "reference"));
	printf("\nAK:         ");
	put_safe(stdout, jstr(a, "ak"));
	printf("\nhistory (newest first):\n");
	for (size_t i = 0; i < json_object_array_length(hist); i++) {
		json_object *h = json_object_array_get_idx(hist, i);
		json_object *ff = json_object_object_get(h, "first_failure");

		print_time(h, "time", t, sizeof(t));
		printf("  %6lld  %s  %-9s", (long long)json_object_get_int64(
						     json_object_object_get(h, "result")),
		       t, jstr(h, "verdict") ? jstr(h, "verdict") : "?");
		if (ff && json_object_is_type(ff, json_type_object)) {
			printf("  ");
			put_safe(stdout, jstr(ff, "check"));
			printf(": ");
			put_safe(stdout, jstr(ff, "detail"));
		}
		printf("\n");
	}
	if (fail && json_object_is_type(fail, json_type_object)) {
		print_time(fail, "time", t, sizeof(t));
		printf("last failure: result %lld at %s (%s)\n",
		       (long long)json_object_get_int64(json_object_object_get(fail, "result")), t,
		       jstr(fail, "verdict") ? jstr(fail, "verdict") : "?");
		print_failures(json_object_object_get(fail, "failures"));
	} else {
		printf("last failure: none\n");
	}
	return bad_state(jstr(a, "state")) ? EXIT_UNTRUSTED : 0;
}

static int read_file(const char *path, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		fprintf(stderr, "vouch-fleet: cannot open '%s': %m\n", path);
		return EXIT_RUNTIME;
	}
	buf = malloc(MAX_REFERENCE + 1);
	n = buf ? fread(buf, 1, MAX_REFERENCE + 1, f) : 0;
	if (!buf || ferror(f) || n > MAX_REFERENCE || memchr(buf, '\0', n)) {
		fprintf(stderr, "vouch-fleet: '%s': %s\n", path,
			!buf ? "out of memory" : ferror(f) ? "read error"
			: n > MAX_REFERENCE ? "larger than 8 MiB" : "contains a NUL byte");
		fclose(f);
		return EXIT_RUNTIME;
	}
	fclose(f);
	buf[n] = '\0';
	*ret = buf;
	buf = NULL;
	return 0;
}

/* what a command prints: the answer as JSON with --json, else the line @fmt */
__attribute__((format(printf, 3, 4)))
static int answer(struct fleet *fl, json_object *o, const char *fmt, ...)
{
	va_list ap;

	if (fl->json) {
		print_json(o);
		return 0;
	}
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	return 0;
}

/* the answer says it made something new ("created": true) */
static bool created(json_object *o)
{
	json_object *c;

	return json_object_object_get_ex(o, "created", &c) && json_object_get_boolean(c);
}

/* PUT @req as compact JSON */
static int put_json(struct fleet *fl, const char *path, json_object *req, json_object **ret)
{
	return http(fl, "PUT", path, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
		    ret);
}

static int cmd_add_reference(struct fleet *fl, const char *name, const char *file)
{
	_cleanup_(json_putp) json_object *o = NULL;
	_cleanup_free_ char *path = NULL, *body = NULL;
	int r;

	r = read_file(file, &body);
	if (r)
		return r;
	if (asprintf(&path, "/v1/references/%s", name) < 0)
		return EXIT_RUNTIME;
	r = http(fl, "PUT", path, body, &o);
	if (r)
		return r;
	return answer(fl, o, "%s sha256:%s (%s)\n", name,
		      jstr(o, "sha256") ? jstr(o, "sha256") : "?",
		      created(o) ? "created" : "updated");
}

static int cmd_set_reference(struct fleet *fl, const char *agent, const char *name)
{
	_cleanup_(json_putp) json_object *o = NULL, *req = json_object_new_object();
	_cleanup_free_ char *path = NULL;
	int r;

	if (!req || asprintf(&path, "/v1/agents/%s/reference", agent) < 0)
		return EXIT_RUNTIME;
	json_object_object_add(req, "reference", json_object_new_string(name));
	r = put_json(fl, path, req, &o);
	if (r)
		return r;
	return answer(fl, o, "%s now uses reference values %s\n", agent, name);
}

#define MAX_AK 65536

/* AKFILE: a TPM2B_PUBLIC (binary) or a PEM/DER public key; vouchd checks what it is */
static int cmd_add_agent(struct fleet *fl, const char *agent, const char *file)
{
	_cleanup_(json_putp) json_object *o = NULL, *req = json_object_new_object();
	_cleanup_free_ char *path = NULL, *enc = NULL;
	_cleanup_free_ uint8_t *buf = malloc(MAX_AK + 1);
	FILE *f;
	size_t n;
	int r;

	if (!req || !buf || asprintf(&path, "/v1/agents/%s", agent) < 0)
		return EXIT_RUNTIME;
	f = fopen(file, "rbe");
	if (!f) {
		fprintf(stderr, "vouch fleet: cannot open '%s': %m\n", file);
		return EXIT_RUNTIME;
	}
	n = fread(buf, 1, MAX_AK + 1, f);
	r = ferror(f);
	fclose(f);
	if (r || n == 0 || n > MAX_AK) {
		fprintf(stderr, "vouch fleet: '%s': %s\n", file,
			r ? "read error" : n == 0 ? "empty" : "larger than 64 KiB: not an AK");
		return EXIT_RUNTIME;
	}
	/* RFC 4648 base64, padded: what vouchd's strict decoder takes (OpenSSL's encoder) */
	enc = malloc(4 * ((n + 2) / 3) + 1);
	if (!enc)
		return EXIT_RUNTIME;
	EVP_EncodeBlock((unsigned char *)enc, buf, (int)n);
	json_object_object_add(req, "ak", json_object_new_string(enc));
	r = put_json(fl, path, req, &o);
	if (r)
		return r;
	return answer(fl, o, "%s AK %s (%s)\n", agent, jstr(o, "ak") ? jstr(o, "ak") : "?",
		      created(o) ? "provisioned" : "already provisioned");
}

static int cmd_remove(struct fleet *fl, const char *agent)
{
	_cleanup_(json_putp) json_object *o = NULL;
	_cleanup_free_ char *path = NULL;
	int r;

	if (asprintf(&path, "/v1/agents/%s", agent) < 0)
		return EXIT_RUNTIME;
	r = http(fl, "DELETE", path, NULL, &o);
	if (r)
		return r;
	return answer(fl, o, "%s removed\n", agent);
}

/* --- events: text/event-stream (the WHATWG HTML "server-sent events" format) ---------------- */

struct sse {
	struct fleet *fl;
	struct buf line; /* the current line, until its end of line */
	struct buf data; /* the event's data lines, joined by '\n' */
	char id[128], last_id[128], event[64];
	uint32_t seen;
	double last_rx;
	bool done, too_long, prev_cr;
	long code;
	bool checked;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void dispatch(struct sse *s)
{
	struct fleet *fl = s->fl;

	if (s->data.len) {
		if (fl->json) {
			_cleanup_(json_putp) json_object *o = json_object_new_object();
			json_object *d = json_tokener_parse(s->data.data);
			const char *ev = s->event[0] ? s->event : "message";

			json_object_object_add(o, "id",
					       s->id[0] ? json_object_new_string(s->id) : NULL);
			json_object_object_add(o, "event", json_object_new_string(ev));
			json_object_object_add(o, "data",
					       d ? d : json_object_new_string(s->data.data));
			print_json(o);
		} else {
			put_safe(stdout, s->id[0] ? s->id : "-");
			printf(" ");
			put_safe(stdout, s->event[0] ? s->event : "message");
			printf(" ");
			put_safe(stdout, s->data.data);
			printf("\n");
		}
		fflush(stdout);
		s->seen++;
		if (fl->count && s->seen >= fl->count)
			s->done = true;
	}
	/* the last event ID persists across events; it is what a reconnection resumes from */
	snprintf(s->last_id, sizeof(s->last_id), "%s", s->id);
	free(s->data.data);
	s->data = (struct buf){ 0 };
	s->event[0] = '\0';
}

static void sse_line(struct sse *s, char *line)
{
	char *value = strchr(line, ':');

	if (!*line)
		return dispatch(s);
	if (value == line)
		return; /* a comment, e.g. a keep-alive */
	if (value) {
		*value++ = '\0';
		if (*value == ' ')
			value++;
	} else {
		value = line + strlen(line);
	}
	if (strcmp(line, "data") == 0) {
		size_t n = strlen(value);
		char *nd;

		if (s->data.len + n + 2 > MAX_EVENT ||
		    !(nd = realloc(s->data.data, s->data.len + n + 2))) {
			s->too_long = true;
			return;
		}
		if (s->data.len)
			nd[s->data.len++] = '\n';
		memcpy(nd + s->data.len, value, n + 1);
		s->data.len += n;
		s->data.data = nd;
	} else if (strcmp(line, "event") == 0) {
		snprintf(s->event, sizeof(s->event), "%s", value);
	} else if (strcmp(line, "id") == 0 && strlen(value) < sizeof(s->id)) {
		snprintf(s->id, sizeof(s->id), "%s", value);
	}
	/* "retry" and unknown fields are ignored */
}

static size_t on_sse(char *p, size_t size, size_t n, void *arg)
{
	struct sse *s = arg;
	size_t len = size * n;

	if (!s->checked) {
		char *ct = NULL;

		s->checked = true;
		curl_easy_getinfo(s->fl->curl, CURLINFO_RESPONSE_CODE, &s->code);
		curl_easy_getinfo(s->fl->curl, CURLINFO_CONTENT_TYPE, &ct);
		if (s->code != 200 || !ct || strncmp(ct, "text/event-stream", 17) != 0)
			return 0;
	}
	s->last_rx = now();
	for (size_t i = 0; i < len && !s->done && !s->too_long; i++) {
		char c = p[i];

		/* a line ends at CR, LF or CRLF */
		if (c == '\n' && s->prev_cr) {
			s->prev_cr = false;
			continue;
		}
		s->prev_cr = c == '\r';
		if (c == '\n' || c == '\r') {
			sse_line(s, s->line.data ? s->line.data : (char *)"");
			free(s->line.data);
			s->line = (struct buf){ .max = MAX_RESPONSE };
		} else if (s->line.len + 2 > MAX_EVENT || on_data(&c, 1, 1, &s->line) != 1) {
			s->too_long = true;
		}
	}
	return s->done || s->too_long ? 0 : len;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct sse *s = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	/* without --follow: what the server has now, then stop once it goes quiet */
	return !s->fl->follow && now() - s->last_rx > s->fl->idle;
}

static int cmd_events(struct fleet *fl)
{
	struct sse s = { .fl = fl, .line.max = MAX_RESPONSE };
	_cleanup_free_ char *url = NULL;
	int r = 0;

	if (asprintf(&url, "%s/v1/events", fl->server) < 0)
		return EXIT_RUNTIME;
	if (fl->last_event_id)
		snprintf(s.last_id, sizeof(s.last_id), "%s", fl->last_event_id);
	for (;;) {
		struct curl_slist *hdr = curl_slist_append(NULL, "Accept: text/event-stream");
		char h[160];
		CURLcode rc;

		if (hdr && s.last_id[0]) {
			snprintf(h, sizeof(h), "Last-Event-ID: %s", s.last_id);
			hdr = curl_slist_append(hdr, h);
		}
		tls_options(fl, url);
		curl_easy_setopt(fl->curl, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(fl->curl, CURLOPT_WRITEFUNCTION, on_sse);
		curl_easy_setopt(fl->curl, CURLOPT_WRITEDATA, &s);
		curl_easy_setopt(fl->curl, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(fl->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(fl->curl, CURLOPT_XFERINFODATA, &s);
		s.checked = false;
		s.code = 0;
		s.last_rx = now();
		rc = curl_easy_perform(fl->curl);
		curl_slist_free_all(hdr);
		free(s.line.data);
		s.line = (struct buf){ .max = MAX_RESPONSE };
		free(s.data.data);
		s.data = (struct buf){ 0 };
		s.id[0] = '\0';
		snprintf(s.id, sizeof(s.id), "%s", s.last_id);
		if (s.done)
			break;
		if (s.too_long) {
			fprintf(stderr, "vouch-fleet: an event longer than %u bytes, stopping\n",
				MAX_EVENT);
			r = EXIT_RUNTIME;
			break;
		}
		if (s.checked && (s.code != 200)) {
			fprintf(stderr, "vouch-fleet: GET /v1/events: HTTP %ld\n", s.code);
			r = EXIT_RUNTIME;
			break;
		}
		if (s.checked && s.code == 200 && rc == CURLE_WRITE_ERROR) {
			fprintf(stderr, "vouch-fleet: GET /v1/events: not a text/event-stream\n");
			r = EXIT_RUNTIME;
			break;
		}
		if (!fl->follow) {
			if (rc != CURLE_OK && rc != CURLE_ABORTED_BY_CALLBACK) {
				fprintf(stderr, "vouch-fleet: %s: %s\n", url,
					curl_easy_strerror(rc));
				r = EXIT_RUNTIME;
			}
			break;
		}
		/* --follow: the stream ended or broke; resume after the last event seen */
		if (rc != CURLE_OK)
			fprintf(stderr, "vouch-fleet: %s: %s, reconnecting\n", url,
				curl_easy_strerror(rc));
		sleep(1);
	}
	return r;
}

/* --- arguments --------------------------------------------------------------------------- */

static int usage(FILE *f, const char *msg, const char *arg)
{
	if (msg)
		fprintf(f, "vouch-fleet: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
	fprintf(f, "usage: vouch fleet COMMAND [--server URL] [--cert CRT] [--key KEY] "
		   "[--cacert CA] [--json] [ARGS]\n"
		   "COMMAND: status | show AGENT | add-reference NAME FILE |\n"
		   "         set-reference AGENT NAME | add-agent AGENT AKFILE | remove AGENT |\n"
		   "         events [--follow] [--last-event-id ID] [--count N] [--idle S]\n"
		   "The connection options default to $VOUCH_FLEET_SERVER, $VOUCH_FLEET_CERT,\n"
		   "$VOUCH_FLEET_KEY and $VOUCH_FLEET_CACERT.  See vouch-fleet(1).\n");
	return EXIT_USAGE;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '.')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* the options into @fl, then the connection's defaults from the environment; -1: go on,
 * else the exit code (--help, --version or a usage error) */
static int parse_options(int argc, char **argv, struct fleet *fl)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "cacert", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "follow", no_argument, NULL, 'f' },
		{ "last-event-id", required_argument, NULL, 'L' },
		{ "count", required_argument, NULL, 'n' },
		{ "idle", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ 0 },
	};
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char **slot = NULL;

		switch (opt) {
		case 's': slot = &fl->server; break;
		case 'c': slot = &fl->cert; break;
		case 'k': slot = &fl->key; break;
		case 'a': slot = &fl->cacert; break;
		case 'L': slot = &fl->last_event_id; break;
		case 'j': fl->json = true; break;
		case 'f': fl->follow = true; break;
		case 'n': {
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || !*optarg || *end || *optarg == '-' || v == 0 || v > UINT32_MAX)
				return usage(stderr, "invalid --count", optarg);
			fl->count = (uint32_t)v;
			break;
		}
		case 'i':
			errno = 0;
			fl->idle = strtod(optarg, &end);
			if (errno || !*optarg || *end || !(fl->idle > 0 && fl->idle <= 3600))
				return usage(stderr, "invalid --idle", optarg);
			break;
		case 'h':
			usage(stdout, NULL, NULL);
			return 0;
		case 'v':
			printf("vouch-fleet %s\n", VOUCH_VERSION);
			return 0;
		default:
			return usage(stderr, NULL, NULL);
		}
		if (slot) {
			if (*slot)
				return usage(stderr, "option given twice, refusing:",
					     argv[optind - 1]);
			*slot = optarg;
		}
	}
	if (optind >= argc)
		return usage(stderr, "a command is required", NULL);
	if (!fl->server)
		fl->server = getenv("VOUCH_FLEET_SERVER");
	if (!fl->cert)
		fl->cert = getenv("VOUCH_FLEET_CERT");
	if (!fl->key)
		fl->key = getenv("VOUCH_FLEET_KEY");
	if (!fl->cacert)
		fl->cacert = getenv("VOUCH_FLEET_CACERT");
	if (!fl->server || !fl->cert || !fl->key || !fl->cacert)
		return usage(stderr, "--server, --cert, --key and --cacert (or $VOUCH_FLEET_*) are "
				     "required", NULL);
	if (strncmp(fl->server, "https://", 8) != 0)
		return usage(stderr, "--server must be an https:// URL:", fl->server);
	return -1;
}

/* @cmd known, with its number of arguments; names that go into URL paths by the server's
 * rules, checked before anything is sent.  -1: go on, else the exit code */
static int check_command(const char *cmd, int nargs, char **argv)
{
	static const struct {
		const char *name;
		int nargs;
	} cmds[] = { { "status", 0 }, { "show", 1 }, { "add-reference", 2 },
		     { "set-reference", 2 }, { "add-agent", 2 }, { "remove", 1 },
		     { "events", 0 } };
	int r = -1;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmd, cmds[i].name) == 0)
			r = cmds[i].nargs;
	if (r < 0)
		return usage(stderr, "unknown command", cmd);
	if (nargs != r)
		return usage(stderr, "wrong number of arguments for", cmd);
	if ((strcmp(cmd, "show") == 0 || strcmp(cmd, "remove") == 0 ||
	     strcmp(cmd, "set-reference") == 0 || strcmp(cmd, "add-agent") == 0) &&
	    !valid_name(argv[0]))
		return usage(stderr, "invalid agent id", argv[0]);
	if ((strcmp(cmd, "add-reference") == 0 && !valid_name(argv[0])) ||
	    (strcmp(cmd, "set-reference") == 0 && !valid_name(argv[1])))
		return usage(stderr, "invalid reference name",
			     strcmp(cmd, "add-reference") == 0 ? argv[0] : argv[1]);
	return -1;
}

static int run(int argc, char **argv)
{
	struct fleet fl = { .idle = 1.0 };
	const char *cmd;
	int nargs, r;

	r = parse_options(argc, argv, &fl);
	if (r >= 0)
		return r;
	cmd = argv[optind];
	nargs = argc - optind - 1;
	argv += optind + 1;
	r = check_command(cmd, nargs, argv);
	if (r >= 0)
		return r;
	if (fl.last_event_id && (strlen(fl.last_event_id) >= 128 ||
				 strpbrk(fl.last_event_id, "\r\n")))
		return usage(stderr, "invalid --last-event-id", fl.last_event_id);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return EXIT_RUNTIME;
	fl.curl = curl_easy_init();
	if (!fl.curl)
		r = EXIT_RUNTIME;
	else if (strcmp(cmd, "status") == 0)
		r = cmd_status(&fl);
	else if (strcmp(cmd, "show") == 0)
		r = cmd_show(&fl, argv[0]);
	else if (strcmp(cmd, "add-reference") == 0)
		r = cmd_add_reference(&fl, argv[0], argv[1]);
	else if (strcmp(cmd, "set-reference") == 0)
		r = cmd_set_reference(&fl, argv[0], argv[1]);
	else if (strcmp(cmd, "add-agent") == 0)
		r = cmd_add_agent(&fl, argv[0], argv[1]);
	else if (strcmp(cmd, "remove") == 0)
		r = cmd_remove(&fl, argv[0]);
	else
		r = cmd_events(&fl);
	curl_easy_cleanup(fl.curl);
	curl_global_cleanup();
	return r;
}

int main(int argc, char **argv)
{
	return run(argc, argv);
}
