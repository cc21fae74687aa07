// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * IMA policy matching (ima_match_policy): the decision for a request, and what the engine
 * asks of a policy (which rules it can enforce, whether rules test the task's ids).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include "internal.h"
#include "policy-internal.h"

#define DEFAULT_PCR 10

/* ---------------------------------------------------------------- matching */

static bool id_op(char op, uint32_t have, uint32_t want)
{
	switch (op) {
	case '<':
		return have < want;
	case '>':
		return have > want;
	default:
		return have == want;
	}
}

/* euid=, egid=: with CAP_SETUID (CAP_SETGID) the saved and the real id match too */
static bool eid_matches(char op, uint32_t want, bool cap, uint32_t eid, uint32_t sid, uint32_t id)
{
	return id_op(op, eid, want) || (cap && (id_op(op, sid, want) || id_op(op, id, want)));
}

static bool list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	const char *s = list;

	for (;;) {
		const char *bar = strchr(s, '|');
		size_t len = bar ? (size_t)(bar - s) : strlen(s);

		if (len == n && !strncmp(s, item, n))
			return true;
		if (!bar)
			return false;
		s = bar + 1;
	}
}

static bool match_rule(const struct policy_rule *r, const struct vouch_policy_request *q)
{
	const char *lsm_have[POLICY_LSM_N] = { q->obj_user,  q->obj_role,  q->obj_type,
					       q->subj_user, q->subj_role, q->subj_type };

	if (q->func == VOUCH_FUNC_KEY_CHECK || q->func == VOUCH_FUNC_CRITICAL_DATA) {
		/* only func, the list and uid are evaluated (gid is ignored) */
		const char *list = q->func == VOUCH_FUNC_KEY_CHECK ? r->keyrings : r->label;
		const char *item = q->func == VOUCH_FUNC_KEY_CHECK ? q->keyring : q->label;

		if (r->func != q->func)
			return false;
		if ((r->flags & RF_UID) && !id_op(r->uid_op, q->uid, r->uid))
			return false;
		if (list && (!item || !list_has(list, item)))
			return false;
		return true;
	}
	if ((r->flags & RF_FUNC) && r->func != q->func && q->func != VOUCH_FUNC_POST_SETATTR)
		return false;
	if ((r->flags & RF_MASK) && r->mask != q->mask && q->func != VOUCH_FUNC_POST_SETATTR)
		return false;
	if ((r->flags & RF_INMASK) && !(r->mask & q->mask) && q->func != VOUCH_FUNC_POST_SETATTR)
		return false;
	if ((r->flags & RF_FSMAGIC) && r->fsmagic != q->fsmagic)
		return false;
	if ((r->flags & RF_FSNAME) && (!q->fsname || strcmp(r->fsname, q->fsname) != 0))
		return false;
	if ((r->flags & RF_FSUUID) && (!q->has_fsuuid || memcmp(r->fsuuid, q->fsuuid, 16) != 0))
		return false;
	if ((r->flags & RF_UID) && !id_op(r->uid_op, q->uid, r->uid))
		return false;
	if ((r->flags & RF_EUID) &&
	    !eid_matches(r->uid_op, r->uid, q->cap_setuid, q->euid, q->suid, q->uid))
		return false;
	if ((r->flags & RF_GID) && !id_op(r->gid_op, q->gid, r->gid))
		return false;
	if ((r->flags & RF_EGID) &&
	    !eid_matches(r->gid_op, r->gid, q->cap_setgid, q->egid, q->sgid, q->gid))
		return false;
	if ((r->flags & RF_FOWNER) && !id_op(r->fowner_op, q->fowner, r->fowner))
		return false;
	if ((r->flags & RF_FGROUP) && !id_op(r->fgroup_op, q->fgroup, r->fgroup))
		return false;
	for (int i = 0; i < POLICY_LSM_N; i++)
		if (r->lsm[i] && (!lsm_have[i] || strcmp(r->lsm[i], lsm_have[i]) != 0))
			return false;
	return true;
}

static uint32_t appraise_flags(const struct policy_rule *r)
{
	static const struct {
		uint32_t rule, decision;
	} map[] = {
		{ RF_DIGSIG, VOUCH_APPRAISE_IMASIG },	  { RF_MODSIG, VOUCH_APPRAISE_MODSIG },
		{ RF_VERITY, VOUCH_APPRAISE_VERITY },	  { RF_BLACKLIST, VOUCH_APPRAISE_BLACKLIST },
		{ RF_DIRECTIO, VOUCH_APPRAISE_DIRECTIO }, { RF_ALGOS, VOUCH_APPRAISE_ALGOS },
	};
	uint32_t f = 0;

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (r->flags & map[i].rule)
			f |= map[i].decision;
	return f;
}

VOUCH_EXPORT int vouch_policy_match(const vouch_policy *p, const struct vouch_policy_request *q,
				    struct vouch_policy_decision *ret)
{
	struct vouch_policy_decision d = { .pcr = DEFAULT_PCR };
	uint32_t open;

	if (!p || !q || !ret || q->version != 1 || q->func < 0 || q->func >= _VOUCH_FUNC_MAX ||
	    (q->actions & ~VOUCH_ACT_CLASSES))
		return -EINVAL;
	if (!mem_is_zero(q->reserved, sizeof(q->reserved)))
		return -EINVAL;
	open = q->actions ? q->actions : VOUCH_ACT_CLASSES;
	for (size_t i = 0; i < p->n_rules && open; i++) {
		const struct policy_rule *r = &p->rules[i];
		uint32_t cls = policy_action_class(r->action);

		if (!(cls & open))
			continue;
		if (!match_rule(r, q))
			continue;
		d.actions |= r->action;
		open &= ~cls;
		d.appraise_flags |= appraise_flags(r);
		if (r->flags & RF_ALGOS)
			d.appraise_algos = r->algos;
		if (r->flags & RF_PCR)
			d.pcr = (uint32_t)r->pcr;
		if (r->template_name)
			d.template_name = r->template_name;
		switch (cls) {
		case VOUCH_ACT_MEASURE:
			d.measure_rule = (unsigned)i + 1;
			break;
		case VOUCH_ACT_APPRAISE:
			d.appraise_rule = (unsigned)i + 1;
			if (r->action == VOUCH_ACT_APPRAISE && p->fail_securely)
				d.appraise_flags |= VOUCH_APPRAISE_FAIL_UNVERIFIABLE;
			break;
		case VOUCH_ACT_AUDIT:
			d.audit_rule = (unsigned)i + 1;
			break;
		default:
			d.hash_rule = (unsigned)i + 1;
			break;
		}
	}
	*ret = d;
	return 0;
}

/* ---------------------------------------------------------------- for the engine */

bool policy_has_appraise(const vouch_policy *p, int func)
{
	if (!p)
		return false;
	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].action == VOUCH_ACT_APPRAISE && p->rules[i].func == func)
			return true;
	return false;
}

bool policy_uses_creds(const vouch_policy *p)
{
	for (size_t i = 0; p && i < p->n_rules; i++)
		if (p->rules[i].flags & (RF_UID | RF_EUID | RF_GID | RF_EGID))
			return true;
	return false;
}

const char *policy_engine_unevaluable(const vouch_policy *p, size_t *ret_index, unsigned *ret_line,
				      const char **ret_why)
{
	static const char cond[] = "no file-system name, UUID or LSM label is known to it";

	for (size_t i = 0; p && i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];
		const char *what = NULL, *why = cond;

		if (r->flags & RF_FSNAME)
			what = "fsname=";
		else if (r->flags & RF_FSUUID)
			what = "fsuuid=";
		for (int k = 0; !what && k < POLICY_LSM_N; k++)
			if (r->lsm[k])
				what = policy_lsm_names[k];
		/*
		 * 'hash' asks the kernel to write the file's hash into security.ima when a writer
		 * closes it, and SETXATTR_CHECK limits the algorithms a setxattr() of security.ima
		 * may use: the engine sees neither a close nor a setxattr, so it could only ignore
		 * them ('dont_hash' needs nothing: the engine never writes security.ima).
		 */
		if (!what && (r->action & VOUCH_ACT_HASH)) {
			what = "the hash action";
			why = "it sees no file close to update security.ima on";
		}
		if (!what && r->func == VOUCH_FUNC_SETXATTR_CHECK) {
			what = "func=SETXATTR_CHECK";
			why = "it sees no setxattr() of security.ima";
		}
		if (what) {
			*ret_index = i;
			*ret_line = r->line;
			*ret_why = why;
			return what;
		}
	}
	return NULL;
}
