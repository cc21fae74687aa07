// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Kernel keyrings through libkeyutils: where IMA and EVM look keys up (FORMATS.md §3.2).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <keyutils.h>
#include <stdlib.h>

#include "internal.h"
#include <vouch/keyring.h>

VOUCH_EXPORT int vouch_keyring_find(vouch_ctx *ctx, const char *spec, int32_t *ret_serial)
{
	static const struct name_value specials[] = {
		{ "@u", KEY_SPEC_USER_KEYRING },	 { "@s", KEY_SPEC_SESSION_KEYRING },
		{ "@us", KEY_SPEC_USER_SESSION_KEYRING }, { "@t", KEY_SPEC_THREAD_KEYRING },
		{ "@p", KEY_SPEC_PROCESS_KEYRING },
	};
	key_serial_t id;
	uint32_t num;

	if (!ctx || !spec || !*spec || !ret_serial)
		return -EINVAL;
	if (parse_u32(spec, &num) == 0) {
		if (num == 0 || num > INT32_MAX)
			return ctx_err(ctx, -EINVAL, "invalid keyring serial '%s'", spec);
		id = (key_serial_t)num;
	} else {
		int special = 0;

		name_lookup(specials, ARRAY_SIZE(specials), spec, false, &special);
		id = special;
	}
	if (id != 0) {
		/* resolve specials and check that the serial names a keyring we can use */
		key_serial_t real = keyctl_get_keyring_ID(id, 0);

		if (real < 0)
			return ctx_err(ctx, errno == ENOSYS ? -ENOSYS : -ENOKEY,
				       "no keyring '%s': %m", spec);
		*ret_serial = real;
		return 0;
	}
	id = find_key_by_type_and_desc("keyring", spec, 0);
	if (id < 0 && errno == ENOSYS)
		return ctx_err(ctx, -ENOSYS, "the kernel has no keyrings (keyctl: %m)");
	if (id < 0 && (!strcmp(spec, "_ima") || !strcmp(spec, "_evm"))) {
		id = add_key("keyring", spec, NULL, 0, KEY_SPEC_USER_KEYRING);
		if (id < 0)
			return ctx_err(ctx, -errno, "cannot create keyring '%s': %m", spec);
	}
	if (id < 0)
		return ctx_err(ctx, -ENOKEY, "no keyring named '%s'", spec);
	*ret_serial = id;
	return 0;
}

VOUCH_EXPORT int vouch_keyring_import(vouch_ctx *ctx, const vouch_cert *cert, const char *spec,
				      int32_t *ret_key)
{
	const uint8_t *der;
	size_t len;
	int32_t ring;
	key_serial_t key;
	int r;

	if (!ctx || !cert)
		return -EINVAL;
	if (!spec)
		spec = "_ima";
	r = vouch_keyring_find(ctx, spec, &ring);
	if (r < 0)
		return r;
	vouch_cert_get_der(cert, &der, &len);
	/* a NULL description lets the asymmetric key parser name it "CN: SKID" */
	key = add_key("asymmetric", NULL, der, len, ring);
	if (key < 0) {
		int e = errno;

		if (e == EKEYREJECTED || e == EBADMSG || e == ENOKEY)
			return ctx_err(ctx, -EKEYREJECTED,
				       "keyring '%s' refused the certificate: %s", spec,
				       strerror(e));
		if (e == ENOENT || e == ENOPKG)
			/* no asymmetric parser for the key type (e.g. ECDSA without CRYPTO_ECDSA) */
			return ctx_err(ctx, -EOPNOTSUPP,
				       "the kernel cannot parse the certificate for keyring '%s' "
				       "(no support for its key type?): %s", spec, strerror(e));
		return ctx_err(ctx, -e, "cannot add the certificate to keyring '%s': %s", spec,
			       strerror(e));
	}
	if (ret_key)
		*ret_key = key;
	return 0;
}
