/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine's TPM PCR backend (engine-pcr.c): the engine extends a TPM, through
 * vouch_tpm_*, in addition to its software bank, which stays the state's own record.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_ENGINE_PCR_INTERNAL_H
#define VOUCH_LIB_ENGINE_PCR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include <vouch/log.h>

/* The state file that binds a state directory to its TPM (the TCTI string, one line). */
#define ENGINE_TCTI_FILE "tcti"

struct engine_tpm;

/*
 * Open the TPM named by @tcti (NULL: the one @state_dir is bound to, if any; *ret stays
 * NULL when there is none) and check it against the list: the list (@list, @entries
 * entries) must replay to the TPM's PCRs, except for the documented tail: the entries of
 * the last group (at most VOUCH_ENGINE_GROUP_MAX) may be durable without their TPM
 * extends, which are then completed in list order.  Binds @state_dir to
 * the TPM.  Returns 0, 1 (tail entries were extended), or a negative errno: -EBADMSG
 * when the TPM and the list disagree beyond that tail.
 */
int engine_tpm_attach(vouch_ctx *ctx, const char *tcti, const char *state_dir,
		      const uint8_t *list, size_t list_len, uint64_t entries,
		      struct engine_tpm **ret);

/*
 * Stage the extend of an entry that is about to be written (as the kernel: its template
 * digest hashed with each active bank's algorithm, zero-padded SHA-1 where that is not
 * available, all-ones for a violation), before it is durable: computing it is what can
 * fail without the TPM.  engine_tpm_commit() then makes the staged extends pending (the
 * entries are durable) or drops them (they are not); engine_tpm_sync() pushes the pending
 * ones in list order.  Until every pending extend is in the TPM no new entry may be
 * written.
 */
int engine_tpm_stage(struct engine_tpm *t, const struct vouch_log_entry *entry);
void engine_tpm_commit(struct engine_tpm *t, bool durable);

/* Push the pending extends in order; 0 when nothing is pending.  What fails stays pending. */
int engine_tpm_sync(struct engine_tpm *t);

/* PCRs 0-9 of the bank the kernel would take for the boot_aggregate with @hash_algo: that
 * algorithm's bank, else sha256, else sha1. */
int engine_tpm_boot_bank(struct engine_tpm *t, int hash_algo, struct vouch_pcr_bank *ret);

/* The TPM's PCRs equal the replay of the whole list: 0, or -EBADMSG. */
int engine_tpm_verify(struct engine_tpm *t, const uint8_t *list, size_t list_len,
		      uint64_t entries);

/* The TCTI in use. */
const char *engine_tpm_tcti(const struct engine_tpm *t);

void engine_tpm_free(struct engine_tpm *t);

#endif
