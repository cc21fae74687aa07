/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The attestation module's internals, shared by attest.c (the verification) and
 * attest-state.c (the state kept between rounds).
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_LIB_ATTEST_INTERNAL_H
#define VOUCH_LIB_ATTEST_INTERNAL_H

#include "reference-internal.h"

/* the largest JSON document (reference values, state) attestation reads */
#define ATTEST_JSON_MAX REFERENCE_JSON_MAX

#endif /* VOUCH_LIB_ATTEST_INTERNAL_H */
