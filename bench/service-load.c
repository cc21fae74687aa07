// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench/service's load generator: N simulated agents push attestations to vouchd.
 *
 * Each agent has a software AK (ECDSA P-256, OpenSSL) registered with vouchd as a PEM
 * SubjectPublicKeyInfo, and a measurement list kept here.  A round appends 16 ima-ng entries,
 * extends PCR 10 with them and signs a TPMS_ATTEST built byte for byte as a TPM builds a
 * quote (TPM 2.0 Library Part 2, 10.12.12: magic, TPM_ST_ATTEST_QUOTE, qualifiedSigner,
 * extraData = the server's nonce, clockInfo, firmwareVersion, TPMS_QUOTE_INFO over
 * sha256:10), then pushes the 16 new entries; the reply carries the next round's nonce.
 * A TPM signs a handful of quotes per second; this signs thousands, so that the service is
 * what is measured.  Threads, each with one libcurl handle: one keep-alive TLS connection
 * per thread, its TLS session reused across reconnections.
 *
 *   service-load URL CA CERT KEY AGENTS THREADS SECONDS [INTERVAL]
 *
 * With INTERVAL (seconds) each thread pauses that long between rounds and every round must
 * complete within ROUND_DEADLINE: the honest agent of tests/service/test-vouchd-attack.sh.
 *
 * prints "register", "round1" and "steady" lines: count, rate, p50, p99 (end to end), and
 * fails (exit 1) on any round that is not 200 with verdict "trusted".
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "load-common.h"

#define ENTRIES_PER_ROUND 16
#define ROUND_DEADLINE 5 /* s, with INTERVAL */

struct agent {
	char id[32];
	EVP_PKEY *key;
	struct load_list list;
	uint8_t nonce[LOAD_NONCE_MAX];
	size_t nonce_len;
};

struct worker {
	pthread_t thread;
	struct agent *agents;
	size_t n_agents;
	CURL *curl;
	struct load_buf out;
	double *lat; /* steady-state latencies (s) */
	size_t n_lat, lat_size;
	uint64_t failures;
	double reg_time, round1_time, steady_start, steady_end;
};

static const char *url, *ca, *cert, *key, *op_cert, *op_key;
static double seconds, interval;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* -> HTTP status, the reply in w->out; -1 on a transport failure */
static long http(struct worker *w, const char *path, const char *body)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	char u[512];
	long code = -1;

	snprintf(u, sizeof(u), "%s%s", url, path);
	w->out.len = 0;
	curl_easy_setopt(w->curl, CURLOPT_URL, u);
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, body ? h : NULL);
	if (body)
		curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, body);
	else
		curl_easy_setopt(w->curl, CURLOPT_HTTPGET, 1L);
	if (curl_easy_perform(w->curl) == CURLE_OK)
		curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	if (!w->out.p)
		load_on_data("", 0, 0, &w->out);
	return code;
}

/* 16 new ima-ng entries, PCR 10 extended */
static size_t make_entries(struct agent *a, uint8_t *out)
{
	size_t len = 0;

	for (int i = 0; i < ENTRIES_PER_ROUND; i++) {
		char name[LOAD_NAME_MAX];
		uint8_t fd[32];

		if (a->list.entries == 0) { /* as IMA's first entry; PCRs 0-7 are not quoted here */
			static const uint8_t zero[320];

			snprintf(name, sizeof(name), "boot_aggregate");
			SHA256(zero, sizeof(zero), fd);
		} else {
			snprintf(name, sizeof(name), "/usr/lib/bench/%s/file-%llu", a->id,
				 (unsigned long long)a->list.entries);
			SHA256((const uint8_t *)name, strlen(name) + 1, fd);
		}
		len += load_entry(&a->list, "ima-ng", fd, name, NULL, 0, out + len);
	}
	return len;
}

/* the evidence of one round, or NULL */
static char *evidence(struct agent *a, uint64_t from)
{
	uint8_t list[ENTRIES_PER_ROUND * LOAD_ENTRY_MAX], signer[34] = { 0x00, 0x0b };
	size_t len = make_entries(a, list);

	memset(signer + 2, 0x42, 32);

	return load_evidence(a->key, &a->list, signer, a->nonce, a->nonce_len, list, len, from);
}

/* one push round; 0 when attested and trusted */
static int attest(struct worker *w, struct agent *a)
{
	char path[96], *ev = evidence(a, a->list.entries);
	json_object *o = NULL, *v;
	long code;
	int r = -EIO;

	snprintf(path, sizeof(path), "/v1/agents/%s/attest", a->id);
	if (!ev)
		return -ENOMEM;
	code = http(w, path, ev);
	free(ev);
	if (code == 200 && (o = json_tokener_parse(w->out.p)) &&
	    json_object_object_get_ex(o, "verdict", &v) &&
	    strcmp(json_object_get_string(v), "trusted") == 0 && load_take_nonce(o, a->nonce, &a->nonce_len) == 0)
		r = 0;
	if (r < 0 && w->failures++ < 3)
		fprintf(stderr, "service-load: %s: HTTP %ld: %.4000s\n", a->id, code,
			w->out.p ? w->out.p : "");
	json_object_put(o);
	return r;
}

static int enroll(struct worker *w, struct agent *a)
{
	BIO *b = BIO_new(BIO_s_mem());
	char path[96], *pem, *body;
	uint8_t b64[1024];
	json_object *o;
	long n, code;
	int r = -EIO;

	a->key = EVP_EC_gen("P-256");
	if (!a->key || !b || PEM_write_bio_PUBKEY(b, a->key) != 1 ||
	    (n = BIO_get_mem_data(b, &pem)) <= 0 || n > 700) {
		BIO_free(b);
		return -ENOMEM;
	}
	EVP_EncodeBlock(b64, (const uint8_t *)pem, (int)n);
	BIO_free(b);
	if (asprintf(&body, "{\"ak\":\"%s\"}", b64) < 0)
		return -ENOMEM;
	/* software AKs have no EK to enroll with: an operator provisions them (PUT, with the
	 * operator's certificate; a new connection), then the agent's certificate again */
	snprintf(path, sizeof(path), "/v1/agents/%s", a->id);
	curl_easy_setopt(w->curl, CURLOPT_SSLCERT, op_cert);
	curl_easy_setopt(w->curl, CURLOPT_SSLKEY, op_key);
	curl_easy_setopt(w->curl, CURLOPT_CUSTOMREQUEST, "PUT");
	code = http(w, path, body);
	curl_easy_setopt(w->curl, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(w->curl, CURLOPT_SSLCERT, cert);
	curl_easy_setopt(w->curl, CURLOPT_SSLKEY, key);
	free(body);
	if (code != 201 && code != 200) {
		fprintf(stderr, "service-load: provision %s: HTTP %ld: %.300s\n", a->id, code,
			w->out.p);
		return -EIO;
	}
	snprintf(path, sizeof(path), "/v1/agents/%s/nonce", a->id);
	code = http(w, path, NULL);
	if (code == 200 && (o = json_tokener_parse(w->out.p))) {
		r = load_take_nonce(o, a->nonce, &a->nonce_len);
		json_object_put(o);
	}
	return r;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	double t0 = now(), end;

	for (size_t i = 0; i < w->n_agents; i++)
		if (enroll(w, &w->agents[i]) < 0)
			w->failures++;
	w->reg_time = now() - t0;
	t0 = now();
	for (size_t i = 0; i < w->n_agents; i++)
		(void)attest(w, &w->agents[i]);
	w->round1_time = now() - t0;
	w->steady_start = now();
	end = w->steady_start + seconds;
	for (size_t i = 0; !w->failures && now() < end; i = (i + 1) % w->n_agents) {
		double t = now();

		if (attest(w, &w->agents[i]) < 0)
			break;
		if (w->n_lat == w->lat_size) {
			size_t size = w->lat_size ? 2 * w->lat_size : 4096;
			double *l = realloc(w->lat, size * sizeof(*l));

			if (!l)
				break;
			w->lat = l;
			w->lat_size = size;
		}
		w->lat[w->n_lat++] = now() - t;
		if (interval > 0) {
			struct timespec ts = { .tv_sec = (time_t)interval,
					       .tv_nsec = (long)((interval - (time_t)interval) * 1e9) };

			if (now() - t > ROUND_DEADLINE) {
				fprintf(stderr, "service-load: a round took %.1f s\n", now() - t);
				w->failures++;
			}
			nanosleep(&ts, NULL);
		}
	}
	w->steady_end = now();
	return NULL;
}

int main(int argc, char **argv)
{
	size_t n_agents, n_threads, total = 0;
	struct agent *agents;
	struct worker *w;
	uint64_t failures = 0;
	double *all, reg = 0, r1 = 0, start = 1e300, stop = 0, wall;

	if (argc != 8 && argc != 9) {
		fprintf(stderr, "usage: service-load URL CA CERT KEY AGENTS THREADS SECONDS [INTERVAL]\n");
		return 2;
	}
	url = argv[1];
	op_cert = getenv("SERVICE_LOAD_OPERATOR_CERT");
	op_key = getenv("SERVICE_LOAD_OPERATOR_KEY");
	if (!op_cert || !op_key) {
		fprintf(stderr, "service-load: SERVICE_LOAD_OPERATOR_CERT and _KEY name the operator "
				"certificate that provisions the agents\n");
		return 2;
	}
	ca = argv[2];
	cert = argv[3];
	key = argv[4];
	n_agents = strtoul(argv[5], NULL, 10);
	n_threads = strtoul(argv[6], NULL, 10);
	seconds = strtod(argv[7], NULL);
	interval = argc == 9 ? strtod(argv[8], NULL) : 0;
	if (!n_agents || !n_threads || n_threads > n_agents || seconds <= 0)
		return 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	agents = calloc(n_agents, sizeof(*agents));
	w = calloc(n_threads, sizeof(*w));
	if (!agents || !w)
		return 3;
	for (size_t i = 0; i < n_agents; i++)
		snprintf(agents[i].id, sizeof(agents[i].id), "agent%zu", i);
	for (size_t t = 0; t < n_threads; t++) {
		w[t].agents = agents + t * n_agents / n_threads;
		w[t].n_agents = (t + 1) * n_agents / n_threads - t * n_agents / n_threads;
		w[t].curl = curl_easy_init();
		if (!w[t].curl)
			return 3;
		curl_easy_setopt(w[t].curl, CURLOPT_CAINFO, ca);
		curl_easy_setopt(w[t].curl, CURLOPT_SSLCERT, cert);
		curl_easy_setopt(w[t].curl, CURLOPT_SSLKEY, key);
		curl_easy_setopt(w[t].curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
		curl_easy_setopt(w[t].curl, CURLOPT_WRITEFUNCTION, load_on_data);
		curl_easy_setopt(w[t].curl, CURLOPT_WRITEDATA, &w[t].out);
		curl_easy_setopt(w[t].curl, CURLOPT_TCP_NODELAY, 1L);
		curl_easy_setopt(w[t].curl, CURLOPT_TIMEOUT, interval > 0 ? (long)ROUND_DEADLINE : 30L);
		if (pthread_create(&w[t].thread, NULL, run, &w[t]) != 0)
			return 3;
	}
	for (size_t t = 0; t < n_threads; t++) {
		pthread_join(w[t].thread, NULL);
		total += w[t].n_lat;
		failures += w[t].failures;
		reg = reg > w[t].reg_time ? reg : w[t].reg_time;
		r1 = r1 > w[t].round1_time ? r1 : w[t].round1_time;
		start = start < w[t].steady_start ? start : w[t].steady_start;
		stop = stop > w[t].steady_end ? stop : w[t].steady_end;
	}
	wall = stop - start;
	all = malloc((total + 1) * sizeof(*all));
	if (!all)
		return 3;
	total = 0;
	for (size_t t = 0; t < n_threads; t++) {
		memcpy(all + total, w[t].lat, w[t].n_lat * sizeof(*all));
		total += w[t].n_lat;
	}
	qsort(all, total, sizeof(*all), load_cmp_double);
	printf("register+nonce: %zu agents in %.2f s\n", n_agents, reg);
	printf("round 1:        %zu attestations in %.2f s\n", n_agents, r1);
	if (total)
		printf("steady:         %zu attestations in %.2f s: %.0f/s, end to end p50 %.2f ms, "
		       "p99 %.2f ms (%zu threads, %d entries per round)\n",
		       total, wall, (double)total / wall, 1e3 * all[total / 2],
		       1e3 * all[total * 99 / 100], n_threads, ENTRIES_PER_ROUND);
	printf("failures:       %llu\n", (unsigned long long)failures);
	for (size_t t = 0; t < n_threads; t++) {
		curl_easy_cleanup(w[t].curl);
		free(w[t].lat);
		free(w[t].out.p);
	}
	for (size_t i = 0; i < n_agents; i++)
		EVP_PKEY_free(agents[i].key);
	free(all);
	free(w);
	free(agents);
	curl_global_cleanup();
	return failures || !total ? 1 : 0;
}
