// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench/guard's runner: fork + execv + waitpid.
 *
 *   exec-runner N PROGRAM           N runs; the mean cost of one, in microseconds
 *   exec-runner N GUARDED PLAIN B   N runs of each, alternating in blocks of B: the median
 *                                   run of each and their difference (GUARDED - PLAIN); a
 *                                   busy machine's bursts and drift land in the tails
 *
 * Fails (exit 1) on the first run that does not exit 0.
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

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* one run of @prog; its duration in microseconds, or a negative value on failure */
static double one(const char *prog)
{
	char *args[] = { (char *)prog, NULL };
	double t0 = now_us();
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		perror("exec-runner: fork");
		return -1;
	}
	if (pid == 0) {
		execv(prog, args);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "exec-runner: a run of '%s' failed (status 0x%x)\n", prog, status);
		return -1;
	}
	return now_us() - t0;
}

/* @n runs of @prog; the mean in microseconds, or a negative value on failure */
static double block(const char *prog, unsigned long n, double *times)
{
	double sum = 0;

	for (unsigned long i = 0; i < n; i++) {
		double t = one(prog);

		if (t < 0)
			return -1;
		if (times)
			times[i] = t;
		sum += t;
	}
	return sum / (double)n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int parse_count(const char *s, unsigned long *ret)
{
	char *end;

	errno = 0;
	*ret = strtoul(s, &end, 10);
	if (errno || *end || *ret == 0) {
		fprintf(stderr, "exec-runner: bad count '%s'\n", s);
		return -1;
	}
	return 0;
}

static double median(double *v, unsigned long n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	unsigned long n, b, pairs;
	double *tg, *tp, m;

	if ((argc != 3 && argc != 5) || parse_count(argv[1], &n) < 0) {
		fprintf(stderr, "usage: exec-runner N PROGRAM | exec-runner N GUARDED PLAIN BLOCK\n");
		return 2;
	}
	if (argc == 3) {
		m = block(argv[2], n, NULL);
		if (m < 0)
			return 1;
		printf("%.2f\n", m);
		return 0;
	}
	if (parse_count(argv[4], &b) < 0 || b > n)
		return 2;
	pairs = n / b;
	tg = calloc(pairs * b, sizeof(*tg));
	tp = calloc(pairs * b, sizeof(*tp));
	if (!tg || !tp) {
		free(tg);
		free(tp);
		return 1;
	}
	for (unsigned long i = 0; i < pairs; i++) {
		/* alternate which goes first, so that neither always follows the other */
		double a, p;

		if (i % 2) {
			p = block(argv[3], b, tp + i * b);
			a = block(argv[2], b, tg + i * b);
		} else {
			a = block(argv[2], b, tg + i * b);
			p = block(argv[3], b, tp + i * b);
		}
		if (a < 0 || p < 0) {
			free(tg);
			free(tp);
			return 1;
		}
	}
	/* medians of single runs: a busy machine's bursts land in the tail, not the middle */
	{
		double mg = median(tg, pairs * b), mp = median(tp, pairs * b);

		printf("%.2f %.2f %.2f\n", mg, mp, mg - mp);
	}
	free(tg);
	free(tp);
	return 0;
}
