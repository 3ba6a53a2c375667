/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by tapsec's kselftest-harness tests (header only: each test
 * is one binary).
 */
#ifndef TAPSEC_TEST_H
#define TAPSEC_TEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/tapsec.h>

/* A loopback address of @family with port 0 (let the kernel pick). */
static inline socklen_t tt_loopback(int family, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = in6addr_loopback;
	return sizeof(*sin6);
}

/* Bind @fd to loopback, port chosen by the kernel; fills @ss with it. */
static inline int tt_bind_loopback(int fd, int family,
				   struct sockaddr_storage *ss,
				   socklen_t *len)
{
	*len = tt_loopback(family, ss);
	if (bind(fd, (struct sockaddr *)ss, *len))
		return -1;
	return getsockname(fd, (struct sockaddr *)ss, len);
}

/* A plain TCP or UDP socket listening/bound on loopback. */
static inline int tt_plain_server(int family, int type,
				  struct sockaddr_storage *ss, socklen_t *len)
{
	int fd = socket(family, type, 0);

	if (fd < 0)
		return -1;
	if (tt_bind_loopback(fd, family, ss, len) ||
	    (type == SOCK_STREAM && listen(fd, 128))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read a whole small file (procfs) into @buf; returns bytes or -1. */
static inline ssize_t tt_read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n;
}

/* "sockets: used N" from /proc/net/sockstat, or -1. */
static inline long tt_sockets_used(void)
{
	char buf[4096], *p;

	if (tt_read_file("/proc/net/sockstat", buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "sockets: used ");
	return p ? strtol(p + strlen("sockets: used "), NULL, 10) : -1;
}

/* Read and drop exactly @len bytes from @fd; 0 on success. */
static inline int tt_drain(int fd, size_t len)
{
	char buf[16384];

	while (len) {
		ssize_t n = recv(fd, buf, len < sizeof(buf) ? len : sizeof(buf), 0);

		if (n <= 0)
			return -1;
		len -= n;
	}
	return 0;
}

#endif /* TAPSEC_TEST_H */
