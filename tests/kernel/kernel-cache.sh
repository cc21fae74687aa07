#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The kernel rig's cache of Debian's kernel: source it, then
#     kernel_fetch CACHE_DIR   ->  sets KERNEL_PKG, KERNEL_VERSION, KERNEL_ROOT, or prints why not
#
# Safe when several rig tests start at once on a cold cache: one download at a time under a
# lock (flock CACHE_DIR/.lock); apt downloads into a private temporary directory, the package
# is checked with dpkg-deb --info, unpacked there, and only then renamed into place, so a
# failed or partial download (apt's *.deb.FAILED, a killed dpkg -x) is never seen by a later
# run.  A root is trusted only once the rename made it appear.
#
# VOUCH_KERNEL_VERSION pins a kernel (6.1.0-57-amd64, or 6.1.0-57 for -amd64); without it
# the image linux-image-amd64 depends on is used.
KERNEL_LOCK_TIMEOUT=${KERNEL_LOCK_TIMEOUT:-1200}

kernel_pkg() {
	local v=${VOUCH_KERNEL_VERSION:-}
	if [ -n "$v" ]; then
		case "$v" in *-amd64|*-cloud-amd64|*-rt-amd64) ;; *) v=$v-amd64 ;; esac
		echo "linux-image-$v"; return 0
	fi
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}

kernel_fetch() {
	local cache=$1 pkg dir tmp deb lockfd log
	KERNEL_PKG= KERNEL_VERSION= KERNEL_ROOT= KERNEL_ERROR=
	pkg=$(kernel_pkg)
	if [ -z "$pkg" ]; then
		KERNEL_ERROR="the archive has no kernel: linux-image-amd64 depends on no linux-image-6.* package in apt's lists (run 'apt-get update', check /etc/apt/sources.list, or pin one with VOUCH_KERNEL_VERSION=6.1.0-NN)"
		return 1
	fi
	KERNEL_PKG=$pkg
	KERNEL_VERSION=${pkg#linux-image-}
	dir=$cache/$pkg
	KERNEL_ROOT=$dir/root
	# fast path: a root appears only by rename, complete
	[ -f "$KERNEL_ROOT/boot/vmlinuz-$KERNEL_VERSION" ] && return 0

	mkdir -p "$cache" || { KERNEL_ERROR="cannot create the kernel cache $cache"; return 1; }
	exec {lockfd}>>"$cache/.lock" || { KERNEL_ERROR="cannot open $cache/.lock"; return 1; }
	if ! flock -w "$KERNEL_LOCK_TIMEOUT" "$lockfd"; then
		exec {lockfd}>&-
		KERNEL_ERROR="another run held $cache/.lock for ${KERNEL_LOCK_TIMEOUT}s"; return 1
	fi
	# someone else may have fetched it while we waited
	if [ -f "$KERNEL_ROOT/boot/vmlinuz-$KERNEL_VERSION" ]; then exec {lockfd}>&-; return 0; fi
	mkdir -p "$dir"
	# leftovers of older or killed runs are never trusted: apt's *.FAILED, partial files,
	# half-unpacked roots
	rm -rf "$dir"/*.FAILED "$dir"/*.partial "$dir"/root.new "$dir"/.fetch.* "$KERNEL_ROOT"
	tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
	chmod 755 "$tmp" # apt's _apt user writes there
	log=$tmp/apt.log
	if ! (cd "$tmp" && apt-get -o Acquire::Retries=3 download "$pkg") >"$log" 2>&1; then
		KERNEL_ERROR="apt-get download $pkg failed: $(grep -E '^(E|W):' "$log" | tail -2 | tr '\n' ' ')"
		if grep -q 'Unable to locate\|has no installation candidate\|Can.t select' "$log"; then
			KERNEL_ERROR="the archive has no kernel package $pkg (apt: $(grep -E '^E:' "$log" | head -1)); run 'apt-get update' or pin another with VOUCH_KERNEL_VERSION"
		fi
		rm -rf "$tmp"; exec {lockfd}>&-; return 1
	fi
	deb=$(find "$tmp" -maxdepth 1 -name "${pkg}_*.deb" | head -1)
	if [ -z "$deb" ] || ! dpkg-deb --info "$deb" >/dev/null 2>>"$log" ||
		[ "$(dpkg-deb --field "$deb" Package 2>/dev/null)" != "$pkg" ]; then
		KERNEL_ERROR="the download of $pkg is not a valid $pkg package; nothing cached"
		rm -rf "$tmp"; exec {lockfd}>&-; return 1
	fi
	if ! dpkg-deb -x "$deb" "$tmp/root" 2>>"$log" || [ ! -f "$tmp/root/boot/vmlinuz-$KERNEL_VERSION" ]; then
		KERNEL_ERROR="$pkg does not unpack to boot/vmlinuz-$KERNEL_VERSION; nothing cached"
		rm -rf "$tmp"; exec {lockfd}>&-; return 1
	fi
	sync -f "$tmp" 2>/dev/null || true
	mv "$deb" "$dir/" && mv "$tmp/root" "$KERNEL_ROOT"
	rm -rf "$tmp"
	exec {lockfd}>&-
	[ -f "$KERNEL_ROOT/boot/vmlinuz-$KERNEL_VERSION" ] || { KERNEL_ERROR="could not move $pkg into $dir"; return 1; }
}
