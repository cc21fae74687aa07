// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch-agent: pushes attestation evidence to vouchd.  Registers the AK, then per round:
 * a nonce (and the entry offset the server has verified up to), a TPM2_Quote through
 * libvouch, the IMA list entries after that offset, POST; the answer carries the next
 * nonce and offset.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include <vouch/ctx.h>
#include <vouch/evidence.h>
#include <vouch/log.h>
#include <vouch/quote.h>
#include <vouch/tpm.h>

#include "cleanup.h"
#include "conf.h"
#include "notify.h"
#include "config.h"

#define MAX_RESPONSE (1U << 20)
#define MAX_LIST ((size_t)1 << 31)
#define EXIT_UNTRUSTED 1
#define EXIT_USAGE 2
#define EXIT_RUNTIME 3

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(json_object *, json_putp, json_object_put)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_log_reader *, reader_freep, vouch_log_reader_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_log_writer *, writer_freep, vouch_log_writer_free)

struct agent {
	const char *server, *id, *cert, *key, *cacert, *tcti, *ima, *pcrs, *config;
	char *conf_buf; /* the configuration file's text, which the strings above may point into */
	uint32_t handle;
	uint32_t interval;
	bool once;
	vouch_ctx *ctx;
	vouch_tpm *tpm;
	CURL *curl;
	/* what the server said last */
	char nonce[2 * 64 + 1];
	uint64_t offset;
	int64_t deadline;
};

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
	vouch_ak *ak = NULL;
	size_t len;
	long code = 0;
	int r;

	r = vouch_tpm_ak_load(ag->tpm, ag->handle, &ak);
	if (r == 0)
		r = vouch_ak_get_public_area(ak, &pub, &len);
	if (r == 0 && !(b64 = malloc(4 * ((len + 2) / 3) + 1)))
		r = -ENOMEM;
	if (r == 0)
		EVP_EncodeBlock((unsigned char *)b64, pub, (int)len);
	vouch_ak_free(ak);
	if (r < 0) {
		fprintf(stderr, "vouch-agent: AK 0x%08x: %s\n", ag->handle, vouch_ctx_last_error(ag->ctx));
		return r;
	}
	req = json_object_new_object();
	json_object_object_add(req, "ak", json_object_new_string(b64));
	r = http(ag, "POST", "register", json_object_to_json_string(req), &code, &resp);
	if (r < 0)
		return r;
	if (code != 200 && code != 201) {
		fprintf(stderr, "vouch-agent: register: HTTP %ld: %s\n", code, jstr(resp, "error"));
		return -EPERM;
	}
	return 0;
}

/* the list entries after @from, re-serialised; the whole list when it has fewer (a new boot) */
static int list_after(struct agent *ag, const uint8_t *buf, size_t len, uint64_t *from,
		      uint8_t **ret, size_t *ret_len)
{
	struct vouch_log_writer_options wo = VOUCH_LOG_WRITER_OPTIONS_INIT;
	_cleanup_(reader_freep) vouch_log_reader *rd = NULL;
	_cleanup_(writer_freep) vouch_log_writer *w = NULL;
	struct vouch_log_entry e;
	const uint8_t *out;
	uint64_t n = 0;
	size_t out_len;
	int r;

	r = vouch_log_reader_new(ag->ctx, buf, len, NULL, &rd);
	if (r == 0)
		r = vouch_log_writer_new(ag->ctx, &wo, &w);
	while (r == 0 && (r = vouch_log_next(rd, &e)) > 0)
		r = ++n > *from ? vouch_log_writer_add(w, &e) : 0;
	if (r == 0 && n < *from) {
		/* fewer entries than the server verified: the machine rebooted, send them all */
		*from = 0;
		return list_after(ag, buf, len, from, ret, ret_len);
	}
	if (r == 0)
		r = vouch_log_writer_get(w, &out, &out_len);
	if (r == 0 && !(*ret = malloc(out_len ? out_len : 1)))
		r = -ENOMEM;
	if (r < 0)
		return r;
	memcpy(*ret, out, out_len);
	*ret_len = out_len;
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

/* one round: quote over the server's nonce, push the new entries; 0 trusted, 1 not, <0 */
static int round_once(struct agent *ag)
{
	_cleanup_(json_putp) json_object *resp = NULL;
	_cleanup_free_ uint8_t *attest = NULL, *sig = NULL, *list = NULL, *tail = NULL;
	_cleanup_free_ char *json = NULL;
	_cleanup_close_ int fd = -1;
	struct vouch_evidence ev = { 0 };
	struct vouch_ak_info info;
	vouch_ak *ak = NULL;
	uint8_t nonce[64];
	size_t nonce_len = strlen(ag->nonce) / 2, list_len = 0;
	uint64_t from = ag->offset;
	const char *verdict;
	long code = 0;
	int r;

	for (size_t i = 0; i < nonce_len; i++) {
		unsigned v;

		if (sscanf(ag->nonce + 2 * i, "%2x", &v) != 1)
			return -EBADMSG;
		nonce[i] = (uint8_t)v;
	}
	r = vouch_pcrs_parse_selection(ag->pcrs, &ev.pcrs);
	if (r < 0)
		return r;
	/* the list read after the quote, under the shared lock an appending engine honours:
	 * entries measured in between are an uncovered tail, never a PCR value without entry */
	fd = open(ag->ima, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		fprintf(stderr, "vouch-agent: cannot open '%s': %m\n", ag->ima);
		return -errno;
	}
	(void)flock(fd, LOCK_SH);
	r = vouch_tpm_ak_load(ag->tpm, ag->handle, &ak);
	if (r == 0)
		r = vouch_tpm_quote(ag->tpm, ag->handle, nonce, nonce_len, &ev.pcrs, &attest,
				    &ev.attest_len, &sig, &ev.sig_len);
	if (r == 0)
		r = read_fd(fd, &list, &list_len);
	if (r == 0)
		r = list_after(ag, list, list_len, &from, &tail, &ev.ima_list_len);
	if (r == 0 && ev.ima_list_len == 0) {
		/* evidence cannot carry an empty tail (vouch_evidence_parse() refuses it), and
		 * the server needs entries to compare the quoted PCR 10 with: nothing to push */
		vouch_ak_free(ak);
		fprintf(stderr, "vouch-agent: no entries after %llu, nothing to push\n",
			(unsigned long long)from);
		return 0;
	}
	if (r == 0) {
		vouch_ak_get_info(ak, &info);
		ev.attest = attest;
		ev.sig = sig;
		ev.ima_list = tail;
		ev.ima_from_entry = from;
		ev.ak_name = info.name;
		ev.ak_name_len = info.name_len;
		r = vouch_evidence_format(ag->ctx, &ev, &json);
	}
	vouch_ak_free(ak);
	if (r < 0) {
		fprintf(stderr, "vouch-agent: quote: %s\n", vouch_ctx_last_error(ag->ctx));
		return r;
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

/*
 * sleep(@seconds), pinging systemd's watchdog at half its interval meanwhile.  The round
 * itself (one quote, HTTP requests with a 60 s timeout) must fit in WatchdogSec.
 */
static void pause_round(uint32_t seconds)
{
	uint64_t wd = 0, left = (uint64_t)seconds * 1000000;

	if (sd_watchdog_enabled(0, &wd) <= 0 || wd == 0) {
		sleep(seconds);
		return;
	}
	sd_notify(0, "WATCHDOG=1");
	while (left > 0) {
		uint64_t step = wd / 2 < left ? wd / 2 : left;
		struct timespec ts = { .tv_sec = (time_t)(step / 1000000),
				       .tv_nsec = (long)(step % 1000000) * 1000 };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		left -= step;
		sd_notify(0, "WATCHDOG=1");
	}
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
	fprintf(stderr, "usage: vouch-agent [--config FILE] --server URL --id ID --cert CRT --key KEY "
			"--cacert CA --tpm TCTI [--ak-handle H] [--ima-list PATH] [--pcrs SEL] "
			"--once|--interval S\n");
	return -EINVAL;
}

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
	{ "config", required_argument, NULL, 'C' },
	{ "version", no_argument, NULL, 'v' },
	{ 0 },
};

/* one option's value into @ag, from the command line or the configuration file */
static int set_option(struct agent *ag, int opt, const char *arg, const char **why)
{
	struct vouch_pcrs sel;

	switch (opt) {
	case 's':
		if (strncmp(arg, "https://", 8) != 0 || !arg[8]) {
			*why = "an https:// URL";
			return -EINVAL;
		}
		ag->server = arg;
		break;
	case 'i': ag->id = arg; break;
	case 'c': ag->cert = arg; break;
	case 'k': ag->key = arg; break;
	case 'a': ag->cacert = arg; break;
	case 't': ag->tcti = arg; break;
	case 'l': ag->ima = arg; break;
	case 'p':
		if (vouch_pcrs_parse_selection(arg, &sel) < 0) {
			*why = "a PCR selection such as sha256:0-10";
			return -EINVAL;
		}
		ag->pcrs = arg;
		break;
	case 'C': ag->config = arg; break;
	case 'H':
		if (parse_u32(arg, 0, &ag->handle) < 0 || ag->handle < 0x81000000U ||
		    ag->handle > 0x81ffffffU) {
			*why = "a persistent handle 0x81000000-0x81ffffff";
			return -EINVAL;
		}
		break;
	case 'o': ag->once = true; break;
	case 'n':
		if (parse_u32(arg, 10, &ag->interval) < 0 || ag->interval == 0 ||
		    ag->interval > 86400) {
			*why = "1 to 86400 seconds";
			return -EINVAL;
		}
		break;
	default:
		*why = "not an option";
		return -EINVAL;
	}
	return 0;
}

struct file_opts {
	struct agent *ag;
	uint64_t cli; /* the options the command line gave: they win over the file */
};

static int set_from_file(void *userdata, int index, const char *value, const char **why)
{
	struct file_opts *f = userdata;
	struct agent scratch = *f->ag;

	/* checked either way, so that a bad line fails even when the command line wins */
	return set_option(f->cli & (UINT64_C(1) << index) ? &scratch : f->ag, opts[index].val,
			  value, why);
}

static int parse_args(int argc, char **argv, struct agent *ag)
{
	static const char *const refused[] = { "config", "version", NULL };
	struct file_opts f = { .ag = ag };
	int opt, index;

	while ((opt = getopt_long(argc, argv, "", opts, &index)) != -1) {
		const char *why = NULL;

		if (opt == 'v') {
			printf("vouch-agent %s\n", VOUCH_VERSION);
			return 1;
		}
		if (opt == '?')
			return -EINVAL;
		if (f.cli & (UINT64_C(1) << index))
			return usage("option given twice, refusing:", argv[optind - 1]);
		f.cli |= UINT64_C(1) << index;
		if (set_option(ag, opt, optarg, &why) < 0)
			return usage(why ? "invalid option value:" : "invalid option", optarg);
	}
	if (optind != argc)
		return usage("unexpected argument", argv[optind]);
	/* a command-line --once and a file's interval (or the reverse): the command line wins */
	if (ag->config) {
		for (int i = 0; opts[i].name && (ag->once || ag->interval); i++)
			if (opts[i].val == 'o' || opts[i].val == 'n')
				f.cli |= UINT64_C(1) << i;
		if (conf_load("vouch-agent", ag->config, opts, refused, set_from_file, &f,
			      &ag->conf_buf) < 0)
			return -EINVAL;
	}
	if (!ag->server || !ag->id || !ag->cert || !ag->key || !ag->cacert || !ag->tcti)
		return usage("--server, --id, --cert, --key, --cacert and --tpm are required", NULL);
	if (ag->once == (ag->interval != 0))
		return usage("exactly one of --once and --interval is required", NULL);
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
	if (r != 0) {
		free(ag.conf_buf);
		return r > 0 ? 0 : EXIT_USAGE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return EXIT_RUNTIME;
	ag.curl = curl_easy_init();
	r = ag.curl ? vouch_ctx_new(&ag.ctx) : -ENOMEM;
	if (r == 0)
		r = vouch_tpm_open(ag.ctx, ag.tcti, &ag.tpm);
	if (r < 0 && ag.ctx)
		fprintf(stderr, "vouch-agent: %s\n", vouch_ctx_last_error(ag.ctx));
	if (r == 0)
		r = do_register(&ag);
	if (r == 0)
		sd_notifyf(0, "READY=1\nSTATUS=registered as '%s' at %s", ag.id, ag.server);
	while (r >= 0) {
		if (!ag.nonce[0] || ag.deadline <= (int64_t)time(NULL))
			r = get_nonce(&ag);
		if (r >= 0)
			r = round_once(&ag);
		if (ag.once)
			break;
		if (r < 0 && r != -EPROTO)
			break;
		sd_notifyf(0, "STATUS=last round: %s", r == 0 ? "trusted" : r == 1 ? "untrusted"
							      : "refused by the server");
		if (r == -EPROTO)
			r = 0; /* the server refused this round; ask for a new nonce next time */
		pause_round(ag.interval);
	}
	vouch_tpm_close(ag.tpm);
	vouch_ctx_free(ag.ctx);
	curl_easy_cleanup(ag.curl);
	curl_global_cleanup();
	free(ag.conf_buf);
	return r == 0 ? 0 : r == 1 ? EXIT_UNTRUSTED : EXIT_RUNTIME;
}

int main(int argc, char **argv)
{
	return run(argc, argv);
}
