/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch-agent internals shared by its two modes: push (vouch-agent.c, libcurl) and pull
 * (agent-serve.c, an HTTPS server vouchd calls).  Both build the same evidence document
 * (agent-evidence.c).
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_AGENT_H
#define VOUCH_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vouch/ctx.h>
#include <vouch/tpm.h>

#define EXIT_UNTRUSTED 1
#define EXIT_USAGE 2
#define EXIT_RUNTIME 3

struct agent {
	const char *server, *id, *cert, *key, *cacert, *tcti, *ima, *pcrs;
	/* pull mode: where to listen, the name the verifier's client certificate carries */
	const char *mode, *listen, *verifier_name, *url;
	const char *config;
	char *conf_buf; /* the configuration file's text, which the strings above may point into */
	char url_buf[300];
	uint32_t handle;
	uint32_t interval;
	bool once;
	bool pull;
	bool enroll;
	bool anonymous; /* no client certificate on this request (enrollment) */
	bool resend; /* this push is sent again after a transport error (X-Vouch-Retry: 1) */
	vouch_ctx *ctx;
	vouch_tpm *tpm; /* open during enrollment only */
	void *curl; /* CURL *, push mode and registration */
	/* what the server said last */
	char nonce[2 * 64 + 1];
	uint64_t offset;
	uint64_t list_base; /* verified entries before this list (a kexec restarted it) */
	int64_t deadline;
};

/*
 * The evidence for one round: a TPM2_Quote over @nonce of @pcrs with the AK at @handle (the
 * TPM at @tcti is opened for the round only: without a resource manager, as swtpm's
 * socket, a TPM serves one client at a time and the engine must extend it), then
 * the IMA list @ima read under a shared lock, re-serialised from entry *@from on (the whole
 * list, and *@from = 0, when it has fewer entries: a new boot).  *@ret_json is the vouch
 * evidence JSON (with an empty list when nothing was measured after *@from > 0: the quote
 * alone is checked against the verifier's state), or NULL when the list is empty from the
 * start; *@ret_sent the number of entries in it.  0 or a negative errno (message on stderr).
 */
int agent_build_evidence(vouch_ctx *ctx, const char *tcti, uint32_t handle, const char *ima,
			 const char *pcrs, const uint8_t *nonce, size_t nonce_len, uint64_t *from,
			 uint64_t *base, char **ret_json, uint64_t *ret_sent);

/* pull mode (agent-serve.c): serve GET /v1/quote on ag->listen until SIGTERM/SIGINT; @ready
 * (may be NULL) runs once the socket listens, before the first request is served: the
 * registration, so that the verifier never polls an agent not listening yet */
int agent_serve(struct agent *ag, int (*ready)(struct agent *ag));

#endif
