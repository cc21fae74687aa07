/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internals of the measurement-list module: template descriptions and field codecs
 * (lib/log-template.c), the reader (lib/log.c), the writer (lib/log-write.c), template
 * digests and replay (lib/log-replay.c), PCR files (lib/log-pcr.c), entry checks
 * (lib/log-verify.c) and signature verdicts (lib/log-sig.c).
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_LOG_INTERNAL_H
#define VOUCH_LIB_LOG_INTERNAL_H

#include "internal.h"
#include <vouch/log.h>

/* _cleanup_() helpers for the list's handles, for the modules above (engine, attest) */
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_log_reader *, log_reader_freep, vouch_log_reader_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_sig_cache *, sig_cache_freep, vouch_sig_cache_free)

/* Hard caps on untrusted lists (FORMATS.md §5.1: <= 15 fields, ids <= 16 chars). */
#define LOG_MAX_NAME_LEN 255		      /* template name / custom format string */
#define LOG_MAX_ENTRY_DATA (16u << 20)	      /* template data of one entry */
#define LOG_DEFAULT_MAX_ENTRIES (64ull << 20) /* entries per list */
#define LOG_IMA_NAME_MAX 255		      /* IMA_EVENT_NAME_LEN_MAX */
#define KEXEC_HDR_SIZE 24		      /* struct ima_kexec_hdr */

struct log_template {
	char name[LOG_MAX_NAME_LEN + 1];
	size_t name_len;
	size_t n_fields;
	uint8_t ids[VOUCH_LOG_MAX_FIELDS];
	bool is_ima; /* the legacy "ima" template: no lengths, d raw, n without NUL */
};

/* Resolve a template name (built-in or "f1|f2|..." format); -EBADMSG when unknown. */
int log_template_parse(const char *name, size_t name_len, struct log_template *ret);
/* Whether @s is the name or the format of a built-in template (what template= takes). */
bool log_template_builtin(const char *s);

/*
 * Validate one field's data the way the kernel writes it (sizes, NUL termination, digest
 * prefixes); @is_ima: the legacy "ima" template (d of 20 bytes, n without its NUL).
 * -EBADMSG with *@ret_why (may be NULL) saying what is wrong.
 */
int log_field_check(int id, const uint8_t *data, size_t len, bool is_ima, const char **ret_why);

/* Append the ascii rendering of a field (ima_show_template_data_ascii) to @sb. */
int log_field_ascii(struct strbuf *sb, int id, const uint8_t *data, size_t len, int order);
/* Parse an ascii rendering back into field data (appended to @out). */
int log_field_from_ascii(int id, const char *tok, size_t tok_len, bool is_ima, int order,
			 struct strbuf *out);
/* Byte-swap the u16/u32 words inside a field's data (iuid, igid, imode, xattrlengths). */
void log_field_swap(int id, uint8_t *data, size_t len);

static inline uint32_t log_get32(const uint8_t *p, int order)
{
	if (order == VOUCH_LOG_ORDER_BE)
		return get_be32(p);
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void log_put32(uint8_t *p, uint32_t v, int order)
{
	if (order == VOUCH_LOG_ORDER_BE)
		put_be32(p, v);
	else
		put_le32(p, v);
}

/*
 * Fast one-shot digests for the replay hot path: OpenSSL's one-shot functions for the
 * SHA family (no EVP_MD_CTX set-up per call), EVP with a reused context otherwise.
 */
struct fast_md {
	int algo;
	size_t size;
	const struct evp_md_st *md;
	struct evp_md_ctx_st *mctx;
};
int fast_md_init(vouch_ctx *ctx, struct fast_md *f, int algo);
void fast_md_done(struct fast_md *f);
/* Digest of the concatenation of up to three pieces. */
int fast_md_digest(struct fast_md *f, const void *a, size_t alen, const void *b, size_t blen,
		   const void *c, size_t clen, uint8_t *out);

/* d-modsig of an ima-modsig entry (lib/log-template.c). */
int log_field_digest(const struct vouch_log_field *f, struct vouch_digest *ret);

/*
 * H(template data) of @e with @f's algorithm (lib/log-replay.c); the "ima" template hashes
 * d || n zero-padded to 256 bytes, fields given without template data are hashed with
 * their lengths.  -EBADMSG, -EIO.
 */
int log_entry_hash(struct fast_md *f, const struct vouch_log_entry *e, uint8_t *out);
/* An entry a caller may hand in: a template name and at most VOUCH_LOG_MAX_FIELDS fields. */
bool log_entry_ok(const struct vouch_log_entry *e);

/* Start reading a list again from its first record (lib/log.c). */
void reader_rewind(vouch_log_reader *r);

/* One bank of a replay (lib/log-replay.c): where it matched and the value of PCR @pcr. */
int replay_bank_info(const vouch_log_replay *rp, int algo, int mode, unsigned pcr,
		     uint64_t *ret_matched, struct vouch_digest *ret_pcr);

/*
 * What an entry is, decided from its field layout and its contents, never from its
 * template name (the name is not covered by the template digest: FORMATS.md §5.1).
 * LOG_KIND_FILE: a file measurement (ima, ima-ng, ima-ngv2, ima-sig, ima-sigv2, ima-modsig,
 * evm-sig layouts); LOG_KIND_BUFFER: one of the kernel's buffer events (d-ng|n-ng|buf whose
 * digest is the hash of its buf field, named after a keyring, kexec-cmdline or a critical
 * data event); LOG_KIND_UNACCEPTABLE: anything else (@why says what).
 */
enum {
	LOG_KIND_VIOLATION,
	LOG_KIND_FILE,
	LOG_KIND_BUFFER,
	LOG_KIND_UNACCEPTABLE,
};
int log_entry_kind(vouch_ctx *ctx, const struct vouch_log_entry *e, char *why, size_t size);
/* The name of a boot_aggregate entry (entry 1 only: the kernel writes it first). */
bool log_entry_is_boot_aggregate(const struct vouch_log_entry *e);

/*
 * The verdict (enum vouch_log_sig_verdict) of a list's sig field over the file digest
 * @digest (algorithm @digest_algo; @verity: an fs-verity digest), lib/log-sig.c: parsed
 * as security.ima (vouch_xattr_parse), judged by the signature layer's sig_check() with
 * the default allow-list; @cache (may be NULL) remembers outcomes per (key, digest,
 * signature).  Returns 0, or a negative errno when the check could not run (-ENOMEM,
 * -EIO); malformed input is a verdict, not an error.  The context's last error is kept.
 */
int log_sig_verify_digest(vouch_ctx *ctx, const vouch_trust *trust, vouch_sig_cache *cache,
			  const uint8_t *sig, size_t sig_len, int digest_algo,
			  const uint8_t *digest, size_t digest_len, bool verity, int *ret_verdict);

/*
 * The same for an ima-modsig entry's modsig PKCS#7 over @digest (its d-modsig): judged by
 * lib/modsig-verify.c's one PKCS#7 verifier, with every rule of vouch_modsig_verify().
 */
int log_modsig_verify_digest(vouch_ctx *ctx, const vouch_trust *trust, vouch_sig_cache *cache,
			     const uint8_t *p7, size_t p7_len, int digest_algo,
			     const uint8_t *digest, size_t digest_len, int *ret_verdict);

#endif /* VOUCH_LIB_LOG_INTERNAL_H */
