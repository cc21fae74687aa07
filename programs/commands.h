/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The commands of vouch's top-level table (vouch.c), each the entry point of a
 * cmd-<family>.c (sign, verify, strip and show: cmd-modsig.c; load and policy simulate:
 * cmd-engine.c; guard: guard/guard.h), the TPM helpers cmd-tpm.c shares with
 * cmd-attest.c, and the cleanup functions several commands share.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_PROGRAMS_COMMANDS_H
#define VOUCH_PROGRAMS_COMMANDS_H

#include "cli.h"

/* cleanups for the library's objects that several commands hold */
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_log_reader *, vouch_log_reader_freep, vouch_log_reader_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_log_writer *, vouch_log_writer_freep, vouch_log_writer_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_modsig_signer *, vouch_modsig_signer_freep,
				 vouch_modsig_signer_free)

int cmd_digest(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_strip(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_ima(int argc, char **argv);
int cmd_evm(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_initramfs(int argc, char **argv);
int cmd_audit_kernel(int argc, char **argv);
int cmd_tpm(int argc, char **argv);
int cmd_attest(int argc, char **argv);

int cmd_policy(int argc, char **argv);
int cmd_policy_simulate(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_engine(int argc, char **argv);
int cmd_fleet(int argc, char **argv);
int cmd_reference(int argc, char **argv);

/* TPM helpers, defined in cmd-tpm.c, shared with cmd-attest.c */
const char *cli_tcti(const char *opt);
int cli_tpm_open(vouch_ctx *ctx, const char *tcti, vouch_tpm **ret);
json_object *cli_pcrs_json(const struct vouch_pcrs *p);
#define CLI_AK_DEFAULT_HANDLE 0x81010010U
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_tpm *, vouch_tpm_closep, vouch_tpm_close)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_ak *, vouch_ak_freep, vouch_ak_free)

#endif /* VOUCH_PROGRAMS_COMMANDS_H */
