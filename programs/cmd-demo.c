// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch demo: run every capability end to end on a scratch directory, through the same
 * commands a user types, and check each step's exit status.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"

extern char **environ;

/*
 * One step: a vouch command line ("@" is replaced by the scratch directory, at the start of
 * an argument or after "NAME=") and the exit status it must have.  Steps run in order; the
 * first unexpected status stops the demo.
 */
struct demo_step {
	const char *title;
	const char *args[24];
	int expect;
};

static const struct demo_step steps[] = {
	{ "generate an RSA-2048 signing key and certificate",
	  { "key", "generate", "--type", "rsa", "--subject", "/CN=vouch demo RSA/O=vouch",
	    "--out", "@/rsa" },
	  EXIT_OK },
	{ "generate an ECDSA P-256 signing key and certificate",
	  { "key", "generate", "--type", "ec", "--curve", "P-256", "--subject",
	    "/CN=vouch demo EC/O=vouch", "--out", "@/ec" },
	  EXIT_OK },
	{ "show the certificates (IMA key id = last 4 bytes of the SKID)",
	  { "key", "show", "@/rsa.crt", "@/ec.crt" },
	  EXIT_OK },
	{ "digest the payloads with the kernel's algorithm names, one pass for three algorithms",
	  { "digest", "-a", "sha256", "-a", "sha512", "-a", "sha1", "@/firmware.bin",
	    "@/policy.txt", "@/module.ko" },
	  EXIT_OK },
	{ "an unknown algorithm is a usage error (exit 2)",
	  { "digest", "-a", "sha3-999", "@/firmware.bin" },
	  EXIT_USAGE },
	{ "a missing file could not be checked (exit 3)",
	  { "digest", "@/no-such-file" },
	  EXIT_ERROR },
	{ "sign a module, a firmware blob and a policy with appended PKCS#7 (sign-file format)",
	  { "sign", "-k", "@/rsa.key", "-c", "@/rsa.crt", "@/module.ko", "@/firmware.bin",
	    "@/policy.txt" },
	  EXIT_OK },
	{ "show what modinfo would show, plus the signature's size and offset",
	  { "show", "@/module.ko" },
	  EXIT_OK },
	{ "verify them with the kernel's rules; the verdict names the keyring that vouched",
	  { "verify", "-t", "builtin=@/rsa.crt", "@/module.ko", "@/firmware.bin", "@/policy.txt" },
	  EXIT_OK },
	{ "an already signed file is refused (exit 3) unless --replace",
	  { "sign", "-k", "@/rsa.key", "-c", "@/rsa.crt", "@/module.ko" },
	  EXIT_ERROR },
	{ "re-sign the module by SKID with ECDSA, replacing the old signature",
	  { "sign", "--replace", "--signer-id", "skid", "-k", "@/ec.key", "-c", "@/ec.crt",
	    "@/module.ko" },
	  EXIT_OK },
	{ "trust stores named like the kernel's keyrings: the EC key is on 'platform'",
	  { "verify", "--json", "-t", "builtin=@/rsa.crt", "-t", "platform=@/ec.crt",
	    "@/module.ko" },
	  EXIT_OK },
	{ "a detached signature for the tool (firmware-signing style .p7s)",
	  { "sign", "--detached", "-k", "@/rsa.key", "-c", "@/rsa.crt", "@/tool.sh" },
	  EXIT_OK },
	{ "verify the tool against its .p7s",
	  { "verify", "-t", "@/rsa.crt", "--detached", "@/tool.sh.p7s", "@/tool.sh" },
	  EXIT_OK },
	{ "the firmware verified against the wrong trust store: unknown signer (exit 1)",
	  { "verify", "-t", "@/ec.crt", "@/firmware.bin" },
	  EXIT_UNTRUSTED },
	{ "strip the policy's signature",
	  { "strip", "-o", "@/policy-unsigned.txt", "@/policy.txt" },
	  EXIT_OK },
	{ "an unsigned copy: no signature (exit 1)",
	  { "verify", "-t", "@/rsa.crt", "@/policy-unsigned.txt" },
	  EXIT_UNTRUSTED },
	{ "a tampered copy of the tool with the tool's .p7s: bad signature (exit 1)",
	  { "verify", "-t", "@/rsa.crt", "--detached", "@/tool.sh.p7s", "@/tool-tampered.sh" },
	  EXIT_UNTRUSTED },
	{ "audit kernel-like C: where is user data loaded, which hook checks it (Coccinelle)",
	  { "audit-kernel", "@" },
	  EXIT_OK },
	{ "auditing a kernel tree that does not exist could not run (exit 3)",
	  { "audit-kernel", "@/no-such-tree" },
	  EXIT_ERROR },
};

struct payload {
	const char *name;
	const char *content;
	size_t repeat;
};

static const struct payload payloads[] = {
	{ "firmware.bin", "\x7f" "FW blob for a network card\n", 4096 },
	{ "policy.txt", "measure func=FIRMWARE_CHECK\nappraise func=MODULE_CHECK appraise_type=imasig\n", 1 },
	{ "module.ko", "ELF-not-really-a-module\n", 1 },
	{ "tool.sh", "#!/bin/sh\necho hello from a signed tool\n", 1 },
	{ "tool-tampered.sh", "#!/bin/sh\necho hello from a signed tool; rm -rf ~\n", 1 },
	{ "consumers.c",
	  "SYSCALL_DEFINE3(finit_module, int, fd, const char __user *, uargs, int, flags)\n"
	  "{\n\tvoid *buf;\n\tint len = kernel_read_file_from_fd(fd, 0, &buf, INT_MAX, NULL,\n"
	  "\t\t\t\t\t   READING_MODULE);\n\n\treturn load_module(buf, len, uargs, flags);\n}\n\n"
	  "static int do_ipt_set_ctl(struct sock *sk, int cmd, sockptr_t arg, unsigned int len)\n"
	  "{\n\tswitch (cmd) {\n\tcase IPT_SO_SET_REPLACE:\n\t\treturn do_replace(sock_net(sk), arg, len);\n"
	  "\tdefault:\n\t\treturn -EINVAL;\n\t}\n}\n",
	  1 },
	/* the API the consumer calls: its hooks are what make finit_module measurable */
	{ "kernel_read_file.c",
	  "ssize_t kernel_read_file_from_fd(int fd, loff_t off, void **buf, size_t max, size_t *size,\n"
	  "\t\t\t\t enum kernel_read_file_id id)\n"
	  "{\n\tint ret = security_kernel_read_file(fdget(fd).file, id, true);\n\n"
	  "\treturn ret ? ret : security_kernel_post_read_file(fdget(fd).file, *buf, max, id);\n}\n",
	  1 },
};

static int write_payloads(const char *dir)
{
	for (size_t i = 0; i < ARRAY_SIZE(payloads); i++) {
		char path[4096];
		_cleanup_fclose_ FILE *f = NULL;

		snprintf(path, sizeof(path), "%s/%s", dir, payloads[i].name);
		f = fopen(path, "wxe");
		if (!f) {
			cli_error("cannot create '%s': %m", path);
			return -1;
		}
		for (size_t k = 0; k < payloads[i].repeat; k++)
			fputs(payloads[i].content, f);
		if (fflush(f) != 0) {
			cli_error("cannot write '%s': %m", path);
			return -1;
		}
	}
	return 0;
}

static int run_step(const char *self, const char *dir, const struct demo_step *s)
{
	char *argv[26];
	char bufs[24][4096];
	size_t n = 0;
	pid_t pid;
	int status;

	argv[n++] = (char *)"vouch";
	for (size_t i = 0; i < ARRAY_SIZE(s->args) && s->args[i]; i++) {
		const char *a = s->args[i];

		const char *eq = strstr(a, "=@");

		if (a[0] == '@')
			snprintf(bufs[i], sizeof(bufs[i]), "%s%s", dir, a + 1);
		else if (eq) /* NAME=@/file */
			snprintf(bufs[i], sizeof(bufs[i]), "%.*s%s%s", (int)(eq - a + 1), a, dir,
				 eq + 2);
		else
			snprintf(bufs[i], sizeof(bufs[i]), "%s", a);
		argv[n++] = bufs[i];
	}
	argv[n] = NULL;

	printf("\n== %s\n$", s->title);
	for (size_t i = 0; i < n; i++)
		printf(" %s", argv[i]);
	printf("\n");
	fflush(stdout);
	if (posix_spawn(&pid, self, NULL, NULL, argv, environ) != 0) {
		cli_error("cannot run '%s': %m", self);
		return -1;
	}
	if (waitpid(pid, &status, 0) < 0) {
		cli_error("waitpid: %m");
		return -1;
	}
	if (!WIFEXITED(status)) {
		cli_error("step crashed (signal %d)", WTERMSIG(status));
		return -1;
	}
	if (WEXITSTATUS(status) != s->expect) {
		cli_error("step exited %d, expected %d", WEXITSTATUS(status), s->expect);
		return -1;
	}
	printf("-> exit %d, as expected\n", WEXITSTATUS(status));
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int cmd_demo(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "keep", no_argument, NULL, 'k' },
		{ 0 },
	};
	char tmpl[] = "/tmp/vouch-demo-XXXXXX";
	char self[4096];
	const char *dir = NULL;
	bool keep = false, made = false;
	ssize_t n;
	int c, ret = EXIT_OK;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'k')
			keep = true;
		else
			return cli_usage_error("demo", "invalid option");
	}
	if (optind != argc)
		return cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		cli_error("cannot find the vouch binary: %m");
		return EXIT_ERROR;
	}
	self[n] = '\0';
	if (dir) {
		if (mkdir(dir, 0700) < 0) {
			cli_error("cannot create '%s': %m (give a new directory)", dir);
			return EXIT_ERROR;
		}
		keep = true;
	} else {
		dir = mkdtemp(tmpl);
		if (!dir) {
			cli_error("cannot create a scratch directory: %m");
			return EXIT_ERROR;
		}
	}
	made = true;
	printf("vouch %s demo in %s\n", vouch_version(), dir);
	if (write_payloads(dir) < 0) {
		ret = EXIT_ERROR;
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		if (run_step(self, dir, &steps[i]) < 0) {
			cli_error("demo failed at step %zu: %s", i + 1, steps[i].title);
			ret = EXIT_ERROR;
			goto out;
		}
	}
	printf("\ndemo: all %zu steps behaved as expected\n", ARRAY_SIZE(steps));
out:
	if (made && !keep)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	else if (made)
		printf("demo: files kept in %s\n", dir);
	return ret;
}
