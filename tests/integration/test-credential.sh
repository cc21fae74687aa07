#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# Credential activation for enrollment against swtpm and tpm2-tools: vouch's software
# MakeCredential activates with tpm2_activatecredential, tpm2_makecredential's (-T none, its
# software mode) with vouch, vouch's with vouch; and each thing enrollment must refuse is
# refused: another AK's name, another TPM's EK, an altered blob, an EK certificate from an
# unknown CA or for another key, an AK that decrypts or is not restricted.
# Two TPMs are manufactured with 'swtpm_setup --create-ek-cert', each by its own local CA
# made here with openssl (swtpm_localca signs with it; nothing is read from /etc or /var).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/swtpm.sh"
require_peer swtpm swtpm
require_peer swtpm_setup swtpm-tools
require_peer swtpm_localca swtpm-tools
require_peer tpm2_activatecredential tpm2-tools
require_peer openssl openssl
trap 'swtpm_stop; rm -rf "$T"' EXIT

# manufacture TPM NAME: an EK CA of its own, the EKs and their certificates in NV
manufacture() { swtpm_manufacture "$1"; }

check "manufacture TPM A with an EK certificate from CA A" manufacture A
check "manufacture TPM B with an EK certificate from CA B" manufacture B
CA_A=$T/A/ca/issuercert.pem
CA_B=$T/B/ca/issuercert.pem
printf 'enrollment secret 0123456789abc' >"$T/secret"  # up to the nameAlg size: 32

# --- TPM B: only its EK and certificate are needed ----------------------------------------
swtpm_start "$T/B/tpm" || { not_ok "swtpm B starts"; done_testing; }
export VOUCH_TCTI=$SWTPM_TCTI
check "vouch tpm ek reads TPM B's EK and certificate" "$VOUCH" tpm ek --public "$T/ekB.pub" \
	--cert "$T/ekB.crt"
swtpm_stop

# --- TPM A ---------------------------------------------------------------------------------
swtpm_start "$T/A/tpm" || { not_ok "swtpm A starts"; done_testing; }
export VOUCH_TCTI=$SWTPM_TCTI
diag "swtpm pid $SWTPM_PID on $SWTPM_TCTI"
check "vouch tpm ek reads TPM A's EK and certificate" "$VOUCH" tpm ek --public "$T/ekA.pub" \
	--cert "$T/ekA.crt"
eq "the EK certificate is the one swtpm_setup signed with CA A" \
	"$(openssl verify -partial_chain -CAfile "$CA_A" "$T/ekA.crt" 2>&1 | tail -1)" \
	"$T/ekA.crt: OK"
tpm2_readpublic -Q -c 0x81010001 -o "$T/ekA-persistent.pub" 2>/dev/null
check "vouch's EK (TCG template) is swtpm_setup's persistent EK" \
	cmp "$T/ekA.pub" "$T/ekA-persistent.pub"
check "tpm2_createek makes the same EK" bash -c \
	"tpm2_createek -Q -c '$T/ek.ctx' -G rsa -u '$T/ekA-tools.pub' && cmp '$T/ekA.pub' '$T/ekA-tools.pub'"
tpm2_flushcontext -t >/dev/null 2>&1
check "AK 1 created" "$VOUCH" tpm ak create --out "$T/ak1"
check "AK 2 created" "$VOUCH" tpm ak create --handle 0x81010011 --out "$T/ak2"

# (a) vouch makes (no TPM), tpm2_activatecredential activates
check "vouch makes a credential for AK 1 after checking the EK certificate and the AK" \
	env -u VOUCH_TCTI "$VOUCH" tpm credential make --ek "$T/ekA.pub" --ak "$T/ak1.pub" \
	--ek-cert "$T/ekA.crt" --ek-ca "$CA_A" --secret "$T/secret" --out "$T/cred-a"
tools_activate() { # CRED OUT [AK [EK]]: tpm2-tools activate; without EK, an RSA EK made here
	local ek=${4:-$T/ek.ctx}
	tpm2_flushcontext -t >/dev/null 2>&1
	{ [ -n "${4:-}" ] || tpm2_createek -Q -c "$T/ek.ctx" -G rsa; } &&
	tpm2_startauthsession -Q --policy-session -S "$T/s.ctx" &&
	tpm2_policysecret -Q -S "$T/s.ctx" -c e &&
	tpm2_activatecredential -Q -c "${3:-0x81010010}" -C "$ek" -i "$1" -o "$2" \
		-P "session:$T/s.ctx"
	local rc=$?
	tpm2_flushcontext -t >/dev/null 2>&1; tpm2_flushcontext -s >/dev/null 2>&1
	return $rc
}
check "(a) tpm2_activatecredential activates vouch's credential" \
	tools_activate "$T/cred-a" "$T/secret-a"
check "(a) and gets the secret back" cmp "$T/secret" "$T/secret-a"

# (b) tpm2_makecredential in its software mode makes, vouch activates
check "(b) tpm2_makecredential -T none makes a credential for AK 1" \
	tpm2_makecredential -T none -u "$T/ekA.pub" -s "$T/secret" \
	-n "$(od -An -tx1 "$T/ak1.name" | tr -d ' \n')" -o "$T/cred-b"
check "(b) vouch activates it" "$VOUCH" tpm credential activate --ak-handle 0x81010010 \
	"$T/cred-b" --out "$T/secret-b"
check "(b) and gets the secret back" cmp "$T/secret" "$T/secret-b"
eq "(b) the secret file is private" "$(stat -c %a "$T/secret-b")" 600

# (c) vouch makes, vouch activates, with the persistent EK and with --ak-name
check "(c) vouch makes for AK 1 by name" env -u VOUCH_TCTI "$VOUCH" tpm credential make \
	--ek "$T/ekA.pub" --ak-name "$(od -An -tx1 "$T/ak1.name" | tr -d ' \n')" \
	--secret "$T/secret" --out "$T/cred-c"
check "(c) vouch activates with the persistent EK 0x81010001" "$VOUCH" tpm credential \
	activate --ek-handle 0x81010001 "$T/cred-c" --out "$T/secret-c"
check "(c) and gets the secret back" cmp "$T/secret" "$T/secret-c"
check "(c) activating again works (no session or object left behind)" "$VOUCH" tpm credential \
	activate "$T/cred-c" --out "$T/secret-c2"
check "(c) a credential made to the EK's PEM key activates too" bash -c \
	"openssl x509 -inform der -in '$T/ekA.crt' -pubkey -noout >'$T/ekA.pem' &&
	 '$VOUCH' tpm credential make --ek '$T/ekA.pem' --ak '$T/ak1.pub' --secret '$T/secret' \
	   --out '$T/cred-pem' && '$VOUCH' tpm credential activate '$T/cred-pem' --out '$T/secret-pem' &&
	 cmp '$T/secret' '$T/secret-pem'"

# (d) an ECC NIST P-256 EK (persisted by tpm2_createek; vouch creates only the RSA one itself)
check "tpm2_createek persists an ECC EK at 0x81010002" tpm2_createek -Q -G ecc -c 0x81010002 \
	-u "$T/ekA-ecc.pub"
tpm2_flushcontext -t >/dev/null 2>&1
check "(d) vouch makes a credential to the ECC EK" "$VOUCH" tpm credential make \
	--ek "$T/ekA-ecc.pub" --ak "$T/ak1.pub" --secret "$T/secret" --out "$T/cred-ecc"
check "(d) vouch activates it with the ECC EK" "$VOUCH" tpm credential activate \
	--ek-handle 0x81010002 "$T/cred-ecc" --out "$T/secret-ecc"
check "(d) and gets the secret back" cmp "$T/secret" "$T/secret-ecc"
check "(d) tpm2_activatecredential activates vouch's ECC credential" \
	tools_activate "$T/cred-ecc" "$T/secret-ecc2" 0x81010010 0x81010002
check "(d) and gets the secret back" cmp "$T/secret" "$T/secret-ecc2"
check "(d) tpm2_makecredential -T none makes one to the ECC EK" tpm2_makecredential -T none \
	-u "$T/ekA-ecc.pub" -s "$T/secret" -n "$(od -An -tx1 "$T/ak1.name" | tr -d ' \n')" \
	-o "$T/cred-ecc-tools"
check "(d) vouch activates it" "$VOUCH" tpm credential activate --ek-handle 0x81010002 \
	"$T/cred-ecc-tools" --out "$T/secret-ecc3"
check "(d) and gets the secret back" cmp "$T/secret" "$T/secret-ecc3"
expect_rc 1 "an ECC credential does not activate with the RSA EK" "$VOUCH" tpm credential \
	activate "$T/cred-ecc" --out "$T/x0"
expect_rc 1 "an ECC credential for AK 1 does not activate with AK 2" "$VOUCH" tpm credential \
	activate --ak-handle 0x81010011 --ek-handle 0x81010002 "$T/cred-ecc" --out "$T/x00"

# --- must fail ------------------------------------------------------------------------------
expect_rc 1 "a credential for AK 1 does not activate with AK 2" "$VOUCH" tpm credential \
	activate --ak-handle 0x81010011 "$T/cred-a" --out "$T/x1"
one_line_err "says not for this AK" "not for this AK"
check "nothing was written" test ! -e "$T/x1"
if tools_activate "$T/cred-a" "$T/x1b" 0x81010011 >"$T/.out" 2>&1; then
	not_ok "tpm2_activatecredential refuses it with AK 2 too"
else
	ok "tpm2_activatecredential refuses it with AK 2 too"
fi
env -u VOUCH_TCTI "$VOUCH" tpm credential make --ek "$T/ekB.pub" --ak "$T/ak1.pub" \
	--secret "$T/secret" --out "$T/cred-ekB" >/dev/null 2>&1
expect_rc 1 "a credential made to TPM B's EK does not activate on TPM A" "$VOUCH" tpm \
	credential activate "$T/cred-ekB" --out "$T/x2"
python3 - "$T/cred-a" "$T" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
hm = bytearray(b); hm[8 + 2 + 2 + 5] ^= 1           # inside the outer HMAC
open(sys.argv[2] + "/cred-hmac", "wb").write(hm)
ei = bytearray(b); n = int.from_bytes(b[8:10], "big"); ei[8 + 2 + n - 1] ^= 1  # encIdentity
open(sys.argv[2] + "/cred-enc", "wb").write(ei)
sd = bytearray(b); sd[-3] ^= 1                       # the encrypted seed
open(sys.argv[2] + "/cred-seed", "wb").write(sd)
PY
expect_rc 1 "a credential with an altered HMAC does not activate" "$VOUCH" tpm credential \
	activate "$T/cred-hmac" --out "$T/x3"
expect_rc 1 "a credential with an altered encrypted secret does not activate" "$VOUCH" tpm \
	credential activate "$T/cred-enc" --out "$T/x4"
expect_rc 1 "a credential with an altered seed does not activate" "$VOUCH" tpm credential \
	activate "$T/cred-seed" --out "$T/x5"
head -c 100 "$T/cred-a" >"$T/cred-short"
expect_rc 1 "a truncated credential file is malformed" "$VOUCH" tpm credential activate \
	"$T/cred-short" --out "$T/x6"
one_line_err "says truncated" "truncated"

expect_rc 1 "an EK certificate from an unknown CA is rejected" "$VOUCH" tpm credential make \
	--ek "$T/ekB.pub" --ak "$T/ak1.pub" --ek-cert "$T/ekB.crt" --ek-ca "$CA_A" \
	--secret "$T/secret" --out "$T/x7"
one_line_err "says it does not verify" "does not verify"
check "nothing was made" test ! -e "$T/x7"
expect_rc 1 "an EK certificate (CA trusted) for another TPM's EK is rejected" "$VOUCH" tpm \
	credential make --ek "$T/ekA.pub" --ak "$T/ak1.pub" --ek-cert "$T/ekB.crt" \
	--ek-ca "$CA_A" --ek-ca "$CA_B" --secret "$T/secret" --out "$T/x8"
one_line_err "says another key" "another key"
check "both CAs trusted, each EK with its own certificate passes" bash -c \
	"'$VOUCH' tpm credential make --ek '$T/ekB.pub' --ak '$T/ak1.pub' --ek-cert '$T/ekB.crt' \
	   --ek-ca '$CA_A' --ek-ca '$CA_B' --secret '$T/secret' --out '$T/ok-B'"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/self.key" -out "$T/self.crt" -days 1 \
	-subj "/CN=self-signed EK" >/dev/null 2>&1
expect_rc 1 "a self-signed EK certificate is rejected" "$VOUCH" tpm credential make \
	--ek "$T/ekA.pub" --ak "$T/ak1.pub" --ek-cert "$T/self.crt" --ek-ca "$CA_A" \
	--secret "$T/secret" --out "$T/x9"

# AK attributes: a decrypting key and an unrestricted signing key made with tpm2-tools
check "tpm2_create makes a signing key that can also decrypt" tools_key "$T/akdec.pub" rsa2048 \
	'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign|decrypt'
check "tpm2_create makes an unrestricted signing key" tools_key "$T/akunr.pub" \
	rsa2048:rsassa-sha256 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign'
expect_rc 1 "an AK that can decrypt is rejected" "$VOUCH" tpm credential make \
	--ek "$T/ekA.pub" --ak "$T/akdec.pub" --secret "$T/secret" --out "$T/x10"
one_line_err "says it can decrypt" "can decrypt"
expect_rc 1 "an AK that is not restricted is rejected" "$VOUCH" tpm credential make \
	--ek "$T/ekA.pub" --ak "$T/akunr.pub" --secret "$T/secret" --out "$T/x11"
one_line_err "says restricted" "restricted"
expect_rc 1 "the EK is not an AK" "$VOUCH" tpm credential make --ek "$T/ekA.pub" \
	--ak "$T/ekA.pub" --secret "$T/secret" --out "$T/x12"

# usage and could-not-check
head -c 33 /dev/zero >"$T/secret33"
expect_rc 2 "a secret longer than the EK's nameAlg digest is a usage error" "$VOUCH" tpm \
	credential make --ek "$T/ekA.pub" --ak "$T/ak1.pub" --secret "$T/secret33" --out "$T/x19"
expect_rc 2 "--ak and --ak-name together are a usage error" "$VOUCH" tpm credential make \
	--ek "$T/ekA.pub" --ak "$T/ak1.pub" --ak-name 000b00 --secret "$T/secret" --out "$T/x13"
expect_rc 2 "--ek-cert without --ek-ca is a usage error" "$VOUCH" tpm credential make \
	--ek "$T/ekA.pub" --ak "$T/ak1.pub" --ek-cert "$T/ekA.crt" --secret "$T/secret" \
	--out "$T/x14"
expect_rc 2 "--out given twice is a usage error" "$VOUCH" tpm credential activate \
	--out "$T/x15" --out "$T/x16" "$T/cred-c"
expect_rc 3 "no AK at the handle: could not check" "$VOUCH" tpm credential activate \
	--ak-handle 0x81010099 "$T/cred-c" --out "$T/x17"
expect_rc 3 "no TPM: could not check" env VOUCH_TCTI=swtpm:host=127.0.0.1,port=1 "$VOUCH" \
	tpm credential activate "$T/cred-c" --out "$T/x18"
check "tss2 printed nothing itself" bash -c "! grep -q '^ERROR:\|^WARNING:' '$T/.err'"
done_testing
