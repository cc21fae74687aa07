// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
//
// vouch-rule: sockopt-replace
// vouch-summary: setsockopt rule-table replacement (iptables, ip6tables, arptables, ebtables)
// vouch-tokens: SO_SET_REPLACE EBT_SO_SET_ENTRIES
//
// The setsockopt handler of each x_tables family: the case label that replaces a whole
// rule table from a user buffer (IPT_SO_SET_REPLACE and friends; ebtables calls it
// EBT_SO_SET_ENTRIES).  Only ns_capable() guards it; no integrity hook sees the blob.

@consumer@
identifier fn;
identifier C =~ "^((IPT|IP6T|ARPT)_SO_SET_REPLACE|EBT_SO_SET_ENTRIES)$";
statement S;
position p;
@@
fn(...) { <+... switch (...) { case C@p: S ... } ...+> }

@script:python@
fn << consumer.fn;
p << consumer.p;
C << consumer.C;
@@
vouch_emit("consumer", p, fn=fn, id=C, entry="setsockopt(%s)" % C, takes="buffer")
