// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The IMA policy analyser: the warnings the kernel does not give (rules that never match,
 * rules shadowed by an earlier one, conditions that are accepted and never evaluated).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>

#include "internal.h"
#include "policy-internal.h"

static PRINTF_FMT(6, 7) int policy_add_warning(vouch_policy *p, unsigned line, unsigned column,
						unsigned rule, const char *code, const char *fmt,
						...)
{
	struct policy_warning *w;
	char buf[400];
	va_list ap;

	w = mem_reallocarray(p->warnings, p->n_warnings + 1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	p->warnings = w;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	w = &p->warnings[p->n_warnings];
	w->message = mem_strdup(buf);
	if (!w->message)
		return -ENOMEM;
	w->line = line;
	w->column = column;
	w->rule = rule;
	w->code = code;
	p->n_warnings++;
	return 0;
}

VOUCH_EXPORT size_t vouch_policy_warning_count(const vouch_policy *p)
{
	return p ? p->n_warnings : 0;
}

VOUCH_EXPORT int vouch_policy_get_warning(const vouch_policy *p, size_t index,
					  struct vouch_policy_diag *ret)
{
	if (!p || !ret)
		return -EINVAL;
	if (index >= p->n_warnings)
		return -ERANGE;
	ret->line = p->warnings[index].line;
	ret->column = p->warnings[index].column;
	ret->rule = p->warnings[index].rule;
	ret->code = p->warnings[index].code;
	ret->message = p->warnings[index].message;
	return 0;
}

/* ---------------------------------------------------------------- warnings */

/* The masks a hook can pass: a rule whose mask cannot meet them never matches. */
static uint32_t hook_masks(int func, uint32_t *ret_exact_any)
{
	switch (func) {
	case VOUCH_FUNC_MMAP_CHECK:
	case VOUCH_FUNC_BPRM_CHECK:
	case VOUCH_FUNC_CREDS_CHECK:
		*ret_exact_any = 0;
		return VOUCH_MAY_EXEC;
	case VOUCH_FUNC_MODULE_CHECK:
	case VOUCH_FUNC_FIRMWARE_CHECK:
	case VOUCH_FUNC_KEXEC_KERNEL_CHECK:
	case VOUCH_FUNC_KEXEC_INITRAMFS_CHECK:
	case VOUCH_FUNC_POLICY_CHECK:
		*ret_exact_any = 0;
		return VOUCH_MAY_READ;
	default:
		*ret_exact_any = 1;
		return 0;
	}
}

/* Interval [lo, hi] of ids an operator accepts; empty when lo > hi. */
static void id_range(char op, uint32_t v, uint64_t *lo, uint64_t *hi)
{
	switch (op) {
	case '<':
		*lo = 0;
		*hi = v == 0 ? 0 : (uint64_t)v - 1;
		if (v == 0)
			*lo = 1; /* empty */
		break;
	case '>':
		*lo = (uint64_t)v + 1;
		*hi = UINT32_MAX - 1;
		break;
	default:
		*lo = *hi = v;
	}
}

static bool id_covers(char aop, uint32_t av, char bop, uint32_t bv)
{
	uint64_t alo, ahi, blo, bhi;

	id_range(aop, av, &alo, &ahi);
	id_range(bop, bv, &blo, &bhi);
	if (blo > bhi)
		return true;
	return alo <= blo && bhi <= ahi;
}

static bool str_eq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* Whether every request rule @b matches is also matched by rule @a (conservative). */
static bool rule_covers(const struct policy_rule *a, const struct policy_rule *b)
{
	bool b_data = b->func == VOUCH_FUNC_KEY_CHECK || b->func == VOUCH_FUNC_CRITICAL_DATA;

	if (a->flags & RF_FUNC) {
		if (!(b->flags & RF_FUNC) || a->func != b->func)
			return false;
	} else if (b_data) {
		return false;
	}
	if (b_data) {
		if ((a->flags & RF_UID) &&
		    (!(b->flags & RF_UID) || !id_covers(a->uid_op, a->uid, b->uid_op, b->uid)))
			return false;
		if (a->keyrings && !str_eq(a->keyrings, b->keyrings))
			return false;
		if (a->label && !str_eq(a->label, b->label))
			return false;
		return true;
	}
	if (a->flags & RF_MASK) {
		if (!(b->flags & RF_MASK) || a->mask != b->mask)
			return false;
	}
	if (a->flags & RF_INMASK) {
		if (!(b->flags & (RF_MASK | RF_INMASK)) || !(a->mask & b->mask))
			return false;
		if ((b->flags & RF_INMASK) && (b->mask & ~a->mask))
			return false;
	}
	if ((a->flags & RF_FSMAGIC) && (!(b->flags & RF_FSMAGIC) || a->fsmagic != b->fsmagic))
		return false;
	if ((a->flags & RF_FSNAME) && !str_eq(a->fsname, b->fsname))
		return false;
	if ((a->flags & RF_FSUUID) &&
	    (!(b->flags & RF_FSUUID) || memcmp(a->fsuuid, b->fsuuid, 16) != 0))
		return false;
	if (a->flags & (RF_UID | RF_EUID)) {
		if ((a->flags & (RF_UID | RF_EUID)) != (b->flags & (RF_UID | RF_EUID)) ||
		    !id_covers(a->uid_op, a->uid, b->uid_op, b->uid))
			return false;
	}
	if (a->flags & (RF_GID | RF_EGID)) {
		if ((a->flags & (RF_GID | RF_EGID)) != (b->flags & (RF_GID | RF_EGID)) ||
		    !id_covers(a->gid_op, a->gid, b->gid_op, b->gid))
			return false;
	}
	if ((a->flags & RF_FOWNER) &&
	    (!(b->flags & RF_FOWNER) || !id_covers(a->fowner_op, a->fowner, b->fowner_op, b->fowner)))
		return false;
	if ((a->flags & RF_FGROUP) &&
	    (!(b->flags & RF_FGROUP) || !id_covers(a->fgroup_op, a->fgroup, b->fgroup_op, b->fgroup)))
		return false;
	for (int i = 0; i < POLICY_LSM_N; i++)
		if (a->lsm[i] && !str_eq(a->lsm[i], b->lsm[i]))
			return false;
	return true;
}

static bool id_never(char op, uint32_t v)
{
	return (op == '<' && v == 0) || (op == '>' && v >= UINT32_MAX - 1);
}

/* Why a rule can never match, or NULL. */
static const char *never_matches(const struct policy_rule *r)
{
	uint32_t any = 0, hm = hook_masks(r->func, &any);

	if ((r->flags & (RF_MASK | RF_INMASK)) && !any) {
		if ((r->flags & RF_MASK) && r->mask != hm)
			return hm == VOUCH_MAY_EXEC ? "this hook always passes mask MAY_EXEC"
						    : "this hook always passes mask MAY_READ";
		if ((r->flags & RF_INMASK) && !(r->mask & hm))
			return hm == VOUCH_MAY_EXEC ? "this hook always passes mask MAY_EXEC"
						    : "this hook always passes mask MAY_READ";
	}
	if ((r->flags & RF_MASK) && r->mask == VOUCH_MAY_APPEND &&
	    (r->func == VOUCH_FUNC_FILE_CHECK || r->func == VOUCH_FUNC_NONE))
		return "an append open always includes MAY_WRITE, so an exact mask=MAY_APPEND "
		       "never matches (use ^MAY_APPEND)";
	if ((r->flags & (RF_UID | RF_EUID)) && id_never(r->uid_op, r->uid))
		return "no uid satisfies this condition";
	if ((r->flags & (RF_GID | RF_EGID)) && id_never(r->gid_op, r->gid))
		return "no gid satisfies this condition";
	if ((r->flags & RF_FOWNER) && id_never(r->fowner_op, r->fowner))
		return "no owner satisfies this condition";
	if ((r->flags & RF_FGROUP) && id_never(r->fgroup_op, r->fgroup))
		return "no group satisfies this condition";
	return NULL;
}

int policy_analyse(vouch_policy *p)
{
	bool setxattr_seen = false;
	int r = 0;

	for (size_t j = 0; j < p->n_rules && r == 0; j++) {
		const struct policy_rule *b = &p->rules[j];
		uint32_t bcls = policy_action_class(b->action);
		unsigned n = (unsigned)j + 1;
		const char *why = never_matches(b);

		if (why) {
			r = policy_add_warning(p, b->line, 0, n, "never-matches",
					       "rule %u can never match: %s", n, why);
			continue;
		}
		if ((b->flags & RF_MASK) && b->mask == VOUCH_MAY_READ &&
		    (b->func == VOUCH_FUNC_FILE_CHECK || b->func == VOUCH_FUNC_NONE))
			r |= policy_add_warning(p, b->line, 0, n, "mask-exact",
					       "mask=MAY_READ is an exact match: files opened "
					       "read-write are not covered; ^MAY_READ matches any "
					       "open for reading");
		if ((b->func == VOUCH_FUNC_KEY_CHECK || b->func == VOUCH_FUNC_CRITICAL_DATA) &&
		    (b->flags & RF_GID))
			r |= policy_add_warning(p, b->line, 0, n, "gid-ignored",
					       "gid= is accepted but never evaluated for %s: only "
					       "uid= is",
					       vouch_policy_func_name(b->func));
		if (policy_rule_has_lsm(b))
			r |= policy_add_warning(p, b->line, 0, n, "lsm",
					       "LSM conditions need an LSM that knows the label: "
					       "without one the kernel accepts the rule and never "
					       "matches it");
		if ((b->flags & RF_PCR) && b->pcr > 23)
			r |= policy_add_warning(p, b->line, 0, n, "pcr-range",
					       "pcr=%d is beyond the 24 PCRs of a PC-client TPM: the "
					       "kernel accepts it and every extend fails",
					       b->pcr);
		if (b->func == VOUCH_FUNC_SETXATTR_CHECK) {
			if (setxattr_seen)
				r |= policy_add_warning(p, b->line, 0, n, "setxattr-ignored",
						       "only the first SETXATTR_CHECK rule is "
						       "effective");
			setxattr_seen = true;
		}
		for (size_t i = 0; i < j && r == 0; i++) {
			const struct policy_rule *a = &p->rules[i];
			uint32_t acls = policy_action_class(a->action);

			if (acls != bcls || never_matches(a) || !rule_covers(a, b))
				continue;
			r = policy_add_warning(
				p, b->line, 0, n, "shadowed",
				"rule %u (%s) never decides: rule %zu on line %u (%s) matches every "
				"request it matches first for the %s class",
				n, policy_action_name(b->action), i + 1, a->line,
				policy_action_name(a->action), policy_action_name(bcls));
			break;
		}
	}
	return r;
}
