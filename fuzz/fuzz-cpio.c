// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz the initramfs reader: newc/crc/newcx headers, METADATA!!! records, NUL padding,
 * gzip/zstd/xz segments and concatenation; then the appraiser over the same bytes, which
 * parses every security.ima it finds.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdint.h>
#include <stdlib.h>

#include <vouch/vouch.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* set up once per run: an empty trust store, and the context's digest cache */
	static vouch_ctx *ctx;
	static vouch_trust *trust;
	vouch_cpio_reader *r = NULL;
	struct vouch_cpio_entry e;
	uint8_t buf[4096];

	if (!ctx && vouch_ctx_new(&ctx) < 0)
		return 0;
	if (!trust && vouch_trust_new(ctx, &trust) < 0)
		return 0;
	if (vouch_cpio_reader_new_mem(ctx, data, size, &r) == 0) {
		int k;

		while ((k = vouch_cpio_reader_next(r, &e)) > 0) {
			size_t got;

			for (size_t i = 0; i < e.n_xattrs; i++)
				if (!e.xattrs[i].name[0])
					abort();
			/* read half the members fully, skip the others */
			if (e.ino & 1)
				continue;
			do
				k = vouch_cpio_reader_read(r, buf, sizeof(buf), &got);
			while (k == 0 && got);
			if (k < 0)
				break;
		}
		vouch_cpio_reader_free(r);
	}
	if (vouch_cpio_reader_new_mem(ctx, data, size, &r) == 0) {
		vouch_cpio_appraise(r, trust, VOUCH_CPIO_APPRAISE_ALLOW_DIGEST, NULL, NULL);
		vouch_cpio_reader_free(r);
	}
	return 0;
}
