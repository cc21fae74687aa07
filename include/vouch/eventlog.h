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
 * Nothing but the digests is trusted: the event type (except EV_NO_ACTION, which the TPM
 * never extends) and the event data are not covered by the digest, so they never change
 * the result other than through the replayed values, which the caller compares with the
 * quoted PCRs.
 *
 * Return: 0; -EBADMSG (malformed log); -ENODATA (a requested bank is not in the log);
 * -EINVAL; -EOPNOTSUPP (OpenSSL lacks a bank's hash); -ENOMEM.
 * Since: 0.1
 */
int vouch_eventlog_replay(vouch_ctx *ctx, const uint8_t *log, size_t len, struct vouch_pcrs *pcrs,
			  struct vouch_eventlog_info *ret_info);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_EVENTLOG_H */
