// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec socket lifecycle: creation on both inet families and both types,
 * bind/connect/listen/accept/close, the TCP ULP entry point, SOL_TAPSEC
 * option validation, and that no data moves in clear before keys exist.
 * Runs inside a VM with tapsec.ko loaded (tools/check does that).
 */
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#include "tapsec_harness.h"
#include "tapsec_test.h"
#include "tapsec_nl.h"

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

FIXTURE(sock) {
	int fd;		/* the tapsec socket under test */
};

FIXTURE_VARIANT(sock) {
	int family;
	int type;
};

FIXTURE_VARIANT_ADD(sock, inet_stream) { .family = AF_INET, .type = SOCK_STREAM };
FIXTURE_VARIANT_ADD(sock, inet6_stream) { .family = AF_INET6, .type = SOCK_STREAM };
FIXTURE_VARIANT_ADD(sock, inet_dgram) { .family = AF_INET, .type = SOCK_DGRAM };
FIXTURE_VARIANT_ADD(sock, inet6_dgram) { .family = AF_INET6, .type = SOCK_DGRAM };

FIXTURE_SETUP(sock)
{
	self->fd = socket(variant->family, variant->type, IPPROTO_TAPSEC);
	ASSERT_LE(0, self->fd) TH_LOG("socket: %s", strerror(errno));
}

FIXTURE_TEARDOWN(sock)
{
	if (self->fd >= 0)
		close(self->fd);
}

static struct tapsec_sock_info sock_info(struct __test_metadata *_metadata,
					 int fd)
{
	struct tapsec_sock_info info;
	socklen_t len = sizeof(info);

	memset(&info, 0xff, sizeof(info));
	EXPECT_EQ(0, getsockopt(fd, SOL_TAPSEC, TAPSEC_SOCK_INFO, &info, &len));
	EXPECT_EQ(sizeof(info), len);
	return info;
}

/* A created socket is TCP/UDP on the wire and a fresh tapsec socket. */
TEST_F(sock, create)
{
	int proto = -1, type = -1;
	socklen_t len = sizeof(proto);
	struct tapsec_sock_info info;

	ASSERT_EQ(0, getsockopt(self->fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len));
	EXPECT_EQ(variant->type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP, proto);
	len = sizeof(type);
	ASSERT_EQ(0, getsockopt(self->fd, SOL_SOCKET, SO_TYPE, &type, &len));
	EXPECT_EQ(variant->type, type);

	len = sizeof(proto);
	ASSERT_EQ(0, getsockopt(self->fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &proto, &len));
	EXPECT_EQ(variant->type == SOCK_STREAM ? TAPSEC_PROTO_TLS : TAPSEC_PROTO_NONE,
		  proto);

	info = sock_info(_metadata, self->fd);
	EXPECT_EQ(TAPSEC_STATE_NEW, info.state);
	EXPECT_EQ(TAPSEC_ORIGIN_SOCKET, info.origin);
	EXPECT_EQ(0, info.counters.refused_nokey);
}

/* Bind and connect to a plain peer on loopback, then close. */
TEST_F(sock, bind_connect_close)
{
	struct sockaddr_storage srv, me;
	socklen_t srvlen, melen;
	int lfd, afd;

	lfd = tt_plain_server(variant->family, variant->type, &srv, &srvlen);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, tt_bind_loopback(self->fd, variant->family, &me, &melen));
	ASSERT_EQ(0, connect(self->fd, (struct sockaddr *)&srv, srvlen))
		TH_LOG("connect: %s", strerror(errno));
	if (variant->type == SOCK_STREAM) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);

		afd = accept(lfd, (struct sockaddr *)&peer, &plen);
		ASSERT_LE(0, afd);
		/* The peer sees the address the tapsec socket bound. */
		EXPECT_EQ(0, memcmp(&peer, &me, melen));
		close(afd);
	}
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	close(lfd);
}

/* Without keys nothing is sent or received in clear: ENOKEY, counted. */
TEST_F(sock, data_refused_without_keys)
{
	struct sockaddr_storage srv;
	socklen_t srvlen;
	struct pollfd pfd;
	int lfd, peer = -1;
	char buf[16] = "plaintext";

	lfd = tt_plain_server(variant->family, variant->type, &srv, &srvlen);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, connect(self->fd, (struct sockaddr *)&srv, srvlen));
	peer = lfd;
	if (variant->type == SOCK_STREAM) {
		peer = accept(lfd, NULL, NULL);
		ASSERT_LE(0, peer);
	}

	EXPECT_EQ(-1, send(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(ENOKEY, errno);
	EXPECT_EQ(-1, write(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(ENOKEY, errno);

	/* The peer got nothing. */
	pfd.fd = peer;
	pfd.events = POLLIN;
	EXPECT_EQ(0, poll(&pfd, 1, 100));

	/* Data from the peer is not handed out in clear either. */
	if (variant->type == SOCK_STREAM) {
		ASSERT_EQ(sizeof(buf), send(peer, buf, sizeof(buf), 0));
	} else {
		struct sockaddr_storage me;
		socklen_t melen = sizeof(me);

		ASSERT_EQ(0, getsockname(self->fd, (struct sockaddr *)&me, &melen));
		ASSERT_EQ(sizeof(buf), sendto(peer, buf, sizeof(buf), 0,
					      (struct sockaddr *)&me, melen));
	}
	EXPECT_EQ(-1, recv(self->fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(ENOKEY, errno);

	EXPECT_EQ(3, sock_info(_metadata, self->fd).counters.refused_nokey);
	if (peer != lfd)
		close(peer);
	close(lfd);
}

/* sendfile and splice must not go around the record layer. */
TEST_F(sock, sendfile_splice_refused)
{
	struct sockaddr_storage srv;
	socklen_t srvlen;
	char path[] = "/tmp/tapsec-sendfile-XXXXXX";
	int lfd, peer = -1, file, pipefd[2];

	lfd = tt_plain_server(variant->family, variant->type, &srv, &srvlen);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, connect(self->fd, (struct sockaddr *)&srv, srvlen));
	if (variant->type == SOCK_STREAM) {
		peer = accept(lfd, NULL, NULL);
		ASSERT_LE(0, peer);
	}
	file = mkstemp(path);
	ASSERT_LE(0, file);
	unlink(path);
	ASSERT_EQ(4096, write(file, memset(alloca(4096), 'x', 4096), 4096));
	ASSERT_EQ(0, lseek(file, 0, SEEK_SET));

	EXPECT_EQ(-1, sendfile(self->fd, file, NULL, 4096));
	EXPECT_EQ(ENOKEY, errno);

	if (variant->type == SOCK_STREAM) {
		ASSERT_EQ(0, pipe(pipefd));
		ASSERT_EQ(5, send(peer, "hello", 5, 0));
		EXPECT_EQ(-1, splice(self->fd, NULL, pipefd[1], NULL, 5,
				     SPLICE_F_NONBLOCK));
		EXPECT_EQ(ENOKEY, errno);
		close(pipefd[0]);
		close(pipefd[1]);
		close(peer);
	}
	close(file);
	close(lfd);
}

/* SOL_TAPSEC validation: each misuse has its own errno. */
TEST_F(sock, protocol_option)
{
	int other = variant->type == SOCK_STREAM ? TAPSEC_PROTO_DTLS : TAPSEC_PROTO_TLS;
	int own = variant->type == SOCK_STREAM ? TAPSEC_PROTO_TLS : TAPSEC_PROTO_NONE;
	struct sockaddr_storage me;
	socklen_t melen;
	int val;
	char small = 0;

	val = other;
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &val, sizeof(val)));
	EXPECT_EQ(EPROTOTYPE, errno);
	val = 99;
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &val, sizeof(val)));
	EXPECT_EQ(EINVAL, errno);
	val = -1;
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &val, sizeof(val)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &small, sizeof(small)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_TAPSEC, TAPSEC_PROTOCOL, NULL, sizeof(val)));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_TAPSEC, 12345, &val, sizeof(val)));
	EXPECT_EQ(ENOPROTOOPT, errno);
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_TAPSEC, TAPSEC_SOCK_INFO, &val, sizeof(val)));
	EXPECT_EQ(EPERM, errno);

	if (variant->type == SOCK_DGRAM) {
		/* Past the last protocol. */
		int p = TAPSEC_PROTO_WIREGUARD + 1;

		EXPECT_EQ(-1, setsockopt(self->fd, SOL_TAPSEC, TAPSEC_PROTOCOL,
					 &p, sizeof(p)));
		EXPECT_EQ(EINVAL, errno);
		/* Without a protocol, no keys and no DTLS options. */
		EXPECT_EQ(-1, setsockopt(self->fd, SOL_TAPSEC, TAPSEC_TX, &val, sizeof(val)));
		EXPECT_EQ(EPROTONOSUPPORT, errno);
		EXPECT_EQ(-1, setsockopt(self->fd, SOL_TAPSEC, TAPSEC_REPLAY_WINDOW,
					 &val, sizeof(val)));
		EXPECT_EQ(EPROTOTYPE, errno);
		/*
		 * WireGuard, ESP and DTLS are, one after the other (esp_test
		 * and wg_test have more).
		 */
		p = TAPSEC_PROTO_WIREGUARD;
		EXPECT_EQ(0, setsockopt(self->fd, SOL_TAPSEC, TAPSEC_PROTOCOL,
					&p, sizeof(p)));
		p = TAPSEC_PROTO_ESP;
		EXPECT_EQ(0, setsockopt(self->fd, SOL_TAPSEC, TAPSEC_PROTOCOL,
					&p, sizeof(p)));
		p = TAPSEC_PROTO_DTLS;
		EXPECT_EQ(0, setsockopt(self->fd, SOL_TAPSEC, TAPSEC_PROTOCOL,
					&p, sizeof(p)));
	}

	val = own;
	EXPECT_EQ(0, setsockopt(self->fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &val, sizeof(val)));

	/* Fixed once bound: the same value is accepted, another is not. */
	ASSERT_EQ(0, tt_bind_loopback(self->fd, variant->family, &me, &melen));
	EXPECT_EQ(0, setsockopt(self->fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &val, sizeof(val)));
	val = other;
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &val, sizeof(val)));
	EXPECT_EQ(EPROTOTYPE, errno);
	if (variant->type == SOCK_DGRAM) {
		val = TAPSEC_PROTO_NONE;
		EXPECT_EQ(0, setsockopt(self->fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &val, sizeof(val)));
	}

	/* Short reads of an option are truncated like the kernel's own. */
	melen = 1;
	EXPECT_EQ(0, getsockopt(self->fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &val, &melen));
	EXPECT_EQ(1, melen);
	EXPECT_EQ(-1, getsockopt(self->fd, SOL_TAPSEC, 12345, &val, &melen));
	EXPECT_EQ(ENOPROTOOPT, errno);
	melen = -1;
	EXPECT_EQ(-1, getsockopt(self->fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &val, &melen));
	EXPECT_EQ(EINVAL, errno);
}

/* Stream sockets carry the tapsec ULP; nothing can be stacked on it. */
TEST_F(sock, stream_ulp)
{
	char name[16] = "";
	socklen_t len = sizeof(name);

	if (variant->type != SOCK_STREAM)
		SKIP(return, "stream only");
	ASSERT_EQ(0, getsockopt(self->fd, SOL_TCP, TCP_ULP, name, &len));
	EXPECT_STREQ(TAPSEC_ULP_NAME, name);
	EXPECT_EQ(-1, setsockopt(self->fd, SOL_TCP, TCP_ULP, "tls", 3));
	EXPECT_EQ(EEXIST, errno);
	/* Ordinary TCP options still work underneath. */
	len = 1;
	EXPECT_EQ(0, setsockopt(self->fd, SOL_TCP, TCP_NODELAY, &len, sizeof(int)));
}

/* Children of a tapsec listener are tapsec sockets of their own. */
TEST_F(sock, listen_accept)
{
	struct sockaddr_storage srv;
	socklen_t srvlen;
	struct tapsec_sock_info info;
	char name[16] = "";
	socklen_t len = sizeof(name);
	int cfd, afd;

	if (variant->type != SOCK_STREAM)
		SKIP(return, "stream only");
	ASSERT_EQ(0, tt_bind_loopback(self->fd, variant->family, &srv, &srvlen));
	ASSERT_EQ(0, listen(self->fd, 16));
	cfd = socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect(cfd, (struct sockaddr *)&srv, srvlen));
	afd = accept(self->fd, NULL, NULL);
	ASSERT_LE(0, afd);

	info = sock_info(_metadata, afd);
	EXPECT_EQ(TAPSEC_ORIGIN_ACCEPT, info.origin);
	EXPECT_EQ(TAPSEC_STATE_NEW, info.state);
	EXPECT_EQ(0, info.counters.refused_nokey);
	ASSERT_EQ(0, getsockopt(afd, SOL_TCP, TCP_ULP, name, &len));
	EXPECT_STREQ(TAPSEC_ULP_NAME, name);
	EXPECT_EQ(-1, send(afd, "x", 1, 0));
	EXPECT_EQ(ENOKEY, errno);
	/* The listener's own counter is its own. */
	EXPECT_EQ(1, sock_info(_metadata, afd).counters.refused_nokey);
	EXPECT_EQ(0, sock_info(_metadata, self->fd).counters.refused_nokey);
	close(afd);
	close(cfd);
}

/* Other socket types with IPPROTO_TAPSEC do not exist. */
TEST(unsupported_types)
{
	int families[] = { AF_INET, AF_INET6 };
	size_t i;

	for (i = 0; i < 2; i++) {
		EXPECT_EQ(-1, socket(families[i], SOCK_SEQPACKET, IPPROTO_TAPSEC));
		EXPECT_EQ(ESOCKTNOSUPPORT, errno);
	}
}

FIXTURE(ulp) {
	int lfd, cfd, afd;
};

FIXTURE_VARIANT(ulp) {
	int family;
};

FIXTURE_VARIANT_ADD(ulp, inet) { .family = AF_INET };
FIXTURE_VARIANT_ADD(ulp, inet6) { .family = AF_INET6 };

FIXTURE_SETUP(ulp)
{
	struct sockaddr_storage srv;
	socklen_t srvlen;

	self->lfd = tt_plain_server(variant->family, SOCK_STREAM, &srv, &srvlen);
	ASSERT_LE(0, self->lfd);
	self->cfd = socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, self->cfd);
	ASSERT_EQ(0, connect(self->cfd, (struct sockaddr *)&srv, srvlen));
	self->afd = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, self->afd);
}

FIXTURE_TEARDOWN(ulp)
{
	close(self->afd);
	close(self->cfd);
	close(self->lfd);
}

/* TCP_ULP "tapsec" upgrades a connected TCP socket (STARTTLS). */
TEST_F(ulp, upgrade)
{
	struct tapsec_sock_info info;
	char buf[8];

	/* Plain TCP first, as a STARTTLS exchange would. */
	ASSERT_EQ(4, send(self->cfd, "EHLO", 4, 0));
	ASSERT_EQ(4, recv(self->afd, buf, sizeof(buf), 0));

	ASSERT_EQ(0, setsockopt(self->cfd, SOL_TCP, TCP_ULP, TAPSEC_ULP_NAME,
				strlen(TAPSEC_ULP_NAME)))
		TH_LOG("TCP_ULP: %s", strerror(errno));
	info = sock_info(_metadata, self->cfd);
	EXPECT_EQ(TAPSEC_ORIGIN_ULP, info.origin);
	EXPECT_EQ(TAPSEC_PROTO_TLS, info.protocol);
	EXPECT_EQ(-1, send(self->cfd, "data", 4, 0));
	EXPECT_EQ(ENOKEY, errno);
	EXPECT_EQ(-1, setsockopt(self->cfd, SOL_TCP, TCP_ULP, TAPSEC_ULP_NAME,
				 strlen(TAPSEC_ULP_NAME)));
	EXPECT_EQ(EEXIST, errno);
	/* The upgraded socket is still TCP for the socket layer. */
	EXPECT_EQ(0, shutdown(self->cfd, SHUT_RDWR));
}

/* Only an established TCP socket can be upgraded. */
TEST_F(ulp, not_connected)
{
	int fd = socket(variant->family, SOCK_STREAM, 0);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, setsockopt(fd, SOL_TCP, TCP_ULP, TAPSEC_ULP_NAME,
				 strlen(TAPSEC_ULP_NAME)));
	EXPECT_EQ(ENOTCONN, errno);
	/* A listener cannot be upgraded either. */
	EXPECT_EQ(-1, setsockopt(self->lfd, SOL_TCP, TCP_ULP, TAPSEC_ULP_NAME,
				 strlen(TAPSEC_ULP_NAME)));
	EXPECT_EQ(ENOTCONN, errno);
	close(fd);
}

static long live_sockets(struct __test_metadata *_metadata)
{
	struct tapsec_info info;
	struct tapsec_nl nl;

	ASSERT_EQ(0, tapsec_nl_open(&nl));
	ASSERT_EQ(0, tapsec_nl_get_info(&nl, &info));
	tapsec_nl_close(&nl);
	return info.sockets;
}

/*
 * The live socket count once it reaches @want, or after 30 s: a closed
 * datagram socket is freed after an RCU grace period (SOCK_RCU_FREE),
 * which a loaded debug kernel can take its time over (5 s were too few
 * for "sockets: used" once, with three guests' work on two CPUs).
 */
static long settled_sockets(struct __test_metadata *_metadata, long want)
{
	long n = live_sockets(_metadata);
	int i;

	for (i = 0; i < 3000 && n != want; i++) {
		usleep(10000);
		n = live_sockets(_metadata);
	}
	return n;
}

/* As settled_sockets(), for the netns's "sockets: used" of sockstat. */
static long settled_used(long want)
{
	long n = tt_sockets_used();
	int i;

	for (i = 0; i < 3000 && n != want; i++) {
		usleep(10000);
		n = tt_sockets_used();
	}
	return n;
}

/*
 * 2,000 create/close cycles per kind leave nothing behind.  8,000 sockets
 * under KASAN and TCG take longer than the harness's default 30 s on the
 * debug kernel when another guest shares the host: 300 s.
 */
FIXTURE(cycles) {};
FIXTURE_SETUP(cycles) {}
FIXTURE_TEARDOWN(cycles) {}

TEST_F_TIMEOUT(cycles, create_close_cycles, 300)
{
	int kinds[][2] = {
		{ AF_INET, SOCK_STREAM }, { AF_INET6, SOCK_STREAM },
		{ AF_INET, SOCK_DGRAM }, { AF_INET6, SOCK_DGRAM },
	};
	long base_live, base_used;
	int i, k, fd;

	base_live = live_sockets(_metadata);
	base_used = tt_sockets_used();
	ASSERT_LE(0, base_used);
	for (k = 0; k < 4; k++) {
		for (i = 0; i < 2000; i++) {
			fd = socket(kinds[k][0], kinds[k][1], IPPROTO_TAPSEC);
			ASSERT_LE(0, fd);
			ASSERT_EQ(0, close(fd));
		}
	}
	EXPECT_EQ(base_live, settled_sockets(_metadata, base_live));
	EXPECT_EQ(base_used, settled_used(base_used));
}

/* Connected sockets, accepted children included, are all released. */
TEST(connect_accept_cycles)
{
	struct sockaddr_storage srv;
	socklen_t srvlen;
	long base_live;
	int i, lfd, cfd, afd;

	base_live = live_sockets(_metadata);
	lfd = socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, tt_bind_loopback(lfd, AF_INET, &srv, &srvlen));
	ASSERT_EQ(0, listen(lfd, 128));
	for (i = 0; i < 300; i++) {
		cfd = socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC);
		ASSERT_LE(0, cfd);
		ASSERT_EQ(0, connect(cfd, (struct sockaddr *)&srv, srvlen));
		afd = accept(lfd, NULL, NULL);
		ASSERT_LE(0, afd);
		EXPECT_EQ(base_live + 3, live_sockets(_metadata));
		close(afd);
		close(cfd);
		/* TCP destroys closed sockets after close() returns. */
		ASSERT_EQ(base_live + 1, settled_sockets(_metadata, base_live + 1));
	}
	close(lfd);
	EXPECT_EQ(base_live, settled_sockets(_metadata, base_live));
}

TAPSEC_HARNESS_MAIN
