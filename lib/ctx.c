// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Library context: errors, logging, root path.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "config.h"
#include "internal.h"

VOUCH_EXPORT int vouch_ctx_new(vouch_ctx **ret_ctx)
{
	vouch_ctx *ctx;

	if (!ret_ctx)
		return -EINVAL;
	ctx = mem_zalloc(sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->log_max_level = VOUCH_LOG_INFO;
	*ret_ctx = ctx;
	return 0;
}

VOUCH_EXPORT void vouch_ctx_free(vouch_ctx *ctx)
{
	if (!ctx)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(ctx->md_cache); i++)
		EVP_MD_free((EVP_MD *)ctx->md_cache[i]);
	for (size_t i = 0; i < ARRAY_SIZE(ctx->key_dec); i++) {
		OSSL_DECODER_CTX_free(ctx->key_dec[i]);
		EVP_PKEY_free(ctx->key_dec_out[i]);
	}
	free(ctx->root);
	free(ctx);
}

VOUCH_EXPORT void vouch_ctx_set_log_fn(vouch_ctx *ctx, vouch_log_fn fn, void *userdata,
				       int max_level)
{
	if (!ctx)
		return;
	ctx->log_fn = fn;
	ctx->log_userdata = userdata;
	ctx->log_max_level = max_level;
}

VOUCH_EXPORT const char *vouch_ctx_last_error(const vouch_ctx *ctx)
{
	return ctx ? ctx->errmsg : "";
}

VOUCH_EXPORT void vouch_ctx_clear_error(vouch_ctx *ctx)
{
	if (ctx)
		ctx->errmsg[0] = '\0';
}

VOUCH_EXPORT int vouch_ctx_set_root(vouch_ctx *ctx, const char *root)
{
	char *copy = NULL;

	if (!ctx || (root && root[0] != '/'))
		return -EINVAL;
	if (root && strcmp(root, "/") != 0) {
		copy = mem_strdup(root);
		if (!copy)
			return -ENOMEM;
		/* "/tmp/x/" and "/tmp/x" are the same root */
		for (size_t n = strlen(copy); n > 1 && copy[n - 1] == '/'; n--)
			copy[n - 1] = '\0';
	}
	free(ctx->root);
	ctx->root = copy;
	return 0;
}

VOUCH_EXPORT const char *vouch_ctx_get_root(const vouch_ctx *ctx)
{
	return ctx && ctx->root ? ctx->root : "/";
}

char *ctx_path(const vouch_ctx *ctx, const char *abs_path)
{
	size_t a, b;
	char *p;

	if (!ctx->root)
		return mem_strdup(abs_path);
	a = strlen(ctx->root);
	b = strlen(abs_path);
	p = mem_alloc(a + b + 1);
	if (!p)
		return NULL;
	memcpy(p, ctx->root, a);
	memcpy(p + a, abs_path, b + 1);
	return p;
}

VOUCH_EXPORT const char *vouch_version(void)
{
	return VOUCH_VERSION;
}

VOUCH_EXPORT void vouch_free(void *p)
{
	free(p);
}

VOUCH_EXPORT int vouch_error_is_verdict(int err)
{
	return err == -EBADMSG || err == -EKEYREJECTED || err == -ENOKEY || err == -EPERM;
}

VOUCH_EXPORT const char *vouch_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case -EBADMSG:
		return "malformed data";
	case -EKEYREJECTED:
		return "does not verify";
	case -ENOKEY:
		return "no trusted key";
	case -EPERM:
		return "refused by policy";
	case -ENOMEM:
		return "out of memory";
	case -EIO:
		return "I/O or crypto library error";
	case -EINVAL:
		return "invalid argument";
	case -EOPNOTSUPP:
		return "not supported";
	default:
		return strerror(err < 0 ? -err : err);
	}
}

void ssl_clear_errors(void)
{
	ERR_clear_error();
}

static void PRINTF_FMT(3, 0) ctx_vset(vouch_ctx *ctx, bool with_ssl, const char *fmt, va_list ap)
{
	size_t n;
	unsigned long e;

	vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
	if (with_ssl) {
		/* Append the innermost OpenSSL reason: it is the one that names the cause. */
		const char *reason = NULL;

		while ((e = ERR_get_error()) != 0) {
			const char *r = ERR_reason_error_string(e);

			if (r)
				reason = r;
		}
		n = strlen(ctx->errmsg);
		if (reason && n < sizeof(ctx->errmsg) - 4)
			snprintf(ctx->errmsg + n, sizeof(ctx->errmsg) - n, " (%s)", reason);
	}
	ERR_clear_error();
	if (ctx->log_fn && ctx->log_max_level >= VOUCH_LOG_DEBUG)
		ctx->log_fn(ctx->log_userdata, VOUCH_LOG_DEBUG, ctx->errmsg);
}

int ctx_err_full(vouch_ctx *ctx, int err, bool with_ssl, const char *fmt, ...)
{
	va_list ap;

	if (!ctx) {
		if (with_ssl)
			ERR_clear_error();
		return err;
	}
	va_start(ap, fmt);
	ctx_vset(ctx, with_ssl, fmt, ap);
	va_end(ap);
	return err;
}

void ctx_log(vouch_ctx *ctx, int level, const char *fmt, ...)
{
	char buf[VOUCH_ERRMSG_SIZE];
	va_list ap;

	if (!ctx || !ctx->log_fn || level > ctx->log_max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ctx->log_fn(ctx->log_userdata, level, buf);
}
