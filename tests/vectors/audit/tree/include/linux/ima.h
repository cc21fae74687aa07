/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Copyright (C) 2026 The vouch authors */
void ima_post_key_create_or_update(struct key *keyring, struct key *key, const void *payload, size_t plen, unsigned long flags, bool create);
