#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The rig can fail: with RIG_CORRUPT=1 the binary that must run carries a deliberately wrong
# signature, so the kernel refuses it and the rig must report exactly that step as failed;
# vouch guard, given the same signature in the same guest, must fail its step as well.
. "$(dirname "$0")/../integration/lib.sh"
out=$(RIG_CORRUPT=1 bash "$(dirname "$0")/rig.sh" 2>&1); rc=$?
if [ "$rc" != 0 ]; then ok "the rig fails when a signature is corrupted (exit $rc)"; else
	not_ok "the rig fails when a signature is corrupted"; fi
if grep -q '^not ok .* - a binary signed by vouch runs$' <<<"$out"; then
	ok "the failing step is the corrupted binary"; else
	not_ok "the failing step is the corrupted binary"; grep '^not ok' <<<"$out" | sed 's/^/#   /'; fi
# the guard's disk carries the same signature bytes: vouch guard must refuse it too
if grep -q '^not ok .* - guard, enforce: a signed binary runs$' <<<"$out"; then
	ok "vouch guard in the guest refuses the corrupted binary too"; else
	not_ok "vouch guard in the guest refuses the corrupted binary too"; fi
if grep -q '^ok .* - hello-badsig is denied' <<<"$out"; then ok "the other checks still ran"; else
	not_ok "the other checks still ran"; fi
done_testing
