// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The IMA policy printer: rules in the kernel's canonical form (ima_policy_show), which
 * parses again to the same rules.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include "internal.h"
#include "policy-internal.h"

/* ---------------------------------------------------------------- printer */

static void print_id(struct strbuf *b, const char *key, char op, uint32_t v)
{
	sb_printf(b, "%s%c%u ", key, op, v);
}

static int format_rule(const struct policy_rule *r, struct strbuf *b)
{
	sb_printf(b, "%s ", policy_action_name(r->action));
	if (r->flags & RF_FUNC)
		sb_printf(b, "func=%s ", vouch_policy_func_name(r->func));
	if ((r->flags & (RF_MASK | RF_INMASK)) && policy_mask_name(r->mask))
		sb_printf(b, "mask=%s%s ", (r->flags & RF_INMASK) ? "^" : "",
			  policy_mask_name(r->mask));
	if (r->flags & RF_FSMAGIC)
		sb_printf(b, "fsmagic=0x%llx ", (unsigned long long)r->fsmagic);
	if (r->flags & RF_FSNAME) {
		sb_add(b, "fsname=", 7);
		sb_add(b, r->fsname, strlen(r->fsname));
		sb_add(b, " ", 1);
	}
	if (r->flags & RF_KEYRINGS) {
		sb_add(b, "keyrings=", 9);
		sb_add(b, r->keyrings, strlen(r->keyrings));
		sb_add(b, " ", 1);
	}
	if (r->flags & RF_LABEL) {
		sb_add(b, "label=", 6);
		sb_add(b, r->label, strlen(r->label));
		sb_add(b, " ", 1);
	}
	if (r->flags & RF_PCR)
		sb_printf(b, "pcr=%d ", r->pcr);
	if (r->flags & RF_FSUUID) {
		const uint8_t *u = r->fsuuid;

		sb_printf(b,
			  "fsuuid=%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			  "%02x%02x%02x%02x%02x%02x ",
			  u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
			  u[12], u[13], u[14], u[15]);
	}
	if (r->flags & (RF_UID | RF_EUID))
		print_id(b, (r->flags & RF_UID) ? "uid" : "euid", r->uid_op, r->uid);
	if (r->flags & (RF_GID | RF_EGID))
		print_id(b, (r->flags & RF_GID) ? "gid" : "egid", r->gid_op, r->gid);
	if (r->flags & RF_FOWNER)
		print_id(b, "fowner", r->fowner_op, r->fowner);
	if (r->flags & RF_FGROUP)
		print_id(b, "fgroup", r->fgroup_op, r->fgroup);
	if (r->flags & RF_ALGOS) {
		bool first = true;

		sb_add(b, "appraise_algos=", 15);
		for (int a = 0; a < _VOUCH_HASH_MAX; a++) {
			if (!(r->algos & ((uint64_t)1 << a)))
				continue;
			sb_printf(b, "%s%s", first ? "" : ",", vouch_hash_info(a)->name);
			first = false;
		}
		sb_add(b, " ", 1);
	}
	for (int i = 0; i < POLICY_LSM_N; i++) {
		if (!r->lsm[i])
			continue;
		sb_printf(b, "%s=", policy_lsm_names[i]);
		sb_add(b, r->lsm[i], strlen(r->lsm[i]));
		sb_add(b, " ", 1);
	}
	if (r->template_name) {
		sb_add(b, "template=", 9);
		sb_add(b, r->template_name, strlen(r->template_name));
		sb_add(b, " ", 1);
	}
	/* verity before sigv3 so that the output parses again (the kernel prints it after) */
	if (r->flags & RF_VERITY)
		sb_add(b, "digest_type=verity ", 19);
	if (r->flags & RF_DIGSIG) {
		if (r->flags & RF_VERITY)
			sb_add(b, "appraise_type=sigv3 ", 20);
		else if (r->flags & RF_MODSIG)
			sb_add(b, "appraise_type=imasig|modsig ", 28);
		else
			sb_add(b, "appraise_type=imasig ", 21);
	}
	if (r->flags & RF_BLACKLIST)
		sb_add(b, "appraise_flag=check_blacklist ", 30);
	if (r->flags & RF_DIRECTIO)
		sb_add(b, "permit_directio ", 16);
	return b->oom ? -ENOMEM : 0;
}

int policy_format_rule_sb(const vouch_policy *p, size_t index, struct strbuf *b)
{
	return format_rule(&p->rules[index], b);
}

VOUCH_EXPORT int vouch_policy_format_rule(const vouch_policy *p, size_t index, char **ret)
{
	struct strbuf b = { 0 };

	if (!p || !ret)
		return -EINVAL;
	if (index >= p->n_rules)
		return -ERANGE;
	if (format_rule(&p->rules[index], &b) < 0) {
		sb_free(&b);
		return -ENOMEM;
	}
	/* drop the trailing space for a single rule */
	if (b.len && b.s[b.len - 1] == ' ')
		b.s[--b.len] = '\0';
	*ret = b.s;
	return 0;
}

VOUCH_EXPORT int vouch_policy_format(const vouch_policy *p, char **ret)
{
	struct strbuf b = { 0 };

	if (!p || !ret)
		return -EINVAL;
	sb_add(&b, "", 0);
	for (size_t i = 0; i < p->n_rules; i++) {
		format_rule(&p->rules[i], &b);
		sb_add(&b, "\n", 1);
	}
	if (b.oom) {
		sb_free(&b);
		return -ENOMEM;
	}
	*ret = b.s;
	return 0;
}
