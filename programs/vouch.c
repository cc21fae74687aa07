// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch: the command-line front end of libvouch.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "guard.h"

static const struct command commands[] = {
	{ "digest", cmd_digest, 0, "Compute file digests with the kernel's algorithm names",
	  "digest [-a ALGO]... [--json] FILE..." },
	{ "key", cmd_key, CMD_FAMILY, "Generate, check and inspect signing keys; load certificates into keyrings",
	  "key generate|show|check|import ..." },
	{ "log", cmd_log, CMD_FAMILY, "Show, replay, verify and export IMA measurement lists",
	  "log show|replay|verify|export ..." },
	{ "initramfs", cmd_initramfs, CMD_FAMILY, "Create, list, extract and verify initramfs images with xattrs",
	  "initramfs create|list|extract|verify ..." },
	{ "demo", cmd_demo, 0, "Run every capability end to end on a scratch directory",
	  "demo [--dir DIR] [--keep]" },
	{ "sign", cmd_sign, 0,
	  "Append (or detach) a kernel-style PKCS#7 signature, byte-compatible with sign-file",
	  "sign -k KEY -c CERT [-a ALGO] [--signer-id issuer-serial|skid] [-o OUT] [--replace] "
	  "[--detached] [-j JOBS] [--pass-fd N|--pass-file F] FILE..." },
	{ "verify", cmd_verify, 0,
	  "Verify appended or detached signatures with the kernel's rules, per file",
	  "verify -t [KEYRING=]PATH... [--detached SIG] [--blacklist FILE] [--allow-hash ALGO]... "
	  "[--json] FILE..." },
	{ "strip", cmd_strip, 0, "Remove the appended signature (in place or to -o OUT)",
	  "strip [-o OUT] FILE..." },
	{ "show", cmd_show, 0,
	  "Show what modinfo shows (signer, sig_key, sig_hashalgo) plus signature size and offset",
	  "show [--json] FILE..." },
	{ "ima", cmd_ima, CMD_FAMILY, "security.ima digests and signatures (v2, v3/fs-verity), whole trees",
	  "ima hash|sign|verify|show ..." },
	{ "evm", cmd_evm, CMD_FAMILY, "security.evm portable signatures and HMACs",
	  "evm sign|verify ..." },
	{ "audit-kernel", cmd_audit_kernel, 0,
	  "List where a kernel tree loads user data and which integrity hook checks it",
	  "audit-kernel [--json] [--jobs N] [--data-dir DIR] KERNEL_TREE" },
	{ "tpm", cmd_tpm, CMD_FAMILY, "TPM 2.0: read and extend PCRs, create and show attestation keys",
	  "tpm pcrread|extend|ak ..." },
	{ "attest", cmd_attest, CMD_FAMILY, "Quote PCRs into an evidence file; verify evidence",
	  "attest quote|verify ..." },
	{ "policy", cmd_policy, CMD_FAMILY, "Check, print and simulate IMA policies",
	  "policy check|show|simulate ..." },
	{ "load", cmd_load, 0, "Run one load through the integrity engine (exit 0 allowed, 1 denied)",
	  "load [--state-dir DIR] [--policy P] [--trust T]... [--mode M] [--tcti T] [--tpm] [--json] "
	  "--func FUNC FILE..., or load --buffer --func ID --desc NAME FILE" },
	{ "engine", cmd_engine, CMD_FAMILY, "Inspect the engine state, print its list, latch enforcement",
	  "engine status|list|init|enforce ..." },
	{ "reference", cmd_reference, CMD_FAMILY,
	  "Reference values from Debian packages: create, show, diff, merge, sign, verify",
	  "reference create|show|diff|merge|sign|verify ..." },
	{ "guard", cmd_guard, CMD_NEEDS_ROOT,
	  "Enforce the engine's policy on every exec, library and open of a mount (fanotify)",
	  "guard [--config FILE] [--policy P] [--trust CERT]... [--mode [FUNC=]MODE]... "
	  "[--mount PATH]... [--deadline MS] [--log-json FILE] [--stats FILE]" },
	{ "fleet", cmd_fleet, CMD_FAMILY, "Operate vouchd: agents, reference values, events (runs vouch-fleet)",
	  "fleet status|show|add-reference|set-reference|remove|events ..." },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s COMMAND [ARGS...]\n\nCommands:\n", program_name);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'%s help COMMAND' (or '%s COMMAND --help') describes a command; 'man vouch'.\n"
		   "Exit status: 0 ok, 1 not trusted / does not verify, 2 usage error,\n"
		   "3 could not check (I/O, crypto, TPM).\n",
		program_name, program_name);
}

/*
 * vouch __complete WORD...: what may follow the words, one per line: command names, a
 * family's subcommands, or a command's options from its getopt_long table (see cli.h).
 * Used by the bash completion; nothing is run and nothing is printed on stderr.
 */
static int complete(int argc, char **argv)
{
	const struct command *c;

	if (argc > 0 && !strcmp(argv[0], "help")) {
		argc--, argv++;
		if (argc == 0) {
			for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
				printf("%s\n", commands[i].name);
			return EXIT_OK;
		}
	}
	if (argc == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			printf("%s\n", commands[i].name);
		printf("help\n--help\n--version\n");
		return EXIT_OK;
	}
	c = cli_find_command(commands, ARRAY_SIZE(commands), argv[0]);
	if (!c)
		return EXIT_USAGE;
	if (!freopen("/dev/null", "w", stderr))
		return EXIT_ERROR;
	cli_completing = true;
	c->fn(argc, argv);
	fflush(stdout);
	return EXIT_OK;
}

static CLI_FAMILY(run, NULL, commands)

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    (!strcmp(argv[1], "help") && argc == 2)) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("vouch %s (libvouch %s)\n", VOUCH_VERSION, vouch_version());
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "__complete"))
		return complete(argc - 2, argv + 2);
	if (!strcmp(argv[1], "help")) {
		/* vouch help COMMAND [SUB]... is vouch COMMAND [SUB]... --help */
		char **args = calloc((size_t)argc + 1, sizeof(char *));
		int r;

		if (!args) {
			cli_error("out of memory");
			return EXIT_ERROR;
		}
		args[0] = argv[0];
		for (int i = 2; i < argc; i++)
			args[i - 1] = argv[i];
		args[argc - 1] = (char *)"--help";
		r = run(argc, args);
		free(args);
		return r;
	}
	return run(argc, argv);
}
