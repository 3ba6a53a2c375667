// SPDX-License-Identifier: GPL-2.0
/*
 * hs_late_ready.so: preloaded into tapsec-handshaked by handshake_test.sh
 * to make a race deterministic: a datagram that arrives while GnuTLS asks,
 * twice in a row, whether one is there (hs_pull_timeout() in
 * userspace-handshaked/hs_tls.c tells the story).
 *
 * After each datagram a thread reads from an IP socket, its next
 * zero-timeout poll() of a single descriptor first waits HS_LATE_MS, long
 * enough for the rest of the peer's flight to arrive, and then reports
 * nothing.  Every other call sees the truth.  A daemon that asks the
 * kernel again and believes the second answer then loses the peer's
 * Finished; one that holds its first answer reads it a step later.
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <time.h>

#define HS_LATE_MS	150

static _Thread_local bool read_since_poll;

static bool ip_dgram(int fd)
{
	int type = 0, domain = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len))
		return false;
	len = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len))
		return false;
	return type == SOCK_DGRAM && (domain == AF_INET || domain == AF_INET6);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	static ssize_t (*real)(int, void *, size_t, int);
	ssize_t n;
	int err;

	if (!real)
		real = (ssize_t (*)(int, void *, size_t, int))
			dlsym(RTLD_NEXT, "recv");
	n = real(fd, buf, len, flags);
	err = errno;
	if (n > 0 && !(flags & MSG_PEEK) && ip_dgram(fd))
		read_since_poll = true;
	errno = err;
	return n;
}

int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	static int (*real)(struct pollfd *, nfds_t, int);
	struct timespec late = { 0, HS_LATE_MS * 1000000L };

	if (!real)
		real = (int (*)(struct pollfd *, nfds_t, int))
			dlsym(RTLD_NEXT, "poll");
	if (nfds == 1 && timeout == 0 && read_since_poll) {
		read_since_poll = false;
		nanosleep(&late, NULL);
		fds[0].revents = 0;
		return 0;
	}
	return real(fds, nfds, timeout);
}
