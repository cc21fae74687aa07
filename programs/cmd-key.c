// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch key: generate and inspect signing keys and certificates.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"

static const char *key_type_name(int t)
{
	switch (t) {
	case VOUCH_KEY_RSA:
		return "rsa";
	case VOUCH_KEY_EC:
		return "ec";
	default:
		return "other";
	}
}

static int key_generate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "bits", required_argument, NULL, 'b' },
		{ "curve", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "subject", required_argument, NULL, 's' },
		{ "days", required_argument, NULL, 'd' },
		{ 0 },
	};
	struct vouch_keygen_options opts = VOUCH_KEYGEN_OPTIONS_INIT;
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_key_freep) vouch_key *key = NULL;
	_cleanup_(vouch_cert_freep) vouch_cert *cert = NULL;
	_cleanup_free_ char *keypath = NULL, *certpath = NULL;
	const char *out = NULL, *type = NULL;
	struct stat st;
	int c, r;

	while ((c = getopt_long(argc, argv, "t:b:c:o:s:d:", longopts, NULL)) != -1) {
		uint32_t v;

		switch (c) {
		case 't':
			if (cli_opt_once("key generate", &type, optarg, "type"))
				return EXIT_USAGE;
			break;
		case 'b':
			if (cli_parse_u32(optarg, &v) < 0 || v == 0)
				return cli_usage_error("key generate", "invalid --bits '%s'", optarg);
			opts.bits = v;
			break;
		case 'c':
			opts.curve = optarg;
			break;
		case 'o':
			if (cli_opt_once("key generate", &out, optarg, "out"))
				return EXIT_USAGE;
			break;
		case 's':
			opts.subject = optarg;
			break;
		case 'd':
			if (cli_parse_u32(optarg, &v) < 0 || v == 0 || v > 365 * 200)
				return cli_usage_error("key generate", "invalid --days '%s'", optarg);
			opts.days = v;
			break;
		default:
			return cli_usage_error("key generate", "invalid option");
		}
	}
	if (optind != argc)
		return cli_usage_error("key generate", "unexpected argument '%s'", argv[optind]);
	if (!out)
		return cli_usage_error("key generate", "--out PREFIX is required");
	if (!type || !strcmp(type, "rsa"))
		opts.type = VOUCH_KEY_RSA;
	else if (!strcmp(type, "ec") || !strcmp(type, "ecdsa"))
		opts.type = VOUCH_KEY_EC;
	else
		return cli_usage_error("key generate", "unknown key type '%s' (rsa or ec)", type);
	if (opts.type == VOUCH_KEY_RSA && opts.curve)
		return cli_usage_error("key generate", "--curve is for EC keys");
	if (opts.type == VOUCH_KEY_EC && opts.bits)
		return cli_usage_error("key generate", "--bits is for RSA keys; use --curve");

	if (asprintf(&keypath, "%s.key", out) < 0 || asprintf(&certpath, "%s.crt", out) < 0)
		return EXIT_ERROR;
	if (lstat(keypath, &st) == 0 || lstat(certpath, &st) == 0) {
		cli_error("refusing to overwrite '%s'", lstat(keypath, &st) == 0 ? keypath : certpath);
		return EXIT_ERROR;
	}
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	r = vouch_key_generate(ctx, &opts, &key, &cert);
	if (r < 0) {
		cli_lib_error(ctx, r, "key generation");
		return r == -EINVAL ? EXIT_USAGE : EXIT_ERROR;
	}
	r = vouch_key_save(ctx, key, keypath);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		return EXIT_ERROR;
	}
	r = vouch_cert_save(ctx, cert, certpath);
	if (r < 0) {
		cli_lib_error(ctx, r, NULL);
		unlink(keypath);
		return EXIT_ERROR;
	}
	{
		struct vouch_cert_info info;

		vouch_cert_get_info(cert, &info);
		printf("%s\n%s\n", keypath, certpath);
		if (info.has_ima_keyid)
			fprintf(stderr, "%s: generated %s key, IMA key id %08x\n", program_name,
				key_type_name(info.key_type), info.ima_keyid);
	}
	return EXIT_OK;
}

static void hex_print(const uint8_t *b, size_t n, char sep)
{
	for (size_t i = 0; i < n; i++)
		printf("%s%02x", i && sep ? (char[]){ sep, 0 } : "", b[i]);
}

static json_object *cert_json(const char *path, const struct vouch_cert_info *i)
{
	json_object *o = json_object_new_object();
	char t[64];

	json_object_object_add(o, "file", json_object_new_string(path));
	json_object_object_add(o, "subject", json_object_new_string(i->subject));
	json_object_object_add(o, "issuer", json_object_new_string(i->issuer));
	json_object_object_add(o, "serial", cli_json_hex(i->serial, i->serial_len));
	json_object_object_add(o, "skid",
			       i->skid ? cli_json_hex(i->skid, i->skid_len) : json_object_new_null());
	if (i->has_ima_keyid) {
		char kid[9];

		snprintf(kid, sizeof(kid), "%08x", i->ima_keyid);
		json_object_object_add(o, "ima_keyid", json_object_new_string(kid));
	} else {
		json_object_object_add(o, "ima_keyid", json_object_new_null());
	}
	json_object_object_add(o, "key_type", json_object_new_string(key_type_name(i->key_type)));
	json_object_object_add(o, "key_bits", json_object_new_int((int)i->key_bits));
	if (i->curve)
		json_object_object_add(o, "curve", json_object_new_string(i->curve));
	cli_time_iso(i->not_before, t, sizeof(t));
	json_object_object_add(o, "not_before", json_object_new_string(t));
	cli_time_iso(i->not_after, t, sizeof(t));
	json_object_object_add(o, "not_after", json_object_new_string(t));
	json_object_object_add(o, "ca", json_object_new_boolean(i->is_ca));
	json_object_object_add(o, "code_signing", json_object_new_boolean(i->code_signing));
	return o;
}

static void cert_print(const char *path, const struct vouch_cert_info *i)
{
	char t[64];

	printf("%s:\n  subject:     %s\n  issuer:      %s\n  serial:      ", path, i->subject,
	       i->issuer);
	hex_print(i->serial, i->serial_len, 0);
	printf("\n  skid:        ");
	if (i->skid)
		hex_print(i->skid, i->skid_len, 0);
	else
		printf("(none: IMA cannot use this certificate)");
	if (i->has_ima_keyid)
		printf("\n  ima keyid:   %08x", i->ima_keyid);
	printf("\n  key:         %s %u%s%s\n", key_type_name(i->key_type), i->key_bits,
	       i->curve ? " " : "", i->curve ? i->curve : "");
	cli_time_iso(i->not_before, t, sizeof(t));
	printf("  not before:  %s\n", t);
	cli_time_iso(i->not_after, t, sizeof(t));
	printf("  not after:   %s\n", t);
	printf("  usage:       %s%s\n", i->is_ca ? "CA" : "end entity",
	       i->code_signing ? ", code signing" : ", NOT code signing");
}

static int show_one(vouch_ctx *ctx, const char *path, json_object *arr)
{
	_cleanup_(vouch_cert_freep) vouch_cert *cert = NULL;
	struct vouch_cert_info info;

	if (cli_load_cert(ctx, path, &cert))
		return EXIT_ERROR;
	vouch_cert_get_info(cert, &info);
	if (arr)
		json_object_array_add(arr, cert_json(path, &info));
	else
		cert_print(path, &info);
	return EXIT_OK;
}

static int key_show(int argc, char **argv)
{
	return cli_show_files("key show", argc, argv, "no certificate given", false, show_one);
}

static int key_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "pass-fd", required_argument, NULL, 'F' },
		{ "pass-file", required_argument, NULL, 'P' },
		{ 0 },
	};
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_key_freep) vouch_key *key = NULL;
	_cleanup_(vouch_cert_freep) vouch_cert *cert = NULL;
	struct cli_pass pass = { .fd = -1, .cmd = "key check" };
	const char *certpath = NULL;
	const struct cli_slot slots[] = { CLI_STR('c', &certpath), CLI_SLOTS_END };
	int r;

	r = cli_parse("key check", argc, argv, "c:", longopts, slots, cli_pass_other, &pass);
	if (r)
		return r;
	if (optind + 1 != argc)
		return cli_usage_error("key check", "exactly one private key expected");
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	if (cli_load_key(ctx, argv[optind], &pass, &key) < 0)
		return EXIT_ERROR;
	if (certpath && cli_load_cert(ctx, certpath, &cert))
		return EXIT_ERROR;
	printf("%s: %s %u", argv[optind], key_type_name(vouch_key_type(key)), vouch_key_bits(key));
	if (cert) {
		bool match = vouch_key_matches_cert(key, cert);

		printf(", %s '%s'\n", match ? "matches" : "does NOT match", certpath);
		if (!match) {
			cli_error("'%s' is not the key of '%s'", argv[optind], certpath);
			return EXIT_UNTRUSTED;
		}
		return EXIT_OK;
	}
	printf("\n");
	return EXIT_OK;
}

static int key_import(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "keyring", required_argument, NULL, 'K' },
		{ 0 },
	};
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	_cleanup_(vouch_cert_freep) vouch_cert *cert = NULL;
	const char *ring = NULL;
	int32_t serial = 0;
	const struct cli_slot slots[] = { CLI_STR('K', &ring), CLI_SLOTS_END };
	int r;

	r = cli_parse("key import", argc, argv, "", longopts, slots, NULL, NULL);
	if (r)
		return r;
	if (optind + 1 != argc)
		return cli_usage_error("key import", "give exactly one certificate");
	if (cli_ctx_new(&ctx) < 0)
		return EXIT_ERROR;
	if (cli_load_cert(ctx, argv[optind], &cert))
		return EXIT_ERROR;
	r = vouch_keyring_import(ctx, cert, ring ? ring : "_ima", &serial);
	if (r < 0) {
		cli_lib_error(ctx, r, argv[optind]);
		return r == -EKEYREJECTED ? EXIT_UNTRUSTED : EXIT_ERROR;
	}
	printf("%d\n", serial);
	return EXIT_OK;
}

static const struct command key_commands[] = {
	{ "generate", key_generate, 0,
	  "Write PREFIX.key (PKCS#8, 0600, never overwritten) and PREFIX.crt (self-signed, "
	  "code signing, SKID)",
	  "key generate [--type rsa|ec] [--bits N] [--curve NAME] [--subject S] [--days N] "
	  "--out PREFIX" },
	{ "show", key_show, 0,
	  "Show subject, issuer, serial, SKID, IMA key id, key type and validity",
	  "key show [--json] CERT..." },
	{ "check", key_check, 0,
	  "Load a private key (asking for its passphrase if encrypted) and check it against a "
	  "certificate",
	  "key check [--cert CERT] [--pass-fd N | --pass-file FILE] KEY" },
	{ "import", key_import, 0,
	  "Load a certificate into a kernel keyring (_ima by default) as evmctl import does; "
	  "prints the key serial",
	  "key import CERT [--keyring _ima|_evm|.ima|@u|SERIAL]" },
};

CLI_FAMILY(cmd_key, "key", key_commands)
