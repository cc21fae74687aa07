// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests for the engine's TPM backend that need no TPM: the options, the binding of a
 * state directory to its TPM, the refusals that come before any TPM is opened.  The
 * backend against a TPM is tested on swtpm by tests/integration/test-engine-attest.sh.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"

#include "engine-internal.h"
#include "internal.h"

static vouch_ctx *ctx;
static char dir[256];

static const char *path(const char *name)
{
	return tap_path(dir, name);
}

static void put(const char *name, const char *text)
{
	int fd = open(path(name), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
}

static int new_engine(const char *state, const char *tcti, vouch_engine **ret)
{
	struct vouch_engine_options o = VOUCH_ENGINE_OPTIONS_INIT;

	o.state_dir = state;
	o.tcti = tcti;
	return vouch_engine_new(ctx, &o, ret);
}

/* A TPM nobody listens on: the connection is refused at once. */
#define DEAD_TCTI "swtpm:host=127.0.0.1,port=1"

static void test_software_only(void)
{
	vouch_engine *e = NULL;

	ok_ret(new_engine(path("soft"), NULL, &e), "a state without a TPM opens");
	ok(e && vouch_engine_get_tcti(e) == NULL, "no TPM: vouch_engine_get_tcti() is NULL");
	ok(access(path("soft/" ENGINE_TCTI_FILE), F_OK) != 0, "and the state is not bound");
	ok(vouch_engine_verify_state(e) == 0, "its list replays to the software bank");
	vouch_engine_free(e);
	ok(vouch_engine_get_tcti(NULL) == NULL, "vouch_engine_get_tcti(NULL) is NULL");

	/* the boot_aggregate is in the list: a TPM cannot take the list over */
	e = NULL;
	ok_err(new_engine(path("soft"), DEAD_TCTI, &e), -EBADMSG,
	       "a list measured without a TPM is not continued on one");
	ok(strstr(vouch_ctx_last_error(ctx), "were measured without a TPM") != NULL,
	   "the message says why: %s", vouch_ctx_last_error(ctx));
	ok(e == NULL, "no engine on failure");
	ok(access(path("soft/" ENGINE_TCTI_FILE), F_OK) != 0, "nothing was bound");
}

static void test_unreachable(void)
{
	vouch_engine *e = NULL;
	int r;

	r = new_engine(path("dead"), DEAD_TCTI, &e);
	ok(r < 0 && r != -EBADMSG, "an unreachable TPM: could not check (%d)", r);
	ok(e == NULL, "no engine");
	ok(access(path("dead/" ENGINE_TCTI_FILE), F_OK) != 0, "the state is not bound to it");
	ok(strstr(vouch_ctx_last_error(ctx), DEAD_TCTI) != NULL, "the message names the TPM: %s",
	   vouch_ctx_last_error(ctx));

	r = new_engine(NULL, DEAD_TCTI, &e);
	ok(r < 0 && e == NULL, "in memory too (%d)", r);
}

static void test_binding(void)
{
	vouch_engine *e = NULL;
	int r;

	/* a state bound to a TPM uses it without being told: unreachable here */
	ok(mkdir(path("bound"), 0700) == 0, "a state directory");
	put("bound/" ENGINE_TCTI_FILE, DEAD_TCTI "\n");
	r = new_engine(path("bound"), NULL, &e);
	ok(r < 0 && r != -EBADMSG && e == NULL, "a bound state opens its TPM (%d)", r);
	ok(strstr(vouch_ctx_last_error(ctx), DEAD_TCTI) != NULL, "the bound TCTI was used: %s",
	   vouch_ctx_last_error(ctx));

	put("bound/" ENGINE_TCTI_FILE, "\n");
	ok_err(new_engine(path("bound"), NULL, &e), -EBADMSG, "an empty binding is refused");
	put("bound/" ENGINE_TCTI_FILE, "swtpm:port=1\nswtpm:port=2\n");
	ok_err(new_engine(path("bound"), NULL, &e), -EBADMSG, "a two-line binding is refused");
	ok(strstr(vouch_ctx_last_error(ctx), "corrupt TPM binding") != NULL, "%s",
	   vouch_ctx_last_error(ctx));
}

static void test_options(void)
{
	struct vouch_engine_options o = VOUCH_ENGINE_OPTIONS_INIT;
	vouch_engine *e = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(o.reserved); i++) {
		o.reserved[i] = 1;
		ok_err(vouch_engine_new(ctx, &o, &e), -EINVAL, "reserved[%zu] set is refused", i);
		o.reserved[i] = 0;
	}
	ok(e == NULL, "no engine");
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

int main(void)
{
	char tmpl[] = "/tmp/vouch-engine-pcr-XXXXXX";

	if (!mkdtemp(tmpl) || vouch_ctx_new(&ctx) < 0)
		return 99;
	snprintf(dir, sizeof(dir), "%s", tmpl);
	setenv("TSS2_LOG", "all+NONE", 0);
	test_options();
	test_software_only();
	test_unreachable();
	test_binding();
	vouch_ctx_free(ctx);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
