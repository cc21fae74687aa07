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
/* The files one spatch run was given, each as @prefix followed by a name in @names. */
struct audit_files {
	const char *prefix;
	const char *const *names;
	size_t n;
};

/*
 * Parse the stdout of one spatch run of rule @rule: records
 * "VOUCH\tkind\tfile\tline\tkey=value...", every field percent-encoded by the rules
 * (only bytes 0x21-0x7e, '%XX' for any other byte).  With @given, every record must name
 * one of the given files (the prefix is dropped); NULL takes the names as they are (tests).
 * Return: 0; -EBADMSG a line starting with "VOUCH" that is not a well-formed record; -ENOMEM.
 */
int audit_parse(vouch_ctx *ctx, vouch_audit *a, size_t rule, const struct audit_files *given,
		const char *buf, size_t len);
/* Printable ASCII for a diagnostic: other bytes as \xNN, '\' as "\\", truncated with "...". */
void audit_escape(const char *s, size_t n, char *out, size_t size);
/* Derive entries, hooks and verdicts; sort the consumers. */
int audit_merge(vouch_ctx *ctx, vouch_audit *a);

#endif /* VOUCH_LIB_AUDIT_INTERNAL_H */
