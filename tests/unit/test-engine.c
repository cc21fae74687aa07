// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests for the integrity engine: each consumer id in each mode, the sig_enforce
 * latch against every API that could turn it off, the integrity cache, the list/PCR
 * crash consistency rules.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tap.h"

#include "internal.h"
#include "openssl-internal.h"

#define XATTR "user.vouch-test-ima"

static vouch_ctx *ctx;
static char dir[256];
static vouch_key *key;
static vouch_cert *cert;
static uint32_t keyid;

struct events {
	int n_measure, n_appraise, n_audit, n_deny, n_recover;
	int last_result;
	char last_reason[96];
};

static void on_event(void *ud, const struct vouch_engine_event *ev)
{
	struct events *e = ud;

	if (!strcmp(ev->action, "measure"))
		e->n_measure++;
	else if (!strcmp(ev->action, "appraise"))
		e->n_appraise++;
	else if (!strcmp(ev->action, "audit"))
		e->n_audit++;
	else if (!strcmp(ev->action, "deny"))
		e->n_deny++;
	else if (!strcmp(ev->action, "recover"))
		e->n_recover++;
	e->last_result = ev->result;
	snprintf(e->last_reason, sizeof(e->last_reason), "%s", ev->reason);
}

static const char *path(const char *name)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static void write_file(const char *name, const char *content)
{
	FILE *f = fopen(path(name), "we");

	fputs(content, f);
	fclose(f);
}

/* security.ima v2 signature (RSA PKCS#1 v1.5 over the sha256 file digest), as evmctl. */
static void sign_file_algo(const char *name, int algo);

static void sign_file(const char *name)
{
	sign_file_algo(name, VOUCH_HASH_SHA256);
}

static void sign_file_algo(const char *name, int algo)
{
	struct vouch_digest d;
	uint8_t v[9 + 512];
	size_t sl = sizeof(v) - 9;
	EVP_PKEY_CTX *pc;

	vouch_digest_file(ctx, path(name), (int[]){ algo }, 1, &d);
	pc = EVP_PKEY_CTX_new(key_pkey(key), NULL);
	EVP_PKEY_sign_init(pc);
	EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING);
	EVP_PKEY_CTX_set_signature_md(pc, algo == VOUCH_HASH_SHA512 ? EVP_sha512() : EVP_sha256());
	EVP_PKEY_sign(pc, v + 9, &sl, d.bytes, d.len);
	EVP_PKEY_CTX_free(pc);
	v[0] = 0x03;
	v[1] = 2;
	v[2] = (uint8_t)algo;
	put_be32(v + 3, keyid);
	put_be16(v + 7, (uint16_t)sl);
	setxattr(path(name), XATTR, v, 9 + sl, 0);
}

static vouch_engine *engine(const char *state, const char *policy_text, struct events *ev)
{
	struct vouch_engine_options o = VOUCH_ENGINE_OPTIONS_INIT;
	vouch_engine *e = NULL;
	vouch_policy *p = NULL;
	vouch_trust *t = NULL;

	o.state_dir = state ? path(state) : NULL;
	o.xattr_name = XATTR;
	if (vouch_engine_new(ctx, &o, &e) < 0) {
		printf("# engine: %s\n", vouch_ctx_last_error(ctx));
		return NULL;
	}
	if (policy_text && vouch_policy_parse(ctx, policy_text, strlen(policy_text), NULL, &p,
					      NULL) < 0)
		printf("# policy: %s\n", vouch_ctx_last_error(ctx));
	vouch_engine_set_policy(e, p);
	vouch_trust_new(ctx, &t);
	vouch_trust_add_cert(t, cert, ".ima");
	vouch_engine_set_trust(e, VOUCH_KEYRING_IMA, t);
	if (ev)
		vouch_engine_set_audit_fn(e, on_event, ev);
	return e;
}

/* Run one load of file @name for read id / file func; returns the hook's return code. */
static int load(vouch_engine *e, int func, int id, const char *name,
		struct vouch_engine_result *res)
{
	int fd = open(path(name), O_RDONLY | O_CLOEXEC), r;

	if (id >= 0) {
		uint8_t *buf = NULL;
		size_t len = 0;

		r = vouch_engine_read_file(e, id, fd, name, true, res);
		if (r == 0)
			r = read_fd_all(ctx, fd, name, 1 << 20, &buf, &len);
		if (r == 0)
			r = vouch_engine_post_read_file(e, id, fd, name, buf, len, res);
		free(buf);
	} else {
		r = vouch_engine_file_check(e, func, fd, name,
					    func == VOUCH_FUNC_FILE_CHECK ? VOUCH_MAY_READ
									  : VOUCH_MAY_EXEC,
					    res);
	}
	close(fd);
	return r;
}

static void test_consumers_modes(void)
{
	static const struct {
		int func, id;
	} consumers[] = {
		{ VOUCH_FUNC_FILE_CHECK, -1 },
		{ VOUCH_FUNC_MMAP_CHECK, -1 },
		{ VOUCH_FUNC_BPRM_CHECK, -1 },
		{ VOUCH_FUNC_FIRMWARE_CHECK, VOUCH_READING_FIRMWARE },
		{ VOUCH_FUNC_MODULE_CHECK, VOUCH_READING_MODULE },
		{ VOUCH_FUNC_KEXEC_KERNEL_CHECK, VOUCH_READING_KEXEC_IMAGE },
		{ VOUCH_FUNC_KEXEC_INITRAMFS_CHECK, VOUCH_READING_KEXEC_INITRAMFS },
		{ VOUCH_FUNC_POLICY_CHECK, VOUCH_READING_POLICY },
		{ VOUCH_FUNC_FILE_CHECK, VOUCH_READING_X509_CERTIFICATE },
	};
	static const char *modes[] = { "off", "log", "fix", "enforce" };

	for (size_t i = 0; i < ARRAY_SIZE(consumers); i++) {
		const char *fn = vouch_policy_func_name(consumers[i].func);

		for (int m = 0; m < 4; m++) {
			char pol[256], good[64], bad[64];
			struct events ev = { 0 };
			struct vouch_engine_result rg = { 0 }, rb = { 0 };
			vouch_engine *e;
			int r1, r2;
			bool reenabled = consumers[i].func == VOUCH_FUNC_FIRMWARE_CHECK ||
					 consumers[i].func == VOUCH_FUNC_MODULE_CHECK ||
					 consumers[i].func == VOUCH_FUNC_KEXEC_KERNEL_CHECK ||
					 consumers[i].func == VOUCH_FUNC_POLICY_CHECK;
			bool appraises = m != VOUCH_MODE_OFF || reenabled;
			char content[128];

			snprintf(pol, sizeof(pol),
				 "measure func=%s\nappraise func=%s appraise_type=imasig\naudit "
				 "func=%s\n",
				 fn, fn, fn);
			snprintf(good, sizeof(good), "good-%zu-%d", i, m);
			snprintf(bad, sizeof(bad), "bad-%zu-%d", i, m);
			snprintf(content, sizeof(content), "signed payload %zu %d\n", i, m);
			write_file(good, content);
			sign_file(good);
			snprintf(content, sizeof(content), "unsigned payload %zu %d\n", i, m);
			write_file(bad, content);
			e = engine(NULL, pol, &ev);
			vouch_engine_set_mode(e, VOUCH_FUNC_NONE, m);
			r1 = load(e, consumers[i].func, consumers[i].id, good, &rg);
			r2 = load(e, consumers[i].func, consumers[i].id, bad, &rb);
			ok(r1 == 0 && rg.measured && (rg.appraised == appraises) &&
				   (!appraises || rg.appraisal == 0),
			   "%s (id %d) %s: signed file allowed, measured%s", fn, consumers[i].id,
			   modes[m], appraises ? ", appraisal ok" : ", not appraised");
			ok(rb.measured && rb.appraised == appraises &&
				   (m == VOUCH_MODE_ENFORCE ? r2 == -EACCES && rb.denied
							    : r2 == 0 && !rb.denied),
			   "%s %s: unsigned file %s", fn, modes[m],
			   m == VOUCH_MODE_ENFORCE ? "denied" : "allowed");
			ok(ev.n_measure == 2 && ev.n_audit == 2 &&
				   ev.n_appraise == (appraises ? 2 : 0) &&
				   ev.n_deny == (m == VOUCH_MODE_ENFORCE ? 1 : 0),
			   "%s %s: audit events measure=%d appraise=%d audit=%d deny=%d", fn,
			   modes[m], ev.n_measure, ev.n_appraise, ev.n_audit, ev.n_deny);
			ok(vouch_engine_verify_state(e) == 0, "%s %s: list replays to the PCRs", fn,
			   modes[m]);
			if (m == VOUCH_MODE_FIX && i == 0) {
				uint8_t v[80];
				ssize_t n = getxattr(path(bad), XATTR, v, sizeof(v));

				ok(n == 2 + 32 && v[0] == 0x04 && v[1] == VOUCH_HASH_SHA256 &&
					   !memcmp(v + 2, rb.digest.bytes, 32),
				   "fix: the unsigned file's xattr is rewritten with its hash");
			}
			vouch_engine_free(e);
		}
	}
}

static void test_buffers(void)
{
	struct events ev = { 0 };
	struct vouch_engine_result res;
	vouch_engine *e = engine(NULL,
				 "measure func=KEXEC_CMDLINE\nmeasure func=POLICY_CHECK\n"
				 "appraise func=POLICY_CHECK\n"
				 "appraise func=KEXEC_KERNEL_CHECK appraise_type=imasig\n"
				 "appraise func=FIRMWARE_CHECK appraise_type=imasig\n"
				 "appraise func=MODULE_CHECK appraise_type=imasig\n",
				 &ev);
	static const char cmdline[] = "root=/dev/vda ro";

	ok(vouch_engine_post_load_data(e, VOUCH_LOADING_KEXEC_CMDLINE, cmdline, strlen(cmdline),
				       "kexec-cmdline", &res) == 0 &&
		   res.measured,
	   "kexec command line buffer measured");
	ok(vouch_engine_post_load_data(e, VOUCH_LOADING_BPF, "\x95\0\0\0\0\0\0\0", 8, "bpf-prog",
				       &res) == -EACCES &&
		   res.measured && res.appraised && res.denied,
	   "an unsigned BPF program is measured, appraised and denied when enforcing");
	ok_err(vouch_engine_load_data(e, VOUCH_READING_KEXEC_IMAGE, false, &res), -EACCES,
	       "kexec_load denied: kexec appraisal is enforced and there is no file");
	ok_err(vouch_engine_load_data(e, VOUCH_READING_FIRMWARE, false, &res), -EACCES,
	       "firmware sysfs fallback denied");
	ok_err(vouch_engine_load_data(e, VOUCH_READING_FIRMWARE, true, &res), 0,
	       "firmware with contents goes on to post_load_data");
	ok_err(vouch_engine_post_load_data(e, VOUCH_READING_FIRMWARE, "fw", 2, "fw", &res), -EACCES,
	       "firmware buffer without a file refused");
	ok_err(vouch_engine_load_data(e, VOUCH_READING_MODULE, true, &res), -EACCES,
	       "init_module denied when module appraisal is enforced");
	ok_err(vouch_engine_post_read_file(e, VOUCH_READING_X509_CERTIFICATE, -1, "cert", "x", 1,
					   &res),
	       0, "x509 certificate without a file permitted");
	ok_err(vouch_engine_post_read_file(e, VOUCH_READING_FIRMWARE, -1, "fw", NULL, 0, &res),
	       -EACCES, "empty firmware read denied when enforcing");
	vouch_engine_set_mode(e, VOUCH_FUNC_NONE, VOUCH_MODE_LOG);
	ok_err(vouch_engine_load_data(e, VOUCH_READING_KEXEC_IMAGE, false, &res), 0,
	       "kexec_load allowed in log mode");
	ok_err(vouch_engine_load_data(e, VOUCH_READING_MODULE, true, &res), 0,
	       "init_module allowed in log mode");
	ok(vouch_engine_verify_state(e) == 0, "buffers: list replays to the PCRs");
	vouch_engine_free(e);
}

static void test_latch(void)
{
	struct vouch_engine_result res;
	struct events ev = { 0 };
	vouch_engine *e;

	write_file("latch-unsigned", "not signed\n");
	write_file("latch-signed", "signed\n");
	sign_file("latch-signed");
	e = engine("latch-state", "measure func=FIRMWARE_CHECK\n", &ev);
	vouch_engine_set_mode(e, VOUCH_FUNC_NONE, VOUCH_MODE_LOG);
	ok(load(e, 0, VOUCH_READING_FIRMWARE, "latch-unsigned", &res) == 0 && !res.appraised,
	   "before the latch: no appraise rule, unsigned firmware loads");
	ok_err(vouch_engine_set_sig_enforce(e, VOUCH_FUNC_FIRMWARE_CHECK, false), 0,
	       "turning off an unlatched switch is a no-op");
	ok_err(vouch_engine_set_sig_enforce(e, VOUCH_FUNC_FIRMWARE_CHECK, true), 0,
	       "latch firmware signature enforcement");
	ok(load(e, 0, VOUCH_READING_FIRMWARE, "latch-unsigned", &res) == -EACCES && res.denied,
	   "latched: unsigned firmware denied although the policy has no appraise rule");
	ok(load(e, 0, VOUCH_READING_FIRMWARE, "latch-signed", &res) == 0 && res.appraisal == 0,
	   "latched: signed firmware allowed");
	/* every way to turn it off */
	ok_err(vouch_engine_set_sig_enforce(e, VOUCH_FUNC_FIRMWARE_CHECK, false), -EROFS,
	       "set_sig_enforce(false) refused");
	ok_err(vouch_engine_set_sig_enforce(e, VOUCH_FUNC_NONE, false), -EROFS,
	       "set_sig_enforce(all, false) refused");
	for (int m = VOUCH_MODE_OFF; m < VOUCH_MODE_ENFORCE; m++) {
		ok_err(vouch_engine_set_mode(e, VOUCH_FUNC_FIRMWARE_CHECK, m), -EROFS,
		       "set_mode(firmware, %d) refused", m);
		ok_err(vouch_engine_set_mode(e, VOUCH_FUNC_NONE, m), -EROFS,
		       "set_mode(all, %d) refused", m);
	}
	ok(vouch_engine_get_mode(e, VOUCH_FUNC_FIRMWARE_CHECK) == VOUCH_MODE_ENFORCE,
	   "mode still enforce");
	ok(vouch_engine_get_mode(e, VOUCH_FUNC_FILE_CHECK) == VOUCH_MODE_LOG,
	   "the refused set_mode(all) changed nothing else either");
	vouch_engine_set_policy(e, NULL);
	ok(load(e, 0, VOUCH_READING_FIRMWARE, "latch-unsigned", &res) == -EACCES,
	   "no policy: still denied");
	{
		vouch_policy *p = NULL;

		vouch_policy_parse(ctx, "dont_appraise func=FIRMWARE_CHECK\n", 34, NULL, &p, NULL);
		vouch_engine_set_policy(e, p);
	}
	ok(load(e, 0, VOUCH_READING_FIRMWARE, "latch-unsigned", &res) == -EACCES,
	   "dont_appraise policy: still denied");
	vouch_engine_set_trust(e, VOUCH_KEYRING_IMA, NULL);
	ok(load(e, 0, VOUCH_READING_FIRMWARE, "latch-signed", &res) == -EACCES,
	   "no trust store: even the signed file is denied (fails closed)");
	ok(vouch_engine_post_read_file(e, VOUCH_READING_FIRMWARE, -1, "x", NULL, 0, &res) ==
		   -EACCES,
	   "empty read denied");
	vouch_engine_free(e);
	/* the latch outlives the process: it is in the state */
	e = engine("latch-state", NULL, NULL);
	ok(e && vouch_engine_get_sig_enforce(e, VOUCH_FUNC_FIRMWARE_CHECK),
	   "reopened state: still latched");
	ok(e && load(e, 0, VOUCH_READING_FIRMWARE, "latch-unsigned", &res) == -EACCES,
	   "reopened state: unsigned firmware denied");
	ok(e && vouch_engine_set_mode(e, VOUCH_FUNC_FIRMWARE_CHECK, VOUCH_MODE_OFF) == -EROFS,
	   "reopened state: set_mode(off) refused");
	vouch_engine_free(e);
	/* a damaged latch file fails closed */
	{
		FILE *f = fopen(path("latch-state/sig_enforce"), "we");

		fputs("FIRMWARE_CHECK\ngarbage\n", f);
		fclose(f);
		ok(engine("latch-state", NULL, NULL) == NULL, "a corrupt latch file refuses to start");
	}
}

static void test_cache(void)
{
	struct vouch_engine_result r1, r2, r3, r4;
	vouch_engine *e = engine(NULL, "measure func=BPRM_CHECK\nappraise func=BPRM_CHECK\n", NULL);
	uint64_t n0;
	struct timespec ts[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };

	write_file("cached", "version 1\n");
	sign_file("cached");
	n0 = vouch_engine_entry_count(e);
	load(e, VOUCH_FUNC_BPRM_CHECK, -1, "cached", &r1);
	load(e, VOUCH_FUNC_BPRM_CHECK, -1, "cached", &r2);
	ok(r1.measured && !r1.cached && r2.cached && !r2.measured && r2.appraisal == 0 &&
		   vouch_engine_entry_count(e) == n0 + 1,
	   "unchanged file: second load is a cache hit, no new entry");
	write_file("cached", "version 2\n");
	load(e, VOUCH_FUNC_BPRM_CHECK, -1, "cached", &r3);
	ok(!r3.cached && r3.measured && r3.appraisal == -EKEYREJECTED &&
		   vouch_engine_entry_count(e) == n0 + 2 &&
		   memcmp(r1.digest.bytes, r3.digest.bytes, 32) != 0,
	   "modified file: re-measured (new entry) and re-appraised (bad signature)");
	utimensat(AT_FDCWD, path("cached"), ts, 0);
	load(e, VOUCH_FUNC_BPRM_CHECK, -1, "cached", &r4);
	ok(!r4.cached && !r4.measured && vouch_engine_entry_count(e) == n0 + 2,
	   "touched file: re-evaluated, same entry already in the list (hash_exists)");
	vouch_engine_set_mode(e, VOUCH_FUNC_NONE, VOUCH_MODE_LOG);
	load(e, VOUCH_FUNC_BPRM_CHECK, -1, "cached", &r4);
	ok(!r4.cached && r4.appraised && !r4.denied, "a mode change invalidates cached appraisals");
	/* signed with sha512, measured with sha256: one pass hashes both */
	write_file("sha512-signed", "signed with sha512\n");
	sign_file_algo("sha512-signed", VOUCH_HASH_SHA512);
	vouch_engine_set_mode(e, VOUCH_FUNC_NONE, VOUCH_MODE_ENFORCE);
	ok(load(e, VOUCH_FUNC_BPRM_CHECK, -1, "sha512-signed", &r4) == 0 && r4.appraisal == 0 &&
		   r4.measured && r4.digest.algo == VOUCH_HASH_SHA256,
	   "a sha512 signature verifies while the file is measured with sha256");
	vouch_engine_free(e);
}

static int file_append(const char *name, const void *p, size_t n)
{
	int fd = open(path(name), O_WRONLY | O_APPEND | O_CLOEXEC);
	int r = write_all(fd, p, n);

	close(fd);
	return r;
}

static void test_crash_rules(void)
{
	struct vouch_engine_result res;
	struct events ev = { 0 };
	vouch_engine *e;
	uint8_t *pcrs = NULL, *list = NULL;
	size_t pcrs_len = 0, list_len = 0;
	struct vouch_digest d1, d2;

	write_file("crash-a", "a\n");
	write_file("crash-b", "b\n");
	e = engine("crash", "measure func=FILE_CHECK\n", NULL);
	load(e, VOUCH_FUNC_FILE_CHECK, -1, "crash-a", &res);
	vouch_engine_free(e);
	read_file_all(ctx, path("crash/pcrs"), 1 << 20, &pcrs, &pcrs_len);
	read_file_all(ctx, path("crash/measurements"), 1 << 20, &list, &list_len);
	e = engine("crash", "measure func=FILE_CHECK\n", NULL);
	load(e, VOUCH_FUNC_FILE_CHECK, -1, "crash-b", &res);
	vouch_engine_get_pcr(e, VOUCH_HASH_SHA256, 10, &d1);
	vouch_engine_free(e);
	/* crash after the list entry was durable, before the PCR file moved */
	write_file_atomic(ctx, path("crash/pcrs"), pcrs, pcrs_len, 0600);
	e = engine("crash", NULL, &ev);
	ok(e && vouch_engine_entry_count(e) == 3 && vouch_engine_verify_state(e) == 0,
	   "durable tail entry without its extend: recovered by completing the extend");
	if (e) {
		vouch_engine_get_pcr(e, VOUCH_HASH_SHA256, 10, &d2);
		ok(!memcmp(d1.bytes, d2.bytes, 32), "recovered PCR equals the uninterrupted one");
	}
	vouch_engine_free(e);
	/* a torn record at the end: cut off */
	file_append("crash/measurements", "\x0a\0\0\0\x11\x22", 6);
	e = engine("crash", NULL, NULL);
	ok(e && vouch_engine_entry_count(e) == 3 && vouch_engine_verify_state(e) == 0,
	   "torn final record cut off");
	vouch_engine_free(e);
	/* the PCRs two entries behind: not the documented tail, refused */
	write_file_atomic(ctx, path("crash/measurements"), list, list_len, 0600);
	write_file_atomic(ctx, path("crash/pcrs"), pcrs, pcrs_len, 0600);
	{
		uint8_t *cur = NULL;
		size_t cur_len = 0;

		e = engine("crash", "measure func=FILE_CHECK\n", NULL);
		ok(e && vouch_engine_entry_count(e) == 2, "restored state opens");
		load(e, VOUCH_FUNC_FILE_CHECK, -1, "crash-b", &res);
		write_file("crash-c", "c\n");
		load(e, VOUCH_FUNC_FILE_CHECK, -1, "crash-c", &res);
		vouch_engine_free(e);
		write_file_atomic(ctx, path("crash/pcrs"), pcrs, pcrs_len, 0600);
		ok(engine("crash", NULL, NULL) == NULL, "PCRs two entries behind the list: refused");
		/* a flipped byte in an entry: template digest mismatch, refused */
		read_file_all(ctx, path("crash/measurements"), 1 << 20, &cur, &cur_len);
		cur[cur_len - 3] ^= 1;
		write_file_atomic(ctx, path("crash/measurements"), cur, cur_len, 0600);
		ok(engine("crash", NULL, NULL) == NULL, "tampered entry: refused");
		free(cur);
	}
	free(pcrs);
	free(list);
}

static void test_args(void)
{
	struct vouch_engine_options o = VOUCH_ENGINE_OPTIONS_INIT;
	vouch_engine *e = NULL;

	o.reserved[1] = 1;
	ok_err(vouch_engine_new(ctx, &o, &e), -EINVAL, "reserved option must be zero");
	o.reserved[1] = 0;
	o.template_name = "evm-sig";
	ok_err(vouch_engine_new(ctx, &o, &e), -EINVAL, "unsupported template refused");
	o.template_name = NULL;
	ok_ret(vouch_engine_new(ctx, &o, &e), "in-memory engine");
	ok_err(vouch_engine_file_check(e, VOUCH_FUNC_MODULE_CHECK, 0, "x", 4, NULL), -EINVAL,
	       "MODULE_CHECK is not a file hook");
	ok_err(vouch_engine_set_mode(e, 99, 1), -EINVAL, "unknown func");
	ok_err(vouch_engine_set_mode(e, 1, 9), -EINVAL, "unknown mode");
	ok(vouch_engine_func_for_id(VOUCH_LOADING_SECCOMP) == VOUCH_FUNC_POLICY_CHECK &&
		   vouch_engine_func_for_id(VOUCH_READING_X509_CERTIFICATE) == VOUCH_FUNC_FILE_CHECK &&
		   vouch_engine_func_for_id(7) == -EINVAL,
	   "read id mapping (read_idmap)");
	vouch_engine_free(e);
	vouch_engine_free(NULL);
}

int main(void)
{
	struct vouch_cert_info info;
	char tmpl[] = "/tmp/vouch-test-engine.XXXXXX";
	char cmd[600];

	if (vouch_ctx_new(&ctx) < 0 || !mkdtemp(tmpl))
		return 1;
	snprintf(dir, sizeof(dir), "%s", tmpl);
	snprintf(cmd, sizeof(cmd), "cp %s %s/k.key && chmod 600 %s/k.key", vec("keys/rsa2048.key"),
		 dir, dir);
	if (system(cmd) != 0 || vouch_key_load(ctx, path("k.key"), NULL, NULL, &key) < 0 ||
	    vouch_cert_load(ctx, vec("keys/rsa2048.crt"), &cert) < 0)
		return 1;
	vouch_cert_get_info(cert, &info);
	keyid = info.ima_keyid;
	if (setxattr(dir, XATTR, "x", 1, 0) < 0) {
		printf("1..0 # SKIP no user xattrs on /tmp\n");
		return 0;
	}
	test_args();
	test_consumers_modes();
	test_buffers();
	test_latch();
	test_cache();
	test_crash_rules();
	vouch_key_free(key);
	vouch_cert_free(cert);
	vouch_ctx_free(ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
