#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The rig can fail: with RIG_CORRUPT=1 each scenario carries a deliberately wrong signature: every
# file that must be accepted (the binary that must run, the firmware that must load, the kexec
# initramfs, the EVM portable signature), the keys scenario's certificate (its self-signature),
# the guest's first quote (the AK's signature), vouchd's server certificate (for the guest's
# vouch-agent) and the policy file the last kernel loads.  The kernel, vouch or the agent refuses each, and the rig must report exactly
# those steps as failed; vouch guard, given the same signature in the same guest, must fail its
# step as well; the last kernel (after kexec -e) refuses its policy file.  The simulation has no
# signature of its own: it must still equal reality.
. "$(dirname "$0")/../integration/lib.sh"
out=$(RIG_CORRUPT=1 bash "$(dirname "$0")/rig.sh" 2>&1); rc=$?
if [ "$rc" != 0 ]; then ok "the rig fails when a signature is corrupted (exit $rc)"; else
	not_ok "the rig fails when a signature is corrupted"; fi
# must_fail DESCRIPTION-REGEX WHAT: the rig's step of that description failed
must_fail() {
	if grep -qE "^not ok [0-9]+ - $1\$" <<<"$out"; then ok "$2"; else
		not_ok "$2"; grep -E "^(not )?ok [0-9]+ - $1\$" <<<"$out" | sed 's/^/#   got: /'; fi
}
must_fail 'a binary signed by vouch runs' "the failing step is the corrupted binary"
# the guard's disk carries the same signature bytes: vouch guard must refuse it too
must_fail 'guard, enforce: a signed binary runs' "vouch guard in the guest refuses the corrupted binary too"
must_fail 'firmware signed by vouch loads \(FIRMWARE_CHECK, imasig\)' "firmware: the corrupted firmware does not load"
must_fail 'firmware: the list has the signed firmware, verified' "firmware: vouch finds its signature bad in the list"
must_fail 'kexec: the kernel and initramfs signed by vouch load' "kexec: the corrupted initramfs does not load"
must_fail 'kexec: and the signed initramfs, verified' "kexec: vouch finds its signature bad in the list"
must_fail 'EVM: a file with a digest and a vouch portable signature runs' "EVM: the corrupted portable signature is refused"
must_fail 'keys: the keys scenario.s certificate \(CN=vouch rig keys\) loads into _ima' \
	"keys: the kernel refuses the certificate with the corrupted self-signature"
must_fail 'keys: an _ima entry \(ima-buf\) whose buffer is the keys scenario.s certificate, byte for byte' \
	"keys: so the list has no entry for it"
must_fail 'attest: the host trusts the guest.s first quote \(vouch attest verify, exit 1\)' \
	"attest: the quote with the corrupted signature is not trusted (exit 1)"
must_fail 'agent: vouch-agent in the guest enrolls .*' "agent: vouch-agent refuses vouchd's corrupted certificate"
# (curl says no more than "SSL connect error"; the rig's own openssl verify says why)
if grep -qE '^# .*AGENT: .*/enroll: SSL connect error' <<<"$out" &&
	grep -qE '^ok [0-9]+ - RIG_CORRUPT: openssl verify finds vouchd.s certificate signature bad' <<<"$out"; then
	ok "agent: it failed at TLS, on the certificate whose signature openssl finds bad"; else
	not_ok "agent: it failed at TLS, on the certificate whose signature openssl finds bad"; grep '^# .*AGENT: ' <<<"$out"; fi
must_fail 'signed policy: then the policy file signed by vouch loads .*' "signed policy: the last kernel refuses the corrupted policy file"
must_fail 'signed policy: its rule is in force: .*' "signed policy: so its rule is not in force"
# the simulation, judging the same corrupted signatures, still predicts what the kernel did: the
# 11 refusals of the normal run and these three
if grep -qE '^ok [0-9]+ - simulation equals reality: 17 files, 14 refused, ' <<<"$out"; then
	ok "simulation: still equals reality, with the three corrupted files refused"
else not_ok "simulation: still equals reality, with the three corrupted files refused"
	grep -E '^(not )?ok [0-9]+ - simulation' <<<"$out" | sed 's/^/#   got: /'; fi
# and only those, with what follows from them (the list's verdicts, the kexec command line
# measured only after a successful load, vouch log show's name
# for the refused certificate, and the agent's second round and vouchd's stored results, which
# its refused connection never made): every refusal and everything else still passes
expected='a binary signed by vouch runs
firmware signed by vouch loads (FIRMWARE_CHECK, imasig)
kexec: the kernel and initramfs signed by vouch load
EVM: a file with a digest and a vouch portable signature runs
keys: the keys scenario'"'"'s certificate (CN=vouch rig keys) loads into _ima
guard, enforce: a signed binary runs
--verify-sigs: the signed binary verified, as the kernel ran it
firmware: the list has the signed firmware, verified
kexec: and the signed initramfs, verified
kexec: one kexec-cmdline (ima-buf) entry, the signed load'"'"'s command line, decoded by vouch
kexec: vouch log show prints that command line
keys: an _ima entry (ima-buf) whose buffer is the keys scenario'"'"'s certificate, byte for byte
keys: vouch log show names the keys scenario'"'"'s certificate ("CN=vouch rig keys")
attest: the host trusts the guest'"'"'s first quote (vouch attest verify, exit 1)
signed policy: then the policy file signed by vouch loads (the refused write did not use up the one write)
signed policy: vouch ima verify verifies the policy file'"'"'s signature, as the kernel did
signed policy: its rule is in force: the file it names (fowner=4242) is measured
agent: vouch-agent in the guest enrolls with vouchd on the host (EK, AK, credential activation) and vouchd trusts it
agent, must fail: after /mnt/test/etc/motd changed, vouchd does not trust the guest
agent: vouchd stored the two verdicts
agent: vouchd'"'"'s second result names the changed file'
n=$(wc -l <<<"$expected")
failed=$(sed -n 's/^not ok [0-9]* - //p' <<<"$out")
if [ "$(sort <<<"$failed")" = "$(sort <<<"$expected")" ]; then ok "exactly the $n expected steps failed"; else
	not_ok "exactly the $n expected steps failed"
	diff <(sort <<<"$expected") <(sort <<<"$failed") | sed 's/^/#   /'; fi
if grep -q '^ok .* - hello-badsig is denied' <<<"$out"; then ok "the other checks still ran"; else
	not_ok "the other checks still ran"; fi
done_testing
