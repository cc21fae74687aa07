// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * attest-verify: N full quote verifications (vouch_attest_verify(), every check each time)
 * in one process, on tpm2_quote's three files, and the rate.  Used by bench/attest; this
 * loop was 'vouch attest verify --repeat N' before the benchmark left the CLI.
 *
 * Usage: attest-verify AK.pem NONCE_HEX PCR_SELECTION MSG SIG PCR_VALUES N
 * Prints "N quote verifications in S s: R/s" on stderr; exit 0 when every verification
 * trusted the quote, 1 otherwise, 2 on bad arguments, 3 when something could not be read.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vouch/vouch.h>

static int read_file(const char *path, uint8_t **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return -errno;
	do {
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap = cap ? 2 * cap : 65536);

			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	*ret = buf;
	*ret_len = len;
	return 0;
}

int main(int argc, char **argv)
{
	struct vouch_attest_verify_options o = VOUCH_ATTEST_VERIFY_OPTIONS_INIT;
	struct vouch_evidence ev = { 0 };
	struct vouch_pcrs pcrs = { 0 };
	struct timespec t0, t1;
	vouch_ctx *ctx = NULL;
	vouch_ak *ak = NULL;
	uint8_t nonce[64], *vals = NULL;
	size_t nonce_len, vals_len;
	unsigned long n;
	double s;
	int r = 0, bad = 0;

	if (argc != 8 || vouch_hex_decode(argv[2], strlen(argv[2]), nonce, sizeof(nonce),
					  &nonce_len) < 0 ||
	    vouch_pcrs_parse_selection(argv[3], &pcrs) < 0 || !(n = strtoul(argv[7], NULL, 10))) {
		fprintf(stderr, "usage: attest-verify AK.pem NONCE_HEX PCRS MSG SIG PCR_VALUES N\n");
		return 2;
	}
	if (vouch_ctx_new(&ctx) < 0 || vouch_ak_load(ctx, argv[1], &ak) < 0 ||
	    read_file(argv[4], &ev.attest, &ev.attest_len) < 0 ||
	    read_file(argv[5], &ev.sig, &ev.sig_len) < 0 || read_file(argv[6], &vals, &vals_len) < 0 ||
	    vouch_pcrs_set_values(&pcrs, vals, vals_len) < 0) {
		fprintf(stderr, "attest-verify: cannot read the inputs: %s\n",
			ctx ? vouch_ctx_last_error(ctx) : "no context");
		return 3;
	}
	o.ak = ak;
	o.nonce = nonce;
	o.nonce_len = nonce_len;
	o.pcrs = &pcrs;
	o.flags = VOUCH_ATTEST_PCRS_HAVE_VALUES;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long i = 0; i < n; i++) {
		struct vouch_attest_result *res = NULL;

		r = vouch_attest_verify(ctx, &o, &ev, &res);
		bad |= r < 0;
		vouch_attest_result_free(res);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "attest-verify: %lu quote verifications in %.3f s: %.0f/s\n", n, s, n / s);
	free(ev.attest);
	free(ev.sig);
	free(vals);
	vouch_ak_free(ak);
	vouch_ctx_free(ctx);
	return bad ? (vouch_error_is_verdict(r) ? 1 : 3) : 0;
}
