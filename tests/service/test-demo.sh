#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# 'vouch demo' from the build tree runs every step and its service part (vouchd and two
# agents on swtpm, one machine tampered with), and says so; a vouch without vouchd beside
# it skips that part with the reason.
. "$(dirname "$0")/../integration/lib.sh"
require_peers swtpm swtpm_setup:swtpm-tools openssl python3
trap 'rm -rf "$T"' EXIT
expect_rc 0 "vouch demo" "$VOUCH" demo --dir "$T/demo"
cp "$T/.out" "$T/demo.out"
# on a failure, the end of the story: the demo's last step and its logs
grep -q "the service part too" "$T/demo.out" || { tail -25 "$T/demo.out"; tail -25 "$T/.err"; } | sed 's/^/#   /'
check "every step and the service part" grep -q "behaved as expected; the service part too" "$T/demo.out"
check "the tampered machine is untrusted" grep -q "web2 is not trusted after" "$T/demo.out"
check "the webhook fired, signed" grep -q "webhook: event .* untrusted for web2 .*signature valid" "$T/demo.out"
check "the other machine stays trusted" grep -q "web1 stays trusted" "$T/demo.out"
# the same binary copied alone: no vouchd beside it
mkdir -p "$T/alone"
cp "$VOUCH" "$T/alone/vouch"
expect_rc 0 "vouch demo without vouchd beside it" env -u VOUCH_EXEC_PATH "$T/alone/vouch" demo
cp "$T/.out" "$T/alone.out"
check "skips the service part and says why" grep -q "skipped: vouchd, vouch-agent or vouch-demo-service is not installed" "$T/alone.out"
done_testing
