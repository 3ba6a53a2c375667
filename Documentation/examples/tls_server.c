// SPDX-License-Identifier: GPL-2.0
/*
 * tls_server: a TLS echo server on a tapsec listener whose handshakes
 * tapsec-handshaked runs (Documentation/guide.rst walks through it).
 *
 *   tls_server PORT IDENTITY [COUNT]
 *
 * Listens on PORT (IPv6 and IPv4), presents the certificate of the
 * daemon's [identity IDENTITY], and for each of COUNT connections (default:
 * no end) sends back the first line the client sends, then closes.
 *
 * Exit status: 0 every connection done, 1 an error or a failed handshake,
 * 2 bad usage.
 */
#define PROG "tls_server"
#include "tapsec_example.h"	/* fail(), err_str(), ...; linux/tapsec.h */

static void usage(void)
{
	fprintf(stderr,
		"usage: tls_server PORT IDENTITY [COUNT]\n"
		"  TLS on PORT, the handshakes run by tapsec-handshaked with its\n"
		"  [identity IDENTITY]; echoes one line of each of COUNT clients\n"
		"  (default: no end).\n");
	exit(2);
}

/*
 * The listener: IPv6 taking IPv4 too (v4-mapped), or IPv4 alone where the
 * kernel has no IPv6.  Handshake options set here are every child's.
 */
static int listen_on(int port, const char *identity)
{
	int v6, fd = listener_socket(SOCK_STREAM, &v6);

	server_handshake(fd, identity);
	/* Other levels go to TCP and IP, as on any TCP socket. */
	set_int(fd, SOL_SOCKET, SO_REUSEADDR, "setsockopt SO_REUSEADDR", 1);
	bind_any(fd, v6, port);
	if (listen(fd, 128) < 0)
		fail("listen", errno);
	return fd;
}

/* One line on the accepted, handshaken socket @fd.  0 or -1. */
static int serve(int fd, long n)
{
	char buf[4096];
	size_t got = 0;
	ssize_t r = 0;

	recv_timeout(fd, 30);	/* no client holds us long */
	while (got < sizeof(buf) && !memchr(buf, '\n', got)) {
		r = recv(fd, buf + got, sizeof(buf) - got, 0);
		if (r <= 0)
			break;
		got += r;
	}
	if (r < 0)	/* EAGAIN: idle; EBADMSG, ECONNABORTED: see guide */
		return conn_error(n, "recv", errno);
	for (size_t off = 0; off < got; off += r) {
		r = send(fd, buf + off, got - off, MSG_NOSIGNAL);
		if (r < 0)
			return conn_error(n, "send", errno);
	}
	printf("connection %ld: echoed %zu bytes\n", n, got);
	/* Until the client's close_notify (0): close() then sends ours. */
	while ((r = recv(fd, buf, sizeof(buf), 0)) > 0)
		;
	if (r < 0)	/* ECONNABORTED: TCP's FIN came without close_notify */
		conn_error(n, "no close_notify", errno);
	return 0;
}

/* Who connected, and what the handshake negotiated. */
static void print_session(int fd, long n)
{
	struct tapsec_sock_info si;
	char host[NI_MAXHOST], port[NI_MAXSERV];

	peer_address(fd, host, port);
	get_opt(fd, TAPSEC_SOCK_INFO, "getsockopt TAPSEC_SOCK_INFO", &si,
		sizeof(si));
	printf("connection %ld from %s port %s: version: %s, cipher: %s\n", n,
	       host, port, version_name(si.tx_version),
	       cipher_name(si.tx_cipher));
}

int main(int argc, char **argv)
{
	long count;	/* server_args(): PORT and COUNT, or usage() */
	int lfd = listen_on(server_args(argc, argv, &count), argv[2]);

	printf("listening on port %s, identity %s\n", argv[1], argv[2]);
	return serve_clients(lfd, count, print_session, serve);
}
