/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch guard: the integrity engine in the path of every exec, library mapping and open on
 * the marked mounts, through fanotify permission events.  Internal to the vouch program.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_GUARD_GUARD_H
#define VOUCH_GUARD_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vouch/vouch.h>

#define GUARD_CONF_DEFAULT "/etc/vouch/guard.conf"
#define GUARD_STATE_DEFAULT "/var/lib/vouch/guard"
#define GUARD_MAX_TRUST 16
#define GUARD_MAX_MOUNTS 32
#define GUARD_MAX_WORKERS 64
#define GUARD_DEADLINE_DEFAULT_MS 2000u

/* What the watchdog answers when the deadline passes (and at shutdown). */
enum guard_default {
	GUARD_DEFAULT_MODE = 0, /* allow unless the event's consumer is enforcing */
	GUARD_DEFAULT_ALLOW = 1,
	GUARD_DEFAULT_DENY = 2,
};

struct guard_mount {
	const char *path;
	bool filesystem; /* FAN_MARK_FILESYSTEM instead of FAN_MARK_MOUNT */
};

/* Options, from the command line and the configuration file (the command line wins). */
struct guard_conf {
	const char *config;
	const char *policy;
	const char *trust[GUARD_MAX_TRUST];
	size_t n_trust;
	const char *ktrust[GUARD_MAX_TRUST];
	size_t n_ktrust;
	const char *state_dir;
	const char *xattr;
	const char *tcti;
	int mode_all;			 /* enum vouch_mode for every consumer, -1 unset */
	int mode[_VOUCH_FUNC_MAX];	 /* per consumer, -1 unset (wins over mode_all) */
	uint32_t deadline_ms;		 /* 0: unset */
	int deadline_default;		 /* enum guard_default, -1 unset */
	struct guard_mount mounts[GUARD_MAX_MOUNTS];
	size_t n_mounts;
	uint32_t workers;		 /* 0: unset */
	const char *log_json;
	const char *stats_file;
	uint32_t test_delay_ms;		 /* tests only: every decision waits this long first */
	bool check_only;		 /* --check: validate, set up, mark nothing */
	/* which keys the command line set (the file does not override them) */
	uint64_t cli_set;
	/* strings of the configuration file, owned */
	char *owned[256];
	size_t n_owned;
};

/* Parse the command line into @c; returns 0 or an exit code (usage errors printed). */
int guard_conf_parse_args(struct guard_conf *c, int argc, char **argv, bool *ret_help);
/* Read the configuration file (explicit --config must exist); 0 or an exit code. */
int guard_conf_load_file(struct guard_conf *c);
void guard_conf_free(struct guard_conf *c);
/* Parse "off|log|enforce" ("fix" is refused: the guard never rewrites xattrs). */
int guard_parse_mode(const char *s);
const char *guard_mode_name(int mode);

/* Run the daemon until SIGTERM/SIGINT; returns an exit code. */
int guard_run(struct guard_conf *c);

int cmd_guard(int argc, char **argv);

#endif /* VOUCH_GUARD_GUARD_H */
