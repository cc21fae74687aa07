/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cpio internals shared by the reader, the extractor and the appraiser.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_CPIO_INTERNAL_H
#define VOUCH_LIB_CPIO_INTERNAL_H

#include <vouch/cpio.h>
#include <vouch/digest.h>

/* Number of TRAILER!!! members consumed so far: hard-link state resets at each one. */
unsigned cpio_reader_archive_no(const vouch_cpio_reader *r);
/* The context the reader reports errors to. */
vouch_ctx *cpio_reader_ctx(const vouch_cpio_reader *r);

/*
 * Appraise one security.ima value against digests of the content.  @digests holds one digest
 * per algorithm that was computed (any order).  Fills @a's result, kind, algo, keyid, message.
 */
int ima_xattr_appraise(vouch_ctx *ctx, const vouch_trust *trust, uint32_t flags,
		       const uint8_t *value, size_t len, const struct vouch_digest *digests,
		       size_t n_digests, struct vouch_cpio_appraisal *a);

#endif /* VOUCH_LIB_CPIO_INTERNAL_H */
