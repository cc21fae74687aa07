/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What bench/service-load.c and bench/fleet.c share: a simulated agent's measurement list
 * (binary IMA entries extended into its PCR 10), the TPMS_ATTEST of a quote signed by a
 * software ECDSA P-256 AK, the evidence document vouchd takes, libcurl's reply buffer, the
 * server's nonce out of a reply.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef BENCH_LOAD_COMMON_H
#define BENCH_LOAD_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#define LOAD_NONCE_MAX 64
/* one binary list entry at most: PCR, template hash, template name, the data (ima-sig with a
 * signature of an RSA-2048 key and a name of LOAD_NAME_MAX) */
#define LOAD_NAME_MAX 96
#define LOAD_ENTRY_MAX 640

/* a simulated TPM's view of its measurement list: PCR 10 (sha256 bank), entries so far,
 * the clock its quotes carry */
struct load_list {
	uint8_t pcr10[32];
	uint64_t entries;
	uint64_t clock;
};

struct load_buf {
	char *p;
	size_t len, size;
};

/* libcurl's CURLOPT_WRITEFUNCTION into a struct load_buf (NUL-terminated) */
size_t load_on_data(char *p, size_t sz, size_t n, void *arg);

void load_hex(const uint8_t *p, size_t n, char *out);

/* the hex "nonce" of a vouchd reply into @nonce; 0 or -EBADMSG */
int load_take_nonce(json_object *o, uint8_t nonce[LOAD_NONCE_MAX], size_t *ret_len);

/*
 * Append one entry to @out (binary list format, host = little endian) and extend @l's PCR 10
 * with it: template "ima-ng" (@sig must be NULL) or "ima-sig" (@sig the security.ima value,
 * or NULL for an unsigned file), file digest @fd (sha256), @name.  Returns its length.
 */
size_t load_entry(struct load_list *l, const char *tmpl, const uint8_t fd[32], const char *name,
		  const uint8_t *sig, size_t sig_len, uint8_t *out);

/*
 * The evidence document of one round, or NULL: a quote over PCR 10 (sha256) with @nonce
 * signed by @ak (ECDSA P-256, TPMT_SIGNATURE), built byte for byte as a TPM builds it (TPM 2.0
 * Library Part 2, 10.12.12), @signer as its qualifiedSigner (a sha256 TPM2B_NAME's 34 bytes),
 * and the entries @list (@len bytes) from entry @from on.  Released with free().
 */
char *load_evidence(EVP_PKEY *ak, struct load_list *l, const uint8_t signer[34],
		    const uint8_t *nonce, size_t nonce_len, const uint8_t *list, size_t len,
		    uint64_t from);

/* the @q quantile (0..1) of @n sorted values (0 when none) */
double load_quantile(const double *sorted, size_t n, double q);

int load_cmp_double(const void *a, const void *b);

/* a request body handed to libcurl piece by piece: CURLOPT_READFUNCTION load_read_body,
 * CURLOPT_SEEKFUNCTION load_seek_body (which refuses libcurl's own resend of a POST over a
 * reused connection that died before an answer: the resend must be the agent's, with
 * X-Vouch-Retry: 1, or none) */
struct load_body {
	const char *data;
	size_t len, off;
};
size_t load_read_body(char *out, size_t size, size_t n, void *arg);
int load_seek_body(void *arg, curl_off_t offset, int origin);

#endif
