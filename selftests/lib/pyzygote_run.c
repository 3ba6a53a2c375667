// SPDX-License-Identifier: GPL-2.0
/*
 * pyzygote-run: run a Python peer of the shell suites in the zygote
 * (selftests/lib/pyzygote.py) instead of in a new interpreter.
 *
 *   pyzygote-run SOCKET MODULE [ARGS...]
 *
 * Sends MODULE and ARGS, the working directory, stdin, stdout, stderr and
 * the network namespace to the zygote listening on SOCKET, passes on the
 * signals it receives (TERM, INT, HUP, QUIT, USR1, USR2), and exits with
 * the child's status: to the shell it looks like `python3 -m MODULE
 * ARGS...` run where pyzygote-run runs.  Killed, it takes the child with
 * it.  Exit status 125: no zygote or a broken one.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define NFDS 4
#define REQ_MAX 65536

static int fail(const char *what)
{
	fprintf(stderr, "pyzygote-run: %s: %s\n", what, strerror(errno));
	return 125;
}

/* The request: cwd, module, args, NUL-separated; its length or -1. */
static ssize_t build_request(char *buf, size_t cap, int argc, char **argv)
{
	size_t len, off;
	int i;

	if (!getcwd(buf, cap))
		return -1;
	off = strlen(buf) + 1;
	for (i = 2; i < argc; i++) {
		len = strlen(argv[i]) + 1;
		if (len > cap - off) {
			errno = E2BIG;
			return -1;
		}
		memcpy(buf + off, argv[i], len);
		off += len;
	}
	return off - 1;		/* no trailing NUL: words are split on it */
}

static int send_request(int sk, const char *req, size_t len, const int *fds)
{
	union {
		char buf[CMSG_SPACE(NFDS * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)req, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(NFDS * sizeof(int));
	memcpy(CMSG_DATA(c), fds, NFDS * sizeof(int));
	return sendmsg(sk, &msg, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const int sigs[] = {
		SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
	};
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct signalfd_siginfo si;
	static char req[REQ_MAX];
	struct pollfd pfd[2];
	int fds[NFDS], sk, sfd, status, i;
	sigset_t set;
	ssize_t len;

	if (argc < 3) {
		fprintf(stderr, "usage: pyzygote-run SOCKET MODULE [ARGS...]\n");
		return 2;
	}
	if (strlen(argv[1]) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return fail(argv[1]);
	}
	strcpy(sun.sun_path, argv[1]);

	/* Signals wait in a signalfd from here on: none is lost. */
	sigemptyset(&set);
	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++)
		sigaddset(&set, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return fail("sigprocmask");
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		return fail("signalfd");

	/* A closed stdin, stdout or stderr is passed as /dev/null. */
	for (i = 0; i < 3; i++) {
		fds[i] = i;
		if (fcntl(i, F_GETFD) < 0)
			fds[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fds[i] < 0)
			return fail("/dev/null");
	}
	fds[3] = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fds[3] < 0)
		return fail("/proc/self/ns/net");

	len = build_request(req, sizeof(req), argc, argv);
	if (len < 0)
		return fail("request");
	sk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return fail("socket");
	if (connect(sk, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		return fail(argv[1]);
	if (send_request(sk, req, len, fds) < 0)
		return fail("sendmsg");

	pfd[0] = (struct pollfd){ .fd = sk, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return fail("poll");
		}
		if (pfd[1].revents & POLLIN) {
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				return fail("signalfd read");
			status = (int)si.ssi_signo;
			/* The zygote's end is gone: the reply below says why. */
			(void)send(sk, &status, sizeof(status), MSG_NOSIGNAL);
		}
		if (pfd[0].revents) {
			len = recv(sk, &status, sizeof(status), 0);
			if (len == sizeof(status))
				return status & 0xff;
			fprintf(stderr, "pyzygote-run: the zygote closed %s\n",
				argv[1]);
			return 125;
		}
	}
}
