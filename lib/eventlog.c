// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TCG PC Client firmware event log: parse (little endian, through the cursor) and replay
 * into PCR values (FORMATS.md §12.5).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <openssl/evp.h>

#include "internal.h"
#include "openssl-internal.h"
#include "quote-internal.h"

#define EV_NO_ACTION 0x3
#define EV_SEPARATOR 0x4
#define SPEC_ID_SIG "Spec ID Event03"
#define STARTUP_LOCALITY "StartupLocality"

struct spec_alg {
	uint16_t tpm_alg;
	uint16_t size;
	int algo;
};

/*
 * Which event types' digests must cover their data (TCG PC Client Platform Firmware Profile,
 * "Events" table; EDK2, SeaBIOS and canonical/tcglog-parser agree).  For these the data of
 * every record is hashed with every bank's algorithm the record carries and compared with
 * that bank's digest: the quote binds the digests, the digests bind the data.  A mismatch
 * makes the whole log untrusted.  Every other type's data is free text next to a digest of
 * something else (a firmware volume, an image, a table): it is never reported as a fact.
 *
 *   type                              digest covers                       here
 *   EV_SEPARATOR              0x04    the data (0, 0xffffffff); an error   BOUND, or unbound
 *                                     separator is the hash of 00000001    when the digest is
 *                                     with any data                        H(01 00 00 00)
 *   EV_ACTION                 0x05    the ASCII string                     BOUND
 *   EV_S_CRTM_VERSION         0x08    the version string (EDK2: UTF-16)    BOUND
 *   EV_PLATFORM_CONFIG_FLAGS  0x0a    the flags                            BOUND
 *   EV_TABLE_OF_DEVICES       0x0b    the table                            BOUND
 *   EV_NONHOST_INFO           0x11    the information                      BOUND
 *   EV_OMIT_BOOT_DEVICE_EVENTS 0x12   "BOOT ATTEMPTS OMITTED"              BOUND
 *   EV_EFI_VARIABLE_DRIVER_CONFIG     the UEFI_VARIABLE_DATA               BOUND
 *                          0x80000001
 *   EV_EFI_VARIABLE_BOOT   0x80000002 the spec: UEFI_VARIABLE_DATA; EDK2:  BOUND, or
 *                                     VariableData only                    VARIABLE_DATA
 *   EV_EFI_GPT_EVENT       0x80000006 the UEFI_GPT_DATA                    BOUND
 *   EV_EFI_ACTION          0x80000007 the ASCII string                     BOUND
 *   EV_EFI_VARIABLE_BOOT2  0x8000000c the UEFI_VARIABLE_DATA               BOUND
 *   EV_EFI_VARIABLE_AUTHORITY         the spec: UEFI_VARIABLE_DATA; some   BOUND, or
 *                          0x800000e0 firmware: the VariableData (the      VARIABLE_DATA
 *                                     certificate) only
 *   EV_NO_ACTION              0x03    never extended                       UNBOUND
 *   all others (EV_POST_CODE, EV_EVENT_TAG, EV_S_CRTM_CONTENTS, EV_CPU_MICROCODE,
 *   EV_COMPACT_HASH, EV_IPL, EV_IPL_PARTITION_DATA, EV_NONHOST_CODE/CONFIG,
 *   EV_EFI_PLATFORM_FIRMWARE_BLOB(2), EV_EFI_BOOT/RUNTIME_SERVICES_*, EV_EFI_HANDOFF_TABLES(2),
 *   EV_EFI_HCRTM_EVENT, EV_EFI_SPDM_*, vendor types)                      UNBOUND
 *
 * VARIABLE_DATA: the variable's content is bound, its name and GUID are not.
 */
enum bind_rule { RULE_NONE, RULE_DATA, RULE_SEPARATOR, RULE_VARIABLE, RULE_VARIABLE_OR_VALUE };

static const struct ev_type {
	uint32_t type;
	const char *name;
	enum bind_rule rule;
} ev_types[] = {
	{ 0x00000000, "EV_PREBOOT_CERT", RULE_NONE },
	{ 0x00000001, "EV_POST_CODE", RULE_NONE },
	{ 0x00000002, "EV_UNUSED", RULE_NONE },
	{ 0x00000003, "EV_NO_ACTION", RULE_NONE },
	{ 0x00000004, "EV_SEPARATOR", RULE_SEPARATOR },
	{ 0x00000005, "EV_ACTION", RULE_DATA },
	{ 0x00000006, "EV_EVENT_TAG", RULE_NONE },
	{ 0x00000007, "EV_S_CRTM_CONTENTS", RULE_NONE },
	{ 0x00000008, "EV_S_CRTM_VERSION", RULE_DATA },
	{ 0x00000009, "EV_CPU_MICROCODE", RULE_NONE },
	{ 0x0000000a, "EV_PLATFORM_CONFIG_FLAGS", RULE_DATA },
	{ 0x0000000b, "EV_TABLE_OF_DEVICES", RULE_DATA },
	{ 0x0000000c, "EV_COMPACT_HASH", RULE_NONE },
	{ 0x0000000d, "EV_IPL", RULE_NONE },
	{ 0x0000000e, "EV_IPL_PARTITION_DATA", RULE_NONE },
	{ 0x0000000f, "EV_NONHOST_CODE", RULE_NONE },
	{ 0x00000010, "EV_NONHOST_CONFIG", RULE_NONE },
	{ 0x00000011, "EV_NONHOST_INFO", RULE_DATA },
	{ 0x00000012, "EV_OMIT_BOOT_DEVICE_EVENTS", RULE_DATA },
	{ 0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG", RULE_DATA },
	{ 0x80000002, "EV_EFI_VARIABLE_BOOT", RULE_VARIABLE_OR_VALUE },
	{ 0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION", RULE_NONE },
	{ 0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER", RULE_NONE },
	{ 0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER", RULE_NONE },
	{ 0x80000006, "EV_EFI_GPT_EVENT", RULE_DATA },
	{ 0x80000007, "EV_EFI_ACTION", RULE_DATA },
	{ 0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB", RULE_NONE },
	{ 0x80000009, "EV_EFI_HANDOFF_TABLES", RULE_NONE },
	{ 0x8000000a, "EV_EFI_PLATFORM_FIRMWARE_BLOB2", RULE_NONE },
	{ 0x8000000b, "EV_EFI_HANDOFF_TABLES2", RULE_NONE },
	{ 0x8000000c, "EV_EFI_VARIABLE_BOOT2", RULE_DATA },
	{ 0x80000010, "EV_EFI_HCRTM_EVENT", RULE_NONE },
	{ 0x800000e0, "EV_EFI_VARIABLE_AUTHORITY", RULE_VARIABLE_OR_VALUE },
	{ 0x800000e1, "EV_EFI_SPDM_FIRMWARE_BLOB", RULE_NONE },
	{ 0x800000e2, "EV_EFI_SPDM_FIRMWARE_CONFIG", RULE_NONE },
};

static const struct ev_type *ev_type(uint32_t type)
{
	for (size_t i = 0; i < ARRAY_SIZE(ev_types); i++)
		if (ev_types[i].type == type)
			return &ev_types[i];
	return NULL;
}

VOUCH_EXPORT const char *vouch_eventlog_type_name(uint32_t type)
{
	const struct ev_type *t = ev_type(type);

	return t ? t->name : NULL;
}

/* UEFI_VARIABLE_DATA: GUID, UINT64 name length (chars), UINT64 data length, UTF-16 name,
 * data.  The VariableData part, or -EBADMSG when the structure does not fill the event. */
static int variable_data(const uint8_t *ev, size_t len, const uint8_t **ret, size_t *ret_len)
{
	struct cursor c;
	uint64_t name_len, data_len;

	cur_init(&c, ev, len);
	if (cur_skip(&c, 16) < 0 || cur_u64le(&c, &name_len) < 0 || cur_u64le(&c, &data_len) < 0 ||
	    name_len > cur_left(&c) / 2 || cur_skip(&c, name_len * 2) < 0 ||
	    data_len != cur_left(&c) || cur_bytes(&c, data_len, ret) < 0)
		return -EBADMSG;
	*ret_len = data_len;
	return 0;
}

struct record {
	uint32_t pcr, type, size;
	const uint8_t *data;
	uint32_t n_dig;
	int algo[16];		/* enum vouch_hash_algo, -1 unknown */
	const uint8_t *dig[16];
};

/* every digest of a known algorithm equals H(buf), and there is at least one */
static int all_digests_are(vouch_ctx *ctx, const struct record *r, const uint8_t *buf, size_t len,
			   bool *ret)
{
	uint32_t checked = 0;

	*ret = true;
	for (uint32_t k = 0; k < r->n_dig; k++) {
		const EVP_MD *md = r->algo[k] >= 0 ? ssl_md(ctx, r->algo[k]) : NULL;
		uint8_t h[EVP_MAX_MD_SIZE];
		unsigned h_len;

		if (!md)
			continue; /* unknown to vouch or to OpenSSL: never a requested bank */
		if (!EVP_Digest(buf, len, h, &h_len, md, NULL))
			return -EIO;
		checked++;
		if (h_len != vouch_hash_info(r->algo[k])->size || CRYPTO_memcmp(h, r->dig[k], h_len))
			*ret = false;
	}
	if (!checked)
		*ret = false;
	return 0;
}

/* which part of the record's data its digests bind; -EKEYREJECTED when they must and do not */
static int bind_record(vouch_ctx *ctx, const struct record *r, uint32_t index,
		       struct vouch_eventlog_event *ret)
{
	static const uint8_t separator_error[4] = { 1, 0, 0, 0 };
	const struct ev_type *t = ev_type(r->type);
	const uint8_t *vd;
	size_t vd_len;
	bool match;
	int e;

	ret->binding = VOUCH_EVENTLOG_UNBOUND;
	ret->bound = NULL;
	ret->bound_len = 0;
	if (r->type == EV_NO_ACTION || !t || t->rule == RULE_NONE)
		return 0;
	e = all_digests_are(ctx, r, r->data, r->size, &match);
	if (e < 0)
		return ctx_err(ctx, e, "cannot hash event %u", index);
	if (match) {
		ret->binding = VOUCH_EVENTLOG_BOUND;
		ret->bound = r->data;
		ret->bound_len = r->size;
		return 0;
	}
	if (t->rule == RULE_SEPARATOR) {
		e = all_digests_are(ctx, r, separator_error, sizeof(separator_error), &match);
		if (e < 0)
			return ctx_err(ctx, e, "cannot hash event %u", index);
		if (match)
			return 0; /* an error separator: its data is not covered */
	}
	if (t->rule == RULE_VARIABLE_OR_VALUE && variable_data(r->data, r->size, &vd, &vd_len) == 0) {
		e = all_digests_are(ctx, r, vd, vd_len, &match);
		if (e < 0)
			return ctx_err(ctx, e, "cannot hash event %u", index);
		if (match) {
			ret->binding = VOUCH_EVENTLOG_VARIABLE_DATA;
			ret->bound = vd;
			ret->bound_len = (uint32_t)vd_len;
			return 0;
		}
	}
	{
		bool any = false;

		for (uint32_t k = 0; k < r->n_dig; k++)
			any |= r->algo[k] >= 0 && ssl_md(ctx, r->algo[k]);
		if (!any)
			return 0; /* no digest vouch can check: unbound */
	}
	return ctx_err(ctx, -EKEYREJECTED,
		       "event %u (%s, PCR %u): its data is not what its digests cover", index,
		       t->name, r->pcr);
}

/* Trailing firmware padding: all zero or all 0xff. */
static bool is_padding(const struct cursor *c)
{
	const uint8_t *p = c->p;

	for (size_t i = 1; i < c->left; i++)
		if (p[i] != p[0])
			return false;
	return c->left && (p[0] == 0 || p[0] == 0xff);
}

static int extend(vouch_ctx *ctx, struct vouch_pcr_bank *b, uint32_t pcr, const uint8_t *digest)
{
	const EVP_MD *md = ssl_md(ctx, b->algo);
	size_t sz = vouch_hash_info(b->algo)->size;
	uint8_t buf[2 * VOUCH_HASH_MAX_SIZE];
	unsigned out_len;

	memcpy(buf, b->pcr[pcr], sz);
	memcpy(buf + sz, digest, sz);
	if (!md || !EVP_Digest(buf, 2 * sz, b->pcr[pcr], &out_len, md, NULL))
		return -EIO;
	b->present |= 1U << pcr;
	return 0;
}

static void startup_locality(struct vouch_pcrs *pcrs, const uint8_t *ev, size_t ev_len,
			     struct vouch_eventlog_info *info)
{
	if (ev_len < sizeof(STARTUP_LOCALITY) + 1 ||
	    memcmp(ev, STARTUP_LOCALITY, sizeof(STARTUP_LOCALITY)) != 0)
		return;
	/* only meaningful before PCR 0 is first extended; a later one cannot reset it */
	for (uint32_t b = 0; b < pcrs->n_banks; b++)
		if (pcrs->banks[b].present & 1U)
			return;
	info->startup_locality = ev[sizeof(STARTUP_LOCALITY)];
	for (uint32_t b = 0; b < pcrs->n_banks; b++) {
		size_t sz = vouch_hash_info(pcrs->banks[b].algo)->size;

		pcrs->banks[b].pcr[0][sz - 1] = info->startup_locality;
	}
}

static int parse_spec_id(vouch_ctx *ctx, const uint8_t *ev, size_t ev_len,
			 struct spec_alg *algs, uint32_t *ret_n)
{
	struct cursor c;
	uint32_t n;
	uint8_t vendor;

	cur_init(&c, ev, ev_len);
	if (cur_skip(&c, 16 + 4 + 4) < 0 || cur_u32le(&c, &n) < 0 || n == 0 || n > 16)
		return ctx_err(ctx, -EBADMSG, "malformed Spec ID event");
	for (uint32_t i = 0; i < n; i++) {
		if (cur_u16le(&c, &algs[i].tpm_alg) < 0 || cur_u16le(&c, &algs[i].size) < 0 ||
		    algs[i].size == 0 || algs[i].size > VOUCH_HASH_MAX_SIZE)
			return ctx_err(ctx, -EBADMSG, "malformed Spec ID algorithm table");
		algs[i].algo = vouch_hash_by_tpm_alg(algs[i].tpm_alg);
		if (algs[i].algo >= 0 && vouch_hash_info(algs[i].algo)->size != algs[i].size)
			return ctx_err(ctx, -EBADMSG,
				       "Spec ID gives algorithm 0x%04x a digest size of %u",
				       algs[i].tpm_alg, algs[i].size);
		for (uint32_t k = 0; k < i; k++)
			if (algs[k].tpm_alg == algs[i].tpm_alg)
				return ctx_err(ctx, -EBADMSG, "Spec ID lists 0x%04x twice",
					       algs[i].tpm_alg);
	}
	if (cur_u8(&c, &vendor) < 0 || cur_skip(&c, vendor) < 0)
		return ctx_err(ctx, -EBADMSG, "malformed Spec ID vendor info");
	*ret_n = n;
	return 0;
}

static int truncated(vouch_ctx *ctx, const struct vouch_eventlog_info *info)
{
	return ctx_err(ctx, -EBADMSG, "event log truncated or malformed at event %u",
		       info->n_events + 1);
}

/*
 * The first record: a Spec ID event names the digest algorithms of a crypto-agile log (its
 * records then follow in @c); anything else is a TPM 1.2-style log, SHA-1 only, whose first
 * record is an ordinary event (@c rewound to it).  With @out, each of its banks must be there.
 */
static int read_header(vouch_ctx *ctx, const uint8_t *log, size_t len, struct cursor *c,
		       const struct vouch_pcrs *out, struct spec_alg *algs, uint32_t *ret_n,
		       struct vouch_eventlog_info *info)
{
	uint32_t n_algs = 0, pcr, type, size;
	const uint8_t *digest, *ev;
	int r;

	cur_init(c, log, len);
	/* the header is always in the SHA-1 TCG_PCR_EVENT format */
	if (cur_u32le(c, &pcr) < 0 || cur_u32le(c, &type) < 0 || cur_bytes(c, 20, &digest) < 0 ||
	    cur_u32le(c, &size) < 0 || cur_bytes(c, size, &ev) < 0)
		return ctx_err(ctx, -EBADMSG, "event log too short for its first record");
	if (type == EV_NO_ACTION && pcr == 0 && size >= sizeof(SPEC_ID_SIG) &&
	    !memcmp(ev, SPEC_ID_SIG, sizeof(SPEC_ID_SIG))) {
		r = parse_spec_id(ctx, ev, size, algs, &n_algs);
		if (r < 0)
			return r;
		info->crypto_agile = true;
	} else {
		/* TPM 1.2-style log: SHA-1 only, the first record is an ordinary event */
		algs[0] = (struct spec_alg){ .tpm_alg = 0x0004, .size = 20, .algo = VOUCH_HASH_SHA1 };
		n_algs = 1;
		cur_init(c, log, len);
	}
	info->n_algos = n_algs;
	for (uint32_t i = 0; i < n_algs; i++)
		info->algos[i] = algs[i].algo;
	for (uint32_t b = 0; out && b < out->n_banks; b++) {
		bool found = false;

		for (uint32_t i = 0; i < n_algs; i++)
			found |= algs[i].algo == out->banks[b].algo;
		if (!found)
			return ctx_err(ctx, -ENODATA, "the event log has no %s bank",
				       vouch_hash_info(out->banks[b].algo)->name);
	}
	*ret_n = n_algs;
	return 0;
}

/* a record's digests into @rec, and into @dig those of @out's banks */
static int read_digests(vouch_ctx *ctx, struct cursor *c, const struct spec_alg *algs,
			uint32_t n_algs, const struct vouch_eventlog_info *info,
			const struct vouch_pcrs *out, const uint8_t **dig, struct record *rec)
{
	uint32_t count;

	if (!info->crypto_agile) {
		if (cur_bytes(c, 20, &dig[0]) < 0)
			return truncated(ctx, info);
		rec->algo[0] = VOUCH_HASH_SHA1;
		rec->dig[rec->n_dig++] = dig[0];
		return 0;
	}
	if (cur_u32le(c, &count) < 0 || count == 0 || count > 16)
		return truncated(ctx, info);
	for (uint32_t k = 0; k < count; k++) {
		const uint8_t *d;
		uint16_t alg;
		uint32_t i;

		if (cur_u16le(c, &alg) < 0)
			return truncated(ctx, info);
		for (i = 0; i < n_algs && algs[i].tpm_alg != alg; i++)
			;
		if (i == n_algs) {
			return ctx_err(ctx, -EBADMSG,
				       "event %u: algorithm 0x%04x is not in the Spec ID table",
				       info->n_events + 1, alg);
		}
		if (cur_bytes(c, algs[i].size, &d) < 0)
			return truncated(ctx, info);
		for (uint32_t b = 0; out && b < out->n_banks; b++)
			if (algs[i].algo == out->banks[b].algo)
				dig[b] = d;
		rec->algo[rec->n_dig] = algs[i].algo;
		rec->dig[rec->n_dig++] = d;
	}
	return 0;
}

/* replay record @rec into @out's banks, with @dig their digests */
static int replay_record(vouch_ctx *ctx, const struct record *rec, const uint8_t *const *dig,
			 struct vouch_pcrs *out, struct vouch_eventlog_info *info)
{
	int r;

	if (rec->type == EV_NO_ACTION) {
		/* never extended; its data is informational except StartupLocality */
		if (rec->pcr == 0)
			startup_locality(out, rec->data, rec->size, info);
		return 0;
	}
	for (uint32_t b = 0; b < out->n_banks; b++) {
		if (!dig[b])
			return ctx_err(ctx, -EBADMSG, "event %u lacks its %s digest", info->n_events,
				       vouch_hash_info(out->banks[b].algo)->name);
		r = extend(ctx, &out->banks[b], rec->pcr, dig[b]);
		if (r < 0)
			return ctx_err(ctx, r, "cannot compute the replay");
	}
	return 0;
}

/*
 * Parse the whole log; bind each record's data to its digests (bind_record); with @out
 * (banks set), replay it; with @fn, hand each record over.  -EKEYREJECTED for a record
 * whose data its digests must cover and do not, in any bank the record carries.
 */
static int walk(vouch_ctx *ctx, const uint8_t *log, size_t len, struct vouch_pcrs *out,
		struct vouch_eventlog_info *ret_info, vouch_eventlog_event_fn fn, void *userdata)
{
	struct vouch_eventlog_info info = { 0 };
	struct spec_alg algs[16];
	uint32_t n_algs = 0, pcr, type, size;
	const uint8_t *ev;
	struct cursor c;
	int r;

	r = read_header(ctx, log, len, &c, out, algs, &n_algs, &info);
	if (r < 0)
		return r;
	while (cur_left(&c)) {
		const uint8_t *dig[VOUCH_PCR_MAX_BANKS] = { 0 };
		struct record rec = { 0 };
		struct vouch_eventlog_event e = { 0 };

		if (is_padding(&c)) {
			info.trailing_bytes = cur_left(&c);
			break;
		}
		if (cur_u32le(&c, &pcr) < 0 || cur_u32le(&c, &type) < 0)
			return truncated(ctx, &info);
		r = read_digests(ctx, &c, algs, n_algs, &info, out, dig, &rec);
		if (r < 0)
			return r;
		if (cur_u32le(&c, &size) < 0 || cur_bytes(&c, size, &ev) < 0)
			return truncated(ctx, &info);
		info.n_events++;
		if (pcr >= VOUCH_PCR_COUNT)
			return ctx_err(ctx, -EBADMSG, "event %u: PCR index %u out of range",
				       info.n_events, pcr);
		rec.pcr = pcr;
		rec.type = type;
		rec.size = size;
		rec.data = ev;
		r = bind_record(ctx, &rec, info.n_events, &e);
		if (r < 0)
			return r;
		if (fn) {
			e.index = info.n_events;
			e.pcr = pcr;
			e.type = type;
			e.extended = type != EV_NO_ACTION;
			e.data = ev;
			e.data_len = size;
			r = fn(&e, userdata);
			if (r < 0)
				return r;
		}
		if (out) {
			r = replay_record(ctx, &rec, dig, out, &info);
			if (r < 0)
				return r;
		}
	}
	if (out && info.startup_locality)
		for (uint32_t b = 0; b < out->n_banks; b++)
			out->banks[b].present |= 1U;
	if (ret_info)
		*ret_info = info;
	return 0;
}

VOUCH_EXPORT int vouch_eventlog_replay(vouch_ctx *ctx, const uint8_t *log, size_t len,
				       struct vouch_pcrs *pcrs, struct vouch_eventlog_info *ret_info)
{
	_cleanup_free_ struct vouch_pcrs *out = NULL;
	struct vouch_eventlog_info info;
	int r;

	if (!ctx || (!log && len) || !pcrs || !pcrs->n_banks || pcrs->n_banks > VOUCH_PCR_MAX_BANKS)
		return -EINVAL;
	out = mem_zalloc(sizeof(*out));
	if (!out)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	out->n_banks = pcrs->n_banks;
	for (uint32_t b = 0; b < pcrs->n_banks; b++) {
		int algo = pcrs->banks[b].algo;

		if (!vouch_hash_info(algo))
			return -EINVAL;
		if (!ssl_md(ctx, algo))
			return ctx_err(ctx, -EOPNOTSUPP, "hash '%s' is not available",
				       vouch_hash_info(algo)->name);
		out->banks[b].algo = algo;
		for (unsigned i = 17; i <= 22; i++)
			memset(out->banks[b].pcr[i], 0xff, vouch_hash_info(algo)->size);
	}
	r = walk(ctx, log, len, out, &info, NULL, NULL);
	if (r < 0)
		return r;
	*pcrs = *out;
	if (ret_info)
		*ret_info = info;
	return 0;
}

VOUCH_EXPORT int vouch_eventlog_foreach(vouch_ctx *ctx, const uint8_t *log, size_t len,
					vouch_eventlog_event_fn fn, void *userdata)
{
	int r;

	if (!ctx || (!log && len) || !fn)
		return -EINVAL;
	/* the whole log is checked before @fn sees any of it: nothing from a bad log */
	r = walk(ctx, log, len, NULL, NULL, NULL, NULL);
	return r < 0 ? r : walk(ctx, log, len, NULL, NULL, fn, userdata);
}
