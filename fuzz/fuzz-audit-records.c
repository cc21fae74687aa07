// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz the audit's spatch record parser and the merge that walks the call graph the
 * records describe (cycles, self-calls, duplicate definitions, odd fields).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdint.h>
#include <stdlib.h>

#include "audit-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "a", "b" };
	static const char *const files[] = { "a.c", "kernel/module.c" };
	/* half the inputs as a live run sees them: bound to the files spatch was given */
	const struct audit_files given = { .prefix = "t/", .names = files, .n = 2 };
	static vouch_ctx *ctx; /* one for the run */
	vouch_audit *a = NULL;

	if (size > (1 << 20) || (!ctx && vouch_ctx_new(&ctx) < 0))
		return 0;
	/* a tree that does not exist: entry detection must cope without source text */
	if (audit_new(ctx, "/nonexistent-vouch-fuzz-tree", 2, names, &a) == 0) {
		if (audit_parse(ctx, a, size % 2, size & 2 ? &given : NULL, (const char *)data, size) == 0 &&
		    audit_merge(ctx, a) == 0) {
			for (size_t i = 0; i < vouch_audit_consumer_count(a); i++)
				(void)vouch_audit_consumer_get(a, i)->entry;
		}
		vouch_audit_free(a);
	}
	return 0;
}
