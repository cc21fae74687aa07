#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# A real firmware event log: SeaBIOS under QEMU with swtpm, read from the guest's securityfs,
# quoted on the same TPM state (tests/vectors/eventlog/make-seabios.sh).  The good evidence is
# trusted; its must-fail twins change only event data the digests cover (issue 13 item 17),
# so the PCR replay and the quote still match and only the data/digest check can see them.
. "$(dirname "$0")/lib.sh"
require_peer jq jq
require_peer python3 python3
D=$TVEC/eventlog
SEL=sha256:0-7+sha384:0-7+sha512:0-7
verify() { "$VOUCH" attest verify --json --ak "$D/seabios-ak.pub" --nonce 5eab1050 --pcrs "$SEL" "$@"; }
# patch EVIDENCE OUT OFFSET BYTE: the evidence with one byte of its event log changed
# (a negative OFFSET counts from the end)
patch() {
	python3 - "$@" <<'PY'
import base64, json, sys
e = json.load(open(sys.argv[1]))
b = bytearray(base64.b64decode(e["eventlog"]))
b[int(sys.argv[3])] = int(sys.argv[4], 16)
e["eventlog"] = base64.b64encode(bytes(b)).decode()
json.dump(e, open(sys.argv[2], "w"))
PY
}
ev() { jq -c --argjson i "$1" '.eventlog_events[] | select(.index == $i)' "$T/.out"; }

expect_rc 0 "the real SeaBIOS log replays to the quoted PCRs 0-7: trusted" verify "$D/seabios.ev"
eq "eventlog check passed" "$(jq -r '.checks[] | select(.check=="eventlog") | .result' "$T/.out")" pass
eq "14 events listed" "$(jq '.eventlog_events | length' "$T/.out")" 14
eq "PCR 7's EV_SEPARATOR: attested, bound, ffffffff" "$(ev 14)" \
	'{"index":14,"pcr":7,"type":"EV_SEPARATOR","attested":true,"data_bound":true,"bound_data":"ffffffff"}'
eq "the SMBIOS EV_EVENT_TAG: its data is not a fact" "$(ev 1)" \
	'{"index":1,"pcr":1,"type":"EV_EVENT_TAG","attested":true,"data_bound":false}'
eq "EV_ACTION 'Calling INT 19h' is a fact" "$(ev 6 | jq -r .bound_data)" "$(printf 'Calling INT 19h' | od -An -tx1 | tr -d ' \n')"

# must fail: the last EV_SEPARATOR's data 0xffffffff -> 0xfffffffe, digests unchanged
patch "$D/seabios.ev" "$T/twin.ev" -1 fe
eq "the stored twin vector is that change" "$(jq -S . "$D/seabios-separator-twin.ev")" "$(jq -S . "$T/twin.ev")"
expect_rc 1 "item 17: the stored twin vector is not trusted" verify "$D/seabios-separator-twin.ev"
expect_rc 1 "item 17: the separator twin is not trusted" verify "$T/twin.ev"
eq "reason: eventlog" "$(jq -r .first_failure.check "$T/.out")" eventlog
eq "names event 14" "$(jq -r .first_failure.detail "$T/.out")" \
	"event 14 (EV_SEPARATOR, PCR 7): its data is not what its digests cover"
eq "and lists no event as a fact" "$(jq -c .eventlog_events "$T/.out")" null
expect_rc 1 "the text verdict too" "$VOUCH" attest verify --ak "$D/seabios-ak.pub" --nonce 5eab1050 \
	--pcrs "$SEL" "$T/twin.ev"

# must fail: EV_ACTION "Calling INT 19h" -> "Calling INT 18h" (byte 1363 of the log)
patch "$D/seabios.ev" "$T/action.ev" 1363 38
expect_rc 1 "an edited EV_ACTION string is not trusted" verify "$T/action.ev"
eq "reason: eventlog" "$(jq -r .first_failure.check "$T/.out")" eventlog

# the EV_EVENT_TAG's data is not covered (its digest is of the SMBIOS tables): changing it
# changes no verdict, and it was never reported as a fact
patch "$D/seabios.ev" "$T/tag.ev" 275 00
expect_rc 0 "the SMBIOS tag's data is free: still trusted" verify "$T/tag.ev"
eq "and still not a fact" "$(ev 1)" \
	'{"index":1,"pcr":1,"type":"EV_EVENT_TAG","attested":true,"data_bound":false}'

# not attested: a quote that fails lists the events without their data
expect_rc 1 "wrong nonce" "$VOUCH" attest verify --json --ak "$D/seabios-ak.pub" --nonce 00 \
	--pcrs "$SEL" "$D/seabios.ev"
eq "no event is attested or carries data" \
	"$(jq '[.eventlog_events[] | select(.attested or has("bound_data"))] | length' "$T/.out")" 0
done_testing
