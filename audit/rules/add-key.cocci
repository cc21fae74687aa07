// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
//
// vouch-rule: add-key
// vouch-summary: key payloads copied from userspace into key_create_or_update/key_update/key_instantiate
// vouch-tokens: key_create_or_update key_update key_instantiate_and_link
// vouch-scope: security/keys/
//
// add_key(2), keyctl(KEYCTL_UPDATE) and keyctl(KEYCTL_INSTANTIATE*) copy a payload from
// userspace and hand it to the key type's parser (x509, asymmetric, user, encrypted...).
// IMA can measure new asymmetric keys (func=KEY_CHECK) but never appraise them.

@consumer exists@
identifier fn, upay, plen;
attribute name __user;
identifier cfu = {copy_from_user, __copy_from_user};
identifier mdu = {memdup_user, vmemdup_user};
identifier kf = {key_create_or_update, key_update, key_instantiate_and_link};
expression payload;
position p;
@@
fn(..., const void __user *upay, size_t plen, ...) {
<+...
(
cfu@p(payload, upay, plen)
|
payload = mdu@p(upay, plen)
)
...
kf(..., payload, ...)
...+>
}

@script:python@
fn << consumer.fn;
p << consumer.p;
kf << consumer.kf;
@@
vouch_emit("consumer", p, fn=fn, callee=kf, takes="buffer")
