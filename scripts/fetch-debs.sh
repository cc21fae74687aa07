#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Download Debian packages for the reference-value checks (tests/integration/test-reference.sh
# takes 20, the full check 300 or more): the first N packages of this machine's installed
# set (sorted by name, so the choice is stable), each at the candidate version apt knows,
# into DIR with 'apt-get download'.  Packages apt cannot download are skipped.
#   scripts/fetch-debs.sh N DIR [PACKAGE...]      (PACKAGE... are taken first)
set -euo pipefail
n=${1:?usage: fetch-debs.sh N DIR [PACKAGE...]}
dir=${2:?usage: fetch-debs.sh N DIR [PACKAGE...]}
shift 2
mkdir -p "$dir"
cd "$dir"
# apt drops privileges to _apt for downloads; a directory it cannot write is fine as root
have() { ls -1 ./*.deb 2>/dev/null | wc -l; }
{ printf '%s\n' "$@"; dpkg-query -W -f '${db:Status-Status} ${Package}\n' | awk '$1 == "installed" {print $2}' | sort; } |
while read -r p; do
	[ "$(have)" -ge "$n" ] && break
	[ -n "$p" ] || continue
	ls ./"${p}"_*.deb >/dev/null 2>&1 && continue
	apt-get download -q=2 "$p" >/dev/null 2>&1 || echo "fetch-debs: cannot download $p, skipped" >&2
done
echo "fetch-debs: $(have) packages in $dir"
[ "$(have)" -ge "$n" ]
