/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch: IMA measurement lists - templates and fields, binary/ascii/kexec readers and
 * writers, per-bank replay, PCR matching, boot_aggregate and signature checks.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LOG_H
#define VOUCH_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vouch/ctx.h>
#include <vouch/digest.h>
#include <vouch/key.h>

#ifdef __cplusplus
extern "C" {
#endif

/** VOUCH_LOG_MAX_FIELDS - fields per template (the kernel's IMA_TEMPLATE_NUM_FIELDS_MAX) */
#define VOUCH_LOG_MAX_FIELDS 15
/** VOUCH_LOG_DEFAULT_PATH - the kernel's list, below the context root */
#define VOUCH_LOG_DEFAULT_PATH "/sys/kernel/security/ima/binary_runtime_measurements"

/** enum vouch_log_field_id - template field identifiers (ima_template.c supported_fields) */
enum vouch_log_field_id {
	VOUCH_LOG_FIELD_D = 0,	    /* "d" */
	VOUCH_LOG_FIELD_N,	    /* "n" */
	VOUCH_LOG_FIELD_D_NG,	    /* "d-ng" */
	VOUCH_LOG_FIELD_D_NGV2,	    /* "d-ngv2" */
	VOUCH_LOG_FIELD_N_NG,	    /* "n-ng" */
	VOUCH_LOG_FIELD_SIG,	    /* "sig" */
	VOUCH_LOG_FIELD_BUF,	    /* "buf" */
	VOUCH_LOG_FIELD_D_MODSIG,   /* "d-modsig" */
	VOUCH_LOG_FIELD_MODSIG,	    /* "modsig" */
	VOUCH_LOG_FIELD_EVMSIG,	    /* "evmsig" */
	VOUCH_LOG_FIELD_IUID,	    /* "iuid" */
	VOUCH_LOG_FIELD_IGID,	    /* "igid" */
	VOUCH_LOG_FIELD_IMODE,	    /* "imode" */
	VOUCH_LOG_FIELD_XATTRNAMES, /* "xattrnames" */
	VOUCH_LOG_FIELD_XATTRLENGTHS, /* "xattrlengths" */
	VOUCH_LOG_FIELD_XATTRVALUES,  /* "xattrvalues" */
	_VOUCH_LOG_FIELD_MAX,
	_VOUCH_LOG_FIELD_INVALID = -22,
};

/** enum vouch_log_format - list encodings */
enum vouch_log_format {
	VOUCH_LOG_FORMAT_AUTO = 0,   /* reader: kexec header, ascii text, else binary */
	VOUCH_LOG_FORMAT_BINARY = 1, /* binary_runtime_measurements */
	VOUCH_LOG_FORMAT_ASCII = 2,  /* ascii_runtime_measurements */
	VOUCH_LOG_FORMAT_KEXEC = 3,  /* struct ima_kexec_hdr + binary records */
	_VOUCH_LOG_FORMAT_MAX,
};

/** enum vouch_log_order - byte order of the binary u32/u16 words */
enum vouch_log_order {
	VOUCH_LOG_ORDER_AUTO = 0, /* reader: guess from the first record */
	VOUCH_LOG_ORDER_LE = 1,	  /* little endian: x86/arm64 native, and ima_canonical_fmt */
	VOUCH_LOG_ORDER_BE = 2,	  /* big endian native (s390x, ppc64 without canonical) */
	_VOUCH_LOG_ORDER_MAX,
};

/**
 * struct vouch_log_field - one field of an entry
 * @id: enum vouch_log_field_id
 * @data: the field data exactly as stored in the list (for "ima"'s "n": without its NUL)
 * @len: number of bytes
 */
struct vouch_log_field {
	int id;
	const uint8_t *data;
	size_t len;
};

/**
 * struct vouch_log_entry - one measurement; every pointer is owned by the reader (or the
 * caller that filled it in) and valid until the next vouch_log_next() on that reader
 * @index: 1-based position in the list
 * @pcr: PCR index
 * @template_digest: the SHA-1 template digest shown in the list (zero for violations)
 * @violation: @template_digest is all zero: a ToMToU/open-writers violation
 * @template_name: NUL-terminated name ("ima-sig", or a custom format string)
 * @order: enum vouch_log_order of the u32/u16 words in @template_data and the fields
 * @template_data: the serialised fields (u32 length + data each), i.e. the bytes the kernel
 *                 hashes for every template but "ima"; NULL for "ima" (and for entries a
 *                 caller fills in: the fields are then hashed with their lengths)
 * @template_data_len: their number
 * @n_fields: number of @fields
 * @fields: the fields, in template order
 */
struct vouch_log_entry {
	uint64_t index;
	uint32_t pcr;
	uint8_t template_digest[20];
	bool violation;
	const char *template_name;
	int order;
	const uint8_t *template_data;
	size_t template_data_len;
	size_t n_fields;
	struct vouch_log_field fields[VOUCH_LOG_MAX_FIELDS];
};

/**
 * vouch_log_field_name() - the kernel's identifier of a field ("d-ng")
 * @id: enum vouch_log_field_id
 * Return: a static string, or NULL when @id is out of range.
 * Since: 0.1
 */
const char *vouch_log_field_name(int id);

/**
 * vouch_log_field_by_name() - look a field identifier up
 * @name: "d-ng", "sig", ...
 * Return: an enum vouch_log_field_id, or -ENOENT.
 * Since: 0.1
 */
int vouch_log_field_by_name(const char *name);

/**
 * vouch_log_entry_find() - the first field of @entry with identifier @id
 * @entry: the entry
 * @id: enum vouch_log_field_id
 * Return: the field (owned as the entry), or NULL.
 * Since: 0.1
 */
const struct vouch_log_field *vouch_log_entry_find(const struct vouch_log_entry *entry, int id);

/**
 * vouch_log_entry_digest() - the file digest an entry records (d-ng, d-ngv2 or d)
 * @entry: the entry
 * @ret_digest: the algorithm and bytes
 * @ret_verity: true when d-ngv2 says "verity:" (an fs-verity digest); may be NULL
 * Return: 0, or -ENOENT (no digest field, or an empty one), -EBADMSG (malformed prefix).
 * Since: 0.1
 */
int vouch_log_entry_digest(const struct vouch_log_entry *entry, struct vouch_digest *ret_digest,
			   bool *ret_verity);

/**
 * vouch_log_entry_name() - the event name an entry records (n-ng or n)
 * @entry: the entry
 * @buf: where the name is copied, NUL-terminated (the kernel's "%s": stops at a NUL)
 * @size: size of @buf
 * Return: 0, -ENOENT (no name field), -ENOBUFS.
 * Since: 0.1
 */
int vouch_log_entry_name(const struct vouch_log_entry *entry, char *buf, size_t size);

/**
 * struct vouch_log_reader_options - how to read a list
 * @version: 1
 * @format: enum vouch_log_format
 * @order: enum vouch_log_order (binary and kexec only)
 * @max_entries: refuse lists with more entries; 0 = 64 Mi entries
 * @reserved: must be zero
 */
struct vouch_log_reader_options {
	uint32_t version;
	int format;
	int order;
	uint64_t max_entries;
	uint64_t reserved[6];
};
#define VOUCH_LOG_READER_OPTIONS_INIT { .version = 1 }

/** vouch_log_reader - a streaming parser over one list held in memory (opaque) */
typedef struct vouch_log_reader vouch_log_reader;

/**
 * vouch_log_reader_new() - parse a list held in memory
 * @ctx: the context; must outlive the reader
 * @buf: the list bytes; borrowed: must stay valid while the reader lives
 * @len: their number
 * @opts: options, or NULL for the defaults
 * @ret_reader: the reader, to be released with vouch_log_reader_free()
 *
 * Nothing is parsed yet except a kexec header; entries come from vouch_log_next().
 * Return: 0, -EINVAL, -EBADMSG (bad kexec header), -ENOMEM.
 * Since: 0.1
 */
int vouch_log_reader_new(vouch_ctx *ctx, const uint8_t *buf, size_t len,
			 const struct vouch_log_reader_options *opts, vouch_log_reader **ret_reader);

/**
 * vouch_log_reader_open() - read a list file (NULL: the kernel's, below the context root)
 * @ctx: the context
 * @path: the file, or NULL for VOUCH_LOG_DEFAULT_PATH
 * @opts: options, or NULL
 * @ret_reader: the reader, which owns the file contents
 * Return: as vouch_log_reader_new(), plus open/read errors and -EFBIG (over 4 GiB).
 * Since: 0.1
 */
int vouch_log_reader_open(vouch_ctx *ctx, const char *path,
			  const struct vouch_log_reader_options *opts,
			  vouch_log_reader **ret_reader);

/**
 * vouch_log_reader_free() - release a reader; NULL is accepted
 * Since: 0.1
 */
void vouch_log_reader_free(vouch_log_reader *reader);

/**
 * vouch_log_reader_format() - the format being read (after auto-detection)
 * @reader: the reader
 * @ret_format: enum vouch_log_format
 * @ret_order: enum vouch_log_order (VOUCH_LOG_ORDER_AUTO until the first binary record)
 * Return: 0 or -EINVAL.
 * Since: 0.1
 */
int vouch_log_reader_format(const vouch_log_reader *reader, int *ret_format, int *ret_order);

/**
 * vouch_log_next() - parse the next entry
 * @reader: the reader
 * @ret_entry: the entry; its pointers are valid until the next call
 *
 * Every length is bounds-checked; templates are the built-in ones or custom field lists
 * (at most 15 known fields); each field's data is validated as the kernel writes it.
 * Return: 1 with an entry, 0 at the clean end of the list, -EBADMSG (malformed: the message
 * names the entry and the reason; the reader stays failed), -E2BIG (over max_entries).
 * Since: 0.1
 */
int vouch_log_next(vouch_log_reader *reader, struct vouch_log_entry *ret_entry);

/**
 * struct vouch_log_writer_options - how to write a list
 * @version: 1
 * @format: enum vouch_log_format (not AUTO)
 * @order: enum vouch_log_order for binary and kexec output; AUTO = little endian
 * @reserved: must be zero
 */
struct vouch_log_writer_options {
	uint32_t version;
	int format;
	int order;
	uint32_t reserved1;
	uint64_t reserved[6];
};
#define VOUCH_LOG_WRITER_OPTIONS_INIT { .version = 1, .format = VOUCH_LOG_FORMAT_BINARY }

/** vouch_log_writer - serialises entries into a memory buffer (opaque) */
typedef struct vouch_log_writer vouch_log_writer;

/**
 * vouch_log_writer_new() - start a list
 * @ctx: the context; must outlive the writer
 * @opts: options, or NULL for binary little endian
 * @ret_writer: the writer, to be released with vouch_log_writer_free()
 * Return: 0, -EINVAL, -ENOMEM.
 * Since: 0.1
 */
int vouch_log_writer_new(vouch_ctx *ctx, const struct vouch_log_writer_options *opts,
			 vouch_log_writer **ret_writer);

/**
 * vouch_log_writer_free() - release a writer; NULL is accepted
 * Since: 0.1
 */
void vouch_log_writer_free(vouch_log_writer *writer);

/**
 * vouch_log_writer_add() - append an entry read from a list
 * @writer: the writer
 * @entry: the entry; when its byte order differs from the output's, the u32/u16 words
 *         (lengths, iuid/igid/imode, xattrlengths) are converted and the SHA-1 template
 *         digest is recomputed, as a kernel with that byte order would have written it
 * Return: 0, -EINVAL, -EBADMSG (field data that cannot be converted), -ENOMEM, -EIO.
 * Since: 0.1
 */
int vouch_log_writer_add(vouch_log_writer *writer, const struct vouch_log_entry *entry);

/**
 * vouch_log_writer_append() - build a new entry from field data and append it
 * @writer: the writer
 * @pcr: PCR index (< VOUCH_PCR_COUNT)
 * @template_name: a built-in template name or a custom "f1|f2|..." format
 * @fields: the field data, in template order (ids must match the template)
 * @n_fields: their number
 * @violation: write a violation record (template digest zero)
 * @ret_entry: the entry as written (template_data and fields point into @writer's buffer
 *             and stay valid until the next call on @writer); may be NULL
 *
 * The SHA-1 template digest is computed; use vouch_log_extend_digest() for the per-bank
 * values to extend.
 * Return: 0, -EINVAL (unknown template, field ids do not match), -EBADMSG (field data the
 * kernel would not write), -ENOMEM, -EIO.
 * Since: 0.1
 */
int vouch_log_writer_append(vouch_log_writer *writer, uint32_t pcr, const char *template_name,
			    const struct vouch_log_field *fields, size_t n_fields, bool violation,
			    struct vouch_log_entry *ret_entry);

/**
 * vouch_log_writer_get() - the bytes written so far (kexec: with its header)
 * @writer: the writer
 * @ret_buf: pointer to bytes owned by @writer, valid until the next call on @writer
 * @ret_len: their number
 * Return: 0, -EINVAL, -ENOMEM.
 * Since: 0.1
 */
int vouch_log_writer_get(vouch_log_writer *writer, const uint8_t **ret_buf, size_t *ret_len);

/**
 * vouch_log_template_digest() - the template digest of an entry for one bank
 * @ctx: the context
 * @entry: the entry
 * @algo: the bank's enum vouch_hash_algo
 * @ret_digest: H(template data), or for "ima" H(d || n zero-padded to 256 bytes)
 * Return: 0, -EINVAL, -EOPNOTSUPP, -EIO.
 * Since: 0.1
 */
int vouch_log_template_digest(vouch_ctx *ctx, const struct vouch_log_entry *entry, int algo,
			      struct vouch_digest *ret_digest);

/** enum vouch_log_bank_mode - how the kernel extended a bank */
enum vouch_log_bank_mode {
	VOUCH_LOG_BANK_HASHED = 0, /* template digest recomputed with the bank's hash */
	VOUCH_LOG_BANK_PADDED = 1, /* the kernel could not use the hash: SHA-1 zero-padded */
	_VOUCH_LOG_BANK_MODE_MAX,
};

/**
 * vouch_log_extend_digest() - the value an entry extends into a bank
 * @ctx: the context
 * @entry: the entry
 * @algo: the bank's enum vouch_hash_algo
 * @mode: enum vouch_log_bank_mode
 * @ret_digest: violations: all-ones; padded banks: the SHA-1 template digest zero-padded
 * Return: as vouch_log_template_digest().
 * Since: 0.1
 */
int vouch_log_extend_digest(vouch_ctx *ctx, const struct vouch_log_entry *entry, int algo,
			    int mode, struct vouch_digest *ret_digest);

/**
 * vouch_pcr_bank_read() - read PCR values of one bank
 * @ctx: the context
 * @path: a file of evmctl "PCR-NN: HEX" lines, a tpm2_pcrread YAML file (the bank named
 *        @algo is taken from it), or a sysfs directory such as /sys/class/tpm/tpm0/pcr-sha256
 *        (files 0..23); NULL: that directory for @algo below the context root
 * @algo: enum vouch_hash_algo of the bank
 * @ret_bank: the values
 * Return: 0, -ENOENT (the bank is not in the file), -EBADMSG (malformed line or value of the
 * wrong size), open/read errors.
 * Since: 0.1
 */
int vouch_pcr_bank_read(vouch_ctx *ctx, const char *path, int algo,
			struct vouch_pcr_bank *ret_bank);

/** vouch_log_replay - per-bank PCR replay state, fed entry by entry (opaque) */
typedef struct vouch_log_replay vouch_log_replay;

/**
 * vouch_log_replay_new() - start a replay from all-zero PCRs
 * @ctx: the context; must outlive the replay
 * @algos: the banks (enum vouch_hash_algo), 1 to 8, no duplicates
 * @modes: enum vouch_log_bank_mode per bank, or NULL for all HASHED
 * @n: number of banks
 * @ret_replay: the state, to be released with vouch_log_replay_free()
 * Return: 0, -EINVAL, -EOPNOTSUPP (OpenSSL lacks a hash), -ENOMEM.
 * Since: 0.1
 */
int vouch_log_replay_new(vouch_ctx *ctx, const int *algos, const int *modes, size_t n,
			 vouch_log_replay **ret_replay);

/** vouch_log_replay_free() - release a replay; NULL is accepted. Since: 0.1 */
void vouch_log_replay_free(vouch_log_replay *replay);

/**
 * vouch_log_replay_set_target() - PCR values to watch for while replaying
 * @replay: the state
 * @bank: values for one of the replay's banks; only PCRs in @pcr_mask are compared
 * @pcr_mask: bit n: compare PCR n (PCRs the list never extends must then stay zero)
 *
 * After every entry, the replay notes the first prefix of the list at which all watched
 * PCRs of that bank equal the target (see vouch_log_replay_match()).
 * Return: 0, -EINVAL (bank not in the replay, or a watched PCR missing from @bank).
 * Since: 0.1
 */
int vouch_log_replay_set_target(vouch_log_replay *replay, const struct vouch_pcr_bank *bank,
				uint32_t pcr_mask);

/**
 * vouch_log_replay_add() - extend one entry into every bank
 * @replay: the state
 * @entry: the entry
 *
 * The SHA-1 template digest in the entry is checked against the template data; the entry is
 * extended all the same, with the digests recomputed from its data.
 * Return: 0; -EKEYREJECTED (template digest does not match its data; the message names the
 * entry); -EBADMSG (PCR out of range, nothing extended); -EIO.
 * Since: 0.1
 */
int vouch_log_replay_add(vouch_log_replay *replay, const struct vouch_log_entry *entry);

/**
 * vouch_log_replay_get() - the current value of one PCR in one bank
 * @replay: the state
 * @algo: the bank
 * @pcr: PCR index
 * @ret_digest: the value
 * Return: 0, -EINVAL.
 * Since: 0.1
 */
int vouch_log_replay_get(const vouch_log_replay *replay, int algo, uint32_t pcr,
			 struct vouch_digest *ret_digest);

/**
 * vouch_log_replay_match() - where a bank matched its target
 * @replay: the state
 * @algo: the bank
 * @ret_entries: the number of leading entries whose replay equals the target (the first
 *               such prefix), or UINT64_MAX when no prefix so far matches
 * Return: 0, -EINVAL (no target set for @algo).
 * Since: 0.1
 */
int vouch_log_replay_match(const vouch_log_replay *replay, int algo, uint64_t *ret_entries);

/**
 * vouch_log_replay_count() - entries fed so far, and how many were violations
 * Since: 0.1
 */
void vouch_log_replay_count(const vouch_log_replay *replay, uint64_t *ret_entries,
			    uint64_t *ret_violations);

/**
 * vouch_log_boot_aggregate() - the boot_aggregate a bank's PCRs 0-7 (SHA-1) or 0-9 give
 * @ctx: the context
 * @bank: PCR values; PCRs 0-7 (0-9 for non-SHA-1 banks) must be present
 * @ret_digest: H_bank(PCR0 || ... )
 * Return: 0, -EINVAL, -ENODATA (a PCR is missing), -EOPNOTSUPP, -EIO.
 * Since: 0.1
 */
int vouch_log_boot_aggregate(vouch_ctx *ctx, const struct vouch_pcr_bank *bank,
			     struct vouch_digest *ret_digest);

/**
 * enum vouch_log_sig_verdict - outcome of checking one entry's signature
 */
enum vouch_log_sig_verdict {
	VOUCH_LOG_SIG_NONE = 0,	       /* the entry carries no signature */
	VOUCH_LOG_SIG_VERIFIED = 1,    /* a trusted key verifies it over the listed digest */
	VOUCH_LOG_SIG_BAD = 2,	       /* the key is trusted but the signature does not verify */
	VOUCH_LOG_SIG_UNKNOWN_KEY = 3, /* no trusted key has its key id / issuer+serial */
	VOUCH_LOG_SIG_UNSUPPORTED = 4, /* legacy v1, unknown algorithm */
	VOUCH_LOG_SIG_MALFORMED = 5,   /* the signature bytes are not a valid container */
	/*
	 * an EVM portable signature (type 0x05): the kernel puts security.evm in the sig field
	 * when security.ima holds a digest; it signs the EVM data (xattrs, owner, mode), not
	 * the file digest, so it cannot be checked from the list
	 */
	VOUCH_LOG_SIG_EVM_PORTABLE = 6,
	_VOUCH_LOG_SIG_MAX,
};

/** vouch_sig_cache - remembers (key, digest, signature) verifications (opaque) */
typedef struct vouch_sig_cache vouch_sig_cache;

/**
 * vouch_sig_cache_new() - a fixed-size cache of signature verifications
 * @ctx: the context
 * @slots: number of entries (0: 4096, at most 1 Mi); the cache never grows. Outcomes are
 *         keyed by certificate handle, so use a cache with one trust store only, and free
 *         it before that store
 * @ret_cache: the cache, to be released with vouch_sig_cache_free()
 * Return: 0, -ENOMEM.
 * Since: 0.1
 */
int vouch_sig_cache_new(vouch_ctx *ctx, size_t slots, vouch_sig_cache **ret_cache);

/** vouch_sig_cache_free() - release a cache; NULL is accepted. Since: 0.1 */
void vouch_sig_cache_free(vouch_sig_cache *cache);

/**
 * vouch_log_entry_verify_sig() - check the signature an ima-sig/ima-sigv2/ima-modsig entry carries
 * @ctx: the context
 * @trust: trusted certificates (IMA key id lookup; issuer+serial for modsig)
 * @cache: a cache, or NULL
 * @entry: the entry
 * @ret_verdict: enum vouch_log_sig_verdict
 *
 * The sig field (IMA v2 signature, or sigv3 over the ima_file_id) is checked against the
 * listed digest; an ima-modsig entry without sig is checked through its PKCS#7 modsig and
 * d-modsig with every rule of vouch_modsig_verify() (default options: the same verifier).
 * RSA PKCS#1 v1.5 and ECDSA keys.
 * Return: 0 with a verdict, or a negative errno when the check could not run (-ENOMEM, -EIO).
 * Since: 0.1
 */
int vouch_log_entry_verify_sig(vouch_ctx *ctx, const vouch_trust *trust, vouch_sig_cache *cache,
			       const struct vouch_log_entry *entry, int *ret_verdict);

/**
 * vouch_log_sig_verdict_name() - "verified", "bad", "unknown-key", ...
 * Since: 0.1
 */
const char *vouch_log_sig_verdict_name(int verdict);

/** Flags of struct vouch_log_verify_options */
/* every file measurement must carry a signature that verifies (boot_aggregate, violations and
 * the kernel's buffer events excepted; an entry of another layout, or in a PCR without a given
 * value, fails) */
#define VOUCH_LOG_VERIFY_REQUIRE_SIGS (1U << 0)
#define VOUCH_LOG_VERIFY_NO_BOOT_AGGREGATE (1U << 1) /* do not check the boot_aggregate */

/**
 * vouch_log_entry_fn - called for every entry vouch_log_verify() reads
 * @userdata: from the options
 * @entry: the entry (valid during the call)
 * @sig_verdict: enum vouch_log_sig_verdict (VOUCH_LOG_SIG_NONE when not checked)
 * @status: 0, or the negative errno of a check that failed on this entry
 */
typedef void (*vouch_log_entry_fn)(void *userdata, const struct vouch_log_entry *entry,
				   int sig_verdict, int status);

/**
 * struct vouch_log_verify_options - what vouch_log_verify() checks
 * @version: 1
 * @pcr_mask: PCRs that must match (bit n = PCR n); 0 = PCR 10.  Every PCR an entry is
 *            extended into and a bank gives a value for is compared too
 * @flags: VOUCH_LOG_VERIFY_*
 * @banks: PCR values, one bank each (at most 4); every bank is replayed both hashed and
 *         zero-padded SHA-1 (the kernel could not use its hash) and either may match
 * @n_banks: number of @banks (at least 1)
 * @trust: trusted keys for signature checks, or NULL to skip them
 * @cache: a signature cache, or NULL
 * @on_entry: a callback per entry, or NULL
 * @userdata: for @on_entry
 * @reserved: must be zero
 */
struct vouch_log_verify_options {
	uint32_t version;
	uint32_t pcr_mask;
	uint32_t flags;
	uint32_t reserved1;
	const struct vouch_pcr_bank *banks;
	size_t n_banks;
	const vouch_trust *trust;
	vouch_sig_cache *cache;
	vouch_log_entry_fn on_entry;
	void *userdata;
	uint64_t reserved[4];
};
#define VOUCH_LOG_VERIFY_OPTIONS_INIT { .version = 1 }

/**
 * struct vouch_log_bank_result - outcome for one bank
 * @algo: enum vouch_hash_algo
 * @mode: enum vouch_log_bank_mode that matched (HASHED when none did)
 * @matched_at: entries in the first prefix that replays to the PCR values; UINT64_MAX: none
 * @replayed: the watched PCR with the lowest index, replayed over the whole list (@mode)
 */
struct vouch_log_bank_result {
	int algo;
	int mode;
	uint64_t matched_at;
	struct vouch_digest replayed;
};

/**
 * struct vouch_log_verify_result - what vouch_log_verify() found
 * @entries: entries read
 * @violations: violation entries among them
 * @covered: entries attested by every bank (the smallest matched prefix); the rest of the
 *           list (@entries - @covered) was measured after the PCRs were read
 * @n_banks: number of @banks
 * @banks: per bank, in the order given
 * @failed_bank: enum vouch_hash_algo of the first bank that matched no prefix, or -1
 * @failed_entry: the first entry that cannot be attested (1-based): an entry whose template
 *                digest does not match its data, else 1 when a bank matched no prefix; 0 = none
 * @boot_aggregate: 0 matches; -EKEYREJECTED differs or no boot_aggregate entry; -ENODATA
 *                  no PCR values for its bank; 1 not checked (flag)
 * @boot_aggregate_algo: the bank the boot_aggregate entry names, or -1
 * @sigs: number of entries per enum vouch_log_sig_verdict
 * @unverified: entries extended into a PCR with no value given: not attested by the PCRs
 * @unacceptable: entries (with a trust store) whose field layout or buffer is neither a file
 *                measurement nor one of the kernel's buffer events
 * @buffers: the kernel's buffer events (keyrings, kexec-cmdline, critical data): no signature
 */
struct vouch_log_verify_result {
	uint64_t entries;
	uint64_t violations;
	uint64_t covered;
	size_t n_banks;
	struct vouch_log_bank_result banks[4];
	int failed_bank;
	uint64_t failed_entry;
	int boot_aggregate;
	int boot_aggregate_algo;
	uint64_t sigs[_VOUCH_LOG_SIG_MAX];
	uint64_t unverified;
	uint64_t unacceptable;
	uint64_t buffers;
};

/**
 * vouch_log_verify() - check a whole list against PCR values, in one pass
 * @ctx: the context
 * @reader: the list (read to its end)
 * @opts: what to check
 * @ret_result: the findings; filled in when the return is 0 or a verdict code, so callers
 *              can report what failed
 *
 * Every check always runs: each entry's SHA-1 template digest against its data, per-bank
 * replay against @opts->banks (some prefix must match in every bank), the boot_aggregate
 * against PCRs 0-7 / 0-9 of its bank, and, with a trust store, the signatures.
 * Return: 0 when everything verifies; -EKEYREJECTED (a check failed); -EBADMSG (malformed
 * list); -ENODATA (the boot_aggregate's bank has no PCR values); -EINVAL; -ENOMEM; -EIO.
 * Since: 0.1
 */
int vouch_log_verify(vouch_ctx *ctx, vouch_log_reader *reader,
		     const struct vouch_log_verify_options *opts,
		     struct vouch_log_verify_result *ret_result);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_LOG_H */
