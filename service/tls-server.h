/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The TLS server side shared by vouchd and a pull-mode vouch-agent: TLS 1.3 only, one
 * certificate chain and key, client certificates asked for (verified against @ca, not
 * demanded: each handler decides who may ask, with a 401/403 and a reason).
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_TLS_SERVER_H
#define VOUCH_TLS_SERVER_H

#include <openssl/ssl.h>

/* "PROG: WHAT 'PATH': OpenSSL's reason" on stderr, the error queue cleared */
void tls_error(const char *prog, const char *what, const char *path);

/* NULL after a message (a key readable by group or others is refused) */
SSL_CTX *tls_server_ctx(const char *prog, const char *cert, const char *key, const char *ca);

#endif
