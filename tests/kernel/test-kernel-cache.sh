#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The kernel rig's cache under attack from its own users: two rigs on a cold cache at once,
# a download that fails or is not a package, leftovers of a killed run, an archive without a
# kernel, a pinned version.  apt is replaced by a fake that behaves like apt-get download
# (writes into the current directory, a clashing or failed fetch ends as *.deb.FAILED), so
# this runs in a second without network.
. "$(dirname "$0")/../integration/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
. "${KERNEL_CACHE_SH:-$HERE/kernel-cache.sh}"
require_peer dpkg-deb dpkg
require_peer flock util-linux

mkdir -p "$T/bin"
export FAKE_LOG=$T/apt.log FAKE_MODE=ok FAKE_NOKERNEL=
cat >"$T/bin/apt-cache" <<'EOS'
#!/bin/bash
[ -n "$FAKE_NOKERNEL" ] && { echo "linux-image-amd64"; exit 0; }
printf 'linux-image-amd64\n  Depends: linux-image-6.1.0-57-amd64\n'
EOS
cat >"$T/bin/apt-get" <<'EOS'
#!/bin/bash
pkg=${*: -1}; kver=${pkg#linux-image-}; f=${pkg}_1_amd64.deb
echo "$pkg" >>"$FAKE_LOG"
if [ -e "$f.inprogress" ]; then   # two apt-get download of one file in one directory
	rm -f "$f"; : >"$f.FAILED"; echo "E: Failed to fetch $f: File has unexpected size" >&2; exit 100
fi
: >"$f.inprogress"
case $FAKE_MODE in
fail) head -c 100 /dev/urandom >"$f"; sleep 0.5; mv "$f" "$f.FAILED"; rm -f "$f.inprogress"
      echo "E: Failed to fetch $f: Connection reset" >&2; exit 100 ;;
none) rm -f "$f.inprogress"; echo "E: Can't select candidate version from package $pkg as it has no candidate" >&2; exit 100 ;;
garbage) head -c 4096 /dev/urandom >"$f" ;;
ok) d=$(mktemp -d); mkdir -p "$d/DEBIAN" "$d/boot" "$d/lib/modules/$kver"
    printf 'Package: %s\nVersion: 1\nArchitecture: amd64\nMaintainer: t <t@t>\nDescription: t\n' "$pkg" >"$d/DEBIAN/control"
    echo kernel >"$d/boot/vmlinuz-$kver"
    dpkg-deb --root-owner-group -Zgzip --build "$d" "$d.deb" >/dev/null
    head -c 200 "$d.deb" >"$f"; sleep 1; cp "$d.deb" "$f"; rm -rf "$d" "$d.deb" ;;
esac
rm -f "$f.inprogress"
EOS
chmod +x "$T/bin/"*
export PATH=$T/bin:$PATH
K=linux-image-6.1.0-57-amd64

# 1. cold cache, two rigs at once: one download, both get the kernel, nothing left over
C=$T/c1
( kernel_fetch "$C" && echo "ok $KERNEL_ROOT" || echo "err $KERNEL_ERROR" ) >"$T/a" 2>&1 &
( kernel_fetch "$C" && echo "ok $KERNEL_ROOT" || echo "err $KERNEL_ERROR" ) >"$T/b" 2>&1 &
wait
eq "cold cache, two fetches at once: the first gets the kernel" "$(cat "$T/a")" "ok $C/$K/root"
eq "cold cache, two fetches at once: the second gets the kernel" "$(cat "$T/b")" "ok $C/$K/root"
eq "cold cache, two fetches at once: one download" "$(wc -l <"$FAKE_LOG")" 1
eq "no *.FAILED, partial or temporary file left" "$(cd "$C/$K" && ls -A | grep -v '^root$\|_amd64\.deb$' | tr '\n' ' ')" ""
check "the cached root has the kernel" test -f "$C/$K/root/boot/vmlinuz-6.1.0-57-amd64"
: >"$FAKE_LOG"
kernel_fetch "$C"
eq "a warm cache downloads nothing" "$(wc -l <"$FAKE_LOG")" 0

# 2. a failed download: a clear error, nothing cached, the next run downloads again
C=$T/c2; : >"$FAKE_LOG"
FAKE_MODE=fail
if kernel_fetch "$C"; then not_ok "a failed download fails"; else ok "a failed download fails"; fi
case $KERNEL_ERROR in *"apt-get download $K failed"*) ok "and says so: $KERNEL_ERROR" ;;
	*) not_ok "and says so"; diag "got: $KERNEL_ERROR" ;; esac
eq "a failed download leaves nothing in the cache" "$(cd "$C/$K" 2>/dev/null && ls -A | tr '\n' ' ')" ""
FAKE_MODE=ok
if kernel_fetch "$C" && [ -f "$C/$K/root/boot/vmlinuz-6.1.0-57-amd64" ]; then
	ok "the next run downloads again and succeeds"; else not_ok "the next run downloads again and succeeds"; diag "$KERNEL_ERROR"; fi

# 3. a download that is not a Debian package is refused, never cached
C=$T/c3; FAKE_MODE=garbage
if kernel_fetch "$C"; then not_ok "a download that is not a package is refused"; else
	ok "a download that is not a package is refused ($KERNEL_ERROR)"; fi
check "and not cached" test ! -e "$C/$K/root"
FAKE_MODE=ok

# 4. leftovers of a killed run (apt's .FAILED, a half-unpacked root.new, a root without a
#    kernel) are never trusted
C=$T/c4; mkdir -p "$C/$K/root.new/boot" "$C/$K/root/lib" "$C/$K/.fetch.dead"
echo junk >"$C/$K/${K}_1_amd64.deb.FAILED"
if kernel_fetch "$C" && [ -f "$C/$K/root/boot/vmlinuz-6.1.0-57-amd64" ]; then
	ok "a cache poisoned by a killed run is repaired"; else not_ok "a cache poisoned by a killed run is repaired"; diag "${KERNEL_ERROR:-}"; fi
eq "and its leftovers are gone" "$(cd "$C/$K" && ls -A | grep -v '^root$\|_amd64\.deb$' | tr '\n' ' ')" ""

# 5. an archive without a kernel: a clear message
C=$T/c5
if FAKE_NOKERNEL=1 kernel_fetch "$C"; then not_ok "no kernel in the archive fails"; else
	case $KERNEL_ERROR in *"archive has no kernel"*) ok "no kernel in the archive: $KERNEL_ERROR" ;;
		*) not_ok "no kernel in the archive: a clear message"; diag "got: ${KERNEL_ERROR:-}" ;; esac; fi
if VOUCH_KERNEL_VERSION=6.1.0-1 FAKE_MODE=none kernel_fetch "$C"; then not_ok "a pinned kernel the archive lacks fails"; else
	case $KERNEL_ERROR in *"archive has no kernel package linux-image-6.1.0-1-amd64"*) ok "a pinned kernel the archive lacks: $KERNEL_ERROR" ;;
		*) not_ok "a pinned kernel the archive lacks: a clear message"; diag "got: ${KERNEL_ERROR:-}" ;; esac; fi

# 6. VOUCH_KERNEL_VERSION pins the version
C=$T/c6; : >"$FAKE_LOG"
VOUCH_KERNEL_VERSION=6.1.0-56 kernel_fetch "$C"
eq "VOUCH_KERNEL_VERSION=6.1.0-56 fetches linux-image-6.1.0-56-amd64" "$(cat "$FAKE_LOG")" linux-image-6.1.0-56-amd64
check "and unpacks it" test -f "$C/linux-image-6.1.0-56-amd64/root/boot/vmlinuz-6.1.0-56-amd64"
done_testing
