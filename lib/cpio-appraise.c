// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Appraise the members of an initramfs against their security.ima before it boots.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cpio-internal.h"
#include "internal.h"
#include <vouch/ima.h>

static const struct vouch_digest *find_digest(const struct vouch_digest *d, size_t n, int algo)
{
	for (size_t i = 0; i < n; i++)
		if (d[i].algo == algo)
			return &d[i];
	return NULL;
}

static int verdict(struct vouch_cpio_appraisal *a, int result, const char *msg)
{
	a->result = result;
	a->message = msg;
	return result;
}

/*
 * Appraise one security.ima value against the content digests computed while reading it,
 * through the shared IMA verifier (vouch_ima_verify_digest(), FORMATS.md §3).
 */
static int ima_xattr_appraise(vouch_ctx *ctx, const vouch_trust *trust, uint32_t flags,
			      const uint8_t *value, size_t len, const struct vouch_digest *digests,
			      size_t n_digests, struct vouch_cpio_appraisal *a, char *msg,
			      size_t msg_size)
{
	struct vouch_ima_verify_options o = VOUCH_IMA_VERIFY_OPTIONS_INIT;
	struct vouch_xattr_value v;
	const struct vouch_digest *d;
	int k;

	a->algo = -1;
	a->kind = NULL;
	k = vouch_xattr_parse(ctx, value, len, &v);
	if (k < 0) {
		snprintf(msg, msg_size, "malformed security.ima: %s", vouch_ctx_last_error(ctx));
		return verdict(a, k, msg);
	}
	a->algo = v.algo;
	a->kind = v.is_signature ? "signature" : "digest";
	a->keyid = v.keyid;
	if (v.type == VOUCH_XATTR_VERITY_DIGSIG)
		return verdict(a, -EOPNOTSUPP,
			       "sigv3 (fs-verity) signatures are not checked inside an archive");
	d = find_digest(digests, n_digests, v.algo);
	if (!d)
		return verdict(a, -EOPNOTSUPP, "security.ima hash algorithm not supported");
	if (flags & VOUCH_CPIO_APPRAISE_ALLOW_DIGEST)
		o.flags |= VOUCH_IMA_VERIFY_ALLOW_DIGEST;
	k = vouch_ima_verify_digest(ctx, trust, &o, value, len, d, NULL);
	switch (k) {
	case 0:
		return verdict(a, 0, v.is_signature ? "signature verified" : "digest matches the content");
	case -EKEYREJECTED:
		return verdict(a, k, v.is_signature ? "signature does not verify against the content" :
						      "digest does not match the content");
	case -ENOKEY:
		return verdict(a, k, "no trusted certificate with the signature's key id");
	default:
		snprintf(msg, msg_size, "%s", vouch_ctx_last_error(ctx));
		return verdict(a, k, msg);
	}
}

/* Algorithms hashed when security.ima only arrives after the data (METADATA!!!). */
static const int speculative[] = { VOUCH_HASH_SHA256, VOUCH_HASH_SHA1,   VOUCH_HASH_SHA512,
				   VOUCH_HASH_SHA384, VOUCH_HASH_SHA224, VOUCH_HASH_MD5,
				   VOUCH_HASH_SM3 };

struct pending {
	bool active;
	char name[VOUCH_CPIO_NAME_MAX + 1];
	struct vouch_digest d[8];
	size_t n;
};

/*
 * A hard-link group (regular members with nlink >= 2 and the same dev, ino), as the kernel's
 * maybe_link() sees it within one archive: the first member creates the file, later ones
 * link to it and write their data into it.  A group whose members are all empty unpacks as
 * an empty file and is appraised as one at the end of the archive (issue 13 item 16).
 */
struct link_group {
	uint32_t devmajor, devminor, ino;
	char *name;	/* the first member */
	bool has_data;	/* a member with data was appraised */
	uint8_t *ima;	/* the last security.ima seen on an empty member, or NULL */
	size_t ima_len;
};

struct appraise {
	vouch_ctx *ctx;
	const vouch_trust *trust;
	uint32_t flags;
	vouch_cpio_appraise_fn fn;
	void *userdata;
	int first_verdict, first_error;
	struct link_group *groups;
	size_t n_groups;
	struct link_group *await_md; /* empty link whose METADATA!!! may follow */
	const int *spec;
	size_t n_spec;
};

static void report(struct appraise *ap, struct vouch_cpio_appraisal *a)
{
	int res = a->result == -ENODATA ? -EKEYREJECTED : a->result;

	if (res < 0 && vouch_error_is_verdict(res) && !ap->first_verdict)
		ap->first_verdict = res;
	else if (res < 0 && !vouch_error_is_verdict(res) && !ap->first_error)
		ap->first_error = res;
	if (ap->fn)
		ap->fn(ap->userdata, a);
}

static const struct vouch_cpio_xattr *find_ima(const struct vouch_cpio_entry *e)
{
	for (size_t i = 0; i < e->n_xattrs; i++)
		if (!strcmp(e->xattrs[i].name, "security.ima"))
			return &e->xattrs[i];
	return NULL;
}

static void judge(struct appraise *ap, const char *name, const struct vouch_cpio_xattr *ima,
		  const struct vouch_digest *d, size_t n)
{
	struct vouch_cpio_appraisal a = { .name = name, .algo = -1 };
	char msg[VOUCH_ERRMSG_SIZE + 32];

	if (!ima)
		verdict(&a, -ENODATA, "no security.ima");
	else
		ima_xattr_appraise(ap->ctx, ap->trust, ap->flags, ima->value, ima->value_len, d, n,
				   &a, msg, sizeof(msg));
	report(ap, &a);
}

static struct link_group *group_find(struct appraise *ap, const struct vouch_cpio_entry *e)
{
	for (size_t i = 0; i < ap->n_groups; i++) {
		struct link_group *g = &ap->groups[i];

		if (g->ino == e->ino && g->devmajor == e->devmajor && g->devminor == e->devminor)
			return g;
	}
	return NULL;
}

static struct link_group *group_add(struct appraise *ap, const struct vouch_cpio_entry *e)
{
	struct link_group *g = mem_reallocarray(ap->groups, ap->n_groups + 1, sizeof(*g));

	if (!g)
		return NULL;
	ap->groups = g;
	g = &ap->groups[ap->n_groups];
	*g = (struct link_group){ e->devmajor, e->devminor, e->ino, mem_strdup(e->name), false,
				  NULL, 0 };
	if (!g->name)
		return NULL;
	ap->n_groups++;
	return g;
}

static int group_set_ima(struct link_group *g, const struct vouch_cpio_xattr *ima)
{
	uint8_t *v = mem_alloc(ima->value_len ? ima->value_len : 1);

	if (!v)
		return -ENOMEM;
	if (ima->value_len)
		memcpy(v, ima->value, ima->value_len);
	free(g->ima);
	g->ima = v;
	g->ima_len = ima->value_len;
	return 0;
}

static void judge(struct appraise *ap, const char *name, const struct vouch_cpio_xattr *ima,
		  const struct vouch_digest *d, size_t n);

/* End of an archive: every group that never got data is an empty file; appraise it so. */
static int groups_finish(struct appraise *ap, bool appraise)
{
	int k = 0;

	for (size_t i = 0; i < ap->n_groups; i++) {
		struct link_group *g = &ap->groups[i];

		if (appraise && !g->has_data && k == 0) {
			struct vouch_cpio_xattr x = { "security.ima", g->ima, g->ima_len };
			struct vouch_digest d[8];
			vouch_hasher *h = NULL;

			k = vouch_hasher_new(ap->ctx, ap->spec, ap->n_spec, &h);
			if (k >= 0)
				k = vouch_hasher_final(h, d);
			vouch_hasher_free(h);
			if (k >= 0) {
				k = 0;
				judge(ap, g->name, g->ima ? &x : NULL, d, ap->n_spec);
			}
		}
		free(g->name);
		free(g->ima);
	}
	ap->n_groups = 0;
	ap->await_md = NULL;
	return k;
}

static int hash_member(struct appraise *ap, vouch_cpio_reader *r, const int *algos, size_t n,
		       struct vouch_digest *out, uint8_t *buf)
{
	vouch_hasher *h = NULL;
	int k = vouch_hasher_new(ap->ctx, algos, n, &h);

	if (k < 0)
		return k;
	for (;;) {
		size_t got;

		k = vouch_cpio_reader_read(r, buf, 1 << 16, &got);
		if (k < 0 || !got)
			break;
		k = vouch_hasher_update(h, buf, got);
		if (k < 0)
			break;
	}
	if (k >= 0)
		k = vouch_hasher_final(h, out);
	vouch_hasher_free(h);
	return k;
}

VOUCH_EXPORT int vouch_cpio_appraise(vouch_cpio_reader *r, const vouch_trust *trust,
				     uint32_t flags, vouch_cpio_appraise_fn fn, void *userdata)
{
	struct appraise ap = { .trust = trust, .flags = flags, .fn = fn, .userdata = userdata };
	_cleanup_free_ struct pending *pend = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	struct vouch_cpio_entry e;
	int spec[ARRAY_SIZE(speculative)];
	size_t n_spec = 0;
	unsigned archive_no = 0;
	int k;

	if (!r || !trust || (flags & ~1U))
		return -EINVAL;
	ap.ctx = cpio_reader_ctx(r);
	pend = mem_zalloc(sizeof(*pend));
	buf = mem_alloc(1 << 16);
	if (!pend || !buf)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(speculative); i++)
		if (vouch_hash_available(ap.ctx, speculative[i]))
			spec[n_spec++] = speculative[i];
	ap.spec = spec;
	ap.n_spec = n_spec;

	while ((k = vouch_cpio_reader_next(r, &e)) > 0) {
		const struct vouch_cpio_xattr *ima;

		if (e.metadata) {
			if (pend->active && e.metadata_for && !strcmp(e.metadata_for, pend->name)) {
				judge(&ap, pend->name, find_ima(&e), pend->d, pend->n);
				pend->active = false;
			} else if (ap.await_md && find_ima(&e)) {
				k = group_set_ima(ap.await_md, find_ima(&e));
				if (k < 0)
					break;
			}
			ap.await_md = NULL;
			continue;
		}
		ap.await_md = NULL;
		if (pend->active) { /* no METADATA!!! followed */
			judge(&ap, pend->name, NULL, NULL, 0);
			pend->active = false;
		}
		if (cpio_reader_archive_no(r) != archive_no) { /* the kernel forgets links there */
			k = groups_finish(&ap, true);
			if (k < 0)
				break;
			archive_no = cpio_reader_archive_no(r);
		}
		if (!S_ISREG(e.mode))
			continue;
		if (e.nlink >= 2) {
			struct link_group *g = group_find(&ap, &e);

			if (!g && !(g = group_add(&ap, &e))) {
				k = -ENOMEM;
				break;
			}
			if (e.size == 0) {
				/* the data may come on a later link; else it is an empty file */
				if (!g->has_data) {
					if (find_ima(&e)) {
						k = group_set_ima(g, find_ima(&e));
						if (k < 0)
							break;
					}
					ap.await_md = g;
				}
				continue;
			}
			if (g->has_data) {
				/* the kernel writes it over the first data, untruncated: a mix */
				struct vouch_cpio_appraisal a = { .name = e.name, .algo = -1 };

				verdict(&a, -EPERM, "a second link with data in a hard-link group");
				report(&ap, &a);
				continue;
			}
			g->has_data = true;
		}
		ima = find_ima(&e);
		if (ima) { /* newcx: the xattr comes first, hash only what it needs */
			struct vouch_digest d[8];
			struct vouch_xattr_value v;
			int algo = -1;

			if (vouch_xattr_parse(ap.ctx, ima->value, ima->value_len, &v) == 0)
				algo = v.algo;
			if (algo >= 0 && vouch_hash_available(ap.ctx, algo)) {
				k = hash_member(&ap, r, &algo, 1, d, buf);
				if (k < 0)
					break;
				judge(&ap, e.name, ima, d, 1);
			} else {
				k = hash_member(&ap, r, spec, n_spec, d, buf);
				if (k < 0)
					break;
				judge(&ap, e.name, ima, d, n_spec);
			}
			continue;
		}
		k = hash_member(&ap, r, spec, n_spec, pend->d, buf);
		if (k < 0)
			break;
		pend->n = n_spec;
		memcpy(pend->name, e.name, strlen(e.name) + 1);
		pend->active = true;
	}
	if (k >= 0 && pend->active)
		judge(&ap, pend->name, NULL, NULL, 0);
	if (k >= 0)
		k = groups_finish(&ap, true);
	else
		groups_finish(&ap, false);
	free(ap.groups);
	if (k < 0)
		return k;
	return ap.first_verdict ? ap.first_verdict : ap.first_error;
}
