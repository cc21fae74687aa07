// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
//
// vouch-rule: firmware-sysfs
// vouch-summary: firmware sysfs fallback: the bin_attribute 'data' write that receives the image
// vouch-tokens: bin_attribute
// vouch-scope: drivers/base/firmware_loader/
//
// With the sysfs fallback, userspace (udev, or anything with write access) writes the
// firmware image into /sys/class/firmware/<dev>/data; writing 0 to 'loading' commits it.
// The handler that commits is reported as related: the hook it calls guards the data.

@battr@
identifier a, h;
@@
struct bin_attribute a = { ..., .write = h, ... };

@commit@
identifier c;
expression E1, E2, E3, E4;
@@
c(...) { <+... security_kernel_post_load_data(E1, E2, E3, E4) ...+> }

@consumer@
identifier battr.h;
position p;
@@
h@p(...) { ... }

@script:python@
h << battr.h;
p << consumer.p;
c << commit.c = "";
@@
vouch_emit("consumer", p, fn=h, takes="buffer", related=c)
