// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch fleet: executes vouch-fleet, the operators' client of vouchd's management API.
 *
 * vouch-fleet needs libcurl, and neither libvouch nor this program touch the network: like
 * git with its subcommands, 'vouch fleet ARGS' runs the separate program, found in
 * $VOUCH_EXEC_PATH, then next to this executable, then in $PATH.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

static void try_exec(const char *dir, char **argv)
{
	char path[PATH_MAX];

	if (!dir || !*dir || snprintf(path, sizeof(path), "%s/vouch-fleet", dir) >= (int)sizeof(path))
		return;
	argv[0] = path;
	execv(path, argv);
}

int cmd_fleet(int argc, char **argv)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	(void)argc;
	/* argv[0] is "fleet", replaced by the program's path; the rest is passed as is */
	try_exec(getenv("VOUCH_EXEC_PATH"), argv);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			try_exec(self, argv);
		}
	}
	argv[0] = (char *)"vouch-fleet";
	execvp("vouch-fleet", argv);
	cli_error("cannot run vouch-fleet (is it installed? it needs libcurl): %m");
	return EXIT_ERROR;
}
