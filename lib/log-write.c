// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * IMA measurement lists: the writer (binary in either byte order, ascii, kexec buffer),
 * FORMATS.md §5, §6.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>
#include <stdlib.h>

#include "log-internal.h"

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
	if (check_reserved(ctx, opts->reserved, sizeof(opts->reserved),
			   "reserved writer options must be zero") < 0)
		return -EINVAL;
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
	free(w->out.s);
	free(w->tmp.s);
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
			log_field_swap(f->id, (uint8_t *)w->tmp.s + at, f->len);
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
		k = fast_md_digest(&w->sha1, w->tmp.s, w->tmp.len, NULL, 0, NULL, 0, digest);
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
	return sb_add(&w->out, w->tmp.s, w->tmp.len);
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

	if (!w || !log_entry_ok(e) || (e->order != VOUCH_LOG_ORDER_LE && e->order != VOUCH_LOG_ORDER_BE))
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
		e.template_data = (const uint8_t *)w->tmp.s;
		e.template_data_len = w->tmp.len;
	}
	if (!violation) {
		k = log_entry_hash(&w->sha1, &e, e.template_digest);
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
			e.template_data = (const uint8_t *)w->tmp.s;
		for (size_t i = 0; i < n_fields; i++)
			e.fields[i].data = (const uint8_t *)w->tmp.s + off[i];
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
		uint8_t *h = (uint8_t *)w->out.s;
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
	if (!w->out.s && (k = sb_reserve(&w->out, 0)) < 0)
		return ctx_err(w->ctx, k, "out of memory");
	*ret_buf = (const uint8_t *)w->out.s;
	*ret_len = w->out.len;
	return 0;
}
