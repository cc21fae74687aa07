// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The TLS server context of vouchd and vouch-agent --mode pull (tls-server.h).
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <stdio.h>
#include <sys/stat.h>

#include <openssl/err.h>

#include "tls-server.h"

void tls_error(const char *prog, const char *what, const char *path)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	fprintf(stderr, "%s: %s '%s': %s\n", prog, what, path, e ? buf : "failed");
	ERR_clear_error();
}

SSL_CTX *tls_server_ctx(const char *prog, const char *cert, const char *key, const char *ca)
{
	SSL_CTX *ssl = SSL_CTX_new(TLS_server_method());
	STACK_OF(X509_NAME) *cas;
	struct stat sb;

	if (!ssl)
		return NULL;
	if (stat(key, &sb) == 0 && (sb.st_mode & 077)) {
		fprintf(stderr, "%s: '%s' is readable by group or others, refusing\n", prog, key);
		goto fail;
	}
	SSL_CTX_set_min_proto_version(ssl, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(ssl, TLS1_3_VERSION);
	/* an idle connection gives its ~34 KiB of read and write buffers back: agents keep
	 * their connection between rounds, so a node holds one per agent (bench/fleet) */
	SSL_CTX_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ssl, cert) != 1) {
		tls_error(prog, "cannot load certificate", cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ssl, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ssl) != 1) {
		tls_error(prog, "cannot load key", key);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ssl, ca, NULL) != 1 ||
	    !(cas = SSL_load_client_CA_file(ca))) {
		tls_error(prog, "cannot load CA", ca);
		goto fail;
	}
	SSL_CTX_set_client_CA_list(ssl, cas);
	SSL_CTX_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	return ssl;
fail:
	SSL_CTX_free(ssl);
	return NULL;
}
