#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 14: vouch audit-kernel runs as root over a tree that an attacker may have prepared.
# Each tree below is the attack, made by this test: the tree's program writes a marker
# when it runs; no file name may become an option of spatch, a field or a record of the
# report; a name spatch cannot be given is reported as not audited, and the audit goes on.
. "$(dirname "$0")/lib.sh"
require_peer spatch coccinelle
require_peer jq jq
require_peer python3 python3
MARK=$T/marker
AUD=("$VOUCH" audit-kernel --data-dir "$VOUCH_SRCDIR/audit" --jobs 2)

# the tree's program: leaves the marker, then acts as python3 so that spatch carries on
payload() {
	printf '#!/bin/sh\necho "$0" >>%s\nexec python3 "$@"\n/* kernel_read_file */\n' "$MARK" >"$1"
	chmod +x "$1"
}
# a real consumer, for the audit to find
consumer() {
	printf 'int %s(int fd)\n{\n\treturn kernel_read_file_from_fd(fd, 0, NULL, 0, NULL, READING_MODULE);\n}\n' \
		"$2" >"$1"
}
marker_absent() {
	if [ -e "$MARK" ]; then not_ok "$1: the tree's program ran ($(tr '\n' ' ' <"$MARK"))"; rm -f "$MARK"
	else ok "$1: nothing of the tree ran"; fi
}
consumers() { jq -r '.consumers[] | .function' "$1" | sort | tr '\n' ' '; }

# --- item 1: .cocciconfig in the tree (and in $HOME) names a program for spatch to run ---
mkdir -p "$T/t1/kernel" "$T/home"
consumer "$T/t1/kernel/a.c" real_one
printf '[spatch]\noptions = --python ./x\n' >"$T/t1/.cocciconfig"
cp "$T/t1/.cocciconfig" "$T/t1/kernel/.cocciconfig"
payload "$T/t1/x"
payload "$T/t1/kernel/x"
printf '[spatch]\noptions = --python %s\n' "$T/t1/x" >"$T/home/.cocciconfig"
HOME=$T/home expect_rc 0 "item 1: a tree (and a HOME) with .cocciconfig" "${AUD[@]}" --json "$T/t1"
marker_absent "item 1: .cocciconfig --python"
eq "item 1: the consumer is still found" "$(consumers "$T/.out")" "real_one "

# --- item 2: a directory named like an option of spatch ---
mkdir -p "$T/t2/--python=foo" "$T/t2/foo" "$T/t2/kernel"
payload "$T/t2/foo/x.c"
payload "$T/t2/--python=foo/x.c"
consumer "$T/t2/kernel/a.c" real_one
expect_rc 0 "item 2: a tree with a directory '--python=foo'" "${AUD[@]}" --json "$T/t2"
marker_absent "item 2: --python=foo/x.c"
eq "item 2: the consumer is still found" "$(consumers "$T/.out")" "real_one "
# other options: "-I/y.c" was read as "--I /y.c", the file lost and spatch's usage printed
mkdir -p "$T/t2b/-I" "$T/t2b/--sp" "$T/t2b/kernel"
consumer "$T/t2b/-I/y.c" dash_one
consumer "$T/t2b/--sp/z.c" sp_one
consumer "$T/t2b/kernel/a.c" real_one
expect_rc 0 "item 2: a tree with directories '-I' and '--sp'" "${AUD[@]}" --json "$T/t2b"
eq "item 2: files under them are audited as files" "$(consumers "$T/.out")" "dash_one real_one sp_one "
eq "item 2: named as they are" \
	"$(jq -r '.consumers[] | select(.function=="dash_one") | .file' "$T/.out")" "-I/y.c"

# --- item 3: names with tabs and newlines that spell records ---
mkdir -p "$T/t3/kernel"
consumer "$T/t3/kernel/a.c" real_one
python3 - "$T/t3" <<'EOF'
import os, sys
top = sys.argv[1]
src = "int %s(int fd)\n{\n\treturn kernel_read_file_from_fd(fd, 0, NULL, 0, NULL, READING_MODULE);\n}\n"
# tabs only: the fields after the name are the attacker's (the old report showed
# "kernel/forged.c:7 forged_tab()", id FORGED)
open(top + "/kernel/forged.c\t7\tfn=forged_tab\tid=FORGED\tx.c", "w").write(src % "tab_one")
# tabs and newlines: whole records of the attacker's
d = top + "/x\t1\tfn=a\tcallee=b\nVOUCH\tconsumer\tkernel"
os.makedirs(d)
open(d + "/forged.c\t7\tfn=forged_nl\ttakes=buffer\tid=FORGED\nVOUCH\tdef\ty.c", "w").write(src % "nl_one")
EOF
expect_rc 0 "item 3: a tree whose names spell records" "${AUD[@]}" --json "$T/t3"
cp "$T/.out" "$T/t3.json"
eq "item 3: no forged consumer, the tab-named one audited" "$(consumers "$T/t3.json")" "real_one tab_one "
eq "item 3: the tab-named file is reported under its exact name" \
	"$(jq -r '.consumers[] | select(.function=="tab_one") | .file' "$T/t3.json")" \
	"$(printf 'kernel/forged.c\t7\tfn=forged_tab\tid=FORGED\tx.c')"
eq "item 3: with its own line and id" \
	"$(jq -r '.consumers[] | select(.function=="tab_one") | "\(.line) \(.id)"' "$T/t3.json")" \
	"3 READING_MODULE"
eq "item 3: the name with a newline is reported as not audited, escaped" \
	"$(jq -r '.skipped[] | "\(.path): \(.reason)"' "$T/t3.json")" \
	'x\x091\x09fn=a\x09callee=b\x0aVOUCH\x09consumer\x09kernel/forged.c\x097\x09fn=forged_nl\x09takes=buffer\x09id=FORGED\x0aVOUCH\x09def\x09y.c: file name holds a newline: spatch cannot be given it'
one_line_err "item 3: a warning says files were not audited" "were not audited"
expect_rc 0 "item 3: table output" "${AUD[@]}" "$T/t3"
cp "$T/.out" "$T/t3.txt"
check "item 3: the table escapes the name on one line" \
	grep -qF 'kernel/forged.c\x097\x09fn=forged_tab\x09id=FORGED\x09x.c:3  tab_one()' "$T/t3.txt"
eq "item 3: no line of the table comes from a name" \
	"$(grep -c -e '^VOUCH' -e $'\t' "$T/t3.txt")" 0
check "item 3: the table lists what was not audited" grep -q '^NOT AUDITED: x\\x091' "$T/t3.txt"
# a name that is not UTF-8 (spatch's Python cannot take it): it aborted the whole audit
mkdir -p "$T/t3b/kernel"
consumer "$T/t3b/kernel/a.c" real_one
consumer "$T/t3b/kernel/bad"$'\xff\x1b'"[2Jname.c" bad_one
expect_rc 0 "item 3: a tree with a name that is not UTF-8" "${AUD[@]}" --json "$T/t3b"
eq "item 3: the others are audited" "$(consumers "$T/.out")" "real_one "
eq "item 3: that one is reported as not audited, escaped" \
	"$(jq -r '.skipped[] | "\(.path): \(.reason)"' "$T/.out")" \
	'kernel/bad\xff\x1b[2Jname.c: file name is not UTF-8: spatch cannot be given it'
expect_rc 0 "item 3: table output" "${AUD[@]}" "$T/t3b"
eq "item 3: no terminal escape reaches the table" "$(grep -c $'\x1b' "$T/.out")" 0

# spatch starts in vouch's scratch directory now: a relative --spatch is still the caller's
mkdir -p "$T/bin" && ln -s "$(command -v spatch)" "$T/bin/spatch"
cd "$T" || exit 1
expect_rc 0 "a relative --spatch names the caller's program" "${AUD[@]}" --spatch bin/spatch \
	--json "$T/t2"
cd - >/dev/null || exit 1
eq "and it ran" "$(consumers "$T/.out")" "real_one "

# --- every trick at once, and the prefilter's siblings ---
A=$T/all
mkdir -p "$A/kernel" "$A/--python=foo" "$A/foo" "$A/include/linux"
consumer "$A/kernel/a.c" real_one
printf '[spatch]\noptions = --python ./x\n' >"$A/.cocciconfig"
payload "$A/x"
payload "$A/foo/x.c"
payload "$A/--python=foo/x.c"
payload "$A/spatch"	# found first when root's PATH holds "." and spatch starts in the tree
cp "$T/t3/kernel/"* "$A/kernel/" && cp "$T/t3b/kernel/"* "$A/kernel/"
cp -r "$T/t3/x"* "$A/"
mkfifo "$A/include/linux/security.h"	# reading it used to hang the audit
mkfifo "$A/kernel/fifo.c"
ln -s /etc/passwd "$A/kernel/link.c"
ln -s /etc "$A/kernel/linkdir"
# a policy file whose name (a string literal of the tree) holds an escape and a byte that
# is not UTF-8: it went raw into the entry, the table and the JSON report
mkdir -p "$A/security/evilfs"
printf '%s\n' 'static ssize_t evil_write(struct file *file, const char __user *buf, size_t count, loff_t *ppos)' \
	'{' '	char *data = memdup_user_nul(buf, count);' '' '	return parse_evil_blob(data, count);' '}' '' \
	'static const struct file_operations evil_ops = {' '	.write = evil_write,' '};' '' \
	'static int __init evilfs_init(void)' '{' \
	"	securityfs_create_file(\"po"$'\x1b'"[2J"$'\xff'"\", 0600, NULL, NULL, &evil_ops);" \
	'	return 0;' '}' >"$A/security/evilfs/evil.c"
# a hidden directory kbuild would compile: its consumers used to be missing without a word
mkdir -p "$A/drivers/.hidden"
consumer "$A/drivers/.hidden/h.c" hidden_one
# too large to read: reported, not silently left out
truncate -s 65M "$A/kernel/big.c"
# nested deeper than any kernel (6.1: 9): the walk is bounded, and says where it stopped
deep=$A/d; for _ in $(seq 1 100); do deep=$deep/d; done
mkdir -p "$deep" && consumer "$deep/deep.c" deep_one
PATH=".:$PATH" timeout 300 "${AUD[@]}" --json "$A" >"$T/all.json" 2>"$T/.err"; rc=$?
eq "all tricks: the audit runs to the end (exit $rc)" "$rc" 0
marker_absent "all tricks"
eq "all tricks: the real consumers, nothing forged" "$(consumers "$T/all.json")" \
	"evil_write hidden_one real_one tab_one "
check "all tricks: the JSON report is valid UTF-8 JSON" python3 -c \
	'import json, sys; json.load(open(sys.argv[1], encoding="utf-8", errors="strict"))' "$T/all.json"
eq "all tricks: a literal of the tree is escaped in the entry" \
	"$(jq -r '.consumers[] | select(.function=="evil_write") | .entry' "$T/all.json")" \
	"write 'po\\x1b[2J\\xff'"
eq "all tricks: what was not audited is reported" \
	"$(jq -r '.skipped[] | .reason' "$T/all.json" | sed 's/:.*//' | sort | tr '\n' '|')" \
	"directory nested too deep|file name holds a newline|file name is not UTF-8|larger than 64 MiB|"
eq "all tricks: the deep directory once, where the walk stopped" \
	"$(jq -r '.skipped[] | select(.reason | startswith("directory nested")) | .path' "$T/all.json" |
	   tr -cd / | wc -c)" 63
done_testing
