/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouch: umbrella header of libvouch (the kernel audit's vouch/audit.h is libvouch-audit's)
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_VOUCH_H
#define VOUCH_VOUCH_H

#include <vouch/ctx.h>
#include <vouch/digest.h>
#include <vouch/key.h>
#include <vouch/modsig.h>
#include <vouch/ima.h>
#include <vouch/evm.h>
#include <vouch/keyring.h>
#include <vouch/log.h>
#include <vouch/cpio.h>
#include <vouch/quote.h>
#include <vouch/eventlog.h>
#include <vouch/tpm.h>
#include <vouch/evidence.h>
#include <vouch/policy.h>
#include <vouch/engine.h>
#include <vouch/attest.h>
#include <vouch/credential.h>
#include <vouch/reference.h>

#endif /* VOUCH_VOUCH_H */
