/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch: reference values built from Debian packages (.deb) and root trees, in the
 * vouch-reference format version 2 (docs/REFERENCE.md):
 *
 *   { "format": "vouch-reference", "version": 2, "id": "sha256:HEX",
 *     "files": { "/usr/bin/ssh": [ { "digests": [ "sha256:HEX" ], "package": "openssh-client",
 *                                     "version": "1:9.2p1-2", "architecture": "amd64" } ],
 *                "/etc/ssh/ssh_config": [ { ..., "conffile": true } ] },
 *     "exclude": [ "/var/log/" ],
 *     "keyrings": { ".ima": [ "sha256:HEX" ] },
 *     "ima-buf": { "NAME": [ "sha256:HEX" ] },
 *     "packages": [ { "package": ..., "version": ..., "architecture": ..., "files": N } ] }
 *
 * "id" is the SHA-256 of the canonical JSON of the document without "id" (keys sorted by
 * byte order, no whitespace): a reader recomputes it and refuses a document whose id does not
 * match.  Version 1 documents (include/vouch/attest.h) are read as well.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_REFERENCE_H
#define VOUCH_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vouch/ctx.h>
#include <vouch/digest.h>

#ifdef __cplusplus
extern "C" {
#endif

/** vouch_deb - one Debian package read and hashed (opaque) */
typedef struct vouch_deb vouch_deb;

/** VOUCH_DEB_MAX_MEMBER_DEFAULT - the default size limit of one file in a package: 4 GiB */
#define VOUCH_DEB_MAX_MEMBER_DEFAULT ((uint64_t)4 << 30)

/**
 * struct vouch_deb_options - how to read a package
 * @version: 1
 * @flags: VOUCH_DEB_FOLLOW_SYMLINKS or 0
 * @algos: enum vouch_hash_algo values (1 to 8), or NULL for SHA-256 alone
 * @n_algos: their number
 * @max_member: refuse a file larger than this many bytes; 0 = VOUCH_DEB_MAX_MEMBER_DEFAULT
 * @reserved: zero
 */
struct vouch_deb_options {
	uint32_t version;
	uint32_t flags;
	const int *algos;
	size_t n_algos;
	uint64_t max_member;
	uint64_t reserved[4];
};
#define VOUCH_DEB_OPTIONS_INIT { .version = 1 }

/*
 * Flag of struct vouch_deb_options: also list each symlink's path with the digests of the
 * regular file it leads to in the same package (at most 8 links deep; a link leading out of
 * the package stays skipped), for machines that measure files under a link's name.
 */
#define VOUCH_DEB_FOLLOW_SYMLINKS (1U << 0)

/**
 * vouch_deb_read() - read a .deb through libarchive and hash every regular file it installs
 * @ctx: the context (one per thread)
 * @path: the .deb file (untrusted)
 * @opts: the options, or NULL for VOUCH_DEB_OPTIONS_INIT
 * @ret_deb: the package, released with vouch_deb_free()
 *
 * The outer ar archive must hold debian-binary, then control.tar[.gz|.xz|.zst|.bz2], then
 * data.tar[.gz|.xz|.zst|.bz2] (as dpkg requires).  File names are normalised as dpkg installs
 * them ("./usr/bin/x" is "/usr/bin/x"); a hard link gets its target's digests; symlinks,
 * directories and device nodes are counted and skipped.  Refused, with a message naming the
 * package and the member: a name with a ".." component or an absolute name, a hard link to
 * a file not seen before, a file over @max_member, an unknown compression, a truncated or
 * corrupt archive, a control file without Package/Version/Architecture.
 * Return: 0; -EBADMSG (malformed or hostile package); -EFBIG (member over the limit);
 * -EOPNOTSUPP (unknown compression or algorithm); -ENOMEM; -EINVAL; open/read errors.
 * Since: 0.1
 */
int vouch_deb_read(vouch_ctx *ctx, const char *path, const struct vouch_deb_options *opts,
		   vouch_deb **ret_deb);

/** vouch_deb_free() - release a package; NULL is accepted. Since: 0.1 */
void vouch_deb_free(vouch_deb *deb);

/**
 * struct vouch_deb_info - what a package is
 * @package: its name (owned by the package)
 * @version: its version
 * @architecture: its architecture
 * @files: regular files (hard links included)
 * @symlinks: symbolic links skipped
 * @conffiles: files listed in its conffiles
 * @bytes: bytes hashed
 * @reserved: zero
 */
struct vouch_deb_info {
	const char *package;
	const char *version;
	const char *architecture;
	size_t files;
	size_t symlinks;
	size_t conffiles;
	uint64_t bytes;
	uint64_t reserved[4];
};

/**
 * vouch_deb_get_info() - the package's name, version, architecture and counts
 * @deb: the package
 * @ret_info: filled in; its strings live as long as @deb
 * Return: 0, -EINVAL.
 * Since: 0.1
 */
int vouch_deb_get_info(const vouch_deb *deb, struct vouch_deb_info *ret_info);

/**
 * vouch_deb_get_file() - the @i-th regular file of a package
 * @deb: the package
 * @i: from 0 to files - 1
 * @ret_path: its installed path (owned by @deb)
 * @ret_digests: its digests, one per algorithm in the order asked (owned by @deb)
 * @ret_n: number of digests
 * @ret_conffile: whether it is a conffile (may be NULL)
 * Return: 0, -EINVAL, -ERANGE.
 * Since: 0.1
 */
int vouch_deb_get_file(const vouch_deb *deb, size_t i, const char **ret_path,
		       const struct vouch_digest **ret_digests, size_t *ret_n, bool *ret_conffile);

/** vouch_reference - a vouch-reference document (opaque) */
typedef struct vouch_reference vouch_reference;

/**
 * vouch_reference_new() - an empty version 2 document
 * @ctx: the context; must outlive the document
 * @ret_ref: released with vouch_reference_free()
 * Return: 0, -EINVAL, -ENOMEM.
 * Since: 0.1
 */
int vouch_reference_new(vouch_ctx *ctx, vouch_reference **ret_ref);

/**
 * vouch_reference_parse() - read a vouch-reference document, version 1 or 2
 * @ctx: the context; must outlive the document
 * @json: the text (untrusted), @len its length
 * @ret_ref: released with vouch_reference_free(); a version 1 document is converted to 2
 * Return: 0, -EBADMSG (malformed, or an id that does not match the content), -ENOMEM, -EINVAL.
 * Since: 0.1
 */
int vouch_reference_parse(vouch_ctx *ctx, const char *json, size_t len, vouch_reference **ret_ref);

/**
 * vouch_reference_load() - vouch_reference_parse() on a file
 * Return: as vouch_reference_parse(), or open/read errors.
 * Since: 0.1
 */
int vouch_reference_load(vouch_ctx *ctx, const char *path, vouch_reference **ret_ref);

/** vouch_reference_free() - release a document; NULL is accepted. Since: 0.1 */
void vouch_reference_free(vouch_reference *ref);

/**
 * vouch_reference_set_diversions() - dpkg's diversions, applied to packages added afterwards
 * @ref: the document
 * @text: the content of /var/lib/dpkg/diversions (lines in threes: the diverted path, where
 *        it goes, the diverting package or ":" for a local diversion)
 * @len: its length
 *
 * As dpkg does, a file of a diverted path goes to the diversion's target unless the package
 * shipping it is the diverting package itself.
 * Return: 0, -EBADMSG, -ENOMEM, -EINVAL.
 * Since: 0.1
 */
int vouch_reference_set_diversions(vouch_reference *ref, const char *text, size_t len);

/**
 * vouch_reference_add_deb() - add every file of a package, with its origin
 * @ref: the document
 * @deb: the package
 * Return: 0, -ENOMEM, -EINVAL.
 * Since: 0.1
 */
int vouch_reference_add_deb(vouch_reference *ref, const vouch_deb *deb);

/**
 * vouch_reference_add_file() - add one file found in a root tree
 * @ref: the document
 * @path: its absolute path as measured
 * @digests: its digests, @n of them
 * @n: their number (1 to 8)
 * @root: the tree it was found in (recorded as its origin)
 * @ima_signed: whether it carries a security.ima signature (recorded)
 * Return: 0, -ENOMEM, -EINVAL.
 * Since: 0.1
 */
int vouch_reference_add_file(vouch_reference *ref, const char *path,
			     const struct vouch_digest *digests, size_t n, const char *root,
			     bool ima_signed);

/**
 * vouch_reference_add_exclude() - add an exclude pattern (fnmatch; a trailing / = prefix)
 * Return: 0, -ENOMEM, -EINVAL.
 * Since: 0.1
 */
int vouch_reference_add_exclude(vouch_reference *ref, const char *pattern);

/**
 * vouch_reference_add_keyring() - allow a key in a keyring's ima-buf entries
 * @ref: the document
 * @name: the keyring as the measurement list names it (".ima", "_ima", ".builtin_trusted_keys")
 * @digests: the digests of the key as loaded (the certificate's DER bytes), @n of them
 * @n: their number (1 to 8)
 * Return: 0, -ENOMEM, -EINVAL.
 * Since: 0.1
 */
int vouch_reference_add_keyring(vouch_reference *ref, const char *name,
				const struct vouch_digest *digests, size_t n);

/**
 * vouch_reference_merge() - add everything of @other to @ref (entries already present are
 * not repeated)
 * Return: 0, -ENOMEM, -EINVAL.
 * Since: 0.1
 */
int vouch_reference_merge(vouch_reference *ref, const vouch_reference *other);

/**
 * vouch_reference_format() - the document as canonical JSON with its id, ending in a newline
 * @ref: the document
 * @ret_json: NUL-terminated text, released with vouch_free()
 * @ret_len: its length (without the NUL)
 * Return: 0, -ENOMEM, -EINVAL.
 * Since: 0.1
 */
int vouch_reference_format(vouch_reference *ref, char **ret_json, size_t *ret_len);

/**
 * vouch_reference_save() - write the document atomically (temp file, fsync, rename)
 * Return: 0, -ENOMEM, -EINVAL, or a write error.
 * Since: 0.1
 */
int vouch_reference_save(vouch_reference *ref, const char *path);

/**
 * vouch_reference_id() - the document's id, "sha256:HEX"
 * @ref: the document
 * @buf: at least 72 bytes
 * @size: size of @buf
 * Return: 0, -ENOBUFS, -ENOMEM, -EINVAL.
 * Since: 0.1
 */
int vouch_reference_id(vouch_reference *ref, char *buf, size_t size);

/**
 * struct vouch_reference_stats - counts of a document
 * @paths: files listed
 * @entries: origins (a path listed by two packages counts twice)
 * @packages: packages recorded
 * @conffiles: paths with a conffile entry
 * @shared: paths listed by more than one origin
 * @excludes: exclude patterns
 * @keyrings: keyrings (and ima-buf names) with allowed digests
 * @reserved: zero
 */
struct vouch_reference_stats {
	size_t paths, entries, packages, conffiles, shared, excludes, keyrings;
	uint64_t reserved[4];
};

/** vouch_reference_get_stats() - counts of a document. Return: 0, -EINVAL. Since: 0.1 */
int vouch_reference_get_stats(const vouch_reference *ref, struct vouch_reference_stats *ret);

/** What a path is in one document compared with another (vouch_reference_diff()). */
enum vouch_reference_change {
	VOUCH_REFERENCE_ADDED = 1,   /* only in the second document */
	VOUCH_REFERENCE_REMOVED = 2, /* only in the first */
	VOUCH_REFERENCE_CHANGED = 3, /* in both, with different allowed digests */
};

/** vouch_reference_diff_fn - called per differing path, in byte order; non-zero stops */
typedef int (*vouch_reference_diff_fn)(void *userdata, const char *path, int change);

/**
 * vouch_reference_diff() - the paths whose allowed digests differ between @a and @b
 * @a: the first document
 * @b: the second
 * @fn: called for each differing path
 * @userdata: passed to @fn
 * @ret_count: number of differing paths (may be NULL)
 * Return: 0, -EINVAL, -ENOMEM, or what @fn returned when non-zero.
 * Since: 0.1
 */
int vouch_reference_diff(const vouch_reference *a, const vouch_reference *b,
			 vouch_reference_diff_fn fn, void *userdata, size_t *ret_count);

/**
 * vouch_reference_prune() - remove the entries whose window ("until") ended before @now
 * @ref: the document
 * @now: seconds since the epoch
 * @ret_removed: how many entries were removed (may be NULL)
 * Return: 0, -ENOMEM, -EINVAL.
 * Since: 0.1
 */
int vouch_reference_prune(vouch_reference *ref, int64_t now, size_t *ret_removed);

/**
 * vouch_reference_update() - an upgrade window: add new package versions, keep the old ones
 * until @until
 * @ref: the document
 * @debs: the new packages, @n of them
 * @n: their number
 * @now: seconds since the epoch (entries whose window ended before are removed first)
 * @until: the end of the window, at least @now
 *
 * Every entry of the same package and architecture in another version (and its "packages"
 * record) gets "until": @until, unless it already ends earlier; the new packages' files are
 * added without a window.  During the window both versions' digests are allowed, so a fleet
 * that upgrades machine by machine stays trusted; after it only the new ones are.
 * Return: 0, -ENOMEM, -EINVAL.
 * Since: 0.1
 */
int vouch_reference_update(vouch_reference *ref, const vouch_deb *const *debs, size_t n,
			   int64_t now, int64_t until);

/**
 * vouch_reference_check() - judge one file as attestation does
 * @ref: the document
 * @path: the measured path
 * @d: its digest
 * @now: seconds since the epoch (entries past their window allow nothing)
 * Return: 0 allowed, 1 excluded, -ENOENT not listed, -EKEYREJECTED digest not allowed, -EINVAL.
 * Since: 0.1
 */
int vouch_reference_check(vouch_reference *ref, const char *path, const struct vouch_digest *d,
			  int64_t now);

/**
 * vouch_reference_import_keylime() - a Keylime runtime policy as a vouch-reference document
 * @ctx: the context; must outlive the document
 * @json: the policy (untrusted): meta.version 1, digests (path -> bare hex digests, the
 *        length naming SHA-1/256/384/512), excludes (Python regular expressions), keyrings,
 *        ima-buf, ima.ignored_keyrings
 * @len: its length
 * @ret_ref: released with vouch_reference_free()
 *
 * Excludes are taken only in the forms that have an exact fnmatch equivalent (literals, '.',
 * '.*', a leading '^', a final '$'; without '$' a prefix, as re.match reads them); any
 * other expression is refused, never widened.  Ignored keyrings become excludes of their
 * names.
 * Return: 0, -EBADMSG, -ENOMEM, -EINVAL.
 * Since: 0.1
 */
int vouch_reference_import_keylime(vouch_ctx *ctx, const char *json, size_t len,
				   vouch_reference **ret_ref);

/**
 * vouch_reference_export_keylime() - the document as a Keylime runtime policy
 * @ref: the document
 * @now: entries whose window ended before @now are left out
 * @ret_json: canonical JSON ending in a newline, released with vouch_free()
 * @ret_len: its length
 *
 * Origins, conffile marks and windows have no Keylime equivalent and are not exported; an
 * exclude with a bracket expression is refused (-EOPNOTSUPP).
 * Return: 0, -EOPNOTSUPP, -ENOMEM, -EINVAL.
 * Since: 0.1
 */
int vouch_reference_export_keylime(vouch_reference *ref, int64_t now, char **ret_json,
				   size_t *ret_len);

/** vouch_dpkg_status_fn - called per installed package; non-zero stops */
typedef int (*vouch_dpkg_status_fn)(void *userdata, const char *package, const char *version,
				    const char *architecture);

/**
 * vouch_dpkg_status_parse() - the installed packages of a dpkg status file
 * @ctx: the context
 * @text: the content of /var/lib/dpkg/status (deb-status(5)), @len its length
 * @len: its length
 * @fn: called for each package whose status is "installed", in file order
 * @userdata: passed to @fn
 * Return: 0, -EBADMSG, -ENOMEM, -EINVAL, or what @fn returned when non-zero.
 * Since: 0.1
 */
int vouch_dpkg_status_parse(vouch_ctx *ctx, const char *text, size_t len,
			    vouch_dpkg_status_fn fn, void *userdata);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_REFERENCE_H */
