// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The vouch-reference document (lib/reference.c) and its use by attestation (lib/attest.c):
 * a version 2 document built through the API is accepted by vouch_attest_reference_parse(),
 * allows exactly its digests, rejects a document whose id does not match, honours keyrings
 * and ima-buf names and upgrade windows ("until"); version 1 is still read; diversions and
 * the dpkg status file; allocation failures walked.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"
#include "tap.h"

static vouch_ctx *ctx;

static struct vouch_digest dig(uint8_t fill)
{
	struct vouch_digest d = { .algo = VOUCH_HASH_SHA256, .len = 32 };

	memset(d.bytes, fill, 32);
	return d;
}

static int build(vouch_reference **ret)
{
	struct vouch_digest d = dig(0xaa);
	vouch_reference *ref = NULL;
	int r;

	r = vouch_reference_new(ctx, &ref);
	if (r == 0)
		r = vouch_reference_add_file(ref, "/usr/bin/a", &d, 1, "/img", true);
	if (r == 0)
		r = vouch_reference_add_exclude(ref, "/var/log/");
	if (r < 0) {
		vouch_reference_free(ref);
		return r;
	}
	*ret = ref;
	return 0;
}

static char *format(vouch_reference *ref)
{
	char *json = NULL;
	size_t len;

	if (vouch_reference_format(ref, &json, &len) < 0)
		return NULL;
	return json;
}

static void test_roundtrip(void)
{
	vouch_reference *ref = NULL, *again = NULL;
	vouch_attest_reference *ar = NULL;
	struct vouch_digest a = dig(0xaa), b = dig(0xbb);
	char *json, *json2, id[80], id2[80];

	ok_ret(build(&ref), "a document from the API");
	json = format(ref);
	ok(json != NULL, "formatted");
	ok_ret(vouch_reference_parse(ctx, json, strlen(json), &again), "read back");
	json2 = again ? format(again) : NULL;
	ok_streq(json2, json, "the canonical form is stable through a round trip");
	ok_ret(vouch_reference_id(ref, id, sizeof(id)), "id");
	ok_ret(vouch_reference_id(again, id2, sizeof(id2)), "id again");
	ok_streq(id, id2, "same id");
	ok(!strncmp(id, "sha256:", 7) && strlen(id) == 71, "the id is sha256:HEX");

	ok_ret(vouch_attest_reference_parse(ctx, json, strlen(json), &ar),
	       "attestation reads a version 2 document");
	ok_err(vouch_attest_reference_check(ar, "/usr/bin/a", &a), 0, "its digest is allowed");
	ok_err(vouch_attest_reference_check(ar, "/usr/bin/a", &b), -EKEYREJECTED,
	       "another digest is not");
	ok_err(vouch_attest_reference_check(ar, "/usr/bin/b", &a), -ENOENT, "another path is not listed");
	ok_err(vouch_attest_reference_check(ar, "/var/log/x", &b), -ECANCELED, "an excluded path");
	vouch_attest_reference_free(ar);
	ar = NULL;

	/* one changed byte of content: the id no longer matches */
	{
		char *p = strstr(json, "\"root\":\"/img\"");

		ok(p != NULL, "the origin is in the text");
		if (p)
			p[9] = 'j';
		ok_err(vouch_attest_reference_parse(ctx, json, strlen(json), &ar), -EBADMSG,
		       "attestation refuses a document whose id does not match");
		{
			vouch_reference *x = NULL;

			ok_err(vouch_reference_parse(ctx, json, strlen(json), &x), -EBADMSG,
			       "so does the reference reader");
			vouch_reference_free(x);
		}
	}
	free(json);
	free(json2);
	vouch_reference_free(ref);
	vouch_reference_free(again);
}

static void test_v2_rules(void)
{
	vouch_attest_reference *ar = NULL;
	struct vouch_digest a = dig(0xaa), b = dig(0xbb);
	char json[2048];
	long long past = (long long)time(NULL) - 10, future = (long long)time(NULL) + 3600;
	static const char *bad[] = {
		"{\"format\":\"vouch-reference\",\"version\":2,\"files\":{\"/a\":[\"sha256:aa\"]}}",
		"{\"format\":\"vouch-reference\",\"version\":2,\"files\":{\"/a\":[{\"digests\":[]}]}}",
		"{\"format\":\"vouch-reference\",\"version\":2,\"files\":{\"/a\":[{\"digests\":[\"sha256:zz\"]}]}}",
		"{\"format\":\"vouch-reference\",\"version\":2,\"files\":{\"/a\":[{\"digests\":[\"nope:aa\"]}]}}",
		"{\"format\":\"vouch-reference\",\"version\":2,\"files\":{\"/a\":[{\"digests\":[\"sha256:aa\"]}]}}",
		"{\"format\":\"vouch-reference\",\"version\":2,\"files\":{},\"keyrings\":{\".ima\":\"x\"}}",
		"{\"format\":\"vouch-reference\",\"version\":2,\"files\":{},\"id\":\"sha256:00\"}",
		"{\"format\":\"vouch-reference\",\"version\":3,\"files\":{}}",
		("{\"format\":\"vouch-reference\",\"version\":2,\"files\":{\"/a\":[{\"digests\":[\"sha256:"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"],\"until\":-1}]}}"),
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ok_err(vouch_attest_reference_parse(ctx, bad[i], strlen(bad[i]), &ar), -EBADMSG,
		       "malformed version 2 document %zu refused", i);
		vouch_attest_reference_free(ar);
		ar = NULL;
	}
	snprintf(json, sizeof(json),
		 "{\"format\":\"vouch-reference\",\"version\":2,\"files\":{\"/a\":["
		 "{\"digests\":[\"sha256:%064d\"],\"until\":%lld},"
		 "{\"digests\":[\"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"],"
		 "\"until\":%lld},"
		 "{\"digests\":[\"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"],"
		 "\"until\":%lld}]},"
		 "\"keyrings\":{\".ima\":[\"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]}}",
		 0, future, future, past);
	ok_ret(vouch_attest_reference_parse(ctx, json, strlen(json), &ar), "windows and keyrings");
	ok_err(vouch_attest_reference_check(ar, "/a", &a), 0, "a digest inside its window is allowed");
	ok_err(vouch_attest_reference_check(ar, "/a", &b), -EKEYREJECTED,
	       "a digest past its window is rejected");
	ok_err(vouch_attest_reference_check(ar, ".ima", &a), 0, "a key digest of an allowed keyring");
	ok_err(vouch_attest_reference_check(ar, ".ima", &b), -EKEYREJECTED, "another key is not");
	ok_err(vouch_attest_reference_check(ar, ".builtin_trusted_keys", &a), -ENOENT,
	       "another keyring is not listed");
	vouch_attest_reference_free(ar);
}

static void test_v1(void)
{
	static const char v1[] = "{\"format\":\"vouch-reference\",\"version\":1,\"files\":{\"/a\":"
				 "\"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}";
	vouch_reference *ref = NULL;
	vouch_attest_reference *ar = NULL;
	struct vouch_digest a = dig(0xaa);
	struct vouch_reference_stats st;
	char *json;

	ok_ret(vouch_reference_parse(ctx, v1, strlen(v1), &ref), "version 1 read");
	ok_ret(vouch_reference_get_stats(ref, &st), "stats");
	ok(st.paths == 1 && st.entries == 1, "one path, one entry");
	json = ref ? format(ref) : NULL;
	ok(json && strstr(json, "\"version\":2"), "written as version 2");
	ok_ret(vouch_attest_reference_parse(ctx, json, strlen(json), &ar), "and accepted");
	ok_err(vouch_attest_reference_check(ar, "/a", &a), 0, "with the same digest allowed");
	vouch_attest_reference_free(ar);
	free(json);
	vouch_reference_free(ref);

	/* found by fuzz-reference: version 1 took any ALGO:HEX string, its version 2 form
	 * then did not read back; an unknown algorithm or a wrong length is refused in both */
	static const char *bad[] = {
		"{\"format\":\"vouch-reference\",\"version\":1,\"files\":{\"/a\":"
		"\"sha257:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}",
		"{\"format\":\"vouch-reference\",\"version\":1,\"files\":{\"/a\":"
		"[\"sha257:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]}}",
		"{\"format\":\"vouch-reference\",\"version\":1,\"files\":{\"/a\":"
		"\"sha256:aaaa\"}}",
		"{\"format\":\"vouch-reference\",\"version\":1,\"files\":{\"/a\":"
		"[\"sha1:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbg\"]}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ref = NULL;
		ok_err(vouch_reference_parse(ctx, bad[i], strlen(bad[i]), &ref), -EBADMSG,
		       "version 1 with a digest of no known algorithm or length refused (%zu)", i);
		vouch_reference_free(ref);
	}
}

static int count_pkg(void *userdata, const char *p, const char *v, const char *a)
{
	(void)p;
	(void)v;
	(void)a;
	(*(int *)userdata)++;
	return 0;
}

static void test_dpkg(void)
{
	static const char status[] = "Package: a\nStatus: install ok installed\nVersion: 1\n"
				     "Architecture: amd64\n\nPackage: b\nStatus: deinstall ok "
				     "config-files\nVersion: 2\nArchitecture: all\n\n"
				     "Package: c\nStatus: install ok half-installed\nVersion: 2\n"
				     "Architecture: all\n";
	static const char nover[] = "Package: a\nStatus: install ok installed\nArchitecture: all\n";
	vouch_reference *ref = NULL;
	int n = 0;

	ok_ret(vouch_dpkg_status_parse(ctx, status, strlen(status), count_pkg, &n), "status read");
	ok(n == 1, "only the installed package (%d)", n);
	ok_err(vouch_dpkg_status_parse(ctx, nover, strlen(nover), count_pkg, &n), -EBADMSG,
	       "an installed package without a version is refused");
	ok_ret(vouch_reference_new(ctx, &ref), "new");
	ok_ret(vouch_reference_set_diversions(ref, "/a\n/a.d\np\n", 10), "diversions");
	ok_err(vouch_reference_set_diversions(ref, "/a\n/a.d\n", 8), -EBADMSG,
	       "diversions not in threes refused");
	ok_err(vouch_reference_set_diversions(ref, "a\n/a.d\np\n", 9), -EBADMSG,
	       "a relative diverted path refused");
	vouch_reference_free(ref);
}

static void test_alloc_failures(void)
{
	int bad = 0, n;

	for (n = 1; n < 500; n++) {
		vouch_reference *ref = NULL;
		char *json = NULL;
		int r;

		mem_fail_at(n);
		r = build(&ref);
		if (r == 0) {
			size_t len;

			r = vouch_reference_format(ref, &json, &len);
		}
		mem_fail_at(0);
		if (r < 0 && r != -ENOMEM)
			bad++;
		free(json);
		vouch_reference_free(ref);
		if (r == 0)
			break;
	}
	ok(bad == 0, "allocation failures give -ENOMEM (%d other)", bad);
	ok(n < 500, "the walk reached a successful run (%d allocations)", n);
}

/* NULL arguments; freeing nothing is a no-op */
static void test_null_args(void)
{
	ok(vouch_reference_new(NULL, NULL) == -EINVAL, "NULL arguments");
	vouch_reference_free(NULL);
	vouch_deb_free(NULL);
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_roundtrip, test_v2_rules, test_v1, test_dpkg, test_alloc_failures,
		test_null_args
	};

	return tap_run_ctx(&ctx, tests, ARRAY_SIZE(tests));
}
