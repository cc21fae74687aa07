/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cpio internals shared by the reader, the extractor and the appraiser.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_CPIO_INTERNAL_H
#define VOUCH_LIB_CPIO_INTERNAL_H

#include <vouch/cpio.h>

/* Number of TRAILER!!! members consumed so far: hard-link state resets at each one. */
unsigned cpio_reader_archive_no(const vouch_cpio_reader *r);
/* The context the reader reports errors to. */
vouch_ctx *cpio_reader_ctx(const vouch_cpio_reader *r);

#endif /* VOUCH_LIB_CPIO_INTERNAL_H */
