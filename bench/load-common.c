// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What bench/service-load.c and bench/fleet.c share (load-common.h).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/sha.h>

#include "load-common.h"

size_t load_on_data(char *p, size_t sz, size_t n, void *arg)
{
	struct load_buf *b = arg;

	if (b->len + sz * n + 1 > b->size) {
		size_t size = (b->len + sz * n + 1) * 2;
		char *q = realloc(b->p, size);

		if (!q)
			return 0;
		b->p = q;
		b->size = size;
	}
	memcpy(b->p + b->len, p, sz * n);
	b->len += sz * n;
	b->p[b->len] = '\0';
	return sz * n;
}

void load_hex(const uint8_t *p, size_t n, char *out)
{
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

int load_take_nonce(json_object *o, uint8_t nonce[LOAD_NONCE_MAX], size_t *ret_len)
{
	json_object *v;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(o, "nonce", &v) || !(s = json_object_get_string(v)))
		return -EBADMSG;
	n = strlen(s) / 2;
	if (n == 0 || n > LOAD_NONCE_MAX)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++)
		if (sscanf(s + 2 * i, "%2hhx", &nonce[i]) != 1)
			return -EBADMSG;
	*ret_len = n;
	return 0;
}

static void put16(uint8_t **p, uint16_t v)
{
	*(*p)++ = (uint8_t)(v >> 8);
	*(*p)++ = (uint8_t)v;
}

static void put32(uint8_t **p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p, (uint16_t)v);
}

static void put64(uint8_t **p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p, (uint32_t)v);
}

static void putle32(uint8_t **p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		*(*p)++ = (uint8_t)(v >> (8 * i));
}

static void putn(uint8_t **p, const void *b, size_t n)
{
	memcpy(*p, b, n);
	*p += n;
}

size_t load_entry(struct load_list *l, const char *tmpl, const uint8_t fd[32], const char *name,
		  const uint8_t *sig, size_t sig_len, uint8_t *out)
{
	static const char alg[] = "sha256:";
	uint8_t data[LOAD_ENTRY_MAX], *d = data, *p = out, td[20], th[32], ext[64];
	size_t nl = strnlen(name, LOAD_NAME_MAX - 1) + 1;

	if (sig_len > LOAD_ENTRY_MAX - 160 - LOAD_NAME_MAX)
		sig_len = 0;
	putle32(&d, (uint32_t)(sizeof(alg) + 32)); /* d-ng */
	putn(&d, alg, sizeof(alg));
	putn(&d, fd, 32);
	putle32(&d, (uint32_t)nl); /* n-ng */
	putn(&d, name, nl - 1);
	*d++ = '\0';
	if (strcmp(tmpl, "ima-sig") == 0) { /* sig: empty for an unsigned file */
		putle32(&d, (uint32_t)(sig ? sig_len : 0));
		if (sig)
			putn(&d, sig, sig_len);
	}
	SHA1(data, (size_t)(d - data), td);
	SHA256(data, (size_t)(d - data), th);
	memcpy(ext, l->pcr10, 32);
	memcpy(ext + 32, th, 32);
	SHA256(ext, 64, l->pcr10);
	l->entries++;
	putle32(&p, 10);
	putn(&p, td, 20);
	putle32(&p, (uint32_t)strlen(tmpl));
	putn(&p, tmpl, strlen(tmpl));
	putle32(&p, (uint32_t)(d - data));
	putn(&p, data, (size_t)(d - data));
	return (size_t)(p - out);
}

char *load_evidence(EVP_PKEY *ak, struct load_list *l, const uint8_t signer[34],
		    const uint8_t *nonce, size_t nonce_len, const uint8_t *list, size_t len,
		    uint64_t from)
{
	uint8_t attest[256], *p = attest, pd[32], der[80];
	uint8_t sig[4 + 2 * 34], *s = sig, r32[32], s32[32];
	char hattest[2 * sizeof(attest) + 1], hsig[2 * sizeof(sig) + 1], hpcr[65];
	char *b64 = malloc(4 * (len + 2) / 3 + 8), *ev;
	size_t dlen = sizeof(der);
	const uint8_t *dp = der;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	ECDSA_SIG *es;
	int n;

	if (!b64 || !m || nonce_len > LOAD_NONCE_MAX)
		goto fail;
	put32(&p, 0xff544347); /* TPM_GENERATED_VALUE */
	put16(&p, 0x8018); /* TPM_ST_ATTEST_QUOTE */
	putn(&p, "\x00\x22", 2); /* qualifiedSigner: a sha256 TPM2B_NAME */
	putn(&p, signer, 34);
	put16(&p, (uint16_t)nonce_len);
	putn(&p, nonce, nonce_len);
	put64(&p, ++l->clock); /* clockInfo: clock, resetCount, restartCount, safe */
	put32(&p, 1);
	put32(&p, 0);
	*p++ = 1;
	put64(&p, 0x2000000000000ULL); /* firmwareVersion */
	put32(&p, 1); /* TPML_PCR_SELECTION: sha256, PCR 10 */
	put16(&p, 0x000b);
	*p++ = 3;
	putn(&p, "\x00\x04\x00", 3);
	SHA256(l->pcr10, 32, pd); /* pcrDigest over the selected PCRs' values */
	put16(&p, 32);
	putn(&p, pd, 32);
	if (EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, ak) <= 0 ||
	    EVP_DigestSign(m, der, &dlen, attest, (size_t)(p - attest)) <= 0)
		goto fail;
	EVP_MD_CTX_free(m);
	m = NULL;
	es = d2i_ECDSA_SIG(NULL, &dp, (long)dlen);
	if (!es)
		goto fail;
	BN_bn2binpad(ECDSA_SIG_get0_r(es), r32, 32);
	BN_bn2binpad(ECDSA_SIG_get0_s(es), s32, 32);
	ECDSA_SIG_free(es);
	put16(&s, 0x0018); /* TPMT_SIGNATURE: TPM_ALG_ECDSA, sha256, r, s */
	put16(&s, 0x000b);
	put16(&s, 32);
	putn(&s, r32, 32);
	put16(&s, 32);
	putn(&s, s32, 32);
	load_hex(attest, (size_t)(p - attest), hattest);
	load_hex(sig, (size_t)(s - sig), hsig);
	load_hex(l->pcr10, 32, hpcr);
	EVP_EncodeBlock((uint8_t *)b64, list, (int)len);
	n = asprintf(&ev,
		     "{\"format\":\"vouch-evidence\",\"version\":1,"
		     "\"quote\":{\"attest\":\"%s\",\"signature\":\"%s\"},"
		     "\"pcrs\":[{\"bank\":\"sha256\",\"values\":{\"10\":\"%s\"}}],"
		     "\"ima\":{\"from_entry\":%llu,\"binary\":\"%s\"}}",
		     hattest, hsig, hpcr, (unsigned long long)from, b64);
	free(b64);
	return n < 0 ? NULL : ev;
fail:
	EVP_MD_CTX_free(m);
	free(b64);
	return NULL;
}

double load_quantile(const double *sorted, size_t n, double q)
{
	size_t i = (size_t)(q * (double)n);

	if (!n)
		return 0;
	return sorted[i < n ? i : n - 1];
}

int load_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

size_t load_read_body(char *out, size_t size, size_t n, void *arg)
{
	struct load_body *b = arg;
	size_t len = b->len - b->off < size * n ? b->len - b->off : size * n;

	memcpy(out, b->data + b->off, len);
	b->off += len;
	return len;
}

/*
 * libcurl sends a request again by itself, POST included, when a reused connection dies
 * before any answer, rewinding the body first: refused, so that the transfer fails and the
 * resend is the agent's own, with X-Vouch-Retry: 1 (as vouch-agent does).
 */
int load_seek_body(void *arg, curl_off_t offset, int origin)
{
	struct load_body *b = arg;

	return origin == SEEK_SET && offset == 0 && b->off == 0 ? CURL_SEEKFUNC_OK
								  : CURL_SEEKFUNC_CANTSEEK;
}
