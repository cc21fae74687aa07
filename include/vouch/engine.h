/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch: the integrity engine - one hook path for every consumer of loaded data
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_ENGINE_H
#define VOUCH_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vouch/ctx.h>
#include <vouch/digest.h>
#include <vouch/key.h>
#include <vouch/policy.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * enum vouch_read_id - what is being loaded (enum kernel_read_file_id / kernel_load_data_id)
 *
 * Values 0-6 are the kernel's.  The VOUCH_LOADING_* ids beyond them are buffers the kernel
 * has no integrity hook for; the engine maps them to a policy func: BPF and seccomp
 * programs to POLICY_CHECK, the kexec command line to KEXEC_CMDLINE.
 */
enum vouch_read_id {
	VOUCH_READING_UNKNOWN = 0,
	VOUCH_READING_FIRMWARE = 1,
	VOUCH_READING_MODULE = 2,
	VOUCH_READING_KEXEC_IMAGE = 3,
	VOUCH_READING_KEXEC_INITRAMFS = 4,
	VOUCH_READING_POLICY = 5,
	VOUCH_READING_X509_CERTIFICATE = 6,
	VOUCH_LOADING_BPF = 16,
	VOUCH_LOADING_SECCOMP = 17,
	VOUCH_LOADING_KEXEC_CMDLINE = 18,
};

/** enum vouch_mode - appraisal mode of a consumer (ima_appraise=) */
enum vouch_mode {
	VOUCH_MODE_OFF = 0,
	VOUCH_MODE_LOG = 1,
	VOUCH_MODE_FIX = 2,
	VOUCH_MODE_ENFORCE = 3,
	_VOUCH_MODE_MAX,
};

/** enum vouch_keyring - which trust store a check uses */
enum vouch_keyring {
	VOUCH_KEYRING_IMA = 0,	  /* security.ima signatures and IMA modsig (the .ima keyring) */
	VOUCH_KEYRING_KERNEL = 1, /* module/kexec appended signatures (builtin + secondary) */
	_VOUCH_KEYRING_MAX,
};

/**
 * typedef vouch_engine - an engine instance (opaque)
 *
 * Threads (Since: 0.1): the hooks - vouch_engine_file_check(), vouch_engine_read_file(),
 * vouch_engine_post_read_file(), vouch_engine_load_data(), vouch_engine_post_load_data() -
 * may be called on one engine from several threads at once.  Each call reads, hashes and
 * verifies on its own thread without any engine-wide lock (a worker library context per
 * call: the engine's context is not shared by concurrent calls), so N cores work at once.
 * vouch_engine_set_policy(), _set_trust(), _set_blacklist(), _set_mode(),
 * _set_sig_enforce() and _set_audit_fn() may be called at any time: each waits until the
 * hooks running have returned and holds the next ones back (a reader-writer lock that
 * prefers the writer); a hook sees the configuration of before or after, never a mix.
 * vouch_engine_get_mode(), _get_sig_enforce(), _entry_count(), _get_pcr(),
 * _verify_state() and _get_group_stats() may be called concurrently with hooks too;
 * vouch_engine_get_list()'s bytes are valid only until the next hook call (not while
 * another thread runs one).  vouch_engine_new() and vouch_engine_free() are not concurrent
 * with anything on the engine.
 *
 * With concurrent calls the engine's &vouch_ctx receives each failing call's message in
 * turn: read vouch_ctx_last_error() only when no other call runs.  The audit callback and
 * the context's log callback are called from the thread of the hook, one audit event at a
 * time; they must not call the engine.
 *
 * Durable measurement, group commit: a hook that appends an entry to the list returns
 * (with its permission answer) only after the entry is durable and extended.  Entries that
 * arrive while the list is being synced are written and synced together by one of their
 * callers with one fdatasync() (at most VOUCH_ENGINE_GROUP_MAX per group), and only then
 * extended, in list order, into the software PCRs and the TPM.  The same entry (same
 * template digest and PCR) measured by two threads at once is appended once; the other
 * call reports it as already measured.  The PCR file in the state directory is a
 * checkpoint of the software bank: rewritten after a group once it is 512 entries behind
 * or 100 ms old, and by vouch_engine_free(); it never lags the list by more than
 * VOUCH_ENGINE_TAIL_MAX entries.  A crash can therefore leave a tail of durable entries without their extends:
 * up to VOUCH_ENGINE_TAIL_MAX in the software bank, up to VOUCH_ENGINE_GROUP_MAX in the
 * TPM; vouch_engine_new() completes those extends in list order.
 */
typedef struct vouch_engine vouch_engine;

/* The most entries one group commit writes and syncs at once; the TPM's crash tail. */
#define VOUCH_ENGINE_GROUP_MAX 256u
/* The most durable entries the PCR file may lag behind: the software bank's crash tail. */
#define VOUCH_ENGINE_TAIL_MAX 1024u

struct vouch_engine_event;
/** vouch_engine_audit_fn - receives audit events; pointers valid only during the call */
typedef void (*vouch_engine_audit_fn)(void *userdata, const struct vouch_engine_event *event);

/* vouch_engine_options.flags */
#define VOUCH_ENGINE_NO_CACHE 0x1u /* re-evaluate every call (benchmarks, tests) */

/**
 * struct vouch_engine_options - how an engine is created
 * @version: must be 1
 * @flags: VOUCH_ENGINE_*
 * @state_dir: directory for the measurement list, the software PCRs and the enforcement
 *             latches (created 0700 if missing); NULL keeps everything in memory
 * @hash_algo: enum vouch_hash_algo used to measure files (ima_hash=); 0 selects sha256
 * @template_name: default template: a built-in name ("ima-ng", "ima-sig", "ima-buf", ...) or
 *                 a field format whose fields are among d-ng, d-ngv2, n-ng, sig, buf,
 *                 d-modsig, modsig, evmsig (not "ima": its d and n are not written);
 *                 NULL: "ima-sig"
 * @xattr_name: the appraisal xattr; NULL: "security.ima"
 * @audit_fn: audit callback from the start (recovery events of the state), or NULL
 * @audit_userdata: passed to @audit_fn
 * @tcti: a TPM (tss2 TCTI string, see vouch_tpm_open()) that every measurement is also
 *        extended into, in every active bank, as the kernel does (Since: 0.1); NULL: the
 *        TPM the state directory is bound to, if any.  A state directory is bound to the
 *        first TPM it is used with (file "tcti"); at start its list must replay to the
 *        TPM's PCRs, except for the last group's entries (at most VOUCH_ENGINE_GROUP_MAX)
 *        whose extends a crash lost (they are completed)
 * @reserved: must be zero
 */
struct vouch_engine_options {
	uint32_t version;
	uint32_t flags;
	const char *state_dir;
	int hash_algo;
	const char *template_name;
	const char *xattr_name;
	vouch_engine_audit_fn audit_fn;
	void *audit_userdata;
	const char *tcti;
	uint64_t reserved[5];
};
#define VOUCH_ENGINE_OPTIONS_INIT { .version = 1 }

/**
 * vouch_engine_new() - create an engine, recovering its state directory
 * @ctx: the context; must outlive the engine
 * @opts: options, or NULL for an in-memory engine with defaults
 * @ret_engine: the engine, released with vouch_engine_free()
 *
 * The list in the state directory is read and replayed; the software PCRs must equal the
 * replay, except for the documented tail: up to VOUCH_ENGINE_TAIL_MAX last entries may be
 * durable without their PCR extends (a crash between the two, see &vouch_engine), in which
 * case the extends are completed in list order.  A torn final record (never acknowledged)
 * is cut off.
 *
 * Return: 0; -EBADMSG (list and PCRs disagree beyond the tail, or a corrupt list; with a
 * TPM: its PCRs disagree with the list, or the state was measured without a TPM);
 * -EINVAL; -ENOMEM; I/O errors; the errors of vouch_tpm_open().
 * Since: 0.1
 */
int vouch_engine_new(vouch_ctx *ctx, const struct vouch_engine_options *opts,
		     vouch_engine **ret_engine);

/** vouch_engine_free() - release an engine; NULL is accepted. Since: 0.1 */
void vouch_engine_free(vouch_engine *engine);

/**
 * vouch_engine_set_policy() - replace the policy
 * @engine: the engine
 * @policy: the policy; the engine takes ownership (also on failure)
 *
 * Every rule must be one the engine can decide: a rule with a condition it cannot evaluate
 * (fsname=, fsuuid=, obj_* and subj_* LSM labels), the hash action or func=SETXATTR_CHECK
 * (it sees no file close and no setxattr()) is refused, naming its line, and the previous
 * policy stays.  Every other keyword is enforced: appraise_type=imasig (a
 * signature), imasig|modsig (or an appended one), digest_type=verity appraise_type=sigv3
 * (only a v3 signature over the fs-verity digest; without it a v3 signature is refused),
 * appraise_flag=check_blacklist (vouch_engine_set_blacklist()), appraise_algos=.
 * Return: 0, -EINVAL, -EOPNOTSUPP.
 * Since: 0.1
 */
int vouch_engine_set_policy(vouch_engine *engine, vouch_policy *policy);

/**
 * vouch_engine_set_trust() - replace the trust store of one keyring
 * @engine: the engine
 * @keyring: enum vouch_keyring
 * @trust: the store; the engine takes ownership (also on failure)
 * Return: 0, -EINVAL.
 * Since: 0.1
 */
int vouch_engine_set_trust(vouch_engine *engine, int keyring, vouch_trust *trust);

/**
 * vouch_engine_set_blacklist() - the digests appraise_flag=check_blacklist refuses
 * @engine: the engine
 * @digests: digests (the kernel's .blacklist "bin:" entries), copied; NULL with @n 0 clears
 * @n: their number
 *
 * A rule with appraise_flag=check_blacklist denies a file whose appended-signature payload
 * digest or file digest equals one of them (compared by length and bytes, and by algorithm
 * unless an entry's algo is negative, like the kernel's "bin:" entries), with -EPERM
 * "blacklisted", however valid its signature.  Without a blacklist nothing is refused by it,
 * as with the kernel's empty .blacklist keyring.
 * Return: 0, -EINVAL, -ENOMEM.
 * Since: 0.1
 */
int vouch_engine_set_blacklist(vouch_engine *engine, const struct vouch_digest *digests,
			       size_t n);

/**
 * vouch_engine_set_mode() - the appraisal mode of a consumer
 * @engine: the engine
 * @func: enum vouch_func of the consumer, or VOUCH_FUNC_NONE for all of them
 * @mode: enum vouch_mode
 *
 * A consumer whose signature enforcement is latched stays enforcing: any other mode is
 * refused with -EROFS (for VOUCH_FUNC_NONE, nothing is changed then).
 * Return: 0, -EINVAL, -EROFS.
 * Since: 0.1
 */
int vouch_engine_set_mode(vouch_engine *engine, int func, int mode);

/** vouch_engine_get_mode() - enum vouch_mode of a consumer, or -EINVAL. Since: 0.1 */
int vouch_engine_get_mode(const vouch_engine *engine, int func);

/**
 * vouch_engine_set_sig_enforce() - the one-way signature enforcement switch (sig_enforce)
 * @engine: the engine
 * @func: enum vouch_func of the consumer, or VOUCH_FUNC_NONE for all of them
 * @enforce: true latches enforcement on; false is refused once it is on
 *
 * Once on, every load of that consumer needs a valid signature from the trust stores and
 * is denied otherwise, whatever the policy and the mode say, for the lifetime of the state
 * directory (the latch is made durable before this returns).  The first latch pins the
 * trust stores and the xattr name in use (copied into the state): latched consumers are
 * appraised with those, never with later vouch_engine_set_trust() stores, and an engine
 * opened on the state with another &vouch_engine_options.xattr_name fails with -EROFS.
 * Return: 0; -EROFS (turning a latched consumer off); -EINVAL; I/O errors.
 * Since: 0.1
 */
int vouch_engine_set_sig_enforce(vouch_engine *engine, int func, bool enforce);

/** vouch_engine_get_sig_enforce() - whether @func is latched. Since: 0.1 */
bool vouch_engine_get_sig_enforce(const vouch_engine *engine, int func);

/**
 * struct vouch_engine_event - one audit record
 * @func: enum vouch_func of the hook
 * @action: "measure", "appraise", "audit", "deny", "recover"
 * @name: file name or buffer description
 * @result: 0, or the negative verdict code of the check
 * @reason: short text ("ok", "unsigned", "bad signature", "unknown key", ...)
 * @mode: enum vouch_mode that applied
 * @rule: 1-based policy rule index that decided, 0 if none (latch)
 * @digest: the measured digest (len 0 when not computed)
 */
struct vouch_engine_event {
	int func;
	const char *action;
	const char *name;
	int result;
	const char *reason;
	int mode;
	unsigned rule;
	const struct vouch_digest *digest;
};

/**
 * vouch_engine_set_audit_fn() - install the audit callback (none by default)
 * Since: 0.1
 */
void vouch_engine_set_audit_fn(vouch_engine *engine, vouch_engine_audit_fn fn, void *userdata);

/**
 * struct vouch_engine_result - what a hook decided
 * @actions: the policy decision (VOUCH_ACT_* bits), plus VOUCH_ACT_APPRAISE when latched
 * @measured: a new measurement was appended to the list
 * @cached: the answer came from the integrity cache (nothing was read)
 * @appraised: an appraisal ran (or its cached result was used)
 * @appraisal: 0 when the appraisal passed, else its verdict code
 * @denied: the load is refused
 * @mode: enum vouch_mode that applied
 * @digest: the digest of the bytes (len 0 when not computed)
 * @reason: short text for the appraisal outcome
 */
struct vouch_engine_result {
	uint32_t actions;
	bool measured;
	bool cached;
	bool appraised;
	int appraisal;
	bool denied;
	int mode;
	struct vouch_digest digest;
	char reason[96];
};

/**
 * vouch_engine_file_check() - FILE_CHECK, MMAP_CHECK, BPRM_CHECK or CREDS_CHECK on an fd
 * @engine: the engine
 * @func: one of those enum vouch_func values
 * @fd: the open file; read from offset 0 with pread (never re-opened by path)
 * @name: the name recorded in the list
 * @mask: VOUCH_MAY_* of the access
 * @ret_result: optional; filled in on 0 and on -EACCES
 * Return: 0 allowed; -EACCES denied; -EINVAL; I/O errors (the load must not proceed).
 * Since: 0.1
 */
int vouch_engine_file_check(vouch_engine *engine, int func, int fd, const char *name,
			    uint32_t mask, struct vouch_engine_result *ret_result);

/**
 * vouch_engine_read_file() - security_kernel_read_file(): before a kernel_read_file()
 * @engine: the engine
 * @id: enum vouch_read_id (0-6)
 * @fd: the file
 * @name: its name
 * @contents: the whole file will be handed to vouch_engine_post_read_file() (then nothing
 *            is done here); false for partial reads, which are checked here on the fd
 * @ret_result: optional
 * Return: as vouch_engine_file_check().
 * Since: 0.1
 */
int vouch_engine_read_file(vouch_engine *engine, int id, int fd, const char *name, bool contents,
			   struct vouch_engine_result *ret_result);

/**
 * vouch_engine_post_read_file() - security_kernel_post_read_file(): the bytes were read
 * @engine: the engine
 * @id: enum vouch_read_id (0-6)
 * @fd: the file they came from (xattrs, cache), or -1 (only for X509 certificates)
 * @name: its name
 * @buf: exactly the bytes handed to the consumer (these are measured and appraised)
 * @len: their number
 * @ret_result: optional
 * Return: as vouch_engine_file_check(); an empty buffer is denied when enforcing.
 * Since: 0.1
 */
int vouch_engine_post_read_file(vouch_engine *engine, int id, int fd, const char *name,
				const void *buf, size_t len, struct vouch_engine_result *ret_result);

/**
 * vouch_engine_load_data() - security_kernel_load_data(): a load without a file
 * @engine: the engine
 * @id: enum vouch_read_id
 * @contents: the buffer will be handed to vouch_engine_post_load_data()
 * @ret_result: optional
 *
 * Nothing can be checked yet; as the kernel, denies kexec_load, the firmware sysfs fallback
 * and init_module when enforcing with an appraise rule for them (init_module is allowed
 * when the module consumer's signature enforcement is latched: post_load_data checks the
 * appended signature then).
 * Return: 0, -EACCES, -EINVAL.
 * Since: 0.1
 */
int vouch_engine_load_data(vouch_engine *engine, int id, bool contents,
			   struct vouch_engine_result *ret_result);

/**
 * vouch_engine_post_load_data() - security_kernel_post_load_data(): a buffer to check
 * @engine: the engine
 * @id: enum vouch_read_id
 * @buf: the buffer
 * @len: its length
 * @desc: its description (recorded as the name)
 * @ret_result: optional
 *
 * Buffers have no xattr: appraisal uses an appended signature.  Beyond the kernel, BPF,
 * seccomp, policy and kexec command-line buffers are measured and appraised here.
 * Return: as vouch_engine_file_check().
 * Since: 0.1
 */
int vouch_engine_post_load_data(vouch_engine *engine, int id, const void *buf, size_t len,
				const char *desc, struct vouch_engine_result *ret_result);

/** vouch_engine_func_for_id() - the policy func of a read/load id, or -EINVAL. Since: 0.1 */
int vouch_engine_func_for_id(int id);

/**
 * vouch_engine_entry_count() - number of entries in the measurement list
 * Since: 0.1
 */
uint64_t vouch_engine_entry_count(const vouch_engine *engine);

/**
 * vouch_engine_get_pcr() - a software PCR value
 * @engine: the engine
 * @algo: VOUCH_HASH_SHA1 or VOUCH_HASH_SHA256
 * @pcr: 0-23
 * @ret_digest: the value
 * Return: 0, -EINVAL.
 * Since: 0.1
 */
int vouch_engine_get_pcr(const vouch_engine *engine, int algo, uint32_t pcr,
			 struct vouch_digest *ret_digest);

/**
 * vouch_engine_get_list() - the measurement list (binary_runtime_measurements format)
 * @engine: the engine
 * @ret_buf: bytes owned by the engine, valid until the next hook call
 * @ret_len: their number
 * Return: 0, -EINVAL.
 * Since: 0.1
 */
int vouch_engine_get_list(const vouch_engine *engine, const uint8_t **ret_buf, size_t *ret_len);

/**
 * vouch_engine_get_group_stats() - how the list was written since the engine started
 * @engine: the engine
 * @ret_groups: groups written and synced (one fdatasync() each)
 * @ret_entries: entries in them (the mean group size is @ret_entries / @ret_groups)
 * Return: 0, -EINVAL.
 * Since: 0.1
 */
int vouch_engine_get_group_stats(const vouch_engine *engine, uint64_t *ret_groups,
				 uint64_t *ret_entries);

/**
 * vouch_engine_verify_state() - replay the list and compare with the software PCRs
 * @engine: the engine
 *
 * With a TPM (&vouch_engine_options.tcti), its PCRs must equal the replay too.
 * Return: 0 when every PCR equals the replay; -EBADMSG otherwise; TPM errors.
 * Since: 0.1
 */
int vouch_engine_verify_state(vouch_engine *engine);

/**
 * vouch_engine_get_tcti() - the TPM the engine extends besides its software bank
 * @engine: the engine
 * Return: its TCTI string (owned by the engine), or NULL for the software bank only.
 * Since: 0.1
 */
const char *vouch_engine_get_tcti(const vouch_engine *engine);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_ENGINE_H */
