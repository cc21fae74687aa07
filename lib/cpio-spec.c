// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel's gen_init_cpio spec lists (usr/gen_init_cpio.c), one line at a time: the
 * fields are split and checked here, untrusted text that it is; opening files, expanding
 * ${VAR} and building the archive are the caller's.  No allocation: the result points into
 * the line, which is split in place.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include <vouch/cpio.h>

/* A number in @base, no sign, at most @max: permission bits (octal), ids, device numbers. */
static int parse_num(const char *s, int base, unsigned long max, uint32_t *ret)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || *end || v > max)
		return -1;
	*ret = (uint32_t)v;
	return 0;
}

static int parse_id(const char *s, uint32_t *ret)
{
	return parse_num(s, 10, UINT32_MAX, ret);
}

/* MODE UID GID at @tok */
static int parse_owner(char **tok, struct vouch_cpio_spec_line *l)
{
	if (parse_num(tok[0], 8, 07777, &l->mode) < 0 || parse_id(tok[1], &l->uid) < 0)
		return -1;
	return parse_id(tok[2], &l->gid);
}

/* Archive names are stored without their leading '/'. */
static const char *strip_slash(const char *s)
{
	while (*s == '/')
		s++;
	return s;
}

/* xattr NAME=0xHEX: the value is decoded in place, behind the name's NUL. */
static int parse_xattr(vouch_ctx *ctx, char **tok, size_t nt, struct vouch_cpio_spec_line *l)
{
	char *eq = nt == 2 ? strchr(tok[1], '=') : NULL;
	uint8_t *v;
	size_t hl;

	if (!eq || eq == tok[1] || strncmp(eq + 1, "0x", 2) != 0)
		return ctx_err(ctx, -EBADMSG, "expected 'xattr NAME=0xHEX'");
	hl = strlen(eq + 3);
	if (hl % 2)
		return ctx_err(ctx, -EBADMSG, "invalid xattr value (hex digits, even count)");
	v = (uint8_t *)eq + 1;
	for (size_t i = 0; i < hl; i += 2) {
		char h[3] = { eq[3 + i], eq[4 + i], 0 };
		char *end;
		unsigned long b = strtoul(h, &end, 16);

		if (*end || !isxdigit((unsigned char)h[0]))
			return ctx_err(ctx, -EBADMSG, "invalid xattr value (hex digits, even count)");
		v[i / 2] = (uint8_t)b;
	}
	*eq = '\0';
	l->name = tok[1];
	l->value = v;
	l->value_len = hl / 2;
	return 0;
}

/* file NAME LOCATION MODE UID GID [LINKS...] */
static int parse_file(vouch_ctx *ctx, char **tok, size_t nt, struct vouch_cpio_spec_line *l)
{
	if (nt < 6)
		return ctx_err(ctx, -EBADMSG, "expected 'file NAME LOCATION MODE UID GID [LINKS...]'");
	if (parse_owner(tok + 3, l) < 0)
		return ctx_err(ctx, -EBADMSG, "invalid mode, uid or gid");
	l->mode |= S_IFREG;
	l->location = tok[2];
	for (size_t k = 6; k < nt; k++)
		l->links[l->n_links++] = strip_slash(tok[k]);
	return 0;
}

/* dir|pipe|sock NAME MODE UID GID, nod NAME MODE UID GID b|c MAJ MIN, slink NAME TARGET ... */
static int parse_node(vouch_ctx *ctx, const char *type, char **tok, size_t nt,
		      struct vouch_cpio_spec_line *l)
{
	if (!strcmp(type, "dir") || !strcmp(type, "pipe") || !strcmp(type, "sock")) {
		if (nt != 5)
			return ctx_err(ctx, -EBADMSG, "expected 'TYPE NAME MODE UID GID'");
		if (parse_owner(tok + 2, l) < 0)
			return ctx_err(ctx, -EBADMSG, "invalid mode, uid or gid");
		l->type = type[0] == 'd' ? VOUCH_CPIO_SPEC_DIR :
			  type[0] == 'p' ? VOUCH_CPIO_SPEC_PIPE : VOUCH_CPIO_SPEC_SOCK;
		l->mode |= type[0] == 'd' ? S_IFDIR : type[0] == 'p' ? S_IFIFO : S_IFSOCK;
	} else if (!strcmp(type, "nod")) {
		if (nt != 8 || strlen(tok[5]) != 1 || (tok[5][0] != 'b' && tok[5][0] != 'c'))
			return ctx_err(ctx, -EBADMSG, "expected 'nod NAME MODE UID GID b|c MAJ MIN'");
		if (parse_owner(tok + 2, l) < 0 || parse_id(tok[6], &l->rmaj) < 0 ||
		    parse_id(tok[7], &l->rmin) < 0)
			return ctx_err(ctx, -EBADMSG, "invalid mode, uid, gid or device number");
		l->type = VOUCH_CPIO_SPEC_NOD;
		l->mode |= tok[5][0] == 'b' ? S_IFBLK : S_IFCHR;
	} else if (!strcmp(type, "slink")) {
		if (nt != 6)
			return ctx_err(ctx, -EBADMSG, "expected 'slink NAME TARGET MODE UID GID'");
		if (parse_owner(tok + 3, l) < 0)
			return ctx_err(ctx, -EBADMSG, "invalid mode, uid or gid");
		if (strlen(tok[2]) + 1 > VOUCH_CPIO_NAME_MAX)
			return ctx_err(ctx, -EBADMSG, "symlink target too long");
		l->type = VOUCH_CPIO_SPEC_SLINK;
		l->mode |= S_IFLNK;
		l->location = tok[2];
	} else {
		return ctx_err(ctx, -EBADMSG, "unknown type '%s'", type);
	}
	return 0;
}

VOUCH_EXPORT int vouch_cpio_spec_parse_line(vouch_ctx *ctx, char *line,
					struct vouch_cpio_spec_line *ret)
{
	char *tok[VOUCH_CPIO_SPEC_FIELDS_MAX], *save = NULL, *p;
	size_t nt = 0;
	int r;

	if (!line || !ret)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	if (line[0] == '#')
		return 0;
	for (p = strtok_r(line, " \t\r\n", &save); p; p = strtok_r(NULL, " \t\r\n", &save)) {
		if (nt == ARRAY_SIZE(tok))
			return ctx_err(ctx, -EBADMSG, "too many fields");
		tok[nt++] = p;
	}
	if (!nt)
		return 0;
	if (nt < 2)
		return ctx_err(ctx, -EBADMSG, "incomplete line");
	if (!strcmp(tok[0], "xattr")) {
		ret->type = VOUCH_CPIO_SPEC_XATTR;
		r = parse_xattr(ctx, tok, nt, ret);
	} else if (!strcmp(tok[0], "file")) {
		ret->type = VOUCH_CPIO_SPEC_FILE;
		r = parse_file(ctx, tok, nt, ret);
	} else {
		r = parse_node(ctx, tok[0], tok, nt, ret);
	}
	if (r < 0) {
		ret->type = VOUCH_CPIO_SPEC_NONE;
		return r;
	}
	if (ret->type != VOUCH_CPIO_SPEC_XATTR)
		ret->name = strip_slash(tok[1]);
	return 0;
}
