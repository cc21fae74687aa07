// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch demo: run every capability end to end on a scratch directory, through the same
 * commands a user types, and check each step's exit status.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"

extern char **environ;

/*
 * One step: a vouch command line ("@" is replaced by the scratch directory, at the start of
 * an argument or after "NAME=") and the exit status it must have.  Steps run in order; the
 * first unexpected status stops the demo.
 */
struct demo_step {
	const char *title;
	const char *args[24];
	int expect;
};

/* Steps titled "swtpm: ..." run against a private swtpm the demo starts ($VOUCH_TCTI), and
 * are skipped with a printed reason when swtpm is not installed or does not start. */
#define DEMO_SWTPM_PREFIX "swtpm: "

static const struct demo_step steps[] = {
	{ "generate an RSA-2048 signing key and certificate",
	  { "key", "generate", "--type", "rsa", "--subject", "/CN=vouch demo RSA/O=vouch",
	    "--out", "@/rsa" },
	  EXIT_OK },
	{ "generate an ECDSA P-256 signing key and certificate",
	  { "key", "generate", "--type", "ec", "--curve", "P-256", "--subject",
	    "/CN=vouch demo EC/O=vouch", "--out", "@/ec" },
	  EXIT_OK },
	{ "show the certificates (IMA key id = last 4 bytes of the SKID)",
	  { "key", "show", "@/rsa.crt", "@/ec.crt" },
	  EXIT_OK },
	{ "digest the payloads with the kernel's algorithm names, one pass for three algorithms",
	  { "digest", "-a", "sha256", "-a", "sha512", "-a", "sha1", "@/firmware.bin",
	    "@/policy.txt", "@/module.ko" },
	  EXIT_OK },
	{ "an unknown algorithm is a usage error (exit 2)",
	  { "digest", "-a", "sha3-999", "@/firmware.bin" },
	  EXIT_USAGE },
	{ "a missing file could not be checked (exit 3)",
	  { "digest", "@/no-such-file" },
	  EXIT_ERROR },
	{ "build an initramfs (newcx: security.ima travels in each header) from a spec list",
	  { "initramfs", "create", "--format", "newcx", "--mtime", "1700000000", "-C", "@", "-o",
	    "@/initrd.img", "--list", "@/initramfs.list" },
	  EXIT_OK },
	{ "list it: modes, sizes and the xattr of each member",
	  { "initramfs", "list", "@/initrd.img" },
	  EXIT_OK },
	{ "extract it safely (xattrs restored when root)",
	  { "initramfs", "extract", "-v", "@/initrd.img", "@/initrd" },
	  EXIT_OK },
	{ "appraise every member's security.ima against its content before boot",
	  { "initramfs", "verify", "-t", "@/rsa.crt", "--allow-digest", "@/initrd.img" },
	  EXIT_OK },
	{ "the same image as METADATA!!! records, compressed with zstd",
	  { "initramfs", "create", "--format", "metadata", "--compress", "zstd", "-C", "@", "-o",
	    "@/initrd-meta.img", "--list", "@/initramfs.list" },
	  EXIT_OK },
	{ "appraise the METADATA!!! image",
	  { "initramfs", "verify", "-t", "@/rsa.crt", "--allow-digest", "@/initrd-meta.img" },
	  EXIT_OK },
	{ "a member whose content does not match its security.ima is flagged (exit 1)",
	  { "initramfs", "create", "--format", "newcx", "-C", "@", "-o", "@/tampered.img", "--list",
	    "@/tampered.list" },
	  EXIT_OK },
	{ "verify the tampered image (exit 1)",
	  { "initramfs", "verify", "-t", "@/rsa.crt", "--allow-digest", "@/tampered.img" },
	  EXIT_UNTRUSTED },
	{ "sign a module, a firmware blob and a policy with appended PKCS#7 (sign-file format)",
	  { "sign", "-k", "@/rsa.key", "-c", "@/rsa.crt", "@/module.ko", "@/firmware.bin",
	    "@/policy.txt" },
	  EXIT_OK },
	{ "show what modinfo would show, plus the signature's size and offset",
	  { "show", "@/module.ko" },
	  EXIT_OK },
	{ "verify them with the kernel's rules; the verdict names the keyring that vouched",
	  { "verify", "-t", "builtin=@/rsa.crt", "@/module.ko", "@/firmware.bin", "@/policy.txt" },
	  EXIT_OK },
	{ "an already signed file is refused (exit 3) unless --replace",
	  { "sign", "-k", "@/rsa.key", "-c", "@/rsa.crt", "@/module.ko" },
	  EXIT_ERROR },
	{ "re-sign the module by SKID with ECDSA, replacing the old signature",
	  { "sign", "--replace", "--signer-id", "skid", "-k", "@/ec.key", "-c", "@/ec.crt",
	    "@/module.ko" },
	  EXIT_OK },
	{ "trust stores named like the kernel's keyrings: the EC key is on 'platform'",
	  { "verify", "--json", "-t", "builtin=@/rsa.crt", "-t", "platform=@/ec.crt",
	    "@/module.ko" },
	  EXIT_OK },
	{ "a detached signature for the tool (firmware-signing style .p7s)",
	  { "sign", "--detached", "-k", "@/rsa.key", "-c", "@/rsa.crt", "@/tool.sh" },
	  EXIT_OK },
	{ "verify the tool against its .p7s",
	  { "verify", "-t", "@/rsa.crt", "--detached", "@/tool.sh.p7s", "@/tool.sh" },
	  EXIT_OK },
	{ "the firmware verified against the wrong trust store: unknown signer (exit 1)",
	  { "verify", "-t", "@/ec.crt", "@/firmware.bin" },
	  EXIT_UNTRUSTED },
	{ "strip the policy's signature",
	  { "strip", "-o", "@/policy-unsigned.txt", "@/policy.txt" },
	  EXIT_OK },
	{ "an unsigned copy: no signature (exit 1)",
	  { "verify", "-t", "@/rsa.crt", "@/policy-unsigned.txt" },
	  EXIT_UNTRUSTED },
	{ "a tampered copy of the tool with the tool's .p7s: bad signature (exit 1)",
	  { "verify", "-t", "@/rsa.crt", "--detached", "@/tool.sh.p7s", "@/tool-tampered.sh" },
	  EXIT_UNTRUSTED },
	{ "turn a kernel-format ascii measurement list into a binary list",
	  { "log", "export", "--binary", "-o", "@/ima.bin", "@/ima-ascii.txt" },
	  EXIT_OK },
	{ "show it as the kernel's ascii_runtime_measurements (byte for byte)",
	  { "log", "show", "--ascii", "@/ima.bin" },
	  EXIT_OK },
	{ "replay it into the sha1 and sha256 banks (violations extend all-ones)",
	  { "log", "replay", "--bank", "sha1", "--bank", "sha256", "@/ima.bin" },
	  EXIT_OK },
	{ "verify PCR 10 in both banks, the boot_aggregate and the IMA signatures",
	  { "log", "verify", "--pcrs", "sha1=@/pcrs-sha1.txt", "--pcrs", "sha256=@/pcrs-sha256.txt",
	    "--verify-sigs", "-t", "@/ima-test.crt", "@/ima.bin" },
	  EXIT_OK },
	{ "export the list as a kexec carry-over buffer",
	  { "log", "export", "--kexec", "-o", "@/ima.kexec", "@/ima.bin" },
	  EXIT_OK },
	{ "the kexec buffer reads back as a list",
	  { "log", "show", "@/ima.kexec" },
	  EXIT_OK },
	{ "a list with one digest changed does not verify (exit 1)",
	  { "log", "verify", "--pcrs", "sha1=@/pcrs-sha1.txt", "--pcrs", "sha256=@/pcrs-sha256.txt",
	    "@/ima-tampered.txt" },
	  EXIT_UNTRUSTED },
	{ "IMA: hash the payloads as security.ima values, into PATH.sig files",
	  { "ima", "hash", "--sigfile", "@/firmware.bin", "@/policy.txt", "@/module.ko",
	    "@/tool.sh" },
	  EXIT_OK },
	{ "IMA: decode a digest value",
	  { "ima", "show", "--sigfile", "@/tool.sh" },
	  EXIT_OK },
	{ "IMA: sign the whole demo tree on every core (signature v2, RSA-2048, key id = SKID)",
	  { "ima", "sign", "-r", "-k", "@/rsa.key", "-c", "@/rsa.crt", "--sigfile", "@" },
	  EXIT_OK },
	{ "IMA: verify the tree against the RSA certificate",
	  { "ima", "verify", "-r", "-t", "@/rsa.crt", "--sigfile", "@" },
	  EXIT_OK },
	{ "IMA: a tampered file does not verify (exit 1)",
	  { "ima", "verify", "-t", "@/rsa.crt", "--sigfile", "@/tool.sh" },
	  EXIT_UNTRUSTED },
	{ "IMA: a key the trust store does not hold (exit 1)",
	  { "ima", "verify", "-t", "@/ec.crt", "--sigfile", "@/policy.txt" },
	  EXIT_UNTRUSTED },
	{ "IMA: sign the firmware with signature v3 over its fs-verity digest (ECDSA P-256)",
	  { "ima", "sign", "--v3", "-k", "@/ec.key", "-c", "@/ec.crt", "--sigfile",
	    "@/firmware.bin" },
	  EXIT_OK },
	{ "IMA: show and verify the v3 signature",
	  { "ima", "verify", "--json", "-t", "@/ec.crt", "--sigfile", "@/firmware.bin" },
	  EXIT_OK },
	{ "audit kernel-like C: where is user data loaded, which hook checks it (Coccinelle)",
	  { "audit-kernel", "@" },
	  EXIT_OK },
	{ "auditing a kernel tree that does not exist could not run (exit 3)",
	  { "audit-kernel", "@/no-such-tree" },
	  EXIT_ERROR },
	{ "verify the shared swtpm quote (tests/vectors/tpm2 quote-rsa): every check passes",
	  { "attest", "verify", "--ak", "@/ak-rsa.pem", "--nonce",
	    "d86c9818ffb8898bcaef09e5b0fcc7c17a76b5e5", "--pcrs", "sha256:10",
	    "@/quote-rsa.evidence" },
	  EXIT_OK },
	{ "the same quote for another nonce: a replayed quote does not verify (exit 1)",
	  { "attest", "verify", "--ak", "@/ak-rsa.pem", "--nonce", "0123456789", "--pcrs",
	    "sha256:10", "@/quote-rsa.evidence" },
	  EXIT_UNTRUSTED },
	{ "the same quote offered for PCR 11: the selection differs from the request (exit 1)",
	  { "attest", "verify", "--ak", "@/ak-rsa.pem", "--nonce",
	    "d86c9818ffb8898bcaef09e5b0fcc7c17a76b5e5", "--pcrs", "sha256:11",
	    "@/quote-rsa.evidence" },
	  EXIT_UNTRUSTED },
	{ "swtpm: the engine measures the firmware into the TPM too (log mode, a new bound state)",
	  { "load", "--state-dir", "@/tpm-state", "--policy", "@/engine.pol", "--trust", "@/rsa.crt",
	    "--mode", "log", "--tpm", "--func", "firmware", "@/firmware.bin" },
	  EXIT_OK },
	{ "swtpm: the engine's list replays to its software PCRs and to the TPM's PCR 10",
	  { "engine", "status", "--state-dir", "@/tpm-state" },
	  EXIT_OK },
	{ "swtpm: an attestation key for the engine's quotes",
	  { "tpm", "ak", "create", "--scheme", "ecdsa", "--handle", "0x81010011", "--out",
	    "@/engine-ak" },
	  EXIT_OK },
	{ "swtpm: quote PCRs 0-10 with the engine's list as the evidence's IMA list",
	  { "attest", "quote", "--handle", "0x81010011", "--nonce", "5eed01", "--pcrs",
	    "sha256:0-10", "--ima", "@/tpm-state/measurements", "--no-eventlog", "--out",
	    "@/engine.evidence" },
	  EXIT_OK },
	{ "swtpm: verify it: the list replays to PCR 10, the boot_aggregate to PCRs 0-9",
	  { "attest", "verify", "--ak", "@/engine-ak.pub", "--nonce", "5eed01", "--pcrs",
	    "sha256:0-10", "@/engine.evidence" },
	  EXIT_OK },
	{ "swtpm: reference values without the firmware: the same evidence is not trusted (exit 1)",
	  { "attest", "verify", "--ak", "@/engine-ak.pub", "--nonce", "5eed01", "--pcrs",
	    "sha256:0-10", "--reference", "@/engine-ref.json", "@/engine.evidence" },
	  EXIT_UNTRUSTED },
	{ "swtpm: extend PCR 10 in every active bank",
	  { "tpm", "extend", "10", "--data", "vouch demo event" },
	  EXIT_OK },
	{ "swtpm: create an ECDSA attestation key in the endorsement hierarchy",
	  { "tpm", "ak", "create", "--hierarchy", "endorsement", "--scheme", "ecdsa", "--out",
	    "@/ak" },
	  EXIT_OK },
	{ "swtpm: quote PCRs 0-10 with a fresh nonce into an evidence file",
	  { "attest", "quote", "--nonce", "c0ffee0123", "--pcrs", "sha256:0-10", "--no-ima",
	    "--no-eventlog", "--out", "@/tpm.evidence" },
	  EXIT_OK },
	{ "swtpm: verify it with the AK's TPM public area",
	  { "attest", "verify", "--ak", "@/ak.pub", "--nonce", "c0ffee0123", "--pcrs",
	    "sha256:0-10", "@/tpm.evidence" },
	  EXIT_OK },
	{ "swtpm: the quote under another key does not verify (exit 1)",
	  { "attest", "verify", "--ak", "@/ak-rsa.pem", "--nonce", "c0ffee0123", "--pcrs",
	    "sha256:0-10", "@/tpm.evidence" },
	  EXIT_UNTRUSTED },
	{ "engine: check the IMA policy the engine will enforce (errors carry line and column)",
	  { "policy", "check", "@/engine.pol" },
	  EXIT_OK },
	{ "engine: a policy with a misplaced template= is refused as a whole (exit 1)",
	  { "policy", "check", "@/bad.pol" },
	  EXIT_UNTRUSTED },
	{ "engine: the kernel's secure_boot built-in, rule by rule",
	  { "policy", "show", "--builtin", "secure_boot" },
	  EXIT_OK },
	{ "engine: sign the tool, the firmware and the policy into an IMA xattr (user.ima here)",
	  { "ima", "sign", "-k", "@/rsa.key", "-c", "@/rsa.crt", "--xattr", "user.ima",
	    "@/tool.sh", "@/firmware.bin", "@/policy.txt" },
	  EXIT_OK },
	{ "engine: every executable through the engine in log mode: measured, appraised, none denied",
	  { "load", "--state-dir", "@/state", "--policy", "@/engine.pol", "--trust", "@/rsa.crt",
	    "--xattr", "user.ima", "--mode", "log", "--func", "BPRM_CHECK", "@/tool.sh",
	    "@/unsigned.sh" },
	  EXIT_OK },
	{ "engine: firmware (kernel_read_file + post_read_file), enforcing",
	  { "load", "--state-dir", "@/state", "--policy", "@/engine.pol", "--trust", "@/rsa.crt",
	    "--xattr", "user.ima", "--func", "firmware", "@/firmware.bin" },
	  EXIT_OK },
	{ "engine: the module (re-signed with the EC key above) accepted on its appended signature",
	  { "load", "--state-dir", "@/state", "--policy", "@/engine.pol", "--trust", "@/rsa.crt",
	    "--trust", "@/ec.crt", "--xattr", "user.ima", "--func", "kernel-module",
	    "@/module.ko" },
	  EXIT_OK },
	{ "engine: the policy file as POLICY_CHECK, enforcing",
	  { "load", "--state-dir", "@/state", "--policy", "@/engine.pol", "--trust", "@/rsa.crt",
	    "--xattr", "user.ima", "--func", "security-policy", "@/policy.txt" },
	  EXIT_OK },
	{ "engine: the unsigned script is denied once enforcing (exit 1)",
	  { "load", "--state-dir", "@/state", "--policy", "@/engine.pol", "--trust", "@/rsa.crt",
	    "--xattr", "user.ima", "--func", "BPRM_CHECK", "@/unsigned.sh" },
	  EXIT_UNTRUSTED },
	{ "engine: the tool, tampered after signing, is re-measured and denied (exit 1)",
	  { "load", "--state-dir", "@/state", "--policy", "@/engine.pol", "--trust", "@/rsa.crt",
	    "--xattr", "user.ima", "--audit", "--func", "BPRM_CHECK", "@/tool.sh" },
	  EXIT_UNTRUSTED },
	{ "engine: latch signature enforcement for firmware (permissive -> enforcing only)",
	  { "engine", "enforce", "--state-dir", "@/state", "--func", "firmware" },
	  EXIT_OK },
	{ "engine: turning it off again is refused (exit 1)",
	  { "engine", "enforce", "--state-dir", "@/state", "--func", "firmware", "--off" },
	  EXIT_UNTRUSTED },
	{ "engine: the measurement list",
	  { "engine", "list", "--state-dir", "@/state" },
	  EXIT_OK },
	{ "engine: replay the list against the software PCRs",
	  { "engine", "status", "--state-dir", "@/state" },
	  EXIT_OK },
	{ "engine: simulate the policy over the scratch tree before a rollout (denials: exit 1)",
	  { "policy", "simulate", "-p", "@/engine.pol", "-t", "@/rsa.crt", "-t", "@/ec.crt",
	    "--xattr", "user.ima",
	    "--root", "@/", "--map", "*.sh=BPRM_CHECK", "--map", "*.bin=FIRMWARE_CHECK", "--map",
	    "*.txt=POLICY_CHECK" },
	  EXIT_UNTRUSTED },
	{ "swtpm: the PCR 10 extend above bypassed the engine: its list no longer matches (exit 1)",
	  { "engine", "status", "--state-dir", "@/tpm-state" },
	  EXIT_UNTRUSTED },
};

/* Steps (by title) before which a line is appended to a file ("@/name"): tampering. */
static const struct {
	const char *title;
	const char *file;
} tamper_before[] = {
	{ "IMA: a tampered file does not verify (exit 1)", "@/tool.sh" },
	{ "engine: the tool, tampered after signing, is re-measured and denied (exit 1)", "@/tool.sh" },
};

struct payload {
	const char *name;
	const char *content;
	size_t repeat;
};

static const struct payload payloads[] = {
	{ "firmware.bin", "\x7f" "FW blob for a network card\n", 4096 },
	{ "policy.txt", "measure func=FIRMWARE_CHECK\nappraise func=MODULE_CHECK appraise_type=imasig\n", 1 },
	{ "module.ko", "ELF-not-really-a-module\n", 1 },
	{ "tool.sh", "#!/bin/sh\necho hello from a signed tool\n", 1 },
	/* gen_init_cpio syntax; "xattr" lines (Proposal A's generator) apply to the next object */
	{ "initramfs.list",
	  "dir /bin 0755 0 0\n"
	  "xattr security.ima=0x0404a1722e8693a964bac9f47c315add016703c37ae1f0baa6ab8d72e69131512b9d\n"
	  "file /bin/tool tool.sh 0755 0 0\n"
	  "dir /lib 0755 0 0\n"
	  "xattr security.ima=0x040477f58760c1d2116ef6334a81570a13fa1e29318b8ee25768b4c2ec69cee54894\n"
	  "file /lib/module.ko module.ko 0644 0 0\n"
	  "slink /sbin /bin 0777 0 0\n", 1 },
	/* tool.sh's digest on another file's content */
	{ "tampered.list",
	  "xattr security.ima=0x0404a1722e8693a964bac9f47c315add016703c37ae1f0baa6ab8d72e69131512b9d\n"
	  "file /bin/tool policy.txt 0755 0 0\n", 1 },
	{ "tool-tampered.sh", "#!/bin/sh\necho hello from a signed tool; rm -rf ~\n", 1 },
	{ "unsigned.sh", "#!/bin/sh\necho nobody signed me\n", 1 },
	{ "engine.pol",
	  "# the engine demo policy\n"
	  "measure func=BPRM_CHECK mask=MAY_EXEC\n"
	  "appraise func=BPRM_CHECK appraise_type=imasig\n"
	  "measure func=FIRMWARE_CHECK\n"
	  "appraise func=FIRMWARE_CHECK appraise_type=imasig\n"
	  "measure func=MODULE_CHECK template=ima-modsig\n"
	  "appraise func=MODULE_CHECK appraise_type=imasig|modsig\n"
	  "measure func=POLICY_CHECK\n"
	  "appraise func=POLICY_CHECK appraise_type=imasig\n",
	  1 },
	{ "bad.pol", "template=ima-sig measure func=BPRM_CHECK\n", 1 },
	{ "engine-ref.json",
	  "{ \"format\": \"vouch-reference\", \"version\": 1,\n"
	  "  \"files\": { \"/lib/firmware/other.bin\": [ \"sha256:0000000000000000000000000000000000000000000000000000000000000000\" ] } }\n", 1 },
	/* FORMATS.md §13.9: a kernel-format ascii measurement list, its PCRs and signing cert */
	{ "ima-ascii.txt",
	  "10 6bdad7efa602f84ca31ffe3f11ff7c476e25dcdd ima-ng sha256:7b6436b0c98f62380866d9"
	  "432c2af0ee08ce16a171bda6951aecd95ee1307d61 boot_aggregate\n"
	  "10 d93a2d5e0e8ba2ae7a7407e55658aeb7432eaf96 ima-ng sha256:3f865664cafc0007c6ef91"
	  "f7e6caacd1797d92f9b707100170bf3a656331b6cf /tmp/tv/file.txt\n"
	  "10 9de92d7a3f392c13cd256952f70807a11f7bdc8b ima-sig sha256:3f865664cafc0007c6ef9"
	  "1f7e6caacd1797d92f9b707100170bf3a656331b6cf /tmp/tv/file.txt 0302043d0b896801001"
	  "c1da881e5df7bc17ee4c39fcacedfa6baae3e615cdb1d4f617eb4ead5e720e5e823f9c8894ab2e16"
	  "da7744f609d63d0ab1d2a93e026e395bf3c83337249b1d2a0f1cb4c2fa0d5bfde5a943a95876fd31"
	  "fecbc43142946c2332f2d2fa3ed1aaf478a5690021718068f5028d934b4b1eb28a4e1689eb25c173"
	  "be14a3c1ec1ea6f45d18a60a0630a5142d77e8eafe82d55955af00db1f2e00e59c340adbc73e82d6"
	  "925e808e63b9ebac745db9a5808c7bbd4fb122044786a11e330579b2d7b8c39baf905a037458305c"
	  "967bc85afd8c009c8e519f2e188e3af0594d3e1a443197b1d8fa725d7473e41ab587ae531558d40b"
	  "5cf23c3b98eb2a9a03e593e3bac0f7a\n"
	  "10 720d996686fcf5ec14b503ec20210ccd58093218 ima-sig sha256:3f865664cafc0007c6ef9"
	  "1f7e6caacd1797d92f9b707100170bf3a656331b6cf /tmp/tv/file_with_space.txt \n"
	  "10 0000000000000000000000000000000000000000 ima-ng sha256:0000000000000000000000"
	  "000000000000000000000000000000000000000000 /tmp/tv/file.txt\n",
	  1 },
	/* its first two lines, one digest changed */
	{ "ima-tampered.txt",
	  "10 6bdad7efa602f84ca31ffe3f11ff7c476e25dcdd ima-ng sha256:7b6436b0c98f62380866d9"
	  "432c2af0ee08ce16a171bda6951aecd95ee1307d61 boot_aggregate\n"
	  "10 d93a2d5e0e8ba2ae7a7407e55658aeb7432eaf96 ima-ng sha256:3f865664cafc0007c6ef91"
	  "f7e6caacd1797d92f9b707100170bf3a656331b6ce /tmp/tv/file.txt\n",
	  1 },
	{ "pcrs-sha1.txt",
	  "PCR-00: 0000000000000000000000000000000000000000\n"
	  "PCR-01: 0000000000000000000000000000000000000000\n"
	  "PCR-02: 0000000000000000000000000000000000000000\n"
	  "PCR-03: 0000000000000000000000000000000000000000\n"
	  "PCR-04: 0000000000000000000000000000000000000000\n"
	  "PCR-05: 0000000000000000000000000000000000000000\n"
	  "PCR-06: 0000000000000000000000000000000000000000\n"
	  "PCR-07: 0000000000000000000000000000000000000000\n"
	  "PCR-08: 0000000000000000000000000000000000000000\n"
	  "PCR-09: 0000000000000000000000000000000000000000\n"
	  "PCR-10: 907BE86361F3EABD2A1E26CF50A37757DCB36E30\n"
	  "PCR-11: 0000000000000000000000000000000000000000\n"
	  "PCR-12: 0000000000000000000000000000000000000000\n"
	  "PCR-13: 0000000000000000000000000000000000000000\n"
	  "PCR-14: 0000000000000000000000000000000000000000\n"
	  "PCR-15: 0000000000000000000000000000000000000000\n"
	  "PCR-16: 0000000000000000000000000000000000000000\n"
	  "PCR-17: 0000000000000000000000000000000000000000\n"
	  "PCR-18: 0000000000000000000000000000000000000000\n"
	  "PCR-19: 0000000000000000000000000000000000000000\n"
	  "PCR-20: 0000000000000000000000000000000000000000\n"
	  "PCR-21: 0000000000000000000000000000000000000000\n"
	  "PCR-22: 0000000000000000000000000000000000000000\n"
	  "PCR-23: 0000000000000000000000000000000000000000\n",
	  1 },
	{ "pcrs-sha256.txt",
	  "PCR-00: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-01: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-02: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-03: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-04: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-05: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-06: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-07: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-08: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-09: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-10: 8996B926DAA141138FECD43093A11FF156C1C5956CDC04F9B1BD22BDD96F0981\n"
	  "PCR-11: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-12: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-13: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-14: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-15: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-16: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-17: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-18: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-19: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-20: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-21: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-22: 0000000000000000000000000000000000000000000000000000000000000000\n"
	  "PCR-23: 0000000000000000000000000000000000000000000000000000000000000000\n",
	  1 },
	{ "ima-test.crt",
	  "-----BEGIN CERTIFICATE-----\n"
	  "MIIDPDCCAiSgAwIBAgICEjQwDQYJKoZIhvcNAQELBQAwJjEVMBMGA1UEAwwMSU1B\n"
	  "IHRlc3QgUlNBMQ0wCwYDVQQKDARUZXN0MCAXDTI2MTEyODE4NDAwOVoYDzIxMjYx\n"
	  "MTA0MTg0MDA5WjAmMRUwEwYDVQQDDAxJTUEgdGVzdCBSU0ExDTALBgNVBAoMBFRl\n"
	  "c3QwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQCRsHLn3edXNZSpSrfj\n"
	  "rVGFesirMm/nQr1nn5clY56yRIPYIfJ2kukS9Eon3pCXA0F9Z2tuz47rqJMx9pbr\n"
	  "7nnMlZw5QfkG4HGZvUP4mbHylDj4OyBBUULe7mhwa00XkvFbU2KzSAJou0OLhMrS\n"
	  "PPOoBEcXe19iAVnSOBoDXVS+z26UsBRdQ7eAEPWvAHTvqSTyRHOX525oYcTVZ85k\n"
	  "FumBAK0NjrDquyYOGIvDRj7uvOjpG9EXkotN6lw2BKjt6c9K1Zbl2cEGaYcKbztm\n"
	  "Rh85zeg+BkRMjxdfpZks+La2IIeq1UT9ZWHqlmHyfKmZvtm1gomwu7L4DW6m1zCh\n"
	  "znV7AgMBAAGjcjBwMB8GA1UdIwQYMBaAFI05+WR1h8+PUh3D8Ur50XE9C4loMB0G\n"
	  "A1UdDgQWBBSNOflkdYfPj1Idw/FK+dFxPQuJaDAMBgNVHRMBAf8EAjAAMAsGA1Ud\n"
	  "DwQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDAzANBgkqhkiG9w0BAQsFAAOCAQEA\n"
	  "R+2eXRQEz3bSb+l1K70fMiyL5oycQtDsCy8ZKFYYqVqJQi9l3GWIg5/IOaChlc+9\n"
	  "1un88lb9TMUZGiDMzAuFFlzHP4fhK/WHTFyNUd1pJ8Q8h1+N06OtSUZnFoGAKDX6\n"
	  "KXZND8Qfd7fIwP52gpnolFQNDONQW0/pcj/TEM7ZZsZbQhxH0uG/cqf6ttybeoWo\n"
	  "kU3HbPkcZU+NbGKFr307oH8uNzrHF2jNc8ZYk1+2y4e56xbjsXo+liCLhSYIHCCo\n"
	  "odRpJcwP2E+bJKNQQC3fywGYuirup4ery7CrRwW4bfBk4O1+QqYXwkfPryWNuyJd\n"
	  "ocq8OH6/lR5P7dG3rf0klA==\n"
	  "-----END CERTIFICATE-----\n",
	  1 },
	{ "consumers.c",
	  "SYSCALL_DEFINE3(finit_module, int, fd, const char __user *, uargs, int, flags)\n"
	  "{\n\tvoid *buf;\n\tint len = kernel_read_file_from_fd(fd, 0, &buf, INT_MAX, NULL,\n"
	  "\t\t\t\t\t   READING_MODULE);\n\n\treturn load_module(buf, len, uargs, flags);\n}\n\n"
	  "static int do_ipt_set_ctl(struct sock *sk, int cmd, sockptr_t arg, unsigned int len)\n"
	  "{\n\tswitch (cmd) {\n\tcase IPT_SO_SET_REPLACE:\n\t\treturn do_replace(sock_net(sk), arg, len);\n"
	  "\tdefault:\n\t\treturn -EINVAL;\n\t}\n}\n",
	  1 },
	/* the API the consumer calls: its hooks are what make finit_module measurable */
	{ "kernel_read_file.c",
	  "ssize_t kernel_read_file_from_fd(int fd, loff_t off, void **buf, size_t max, size_t *size,\n"
	  "\t\t\t\t enum kernel_read_file_id id)\n"
	  "{\n\tint ret = security_kernel_read_file(fdget(fd).file, id, true);\n\n"
	  "\treturn ret ? ret : security_kernel_post_read_file(fdget(fd).file, *buf, max, id);\n}\n",
	  1 },
	/* tests/vectors/tpm2 quote-rsa.{msg,sig,pcrs} as evidence, and its AK */
	{ "quote-rsa.evidence",
	  "{\"format\":\"vouch-evidence\",\"version\":1,\"quote\":{\"attest\":\"ff5443478018002"
	  "2000bfa403455e34a05f543b0550b28440b98b145bbb03a6d6ff8be117b7c303a80140014d86c9818ffb"
	  "8898bcaef09e5b0fcc7c17a76b5e50000000000000314000000010000000001201910230016363600000"
	  "001000b0300040000206254ecceb3736bc4d8aa0100e585e2aab107a25e7775bf3acf5fe0d5147768f0"
	  "\",\"signature\":\"0014000b010062e142b54bd548469c49de42a82c1253a04e8452fd5ad4f60359c"
	  "25db569e5c781f2b20fcc07fe84cb7b0794785469d27b34c7a5774908197be67c2636d81d8626c11ace6"
	  "c328909e68ed740619c47e94bcfcd423e2c91dda9952797bc58c1b3e64e747960ec1b575dde5a8f29f85"
	  "bad389e4f748a99b818566f1b7fc5afe8522fe84335a63929c65a4bd50a325c1f263f17555b1ea3888e1"
	  "b96394e7ea950c40135a8098eabe445370e022f7b9fc5200d9e9fe5920b4225f7c59e864af3f138e1479"
	  "546b5d2aa607456f8258435686c1aaed0194690013681a8abc64808cbd169cee32918a3167135e672b19"
	  "3e7e4321054609e8b29b740ed106c0453c62b5d\"},\"pcrs\":[{\"bank\":\"sha256\",\"values\""
	  ":{\"10\":\"e3e99cb5b74f22d24ae9ee0cfc1fffa56a0bbf5e22fdd818027a92097dfcbc2d\"}}]}\n",
	  1 },
	{ "ak-rsa.pem",
	  "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAn0a3cRg/uQ4x"
	  "jvgSsR8Q\nZjBHz5DYmNwtTJ4TXQCAxkQjkuNrZ9OYRlRwZZj7bqB2laJX/E0rgJChddokdsSK\nptQGsElp"
	  "WA3sl7YxSVWJRf/Zvge6a/FOREVOv8CA1Q1bO0Xw1B34jeww2O9Hl4b+\nOUogVvtMSXadt475zV3Lp0ghK4"
	  "rZLl9ImMA4XxeQc8aJYcejm4InxfhBCNax0GM3\ndq/BwMzX9hFXS58t1RYILra6Oz3yd3NELTEV4ubVzZ2/"
	  "V3/zxxSRJKQJSnrwXukZ\nnMEO6S2iXu9ynVz/rLdUPEAgzvP0LlE8EKi1iwvokmbEXUnWaDPYLVMSoV6rsg"
	  "jM\n2wIDAQAB\n-----END PUBLIC KEY-----\n",
	  1 },
};

static int write_payloads(const char *dir)
{
	for (size_t i = 0; i < ARRAY_SIZE(payloads); i++) {
		char path[4096];
		_cleanup_fclose_ FILE *f = NULL;

		snprintf(path, sizeof(path), "%s/%s", dir, payloads[i].name);
		f = fopen(path, "wxe");
		if (!f) {
			cli_error("cannot create '%s': %m", path);
			return -1;
		}
		for (size_t k = 0; k < payloads[i].repeat; k++)
			fputs(payloads[i].content, f);
		if (fflush(f) != 0) {
			cli_error("cannot write '%s': %m", path);
			return -1;
		}
	}
	return 0;
}

static int run_step(const char *self, const char *dir, const struct demo_step *s)
{
	char *argv[26];
	char bufs[24][4096];
	size_t n = 0;
	pid_t pid;
	int status;

	argv[n++] = (char *)"vouch";
	for (size_t i = 0; i < ARRAY_SIZE(s->args) && s->args[i]; i++) {
		const char *a = s->args[i];

		const char *eq = strstr(a, "=@");

		if (a[0] == '@')
			snprintf(bufs[i], sizeof(bufs[i]), "%s%s", dir, a + 1);
		else if (eq) /* NAME=@/file */
			snprintf(bufs[i], sizeof(bufs[i]), "%.*s%s%s", (int)(eq - a + 1), a, dir,
				 eq + 2);
		else
			snprintf(bufs[i], sizeof(bufs[i]), "%s", a);
		argv[n++] = bufs[i];
	}
	argv[n] = NULL;

	printf("\n== %s\n", s->title);
	for (size_t i = 0; i < ARRAY_SIZE(tamper_before); i++) {
		char path[4096];
		_cleanup_fclose_ FILE *f = NULL;

		if (strcmp(tamper_before[i].title, s->title) != 0)
			continue;
		snprintf(path, sizeof(path), "%s%s", dir, tamper_before[i].file + 1);
		printf("$ echo 'echo tampered' >> %s\n", path);
		f = fopen(path, "ae");
		if (!f || fputs("echo tampered\n", f) < 0 || fflush(f) != 0) {
			cli_error("cannot tamper with '%s': %m", path);
			return -1;
		}
	}
	printf("$");
	for (size_t i = 0; i < n; i++)
		printf(" %s", argv[i]);
	printf("\n");
	fflush(stdout);
	if (posix_spawn(&pid, self, NULL, NULL, argv, environ) != 0) {
		cli_error("cannot run '%s': %m", self);
		return -1;
	}
	if (waitpid(pid, &status, 0) < 0) {
		cli_error("waitpid: %m");
		return -1;
	}
	if (!WIFEXITED(status)) {
		cli_error("step crashed (signal %d)", WTERMSIG(status));
		return -1;
	}
	if (WEXITSTATUS(status) != s->expect) {
		cli_error("step exited %d, expected %d", WEXITSTATUS(status), s->expect);
		return -1;
	}
	printf("-> exit %d, as expected\n", WEXITSTATUS(status));
	return 0;
}

/* Start a private swtpm on a free loopback port for the "swtpm: " steps; 0 when unavailable. */
static pid_t demo_swtpm_start(const char *dir, char *why, size_t why_size)
{
	char state[4200], tpmstate[4300], server[96], ctrl[96], tcti[96];
	const char *path = getenv("PATH");
	bool found = false;

	for (const char *p = path ? path : "/usr/bin:/bin"; *p && !found;) {
		const char *end = strchrnul(p, ':');
		char cand[4096];

		snprintf(cand, sizeof(cand), "%.*s/swtpm", (int)(end - p), p);
		found = access(cand, X_OK) == 0;
		p = *end ? end + 1 : end;
	}
	if (!found) {
		snprintf(why, why_size, "swtpm is not installed (package swtpm)");
		return 0;
	}
	snprintf(state, sizeof(state), "%s/swtpm-state", dir);
	if (mkdir(state, 0700) < 0) {
		snprintf(why, why_size, "cannot create the swtpm state directory: %m");
		return 0;
	}
	snprintf(tpmstate, sizeof(tpmstate), "dir=%s", state);
	for (int attempt = 0; attempt < 8; attempt++) {
		int port = 20000 + (int)(((unsigned)getpid() * 7919U + (unsigned)attempt * 104729U) %
					 10000U) * 2;
		char *args[] = { "swtpm", "socket", "--tpm2", "--tpmstate", tpmstate, "--server", server,
				 "--ctrl", ctrl, "--flags", "not-need-init,startup-clear", NULL };
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		posix_spawn_file_actions_t fa;
		pid_t pid;

		snprintf(server, sizeof(server), "type=tcp,port=%d,bindaddr=127.0.0.1", port);
		snprintf(ctrl, sizeof(ctrl), "type=tcp,port=%d,bindaddr=127.0.0.1", port + 1);
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
		if (posix_spawnp(&pid, "swtpm", &fa, NULL, args, environ) != 0) {
			posix_spawn_file_actions_destroy(&fa);
			snprintf(why, why_size, "cannot run swtpm: %m");
			return 0;
		}
		posix_spawn_file_actions_destroy(&fa);
		sa.sin_port = htons((uint16_t)port);
		for (int i = 0; i < 50; i++) {
			_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			int status;

			if (waitpid(pid, &status, WNOHANG) == pid)
				break; /* exited: port taken, try another */
			if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
				snprintf(tcti, sizeof(tcti), "swtpm:host=127.0.0.1,port=%d", port);
				setenv("VOUCH_TCTI", tcti, 1);
				printf("\n(swtpm started, pid %d, %s)\n", (int)pid, tcti);
				return pid;
			}
			usleep(100000);
		}
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	snprintf(why, why_size, "swtpm did not start");
	return 0;
}

/*
 * The first of $VOUCH_EXEC_PATH/NAME, then DIR/NAME for each of @dirs (relative to the
 * directory of this executable: the build tree, an installed prefix), that is executable.
 */
static bool find_prog(const char *self, const char *name, const char *const *dirs, char *ret,
		      size_t size)
{
	const char *exec_path = getenv("VOUCH_EXEC_PATH");
	const char *slash = strrchr(self, '/');
	int n = slash ? (int)(slash - self) : 0;

	if (exec_path && *exec_path &&
	    (size_t)snprintf(ret, size, "%s/%s", exec_path, name) < size && access(ret, X_OK) == 0)
		return true;
	for (size_t i = 0; dirs[i]; i++)
		if ((size_t)snprintf(ret, size, "%.*s/%s/%s", n, self, dirs[i], name) < size &&
		    access(ret, X_OK) == 0)
			return true;
	return false;
}

/*
 * The attestation service, end to end: vouch-demo-service (a script beside the other
 * helper programs) starts vouchd and two agents on their own swtpm.  0 ran as expected,
 * 1 skipped (the reason printed), -1 failed.
 */
static int demo_service(const char *self, const char *dir)
{
	static const char *const script_dirs[] = { "../service", "../libexec/vouch", NULL };
	static const char *const vouchd_dirs[] = { "../service", "../sbin", ".", NULL };
	static const char *const agent_dirs[] = { "../service", ".", NULL };
	char script[4096], vouchd[4096], agent[4096];
	char *argv[] = { (char *)"bash", script, (char *)dir, NULL };
	pid_t pid;
	int status;

	printf("\n== the attestation service: vouchd and two agents, one machine tampered with\n");
	if (!find_prog(self, "vouch-demo-service", script_dirs, script, sizeof(script)) ||
	    !find_prog(self, "vouchd", vouchd_dirs, vouchd, sizeof(vouchd)) ||
	    !find_prog(self, "vouch-agent", agent_dirs, agent, sizeof(agent))) {
		printf("-> skipped: vouchd, vouch-agent or vouch-demo-service is not installed "
		       "(packages vouchd and vouch)\n");
		return 1;
	}
	fflush(stdout);
	if (setenv("VOUCH", self, 1) < 0 || setenv("VOUCHD", vouchd, 1) < 0 ||
	    setenv("VOUCH_AGENT", agent, 1) < 0 ||
	    posix_spawnp(&pid, "bash", NULL, NULL, argv, environ) != 0) {
		cli_error("cannot run '%s': %m", script);
		return -1;
	}
	if (waitpid(pid, &status, 0) < 0) {
		cli_error("waitpid: %m");
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		return 1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		cli_error("the service demo failed");
		return -1;
	}
	printf("-> the service judged both machines as expected\n");
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int cmd_demo(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "keep", no_argument, NULL, 'k' },
		{ 0 },
	};
	char tmpl[] = "/tmp/vouch-demo-XXXXXX";
	char self[4096];
	const char *dir = NULL;
	bool keep = false, made = false, swtpm_tried = false;
	char swtpm_why[256] = "";
	size_t skipped = 0;
	pid_t swtpm = 0;
	ssize_t n;
	int c, r, ret = EXIT_OK;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'k')
			keep = true;
		else
			return cli_usage_error("demo", "invalid option");
	}
	if (optind != argc)
		return cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		cli_error("cannot find the vouch binary: %m");
		return EXIT_ERROR;
	}
	self[n] = '\0';
	if (dir) {
		if (mkdir(dir, 0700) < 0) {
			cli_error("cannot create '%s': %m (give a new directory)", dir);
			return EXIT_ERROR;
		}
		keep = true;
	} else {
		dir = mkdtemp(tmpl);
		if (!dir) {
			cli_error("cannot create a scratch directory: %m");
			return EXIT_ERROR;
		}
	}
	made = true;
	printf("vouch %s demo in %s\n", vouch_version(), dir);
	if (write_payloads(dir) < 0) {
		ret = EXIT_ERROR;
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		if (!strncmp(steps[i].title, DEMO_SWTPM_PREFIX, strlen(DEMO_SWTPM_PREFIX))) {
			if (!swtpm_tried) {
				swtpm_tried = true;
				swtpm = demo_swtpm_start(dir, swtpm_why, sizeof(swtpm_why));
			}
			if (!swtpm) {
				printf("\n== %s\n-> skipped: %s\n", steps[i].title, swtpm_why);
				skipped++;
				continue;
			}
		}
		if (run_step(self, dir, &steps[i]) < 0) {
			cli_error("demo failed at step %zu: %s", i + 1, steps[i].title);
			ret = EXIT_ERROR;
			goto out;
		}
	}
	r = demo_service(self, dir);
	if (r < 0) {
		ret = EXIT_ERROR;
		goto out;
	}
	printf("\ndemo: all %zu steps behaved as expected", ARRAY_SIZE(steps) - skipped);
	if (skipped)
		printf(" (%zu skipped: %s)", skipped, swtpm_why);
	printf(r == 0 ? "; the service part too\n" : "; the service part was skipped\n");
out:
	if (swtpm > 0) {
		kill(swtpm, SIGTERM);
		waitpid(swtpm, NULL, 0);
	}
	if (made && !keep)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	else if (made)
		printf("demo: files kept in %s\n", dir);
	return ret;
}
