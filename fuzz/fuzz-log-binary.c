// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz the binary and kexec measurement-list parsers (either byte order) and everything
 * that consumes their entries: replay, the ascii writer, the byte-order converter and the
 * signature checks (IMA v2/v3 and modsig PKCS#7), and vouch_log_verify() with
 * --require-sigs (entry kinds from the field layout, per-PCR binding).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdint.h>
#include <stdlib.h>

#include <vouch/vouch.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FORMATS.md §13.1 test certificate (IMA key id 3d0b8968): signatures reach the verifier */
static const char cert_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIDPDCCAiSgAwIBAgICEjQwDQYJKoZIhvcNAQELBQAwJjEVMBMGA1UEAwwMSU1B\n"
	"IHRlc3QgUlNBMQ0wCwYDVQQKDARUZXN0MCAXDTI2MTEyODE4NDAwOVoYDzIxMjYx\n"
	"MTA0MTg0MDA5WjAmMRUwEwYDVQQDDAxJTUEgdGVzdCBSU0ExDTALBgNVBAoMBFRl\n"
	"c3QwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQCRsHLn3edXNZSpSrfj\n"
	"rVGFesirMm/nQr1nn5clY56yRIPYIfJ2kukS9Eon3pCXA0F9Z2tuz47rqJMx9pbr\n"
	"7nnMlZw5QfkG4HGZvUP4mbHylDj4OyBBUULe7mhwa00XkvFbU2KzSAJou0OLhMrS\n"
	"PPOoBEcXe19iAVnSOBoDXVS+z26UsBRdQ7eAEPWvAHTvqSTyRHOX525oYcTVZ85k\n"
	"FumBAK0NjrDquyYOGIvDRj7uvOjpG9EXkotN6lw2BKjt6c9K1Zbl2cEGaYcKbztm\n"
	"Rh85zeg+BkRMjxdfpZks+La2IIeq1UT9ZWHqlmHyfKmZvtm1gomwu7L4DW6m1zCh\n"
	"znV7AgMBAAGjcjBwMB8GA1UdIwQYMBaAFI05+WR1h8+PUh3D8Ur50XE9C4loMB0G\n"
	"A1UdDgQWBBSNOflkdYfPj1Idw/FK+dFxPQuJaDAMBgNVHRMBAf8EAjAAMAsGA1Ud\n"
	"DwQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDAzANBgkqhkiG9w0BAQsFAAOCAQEA\n"
	"R+2eXRQEz3bSb+l1K70fMiyL5oycQtDsCy8ZKFYYqVqJQi9l3GWIg5/IOaChlc+9\n"
	"1un88lb9TMUZGiDMzAuFFlzHP4fhK/WHTFyNUd1pJ8Q8h1+N06OtSUZnFoGAKDX6\n"
	"KXZND8Qfd7fIwP52gpnolFQNDONQW0/pcj/TEM7ZZsZbQhxH0uG/cqf6ttybeoWo\n"
	"kU3HbPkcZU+NbGKFr307oH8uNzrHF2jNc8ZYk1+2y4e56xbjsXo+liCLhSYIHCCo\n"
	"odRpJcwP2E+bJKNQQC3fywGYuirup4ery7CrRwW4bfBk4O1+QqYXwkfPryWNuyJd\n"
	"ocq8OH6/lR5P7dG3rf0klA==\n"
	"-----END CERTIFICATE-----\n"
;

static vouch_trust *trust_for(vouch_ctx *ctx)
{
	vouch_trust *t = NULL;
	vouch_cert *c = NULL;

	if (vouch_trust_new(ctx, &t) < 0)
		return NULL;
	if (vouch_cert_load_mem(ctx, (const uint8_t *)cert_pem, sizeof(cert_pem) - 1, &c) == 0)
		vouch_trust_add_cert(t, c, NULL);
	vouch_cert_free(c);
	return t;
}

static void verify_all(vouch_ctx *ctx, const uint8_t *data, size_t size,
				   const struct vouch_log_reader_options *o,
				   const struct vouch_log_verify_options *vo,
				   struct vouch_log_verify_result *res)
{
	vouch_log_reader *r = NULL;

	if (vouch_log_reader_new(ctx, data, size, o, &r) == 0)
		vouch_log_verify(ctx, r, vo, res);
	vouch_log_reader_free(r);
}

static void run(vouch_ctx *ctx, vouch_trust *trust, vouch_sig_cache *cache, const uint8_t *data,
		size_t size, int format, int order)
{
	struct vouch_log_reader_options o = VOUCH_LOG_READER_OPTIONS_INIT;
	struct vouch_log_writer_options wa = VOUCH_LOG_WRITER_OPTIONS_INIT;
	struct vouch_log_writer_options wb = VOUCH_LOG_WRITER_OPTIONS_INIT;
	int algos[2] = { VOUCH_HASH_SHA1, VOUCH_HASH_SHA256 };
	vouch_log_reader *r = NULL;
	vouch_log_writer *a = NULL, *b = NULL;
	vouch_log_replay *rp = NULL;
	struct vouch_log_entry e;
	const uint8_t *out;
	size_t n = 0;

	o.format = format;
	o.order = order;
	o.max_entries = 4096;
	wa.format = VOUCH_LOG_FORMAT_ASCII;
	wb.order = order == VOUCH_LOG_ORDER_BE ? VOUCH_LOG_ORDER_LE : VOUCH_LOG_ORDER_BE;
	if (vouch_log_reader_new(ctx, data, size, &o, &r) < 0)
		return;
	if (vouch_log_writer_new(ctx, &wa, &a) < 0 || vouch_log_writer_new(ctx, &wb, &b) < 0 ||
	    vouch_log_replay_new(ctx, algos, NULL, 2, &rp) < 0)
		goto out;
	while (vouch_log_next(r, &e) > 0) {
		struct vouch_digest d;
		char name[64];

		vouch_log_replay_add(rp, &e);
		vouch_log_writer_add(a, &e);
		vouch_log_writer_add(b, &e);
		vouch_log_entry_digest(&e, &d, NULL);
		vouch_log_entry_name(&e, name, sizeof(name));
		if (trust) {
			int v;

			vouch_log_entry_verify_sig(ctx, trust, cache, &e, &v);
			vouch_log_entry_verify_sig(ctx, trust, NULL, &e, &v);
		}
	}
	vouch_log_writer_get(a, &out, &n);
	vouch_log_writer_get(b, &out, &n);
	if (trust) {
		struct vouch_log_verify_options vo = VOUCH_LOG_VERIFY_OPTIONS_INIT;
		struct vouch_log_verify_result res;
		static struct vouch_pcr_bank bank = { .algo = VOUCH_HASH_SHA256,
						      .present = 0x3ffc00 };

		vo.banks = &bank;
		vo.n_banks = 1;
		vo.trust = trust;
		vo.cache = cache;
		vo.flags = VOUCH_LOG_VERIFY_REQUIRE_SIGS | VOUCH_LOG_VERIFY_NO_BOOT_AGGREGATE;
		verify_all(ctx, data, size, &o, &vo, &res);
	}
out:
	vouch_log_replay_free(rp);
	vouch_log_writer_free(a);
	vouch_log_writer_free(b);
	vouch_log_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/*
	 * The context and the trusted certificate are set up once per run, not per input:
	 * parsing the certificate was 40% of the time (perf) and is fuzz-cert's job.
	 */
	static vouch_ctx *ctx;
	static vouch_trust *trust;
	vouch_sig_cache *cache = NULL;

	if (!ctx && vouch_ctx_new(&ctx) < 0)
		return 0;
	if (!trust)
		trust = trust_for(ctx);
	vouch_sig_cache_new(ctx, 8, &cache);
	run(ctx, trust, cache, data, size, VOUCH_LOG_FORMAT_AUTO, VOUCH_LOG_ORDER_AUTO);
	run(ctx, NULL, NULL, data, size, VOUCH_LOG_FORMAT_BINARY, VOUCH_LOG_ORDER_BE);
	run(ctx, NULL, NULL, data, size, VOUCH_LOG_FORMAT_KEXEC, VOUCH_LOG_ORDER_AUTO);
	vouch_sig_cache_free(cache);
	return 0;
}
