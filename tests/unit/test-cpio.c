// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The vouch authors */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cpio-internal.h"
#include "internal.h"
#include "tap.h"

struct sink {
	uint8_t *buf;
	size_t len, cap;
};

static int sink_write(void *userdata, const uint8_t *b, size_t n)
{
	struct sink *s = userdata;

	if (!n)
		return 0;
	if (s->len + n > s->cap) {
		size_t cap = (s->len + n) * 2;
		uint8_t *p = realloc(s->buf, cap);

		if (!p)
			return -ENOMEM;
		s->buf = p;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, b, n);
	s->len += n;
	return 0;
}

/* FORMATS.md §13.2: security.ima sha256 digest of "hello IMA\n" */
static const uint8_t ima_sha256[] = {
	0x04, 0x04, 0x3f, 0x86, 0x56, 0x64, 0xca, 0xfc, 0x00, 0x07, 0xc6, 0xef, 0x91, 0xf7, 0xe6,
	0xca, 0xac, 0xd1, 0x79, 0x7d, 0x92, 0xf9, 0xb7, 0x07, 0x10, 0x01, 0x70, 0xbf, 0x3a, 0x65,
	0x63, 0x31, 0xb6, 0xcf,
};
static const char hello[] = "hello IMA\n";

/* The §13.13 list: dir /dev, nod /dev/console, file /init, slink /bin */
static int write_1313(vouch_ctx *ctx, int format, int compress, struct sink *s, bool xattrs)
{
	struct vouch_cpio_writer_options o = VOUCH_CPIO_WRITER_OPTIONS_INIT;
	struct vouch_cpio_xattr x = { "security.ima", ima_sha256, sizeof(ima_sha256) };
	struct vouch_cpio_entry e[] = {
		{ .name = "/dev", .mode = 040755, .nlink = 2, .ino = 721 },
		{ .name = "/dev/console", .mode = 020600, .nlink = 1, .ino = 722, .rdevmajor = 5,
		  .rdevminor = 1 },
		{ .name = "/init", .mode = 0100755, .nlink = 1, .ino = 723, .size = 10 },
		{ .name = "/bin", .mode = 0120777, .nlink = 1, .ino = 724, .size = 9 },
	};
	vouch_cpio_writer *w = NULL;
	int r;

	o.format = format;
	o.compress = compress;
	r = vouch_cpio_writer_new(ctx, &o, sink_write, s, &w);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(e) && r >= 0; i++) {
		e[i].mtime = 1700000000;
		e[i].devmajor = 3;
		e[i].devminor = 1;
		if (i == 2) {
			if (xattrs) {
				e[i].xattrs = &x;
				e[i].n_xattrs = 1;
			}
			r = vouch_cpio_writer_add(w, &e[i], (const uint8_t *)hello, 10);
		} else if (i == 3) {
			r = vouch_cpio_writer_add(w, &e[i], (const uint8_t *)"/usr/bin", 9);
		} else {
			r = vouch_cpio_writer_add(w, &e[i], NULL, 0);
		}
	}
	if (r >= 0)
		r = vouch_cpio_writer_finish(w);
	vouch_cpio_writer_free(w);
	return r;
}

static void sha256_hex(vouch_ctx *ctx, const uint8_t *b, size_t n, char *hex)
{
	struct vouch_digest d;

	vouch_digest_buf(ctx, VOUCH_HASH_SHA256, b, n, &d);
	vouch_digest_to_hex(&d, hex, 2 * VOUCH_HASH_MAX_SIZE + 1);
}

/* Read every member; returns the count, or the error.  Collects names joined by ','. */
static int read_all(vouch_ctx *ctx, const uint8_t *b, size_t n, char *names, size_t size,
		    size_t *n_xattrs)
{
	vouch_cpio_reader *r = NULL;
	struct vouch_cpio_entry e;
	int k, count = 0;

	if (names)
		names[0] = '\0';
	if (n_xattrs)
		*n_xattrs = 0;
	k = vouch_cpio_reader_new_mem(ctx, b, n, &r);
	if (k < 0)
		return k;
	while ((k = vouch_cpio_reader_next(r, &e)) > 0) {
		uint8_t buf[4096];
		size_t got;

		count++;
		if (names) {
			size_t used = strlen(names);

			snprintf(names + used, size - used, "%s,", e.name);
		}
		if (n_xattrs)
			*n_xattrs += e.n_xattrs;
		do
			k = vouch_cpio_reader_read(r, buf, sizeof(buf), &got);
		while (k == 0 && got);
		if (k < 0)
			break;
	}
	vouch_cpio_reader_free(r);
	return k < 0 ? k : count;
}

static int expect_bad(vouch_ctx *ctx, const char *what, const uint8_t *b, size_t n,
		      const char *needle)
{
	int k = read_all(ctx, b, n, NULL, 0, NULL);

	ok(k == -EBADMSG && strstr(vouch_ctx_last_error(ctx), needle), "must fail: %s (%s)", what,
	   vouch_ctx_last_error(ctx));
	return k;
}

static int rm_one(const char *p, const struct stat *st, int f, struct FTW *ftw)
{
	return remove(p);
}

/* Write the members m[0..n) with the contents data[i] (m[i].size bytes; NULL when empty). */
static void write_members(vouch_ctx *ctx, const struct vouch_cpio_writer_options *o,
			  struct sink *a, const struct vouch_cpio_entry *m,
			  const char *const *data, size_t n)
{
	vouch_cpio_writer *w = NULL;

	a->len = 0;
	vouch_cpio_writer_new(ctx, o, sink_write, a, &w);
	for (size_t i = 0; i < n; i++)
		vouch_cpio_writer_add(w, &m[i], (const uint8_t *)data[i], (size_t)m[i].size);
	vouch_cpio_writer_finish(w);
	vouch_cpio_writer_free(w);
}

/* §13.13 known answers */
static void test_known_answers(vouch_ctx *ctx)
{
	struct sink s = { 0 };
	char hex[2 * VOUCH_HASH_MAX_SIZE + 1], names[512];
	size_t nx;
	int k;

	ok_ret(write_1313(ctx, VOUCH_CPIO_NEWC, 0, &s, true), "write newc");
	sha256_hex(ctx, s.buf, s.len, hex);
	ok(s.len == 1024, "newc archive padded to 1024 bytes");
	ok_streq(hex, "a591fb45e822776c795e4f939a94940377608f2638f27d8c0c47cf3151646cb2",
		 "newc equals gen_init_cpio -t 1700000000 (FORMATS 13.13)");
	k = read_all(ctx, s.buf, s.len, names, sizeof(names), &nx);
	ok(k == 4 && !strcmp(names, "dev,dev/console,init,bin,") && nx == 0,
	   "newc reads back: %d members '%s', xattrs dropped", k, names);
	s.len = 0;
	ok_ret(write_1313(ctx, VOUCH_CPIO_CRC, 0, &s, false), "write crc");
	sha256_hex(ctx, s.buf, s.len, hex);
	ok_streq(hex, "e4f2bc1f7cadb980796e0b487d4d9d7d9f0a0dee32bb2978a84d1f94da743eb9",
		 "crc equals gen_init_cpio -c (FORMATS 13.13)");
	ok(!memcmp(s.buf + 240 + 102, "00000315", 8), "init check field is 00000315");
	ok(read_all(ctx, s.buf, s.len, NULL, 0, NULL) == 4, "crc reads back with checksums");
	s.buf[240 + 110 + 8] ^= 1; /* one data bit of "init" */
	expect_bad(ctx, "crc data checksum", s.buf, s.len, "bad data checksum");

	s.len = 0;
	ok_ret(write_1313(ctx, VOUCH_CPIO_NEWCX, 0, &s, true), "write newcx");
	ok(!memcmp(s.buf + 240 - 240 + 0, "070703", 6), "newcx magic");
	{
		/* the init header of §13.13 sits after dev (134+4 pad) and dev/console */
		const char *want = "070703000002D3000081ED000000000000000000000001000000006553F100000000"
				   "00000000000000000A000000030000000100000000000000000000000500000037";
		const uint8_t *p = memmem(s.buf, s.len, "070703000002D3", 14);

		ok(p && !memcmp(p, want, 134), "newcx init header as in FORMATS 13.13 (ino 723)");
		ok(p && !memcmp(p + 134 + 5 + 1, "00000037security.ima", 20),
		   "newcx xattr entry: size 0x37 then the name");
	}
	k = read_all(ctx, s.buf, s.len, names, sizeof(names), &nx);
	ok(k == 4 && nx == 1, "newcx reads back with its xattr (%d, %zu)", k, nx);

	s.len = 0;
	ok_ret(write_1313(ctx, VOUCH_CPIO_METADATA, 0, &s, true), "write metadata");
	{
		const uint8_t *p = memmem(s.buf, s.len, "00000039\x01\x01security.ima", 22);

		ok(p && !memcmp(p + 23, ima_sha256, sizeof(ima_sha256)),
		   "METADATA!!! record as in FORMATS 13.13");
	}
	k = read_all(ctx, s.buf, s.len, names, sizeof(names), &nx);
	ok(k == 5 && !strcmp(names, "dev,dev/console,init,METADATA!!!,bin,") && nx == 1,
	   "metadata reads back: '%s'", names);
	free(s.buf);
}

/* compression round trips and concatenation */
static void test_compression(vouch_ctx *ctx)
{
	size_t nx;
	int k;

	for (int z = VOUCH_CPIO_COMPRESS_GZIP; z <= VOUCH_CPIO_COMPRESS_XZ; z++) {
		struct sink c = { 0 };
		uint8_t *cat;

		ok_ret(write_1313(ctx, VOUCH_CPIO_NEWCX, z, &c, true), "write compressed %d", z);
		k = read_all(ctx, c.buf, c.len, NULL, 0, &nx);
		ok(k == 4 && nx == 1, "compressed %d reads back", z);
		cat = malloc(c.len * 2 + 8);
		memcpy(cat, c.buf, c.len);
		memset(cat + c.len, 0, 8); /* NUL padding between archives */
		memcpy(cat + c.len + 8, c.buf, c.len);
		ok(read_all(ctx, cat, c.len * 2 + 8, NULL, 0, NULL) == 8,
		   "two compressed archives with padding between them");
		expect_bad(ctx, "truncated compressed stream", c.buf, c.len / 2, "truncated");
		cat[c.len + 8 + c.len - 1] ^= 0x55; /* corrupt the tail (checksum) of the second */
		ok(read_all(ctx, cat, c.len * 2 + 8, NULL, 0, NULL) == -EBADMSG,
		   "corrupt compressed stream refused: %s", vouch_ctx_last_error(ctx));
		free(cat);
		free(c.buf);
	}
}

/* malformed archives */
static void test_malformed(vouch_ctx *ctx)
{
	struct sink s = { 0 };
	uint8_t *b;

	write_1313(ctx, VOUCH_CPIO_NEWC, 0, &s, false);
	b = malloc(s.len);
	memcpy(b, s.buf, s.len);
	b[5] = '9';
	expect_bad(ctx, "bad magic", b, s.len, "bad magic");
	memcpy(b, s.buf, s.len);
	b[5] = '7';
	expect_bad(ctx, "070707", b, s.len, "070707");
	memcpy(b, s.buf, s.len);
	b[20] = 'G';
	expect_bad(ctx, "non-hex mode", b, s.len, "non-hex character 0x47 in field mode");
	memcpy(b, s.buf, s.len);
	memcpy(b + 240 + 54, "7FFFFFFF", 8); /* init filesize */
	expect_bad(ctx, "size past the end", b, s.len, "runs past the end");
	memcpy(b, s.buf, s.len);
	memcpy(b + 94, "00000000", 8); /* namesize 0 */
	expect_bad(ctx, "namesize 0", b, s.len, "name size");
	memcpy(b, s.buf, s.len);
	memcpy(b + 94, "00002000", 8);
	expect_bad(ctx, "namesize > PATH_MAX", b, s.len, "name size");
	memcpy(b, s.buf, s.len);
	b[110 + 3] = 'x'; /* "dev" NUL replaced */
	expect_bad(ctx, "name without NUL", b, s.len, "not NUL-terminated");
	expect_bad(ctx, "truncated header", s.buf, 50, "truncated");
	expect_bad(ctx, "no trailer", s.buf, 496, "no TRAILER");
	ok(read_all(ctx, s.buf, 0, NULL, 0, NULL) == 0, "empty input: no members");
	memset(b, 0, s.len);
	ok(read_all(ctx, b, s.len, NULL, 0, NULL) == 0, "only NUL padding: no members");
	memcpy(b, s.buf, s.len);
	b[0] = 0;
	ok(read_all(ctx, b + 1, s.len - 1, NULL, 0, NULL) == -EBADMSG, "unaligned start refused");
	free(b);
	/* newcx: xattr entry sizes */
	s.len = 0;
	write_1313(ctx, VOUCH_CPIO_NEWCX, 0, &s, true);
	{
		uint8_t *p = memmem(s.buf, s.len, "00000037security.ima", 20);

		memcpy(p, "00000099", 8);
		expect_bad(ctx, "newcx xattr entry past its area", s.buf, s.len, "xattr entry size");
		memcpy(p, "00000009", 8);
		expect_bad(ctx, "newcx xattr entry too small", s.buf, s.len, "out of range");
		memcpy(p, "00000037", 8);
	}
	s.len = 0;
	write_1313(ctx, VOUCH_CPIO_METADATA, 0, &s, true);
	{
		uint8_t *p = memmem(s.buf, s.len, "00000039\x01\x01", 10);

		p[8] = 2;
		expect_bad(ctx, "METADATA!!! version 2", s.buf, s.len, "version");
		p[8] = 1;
		memcpy(p, "00000005", 8);
		expect_bad(ctx, "METADATA!!! record size < 10", s.buf, s.len, "malformed");
		memcpy(p, "00000039", 8);
	}
	free(s.buf);
}

/* writer argument checks */
static void test_writer_args(vouch_ctx *ctx)
{
	struct vouch_cpio_writer_options o = VOUCH_CPIO_WRITER_OPTIONS_INIT;
	struct vouch_cpio_entry e = { .name = "x", .mode = 0100644, .size = 3 };
	vouch_cpio_writer *w = NULL;
	struct sink s = { 0 };

	o.reserved[0] = 1;
	ok_err(vouch_cpio_writer_new(ctx, &o, sink_write, &s, &w), -EINVAL, "reserved set");
	o.reserved[0] = 0;
	o.format = 7;
	ok_err(vouch_cpio_writer_new(ctx, &o, sink_write, &s, &w), -EINVAL, "bad format");
	o.format = VOUCH_CPIO_NEWC;
	ok_ret(vouch_cpio_writer_new(ctx, &o, sink_write, &s, &w), "writer");
	ok_err(vouch_cpio_writer_add(w, &e, (const uint8_t *)"ab", 2), -EINVAL, "size mismatch");
	e.mtime = (int64_t)1 << 33;
	ok_err(vouch_cpio_writer_add(w, &e, (const uint8_t *)"abc", 3), -EINVAL,
	       "newc refuses mtime past 2106");
	e.mtime = 0;
	e.name = "/";
	ok_err(vouch_cpio_writer_add(w, &e, (const uint8_t *)"abc", 3), -EINVAL, "empty name");
	vouch_cpio_writer_free(w);
	free(s.buf);
}

/* Extract the archive a into dfd. */
static int extract(vouch_ctx *ctx, const struct sink *a, int dfd)
{
	vouch_cpio_reader *r = NULL;
	int k;

	vouch_cpio_reader_new_mem(ctx, a->buf, a->len, &r);
	k = vouch_cpio_extract(r, dfd, 0, NULL, NULL);
	vouch_cpio_reader_free(r);
	return k;
}

/* Appraise the archive a against t with flags. */
static int appraise(vouch_ctx *ctx, const struct sink *a, vouch_trust *t, uint32_t flags)
{
	vouch_cpio_reader *r = NULL;
	int k;

	vouch_cpio_reader_new_mem(ctx, a->buf, a->len, &r);
	k = vouch_cpio_appraise(r, t, flags, NULL, NULL);
	vouch_cpio_reader_free(r);
	return k;
}

/* safe extraction: names that climb out of the target, and symlinks to the outside */
static void test_extract_escapes(vouch_ctx *ctx, const char *dir, int dfd)
{
	struct vouch_cpio_writer_options o = VOUCH_CPIO_WRITER_OPTIONS_INIT;
	struct sink a = { 0 };
	char path[4200];
	struct {
		const char *name;
		uint32_t mode;
		const char *data;
		int want;
	} cases[] = {
		{ "../evil", 0100644, "x", -EPERM },
		{ "/abs-evil", 0100644, "x", -EPERM },
		{ "a/../../evil", 0100644, "x", -EPERM },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vouch_cpio_entry e = { .name = cases[i].name, .mode = cases[i].mode,
					      .nlink = 1, .size = strlen(cases[i].data) };

		/* the writer strips a leading "/": write the name by hand below */
		write_members(ctx, &o, &a, &e, &cases[i].data, 1);
		if (cases[i].name[0] == '/') { /* rename "abs-evil" to "/bs-evil" in place */
			uint8_t *p = memmem(a.buf, a.len, "abs-evil", 8);

			p[0] = '/';
		}
		ok_err(extract(ctx, &a, dfd), cases[i].want, "extract refuses '%s': %s",
		       cases[i].name, vouch_ctx_last_error(ctx));
	}
	snprintf(path, sizeof(path), "%s/evil", dir);
	ok(access(path, F_OK) != 0, "nothing written outside the target");
	/* symlink to the outside, then a file through it */
	{
		char target[4200];
		struct vouch_cpio_entry m[] = {
			{ .name = "lnk", .mode = 0120777, .nlink = 1 },
			{ .name = "lnk/x", .mode = 0100644, .nlink = 1, .size = 1 },
		};
		const char *data[] = { target, "x" };

		snprintf(target, sizeof(target), "%s", dir);
		m[0].size = strlen(target);
		write_members(ctx, &o, &a, m, data, ARRAY_SIZE(m));
		ok_err(extract(ctx, &a, dfd), -EPERM, "never writes through a symlink: %s",
		       vouch_ctx_last_error(ctx));
		snprintf(path, sizeof(path), "%s/x", dir);
		ok(access(path, F_OK) != 0, "nothing written through the symlink");
	}
	free(a.buf);
}

/* a good newcx image with an xattr extracts and sets it; then appraisal of the image */
static void test_extract_appraise(vouch_ctx *ctx, const char *dir, int dfd)
{
	struct sink s = { 0 };
	char path[4200];
	int k;

	write_1313(ctx, VOUCH_CPIO_NEWCX, 0, &s, true);
	k = extract(ctx, &s, dfd);
	ok(k == 0, "extract newcx: %s", k ? vouch_ctx_last_error(ctx) : "ok");
	{
		uint8_t v[64];
		ssize_t n;

		snprintf(path, sizeof(path), "%s/t/init", dir);
		n = getxattr(path, "security.ima", v, sizeof(v));
		if (n < 0 && (errno == ENOTSUP || errno == EPERM))
			tap_skip("security.* xattrs not available here");
		else
			ok(n == sizeof(ima_sha256) && !memcmp(v, ima_sha256, sizeof(ima_sha256)),
			   "security.ima restored");
	}
	/* appraisal: digest allowed, then refused without ALLOW_DIGEST */
	{
		vouch_trust *t = NULL;

		vouch_trust_new(ctx, &t);
		ok_ret(appraise(ctx, &s, t, VOUCH_CPIO_APPRAISE_ALLOW_DIGEST),
		       "appraise: digest matches");
		ok_err(appraise(ctx, &s, t, 0), -EPERM, "appraise: unsigned digest refused by policy");
		s.len = 0;
		write_1313(ctx, VOUCH_CPIO_METADATA, 0, &s, true);
		ok_ret(appraise(ctx, &s, t, VOUCH_CPIO_APPRAISE_ALLOW_DIGEST),
		       "appraise metadata format: digest matches");
		((uint8_t *)memmem(s.buf, s.len, "hello IMA", 9))[0] = 'j';
		ok_err(appraise(ctx, &s, t, VOUCH_CPIO_APPRAISE_ALLOW_DIGEST), -EKEYREJECTED,
		       "appraise: tampered member rejected");
		s.len = 0;
		write_1313(ctx, VOUCH_CPIO_NEWC, 0, &s, false);
		ok_err(appraise(ctx, &s, t, VOUCH_CPIO_APPRAISE_ALLOW_DIGEST), -EKEYREJECTED,
		       "appraise: member without security.ima rejected");
		vouch_trust_free(t);
	}
	free(s.buf);
}

/* issue 14 item 6: reserved names are refused by the writer */
static void test_reserved_names(vouch_ctx *ctx)
{
	static const char *const reserved[] = { "TRAILER!!!", "/METADATA!!!", "bin/METADATA!!!",
						"x/TRAILER!!!" };
	struct vouch_cpio_writer_options o = VOUCH_CPIO_WRITER_OPTIONS_INIT;
	vouch_cpio_writer *w = NULL;
	struct sink a = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++) {
		struct vouch_cpio_entry e = { .name = reserved[i], .mode = 0100644, .nlink = 1,
					      .size = 1 };

		a.len = 0;
		vouch_cpio_writer_new(ctx, &o, sink_write, &a, &w);
		ok_err(vouch_cpio_writer_add(w, &e, (const uint8_t *)"x", 1), -EINVAL,
		       "writer refuses the reserved name '%s'", reserved[i]);
		vouch_cpio_writer_free(w);
	}
	free(a.buf);
}

/* item 7: a, then a FIFO named a, then a second link to the first a */
static void test_hardlink_fifo(vouch_ctx *ctx, const char *dir, int dfd)
{
	struct vouch_cpio_writer_options o = VOUCH_CPIO_WRITER_OPTIONS_INIT;
	struct vouch_cpio_entry m[] = {
		{ .name = "hl", .mode = 0100644, .nlink = 2, .ino = 5, .size = 1 },
		{ .name = "hl", .mode = 010644, .nlink = 1, .ino = 6 },
		{ .name = "hl2", .mode = 0100644, .nlink = 2, .ino = 5, .size = 1 },
	};
	const char *data[] = { "x", NULL, "x" };
	struct sink a = { 0 };
	char path[4200];
	struct stat st;

	write_members(ctx, &o, &a, m, data, ARRAY_SIZE(m));
	alarm(30); /* a hang is the bug: die rather than block the suite */
	ok_err(extract(ctx, &a, dfd), -EPERM, "hard link to a member replaced by a FIFO refused: %s",
	       vouch_ctx_last_error(ctx));
	alarm(0);
	snprintf(path, sizeof(path), "%s/t/hl2", dir);
	ok(lstat(path, &st) < 0 || !S_ISFIFO(st.st_mode), "no link to the FIFO");
	free(a.buf);
}

/* item 6, extraction: only security.ima/evm unless asked */
static void test_extract_xattr_filter(vouch_ctx *ctx, const char *dir, int dfd)
{
	struct vouch_cpio_writer_options ox = VOUCH_CPIO_WRITER_OPTIONS_INIT;
	struct vouch_cpio_extract_options eo = VOUCH_CPIO_EXTRACT_OPTIONS_INIT;
	static const char *const user_ns[] = { "user." };
	struct vouch_cpio_xattr x = { "user.vouchtest", (const uint8_t *)"A", 1 };
	struct vouch_cpio_entry e = { .name = "ux", .mode = 0100644, .nlink = 1, .size = 1,
				      .xattrs = &x, .n_xattrs = 1 };
	const char *data = "x";
	vouch_cpio_reader *r = NULL;
	struct sink a = { 0 };
	char path[4200];
	uint8_t v[8];

	ox.format = VOUCH_CPIO_NEWCX;
	write_members(ctx, &ox, &a, &e, &data, 1);
	snprintf(path, sizeof(path), "%s/t/ux", dir);
	ok_ret(extract(ctx, &a, dfd), "extract with a user.* xattr");
	ok(getxattr(path, "user.vouchtest", v, sizeof(v)) < 0, "user.* not restored by default");
	eo.xattrs = user_ns;
	eo.n_xattrs = 1;
	vouch_cpio_reader_new_mem(ctx, a.buf, a.len, &r);
	ok_ret(vouch_cpio_extract_opts(r, dfd, &eo, NULL, NULL), "extract asking for user.");
	vouch_cpio_reader_free(r);
	ok(getxattr(path, "user.vouchtest", v, sizeof(v)) == 1, "user. restored when asked");
	free(a.buf);
}

/* issue 13 item 16: a lone nlink=2 empty member is appraised as an empty file */
static void test_lone_hardlink(vouch_ctx *ctx)
{
	struct vouch_cpio_writer_options o = VOUCH_CPIO_WRITER_OPTIONS_INIT;
	struct vouch_cpio_entry e = { .name = "lone", .mode = 0100755, .nlink = 2, .ino = 9 };
	const char *data = NULL;
	vouch_trust *t = NULL;
	struct sink a = { 0 };

	vouch_trust_new(ctx, &t);
	write_members(ctx, &o, &a, &e, &data, 1);
	ok_err(appraise(ctx, &a, t, VOUCH_CPIO_APPRAISE_ALLOW_DIGEST), -EKEYREJECTED,
	       "appraise: lone empty hard link without security.ima rejected");
	vouch_trust_free(t);
	free(a.buf);
}

/* safe extraction into a scratch directory */
static void test_extraction(vouch_ctx *ctx)
{
	char dir[] = "/tmp/vouch-test-cpio-XXXXXX";
	char path[4200];
	int dfd;

	ok(mkdtemp(dir) != NULL, "scratch dir");
	snprintf(path, sizeof(path), "%s/t", dir);
	mkdir(path, 0755);
	dfd = open(path, O_RDONLY | O_DIRECTORY);
	test_extract_escapes(ctx, dir, dfd);
	test_extract_appraise(ctx, dir, dfd);
	test_reserved_names(ctx);
	test_hardlink_fifo(ctx, dir, dfd);
	test_extract_xattr_filter(ctx, dir, dfd);
	test_lone_hardlink(ctx);
	close(dfd);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* allocation failures: the Nth allocation of a write and a read fails, for every N until
 * a run has no Nth allocation left; each failure ends in -ENOMEM, never in a crash, a
 * leak (ASan/valgrind legs) or a success with missing output, and the last run succeeds */
static void test_alloc_failures(vouch_ctx *ctx)
{
	long n, enomem = 0, other = 0, absorbed = 0;
	bool reached = false;
	int k = 0;

	for (n = 1; n < 100000; n++) {
		struct sink f = { 0 };
		bool hit;

		mem_fail_at(n);
		k = write_1313(ctx, VOUCH_CPIO_METADATA, VOUCH_CPIO_COMPRESS_GZIP, &f, true);
		if (k >= 0)
			k = read_all(ctx, f.buf, f.len, NULL, 0, NULL);
		hit = mem_alloc_count() >= n;
		mem_fail_at(0);
		free(f.buf);
		if (!hit) {
			reached = k == 5;
			break;
		}
		if (k == -ENOMEM)
			enomem++;
		else if (k >= 0)
			absorbed++;
		else
			other++;
	}
	ok(reached, "the walk ran out of allocations to fail after %ld, and that run read "
		    "back all 5 members (%d)", n - 1, k);
	ok(enomem == n - 1 && other == 0 && absorbed == 0,
	   "each of the %ld failed allocations ended in -ENOMEM (%ld; other errors %ld, "
	   "successes %ld)", n - 1, enomem, other, absorbed);
}

int main(void)
{
	vouch_ctx *ctx = NULL;

	ok_ret(vouch_ctx_new(&ctx), "context");
	test_known_answers(ctx);
	test_compression(ctx);
	test_malformed(ctx);
	test_writer_args(ctx);
	test_extraction(ctx);
	test_alloc_failures(ctx);
	vouch_ctx_free(ctx);
	return tap_done();
}
