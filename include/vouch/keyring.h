/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch: loading certificates into kernel keyrings (_ima, _evm, .ima, a serial)
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_KEYRING_H
#define VOUCH_KEYRING_H

#include <stdint.h>

#include <vouch/ctx.h>
#include <vouch/key.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * vouch_keyring_find() - resolve a keyring
 * @ctx: the context
 * @spec: a decimal serial, "@u"/"@s"/"@us"/"@t"/"@p" (user, session, user session, thread,
 *        process), or a keyring name such as "_ima", "_evm", ".ima" searched among the
 *        keyrings this process can see; "_ima" and "_evm" are created in the user keyring
 *        when missing (as `keyctl newring _ima @u` does)
 * @ret_serial: the keyring's serial number
 * Return: 0; -ENOKEY (no such keyring); -ENOSYS (the kernel has no keyrings); -EACCES;
 * other keyctl(2) errors.
 * Since: 0.1
 */
int vouch_keyring_find(vouch_ctx *ctx, const char *spec, int32_t *ret_serial);

/**
 * vouch_keyring_import() - add a certificate to a keyring as an "asymmetric" key, as
 * `evmctl import` does (the kernel names it "CN: SKID")
 * @ctx: the context
 * @cert: the certificate
 * @spec: the keyring, as for vouch_keyring_find(); "_ima" when NULL
 * @ret_key: the new key's serial number; may be NULL
 * Return: 0; the errors of vouch_keyring_find(); -EOPNOTSUPP (the kernel cannot parse the
 * certificate, e.g. no ECDSA support); -EKEYREJECTED (the keyring refused the
 * certificate, e.g. .ima without a CA signature); other add_key(2) errors.
 * Since: 0.1
 */
int vouch_keyring_import(vouch_ctx *ctx, const vouch_cert *cert, const char *spec,
			 int32_t *ret_key);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_KEYRING_H */
