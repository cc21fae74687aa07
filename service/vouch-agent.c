// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch-agent: pushes attestation evidence to vouchd.  Without a client certificate (or with
 * --enroll) it first enrolls: the EK certificate from the TPM's NV, the AK's public area and
 * a CSR for a new TLS key go to the server, which answers with a credential only this TPM
 * can activate (TPM2_ActivateCredential); its secret buys the client certificate.  Then
 * per round: a nonce (and the entry offset the server has verified up to), a TPM2_Quote
 * through libvouch, the IMA list entries after that offset, POST; the answer carries the
 * next nonce and offset.  With --mode pull it tells the server so and serves the same
 * evidence to vouchd instead (agent-serve.c).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <vouch/credential.h>
#include <vouch/ctx.h>
#include <vouch/digest.h>
#include <vouch/evidence.h>
#include <vouch/quote.h>
#include <vouch/tpm.h>

#include "agent.h"
#include "cleanup.h"
#include "conf.h"
#include "config.h"
#include "curl-client.h"
#include "notify.h"

#define MAX_RESPONSE (1U << 20)
#define RESENDS 3 /* a push sent again after a transport error, 1, 2 and 4 s later */

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(json_object *, json_putp, json_object_put)

/* a request body handed to libcurl piece by piece, so that it cannot be sent twice unseen */
struct body {
	const char *data;
	size_t len, off;
};

static size_t read_body(char *out, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = b->len - b->off < size * n ? b->len - b->off : size * n;

	memcpy(out, b->data + b->off, len);
	b->off += len;
	return len;
}

/*
 * libcurl sends a request again by itself, POST included, when a reused connection dies
 * before any answer, rewinding the body first.  A push is not idempotent (vouchd may have
 * stored it): refusing the rewind makes the transfer fail, and the resend is ours, with
 * X-Vouch-Retry: 1.
 */
static int seek_body(void *arg, curl_off_t offset, int origin)
{
	struct body *b = arg;

	return origin == SEEK_SET && offset == 0 && b->off == 0 ? CURL_SEEKFUNC_OK
								  : CURL_SEEKFUNC_CANTSEEK;
}

/*
 * one request: 0 with the HTTP status and the JSON answer, -ENOTCONN when it did not happen
 * (no connection, or it broke before the whole answer), -EIO when the answer is not JSON
 */
static int http(struct agent *ag, const char *method, const char *action, const char *body,
		long *ret_code, json_object **ret_json)
{
	_cleanup_free_ char *url = NULL;
	struct curl_slist *hdr = NULL;
	struct body in = { .data = body, .len = body ? strlen(body) : 0 };
	struct buf b = { .max = MAX_RESPONSE };
	CURLcode rc;

	if (asprintf(&url, "%s/v1/agents/%s/%s", ag->server, ag->id, action) < 0)
		return -ENOMEM;
	curl_easy_reset(ag->curl);
	curl_easy_setopt(ag->curl, CURLOPT_URL, url);
	curl_easy_setopt(ag->curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(ag->curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
	if (!ag->anonymous) {
		curl_easy_setopt(ag->curl, CURLOPT_SSLCERT, ag->cert);
		curl_easy_setopt(ag->curl, CURLOPT_SSLKEY, ag->key);
	}
	curl_easy_setopt(ag->curl, CURLOPT_CAINFO, ag->cacert);
	curl_easy_setopt(ag->curl, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(ag->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(ag->curl, CURLOPT_WRITEDATA, &b);
	if (body) {
		hdr = curl_slist_append(NULL, "Content-Type: application/json");
		/* no 100-continue round trip: the body follows the headers at once */
		if (hdr)
			hdr = curl_slist_append(hdr, "Expect:");
		if (hdr && ag->resend)
			hdr = curl_slist_append(hdr, "X-Vouch-Retry: 1");
		curl_easy_setopt(ag->curl, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(ag->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(ag->curl, CURLOPT_READFUNCTION, read_body);
		curl_easy_setopt(ag->curl, CURLOPT_READDATA, &in);
		curl_easy_setopt(ag->curl, CURLOPT_SEEKFUNCTION, seek_body);
		curl_easy_setopt(ag->curl, CURLOPT_SEEKDATA, &in);
		curl_easy_setopt(ag->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)in.len);
	}
	(void)method;
	rc = curl_easy_perform(ag->curl);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		fprintf(stderr, "vouch-agent: %s: %s\n", url, curl_easy_strerror(rc));
		free(b.data);
		return -ENOTCONN;
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
	/* a new boot (or a state the server dropped) numbers this list from its entry 1 again */
	if ((json_object_object_get_ex(o, "new_boot", &dl) && json_object_get_boolean(dl)) ||
	    ag->offset < ag->list_base)
		ag->list_base = 0;
	ag->deadline = json_object_get_int64(dl);
	return 0;
}

static char *b64_encode(const uint8_t *buf, size_t len)
{
	char *s = malloc(4 * ((len + 2) / 3) + 1);

	if (s)
		EVP_EncodeBlock((unsigned char *)s, buf, (int)len);
	return s;
}

/* @data to @path: a temporary file next to it, fsync, rename, fsync of the directory */
static int write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	_cleanup_free_ char *tmp = NULL, *dir = NULL;
	_cleanup_close_ int fd = -1, dfd = -1;
	const char *slash = strrchr(path, '/');
	size_t done = 0;
	int r = 0;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0 ||
	    !(dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".")))
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0)
		r = -errno;
	while (r == 0 && done < len) {
		ssize_t n = write(fd, (const char *)data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = -errno;
		else
			done += (size_t)n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)fsync(dfd);
	return 0;
}

/* a new P-256 TLS key (PEM) and a CSR for it (PEM) naming @id */
static int make_key_and_csr(const char *id, char **ret_key, char **ret_csr)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	char *kd, *cd;
	long kn, cn;
	int r = -EIO;

	if (!pk || !req || !name || !kb || !cb)
		goto out;
	if (X509_REQ_set_version(req, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)id, -1, -1,
				       0) != 1 ||
	    X509_REQ_set_subject_name(req, name) != 1 || X509_REQ_set_pubkey(req, pk) != 1 ||
	    X509_REQ_sign(req, pk, EVP_sha256()) <= 0 ||
	    PEM_write_bio_PrivateKey(kb, pk, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_X509_REQ(cb, req) != 1)
		goto out;
	kn = BIO_get_mem_data(kb, &kd);
	cn = BIO_get_mem_data(cb, &cd);
	r = -ENOMEM;
	if (kn <= 0 || cn <= 0 || !(*ret_key = strndup(kd, (size_t)kn)))
		goto out;
	if (!(*ret_csr = strndup(cd, (size_t)cn))) {
		free(*ret_key);
		*ret_key = NULL;
		goto out;
	}
	r = 0;
out:
	if (r < 0)
		ERR_clear_error();
	BIO_free(kb);
	BIO_free(cb);
	X509_NAME_free(name);
	X509_REQ_free(req);
	EVP_PKEY_free(pk);
	return r;
}

/* the persistent AK at --ak-handle, created (owner hierarchy, RSASSA-SHA256) if missing */
static int ak_public(struct agent *ag, char **ret_b64)
{
	struct vouch_tpm_ak_options o = VOUCH_TPM_AK_OPTIONS_INIT;
	vouch_ak *ak = NULL;
	const uint8_t *pub;
	size_t len;
	int r;

	r = vouch_tpm_ak_load(ag->tpm, ag->handle, &ak);
	if (r == -ENOENT) {
		o.handle = ag->handle;
		r = vouch_tpm_ak_create(ag->tpm, &o, &ak);
		if (r == 0)
			fprintf(stderr, "vouch-agent: created the AK at 0x%08x\n", ag->handle);
	}
	if (r == 0)
		r = vouch_ak_get_public_area(ak, &pub, &len);
	if (r == 0 && !(*ret_b64 = b64_encode(pub, len)))
		r = -ENOMEM;
	vouch_ak_free(ak);
	if (r < 0)
		fprintf(stderr, "vouch-agent: AK 0x%08x: %s\n", ag->handle,
			vouch_ctx_last_error(ag->ctx));
	return r;
}

/* the EK certificate from NV, or the bare EK public area when there is none */
static int ek_member(struct agent *ag, json_object *req)
{
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_free_ char *b64 = NULL;
	size_t len;
	int r;

	r = vouch_tpm_ek_cert(ag->tpm, 0, &buf, &len);
	if (r == -ENOENT) {
		fprintf(stderr, "vouch-agent: no EK certificate in NV; sending the EK public key "
				"(the server must allow it)\n");
		r = vouch_tpm_ek_public(ag->tpm, 0, &buf, &len);
		if (r == 0 && (b64 = b64_encode(buf, len)))
			json_object_object_add(req, "ek_public", json_object_new_string(b64));
	} else if (r == 0) {
		/* NV indexes may be larger than the certificate: send its DER only */
		const unsigned char *p = buf;
		X509 *x = d2i_X509(NULL, &p, (long)len);

		if (x)
			len = (size_t)(p - buf);
		X509_free(x);
		ERR_clear_error();
		if ((b64 = b64_encode(buf, len)))
			json_object_object_add(req, "ek_cert", json_object_new_string(b64));
	}
	if (r == 0 && !b64)
		r = -ENOMEM;
	if (r < 0)
		fprintf(stderr, "vouch-agent: EK: %s\n", vouch_ctx_last_error(ag->ctx));
	return r;
}

/* the secret out of the server's credential, through TPM2_ActivateCredential */
static int activate(struct agent *ag, const char *cred_b64, char **ret_hex)
{
	_cleanup_free_ uint8_t *file = NULL, *secret = NULL;
	const uint8_t *blob, *enc;
	size_t file_len, blob_len, enc_len, secret_len = 0;
	int r;

	r = vouch_base64_decode(cred_b64, strlen(cred_b64), &file, &file_len);
	if (r == 0)
		r = vouch_credential_decode(ag->ctx, file, file_len, &blob, &blob_len, &enc,
					    &enc_len);
	if (r == 0)
		r = vouch_credential_activate(ag->tpm, ag->handle, 0, blob, blob_len, enc,
					      enc_len, &secret, &secret_len);
	if (r < 0) {
		fprintf(stderr, "vouch-agent: activate the credential: %s\n",
			vouch_ctx_last_error(ag->ctx));
		return r;
	}
	*ret_hex = malloc(2 * secret_len + 1);
	if (!*ret_hex)
		return -ENOMEM;
	for (size_t i = 0; i < secret_len; i++)
		snprintf(*ret_hex + 2 * i, 3, "%02x", secret[i]);
	(*ret_hex)[2 * secret_len] = '\0';
	OPENSSL_cleanse(secret, secret_len);
	return 0;
}

/* the issued certificate is for our key and names our id (CN) */
static int cert_matches(const char *cert_pem, const char *key_pem, const char *id)
{
	BIO *cb = BIO_new_mem_buf(cert_pem, -1), *kb = BIO_new_mem_buf(key_pem, -1);
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *pk = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	char cn[256];
	int r = -EBADMSG;

	if (x && pk && X509_check_private_key(x, pk) == 1 &&
	    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
				      sizeof(cn)) > 0 &&
	    strcmp(cn, id) == 0)
		r = 0;
	ERR_clear_error();
	EVP_PKEY_free(pk);
	X509_free(x);
	BIO_free(kb);
	BIO_free(cb);
	return r;
}

static int enroll(struct agent *ag)
{
	_cleanup_(json_putp) json_object *req = NULL, *resp = NULL, *req2 = NULL, *resp2 = NULL;
	_cleanup_free_ char *ak = NULL, *key = NULL, *csr = NULL, *secret = NULL;
	const char *cred, *cert;
	long code = 0;
	int r;

	req = json_object_new_object();
	if (!req)
		return -ENOMEM;
	r = ek_member(ag, req);
	if (r == 0)
		r = ak_public(ag, &ak);
	if (r < 0)
		return r;
	r = make_key_and_csr(ag->id, &key, &csr);
	if (r < 0) {
		fprintf(stderr, "vouch-agent: cannot make the TLS key and CSR\n");
		return r;
	}
	json_object_object_add(req, "ak", json_object_new_string(ak));
	json_object_object_add(req, "csr", json_object_new_string(csr));
	ag->anonymous = true;
	r = http(ag, "POST", "enroll", json_object_to_json_string(req), &code, &resp);
	if (r == 0 && code != 200) {
		fprintf(stderr, "vouch-agent: enroll: HTTP %ld: %s\n", code, jstr(resp, "error"));
		r = -EPERM;
	}
	if (r == 0 && !(cred = jstr(resp, "credential"))) {
		fprintf(stderr, "vouch-agent: enroll: the answer has no credential\n");
		r = -EBADMSG;
	}
	if (r == 0)
		r = activate(ag, cred, &secret);
	if (r == 0 && !(req2 = json_object_new_object()))
		r = -ENOMEM;
	if (r == 0) {
		json_object_object_add(req2, "secret", json_object_new_string(secret));
		r = http(ag, "POST", "activate", json_object_to_json_string(req2), &code, &resp2);
	}
	ag->anonymous = false;
	if (r < 0)
		return r;
	if (code != 200 && code != 201) {
		fprintf(stderr, "vouch-agent: activate: HTTP %ld: %s\n", code, jstr(resp2, "error"));
		return -EPERM;
	}
	cert = jstr(resp2, "certificate");
	if (!cert || strncmp(cert, "-----BEGIN CERTIFICATE-----", 27) != 0) {
		fprintf(stderr, "vouch-agent: activate: the answer has no certificate\n");
		return -EBADMSG;
	}
	r = cert_matches(cert, key, ag->id);
	if (r < 0) {
		fprintf(stderr, "vouch-agent: activate: the certificate is not for this key and id\n");
		return r;
	}
	/* the key first: a certificate without its key would not be enrolled again */
	r = write_atomic(ag->key, key, strlen(key), 0600);
	if (r < 0) {
		fprintf(stderr, "vouch-agent: cannot write '%s': %s\n", ag->key, strerror(-r));
		return r;
	}
	OPENSSL_cleanse(key, strlen(key));
	r = write_atomic(ag->cert, cert, strlen(cert), 0644);
	if (r < 0) {
		fprintf(stderr, "vouch-agent: cannot write '%s': %s\n", ag->cert, strerror(-r));
		return r;
	}
	fprintf(stderr, "vouch-agent: enrolled as '%s', certificate in '%s'\n", ag->id, ag->cert);
	return 0;
}

/* enrollment talks to the TPM throughout: open it for that time only, like a round */
static int do_enroll(struct agent *ag)
{
	int r = vouch_tpm_open(ag->ctx, ag->tcti, &ag->tpm);

	if (r < 0) {
		fprintf(stderr, "vouch-agent: %s\n", vouch_ctx_last_error(ag->ctx));
		return r;
	}
	r = enroll(ag);
	vouch_tpm_close(ag->tpm);
	ag->tpm = NULL;
	return r;
}

/* tell the server how this agent's evidence arrives: pushed, or fetched from ag->url */
static int do_register(struct agent *ag)
{
	_cleanup_(json_putp) json_object *req = json_object_new_object(), *resp = NULL;
	long code = 0;
	int r;

	if (!req)
		return -ENOMEM;
	json_object_object_add(req, "mode", json_object_new_string(ag->pull ? "pull" : "push"));
	/* vouchd connects to this URL: it must be allowed by its --pull-allow */
	if (ag->pull)
		json_object_object_add(req, "url", json_object_new_string(ag->url));
	r = http(ag, "POST", "mode", json_object_to_json_string(req), &code, &resp);
	if (r < 0)
		return r;
	if (code != 200) {
		fprintf(stderr, "vouch-agent: mode: HTTP %ld: %s\n", code, jstr(resp, "error"));
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
	bool resent = false;
	long code = 0;
	int r;

	for (size_t i = 0; i < nonce_len; i++) {
		unsigned v;

		if (sscanf(ag->nonce + 2 * i, "%2x", &v) != 1)
			return -EBADMSG;
		nonce[i] = (uint8_t)v;
	}
	r = agent_build_evidence(ag->ctx, ag->tcti, ag->handle, ag->ima, ag->pcrs, nonce, nonce_len,
				 &from, &ag->list_base, &json, &sent);
	if (r < 0)
		return r;
	if (!json) {
		fprintf(stderr, "vouch-agent: the list is empty, nothing to push\n");
		return 0;
	}
	if (!sent)
		fprintf(stderr, "vouch-agent: no entries after %llu: the quote alone\n",
			(unsigned long long)from);
	r = http(ag, "POST", "attest", json, &code, &resp);
	/*
	 * The connection broke: the push may have been committed with its answer lost.  The
	 * same evidence goes again, marked as a resend: vouchd judges it when it never got
	 * the first, and answers 409 when its nonce was used (the first was stored).
	 */
	for (unsigned i = 0; r == -ENOTCONN && i < RESENDS; i++) {
		sleep(1U << i);
		ag->resend = true;
		r = http(ag, "POST", "attest", json, &code, &resp);
		ag->resend = false;
		resent = true;
	}
	if (r == -ENOTCONN && resent)
		fprintf(stderr, "vouch-agent: attest: no answer after %d resends: the next round "
				"starts with a fresh nonce\n", RESENDS);
	if (r < 0)
		return r;
	if (code == 409 && resent) {
		fprintf(stderr, "vouch-agent: attest: the resent push's nonce was used (the first "
				"was stored): a new round with a fresh nonce\n");
		ag->nonce[0] = '\0';
		return -EAGAIN;
	}
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
			"[--enroll] --once|--interval S\n"
			"       vouch-agent --mode pull --listen HOST:PORT --verifier-name NAME --cert CRT "
			"--key KEY --cacert CA --tpm TCTI [--ak-handle H] [--ima-list PATH] "
			"[--server URL --id ID [--url URL] [--enroll]]\n");
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
	{ "enroll", no_argument, NULL, 'e' },
	{ "interval", required_argument, NULL, 'n' },
	{ "mode", required_argument, NULL, 'm' },
	{ "listen", required_argument, NULL, 'L' },
	{ "verifier-name", required_argument, NULL, 'V' },
	{ "url", required_argument, NULL, 'u' },
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
	case 'm':
		if (strcmp(arg, "push") != 0 && strcmp(arg, "pull") != 0) {
			*why = "push or pull";
			return -EINVAL;
		}
		ag->mode = arg;
		break;
	case 'L': ag->listen = arg; break;
	case 'V': ag->verifier_name = arg; break;
	case 'u': ag->url = arg; break;
	case 'C': ag->config = arg; break;
	case 'H':
		if (parse_u32(arg, 0, &ag->handle) < 0 || ag->handle < 0x81000000U ||
		    ag->handle > 0x81ffffffU) {
			*why = "a persistent handle 0x81000000-0x81ffffff";
			return -EINVAL;
		}
		break;
	case 'o': ag->once = true; break;
	case 'e': ag->enroll = true; break;
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
		if (ag->enroll && !ag->server)
			return usage("--enroll needs --server and --id", NULL);
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
	if (r != 0) {
		free(ag.conf_buf);
		return r > 0 ? 0 : EXIT_USAGE;
	}
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
	/* no certificate yet (or asked to): enroll first */
	if (r == 0 && ag.server &&
	    (ag.enroll || (access(ag.cert, F_OK) < 0 && errno == ENOENT)))
		r = do_enroll(&ag);
	if (r == 0 && ag.pull)
		r = agent_serve(&ag, ag.server ? do_register : NULL);
	else if (r == 0)
		r = do_register(&ag);
	if (r == 0 && !ag.pull)
		sd_notifyf(0, "READY=1\nSTATUS=enrolled as '%s' at %s", ag.id, ag.server);
	while (r >= 0 && !ag.pull) {
		if (!ag.nonce[0] || ag.deadline <= (int64_t)time(NULL))
			r = get_nonce(&ag);
		if (r >= 0)
			r = round_once(&ag);
		/* the round's first push was stored but its answer lost: one more, fresh nonce */
		if (r == -EAGAIN) {
			r = get_nonce(&ag);
			if (r >= 0)
				r = round_once(&ag);
			if (r == -EAGAIN)
				r = -EPROTO;
		}
		if (ag.once)
			break;
		/* the server is unreachable (restarting, or the network): try again next round,
		 * as for a refused one, rather than exit and wait for a restart */
		if (r == -ENOTCONN) {
			ag.nonce[0] = '\0'; /* it may have been used by a push stored unanswered */
			r = -EPROTO;
		}
		if (r < 0 && r != -EPROTO)
			break;
		sd_notifyf(0, "STATUS=last round: %s", r == 0 ? "trusted" : r == 1 ? "untrusted"
							      : "refused by the server");
		if (r == -EPROTO)
			r = 0; /* the server refused this round; ask for a new nonce next time */
		pause_round(ag.interval);
	}
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
