// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cpio newc/crc/newcx/METADATA!!! reader (FORMATS.md §11): a raw input (fd or memory), a
 * decompressor of the compression layer (lib/cpio-compress.c) for the current segment,
 * and the member parser, which reads every header byte through the bounds-checked cursor.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpio-internal.h"
#include "cursor.h"

#define IO_BUF_SIZE CPIO_IO_BUF_SIZE
/*
 * Decompressed bytes are handed out from a smaller buffer: records are copied across its
 * end anyway (lg_read), and a 1 MiB buffer per reader made every small image pay for a
 * large mapping (most of fuzz-cpio's time under ASan).
 */
#define DEC_BUF_SIZE ((size_t)64 << 10)
#define NEWC_HDR_LEN CPIO_NEWC_HDR_LEN
#define NEWCX_HDR_LEN CPIO_NEWCX_HDR_LEN
#define DEC_NONE VOUCH_CPIO_COMPRESS_NONE

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
	struct cpio_codec dz; /* dz.kind: DEC_NONE between compressed segments */
	bool dec_end;
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
	cpio_codec_done(&r->dz);
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
	int k;

	if (!r->dbuf) {
		r->dbuf = mem_alloc(DEC_BUF_SIZE);
		if (!r->dbuf)
			return -ENOMEM;
	}
	k = cpio_decoder_start(&r->dz, kind);
	if (k < 0)
		return k;
	r->dec_end = false;
	r->dpos = r->dlen = 0;
	r->seg_off = 0;
	return 0;
}

/* Run the decompressor until it has produced output or the stream ended. */
static int dec_step(vouch_cpio_reader *r)
{
	while (!r->dec_end) {
		struct cpio_zstep s = { .out = r->dbuf, .out_size = DEC_BUF_SIZE };
		char why[128];
		int k = raw_avail(r, &s.in, &s.in_len);

		if (k < 0)
			return k;
		if (s.in_len == 0)
			return ctx_err(r->ctx, -EBADMSG, "truncated %s stream at offset %llu",
				       cpio_codec_name(r->dz.kind), (unsigned long long)r->raw_off);
		if (cpio_codec_step(&r->dz, &s, false, why, sizeof(why)) < 0)
			return ctx_err(r->ctx, -EBADMSG, "corrupt %s stream at offset %llu%s",
				       cpio_codec_name(r->dz.kind), (unsigned long long)r->raw_off,
				       why);
		if (s.end)
			r->dec_end = true;
		raw_consume(r, s.used);
		r->dpos = 0;
		r->dlen = s.produced;
		if (s.produced)
			return 0;
		if (!s.used && !r->dec_end)
			return ctx_err(r->ctx, -EBADMSG, "%s stream makes no progress at offset %llu",
				       cpio_codec_name(r->dz.kind), (unsigned long long)r->raw_off);
	}
	return 0;
}

/* Logical bytes of the current segment; *n == 0 means the segment (or input) ended. */
static int lg_avail(vouch_cpio_reader *r, const uint8_t **p, size_t *n)
{
	int k;

	if (r->dz.kind == DEC_NONE)
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
	if (r->dz.kind == DEC_NONE)
		raw_consume(r, n);
	else
		r->dpos += n;
	r->seg_off += n;
}

static int truncated(vouch_cpio_reader *r, const char *what)
{
	return ctx_err(r->ctx, -EBADMSG, "truncated archive: %s runs past the end of the %s",
		       what, r->dz.kind == DEC_NONE ? "input" : "compressed stream");
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
		if (r->dz.kind == DEC_NONE && !r->mem && r->seekable && r->ipos == r->ilen &&
		    !r->ieof && len > IO_BUF_SIZE) {
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
	if (mem_grow(&r->xattrs, &r->xattrs_cap, r->n_xattrs + 1, sizeof(*r->xattrs), 8) < 0)
		return -ENOMEM;
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

/* The compression a raw segment starts with, by its magic (DEC_NONE: none). */
static int detect_compression(vouch_cpio_reader *r, int *ret_kind)
{
	const uint8_t *p;
	size_t n;
	int k;

	k = raw_fill(r, 6);
	if (k >= 0)
		k = raw_avail(r, &p, &n);
	if (k < 0)
		return k;

	if (n >= 2 && p[0] == 0x1f && (p[1] == 0x8b || p[1] == 0x9e))
		*ret_kind = VOUCH_CPIO_COMPRESS_GZIP;
	else if (n >= 4 && !memcmp(p, "\x28\xb5\x2f\xfd", 4))
		*ret_kind = VOUCH_CPIO_COMPRESS_ZSTD;
	else if (n >= 6 && !memcmp(p, "\xfd" "7zXZ\0", 6))
		*ret_kind = VOUCH_CPIO_COMPRESS_XZ;
	else
		*ret_kind = DEC_NONE;
	return 0;
}

/*
 * Go to where the next header starts: over NUL padding between archives, into a
 * compressed segment, back out of one that ended.  1: a header follows, 0: the input ended.
 */
static int seek_header(vouch_cpio_reader *r)
{
	const uint8_t *p;
	size_t n;
	int k;

	for (;;) {
		k = lg_avail(r, &p, &n);
		if (k < 0)
			return k;
		if (r->in_archive) {
			if (!n)
				return ctx_err(r->ctx, -EBADMSG,
					       "truncated archive: no TRAILER!!! before the end of the %s",
					       r->dz.kind == DEC_NONE ? "input" : "compressed stream");
			return 1;
		}
		if (!n) {
			if (r->dz.kind != DEC_NONE) { /* compressed segment done: back to raw */
				r->dz.kind = DEC_NONE;
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
		if (r->dz.kind == DEC_NONE) {
			int kind;

			k = detect_compression(r, &kind);
			if (k >= 0 && kind != DEC_NONE)
				k = dec_start(r, kind);
			if (k < 0)
				return k;
			if (kind != DEC_NONE)
				continue;
		}
		if (r->seg_off & 3)
			return ctx_err(r->ctx, -EBADMSG,
				       "broken padding: header at unaligned offset %llu",
				       (unsigned long long)r->seg_off);
		return 1;
	}
}

/*
 * Read one header: its magic, then its hex fields into @f in newc order (ino mode uid gid
 * nlink mtime size devmajor devminor rdevmajor rdevminor namesize check|xattrsize).
 */
static int read_header(vouch_cpio_reader *r, int *ret_format, uint64_t f[13])
{
	static const char *const fn[] = { "ino", "mode", "uid", "gid", "nlink",
					  "mtime", "size", "devmajor", "devminor",
					  "rdevmajor", "rdevminor", "namesize", "check" };
	static const char *const fx[] = { "ino", "mode", "uid", "gid", "nlink",
					  "mtime", "mtime_ns", "size", "devmajor",
					  "devminor", "rdevmajor", "rdevminor",
					  "namesize", "xattrsize" };
	static const unsigned wx[] = { 8, 8, 8, 8, 8, 16, 8, 16, 8, 8, 8, 8, 8, 8 };
	uint8_t hdr[NEWCX_HDR_LEN];
	struct cursor c;
	size_t hl;
	int k, fmt;

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
	*ret_format = fmt;

	cur_init(&c, hdr + 6, hl - 6);
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
	return 0;
}

static void fill_entry(struct vouch_cpio_entry *e, int fmt, const uint64_t f[13])
{
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
}

/* The member name (@namesize bytes with its NUL) and, in newcx, its xattr area. */
static int read_name_xattrs(vouch_cpio_reader *r, struct vouch_cpio_entry *e, int fmt,
			    uint64_t namesize, uint64_t xattrsize)
{
	int k;

	if (namesize < 2 || namesize > VOUCH_CPIO_NAME_MAX)
		return ctx_err(r->ctx, -EBADMSG, "name size %llu out of range (2..%u)",
			       (unsigned long long)namesize, VOUCH_CPIO_NAME_MAX);
	k = lg_read(r, r->cur_name, (size_t)namesize, "member name");
	if (k < 0)
		return k;
	if (r->cur_name[namesize - 1] != '\0')
		return ctx_err(r->ctx, -EBADMSG, "member name is not NUL-terminated");
	if (!r->cur_name[0])
		return ctx_err(r->ctx, -EBADMSG, "empty member name");
	k = lg_pad4(r, "name padding");
	if (k < 0)
		return k;
	e->name = r->cur_name;
	r->n_xattrs = 0;
	if (fmt == VOUCH_CPIO_NEWCX && xattrsize) {
		if (xattrsize > VOUCH_CPIO_XATTRS_MAX)
			return ctx_err(r->ctx, -EBADMSG, "member '%s': xattr size %llu over the cap",
				       r->cur_name, (unsigned long long)xattrsize);
		k = parse_newcx_xattrs(r, (size_t)xattrsize);
		if (k >= 0)
			k = lg_pad4(r, "xattr padding");
		if (k < 0)
			return k;
	}
	return 0;
}

/* TRAILER!!!: the archive ends, hard-link state with it. */
static int end_archive(vouch_cpio_reader *r)
{
	int k = finish_data(r);

	if (k >= 0)
		k = lg_pad4(r, "trailer padding");
	if (k < 0)
		return k;
	r->in_archive = false;
	r->have_last = false;
	r->archive_no++;
	return 0;
}

/* A METADATA!!! member (Proposal B): its body is read and parsed here, whole. */
static int read_metadata_member(vouch_cpio_reader *r, struct vouch_cpio_entry *e)
{
	int k;

	if (!S_ISREG(e->mode))
		return ctx_err(r->ctx, -EBADMSG, "METADATA!!! member is not a regular file");
	if (e->size > VOUCH_CPIO_XATTRS_MAX)
		return ctx_err(r->ctx, -EBADMSG, "METADATA!!! member too large");
	k = parse_metadata(r, (size_t)e->size);
	if (k >= 0 && r->sum_data && cpio_sum_bytes(0, r->xbuf, (size_t)e->size) != e->check)
		k = ctx_err(r->ctx, -EBADMSG, "bad data checksum of a METADATA!!! member");
	r->sum_data = false;
	if (k >= 0)
		k = lg_pad4(r, "data padding");
	if (k < 0)
		return k;
	e->metadata = true;
	e->metadata_for = r->have_last ? r->last_name : NULL;
	return 0;
}

static int next_header(vouch_cpio_reader *r, struct vouch_cpio_entry *e)
{
	uint64_t f[13];
	int k, fmt = VOUCH_CPIO_NEWC;

	for (;;) {
		k = seek_header(r);
		if (k <= 0)
			return k;
		k = read_header(r, &fmt, f);
		if (k < 0)
			return k;
		fill_entry(e, fmt, f);
		k = read_name_xattrs(r, e, fmt, f[11], f[12]);
		if (k < 0)
			return k;
		r->data_left = e->size;
		r->sum_data = fmt == VOUCH_CPIO_CRC && S_ISREG(e->mode);
		r->sum = 0;
		r->want_sum = e->check;

		if (!strcmp(r->cur_name, VOUCH_CPIO_TRAILER)) {
			k = end_archive(r);
			if (k < 0)
				return k;
			continue;
		}
		if (!strcmp(r->cur_name, VOUCH_CPIO_METADATA_NAME) && fmt != VOUCH_CPIO_NEWCX) {
			k = read_metadata_member(r, e);
			if (k < 0)
				return k;
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
				    r->cur_name, r->dz.kind == DEC_NONE ? "input" : "compressed stream");
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
			r->sum = cpio_sum_bytes(r->sum, p, n);
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
