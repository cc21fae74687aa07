// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench/guard's runner: fork + execv + waitpid of one program N times, then the mean cost
 * of one run in microseconds on stdout.  Fails (exit 1) on the first run that does not exit 0.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec a, b;
	char *end;
	unsigned long n;

	if (argc != 3) {
		fprintf(stderr, "usage: exec-runner N PROGRAM\n");
		return 2;
	}
	errno = 0;
	n = strtoul(argv[1], &end, 10);
	if (errno || *end || n == 0) {
		fprintf(stderr, "exec-runner: bad count '%s'\n", argv[1]);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned long i = 0; i < n; i++) {
		char *args[] = { argv[2], NULL };
		int status;
		pid_t pid = fork();

		if (pid < 0) {
			perror("exec-runner: fork");
			return 1;
		}
		if (pid == 0) {
			execv(argv[2], args);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "exec-runner: run %lu of '%s' failed (status 0x%x)\n", i + 1,
				argv[2], status);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.2f\n", ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) /
				 (double)n / 1e3);
	return 0;
}
