// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cpio newc/crc/newcx/METADATA!!! writer (FORMATS.md §11): formats headers itself and
 * streams member data through one output buffer and, optionally, a compressor of the
 * compression layer (lib/cpio-compress.c).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpio-internal.h"

#define IO_BUF_SIZE CPIO_IO_BUF_SIZE
#define NEWC_HDR_LEN CPIO_NEWC_HDR_LEN
#define NEWCX_HDR_LEN CPIO_NEWCX_HDR_LEN

static const char hexdig[] = "0123456789ABCDEF";

static void put_hex(char *out, uint64_t v, unsigned width)
{
	for (unsigned i = width; i-- > 0;) {
		out[i] = hexdig[v & 0xf];
		v >>= 4;
	}
}

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
	struct cpio_codec codec;
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
	if (w->compress == VOUCH_CPIO_COMPRESS_NONE)
		return n ? w_out(w, p, n) : 0;
	for (;;) {
		struct cpio_zstep s = { .in = p, .in_len = n, .out = w->zbuf, .out_size = IO_BUF_SIZE };
		char why[128];
		int r;

		if (cpio_codec_step(&w->codec, &s, end, why, sizeof(why)) < 0)
			return ctx_err(w->ctx, -EIO, "%s compression failed%s",
				       cpio_codec_name(w->compress), why);
		p += s.used;
		n -= s.used;
		r = w_out(w, w->zbuf, s.produced);
		if (r < 0)
			return r;
		if (end ? s.end : s.drained)
			return 0;
	}
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
	cpio_codec_done(&w->codec);
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
	if (check_reserved(ctx, opts->reserved, sizeof(opts->reserved),
			   "cpio writer options: reserved field set") < 0)
		return -EINVAL;
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
	if (cpio_encoder_init(&w->codec, w->compress, opts->level) < 0)
		goto nomem;
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
	/* newcx: ... mtime[16] mtime_ns size[16] ... xattrsize instead of check (§11.6) */
	const bool x = format == VOUCH_CPIO_NEWCX;
	const struct {
		uint64_t v;
		unsigned width;
	} f[] = {
		{ e->ino, 8 },	     { e->mode, 8 },	     { e->uid, 8 },
		{ e->gid, 8 },	     { e->nlink, 8 },	     { (uint64_t)e->mtime, x ? 16 : 8 },
		{ 0, x ? 8 : 0 },    { size, x ? 16 : 8 },   { e->devmajor, 8 },
		{ e->devminor, 8 },  { e->rdevmajor, 8 },    { e->rdevminor, 8 },
		{ namesize, 8 },     { x ? xattr_size : check, 8 },
	};
	char *p = hdr;

	memcpy(p, x ? "070703" : format == VOUCH_CPIO_CRC ? "070702" : "070701", 6);
	p += 6;
	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		put_hex(p, f[i].v, f[i].width);
		p += f[i].width;
	}
	return x ? NEWCX_HDR_LEN : NEWC_HDR_LEN;
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
		     w->format == VOUCH_CPIO_CRC && S_ISREG(e->mode) ? cpio_sum_bytes(0, data, len) : 0);
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
			check = cpio_sum_bytes(check, w->buf, k);
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
