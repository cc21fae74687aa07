// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz the firmware event log parser, the data/digest binding and the replay (sha1 + sha256,
 * and sha256 alone), and the record walk (vouch_eventlog_foreach).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vouch/vouch.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* touch every byte a record claims, so a bad pointer or length shows under ASan */
static int visit(const struct vouch_eventlog_event *e, void *userdata)
{
	unsigned *sum = userdata;

	for (uint32_t i = 0; i < e->data_len; i++)
		*sum += e->data[i];
	for (uint32_t i = 0; i < e->bound_len; i++)
		*sum += e->bound[i];
	if (vouch_eventlog_type_name(e->type))
		*sum += 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vouch_pcrs pcrs;
	struct vouch_eventlog_info info;
	static vouch_ctx *ctx; /* one for the run: its digest cache is not what is fuzzed */

	if (!ctx && vouch_ctx_new(&ctx) < 0)
		return 0;
	memset(&pcrs, 0, sizeof(pcrs));
	pcrs.n_banks = 2;
	pcrs.banks[0].algo = VOUCH_HASH_SHA1;
	pcrs.banks[1].algo = VOUCH_HASH_SHA256;
	vouch_eventlog_replay(ctx, data, size, &pcrs, &info);
	memset(&pcrs, 0, sizeof(pcrs));
	pcrs.n_banks = 1;
	pcrs.banks[0].algo = VOUCH_HASH_SHA256;
	vouch_eventlog_replay(ctx, data, size, &pcrs, &info);
	{
		unsigned sum = 0;

		vouch_eventlog_foreach(ctx, data, size, visit, &sum);
	}
	return 0;
}
