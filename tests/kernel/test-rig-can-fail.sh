#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The rig can fail: with RIG_CORRUPT=1 every file that must be accepted carries a deliberately
# wrong signature (the binary that must run, the firmware that must load, the kexec kernel,
# the EVM portable signature), so the kernel refuses each and the rig must report exactly
# those steps as failed; vouch guard, given the same signature in the same guest, must fail
# its step as well.
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
must_fail 'kexec: the kernel and initramfs signed by vouch load' "kexec: the corrupted kernel does not load"
must_fail 'kexec: the list has the signed kernel, verified' "kexec: vouch finds its signature bad in the list"
must_fail 'EVM: a file with a digest and a vouch portable signature runs' "EVM: the corrupted portable signature is refused"
# and only those, with what follows from them (the list's verdicts, the kexec command line
# measured only after a successful load): every refusal and everything else still passes
expected='a binary signed by vouch runs
firmware signed by vouch loads (FIRMWARE_CHECK, imasig)
kexec: the kernel and initramfs signed by vouch load
EVM: a file with a digest and a vouch portable signature runs
guard, enforce: a signed binary runs
--verify-sigs: the signed binary verified, as the kernel ran it
firmware: the list has the signed firmware, verified
kexec: the list has the signed kernel, verified
kexec: one kexec-cmdline (ima-buf) entry, the signed load'"'"'s command line, decoded by vouch
kexec: vouch log show prints that command line'
failed=$(sed -n 's/^not ok [0-9]* - //p' <<<"$out")
if [ "$(sort <<<"$failed")" = "$(sort <<<"$expected")" ]; then ok "exactly the ten expected steps failed"; else
	not_ok "exactly the ten expected steps failed"
	diff <(sort <<<"$expected") <(sort <<<"$failed") | sed 's/^/#   /'; fi
if grep -q '^ok .* - hello-badsig is denied' <<<"$out"; then ok "the other checks still ran"; else
	not_ok "the other checks still ran"; fi
done_testing
