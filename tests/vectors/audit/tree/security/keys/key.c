// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
// Synthetic key_create_or_update(): IMA measures new keys (KEY_CHECK), never appraises them.
key_ref_t key_create_or_update(key_ref_t keyring_ref, const char *type, const char *description,
			       const void *payload, size_t plen, key_perm_t perm, unsigned long flags)
{
	struct key *key = key_alloc(type, description, payload, plen);

	ima_post_key_create_or_update(keyring, key, payload, plen, flags, true);
	return make_key_ref(key, 1);
}
