#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Attestation with an IMA list on swtpm: the list replays to the quoted PCR 10, the
# boot_aggregate to PCRs 0-9, reference values and incremental rounds with --state; an
# altered entry, a list from another machine, a file not in the reference values and a
# replayed quote fail with their reason.  (The engine that measures for real is issue 6;
# here the test writes the ima-ng list and extends the TPM the way the kernel does.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/swtpm.sh"
require_peer swtpm swtpm
require_peer jq jq
require_peer python3 python3
swtpm_start "$T/tpm" || { not_ok "swtpm starts"; done_testing; }
trap 'swtpm_stop; rm -rf "$T"' EXIT
export VOUCH_TCTI=$SWTPM_TCTI

# mklist OUT NAME=CONTENT... : an ima-ng list (boot_aggregate over all-zero PCRs 0-9 first
# when OUT does not exist yet); prints "sha256:HEX" extend digests of the new entries
mklist() {
	python3 - "$@" <<'PY'
import hashlib, os, struct, sys
out = sys.argv[1]; recs = b""; ext = []
def entry(name, digest):
    d = b"sha256:\0" + digest; n = name.encode() + b"\0"
    data = struct.pack("<I", len(d)) + d + struct.pack("<I", len(n)) + n
    ext.append(hashlib.sha256(data).hexdigest())
    return struct.pack("<I", 10) + hashlib.sha1(data).digest() + struct.pack("<I", 6) + \
        b"ima-ng" + struct.pack("<I", len(data)) + data
if not os.path.exists(out):
    recs += entry("boot_aggregate", hashlib.sha256(b"\0" * 320).digest())
for a in sys.argv[2:]:
    name, content = a.split("=", 1)
    recs += entry(name, hashlib.sha256(content.encode()).digest())
open(out, "ab").write(recs)
for e in ext:
    print("sha256:" + e)
PY
}
extend_all() { while read -r d; do "$VOUCH" tpm extend 10 "$d" >/dev/null || not_ok "extend"; done; }
ref() { # reference values for NAME=CONTENT...
	python3 - "$@" <<'PY'
import hashlib, json, sys
files = {}
for a in sys.argv[1:]:
    n, c = a.split("=", 1)
    files.setdefault(n, []).append("sha256:" + hashlib.sha256(c.encode()).hexdigest())
print(json.dumps({"format": "vouch-reference", "version": 1, "files": files,
                  "exclude": ["/tmp/", "*.log"]}))
PY
}
check "AK" "$VOUCH" tpm ak create --out "$T/ak"
FILES=(/usr/bin/a=one /usr/bin/b=two /usr/lib/c.so=three /tmp/scratch=x /var/x.log=y)
mklist "$T/list" "${FILES[@]}" | extend_all
ref /usr/bin/a=one /usr/bin/b=two /usr/lib/c.so=three /usr/bin/d=four /usr/bin/e=five \
	/usr/bin/e=five-v2 >"$T/ref.json"
SEL=sha256:0-10
check "round 1: quote with the list" "$VOUCH" attest quote --nonce 01 --pcrs $SEL --ima "$T/list" \
	--no-eventlog --out "$T/r1.ev"
expect_rc 0 "round 1 verifies (list, boot_aggregate, reference)" "$VOUCH" attest verify --json \
	--ak "$T/ak.pub" --nonce 01 --reference "$T/ref.json" --state "$T/state" "$T/r1.ev"
res() { jq -r --arg c "$1" '.checks[] | select(.check==$c) | .result' "$T/.out"; }
eq "ima_list passes" "$(res ima_list)" pass
eq "boot_aggregate passes" "$(res boot_aggregate)" pass
eq "reference passes (excludes honoured)" "$(res reference)" pass
eq "state remembers 6 entries" "$(jq -r .entries "$T/state")" 6

mklist "$T/list" /usr/bin/d=four /usr/bin/e=five-v2 | extend_all
check "round 2: quote only the entries after 6" "$VOUCH" attest quote --nonce 02 --pcrs $SEL \
	--ima "$T/list" --from-entry 6 --no-eventlog --out "$T/r2.ev"
eq "round 2 evidence carries 2 entries" "$(jq -r .ima.from_entry "$T/r2.ev")" 6
expect_rc 0 "round 2 verifies against the state" "$VOUCH" attest verify --json --ak "$T/ak.pub" \
	--nonce 02 --reference "$T/ref.json" --state "$T/state" "$T/r2.ev"
eq "state now 8 entries" "$(jq -r .entries "$T/state")" 8
expect_rc 1 "round 2 evidence without the state" "$VOUCH" attest verify --json --ak "$T/ak.pub" \
	--nonce 02 --reference "$T/ref.json" "$T/r2.ev"
eq "reason: no state" "$(jq -r .first_failure.check "$T/.out")" ima_list
expect_rc 1 "replayed round 1 quote for round 2's nonce" "$VOUCH" attest verify --json \
	--ak "$T/ak.pub" --nonce 02 --state "$T/state" "$T/r1.ev"
eq "reason: nonce" "$(jq -r .first_failure.check "$T/.out")" nonce

# an entry measured after the quote: the uncovered tail is reported, not judged
cp "$T/list" "$T/list-tail"
mklist "$T/list-tail" /usr/bin/late=zzz >/dev/null
check "quote, list with a tail" "$VOUCH" attest quote --nonce 03 --pcrs $SEL --ima "$T/list-tail" \
	--no-eventlog --out "$T/tail.ev"
expect_rc 0 "a tail after the quote still verifies" "$VOUCH" attest verify --json --ak "$T/ak.pub" \
	--nonce 03 --reference "$T/ref.json" "$T/tail.ev"
cp "$T/.out" "$T/tail.json"
check "the tail is reported" grep -q 'uncovered tail: 1 entries' "$T/tail.json"

# a tampered file: measured, extended, quoted, but not in the reference values
mklist "$T/list" /usr/bin/a=EVIL | extend_all
check "quote after a tampered file" "$VOUCH" attest quote --nonce 04 --pcrs $SEL --ima "$T/list" \
	--no-eventlog --out "$T/evil.ev"
expect_rc 1 "tampered file fails" "$VOUCH" attest verify --json --ak "$T/ak.pub" --nonce 04 \
	--reference "$T/ref.json" "$T/evil.ev"
eq "reason: reference" "$(jq -r .first_failure.check "$T/.out")" reference
cp "$T/.out" "$T/evil.json"
check "names entry 9 and the file" grep -q "entry 9 '/usr/bin/a': digest not in the reference" "$T/evil.json"

# a list entry altered in the evidence (the name of entry 2)
python3 - "$T/r1.ev" "$T/altered.ev" <<'PY'
import base64, json, sys
e = json.load(open(sys.argv[1])); b = bytearray(base64.b64decode(e["ima"]["binary"]))
i = b.find(b"/usr/bin/a"); b[i + 9] = ord("z")
e["ima"]["binary"] = base64.b64encode(bytes(b)).decode(); json.dump(e, open(sys.argv[2], "w"))
PY
expect_rc 1 "altered list entry fails" "$VOUCH" attest verify --json --ak "$T/ak.pub" --nonce 01 \
	"$T/altered.ev"
eq "reason: ima_list" "$(jq -r .first_failure.check "$T/.out")" ima_list
eq "the template digest check names entry 2" \
	"$(jq -r '.checks[] | select(.check=="ima_templates") | .detail' "$T/.out" | grep -o 'first is entry [0-9]*')" \
	"first is entry 2"
# a list from another machine with this machine's quote
mklist "$T/other" /usr/bin/a=one /usr/bin/b=two >/dev/null
python3 - "$T/r1.ev" "$T/other" "$T/other.ev" <<'PY'
import base64, json, sys
e = json.load(open(sys.argv[1]))
e["ima"]["binary"] = base64.b64encode(open(sys.argv[2], "rb").read()).decode()
json.dump(e, open(sys.argv[3], "w"))
PY
expect_rc 1 "a list from another machine fails" "$VOUCH" attest verify --json --ak "$T/ak.pub" \
	--nonce 01 "$T/other.ev"
eq "reason: ima_list" "$(jq -r .first_failure.check "$T/.out")" ima_list
expect_rc 1 "state of another AK" "$VOUCH" attest verify --json --ak "$TVEC/quote/ak.pub" \
	--nonce 02 --state "$T/state" "$T/r2.ev"

# signatures: the real Debian list (ima-sig, signed with the shared rsa2048 key), extended
# into a fresh swtpm's PCR 10 as the kernel did, quoted and verified with its certificate
swtpm_stop
swtpm_start "$T/tpm2" || { not_ok "second swtpm starts"; done_testing; }
export VOUCH_TCTI=$SWTPM_TCTI
DEB=$VEC/debian-6.1/binary_runtime_measurements
swtpm_debian_pcr10 "the Debian machine's"
check "AK on the second TPM" "$VOUCH" tpm ak create --out "$T/akd"
check "quote PCR 10 with the Debian list" "$VOUCH" attest quote --nonce 05 --pcrs sha256:10 \
	--ima "$DEB" --no-eventlog --out "$T/deb.ev"
expect_rc 1 "the Debian list: its deliberately bad signatures fail" "$VOUCH" attest verify --json \
	--ak "$T/akd.pub" --nonce 05 --pcrs sha256:10 -t "$VEC/keys/rsa2048.crt" "$T/deb.ev"
eq "ima_list passes" "$(res ima_list)" pass
eq "boot_aggregate: PCRs 0-9 not quoted" "$(res boot_aggregate)" not_applicable
eq "first failure: signatures" "$(jq -r .first_failure.check "$T/.out")" signatures
eq "names the first bad entry" "$(jq -r .first_failure.detail "$T/.out" | cut -d'(' -f1)" \
	"entry 11 '/mnt/test/bin/hello-badsig': signature bad "
expect_rc 1 "the same with the ECDSA certificate: unknown key" "$VOUCH" attest verify --json \
	--ak "$T/akd.pub" --nonce 05 --pcrs sha256:10 -t "$VEC/keys/ecdsa-p256.crt" "$T/deb.ev"
eq "reason: signatures" "$(jq -r .first_failure.check "$T/.out")" signatures
expect_rc 3 "a trust store that is not one" "$VOUCH" attest verify --json --ak "$T/akd.pub" \
	--nonce 05 --pcrs sha256:10 -t "$VEC/keys/rsa2048.key" "$T/deb.ev"
done_testing
