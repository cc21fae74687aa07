// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The IMA policy language of Linux 6.1: its names (funcs, actions, masks, LSM conditions),
 * the rules and their lifetime, and the built-in policies (ima_init_policy).  The parser
 * is in policy-parse.c, the printer in policy-print.c, matching in policy-match.c, the
 * warnings in policy-analyse.c.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>

#include "internal.h"
#include "policy-internal.h"

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

const char *const policy_lsm_names[POLICY_LSM_N] = {
	"obj_user", "obj_role", "obj_type", "subj_user", "subj_role", "subj_type",
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


uint32_t policy_action_by_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
		if (!strcmp(name, actions[i].name))
			return actions[i].action;
	return 0;
}

uint32_t policy_mask_by_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(mask_names); i++)
		if (!strcmp(name, mask_names[i].name))
			return mask_names[i].bit;
	return 0;
}

const char *policy_mask_name(uint32_t bit)
{
	for (size_t i = 0; i < ARRAY_SIZE(mask_names); i++)
		if (mask_names[i].bit == bit)
			return mask_names[i].name;
	return NULL;
}

/* ---------------------------------------------------------------- rules */

void policy_rule_clear(struct policy_rule *r)
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
		policy_rule_clear(&p->rules[i]);
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

bool policy_rule_has_lsm(const struct policy_rule *r)
{
	for (int i = 0; i < POLICY_LSM_N; i++)
		if (r->lsm[i])
			return true;
	return false;
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
	struct strbuf text = { 0 };
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
		sb_add(&text, builtin_dont_measure, strlen(builtin_dont_measure));
	if (original)
		sb_add(&text, builtin_original_tcb, strlen(builtin_original_tcb));
	else if (tcb)
		sb_add(&text, builtin_default_tcb, strlen(builtin_default_tcb));
	if (secure)
		sb_add(&text, builtin_secure_boot, strlen(builtin_secure_boot));
	if (appraise)
		sb_add(&text, builtin_appraise_tcb, strlen(builtin_appraise_tcb));
	if (critical)
		sb_add(&text, builtin_critical_data, strlen(builtin_critical_data));
	if (text.oom) {
		sb_free(&text);
		return -ENOMEM;
	}
	o.flags = VOUCH_POLICY_PARSE_BUILTIN;
	r = vouch_policy_parse(ctx, text.s, text.len, &o, &p, NULL);
	sb_free(&text);
	if (r < 0)
		return r;
	p->fail_securely = fail;
	*ret = p;
	return 0;
}
