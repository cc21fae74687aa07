// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The engine's state directory: the measurement list file and its recovery at start, the
 * PCR file (a checkpoint of the software bank), the latch file and the trust it pins.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "engine-internal.h"
#include "openssl-internal.h"

#define LIST_FILE "measurements"
#define PCR_FILE "pcrs"
#define LATCH_FILE "sig_enforce"
#define PIN_FILE_IMA "sig_enforce.trust"
#define PIN_FILE_KERNEL "sig_enforce.trust-kernel"

static char *state_path(const vouch_engine *e, const char *name)
{
	size_t a = strlen(e->state_dir), b = strlen(name);
	char *p = mem_alloc(a + b + 2);

	if (!p)
		return NULL;
	memcpy(p, e->state_dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}

/* ---------------------------------------------------------------- state files */

/* Read state file @name, NUL-terminated; 1 (and nothing) when it does not exist. */
static int state_file_read(vouch_engine *e, const char *path, size_t max, uint8_t **ret_buf)
{
	size_t len;
	int r = read_file_all(ectx(e), path, max, ret_buf, &len);

	if (r == -ENOENT) {
		vouch_ctx_clear_error(ectx(e));
		return 1;
	}
	if (r < 0)
		return r;
	(*ret_buf)[len] = '\0';
	return 0;
}

/* Make the state directory's entries (renames, a new list file) durable. */
static int state_dir_sync(vouch_engine *e)
{
	_cleanup_close_ int fd = open(e->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0)
		return ctx_err(ectx(e), -errno, "cannot sync the state directory '%s': %m",
			       e->state_dir);
	return 0;
}

/*
 * Replace state file @name with @len bytes (temp + fsync + rename + fsync of the
 * directory, so that a power cut after this returns cannot bring back the old file).
 * A failed directory sync is reported in *ret_dir_err (the file itself is replaced).
 */
static int state_file_replace(vouch_engine *e, const char *name, const void *buf, size_t len,
			      int *ret_dir_err)
{
	_cleanup_free_ char *path = state_path(e, name);
	int r;

	if (!path)
		return -ENOMEM;
	r = write_file_atomic(ectx(e), path, buf, len, 0600);
	if (r < 0)
		return r;
	*ret_dir_err = state_dir_sync(e);
	return 0;
}

/* Replace state file @name with the text in @b; frees @b.  Every step must be durable. */
static int state_file_write(vouch_engine *e, const char *name, struct strbuf *b)
{
	int r, dir_err = 0;

	if (b->oom) {
		sb_free(b);
		return -ENOMEM;
	}
	r = state_file_replace(e, name, b->s ? b->s : "", b->len, &dir_err);
	sb_free(b);
	return r < 0 ? r : dir_err;
}

int engine_pcr_file_write(vouch_engine *e, pcr_state pcrs, uint64_t entries)
{
	struct strbuf b = { 0 };
	int r, dir_err = 0;

	if (!e->state_dir)
		return 0;
	sb_printf(&b, "vouch-pcrs 1\nentries %llu\n", (unsigned long long)entries);
	for (int k = 0; k < N_BANKS; k++) {
		size_t n = vouch_hash_info(bank_algo[k])->size;

		for (int i = 0; i < N_PCR; i++) {
			char hex[2 * VOUCH_HASH_MAX_SIZE + 1];

			hex_encode(pcrs[k][i], n, hex);
			sb_printf(&b, "%s PCR-%02d: %s\n", vouch_hash_info(bank_algo[k])->name, i,
				  hex);
		}
	}
	if (b.oom) {
		sb_free(&b);
		return -ENOMEM;
	}
	/*
	 * The directory is synced too, but its failure is not reported: the list entries are
	 * durable, and a PCR file whose rename a power cut loses is the documented tail that
	 * the next start completes.  Only a PCR file that was not replaced is a failure.
	 */
	r = state_file_replace(e, PCR_FILE, b.s ? b.s : "", b.len, &dir_err);
	sb_free(&b);
	return r;
}

/* Parse the PCR file; missing = all zero and 0 entries. */
static int pcr_file_read(vouch_engine *e, uint64_t *ret_entries,
			 uint8_t pcrs[N_BANKS][N_PCR][VOUCH_HASH_MAX_SIZE])
{
	_cleanup_free_ char *path = state_path(e, PCR_FILE);
	_cleanup_free_ uint8_t *buf = NULL;
	char *line, *save = NULL;
	bool header = false, have_entries = false;
	int r;

	if (!path)
		return -ENOMEM;
	memset(pcrs, 0, sizeof(e->pcr));
	r = state_file_read(e, path, 1 << 20, &buf);
	if (r == 1)
		*ret_entries = 0;
	if (r != 0)
		return r < 0 ? r : 0;
	for (line = strtok_r((char *)buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char alg[16], hex[2 * VOUCH_HASH_MAX_SIZE + 2];
		unsigned idx;
		unsigned long long n;

		if (!strcmp(line, "vouch-pcrs 1")) {
			header = true;
		} else if (sscanf(line, "entries %llu", &n) == 1) {
			*ret_entries = n;
			have_entries = true;
		} else if (sscanf(line, "%15s PCR-%u: %129s", alg, &idx, hex) == 3 && idx < N_PCR) {
			int a = vouch_hash_by_name(alg), k = -1;
			size_t got;

			for (int i = 0; i < N_BANKS; i++)
				if (bank_algo[i] == a)
					k = i;
			if (k < 0 || hex_decode(hex, strlen(hex), pcrs[k][idx], VOUCH_HASH_MAX_SIZE,
						&got) < 0 ||
			    got != vouch_hash_info(a)->size)
				return ctx_err(ectx(e), -EBADMSG, "corrupt PCR file '%s'", path);
		} else {
			return ctx_err(ectx(e), -EBADMSG, "corrupt PCR file '%s'", path);
		}
	}
	if (!header || !have_entries)
		return ctx_err(ectx(e), -EBADMSG, "corrupt PCR file '%s'", path);
	return 0;
}

/* ---------------------------------------------------------------- latch file */

/*
 * The latch file: one func name per line, plus what the latch pinned when it was first
 * set: "xattr NAME" (the appraised xattr) and "pinned" (the trust stores are in
 * PIN_FILE_IMA / PIN_FILE_KERNEL, PEM; a missing file is an empty keyring).  Once a
 * consumer is latched, its appraisals use the pinned trust and xattr, never the caller's.
 */
static const char *const pin_file[_VOUCH_KEYRING_MAX] = { PIN_FILE_IMA, PIN_FILE_KERNEL };
static const char *const pin_keyring[_VOUCH_KEYRING_MAX] = { ".ima", "kernel" };

int engine_latch_write(vouch_engine *e)
{
	struct strbuf b = { 0 };

	if (!e->state_dir)
		return 0;
	if (e->pinned)
		sb_printf(&b, "xattr %s\npinned\n", e->xattr_name);
	for (int f = 1; f < _VOUCH_FUNC_MAX; f++)
		if (e->latch[f])
			sb_printf(&b, "%s\n", vouch_policy_func_name(f));
	return state_file_write(e, LATCH_FILE, &b);
}

/* A copy of @t (NULL stays NULL): the latch keeps its own. */
static int trust_copy(vouch_engine *e, const vouch_trust *t, vouch_trust **ret)
{
	vouch_trust *c = NULL;
	int r;

	*ret = NULL;
	if (!t)
		return 0;
	r = vouch_trust_new(ectx(e), &c);
	for (size_t i = 0; r == 0 && i < vouch_trust_count(t); i++) {
		const vouch_cert *cert;
		const char *kr;

		r = vouch_trust_get(t, i, &cert, &kr);
		if (r == 0)
			r = vouch_trust_add_cert(c, cert, kr);
	}
	if (r < 0) {
		vouch_trust_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

static int pin_file_write(vouch_engine *e, int k)
{
	const vouch_trust *t = e->pin[k];
	BIO *bio;
	char *mem;
	long n;
	int r = 0;

	bio = BIO_new(BIO_s_mem());
	if (!bio)
		return ctx_err_ssl(ectx(e), -ENOMEM, "out of memory");
	for (size_t i = 0; t && i < vouch_trust_count(t); i++) {
		const vouch_cert *cert;

		if (vouch_trust_get(t, i, &cert, NULL) < 0 ||
		    !PEM_write_bio_X509(bio, cert_x509(cert))) {
			r = ctx_err_ssl(ectx(e), -EIO, "cannot encode the pinned trust store");
			break;
		}
	}
	n = BIO_get_mem_data(bio, &mem);
	if (r == 0) {
		int dir_err = 0;

		r = state_file_replace(e, pin_file[k], n > 0 ? mem : "", n > 0 ? (size_t)n : 0,
				       &dir_err);
		if (r == 0)
			r = dir_err;
	}
	BIO_free(bio);
	return r;
}

static int pin_file_read(vouch_engine *e, int k)
{
	_cleanup_free_ char *path = state_path(e, pin_file[k]);
	struct stat st;
	int r;

	if (!path)
		return -ENOMEM;
	r = vouch_trust_new(ectx(e), &e->pin[k]);
	if (r < 0)
		return r;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0; /* pinned empty */
		return ctx_err(ectx(e), -errno, "cannot read the pinned trust '%s': %m", path);
	}
	if (st.st_size == 0)
		return 0;
	r = vouch_trust_add_path(e->pin[k], path, pin_keyring[k]);
	if (r < 0)
		return ctx_err(ectx(e), r == -ENOENT ? -EBADMSG : r,
			       "corrupt pinned trust '%s': %s", path, vouch_ctx_last_error(ectx(e)));
	return 0;
}

int engine_latch_pin(vouch_engine *e)
{
	int r;

	if (e->pinned)
		return 0;
	for (int k = 0; k < _VOUCH_KEYRING_MAX; k++) {
		r = trust_copy(e, e->trust[k], &e->pin[k]);
		if (r < 0)
			return r;
		if (e->state_dir) {
			r = pin_file_write(e, k);
			if (r < 0)
				return r;
		}
	}
	e->pinned = true;
	return 0;
}

static int latch_read(vouch_engine *e)
{
	_cleanup_free_ char *path = state_path(e, LATCH_FILE);
	_cleanup_free_ uint8_t *buf = NULL;
	char *line, *save = NULL;
	const char *xattr = NULL;
	bool pinned = false;
	int r;

	if (!path)
		return -ENOMEM;
	r = state_file_read(e, path, 1 << 16, &buf);
	if (r != 0)
		return r < 0 ? r : 0;
	for (line = strtok_r((char *)buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int f;

		if (!strncmp(line, "xattr ", 6) && line[6]) {
			xattr = line + 6;
			continue;
		}
		if (!strcmp(line, "pinned")) {
			pinned = true;
			continue;
		}
		f = vouch_policy_func_by_name(line);
		/* an unreadable latch fails closed: refuse to start rather than forget it */
		if (f < 0)
			return ctx_err(ectx(e), -EBADMSG, "corrupt latch file '%s'", path);
		e->latch[f] = true;
		e->mode[f] = VOUCH_MODE_ENFORCE;
	}
	if (pinned != !!xattr)
		return ctx_err(ectx(e), -EBADMSG, "corrupt latch file '%s'", path);
	if (!pinned)
		return 0; /* latched before pinning existed: latched loads find no trusted key */
	if (e->xattr_explicit && strcmp(xattr, e->xattr_name) != 0)
		return ctx_err(ectx(e), -EROFS,
			       "state '%s' is latched on the xattr %s: refusing to appraise %s",
			       e->state_dir, xattr, e->xattr_name);
	if (strcmp(xattr, e->xattr_name) != 0) {
		char *x = mem_strdup(xattr);

		if (!x)
			return -ENOMEM;
		free(e->xattr_name);
		e->xattr_name = x;
	}
	for (int k = 0; k < _VOUCH_KEYRING_MAX; k++) {
		r = pin_file_read(e, k);
		if (r < 0)
			return r;
	}
	e->pinned = true;
	return 0;
}

/* ---------------------------------------------------------------- opening the state */

static void remove_stale_temps(vouch_engine *e)
{
	DIR *d = opendir(e->state_dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strstr(de->d_name, ".vouch-")) {
			_cleanup_free_ char *p = state_path(e, de->d_name);

			if (p)
				unlink(p);
		}
	}
	closedir(d);
}

int engine_state_open(vouch_engine *e)
{
	_cleanup_free_ char *lpath = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	uint8_t saved[N_BANKS][N_PCR][VOUCH_HASH_MAX_SIZE];
	uint64_t count = 0, saved_entries = 0;
	size_t len = 0, end = 0;
	struct stat st;
	int r;

	if (mkdir(e->state_dir, 0700) < 0 && errno != EEXIST)
		return ctx_err(ectx(e), -errno, "cannot create state directory '%s': %m",
			       e->state_dir);
	if (stat(e->state_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return ctx_err(ectx(e), -ENOTDIR, "state directory '%s' is not a directory",
			       e->state_dir);
	lpath = state_path(e, LIST_FILE);
	if (!lpath)
		return -ENOMEM;
	e->list_fd = open(lpath, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (e->list_fd < 0)
		return ctx_err(ectx(e), -errno, "cannot open '%s': %m", lpath);
	/*
	 * One engine per state at a time: the list and the PCR file move together.  Everything
	 * else in the state is read or changed only under this lock: the temp files of another
	 * engine are in flight until it lets go, so stale ones are removed only now.
	 */
	if (flock(e->list_fd, LOCK_EX) < 0)
		return ctx_err(ectx(e), -errno, "cannot lock '%s': %m", lpath);
	r = state_dir_sync(e); /* the list file may be new */
	if (r < 0)
		return r;
	remove_stale_temps(e);
	r = latch_read(e);
	if (r < 0)
		return r;
	r = read_fd_all(ectx(e), e->list_fd, lpath, VOUCH_MAX_FILE_SIZE, &buf, &len);
	if (r < 0)
		return r;
	r = engine_list_walk(e, buf, len, false, &count, &end);
	if (r < 0)
		return r;
	if (end < len) {
		/* a torn final record: never acknowledged, never extended */
		if (ftruncate(e->list_fd, (off_t)end) < 0 || fsync(e->list_fd) < 0)
			return ctx_err(ectx(e), -errno, "cannot cut the torn tail of '%s': %m", lpath);
		engine_emit(e, 0, "recover", lpath, 0, "torn final record removed", 0, 0, NULL);
		len = end;
	}
	r = pcr_file_read(e, &saved_entries, saved);
	if (r < 0)
		return r;
	/*
	 * The documented tail: entries are written and synced in groups and extended after
	 * that, and the PCR file is a checkpoint that may lag the list by up to
	 * VOUCH_ENGINE_TAIL_MAX entries (see engine.h); a crash can leave that many durable
	 * entries without their extends.  More, or a PCR file ahead of the list, is refused.
	 */
	if (saved_entries > count || count - saved_entries > VOUCH_ENGINE_TAIL_MAX)
		return ctx_err(ectx(e), -EBADMSG,
			       "measurement list has %llu entries but the PCRs include %llu: "
			       "refusing the state in '%s'",
			       (unsigned long long)count, (unsigned long long)saved_entries,
			       e->state_dir);
	/* replay the entries the PCRs include and compare, then extend the tail */
	{
		size_t off = engine_list_skip(buf, saved_entries);
		uint64_t n = 0;

		memset(e->pcr, 0, sizeof(e->pcr));
		r = engine_list_walk(e, buf, off, true, &n, &end);
		if (r < 0)
			return r;
		if (memcmp(e->pcr, saved, sizeof(saved)) != 0)
			return ctx_err(ectx(e), -EBADMSG,
				       "software PCRs do not match the measurement list in '%s'",
				       e->state_dir);
		if (count > saved_entries) {
			r = engine_list_walk(e, buf + off, len - off, true, &n, &end);
			if (r < 0)
				return r;
			r = engine_pcr_file_write(e, e->pcr, count);
			if (r < 0)
				return r;
			if (count - saved_entries == 1)
				engine_emit(e, 0, "recover", lpath, 0, "durable tail entry extended", 0,
					    0, NULL);
			else
				engine_emit(e, 0, "recover", lpath, 0, "durable tail entries extended",
					    0, 0, NULL);
		}
	}
	e->ckpt_entries = count;
	e->ckpt_ns = mono_ns();
	e->entries = count;
	e->list = TAKE_PTR(buf);
	e->list_len = len;
	e->list_cap = len;
	return 0;
}

VOUCH_EXPORT int vouch_engine_verify_state(vouch_engine *e)
{
	pcr_state saved;
	uint64_t count;
	size_t end;
	int r;

	if (!e)
		return -EINVAL;
	pthread_mutex_lock(&e->list_lock);
	memcpy(saved, e->pcr, sizeof(saved));
	memset(e->pcr, 0, sizeof(e->pcr));
	r = engine_list_walk(e, e->list, e->list_len, true, &count, &end);
	if (r == 0 && (count != e->entries || end != e->list_len))
		r = ctx_err(ectx(e), -EBADMSG, "measurement list does not hold %llu whole entries",
			    (unsigned long long)e->entries);
	if (r == 0 && memcmp(saved, e->pcr, sizeof(saved)) != 0)
		r = ctx_err(ectx(e), -EBADMSG, "software PCRs do not match the measurement list");
	memcpy(e->pcr, saved, sizeof(saved));
	if (r == 0)
		r = engine_tpm_verify(e->tpm, e->list, e->list_len, e->entries);
	pthread_mutex_unlock(&e->list_lock);
	return r;
}
