// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One-call verification of a measurement list against PCR values: template digests,
 * per-bank replay with prefix matching, boot_aggregate and signatures, all in one pass and
 * all unconditionally (STYLE.md rule 15).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "log-internal.h"

#define VERIFY_MAX_BANKS 4

/* --- what an entry is ------------------------------------------------------------------- */

#define F(x) VOUCH_LOG_FIELD_##x
/* the field layouts of file measurements: the built-in templates (ima_template.c, 6.1) */
static const struct {
	const char *what;
	size_t n;
	uint8_t ids[9];
} file_layouts[] = {
	{ "ima", 2, { F(D), F(N) } },
	{ "ima-ng", 2, { F(D_NG), F(N_NG) } },
	{ "ima-ngv2", 2, { F(D_NGV2), F(N_NG) } },
	{ "ima-sig", 3, { F(D_NG), F(N_NG), F(SIG) } },
	{ "ima-sigv2", 3, { F(D_NGV2), F(N_NG), F(SIG) } },
	{ "ima-modsig", 5, { F(D_NG), F(N_NG), F(SIG), F(D_MODSIG), F(MODSIG) } },
	{ "evm-sig", 9, { F(D_NG), F(N_NG), F(EVMSIG), F(XATTRNAMES), F(XATTRLENGTHS),
			  F(XATTRVALUES), F(IUID), F(IGID), F(IMODE) } },
};
#undef F

/* critical data events of 6.1 (ima_measure_critical_data() callers) */
static const char *const critical_data[] = {
	"kernel_version",   "selinux-state",	"selinux-policy-hash", "dm_table_load",
	"dm_device_resume", "dm_device_remove", "dm_table_clear",      "dm_target_update",
};

static bool buffer_name_ok(const char *name)
{
	if (!strcmp(name, "kexec-cmdline"))
		return true;
	/* keyrings: .ima, .builtin_trusted_keys, .platform, .machine, _ima, _evm, ... */
	if ((name[0] == '.' || name[0] == '_') && name[1] && !strchr(name, '/'))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(critical_data); i++)
		if (!strcmp(name, critical_data[i]))
			return true;
	return false;
}

static bool layout_is(const struct vouch_log_entry *e, const uint8_t *ids, size_t n)
{
	if (e->n_fields != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (e->fields[i].id != ids[i])
			return false;
	return true;
}

bool log_entry_is_boot_aggregate(const struct vouch_log_entry *e)
{
	char name[32];

	return e->index == 1 && !e->violation && vouch_log_entry_name(e, name, sizeof(name)) == 0 &&
	       !strcmp(name, "boot_aggregate");
}

int log_entry_kind(vouch_ctx *ctx, const struct vouch_log_entry *e, char *why, size_t size)
{
	static const uint8_t buf_layout[] = { VOUCH_LOG_FIELD_D_NG, VOUCH_LOG_FIELD_N_NG,
					      VOUCH_LOG_FIELD_BUF };
	char name[256];
	struct vouch_digest d, h;

	if (e->violation)
		return LOG_KIND_VIOLATION;
	for (size_t i = 0; i < ARRAY_SIZE(file_layouts); i++)
		if (layout_is(e, file_layouts[i].ids, file_layouts[i].n))
			return LOG_KIND_FILE;
	if (!layout_is(e, buf_layout, ARRAY_SIZE(buf_layout))) {
		snprintf(why, size, "template '%.64s' is neither a file measurement nor a buffer "
			 "event of the kernel", e->template_name ? e->template_name : "?");
		return LOG_KIND_UNACCEPTABLE;
	}
	/*
	 * The kernel's buffer events record the hash of the buffer they carry (for hashed
	 * critical data the buffer is itself that hash): a file measurement relabelled as a
	 * buffer event, its signature read as the buffer, cannot meet this.
	 */
	if (vouch_log_entry_digest(e, &d, NULL) < 0 ||
	    vouch_digest_buf(ctx, d.algo, e->fields[2].data, e->fields[2].len, &h) < 0 ||
	    h.len != d.len || CRYPTO_memcmp(h.bytes, d.bytes, d.len)) {
		snprintf(why, size, "a buffer event whose digest is not the hash of its buffer "
			 "(a relabelled file measurement?)");
		return LOG_KIND_UNACCEPTABLE;
	}
	if (vouch_log_entry_name(e, name, sizeof(name)) < 0 || !buffer_name_ok(name)) {
		snprintf(why, size, "a buffer event that is neither a keyring, kexec-cmdline nor "
			 "a known critical data event");
		return LOG_KIND_UNACCEPTABLE;
	}
	return LOG_KIND_BUFFER;
}

static int check_boot_aggregate(vouch_ctx *ctx, const struct vouch_log_entry *e,
				const struct vouch_log_verify_options *o,
				struct vouch_log_verify_result *res)
{
	struct vouch_digest listed, want;
	int k;

	k = vouch_log_entry_digest(e, &listed, NULL);
	if (k < 0) {
		ctx_err(ctx, -EKEYREJECTED, "entry %llu: boot_aggregate carries no digest",
			(unsigned long long)e->index);
		return -EKEYREJECTED;
	}
	res->boot_aggregate_algo = listed.algo;
	for (size_t i = 0; i < o->n_banks; i++) {
		if (o->banks[i].algo != listed.algo)
			continue;
		k = vouch_log_boot_aggregate(ctx, &o->banks[i], &want);
		if (k < 0)
			return k;
		if (want.len != listed.len || CRYPTO_memcmp(want.bytes, listed.bytes, want.len))
			return ctx_err(ctx, -EKEYREJECTED,
				       "entry %llu: boot_aggregate does not match PCRs 0-%d of the "
				       "%s bank",
				       (unsigned long long)e->index,
				       listed.algo == VOUCH_HASH_SHA1 ? 7 : 9,
				       vouch_hash_info(listed.algo)->name);
		return 0;
	}
	return ctx_err(ctx, -ENODATA, "the boot_aggregate is a %s digest but no %s PCR values "
		       "were given", vouch_hash_info(listed.algo)->name,
		       vouch_hash_info(listed.algo)->name);
}

static int padded_pass(vouch_ctx *ctx, vouch_log_reader *reader,
		       const struct vouch_log_verify_options *o, uint32_t mask,
		       const uint32_t *watch, struct vouch_log_verify_result *res)
{
	int algos[VERIFY_MAX_BANKS], modes[VERIFY_MAX_BANKS];
	size_t idx[VERIFY_MAX_BANKS], n = 0;
	unsigned low = (unsigned)__builtin_ctz(mask);
	vouch_log_replay *rp = NULL;
	struct vouch_log_entry e;
	int k;

	for (size_t i = 0; i < res->n_banks; i++)
		if (res->banks[i].matched_at == UINT64_MAX && res->banks[i].algo != VOUCH_HASH_SHA1) {
			idx[n] = i;
			algos[n] = res->banks[i].algo;
			modes[n++] = VOUCH_LOG_BANK_PADDED;
		}
	if (n == 0)
		return 0;
	k = vouch_log_replay_new(ctx, algos, modes, n, &rp);
	for (size_t i = 0; k >= 0 && i < o->n_banks; i++)
		for (size_t j = 0; j < n; j++)
			if (o->banks[i].algo == algos[j])
				k = vouch_log_replay_set_target(rp, &o->banks[i], watch[i]);
	if (k < 0)
		goto out;
	reader_rewind(reader);
	while ((k = vouch_log_next(reader, &e)) > 0) {
		k = vouch_log_replay_add(rp, &e);
		if (k < 0 && k != -EKEYREJECTED) /* already reported by the first pass */
			goto out;
	}
	if (k < 0)
		goto out;
	for (size_t j = 0; j < n; j++) {
		struct vouch_log_bank_result *b = &res->banks[idx[j]];
		uint64_t at;

		replay_bank_info(rp, algos[j], VOUCH_LOG_BANK_PADDED, low, &at, NULL);
		if (at != UINT64_MAX) {
			b->mode = VOUCH_LOG_BANK_PADDED;
			b->matched_at = at;
			replay_bank_info(rp, algos[j], VOUCH_LOG_BANK_PADDED, low, NULL, &b->replayed);
		}
	}
out:
	vouch_log_replay_free(rp);
	return k;
}

/* --- the verification, in stages ----------------------------------------------------- */

/* One run of vouch_log_verify(): what its stages share. */
struct verify_run {
	vouch_ctx *ctx;
	vouch_log_reader *reader;
	const struct vouch_log_verify_options *o;
	vouch_log_replay *rp;
	struct vouch_log_verify_result res;
	uint32_t mask, attested, watch[VERIFY_MAX_BANKS];
	int first_err;
	bool saw_boot;
	char msg[VOUCH_ERRMSG_SIZE];  /* the first entry that broke the replay */
	char bmsg[VOUCH_ERRMSG_SIZE]; /* the boot_aggregate's failure */
	char smsg[256];		      /* the first entry refused for its signature or PCR */
};

static int check_options(vouch_ctx *ctx, const struct vouch_log_verify_options *o)
{
	if (o->version != 1 || o->reserved1 || !o->banks || o->n_banks == 0 ||
	    o->n_banks > VERIFY_MAX_BANKS ||
	    (o->flags & ~(VOUCH_LOG_VERIFY_REQUIRE_SIGS | VOUCH_LOG_VERIFY_NO_BOOT_AGGREGATE)))
		return ctx_err(ctx, -EINVAL, "invalid list verification options");
	if (check_reserved(ctx, o->reserved, sizeof(o->reserved),
			   "reserved verification options must be zero") < 0)
		return -EINVAL;
	return 0;
}

/*
 * Every entry is replayed into the PCR it names; each PCR the list extends and a bank
 * has a value for is compared with that value, so no entry outside PCR 10 escapes the
 * replay.  Entries of PCRs without a value are not attested (res.unverified).  A first
 * pass learns which PCRs the list names; then the replay is set up with its targets.
 */
static int start_replay(struct verify_run *v)
{
	const struct vouch_log_verify_options *o = v->o;
	int algos[VERIFY_MAX_BANKS], modes[VERIFY_MAX_BANKS];
	struct vouch_log_entry e;
	uint32_t named = 0;
	size_t n = 0;
	int k;

	v->mask = o->pcr_mask ? o->pcr_mask : 1u << 10;
	while ((k = vouch_log_next(v->reader, &e)) > 0)
		named |= 1u << e.pcr; /* the reader refuses PCRs >= VOUCH_PCR_COUNT */
	if (k < 0)
		return k;
	reader_rewind(v->reader);
	v->res.failed_bank = -1;
	v->res.boot_aggregate_algo = -1;
	v->res.boot_aggregate = (o->flags & VOUCH_LOG_VERIFY_NO_BOOT_AGGREGATE) ? 1 : -EKEYREJECTED;
	for (size_t i = 0; i < o->n_banks; i++) {
		for (size_t j = 0; j < i; j++)
			if (o->banks[j].algo == o->banks[i].algo)
				return ctx_err(v->ctx, -EINVAL, "PCR values for bank %s given twice",
					       vouch_hash_info(o->banks[i].algo)->name);
		algos[n] = o->banks[i].algo;
		modes[n++] = VOUCH_LOG_BANK_HASHED;
	}
	k = vouch_log_replay_new(v->ctx, algos, modes, n, &v->rp);
	for (size_t i = 0; i < o->n_banks && k >= 0; i++) {
		v->watch[i] = v->mask | (named & o->banks[i].present);
		v->attested |= v->watch[i];
		k = vouch_log_replay_set_target(v->rp, &o->banks[i], v->watch[i]);
	}
	return k;
}

/*
 * With a trust store: what the entry is and whether its signature verifies (*@verdict);
 * under VOUCH_LOG_VERIFY_REQUIRE_SIGS an entry that is not attested turns @status into
 * -EKEYREJECTED.  The template name is the attacker's label (not in the template digest):
 * what an entry is comes from its fields (log_entry_kind()).  A file measurement must
 * carry a signature that verifies; the kernel's buffer events carry none; boot_aggregate
 * is checked against PCRs 0-9 and violations carry no data.
 */
static int judge_entry(struct verify_run *v, const struct vouch_log_entry *e, bool bound,
		       int *verdict, int *status)
{
	const struct vouch_log_verify_options *o = v->o;
	char why[160] = "";
	int kind = log_entry_kind(v->ctx, e, why, sizeof(why)), k;

	if (kind == LOG_KIND_FILE) {
		k = vouch_log_entry_verify_sig(v->ctx, o->trust, o->cache, e, verdict);
		if (k < 0)
			return k;
	} else if (kind == LOG_KIND_UNACCEPTABLE) {
		*verdict = VOUCH_LOG_SIG_UNSUPPORTED;
		v->res.unacceptable++;
	} else if (kind == LOG_KIND_BUFFER) {
		v->res.buffers++;
	}
	v->res.sigs[*verdict]++;
	if (kind == LOG_KIND_FILE && log_entry_is_boot_aggregate(e))
		; /* checked against PCRs 0-9 */
	else if (kind == LOG_KIND_FILE && *verdict != VOUCH_LOG_SIG_VERIFIED)
		snprintf(why, sizeof(why), "signature %s", vouch_log_sig_verdict_name(*verdict));
	else if (kind != LOG_KIND_UNACCEPTABLE)
		why[0] = '\0';
	if (!why[0] && !bound && kind != LOG_KIND_VIOLATION && !log_entry_is_boot_aggregate(e))
		snprintf(why, sizeof(why), "extended into PCR %u, which has no given "
			 "value: not attested", e->pcr);
	if ((o->flags & VOUCH_LOG_VERIFY_REQUIRE_SIGS) && why[0]) {
		if (!*status)
			*status = -EKEYREJECTED;
		if (!v->smsg[0])
			snprintf(v->smsg, sizeof(v->smsg), "entry %llu: %s",
				 (unsigned long long)e->index, why);
	}
	return 0;
}

/* The one pass over the entries: replay, boot_aggregate, signatures, the caller's hook. */
static int replay_entries(struct verify_run *v)
{
	const struct vouch_log_verify_options *o = v->o;
	struct vouch_log_entry e;
	int k;

	while ((k = vouch_log_next(v->reader, &e)) > 0) {
		int verdict = VOUCH_LOG_SIG_NONE, status;
		bool bound = v->attested >> e.pcr & 1;

		status = vouch_log_replay_add(v->rp, &e);
		if (status == -EKEYREJECTED) {
			if (!v->res.failed_entry) {
				v->res.failed_entry = e.index;
				snprintf(v->msg, sizeof(v->msg), "%s", vouch_ctx_last_error(v->ctx));
			}
			v->first_err = v->first_err ? v->first_err : status;
		} else if (status < 0) {
			return status;
		}
		if (!bound)
			v->res.unverified++;
		if (!v->saw_boot && log_entry_is_boot_aggregate(&e)) {
			v->saw_boot = true;
			if (!(o->flags & VOUCH_LOG_VERIFY_NO_BOOT_AGGREGATE)) {
				v->res.boot_aggregate = check_boot_aggregate(v->ctx, &e, o, &v->res);
				if (v->res.boot_aggregate < 0) {
					snprintf(v->bmsg, sizeof(v->bmsg), "%s",
						 vouch_ctx_last_error(v->ctx));
					if (!status)
						status = v->res.boot_aggregate;
				}
			}
		}
		if (o->trust) {
			k = judge_entry(v, &e, bound, &verdict, &status);
			if (k < 0)
				return k;
		}
		if (o->on_entry)
			o->on_entry(o->userdata, &e, verdict, status);
	}
	return k;
}

/* Where each bank matched (hashed, else zero-padded SHA-1) and how far the list is covered. */
static int bank_results(struct verify_run *v)
{
	const struct vouch_log_verify_options *o = v->o;
	struct vouch_log_verify_result *res = &v->res;
	unsigned low = (unsigned)__builtin_ctz(v->mask);
	int k;

	vouch_log_replay_count(v->rp, &res->entries, &res->violations);
	res->covered = res->entries;
	res->n_banks = o->n_banks;
	for (size_t i = 0; i < o->n_banks; i++) {
		struct vouch_log_bank_result *b = &res->banks[i];

		b->algo = o->banks[i].algo;
		b->mode = VOUCH_LOG_BANK_HASHED;
		replay_bank_info(v->rp, b->algo, VOUCH_LOG_BANK_HASHED, low, &b->matched_at,
				 &b->replayed);
	}
	/*
	 * A bank the kernel could not hash with holds zero-padded SHA-1 digests (§5.6): replay
	 * the banks that matched nothing a second time that way.  A second pass instead of a
	 * twin in the first keeps the common case at one replay per bank.
	 */
	k = padded_pass(v->ctx, v->reader, o, v->mask, v->watch, res);
	if (k < 0)
		return k;
	for (size_t i = 0; i < o->n_banks; i++) {
		struct vouch_log_bank_result *b = &res->banks[i];

		if (b->matched_at == UINT64_MAX) {
			if (res->failed_bank < 0) {
				res->failed_bank = b->algo;
				if (!res->failed_entry)
					res->failed_entry = res->entries ? 1 : 0;
			}
			res->covered = 0;
			continue;
		}
		if (b->matched_at < res->covered)
			res->covered = b->matched_at;
	}
	return 0;
}

/* The verdict, with the message of the weightiest failure. */
static int final_verdict(struct verify_run *v)
{
	const struct vouch_log_verify_result *res = &v->res;
	vouch_ctx *ctx = v->ctx;

	if (!v->saw_boot && !(v->o->flags & VOUCH_LOG_VERIFY_NO_BOOT_AGGREGATE))
		snprintf(v->bmsg, sizeof(v->bmsg), "the list has no boot_aggregate entry");
	if (res->failed_bank >= 0)
		return ctx_err(ctx, -EKEYREJECTED,
			       "%s: no prefix of the %llu entries replays to the PCR values; %s",
			       vouch_hash_info(res->failed_bank)->name,
			       (unsigned long long)res->entries,
			       v->msg[0] ? v->msg : "no entry from the first on can be attested");
	if (v->first_err)
		return ctx_err(ctx, -EKEYREJECTED, "%s", v->msg);
	if (res->boot_aggregate < 0 && res->boot_aggregate != -ENODATA)
		return ctx_err(ctx, -EKEYREJECTED, "%s", v->bmsg);
	if (v->smsg[0])
		return ctx_err(ctx, -EKEYREJECTED, "%s", v->smsg);
	if (res->boot_aggregate == -ENODATA)
		return ctx_err(ctx, -ENODATA, "%s", v->bmsg);
	return 0;
}

VOUCH_EXPORT int vouch_log_verify(vouch_ctx *ctx, vouch_log_reader *reader,
				  const struct vouch_log_verify_options *o,
				  struct vouch_log_verify_result *ret_result)
{
	struct verify_run v = { .ctx = ctx, .reader = reader, .o = o };
	int k;

	if (!ctx || !reader || !o || !ret_result)
		return -EINVAL;
	k = check_options(ctx, o);
	if (k < 0)
		return k;
	k = start_replay(&v);
	if (k >= 0)
		k = replay_entries(&v);
	if (k >= 0)
		k = bank_results(&v);
	if (k >= 0) {
		k = final_verdict(&v);
		*ret_result = v.res;
	}
	vouch_log_replay_free(v.rp);
	return k;
}
