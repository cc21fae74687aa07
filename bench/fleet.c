// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench/fleet's load generator: thousands of simulated agents enroll with vouchd and push
 * attestations through the endpoints a real `vouch agent` uses, with software keys standing
 * in for their TPMs.  The verifier gets no shortcut: each agent has
 *
 *   - an RSA-2048 EK and an EK certificate issued by a test CA (--keys DIR/ek-ca.*) that
 *     vouchd trusts with --ek-ca;
 *   - an ECDSA P-256 AK whose public area is a TPM2B_PUBLIC with the attributes of a
 *     TPM-resident restricted signing key; its name binds the credential;
 *   - enrollment: POST /v1/agents/ID/enroll {ek_cert, ak, csr}, then TPM2_ActivateCredential
 *     done here in software (TPM 2.0 Part 1, section 24: RSA-OAEP-SHA256 with label
 *     "IDENTITY\0" recovers the seed; KDFa gives the HMAC and AES-128 keys; the integrity HMAC
 *     over encIdentity || name is checked before AES-128-CFB decrypts the secret), POST
 *     /activate {secret} -> the agent's X.509 client certificate; POST /mode {"mode":"push"}
 *     with it;
 *   - then every --interval seconds (starts spread evenly over one interval) one round over a
 *     new mutual-TLS connection with its own certificate: GET /nonce when it has no valid
 *     nonce, POST /attest with a TPMS_ATTEST quote over PCR 10 signed by the AK and the list
 *     entries since the last round (--entries, template ima-sig; --signed of them carry a real
 *     RSA signature by DIR/ima.key, which vouchd checks with --trust DIR/ima.crt); the reply
 *     carries the verdict, the offset the server verified to and the next nonce.
 *
 * EKs: RSA key generation (about 50 ms a key) would dominate 10,000 agents, so the EKs are
 * products of two primes out of a pool of 1024-bit primes kept in DIR/primes (P primes give
 * P(P-1)/2 distinct moduli; 143 primes for 10,000 agents).  Such keys share factors and are
 * worthless outside a benchmark; vouchd sees ordinary 2048-bit RSA public keys.
 *
 * Measured on the client side: connect + TLS handshake, nonce fetch, push round trip (request
 * sent to verdict received) p50/p99, attestations/s, how late rounds started, errors by kind;
 * on the server side the deltas of each node's /metrics histograms over the steady window
 * (parse, verify, store, commit), its verdict counters and resident memory.
 *
 * With --ceiling the rate steps up (the interval shrinks by 1/1.25 per --step seconds) until
 * the server-side p99 crosses 100 ms, the rate achieved falls behind the rate offered, or a
 * round fails.
 *
 * Exit: 0 all rounds trusted and no error; 1 an error or a verdict other than trusted; 2 usage;
 * 3 could not run.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <vouch/ctx.h>
#include <vouch/digest.h>
#include <vouch/ima.h>
#include <vouch/key.h>

#include "load-common.h"

#define SIGNED_POOL 64 /* distinct signed "package" files shared by the fleet */
#define SECRET_MAX 64
#define P99_LIMIT 0.100 /* s */
#define N_HIST 5 /* vouchd's four phases and db commit */
#define N_LE 9 /* its eight buckets and +Inf */

enum err_kind {
	E_CONNECT, E_TLS, E_TIMEOUT, E_TRANSPORT, E_HTTP4XX, E_HTTP5XX, E_REPLY, E_UNTRUSTED,
	E_OFFSET, E_CREDENTIAL, E_LATE, _E_MAX
};
static const char *const err_names[_E_MAX] = {
	"connect", "tls", "timeout", "transport", "http-4xx", "http-5xx", "bad-reply",
	"not-trusted", "offset", "credential", "late-start",
};
static const double le_bounds[N_LE - 1] = { 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5 };
static const char *const hist_names[N_HIST] = { "parse", "verify", "store", "commit",
						"db-commit" };

struct agent {
	char id[24];
	unsigned node;
	EVP_PKEY *ak;
	uint8_t ak_name[34];
	struct curl_blob tls_key, tls_cert; /* PEM, owned */
	struct load_list list;
	uint8_t nonce[LOAD_NONCE_MAX];
	size_t nonce_len;
	int64_t nonce_deadline;
	/* enrollment material, released after enrollment */
	EVP_PKEY *ek;
	uint8_t *ek_cert, *ak_pub;
	size_t ek_cert_len, ak_pub_len;
	char *csr;
};

struct series {
	double *v;
	size_t n, size;
};

struct worker {
	pthread_t thread;
	unsigned index;
	CURL *curl;
	CURLM *multi;
	struct load_buf out;
	struct series tls, nonce, push, late, enroll;
	uint64_t errors[_E_MAX], rounds, trusted, sigs;
	uint64_t resent_gets; /* GETs sent again after a kept connection died */
	uint64_t resent_pushes; /* pushes likewise, with X-Vouch-Retry: 1 */
	uint64_t warm_rounds, warm_trusted, warm_errors; /* before t_count */
	unsigned long http_codes[600];
	unsigned n_err_msgs;
	double cpu_keys;
};

struct snapshot { /* the sum over the nodes of one /metrics read */
	double le[N_HIST][N_LE], count[N_HIST], sum[N_HIST];
	double trusted, untrusted, error, refused, rss[16];
	bool ok;
};

static struct {
	char *urls[16];
	unsigned n_urls;
	const char *cacert, *keys;
	size_t agents, threads;
	double interval, duration, step;
	unsigned entries, signed_per_round;
	bool ceiling, keepalive;
	double warmup; /* s of rounds before the measured window, not counted */
	const char *prefix;
	int pids[16];
	unsigned n_pids;
	int db_pid; /* the PostgreSQL postmaster: its CPU and its children's (--db-pid) */
} opt = { .threads = 32, .interval = 10, .duration = 60, .step = 20, .entries = 16,
	  .signed_per_round = 2, .prefix = "fleet" };

static struct agent *agents;
static struct worker *workers;
static X509 *ek_ca;
static EVP_PKEY *ek_ca_key;
static BIGNUM **primes;
static size_t n_primes;
static struct {
	char name[LOAD_NAME_MAX];
	uint8_t fd[32];
	uint8_t *sig;
	size_t sig_len;
} pool[SIGNED_POOL];
static pthread_barrier_t barrier;
static double t_steady, t_count, t_end, cur_interval;
static atomic_uint next_prime;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	double d = t - now();

	if (d > 0) {
		struct timespec ts = { .tv_sec = (time_t)d, .tv_nsec = (long)((d - (time_t)d) * 1e9) };

		nanosleep(&ts, NULL);
	}
}

static double cpu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void series_add(struct series *s, double v)
{
	if (s->n == s->size) {
		size_t size = s->size ? 2 * s->size : 1024;
		double *p = realloc(s->v, size * sizeof(*p));

		if (!p)
			return;
		s->v = p;
		s->size = size;
	}
	s->v[s->n++] = v;
}

/* the workers' series @off (offset of a struct series in struct worker), merged and sorted */
static struct series merged(size_t off)
{
	struct series all = { 0 };

	for (size_t t = 0; t < opt.threads; t++) {
		struct series *s = (struct series *)((char *)&workers[t] + off);

		for (size_t i = 0; i < s->n; i++)
			series_add(&all, s->v[i]);
	}
	if (all.n)
		qsort(all.v, all.n, sizeof(*all.v), load_cmp_double);
	return all;
}

static void put_be16(uint8_t **p, uint16_t v)
{
	*(*p)++ = (uint8_t)(v >> 8);
	*(*p)++ = (uint8_t)v;
}

/* --- keys ------------------------------------------------------------------------------- */

/* the prime pool for @agents distinct moduli: read from DIR/primes, completed and saved */
static int primes_load(size_t want_agents)
{
	char path[4096], line[600];
	size_t want = 2;
	FILE *f;

	while (want * (want - 1) / 2 < want_agents)
		want++;
	primes = calloc(want, sizeof(*primes));
	if (!primes)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/primes", opt.keys);
	f = fopen(path, "r");
	while (f && n_primes < want && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (BN_hex2bn(&primes[n_primes], line) > 0 && BN_num_bits(primes[n_primes]) == 1024)
			n_primes++;
	}
	if (f)
		fclose(f);
	return (int)want;
}

/* one more 1024-bit prime whose p - 1 is prime to 65537 */
static BIGNUM *new_prime(void)
{
	BIGNUM *p = BN_new(), *p1 = BN_new(), *e = BN_new(), *g = BN_new();
	BN_CTX *c = BN_CTX_new();

	while (p && p1 && e && g && c && BN_set_word(e, RSA_F4) &&
	       BN_generate_prime_ex2(p, 1024, 0, NULL, NULL, NULL, c) == 1 && BN_copy(p1, p) &&
	       BN_sub_word(p1, 1) && BN_gcd(g, p1, e, c)) {
		if (BN_is_one(g))
			break;
	}
	BN_free(p1);
	BN_free(e);
	BN_free(g);
	BN_CTX_free(c);
	return p;
}

/* agent @i's EK: the @i-th pair of the pool */
static EVP_PKEY *ek_for(size_t i)
{
	size_t b = 1, a;
	BIGNUM *n = BN_new(), *e = BN_new(), *d = BN_new(), *p1 = BN_new(), *q1 = BN_new();
	BIGNUM *dp = BN_new(), *dq = BN_new(), *qi = BN_new(), *l = BN_new();
	BN_CTX *c = BN_CTX_new();
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pc = NULL;
	EVP_PKEY *pk = NULL;
	const BIGNUM *p, *q;

	while (b * (b + 1) / 2 <= i)
		b++;
	a = i - b * (b - 1) / 2;
	p = primes[b], q = primes[a];
	/* d = e^-1 mod lcm(p - 1, q - 1) */
	if (!n || !e || !d || !p1 || !q1 || !dp || !dq || !qi || !l || !c || !bld ||
	    !BN_mul(n, p, q, c) || !BN_set_word(e, RSA_F4) || !BN_sub(p1, p, BN_value_one()) ||
	    !BN_sub(q1, q, BN_value_one()) || !BN_gcd(l, p1, q1, c) || !BN_div(l, NULL, p1, l, c) ||
	    !BN_mul(l, l, q1, c) || !BN_mod_inverse(d, e, l, c) || !BN_mod(dp, d, p1, c) ||
	    !BN_mod(dq, d, q1, c) || !BN_mod_inverse(qi, q, p, c))
		goto out;
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qi) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    !(pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) || EVP_PKEY_fromdata_init(pc) <= 0 ||
	    EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_KEYPAIR, params) <= 0)
		pk = NULL;
out:
	BN_free(n), BN_free(e), BN_clear_free(d), BN_clear_free(p1), BN_clear_free(q1);
	BN_clear_free(dp), BN_clear_free(dq), BN_clear_free(qi), BN_free(l);
	BN_CTX_free(c);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(pc);
	return pk;
}

/* the EK certificate (DER) of agent @i, issued by the test EK CA */
static int ek_cert_for(size_t i, EVP_PKEY *ek, uint8_t **ret, size_t *ret_len)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *bc = NULL, *ku = NULL;
	char cn[64];
	unsigned char *der = NULL;
	int n = -1;

	snprintf(cn, sizeof(cn), "%s-ek-%zu", opt.prefix, i);
	if (x && name && X509_set_version(x, 2) == 1 &&
	    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)i + 1) == 1 &&
	    X509_set_issuer_name(x, X509_get_subject_name(ek_ca)) == 1 &&
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (unsigned char *)cn, -1, -1, 0) &&
	    X509_set_subject_name(x, name) == 1 && X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
	    X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400) && X509_set_pubkey(x, ek) == 1) {
		X509V3_set_ctx(&v3, ek_ca, x, NULL, NULL, 0);
		bc = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:FALSE");
		ku = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, "critical,keyEncipherment");
		if (bc && ku && X509_add_ext(x, bc, -1) && X509_add_ext(x, ku, -1) &&
		    X509_sign(x, ek_ca_key, EVP_sha256()) > 0)
			n = i2d_X509(x, &der);
	}
	X509_EXTENSION_free(bc);
	X509_EXTENSION_free(ku);
	X509_NAME_free(name);
	X509_free(x);
	if (n <= 0)
		return -EIO;
	*ret = der;
	*ret_len = (size_t)n;
	return 0;
}

/* the AK: P-256, ECDSA-SHA256; its TPM2B_PUBLIC (TPM 2.0 Part 2, 12.2.4) and name */
static int ak_for(struct agent *a)
{
	BIGNUM *x = NULL, *y = NULL;
	uint8_t pub[2 + 2 + 2 + 4 + 2 + 2 + 4 + 2 + 2 + 2 * 34], *p = pub + 2, md[32];
	int r = -EIO;

	a->ak = EVP_EC_gen("P-256");
	if (!a->ak || !EVP_PKEY_get_bn_param(a->ak, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
	    !EVP_PKEY_get_bn_param(a->ak, OSSL_PKEY_PARAM_EC_PUB_Y, &y))
		goto out;
	put_be16(&p, 0x0023); /* TPM_ALG_ECC */
	put_be16(&p, 0x000b); /* nameAlg sha256 */
	/* fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth, restricted, sign */
	memcpy(p, "\x00\x05\x00\x72", 4);
	p += 4;
	put_be16(&p, 0); /* authPolicy */
	put_be16(&p, 0x0010); /* symmetric: TPM_ALG_NULL */
	put_be16(&p, 0x0018); /* scheme: ECDSA, sha256 */
	put_be16(&p, 0x000b);
	put_be16(&p, 0x0003); /* curveID: NIST P-256 */
	put_be16(&p, 0x0010); /* kdf: TPM_ALG_NULL */
	put_be16(&p, 32);
	BN_bn2binpad(x, p, 32);
	p += 32;
	put_be16(&p, 32);
	BN_bn2binpad(y, p, 32);
	p += 32;
	pub[0] = (uint8_t)((p - pub - 2) >> 8);
	pub[1] = (uint8_t)(p - pub - 2);
	/* name = nameAlg || H(TPMT_PUBLIC) */
	SHA256(pub + 2, (size_t)(p - pub - 2), md);
	memcpy(a->ak_name, "\x00\x0b", 2);
	memcpy(a->ak_name + 2, md, 32);
	a->ak_pub_len = (size_t)(p - pub);
	a->ak_pub = malloc(a->ak_pub_len);
	if (a->ak_pub) {
		memcpy(a->ak_pub, pub, a->ak_pub_len);
		r = 0;
	}
out:
	BN_free(x);
	BN_free(y);
	return r;
}

static char *bio_text(BIO *b)
{
	char *d;
	long n = BIO_get_mem_data(b, &d);

	return n > 0 ? strndup(d, (size_t)n) : NULL;
}

/* the mTLS key (P-256, PEM, kept as a curl blob) and a CSR naming the agent */
static int tls_key_for(struct agent *a)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509_REQ *req = X509_REQ_new();
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	int r = -EIO;

	if (pk && req && kb && cb && X509_REQ_set_pubkey(req, pk) == 1 &&
	    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_ASC,
				       (unsigned char *)a->id, -1, -1, 0) &&
	    X509_REQ_sign(req, pk, EVP_sha256()) > 0 && PEM_write_bio_X509_REQ(cb, req) == 1 &&
	    PEM_write_bio_PrivateKey(kb, pk, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (a->csr = bio_text(cb)) && (a->tls_key.data = bio_text(kb))) {
		a->tls_key.len = strlen(a->tls_key.data);
		a->tls_key.flags = CURL_BLOB_NOCOPY;
		r = 0;
	}
	BIO_free(kb);
	BIO_free(cb);
	X509_REQ_free(req);
	EVP_PKEY_free(pk);
	return r;
}

static int make_agent(size_t i)
{
	struct agent *a = &agents[i];

	snprintf(a->id, sizeof(a->id), "%s%zu", opt.prefix, i);
	a->node = (unsigned)(i % opt.n_urls);
	a->ek = ek_for(i);
	if (!a->ek || ek_cert_for(i, a->ek, &a->ek_cert, &a->ek_cert_len) < 0 || ak_for(a) < 0 ||
	    tls_key_for(a) < 0)
		return -EIO;
	return 0;
}

/* the shared signed files: name, sha256 content digest, security.ima by DIR/ima.key */
static int pool_setup(void)
{
	char kp[4096], cp[4096];
	vouch_ctx *ctx = NULL;
	vouch_key *key = NULL;
	vouch_cert *cert = NULL;
	struct vouch_ima_sign_options o = VOUCH_IMA_SIGN_OPTIONS_INIT;
	int r;

	snprintf(kp, sizeof(kp), "%s/ima.key", opt.keys);
	snprintf(cp, sizeof(cp), "%s/ima.crt", opt.keys);
	r = vouch_ctx_new(&ctx);
	if (r == 0)
		r = vouch_key_load(ctx, kp, NULL, NULL, &key);
	if (r == 0)
		r = vouch_cert_load(ctx, cp, &cert);
	if (r == 0)
		r = vouch_ima_keyid(ctx, key, cert, &o.keyid);
	for (unsigned i = 0; r == 0 && i < SIGNED_POOL; i++) {
		struct vouch_digest d = { .algo = VOUCH_HASH_SHA256, .len = 32 };
		char content[64];

		snprintf(pool[i].name, sizeof(pool[i].name), "/usr/bin/fleet-tool-%02u", i);
		snprintf(content, sizeof(content), "the contents of tool %u", i);
		SHA256((uint8_t *)content, strlen(content), pool[i].fd);
		memcpy(d.bytes, pool[i].fd, 32);
		r = vouch_ima_sign_digest(ctx, key, &o, &d, &pool[i].sig, &pool[i].sig_len);
	}
	if (r < 0)
		fprintf(stderr, "fleet: %s, %s: %s\n", kp, cp, vouch_ctx_last_error(ctx));
	vouch_key_free(key);
	vouch_cert_free(cert);
	vouch_ctx_free(ctx);
	return r;
}

static int ca_load(void)
{
	char path[4096];
	BIO *b;

	snprintf(path, sizeof(path), "%s/ek-ca.crt", opt.keys);
	b = BIO_new_file(path, "r");
	ek_ca = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	snprintf(path, sizeof(path), "%s/ek-ca.key", opt.keys);
	b = BIO_new_file(path, "r");
	ek_ca_key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!ek_ca || !ek_ca_key) {
		fprintf(stderr, "fleet: %s/ek-ca.crt and ek-ca.key: not a certificate and its key\n",
			opt.keys);
		return -ENOENT;
	}
	return 0;
}

/* --- HTTP ------------------------------------------------------------------------------- */

/* a connection (and its libcurl handle) to vouchd */
static CURL *new_handle(void)
{
	CURL *c = curl_easy_init();

	if (!c)
		return NULL;
	curl_easy_setopt(c, CURLOPT_CAINFO, opt.cacert);
	curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
	curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
	/* a TLS session resumed under another agent's certificate would speak as that agent:
	 * a handle shared by agents makes a full handshake with each one's own */
	curl_easy_setopt(c, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	curl_easy_setopt(c, CURLOPT_MAXCONNECTS, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, load_on_data);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	return c;
}

/*
 * The request on the worker's handle through its multi handle, whose connection cache keeps
 * the connections: with --keepalive one per agent, found again by its client certificate
 * (libcurl reuses a connection only for the same TLS configuration), one descriptor each
 * (an easy handle of its own per agent would cost three: 10,000 agents would not fit in a
 * process' 20,000 descriptors).  Without it, one connection at a time.
 */
static CURLcode perform(struct worker *w)
{
	CURLcode rc = CURLE_OK;
	CURLMcode mc;
	CURLMsg *m;
	int running = 1, left;

	if (curl_multi_add_handle(w->multi, w->curl) != CURLM_OK)
		return CURLE_OUT_OF_MEMORY;
	while ((mc = curl_multi_perform(w->multi, &running)) == CURLM_OK && running)
		if (curl_multi_poll(w->multi, NULL, 0, 1000, NULL) != CURLM_OK)
			break;
	if (mc != CURLM_OK)
		rc = CURLE_RECV_ERROR;
	while ((m = curl_multi_info_read(w->multi, &left)))
		if (m->msg == CURLMSG_DONE)
			rc = m->data.result;
	curl_multi_remove_handle(w->multi, w->curl);
	return rc;
}

#define NONCE_MARGIN 15 /* s */

struct timing {
	double tls, total; /* s: handshake done (0 when the connection was reused), complete */
};

/*
 * One request to agent @a's node; with @cert, the agent's client certificate.  @fresh: a
 * new connection.  -> HTTP status, the reply in w->out; -1 after counting a transport error.
 */
static long request(struct worker *w, struct agent *a, bool cert, const char *path,
		    const char *body, bool fresh, struct timing *t)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	struct load_body in = { .data = body, .len = body ? strlen(body) : 0 };
	char u[512];
	long code = -1;
	CURLcode rc;
	curl_off_t app = 0, total = 0;
	CURL *c = w->curl;

	/* the body follows the headers at once (no 100-continue round trip), as with POSTFIELDS */
	if (h)
		h = curl_slist_append(h, "Expect:");

	snprintf(u, sizeof(u), "%s/v1/agents/%s/%s", opt.urls[a->node], a->id, path);
	w->out.len = 0;
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &w->out);
	curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, cert ? &a->tls_cert : NULL);
	curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, cert ? &a->tls_key : NULL);
	curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, fresh && !opt.keepalive ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, body ? h : NULL);
	if (body) {
		/* no silent resend by libcurl: a push is sent once (load_seek_body()) */
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, load_read_body);
		curl_easy_setopt(c, CURLOPT_READDATA, &in);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, load_seek_body);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, &in);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)in.len);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	rc = perform(w);
	if (opt.keepalive && (rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
			      rc == CURLE_GOT_NOTHING || rc == CURLE_SEND_FAIL_REWIND)) {
		long n_conn = -1;

		/* a kept connection vouchd closed (idle 30 s) that libcurl took as alive: sent
		 * again on a new one, a GET as any HTTP client does, a push as vouch-agent does,
		 * with X-Vouch-Retry: 1 (had the first been stored after all, vouchd answers 409
		 * and records nothing; the round then counts as an error) */
		curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &n_conn);
		/* (libcurl asks to rewind once it has a new connection for its own resend) */
		if (n_conn == 0 || rc == CURLE_SEND_FAIL_REWIND) {
			w->out.len = 0;
			if (body) {
				in.off = 0;
				h = curl_slist_append(h, "X-Vouch-Retry: 1");
				curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
				w->resent_pushes++;
			} else {
				w->resent_gets++;
			}
			curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
			rc = perform(w);
		}
	}
	curl_slist_free_all(h);
	if (!w->out.p)
		load_on_data("", 0, 0, &w->out);
	if (rc != CURLE_OK) {
		enum err_kind k = rc == CURLE_COULDNT_CONNECT	 ? E_CONNECT
				  : rc == CURLE_OPERATION_TIMEDOUT ? E_TIMEOUT
				  : rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION
					  ? E_TLS
					  : E_TRANSPORT;

		w->errors[k]++;
		if (w->n_err_msgs++ < 3)
			fprintf(stderr, "fleet: %s %s: %s\n", a->id, path, curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(c, CURLINFO_APPCONNECT_TIME_T, &app);
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &total);
	if (t) {
		t->tls = (double)app / 1e6;
		t->total = (double)total / 1e6;
	}
	if (code >= 100 && code < 600)
		w->http_codes[code]++;
	if (code >= 400) {
		w->errors[code >= 500 ? E_HTTP5XX : E_HTTP4XX]++;
		if (w->n_err_msgs++ < 3)
			fprintf(stderr, "fleet: %s %s: HTTP %ld: %.300s\n", a->id, path, code, w->out.p);
	}
	return code;
}

static json_object *reply_json(struct worker *w)
{
	json_object *o = json_tokener_parse(w->out.p);

	if (o && json_object_is_type(o, json_type_object))
		return o;
	json_object_put(o);
	return NULL;
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

static int64_t jint(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_int)
		       ? json_object_get_int64(v)
		       : -1;
}

/* --- enrollment ------------------------------------------------------------------------- */

static int kdfa(const uint8_t *key, size_t key_len, const char *label, const uint8_t *u,
		size_t u_len, uint32_t bits, uint8_t *out)
{
	size_t want = bits / 8, done = 0;

	/* HMAC-SHA256(key, counter || label || 0 || contextU || bits), counter from 1 */
	for (uint32_t i = 1; done < want; i++) {
		uint8_t in[4 + 32 + 128 + 4], *p = in, md[32];
		unsigned md_len = 0;
		size_t l = strlen(label) + 1, take;

		if (l > 32 || u_len > 128)
			return -EINVAL;
		put_be16(&p, (uint16_t)(i >> 16));
		put_be16(&p, (uint16_t)i);
		memcpy(p, label, l);
		p += l;
		memcpy(p, u, u_len);
		p += u_len;
		put_be16(&p, (uint16_t)(bits >> 16));
		put_be16(&p, (uint16_t)bits);
		if (!HMAC(EVP_sha256(), key, (int)key_len, in, (size_t)(p - in), md, &md_len))
			return -EIO;
		take = want - done < 32 ? want - done : 32;
		memcpy(out + done, md, take);
		done += take;
	}
	return 0;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * TPM2_ActivateCredential in software (TPM 2.0 Part 1, section 24) of the file vouchd sends:
 * 0xBADCC0DE, version 1, TPM2B_ID_OBJECT (TPM2B_DIGEST integrityHMAC || encIdentity),
 * TPM2B_ENCRYPTED_SECRET (the seed, RSA-OAEP to the EK).
 */
static int activate(struct agent *a, const char *cred_b64, uint8_t *secret, size_t *ret_len)
{
	uint8_t file[1024], seed[512], sym[16], hkey[32], mac[32], plain[2 + SECRET_MAX];
	size_t b64_len = strlen(cred_b64), seed_len = sizeof(seed), id_len, hmac_len, enc_len;
	const uint8_t *id, *enc, *es;
	EVP_PKEY_CTX *pc = NULL;
	EVP_CIPHER_CTX *cc = NULL;
	unsigned char *label = NULL;
	unsigned mac_len = 0;
	int n, m = 0, r = -EKEYREJECTED;

	if (b64_len > 4 * sizeof(file) / 3 || b64_len % 4)
		return -EBADMSG;
	n = EVP_DecodeBlock(file, (const unsigned char *)cred_b64, (int)b64_len);
	if (n < 0)
		return -EBADMSG;
	n -= (b64_len && cred_b64[b64_len - 1] == '=') + (b64_len > 1 && cred_b64[b64_len - 2] == '=');
	if (n < 12 || memcmp(file, "\xba\xdc\xc0\xde\x00\x00\x00\x01", 8) != 0)
		return -EBADMSG;
	id_len = be16(file + 8);
	id = file + 10;
	if (10 + id_len + 2 > (size_t)n || id_len < 2)
		return -EBADMSG;
	es = id + id_len;
	enc_len = be16(es);
	if (10 + id_len + 2 + enc_len != (size_t)n)
		return -EBADMSG;
	hmac_len = be16(id);
	if (hmac_len != 32 || 2 + hmac_len + 2 > id_len)
		return -EBADMSG;
	enc = id + 2 + hmac_len;
	id_len -= 2 + hmac_len; /* encIdentity's length */
	if (id_len > sizeof(plain))
		return -EBADMSG;
	/* the seed: RSA-OAEP (SHA-256, MGF1-SHA-256, label "IDENTITY\0") with the EK */
	label = OPENSSL_memdup("IDENTITY", sizeof("IDENTITY"));
	pc = EVP_PKEY_CTX_new(a->ek, NULL);
	if (!label || !pc || EVP_PKEY_decrypt_init(pc) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(pc, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set0_rsa_oaep_label(pc, label, sizeof("IDENTITY")) <= 0)
		goto out;
	label = NULL;
	if (EVP_PKEY_decrypt(pc, seed, &seed_len, es + 2, enc_len) <= 0 || seed_len != 32) {
		ERR_clear_error();
		goto out;
	}
	/* HMACkey = KDFa(seed, "INTEGRITY"); integrityHMAC = HMAC(encIdentity || name) */
	if (kdfa(seed, seed_len, "INTEGRITY", NULL, 0, 256, hkey) < 0) {
		r = -EIO;
		goto out;
	}
	{
		uint8_t in[sizeof(plain) + 34];

		memcpy(in, enc, id_len);
		memcpy(in + id_len, a->ak_name, 34);
		if (!HMAC(EVP_sha256(), hkey, 32, in, id_len + 34, mac, &mac_len) || mac_len != 32 ||
		    CRYPTO_memcmp(mac, id + 2, 32) != 0)
			goto out; /* not for this AK, or altered */
	}
	/* symKey = KDFa(seed, "STORAGE", name, 128); TPM2B_DIGEST = AES-128-CFB(0 IV)^-1 */
	cc = EVP_CIPHER_CTX_new();
	if (kdfa(seed, seed_len, "STORAGE", a->ak_name, 34, 128, sym) < 0 || !cc ||
	    !EVP_DecryptInit_ex(cc, EVP_aes_128_cfb128(), NULL, sym, (const uint8_t[16]){ 0 }) ||
	    !EVP_DecryptUpdate(cc, plain, &m, enc, (int)id_len) || (size_t)m != id_len ||
	    be16(plain) + 2U != id_len || be16(plain) > SECRET_MAX) {
		r = -EIO;
		goto out;
	}
	*ret_len = be16(plain);
	memcpy(secret, plain + 2, *ret_len);
	r = 0;
out:
	OPENSSL_free(label);
	EVP_PKEY_CTX_free(pc);
	EVP_CIPHER_CTX_free(cc);
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_cleanse(plain, sizeof(plain));
	return r;
}

static char *b64(const uint8_t *p, size_t n)
{
	char *s = malloc(4 * ((n + 2) / 3) + 1);

	if (s)
		EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	return s;
}

static void free_enrollment(struct agent *a)
{
	EVP_PKEY_free(a->ek);
	OPENSSL_free(a->ek_cert);
	free(a->ak_pub);
	free(a->csr);
	a->ek = NULL, a->ek_cert = NULL, a->ak_pub = NULL, a->csr = NULL;
}

/* enroll, activate, push mode: the agent has its certificate */
static int enroll(struct worker *w, struct agent *a)
{
	json_object *req = json_object_new_object(), *o = NULL;
	char *ek = b64(a->ek_cert, a->ek_cert_len), *ak = b64(a->ak_pub, a->ak_pub_len);
	char hex[2 * SECRET_MAX + 1], body[200];
	uint8_t secret[SECRET_MAX];
	size_t secret_len = 0;
	const char *s;
	int r = -EIO;

	if (!req || !ek || !ak)
		goto out;
	json_object_object_add(req, "ek_cert", json_object_new_string(ek));
	json_object_object_add(req, "ak", json_object_new_string(ak));
	json_object_object_add(req, "csr", json_object_new_string(a->csr));
	if (request(w, a, false, "enroll", json_object_to_json_string(req), false, NULL) != 200 ||
	    !(o = reply_json(w)) || !(s = jstr(o, "credential")))
		goto out;
	r = activate(a, s, secret, &secret_len);
	if (r < 0) {
		w->errors[E_CREDENTIAL]++;
		fprintf(stderr, "fleet: %s: the credential does not activate (%s)\n", a->id,
			strerror(-r));
		goto out;
	}
	r = -EIO;
	load_hex(secret, secret_len, hex);
	OPENSSL_cleanse(secret, sizeof(secret));
	snprintf(body, sizeof(body), "{\"secret\":\"%s\"}", hex);
	json_object_put(o);
	o = NULL;
	if (request(w, a, false, "activate", body, false, NULL) != 201 || !(o = reply_json(w)) ||
	    !(s = jstr(o, "certificate")) || !(a->tls_cert.data = strdup(s)))
		goto out;
	a->tls_cert.len = strlen(s);
	a->tls_cert.flags = CURL_BLOB_NOCOPY;
	if (request(w, a, true, "mode", "{\"mode\":\"push\"}", true, NULL) == 200)
		r = 0;
out:
	if (r == -EIO && w->errors[E_HTTP4XX] + w->errors[E_HTTP5XX] == 0 && o && w->n_err_msgs++ < 3)
		fprintf(stderr, "fleet: %s: enrollment: unexpected reply %.300s\n", a->id, w->out.p);
	json_object_put(req);
	json_object_put(o);
	free(ek);
	free(ak);
	free_enrollment(a);
	return r;
}

/* --- rounds ----------------------------------------------------------------------------- */

/* list entry @n of agent @a: boot_aggregate, then per round @signed files of the shared signed
 * pool and files of the agent's own, unsigned (template ima-sig either way) */
static size_t entry(struct agent *a, uint64_t n, uint8_t *out)
{
	uint64_t k = n % opt.entries;
	char name[LOAD_NAME_MAX];
	uint8_t fd[32];

	if (n == 0) {
		static const uint8_t zero[320];

		SHA256(zero, sizeof(zero), fd);
		return load_entry(&a->list, "ima-sig", fd, "boot_aggregate", NULL, 0, out);
	}
	if (k < opt.signed_per_round) {
		unsigned p = (unsigned)((n * 2654435761u + (unsigned char)a->id[strlen(a->id) - 1]) %
					SIGNED_POOL);

		return load_entry(&a->list, "ima-sig", pool[p].fd, pool[p].name, pool[p].sig,
				  pool[p].sig_len, out);
	}
	snprintf(name, sizeof(name), "/var/lib/fleet/%s/file-%llu", a->id, (unsigned long long)n);
	SHA256((const uint8_t *)name, strlen(name), fd);
	return load_entry(&a->list, "ima-sig", fd, name, NULL, 0, out);
}

/* the list as the server saw it: entries 0 .. @offset - 1 measured again */
static void replay(struct agent *a, uint64_t offset)
{
	uint8_t scratch[LOAD_ENTRY_MAX];
	uint64_t clock = a->list.clock;

	memset(&a->list, 0, sizeof(a->list));
	a->list.clock = clock;
	while (a->list.entries < offset)
		entry(a, a->list.entries, scratch);
}

static int get_nonce(struct worker *w, struct agent *a, struct timing *t)
{
	json_object *o;
	int64_t off;
	int r = -EIO;

	if (request(w, a, true, "nonce", NULL, true, t) != 200)
		return -EIO;
	o = reply_json(w);
	if (o && load_take_nonce(o, a->nonce, &a->nonce_len) == 0 && (off = jint(o, "offset")) >= 0) {
		a->nonce_deadline = jint(o, "deadline");
		if ((uint64_t)off != a->list.entries) {
			w->errors[E_OFFSET]++;
			replay(a, (uint64_t)off);
		}
		r = 0;
	} else {
		w->errors[E_REPLY]++;
	}
	json_object_put(o);
	return r;
}

/* vouchd's checks of one verdict: the signatures it verified; the first failed check */
static uint64_t checks(json_object *o, char *failed, size_t size)
{
	json_object *cs, *c;
	uint64_t sigs = 0;

	failed[0] = '\0';
	if (!json_object_object_get_ex(o, "checks", &cs) || !json_object_is_type(cs, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(cs); i++) {
		const char *name, *result, *detail;

		c = json_object_array_get_idx(cs, i);
		name = jstr(c, "check"), result = jstr(c, "result"), detail = jstr(c, "detail");
		if (!name || !result)
			continue;
		if (strcmp(name, "signatures") == 0 && strcmp(result, "pass") == 0 && detail)
			sigs = strtoull(detail, NULL, 10);
		if (!failed[0] && strcmp(result, "pass") && strcmp(result, "not_applicable"))
			snprintf(failed, size, "%s %s: %s", name, result, detail ? detail : "");
	}
	return sigs;
}

/* one round: (nonce,) quote and the new entries, verdict; 0 trusted */
static int round_once(struct worker *w, struct agent *a)
{
	uint8_t *list = malloc((size_t)(opt.entries + 1) * LOAD_ENTRY_MAX);
	struct load_list before = a->list;
	struct timing tn = { 0 }, tp = { 0 };
	bool fresh = true;
	json_object *o = NULL;
	const char *v;
	char *ev = NULL, failed[400];
	size_t len = 0;
	uint64_t sigs;
	int64_t off;
	int r = -EIO;

	if (!list)
		return -ENOMEM;
	/* a nonce with less than NONCE_MARGIN s to live is not used: under load the push can
	 * wait in vouchd's queue for seconds, and a quote over an expired nonce is stale */
	if (!a->nonce_len || a->nonce_deadline <= (int64_t)time(NULL) + NONCE_MARGIN) {
		if (get_nonce(w, a, &tn) < 0)
			goto out;
		if (tn.tls > 0) /* a new connection */
			series_add(&w->tls, tn.tls);
		series_add(&w->nonce, tn.total - tn.tls);
		fresh = false;
		before = a->list;
	}
	for (unsigned i = 0; i < opt.entries; i++)
		len += entry(a, a->list.entries, list + len);
	ev = load_evidence(a->ak, &a->list, a->ak_name, a->nonce, a->nonce_len, list, len,
			   before.entries);
	if (!ev)
		goto out;
	a->nonce_len = 0; /* used: the reply brings the next one */
	if (request(w, a, true, "attest", ev, fresh, &tp) != 200)
		goto out;
	if (tp.tls > 0)
		series_add(&w->tls, tp.tls);
	series_add(&w->push, tp.total - tp.tls);
	w->rounds++;
	o = reply_json(w);
	if (!o || !(v = jstr(o, "verdict")) || load_take_nonce(o, a->nonce, &a->nonce_len) < 0) {
		w->errors[E_REPLY]++;
		goto out;
	}
	a->nonce_deadline = jint(o, "deadline");
	sigs = checks(o, failed, sizeof(failed));
	/* where the server's verified list ends (it keeps no state after a failed verdict):
	 * the entries after it are measured again, the same, and sent next round */
	off = jint(o, "offset");
	if (off >= 0 && (uint64_t)off != a->list.entries) {
		replay(a, (uint64_t)off);
		if (strcmp(v, "trusted") == 0)
			w->errors[E_OFFSET]++;
	}
	if (strcmp(v, "trusted") != 0) {
		w->errors[E_UNTRUSTED]++;
		if (w->n_err_msgs++ < 3)
			fprintf(stderr, "fleet: %s: %s: %s\n", a->id, v, failed);
		goto out;
	}
	if (off < 0) {
		w->errors[E_REPLY]++;
		goto out;
	}
	w->trusted++;
	w->sigs += sigs;
	r = 0;
out:
	if (r < 0 && !o) { /* not judged: as if these entries were never measured */
		uint64_t clock = a->list.clock;

		a->list = before;
		a->list.clock = clock;
	}
	json_object_put(o);
	free(ev);
	free(list);
	return r;
}

static void reset_worker(struct worker *w)
{
	w->tls.n = w->nonce.n = w->push.n = w->late.n = 0;
	memset(w->errors, 0, sizeof(w->errors));
	memset(w->http_codes, 0, sizeof(w->http_codes));
	w->rounds = w->trusted = w->sigs = w->resent_gets = w->resent_pushes = 0;
}

/*
 * The steady window [t_steady, t_end): agent j starts at j/N of the interval.  Rounds due
 * before t_count (the warm-up) run on the same schedule, and the worker's figures start
 * again from the first round due at or after it; the warm-up's are kept apart.
 */
static void steady(struct worker *w)
{
	double iv = cur_interval;
	bool counting = t_count <= t_steady;

	for (uint64_t k = 0;; k++) {
		for (size_t j = w->index; j < opt.agents; j += opt.threads) {
			double due = t_steady + (double)j * iv / (double)opt.agents + (double)k * iv, late;

			/* the window closes on time even when the rounds run late */
			if (due >= t_end || now() >= t_end)
				return;
			if (!counting && due >= t_count) {
				uint64_t e = 0;

				for (int x = 0; x < _E_MAX; x++)
					e += w->errors[x];
				w->warm_rounds = w->rounds;
				w->warm_trusted = w->trusted;
				w->warm_errors = e;
				reset_worker(w);
				counting = true;
			}
			sleep_until(due);
			late = now() - due;
			series_add(&w->late, late);
			if (late > iv)
				w->errors[E_LATE]++;
			(void)round_once(w, &agents[j]);
		}
	}
}

/* CPU seconds of process @pid (and its parent's pid), 0 when it is gone */
static double proc_cpu(int pid, int *ret_ppid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	int ppid = 0;
	double t = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	/* after the command: state ppid ... utime (14th field) stime (15th) */
	if (p && sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ppid, &ut,
			&st) == 3)
		t = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	fclose(f);
	if (ret_ppid)
		*ret_ppid = ppid;
	return t;
}

/* CPU seconds of the server processes (--server-pid) and of this one */
static double server_cpu(void)
{
	double t = 0;

	for (unsigned i = 0; i < opt.n_pids; i++)
		t += proc_cpu(opt.pids[i], NULL);
	return t;
}

/* CPU seconds of the database: the postmaster and its children (the nodes' backends live as
 * long as their connections, so their own counters are read, not the parent's) */
static double db_cpu(void)
{
	struct dirent *de;
	double t = 0;
	DIR *d;

	if (!opt.db_pid || !(d = opendir("/proc")))
		return 0;
	while ((de = readdir(d))) {
		int pid = atoi(de->d_name), ppid = 0;
		double c;

		if (pid <= 0)
			continue;
		c = proc_cpu(pid, &ppid);
		if (pid == opt.db_pid || ppid == opt.db_pid)
			t += c;
	}
	closedir(d);
	return t;
}

static double self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* --- metrics ---------------------------------------------------------------------------- */

static int hist_index(const char *line, const char **rest)
{
	static const char pp[] = "vouchd_phase_seconds_", dc[] = "vouchd_db_commit_seconds_";

	if (strncmp(line, pp, sizeof(pp) - 1) == 0) {
		const char *q = strstr(line, "phase=\"");

		*rest = line + sizeof(pp) - 1;
		for (int i = 0; q && i < 4; i++)
			if (strncmp(q + 7, hist_names[i], strlen(hist_names[i])) == 0 &&
			    q[7 + strlen(hist_names[i])] == '"')
				return i;
		return -1;
	}
	if (strncmp(line, dc, sizeof(dc) - 1) == 0) {
		*rest = line + sizeof(dc) - 1;
		return 4;
	}
	return -1;
}

static void snapshot(CURL *c, struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->ok = true;
	for (unsigned u = 0; u < opt.n_urls; u++) {
		struct load_buf b = { 0 };
		char url[512], *line, *save = NULL;

		snprintf(url, sizeof(url), "%s/metrics", opt.urls[u]);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		if ((curl_easy_perform(c) != CURLE_OK || !b.p) && (b.len = 0, true) &&
		    (curl_easy_perform(c) != CURLE_OK || !b.p)) {
			fprintf(stderr, "fleet: %s: cannot read the metrics\n", url);
			s->ok = false;
			free(b.p);
			continue;
		}
		for (line = strtok_r(b.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			const char *rest, *sp = strrchr(line, ' ');
			double v = sp ? strtod(sp + 1, NULL) : 0;
			int h = hist_index(line, &rest);

			if (h >= 0 && strncmp(rest, "bucket", 6) == 0) {
				const char *le = strstr(rest, "le=\"");
				double bound = le && strncmp(le + 4, "+Inf", 4) ? strtod(le + 4, NULL)
										 : INFINITY;

				for (int i = 0; i < N_LE; i++)
					if (i == N_LE - 1 ? isinf(bound) : fabs(bound - le_bounds[i]) < 1e-9)
						s->le[h][i] += v;
			} else if (h >= 0 && strncmp(rest, "sum", 3) == 0) {
				s->sum[h] += v;
			} else if (h >= 0 && strncmp(rest, "count", 5) == 0) {
				s->count[h] += v;
			} else if (strstr(line, "vouchd_attestations_total{result=\"trusted\"}") == line) {
				s->trusted += v;
			} else if (strstr(line, "vouchd_attestations_total{result=\"untrusted\"}") == line) {
				s->untrusted += v;
			} else if (strstr(line, "vouchd_attestations_total{result=\"error\"}") == line) {
				s->error += v;
			} else if (strstr(line, "vouchd_requests_refused_total ") == line) {
				s->refused += v;
			} else if (strstr(line, "process_resident_memory_bytes ") == line && u < 16) {
				s->rss[u] = v;
			}
		}
		free(b.p);
	}
}

/* the @q quantile of histogram @h between two snapshots (linear within a bucket, as
 * Prometheus' histogram_quantile); INFINITY when it falls beyond the last bound */
static double hist_quantile(const struct snapshot *a, const struct snapshot *b, int h, double q)
{
	double n = b->count[h] - a->count[h], want = q * n, prev = 0, lo = 0;

	if (n <= 0)
		return 0;
	for (int i = 0; i < N_LE - 1; i++) {
		double c = b->le[h][i] - a->le[h][i];

		if (c >= want)
			return lo + (le_bounds[i] - lo) * (c > prev ? (want - prev) / (c - prev) : 1);
		prev = c;
		lo = le_bounds[i];
	}
	return INFINITY;
}

static void ms(char *buf, size_t size, double s)
{
	if (isinf(s))
		snprintf(buf, size, "> 5000");
	else
		snprintf(buf, size, "%.2f", 1e3 * s);
}

/* a quantile from the histogram: inside the first bucket only its bound is known */
static void hist_ms(char *buf, size_t size, double s)
{
	if (s > 0 && s <= le_bounds[0])
		snprintf(buf, size, "<= 1");
	else
		ms(buf, size, s);
}

/* --- the run ---------------------------------------------------------------------------- */

enum stage { STAGE_PRIMES, STAGE_KEYS, STAGE_ENROLL, STAGE_STEADY, STAGE_DONE };
static _Atomic int stage;
static atomic_size_t next_agent;
static atomic_int setup_failures;

static void *run(void *arg)
{
	struct worker *w = arg;

	for (;;) {
		pthread_barrier_wait(&barrier);
		switch (atomic_load(&stage)) {
		case STAGE_PRIMES: {
			unsigned i;

			while ((i = atomic_fetch_add(&next_prime, 1)) < n_primes)
				if (!primes[i] && !(primes[i] = new_prime()))
					atomic_fetch_add(&setup_failures, 1);
			break;
		}
		case STAGE_KEYS: {
			double c0 = cpu_now();
			size_t i;

			while ((i = atomic_fetch_add(&next_agent, 1)) < opt.agents)
				if (make_agent(i) < 0)
					atomic_fetch_add(&setup_failures, 1);
			w->cpu_keys = cpu_now() - c0;
			break;
		}
		case STAGE_ENROLL: {
			size_t i;

			while ((i = atomic_fetch_add(&next_agent, 1)) < opt.agents) {
				double t = now();

				if (enroll(w, &agents[i]) < 0)
					atomic_fetch_add(&setup_failures, 1);
				else
					series_add(&w->enroll, now() - t);
			}
			break;
		}
		case STAGE_STEADY:
			steady(w);
			break;
		default:
			return NULL;
		}
		pthread_barrier_wait(&barrier);
	}
}

static void go(enum stage s)
{
	atomic_store(&stage, s);
	atomic_store(&next_agent, 0);
	pthread_barrier_wait(&barrier); /* start */
	pthread_barrier_wait(&barrier); /* all done */
}

static void reset_counts(void)
{
	for (size_t t = 0; t < opt.threads; t++) {
		reset_worker(&workers[t]);
		workers[t].warm_rounds = workers[t].warm_trusted = workers[t].warm_errors = 0;
	}
}

struct window {
	double rate, offered, seconds, server_p50, server_p99, push_p99;
	uint64_t rounds, trusted, errors;
};

/* what one window measured: /metrics before and after, the workers' counts and series */
struct window_figures {
	struct snapshot s0, s1;
	struct series tls, nonce, push, late;
	uint64_t errors[_E_MAX], rounds, trusted, total_err, sigs, resent, resent_pushes;
	unsigned long codes[600];
	double p50[N_HIST], p99[N_HIST], srv50, srv99, c_srv, c_gen, c_db, seconds;
};

/* run the window: @warm seconds not counted, then @seconds counted, at interval @iv */
static void window_run(CURL *mc, double iv, double warm, double seconds,
		       struct window_figures *f)
{
	reset_counts();
	cur_interval = iv;
	t_steady = now() + 0.2;
	t_count = t_steady + warm;
	t_end = t_count + seconds;
	if (warm > 0) {
		/* as go(STAGE_STEADY), the counting starting at t_count */
		atomic_store(&stage, STAGE_STEADY);
		atomic_store(&next_agent, 0);
		pthread_barrier_wait(&barrier);
		sleep_until(t_count);
		snapshot(mc, &f->s0);
		f->c_srv = server_cpu();
		f->c_gen = self_cpu();
		f->c_db = db_cpu();
		pthread_barrier_wait(&barrier);
	} else {
		snapshot(mc, &f->s0);
		f->c_srv = server_cpu();
		f->c_gen = self_cpu();
		f->c_db = db_cpu();
		go(STAGE_STEADY);
	}
	f->seconds = now() - t_count;
	if (warm > 0) {
		uint64_t wr = 0, wt = 0, we = 0;

		for (size_t t = 0; t < opt.threads; t++) {
			wr += workers[t].warm_rounds;
			wt += workers[t].warm_trusted;
			we += workers[t].warm_errors;
		}
		printf("warm-up: %.1f s on the same schedule, %llu rounds, %llu trusted, %llu errors "
		       "(late starts included): not counted below\n", warm, (unsigned long long)wr,
		       (unsigned long long)wt, (unsigned long long)we);
	}
	f->c_srv = server_cpu() - f->c_srv;
	f->c_gen = self_cpu() - f->c_gen;
	f->c_db = db_cpu() - f->c_db;
	snapshot(mc, &f->s1);
}

/* the workers' counts and series summed; the server's phases from the /metrics deltas */
static void window_sum(struct window_figures *f)
{
	for (size_t t = 0; t < opt.threads; t++) {
		for (int k = 0; k < _E_MAX; k++)
			f->errors[k] += workers[t].errors[k];
		for (int k = 0; k < 600; k++)
			f->codes[k] += workers[t].http_codes[k];
		f->rounds += workers[t].rounds;
		f->trusted += workers[t].trusted;
		f->sigs += workers[t].sigs;
		f->resent += workers[t].resent_gets;
		f->resent_pushes += workers[t].resent_pushes;
	}
	for (int k = 0; k < _E_MAX; k++)
		f->total_err += f->errors[k];
	f->tls = merged(offsetof(struct worker, tls));
	f->nonce = merged(offsetof(struct worker, nonce));
	f->push = merged(offsetof(struct worker, push));
	f->late = merged(offsetof(struct worker, late));
	/* the server's time per attestation: its three sequential phases (commit is part of
	 * store); the sum of their p99 bounds the p99 of the whole */
	for (int h = 0; h < N_HIST; h++) {
		f->p50[h] = hist_quantile(&f->s0, &f->s1, h, 0.5);
		f->p99[h] = hist_quantile(&f->s0, &f->s1, h, 0.99);
	}
	for (int h = 0; h < 3; h++) {
		f->srv50 += f->p50[h];
		f->srv99 += f->p99[h];
	}
}

/* the window's figures, in full (and the RESULT line) */
static void window_print(const struct window_figures *f, const struct window *ret)
{
	const struct snapshot s0 = f->s0, s1 = f->s1;
	const struct series tls = f->tls, nonce = f->nonce, push = f->push, late = f->late;
	const uint64_t *errors = f->errors;
	const unsigned long *codes = f->codes;
	const double *p50 = f->p50, *p99 = f->p99;
	double seconds = f->seconds, srv50 = f->srv50, srv99 = f->srv99, c_srv = f->c_srv,
	       c_gen = f->c_gen, c_db = f->c_db;
	uint64_t rounds = f->rounds, trusted = f->trusted, total_err = f->total_err, sigs = f->sigs,
		 resent = f->resent, resent_pushes = f->resent_pushes;
	char a[32], b[32], c[32], d[32];

	printf("steady: %.1f s, %llu rounds, %llu trusted: %.1f attestations/s (offered %.1f/s)\n",
	       seconds, (unsigned long long)rounds, (unsigned long long)trusted, ret->rate,
	       ret->offered);
	printf("lists: %u ima-sig entries a round, %u of them signed; vouchd verified %llu "
	       "signatures in the trusted rounds\n", opt.entries, opt.signed_per_round,
	       (unsigned long long)sigs);
	printf("client side (ms)          p50       p99     count\n");
	{
		const struct series *rows[] = { &tls, &nonce, &push, &late };
		static const char *const names[] = { "connect + TLS", "nonce fetch",
						     "push round trip", "start lateness" };

		for (int i = 0; i < 4; i++) {
			ms(a, sizeof(a), load_quantile(rows[i]->v, rows[i]->n, 0.5));
			ms(b, sizeof(b), load_quantile(rows[i]->v, rows[i]->n, 0.99));
			printf("  %-17s %9s %9s %9zu\n", names[i], a, b, rows[i]->n);
		}
	}
	printf("server side, /metrics deltas (ms; linear within vouchd's buckets "
	       "1,5,10,50,100,500 ms)\n");
	for (int h = 0; h < N_HIST; h++) {
		hist_ms(a, sizeof(a), p50[h]);
		hist_ms(b, sizeof(b), p99[h]);
		ms(c, sizeof(c), s1.count[h] > s0.count[h]
					 ? (s1.sum[h] - s0.sum[h]) / (s1.count[h] - s0.count[h])
					 : 0);
		printf("  %-10s p50 %8s  p99 %8s  mean %8s  n %.0f\n", hist_names[h], a, b, c,
		       s1.count[h] - s0.count[h]);
	}
	ms(a, sizeof(a), srv50);
	ms(d, sizeof(d), srv99);
	printf("  parse+verify+store p50 %s, p99 %s (sums of the phases' quantiles)\n", a, d);
	printf("  vouchd verdicts: %.0f trusted, %.0f untrusted, %.0f error; %.0f refused\n",
	       s1.trusted - s0.trusted, s1.untrusted - s0.untrusted, s1.error - s0.error,
	       s1.refused - s0.refused);
	for (unsigned u = 0; u < opt.n_urls && u < 16; u++)
		printf("  node %u RSS %.1f MiB\n", u, s1.rss[u] / 1048576);
	if (opt.n_pids)
		printf("CPU: server %.1f s (%.0f%% of a core), %.0f us per attestation; "
		       "generator %.1f s (%.0f%% of a core), %.0f us per round\n", c_srv,
		       100 * c_srv / seconds, trusted ? 1e6 * c_srv / (double)trusted : 0, c_gen,
		       100 * c_gen / seconds, rounds ? 1e6 * c_gen / (double)rounds : 0);
	if (opt.db_pid)
		printf("CPU: database %.1f s (%.0f%% of a core), %.0f us per attestation\n",
		       c_db, 100 * c_db / seconds, trusted ? 1e6 * c_db / (double)trusted : 0);
	printf("errors: %llu", (unsigned long long)total_err);
	for (int k = 0; k < _E_MAX; k++)
		if (errors[k])
			printf(", %s %llu", err_names[k], (unsigned long long)errors[k]);
	for (int k = 400; k < 600; k++)
		if (codes[k])
			printf(", HTTP %d: %lu", k, codes[k]);
	printf("\n");
	if (resent || resent_pushes)
		printf("sent again on a new connection (a kept one had closed): %llu GETs, "
		       "%llu pushes (X-Vouch-Retry: 1)\n",
		       (unsigned long long)resent, (unsigned long long)resent_pushes);
	printf("RESULT rate=%.1f offered=%.1f seconds=%.1f rounds=%llu trusted=%llu errors=%llu "
	       "tls_p50=%.3f tls_p99=%.3f nonce_p50=%.3f nonce_p99=%.3f push_p50=%.3f "
	       "push_p99=%.3f server_p50=%.3f server_p99=%.3f commit_p99=%.3f sigs=%llu",
	       ret->rate, ret->offered, seconds, (unsigned long long)rounds,
	       (unsigned long long)trusted, (unsigned long long)total_err,
	       1e3 * load_quantile(tls.v, tls.n, 0.5), 1e3 * load_quantile(tls.v, tls.n, 0.99),
	       1e3 * load_quantile(nonce.v, nonce.n, 0.5),
	       1e3 * load_quantile(nonce.v, nonce.n, 0.99),
	       1e3 * load_quantile(push.v, push.n, 0.5), 1e3 * ret->push_p99, 1e3 * srv50,
	       1e3 * srv99, 1e3 * p99[4], (unsigned long long)sigs);
	for (unsigned u = 0; u < opt.n_urls && u < 16; u++)
		printf(" rss%u=%.0f", u, s1.rss[u]);
	printf("\n");
	fflush(stdout);
}

/* one steady window of @seconds at interval @iv, after @warm seconds of rounds on the same
 * schedule that are not counted; prints its figures */
static void window(CURL *mc, double iv, double warm, double seconds, bool verbose,
		   struct window *ret)
{
	struct window_figures *f = calloc(1, sizeof(*f));

	if (!f)
		abort();
	window_run(mc, iv, warm, seconds, f);
	window_sum(f);
	*ret = (struct window){ .rate = (double)f->trusted / f->seconds,
				.offered = (double)opt.agents / iv,
				.seconds = f->seconds,
				.server_p50 = f->srv50,
				.server_p99 = f->srv99,
				.push_p99 = load_quantile(f->push.v, f->push.n, 0.99),
				.rounds = f->rounds,
				.trusted = f->trusted,
				.errors = f->total_err };
	if (verbose)
		window_print(f, ret);
	free(f->tls.v);
	free(f->nonce.v);
	free(f->push.v);
	free(f->late.v);
	free(f);
}

static int usage(void)
{
	fprintf(stderr,
		"usage: fleet --url URL[,URL...] --cacert CA --keys DIR --agents N [--interval S] "
		"[--duration S] [--threads T] [--entries E] [--signed K] [--prefix ID] "
		"[--warmup S] [--ceiling [--step S]] [--keepalive] [--server-pid PID[,PID...]] [--db-pid PID]\n"
		"  DIR holds ek-ca.crt/.key (the EK CA vouchd trusts with --ek-ca) and ima.key/.crt\n"
		"  (the IMA signer vouchd trusts with --trust); the prime pool is kept in DIR/primes\n");
	return 2;
}

static int parse_args(int argc, char **argv)
{
	static const struct option o[] = {
		{ "url", required_argument, NULL, 'u' },	{ "cacert", required_argument, NULL, 'c' },
		{ "keys", required_argument, NULL, 'k' },	{ "agents", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' }, { "duration", required_argument, NULL, 'd' },
		{ "threads", required_argument, NULL, 't' },	{ "entries", required_argument, NULL, 'e' },
		{ "signed", required_argument, NULL, 's' },	{ "prefix", required_argument, NULL, 'p' },
		{ "ceiling", no_argument, NULL, 'C' },	{ "step", required_argument, NULL, 'S' },
		{ "server-pid", required_argument, NULL, 'P' },
		{ "db-pid", required_argument, NULL, 'D' },
		{ "keepalive", no_argument, NULL, 'K' },
		{ "warmup", required_argument, NULL, 'W' },
		{}
	};
	char *save = NULL, *u;
	int c;

	while ((c = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (c) {
		case 'u':
			for (u = strtok_r(optarg, ",", &save); u && opt.n_urls < 16;
			     u = strtok_r(NULL, ",", &save))
				opt.urls[opt.n_urls++] = u;
			break;
		case 'c': opt.cacert = optarg; break;
		case 'k': opt.keys = optarg; break;
		case 'n': opt.agents = strtoul(optarg, NULL, 10); break;
		case 'i': opt.interval = strtod(optarg, NULL); break;
		case 'd': opt.duration = strtod(optarg, NULL); break;
		case 't': opt.threads = strtoul(optarg, NULL, 10); break;
		case 'e': opt.entries = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': opt.signed_per_round = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'p': opt.prefix = optarg; break;
		case 'C': opt.ceiling = true; break;
		case 'K': opt.keepalive = true; break;
		case 'S': opt.step = strtod(optarg, NULL); break;
		case 'W': opt.warmup = strtod(optarg, NULL); break;
		case 'D': opt.db_pid = atoi(optarg); break;
		case 'P':
			for (u = strtok_r(optarg, ",", &save); u && opt.n_pids < 16;
			     u = strtok_r(NULL, ",", &save))
				opt.pids[opt.n_pids++] = atoi(u);
			break;
		default: return -EINVAL;
		}
	}
	if (optind != argc || !opt.n_urls || !opt.cacert || !opt.keys || !opt.agents ||
	    opt.agents > 1000000 || !opt.threads || opt.threads > 1024 || !(opt.interval > 0) ||
	    !(opt.duration > 0) || !opt.entries || opt.entries > 256 ||
	    opt.signed_per_round >= opt.entries || strlen(opt.prefix) > 12 || !(opt.step > 0) ||
	    !(opt.warmup >= 0))
		return -EINVAL;
	if (opt.threads > opt.agents)
		opt.threads = opt.agents;
	return 0;
}

static int save_primes(size_t had)
{
	char path[4096];
	FILE *f;

	if (had == n_primes)
		return 0;
	snprintf(path, sizeof(path), "%s/primes", opt.keys);
	f = fopen(path, "a");
	for (size_t i = had; f && i < n_primes; i++) {
		char *h = BN_bn2hex(primes[i]);

		if (h)
			fprintf(f, "%s\n", h);
		OPENSSL_free(h);
	}
	return f && fclose(f) == 0 ? 0 : -errno;
}

/* one thread per share of the agents, each with its own handles */
static int start_workers(void)
{
	for (size_t t = 0; t < opt.threads; t++) {
		struct worker *w = &workers[t];

		w->index = (unsigned)t;
		w->curl = new_handle();
		w->multi = curl_multi_init();
		if (!w->curl || !w->multi)
			return 3;
		curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS,
				  opt.keepalive ? (long)(opt.agents / opt.threads + 8) : 1L);
		if (pthread_create(&w->thread, NULL, run, w) != 0)
			return 3;
	}
	return 0;
}

/* keys: the prime pool (cached), then each agent's EK, EK certificate, AK, TLS key */
static int make_keys(int want)
{
	size_t had;
	double t0;

	t0 = now();
	had = n_primes;
	n_primes = (size_t)want;
	atomic_store(&next_prime, (unsigned)had);
	go(STAGE_PRIMES);
	if (atomic_load(&setup_failures) || save_primes(had) < 0) {
		fprintf(stderr, "fleet: cannot make or save the prime pool in %s\n", opt.keys);
		return 3;
	}
	printf("setup: prime pool %zu primes (%zu new) in %.1f s\n", n_primes, n_primes - had,
	       now() - t0);
	t0 = now();
	go(STAGE_KEYS);
	{
		double cpu = 0;

		for (size_t t = 0; t < opt.threads; t++)
			cpu += workers[t].cpu_keys;
		printf("setup: %zu agents' EK + EK certificate + AK + TLS key in %.1f s (%.0f us CPU "
		       "each)\n", opt.agents, now() - t0, 1e6 * cpu / (double)opt.agents);
	}
	if (atomic_load(&setup_failures))
		return 3;
	fflush(stdout);
	return 0;
}

/* enrollment: credential activation, certificates, push mode; /metrics before it in @s */
static void enroll_all(CURL *mc, struct snapshot *s)
{
	struct series en;
	double t0;

	snapshot(mc, s);
	t0 = now();
	go(STAGE_ENROLL);
	en = merged(offsetof(struct worker, enroll));
	printf("enroll: %zu of %zu agents in %.1f s (%.0f/s; each enroll + activate + mode: p50 "
	       "%.1f ms, p99 %.1f ms), %d failed\n", en.n, opt.agents, now() - t0,
	       (double)en.n / (now() - t0), 1e3 * load_quantile(en.v, en.n, 0.5),
	       1e3 * load_quantile(en.v, en.n, 0.99), atomic_load(&setup_failures));
	free(en.v);
	fflush(stdout);
}

/* --ceiling: windows of opt.step seconds, the interval shrinking by 1/1.25, until one misses */
static void ceiling(CURL *mc)
{
	struct window win;
	double iv = opt.interval, best = 0, best_p99 = 0;

	printf("ceiling: %zu agents, steps of %.0f s, the interval shrinking by 1/1.25\n",
	       opt.agents, opt.step);
	for (int s = 0; s < 40; s++, iv /= 1.25) {
		const char *why = NULL;

		window(mc, iv, s == 0 ? opt.warmup : 0, opt.step, false, &win);
		printf("  offered %7.1f/s  achieved %7.1f/s  server p50 %7.2f ms p99 %7.2f ms  "
		       "push p99 %7.2f ms  errors %llu\n", win.offered, win.rate,
		       1e3 * win.server_p50, 1e3 * win.server_p99, 1e3 * win.push_p99,
		       (unsigned long long)win.errors);
		fflush(stdout);
		if (win.server_p99 > P99_LIMIT)
			why = "server p99 above 100 ms";
		else if (win.errors)
			why = "errors";
		else if (win.rate < 0.9 * win.offered)
			why = "achieved < 90% of offered (the machine is saturated)";
		if (why) {
			printf("ceiling: %.1f attestations/s (server p99 %.2f ms); the next step "
			       "stopped: %s\n", best, 1e3 * best_p99, why);
			printf("RESULT ceiling=%.1f ceiling_p99=%.3f stop=\"%s\"\n", best,
			       1e3 * best_p99, why);
			break;
		}
		best = win.rate;
		best_p99 = win.server_p99;
	}
}

/* the nodes' memory before enrollment and at the end */
static void print_memory(const struct snapshot *s_before, const struct snapshot *s_after)
{
	for (unsigned u = 0; u < opt.n_urls && u < 16; u++)
		printf("memory: node %u RSS %.1f MiB before enrollment, %.1f MiB at the end: %.0f "
		       "bytes per agent of the node\n", u, s_before->rss[u] / 1048576,
		       s_after->rss[u] / 1048576,
		       (s_after->rss[u] - s_before->rss[u]) / ((double)opt.agents / opt.n_urls));
	printf("RESULT_MEM");
	for (unsigned u = 0; u < opt.n_urls && u < 16; u++)
		printf(" rss_before%u=%.0f rss_after%u=%.0f", u, s_before->rss[u], u,
		       s_after->rss[u]);
	printf("\n");
}

/* the workers stopped and joined; everything freed */
static void finish(CURL *mc)
{
	atomic_store(&stage, STAGE_DONE);
	pthread_barrier_wait(&barrier); /* the workers return */
	for (size_t t = 0; t < opt.threads; t++) {
		pthread_join(workers[t].thread, NULL);
		curl_easy_cleanup(workers[t].curl);
		curl_multi_cleanup(workers[t].multi);
		free(workers[t].out.p);
		free(workers[t].tls.v), free(workers[t].nonce.v), free(workers[t].push.v);
		free(workers[t].late.v), free(workers[t].enroll.v);
	}
	for (size_t i = 0; i < opt.agents; i++) {
		free_enrollment(&agents[i]);
		EVP_PKEY_free(agents[i].ak);
		free(agents[i].tls_key.data);
		free(agents[i].tls_cert.data);
	}
	for (size_t i = 0; i < n_primes; i++)
		BN_clear_free(primes[i]);
	for (unsigned i = 0; i < SIGNED_POOL; i++)
		vouch_free(pool[i].sig);
	free(primes);
	free(agents);
	free(workers);
	X509_free(ek_ca);
	EVP_PKEY_free(ek_ca_key);
	curl_easy_cleanup(mc);
	curl_global_cleanup();
	pthread_barrier_destroy(&barrier);
}

int main(int argc, char **argv)
{
	struct snapshot s_before, s_after;
	struct window win;
	CURL *mc;
	int want, exit_code = 0;

	if (parse_args(argc, argv) < 0)
		return usage();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || ca_load() < 0 || pool_setup() < 0)
		return 3;
	agents = calloc(opt.agents, sizeof(*agents));
	workers = calloc(opt.threads, sizeof(*workers));
	mc = curl_easy_init();
	if (!agents || !workers || !mc || (want = primes_load(opt.agents)) < 0 ||
	    pthread_barrier_init(&barrier, NULL, (unsigned)opt.threads + 1) != 0)
		return 3;
	curl_easy_setopt(mc, CURLOPT_CAINFO, opt.cacert);
	curl_easy_setopt(mc, CURLOPT_WRITEFUNCTION, load_on_data);
	curl_easy_setopt(mc, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(mc, CURLOPT_FORBID_REUSE, 1L); /* vouchd closes idle connections */
	if (start_workers() != 0 || make_keys(want) != 0)
		return 3;
	enroll_all(mc, &s_before);
	if (atomic_load(&setup_failures)) {
		exit_code = 1;
		goto done;
	}

	/*
	 * The first round of every agent opens its mTLS connection (enrollment went without a
	 * client certificate) and fetches a nonce: 10,000 handshakes in one interval.  With
	 * --warmup those rounds, and the catching up after them, run before the measured
	 * window, on the same schedule; their figures are printed, not counted.
	 */
	if (!opt.ceiling) {
		window(mc, opt.interval, opt.warmup, opt.duration, true, &win);
		if (win.errors || win.trusted != win.rounds || !win.rounds)
			exit_code = 1;
	} else {
		ceiling(mc);
	}
	snapshot(mc, &s_after);
	print_memory(&s_before, &s_after);
done:
	finish(mc);
	return exit_code;
}
