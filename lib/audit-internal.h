/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internals of the kernel consumer audit, shared with the unit test: the record
 * parser and the merge step can be fed spatch output without running spatch.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_AUDIT_INTERNAL_H
#define VOUCH_LIB_AUDIT_INTERNAL_H

#include "internal.h"
#include <vouch/audit.h>

/* Allocate an empty result with @n_rules rule slots named @names. */
int audit_new(vouch_ctx *ctx, const char *tree, size_t n_rules, const char *const *names,
	      vouch_audit **ret);
/* Parse the stdout of one spatch run of rule @rule ("VOUCH\tkind\tfile\tline\tk=v..."). */
int audit_parse(vouch_ctx *ctx, vouch_audit *a, size_t rule, const char *buf, size_t len);
/* Derive entries, hooks and verdicts; sort the consumers. */
int audit_merge(vouch_ctx *ctx, vouch_audit *a);

#endif /* VOUCH_LIB_AUDIT_INTERNAL_H */
