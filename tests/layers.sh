#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The library's layers (docs/ARCHITECTURE.md): a module of lib/ includes only the internal
# headers of its own layer and of the layers below it, and no two modules include each
# other's.  A module is a file name up to its first '-' (log-sig.c, log-internal.h: log).
# Also: no file in lib/ over 900 lines, no prototype inside a .c file of lib/, no function
# over 120 lines in lib/, programs/, service/ or guard/.
SRC=${VOUCH_SRCDIR:-$(dirname "$0")/..}
. "$(dirname "$0")/integration/lib.sh"

declare -A layer=(
	[alloc]=0 [ctx]=0 [fileio]=0 [hash]=0 [hex]=0 [strbuf]=0 [json]=0 [internal]=0
	[cursor]=0 [openssl]=0 [config]=0 [cleanup]=0
	[key]=1 [keyring]=1 [sigv2]=1
	[modsig]=2 [ima]=2 [evm]=2 [log]=2 [cpio]=2
	[quote]=3 [eventlog]=3 [tpm]=3 [evidence]=3 [credential]=3
	[policy]=4 [engine]=4 [attest]=4 [reference]=4 [audit]=4
)
names=(base keys formats tpm engine/attest)
module() { local b=${1##*/}; b=${b%.c}; b=${b%.h}; b=${b%-internal}; echo "${b%%-*}"; }

declare -A edge=()
bad=0 unknown=0
for f in "$SRC"/lib/*.c "$SRC"/lib/*.h; do
	m=$(module "$f")
	if [ -z "${layer[$m]+x}" ]; then
		not_ok "lib/${f##*/}: module '$m' has no layer in tests/layers.sh"; unknown=1; continue
	fi
	while read -r inc; do
		i=$(module "$inc")
		[ "$i" = "$m" ] && continue
		[ -z "${layer[$i]+x}" ] && continue # not a module of lib/ (e.g. a generated header)
		edge[$m,$i]=1
		if [ "${layer[$i]}" -gt "${layer[$m]}" ]; then
			echo "# lib/${f##*/} (${names[${layer[$m]}]}) includes $inc (${names[${layer[$i]}]})"
			bad=1
		fi
	done < <(sed -n 's/^#include "\([a-z0-9-]*\.h\)".*/\1/p' "$f")
done
[ $bad = 0 ] && ok "every lib/ file includes only headers of its own layer or below" ||
	not_ok "every lib/ file includes only headers of its own layer or below"

cycles=
for e in "${!edge[@]}"; do
	a=${e%,*} b=${e#*,}
	[ -n "${edge[$b,$a]+x}" ] && [[ $a < $b ]] && cycles+=" $a<->$b"
done
[ -z "$cycles" ] && ok "no two lib/ modules include each other's headers" ||
	not_ok "no two lib/ modules include each other's headers:$cycles"

big=$(wc -l "$SRC"/lib/*.c "$SRC"/lib/*.h | awk '$2 != "total" && $1 > 900 { print $2 " (" $1 ")" }')
[ -z "$big" ] && ok "no file in lib/ is over 900 lines" || not_ok "files in lib/ over 900 lines: $big"

# a prototype in a .c file: a declaration at column 0 that ends in ');' (static ones are
# forward declarations of the file's own functions, allowed where recursion needs them)
protos=$(grep -nE '^[a-z][a-z0-9_ *]*[ *][a-z_][a-z0-9_]*\(.*\);$' "$SRC"/lib/*.c | grep -v ':static ' |
	grep -vE ':(return|if|while|for)\b' | sed "s|$SRC/||")
[ -z "$protos" ] && ok "no prototype of another file's function inside a lib/ .c file" ||
	not_ok "prototypes inside lib/ .c files: $protos"
# no function over 120 lines: from a line starting with '{' to the next starting with '}'
long=$(awk '/^\{/ { s = FNR } /^\}/ { if (s && FNR - s + 1 > 120) printf " %s:%d(%d)", FILENAME, s, FNR - s + 1; s = 0 }' \
	"$SRC"/lib/*.c "$SRC"/programs/*.c "$SRC"/service/*.c "$SRC"/guard/*.c | sed "s|$SRC/||g")
[ -z "$long" ] && ok "no function in lib/, programs/, service/ or guard/ is over 120 lines" ||
	not_ok "functions over 120 lines:$long"
[ $unknown = 0 ] && ok "every lib/ module has a layer" || true
done_testing
