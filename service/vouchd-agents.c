// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd: the agents' endpoints: nonce, attest, and the stateless verify (enrollment,
 * which stores the agents, is vouchd-enroll.c).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include "vouchd.h"

/* --- endpoints --------------------------------------------------------------------------- */

int new_nonce(struct server *srv, const char *id, struct store_nonce *ret)
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

/*
 * POST /v1/agents/ID/mode {"mode": "push"} or {"mode": "pull", "url": "https://IP:PORT"}:
 * an enrolled agent says how its evidence arrives.  The URL is the agent's word: vouchd
 * checks it against --pull-allow here and before every round (vouchd-pull.c).
 */
void do_mode(struct server *srv, struct evhttp_request *req, const char *id)
{
	_cleanup_free_ char *body = NULL;
	_cleanup_(json_putp) json_object *o = NULL, *out = NULL;
	struct store *st = srv->store;
	struct store_agent want = { 0 }, a = { 0 };
	bool changed;
	char err[256];
	size_t len;
	int r;

	if (require_agent(srv, req, id) < 0 || !(body = request_body(srv, req, &len)))
		return;
	o = parse_request(body, len, err, sizeof(err));
	if (!o)
		return refuse(srv, req, 400, "%s", err);
	if (!json_object_object_get_ex(o, "mode", NULL))
		return refuse(srv, req, 400, "'mode' is missing");
	/* takes "mode" and "url" out of @o; the rest must be empty */
	r = pull_registration(srv, o, &want, err, sizeof(err));
	if (r < 0)
		return refuse(srv, req, r == -EPERM ? 403 : 400, "%s", err);
	json_object_object_foreach(o, k, v)
	{
		(void)v;
		return refuse(srv, req, 400, "unknown member '%.64s'", k);
	}
	if (st->ops->begin(st) < 0)
		return refuse(srv, req, 503, "database unavailable");
	r = st->ops->agent_get(st, id, &a);
	if (r == -ENOENT) {
		st->ops->rollback(st);
		return refuse(srv, req, 404, "agent '%s' is not enrolled", id);
	}
	changed = r == 0 && (strcmp(a.mode[0] ? a.mode : "push", want.mode[0] ? want.mode : "push") ||
			     strcmp(a.url, want.url));
	if (changed) {
		memcpy(a.mode, want.mode, sizeof(a.mode));
		memcpy(a.url, want.url, sizeof(a.url));
		r = st->ops->agent_put(st, &a);
		/* a nonce of the other mode must not survive the switch */
		if (r == 0)
			(void)st->ops->nonce_take(st, id, &(struct store_nonce){ 0 });
	}
	store_agent_clear(&a);
	if (r < 0 || (changed ? store_commit(srv) : (st->ops->rollback(st), 0)) < 0) {
		st->ops->rollback(st);
		return refuse(srv, req, 503, "database unavailable");
	}
	if (changed)
		fprintf(stderr, "vouchd: agent '%s' is in %s mode%s%s\n", id,
			want.mode[0] ? want.mode : "push", want.url[0] ? " at " : "", want.url);
	out = json_object_new_object();
	json_object_object_add(out, "agent", json_object_new_string(id));
	json_object_object_add(out, "mode", json_object_new_string(want.mode[0] ? want.mode : "push"));
	if (want.url[0])
		json_object_object_add(out, "url", json_object_new_string(want.url));
	json_object_object_add(out, "changed", json_object_new_boolean(changed));
	reply_json(srv, req, 200, out);
}

void do_nonce(struct server *srv, struct evhttp_request *req, const char *id)
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
	if (store_begin(srv) < 0)
		return refuse(srv, req, 503, "database unavailable");
	r = st->ops->agent_get(st, id, &a);
	store_agent_clear(&a);
	if (r == -ENOENT) {
		st->ops->rollback(st);
		return refuse(srv, req, 404, "agent '%s' is not enrolled", id);
	}
	/* a pull agent's nonce is the poller's: one the agent fetched would replace it */
	if (r == 0 && strcmp(a.mode, "pull") == 0) {
		st->ops->rollback(st);
		return refuse(srv, req, 409, "agent '%s' is in pull mode", id);
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
	if (r < 0 || store_commit(srv) < 0) {
		st->ops->rollback(st);
		return refuse(srv, req, 503, "database unavailable");
	}
	out = json_object_new_object();
	json_object_object_add(out, "agent", json_object_new_string(id));
	add_nonce(out, &n);
	json_object_object_add(out, "offset", json_object_new_int64((int64_t)offset));
	json_object_object_add(out, "pcrs", json_object_new_string(srv->cfg.pcrs));
	reply_json(srv, req, 200, out);
}

static const char *verdict_word(int r)
{
	return r == 0 ? "trusted" : vouch_error_is_verdict(r) ? "untrusted" : "error";
}

/* inside a group commit the round's commit counts it (flush_batch()): /metrics never counts
 * a verdict whose result a failed commit threw away */
static void count(struct server *srv, int r)
{
	int k = r == 0 ? 0 : vouch_error_is_verdict(r) ? 1 : 2;

	if (srv->batch_open)
		srv->batch_verdicts[k]++;
	else
		count_verdicts(srv, (uint64_t[3]){ k == 0, k == 1, k == 2 });
}

/* the event's one line: the first failed check and its detail */
static void status_reason(const struct vouch_attest_result *res, int vr, char *buf, size_t size)
{
	const struct vouch_attest_check *c;

	if (vr == 0 || res->first_failure < 0 || (size_t)res->first_failure >= res->n_checks) {
		snprintf(buf, size, "%s", vr == 0 ? "every check passed" : "not trusted");
		return;
	}
	c = &res->checks[res->first_failure];
	snprintf(buf, size, "%s: %s", c->name ? c->name : "check", c->detail);
}

/* refuse with @code and a reason: the caller turns it into a 4xx/5xx or an "error" row */
__attribute__((format(printf, 3, 4)))
static int fail(struct attest_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -EPERM;
}

/* one attestation: what its transaction read, and what it decided and stored */
struct round {
	const vouch_ak *ak;
	const vouch_attest_reference *ref;
	struct store_nonce n, next;
	struct store_state old;
	struct vouch_attest_state vs;
	struct store_status status;
	char *verdict, *state_json;
	uint64_t seq, offset;
	double t1, t2;
	bool have_state, new_boot, pull, genuine_tpm;
	bool restart; /* the evidence says its list restarted after ima.from_entry (kexec) */
	char restart_why[256];
};

static void round_clear(struct round *rd)
{
	free(rd->verdict);
	free(rd->state_json);
}

/*
 * In the open transaction: the agent (in the mode the evidence came by), its decoded AK
 * and reference values, its nonce (taken) and its stored state.  A refusal rolls back.
 */
static int round_read(struct server *srv, const char *id, const struct store_nonce *expect,
		      struct round *rd, struct attest_error *e)
{
	struct store *st = srv->store;
	struct store_agent a = { 0 };
	int r;

	/* PostgreSQL: the reads below in one round trip */
	if (st->ops->attest_prefetch)
		(void)st->ops->attest_prefetch(st, id);
	r = st->ops->agent_get(st, id, &a);
	if (r == -ENOENT) {
		st->ops->rollback(st);
		return fail(e, 404, "agent '%s' is not enrolled", id);
	}
	/* evidence arrives one way per agent: pushed, or fetched by the poller (@expect) */
	rd->pull = strcmp(a.mode, "pull") == 0;
	if (r == 0 && rd->pull != !!expect) {
		store_agent_clear(&a);
		st->ops->rollback(st);
		return fail(e, 409, "agent '%s' is in %s mode", id, rd->pull ? "pull" : "push");
	}
	if (r == 0)
		/* the decoded AK of exactly these stored bytes and fingerprint, decoded once */
		r = agent_cache_ak(srv->cache, srv->ctx, &a, &rd->ak) < 0 ? -EIO : 0;
	/* the reference values an operator chose for this agent (vouchd-admin.c) */
	if (r == 0)
		r = agent_reference(srv, a.reference, &rd->ref) < 0 ? -EIO : 0;
	rd->genuine_tpm = a.ek_certified;
	store_agent_clear(&a);
	if (r == 0) {
		r = st->ops->nonce_take(st, id, &rd->n);
		if (r == -ENOENT || (r == 0 && rd->n.deadline < (int64_t)time(NULL))) {
			/* nothing changes: the expired nonce stays until a new one replaces it */
			st->ops->rollback(st);
			return fail(e, 409, "no valid nonce for agent '%s': %s", id,
				    r == 0 ? "it expired" : "GET its nonce first");
		}
		/* the poller's round: the nonce it sent must still be the agent's one */
		if (r == 0 && expect &&
		    (expect->len != rd->n.len ||
		     CRYPTO_memcmp(expect->nonce, rd->n.nonce, rd->n.len) != 0)) {
			st->ops->rollback(st);
			return fail(e, 409, "agent '%s' has another nonce than the one asked with", id);
		}
	}
	if (r == 0) {
		r = st->ops->state_get(st, id, &rd->old);
		if (r == 0) {
			rd->have_state = true;
			r = agent_cache_state(srv->cache, srv->ctx, id, rd->old.state_json, &rd->vs) < 0
				    ? -EIO
				    : 0;
		} else if (r == -ENOENT) {
			r = 0;
		}
	}
	if (r < 0) {
		st->ops->rollback(st);
		store_state_clear(&rd->old);
		return fail(e, 503, "database unavailable");
	}
	return 0;
}

/* the verdict on @ev against the round's inputs; a refusal rolls back */
static int round_verify(struct server *srv, const char *id, const struct vouch_evidence *ev,
			bool resend, struct round *rd, struct vouch_attest_result **res,
			int *ret_vr, struct attest_error *e)
{
	struct vouch_attest_verify_options o = VOUCH_ATTEST_VERIFY_OPTIONS_INIT;
	struct store *st = srv->store;
	struct vouch_evidence e0;
	int vr;

	/* a restart with no state to chain on: the list alone, from its entry 1 */
	if (rd->restart && !rd->have_state) {
		e0 = *ev;
		e0.ima_from_entry = 0;
		ev = &e0;
		snprintf(rd->restart_why, sizeof(rd->restart_why),
			 "the list restarted but nothing was verified before: replayed from entry 1");
	}
	o.ak = rd->ak;
	o.ak_label = id;
	o.nonce = rd->n.nonce;
	o.nonce_len = rd->n.len;
	o.pcrs = &srv->pcrs;
	o.reference = rd->ref;
	o.trust = srv->trust;
	o.state = rd->have_state ? &rd->vs : NULL;
	o.state_label = id;
	if (rd->restart && rd->have_state)
		o.flags |= VOUCH_ATTEST_LIST_RESTARTED;
	vr = vouch_attest_verify(srv->ctx, &o, ev, res);
	/*
	 * A resend after a transport error (X-Vouch-Retry: 1) of this AK's own quote over a nonce
	 * that is no longer the agent's: the first send was most likely committed and its answer
	 * lost.  Nothing is stored (no second result row, no state change) and the agent asks
	 * for a fresh nonce.  Only a quote whose signature verified qualifies, so anything else
	 * is judged as before; without the header a replay is recorded as today (untrusted).
	 */
	if (resend && *res && (*res)->quote.parsed &&
	    (*res)->quote.checks[VOUCH_QUOTE_CHECK_SIGNATURE] == 0 &&
	    (*res)->quote.checks[VOUCH_QUOTE_CHECK_NONCE] != 0) {
		st->ops->rollback(st);
		store_state_clear(&rd->old);
		return fail(e, 409, "agent '%s': the resent quote's nonce was used or replaced; "
				    "GET a new one", id);
	}
	/*
	 * A new boot (the TPM's resetCount moved on; it is signed in the quote's clockInfo,
	 * TPM 2.0 Library Part 2, TPMS_CLOCK_INFO) resets PCR 10: the list starts again and the
	 * old state does not apply.  The count is believed only when this quote's signature
	 * and nonce verified; the second run checks everything again.
	 */
	if (*res && rd->have_state && (*res)->quote.parsed &&
	    (*res)->quote.reset_count != rd->old.reset_count &&
	    (*res)->quote.checks[VOUCH_QUOTE_CHECK_SIGNATURE] == 0 &&
	    (*res)->quote.checks[VOUCH_QUOTE_CHECK_NONCE] == 0) {
		uint32_t reset = (*res)->quote.reset_count;

		vouch_attest_result_free(*res);
		*res = NULL;
		o.state = NULL;
		o.flags &= ~VOUCH_ATTEST_LIST_RESTARTED;
		rd->new_boot = true;
		if (rd->restart) {
			/* PCR 10 was reset with the TPM: the restarted list alone, from entry 1 */
			e0 = *ev;
			e0.ima_from_entry = 0;
			ev = &e0;
			snprintf(rd->restart_why, sizeof(rd->restart_why),
				 "the list restarted and the TPM was reset (resetCount %u, was %u): "
				 "a new boot, not chained, replayed from entry 1",
				 reset, rd->old.reset_count);
		}
		vr = vouch_attest_verify(srv->ctx, &o, ev, res);
	} else if (rd->restart && rd->have_state && *res) {
		/*
		 * A kexec: the new kernel starts a fresh list while PCR 10 keeps its value (no
		 * IMA_KEXEC).  The new list is replayed on the PCRs verified up to from_entry,
		 * never from zero, so the quote explains old and new entries together.
		 */
		snprintf(rd->restart_why, sizeof(rd->restart_why),
			 "the list restarted after entry %llu (kexec) with the TPM not reset "
			 "(resetCount %u): the new list is chained on the %llu verified entries",
			 (unsigned long long)ev->ima_from_entry, rd->old.reset_count,
			 (unsigned long long)rd->vs.entries);
	}
	rd->t2 = now_mono();
	observe(srv, PHASE_VERIFY, rd->t2 - rd->t1);
	if (!*res) {
		st->ops->rollback(st);
		store_state_clear(&rd->old);
		return fail(e, 500, "cannot verify: %s", vouch_ctx_last_error(srv->ctx));
	}
	*ret_vr = vr;
	return 0;
}

/* one more member in a verdict's JSON text */
static int verdict_note(char **verdict, const char *key, const char *value)
{
	json_object *root = json_tokener_parse(*verdict);
	const char *s;
	char *out;

	if (!root)
		return -ENOMEM;
	json_object_object_add(root, key, json_object_new_string(value));
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	out = s ? strdup(s) : NULL;
	json_object_put(root);
	if (!out)
		return -ENOMEM;
	free(*verdict);
	*verdict = out;
	return 0;
}

/* the verdict's state, result row, transition and (push) next nonce, committed */
static int round_store(struct server *srv, const char *id, const struct vouch_attest_result *res,
		       int vr, struct round *rd, struct attest_error *e)
{
	struct store *st = srv->store;
	char reason[STORE_REASON_MAX + 1];
	int r;

	r = vouch_attest_result_to_json(srv->ctx, res, &rd->verdict);
	if (r == 0 && rd->restart_why[0])
		r = verdict_note(&rd->verdict, "ima_restart", rd->restart_why);
	if (r == 0)
		r = ear_attach(srv, res, id, rd->genuine_tpm, rd->n.nonce, rd->n.len, &rd->verdict);
	rd->offset = rd->have_state && !rd->new_boot ? rd->vs.entries : 0;
	if (r == 0 && vr == 0 && res->state.valid) {
		struct store_state ns = { .reset_count = res->quote.reset_count,
					  .restart_count = res->quote.restart_count };

		r = vouch_attest_state_format(srv->ctx, &res->state, &rd->state_json);
		ns.state_json = rd->state_json;
		if (r == 0)
			r = st->ops->state_put(st, id, &ns);
		rd->offset = res->state.entries;
	}
	if (r == 0) {
		struct store_result row = { .agent = id, .time = (int64_t)time(NULL),
					    .verdict = verdict_word(vr), .body = rd->verdict };

		r = st->ops->result_append(st, &row, &rd->seq);
		status_reason(res, vr, reason, sizeof(reason));
		/* a verdict moves the state machine; an error (could not check) does not, and
		 * does not count as an attestation for the deadline either */
		if (r == 0 && (vr == 0 || vouch_error_is_verdict(vr)))
			r = agent_transition(srv, id, verdict_word(vr), rd->seq, reason, row.time,
					     &rd->status);
	}
	/* a push agent gets its next nonce in the answer; the poller makes one per round */
	if (r == 0 && !rd->pull)
		r = new_nonce(srv, id, &rd->next);
	if (r == 0)
		r = store_commit(srv);
	store_state_clear(&rd->old);
	if (r < 0) {
		st->ops->rollback(st);
		return fail(e, 503, "cannot store the result");
	}
	if (rd->state_json) /* the next round finds this text in the store (or a miss) */
		agent_cache_state_put(srv->cache, id, rd->state_json, &res->state);
	observe(srv, PHASE_STORE, now_mono() - rd->t2);
	return 0;
}

/* the answer: the verdict with the agent, its result, the offset and what comes next */
static int round_reply(const char *id, const struct round *rd, json_object **ret,
		       struct attest_error *e)
{
	_cleanup_(json_putp) json_object *out = json_tokener_parse(rd->verdict);

	if (!out)
		return fail(e, 500, "out of memory");
	json_object_object_add(out, "agent", json_object_new_string(id));
	json_object_object_add(out, "result", json_object_new_int64((int64_t)rd->seq));
	json_object_object_add(out, "new_boot", json_object_new_boolean(rd->new_boot));
	if (rd->restart_why[0])
		json_object_object_add(out, "ima_restart", json_object_new_string(rd->restart_why));
	json_object_object_add(out, "offset", json_object_new_int64((int64_t)rd->offset));
	if (!rd->pull)
		add_nonce(out, &rd->next);
	/* when the next attestation is due (0: this one was not a verdict, nothing moved) */
	json_object_object_add(out, "next_deadline", json_object_new_int64(rd->status.deadline));
	*ret = TAKE_PTR(out);
	return 0;
}

/* the optional "ima": { "restart": true } of an evidence document (vouch-agent after a kexec) */
bool evidence_restart(const char *body, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *root = NULL, *ima, *v;
	bool ret = false;

	if (tok && len <= INT_MAX)
		root = json_tokener_parse_ex(tok, body, (int)len);
	if (root && json_object_object_get_ex(root, "ima", &ima) &&
	    json_object_object_get_ex(ima, "restart", &v) && json_object_is_type(v, json_type_boolean))
		ret = json_object_get_boolean(v);
	json_object_put(root);
	if (tok)
		json_tokener_free(tok);
	return ret;
}

int attest_evidence(struct server *srv, const char *id, const struct vouch_evidence *ev,
		    const struct store_nonce *expect, bool resend, bool restart, json_object **ret,
		    struct attest_error *e)
{
	_cleanup_(result_freep) struct vouch_attest_result *res = NULL;
	_cleanup_(round_clear) struct round rd = { .t1 = now_mono(), .restart = restart };
	int r, vr = 0;

	/* without a list vouch_attest_verify() passes on the quote alone and the stored PCR 10
	 * is never compared: push mode always carries the entries after the offset */
	if (!ev->ima_list)
		return fail(e, 400, "the evidence has no IMA measurement list");

	if (store_begin(srv) < 0)
		return fail(e, 503, "database unavailable");
	r = round_read(srv, id, expect, &rd, e);
	if (r == 0)
		r = round_verify(srv, id, ev, resend, &rd, &res, &vr, e);
	if (r == 0)
		r = round_store(srv, id, res, vr, &rd, e);
	if (r < 0)
		return r;
	notify_committed(srv);
	count(srv, vr);
	if (store_seq_deferred(rd.seq))
		fprintf(stderr, "vouchd: agent '%s': %s (result at commit, offset %llu%s)\n", id,
			verdict_word(vr), (unsigned long long)rd.offset, rd.pull ? ", pulled" : "");
	else
		fprintf(stderr, "vouchd: agent '%s': %s (result %llu, offset %llu%s)\n", id,
			verdict_word(vr), (unsigned long long)rd.seq, (unsigned long long)rd.offset,
			rd.pull ? ", pulled" : "");
	return round_reply(id, &rd, ret, e);
}

void do_attest(struct server *srv, struct evhttp_request *req, const char *id)
{
	_cleanup_(evidence_freep) struct vouch_evidence *ev = NULL;
	_cleanup_(json_putp) json_object *out = NULL;
	_cleanup_free_ char *body = NULL;
	struct attest_error e;
	double t0 = now_mono();
	size_t len;
	int r;

	const char *retry;

	if (require_agent(srv, req, id) < 0 || rate_check(srv, req, id) < 0 ||
	    !(body = request_body(srv, req, &len)))
		return;
	/* the agent resends after a transport error: its first send may have been committed */
	retry = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Vouch-Retry");
	r = vouch_evidence_parse(srv->ctx, body, len, &ev);
	if (r < 0)
		return refuse(srv, req, 400, "not an evidence document: %s",
			      vouch_ctx_last_error(srv->ctx));
	observe(srv, PHASE_PARSE, now_mono() - t0);
	if (attest_evidence(srv, id, ev, NULL, retry && strcmp(retry, "1") == 0,
			    evidence_restart(body, len), &out, &e) < 0)
		return refuse(srv, req, e.code, "%s", e.msg);
	reply_json(srv, req, 200, out);
}

/* stateless: { "ak": base64, "nonce": hex, "evidence": {...} } against the default policy */
void do_verify(struct server *srv, struct evhttp_request *req)
{
	struct vouch_attest_verify_options o = VOUCH_ATTEST_VERIFY_OPTIONS_INIT;
	_cleanup_(evidence_freep) struct vouch_evidence *ev = NULL;
	_cleanup_(result_freep) struct vouch_attest_result *res = NULL;
	_cleanup_free_ char *body = NULL, *verdict = NULL;
	_cleanup_(json_putp) json_object *out = NULL;
	struct request_verify rv = { 0 };
	char err[256];
	size_t len;
	int r;

	/* stateless, but every verification costs CPU: only for holders of a certificate */
	if (require_agent(srv, req, NULL) < 0 || !(body = request_body(srv, req, &len)))
		return;
	if (request_parse_verify(srv->ctx, body, len, &rv, err, sizeof(err)) < 0)
		return refuse(srv, req, 400, "%s", err);
	if (vouch_evidence_parse(srv->ctx, rv.evidence, strlen(rv.evidence), &ev) < 0) {
		request_verify_clear(&rv);
		return refuse(srv, req, 400, "not an evidence document: %s",
			      vouch_ctx_last_error(srv->ctx));
	}
	o.ak = rv.key;
	o.nonce = rv.nonce;
	o.nonce_len = rv.nonce_len;
	o.pcrs = &srv->pcrs;
	o.reference = srv->reference;
	o.trust = srv->trust;
	(void)vouch_attest_verify(srv->ctx, &o, ev, &res);
	request_verify_clear(&rv);
	if (!res)
		return refuse(srv, req, 500, "cannot verify: %s", vouch_ctx_last_error(srv->ctx));
	r = vouch_attest_result_to_json(srv->ctx, res, &verdict);
	if (r < 0 || !(out = json_tokener_parse(verdict)))
		return refuse(srv, req, 500, "out of memory");
	reply_json(srv, req, 200, out);
}
