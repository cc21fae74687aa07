// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The vouch authors */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "internal.h"
#include "openssl-internal.h"
#include "tap.h"

static char dir[] = "/tmp/vouch-test-key-XXXXXX";
static vouch_ctx *ctx;
/* the rsa2048 key and certificate; the generated RSA certificate (gen.crt) */
static vouch_key *key;
static vouch_cert *cert, *cert2;

static const char *tmp(const char *name)
{
	return tap_path(dir, name);
}

static int copy_file(const char *src, const char *dst, mode_t mode, size_t truncate_to)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = read_file_all(NULL, src, 1 << 20, &buf, &len);
	int fd;

	if (r < 0)
		return r;
	if (truncate_to && truncate_to < len)
		len = truncate_to;
	fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	r = write_all(fd, buf, len);
	fchmod(fd, mode);
	close(fd);
	free(buf);
	return r;
}

static int write_str(const char *dst, const char *s, mode_t mode)
{
	int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, mode);
	int r;

	if (fd < 0)
		return -errno;
	r = write_all(fd, s, strlen(s));
	fchmod(fd, mode);
	close(fd);
	return r;
}

static int pass_fn(void *userdata, char *buf, size_t size)
{
	const char *p = userdata;
	size_t n = strlen(p);

	if (n > size)
		n = size;
	memcpy(buf, p, n);
	return (int)n;
}

/* the shared vectors: IMA key ids from the SKID tail */
static void test_cert_vectors(void)
{
	struct vouch_cert_info info;

	ok_ret(vouch_cert_load(ctx, vec("keys/rsa2048.crt"), &cert), "load PEM certificate");
	vouch_cert_get_info(cert, &info);
	ok(info.has_ima_keyid && info.ima_keyid == 0xc35519ed, "rsa2048 IMA key id c35519ed");
	ok(info.key_type == VOUCH_KEY_RSA && info.key_bits == 2048, "rsa2048 is RSA 2048");
	ok(info.code_signing && !info.is_ca, "rsa2048 is a code-signing end entity");
	ok(info.skid_len == 20, "SKID is 20 bytes");
	vouch_cert_free(cert);
	ok_ret(vouch_cert_load(ctx, vec("keys/ecdsa-p256.der"), &cert), "load DER certificate");
	vouch_cert_get_info(cert, &info);
	ok(info.has_ima_keyid && info.ima_keyid == 0x40f901e3, "ecdsa-p256 IMA key id 40f901e3");
	ok(info.key_type == VOUCH_KEY_EC && info.curve && !strcmp(info.curve, "P-256"),
	   "ecdsa-p256 is P-256");
	vouch_cert_free(cert);
	cert = NULL;
}

/* private keys: mode checks, formats */
static void test_private_keys(void)
{
	vouch_key *key2 = NULL;

	ok_ret(copy_file(vec("keys/rsa2048.key"), tmp("rsa.key"), 0600, 0), "copy rsa key");
	ok_ret(vouch_key_load(ctx, tmp("rsa.key"), NULL, NULL, &key), "load PKCS#8 RSA key");
	ok(vouch_key_type(key) == VOUCH_KEY_RSA && vouch_key_bits(key) == 2048, "RSA 2048");
	ok_ret(vouch_cert_load(ctx, vec("keys/rsa2048.crt"), &cert), "cert");
	ok(vouch_key_matches_cert(key, cert), "key matches its certificate");
	ok_ret(copy_file(vec("keys/ecdsa-p256.key"), tmp("ec.key"), 0600, 0), "copy ec key");
	ok_ret(vouch_key_load(ctx, tmp("ec.key"), NULL, NULL, &key2), "load EC key");
	ok(!vouch_key_matches_cert(key2, cert), "EC key does not match the RSA certificate");
	vouch_key_free(key2);
	key2 = NULL;

	ok_ret(copy_file(vec("keys/rsa2048.key"), tmp("open.key"), 0644, 0), "world-readable copy");
	ok_err(vouch_key_load(ctx, tmp("open.key"), NULL, NULL, &key2), -EPERM,
	       "world-readable key refused");
	ok(strstr(vouch_ctx_last_error(ctx), "chmod 600") != NULL, "message says how to fix it");
	ok_err(vouch_key_load(ctx, tmp("missing.key"), NULL, NULL, &key2), -ENOENT, "missing key");
	ok_err(vouch_key_load(ctx, dir, NULL, NULL, &key2), -EISDIR, "directory as key");
	ok_ret(write_str(tmp("garbage.key"), "-----BEGIN PRIVATE KEY-----\nnot base64!!\n"
					     "-----END PRIVATE KEY-----\n", 0600), "garbage PEM");
	ok_err(vouch_key_load(ctx, tmp("garbage.key"), NULL, NULL, &key2), -EBADMSG,
	       "garbage PEM refused");
	ok_ret(write_str(tmp("text.key"), "hello\n", 0600), "text file");
	ok_err(vouch_key_load(ctx, tmp("text.key"), NULL, NULL, &key2), -EBADMSG,
	       "non-key refused");
}

/* an encrypted PKCS#8 key, and DER forms written through OpenSSL */
static void test_encrypted_keys(void)
{
	vouch_key *key2 = NULL;

	{
		BIO *b = BIO_new_file(tmp("enc.key"), "w");

		ok(b && PEM_write_bio_PKCS8PrivateKey(b, key_pkey(key), EVP_aes_256_cbc(), NULL,
						      0, NULL, (void *)"s3cret"),
		   "write encrypted key");
		BIO_free(b);
		chmod(tmp("enc.key"), 0600);
		b = BIO_new_file(tmp("rsa1.der"), "w");
		ok(b && i2d_PrivateKey_bio(b, key_pkey(key)), "write PKCS#1 DER key");
		BIO_free(b);
		chmod(tmp("rsa1.der"), 0600);
	}
	ok_ret(vouch_key_load(ctx, tmp("enc.key"), pass_fn, (void *)"s3cret", &key2),
	       "encrypted key with the right passphrase");
	ok(key2 && vouch_key_matches_cert(key2, cert), "decrypted key is the right one");
	vouch_key_free(key2);
	key2 = NULL;
	ok_err(vouch_key_load(ctx, tmp("enc.key"), pass_fn, (void *)"wrong", &key2),
	       -EKEYREJECTED, "wrong passphrase");
	ok(strstr(vouch_ctx_last_error(ctx), "wrong passphrase") != NULL, "says wrong passphrase");
	ok_err(vouch_key_load(ctx, tmp("enc.key"), NULL, NULL, &key2), -ENOKEY,
	       "encrypted key without a passphrase source");
	ok_ret(vouch_key_load(ctx, tmp("rsa1.der"), NULL, NULL, &key2), "PKCS#1 DER key");
	ok(key2 && vouch_key_matches_cert(key2, cert), "DER key is the right one");
	vouch_key_free(key2);
	key2 = NULL;
	/* the shape check before OpenSSL's decoders keeps every DER key form, refuses certs */
	{
		BIO *b = BIO_new_file(tmp("p8.der"), "w");

		ok(b && i2d_PKCS8PrivateKey_bio(b, key_pkey(key), NULL, NULL, 0, NULL, NULL),
		   "write PKCS#8 DER key");
		BIO_free(b);
		b = BIO_new_file(tmp("p8enc.der"), "w");
		ok(b && i2d_PKCS8PrivateKey_bio(b, key_pkey(key), EVP_aes_256_cbc(), NULL, 0, NULL,
						(void *)"s3cret"),
		   "write encrypted PKCS#8 DER key");
		BIO_free(b);
		chmod(tmp("p8.der"), 0600);
		chmod(tmp("p8enc.der"), 0600);
	}
	ok_ret(vouch_key_load(ctx, tmp("p8.der"), NULL, NULL, &key2), "PKCS#8 DER key");
	ok(key2 && vouch_key_matches_cert(key2, cert), "PKCS#8 DER key is the right one");
	vouch_key_free(key2);
	key2 = NULL;
	ok_ret(vouch_key_load(ctx, tmp("p8enc.der"), pass_fn, (void *)"s3cret", &key2),
	       "encrypted PKCS#8 DER key");
	ok(key2 && vouch_key_matches_cert(key2, cert), "encrypted DER key is the right one");
	vouch_key_free(key2);
	key2 = NULL;
	{
		size_t n;
		_cleanup_free_ uint8_t *der = NULL;

		ok(read_file_all(ctx, vec("keys/rsa2048.der"), 1 << 20, &der, &n) == 0, "DER cert read");
		ok_err(vouch_key_load_mem(ctx, der, n, NULL, NULL, &key2), -EBADMSG,
		       "a DER certificate is not a private key");
	}
}

/*
 * The decoders are built once per context and reused: a passphrase, a key or an error
 * of one load must never carry into the next.  Legacy PEM encryption (DEK-Info), a
 * certificate before the key, and EC PARAMETERS before an EC key, as openssl writes them.
 */
static void test_decoder_reuse(void)
{
	vouch_key *key2 = NULL;

	{
		_cleanup_free_ uint8_t *crt = NULL, *k = NULL;
		size_t ncrt = 0, nk = 0;
		BIO *b = BIO_new_file(tmp("legacy.key"), "w");

		ok(b && PEM_write_bio_PrivateKey_traditional(b, key_pkey(key), EVP_aes_128_cbc(),
							     NULL, 0, NULL, (void *)"s3cret"),
		   "write legacy-encrypted PEM key");
		BIO_free(b);
		chmod(tmp("legacy.key"), 0600);
		for (int round = 0; round < 2; round++) {
			ok_err(vouch_key_load(ctx, tmp("legacy.key"), pass_fn, (void *)"wrong", &key2),
			       -EKEYREJECTED, "legacy PEM: wrong passphrase, round %d", round);
			ok_ret(vouch_key_load(ctx, tmp("legacy.key"), pass_fn, (void *)"s3cret",
					      &key2),
			       "legacy PEM: right passphrase, round %d", round);
			ok(key2 && vouch_key_matches_cert(key2, cert), "legacy PEM key is the right one");
			vouch_key_free(key2);
			key2 = NULL;
			ok_err(vouch_key_load(ctx, tmp("legacy.key"), NULL, NULL, &key2), -ENOKEY,
			       "legacy PEM: no passphrase after a right one, round %d", round);
			ok_err(vouch_key_load(ctx, tmp("p8enc.der"), pass_fn, (void *)"wrong", &key2),
			       -EKEYREJECTED, "DER: wrong passphrase after a right one, round %d",
			       round);
		}
		ok(read_file_all(ctx, vec("keys/rsa2048.crt"), 1 << 20, &crt, &ncrt) == 0 &&
			   read_file_all(ctx, tmp("rsa.key"), 1 << 20, &k, &nk) == 0,
		   "read cert and key");
		crt = realloc(crt, ncrt + nk);
		memcpy(crt + ncrt, k, nk);
		ok_ret(vouch_key_load_mem(ctx, crt, ncrt + nk, NULL, NULL, &key2),
		       "certificate then key in one PEM file");
		ok(key2 && vouch_key_matches_cert(key2, cert), "the key after the certificate");
		vouch_key_free(key2);
		key2 = NULL;
		ok_err(vouch_key_load_mem(ctx, crt, ncrt, NULL, NULL, &key2), -EBADMSG,
		       "the certificate alone is not a key");
	}
	{
		static const char ecparam[] = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n"
					      "-----END EC PARAMETERS-----\n";
		_cleanup_free_ uint8_t *k = NULL, *both = NULL;
		size_t nk;

		ok(read_file_all(ctx, tmp("ec.key"), 1 << 20, &k, &nk) == 0, "read EC key");
		both = malloc(sizeof(ecparam) - 1 + nk);
		memcpy(both, ecparam, sizeof(ecparam) - 1);
		memcpy(both + sizeof(ecparam) - 1, k, nk);
		ok_ret(vouch_key_load_mem(ctx, both, sizeof(ecparam) - 1 + nk, NULL, NULL, &key2),
		       "EC PARAMETERS then the EC key");
		ok(key2 && vouch_key_type(key2) == VOUCH_KEY_EC, "an EC key");
		vouch_key_free(key2);
		key2 = NULL;
	}
	vouch_key_free(key);
	key = NULL;
}

/* certificates: garbage and truncated DER */
static void test_bad_certs(void)
{
	ok_ret(copy_file(vec("keys/rsa2048.der"), tmp("trunc.der"), 0644, 100), "truncated DER");
	ok_err(vouch_cert_load(ctx, tmp("trunc.der"), &cert2), -EBADMSG, "truncated DER refused");
	ok_err(vouch_cert_load(ctx, tmp("garbage.key"), &cert2), -EBADMSG, "garbage PEM cert");
	ok_err(vouch_cert_load(ctx, tmp("nothing.crt"), &cert2), -ENOENT, "missing cert");
}

/* generation round trip */
static void test_generation(void)
{
	struct vouch_cert_info info;
	struct stat st;
	struct vouch_keygen_options o = VOUCH_KEYGEN_OPTIONS_INIT;

	o.subject = "/CN=unit test/O=vouch";
	o.serial = 0x1234;
	ok_ret(vouch_key_generate(ctx, &o, &key, &cert2), "generate RSA");
	ok_ret(vouch_key_save(ctx, key, tmp("gen.key")), "save key");
	ok(stat(tmp("gen.key"), &st) == 0 && (st.st_mode & 0777) == 0600, "key is 0600");
	ok_err(vouch_key_save(ctx, key, tmp("gen.key")), -EEXIST, "never overwrites");
	ok_ret(vouch_cert_save(ctx, cert2, tmp("gen.crt")), "save cert");
	vouch_key_free(key);
	key = NULL;
	ok_ret(vouch_key_load(ctx, tmp("gen.key"), NULL, NULL, &key), "reload key");
	vouch_cert_free(cert2);
	ok_ret(vouch_cert_load(ctx, tmp("gen.crt"), &cert2), "reload cert");
	ok(vouch_key_matches_cert(key, cert2), "round trip keeps the pair");
	vouch_cert_get_info(cert2, &info);
	ok(info.serial_len == 2 && info.serial[0] == 0x12 && info.serial[1] == 0x34,
	   "serial 0x1234");
	ok(info.code_signing && !info.is_ca && info.skid_len == 20, "SKID, codeSigning, CA:FALSE");
	ok(strstr(info.subject, "CN=unit test") != NULL, "subject kept");
	ok(info.has_ima_keyid && info.ima_keyid == get_be32(info.skid + 16),
	   "IMA key id is the SKID tail");
	vouch_key_free(key);
	key = NULL;

	vouch_cert_free(cert);
	cert = NULL;
	o.type = VOUCH_KEY_EC;
	o.curve = "P-384";
	o.serial = 0;
	ok_ret(vouch_key_generate(ctx, &o, &key, &cert), "generate EC P-384");
	vouch_cert_get_info(cert, &info);
	ok(info.key_type == VOUCH_KEY_EC && info.curve && !strcmp(info.curve, "P-384"),
	   "P-384 certificate");
	vouch_key_free(key);
	key = NULL;
	vouch_cert_free(cert);
	cert = NULL;
	o.curve = "brainpoolP999";
	ok_err(vouch_key_generate(ctx, &o, &key, &cert), -EINVAL, "unknown curve refused");
	o.curve = NULL;
	o.reserved[0] = 1;
	ok_err(vouch_key_generate(ctx, &o, &key, &cert), -EINVAL, "reserved must be zero");
	o.reserved[0] = 0;
	o.version = 2;
	ok_err(vouch_key_generate(ctx, &o, &key, &cert), -EINVAL, "unknown version");
}

/* trust stores: file, bundle, directory; lookups by keyid, SKID, issuer+serial */
static void test_trust_stores(void)
{
	vouch_trust *trust = NULL;
	const vouch_cert *found;
	const char *ring;
	struct vouch_cert_info info;

	ok_ret(vouch_trust_new(ctx, &trust), "trust store");
	ok_ret(vouch_trust_add_path(trust, vec("keys/rsa2048.crt"), "builtin"), "add rsa");
	ok_ret(vouch_trust_add_path(trust, tmp("gen.crt"), "secondary"), "add generated");
	ok(vouch_trust_count(trust) == 2, "two certificates");
	ok_ret(vouch_trust_find_keyid(trust, 0xc35519ed, &found, &ring), "find by IMA key id");
	ok_streq(ring, "builtin", "keyring name reported");
	ok_err(vouch_trust_find_keyid(trust, 0x40f901e3, &found, &ring), -ENOKEY,
	       "unknown key id");
	vouch_cert_get_info(cert2, &info);
	ok_ret(vouch_trust_find_skid(trust, info.skid, info.skid_len, &found, &ring), "by SKID");
	ok_streq(ring, "secondary", "found in secondary");
	{
		X509 *x = cert_x509(cert2);
		unsigned char *der = NULL;
		int n = i2d_X509_NAME(X509_get_issuer_name(x), &der);
		uint8_t ser[3] = { 0x00, 0x12, 0x34 };

		ok_ret(vouch_trust_find_issuer_serial(trust, der, (size_t)n, ser, 3, &found, &ring),
		       "by issuer and serial (leading zero tolerated)");
		ser[2] = 0x35;
		ok_err(vouch_trust_find_issuer_serial(trust, der, (size_t)n, ser, 3, &found, &ring),
		       -ENOKEY, "wrong serial");
		OPENSSL_free(der);
	}
	vouch_trust_free(trust);
	trust = NULL;
	{
		/* a PEM bundle of two certificates */
		uint8_t *a, *b;
		size_t al, bl;
		int fd;

		read_file_all(ctx, vec("keys/rsa2048.crt"), 1 << 20, &a, &al);
		read_file_all(ctx, vec("keys/ecdsa-p256.crt"), 1 << 20, &b, &bl);
		fd = open(tmp("bundle.pem"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
		write_all(fd, a, al);
		write_all(fd, b, bl);
		close(fd);
		free(a);
		free(b);
	}
	ok_ret(vouch_trust_new(ctx, &trust), "trust store 2");
	ok_ret(vouch_trust_add_path(trust, tmp("bundle.pem"), NULL), "PEM bundle");
	ok(vouch_trust_count(trust) == 2, "bundle gives two certificates");
	vouch_trust_free(trust);
	ok_ret(vouch_trust_new(ctx, &trust), "trust store 3");
	/* the keys directory holds private keys and .keyid text: not silently skipped */
	ok_err(vouch_trust_add_path(trust, vec("keys"), "platform"), -EBADMSG,
	       "a directory with non-certificates is refused");
	ok(strstr(vouch_ctx_last_error(ctx), "keys/") != NULL, "message names the bad file");
	vouch_trust_free(trust);
	trust = NULL;
	mkdir(tmp("certs"), 0700);
	copy_file(vec("keys/rsa2048.crt"), tmp("certs/a.crt"), 0644, 0);
	copy_file(vec("keys/ecdsa-p256.der"), tmp("certs/b.der"), 0644, 0);
	ok_ret(vouch_trust_new(ctx, &trust), "trust store 4");
	ok_ret(vouch_trust_add_path(trust, tmp("certs"), "builtin"), "directory of certs");
	ok(vouch_trust_count(trust) == 2, "directory gives two certificates");
	vouch_trust_free(trust);
	mkdir(tmp("empty"), 0700);
	ok_ret(vouch_trust_new(ctx, &trust), "trust store 5");
	ok_err(vouch_trust_add_path(trust, tmp("empty"), NULL), -ENOENT, "empty directory refused");
	vouch_trust_free(trust);
}

/* allocation failures anywhere in load paths fail cleanly */
static void test_alloc_failures(void)
{
	int fails = 0, n;

	for (n = 1; n < 400; n++) {
		vouch_trust *t = NULL;
		vouch_key *k = NULL;
		int r1, r2 = 0;

		mem_fail_at(n);
		r1 = vouch_key_load(ctx, tmp("rsa.key"), NULL, NULL, &k);
		if (vouch_trust_new(ctx, &t) == 0)
			r2 = vouch_trust_add_path(t, tmp("bundle.pem"), "x");
		else
			r2 = -ENOMEM;
		mem_fail_at(0);
		if ((r1 < 0 && r1 != -ENOMEM) || (r2 < 0 && r2 != -ENOMEM))
			fails++;
		vouch_key_free(k);
		vouch_trust_free(t);
		if (r1 == 0 && r2 == 0)
			break;
	}
	ok(fails == 0, "every injected allocation failure returns -ENOMEM (%d points)", n);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	ok_ret(vouch_ctx_new(&ctx), "context");
	test_cert_vectors();
	test_private_keys();
	test_encrypted_keys();
	test_decoder_reuse();
	test_bad_certs();
	test_generation();
	test_trust_stores();
	test_alloc_failures();
	vouch_cert_free(cert);
	vouch_cert_free(cert2);
	vouch_ctx_free(ctx);
	{
		char cmd[4200];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (getenv("KEEP") == NULL && strncmp(dir, "/tmp/", 5) == 0) {
			/* cleanup without system(3): remove known files */
			const char *names[] = { "rsa.key", "ec.key", "open.key", "garbage.key",
						"text.key", "enc.key", "rsa1.der", "trunc.der",
						"gen.key", "gen.crt", "bundle.pem", "certs/a.crt",
						"certs/b.der", "certs", "empty" };

			for (size_t i = 0; i < ARRAY_SIZE(names); i++)
				remove(tmp(names[i]));
			rmdir(dir);
		}
		(void)cmd;
	}
	return tap_done();
}
