// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench/gen-log: write synthetic IMA measurement lists for bench/log-replay, with the PCR
 * files (all 24 PCRs, evmctl format) they replay to.  Independent of libvouch on purpose:
 * it builds records and PCRs straight from FORMATS.md §5 with OpenSSL.
 *
 *   gen-log ng  ENTRIES OUT-PREFIX
 *   gen-log sig ENTRIES DISTINCT KEY.pem KEYID-HEX OUT-PREFIX
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

static uint8_t pcr1[20], pcr256[32];

static void le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static void extend(const uint8_t *td, size_t tdlen, uint8_t *ret_sha1)
{
	uint8_t d1[20], d256[32], buf[64];

	SHA1(td, tdlen, d1);
	SHA256(td, tdlen, d256);
	memcpy(buf, pcr1, 20), memcpy(buf + 20, d1, 20);
	SHA1(buf, 40, pcr1);
	memcpy(buf, pcr256, 32), memcpy(buf + 32, d256, 32);
	SHA256(buf, 64, pcr256);
	memcpy(ret_sha1, d1, 20);
}

static void record(FILE *f, const char *tmpl, const uint8_t *digest, const char *name,
		   const uint8_t *sig, size_t siglen, bool with_sig)
{
	uint8_t td[1024], hdr[4 + 20 + 4], d1[20], l[4];
	size_t n = 0, nl = strlen(name) + 1;

	le32(td + n, 40), n += 4;
	memcpy(td + n, "sha256:", 8), n += 8;
	memcpy(td + n, digest, 32), n += 32;
	le32(td + n, (uint32_t)nl), n += 4;
	memcpy(td + n, name, nl), n += nl;
	if (with_sig) {
		le32(td + n, (uint32_t)siglen), n += 4;
		memcpy(td + n, sig, siglen), n += siglen;
	}
	extend(td, n, d1);
	le32(hdr, 10);
	memcpy(hdr + 4, d1, 20);
	le32(hdr + 24, (uint32_t)strlen(tmpl));
	fwrite(hdr, 1, 28, f);
	fwrite(tmpl, 1, strlen(tmpl), f);
	le32(l, (uint32_t)n);
	fwrite(l, 1, 4, f);
	fwrite(td, 1, n, f);
}

static void pcr_files(const char *prefix)
{
	char path[4096];
	FILE *f;

	for (int b = 0; b < 2; b++) {
		snprintf(path, sizeof(path), "%s.pcrs-%s", prefix, b ? "sha256" : "sha1");
		f = fopen(path, "w");
		for (int i = 0; i < 24; i++) {
			const uint8_t *v = b ? pcr256 : pcr1;
			size_t n = b ? 32 : 20;

			fprintf(f, "PCR-%02d: ", i);
			for (size_t k = 0; k < n; k++)
				fprintf(f, "%02X", i == 10 ? v[k] : 0);
			fputc('\n', f);
		}
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	bool sig = argc == 7 && !strcmp(argv[1], "sig");
	const char *prefix = argv[argc - 1];
	long entries, distinct = 1;
	uint8_t zero[10 * 32] = { 0 }, agg[32], digest[32];
	uint8_t sigs_hdr[9] = { 3, 2, 4, 0, 0, 0, 0, 1, 0 };
	uint8_t *sigbuf = NULL, *digbuf = NULL;
	EVP_PKEY *key = NULL;
	char path[4096], name[64];
	FILE *f;

	if (!(argc == 4 && !strcmp(argv[1], "ng")) && !sig) {
		fprintf(stderr, "usage: gen-log ng N PREFIX | gen-log sig N DISTINCT KEY KEYID PREFIX\n");
		return 2;
	}
	entries = strtol(argv[2], NULL, 10);
	if (sig) {
		FILE *kf = fopen(argv[4], "r");
		unsigned long keyid = strtoul(argv[5], NULL, 16);

		distinct = strtol(argv[3], NULL, 10);
		if (!kf || !(key = PEM_read_PrivateKey(kf, NULL, NULL, NULL)) || distinct < 1)
			return 1;
		fclose(kf);
		sigs_hdr[3] = (uint8_t)(keyid >> 24), sigs_hdr[4] = (uint8_t)(keyid >> 16);
		sigs_hdr[5] = (uint8_t)(keyid >> 8), sigs_hdr[6] = (uint8_t)keyid;
		sigbuf = malloc((size_t)distinct * 265);
		digbuf = malloc((size_t)distinct * 32);
		for (long i = 0; i < distinct; i++) {
			EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
			size_t slen = 256;

			snprintf(name, sizeof(name), "file content %ld", i);
			SHA256((const uint8_t *)name, strlen(name), digbuf + 32 * i);
			memcpy(sigbuf + 265 * i, sigs_hdr, 9);
			if (EVP_PKEY_sign_init(c) <= 0 ||
			    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) <= 0 ||
			    EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) <= 0 ||
			    EVP_PKEY_sign(c, sigbuf + 265 * i + 9, &slen, digbuf + 32 * i, 32) <= 0 ||
			    slen != 256)
				return 1;
			EVP_PKEY_CTX_free(c);
		}
	}
	snprintf(path, sizeof(path), "%s.bin", prefix);
	f = fopen(path, "wb");
	if (!f)
		return 1;
	/* boot_aggregate of all-zero PCRs 0-9 (sha256 bank) */
	SHA256(zero, sizeof(zero), agg);
	record(f, sig ? "ima-sig" : "ima-ng", agg, "boot_aggregate", NULL, 0, sig);
	for (long i = 1; i < entries; i++) {
		snprintf(name, sizeof(name), "/usr/lib/bench/file-%07ld.so", i);
		if (sig) {
			long k = i % distinct;

			record(f, "ima-sig", digbuf + 32 * k, name, sigbuf + 265 * k, 265, true);
		} else {
			SHA256((const uint8_t *)name, strlen(name), digest);
			record(f, "ima-ng", digest, name, NULL, 0, false);
		}
	}
	fclose(f);
	pcr_files(prefix);
	EVP_PKEY_free(key);
	free(sigbuf);
	free(digbuf);
	return 0;
}
