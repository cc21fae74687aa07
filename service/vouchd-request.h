/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouchd: request bodies to structs, without evhttp, so that fuzz/fuzz-vouchd-request.c
 * links them.  Every function takes the untrusted body as received and returns 0 or
 * -EBADMSG / -ENOMEM with a one-line reason in @err.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCHD_REQUEST_H
#define VOUCHD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <vouch/ctx.h>
#include <vouch/quote.h>

#define MAX_BODY (8U << 20) /* evidence with a long first list: a few MiB */
#define MAX_DEPTH 8 /* the request documents nest 3 levels; evidence is parsed by libvouch */
#define REQUEST_NONCE_MAX 64

/* PUT /v1/agents/ID (an operator provisions an agent): { "ak": base64 } */
struct request_agent_put {
	uint8_t *ak; /* TPM2B_PUBLIC or PEM/DER SubjectPublicKeyInfo, as sent */
	size_t ak_len;
	vouch_ak *key; /* loaded */
};

/* POST /v1/verify: { "ak": base64, "nonce": hex, "evidence": {...} } */
struct request_verify {
	uint8_t *ak;
	size_t ak_len;
	vouch_ak *key;
	uint8_t nonce[REQUEST_NONCE_MAX];
	size_t nonce_len;
	char *evidence; /* the evidence member, re-serialised for vouch_evidence_parse() */
};

int request_parse_agent_put(vouch_ctx *ctx, const char *body, size_t len,
			   struct request_agent_put *ret, char *err, size_t err_size);
void request_agent_put_clear(struct request_agent_put *r);

/*
 * POST /v1/agents/ID/enroll (no client certificate: anyone's bytes):
 * { "ek_cert": base64 DER | "ek_public": base64 TPM2B_PUBLIC, "ak": base64 TPM2B_PUBLIC,
 *   "csr": PEM }.  Parsed here: the members, the base64, the certificate's DER (exactly one
 * certificate, nothing after it), the AK (a TPM public area with a name), the CSR (PEM, at
 * most REQUEST_CSR_MAX bytes, its self-signature verified).  Policy (which EK CAs, the AK's
 * attributes, the key sizes) is the caller's.
 */
#define REQUEST_CSR_MAX 16384
struct request_enroll {
	bool by_cert;
	uint8_t *ek; /* DER certificate or TPM2B_PUBLIC */
	size_t ek_len;
	uint8_t *ak;
	size_t ak_len;
	vouch_ak *key;
	char *csr_pem;
	void *csr; /* X509_REQ *, verified */
};
int request_parse_enroll(vouch_ctx *ctx, const char *body, size_t len, struct request_enroll *ret,
			 char *err, size_t err_size);
void request_enroll_clear(struct request_enroll *r);
/* X509_REQ * of a PEM certificate request, or NULL (the signature is not checked here) */
void *request_csr_parse(const char *pem);

/* POST /v1/agents/ID/activate (no client certificate): { "secret": hex, 1 to 64 bytes } */
int request_parse_activate(const char *body, size_t len, uint8_t secret[REQUEST_NONCE_MAX],
			   size_t *ret_len, char *err, size_t err_size);
int request_parse_verify(vouch_ctx *ctx, const char *body, size_t len, struct request_verify *ret,
			 char *err, size_t err_size);
void request_verify_clear(struct request_verify *r);

json_object *parse_request(const char *body, size_t len, char *err, size_t err_size);
int check_keys(json_object *o, const char *const *keys, char *err, size_t err_size);
bool valid_id(const char *id, size_t n);

#endif
