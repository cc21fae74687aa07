// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz the vouch-reference reader (version 1 and 2, the id check), what is done with an
 * accepted document (stats, diff, merge, the canonical form and its re-reading), and the
 * dpkg status and diversions parsers and the Keylime runtime-policy import (whose result must
 * export and import again), which read files of the machine being judged.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vouch/vouch.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(void *userdata, const char *p, const char *v, const char *a)
{
	(void)p;
	(void)v;
	(void)a;
	(*(size_t *)userdata)++;
	return 0;
}

static int diff_cb(void *userdata, const char *path, int change)
{
	(void)path;
	(void)change;
	(*(size_t *)userdata)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static vouch_ctx *ctx; /* one for the run */
	vouch_reference *ref = NULL, *empty = NULL, *again = NULL;
	size_t n = 0;

	if (!ctx && vouch_ctx_new(&ctx) < 0)
		return 0;
	if (vouch_reference_parse(ctx, (const char *)data, size, &ref) == 0) {
		struct vouch_reference_stats st;
		char *json = NULL;
		size_t len;

		(void)vouch_reference_get_stats(ref, &st);
		if (vouch_reference_new(ctx, &empty) == 0) {
			(void)vouch_reference_diff(empty, ref, diff_cb, &n, NULL);
			(void)vouch_reference_merge(empty, ref);
		}
		/* what was accepted, written canonically, must read back */
		if (vouch_reference_format(ref, &json, &len) == 0) {
			if (vouch_reference_parse(ctx, json, len, &again) != 0)
				abort();
			free(json);
		}
	}
	vouch_reference_free(again);
	vouch_reference_free(empty);
	vouch_reference_free(ref);
	/* a Keylime runtime policy: what is imported must export (or be refused cleanly) */
	if (vouch_reference_import_keylime(ctx, (const char *)data, size, &ref) == 0) {
		char *json = NULL;
		size_t len;

		if (vouch_reference_export_keylime(ref, 0, &json, &len) == 0) {
			vouch_reference *back = NULL;

			if (vouch_reference_import_keylime(ctx, json, len, &back) != 0)
				abort();
			vouch_reference_free(back);
			free(json);
		}
		vouch_reference_free(ref);
		ref = NULL;
	}
	(void)vouch_dpkg_status_parse(ctx, (const char *)data, size, count, &n);
	if (vouch_reference_new(ctx, &ref) == 0) {
		(void)vouch_reference_set_diversions(ref, (const char *)data, size);
		vouch_reference_free(ref);
	}
	return 0;
}
