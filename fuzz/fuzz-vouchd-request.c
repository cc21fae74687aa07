// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz vouchd's request-body parsers (service/vouchd-request.c): the first byte picks the
 * kind, the rest is the body as an agent sends it.
 *   0: an operator's PUT /v1/agents/ID { "ak" }
 *   1: verify { "ak", "nonce", "evidence" } and its evidence
 *   2: attest (the evidence document itself)   3: an agent id from a URI path
 *   4: enroll { "ek_cert" | "ek_public", "ak", "csr" } (no client certificate: anyone's)
 *   5: activate { "secret" } (no client certificate)
 *   6, 7: any small document through the strict reader and a key check
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vouch/vouch.h>

#include "vouchd-request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static vouch_ctx *ctx;
	struct vouch_evidence *ev = NULL;
	const char *body = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;
	char err[256];

	if (!ctx && vouch_ctx_new(&ctx) < 0)
		return 0;
	if (size == 0 || len > MAX_BODY)
		return 0;
	switch (data[0] & 7) {
	case 0: {
		struct request_agent_put r;

		if (request_parse_agent_put(ctx, body, len, &r, err, sizeof(err)) == 0)
			request_agent_put_clear(&r);
		break;
	}
	case 4: {
		struct request_enroll r;

		if (request_parse_enroll(ctx, body, len, &r, err, sizeof(err)) == 0)
			request_enroll_clear(&r);
		break;
	}
	case 5: {
		uint8_t secret[REQUEST_NONCE_MAX];
		size_t n;

		(void)request_parse_activate(body, len, secret, &n, err, sizeof(err));
		break;
	}
	case 6:
	case 7: {
		static const char *const keys[] = { "mode", "url", NULL };
		json_object *o = parse_request(body, len, err, sizeof(err));

		if (o)
			(void)check_keys(o, keys, err, sizeof(err));
		json_object_put(o);
		break;
	}
	case 1: {
		struct request_verify r;

		if (request_parse_verify(ctx, body, len, &r, err, sizeof(err)) == 0) {
			if (vouch_evidence_parse(ctx, r.evidence, strlen(r.evidence), &ev) == 0)
				vouch_evidence_free(ev);
			request_verify_clear(&r);
		}
		break;
	}
	case 2:
		if (vouch_evidence_parse(ctx, body, len, &ev) == 0)
			vouch_evidence_free(ev);
		break;
	default:
		(void)valid_id(body, len);
		break;
	}
	return 0;
}
