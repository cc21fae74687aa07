#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vouch reference: real Debian packages hashed file by file against dpkg-deb -x + sha256sum;
# packages built here in every compression; hostile and broken packages refused with a
# message naming package and member and nothing written; --dpkg, diversions, conffiles,
# merge/diff, the id and the detached signature.
. "$(dirname "$0")/lib.sh"
require_peer dpkg-deb dpkg
require_peer ar binutils
require_peer python3 python3
require_peer sha256sum coreutils

CACHE=${VOUCH_DEB_CACHE:-${VOUCH_BUILDDIR:-$T}/deb-cache}
SAMPLE=${VOUCH_DEB_SAMPLE:-20}
REF=$T/ref.json

# --- real packages ------------------------------------------------------------------------
if [ "$(ls -1 "$CACHE"/*.deb 2>/dev/null | wc -l)" -lt "$SAMPLE" ]; then
	"$VOUCH_SRCDIR/scripts/fetch-debs.sh" "$SAMPLE" "$CACHE" hello bash coreutils \
		openssh-client tar gzip xz-utils zstd >"$T/fetch.log" 2>&1 || true
fi
n_debs=$(ls -1 "$CACHE"/*.deb 2>/dev/null | wc -l)
if [ "$n_debs" -ge "$SAMPLE" ]; then
	mapfile -t debs < <(ls -1 "$CACHE"/*.deb | head -n "$SAMPLE")
	check "reference from $SAMPLE real packages (sha256, sha512, 2 jobs)" \
		"$VOUCH" reference create --out "$REF" --algo sha256,sha512 --jobs 2 --deb "${debs[@]}"
	# every file of every package, as dpkg-deb -x extracts it, hashed by sha256sum
	bad=0; files=0
	for d in "${debs[@]}"; do
		rm -rf "$T/x"; mkdir "$T/x"
		dpkg-deb -x "$d" "$T/x"
		pkg=$(dpkg-deb -f "$d" Package)
		while IFS= read -r -d '' f; do
			files=$((files+1))
			want=$(sha256sum <"$f" | cut -d' ' -f1)
			p=${f#"$T/x"}
			# one jq per file would be slow: collect and check in one python run below
			printf '%s\t%s\t%s\n' "$pkg" "$p" "$want"
		done < <(find "$T/x" -type f -print0) >>"$T/want.tsv"
	done
	bad=$(python3 - "$REF" "$T/want.tsv" <<'PY'
import json, sys
ref = json.load(open(sys.argv[1]))["files"]
bad = 0
for line in open(sys.argv[2]):
    pkg, path, want = line.rstrip("\n").split("\t")
    ok = any(e.get("package") == pkg and "sha256:" + want in e["digests"] for e in ref.get(path, []))
    if not ok:
        bad += 1
        if bad <= 5:
            print("mismatch", pkg, path, file=sys.stderr)
print(bad)
PY
)
	eq "every file of $SAMPLE packages ($files files) has sha256sum's digest in the reference" "$bad" 0
	got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["files"]; print(sum(len(v) for v in d.values()))' "$REF")
	eq "no file more, no file less than dpkg-deb -x extracts" "$got" "$files"
	"$VOUCH" reference create --out "$T/ref1.json" --jobs 1 --quiet --deb "${debs[@]}" --algo sha256,sha512
	eq "one job and two give the same document" "$(cmp -s "$REF" "$T/ref1.json" && echo same)" same
	check "reference show" "$VOUCH" reference show "$REF"
else
	skip "no $SAMPLE .debs in $CACHE (apt-get download failed; see $T/fetch.log)"
fi

# --- packages built here ------------------------------------------------------------------
mkpkg() { # mkpkg DIR NAME VERSION [COMPRESSION]: a package of the tree DIR/root
	local dir=$1 name=$2 ver=$3 comp=${4:-xz}
	mkdir -p "$dir/root/DEBIAN"
	printf 'Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: t <t@t>\nDescription: t\n' \
		"$name" "$ver" >"$dir/root/DEBIAN/control"
	dpkg-deb -Z"$comp" --root-owner-group -b "$dir/root" "$dir/${name}_${ver}.deb" >/dev/null
}
P=$T/p
mkdir -p "$P/a/root/usr/bin" "$P/a/root/etc" "$P/a/root/usr/share/a" "$P/a/root/DEBIAN"
printf 'program a\n' >"$P/a/root/usr/bin/a"
printf 'conf=1\n' >"$P/a/root/etc/a.conf"
printf 'shared\n' >"$P/a/root/usr/share/a/shared"
ln -s a "$P/a/root/usr/bin/a-link"
ln "$P/a/root/usr/bin/a" "$P/a/root/usr/bin/a-hard"
printf '/etc/a.conf\n' >"$P/a/root/DEBIAN/conffiles"
for comp in gzip xz zstd none; do
	rm -rf "$P/c-$comp"; mkdir -p "$P/c-$comp"; cp -a "$P/a/root" "$P/c-$comp/"
	sed -i "s/^Package: .*/Package: c-$comp/" "$P/c-$comp/root/DEBIAN/control" 2>/dev/null
	mkpkg "$P/c-$comp" "c-$comp" 1.0 "$comp"
	check "data.tar compressed with $comp is read" "$VOUCH" reference create --quiet \
		--out "$T/c-$comp.json" --deb "$P/c-$comp/c-${comp}_1.0.deb"
done
A=$P/a/a_1.0.deb
mkpkg "$P/a" a 1.0
"$VOUCH" reference create --quiet --out "$T/a.json" --deb "$A"
sum_a=$(printf 'program a\n' | sha256sum | cut -d' ' -f1)
j() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
eq "a regular file has its digest and origin" \
	"$(j "$T/a.json" "d['files']['/usr/bin/a'][0]['digests'][0]+' '+d['files']['/usr/bin/a'][0]['package']+' '+d['files']['/usr/bin/a'][0]['version']")" \
	"sha256:$sum_a a 1.0"
eq "a hard link gets its target's digest" \
	"$(j "$T/a.json" "d['files']['/usr/bin/a-hard'][0]['digests'][0]")" "sha256:$sum_a"
eq "a symlink is skipped" "$(j "$T/a.json" "'/usr/bin/a-link' in d['files']")" False
eq "a conffile is marked" "$(j "$T/a.json" "d['files']['/etc/a.conf'][0].get('conffile')")" True
eq "a file that is not a conffile is not marked" "$(j "$T/a.json" "d['files']['/usr/bin/a'][0].get('conffile')")" None

# the same path in two packages: both origins allowed
mkdir -p "$P/b/root/usr/share/a"
printf 'shared, other\n' >"$P/b/root/usr/share/a/shared"
mkpkg "$P/b" b 2.0
"$VOUCH" reference create --quiet --out "$T/ab.json" --deb "$A" "$P/b/b_2.0.deb"
eq "a path shipped by two packages lists both origins" \
	"$(j "$T/ab.json" "' '.join(sorted(e['package'] for e in d['files']['/usr/share/a/shared']))")" "a b"

# --- hostile and broken packages: refused, nothing written ---------------------------------
refuse() { # refuse DESCRIPTION NEEDLE FILE [OPTIONS...]
	local d=$1 needle=$2 f=$3; shift 3
	rm -f "$T/bad.json"
	expect_rc 1 "$d: refused" "$VOUCH" reference create --out "$T/bad.json" "$@" --deb "$f"
	one_line_err "$d: the message says why ($needle)" "$needle"
	eq "$d: nothing written" "$(ls "$T/bad.json" 2>/dev/null)" ""
}
size=$(stat -c %s "$A")
head -c $((size / 2)) "$A" >"$T/trunc.deb"
refuse "truncated package" "a_1.0.deb\|truncated\|corrupt" "$T/trunc.deb"
head -c 200 "$A" >"$T/trunc2.deb"
refuse "package cut in its control member" "truncated\|corrupt" "$T/trunc2.deb"
cp "$A" "$T/flip.deb"
# flip bytes in the middle of data.tar.xz (the xz check catches it)
printf '\xff\xff\xff\xff\xff\xff\xff\xff' | dd of="$T/flip.deb" bs=1 seek=$((size - 100)) conv=notrunc status=none
refuse "package with flipped bytes" "package a): member 'data.tar" "$T/flip.deb"
printf 'not a package\n' >"$T/text.deb"
refuse "a text file" "text.deb" "$T/text.deb"

# tar members built with python's tarfile, the package assembled with ar
hostile() { # hostile NAME MEMBER [COMPRESSION-SUFFIX]: data.tar with one member named MEMBER
	local name=$1 member=$2 suf=${3:-.xz} dir=$T/h-$1
	rm -rf "$dir"; mkdir -p "$dir"
	printf '2.0\n' >"$dir/debian-binary"
	python3 - "$dir" "$member" "$suf" "$name" <<'PY'
import io, sys, tarfile
d, member, suf, name = sys.argv[1:5]
def add(t, n, data=b"x\n", kind=tarfile.REGTYPE, link=""):
    i = tarfile.TarInfo(n); i.type = kind; i.linkname = link; i.size = len(data) if kind == tarfile.REGTYPE else 0
    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
with tarfile.open(d + "/control.tar.xz", "w:xz") as t:
    add(t, "./control", ("Package: %s\nVersion: 1\nArchitecture: all\n" % name).encode())
mode = {".xz": "w:xz", ".gz": "w:gz", ".bz2": "w:bz2", "": "w", ".lz4": "w"}[suf]
with tarfile.open(d + "/data.tar" + suf, mode) as t:
    add(t, "./usr/", kind=tarfile.DIRTYPE)
    if member == "huge":
        # a header that declares 4 GiB + 1 byte, and no data: refused on the header
        i = tarfile.TarInfo("./usr/huge"); i.size = 4 * 2**30 + 1
        t.fileobj.write(i.tobuf(tarfile.GNU_FORMAT))
    elif member == "twice":
        add(t, "./usr/x", b"one\n")
        add(t, "usr/x", b"two\n")
    elif member.startswith("hardlink:"):
        add(t, "./usr/x", kind=tarfile.LNKTYPE, link=member[9:])
    else:
        add(t, member)
PY
	(cd "$dir" && ar rc "$name.deb" debian-binary control.tar.xz "data.tar$suf")
	echo "$dir/$name.deb"
}
refuse "a member named ../x" "package dotdot): member 'data.tar.xz': entry '../x'" "$(hostile dotdot ../x)"
refuse "a member named ./usr/../../x" "'..' in the name" "$(hostile dotdot2 ./usr/../../x)"
refuse "a member named /etc/x" "entry '/etc/x': absolute name" "$(hostile absolute /etc/x)"
refuse "a hard link to a file not in the package" "hard link to '/etc/shadow'" "$(hostile hardlink hardlink:./etc/shadow)"
refuse "a hard link to ../x" "hard link to '../x'" "$(hostile hardlink2 hardlink:../x)"
refuse "a member over 4 GiB (the default limit)" "entry '/usr/huge' is 4294967297 bytes, over the size limit of 4294967296" "$(hostile huge huge '')"
refuse "the same path twice in one package" "entry '/usr/x' appears twice" "$(hostile twice twice)"
refuse "an unknown compression" "member 'data.tar.lz4': unknown compression" "$(hostile lz4 ./usr/x .lz4)"
check "data.tar.bz2 is read" "$VOUCH" reference create --quiet --out "$T/bz2.json" --deb "$(hostile bz2 ./usr/x .bz2)"
check "an uncompressed data.tar is read" "$VOUCH" reference create --quiet --out "$T/none.json" --deb "$(hostile plain ./usr/x '')"
refuse "a member over the size limit" "member 'data.tar.xz': entry '/etc/a.conf' is 7 bytes, over the size limit of 5" "$A" --max-member 5
# one bad package among good ones: nothing written
rm -f "$T/bad.json"
expect_rc 1 "one bad package among good ones fails the whole run" \
	"$VOUCH" reference create --out "$T/bad.json" --deb "$A" "$T/trunc.deb"
eq "nothing written when one package is bad" "$(ls "$T/bad.json" 2>/dev/null)" ""
expect_rc 2 "--out is required" "$VOUCH" reference create --deb "$A"
expect_rc 2 "--jobs 0 is a usage error" "$VOUCH" reference create --out "$T/x.json" --jobs 0 --deb "$A"
expect_rc 2 "--algo with an unknown algorithm" "$VOUCH" reference create --out "$T/x.json" --algo sha256,nope --deb "$A"
expect_rc 3 "a missing package file cannot be checked" "$VOUCH" reference create --out "$T/x.json" --deb "$T/nonexistent.deb"
# an option given twice is refused (it once printed the error and went on with the first)
expect_rc 2 "create: --out given twice" "$VOUCH" reference create --out "$T/x.json" --out "$T/y.json" --deb "$A"
expect_rc 2 "update: --from given twice" "$VOUCH" reference update --from "$T/a.json" --from "$T/a.json" --out "$T/x.json" --window 1
expect_rc 2 "merge: --out given twice" "$VOUCH" reference merge --out "$T/x.json" --out "$T/y.json" "$T/a.json"

# --- --root: a tree, symlinks skipped, security.ima noted ------------------------------------
mkdir -p "$T/root/usr/bin" "$T/root/etc"
printf 'tool\n' >"$T/root/usr/bin/tool"
printf 'cfg\n' >"$T/root/etc/cfg"
ln -s tool "$T/root/usr/bin/tool-link"
signed=no
command -v setfattr >/dev/null && setfattr -n security.ima -v 0x0404aabb "$T/root/usr/bin/tool" 2>/dev/null && signed=yes
check "--root" "$VOUCH" reference create --quiet --out "$T/root.json" --root "$T/root/"
eq "a tree file under its path inside the root, with its digest" "$(j "$T/root.json" "d['files']['/usr/bin/tool'][0]['digests'][0]")" \
	"sha256:$(printf 'tool\n' | sha256sum | cut -d' ' -f1)"
eq "a tree symlink is skipped" "$(j "$T/root.json" "'/usr/bin/tool-link' in d['files']")" False
if [ "$signed" = yes ]; then
	eq "a file with security.ima is marked" "$(j "$T/root.json" "d['files']['/usr/bin/tool'][0].get('ima_signed')")" True
else
	skip "cannot set security.ima here"
fi
eq "a file without is not" "$(j "$T/root.json" "d['files']['/etc/cfg'][0].get('ima_signed')")" None

# --- --dpkg: the installed set from a status file, diversions as dpkg applies them ----------
AD=$T/admin
mkdir -p "$AD" "$T/cache"
cp "$A" "$T/cache/a_1.0_amd64.deb"
cp "$P/b/b_2.0.deb" "$T/cache/b_2.0_amd64.deb"
cat >"$AD/status" <<'EOF'
Package: a
Status: install ok installed
Version: 1.0
Architecture: amd64

Package: b
Status: install ok installed
Version: 2.0
Architecture: amd64

Package: gone
Status: deinstall ok config-files
Version: 3
Architecture: amd64
EOF
# b diverts a's /usr/bin/a; a's own copy of /usr/share/a/shared is diverted by a (kept)
printf '/usr/bin/a\n/usr/bin/a.distrib\nb\n/usr/share/a/shared\n/usr/share/a/shared.orig\na\n' >"$AD/diversions"
mkdir -p "$T/pool/main/a" "$T/pool/main/b"
cp "$A" "$T/pool/main/a/"; cp "$P/b/b_2.0.deb" "$T/pool/main/b/"
check "--deb-dir reads a mirror's pool tree" "$VOUCH" reference create --quiet --out "$T/pool.json" --deb-dir "$T/pool"
eq "both packages of the tree" "$(j "$T/pool.json" "len(d['packages'])")" 2
check "--dpkg with every .deb present" "$VOUCH" reference create --out "$T/dpkg.json" --dpkg --admindir "$AD" --deb-dir "$T/cache"
eq "a diverted file is listed where dpkg puts it" "$(j "$T/dpkg.json" "'/usr/bin/a.distrib' in d['files'] and '/usr/bin/a' not in d['files']")" True
eq "the diverting package's own file stays in place" "$(j "$T/dpkg.json" "sorted(e['package'] for e in d['files']['/usr/share/a/shared'])")" "['a']"
eq "only installed packages are read" "$(j "$T/dpkg.json" "len(d['packages'])")" 2
printf '\nPackage: c\nStatus: install ok installed\nVersion: 1:4\nArchitecture: all\n' >>"$AD/status"
rm -f "$T/dpkg2.json"
expect_rc 1 "--dpkg with a .deb missing" "$VOUCH" reference create --out "$T/dpkg2.json" --dpkg --admindir "$AD" --deb-dir "$T/cache"
err_has "the missing .deb is named" "c_1%3a4_all.deb"
check "--dpkg --allow-missing writes the rest" "$VOUCH" reference create --out "$T/dpkg2.json" --dpkg --allow-missing --admindir "$AD" --deb-dir "$T/cache"
cp "$P/b/b_2.0.deb" "$T/cache/c_1%3a4_all.deb"
expect_rc 1 "--dpkg refuses a .deb that is not the installed version" "$VOUCH" reference create --out "$T/dpkg3.json" --dpkg --admindir "$AD" --deb-dir "$T/cache"
one_line_err "the wrong .deb is named" "dpkg has c 1:4 all installed"

# --- the document: id, merge, diff, v1, attest --------------------------------------------
"$VOUCH" reference create --quiet --out "$T/b.json" --deb "$P/b/b_2.0.deb"
check "merge" "$VOUCH" reference merge --out "$T/m.json" "$T/a.json" "$T/b.json"
eq "merge of a and b equals a reference of both" "$(j "$T/m.json" "sorted(d['files'])")" "$(j "$T/ab.json" "sorted(d['files'])")"
expect_rc 0 "diff of a document with itself is empty" "$VOUCH" reference diff "$T/a.json" "$T/a.json"
expect_rc 1 "diff of a and a+b lists b's paths" "$VOUCH" reference diff "$T/a.json" "$T/ab.json"
eq "diff marks the changed shared path" "$(grep -c '^~ /usr/share/a/shared$' "$T/.out")" 1
sed 's/"version":"1.0"/"version":"1.1"/' "$T/a.json" >"$T/a-edit.json"
expect_rc 1 "a document edited after it was made (id mismatch) is refused" "$VOUCH" reference show "$T/a-edit.json"
one_line_err "the message says the id does not match" "id does not match"
printf '{"format":"vouch-reference","version":1,"files":{"/usr/bin/a":"sha256:%s"}}' "$sum_a" >"$T/v1.json"
check "a version 1 document is read" "$VOUCH" reference show "$T/v1.json"
check "a version 1 document merges into version 2" "$VOUCH" reference merge --out "$T/v1m.json" "$T/v1.json" "$T/b.json"
printf '{"format":"vouch-reference","version":3,"files":{}}' >"$T/v3.json"
expect_rc 1 "version 3 is refused" "$VOUCH" reference show "$T/v3.json"

# --- upgrade windows -------------------------------------------------------------------------
mkdir -p "$P/a11/root/usr/bin" "$P/a11/root/etc"
printf 'program a, 1.1\n' >"$P/a11/root/usr/bin/a"
printf 'conf=1\n' >"$P/a11/root/etc/a.conf"
mkpkg "$P/a11" a 1.1
sum_a11=$(printf 'program a, 1.1\n' | sha256sum | cut -d' ' -f1)
now=$(date +%s)
check "update to a 1.1 with a 7-day window" "$VOUCH" reference update --from "$T/a.json" --out "$T/up.json" --window 7 --deb "$P/a11/a_1.1.deb"
expect_rc 0 "during the window a machine still on 1.0 is trusted" "$VOUCH" reference check "$T/up.json" /usr/bin/a "sha256:$sum_a"
expect_rc 0 "during the window an upgraded machine is trusted" "$VOUCH" reference check "$T/up.json" /usr/bin/a "sha256:$sum_a11"
expect_rc 1 "after the window 1.0's digest is rejected" "$VOUCH" reference check --now $((now + 8 * 86400)) "$T/up.json" /usr/bin/a "sha256:$sum_a"
expect_rc 0 "after the window 1.1's digest is allowed" "$VOUCH" reference check --now $((now + 8 * 86400)) "$T/up.json" /usr/bin/a "sha256:$sum_a11"
expect_rc 1 "after the window a file only 1.0 shipped is rejected" "$VOUCH" reference check --now $((now + 8 * 86400)) "$T/up.json" /usr/bin/a-hard "sha256:$sum_a"
expect_rc 1 "a digest of neither version is rejected" "$VOUCH" reference check "$T/up.json" /usr/bin/a "sha256:$(printf x | sha256sum | cut -d' ' -f1)"
check "an update after the window removes the old entries" "$VOUCH" reference update --from "$T/up.json" --out "$T/up2.json" --window 7 --now $((now + 8 * 86400))
eq "only 1.1 is left" "$(j "$T/up2.json" "sorted(set(e['version'] for v in d['files'].values() for e in v))")" "['1.1']"
eq "its package record too" "$(j "$T/up2.json" "[p['version'] for p in d['packages']]")" "['1.1']"
expect_rc 2 "--window is required" "$VOUCH" reference update --from "$T/a.json" --out "$T/x.json" --deb "$P/a11/a_1.1.deb"

# --- Keylime runtime policies ---------------------------------------------------------------
"$VOUCH" reference create --quiet --out "$T/kl.json" --exclude /usr/share/doc/ --exclude '*.pyc' \
	--exclude '/var/log/?' --deb "$A" "$P/b/b_2.0.deb"
check "export as a Keylime runtime policy" "$VOUCH" reference export --keylime --out "$T/kl-policy.json" "$T/kl.json"
eq "the policy has Keylime's members" "$(j "$T/kl-policy.json" "sorted(d)")" \
	"['digests', 'excludes', 'ima', 'ima-buf', 'keyrings', 'meta', 'release', 'verification-keys']"
eq "digests are bare hex" "$(j "$T/kl-policy.json" "d['digests']['/usr/bin/a']")" "['$sum_a']"
check "import it back" "$VOUCH" reference import --keylime --out "$T/kl-back.json" "$T/kl-policy.json"
other=$(printf x | sha256sum | cut -d' ' -f1)
pairs=(/usr/bin/a "sha256:$sum_a" /usr/bin/a "sha256:$other" /usr/bin/a-hard "sha256:$sum_a"
	/usr/share/a/shared "sha256:$(printf 'shared\n' | sha256sum | cut -d' ' -f1)"
	/usr/share/a/shared "sha256:$(printf 'shared, other\n' | sha256sum | cut -d' ' -f1)"
	/usr/share/doc/a/README "sha256:$other" /x/y.pyc "sha256:$other" /var/log/1 "sha256:$other"
	/var/log/12 "sha256:$other" /nowhere "sha256:$sum_a")
"$VOUCH" reference check "$T/kl.json" "${pairs[@]}" >"$T/verdict1" 2>&1
"$VOUCH" reference check "$T/kl-back.json" "${pairs[@]}" >"$T/verdict2" 2>&1
eq "identical verdicts after the round trip ($((${#pairs[@]} / 2)) judgements)" "$(cmp -s "$T/verdict1" "$T/verdict2" && echo same)" same
eq "the verdicts are not all alike" "$(cut -d: -f2 "$T/verdict1" | sort -u | wc -l)" 4
cat >"$T/keylime.json" <<POLICY
{"meta": {"version": 1, "generator": 1, "timestamp": "2024-01-01"}, "release": 0,
 "digests": {"/usr/bin/a": ["$sum_a"], "boot_aggregate": ["0000000000000000000000000000000000000000"]},
 "excludes": ["/tmp/.*", "^/var/log/.*", "boot_aggregate\$"],
 "keyrings": {".ima": ["$sum_a"]},
 "ima": {"ignored_keyrings": [".evm"], "log_hash_alg": "sha1", "dm_policy": null},
 "ima-buf": {}, "verification-keys": ""}
POLICY
check "a Keylime policy written by hand is imported" "$VOUCH" reference import --keylime --out "$T/kl2.json" "$T/keylime.json"
"$VOUCH" reference check "$T/kl2.json" /usr/bin/a "sha256:$sum_a" /tmp/x "sha256:$other" \
	/var/log/syslog "sha256:$other" .ima "sha256:$sum_a" .evm "sha256:$other" /usr/bin/a "sha256:$other" >"$T/v3" 2>&1
eq "its verdicts: digest, excludes (regex to glob), keyrings, ignored keyrings" "$(cut -d: -f2 "$T/v3" | tr '\n' ,)" \
	" allowed, excluded, excluded, allowed, excluded, digest not in the reference values,"
printf '{"meta":{"version":1},"digests":{},"excludes":["/usr/(s)?bin/x"]}' >"$T/kl-bad.json"
expect_rc 1 "a Keylime exclude with no exact glob equivalent is refused" "$VOUCH" reference import --keylime --out "$T/x.json" "$T/kl-bad.json"
one_line_err "the refused exclude is named" "/usr/(s)?bin/x"
printf '{"meta":{"version":1},"digests":{"/a":["abc"]}}' >"$T/kl-bad2.json"
expect_rc 1 "a Keylime digest of no known length is refused" "$VOUCH" reference import --keylime --out "$T/x.json" "$T/kl-bad2.json"
"$VOUCH" reference create --quiet --out "$T/br.json" --exclude '/x/[ab]' --deb "$A"
expect_rc 1 "an exclude with a bracket expression is not exported" "$VOUCH" reference export --keylime --out "$T/x.json" "$T/br.json"

# --- sign and verify ----------------------------------------------------------------------
keys_copy
key=$(ls "$T/keys/"*.key | head -1); crt=${key%.key}.crt
if [ -f "$crt" ]; then
	check "sign a reference (detached PKCS#7)" "$VOUCH" reference sign --key "$key" --cert "$crt" "$T/a.json"
	check "verify it" "$VOUCH" reference verify --trust "$crt" "$T/a.json"
	cp "$T/a.json.p7s" "$T/a-edit.json.p7s"
	expect_rc 1 "a modified document does not verify" "$VOUCH" reference verify --trust "$crt" "$T/a-edit.json"
	other=$(ls "$T/keys/"*.crt | grep -v "$crt" | head -1)
	[ -n "$other" ] && expect_rc 1 "another certificate does not verify it" "$VOUCH" reference verify --trust "$other" "$T/a.json"
else
	skip "no key pair in the vectors"
fi
done_testing
