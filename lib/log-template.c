// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * IMA templates and their fields: the built-in template table, custom ima_template_fmt
 * lists, per-field validation, ascii rendering (ima_show_template_data_ascii) and parsing.
 * FORMATS.md §5.1, §5.2, §5.5.
 *
 * Copyright (C) 2026 The vouch authors
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "log-internal.h"
#include "openssl-internal.h"

static const char *const field_names[_VOUCH_LOG_FIELD_MAX] = {
	[VOUCH_LOG_FIELD_D] = "d",
	[VOUCH_LOG_FIELD_N] = "n",
	[VOUCH_LOG_FIELD_D_NG] = "d-ng",
	[VOUCH_LOG_FIELD_D_NGV2] = "d-ngv2",
	[VOUCH_LOG_FIELD_N_NG] = "n-ng",
	[VOUCH_LOG_FIELD_SIG] = "sig",
	[VOUCH_LOG_FIELD_BUF] = "buf",
	[VOUCH_LOG_FIELD_D_MODSIG] = "d-modsig",
	[VOUCH_LOG_FIELD_MODSIG] = "modsig",
	[VOUCH_LOG_FIELD_EVMSIG] = "evmsig",
	[VOUCH_LOG_FIELD_IUID] = "iuid",
	[VOUCH_LOG_FIELD_IGID] = "igid",
	[VOUCH_LOG_FIELD_IMODE] = "imode",
	[VOUCH_LOG_FIELD_XATTRNAMES] = "xattrnames",
	[VOUCH_LOG_FIELD_XATTRLENGTHS] = "xattrlengths",
	[VOUCH_LOG_FIELD_XATTRVALUES] = "xattrvalues",
};

/* ima_template.c builtin_templates[] in 6.1: the one template table (log, policy, engine) */
static const struct {
	const char *name;
	const char *fmt;
} builtin[] = {
	{ "ima", "d|n" },
	{ "ima-ng", "d-ng|n-ng" },
	{ "ima-ngv2", "d-ngv2|n-ng" },
	{ "ima-sig", "d-ng|n-ng|sig" },
	{ "ima-sigv2", "d-ngv2|n-ng|sig" },
	{ "ima-buf", "d-ng|n-ng|buf" },
	{ "ima-modsig", "d-ng|n-ng|sig|d-modsig|modsig" },
	{ "evm-sig", "d-ng|n-ng|evmsig|xattrnames|xattrlengths|xattrvalues|iuid|igid|imode" },
};

VOUCH_EXPORT const char *vouch_log_field_name(int id)
{
	if (id < 0 || id >= _VOUCH_LOG_FIELD_MAX)
		return NULL;
	return field_names[id];
}

static int field_lookup(const char *name, size_t len)
{
	for (int i = 0; i < _VOUCH_LOG_FIELD_MAX; i++)
		if (strlen(field_names[i]) == len && memcmp(field_names[i], name, len) == 0)
			return i;
	return -ENOENT;
}

VOUCH_EXPORT int vouch_log_field_by_name(const char *name)
{
	if (!name)
		return -ENOENT;
	return field_lookup(name, strlen(name));
}

static int parse_fmt(const char *fmt, size_t len, struct log_template *t)
{
	size_t start = 0;

	t->n_fields = 0;
	for (size_t i = 0; i <= len; i++) {
		int id;

		if (i < len && fmt[i] != '|')
			continue;
		/* template_desc_init_fields: at most 15 ids of at most 16 characters */
		if (i == start || i - start > 16 || t->n_fields == VOUCH_LOG_MAX_FIELDS)
			return -EBADMSG;
		id = field_lookup(fmt + start, i - start);
		if (id < 0)
			return -EBADMSG;
		t->ids[t->n_fields++] = (uint8_t)id;
		start = i + 1;
	}
	return 0;
}

bool log_template_builtin(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(builtin); i++)
		if (!strcmp(s, builtin[i].name) || !strcmp(s, builtin[i].fmt))
			return true;
	return false;
}

int log_template_parse(const char *name, size_t name_len, struct log_template *ret)
{
	struct log_template t = { 0 };
	const char *fmt = name;
	size_t fmt_len = name_len;

	if (name_len == 0 || name_len > LOG_MAX_NAME_LEN || memchr(name, '\0', name_len))
		return -EBADMSG;
	for (size_t i = 0; i < ARRAY_SIZE(builtin); i++)
		if (strlen(builtin[i].name) == name_len &&
		    memcmp(builtin[i].name, name, name_len) == 0) {
			fmt = builtin[i].fmt;
			fmt_len = strlen(fmt);
			t.is_ima = i == 0;
			break;
		}
	if (parse_fmt(fmt, fmt_len, &t) < 0)
		return -EBADMSG;
	memcpy(t.name, name, name_len);
	t.name[name_len] = '\0';
	t.name_len = name_len;
	*ret = t;
	return 0;
}

/* "algo:\0" (d-ng) or "ima:algo:\0" / "verity:algo:\0" (d-ngv2): returns the prefix length */
static int digest_prefix(int id, const uint8_t *data, size_t len, int *ret_algo,
			 bool *ret_verity)
{
	const uint8_t *nul = memchr(data, '\0', len < 40 ? len : 40);
	const char *algo_name = (const char *)data;
	size_t plen, alen;
	char tmp[40];
	int algo;

	if (!nul)
		return -EBADMSG;
	plen = (size_t)(nul - data) + 1;
	if (plen < 2 || data[plen - 2] != ':')
		return -EBADMSG;
	alen = plen - 2;
	if (ret_verity)
		*ret_verity = false;
	if (id == VOUCH_LOG_FIELD_D_NGV2) {
		if (alen > 4 && memcmp(data, "ima:", 4) == 0) {
			algo_name += 4;
			alen -= 4;
		} else if (alen > 7 && memcmp(data, "verity:", 7) == 0) {
			algo_name += 7;
			alen -= 7;
			if (ret_verity)
				*ret_verity = true;
		} else {
			return -EBADMSG;
		}
	}
	if (alen == 0 || alen >= sizeof(tmp))
		return -EBADMSG;
	/* the common names first: this runs for every entry of a list */
	if (alen == 6 && memcmp(algo_name, "sha256", 6) == 0) {
		algo = VOUCH_HASH_SHA256;
	} else if (alen == 4 && memcmp(algo_name, "sha1", 4) == 0) {
		algo = VOUCH_HASH_SHA1;
	} else {
		memcpy(tmp, algo_name, alen);
		tmp[alen] = '\0';
		algo = -ENOENT;
		for (int i = 0; i < _VOUCH_HASH_MAX; i++)
			if (strcmp(vouch_hash_info(i)->name, tmp) == 0)
				algo = i;
	}
	if (algo < 0 || len - plen != vouch_hash_info(algo)->size)
		return -EBADMSG;
	*ret_algo = algo;
	return (int)plen;
}

static bool is_cstring(const uint8_t *data, size_t len)
{
	return len >= 1 && data[len - 1] == '\0' && !memchr(data, '\0', len - 1);
}

int log_field_check(int id, const uint8_t *data, size_t len, bool is_ima, const char **ret_why)
{
	int algo;
	const char *why = NULL;

	switch (id) {
	case VOUCH_LOG_FIELD_D:
		if (is_ima ? len != 20 : (len != 20 && len != 16))
			why = "d is not a 16- or 20-byte digest";
		break;
	case VOUCH_LOG_FIELD_N:
		if (is_ima) {
			if (len > LOG_IMA_NAME_MAX || memchr(data, '\0', len))
				why = "n is longer than 255 bytes or holds a NUL";
		} else if (!is_cstring(data, len) || len > LOG_IMA_NAME_MAX + 1) {
			why = "n is not a NUL-terminated name of at most 255 bytes";
		}
		break;
	case VOUCH_LOG_FIELD_D_MODSIG:
		if (len == 0)
			break;
		/* fall through */
	case VOUCH_LOG_FIELD_D_NG:
	case VOUCH_LOG_FIELD_D_NGV2:
		if (digest_prefix(id, data, len, &algo, NULL) < 0)
			why = "digest is not 'algo:' NUL and a digest of that algorithm's size";
		break;
	case VOUCH_LOG_FIELD_N_NG:
		if (!is_cstring(data, len))
			why = "n-ng is not a NUL-terminated string";
		break;
	case VOUCH_LOG_FIELD_XATTRNAMES:
		if (len && !is_cstring(data, len))
			why = "xattrnames is not a NUL-terminated string";
		break;
	case VOUCH_LOG_FIELD_IUID:
	case VOUCH_LOG_FIELD_IGID:
		if (len != 0 && len != 4)
			why = "iuid/igid is not 4 bytes";
		break;
	case VOUCH_LOG_FIELD_IMODE:
		if (len != 0 && len != 2)
			why = "imode is not 2 bytes";
		break;
	case VOUCH_LOG_FIELD_XATTRLENGTHS:
		if (len % 4)
			why = "xattrlengths is not a list of u32";
		break;
	case VOUCH_LOG_FIELD_SIG:
	case VOUCH_LOG_FIELD_BUF:
	case VOUCH_LOG_FIELD_MODSIG:
	case VOUCH_LOG_FIELD_EVMSIG:
	case VOUCH_LOG_FIELD_XATTRVALUES:
		break;
	default:
		why = "unknown field";
	}
	if (why) {
		if (ret_why)
			*ret_why = why;
		return -EBADMSG;
	}
	return 0;
}

/* --- ascii ----------------------------------------------------------------------------- */

static int sb_hex(struct strbuf *sb, const uint8_t *data, size_t len)
{
	int r = sb_reserve(sb, 2 * len);

	if (r < 0)
		return r;
	hex_encode(data, len, sb->s + sb->len);
	sb->len += 2 * len;
	return 0;
}

int log_field_ascii(struct strbuf *sb, int id, const uint8_t *data, size_t len, int order)
{
	char num[24];
	int n, algo, plen;

	if (len == 0)
		return 0; /* ima_ascii_measurements_show: empty fields print nothing */
	switch (id) {
	case VOUCH_LOG_FIELD_D_NG:
	case VOUCH_LOG_FIELD_D_NGV2:
	case VOUCH_LOG_FIELD_D_MODSIG:
		plen = digest_prefix(id, data, len, &algo, NULL);
		if (plen < 0)
			return -EBADMSG;
		n = sb_add(sb, data, (size_t)plen - 1);
		return n < 0 ? n : sb_hex(sb, data + plen, len - (size_t)plen);
	case VOUCH_LOG_FIELD_N:
	case VOUCH_LOG_FIELD_N_NG:
	case VOUCH_LOG_FIELD_XATTRNAMES: {
		const uint8_t *nul = memchr(data, '\0', len);

		return sb_add(sb, data, nul ? (size_t)(nul - data) : len);
	}
	case VOUCH_LOG_FIELD_IUID:
	case VOUCH_LOG_FIELD_IGID:
	case VOUCH_LOG_FIELD_IMODE:
		if (len == 4)
			n = snprintf(num, sizeof(num), "%u", log_get32(data, order));
		else if (len == 2)
			n = snprintf(num, sizeof(num), "%u",
				     order == VOUCH_LOG_ORDER_BE ? get_be16(data) :
								   (unsigned)(data[0] | data[1] << 8));
		else if (len == 1)
			n = snprintf(num, sizeof(num), "%u", data[0]);
		else
			return 0;
		return sb_add(sb, num, (size_t)n);
	default:
		return sb_hex(sb, data, len);
	}
}

static int put_uint(const char *tok, size_t len, size_t width, int order, struct strbuf *out)
{
	uint32_t v;
	uint8_t b[4];

	if (len && tok[0] == '0' && len != 1)
		return -EBADMSG;
	if (parse_u32_digits(tok, len, 15, &v) < 0 || (width == 2 && v > 0xffff))
		return -EBADMSG;
	if (width == 4) {
		log_put32(b, v, order);
	} else if (order == VOUCH_LOG_ORDER_BE) {
		b[0] = (uint8_t)(v >> 8);
		b[1] = (uint8_t)v;
	} else {
		b[0] = (uint8_t)v;
		b[1] = (uint8_t)(v >> 8);
	}
	return sb_add(out, b, width);
}

static int put_hex(const char *tok, size_t len, struct strbuf *out)
{
	int r;

	if (len % 2)
		return -EBADMSG;
	for (size_t i = 0; i < len; i++)
		if (!((tok[i] >= '0' && tok[i] <= '9') || (tok[i] >= 'a' && tok[i] <= 'f')))
			return -EBADMSG; /* the kernel prints lower case only */
	r = sb_reserve(out, len / 2);
	if (r < 0)
		return r;
	r = hex_decode(tok, len, (uint8_t *)out->s + out->len, len / 2, NULL);
	if (r < 0)
		return -EBADMSG;
	out->len += len / 2;
	return 0;
}

int log_field_from_ascii(int id, const char *tok, size_t len, bool is_ima, int order,
			 struct strbuf *out)
{
	const char *colon;
	size_t plen;
	int r;

	switch (id) {
	case VOUCH_LOG_FIELD_D_MODSIG:
		if (len == 0)
			return 0;
		/* fall through */
	case VOUCH_LOG_FIELD_D_NG:
	case VOUCH_LOG_FIELD_D_NGV2:
		colon = memrchr(tok, ':', len);
		plen = colon ? (size_t)(colon - tok) + 1 : 0;
		if (!colon) {
			r = sb_add(out, ":", 1); /* the kernel omits a prefix that is only ':' */
		} else {
			r = sb_add(out, tok, plen);
		}
		if (r < 0 || (r = sb_add(out, "", 1)) < 0)
			return r;
		return put_hex(tok + plen, len - plen, out);
	case VOUCH_LOG_FIELD_N:
	case VOUCH_LOG_FIELD_N_NG:
	case VOUCH_LOG_FIELD_XATTRNAMES:
		if (memchr(tok, '\0', len))
			return -EBADMSG;
		r = sb_add(out, tok, len);
		if (r < 0)
			return r;
		/* "ima"'s n has no NUL; an empty xattrnames is an empty field */
		if ((id == VOUCH_LOG_FIELD_N && is_ima) ||
		    (id == VOUCH_LOG_FIELD_XATTRNAMES && len == 0))
			return 0;
		return sb_add(out, "", 1);
	case VOUCH_LOG_FIELD_IUID:
	case VOUCH_LOG_FIELD_IGID:
		return len ? put_uint(tok, len, 4, order, out) : 0;
	case VOUCH_LOG_FIELD_IMODE:
		return len ? put_uint(tok, len, 2, order, out) : 0;
	default:
		return put_hex(tok, len, out);
	}
}

void log_field_swap(int id, uint8_t *data, size_t len)
{
	size_t w;

	switch (id) {
	case VOUCH_LOG_FIELD_IUID:
	case VOUCH_LOG_FIELD_IGID:
	case VOUCH_LOG_FIELD_XATTRLENGTHS:
		w = 4;
		break;
	case VOUCH_LOG_FIELD_IMODE:
		w = 2;
		break;
	default:
		return;
	}
	for (size_t i = 0; i + w <= len; i += w)
		for (size_t a = i, b = i + w - 1; a < b; a++, b--) {
			uint8_t t = data[a];

			data[a] = data[b];
			data[b] = t;
		}
}

/* --- entry accessors --------------------------------------------------------------------- */

VOUCH_EXPORT const struct vouch_log_field *vouch_log_entry_find(const struct vouch_log_entry *e,
								 int id)
{
	if (!e)
		return NULL;
	for (size_t i = 0; i < e->n_fields && i < VOUCH_LOG_MAX_FIELDS; i++)
		if (e->fields[i].id == id)
			return &e->fields[i];
	return NULL;
}

VOUCH_EXPORT int vouch_log_entry_digest(const struct vouch_log_entry *e,
					struct vouch_digest *ret_digest, bool *ret_verity)
{
	const struct vouch_log_field *f;
	struct vouch_digest d = { 0 };
	bool verity = false;
	int plen, algo;

	if (!e || !ret_digest)
		return -EINVAL;
	f = vouch_log_entry_find(e, VOUCH_LOG_FIELD_D_NG);
	if (!f)
		f = vouch_log_entry_find(e, VOUCH_LOG_FIELD_D_NGV2);
	if (f) {
		if (f->len == 0)
			return -ENOENT;
		plen = digest_prefix(f->id, f->data, f->len, &algo, &verity);
		if (plen < 0)
			return -EBADMSG;
		d.algo = algo;
		d.len = f->len - (size_t)plen;
		memcpy(d.bytes, f->data + plen, d.len);
	} else {
		f = vouch_log_entry_find(e, VOUCH_LOG_FIELD_D);
		if (!f || f->len == 0)
			return -ENOENT;
		if (f->len != 20 && f->len != 16)
			return -EBADMSG;
		d.algo = f->len == 20 ? VOUCH_HASH_SHA1 : VOUCH_HASH_MD5;
		d.len = f->len;
		memcpy(d.bytes, f->data, f->len);
	}
	*ret_digest = d;
	if (ret_verity)
		*ret_verity = verity;
	return 0;
}

/* d-modsig of an ima-modsig entry (empty when the file has no appended signature). */
int log_field_digest(const struct vouch_log_field *f, struct vouch_digest *ret)
{
	int algo, plen = digest_prefix(f->id, f->data, f->len, &algo, NULL);

	if (plen < 0)
		return -EBADMSG;
	memset(ret, 0, sizeof(*ret));
	ret->algo = algo;
	ret->len = f->len - (size_t)plen;
	memcpy(ret->bytes, f->data + plen, ret->len);
	return 0;
}

VOUCH_EXPORT int vouch_log_entry_name(const struct vouch_log_entry *e, char *buf, size_t size)
{
	const struct vouch_log_field *f;
	const uint8_t *nul;
	size_t n;

	if (!e || !buf || size == 0)
		return -EINVAL;
	f = vouch_log_entry_find(e, VOUCH_LOG_FIELD_N_NG);
	if (!f)
		f = vouch_log_entry_find(e, VOUCH_LOG_FIELD_N);
	if (!f)
		return -ENOENT;
	nul = f->len ? memchr(f->data, '\0', f->len) : NULL;
	n = nul ? (size_t)(nul - f->data) : f->len;
	if (n >= size)
		return -ENOBUFS;
	memcpy(buf, f->data, n);
	buf[n] = '\0';
	return 0;
}

/* --- fast digests -------------------------------------------------------------------------- */

int fast_md_init(vouch_ctx *ctx, struct fast_md *f, int algo)
{
	const struct vouch_hash_info *hi = vouch_hash_info(algo);

	memset(f, 0, sizeof(*f));
	if (!hi)
		return -EINVAL;
	f->algo = algo;
	f->size = hi->size;
	f->md = ctx_md(ctx, algo);
	if (!f->md)
		return ctx_err(ctx, -EOPNOTSUPP, "hash algorithm %s is not available from OpenSSL",
			       hi->name);
	f->mctx = EVP_MD_CTX_new();
	if (!f->mctx)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	return 0;
}

void fast_md_done(struct fast_md *f)
{
	EVP_MD_CTX_free(f->mctx);
	f->mctx = NULL;
}

/*
 * The SHA family goes through OpenSSL's low-level one-shot API: the EVP path costs a provider
 * dispatch and context reset per call, which is most of the time for 80-byte inputs.
 */
int fast_md_digest(struct fast_md *f, const void *a, size_t alen, const void *b, size_t blen,
		   const void *c, size_t clen, uint8_t *out)
{
/* init, the pieces that are there, final: one case of the switch below */
#define FAST_SHA(CTX, INIT, UPDATE, FINAL)                                                         \
	do {                                                                                       \
		CTX s;                                                                             \
		INIT(&s);                                                                          \
		UPDATE(&s, a, alen);                                                               \
		if (blen)                                                                          \
			UPDATE(&s, b, blen);                                                       \
		if (clen)                                                                          \
			UPDATE(&s, c, clen);                                                       \
		FINAL(out, &s);                                                                    \
		return 0;                                                                          \
	} while (0)

	switch (f->algo) {
	case VOUCH_HASH_SHA1:
		FAST_SHA(SHA_CTX, SHA1_Init, SHA1_Update, SHA1_Final);
	case VOUCH_HASH_SHA256:
		FAST_SHA(SHA256_CTX, SHA256_Init, SHA256_Update, SHA256_Final);
	case VOUCH_HASH_SHA384:
		FAST_SHA(SHA512_CTX, SHA384_Init, SHA384_Update, SHA384_Final);
	case VOUCH_HASH_SHA512:
		FAST_SHA(SHA512_CTX, SHA512_Init, SHA512_Update, SHA512_Final);
	default: {
		unsigned int len = 0;

		if (!EVP_DigestInit_ex(f->mctx, f->md, NULL) || !EVP_DigestUpdate(f->mctx, a, alen) ||
		    (blen && !EVP_DigestUpdate(f->mctx, b, blen)) ||
		    (clen && !EVP_DigestUpdate(f->mctx, c, clen)) ||
		    !EVP_DigestFinal_ex(f->mctx, out, &len))
			return -EIO;
		return 0;
	}
	}
#undef FAST_SHA
}
