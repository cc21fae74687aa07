// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch-agent: one round's evidence (quote, the list entries after an offset), the same
 * document in push and pull mode.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <json-c/json.h>

#include <vouch/evidence.h>
#include <vouch/log.h>
#include <vouch/quote.h>

#include "agent.h"
#include "cleanup.h"

#define MAX_LIST ((size_t)1 << 31)

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_log_reader *, reader_freep, vouch_log_reader_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_log_writer *, writer_freep, vouch_log_writer_free)

/*
 * The list entries after @from (absolute: the verifier counts the entries of every list it
 * chained), re-serialised.  @base is how many verified entries came before this list's
 * first one (0 until a kexec).  A list with fewer entries than @from - @base restarted: a
 * kexec (fresh list, PCRs kept) or a new boot.  Then all of it goes, flagged as a restart
 * after @from; the verifier chains it on its state only when the TPM was not reset.
 */
static int list_after(vouch_ctx *ctx, const uint8_t *buf, size_t len, uint64_t *from,
		      uint64_t *base, bool *restart, uint8_t **ret, size_t *ret_len,
		      uint64_t *ret_sent)
{
	uint64_t skip = *from >= *base ? *from - *base : UINT64_MAX;
	struct vouch_log_writer_options wo = VOUCH_LOG_WRITER_OPTIONS_INIT;
	_cleanup_(reader_freep) vouch_log_reader *rd = NULL;
	_cleanup_(writer_freep) vouch_log_writer *w = NULL;
	struct vouch_log_entry e;
	const uint8_t *out;
	uint64_t n = 0;
	size_t out_len;
	int r;

	r = vouch_log_reader_new(ctx, buf, len, NULL, &rd);
	if (r == 0)
		r = vouch_log_writer_new(ctx, &wo, &w);
	while (r == 0 && (r = vouch_log_next(rd, &e)) > 0)
		r = ++n > skip ? vouch_log_writer_add(w, &e) : 0;
	if (r == 0 && n < skip) {
		/* fewer entries than the server verified: the list restarted, send them all */
		*base = *from;
		return list_after(ctx, buf, len, from, base, restart, ret, ret_len, ret_sent);
	}
	if (r == 0)
		r = vouch_log_writer_get(w, &out, &out_len);
	if (r == 0 && !(*ret = malloc(out_len ? out_len : 1)))
		r = -ENOMEM;
	if (r < 0)
		return r;
	memcpy(*ret, out, out_len);
	*ret_len = out_len;
	*ret_sent = n - skip;
	/* the whole list after verified entries: say so, the verifier decides how it chains */
	*restart = skip == 0 && *from > 0;
	return 0;
}

/* the optional "ima": { "restart": true } member (older verifiers ignore it) */
static int mark_restart(char **json)
{
	json_object *root = json_tokener_parse(*json), *ima;
	const char *s;
	char *out;

	if (!root || !json_object_object_get_ex(root, "ima", &ima)) {
		json_object_put(root);
		return -EBADMSG;
	}
	json_object_object_add(ima, "restart", json_object_new_boolean(1));
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
	out = s ? strdup(s) : NULL;
	json_object_put(root);
	if (!out)
		return -ENOMEM;
	vouch_free(*json);
	*json = out;
	return 0;
}

static int read_fd(int fd, uint8_t **ret, size_t *ret_len)
{
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		ssize_t n;

		if (len == cap) {
			uint8_t *nb;

			cap = cap ? 2 * cap : 65536;
			if (cap > MAX_LIST || !(nb = realloc(buf, cap))) {
				free(buf);
				return -EFBIG;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

int agent_build_evidence(vouch_ctx *ctx, const char *tcti, uint32_t handle, const char *ima,
			 const char *pcrs, const uint8_t *nonce, size_t nonce_len, uint64_t *from,
			 uint64_t *base, char **ret_json, uint64_t *ret_sent)
{
	_cleanup_free_ uint8_t *attest = NULL, *sig = NULL, *list = NULL, *tail = NULL;
	_cleanup_close_ int fd = -1;
	struct vouch_evidence ev = { 0 };
	struct vouch_ak_info info;
	vouch_tpm *tpm = NULL;
	vouch_ak *ak = NULL;
	size_t list_len = 0;
	uint64_t sent = 0;
	bool restart = false;
	int r;

	*ret_json = NULL;
	*ret_sent = 0;
	r = vouch_pcrs_parse_selection(pcrs, &ev.pcrs);
	if (r < 0) {
		fprintf(stderr, "vouch-agent: invalid PCR selection '%s'\n", pcrs);
		return r;
	}
	/* the list read after the quote, under the shared lock an appending engine honours:
	 * entries measured in between are an uncovered tail, never a PCR value without entry */
	fd = open(ima, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		fprintf(stderr, "vouch-agent: cannot open '%s': %m\n", ima);
		return r;
	}
	(void)flock(fd, LOCK_SH);
	r = vouch_tpm_open(ctx, tcti, &tpm);
	if (r == 0)
		r = vouch_tpm_ak_load(tpm, handle, &ak);
	if (r == 0)
		r = vouch_tpm_quote(tpm, handle, nonce, nonce_len, &ev.pcrs, &attest, &ev.attest_len,
				    &sig, &ev.sig_len);
	vouch_tpm_close(tpm);
	if (r == 0)
		r = read_fd(fd, &list, &list_len);
	if (r == 0)
		r = list_after(ctx, list, list_len, from, base, &restart, &tail, &ev.ima_list_len,
			       &sent);
	if (r == 0 && ev.ima_list_len == 0 && *from == 0) {
		/* no list at all (not even a boot_aggregate): nothing a verifier could replay */
		vouch_ak_free(ak);
		return 0;
	}
	if (r == 0) {
		vouch_ak_get_info(ak, &info);
		ev.attest = attest;
		ev.sig = sig;
		/*
		 * Nothing measured since entry *@from: the evidence still goes, with an empty
		 * tail, so that the fresh quote is checked against the state the verifier keeps
		 * (an idle machine proves it is alive and unchanged; a silent one goes overdue).
		 */
		ev.ima_list = tail ? tail : (uint8_t *)"";
		ev.ima_from_entry = *from;
		ev.ak_name = info.name;
		ev.ak_name_len = info.name_len;
		r = vouch_evidence_format(ctx, &ev, ret_json);
		if (r == 0 && restart)
			r = mark_restart(ret_json);
	}
	vouch_ak_free(ak);
	if (r < 0) {
		fprintf(stderr, "vouch-agent: quote: %s\n", vouch_ctx_last_error(ctx));
		return r;
	}
	*ret_sent = sent;
	return 0;
}
