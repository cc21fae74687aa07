#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End to end: the real Debian 6.1 kernel's measurement list (tests/vectors/debian-6.1),
# extended into swtpm's PCR 10 and quoted, verified with 'vouch attest verify --reference'
# against reference values built from the Debian packages of the guest's files (busybox-static,
# keyutils, libc6, libkeyutils1, downloaded with apt-get): every file entry that comes from a
# package is found, the _ima key through --keyring; a file that is in no package is reported
# by its path.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/swtpm.sh"
require_peer swtpm swtpm
require_peer jq jq

CACHE=${VOUCH_DEB_CACHE:-${VOUCH_BUILDDIR:-$T}/deb-cache}-e2e
PKGS=(busybox-static keyutils libc6 libkeyutils1)
if [ "$(ls -1 "$CACHE"/*.deb 2>/dev/null | wc -l)" -lt ${#PKGS[@]} ]; then
	"$VOUCH_SRCDIR/scripts/fetch-debs.sh" ${#PKGS[@]} "$CACHE" "${PKGS[@]}" >"$T/fetch.log" 2>&1 || true
fi
if [ "$(ls -1 "$CACHE"/*.deb 2>/dev/null | wc -l)" -lt ${#PKGS[@]} ]; then
	echo "1..0 # SKIP the guest's packages cannot be downloaded ($(tail -1 "$T/fetch.log"))"
	exit 0
fi
DEB=$VEC/debian-6.1/binary_runtime_measurements

swtpm_start "$T/tpm" || { not_ok "swtpm starts"; done_testing; }
trap 'swtpm_stop; rm -rf "$T"' EXIT
export VOUCH_TCTI=$SWTPM_TCTI
swtpm_debian_pcr10 "the Debian guest's"
check "AK" "$VOUCH" tpm ak create --out "$T/ak"
check "quote PCR 10 with the guest's list" "$VOUCH" attest quote --nonce 07 --pcrs sha256:10 \
	--ima "$DEB" --no-eventlog --out "$T/ev"

# the files the rig put on the guest that no package ships: the test data and keys
local_files=(--exclude /keys/ --exclude /mnt/test/ --exclude /bin/hello-initramfs)
check "reference values from the guest's packages" "$VOUCH" reference create --quiet \
	--out "$T/ref.json" --follow-symlinks --keyring "_ima=$VEC/keys/rsa2048.der" \
	"${local_files[@]}" --exclude /bin/labtool --deb-dir "$CACHE"
res() { jq -r --arg c "$1" '.checks[] | select(.check==$c) | .result' "$T/.out"; }
expect_rc 0 "the guest's list verifies against them" "$VOUCH" attest verify --json --ak "$T/ak.pub" \
	--nonce 07 --pcrs sha256:10 --reference "$T/ref.json" "$T/ev"
eq "reference: every attested entry is allowed" "$(res reference)" pass
# the package files of the list, each found in the reference with the digest it was measured with
n=0
while read -r path digest; do
	"$VOUCH" reference check "$T/ref.json" "$path" "$digest" >/dev/null && n=$((n+1))
done < <(awk '$3 == "ima-sig" && $5 !~ /^\/(keys|mnt\/test)\// && $5 != "boot_aggregate" && $5 != "/bin/labtool" && $5 != "/bin/hello-initramfs" {print $5, $4}' \
	"$VEC/debian-6.1/ascii_runtime_measurements")
eq "the 5 package files of the list are found with their digests (busybox, keyctl, ld.so, libc, libkeyutils)" "$n" 5

check "the same without excluding /bin/labtool" "$VOUCH" reference create --quiet \
	--out "$T/ref2.json" --follow-symlinks --keyring "_ima=$VEC/keys/rsa2048.der" \
	"${local_files[@]}" --deb-dir "$CACHE"
expect_rc 1 "a file that is in no package fails the reference check" "$VOUCH" attest verify --json \
	--ak "$T/ak.pub" --nonce 07 --pcrs sha256:10 --reference "$T/ref2.json" "$T/ev"
eq "first failure: reference" "$(jq -r .first_failure.check "$T/.out")" reference
eq "it is reported with its path" "$(jq -r .first_failure.detail "$T/.out" | cut -d'(' -f1)" \
	"entry 10 '/bin/labtool': not in the reference values "
check "the same without the _ima key" "$VOUCH" reference create --quiet --out "$T/ref3.json" \
	--follow-symlinks "${local_files[@]}" --exclude /bin/labtool --deb-dir "$CACHE"
expect_rc 1 "a key not allowed in the _ima keyring fails" "$VOUCH" attest verify --json \
	--ak "$T/ak.pub" --nonce 07 --pcrs sha256:10 --reference "$T/ref3.json" "$T/ev"
eq "it is reported with its keyring name" "$(jq -r .first_failure.detail "$T/.out" | cut -d'(' -f1)" \
	"entry 9 '_ima': not in the reference values "
check "without --follow-symlinks" "$VOUCH" reference create --quiet --out "$T/ref4.json" \
	--keyring "_ima=$VEC/keys/rsa2048.der" "${local_files[@]}" --exclude /bin/labtool --deb-dir "$CACHE"
expect_rc 1 "a file measured under a package symlink's name is not found" "$VOUCH" attest verify --json \
	--ak "$T/ak.pub" --nonce 07 --pcrs sha256:10 --reference "$T/ref4.json" "$T/ev"
eq "the first one is ld.so, by the name it was measured with" "$(jq -r .first_failure.detail "$T/.out" | cut -d'(' -f1)" \
	"entry 4 '/lib64/ld-linux-x86-64.so.2': not in the reference values "
done_testing
