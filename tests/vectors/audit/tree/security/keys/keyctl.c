// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
// Synthetic add_key(2) (add-key: measured only, through key_create_or_update in key.c);
// neg_peek copies a payload but never hands it to a key type.
SYSCALL_DEFINE5(add_key, const char __user *, _type, const char __user *, _description,
		const void __user *, _payload, size_t, plen, key_serial_t, ringid)
{
	void *payload = kvmalloc(plen, GFP_KERNEL);

	if (copy_from_user(payload, _payload, plen) != 0)
		return -EFAULT;
	return key_create_or_update(keyring_ref, type, description, payload, plen,
				    KEY_PERM_UNDEF, KEY_ALLOC_IN_QUOTA);
}

long neg_peek(const void __user *_payload, size_t plen)
{
	char *payload = memdup_user(_payload, plen);

	return checksum(payload, plen);
}
