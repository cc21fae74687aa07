// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The IMA policy parser of Linux 6.1 (ima_parse_rule + ima_validate_rule): a table of keys,
 * each with the handler that parses its value into the rule.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>
#include <strings.h>

#include "internal.h"
#include "log-internal.h"
#include "policy-internal.h"

#define POLICY_MAX_TEXT ((size_t)16 << 20)
#define POLICY_MAX_LINE 4095 /* one write() to securityfs is at most PAGE_SIZE - 1 */
#define POLICY_MAX_RULES 65536

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

/* ---------------------------------------------------------------- parser */

/* A key of the policy language: its operators, its handler, the flag it sets. */
struct parse_state;
struct key_def {
	const char *key;
	const char *ops; /* operators allowed ('=' '<' '>') */
	int (*parse)(struct parse_state *st, struct policy_rule *r, const char *val);
	uint32_t flag; /* RF_* it sets */
	uint32_t slot; /* RF_* already set: the key is given twice (uid and euid share one) */
	size_t field, op_field; /* offsetof() its value and operator, for the shared handlers */
	int arg; /* the LSM condition's index; for strings, whether it is an "a|b" list */
	const char *slot_code, *slot_msg; /* for a slot two keys share */
};

struct parse_state {
	vouch_ctx *ctx;
	uint32_t flags;
	unsigned line;
	unsigned column;
	const char *code;
	char msg[320];
	/* the token being parsed: its key's entry and its operator */
	const struct key_def *key;
	char op;
};

static PRINTF_FMT(3, 4) int perr(struct parse_state *st, const char *code, const char *fmt, ...)
{
	va_list ap;

	st->code = code;
	va_start(ap, fmt);
	vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
	va_end(ap);
	return -EBADMSG;
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

	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}


/* ---------------------------------------------------------------- the keys */

static int key_func(struct parse_state *st, struct policy_rule *r, const char *val)
{
	int f = vouch_policy_func_by_name(val);

	if (f < 0) {
		if (!strcmp(val, "MMAP_CHECK_REQPROT"))
			return perr(st, "bad-value",
				    "func=MMAP_CHECK_REQPROT does not exist before Linux 6.4");
		return perr(st, "bad-value", "unknown func '%s'", val);
	}
	r->func = f;
	return 0;
}

static int key_mask(struct parse_state *st, struct policy_rule *r, const char *val)
{
	uint32_t bit = policy_mask_by_name(val[0] == '^' ? val + 1 : val);

	if (!bit)
		return perr(st, "bad-value",
			    "unknown mask '%s' (MAY_EXEC, MAY_WRITE, MAY_READ, MAY_APPEND, "
			    "optionally with a '^' prefix)",
			    val);
	r->mask = bit;
	r->flags |= val[0] == '^' ? RF_INMASK : RF_MASK;
	return 0;
}

static int key_fsmagic(struct parse_state *st, struct policy_rule *r, const char *val)
{
	uint64_t v;

	/* the kernel tests the value, so a repeated fsmagic=0 slips through */
	if (r->fsmagic)
		return perr(st, "repeated", "fsmagic given twice in one rule");
	if (kstrtoull(val, 16, &v) < 0)
		return perr(st, "bad-value", "invalid fsmagic '%s' (hexadecimal)", val);
	r->fsmagic = v;
	return 0;
}

static int key_fsuuid(struct parse_state *st, struct policy_rule *r, const char *val)
{
	if (parse_uuid(val, r->fsuuid) < 0)
		return perr(st, "bad-value",
			    "invalid fsuuid '%s' (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", val);
	return 0;
}

/* uid, euid, gid, egid, fowner, fgroup: the id and its operator at the key's offsets */
static int key_id(struct parse_state *st, struct policy_rule *r, const char *val)
{
	if (parse_id(st, st->key->key, val, (uint32_t *)((char *)r + st->key->field)) < 0)
		return -EBADMSG;
	*((char *)r + st->key->op_field) = st->op;
	return 0;
}

/* fsname, keyrings, label: a string ("a|b" lists for the last two) at the key's offset */
static int key_string(struct parse_state *st, struct policy_rule *r, const char *val)
{
	if (st->key->arg && check_list(st, st->key->key, val) < 0)
		return -EBADMSG;
	return set_str(st, (char **)((char *)r + st->key->field), val);
}

static int key_lsm(struct parse_state *st, struct policy_rule *r, const char *val)
{
	int i = st->key->arg;

	if (r->lsm[i])
		return perr(st, "repeated", "%s given twice in one rule", policy_lsm_names[i]);
	if (st->flags & VOUCH_POLICY_PARSE_BUILTIN)
		return perr(st, "lsm", "%s needs an LSM, refused in a built-in policy",
			    policy_lsm_names[i]);
	return set_str(st, &r->lsm[i], val);
}

static int key_appraise_type(struct parse_state *st, struct policy_rule *r, const char *val)
{
	if (!strcmp(val, "sigv3")) {
		if (!(r->flags & RF_VERITY))
			return perr(st, "order",
				    "appraise_type=sigv3 needs digest_type=verity before it in the "
				    "same rule");
		r->flags |= RF_DIGSIG;
	} else if (!strcmp(val, "imasig")) {
		r->flags |= RF_DIGSIG;
	} else if (!strcmp(val, "imasig|modsig")) {
		if (st->flags & VOUCH_POLICY_PARSE_NO_MODSIG)
			return perr(st, "no-modsig",
				    "appraise_type=imasig|modsig needs CONFIG_IMA_APPRAISE_MODSIG");
		r->flags |= RF_DIGSIG | RF_MODSIG;
	} else {
		return perr(st, "bad-value",
			    "unknown appraise_type '%s' (imasig, imasig|modsig, sigv3)", val);
	}
	return 0;
}

static int key_appraise_flag(struct parse_state *st, struct policy_rule *r, const char *val)
{
	if ((st->flags & VOUCH_POLICY_PARSE_NO_MODSIG) || !strstr(val, "blacklist"))
		return perr(st, "bad-value",
			    "unknown appraise_flag '%s' (check_blacklist, with modsig support)", val);
	return 0;
}

static int key_appraise_algos(struct parse_state *st, struct policy_rule *r, const char *val)
{
	return parse_algos(st, val, &r->algos) < 0 ? -EBADMSG : 0;
}

static int key_digest_type(struct parse_state *st, struct policy_rule *r, const char *val)
{
	if (r->flags & RF_DIGSIG)
		return perr(st, "order",
			    "digest_type= after appraise_type=: digest_type=verity must come first");
	if (strcmp(val, "verity") != 0)
		return perr(st, "bad-value", "unknown digest_type '%s' (verity)", val);
	return 0;
}

static int key_template(struct parse_state *st, struct policy_rule *r, const char *val)
{
	if (r->action != VOUCH_ACT_MEASURE)
		return perr(st, "order", "template= is only accepted after the measure action");
	if (!log_template_builtin(val)) {
		if (!strcmp(val, "ima-sigv3"))
			return perr(st, "bad-value",
				    "template 'ima-sigv3' does not exist (the ABI document names "
				    "it; use ima-sigv2 or ima-sig)");
		return perr(st, "bad-value", "unknown template '%s'", val);
	}
	return set_str(st, &r->template_name, val);
}

static int key_pcr(struct parse_state *st, struct policy_rule *r, const char *val)
{
	uint64_t v;

	if (*val == '-' || kstrtoull(val, 10, &v) < 0 || v > 63)
		return perr(st, "bad-value", "invalid pcr '%s' (0 to 63)", val);
	r->pcr = (int)v;
	return 0;
}

#define ID_KEY(name, ops, fl, slot_fl, fld, opf, scode, smsg)                                     \
	{ name, ops, key_id, fl, slot_fl, offsetof(struct policy_rule, fld),                       \
	  offsetof(struct policy_rule, opf), 0, scode, smsg }
#define STR_KEY(name, fl, slot_fl, fld, list)                                                     \
	{ name, "=", key_string, fl, slot_fl, offsetof(struct policy_rule, fld), 0, list, NULL, NULL }
#define LSM_KEY(name, i) { name, "=", key_lsm, 0, 0, 0, 0, i, NULL, NULL }
#define KEY(name, fn, fl, slot_fl) { name, "=", fn, fl, slot_fl, 0, 0, 0, NULL, NULL }

static const char uid_slot[] = "uid and euid share one slot: at most one of uid=, uid<, uid>, "
			       "euid=, euid<, euid> per rule";
static const char gid_slot[] = "gid and egid share one slot: at most one of gid=, gid<, gid>, "
			       "egid=, egid<, egid> per rule";

/* The keys of ima_parse_rule(), in its order. */
static const struct key_def keys[] = {
	KEY("func", key_func, RF_FUNC, RF_FUNC),
	KEY("mask", key_mask, 0, RF_MASK | RF_INMASK),
	KEY("fsmagic", key_fsmagic, RF_FSMAGIC, 0),
	STR_KEY("fsname", RF_FSNAME, 0, fsname, 0), /* may repeat: the last one wins */
	KEY("fsuuid", key_fsuuid, RF_FSUUID, RF_FSUUID),
	ID_KEY("uid", "=<>", RF_UID, RF_UID | RF_EUID, uid, uid_op, "uid-slot", uid_slot),
	ID_KEY("euid", "=<>", RF_EUID, RF_UID | RF_EUID, uid, uid_op, "uid-slot", uid_slot),
	ID_KEY("gid", "=<>", RF_GID, RF_GID | RF_EGID, gid, gid_op, "gid-slot", gid_slot),
	ID_KEY("egid", "=<>", RF_EGID, RF_GID | RF_EGID, gid, gid_op, "gid-slot", gid_slot),
	ID_KEY("fowner", "=<>", RF_FOWNER, RF_FOWNER, fowner, fowner_op, NULL, NULL),
	ID_KEY("fgroup", "=<>", RF_FGROUP, RF_FGROUP, fgroup, fgroup_op, NULL, NULL),
	LSM_KEY("obj_user", 0),
	LSM_KEY("obj_role", 1),
	LSM_KEY("obj_type", 2),
	LSM_KEY("subj_user", 3),
	LSM_KEY("subj_role", 4),
	LSM_KEY("subj_type", 5),
	STR_KEY("keyrings", RF_KEYRINGS, RF_KEYRINGS, keyrings, 1),
	STR_KEY("label", RF_LABEL, RF_LABEL, label, 1),
	KEY("appraise_type", key_appraise_type, 0, 0),
	KEY("appraise_flag", key_appraise_flag, RF_BLACKLIST, 0),
	KEY("appraise_algos", key_appraise_algos, RF_ALGOS, RF_ALGOS),
	KEY("digest_type", key_digest_type, RF_VERITY, 0),
	KEY("template", key_template, RF_TEMPLATE, RF_TEMPLATE),
	KEY("pcr", key_pcr, RF_PCR, 0),
};

/* A token without an operator: an action or permit_directio. */
static int parse_word(struct parse_state *st, struct policy_rule *r, const char *tok)
{
	uint32_t action = policy_action_by_name(tok);

	if (action) {
		if (r->action)
			return perr(st, "two-actions", "second action '%s' in one rule (already '%s')",
				    tok, policy_action_name(r->action));
		r->action = action;
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
			    "unknown token '%s' (a policy file path can only be written alone, not "
			    "inside a policy)",
			    tok);
	return perr(st, "unknown-token", "unknown token '%s'", tok);
}

/* One token of a rule: the kernel's switch in ima_parse_rule(), as a table of keys. */
static int parse_token(struct parse_state *st, struct policy_rule *r, char *tok)
{
	size_t klen = strcspn(tok, "=<>");
	const struct key_def *k = NULL;
	const char *val;
	int ret;

	if (tok[klen] == '\0')
		return parse_word(st, r, tok);
	st->op = tok[klen];
	val = tok + klen + 1;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strlen(keys[i].key) != klen || strncmp(keys[i].key, tok, klen) != 0)
			continue;
		if (!strchr(keys[i].ops, st->op))
			return perr(st, "unknown-token", "unknown token '%s' ('%.*s' takes only '=')",
				    tok, (int)klen, tok);
		k = &keys[i];
	}
	if (!k)
		return perr(st, "unknown-token", "unknown token '%s'", tok);
	if (!*val)
		return perr(st, "unknown-token", "missing value in '%s'", tok);
	if (r->flags & k->slot) {
		if (k->slot_code)
			return perr(st, k->slot_code, "%s", k->slot_msg);
		return perr(st, "repeated", "%s given twice in one rule", k->key);
	}
	st->key = k;
	ret = k->parse(st, r, val);
	if (ret == 0)
		r->flags |= k->flag;
	return ret;
}

#define COND_FILE                                                                                  \
	(RF_FUNC | RF_MASK | RF_INMASK | RF_FSMAGIC | RF_FSNAME | RF_FSUUID | RF_UID | RF_EUID |   \
	 RF_GID | RF_EGID | RF_FOWNER | RF_FGROUP | RF_PCR | RF_LSM | RF_TEMPLATE)

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
	uint32_t flags = r->flags | (policy_rule_has_lsm(r) ? RF_LSM : 0);
	uint32_t allowed, bad;
	const char *fname = r->func ? vouch_policy_func_name(r->func) : "(no func)";

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
			policy_rule_clear(&rule);
			if (r != -EBADMSG)
				return r;
			goto fail;
		}
		r = policy_push(p, &rule);
		if (r < 0) {
			policy_rule_clear(&rule);
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
	if (check_reserved(ctx, opts->reserved, sizeof(opts->reserved),
			   "reserved policy parse option set") < 0)
		return -EINVAL;
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
