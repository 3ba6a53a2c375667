/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the datagram engines' tests (esp_test.c, wg_test.c): two
 * sockets on loopback, and a plain UDP "tap" between them that captures
 * one's packets and forwards them, as they were or altered, to the
 * other.  The tests' wire fixtures hold int a, tap, b and the address
 * to_b (to_b_len) the tap forwards to.  And the make-before-break check
 * of inbound keys both engines share (make_before_break()).
 */
#ifndef TAPSEC_DGRAM_TEST_H
#define TAPSEC_DGRAM_TEST_H

#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "tapsec_test.h"
#include "tapsec_test_util.h"

/* The local port @fd is bound to, 0 when unknown. */
static inline uint16_t port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ?
		     ((struct sockaddr_in6 *)&ss)->sin6_port :
		     ((struct sockaddr_in *)&ss)->sin_port);
}

/* bind() @fd to loopback, any port. */
static inline int bind_lo(int fd, int family)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return tt_bind_loopback(fd, family, &ss, &len);
}

/* connect() @fd to @to's loopback port. */
static inline int connect_to(int fd, int family, int to)
{
	struct sockaddr_storage ss;
	socklen_t len = tt_loopback(family, &ss);
	uint16_t port = htons(port_of(to));

	if (family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = port;
	else
		((struct sockaddr_in *)&ss)->sin_port = port;
	return connect(fd, (struct sockaddr *)&ss, len);
}

/* A datagram within @ms, or -1. */
static inline ssize_t recv_wait(int fd, void *buf, size_t len, int flags,
				int ms)
{
	if (!(wait_fd(fd, POLLIN, ms) & POLLIN))
		return -1;
	return recv(fd, buf, len, flags | MSG_DONTWAIT);
}

/* a seals @msg; the tap takes the packet into @pkt. */
static inline ssize_t capture(struct __test_metadata *_metadata, int a,
			      int tap, const char *msg, uint8_t *pkt,
			      size_t size)
{
	ssize_t n;

	EXPECT_EQ(strlen(msg), send(a, msg, strlen(msg), 0));
	n = recv_wait(tap, pkt, size, 0, 5000);
	EXPECT_LT(0, n);
	return n;
}

/* The tap sends @len bytes of @pkt on to b. */
#define fwd(self, pkt, len)						\
	sendto((self)->tap, pkt, len, 0,				\
	       (struct sockaddr *)&(self)->to_b, (self)->to_b_len)

/* b takes nothing within a short while. */
static inline bool nothing(int b)
{
	char buf[64];

	return recv_wait(b, buf, sizeof(buf), 0, 200) < 0;
}

/*
 * An engine's key structure of @size bytes for key @n (0, 1, 2: distinct
 * SPIs or receiver indexes, none the test fixture's, a fresh key each),
 * its id first as a u32.
 */
typedef void (*sa_key_maker)(void *key, int n);

static inline uint32_t sa_key_id(const void *key)
{
	uint32_t id;

	memcpy(&id, key, sizeof(id));
	return id;
}

/*
 * Inbound keys made before they are broken, a sending to b: a new
 * inbound key leaves the one before valid as TAPSEC_RX_PREV, so packets
 * in flight under it still arrive; the same id again replaces the
 * current key only; a third id pushes the first out; TAPSEC_RX_PREV set
 * with no value retires the previous key.  Installs its own keys over
 * the fixture's, a's outbound and b's inbound.
 */
static inline void make_before_break(struct __test_metadata *_metadata,
				     int a, int b, sa_key_maker make,
				     size_t size)
{
	uint8_t k[3][64], got[64];
	socklen_t len = sizeof(got);
	char buf[8];
	int i;

	ASSERT_GE(sizeof(got), size);
	for (i = 0; i < 3; i++)
		make(k[i], i);
	ASSERT_EQ(0, setsockopt(a, SOL_TAPSEC, TAPSEC_TX, k[0], size));
	ASSERT_EQ(0, setsockopt(b, SOL_TAPSEC, TAPSEC_RX, k[0], size));
	/* The fixture's key is the previous one: retired at once. */
	ASSERT_EQ(0, getsockopt(b, SOL_TAPSEC, TAPSEC_RX_PREV, got, &len));
	EXPECT_NE(sa_key_id(k[0]), sa_key_id(got));
	ASSERT_EQ(0, setsockopt(b, SOL_TAPSEC, TAPSEC_RX_PREV, NULL, 0));
	len = sizeof(got);
	EXPECT_EQ(-1, getsockopt(b, SOL_TAPSEC, TAPSEC_RX_PREV, got, &len));
	EXPECT_EQ(ENOKEY, errno);

	ASSERT_EQ(3, send(a, "one", 3, 0));
	ASSERT_EQ(3, recv_wait(b, buf, sizeof(buf), 0, 5000));
	ASSERT_EQ(3, send(a, "two", 3, 0));	/* in flight across the rekey */
	ASSERT_EQ(0, setsockopt(b, SOL_TAPSEC, TAPSEC_RX, k[1], size));
	ASSERT_EQ(0, setsockopt(a, SOL_TAPSEC, TAPSEC_TX, k[1], size));
	ASSERT_EQ(5, send(a, "three", 5, 0));
	ASSERT_EQ(3, recv_wait(b, buf, sizeof(buf), 0, 5000));
	EXPECT_EQ(0, memcmp(buf, "two", 3));
	ASSERT_EQ(5, recv_wait(b, buf, sizeof(buf), 0, 5000));
	EXPECT_EQ(0, memcmp(buf, "three", 5));
	EXPECT_EQ(0, CNT(b, rx_bad_spi));
	len = sizeof(got);
	ASSERT_EQ(0, getsockopt(b, SOL_TAPSEC, TAPSEC_RX_PREV, got, &len));
	EXPECT_EQ(size, len);
	EXPECT_EQ(sa_key_id(k[0]), sa_key_id(got));
	len = sizeof(got);
	ASSERT_EQ(0, getsockopt(b, SOL_TAPSEC, TAPSEC_RX, got, &len));
	EXPECT_EQ(sa_key_id(k[1]), sa_key_id(got));

	/* The same id again replaces the current key; the previous stays. */
	ASSERT_EQ(0, setsockopt(b, SOL_TAPSEC, TAPSEC_RX, k[1], size));
	len = sizeof(got);
	ASSERT_EQ(0, getsockopt(b, SOL_TAPSEC, TAPSEC_RX_PREV, got, &len));
	EXPECT_EQ(sa_key_id(k[0]), sa_key_id(got));

	/* A third pushes the first out: its packets are of no key now. */
	ASSERT_EQ(0, setsockopt(b, SOL_TAPSEC, TAPSEC_RX, k[2], size));
	len = sizeof(got);
	ASSERT_EQ(0, getsockopt(b, SOL_TAPSEC, TAPSEC_RX_PREV, got, &len));
	EXPECT_EQ(sa_key_id(k[1]), sa_key_id(got));
	make(k[0], 0);		/* its id, a fresh key and counter */
	ASSERT_EQ(0, setsockopt(a, SOL_TAPSEC, TAPSEC_TX, k[0], size));
	ASSERT_EQ(3, send(a, "old", 3, 0));
	EXPECT_TRUE(nothing(b));
	EXPECT_EQ(1, CNT(b, rx_bad_spi));
	ASSERT_EQ(0, setsockopt(a, SOL_TAPSEC, TAPSEC_TX, k[2], size));
	ASSERT_EQ(4, send(a, "four", 4, 0));
	ASSERT_EQ(4, recv_wait(b, buf, sizeof(buf), 0, 5000));
	EXPECT_EQ(0, memcmp(buf, "four", 4));

	/* Retired: no value, once. */
	EXPECT_EQ(-1, setsockopt(b, SOL_TAPSEC, TAPSEC_RX_PREV, got, 4));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, setsockopt(b, SOL_TAPSEC, TAPSEC_RX_PREV, NULL, 0));
	len = sizeof(got);
	EXPECT_EQ(-1, getsockopt(b, SOL_TAPSEC, TAPSEC_RX_PREV, got, &len));
	EXPECT_EQ(ENOKEY, errno);
	EXPECT_EQ(-1, setsockopt(b, SOL_TAPSEC, TAPSEC_RX_PREV, NULL, 0));
	EXPECT_EQ(ENOKEY, errno);
	memset(k, 0, sizeof(k));
}

#endif /* TAPSEC_DGRAM_TEST_H */
