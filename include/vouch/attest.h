/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Attestation verification: one fail-closed call that checks evidence (a TPM quote, the
 * quoted PCR values, the firmware event log and the IMA measurement list) and reports each
 * check's outcome.
 *
 * Reference values (a JSON document, untrusted input):
 *   { "format": "vouch-reference", "version": 1,
 *     "files": { "/usr/bin/foo": [ "sha256:HEX", ... ], ... },
 *     "exclude": [ "/var/log/", "*.pyc" ] }   (fnmatch patterns; a trailing / = prefix)
 *
 * Incremental state (what a previous round verified):
 *   { "format": "vouch-attest-state", "version": 1, "ak": "SHA256-OF-AK-PEM",
 *     "entries": N, "pcrs": { "sha256": { "10": "HEX" } } }
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_ATTEST_H
#define VOUCH_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vouch/ctx.h>
#include <vouch/digest.h>
#include <vouch/evidence.h>
#include <vouch/key.h>
#include <vouch/quote.h>

#ifdef __cplusplus
extern "C" {
#endif

/** vouch_attest_reference - parsed reference values (opaque) */
typedef struct vouch_attest_reference vouch_attest_reference;

/**
 * vouch_attest_reference_parse() - parse a vouch-reference document
 * @ctx: the context
 * @json: the JSON text (untrusted)
 * @len: its length
 * @ret_ref: the reference values, released with vouch_attest_reference_free()
 * Return: 0, -EBADMSG (not a vouch-reference document), -ENOMEM, -EINVAL.
 * Since: 0.1
 */
int vouch_attest_reference_parse(vouch_ctx *ctx, const char *json, size_t len,
				 vouch_attest_reference **ret_ref);

/**
 * vouch_attest_reference_load() - read and parse a vouch-reference file
 * @ctx: the context
 * @path: the file
 * @ret_ref: as for vouch_attest_reference_parse()
 * Return: as vouch_attest_reference_parse(), or a negative errno reading @path.
 * Since: 0.1
 */
int vouch_attest_reference_load(vouch_ctx *ctx, const char *path,
				vouch_attest_reference **ret_ref);

/**
 * vouch_attest_reference_free() - release reference values (NULL is accepted)
 * @ref: the reference values
 * Since: 0.1
 */
void vouch_attest_reference_free(vouch_attest_reference *ref);

/**
 * vouch_attest_reference_check() - judge one measured file
 * @ref: the reference values
 * @name: the file name the list records
 * @d: its digest
 * Return: 0 allowed, -ECANCELED excluded (the reference values do not judge @name),
 * -ENOENT not listed, -EKEYREJECTED digest not allowed, -EINVAL.
 * Since: 0.1
 */
int vouch_attest_reference_check(const vouch_attest_reference *ref, const char *name,
				 const struct vouch_digest *d);

/**
 * struct vouch_attest_state - what a previous round verified of a measurement list
 * @valid: false = nothing verified yet (first round)
 * @ak: hex SHA-256 of the AK's PEM: a state belongs to one attestation key
 * @entries: entries verified so far (absolute count)
 * @pcrs: the running PCR values after those entries
 */
struct vouch_attest_state {
	bool valid;
	char ak[65];
	uint64_t entries;
	struct vouch_pcrs pcrs;
};

/**
 * vouch_attest_state_parse() - parse a vouch-attest-state document
 * @ctx: the context
 * @json: the JSON text (untrusted)
 * @len: its length
 * @ret_state: filled (valid = true) on success only
 * Return: 0, -EBADMSG (not a state document), -ENOMEM, -EINVAL.
 * Since: 0.1
 */
int vouch_attest_state_parse(vouch_ctx *ctx, const char *json, size_t len,
			     struct vouch_attest_state *ret_state);

/**
 * vouch_attest_state_load() - read a state file; a missing file is the first round
 * @ctx: the context
 * @path: the file
 * @ret_state: filled on success; valid = false when @path does not exist
 * Return: 0, as vouch_attest_state_parse(), or a negative errno reading @path.
 * Since: 0.1
 */
int vouch_attest_state_load(vouch_ctx *ctx, const char *path,
			    struct vouch_attest_state *ret_state);

/**
 * vouch_attest_state_save() - write a state file atomically (temp, fsync, rename)
 * @ctx: the context
 * @path: the file
 * @state: a valid state
 * Return: 0, -EINVAL (state not valid), -ENOMEM, or a negative errno writing @path.
 * Since: 0.1
 */
int vouch_attest_state_save(vouch_ctx *ctx, const char *path,
			    const struct vouch_attest_state *state);

/**
 * vouch_attest_state_format() - a state as one line of vouch-attest-state JSON
 * @ctx: the context
 * @state: a valid state
 * @ret_json: NUL-terminated JSON (ending in a newline), released with vouch_free()
 * Return: 0, -EINVAL (state not valid), -ENOMEM.
 * Since: 0.1
 */
int vouch_attest_state_format(vouch_ctx *ctx, const struct vouch_attest_state *state,
			      char **ret_json);

/* Flags of struct vouch_attest_verify_options. */
#define VOUCH_ATTEST_PCRS_HAVE_VALUES (1U << 0) /* @pcrs carries the values (tpm2_quote -f) */
/* every attested file measurement must carry a signature that verifies under @trust (which is
 * then required); boot_aggregate, violations and the kernel's buffer events excepted */
#define VOUCH_ATTEST_REQUIRE_SIGS (1U << 1)
/* fail when the AK's TPM public area is unknown (a PEM/DER key): its restricted, sign and
 * decrypt attributes and its scheme cannot be checked */
#define VOUCH_ATTEST_REQUIRE_AK_PUBLIC_AREA (1U << 2)
/* the evidence's list restarted after ima_from_entry while the TPM kept its PCRs (a kexec
 * without IMA_KEXEC): its first entry is the new kernel's boot_aggregate, checked against the
 * quoted PCRs like entry 1's, and the list is replayed on @state (which must be at
 * ima_from_entry).  Only for a quote of the same TPM boot (resetCount) as @state. */
#define VOUCH_ATTEST_LIST_RESTARTED (1U << 3)

/**
 * struct vouch_attest_verify_options - what to verify evidence against
 * @version: 1
 * @flags: VOUCH_ATTEST_*
 * @ak: the attestation key (required)
 * @nonce: the nonce the quote must carry (required)
 * @nonce_len: its length
 * @pcrs: the PCR selection the quote must cover (required); values are taken from the
 *        evidence unless VOUCH_ATTEST_PCRS_HAVE_VALUES
 * @allowed_hashes: as vouch_quote_verify_options
 * @reference: reference values for the attested entries, or NULL
 * @trust: certificates for ima-sig signatures, or NULL
 * @state: what the previous round verified, or NULL (no incremental state)
 * @ak_label: names the AK in messages (e.g. its path), or NULL
 * @state_label: names the state in messages, or NULL
 * @reserved: zero
 */
struct vouch_attest_verify_options {
	uint32_t version;
	uint32_t flags;
	const vouch_ak *ak;
	const uint8_t *nonce;
	size_t nonce_len;
	const struct vouch_pcrs *pcrs;
	uint32_t allowed_hashes;
	const vouch_attest_reference *reference;
	const vouch_trust *trust;
	const struct vouch_attest_state *state;
	const char *ak_label;
	const char *state_label;
	uint64_t reserved[4];
};

#define VOUCH_ATTEST_VERIFY_OPTIONS_INIT { .version = 1 }

#define VOUCH_ATTEST_MAX_CHECKS 24
#define VOUCH_ATTEST_DETAIL_SIZE 320

/**
 * struct vouch_attest_check - one check's outcome
 * @name: "quote_signature", ..., "ak_attributes", "eventlog", "ak_name", "state", "ima_list",
 *        "ima_templates", "boot_aggregate", "reference", "signatures", "pcr_values"
 * @status: 0 pass, 1 not applicable, a negative errno: failed (a verdict code, see
 *          vouch_error_is_verdict()) or could not be checked (any other)
 * @detail: a human-readable reason
 */
struct vouch_attest_check {
	const char *name;
	int status;
	char detail[VOUCH_ATTEST_DETAIL_SIZE];
};

/**
 * struct vouch_attest_result - the report of vouch_attest_verify()
 * @checks: every check that ran, in order
 * @n_checks: their number
 * @first_failure: index into @checks of the first failed check, -1 if none
 * @quote: the quote's checks and fields
 * @pcrs: the quoted selection with the values verified against the quote
 * @ima_covered: the list (a prefix of it) replays to the quoted PCR 10
 * @covered_first: first attested entry (absolute, 1-based; 0 if the prefix is empty)
 * @covered_last: last attested entry (absolute; equals the state's entries)
 * @uncovered: entries after the quote (not attested, not judged)
 * @violations: violation entries in the list
 * @first_bad_entry: the first entry a template/reference/signature check rejected, 0 if none
 * @state: the new incremental state; valid only when @ima_covered
 * @unverified: attested-prefix entries extended into a PCR the quote does not cover (not
 *              attested: a reference or signature requirement fails on them)
 * @ak_attributes_verified: the AK came with its TPM public area, whose attributes (restricted,
 *                          sign, not decrypt) were checked; false for a PEM/DER key
 */
struct vouch_attest_result {
	struct vouch_attest_check checks[VOUCH_ATTEST_MAX_CHECKS];
	size_t n_checks;
	int first_failure;
	struct vouch_quote_result quote;
	struct vouch_pcrs pcrs;
	bool ima_covered;
	uint64_t covered_first;
	uint64_t covered_last;
	uint64_t uncovered;
	uint64_t violations;
	uint64_t first_bad_entry;
	struct vouch_attest_state state;
	uint64_t unverified;
	bool ak_attributes_verified;
};

/**
 * vouch_attest_verify() - verify evidence, every check, in one call (fail closed)
 * @ctx: the context
 * @opts: what to verify against
 * @ev: the evidence
 * @ret: the report, released with vouch_attest_result_free(); written whenever the checks
 *       ran, i.e. on 0 and on a verdict or could-not-check code from a check
 *
 * Runs all checks: the quote (vouch_quote_verify()), the PCR values the evidence carries,
 * the firmware event log replay against quoted PCRs 0-9, the AK name, the incremental
 * state, the IMA list replay against quoted PCR 10 (a prefix may match: the rest is the
 * uncovered tail), template digests, boot_aggregate, reference values and ima-sig
 * signatures over the attested prefix.
 *
 * Return: 0 trusted; the first verdict code of a failed check (-EKEYREJECTED, -EPERM,
 * -EBADMSG) if none could-not-check; another negative errno if a check could not be done
 * or (without writing @ret) the call itself failed (-EINVAL, -ENOMEM).
 * Since: 0.1
 */
int vouch_attest_verify(vouch_ctx *ctx, const struct vouch_attest_verify_options *opts,
			const struct vouch_evidence *ev, struct vouch_attest_result **ret);

/**
 * vouch_attest_result_free() - release a report (NULL is accepted)
 * @res: the report
 * Since: 0.1
 */
void vouch_attest_result_free(struct vouch_attest_result *res);

/**
 * vouch_attest_result_to_json() - the verdict document of a report (one line of JSON)
 * @ctx: the context
 * @res: the report of vouch_attest_verify()
 * @ret_json: { "verdict": "trusted"|"untrusted"|"error", "checks": [ {check, result,
 *            detail} ], "ak_attributes_verified", "unverified_entries", "first_failure",
 *            "quote": { clock, reset_count, restart_count, safe, qualified_signer, pcrs } },
 *            NUL-terminated, released with vouch_free()
 * Return: 0, -EINVAL, -ENOMEM.
 * Since: 0.1
 */
int vouch_attest_result_to_json(vouch_ctx *ctx, const struct vouch_attest_result *res,
				char **ret_json);

#ifdef __cplusplus
}
#endif

#endif
