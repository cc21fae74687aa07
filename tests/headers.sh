#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every public header compiles on its own, with -pedantic -Werror, as C and as C++; the
# umbrella vouch/vouch.h is libvouch's alone (vouch/audit.h is libvouch-audit's).
set -u
inc=$1
cc=${CC:-cc}
cxx=${CXX:-c++}
n=0; fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for h in "$inc"/vouch/*.h; do
	name=vouch/$(basename "$h")
	printf '#include <%s>\n#include <%s>\nint main(void) { return 0; }\n' "$name" "$name" > "$tmp/t.c"
	n=$((n+1))
	if out=$($cc -std=c11 -Wall -Wextra -pedantic -Werror -I"$inc" -c "$tmp/t.c" -o "$tmp/t.o" 2>&1); then
		echo "ok $n - $name compiles alone as C11"
	else
		echo "not ok $n - $name compiles alone as C11"; echo "$out" | sed 's/^/# /'; fail=1
	fi
	cp "$tmp/t.c" "$tmp/t.cc"
	n=$((n+1))
	if ! command -v "$cxx" >/dev/null; then
		echo "ok $n # SKIP no C++ compiler"
	elif out=$($cxx -std=c++11 -Wall -Wextra -pedantic -Werror -I"$inc" -c "$tmp/t.cc" -o "$tmp/t.o" 2>&1); then
		echo "ok $n - $name compiles alone as C++11"
	else
		echo "not ok $n - $name compiles alone as C++11"; echo "$out" | sed 's/^/# /'; fail=1
	fi
done
n=$((n+1))
if grep -q '^#include <vouch/audit\.h>' "$inc/vouch/vouch.h"; then
	echo "not ok $n - vouch/vouch.h includes vouch/audit.h, which -lvouch does not provide"; fail=1
else
	echo "ok $n - vouch/vouch.h leaves out vouch/audit.h (libvouch-audit)"
fi
echo "1..$n"
exit $fail
