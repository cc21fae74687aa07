// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Guest-side helper for the kernel rig: runs one action and prints one result line
 * "NAME | action target -> OK ... | ERR EXXX(n) text", so the host can assert each step.
 * Built static: it needs no library, unlike vouch (whose libraries the rig copies in).
 *
 * Copyright (C) 2026 The vouch authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *errname(int e)
{
	switch (e) {
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EBADMSG: return "EBADMSG";
	case EKEYREJECTED: return "EKEYREJECTED";
	case ENOKEY: return "ENOKEY";
	case ENOENT: return "ENOENT";
	case EINVAL: return "EINVAL";
	case ENOPKG: return "ENOPKG";
	case EEXIST: return "EEXIST";
	case EBUSY: return "EBUSY";
	case ENODATA: return "ENODATA";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EKEYREVOKED: return "EKEYREVOKED";
	case ENOEXEC: return "ENOEXEC";
	case EFBIG: return "EFBIG";
	case ENOMEM: return "ENOMEM";
	default: return "E?";
	}
}

static int report_err(const char *name, const char *what, const char *target, int e)
{
	printf("%s | %s %s -> ERR %s(%d) %s\n", name, what, target, errname(e), e, strerror(e));
	return 1;
}

/*
 * The child's stderr goes through a pipe and its first line is printed after exit=: a
 * program refused a shared library runs (the exec succeeds) and the dynamic loader says why.
 */
static int do_exec(const char *name, const char *path)
{
	int pfd[2], efd[2], status, e = 0;
	char err[256] = "", sink[256];
	size_t used = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0 || pipe2(efd, O_CLOEXEC) < 0)
		return report_err(name, "exec", path, errno);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char *argv[] = { (char *)path, NULL };

		if (dup2(efd[1], STDERR_FILENO) < 0)
			_exit(125);
		execv(path, argv);
		e = errno;
		if (write(pfd[1], &e, sizeof(e)) < 0)
			_exit(126);
		_exit(127);
	}
	close(pfd[1]);
	close(efd[1]);
	if (read(pfd[0], &e, sizeof(e)) == (ssize_t)sizeof(e) && e) {
		waitpid(pid, &status, 0);
		return report_err(name, "exec", path, e);
	}
	while ((n = read(efd[0], used < sizeof(err) - 1 ? err + used : sink,
			 used < sizeof(err) - 1 ? sizeof(err) - 1 - used : sizeof(sink))) > 0)
		if (used < sizeof(err) - 1)
			used += (size_t)n;
	err[used] = '\0';
	err[strcspn(err, "\n")] = '\0';
	close(efd[0]);
	waitpid(pid, &status, 0);
	printf("%s | exec %s -> OK exit=%d%s%s\n", name, path,
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1, *err ? " stderr: " : "", err);
	return 0;
}

static int do_finit(const char *name, const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	/* "open": refused before the kernel saw the module (by vouch guard, say) */
	if (fd < 0)
		return report_err(name, "open", path, errno);
	if (syscall(SYS_finit_module, fd, params, 0) < 0) {
		int e = errno;

		close(fd);
		return report_err(name, "finit", path, e);
	}
	close(fd);
	printf("%s | finit %s -> OK loaded\n", name, path);
	return 0;
}

/* An open for reading, as the dynamic loader opens a library before it maps it */
static int do_open(const char *name, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return report_err(name, "open", path, errno);
	close(fd);
	printf("%s | open %s -> OK\n", name, path);
	return 0;
}

/*
 * kexec_file_load(2) of KERNEL and INITRD with CMDLINE: the kernel reads both files for
 * KEXEC_KERNEL_CHECK / KEXEC_INITRAMFS_CHECK and, once both passed, measures the command line
 * (KEXEC_CMDLINE).  Nothing is executed: the loaded image is unloaded again.
 */
static int do_kexec(const char *name, const char *kernel, const char *initrd, const char *cmdline)
{
	int kfd = open(kernel, O_RDONLY | O_CLOEXEC), ifd, e;
	long r;

	if (kfd < 0)
		return report_err(name, "open", kernel, errno);
	ifd = open(initrd, O_RDONLY | O_CLOEXEC);
	if (ifd < 0) {
		e = errno;
		close(kfd);
		return report_err(name, "open", initrd, e);
	}
	r = syscall(SYS_kexec_file_load, kfd, ifd, strlen(cmdline) + 1, cmdline, 0UL);
	e = errno;
	close(kfd);
	close(ifd);
	if (r < 0)
		return report_err(name, "kexec_file_load", kernel, e);
	/* KEXEC_FILE_UNLOAD: fds and command line are ignored */
	syscall(SYS_kexec_file_load, -1, -1, 0UL, NULL, 1UL);
	printf("%s | kexec_file_load %s -> OK loaded\n", name, kernel);
	return 0;
}

/* setxattr(PATH, NAME, the bytes of VALUEFILE) */
static int do_setxattr(const char *name, const char *path, const char *attr, const char *valfile)
{
	static unsigned char buf[4096];
	int fd = open(valfile, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return report_err(name, "setxattr", valfile, errno);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return report_err(name, "setxattr", valfile, n < 0 ? errno : ENODATA);
	if (setxattr(path, attr, buf, (size_t)n, 0) < 0)
		return report_err(name, "setxattr", path, errno);
	printf("%s | setxattr %s %s -> OK\n", name, path, attr);
	return 0;
}

/* The _ima keyring is not linked to any process keyring: find its id in /proc/keys. */
static long find_keyring(const char *desc)
{
	char line[512];
	FILE *f = fopen("/proc/keys", "re");
	long id = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char type[64], d[128];
		unsigned long kid;

		/* 0ed34f42 I------     1 perm 1f0b0000     0     0 keyring   _ima: empty */
		if (sscanf(line, "%lx %*s %*s %*s %*s %*s %*s %63s %127[^:]", &kid, type, d) == 3 &&
		    !strcmp(type, "keyring") && !strcmp(d, desc)) {
			id = (long)kid;
			break;
		}
	}
	fclose(f);
	return id;
}

static int do_keyload(const char *name, const char *keyring, const char *path)
{
	static unsigned char buf[65536];
	long ring = find_keyring(keyring), id;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return report_err(name, "add_key", path, errno);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return report_err(name, "add_key", path, n < 0 ? errno : ENODATA);
	/*
	 * The kernel finds "_ima" with request_key() from the process keyrings of whoever
	 * opens the file, as evmctl import does: create it in the user keyring if needed.
	 */
	if (ring < 0)
		ring = syscall(SYS_add_key, "keyring", keyring, NULL, 0, -4 /* KEY_SPEC_USER_KEYRING */);
	if (ring < 0)
		return report_err(name, "add_key", keyring, errno);
	id = syscall(SYS_add_key, "asymmetric", NULL, buf, (size_t)n, (int)ring);
	if (id < 0)
		return report_err(name, "add_key", path, errno);
	printf("%s | add_key %s -> OK id=%ld\n", name, path, id);
	return 0;
}

static int do_write(const char *name, const char *dst, const char *src)
{
	static char buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC), out;
	ssize_t n;

	if (in < 0)
		return report_err(name, "write", src, errno);
	n = read(in, buf, sizeof(buf));
	close(in);
	out = open(dst, O_WRONLY | O_CLOEXEC);
	if (out < 0)
		return report_err(name, "write", dst, errno);
	/* the IMA policy file takes one rule per write() and returns its length */
	for (ssize_t off = 0; n >= 0 && off < n;) {
		ssize_t w = write(out, buf + off, (size_t)(n - off));

		if (w <= 0) {
			int e = w < 0 ? errno : EIO;

			close(out);
			return report_err(name, "write", dst, e);
		}
		off += w;
	}
	if (close(out) < 0)
		return report_err(name, "write", dst, errno);
	printf("%s | write %s -> OK\n", name, dst);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "exec"))
		return do_exec(argv[2], argv[3]);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "finit"))
		return do_finit(argv[2], argv[3], argc == 5 ? argv[4] : "");
	if (argc == 4 && !strcmp(argv[1], "open"))
		return do_open(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "keyload"))
		return do_keyload(argv[2], argv[3], argv[4]);
	if (argc == 5 && !strcmp(argv[1], "write"))
		return do_write(argv[2], argv[3], argv[4]);
	if (argc == 6 && !strcmp(argv[1], "kexec"))
		return do_kexec(argv[2], argv[3], argv[4], argv[5]);
	if (argc == 6 && !strcmp(argv[1], "setxattr"))
		return do_setxattr(argv[2], argv[3], argv[4], argv[5]);
	fprintf(stderr, "usage: gh exec|open NAME PATH | finit NAME PATH [PARAMS] | keyload NAME KEYRING DER | write NAME DST SRC\n"
			"       gh kexec NAME KERNEL INITRD CMDLINE | setxattr NAME PATH XATTR VALUEFILE\n");
	return 2;
}
