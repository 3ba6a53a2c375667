// SPDX-License-Identifier: GPL-2.0
/*
 * tls_client: a TLS client on a tapsec socket whose handshake
 * tapsec-handshaked runs (Documentation/guide.rst walks through it).
 *
 *   tls_client HOST PORT SERVER-NAME [TRUST [MESSAGE]]
 *
 * Connects to HOST:PORT; the daemon checks that the server is SERVER-NAME,
 * with a certificate from its trust store TRUST ("" or none: the daemon's
 * default one).  Sends MESSAGE (default: a line read from stdin), prints
 * the reply and ends the connection with a close_notify.
 *
 * Exit status: 0 done, 1 a system or network error, 2 bad usage,
 * 3 the handshake failed.
 */
#define PROG "tls_client"
#include "tapsec_example.h"	/* fail(), err_str(), ...; linux/tapsec.h */

static void usage(void)
{
	fprintf(stderr,
		"usage: tls_client HOST PORT SERVER-NAME [TRUST [MESSAGE]]\n"
		"  TLS to HOST:PORT, the handshake run by tapsec-handshaked: the\n"
		"  server must be SERVER-NAME, its certificate from the daemon's\n"
		"  trust store TRUST (default: the default store).  Sends MESSAGE\n"
		"  (default: a line of stdin) and prints the reply.\n");
	exit(2);
}

/* What the handshake gave: version and cipher, and who the server is. */
static void print_session(int fd)
{
	struct tapsec_sock_info si;
	struct tapsec_handshake_info hi;
	char peer[256];

	get_opt(fd, TAPSEC_SOCK_INFO, "getsockopt TAPSEC_SOCK_INFO", &si,
		sizeof(si));
	get_opt(fd, TAPSEC_HANDSHAKE_INFO, "getsockopt TAPSEC_HANDSHAKE_INFO",
		&hi, sizeof(hi));
	peer_identity(fd, peer);
	printf("version: %s, cipher: %s\n", version_name(si.tx_version),
	       cipher_name(si.tx_cipher));
	printf("server: %s%s\n", peer[0] ? peer : "(no identity)",
	       hi.flags & TAPSEC_HS_F_PEER_AUTH ? " (authenticated)" : "");
}

int main(int argc, char **argv)
{
	struct addrinfo *ai;
	int fd, err;
	char line[4096], reply[4096];
	size_t len, got = 0;
	ssize_t n;

	len = client_args(argc, argv, line, sizeof(line));
	ai = resolve(argv[1], argv[2], SOCK_STREAM);
	/* A tapsec socket: TCP on the wire, TLS records in the kernel. */
	fd = tapsec_socket(ai->ai_family, SOCK_STREAM);
	/* Before connect(): the daemon runs the handshake, as told here. */
	client_handshake(fd, argv[3], argc >= 5 ? argv[4] : NULL);

	/* TCP's handshake, then TLS's: returns when the keys are in. */
	err = connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 ? errno : 0;
	freeaddrinfo(ai);
	if (err) {
		err = connect_failed(fd, err);	/* TAPSEC_HANDSHAKE_INFO */
		if (err == ESRCH)
			fprintf(stderr, "tls_client: is tapsec-handshaked "
				"running in this network namespace?\n");
		return err < 0 ? 1 : 3;		/* -1: no handshake was run */
	}
	print_session(fd);

	/* Plain send() and recv() from here on: the kernel seals records. */
	for (size_t off = 0; off < len; off += n) {
		n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0)
			fail("send", errno);
	}
	/* The reply: up to its newline, whatever records it came in. */
	while (got < sizeof(reply) - 1 && !memchr(reply, '\n', got)) {
		n = recv(fd, reply + got, sizeof(reply) - 1 - got, 0);
		if (n < 0)	/* EBADMSG: a forged record; ECONNABORTED: */
			fail("recv", errno);	/* TCP closed, no close_notify */
		if (!n)
			break;
		got += n;
	}
	if (!got) {
		fprintf(stderr, "tls_client: the server closed without a reply\n");
		return 1;
	}
	reply[got] = '\0';
	printf("reply: %.*s\n", (int)strcspn(reply, "\n"), reply);

	/* A close_notify alert, then TCP's FIN; wait for the server's. */
	if (shutdown(fd, SHUT_WR) < 0)
		fail("shutdown", errno);
	while ((n = recv(fd, reply, sizeof(reply), 0)) > 0)
		;
	if (n < 0)
		fail("recv after shutdown", errno);
	if (close(fd) < 0)
		fail("close", errno);
	return 0;
}
