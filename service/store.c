/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vouchd storage: pick the backend from the form of the data source name.
 *
 * A libpq URI (postgresql://, postgres://) or a libpq keyword string (host=..., dbname=...)
 * names PostgreSQL; anything else is a path to an SQLite file.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <string.h>

#include "store.h"

static bool is_pg_dsn(const char *dsn)
{
	static const char *const prefixes[] = { "postgresql://", "postgres://", "host=",
						"dbname=", "service=", NULL };

	for (size_t i = 0; prefixes[i]; i++)
		if (strncmp(dsn, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

const struct store_ops *store_backend(const char *dsn)
{
	if (is_pg_dsn(dsn))
		return store_pg_ops;
	return &store_sqlite_ops;
}

int store_open(const char *dsn, unsigned flags, struct store **ret)
{
	const struct store_ops *ops = store_backend(dsn);

	if (!ops)
		return -EPROTONOSUPPORT;
	return ops->open(dsn, flags, ret);
}

#ifndef VOUCHD_HAVE_LIBPQ
const struct store_ops *const store_pg_ops = NULL;
#endif
