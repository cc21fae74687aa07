#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vouch audit-kernel over Debian's linux-source-6.1 (issue 10): every consumer FORMATS.md
# section 9 lists is found with its verdict, every other one is in the reviewed
# linux-source-6.1.expected with a justification, and the run takes < 5 minutes on 2 cores.
# The tarball is unpacked once into $VOUCH_CACHE (default /var/cache/vouch, as the kernel
# rig), in a directory named for the package version, and reused by later runs.
. "$(dirname "$0")/lib.sh"
require_peer spatch coccinelle
require_peer jq jq
TARBALL=/usr/src/linux-source-6.1.tar.xz
[ -f "$TARBALL" ] || require_peer "$TARBALL" linux-source-6.1
VERSION=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null)
[ -n "$VERSION" ] || { not_ok "linux-source-6.1 is not installed"; done_testing; }
CACHE=${VOUCH_CACHE:-/var/cache/vouch}
TREE=$CACHE/linux-source-6.1-$VERSION
EXPECTED=$TVEC/audit/linux-source-6.1.expected

if [ ! -f "$TREE/.vouch-complete" ]; then
	diag "unpacking $TARBALL into $TREE (once)"
	mkdir -p "$CACHE" && tmp=$(mktemp -d "$CACHE/.unpack.XXXXXX") &&
		tar -xJf "$TARBALL" -C "$tmp" && touch "$tmp/linux-source-6.1/.vouch-complete" &&
		rm -rf "$TREE" && mv "$tmp/linux-source-6.1" "$TREE" && rmdir "$tmp" ||
		{ not_ok "cannot unpack $TARBALL into $CACHE"; done_testing; }
fi
ok "kernel tree cached at $TREE"

grep -q "($VERSION)" "$EXPECTED" || diag "warning: $EXPECTED was reviewed for another version than $VERSION"
start=$(date +%s.%N)
expect_rc 0 "audit linux-source-6.1 on 2 cores" "$VOUCH" audit-kernel --json --jobs 2 \
	--data-dir "$VOUCH_SRCDIR/audit" "$TREE"
end=$(date +%s.%N)
cp "$T/.out" "$T/full.json"
wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
diag "wall $wall s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
diag "$(jq -r '.stats | "prefilter \(.prefilter_seconds) s over \(.files_scanned) files, \(.candidates) candidates, \(.spatch_runs) spatch runs"' "$T/full.json")"
jq -r '.rules[] | "rule \(.name): \(.files) files, \(.matches) matches, \(.seconds) s wall, \(.cpu_seconds) s cpu"' \
	"$T/full.json" | while read -r l; do diag "$l"; done
if awk -v w="$wall" 'BEGIN { exit !(w < 300) }'; then ok "full run under 5 minutes (${wall}s)"
else not_ok "full run under 5 minutes (${wall}s)"; fi

# item 1: the FORMATS.md section 9 list, each with its verdict
verdict() { jq -r --arg f "$1" --arg c "${2:-}" '[.consumers[] | select(.function==$f and
	($c=="" or .callee==$c or .id==$c)) | .verdict] | unique | join(",")' "$T/full.json"; }
eq "finit_module: measured" "$(verdict finit_module)" measured
eq "init_module: deny-only" "$(verdict copy_module_from_user)" deny-only
eq "kexec_file_load image: measured" "$(verdict kimage_file_prepare_segments READING_KEXEC_IMAGE)" measured
eq "kexec_file_load initramfs: measured" "$(verdict kimage_file_prepare_segments READING_KEXEC_INITRAMFS)" measured
eq "kexec_load: deny-only" "$(verdict kexec_load_check)" deny-only
eq "firmware loader: measured" "$(verdict fw_get_filesystem_firmware)" measured
eq "firmware sysfs fallback: deny-only" "$(verdict fw_run_sysfs_fallback)" deny-only
eq "firmware sysfs 'loading': deny-only" "$(verdict firmware_loading_store)" deny-only
eq "firmware sysfs 'data': deny-only" "$(verdict firmware_data_write)" deny-only
eq "IMA policy load: measured" "$(verdict ima_read_policy)" measured
eq "x509 loading: measured" "$(verdict integrity_load_x509)" measured
eq "SELinux load: no hook" "$(verdict sel_write_load)" no-hook
eq "Smack rule writes: no hook" "$(verdict smk_write_rules_list)" no-hook
eq "AppArmor .load/.replace: no hook" "$(verdict policy_update aa_replace_profiles)" no-hook
eq "AppArmor entries" "$(jq -r '.consumers[] | select(.function=="policy_update") | .entry' "$T/full.json")" \
	"write '.load', write '.replace'"
eq "SELinux entry" "$(jq -r '.consumers[] | select(.function=="sel_write_load") | .entry' "$T/full.json")" "write 'load'"
for c in do_ipt_set_ctl do_ip6t_set_ctl do_arpt_set_ctl do_ebt_set_ctl; do
	eq "$c SET_REPLACE: no hook" "$(verdict "$c")" no-hook
done
eq "BPF_PROG_LOAD: no hook" "$(verdict __sys_bpf bpf_prog_load)" no-hook
eq "seccomp: no hook" "$(verdict seccomp_prepare_filter)" no-hook

# item 2: the whole report equals the reviewed file, and every row there is justified
rows=$(jq -r '.consumers[] | [(.file+":"+(.line|tostring)), .function,
	(if .callee=="" then "-" else .callee end), .verdict, (if .id=="" then "-" else .id end)] | @tsv' "$T/full.json")
want=$(grep -v '^#' "$EXPECTED" | sed 's/\t# .*//')
eq "report equals linux-source-6.1.expected ($(echo "$rows" | wc -l) consumers)" "$rows" "$want"
[ "$rows" = "$want" ] || diff <(echo "$want") <(echo "$rows") | sed 's/^/# /'
eq "every expected row carries a justification" \
	"$(grep -v '^#' "$EXPECTED" | grep -cvP '\t# (§9|extra)[^\t]{10,}$')" 0
eq "every extra says why" "$(grep -c $'\t# extra' "$EXPECTED")" \
	"$(grep -cP '\t# extra[^\t]*(real consumer|rule to|same)' "$EXPECTED")"
done_testing
