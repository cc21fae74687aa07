// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * PCR values: reading a bank from sysfs, a PCR directory, a text file or the integrity
 * engine's PCR file, and the boot_aggregate over them (FORMATS.md §7).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log-internal.h"

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
	return parse_u32_digits(s, n, 7, ret);
}

/* The lines of a text file, trimmed, each with its "'PATH' line N" for messages. */
struct lines {
	const char *s, *end, *path;
	size_t lineno;
	char what[4200];
};

static bool next_line(struct lines *l, const char **ret_line, size_t *ret_n)
{
	const char *nl, *line = l->s;
	size_t n;

	if (l->s >= l->end)
		return false;
	nl = memchr(l->s, '\n', (size_t)(l->end - l->s));
	n = nl ? (size_t)(nl - l->s) : (size_t)(l->end - l->s);
	l->s += n + (nl ? 1 : 0);
	l->lineno++;
	snprintf(l->what, sizeof(l->what), "'%s' line %zu", l->path, l->lineno);
	*ret_n = trim(&line, n);
	*ret_line = line;
	return true;
}

/*
 * The integrity engine's own PCR file (STATE/pcrs, lib/engine-state.c): "vouch-pcrs 1", then
 * "entries N", then "ALGO PCR-NN: HEX" lines of every bank; the lines of @b's bank are taken.
 */
static int pcr_parse_engine(vouch_ctx *ctx, const char *path, const char *buf, size_t len,
			    struct vouch_pcr_bank *b)
{
	const char *want = vouch_hash_info(b->algo)->name;
	struct lines l = { .s = buf, .end = buf + len, .path = path };
	const char *line, *what = l.what;
	size_t n;

	while (next_line(&l, &line, &n)) {
		const char *sp, *colon;
		uint32_t idx;
		int k;

		if (l.lineno == 1 || n == 0)
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
	struct lines l = { .s = buf, .end = buf + len, .path = path };
	const char *line, *what = l.what;
	size_t n;

	while (next_line(&l, &line, &n)) {
		const char *colon;
		uint32_t idx;
		int k;

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
