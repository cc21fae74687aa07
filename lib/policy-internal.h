/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Policy internals shared with the engine and the unit tests.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_POLICY_INTERNAL_H
#define VOUCH_LIB_POLICY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vouch/policy.h>

/* Rule flags: conditions and options present (modelled on ima_policy.c's IMA_* flags). */
#define RF_FUNC 0x000001u
#define RF_MASK 0x000002u
#define RF_FSMAGIC 0x000004u
#define RF_UID 0x000008u
#define RF_FOWNER 0x000010u
#define RF_FSUUID 0x000020u
#define RF_INMASK 0x000040u
#define RF_EUID 0x000080u
#define RF_PCR 0x000100u
#define RF_FSNAME 0x000200u
#define RF_KEYRINGS 0x000400u
#define RF_LABEL 0x000800u
#define RF_GID 0x001000u
#define RF_EGID 0x002000u
#define RF_FGROUP 0x004000u
#define RF_DIGSIG 0x008000u
#define RF_MODSIG 0x010000u
#define RF_BLACKLIST 0x020000u
#define RF_VERITY 0x040000u
#define RF_DIRECTIO 0x080000u
#define RF_ALGOS 0x100000u
#define RF_TEMPLATE 0x200000u
#define RF_LSM 0x400000u /* derived: any LSM condition */

#define POLICY_LSM_N 6

struct policy_rule {
	uint32_t action;
	uint32_t flags;
	int func;
	uint32_t mask;
	uint64_t fsmagic;
	char *fsname;
	uint8_t fsuuid[16];
	uint32_t uid, gid, fowner, fgroup;
	char uid_op, gid_op, fowner_op, fgroup_op;
	char *lsm[POLICY_LSM_N];
	char *keyrings;
	char *label;
	uint64_t algos;
	char *template_name;
	int pcr;
	unsigned line;
};

struct policy_warning {
	unsigned line, column, rule;
	const char *code;
	char *message;
};

struct vouch_policy {
	struct policy_rule *rules;
	size_t n_rules;
	struct policy_warning *warnings;
	size_t n_warnings;
	bool fail_securely;
};

const char *policy_action_name(uint32_t action);
int policy_format_rule_sb(const vouch_policy *p, size_t index, struct textbuf *b);
bool policy_has_appraise(const vouch_policy *p, int func);
/* Whether any rule tests the task's uid/euid/gid/egid (the hooks then read them). */
bool policy_uses_creds(const vouch_policy *p);
/*
 * The first condition of @p the engine cannot evaluate (it has no file-system name or
 * UUID and no LSM labels to match): "fsname=", "fsuuid=", "obj_type", ...; its rule's
 * 0-based index and line.  NULL when the engine evaluates every condition.
 */
/*
 * The first rule the engine cannot enforce as written (a condition it cannot evaluate, an
 * action or hook it never sees): what it is, and why in *ret_why; NULL when there is none.
 */
const char *policy_engine_unevaluable(const vouch_policy *p, size_t *ret_index, unsigned *ret_line,
				      const char **ret_why);
/* The field format of a built-in template name ("d-ng|n-ng|sig"), NULL if not one. */
const char *policy_template_fmt(const char *name);

#endif /* VOUCH_LIB_POLICY_INTERNAL_H */
