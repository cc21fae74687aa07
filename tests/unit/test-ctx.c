// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The vouch authors */
#include <fcntl.h>
#include <unistd.h>

#include "internal.h"
#include "tap.h"

static int logged;
static void log_fn(void *userdata, int level, const char *msg)
{
	(void)userdata;
	(void)level;
	(void)msg;
	logged++;
}

int main(void)
{
	vouch_ctx *ctx = NULL;
	char *p;

	ok_err(vouch_ctx_new(NULL), -EINVAL, "NULL out-pointer refused");
	ok_ret(vouch_ctx_new(&ctx), "context created");
	ok_streq(vouch_ctx_last_error(ctx), "", "no error yet");
	ok_err(ctx_err(ctx, -EBADMSG, "broken '%s'", "x"), -EBADMSG, "ctx_err returns its code");
	ok_streq(vouch_ctx_last_error(ctx), "broken 'x'", "message kept");
	vouch_ctx_clear_error(ctx);
	ok_streq(vouch_ctx_last_error(ctx), "", "message cleared");

	ok_streq(vouch_ctx_get_root(ctx), "/", "default root");
	ok_err(vouch_ctx_set_root(ctx, "relative"), -EINVAL, "relative root refused");
	ok_ret(vouch_ctx_set_root(ctx, "/tmp/fake///"), "root set");
	ok_streq(vouch_ctx_get_root(ctx), "/tmp/fake", "trailing slashes dropped");
	p = ctx_path(ctx, "/sys/kernel/security/ima/policy");
	ok_streq(p, "/tmp/fake/sys/kernel/security/ima/policy", "paths are prefixed with the root");
	free(p);
	ok_ret(vouch_ctx_set_root(ctx, NULL), "root reset");
	p = ctx_path(ctx, "/dev/tpmrm0");
	ok_streq(p, "/dev/tpmrm0", "no prefix without a root");
	free(p);

	ok(vouch_error_is_verdict(-EKEYREJECTED) && vouch_error_is_verdict(-ENOKEY) &&
		   vouch_error_is_verdict(-EBADMSG) && vouch_error_is_verdict(-EPERM),
	   "verification outcomes are verdicts");
	ok(!vouch_error_is_verdict(-EIO) && !vouch_error_is_verdict(-ENOMEM) &&
		   !vouch_error_is_verdict(-ENOENT) && !vouch_error_is_verdict(0),
	   "could-not-check errors are not verdicts");
	ok_streq(vouch_strerror(-EKEYREJECTED), "does not verify", "strerror of a verdict");

	/* pread_fd_all: the whole regular file from offset 0, the fd's offset untouched */
	{
		char tmp[] = "/tmp/vouch-test-ctx-XXXXXX";
		int fd = mkstemp(tmp), pfd[2];
		uint8_t *buf = NULL;
		size_t len = 0;

		ok(fd >= 0 && write(fd, "0123456789", 10) == 10 && lseek(fd, 3, SEEK_SET) == 3,
		   "temp file");
		ok_ret(pread_fd_all(ctx, fd, tmp, 1 << 20, &buf, &len), "pread_fd_all");
		ok(len == 10 && buf && memcmp(buf, "0123456789", 10) == 0, "the whole file");
		ok(lseek(fd, 0, SEEK_CUR) == 3, "the offset stays put");
		free(buf);
		buf = NULL;
		ok_err(pread_fd_all(ctx, fd, tmp, 9, &buf, &len), -EFBIG,
		       "must fail: larger than the limit");
		ok(pipe(pfd) == 0, "pipe");
		ok_err(pread_fd_all(ctx, pfd[0], "pipe", 1 << 20, &buf, &len), -EINVAL,
		       "must fail: not a regular file");
		ok_streq(vouch_ctx_last_error(ctx), "'pipe' is not a regular file", "its message");
		ok(buf == NULL, "no output on failure");
		close(pfd[0]);
		close(pfd[1]);
		close(fd);
		unlink(tmp);
	}

	vouch_ctx_set_log_fn(ctx, log_fn, NULL, VOUCH_LOG_INFO);
	ctx_log(ctx, VOUCH_LOG_DEBUG, "hidden");
	ctx_log(ctx, VOUCH_LOG_WARNING, "shown");
	ok(logged == 1, "log level filter honoured");
	vouch_ctx_free(ctx);
	vouch_ctx_free(NULL); /* accepted: a crash here fails the program, there is nothing to assert */

	/* fault injection: the Nth allocation fails, and only that one */
	mem_fail_at(1);
	ok(mem_alloc(8) == NULL, "first allocation fails when asked");
	p = mem_alloc(8);
	ok(p != NULL, "the next one succeeds");
	free(p);
	mem_fail_at(0);
	return tap_done();
}
