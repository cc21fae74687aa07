// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * hook-bench: what one engine hook costs.  Cache hit (unchanged file, already measured and
 * appraised), cold appraisal (cache off: read + hash + one signature check), and the two
 * pieces alone (hash of the file through the fd, one security.ima verification) so that
 * "cold ~ hash + one verify" can be read off.  Used by bench/hook.
 *
 * Each figure is the best of 7 rounds (the machine is shared).
 *
 * Usage: hook-bench KEY CERT SIZE_BYTES
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <vouch/vouch.h>

#define XATTR "user.vouch-bench-ima"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Best of several rounds: the machine is shared, the minimum is the cost. */
#define ROUNDS 7
#define BEST(var, count, body)                                                                     \
	do {                                                                                       \
		var = 1e9;                                                                         \
		for (int round_ = 0; round_ < ROUNDS; round_++) {                                  \
			double t0_ = now(), dt_;                                                   \
			for (int i = 0; i < (count); i++) {                                        \
				body;                                                              \
			}                                                                          \
			dt_ = (now() - t0_) / (count);                                             \
			if (dt_ < var)                                                             \
				var = dt_;                                                         \
		}                                                                                  \
	} while (0)

static vouch_engine *mk(vouch_ctx *ctx, vouch_cert *cert, uint32_t flags, bool measure)
{
	struct vouch_engine_options o = VOUCH_ENGINE_OPTIONS_INIT;
	vouch_engine *e = NULL;
	vouch_policy *p = NULL;
	vouch_trust *t = NULL;
	static const char pol_m[] = "measure func=BPRM_CHECK\nappraise func=BPRM_CHECK appraise_type=imasig\n";
	static const char pol_a[] = "appraise func=BPRM_CHECK appraise_type=imasig\n";
	const char *pol = measure ? pol_m : pol_a;

	o.flags = flags;
	o.xattr_name = XATTR;
	if (vouch_engine_new(ctx, &o, &e) < 0 ||
	    vouch_policy_parse(ctx, pol, strlen(pol), NULL, &p, NULL) < 0 ||
	    vouch_trust_new(ctx, &t) < 0 || vouch_trust_add_cert(t, cert, ".ima") < 0)
		return NULL;
	vouch_engine_set_policy(e, p);
	vouch_engine_set_trust(e, VOUCH_KEYRING_IMA, t);
	return e;
}

int main(int argc, char **argv)
{
	struct vouch_ima_sign_options so = VOUCH_IMA_SIGN_OPTIONS_INIT;
	struct vouch_engine_result res;
	vouch_ctx *ctx = NULL;
	vouch_key *key = NULL;
	vouch_cert *cert = NULL;
	vouch_engine *hot, *cold, *coldm;
	vouch_trust *t = NULL;
	char path[] = "/tmp/vouch-hook-bench.XXXXXX";
	uint8_t *sig = NULL, *buf;
	size_t sig_len, size;
	struct vouch_digest d;
	int fd, n;
	double hit, coldt, coldmt, hash, verify;

	if (argc != 4 || vouch_ctx_new(&ctx) < 0)
		return 2;
	size = strtoul(argv[3], NULL, 10);
	if (vouch_key_load(ctx, argv[1], NULL, NULL, &key) < 0 ||
	    vouch_cert_load(ctx, argv[2], &cert) < 0) {
		fprintf(stderr, "hook-bench: %s\n", vouch_ctx_last_error(ctx));
		return 3;
	}
	{
		struct vouch_cert_info info;

		vouch_cert_get_info(cert, &info);
		so.keyid = info.ima_keyid;
	}
	fd = mkstemp(path);
	buf = malloc(size);
	for (size_t i = 0; i < size; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	if (fd < 0 || !buf || write(fd, buf, size) != (ssize_t)size)
		return 3;
	if (vouch_ima_sign_fd(ctx, key, &so, fd, &sig, &sig_len) < 0 ||
	    fsetxattr(fd, XATTR, sig, sig_len, 0) < 0) {
		fprintf(stderr, "hook-bench: cannot sign: %s\n", vouch_ctx_last_error(ctx));
		return 3;
	}
	hot = mk(ctx, cert, 0, true);
	cold = mk(ctx, cert, VOUCH_ENGINE_NO_CACHE, false);
	coldm = mk(ctx, cert, VOUCH_ENGINE_NO_CACHE, true);
	if (!hot || !cold || !coldm || vouch_engine_file_check(hot, VOUCH_FUNC_BPRM_CHECK, fd, path,
						     VOUCH_MAY_EXEC, &res) < 0 ||
	    res.appraisal != 0) {
		fprintf(stderr, "hook-bench: first load failed: %s\n", vouch_ctx_last_error(ctx));
		return 3;
	}

	n = 30000;
	BEST(hit, n, if (vouch_engine_file_check(hot, VOUCH_FUNC_BPRM_CHECK, fd, path,
						 VOUCH_MAY_EXEC, &res) < 0 ||
			 !res.cached) return 4);

	n = size > (1 << 19) ? 5 : 40;
	BEST(coldt, n, if (vouch_engine_file_check(cold, VOUCH_FUNC_BPRM_CHECK, fd, path,
						   VOUCH_MAY_EXEC, &res) < 0 ||
			   res.cached) return 4);
	BEST(coldmt, n, if (vouch_engine_file_check(coldm, VOUCH_FUNC_BPRM_CHECK, fd, path,
						    VOUCH_MAY_EXEC, &res) < 0 ||
			    res.cached) return 4);
	BEST(hash, n, if (pread(fd, buf, size, 0) != (ssize_t)size) return 4;
	     vouch_digest_buf(ctx, VOUCH_HASH_SHA256, buf, size, &d));

	vouch_trust_new(ctx, &t);
	vouch_trust_add_cert(t, cert, ".ima");
	BEST(verify, n, if (vouch_ima_verify_digest(ctx, t, NULL, sig, sig_len, &d, NULL) < 0) return 4);

	printf("file size            %zu bytes\n", size);
	printf("cache hit            %.2f us per call\n", hit * 1e6);
	printf("cold appraisal       %.1f us per call\n", coldt * 1e6);
	printf("  read+hash alone    %.1f us\n", hash * 1e6);
	printf("  one verify alone   %.1f us\n", verify * 1e6);
	printf("  cold / (hash+verify) = %.2f\n", coldt / (hash + verify));
	printf("cold measure+appraise %.1f us per call (in-memory list entry, two template digests)\n",
	       coldmt * 1e6);
	unlink(path);
	vouch_trust_free(t);
	vouch_engine_free(hot);
	vouch_engine_free(cold);
	vouch_engine_free(coldm);
	vouch_free(sig);
	free(buf);
	vouch_key_free(key);
	vouch_cert_free(cert);
	vouch_ctx_free(ctx);
	close(fd);
	return 0;
}
