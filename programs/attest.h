/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch attest: the verdict report and the measurement-list part of verification.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_PROGRAMS_ATTEST_H
#define VOUCH_PROGRAMS_ATTEST_H

#include "commands.h"

#define ATTEST_MAX_CHECKS 24

struct check {
	const char *name;
	int status; /* 0 ok, <0 errno, 1 not applicable */
	char detail[320];
};

struct report {
	struct check c[ATTEST_MAX_CHECKS];
	size_t n;
};

void add_check(struct report *rep, const char *name, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Running PCR values after the attested prefix of the list: what --state remembers. */
struct ima_state {
	bool valid;
	char ak[65];	   /* sha256 of the AK's PEM, hex: a state belongs to one AK */
	uint64_t entries;  /* entries verified so far (absolute) */
	struct vouch_pcrs pcrs;
};

struct ima_check {
	const struct vouch_evidence *ev;
	const struct vouch_pcrs *quoted; /* the values the quote covers */
	const char *reference;		 /* reference values file, or NULL */
	const char *trust;		 /* trusted certificates, or NULL */
	const struct ima_state *state_in;
	struct ima_state *state_out;
};

/* Appends the checks ima_list, ima_templates, boot_aggregate, reference, signatures. */
int attest_check_ima(vouch_ctx *ctx, const struct ima_check *ic, struct report *rep);
int ima_state_load(const char *path, struct ima_state *ret);
int ima_state_save(const char *path, const struct ima_state *st);

#endif
