// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Replays fuzz inputs without libFuzzer: every file named on the command line, or every file
 * in a named directory, goes through LLVMFuzzerTestOneInput once.  Linked into every build so
 * that the committed corpora (and every former crasher) run in the normal test suite.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, int *count)
{
	struct stat st;
	uint8_t *buf;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "cannot open '%s': %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -1;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	(*count)++;
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	int count = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *de;
		char **names = NULL;
		size_t n = 0;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "cannot open '%s': %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[i], &count) < 0)
				return 1;
			continue;
		}
		d = opendir(argv[i]);
		if (!d)
			return 1;
		while ((de = readdir(d))) {
			char **nn;

			if (de->d_name[0] == '.')
				continue;
			nn = realloc(names, (n + 1) * sizeof(*names));
			if (!nn)
				return 1;
			names = nn;
			if (asprintf(&names[n], "%s/%s", argv[i], de->d_name) < 0)
				return 1;
			n++;
		}
		closedir(d);
		if (n)
			qsort(names, n, sizeof(*names), cmp);
		for (size_t k = 0; k < n; k++) {
			if (run_file(names[k], &count) < 0)
				return 1;
			free(names[k]);
		}
		free(names);
	}
	/* TAP: one test per replay run, so meson counts it */
	printf("ok 1 - replayed %d inputs without a crash\n1..1\n", count);
	return count > 0 ? 0 : 1;
}
