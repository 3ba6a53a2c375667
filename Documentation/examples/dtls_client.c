// SPDX-License-Identifier: GPL-2.0
/*
 * dtls_client: a DTLS 1.2 client on a tapsec datagram socket whose
 * handshake tapsec-handshaked runs (Documentation/guide.rst).
 *
 *   dtls_client HOST PORT SERVER-NAME [TRUST [MESSAGE]]
 *
 * As tls_client, over UDP: the daemon checks that the server is
 * SERVER-NAME against its trust store TRUST; MESSAGE (default: a line of
 * stdin) goes out as one record in one datagram, and the first record
 * that comes back is the reply.  Nothing retransmits application data
 * but the application: without a reply in 2 s, the message is sent again,
 * three times at most.
 *
 * Exit status: 0 done, 1 a system or network error, 2 bad usage,
 * 3 the handshake failed.
 */
#define PROG "dtls_client"
#include "tapsec_example.h"	/* fail(), err_str(), ...; linux/tapsec.h */

static void usage(void)
{
	fprintf(stderr,
		"usage: dtls_client HOST PORT SERVER-NAME [TRUST [MESSAGE]]\n"
		"  DTLS to HOST:PORT, the handshake run by tapsec-handshaked: the\n"
		"  server must be SERVER-NAME, its certificate from the daemon's\n"
		"  trust store TRUST (default: the default store).  Sends MESSAGE\n"
		"  (default: a line of stdin) in one record, prints the reply.\n");
	exit(2);
}

/* Version, cipher, server identity, and the largest record payload. */
static int print_session(int fd)
{
	struct tapsec_sock_info si;
	char peer[256];
	int max;

	get_opt(fd, TAPSEC_SOCK_INFO, "getsockopt TAPSEC_SOCK_INFO", &si,
		sizeof(si));
	peer_identity(fd, peer);
	/* The path MTU less the IP, UDP and record headers: per send(). */
	get_opt(fd, TAPSEC_MAX_PAYLOAD, "getsockopt TAPSEC_MAX_PAYLOAD", &max,
		sizeof(max));
	printf("version: %s, cipher: %s, max payload: %d bytes\n",
	       version_name(si.tx_version), cipher_name(si.tx_cipher), max);
	printf("server: %s\n", peer[0] ? peer : "(no identity)");
	return max;
}

int main(int argc, char **argv)
{
	struct addrinfo *ai;
	int fd, err, tries, proto = TAPSEC_PROTO_DTLS;
	char line[4096], reply[16384 + 1];
	size_t len;
	ssize_t n = -1;

	len = client_args(argc, argv, line, sizeof(line));
	ai = resolve(argv[1], argv[2], SOCK_DGRAM);
	/* UDP on the wire; the protocol comes first, before other options. */
	fd = tapsec_socket(ai->ai_family, SOCK_DGRAM);
	if (setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &proto,
		       sizeof(proto)) < 0)
		fail("setsockopt TAPSEC_PROTOCOL", errno);
	client_handshake(fd, argv[3], argc >= 5 ? argv[4] : NULL);

	/* Connects the UDP socket and runs a DTLS 1.2 handshake. */
	err = connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 ? errno : 0;
	freeaddrinfo(ai);
	if (err)	/* TAPSEC_HANDSHAKE_INFO: -1 when none was run */
		return connect_failed(fd, err) < 0 ? 1 : 3;
	if ((int)len > print_session(fd)) {	/* send() would say EMSGSIZE */
		fprintf(stderr, "dtls_client: %zu bytes do not fit a record\n",
			len);
		return 1;
	}

	recv_timeout(fd, 2);
	for (tries = 0; tries < 3 && n < 0; tries++) {
		if (send(fd, line, len, 0) < 0)	/* one record, one datagram */
			fail("send", errno);
		n = recv(fd, reply, sizeof(reply) - 1, 0);	/* one record */
		if (n < 0 && errno != EAGAIN)	/* ECONNRESET: a fatal alert */
			fail("recv", errno);
	}
	if (n <= 0) {
		fprintf(stderr, "dtls_client: %s\n", n ? "no reply" :
			"the server closed (close_notify)");
		return 1;
	}
	reply[n] = '\0';
	printf("reply: %.*s\n", (int)strcspn(reply, "\n"), reply);

	/* A close_notify alert; the server reads it as the end (0). */
	if (shutdown(fd, SHUT_WR) < 0)
		fail("shutdown", errno);
	if (close(fd) < 0)
		fail("close", errno);
	return 0;
}
