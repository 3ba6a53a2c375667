// SPDX-License-Identifier: GPL-2.0
/*
 * dtls_server: a DTLS 1.2 echo server on a tapsec datagram listener whose
 * handshakes tapsec-handshaked runs (Documentation/guide.rst).
 *
 *   dtls_server PORT IDENTITY [COUNT]
 *
 * Listens on UDP PORT (IPv6 and IPv4) with the certificate of the daemon's
 * [identity IDENTITY].  For each of COUNT clients (default: no end) it
 * sends every record back until the client's close_notify, or 10 s of
 * silence.  One client at a time: a real server would poll many.
 *
 * Exit status: 0 every client done, 1 an error or a failed handshake,
 * 2 bad usage.
 */
#define PROG "dtls_server"
#include "tapsec_example.h"	/* fail(), err_str(), ...; linux/tapsec.h */

static void usage(void)
{
	fprintf(stderr,
		"usage: dtls_server PORT IDENTITY [COUNT]\n"
		"  DTLS on UDP PORT, the handshakes run by tapsec-handshaked with\n"
		"  its [identity IDENTITY]; echoes the records of each of COUNT\n"
		"  clients (default: no end).\n");
	exit(2);
}

/*
 * A DTLS listener: a bound, unconnected DTLS socket on which listen() was
 * called.  accept() answers ClientHellos with a cookie (no state kept for
 * a client before it echoes it) and returns one connected socket per
 * client.  IPv6 taking IPv4 too, or IPv4 alone where there is no IPv6.
 */
static int listen_on(int port, const char *identity)
{
	int proto = TAPSEC_PROTO_DTLS;
	int v6, fd = listener_socket(SOCK_DGRAM, &v6);

	/* The record protocol first: the handshake options need it. */
	if (setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &proto,
		       sizeof(proto)) < 0)
		fail("setsockopt TAPSEC_PROTOCOL", errno);
	server_handshake(fd, identity);
	bind_any(fd, v6, port);
	if (listen(fd, 0) < 0)		/* the backlog means nothing here */
		fail("listen", errno);
	return fd;
}

/* Who connected, what was negotiated, how large a record may be. */
static void print_session(int fd, long n)
{
	struct tapsec_sock_info si;
	char host[NI_MAXHOST], port[NI_MAXSERV];
	int max;

	peer_address(fd, host, port);
	get_opt(fd, TAPSEC_SOCK_INFO, "getsockopt TAPSEC_SOCK_INFO", &si,
		sizeof(si));
	get_opt(fd, TAPSEC_MAX_PAYLOAD, "getsockopt TAPSEC_MAX_PAYLOAD", &max,
		sizeof(max));
	printf("connection %ld from %s port %s: version: %s, cipher: %s, "
	       "max payload: %d bytes\n", n, host, port,
	       version_name(si.tx_version), cipher_name(si.tx_cipher), max);
}

/* Echo each record (one recv() is one record) until the end.  0 or -1. */
static int serve(int fd, long n)
{
	char buf[16384];		/* the largest DTLS plaintext */
	long records = 0;
	ssize_t r;

	recv_timeout(fd, 10);
	while ((r = recv(fd, buf, sizeof(buf), 0)) > 0) {
		if (send(fd, buf, r, 0) < 0)
			return conn_error(n, "send", errno);
		records++;
	}
	/* 0: close_notify.  EAGAIN: silence (it may have been lost). */
	if (r < 0 && errno != EAGAIN)	/* ECONNRESET: a fatal alert */
		return conn_error(n, "recv", errno);
	printf("connection %ld: echoed %ld record%s, then %s\n", n, records,
	       records == 1 ? "" : "s", r ? "silence" : "close_notify");
	return 0;
}

int main(int argc, char **argv)
{
	long count;	/* server_args(): PORT and COUNT, or usage() */
	int lfd = listen_on(server_args(argc, argv, &count), argv[2]);

	printf("listening on UDP port %s, identity %s\n", argv[1], argv[2]);
	return serve_clients(lfd, count, print_session, serve);
}
