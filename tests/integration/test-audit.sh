#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vouch audit-kernel over the synthetic tree in tests/vectors/audit/tree: every rule finds
# its positive example, no negative example (functions named neg_*) is reported, the
# report equals the reviewed synthetic.expected, and bad command lines fail cleanly.
. "$(dirname "$0")/lib.sh"
require_peer spatch coccinelle
require_peer jq jq
AUD=("$VOUCH" audit-kernel --data-dir "$VOUCH_SRCDIR/audit" --jobs 2)
TREE=$TVEC/audit/tree

expect_rc 0 "audit the synthetic tree" "${AUD[@]}" --json "$TREE"
cp "$T/.out" "$T/syn.json"
rows=$(jq -r '.consumers[] | [(.file+":"+(.line|tostring)), .function,
	(if .callee=="" then "-" else .callee end), .verdict, (if .id=="" then "-" else .id end),
	.entry] | @tsv' "$T/syn.json")
want=$(grep -v '^#' "$TVEC/audit/synthetic.expected")
eq "report equals synthetic.expected" "$rows" "$want"
[ "$rows" = "$want" ] || diff <(echo "$want") <(echo "$rows") | sed 's/^/# /'

# every rule shipped has a positive example that it matches, and says what it cost
for r in "$VOUCH_SRCDIR"/audit/rules/*.cocci; do
	name=$(sed -n 's,^// vouch-rule: ,,p' "$r")
	m=$(jq -r --arg n "$name" '.rules[] | select(.name==$n) | .matches' "$T/syn.json")
	s=$(jq -r --arg n "$name" '.rules[] | select(.name==$n) | .seconds' "$T/syn.json")
	if [ -n "$m" ] && [ "$m" -ge 1 ]; then ok "rule $name matches its positive example ($m, ${s}s)"
	else not_ok "rule $name matches its positive example (got '${m}')"; fi
done
eq "no negative example is reported" \
	"$(jq -r '.consumers[] | select(.function | startswith("neg_")) | .function' "$T/syn.json")" ""
eq "policy-write stays inside security/" \
	"$(jq -r '.consumers[] | select(.rule=="policy-write") | .file' "$T/syn.json" | grep -vc '^security/')" 0
eq "kernel_read_file wrappers are the API, not consumers" \
	"$(jq -r '.consumers[] | select(.file=="fs/kernel_read_file.c") | .function' "$T/syn.json")" ""
eq "hooks come from the tree's security.h, not every security_*() name" \
	"$(jq -r '.consumers[] | select(.function=="__sys_bpf") | .hooks | join(" ")' "$T/syn.json")" \
	"security_bpf security_bpf_prog_alloc"

# the readable table has the same rows and the per-rule timings
expect_rc 0 "table output" "${AUD[@]}" "$TREE"
cp "$T/.out" "$T/table.txt"
check "table names finit_module" grep -q 'kernel/module.c:10  finit_module()' "$T/table.txt"
check "table gives the verdict" grep -q 'verdict: measured and appraisable' "$T/table.txt"
check "table gives rule timings" grep -qE '^kernel-read-file +[0-9]+ +[0-9]+ +[0-9.]+' "$T/table.txt"

# usage and runtime errors
expect_rc 2 "no tree" "$VOUCH" audit-kernel
expect_rc 2 "two trees" "$VOUCH" audit-kernel "$TREE" "$TREE"
expect_rc 2 "--json twice" "$VOUCH" audit-kernel --json --json "$TREE"
expect_rc 2 "bad --jobs" "$VOUCH" audit-kernel --jobs 0 "$TREE"
expect_rc 3 "missing tree" "${AUD[@]}" "$T/no-such-tree"
one_line_err "missing tree named" "$T/no-such-tree"
expect_rc 3 "missing rules" "$VOUCH" audit-kernel --data-dir "$T/none" "$TREE"
one_line_err "missing rules named" "$T/none"
expect_rc 3 "missing spatch" "${AUD[@]}" --spatch "$T/no-spatch" "$TREE"
one_line_err "missing spatch named" "no-spatch"
mkdir -p "$T/bad/rules"; cp "$VOUCH_SRCDIR/audit/context.cocci" "$T/bad/"
printf '// vouch-rule: broken\n// vouch-tokens: kernel_read_file\n@@\nthis is not smpl\n' >"$T/bad/rules/broken.cocci"
expect_rc 3 "a rule spatch rejects" "$VOUCH" audit-kernel --data-dir "$T/bad" "$TREE"
one_line_err "rejected rule named" "rule 'broken'"
done_testing
