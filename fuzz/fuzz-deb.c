// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz the .deb reader: the outer ar archive, the control member (control file and
 * conffiles), the data tarball and what is made of its members (names normalised, hard
 * links, symlinks followed within the package, the member size limit), and a package that
 * was accepted added to a reference.  libarchive does the decompression and the tar and ar
 * parsing; what vouch decides over its entries is what is fuzzed here.  The bytes reach
 * vouch_deb_read() as a file, through a memfd.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vouch/vouch.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static vouch_ctx *ctx; /* one for the run */
	static const int algos[] = { VOUCH_HASH_SHA256, VOUCH_HASH_SHA1 };
	struct vouch_deb_options opts = VOUCH_DEB_OPTIONS_INIT;
	vouch_deb *deb = NULL;
	char path[64];
	int fd;

	if (!ctx && vouch_ctx_new(&ctx) < 0)
		return 0;
	fd = memfd_create("fuzz-deb", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	opts.flags = VOUCH_DEB_FOLLOW_SYMLINKS;
	opts.algos = algos;
	opts.n_algos = 2;
	opts.max_member = 1 << 20;
	if (vouch_deb_read(ctx, path, &opts, &deb) == 0) {
		struct vouch_deb_info info;
		vouch_reference *ref = NULL;

		if (vouch_deb_get_info(deb, &info) < 0)
			abort();
		for (size_t i = 0; i < info.files; i++) {
			const struct vouch_digest *d;
			const char *p;
			size_t n;

			/* every file the reader counted can be read back, with both digests */
			if (vouch_deb_get_file(deb, i, &p, &d, &n, NULL) < 0 || n != 2 || p[0] != '/')
				abort();
		}
		if (vouch_reference_new(ctx, &ref) == 0) {
			(void)vouch_reference_add_deb(ref, deb);
			vouch_reference_free(ref);
		}
	}
	vouch_deb_free(deb);
	close(fd);
	return 0;
}
