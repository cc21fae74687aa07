// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * IMA measurement lists: streaming readers (binary in either byte order, ascii, kexec
 * buffer), writers, per-bank template digests, PCR replay and PCR files.
 * FORMATS.md §5, §6, §7.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cursor.h"
#include "log-internal.h"

#define MAX_CACHED_TEMPLATES 16
#define KEXEC_HDR_SIZE 24

struct vouch_log_reader {
	vouch_ctx *ctx;
	uint8_t *owned;
	void *map; /* the list file, mapped read-only */
	size_t map_len;
	struct cursor cur;
	struct cursor start; /* where the records begin, for reader_rewind() */
	const uint8_t *base;
	size_t total;
	int format;
	int order;
	uint64_t index;
	uint64_t max_entries;
	uint64_t kexec_count;
	int err; /* sticky: a reader that failed stays failed */
	struct log_template tmpl[MAX_CACHED_TEMPLATES];
	size_t n_tmpl, last_tmpl, evict;
	struct strbuf scratch; /* ascii: the rebuilt template data */
};

static uint64_t get_u64(const uint8_t *p, int order)
{
	uint64_t lo = log_get32(p, order), hi = log_get32(p + 4, order);

	return order == VOUCH_LOG_ORDER_BE ? (lo << 32 | hi) : (hi << 32 | lo);
}

static int kexec_header(vouch_log_reader *r, const uint8_t *buf, size_t len, bool probe)
{
	uint64_t size, count;
	int order;

	if (len < KEXEC_HDR_SIZE)
		goto bad;
	if (buf[0] == 1 && buf[1] == 0)
		order = VOUCH_LOG_ORDER_LE;
	else if (buf[0] == 0 && buf[1] == 1)
		order = VOUCH_LOG_ORDER_BE;
	else
		goto bad;
	if (r->order != VOUCH_LOG_ORDER_AUTO && r->order != order)
		goto bad;
	/* _reserved0 and _reserved1 are written as zero */
	for (int i = 2; i < 8; i++)
		if (buf[i])
			goto bad;
	size = get_u64(buf + 8, order);
	count = get_u64(buf + 16, order);
	/* the segment is page-aligned: bytes after buffer_size are padding */
	if (size < KEXEC_HDR_SIZE || size > len || count > (size - KEXEC_HDR_SIZE) / 32 + 1)
		goto bad;
	r->order = order;
	r->kexec_count = count;
	cur_init(&r->cur, buf + KEXEC_HDR_SIZE, (size_t)size - KEXEC_HDR_SIZE);
	return 0;
bad:
	if (probe)
		return -ENOENT;
	return ctx_err(r->ctx, -EBADMSG, "malformed kexec buffer header (struct ima_kexec_hdr)");
}

VOUCH_EXPORT int vouch_log_reader_new(vouch_ctx *ctx, const uint8_t *buf, size_t len,
				      const struct vouch_log_reader_options *opts,
				      vouch_log_reader **ret_reader)
{
	struct vouch_log_reader_options def = VOUCH_LOG_READER_OPTIONS_INIT;
	vouch_log_reader *r;
	int k;

	if (!ctx || (!buf && len) || !ret_reader)
		return -EINVAL;
	if (!opts)
		opts = &def;
	if (opts->version != 1 || opts->format < 0 || opts->format >= _VOUCH_LOG_FORMAT_MAX ||
	    opts->order < 0 || opts->order >= _VOUCH_LOG_ORDER_MAX)
		return ctx_err(ctx, -EINVAL, "invalid list reader options");
	for (size_t i = 0; i < ARRAY_SIZE(opts->reserved); i++)
		if (opts->reserved[i])
			return ctx_err(ctx, -EINVAL, "reserved reader options must be zero");
	r = mem_zalloc(sizeof(*r));
	if (!r)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	r->ctx = ctx;
	r->format = opts->format;
	r->order = opts->order;
	r->max_entries = opts->max_entries ? opts->max_entries : LOG_DEFAULT_MAX_ENTRIES;
	cur_init(&r->cur, buf, len);
	r->total = len;
	if (r->format == VOUCH_LOG_FORMAT_AUTO) {
		if (kexec_header(r, buf, len, true) == 0)
			r->format = VOUCH_LOG_FORMAT_KEXEC;
		else if (len && (buf[0] == ' ' || (buf[0] >= '0' && buf[0] <= '9')))
			/* a binary list starts with a u32 PCR < 24: never a space or a digit */
			r->format = VOUCH_LOG_FORMAT_ASCII;
		else
			r->format = VOUCH_LOG_FORMAT_BINARY;
	} else if (r->format == VOUCH_LOG_FORMAT_KEXEC) {
		k = kexec_header(r, buf, len, false);
		if (k < 0) {
			free(r);
			return k;
		}
	}
	if (r->format == VOUCH_LOG_FORMAT_ASCII)
		r->order = VOUCH_LOG_ORDER_LE;
	r->start = r->cur;
	r->base = buf;
	*ret_reader = r;
	return 0;
}

VOUCH_EXPORT void vouch_log_reader_free(vouch_log_reader *r)
{
	if (!r)
		return;
	free(r->owned);
	if (r->map)
		munmap(r->map, r->map_len);
	free(r->scratch.p);
	free(r);
}

/*
 * Map a regular file instead of copying it: lists of a million entries are ~120 MB and the
 * copy (and the zeroed pages behind it) cost as much as parsing them.  Returns -ENOTSUP for
 * anything that is not a non-empty regular file (securityfs files are read instead).
 */
static int map_list(vouch_ctx *ctx, const char *path, void **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	void *p;

	if (fd < 0)
		return ctx_err(ctx, -errno, "cannot open '%s': %m", path);
	if (fstat(fd, &st) < 0)
		return ctx_err(ctx, -errno, "cannot stat '%s': %m", path);
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > ((uint64_t)4 << 30))
		return -ENOTSUP;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED)
		return -ENOTSUP;
	(void)madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
	*ret = p;
	*ret_len = (size_t)st.st_size;
	return 0;
}

VOUCH_EXPORT int vouch_log_reader_open(vouch_ctx *ctx, const char *path,
				       const struct vouch_log_reader_options *opts,
				       vouch_log_reader **ret_reader)
{
	_cleanup_free_ char *def = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	vouch_log_reader *r = NULL;
	size_t len = 0;
	int k;

	if (!ctx || !ret_reader)
		return -EINVAL;
	if (!path) {
		def = ctx_path(ctx, VOUCH_LOG_DEFAULT_PATH);
		if (!def)
			return ctx_err(ctx, -ENOMEM, "out of memory");
		path = def;
	}
	{
		void *map = NULL;
		size_t map_len = 0;

		k = map_list(ctx, path, &map, &map_len);
		if (k == 0) {
			k = vouch_log_reader_new(ctx, map, map_len, opts, &r);
			if (k < 0) {
				munmap(map, map_len);
				return k;
			}
			r->map = map;
			r->map_len = map_len;
			*ret_reader = r;
			return 0;
		}
		if (k != -ENOTSUP)
			return k;
	}
	k = read_file_all(ctx, path, (size_t)4 << 30, &buf, &len);
	if (k < 0)
		return k;
	k = vouch_log_reader_new(ctx, buf, len, opts, &r);
	if (k < 0)
		return k;
	r->owned = TAKE_PTR(buf);
	*ret_reader = r;
	return 0;
}

void reader_rewind(vouch_log_reader *r)
{
	r->cur = r->start;
	r->index = 0;
	r->err = 0;
}

VOUCH_EXPORT int vouch_log_reader_format(const vouch_log_reader *r, int *ret_format,
					 int *ret_order)
{
	if (!r)
		return -EINVAL;
	if (ret_format)
		*ret_format = r->format;
	if (ret_order)
		*ret_order = r->order;
	return 0;
}

static int reader_fail(vouch_log_reader *r, int err, const char *fmt, ...) PRINTF_FMT(3, 4);
static int reader_fail(vouch_log_reader *r, int err, const char *fmt, ...)
{
	char msg[VOUCH_ERRMSG_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->err = err;
	return ctx_err(r->ctx, err, "entry %llu (byte %zu): %s", (unsigned long long)r->index + 1,
		       (size_t)(r->cur.p - r->base), msg);
}

static int lookup_template(vouch_log_reader *r, const char *name, size_t len,
			   const struct log_template **ret)
{
	struct log_template *t = &r->tmpl[r->last_tmpl];
	size_t slot;

	if (r->n_tmpl && t->name_len == len && memcmp(t->name, name, len) == 0) {
		*ret = t;
		return 0;
	}
	for (size_t i = 0; i < r->n_tmpl; i++) {
		t = &r->tmpl[i];
		if (t->name_len == len && memcmp(t->name, name, len) == 0) {
			r->last_tmpl = i;
			*ret = t;
			return 0;
		}
	}
	if (r->n_tmpl < MAX_CACHED_TEMPLATES) {
		slot = r->n_tmpl++;
	} else {
		slot = r->evict;
		r->evict = (r->evict + 1) % MAX_CACHED_TEMPLATES;
	}
	if (log_template_parse(name, len, &r->tmpl[slot]) < 0) {
		if (slot == r->n_tmpl - 1 && r->n_tmpl <= MAX_CACHED_TEMPLATES)
			r->n_tmpl--;
		return -EBADMSG;
	}
	r->last_tmpl = slot;
	*ret = &r->tmpl[slot];
	return 0;
}

static void print_name(char *out, size_t size, const char *name, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 5 < size; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c >= 0x20 && c < 0x7f && c != '\'') {
			out[n++] = (char)c;
		} else {
			snprintf(out + n, size - n, "\\x%02x", c);
			n += 4;
		}
	}
	out[n] = '\0';
}

static int detect_order(vouch_log_reader *r)
{
	const uint8_t *p = r->cur.p;
	uint32_t le, be;

	if (cur_left(&r->cur) < 4)
		return 0; /* the truncation is reported by the parser */
	le = log_get32(p, VOUCH_LOG_ORDER_LE);
	be = log_get32(p, VOUCH_LOG_ORDER_BE);
	if (le < VOUCH_PCR_COUNT && be >= VOUCH_PCR_COUNT)
		r->order = VOUCH_LOG_ORDER_LE;
	else if (be < VOUCH_PCR_COUNT && le >= VOUCH_PCR_COUNT)
		r->order = VOUCH_LOG_ORDER_BE;
	else if (cur_left(&r->cur) >= 28 &&
		 log_get32(p + 24, VOUCH_LOG_ORDER_BE) <= LOG_MAX_NAME_LEN &&
		 log_get32(p + 24, VOUCH_LOG_ORDER_LE) > LOG_MAX_NAME_LEN)
		r->order = VOUCH_LOG_ORDER_BE;
	else
		r->order = VOUCH_LOG_ORDER_LE;
	return 0;
}

static int cur_u32o(struct cursor *c, uint32_t *v, int order)
{
	return order == VOUCH_LOG_ORDER_BE ? cur_u32be(c, v) : cur_u32le(c, v);
}

static int next_binary(vouch_log_reader *r, struct vouch_log_entry *e)
{
	const struct log_template *t;
	struct cursor c = r->cur, td;
	const uint8_t *p, *name;
	uint32_t pcr, name_len, td_len, flen;
	const char *why = NULL;
	char shown[64];

	if (r->order == VOUCH_LOG_ORDER_AUTO)
		detect_order(r);
	if (cur_u32o(&c, &pcr, r->order) < 0 || cur_bytes(&c, 20, &p) < 0 ||
	    cur_u32o(&c, &name_len, r->order) < 0)
		return reader_fail(r, -EBADMSG, "truncated record header");
	if (pcr >= VOUCH_PCR_COUNT)
		return reader_fail(r, -EBADMSG, "PCR %u out of range (byte order %s?)", pcr,
				   r->order == VOUCH_LOG_ORDER_BE ? "big endian" : "little endian");
	if (name_len == 0 || name_len > LOG_MAX_NAME_LEN)
		return reader_fail(r, -EBADMSG, "template name length %u out of range", name_len);
	if (cur_bytes(&c, name_len, &name) < 0)
		return reader_fail(r, -EBADMSG, "template name runs past the end of the list");
	if (lookup_template(r, (const char *)name, name_len, &t) < 0) {
		print_name(shown, sizeof(shown), (const char *)name, name_len);
		return reader_fail(r, -EBADMSG, "unknown template '%s'", shown);
	}
	if (t->is_ima && r->format == VOUCH_LOG_FORMAT_KEXEC)
		/* ima_restore_measurement_list refuses the "ima" template */
		return reader_fail(r, -EBADMSG, "the 'ima' template cannot be carried over kexec");
	memset(e, 0, offsetof(struct vouch_log_entry, fields));
	e->pcr = pcr;
	memcpy(e->template_digest, p, 20);
	e->order = r->order;
	e->template_name = t->name;
	e->n_fields = t->n_fields;
	if (t->is_ima) {
		/* no template_data_len; d is 20 raw bytes; n is u32 strlen + name without NUL */
		if (cur_bytes(&c, 20, &p) < 0 || cur_u32o(&c, &flen, r->order) < 0)
			return reader_fail(r, -EBADMSG, "truncated 'ima' record");
		e->fields[0] = (struct vouch_log_field){ VOUCH_LOG_FIELD_D, p, 20 };
		if (flen > LOG_IMA_NAME_MAX || cur_bytes(&c, flen, &p) < 0)
			return reader_fail(r, -EBADMSG, "'ima' name length %u past the end", flen);
		e->fields[1] = (struct vouch_log_field){ VOUCH_LOG_FIELD_N, p, flen };
	} else {
		if (cur_u32o(&c, &td_len, r->order) < 0)
			return reader_fail(r, -EBADMSG, "truncated template data length");
		if (td_len > LOG_MAX_ENTRY_DATA)
			return reader_fail(r, -EBADMSG, "template data length %u over the limit",
					   td_len);
		if (cur_sub(&c, td_len, &td) < 0)
			return reader_fail(r, -EBADMSG,
					   "template data length %u runs past the end of the list",
					   td_len);
		e->template_data = td.p;
		e->template_data_len = td_len;
		for (size_t i = 0; i < t->n_fields; i++) {
			if (cur_u32o(&td, &flen, r->order) < 0 || cur_bytes(&td, flen, &p) < 0)
				return reader_fail(r, -EBADMSG,
						   "field '%s' length runs past the template data",
						   vouch_log_field_name(t->ids[i]));
			e->fields[i] = (struct vouch_log_field){ t->ids[i], p, flen };
		}
		if (cur_left(&td))
			return reader_fail(r, -EBADMSG,
					   "%zu bytes after the last field of the template data",
					   cur_left(&td));
	}
	for (size_t i = 0; i < t->n_fields; i++)
		if (log_field_check(e->fields[i].id, e->fields[i].data, e->fields[i].len, t->is_ima,
				    &why) < 0)
			return reader_fail(r, -EBADMSG, "%s", why);
	r->cur = c;
	return 0;
}

static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int next_ascii(vouch_log_reader *r, struct vouch_log_entry *e)
{
	const struct log_template *t;
	const char *line = (const char *)r->cur.p, *end, *s, *sp;
	size_t offs[VOUCH_LOG_MAX_FIELDS], lens[VOUCH_LOG_MAX_FIELDS];
	char pcrbuf[16], shown[64];
	uint32_t pcr = 0;
	size_t n, ndig = 0;
	int k;

	end = memchr(line, '\n', cur_left(&r->cur));
	if (!end)
		return reader_fail(r, -EBADMSG, "last line is not terminated (truncated list)");
	n = (size_t)(end - line);
	if (memchr(line, '\0', n))
		return reader_fail(r, -EBADMSG, "NUL byte in an ascii line");
	/* "%2d " */
	s = line;
	while (s < end && *s == ' ')
		s++;
	while (s + ndig < end && s[ndig] >= '0' && s[ndig] <= '9' && ndig < 3)
		ndig++;
	if (ndig == 0 || s + ndig >= end || s[ndig] != ' ')
		return reader_fail(r, -EBADMSG, "line does not start with a PCR number");
	for (size_t i = 0; i < ndig; i++)
		pcr = pcr * 10 + (uint32_t)(s[i] - '0');
	snprintf(pcrbuf, sizeof(pcrbuf), "%2u", pcr);
	if (pcr >= VOUCH_PCR_COUNT || strlen(pcrbuf) != (size_t)(s + ndig - line) ||
	    memcmp(pcrbuf, line, strlen(pcrbuf)) != 0)
		return reader_fail(r, -EBADMSG, "PCR field is not the kernel's '%%2d' of 0..23");
	s += ndig + 1;
	if (end - s < 42 || s[40] != ' ' || !is_lower_hex(s, 40))
		return reader_fail(r, -EBADMSG, "template digest is not 40 lower-case hex digits");
	memset(e, 0, offsetof(struct vouch_log_entry, fields));
	hex_decode(s, 40, e->template_digest, 20, NULL);
	s += 41;
	sp = memchr(s, ' ', (size_t)(end - s));
	if (!sp)
		return reader_fail(r, -EBADMSG, "no template fields after the template name");
	if (lookup_template(r, s, (size_t)(sp - s), &t) < 0) {
		print_name(shown, sizeof(shown), s, (size_t)(sp - s));
		return reader_fail(r, -EBADMSG, "unknown template '%s'", shown);
	}
	/* the fields, each after one space; the kernel turns spaces in names into '_' */
	s = sp + 1;
	for (size_t i = 0; i < t->n_fields; i++) {
		const char *fe = memchr(s, ' ', (size_t)(end - s));

		if (i + 1 == t->n_fields) {
			if (fe)
				return reader_fail(r, -EBADMSG, "more fields than template '%s' has",
						   t->name);
			fe = end;
		} else if (!fe) {
			return reader_fail(r, -EBADMSG, "fewer fields than template '%s' has",
					   t->name);
		}
		offs[i] = (size_t)(s - line);
		lens[i] = (size_t)(fe - s);
		s = fe + 1;
	}
	/* rebuild the binary template data (little endian, as ima_canonical_fmt) */
	r->scratch.len = 0;
	for (size_t i = 0; i < t->n_fields; i++) {
		size_t at = r->scratch.len;
		uint8_t lenbuf[4] = { 0 };

		if (!t->is_ima && (k = sb_add(&r->scratch, lenbuf, 4)) < 0)
			return reader_fail(r, k, "out of memory");
		k = log_field_from_ascii(t->ids[i], line + offs[i], lens[i], t->is_ima,
					 VOUCH_LOG_ORDER_LE, &r->scratch);
		if (k == -ENOMEM)
			return reader_fail(r, k, "out of memory");
		if (k < 0)
			return reader_fail(r, -EBADMSG, "field '%s' is not in the kernel's rendering",
					   vouch_log_field_name(t->ids[i]));
		if (!t->is_ima)
			log_put32((uint8_t *)r->scratch.p + at,
				  (uint32_t)(r->scratch.len - at - 4), VOUCH_LOG_ORDER_LE);
		offs[i] = at + (t->is_ima ? 0 : 4);
		lens[i] = r->scratch.len - offs[i];
	}
	if (t->is_ima && lens[0] != 20)
		return reader_fail(r, -EBADMSG, "'ima' digest is not 20 bytes");
	e->pcr = pcr;
	e->order = VOUCH_LOG_ORDER_LE;
	e->template_name = t->name;
	e->n_fields = t->n_fields;
	if (!t->is_ima) {
		e->template_data = (const uint8_t *)r->scratch.p;
		e->template_data_len = r->scratch.len;
	}
	for (size_t i = 0; i < t->n_fields; i++) {
		const char *why = NULL;

		e->fields[i] = (struct vouch_log_field){ t->ids[i],
							 (const uint8_t *)r->scratch.p + offs[i],
							 lens[i] };
		if (log_field_check(t->ids[i], e->fields[i].data, lens[i], t->is_ima, &why) < 0)
			return reader_fail(r, -EBADMSG, "%s", why);
	}
	cur_skip(&r->cur, n + 1);
	return 0;
}

VOUCH_EXPORT int vouch_log_next(vouch_log_reader *r, struct vouch_log_entry *ret_entry)
{
	struct vouch_log_entry e;
	int k;

	if (!r || !ret_entry)
		return -EINVAL;
	if (r->err)
		return r->err;
	if (cur_left(&r->cur) == 0) {
		if (r->format == VOUCH_LOG_FORMAT_KEXEC && r->index != r->kexec_count)
			return reader_fail(r, -EBADMSG,
					   "kexec header counts %llu entries, the buffer holds %llu",
					   (unsigned long long)r->kexec_count,
					   (unsigned long long)r->index);
		return 0;
	}
	if (r->index >= r->max_entries)
		return reader_fail(r, -E2BIG, "more than %llu entries",
				   (unsigned long long)r->max_entries);
	if (r->format == VOUCH_LOG_FORMAT_KEXEC && r->index >= r->kexec_count)
		return reader_fail(r, -EBADMSG, "records after the %llu the kexec header counts",
				   (unsigned long long)r->kexec_count);
	k = r->format == VOUCH_LOG_FORMAT_ASCII ? next_ascii(r, &e) : next_binary(r, &e);
	if (k < 0)
		return k;
	e.index = ++r->index;
	e.violation = true;
	for (int i = 0; i < 20; i++)
		if (e.template_digest[i]) {
			e.violation = false;
			break;
		}
	memcpy(ret_entry, &e, offsetof(struct vouch_log_entry, fields) +
				      e.n_fields * sizeof(e.fields[0]));
	ret_entry->n_fields = e.n_fields;
	return 1;
}

/* --- template digests ---------------------------------------------------------------------- */

/* H(template data) for a bank; the "ima" template hashes d || n zero-padded to 256 bytes. */
static int entry_hash(struct fast_md *f, const struct vouch_log_entry *e, uint8_t *out)
{
	if (e->template_data)
		return fast_md_digest(f, e->template_data, e->template_data_len, NULL, 0, NULL, 0,
				      out);
	if (e->n_fields == 2 && e->fields[0].id == VOUCH_LOG_FIELD_D &&
	    e->fields[1].id == VOUCH_LOG_FIELD_N && !strcmp(e->template_name, "ima")) {
		uint8_t name[LOG_IMA_NAME_MAX + 1] = { 0 };

		if (e->fields[0].len != 20 || e->fields[1].len > LOG_IMA_NAME_MAX)
			return -EBADMSG;
		memcpy(name, e->fields[1].data, e->fields[1].len);
		return fast_md_digest(f, e->fields[0].data, 20, name, sizeof(name), NULL, 0, out);
	}
	{
		/* fields given without serialised template data: hash them with their lengths */
		EVP_MD_CTX *m = f->mctx;
		unsigned int len;

		if (!EVP_DigestInit_ex(m, (const EVP_MD *)f->md, NULL))
			return -EIO;
		for (size_t i = 0; i < e->n_fields; i++) {
			uint8_t l[4];

			log_put32(l, (uint32_t)e->fields[i].len, e->order);
			if (!EVP_DigestUpdate(m, l, 4) ||
			    (e->fields[i].len &&
			     !EVP_DigestUpdate(m, e->fields[i].data, e->fields[i].len)))
				return -EIO;
		}
		return EVP_DigestFinal_ex(m, out, &len) ? 0 : -EIO;
	}
}

static bool entry_ok(const struct vouch_log_entry *e)
{
	return e && e->template_name && e->n_fields <= VOUCH_LOG_MAX_FIELDS;
}

VOUCH_EXPORT int vouch_log_template_digest(vouch_ctx *ctx, const struct vouch_log_entry *e,
					   int algo, struct vouch_digest *ret_digest)
{
	struct fast_md f;
	struct vouch_digest d = { 0 };
	int k;

	if (!ctx || !entry_ok(e) || !ret_digest)
		return -EINVAL;
	k = fast_md_init(ctx, &f, algo);
	if (k < 0)
		return k;
	k = entry_hash(&f, e, d.bytes);
	fast_md_done(&f);
	if (k < 0)
		return ctx_err(ctx, k, "cannot compute the template digest of entry %llu",
			       (unsigned long long)e->index);
	d.algo = algo;
	d.len = vouch_hash_info(algo)->size;
	*ret_digest = d;
	return 0;
}

VOUCH_EXPORT int vouch_log_extend_digest(vouch_ctx *ctx, const struct vouch_log_entry *e,
					 int algo, int mode, struct vouch_digest *ret_digest)
{
	const struct vouch_hash_info *hi = vouch_hash_info(algo);
	struct vouch_digest d = { 0 };
	int k;

	if (!ctx || !entry_ok(e) || !ret_digest || !hi || mode < 0 ||
	    mode >= _VOUCH_LOG_BANK_MODE_MAX)
		return -EINVAL;
	d.algo = algo;
	d.len = hi->size;
	if (e->violation) {
		/* ima_init_digests: 0xff over the bank size (the algorithm is known to the TPM) */
		memset(d.bytes, 0xff, d.len);
	} else if (mode == VOUCH_LOG_BANK_PADDED && algo != VOUCH_HASH_SHA1) {
		memcpy(d.bytes, e->template_digest, 20);
	} else {
		k = vouch_log_template_digest(ctx, e, algo, &d);
		if (k < 0)
			return k;
	}
	*ret_digest = d;
	return 0;
}

/* --- writer ----------------------------------------------------------------------------------- */

struct vouch_log_writer {
	vouch_ctx *ctx;
	int format;
	int order;
	uint64_t count;
	struct strbuf out;
	struct strbuf tmp;
	struct fast_md sha1;
};

VOUCH_EXPORT int vouch_log_writer_new(vouch_ctx *ctx, const struct vouch_log_writer_options *opts,
				      vouch_log_writer **ret_writer)
{
	struct vouch_log_writer_options def = VOUCH_LOG_WRITER_OPTIONS_INIT;
	vouch_log_writer *w;
	int k;

	if (!ctx || !ret_writer)
		return -EINVAL;
	if (!opts)
		opts = &def;
	if (opts->version != 1 || opts->format <= VOUCH_LOG_FORMAT_AUTO ||
	    opts->format >= _VOUCH_LOG_FORMAT_MAX || opts->order < 0 ||
	    opts->order >= _VOUCH_LOG_ORDER_MAX || opts->reserved1)
		return ctx_err(ctx, -EINVAL, "invalid list writer options");
	for (size_t i = 0; i < ARRAY_SIZE(opts->reserved); i++)
		if (opts->reserved[i])
			return ctx_err(ctx, -EINVAL, "reserved writer options must be zero");
	w = mem_zalloc(sizeof(*w));
	if (!w)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	w->ctx = ctx;
	w->format = opts->format;
	w->order = opts->order == VOUCH_LOG_ORDER_AUTO ? VOUCH_LOG_ORDER_LE : opts->order;
	k = fast_md_init(ctx, &w->sha1, VOUCH_HASH_SHA1);
	if (k < 0 || (w->format == VOUCH_LOG_FORMAT_KEXEC &&
		      (k = sb_add(&w->out, (uint8_t[KEXEC_HDR_SIZE]){ 0 }, KEXEC_HDR_SIZE)) < 0)) {
		vouch_log_writer_free(w);
		return k == -ENOMEM ? ctx_err(ctx, k, "out of memory") : k;
	}
	*ret_writer = w;
	return 0;
}

VOUCH_EXPORT void vouch_log_writer_free(vouch_log_writer *w)
{
	if (!w)
		return;
	fast_md_done(&w->sha1);
	free(w->out.p);
	free(w->tmp.p);
	free(w);
}

static int put32(struct strbuf *sb, uint32_t v, int order)
{
	uint8_t b[4];

	log_put32(b, v, order);
	return sb_add(sb, b, 4);
}

static bool is_ima_entry(const struct vouch_log_entry *e)
{
	return !strcmp(e->template_name, "ima");
}

/* Serialise the fields in @order into w->tmp (template data; "ima": d || n only). */
static int build_template_data(vouch_log_writer *w, const struct vouch_log_entry *e, int order)
{
	bool ima = is_ima_entry(e);
	int k;

	w->tmp.len = 0;
	for (size_t i = 0; i < e->n_fields; i++) {
		const struct vouch_log_field *f = &e->fields[i];
		size_t at;

		if (!ima && (k = put32(&w->tmp, (uint32_t)f->len, order)) < 0)
			return k;
		at = w->tmp.len;
		if ((k = sb_add(&w->tmp, f->data, f->len)) < 0)
			return k;
		if (order != e->order)
			log_field_swap(f->id, (uint8_t *)w->tmp.p + at, f->len);
	}
	return 0;
}

static int write_ascii(vouch_log_writer *w, const struct vouch_log_entry *e)
{
	char head[64];
	int n, k;

	n = snprintf(head, sizeof(head), "%2u ", e->pcr);
	hex_encode(e->template_digest, 20, head + n);
	if ((k = sb_add(&w->out, head, (size_t)n + 40)) < 0 || (k = sb_add(&w->out, " ", 1)) < 0 ||
	    (k = sb_add(&w->out, e->template_name, strlen(e->template_name))) < 0)
		return k;
	for (size_t i = 0; i < e->n_fields; i++) {
		const struct vouch_log_field *f = &e->fields[i];

		if ((k = sb_add(&w->out, " ", 1)) < 0 ||
		    (k = log_field_ascii(&w->out, f->id, f->data, f->len, e->order)) < 0)
			return k;
	}
	return sb_add(&w->out, "\n", 1);
}

static int write_binary(vouch_log_writer *w, const struct vouch_log_entry *e)
{
	uint8_t digest[20];
	bool ima = is_ima_entry(e);
	size_t nlen = strlen(e->template_name);
	int k;

	k = build_template_data(w, e, w->order);
	if (k < 0)
		return k;
	memcpy(digest, e->template_digest, 20);
	if (e->order != w->order && !e->violation && !ima) {
		/* the kernel hashes the lengths in the list's byte order (FORMATS.md §5.4) */
		k = fast_md_digest(&w->sha1, w->tmp.p, w->tmp.len, NULL, 0, NULL, 0, digest);
		if (k < 0)
			return k;
	}
	if ((k = put32(&w->out, e->pcr, w->order)) < 0 || (k = sb_add(&w->out, digest, 20)) < 0 ||
	    (k = put32(&w->out, (uint32_t)nlen, w->order)) < 0 ||
	    (k = sb_add(&w->out, e->template_name, nlen)) < 0)
		return k;
	if (ima) {
		if ((k = sb_add(&w->out, e->fields[0].data, 20)) < 0 ||
		    (k = put32(&w->out, (uint32_t)e->fields[1].len, w->order)) < 0 ||
		    (k = sb_add(&w->out, e->fields[1].data, e->fields[1].len)) < 0)
			return k;
		return 0;
	}
	if ((k = put32(&w->out, (uint32_t)w->tmp.len, w->order)) < 0)
		return k;
	return sb_add(&w->out, w->tmp.p, w->tmp.len);
}

static int check_entry_fields(vouch_ctx *ctx, const struct vouch_log_entry *e,
			      struct log_template *t)
{
	const char *why = NULL;
	size_t total = 0;

	if (log_template_parse(e->template_name, strlen(e->template_name), t) < 0)
		return ctx_err(ctx, -EINVAL, "unknown template '%s'", e->template_name);
	if (e->n_fields != t->n_fields)
		return ctx_err(ctx, -EINVAL, "template '%s' has %zu fields, %zu given",
			       e->template_name, t->n_fields, e->n_fields);
	if (e->pcr >= VOUCH_PCR_COUNT)
		return ctx_err(ctx, -EINVAL, "PCR %u out of range", e->pcr);
	for (size_t i = 0; i < t->n_fields; i++) {
		if (e->fields[i].id != t->ids[i])
			return ctx_err(ctx, -EINVAL, "field %zu of '%s' must be '%s'", i + 1,
				       e->template_name, vouch_log_field_name(t->ids[i]));
		if ((!e->fields[i].data && e->fields[i].len) ||
		    log_field_check(t->ids[i], e->fields[i].data, e->fields[i].len, t->is_ima,
				    &why) < 0)
			return ctx_err(ctx, -EBADMSG, "field '%s': %s",
				       vouch_log_field_name(t->ids[i]), why ? why : "no data");
		total += 4 + e->fields[i].len;
	}
	if (total > LOG_MAX_ENTRY_DATA)
		return ctx_err(ctx, -EBADMSG, "template data over the limit");
	return 0;
}

VOUCH_EXPORT int vouch_log_writer_add(vouch_log_writer *w, const struct vouch_log_entry *e)
{
	struct log_template t;
	int k;

	if (!w || !entry_ok(e) || (e->order != VOUCH_LOG_ORDER_LE && e->order != VOUCH_LOG_ORDER_BE))
		return -EINVAL;
	k = check_entry_fields(w->ctx, e, &t);
	if (k < 0)
		return k;
	if (t.is_ima && w->format == VOUCH_LOG_FORMAT_KEXEC)
		return ctx_err(w->ctx, -EINVAL, "the 'ima' template cannot be carried over kexec");
	k = w->format == VOUCH_LOG_FORMAT_ASCII ? write_ascii(w, e) : write_binary(w, e);
	if (k < 0)
		return ctx_err(w->ctx, k, "cannot write entry %llu", (unsigned long long)e->index);
	w->count++;
	return 0;
}

VOUCH_EXPORT int vouch_log_writer_append(vouch_log_writer *w, uint32_t pcr,
					 const char *template_name,
					 const struct vouch_log_field *fields, size_t n_fields,
					 bool violation, struct vouch_log_entry *ret_entry)
{
	struct vouch_log_entry e;
	struct log_template t;
	size_t off[VOUCH_LOG_MAX_FIELDS];
	int k;

	if (!w || !template_name || (!fields && n_fields) || n_fields > VOUCH_LOG_MAX_FIELDS)
		return -EINVAL;
	memset(&e, 0, sizeof(e));
	e.pcr = pcr;
	e.template_name = template_name;
	e.order = w->order;
	e.n_fields = n_fields;
	e.violation = violation;
	memcpy(e.fields, fields, n_fields * sizeof(*fields));
	k = check_entry_fields(w->ctx, &e, &t);
	if (k < 0)
		return k;
	if (t.is_ima && w->format == VOUCH_LOG_FORMAT_KEXEC)
		return ctx_err(w->ctx, -EINVAL, "the 'ima' template cannot be carried over kexec");
	e.template_name = t.name;
	k = build_template_data(w, &e, w->order);
	if (k < 0)
		return ctx_err(w->ctx, k, "out of memory");
	if (!t.is_ima) {
		e.template_data = (const uint8_t *)w->tmp.p;
		e.template_data_len = w->tmp.len;
	}
	if (!violation) {
		k = entry_hash(&w->sha1, &e, e.template_digest);
		if (k < 0)
			return ctx_err(w->ctx, -EIO, "cannot compute the template digest");
	}
	k = w->format == VOUCH_LOG_FORMAT_ASCII ? write_ascii(w, &e) : write_binary(w, &e);
	if (k < 0)
		return ctx_err(w->ctx, k, "cannot write the entry");
	e.index = ++w->count;
	if (ret_entry) {
		/* point the fields at the serialised copy the writer keeps in tmp */
		size_t at = 0;

		k = build_template_data(w, &e, w->order);
		if (k < 0)
			return ctx_err(w->ctx, k, "out of memory");
		for (size_t i = 0; i < n_fields; i++) {
			if (!t.is_ima)
				at += 4;
			off[i] = at;
			at += fields[i].len;
		}
		e.template_name = template_name;
		if (!t.is_ima)
			e.template_data = (const uint8_t *)w->tmp.p;
		for (size_t i = 0; i < n_fields; i++)
			e.fields[i].data = (const uint8_t *)w->tmp.p + off[i];
		*ret_entry = e;
	}
	return 0;
}

VOUCH_EXPORT int vouch_log_writer_get(vouch_log_writer *w, const uint8_t **ret_buf,
				      size_t *ret_len)
{
	int k;

	if (!w || !ret_buf || !ret_len)
		return -EINVAL;
	if (w->format == VOUCH_LOG_FORMAT_KEXEC) {
		uint8_t *h = (uint8_t *)w->out.p;
		uint64_t size = w->out.len, count = w->count;

		memset(h, 0, KEXEC_HDR_SIZE);
		if (w->order == VOUCH_LOG_ORDER_BE) {
			h[1] = 1;
			put_be32(h + 8, (uint32_t)(size >> 32));
			put_be32(h + 12, (uint32_t)size);
			put_be32(h + 16, (uint32_t)(count >> 32));
			put_be32(h + 20, (uint32_t)count);
		} else {
			h[0] = 1;
			put_le32(h + 8, (uint32_t)size);
			put_le32(h + 12, (uint32_t)(size >> 32));
			put_le32(h + 16, (uint32_t)count);
			put_le32(h + 20, (uint32_t)(count >> 32));
		}
	}
	if (!w->out.p && (k = sb_reserve(&w->out, 0)) < 0)
		return ctx_err(w->ctx, k, "out of memory");
	*ret_buf = (const uint8_t *)w->out.p;
	*ret_len = w->out.len;
	return 0;
}

/* --- replay ----------------------------------------------------------------------------------- */

#define REPLAY_MAX_BANKS 8

struct replay_bank {
	int algo;
	int mode;
	size_t size;
	struct fast_md md;
	uint8_t pcr[VOUCH_PCR_COUNT][VOUCH_HASH_MAX_SIZE];
	bool has_target;
	uint32_t mask;
	uint32_t mismatch; /* watched PCRs that differ from the target right now */
	uint64_t matched_at;
	uint8_t target[VOUCH_PCR_COUNT][VOUCH_HASH_MAX_SIZE];
};

struct vouch_log_replay {
	vouch_ctx *ctx;
	size_t n;
	uint64_t entries, violations;
	struct fast_md sha1;
	struct replay_bank banks[REPLAY_MAX_BANKS];
};

VOUCH_EXPORT void vouch_log_replay_free(vouch_log_replay *rp)
{
	if (!rp)
		return;
	for (size_t i = 0; i < rp->n; i++)
		fast_md_done(&rp->banks[i].md);
	fast_md_done(&rp->sha1);
	free(rp);
}

VOUCH_EXPORT int vouch_log_replay_new(vouch_ctx *ctx, const int *algos, const int *modes, size_t n,
				      vouch_log_replay **ret_replay)
{
	vouch_log_replay *rp;
	int k;

	if (!ctx || !algos || !ret_replay)
		return -EINVAL;
	if (n == 0 || n > REPLAY_MAX_BANKS)
		return ctx_err(ctx, -EINVAL, "between 1 and %d banks can be replayed at once",
			       REPLAY_MAX_BANKS);
	for (size_t i = 0; i < n; i++) {
		if (!vouch_hash_info(algos[i]))
			return ctx_err(ctx, -EINVAL, "unknown hash algorithm id %d", algos[i]);
		if (modes && (modes[i] < 0 || modes[i] >= _VOUCH_LOG_BANK_MODE_MAX))
			return ctx_err(ctx, -EINVAL, "invalid bank mode %d", modes[i]);
		for (size_t j = 0; j < i; j++)
			if (algos[j] == algos[i] && (!modes || modes[j] == modes[i]))
				return ctx_err(ctx, -EINVAL, "bank %s given twice",
					       vouch_hash_info(algos[i])->name);
	}
	rp = mem_zalloc(sizeof(*rp));
	if (!rp)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	rp->ctx = ctx;
	k = fast_md_init(ctx, &rp->sha1, VOUCH_HASH_SHA1);
	for (size_t i = 0; k >= 0 && i < n; i++) {
		struct replay_bank *b = &rp->banks[i];

		b->algo = algos[i];
		b->mode = modes ? modes[i] : VOUCH_LOG_BANK_HASHED;
		b->size = vouch_hash_info(algos[i])->size;
		b->matched_at = UINT64_MAX;
		k = fast_md_init(ctx, &b->md, algos[i]);
		if (k >= 0)
			rp->n = i + 1;
	}
	if (k < 0) {
		vouch_log_replay_free(rp);
		return k;
	}
	*ret_replay = rp;
	return 0;
}

static struct replay_bank *find_bank(const vouch_log_replay *rp, int algo, int mode)
{
	for (size_t i = 0; i < rp->n; i++)
		if (rp->banks[i].algo == algo && (mode < 0 || rp->banks[i].mode == mode))
			return (struct replay_bank *)&rp->banks[i];
	return NULL;
}

VOUCH_EXPORT int vouch_log_replay_set_target(vouch_log_replay *rp,
					     const struct vouch_pcr_bank *bank, uint32_t pcr_mask)
{
	bool any = false;

	if (!rp || !bank || pcr_mask == 0 || (pcr_mask >> VOUCH_PCR_COUNT))
		return -EINVAL;
	if ((bank->present & pcr_mask) != pcr_mask)
		return ctx_err(rp->ctx, -EINVAL, "the %s PCR values lack a watched PCR",
			       vouch_hash_info(bank->algo) ? vouch_hash_info(bank->algo)->name :
							     "?");
	for (size_t i = 0; i < rp->n; i++) {
		struct replay_bank *b = &rp->banks[i];

		if (b->algo != bank->algo)
			continue;
		any = true;
		b->has_target = true;
		b->mask = pcr_mask;
		b->mismatch = 0;
		memcpy(b->target, bank->pcr, sizeof(b->target));
		for (unsigned p = 0; p < VOUCH_PCR_COUNT; p++)
			if ((pcr_mask >> p & 1) && memcmp(b->pcr[p], b->target[p], b->size) != 0)
				b->mismatch |= 1u << p;
		b->matched_at = b->mismatch ? UINT64_MAX : rp->entries;
	}
	if (!any)
		return ctx_err(rp->ctx, -EINVAL, "bank %s is not being replayed",
			       vouch_hash_info(bank->algo) ? vouch_hash_info(bank->algo)->name :
							     "?");
	return 0;
}

VOUCH_EXPORT int vouch_log_replay_add(vouch_log_replay *rp, const struct vouch_log_entry *e)
{
	uint8_t sha1[20], ext[VOUCH_HASH_MAX_SIZE];
	int k, bad = 0;

	if (!rp || !entry_ok(e))
		return -EINVAL;
	if (e->pcr >= VOUCH_PCR_COUNT)
		return ctx_err(rp->ctx, -EBADMSG, "entry %llu: PCR %u out of range",
			       (unsigned long long)e->index, e->pcr);
	if (!e->violation) {
		k = entry_hash(&rp->sha1, e, sha1);
		if (k < 0)
			return ctx_err(rp->ctx, k == -EBADMSG ? k : -EIO,
				       "entry %llu: cannot hash the template data",
				       (unsigned long long)e->index);
		if (CRYPTO_memcmp(sha1, e->template_digest, 20) != 0)
			bad = ctx_err(rp->ctx, -EKEYREJECTED,
				      "entry %llu: the template digest does not match the template "
				      "data",
				      (unsigned long long)e->index);
	}
	for (size_t i = 0; i < rp->n; i++) {
		struct replay_bank *b = &rp->banks[i];
		uint8_t *pcr = b->pcr[e->pcr];

		if (e->violation) {
			memset(ext, 0xff, b->size);
		} else if (b->algo == VOUCH_HASH_SHA1 || b->mode == VOUCH_LOG_BANK_PADDED) {
			memset(ext, 0, b->size);
			memcpy(ext, sha1, 20);
		} else if ((k = entry_hash(&b->md, e, ext)) < 0) {
			return ctx_err(rp->ctx, -EIO, "entry %llu: cannot hash the template data",
				       (unsigned long long)e->index);
		}
		k = fast_md_digest(&b->md, pcr, b->size, ext, b->size, NULL, 0, pcr);
		if (k < 0)
			return ctx_err(rp->ctx, -EIO, "PCR extend failed");
		if (b->has_target && (b->mask >> e->pcr & 1)) {
			if (memcmp(pcr, b->target[e->pcr], b->size) == 0)
				b->mismatch &= ~(1u << e->pcr);
			else
				b->mismatch |= 1u << e->pcr;
			if (!b->mismatch && b->matched_at == UINT64_MAX)
				b->matched_at = rp->entries + 1;
		}
	}
	rp->entries++;
	if (e->violation)
		rp->violations++;
	return bad;
}

VOUCH_EXPORT int vouch_log_replay_get(const vouch_log_replay *rp, int algo, uint32_t pcr,
				      struct vouch_digest *ret_digest)
{
	const struct replay_bank *b;
	struct vouch_digest d = { 0 };

	if (!rp || !ret_digest || pcr >= VOUCH_PCR_COUNT)
		return -EINVAL;
	b = find_bank(rp, algo, -1);
	if (!b)
		return -EINVAL;
	d.algo = algo;
	d.len = b->size;
	memcpy(d.bytes, b->pcr[pcr], b->size);
	*ret_digest = d;
	return 0;
}

VOUCH_EXPORT int vouch_log_replay_match(const vouch_log_replay *rp, int algo,
					uint64_t *ret_entries)
{
	const struct replay_bank *b;

	if (!rp || !ret_entries)
		return -EINVAL;
	b = find_bank(rp, algo, -1);
	if (!b || !b->has_target)
		return -EINVAL;
	*ret_entries = b->matched_at;
	return 0;
}

int replay_bank_info(const vouch_log_replay *rp, int algo, int mode, unsigned pcr,
		     uint64_t *ret_matched, struct vouch_digest *ret_pcr)
{
	const struct replay_bank *b = find_bank(rp, algo, mode);

	if (!b || pcr >= VOUCH_PCR_COUNT)
		return -EINVAL;
	if (ret_matched)
		*ret_matched = b->has_target ? b->matched_at : UINT64_MAX;
	if (ret_pcr) {
		memset(ret_pcr, 0, sizeof(*ret_pcr));
		ret_pcr->algo = algo;
		ret_pcr->len = b->size;
		memcpy(ret_pcr->bytes, b->pcr[pcr], b->size);
	}
	return 0;
}

VOUCH_EXPORT void vouch_log_replay_count(const vouch_log_replay *rp, uint64_t *ret_entries,
					 uint64_t *ret_violations)
{
	if (ret_entries)
		*ret_entries = rp ? rp->entries : 0;
	if (ret_violations)
		*ret_violations = rp ? rp->violations : 0;
}

/* --- PCR values --------------------------------------------------------------------------------- */

static int pcr_value(vouch_ctx *ctx, const char *what, const char *hex, size_t len,
		     struct vouch_pcr_bank *b, uint32_t idx)
{
	size_t size = vouch_hash_info(b->algo)->size, got = 0;

	if (len >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
		hex += 2;
		len -= 2;
	}
	if (idx >= VOUCH_PCR_COUNT)
		return ctx_err(ctx, -EBADMSG, "%s: PCR %u out of range", what, idx);
	if (len != 2 * size || hex_decode(hex, len, b->pcr[idx], size, &got) < 0)
		return ctx_err(ctx, -EBADMSG, "%s: PCR %u is not a %zu-byte %s value", what, idx,
			       size, vouch_hash_info(b->algo)->name);
	if (b->present >> idx & 1)
		return ctx_err(ctx, -EBADMSG, "%s: PCR %u given twice", what, idx);
	b->present |= 1u << idx;
	return 0;
}

static size_t trim(const char **s, size_t n)
{
	while (n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		n--;
	}
	while (n && ((*s)[n - 1] == ' ' || (*s)[n - 1] == '\t' || (*s)[n - 1] == '\r'))
		n--;
	return n;
}

static int pcr_index(const char *s, size_t n, uint32_t *ret)
{
	char tmp[8];

	if (n == 0 || n >= sizeof(tmp))
		return -EBADMSG;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -EBADMSG;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return parse_u32(tmp, ret) < 0 ? -EBADMSG : 0;
}

/*
 * The integrity engine's own PCR file (STATE/pcrs, lib/engine.c): "vouch-pcrs 1", then
 * "entries N", then "ALGO PCR-NN: HEX" lines of every bank; the lines of @b's bank are taken.
 */
static int pcr_parse_engine(vouch_ctx *ctx, const char *path, const char *buf, size_t len,
			    struct vouch_pcr_bank *b)
{
	const char *want = vouch_hash_info(b->algo)->name;
	size_t lineno = 0;

	for (const char *s = buf, *end = buf + len; s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s)), *line = s, *sp, *colon;
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		char what[4200];
		uint32_t idx;
		int k;

		s += n + (nl ? 1 : 0);
		lineno++;
		snprintf(what, sizeof(what), "'%s' line %zu", path, lineno);
		n = trim(&line, n);
		if (lineno == 1 || n == 0)
			continue; /* the header, checked by the caller */
		if (n > 8 && !memcmp(line, "entries ", 8)) {
			bool digits = n - 8 <= 20;

			for (size_t i = 8; i < n; i++)
				digits &= line[i] >= '0' && line[i] <= '9';
			if (!digits)
				return ctx_err(ctx, -EBADMSG, "%s: bad entry count", what);
			continue;
		}
		sp = memchr(line, ' ', n);
		colon = memchr(line, ':', n);
		if (!sp || !colon || colon < sp || (size_t)(colon - sp) < 6 ||
		    memcmp(sp + 1, "PCR-", 4) != 0 ||
		    pcr_index(sp + 5, (size_t)(colon - sp - 5), &idx) < 0)
			return ctx_err(ctx, -EBADMSG, "%s: not a 'ALGO PCR-NN: HEX' line", what);
		if ((size_t)(sp - line) != strlen(want) || strncasecmp(line, want, strlen(want)))
			continue;
		{
			const char *v = colon + 1;
			size_t vn = trim(&v, (size_t)(line + n - v));

			if ((k = pcr_value(ctx, what, v, vn, b, idx)) < 0)
				return k;
		}
	}
	if (!b->present)
		return ctx_err(ctx, -ENOENT, "'%s' holds no %s PCR values", path, want);
	return 0;
}

static int pcr_parse_text(vouch_ctx *ctx, const char *path, const char *buf, size_t len,
			  struct vouch_pcr_bank *b)
{
	if (len >= 12 && !memcmp(buf, "vouch-pcrs 1", 12) && (len == 12 || buf[12] == '\n'))
		return pcr_parse_engine(ctx, path, buf, len, b);
	const char *want = vouch_hash_info(b->algo)->name;
	bool yaml_bank = false, in_bank = false;
	size_t lineno = 0;

	for (const char *s = buf, *end = buf + len; s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s)), *line = s, *colon;
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		char what[4200];
		uint32_t idx;
		int k;

		s += n + (nl ? 1 : 0);
		lineno++;
		snprintf(what, sizeof(what), "'%s' line %zu", path, lineno);
		n = trim(&line, n);
		if (n == 0 || line[0] == '#')
			continue;
		colon = memchr(line, ':', n);
		if (!colon)
			return ctx_err(ctx, -EBADMSG, "%s: not a PCR line", what);
		if (n > 4 && memcmp(line, "PCR-", 4) == 0) {
			/* evmctl: "PCR-10: HEX" */
			const char *v = colon + 1;
			size_t vn = trim(&v, (size_t)(line + n - v));

			if (pcr_index(line + 4, (size_t)(colon - line - 4), &idx) < 0)
				return ctx_err(ctx, -EBADMSG, "%s: bad PCR number", what);
			if (yaml_bank)
				return ctx_err(ctx, -EBADMSG, "%s: evmctl and YAML lines mixed", what);
			in_bank = true;
			if ((k = pcr_value(ctx, what, v, vn, b, idx)) < 0)
				return k;
			continue;
		}
		if ((size_t)(colon - line) + 1 == n) {
			/* tpm2_pcrread: "  sha256:" opens a bank */
			const char *a = line;
			size_t an = trim(&a, (size_t)(colon - line));

			yaml_bank = true;
			in_bank = an == strlen(want) && strncasecmp(a, want, an) == 0;
			continue;
		}
		if (!yaml_bank)
			return ctx_err(ctx, -EBADMSG, "%s: neither 'PCR-NN: HEX' nor tpm2_pcrread YAML",
				       what);
		if (in_bank) {
			const char *v = colon + 1, *ix = line;
			size_t vn = trim(&v, (size_t)(line + n - v));
			size_t ixn = trim(&ix, (size_t)(colon - line));

			if (pcr_index(ix, ixn, &idx) < 0)
				return ctx_err(ctx, -EBADMSG, "%s: bad PCR number", what);
			if ((k = pcr_value(ctx, what, v, vn, b, idx)) < 0)
				return k;
		}
	}
	if (!b->present)
		return ctx_err(ctx, -ENOENT, "'%s' holds no %s PCR values", path, want);
	return 0;
}

static int pcr_read_dir(vouch_ctx *ctx, const char *dir, struct vouch_pcr_bank *b)
{
	for (uint32_t i = 0; i < VOUCH_PCR_COUNT; i++) {
		_cleanup_free_ uint8_t *buf = NULL;
		char path[4200], what[4300];
		const char *s;
		size_t len = 0, n;
		int k;

		snprintf(path, sizeof(path), "%s/%u", dir, i);
		if (access(path, F_OK) < 0)
			continue;
		k = read_file_all(ctx, path, 4096, &buf, &len);
		if (k < 0)
			return k;
		s = (const char *)buf;
		n = trim(&s, len);
		while (n && (s[n - 1] == '\n'))
			n--;
		snprintf(what, sizeof(what), "'%s'", path);
		if ((k = pcr_value(ctx, what, s, n, b, i)) < 0)
			return k;
	}
	if (!b->present)
		return ctx_err(ctx, -ENOENT, "'%s' holds no PCR files", dir);
	return 0;
}

VOUCH_EXPORT int vouch_pcr_bank_read(vouch_ctx *ctx, const char *path, int algo,
				     struct vouch_pcr_bank *ret_bank)
{
	_cleanup_free_ char *def = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	struct vouch_pcr_bank *b;
	struct stat st;
	size_t len = 0;
	int k;

	if (!ctx || !ret_bank || !vouch_hash_info(algo))
		return -EINVAL;
	if (!path) {
		char rel[128];

		snprintf(rel, sizeof(rel), "/sys/class/tpm/tpm0/pcr-%s", vouch_hash_info(algo)->name);
		def = ctx_path(ctx, rel);
		if (!def)
			return ctx_err(ctx, -ENOMEM, "out of memory");
		path = def;
	}
	b = mem_zalloc(sizeof(*b));
	if (!b)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	b->algo = algo;
	if (stat(path, &st) < 0) {
		k = ctx_err(ctx, -errno, "cannot open '%s': %m", path);
	} else if (S_ISDIR(st.st_mode)) {
		k = pcr_read_dir(ctx, path, b);
	} else {
		k = read_file_all(ctx, path, 1 << 20, &buf, &len);
		if (k >= 0)
			k = pcr_parse_text(ctx, path, (const char *)buf, len, b);
	}
	if (k >= 0)
		*ret_bank = *b;
	free(b);
	return k;
}

VOUCH_EXPORT int vouch_log_boot_aggregate(vouch_ctx *ctx, const struct vouch_pcr_bank *bank,
					  struct vouch_digest *ret_digest)
{
	const struct vouch_hash_info *hi;
	vouch_hasher *h = NULL;
	unsigned last;
	int k;

	if (!ctx || !bank || !ret_digest || !(hi = vouch_hash_info(bank->algo)))
		return -EINVAL;
	/* ima_calc_boot_aggregate: PCRs 0-7, plus 8-9 for every bank but SHA-1 (since 5.8) */
	last = bank->algo == VOUCH_HASH_SHA1 ? 7 : 9;
	for (unsigned i = 0; i <= last; i++)
		if (!(bank->present >> i & 1))
			return ctx_err(ctx, -ENODATA, "PCR %u of the %s bank is needed for the "
				       "boot_aggregate", i, hi->name);
	k = vouch_hasher_new(ctx, &bank->algo, 1, &h);
	for (unsigned i = 0; k >= 0 && i <= last; i++)
		k = vouch_hasher_update(h, bank->pcr[i], hi->size);
	if (k >= 0)
		k = vouch_hasher_final(h, ret_digest);
	vouch_hasher_free(h);
	return k;
}
