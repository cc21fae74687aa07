// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cpio newc/crc/newcx/METADATA!!! writer and reader (FORMATS.md §11).
 *
 * The writer formats headers itself and streams member data through one output buffer and
 * an optional compressor.  The reader layers a raw input (fd or memory), an optional
 * decompressor for the current segment, and the member parser, which reads every header
 * byte through the bounds-checked cursor.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <lzma.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "cpio-internal.h"
#include "cursor.h"
#include "internal.h"

#define IO_BUF_SIZE ((size_t)1 << 20)
/*
 * Decompressed bytes are handed out from a smaller buffer: records are copied across its
 * end anyway (lg_read), and a 1 MiB buffer per reader made every small image pay for a
 * large mapping (most of fuzz-cpio's time under ASan).
 */
#define DEC_BUF_SIZE ((size_t)64 << 10)
#define NEWC_HDR_LEN 110
#define NEWCX_HDR_LEN 134

static const char hexdig[] = "0123456789ABCDEF";

static void put_hex(char *out, uint64_t v, unsigned width)
{
	for (unsigned i = width; i-- > 0;) {
		out[i] = hexdig[v & 0xf];
		v >>= 4;
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Writer                                                                                   */

struct vouch_cpio_writer {
	vouch_ctx *ctx;
	int format;
	int compress;
	vouch_cpio_write_fn write_fn;
	void *userdata;
	uint8_t *buf; /* uncompressed archive bytes not yet handed on */
	size_t len;
	uint8_t *zbuf; /* compressor output */
	uint64_t offset; /* archive bytes emitted (padding is relative to this) */
	bool finished, failed;
	z_stream z;
	bool z_init;
	ZSTD_CStream *zs;
	lzma_stream xz;
	bool xz_init;
};

static int w_out(vouch_cpio_writer *w, const uint8_t *p, size_t n)
{
	int r;

	/* never hand the callback an empty (possibly NULL) buffer */
	if (n == 0)
		return 0;
	r = w->write_fn(w->userdata, p, n);

	if (r < 0) {
		w->failed = true;
		return ctx_err(w->ctx, r, "cannot write the archive: %s", vouch_strerror(r));
	}
	return 0;
}

/* Hand @n bytes of archive to the compressor (or straight to the callback). */
static int w_compress(vouch_cpio_writer *w, const uint8_t *p, size_t n, bool end)
{
	int r;

	switch (w->compress) {
	case VOUCH_CPIO_COMPRESS_NONE:
		return n ? w_out(w, p, n) : 0;
	case VOUCH_CPIO_COMPRESS_GZIP:
		w->z.next_in = (Bytef *)p;
		w->z.avail_in = (uInt)n;
		for (;;) {
			int zr;

			w->z.next_out = w->zbuf;
			w->z.avail_out = (uInt)IO_BUF_SIZE;
			zr = deflate(&w->z, end ? Z_FINISH : Z_NO_FLUSH);
			if (zr == Z_STREAM_ERROR)
				return ctx_err(w->ctx, -EIO, "gzip compression failed");
			r = w_out(w, w->zbuf, IO_BUF_SIZE - w->z.avail_out);
			if (r < 0)
				return r;
			if (end ? zr == Z_STREAM_END : w->z.avail_in == 0 && w->z.avail_out != 0)
				return 0;
		}
	case VOUCH_CPIO_COMPRESS_ZSTD: {
		ZSTD_inBuffer in = { p, n, 0 };

		for (;;) {
			ZSTD_outBuffer out = { w->zbuf, IO_BUF_SIZE, 0 };
			size_t left = ZSTD_compressStream2(w->zs, &out, &in,
							   end ? ZSTD_e_end : ZSTD_e_continue);

			if (ZSTD_isError(left))
				return ctx_err(w->ctx, -EIO, "zstd compression failed: %s",
					       ZSTD_getErrorName(left));
			r = w_out(w, w->zbuf, out.pos);
			if (r < 0)
				return r;
			if (end ? left == 0 : in.pos == in.size)
				return 0;
		}
	}
	case VOUCH_CPIO_COMPRESS_XZ:
		w->xz.next_in = p;
		w->xz.avail_in = n;
		for (;;) {
			lzma_ret lr;

			w->xz.next_out = w->zbuf;
			w->xz.avail_out = IO_BUF_SIZE;
			lr = lzma_code(&w->xz, end ? LZMA_FINISH : LZMA_RUN);
			if (lr != LZMA_OK && lr != LZMA_STREAM_END)
				return ctx_err(w->ctx, -EIO, "xz compression failed (%d)", (int)lr);
			r = w_out(w, w->zbuf, IO_BUF_SIZE - w->xz.avail_out);
			if (r < 0)
				return r;
			if (end ? lr == LZMA_STREAM_END : w->xz.avail_in == 0)
				return 0;
		}
	}
	return -EINVAL;
}

static int w_flush(vouch_cpio_writer *w)
{
	int r;

	if (!w->len)
		return 0;
	r = w_compress(w, w->buf, w->len, false);
	w->len = 0;
	return r;
}

static int w_emit(vouch_cpio_writer *w, const void *p, size_t n)
{
	int r;

	w->offset += n;
	if (n >= IO_BUF_SIZE) {
		r = w_flush(w);
		return r < 0 ? r : w_compress(w, p, n, false);
	}
	if (w->len + n > IO_BUF_SIZE) {
		r = w_flush(w);
		if (r < 0)
			return r;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}

static int w_pad(vouch_cpio_writer *w, unsigned to)
{
	static const uint8_t zeros[512];
	size_t n = (size_t)((to - (w->offset % to)) % to);

	return n ? w_emit(w, zeros, n) : 0;
}

VOUCH_EXPORT void vouch_cpio_writer_free(vouch_cpio_writer *w)
{
	if (!w)
		return;
	if (w->z_init)
		deflateEnd(&w->z);
	ZSTD_freeCStream(w->zs);
	if (w->xz_init)
		lzma_end(&w->xz);
	free(w->buf);
	free(w->zbuf);
	free(w);
}

VOUCH_EXPORT int vouch_cpio_writer_new(vouch_ctx *ctx, const struct vouch_cpio_writer_options *opts,
				       vouch_cpio_write_fn write_fn, void *userdata,
				       vouch_cpio_writer **ret_writer)
{
	vouch_cpio_writer *w;

	if (!ctx || !opts || !write_fn || !ret_writer)
		return -EINVAL;
	if (opts->version != 1)
		return ctx_err(ctx, -EINVAL, "cpio writer options version %u unknown", opts->version);
	for (size_t i = 0; i < ARRAY_SIZE(opts->reserved); i++)
		if (opts->reserved[i])
			return ctx_err(ctx, -EINVAL, "cpio writer options: reserved field set");
	if (opts->format < 0 || opts->format >= _VOUCH_CPIO_FORMAT_MAX)
		return ctx_err(ctx, -EINVAL, "unknown cpio format %d", opts->format);
	if (opts->compress < 0 || opts->compress >= _VOUCH_CPIO_COMPRESS_MAX)
		return ctx_err(ctx, -EINVAL, "unknown compression %d", opts->compress);
	if (opts->level < 0 || opts->level > 22)
		return ctx_err(ctx, -EINVAL, "compression level %d out of range", opts->level);

	w = mem_zalloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->ctx = ctx;
	w->format = opts->format;
	w->compress = opts->compress;
	w->write_fn = write_fn;
	w->userdata = userdata;
	w->buf = mem_alloc(IO_BUF_SIZE);
	if (!w->buf)
		goto nomem;
	if (w->compress != VOUCH_CPIO_COMPRESS_NONE) {
		w->zbuf = mem_alloc(IO_BUF_SIZE);
		if (!w->zbuf)
			goto nomem;
	}
	switch (w->compress) {
	case VOUCH_CPIO_COMPRESS_GZIP:
		/* windowBits 15 + 16: a gzip wrapper with mtime 0, so output is reproducible */
		if (deflateInit2(&w->z, opts->level ? (opts->level > 9 ? 9 : opts->level) : 9,
				 Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			goto nomem;
		w->z_init = true;
		break;
	case VOUCH_CPIO_COMPRESS_ZSTD:
		w->zs = ZSTD_createCStream();
		if (!w->zs)
			goto nomem;
		ZSTD_CCtx_setParameter(w->zs, ZSTD_c_compressionLevel, opts->level ? opts->level : 19);
		ZSTD_CCtx_setParameter(w->zs, ZSTD_c_checksumFlag, 1);
		/* the kernel's zstd decompressor wants a bounded window (8 MiB is safe) */
		ZSTD_CCtx_setParameter(w->zs, ZSTD_c_windowLog, 23);
		break;
	case VOUCH_CPIO_COMPRESS_XZ:
		/* the kernel's xz decoder supports CRC32 integrity checks only */
		if (lzma_easy_encoder(&w->xz, opts->level ? (uint32_t)(opts->level > 9 ? 9 : opts->level) : 6,
				      LZMA_CHECK_CRC32) != LZMA_OK)
			goto nomem;
		w->xz_init = true;
		break;
	}
	*ret_writer = w;
	return 0;
nomem:
	vouch_cpio_writer_free(w);
	return -ENOMEM;
}

/* Build the header (newc/crc 110 bytes or newcx 134 bytes) into @hdr; returns its length. */
static size_t format_header(char *hdr, int format, const struct vouch_cpio_entry *e,
			    const char *name, uint64_t size, uint32_t check, uint32_t xattr_size)
{
	size_t namesize = strlen(name) + 1;
	char *p = hdr;

	if (format == VOUCH_CPIO_NEWCX) {
		memcpy(p, "070703", 6);
		p += 6;
		put_hex(p, e->ino, 8), p += 8;
		put_hex(p, e->mode, 8), p += 8;
		put_hex(p, e->uid, 8), p += 8;
		put_hex(p, e->gid, 8), p += 8;
		put_hex(p, e->nlink, 8), p += 8;
		put_hex(p, (uint64_t)e->mtime, 16), p += 16;
		put_hex(p, 0, 8), p += 8;
		put_hex(p, size, 16), p += 16;
		put_hex(p, e->devmajor, 8), p += 8;
		put_hex(p, e->devminor, 8), p += 8;
		put_hex(p, e->rdevmajor, 8), p += 8;
		put_hex(p, e->rdevminor, 8), p += 8;
		put_hex(p, namesize, 8), p += 8;
		put_hex(p, xattr_size, 8), p += 8;
		return NEWCX_HDR_LEN;
	}
	memcpy(p, format == VOUCH_CPIO_CRC ? "070702" : "070701", 6);
	p += 6;
	put_hex(p, e->ino, 8), p += 8;
	put_hex(p, e->mode, 8), p += 8;
	put_hex(p, e->uid, 8), p += 8;
	put_hex(p, e->gid, 8), p += 8;
	put_hex(p, e->nlink, 8), p += 8;
	put_hex(p, (uint64_t)e->mtime, 8), p += 8;
	put_hex(p, size, 8), p += 8;
	put_hex(p, e->devmajor, 8), p += 8;
	put_hex(p, e->devminor, 8), p += 8;
	put_hex(p, e->rdevmajor, 8), p += 8;
	put_hex(p, e->rdevminor, 8), p += 8;
	put_hex(p, namesize, 8), p += 8;
	put_hex(p, check, 8), p += 8;
	return NEWC_HDR_LEN;
}

static int check_entry(vouch_cpio_writer *w, const struct vouch_cpio_entry *e, const char **ret_name)
{
	const char *name;

	if (!w || !e || !e->name)
		return -EINVAL;
	if (w->finished || w->failed)
		return ctx_err(w->ctx, -EINVAL, "archive already finished or failed");
	name = e->name;
	while (*name == '/')
		name++;
	if (!*name)
		return ctx_err(w->ctx, -EINVAL, "member '%s': empty name", e->name);
	if (strlen(name) + 1 > VOUCH_CPIO_NAME_MAX)
		return ctx_err(w->ctx, -EINVAL, "member '%.64s...': name too long", name);
	{
		/*
		 * Reserved names (issue 14 item 6): a member called TRAILER!!! ends the archive
		 * early, one called METADATA!!! is applied as xattrs to the member before it
		 * (Proposal B, §11.7).  Refused wherever they appear in the name, so that no
		 * source file can smuggle metadata or truncate the image.
		 */
		const char *base = strrchr(name, '/');

		base = base ? base + 1 : name;
		if (!strcmp(base, VOUCH_CPIO_TRAILER) || !strcmp(base, VOUCH_CPIO_METADATA_NAME))
			return ctx_err(w->ctx, -EINVAL,
				       "member '%s': '%s' is a reserved name in an initramfs, refusing",
				       name, base);
	}
	if (w->format != VOUCH_CPIO_NEWCX) {
		if (e->mtime < 0 || e->mtime > UINT32_MAX)
			return ctx_err(w->ctx, -EINVAL,
				       "member '%s': mtime %lld does not fit the newc format", name,
				       (long long)e->mtime);
		if (e->size > UINT32_MAX)
			return ctx_err(w->ctx, -EINVAL,
				       "member '%s': 4 GiB or larger does not fit newc (use newcx)",
				       name);
	} else if (e->mtime < 0) {
		return ctx_err(w->ctx, -EINVAL, "member '%s': negative mtime", name);
	}
	for (size_t i = 0; i < e->n_xattrs; i++)
		if (!e->xattrs[i].name || !e->xattrs[i].name[0] ||
		    strlen(e->xattrs[i].name) > 255 || e->xattrs[i].value_len > 65536 ||
		    (e->xattrs[i].value_len && !e->xattrs[i].value))
			return ctx_err(w->ctx, -EINVAL, "member '%s': invalid xattr", name);
	*ret_name = name;
	return 0;
}

static int w_xattrs_newcx(vouch_cpio_writer *w, const struct vouch_cpio_entry *e)
{
	for (size_t i = 0; i < e->n_xattrs; i++) {
		const struct vouch_cpio_xattr *x = &e->xattrs[i];
		size_t nl = strlen(x->name) + 1;
		char sz[8];
		int r;

		put_hex(sz, 8 + nl + x->value_len, 8);
		r = w_emit(w, sz, 8);
		if (r >= 0)
			r = w_emit(w, x->name, nl);
		if (r >= 0 && x->value_len)
			r = w_emit(w, x->value, x->value_len);
		if (r < 0)
			return r;
	}
	return w_pad(w, 4);
}

static size_t newcx_xattr_size(const struct vouch_cpio_entry *e)
{
	size_t n = 0;

	for (size_t i = 0; i < e->n_xattrs; i++)
		n += 8 + strlen(e->xattrs[i].name) + 1 + e->xattrs[i].value_len;
	return n;
}

static int w_header(vouch_cpio_writer *w, const struct vouch_cpio_entry *e, const char *name,
		    uint32_t check)
{
	char hdr[NEWCX_HDR_LEN];
	size_t xsize = w->format == VOUCH_CPIO_NEWCX ? newcx_xattr_size(e) : 0;
	size_t hl;
	int r;

	if (xsize > VOUCH_CPIO_XATTRS_MAX)
		return ctx_err(w->ctx, -EINVAL, "member '%s': too many xattr bytes", name);
	hl = format_header(hdr, w->format, e, name, e->size, check, (uint32_t)xsize);
	r = w_emit(w, hdr, hl);
	if (r >= 0)
		r = w_emit(w, name, strlen(name) + 1);
	if (r >= 0)
		r = w_pad(w, 4);
	if (r >= 0 && w->format == VOUCH_CPIO_NEWCX)
		r = w_xattrs_newcx(w, e);
	return r;
}

/* Proposal B: a METADATA!!! regular file with one TYPE_XATTR record per xattr (§11.7). */
static int w_metadata(vouch_cpio_writer *w, const struct vouch_cpio_entry *e)
{
	struct vouch_cpio_entry m = {
		.name = VOUCH_CPIO_METADATA_NAME,
		.mode = S_IFREG,
		.nlink = 1,
		.mtime = e->mtime,
		.devmajor = e->devmajor,
		.devminor = e->devminor,
	};
	_cleanup_free_ uint8_t *body = NULL;
	size_t len = 0, off = 0;
	int r;

	for (size_t i = 0; i < e->n_xattrs; i++)
		len += 10 + strlen(e->xattrs[i].name) + 1 + e->xattrs[i].value_len;
	body = mem_alloc(len ? len : 1);
	if (!body)
		return -ENOMEM;
	for (size_t i = 0; i < e->n_xattrs; i++) {
		const struct vouch_cpio_xattr *x = &e->xattrs[i];
		size_t nl = strlen(x->name) + 1, rec = 10 + nl + x->value_len;

		/* the proposed generator writes the size in lower case ("%.8lx") */
		for (unsigned k = 8; k-- > 0;)
			body[off + 7 - k] = (uint8_t)"0123456789abcdef"[(rec >> (k * 4)) & 0xf];
		body[off + 8] = 1; /* c_version */
		body[off + 9] = 1; /* TYPE_XATTR */
		memcpy(body + off + 10, x->name, nl);
		if (x->value_len)
			memcpy(body + off + 10 + nl, x->value, x->value_len);
		off += rec;
	}
	m.size = len;
	r = w_header(w, &m, m.name, 0);
	if (r >= 0)
		r = w_emit(w, body, len);
	return r < 0 ? r : w_pad(w, 4);
}

static int w_after(vouch_cpio_writer *w, const struct vouch_cpio_entry *e)
{
	int r = w_pad(w, 4);

	if (r >= 0 && w->format == VOUCH_CPIO_METADATA && e->n_xattrs)
		r = w_metadata(w, e);
	if (r < 0)
		w->failed = true;
	return r;
}

static uint32_t sum_bytes(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s += p[i];
	return s;
}

VOUCH_EXPORT int vouch_cpio_writer_add(vouch_cpio_writer *w, const struct vouch_cpio_entry *e,
				       const uint8_t *data, size_t len)
{
	const char *name;
	int r = check_entry(w, e, &name);

	if (r < 0)
		return r;
	if (e->size != len || (len && !data))
		return ctx_err(w->ctx, -EINVAL, "member '%s': size does not match the data", name);
	/* like gen_init_cpio and the kernel, only regular files carry a checksum */
	r = w_header(w, e, name,
		     w->format == VOUCH_CPIO_CRC && S_ISREG(e->mode) ? sum_bytes(0, data, len) : 0);
	if (r >= 0 && len)
		r = w_emit(w, data, len);
	if (r < 0) {
		w->failed = true;
		return r;
	}
	return w_after(w, e);
}

static int read_full(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = read(fd, buf + got, n - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EIO;
		got += (size_t)k;
	}
	return 0;
}

VOUCH_EXPORT int vouch_cpio_writer_add_fd(vouch_cpio_writer *w, const struct vouch_cpio_entry *e,
					  int fd)
{
	uint32_t check = 0;
	const char *name;
	uint64_t left;
	int r = check_entry(w, e, &name);

	if (r < 0)
		return r;
	if (fd < 0)
		return -EINVAL;
	if (w->format == VOUCH_CPIO_CRC && S_ISREG(e->mode) && e->size) {
		off_t start = lseek(fd, 0, SEEK_CUR);

		if (start < 0)
			return ctx_err(w->ctx, -errno, "member '%s': crc format needs a seekable file",
				       name);
		r = w_flush(w);
		if (r < 0)
			return r;
		for (left = e->size; left;) {
			size_t k = left > IO_BUF_SIZE ? IO_BUF_SIZE : (size_t)left;

			r = read_full(fd, w->buf, k);
			if (r < 0)
				return ctx_err(w->ctx, r, "cannot read data of '%s': %s", name,
					       r == -EIO ? "file shrank" : vouch_strerror(r));
			check = sum_bytes(check, w->buf, k);
			left -= k;
		}
		if (lseek(fd, start, SEEK_SET) < 0)
			return ctx_err(w->ctx, -errno, "cannot rewind '%s'", name);
	}
	r = w_header(w, e, name, check);
	/* read straight into the output buffer: one copy per byte */
	for (left = e->size; r >= 0 && left;) {
		size_t space = IO_BUF_SIZE - w->len, k;

		if (!space) {
			r = w_flush(w);
			continue;
		}
		k = left < space ? (size_t)left : space;
		r = read_full(fd, w->buf + w->len, k);
		if (r < 0) {
			r = ctx_err(w->ctx, r, "cannot read data of '%s': %s", name,
				    r == -EIO ? "file shrank while archiving" : vouch_strerror(r));
			break;
		}
		w->len += k;
		w->offset += k;
		left -= k;
	}
	if (r < 0) {
		w->failed = true;
		return r;
	}
	return w_after(w, e);
}

VOUCH_EXPORT int vouch_cpio_writer_finish(vouch_cpio_writer *w)
{
	struct vouch_cpio_entry t = { .name = VOUCH_CPIO_TRAILER, .nlink = 1 };
	char hdr[NEWCX_HDR_LEN];
	size_t hl;
	int r;

	if (!w)
		return -EINVAL;
	if (w->finished || w->failed)
		return ctx_err(w->ctx, -EINVAL, "archive already finished or failed");
	hl = format_header(hdr, w->format, &t, t.name, 0, 0, 0);
	r = w_emit(w, hdr, hl);
	if (r >= 0)
		r = w_emit(w, t.name, strlen(t.name) + 1);
	if (r >= 0)
		r = w_pad(w, 4);
	if (r >= 0)
		r = w_pad(w, 512);
	if (r >= 0)
		r = w_flush(w);
	if (r >= 0)
		r = w_compress(w, NULL, 0, true);
	if (r < 0) {
		w->failed = true;
		return r;
	}
	w->finished = true;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Reader                                                                                   */

enum { DEC_NONE, DEC_GZIP, DEC_ZSTD, DEC_XZ };

struct vouch_cpio_reader {
	vouch_ctx *ctx;
	/* raw input */
	int fd;
	const uint8_t *mem;
	size_t mem_len;
	uint8_t *ibuf;
	size_t ipos, ilen;
	bool ieof;
	bool seekable;
	uint64_t fsize, fpos; /* regular-file input: size and position of the fd */
	uint64_t raw_off;     /* raw bytes consumed */
	/* decompression of the current segment */
	int dec;
	bool dec_end;
	z_stream z;
	bool z_init;
	ZSTD_DStream *zd;
	lzma_stream xz;
	bool xz_init;
	uint8_t *dbuf;
	size_t dpos, dlen;
	uint64_t seg_off; /* logical bytes consumed in this segment (4-alignment) */
	/* member state */
	bool in_archive;
	unsigned archive_no;
	uint64_t data_left;
	bool sum_data;
	uint32_t sum, want_sum;
	char cur_name[VOUCH_CPIO_NAME_MAX + 1];
	char last_name[VOUCH_CPIO_NAME_MAX + 1];
	bool have_last;
	uint8_t *xbuf;
	size_t xcap;
	struct vouch_cpio_xattr *xattrs;
	size_t n_xattrs, xattrs_cap;
	int failed; /* sticky error */
};

static bool is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned hexval(uint8_t c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

VOUCH_EXPORT void vouch_cpio_reader_free(vouch_cpio_reader *r)
{
	if (!r)
		return;
	if (r->z_init)
		inflateEnd(&r->z);
	ZSTD_freeDStream(r->zd);
	if (r->xz_init)
		lzma_end(&r->xz);
	free(r->ibuf);
	free(r->dbuf);
	free(r->xbuf);
	free(r->xattrs);
	free(r);
}

static int reader_new(vouch_ctx *ctx, vouch_cpio_reader **ret)
{
	vouch_cpio_reader *r;

	if (!ctx || !ret)
		return -EINVAL;
	r = mem_zalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->ctx = ctx;
	r->fd = -1;
	*ret = r;
	return 0;
}

VOUCH_EXPORT int vouch_cpio_reader_new_fd(vouch_ctx *ctx, int fd, vouch_cpio_reader **ret_reader)
{
	vouch_cpio_reader *r;
	struct stat st;
	int k;

	if (fd < 0)
		return -EINVAL;
	k = reader_new(ctx, &r);
	if (k < 0)
		return k;
	r->fd = fd;
	r->ibuf = mem_alloc(IO_BUF_SIZE);
	if (!r->ibuf) {
		vouch_cpio_reader_free(r);
		return -ENOMEM;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		off_t pos = lseek(fd, 0, SEEK_CUR);

		if (pos >= 0 && pos <= st.st_size) {
			r->seekable = true;
			r->fsize = (uint64_t)st.st_size;
			r->fpos = (uint64_t)pos;
		}
	}
	*ret_reader = r;
	return 0;
}

VOUCH_EXPORT int vouch_cpio_reader_new_mem(vouch_ctx *ctx, const uint8_t *buf, size_t len,
					   vouch_cpio_reader **ret_reader)
{
	vouch_cpio_reader *r;
	int k;

	if (!buf && len)
		return -EINVAL;
	k = reader_new(ctx, &r);
	if (k < 0)
		return k;
	r->mem = buf ? buf : (const uint8_t *)"";
	r->mem_len = len;
	*ret_reader = r;
	return 0;
}

unsigned cpio_reader_archive_no(const vouch_cpio_reader *r)
{
	return r->archive_no;
}

/* Raw input: point at buffered bytes, reading more when none are left. */
static int raw_avail(vouch_cpio_reader *r, const uint8_t **p, size_t *n)
{
	if (r->mem) {
		*p = r->mem + r->ipos;
		*n = r->mem_len - r->ipos;
		return 0;
	}
	if (r->ipos == r->ilen && !r->ieof) {
		ssize_t k;

		do
			k = read(r->fd, r->ibuf, IO_BUF_SIZE);
		while (k < 0 && errno == EINTR);
		if (k < 0)
			return ctx_err(r->ctx, -errno, "cannot read the archive: %m");
		r->ipos = 0;
		r->ilen = (size_t)k;
		r->fpos += (uint64_t)k;
		if (k == 0)
			r->ieof = true;
	}
	*p = r->ibuf + r->ipos;
	*n = r->ilen - r->ipos;
	return 0;
}

/* Make at least @need raw bytes visible when the input has them (a magic across reads). */
static int raw_fill(vouch_cpio_reader *r, size_t need)
{
	if (r->mem || r->ilen - r->ipos >= need || r->ieof)
		return 0;
	memmove(r->ibuf, r->ibuf + r->ipos, r->ilen - r->ipos);
	r->ilen -= r->ipos;
	r->ipos = 0;
	while (r->ilen < need && !r->ieof) {
		ssize_t k = read(r->fd, r->ibuf + r->ilen, IO_BUF_SIZE - r->ilen);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return ctx_err(r->ctx, -errno, "cannot read the archive: %m");
		if (k == 0)
			r->ieof = true;
		r->ilen += (size_t)k;
		r->fpos += (uint64_t)k;
	}
	return 0;
}

static void raw_consume(vouch_cpio_reader *r, size_t n)
{
	r->ipos += n;
	r->raw_off += n;
}

static int dec_start(vouch_cpio_reader *r, int kind)
{
	if (!r->dbuf) {
		r->dbuf = mem_alloc(DEC_BUF_SIZE);
		if (!r->dbuf)
			return -ENOMEM;
	}
	switch (kind) {
	case DEC_GZIP:
		if (!r->z_init) {
			memset(&r->z, 0, sizeof(r->z));
			if (inflateInit2(&r->z, 15 + 16) != Z_OK)
				return -ENOMEM;
			r->z_init = true;
		} else if (inflateReset(&r->z) != Z_OK) {
			return -EIO;
		}
		break;
	case DEC_ZSTD:
		if (!r->zd) {
			r->zd = ZSTD_createDStream();
			if (!r->zd)
				return -ENOMEM;
			/* hard cap on the window: 128 MiB, like a bounded-memory boot decoder */
			ZSTD_DCtx_setParameter(r->zd, ZSTD_d_windowLogMax, 27);
		}
		ZSTD_DCtx_reset(r->zd, ZSTD_reset_session_only);
		break;
	case DEC_XZ:
		if (r->xz_init)
			lzma_end(&r->xz);
		memset(&r->xz, 0, sizeof(r->xz));
		if (lzma_stream_decoder(&r->xz, (uint64_t)256 << 20, 0) != LZMA_OK)
			return -ENOMEM;
		r->xz_init = true;
		break;
	}
	r->dec = kind;
	r->dec_end = false;
	r->dpos = r->dlen = 0;
	r->seg_off = 0;
	return 0;
}

/* Run the decompressor until it has produced output or the stream ended. */
static int dec_step(vouch_cpio_reader *r)
{
	static const char *const names[] = { "", "gzip", "zstd", "xz" };

	while (!r->dec_end) {
		const uint8_t *in;
		size_t n, used = 0, out = 0;
		int k = raw_avail(r, &in, &n);

		if (k < 0)
			return k;
		if (n == 0)
			return ctx_err(r->ctx, -EBADMSG, "truncated %s stream at offset %llu",
				       names[r->dec], (unsigned long long)r->raw_off);
		switch (r->dec) {
		case DEC_GZIP: {
			int zr;

			r->z.next_in = (Bytef *)in;
			r->z.avail_in = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
			r->z.next_out = r->dbuf;
			r->z.avail_out = (uInt)DEC_BUF_SIZE;
			zr = inflate(&r->z, Z_NO_FLUSH);
			used = (size_t)(r->z.next_in - in);
			out = DEC_BUF_SIZE - r->z.avail_out;
			if (zr == Z_STREAM_END)
				r->dec_end = true;
			else if (zr != Z_OK && zr != Z_BUF_ERROR)
				return ctx_err(r->ctx, -EBADMSG, "corrupt gzip stream at offset %llu: %s",
					       (unsigned long long)r->raw_off,
					       r->z.msg ? r->z.msg : "error");
			break;
		}
		case DEC_ZSTD: {
			ZSTD_inBuffer zi = { in, n, 0 };
			ZSTD_outBuffer zo = { r->dbuf, DEC_BUF_SIZE, 0 };
			size_t zr = ZSTD_decompressStream(r->zd, &zo, &zi);

			if (ZSTD_isError(zr))
				return ctx_err(r->ctx, -EBADMSG, "corrupt zstd stream at offset %llu: %s",
					       (unsigned long long)r->raw_off, ZSTD_getErrorName(zr));
			used = zi.pos;
			out = zo.pos;
			if (zr == 0)
				r->dec_end = true;
			break;
		}
		case DEC_XZ: {
			lzma_ret lr;

			r->xz.next_in = in;
			r->xz.avail_in = n;
			r->xz.next_out = r->dbuf;
			r->xz.avail_out = DEC_BUF_SIZE;
			lr = lzma_code(&r->xz, LZMA_RUN);
			used = n - r->xz.avail_in;
			out = DEC_BUF_SIZE - r->xz.avail_out;
			if (lr == LZMA_STREAM_END)
				r->dec_end = true;
			else if (lr != LZMA_OK)
				return ctx_err(r->ctx, -EBADMSG, "corrupt xz stream at offset %llu (%d)",
					       (unsigned long long)r->raw_off, (int)lr);
			break;
		}
		}
		raw_consume(r, used);
		r->dpos = 0;
		r->dlen = out;
		if (out)
			return 0;
		if (!used && !r->dec_end)
			return ctx_err(r->ctx, -EBADMSG, "%s stream makes no progress at offset %llu",
				       names[r->dec], (unsigned long long)r->raw_off);
	}
	return 0;
}

/* Logical bytes of the current segment; *n == 0 means the segment (or input) ended. */
static int lg_avail(vouch_cpio_reader *r, const uint8_t **p, size_t *n)
{
	int k;

	if (r->dec == DEC_NONE)
		return raw_avail(r, p, n);
	if (r->dpos == r->dlen && !r->dec_end) {
		k = dec_step(r);
		if (k < 0)
			return k;
	}
	*p = r->dbuf + r->dpos;
	*n = r->dlen - r->dpos;
	return 0;
}

static void lg_consume(vouch_cpio_reader *r, size_t n)
{
	if (r->dec == DEC_NONE)
		raw_consume(r, n);
	else
		r->dpos += n;
	r->seg_off += n;
}

static int truncated(vouch_cpio_reader *r, const char *what)
{
	return ctx_err(r->ctx, -EBADMSG, "truncated archive: %s runs past the end of the %s",
		       what, r->dec == DEC_NONE ? "input" : "compressed stream");
}

static int lg_read(vouch_cpio_reader *r, void *buf, size_t len, const char *what)
{
	uint8_t *o = buf;

	while (len) {
		const uint8_t *p;
		size_t n;
		int k = lg_avail(r, &p, &n);

		if (k < 0)
			return k;
		if (!n)
			return truncated(r, what);
		if (n > len)
			n = len;
		memcpy(o, p, n);
		lg_consume(r, n);
		o += n;
		len -= n;
	}
	return 0;
}

static int lg_skip(vouch_cpio_reader *r, uint64_t len, const char *what)
{
	while (len) {
		const uint8_t *p;
		size_t n;
		int k;

		/* uncompressed regular-file input: seek over what is not buffered */
		if (r->dec == DEC_NONE && !r->mem && r->seekable && r->ipos == r->ilen && !r->ieof &&
		    len > IO_BUF_SIZE) {
			if (len > r->fsize - r->fpos)
				return truncated(r, what);
			if (lseek(r->fd, (off_t)len, SEEK_CUR) < 0)
				return ctx_err(r->ctx, -errno, "cannot seek in the archive: %m");
			r->fpos += len;
			r->raw_off += len;
			r->seg_off += len;
			return 0;
		}
		k = lg_avail(r, &p, &n);
		if (k < 0)
			return k;
		if (!n)
			return truncated(r, what);
		if (n > len)
			n = (size_t)len;
		lg_consume(r, n);
		len -= n;
	}
	return 0;
}

static int lg_pad4(vouch_cpio_reader *r, const char *what)
{
	return lg_skip(r, (4 - (r->seg_off & 3)) & 3, what);
}

/* Strict 8/16-digit hex field: the kernel stops silently at a non-hex byte, we refuse. */
static int hex_field(vouch_cpio_reader *r, struct cursor *c, unsigned width, const char *field,
		     uint64_t *ret)
{
	const uint8_t *p;
	uint64_t v = 0;

	if (cur_bytes(c, width, &p) < 0)
		return ctx_err(r->ctx, -EBADMSG, "short cpio header");
	for (unsigned i = 0; i < width; i++) {
		if (!is_hex(p[i]))
			return ctx_err(r->ctx, -EBADMSG,
				       "non-hex character 0x%02x in field %s of the header at offset %llu",
				       p[i], field, (unsigned long long)(r->seg_off));
		v = v << 4 | hexval(p[i]);
	}
	*ret = v;
	return 0;
}

static int xattr_push(vouch_cpio_reader *r, const char *name, const uint8_t *value, size_t len)
{
	if (r->n_xattrs == r->xattrs_cap) {
		size_t cap = r->xattrs_cap ? r->xattrs_cap * 2 : 8;
		struct vouch_cpio_xattr *x = mem_reallocarray(r->xattrs, cap, sizeof(*x));

		if (!x)
			return -ENOMEM;
		r->xattrs = x;
		r->xattrs_cap = cap;
	}
	r->xattrs[r->n_xattrs++] = (struct vouch_cpio_xattr){ name, value, len };
	return 0;
}

static int xbuf_fill(vouch_cpio_reader *r, size_t len, const char *what)
{
	if (len + 1 > r->xcap) {
		uint8_t *b = mem_realloc(r->xbuf, len + 1);

		if (!b)
			return -ENOMEM;
		r->xbuf = b;
		r->xcap = len + 1;
	}
	return lg_read(r, r->xbuf, len, what);
}

/* newcx: xattr_size[8] name "\0" value, back to back (§11.6). */
static int parse_newcx_xattrs(vouch_cpio_reader *r, size_t len)
{
	struct cursor c;
	int k = xbuf_fill(r, len, "xattr area");

	if (k < 0)
		return k;
	cur_init(&c, r->xbuf, len);
	while (cur_left(&c)) {
		struct cursor e;
		uint64_t size;
		const uint8_t *body, *nul;
		size_t blen;

		k = hex_field(r, &c, 8, "xattr_size", &size);
		if (k < 0)
			return k;
		if (size < 8 + 2 || size - 8 > cur_left(&c))
			return ctx_err(r->ctx, -EBADMSG, "member '%s': xattr entry size %llu out of range",
				       r->cur_name, (unsigned long long)size);
		cur_sub(&c, (size_t)(size - 8), &e);
		blen = cur_left(&e);
		cur_bytes(&e, blen, &body);
		nul = memchr(body, 0, blen);
		if (!nul || nul == body)
			return ctx_err(r->ctx, -EBADMSG, "member '%s': xattr name without NUL",
				       r->cur_name);
		k = xattr_push(r, (const char *)body, nul + 1,
			       blen - (size_t)(nul + 1 - body));
		if (k < 0)
			return k;
	}
	return 0;
}

/* Proposal B body: c_size[8] c_version c_type payload (§11.7). */
static int parse_metadata(vouch_cpio_reader *r, size_t len)
{
	struct cursor c;
	int k = xbuf_fill(r, len, "METADATA!!! body");

	if (k < 0)
		return k;
	r->data_left = 0;
	cur_init(&c, r->xbuf, len);
	while (cur_left(&c)) {
		struct cursor rec;
		uint64_t size;
		uint8_t version, type;
		const uint8_t *body, *nul;
		size_t blen;

		k = hex_field(r, &c, 8, "c_size", &size);
		if (k < 0)
			return k;
		if (size < 10 || size - 8 > cur_left(&c))
			return ctx_err(r->ctx, -EBADMSG, "malformed METADATA!!! record (size %llu) after '%s'",
				       (unsigned long long)size, r->last_name);
		cur_sub(&c, (size_t)(size - 8), &rec);
		cur_u8(&rec, &version);
		cur_u8(&rec, &type);
		if (version != 1)
			return ctx_err(r->ctx, -EBADMSG, "METADATA!!! record version %u unsupported",
				       version);
		if (type != 1) /* TYPE_NONE and unknown types carry nothing we apply */
			continue;
		blen = cur_left(&rec);
		cur_bytes(&rec, blen, &body);
		nul = blen ? memchr(body, 0, blen) : NULL;
		if (!nul || nul == body)
			return ctx_err(r->ctx, -EBADMSG, "METADATA!!! xattr record without a name");
		k = xattr_push(r, (const char *)body, nul + 1, blen - (size_t)(nul + 1 - body));
		if (k < 0)
			return k;
	}
	return 0;
}

static int finish_data(vouch_cpio_reader *r)
{
	int k;

	if (r->data_left) {
		if (r->sum_data) {
			uint8_t buf[16384];

			while (r->data_left) {
				size_t got;

				k = vouch_cpio_reader_read(r, buf, sizeof(buf), &got);
				if (k < 0)
					return k;
			}
		} else {
			k = lg_skip(r, r->data_left, "member data");
			if (k < 0)
				return k;
			r->data_left = 0;
			return lg_pad4(r, "data padding");
		}
	}
	return 0;
}

static int next_header(vouch_cpio_reader *r, struct vouch_cpio_entry *e)
{
	uint8_t hdr[NEWCX_HDR_LEN];
	uint64_t f[16];
	const uint8_t *p;
	struct cursor c;
	size_t n, hl;
	int k, fmt;

	for (;;) {
		k = lg_avail(r, &p, &n);
		if (k < 0)
			return k;
		if (!r->in_archive) {
			if (!n) {
				if (r->dec != DEC_NONE) { /* compressed segment done: back to raw */
					r->dec = DEC_NONE;
					r->seg_off = 0;
					continue;
				}
				return 0;
			}
			if (p[0] == 0) { /* NUL padding between archives */
				size_t z = 0;

				while (z < n && p[z] == 0)
					z++;
				lg_consume(r, z);
				continue;
			}
			if (r->dec == DEC_NONE) {
				int kind = DEC_NONE;

				k = raw_fill(r, 6);
				if (k >= 0)
					k = raw_avail(r, &p, &n);
				if (k < 0)
					return k;

				if (n >= 2 && p[0] == 0x1f && (p[1] == 0x8b || p[1] == 0x9e))
					kind = DEC_GZIP;
				else if (n >= 4 && !memcmp(p, "\x28\xb5\x2f\xfd", 4))
					kind = DEC_ZSTD;
				else if (n >= 6 && !memcmp(p, "\xfd" "7zXZ\0", 6))
					kind = DEC_XZ;
				if (kind != DEC_NONE) {
					k = dec_start(r, kind);
					if (k < 0)
						return k;
					continue;
				}
			}
			if (r->seg_off & 3)
				return ctx_err(r->ctx, -EBADMSG,
					       "broken padding: header at unaligned offset %llu",
					       (unsigned long long)r->seg_off);
		} else if (!n) {
			return ctx_err(r->ctx, -EBADMSG,
				       "truncated archive: no TRAILER!!! before the end of the %s",
				       r->dec == DEC_NONE ? "input" : "compressed stream");
		}

		k = lg_read(r, hdr, 6, "header");
		if (k < 0)
			return k;
		if (!memcmp(hdr, "070701", 6))
			fmt = VOUCH_CPIO_NEWC;
		else if (!memcmp(hdr, "070702", 6))
			fmt = VOUCH_CPIO_CRC;
		else if (!memcmp(hdr, "070703", 6))
			fmt = VOUCH_CPIO_NEWCX;
		else if (!memcmp(hdr, "070707", 6))
			return ctx_err(r->ctx, -EBADMSG,
				       "old portable cpio format (070707) is not supported, use newc");
		else
			return ctx_err(r->ctx, -EBADMSG, "bad magic at offset %llu: not a newc archive",
				       (unsigned long long)(r->seg_off - 6));
		hl = fmt == VOUCH_CPIO_NEWCX ? NEWCX_HDR_LEN : NEWC_HDR_LEN;
		k = lg_read(r, hdr + 6, hl - 6, "header");
		if (k < 0)
			return k;
		r->in_archive = true;

		cur_init(&c, hdr + 6, hl - 6);
		/* ino mode uid gid nlink mtime [mtime_ns] size devmaj devmin rdevmaj rdevmin namesize check|xattrsize */
		{
			static const char *const fn[] = { "ino", "mode", "uid", "gid", "nlink",
							  "mtime", "size", "devmajor", "devminor",
							  "rdevmajor", "rdevminor", "namesize", "check" };
			static const char *const fx[] = { "ino", "mode", "uid", "gid", "nlink",
							  "mtime", "mtime_ns", "size", "devmajor",
							  "devminor", "rdevmajor", "rdevminor",
							  "namesize", "xattrsize" };
			static const unsigned wx[] = { 8, 8, 8, 8, 8, 16, 8, 16, 8, 8, 8, 8, 8, 8 };

			if (fmt == VOUCH_CPIO_NEWCX) {
				uint64_t t[14];

				for (unsigned i = 0; i < 14; i++) {
					k = hex_field(r, &c, wx[i], fx[i], &t[i]);
					if (k < 0)
						return k;
				}
				for (unsigned i = 0; i < 5; i++)
					f[i] = t[i];
				f[5] = t[5];
				f[6] = t[7];
				for (unsigned i = 7; i < 12; i++)
					f[i] = t[i + 1];
				f[12] = t[13]; /* xattrsize */
				if (t[5] > INT64_MAX)
					return ctx_err(r->ctx, -EBADMSG, "mtime out of range");
			} else {
				for (unsigned i = 0; i < 13; i++) {
					k = hex_field(r, &c, 8, fn[i], &f[i]);
					if (k < 0)
						return k;
				}
			}
		}
		memset(e, 0, sizeof(*e));
		e->format = fmt;
		e->ino = (uint32_t)f[0];
		e->mode = (uint32_t)f[1];
		e->uid = (uint32_t)f[2];
		e->gid = (uint32_t)f[3];
		e->nlink = (uint32_t)f[4];
		e->mtime = (int64_t)f[5];
		e->size = f[6];
		e->devmajor = (uint32_t)f[7];
		e->devminor = (uint32_t)f[8];
		e->rdevmajor = (uint32_t)f[9];
		e->rdevminor = (uint32_t)f[10];
		if (fmt == VOUCH_CPIO_CRC)
			e->check = (uint32_t)f[12];
		if (f[11] < 2 || f[11] > VOUCH_CPIO_NAME_MAX)
			return ctx_err(r->ctx, -EBADMSG, "name size %llu out of range (2..%u)",
				       (unsigned long long)f[11], VOUCH_CPIO_NAME_MAX);
		k = lg_read(r, r->cur_name, (size_t)f[11], "member name");
		if (k < 0)
			return k;
		if (r->cur_name[f[11] - 1] != '\0')
			return ctx_err(r->ctx, -EBADMSG, "member name is not NUL-terminated");
		if (!r->cur_name[0])
			return ctx_err(r->ctx, -EBADMSG, "empty member name");
		k = lg_pad4(r, "name padding");
		if (k < 0)
			return k;
		e->name = r->cur_name;
		r->n_xattrs = 0;
		if (fmt == VOUCH_CPIO_NEWCX && f[12]) {
			if (f[12] > VOUCH_CPIO_XATTRS_MAX)
				return ctx_err(r->ctx, -EBADMSG, "member '%s': xattr size %llu over the cap",
					       r->cur_name, (unsigned long long)f[12]);
			k = parse_newcx_xattrs(r, (size_t)f[12]);
			if (k >= 0)
				k = lg_pad4(r, "xattr padding");
			if (k < 0)
				return k;
		}
		r->data_left = e->size;
		r->sum_data = fmt == VOUCH_CPIO_CRC && S_ISREG(e->mode);
		r->sum = 0;
		r->want_sum = e->check;

		if (!strcmp(r->cur_name, VOUCH_CPIO_TRAILER)) {
			k = finish_data(r);
			if (k >= 0)
				k = lg_pad4(r, "trailer padding");
			if (k < 0)
				return k;
			r->in_archive = false;
			r->have_last = false;
			r->archive_no++;
			continue;
		}
		if (!strcmp(r->cur_name, VOUCH_CPIO_METADATA_NAME) && fmt != VOUCH_CPIO_NEWCX) {
			if (!S_ISREG(e->mode))
				return ctx_err(r->ctx, -EBADMSG, "METADATA!!! member is not a regular file");
			if (e->size > VOUCH_CPIO_XATTRS_MAX)
				return ctx_err(r->ctx, -EBADMSG, "METADATA!!! member too large");
			k = parse_metadata(r, (size_t)e->size);
			if (k >= 0 && r->sum_data && sum_bytes(0, r->xbuf, (size_t)e->size) != e->check)
				k = ctx_err(r->ctx, -EBADMSG, "bad data checksum of a METADATA!!! member");
			r->sum_data = false;
			if (k >= 0)
				k = lg_pad4(r, "data padding");
			if (k < 0)
				return k;
			e->metadata = true;
			e->metadata_for = r->have_last ? r->last_name : NULL;
		} else {
			memcpy(r->last_name, r->cur_name, (size_t)f[11]);
			r->have_last = true;
			if (!e->size) {
				k = lg_pad4(r, "data padding");
				if (k < 0)
					return k;
			}
		}
		e->xattrs = r->n_xattrs ? r->xattrs : NULL;
		e->n_xattrs = r->n_xattrs;
		return 1;
	}
}

VOUCH_EXPORT int vouch_cpio_reader_next(vouch_cpio_reader *r, struct vouch_cpio_entry *ret_entry)
{
	struct vouch_cpio_entry e;
	int k;

	if (!r || !ret_entry)
		return -EINVAL;
	if (r->failed)
		return r->failed;
	k = finish_data(r);
	if (k >= 0)
		k = next_header(r, &e);
	if (k < 0) {
		r->failed = k;
		return k;
	}
	if (k > 0)
		*ret_entry = e;
	return k;
}

VOUCH_EXPORT int vouch_cpio_reader_read(vouch_cpio_reader *r, uint8_t *buf, size_t size,
					size_t *ret_len)
{
	size_t done = 0;
	int k;

	if (!r || (!buf && size) || !ret_len)
		return -EINVAL;
	if (r->failed)
		return r->failed;
	while (done < size && r->data_left) {
		const uint8_t *p;
		size_t n;

		k = lg_avail(r, &p, &n);
		if (k >= 0 && !n)
			k = ctx_err(r->ctx, -EBADMSG,
				    "truncated archive: data of '%s' runs past the end of the %s",
				    r->cur_name, r->dec == DEC_NONE ? "input" : "compressed stream");
		if (k < 0) {
			r->failed = k;
			return k;
		}
		if (n > size - done)
			n = size - done;
		if (n > r->data_left)
			n = (size_t)r->data_left;
		memcpy(buf + done, p, n);
		lg_consume(r, n);
		if (r->sum_data)
			r->sum = sum_bytes(r->sum, p, n);
		r->data_left -= n;
		done += n;
	}
	if (!r->data_left && r->in_archive) {
		if (r->sum_data) {
			r->sum_data = false;
			if (r->sum != r->want_sum) {
				r->failed = ctx_err(r->ctx, -EBADMSG,
						    "bad data checksum of '%s' (stored %08x, data %08x)",
						    r->cur_name, r->want_sum, r->sum);
				return r->failed;
			}
		}
		if (r->seg_off & 3) {
			k = lg_pad4(r, "data padding");
			if (k < 0) {
				r->failed = k;
				return k;
			}
		}
	}
	*ret_len = done;
	return 0;
}

vouch_ctx *cpio_reader_ctx(const vouch_cpio_reader *r)
{
	return r->ctx;
}
