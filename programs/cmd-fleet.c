// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch fleet: operate vouchd through vouch-fleet, the operators' client of its management
 * API.
 *
 * vouch-fleet needs libcurl, which neither libvouch nor this program link: like git with its
 * subcommands, 'vouch fleet SUB ARGS' checks the command line here (so that help, completion
 * and usage errors behave as every other command's) and then runs the separate program,
 * found in $VOUCH_EXEC_PATH, then next to this executable, then in $PATH.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

#define CONNECTION "[--server URL] [--cert CRT] [--key KEY] [--cacert CA] [--json]"

static void try_exec(const char *dir, char **argv)
{
	char path[PATH_MAX];

	if (!dir || !*dir ||
	    snprintf(path, sizeof(path), "%s/vouch-fleet", dir) >= (int)sizeof(path))
		return;
	argv[0] = path;
	execv(path, argv);
}

/* argv[0] is the subcommand: vouch-fleet gets "PROGRAM SUB ARGS..." */
static int run_fleet(int argc, char **argv)
{
	char self[PATH_MAX], *slash, **args = calloc((size_t)argc + 2, sizeof(char *));
	ssize_t n;

	if (!args) {
		cli_error("out of memory");
		return EXIT_ERROR;
	}
	for (int i = 0; i < argc; i++)
		args[i + 1] = argv[i];
	try_exec(getenv("VOUCH_EXEC_PATH"), args);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			try_exec(self, args);
		}
	}
	args[0] = (char *)"vouch-fleet";
	execvp("vouch-fleet", args);
	cli_error("cannot run vouch-fleet (is it installed? it needs libcurl): %m");
	free(args);
	return EXIT_ERROR;
}

/* the options and the number of arguments of one subcommand, checked before running it */
static int fleet_sub(int argc, char **argv, bool events, int nargs)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "cacert", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	static const struct option event_opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "cacert", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "follow", no_argument, NULL, 'f' },
		{ "last-event-id", required_argument, NULL, 'L' },
		{ "count", required_argument, NULL, 'n' },
		{ "idle", required_argument, NULL, 'i' },
		{ 0 },
	};
	char cmd[64];
	int c;

	snprintf(cmd, sizeof(cmd), "fleet %s", argv[0]);
	while ((c = getopt_long(argc, argv, "", events ? event_opts : opts, NULL)) != -1)
		if (c == '?')
			return cli_completing ? EXIT_OK : cli_usage_error(cmd, "invalid option");
	if (cli_completing)
		return EXIT_OK;
	if (argc - optind != nargs)
		return cli_usage_error(cmd, "%d argument%s expected", nargs, nargs == 1 ? "" : "s");
	return run_fleet(argc, argv);
}

/* a subcommand: whether it takes the event options, how many arguments */
#define FLEET_SUB(fn, events, nargs)                                                          \
	static int fn(int argc, char **argv)                                                   \
	{                                                                                      \
		return fleet_sub(argc, argv, events, nargs);                                   \
	}
FLEET_SUB(fleet_status, false, 0)
FLEET_SUB(fleet_show, false, 1)
FLEET_SUB(fleet_add_reference, false, 2)
FLEET_SUB(fleet_set_reference, false, 2)
FLEET_SUB(fleet_add_agent, false, 2)
FLEET_SUB(fleet_remove, false, 1)
FLEET_SUB(fleet_events, true, 0)

static const struct command fleet_commands[] = {
	{ "status", fleet_status, 0,
	  "Every agent: state, last verdict, last seen, entries verified, reference values "
	  "(exit 1 if one is untrusted)",
	  "fleet status " CONNECTION },
	{ "show", fleet_show, 0,
	  "One agent: its history and its last failure with the failing entries",
	  "fleet show " CONNECTION " AGENT" },
	{ "add-reference", fleet_add_reference, 0,
	  "Store reference values (a vouch-reference document) under NAME",
	  "fleet add-reference " CONNECTION " NAME FILE" },
	{ "set-reference", fleet_set_reference, 0,
	  "Judge an agent's next rounds against the reference values NAME ('default': vouchd's)",
	  "fleet set-reference " CONNECTION " AGENT NAME" },
	{ "add-agent", fleet_add_agent, 0,
	  "Provision an agent with an AK the operator vouches for (no enrollment, no EK)",
	  "fleet add-agent " CONNECTION " AGENT AKFILE" },
	{ "remove", fleet_remove, 0, "Forget an agent, its state and nonce (its results stay)",
	  "fleet remove " CONNECTION " AGENT" },
	{ "events", fleet_events, 0, "The server's event stream (text/event-stream)",
	  "fleet events " CONNECTION " [--follow] [--last-event-id ID] [--count N] [--idle S]" },
};

CLI_FAMILY(cmd_fleet, "fleet", fleet_commands)
