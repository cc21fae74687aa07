// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel's hash algorithm table (include/uapi/linux/hash_info.h, crypto/hash_info.c in
 * 6.1) mapped onto OpenSSL, and streaming digests.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "internal.h"
#include "openssl-internal.h"

struct algo_row {
	struct vouch_hash_info info;
	const char *ossl; /* OpenSSL fetch name, NULL when OpenSSL has none */
};

static const struct algo_row algos[_VOUCH_HASH_MAX] = {
	{ { VOUCH_HASH_MD4, "md4", 16, 0, 0 }, "MD4" },
	{ { VOUCH_HASH_MD5, "md5", 16, 0, 0 }, "MD5" },
	{ { VOUCH_HASH_SHA1, "sha1", 20, 0x0004, 0 }, "SHA1" },
	{ { VOUCH_HASH_RMD160, "rmd160", 20, 0, 0 }, "RIPEMD160" },
	{ { VOUCH_HASH_SHA256, "sha256", 32, 0x000B, 1 }, "SHA256" },
	{ { VOUCH_HASH_SHA384, "sha384", 48, 0x000C, 0 }, "SHA384" },
	{ { VOUCH_HASH_SHA512, "sha512", 64, 0x000D, 2 }, "SHA512" },
	{ { VOUCH_HASH_SHA224, "sha224", 28, 0, 0 }, "SHA224" },
	{ { VOUCH_HASH_RMD128, "rmd128", 16, 0, 0 }, NULL },
	{ { VOUCH_HASH_RMD256, "rmd256", 32, 0, 0 }, NULL },
	{ { VOUCH_HASH_RMD320, "rmd320", 40, 0, 0 }, NULL },
	{ { VOUCH_HASH_WP256, "wp256", 32, 0, 0 }, NULL },
	{ { VOUCH_HASH_WP384, "wp384", 48, 0, 0 }, NULL },
	{ { VOUCH_HASH_WP512, "wp512", 64, 0, 0 }, "WHIRLPOOL" },
	{ { VOUCH_HASH_TGR128, "tgr128", 16, 0, 0 }, NULL },
	{ { VOUCH_HASH_TGR160, "tgr160", 20, 0, 0 }, NULL },
	{ { VOUCH_HASH_TGR192, "tgr192", 24, 0, 0 }, NULL },
	{ { VOUCH_HASH_SM3, "sm3", 32, 0x0012, 0 }, "SM3" },
	/* GOST R 34.11-2012 needs the gost engine, which OpenSSL 3 does not ship */
	{ { VOUCH_HASH_STREEBOG256, "streebog256", 32, 0, 0 }, "streebog256" },
	{ { VOUCH_HASH_STREEBOG512, "streebog512", 64, 0, 0 }, "streebog512" },
};

VOUCH_EXPORT const struct vouch_hash_info *vouch_hash_info(int algo)
{
	if (algo < 0 || algo >= _VOUCH_HASH_MAX)
		return NULL;
	return &algos[algo].info;
}

VOUCH_EXPORT int vouch_hash_by_name(const char *name)
{
	static const struct name_value aliases[] = {
		{ "sha-1", VOUCH_HASH_SHA1 },	    { "sha-224", VOUCH_HASH_SHA224 },
		{ "sha2-224", VOUCH_HASH_SHA224 },  { "sha-256", VOUCH_HASH_SHA256 },
		{ "sha2-256", VOUCH_HASH_SHA256 },  { "sha-384", VOUCH_HASH_SHA384 },
		{ "sha2-384", VOUCH_HASH_SHA384 },  { "sha-512", VOUCH_HASH_SHA512 },
		{ "sha2-512", VOUCH_HASH_SHA512 },  { "ripemd160", VOUCH_HASH_RMD160 },
		{ "sm3_256", VOUCH_HASH_SM3 },	    { "whirlpool", VOUCH_HASH_WP512 },
	};
	int algo;

	if (!name)
		return -ENOENT;
	for (int i = 0; i < _VOUCH_HASH_MAX; i++)
		if (strcasecmp(name, algos[i].info.name) == 0)
			return i;
	if (name_lookup(aliases, ARRAY_SIZE(aliases), name, true, &algo) < 0)
		return -ENOENT;
	return algo;
}

VOUCH_EXPORT int vouch_hash_by_tpm_alg(uint16_t tpm_alg)
{
	if (tpm_alg == 0)
		return -ENOENT;
	for (int i = 0; i < _VOUCH_HASH_MAX; i++)
		if (algos[i].info.tpm_alg == tpm_alg)
			return i;
	return -ENOENT;
}

const struct evp_md_st *ctx_md(vouch_ctx *ctx, int algo)
{
	if (algo < 0 || algo >= _VOUCH_HASH_MAX)
		return NULL;
	if (!ctx->md_probed[algo]) {
		ctx->md_probed[algo] = true;
		if (algos[algo].ossl) {
			EVP_MD *md = EVP_MD_fetch(NULL, algos[algo].ossl, NULL);

			/* a fetched digest of another size would be a table bug, not a hash */
			if (md && (size_t)EVP_MD_get_size(md) != algos[algo].info.size) {
				EVP_MD_free(md);
				md = NULL;
			}
			ctx->md_cache[algo] = (struct evp_md_st *)md;
		}
		ssl_clear_errors();
	}
	return ctx->md_cache[algo];
}

const EVP_MD *ssl_md(vouch_ctx *ctx, int algo)
{
	return (const EVP_MD *)ctx_md(ctx, algo);
}

VOUCH_EXPORT bool vouch_hash_available(vouch_ctx *ctx, int algo)
{
	return ctx && ctx_md(ctx, algo) != NULL;
}

#define HASHER_MAX 8

struct vouch_hasher {
	vouch_ctx *ctx;
	size_t n;
	int algos[HASHER_MAX];
	EVP_MD_CTX *md[HASHER_MAX];
	bool started;
};

VOUCH_EXPORT void vouch_hasher_free(vouch_hasher *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++)
		EVP_MD_CTX_free(h->md[i]);
	free(h);
}

static int hasher_start(vouch_hasher *h)
{
	for (size_t i = 0; i < h->n; i++)
		if (!EVP_DigestInit_ex(h->md[i], ssl_md(h->ctx, h->algos[i]), NULL))
			return ctx_err_ssl(h->ctx, -EIO, "cannot start a %s digest",
					   algos[h->algos[i]].info.name);
	h->started = true;
	return 0;
}

VOUCH_EXPORT int vouch_hasher_new(vouch_ctx *ctx, const int *algo_list, size_t n_algos,
				  vouch_hasher **ret_hasher)
{
	vouch_hasher *h;
	int r;

	if (!ctx || !algo_list || !ret_hasher)
		return -EINVAL;
	if (n_algos == 0 || n_algos > HASHER_MAX)
		return ctx_err(ctx, -EINVAL, "between 1 and %d algorithms can be hashed at once",
			       HASHER_MAX);
	for (size_t i = 0; i < n_algos; i++) {
		if (algo_list[i] < 0 || algo_list[i] >= _VOUCH_HASH_MAX)
			return ctx_err(ctx, -EINVAL, "unknown hash algorithm id %d", algo_list[i]);
		for (size_t j = 0; j < i; j++)
			if (algo_list[j] == algo_list[i])
				return ctx_err(ctx, -EINVAL, "%s requested twice",
					       algos[algo_list[i]].info.name);
		if (!ctx_md(ctx, algo_list[i]))
			return ctx_err(ctx, -EOPNOTSUPP,
				       "hash algorithm %s is not available from OpenSSL",
				       algos[algo_list[i]].info.name);
	}
	h = mem_zalloc(sizeof(*h));
	if (!h)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	h->ctx = ctx;
	for (size_t i = 0; i < n_algos; i++) {
		h->algos[i] = algo_list[i];
		h->md[i] = EVP_MD_CTX_new();
		h->n = i + 1;
		if (!h->md[i]) {
			vouch_hasher_free(h);
			return ctx_err(ctx, -ENOMEM, "out of memory");
		}
	}
	r = hasher_start(h);
	if (r < 0) {
		vouch_hasher_free(h);
		return r;
	}
	*ret_hasher = h;
	return 0;
}

VOUCH_EXPORT int vouch_hasher_update(vouch_hasher *h, const void *data, size_t len)
{
	if (!h || (!data && len))
		return -EINVAL;
	if (!h->started) {
		int r = hasher_start(h);

		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < h->n; i++)
		if (!EVP_DigestUpdate(h->md[i], data, len))
			return ctx_err_ssl(h->ctx, -EIO, "digest update failed");
	return 0;
}

VOUCH_EXPORT int vouch_hasher_final(vouch_hasher *h, struct vouch_digest *ret_digests)
{
	struct vouch_digest out[HASHER_MAX];

	if (!h || !ret_digests)
		return -EINVAL;
	if (!h->started) {
		int r = hasher_start(h);

		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < h->n; i++) {
		unsigned int len = 0;

		memset(&out[i], 0, sizeof(out[i]));
		if (!EVP_DigestFinal_ex(h->md[i], out[i].bytes, &len))
			return ctx_err_ssl(h->ctx, -EIO, "digest final failed");
		out[i].algo = h->algos[i];
		out[i].len = len;
	}
	h->started = false;
	memcpy(ret_digests, out, h->n * sizeof(out[0]));
	return 0;
}

VOUCH_EXPORT int vouch_digest_buf(vouch_ctx *ctx, int algo, const void *data, size_t len,
				  struct vouch_digest *ret_digest)
{
	const EVP_MD *md;
	unsigned int outlen = 0;
	struct vouch_digest d = { 0 };

	if (!ctx || (!data && len) || !ret_digest)
		return -EINVAL;
	if (algo < 0 || algo >= _VOUCH_HASH_MAX)
		return ctx_err(ctx, -EINVAL, "unknown hash algorithm id %d", algo);
	md = ssl_md(ctx, algo);
	if (!md)
		return ctx_err(ctx, -EOPNOTSUPP, "hash algorithm %s is not available from OpenSSL",
			       algos[algo].info.name);
	if (!EVP_Digest(data, len, d.bytes, &outlen, md, NULL))
		return ctx_err_ssl(ctx, -EIO, "%s digest failed", algos[algo].info.name);
	d.algo = algo;
	d.len = outlen;
	*ret_digest = d;
	return 0;
}

/*
 * For large files a reader thread fills the next buffers while this thread hashes, so the
 * copy out of the page cache is off the critical path.  1 MiB reads keep the hand-offs
 * between the threads rare (measured: 256 KiB x 4 buffers reached 88% of OpenSSL's in-cache
 * speed, 1 MiB x 8 buffers 99%; bench/digest).
 */
#define READ_CHUNK (1024 * 1024)
/* Small files and pipes: one read of this size stays below malloc's mmap threshold. */
#define SIMPLE_CHUNK (128 * 1024)
#define PIPE_BUFS 8
#define PIPE_MIN_SIZE (8 * 1024 * 1024)

struct read_pipe {
	int fd;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint8_t *buf[PIPE_BUFS];
	ssize_t len[PIPE_BUFS]; /* bytes, 0 = EOF, <0 = -errno */
	size_t head, tail;	/* produced / consumed counts */
	bool stop;
};

static void *reader_main(void *arg)
{
	struct read_pipe *p = arg;

	for (;;) {
		size_t slot;
		ssize_t n;

		pthread_mutex_lock(&p->lock);
		while (!p->stop && p->head - p->tail == PIPE_BUFS)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stop) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		slot = p->head % PIPE_BUFS;
		pthread_mutex_unlock(&p->lock);

		do
			n = read(p->fd, p->buf[slot], READ_CHUNK);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			n = -errno;

		pthread_mutex_lock(&p->lock);
		p->len[slot] = n;
		p->head++;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
		if (n <= 0)
			return NULL;
	}
}

static int digest_fd_threaded(vouch_ctx *ctx, vouch_hasher *h, int fd,
			      struct vouch_digest *ret_digests)
{
	struct read_pipe p = { .fd = fd };
	pthread_t tid;
	int r = 0;

	for (size_t i = 0; i < PIPE_BUFS; i++) {
		p.buf[i] = mem_alloc(READ_CHUNK);
		if (!p.buf[i]) {
			r = ctx_err(ctx, -ENOMEM, "out of memory");
			goto out;
		}
	}
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.cond, NULL);
	if (pthread_create(&tid, NULL, reader_main, &p) != 0) {
		r = 1; /* fall back to reading in this thread */
		goto destroy;
	}
	for (;;) {
		size_t slot;
		ssize_t n;

		pthread_mutex_lock(&p.lock);
		while (p.head == p.tail)
			pthread_cond_wait(&p.cond, &p.lock);
		slot = p.tail % PIPE_BUFS;
		n = p.len[slot];
		pthread_mutex_unlock(&p.lock);
		if (n < 0) {
			errno = (int)-n;
			r = ctx_err(ctx, (int)n, "read failed: %m");
			break;
		}
		if (n == 0) {
			r = vouch_hasher_final(h, ret_digests);
			break;
		}
		r = vouch_hasher_update(h, p.buf[slot], (size_t)n);
		pthread_mutex_lock(&p.lock);
		p.tail++;
		pthread_cond_broadcast(&p.cond);
		pthread_mutex_unlock(&p.lock);
		if (r < 0)
			break;
	}
	pthread_mutex_lock(&p.lock);
	p.stop = true;
	pthread_cond_broadcast(&p.cond);
	pthread_mutex_unlock(&p.lock);
	pthread_join(tid, NULL);
destroy:
	pthread_cond_destroy(&p.cond);
	pthread_mutex_destroy(&p.lock);
out:
	for (size_t i = 0; i < PIPE_BUFS; i++)
		free(p.buf[i]);
	return r;
}

static int digest_fd_simple(vouch_ctx *ctx, vouch_hasher *h, int fd,
			    struct vouch_digest *ret_digests)
{
	_cleanup_free_ uint8_t *buf = mem_alloc(SIMPLE_CHUNK);

	if (!buf)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	for (;;) {
		ssize_t n = read(fd, buf, SIMPLE_CHUNK);
		int r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ctx_err(ctx, -errno, "read failed: %m");
		}
		if (n == 0)
			return vouch_hasher_final(h, ret_digests);
		r = vouch_hasher_update(h, buf, (size_t)n);
		if (r < 0)
			return r;
	}
}

VOUCH_EXPORT int vouch_digest_fd(vouch_ctx *ctx, int fd, const int *algo_list, size_t n_algos,
				 struct vouch_digest *ret_digests)
{
	vouch_hasher *h = NULL;
	struct stat st;
	int r;

	if (!ctx || fd < 0 || !ret_digests)
		return -EINVAL;
	r = vouch_hasher_new(ctx, algo_list, n_algos, &h);
	if (r < 0)
		return r;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	r = 1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= PIPE_MIN_SIZE)
		r = digest_fd_threaded(ctx, h, fd, ret_digests);
	if (r == 1)
		r = digest_fd_simple(ctx, h, fd, ret_digests);
	vouch_hasher_free(h);
	return r;
}

VOUCH_EXPORT int vouch_digest_file(vouch_ctx *ctx, const char *path, const int *algo_list,
				   size_t n_algos, struct vouch_digest *ret_digests)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	if (!ctx || !path)
		return -EINVAL;
	fd = open_stat(ctx, path, &st);
	if (fd < 0)
		return fd;
	if (S_ISDIR(st.st_mode))
		return ctx_err(ctx, -EISDIR, "'%s' is a directory", path);
	r = vouch_digest_fd(ctx, fd, algo_list, n_algos, ret_digests);
	if (r < 0 && r != -EINVAL && r != -EOPNOTSUPP) {
		/* name the file in the message */
		char msg[VOUCH_ERRMSG_SIZE];

		snprintf(msg, sizeof(msg), "%s", ctx->errmsg);
		return ctx_err(ctx, r, "'%s': %s", path, msg);
	}
	return r;
}

VOUCH_EXPORT int vouch_digest_to_hex(const struct vouch_digest *d, char *buf, size_t size)
{
	if (!d || !buf || d->len > VOUCH_HASH_MAX_SIZE)
		return -EINVAL;
	if (size < 2 * d->len + 1)
		return -ENOBUFS;
	hex_encode(d->bytes, d->len, buf);
	return 0;
}
