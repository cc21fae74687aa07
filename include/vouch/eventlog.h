/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch: TCG PC Client firmware event log (crypto agile and SHA-1) and its replay
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_EVENTLOG_H
#define VOUCH_EVENTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vouch/ctx.h>
#include <vouch/quote.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct vouch_eventlog_info - what a replay saw
 * @crypto_agile: the log starts with a "Spec ID Event03" header
 * @n_events: records replayed or skipped (EV_NO_ACTION), header excluded
 * @n_algos: number of @algos
 * @algos: enum vouch_hash_algo of each bank the log carries (-1 for algorithms vouch does
 *         not know; their digests are skipped by size)
 * @startup_locality: the StartupLocality event's locality (PCR 0's initial value), 0 if none
 * @trailing_bytes: bytes after the last record that were all zero or all 0xff (tolerated
 *                  firmware padding)
 */
struct vouch_eventlog_info {
	bool crypto_agile;
	uint32_t n_events;
	uint32_t n_algos;
	int algos[16];
	uint8_t startup_locality;
	size_t trailing_bytes;
};

/**
 * vouch_eventlog_replay() - replay a firmware event log into PCR values
 * @ctx: the context
 * @log: the log (binary_bios_measurements, final events appended)
 * @len: its length
 * @pcrs: in: n_banks and each bank's algo; out: each bank's values for PCRs 0..23 and in
 *        mask the PCRs the log extended (PCR 0 also when a StartupLocality event was seen)
 * @ret_info: when not NULL, what the replay saw
 *
 * Only the digests are extended: the event type (except EV_NO_ACTION, which the TPM never
 * extends) is not covered by any digest and changes the result only through the replayed
 * values, which the caller compares with the quoted PCRs.  For the event types whose digest
 * the TCG PC Client Platform Firmware Profile defines as the hash of the event data
 * (EV_SEPARATOR, EV_ACTION, EV_EFI_ACTION, EV_EFI_VARIABLE_*, EV_EFI_GPT_EVENT,
 * EV_S_CRTM_VERSION, ...: the table in lib/eventlog.c and vouch(1)), the data is hashed with
 * the algorithm of every digest the record carries, requested bank or not, and must match.
 *
 * Return: 0; -EBADMSG (malformed log); -EKEYREJECTED (an event's data is not what its
 * digests must cover); -ENODATA (a requested bank is not in the log); -EINVAL; -EOPNOTSUPP
 * (OpenSSL lacks a requested bank's hash); -ENOMEM; -EIO.
 * Since: 0.1
 */
int vouch_eventlog_replay(vouch_ctx *ctx, const uint8_t *log, size_t len, struct vouch_pcrs *pcrs,
			  struct vouch_eventlog_info *ret_info);

/**
 * enum vouch_eventlog_binding - what of an event's data its digests cover
 * @VOUCH_EVENTLOG_UNBOUND: nothing: the digest is of something else (an image, a table, the
 *                          error value of an error EV_SEPARATOR) or the event is never
 *                          extended; the data is the firmware's say-so, never a fact
 * @VOUCH_EVENTLOG_BOUND: all of it, in every bank the record carries
 * @VOUCH_EVENTLOG_VARIABLE_DATA: EV_EFI_VARIABLE_BOOT or _AUTHORITY whose digests cover only
 *                                the VariableData (EDK2): the content is bound, the
 *                                variable's name and GUID are not
 */
enum vouch_eventlog_binding {
	VOUCH_EVENTLOG_UNBOUND = 0,
	VOUCH_EVENTLOG_BOUND,
	VOUCH_EVENTLOG_VARIABLE_DATA,
};

/**
 * struct vouch_eventlog_event - one record of a firmware event log
 * @index: 1-based, the Spec ID header excluded (as in the diagnostics)
 * @pcr: the PCR index
 * @type: the event type (not covered by any digest)
 * @extended: false for EV_NO_ACTION
 * @binding: what of @data the digests cover
 * @data: the event data, pointing into the log
 * @data_len: its length
 * @bound: the part of @data the digests cover (all of it, or the VariableData), NULL when
 *         @binding is VOUCH_EVENTLOG_UNBOUND
 * @bound_len: its length
 */
struct vouch_eventlog_event {
	uint32_t index;
	uint32_t pcr;
	uint32_t type;
	bool extended;
	enum vouch_eventlog_binding binding;
	const uint8_t *data;
	uint32_t data_len;
	const uint8_t *bound;
	uint32_t bound_len;
};

typedef int (*vouch_eventlog_event_fn)(const struct vouch_eventlog_event *event, void *userdata);

/**
 * vouch_eventlog_foreach() - check a firmware event log and hand over its records
 * @ctx: the context
 * @log: the log
 * @len: its length
 * @fn: called for each record, in order; a negative return stops the walk and is returned
 * @userdata: passed to @fn
 *
 * The whole log is parsed and every record's data checked against its digests (as in
 * vouch_eventlog_replay()) before @fn sees the first record: a bad log yields no records.
 * The log itself is evidence only once vouch_eventlog_replay() matched quoted PCRs; even
 * then only @data of records whose @binding is not VOUCH_EVENTLOG_UNBOUND is attested.
 *
 * Return: 0; what @fn returned; -EBADMSG; -EKEYREJECTED; -EINVAL; -EIO.
 * Since: 0.1
 */
int vouch_eventlog_foreach(vouch_ctx *ctx, const uint8_t *log, size_t len,
			   vouch_eventlog_event_fn fn, void *userdata);

/**
 * vouch_eventlog_type_name() - the TCG name of an event type
 * @type: the event type
 *
 * Return: "EV_SEPARATOR", ...; NULL for a type vouch does not know.
 * Since: 0.1
 */
const char *vouch_eventlog_type_name(uint32_t type);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_EVENTLOG_H */
