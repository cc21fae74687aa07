// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The engine's hook path: every hook builds a request, the policy decides, and process()
 * takes the load through its stages (request, decision, cache, reading and digesting,
 * appraisal, measurement and audit, verdict), with the per-file cache of what was learnt.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine-internal.h"

#define FUSE_SUPER_MAGIC 0x65735546
#define HASH_CHUNK ((size_t)256 << 10)

struct hook {
	int func;
	uint32_t mask;
	int fd;
	const char *name;
	const uint8_t *buf; /* the bytes handed to the consumer (post_* hooks), else NULL */
	size_t len;
	bool is_buffer; /* no file behind it: no xattr, no cache */
};

/* One hook call on its way through the stages of process(). */
struct load {
	const struct hook *h;
	struct vouch_policy_request q;
	struct vouch_policy_decision d;
	struct vouch_engine_result res;
	int mode;
	bool latched;
	bool want_measure, want_appraise, want_audit;
	bool measured, audited; /* already, for this file version (the cache) */
	struct stat st;
	uint64_t fsmagic;
	struct cache_ent *c;
	const uint8_t *data; /* the bytes, when they are kept (else hashed as they stream by) */
	size_t len;
	uint8_t *owned; /* @data when read here */
	uint8_t *xv; /* the appraised xattr's value, or NULL */
	size_t xlen;
	bool xsig; /* it is a signature, by its type byte */
	int xparsed; /* engine_xattr_parse() of it: 0, or why it is not usable */
	struct vouch_xattr_value xval;
	struct vouch_digest alt; /* the file in the xattr's algorithm, when another; else algo -1 */
};

/* ---------------------------------------------------------------- cache and digests */

static struct cache_ent *cache_find(vouch_engine *e, const struct stat *st, bool create)
{
	size_t h = (size_t)((st->st_ino * 0x9e3779b97f4a7c15ull) ^ st->st_dev) % CACHE_BUCKETS;
	struct cache_ent *c;

	for (c = e->cache[h]; c; c = c->next)
		if (c->dev == (uint64_t)st->st_dev && c->ino == (uint64_t)st->st_ino)
			break;
	if (c) {
		bool same = c->size == (uint64_t)st->st_size &&
			    c->mtime_s == (int64_t)st->st_mtim.tv_sec &&
			    c->mtime_ns == (uint32_t)st->st_mtim.tv_nsec &&
			    c->ctime_s == (int64_t)st->st_ctim.tv_sec &&
			    c->ctime_ns == (uint32_t)st->st_ctim.tv_nsec;

		if (!same) {
			/* the file changed: forget everything, it is re-measured */
			struct cache_ent *next = c->next;

			memset(c, 0, sizeof(*c));
			c->next = next;
			c->dev = (uint64_t)st->st_dev;
			c->ino = (uint64_t)st->st_ino;
			c->gen = e->gen;
		} else if (c->gen != e->gen) {
			/* new policy, trust or mode: appraise again, measurements stand */
			c->gen = e->gen;
			c->audited = false;
			memset(c->appraised, 0, sizeof(c->appraised));
		}
	} else if (create) {
		c = mem_zalloc(sizeof(*c));
		if (!c)
			return NULL;
		c->dev = (uint64_t)st->st_dev;
		c->ino = (uint64_t)st->st_ino;
		c->gen = e->gen;
		c->next = e->cache[h];
		e->cache[h] = c;
	}
	if (c) {
		c->size = (uint64_t)st->st_size;
		c->mtime_s = (int64_t)st->st_mtim.tv_sec;
		c->mtime_ns = (uint32_t)st->st_mtim.tv_nsec;
		c->ctime_s = (int64_t)st->st_ctim.tv_sec;
		c->ctime_ns = (uint32_t)st->st_ctim.tv_nsec;
	}
	return c;
}

/* @c (cache lock held) still describes the file version @st under this configuration. */
static bool cache_current(const vouch_engine *e, const struct cache_ent *c, const struct stat *st)
{
	return c->dev == (uint64_t)st->st_dev && c->ino == (uint64_t)st->st_ino &&
	       c->size == (uint64_t)st->st_size && c->mtime_s == (int64_t)st->st_mtim.tv_sec &&
	       c->mtime_ns == (uint32_t)st->st_mtim.tv_nsec &&
	       c->ctime_s == (int64_t)st->st_ctim.tv_sec &&
	       c->ctime_ns == (uint32_t)st->st_ctim.tv_nsec && c->gen == e->gen;
}

/* Hash a file from offset 0 in one pass, in up to two algorithms (pread: no offset change). */
static int hash_fd(vouch_engine *e, int fd, const char *name, const int *algos, size_t n,
		   struct vouch_digest *ret)
{
	_cleanup_free_ uint8_t *chunk = mem_alloc(HASH_CHUNK);
	vouch_hasher *hs = NULL;
	uint64_t off = 0;
	int r;

	if (!chunk)
		return -ENOMEM;
	r = vouch_hasher_new(ectx(e), algos, n, &hs);
	if (r < 0)
		return r;
	for (;;) {
		ssize_t k = pread(fd, chunk, HASH_CHUNK, (off_t)off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = ctx_err(ectx(e), -errno, "cannot read '%s': %m", name);
			break;
		}
		if (k == 0) {
			r = vouch_hasher_final(hs, ret);
			break;
		}
		r = vouch_hasher_update(hs, chunk, (size_t)k);
		if (r < 0)
			break;
		off += (uint64_t)k;
	}
	vouch_hasher_free(hs);
	return r;
}

static void copy_reason(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;

	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

/* The fs-verity file digest of exactly the bytes handed to the consumer (@data), else of @fd. */
static int verity_digest(vouch_ctx *ctx, int fd, const uint8_t *data, size_t len, int algo,
			 struct vouch_digest *ret)
{
	_cleanup_close_ int mfd = -1;
	int r;

	if (!data)
		return fd >= 0 ? vouch_ima_fsverity_digest_fd(ctx, fd, algo, ret)
			       : ctx_err(ctx, -EOPNOTSUPP, "no bytes to digest");
	mfd = memfd_create("vouch-verity", MFD_CLOEXEC);
	if (mfd < 0)
		return ctx_err(ctx, -errno, "cannot create a memfd: %m");
	r = write_all(mfd, data, len);
	if (r < 0)
		return ctx_err(ctx, r, "cannot fill a memfd");
	return vouch_ima_fsverity_digest_fd(ctx, mfd, algo, ret);
}

/* ---------------------------------------------------------------- appraisal */

/* The security.ima part of appraise(): the value against the digest the rule asks for. */
static int appraise_xattr(vouch_engine *e, const struct load *l, bool verity, bool sig_required,
			  uint64_t algos, const char **ret_reason)
{
	const struct hook *h = l->h;
	const struct vouch_digest *md = &l->res.digest;
	int algo = l->xval.algo;
	bool v3 = l->xval.type == VOUCH_XATTR_VERITY_DIGSIG;
	struct vouch_digest dd;
	int r;

	if (l->xparsed == -EOPNOTSUPP) {
		*ret_reason = engine_reason(l->xparsed);
		return ctx_err(ectx(e), -EOPNOTSUPP, "'%s': %s holds a legacy v1 signature",
			       h->name, e->xattr_name);
	}
	if (l->xparsed < 0) {
		*ret_reason = "malformed signature";
		return ctx_err(ectx(e), -EBADMSG, "'%s': malformed %s", h->name, e->xattr_name);
	}
	/* digest_type=verity: only a v3 signature; without it, never a v3 signature */
	if (verity && !v3) {
		*ret_reason = "signature v3 (fs-verity) required";
		return ctx_err(ectx(e), -EPERM, "'%s': the rule asks for a v3 signature "
					       "(digest_type=verity), %s holds another form",
			       h->name, e->xattr_name);
	}
	if (!verity && v3) {
		*ret_reason = "signature v3 not allowed by the rule";
		return ctx_err(ectx(e), -EPERM, "'%s': a v3 signature needs a rule with "
					       "digest_type=verity appraise_type=sigv3",
			       h->name);
	}
	if (v3) {
		r = verity_digest(ectx(e), h->fd, l->data, l->len, algo, &dd);
		if (r < 0) {
			*ret_reason = "could not check";
			return r;
		}
	} else if (algo == md->algo) {
		dd = *md;
	} else if (l->alt.algo == algo) {
		dd = l->alt;
	} else if (!vouch_hash_available(ectx(e), algo) || !l->data) {
		*ret_reason = "algorithm not allowed";
		return ctx_err(ectx(e), -EPERM, "'%s': hash algorithm %d not available", h->name,
			       algo);
	} else {
		r = vouch_digest_buf(ectx(e), algo, l->data, l->len, &dd);
		if (r < 0) {
			*ret_reason = "could not check";
			return r;
		}
	}
	if (sig_required && !l->xval.is_signature) {
		*ret_reason = "unsigned (digest only, signature required)";
		return ctx_err(ectx(e), -EPERM, "'%s': %s holds a digest, a signature is "
					       "required",
			       h->name, e->xattr_name);
	}
	r = engine_ima_verify(ectx(e), trust_for(e, VOUCH_KEYRING_IMA, l->latched), l->xv, l->xlen,
			      &l->xval, &dd, !sig_required, algos);
	*ret_reason = r == -EKEYREJECTED && !l->xval.is_signature ? "digest mismatch"
								   : engine_reason(r);
	return r;
}

/*
 * Appraise one load against what the deciding rule asks for (l->d) and the latch.  What the
 * attacker controls: the bytes, the xattr value, an appended signature, the file system;
 * through a library caller also the trust stores and the xattr name, which is why a latched
 * consumer uses the trust pinned in the state (trust_for()).
 */
static int appraise(vouch_engine *e, const struct load *l, const char **ret_reason)
{
	const struct hook *h = l->h;
	const struct vouch_policy_decision *d = &l->d;
	bool latched = l->latched;
	bool verity = d->appraise_flags & VOUCH_APPRAISE_VERITY;
	bool sig_required = latched || verity || (d->appraise_flags & VOUCH_APPRAISE_IMASIG);
	/* sigv3 rules accept nothing but a v3 signature: no appended signature */
	bool modsig_ok = !verity &&
			 (latched || h->is_buffer || (d->appraise_flags & VOUCH_APPRAISE_MODSIG));
	bool check_bl = d->appraise_flags & VOUCH_APPRAISE_BLACKLIST;
	uint64_t algos = (d->appraise_flags & VOUCH_APPRAISE_ALGOS) ? d->appraise_algos : 0;

	if ((d->appraise_flags & VOUCH_APPRAISE_FAIL_UNVERIFIABLE) &&
	    l->fsmagic == FUSE_SUPER_MAGIC) {
		*ret_reason = "unverifiable filesystem (fail_securely)";
		return ctx_err(ectx(e), -EPERM, "'%s': signatures on this filesystem are not "
					       "verifiable", h->name);
	}
	/* check_blacklist: the file digest too (the kernel's "bin:" hashes are file hashes) */
	if (check_bl && (engine_digest_blacklisted(&l->res.digest, e->blacklist, e->n_blacklist) ||
			 engine_digest_blacklisted(&l->alt, e->blacklist, e->n_blacklist))) {
		*ret_reason = "blacklisted";
		return ctx_err(ectx(e), -EPERM, "'%s': its digest is on the blacklist", h->name);
	}
	/* an appended signature is used when allowed and there is no signature xattr */
	if (modsig_ok && engine_has_modsig(l->data, l->len) && !l->xsig) {
		const vouch_trust *t = trust_for(e, VOUCH_KEYRING_IMA, latched);

		if (latched && (h->func == VOUCH_FUNC_MODULE_CHECK ||
				h->func == VOUCH_FUNC_KEXEC_KERNEL_CHECK) &&
		    trust_for(e, VOUCH_KEYRING_KERNEL, true))
			t = trust_for(e, VOUCH_KEYRING_KERNEL, true);
		if (!t) {
			*ret_reason = "unknown key";
			return ctx_err(ectx(e), -ENOKEY, "'%s': no trusted keys loaded", h->name);
		}
		return engine_modsig_verify(ectx(e), t, l->data, l->len, algos,
					    check_bl ? e->blacklist : NULL,
					    check_bl ? e->n_blacklist : 0, ret_reason);
	}
	if (!l->xv) {
		*ret_reason = "unsigned";
		return ctx_err(ectx(e), -EPERM, "'%s': no %s and no appended signature", h->name,
			       e->xattr_name);
	}
	return appraise_xattr(e, l, verity, sig_required, algos, ret_reason);
}

static void fix_xattr(vouch_engine *e, const struct load *l)
{
	const struct hook *h = l->h;
	const struct vouch_digest *md = &l->res.digest;
	uint8_t v[2 + VOUCH_HASH_MAX_SIZE];

	if (h->fd < 0 || l->xsig || engine_has_modsig(h->buf, h->len))
		return;
	v[0] = VOUCH_XATTR_DIGEST_NG;
	v[1] = (uint8_t)md->algo;
	memcpy(v + 2, md->bytes, md->len);
	if (fsetxattr(h->fd, e->xattr_name, v, 2 + md->len, 0) == 0)
		engine_emit(e, h->func, "fix", h->name, 0, "security.ima rewritten with the file hash",
			    VOUCH_MODE_FIX, 0, md);
}

/*
 * A cached appraisal answers only a request that the same rule, with the same
 * requirements, decides: another mask, another task (uid= rules) or another rule may ask
 * for more (appraise_type=imasig, sigv3, appraise_algos=, check_blacklist).
 */
static bool cache_appraisal_reusable(const struct cache_appraisal *ca,
				     const struct vouch_policy_decision *d, bool latched)
{
	return ca->valid && ca->latched == latched && ca->rule == d->appraise_rule &&
	       ca->flags == d->appraise_flags && ca->algos == d->appraise_algos;
}

/* ---------------------------------------------------------------- the stages of process() */

/* The task's ids, for a policy that tests them (left out when they cannot be read). */
static void request_creds(struct vouch_policy_request *q)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0)
		return;
	q->uid = ruid;
	q->euid = euid;
	q->suid = suid;
	q->gid = rgid;
	q->egid = egid;
	q->sgid = sgid;
	q->cap_setuid = euid == 0;
	q->cap_setgid = euid == 0;
}

/* The superblock magic of @fd's file system, remembered per device. */
static uint64_t fs_magic(vouch_engine *e, int fd, const struct stat *st)
{
	struct statfs sfs;
	uint64_t fsmagic = 0;
	bool found = false;

	pthread_mutex_lock(&e->cache_lock);
	for (size_t i = 0; i < ARRAY_SIZE(e->fsmagic); i++)
		if (e->fsmagic[i].valid && e->fsmagic[i].dev == (uint64_t)st->st_dev) {
			fsmagic = e->fsmagic[i].magic;
			found = true;
			break;
		}
	if (!found && fstatfs(fd, &sfs) == 0) {
		unsigned k = e->fsmagic_next++ % ARRAY_SIZE(e->fsmagic);

		fsmagic = (uint64_t)(unsigned long)sfs.f_type;
		e->fsmagic[k].dev = (uint64_t)st->st_dev;
		e->fsmagic[k].magic = fsmagic;
		e->fsmagic[k].valid = true;
	}
	pthread_mutex_unlock(&e->cache_lock);
	return fsmagic;
}

/* Stage 1: the policy request (task ids, file owner, file system). */
static int load_request(vouch_engine *e, struct load *l)
{
	const struct hook *h = l->h;

	l->q.func = h->func;
	l->q.mask = h->mask;
	if (e->policy_creds)
		request_creds(&l->q);
	if (h->fd < 0)
		return 0;
	if (fstat(h->fd, &l->st) < 0)
		return ctx_err(ectx(e), -errno, "cannot stat '%s': %m", h->name);
	if (!S_ISREG(l->st.st_mode))
		return ctx_err(ectx(e), -EINVAL, "'%s' is not a regular file", h->name);
	l->q.fowner = l->st.st_uid;
	l->q.fgroup = l->st.st_gid;
	l->fsmagic = fs_magic(e, h->fd, &l->st);
	l->q.fsmagic = l->fsmagic;
	return 0;
}

/* Stage 2: the policy's decision, the mode and what is wanted of this load. */
static int load_decide(vouch_engine *e, struct load *l)
{
	int func = l->h->func;
	int r;

	if (e->policy) {
		r = vouch_policy_match(e->policy, &l->q, &l->d);
		if (r < 0)
			return r;
	}
	l->mode = l->latched ? VOUCH_MODE_ENFORCE : e->mode[func];
	if (!l->latched && l->mode == VOUCH_MODE_OFF && (l->d.actions & VOUCH_ACT_APPRAISE) &&
	    (func == VOUCH_FUNC_MODULE_CHECK || func == VOUCH_FUNC_FIRMWARE_CHECK ||
	     func == VOUCH_FUNC_KEXEC_KERNEL_CHECK || func == VOUCH_FUNC_POLICY_CHECK))
		l->mode = VOUCH_MODE_LOG; /* ima_appraise_flag(): such rules re-enable appraisal */
	l->want_measure = l->d.actions & VOUCH_ACT_MEASURE;
	l->want_appraise = l->latched ||
			   ((l->d.actions & VOUCH_ACT_APPRAISE) && l->mode != VOUCH_MODE_OFF);
	l->want_audit = l->d.actions & VOUCH_ACT_AUDIT;
	l->res.actions = l->d.actions | (l->latched ? VOUCH_ACT_APPRAISE : 0);
	l->res.mode = l->mode;
	return 0;
}

/* Stage 3: the cache: 1 when it answers everything wanted, 0 when the load goes on. */
static int load_cached(vouch_engine *e, struct load *l)
{
	const struct cache_appraisal *ca;
	bool hit;

	if (l->h->fd < 0 || (e->flags & VOUCH_ENGINE_NO_CACHE))
		return 0;
	/*
	 * Entries are never freed while the engine lives: l->c stays valid, and what is
	 * learnt later is stored only if it still describes this version of the file.
	 */
	pthread_mutex_lock(&e->cache_lock);
	l->c = cache_find(e, &l->st, true);
	if (!l->c) {
		pthread_mutex_unlock(&e->cache_lock);
		return -ENOMEM;
	}
	ca = &l->c->appraised[l->h->func];
	l->measured = l->c->measured_pcrs & ((uint64_t)1 << l->d.pcr);
	l->audited = l->c->audited;
	hit = (!l->want_measure || l->measured) &&
	      (!l->want_appraise || cache_appraisal_reusable(ca, &l->d, l->latched)) &&
	      (!l->want_audit || l->audited);
	if (hit) {
		l->res.cached = true;
		l->res.digest = l->c->digest;
		if (l->want_appraise) {
			l->res.appraised = true;
			l->res.appraisal = ca->appraisal;
			copy_reason(l->res.reason, sizeof(l->res.reason), ca->reason);
		}
	}
	pthread_mutex_unlock(&e->cache_lock);
	return hit;
}

/* The appraised xattr of the file, if any (values are small: XATTR_SIZE_MAX is 64 KiB). */
static int load_xattr(vouch_engine *e, struct load *l)
{
	const struct hook *h = l->h;
	ssize_t n = fgetxattr(h->fd, e->xattr_name, NULL, 0);

	if (n > VOUCH_XATTR_MAX_SIZE)
		return ctx_err(ectx(e), -EBADMSG, "%s of '%s' is too large", e->xattr_name,
			       h->name);
	if (n > 0) {
		l->xv = mem_alloc((size_t)n);
		if (!l->xv)
			return -ENOMEM;
		n = fgetxattr(h->fd, e->xattr_name, l->xv, (size_t)n);
	}
	if (n < 0) {
		if (errno != ENODATA && errno != ENOTSUP)
			return ctx_err(ectx(e), -errno, "cannot read %s of '%s': %m",
				       e->xattr_name, h->name);
		free(l->xv);
		l->xv = NULL;
		return 0;
	}
	if (!l->xv)
		return 0;
	l->xlen = (size_t)n;
	l->xsig = engine_xattr_is_sig(l->xv, l->xlen);
	/* what is wrong with it is the appraisal's to report */
	l->xparsed = engine_xattr_parse(ectx(e), l->xv, l->xlen, &l->xval);
	if (l->xparsed < 0)
		vouch_ctx_clear_error(ectx(e));
	return 0;
}

/* Stage 4: read the xattr and the bytes, once, and digest them. */
static int load_read(vouch_engine *e, struct load *l)
{
	const struct hook *h = l->h;
	int r;

	/* the appraisal value first, so that one pass hashes in both algorithms */
	if (h->fd >= 0) {
		r = load_xattr(e, l);
		if (r < 0)
			return r;
	}
	/*
	 * Read the bytes once, through the fd.  The whole file is kept only when an appended
	 * signature may be checked; otherwise it is hashed as it streams by.
	 */
	if (!l->data && h->fd >= 0 &&
	    (l->latched || (l->d.appraise_flags & VOUCH_APPRAISE_MODSIG))) {
		r = pread_fd_all(ectx(e), h->fd, h->name, VOUCH_MAX_FILE_SIZE, &l->owned, &l->len);
		if (r < 0)
			return r;
		l->data = l->owned;
	}
	if (!l->data && h->fd >= 0) {
		int xa = l->xv && l->xparsed == 0 ? l->xval.algo : -1;
		int algos[2] = { e->hash_algo, xa };
		size_t na = xa >= 0 && xa != e->hash_algo && vouch_hash_available(ectx(e), xa) ? 2 : 1;
		struct vouch_digest ds[2];

		r = hash_fd(e, h->fd, h->name, algos, na, ds);
		if (r < 0)
			return r;
		l->res.digest = ds[0];
		if (na == 2)
			l->alt = ds[1];
		return 0;
	}
	if (!l->data)
		l->data = (const uint8_t *)"";
	return vouch_digest_buf(ectx(e), e->hash_algo, l->data, l->len, &l->res.digest);
}

/* Stage 5: appraise, report, fix (mode fix) and remember the outcome. */
static int load_appraise(vouch_engine *e, struct load *l)
{
	const struct hook *h = l->h;
	const char *reason = "ok";
	int r = appraise(e, l, &reason);

	if (r < 0 && !vouch_error_is_verdict(r) && r != -EOPNOTSUPP)
		return r;
	l->res.appraised = true;
	l->res.appraisal = r;
	copy_reason(l->res.reason, sizeof(l->res.reason), reason);
	engine_emit(e, h->func, "appraise", h->name, r, reason, l->mode,
		    l->latched ? 0 : l->d.appraise_rule, &l->res.digest);
	if (r < 0 && l->mode == VOUCH_MODE_FIX)
		fix_xattr(e, l);
	if (l->c) {
		struct cache_appraisal *ca = &l->c->appraised[h->func];

		pthread_mutex_lock(&e->cache_lock);
		if (cache_current(e, l->c, &l->st)) {
			ca->valid = true;
			ca->latched = l->latched;
			ca->rule = l->d.appraise_rule;
			ca->flags = l->d.appraise_flags;
			ca->algos = l->d.appraise_algos;
			ca->appraisal = r;
			ca->reason = reason;
		}
		pthread_mutex_unlock(&e->cache_lock);
	}
	return 0;
}

/* Stage 6: measure (fail closed), audit, and remember both. */
static int load_measure(vouch_engine *e, struct load *l)
{
	const struct hook *h = l->h;
	const struct vouch_digest *md = &l->res.digest;
	int r;

	if (l->want_measure && !l->measured) {
		/* buffers default to ima-buf, as process_buffer_measurement() */
		const char *tmpl = l->d.template_name ? l->d.template_name
				   : h->is_buffer    ? "ima-buf"
						     : e->template_name;

		r = engine_measure_append(e, l->d.pcr, tmpl, md, h->name, l->xsig ? l->xv : NULL,
					  l->xsig ? l->xlen : 0, l->data, l->len);
		engine_emit(e, h->func, "measure", h->name, r < 0 ? r : 0,
			    r < 0 ? "list write failed" : r > 0 ? "hash_exists" : "ok", l->mode,
			    l->d.measure_rule, md);
		if (r < 0)
			return r; /* fail closed: a load that cannot be measured does not proceed */
		l->res.measured = r == 0;
	}
	if (l->want_audit && !l->audited)
		engine_emit(e, h->func, "audit", h->name, 0, "file hash", l->mode, l->d.audit_rule,
			    md);
	if (l->c) {
		pthread_mutex_lock(&e->cache_lock);
		if (cache_current(e, l->c, &l->st)) {
			if (l->want_measure)
				l->c->measured_pcrs |= (uint64_t)1 << l->d.pcr;
			if (l->want_audit)
				l->c->audited = true;
			l->c->digest = *md;
		}
		pthread_mutex_unlock(&e->cache_lock);
	}
	return 0;
}

/* The stages 3 to 6 of a load something is wanted of; 0 or a negative errno. */
static int load_run(vouch_engine *e, struct load *l)
{
	int r = load_cached(e, l);

	if (r != 0)
		return r < 0 ? r : 0;
	r = load_read(e, l);
	if (r == 0 && l->want_appraise)
		r = load_appraise(e, l);
	if (r == 0)
		r = load_measure(e, l);
	return r;
}

static int process(vouch_engine *e, const struct hook *h, struct vouch_engine_result *ret)
{
	struct load l = {
		.h = h,
		.q = VOUCH_POLICY_REQUEST_INIT,
		.d = { .pcr = 10 },
		.latched = e->latch[h->func],
		.data = h->buf,
		.len = h->len,
		.alt = { .algo = -1 },
	};
	int r = load_request(e, &l);

	if (r == 0)
		r = load_decide(e, &l);
	if (r == 0 && (l.want_measure || l.want_appraise || l.want_audit)) {
		r = load_run(e, &l);
		/* Stage 7: the verdict */
		if (r == 0 && l.res.appraised && l.res.appraisal < 0 &&
		    l.mode == VOUCH_MODE_ENFORCE &&
		    !(l.d.actions & VOUCH_ACT_DONT_APPRAISE && !l.latched))
			l.res.denied = true;
	}
	free(l.owned);
	free(l.xv);
	if (r < 0)
		return r;
	if (l.res.denied && !l.res.cached)
		engine_emit(e, h->func, "deny", h->name, l.res.appraisal, l.res.reason, l.mode,
			    l.d.appraise_rule, &l.res.digest);
	if (ret)
		*ret = l.res;
	return l.res.denied ? -EACCES : 0;
}

/* ---------------------------------------------------------------- the hooks */

static int file_check(vouch_engine *e, const struct engine_args *a)
{
	struct hook h = { .func = a->func, .mask = a->mask, .fd = a->fd, .name = a->name };

	if (a->fd < 0 || !a->name)
		return -EINVAL;
	if (a->func != VOUCH_FUNC_FILE_CHECK && a->func != VOUCH_FUNC_MMAP_CHECK &&
	    a->func != VOUCH_FUNC_BPRM_CHECK && a->func != VOUCH_FUNC_CREDS_CHECK)
		return ctx_err(ectx(e), -EINVAL, "func %d is not a file hook", a->func);
	return process(e, &h, a->ret);
}

static int read_file(vouch_engine *e, const struct engine_args *a)
{
	struct hook h = { .mask = VOUCH_MAY_READ, .fd = a->fd, .name = a->name };

	if (a->id < 0 || a->id > VOUCH_READING_X509_CERTIFICATE || a->fd < 0 || !a->name)
		return -EINVAL;
	if (a->contents) {
		/* the whole file comes to post_read_file: nothing to do yet */
		if (a->ret)
			memset(a->ret, 0, sizeof(*a->ret));
		return 0;
	}
	h.func = vouch_engine_func_for_id(a->id);
	return process(e, &h, a->ret);
}

static int post_read_file(vouch_engine *e, const struct engine_args *a)
{
	struct hook h = { .mask = VOUCH_MAY_READ, .fd = a->fd, .name = a->name, .buf = a->buf,
			  .len = a->len };
	int func;

	if (a->id < 0 || a->id > VOUCH_READING_X509_CERTIFICATE || !a->name)
		return -EINVAL;
	func = vouch_engine_func_for_id(a->id);
	if (a->ret)
		memset(a->ret, 0, sizeof(*a->ret));
	if (a->fd < 0 && a->id == VOUCH_READING_X509_CERTIFICATE)
		return 0; /* integrity_load_x509(): permitted */
	if (a->fd < 0 || !a->buf || a->len == 0) {
		bool enforcing = e->latch[func] || e->mode[func] == VOUCH_MODE_ENFORCE;

		if (a->ret)
			a->ret->denied = enforcing;
		return enforcing ? ctx_err(ectx(e), -EACCES, "'%s': no file or no data", a->name)
				 : 0;
	}
	h.func = func;
	return process(e, &h, a->ret);
}

static bool enforcing_with_rule(const vouch_engine *e, int func)
{
	return (e->latch[func] || e->mode[func] == VOUCH_MODE_ENFORCE) &&
	       (e->latch[func] || policy_has_appraise(e->policy, func));
}

static int load_data(vouch_engine *e, const struct engine_args *a)
{
	int func = vouch_engine_func_for_id(a->id);
	bool deny = false;

	if (func < 0)
		return -EINVAL;
	switch (a->id) {
	case VOUCH_READING_KEXEC_IMAGE: /* kexec_load(): nothing to appraise */
		deny = enforcing_with_rule(e, func);
		break;
	case VOUCH_READING_FIRMWARE: /* sysfs fallback */
		deny = !a->contents && enforcing_with_rule(e, func);
		break;
	case VOUCH_READING_MODULE: /* init_module(): allowed when sig_enforce checks it later */
		deny = !e->latch[func] && enforcing_with_rule(e, func);
		break;
	default:
		break;
	}
	if (a->ret) {
		memset(a->ret, 0, sizeof(*a->ret));
		a->ret->denied = deny;
		a->ret->mode = e->latch[func] ? VOUCH_MODE_ENFORCE : e->mode[func];
		if (deny)
			snprintf(a->ret->reason, sizeof(a->ret->reason), "no file to appraise");
	}
	if (deny) {
		engine_emit(e, func, "deny", "", -EACCES, "no file to appraise", VOUCH_MODE_ENFORCE,
			    0, NULL);
		return ctx_err(ectx(e), -EACCES, "load without a file refused: %s appraisal is "
						"enforced",
			       vouch_policy_func_name(func));
	}
	return 0;
}

static int post_load_data(vouch_engine *e, const struct engine_args *a)
{
	struct hook h = { .mask = VOUCH_MAY_READ, .fd = -1, .name = a->name, .buf = a->buf,
			  .len = a->len, .is_buffer = true };
	int func = vouch_engine_func_for_id(a->id);

	if (func < 0 || !a->name || (!a->buf && a->len))
		return -EINVAL;
	if (a->id == VOUCH_READING_FIRMWARE && enforcing_with_rule(e, func)) {
		/* ima_post_load_data(): a firmware buffer without a file cannot be appraised */
		if (a->ret) {
			memset(a->ret, 0, sizeof(*a->ret));
			a->ret->denied = true;
		}
		return ctx_err(ectx(e), -EACCES, "firmware buffer '%s' refused: appraisal is enforced",
			       a->name);
	}
	if (a->id == VOUCH_READING_MODULE && !e->latch[func]) {
		/* init_module buffers are not measured or appraised by IMA */
		if (a->ret)
			memset(a->ret, 0, sizeof(*a->ret));
		return 0;
	}
	h.func = func;
	return process(e, &h, a->ret);
}

VOUCH_EXPORT int vouch_engine_file_check(vouch_engine *e, int func, int fd, const char *name,
					 uint32_t mask, struct vouch_engine_result *ret)
{
	struct engine_args a = { .func = func, .fd = fd, .name = name, .mask = mask, .ret = ret };

	return engine_call(e, false, file_check, &a);
}

VOUCH_EXPORT int vouch_engine_read_file(vouch_engine *e, int id, int fd, const char *name,
					bool contents, struct vouch_engine_result *ret)
{
	struct engine_args a = { .id = id, .fd = fd, .name = name, .contents = contents,
				 .ret = ret };

	return engine_call(e, false, read_file, &a);
}

VOUCH_EXPORT int vouch_engine_post_read_file(vouch_engine *e, int id, int fd, const char *name,
					     const void *buf, size_t len,
					     struct vouch_engine_result *ret)
{
	struct engine_args a = { .id = id, .fd = fd, .name = name, .buf = buf, .len = len,
				 .ret = ret };

	return engine_call(e, false, post_read_file, &a);
}

VOUCH_EXPORT int vouch_engine_load_data(vouch_engine *e, int id, bool contents,
					struct vouch_engine_result *ret)
{
	struct engine_args a = { .id = id, .contents = contents, .ret = ret };

	return engine_call(e, false, load_data, &a);
}

VOUCH_EXPORT int vouch_engine_post_load_data(vouch_engine *e, int id, const void *buf, size_t len,
					     const char *desc, struct vouch_engine_result *ret)
{
	struct engine_args a = { .id = id, .buf = buf, .len = len, .name = desc, .ret = ret };

	return engine_call(e, false, post_load_data, &a);
}
