/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvouch internals shared by every module.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_INTERNAL_H
#define VOUCH_LIB_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cleanup.h"
#include <vouch/vouch.h>

#define VOUCH_EXPORT __attribute__((visibility("default")))
#define PRINTF_FMT(a, b) __attribute__((format(printf, a, b)))

#define VOUCH_ERRMSG_SIZE 512

struct evp_md_st;

struct vouch_ctx {
	vouch_log_fn log_fn;
	void *log_userdata;
	int log_max_level;
	char *root;
	char errmsg[VOUCH_ERRMSG_SIZE];
	/* EVP_MD fetched once per algorithm: fetching is slow and not needed per digest */
	struct evp_md_st *md_cache[_VOUCH_HASH_MAX];
	bool md_probed[_VOUCH_HASH_MAX];
	/*
	 * Private-key decoders (DER, PEM), built once: building one walks every provider's
	 * decoders and was 95% of the time of a failed key load.  Each writes its key into
	 * key_dec_out[i], which the caller takes at once.  The third decodes a DER
	 * SubjectPublicKeyInfo (attestation and endorsement keys).
	 */
	struct ossl_decoder_ctx_st *key_dec[3];
	struct evp_pkey_st *key_dec_out[3];
};

/*
 * Decode a public key from DER SubjectPublicKeyInfo with the context's cached decoder: 0 and
 * the key, -EBADMSG when the bytes are not exactly one such key (trailing bytes refused),
 * -ENOMEM.  The caller reports the error.
 */
int spki_decode(vouch_ctx *ctx, const uint8_t *der, size_t len, struct evp_pkey_st **ret_pkey);

/*
 * Record a failure: formats the message into ctx->errmsg, drains OpenSSL's error queue into
 * it (when @with_ssl) and returns @err, so call sites read "return ctx_err(ctx, -EBADMSG, ...)".
 */
int ctx_err_full(vouch_ctx *ctx, int err, bool with_ssl, const char *fmt, ...) PRINTF_FMT(4, 5);
#define ctx_err(ctx, err, ...) ctx_err_full(ctx, err, false, __VA_ARGS__)
#define ctx_err_ssl(ctx, err, ...) ctx_err_full(ctx, err, true, __VA_ARGS__)
void ctx_log(vouch_ctx *ctx, int level, const char *fmt, ...) PRINTF_FMT(3, 4);
/* Drop OpenSSL's error queue (after an expected failure that is not reported). */
void ssl_clear_errors(void);

/* Allocation wrappers: every library allocation goes through them (fault injection). */
void *mem_alloc(size_t n);
void *mem_zalloc(size_t n);
void *mem_realloc(void *p, size_t n);
void *mem_reallocarray(void *p, size_t nmemb, size_t size);
char *mem_strdup(const char *s);
void *mem_dup(const void *p, size_t n);
/*
 * Room for @need elements of @size bytes in the array *@pp whose capacity is *@cap: the capacity
 * goes to @initial, then doubles, until it holds @need. 0, or -ENOMEM with *@pp and *@cap as
 * they were.
 */
int mem_grow(void *pp, size_t *cap, size_t need, size_t size, size_t initial);
/* true when VOUCH_TEST_FAIL_ALLOC says this allocation must fail */
bool mem_fail_injected(void);
/* Tests: fail the Nth allocation from now on (0 turns injection off). */
void mem_fail_at(long n);
/* allocations counted since mem_fail_at() (while a failure is armed) */
long mem_alloc_count(void);

/* File helpers (lib/fileio.c). */
#define VOUCH_MAX_FILE_SIZE ((size_t)1 << 30)
int read_fd_all(vouch_ctx *ctx, int fd, const char *name, size_t max, uint8_t **ret_buf,
		size_t *ret_len);
/* The same for a regular file, with pread from offset 0: the fd's offset stays put. */
int pread_fd_all(vouch_ctx *ctx, int fd, const char *name, size_t max, uint8_t **ret_buf,
		 size_t *ret_len);
int read_file_all(vouch_ctx *ctx, const char *path, size_t max, uint8_t **ret_buf,
		  size_t *ret_len);
/*
 * Read the document at @path (at most @max bytes) and hand it to @parse; a document @parse
 * refuses (-EBADMSG) is reported as "'PATH' is not a valid WHAT: <parse's reason>".
 */
int load_file_parsed(vouch_ctx *ctx, const char *path, size_t max, const char *what,
		     int (*parse)(vouch_ctx *ctx, const char *text, size_t len, void *ret),
		     void *ret);
/* Open @path read-only and fstat it into *@ret_st: the fd, or a negative errno with a message. */
struct stat;
int open_stat(vouch_ctx *ctx, const char *path, struct stat *ret_st);
/* Write @len bytes to @path through a temp file in the same directory, fsync, rename. */
int write_file_atomic(vouch_ctx *ctx, const char *path, const void *buf, size_t len,
		      unsigned mode);
/* Same, for data gathered from several pieces. */
struct iovec;
int write_file_atomic_iov(vouch_ctx *ctx, const char *path, const struct iovec *iov, size_t n,
			  unsigned mode);
/*
 * Replace the content of the existing regular file @path and nothing else: a symlink is
 * followed to the real file (the link stays), owner, group, mode and every xattr are kept
 * (refused when they cannot be), a file with several hard links is refused (-EMLINK: a
 * rename would give only one name the new content).  Temp file beside the real file, fsync,
 * rename; the file must not have been replaced meanwhile.
 */
int write_file_inplace_iov(vouch_ctx *ctx, const char *path, const struct iovec *iov, size_t n);
/* 1 when @a and @b name the same existing file (through links), else 0. */
int same_file(const char *a, const char *b);
int write_all(int fd, const void *buf, size_t len);
/* Join ctx root and an absolute kernel path; returns a malloc'd string or NULL. */
char *ctx_path(const vouch_ctx *ctx, const char *abs_path);

/*
 * The string builder (lib/strbuf.c): @s is NUL-terminated once anything was added (NULL
 * before); every function returns 0 or -ENOMEM, and a failed allocation also sets @oom,
 * so a caller may add several pieces and check @oom once.
 */
struct strbuf {
	char *s;
	size_t len, cap;
	bool oom;
};
int sb_reserve(struct strbuf *sb, size_t more);
int sb_add(struct strbuf *sb, const void *s, size_t n);
int sb_printf(struct strbuf *sb, const char *fmt, ...) PRINTF_FMT(2, 3);
void sb_free(struct strbuf *sb);

static inline bool mem_is_zero(const void *p, size_t size)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < size; i++)
		if (b[i])
			return false;
	return true;
}

/*
 * Options structs end in reserved fields that must be zero (STYLE.md rule 7): 0, or
 * -EINVAL with @msg as the error.  @size is the array's sizeof, of any element type.
 */
static inline int check_reserved(vouch_ctx *ctx, const void *reserved, size_t size,
				 const char *msg)
{
	return mem_is_zero(reserved, size) ? 0 : ctx_err(ctx, -EINVAL, "%s", msg);
}

/*
 * A versioned options struct @o (version 1, then reserved fields): 0, or -EINVAL with "unsupported
 * @what options version N" or "reserved @what option fields must be zero" as the error.
 */
#define check_options_v1(ctx, o, what)                                                             \
	check_options_v1_((ctx), (o)->version, (o)->reserved, sizeof((o)->reserved), (what))
static inline int check_options_v1_(vouch_ctx *ctx, uint32_t version, const void *reserved,
				    size_t size, const char *what)
{
	if (version != 1)
		return ctx_err(ctx, -EINVAL, "unsupported %s options version %u", what, version);
	if (!mem_is_zero(reserved, size))
		return ctx_err(ctx, -EINVAL, "reserved %s option fields must be zero", what);
	return 0;
}

/* @names[@i] of a table of the @n names of an enum (designated initialisers), or @unknown. */
static inline const char *enum_name(const char *const *names, size_t n, int i, const char *unknown)
{
	return i >= 0 && (size_t)i < n ? names[i] : unknown;
}

/* Hex (lib/hex.c). */
void hex_encode(const uint8_t *in, size_t len, char *out);
int hex_decode(const char *in, size_t in_len, uint8_t *out, size_t out_size, size_t *ret_len);

/* Numbers. */
int parse_u64(const char *s, uint64_t *ret);
int parse_u32(const char *s, uint32_t *ret);
/* The @n bytes at @s as a u32: 1 to @max_digits (< 16) decimal digits, nothing else; -EBADMSG. */
int parse_u32_digits(const char *s, size_t n, size_t max_digits, uint32_t *ret);

/* One row of a name table (alias → number), for name_lookup(). */
struct name_value {
	const char *name;
	int value;
};

/*
 * The value of @name in table @t of @n rows, compared exactly or, with @fold_case, ignoring ASCII
 * case; the first match wins. 0 and *@ret_value set, or -ENOENT.
 */
int name_lookup(const struct name_value *t, size_t n, const char *name, bool fold_case,
		int *ret_value);

/* OpenSSL digest handle for an algorithm, cached in the context. */
const struct evp_md_st *ctx_md(vouch_ctx *ctx, int algo);

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

#endif /* VOUCH_LIB_INTERNAL_H */
