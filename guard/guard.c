// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vouch guard: fanotify permission events on the marked mounts, each decided by the
 * integrity engine (policy, appraisal, measurement, latch) and answered FAN_ALLOW/FAN_DENY.
 *
 * Threads: the main thread reads the fanotify fd and queues events into a fixed table of
 * slots; a pool of workers classifies and decides them; a watchdog answers every slot older
 * than the deadline with the configured default.  Every slot is answered exactly once (an
 * atomic flag): whoever comes first, worker or watchdog, writes the response; the worker
 * always closes the event fd, after the answer.  SIGTERM/SIGINT answer every pending event
 * and close the fanotify fd, which releases whatever the kernel still queued.
 *
 * Which consumer (enum vouch_func) an event is for:
 *   FAN_OPEN_EXEC_PERM          BPRM_CHECK, MAY_EXEC: execve() of the binary and of its ELF
 *                               interpreter (the kernel opens both with open_exec()), uselib
 *   FAN_OPEN_PERM after an exec FILE_CHECK, MAY_EXEC: the open that execve() itself reports
 *   of the same file by the       (as IMA's ima_file_check() sees execve's open with MAY_EXEC)
 *   same process
 *   FAN_OPEN_PERM of a shared   MMAP_CHECK, MAY_EXEC: fanotify has no mmap permission event;
 *   object: ELF ET_DYN named    the dynamic loader open()s each shared library read-only and
 *   *.so or *.so.*, or without  then maps it PROT_EXEC, so a shared object's open is where
 *   a PT_INTERP                 its mapping can be refused (a PIE program, ET_DYN with a
 *                               PT_INTERP, opened for reading by cp say, is FILE_CHECK)
 *   FAN_OPEN_PERM by kmod,      MODULE_CHECK (a .ko, .ko.xz, .ko.zst, .ko.gz name or an ELF
 *   insmod or modprobe          ET_REL file), through vouch_engine_read_file()
 *   FAN_OPEN_PERM by kexec      KEXEC_KERNEL_CHECK for a kernel (bzImage, ELF, PE), else
 *                               KEXEC_INITRAMFS_CHECK
 *   under /lib/firmware/ or     FIRMWARE_CHECK
 *   /usr/lib/firmware/
 *   under /etc/ima/             POLICY_CHECK
 *   other FAN_OPEN_PERM         FILE_CHECK, MAY_READ (fanotify does not report the open mode)
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "guard.h"
#include "policy-cli.h"

#define SLOTS 4096
#define EXEC_TABLE 1024
#define MEMO_SIZE 8192
#define EXEC_WINDOW_NS (2ull * 1000000000ull)
#define EVENT_BUF (64 * 1024)

#ifndef FAN_MARK_IGNORE
#define FAN_MARK_IGNORE 0x00000400
#endif

struct slot {
	int fd;		    /* the event's fd; the response names it */
	pid_t pid;
	uint64_t mask;
	uint64_t t0;	    /* CLOCK_MONOTONIC ns, when read */
	_Atomic int func;   /* the consumer (classified by the reader) */
	int read_id;	    /* enum vouch_read_id for kernel_read_file() consumers, else 0 */
	uint32_t may;	    /* VOUCH_MAY_* */
	struct stat st;
	uint64_t gen;	    /* inode generation, 0 where the filesystem has none */
	atomic_bool answered;
	bool in_use;
	bool queued;
};

/* the last exec per process, so that execve()'s own FAN_OPEN_PERM is FILE_CHECK MAY_EXEC */
struct exec_ent {
	pid_t pid;
	uint64_t dev, ino, t;
};

/*
 * The engine's last answer per file, consumer and mask, valid while the file's inode
 * generation (an inode number reused by a new file), size, mtime and ctime are unchanged
 * and the policy, trust and modes are (fixed for the daemon's life).  The reader answers from it without a thread switch; a
 * miss goes to a worker and the engine.
 */
struct memo_ent {
	uint64_t dev, ino, gen, size;
	int64_t mtime_s, ctime_s;
	uint32_t mtime_ns, ctime_ns;
	uint32_t mask;
	int16_t func;
	bool valid, allow, would_deny;
};

struct stats {
	atomic_uint_fast64_t events, allowed, denied, would_deny, deadline_defaults, cached,
		own, errors, queue_full, overflows, shutdown_answers, new_files;
	atomic_uint_fast64_t decide_ns, decide_n;	    /* every engine call */
	atomic_uint_fast64_t cached_ns, cached_n;	    /* engine calls answered from cache */
	atomic_uint_fast64_t event_ns, event_n;	    /* read to answer, through a worker */
	atomic_uint_fast64_t fast_ns, fast_n;	    /* read to decision, from the memo */
};

/* what the audit callback saw during one engine call (of this thread) */
struct audit_capture {
	unsigned rule;
	char reason[96];
};

struct guard {
	struct guard_conf *conf;
	vouch_ctx *ctx;
	vouch_engine *engine;
	int fan_fd;
	pid_t self;
	uint32_t deadline_ms;
	int deadline_default;
	bool enforcing[_VOUCH_FUNC_MAX]; /* mode or latch, fixed after setup */
	bool latched[_VOUCH_FUNC_MAX];
	bool needed[_VOUCH_FUNC_MAX];	 /* consumers the policy or a latch acts on */
	uint64_t events;		 /* FAN_OPEN_EXEC_PERM, FAN_OPEN_PERM: what they need */
	bool any_enforcing;

	pthread_mutex_t lock; /* slots, queue */
	pthread_cond_t work;  /* a slot was queued, or stopping */
	pthread_cond_t stop_cond;
	struct slot slots[SLOTS];
	uint32_t free_list[SLOTS];
	uint32_t n_free;
	uint32_t queue[SLOTS];
	uint32_t q_head, q_len;
	pthread_mutex_t exec_lock;
	struct exec_ent exec[EXEC_TABLE];
	pthread_mutex_t memo_lock;
	struct memo_ent memo[MEMO_SIZE];
	atomic_bool stopping;

	pthread_mutex_t log_lock;
	int json_fd;
	struct stats st;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *func_name(int func)
{
	const char *n = func > 0 ? vouch_policy_func_name(func) : NULL;

	return n ? n : "-";
}

static bool default_allows(const struct guard *g, int func)
{
	switch (g->deadline_default) {
	case GUARD_DEFAULT_ALLOW:
		return true;
	case GUARD_DEFAULT_DENY:
		return false;
	default:
		return func > 0 && func < _VOUCH_FUNC_MAX ? !g->enforcing[func] : !g->any_enforcing;
	}
}

/* Answer once; false when someone else already answered. */
static bool respond(struct guard *g, struct slot *s, bool allow)
{
	struct fanotify_response resp = { .fd = s->fd, .response = allow ? FAN_ALLOW : FAN_DENY };

	if (atomic_exchange(&s->answered, true))
		return false;
	if (write(g->fan_fd, &resp, sizeof(resp)) != (ssize_t)sizeof(resp))
		atomic_fetch_add(&g->st.errors, 1); /* the fd is gone (shutdown): nothing waits */
	return true;
}

static void fd_path(int fd, char *buf, size_t size)
{
	char proc[64];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, buf, size - 1);
	if (n < 0)
		n = snprintf(buf, size, "?");
	buf[n] = '\0';
}

static void pid_exe(pid_t pid, char *buf, size_t size)
{
	char proc[64];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/%d/exe", (int)pid);
	n = readlink(proc, buf, size - 1);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static bool latched(const struct guard *g, int func)
{
	return func > 0 && func < _VOUCH_FUNC_MAX && g->latched[func];
}

/* One line on stderr and, with --log-json, one JSON line in one write(). */
static void log_event(struct guard *g, const char *decision, int func, pid_t pid,
		      const char *exe, const char *path, unsigned rule, const char *reason, int mode)
{
	pthread_mutex_lock(&g->log_lock);
	/* rule 0 with a decision by the engine: the consumer's latch, not a policy rule */
	if (rule)
		fprintf(stderr, "vouch guard: %s %s '%s' rule=%u reason='%s' mode=%s pid=%d exe='%s'\n",
			decision, func_name(func), path, rule, reason, guard_mode_name(mode),
			(int)pid, exe);
	else
		fprintf(stderr, "vouch guard: %s %s '%s' rule=%s reason='%s' mode=%s pid=%d exe='%s'\n",
			decision, func_name(func), path, latched(g, func) ? "latch" : "none", reason,
			guard_mode_name(mode), (int)pid, exe);
	if (g->json_fd >= 0) {
		_cleanup_(json_object_putp) json_object *o = json_object_new_object();
		struct timespec ts;
		const char *s;
		size_t len;

		clock_gettime(CLOCK_REALTIME, &ts);
		json_object_object_add(o, "time", json_object_new_double((double)ts.tv_sec +
									 (double)ts.tv_nsec / 1e9));
		json_object_object_add(o, "decision", json_object_new_string(decision));
		json_object_object_add(o, "consumer", json_object_new_string(func_name(func)));
		json_object_object_add(o, "path", json_object_new_string(path));
		json_object_object_add(o, "rule", json_object_new_int((int)rule));
		json_object_object_add(o, "latched", json_object_new_boolean(latched(g, func)));
		json_object_object_add(o, "reason", json_object_new_string(reason));
		json_object_object_add(o, "mode", json_object_new_string(guard_mode_name(mode)));
		json_object_object_add(o, "pid", json_object_new_int((int)pid));
		json_object_object_add(o, "exe", json_object_new_string(exe));
		s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
		len = strlen(s);
		{
			_cleanup_free_ char *line = malloc(len + 1);

			if (line) {
				memcpy(line, s, len);
				line[len] = '\n';
				if (write(g->json_fd, line, len + 1) != (ssize_t)(len + 1))
					atomic_fetch_add(&g->st.errors, 1);
			}
		}
	}
	pthread_mutex_unlock(&g->log_lock);
}

/* the engine calls the audit callback on the thread of the hook that audits (engine.h) */
static _Thread_local struct audit_capture *capture;

static void audit_cb(void *userdata, const struct vouch_engine_event *ev)
{
	(void)userdata;
	if (!capture || strcmp(ev->action, "appraise"))
		return;
	capture->rule = ev->rule;
	snprintf(capture->reason, sizeof(capture->reason), "%s", ev->reason);
}

/*
 * The one way into the engine.  The workers call it at once (the engine's hooks are
 * thread-safe and commit new list entries in groups, engine.h): hashing and signature
 * checks of different files run on both cores, and one flush makes a group durable.
 */
static int guard_engine_check(struct guard *g, int func, int read_id, int fd, const char *name,
			      uint32_t mask, struct vouch_engine_result *res,
			      struct audit_capture *cap)
{
	uint64_t t0, dt;
	int r;

	capture = cap;
	t0 = now_ns();
	if (read_id)
		r = vouch_engine_read_file(g->engine, read_id, fd, name, false, res);
	else
		r = vouch_engine_file_check(g->engine, func, fd, name, mask, res);
	dt = now_ns() - t0;
	/* the context's last error may be another worker's: the errno says what failed */
	if (r < 0 && r != -EACCES)
		snprintf(cap->reason, sizeof(cap->reason), "could not check: %s", strerror(-r));
	capture = NULL;
	atomic_fetch_add(&g->st.decide_ns, dt);
	atomic_fetch_add(&g->st.decide_n, 1);
	if ((r == 0 || r == -EACCES) && res->cached) {
		atomic_fetch_add(&g->st.cached_ns, dt);
		atomic_fetch_add(&g->st.cached_n, 1);
	}
	return r;
}

static size_t exec_hash(pid_t pid)
{
	return ((uint32_t)pid * 2654435761u) % EXEC_TABLE;
}

static uint64_t elf_get(const unsigned char *p, size_t size, bool be)
{
	uint64_t v = 0;

	for (size_t i = 0; i < size; i++)
		v |= (uint64_t)p[be ? i : size - 1 - i] << (8 * (size - 1 - i));
	return v;
}

/*
 * A PT_INTERP program header (within the first page): an ET_DYN with one is a program
 * (PIE), one without is a shared object.  Tells a library being loaded from a PIE program
 * merely read (cp, sha256sum, 'vouch ima sign').
 */
static bool elf_has_interp(const unsigned char *h, size_t n)
{
	bool is64 = h[4] == 2, be = h[5] == 2;
	uint64_t phoff, entsize, num;

	if (n < (is64 ? 0x40u : 0x34u))
		return false;
	phoff = is64 ? elf_get(h + 0x20, 8, be) : elf_get(h + 0x1c, 4, be);
	entsize = elf_get(h + (is64 ? 0x36 : 0x2a), 2, be);
	num = elf_get(h + (is64 ? 0x38 : 0x2c), 2, be);
	if (entsize < 4)
		return false;
	for (uint64_t i = 0; i < num; i++) {
		uint64_t off = phoff + i * entsize;

		if (off > n || n - off < 4)
			break;
		if (elf_get(h + off, 4, be) == 3 /* PT_INTERP */)
			return true;
	}
	return false;
}

/* "libc.so.6", "libvt.so": a shared object by name (libc has a PT_INTERP of its own) */
static bool so_name(const char *path)
{
	const char *b = base_name(path), *p = strstr(b, ".so");

	return p && (p[3] == '\0' || p[3] == '.');
}

/* kexec's inputs: a kernel (bzImage, PE, ELF) or an initramfs (cpio, compressed) */
static bool kexec_magic(const unsigned char *h, ssize_t n, bool *ret_kernel)
{
	static const struct {
		const char *m;
		size_t len;
	} initrd[] = { { "070701", 6 }, { "070702", 6 }, { "\x1f\x8b", 2 }, { "\x28\xb5\x2f\xfd", 4 },
		       { "\xfd" "7zXZ", 5 }, { "BZh", 3 }, { "\x02\x21\x4c\x18", 4 },
		       { "\x5d\x00\x00", 3 }, { "\x89LZO", 4 } };

	*ret_kernel = (n >= 4 && !memcmp(h, "\177ELF", 4)) || (n >= 2 && !memcmp(h, "MZ", 2)) ||
		      (n >= 0x206 && !memcmp(h + 0x202, "HdrS", 4));
	if (*ret_kernel)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(initrd); i++)
		if (n >= (ssize_t)initrd[i].len && !memcmp(h, initrd[i].m, initrd[i].len))
			return true;
	return false;
}

/*
 * Which consumer; sets *read_id for the kernel_read_file() consumers, *mask for file hooks.
 * Cheap on the paths every exec takes (no path, no /proc): the reader thread calls it.
 */
static int classify(struct guard *g, int fd, pid_t pid, uint64_t evmask, const struct stat *st,
		    int *read_id, uint32_t *mask)
{
	struct exec_ent *e = &g->exec[exec_hash(pid)];
	unsigned char h[4096];
	char path[PATH_MAX];
	ssize_t n;
	bool elf, hit, kernel;
	unsigned type;

	*read_id = 0;
	*mask = VOUCH_MAY_EXEC;
	pthread_mutex_lock(&g->exec_lock);
	if (evmask & FAN_OPEN_EXEC_PERM) {
		*e = (struct exec_ent){ pid, (uint64_t)st->st_dev, (uint64_t)st->st_ino, now_ns() };
		pthread_mutex_unlock(&g->exec_lock);
		return VOUCH_FUNC_BPRM_CHECK;
	}
	hit = e->pid == pid && e->dev == (uint64_t)st->st_dev && e->ino == (uint64_t)st->st_ino &&
	      now_ns() - e->t < EXEC_WINDOW_NS;
	pthread_mutex_unlock(&g->exec_lock);
	if (hit)
		return VOUCH_FUNC_FILE_CHECK;

	fd_path(fd, path, sizeof(path));
	if (!strncmp(path, "/lib/firmware/", 14) || !strncmp(path, "/usr/lib/firmware/", 18)) {
		*read_id = VOUCH_READING_FIRMWARE;
		return VOUCH_FUNC_FIRMWARE_CHECK;
	}
	if (!strncmp(path, "/etc/ima/", 9)) {
		*read_id = VOUCH_READING_POLICY;
		return VOUCH_FUNC_POLICY_CHECK;
	}
	memset(h, 0, sizeof(h));
	n = pread(fd, h, sizeof(h), 0);
	elf = n >= 20 && !memcmp(h, "\177ELF", 4);
	/* e_type (offset 16) in the file's byte order (EI_DATA, offset 5) */
	type = !elf ? 0 : h[5] == 2 ? (unsigned)(h[16] << 8 | h[17]) : (unsigned)(h[17] << 8 | h[16]);
	if (ends_with(path, ".ko") || ends_with(path, ".ko.xz") || ends_with(path, ".ko.zst") ||
	    ends_with(path, ".ko.gz") || (elf && type == 1 /* ET_REL */)) {
		char exe[PATH_MAX];
		const char *b;

		pid_exe(pid, exe, sizeof(exe));
		b = base_name(exe);
		if (!strcmp(b, "kmod") || !strcmp(b, "insmod") || !strcmp(b, "modprobe")) {
			*read_id = VOUCH_READING_MODULE;
			return VOUCH_FUNC_MODULE_CHECK;
		}
	}
	if (!(elf && type == 3) && kexec_magic(h, n, &kernel)) {
		char exe[PATH_MAX];

		pid_exe(pid, exe, sizeof(exe));
		if (!strcmp(base_name(exe), "kexec")) {
			*read_id = kernel ? VOUCH_READING_KEXEC_IMAGE : VOUCH_READING_KEXEC_INITRAMFS;
			return kernel ? VOUCH_FUNC_KEXEC_KERNEL_CHECK : VOUCH_FUNC_KEXEC_INITRAMFS_CHECK;
		}
	}
	if (elf && type == 3 && (so_name(path) || !elf_has_interp(h, (size_t)n)))
		return VOUCH_FUNC_MMAP_CHECK;
	*mask = VOUCH_MAY_READ;
	return VOUCH_FUNC_FILE_CHECK;
}

/* FS_IOC_GETVERSION: ext4, xfs, btrfs; 0 elsewhere (tmpfs, ...), where ctime must do */
static uint64_t inode_generation(int fd)
{
	int gen = 0;

	if (ioctl(fd, FS_IOC_GETVERSION, &gen) < 0)
		return 0;
	return (uint32_t)gen;
}

static size_t memo_hash(const struct stat *st, int func)
{
	uint64_t h = ((uint64_t)st->st_ino ^ ((uint64_t)st->st_dev << 20) ^ (uint64_t)func << 40) *
		     0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 40) % MEMO_SIZE; /* the high bits of the product mix every input */
}

static bool memo_same(const struct memo_ent *m, const struct stat *st, uint64_t gen, int func,
		      uint32_t mask)
{
	return m->valid && m->func == func && m->mask == mask && m->dev == (uint64_t)st->st_dev &&
	       m->ino == (uint64_t)st->st_ino && m->gen == gen && m->size == (uint64_t)st->st_size &&
	       m->mtime_s == (int64_t)st->st_mtim.tv_sec &&
	       m->mtime_ns == (uint32_t)st->st_mtim.tv_nsec &&
	       m->ctime_s == (int64_t)st->st_ctim.tv_sec &&
	       m->ctime_ns == (uint32_t)st->st_ctim.tv_nsec;
}

/* The engine's last answer for this file, consumer and mask, if the file is unchanged. */
static bool memo_find(struct guard *g, const struct stat *st, uint64_t gen, int func,
		      uint32_t mask, bool *ret_allow, bool *ret_would_deny)
{
	struct memo_ent *m = &g->memo[memo_hash(st, func)];
	bool hit;

	pthread_mutex_lock(&g->memo_lock);
	hit = memo_same(m, st, gen, func, mask);
	if (hit) {
		*ret_allow = m->allow;
		*ret_would_deny = m->would_deny;
	}
	pthread_mutex_unlock(&g->memo_lock);
	return hit;
}

static void memo_store(struct guard *g, const struct stat *st, uint64_t gen, int func,
		       uint32_t mask, bool allow, bool would_deny)
{
	struct memo_ent *m = &g->memo[memo_hash(st, func)];

	pthread_mutex_lock(&g->memo_lock);
	*m = (struct memo_ent){
		.dev = (uint64_t)st->st_dev, .ino = (uint64_t)st->st_ino, .gen = gen,
		.size = (uint64_t)st->st_size,
		.mtime_s = (int64_t)st->st_mtim.tv_sec, .mtime_ns = (uint32_t)st->st_mtim.tv_nsec,
		.ctime_s = (int64_t)st->st_ctim.tv_sec, .ctime_ns = (uint32_t)st->st_ctim.tv_nsec,
		.mask = mask, .func = (int16_t)func, .valid = true, .allow = allow,
		.would_deny = would_deny,
	};
	pthread_mutex_unlock(&g->memo_lock);
}

/* Sleep for --test-delay, but wake at shutdown. */
static void test_delay(struct guard *g)
{
	struct timespec ts;
	uint64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns = (uint64_t)ts.tv_nsec + (uint64_t)g->conf->test_delay_ms * 1000000ull;
	ts.tv_sec += (time_t)(ns / 1000000000ull);
	ts.tv_nsec = (long)(ns % 1000000000ull);
	pthread_mutex_lock(&g->lock);
	while (!atomic_load(&g->stopping) &&
	       pthread_cond_timedwait(&g->stop_cond, &g->lock, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&g->lock);
}

static void handle(struct guard *g, struct slot *s)
{
	struct vouch_engine_result res = { 0 };
	struct audit_capture cap = { 0 };
	char path[PATH_MAX], exe[PATH_MAX];
	const char *decision = NULL, *reason = "";
	int func = s->func, r, mode;
	bool allow, answered, would_deny;

	if (g->conf->test_delay_ms)
		test_delay(g);
	fd_path(s->fd, path, sizeof(path));
	r = guard_engine_check(g, func, s->read_id, s->fd, path, s->may, &res, &cap);
	mode = g->enforcing[func] ? VOUCH_MODE_ENFORCE : res.mode;
	if (r == 0 || r == -EACCES) {
		allow = r == 0;
	} else {
		/* could not check (I/O, a file too large): the consumer's default */
		allow = !g->enforcing[func];
		atomic_fetch_add(&g->st.errors, 1);
	}
	would_deny = allow && res.appraised && res.appraisal < 0;
	if (r == 0 || r == -EACCES)
		memo_store(g, &s->st, s->gen, func, s->may, allow, would_deny);
	/* each denial once: later ones come from the cache */
	if (r < 0 && r != -EACCES) {
		decision = allow ? "error-allow" : "error-deny";
		reason = cap.reason;
	} else if (!allow && !res.cached) {
		decision = "deny";
		reason = res.reason[0] ? res.reason : cap.reason;
	} else if (would_deny && !res.cached) {
		decision = "would-deny";
		reason = res.reason;
	}
	/* the opener's executable before the answer lets it go on (and maybe exec) */
	if (decision)
		pid_exe(s->pid, exe, sizeof(exe));
	answered = respond(g, s, allow);
	atomic_fetch_add(&g->st.event_ns, now_ns() - s->t0);
	atomic_fetch_add(&g->st.event_n, 1);
	if (!answered)
		return; /* the watchdog answered first and logged it */
	if (res.cached)
		atomic_fetch_add(&g->st.cached, 1);
	atomic_fetch_add(allow ? &g->st.allowed : &g->st.denied, 1);
	if (would_deny)
		atomic_fetch_add(&g->st.would_deny, 1);
	if (decision)
		log_event(g, decision, func, s->pid, exe, path, cap.rule, reason, mode);
}

static void release_slot(struct guard *g, struct slot *s)
{
	pthread_mutex_lock(&g->lock);
	close(s->fd); /* under the lock: the watchdog may be naming it in a log line */
	s->fd = -1;
	s->in_use = false;
	g->free_list[g->n_free++] = (uint32_t)(s - g->slots);
	pthread_mutex_unlock(&g->lock);
}

static void *worker(void *arg)
{
	struct guard *g = arg;

	for (;;) {
		struct slot *s;

		pthread_mutex_lock(&g->lock);
		while (!g->q_len && !atomic_load(&g->stopping))
			pthread_cond_wait(&g->work, &g->lock);
		if (!g->q_len) {
			pthread_mutex_unlock(&g->lock);
			return NULL;
		}
		s = &g->slots[g->queue[g->q_head]];
		g->q_head = (g->q_head + 1) % SLOTS;
		g->q_len--;
		s->queued = false;
		pthread_mutex_unlock(&g->lock);
		if (!atomic_load(&s->answered))
			handle(g, s);
		release_slot(g, s);
	}
}

/* Answer every slot past the deadline with the default. */
static void *watchdog(void *arg)
{
	struct guard *g = arg;
	uint64_t period = (uint64_t)g->deadline_ms * 1000000ull / 4;

	if (period > 100000000ull)
		period = 100000000ull;
	if (period < 1000000ull)
		period = 1000000ull;
	for (;;) {
		struct timespec ts;
		uint64_t ns, now;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ns = (uint64_t)ts.tv_nsec + period;
		ts.tv_sec += (time_t)(ns / 1000000000ull);
		ts.tv_nsec = (long)(ns % 1000000000ull);
		pthread_mutex_lock(&g->lock);
		while (!atomic_load(&g->stopping) &&
		       pthread_cond_timedwait(&g->stop_cond, &g->lock, &ts) != ETIMEDOUT)
			;
		if (atomic_load(&g->stopping)) {
			pthread_mutex_unlock(&g->lock);
			return NULL;
		}
		now = now_ns();
		for (size_t i = 0; i < SLOTS; i++) {
			struct slot *s = &g->slots[i];
			char path[PATH_MAX], exe[PATH_MAX];
			int func;
			bool allow;

			if (!s->in_use || atomic_load(&s->answered) ||
			    now - s->t0 < (uint64_t)g->deadline_ms * 1000000ull)
				continue;
			func = atomic_load(&s->func);
			allow = default_allows(g, func);
			fd_path(s->fd, path, sizeof(path));
			pid_exe(s->pid, exe, sizeof(exe));
			if (!respond(g, s, allow))
				continue;
			atomic_fetch_add(&g->st.deadline_defaults, 1);
			atomic_fetch_add(allow ? &g->st.allowed : &g->st.denied, 1);
			log_event(g, allow ? "deadline-allow" : "deadline-deny", func, s->pid, exe, path, 0,
				  "no decision before the deadline", func > 0 && g->enforcing[func]
				  ? VOUCH_MODE_ENFORCE : VOUCH_MODE_LOG);
		}
		pthread_mutex_unlock(&g->lock);
	}
}

static int write_stats(struct guard *g, const char *path)
{
	_cleanup_(json_object_putp) json_object *o = json_object_new_object();
	_cleanup_free_ char *tmp = NULL;
	const char *s;
	uint64_t cn = atomic_load(&g->st.cached_n), dn = atomic_load(&g->st.decide_n),
		 en = atomic_load(&g->st.event_n), fn = atomic_load(&g->st.fast_n);
	int fd;
	size_t len;

#define ADD(name) json_object_object_add(o, #name, json_object_new_int64((int64_t)atomic_load(&g->st.name)))
	ADD(events);
	ADD(allowed);
	ADD(denied);
	ADD(would_deny);
	ADD(deadline_defaults);
	ADD(cached);
	ADD(own);
	ADD(errors);
	ADD(queue_full);
	ADD(overflows);
	ADD(shutdown_answers);
	ADD(new_files);
#undef ADD
	json_object_object_add(o, "decision_us_avg",
			       json_object_new_double(dn ? (double)atomic_load(&g->st.decide_ns) / dn / 1e3 : 0));
	json_object_object_add(o, "cached_decision_us_avg",
			       json_object_new_double(cn ? (double)atomic_load(&g->st.cached_ns) / cn / 1e3 : 0));
	json_object_object_add(o, "event_us_avg",
			       json_object_new_double(en ? (double)atomic_load(&g->st.event_ns) / en / 1e3 : 0));
	json_object_object_add(o, "fast_path", json_object_new_int64((int64_t)fn));
	json_object_object_add(o, "fast_path_us_avg",
			       json_object_new_double(fn ? (double)atomic_load(&g->st.fast_ns) / fn / 1e3 : 0));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!path) {
		fprintf(stderr, "vouch guard: stats %s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		return 0;
	}
	/* never a half-written file: a temporary beside it, renamed over it */
	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	len = strlen(s);
	if (write(fd, s, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
		int e = errno ? errno : EIO;

		close(fd);
		unlink(tmp);
		return -e;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		int e = errno;

		unlink(tmp);
		return -e;
	}
	return 0;
}

static void dump_stats(struct guard *g)
{
	int r;

	write_stats(g, NULL);
	if (g->conf->stats_file) {
		r = write_stats(g, g->conf->stats_file);
		if (r < 0)
			fprintf(stderr, "vouch guard: cannot write stats '%s': %s\n",
				g->conf->stats_file, strerror(-r));
	}
}

/* sd_notify(READY=1) by hand: one datagram to $NOTIFY_SOCKET (no libsystemd in vouch) */
static void notify_ready(void)
{
	const char *p = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (!p || (p[0] != '/' && p[0] != '@') || (len = strlen(p)) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, p, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		fprintf(stderr, "vouch guard: cannot notify the service manager: %m\n");
	close(fd);
}

/*
 * Which consumers the policy can act on: a rule naming func= needs that consumer's events, a
 * rule without func= needs them all, dont_* rules none.  With @needed the guard marks only
 * the events that can change an answer or a measurement (a policy about executables alone
 * costs one event per exec, not two).
 */
/* a condition on the task's credentials (uid=, euid<, gid>, ...) in rule @text, or NULL */
static const char *task_condition(const char *text)
{
	static const char *const keys[] = { "uid", "euid", "gid", "egid" };

	for (const char *t = text; (t = strchr(t, ' ')); t++)
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
			size_t len = strlen(keys[k]);

			if (!strncmp(t + 1, keys[k], len) && strchr("=<>", t[1 + len]) && t[1 + len])
				return keys[k];
		}
	return NULL;
}

/*
 * The consumers the policy acts on (only those are marked).  A rule on the task's
 * credentials is refused: the engine evaluates those for its caller, which is the guard,
 * not the process that opens the file; deciding it on the guard's uid would be silently
 * wrong (fail closed, as the engine refuses conditions it cannot evaluate).
 */
static int policy_funcs(const vouch_policy *p, bool needed[_VOUCH_FUNC_MAX])
{
	size_t n = vouch_policy_rule_count(p);

	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *text = NULL;
		const char *f, *cond;
		int r = vouch_policy_format_rule(p, i, &text);

		if (r < 0)
			return r;
		cond = task_condition(text);
		if (cond) {
			cli_error("guard: policy rule %zu ('%s'): %s= is the opener's, which the guard "
				  "cannot evaluate: refused", i + 1, text, cond);
			return -EOPNOTSUPP;
		}
		if (!strncmp(text, "dont_", 5))
			continue;
		f = strstr(text, " func=");
		if (!f) {
			for (int k = 1; k < _VOUCH_FUNC_MAX; k++)
				needed[k] = true;
			continue;
		}
		f += 6;
		for (int k = 1; k < _VOUCH_FUNC_MAX; k++) {
			const char *name = vouch_policy_func_name(k);
			size_t len = name ? strlen(name) : 0;

			if (len && !strncmp(f, name, len) && (f[len] == ' ' || !f[len]))
				needed[k] = true;
		}
	}
	return 0;
}

/* The engine: state, policy, trust, modes and latches.  Returns an exit code. */
static int setup_engine(struct guard *g)
{
	struct guard_conf *c = g->conf;
	struct vouch_engine_options o = VOUCH_ENGINE_OPTIONS_INIT;
	vouch_policy *p = NULL;
	int r;

	o.state_dir = c->state_dir;
	o.xattr_name = c->xattr;
	o.tcti = c->tcti;
	o.audit_fn = audit_cb;
	o.audit_userdata = g;
	r = vouch_engine_new(g->ctx, &o, &g->engine);
	if (r < 0) {
		cli_lib_error(g->ctx, r, c->state_dir);
		return EXIT_ERROR;
	}
	if (!c->policy) {
		cli_error("guard: no policy: give --policy FILE|builtin:NAME or 'policy =' in '%s'",
			  c->config ? c->config : GUARD_CONF_DEFAULT);
		return EXIT_USAGE;
	}
	r = cli_load_policy(g->ctx, "guard", c->policy, 0, &p);
	if (r)
		return r;
	r = policy_funcs(p, g->needed);
	if (r < 0) {
		vouch_policy_free(p);
		return EXIT_ERROR;
	}
	r = vouch_engine_set_policy(g->engine, p);
	if (r < 0) {
		cli_lib_error(g->ctx, r, c->policy);
		return EXIT_ERROR;
	}
	if (cli_engine_trust(g->ctx, g->engine, VOUCH_KEYRING_IMA, c->trust, c->n_trust, NULL) < 0 ||
	    cli_engine_trust(g->ctx, g->engine, VOUCH_KEYRING_KERNEL, c->ktrust, c->n_ktrust, NULL) < 0)
		return EXIT_ERROR;
	for (int f = 1; f < _VOUCH_FUNC_MAX; f++) {
		int m = c->mode[f] >= 0 ? c->mode[f] : c->mode_all >= 0 ? c->mode_all : VOUCH_MODE_LOG;

		if (f == VOUCH_FUNC_POST_SETATTR)
			continue;
		if (m == VOUCH_MODE_ENFORCE) {
			/* enforce is enable-only: latched in the state before the first answer */
			r = vouch_engine_set_mode(g->engine, f, m);
			if (r == 0)
				r = vouch_engine_set_sig_enforce(g->engine, f, true);
			if (r < 0) {
				cli_lib_error(g->ctx, r, func_name(f));
				return EXIT_ERROR;
			}
		} else {
			r = vouch_engine_set_mode(g->engine, f, m);
			if (r == -EROFS)
				fprintf(stderr, "vouch guard: %s is latched to enforce in '%s'; mode %s "
						"refused, it stays enforcing\n", func_name(f),
					c->state_dir, guard_mode_name(m));
			else if (r < 0) {
				cli_lib_error(g->ctx, r, func_name(f));
				return EXIT_ERROR;
			}
		}
		g->latched[f] = vouch_engine_get_sig_enforce(g->engine, f);
		g->enforcing[f] = g->latched[f] ||
				  vouch_engine_get_mode(g->engine, f) == VOUCH_MODE_ENFORCE;
		g->any_enforcing |= g->enforcing[f];
		g->needed[f] |= g->latched[f]; /* latched: every load needs a signature */
	}
	/* FILE_CHECK needs the exec events too: they tell execve's own open (MAY_EXEC) */
	g->events = g->needed[VOUCH_FUNC_BPRM_CHECK] || g->needed[VOUCH_FUNC_CREDS_CHECK] ||
			    g->needed[VOUCH_FUNC_FILE_CHECK]
			    ? FAN_OPEN_EXEC_PERM : 0;
	for (int f = 1; f < _VOUCH_FUNC_MAX; f++)
		if (g->needed[f] && f != VOUCH_FUNC_BPRM_CHECK && f != VOUCH_FUNC_CREDS_CHECK)
			g->events |= FAN_OPEN_PERM;
	if (!g->events) {
		fprintf(stderr, "vouch guard: the policy acts on no consumer the guard sees; "
				"marking executions anyway\n");
		g->events = FAN_OPEN_EXEC_PERM;
	}
	return 0;
}

/* Marks on every mount; the state directory ignored.  Returns an exit code. */
static int setup_marks(struct guard *g)
{
	struct guard_conf *c = g->conf;
	const uint64_t events = g->events;

	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct guard_mount *m = &c->mounts[i];
		struct statx sx;

		/* FAN_MARK_MOUNT on a path inside a mount marks the whole enclosing mount */
		if (statx(AT_FDCWD, m->path, 0, STATX_BASIC_STATS, &sx) < 0) {
			cli_error("guard: cannot stat '%s': %m", m->path);
			return EXIT_ERROR;
		}
		if (!m->filesystem && (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
		    !(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) {
			cli_error("guard: '%s' is not a mount point, refusing (FAN_MARK_MOUNT would "
				  "mark the mount that contains it)", m->path);
			return EXIT_USAGE;
		}
		if (fanotify_mark(g->fan_fd,
				  FAN_MARK_ADD | (m->filesystem ? FAN_MARK_FILESYSTEM : FAN_MARK_MOUNT),
				  events, AT_FDCWD, m->path) < 0) {
			cli_error("guard: cannot mark '%s': %m", m->path);
			return EXIT_ERROR;
		}
	}
	/* the state directory: the daemon's own opens are excluded by pid anyway; this keeps
	 * 'vouch engine status' by another process out of the path too (Linux >= 6.0) */
	if (c->state_dir &&
	    fanotify_mark(g->fan_fd, FAN_MARK_ADD | FAN_MARK_IGNORE | FAN_MARK_IGNORED_SURV_MODIFY,
			  events | FAN_EVENT_ON_CHILD | FAN_ONDIR, AT_FDCWD, c->state_dir) < 0)
		fprintf(stderr, "vouch guard: cannot ignore the state directory '%s': %m\n",
			c->state_dir);
	return 0;
}

/*
 * An empty file without an appraisal value, opened for FILE_CHECK: a file being created (the
 * open that creates it reports FAN_OPEN_PERM too).  IMA lets a new file pass until it is
 * closed (IMA_NEW_FILE); so does the guard, without measuring it: there are no bytes to
 * judge, and once written it is a non-empty file, appraised at its next open.
 */
static bool new_file(const struct guard *g, int fd, int func, const struct stat *st)
{
	const char *xattr = g->conf->xattr ? g->conf->xattr : "security.ima";

	if (func != VOUCH_FUNC_FILE_CHECK || st->st_size != 0)
		return false;
	return fgetxattr(fd, xattr, NULL, 0) < 0 && (errno == ENODATA || errno == ENOTSUP);
}

/* Read what is queued; own events and overflow answered at once, the rest to the workers. */
static int read_events(struct guard *g, char *buf, bool shutdown)
{
	ssize_t n = read(g->fan_fd, buf, EVENT_BUF);
	struct fanotify_event_metadata *md = (struct fanotify_event_metadata *)buf;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return 0;
	for (; FAN_EVENT_OK(md, n); md = FAN_EVENT_NEXT(md, n)) {
		struct slot *s = NULL;
		struct stat st;
		uint64_t t0, gen;
		uint32_t may;
		int func, read_id;
		bool allow, would_deny, stat_ok;

		if (md->vers != FANOTIFY_METADATA_VERSION)
			return -EPROTO;
		if (md->mask & FAN_Q_OVERFLOW) {
			atomic_fetch_add(&g->st.overflows, 1);
			continue;
		}
		if (md->fd < 0)
			continue;
		atomic_fetch_add(&g->st.events, 1);
		if (md->pid == g->self || shutdown) {
			struct slot tmp = { .fd = md->fd };

			allow = md->pid == g->self || default_allows(g, 0);
			respond(g, &tmp, allow);
			atomic_fetch_add(md->pid == g->self ? &g->st.own : &g->st.shutdown_answers, 1);
			close(md->fd);
			continue;
		}
		t0 = now_ns();
		stat_ok = fstat(md->fd, &st) == 0;
		if (!stat_ok || !S_ISREG(st.st_mode)) {
			/* not a regular file: nothing any consumer loads; no stat: the default */
			struct slot tmp = { .fd = md->fd };

			allow = stat_ok || default_allows(g, 0);
			respond(g, &tmp, allow);
			atomic_fetch_add(allow ? &g->st.allowed : &g->st.denied, 1);
			close(md->fd);
			continue;
		}
		func = classify(g, md->fd, md->pid, md->mask, &st, &read_id, &may);
		if (new_file(g, md->fd, func, &st)) {
			struct slot tmp = { .fd = md->fd };

			respond(g, &tmp, true);
			atomic_fetch_add(&g->st.allowed, 1);
			atomic_fetch_add(&g->st.new_files, 1);
			close(md->fd);
			continue;
		}
		/* --test-delay makes every decision slow: no shortcut then */
		gen = inode_generation(md->fd);
		if (!g->conf->test_delay_ms && memo_find(g, &st, gen, func, may, &allow, &would_deny)) {
			struct slot tmp = { .fd = md->fd };

			/* the decision's time ends here: the write wakes the opener, which may
			 * take this CPU before the reader reads the clock again */
			atomic_fetch_add(&g->st.fast_ns, now_ns() - t0);
			atomic_fetch_add(&g->st.fast_n, 1);
			respond(g, &tmp, allow);
			atomic_fetch_add(&g->st.cached, 1);
			atomic_fetch_add(allow ? &g->st.allowed : &g->st.denied, 1);
			if (would_deny)
				atomic_fetch_add(&g->st.would_deny, 1);
			close(md->fd);
			continue;
		}
		pthread_mutex_lock(&g->lock);
		if (g->n_free) {
			s = &g->slots[g->free_list[--g->n_free]];
			s->fd = md->fd;
			s->pid = md->pid;
			s->mask = md->mask;
			s->t0 = t0;
			s->st = st;
			s->gen = gen;
			s->read_id = read_id;
			s->may = may;
			atomic_store(&s->func, func);
			atomic_store(&s->answered, false);
			s->in_use = true;
			s->queued = true;
			g->queue[(g->q_head + g->q_len) % SLOTS] = (uint32_t)(s - g->slots);
			g->q_len++;
			pthread_cond_signal(&g->work);
		}
		pthread_mutex_unlock(&g->lock);
		if (!s) {
			/* every slot busy: the default now rather than an unbounded wait */
			struct slot tmp = { .fd = md->fd };

			allow = default_allows(g, func);
			respond(g, &tmp, allow);
			atomic_fetch_add(&g->st.queue_full, 1);
			atomic_fetch_add(&g->st.deadline_defaults, 1);
			atomic_fetch_add(allow ? &g->st.allowed : &g->st.denied, 1);
			close(md->fd);
		}
	}
	return 1;
}

/* SIGHUP: reopen --log-json after a rotation (the old file keeps every complete line) */
static void reopen_log(struct guard *g)
{
	int fd;

	if (!g->conf->log_json)
		return;
	fd = open(g->conf->log_json, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0) {
		fprintf(stderr, "vouch guard: cannot reopen '%s': %m; still writing the old file\n",
			g->conf->log_json);
		return;
	}
	pthread_mutex_lock(&g->log_lock);
	close(g->json_fd);
	g->json_fd = fd;
	pthread_mutex_unlock(&g->log_lock);
}

static int main_loop(struct guard *g, int sfd)
{
	_cleanup_free_ char *buf = malloc(EVENT_BUF);
	struct pollfd pfd[2] = { { .fd = g->fan_fd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };

	if (!buf)
		return -ENOMEM;
	for (;;) {
		int r;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGUSR1)
					dump_stats(g);
				else if (si.ssi_signo == SIGHUP)
					reopen_log(g);
				else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
					return 0;
			}
		}
		if (pfd[0].revents & POLLIN) {
			r = read_events(g, buf, false);
			if (r > 0)
				r = 0;
			if (r < 0)
				return r;
		}
	}
}

/* Answer everything still pending, then close the fanotify fd (which releases the rest). */
static void shutdown_answers(struct guard *g)
{
	_cleanup_free_ char *buf = malloc(EVENT_BUF);

	pthread_mutex_lock(&g->lock);
	atomic_store(&g->stopping, true);
	for (size_t i = 0; i < SLOTS; i++) {
		struct slot *s = &g->slots[i];

		if (s->in_use && respond(g, s, default_allows(g, atomic_load(&s->func))))
			atomic_fetch_add(&g->st.shutdown_answers, 1);
	}
	pthread_cond_broadcast(&g->work);
	pthread_cond_broadcast(&g->stop_cond);
	pthread_mutex_unlock(&g->lock);
	if (buf)
		while (read_events(g, buf, true) > 0)
			;
}

static void guard_free(struct guard *g)
{
	if (!g)
		return;
	if (g->fan_fd >= 0)
		close(g->fan_fd);
	if (g->json_fd >= 0)
		close(g->json_fd);
	vouch_engine_free(g->engine);
	vouch_ctx_free(g->ctx);
	pthread_mutex_destroy(&g->lock);
	pthread_mutex_destroy(&g->log_lock);
	pthread_mutex_destroy(&g->exec_lock);
	pthread_mutex_destroy(&g->memo_lock);
	pthread_cond_destroy(&g->work);
	pthread_cond_destroy(&g->stop_cond);
	free(g);
}
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(struct guard *, guard_freep, guard_free)

static int guard_new(struct guard_conf *c, struct guard **ret)
{
	_cleanup_(vouch_ctx_freep) vouch_ctx *ctx = NULL;
	struct guard *g;
	pthread_condattr_t ca;
	int r = cli_ctx_new(&ctx);

	if (r < 0)
		return r;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->conf = c;
	g->ctx = TAKE_PTR(ctx);
	g->fan_fd = -1;
	g->json_fd = -1;
	g->self = getpid();
	g->deadline_ms = c->deadline_ms ? c->deadline_ms : GUARD_DEADLINE_DEFAULT_MS;
	g->deadline_default = c->deadline_default >= 0 ? c->deadline_default : GUARD_DEFAULT_MODE;
	pthread_mutex_init(&g->lock, NULL);
	pthread_mutex_init(&g->log_lock, NULL);
	pthread_mutex_init(&g->exec_lock, NULL);
	pthread_mutex_init(&g->memo_lock, NULL);
	pthread_cond_init(&g->work, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->stop_cond, &ca);
	pthread_condattr_destroy(&ca);
	for (uint32_t i = 0; i < SLOTS; i++) {
		g->slots[i].fd = -1;
		g->free_list[i] = SLOTS - 1 - i;
	}
	g->n_free = SLOTS;
	*ret = g;
	return 0;
}

/* Threads, marks, the main loop, then the shutdown; one exit path.  Returns an exit code. */
static int guard_serve(struct guard *g, int sfd)
{
	struct guard_conf *c = g->conf;
	pthread_t workers[GUARD_MAX_WORKERS], wd;
	size_t n_workers = 0, want = c->workers ? c->workers : 4;
	bool wd_started = false;
	int rc = 0, r;

	for (; n_workers < want; n_workers++)
		if (pthread_create(&workers[n_workers], NULL, worker, g)) {
			cli_error("guard: cannot start a worker thread");
			rc = EXIT_ERROR;
			goto stop;
		}
	if (pthread_create(&wd, NULL, watchdog, g)) {
		cli_error("guard: cannot start the watchdog thread");
		rc = EXIT_ERROR;
		goto stop;
	}
	wd_started = true;
	rc = setup_marks(g);
	if (rc)
		goto stop;
	fprintf(stderr, "vouch guard: guarding %zu mount%s (%s); deadline %u ms; pid %d\n",
		c->n_mounts, c->n_mounts == 1 ? "" : "s",
		g->events == (FAN_OPEN_EXEC_PERM | FAN_OPEN_PERM) ? "exec and open events"
		: g->events == FAN_OPEN_EXEC_PERM		   ? "exec events"
								   : "open events",
		g->deadline_ms, (int)g->self);
	for (int f = 1; f < _VOUCH_FUNC_MAX; f++)
		if (g->enforcing[f])
			fprintf(stderr, "vouch guard: %s enforcing\n", func_name(f));
	notify_ready();
	r = main_loop(g, sfd);
	if (r < 0) {
		cli_error("guard: reading fanotify events: %s", strerror(-r));
		rc = EXIT_ERROR;
	}
stop:
	shutdown_answers(g);
	for (size_t i = 0; i < n_workers; i++)
		pthread_join(workers[i], NULL);
	if (wd_started)
		pthread_join(wd, NULL);
	close(g->fan_fd); /* releases whatever the kernel still holds */
	g->fan_fd = -1;
	dump_stats(g);
	return rc;
}

int guard_run(struct guard_conf *c)
{
	_cleanup_(guard_freep) struct guard *g = NULL;
	_cleanup_close_ int sfd = -1;
	sigset_t set;
	int rc;

	if (c->n_mounts == 0 && !c->check_only)
		return cli_usage_error("guard", "nothing to guard: give --mount PATH (or 'mount =' in the configuration)");
	if (guard_new(c, &g) < 0)
		return EXIT_ERROR;
	rc = setup_engine(g);
	if (rc)
		return rc;
	if (c->log_json) {
		g->json_fd = open(c->log_json, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (g->json_fd < 0) {
			cli_error("guard: cannot open '%s': %m", c->log_json);
			return EXIT_ERROR;
		}
	}
	if (c->check_only) {
		fprintf(stderr, "vouch guard: configuration ok\n");
		return 0;
	}
	/* an unlimited queue: an overflowing permission event would be allowed unchecked */
	g->fan_fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK |
					  FAN_UNLIMITED_QUEUE,
				  O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (g->fan_fd < 0) {
		cli_error("guard: fanotify permission events unavailable: %m%s",
			  errno == EPERM ? " (needs CAP_SYS_ADMIN)"
			  : errno == EINVAL ? " (kernel without CONFIG_FANOTIFY_ACCESS_PERMISSIONS?)" : "");
		return EXIT_ERROR;
	}
	/* signals through a signalfd, blocked in every thread (they inherit the mask) */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		cli_error("guard: signalfd: %m");
		return EXIT_ERROR;
	}
	return guard_serve(g, sfd);
}

static const char usage_text[] =
	"Usage: vouch guard [--config FILE] [--policy FILE|builtin:NAME] [--trust CERT]...\n"
	"                   [--kernel-trust CERT]... [--state-dir DIR] [--mode [FUNC=]MODE]...\n"
	"                   [--deadline MS] [--deadline-default mode|allow|deny] [--workers N]\n"
	"                   [--mount PATH]... [--filesystem PATH]... [--log-json FILE]\n"
	"                   [--stats FILE] [--xattr NAME] [--tcti T] [--check]\n"
	"\n"
	"Decide every exec, library mapping and open on the marked mounts with the integrity\n"
	"engine, through fanotify permission events.  MODE is off, log or enforce (enforce\n"
	"latches the consumer in the state for good).  SIGUSR1 dumps the counters; SIGTERM\n"
	"answers every pending event and stops.  See vouch-guard(1).\n";

int cmd_guard(int argc, char **argv)
{
	struct guard_conf c = { .mode_all = -1, .deadline_default = -1 };
	bool help;
	int rc;

	for (int f = 0; f < _VOUCH_FUNC_MAX; f++)
		c.mode[f] = -1;
	rc = guard_conf_parse_args(&c, argc, argv, &help);
	if (rc || help) {
		if (help)
			fputs(usage_text, stdout);
		guard_conf_free(&c);
		return rc;
	}
	rc = guard_conf_load_file(&c);
	if (!rc) {
		if (!c.state_dir)
			c.state_dir = GUARD_STATE_DEFAULT;
		rc = guard_run(&c);
	}
	guard_conf_free(&c);
	return rc;
}
