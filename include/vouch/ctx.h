/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch: library context, errors and memory
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_CTX_H
#define VOUCH_CTX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Error convention: every function that can fail returns 0 or a negative errno.
 * The expected negative outcomes of verification have codes of their own, so that
 * "does not verify" is never confused with "could not check":
 *
 *   -EBADMSG       the data under test is malformed (bad signature container, list, quote)
 *   -EKEYREJECTED  a signature or digest does not match
 *   -ENOKEY        no trusted key matches the signer
 *   -EPERM         refused by policy (algorithm not allowed, blacklisted, stale nonce)
 *
 * Anything else (-ENOMEM, -EIO, -ENOENT, -EINVAL, ...) means the check could not run.
 * vouch_error_is_verdict() tells the two groups apart.
 */

/**
 * struct vouch_ctx - library context (opaque)
 *
 * Holds the log callback, the last error message, the file-system root used for every
 * kernel interface path, and cached crypto objects.  A context is not thread safe; use
 * one per thread.
 */
typedef struct vouch_ctx vouch_ctx;

/** enum vouch_log_level - severity passed to the log callback */
enum vouch_log_level {
	VOUCH_LOG_ERR = 3,
	VOUCH_LOG_WARNING = 4,
	VOUCH_LOG_INFO = 6,
	VOUCH_LOG_DEBUG = 7,
};

/**
 * vouch_log_fn - log callback
 * @userdata: the pointer given to vouch_ctx_set_log_fn()
 * @level: an enum vouch_log_level
 * @msg: the message, without a trailing newline; valid only during the call
 */
typedef void (*vouch_log_fn)(void *userdata, int level, const char *msg);

/**
 * vouch_ctx_new() - create a library context
 * @ret_ctx: the new context, to be released with vouch_ctx_free()
 *
 * Return: 0, or -ENOMEM.
 * Since: 0.1
 */
int vouch_ctx_new(vouch_ctx **ret_ctx);

/**
 * vouch_ctx_free() - release a context; NULL is accepted
 * @ctx: the context
 * Since: 0.1
 */
void vouch_ctx_free(vouch_ctx *ctx);

/**
 * vouch_ctx_set_log_fn() - install a log callback (none by default: the library never prints)
 * @ctx: the context
 * @fn: the callback, or NULL to remove it
 * @userdata: passed to @fn
 * @max_level: messages above this enum vouch_log_level are not delivered
 * Since: 0.1
 */
void vouch_ctx_set_log_fn(vouch_ctx *ctx, vouch_log_fn fn, void *userdata, int max_level);

/**
 * vouch_ctx_last_error() - the message of the last failure on @ctx
 * @ctx: the context
 *
 * Return: a string owned by @ctx, valid until the next call on @ctx; "" when none.
 * Since: 0.1
 */
const char *vouch_ctx_last_error(const vouch_ctx *ctx);

/**
 * vouch_ctx_clear_error() - forget the last error message
 * @ctx: the context
 * Since: 0.1
 */
void vouch_ctx_clear_error(vouch_ctx *ctx);

/**
 * vouch_ctx_set_root() - prefix every kernel interface path (securityfs, sysfs, /dev)
 * @ctx: the context
 * @root: a directory, or NULL for "/"
 *
 * Tests use this to point the library at a fake root file system.
 * Return: 0, -EINVAL, or -ENOMEM.
 * Since: 0.1
 */
int vouch_ctx_set_root(vouch_ctx *ctx, const char *root);

/**
 * vouch_ctx_get_root() - the root set with vouch_ctx_set_root()
 * @ctx: the context
 * Return: a string owned by @ctx ("/" by default).
 * Since: 0.1
 */
const char *vouch_ctx_get_root(const vouch_ctx *ctx);

/**
 * vouch_version() - the library version, "MAJOR.MINOR.PATCH"
 * Since: 0.1
 */
const char *vouch_version(void);

/**
 * vouch_free() - release bytes that a vouch_*() function returned through a ret_ pointer
 * @p: the pointer, or NULL
 * Since: 0.1
 */
void vouch_free(void *p);

/**
 * vouch_error_is_verdict() - whether @err is a "does not verify" outcome
 * @err: a negative errno returned by the library
 *
 * Return: 1 for -EBADMSG, -EKEYREJECTED, -ENOKEY and -EPERM, else 0.
 * Since: 0.1
 */
int vouch_error_is_verdict(int err);

/**
 * vouch_strerror() - a short description of a library error code
 * @err: a negative errno
 * Return: a static string.
 * Since: 0.1
 */
const char *vouch_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_CTX_H */
