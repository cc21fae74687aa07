// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch digest: file digests under the kernel's algorithm names.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

#define MAX_ALGOS 8

int cmd_digest(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "algo", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(json_object_putp) json_object *out = NULL;
	int algos[MAX_ALGOS];
	size_t n_algos = 0;
	bool json = false;
	int c, ret = EXIT_OK;

	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	while ((c = getopt_long(argc, argv, "a:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': {
			int a = cli_parse_hash(ctx, "digest", optarg);

			if (a < 0)
				return EXIT_USAGE;
			for (size_t i = 0; i < n_algos; i++)
				if (algos[i] == a)
					return cli_usage_error("digest",
							       "algorithm '%s' given twice, refusing",
							       optarg);
			if (n_algos == MAX_ALGOS)
				return cli_usage_error("digest", "at most %d algorithms at once",
						       MAX_ALGOS);
			algos[n_algos++] = a;
			break;
		}
		case 'j':
			json = true;
			break;
		case 'h':
			printf("Usage: vouch digest [-a ALGO]... [--json] FILE...\n\n"
			       "Print ALGO:HEX  FILE for each file and algorithm (sha256 by default),\n"
			       "hashing each file once for all algorithms. '-' reads standard input.\n");
			return EXIT_OK;
		default:
			return cli_usage_error("digest", "invalid option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("digest", "no file given");
	if (n_algos == 0)
		algos[n_algos++] = VOUCH_HASH_SHA256;
	if (json) {
		out = json_object_new_array();
		if (!out)
			return EXIT_ERROR;
	}

	for (int i = optind; i < argc; i++) {
		const char *path = argv[i];
		struct vouch_digest d[MAX_ALGOS];
		int r;

		if (!strcmp(path, "-"))
			r = vouch_digest_fd(ctx, STDIN_FILENO, algos, n_algos, d);
		else
			r = vouch_digest_file(ctx, path, algos, n_algos, d);
		if (r < 0) {
			cli_lib_error(ctx, r, NULL);
			ret = EXIT_ERROR;
			continue;
		}
		if (json) {
			json_object *o = json_object_new_object(), *ds = json_object_new_object();

			json_object_object_add(o, "file", json_object_new_string(path));
			for (size_t k = 0; k < n_algos; k++)
				json_object_object_add(ds, vouch_hash_info(algos[k])->name,
						       cli_json_hex(d[k].bytes, d[k].len));
			json_object_object_add(o, "digests", ds);
			json_object_array_add(out, o);
			continue;
		}
		for (size_t k = 0; k < n_algos; k++) {
			char hex[2 * VOUCH_HASH_MAX_SIZE + 1];

			vouch_digest_to_hex(&d[k], hex, sizeof(hex));
			printf("%s:%s  %s\n", vouch_hash_info(algos[k])->name, hex, path);
		}
	}
	if (json)
		cli_json_print(out);
	if (fflush(stdout) != 0) {
		cli_error("cannot write the output: %m");
		return EXIT_ERROR;
	}
	return ret;
}
