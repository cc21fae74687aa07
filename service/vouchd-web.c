// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd: the fleet web page, for operators (GET / or /fleet, /fleet/agents/{id}).
 *
 * Server-rendered HTML from the same views as the management API (vouchd-admin.c): no
 * script, no external resource, one inline style sheet allowed by a per-response nonce in
 * a strict Content-Security-Policy.  Verdict details hold measured file names, which the
 * attested machine chooses: every string that comes from the store is HTML-escaped.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include "vouchd.h"

/* text and attribute values alike: & < > " ' */
static void esc(struct evbuffer *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': evbuffer_add(b, "&amp;", 5); break;
		case '<': evbuffer_add(b, "&lt;", 4); break;
		case '>': evbuffer_add(b, "&gt;", 4); break;
		case '"': evbuffer_add(b, "&quot;", 6); break;
		case '\'': evbuffer_add(b, "&#39;", 5); break;
		default: evbuffer_add(b, s, 1);
		}
	}
}

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static long long num(json_object *o, const char *key)
{
	return (long long)json_object_get_int64(json_object_object_get(o, key));
}

static void time_text(struct evbuffer *b, json_object *o, const char *key)
{
	json_object *v;
	struct tm tm;
	time_t t;
	char s[32];

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int)) {
		evbuffer_add_printf(b, "never");
		return;
	}
	t = (time_t)json_object_get_int64(v);
	if (!gmtime_r(&t, &tm) || !strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%SZ", &tm))
		snprintf(s, sizeof(s), "?");
	evbuffer_add_printf(b, "%s", s);
}

/* the known states, in the order the page shows them; a class name per state */
static const char *const states[] = { "untrusted", "error", "registered", "trusted" };

static const char *state_class(const char *s)
{
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (s && strcmp(s, states[i]) == 0)
			return states[i];
	return "error";
}

static void page_start(struct evbuffer *b, const char *nonce, const char *title)
{
	evbuffer_add_printf(b,
			    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			    "<title>");
	esc(b, title);
	evbuffer_add_printf(b,
			    "</title><style nonce=\"%s\">"
			    "body{font-family:sans-serif;margin:1.5em;color:#222}"
			    "table{border-collapse:collapse;margin-bottom:1.5em}"
			    "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;"
			    "vertical-align:top}"
			    "th{background:#f2f2f2}.trusted{color:#176b2c}.untrusted{color:#b00020}"
			    ".error{color:#8a4b00}.registered{color:#555}"
			    "code{word-break:break-all}.counts span{margin-right:1.5em}"
			    "</style></head><body>\n",
			    nonce);
}

static void send_page(struct evhttp_request *req, struct evbuffer *b, const char *nonce)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char csp[256];

	snprintf(csp, sizeof(csp),
		 "default-src 'none'; style-src 'nonce-%s'; img-src 'none'; base-uri 'none'; "
		 "form-action 'none'; frame-ancestors 'none'",
		 nonce);
	evhttp_add_header(h, "Content-Type", "text/html; charset=utf-8");
	evhttp_add_header(h, "Content-Security-Policy", csp);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evbuffer_add_printf(b, "</body></html>\n");
	evhttp_send_reply(req, 200, "OK", b);
}

static int csp_nonce(char hex[33])
{
	uint8_t n[16];

	if (RAND_bytes(n, sizeof(n)) != 1)
		return -EIO;
	for (size_t i = 0; i < sizeof(n); i++)
		snprintf(hex + 2 * i, 3, "%02x", n[i]);
	return 0;
}

/* one failed check: "<b>CHECK</b>: <code>DETAIL</code>", escaped */
static void failure_html(struct evbuffer *b, json_object *f)
{
	evbuffer_add_printf(b, "<b>");
	esc(b, str(f, "check"));
	evbuffer_add_printf(b, "</b>: <code>");
	esc(b, str(f, "detail"));
	evbuffer_add_printf(b, "</code>");
}

/* the failed checks of a result, each with its detail (which names the failing entry) */
static void failures_html(struct evbuffer *b, json_object *failures)
{
	size_t n = failures ? json_object_array_length(failures) : 0;

	if (!n)
		return;
	evbuffer_add_printf(b, "<ul class=\"failures\">");
	for (size_t i = 0; i < n; i++) {
		json_object *f = json_object_array_get_idx(failures, i);

		evbuffer_add_printf(b, "<li>");
		failure_html(b, f);
		evbuffer_add_printf(b, "</li>");
	}
	evbuffer_add_printf(b, "</ul>");
}

void do_web_fleet(struct server *srv, struct evhttp_request *req, const char *after)
{
	_cleanup_(json_putp) json_object *fleet = NULL;
	json_object *agents;
	struct evbuffer *b;
	char nonce[33];
	const char *next;
	/* the whole fleet's counts (one query), in the order of states[] */
	uint64_t by[_STORE_AGENT_STATE_MAX];
	size_t n, total = 0, counts[sizeof(states) / sizeof(states[0])] = { 0 };
	int code = 503;

	if (require_operator(srv, req) < 0)
		return;
	if (csp_nonce(nonce) < 0 || srv->store->ops->agent_states(srv->store, by) < 0 ||
	    !(fleet = fleet_agents_json(srv, after, &code)))
		return refuse(srv, req, code, "cannot list the agents");
	counts[0] = by[STORE_AGENT_UNTRUSTED];
	counts[1] = by[STORE_AGENT_ERROR];
	counts[2] = by[STORE_AGENT_REGISTERED];
	counts[3] = by[STORE_AGENT_TRUSTED];
	for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++)
		total += counts[k];
	agents = json_object_object_get(fleet, "agents");
	n = json_object_array_length(agents);
	next = json_object_get_string(json_object_object_get(fleet, "next"));
	if (!(b = evbuffer_new()))
		return refuse(srv, req, 500, "out of memory");
	page_start(b, nonce, "vouchd: fleet");
	evbuffer_add_printf(b, "<h1>Fleet</h1>\n<p class=\"counts\" id=\"counts\">"
			       "<span>%zu agents</span>", total);
	for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++)
		evbuffer_add_printf(b, "<span class=\"%s\" id=\"count-%s\">%s: %zu</span>",
				    states[k], states[k], states[k], counts[k]);
	evbuffer_add_printf(b, "</p>\n");
	for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
		if (!counts[k])
			continue;
		evbuffer_add_printf(b, "<h2 class=\"%s\">%s (%zu)</h2>\n"
				       "<table id=\"state-%s\"><tr><th>agent</th><th>verdict</th>"
				       "<th>last seen</th><th>entries</th><th>reference</th>"
				       "<th>failing checks</th></tr>\n",
				    states[k], states[k], counts[k], states[k]);
		for (size_t i = 0; i < n; i++) {
			json_object *a = json_object_array_get_idx(agents, i);
			const char *id = str(a, "id");
			_cleanup_(json_putp) json_object *detail = NULL;

			if (strcmp(state_class(str(a, "state")), states[k]) != 0)
				continue;
			evbuffer_add_printf(b, "<tr class=\"agent\" data-state=\"%s\"><td>"
					       "<a href=\"/fleet/agents/", states[k]);
			esc(b, id);
			evbuffer_add_printf(b, "\">");
			esc(b, id);
			evbuffer_add_printf(b, "</a></td><td class=\"%s\">%s</td><td>", states[k],
					    states[k]);
			time_text(b, a, "last_time");
			evbuffer_add_printf(b, "</td><td>%lld</td><td>",
					    (long long)json_object_get_int64(
						    json_object_object_get(a, "entries")));
			esc(b, str(a, "reference"));
			evbuffer_add_printf(b, "</td><td>");
			if (strcmp(states[k], "untrusted") == 0 || strcmp(states[k], "error") == 0)
				detail = latest_failures_json(srv, id);
			failures_html(b, detail);
			evbuffer_add_printf(b, "</td></tr>\n");
		}
		evbuffer_add_printf(b, "</table>\n");
	}
	if (!total)
		evbuffer_add_printf(b, "<p>No agent has registered.</p>\n");
	else if (*after || next)
	{
		evbuffer_add_printf(b, "<p class=\"page\">%zu agents on this page, ", n);
		if (*after) {
			evbuffer_add_printf(b, "after ");
			esc(b, after);
		} else {
			evbuffer_add_printf(b, "from the first");
		}
		evbuffer_add_printf(b, ".");
	}
	if (next) {
		evbuffer_add_printf(b, " <a id=\"next\" href=\"/fleet/after/");
		esc(b, next);
		evbuffer_add_printf(b, "\">Next page</a>");
	}
	if (total && (*after || next))
		evbuffer_add_printf(b, "</p>\n");
	send_page(req, b, nonce);
	evbuffer_free(b);
}

void do_web_agent(struct server *srv, struct evhttp_request *req, const char *id)
{
	_cleanup_(json_putp) json_object *doc = NULL;
	json_object *a, *hist, *fail;
	struct evbuffer *b;
	char nonce[33], title[128];
	size_t n;
	int code = 500;

	if (require_operator(srv, req) < 0)
		return;
	if (csp_nonce(nonce) < 0 || !(doc = fleet_agent_json(srv, id, HISTORY_MAX, &code)))
		return refuse(srv, req, code, code == 404 ? "agent '%s' is not registered"
							  : "cannot read agent '%s'", id);
	a = json_object_object_get(doc, "agent");
	hist = json_object_object_get(doc, "history");
	fail = json_object_object_get(doc, "last_failure");
	n = json_object_array_length(hist);
	if (!(b = evbuffer_new()))
		return refuse(srv, req, 500, "out of memory");
	snprintf(title, sizeof(title), "vouchd: %s", id);
	page_start(b, nonce, title);
	evbuffer_add_printf(b, "<p><a href=\"/fleet\">fleet</a></p><h1 id=\"agent\">");
	esc(b, id);
	evbuffer_add_printf(b, "</h1>\n<table><tr><th>state</th><td id=\"state\" class=\"%s\">%s"
			       "</td></tr><tr><th>last seen</th><td>",
			    state_class(str(a, "state")), state_class(str(a, "state")));
	time_text(b, a, "last_time");
	evbuffer_add_printf(b, "</td></tr><tr><th>entries verified</th><td>%lld</td></tr>"
			       "<tr><th>reference</th><td>",
			    (long long)json_object_get_int64(json_object_object_get(a, "entries")));
	esc(b, str(a, "reference"));
	evbuffer_add_printf(b, "</td></tr><tr><th>AK</th><td><code>");
	esc(b, str(a, "ak"));
	evbuffer_add_printf(b, "</code></td></tr></table>\n");

	/* the timeline: one square per result, oldest on the left */
	evbuffer_add_printf(b, "<h2>Timeline</h2>\n<svg id=\"timeline\" width=\"%zu\" "
			       "height=\"24\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">",
			    n * 18 + 4);
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(hist, n - 1 - i);
		const char *v = state_class(str(r, "verdict"));

		evbuffer_add_printf(b, "<rect x=\"%zu\" y=\"2\" width=\"14\" height=\"20\" "
				       "fill=\"%s\"><title>result %lld: %s</title></rect>",
				    i * 18 + 2,
				    strcmp(v, "trusted") == 0     ? "#2e9e4f"
				    : strcmp(v, "untrusted") == 0 ? "#d0263c"
								  : "#e39a1c",
				    num(r, "result"), v);
	}
	evbuffer_add_printf(b, "</svg>\n");

	evbuffer_add_printf(b, "<h2>Last failure</h2>\n");
	if (fail) {
		evbuffer_add_printf(b, "<p id=\"last-failure\">result %lld, ",
				    num(fail, "result"));
		time_text(b, fail, "time");
		evbuffer_add_printf(b, ", <span class=\"%s\">%s</span></p>",
				    state_class(str(fail, "verdict")),
				    state_class(str(fail, "verdict")));
		failures_html(b, json_object_object_get(fail, "failures"));
	} else {
		evbuffer_add_printf(b, "<p id=\"last-failure\">none</p>");
	}

	evbuffer_add_printf(b, "\n<h2>History</h2>\n<table id=\"history\"><tr><th>result</th>"
			       "<th>time</th><th>verdict</th><th>first failure</th></tr>\n");
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(hist, i);
		json_object *ff = json_object_object_get(r, "first_failure");
		const char *v = state_class(str(r, "verdict"));

		evbuffer_add_printf(b, "<tr><td>%lld</td><td>", num(r, "result"));
		time_text(b, r, "time");
		evbuffer_add_printf(b, "</td><td class=\"%s\">%s</td><td>", v, v);
		if (ff && json_object_is_type(ff, json_type_object)) {
			failure_html(b, ff);
		}
		evbuffer_add_printf(b, "</td></tr>\n");
	}
	evbuffer_add_printf(b, "</table>\n");
	send_page(req, b, nonce);
	evbuffer_free(b);
}
