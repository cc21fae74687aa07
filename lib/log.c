// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * IMA measurement lists: the streaming reader (binary in either byte order, ascii, kexec
 * buffer).  The writer is lib/log-write.c, template digests and PCR replay
 * lib/log-replay.c, PCR files lib/log-pcr.c.  FORMATS.md §5, §6, §7.
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
	if (check_reserved(ctx, opts->reserved, sizeof(opts->reserved),
			   "reserved reader options must be zero") < 0)
		return -EINVAL;
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
	free(r->scratch.s);
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
			log_put32((uint8_t *)r->scratch.s + at,
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
		e->template_data = (const uint8_t *)r->scratch.s;
		e->template_data_len = r->scratch.len;
	}
	for (size_t i = 0; i < t->n_fields; i++) {
		const char *why = NULL;

		e->fields[i] = (struct vouch_log_field){ t->ids[i],
							 (const uint8_t *)r->scratch.s + offs[i],
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
