// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * security.ima and security.evm: known answers from FORMATS.md §13 and evmctl, and one
 * must-fail vector per verification check.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <unistd.h>

#include "internal.h"
#include "tap.h"
#include <vouch/vouch.h>

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_key *, vouch_key_freep, vouch_key_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_cert *, vouch_cert_freep, vouch_cert_free)
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(vouch_trust *, vouch_trust_freep, vouch_trust_free)

static vouch_ctx *ctx;

static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *buf = tap_slurp(ctx, path, 1 << 24, len);

	if (!buf)
		*len = 0;
	return buf;
}

static vouch_key *load_key(const char *path)
{
	size_t len;
	_cleanup_free_ uint8_t *b = slurp(path, &len);
	vouch_key *k = NULL;

	if (!b || vouch_key_load_mem(ctx, b, len, NULL, NULL, &k) < 0)
		printf("# cannot load key %s\n", path);
	return k;
}

static vouch_cert *load_cert(const char *path)
{
	vouch_cert *c = NULL;

	if (vouch_cert_load(ctx, path, &c) < 0)
		printf("# cannot load cert %s: %s\n", path, vouch_ctx_last_error(ctx));
	return c;
}

static size_t unhex(const char *s, uint8_t *out, size_t size)
{
	size_t n = 0;

	if (hex_decode(s, strlen(s), out, size, &n) < 0)
		return 0;
	return n;
}

static bool eq_hex(const uint8_t *b, size_t n, const char *hex)
{
	uint8_t want[4096];
	size_t wn = unhex(hex, want, sizeof(want));

	if (wn != n || memcmp(b, want, n) != 0) {
		char got[8193];

		hex_encode(b, n < 4096 ? n : 4096, got);
		printf("#   got  %s\n#   want %s\n", got, hex);
		return false;
	}
	return true;
}

static int open_ro(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		printf("# cannot open %s\n", path);
	return fd;
}

static void test_digest_forms(void)
{
	struct vouch_digest d;
	struct vouch_xattr_value v;
	uint8_t *val = NULL;
	size_t n;
	int algos[] = { VOUCH_HASH_SHA256, VOUCH_HASH_SHA1, VOUCH_HASH_MD5 };
	const char *want[] = {
		"04043f865664cafc0007c6ef91f7e6caacd1797d92f9b707100170bf3a656331b6cf",
		"015614f3d0790458b86052ad60bd5879bf356ffd3e",
		"01448768d975e24f3c8f6b1be955cf747d",
	};

	for (size_t i = 0; i < ARRAY_SIZE(algos); i++) {
		ok_ret(vouch_digest_file(ctx, tvec("ima/file.txt"), &algos[i], 1, &d), "digest");
		ok_ret(vouch_ima_digest_value(ctx, &d, &val, &n), "encode %s",
		       vouch_hash_info(algos[i])->name);
		ok(eq_hex(val, n, want[i]), "§13.2 %s value", vouch_hash_info(algos[i])->name);
		ok_ret(vouch_xattr_parse(ctx, val, n, &v), "parse it back");
		ok(v.algo == algos[i] && v.digest_len == d.len && !v.is_signature,
		   "algorithm inferred as %s", vouch_hash_info(algos[i])->name);
		free(val);
	}
	{
		/* old kernels stored MD5 zero-padded to 20 bytes under type 0x01 */
		uint8_t padded[21] = { 1, 0x44, 0x87 };

		ok_ret(vouch_xattr_parse(ctx, padded, sizeof(padded), &v), "zero-padded md5");
		ok(v.algo == VOUCH_HASH_MD5, "21 bytes with zero tail is md5");
	}
}

static void test_fsverity(void)
{
	struct vouch_digest d;
	_cleanup_close_ int fd = open_ro(tvec("ima/file.txt"));

	ok_ret(vouch_ima_fsverity_digest_fd(ctx, fd, VOUCH_HASH_SHA256, &d), "fs-verity sha256");
	ok(eq_hex(d.bytes, d.len, IMA_FILE_VERITY_HEX),
	   "§13.5 fs-verity digest of file.txt");
	ok_err(vouch_ima_fsverity_digest_fd(ctx, fd, VOUCH_HASH_SHA1, &d), -EOPNOTSUPP,
	       "fs-verity has no sha1");
}

static void test_sign_known(void)
{
	_cleanup_(vouch_key_freep) vouch_key *key = load_key(tvec("ima/fmt-rsa.key"));
	_cleanup_(vouch_cert_freep) vouch_cert *cert = load_cert(tvec("ima/fmt-rsa.crt"));
	_cleanup_(vouch_trust_freep) vouch_trust *trust = NULL;
	struct vouch_ima_sign_options o = VOUCH_IMA_SIGN_OPTIONS_INIT;
	struct vouch_ima_verify_result res;
	_cleanup_close_ int fd = open_ro(tvec("ima/file.txt"));
	uint32_t kid = 0, kid2 = 0;
	uint8_t *val = NULL;
	size_t n;

	ok_ret(vouch_ima_keyid(ctx, key, cert, &kid), "keyid from the certificate");
	ok(kid == 0x3d0b8968, "keyid 3d0b8968 (SKID tail)");
	ok_ret(vouch_ima_keyid(ctx, key, NULL, &kid2), "keyid without certificate");
	ok(kid2 == kid, "evmctl fallback (SHA-1 of the public key) equals a method-1 SKID");

	o.keyid = kid;
	ok_ret(vouch_ima_sign_fd(ctx, key, &o, fd, &val, &n), "sign v2");
	ok(eq_hex(val, n,
		  "030204" "3d0b8968" "0100"
		  "1c1da881e5df7bc17ee4c39fcacedfa6baae3e615cdb1d4f617eb4ead5e720e5e823f9c8894ab2e1"
		  "6da7744f609d63d0ab1d2a93e026e395bf3c83337249b1d2a0f1cb4c2fa0d5bfde5a943a95876fd3"
		  "1fecbc43142946c2332f2d2fa3ed1aaf478a5690021718068f5028d934b4b1eb28a4e1689eb25c17"
		  "3be14a3c1ec1ea6f45d18a60a0630a5142d77e8eafe82d55955af00db1f2e00e59c340adbc73e82d"
		  "6925e808e63b9ebac745db9a5808c7bbd4fb122044786a11e330579b2d7b8c39baf905a037458305"
		  "c967bc85afd8c009c8e519f2e188e3af0594d3e1a443197b1d8fa725d7473e41ab587ae531558d40"
		  "b5cf23c3b98eb2a9a03e593e3bac0f7a"),
	   "§13.3 RSA signature v2 byte for byte");
	ok_ret(vouch_trust_new(ctx, &trust), "trust");
	ok_ret(vouch_trust_add_cert(trust, cert, "_ima"), "add cert");
	ok_ret(vouch_ima_verify_fd(ctx, trust, NULL, val, n, fd, &res), "verify v2");
	ok(res.signer == cert && res.value.keyid == kid && res.value.sig_len == 256,
	   "result names signer and size");
	free(val);

	o.flags = VOUCH_IMA_SIGN_V3;
	ok_ret(vouch_ima_sign_fd(ctx, key, &o, fd, &val, &n), "sign v3");
	ok(eq_hex(val, n, IMA_FILE_SIGV3_HEX),
	   "§13.5 sigv3 over the fs-verity file id byte for byte");
	ok_ret(vouch_ima_verify_fd(ctx, trust, NULL, val, n, fd, NULL), "verify v3");
	{
		/* a v3 signature checked against the regular file hash must fail (§3.5) */
		struct vouch_digest plain;
		int a = VOUCH_HASH_SHA256;

		vouch_digest_file(ctx, tvec("ima/file.txt"), &a, 1, &plain);
		ok_err(vouch_ima_verify_digest(ctx, trust, NULL, val, n, &plain, NULL),
		       -EKEYREJECTED, "v3 over the plain file hash does not verify");
	}
	free(val);

	o.flags = VOUCH_IMA_SIGN_V3;
	o.algo = VOUCH_HASH_SHA1;
	ok_err(vouch_ima_sign_fd(ctx, key, &o, fd, &val, &n), -EOPNOTSUPP, "v3 needs sha256/512");
	o.algo = VOUCH_HASH_SHA256;
	o.reserved[2] = 1;
	ok_err(vouch_ima_sign_fd(ctx, key, &o, fd, &val, &n), -EINVAL, "reserved must be zero");
}

/* Every row of tests/vectors/peer/ima-xattrs.tsv. */
static void test_peer_rows(void)
{
	_cleanup_(vouch_key_freep) vouch_key *rsa = load_key(vec("keys/rsa2048.key"));
	_cleanup_(vouch_cert_freep) vouch_cert *rc = load_cert(vec("keys/rsa2048.crt"));
	_cleanup_(vouch_cert_freep) vouch_cert *ec = load_cert(vec("keys/ecdsa-p256.crt"));
	_cleanup_(vouch_trust_freep) vouch_trust *trust = NULL;
	_cleanup_fclose_ FILE *f = fopen(vec("peer/ima-xattrs.tsv"), "re");
	char line[8192];
	int rows = 0;

	vouch_trust_new(ctx, &trust);
	vouch_trust_add_cert(trust, rc, NULL);
	vouch_trust_add_cert(trust, ec, NULL);
	if (!ok(f != NULL, "open ima-xattrs.tsv"))
		return;
	while (fgets(line, sizeof(line), f)) {
		char *name, *sha, *kind, *hex, *save = NULL, path[512];
		uint8_t want[4096];
		size_t wn;
		_cleanup_close_ int fd = -1;

		if (line[0] == '#')
			continue;
		line[strcspn(line, "\n")] = '\0';
		name = strtok_r(line, "\t", &save);
		sha = strtok_r(NULL, "\t", &save);
		kind = strtok_r(NULL, "\t", &save);
		hex = strtok_r(NULL, "\t", &save);
		if (!name || !sha || !kind || !hex)
			continue;
		rows++;
		snprintf(path, sizeof(path), "peer/samples/%s", name);
		fd = open_ro(vec(path));
		wn = unhex(hex, want, sizeof(want));
		if (!strcmp(kind, "ima_hash")) {
			struct vouch_digest d;
			int a = VOUCH_HASH_SHA256;
			uint8_t *val = NULL;
			size_t n = 0;

			vouch_digest_fd(ctx, fd, &a, 1, &d);
			ok_ret(vouch_ima_digest_value(ctx, &d, &val, &n), "%s: hash", name);
			ok(val && n == wn && !memcmp(val, want, n), "%s: ima_hash value equal", name);
			free(val);
		} else if (!strcmp(kind, "ima_sign:rsa2048")) {
			struct vouch_ima_sign_options o = VOUCH_IMA_SIGN_OPTIONS_INIT;
			uint8_t *val = NULL;
			size_t n = 0;

			vouch_ima_keyid(ctx, rsa, rc, &o.keyid);
			ok_ret(vouch_ima_sign_fd(ctx, rsa, &o, fd, &val, &n), "%s: sign", name);
			ok(val && n == wn && !memcmp(val, want, n),
			   "%s: RSA value equals evmctl's byte for byte", name);
			ok_ret(vouch_ima_verify_fd(ctx, trust, NULL, want, wn, fd, NULL),
			       "%s: evmctl's RSA value verifies", name);
			free(val);
		} else {
			ok_ret(vouch_ima_verify_fd(ctx, trust, NULL, want, wn, fd, NULL),
			       "%s: evmctl's %s value verifies", name, kind);
		}
	}
	ok(rows == 12, "12 rows read (got %d)", rows);
}

static void test_must_fail(void)
{
	_cleanup_(vouch_cert_freep) vouch_cert *rc = load_cert(vec("keys/rsa2048.crt"));
	_cleanup_(vouch_cert_freep) vouch_cert *ec = load_cert(vec("keys/ecdsa-p256.crt"));
	_cleanup_(vouch_trust_freep) vouch_trust *trust = NULL;
	static const struct {
		const char *file;
		const char *target;
		int err;
		const char *why;
	} cases[] = {
		{ "hello.rsa2048.sig", "hello.txt", 0, "the good value verifies" },
		{ "hello.ecdsa-p256.sig", "hello.txt", 0, "the good ECDSA value verifies" },
		{ "hello.rsa2048.sig", "hello-tampered.txt", -EKEYREJECTED, "tampered file" },
		{ "hello.ecdsa-p256.sig", "hello-tampered.txt", -EKEYREJECTED,
		  "tampered file (ECDSA)" },
		{ "bad-wrong-key.sig", "hello.txt", -EKEYREJECTED, "wrong key" },
		{ "bad-unknown-keyid.sig", "hello.txt", -ENOKEY, "unknown key id" },
		{ "bad-truncated-header.sig", "hello.txt", -EBADMSG, "truncated header" },
		{ "bad-truncated.sig", "hello.txt", -EBADMSG, "truncated xattr" },
		{ "bad-type.sig", "hello.txt", -EBADMSG, "wrong type byte" },
		{ "bad-version.sig", "hello.txt", -EBADMSG, "wrong version byte" },
		{ "bad-version-v1.sig", "hello.txt", -EOPNOTSUPP, "legacy v1 version byte" },
		{ "bad-sigsize.sig", "hello.txt", -EBADMSG, "sig_size disagrees with the length" },
		{ "bad-algo-md5.sig", "hello.txt", -EPERM, "algorithm not on the allow-list" },
		{ "bad-sigbyte.sig", "hello.txt", -EKEYREJECTED, "flipped signature bit" },
		{ "bad-rsa-short.sig", "hello.txt", -EBADMSG, "RSA signature not modulus-sized" },
		{ "bad-empty.sig", "hello.txt", -EBADMSG, "empty value" },
		{ "bad-evm-type.sig", "hello.txt", -EBADMSG, "EVM type in security.ima" },
	};

	vouch_trust_new(ctx, &trust);
	vouch_trust_add_cert(trust, rc, ".ima");
	vouch_trust_add_cert(trust, ec, ".ima");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char p[256];
		size_t n;
		_cleanup_free_ uint8_t *v = NULL;
		_cleanup_close_ int fd = -1;
		int r;

		snprintf(p, sizeof(p), "ima/%s", cases[i].file);
		v = slurp(tvec(p), &n);
		snprintf(p, sizeof(p), "ima/%s", cases[i].target);
		fd = open_ro(tvec(p));
		vouch_ctx_clear_error(ctx);
		r = vouch_ima_verify_fd(ctx, trust, NULL, v, n, fd, NULL);
		ok_err(r, cases[i].err, "%s: %s", cases[i].why, cases[i].file);
		if (r < 0)
			ok(*vouch_ctx_last_error(ctx), "  reason: %s", vouch_ctx_last_error(ctx));
	}
	{
		/* the keyring restriction and the allow-list are enforced too */
		struct vouch_ima_verify_options o = VOUCH_IMA_VERIFY_OPTIONS_INIT;
		size_t n;
		_cleanup_free_ uint8_t *v = slurp(tvec("ima/hello.rsa2048.sig"), &n);
		_cleanup_close_ int fd = open_ro(tvec("ima/hello.txt"));

		o.keyring = "_evm";
		ok_err(vouch_ima_verify_fd(ctx, trust, &o, v, n, fd, NULL), -ENOKEY,
		       "key in another keyring");
		o.keyring = ".ima";
		ok_ret(vouch_ima_verify_fd(ctx, trust, &o, v, n, fd, NULL), "key in .ima");
		o.allowed_algos = 1ULL << VOUCH_HASH_SHA512;
		ok_err(vouch_ima_verify_fd(ctx, trust, &o, v, n, fd, NULL), -EPERM,
		       "sha256 not allowed when only sha512 is");
	}
	{
		/* digests: refused unless allowed, and must match */
		struct vouch_ima_verify_options o = VOUCH_IMA_VERIFY_OPTIONS_INIT;
		uint8_t good[34], *p = good;
		size_t n = unhex("0404ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
				 good, sizeof(good));
		_cleanup_close_ int fd = open_ro(vec("peer/samples/abc"));
		_cleanup_close_ int fd2 = open_ro(tvec("ima/hello.txt"));

		ok_err(vouch_ima_verify_fd(ctx, trust, NULL, p, n, fd, NULL), -EPERM,
		       "digest only: refused without ALLOW_DIGEST");
		o.flags = VOUCH_IMA_VERIFY_ALLOW_DIGEST;
		ok_ret(vouch_ima_verify_fd(ctx, trust, &o, p, n, fd, NULL), "digest allowed");
		ok_err(vouch_ima_verify_fd(ctx, trust, &o, p, n, fd2, NULL), -EKEYREJECTED,
		       "digest of another file");
		ok_err(vouch_ima_verify_fd(ctx, trust, &o, p, n - 1, fd, NULL), -EBADMSG,
		       "truncated digest");
	}
}

static void test_evm(void)
{
	_cleanup_(vouch_key_freep) vouch_key *key = load_key(tvec("ima/fmt-rsa.key"));
	_cleanup_(vouch_cert_freep) vouch_cert *cert = load_cert(tvec("ima/fmt-rsa.crt"));
	_cleanup_(vouch_trust_freep) vouch_trust *trust = NULL;
	struct vouch_ima_sign_options o = VOUCH_IMA_SIGN_OPTIONS_INIT;
	struct vouch_evm_inputs in = VOUCH_EVM_INPUTS_INIT;
	struct vouch_evm_verify_options vo = VOUCH_EVM_VERIFY_OPTIONS_INIT;
	struct vouch_evm_xattr x[2];
	struct vouch_digest d;
	uint8_t ima[512], *val = NULL;
	size_t ima_len, n;
	static const char key32[] = "0123456789abcdef0123456789abcdef";
	static const uint8_t uuid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

	vouch_trust_new(ctx, &trust);
	vouch_trust_add_cert(trust, cert, "_evm");
	/* §13.6: security.ima = the §13.3 value, uid 0, gid 0, mode 0100644 */
	{
		_cleanup_close_ int fd = open_ro(tvec("ima/file.txt"));
		uint8_t *v = NULL;

		vouch_ima_keyid(ctx, key, cert, &o.keyid);
		vouch_ima_sign_fd(ctx, key, &o, fd, &v, &ima_len);
		memcpy(ima, v, ima_len);
		free(v);
	}
	x[0] = (struct vouch_evm_xattr){ "security.ima", ima, ima_len };
	in.xattrs = x;
	in.n_xattrs = 1;
	in.mode = 0100644;
	in.ino = 777; /* must not matter for portable signatures */
	in.generation = 99;
	ok_ret(vouch_evm_digest(ctx, &in, VOUCH_XATTR_EVM_PORTABLE, VOUCH_HASH_SHA256, &d),
	       "portable digest");
	ok(eq_hex(d.bytes, d.len,
		  "a28aad825de2814368b6e149249bdcaecb20e0aa94c8dcb835c42df1ad4be28a"),
	   "§13.6 digest");
	ok_ret(vouch_evm_sign(ctx, key, &o, &in, &val, &n), "portable signature");
	ok(eq_hex(val, n,
		  "050204" "3d0b8968" "0100"
		  "443876d9a6c84159601e70c12306833c3f9c8fdbe377eef5169ec4b5f2fc192cc51334cfab7216bd"
		  "4d3160cf7a8aa427115d91270b5c9111eb0a78b1ddb43ac710af9db4b09c23fd17a03a5979d8963a"
		  "392920bf9f4dd86b57db088aa706732aa8fea6f62675e643f79a0181d994ef0eb8f5cd11638cbf8e"
		  "cf51a2d6c719cd6aa5bfd862bd4089596814b537548c4f9ef5a03b49e9acd8d9c1a9391fd8d2c2fd"
		  "3cea93641b430f94ba19854c2c19b5eba025bdf7dab6213d38c9d47f4cde64db1f18ec7784454213"
		  "6e3c9eb6fcaca54c834fa2f2c0b04a98e4129d7da2ea0203ab6a4aa05c454f7ff61669040fbd3017"
		  "a85ac2b713384892ab25b7ecb65ceebb"),
	   "§13.6 evmctl portable signature byte for byte");
	ok_ret(vouch_evm_verify(ctx, trust, NULL, &in, val, n, NULL), "portable verifies");
	in.mode = 0100600;
	ok_err(vouch_evm_verify(ctx, trust, NULL, &in, val, n, NULL), -EKEYREJECTED,
	       "changed mode: portable signature fails");
	in.mode = 0100644;
	in.uid = 1;
	ok_err(vouch_evm_verify(ctx, trust, NULL, &in, val, n, NULL), -EKEYREJECTED,
	       "changed owner: portable signature fails");
	in.uid = 0;
	ima[20] ^= 1;
	ok_err(vouch_evm_verify(ctx, trust, NULL, &in, val, n, NULL), -EKEYREJECTED,
	       "changed security.ima: portable signature fails");
	ima[20] ^= 1;
	vo.keyring = ".evm";
	ok_err(vouch_evm_verify(ctx, trust, &vo, &in, val, n, NULL), -ENOKEY,
	       "key only in another keyring");
	vo.keyring = NULL;
	val[0] = VOUCH_XATTR_VERITY_DIGSIG;
	ok_err(vouch_evm_verify(ctx, trust, NULL, &in, val, n, NULL), -EBADMSG,
	       "type 0x06 is not an EVM type");
	free(val);
	in.n_xattrs = 0;
	ok_err(vouch_evm_sign(ctx, key, &o, &in, &val, &n), -EPERM,
	       "portable signature without security.ima refused");

	/* §13.7 HMAC */
	x[0] = (struct vouch_evm_xattr){ "security.ima", ima, 0 };
	ima_len = unhex("04043f865664cafc0007c6ef91f7e6caacd1797d92f9b707100170bf3a656331b6cf",
			ima, sizeof(ima));
	x[0].len = ima_len;
	in.n_xattrs = 1;
	in.ino = 12345;
	in.generation = 0x11223344;
	ok_ret(vouch_evm_hmac(ctx, (const uint8_t *)key32, 32, &in, &val, &n), "HMAC");
	ok(eq_hex(val, n, "024f9db9b67980724a024935a1b6bfe35f7ea3f66f"), "§13.7 HMAC");
	vo.hmac_key = (const uint8_t *)key32;
	vo.hmac_key_len = 32;
	ok_ret(vouch_evm_verify(ctx, NULL, &vo, &in, val, n, NULL), "HMAC verifies");
	in.generation++;
	ok_err(vouch_evm_verify(ctx, NULL, &vo, &in, val, n, NULL), -EKEYREJECTED,
	       "changed generation: HMAC fails");
	in.generation--;
	vo.hmac_key_len = 31;
	ok_err(vouch_evm_verify(ctx, NULL, &vo, &in, val, n, NULL), -EKEYREJECTED,
	       "wrong HMAC key fails");
	vo.hmac_key = NULL;
	ok_err(vouch_evm_verify(ctx, NULL, &vo, &in, val, n, NULL), -ENOKEY, "no HMAC key");
	ok_err(vouch_evm_verify(ctx, NULL, &vo, &in, val, n - 1, NULL), -EBADMSG,
	       "truncated HMAC");
	free(val);
	in.fs_uuid = uuid;
	ok_ret(vouch_evm_hmac(ctx, (const uint8_t *)key32, 32, &in, &val, &n), "HMAC + uuid");
	ok(eq_hex(val, n, "028be883419f5c4ac016d1c08234aaad4777a3390c"), "§13.7 HMAC with fs UUID");
	free(val);
	in.fs_uuid = NULL;
	in.flags = VOUCH_EVM_M32;
	ok_ret(vouch_evm_hmac(ctx, (const uint8_t *)key32, 32, &in, &val, &n), "HMAC m32");
	ok(eq_hex(val, n, "02fd30a722b19f03bc73a6351a4a086d88c43d74af"), "§13.7 HMAC 32-bit h_misc");
	free(val);
	in.flags = 0;
	x[1] = x[0];
	in.n_xattrs = 2;
	ok_err(vouch_evm_hmac(ctx, (const uint8_t *)key32, 32, &in, &val, &n), -EINVAL,
	       "repeated xattr name refused");
	x[1].name = "user.foo";
	ok_err(vouch_evm_hmac(ctx, (const uint8_t *)key32, 32, &in, &val, &n), -EINVAL,
	       "unprotected xattr name refused");
	ok_streq(vouch_evm_xattr_name(6), "security.ima", "kernel order: ima 7th");
	ok(vouch_evm_xattr_name(8) == NULL, "eight names");
}

/* Every allocation on the sign, verify and EVM paths may fail: -ENOMEM, never a crash. */
static void test_alloc_failures(void)
{
	_cleanup_(vouch_key_freep) vouch_key *key = load_key(tvec("ima/fmt-rsa.key"));
	_cleanup_(vouch_cert_freep) vouch_cert *cert = load_cert(tvec("ima/fmt-rsa.crt"));
	_cleanup_(vouch_trust_freep) vouch_trust *trust = NULL;
	_cleanup_close_ int fd = open_ro(tvec("ima/file.txt"));
	int n, fails = 0;

	vouch_trust_new(ctx, &trust);
	vouch_trust_add_cert(trust, cert, NULL);
	for (n = 1; n < 200; n++) {
		struct vouch_ima_sign_options o = VOUCH_IMA_SIGN_OPTIONS_INIT;
		struct vouch_evm_inputs in = VOUCH_EVM_INPUTS_INIT;
		struct vouch_evm_xattr x;
		uint8_t *v = NULL, *e = NULL, *h = NULL;
		size_t vn = 0, en = 0, hn = 0;
		int r1, r2 = -ENOMEM, r3 = -ENOMEM, r4 = -ENOMEM;

		o.keyid = 0x3d0b8968;
		o.flags = n % 2 ? VOUCH_IMA_SIGN_V3 : 0;
		mem_fail_at(n);
		r1 = vouch_ima_sign_fd(ctx, key, &o, fd, &v, &vn);
		if (r1 == 0) {
			r2 = vouch_ima_verify_fd(ctx, trust, NULL, v, vn, fd, NULL);
			x = (struct vouch_evm_xattr){ "security.ima", v, vn };
			in.xattrs = &x;
			in.n_xattrs = 1;
			o.flags = 0;
			r3 = vouch_evm_sign(ctx, key, &o, &in, &e, &en);
			r4 = vouch_evm_hmac(ctx, (const uint8_t *)"k", 1, &in, &h, &hn);
		}
		mem_fail_at(0);
		if ((r1 < 0 && r1 != -ENOMEM) || (r2 < 0 && r2 != -ENOMEM) ||
		    (r3 < 0 && r3 != -ENOMEM) || (r4 < 0 && r4 != -ENOMEM))
			fails++;
		free(v);
		free(e);
		free(h);
		if (r1 == 0 && r2 == 0 && r3 == 0 && r4 == 0 && n > 20)
			break;
	}
	ok(fails == 0, "every injected allocation failure returns -ENOMEM (%d points)", n);
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_digest_forms, test_fsverity, test_sign_known, test_peer_rows, test_must_fail,
		test_evm, test_alloc_failures
	};

	return tap_run_ctx(&ctx, tests, ARRAY_SIZE(tests));
}
