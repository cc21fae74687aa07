// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The vouch authors */
#include <fcntl.h>
#include <unistd.h>

#include "internal.h"
#include "tap.h"

struct kat {
	int algo;
	const char *hex; /* of "abc" */
};

/* FIPS 180-4, RFC 1321, RFC 1320, GB/T 32905 example values for "abc" */
static const struct kat kats[] = {
	{ VOUCH_HASH_MD5, "900150983cd24fb0d6963f7d28e17f72" },
	{ VOUCH_HASH_SHA1, "a9993e364706816aba3e25717850c26c9cd0d89d" },
	{ VOUCH_HASH_SHA224, "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7" },
	{ VOUCH_HASH_SHA256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ VOUCH_HASH_SHA384, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
			     "8086072ba1e7cc2358baeca134c825a7" },
	{ VOUCH_HASH_SHA512, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
			     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
	{ VOUCH_HASH_SM3, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0" },
	{ VOUCH_HASH_RMD160, "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc" },
};

int main(void)
{
	vouch_ctx *ctx = NULL;
	struct vouch_digest d[3];
	char hex[2 * VOUCH_HASH_MAX_SIZE + 1];
	vouch_hasher *h = NULL;
	int algos[3] = { VOUCH_HASH_SHA256, VOUCH_HASH_SHA1, VOUCH_HASH_SHA512 };
	char path[] = "/tmp/vouch-test-digest-XXXXXX";
	int fd;

	ok_ret(vouch_ctx_new(&ctx), "context");

	/* the exported strict decoders (the CLI and vouchd use them) */
	{
		uint8_t b[4], *p = NULL;
		size_t n = 0;

		ok(vouch_hex_decode("0aFf", 4, b, sizeof(b), &n) == 0 && n == 2 && b[0] == 0x0a &&
			   b[1] == 0xff, "hex decodes either case");
		ok(vouch_hex_decode("0a f", 4, b, sizeof(b), &n) == -EBADMSG &&
			   vouch_hex_decode("0af", 3, b, sizeof(b), &n) == -EBADMSG &&
			   vouch_hex_decode("0011223344", 10, b, sizeof(b), &n) == -ENOBUFS,
		   "hex: a blank, an odd length, too long refused");
		ok(vouch_base64_decode("QUFB", 4, &p, &n) == 0 && n == 3 && !memcmp(p, "AAA", 3),
		   "base64 decodes");
		vouch_free(p);
		p = NULL;
		ok(vouch_base64_decode("QUFB-!!!", 8, &p, &n) == -EBADMSG &&
			   vouch_base64_decode("QR==", 4, &p, &n) == -EBADMSG &&
			   vouch_base64_decode("QUF", 3, &p, &n) == -EBADMSG,
		   "base64: junk, non-zero unused bits, a bad length refused");
	}

	/* the table is the kernel's */
	ok(vouch_hash_info(VOUCH_HASH_SHA256)->size == 32 &&
		   vouch_hash_info(VOUCH_HASH_SHA256)->tpm_alg == 0x000b &&
		   vouch_hash_info(VOUCH_HASH_SHA256)->fsverity_id == 1,
	   "sha256 row: id 4, 32 bytes, TPM_ALG 0x0b, fs-verity 1");
	ok(VOUCH_HASH_SM3 == 17 && vouch_hash_info(17)->tpm_alg == 0x12, "sm3 is id 17, TPM 0x12");
	ok(VOUCH_HASH_STREEBOG512 == 19 && _VOUCH_HASH_MAX == 20, "20 algorithms as in 6.1");
	ok(vouch_hash_info(20) == NULL && vouch_hash_info(-1) == NULL, "out of range rows");
	ok(vouch_hash_by_name("SHA256") == VOUCH_HASH_SHA256, "names are case-insensitive");
	ok(vouch_hash_by_name("sha2-512") == VOUCH_HASH_SHA512, "OpenSSL alias accepted");
	ok(vouch_hash_by_name("sha3-256") == -ENOENT, "sha3 is not a 6.1 algorithm");
	ok(vouch_hash_by_tpm_alg(0x000c) == VOUCH_HASH_SHA384, "TPM_ALG_SHA384 maps to sha384");
	ok(vouch_hash_by_tpm_alg(0x0027) == -ENOENT, "unknown TPM alg");

	for (size_t i = 0; i < ARRAY_SIZE(kats); i++) {
		const char *name = vouch_hash_info(kats[i].algo)->name;

		if (!vouch_hash_available(ctx, kats[i].algo)) {
			tap_skip(name);
			continue;
		}
		ok_ret(vouch_digest_buf(ctx, kats[i].algo, "abc", 3, &d[0]), "%s of abc", name);
		vouch_digest_to_hex(&d[0], hex, sizeof(hex));
		ok_streq(hex, kats[i].hex, "%s known answer", name);
	}
	ok(!vouch_hash_available(ctx, VOUCH_HASH_TGR128), "tiger is not in OpenSSL");
	ok_err(vouch_digest_buf(ctx, VOUCH_HASH_TGR128, "abc", 3, &d[0]), -EOPNOTSUPP,
	       "unavailable algorithm refused");
	ok_err(vouch_digest_buf(ctx, 99, "abc", 3, &d[0]), -EINVAL, "unknown id refused");

	/* one pass, three algorithms, fed in odd pieces */
	ok_ret(vouch_hasher_new(ctx, algos, 3, &h), "hasher");
	ok_ret(vouch_hasher_update(h, "a", 1), "update 1");
	ok_ret(vouch_hasher_update(h, "bc", 2), "update 2");
	ok_ret(vouch_hasher_final(h, d), "final");
	vouch_digest_to_hex(&d[0], hex, sizeof(hex));
	ok_streq(hex, kats[3].hex, "multi-hasher sha256");
	vouch_digest_to_hex(&d[1], hex, sizeof(hex));
	ok_streq(hex, kats[1].hex, "multi-hasher sha1");
	ok(d[2].algo == VOUCH_HASH_SHA512 && d[2].len == 64, "multi-hasher sha512 shape");
	/* reusable after final */
	ok_ret(vouch_hasher_update(h, "abc", 3), "update after final restarts");
	ok_ret(vouch_hasher_final(h, d), "final again");
	vouch_digest_to_hex(&d[0], hex, sizeof(hex));
	ok_streq(hex, kats[3].hex, "restarted hasher");
	vouch_hasher_free(h);
	{
		int dup[2] = { VOUCH_HASH_SHA1, VOUCH_HASH_SHA1 };

		ok_err(vouch_hasher_new(ctx, dup, 2, &h), -EINVAL, "duplicate algorithm refused");
		ok_err(vouch_hasher_new(ctx, dup, 0, &h), -EINVAL, "no algorithm refused");
	}

	/* files: empty, large-ish, missing, directory */
	fd = mkstemp(path);
	ok(fd >= 0, "temp file");
	ok_ret(vouch_digest_file(ctx, path, algos, 1, d), "empty file");
	vouch_digest_to_hex(&d[0], hex, sizeof(hex));
	ok_streq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		 "sha256 of the empty file");
	{
		static uint8_t big[9 * 1024 * 1024 + 7]; /* above the reader-thread threshold */
		struct vouch_digest ref;

		for (size_t i = 0; i < sizeof(big); i++)
			big[i] = (uint8_t)(i * 31 + 7);
		ok(write_all(fd, big, sizeof(big)) == 0, "write 9 MiB");
		ok_ret(vouch_digest_buf(ctx, VOUCH_HASH_SHA256, big, sizeof(big), &ref), "ref");
		ok_ret(vouch_digest_file(ctx, path, algos, 1, d), "file larger than a read chunk");
		ok(d[0].len == 32 && memcmp(d[0].bytes, ref.bytes, 32) == 0,
		   "file digest equals buffer digest across read chunks");
	}
	close(fd);
	unlink(path);
	ok_err(vouch_digest_file(ctx, path, algos, 1, d), -ENOENT, "missing file");
	ok(strstr(vouch_ctx_last_error(ctx), path) != NULL, "message names the file");
	ok_err(vouch_digest_file(ctx, "/", algos, 1, d), -EISDIR, "directory refused");

	vouch_ctx_free(ctx);
	return tap_done();
}
