/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cpio internals shared by the writer (lib/cpio-write.c), the reader (lib/cpio.c), the
 * compression layer both use (lib/cpio-compress.c), the extractor and the appraiser.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_CPIO_INTERNAL_H
#define VOUCH_LIB_CPIO_INTERNAL_H

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "internal.h"
#include <vouch/cpio.h>

#define CPIO_IO_BUF_SIZE ((size_t)1 << 20)
#define CPIO_NEWC_HDR_LEN 110
#define CPIO_NEWCX_HDR_LEN 134

/* Number of TRAILER!!! members consumed so far: hard-link state resets at each one. */
unsigned cpio_reader_archive_no(const vouch_cpio_reader *r);
/* The context the reader reports errors to. */
vouch_ctx *cpio_reader_ctx(const vouch_cpio_reader *r);

/* The newc "crc" checksum: the sum of the data bytes, modulo 2^32. */
static inline uint32_t cpio_sum_bytes(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s += p[i];
	return s;
}

/*
 * The compression layer (lib/cpio-compress.c).  @kind is a VOUCH_CPIO_COMPRESS_* value.
 * A decoder keeps the state of every kind it has met, so that the segments of one image
 * reuse them; cpio_codec_done() releases them all.
 */
struct cpio_codec {
	int kind;
	bool encode;
	z_stream z;
	bool z_init;
	ZSTD_CStream *zc;
	ZSTD_DStream *zd;
	lzma_stream xz;
	bool xz_init;
};

/* One step: from @in (@in_len bytes) into @out (@out_size bytes). */
struct cpio_zstep {
	const uint8_t *in;
	size_t in_len;
	uint8_t *out;
	size_t out_size;
	size_t used, produced; /* input taken, output made */
	bool end;	       /* the stream ended (decoder) or is complete (encoder, @finish) */
	bool drained;	       /* encoder: all of @in taken, nothing to emit before more comes */
};

/* "gzip", "zstd", "xz" ("" for none). */
const char *cpio_codec_name(int kind);
/* A compressor at @level (0: the default of the kind); -ENOMEM. */
int cpio_encoder_init(struct cpio_codec *c, int kind, int level);
/* (Re)start decoding a new stream of @kind; -ENOMEM, -EIO. */
int cpio_decoder_start(struct cpio_codec *c, int kind);
/*
 * Run one step (@finish: the encoder ends the stream).  0, or -1 when the library refused
 * the data; @why then holds a suffix for the message (": reason" or " (code)").
 */
int cpio_codec_step(struct cpio_codec *c, struct cpio_zstep *s, bool finish, char *why,
		    size_t why_size);
void cpio_codec_done(struct cpio_codec *c);

#endif /* VOUCH_LIB_CPIO_INTERNAL_H */
