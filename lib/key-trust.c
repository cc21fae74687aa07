// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Trust stores: the certificates a verification may chain to, loaded from files and
 * directories, and found by key id, subject key identifier or issuer and serial.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>


#include "internal.h"
#include "openssl-internal.h"

/* --- trust stores -------------------------------------------------------------------- */

VOUCH_EXPORT int vouch_trust_new(vouch_ctx *ctx, vouch_trust **ret_trust)
{
	vouch_trust *t;

	if (!ctx || !ret_trust)
		return -EINVAL;
	t = mem_zalloc(sizeof(*t));
	if (!t)
		return ctx_err(ctx, -ENOMEM, "out of memory");
	t->ctx = ctx;
	*ret_trust = t;
	return 0;
}

VOUCH_EXPORT void vouch_trust_free(vouch_trust *trust)
{
	if (!trust)
		return;
	for (size_t i = 0; i < trust->n; i++) {
		vouch_cert_free(trust->entries[i].cert);
		free(trust->entries[i].keyring);
	}
	free(trust->entries);
	free(trust);
}

VOUCH_EXPORT int vouch_trust_add_cert(vouch_trust *trust, const vouch_cert *cert,
				      const char *keyring)
{
	char *name;

	if (!trust || !cert)
		return -EINVAL;
	if (trust->n == trust->cap) {
		size_t cap = trust->cap ? trust->cap * 2 : 8;
		struct trust_entry *e = mem_reallocarray(trust->entries, cap, sizeof(*e));

		if (!e)
			return ctx_err(trust->ctx, -ENOMEM, "out of memory");
		trust->entries = e;
		trust->cap = cap;
	}
	name = mem_strdup(keyring ? keyring : "default");
	if (!name)
		return ctx_err(trust->ctx, -ENOMEM, "out of memory");
	trust->entries[trust->n].cert = cert_ref(cert);
	trust->entries[trust->n].keyring = name;
	trust->n++;
	return 0;
}

struct add_state {
	vouch_trust *trust;
	const char *keyring;
};

static int add_x509(vouch_ctx *ctx, X509 *x, void *userdata)
{
	struct add_state *st = userdata;
	vouch_cert *c = NULL;
	int r = cert_from_x509(ctx, x, &c);

	if (r < 0)
		return r;
	r = vouch_trust_add_cert(st->trust, c, st->keyring);
	vouch_cert_free(c);
	return r;
}

static int trust_add_file(vouch_trust *trust, const char *path, const char *keyring)
{
	_cleanup_free_ uint8_t *buf = NULL;
	struct add_state st = { trust, keyring };
	size_t len;
	int r;

	r = read_file_all(trust->ctx, path, KEY_FILE_MAX, &buf, &len);
	if (r < 0)
		return r;
	r = cert_load_all_mem(trust->ctx, buf, len, path, add_x509, &st);
	return r < 0 ? r : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

VOUCH_EXPORT int vouch_trust_add_path(vouch_trust *trust, const char *path, const char *keyring)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	if (!trust || !path)
		return -EINVAL;
	if (stat(path, &st) < 0)
		return ctx_err(trust->ctx, -errno, "cannot open '%s': %m", path);
	if (!S_ISDIR(st.st_mode))
		return trust_add_file(trust, path, keyring);

	d = opendir(path);
	if (!d)
		return ctx_err(trust->ctx, -errno, "cannot open directory '%s': %m", path);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = mem_reallocarray(names, cap ? cap * 2 : 16, sizeof(*nn));

			if (!nn) {
				r = ctx_err(trust->ctx, -ENOMEM, "out of memory");
				goto out;
			}
			names = nn;
			cap = cap ? cap * 2 : 16;
		}
		names[n] = mem_alloc(strlen(path) + strlen(de->d_name) + 2);
		if (!names[n]) {
			r = ctx_err(trust->ctx, -ENOMEM, "out of memory");
			goto out;
		}
		snprintf(names[n], strlen(path) + strlen(de->d_name) + 2, "%s/%s", path,
			 de->d_name);
		n++;
	}
	/* deterministic order: verdicts must not depend on readdir order */
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n && r == 0; i++) {
		struct stat fst;

		if (stat(names[i], &fst) < 0 || !S_ISREG(fst.st_mode))
			continue;
		r = trust_add_file(trust, names[i], keyring);
	}
	if (r == 0 && n == 0)
		r = ctx_err(trust->ctx, -ENOENT, "no certificates in directory '%s'", path);
out:
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

VOUCH_EXPORT size_t vouch_trust_count(const vouch_trust *trust)
{
	return trust ? trust->n : 0;
}

VOUCH_EXPORT int vouch_trust_get(const vouch_trust *trust, size_t index,
				 const vouch_cert **ret_cert, const char **ret_keyring)
{
	if (!trust)
		return -EINVAL;
	if (index >= trust->n)
		return -ERANGE;
	if (ret_cert)
		*ret_cert = trust->entries[index].cert;
	if (ret_keyring)
		*ret_keyring = trust->entries[index].keyring;
	return 0;
}

static int trust_hit(const vouch_trust *trust, size_t i, const vouch_cert **ret_cert,
		     const char **ret_keyring)
{
	if (ret_cert)
		*ret_cert = trust->entries[i].cert;
	if (ret_keyring)
		*ret_keyring = trust->entries[i].keyring;
	return 0;
}

VOUCH_EXPORT int vouch_trust_find_keyid(const vouch_trust *trust, uint32_t keyid,
					const vouch_cert **ret_cert, const char **ret_keyring)
{
	if (!trust)
		return -EINVAL;
	for (size_t i = 0; i < trust->n; i++) {
		const vouch_cert *c = trust->entries[i].cert;

		if (c->info.has_ima_keyid && c->info.ima_keyid == keyid)
			return trust_hit(trust, i, ret_cert, ret_keyring);
	}
	return -ENOKEY;
}

VOUCH_EXPORT int vouch_trust_find_skid(const vouch_trust *trust, const uint8_t *skid,
				       size_t skid_len, const vouch_cert **ret_cert,
				       const char **ret_keyring)
{
	if (!trust || (!skid && skid_len))
		return -EINVAL;
	for (size_t i = 0; i < trust->n; i++) {
		const vouch_cert *c = trust->entries[i].cert;

		if (c->skid && c->skid_len == skid_len && memcmp(c->skid, skid, skid_len) == 0)
			return trust_hit(trust, i, ret_cert, ret_keyring);
	}
	return -ENOKEY;
}

VOUCH_EXPORT int vouch_trust_find_issuer_serial(const vouch_trust *trust,
						const uint8_t *issuer_der, size_t issuer_len,
						const uint8_t *serial, size_t serial_len,
						const vouch_cert **ret_cert,
						const char **ret_keyring)
{
	if (!trust || !issuer_der || !serial)
		return -EINVAL;
	/* DER INTEGER may carry a leading 0x00 for a positive number with the top bit set */
	while (serial_len > 1 && serial[0] == 0) {
		serial++;
		serial_len--;
	}
	for (size_t i = 0; i < trust->n; i++) {
		const vouch_cert *c = trust->entries[i].cert;

		if (c->issuer_der_len == issuer_len &&
		    memcmp(c->issuer_der, issuer_der, issuer_len) == 0 &&
		    c->serial_len == serial_len && memcmp(c->serial, serial, serial_len) == 0)
			return trust_hit(trust, i, ret_cert, ret_keyring);
	}
	return -ENOKEY;
}
