// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The IMA policy language of Linux 6.1: parser (ima_parse_rule + ima_validate_rule),
 * canonical printer (ima_policy_show), built-in policies (ima_init_policy) and matching
 * (ima_match_policy), plus the warnings the kernel does not give.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>
#include <strings.h>

#include "internal.h"
#include "policy-internal.h"

#define POLICY_MAX_TEXT ((size_t)16 << 20)
#define POLICY_MAX_LINE 4095 /* one write() to securityfs is at most PAGE_SIZE - 1 */
#define POLICY_MAX_RULES 65536
#define DEFAULT_PCR 10

static const char *const func_names[_VOUCH_FUNC_MAX] = {
	[VOUCH_FUNC_NONE] = NULL,
	[VOUCH_FUNC_FILE_CHECK] = "FILE_CHECK",
	[VOUCH_FUNC_MMAP_CHECK] = "MMAP_CHECK",
	[VOUCH_FUNC_BPRM_CHECK] = "BPRM_CHECK",
	[VOUCH_FUNC_CREDS_CHECK] = "CREDS_CHECK",
	[VOUCH_FUNC_POST_SETATTR] = "POST_SETATTR",
	[VOUCH_FUNC_MODULE_CHECK] = "MODULE_CHECK",
	[VOUCH_FUNC_FIRMWARE_CHECK] = "FIRMWARE_CHECK",
	[VOUCH_FUNC_KEXEC_KERNEL_CHECK] = "KEXEC_KERNEL_CHECK",
	[VOUCH_FUNC_KEXEC_INITRAMFS_CHECK] = "KEXEC_INITRAMFS_CHECK",
	[VOUCH_FUNC_POLICY_CHECK] = "POLICY_CHECK",
	[VOUCH_FUNC_KEXEC_CMDLINE] = "KEXEC_CMDLINE",
	[VOUCH_FUNC_KEY_CHECK] = "KEY_CHECK",
	[VOUCH_FUNC_CRITICAL_DATA] = "CRITICAL_DATA",
	[VOUCH_FUNC_SETXATTR_CHECK] = "SETXATTR_CHECK",
};

static const char *const lsm_names[POLICY_LSM_N] = {
	"obj_user", "obj_role", "obj_type", "subj_user", "subj_role", "subj_type",
};

/* Template names and formats of 6.1 (ima_template.c builtin_templates). */
static const struct {
	const char *name;
	const char *fmt;
} templates[] = {
	{ "ima", "d|n" },
	{ "ima-ng", "d-ng|n-ng" },
	{ "ima-sig", "d-ng|n-ng|sig" },
	{ "ima-ngv2", "d-ngv2|n-ng" },
	{ "ima-sigv2", "d-ngv2|n-ng|sig" },
	{ "ima-buf", "d-ng|n-ng|buf" },
	{ "ima-modsig", "d-ng|n-ng|sig|d-modsig|modsig" },
	{ "evm-sig", "d-ng|n-ng|evmsig|xattrnames|xattrlengths|xattrvalues|iuid|igid|imode" },
};

VOUCH_EXPORT const char *vouch_policy_func_name(int func)
{
	if (func <= 0 || func >= _VOUCH_FUNC_MAX)
		return NULL;
	return func_names[func];
}

VOUCH_EXPORT int vouch_policy_func_by_name(const char *name)
{
	if (!name)
		return -EINVAL;
	if (!strcmp(name, "PATH_CHECK"))
		return VOUCH_FUNC_FILE_CHECK;
	if (!strcmp(name, "FILE_MMAP"))
		return VOUCH_FUNC_MMAP_CHECK;
	for (int i = 1; i < _VOUCH_FUNC_MAX; i++)
		if (i != VOUCH_FUNC_POST_SETATTR && !strcmp(name, func_names[i]))
			return i;
	return -EINVAL;
}

/* ---------------------------------------------------------------- numbers (kstrto*) */

/* kstrtoull(): optional '+', base 16 accepts a 0x prefix, at least one digit, no overflow. */
static int kstrtoull(const char *s, unsigned base, uint64_t *ret)
{
	uint64_t v = 0;
	bool any = false;

	if (*s == '+')
		s++;
	if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -EINVAL;
		if (d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
		any = true;
	}
	if (!any)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* uuid_parse(): exactly xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx */
static int parse_uuid(const char *s, uint8_t out[16])
{
	static const int pos[16] = { 0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34 };

	if (strlen(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return -EINVAL;
	for (int i = 0; i < 16; i++) {
		size_t n;

		if (hex_decode(s + pos[i], 2, out + i, 1, &n) < 0 || n != 1)
			return -EINVAL;
	}
	return 0;
}

/* ---------------------------------------------------------------- rules */

static void rule_clear(struct policy_rule *r)
{
	free(r->fsname);
	free(r->keyrings);
	free(r->label);
	free(r->template_name);
	for (int i = 0; i < POLICY_LSM_N; i++)
		free(r->lsm[i]);
	memset(r, 0, sizeof(*r));
}

VOUCH_EXPORT void vouch_policy_free(vouch_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_rules; i++)
		rule_clear(&p->rules[i]);
	free(p->rules);
	for (size_t i = 0; i < p->n_warnings; i++)
		free(p->warnings[i].message);
	free(p->warnings);
	free(p);
}

VOUCH_EXPORT size_t vouch_policy_rule_count(const vouch_policy *p)
{
	return p ? p->n_rules : 0;
}

VOUCH_EXPORT bool vouch_policy_fail_securely(const vouch_policy *p)
{
	return p && p->fail_securely;
}

static int policy_add_warning(vouch_policy *p, unsigned line, unsigned column, unsigned rule,
			      const char *code, const char *fmt, ...) PRINTF_FMT(6, 7);
static int policy_add_warning(vouch_policy *p, unsigned line, unsigned column, unsigned rule,
			      const char *code, const char *fmt, ...)
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

/* ---------------------------------------------------------------- parser */

struct parse_state {
	vouch_ctx *ctx;
	uint32_t flags;
	unsigned line;
	unsigned column;
	const char *code;
	char msg[320];
};

static int perr(struct parse_state *st, const char *code, const char *fmt, ...) PRINTF_FMT(3, 4);
static int perr(struct parse_state *st, const char *code, const char *fmt, ...)
{
	va_list ap;

	st->code = code;
	va_start(ap, fmt);
	vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

enum tok_kind {
	T_ACTION,
	T_FUNC,
	T_MASK,
	T_FSMAGIC,
	T_FSNAME,
	T_FSUUID,
	T_UID,
	T_EUID,
	T_GID,
	T_EGID,
	T_FOWNER,
	T_FGROUP,
	T_LSM,
	T_KEYRINGS,
	T_LABEL,
	T_APPRAISE_TYPE,
	T_APPRAISE_FLAG,
	T_APPRAISE_ALGOS,
	T_DIGEST_TYPE,
	T_TEMPLATE,
	T_PCR,
	T_DIRECTIO,
};

/* key, operators allowed ('=' '<' '>'), kind */
static const struct {
	const char *key;
	const char *ops;
	enum tok_kind kind;
	int arg;
} keys[] = {
	{ "func", "=", T_FUNC, 0 },
	{ "mask", "=", T_MASK, 0 },
	{ "fsmagic", "=", T_FSMAGIC, 0 },
	{ "fsname", "=", T_FSNAME, 0 },
	{ "fsuuid", "=", T_FSUUID, 0 },
	{ "uid", "=<>", T_UID, 0 },
	{ "euid", "=<>", T_EUID, 0 },
	{ "gid", "=<>", T_GID, 0 },
	{ "egid", "=<>", T_EGID, 0 },
	{ "fowner", "=<>", T_FOWNER, 0 },
	{ "fgroup", "=<>", T_FGROUP, 0 },
	{ "obj_user", "=", T_LSM, 0 },
	{ "obj_role", "=", T_LSM, 1 },
	{ "obj_type", "=", T_LSM, 2 },
	{ "subj_user", "=", T_LSM, 3 },
	{ "subj_role", "=", T_LSM, 4 },
	{ "subj_type", "=", T_LSM, 5 },
	{ "keyrings", "=", T_KEYRINGS, 0 },
	{ "label", "=", T_LABEL, 0 },
	{ "appraise_type", "=", T_APPRAISE_TYPE, 0 },
	{ "appraise_flag", "=", T_APPRAISE_FLAG, 0 },
	{ "appraise_algos", "=", T_APPRAISE_ALGOS, 0 },
	{ "digest_type", "=", T_DIGEST_TYPE, 0 },
	{ "template", "=", T_TEMPLATE, 0 },
	{ "pcr", "=", T_PCR, 0 },
};

static const struct {
	const char *name;
	uint32_t action;
} actions[] = {
	{ "measure", VOUCH_ACT_MEASURE },	{ "dont_measure", VOUCH_ACT_DONT_MEASURE },
	{ "appraise", VOUCH_ACT_APPRAISE },	{ "dont_appraise", VOUCH_ACT_DONT_APPRAISE },
	{ "audit", VOUCH_ACT_AUDIT },		{ "hash", VOUCH_ACT_HASH },
	{ "dont_hash", VOUCH_ACT_DONT_HASH },
};

static const struct {
	const char *name;
	uint32_t bit;
} mask_names[] = {
	{ "MAY_EXEC", VOUCH_MAY_EXEC },
	{ "MAY_WRITE", VOUCH_MAY_WRITE },
	{ "MAY_READ", VOUCH_MAY_READ },
	{ "MAY_APPEND", VOUCH_MAY_APPEND },
};

const char *policy_action_name(uint32_t action)
{
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
		if (actions[i].action == action)
			return actions[i].name;
	return "?";
}

/* An ID condition: kstrtoul base 10, then make_kuid() (-1 is invalid, must fit in 32 bits). */
static int parse_id(struct parse_state *st, const char *key, const char *val, uint32_t *ret)
{
	uint64_t v;

	if (kstrtoull(val, 10, &v) < 0 || v >= UINT32_MAX)
		return perr(st, "bad-value", "invalid %s value '%s' (decimal id below 4294967295)",
			    key, val);
	*ret = (uint32_t)v;
	return 0;
}

/* "a|b|c" with non-empty items */
static int check_list(struct parse_state *st, const char *key, const char *val)
{
	const char *s = val;

	for (;;) {
		const char *bar = strchr(s, '|');
		size_t n = bar ? (size_t)(bar - s) : strlen(s);

		if (n == 0)
			return perr(st, "bad-value", "empty item in %s='%s'", key, val);
		if (!bar)
			return 0;
		s = bar + 1;
	}
}

static bool template_known(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(templates); i++)
		if (!strcmp(name, templates[i].name) || !strcmp(name, templates[i].fmt))
			return true;
	return false;
}

static int parse_algos(struct parse_state *st, const char *val, uint64_t *ret)
{
	uint64_t bits = 0;
	const char *s = val;

	for (;;) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		int found = -1;

		for (int a = 0; a < _VOUCH_HASH_MAX; a++) {
			const struct vouch_hash_info *hi = vouch_hash_info(a);

			if (hi && strlen(hi->name) == n && !strncmp(hi->name, s, n))
				found = a;
		}
		if (found < 0)
			return perr(st, "bad-value",
				    "unknown algorithm '%.*s' in appraise_algos (kernel names: "
				    "sha256, sha384, sha512, ...)",
				    (int)n, s);
		bits |= (uint64_t)1 << found;
		if (!comma)
			break;
		s = comma + 1;
	}
	*ret = bits;
	return 0;
}

static int set_str(struct parse_state *st, char **dst, const char *val)
{
	char *s = mem_strdup(val);

	(void)st;
	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

/* One token of a rule: the kernel's switch in ima_parse_rule(). */
static int parse_token(struct parse_state *st, struct policy_rule *r, char *tok)
{
	size_t klen = strcspn(tok, "=<>");
	const char *val;
	char op;
	int kind = -1, arg = 0;

	if (tok[klen] == '\0') {
		for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
			if (strcmp(tok, actions[i].name) != 0)
				continue;
			if (r->action)
				return perr(st, "two-actions",
					    "second action '%s' in one rule (already '%s')", tok,
					    policy_action_name(r->action));
			r->action = actions[i].action;
			return 0;
		}
		if (!strcmp(tok, "permit_directio")) {
			r->flags |= RF_DIRECTIO;
			return 0;
		}
		if (tok[0] == '#')
			return perr(st, "unknown-token",
				    "unknown token '%s' (a comment must start the line)", tok);
		if (tok[0] == '/')
			return perr(st, "unknown-token",
				    "unknown token '%s' (a policy file path can only be written "
				    "alone, not inside a policy)",
				    tok);
		return perr(st, "unknown-token", "unknown token '%s'", tok);
	}
	op = tok[klen];
	val = tok + klen + 1;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strlen(keys[i].key) != klen || strncmp(keys[i].key, tok, klen) != 0)
			continue;
		if (!strchr(keys[i].ops, op))
			return perr(st, "unknown-token", "unknown token '%s' ('%.*s' takes only '=')",
				    tok, (int)klen, tok);
		kind = (int)keys[i].kind;
		arg = keys[i].arg;
	}
	if (kind < 0)
		return perr(st, "unknown-token", "unknown token '%s'", tok);
	if (!*val)
		return perr(st, "unknown-token", "missing value in '%s'", tok);

	switch (kind) {
	case T_FUNC: {
		int f;

		if (r->func)
			return perr(st, "repeated", "func given twice in one rule");
		f = vouch_policy_func_by_name(val);
		if (f < 0) {
			if (!strcmp(val, "MMAP_CHECK_REQPROT"))
				return perr(st, "bad-value",
					    "func=MMAP_CHECK_REQPROT does not exist before Linux 6.4");
			return perr(st, "bad-value", "unknown func '%s'", val);
		}
		r->func = f;
		r->flags |= RF_FUNC;
		return 0;
	}
	case T_MASK: {
		const char *m = val[0] == '^' ? val + 1 : val;

		if (r->mask)
			return perr(st, "repeated", "mask given twice in one rule");
		for (size_t i = 0; i < ARRAY_SIZE(mask_names); i++) {
			if (strcmp(m, mask_names[i].name) != 0)
				continue;
			r->mask = mask_names[i].bit;
			r->flags |= val[0] == '^' ? RF_INMASK : RF_MASK;
			return 0;
		}
		return perr(st, "bad-value",
			    "unknown mask '%s' (MAY_EXEC, MAY_WRITE, MAY_READ, MAY_APPEND, "
			    "optionally with a '^' prefix)",
			    val);
	}
	case T_FSMAGIC: {
		uint64_t v;

		/* the kernel tests the value, so a repeated fsmagic=0 slips through */
		if (r->fsmagic)
			return perr(st, "repeated", "fsmagic given twice in one rule");
		if (kstrtoull(val, 16, &v) < 0)
			return perr(st, "bad-value", "invalid fsmagic '%s' (hexadecimal)", val);
		r->fsmagic = v;
		r->flags |= RF_FSMAGIC;
		return 0;
	}
	case T_FSNAME:
		r->flags |= RF_FSNAME; /* may repeat: the last one wins */
		return set_str(st, &r->fsname, val);
	case T_FSUUID:
		if (r->flags & RF_FSUUID)
			return perr(st, "repeated", "fsuuid given twice in one rule");
		if (parse_uuid(val, r->fsuuid) < 0)
			return perr(st, "bad-value",
				    "invalid fsuuid '%s' (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", val);
		r->flags |= RF_FSUUID;
		return 0;
	case T_UID:
	case T_EUID:
		if (r->flags & (RF_UID | RF_EUID))
			return perr(st, "uid-slot",
				    "uid and euid share one slot: at most one of uid=, uid<, uid>, "
				    "euid=, euid<, euid> per rule");
		if (parse_id(st, kind == T_UID ? "uid" : "euid", val, &r->uid) < 0)
			return -EBADMSG;
		r->uid_op = op;
		r->flags |= kind == T_UID ? RF_UID : RF_EUID;
		return 0;
	case T_GID:
	case T_EGID:
		if (r->flags & (RF_GID | RF_EGID))
			return perr(st, "gid-slot",
				    "gid and egid share one slot: at most one of gid=, gid<, gid>, "
				    "egid=, egid<, egid> per rule");
		if (parse_id(st, kind == T_GID ? "gid" : "egid", val, &r->gid) < 0)
			return -EBADMSG;
		r->gid_op = op;
		r->flags |= kind == T_GID ? RF_GID : RF_EGID;
		return 0;
	case T_FOWNER:
		if (r->flags & RF_FOWNER)
			return perr(st, "repeated", "fowner given twice in one rule");
		if (parse_id(st, "fowner", val, &r->fowner) < 0)
			return -EBADMSG;
		r->fowner_op = op;
		r->flags |= RF_FOWNER;
		return 0;
	case T_FGROUP:
		if (r->flags & RF_FGROUP)
			return perr(st, "repeated", "fgroup given twice in one rule");
		if (parse_id(st, "fgroup", val, &r->fgroup) < 0)
			return -EBADMSG;
		r->fgroup_op = op;
		r->flags |= RF_FGROUP;
		return 0;
	case T_LSM:
		if (r->lsm[arg])
			return perr(st, "repeated", "%s given twice in one rule", lsm_names[arg]);
		if (st->flags & VOUCH_POLICY_PARSE_BUILTIN)
			return perr(st, "lsm", "%s needs an LSM, refused in a built-in policy",
				    lsm_names[arg]);
		return set_str(st, &r->lsm[arg], val);
	case T_KEYRINGS:
		if (r->keyrings)
			return perr(st, "repeated", "keyrings given twice in one rule");
		if (check_list(st, "keyrings", val) < 0)
			return -EBADMSG;
		r->flags |= RF_KEYRINGS;
		return set_str(st, &r->keyrings, val);
	case T_LABEL:
		if (r->label)
			return perr(st, "repeated", "label given twice in one rule");
		if (check_list(st, "label", val) < 0)
			return -EBADMSG;
		r->flags |= RF_LABEL;
		return set_str(st, &r->label, val);
	case T_APPRAISE_TYPE:
		if (!strcmp(val, "sigv3")) {
			if (!(r->flags & RF_VERITY))
				return perr(st, "order",
					    "appraise_type=sigv3 needs digest_type=verity before it "
					    "in the same rule");
			r->flags |= RF_DIGSIG;
		} else if (!strcmp(val, "imasig")) {
			r->flags |= RF_DIGSIG;
		} else if (!strcmp(val, "imasig|modsig")) {
			if (st->flags & VOUCH_POLICY_PARSE_NO_MODSIG)
				return perr(st, "no-modsig",
					    "appraise_type=imasig|modsig needs "
					    "CONFIG_IMA_APPRAISE_MODSIG");
			r->flags |= RF_DIGSIG | RF_MODSIG;
		} else {
			return perr(st, "bad-value",
				    "unknown appraise_type '%s' (imasig, imasig|modsig, sigv3)", val);
		}
		return 0;
	case T_APPRAISE_FLAG:
		if ((st->flags & VOUCH_POLICY_PARSE_NO_MODSIG) || !strstr(val, "blacklist"))
			return perr(st, "bad-value",
				    "unknown appraise_flag '%s' (check_blacklist, with modsig support)",
				    val);
		r->flags |= RF_BLACKLIST;
		return 0;
	case T_APPRAISE_ALGOS:
		if (r->flags & RF_ALGOS)
			return perr(st, "repeated", "appraise_algos given twice in one rule");
		if (parse_algos(st, val, &r->algos) < 0)
			return -EBADMSG;
		r->flags |= RF_ALGOS;
		return 0;
	case T_DIGEST_TYPE:
		if (r->flags & RF_DIGSIG)
			return perr(st, "order",
				    "digest_type= after appraise_type=: digest_type=verity must come "
				    "first");
		if (strcmp(val, "verity") != 0)
			return perr(st, "bad-value", "unknown digest_type '%s' (verity)", val);
		r->flags |= RF_VERITY;
		return 0;
	case T_TEMPLATE:
		if (r->action != VOUCH_ACT_MEASURE)
			return perr(st, "order",
				    "template= is only accepted after the measure action");
		if (r->template_name)
			return perr(st, "repeated", "template given twice in one rule");
		if (!template_known(val)) {
			if (!strcmp(val, "ima-sigv3"))
				return perr(st, "bad-value",
					    "template 'ima-sigv3' does not exist (the ABI document "
					    "names it; use ima-sigv2 or ima-sig)");
			return perr(st, "bad-value", "unknown template '%s'", val);
		}
		r->flags |= RF_TEMPLATE;
		return set_str(st, &r->template_name, val);
	case T_PCR: {
		uint64_t v;
		const char *s = val;

		if (*s == '-')
			return perr(st, "bad-value", "invalid pcr '%s' (0 to 63)", val);
		if (kstrtoull(s, 10, &v) < 0 || v > 63)
			return perr(st, "bad-value", "invalid pcr '%s' (0 to 63)", val);
		r->pcr = (int)v;
		r->flags |= RF_PCR;
		return 0;
	}
	}
	return perr(st, "unknown-token", "unknown token '%s'", tok);
}

#define COND_FILE                                                                                  \
	(RF_FUNC | RF_MASK | RF_INMASK | RF_FSMAGIC | RF_FSNAME | RF_FSUUID | RF_UID | RF_EUID |   \
	 RF_GID | RF_EGID | RF_FOWNER | RF_FGROUP | RF_PCR | RF_LSM | RF_TEMPLATE)

static bool rule_has_lsm(const struct policy_rule *r)
{
	for (int i = 0; i < POLICY_LSM_N; i++)
		if (r->lsm[i])
			return true;
	return false;
}

static const char *flag_token(uint32_t f)
{
	static const struct {
		uint32_t f;
		const char *name;
	} names[] = {
		{ RF_MASK, "mask=" },
		{ RF_INMASK, "mask=" },
		{ RF_FSMAGIC, "fsmagic=" },
		{ RF_FSNAME, "fsname=" },
		{ RF_FSUUID, "fsuuid=" },
		{ RF_UID, "uid" },
		{ RF_EUID, "euid" },
		{ RF_GID, "gid" },
		{ RF_EGID, "egid" },
		{ RF_FOWNER, "fowner" },
		{ RF_FGROUP, "fgroup" },
		{ RF_PCR, "pcr=" },
		{ RF_LSM, "LSM conditions" },
		{ RF_KEYRINGS, "keyrings=" },
		{ RF_LABEL, "label=" },
		{ RF_DIGSIG, "appraise_type=" },
		{ RF_MODSIG, "appraise_type=imasig|modsig" },
		{ RF_BLACKLIST, "appraise_flag=" },
		{ RF_VERITY, "digest_type=verity" },
		{ RF_DIRECTIO, "permit_directio" },
		{ RF_ALGOS, "appraise_algos=" },
		{ RF_TEMPLATE, "template=" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (f & names[i].f)
			return names[i].name;
	return "option";
}

/* ima_validate_rule(): which actions, conditions and options go with which func. */
static int validate_rule(struct parse_state *st, struct policy_rule *r)
{
	uint32_t flags = r->flags | (rule_has_lsm(r) ? RF_LSM : 0);
	uint32_t allowed, bad;
	const char *fname = r->func ? func_names[r->func] : "(no func)";

	if (!r->action)
		return perr(st, "no-action", "rule has no action (measure, dont_measure, appraise, "
					     "dont_appraise, audit, hash, dont_hash)");
	if (r->action != VOUCH_ACT_MEASURE && (flags & RF_PCR))
		return perr(st, "option-action", "pcr= is only valid with measure");
	if (r->action != VOUCH_ACT_APPRAISE &&
	    (flags & (RF_DIGSIG | RF_MODSIG | RF_BLACKLIST | RF_ALGOS)))
		return perr(st, "option-action", "%s is only valid with appraise",
			    flag_token(flags & (RF_DIGSIG | RF_MODSIG | RF_BLACKLIST | RF_ALGOS)));

	switch (r->func) {
	case VOUCH_FUNC_NONE:
	case VOUCH_FUNC_FILE_CHECK:
	case VOUCH_FUNC_MMAP_CHECK:
	case VOUCH_FUNC_BPRM_CHECK:
	case VOUCH_FUNC_CREDS_CHECK:
	case VOUCH_FUNC_POST_SETATTR:
	case VOUCH_FUNC_FIRMWARE_CHECK:
	case VOUCH_FUNC_POLICY_CHECK:
		allowed = COND_FILE | RF_DIGSIG | RF_DIRECTIO | RF_ALGOS | RF_VERITY;
		break;
	case VOUCH_FUNC_MODULE_CHECK:
	case VOUCH_FUNC_KEXEC_KERNEL_CHECK:
	case VOUCH_FUNC_KEXEC_INITRAMFS_CHECK:
		allowed = COND_FILE | RF_DIGSIG | RF_DIRECTIO | RF_ALGOS | RF_MODSIG | RF_BLACKLIST;
		break;
	case VOUCH_FUNC_KEXEC_CMDLINE:
		if (r->action & ~(VOUCH_ACT_MEASURE | VOUCH_ACT_DONT_MEASURE))
			return perr(st, "func-action", "func=KEXEC_CMDLINE allows only measure and "
						       "dont_measure");
		allowed = RF_FUNC | RF_FSMAGIC | RF_FSNAME | RF_FSUUID | RF_UID | RF_EUID | RF_GID |
			  RF_EGID | RF_FOWNER | RF_FGROUP | RF_PCR | RF_LSM | RF_TEMPLATE;
		break;
	case VOUCH_FUNC_KEY_CHECK:
	case VOUCH_FUNC_CRITICAL_DATA:
		if (r->action & ~(VOUCH_ACT_MEASURE | VOUCH_ACT_DONT_MEASURE))
			return perr(st, "func-action", "func=%s allows only measure and dont_measure",
				    fname);
		allowed = RF_FUNC | RF_UID | RF_GID | RF_PCR | RF_TEMPLATE |
			  (r->func == VOUCH_FUNC_KEY_CHECK ? RF_KEYRINGS : RF_LABEL);
		break;
	case VOUCH_FUNC_SETXATTR_CHECK:
		if (r->action != VOUCH_ACT_APPRAISE)
			return perr(st, "func-action", "func=SETXATTR_CHECK allows only appraise");
		if (!(flags & RF_ALGOS))
			return perr(st, "missing", "func=SETXATTR_CHECK needs appraise_algos=");
		allowed = RF_FUNC | RF_ALGOS;
		break;
	default:
		return perr(st, "bad-value", "func not valid in a policy");
	}
	bad = flags & ~allowed;
	if (bad)
		return perr(st, "func-option", "%s is not valid with %s", flag_token(bad), fname);
	if ((flags & RF_BLACKLIST) && !(flags & RF_MODSIG))
		return perr(st, "option-action",
			    "appraise_flag=check_blacklist needs appraise_type=imasig|modsig");
	if (r->action == VOUCH_ACT_APPRAISE && (flags & RF_VERITY) && !(flags & RF_DIGSIG))
		return perr(st, "option-action",
			    "appraise with digest_type=verity needs appraise_type=sigv3");
	return 0;
}

/* Tokenise one line (modified in place) into @r; @line0 is the start for columns. */
static int parse_line(struct parse_state *st, char *line, const char *line0, struct policy_rule *r)
{
	char *p = line;

	for (;;) {
		char *tok;
		int ret;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		tok = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
		st->column = (unsigned)(tok - line0) + 1;
		ret = parse_token(st, r, tok);
		if (ret < 0)
			return ret;
	}
	st->column = 0;
	return validate_rule(st, r);
}

static int policy_push(vouch_policy *p, struct policy_rule *r)
{
	struct policy_rule *n;

	if (p->n_rules >= POLICY_MAX_RULES)
		return -E2BIG;
	n = mem_reallocarray(p->rules, p->n_rules + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	p->rules = n;
	p->rules[p->n_rules++] = *r;
	memset(r, 0, sizeof(*r));
	return 0;
}

static int policy_analyse(vouch_policy *p);

static int parse_text(vouch_ctx *ctx, const char *text, size_t len, uint32_t flags,
		      vouch_policy *p, struct vouch_policy_diag *ret_error)
{
	struct parse_state st = { .ctx = ctx, .flags = flags };
	size_t off = 0;
	unsigned lineno = 0;
	int r = 0;

	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
		_cleanup_free_ char *line = NULL;
		struct policy_rule rule = { 0 };
		const char *s;

		lineno++;
		st.line = lineno;
		st.column = 0;
		if (memchr(text + off, '\0', n)) {
			r = perr(&st, "nul", "NUL byte in the policy text");
			goto fail;
		}
		/*
		 * The kernel parses one write() of at most PAGE_SIZE - 1 bytes: a longer rule is
		 * cut in two and its first part parsed as a rule.  Trailing blanks do not count:
		 * cut off, they leave the rule whole (and the kernel's own policy listing, which
		 * vouch_policy_format() follows, ends every rule with a space).
		 */
		{
			size_t m = n;

			while (m > 0 && (text[off + m - 1] == ' ' || text[off + m - 1] == '\t'))
				m--;
			if (m > POLICY_MAX_LINE) {
				r = perr(&st, "too-long",
					 "line is %zu bytes; one policy write is at most %d bytes", m,
					 POLICY_MAX_LINE);
				goto fail;
			}
		}
		line = mem_alloc(n + 1);
		if (!line)
			return -ENOMEM;
		memcpy(line, text + off, n);
		line[n] = '\0';
		off += n + (nl ? 1 : 0);

		s = line + strspn(line, " \t");
		if (*s == '#' || *s == '\0')
			continue;
		if (strchr(s, '\r')) {
			st.column = (unsigned)(strchr(s, '\r') - line) + 1;
			r = perr(&st, "carriage-return",
				 "carriage return in the rule (DOS line endings are not accepted)");
			goto fail;
		}
		rule.line = lineno;
		r = parse_line(&st, line, line, &rule);
		if (r < 0) {
			rule_clear(&rule);
			if (r != -EBADMSG)
				return r;
			goto fail;
		}
		r = policy_push(p, &rule);
		if (r < 0) {
			rule_clear(&rule);
			if (r == -E2BIG) {
				r = perr(&st, "too-many", "more than %d rules", POLICY_MAX_RULES);
				goto fail;
			}
			return r;
		}
	}
	return 0;
fail:
	if (st.column)
		ctx_err(ctx, -EBADMSG, "line %u, column %u: %s", st.line, st.column, st.msg);
	else
		ctx_err(ctx, -EBADMSG, "line %u: %s", st.line, st.msg);
	if (ret_error) {
		const char *m = vouch_ctx_last_error(ctx), *colon = strstr(m, ": ");

		ret_error->line = st.line;
		ret_error->column = st.column;
		ret_error->rule = 0;
		ret_error->code = st.code;
		ret_error->message = colon ? colon + 2 : m;
	}
	return -EBADMSG;
}

VOUCH_EXPORT int vouch_policy_parse(vouch_ctx *ctx, const char *text, size_t len,
				    const struct vouch_policy_parse_options *opts,
				    vouch_policy **ret_policy, struct vouch_policy_diag *ret_error)
{
	struct vouch_policy_parse_options def = VOUCH_POLICY_PARSE_OPTIONS_INIT;
	vouch_policy *p;
	int r;

	if (!ctx || (!text && len) || !ret_policy)
		return -EINVAL;
	if (!opts)
		opts = &def;
	if (opts->version != 1)
		return ctx_err(ctx, -EINVAL, "unsupported policy parse options version %u",
			       opts->version);
	for (size_t i = 0; i < ARRAY_SIZE(opts->reserved); i++)
		if (opts->reserved[i])
			return ctx_err(ctx, -EINVAL, "reserved policy parse option set");
	if (opts->flags & ~(VOUCH_POLICY_PARSE_BUILTIN | VOUCH_POLICY_PARSE_NO_MODSIG))
		return ctx_err(ctx, -EINVAL, "unknown policy parse flags 0x%x", opts->flags);
	if (len > POLICY_MAX_TEXT)
		return ctx_err(ctx, -EFBIG, "policy text is too large (%zu bytes)", len);
	p = mem_zalloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = parse_text(ctx, text ? text : "", len, opts->flags, p, ret_error);
	if (r == 0)
		r = policy_analyse(p);
	if (r < 0) {
		if (r == -ENOMEM)
			ctx_err(ctx, r, "cannot parse policy: out of memory");
		vouch_policy_free(p);
		return r;
	}
	*ret_policy = p;
	return 0;
}

/* ---------------------------------------------------------------- built-ins (§8.7) */

static const char builtin_dont_measure[] =
	"dont_measure fsmagic=0x9fa0\n"
	"dont_measure fsmagic=0x62656572\n"
	"dont_measure fsmagic=0x64626720\n"
	"dont_measure fsmagic=0x1021994\n"
	"dont_measure fsmagic=0x1cd1\n"
	"dont_measure fsmagic=0x42494e4d\n"
	"dont_measure fsmagic=0x73636673\n"
	"dont_measure fsmagic=0xf97cff8c\n"
	"dont_measure fsmagic=0x43415d53\n"
	"dont_measure fsmagic=0x27e0eb\n"
	"dont_measure fsmagic=0x63677270\n"
	"dont_measure fsmagic=0x6e736673\n"
	"dont_measure fsmagic=0xde5e81e4\n";

static const char builtin_original_tcb[] = "measure func=MMAP_CHECK mask=MAY_EXEC\n"
					   "measure func=BPRM_CHECK mask=MAY_EXEC\n"
					   "measure func=FILE_CHECK mask=MAY_READ uid=0\n"
					   "measure func=MODULE_CHECK\n"
					   "measure func=FIRMWARE_CHECK\n";

static const char builtin_default_tcb[] = "measure func=MMAP_CHECK mask=MAY_EXEC\n"
					  "measure func=BPRM_CHECK mask=MAY_EXEC\n"
					  "measure func=FILE_CHECK mask=^MAY_READ euid=0\n"
					  "measure func=FILE_CHECK mask=^MAY_READ uid=0\n"
					  "measure func=MODULE_CHECK\n"
					  "measure func=FIRMWARE_CHECK\n"
					  "measure func=POLICY_CHECK\n";

static const char builtin_secure_boot[] = "appraise func=MODULE_CHECK appraise_type=imasig\n"
					  "appraise func=FIRMWARE_CHECK appraise_type=imasig\n"
					  "appraise func=KEXEC_KERNEL_CHECK appraise_type=imasig\n"
					  "appraise func=POLICY_CHECK appraise_type=imasig\n";

/* CONFIG_IMA_WRITE_POLICY=y, CONFIG_IMA_APPRAISE_SIGNED_INIT=n */
static const char builtin_appraise_tcb[] = "dont_appraise fsmagic=0x9fa0\n"
					   "dont_appraise fsmagic=0x62656572\n"
					   "dont_appraise fsmagic=0x64626720\n"
					   "dont_appraise fsmagic=0x1021994\n"
					   "dont_appraise fsmagic=0x858458f6\n"
					   "dont_appraise fsmagic=0x1cd1\n"
					   "dont_appraise fsmagic=0x42494e4d\n"
					   "dont_appraise fsmagic=0x73636673\n"
					   "dont_appraise fsmagic=0xf97cff8c\n"
					   "dont_appraise fsmagic=0x43415d53\n"
					   "dont_appraise fsmagic=0x6e736673\n"
					   "dont_appraise fsmagic=0xde5e81e4\n"
					   "dont_appraise fsmagic=0x27e0eb\n"
					   "dont_appraise fsmagic=0x63677270\n"
					   "appraise func=POLICY_CHECK appraise_type=imasig\n"
					   "appraise fowner=0\n";

static const char builtin_critical_data[] = "measure func=CRITICAL_DATA\n";

VOUCH_EXPORT int vouch_policy_builtin(vouch_ctx *ctx, const char *names, vouch_policy **ret)
{
	bool tcb = false, original = false, appraise = false, secure = false, fail = false,
	     critical = false;
	struct vouch_policy_parse_options o = VOUCH_POLICY_PARSE_OPTIONS_INIT;
	_cleanup_free_ char *copy = NULL;
	struct textbuf text = { 0 };
	vouch_policy *p = NULL;
	char *s;
	int r;

	if (!ctx || !names || !ret)
		return -EINVAL;
	copy = mem_strdup(names);
	if (!copy)
		return -ENOMEM;
	s = copy;
	while (*s) {
		size_t n = strcspn(s, " |");
		char save = s[n];

		s[n] = '\0';
		if (n == 0)
			;
		else if (!strcmp(s, "tcb"))
			tcb = true;
		else if (!strcmp(s, "ima_tcb"))
			original = true;
		else if (!strcmp(s, "appraise_tcb") || !strcmp(s, "ima_appraise_tcb"))
			appraise = true;
		else if (!strcmp(s, "secure_boot"))
			secure = true;
		else if (!strcmp(s, "fail_securely"))
			fail = true;
		else if (!strcmp(s, "critical_data"))
			critical = true;
		else
			return ctx_err(ctx, -EINVAL,
				       "unknown built-in policy '%s' (tcb, appraise_tcb, secure_boot, "
				       "fail_securely, critical_data, ima_tcb, ima_appraise_tcb)",
				       s);
		s += n;
		if (save)
			s++;
	}
	/* ima_init_policy(): the order the kernel inserts the rules */
	if (tcb || original)
		tb_add(&text, builtin_dont_measure, strlen(builtin_dont_measure));
	if (original)
		tb_add(&text, builtin_original_tcb, strlen(builtin_original_tcb));
	else if (tcb)
		tb_add(&text, builtin_default_tcb, strlen(builtin_default_tcb));
	if (secure)
		tb_add(&text, builtin_secure_boot, strlen(builtin_secure_boot));
	if (appraise)
		tb_add(&text, builtin_appraise_tcb, strlen(builtin_appraise_tcb));
	if (critical)
		tb_add(&text, builtin_critical_data, strlen(builtin_critical_data));
	if (text.oom) {
		tb_free(&text);
		return -ENOMEM;
	}
	o.flags = VOUCH_POLICY_PARSE_BUILTIN;
	r = vouch_policy_parse(ctx, text.s, text.len, &o, &p, NULL);
	tb_free(&text);
	if (r < 0)
		return r;
	p->fail_securely = fail;
	*ret = p;
	return 0;
}

/* ---------------------------------------------------------------- printer */

static void print_id(struct textbuf *b, const char *key, char op, uint32_t v)
{
	tb_printf(b, "%s%c%u ", key, op, v);
}

static int format_rule(const struct policy_rule *r, struct textbuf *b)
{
	tb_printf(b, "%s ", policy_action_name(r->action));
	if (r->flags & RF_FUNC)
		tb_printf(b, "func=%s ", func_names[r->func]);
	if (r->flags & (RF_MASK | RF_INMASK)) {
		for (size_t i = 0; i < ARRAY_SIZE(mask_names); i++)
			if (mask_names[i].bit == r->mask)
				tb_printf(b, "mask=%s%s ", (r->flags & RF_INMASK) ? "^" : "",
					  mask_names[i].name);
	}
	if (r->flags & RF_FSMAGIC)
		tb_printf(b, "fsmagic=0x%llx ", (unsigned long long)r->fsmagic);
	if (r->flags & RF_FSNAME) {
		tb_add(b, "fsname=", 7);
		tb_add(b, r->fsname, strlen(r->fsname));
		tb_add(b, " ", 1);
	}
	if (r->flags & RF_KEYRINGS) {
		tb_add(b, "keyrings=", 9);
		tb_add(b, r->keyrings, strlen(r->keyrings));
		tb_add(b, " ", 1);
	}
	if (r->flags & RF_LABEL) {
		tb_add(b, "label=", 6);
		tb_add(b, r->label, strlen(r->label));
		tb_add(b, " ", 1);
	}
	if (r->flags & RF_PCR)
		tb_printf(b, "pcr=%d ", r->pcr);
	if (r->flags & RF_FSUUID) {
		const uint8_t *u = r->fsuuid;

		tb_printf(b,
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

		tb_add(b, "appraise_algos=", 15);
		for (int a = 0; a < _VOUCH_HASH_MAX; a++) {
			if (!(r->algos & ((uint64_t)1 << a)))
				continue;
			tb_printf(b, "%s%s", first ? "" : ",", vouch_hash_info(a)->name);
			first = false;
		}
		tb_add(b, " ", 1);
	}
	for (int i = 0; i < POLICY_LSM_N; i++) {
		if (!r->lsm[i])
			continue;
		tb_printf(b, "%s=", lsm_names[i]);
		tb_add(b, r->lsm[i], strlen(r->lsm[i]));
		tb_add(b, " ", 1);
	}
	if (r->template_name) {
		tb_add(b, "template=", 9);
		tb_add(b, r->template_name, strlen(r->template_name));
		tb_add(b, " ", 1);
	}
	/* verity before sigv3 so that the output parses again (the kernel prints it after) */
	if (r->flags & RF_VERITY)
		tb_add(b, "digest_type=verity ", 19);
	if (r->flags & RF_DIGSIG) {
		if (r->flags & RF_VERITY)
			tb_add(b, "appraise_type=sigv3 ", 20);
		else if (r->flags & RF_MODSIG)
			tb_add(b, "appraise_type=imasig|modsig ", 28);
		else
			tb_add(b, "appraise_type=imasig ", 21);
	}
	if (r->flags & RF_BLACKLIST)
		tb_add(b, "appraise_flag=check_blacklist ", 30);
	if (r->flags & RF_DIRECTIO)
		tb_add(b, "permit_directio ", 16);
	return b->oom ? -ENOMEM : 0;
}

int policy_format_rule_sb(const vouch_policy *p, size_t index, struct textbuf *b)
{
	return format_rule(&p->rules[index], b);
}

VOUCH_EXPORT int vouch_policy_format_rule(const vouch_policy *p, size_t index, char **ret)
{
	struct textbuf b = { 0 };

	if (!p || !ret)
		return -EINVAL;
	if (index >= p->n_rules)
		return -ERANGE;
	if (format_rule(&p->rules[index], &b) < 0) {
		tb_free(&b);
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
	struct textbuf b = { 0 };

	if (!p || !ret)
		return -EINVAL;
	tb_add(&b, "", 0);
	for (size_t i = 0; i < p->n_rules; i++) {
		format_rule(&p->rules[i], &b);
		tb_add(&b, "\n", 1);
	}
	if (b.oom) {
		tb_free(&b);
		return -ENOMEM;
	}
	*ret = b.s;
	return 0;
}

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
	if (r->flags & RF_EUID) {
		if (q->cap_setuid) {
			if (!id_op(r->uid_op, q->euid, r->uid) && !id_op(r->uid_op, q->suid, r->uid) &&
			    !id_op(r->uid_op, q->uid, r->uid))
				return false;
		} else if (!id_op(r->uid_op, q->euid, r->uid)) {
			return false;
		}
	}
	if ((r->flags & RF_GID) && !id_op(r->gid_op, q->gid, r->gid))
		return false;
	if (r->flags & RF_EGID) {
		if (q->cap_setgid) {
			if (!id_op(r->gid_op, q->egid, r->gid) && !id_op(r->gid_op, q->sgid, r->gid) &&
			    !id_op(r->gid_op, q->gid, r->gid))
				return false;
		} else if (!id_op(r->gid_op, q->egid, r->gid)) {
			return false;
		}
	}
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
	uint32_t f = 0;

	if (r->flags & RF_DIGSIG)
		f |= VOUCH_APPRAISE_IMASIG;
	if (r->flags & RF_MODSIG)
		f |= VOUCH_APPRAISE_MODSIG;
	if (r->flags & RF_VERITY)
		f |= VOUCH_APPRAISE_VERITY;
	if (r->flags & RF_BLACKLIST)
		f |= VOUCH_APPRAISE_BLACKLIST;
	if (r->flags & RF_DIRECTIO)
		f |= VOUCH_APPRAISE_DIRECTIO;
	if (r->flags & RF_ALGOS)
		f |= VOUCH_APPRAISE_ALGOS;
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
	for (size_t i = 0; i < ARRAY_SIZE(q->reserved); i++)
		if (q->reserved[i])
			return -EINVAL;
	open = q->actions ? q->actions : VOUCH_ACT_CLASSES;
	for (size_t i = 0; i < p->n_rules && open; i++) {
		const struct policy_rule *r = &p->rules[i];
		uint32_t cls = r->action & VOUCH_ACT_CLASSES ? r->action : r->action >> 1;

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

static const char *class_name(uint32_t cls)
{
	switch (cls) {
	case VOUCH_ACT_MEASURE:
		return "measure";
	case VOUCH_ACT_APPRAISE:
		return "appraise";
	case VOUCH_ACT_AUDIT:
		return "audit";
	default:
		return "hash";
	}
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

static int policy_analyse(vouch_policy *p)
{
	bool setxattr_seen = false;
	int r = 0;

	for (size_t j = 0; j < p->n_rules && r == 0; j++) {
		const struct policy_rule *b = &p->rules[j];
		uint32_t bcls = b->action & VOUCH_ACT_CLASSES ? b->action : b->action >> 1;
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
					       func_names[b->func]);
		if (rule_has_lsm(b))
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
			uint32_t acls = a->action & VOUCH_ACT_CLASSES ? a->action : a->action >> 1;

			if (acls != bcls || never_matches(a) || !rule_covers(a, b))
				continue;
			r = policy_add_warning(
				p, b->line, 0, n, "shadowed",
				"rule %u (%s) never decides: rule %zu on line %u (%s) matches every "
				"request it matches first for the %s class",
				n, policy_action_name(b->action), i + 1, a->line,
				policy_action_name(a->action), class_name(bcls));
			break;
		}
	}
	return r;
}

bool policy_has_appraise(const vouch_policy *p, int func)
{
	if (!p)
		return false;
	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].action == VOUCH_ACT_APPRAISE && p->rules[i].func == func)
			return true;
	return false;
}

const char *policy_template_fmt(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(templates); i++)
		if (!strcmp(name, templates[i].name))
			return templates[i].fmt;
	return NULL;
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
	static const char *const lsm_keys[POLICY_LSM_N] = { "obj_user",	 "obj_role",  "obj_type",
							    "subj_user", "subj_role", "subj_type" };
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
				what = lsm_keys[k];
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
