/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the datagram engines' tests (esp_test.c, wg_test.c): two
 * sockets on loopback, and a plain UDP "tap" between them that captures
 * one's packets and forwards them, as they were or altered, to the
 * other.  The tests' wire fixtures hold int a, tap, b and the address
 * to_b (to_b_len) the tap forwards to.
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

#endif /* TAPSEC_DGRAM_TEST_H */
