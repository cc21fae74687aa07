// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch guard: options from the command line and from /etc/vouch/guard.conf ('key = value'
 * lines, the long option names without the dashes).  The command line wins key by key; a
 * single-valued key given twice in one source is refused.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "guard.h"

enum {
	K_POLICY,
	K_TRUST,
	K_KTRUST,
	K_STATE,
	K_XATTR,
	K_TCTI,
	K_MODE,
	K_DEADLINE,
	K_DEADLINE_DEFAULT,
	K_MOUNT,
	K_WORKERS,
	K_LOG_JSON,
	K_STATS,
	_K_MAX,
};

static const char *const key_names[_K_MAX] = {
	[K_POLICY] = "policy",	     [K_TRUST] = "trust",
	[K_KTRUST] = "kernel-trust", [K_STATE] = "state-dir",
	[K_XATTR] = "xattr",	     [K_TCTI] = "tcti",
	[K_MODE] = "mode",	     [K_DEADLINE] = "deadline",
	[K_DEADLINE_DEFAULT] = "deadline-default",
	[K_MOUNT] = "mount",	     [K_WORKERS] = "workers",
	[K_LOG_JSON] = "log-json",   [K_STATS] = "stats",
};

static const char *const mode_names[] = { "off", "log", "fix", "enforce" };

int guard_parse_mode(const char *s)
{
	if (!strcmp(s, "off"))
		return VOUCH_MODE_OFF;
	if (!strcmp(s, "log"))
		return VOUCH_MODE_LOG;
	if (!strcmp(s, "enforce"))
		return VOUCH_MODE_ENFORCE;
	return -1;
}

const char *guard_mode_name(int mode)
{
	return mode >= 0 && mode < (int)ARRAY_SIZE(mode_names) ? mode_names[mode] : "?";
}

static int func_by_name(const char *s, size_t len)
{
	for (int f = 1; f < _VOUCH_FUNC_MAX; f++) {
		const char *n = vouch_policy_func_name(f);

		if (n && strlen(n) == len && !strncmp(n, s, len))
			return f;
	}
	return -1;
}

/* "2000", "2000ms", "2s": milliseconds, 1 ms to 10 min */
static int parse_ms(const char *s, uint32_t *ret)
{
	char buf[32];
	size_t len = strlen(s);
	uint32_t mul = 1, v;

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len + 1);
	if (len > 2 && !strcmp(buf + len - 2, "ms")) {
		buf[len - 2] = '\0';
	} else if (len > 1 && buf[len - 1] == 's') {
		buf[len - 1] = '\0';
		mul = 1000;
	}
	if (cli_parse_u32(buf, &v) < 0 || v == 0 || v > 600000 / mul)
		return -EINVAL;
	*ret = v * mul;
	return 0;
}

/* One key; @src names the source for messages ("--mode" or "guard.conf:12"). */
static int set_key(struct guard_conf *c, int key, const char *val, bool from_file,
		   const char *src)
{
	uint64_t bit = (uint64_t)1 << key;

	if (from_file && (c->cli_set & bit))
		return 0; /* the command line wins */
	if (!from_file)
		c->cli_set |= bit;
	switch (key) {
	case K_POLICY:
	case K_STATE:
	case K_XATTR:
	case K_TCTI:
	case K_LOG_JSON:
	case K_STATS: {
		const char **slot = key == K_POLICY ? &c->policy
				    : key == K_STATE ? &c->state_dir
				    : key == K_XATTR ? &c->xattr
				    : key == K_TCTI  ? &c->tcti
				    : key == K_LOG_JSON ? &c->log_json
							: &c->stats_file;

		if (*slot)
			return cli_usage_error("guard", "%s: %s given twice, refusing", src,
					       key_names[key]);
		if (!*val)
			return cli_usage_error("guard", "%s: empty %s", src, key_names[key]);
		*slot = val;
		return 0;
	}
	case K_TRUST:
	case K_KTRUST: {
		size_t *n = key == K_TRUST ? &c->n_trust : &c->n_ktrust;

		if (*n >= GUARD_MAX_TRUST)
			return cli_usage_error("guard", "%s: too many %s", src, key_names[key]);
		(key == K_TRUST ? c->trust : c->ktrust)[(*n)++] = val;
		return 0;
	}
	case K_MODE: {
		const char *eq = strchr(val, '=');
		int m = guard_parse_mode(eq ? eq + 1 : val);

		if (m < 0)
			return cli_usage_error("guard", "%s: unknown mode '%s' (off, log, enforce)",
					       src, eq ? eq + 1 : val);
		if (!eq) {
			if (c->mode_all >= 0)
				return cli_usage_error("guard", "%s: mode given twice, refusing", src);
			c->mode_all = m;
		} else {
			int f = func_by_name(val, (size_t)(eq - val));

			if (f < 0 || f == VOUCH_FUNC_POST_SETATTR)
				return cli_usage_error("guard", "%s: unknown consumer '%.*s'", src,
						       (int)(eq - val), val);
			if (c->mode[f] >= 0)
				return cli_usage_error("guard", "%s: mode of %s given twice, refusing",
						       src, vouch_policy_func_name(f));
			c->mode[f] = m;
		}
		return 0;
	}
	case K_DEADLINE:
		if (c->deadline_ms)
			return cli_usage_error("guard", "%s: deadline given twice, refusing", src);
		if (parse_ms(val, &c->deadline_ms) < 0)
			return cli_usage_error("guard", "%s: bad deadline '%s' (MS, MSms or Ss; 1 ms to 10 min)",
					       src, val);
		return 0;
	case K_DEADLINE_DEFAULT:
		if (c->deadline_default >= 0)
			return cli_usage_error("guard", "%s: deadline-default given twice, refusing",
					       src);
		if (!strcmp(val, "mode"))
			c->deadline_default = GUARD_DEFAULT_MODE;
		else if (!strcmp(val, "allow"))
			c->deadline_default = GUARD_DEFAULT_ALLOW;
		else if (!strcmp(val, "deny"))
			c->deadline_default = GUARD_DEFAULT_DENY;
		else
			return cli_usage_error("guard", "%s: bad deadline-default '%s' (mode, allow, deny)",
					       src, val);
		return 0;
	case K_MOUNT: {
		/* "PATH" marks the mount; "filesystem:PATH" the whole filesystem */
		bool fs = !strncmp(val, "filesystem:", 11);

		if (c->n_mounts >= GUARD_MAX_MOUNTS)
			return cli_usage_error("guard", "%s: too many mounts", src);
		if (!*(fs ? val + 11 : val))
			return cli_usage_error("guard", "%s: empty mount", src);
		c->mounts[c->n_mounts].path = fs ? val + 11 : val;
		c->mounts[c->n_mounts++].filesystem = fs;
		return 0;
	}
	case K_WORKERS:
		if (c->workers)
			return cli_usage_error("guard", "%s: workers given twice, refusing", src);
		if (cli_parse_u32(val, &c->workers) < 0 || c->workers == 0 ||
		    c->workers > GUARD_MAX_WORKERS)
			return cli_usage_error("guard", "%s: bad workers '%s' (1-%d)", src, val,
					       GUARD_MAX_WORKERS);
		return 0;
	default:
		return cli_usage_error("guard", "%s: unknown key", src);
	}
}

int guard_conf_parse_args(struct guard_conf *c, int argc, char **argv, bool *ret_help)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "policy", required_argument, NULL, 'p' },
		{ "trust", required_argument, NULL, 't' },
		{ "kernel-trust", required_argument, NULL, 'k' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "xattr", required_argument, NULL, 'X' },
		{ "tcti", required_argument, NULL, 'T' },
		{ "mode", required_argument, NULL, 'm' },
		{ "deadline", required_argument, NULL, 'd' },
		{ "deadline-default", required_argument, NULL, 'D' },
		{ "mount", required_argument, NULL, 'M' },
		{ "filesystem", required_argument, NULL, 'F' },
		{ "workers", required_argument, NULL, 'w' },
		{ "log-json", required_argument, NULL, 'j' },
		{ "stats", required_argument, NULL, 's' },
		{ "test-delay", required_argument, NULL, 'Z' },
		{ "check", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const int keys[128] = {
		['p'] = K_POLICY + 1,	['t'] = K_TRUST + 1,	['k'] = K_KTRUST + 1,
		['S'] = K_STATE + 1,	['X'] = K_XATTR + 1,	['T'] = K_TCTI + 1,
		['m'] = K_MODE + 1,	['d'] = K_DEADLINE + 1, ['D'] = K_DEADLINE_DEFAULT + 1,
		['M'] = K_MOUNT + 1,	['w'] = K_WORKERS + 1,	['j'] = K_LOG_JSON + 1,
		['s'] = K_STATS + 1,
	};
	int opt, r;

	*ret_help = false;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:p:t:m:h", longopts, NULL)) != -1) {
		char src[32];

		switch (opt) {
		case 'h':
			*ret_help = true;
			return 0;
		case 'c':
			if (c->config)
				return cli_usage_error("guard", "--config given twice, refusing");
			c->config = optarg;
			continue;
		case 'C':
			c->check_only = true;
			continue;
		case 'Z':
			if (cli_parse_u32(optarg, &c->test_delay_ms) < 0 ||
			    c->test_delay_ms > 600000)
				return cli_usage_error("guard", "bad --test-delay '%s' (ms)", optarg);
			continue;
		case 'F': {
			/* --filesystem PATH: the key "mount" with the filesystem: prefix */
			char *v;

			if (c->n_owned >= ARRAY_SIZE(c->owned) ||
			    asprintf(&v, "filesystem:%s", optarg) < 0)
				return EXIT_ERROR;
			c->owned[c->n_owned++] = v;
			r = set_key(c, K_MOUNT, v, false, "--filesystem");
			if (r)
				return r;
			continue;
		}
		default:
			if (opt < 0 || opt >= 128 || !keys[opt])
				return EXIT_USAGE;
			snprintf(src, sizeof(src), "--%s", key_names[keys[opt] - 1]);
			r = set_key(c, keys[opt] - 1, optarg, false, src);
			if (r)
				return r;
		}
	}
	if (optind < argc)
		return cli_usage_error("guard", "unexpected argument '%s'", argv[optind]);
	return 0;
}

int guard_conf_load_file(struct guard_conf *c)
{
	const char *path = c->config ? c->config : GUARD_CONF_DEFAULT;
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL;
	size_t sz = 0, lineno = 0;
	ssize_t len;

	if (!f) {
		if (!c->config && errno == ENOENT)
			return 0; /* the default file is optional */
		cli_error("cannot open configuration '%s': %m", path);
		return EXIT_ERROR;
	}
	while ((len = getline(&line, &sz, f)) >= 0) {
		char *s, *eq, *k, *v, src[64];
		int key = -1, r;

		lineno++;
		s = cli_text_line(line, len);
		if (!s)
			continue;
		eq = strchr(s, '=');
		snprintf(src, sizeof(src), "%s:%zu", path, lineno);
		if (!eq)
			return cli_usage_error("guard", "%s: expected 'key = value'", src);
		k = s;
		v = eq + 1;
		while (eq > k && isspace((unsigned char)eq[-1]))
			eq--;
		*eq = '\0';
		while (isspace((unsigned char)*v))
			v++;
		for (int i = 0; i < _K_MAX; i++)
			if (!strcmp(k, key_names[i]))
				key = i;
		if (!strcmp(k, "filesystem"))
			key = K_MOUNT;
		if (key < 0)
			return cli_usage_error("guard", "%s: unknown key '%s'", src, k);
		if (c->n_owned >= ARRAY_SIZE(c->owned))
			return cli_usage_error("guard", "%s: too many lines", src);
		if (!strcmp(k, "filesystem")) {
			if (asprintf(&c->owned[c->n_owned], "filesystem:%s", v) < 0)
				return EXIT_ERROR;
		} else {
			c->owned[c->n_owned] = strdup(v);
			if (!c->owned[c->n_owned])
				return EXIT_ERROR;
		}
		/* lists: a command line that gave any value replaces the file's values */
		r = set_key(c, key, c->owned[c->n_owned++], true, src);
		if (r)
			return r;
	}
	return 0;
}

void guard_conf_free(struct guard_conf *c)
{
	for (size_t i = 0; i < c->n_owned; i++)
		free(c->owned[i]);
	c->n_owned = 0;
}
