// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouchd: the hash chain over the results table, the same for every storage backend.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <openssl/evp.h>

#include "store.h"

static int put_u64(EVP_MD_CTX *md, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	return EVP_DigestUpdate(md, b, sizeof(b));
}

static int put_str(EVP_MD_CTX *md, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return put_u64(md, n) && EVP_DigestUpdate(md, s ? s : "", n);
}

int store_row_hash(const uint8_t prev[STORE_HASH_SIZE], uint64_t seq, const char *agent,
		   int64_t time, const char *verdict, const char *body,
		   uint8_t ret[STORE_HASH_SIZE])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned n = 0;
	int ok;

	if (!md)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(md, prev, STORE_HASH_SIZE) && put_u64(md, seq) && put_str(md, agent) &&
	     put_u64(md, (uint64_t)time) && put_str(md, verdict) && put_str(md, body) &&
	     EVP_DigestFinal_ex(md, ret, &n) && n == STORE_HASH_SIZE;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -EIO;
}
