// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz the gen_init_cpio spec-list parser (vouch initramfs create --list), one line per
 * input line.  Invariants checked on every accepted line: every pointer it returns lies in
 * the line, names carry no leading '/', modes no stray bits, counts stay in their arrays.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <vouch/vouch.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_in(const char *buf, size_t size, const void *p, size_t len)
{
	const char *c = p;

	if (!p || c < buf || c + len > buf + size)
		abort();
}

static void check_line(const char *buf, size_t size, const struct vouch_cpio_spec_line *l)
{
	if (l->type == VOUCH_CPIO_SPEC_NONE)
		return;
	check_in(buf, size, l->name, strlen(l->name) + 1);
	if (l->type != VOUCH_CPIO_SPEC_XATTR && l->name[0] == '/')
		abort();
	if (l->type == VOUCH_CPIO_SPEC_XATTR) {
		if (!l->name[0])
			abort();
		check_in(buf, size, l->value, l->value_len);
		return;
	}
	if ((l->mode & ~(uint32_t)(S_IFMT | 07777)) || !(l->mode & S_IFMT))
		abort();
	if (l->n_links > VOUCH_CPIO_SPEC_FIELDS_MAX - 6)
		abort();
	for (size_t i = 0; i < l->n_links; i++)
		check_in(buf, size, l->links[i], strlen(l->links[i]) + 1);
	if (l->type == VOUCH_CPIO_SPEC_FILE || l->type == VOUCH_CPIO_SPEC_SLINK)
		check_in(buf, size, l->location, strlen(l->location) + 1);
	if (l->type == VOUCH_CPIO_SPEC_SLINK && strlen(l->location) + 1 > VOUCH_CPIO_NAME_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static vouch_ctx *ctx; /* one for the run */
	char *buf, *line, *next;

	if (!ctx && vouch_ctx_new(&ctx) < 0)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (line = buf; line; line = next) {
		struct vouch_cpio_spec_line l;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (vouch_cpio_spec_parse_line(ctx, line, &l) == 0)
			check_line(buf, size + 1, &l);
		else if (!vouch_ctx_last_error(ctx)[0])
			abort();
	}
	free(buf);
	return 0;
}
