/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch: the IMA policy language of Linux 6.1 (parse, print, built-ins, matching)
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_POLICY_H
#define VOUCH_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vouch/ctx.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * enum vouch_func - the kernel's IMA hooks (enum ima_hooks, value = position in 6.1)
 *
 * VOUCH_FUNC_POST_SETATTR is internal (never parsed); a rule with a func also matches it.
 */
enum vouch_func {
	VOUCH_FUNC_NONE = 0,
	VOUCH_FUNC_FILE_CHECK = 1,
	VOUCH_FUNC_MMAP_CHECK = 2,
	VOUCH_FUNC_BPRM_CHECK = 3,
	VOUCH_FUNC_CREDS_CHECK = 4,
	VOUCH_FUNC_POST_SETATTR = 5,
	VOUCH_FUNC_MODULE_CHECK = 6,
	VOUCH_FUNC_FIRMWARE_CHECK = 7,
	VOUCH_FUNC_KEXEC_KERNEL_CHECK = 8,
	VOUCH_FUNC_KEXEC_INITRAMFS_CHECK = 9,
	VOUCH_FUNC_POLICY_CHECK = 10,
	VOUCH_FUNC_KEXEC_CMDLINE = 11,
	VOUCH_FUNC_KEY_CHECK = 12,
	VOUCH_FUNC_CRITICAL_DATA = 13,
	VOUCH_FUNC_SETXATTR_CHECK = 14,
	_VOUCH_FUNC_MAX,
};

/* Rule actions (the kernel's bit values). */
#define VOUCH_ACT_MEASURE 0x0001u
#define VOUCH_ACT_DONT_MEASURE 0x0002u
#define VOUCH_ACT_APPRAISE 0x0004u
#define VOUCH_ACT_DONT_APPRAISE 0x0008u
#define VOUCH_ACT_AUDIT 0x0040u
#define VOUCH_ACT_HASH 0x0100u
#define VOUCH_ACT_DONT_HASH 0x0200u
/* Action classes a request asks about (a request with 0 asks about all four). */
#define VOUCH_ACT_CLASSES                                                                          \
	(VOUCH_ACT_MEASURE | VOUCH_ACT_APPRAISE | VOUCH_ACT_AUDIT | VOUCH_ACT_HASH)

/* Access masks (MAY_*). */
#define VOUCH_MAY_EXEC 0x1u
#define VOUCH_MAY_WRITE 0x2u
#define VOUCH_MAY_READ 0x4u
#define VOUCH_MAY_APPEND 0x8u

/* Appraisal flags a decision carries (from the matching rules). */
#define VOUCH_APPRAISE_IMASIG 0x01u	  /* appraise_type=imasig: a signature is required */
#define VOUCH_APPRAISE_MODSIG 0x02u	  /* an appended signature is accepted */
#define VOUCH_APPRAISE_VERITY 0x04u	  /* digest_type=verity (sigv3) */
#define VOUCH_APPRAISE_BLACKLIST 0x08u	  /* appraise_flag=check_blacklist */
#define VOUCH_APPRAISE_DIRECTIO 0x10u	  /* permit_directio */
#define VOUCH_APPRAISE_FAIL_UNVERIFIABLE 0x20u /* ima_policy=fail_securely */
#define VOUCH_APPRAISE_ALGOS 0x40u	  /* appraise_algos= restricts the algorithms */

/**
 * struct vouch_policy - a parsed IMA policy (opaque)
 */
typedef struct vouch_policy vouch_policy;

/**
 * struct vouch_policy_diag - an error or a warning about a policy text
 * @line: 1-based line number (0 when it concerns the whole policy)
 * @column: 1-based byte column of the offending token (0 when the whole line)
 * @rule: 1-based index of the rule concerned (0 for parse errors and policy-wide notes)
 * @code: a stable short identifier ("unknown-token", "shadowed", "mask-exact", ...)
 * @message: a human readable explanation, git style (lower case, no period)
 *
 * Strings are owned by the policy (warnings) or by the caller's struct (errors, see
 * vouch_policy_parse()).
 */
struct vouch_policy_diag {
	unsigned line;
	unsigned column;
	unsigned rule;
	const char *code;
	const char *message;
};

/* vouch_policy_parse_options.flags */
/* Parse as a built-in policy: LSM conditions are rejected instead of accepted-unmatched. */
#define VOUCH_POLICY_PARSE_BUILTIN 0x1u
/* Reject appraise_type=imasig|modsig and appraise_flag= (CONFIG_IMA_APPRAISE_MODSIG=n, Debian) */
#define VOUCH_POLICY_PARSE_NO_MODSIG 0x2u

/**
 * struct vouch_policy_parse_options - how vouch_policy_parse() reads a text
 * @version: must be 1
 * @flags: VOUCH_POLICY_PARSE_*
 * @reserved: must be zero
 */
struct vouch_policy_parse_options {
	uint32_t version;
	uint32_t flags;
	uint32_t reserved[6];
};
#define VOUCH_POLICY_PARSE_OPTIONS_INIT { .version = 1 }

/**
 * vouch_policy_parse() - parse an IMA policy text as the kernel's policy file would
 * @ctx: the context (error message)
 * @text: the policy bytes (untrusted); need not be NUL-terminated
 * @len: their number (at most 16 MiB)
 * @opts: options, or NULL for the defaults
 * @ret_policy: the policy, released with vouch_policy_free()
 * @ret_error: optional; on -EBADMSG receives the line/column of the first invalid rule.
 *             Its strings are static or owned by @ctx (valid until the next call on @ctx).
 *
 * One invalid rule rejects the whole text, as one bad write rejects the kernel's load.
 * Comments (#) and blank lines are skipped. Warnings (rules that can never match, shadowed
 * rules, known traps) are kept in the policy: vouch_policy_warning_count().
 *
 * Return: 0; -EBADMSG (invalid rule, see @ret_error); -EINVAL (bad arguments, options);
 * -EFBIG (text too large); -ENOMEM.
 * Since: 0.1
 */
int vouch_policy_parse(vouch_ctx *ctx, const char *text, size_t len,
		       const struct vouch_policy_parse_options *opts, vouch_policy **ret_policy,
		       struct vouch_policy_diag *ret_error);

/**
 * vouch_policy_builtin() - the built-in policy the kernel builds for ima_policy= tokens
 * @ctx: the context
 * @names: tokens separated by spaces or '|': tcb, appraise_tcb, secure_boot, fail_securely,
 *         critical_data, and the deprecated ima_tcb (original TCB) and ima_appraise_tcb
 * @ret_policy: the policy, rules in the kernel's insertion order
 *
 * Return: 0; -EINVAL (unknown name); -ENOMEM.
 * Since: 0.1
 */
int vouch_policy_builtin(vouch_ctx *ctx, const char *names, vouch_policy **ret_policy);

/** vouch_policy_free() - release a policy; NULL is accepted. Since: 0.1 */
void vouch_policy_free(vouch_policy *policy);

/** vouch_policy_rule_count() - the number of rules. Since: 0.1 */
size_t vouch_policy_rule_count(const vouch_policy *policy);

/**
 * vouch_policy_format() - print the policy in canonical form, one rule per line
 * @policy: the policy
 * @ret_text: a NUL-terminated string, released with vouch_free()
 *
 * The form follows the kernel's read-back (securityfs "policy"): action, func by its enum
 * name (never an alias), mask, fsmagic in hex, ... each token followed by one space. One
 * deliberate difference: digest_type=verity is printed before appraise_type=sigv3, so that
 * the output parses again (the kernel prints them the other way round).
 *
 * Return: 0, -EINVAL, -ENOMEM.
 * Since: 0.1
 */
int vouch_policy_format(const vouch_policy *policy, char **ret_text);

/**
 * vouch_policy_format_rule() - print one rule (0-based @index) like vouch_policy_format()
 * Return: 0, -ERANGE, -ENOMEM.
 * Since: 0.1
 */
int vouch_policy_format_rule(const vouch_policy *policy, size_t index, char **ret_text);

/** vouch_policy_warning_count() - the number of warnings found at parse time. Since: 0.1 */
size_t vouch_policy_warning_count(const vouch_policy *policy);

/**
 * vouch_policy_get_warning() - the @index-th warning; strings owned by @policy
 * Return: 0 or -ERANGE.
 * Since: 0.1
 */
int vouch_policy_get_warning(const vouch_policy *policy, size_t index,
			     struct vouch_policy_diag *ret_diag);

/**
 * vouch_policy_fail_securely() - whether ima_policy=fail_securely was part of the policy
 * Since: 0.1
 */
bool vouch_policy_fail_securely(const vouch_policy *policy);

/**
 * vouch_policy_func_name() - the enum name of a func ("BPRM_CHECK"), NULL if out of range
 * Since: 0.1
 */
const char *vouch_policy_func_name(int func);

/**
 * vouch_policy_func_by_name() - parse a func name (aliases PATH_CHECK, FILE_MMAP accepted)
 * Return: an enum vouch_func, or -EINVAL.
 * Since: 0.1
 */
int vouch_policy_func_by_name(const char *name);

/**
 * struct vouch_policy_request - what is being accessed, by whom (the hook's arguments)
 * @version: must be 1
 * @func: enum vouch_func of the hook
 * @mask: VOUCH_MAY_* the hook passes (FILE_CHECK: the open mode; BPRM/MMAP: MAY_EXEC;
 *        read ids: MAY_READ)
 * @actions: the classes asked about (VOUCH_ACT_MEASURE|APPRAISE|AUDIT|HASH); 0 = all
 * @uid: task real uid
 * @euid: task effective uid
 * @suid: task saved uid
 * @gid: task real gid
 * @egid: task effective gid
 * @sgid: task saved gid
 * @cap_setuid: the task has CAP_SETUID (euid= then also matches suid and uid)
 * @cap_setgid: the task has CAP_SETGID (egid= then also matches sgid and gid)
 * @fowner: inode owner
 * @fgroup: inode group
 * @fsmagic: superblock magic
 * @fsname: file-system type name ("ext4"), or NULL
 * @has_fsuuid: whether @fsuuid is set
 * @fsuuid: file-system UUID bytes
 * @obj_user: LSM object user, or NULL (labels compare as plain strings)
 * @obj_role: LSM object role, or NULL
 * @obj_type: LSM object type, or NULL
 * @subj_user: LSM subject user, or NULL
 * @subj_role: LSM subject role, or NULL
 * @subj_type: LSM subject type, or NULL
 * @keyring: KEY_CHECK: the keyring description, or NULL
 * @label: CRITICAL_DATA: the event label, or NULL
 * @reserved: must be zero
 */
struct vouch_policy_request {
	uint32_t version;
	int func;
	uint32_t mask;
	uint32_t actions;
	uint32_t uid, euid, suid;
	uint32_t gid, egid, sgid;
	bool cap_setuid, cap_setgid;
	uint32_t fowner, fgroup;
	uint64_t fsmagic;
	const char *fsname;
	bool has_fsuuid;
	uint8_t fsuuid[16];
	const char *obj_user, *obj_role, *obj_type;
	const char *subj_user, *subj_role, *subj_type;
	const char *keyring;
	const char *label;
	uint32_t reserved[8];
};
#define VOUCH_POLICY_REQUEST_INIT { .version = 1 }

/**
 * struct vouch_policy_decision - the outcome of vouch_policy_match()
 * @actions: the OR of the actions of the first matching rule of each asked class
 *           (e.g. VOUCH_ACT_MEASURE | VOUCH_ACT_DONT_APPRAISE)
 * @measure_rule: 1-based index of the rule that decided the measure class, 0 if none
 * @appraise_rule: same for appraise
 * @audit_rule: same for audit
 * @hash_rule: same for hash
 * @appraise_flags: VOUCH_APPRAISE_* gathered from the matching rules
 * @appraise_algos: bit mask of allowed enum vouch_hash_algo (if VOUCH_APPRAISE_ALGOS)
 * @pcr: the PCR to extend (10 unless a matching rule says pcr=)
 * @template_name: the template the matching measure rule names, or NULL for the default;
 *                 owned by the policy
 */
struct vouch_policy_decision {
	uint32_t actions;
	unsigned measure_rule, appraise_rule, audit_rule, hash_rule;
	uint32_t appraise_flags;
	uint64_t appraise_algos;
	uint32_t pcr;
	const char *template_name;
};

/**
 * vouch_policy_match() - walk the rules as ima_match_policy() does
 * @policy: the policy
 * @req: the request
 * @ret_decision: the decision (first match per action class)
 *
 * Return: 0, or -EINVAL (bad request).
 * Since: 0.1
 */
int vouch_policy_match(const vouch_policy *policy, const struct vouch_policy_request *req,
		       struct vouch_policy_decision *ret_decision);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_POLICY_H */
