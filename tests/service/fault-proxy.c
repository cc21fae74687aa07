// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fault-proxy: a loopback TCP proxy that injects faults, for the fault tests
 * (tests/service/test-faults-*.sh) and the two-node wrapper (vouchd-2nodes.sh).
 *
 *   fault-proxy --listen HOST:PORT --port-file FILE --backend HOST:PORT [--backend ...]
 *               [--delay-ms N] [--drop-after BYTES] [--drop-every N] [--control FILE]
 *
 * Each new connection goes to the next backend in turn; a backend that refuses the connection
 * is skipped (the next one is tried; with none left the client is closed).  Bytes pass through
 * untouched (TLS included): the faults are in the timing and the cuts.
 *
 *   --delay-ms N      every forwarded chunk, either way, waits N ms (a slow database)
 *   --drop-after B    a connection forwards B bytes towards the backend, then both sides are
 *                     cut: half a request reaches the server
 *   --cut-every N     --drop-after applies to every Nth connection only (default: all)
 *   --drop-every N    every Nth chunk coming back from a backend (over all connections, not
 *                     counting each connection's first: the server's TLS handshake flight,
 *                     so that a new connection gets somewhere) is thrown away and both sides
 *                     cut: the request reached the server, its answer never comes back
 *   --control FILE    read again on SIGHUP: lines "delay-ms N", "drop-after B", "cut-every N",
 *                     "drop-every N" (0 turns a fault off), "pause", "resume"
 *   SIGUSR1 / SIGUSR2 pause / resume: no connection is accepted nor byte forwarded meanwhile
 *   SIGTERM / SIGINT  exit 0, after one line of counts on stderr
 *
 * The port it listens on (useful with port 0) is written to --port-file (temp + rename)
 * once it accepts connections.  Exit codes: 0, 2 usage, 3 could not start.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#define MAX_BACKENDS 16
#define HIGH_WATER (256 * 1024)

struct backend {
	struct sockaddr_storage addr;
	int addr_len;
};

struct proxy {
	struct event_base *base;
	struct evconnlistener *listener;
	struct backend backends[MAX_BACKENDS];
	size_t n_backends, next;
	const char *control;
	uint64_t delay_ms, drop_after, drop_every, cut_every;
	bool paused;
	struct conn *conns; /* every live connection, to pause and resume them */
	/* counts, printed at exit */
	uint64_t accepted, refused, dropped, cut, chunks_back;
};

/* one client connection and its backend connection */
struct conn {
	struct proxy *p;
	struct conn *prev, *next;
	struct bufferevent *client, *server;
	struct event *delay[2]; /* [0] client -> server, [1] server -> client */
	struct bufferevent *closing; /* the side left to write out before closing */
	size_t tries; /* backends tried for this connection */
	bool connected;
	bool cut; /* --drop-after applies to this connection */
	uint64_t up; /* bytes forwarded towards the backend */
	uint64_t back; /* chunks that came back from it */
};

static void conn_free(struct conn *c)
{
	struct proxy *p = c->p;

	if (c->prev)
		c->prev->next = c->next;
	else
		p->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	for (int i = 0; i < 2; i++)
		if (c->delay[i])
			event_free(c->delay[i]);
	if (c->client)
		bufferevent_free(c->client);
	if (c->server)
		bufferevent_free(c->server);
	free(c);
}

static void set_reading(struct conn *c, bool on)
{
	struct bufferevent *b[2] = { c->client, c->connected ? c->server : NULL };

	for (int i = 0; i < 2; i++) {
		if (!b[i] || (on && b[i] == c->closing))
			continue;
		if (on)
			bufferevent_enable(b[i], EV_READ);
		else
			bufferevent_disable(b[i], EV_READ);
	}
}

/*
 * @bev is gone (EOF, error, or cut): free it and let the other side write out what it still
 * holds, then close it too (on_write()).
 */
static void close_side(struct conn *c, struct bufferevent *bev)
{
	struct bufferevent *other = bev == c->client ? c->server : c->client;

	if (other && c->connected)
		evbuffer_add_buffer(bufferevent_get_output(other), bufferevent_get_input(bev));
	bufferevent_free(bev);
	if (bev == c->client)
		c->client = NULL;
	else
		c->server = NULL;
	if (!other || !c->connected || !evbuffer_get_length(bufferevent_get_output(other))) {
		conn_free(c);
		return;
	}
	bufferevent_disable(other, EV_READ);
	c->closing = other;
}

/* move what arrived on @from to @to, counting and cutting as the faults say */
static void forward(struct conn *c, bool up)
{
	struct proxy *p = c->p;
	struct bufferevent *from = up ? c->client : c->server, *to = up ? c->server : c->client;
	struct evbuffer *in;
	size_t len;

	if (!from || !to || c->closing)
		return;
	in = bufferevent_get_input(from);
	len = evbuffer_get_length(in);
	if (!len) {
		if (!p->paused)
			bufferevent_enable(from, EV_READ);
		return;
	}
	if (!up && ++c->back > 1 && p->drop_every && ++p->chunks_back % p->drop_every == 0) {
		p->dropped++;
		conn_free(c);
		return;
	}
	if (up && p->drop_after && c->cut) {
		uint64_t left = p->drop_after > c->up ? p->drop_after - c->up : 0;

		if (len >= left) {
			/* the part that went is written out before the backend side closes */
			evbuffer_remove_buffer(in, bufferevent_get_output(to), (size_t)left);
			c->up += left;
			p->cut++;
			evbuffer_drain(in, evbuffer_get_length(in));
			close_side(c, from);
			return;
		}
	}
	if (up)
		c->up += len;
	evbuffer_add_buffer(bufferevent_get_output(to), in);
	/* back-pressure: read on only while the other side's output is not full */
	if (!p->paused && evbuffer_get_length(bufferevent_get_output(to)) <= HIGH_WATER)
		bufferevent_enable(from, EV_READ);
	else
		bufferevent_disable(from, EV_READ);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	bool up = bev == c->client;

	if (!c->connected || c->p->paused || c->closing ||
	    !evbuffer_get_length(bufferevent_get_input(bev)))
		return; /* kept in the input buffer until connected / resumed */
	if (c->p->delay_ms) {
		struct timeval tv = { .tv_sec = (time_t)(c->p->delay_ms / 1000),
				      .tv_usec = (suseconds_t)(c->p->delay_ms % 1000) * 1000 };

		/* reading stops until the timer has moved this chunk */
		bufferevent_disable(bev, EV_READ);
		if (!evtimer_pending(c->delay[!up], NULL))
			evtimer_add(c->delay[!up], &tv);
		return;
	}
	forward(c, up);
}

static void delayed_up(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	if (!((struct conn *)arg)->p->paused)
		forward(arg, true);
}

static void delayed_down(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	if (!((struct conn *)arg)->p->paused)
		forward(arg, false);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct bufferevent *other = bev == c->client ? c->server : c->client;

	if (c->closing == bev) {
		conn_free(c); /* written out: the close the other side asked for */
		return;
	}
	/* the output drained: read the other side again (unless a delay holds it) */
	if (other && c->connected && !c->p->paused &&
	    !evtimer_pending(c->delay[bev == c->client], NULL))
		bufferevent_enable(other, EV_READ);
}

static void try_connect(struct conn *c);

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (bev == c->server && (what & BEV_EVENT_CONNECTED)) {
		c->connected = true;
		(void)setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
				 sizeof(int));
		bufferevent_enable(c->server, EV_READ | EV_WRITE);
		if (!c->p->paused)
			on_read(c->client, c); /* what the client sent meanwhile */
		return;
	}
	if (bev == c->server && !c->connected && (what & BEV_EVENT_ERROR)) {
		/* refused: the next backend */
		bufferevent_free(c->server);
		c->server = NULL;
		c->p->refused++;
		try_connect(c);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (c->closing) /* the side still writing failed too */
			conn_free(c);
		else
			close_side(c, bev);
	}
}

static void try_connect(struct conn *c)
{
	struct proxy *p = c->p;

	while (c->tries < p->n_backends) {
		struct backend *b = &p->backends[p->next];

		p->next = (p->next + 1) % p->n_backends;
		c->tries++;
		c->server = bufferevent_socket_new(p->base, -1, BEV_OPT_CLOSE_ON_FREE);
		if (!c->server)
			break;
		bufferevent_setcb(c->server, on_read, on_write, on_event, c);
		if (bufferevent_socket_connect(c->server, (struct sockaddr *)&b->addr,
					       b->addr_len) == 0)
			return;
		/* refused at once (loopback): the next one */
		bufferevent_free(c->server);
		c->server = NULL;
		p->refused++;
	}
	fprintf(stderr, "fault-proxy: no backend accepts the connection\n");
	conn_free(c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
		      void *arg)
{
	struct proxy *p = arg;
	struct conn *c = calloc(1, sizeof(*c));

	(void)l;
	(void)sa;
	(void)len;
	if (!c) {
		evutil_closesocket(fd);
		return;
	}
	c->p = p;
	c->next = p->conns;
	if (p->conns)
		p->conns->prev = c;
	p->conns = c;
	p->accepted++;
	c->cut = p->cut_every <= 1 || p->accepted % p->cut_every == 0;
	c->client = bufferevent_socket_new(p->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->delay[0] = evtimer_new(p->base, delayed_up, c);
	c->delay[1] = evtimer_new(p->base, delayed_down, c);
	if (!c->client || !c->delay[0] || !c->delay[1]) {
		if (!c->client)
			evutil_closesocket(fd);
		conn_free(c);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	/* no Nagle: a proxy must not add its own delays to small TLS records */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	bufferevent_setcb(c->client, on_read, on_write, on_event, c);
	bufferevent_enable(c->client, EV_READ | EV_WRITE);
	try_connect(c);
}

static void set_paused(struct proxy *p, bool paused)
{
	if (p->paused == paused)
		return;
	p->paused = paused;
	if (paused)
		evconnlistener_disable(p->listener);
	else
		evconnlistener_enable(p->listener);
	for (struct conn *c = p->conns, *n; c; c = n) {
		n = c->next;
		set_reading(c, !paused);
		/* what arrived meanwhile goes on from the loop (the delay timers, due now) */
		if (!paused && c->connected && !c->closing)
			for (int i = 0; i < 2; i++)
				evtimer_add(c->delay[i], &(struct timeval){ 0 });
	}
	fprintf(stderr, "fault-proxy: %s\n", paused ? "paused" : "resumed");
}

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || !*s || *end || *s == '-' || *s == '+')
		return -EINVAL;
	*ret = v;
	return 0;
}

/* "IP:PORT" or "[IPv6]:PORT", numeric only (port 0 allowed: libevent's parser refuses it) */
static int parse_addr(const char *s, struct sockaddr_storage *ret, int *ret_len)
{
	const char *colon = strrchr(s, ':');
	char host[64];
	uint64_t port;
	size_t n;

	if (!colon || parse_u64(colon + 1, &port) < 0 || port > 65535)
		return -EINVAL;
	n = (size_t)(colon - s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	memset(ret, 0, sizeof(*ret));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ret)->sin_addr) == 1) {
		((struct sockaddr_in *)ret)->sin_family = AF_INET;
		((struct sockaddr_in *)ret)->sin_port = htons((uint16_t)port);
		*ret_len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ret)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ret)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ret)->sin6_port = htons((uint16_t)port);
		*ret_len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -EINVAL;
}

/* one "NAME VALUE" or "pause"/"resume" line of --control, or one option */
static int set_fault(struct proxy *p, const char *name, const char *value)
{
	uint64_t *v = strcmp(name, "delay-ms") == 0     ? &p->delay_ms
		      : strcmp(name, "drop-after") == 0 ? &p->drop_after
		      : strcmp(name, "drop-every") == 0 ? &p->drop_every
		      : strcmp(name, "cut-every") == 0  ? &p->cut_every
							: NULL;

	if (!value && strcmp(name, "pause") == 0) {
		set_paused(p, true);
		return 0;
	}
	if (!value && strcmp(name, "resume") == 0) {
		set_paused(p, false);
		return 0;
	}
	if (!v || !value || parse_u64(value, v) < 0)
		return -EINVAL;
	return 0;
}

static void reload(struct proxy *p)
{
	FILE *f = fopen(p->control, "re");
	char line[256];

	if (!f) {
		fprintf(stderr, "fault-proxy: cannot open '%s': %s\n", p->control, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char name[64], value[64];
		int n = sscanf(line, "%63s %63s", name, value);

		if (n < 1 || name[0] == '#')
			continue;
		if (set_fault(p, name, n == 2 ? value : NULL) < 0)
			fprintf(stderr, "fault-proxy: '%s': bad line '%s%s%s', ignored\n", p->control,
				name, n == 2 ? " " : "", n == 2 ? value : "");
	}
	fclose(f);
	fprintf(stderr, "fault-proxy: delay-ms %llu, drop-after %llu, cut-every %llu, drop-every "
			"%llu%s\n",
		(unsigned long long)p->delay_ms, (unsigned long long)p->drop_after,
		(unsigned long long)p->cut_every, (unsigned long long)p->drop_every,
		p->paused ? ", paused" : "");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct proxy *p = arg;

	(void)what;
	if (sig == SIGUSR1 || sig == SIGUSR2)
		set_paused(p, sig == SIGUSR1);
	else if (sig == SIGHUP && p->control)
		reload(p);
	else if (sig == SIGTERM || sig == SIGINT)
		event_base_loopbreak(p->base);
}

static int write_port(const char *path, uint16_t port)
{
	char tmp[PATH_MAX];
	FILE *f;
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);

	if (n < 0 || (size_t)n >= sizeof(tmp) || !(f = fopen(tmp, "we")))
		return -errno ?: -ENAMETOOLONG;
	fprintf(f, "%u\n", port);
	if (fflush(f) != 0 || fsync(fileno(f)) < 0) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	return rename(tmp, path) < 0 ? -errno : 0;
}

static int usage(const char *why, const char *arg)
{
	fprintf(stderr, "fault-proxy: %s%s%s%s\n", why, arg ? " '" : "", arg ? arg : "",
		arg ? "'" : "");
	fprintf(stderr, "usage: fault-proxy --listen HOST:PORT --port-file FILE --backend HOST:PORT "
			"[--backend ...] [--delay-ms N] [--drop-after BYTES] [--cut-every N] [--drop-every N] "
			"[--control FILE]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const int sigs[] = { SIGUSR1, SIGUSR2, SIGHUP, SIGTERM, SIGINT };
	struct proxy p = { 0 };
	struct sockaddr_storage listen_addr;
	int listen_len = sizeof(listen_addr);
	const char *listen = NULL, *port_file = NULL;
	struct event *ev[sizeof(sigs) / sizeof(sigs[0])] = { 0 };
	struct sockaddr_storage bound;
	socklen_t bound_len = sizeof(bound);
	uint16_t port;
	int r = 3;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strncmp(o, "--", 2) != 0 || !v)
			return usage(strncmp(o, "--", 2) ? "unexpected argument" : "missing value for", o);
		i++;
		if (strcmp(o, "--listen") == 0) {
			if (listen)
				return usage("option given twice, refusing:", o);
			listen = v;
		} else if (strcmp(o, "--port-file") == 0) {
			if (port_file)
				return usage("option given twice, refusing:", o);
			port_file = v;
		} else if (strcmp(o, "--control") == 0) {
			if (p.control)
				return usage("option given twice, refusing:", o);
			p.control = v;
		} else if (strcmp(o, "--backend") == 0) {
			struct backend *b = &p.backends[p.n_backends];

			b->addr_len = sizeof(b->addr);
			if (p.n_backends == MAX_BACKENDS)
				return usage("too many backends at", v);
			if (parse_addr(v, &b->addr, &b->addr_len) < 0)
				return usage("not HOST:PORT:", v);
			p.n_backends++;
		} else if (set_fault(&p, o + 2, v) < 0) {
			return usage("unknown option or bad value:", o);
		}
	}
	if (!listen || !port_file || !p.n_backends)
		return usage("--listen, --port-file and --backend are required", NULL);
	if (parse_addr(listen, &listen_addr, &listen_len) < 0)
		return usage("not HOST:PORT:", listen);
	signal(SIGPIPE, SIG_IGN);
	p.base = event_base_new();
	if (!p.base)
		return 3;
	p.listener = evconnlistener_new_bind(p.base, on_accept, &p,
					     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
					     (struct sockaddr *)&listen_addr, listen_len);
	if (!p.listener) {
		fprintf(stderr, "fault-proxy: cannot listen on '%s': %s\n", listen, strerror(errno));
		goto out;
	}
	if (getsockname(evconnlistener_get_fd(p.listener), (struct sockaddr *)&bound, &bound_len) < 0)
		goto out;
	port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
						 : ((struct sockaddr_in *)&bound)->sin_port);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		ev[i] = evsignal_new(p.base, sigs[i], on_signal, &p);
		if (!ev[i] || evsignal_add(ev[i], NULL) < 0)
			goto out;
	}
	if (p.control)
		reload(&p);
	if (write_port(port_file, port) < 0) {
		fprintf(stderr, "fault-proxy: cannot write '%s': %s\n", port_file, strerror(errno));
		goto out;
	}
	event_base_dispatch(p.base);
	fprintf(stderr, "fault-proxy: %llu connections, %llu refused by a backend, %llu answers "
			"dropped, %llu requests cut\n",
		(unsigned long long)p.accepted, (unsigned long long)p.refused,
		(unsigned long long)p.dropped, (unsigned long long)p.cut);
	r = 0;
out:
	while (p.conns)
		conn_free(p.conns);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (ev[i])
			event_free(ev[i]);
	if (p.listener)
		evconnlistener_free(p.listener);
	event_base_free(p.base);
	return r;
}
