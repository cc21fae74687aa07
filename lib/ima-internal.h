/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Signature v2 header encode/verify shared by security.ima (lib/ima.c) and security.evm
 * (lib/evm.c).
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_IMA_INTERNAL_H
#define VOUCH_LIB_IMA_INTERNAL_H

#include "internal.h"
#include <vouch/ima.h>
#include <vouch/log.h>

/* struct signature_v2_hdr: type, version, hash_algo, keyid (BE), sig_size (BE) */
#define SIG_HDR_SIZE 9

/* Default verification allow-list: sha1, sha224, sha256, sha384, sha512. */
#define DEFAULT_ALLOWED_ALGOS                                                                      \
	((1ULL << VOUCH_HASH_SHA1) | (1ULL << VOUCH_HASH_SHA224) | (1ULL << VOUCH_HASH_SHA256) |   \
	 (1ULL << VOUCH_HASH_SHA384) | (1ULL << VOUCH_HASH_SHA512))

/*
 * Sign @digest (the message itself: nothing is re-hashed) with @key and return the
 * header @type/@version/@algo/@keyid followed by the signature.
 */
int sig_make(vouch_ctx *ctx, const vouch_key *key, uint8_t type, uint8_t version, int algo,
	     uint32_t keyid, const uint8_t *digest, size_t digest_len, uint8_t **ret_value,
	     size_t *ret_len);

/*
 * The one signature v2/v3 check (lib/sigv2.c), for security.ima, security.evm and the
 * measurement lists.  Checks a parsed signature over @digest (@digest_len bytes of the
 * header's algorithm), always in this order: allow-list (-EPERM), algorithm available
 * (-EOPNOTSUPP), digest length (-EINVAL), trusted key by key id, optionally only from
 * @keyring (-ENOKEY), key type RSA/EC (-EPERM), RSA signature exactly modulus-sized
 * (-EBADMSG), verify context (-EIO), the signature itself (-EKEYREJECTED); each with a
 * message.  @cache (may be NULL) remembers outcomes per (key, digest, signature) and keeps
 * the verify context per (key, hash).  Fills @res->signer/keyring when a key matched.
 */
int sig_check(vouch_ctx *ctx, const vouch_trust *trust, uint64_t allowed_algos,
	      const char *keyring, const struct vouch_xattr_value *v, const uint8_t *digest,
	      size_t digest_len, vouch_sig_cache *cache, struct vouch_ima_verify_result *res);

/* Options checks shared by the modules. */
int check_reserved(vouch_ctx *ctx, const uint64_t *reserved, size_t n, const char *what);

#endif /* VOUCH_LIB_IMA_INTERNAL_H */
