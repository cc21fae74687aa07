// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd: the agents' endpoints: register, nonce, attest, and the stateless verify.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include "vouchd.h"

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

void do_register(struct server *srv, struct evhttp_request *req, const char *id)
{
	_cleanup_free_ char *body = NULL, *pem = NULL;
	_cleanup_(json_putp) json_object *out = NULL;
	struct request_register rr = { 0 };
	struct store *st = srv->store;
	struct store_agent a = { 0 }, old = { 0 };
	struct vouch_digest d;
	char err[256];
	size_t len;
	int r;

	if (require_agent(srv, req, id) < 0 || !(body = request_body(srv, req, &len)))
		return;
	if (request_parse_register(srv->ctx, body, len, &rr, err, sizeof(err)) < 0)
		return refuse(srv, req, 400, "%s", err);
	r = vouch_ak_export_pem(srv->ctx, rr.key, &pem);
	if (r == 0)
		r = vouch_digest_buf(srv->ctx, VOUCH_HASH_SHA256, pem, strlen(pem), &d);
	if (r == 0)
		r = vouch_digest_to_hex(&d, a.ak_fpr, sizeof(a.ak_fpr));
	if (r < 0) {
		request_register_clear(&rr);
		return refuse(srv, req, 500, "cannot fingerprint the AK");
	}
	/*
	 * TODO(enrollment): an AK is taken on the agent's word (its certificate) today.  The
	 * enrollment being built in parallel verifies the EK certificate against the TPM
	 * vendors' CAs and proves with TPM2_MakeCredential / ActivateCredential that this AK
	 * lives in that TPM; it plugs in here, before the record is stored.
	 */
	snprintf(a.id, sizeof(a.id), "%s", id);
	a.ak = rr.ak;
	a.ak_len = rr.ak_len;
	a.registered = (int64_t)time(NULL);
	snprintf(a.reference, sizeof(a.reference), "default");
	r = store_begin(srv) < 0 ? -EIO : st->ops->agent_get(st, id, &old);
	if (r != 0 && r != -ENOENT) {
		st->ops->rollback(st);
		request_register_clear(&rr);
		return refuse(srv, req, 503, "database unavailable");
	}
	if (r == 0) {
		bool same = strcmp(old.ak_fpr, a.ak_fpr) == 0;

		store_agent_clear(&old);
		st->ops->rollback(st);
		request_register_clear(&rr);
		/* a new AK would orphan the verified state: that is enrollment's decision */
		if (!same)
			return refuse(srv, req, 409, "agent '%s' is registered with another AK", id);
		out = json_object_new_object();
		json_object_object_add(out, "agent", json_object_new_string(id));
		json_object_object_add(out, "ak", json_object_new_string(a.ak_fpr));
		json_object_object_add(out, "registered", json_object_new_boolean(false));
		return reply_json(srv, req, 200, out);
	}
	r = st->ops->agent_put(st, &a);
	if (r == 0)
		r = st->ops->commit(st);
	request_register_clear(&rr);
	if (r < 0) {
		st->ops->rollback(st);
		return refuse(srv, req, 503, "database unavailable");
	}
	fprintf(stderr, "vouchd: agent '%s' registered, AK %s\n", id, a.ak_fpr);
	out = json_object_new_object();
	json_object_object_add(out, "agent", json_object_new_string(id));
	json_object_object_add(out, "ak", json_object_new_string(a.ak_fpr));
	json_object_object_add(out, "registered", json_object_new_boolean(true));
	reply_json(srv, req, 201, out);
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
	reply_json(srv, req, 200, out);
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

void do_attest(struct server *srv, struct evhttp_request *req, const char *id)
{
	struct vouch_attest_verify_options o = VOUCH_ATTEST_VERIFY_OPTIONS_INIT;
	_cleanup_(evidence_freep) struct vouch_evidence *ev = NULL;
	_cleanup_(result_freep) struct vouch_attest_result *res = NULL;
	const vouch_ak *ak = NULL;
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

	if (require_agent(srv, req, id) < 0 || rate_check(srv, req, id) < 0 ||
	    !(body = request_body(srv, req, &len)))
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

	if (store_begin(srv) < 0)
		return refuse(srv, req, 503, "database unavailable");
	r = st->ops->agent_get(st, id, &a);
	if (r == -ENOENT) {
		st->ops->rollback(st);
		return refuse(srv, req, 404, "agent '%s' is not registered", id);
	}
	/* the decoded AK of exactly these stored bytes and fingerprint, decoded once */
	if (r == 0)
		r = agent_cache_ak(srv->cache, srv->ctx, &a, &ak) < 0 ? -EIO : 0;
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
			r = agent_cache_state(srv->cache, srv->ctx, id, old.state_json, &vs) < 0
				    ? -EIO
				    : 0;
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
	if (state_json) /* committed: the next round finds this text in the store */
		agent_cache_state_put(srv->cache, id, state_json, &res->state);
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
