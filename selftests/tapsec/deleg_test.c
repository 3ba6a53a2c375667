// SPDX-License-Identifier: GPL-2.0
/*
 * Handshake delegation, the kernel side (Documentation/handshake.rst), with
 * the test playing tapsec-handshaked itself and no TLS library.
 *
 * The fake daemon is a forked child (the kernel lets the daemon's whole
 * process use the socket raw, so a thread of the application would not
 * do): it joins the "handshake" group, waits for HANDSHAKE_READY, takes the
 * socket with HANDSHAKE_ACCEPT, swaps a few bytes in clear with the peer,
 * installs TLS 1.3 AES-128-GCM keys and ends with HANDSHAKE_DONE, or
 * misbehaves, as its script says.  It reports every step over a pipe and
 * waits on another one where a case needs to look at the socket meanwhile.
 * The peer is a plain TCP socket that is upgraded with TCP_ULP "tapsec"
 * and given the mirror keys.
 *
 *  - pre-connection options: defaults, read-back, every invalid value;
 *  - no daemon: ESRCH, blocking and non-blocking;
 *  - client (IPv4, IPv6) and server roles end to end: the request, raw
 *    bytes, keys, the outcome, data, a post-handshake NewSessionTicket;
 *  - non-blocking connect (TCP established within connect(), as on
 *    loopback, or after it) and accept, while the handshake is queued and
 *    while the daemon holds it;
 *  - a daemon that exits or closes the socket without DONE, or is too
 *    slow (ETIMEDOUT), and HANDSHAKE_DONE/ACCEPT validation;
 *  - the "events" group.
 *
 * After every case the live tapsec socket count is back where it started.
 * Needs CAP_NET_ADMIN; runs inside a VM with tapsec.ko loaded.
 */
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "tapsec_harness.h"
#include "tapsec_test.h"
#include "tapsec_test_util.h"
#include "tapsec_nl.h"

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

#define TLS13	TAPSEC_TLS_1_3_VERSION
#define GCM128	TAPSEC_CIPHER_AES_GCM_128

#define WAIT_MS		5000	/* longest wait for what must come */
#define QUIET_MS	200	/* how long what must not come is given */
#define HS_TIMEOUT_MS	20000	/* handshake timeout where none may pass */
#define SHORT_MS	300	/* handshake timeout where one must pass */
#define SETTLE_MS	2000	/* for the live socket count to come back */
#define MAX_FDS		12

#define SNI		"example.org"
#define ALPN		"h2,http/1.1"
#define CLIENT_ID	"client-id"
#define SERVER_ID	"server-id"
#define TRUST		"corp-ca"
#define PSK_ID		"deleg-test-psk"
#define PSK_OTHER	"deleg-test-other"

/* The test PSK: 32 bytes. */
static const uint8_t psk_key[32] = {
	0x5a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
	0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
	0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0xa5,
};

/* The handshake bytes each side sends in clear. */
static const char daemon_hello[] = "handshake bytes from the daemon";
static const char peer_hello[] = "handshake bytes from the peer";

/* ------------------------------------------------------------------ */
/* the fake daemon                                                     */

enum { KEYS_NONE, KEYS_TX, KEYS_BOTH };

/* What the fake daemon does with the one handshake it takes. */
struct hs_script {
	bool ready_then_wait;	/* after READY, wait for go before ACCEPT */
	bool hold;		/* after ACCEPT, wait for go */
	bool exit_early;	/* then exit without DONE */
	bool close_early;	/* then close the socket, wait for go, exit */
	bool read_until_shut;	/* then one blocking read, reported */
	bool raw;		/* exchange the hellos in clear */
	int keys;		/* KEYS_*: which keys to install */
	bool done_checks;	/* spoofed DONEs: another socket's, and after */
	bool psk_checks;	/* TAPSEC_HANDSHAKE_PSKs before DONE (R_PSK) */
	uint32_t status;	/* DONE: 0 or a positive errno */
	const char *reason, *alpn, *peer_identity;
	int peer_auth, psk;
	const void *chain;	/* DONE: TAPSEC_A_HS_PEER_CHAIN */
	size_t chain_len;
};

/* Reports from the daemon, in this order. */
enum report_kind {
	R_JOINED = 1,	/* in the "handshake" group */
	R_READY,	/* HANDSHAKE_READY seen (ready_then_wait) */
	R_REQ,		/* ACCEPT answered: ret, req */
	R_READ,		/* read_until_shut: what the read returned, -errno */
	R_PSK,		/* psk_checks: ret own PSK, ret2 another, ret3 from
			 * another process; key, keylen, hash of the own */
	R_DONE,		/* DONE answered: ret; ret2 another socket's, ret3 again */
	R_FAIL,		/* something went wrong: why */
};

struct report {
	int kind;
	int ret, ret2, ret3;
	uint32_t pending;
	struct tapsec_hs_req req;
	uint8_t key[TAPSEC_PSK_KEY_MAX];
	uint32_t keylen;
	uint32_t hash;
	char why[160];
};

struct fake_daemon {
	pid_t pid;
	int go;		/* write end: a byte lets the daemon go on */
	int report;	/* read end: struct report */
};

/*
 * TAPSEC_HANDSHAKE_PSK: the key of PSK @identity for the handshake on @fd.
 * Returns 0 or -errno; the buffer the key passed through is wiped.
 */
static int hs_psk_get(int fd, const char *identity, uint8_t *key,
		      uint32_t *keylen, uint32_t *hash)
{
	struct tapsec_hs_psk req;
	socklen_t len = sizeof(req);
	int ret = 0;

	memset(&req, 0, sizeof(req));
	snprintf(req.identity, sizeof(req.identity), "%s", identity);
	if (getsockopt(fd, SOL_TAPSEC, TAPSEC_HANDSHAKE_PSK, &req, &len))
		ret = -errno;
	else if (len != sizeof(req) || req.key_len > TAPSEC_PSK_KEY_MAX)
		ret = -EBADMSG;
	if (!ret) {
		memcpy(key, req.key, req.key_len);
		*keylen = req.key_len;
		*hash = req.hash;
	}
	explicit_bzero(&req, sizeof(req));
	return ret;
}

static void dmn_report(int fd, struct report *r)
{
	if (write(fd, r, sizeof(*r)) != sizeof(*r))
		_exit(3);
}

static void __attribute__((noreturn, format(printf, 3, 4)))
dmn_fail(int fd, int line, const char *fmt, ...)
{
	struct report r = { .kind = R_FAIL };
	int n = snprintf(r.why, sizeof(r.why), "line %d: ", line);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r.why + n, sizeof(r.why) - n, fmt, ap);
	va_end(ap);
	dmn_report(fd, &r);
	_exit(1);
}

#define DFAIL(...) dmn_fail(rep, __LINE__, __VA_ARGS__)

/* Block until the test says go; exit if it went away. */
static void dmn_wait_go(int go)
{
	char c;

	if (!wait_fd(go, POLLIN, 4 * WAIT_MS) || read(go, &c, 1) != 1)
		_exit(2);
}

/* Close every descriptor but stdio and @a, @b. */
static void close_others(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo > 3)
		close_range(3, lo - 1, 0);
	if (hi > lo + 1)
		close_range(lo + 1, hi - 1, 0);
	close_range(hi + 1, ~0U, 0);
}

static void __attribute__((noreturn))
daemon_main(int go, int rep, const struct hs_script *s, const struct key *tx,
	    const struct key *rx)
{
	struct tapsec_hs_result res = {
		.status = s->status, .reason = s->reason, .alpn = s->alpn,
		.peer_identity = s->peer_identity, .peer_auth = s->peer_auth,
		.psk = s->psk, .chain = s->chain, .chain_len = s->chain_len,
	};
	/* What DONEs that must be refused would claim. */
	struct tapsec_hs_result spoofed = {
		.alpn = "spoofed", .peer_identity = "CN=spoofed",
	};
	struct report r = { .kind = R_JOINED };
	struct tapsec_nl nl, other;
	struct tapsec_event ev;
	char buf[sizeof(peer_hello)];
	int err;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close_others(go, rep);
	err = tapsec_nl_open(&nl);
	if (!err)
		err = join_group(&nl, TAPSEC_MCGRP_HANDSHAKE);
	if (err)
		DFAIL("joining the handshake group: %s", strerror(-err));
	dmn_report(rep, &r);

	err = next_event(&nl, TAPSEC_CMD_HANDSHAKE_READY, &ev, WAIT_MS);
	if (err)
		DFAIL("no HANDSHAKE_READY: %s", strerror(-err));
	if (ev.pending < 1)
		DFAIL("HANDSHAKE_READY with %u pending", ev.pending);
	if (s->ready_then_wait) {
		r = (struct report){ .kind = R_READY, .pending = ev.pending };
		dmn_report(rep, &r);
		dmn_wait_go(go);
	}
	r = (struct report){ .kind = R_REQ };
	r.ret = tapsec_nl_hs_accept(&nl, &r.req);
	dmn_report(rep, &r);
	if (r.ret)
		_exit(0);	/* the test looks at ret */
	res.fd = spoofed.fd = r.req.fd;

	if (s->hold)
		dmn_wait_go(go);
	if (s->exit_early)
		_exit(0);
	if (s->close_early) {
		close(res.fd);
		dmn_wait_go(go);
		_exit(0);
	}
	if (s->read_until_shut) {
		struct timeval tv = { .tv_sec = WAIT_MS / 1000 };
		ssize_t n;

		/* Bounded: a read the kernel never wakes says EAGAIN. */
		setsockopt(res.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		n = recv(res.fd, buf, 1, 0);
		r = (struct report){ .kind = R_READ, .ret = n < 0 ? -errno : n };
		dmn_report(rep, &r);
	}
	if (s->raw) {
		ssize_t n;

		if (send(res.fd, daemon_hello, sizeof(daemon_hello),
			 MSG_NOSIGNAL) != sizeof(daemon_hello))
			DFAIL("raw send: %s", strerror(errno));
		n = read_exact(res.fd, buf, sizeof(buf), WAIT_MS);
		if (n != sizeof(buf) || memcmp(buf, peer_hello, sizeof(buf)))
			DFAIL("raw recv: %zd bytes (%s)", n,
			      n < 0 ? strerror(-n) : "wrong bytes?");
	}
	if (s->keys >= KEYS_TX && tapsec_key(res.fd, TAPSEC_TX, tx))
		DFAIL("TAPSEC_TX: %s", strerror(errno));
	if (s->keys >= KEYS_BOTH && tapsec_key(res.fd, TAPSEC_RX, rx))
		DFAIL("TAPSEC_RX: %s", strerror(errno));

	if (s->psk_checks) {
		struct tapsec_hs_psk other;
		int status;
		pid_t pid;

		r = (struct report){ .kind = R_PSK };
		r.ret = hs_psk_get(res.fd, PSK_ID, r.key, &r.keylen, &r.hash);
		r.ret2 = hs_psk_get(res.fd, PSK_OTHER, other.key,
				    &other.key_len, &other.hash);
		/* Another process, root as well, with the same descriptor. */
		pid = fork();
		if (!pid)
			_exit(-hs_psk_get(res.fd, PSK_ID, other.key,
					  &other.key_len, &other.hash));
		if (pid < 0 || waitpid(pid, &status, 0) != pid ||
		    !WIFEXITED(status))
			DFAIL("the other process did not run");
		r.ret3 = -WEXITSTATUS(status);
		dmn_report(rep, &r);
	}
	r = (struct report){ .kind = R_DONE };
	if (s->done_checks) {
		err = tapsec_nl_open(&other);
		if (err)
			DFAIL("second netlink socket: %s", strerror(-err));
		r.ret2 = tapsec_nl_hs_done(&other, &spoofed);
		tapsec_nl_close(&other);
	}
	r.ret = tapsec_nl_hs_done(&nl, &res);
	if (s->done_checks)
		r.ret3 = tapsec_nl_hs_done(&nl, &spoofed);
	dmn_report(rep, &r);
	close(res.fd);
	tapsec_nl_close(&nl);
	_exit(0);
}

/* ------------------------------------------------------------------ */
/* a blocking call on another thread                                   */

struct bg {
	pthread_t th;
	bool started;
	pid_t tid;
	int fd;
	struct sockaddr_storage addr;	/* connect() */
	socklen_t addrlen;
	char buf[64];			/* recv() */
	size_t len;
	ssize_t ret;
	int err;
};

static void *bg_connect(void *arg)
{
	struct bg *b = arg;

	__atomic_store_n(&b->tid, gettid(), __ATOMIC_RELEASE);
	b->ret = connect(b->fd, (struct sockaddr *)&b->addr, b->addrlen);
	b->err = errno;
	return NULL;
}

static void *bg_accept(void *arg)
{
	struct bg *b = arg;

	__atomic_store_n(&b->tid, gettid(), __ATOMIC_RELEASE);
	b->ret = accept(b->fd, NULL, NULL);
	b->err = errno;
	return NULL;
}

static void *bg_recv(void *arg)
{
	struct bg *b = arg;

	__atomic_store_n(&b->tid, gettid(), __ATOMIC_RELEASE);
	b->ret = recv(b->fd, b->buf, b->len, MSG_WAITALL);
	b->err = errno;
	return NULL;
}

/* The call's return value, errno set as it left it. */
static ssize_t bg_join(struct bg *b)
{
	pthread_join(b->th, NULL);
	b->started = false;
	errno = b->err;
	return b->ret;
}

/* Whether the thread went to sleep in the kernel within WAIT_MS. */
static bool bg_sleeping(struct bg *b)
{
	char path[64], buf[512], *p;
	pid_t tid;
	int i;

	for (i = 0; i < WAIT_MS / 10; i++, usleep(10000)) {
		tid = __atomic_load_n(&b->tid, __ATOMIC_ACQUIRE);
		if (!tid)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
		if (tt_read_file(path, buf, sizeof(buf)) > 0 &&
		    (p = strrchr(buf, ')')) && !strncmp(p, ") S", 3))
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* the fixture                                                         */

FIXTURE(deleg) {
	long base;			/* live tapsec sockets at the start */
	struct key app_tx, app_rx;	/* the application socket's keys */
	struct fake_daemon d;
	struct bg bg;
	struct tapsec_nl ev;		/* an "events" listener, if opened */
	int fd[MAX_FDS];		/* closed at teardown */
};

/* Remember @fd for teardown; returns it. */
static int keep(FIXTURE_DATA(deleg) *self, int fd)
{
	int i;

	for (i = 0; fd >= 0 && i < MAX_FDS; i++) {
		if (self->fd[i] < 0) {
			self->fd[i] = fd;
			break;
		}
	}
	return fd;
}

/* Close @fd now rather than at teardown. */
static void drop(FIXTURE_DATA(deleg) *self, int fd)
{
	int i;

	for (i = 0; i < MAX_FDS; i++)
		if (self->fd[i] == fd)
			self->fd[i] = -1;
	close(fd);
}

FIXTURE_SETUP(deleg)
{
	int i;

	for (i = 0; i < MAX_FDS; i++)
		self->fd[i] = -1;
	self->d.pid = -1;
	key_make(&self->app_tx, TLS13, GCM128, 0);
	key_make(&self->app_rx, TLS13, GCM128, 0);
	self->base = live_sockets();
	ASSERT_LE(0, self->base) TH_LOG("tapsec's netlink family: is tapsec.ko loaded?");
}

/* Wait for the daemon to exit, killing it after WAIT_MS; its status. */
static int daemon_reap(FIXTURE_DATA(deleg) *self)
{
	pid_t pid = self->d.pid;
	int status = 0, i;

	if (pid < 0)
		return 0;
	close(self->d.go);
	for (i = 0; i < WAIT_MS / 10; i++, usleep(10000))
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	if (i == WAIT_MS / 10) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	close(self->d.report);
	self->d.pid = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

FIXTURE_TEARDOWN(deleg)
{
	long n;
	int i;

	for (i = 0; i < MAX_FDS; i++) {
		/* A thread left blocked in a failed case is woken. */
		if (self->bg.started && self->fd[i] >= 0)
			shutdown(self->fd[i], SHUT_RDWR);
		close_fd(&self->fd[i]);
	}
	daemon_reap(self);
	if (self->bg.started)
		bg_join(&self->bg);
	tapsec_nl_close(&self->ev);

	n = live_sockets();
	for (i = 0; n != self->base && i < SETTLE_MS / 10; i++, usleep(10000))
		n = live_sockets();
	if (n != self->base)
		TH_LOG("%ld tapsec sockets left behind", n - self->base);
	EXPECT_EQ(self->base, n);
}

/* The next report of the daemon, which must be of @kind. */
static struct report daemon_expect(struct __test_metadata *_metadata,
				   FIXTURE_DATA(deleg) *self, int kind)
{
	struct report r = {};

	/* Longer than the daemon waits for anything itself. */
	ASSERT_NE(0, wait_fd(self->d.report, POLLIN, WAIT_MS + 1000))
		TH_LOG("the fake daemon says nothing (waiting for report %d)", kind);
	ASSERT_EQ(sizeof(r), read(self->d.report, &r, sizeof(r)))
		TH_LOG("the fake daemon is gone (waiting for report %d)", kind);
	ASSERT_EQ(kind, r.kind)
		TH_LOG("fake daemon: %s", r.kind == R_FAIL ? r.why : "out of order");
	return r;
}

/* Fork the fake daemon with script @s; returns once it is in the group. */
static void daemon_start(struct __test_metadata *_metadata,
			 FIXTURE_DATA(deleg) *self, const struct hs_script *s)
{
	int go[2], rep[2];
	pid_t pid;

	ASSERT_EQ(-1, self->d.pid);
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(rep, O_CLOEXEC));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		daemon_main(go[0], rep[1], s, &self->app_tx, &self->app_rx);
	close(go[0]);
	close(rep[1]);
	self->d = (struct fake_daemon){ .pid = pid, .go = go[1], .report = rep[0] };
	daemon_expect(_metadata, self, R_JOINED);
}

static void daemon_go(struct __test_metadata *_metadata,
		      FIXTURE_DATA(deleg) *self)
{
	ASSERT_EQ(1, write(self->d.go, "g", 1));
}

/* The daemon took a handshake; its request. */
static struct tapsec_hs_req daemon_req(struct __test_metadata *_metadata,
				       FIXTURE_DATA(deleg) *self)
{
	struct report r = daemon_expect(_metadata, self, R_REQ);

	ASSERT_EQ(0, r.ret) TH_LOG("HANDSHAKE_ACCEPT: %s", strerror(-r.ret));
	return r.req;
}

/* The daemon sent DONE, and the kernel took it. */
static void daemon_done(struct __test_metadata *_metadata,
			FIXTURE_DATA(deleg) *self)
{
	struct report r = daemon_expect(_metadata, self, R_DONE);

	EXPECT_EQ(0, r.ret) TH_LOG("HANDSHAKE_DONE: %s", strerror(-r.ret));
}

static void bg_start(struct __test_metadata *_metadata,
		     FIXTURE_DATA(deleg) *self, void *(*fn)(void *), int fd)
{
	ASSERT_FALSE(self->bg.started);
	self->bg.fd = fd;
	self->bg.tid = 0;
	ASSERT_EQ(0, pthread_create(&self->bg.th, NULL, fn, &self->bg));
	self->bg.started = true;
}

/* ------------------------------------------------------------------ */
/* sockets and options                                                 */

static int set_u32(int fd, int opt, uint32_t val)
{
	return setsockopt(fd, SOL_TAPSEC, opt, &val, sizeof(val));
}

static int set_str(int fd, int opt, const char *s)
{
	return setsockopt(fd, SOL_TAPSEC, opt, s, strlen(s));
}

/* getsockopt(SOL_TAPSEC, @opt) into @val of @size; the length given back. */
static socklen_t get_opt(struct __test_metadata *_metadata, int fd, int opt,
			 void *val, socklen_t size)
{
	socklen_t len = size;

	memset(val, 0xff, size);
	EXPECT_EQ(0, getsockopt(fd, SOL_TAPSEC, opt, val, &len))
		TH_LOG("getsockopt(%d): %s", opt, strerror(errno));
	return len;
}

static uint32_t get_u32(struct __test_metadata *_metadata, int fd, int opt)
{
	uint32_t val;

	EXPECT_EQ(sizeof(val), get_opt(_metadata, fd, opt, &val, sizeof(val)));
	return val;
}

/* A string option into @buf, whose size is 256. */
static const char *get_str(struct __test_metadata *_metadata, int fd, int opt,
			   char *buf)
{
	socklen_t len = get_opt(_metadata, fd, opt, buf, 256);

	EXPECT_EQ(strnlen(buf, 256) + 1, len) TH_LOG("option %d", opt);
	buf[255] = '\0';
	return buf;
}

static struct tapsec_handshake_info hs_info(struct __test_metadata *_metadata,
					    int fd)
{
	struct tapsec_handshake_info info;

	EXPECT_EQ(sizeof(info), get_opt(_metadata, fd, TAPSEC_HANDSHAKE_INFO,
					&info, sizeof(info)));
	return info;
}

/* A stream socket in TAPSEC_HANDSHAKE_DAEMON mode. */
static int hs_socket(struct __test_metadata *_metadata,
		     FIXTURE_DATA(deleg) *self, int family, uint32_t timeout_ms)
{
	int fd = keep(self, socket(family, SOCK_STREAM, IPPROTO_TAPSEC));

	ASSERT_LE(0, fd) TH_LOG("socket: %s", strerror(errno));
	ASSERT_EQ(0, set_u32(fd, TAPSEC_HANDSHAKE, TAPSEC_HANDSHAKE_DAEMON));
	ASSERT_EQ(0, set_u32(fd, TAPSEC_HANDSHAKE_TIMEOUT, timeout_ms));
	return fd;
}

/* A plain TCP listener on loopback; its address in *srv. */
static int plain_listener(struct __test_metadata *_metadata,
			  FIXTURE_DATA(deleg) *self, int family,
			  struct sockaddr_storage *srv, socklen_t *len)
{
	int fd = keep(self, tt_plain_server(family, SOCK_STREAM, srv, len));

	ASSERT_LE(0, fd) TH_LOG("listener: %s", strerror(errno));
	return fd;
}

/* A plain TCP client connected to @srv. */
static int plain_client(struct __test_metadata *_metadata,
			FIXTURE_DATA(deleg) *self,
			const struct sockaddr_storage *srv, socklen_t len)
{
	int fd = keep(self, socket(srv->ss_family, SOCK_STREAM, 0));

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, connect(fd, (const struct sockaddr *)srv, len));
	return fd;
}

/*
 * A plain TCP listener whose accept queue is full (backlog 0, one client
 * waiting): a SYN to it is dropped and sent again a second later.  A
 * non-blocking connect() to it returns before TCP is established, as it
 * does over a real network; on loopback TCP is established within it.
 */
static int slow_listener(struct __test_metadata *_metadata,
			 FIXTURE_DATA(deleg) *self,
			 struct sockaddr_storage *srv, socklen_t *len)
{
	int fd = plain_listener(_metadata, self, AF_INET, srv, len);

	ASSERT_EQ(0, listen(fd, 0));
	plain_client(_metadata, self, srv, *len);
	ASSERT_NE(0, wait_fd(fd, POLLIN, WAIT_MS));	/* queued: full */
	return fd;
}

static int set_nonblock(int fd)
{
	return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* A well-formed secret option refused: its errno, or 0 when taken. */
static int secret_err(int fd, int optname)
{
	static const uint8_t secret[32];

	return set_secret(fd, optname, GCM128, secret) ? errno : 0;
}

/* While the daemon runs @app's handshake, @app sets no key or secret. */
static void expect_no_keys(struct __test_metadata *_metadata,
			   FIXTURE_DATA(deleg) *self, int app)
{
	EXPECT_EQ(-1, tapsec_key(app, TAPSEC_TX, &self->app_tx));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, tapsec_key(app, TAPSEC_RX, &self->app_rx));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(EPERM, secret_err(app, TAPSEC_TX_SECRET));
	EXPECT_EQ(EPERM, secret_err(app, TAPSEC_RX_SECRET));
}

/*
 * The peer's side of the handshake: the daemon's bytes, ours (unless sent
 * already), then the ULP and the mirror keys.
 */
static void peer_handshake(struct __test_metadata *_metadata,
			   FIXTURE_DATA(deleg) *self, int peer, bool sent)
{
	char buf[sizeof(daemon_hello)];

	ASSERT_EQ(sizeof(buf), read_exact(peer, buf, sizeof(buf), WAIT_MS))
		TH_LOG("the daemon's raw bytes did not come");
	ASSERT_EQ(0, memcmp(buf, daemon_hello, sizeof(buf)));
	if (!sent)
		ASSERT_EQ(sizeof(peer_hello),
			  send(peer, peer_hello, sizeof(peer_hello), MSG_NOSIGNAL));
	ASSERT_EQ(0, setsockopt(peer, SOL_TCP, TCP_ULP, TAPSEC_ULP_NAME,
				strlen(TAPSEC_ULP_NAME)));
	ASSERT_EQ(0, tapsec_key(peer, TAPSEC_TX, &self->app_rx));
	ASSERT_EQ(0, tapsec_key(peer, TAPSEC_RX, &self->app_tx));
}

/* @msg sent on @from arrives whole on @to. */
static void expect_bytes(struct __test_metadata *_metadata, int from, int to,
			 const char *msg)
{
	size_t len = strlen(msg);
	char buf[256];

	ASSERT_EQ(len, send(from, msg, len, MSG_NOSIGNAL))
		TH_LOG("send: %s", strerror(errno));
	ASSERT_EQ(len, read_exact(to, buf, len, WAIT_MS))
		TH_LOG("'%s' did not arrive", msg);
	EXPECT_EQ(0, memcmp(buf, msg, len));
}

/* Application data both ways between the tapsec socket @app and @peer. */
static void expect_flow(struct __test_metadata *_metadata, int app, int peer)
{
	expect_bytes(_metadata, app, peer, "from the application, sealed");
	expect_bytes(_metadata, peer, app, "to the application, sealed");
}

/* The handshake of @fd is done, with what the daemon reported. */
static void expect_done(struct __test_metadata *_metadata, int fd,
			const char *alpn, const char *peer_id, uint32_t flags)
{
	struct tapsec_handshake_info info = hs_info(_metadata, fd);
	char buf[256];

	EXPECT_EQ(TAPSEC_HS_DONE, info.state);
	EXPECT_EQ(0, info.error);
	EXPECT_EQ(TLS13, info.version);
	EXPECT_EQ(GCM128, info.cipher);
	EXPECT_EQ(flags, info.flags);
	EXPECT_STREQ(alpn, get_str(_metadata, fd, TAPSEC_ALPN_NEGOTIATED, buf));
	EXPECT_STREQ(peer_id, get_str(_metadata, fd, TAPSEC_PEER_IDENTITY, buf));
	EXPECT_EQ(TAPSEC_STATE_ESTABLISHED, tinfo(_metadata, fd).state);
	EXPECT_EQ(1, CNT(fd, hs_done));
	EXPECT_EQ(0, CNT(fd, hs_failed));
}

/* The handshake of @fd failed with @err, saying why. */
static void expect_failed(struct __test_metadata *_metadata, int fd, int err)
{
	struct tapsec_handshake_info info = hs_info(_metadata, fd);

	EXPECT_EQ(TAPSEC_HS_FAILED, info.state);
	EXPECT_EQ(err, info.error) TH_LOG("error %s", strerror(info.error));
	EXPECT_NE('\0', info.reason[0]);
	EXPECT_NE(NULL, memchr(info.reason, '\0', sizeof(info.reason)));
	EXPECT_EQ(0, CNT(fd, hs_done));
	EXPECT_EQ(1, CNT(fd, hs_failed));
}

/*
 * The peer sees the connection shut down: reading ends, with end of file
 * or a reset, after a close_notify perhaps (a TX key was installed).
 */
static void expect_shut(struct __test_metadata *_metadata, int peer,
			const char *what)
{
	ssize_t n = 1;
	char buf[256];

	while (n > 0 && wait_fd(peer, POLLIN, WAIT_MS)) {
		n = recv(peer, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			n = 1;
	}
	EXPECT_GE(0, n) TH_LOG("%s: the peer's connection stays open", what);
}

/* A test that runs @fn(_metadata, self, @arg). */
#define CASE(name, fn, arg) \
	TEST_F(deleg, name) { fn(_metadata, self, arg); }

/* connect() on the calling thread; 0 or the errno it failed with. */
static int connect_err(int fd, const struct sockaddr_storage *srv,
		       socklen_t len)
{
	return connect(fd, (const struct sockaddr *)srv, len) ? errno : 0;
}

/*
 * A daemon-mode socket in a non-blocking connect() to a new listener,
 * *lfd at *srv.  If @slow (slow_listener()), TCP must still be in SYN_SENT
 * when connect() returns; the listener's queue is then emptied for the
 * SYN sent again to get in.
 */
static int nb_client(struct __test_metadata *_metadata,
		     FIXTURE_DATA(deleg) *self, bool slow, int *lfd,
		     struct sockaddr_storage *srv, socklen_t *len)
{
	int app;

	if (slow)
		*lfd = slow_listener(_metadata, self, srv, len);
	else
		*lfd = plain_listener(_metadata, self, AF_INET, srv, len);
	app = hs_socket(_metadata, self, AF_INET, HS_TIMEOUT_MS);
	ASSERT_EQ(0, set_nonblock(app));
	EXPECT_EQ(EINPROGRESS, connect_err(app, srv, *len));
	if (!slow)
		return app;
	ASSERT_EQ(TCP_SYN_SENT, tcp_state(app))
		TH_LOG("TCP is established already: not the slow path");
	ASSERT_LE(0, keep(self, accept(*lfd, NULL, NULL)));
	return app;
}

/* SO_ERROR of @fd, or -errno. */
static int so_error(int fd)
{
	socklen_t len = sizeof(int);
	int err = -1;

	return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) ? -errno : err;
}

/* ------------------------------------------------------------------ */
/* 1. options                                                          */

/* Every pre-connection option: default, read-back, invalid values. */
TEST_F(deleg, options)
{
	static const struct { int opt; const char *val; } strs[] = {
		{ TAPSEC_SERVER_NAME, SNI }, { TAPSEC_ALPN, ALPN },
		{ TAPSEC_IDENTITY, CLIENT_ID }, { TAPSEC_TRUST, TRUST },
		{ TAPSEC_PSK_IDENTITY, "psk-1" },
	};
	static const uint16_t nine[9] = { 51, 52, 54, 51, 52, 54, 51, 52, 54 };
	static const uint16_t c99[] = { 51, 99 }, two_c[] = { 54, 51 };
	static const struct tapsec_versions inverted = { 0x0304, 0x0303 },
		old = { 0x0301, 0 }, v12_13 = { 0x0303, 0x0304 },
		d13_d12 = { 0xfefc, 0xfefd }, t12_d13 = { 0x0303, 0xfefc },
		d12_t13 = { 0xfefd, 0x0304 };
	static const uint32_t u2 = 2, u3 = 3, u0 = 0, over = 600001;
	static char name[300];
	const struct {
		const char *what;
		int opt;
		const void *val;
		socklen_t len;
		int err;
	} bad[] = {
		{ "mode 2", TAPSEC_HANDSHAKE, &u2, 4, EINVAL },
		{ "short int", TAPSEC_HANDSHAKE, &u2, 2, EINVAL },
		{ "verify 3", TAPSEC_VERIFY, &u3, 4, EINVAL },
		{ "session cache 2", TAPSEC_SESSION_CACHE, &u2, 4, EINVAL },
		{ "timeout 0", TAPSEC_HANDSHAKE_TIMEOUT, &u0, 4, EINVAL },
		{ "timeout 600001", TAPSEC_HANDSHAKE_TIMEOUT, &over, 4, EINVAL },
		{ "min > max", TAPSEC_VERSIONS, &inverted, 4, EINVAL },
		{ "DTLS min > max", TAPSEC_VERSIONS, &d13_d12, 4, EINVAL },
		{ "TLS to DTLS", TAPSEC_VERSIONS, &t12_d13, 4, EINVAL },
		{ "DTLS to TLS", TAPSEC_VERSIONS, &d12_t13, 4, EINVAL },
		{ "version 0x0301", TAPSEC_VERSIONS, &old, 4, EINVAL },
		{ "short versions", TAPSEC_VERSIONS, &v12_13, 2, EINVAL },
		{ "cipher 99", TAPSEC_CIPHERS, c99, sizeof(c99), EINVAL },
		{ "9 ciphers", TAPSEC_CIPHERS, nine, sizeof(nine), EINVAL },
		{ "odd cipher length", TAPSEC_CIPHERS, two_c, 3, EINVAL },
		{ "300-byte name", TAPSEC_SERVER_NAME, name, 300, ENAMETOOLONG },
		{ "256-byte name", TAPSEC_SERVER_NAME, name, 256, ENAMETOOLONG },
		{ "64-byte identity", TAPSEC_IDENTITY, name, 64, ENAMETOOLONG },
		{ "bytes after NUL", TAPSEC_ALPN, "h2\0x", 4, EINVAL },
		{ "set INFO", TAPSEC_HANDSHAKE_INFO, &u0, 4, EPERM },
		{ "set ALPN_NEGOTIATED", TAPSEC_ALPN_NEGOTIATED, "h2", 2, EPERM },
		{ "set PEER_IDENTITY", TAPSEC_PEER_IDENTITY, "x", 1, EPERM },
		{ "set PEER_CHAIN", TAPSEC_PEER_CHAIN, "x", 1, EPERM },
		{ "verdict, nothing to decide", TAPSEC_PEER_VERDICT, &u0, 4,
		  EINVAL },
		{ "verdict 2", TAPSEC_PEER_VERDICT, &u2, 4, EINVAL },
	};
	struct tapsec_handshake_info info;
	struct tapsec_versions v;
	struct sockaddr_storage srv;
	socklen_t srvlen;
	uint16_t ciphers[16];
	char buf[256];
	int fd, lfd, c, a, dg;
	size_t i;

	memset(name, 'n', sizeof(name));
	fd = keep(self, socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC));
	ASSERT_LE(0, fd);

	/* Defaults. */
	EXPECT_EQ(TAPSEC_HANDSHAKE_NONE, get_u32(_metadata, fd, TAPSEC_HANDSHAKE));
	EXPECT_EQ(30000, get_u32(_metadata, fd, TAPSEC_HANDSHAKE_TIMEOUT));
	EXPECT_EQ(TAPSEC_VERIFY_DEFAULT, get_u32(_metadata, fd, TAPSEC_VERIFY));
	EXPECT_EQ(TAPSEC_SESSION_CACHE_ON,
		  get_u32(_metadata, fd, TAPSEC_SESSION_CACHE));
	for (i = 0; i < ARRAY_SIZE(strs); i++)
		EXPECT_STREQ("", get_str(_metadata, fd, strs[i].opt, buf));
	EXPECT_EQ(sizeof(v), get_opt(_metadata, fd, TAPSEC_VERSIONS, &v, sizeof(v)));
	EXPECT_EQ(0, v.min);
	EXPECT_EQ(0, v.max);
	EXPECT_EQ(0, get_opt(_metadata, fd, TAPSEC_CIPHERS, ciphers, sizeof(ciphers)));
	info = hs_info(_metadata, fd);
	EXPECT_EQ(TAPSEC_HS_IDLE, info.state);
	EXPECT_EQ(0, info.error);
	EXPECT_STREQ("", get_str(_metadata, fd, TAPSEC_ALPN_NEGOTIATED, buf));
	EXPECT_STREQ("", get_str(_metadata, fd, TAPSEC_PEER_IDENTITY, buf));

	/* Set and read back, the limits included. */
	EXPECT_EQ(0, set_u32(fd, TAPSEC_HANDSHAKE, TAPSEC_HANDSHAKE_DAEMON));
	EXPECT_EQ(TAPSEC_HANDSHAKE_DAEMON, get_u32(_metadata, fd, TAPSEC_HANDSHAKE));
	EXPECT_EQ(0, set_u32(fd, TAPSEC_VERIFY, TAPSEC_VERIFY_NONE));
	EXPECT_EQ(TAPSEC_VERIFY_NONE, get_u32(_metadata, fd, TAPSEC_VERIFY));
	EXPECT_EQ(0, set_u32(fd, TAPSEC_VERIFY, TAPSEC_VERIFY_DEFER));
	EXPECT_EQ(TAPSEC_VERIFY_DEFER, get_u32(_metadata, fd, TAPSEC_VERIFY));
	EXPECT_EQ(0, set_u32(fd, TAPSEC_VERIFY, TAPSEC_VERIFY_NONE));
	EXPECT_EQ(0, set_u32(fd, TAPSEC_SESSION_CACHE, TAPSEC_SESSION_CACHE_OFF));
	EXPECT_EQ(TAPSEC_SESSION_CACHE_OFF,
		  get_u32(_metadata, fd, TAPSEC_SESSION_CACHE));
	EXPECT_EQ(0, set_u32(fd, TAPSEC_HANDSHAKE_TIMEOUT, 1));
	EXPECT_EQ(1, get_u32(_metadata, fd, TAPSEC_HANDSHAKE_TIMEOUT));
	EXPECT_EQ(0, set_u32(fd, TAPSEC_HANDSHAKE_TIMEOUT, 600000));
	EXPECT_EQ(600000, get_u32(_metadata, fd, TAPSEC_HANDSHAKE_TIMEOUT));
	EXPECT_EQ(0, set_u32(fd, TAPSEC_HANDSHAKE_TIMEOUT, 1234));
	EXPECT_EQ(1234, get_u32(_metadata, fd, TAPSEC_HANDSHAKE_TIMEOUT));
	EXPECT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_SERVER_NAME, name, 255));
	EXPECT_EQ(255, strlen(get_str(_metadata, fd, TAPSEC_SERVER_NAME, buf)));
	EXPECT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_IDENTITY, name, 63));
	EXPECT_EQ(63, strlen(get_str(_metadata, fd, TAPSEC_IDENTITY, buf)));
	for (i = 0; i < ARRAY_SIZE(strs); i++) {
		EXPECT_EQ(0, set_str(fd, strs[i].opt, strs[i].val));
		EXPECT_STREQ(strs[i].val, get_str(_metadata, fd, strs[i].opt, buf));
	}
	/* A string ends at its first NUL; NULs may follow. */
	EXPECT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_ALPN, "h2\0\0", 4));
	EXPECT_STREQ("h2", get_str(_metadata, fd, TAPSEC_ALPN, buf));
	v = (struct tapsec_versions){ TLS13, 0 };
	EXPECT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_VERSIONS, &v, sizeof(v)));
	EXPECT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_VERSIONS, &v12_13,
				sizeof(v12_13)));
	EXPECT_EQ(sizeof(v), get_opt(_metadata, fd, TAPSEC_VERSIONS, &v, sizeof(v)));
	EXPECT_EQ(0x0303, v.min);
	EXPECT_EQ(0x0304, v.max);
	/* DTLS numbers run down: 1.2 (0xfefd) to 1.3 (0xfefc) is in order. */
	v = (struct tapsec_versions){ 0xfefd, 0xfefc };
	EXPECT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_VERSIONS, &v, sizeof(v)));
	EXPECT_EQ(sizeof(v), get_opt(_metadata, fd, TAPSEC_VERSIONS, &v, sizeof(v)));
	EXPECT_EQ(0xfefd, v.min);
	EXPECT_EQ(0xfefc, v.max);
	EXPECT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_VERSIONS, &v12_13,
				sizeof(v12_13)));
	EXPECT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_CIPHERS, nine, 16));
	EXPECT_EQ(16, get_opt(_metadata, fd, TAPSEC_CIPHERS, ciphers, sizeof(ciphers)));
	EXPECT_EQ(0, memcmp(ciphers, nine, 16));
	EXPECT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_CIPHERS, two_c, sizeof(two_c)));
	EXPECT_EQ(sizeof(two_c), get_opt(_metadata, fd, TAPSEC_CIPHERS, ciphers,
					 sizeof(ciphers)));
	EXPECT_EQ(0, memcmp(ciphers, two_c, sizeof(two_c)));

	/* Invalid values are refused and change nothing. */
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, bad[i].opt, bad[i].val,
					 bad[i].len)) TH_LOG("%s", bad[i].what);
		EXPECT_EQ(bad[i].err, errno) TH_LOG("%s: %s", bad[i].what,
						    strerror(errno));
	}
	EXPECT_EQ(TAPSEC_HANDSHAKE_DAEMON, get_u32(_metadata, fd, TAPSEC_HANDSHAKE));
	EXPECT_EQ(TAPSEC_VERIFY_NONE, get_u32(_metadata, fd, TAPSEC_VERIFY));
	EXPECT_EQ(1234, get_u32(_metadata, fd, TAPSEC_HANDSHAKE_TIMEOUT));
	EXPECT_STREQ(SNI, get_str(_metadata, fd, TAPSEC_SERVER_NAME, buf));
	EXPECT_STREQ(CLIENT_ID, get_str(_metadata, fd, TAPSEC_IDENTITY, buf));
	EXPECT_STREQ("h2", get_str(_metadata, fd, TAPSEC_ALPN, buf));
	EXPECT_EQ(sizeof(v), get_opt(_metadata, fd, TAPSEC_VERSIONS, &v, sizeof(v)));
	EXPECT_EQ(0x0303, v.min);
	EXPECT_EQ(sizeof(two_c), get_opt(_metadata, fd, TAPSEC_CIPHERS, ciphers,
					 sizeof(ciphers)));

	/* Too late once connected, listening, accepted or upgraded. */
	lfd = plain_listener(_metadata, self, AF_INET, &srv, &srvlen);
	c = keep(self, socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC));
	ASSERT_LE(0, c);
	ASSERT_EQ(0, connect(c, (struct sockaddr *)&srv, srvlen));
	EXPECT_EQ(-1, set_str(c, TAPSEC_SERVER_NAME, SNI));
	EXPECT_EQ(EISCONN, errno);
	EXPECT_EQ(-1, set_u32(c, TAPSEC_HANDSHAKE, TAPSEC_HANDSHAKE_DAEMON));
	EXPECT_EQ(EISCONN, errno);
	EXPECT_EQ(TAPSEC_HANDSHAKE_NONE, get_u32(_metadata, c, TAPSEC_HANDSHAKE));
	a = keep(self, accept(lfd, NULL, NULL));
	ASSERT_LE(0, a);
	ASSERT_EQ(0, setsockopt(a, SOL_TCP, TCP_ULP, TAPSEC_ULP_NAME,
				strlen(TAPSEC_ULP_NAME)));
	EXPECT_EQ(-1, set_u32(a, TAPSEC_HANDSHAKE, TAPSEC_HANDSHAKE_DAEMON));
	EXPECT_EQ(EISCONN, errno);
	EXPECT_EQ(-1, set_u32(a, TAPSEC_HANDSHAKE_TIMEOUT, 1000));
	EXPECT_EQ(EISCONN, errno);

	ASSERT_EQ(0, tt_bind_loopback(fd, AF_INET, &srv, &srvlen));
	EXPECT_EQ(0, set_u32(fd, TAPSEC_HANDSHAKE_TIMEOUT, 4321));	/* bound */
	ASSERT_EQ(0, listen(fd, 4));
	EXPECT_EQ(-1, set_str(fd, TAPSEC_SERVER_NAME, "other.example"));
	EXPECT_EQ(EISCONN, errno);
	EXPECT_EQ(-1, set_u32(fd, TAPSEC_HANDSHAKE, TAPSEC_HANDSHAKE_NONE));
	EXPECT_EQ(EISCONN, errno);
	EXPECT_EQ(4321, get_u32(_metadata, fd, TAPSEC_HANDSHAKE_TIMEOUT));

	/* Datagram sockets have no delegated handshake. */
	dg = keep(self, socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC));
	ASSERT_LE(0, dg);
	EXPECT_EQ(-1, set_u32(dg, TAPSEC_HANDSHAKE, TAPSEC_HANDSHAKE_DAEMON));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, set_str(dg, TAPSEC_SERVER_NAME, SNI));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, set_u32(dg, TAPSEC_HANDSHAKE_TIMEOUT, 1000));
	EXPECT_EQ(EOPNOTSUPP, errno);
}

/* ------------------------------------------------------------------ */
/* 2. no daemon                                                        */

/* Nobody in the handshake group: connect() fails at once with ESRCH. */
TEST_F(deleg, no_daemon)
{
	struct sockaddr_storage srv;
	socklen_t srvlen;
	int app;

	plain_listener(_metadata, self, AF_INET, &srv, &srvlen);
	app = hs_socket(_metadata, self, AF_INET, HS_TIMEOUT_MS);
	/* ESRCH, not ETIMEDOUT: nothing waited for the timeout. */
	EXPECT_EQ(ESRCH, connect_err(app, &srv, srvlen));
	expect_failed(_metadata, app, ESRCH);
}

/*
 * "A failed handshake shuts the TCP connection down": also when it failed
 * for want of a daemon, blocking or not (TCP established after connect()
 * returned, the path that starts a non-blocking handshake).
 */
TEST_F(deleg, no_daemon_shuts_down)
{
	struct sockaddr_storage srv;
	socklen_t srvlen;
	int lfd, app, peer;

	lfd = plain_listener(_metadata, self, AF_INET, &srv, &srvlen);
	app = hs_socket(_metadata, self, AF_INET, HS_TIMEOUT_MS);
	EXPECT_EQ(ESRCH, connect_err(app, &srv, srvlen));
	peer = keep(self, accept(lfd, NULL, NULL));
	ASSERT_LE(0, peer);
	expect_shut(_metadata, peer, "blocking connect");

	app = nb_client(_metadata, self, true, &lfd, &srv, &srvlen);
	peer = keep(self, accept(lfd, NULL, NULL));
	ASSERT_LE(0, peer);
	EXPECT_TRUE(wait_fd(app, POLLOUT, WAIT_MS) & POLLERR);
	expect_shut(_metadata, peer, "non-blocking connect");
}

/* ------------------------------------------------------------------ */
/* 3. the client role                                                  */

static const struct hs_script completes = {
	.raw = true, .keys = KEYS_BOTH, .alpn = "h2",
	.peer_identity = "CN=peer", .peer_auth = 1,
};

/*
 * The fake daemon following @s, a plain listener (*@lfd, its address in
 * self->bg) and a delegated IPv4 client socket to set options on.
 */
static int daemon_and_client(struct __test_metadata *_metadata,
			     FIXTURE_DATA(deleg) *self,
			     const struct hs_script *s, int *lfd)
{
	daemon_start(_metadata, self, s);
	*lfd = plain_listener(_metadata, self, AF_INET, &self->bg.addr,
			      &self->bg.addrlen);
	return hs_socket(_metadata, self, AF_INET, HS_TIMEOUT_MS);
}

/*
 * The rest of a client's delegated handshake once the daemon took it: the
 * peer (*@peer) accepted on @lfd does its side, the daemon reports DONE,
 * the background connect() returns 0 and the daemon exits cleanly.
 */
static void client_handshake(struct __test_metadata *_metadata,
			     FIXTURE_DATA(deleg) *self, int lfd, int *peer)
{
	*peer = keep(self, accept(lfd, NULL, NULL));
	ASSERT_LE(0, *peer);
	peer_handshake(_metadata, self, *peer, false);
	daemon_done(_metadata, self);
	EXPECT_EQ(0, bg_join(&self->bg)) TH_LOG("connect: %s", strerror(errno));
	EXPECT_EQ(0, daemon_reap(self));
}

/* Two "certificates" in TAPSEC_PEER_CHAIN's form. */
static const uint8_t fake_chain[] = { 0, 0, 3, 'l', 'e', 'f', 0, 0, 2, 'c', 'a' };

static const struct hs_script deferred = {
	.raw = true, .keys = KEYS_BOTH, .peer_identity = "CN=unverified",
	.peer_auth = 1,	/* the kernel drops it: the application decides */
	.chain = fake_chain, .chain_len = sizeof(fake_chain),
};

/*
 * TAPSEC_VERIFY_DEFER: connect() returns, nothing flows until the verdict
 * (what the peer sent waits), the chain is the daemon's; accepted, the
 * data comes; rejected, the peer reads a fatal bad_certificate alert.
 */
static void deferred_case(struct __test_metadata *_metadata,
			  FIXTURE_DATA(deleg) *self, bool accepted)
{
	uint32_t v = accepted ? TAPSEC_PEER_ACCEPT : TAPSEC_PEER_REJECT;
	struct tapsec_handshake_info info;
	uint8_t chain[64], alert[8];
	socklen_t len;
	int app, lfd, peer, type;
	char c;

	app = daemon_and_client(_metadata, self, &deferred, &lfd);
	ASSERT_EQ(0, set_u32(app, TAPSEC_VERIFY, TAPSEC_VERIFY_DEFER));
	bg_start(_metadata, self, bg_connect, app);
	daemon_req(_metadata, self);
	client_handshake(_metadata, self, lfd, &peer);

	info = hs_info(_metadata, app);
	EXPECT_EQ(TAPSEC_HS_DONE, info.state);
	EXPECT_EQ(TAPSEC_HS_F_VERDICT, info.flags);
	/* The peer's data waits: not readable, EPERM both ways. */
	ASSERT_EQ(4, send(peer, "wait", 4, MSG_NOSIGNAL));
	EXPECT_EQ(POLLOUT, wait_fd(app, POLLIN | POLLOUT, QUIET_MS));
	EXPECT_EQ(-1, recv(app, &c, 1, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, send(app, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPERM, errno);
	/* The chain: ERANGE and the size for a short buffer. */
	len = 4;
	EXPECT_EQ(-1, getsockopt(app, SOL_TAPSEC, TAPSEC_PEER_CHAIN, chain, &len));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(sizeof(fake_chain), len);
	len = sizeof(chain);
	ASSERT_EQ(0, getsockopt(app, SOL_TAPSEC, TAPSEC_PEER_CHAIN, chain, &len));
	ASSERT_EQ(sizeof(fake_chain), len);
	EXPECT_EQ(0, memcmp(chain, fake_chain, len));

	ASSERT_EQ(0, setsockopt(app, SOL_TAPSEC, TAPSEC_PEER_VERDICT, &v,
				sizeof(v)));
	/* Decided: a second verdict has nothing to decide. */
	EXPECT_EQ(-1, setsockopt(app, SOL_TAPSEC, TAPSEC_PEER_VERDICT, &v,
				 sizeof(v)));
	EXPECT_EQ(EINVAL, errno);
	info = hs_info(_metadata, app);
	if (accepted) {
		EXPECT_EQ(TAPSEC_HS_DONE, info.state);
		EXPECT_EQ(TAPSEC_HS_F_PEER_AUTH, info.flags);
		EXPECT_TRUE(wait_fd(app, POLLIN, WAIT_MS) & POLLIN);
		ASSERT_EQ(4, read_exact(app, alert, 4, WAIT_MS));
		EXPECT_EQ(0, memcmp(alert, "wait", 4));
		expect_flow(_metadata, app, peer);
		return;
	}
	EXPECT_EQ(TAPSEC_HS_FAILED, info.state);
	EXPECT_EQ(EKEYREJECTED, info.error);
	ASSERT_EQ(2, recv_type(peer, SOL_TAPSEC, alert, sizeof(alert), &type, 0));
	EXPECT_EQ(TAPSEC_RECORD_ALERT, type);
	EXPECT_EQ(2, alert[0]);		/* fatal */
	EXPECT_EQ(42, alert[1]);	/* bad_certificate */
	EXPECT_EQ(-1, send(app, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EKEYREJECTED, errno);
}

CASE(deferred_accept, deferred_case, true)
CASE(deferred_reject, deferred_case, false)

static const struct hs_script deferred_dtls = {
	.hold = true, .keys = KEYS_BOTH, .peer_identity = "CN=unverified",
	.chain = fake_chain, .chain_len = sizeof(fake_chain),
};

/*
 * TAPSEC_VERIFY_DEFER on a DTLS socket: the verdict works as on a stream
 * socket, the alert of a rejection going out as a DTLS record (it used to
 * look for a TLS engine datagram sockets never have).  The peer is a
 * tapsec DTLS socket given the mirror keys.
 */
static void deferred_dtls_case(struct __test_metadata *_metadata,
			       FIXTURE_DATA(deleg) *self, bool accepted)
{
	uint32_t v = accepted ? TAPSEC_PEER_ACCEPT : TAPSEC_PEER_REJECT;
	struct tapsec_handshake_info info;
	struct sockaddr_storage app_addr;
	socklen_t app_len;
	uint8_t buf[16];
	int app, peer, type;

	key_make(&self->app_tx, TAPSEC_DTLS_1_2_VERSION, GCM128, 1ULL << 48);
	key_make(&self->app_rx, TAPSEC_DTLS_1_2_VERSION, GCM128, 1ULL << 48);
	daemon_start(_metadata, self, &deferred_dtls);
	peer = keep(self, socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC));
	app = keep(self, socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC));
	ASSERT_LE(0, peer);
	ASSERT_LE(0, app);
	ASSERT_EQ(0, set_u32(peer, TAPSEC_PROTOCOL, TAPSEC_PROTO_DTLS));
	ASSERT_EQ(0, set_u32(app, TAPSEC_PROTOCOL, TAPSEC_PROTO_DTLS));
	ASSERT_EQ(0, set_u32(app, TAPSEC_HANDSHAKE, TAPSEC_HANDSHAKE_DAEMON));
	ASSERT_EQ(0, set_u32(app, TAPSEC_HANDSHAKE_TIMEOUT, HS_TIMEOUT_MS));
	ASSERT_EQ(0, set_u32(app, TAPSEC_VERIFY, TAPSEC_VERIFY_DEFER));
	ASSERT_EQ(0, tt_bind_loopback(peer, AF_INET, &self->bg.addr,
				      &self->bg.addrlen));
	ASSERT_EQ(0, tt_bind_loopback(app, AF_INET, &app_addr, &app_len));
	ASSERT_EQ(0, connect(peer, (struct sockaddr *)&app_addr, app_len));
	ASSERT_EQ(0, tapsec_key(peer, TAPSEC_TX, &self->app_rx));
	ASSERT_EQ(0, tapsec_key(peer, TAPSEC_RX, &self->app_tx));

	bg_start(_metadata, self, bg_connect, app);
	daemon_req(_metadata, self);
	/* Only the daemon installs keys and secrets, here as on TCP. */
	EXPECT_EQ(TAPSEC_HS_RUNNING, hs_info(_metadata, app).state);
	expect_no_keys(_metadata, self, app);
	daemon_go(_metadata, self);
	daemon_done(_metadata, self);
	EXPECT_EQ(0, bg_join(&self->bg)) TH_LOG("connect: %s", strerror(errno));
	EXPECT_EQ(0, daemon_reap(self));
	info = hs_info(_metadata, app);
	EXPECT_EQ(TAPSEC_HS_DONE, info.state);
	EXPECT_EQ(TAPSEC_HS_F_VERDICT, info.flags);
	/* Nothing flows before the verdict. */
	ASSERT_EQ(4, send(peer, "wait", 4, 0));
	EXPECT_EQ(-1, recv(app, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, send(app, "x", 1, 0));
	EXPECT_EQ(EPERM, errno);

	ASSERT_EQ(0, setsockopt(app, SOL_TAPSEC, TAPSEC_PEER_VERDICT, &v,
				sizeof(v)));
	info = hs_info(_metadata, app);
	if (accepted) {
		EXPECT_EQ(TAPSEC_HS_DONE, info.state);
		EXPECT_EQ(TAPSEC_HS_F_PEER_AUTH, info.flags);
		EXPECT_TRUE(wait_fd(app, POLLIN, WAIT_MS) & POLLIN);
		EXPECT_EQ(4, recv(app, buf, sizeof(buf), MSG_DONTWAIT));
		EXPECT_EQ(0, memcmp(buf, "wait", 4));
		ASSERT_EQ(5, send(app, "hello", 5, 0));
		EXPECT_TRUE(wait_fd(peer, POLLIN, WAIT_MS) & POLLIN);
		EXPECT_EQ(5, recv(peer, buf, sizeof(buf), MSG_DONTWAIT));
		return;
	}
	EXPECT_EQ(TAPSEC_HS_FAILED, info.state);
	EXPECT_EQ(EKEYREJECTED, info.error);
	/* The peer reads the fatal bad_certificate alert in a record. */
	ASSERT_EQ(2, recv_type(peer, SOL_TAPSEC, buf, sizeof(buf), &type, 0));
	EXPECT_EQ(TAPSEC_RECORD_ALERT, type);
	EXPECT_EQ(2, buf[0]);		/* fatal */
	EXPECT_EQ(42, buf[1]);		/* bad_certificate */
	EXPECT_EQ(-1, send(app, "x", 1, 0));
	EXPECT_EQ(EKEYREJECTED, errno);
}

CASE(deferred_dtls_accept, deferred_dtls_case, true)
CASE(deferred_dtls_reject, deferred_dtls_case, false)

static void client_case(struct __test_metadata *_metadata,
			FIXTURE_DATA(deleg) *self, int family)
{
	/* NewSessionTicket: type 4, 24-bit length, a short body. */
	static const uint8_t nst[] = {
		4, 0, 0, 14,
		0, 0, 0x1c, 0x20,	/* lifetime */
		1, 2, 3, 4,		/* age_add */
		0,			/* nonce */
		0, 1, 0x42,		/* ticket */
		0, 0,			/* extensions */
	};
	struct tapsec_versions v = { TLS13, TLS13 };
	uint16_t ciphers[] = { GCM128 };
	struct tapsec_hs_req req;
	char buf[64];
	int app, lfd, peer;

	daemon_start(_metadata, self, &completes);
	lfd = plain_listener(_metadata, self, family, &self->bg.addr,
			     &self->bg.addrlen);
	app = hs_socket(_metadata, self, family, HS_TIMEOUT_MS);
	ASSERT_EQ(0, set_str(app, TAPSEC_SERVER_NAME, SNI));
	ASSERT_EQ(0, set_str(app, TAPSEC_ALPN, ALPN));
	ASSERT_EQ(0, set_str(app, TAPSEC_IDENTITY, CLIENT_ID));
	ASSERT_EQ(0, set_str(app, TAPSEC_TRUST, TRUST));
	ASSERT_EQ(0, set_u32(app, TAPSEC_SESSION_CACHE, TAPSEC_SESSION_CACHE_OFF));
	ASSERT_EQ(0, setsockopt(app, SOL_TAPSEC, TAPSEC_VERSIONS, &v, sizeof(v)));
	ASSERT_EQ(0, setsockopt(app, SOL_TAPSEC, TAPSEC_CIPHERS, ciphers,
				sizeof(ciphers)));
	bg_start(_metadata, self, bg_connect, app);

	/* What the daemon is asked to do. */
	req = daemon_req(_metadata, self);
	EXPECT_EQ(TAPSEC_ROLE_CLIENT, req.role);
	EXPECT_EQ(TAPSEC_PROTO_TLS, req.protocol);
	EXPECT_STREQ(SNI, req.server_name);
	EXPECT_STREQ(ALPN, req.alpn);
	EXPECT_STREQ(CLIENT_ID, req.identity);
	EXPECT_STREQ(TRUST, req.trust);
	EXPECT_STREQ("", req.psk_identity);
	EXPECT_EQ(TAPSEC_VERIFY_DEFAULT, req.verify);
	EXPECT_EQ(TAPSEC_SESSION_CACHE_OFF, req.session_cache);
	EXPECT_EQ(TLS13, req.version_min);
	EXPECT_EQ(TLS13, req.version_max);
	EXPECT_EQ(1, req.nciphers);
	EXPECT_EQ(GCM128, req.ciphers[0]);
	EXPECT_LT(0, req.timeout_ms);
	EXPECT_GE(HS_TIMEOUT_MS, req.timeout_ms);
	EXPECT_TRUE(same_addr(&self->bg.addr, &req.peer));
	EXPECT_EQ(inode_of(app), req.inode);

	client_handshake(_metadata, self, lfd, &peer);

	expect_done(_metadata, app, "h2", "CN=peer", TAPSEC_HS_F_PEER_AUTH);
	expect_flow(_metadata, app, peer);

	/* A NewSessionTicket is consumed; the data after it is read. */
	ASSERT_EQ(sizeof(nst), send_type(peer, SOL_TAPSEC, TAPSEC_RECORD_HANDSHAKE,
					 nst, sizeof(nst), 0));
	expect_bytes(_metadata, peer, app, "after the ticket");
	EXPECT_EQ(-1, recv(app, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, CNT(app, rx_post_handshake));
	expect_flow(_metadata, app, peer);
}

/* connect() returns once the daemon is done; data runs sealed. */
CASE(client, client_case, AF_INET)
CASE(client_ipv6, client_case, AF_INET6)

/* ------------------------------------------------------------------ */
/* 4. the server role                                                  */

/* A tapsec listener with its own identity. */
static int hs_listener(struct __test_metadata *_metadata,
		       FIXTURE_DATA(deleg) *self, struct sockaddr_storage *srv,
		       socklen_t *len)
{
	int fd = hs_socket(_metadata, self, AF_INET, HS_TIMEOUT_MS);

	ASSERT_EQ(0, set_str(fd, TAPSEC_IDENTITY, SERVER_ID));
	ASSERT_EQ(0, set_str(fd, TAPSEC_ALPN, "h2"));
	ASSERT_EQ(0, tt_bind_loopback(fd, AF_INET, srv, len));
	ASSERT_EQ(0, listen(fd, 8));
	return fd;
}

/* A client whose handshake failed is skipped; the next one is accepted. */
TEST_F(deleg, server)
{
	static const struct hs_script reject = {
		.status = EKEYREJECTED, .reason = "client certificate rejected",
	};
	static const struct hs_script server_ok = {
		.raw = true, .keys = KEYS_BOTH, .alpn = "h2",
	};
	struct sockaddr_storage srv, me;
	socklen_t srvlen, melen = sizeof(me);
	struct tapsec_hs_req req;
	char buf[256];
	int lst, c1, c2, afd;

	lst = hs_listener(_metadata, self, &srv, &srvlen);

	daemon_start(_metadata, self, &reject);
	c1 = plain_client(_metadata, self, &srv, srvlen);
	ASSERT_EQ(0, getsockname(c1, (struct sockaddr *)&me, &melen));
	bg_start(_metadata, self, bg_accept, lst);
	req = daemon_req(_metadata, self);
	EXPECT_EQ(TAPSEC_ROLE_SERVER, req.role);
	EXPECT_STREQ(SERVER_ID, req.identity);
	EXPECT_STREQ("h2", req.alpn);
	EXPECT_STREQ("", req.server_name);
	EXPECT_TRUE(same_addr(&me, &req.peer));
	daemon_done(_metadata, self);
	EXPECT_EQ(-1, bg_join(&self->bg));
	EXPECT_EQ(ECONNABORTED, errno);
	EXPECT_EQ(0, daemon_reap(self));
	expect_shut(_metadata, c1, "rejected client");

	daemon_start(_metadata, self, &server_ok);
	c2 = plain_client(_metadata, self, &srv, srvlen);
	bg_start(_metadata, self, bg_accept, lst);
	req = daemon_req(_metadata, self);
	EXPECT_EQ(TAPSEC_ROLE_SERVER, req.role);
	peer_handshake(_metadata, self, c2, false);
	daemon_done(_metadata, self);
	afd = keep(self, bg_join(&self->bg));
	ASSERT_LE(0, afd) TH_LOG("accept: %s", strerror(errno));
	EXPECT_EQ(0, daemon_reap(self));
	EXPECT_EQ(inode_of(afd), req.inode);

	expect_done(_metadata, afd, "h2", "", 0);
	EXPECT_EQ(TAPSEC_ORIGIN_ACCEPT, tinfo(_metadata, afd).origin);
	/* The child took its listener's options. */
	EXPECT_EQ(TAPSEC_HANDSHAKE_DAEMON, get_u32(_metadata, afd, TAPSEC_HANDSHAKE));
	EXPECT_STREQ(SERVER_ID, get_str(_metadata, afd, TAPSEC_IDENTITY, buf));
	expect_flow(_metadata, afd, c2);
}

/*
 * A non-blocking accept() returns the socket at once: data calls say
 * EAGAIN, or wait, until the daemon is done.
 */
TEST_F(deleg, server_nonblocking_accept)
{
	static const struct hs_script held = {
		.hold = true, .raw = true, .keys = KEYS_BOTH,
	};
	static const char msg[] = "first data after the handshake";
	struct sockaddr_storage srv;
	socklen_t srvlen;
	char c;
	int lst, cl, afd;

	lst = hs_listener(_metadata, self, &srv, &srvlen);
	ASSERT_EQ(0, set_nonblock(lst));
	daemon_start(_metadata, self, &held);
	cl = plain_client(_metadata, self, &srv, srvlen);
	ASSERT_NE(0, wait_fd(lst, POLLIN, WAIT_MS));
	afd = keep(self, accept(lst, NULL, NULL));
	ASSERT_LE(0, afd) TH_LOG("accept: %s", strerror(errno));
	daemon_req(_metadata, self);

	EXPECT_EQ(TAPSEC_HS_RUNNING, hs_info(_metadata, afd).state);
	EXPECT_EQ(0, wait_fd(afd, POLLIN | POLLOUT, QUIET_MS));
	EXPECT_EQ(-1, recv(afd, &c, 1, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, send(afd, "x", 1, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);

	/* A blocking read waits for the handshake, then gets data. */
	self->bg.len = strlen(msg);
	bg_start(_metadata, self, bg_recv, afd);
	EXPECT_TRUE(bg_sleeping(&self->bg));
	daemon_go(_metadata, self);
	peer_handshake(_metadata, self, cl, false);
	daemon_done(_metadata, self);
	ASSERT_EQ(strlen(msg), send(cl, msg, strlen(msg), 0));
	EXPECT_EQ(strlen(msg), bg_join(&self->bg)) TH_LOG("recv: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(self->bg.buf, msg, strlen(msg)));
	EXPECT_EQ(0, daemon_reap(self));
	expect_done(_metadata, afd, "", "", 0);
	expect_flow(_metadata, afd, cl);
}

/* ------------------------------------------------------------------ */
/* 5. non-blocking connect                                             */

/*
 * EINPROGRESS, then nothing for the application while the handshake is
 * queued and while the daemon runs it; writable once it is done.
 */
static void nonblocking_case(struct __test_metadata *_metadata,
			     FIXTURE_DATA(deleg) *self, bool slow)
{
	static const struct hs_script held = {
		.ready_then_wait = true, .hold = true, .raw = true,
		.keys = KEYS_BOTH, .alpn = "h2",
	};
	struct sockaddr_storage srv;
	socklen_t srvlen;
	int lfd, app, peer;
	char c;

	daemon_start(_metadata, self, &held);
	app = nb_client(_metadata, self, slow, &lfd, &srv, &srvlen);
	peer = keep(self, accept(lfd, NULL, NULL));
	ASSERT_LE(0, peer);

	/* Queued. */
	daemon_expect(_metadata, self, R_READY);
	EXPECT_EQ(TAPSEC_HS_PENDING, hs_info(_metadata, app).state);
	EXPECT_EQ(0, wait_fd(app, POLLIN | POLLOUT, QUIET_MS));
	daemon_go(_metadata, self);

	/* Running: the peer's handshake bytes are not the application's. */
	daemon_req(_metadata, self);
	EXPECT_EQ(TAPSEC_HS_RUNNING, hs_info(_metadata, app).state);
	ASSERT_EQ(sizeof(peer_hello),
		  send(peer, peer_hello, sizeof(peer_hello), MSG_NOSIGNAL));
	EXPECT_EQ(0, wait_fd(app, POLLIN | POLLOUT, QUIET_MS));
	EXPECT_EQ(-1, recv(app, &c, 1, 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, send(app, "x", 1, 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(EALREADY, connect_err(app, &srv, srvlen));
	/* Only the daemon installs keys and secrets. */
	expect_no_keys(_metadata, self, app);
	EXPECT_EQ(EPERM, secret_err(app, TAPSEC_EXPORTER_SECRET));
	daemon_go(_metadata, self);

	peer_handshake(_metadata, self, peer, true);
	daemon_done(_metadata, self);
	EXPECT_EQ(POLLOUT, wait_fd(app, POLLOUT, WAIT_MS));
	EXPECT_EQ(0, so_error(app));
	EXPECT_EQ(EISCONN, connect_err(app, &srv, srvlen));
	EXPECT_EQ(0, daemon_reap(self));
	expect_done(_metadata, app, "h2", "", 0);
	expect_flow(_metadata, app, peer);
}

/*
 * On loopback TCP is established before connect() returns; the slow_tcp
 * cases have it established afterwards (slow_listener()).
 */
CASE(nonblocking_connect, nonblocking_case, false)
CASE(nonblocking_connect_slow_tcp, nonblocking_case, true)

/* Without a daemon: POLLERR, and ESRCH in SO_ERROR. */
static void nonblocking_no_daemon_case(struct __test_metadata *_metadata,
				       FIXTURE_DATA(deleg) *self, bool slow)
{
	struct sockaddr_storage srv;
	socklen_t srvlen;
	int lfd, app;

	app = nb_client(_metadata, self, slow, &lfd, &srv, &srvlen);
	EXPECT_TRUE(wait_fd(app, POLLOUT, WAIT_MS) & POLLERR);
	EXPECT_EQ(ESRCH, so_error(app));
	expect_failed(_metadata, app, ESRCH);
}

CASE(nonblocking_no_daemon, nonblocking_no_daemon_case, false)
CASE(nonblocking_no_daemon_slow_tcp, nonblocking_no_daemon_case, true)

/* ------------------------------------------------------------------ */
/* 6. the daemon goes away                                             */

/*
 * Run a handshake that must fail with @err: the daemon follows @s, the
 * application connects (blocking) with @timeout_ms; the failure is
 * recorded and the peer sees the connection shut down.
 */
static void failing_case(struct __test_metadata *_metadata,
			 FIXTURE_DATA(deleg) *self, const struct hs_script *s,
			 uint32_t timeout_ms, int err)
{
	struct sockaddr_storage srv;
	socklen_t srvlen;
	int lfd, app, peer;

	daemon_start(_metadata, self, s);
	lfd = plain_listener(_metadata, self, AF_INET, &srv, &srvlen);
	app = hs_socket(_metadata, self, AF_INET, timeout_ms);
	EXPECT_EQ(err, connect_err(app, &srv, srvlen))
		TH_LOG("connect: %s", strerror(err));
	expect_failed(_metadata, app, err);
	peer = keep(self, accept(lfd, NULL, NULL));
	ASSERT_LE(0, peer);
	expect_shut(_metadata, peer, "failed handshake");
}

/* The daemon exits (netlink socket and descriptor closed) without DONE. */
TEST_F(deleg, daemon_exit)
{
	static const struct hs_script quits = { .exit_early = true };

	failing_case(_metadata, self, &quits, HS_TIMEOUT_MS, ECONNABORTED);
	daemon_req(_metadata, self);
	EXPECT_EQ(0, daemon_reap(self));
}

/*
 * A daemon that closes its descriptor without DONE while it lives on looks
 * like one still working (the descriptor shares the application's file):
 * the handshake ends at its timeout, and nothing leaks (handshake.rst,
 * Errors).
 */
TEST_F(deleg, daemon_closes_socket)
{
	static const struct hs_script closes = { .close_early = true };

	failing_case(_metadata, self, &closes, 1000, ETIMEDOUT);
	daemon_req(_metadata, self);
	daemon_go(_metadata, self);
	EXPECT_EQ(0, daemon_reap(self));
}

/* ------------------------------------------------------------------ */
/* 7. timeouts                                                         */

/* Queued but never taken in time: ETIMEDOUT, and nothing stays queued. */
TEST_F(deleg, timeout_queued)
{
	static const struct hs_script late = { .ready_then_wait = true };
	struct report r;

	failing_case(_metadata, self, &late, SHORT_MS, ETIMEDOUT);
	r = daemon_expect(_metadata, self, R_READY);
	EXPECT_EQ(1, r.pending);
	daemon_go(_metadata, self);
	r = daemon_expect(_metadata, self, R_REQ);
	EXPECT_EQ(-ENOENT, r.ret);
	EXPECT_EQ(0, daemon_reap(self));
}

/*
 * Taken but not finished in time: ETIMEDOUT; the daemon's blocked read
 * comes back, and its late DONE is refused.
 */
TEST_F(deleg, timeout_running)
{
	static const struct hs_script slow = { .read_until_shut = true };
	struct report r;

	failing_case(_metadata, self, &slow, SHORT_MS, ETIMEDOUT);
	daemon_req(_metadata, self);
	r = daemon_expect(_metadata, self, R_READ);
	EXPECT_TRUE(r.ret == 0 || r.ret == -ETIMEDOUT)
		TH_LOG("the daemon's read: %d (%s)", r.ret, strerror(-r.ret));
	r = daemon_expect(_metadata, self, R_DONE);
	EXPECT_EQ(-EINVAL, r.ret) TH_LOG("late DONE: %s", strerror(-r.ret));
	EXPECT_EQ(0, daemon_reap(self));
}

/* ------------------------------------------------------------------ */
/* 8. DONE and ACCEPT validation                                       */

/* DONE for what is no handshake of the caller; ACCEPT with none queued. */
TEST_F(deleg, done_invalid)
{
	struct tapsec_hs_result res = { .status = 0 };
	struct tapsec_hs_req req;
	struct tapsec_nl nl;
	int fds[3];
	int i;

	fds[0] = keep(self, socket(AF_INET, SOCK_STREAM, 0));	/* TCP */
	fds[1] = keep(self, socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC));
	fds[2] = hs_socket(_metadata, self, AF_INET, HS_TIMEOUT_MS);	/* idle */
	ASSERT_EQ(0, tapsec_nl_open(&nl));
	for (i = 0; i < 3; i++) {
		ASSERT_LE(0, fds[i]);
		res.fd = fds[i];
		EXPECT_EQ(-EINVAL, tapsec_nl_hs_done(&nl, &res)) TH_LOG("socket %d", i);
	}
	EXPECT_EQ(-ENOENT, tapsec_nl_hs_accept(&nl, &req));
	tapsec_nl_close(&nl);
	EXPECT_EQ(TAPSEC_HS_IDLE, hs_info(_metadata, fds[2]).state);
}

/* Success without both keys is EPROTO. */
TEST_F(deleg, done_without_keys)
{
	static const struct hs_script no_keys = { .keys = KEYS_NONE };
	static const struct hs_script tx_only = { .keys = KEYS_TX };

	failing_case(_metadata, self, &no_keys, HS_TIMEOUT_MS, EPROTO);
	daemon_req(_metadata, self);
	daemon_done(_metadata, self);
	EXPECT_EQ(0, daemon_reap(self));

	failing_case(_metadata, self, &tx_only, HS_TIMEOUT_MS, EPROTO);
	daemon_req(_metadata, self);
	daemon_done(_metadata, self);
	EXPECT_EQ(0, daemon_reap(self));
}

/*
 * The daemon installs TLS 1.3 AES-128-GCM keys on a socket that allows
 * only TLS 1.2, or only ChaCha20-Poly1305: its DONE fails the handshake
 * (EPROTO, hs_bad_keys) rather than let it downgrade the socket.
 */
static void bad_keys_case(struct __test_metadata *_metadata,
			  FIXTURE_DATA(deleg) *self, bool by_version)
{
	static const struct hs_script keys_done = { .keys = KEYS_BOTH };
	struct tapsec_versions tls12 = {
		.min = TAPSEC_TLS_1_2_VERSION, .max = TAPSEC_TLS_1_2_VERSION,
	};
	uint16_t chacha = TAPSEC_CIPHER_CHACHA20_POLY1305;
	struct sockaddr_storage srv;
	socklen_t srvlen;
	int lfd, app, peer;

	daemon_start(_metadata, self, &keys_done);
	lfd = plain_listener(_metadata, self, AF_INET, &srv, &srvlen);
	app = hs_socket(_metadata, self, AF_INET, HS_TIMEOUT_MS);
	if (by_version) {
		ASSERT_EQ(0, setsockopt(app, SOL_TAPSEC, TAPSEC_VERSIONS,
					&tls12, sizeof(tls12)));
	} else {
		ASSERT_EQ(0, setsockopt(app, SOL_TAPSEC, TAPSEC_CIPHERS,
					&chacha, sizeof(chacha)));
	}
	EXPECT_EQ(EPROTO, connect_err(app, &srv, srvlen));
	expect_failed(_metadata, app, EPROTO);
	EXPECT_EQ(1, CNT(app, hs_bad_keys));
	peer = keep(self, accept(lfd, NULL, NULL));
	ASSERT_LE(0, peer);
	expect_shut(_metadata, peer, "downgraded handshake");
	daemon_req(_metadata, self);
	daemon_done(_metadata, self);
	EXPECT_EQ(0, daemon_reap(self));
}

CASE(done_bad_version, bad_keys_case, true)
CASE(done_bad_cipher, bad_keys_case, false)

/*
 * DONE from a netlink socket that did not take the handshake, or a second
 * one, is refused and changes nothing.
 */
TEST_F(deleg, done_once_by_owner)
{
	static const struct hs_script checks = {
		.keys = KEYS_BOTH, .done_checks = true, .alpn = "h2",
		.peer_identity = "CN=peer", .peer_auth = 1,
	};
	struct sockaddr_storage srv;
	socklen_t srvlen;
	struct report r;
	int app;

	daemon_start(_metadata, self, &checks);
	plain_listener(_metadata, self, AF_INET, &srv, &srvlen);
	app = hs_socket(_metadata, self, AF_INET, HS_TIMEOUT_MS);
	EXPECT_EQ(0, connect_err(app, &srv, srvlen));
	daemon_req(_metadata, self);
	r = daemon_expect(_metadata, self, R_DONE);
	EXPECT_EQ(-EINVAL, r.ret2) TH_LOG("DONE from another socket");
	EXPECT_EQ(0, r.ret);
	EXPECT_EQ(-EINVAL, r.ret3) TH_LOG("DONE again");
	EXPECT_EQ(0, daemon_reap(self));
	expect_done(_metadata, app, "h2", "CN=peer", TAPSEC_HS_F_PEER_AUTH);
}

/* ------------------------------------------------------------------ */
/* 9. events                                                           */

/* The events group hears of each outcome, with the socket's inode. */
TEST_F(deleg, events)
{
	static const struct hs_script ok = { .keys = KEYS_BOTH };
	static const struct hs_script rejected = {
		.status = EKEYREJECTED, .reason = "peer certificate rejected",
	};
	struct sockaddr_storage srv;
	socklen_t srvlen;
	struct tapsec_event ev;
	int app;

	plain_listener(_metadata, self, AF_INET, &srv, &srvlen);
	ASSERT_EQ(0, tapsec_nl_open(&self->ev));
	ASSERT_EQ(0, join_group(&self->ev, TAPSEC_MCGRP_EVENTS));

	daemon_start(_metadata, self, &ok);
	app = hs_socket(_metadata, self, AF_INET, HS_TIMEOUT_MS);
	EXPECT_EQ(0, connect_err(app, &srv, srvlen));
	EXPECT_EQ(0, daemon_reap(self));
	ASSERT_EQ(0, next_event(&self->ev, TAPSEC_CMD_EVENT, &ev, WAIT_MS));
	EXPECT_EQ(TAPSEC_EVENT_HANDSHAKE_DONE, ev.type);
	EXPECT_EQ(inode_of(app), ev.inode);
	EXPECT_EQ(0, ev.error);
	EXPECT_EQ(0, ev.lost);

	daemon_start(_metadata, self, &rejected);
	app = hs_socket(_metadata, self, AF_INET, HS_TIMEOUT_MS);
	EXPECT_EQ(EKEYREJECTED, connect_err(app, &srv, srvlen));
	EXPECT_EQ(0, daemon_reap(self));
	ASSERT_EQ(0, next_event(&self->ev, TAPSEC_CMD_EVENT, &ev, WAIT_MS));
	EXPECT_EQ(TAPSEC_EVENT_HANDSHAKE_FAILED, ev.type);
	EXPECT_EQ(inode_of(app), ev.inode);
	EXPECT_EQ(EKEYREJECTED, ev.error);
	EXPECT_STREQ("peer certificate rejected", ev.reason);
	EXPECT_EQ(0, ev.lost);

	app = hs_socket(_metadata, self, AF_INET, HS_TIMEOUT_MS);
	EXPECT_EQ(ESRCH, connect_err(app, &srv, srvlen));
	ASSERT_EQ(0, next_event(&self->ev, TAPSEC_CMD_EVENT, &ev, WAIT_MS));
	EXPECT_EQ(TAPSEC_EVENT_HANDSHAKE_FAILED, ev.type);
	EXPECT_EQ(inode_of(app), ev.inode);
	EXPECT_EQ(ESRCH, ev.error);
	EXPECT_NE('\0', ev.reason[0]);

	/* One event per handshake. */
	EXPECT_EQ(0, wait_fd(nl_socket_get_fd(self->ev.sock), POLLIN, QUIET_MS));
}

/* ------------------------------------------------------------------ */
/* external PSKs                                                       */

struct psk_seen {
	const char *identity;
	int found;
	uint32_t hash;
	struct tapsec_psk_owners owners;
};

static void psk_seen_cb(const struct tapsec_psk_entry *e, void *arg)
{
	struct psk_seen *s = arg;

	if (!strcmp(e->identity, s->identity)) {
		s->found++;
		s->hash = e->hash;
		s->owners = e->owners;
	}
}

/* The owners PSK_GET lists for @identity; nuids + ngids 0 if not found. */
static struct tapsec_psk_owners psk_owners(struct tapsec_nl *nl,
					   const char *identity)
{
	struct psk_seen s = { .identity = identity };

	tapsec_nl_psk_list(nl, psk_seen_cb, &s);
	return s.owners;
}

static int psk_listed(struct tapsec_nl *nl, const char *identity,
		      uint32_t *hash)
{
	struct psk_seen s = { .identity = identity };

	if (tapsec_nl_psk_list(nl, psk_seen_cb, &s))
		return -1;
	if (hash)
		*hash = s.hash;
	return s.found;
}

/* PSK_ADD, PSK_DEL and PSK_GET: validation and permissions. */
TEST_F(deleg, psk_store)
{
	uint8_t big[TAPSEC_PSK_KEY_MAX + 1] = { 0 }, key[TAPSEC_PSK_KEY_MAX];
	char long_id[TAPSEC_PSK_IDENTITY_MAX + 2];
	struct tapsec_psk_owners own;
	struct tapsec_nl nl;
	uint32_t keylen;
	uint32_t hash;
	int status, fd, pfd[2];
	pid_t pid;

	ASSERT_EQ(0, tapsec_nl_open(&nl));
	tapsec_nl_psk_del(&nl, PSK_ID);
	EXPECT_EQ(0, tapsec_nl_psk_add(&nl, PSK_ID, psk_key, sizeof(psk_key), -1));
	EXPECT_EQ(1, psk_listed(&nl, PSK_ID, &hash));
	EXPECT_EQ(TAPSEC_PSK_HASH_SHA256, hash);
	EXPECT_EQ(-EEXIST, tapsec_nl_psk_add(&nl, PSK_ID, psk_key,
					     sizeof(psk_key), -1));
	/* A new key for an identity: delete, then add. */
	EXPECT_EQ(0, tapsec_nl_psk_del(&nl, PSK_ID));
	EXPECT_EQ(0, tapsec_nl_psk_add(&nl, PSK_ID, psk_key, sizeof(psk_key),
				       TAPSEC_PSK_HASH_SHA384));
	EXPECT_EQ(1, psk_listed(&nl, PSK_ID, &hash));
	EXPECT_EQ(TAPSEC_PSK_HASH_SHA384, hash);
	/* Keys of 16 to 64 bytes, identities of 1 to 128, known hashes. */
	EXPECT_EQ(-EINVAL, tapsec_nl_psk_add(&nl, PSK_OTHER, psk_key,
					     TAPSEC_PSK_KEY_MIN - 1, -1));
	EXPECT_NE(0, tapsec_nl_psk_add(&nl, PSK_OTHER, big, sizeof(big), -1));
	EXPECT_EQ(-EINVAL, tapsec_nl_psk_add(&nl, "", psk_key, sizeof(psk_key), -1));
	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	EXPECT_NE(0, tapsec_nl_psk_add(&nl, long_id, psk_key, sizeof(psk_key), -1));
	EXPECT_NE(0, tapsec_nl_psk_add(&nl, PSK_OTHER, psk_key, sizeof(psk_key), 7));
	EXPECT_EQ(0, psk_listed(&nl, PSK_OTHER, NULL));
	EXPECT_EQ(-ENOENT, tapsec_nl_psk_del(&nl, PSK_OTHER));

	/* Owners: uid 0 alone by default; lists as given; bad ids refused. */
	own = psk_owners(&nl, PSK_ID);
	EXPECT_EQ(1, own.nuids);
	EXPECT_EQ(0, own.uids[0]);
	EXPECT_EQ(0, own.ngids);
	own = (struct tapsec_psk_owners){ .uids = { 1000, 1001 }, .nuids = 2,
					  .gids = { 100 }, .ngids = 1 };
	EXPECT_EQ(0, tapsec_nl_psk_add_owned(&nl, PSK_OTHER, psk_key,
					     sizeof(psk_key), -1, &own));
	own = psk_owners(&nl, PSK_OTHER);
	EXPECT_EQ(2, own.nuids);
	EXPECT_EQ(1000, own.uids[0]);
	EXPECT_EQ(1001, own.uids[1]);
	EXPECT_EQ(1, own.ngids);
	EXPECT_EQ(100, own.gids[0]);
	EXPECT_EQ(0, tapsec_nl_psk_del(&nl, PSK_OTHER));
	own = (struct tapsec_psk_owners){ .uids = { 0xffffffff }, .nuids = 1 };
	EXPECT_EQ(-EINVAL, tapsec_nl_psk_add_owned(&nl, PSK_OTHER, psk_key,
						   sizeof(psk_key), -1, &own));
	own = (struct tapsec_psk_owners){ .gids = { 0xffffffff }, .ngids = 1 };
	EXPECT_EQ(-EINVAL, tapsec_nl_psk_add_owned(&nl, PSK_OTHER, psk_key,
						   sizeof(psk_key), -1, &own));
	EXPECT_EQ(0, psk_listed(&nl, PSK_OTHER, NULL));

	/* Only an administrator touches the store, reading included. */
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct tapsec_nl unpriv;
		int r[3];

		if (setgid(65534) || setuid(65534) || tapsec_nl_open(&unpriv))
			_exit(10);
		r[0] = tapsec_nl_psk_add(&unpriv, PSK_OTHER, psk_key,
					 sizeof(psk_key), -1);
		r[1] = tapsec_nl_psk_del(&unpriv, PSK_ID);
		r[2] = psk_listed(&unpriv, PSK_ID, NULL);
		_exit(r[0] == -EPERM && r[1] == -EPERM && r[2] < 0 ? 0 : 11);
	}
	close(pfd[0]);
	close(pfd[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(1, psk_listed(&nl, PSK_ID, NULL));

	/*
	 * No key for a descriptor that is not a handshake the caller runs,
	 * nor through a setsockopt.
	 */
	ASSERT_EQ(0, pipe(pfd));
	EXPECT_EQ(-ENOTSOCK, hs_psk_get(pfd[0], PSK_ID, key, &keylen, &hash));
	close(pfd[0]);
	close(pfd[1]);
	fd = hs_socket(_metadata, self, AF_INET, HS_TIMEOUT_MS);
	ASSERT_EQ(0, set_str(fd, TAPSEC_PSK_IDENTITY, PSK_ID));
	EXPECT_EQ(-EPERM, hs_psk_get(fd, PSK_ID, key, &keylen, &hash));
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_HANDSHAKE_PSK, key,
				 sizeof(key)));
	EXPECT_EQ(EPERM, errno);
	fd = keep(self, socket(AF_INET, SOCK_STREAM, 0));
	ASSERT_LE(0, fd);
	/* TCP's own answer to a level it does not know. */
	EXPECT_GT(0, hs_psk_get(fd, PSK_ID, key, &keylen, &hash));

	EXPECT_EQ(0, tapsec_nl_psk_del(&nl, PSK_ID));
	EXPECT_EQ(-ENOENT, tapsec_nl_psk_del(&nl, PSK_ID));
	EXPECT_EQ(0, psk_listed(&nl, PSK_ID, NULL));
	tapsec_nl_close(&nl);
}

static const struct hs_script psk_completes = {
	.raw = true, .keys = KEYS_BOTH, .psk_checks = true,
	.peer_identity = PSK_ID, .peer_auth = 1, .psk = 1,
};

/*
 * The daemon running a client handshake gets the key of the socket's own
 * PSK identity, and of no other; no other process gets it.
 */
TEST_F(deleg, psk_handshake)
{
	struct tapsec_nl nl;
	struct tapsec_hs_req req;
	struct report r;
	int app, lfd, peer;

	ASSERT_EQ(0, tapsec_nl_open(&nl));
	tapsec_nl_psk_del(&nl, PSK_ID);
	tapsec_nl_psk_del(&nl, PSK_OTHER);
	ASSERT_EQ(0, tapsec_nl_psk_add(&nl, PSK_ID, psk_key, sizeof(psk_key), -1));
	ASSERT_EQ(0, tapsec_nl_psk_add(&nl, PSK_OTHER, psk_key,
				       sizeof(psk_key), -1));

	app = daemon_and_client(_metadata, self, &psk_completes, &lfd);
	ASSERT_EQ(0, set_str(app, TAPSEC_PSK_IDENTITY, PSK_ID));
	bg_start(_metadata, self, bg_connect, app);
	req = daemon_req(_metadata, self);
	EXPECT_STREQ(PSK_ID, req.psk_identity);
	peer = keep(self, accept(lfd, NULL, NULL));
	ASSERT_LE(0, peer);
	peer_handshake(_metadata, self, peer, false);

	r = daemon_expect(_metadata, self, R_PSK);
	EXPECT_EQ(0, r.ret) TH_LOG("own PSK: %s", strerror(-r.ret));
	EXPECT_EQ(sizeof(psk_key), r.keylen);
	EXPECT_EQ(0, memcmp(psk_key, r.key, sizeof(psk_key)));
	EXPECT_EQ(TAPSEC_PSK_HASH_SHA256, r.hash);
	EXPECT_EQ(-EPERM, r.ret2);
	EXPECT_EQ(-EPERM, r.ret3);

	daemon_done(_metadata, self);
	EXPECT_EQ(0, bg_join(&self->bg)) TH_LOG("connect: %s", strerror(errno));
	EXPECT_EQ(0, daemon_reap(self));
	expect_done(_metadata, app, "", PSK_ID,
		    TAPSEC_HS_F_PEER_AUTH | TAPSEC_HS_F_PSK);
	expect_flow(_metadata, app, peer);

	EXPECT_EQ(0, tapsec_nl_psk_del(&nl, PSK_ID));
	EXPECT_EQ(0, tapsec_nl_psk_del(&nl, PSK_OTHER));
	tapsec_nl_close(&nl);
}

/*
 * One delegated client whose socket was opened with fsuid @uid and fsgid
 * @gid asks for PSK_ID; the fake daemon's TAPSEC_HANDSHAKE_PSK answers
 * @want.  The request names the socket's owner.
 */
static void psk_owner_case(struct __test_metadata *_metadata,
			   FIXTURE_DATA(deleg) *self, uid_t uid, gid_t gid,
			   int want)
{
	struct tapsec_sock_info si;
	struct tapsec_hs_req req;
	struct report r;
	int app, lfd, peer;

	daemon_start(_metadata, self, &psk_completes);
	lfd = plain_listener(_metadata, self, AF_INET, &self->bg.addr,
			     &self->bg.addrlen);
	/* A file's credentials are its opener's: fsuid and fsgid count. */
	setfsgid(gid);
	setfsuid(uid);
	app = keep(self, socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC));
	setfsuid(0);
	setfsgid(0);
	ASSERT_LE(0, app);
	ASSERT_EQ(0, set_u32(app, TAPSEC_HANDSHAKE, TAPSEC_HANDSHAKE_DAEMON));
	ASSERT_EQ(0, set_u32(app, TAPSEC_HANDSHAKE_TIMEOUT, HS_TIMEOUT_MS));
	ASSERT_EQ(0, set_str(app, TAPSEC_PSK_IDENTITY, PSK_ID));
	bg_start(_metadata, self, bg_connect, app);
	req = daemon_req(_metadata, self);
	EXPECT_TRUE(req.has_cred);
	EXPECT_EQ(uid, req.uid);
	EXPECT_EQ(gid, req.gid);
	peer = keep(self, accept(lfd, NULL, NULL));
	ASSERT_LE(0, peer);
	peer_handshake(_metadata, self, peer, false);
	r = daemon_expect(_metadata, self, R_PSK);
	EXPECT_EQ(want, r.ret) TH_LOG("uid %u gid %u: %s", uid, gid,
				      strerror(-r.ret));
	if (!want) {
		EXPECT_EQ(sizeof(psk_key), r.keylen);
		EXPECT_EQ(0, memcmp(psk_key, r.key, sizeof(psk_key)));
	}
	daemon_done(_metadata, self);
	EXPECT_EQ(0, bg_join(&self->bg));
	EXPECT_EQ(0, daemon_reap(self));
	ASSERT_EQ(sizeof(si), get_opt(_metadata, app, TAPSEC_SOCK_INFO, &si,
				      sizeof(si)));
	EXPECT_EQ(want == -EACCES, si.counters.psk_denied);
	drop(self, app);
	drop(self, peer);
	drop(self, lfd);
}

/*
 * Who may use a PSK is the kernel's to enforce: the daemon gets the key
 * only for a socket whose owner is one of the PSK's (issue 13, item 4).
 */
TEST_F(deleg, psk_owners)
{
	struct tapsec_psk_owners own = {
		.uids = { 4242 }, .nuids = 1, .gids = { 4343 }, .ngids = 1,
	};
	struct tapsec_counters before, after;
	struct tapsec_nl nl;

	ASSERT_EQ(0, tapsec_nl_open(&nl));
	tapsec_nl_psk_del(&nl, PSK_ID);
	ASSERT_EQ(0, tapsec_nl_psk_add_owned(&nl, PSK_ID, psk_key,
					     sizeof(psk_key), -1, &own));
	ASSERT_EQ(0, tapsec_nl_get_stats(&nl, &before));
	psk_owner_case(_metadata, self, 4242, 4242, 0);		/* by uid */
	psk_owner_case(_metadata, self, 4141, 4343, 0);		/* by gid */
	psk_owner_case(_metadata, self, 0, 0, -EACCES);		/* root: no */
	psk_owner_case(_metadata, self, 4141, 4141, -EACCES);
	ASSERT_EQ(0, tapsec_nl_get_stats(&nl, &after));
	EXPECT_EQ(2, after.psk_denied - before.psk_denied);

	/* Without owners: root's alone. */
	ASSERT_EQ(0, tapsec_nl_psk_del(&nl, PSK_ID));
	ASSERT_EQ(0, tapsec_nl_psk_add(&nl, PSK_ID, psk_key, sizeof(psk_key),
				       -1));
	psk_owner_case(_metadata, self, 0, 0, 0);
	psk_owner_case(_metadata, self, 4242, 4343, -EACCES);
	EXPECT_EQ(0, tapsec_nl_psk_del(&nl, PSK_ID));
	tapsec_nl_close(&nl);
}

TAPSEC_HARNESS_MAIN
