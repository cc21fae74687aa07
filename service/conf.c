// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Configuration files shared by vouchd and vouch-agent (conf.h has the format).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "conf.h"

static int read_file(const char *path, char **ret)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *buf = NULL;
	struct stat sb;
	size_t len = 0;

	if (fd < 0 || fstat(fd, &sb) < 0)
		return -errno;
	if (!S_ISREG(sb.st_mode))
		return -EINVAL;
	if (sb.st_size > (off_t)CONF_MAX_SIZE)
		return -EFBIG;
	buf = malloc(CONF_MAX_SIZE + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + len, CONF_MAX_SIZE + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CONF_MAX_SIZE)
			return -EFBIG;
	}
	if (memchr(buf, '\0', len))
		return -EBADMSG;
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

static char *trim(char *s, char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	*end = '\0';
	return s;
}

static bool in_list(const char *s, const char *const *list)
{
	for (; list && *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

int conf_load(const char *prog, const char *path, const struct option *opts,
	      const char *const *refused, conf_set_fn set, void *userdata, char **ret_buf)
{
	_cleanup_free_ char *buf = NULL;
	uint64_t seen = 0;
	unsigned line = 0;
	size_t n_opts = 0;
	char *p, *next;
	int r;

#define BAD(...)                                                                                   \
	do {                                                                                       \
		fprintf(stderr, "%s: %s:%u: ", prog, path, line);                                  \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fputc('\n', stderr);                                                               \
		return -EINVAL;                                                                    \
	} while (0)

	while (opts[n_opts].name)
		n_opts++;
	if (n_opts > 64)
		return -E2BIG;
	r = read_file(path, &buf);
	if (r < 0) {
		fprintf(stderr, "%s: cannot read the configuration '%s': %s\n", prog, path,
			r == -EFBIG ? "larger than 64 KiB" : r == -EBADMSG ? "it holds a NUL byte"
							    : strerror(-r));
		return r == -EFBIG || r == -EBADMSG ? -EINVAL : r;
	}
	for (p = buf; *p; p = next) {
		char *eol = strchr(p, '\n'), *eq, *key, *value;
		const char *why = NULL;
		int index = -1;

		line++;
		next = eol ? eol + 1 : p + strlen(p);
		if (!eol)
			eol = next;
		if ((size_t)(eol - p) > CONF_MAX_LINE)
			BAD("line longer than %u bytes", CONF_MAX_LINE);
		*eol = '\0';
		key = trim(p, eol);
		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq)
			BAD("expected 'key = value'");
		value = trim(eq + 1, eol);
		key = trim(key, eq);
		if (!*key)
			BAD("a value without a key");
		for (size_t i = 0; i < n_opts; i++)
			if (strcmp(opts[i].name, key) == 0)
				index = (int)i;
		if (index < 0 || in_list(key, refused))
			BAD("unknown key '%s'", key);
		if (seen & (UINT64_C(1) << index))
			BAD("key '%s' given twice", key);
		seen |= UINT64_C(1) << index;
		if (!*value)
			BAD("'%s' has an empty value", key);
		if (opts[index].has_arg == no_argument) {
			if (strcmp(value, "false") == 0)
				continue;
			if (strcmp(value, "true") != 0)
				BAD("'%s' takes true or false, not '%s'", key, value);
			value = NULL;
		}
		if (set(userdata, index, value, &why) < 0)
			BAD("invalid %s '%s'%s%s", key, value ? value : "true", why ? ": " : "",
			    why ? why : "");
	}
#undef BAD
	*ret_buf = TAKE_PTR(buf);
	return 0;
}
