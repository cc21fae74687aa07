// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
//
// vouch-rule: policy-write
// vouch-summary: securityfs/selinuxfs/smackfs/apparmorfs writes that copy a user blob into a parser
// vouch-tokens: copy_from_user memdup_user vmemdup_user strndup_user
// vouch-scope: security/
//
// A function that takes (const char __user *buf, size_t count), copies count bytes from
// buf (copy_from_user, memdup_user[_nul], vmemdup_user, strndup_user, or a local helper
// that wraps copy_from_user, like AppArmor's aa_simple_write_to_buffer) and passes the
// copy to a function that is not a string or number helper: a policy parser.  Small
// values (kstrto*, sscanf, strcmp ...) are not policy.  The search is limited to
// security/ because that is where the kernel's policy file systems live; the entry
// point (which file's write) is found by walking the callers up to a ".write =" handler.

@wrap@
identifier W, u;
attribute name __user;
type T;
@@
T *W(..., const char __user *u, ...) { <+... copy_from_user(..., u, ...) ...+> }

@consumer exists@
identifier fn, ubuf, cnt;
identifier wrap.W;
attribute name __user;
identifier cfu = {copy_from_user, __copy_from_user};
identifier mdu = {memdup_user, memdup_user_nul, vmemdup_user, strndup_user};
identifier parser !~ "^(kfree|kvfree|vfree|kfree_sensitive|kstrto[a-z0-9_]*|sscanf|strn?cmp|strn?casecmp|strim|strstrip|strn?len|strr?chr|strsep|strstr|strncpy|strscpy|memcmp|memcpy|memset|sysfs_streq|match_string|__sysfs_match_string|skip_spaces|simple_strto[a-z]*|pr_[a-z_]*|printk|WARN[A-Z_]*|IS_ERR|PTR_ERR|IS_ERR_OR_NULL|ERR_PTR|PTR_ERR_OR_ZERO|copy_from_user|memdup_user[a-z_]*|vmemdup_user|strndup_user|mutex_[a-z_]*|spin_[a-z_]*|audit_log[a-z_]*|kmalloc|kzalloc|kvmalloc|vmalloc|ARRAY_SIZE|min|max|min_t|max_t|[a-z_]*_put[a-z_]*|[a-z_]*free[a-z_]*)$";
expression buf, E;
position p;
@@
fn(..., const char __user *ubuf, size_t cnt, ...) {
<+...
(
cfu@p(buf, ubuf, cnt)
|
buf = mdu@p(ubuf, cnt)
|
buf = W@p(ubuf, ...)
)
...
parser(..., \(buf\|buf + E\), ...)
...+>
}

@script:python@
fn << consumer.fn;
p << consumer.p;
parser << consumer.parser;
@@
vouch_emit("consumer", p, fn=fn, callee=parser, takes="buffer")
