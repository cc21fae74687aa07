// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The cpio compression layer: one gzip, zstd or xz stream, compressing (the writer,
 * lib/cpio-write.c) or decompressing (the reader's current segment, lib/cpio.c), one
 * step at a time through caller-owned buffers.  The only file of the cpio module that
 * knows zlib, libzstd and liblzma.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>
#include <string.h>

#include "cpio-internal.h"

static const char *const codec_names[] = { "", "gzip", "zstd", "xz" };

const char *cpio_codec_name(int kind)
{
	return kind > 0 && kind < _VOUCH_CPIO_COMPRESS_MAX ? codec_names[kind] : "";
}

void cpio_codec_done(struct cpio_codec *c)
{
	if (c->z_init && c->encode)
		deflateEnd(&c->z);
	else if (c->z_init)
		inflateEnd(&c->z);
	ZSTD_freeCStream(c->zc);
	ZSTD_freeDStream(c->zd);
	if (c->xz_init)
		lzma_end(&c->xz);
	memset(c, 0, sizeof(*c));
}

int cpio_encoder_init(struct cpio_codec *c, int kind, int level)
{
	c->kind = kind;
	c->encode = true;
	switch (kind) {
	case VOUCH_CPIO_COMPRESS_GZIP:
		/* windowBits 15 + 16: a gzip wrapper with mtime 0, so output is reproducible */
		if (deflateInit2(&c->z, level ? (level > 9 ? 9 : level) : 9, Z_DEFLATED, 15 + 16, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK)
			return -ENOMEM;
		c->z_init = true;
		break;
	case VOUCH_CPIO_COMPRESS_ZSTD:
		c->zc = ZSTD_createCStream();
		if (!c->zc)
			return -ENOMEM;
		ZSTD_CCtx_setParameter(c->zc, ZSTD_c_compressionLevel, level ? level : 19);
		ZSTD_CCtx_setParameter(c->zc, ZSTD_c_checksumFlag, 1);
		/* the kernel's zstd decompressor wants a bounded window (8 MiB is safe) */
		ZSTD_CCtx_setParameter(c->zc, ZSTD_c_windowLog, 23);
		break;
	case VOUCH_CPIO_COMPRESS_XZ:
		/* the kernel's xz decoder supports CRC32 integrity checks only */
		if (lzma_easy_encoder(&c->xz, level ? (uint32_t)(level > 9 ? 9 : level) : 6,
				      LZMA_CHECK_CRC32) != LZMA_OK)
			return -ENOMEM;
		c->xz_init = true;
		break;
	}
	return 0;
}

int cpio_decoder_start(struct cpio_codec *c, int kind)
{
	switch (kind) {
	case VOUCH_CPIO_COMPRESS_GZIP:
		if (!c->z_init) {
			memset(&c->z, 0, sizeof(c->z));
			if (inflateInit2(&c->z, 15 + 16) != Z_OK)
				return -ENOMEM;
			c->z_init = true;
		} else if (inflateReset(&c->z) != Z_OK) {
			return -EIO;
		}
		break;
	case VOUCH_CPIO_COMPRESS_ZSTD:
		if (!c->zd) {
			c->zd = ZSTD_createDStream();
			if (!c->zd)
				return -ENOMEM;
			/* hard cap on the window: 128 MiB, like a bounded-memory boot decoder */
			ZSTD_DCtx_setParameter(c->zd, ZSTD_d_windowLogMax, 27);
		}
		ZSTD_DCtx_reset(c->zd, ZSTD_reset_session_only);
		break;
	case VOUCH_CPIO_COMPRESS_XZ:
		if (c->xz_init)
			lzma_end(&c->xz);
		memset(&c->xz, 0, sizeof(c->xz));
		c->xz_init = false;
		if (lzma_stream_decoder(&c->xz, (uint64_t)256 << 20, 0) != LZMA_OK)
			return -ENOMEM;
		c->xz_init = true;
		break;
	}
	c->kind = kind;
	return 0;
}

static int step_gzip(struct cpio_codec *c, struct cpio_zstep *s, bool finish, char *why,
		     size_t why_size)
{
	int zr;

	c->z.next_in = (Bytef *)s->in;
	c->z.avail_in = (uInt)(s->in_len > UINT32_MAX ? UINT32_MAX : s->in_len);
	c->z.next_out = s->out;
	c->z.avail_out = (uInt)s->out_size;
	zr = c->encode ? deflate(&c->z, finish ? Z_FINISH : Z_NO_FLUSH) : inflate(&c->z, Z_NO_FLUSH);
	s->used = (size_t)(c->z.next_in - s->in);
	s->produced = s->out_size - c->z.avail_out;
	s->end = zr == Z_STREAM_END;
	s->drained = s->used == s->in_len && c->z.avail_out != 0;
	if (c->encode ? zr == Z_STREAM_ERROR : zr != Z_OK && zr != Z_BUF_ERROR && !s->end) {
		if (!c->encode)
			snprintf(why, why_size, ": %s", c->z.msg ? c->z.msg : "error");
		return -1;
	}
	return 0;
}

static int step_zstd(struct cpio_codec *c, struct cpio_zstep *s, bool finish, char *why,
		     size_t why_size)
{
	ZSTD_inBuffer in = { s->in, s->in_len, 0 };
	ZSTD_outBuffer out = { s->out, s->out_size, 0 };
	size_t zr = c->encode ? ZSTD_compressStream2(c->zc, &out, &in,
						     finish ? ZSTD_e_end : ZSTD_e_continue)
			      : ZSTD_decompressStream(c->zd, &out, &in);

	if (ZSTD_isError(zr)) {
		snprintf(why, why_size, ": %s", ZSTD_getErrorName(zr));
		return -1;
	}
	s->used = in.pos;
	s->produced = out.pos;
	s->end = zr == 0;
	s->drained = in.pos == in.size;
	return 0;
}

static int step_xz(struct cpio_codec *c, struct cpio_zstep *s, bool finish, char *why,
		   size_t why_size)
{
	lzma_ret lr;

	c->xz.next_in = s->in;
	c->xz.avail_in = s->in_len;
	c->xz.next_out = s->out;
	c->xz.avail_out = s->out_size;
	lr = lzma_code(&c->xz, c->encode && finish ? LZMA_FINISH : LZMA_RUN);
	s->used = s->in_len - c->xz.avail_in;
	s->produced = s->out_size - c->xz.avail_out;
	s->end = lr == LZMA_STREAM_END;
	s->drained = c->xz.avail_in == 0;
	if (lr != LZMA_OK && !s->end) {
		snprintf(why, why_size, " (%d)", (int)lr);
		return -1;
	}
	return 0;
}

int cpio_codec_step(struct cpio_codec *c, struct cpio_zstep *s, bool finish, char *why,
		    size_t why_size)
{
	why[0] = '\0';
	switch (c->kind) {
	case VOUCH_CPIO_COMPRESS_GZIP:
		return step_gzip(c, s, finish, why, why_size);
	case VOUCH_CPIO_COMPRESS_ZSTD:
		return step_zstd(c, s, finish, why, why_size);
	case VOUCH_CPIO_COMPRESS_XZ:
		return step_xz(c, s, finish, why, why_size);
	}
	return -1;
}
