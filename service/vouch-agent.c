// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch-agent: pushes attestation evidence to vouchd.  Registers the AK, then per round:
 * a nonce (and the entry offset the server has verified up to), a TPM2_Quote through
 * libvouch, the IMA list entries after that offset, POST; the answer carries the next
 * nonce and offset.  With --mode pull it registers as a pull agent and serves the same
 * evidence to vouchd instead (agent-serve.c).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include <vouch/ctx.h>
#include <vouch/evidence.h>
#include <vouch/quote.h>
#include <vouch/tpm.h>

#include "agent.h"
#include "cleanup.h"
#include "config.h"

#define MAX_RESPONSE (1U << 20)

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(json_object *, json_putp, json_object_put)

struct buf {
	char *data;
	size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t add = size * n;
	char *nb;

	if (b->len + add > MAX_RESPONSE || !(nb = realloc(b->data, b->len + add + 1)))
		return 0;
	memcpy(nb + b->len, p, add);
	b->len += add;
	nb[b->len] = '\0';
	b->data = nb;
	return add;
}

/* one request: 0 with the HTTP status and the JSON answer, or -EIO when it did not happen */
static int http(struct agent *ag, const char *method, const char *action, const char *body,
		long *ret_code, json_object **ret_json)
{
	_cleanup_free_ char *url = NULL;
	struct curl_slist *hdr = NULL;
	struct buf b = { 0 };
	CURLcode rc;

	if (asprintf(&url, "%s/v1/agents/%s/%s", ag->server, ag->id, action) < 0)
		return -ENOMEM;
	curl_easy_reset(ag->curl);
	curl_easy_setopt(ag->curl, CURLOPT_URL, url);
	curl_easy_setopt(ag->curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(ag->curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
	curl_easy_setopt(ag->curl, CURLOPT_SSLCERT, ag->cert);
	curl_easy_setopt(ag->curl, CURLOPT_SSLKEY, ag->key);
	curl_easy_setopt(ag->curl, CURLOPT_CAINFO, ag->cacert);
	curl_easy_setopt(ag->curl, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(ag->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(ag->curl, CURLOPT_WRITEDATA, &b);
	if (body) {
		hdr = curl_slist_append(NULL, "Content-Type: application/json");
		curl_easy_setopt(ag->curl, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(ag->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(ag->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	}
	(void)method;
	rc = curl_easy_perform(ag->curl);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		fprintf(stderr, "vouch-agent: %s: %s\n", url, curl_easy_strerror(rc));
		free(b.data);
		return -EIO;
	}
	curl_easy_getinfo(ag->curl, CURLINFO_RESPONSE_CODE, ret_code);
	*ret_json = b.data ? json_tokener_parse(b.data) : NULL;
	free(b.data);
	if (!*ret_json || !json_object_is_type(*ret_json, json_type_object)) {
		json_object_put(*ret_json);
		fprintf(stderr, "vouch-agent: %s: HTTP %ld without a JSON answer\n", url, *ret_code);
		return -EIO;
	}
	return 0;
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

static int take_nonce(struct agent *ag, json_object *o)
{
	const char *n = jstr(o, "nonce");
	json_object *off, *dl;

	if (!n || strlen(n) >= sizeof(ag->nonce) || !json_object_object_get_ex(o, "offset", &off) ||
	    !json_object_is_type(off, json_type_int) || json_object_get_int64(off) < 0 ||
	    !json_object_object_get_ex(o, "deadline", &dl) || !json_object_is_type(dl, json_type_int)) {
		fprintf(stderr, "vouch-agent: the server's answer has no nonce and offset\n");
		return -EBADMSG;
	}
	snprintf(ag->nonce, sizeof(ag->nonce), "%s", n);
	ag->offset = (uint64_t)json_object_get_int64(off);
	ag->deadline = json_object_get_int64(dl);
	return 0;
}

static int do_register(struct agent *ag)
{
	_cleanup_(json_putp) json_object *req = NULL, *resp = NULL;
	_cleanup_free_ char *b64 = NULL;
	const uint8_t *pub;
	vouch_tpm *tpm = NULL;
	vouch_ak *ak = NULL;
	size_t len;
	long code = 0;
	int r;

	r = vouch_tpm_open(ag->ctx, ag->tcti, &tpm);
	if (r == 0)
		r = vouch_tpm_ak_load(tpm, ag->handle, &ak);
	if (r == 0)
		r = vouch_ak_get_public_area(ak, &pub, &len);
	if (r == 0 && !(b64 = malloc(4 * ((len + 2) / 3) + 1)))
		r = -ENOMEM;
	if (r == 0)
		EVP_EncodeBlock((unsigned char *)b64, pub, (int)len);
	vouch_ak_free(ak);
	vouch_tpm_close(tpm);
	if (r < 0) {
		fprintf(stderr, "vouch-agent: AK 0x%08x: %s\n", ag->handle, vouch_ctx_last_error(ag->ctx));
		return r;
	}
	req = json_object_new_object();
	json_object_object_add(req, "ak", json_object_new_string(b64));
	if (ag->pull) {
		/* vouchd connects to this URL: it must be allowed by its --pull-allow */
		json_object_object_add(req, "mode", json_object_new_string("pull"));
		json_object_object_add(req, "url", json_object_new_string(ag->url));
	}
	r = http(ag, "POST", "register", json_object_to_json_string(req), &code, &resp);
	if (r < 0)
		return r;
	if (code != 200 && code != 201) {
		fprintf(stderr, "vouch-agent: register: HTTP %ld: %s\n", code, jstr(resp, "error"));
		return -EPERM;
	}
	return 0;
}

/* one round: quote over the server's nonce, push the new entries; 0 trusted, 1 not, <0 */
static int round_once(struct agent *ag)
{
	_cleanup_(json_putp) json_object *resp = NULL;
	_cleanup_free_ char *json = NULL;
	uint8_t nonce[64];
	size_t nonce_len = strlen(ag->nonce) / 2;
	uint64_t from = ag->offset, sent;
	const char *verdict;
	long code = 0;
	int r;

	for (size_t i = 0; i < nonce_len; i++) {
		unsigned v;

		if (sscanf(ag->nonce + 2 * i, "%2x", &v) != 1)
			return -EBADMSG;
		nonce[i] = (uint8_t)v;
	}
	r = agent_build_evidence(ag->ctx, ag->tcti, ag->handle, ag->ima, ag->pcrs, nonce, nonce_len,
				 &from, &json, &sent);
	if (r < 0)
		return r;
	if (!json) {
		fprintf(stderr, "vouch-agent: no entries after %llu, nothing to push\n",
			(unsigned long long)from);
		return 0;
	}
	r = http(ag, "POST", "attest", json, &code, &resp);
	if (r < 0)
		return r;
	if (code != 200) {
		fprintf(stderr, "vouch-agent: attest: HTTP %ld: %s\n", code, jstr(resp, "error"));
		ag->nonce[0] = '\0';
		return -EPROTO;
	}
	verdict = jstr(resp, "verdict");
	r = take_nonce(ag, resp);
	printf("%s\n", json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	if (r < 0)
		return r;
	return verdict && strcmp(verdict, "trusted") == 0 ? 0 : 1;
}

static int get_nonce(struct agent *ag)
{
	_cleanup_(json_putp) json_object *resp = NULL;
	long code = 0;
	int r = http(ag, "GET", "nonce", NULL, &code, &resp);

	if (r < 0)
		return r;
	if (code != 200) {
		fprintf(stderr, "vouch-agent: nonce: HTTP %ld: %s\n", code, jstr(resp, "error"));
		return -EPROTO;
	}
	return take_nonce(ag, resp);
}

static int parse_u32(const char *s, int base, uint32_t *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || !*s || *end || *s == '-' || *s == '+' || v > UINT32_MAX)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

static int usage(const char *msg, const char *arg)
{
	fprintf(stderr, "vouch-agent: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
	fprintf(stderr, "usage: vouch-agent --server URL --id ID --cert CRT --key KEY --cacert CA "
			"--tpm TCTI [--ak-handle H] [--ima-list PATH] [--pcrs SEL] "
			"--once|--interval S\n"
			"       vouch-agent --mode pull --listen HOST:PORT --verifier-name NAME --cert CRT "
			"--key KEY --cacert CA --tpm TCTI [--ak-handle H] [--ima-list PATH] "
			"[--server URL --id ID [--url URL]]\n");
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct agent *ag)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "id", required_argument, NULL, 'i' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "cacert", required_argument, NULL, 'a' },
		{ "tpm", required_argument, NULL, 't' },
		{ "ak-handle", required_argument, NULL, 'H' },
		{ "ima-list", required_argument, NULL, 'l' },
		{ "pcrs", required_argument, NULL, 'p' },
		{ "once", no_argument, NULL, 'o' },
		{ "interval", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ "listen", required_argument, NULL, 'L' },
		{ "verifier-name", required_argument, NULL, 'V' },
		{ "url", required_argument, NULL, 'u' },
		{ "version", no_argument, NULL, 'v' },
		{ 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char **slot = NULL;

		switch (opt) {
		case 's': slot = &ag->server; break;
		case 'i': slot = &ag->id; break;
		case 'c': slot = &ag->cert; break;
		case 'k': slot = &ag->key; break;
		case 'a': slot = &ag->cacert; break;
		case 't': slot = &ag->tcti; break;
		case 'l': slot = &ag->ima; break;
		case 'p': slot = &ag->pcrs; break;
		case 'm': slot = &ag->mode; break;
		case 'L': slot = &ag->listen; break;
		case 'V': slot = &ag->verifier_name; break;
		case 'u': slot = &ag->url; break;
		case 'H':
			if (ag->handle || parse_u32(optarg, 0, &ag->handle) < 0 ||
			    ag->handle < 0x81000000U || ag->handle > 0x81ffffffU)
				return usage("invalid or repeated --ak-handle", optarg);
			break;
		case 'o': ag->once = true; break;
		case 'n':
			if (ag->interval || parse_u32(optarg, 10, &ag->interval) < 0 ||
			    ag->interval == 0 || ag->interval > 86400)
				return usage("invalid or repeated --interval", optarg);
			break;
		case 'v':
			printf("vouch-agent %s\n", VOUCH_VERSION);
			return 1;
		default:
			return -EINVAL;
		}
		if (slot) {
			if (*slot)
				return usage("option given twice, refusing:", argv[optind - 1]);
			*slot = optarg;
		}
	}
	if (optind != argc)
		return usage("unexpected argument", argv[optind]);
	if (ag->mode && strcmp(ag->mode, "push") != 0 && strcmp(ag->mode, "pull") != 0)
		return usage("--mode is push or pull, not", ag->mode);
	ag->pull = ag->mode && strcmp(ag->mode, "pull") == 0;
	if (ag->pull) {
		/* vouchd asks; the agent only answers (and registers first when told where) */
		if (!ag->listen || !ag->verifier_name || !ag->cert || !ag->key || !ag->cacert ||
		    !ag->tcti)
			return usage("pull mode needs --listen, --verifier-name, --cert, --key, "
				     "--cacert and --tpm", NULL);
		if (!ag->server != !ag->id)
			return usage("--server and --id go together", NULL);
		if (ag->once || ag->interval || ag->pcrs)
			return usage("--once, --interval and --pcrs are the verifier's in pull mode",
				     NULL);
		if (ag->url && !ag->server)
			return usage("--url is sent when registering: it needs --server", NULL);
		if (!ag->url) {
			int n = snprintf(ag->url_buf, sizeof(ag->url_buf), "https://%s", ag->listen);

			if (n < 0 || (size_t)n >= sizeof(ag->url_buf))
				return usage("--listen too long", NULL);
			ag->url = ag->url_buf;
		}
	} else {
		if (ag->listen || ag->verifier_name || ag->url)
			return usage("--listen, --verifier-name and --url are for --mode pull", NULL);
		if (!ag->server || !ag->id || !ag->cert || !ag->key || !ag->cacert || !ag->tcti)
			return usage("--server, --id, --cert, --key, --cacert and --tpm are required",
				     NULL);
		if (ag->once == (ag->interval != 0))
			return usage("exactly one of --once and --interval is required", NULL);
	}
	if (!ag->handle)
		ag->handle = 0x81010010U;
	if (!ag->ima)
		ag->ima = "/sys/kernel/security/ima/binary_runtime_measurements";
	if (!ag->pcrs)
		ag->pcrs = "sha256:0-10";
	return 0;
}

static int run(int argc, char **argv)
{
	struct agent ag = { 0 };
	int r;

	r = parse_args(argc, argv, &ag);
	if (r != 0)
		return r > 0 ? 0 : EXIT_USAGE;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return EXIT_RUNTIME;
	ag.curl = curl_easy_init();
	r = ag.curl ? vouch_ctx_new(&ag.ctx) : -ENOMEM;
	if (r == 0) {
		/* fail early on a wrong --tpm; each round opens it again (agent_build_evidence()) */
		vouch_tpm *tpm = NULL;

		r = vouch_tpm_open(ag.ctx, ag.tcti, &tpm);
		vouch_tpm_close(tpm);
	}
	if (r < 0 && ag.ctx)
		fprintf(stderr, "vouch-agent: %s\n", vouch_ctx_last_error(ag.ctx));
	if (r == 0 && ag.pull)
		r = agent_serve(&ag, ag.server ? do_register : NULL);
	else if (r == 0)
		r = do_register(&ag);
	while (r >= 0 && !ag.pull) {
		if (!ag.nonce[0] || ag.deadline <= (int64_t)time(NULL))
			r = get_nonce(&ag);
		if (r >= 0)
			r = round_once(&ag);
		if (ag.once)
			break;
		if (r < 0 && r != -EPROTO)
			break;
		if (r == -EPROTO)
			r = 0; /* the server refused this round; ask for a new nonce next time */
		sleep(ag.interval);
	}
	vouch_ctx_free(ag.ctx);
	curl_easy_cleanup(ag.curl);
	curl_global_cleanup();
	return r == 0 ? 0 : r == 1 ? EXIT_UNTRUSTED : EXIT_RUNTIME;
}

int main(int argc, char **argv)
{
	return run(argc, argv);
}
