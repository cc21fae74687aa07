/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The toolkit shared by the vouch subcommands (cli.c): diagnostics, exit codes, dispatch,
 * the option toolkit, keys and trust stores, output, files.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_PROGRAMS_CLI_H
#define VOUCH_PROGRAMS_CLI_H

#include <getopt.h>
#include <sys/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "cleanup.h"
#include <vouch/vouch.h>

/* Documented in man/vouch.1. */
enum {
	EXIT_OK = 0,
	EXIT_UNTRUSTED = 1, /* a negative verification result */
	EXIT_USAGE = 2,	    /* bad command line */
	EXIT_ERROR = 3,	    /* could not check: I/O, crypto, TPM */
};

/* Command flags. */
#define CMD_NEEDS_ROOT (1U << 0) /* refused with EXIT_ERROR unless run as root */
#define CMD_FAMILY (1U << 1)	 /* a family: its sub-table answers --help, not the usage */

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	unsigned flags;
	const char *summary;
	const char *usage;
};

extern const char *program_name;

/*
 * 'vouch __complete WORD...' (bash completion, tests): every command's own getopt_long
 * table is the one source of its options.  While completing, getopt_long prints the
 * options it was given (short ones from the option string, long ones from the table) and
 * returns '?', so the command stops with a usage error before it reads any argument.
 */
extern bool cli_completing;
int cli_getopt_long(int argc, char *const argv[], const char *optstring,
		    const struct option *longopts, int *longindex);
#define getopt_long cli_getopt_long

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print a usage error and return EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print the library's last error (prefixed with @what when non-NULL). */
void cli_lib_error(vouch_ctx *ctx, int r, const char *what);
/* read(2) retried on EINTR: the count read, 0 at the end, -errno */
ssize_t cli_read_retry(int fd, void *buf, size_t len);
/* write all of @buf, retried on EINTR; 0 or -errno */
int cli_write_all(int fd, const void *buf, size_t len);
/* Read a whole (small) file, NUL-terminated; "-" is stdin.  Returns 0 or -errno. */
int cli_read_small_file(const char *path, size_t max, char **ret_buf, size_t *ret_len);
/* The same from an open descriptor, from its current offset. */
int cli_read_fd_all(int fd, size_t max, char **ret_buf, size_t *ret_len);
/* Exit code for a library error: verdicts map to 1, the rest to 3. */
int cli_exit_for(int r);

/* Create a context with stderr logging at the verbosity of VOUCH_DEBUG. */
int cli_ctx_new(vouch_ctx **ret);
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_ctx *, vouch_ctx_freep, vouch_ctx_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_key *, vouch_key_freep, vouch_key_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_cert *, vouch_cert_freep, vouch_cert_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_trust *, vouch_trust_freep, vouch_trust_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(json_object *, json_object_putp, json_object_put)

/*
 * Parse an algorithm name for command @cmd.  Unknown or unavailable: prints the list of
 * known ones and returns -1.
 */
int cli_parse_hash(vouch_ctx *ctx, const char *cmd, const char *name);

/* Parse decimal/hex numbers strictly. */
int cli_parse_u32(const char *s, uint32_t *ret);
int cli_parse_u64(const char *s, uint64_t *ret);
/* Parse a non-empty even-length hex string into at most @size bytes; -EINVAL otherwise. */
int cli_parse_hex(const char *s, uint8_t *out, size_t size, size_t *ret_len);

/* Whether a help flag was given as the first argument. */
bool cli_wants_help(int argc, char **argv);
void cli_print_help(const struct command *cmd);

/*
 * Run "vouch [FAMILY] NAME ARGS..." (@argv[1] is NAME) over the table @cmds: a command's
 * --help prints its usage (a family, CMD_FAMILY, prints its own sub-table), CMD_NEEDS_ROOT
 * is checked, an unknown NAME is a usage error.  @family is NULL for the top level, whose
 * own usage and completion vouch.c prints; a family without a subcommand or with --help
 * prints its sub-table.
 */
int cli_dispatch(const char *family, const struct command *cmds, size_t n, int argc,
		 char **argv);
/* Define the entry point @fn of a family, which runs cli_dispatch() over its table @cmds. */
#define CLI_FAMILY(fn, family, cmds)                                               \
	int fn(int argc, char **argv)                                                \
	{                                                                            \
		return cli_dispatch(family, cmds, ARRAY_SIZE(cmds), argc, argv);     \
	}
const struct command *cli_find_command(const struct command *cmds, size_t n, const char *name);

/*
 * Options given twice are usage errors ("OPT given twice, refusing"), returning EXIT_USAGE.
 * cli_given_twice() takes the option as spelled ("--json", "-a"); cli_opt_once() stores a
 * string argument in an empty @slot, cli_flag_once() sets an unset @flag, both taking the
 * long name without its dashes.
 */
int cli_given_twice(const char *cmd, const char *opt);
int cli_opt_once(const char *cmd, const char **slot, const char *arg, const char *name);
int cli_flag_once(const char *cmd, bool *flag, const char *name);
/*
 * The option toolkit: a table of options, each stored once, ending with CLI_SLOTS_END.
 * CLI_STR stores a string argument, CLI_FLAG sets a bool, CLI_SET sets a bool that may be
 * given again, CLI_HANDLE parses a TPM persistent handle (0x81000000-0x81ffffff).  A second
 * one is a usage error, "--NAME given twice, refusing" (NAME from the getopt table), or
 * "AS given twice, refusing" for the _AS variants that spell the option ("-k").
 */
enum { CLI_SLOT_STR, CLI_SLOT_FLAG, CLI_SLOT_SET, CLI_SLOT_HANDLE };
struct cli_slot {
	int val;
	int kind;
	void *ptr;
	const char *as;
};
#define CLI_STR(val, p) { (val), CLI_SLOT_STR, (1 ? (p) : (const char **)0), NULL }
#define CLI_FLAG(val, p) { (val), CLI_SLOT_FLAG, (1 ? (p) : (bool *)0), NULL }
#define CLI_SET(val, p) { (val), CLI_SLOT_SET, (1 ? (p) : (bool *)0), NULL }
#define CLI_HANDLE(val, p) { (val), CLI_SLOT_HANDLE, (1 ? (p) : (uint32_t *)0), NULL }
#define CLI_STR_AS(val, p, as) { (val), CLI_SLOT_STR, (1 ? (p) : (const char **)0), (as) }
#define CLI_FLAG_AS(val, p, as) { (val), CLI_SLOT_FLAG, (1 ? (p) : (bool *)0), (as) }
#define CLI_SLOTS_END { 0, 0, NULL, NULL }
/* Store option @c's @arg by @slots: 0, EXIT_USAGE (printed), -1 when @c has no row. */
int cli_slot_option(const char *cmd, const struct option *longopts, const struct cli_slot *slots,
		    int c, const char *arg);
/*
 * The whole getopt_long loop over @slots; an option without a row goes to @other (NULL:
 * "invalid option"), which returns 0 or an exit code.  0, or the exit code (printed).
 */
typedef int (*cli_other_fn)(void *userdata, int c, const char *arg);
int cli_parse(const char *cmd, int argc, char **argv, const char *shortopts,
	      const struct option *longopts, const struct cli_slot *slots, cli_other_fn other,
	      void *userdata);
/* A TPM persistent handle (0x81000000-0x81ffffff): 0, or EXIT_USAGE after printing. */
int cli_parse_handle(const char *cmd, const char *arg, uint32_t *ret);
/* The long name of the option that returns @val in @longopts; "option" when none does. */
const char *cli_opt_name(const struct option *longopts, int val);

/*
 * Passphrase sources for encrypted keys: --pass-fd N, --pass-file FILE, or the terminal.
 * Never from argv.
 */
struct cli_pass {
	int fd;		  /* -1 when not given */
	const char *file; /* NULL when not given */
	const char *what; /* "key 'x.key'" for the prompt */
	const char *cmd;  /* for cli_pass_other()'s messages */
};
#define CLI_PASS_INIT { .fd = -1 }
int cli_pass_cb(void *userdata, char *buf, size_t size);
/* Handle --pass-fd (@opt 'F') / --pass-file; returns 0, or EXIT_USAGE after printing. */
int cli_pass_option(const char *cmd, struct cli_pass *p, int opt, const char *arg);
/* Their getopt_long rows, and cli_parse()'s @other for a command whose only other options
 * they are (@userdata: the struct cli_pass, its @cmd set). */
#define CLI_PASS_LONGOPTS                                                                          \
	{ "pass-fd", required_argument, NULL, 'F' }, { "pass-file", required_argument, NULL, 'P' }
int cli_pass_other(void *userdata, int c, const char *arg);

/* Load a private key with the passphrase policy above; prints on failure. */
int cli_load_key(vouch_ctx *ctx, const char *path, struct cli_pass *pass, vouch_key **ret);
/* Load a certificate; prints on failure, 0 or EXIT_ERROR. */
int cli_load_cert(vouch_ctx *ctx, const char *path, vouch_cert **ret);
/* Load KEY (and CERT, when given) and derive the IMA key id; prints on failure, EXIT_*. */
int cli_load_signer(vouch_ctx *ctx, const char *keypath, const char *certpath,
		    struct cli_pass *pass, vouch_key **ret_key, uint32_t *ret_keyid);
/* One trust store of every path (certificates, bundles, directories), for @keyring (NULL:
 * any); prints on failure, EXIT_*. */
int cli_load_trust(vouch_ctx *ctx, const char *const *paths, size_t n, const char *keyring,
		   vouch_trust **ret);

/*
 * "CMD [--json] FILE...", the shape of every show command: @fn prints one file (text, or a
 * JSON object appended to @arr, NULL without --json) and returns its exit code; the first
 * that is not 0 is the command's.  @none is the usage error without files; with
 * @json_once, --json given twice is a usage error.
 */
typedef int (*cli_show_fn)(vouch_ctx *ctx, const char *path, json_object *arr);
int cli_show_files(const char *cmd, int argc, char **argv, const char *none, bool json_once,
		   cli_show_fn fn);

/* Print a JSON document on stdout, pretty and newline-terminated. */
void cli_json_print(json_object *obj);
json_object *cli_json_hex(const uint8_t *buf, size_t len);
/* @o[@key] = the string @val */
void cli_json_add_str(json_object *o, const char *key, const char *val);

/* The engine's trust store of @keyring (VOUCH_KEYRING_*) from certificate @paths, or from
 * @fallback when none is given and it exists (NULL: none); nothing when neither.  Prints on
 * failure; 0 or a negative errno. */
int cli_engine_trust(vouch_ctx *ctx, vouch_engine *e, int keyring, const char *const *paths,
		     size_t n, const char *fallback);

/*
 * A blacklist file (--blacklist): one hex digest per line, '#' starts a comment; untrusted
 * text, every entry must be a whole even-length hex digest.  @prefixed (vouch verify, the
 * kernel's certs/blacklist.c descriptions): "tbs:HEX" revokes the certificate whose
 * TBSCertificate has that hash (@e[1]), "bin:HEX", "ALGO:HEX" or a bare HEX refuses a file
 * with that hash (@e[0]), any other prefix is refused: an entry read with the wrong meaning
 * would silently revoke nothing.  Without @prefixed (the engine's check_blacklist) any
 * "X:" prefix is dropped and every entry is a file hash.  Prints; 0 or a negative errno.
 */
struct cli_blacklist {
	struct vouch_digest *e[2]; /* [0] bin:, [1] tbs: */
	size_t n[2], cap[2];
};
int cli_load_blacklist(vouch_ctx *ctx, const char *path, bool prefixed, struct cli_blacklist *b);
void cli_blacklist_done(struct cli_blacklist *b);

/* A line of a text file (@len bytes from getline()) without its surrounding blanks; NULL for
 * an empty line or a '#' comment.  Trims in place. */
char *cli_text_line(char *line, ssize_t len);

/*
 * Write @len bytes to @name beneath @dirfd (AT_FDCWD: a path) through a temporary beside
 * it, fsync and rename: never half a file, never through a symlink in the last component.
 * @mode >= 0: the new file's mode, and the directory is synced after the rename.  @mode < 0
 * (NAME.sig files, written by the thousand): an existing file keeps its owner and mode (a
 * new one is 0644), and a symlink (-ELOOP), a non-regular file (-EINVAL) or a file with
 * several hard links (-EMLINK) is refused.  0 or a negative errno; prints nothing.
 */
int cli_write_atomic_at(int dirfd, const char *name, const void *buf, size_t len, int mode);

/* Format seconds since the epoch as ISO 8601 UTC. */
void cli_time_iso(int64_t t, char *buf, size_t size);

#endif /* VOUCH_PROGRAMS_CLI_H */
