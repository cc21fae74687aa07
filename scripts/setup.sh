#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install every Debian package vouch and its tests need, then build.  Idempotent: apt runs
# only when a package is missing, 'apt-get update' at most once, and it waits for the dpkg
# lock instead of failing.  Run as root on Debian 12 (bookworm).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
	# build
	gcc g++ clang llvm libclang-rt-14-dev pkg-config meson ninja-build binutils
	libssl-dev libjson-c-dev libkeyutils-dev libtss2-dev libsqlite3-dev libpq-dev libevent-dev libcurl4-openssl-dev
	zlib1g-dev libzstd-dev liblzma-dev libarchive-dev
	# tools the tests use
	openssl jq curl sqlite3 strace attr keyutils valgrind hyperfine cpio zstd xz-utils gzip kmod
	# the kernel rig (tests/kernel): Debian's kernel under QEMU
	qemu-system-x86 busybox-static e2fsprogs libc6-dev
	# its firmware test module is built against the headers of the kernel linux-image-amd64
	# depends on (the rig boots that one)
	linux-headers-amd64
	# real peers
	ima-evm-utils linux-kbuild-6.1 tpm2-tools swtpm swtpm-tools fsverity
	linux-source-6.1 busybox-static
	# issue 4: bench/sign-tree (/usr/bin/time, bc, python3); lsattr from e2fsprogs above
	time bc python3
	# vouch audit-kernel: Coccinelle (the full-run test audits linux-source-6.1)
	coccinelle
	# issue 15: the Debian package (.ci/run builds, lintians and installs it), the man-page
	# test (man -l, groff -ww, col) and the bash completion
	debhelper dpkg-dev lintian bash-completion man-db groff-base bsdextrautils
	# vouchd's outputs: sd_notify (libsystemd), 'promtool check metrics' (prometheus; its
	# server is not started in a container without systemd, and stopped below otherwise),
	# the EAR verified with python3-jwt, the units checked with systemd-analyze (systemd)
	libsystemd-dev prometheus python3-jwt systemd
	# the fleet web page's headless-browser test (tests/service/test-fleet.sh)
	chromium
	# issue 17: vouchd on PostgreSQL (libpq-dev above); scripts/pg-cluster.sh runs the
	# server of postgresql-15 in a throwaway cluster for test-store-pg and the benchmarks
	postgresql-15
	# issue 20: bench/guard compares vouch guard with fapolicyd (run by the bench only, in
	# its own mount namespace); masked below before it is installed
	fapolicyd
	# issue 21: the suite's ABI check (tests/abi.sh: abidiff against tests/abi/*.abi)
	abigail-tools
)

# fapolicyd's package enables and starts fapolicyd.service, whose default rules deny every
# execution the (here empty) trust database does not list: on a machine that boots with
# systemd that blocks the system.  Masked before the install, whether systemd runs now or
# not (a /dev/null symlink needs no running manager; the package's postinst unmasks only
# what its own helper masked); the bench runs the binary itself.
if [ "$(id -u)" = 0 ] && [ ! -e /etc/systemd/system/fapolicyd.service ]; then
	mkdir -p /etc/systemd/system
	ln -s /dev/null /etc/systemd/system/fapolicyd.service
fi

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup: missing packages: ${missing[*]}; run as root" >&2
		exit 1
	fi
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt_opts=(-o DPkg::Lock::Timeout=900 -o Acquire::Retries=3)
	apt-get "${apt_opts[@]}" update -qq
	apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}"
	# only promtool is wanted from 'prometheus': no server listening on :9090 afterwards
	if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
		systemctl disable --now prometheus prometheus-node-exporter 2>/dev/null || true
	fi
fi

if [ ! -f build/build.ninja ]; then
	meson setup build --buildtype=debugoptimized -Dwerror=true
fi
ninja -C build
echo "setup: ready; vouch is build/programs/vouch"
