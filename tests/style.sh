#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# House rules that a compiler does not check: SPDX lines, banned functions, a library that
# never prints.
set -u
cd "${VOUCH_SRCDIR:?}"
n=0; fail=0
t() { n=$((n+1)); if [ -z "$2" ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; printf '%s\n' "$2" | head -20 | sed 's/^/#   /'; fail=1; fi; }

# tests/vectors/ holds the peers' vectors byte for byte (blob.c is sign-file's input): data
# (a release tarball has no git: the same files found by find, filtered the same way)
src=$( { git ls-files 2>/dev/null ||
	find include lib common programs tests fuzz bench scripts audit .ci -type f 2>/dev/null; } |
	grep -E '\.(c|h|sh|cocci|build)$|^bench/|^scripts/|^\.ci/' | grep -v '^tests/vectors/')
missing=$(for f in $src; do [ -f "$f" ] || continue; head -3 "$f" | grep -q 'SPDX-License-Identifier' || echo "$f"; done)
t "every source file has an SPDX line" "$missing"

code=$(ls -d include lib common programs service guard fuzz 2>/dev/null)
banned=$(grep -rnE '\b(sprintf|vsprintf|strcpy|strcat|gets|atoi|atol|atoll|system|popen|alloca|strtok|basename|dirname)[[:space:]]*\(' $code --include='*.c' --include='*.h' | grep -v '^\s*/[/*]' || true)
t "no banned functions (sprintf, strcpy, strcat, atoi, system, popen, alloca, strtok, ...)" "$banned"

exits=$(grep -rnE '\bexit[[:space:]]*\(' lib programs service guard --include='*.c' | grep -v 'programs/vouch\.c' || true)
t "no exit() outside main" "$exits"

prints=$(grep -rnE '\b(printf|fprintf|puts|fputs|perror|vfprintf)[[:space:]]*\(' lib --include='*.c' | grep -vE 'snprintf|vsnprintf' || true)
t "the library never prints" "$prints"

memcmp_secret=$(grep -rnE 'memcmp\([^)]*(mac|hmac|digest)' lib --include='*.c' | grep -v CRYPTO_memcmp || true)
t "digests and MACs are compared with CRYPTO_memcmp" "$memcmp_secret"
echo "1..$n"
exit $fail
