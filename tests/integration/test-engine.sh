#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The integrity engine from the shell: vouch load / engine / policy simulate, with files
# signed by the real evmctl; the sig_enforce latch against every CLI path; 100 runs killed
# with SIGKILL at random points must always leave a list that replays to the PCRs.
# Copyright (C) 2026 The vouch authors
. "$(dirname "$0")/lib.sh"
require_peer evmctl ima-evm-utils
command -v jq >/dev/null || { echo "1..0 # SKIP jq missing"; exit 0; }
keys_copy
K=$T/keys
S=$T/state
cd "$T" || exit 1

# security.* needs CAP_SYS_ADMIN (evmctl writes it, the engine reads it)
if ! { : >"$T/probe" && setfattr -n security.ima -v 0x0401 "$T/probe" 2>/dev/null; }; then
	echo "1..0 # SKIP cannot write security.ima here (needs root)"; exit 0
fi

# the list tooling (vouch log verify) must replay a state's list to its software PCRs
replay_ok() {
	grep '^sha256 ' "$1/pcrs" | cut -d' ' -f2- >"$T/p256"
	grep '^sha1 ' "$1/pcrs" | cut -d' ' -f2- >"$T/p1"
	$VOUCH log verify --pcrs sha256="$T/p256" --pcrs sha1="$T/p1" "$1/measurements" >"$T/replay.out" 2>&1
}

mkdir -p tree
printf 'signed\n' >tree/signed
printf 'unsigned\n' >tree/unsigned
evmctl ima_sign -a sha256 --key "$K/rsa2048.key" tree/signed >/dev/null 2>&1
cat >pol <<'EOF'
measure func=FILE_CHECK
appraise func=FILE_CHECK appraise_type=imasig
measure func=FIRMWARE_CHECK
audit func=FILE_CHECK
EOF

# --- vouch load ------------------------------------------------------------------------
expect_rc 0 "signed file loads" $VOUCH load --state-dir "$S" --policy pol --trust "$K/rsa2048.crt" --func FILE_CHECK tree/signed
expect_rc 1 "unsigned file denied when enforcing" $VOUCH load --state-dir "$S" --policy pol --trust "$K/rsa2048.crt" --func FILE_CHECK tree/unsigned
one_line_err "denial names the file and the reason" "tree/unsigned: denied: unsigned"
expect_rc 0 "unsigned file allowed in log mode" $VOUCH load --state-dir "$S" --policy pol --trust "$K/rsa2048.crt" --mode log --func FILE_CHECK tree/unsigned
n1=$($VOUCH engine status --state-dir "$S" --json | jq .entries)
expect_rc 0 "unchanged file: loads again" $VOUCH load --state-dir "$S" --policy pol --trust "$K/rsa2048.crt" --func FILE_CHECK tree/signed
n2=$($VOUCH engine status --state-dir "$S" --json | jq .entries)
eq "unchanged file is not measured twice" "$n2" "$n1"
echo more >>tree/signed
expect_rc 1 "modified signed file: bad signature, denied" $VOUCH load --state-dir "$S" --policy pol --trust "$K/rsa2048.crt" --func FILE_CHECK tree/signed
n3=$($VOUCH engine status --state-dir "$S" --json | jq .entries)
eq "modified file is re-measured" "$n3" "$((n2 + 1))"
$VOUCH load --state-dir "$S" --policy pol --trust "$K/rsa2048.crt" --json --func FILE_CHECK tree/unsigned >out.json 2>/dev/null
eq "json result" "$(jq -r '.[0].allowed, .[0].appraisal' out.json | tr '\n' ' ')" "false unsigned "
printf 'root=/dev/vda ro quiet' >cmdline
expect_rc 0 "buffer load (kexec command line) measured" $VOUCH load --state-dir "$S" --policy "builtin:tcb" --buffer --func kexec-cmdline --desc kexec-cmdline cmdline
expect_rc 2 "--buffer without --desc is a usage error" $VOUCH load --state-dir "$S" --buffer --func bpf cmdline
expect_rc 2 "unknown func is a usage error" $VOUCH load --state-dir "$S" --func NOPE tree/signed
expect_rc 2 "--func given twice" $VOUCH load --state-dir "$S" --func FILE_CHECK --func FILE_CHECK tree/signed
expect_rc 3 "missing file could not be checked" $VOUCH load --state-dir "$S" --func FILE_CHECK no-such-file
expect_rc 0 "state replays to its PCRs" $VOUCH engine status --state-dir "$S"
check "the list tooling replays the list to the software PCRs (vouch log verify)" replay_ok "$S"
expect_rc 0 "log verify reads the engine's own PCR file (vouch-pcrs 1)" $VOUCH log verify \
	--pcrs sha256="$S/pcrs" --pcrs sha1="$S/pcrs" "$S/measurements"

# --- engine init: policy and trust kept in the state ----------------------------------------
expect_rc 0 "engine init installs a checked policy and trust" $VOUCH engine init --state-dir "$T/istate" --policy pol --trust "$K/rsa2048.crt"
expect_rc 1 "load without --policy/--trust uses the installed ones (unsigned: denied)" $VOUCH load --state-dir "$T/istate" --func FILE_CHECK tree/unsigned
printf 'measure\nmeasure func=X\n' >badinit.pol
expect_rc 1 "engine init refuses a bad policy" $VOUCH engine init --state-dir "$T/istate" --policy badinit.pol
check "and leaves the installed policy alone" cmp pol "$T/istate/policy"

# --- appended signatures (modsig) through MODULE_CHECK ------------------------------------
printf 'module payload\n' >m.ko
printf 'other module\n' >m-bad.ko
printf 'unsigned module\n' >m-none.ko
$VOUCH sign -k "$K/rsa2048.key" -c "$K/rsa2048.crt" m.ko >/dev/null 2>&1
$VOUCH sign -k "$K/rsa2048.key" -c "$K/rsa2048.crt" m-bad.ko >/dev/null 2>&1
printf 'X' | dd of=m-bad.ko bs=1 seek=0 conv=notrunc 2>/dev/null
printf 'appraise func=MODULE_CHECK appraise_type=imasig|modsig\nmeasure func=MODULE_CHECK template=ima-modsig\n' >mod.pol
expect_rc 0 "module with an appended signature loads (imasig|modsig)" $VOUCH load --state-dir "$T/mstate" --policy mod.pol --trust "$K/rsa2048.crt" --func kernel-module m.ko
expect_rc 1 "module whose payload changed after signing: denied" $VOUCH load --state-dir "$T/mstate" --policy mod.pol --trust "$K/rsa2048.crt" --func kernel-module m-bad.ko
expect_rc 1 "unsigned module: denied" $VOUCH load --state-dir "$T/mstate" --policy mod.pol --trust "$K/rsa2048.crt" --func kernel-module m-none.ko
expect_rc 1 "appended signature by an untrusted key: denied" $VOUCH load --state-dir "$T/mstate" --policy mod.pol --trust "$K/ecdsa-p256.crt" --func kernel-module m.ko
printf 'appraise func=MODULE_CHECK appraise_type=imasig\n' >imasig.pol
expect_rc 1 "imasig alone does not accept the appended signature" $VOUCH load --state-dir "$T/mstate" --policy imasig.pol --trust "$K/rsa2048.crt" --func kernel-module m.ko
expect_rc 0 "module buffer (init_module) with sig_enforce latched: appended signature checked" $VOUCH load --state-dir "$T/mstate2" --sig-enforce --kernel-trust "$K/rsa2048.crt" --trust "$K/rsa2048.crt" --buffer --func kernel-module --desc init_module m.ko
expect_rc 1 "unsigned module buffer with sig_enforce latched: denied" $VOUCH load --state-dir "$T/mstate2" --kernel-trust "$K/rsa2048.crt" --buffer --func kernel-module --desc init_module m-none.ko
check "module state replays with the list tooling" replay_ok "$T/mstate"
# appraise_flag=check_blacklist: the payload digest of m.ko (before its signature) blacklisted
printf 'appraise func=MODULE_CHECK appraise_type=imasig|modsig appraise_flag=check_blacklist\n' >bl.pol
printf '# revoked\nbin:%s\n' "$(printf 'module payload\n' | sha256sum | cut -d' ' -f1)" >revoked.txt
expect_rc 0 "check_blacklist, module not blacklisted: loads" $VOUCH load --state-dir "$T/blstate" --policy bl.pol --trust "$K/rsa2048.crt" --func kernel-module m.ko
expect_rc 1 "check_blacklist: a blacklisted module is denied although its signature is valid" $VOUCH load --state-dir "$T/blstate" --policy bl.pol --trust "$K/rsa2048.crt" --blacklist revoked.txt --func kernel-module m.ko
one_line_err "the denial says why" "m.ko: denied: blacklisted"
expect_rc 0 "engine init installs the blacklist" $VOUCH engine init --state-dir "$T/blstate" --blacklist revoked.txt
expect_rc 1 "the state's blacklist applies without --blacklist" $VOUCH load --state-dir "$T/blstate" --policy bl.pol --trust "$K/rsa2048.crt" --func kernel-module m.ko
printf 'x\n' >badbl.txt
expect_rc 3 "a malformed blacklist could not be checked" $VOUCH load --state-dir "$T/blstate" --policy bl.pol --blacklist badbl.txt --func kernel-module m.ko
printf 'appraise func=BPRM_CHECK fsname=ext4\n' >fsname.pol
expect_rc 3 "a rule the engine cannot evaluate (fsname=) is refused" $VOUCH load --state-dir "$T/blstate" --policy fsname.pol --func BPRM_CHECK m.ko
one_line_err "naming the line" "vouch: fsname.pol: policy line 1 (rule 1): fsname= cannot be enforced by the engine (no file-system name, UUID or LSM label is known to it): remove the condition or the rule"
# keywords the parser accepts but the engine never sees happen: refused, not ignored
printf 'measure func=BPRM_CHECK\nhash func=FILE_CHECK\n' >hash.pol
expect_rc 3 "the hash action is refused (no file close to update security.ima on)" $VOUCH load --state-dir "$T/blstate" --policy hash.pol --func BPRM_CHECK m.ko
one_line_err "naming the hash rule" "vouch: hash.pol: policy line 2 (rule 2): the hash action cannot be enforced by the engine (it sees no file close to update security.ima on): remove the condition or the rule"
printf 'appraise func=SETXATTR_CHECK appraise_algos=sha256\n' >setx.pol
expect_rc 3 "func=SETXATTR_CHECK is refused (no setxattr seen)" $VOUCH load --state-dir "$T/blstate" --policy setx.pol --func BPRM_CHECK m.ko
one_line_err "naming SETXATTR_CHECK" "vouch: setx.pol: policy line 1 (rule 1): func=SETXATTR_CHECK cannot be enforced by the engine (it sees no setxattr() of security.ima): remove the condition or the rule"
printf 'dont_hash func=FILE_CHECK\nmeasure func=BPRM_CHECK\n' >donthash.pol
expect_rc 0 "dont_hash needs nothing (the engine never writes security.ima): accepted" $VOUCH load --state-dir "$T/dhstate" --policy donthash.pol --func BPRM_CHECK m.ko
VOUCH_STATE_DIR=$S expect_rc 0 "VOUCH_STATE_DIR selects the state" $VOUCH engine status
eq "env and --state-dir see the same list" "$(VOUCH_STATE_DIR=$S $VOUCH engine status --json | jq .entries)" \
	"$($VOUCH engine status --state-dir "$S" --json | jq .entries)"

# --- the sig_enforce latch: no CLI path turns it off -------------------------------------
printf 'fw\n' >fw.bin
expect_rc 0 "firmware loads before the latch (no appraise rule)" $VOUCH load --state-dir "$S" --policy pol --mode log --func firmware fw.bin
expect_rc 0 "latch firmware signature enforcement (pins the trust given)" $VOUCH engine enforce --state-dir "$S" --trust "$K/rsa2048.crt" --func firmware
expect_rc 1 "unsigned firmware denied after the latch" $VOUCH load --state-dir "$S" --policy pol --func firmware fw.bin
expect_rc 1 "engine enforce --off refused" $VOUCH engine enforce --state-dir "$S" --func firmware --off
expect_rc 1 "engine enforce --all --off refused" $VOUCH engine enforce --state-dir "$S" --all --off
for m in off log fix; do
	expect_rc 1 "load --mode $m refused while latched" $VOUCH load --state-dir "$S" --policy pol --mode $m --func firmware fw.bin
done
printf '# empty\n' >empty.pol
expect_rc 1 "an empty policy does not lift it" $VOUCH load --state-dir "$S" --policy empty.pol --func firmware fw.bin
printf 'dont_appraise func=FIRMWARE_CHECK\n' >dont.pol
expect_rc 1 "a dont_appraise policy does not lift it" $VOUCH load --state-dir "$S" --policy dont.pol --func firmware fw.bin
expect_rc 1 "other spellings of the consumer are the same consumer" $VOUCH load --state-dir "$S" --func FIRMWARE_CHECK fw.bin
VOUCH_STATE_DIR=$S expect_rc 1 "through VOUCH_STATE_DIR: still denied" $VOUCH load --func firmware fw.bin
evmctl ima_sign -a sha256 --key "$K/rsa2048.key" fw.bin >/dev/null 2>&1
expect_rc 0 "signed firmware loads while latched" $VOUCH load --state-dir "$S" --trust "$K/rsa2048.crt" --func firmware fw.bin
expect_rc 0 "signed firmware loads while latched, with no --trust: the pinned one decides" $VOUCH load --state-dir "$S" --func firmware fw.bin
eq "status shows the latch" "$($VOUCH engine status --state-dir "$S" --json | jq -r '.sig_enforce[]')" "FIRMWARE_CHECK"

# --- 100 runs killed with SIGKILL at random points -------------------------------------
C=$T/crash
mkdir -p crashfiles
printf 'measure func=FILE_CHECK\n' >measure.pol
bad=0 recovered=0 torn=0
for i in $(seq 1 100); do
	for f in 1 2 3 4 5 6 7 8; do echo "run $i file $f" >crashfiles/f$f; done
	$VOUCH load --state-dir "$C" --policy measure.pol --func FILE_CHECK crashfiles/f* >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '0.%03d' $((RANDOM % 120)))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	if ! $VOUCH engine status --state-dir "$C" --audit >st.out 2>st.err; then
		bad=$((bad + 1)); sed 's/^/#   /' st.err | head -3
	fi
	replay_ok "$C" || { bad=$((bad + 1)); sed 's/^/#   /' "$T/replay.out" | head -3; }
	grep -q 'durable tail entry extended' st.err && recovered=$((recovered + 1))
	grep -q 'torn final record' st.err && torn=$((torn + 1))
done
eq "100 SIGKILLed runs: the list always replays to the PCRs (engine and vouch log verify)" "$bad" 0
diag "tail entries recovered: $recovered, torn records cut: $torn, entries: $($VOUCH engine status --state-dir "$C" --json | jq .entries)"
n=$($VOUCH engine list --state-dir "$C" | wc -l)
eq "engine list prints every entry" "$n" "$($VOUCH engine status --state-dir "$C" --json | jq .entries)"

# --- issue 13 item 15: concurrent loads on one state directory -------------------------
# Four loops of vouch load (200 files) at once: every load must succeed (they wait for the
# state lock), every file measured exactly once, and the list must replay to the PCRs.
P=$T/par
mkdir -p parfiles
for i in $(seq 1 200); do echo "parallel file $i" >parfiles/p$i; done
for l in 0 1 2 3; do
	(
		fails=0
		for i in $(seq $((l * 50 + 1)) $((l * 50 + 50))); do
			$VOUCH load --state-dir "$P" --policy measure.pol --func FILE_CHECK parfiles/p$i \
				>/dev/null 2>>"$T/par-$l.err" || fails=$((fails + 1))
		done
		echo $fails >"$T/par-$l.fails"
	) &
done
wait
pfails=$(awk '{ s += $1 } END { print s + 0 }' "$T"/par-*.fails)
[ "$pfails" = 0 ] || sort "$T"/par-*.err | uniq -c | head -3 | sed 's/^/#   /'
eq "four concurrent loops of vouch load, 200 files: no failure" "$pfails" 0
eq "every file measured once (200 + boot_aggregate)" "$($VOUCH engine status --state-dir "$P" --json | jq .entries)" 201
check "the concurrently written state replays to its PCRs" replay_ok "$P"
ls -a "$P" | grep -q 'vouch-' && bad_tmp=1 || bad_tmp=0
eq "no temp file left behind" "$bad_tmp" 0

# --- issue 13 item 14: the latch pins the trust store and the xattr ---------------------
L=$T/lstate
printf 'attacker payload\n' >evil.bin
evmctl ima_sign -a sha256 --key "$K/ecdsa-p256.key" evil.bin >/dev/null 2>&1
evmctl ima_sign -a sha256 --key "$K/ecdsa-p256.key" --xattr-user evil.bin >/dev/null 2>&1
printf 'good payload\n' >good.bin
evmctl ima_sign -a sha256 --key "$K/rsa2048.key" good.bin >/dev/null 2>&1
expect_rc 0 "engine init with the trusted certificate" $VOUCH engine init --state-dir "$L" --trust "$K/rsa2048.crt"
expect_rc 0 "engine enforce --all latches (pins the state's trust and xattr)" $VOUCH engine enforce --state-dir "$L" --all
expect_rc 0 "latched: a file signed by the pinned key loads" $VOUCH load --state-dir "$L" --func FILE_CHECK good.bin
expect_rc 1 "latched: --trust attacker.crt does not vouch for the attacker's file" $VOUCH load --state-dir "$L" --trust "$K/ecdsa-p256.crt" --func FILE_CHECK evil.bin
check "the attacker's file carries user.ima too" getfattr -n user.ima evil.bin
rc_x=0; $VOUCH load --state-dir "$L" --trust "$K/ecdsa-p256.crt" --xattr user.ima --func FILE_CHECK evil.bin >/dev/null 2>"$T/x.err" || rc_x=$?
check "latched: --xattr user.ima --trust attacker.crt is refused (exit $rc_x)" test "$rc_x" -ne 0
diag "$(head -1 "$T/x.err")"

# --- issue 13 item 15: every rename in the state is followed by an fsync of the directory ---
# (a power cut right after engine enforce must not lose the latch)
if command -v strace >/dev/null; then
	F=$T/fsyncstate
	$VOUCH engine init --state-dir "$F" --trust "$K/rsa2048.crt" >/dev/null 2>&1
	strace -f -y -o "$T/enforce.trace" -e trace=rename,renameat,renameat2,fsync \
		$VOUCH engine enforce --state-dir "$F" --all >/dev/null 2>&1
	strace -f -y -o "$T/load.trace" -e trace=rename,renameat,renameat2,fsync \
		$VOUCH load --state-dir "$F.load" --policy measure.pol --func FILE_CHECK tree/signed >/dev/null 2>&1
	# prints the renames into the state not followed by an fsync of the state directory
	unsynced() {
		awk -v dir="<$F>" '/rename/ && index($0, "/sig_enforce") + index($0, "/pcrs") { pending++; next }
			/fsync\(/ && index($0, dir) { pending = 0 } END { print pending + 0 }' "$1"
	}
	eq "engine enforce: the state directory is fsynced after the latch's renames" "$(unsynced "$T/enforce.trace")" 0
	check "engine enforce renamed the latch file (the trace is not empty)" grep -q 'rename.*sig_enforce' "$T/enforce.trace"
	F=$F.load
	eq "load: the state directory is fsynced after the PCR file's rename" "$(unsynced "$T/load.trace")" 0
	check "load renamed the PCR file (the trace is not empty)" grep -q 'rename.*pcrs' "$T/load.trace"
else
	skip "strace missing: directory fsync not traced"
fi

# --- vouch policy simulate on a generated image ----------------------------------------
R=$T/root
mkdir -p "$R/usr/bin" "$R/lib/modules/6.1" "$R/lib/firmware" "$R/etc/ima" "$R/usr/share/doc"
for f in signed unsigned tampered wrongkey oldalgo; do printf '#!/bin/sh\necho %s\n' $f >"$R/usr/bin/$f"; chmod 755 "$R/usr/bin/$f"; done
evmctl ima_sign -a sha256 --key "$K/rsa2048.key" "$R/usr/bin/signed" >/dev/null 2>&1
evmctl ima_sign -a sha256 --key "$K/rsa2048.key" "$R/usr/bin/tampered" >/dev/null 2>&1
echo 'echo injected' >>"$R/usr/bin/tampered"
evmctl ima_sign -a sha256 --key "$K/ecdsa-p256.key" "$R/usr/bin/wrongkey" >/dev/null 2>&1
evmctl ima_sign -a sha1 --key "$K/rsa2048.key" "$R/usr/bin/oldalgo" >/dev/null 2>&1
printf 'not a real module\n' >"$R/lib/modules/6.1/unsigned.ko"
printf 'module\n' >"$R/lib/modules/6.1/signed.ko"
evmctl ima_sign -a sha256 --key "$K/rsa2048.key" "$R/lib/modules/6.1/signed.ko" >/dev/null 2>&1
printf 'firmware\n' >"$R/lib/firmware/fw.bin"
evmctl ima_sign -a sha256 --key "$K/rsa2048.key" "$R/lib/firmware/fw.bin" >/dev/null 2>&1
printf 'measure func=BPRM_CHECK\n' >"$R/etc/ima/policy"
evmctl ima_sign -a sha256 --key "$K/rsa2048.key" "$R/etc/ima/policy" >/dev/null 2>&1
printf 'docs\n' >"$R/usr/share/doc/README"
cat >sim.pol <<'EOF'
measure func=BPRM_CHECK mask=MAY_EXEC
appraise func=BPRM_CHECK appraise_type=imasig appraise_algos=sha256,sha512
measure func=MODULE_CHECK
appraise func=MODULE_CHECK appraise_type=imasig
appraise func=FIRMWARE_CHECK appraise_type=imasig
appraise func=POLICY_CHECK appraise_type=imasig
EOF
expect_rc 1 "simulate reports denials (exit 1)" $VOUCH policy simulate -p sim.pol -t "$K/rsa2048.crt" --root "$R" --json
cp "$T/.out" sim.json
eq "exactly the expected files would be denied" \
	"$(jq -r '.files[] | select(.would_deny) | .file + "=" + .appraisal' sim.json | sort | tr '\n' ' ')" \
	"lib/modules/6.1/unsigned.ko=unsigned usr/bin/oldalgo=algorithm not allowed usr/bin/tampered=bad signature usr/bin/unsigned=unsigned usr/bin/wrongkey=unknown key "
eq "the documented func mapping" \
	"$(jq -r '.files[] | .file + "=" + .func' sim.json | sort | tr '\n' ' ')" \
	"etc/ima/policy=POLICY_CHECK lib/firmware/fw.bin=FIRMWARE_CHECK lib/modules/6.1/signed.ko=MODULE_CHECK lib/modules/6.1/unsigned.ko=MODULE_CHECK usr/bin/oldalgo=BPRM_CHECK usr/bin/signed=BPRM_CHECK usr/bin/tampered=BPRM_CHECK usr/bin/unsigned=BPRM_CHECK usr/bin/wrongkey=BPRM_CHECK usr/share/doc/README=FILE_CHECK "
eq "measured: the 5 executables and 2 modules" "$(jq .measured sim.json)" 7
expect_rc 1 "--map overrides the mapping" $VOUCH policy simulate -p sim.pol -t "$K/rsa2048.crt" --root "$R" --map 'usr/share/doc/*=BPRM_CHECK' --json
eq "README now checked as an executable and denied" "$(jq -r '.files[] | select(.file == "usr/share/doc/README") | .would_deny' "$T/.out")" true
$VOUCH policy simulate -p sim.pol -t "$K/rsa2048.crt" -t "$K/ecdsa-p256.crt" --root "$R" >sim.txt 2>&1
eq "wrongkey passes once its key is trusted" "$(grep -c 'DENY.*wrongkey' sim.txt)" 0
expect_rc 2 "simulate needs --root" $VOUCH policy simulate -p sim.pol
printf 'measure\nmeasure func=NOPE\n' >bad.pol
expect_rc 1 "simulate: a bad policy is refused" $VOUCH policy simulate -p bad.pol --root "$R"
one_line_err "the error names file, line and column" "bad.pol:2:9: error: unknown func 'NOPE'"
done_testing
