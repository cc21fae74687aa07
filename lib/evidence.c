// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Evidence documents: JSON with hex TPM structures and base64 logs.
 *
 *   { "format": "vouch-evidence", "version": 1,
 *     "quote": { "attest": HEX, "signature": HEX },
 *     "pcrs": [ { "bank": "sha256", "values": { "0": HEX, ..., "10": HEX } } ],
 *     "ak_name": HEX,                                     (optional)
 *     "ima": { "from_entry": N, "binary": BASE64 },       (optional)
 *     "eventlog": BASE64 }                                (optional)
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdlib.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>

#include "internal.h"
#include "json-internal.h"

#define EVIDENCE_MAX ((size_t)512 << 20)


static int get_hex(json_object *o, const char *key, bool required, uint8_t **ret, size_t *ret_len)
{
	json_object *v;
	const char *s;
	size_t n;
	uint8_t *buf;

	if (!json_object_object_get_ex(o, key, &v))
		return required ? -EBADMSG : 0;
	if (!json_object_is_type(v, json_type_string))
		return -EBADMSG;
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n % 2 || n / 2 > 1 << 20)
		return -EBADMSG;
	buf = mem_alloc(n / 2 + 1);
	if (!buf)
		return -ENOMEM;
	if (hex_decode(s, n, buf, n / 2 + 1, ret_len) < 0) {
		free(buf);
		return -EBADMSG;
	}
	*ret = buf;
	return 0;
}

/* strict base64, and never empty: an empty list is no evidence of anything */
static int get_b64(json_object *o, const char *key, const char *label, uint8_t **ret,
		   size_t *ret_len, char *why, size_t why_size)
{
	json_object *v;
	int r;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(why, why_size, "%s is not a base64 string", label);
		return -EBADMSG;
	}
	if (json_object_get_string_len(v) == 0) {
		snprintf(why, why_size, "%s is empty", label);
		return -EBADMSG;
	}
	r = base64_decode_strict(json_object_get_string(v), (size_t)json_object_get_string_len(v),
				 ret, ret_len);
	if (r == -EBADMSG)
		snprintf(why, why_size,
			 "%s is not strict base64 (RFC 4648: alphabet, padding, no whitespace)", label);
	return r;
}

static int parse_pcrs(json_object *arr, struct vouch_pcrs *p)
{
	size_t n;

	if (!json_object_is_type(arr, json_type_array))
		return -EBADMSG;
	n = json_object_array_length(arr);
	if (n == 0 || n > VOUCH_PCR_MAX_BANKS)
		return -EBADMSG;
	p->n_banks = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		json_object *b = json_object_array_get_idx(arr, i), *name, *vals;
		struct vouch_pcr_bank *bank = &p->banks[i];
		const struct vouch_hash_info *hi;

		if (!json_object_is_type(b, json_type_object) ||
		    !json_object_object_get_ex(b, "bank", &name) ||
		    !json_object_is_type(name, json_type_string) ||
		    !json_object_object_get_ex(b, "values", &vals) ||
		    !json_object_is_type(vals, json_type_object))
			return -EBADMSG;
		bank->algo = vouch_hash_by_name(json_object_get_string(name));
		hi = vouch_hash_info(bank->algo);
		if (!hi || !hi->tpm_alg)
			return -EBADMSG;
		for (size_t k = 0; k < i; k++)
			if (p->banks[k].algo == bank->algo)
				return -EBADMSG;
		json_object_object_foreach(vals, key, val)
		{
			uint32_t pcr;
			size_t len;

			if (parse_u32(key, &pcr) < 0 || pcr >= VOUCH_PCR_COUNT ||
			    (key[0] == '0' && key[1]) || !json_object_is_type(val, json_type_string) ||
			    (size_t)json_object_get_string_len(val) != 2 * hi->size ||
			    hex_decode(json_object_get_string(val), 2 * hi->size, bank->pcr[pcr],
				       VOUCH_HASH_MAX_SIZE, &len) < 0)
				return -EBADMSG;
			bank->present |= 1U << pcr;
		}
	}
	return 0;
}

VOUCH_EXPORT int vouch_evidence_new(struct vouch_evidence **ret_ev)
{
	if (!ret_ev)
		return -EINVAL;
	*ret_ev = mem_zalloc(sizeof(**ret_ev));
	return *ret_ev ? 0 : -ENOMEM;
}

VOUCH_EXPORT void vouch_evidence_free(struct vouch_evidence *ev)
{
	if (!ev)
		return;
	free(ev->attest);
	free(ev->sig);
	free(ev->ima_list);
	free(ev->eventlog);
	free(ev->ak_name);
	free(ev);
}

VOUCH_EXPORT int vouch_evidence_parse(vouch_ctx *ctx, const char *json, size_t len,
				      struct vouch_evidence **ret_ev)
{
	_cleanup_(json_putp) json_object *root = NULL;
	struct vouch_evidence *ev;
	json_object *v, *q, *ima;
	char why[256] = "malformed evidence document";
	uint64_t u;
	int r = -EBADMSG;

	if (!ctx || (!json && len) || !ret_ev)
		return -EINVAL;
	if (len > EVIDENCE_MAX || len > INT32_MAX)
		return ctx_err(ctx, -EBADMSG, "evidence too large");
	r = json_parse_object(json, len, EVIDENCE_MAX, 16, &root, why, sizeof(why));
	if (r == -ENOMEM)
		return ctx_err(ctx, r, "out of memory");
	if (r < 0)
		return ctx_err(ctx, -EBADMSG, "evidence is not strict JSON: %s", why);
	if (!json_object_object_get_ex(root, "format", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "vouch-evidence") != 0 ||
	    !json_object_object_get_ex(root, "version", &v) || json_get_uint(v, 1, &u) < 0 || u != 1)
		return ctx_err(ctx, -EBADMSG, "not a version 1 vouch-evidence document");
	if (vouch_evidence_new(&ev) < 0)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	if (!json_object_object_get_ex(root, "quote", &q) || !json_object_is_type(q, json_type_object))
		goto bad;
	if ((r = get_hex(q, "attest", true, &ev->attest, &ev->attest_len)) < 0 ||
	    (r = get_hex(q, "signature", true, &ev->sig, &ev->sig_len)) < 0)
		goto bad;
	r = -EBADMSG;
	if (!json_object_object_get_ex(root, "pcrs", &v) || parse_pcrs(v, &ev->pcrs) < 0)
		goto bad;
	if ((r = get_hex(root, "ak_name", false, &ev->ak_name, &ev->ak_name_len)) < 0 ||
	    (r = get_b64(root, "eventlog", "eventlog", &ev->eventlog, &ev->eventlog_len, why, sizeof(why))) < 0)
		goto bad;
	if (json_object_object_get_ex(root, "ima", &ima)) {
		r = -EBADMSG;
		if (!json_object_is_type(ima, json_type_object))
			goto bad;
		if (json_object_object_get_ex(ima, "from_entry", &v)) {
			/* written from a uint64_t through int64_t: anything else is not ours */
			r = json_get_uint(v, INT64_MAX, &ev->ima_from_entry);
			if (r < 0) {
				snprintf(why, sizeof(why), "ima.from_entry %s",
					 r == -ERANGE ? "out of range" : "is not an integer");
				r = -EBADMSG;
				goto bad;
			}
		}
		/*
		 * An empty tail says "nothing measured since entry from_entry": the round still
		 * carries a fresh quote, so the verifier checks the quoted PCRs against the
		 * state it keeps (liveness of an idle machine).  From entry 0 there is always a
		 * boot_aggregate, so an empty list there is malformed.
		 */
		if (ev->ima_from_entry > 0 && json_object_object_get_ex(ima, "binary", &v) &&
		    json_object_is_type(v, json_type_string) && json_object_get_string_len(v) == 0) {
			if (!(ev->ima_list = mem_zalloc(1))) {
				r = -ENOMEM;
				goto bad;
			}
			ev->ima_list_len = 0;
		} else if ((r = get_b64(ima, "binary", "ima.binary", &ev->ima_list, &ev->ima_list_len, why, sizeof(why))) < 0) {
			goto bad;
		}
		if (!ev->ima_list) {
			snprintf(why, sizeof(why), "ima has no binary list");
			r = -EBADMSG;
			goto bad;
		}
	}
	*ret_ev = ev;
	return 0;
bad:
	vouch_evidence_free(ev);
	if (r == -ENOMEM)
		return ctx_err(ctx, r, "out of memory");
	return ctx_err(ctx, -EBADMSG, "%s", why);
}

VOUCH_EXPORT int vouch_evidence_load(vouch_ctx *ctx, const char *path,
				     struct vouch_evidence **ret_ev)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;
	int r;

	if (!ctx || !path || !ret_ev)
		return -EINVAL;
	r = read_file_all(ctx, path, EVIDENCE_MAX, &buf, &len);
	if (r < 0)
		return r;
	r = vouch_evidence_parse(ctx, (const char *)buf, len, ret_ev);
	if (r < 0)
		return ctx_err(ctx, r, "'%s': %s", path, vouch_ctx_last_error(ctx));
	return 0;
}

static json_object *hex_obj(const uint8_t *b, size_t n)
{
	_cleanup_free_ char *s = mem_alloc(2 * n + 1);

	if (!s)
		return NULL;
	hex_encode(b, n, s);
	return json_object_new_string(s);
}

static json_object *b64_obj(const uint8_t *b, size_t n)
{
	_cleanup_free_ char *s = NULL;

	if (n > INT32_MAX / 2)
		return NULL;
	s = mem_alloc((n + 2) / 3 * 4 + 1);
	if (!s)
		return NULL;
	EVP_EncodeBlock((unsigned char *)s, b, (int)n);
	return json_object_new_string(s);
}

VOUCH_EXPORT int vouch_evidence_format(vouch_ctx *ctx, const struct vouch_evidence *ev,
				       char **ret_json)
{
	_cleanup_(json_putp) json_object *root = json_object_new_object();
	json_object *q = json_object_new_object(), *arr = json_object_new_array();
	const char *s;

	if (!ctx || !ev || !ret_json || !ev->attest || !ev->sig || !ev->pcrs.n_banks ||
	    ev->pcrs.n_banks > VOUCH_PCR_MAX_BANKS) {
		json_object_put(q);
		json_object_put(arr);
		return -EINVAL;
	}
	if (!root || !q || !arr)
		goto nomem;
	json_object_object_add(root, "format", json_object_new_string("vouch-evidence"));
	json_object_object_add(root, "version", json_object_new_int(1));
	json_object_object_add(q, "attest", hex_obj(ev->attest, ev->attest_len));
	json_object_object_add(q, "signature", hex_obj(ev->sig, ev->sig_len));
	json_object_object_add(root, "quote", q);
	q = NULL;
	for (uint32_t b = 0; b < ev->pcrs.n_banks; b++) {
		const struct vouch_pcr_bank *bank = &ev->pcrs.banks[b];
		json_object *o = json_object_new_object(), *vals = json_object_new_object();

		if (!o || !vals || !vouch_hash_info(bank->algo)) {
			json_object_put(o);
			json_object_put(vals);
			goto nomem;
		}
		json_object_object_add(o, "bank", json_object_new_string(vouch_hash_info(bank->algo)->name));
		for (unsigned i = 0; i < VOUCH_PCR_COUNT; i++) {
			char key[4];

			if (!(bank->present & (1U << i)))
				continue;
			snprintf(key, sizeof(key), "%u", i);
			json_object_object_add(vals, key,
					       hex_obj(bank->pcr[i], vouch_hash_info(bank->algo)->size));
		}
		json_object_object_add(o, "values", vals);
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "pcrs", arr);
	arr = NULL;
	if (ev->ak_name)
		json_object_object_add(root, "ak_name", hex_obj(ev->ak_name, ev->ak_name_len));
	if (ev->ima_list) {
		json_object *ima = json_object_new_object();

		if (!ima)
			goto nomem;
		json_object_object_add(ima, "from_entry", json_object_new_int64((int64_t)ev->ima_from_entry));
		json_object_object_add(ima, "binary", b64_obj(ev->ima_list, ev->ima_list_len));
		json_object_object_add(root, "ima", ima);
	}
	if (ev->eventlog)
		json_object_object_add(root, "eventlog", b64_obj(ev->eventlog, ev->eventlog_len));
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s || !(*ret_json = mem_strdup(s)))
		goto nomem;
	return 0;
nomem:
	json_object_put(q);
	json_object_put(arr);
	return ctx_err(ctx, -ENOMEM, "out of memory");
}
