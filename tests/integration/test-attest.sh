#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vouch tpm / attest against swtpm: PCRs match tpm2-tools, AK names match tpm2_readpublic,
# vouch quotes pass tpm2_checkquote, and each attack fails with the right check.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/swtpm.sh"
require_peer swtpm swtpm
require_peer tpm2_checkquote tpm2-tools
require_peer jq jq
require_peer python3 python3

swtpm_start "$T/tpm" || { not_ok "swtpm starts"; done_testing; }
trap 'swtpm_stop; rm -rf "$T"' EXIT
export VOUCH_TCTI=$SWTPM_TCTI
diag "swtpm pid $SWTPM_PID on $SWTPM_TCTI"

# --- PCRs -------------------------------------------------------------------------------
check "extend PCR 10 with --data in every bank" "$VOUCH" tpm extend 10 --data "integrity-lab event 1"
check "extend PCR 11 with explicit digests" "$VOUCH" tpm extend 11 \
	sha256:51b9d59f69f134a3e098024f77f4fdea4d506cfd57a03b92f45bbf4116c3a0e9
eq "PCR 10 sha256 equals tpm2_pcrread" \
	"$("$VOUCH" tpm pcrread --json sha256:10 | jq -r '.sha256["10"]')" \
	"$(tpm2_pcrread sha256:10 | awk '/10:/ {print tolower(substr($2,3))}')"
eq "PCR 10 sha1 = the shared vector's" \
	"$("$VOUCH" tpm pcrread --json sha1:10 | jq -r '.sha1["10"]')" \
	"$(head -c 20 "$VEC/tpm2/pcr10-after.bin" | od -An -tx1 | tr -d ' \n')"
eq "pcrread of every active bank lists 4 banks x 24" \
	"$("$VOUCH" tpm pcrread --json | jq '[.[] | keys | length] | add')" 96
expect_rc 2 "extend PCR 24 is a usage error" "$VOUCH" tpm extend 24 --data x
expect_rc 3 "no TPM at the TCTI: could not check" env VOUCH_TCTI=swtpm:host=127.0.0.1,port=1 \
	"$VOUCH" tpm pcrread
one_line_err "one line naming the TCTI" "port=1"
expect_rc 3 "no such TPM device: could not check" env VOUCH_TCTI=device:/nonexistent/tpmrm0 \
	"$VOUCH" tpm pcrread
one_line_err "one line naming the device" "/nonexistent/tpmrm0"
check "tss2 printed nothing itself" bash -c "! grep -q '^ERROR:\|^WARNING:' '$T/.err'"

# --- attestation keys ---------------------------------------------------------------------
check "AK create (owner, rsassa)" "$VOUCH" tpm ak create --out "$T/ak"
check "AK create (endorsement, ecdsa)" "$VOUCH" tpm ak create --hierarchy endorsement \
	--scheme ecdsa --handle 0x81010011 --out "$T/akec"
check "AK create (owner, rsapss)" "$VOUCH" tpm ak create --scheme rsapss --handle 0x81010012 \
	--out "$T/akpss"
expect_rc 3 "AK create at a taken handle" "$VOUCH" tpm ak create --out "$T/again"
one_line_err "says in use" "already in use"
tpm2_readpublic -Q -c 0x81010010 -n "$T/tpm2.name" -o "$T/tpm2.pub"
eq "AK name equals tpm2_readpublic's" "$(od -An -tx1 "$T/ak.name" | tr -d ' \n')" \
	"$(od -An -tx1 "$T/tpm2.name" | tr -d ' \n')"
eq "AK show --json name" "$("$VOUCH" tpm ak show --json | jq -r .name)" \
	"$(od -An -tx1 "$T/tpm2.name" | tr -d ' \n')"
eq "AK PEM equals tpm2_readpublic's" "$(openssl pkey -pubin -in "$T/ak.pem" -outform DER | sha256sum)" \
	"$(tpm2_readpublic -Q -c 0x81010010 -f der -o "$T/tpm2.der" && sha256sum <"$T/tpm2.der")"
eq "EC AK is a restricted signing key" "$("$VOUCH" tpm ak show --json "$T/akec.pub" | jq -r '.restricted_signing, .scheme')" \
	"$(printf 'true\necdsa')"

# --- quotes verified by vouch and tpm2_checkquote --------------------------------------------
SEL=sha256:0-3,10; LIST=sha256:0,1,2,3,10  # tpm2_checkquote 5.4 fails on 8+ PCRs of -F values
split_evidence() { # EVIDENCE PREFIX
	python3 - "$1" "$2" <<'PY'
import json, sys
e = json.load(open(sys.argv[1])); p = sys.argv[2]
open(p + ".msg", "wb").write(bytes.fromhex(e["quote"]["attest"]))
open(p + ".sig", "wb").write(bytes.fromhex(e["quote"]["signature"]))
vals = b""
for bank in e["pcrs"]:
    v = bank["values"]
    vals += b"".join(bytes.fromhex(v[k]) for k in sorted(v, key=int))
open(p + ".pcrs", "wb").write(vals)
PY
}
for k in "ak:0x81010010:" "akec:0x81010011:" "akpss:0x81010012:"; do
	IFS=: read -r name handle _ <<<"$k"
	check "$name: quote" "$VOUCH" attest quote --handle "$handle" --nonce 5c0ffee0 --pcrs "$SEL" \
		--no-ima --no-eventlog --out "$T/$name.ev"
	expect_rc 0 "$name: vouch verifies its quote" "$VOUCH" attest verify --ak "$T/$name.pub" \
		--nonce 5c0ffee0 --pcrs "$SEL" "$T/$name.ev"
	split_evidence "$T/$name.ev" "$T/$name.q"
	if [ "$name" = akpss ]; then
		# tpm2_checkquote 5.4 rejects every RSAPSS quote, tpm2_quote's own included (it
		# does not use PSS padding with a PEM key); vouch auto-detects the salt length
		expect_rc 1 "$name: tpm2_checkquote 5.4 cannot check PSS (peer limitation)" \
			tpm2_checkquote -u "$T/$name.pem" -m "$T/$name.q.msg" -s "$T/$name.q.sig" \
			-f "$T/$name.q.pcrs" -l "$LIST" -g sha256 -q 5c0ffee0
	else
		check "$name: tpm2_checkquote verifies vouch's quote" tpm2_checkquote -u "$T/$name.pem" \
			-m "$T/$name.q.msg" -s "$T/$name.q.sig" -f "$T/$name.q.pcrs" -l "$LIST" -g sha256 \
			-q 5c0ffee0
	fi
	expect_rc 0 "$name: the same as tpm2 files" "$VOUCH" attest verify --ak "$T/$name.pem" \
		--nonce 5c0ffee0 --pcrs "$SEL" --message "$T/$name.q.msg" --signature "$T/$name.q.sig" \
		--pcr-values "$T/$name.q.pcrs"
done
check "tpm2_quote's quote with vouch" tpm2_quote -Q -c 0x81010010 -l "$LIST" -q 0badcafe \
	-m "$T/t.msg" -s "$T/t.sig" -o "$T/t.pcrs" -F values -g sha256
expect_rc 0 "vouch verifies tpm2_quote's quote" "$VOUCH" attest verify --ak "$T/ak.pem" \
	--nonce 0badcafe --pcrs "$SEL" --message "$T/t.msg" --signature "$T/t.sig" --pcr-values "$T/t.pcrs"
# issue 13 item 6: tpm2_quote's default -o (serialized TPML_PCR_SELECTION + TPML_DIGEST, what
# tpm2_checkquote reads) is the values too
check "tpm2_quote, default PCR output" tpm2_quote -Q -c 0x81010010 -l "$LIST" -q 0badcafe \
	-m "$T/s.msg" -s "$T/s.sig" -o "$T/s.pcrs" -g sha256
check "tpm2_checkquote reads it (no -l: the selection is in the file)" tpm2_checkquote \
	-u "$T/ak.pem" -m "$T/s.msg" -s "$T/s.sig" -f "$T/s.pcrs" -g sha256 -q 0badcafe
expect_rc 0 "vouch reads it too" "$VOUCH" attest verify --ak "$T/ak.pub" --nonce 0badcafe \
	--pcrs "$SEL" --message "$T/s.msg" --signature "$T/s.sig" --pcr-values "$T/s.pcrs"
expect_rc 1 "its values offered for another selection: refused" "$VOUCH" attest verify \
	--ak "$T/ak.pub" --nonce 0badcafe --pcrs sha256:0-3,11 --message "$T/s.msg" \
	--signature "$T/s.sig" --pcr-values "$T/s.pcrs"
# issue 13 item 5: a PEM AK's attributes are unknown; the verdict says so, or fails
expect_rc 0 "a PEM AK verifies" "$VOUCH" attest verify --json --ak "$T/ak.pem" --nonce 5c0ffee0 \
	--pcrs "$SEL" "$T/ak.ev"
eq "its attributes are not verified (JSON)" "$(jq -r .ak_attributes_verified <"$T/.out")" false
eq "an ak_attributes check says so" \
	"$(jq -r '.checks[] | select(.check == "ak_attributes") | .result' <"$T/.out")" not_applicable
expect_rc 1 "--require-tpm-ak: a PEM AK fails" "$VOUCH" attest verify --json --ak "$T/ak.pem" \
	--require-tpm-ak --nonce 5c0ffee0 --pcrs "$SEL" "$T/ak.ev"
eq "--require-tpm-ak: reason" "$(jq -r .first_failure.check <"$T/.out")" ak_attributes
expect_rc 0 "--require-tpm-ak: the TPM2B_PUBLIC AK passes" "$VOUCH" attest verify --json \
	--ak "$T/ak.pub" --require-tpm-ak --nonce 5c0ffee0 --pcrs "$SEL" "$T/ak.ev"
eq "its attributes are verified (JSON)" "$(jq -r .ak_attributes_verified <"$T/.out")" true

# issue 14 item 11, the attack on the TPM: evict must take only vouch's own AKs, never the EK
# (0x81010001) or the SRK (0x81000001), whose loss cannot be undone
check "an EK persisted (tpm2_createek)" tpm2_createek -c 0x81010001 -G rsa -u "$T/ek.pub"
check "an SRK persisted (tpm2_createprimary + evictcontrol)" sh -c \
	"tpm2_createprimary -Q -C o -c '$T/srk.ctx' && tpm2_evictcontrol -Q -C o -c '$T/srk.ctx' 0x81000001"
expect_rc 1 "tpm ak evict refuses the EK" "$VOUCH" tpm ak evict --handle 0x81010001
one_line_err "names the handle and the reason" "not one of vouch's attestation keys"
check "the EK is still there" tpm2_readpublic -Q -c 0x81010001
expect_rc 1 "tpm ak evict refuses the SRK" "$VOUCH" tpm ak evict --handle 0x81000001
check "the SRK is still there" tpm2_readpublic -Q -c 0x81000001
check "a throwaway vouch AK" "$VOUCH" tpm ak create --handle 0x81010020 --out "$T/akx"
expect_rc 0 "tpm ak evict removes vouch's AK" "$VOUCH" tpm ak evict --handle 0x81010020
expect_rc 1 "it is gone" tpm2_readpublic -Q -c 0x81010020

# issue 13 items 1-2: the must-fail vectors of tests/vectors/attest (README there)
AV=$TVEC/attest
for v in pcr11-honest pcr11-deleted pcr11-forged; do
	expect_rc 1 "must-fail vector $v" "$VOUCH" attest verify --json --ak "$AV/pcr11-ak.pub" \
		--nonce "$(cat "$AV/nonce.hex")" --pcrs sha256:10,11 -t "$VEC/keys/rsa2048.crt" "$AV/$v.ev"
done
for v in relabel-honest relabel-buf; do
	expect_rc 1 "must-fail vector $v" "$VOUCH" attest verify --json --ak "$AV/relabel-ak.pub" \
		--nonce "$(cat "$AV/nonce.hex")" --pcrs sha256:10 -t "$VEC/keys/rsa2048.crt" "$AV/$v.ev"
done

# --- attacks, each with its reason ----------------------------------------------------------
reason() { jq -r .first_failure.check <"$T/.out"; }
expect_rc 1 "wrong nonce" "$VOUCH" attest verify --json --ak "$T/ak.pub" --nonce 5c0ffee1 \
	--pcrs "$SEL" "$T/ak.ev"
eq "wrong nonce: reason" "$(reason)" nonce
one_line_err "one stderr line naming the evidence" "ak.ev"
check "a second quote with a new nonce" "$VOUCH" attest quote --nonce 0e0e0e0e --pcrs "$SEL" \
	--no-ima --no-eventlog --out "$T/new.ev"
expect_rc 1 "replayed old quote for the new nonce" "$VOUCH" attest verify --json --ak "$T/ak.pub" \
	--nonce 0e0e0e0e --pcrs "$SEL" "$T/ak.ev"
eq "replayed quote: reason" "$(reason)" nonce
expect_rc 1 "selection differs from the request" "$VOUCH" attest verify --json --ak "$T/ak.pub" \
	--nonce 5c0ffee0 --pcrs sha256:0-3,11 "$T/ak.ev"
jq '.pcrs[0].values["10"] = .pcrs[0].values["0"]' "$T/ak.ev" >"$T/tampered.ev"
expect_rc 1 "PCR value altered in the evidence" "$VOUCH" attest verify --json --ak "$T/ak.pub" \
	--nonce 5c0ffee0 --pcrs "$SEL" "$T/tampered.ev"
eq "altered PCR: reason" "$(reason)" pcr_digest
expect_rc 1 "signature by another AK" "$VOUCH" attest verify --json --ak "$T/akpss.pub" \
	--nonce 5c0ffee0 --pcrs "$SEL" "$T/ak.ev"
eq "another AK: reason" "$(reason)" signature
expect_rc 1 "sha1 not in the allow-list" "$VOUCH" attest verify --json --ak "$T/ak.pub" \
	--nonce 5c0ffee0 --pcrs sha1:10 --message "$TVEC/quote/sha1-scheme.msg" \
	--signature "$TVEC/quote/sha1-scheme.sig" --pcr-values "$TVEC/quote/sha1-scheme.pcrs"
for v in forged time; do
	expect_rc 1 "must-fail vector $v" "$VOUCH" attest verify --json --ak "$TVEC/quote/ak.pub" \
		--nonce "$(cat "$TVEC/quote/nonce.hex")" --pcrs sha256:0,10 --message "$TVEC/quote/$v.msg" \
		--signature "$TVEC/quote/$v.sig" --pcr-values "$TVEC/quote/good.pcrs"
done
eq "TPM2_Sign over attacker bytes: reason" "$(jq -r .first_failure.check <"$T/.out")" type
expect_rc 3 "quote with no AK at the handle" "$VOUCH" attest quote --handle 0x81010099 \
	--nonce 00 --pcrs sha256:10 --no-ima --no-eventlog --out "$T/x.ev"
one_line_err "names the handle" "0x81010099"
printf '{"format":"vouch-evidence","version":1}' >"$T/bad.ev"
expect_rc 1 "malformed evidence" "$VOUCH" attest verify --ak "$T/ak.pub" --nonce 00 "$T/bad.ev"
expect_rc 2 "nonce is hex" "$VOUCH" attest verify --ak "$T/ak.pub" --nonce xyz "$T/ak.ev"
expect_rc 2 "--ak given twice" "$VOUCH" attest verify --ak a --ak b --nonce 00 "$T/ak.ev"

# --- firmware event log replayed to the quoted PCRs 0-9 ------------------------------------
LOG=$TVEC/eventlog/tcg2-agile.bin
swtpm_stop
swtpm_start "$T/tpm2" || { not_ok "second swtpm starts"; done_testing; }
export VOUCH_TCTI=$SWTPM_TCTI
python3 - "$LOG" >"$T/extends" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
o = 32; o += struct.unpack_from("<I", b, o - 4)[0]
while o < len(b):
    pcr, typ, n = struct.unpack_from("<III", b, o); o += 12; d = []
    for _ in range(n):
        alg, = struct.unpack_from("<H", b, o); size = 20 if alg == 4 else 32
        d.append(("sha1" if alg == 4 else "sha256") + ":" + b[o + 2:o + 2 + size].hex()); o += 2 + size
    size, = struct.unpack_from("<I", b, o); o += 4 + size
    if typ != 3:
        print(pcr, " ".join(d))
PY
while read -r pcr digests; do
	# shellcheck disable=SC2086
	"$VOUCH" tpm extend "$pcr" $digests >/dev/null || not_ok "extend $pcr"
done <"$T/extends"
check "AK on the second TPM" "$VOUCH" tpm ak create --out "$T/ak2"
check "quote PCRs 0-9 with the event log" "$VOUCH" attest quote --nonce 01 --pcrs sha256:0-9 \
	--no-ima --eventlog "$LOG" --out "$T/fw.ev"
expect_rc 0 "event log replays to the quoted PCRs" "$VOUCH" attest verify --json --ak "$T/ak2.pub" \
	--nonce 01 --pcrs sha256:0-9 "$T/fw.ev"
eq "eventlog check passed" "$(jq -r '.checks[] | select(.check=="eventlog") | .result' "$T/.out")" pass
check "quote with another machine's log" "$VOUCH" attest quote --nonce 02 --pcrs sha256:0-9 \
	--no-ima --eventlog "$TVEC/eventlog/tcg2-locality.bin" --out "$T/fw2.ev"
expect_rc 1 "a log that does not replay fails" "$VOUCH" attest verify --json --ak "$T/ak2.pub" \
	--nonce 02 --pcrs sha256:0-9 "$T/fw2.ev"
eq "reason: eventlog" "$(reason)" eventlog
done_testing
