/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch: initramfs (cpio) archives that carry xattrs
 *
 * A streaming writer and reader for the kernel's newc (070701) and crc (070702) formats and
 * the two unmerged xattr proposals: "newcx" (070703, xattrs in the header, FORMATS.md §11.6)
 * and "METADATA!!!" records after each object (§11.7).  The reader accepts what the kernel
 * accepts at boot: NUL padding, uncompressed archives and gzip/zstd/xz streams, concatenated.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_CPIO_H
#define VOUCH_CPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vouch/ctx.h>
#include <vouch/key.h>

#ifdef __cplusplus
extern "C" {
#endif

/** enum vouch_cpio_format - the header format of an archive member */
enum vouch_cpio_format {
	VOUCH_CPIO_NEWC = 0,	 /* 070701, no xattrs */
	VOUCH_CPIO_CRC = 1,	 /* 070702, data checksum, no xattrs */
	VOUCH_CPIO_NEWCX = 2,	 /* 070703, xattrs in the header (Proposal A) */
	VOUCH_CPIO_METADATA = 3, /* 070701 + a METADATA!!! member after each object (Proposal B) */
	_VOUCH_CPIO_FORMAT_MAX,
	_VOUCH_CPIO_FORMAT_INVALID = -22,
};

/** enum vouch_cpio_compress - compression of the whole archive */
enum vouch_cpio_compress {
	VOUCH_CPIO_COMPRESS_NONE = 0,
	VOUCH_CPIO_COMPRESS_GZIP = 1,
	VOUCH_CPIO_COMPRESS_ZSTD = 2,
	VOUCH_CPIO_COMPRESS_XZ = 3,
	_VOUCH_CPIO_COMPRESS_MAX,
	_VOUCH_CPIO_COMPRESS_INVALID = -22,
};

/** VOUCH_CPIO_TRAILER - name of the end-of-archive member */
#define VOUCH_CPIO_TRAILER "TRAILER!!!"
/** VOUCH_CPIO_METADATA_NAME - name of a Proposal B metadata member */
#define VOUCH_CPIO_METADATA_NAME "METADATA!!!"
/** VOUCH_CPIO_NAME_MAX - longest member name, NUL included (the kernel's PATH_MAX) */
#define VOUCH_CPIO_NAME_MAX 4096
/** VOUCH_CPIO_XATTRS_MAX - most xattr bytes one member may carry (reader cap) */
#define VOUCH_CPIO_XATTRS_MAX (1U << 20)

/**
 * struct vouch_cpio_xattr - one extended attribute
 * @name: "security.ima", NUL-terminated
 * @value: the raw value
 * @value_len: its length
 */
struct vouch_cpio_xattr {
	const char *name;
	const uint8_t *value;
	size_t value_len;
};

/**
 * struct vouch_cpio_entry - one archive member
 * @name: the member name without a leading "/" (writer: a leading "/" is stripped)
 * @mode: full st_mode, type bits included
 * @uid: owner
 * @gid: group
 * @nlink: link count
 * @mtime: seconds since the epoch (newc/crc: 0 .. 2^32-1)
 * @size: data length (regular files and symlink targets; 0 otherwise)
 * @ino: inode number (hard links share one)
 * @devmajor: device of the file (hard-link key)
 * @devminor: device of the file
 * @rdevmajor: device number of a block/char node
 * @rdevminor: device number of a block/char node
 * @check: 070702 data checksum (reader: as stored; writer: computed)
 * @format: enum vouch_cpio_format of the header (reader only)
 * @metadata: reader: true for a METADATA!!! member; its @xattrs belong to @metadata_for
 * @metadata_for: reader: name of the object a METADATA!!! member describes, or NULL
 * @xattrs: the member's xattrs (newcx header, or the records of a METADATA!!! member)
 * @n_xattrs: their number
 *
 * Pointers returned by the reader stay valid until the next vouch_cpio_reader_next().
 */
struct vouch_cpio_entry {
	const char *name;
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint32_t nlink;
	int64_t mtime;
	uint64_t size;
	uint32_t ino;
	uint32_t devmajor;
	uint32_t devminor;
	uint32_t rdevmajor;
	uint32_t rdevminor;
	uint32_t check;
	int format;
	bool metadata;
	const char *metadata_for;
	const struct vouch_cpio_xattr *xattrs;
	size_t n_xattrs;
};

/** vouch_cpio_writer - a streaming archive writer (opaque) */
typedef struct vouch_cpio_writer vouch_cpio_writer;
/** vouch_cpio_reader - a streaming archive reader (opaque) */
typedef struct vouch_cpio_reader vouch_cpio_reader;

/**
 * vouch_cpio_write_fn - where the writer sends its (compressed) bytes
 * @userdata: as given to vouch_cpio_writer_new()
 * @buf: the bytes
 * @len: their number
 * Return: 0, or a negative errno that aborts the archive.
 */
typedef int (*vouch_cpio_write_fn)(void *userdata, const uint8_t *buf, size_t len);

/**
 * struct vouch_cpio_writer_options - how to write
 * @version: 1
 * @format: enum vouch_cpio_format
 * @compress: enum vouch_cpio_compress
 * @level: compression level, 0 for the library default
 * @reserved: must be zero
 */
struct vouch_cpio_writer_options {
	uint32_t version;
	int format;
	int compress;
	int level;
	uint32_t reserved[6];
};
#define VOUCH_CPIO_WRITER_OPTIONS_INIT { .version = 1 }

/**
 * vouch_cpio_writer_new() - start an archive
 * @ctx: the context
 * @opts: the options
 * @write_fn: receives the output bytes
 * @userdata: passed to @write_fn
 * @ret_writer: the writer, released with vouch_cpio_writer_free()
 *
 * Return: 0, -EINVAL (bad options), -EOPNOTSUPP (compression not built in), -ENOMEM.
 * Since: 0.1
 */
int vouch_cpio_writer_new(vouch_ctx *ctx, const struct vouch_cpio_writer_options *opts,
			  vouch_cpio_write_fn write_fn, void *userdata,
			  vouch_cpio_writer **ret_writer);

/**
 * vouch_cpio_writer_add() - append one member whose data is in memory
 * @w: the writer
 * @e: the header fields; @e->size must equal @len; @e->format, @e->metadata are ignored
 * @data: the data (regular file content, symlink target), or NULL when @len is 0
 * @len: its length
 *
 * newcx writes @e->xattrs into the header; metadata format writes them into a METADATA!!!
 * member right after this one; newc and crc drop them.
 * Return: 0, -EINVAL (name empty or too long, size mismatch, field out of range for the
 * format), -EIO or the error of the write callback, -ENOMEM.
 * Since: 0.1
 */
int vouch_cpio_writer_add(vouch_cpio_writer *w, const struct vouch_cpio_entry *e,
			  const uint8_t *data, size_t len);

/**
 * vouch_cpio_writer_add_fd() - append one member whose @e->size data bytes are read from @fd
 * @w: the writer
 * @e: as for vouch_cpio_writer_add()
 * @fd: read from its current offset; must be seekable for the crc format
 *
 * Return: as vouch_cpio_writer_add(); -EIO when @fd ends early.
 * Since: 0.1
 */
int vouch_cpio_writer_add_fd(vouch_cpio_writer *w, const struct vouch_cpio_entry *e, int fd);

/**
 * vouch_cpio_writer_finish() - write the trailer, pad to 512 bytes, flush the compressor
 * @w: the writer; nothing may be added afterwards
 * Return: 0, or the write error.
 * Since: 0.1
 */
int vouch_cpio_writer_finish(vouch_cpio_writer *w);

/**
 * vouch_cpio_writer_free() - release a writer; NULL is accepted
 * Since: 0.1
 */
void vouch_cpio_writer_free(vouch_cpio_writer *w);

/**
 * vouch_cpio_reader_new_fd() - read an archive from a file descriptor
 * @ctx: the context
 * @fd: read sequentially from its current offset; not closed by the reader
 * @ret_reader: the reader, released with vouch_cpio_reader_free()
 * Return: 0, -ENOMEM.
 * Since: 0.1
 */
int vouch_cpio_reader_new_fd(vouch_ctx *ctx, int fd, vouch_cpio_reader **ret_reader);

/**
 * vouch_cpio_reader_new_mem() - read an archive from memory
 * @ctx: the context
 * @buf: the bytes; must outlive the reader
 * @len: their number
 * @ret_reader: the reader
 * Return: 0, -ENOMEM.
 * Since: 0.1
 */
int vouch_cpio_reader_new_mem(vouch_ctx *ctx, const uint8_t *buf, size_t len,
			      vouch_cpio_reader **ret_reader);

/**
 * vouch_cpio_reader_next() - the next member (the data of the previous one is skipped)
 * @r: the reader
 * @ret_entry: filled on success; valid until the next call
 *
 * Trailers are consumed, not returned; a following archive (raw or compressed) continues
 * the stream, as in the kernel.
 * Return: 1 with a member, 0 at the end, -EBADMSG for a malformed or truncated archive
 * (bad magic, non-hex field, name without NUL or too long, size past the end, junk after
 * a compressed stream), -EIO, -ENOMEM.
 * Since: 0.1
 */
int vouch_cpio_reader_next(vouch_cpio_reader *r, struct vouch_cpio_entry *ret_entry);

/**
 * vouch_cpio_reader_read() - read data of the current member
 * @r: the reader
 * @buf: where to put it
 * @size: at most this many bytes
 * @ret_len: bytes read; 0 at the end of the member's data
 * Return: 0, -EBADMSG (archive ends inside the data), -EIO.
 * Since: 0.1
 */
int vouch_cpio_reader_read(vouch_cpio_reader *r, uint8_t *buf, size_t size, size_t *ret_len);

/**
 * vouch_cpio_reader_free() - release a reader; NULL is accepted
 * Since: 0.1
 */
void vouch_cpio_reader_free(vouch_cpio_reader *r);

/** VOUCH_CPIO_EXTRACT_DEVICES - create block/char device nodes (needs CAP_MKNOD) */
#define VOUCH_CPIO_EXTRACT_DEVICES (1U << 0)
/** VOUCH_CPIO_EXTRACT_OWNERS - apply uid/gid (needs root) */
#define VOUCH_CPIO_EXTRACT_OWNERS (1U << 1)
/** VOUCH_CPIO_EXTRACT_NO_XATTRS - do not restore xattrs */
#define VOUCH_CPIO_EXTRACT_NO_XATTRS (1U << 2)
/**
 * VOUCH_CPIO_EXTRACT_ALL_XATTRS - restore every xattr an archive carries, security.capability
 * and trusted.* included.  Without it only security.ima and security.evm (or the names of
 * struct vouch_cpio_extract_options) are restored: an archive is not trusted to grant
 * capabilities.
 */
#define VOUCH_CPIO_EXTRACT_ALL_XATTRS (1U << 3)

/**
 * vouch_cpio_extract_fn - called for each member extracted or skipped
 * @userdata: as given
 * @e: the member
 * @skipped: a reason when the member was not created (device node without
 *	VOUCH_CPIO_EXTRACT_DEVICES), else NULL
 */
typedef void (*vouch_cpio_extract_fn)(void *userdata, const struct vouch_cpio_entry *e,
				      const char *skipped);

/**
 * vouch_cpio_extract() - extract every member under a directory, safely
 * @r: a fresh reader
 * @dirfd: the target directory
 * @flags: VOUCH_CPIO_EXTRACT_*
 * @fn: progress callback, or NULL
 * @userdata: passed to @fn
 *
 * Names with a ".." component or a leading "/" are refused; every path is walked one
 * component at a time with O_NOFOLLOW below @dirfd, so nothing is ever written through a
 * symlink or outside @dirfd.  Existing files are replaced; xattrs (newcx header or
 * METADATA!!! records) are set after the data: security.ima and security.evm only, unless
 * VOUCH_CPIO_EXTRACT_ALL_XATTRS.  A METADATA!!! member applies only to the object this
 * extraction just created (never to one skipped, nor to what was already there), and a hard
 * link is made only to the regular file this extraction wrote.  Stops at the first problem.
 * Return: 0; -EPERM for a refused name or path, -EBADMSG for a malformed archive, or the
 * errno of the failing system call (the message names the member).
 * Since: 0.1
 */
int vouch_cpio_extract(vouch_cpio_reader *r, int dirfd, uint32_t flags,
		       vouch_cpio_extract_fn fn, void *userdata);

/**
 * struct vouch_cpio_extract_options - how to extract
 * @version: 1
 * @flags: VOUCH_CPIO_EXTRACT_*
 * @xattrs: the xattrs to restore instead of security.ima and security.evm: full names
 *	("security.capability") or namespaces ending in "." ("trusted."); NULL for the default
 * @n_xattrs: their number
 * @reserved: must be zero
 */
struct vouch_cpio_extract_options {
	uint32_t version;
	uint32_t flags;
	const char *const *xattrs;
	size_t n_xattrs;
	uint32_t reserved[6];
};
#define VOUCH_CPIO_EXTRACT_OPTIONS_INIT { .version = 1 }

/**
 * vouch_cpio_extract_opts() - vouch_cpio_extract() with a choice of xattrs to restore
 * @r: a fresh reader
 * @dirfd: the target directory
 * @opts: the options
 * @fn: progress callback, or NULL
 * @userdata: passed to @fn
 * Return: as vouch_cpio_extract(); -EINVAL for bad options.
 * Since: 0.1
 */
int vouch_cpio_extract_opts(vouch_cpio_reader *r, int dirfd,
			    const struct vouch_cpio_extract_options *opts,
			    vouch_cpio_extract_fn fn, void *userdata);

/** VOUCH_CPIO_APPRAISE_ALLOW_DIGEST - accept an unsigned security.ima digest (0x01/0x04) */
#define VOUCH_CPIO_APPRAISE_ALLOW_DIGEST (1U << 0)

/**
 * struct vouch_cpio_appraisal - the verdict on one regular-file member
 * @name: the member
 * @result: 0 appraised; -ENODATA no security.ima; -EKEYREJECTED digest or signature
 *	mismatch; -ENOKEY no trusted key with the signature's key id; -EPERM refused by
 *	policy (unsigned digest without VOUCH_CPIO_APPRAISE_ALLOW_DIGEST); -EBADMSG malformed
 *	security.ima; -EOPNOTSUPP unsupported type or algorithm
 * @kind: "signature", "digest" or NULL
 * @algo: enum vouch_hash_algo of the security.ima, or -1
 * @keyid: signature key id (when @kind is "signature")
 * @message: why, for humans
 */
struct vouch_cpio_appraisal {
	const char *name;
	int result;
	const char *kind;
	int algo;
	uint32_t keyid;
	const char *message;
};

/**
 * vouch_cpio_appraise_fn - called once per regular-file member
 * @userdata: as given
 * @a: the verdict; valid during the call
 */
typedef void (*vouch_cpio_appraise_fn)(void *userdata, const struct vouch_cpio_appraisal *a);

/**
 * vouch_cpio_appraise() - appraise every regular file's security.ima against its content
 * @r: a fresh reader
 * @trust: certificates whose key ids may sign (may be empty with ALLOW_DIGEST)
 * @flags: VOUCH_CPIO_APPRAISE_*
 * @fn: per-member callback, or NULL
 * @userdata: passed to @fn
 *
 * Every member is checked, even after a failure.  Hard links are appraised on the link
 * that carries the data.
 * Return: 0 when every member passed; the first member verdict (-ENODATA is reported as
 * -EKEYREJECTED) otherwise; -EBADMSG for a malformed archive; -EIO, -ENOMEM.
 * Since: 0.1
 */
int vouch_cpio_appraise(vouch_cpio_reader *r, const vouch_trust *trust, uint32_t flags,
			vouch_cpio_appraise_fn fn, void *userdata);

/**
 * enum vouch_cpio_spec_type - what a line of a gen_init_cpio spec list describes
 */
enum vouch_cpio_spec_type {
	VOUCH_CPIO_SPEC_NONE = 0, /* a blank line or a '#' comment: nothing */
	VOUCH_CPIO_SPEC_FILE = 1, /* file NAME LOCATION MODE UID GID [LINKS...] */
	VOUCH_CPIO_SPEC_DIR = 2,  /* dir NAME MODE UID GID */
	VOUCH_CPIO_SPEC_PIPE = 3, /* pipe NAME MODE UID GID */
	VOUCH_CPIO_SPEC_SOCK = 4, /* sock NAME MODE UID GID */
	VOUCH_CPIO_SPEC_NOD = 5,  /* nod NAME MODE UID GID b|c MAJ MIN */
	VOUCH_CPIO_SPEC_SLINK = 6, /* slink NAME TARGET MODE UID GID */
	VOUCH_CPIO_SPEC_XATTR = 7, /* xattr NAME=0xHEX: for the next object (FORMATS.md §11.6) */
};

/** VOUCH_CPIO_SPEC_FIELDS_MAX - most fields on one spec line */
#define VOUCH_CPIO_SPEC_FIELDS_MAX 64

/**
 * struct vouch_cpio_spec_line - one parsed line of a spec list; every pointer is into the line
 * @type: VOUCH_CPIO_SPEC_*
 * @name: the member's name without its leading '/'; XATTR: the attribute's name
 * @location: FILE: LOCATION as written (${VAR} not expanded); SLINK: the target
 * @mode: file type bits (S_IF*) and permission bits (at most 07777)
 * @uid: owner
 * @gid: group
 * @rmaj: NOD: major device number
 * @rmin: NOD: minor device number
 * @links: FILE: further names of the same file (hard links), without their leading '/'
 * @n_links: how many
 * @value: XATTR: the decoded value
 * @value_len: its length in bytes
 */
struct vouch_cpio_spec_line {
	int type;
	const char *name;
	const char *location;
	uint32_t mode, uid, gid, rmaj, rmin;
	const char *links[VOUCH_CPIO_SPEC_FIELDS_MAX];
	size_t n_links;
	const uint8_t *value;
	size_t value_len;
};

/**
 * vouch_cpio_spec_parse_line() - parse one line of a gen_init_cpio spec list
 * @ctx: library context (error messages)
 * @line: the line, NUL-terminated; split and decoded in place
 * @ret: the result, pointing into @line
 *
 * Checks the fields of the kernel's usr/gen_init_cpio.c format and vouch's "xattr" lines;
 * opens nothing and expands nothing.
 * Return: 0 (@ret->type VOUCH_CPIO_SPEC_NONE for a blank or comment line); -EBADMSG for a
 * malformed line, its reason in the context's last error; -EINVAL.
 * Since: 0.1
 */
int vouch_cpio_spec_parse_line(vouch_ctx *ctx, char *line, struct vouch_cpio_spec_line *ret);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_CPIO_H */
