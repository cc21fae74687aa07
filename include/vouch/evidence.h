/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch: attestation evidence files (JSON, documented in man/vouch.1 "EVIDENCE FORMAT")
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_EVIDENCE_H
#define VOUCH_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include <vouch/ctx.h>
#include <vouch/quote.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct vouch_evidence - what an attester sends; nothing in it is trusted before
 * vouch_quote_verify() and the replays have checked it
 * @attest: the signed TPMS_ATTEST
 * @attest_len: its length
 * @sig: the TPMT_SIGNATURE
 * @sig_len: its length
 * @pcrs: the PCR values the quote covers (banks in selection order)
 * @ima_list: the IMA measurement list in binary_runtime_measurements form, or NULL
 * @ima_list_len: its length
 * @ima_from_entry: index of the first entry in @ima_list (0 = the whole list)
 * @eventlog: the firmware event log, or NULL
 * @eventlog_len: its length
 * @ak_name: the AK's TPM name as the attester claims it, or NULL
 * @ak_name_len: its length
 */
struct vouch_evidence {
	uint8_t *attest;
	size_t attest_len;
	uint8_t *sig;
	size_t sig_len;
	struct vouch_pcrs pcrs;
	uint8_t *ima_list;
	size_t ima_list_len;
	uint64_t ima_from_entry;
	uint8_t *eventlog;
	size_t eventlog_len;
	uint8_t *ak_name;
	size_t ak_name_len;
};

/**
 * vouch_evidence_new() - empty evidence, for an attester to fill
 * @ret_ev: the evidence, all members zero; what the caller stores in its pointer members
 *	is then the evidence's, released with it by vouch_evidence_free()
 * Return: 0, -EINVAL, -ENOMEM.
 * Since: 0.1
 */
int vouch_evidence_new(struct vouch_evidence **ret_ev);

/**
 * vouch_evidence_parse() - read an evidence document
 * @ctx: the context
 * @json: the JSON text
 * @len: its length
 * @ret_ev: the evidence, released with vouch_evidence_free()
 * Return: 0, -EBADMSG (not valid evidence), -ENOMEM.
 * Since: 0.1
 */
int vouch_evidence_parse(vouch_ctx *ctx, const char *json, size_t len,
			 struct vouch_evidence **ret_ev);

/**
 * vouch_evidence_load() - vouch_evidence_parse() on a file
 * Return: as vouch_evidence_parse(), plus the errors of open(2)/read(2).
 * Since: 0.1
 */
int vouch_evidence_load(vouch_ctx *ctx, const char *path, struct vouch_evidence **ret_ev);

/**
 * vouch_evidence_format() - write an evidence document
 * @ctx: the context
 * @ev: the evidence (@attest, @sig and @pcrs required)
 * @ret_json: NUL-terminated JSON, released with vouch_free()
 * Return: 0, -EINVAL, -ENOMEM.
 * Since: 0.1
 */
int vouch_evidence_format(vouch_ctx *ctx, const struct vouch_evidence *ev, char **ret_json);

/**
 * vouch_evidence_free() - release evidence and the buffers it points to; NULL is accepted
 * Since: 0.1
 */
void vouch_evidence_free(struct vouch_evidence *ev);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_EVIDENCE_H */
