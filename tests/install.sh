#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# meson install into a DESTDIR puts exactly the shipped files in their FHS places under the
# build's prefix: the binary, the shared libraries only (libvouch and libvouch-audit; no
# libvouch.a whose internal symbols could clash), the public headers, vouch.pc and
# vouch-audit.pc, every man page, the Coccinelle rules and the bash completion; the installed
# binary runs without the build tree and small programs build against the installed libraries
# with pkg-config.
set -u
src=${VOUCH_SRCDIR:?} build=${VOUCH_BUILDDIR:?}
n=0; fail=0
t() { n=$((n+1)); if [ -z "$2" ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; printf '%s\n' "$2" | head -20 | sed 's/^/#   /'; fail=1; fi; }
T=$(mktemp -d /tmp/vouch-install.XXXXXX); trap 'rm -rf "$T"' EXIT
D=$T/dest

opt() { meson introspect --buildoptions "$build" | jq -r --arg n "$1" '.[] | select(.name == $n) | .value'; }
prefix=$(opt prefix) libdir=$(opt libdir) datadir=$(opt datadir) mandir=$(opt mandir)
includedir=$(opt includedir) bindir=$(opt bindir) sbindir=$(opt sbindir)
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac
for v in datadir mandir includedir bindir sbindir; do case ${!v} in /*) ;; *) printf -v "$v" %s "$prefix/${!v}" ;; esac; done

out=$(DESTDIR= meson install -C "$build" --no-rebuild --destdir "$D" 2>&1) || { t "meson install --destdir" "$out"; echo "1..$n"; exit 1; }
t "meson install --destdir" ""

want=$( {
	echo "$bindir/vouch"
	echo "$libdir/libvouch.so"; echo "$libdir/libvouch.so.0"; echo "$libdir/libvouch.so.0.1.0"
	echo "$libdir/pkgconfig/vouch.pc"
	echo "$libdir/libvouch-audit.so"; echo "$libdir/libvouch-audit.so.0"; echo "$libdir/libvouch-audit.so.0.1.0"
	echo "$libdir/pkgconfig/vouch-audit.pc"
	for h in "$src"/include/vouch/*.h; do echo "$includedir/vouch/${h##*/}"; done
	for m in "$src"/man/*.[1-8]; do s=${m##*.}
		# vouchd(8) ships with vouchd, which -Dservice may leave out
		[ "${m##*/}" = vouchd.8 ] && [ ! -x "$build/service/vouchd" ] && continue
		[ "${m##*/}" = vouch-agent.1 ] && [ ! -x "$build/service/vouch-agent" ] && continue
		[ "${m##*/}" = vouch-fleet.1 ] && [ ! -x "$build/service/vouch-fleet" ] && continue
		echo "$mandir/man$s/${m##*/}"; done
	if [ -x "$build/service/vouchd" ]; then
		echo "$sbindir/vouchd"; echo "$prefix/lib/systemd/system/vouchd.service"
		echo "$prefix/libexec/vouch/vouch-demo-service"
		echo "$datadir/doc/vouch/vouchd.conf.example"
	fi
	if [ -x "$build/service/vouch-agent" ]; then
		echo "$bindir/vouch-agent"; echo "$prefix/lib/systemd/system/vouch-agent.service"
		echo "$datadir/doc/vouch/vouch-agent.conf.example"
	fi
	[ -x "$build/service/vouch-fleet" ] && echo "$bindir/vouch-fleet"
	# vouch guard: its unit and example configuration ship with the vouch program
	echo "$prefix/lib/systemd/system/vouch-guard.service"
	echo "$datadir/doc/vouch/guard.conf.example"
	echo "$datadir/vouch/audit/context.cocci"
	for r in "$src"/audit/rules/*.cocci; do echo "$datadir/vouch/audit/rules/${r##*/}"; done
	echo "$datadir/bash-completion/completions/vouch"
} | sort)
got=$(cd "$D" && find . -type f -o -type l | sed 's/^\.//' | sort)
t "the installed files are exactly the shipped ones, in the FHS places under $prefix" \
	"$(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | sed 's/^</missing:/; s/^>/unexpected:/')"

t "no static library is installed" "$(cd "$D" && find . -name '*.a')"
pc=$D$libdir/pkgconfig/vouch.pc
t "vouch.pc names the prefix" "$(grep -qx "prefix=$prefix" "$pc" 2>/dev/null || echo "no prefix=$prefix in vouch.pc")"
t "the binary looks for the rules where they are installed" \
	"$(grep -q "$datadir/vouch/audit" "$D$bindir/vouch" 2>/dev/null || echo "$datadir/vouch/audit not in the binary")"
rp=$(readelf -d "$D$bindir/vouch" 2>/dev/null | grep -E 'RPATH|RUNPATH' | grep -F "$build" || true)
t "the installed binary has no run path into the build tree" "$rp"
v=$(LD_LIBRARY_PATH=$D$libdir "$D$bindir/vouch" --version 2>&1)
t "the installed binary runs: $v" "$(grep -q '^vouch [0-9]' <<<"$v" || echo "$v")"
t "the bash completion parses" "$(bash -n "$D$datadir/bash-completion/completions/vouch" 2>&1)"

cat >"$T/prog.c" <<'EOC'
#include <stdio.h>
#include <vouch/vouch.h>
int main(void)
{
	vouch_ctx *ctx = NULL;
	if (vouch_ctx_new(&ctx) < 0)
		return 1;
	printf("libvouch %s\n", vouch_version());
	vouch_ctx_free(ctx);
	return 0;
}
EOC
flags=$(PKG_CONFIG_PATH=$D$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D PKG_CONFIG_LIBDIR= \
	pkg-config --cflags --libs vouch 2>&1)
t "pkg-config --cflags --libs vouch: $flags" "$(grep -q -- '-lvouch' <<<"$flags" || echo "$flags")"
# shellcheck disable=SC2086
cc_out=$(${CC:-cc} -Wall -Werror -o "$T/prog" "$T/prog.c" $flags 2>&1)
t "a small program builds against the installed library" "$cc_out"
run=$(LD_LIBRARY_PATH=$D$libdir "$T/prog" 2>&1)
t "and runs: $run" "$(grep -q '^libvouch [0-9]' <<<"$run" || echo "$run")"

cat >"$T/audit.c" <<'EOC'
#include <stdio.h>
#include <vouch/audit.h>
#include <vouch/vouch.h>
int main(void) { printf("libvouch %s, audit verdict 0: %s\n", vouch_version(), vouch_audit_verdict_name(0)); return 0; }
EOC
flags=$(PKG_CONFIG_PATH=$D$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D PKG_CONFIG_LIBDIR= \
	pkg-config --cflags --libs vouch-audit 2>&1)
t "pkg-config --cflags --libs vouch-audit: $flags" \
	"$(grep -q -- '-lvouch-audit.*-lvouch' <<<"$flags" || echo "$flags")"
# shellcheck disable=SC2086
cc_out=$(${CC:-cc} -Wall -Werror -o "$T/audit" "$T/audit.c" $flags 2>&1)
t "a small program builds against the installed libvouch-audit" "$cc_out"
run=$(LD_LIBRARY_PATH=$D$libdir "$T/audit" 2>&1)
t "and runs: $run" "$(grep -q '^libvouch [0-9].*audit verdict' <<<"$run" || echo "$run")"
echo "1..$n"
exit $fail
