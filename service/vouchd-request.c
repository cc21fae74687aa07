// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd: request bodies to structs (vouchd-request.h), free of evhttp so that the fuzz
 * harness links this file alone.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <vouch/digest.h>

#include "cleanup.h"
#include "store.h"
#include "vouchd-request.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(json_object *, req_json_putp, json_object_put)

/*
 * A small request document (register, verify): strict RFC 8259 (json-c's strict mode),
 * MAX_DEPTH levels, nothing after it.  The evidence inside is then read again by
 * vouch_evidence_parse() with libvouch's own strict reader.
 */
json_object *parse_request(const char *body, size_t len, char *err, size_t err_size)
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
int check_keys(json_object *o, const char *const *keys, char *err, size_t err_size)
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

bool valid_id(const char *id, size_t n)
{
	if (n == 0 || n > STORE_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    id[i]) || !id[i])
			return false;
	return id[0] != '.';
}

void request_agent_put_clear(struct request_agent_put *r)
{
	free(r->ak);
	vouch_ak_free(r->key);
	memset(r, 0, sizeof(*r));
}

/* the request's "ak" member, base64: its bytes, or -EBADMSG with the reason in @err */
static int ak_b64(json_object *o, uint8_t **ak, size_t *ak_len, char *err, size_t err_size)
{
	if (b64_decode(json_object_get_string(json_object_object_get(o, "ak")), ak, ak_len) < 0) {
		snprintf(err, err_size, "'ak' is not base64");
		return -EBADMSG;
	}
	return 0;
}

/* the AK those bytes are, or -EBADMSG with the reason in @err */
static int ak_load(vouch_ctx *ctx, const uint8_t *ak, size_t ak_len, vouch_ak **key, char *err,
		   size_t err_size)
{
	if (vouch_ak_load_mem(ctx, ak, ak_len, key) < 0) {
		snprintf(err, err_size, "'ak' is not an attestation key: %s",
			 vouch_ctx_last_error(ctx));
		return -EBADMSG;
	}
	return 0;
}

int request_parse_agent_put(vouch_ctx *ctx, const char *body, size_t len,
			   struct request_agent_put *ret, char *err, size_t err_size)
{
	static const char *const keys[] = { "ak", NULL };
	_cleanup_(req_json_putp) json_object *o = parse_request(body, len, err, err_size);
	struct request_agent_put r = { 0 };

	if (!o || check_keys(o, keys, err, err_size) < 0)
		return -EBADMSG;
	if (ak_b64(o, &r.ak, &r.ak_len, err, err_size) < 0)
		return -EBADMSG;
	if (ak_load(ctx, r.ak, r.ak_len, &r.key, err, err_size) < 0) {
		request_agent_put_clear(&r);
		return -EBADMSG;
	}
	*ret = r;
	return 0;
}

void request_verify_clear(struct request_verify *r)
{
	free(r->ak);
	vouch_ak_free(r->key);
	free(r->evidence);
	memset(r, 0, sizeof(*r));
}

int request_parse_verify(vouch_ctx *ctx, const char *body, size_t len, struct request_verify *ret,
			 char *err, size_t err_size)
{
	static const char *const keys[] = { "ak", "nonce", "evidence", NULL };
	_cleanup_(req_json_putp) json_object *o = parse_request(body, len, err, err_size);
	struct request_verify r = { 0 };
	const char *ev;

	if (!o || check_keys(o, keys, err, err_size) < 0)
		return -EBADMSG;
	if (ak_b64(o, &r.ak, &r.ak_len, err, err_size) < 0)
		return -EBADMSG;
	if (hex_decode(json_object_get_string(json_object_object_get(o, "nonce")), r.nonce,
		       sizeof(r.nonce), &r.nonce_len) < 0) {
		snprintf(err, err_size, "'nonce' is not 1 to %d bytes of hex", REQUEST_NONCE_MAX);
		request_verify_clear(&r);
		return -EBADMSG;
	}
	if (ak_load(ctx, r.ak, r.ak_len, &r.key, err, err_size) < 0) {
		request_verify_clear(&r);
		return -EBADMSG;
	}
	ev = json_object_to_json_string_ext(json_object_object_get(o, "evidence"),
					    JSON_C_TO_STRING_PLAIN);
	r.evidence = ev ? strdup(ev) : NULL;
	if (!r.evidence) {
		snprintf(err, err_size, "out of memory");
		request_verify_clear(&r);
		return -ENOMEM;
	}
	*ret = r;
	return 0;
}

void request_enroll_clear(struct request_enroll *r)
{
	free(r->ek);
	free(r->ak);
	vouch_ak_free(r->key);
	free(r->csr_pem);
	X509_REQ_free(r->csr);
	memset(r, 0, sizeof(*r));
}

void *request_csr_parse(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509_REQ *x = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return x;
}

int request_parse_enroll(vouch_ctx *ctx, const char *body, size_t len, struct request_enroll *ret,
			 char *err, size_t err_size)
{
	static const char *const keys_cert[] = { "ek_cert", "ak", "csr", NULL };
	static const char *const keys_pub[] = { "ek_public", "ak", "csr", NULL };
	_cleanup_(req_json_putp) json_object *o = parse_request(body, len, err, err_size);
	struct request_enroll r = { 0 };
	struct vouch_ak_info info;
	const char *csr;
	EVP_PKEY *pk;
	int ret_code = -EBADMSG;

	if (!o)
		return -EBADMSG;
	r.by_cert = !json_object_object_get_ex(o, "ek_public", NULL);
	if (check_keys(o, r.by_cert ? keys_cert : keys_pub, err, err_size) < 0)
		return -EBADMSG;
	if (b64_decode(json_object_get_string(json_object_object_get(o, r.by_cert ? "ek_cert"
										   : "ek_public")),
		       &r.ek, &r.ek_len) < 0) {
		snprintf(err, err_size, "'%s' is not base64", r.by_cert ? "ek_cert" : "ek_public");
		goto fail;
	}
	if (r.by_cert) {
		const unsigned char *p = r.ek;
		X509 *x = d2i_X509(NULL, &p, (long)r.ek_len);
		bool exact = x && p == r.ek + r.ek_len;

		X509_free(x);
		if (!exact) {
			ERR_clear_error();
			snprintf(err, err_size, "'ek_cert' is not a DER X.509 certificate");
			goto fail;
		}
	}
	if (ak_b64(o, &r.ak, &r.ak_len, err, err_size) < 0)
		goto fail;
	if (ak_load(ctx, r.ak, r.ak_len, &r.key, err, err_size) < 0)
		goto fail;
	vouch_ak_get_info(r.key, &info);
	if (!info.has_public_area || info.name_len == 0) {
		snprintf(err, err_size, "'ak' must be a TPM2B_PUBLIC (its name is bound)");
		goto fail;
	}
	csr = json_object_get_string(json_object_object_get(o, "csr"));
	if (strlen(csr) > REQUEST_CSR_MAX || !(r.csr = request_csr_parse(csr))) {
		ERR_clear_error();
		snprintf(err, err_size, "'csr' is not a PEM certificate request");
		goto fail;
	}
	pk = X509_REQ_get0_pubkey(r.csr);
	if (!pk || X509_REQ_verify(r.csr, pk) != 1) {
		ERR_clear_error();
		snprintf(err, err_size, "the CSR's signature does not verify");
		goto fail;
	}
	if (!(r.csr_pem = strdup(csr))) {
		snprintf(err, err_size, "out of memory");
		ret_code = -ENOMEM;
		goto fail;
	}
	*ret = r;
	return 0;
fail:
	request_enroll_clear(&r);
	return ret_code;
}

int request_parse_activate(const char *body, size_t len, uint8_t secret[REQUEST_NONCE_MAX],
			   size_t *ret_len, char *err, size_t err_size)
{
	static const char *const keys[] = { "secret", NULL };
	_cleanup_(req_json_putp) json_object *o = parse_request(body, len, err, err_size);

	if (!o || check_keys(o, keys, err, err_size) < 0)
		return -EBADMSG;
	if (hex_decode(json_object_get_string(json_object_object_get(o, "secret")), secret,
		       REQUEST_NONCE_MAX, ret_len) < 0) {
		snprintf(err, err_size, "'secret' is not 1 to %d bytes of hex", REQUEST_NONCE_MAX);
		return -EBADMSG;
	}
	return 0;
}
