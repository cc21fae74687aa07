// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Attestation state between rounds: what a verifier remembers of a machine's measurement list
 * (the entries replayed so far, the PCR values they reached, the AK and the boot it was seen in)
 * to continue from entry N next time, as a JSON document (FORMATS.md).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "internal.h"
#include "attest-internal.h"
#include "json-internal.h"
#include "vouch/attest.h"

/* --- incremental state ------------------------------------------------------------------ */

VOUCH_EXPORT int vouch_attest_state_parse(vouch_ctx *ctx, const char *json, size_t len,
					  struct vouch_attest_state *ret_state)
{
	_cleanup_(json_putp) json_object *root = NULL;
	_cleanup_free_ struct vouch_attest_state *st = NULL;
	json_object *v, *ak, *pcrs, *ver;
	char why[256];
	int r;

	if (!ctx || (!json && len) || !ret_state)
		return -EINVAL;
	st = mem_zalloc(sizeof(*st));
	if (!st)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	r = json_parse_object(json, len, ATTEST_JSON_MAX, 32, &root, why, sizeof(why));
	if (r == -ENOMEM)
		return ctx_err(ctx, r, "out of memory");
	if (r < 0)
		return ctx_err(ctx, -EBADMSG, "not strict JSON: %s", why);
	if (!json_object_object_get_ex(root, "format", &v) || !json_is_string(v) ||
	    strcmp(json_object_get_string(v), "vouch-attest-state") != 0 ||
	    !json_object_object_get_ex(root, "ak", &ak) || !json_is_string(ak) ||
	    json_object_get_string_len(ak) != 64 ||
	    !json_object_object_get_ex(root, "entries", &v) ||
	    !json_object_object_get_ex(root, "pcrs", &pcrs) ||
	    !json_object_is_type(pcrs, json_type_object))
		return ctx_err(ctx, -EBADMSG, "not a vouch attestation state");
	/* a state of another version may mean something else by the same keys: refused */
	if (!json_object_object_get_ex(root, "version", &ver) ||
	    !json_object_is_type(ver, json_type_int) || json_object_get_int64(ver) != 1)
		return ctx_err(ctx, -EBADMSG, "not a version 1 vouch attestation state");
	json_object_object_foreach(root, member, unused)
	{
		(void)unused;
		if (strcmp(member, "format") && strcmp(member, "version") && strcmp(member, "ak") &&
		    strcmp(member, "entries") && strcmp(member, "pcrs"))
			return ctx_err(ctx, -EBADMSG, "unknown member '%.32s' in the state", member);
	}
	/* written from a uint64_t through int64_t */
	r = json_get_uint(v, INT64_MAX, &st->entries);
	if (r < 0)
		return ctx_err(ctx, -EBADMSG, "entries %s",
			       r == -ERANGE ? "out of range" : "is not an integer");
	memcpy(st->ak, json_object_get_string(ak), 64);
	json_object_object_foreach(pcrs, bank, vals)
	{
		int algo = vouch_hash_by_name(bank);
		struct vouch_pcr_bank *b;

		if (algo < 0 || st->pcrs.n_banks == VOUCH_PCR_MAX_BANKS ||
		    !json_object_is_type(vals, json_type_object))
			return ctx_err(ctx, -EBADMSG, "bad bank '%.32s'", bank);
		for (uint32_t k = 0; k < st->pcrs.n_banks; k++)
			if (st->pcrs.banks[k].algo == algo)
				return ctx_err(ctx, -EBADMSG, "bank '%.32s' given twice", bank);
		b = &st->pcrs.banks[st->pcrs.n_banks++];
		b->algo = algo;
		json_object_object_foreach(vals, key, hex)
		{
			size_t sz = vouch_hash_info(algo)->size, got = 0;
			uint32_t pcr;

			if (parse_u32(key, &pcr) < 0 || pcr >= VOUCH_PCR_COUNT || (key[0] == '0' && key[1]))
				return ctx_err(ctx, -EBADMSG, "bad PCR index '%.32s'", key);
			if (!json_is_string(hex) ||
			    (size_t)json_object_get_string_len(hex) != 2 * sz ||
			    hex_decode(json_object_get_string(hex), 2 * sz, b->pcr[pcr],
				       sizeof(b->pcr[pcr]), &got) < 0 ||
			    got != sz)
				return ctx_err(ctx, -EBADMSG, "bad PCR value");
			b->present |= 1U << pcr;
		}
	}
	st->valid = true;
	*ret_state = *st;
	return 0;
}

VOUCH_EXPORT int vouch_attest_state_load(vouch_ctx *ctx, const char *path,
					 struct vouch_attest_state *ret_state)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;
	int r;

	if (!ctx || !path || !ret_state)
		return -EINVAL;
	r = read_file_all(ctx, path, ATTEST_JSON_MAX, &buf, &len);
	if (r == -ENOENT) {
		memset(ret_state, 0, sizeof(*ret_state)); /* the first round */
		return 0;
	}
	if (r < 0)
		return r;
	r = vouch_attest_state_parse(ctx, (const char *)buf, len, ret_state);
	if (r == -EBADMSG)
		return ctx_err(ctx, r, "'%s' is not a vouch attestation state: %s", path,
			       vouch_ctx_last_error(ctx));
	return r;
}

static json_object *pcrs_json(const struct vouch_pcrs *p)
{
	json_object *o = json_object_new_object();

	for (uint32_t b = 0; o && b < p->n_banks; b++) {
		const struct vouch_hash_info *hi = vouch_hash_info(p->banks[b].algo);
		json_object *bank = json_object_new_object();

		if (!hi || !bank) {
			json_object_put(bank);
			json_object_put(o);
			return NULL;
		}
		for (unsigned i = 0; i < VOUCH_PCR_COUNT; i++) {
			char key[4], hex[2 * VOUCH_HASH_MAX_SIZE + 1];

			if (!(p->banks[b].present & (1U << i)))
				continue;
			snprintf(key, sizeof(key), "%u", i);
			hex_encode(p->banks[b].pcr[i], hi->size, hex);
			json_object_object_add(bank, key, json_object_new_string(hex));
		}
		json_object_object_add(o, hi->name, bank);
	}
	return o;
}

static int state_format(vouch_ctx *ctx, const struct vouch_attest_state *st, int flags,
			char **ret_text)
{
	_cleanup_(json_putp) json_object *root = NULL;
	json_object *pcrs;
	const char *s;
	char *text;

	root = json_object_new_object();
	pcrs = pcrs_json(&st->pcrs);
	if (!root || !pcrs) {
		json_object_put(pcrs);
		return ctx_err(ctx, -ENOMEM, "out of memory");
	}
	json_object_object_add(root, "format", json_object_new_string("vouch-attest-state"));
	json_object_object_add(root, "version", json_object_new_int(1));
	json_object_object_add(root, "ak", json_object_new_string(st->ak));
	json_object_object_add(root, "entries", json_object_new_int64((int64_t)st->entries));
	json_object_object_add(root, "pcrs", pcrs);
	s = json_object_to_json_string_ext(root, flags);
	if (!s || asprintf(&text, "%s\n", s) < 0)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	*ret_text = text;
	return 0;
}

VOUCH_EXPORT int vouch_attest_state_format(vouch_ctx *ctx, const struct vouch_attest_state *st,
					   char **ret_json)
{
	if (!ctx || !st || !ret_json || !st->valid || strnlen(st->ak, sizeof(st->ak)) != 64)
		return -EINVAL;
	return state_format(ctx, st, JSON_C_TO_STRING_PLAIN, ret_json);
}

VOUCH_EXPORT int vouch_attest_state_save(vouch_ctx *ctx, const char *path,
					 const struct vouch_attest_state *st)
{
	_cleanup_free_ char *text = NULL;
	int r;

	if (!ctx || !path || !st || !st->valid || strnlen(st->ak, sizeof(st->ak)) != 64)
		return -EINVAL;
	r = state_format(ctx, st, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED, &text);
	if (r < 0)
		return r;
	return write_file_atomic(ctx, path, text, strlen(text), 0644);
}

static json_object *hex_json(const uint8_t *buf, size_t len)
{
	_cleanup_free_ char *s = malloc(2 * len + 1);

	if (!s)
		return NULL;
	hex_encode(buf, len, s);
	s[2 * len] = '\0';
	return json_object_new_string(s);
}

VOUCH_EXPORT int vouch_attest_result_to_json(vouch_ctx *ctx, const struct vouch_attest_result *res,
					     char **ret_json)
{
	_cleanup_(json_putp) json_object *o = NULL;
	json_object *arr, *first = NULL, *q;
	const struct vouch_quote_result *qr;
	int worst = 0;
	const char *s;
	char *text;

	if (!ctx || !res || !ret_json || res->n_checks > VOUCH_ATTEST_MAX_CHECKS)
		return -EINVAL;
	for (size_t i = 0; i < res->n_checks; i++) {
		int st = res->checks[i].status;

		if (st < 0 && !vouch_error_is_verdict(st))
			worst = 2;
		else if (st < 0 && worst == 0)
			worst = 1;
	}
	o = json_object_new_object();
	arr = json_object_new_array();
	q = json_object_new_object();
	if (!o || !arr || !q) {
		json_object_put(arr);
		json_object_put(q);
		return ctx_err(ctx, -ENOMEM, "out of memory");
	}
	json_object_object_add(o, "verdict",
			       json_object_new_string(worst == 0   ? "trusted"
						      : worst == 1 ? "untrusted"
								   : "error"));
	for (size_t i = 0; i < res->n_checks; i++) {
		const struct vouch_attest_check *c = &res->checks[i];
		json_object *e = json_object_new_object();

		json_object_object_add(e, "check", json_object_new_string(c->name));
		json_object_object_add(e, "result",
				       json_object_new_string(c->status == 0  ? "pass"
							      : c->status > 0 ? "not_applicable"
									      : "fail"));
		json_object_object_add(e, "detail", json_object_new_string(c->detail));
		if (c->status < 0 && !first) {
			first = json_object_new_object();
			json_object_object_add(first, "check", json_object_new_string(c->name));
			json_object_object_add(first, "detail", json_object_new_string(c->detail));
		}
		json_object_array_add(arr, e);
	}
	json_object_object_add(o, "checks", arr);
	json_object_object_add(o, "ak_attributes_verified",
			       json_object_new_boolean(res->ak_attributes_verified));
	json_object_object_add(o, "unverified_entries", json_object_new_int64((int64_t)res->unverified));
	json_object_object_add(o, "first_failure", first ? first : json_object_new_null());
	qr = &res->quote;
	if (qr->parsed) {
		json_object_object_add(q, "clock", json_object_new_int64((int64_t)qr->clock));
		json_object_object_add(q, "reset_count", json_object_new_int64(qr->reset_count));
		json_object_object_add(q, "restart_count", json_object_new_int64(qr->restart_count));
		json_object_object_add(q, "safe", json_object_new_boolean(qr->safe));
		json_object_object_add(q, "qualified_signer",
				       hex_json(qr->qualified_signer, qr->qualified_signer_len));
		json_object_object_add(q, "pcrs", pcrs_json(&res->pcrs));
	}
	json_object_object_add(o, "quote", q);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (!s || !(text = strdup(s)))
		return ctx_err(ctx, -ENOMEM, "out of memory");
	*ret_json = text;
	return 0;
}
