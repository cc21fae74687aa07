// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd: the operators' management API (client certificates from --operator-ca only):
 *
 *   GET    /v1/agents                  the fleet: each agent's state and newest result
 *   GET    /v1/agents/{id}             one agent: record, history, last failure
 *   DELETE /v1/agents/{id}             remove an agent, its state and nonce (results stay)
 *   PUT    /v1/agents/{id}/reference   { "reference": NAME } the values its rounds use
 *   GET    /v1/references              the named reference values
 *   PUT    /v1/references/{name}       a vouch-reference document, stored by its SHA-256
 *
 * and the routes of the fleet web page (vouchd-web.c).  Reference values are parsed by
 * libvouch once per document and kept by content hash; "default" is --reference.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include "vouchd.h"

#define HISTORY_SCAN 200 /* results searched for the last failure */

/* --- reference values per agent ------------------------------------------------------------ */

void ref_cache_free(struct server *srv)
{
	for (size_t i = 0; i < REF_CACHE_MAX; i++) {
		vouch_attest_reference_free(srv->ref_cache[i].ref);
		srv->ref_cache[i].ref = NULL;
	}
}

static int digest_hex(struct server *srv, const char *buf, size_t len,
		      char hex[2 * STORE_HASH_SIZE + 1])
{
	struct vouch_digest d;
	int r = vouch_digest_buf(srv->ctx, VOUCH_HASH_SHA256, buf, len, &d);

	return r < 0 ? r : vouch_digest_to_hex(&d, hex, 2 * STORE_HASH_SIZE + 1);
}

int agent_reference(struct server *srv, const char *name, const vouch_attest_reference **ret)
{
	struct store_reference sr = { 0 };
	struct ref_cached *slot = &srv->ref_cache[0];
	vouch_attest_reference *ref = NULL;
	char hash[2 * STORE_HASH_SIZE + 1];
	int r;

	if (strcmp(name, "default") == 0) {
		*ret = srv->reference;
		return 0;
	}
	r = srv->store->ops->reference_get(srv->store, name, &sr);
	if (r < 0)
		return r;
	for (size_t i = 0; i < REF_CACHE_MAX; i++) {
		struct ref_cached *c = &srv->ref_cache[i];

		if (c->ref && strcmp(c->hash, sr.hash) == 0) {
			c->used = ++srv->ref_tick;
			store_reference_clear(&sr);
			*ret = c->ref;
			return 0;
		}
		if (c->used < slot->used)
			slot = c; /* the least recently used (or an empty) slot */
	}
	/* the store's document is read again as untrusted input: the database is only as
	 * trustworthy as the file it lives in, and its hash is checked too */
	r = digest_hex(srv, sr.body, strlen(sr.body), hash);
	if (r == 0 && strcmp(hash, sr.hash) != 0)
		r = -EBADMSG;
	if (r == 0)
		r = vouch_attest_reference_parse(srv->ctx, sr.body, strlen(sr.body), &ref);
	if (r < 0) {
		fprintf(stderr, "vouchd: stored reference values '%s' (%s) are unusable\n", name,
			sr.hash);
		store_reference_clear(&sr);
		return -EIO;
	}
	vouch_attest_reference_free(slot->ref);
	snprintf(slot->hash, sizeof(slot->hash), "%s", sr.hash);
	slot->ref = ref;
	slot->used = ++srv->ref_tick;
	store_reference_clear(&sr);
	*ret = ref;
	return 0;
}

/* --- views --------------------------------------------------------------------------------- */

static json_object *entries_json(struct server *srv, const char *state_json)
{
	struct vouch_attest_state vs;

	if (!state_json ||
	    vouch_attest_state_parse(srv->ctx, state_json, strlen(state_json), &vs) < 0)
		return json_object_new_int64(0);
	return json_object_new_int64((int64_t)vs.entries);
}

static json_object *agent_info_json(struct server *srv, const struct store_agent_info *a)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "id", json_object_new_string(a->id));
	/* the state: the newest verdict, "registered" before the first round */
	json_object_object_add(o, "state", json_object_new_string(a->last_seq ? a->last_verdict
									     : "registered"));
	json_object_object_add(o, "last_verdict",
			       a->last_seq ? json_object_new_string(a->last_verdict) : NULL);
	json_object_object_add(o, "last_result", a->last_seq ?
				       json_object_new_int64((int64_t)a->last_seq) : NULL);
	json_object_object_add(o, "last_time", a->last_seq ?
				       json_object_new_int64(a->last_time) : NULL);
	json_object_object_add(o, "entries", entries_json(srv, a->state_json));
	json_object_object_add(o, "reference", json_object_new_string(a->reference));
	json_object_object_add(o, "registered", json_object_new_int64(a->registered));
	return o;
}

json_object *fleet_agents_json(struct server *srv, const char *after, int *ret_code)
{
	struct store_agent_info *v = NULL;
	json_object *out, *arr;
	size_t n = 0;

	if (srv->store->ops->agent_list(srv->store, after, FLEET_PAGE, &v, &n) < 0) {
		*ret_code = 503;
		return NULL;
	}
	out = json_object_new_object();
	arr = json_object_new_array();
	if (!out || !arr) {
		json_object_put(out);
		json_object_put(arr);
		store_agent_infos_free(v, n);
		*ret_code = 500;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, agent_info_json(srv, &v[i]));
	json_object_object_add(out, "agents", arr);
	/* a full page: there may be more after its last agent */
	json_object_object_add(out, "next", n == FLEET_PAGE ? json_object_new_string(v[n - 1].id)
							    : NULL);
	store_agent_infos_free(v, n);
	return out;
}

/* the failed checks of a stored verdict: [ {check, detail} ]; their details name the
 * failing entries ("entry N 'PATH': why") */
static json_object *failures_json(json_object *verdict)
{
	json_object *arr = json_object_new_array(), *checks;

	if (!arr || !json_object_object_get_ex(verdict, "checks", &checks) ||
	    !json_object_is_type(checks, json_type_array))
		return arr;
	for (size_t i = 0; i < json_object_array_length(checks); i++) {
		json_object *c = json_object_array_get_idx(checks, i), *res, *e;

		if (!json_object_object_get_ex(c, "result", &res) ||
		    strcmp(json_object_get_string(res), "fail") != 0 ||
		    !(e = json_object_new_object()))
			continue;
		json_object_object_add(e, "check",
				       json_object_get(json_object_object_get(c, "check")));
		json_object_object_add(e, "detail",
				       json_object_get(json_object_object_get(c, "detail")));
		json_object_array_add(arr, e);
	}
	return arr;
}

static json_object *result_json(const struct store_result_row *row, bool full)
{
	json_object *o = json_object_new_object(), *v = json_tokener_parse(row->body), *ff;

	if (!o) {
		json_object_put(v);
		return NULL;
	}
	json_object_object_add(o, "result", json_object_new_int64((int64_t)row->seq));
	json_object_object_add(o, "time", json_object_new_int64(row->time));
	json_object_object_add(o, "verdict", json_object_new_string(row->verdict));
	ff = v ? json_object_object_get(v, "first_failure") : NULL;
	json_object_object_add(o, "first_failure", json_object_get(ff));
	if (full)
		json_object_object_add(o, "failures", failures_json(v));
	json_object_put(v);
	return o;
}

json_object *fleet_agent_json(struct server *srv, const char *id, size_t limit, int *ret_code)
{
	struct store *st = srv->store;
	struct store_result_row *rows = NULL;
	struct store_agent a = { 0 };
	struct store_state state = { 0 };
	struct store_agent_info info = { 0 };
	json_object *out = NULL, *hist = NULL, *last_fail = NULL, *o;
	size_t nrows = 0;
	int r;

	r = st->ops->agent_get(st, id, &a);
	if (r < 0) {
		*ret_code = r == -ENOENT ? 404 : 503;
		return NULL;
	}
	r = st->ops->results_for_agent(st, id, HISTORY_SCAN, &rows, &nrows);
	if (r == 0) {
		r = st->ops->state_get(st, id, &state);
		if (r == -ENOENT)
			r = 0;
	}
	if (r < 0) {
		store_agent_clear(&a);
		store_result_rows_free(rows, nrows);
		*ret_code = 503;
		return NULL;
	}
	/* the same view as the list's, from the record and the newest result */
	snprintf(info.id, sizeof(info.id), "%s", a.id);
	snprintf(info.reference, sizeof(info.reference), "%s", a.reference);
	info.registered = a.registered;
	info.state_json = state.state_json;
	if (nrows) {
		info.last_seq = rows[0].seq;
		info.last_time = rows[0].time;
		snprintf(info.last_verdict, sizeof(info.last_verdict), "%s", rows[0].verdict);
	}
	out = json_object_new_object();
	hist = json_object_new_array();
	o = agent_info_json(srv, &info);
	if (o)
		json_object_object_add(o, "ak", json_object_new_string(a.ak_fpr));
	for (size_t i = 0; hist && i < nrows; i++) {
		if (i < limit)
			json_object_array_add(hist, result_json(&rows[i], false));
		if (!last_fail && strcmp(rows[i].verdict, "trusted") != 0)
			last_fail = result_json(&rows[i], true);
	}
	store_agent_clear(&a);
	store_state_clear(&state);
	store_result_rows_free(rows, nrows);
	if (!out || !hist || !o) {
		json_object_put(out);
		json_object_put(hist);
		json_object_put(o);
		json_object_put(last_fail);
		*ret_code = 500;
		return NULL;
	}
	json_object_object_add(out, "agent", o);
	json_object_object_add(out, "history", hist);
	json_object_object_add(out, "last_failure", last_fail);
	return out;
}

json_object *latest_failures_json(struct server *srv, const char *id)
{
	struct store_result_row *rows = NULL;
	json_object *v, *f;
	size_t n = 0;

	if (srv->store->ops->results_for_agent(srv->store, id, 1, &rows, &n) < 0 || n == 0) {
		store_result_rows_free(rows, n);
		return NULL;
	}
	v = json_tokener_parse(rows[0].body);
	store_result_rows_free(rows, n);
	f = failures_json(v);
	json_object_put(v);
	return f;
}

/* --- endpoints ----------------------------------------------------------------------------- */

/* the id between @p and the next '/' or the end: its length, or 0 if invalid */
static size_t take_id(const char *p, char id[STORE_ID_MAX + 1])
{
	size_t n = strcspn(p, "/");

	if (!valid_id(p, n))
		return 0;
	memcpy(id, p, n);
	id[n] = '\0';
	return n;
}

static void do_agents(struct server *srv, struct evhttp_request *req)
{
	_cleanup_(json_putp) json_object *out = NULL;
	const char *after = evhttp_find_header(evhttp_request_get_input_headers(req),
					       "X-Vouch-After");
	char id[STORE_ID_MAX + 1] = "";
	int code = 500;

	if (require_operator(srv, req) < 0)
		return;
	if (after && (!take_id(after, id) || after[strlen(id)]))
		return refuse(srv, req, 400, "X-Vouch-After: not an agent id (1-%d of [A-Za-z0-9._-])",
			      STORE_ID_MAX);
	if (!(out = fleet_agents_json(srv, id, &code)))
		return refuse(srv, req, code, "cannot list the agents");
	reply_json(srv, req, 200, out);
}

static void do_agent(struct server *srv, struct evhttp_request *req, const char *id)
{
	_cleanup_(json_putp) json_object *out = NULL;
	int code = 500;

	if (require_operator(srv, req) < 0)
		return;
	if (!(out = fleet_agent_json(srv, id, HISTORY_MAX, &code)))
		return refuse(srv, req, code, code == 404 ? "agent '%s' is not registered"
							  : "cannot read agent '%s'", id);
	reply_json(srv, req, 200, out);
}


/* commit when @r is 0, else (or when the commit fails) roll back and refuse: 404 for an
 * agent that is not registered, 503 for the rest */
static int commit_agent(struct server *srv, struct evhttp_request *req, int r, const char *id)
{
	struct store *st = srv->store;

	if (r == 0)
		r = st->ops->commit(st);
	if (r < 0) {
		st->ops->rollback(st);
		if (r == -ENOENT)
			refuse(srv, req, 404, "agent '%s' is not registered", id);
		else
			refuse(srv, req, 503, "database unavailable");
	}
	return r;
}
static void do_agent_delete(struct server *srv, struct evhttp_request *req, const char *id)
{
	_cleanup_(json_putp) json_object *out = NULL;
	struct store *st = srv->store;
	int r;

	if (require_operator(srv, req) < 0)
		return;
	if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) != 0)
		return refuse(srv, req, 400, "DELETE takes no body");
	if (st->ops->begin(st) < 0)
		return refuse(srv, req, 503, "database unavailable");
	r = st->ops->agent_delete(st, id);
	if (commit_agent(srv, req, r, id) < 0)
		return;
	fprintf(stderr, "vouchd: agent '%s' removed by an operator\n", id);
	out = json_object_new_object();
	json_object_object_add(out, "agent", json_object_new_string(id));
	json_object_object_add(out, "deleted", json_object_new_boolean(true));
	reply_json(srv, req, 200, out);
}

/*
 * PUT /v1/agents/ID {"ak": base64}: an operator provisions an agent whose AK it vouches for
 * out of band (an image builder's records, a VM platform's vTPM), without enrollment.  The
 * AK may be a TPM2B_PUBLIC or a PEM/DER public key; the record has no EK fingerprint, so
 * its results never claim a genuine TPM.  The same AK again is idempotent; another AK for
 * an existing id is refused: replacing a machine's key is removing it and adding it again.
 */
static void do_agent_put(struct server *srv, struct evhttp_request *req, const char *id)
{
	_cleanup_(json_putp) json_object *out = NULL;
	_cleanup_free_ char *body = NULL, *pem = NULL;
	_cleanup_(request_agent_put_clear) struct request_agent_put rq = { 0 };
	struct store *st = srv->store;
	struct store_agent a = { 0 }, old = { 0 };
	struct vouch_digest d;
	char err[256];
	size_t len;
	int r;

	if (require_operator(srv, req) < 0 || !(body = request_body(srv, req, &len)))
		return;
	/* the body's shape and the AK (vouchd-request.c, fuzzed) */
	if (request_parse_agent_put(srv->ctx, body, len, &rq, err, sizeof(err)) < 0)
		return refuse(srv, req, 400, "%s", err);
	r = vouch_ak_export_pem(srv->ctx, rq.key, &pem);
	if (r == 0)
		r = vouch_digest_buf(srv->ctx, VOUCH_HASH_SHA256, pem, strlen(pem), &d);
	if (r == 0)
		r = vouch_digest_to_hex(&d, a.ak_fpr, sizeof(a.ak_fpr));
	if (r < 0)
		return refuse(srv, req, 500, "cannot fingerprint the AK");
	if (store_begin(srv) < 0)
		return refuse(srv, req, 503, "database unavailable");
	r = st->ops->agent_get(st, id, &old);
	if (r == 0) {
		bool same = strcmp(old.ak_fpr, a.ak_fpr) == 0;

		store_agent_clear(&old);
		st->ops->rollback(st);
		if (!same)
			return refuse(srv, req, 409, "agent '%s' exists with another AK: remove it first",
				      id);
		out = json_object_new_object();
		json_object_object_add(out, "agent", json_object_new_string(id));
		json_object_object_add(out, "ak", json_object_new_string(a.ak_fpr));
		json_object_object_add(out, "created", json_object_new_boolean(false));
		return reply_json(srv, req, 200, out);
	}
	snprintf(a.id, sizeof(a.id), "%s", id);
	a.ak = rq.ak;
	a.ak_len = rq.ak_len;
	a.registered = (int64_t)time(NULL);
	snprintf(a.reference, sizeof(a.reference), "default");
	if (r == -ENOENT)
		r = st->ops->agent_put(st, &a);
	if (r == 0)
		r = agent_transition(srv, id, "enrolled", 0, "provisioned by an operator",
				     a.registered, NULL);
	if (r == 0)
		r = store_commit(srv);
	if (r < 0) {
		st->ops->rollback(st);
		return refuse(srv, req, 503, "database unavailable");
	}
	notify_committed(srv);
	fprintf(stderr, "vouchd: agent '%s' provisioned by an operator, AK %s\n", id, a.ak_fpr);
	out = json_object_new_object();
	json_object_object_add(out, "agent", json_object_new_string(id));
	json_object_object_add(out, "ak", json_object_new_string(a.ak_fpr));
	json_object_object_add(out, "created", json_object_new_boolean(true));
	reply_json(srv, req, 201, out);
}

static void do_agent_reference(struct server *srv, struct evhttp_request *req, const char *id)
{
	static const char *const keys[] = { "reference", NULL };
	_cleanup_(json_putp) json_object *o = NULL, *out = NULL;
	_cleanup_free_ char *body = NULL;
	struct store *st = srv->store;
	struct store_reference sr = { 0 };
	const char *name;
	char err[256];
	size_t len;
	int r;

	if (require_operator(srv, req) < 0 || !(body = request_body(srv, req, &len)))
		return;
	o = parse_request(body, len, err, sizeof(err));
	if (!o || check_keys(o, keys, err, sizeof(err)) < 0)
		return refuse(srv, req, 400, "%s", err);
	name = json_object_get_string(json_object_object_get(o, "reference"));
	if (!valid_id(name, strlen(name)))
		return refuse(srv, req, 400, "invalid reference name (1-%d of [A-Za-z0-9._-])",
			      STORE_ID_MAX);
	if (st->ops->begin(st) < 0)
		return refuse(srv, req, 503, "database unavailable");
	r = strcmp(name, "default") == 0 ? 0 : st->ops->reference_get(st, name, &sr);
	store_reference_clear(&sr);
	if (r == -ENOENT) {
		st->ops->rollback(st);
		return refuse(srv, req, 404, "no reference values named '%s'", name);
	}
	if (r == 0)
		r = st->ops->agent_set_reference(st, id, name);
	if (commit_agent(srv, req, r, id) < 0)
		return;
	fprintf(stderr, "vouchd: agent '%s' now uses reference values '%s'\n", id, name);
	out = json_object_new_object();
	json_object_object_add(out, "agent", json_object_new_string(id));
	json_object_object_add(out, "reference", json_object_new_string(name));
	reply_json(srv, req, 200, out);
}

static void do_references(struct server *srv, struct evhttp_request *req)
{
	_cleanup_(json_putp) json_object *out = NULL;
	struct store_reference *v = NULL;
	json_object *arr;
	size_t n = 0;

	if (require_operator(srv, req) < 0)
		return;
	if (srv->store->ops->reference_list(srv->store, &v, &n) < 0)
		return refuse(srv, req, 503, "database unavailable");
	out = json_object_new_object();
	arr = json_object_new_array();
	for (size_t i = 0; arr && i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(v[i].name));
		json_object_object_add(o, "sha256", json_object_new_string(v[i].hash));
		json_object_object_add(o, "updated", json_object_new_int64(v[i].updated));
		json_object_array_add(arr, o);
	}
	free(v);
	if (!out || !arr) {
		json_object_put(arr);
		return refuse(srv, req, 500, "out of memory");
	}
	json_object_object_add(out, "default", json_object_new_boolean(srv->reference != NULL));
	json_object_object_add(out, "references", arr);
	reply_json(srv, req, 200, out);
}

static void do_reference_put(struct server *srv, struct evhttp_request *req, const char *name)
{
	_cleanup_(json_putp) json_object *out = NULL;
	_cleanup_free_ char *body = NULL;
	vouch_attest_reference *ref = NULL;
	struct store *st = srv->store;
	struct store_reference old = { 0 };
	char hash[2 * STORE_HASH_SIZE + 1];
	size_t len;
	int r, had;

	if (require_operator(srv, req) < 0 || !(body = request_body(srv, req, &len)))
		return;
	if (strcmp(name, "default") == 0)
		return refuse(srv, req, 400,
			      "'default' is vouchd's --reference and cannot be replaced");
	if (memchr(body, '\0', len))
		return refuse(srv, req, 400, "the document contains a NUL byte");
	/* validated by the library's own strict reader, exactly as it will be used */
	r = vouch_attest_reference_parse(srv->ctx, body, len, &ref);
	vouch_attest_reference_free(ref);
	if (r < 0)
		return refuse(srv, req, 400, "not a vouch-reference document: %s",
			      vouch_ctx_last_error(srv->ctx));
	if (digest_hex(srv, body, len, hash) < 0)
		return refuse(srv, req, 500, "cannot hash the document");
	if (st->ops->begin(st) < 0)
		return refuse(srv, req, 503, "database unavailable");
	had = st->ops->reference_get(st, name, &old);
	store_reference_clear(&old);
	r = had == 0 || had == -ENOENT ? st->ops->reference_put(st, name, hash, body,
								(int64_t)time(NULL))
				      : had;
	if (r == 0)
		r = st->ops->commit(st);
	if (r < 0) {
		st->ops->rollback(st);
		return refuse(srv, req, 503, "database unavailable");
	}
	fprintf(stderr, "vouchd: reference values '%s' = sha256:%s\n", name, hash);
	out = json_object_new_object();
	json_object_object_add(out, "name", json_object_new_string(name));
	json_object_object_add(out, "sha256", json_object_new_string(hash));
	json_object_object_add(out, "created", json_object_new_boolean(had == -ENOENT));
	reply_json(srv, req, had == -ENOENT ? 201 : 200, out);
}

/* every route of the API and the page is the operators': others learn nothing, not even
 * which methods a route takes */
#define OPERATOR_ONLY()                                   \
	do {                                              \
		if (require_operator(srv, req) < 0)       \
			return true;                      \
	} while (0)

static void route_fleet(struct server *srv, struct evhttp_request *req, const char *id)
{
	do_web_fleet(srv, req, id ? id : "");
}

static void route_agents(struct server *srv, struct evhttp_request *req, const char *id)
{
	do_agents(srv, req);
}

static void route_references(struct server *srv, struct evhttp_request *req, const char *id)
{
	do_references(srv, req);
}

#define STR_(x) #x
#define STR(x) STR_(x)

/* the routes of one method: a path, or a prefix and an id to the end of the path */
static const struct {
	const char *path;
	bool prefix; /* an id follows */
	enum evhttp_cmd_type method;
	int bad_id_code;
	const char *bad_id, *wrong_method;
	void (*fn)(struct server *srv, struct evhttp_request *req, const char *id);
} routes[] = {
	{ "/", false, EVHTTP_REQ_GET, 0, NULL, "the fleet page is read-only", route_fleet },
	{ "/fleet", false, EVHTTP_REQ_GET, 0, NULL, "the fleet page is read-only", route_fleet },
	{ "/fleet/after/", true, EVHTTP_REQ_GET, 404, "no such page", "the fleet page is read-only",
	  route_fleet },
	{ "/fleet/agents/", true, EVHTTP_REQ_GET, 404, "no such page",
	  "the fleet page is read-only", do_web_agent },
	{ "/v1/agents", false, EVHTTP_REQ_GET, 0, NULL, "GET /v1/agents only", route_agents },
	{ "/v1/references", false, EVHTTP_REQ_GET, 0, NULL, "GET /v1/references only",
	  route_references },
	{ "/v1/references/", true, EVHTTP_REQ_PUT, 400,
	  "invalid reference name (1-" STR(STORE_ID_MAX) " of [A-Za-z0-9._-])",
	  "PUT /v1/references/NAME only", do_reference_put },
};

/* a route of the table above: true when @uri is one (handled, or refused) */
static bool table_route(struct server *srv, struct evhttp_request *req, const char *uri,
			enum evhttp_cmd_type cmd)
{
	char id[STORE_ID_MAX + 1];

	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		size_t len = strlen(routes[i].path), n = 0;

		if (routes[i].prefix ? strncmp(uri, routes[i].path, len) != 0
				     : strcmp(uri, routes[i].path) != 0)
			continue;
		OPERATOR_ONLY();
		if (routes[i].prefix)
			n = take_id(uri + len, id);
		if (routes[i].prefix && (!n || uri[len + n]))
			refuse(srv, req, routes[i].bad_id_code, "%s", routes[i].bad_id);
		else if (cmd != routes[i].method)
			refuse(srv, req, 405, "%s", routes[i].wrong_method);
		else
			routes[i].fn(srv, req, routes[i].prefix ? id : NULL);
		return true;
	}
	return false;
}

bool admin_route(struct server *srv, struct evhttp_request *req, const char *uri)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	char id[STORE_ID_MAX + 1];
	const char *rest;
	size_t n;

	if (table_route(srv, req, uri, cmd))
		return true;
	if (strncmp(uri, "/v1/agents/", 11) != 0)
		return false;
	/* /v1/agents/{id} and /v1/agents/{id}/reference are the operators'; the agents'
	 * actions (register, nonce, attest) stay with the main router */
	n = take_id(uri + 11, id);
	if (!n)
		return false; /* the main router refuses the id */
	rest = uri + 11 + n;
	if (*rest == '\0') {
		OPERATOR_ONLY();
		if (cmd == EVHTTP_REQ_GET)
			do_agent(srv, req, id);
		else if (cmd == EVHTTP_REQ_DELETE)
			do_agent_delete(srv, req, id);
		else if (cmd == EVHTTP_REQ_PUT)
			do_agent_put(srv, req, id);
		else
			refuse(srv, req, 405, "GET, PUT or DELETE /v1/agents/ID only");
		return true;
	}
	if (strcmp(rest, "/reference") == 0) {
		OPERATOR_ONLY();
		if (cmd != EVHTTP_REQ_PUT)
			refuse(srv, req, 405, "PUT /v1/agents/ID/reference only");
		else
			do_agent_reference(srv, req, id);
		return true;
	}
	return false;
}
