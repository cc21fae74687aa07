/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sd_notify() for vouchd and vouch-agent: libsystemd's when it was found at build time, a
 * no-op otherwise (the programs then run as Type=simple services).  Without NOTIFY_SOCKET in
 * the environment libsystemd's calls do nothing either.
 *
 * Copyright (C) 2026 The vouch authors
 */
#ifndef VOUCH_SERVICE_NOTIFY_H
#define VOUCH_SERVICE_NOTIFY_H

#include <stdint.h>

#include "config.h"

#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#else
static inline int sd_notify(int unset_environment, const char *state)
{
	(void)unset_environment;
	(void)state;
	return 0;
}

__attribute__((format(printf, 2, 3)))
static inline int sd_notifyf(int unset_environment, const char *format, ...)
{
	(void)unset_environment;
	(void)format;
	return 0;
}

static inline int sd_watchdog_enabled(int unset_environment, uint64_t *usec)
{
	(void)unset_environment;
	(void)usec;
	return 0;
}
#endif

#endif
