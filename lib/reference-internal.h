/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The reference module's internals: the .deb reader (reference-deb.c), the vouch-reference
 * document (reference.c, its JSON in reference-json.c, Keylime policies in
 * reference-keylime.c), and what lib/attest.c uses to judge measurements with a document.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_REFERENCE_INTERNAL_H
#define VOUCH_LIB_REFERENCE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "cleanup.h"
#include <vouch/ctx.h>
#include <vouch/digest.h>
#include <vouch/reference.h>

#define REFERENCE_JSON_MAX ((size_t)256 << 20)
#define DEB_CONTROL_MAX ((size_t)4 << 20) /* control and conffiles members */
#define DEB_PATH_MAX 4096
#define DEB_MAX_ALGOS 8

struct deb_file {
	char *path;
	bool conffile;
};

struct vouch_deb {
	char *package, *version, *architecture;
	int algos[DEB_MAX_ALGOS];
	size_t n_algos;
	struct deb_file *files;
	struct vouch_digest *digests; /* n_algos per file */
	size_t n_files, cap;
	char **conffiles;
	size_t n_conffiles;
	size_t symlinks;
	char **links; /* VOUCH_DEB_FOLLOW_SYMLINKS: path, target pairs */
	size_t n_links;
	size_t *slots; /* open addressing over files by path: index + 1, 0 = empty */
	size_t n_slots;
	uint64_t bytes;
};

struct diversion {
	char *from, *to, *by;
};

struct vouch_reference {
	vouch_ctx *ctx;
	json_object *root;
	json_object *files; /* borrowed from root */
	struct diversion *div;
	size_t n_div;
};

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_reference *, ref_freep, vouch_reference_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_hasher *, ref_hasher_freep, vouch_hasher_free)


/*
 * Check that @root is a vouch-reference document, version 1 or 2 (or without a version: 1),
 * and when it carries an "id" that the id matches its content.  -EBADMSG with the reason
 * in the context, -ENOMEM.
 */
int reference_validate(vouch_ctx *ctx, json_object *root);

/*
 * Parse @json (@len bytes, at most @max) as strict JSON and reference_validate() it: the
 * document in @ret_root.  -EBADMSG with the reason in the context, -ENOMEM.
 */
int reference_parse_root(vouch_ctx *ctx, const char *json, size_t len, size_t max,
			 json_object **ret_root);

/*
 * The canonical JSON of @o (object keys in byte order, no whitespace), with the member
 * "id" of the top-level object left out when @skip_id.  A new NUL-terminated buffer, or NULL
 * (out of memory, or a number that is not an integer).
 */
char *reference_canonical(json_object *o, bool skip_id, size_t *ret_len);

/* qsort() comparison of two C strings (const char *). */
int ref_cmp_str(const void *a, const void *b);

/* The keys of @o in byte order: a new array of @o's own strings, NULL out of memory. */
const char **ref_sorted_keys(json_object *o, size_t *ret_n);

/* The canonical JSON of @o as a text file (a newline after it): a new buffer in @ret_json. */
int ref_canonical_text(vouch_ctx *ctx, json_object *o, char **ret_json, size_t *ret_len);

/* The content id of document @root ("sha256:" and the digest of its canonical JSON without
 * "id") in @buf of @size bytes. */
int ref_content_id(vouch_ctx *ctx, json_object *root, char *buf, size_t size);

/* "ALGO:HEX" with a known algorithm and the digest size of it. */
bool ref_digest_string_ok(const char *s);

/* @o[@key] as it is, or created as an empty array or object (@type) when missing; NULL: ENOMEM. */
json_object *ref_member(json_object *o, const char *key, json_type type);

/* Append @e (taken) to @list unless an equal entry is there. */
int ref_add_unique(json_object *list, json_object *e);

/* Add entry @e (taken) to the list of @path in @ref's files. */
int ref_add_entry(vouch_reference *ref, const char *path, json_object *e);

/* @e is a version 2 entry whose "until" is before @now. */
bool ref_entry_expired(json_object *e, int64_t now);

/* The value of field @name in a control paragraph (first line only), as a new string. */
char *deb_control_field(const char *text, const char *name);

/* @s is a usable package name, version or architecture: not empty, no space, control or '/'. */
bool deb_field_ok(const char *s);

#endif
