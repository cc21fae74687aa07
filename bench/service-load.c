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
 * For the fault tests (tests/service/test-faults-*.sh), from the environment:
 *   SERVICE_LOAD_FAULTS=1   a failed round is not the end: a transport error resends the
 *                           same evidence with X-Vouch-Retry: 1 (for up to RECOVER_FOR s);
 *                           a 409 to a resend (the first was stored, its answer lost), a
 *                           5xx or a resend that never got through fetch a fresh nonce and
 *                           go on from the offset vouchd reports.  Fails only on a wrong
 *                           verdict, an offset that is neither before nor after the round,
 *                           or an agent that cannot recover within RECOVER_FOR.
 *   SERVICE_LOAD_ACKS=FILE  one line per acknowledged result (200): "AGENT SEQ VERDICT TIME"
 *                           (TIME: the Unix time of the answer, ms)
 *   SERVICE_LOAD_BAD=N      the last N agents quote a wrong PCR digest: never "trusted"
 *   SERVICE_LOAD_LAST=FILE  agent0's last evidence that was answered "trusted" (to replay)
 *   SERVICE_LOAD_FIRST=K    the agents are agentK .. agentK+AGENTS-1 (two generators at once)
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
#define RECOVER_FOR 60 /* s, with SERVICE_LOAD_FAULTS */

struct agent {
	char id[32];
	EVP_PKEY *key;
	struct load_list list;
	uint8_t nonce[LOAD_NONCE_MAX];
	size_t nonce_len;
	uint64_t offset; /* vouchd's, from the last nonce answer */
	bool bad; /* quotes a wrong PCR digest */
	double last_ok; /* the last acknowledged round */
};

/* what a round changes in an agent, to take back when vouchd did not store it */
struct snap {
	struct load_list list;
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
	/* SERVICE_LOAD_FAULTS */
	uint64_t trusted, untrusted, resends, lost, refused, transport, gave_up;
	uint64_t stored; /* rounds of honest agents that vouchd stored without an answer */
	double max_gap; /* the longest time between two acknowledged rounds of one agent */
};

static const char *url, *ca, *cert, *key, *op_cert, *op_key;
static double seconds, interval;
static bool faults;
static FILE *acks;
static const char *last_file;
static pthread_mutex_t acks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct agent *first_agent;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* -> HTTP status, the reply in w->out; -1 on a transport failure */
static long http(struct worker *w, const char *path, const char *body, bool resend)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	struct load_body in = { .data = body, .len = body ? strlen(body) : 0 };
	char u[512];
	long code = -1;

	if (h)
		h = curl_slist_append(h, "Expect:");
	if (h && resend)
		h = curl_slist_append(h, "X-Vouch-Retry: 1");
	snprintf(u, sizeof(u), "%s%s", url, path);
	w->out.len = 0;
	curl_easy_setopt(w->curl, CURLOPT_URL, u);
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, body ? h : NULL);
	if (body) {
		curl_easy_setopt(w->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(w->curl, CURLOPT_READFUNCTION, load_read_body);
		curl_easy_setopt(w->curl, CURLOPT_READDATA, &in);
		curl_easy_setopt(w->curl, CURLOPT_SEEKFUNCTION, load_seek_body);
		curl_easy_setopt(w->curl, CURLOPT_SEEKDATA, &in);
		curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)in.len);
	} else {
		curl_easy_setopt(w->curl, CURLOPT_HTTPGET, 1L);
	}
	if (curl_easy_perform(w->curl) == CURLE_OK)
		curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	if (!w->out.p)
		load_on_data("", 0, 0, &w->out);
	return code;
}

/* load_take_nonce(), and vouchd's offset */
static int take_nonce(struct agent *a, json_object *o)
{
	json_object *v;

	if (json_object_object_get_ex(o, "offset", &v))
		a->offset = (uint64_t)json_object_get_int64(v);
	return load_take_nonce(o, a->nonce, &a->nonce_len);
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

	struct load_list quoted = a->list;
	char *ev;

	memset(signer + 2, 0x42, 32);
	if (a->bad) /* a PCR 10 the list does not replay to */
		quoted.pcr10[0] ^= 1;
	ev = load_evidence(a->key, &quoted, signer, a->nonce, a->nonce_len, list, len, from);
	a->list.clock = quoted.clock;
	return ev;
}

static void ack(struct agent *a, int64_t seq, const char *verdict)
{
	struct timespec t;

	if (!acks)
		return;
	clock_gettime(CLOCK_REALTIME, &t);
	pthread_mutex_lock(&acks_lock);
	fprintf(acks, "%s %lld %s %lld.%03ld\n", a->id, (long long)seq, verdict, (long long)t.tv_sec,
		t.tv_nsec / 1000000);
	pthread_mutex_unlock(&acks_lock);
}

static void pause_ms(double ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
			       .tv_nsec = (long)((ms - 1000 * (time_t)(ms / 1000)) * 1e6) };

	nanosleep(&ts, NULL);
}

/*
 * After a round vouchd did not acknowledge: a fresh nonce (retried through transport errors
 * and 5xx for RECOVER_FOR), and the agent's list where vouchd has it: the round's entries
 * kept when vouchd stored the round (offset after it), taken back when it did not (offset
 * before it).  0, or -EIO.
 */
static int recover(struct worker *w, struct agent *a, const struct snap *before)
{
	char path[96];
	double t0 = now();
	json_object *o = NULL;
	long code = -1;

	snprintf(path, sizeof(path), "/v1/agents/%s/nonce", a->id);
	for (unsigned i = 0; now() - t0 < RECOVER_FOR; i++) {
		code = http(w, path, NULL, false);
		if (code == 200)
			break;
		if (code < 0)
			w->transport++;
		pause_ms(i < 4 ? 50 << i : 500);
	}
	if (code != 200 || !(o = json_tokener_parse(w->out.p)) || take_nonce(a, o) < 0) {
		json_object_put(o);
		fprintf(stderr, "service-load: %s: no nonce within %d s (HTTP %ld)\n", a->id,
			RECOVER_FOR, code);
		return -EIO;
	}
	json_object_put(o);
	if (a->offset == a->list.entries) {
		if (a->list.entries != before->list.entries && !a->bad)
			w->stored++; /* stored, its answer lost */
		return 0;
	}
	if (a->offset == before->list.entries) {
		a->list = before->list;
		return 0;
	}
	fprintf(stderr, "service-load: %s: vouchd's offset %llu is neither %llu nor %llu\n", a->id,
		(unsigned long long)a->offset, (unsigned long long)before->list.entries,
		(unsigned long long)a->list.entries);
	return -EIO;
}

/* one push round; 0 when attested and trusted, -EAGAIN when recovered from a fault */
static int attest(struct worker *w, struct agent *a)
{
	struct snap before = { .list = a->list };
	char path[96], *ev;
	json_object *o = NULL, *v, *seq;
	const char *verdict = NULL;
	bool resent = false;
	long code;
	int r = -EIO;

	ev = evidence(a, a->list.entries);
	snprintf(path, sizeof(path), "/v1/agents/%s/attest", a->id);
	if (!ev)
		return -ENOMEM;
	code = http(w, path, ev, false);
	for (unsigned i = 0; faults && code < 0; i++) {
		w->transport++;
		if (i >= 5 && now() - a->last_ok > RECOVER_FOR)
			break;
		pause_ms(i < 4 ? 50 << i : 500);
		code = http(w, path, ev, true);
		w->resends++;
		resent = true;
	}
	if (code == 200 && (o = json_tokener_parse(w->out.p)) &&
	    json_object_object_get_ex(o, "verdict", &v) && (verdict = json_object_get_string(v)) &&
	    json_object_object_get_ex(o, "result", &seq) && take_nonce(a, o) == 0) {
		double t = now();

		ack(a, json_object_get_int64(seq), verdict);
		if (a->last_ok > 0 && t - a->last_ok > w->max_gap)
			w->max_gap = t - a->last_ok;
		a->last_ok = t;
		if (strcmp(verdict, "trusted") == 0) {
			w->trusted++;
			r = a->bad ? -EPERM : 0;
			if (last_file && a == &w->agents[0] && w->agents == first_agent) {
				FILE *f = fopen(last_file, "we");

				if (f) {
					fputs(ev, f);
					fclose(f);
				}
			}
		} else {
			w->untrusted++;
			r = a->bad ? -EAGAIN : -EPERM;
			/* not stored as the agent's state: the same entries again next time */
			memcpy(a->list.pcr10, before.list.pcr10, 32);
			a->list.entries = before.list.entries;
		}
		if (r == -EPERM) {
			fprintf(stderr, "service-load: %s: WRONG verdict %s\n", a->id, verdict);
			w->failures++;
		}
	} else if (faults) {
		if (code == 409 && resent)
			w->lost++;
		else if (code >= 500)
			w->refused++;
		else if (code < 0)
			w->gave_up++;
		else if (w->failures++ < 3)
			fprintf(stderr, "service-load: %s: HTTP %ld: %.400s\n", a->id, code,
				w->out.p ? w->out.p : "");
		r = recover(w, a, &before) == 0 ? -EAGAIN : -EIO;
		if (r == -EIO)
			w->failures++;
	}
	free(ev);
	if (r == -EIO && !faults && w->failures++ < 3)
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
	code = http(w, path, body, false);
	for (int i = 0; faults && (code < 0 || code >= 500) && i < 50; i++) {
		pause_ms(200);
		code = http(w, path, body, false);
	}
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
	code = http(w, path, NULL, false);
	for (int i = 0; faults && (code < 0 || code >= 500) && i < 50; i++) {
		pause_ms(200);
		code = http(w, path, NULL, false);
	}
	if (code == 200 && (o = json_tokener_parse(w->out.p))) {
		r = take_nonce(a, o);
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
		int r = attest(w, &w->agents[i]);

		if (r < 0 && r != -EAGAIN) /* -EAGAIN: a fault recovered from, no latency */
			break;
		if (r == 0 && w->n_lat == w->lat_size) {
			size_t size = w->lat_size ? 2 * w->lat_size : 4096;
			double *l = realloc(w->lat, size * sizeof(*l));

			if (!l)
				break;
			w->lat = l;
			w->lat_size = size;
		}
		if (r == 0)
			w->lat[w->n_lat++] = now() - t;
		if (interval > 0) {
			struct timespec ts = { .tv_sec = (time_t)interval,
					       .tv_nsec = (long)((interval - (time_t)interval) * 1e9) };

			if (!faults && now() - t > ROUND_DEADLINE) {
				fprintf(stderr, "service-load: a round took %.1f s\n", now() - t);
				w->failures++;
			}
			nanosleep(&ts, NULL);
		}
	}
	w->steady_end = now();
	return NULL;
}

/* what the workers counted, summed (times: the longest, or the span) */
struct totals {
	size_t total;
	uint64_t failures, trusted, untrusted, resends, lost, refused, transport, gave_up, stored;
	double max_gap, reg, r1, start, stop;
};

/* the arguments and the SERVICE_LOAD_* environment into the globals; -1: go on, else the
 * exit code */
static int parse_args(int argc, char **argv, size_t *n_agents, size_t *n_threads,
		      uint64_t *bad, uint64_t *first)
{
	const char *e;

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
	*n_agents = strtoul(argv[5], NULL, 10);
	*n_threads = strtoul(argv[6], NULL, 10);
	seconds = strtod(argv[7], NULL);
	interval = argc == 9 ? strtod(argv[8], NULL) : 0;
	if (!*n_agents || !*n_threads || *n_threads > *n_agents || seconds <= 0)
		return 2;
	faults = (e = getenv("SERVICE_LOAD_FAULTS")) && strcmp(e, "1") == 0;
	if ((e = getenv("SERVICE_LOAD_BAD")))
		*bad = strtoull(e, NULL, 10);
	if ((e = getenv("SERVICE_LOAD_FIRST")))
		*first = strtoull(e, NULL, 10);
	last_file = getenv("SERVICE_LOAD_LAST");
	if ((e = getenv("SERVICE_LOAD_ACKS")) && !(acks = fopen(e, "we"))) {
		fprintf(stderr, "service-load: cannot open '%s'\n", e);
		return 3;
	}
	if (acks) /* the tests follow it while the load runs */
		setvbuf(acks, NULL, _IOLBF, 0);
	return -1;
}

/* one worker thread per share of the agents, each with its own connection; 0 or 3 */
static int start_workers(struct worker *w, size_t n_threads, struct agent *agents,
			 size_t n_agents)
{
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
	return 0;
}

/* wait for the workers and sum what they counted */
static void join_workers(struct worker *w, size_t n_threads, struct totals *s)
{
	for (size_t t = 0; t < n_threads; t++) {
		pthread_join(w[t].thread, NULL);
		s->total += w[t].n_lat;
		s->failures += w[t].failures;
		s->trusted += w[t].trusted;
		s->untrusted += w[t].untrusted;
		s->resends += w[t].resends;
		s->lost += w[t].lost;
		s->refused += w[t].refused;
		s->transport += w[t].transport;
		s->gave_up += w[t].gave_up;
		s->stored += w[t].stored;
		s->max_gap = s->max_gap > w[t].max_gap ? s->max_gap : w[t].max_gap;
		s->reg = s->reg > w[t].reg_time ? s->reg : w[t].reg_time;
		s->r1 = s->r1 > w[t].round1_time ? s->r1 : w[t].round1_time;
		s->start = s->start < w[t].steady_start ? s->start : w[t].steady_start;
		s->stop = s->stop > w[t].steady_end ? s->stop : w[t].steady_end;
	}
}

/* the summary lines; @all: the @total latencies, sorted */
static void report(const struct totals *s, const double *all, size_t n_agents, size_t n_threads)
{
	size_t total = s->total;
	double wall = s->stop - s->start;

	printf("register+nonce: %zu agents in %.2f s\n", n_agents, s->reg);
	printf("round 1:        %zu attestations in %.2f s\n", n_agents, s->r1);
	if (total)
		printf("steady:         %zu attestations in %.2f s: %.0f/s, end to end p50 %.2f ms, "
		       "p99 %.2f ms (%zu threads, %d entries per round)\n",
		       total, wall, (double)total / wall, 1e3 * all[total / 2],
		       1e3 * all[total * 99 / 100], n_threads, ENTRIES_PER_ROUND);
	if (faults || acks)
		printf("acknowledged:   %llu (trusted %llu, untrusted %llu); transport errors %llu, "
		       "resends %llu, 409 to a resend %llu, 5xx %llu, given up %llu; stored "
		       "without an answer (honest agents) %llu; longest gap between an agent's "
		       "acknowledged rounds %.2f s\n",
		       (unsigned long long)(s->trusted + s->untrusted),
		       (unsigned long long)s->trusted, (unsigned long long)s->untrusted,
		       (unsigned long long)s->transport,
		       (unsigned long long)s->resends, (unsigned long long)s->lost,
		       (unsigned long long)s->refused, (unsigned long long)s->gave_up,
		       (unsigned long long)s->stored, s->max_gap);
	printf("failures:       %llu\n", (unsigned long long)s->failures);
}

int main(int argc, char **argv)
{
	size_t n_agents = 0, n_threads = 0, total = 0;
	struct agent *agents;
	struct worker *w;
	struct totals s = { .start = 1e300 };
	uint64_t bad = 0, first = 0;
	double *all;
	int r;

	r = parse_args(argc, argv, &n_agents, &n_threads, &bad, &first);
	if (r >= 0)
		return r;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	agents = calloc(n_agents, sizeof(*agents));
	w = calloc(n_threads, sizeof(*w));
	if (!agents || !w)
		return 3;
	first_agent = agents;
	for (size_t i = 0; i < n_agents; i++) {
		snprintf(agents[i].id, sizeof(agents[i].id), "agent%llu",
			 (unsigned long long)(first + i));
		agents[i].bad = i + bad >= n_agents;
	}
	if (start_workers(w, n_threads, agents, n_agents) != 0)
		return 3;
	join_workers(w, n_threads, &s);
	all = malloc((s.total + 1) * sizeof(*all));
	if (!all)
		return 3;
	for (size_t t = 0; t < n_threads; t++) {
		memcpy(all + total, w[t].lat, w[t].n_lat * sizeof(*all));
		total += w[t].n_lat;
	}
	qsort(all, total, sizeof(*all), load_cmp_double);
	report(&s, all, n_agents, n_threads);
	if (acks && fclose(acks) != 0) {
		fprintf(stderr, "service-load: cannot write the acknowledgements\n");
		s.failures++;
	}
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
	return s.failures || !total ? 1 : 0;
}
