/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What test-engine and test-engine-threads both start from: a temporary directory that
 * takes user xattrs, the RSA test key and certificate, and the certificate's IMA key id.
 * Include after tap.h and internal.h.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_TESTS_ENGINE_FIXTURE_H
#define VOUCH_TESTS_ENGINE_FIXTURE_H

#include <sys/xattr.h>

#define XATTR "user.vouch-test-ima"

static vouch_ctx *ctx;
static char dir[256];
static vouch_key *key;
static vouch_cert *cert;
static uint32_t keyid;

/*
 * The context, a directory /tmp/NAME.XXXXXX with a copy of the test key, the key and its
 * certificate loaded.  0 when ready; 1 when that failed (main returns it); -1 when /tmp
 * takes no user xattrs (the skip plan is printed, main returns 0).
 */
static int fixture_setup(const char *name)
{
	struct vouch_cert_info info;
	char cmd[600];

	if (vouch_ctx_new(&ctx) < 0)
		return 1;
	snprintf(dir, sizeof(dir), "/tmp/%s.XXXXXX", name);
	if (!mkdtemp(dir))
		return 1;
	snprintf(cmd, sizeof(cmd), "cp %s %s/k.key && chmod 600 %s/k.key", vec("keys/rsa2048.key"),
		 dir, dir);
	if (system(cmd) != 0 || vouch_key_load(ctx, tap_path(dir, "k.key"), NULL, NULL, &key) < 0 ||
	    vouch_cert_load(ctx, vec("keys/rsa2048.crt"), &cert) < 0)
		return 1;
	vouch_cert_get_info(cert, &info);
	keyid = info.ima_keyid;
	if (setxattr(dir, XATTR, "x", 1, 0) < 0) {
		printf("1..0 # SKIP no user xattrs on /tmp\n");
		return -1;
	}
	return 0;
}

/* frees what fixture_setup made and removes the directory; what main returns */
static int fixture_done(void)
{
	char cmd[600];

	vouch_key_free(key);
	vouch_cert_free(cert);
	vouch_ctx_free(ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}

#endif
