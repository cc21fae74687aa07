// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TPM 2.0 backend through tss2 ESYS (3.x): PCR read/extend, attestation keys, quotes.
 * The TPM's answers are re-parsed by our own parsers (quote.c) before anything trusts them.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdlib.h>

#include "internal.h"
#include "quote-internal.h"

#include <vouch/credential.h>

#ifdef VOUCH_HAVE_TSS2

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

struct vouch_tpm {
	vouch_ctx *ctx;
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
};

/* TSS2_RC -> errno; the message carries tss2's decoded text */
static int tpm_err(vouch_ctx *ctx, TSS2_RC rc, const char *what)
{
	TSS2_RC base = rc & ~TSS2_RC_LAYER_MASK;
	TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;
	int err = -EIO;

	if (layer == TSS2_TPM_RC_LAYER || layer == TSS2_RESMGR_TPM_RC_LAYER) {
		TSS2_RC code = (base & TPM2_RC_FMT1) ? (base & (TPM2_RC_FMT1 | 0x3f)) : base;

		switch (code) {
		case TPM2_RC_NV_DEFINED:
			err = -EEXIST;
			break;
		case TPM2_RC_HANDLE:
			err = -ENOENT;
			break;
		case TPM2_RC_AUTH_FAIL:
		case TPM2_RC_BAD_AUTH:
		case TPM2_RC_LOCALITY:
			err = -EACCES;
			break;
		case TPM2_RC_LOCKOUT:
			err = -EBUSY;
			break;
		case TPM2_RC_RETRY:
		case TPM2_RC_YIELDED:
		case TPM2_RC_TESTING:
			err = -EAGAIN;
			break;
		case TPM2_RC_OBJECT_MEMORY:
		case TPM2_RC_SESSION_MEMORY:
		case TPM2_RC_MEMORY:
		case TPM2_RC_NV_SPACE:
			err = -ENOSPC;
			break;
		case TPM2_RC_VALUE:
		case TPM2_RC_SCHEME:
		case TPM2_RC_HASH:
		case TPM2_RC_SIZE:
		case TPM2_RC_SYMMETRIC:
		case TPM2_RC_KEY_SIZE:
		case TPM2_RC_CURVE:
		case TPM2_RC_ATTRIBUTES:
		case TPM2_RC_PCR:
			err = -EINVAL;
			break;
		default:
			err = -EIO;
		}
	} else if (base == TSS2_BASE_RC_NO_CONNECTION || base == TSS2_BASE_RC_IO_ERROR) {
		err = -ECONNREFUSED;
	} else if (base == TSS2_BASE_RC_MEMORY) {
		err = -ENOMEM;
	} else if (base == TSS2_BASE_RC_NOT_IMPLEMENTED || base == TSS2_BASE_RC_NOT_SUPPORTED) {
		err = -EOPNOTSUPP;
	}
	return ctx_err(ctx, err, "TPM: %s: %s (0x%x)", what, Tss2_RC_Decode(rc), rc);
}

VOUCH_EXPORT int vouch_tpm_open(vouch_ctx *ctx, const char *tcti, vouch_tpm **ret_tpm)
{
	vouch_tpm *t;
	TSS2_RC rc;

	if (!ctx || !ret_tpm)
		return -EINVAL;
	/* tss2 3.x reads TSS2_LOG on first use; there is no API to silence it (see tpm.h) */
	setenv("TSS2_LOG", "all+NONE", 0);
	t = mem_zalloc(sizeof(*t));
	if (!t)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	t->ctx = ctx;
	if (!tcti)
		tcti = VOUCH_TPM_DEFAULT_TCTI;
	rc = Tss2_TctiLdr_Initialize(tcti, &t->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		free(t);
		return ctx_err(ctx, (rc & ~TSS2_RC_LAYER_MASK) == TSS2_BASE_RC_NOT_SUPPORTED ? -ENODEV
											 : -ECONNREFUSED,
			       "cannot connect to the TPM at '%s': %s", tcti, Tss2_RC_Decode(rc));
	}
	rc = Esys_Initialize(&t->esys, t->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		int r = tpm_err(ctx, rc, "initialize");

		Tss2_TctiLdr_Finalize(&t->tcti);
		free(t);
		return r;
	}
	*ret_tpm = t;
	return 0;
}

VOUCH_EXPORT void vouch_tpm_close(vouch_tpm *tpm)
{
	if (!tpm)
		return;
	if (tpm->esys)
		Esys_Finalize(&tpm->esys);
	if (tpm->tcti)
		Tss2_TctiLdr_Finalize(&tpm->tcti);
	free(tpm);
}

VOUCH_EXPORT int vouch_tpm_get_banks(vouch_tpm *tpm, int *ret_algos, size_t size, size_t *ret_n)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more;
	size_t n = 0;
	TSS2_RC rc;

	if (!tpm || !ret_algos || !ret_n)
		return -EINVAL;
	rc = Esys_GetCapability(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS,
				0, 1, &more, &cap);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_err(tpm->ctx, rc, "get the PCR banks");
	for (uint32_t i = 0; i < cap->data.assignedPCR.count && i < TPM2_NUM_PCR_BANKS; i++) {
		const TPMS_PCR_SELECTION *s = &cap->data.assignedPCR.pcrSelections[i];
		bool active = false;
		int algo = vouch_hash_by_tpm_alg(s->hash);

		for (unsigned k = 0; k < s->sizeofSelect && k < TPM2_PCR_SELECT_MAX; k++)
			active |= s->pcrSelect[k] != 0;
		if (active && algo >= 0 && n < size)
			ret_algos[n++] = algo;
	}
	Esys_Free(cap);
	*ret_n = n;
	return 0;
}

static void to_tpml(const struct vouch_pcrs *p, TPML_PCR_SELECTION *sel)
{
	memset(sel, 0, sizeof(*sel));
	sel->count = p->n_banks;
	for (uint32_t i = 0; i < p->n_banks; i++) {
		sel->pcrSelections[i].hash = vouch_hash_info(p->banks[i].algo)->tpm_alg;
		sel->pcrSelections[i].sizeofSelect = 3;
		sel->pcrSelections[i].pcrSelect[0] = (uint8_t)p->banks[i].present;
		sel->pcrSelections[i].pcrSelect[1] = (uint8_t)(p->banks[i].present >> 8);
		sel->pcrSelections[i].pcrSelect[2] = (uint8_t)(p->banks[i].present >> 16);
	}
}

static int check_selection(vouch_ctx *ctx, const struct vouch_pcrs *p)
{
	if (!p->n_banks || p->n_banks > TPM2_NUM_PCR_BANKS)
		return ctx_err(ctx, -EINVAL, "invalid PCR selection");
	for (uint32_t i = 0; i < p->n_banks; i++)
		if (!vouch_hash_info(p->banks[i].algo) || !vouch_hash_info(p->banks[i].algo)->tpm_alg ||
		    !p->banks[i].present || p->banks[i].present >> VOUCH_PCR_COUNT)
			return ctx_err(ctx, -EINVAL, "invalid PCR selection");
	return 0;
}

VOUCH_EXPORT int vouch_tpm_pcr_read(vouch_tpm *tpm, struct vouch_pcrs *pcrs)
{
	uint32_t left[VOUCH_PCR_MAX_BANKS];
	int r;

	if (!tpm || !pcrs)
		return -EINVAL;
	r = check_selection(tpm->ctx, pcrs);
	if (r < 0)
		return r;
	for (uint32_t b = 0; b < pcrs->n_banks; b++)
		left[b] = pcrs->banks[b].present;
	/* TPM2_PCR_Read returns at most 8 digests: ask again for what is left */
	for (int round = 0; round < 3 * VOUCH_PCR_COUNT; round++) {
		struct vouch_pcrs want = *pcrs;
		TPML_PCR_SELECTION sel, *out = NULL;
		TPML_DIGEST *vals = NULL;
		uint32_t counter, k = 0, n_left = 0;
		TSS2_RC rc;

		for (uint32_t b = 0; b < pcrs->n_banks; b++) {
			want.banks[b].present = left[b];
			n_left += left[b] != 0;
		}
		if (!n_left)
			return 0;
		/* banks with nothing left are sent with an empty mask */
		to_tpml(&want, &sel);
		rc = Esys_PCR_Read(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel,
				   &counter, &out, &vals);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_err(tpm->ctx, rc, "read PCRs");
		for (uint32_t i = 0; i < out->count; i++) {
			const TPMS_PCR_SELECTION *s = &out->pcrSelections[i];
			int algo = vouch_hash_by_tpm_alg(s->hash);
			uint32_t b;

			for (b = 0; b < pcrs->n_banks && pcrs->banks[b].algo != algo; b++)
				;
			for (unsigned pcr = 0; pcr < VOUCH_PCR_COUNT; pcr++) {
				if (pcr / 8 >= s->sizeofSelect || !(s->pcrSelect[pcr / 8] & (1U << (pcr % 8))))
					continue;
				if (b == pcrs->n_banks || k >= vals->count ||
				    vals->digests[k].size != vouch_hash_info(algo)->size) {
					Esys_Free(out);
					Esys_Free(vals);
					return ctx_err(tpm->ctx, -EIO, "TPM: unexpected PCR_Read answer");
				}
				memcpy(pcrs->banks[b].pcr[pcr], vals->digests[k].buffer,
				       vals->digests[k].size);
				left[b] &= ~(1U << pcr);
				k++;
			}
		}
		Esys_Free(out);
		Esys_Free(vals);
		if (k == 0)
			return ctx_err(tpm->ctx, -EINVAL, "TPM: a selected PCR bank is not active");
	}
	return ctx_err(tpm->ctx, -EIO, "TPM: PCR_Read does not make progress");
}

VOUCH_EXPORT int vouch_tpm_pcr_extend(vouch_tpm *tpm, uint32_t pcr,
				      const struct vouch_digest *digests, size_t n)
{
	TPML_DIGEST_VALUES v = { 0 };
	TSS2_RC rc;

	if (!tpm || !digests || !n || n > TPM2_NUM_PCR_BANKS || pcr >= VOUCH_PCR_COUNT)
		return -EINVAL;
	v.count = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		const struct vouch_hash_info *hi = vouch_hash_info(digests[i].algo);

		if (!hi || !hi->tpm_alg || digests[i].len != hi->size)
			return ctx_err(tpm->ctx, -EINVAL, "invalid digest for PCR %u", pcr);
		v.digests[i].hashAlg = hi->tpm_alg;
		memcpy(&v.digests[i].digest, digests[i].bytes, hi->size);
	}
	rc = Esys_PCR_Extend(tpm->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			     ESYS_TR_NONE, &v);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_err(tpm->ctx, rc, "extend PCR");
	return 0;
}

static int ak_from_public(vouch_tpm *tpm, const TPM2B_PUBLIC *pub, vouch_ak **ret)
{
	uint8_t buf[sizeof(TPM2B_PUBLIC) + 16];
	size_t off = 0;
	TSS2_RC rc;

	rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_err(tpm->ctx, rc, "encode the public area");
	return vouch_ak_load_mem(tpm->ctx, buf, off, ret);
}

/* the attributes of every AK vouch_tpm_ak_create() makes (and the only ones it evicts) */
#define VOUCH_AK_ATTRIBUTES                                                                        \
	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |        \
	 TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT)

static bool persistent_handle(uint32_t h)
{
	return h >= 0x81000000U && h <= 0x81ffffffU;
}

VOUCH_EXPORT int vouch_tpm_ak_create(vouch_tpm *tpm, const struct vouch_tpm_ak_options *opts,
				     vouch_ak **ret_ak)
{
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_PUBLIC tmpl = { 0 }, *out_pub = NULL;
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION creation_pcr = { 0 };
	TPM2B_CREATION_DATA *cdata = NULL;
	TPM2B_DIGEST *chash = NULL;
	TPMT_TK_CREATION *ticket = NULL;
	ESYS_TR obj = ESYS_TR_NONE, persisted = ESYS_TR_NONE, hier;
	const struct vouch_hash_info *hi;
	vouch_ak *ak = NULL;
	TSS2_RC rc;
	int r;

	if (!tpm || !opts || opts->version != 1 || !persistent_handle(opts->handle))
		return tpm ? ctx_err(tpm->ctx, -EINVAL, "invalid AK options (handle 0x81xxxxxx)")
			   : -EINVAL;
	if (check_reserved(tpm->ctx, opts->reserved, sizeof(opts->reserved),
			   "reserved option fields must be zero") < 0)
		return -EINVAL;
	hi = vouch_hash_info(opts->hash);
	if (!hi || (opts->hash != VOUCH_HASH_SHA256 && opts->hash != VOUCH_HASH_SHA384 &&
		    opts->hash != VOUCH_HASH_SHA512))
		return ctx_err(tpm->ctx, -EINVAL, "AK hash must be sha256, sha384 or sha512");
	switch (opts->hierarchy) {
	case 0:
	case VOUCH_TPM_HIERARCHY_OWNER:
		hier = ESYS_TR_RH_OWNER;
		break;
	case VOUCH_TPM_HIERARCHY_ENDORSEMENT:
		hier = ESYS_TR_RH_ENDORSEMENT;
		break;
	default:
		return ctx_err(tpm->ctx, -EINVAL, "unknown hierarchy");
	}
	tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
	tmpl.publicArea.objectAttributes = VOUCH_AK_ATTRIBUTES;
	switch (opts->scheme) {
	case 0:
	case VOUCH_TPM_SCHEME_RSASSA:
	case VOUCH_TPM_SCHEME_RSAPSS:
		tmpl.publicArea.type = TPM2_ALG_RSA;
		tmpl.publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
		tmpl.publicArea.parameters.rsaDetail.scheme.scheme =
			opts->scheme == VOUCH_TPM_SCHEME_RSAPSS ? TPM2_ALG_RSAPSS : TPM2_ALG_RSASSA;
		tmpl.publicArea.parameters.rsaDetail.scheme.details.anySig.hashAlg = hi->tpm_alg;
		tmpl.publicArea.parameters.rsaDetail.keyBits = 2048;
		break;
	case VOUCH_TPM_SCHEME_ECDSA:
		tmpl.publicArea.type = TPM2_ALG_ECC;
		tmpl.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
		tmpl.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
		tmpl.publicArea.parameters.eccDetail.scheme.details.anySig.hashAlg = hi->tpm_alg;
		tmpl.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		tmpl.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
		break;
	default:
		return ctx_err(tpm->ctx, -EINVAL, "unknown AK scheme");
	}
	/* a random unique field: each create makes a new key, never the same primary twice */
	if (tmpl.publicArea.type == TPM2_ALG_RSA) {
		tmpl.publicArea.unique.rsa.size = 32;
		r = RAND_bytes(tmpl.publicArea.unique.rsa.buffer, 32) == 1 ? 0 : -1;
	} else {
		tmpl.publicArea.unique.ecc.x.size = 32;
		r = RAND_bytes(tmpl.publicArea.unique.ecc.x.buffer, 32) == 1 ? 0 : -1;
	}
	if (r < 0)
		return ctx_err(tpm->ctx, -EIO, "no randomness");

	rc = Esys_TR_FromTPMPublic(tpm->esys, opts->handle, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, &persisted);
	if (rc == TSS2_RC_SUCCESS) {
		Esys_TR_Close(tpm->esys, &persisted);
		return ctx_err(tpm->ctx, -EEXIST, "TPM: handle 0x%08x is already in use",
			       opts->handle);
	}
	rc = Esys_CreatePrimary(tpm->esys, hier, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sens,
				&tmpl, &outside, &creation_pcr, &obj, &out_pub, &cdata, &chash,
				&ticket);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_err(tpm->ctx, rc, "create the attestation key");
	Esys_Free(cdata);
	Esys_Free(chash);
	Esys_Free(ticket);
	rc = Esys_EvictControl(tpm->esys, ESYS_TR_RH_OWNER, obj, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			       ESYS_TR_NONE, opts->handle, &persisted);
	Esys_FlushContext(tpm->esys, obj);
	if (rc != TSS2_RC_SUCCESS) {
		Esys_Free(out_pub);
		return tpm_err(tpm->ctx, rc, "persist the attestation key");
	}
	Esys_TR_Close(tpm->esys, &persisted);
	r = ret_ak ? ak_from_public(tpm, out_pub, &ak) : 0;
	Esys_Free(out_pub);
	if (r < 0)
		return r;
	if (ret_ak)
		*ret_ak = ak;
	return 0;
}

static int open_handle(vouch_tpm *tpm, uint32_t handle, ESYS_TR *ret)
{
	TSS2_RC rc;

	if (!persistent_handle(handle))
		return ctx_err(tpm->ctx, -EINVAL, "0x%08x is not a persistent handle", handle);
	rc = Esys_TR_FromTPMPublic(tpm->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ret);
	if (rc != TSS2_RC_SUCCESS) {
		tpm_err(tpm->ctx, rc, "open the key");
		return ctx_err(tpm->ctx, -ENOENT, "TPM: no key at handle 0x%08x", handle);
	}
	return 0;
}

/* TPM2_ReadPublic of @tr: its public area in @ret_pub (Esys_Free()) */
static TSS2_RC read_public(vouch_tpm *tpm, ESYS_TR tr, TPM2B_PUBLIC **ret_pub)
{
	TPM2B_NAME *name = NULL, *qname = NULL;
	TSS2_RC rc = Esys_ReadPublic(tpm->esys, tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ret_pub,
				     &name, &qname);

	Esys_Free(name);
	Esys_Free(qname);
	return rc;
}

VOUCH_EXPORT int vouch_tpm_ak_load(vouch_tpm *tpm, uint32_t handle, vouch_ak **ret_ak)
{
	TPM2B_PUBLIC *pub = NULL;
	ESYS_TR tr;
	TSS2_RC rc;
	int r;

	if (!tpm || !ret_ak)
		return -EINVAL;
	r = open_handle(tpm, handle, &tr);
	if (r < 0)
		return r;
	rc = read_public(tpm, tr, &pub);
	Esys_TR_Close(tpm->esys, &tr);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_err(tpm->ctx, rc, "read the public key");
	r = ak_from_public(tpm, pub, ret_ak);
	Esys_Free(pub);
	return r;
}

VOUCH_EXPORT int vouch_tpm_ak_evict(vouch_tpm *tpm, uint32_t handle)
{
	TPM2B_PUBLIC *pub = NULL;
	ESYS_TR tr, gone = ESYS_TR_NONE;
	uint32_t attrs;
	TSS2_RC rc;
	bool ours;
	int r;

	if (!tpm)
		return -EINVAL;
	r = open_handle(tpm, handle, &tr);
	if (r < 0)
		return r;
	/*
	 * Only one of vouch's AKs: a primary RSA/ECC key with exactly the attributes
	 * vouch_tpm_ak_create() gives (restricted signing, fixedTPM/fixedParent, no policy).  The
	 * EK and the SRK (restricted decrypt keys), or any other tool's key, are refused: evicting
	 * them cannot be undone.
	 */
	rc = read_public(tpm, tr, &pub);
	if (rc != TSS2_RC_SUCCESS) {
		Esys_TR_Close(tpm->esys, &tr);
		return tpm_err(tpm->ctx, rc, "read the key before evicting it");
	}
	ours = (pub->publicArea.type == TPM2_ALG_RSA || pub->publicArea.type == TPM2_ALG_ECC) &&
	       pub->publicArea.objectAttributes == VOUCH_AK_ATTRIBUTES &&
	       pub->publicArea.nameAlg == TPM2_ALG_SHA256 && pub->publicArea.authPolicy.size == 0;
	attrs = pub->publicArea.objectAttributes;
	Esys_Free(pub);
	if (!ours) {
		Esys_TR_Close(tpm->esys, &tr);
		return ctx_err(tpm->ctx, -EPERM, "TPM: the key at 0x%08x is not one of vouch's "
			       "attestation keys (attributes 0x%08x): not evicted", handle, attrs);
	}
	rc = Esys_EvictControl(tpm->esys, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			       ESYS_TR_NONE, handle, &gone);
	if (rc != TSS2_RC_SUCCESS) {
		Esys_TR_Close(tpm->esys, &tr);
		return tpm_err(tpm->ctx, rc, "evict the key");
	}
	return 0;
}

VOUCH_EXPORT int vouch_tpm_quote(vouch_tpm *tpm, uint32_t handle, const uint8_t *nonce,
				 size_t nonce_len, struct vouch_pcrs *pcrs, uint8_t **ret_attest,
				 size_t *ret_attest_len, uint8_t **ret_sig, size_t *ret_sig_len)
{
	TPM2B_DATA qd = { 0 };
	TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
	TPML_PCR_SELECTION sel;
	ESYS_TR tr;
	int r;

	if (!tpm || !nonce || !nonce_len || nonce_len > sizeof(qd.buffer) || !pcrs || !ret_attest ||
	    !ret_attest_len || !ret_sig || !ret_sig_len)
		return tpm ? ctx_err(tpm->ctx, -EINVAL, "invalid quote arguments") : -EINVAL;
	r = check_selection(tpm->ctx, pcrs);
	if (r < 0)
		return r;
	r = open_handle(tpm, handle, &tr);
	if (r < 0)
		return r;
	qd.size = (uint16_t)nonce_len;
	memcpy(qd.buffer, nonce, nonce_len);
	to_tpml(pcrs, &sel);
	for (int attempt = 0; attempt < 5; attempt++) {
		TPM2B_ATTEST *quoted = NULL;
		TPMT_SIGNATURE *sig = NULL;
		struct tpms_attest a;
		struct vouch_digest d;
		uint8_t sigbuf[sizeof(TPMT_SIGNATURE) + 16];
		size_t sig_len = 0;
		_cleanup_free_ uint8_t *concat = NULL;
		size_t concat_len;
		TSS2_RC rc;
		int algo;

		rc = Esys_Quote(tpm->esys, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qd,
				&scheme, &sel, &quoted, &sig);
		if (rc != TSS2_RC_SUCCESS) {
			Esys_TR_Close(tpm->esys, &tr);
			return tpm_err(tpm->ctx, rc, "quote");
		}
		rc = Tss2_MU_TPMT_SIGNATURE_Marshal(sig, sigbuf, sizeof(sigbuf), &sig_len);
		algo = vouch_hash_by_tpm_alg(sig->signature.any.hashAlg);
		Esys_Free(sig);
		r = rc == TSS2_RC_SUCCESS ? vouch_tpm_pcr_read(tpm, pcrs) : tpm_err(tpm->ctx, rc,
										      "encode the signature");
		if (r == 0 && (tpms_attest_parse(quoted->attestationData, quoted->size, &a) < 0 ||
			       a.type != TPM_ST_ATTEST_QUOTE || algo < 0))
			r = ctx_err(tpm->ctx, -EIO, "TPM: the quote does not parse");
		if (r == 0)
			r = pcrs_concat(pcrs, &concat, &concat_len);
		if (r == 0)
			r = vouch_digest_buf(tpm->ctx, algo, concat, concat_len, &d);
		if (r < 0) {
			Esys_Free(quoted);
			Esys_TR_Close(tpm->esys, &tr);
			return r;
		}
		if (d.len == a.pcr_digest_len && !CRYPTO_memcmp(d.bytes, a.pcr_digest, d.len)) {
			uint8_t *att = mem_dup(quoted->attestationData, quoted->size);
			uint8_t *s = mem_dup(sigbuf, sig_len);

			*ret_attest_len = quoted->size;
			Esys_Free(quoted);
			Esys_TR_Close(tpm->esys, &tr);
			if (!att || !s) {
				free(att);
				free(s);
				return ctx_err(tpm->ctx, -ENOMEM, "out of memory");
			}
			*ret_attest = att;
			*ret_sig = s;
			*ret_sig_len = sig_len;
			return 0;
		}
		Esys_Free(quoted); /* a PCR moved between quote and read: quote again */
	}
	Esys_TR_Close(tpm->esys, &tr);
	return ctx_err(tpm->ctx, -EAGAIN, "TPM: the PCRs kept changing during the quote");
}

/*
 * The TCG EK Credential Profile's RSA 2048 EK template (L-1), which tpm2_createek uses by
 * default: the same template on the same TPM gives the same key from the endorsement seed.
 */
static void ek_template_rsa(TPM2B_PUBLIC *t)
{
	/* PolicySecret(TPM_RH_ENDORSEMENT) with SHA-256 (EK Credential Profile section B.3.3) */
	static const uint8_t ek_policy[32] = {
		0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
		0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
		0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
	};

	memset(t, 0, sizeof(*t));
	t->publicArea.type = TPM2_ALG_RSA;
	t->publicArea.nameAlg = TPM2_ALG_SHA256;
	t->publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
					 TPMA_OBJECT_SENSITIVEDATAORIGIN |
					 TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED |
					 TPMA_OBJECT_DECRYPT;
	t->publicArea.authPolicy.size = sizeof(ek_policy);
	memcpy(t->publicArea.authPolicy.buffer, ek_policy, sizeof(ek_policy));
	t->publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
	t->publicArea.parameters.rsaDetail.symmetric.keyBits.aes = 128;
	t->publicArea.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
	t->publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
	t->publicArea.parameters.rsaDetail.keyBits = 2048;
	t->publicArea.parameters.rsaDetail.exponent = 0;
	t->publicArea.unique.rsa.size = 256;
}

/* the EK: a persistent one, or created from the template (then *ret_transient is true) */
static int ek_open(vouch_tpm *tpm, uint32_t ek_handle, ESYS_TR *ret, bool *ret_transient)
{
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_PUBLIC tmpl, *out_pub = NULL;
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION creation_pcr = { 0 };
	TPM2B_CREATION_DATA *cdata = NULL;
	TPM2B_DIGEST *chash = NULL;
	TPMT_TK_CREATION *ticket = NULL;
	TSS2_RC rc;

	*ret_transient = false;
	if (ek_handle)
		return open_handle(tpm, ek_handle, ret);
	ek_template_rsa(&tmpl);
	rc = Esys_CreatePrimary(tpm->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				ESYS_TR_NONE, &sens, &tmpl, &outside, &creation_pcr, ret, &out_pub,
				&cdata, &chash, &ticket);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_err(tpm->ctx, rc, "create the endorsement key");
	Esys_Free(out_pub);
	Esys_Free(cdata);
	Esys_Free(chash);
	Esys_Free(ticket);
	*ret_transient = true;
	return 0;
}

static void ek_close(vouch_tpm *tpm, ESYS_TR *ek, bool transient)
{
	if (transient)
		Esys_FlushContext(tpm->esys, *ek);
	else
		Esys_TR_Close(tpm->esys, ek);
}

VOUCH_EXPORT int vouch_tpm_ek_public(vouch_tpm *tpm, uint32_t ek_handle, uint8_t **ret_pub,
				     size_t *ret_len)
{
	uint8_t buf[sizeof(TPM2B_PUBLIC) + 16];
	TPM2B_PUBLIC *pub = NULL;
	size_t off = 0;
	bool transient;
	ESYS_TR ek;
	TSS2_RC rc;
	int r;

	if (!tpm || !ret_pub || !ret_len)
		return -EINVAL;
	r = ek_open(tpm, ek_handle, &ek, &transient);
	if (r < 0)
		return r;
	rc = read_public(tpm, ek, &pub);
	ek_close(tpm, &ek, transient);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_err(tpm->ctx, rc, "read the endorsement key");
	rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off);
	Esys_Free(pub);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_err(tpm->ctx, rc, "encode the endorsement key");
	*ret_pub = mem_dup(buf, off);
	if (!*ret_pub)
		return ctx_err(tpm->ctx, -ENOMEM, "out of memory");
	*ret_len = off;
	return 0;
}

VOUCH_EXPORT int vouch_tpm_ek_cert(vouch_tpm *tpm, uint32_t nv_index, uint8_t **ret_der,
				   size_t *ret_len)
{
	TPM2B_NV_PUBLIC *nv_pub = NULL;
	TPM2B_NAME *nv_name = NULL;
	_cleanup_free_ uint8_t *der = NULL;
	uint16_t size, off = 0;
	ESYS_TR nv;
	TSS2_RC rc;

	if (!tpm || !ret_der || !ret_len)
		return -EINVAL;
	if (!nv_index)
		nv_index = VOUCH_TPM_EK_CERT_RSA_NV;
	if ((nv_index >> 24) != 0x01)
		return ctx_err(tpm->ctx, -EINVAL, "0x%08x is not an NV index", nv_index);
	rc = Esys_TR_FromTPMPublic(tpm->esys, nv_index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   &nv);
	if (rc != TSS2_RC_SUCCESS) {
		tpm_err(tpm->ctx, rc, "open the NV index");
		return ctx_err(tpm->ctx, -ENOENT, "TPM: no EK certificate at NV index 0x%08x",
			       nv_index);
	}
	rc = Esys_NV_ReadPublic(tpm->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv_pub,
				&nv_name);
	if (rc != TSS2_RC_SUCCESS) {
		Esys_TR_Close(tpm->esys, &nv);
		return tpm_err(tpm->ctx, rc, "read the EK certificate's NV public area");
	}
	size = nv_pub->nvPublic.dataSize;
	Esys_Free(nv_pub);
	Esys_Free(nv_name);
	der = size ? mem_alloc(size) : NULL;
	if (!der) {
		Esys_TR_Close(tpm->esys, &nv);
		return ctx_err(tpm->ctx, size ? -ENOMEM : -ENOENT, "TPM: empty EK certificate");
	}
	/* the index authorizes its own reads (TPMA_NV_AUTHREAD, empty auth), in small chunks */
	while (off < size) {
		TPM2B_MAX_NV_BUFFER *data = NULL;
		uint16_t chunk = size - off > 512 ? 512 : size - off;

		rc = Esys_NV_Read(tpm->esys, nv, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
				  chunk, off, &data);
		if (rc != TSS2_RC_SUCCESS) {
			Esys_TR_Close(tpm->esys, &nv);
			return tpm_err(tpm->ctx, rc, "read the EK certificate");
		}
		if (data->size != chunk) {
			Esys_Free(data);
			Esys_TR_Close(tpm->esys, &nv);
			return ctx_err(tpm->ctx, -EIO, "TPM: short NV read");
		}
		memcpy(der + off, data->buffer, chunk);
		Esys_Free(data);
		off += chunk;
	}
	Esys_TR_Close(tpm->esys, &nv);
	*ret_der = TAKE_PTR(der);
	*ret_len = size;
	return 0;
}

VOUCH_EXPORT int vouch_credential_activate(vouch_tpm *tpm, uint32_t ak_handle,
					   uint32_t ek_handle, const uint8_t *blob,
					   size_t blob_len, const uint8_t *enc_secret,
					   size_t enc_secret_len, uint8_t **ret_secret,
					   size_t *ret_secret_len)
{
	TPM2B_ID_OBJECT id = { 0 };
	TPM2B_ENCRYPTED_SECRET sec = { 0 };
	TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_NULL };
	TPM2B_DIGEST *cert = NULL;
	TPM2B_TIMEOUT *timeout = NULL;
	TPMT_TK_AUTH *auth_ticket = NULL;
	ESYS_TR ak = ESYS_TR_NONE, ek = ESYS_TR_NONE, session = ESYS_TR_NONE;
	bool transient = false;
	size_t off = 0;
	TSS2_RC rc;
	int r;

	if (!tpm || !blob || !enc_secret || !ret_secret || !ret_secret_len)
		return -EINVAL;
	/* untrusted bytes: tss2's unmarshalers check every size against the structure */
	if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(blob, blob_len, &off, &id) != TSS2_RC_SUCCESS ||
	    off != blob_len)
		return ctx_err(tpm->ctx, -EBADMSG, "the credential blob is not a TPM2B_ID_OBJECT");
	off = 0;
	if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(enc_secret, enc_secret_len, &off, &sec) !=
		    TSS2_RC_SUCCESS ||
	    off != enc_secret_len)
		return ctx_err(tpm->ctx, -EBADMSG,
			       "the encrypted secret is not a TPM2B_ENCRYPTED_SECRET");
	r = open_handle(tpm, ak_handle, &ak);
	if (r < 0)
		return r;
	r = ek_open(tpm, ek_handle, &ek, &transient);
	if (r < 0)
		goto out;
	/* the EK's authPolicy is PolicySecret(TPM_RH_ENDORSEMENT) (EK Credential Profile B.3.3) */
	rc = Esys_StartAuthSession(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &sym,
				   TPM2_ALG_SHA256, &session);
	if (rc != TSS2_RC_SUCCESS) {
		r = tpm_err(tpm->ctx, rc, "start a policy session");
		goto out;
	}
	/* ESYS starts sessions with continueSession: clear it, so the TPM flushes it on success */
	rc = Esys_TRSess_SetAttributes(tpm->esys, session, 0, TPMA_SESSION_CONTINUESESSION);
	if (rc != TSS2_RC_SUCCESS) {
		r = tpm_err(tpm->ctx, rc, "set the session attributes");
		goto out;
	}
	rc = Esys_PolicySecret(tpm->esys, ESYS_TR_RH_ENDORSEMENT, session, ESYS_TR_PASSWORD,
			       ESYS_TR_NONE, ESYS_TR_NONE, NULL, NULL, NULL, 0, &timeout,
			       &auth_ticket);
	Esys_Free(timeout);
	Esys_Free(auth_ticket);
	if (rc != TSS2_RC_SUCCESS) {
		r = tpm_err(tpm->ctx, rc, "satisfy the EK policy (PolicySecret endorsement)");
		goto out;
	}
	rc = Esys_ActivateCredential(tpm->esys, ak, ek, ESYS_TR_PASSWORD, session, ESYS_TR_NONE,
				     &id, &sec, &cert);
	if (rc != TSS2_RC_SUCCESS) {
		TSS2_RC base = rc & ~TSS2_RC_LAYER_MASK;
		TSS2_RC code = (base & TPM2_RC_FMT1) ? (base & (TPM2_RC_FMT1 | 0x3f)) : base;

		r = tpm_err(tpm->ctx, rc, "activate the credential");
		/*
		 * TPM_RC_INTEGRITY: the HMAC over the blob and the AK's name fails (another AK,
		 * altered blob); TPM_RC_VALUE/SIZE/FAILURE of the secret: the seed does not
		 * decrypt under this EK (Part 3 section 12.5).
		 */
		if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER &&
		    (code == TPM2_RC_INTEGRITY || code == TPM2_RC_VALUE || code == TPM2_RC_SIZE ||
		     code == TPM2_RC_KEY || code == TPM2_RC_FAILURE))
			r = ctx_err(tpm->ctx, -EKEYREJECTED, "the credential is not for this AK on "
				    "this TPM's EK, or was altered: %s", Tss2_RC_Decode(rc));
		goto out; /* a failed command leaves the session loaded: flushed below */
	}
	session = ESYS_TR_NONE; /* continueSession is clear: the TPM flushed it */
	*ret_secret = mem_dup(cert->buffer, cert->size);
	*ret_secret_len = cert->size;
	OPENSSL_cleanse(cert->buffer, cert->size);
	Esys_Free(cert);
	r = *ret_secret ? 0 : ctx_err(tpm->ctx, -ENOMEM, "out of memory");
out:
	if (session != ESYS_TR_NONE)
		Esys_FlushContext(tpm->esys, session);
	if (ek != ESYS_TR_NONE)
		ek_close(tpm, &ek, transient);
	Esys_TR_Close(tpm->esys, &ak);
	OPENSSL_cleanse(&id, sizeof(id));
	OPENSSL_cleanse(&sec, sizeof(sec));
	return r;
}

#else /* !VOUCH_HAVE_TSS2 */

VOUCH_EXPORT int vouch_tpm_open(vouch_ctx *ctx, const char *tcti, vouch_tpm **ret_tpm)
{
	return ctx_err(ctx, -EOPNOTSUPP, "vouch was built without TPM support (tss2)");
}
VOUCH_EXPORT void vouch_tpm_close(vouch_tpm *tpm)
{
}
VOUCH_EXPORT int vouch_tpm_get_banks(vouch_tpm *tpm, int *ret_algos, size_t size, size_t *ret_n)
{
	return -EOPNOTSUPP;
}
VOUCH_EXPORT int vouch_tpm_pcr_read(vouch_tpm *tpm, struct vouch_pcrs *pcrs)
{
	return -EOPNOTSUPP;
}
VOUCH_EXPORT int vouch_tpm_pcr_extend(vouch_tpm *tpm, uint32_t pcr,
				      const struct vouch_digest *digests, size_t n)
{
	return -EOPNOTSUPP;
}
VOUCH_EXPORT int vouch_tpm_ak_create(vouch_tpm *tpm, const struct vouch_tpm_ak_options *opts,
				     vouch_ak **ret_ak)
{
	return -EOPNOTSUPP;
}
VOUCH_EXPORT int vouch_tpm_ak_load(vouch_tpm *tpm, uint32_t handle, vouch_ak **ret_ak)
{
	return -EOPNOTSUPP;
}
VOUCH_EXPORT int vouch_tpm_ak_evict(vouch_tpm *tpm, uint32_t handle)
{
	return -EOPNOTSUPP;
}
VOUCH_EXPORT int vouch_tpm_quote(vouch_tpm *tpm, uint32_t handle, const uint8_t *nonce,
				 size_t nonce_len, struct vouch_pcrs *pcrs, uint8_t **ret_attest,
				 size_t *ret_attest_len, uint8_t **ret_sig, size_t *ret_sig_len)
{
	return -EOPNOTSUPP;
}

VOUCH_EXPORT int vouch_tpm_ek_public(vouch_tpm *tpm, uint32_t ek_handle, uint8_t **ret_pub,
				     size_t *ret_len)
{
	return -EOPNOTSUPP;
}
VOUCH_EXPORT int vouch_tpm_ek_cert(vouch_tpm *tpm, uint32_t nv_index, uint8_t **ret_der,
				   size_t *ret_len)
{
	return -EOPNOTSUPP;
}
VOUCH_EXPORT int vouch_credential_activate(vouch_tpm *tpm, uint32_t ak_handle,
					   uint32_t ek_handle, const uint8_t *blob,
					   size_t blob_len, const uint8_t *enc_secret,
					   size_t enc_secret_len, uint8_t **ret_secret,
					   size_t *ret_secret_len)
{
	return -EOPNOTSUPP;
}

#endif
