// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch policy: check, print and simulate IMA policies.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "policy-cli.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_policy *, vouch_policy_freep, vouch_policy_free)

#define POLICY_FILE_MAX ((size_t)16 << 20)

/*
 * Load a policy for a command: FILE, or "builtin:NAMES".  Prints the error (with line and
 * column) and returns the exit code, or 0.
 */
int cli_load_policy(vouch_ctx *ctx, const char *cmd, const char *spec, uint32_t flags,
		    vouch_policy **ret)
{
	struct vouch_policy_parse_options o = VOUCH_POLICY_PARSE_OPTIONS_INIT;
	struct vouch_policy_diag e = { 0 };
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	if (!strncmp(spec, "builtin:", 8)) {
		r = vouch_policy_builtin(ctx, spec + 8, ret);
		if (r < 0) {
			cli_lib_error(ctx, r, cmd);
			return r == -EINVAL ? EXIT_USAGE : EXIT_ERROR;
		}
		return 0;
	}
	r = cli_read_small_file(spec, POLICY_FILE_MAX, &text, &len);
	if (r < 0) {
		cli_error("cannot read policy '%s': %s", spec, strerror(-r));
		return EXIT_ERROR;
	}
	o.flags = flags;
	r = vouch_policy_parse(ctx, text, len, &o, ret, &e);
	if (r == -EBADMSG) {
		if (e.column)
			fprintf(stderr, "%s:%u:%u: error: %s\n", spec, e.line, e.column, e.message);
		else
			fprintf(stderr, "%s:%u: error: %s\n", spec, e.line, e.message);
		return EXIT_UNTRUSTED;
	}
	if (r < 0) {
		cli_lib_error(ctx, r, spec);
		return EXIT_ERROR;
	}
	return 0;
}

static json_object *diag_json(const struct vouch_policy_diag *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "line", json_object_new_int((int)d->line));
	json_object_object_add(o, "column", json_object_new_int((int)d->column));
	if (d->rule)
		json_object_object_add(o, "rule", json_object_new_int((int)d->rule));
	json_object_object_add(o, "code", json_object_new_string(d->code ? d->code : ""));
	json_object_object_add(o, "message", json_object_new_string(d->message ? d->message : ""));
	return o;
}

static int policy_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "no-modsig", no_argument, NULL, 'M' },
		{ "strict", no_argument, NULL, 's' },
		{ 0 },
	};
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	bool json = false, strict = false, no_modsig = false;
	const struct cli_slot slots[] = {
		CLI_FLAG('j', &json), CLI_SET('M', &no_modsig), CLI_SET('s', &strict), CLI_SLOTS_END,
	};
	uint32_t flags;
	int rc = EXIT_OK;

	rc = cli_parse("policy check", argc, argv, "", longopts, slots, NULL, NULL);
	if (rc)
		return rc;
	flags = no_modsig ? VOUCH_POLICY_PARSE_NO_MODSIG : 0;
	if (optind >= argc)
		return cli_usage_error("policy check", "no policy file given");
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;

	_cleanup_(json_object_putp) json_object *arr = json ? json_object_new_array() : NULL;
	for (int i = optind; i < argc; i++) {
		struct vouch_policy_parse_options o = VOUCH_POLICY_PARSE_OPTIONS_INIT;
		_cleanup_(vouch_policy_freep) vouch_policy *p = NULL;
		struct vouch_policy_diag e = { 0 };
		_cleanup_free_ char *text = NULL;
		const char *file = argv[i];
		json_object *jf = NULL, *jw = NULL;
		size_t len, nw;
		int r;

		r = cli_read_small_file(file, POLICY_FILE_MAX, &text, &len);
		if (r < 0) {
			cli_error("cannot read policy '%s': %s", file, strerror(-r));
			rc = rc == EXIT_OK || rc == EXIT_UNTRUSTED ? EXIT_ERROR : rc;
			continue;
		}
		o.flags = flags;
		r = vouch_policy_parse(ctx, text, len, &o, &p, &e);
		if (json) {
			jf = json_object_new_object();
			json_object_object_add(jf, "file", json_object_new_string(file));
			json_object_object_add(jf, "valid", json_object_new_boolean(r == 0));
			json_object_array_add(arr, jf);
		}
		if (r == -EBADMSG) {
			if (json) {
				json_object *je = json_object_new_array();

				json_object_array_add(je, diag_json(&e));
				json_object_object_add(jf, "errors", je);
			} else if (e.column) {
				fprintf(stderr, "%s:%u:%u: error: %s\n", file, e.line, e.column,
					e.message);
			} else {
				fprintf(stderr, "%s:%u: error: %s\n", file, e.line, e.message);
			}
			if (rc == EXIT_OK)
				rc = EXIT_UNTRUSTED;
			continue;
		}
		if (r < 0) {
			cli_lib_error(ctx, r, file);
			rc = EXIT_ERROR;
			continue;
		}
		nw = vouch_policy_warning_count(p);
		if (json) {
			json_object_object_add(jf, "rules",
					       json_object_new_int64((int64_t)vouch_policy_rule_count(p)));
			json_object_object_add(jf, "errors", json_object_new_array());
			jw = json_object_new_array();
			json_object_object_add(jf, "warnings", jw);
		}
		for (size_t k = 0; k < nw; k++) {
			struct vouch_policy_diag d;

			vouch_policy_get_warning(p, k, &d);
			if (json)
				json_object_array_add(jw, diag_json(&d));
			else
				fprintf(stderr, "%s:%u: warning: %s [%s]\n", file, d.line, d.message,
					d.code);
		}
		if (!json)
			printf("%s: ok, %zu rules, %zu warnings\n", file, vouch_policy_rule_count(p),
			       nw);
		if (strict && nw && rc == EXIT_OK)
			rc = EXIT_UNTRUSTED;
	}
	if (json)
		cli_json_print(arr);
	return rc;
}

static int policy_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "builtin", required_argument, NULL, 'b' },
		{ 0 },
	};
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_policy_freep) vouch_policy *p = NULL;
	_cleanup_free_ char *out = NULL;
	const char *builtin = NULL;
	const struct cli_slot slots[] = { CLI_STR('b', &builtin), CLI_SLOTS_END };
	int r;

	r = cli_parse("policy show", argc, argv, "", longopts, slots, NULL, NULL);
	if (r)
		return r;
	if (builtin && optind != argc)
		return cli_usage_error("policy show", "--builtin and a FILE are exclusive");
	if (!builtin && optind + 1 != argc)
		return cli_usage_error("policy show", "give one FILE or --builtin NAME");
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	if (builtin) {
		r = vouch_policy_builtin(ctx, builtin, &p);
		if (r < 0) {
			cli_lib_error(ctx, r, "policy show");
			return r == -EINVAL ? EXIT_USAGE : EXIT_ERROR;
		}
	} else {
		r = cli_load_policy(ctx, "policy show", argv[optind], 0, &p);
		if (r)
			return r;
	}
	r = vouch_policy_format(p, &out);
	if (r < 0) {
		cli_lib_error(ctx, r, "policy show");
		return EXIT_ERROR;
	}
	fputs(out, stdout);
	if (vouch_policy_fail_securely(p))
		printf("# fail_securely: unverifiable signatures always fail appraisal\n");
	return EXIT_OK;
}

static const struct command policy_cmds[] = {
	{ "check", policy_check, 0,
	  "Parse IMA policies as the kernel would: errors with line and column, warnings for "
	  "rules that never match, shadowed rules and known traps",
	  "policy check [--json] [--no-modsig] [--strict] FILE..." },
	{ "show", policy_show, 0, "Print a policy, or a built-in one, in canonical form",
	  "policy show FILE | --builtin tcb|appraise_tcb|secure_boot|fail_securely|..." },
	{ "simulate", cmd_policy_simulate, 0,
	  "Predict what a policy measures and would deny when enforcing, file by file, on an "
	  "image tree",
	  "policy simulate -p POLICY [-t TRUST]... [-k KERNEL_TRUST]... --root DIR "
	  "[--map GLOB=FUNC]... [--json]" },
};

CLI_FAMILY(cmd_policy, "policy", policy_cmds)
