/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Policy internals: what the policy files (policy.c, policy-parse.c, policy-print.c,
 * policy-match.c, policy-analyse.c) share, and what the engine and the unit tests use.
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

/* policy.c: the names of the language, the rules */
extern const char *const policy_lsm_names[POLICY_LSM_N]; /* "obj_user", ..., "subj_type" */
const char *policy_action_name(uint32_t action);
uint32_t policy_action_by_name(const char *name); /* 0 when not an action */
uint32_t policy_mask_by_name(const char *name); /* "MAY_READ": 0 when not a mask */
const char *policy_mask_name(uint32_t bit); /* NULL when not one mask */
void policy_rule_clear(struct policy_rule *r);
bool policy_rule_has_lsm(const struct policy_rule *r);

/* The class of an action: measure, appraise, audit or hash (dont_X is in X's class). */
static inline uint32_t policy_action_class(uint32_t action)
{
	return action & VOUCH_ACT_CLASSES ? action : action >> 1;
}

/* policy-analyse.c: the warnings of a parsed policy */
int policy_analyse(vouch_policy *p);

/* policy-print.c */
int policy_format_rule_sb(const vouch_policy *p, size_t index, struct strbuf *b);

/* policy-match.c: what the engine asks of a policy */
bool policy_has_appraise(const vouch_policy *p, int func);
/* Whether any rule tests the task's uid/euid/gid/egid (the hooks then read them). */
bool policy_uses_creds(const vouch_policy *p);
/*
 * The first rule the engine cannot enforce as written (a condition it cannot evaluate: it
 * has no file-system name or UUID and no LSM labels to match; an action or hook it never
 * sees): what it is ("fsname=", "obj_type", "the hash action", ...), its rule's 0-based
 * index and line, and why in *ret_why; NULL when there is none.
 */
const char *policy_engine_unevaluable(const vouch_policy *p, size_t *ret_index, unsigned *ret_line,
				      const char **ret_why);

#endif /* VOUCH_LIB_POLICY_INTERNAL_H */
