// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests for the integrity engine: each consumer id in each mode, the sig_enforce
 * latch against every API that could turn it off, the integrity cache, the list/PCR
 * crash consistency rules.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tap.h"

#include "internal.h"
#include "openssl-internal.h"

#include "engine-fixture.h"



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
	return tap_path(dir, name);
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
	ok(load(e, 0, VOUCH_READING_FIRMWARE, "latch-signed", &res) == 0,
	   "the caller drops its trust store: the latch's pinned one still decides");
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

/* Copy a vector into the scratch directory (xattrs are set on the copy). */
static void copy_vec(const char *rel, const char *name)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	if (read_file_all(ctx, vec(rel), 1 << 20, &buf, &len) == 0)
		write_file_atomic(ctx, path(name), buf, len, 0644);
	free(buf);
}

static void digest_xattr(const char *name)
{
	struct vouch_digest d;
	uint8_t v[2 + 32];

	vouch_digest_file(ctx, path(name), (int[]){ VOUCH_HASH_SHA256 }, 1, &d);
	v[0] = 0x04;
	v[1] = VOUCH_HASH_SHA256;
	memcpy(v + 2, d.bytes, 32);
	setxattr(path(name), XATTR, v, sizeof(v), 0);
}

static vouch_engine *engine_vec_policy(const char *rel, struct events *ev)
{
	uint8_t *pol = NULL;
	size_t len = 0;
	char text[4096];
	vouch_engine *e;

	if (read_file_all(ctx, vec(rel), sizeof(text) - 1, &pol, &len) < 0)
		return NULL;
	memcpy(text, pol, len);
	text[len] = '\0';
	free(pol);
	e = engine(NULL, text, ev);
	return e;
}

static int file_check_mask(vouch_engine *e, const char *name, uint32_t mask,
			   struct vouch_engine_result *res)
{
	int fd = open(path(name), O_RDONLY | O_CLOEXEC), r;

	r = vouch_engine_file_check(e, VOUCH_FUNC_FILE_CHECK, fd, name, mask, res);
	close(fd);
	return r;
}

/*
 * Issue 13 item 11, the attack: a digest-only file is allowed for MAY_READ by a rule that
 * needs no signature, then asked for MAY_EXEC, which a rule with appraise_type=imasig
 * decides.  The cached MAY_READ appraisal must not answer it.  Vector: tests/vectors/engine/.
 */
static void test_cache_requirements(void)
{
	struct vouch_engine_result r1 = { 0 }, r2 = { 0 }, r3 = { 0 };
	vouch_engine *e;
	int rc;

	copy_vec("engine/cache-mask.file", "cache-mask");
	digest_xattr("cache-mask");
	e = engine_vec_policy("engine/cache-mask.policy", NULL);
	ok(e != NULL, "cache-mask vector policy loads");
	if (!e)
		return;
	ok(file_check_mask(e, "cache-mask", VOUCH_MAY_READ, &r1) == 0 && r1.appraisal == 0,
	   "digest-only file: MAY_READ allowed (its rule needs no signature)");
	rc = file_check_mask(e, "cache-mask", VOUCH_MAY_EXEC, &r2);
	ok(rc == -EACCES && r2.denied && r2.appraisal == -EPERM && !r2.cached,
	   "then MAY_EXEC (appraise_type=imasig): denied, not answered from the MAY_READ cache "
	   "(rc %d, cached %d)",
	   rc, r2.cached);
	ok(file_check_mask(e, "cache-mask", VOUCH_MAY_READ, &r3) == 0 && r3.appraisal == 0,
	   "MAY_READ again: still allowed");
	rc = file_check_mask(e, "cache-mask", VOUCH_MAY_EXEC, &r2);
	ok(rc == -EACCES && r2.denied, "MAY_EXEC again: still denied (rc %d)", rc);
	vouch_engine_free(e);
	/* the other order: a denial for one rule is not reused for another either */
	e = engine_vec_policy("engine/cache-mask.policy", NULL);
	rc = file_check_mask(e, "cache-mask", VOUCH_MAY_EXEC, &r2);
	ok(rc == -EACCES, "fresh engine: MAY_EXEC first, denied");
	ok(file_check_mask(e, "cache-mask", VOUCH_MAY_READ, &r1) == 0 && r1.appraisal == 0,
	   "then MAY_READ: allowed on its own rule");
	vouch_engine_free(e);
}

/* security.ima v3 (type 0x06) over the fs-verity digest of the file. */
static void sign_file_v3(const char *name)
{
	struct vouch_ima_sign_options o = VOUCH_IMA_SIGN_OPTIONS_INIT;
	uint8_t *v = NULL;
	size_t n = 0;
	int fd = open(path(name), O_RDONLY | O_CLOEXEC);

	o.flags = VOUCH_IMA_SIGN_V3;
	o.keyid = keyid;
	if (vouch_ima_sign_fd(ctx, key, &o, fd, &v, &n) == 0)
		setxattr(path(name), XATTR, v, n, 0);
	else
		printf("# sign v3: %s\n", vouch_ctx_last_error(ctx));
	close(fd);
	vouch_free(v);
}

/*
 * Issue 13 item 12, the attack: under digest_type=verity appraise_type=sigv3 a v2
 * signature (over the plain file digest) passed and a valid v3 one failed; the v2 one must
 * fail and the v3 one pass.  Without the verity rule, a v3 signature is refused.
 */
static void test_verity_sigv3(void)
{
	struct vouch_engine_result res = { 0 };
	vouch_engine *e;
	int rc;

	write_file("v2-signed", "signed v2 for a sigv3 rule\n");
	sign_file("v2-signed");
	write_file("v3-signed", "signed v3 over the fs-verity digest\n");
	sign_file_v3("v3-signed");
	write_file("v3-tampered", "signed v3, then changed\n");
	sign_file_v3("v3-tampered");
	{
		int fd = open(path("v3-tampered"), O_WRONLY | O_APPEND | O_CLOEXEC);

		write_all(fd, "x", 1);
		close(fd);
	}
	e = engine(NULL, "appraise func=BPRM_CHECK digest_type=verity appraise_type=sigv3\n",
		   NULL);
	rc = load(e, VOUCH_FUNC_BPRM_CHECK, -1, "v2-signed", &res);
	ok(rc == -EACCES && res.denied, "sigv3 rule: a v2 signature is denied (rc %d, %s)", rc,
	   res.reason);
	rc = load(e, VOUCH_FUNC_BPRM_CHECK, -1, "v3-signed", &res);
	ok(rc == 0 && res.appraisal == 0, "sigv3 rule: a valid v3 signature is allowed (rc %d, %s)",
	   rc, res.reason);
	rc = load(e, VOUCH_FUNC_BPRM_CHECK, -1, "v3-tampered", &res);
	ok(rc == -EACCES && res.appraisal == -EKEYREJECTED,
	   "sigv3 rule: v3 signature over other contents denied (rc %d, %s)", rc, res.reason);
	vouch_engine_free(e);
	e = engine(NULL, "appraise func=BPRM_CHECK appraise_type=imasig\n", NULL);
	rc = load(e, VOUCH_FUNC_BPRM_CHECK, -1, "v3-signed", &res);
	ok(rc == -EACCES && res.denied,
	   "imasig rule without digest_type=verity: a v3 signature is refused (rc %d, %s)", rc,
	   res.reason);
	rc = load(e, VOUCH_FUNC_BPRM_CHECK, -1, "v2-signed", &res);
	ok(rc == 0, "imasig rule: the v2 signature is allowed (rc %d)", rc);
	vouch_engine_free(e);
}

/*
 * Issue 13 item 12, the attack: appraise_flag=check_blacklist was parsed and ignored, so
 * a module whose payload digest is blacklisted still loaded with its valid signature.
 */
static void test_check_blacklist(void)
{
	struct vouch_engine_result res = { 0 };
	struct vouch_digest payload, other;
	vouch_engine *e;
	int rc;

	copy_vec("peer/blob.rsa2048.ko", "bl.ko");
	vouch_digest_file(ctx, vec("peer/blob.ko"), (int[]){ VOUCH_HASH_SHA256 }, 1, &payload);
	vouch_digest_buf(ctx, VOUCH_HASH_SHA256, "something else", 14, &other);
	e = engine(NULL,
		   "appraise func=MODULE_CHECK appraise_type=imasig|modsig "
		   "appraise_flag=check_blacklist\n",
		   NULL);
	rc = load(e, 0, VOUCH_READING_MODULE, "bl.ko", &res);
	ok(rc == 0 && res.appraisal == 0, "signed module, empty blacklist: allowed (rc %d, %s)", rc,
	   res.reason);
	ok_err(vouch_engine_set_blacklist(e, &other, 1), 0, "blacklist another digest");
	rc = load(e, 0, VOUCH_READING_MODULE, "bl.ko", &res);
	ok(rc == 0, "unrelated blacklist entry: allowed (rc %d)", rc);
	ok_err(vouch_engine_set_blacklist(e, &payload, 1), 0, "blacklist the payload digest");
	rc = load(e, 0, VOUCH_READING_MODULE, "bl.ko", &res);
	ok(rc == -EACCES && res.denied && res.appraisal == -EPERM,
	   "check_blacklist: the blacklisted module is denied although its signature is valid "
	   "(rc %d, %s)",
	   rc, res.reason);
	vouch_engine_free(e);
	e = engine(NULL, "appraise func=MODULE_CHECK appraise_type=imasig|modsig\n", NULL);
	vouch_engine_set_blacklist(e, &payload, 1);
	rc = load(e, 0, VOUCH_READING_MODULE, "bl.ko", &res);
	ok(rc == 0, "without check_blacklist the rule does not consult the blacklist (rc %d)", rc);
	vouch_engine_free(e);
}

/* Every condition the parser accepts is evaluated by the engine, or refused by it. */
static void test_policy_keywords(void)
{
	static const char *unevaluable[] = {
		"appraise func=BPRM_CHECK fsname=ext4\n",
		"measure fsuuid=01234567-89ab-cdef-0123-456789abcdef\n",
		"appraise obj_type=bin_t\n",
		"dont_appraise subj_user=root\n",
	};
	vouch_engine *e = engine(NULL, NULL, NULL);

	for (size_t i = 0; i < ARRAY_SIZE(unevaluable); i++) {
		vouch_policy *p = NULL;

		vouch_policy_parse(ctx, unevaluable[i], strlen(unevaluable[i]), NULL, &p, NULL);
		ok(p && vouch_engine_set_policy(e, p) == -EOPNOTSUPP &&
			   strstr(vouch_ctx_last_error(ctx), "line 1"),
		   "engine refuses a condition it cannot evaluate, naming the line: %.*s (%s)",
		   (int)strlen(unevaluable[i]) - 1, unevaluable[i], vouch_ctx_last_error(ctx));
	}
	vouch_engine_free(e);
}

/*
 * Issue 13 item 13, the attack: the disk fills up in the middle of a record write.  The
 * partial record stayed, the next append followed it, and the next start refused the
 * state forever.  A failed append must leave the list as it was; later loads work and the
 * state reopens.  Disk full is simulated with RLIMIT_FSIZE (write stops at the limit).
 */
static off_t file_size(const char *name)
{
	struct stat st;

	return stat(path(name), &st) == 0 ? st.st_size : -1;
}

static void test_torn_append(void)
{
	struct vouch_engine_result res = { 0 };
	struct rlimit old, lim;
	vouch_engine *e;
	uint64_t n0;
	off_t s0;
	int rc;

	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	write_file("torn-a", "torn a\n");
	write_file("torn-b", "torn b\n");
	write_file("torn-c", "torn c\n");
	write_file("torn-d", "torn d\n");
	e = engine("torn", "measure func=FILE_CHECK\n", NULL);
	n0 = vouch_engine_entry_count(e);
	s0 = file_size("torn/measurements");
	/* the list may grow by 20 bytes: the record is cut in the middle */
	lim = old;
	lim.rlim_cur = (rlim_t)s0 + 20;
	setrlimit(RLIMIT_FSIZE, &lim);
	rc = load(e, VOUCH_FUNC_FILE_CHECK, -1, "torn-a", &res);
	setrlimit(RLIMIT_FSIZE, &old);
	ok(rc < 0 && rc != -EACCES, "disk full mid-record: the load fails (rc %d)", rc);
	ok(file_size("torn/measurements") == s0 && vouch_engine_entry_count(e) == n0 &&
		   vouch_engine_verify_state(e) == 0,
	   "and the list is as it was before (%lld bytes, was %lld)",
	   (long long)file_size("torn/measurements"), (long long)s0);
	rc = load(e, VOUCH_FUNC_FILE_CHECK, -1, "torn-b", &res);
	ok(rc == 0 && res.measured && vouch_engine_entry_count(e) == n0 + 1,
	   "the next load is measured (rc %d)", rc);
	/*
	 * The list write succeeds, the PCR file cannot be written: the PCR file is a checkpoint
	 * of the software bank (it may lag the list, the next start completes the extends), so
	 * the entry is measured all the same and the state stays whole.
	 */
	s0 = file_size("torn/measurements");
	lim.rlim_cur = (rlim_t)s0 + 1024;
	setrlimit(RLIMIT_FSIZE, &lim);
	rc = load(e, VOUCH_FUNC_FILE_CHECK, -1, "torn-c", &res);
	setrlimit(RLIMIT_FSIZE, &old);
	ok(rc == 0 && res.measured && vouch_engine_entry_count(e) == n0 + 2 &&
		   vouch_engine_verify_state(e) == 0,
	   "PCR file cannot be written: the entry is measured all the same (rc %d)", rc);
	vouch_engine_free(e);
	e = engine("torn", "measure func=FILE_CHECK\n", NULL);
	ok(e && vouch_engine_entry_count(e) == n0 + 2 && vouch_engine_verify_state(e) == 0,
	   "the next start accepts the state");
	ok(e && load(e, VOUCH_FUNC_FILE_CHECK, -1, "torn-d", &res) == 0 && res.measured,
	   "and measures again");
	vouch_engine_free(e);
	e = engine("torn", NULL, NULL);
	ok(e && vouch_engine_entry_count(e) == n0 + 3, "and again after that");
	vouch_engine_free(e);
}

/*
 * Issue 13 item 14, the attack: after the latch, the caller hands its own trust store and
 * xattr name to the engine, and a file it signed itself is allowed.  Once latched, the
 * trust and the xattr are the state's.
 */
static void test_latch_pins(void)
{
	struct vouch_engine_options o = VOUCH_ENGINE_OPTIONS_INIT;
	struct vouch_engine_result res = { 0 };
	vouch_key *akey = NULL;
	vouch_cert *acert = NULL;
	vouch_trust *t = NULL;
	vouch_engine *e;
	int rc;

	write_file("pin-good", "signed by the trusted key\n");
	sign_file("pin-good");
	write_file("pin-evil", "signed by the attacker\n");
	{
		/* the attacker's key and certificate: the ecdsa-p256 test key */
		char cmd[1200];

		snprintf(cmd, sizeof(cmd), "cp %s %s/a.key && chmod 600 %s/a.key",
			 vec("keys/ecdsa-p256.key"), dir, dir);
		if (system(cmd) != 0 || vouch_key_load(ctx, path("a.key"), NULL, NULL, &akey) < 0 ||
		    vouch_cert_load(ctx, vec("keys/ecdsa-p256.crt"), &acert) < 0) {
			ok(0, "attacker key");
			return;
		}
	}
	{
		struct vouch_ima_sign_options so = VOUCH_IMA_SIGN_OPTIONS_INIT;
		uint8_t *v = NULL;
		size_t n = 0;
		int fd = open(path("pin-evil"), O_RDONLY | O_CLOEXEC);

		vouch_ima_keyid(ctx, akey, acert, &so.keyid);
		if (vouch_ima_sign_fd(ctx, akey, &so, fd, &v, &n) == 0) {
			setxattr(path("pin-evil"), XATTR, v, n, 0);
			setxattr(path("pin-evil"), "user.attacker-ima", v, n, 0);
		}
		close(fd);
		vouch_free(v);
	}
	e = engine("pin-state", NULL, NULL);
	ok_err(vouch_engine_set_sig_enforce(e, VOUCH_FUNC_BPRM_CHECK, true), 0, "latch BPRM_CHECK");
	vouch_engine_free(e);
	/* a later caller brings its own trust store */
	o.state_dir = path("pin-state");
	o.xattr_name = XATTR;
	vouch_engine_new(ctx, &o, &e);
	vouch_trust_new(ctx, &t);
	vouch_trust_add_cert(t, acert, ".ima");
	vouch_engine_set_trust(e, VOUCH_KEYRING_IMA, t);
	rc = load(e, VOUCH_FUNC_BPRM_CHECK, -1, "pin-evil", &res);
	ok(rc == -EACCES && res.denied,
	   "latched: the caller's trust store does not vouch for its own file (rc %d, %s)", rc,
	   res.reason);
	rc = load(e, VOUCH_FUNC_BPRM_CHECK, -1, "pin-good", &res);
	ok(rc == 0, "latched: the trust pinned by the latch still vouches (rc %d, %s)", rc,
	   res.reason);
	vouch_engine_set_trust(e, VOUCH_KEYRING_IMA, NULL);
	rc = load(e, VOUCH_FUNC_BPRM_CHECK, -1, "pin-good", &res);
	ok(rc == 0, "latched: dropping the caller's trust changes nothing either (rc %d)", rc);
	vouch_engine_free(e);
	/* a later caller names another xattr, one it can write */
	o.xattr_name = "user.attacker-ima";
	e = NULL;
	rc = vouch_engine_new(ctx, &o, &e);
	if (rc == 0) {
		t = NULL;
		vouch_trust_new(ctx, &t);
		vouch_trust_add_cert(t, acert, ".ima");
		vouch_engine_set_trust(e, VOUCH_KEYRING_IMA, t);
		rc = load(e, VOUCH_FUNC_BPRM_CHECK, -1, "pin-evil", &res);
	}
	ok(rc < 0, "latched: another xattr name is refused, the attacker's file is not allowed "
		   "(rc %d: %s)",
	   rc, vouch_ctx_last_error(ctx));
	vouch_engine_free(e);
	o.xattr_name = NULL;
	e = NULL;
	ok(vouch_engine_new(ctx, &o, &e) == 0 && load(e, VOUCH_FUNC_BPRM_CHECK, -1, "pin-good",
						      &res) == 0,
	   "latched: no xattr name given: the state's is used");
	vouch_engine_free(e);
	vouch_key_free(akey);
	vouch_cert_free(acert);
}

static int file_append(const char *name, const void *p, size_t n)
{
	int fd = open(path(name), O_WRONLY | O_APPEND | O_CLOEXEC);
	int r = write_all(fd, p, n);

	close(fd);
	return r;
}

/* The engine reopened on "crash" after a simulated crash: @entries entries and a state that
 * verifies (@what), PCR 10 as @want (@same) */
static void recovered(struct events *ev, uint64_t entries, const struct vouch_digest *want,
		      const char *what, const char *same)
{
	vouch_engine *e = engine("crash", NULL, ev);
	struct vouch_digest d;

	ok(e && vouch_engine_entry_count(e) == entries && vouch_engine_verify_state(e) == 0, "%s",
	   what);
	if (e) {
		vouch_engine_get_pcr(e, VOUCH_HASH_SHA256, 10, &d);
		ok(!memcmp(want->bytes, d.bytes, 32), "%s", same);
	}
	vouch_engine_free(e);
}

static void test_crash_rules(void)
{
	struct vouch_engine_result res;
	struct events ev = { 0 };
	vouch_engine *e;
	uint8_t *pcrs = NULL, *list = NULL;
	size_t pcrs_len = 0, list_len = 0;
	struct vouch_digest d1;

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
	recovered(&ev, 3, &d1,
		  "durable tail entry without its extend: recovered by completing the extend",
		  "recovered PCR equals the uninterrupted one");
	/* a torn record at the end: cut off */
	file_append("crash/measurements", "\x0a\0\0\0\x11\x22", 6);
	e = engine("crash", NULL, NULL);
	ok(e && vouch_engine_entry_count(e) == 3 && vouch_engine_verify_state(e) == 0,
	   "torn final record cut off");
	vouch_engine_free(e);
	/*
	 * The PCRs two entries behind: a group commit's tail (entries synced together, the
	 * PCR file a checkpoint behind them), completed in list order.
	 */
	write_file_atomic(ctx, path("crash/measurements"), list, list_len, 0600);
	write_file_atomic(ctx, path("crash/pcrs"), pcrs, pcrs_len, 0600);
	{
		uint8_t *cur = NULL, *cur_pcrs = NULL;
		size_t cur_len = 0, cur_pcrs_len = 0;
		uint64_t n;

		e = engine("crash", "measure func=FILE_CHECK\n", NULL);
		ok(e && vouch_engine_entry_count(e) == 2, "restored state opens");
		load(e, VOUCH_FUNC_FILE_CHECK, -1, "crash-b", &res);
		write_file("crash-c", "c\n");
		load(e, VOUCH_FUNC_FILE_CHECK, -1, "crash-c", &res);
		vouch_engine_get_pcr(e, VOUCH_HASH_SHA256, 10, &d1);
		vouch_engine_free(e);
		write_file_atomic(ctx, path("crash/pcrs"), pcrs, pcrs_len, 0600);
		recovered(NULL, 4, &d1,
			  "PCRs two entries behind the list (a group's tail): both extends completed",
			  "in list order: the uninterrupted PCR");
		/* VOUCH_ENGINE_TAIL_MAX + 1 entries behind: more than a crash can leave, refused */
		e = engine("crash", "measure func=FILE_CHECK\n", NULL);
		for (n = 0; e && n < VOUCH_ENGINE_TAIL_MAX; n++) {
			char nm[64];

			snprintf(nm, sizeof(nm), "crash-many-%llu", (unsigned long long)n);
			write_file(nm, nm);
			load(e, VOUCH_FUNC_FILE_CHECK, -1, nm, &res);
		}
		ok(e && vouch_engine_entry_count(e) == 4 + VOUCH_ENGINE_TAIL_MAX,
		   "%u more entries measured", VOUCH_ENGINE_TAIL_MAX);
		vouch_engine_free(e);
		read_file_all(ctx, path("crash/pcrs"), 1 << 20, &cur_pcrs, &cur_pcrs_len);
		write_file_atomic(ctx, path("crash/pcrs"), pcrs, pcrs_len, 0600);
		ok(engine("crash", NULL, NULL) == NULL,
		   "PCRs VOUCH_ENGINE_TAIL_MAX + 2 entries behind the list: refused");
		write_file_atomic(ctx, path("crash/pcrs"), cur_pcrs, cur_pcrs_len, 0600);
		e = engine("crash", NULL, NULL);
		ok(e && vouch_engine_verify_state(e) == 0, "its own PCR file: accepted");
		vouch_engine_free(e);
		/* a flipped byte in an entry: template digest mismatch, refused */
		read_file_all(ctx, path("crash/measurements"), 1 << 24, &cur, &cur_len);
		cur[cur_len - 3] ^= 1;
		write_file_atomic(ctx, path("crash/measurements"), cur, cur_len, 0600);
		ok(engine("crash", NULL, NULL) == NULL, "tampered entry: refused");
		free(cur);
		free(cur_pcrs);
	}
	free(pcrs);
	free(list);
}

/*
 * security.ima goes through the library's parser (vouch_xattr_parse()), not the engine's
 * own decoding: a 21-byte digest form with a zero tail is md5 (as the kernel reads it), which
 * is a verdict (md5 is not allowed) where the engine once took it for sha1 and failed the
 * call; a legacy v1 signature could not be checked; a security.evm type is malformed.
 */
static void test_xattr_forms(void)
{
	static const char policy[] = "appraise func=FILE_CHECK\n";
	/* a type and version byte and 19 zeroes: the verdict each gets */
	static const struct {
		const char *name, *content;
		uint8_t type, version;
		int appraisal;
		const char *reason, *what;
	} forms[] = {
		{ "xf-v1", "legacy v1\n", 0x03, 1, -EOPNOTSUPP, "could not check",
		  "legacy v1 signature: could not check" },
		{ "xf-evm", "evm type\n", 0x05, 2, -EBADMSG, "malformed signature",
		  "security.evm type 0x05: malformed" },
	};
	struct vouch_engine_result res;
	struct vouch_digest d;
	vouch_engine *e = engine(NULL, policy, NULL);
	uint8_t v[21] = { 0x01 };
	int r;

	write_file("xf-md5", "md5 padded\n");
	vouch_digest_file(ctx, path("xf-md5"), (int[]){ VOUCH_HASH_MD5 }, 1, &d);
	memcpy(v + 1, d.bytes, 16);
	setxattr(path("xf-md5"), XATTR, v, sizeof(v), 0);
	r = load(e, VOUCH_FUNC_FILE_CHECK, -1, "xf-md5", &res);
	ok(r == -EACCES && res.appraisal == -EPERM,
	   "0x01 md5 padded to 21 bytes: md5, not allowed (rc %d, %d, %s)", r, res.appraisal,
	   res.reason);

	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		write_file(forms[i].name, forms[i].content);
		memset(v, 0, sizeof(v));
		v[0] = forms[i].type;
		v[1] = forms[i].version;
		setxattr(path(forms[i].name), XATTR, v, sizeof(v), 0);
		r = load(e, VOUCH_FUNC_FILE_CHECK, -1, forms[i].name, &res);
		ok(r == -EACCES && res.appraisal == forms[i].appraisal &&
			   !strcmp(res.reason, forms[i].reason),
		   "%s (%d, %s)", forms[i].what, res.appraisal, res.reason);
	}
	vouch_engine_free(e);
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
	int r = fixture_setup("vouch-test-engine");

	if (r != 0)
		return r < 0 ? 0 : r;
	test_args();
	test_consumers_modes();
	test_buffers();
	test_latch();
	test_cache();
	test_crash_rules();
	test_cache_requirements();
	test_verity_sigv3();
	test_check_blacklist();
	test_policy_keywords();
	test_torn_append();
	test_latch_pins();
	test_xattr_forms();
	return fixture_done();
}
