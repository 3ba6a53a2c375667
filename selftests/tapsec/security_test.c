// SPDX-License-Identifier: GPL-2.0
/*
 * Regression tests of the holes Documentation/security.rst lists, where
 * they need no daemon, DTLS peer or fault injection of their own (those
 * are in deleg_test, dtls_test, keyupdate_test and fault_test):
 *
 *  - passthru: options tapsec does not pass to TCP, UDP or IPv6
 *    (IPV6_ADDRFORM, TCP_REPAIR*, TCP_ZEROCOPY_RECEIVE, UDP_ENCAP,
 *    UDP_SEGMENT, UDP_GRO, UDP_CORK), sockmap, connect(AF_UNSPEC) once
 *    committed;
 *  - connect_race: two threads connecting one delegated socket queue one
 *    handshake;
 *  - crypto_info_two_readers: a crypto_info whose cipher changes while
 *    the kernel reads it installs nothing of the kernel's stack;
 *  - mcast_admin_only: only CAP_NET_ADMIN joins the multicast groups;
 *  - dtls_listener_port_owned: no other user binds a DTLS listener's port;
 *  - readback_negative_optlen: a negative optlen gets EINVAL.
 *
 * Runs inside a VM with tapsec.ko loaded, as root.
 */
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "tapsec_harness.h"
#include "tapsec_test.h"
#include "tapsec_test_util.h"
#include "tapsec_nl.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define TLS13	TAPSEC_TLS_1_3_VERSION
#define DTLS12	TAPSEC_DTLS_1_2_VERSION
#define GCM128	TAPSEC_CIPHER_AES_GCM_128
#define GCM256	TAPSEC_CIPHER_AES_GCM_256

/* The first byte of @p that is not @c, or NULL. */
static const uint8_t *memchr_inv_u8(const uint8_t *p, uint8_t c, size_t n)
{
	for (; n; n--, p++)
		if (*p != c)
			return p;
	return NULL;
}

/* TCP_ZEROCOPY_RECEIVE's argument as the kernel has it (glibc's is older). */
struct tt_zerocopy_receive {
	uint64_t address;
	uint32_t length;
	uint32_t recv_skip_hint;
	uint32_t inq;
	int32_t err;
	uint64_t copybuf_address;
	int32_t copybuf_len;
	uint32_t flags;
	uint64_t msg_control;
	uint64_t msg_controllen;
	uint32_t msg_flags;
	uint32_t reserved;
};

static int set_int(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val));
}

/* 0 when the call failed with @err, else what it did. */
static int fails_with(int ret, int err)
{
	if (ret != -1)
		return ret == 0 ? -1 : ret;
	return errno == err ? 0 : errno;
}

/*
 * A tapsec socket of @family and @type connected over loopback to a plain
 * peer; the peer (accepted, or the UDP socket) in *@peer.  A datagram
 * socket carries DTLS.  A v4-mapped peer address when @mapped.
 */
static int connected(struct __test_metadata *_metadata, int family, int type,
		     bool mapped, int *peer)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 m = { .sin6_family = AF_INET6 };
	int pfam = mapped ? AF_INET : family, fd, lfd;
	socklen_t len;

	lfd = tt_plain_server(pfam, type, &ss, &len);
	ASSERT_LE(0, lfd);
	fd = socket(family, type, IPPROTO_TAPSEC);
	ASSERT_LE(0, fd);
	if (type == SOCK_DGRAM)
		ASSERT_EQ(0, set_int(fd, SOL_TAPSEC, TAPSEC_PROTOCOL,
				     TAPSEC_PROTO_DTLS));
	if (mapped) {
		m.sin6_port = ((struct sockaddr_in *)&ss)->sin_port;
		m.sin6_addr.s6_addr[10] = 0xff;
		m.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&m.sin6_addr.s6_addr[12],
		       &((struct sockaddr_in *)&ss)->sin_addr, 4);
		ASSERT_EQ(0, connect(fd, (struct sockaddr *)&m, sizeof(m)));
	} else {
		ASSERT_EQ(0, connect(fd, (struct sockaddr *)&ss, len));
	}
	if (type == SOCK_STREAM) {
		*peer = accept(lfd, NULL, NULL);
		ASSERT_LE(0, *peer);
		close(lfd);
	} else {
		*peer = lfd;
	}
	return fd;
}

/* Install a transmit key fitting @fd's kind. */
static int install_tx(int fd, int type)
{
	struct key k;

	if (type == SOCK_STREAM)
		key_make(&k, TLS13, GCM128, 0);
	else
		key_make(&k, DTLS12, GCM128, 1ULL << 48);
	return tapsec_key(fd, TAPSEC_TX, &k);
}

/* ------------------------------------------------------------------ */
/* options and paths that would bypass the record layer                */

FIXTURE(passthru) {
	int fd, peer;
};

FIXTURE_VARIANT(passthru) {
	int family;
	int type;
};

FIXTURE_VARIANT_ADD(passthru, inet_stream) { .family = AF_INET, .type = SOCK_STREAM };
FIXTURE_VARIANT_ADD(passthru, inet6_stream) { .family = AF_INET6, .type = SOCK_STREAM };
FIXTURE_VARIANT_ADD(passthru, inet_dgram) { .family = AF_INET, .type = SOCK_DGRAM };
FIXTURE_VARIANT_ADD(passthru, inet6_dgram) { .family = AF_INET6, .type = SOCK_DGRAM };

FIXTURE_SETUP(passthru)
{
	self->fd = -1;
	self->peer = -1;
}

FIXTURE_TEARDOWN(passthru)
{
	close_fd(&self->fd);
	close_fd(&self->peer);
}

/* What each refused option is set to. */
static const struct {
	int level, opt, type;	/* type 0: both kinds of socket */
	const char *name;
} refused[] = {
	{ SOL_IPV6, IPV6_ADDRFORM, 0, "IPV6_ADDRFORM" },
	{ SOL_TCP, TCP_REPAIR, SOCK_STREAM, "TCP_REPAIR" },
	{ SOL_TCP, TCP_REPAIR_QUEUE, SOCK_STREAM, "TCP_REPAIR_QUEUE" },
	{ SOL_TCP, TCP_QUEUE_SEQ, SOCK_STREAM, "TCP_QUEUE_SEQ" },
	{ SOL_TCP, TCP_REPAIR_OPTIONS, SOCK_STREAM, "TCP_REPAIR_OPTIONS" },
	{ SOL_TCP, TCP_REPAIR_WINDOW, SOCK_STREAM, "TCP_REPAIR_WINDOW" },
	{ SOL_UDP, UDP_ENCAP, SOCK_DGRAM, "UDP_ENCAP" },
	{ SOL_UDP, UDP_SEGMENT, SOCK_DGRAM, "UDP_SEGMENT" },
	{ SOL_UDP, UDP_GRO, SOCK_DGRAM, "UDP_GRO" },
	{ SOL_UDP, UDP_CORK, SOCK_DGRAM, "UDP_CORK" },
};

/*
 * Every option of the list is refused with EOPNOTSUPP and counted, on a
 * fresh socket and on a connected one with keys; the socket stays a
 * tapsec socket.
 */
TEST_F(passthru, refused_options)
{
	struct tt_zerocopy_receive zc;
	unsigned int i, n = 0, round;
	char buf[64] = { 0 };
	socklen_t len;
	int fd;

	for (round = 0; round < 2; round++) {
		if (round == 0) {
			fd = socket(variant->family, variant->type,
				    IPPROTO_TAPSEC);
			ASSERT_LE(0, fd);
		} else {
			fd = connected(_metadata, variant->family,
				       variant->type, false, &self->peer);
			ASSERT_EQ(0, install_tx(fd, variant->type));
		}
		self->fd = fd;
		n = 0;
		for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
			if (refused[i].type && refused[i].type != variant->type)
				continue;
			/* The values TCP/UDP/IPv6 would take. */
			EXPECT_EQ(0, fails_with(setsockopt(fd, refused[i].level,
							   refused[i].opt, buf,
							   refused[i].opt ==
							   IPV6_ADDRFORM ||
							   refused[i].opt ==
							   UDP_ENCAP ? 4 : 8),
						EOPNOTSUPP))
				TH_LOG("%s on round %u", refused[i].name, round);
			n++;
		}
		if (variant->type == SOCK_STREAM) {
			/* A copy buffer: TCP would read its queue into it. */
			memset(&zc, 0, sizeof(zc));
			zc.copybuf_address = (uintptr_t)buf;
			zc.copybuf_len = sizeof(buf);
			len = sizeof(zc);
			EXPECT_EQ(0, fails_with(getsockopt(fd, SOL_TCP,
							   TCP_ZEROCOPY_RECEIVE,
							   &zc, &len),
						EOPNOTSUPP));
			n++;
		}
		EXPECT_EQ(n, CNT(fd, opt_refused));
		/* Still tapsec's: no data without a key. */
		EXPECT_EQ(-1, recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
		EXPECT_EQ(ENOKEY, errno);
		close_fd(&self->fd);
		close_fd(&self->peer);
	}
}

/*
 * IPV6_ADDRFORM on a socket connected to a v4-mapped address is where UDP
 * would swap its proto for the plain one (data in clear, the context never
 * freed): refused, and the socket stays tapsec's.
 */
TEST_F(passthru, addrform_v4mapped)
{
	char buf[4] = "abc";

	if (variant->family != AF_INET6)
		SKIP(return, "IPv6 sockets only");
	self->fd = connected(_metadata, AF_INET6, variant->type, true,
			     &self->peer);
	EXPECT_EQ(0, fails_with(set_int(self->fd, SOL_IPV6, IPV6_ADDRFORM,
					AF_INET), EOPNOTSUPP));
	EXPECT_EQ(1, CNT(self->fd, opt_refused));
	EXPECT_EQ(-1, send(self->fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(ENOKEY, errno);
	EXPECT_EQ(1, CNT(self->fd, refused_nokey));
}

static int bpf_sys(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* sockmap would swap in the plain TCP/UDP proto: not insertable. */
TEST_F(passthru, sockmap)
{
	union bpf_attr attr;
	int map, key = 0, val;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_SOCKMAP;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	map = bpf_sys(BPF_MAP_CREATE, &attr);
	if (map < 0)
		SKIP(return, "no sockmap here: %s", strerror(errno));
	self->fd = connected(_metadata, variant->family, variant->type, false,
			     &self->peer);
	val = self->fd;
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = map;
	attr.key = (uintptr_t)&key;
	attr.value = (uintptr_t)&val;
	attr.flags = BPF_ANY;
	EXPECT_EQ(0, fails_with(bpf_sys(BPF_MAP_UPDATE_ELEM, &attr),
				EOPNOTSUPP));
	close(map);
}

/*
 * connect(AF_UNSPEC) disconnects a TCP or UDP socket for reuse: allowed
 * before keys, refused once the socket has one.
 */
TEST_F(passthru, unspec_after_keys)
{
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	int state, fd;

	fd = connected(_metadata, variant->family, variant->type, false,
		       &self->peer);
	self->fd = fd;
	EXPECT_EQ(0, connect(fd, &unspec, sizeof(unspec)));
	close_fd(&self->fd);
	close_fd(&self->peer);

	fd = connected(_metadata, variant->family, variant->type, false,
		       &self->peer);
	self->fd = fd;
	ASSERT_EQ(0, install_tx(fd, variant->type));
	EXPECT_EQ(0, fails_with(connect(fd, &unspec, sizeof(unspec)),
				EOPNOTSUPP));
	state = tinfo(_metadata, fd).state;
	EXPECT_EQ(TAPSEC_STATE_ESTABLISHED, state);
	/* Still connected: a record goes out. */
	EXPECT_EQ(3, send(fd, "abc", 3, 0));
}

/* ------------------------------------------------------------------ */
/* two connect()s of one delegated socket                              */

struct racer {
	int fd;
	const struct sockaddr_storage *to;
	socklen_t len;
	pthread_barrier_t *go;
	int ret, err;
};

static void *race_connect(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->go);
	r->ret = connect(r->fd, (const struct sockaddr *)r->to, r->len);
	r->err = errno;
	return NULL;
}

/* A delegated socket of @type, no daemon running. */
static int delegated(struct __test_metadata *_metadata, int type)
{
	int fd = socket(AF_INET, type, IPPROTO_TAPSEC);

	ASSERT_LE(0, fd);
	if (type == SOCK_DGRAM)
		ASSERT_EQ(0, set_int(fd, SOL_TAPSEC, TAPSEC_PROTOCOL,
				     TAPSEC_PROTO_DTLS));
	ASSERT_EQ(0, set_int(fd, SOL_TAPSEC, TAPSEC_HANDSHAKE,
			     TAPSEC_HANDSHAKE_DAEMON));
	return fd;
}

/* Both threads connect @fd to @to at once; both see ESRCH, one failure. */
static void race_once(struct __test_metadata *_metadata, int fd,
		      const struct sockaddr_storage *to, socklen_t len,
		      void (*meanwhile)(void *), void *arg)
{
	pthread_barrier_t go;
	struct racer r[2];
	pthread_t th[2];
	int i;

	ASSERT_EQ(0, pthread_barrier_init(&go, NULL, 3));
	for (i = 0; i < 2; i++) {
		r[i] = (struct racer){ .fd = fd, .to = to, .len = len,
				       .go = &go };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, race_connect, &r[i]));
	}
	pthread_barrier_wait(&go);
	if (meanwhile)
		meanwhile(arg);
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(-1, r[i].ret);
		EXPECT_EQ(ESRCH, r[i].err) TH_LOG("thread %d: %s", i,
						  strerror(r[i].err));
	}
	/* One handshake was queued, and failed once. */
	EXPECT_EQ(1, CNT(fd, hs_failed));
	pthread_barrier_destroy(&go);
}

/*
 * UDP: both threads pass TCP-less connect at once and reach the
 * handshake queue together.
 */
TEST(connect_race_dgram)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int i, srv, fd;

	srv = tt_plain_server(AF_INET, SOCK_DGRAM, &ss, &len);
	ASSERT_LE(0, srv);
	for (i = 0; i < 200; i++) {
		fd = delegated(_metadata, SOCK_DGRAM);
		race_once(_metadata, fd, &ss, len, NULL, NULL);
		close(fd);
		if (!_metadata->passed)
			break;
	}
	close(srv);
}

/* Let the SYN of the racing connect()s through: a place in the queue. */
static void accept_filler(void *arg)
{
	int *fds = arg, c;

	usleep(200 * 1000);	/* both connect()s wait in SYN_SENT */
	c = accept(fds[0], NULL, NULL);
	if (c >= 0)
		close(c);
	close(fds[1]);
}

/*
 * TCP: the second blocking connect() made while the first waits in
 * SYN_SENT waits too; both come back once TCP is connected.  The
 * listener's queue is full, so the SYN is dropped until a retransmission
 * after it was emptied.
 */
TEST(connect_race_stream)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int i, lfd, fd, fds[2];

	for (i = 0; i < 2; i++) {
		lfd = socket(AF_INET, SOCK_STREAM, 0);
		ASSERT_LE(0, lfd);
		ASSERT_EQ(0, tt_bind_loopback(lfd, AF_INET, &ss, &len));
		ASSERT_EQ(0, listen(lfd, 0));
		fds[0] = lfd;
		fds[1] = socket(AF_INET, SOCK_STREAM, 0);
		ASSERT_EQ(0, connect(fds[1], (struct sockaddr *)&ss, len));
		fd = delegated(_metadata, SOCK_STREAM);
		race_once(_metadata, fd, &ss, len, accept_filler, fds);
		close(fd);
		close(lfd);
	}
}

/* ------------------------------------------------------------------ */
/* a crypto_info that changes while the kernel reads it                */

struct flipper {
	volatile uint16_t *cipher;
	volatile bool stop;
};

/* Run the calling thread on CPU @cpu only. */
static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *flip(void *arg)
{
	struct flipper *f = arg;

	pin(1);

	while (!f->stop)
		*f->cipher = *f->cipher == GCM128 ? GCM256 : GCM128;
	return NULL;
}

/*
 * The kernel reads a crypto_info twice: its header, which sizes it, then
 * the whole.  Another thread flips cipher_type between AES-GCM-128 and
 * AES-GCM-256 meanwhile, with an AES-GCM-128 sized optlen.  A key the
 * kernel takes must then be the AES-GCM-128 one it was given, never a
 * 256-bit one completed from the kernel's stack (salt and rec_seq, read
 * back, would show those bytes).  Each TLS 1.2 socket takes one key.
 */
TEST(crypto_info_two_readers)
{
	struct tapsec_crypto_info_aes_gcm_128 *ci;
	struct tapsec_crypto_info_aes_gcm_256 back;
	unsigned int installed = 0, attempts;
	struct flipper f = { 0 };
	struct timespec start, now;
	int fd = -1, peer = -1;
	socklen_t len;
	pthread_t th;

	ci = calloc(1, sizeof(back));
	ASSERT_NE(NULL, ci);
	fill_random(ci, sizeof(*ci));
	ci->info.version = TAPSEC_TLS_1_2_VERSION;
	ci->info.cipher_type = GCM128;
	f.cipher = &ci->info.cipher_type;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs");
	pin(0);
	ASSERT_EQ(0, pthread_create(&th, NULL, flip, &f));
	clock_gettime(CLOCK_MONOTONIC, &start);
	/*
	 * 3000 keys, or 20 s of trying: a debug kernel under TCG sets up a
	 * TCP pair in tens of milliseconds, and the race is tried as often
	 * as the time allows, not a fixed number of times.
	 */
	for (attempts = 0; attempts < 200000 && installed < 3000; attempts++) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= 20)
			break;
		if (fd < 0)
			fd = connected(_metadata, AF_INET, SOCK_STREAM, false,
				       &peer);
		if (setsockopt(fd, SOL_TAPSEC, TAPSEC_TX, ci, sizeof(*ci)))
			continue;
		installed++;
		len = sizeof(back);
		memset(&back, 0xaa, sizeof(back));
		ASSERT_EQ(0, getsockopt(fd, SOL_TAPSEC, TAPSEC_TX, &back, &len));
		ASSERT_EQ(GCM128, back.info.cipher_type)
			TH_LOG("attempt %u: a %u-byte key from a 40-byte option",
			       attempts, (unsigned int)len);
		ASSERT_EQ(sizeof(*ci), len);
		ASSERT_EQ(0, memcmp(((struct tapsec_crypto_info_aes_gcm_128 *)
				     &back)->salt, ci->salt, sizeof(ci->salt)));
		close_fd(&fd);
		close_fd(&peer);
	}
	f.stop = true;
	pthread_join(th, NULL);
	TH_LOG("%u keys installed in %u attempts", installed, attempts);
	EXPECT_LT(0, installed);
	free(ci);
	close_fd(&fd);
	close_fd(&peer);
}

/* ------------------------------------------------------------------ */
/* multicast groups                                                    */

/* NETLINK_ADD_MEMBERSHIP of tapsec's group @name: 0 or errno. */
static int join_raw(const char *name)
{
	struct nl_sock *s = nl_socket_alloc();
	int grp, fd, err = 0;

	if (!s || genl_connect(s)) {
		err = EIO;
		goto out;
	}
	grp = genl_ctrl_resolve_grp(s, TAPSEC_GENL_NAME, name);
	if (grp < 0) {
		err = ENOENT;
		goto out;
	}
	fd = nl_socket_get_fd(s);
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp,
		       sizeof(grp)))
		err = errno;
out:
	nl_socket_free(s);
	return err;
}

/*
 * Only CAP_NET_ADMIN joins "handshake" (which stands for a daemon) and
 * "events" (peers, reasons).
 */
TEST(mcast_admin_only)
{
	int status;
	pid_t pid;

	EXPECT_EQ(0, join_raw(TAPSEC_MCGRP_HANDSHAKE));
	EXPECT_EQ(0, join_raw(TAPSEC_MCGRP_EVENTS));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (setgid(65534) || setuid(65534))
			_exit(10);
		_exit(join_raw(TAPSEC_MCGRP_HANDSHAKE) == EPERM &&
		      join_raw(TAPSEC_MCGRP_EVENTS) == EPERM ? 0 : 11);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* ------------------------------------------------------------------ */
/* a DTLS listener's port                                              */

/*
 * A DTLS listener's children share its port; another user may not: a
 * socket of uid 65534 asking for SO_REUSEADDR and SO_REUSEPORT gets
 * EADDRINUSE (the listener used to set SO_REUSEADDR on itself, and so let
 * anyone take its ClientHellos and its children's datagrams).
 */
TEST(dtls_listener_port_owned)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd, status;
	pid_t pid;

	lfd = socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, set_int(lfd, SOL_TAPSEC, TAPSEC_PROTOCOL,
			     TAPSEC_PROTO_DTLS));
	ASSERT_EQ(0, tt_bind_loopback(lfd, AF_INET, &ss, &len));
	ASSERT_EQ(0, listen(lfd, 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd, e1, e2;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0 || set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1))
			_exit(11);
		e1 = bind(fd, (struct sockaddr *)&ss, len) ? errno : 0;
		close(fd);
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0 || set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) ||
		    set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1))
			_exit(12);
		e2 = bind(fd, (struct sockaddr *)&ss, len) ? errno : 0;
		_exit(e1 == EADDRINUSE && e2 == EADDRINUSE ? 0 : 13);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(lfd);
}

/* ------------------------------------------------------------------ */
/* lengths                                                             */

/*
 * A key read back into a buffer whose optlen is negative: EINVAL, not a
 * copy of the structure.  No SOL_TAPSEC option answers a negative optlen
 * with a copy either.
 */
TEST(readback_negative_optlen)
{
	int types[] = { SOCK_STREAM, SOCK_DGRAM }, i, fd, peer, opt;
	static uint8_t buf[4096];
	socklen_t len;

	for (i = 0; i < 2; i++) {
		fd = connected(_metadata, AF_INET, types[i], false, &peer);
		ASSERT_EQ(0, install_tx(fd, types[i]));
		memset(buf, 0x5a, sizeof(buf));
		len = (socklen_t)-1;
		EXPECT_EQ(0, fails_with(getsockopt(fd, SOL_TAPSEC, TAPSEC_TX,
						   buf, &len), EINVAL))
			TH_LOG("%s socket", i ? "datagram" : "stream");
		for (opt = TAPSEC_PROTOCOL; opt <= TAPSEC_MOVE_INTERVAL; opt++) {
			len = (socklen_t)-1;
			EXPECT_EQ(-1, getsockopt(fd, SOL_TAPSEC, opt, buf, &len))
				TH_LOG("%s socket, option %d answered",
				       i ? "datagram" : "stream", opt);
		}
		EXPECT_EQ(0x5a, buf[0]);
		EXPECT_EQ(NULL, memchr_inv_u8(buf, 0x5a, sizeof(buf)));
		close(fd);
		close(peer);
	}
}

TAPSEC_HARNESS_MAIN
