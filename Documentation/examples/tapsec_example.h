/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec_example.h: what the four examples of Documentation/guide.rst
 * (tls_client.c, tls_server.c, dtls_client.c, dtls_server.c) share, so
 * that each program keeps only what is its own.  Not a library: a program
 * defines PROG, its name in messages, and includes this first:
 *
 *   #define PROG "tls_client"
 *   #include "tapsec_example.h"
 *
 * and defines usage().  Every helper reports an error as "PROG: what:
 * ENAME (text)" and exits 1 (fail()), unless its comment says otherwise.
 * The functions are static inline so that a program that does not call
 * one is not warned about it.
 */
#ifndef TAPSEC_EXAMPLE_H
#define TAPSEC_EXAMPLE_H

#ifndef PROG
#error "define PROG, the program's name, before including tapsec_example.h"
#endif

#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* getaddrinfo(), getnameinfo(), strerrorname_np() */
#endif
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/tapsec.h>	/* -Iuapi, or pkg-config --cflags tapsec */

/* Each program's own: how it is run, on stderr; exits 2. */
static void usage(void);

/* --------------------------------------------------------- all four -- */

/*
 * "ECONNREFUSED (Connection refused)": the documentation names errors,
 * strerror() alone does not.
 */
static inline const char *err_str(int err)
{
	static char buf[128];
	const char *name = strerrorname_np(err);

	snprintf(buf, sizeof(buf), "%s (%s)", name ? name : "?", strerror(err));
	return buf;
}

/* "PROG: @what: ENAME (text)" on stderr, and exit 1. */
static inline void fail(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, err_str(err));
	exit(1);
}

/* An int option; @name for the message should it fail. */
static inline void set_int(int fd, int level, int opt, const char *name,
			   int val)
{
	if (setsockopt(fd, level, opt, &val, sizeof(val)) < 0)
		fail(name, errno);
}

/* A string option of SOL_TAPSEC (a name: no '\0' needed). */
static inline void set_str(int fd, int opt, const char *name,
			   const char *val)
{
	if (setsockopt(fd, SOL_TAPSEC, opt, val, strlen(val)) < 0)
		fail(name, errno);
}

/* Reads SOL_TAPSEC's @opt into @val, of @size bytes; returns its length. */
static inline socklen_t get_opt(int fd, int opt, const char *name, void *val,
				socklen_t size)
{
	if (getsockopt(fd, SOL_TAPSEC, opt, val, &size) < 0)
		fail(name, errno);
	return size;
}

/*
 * A tapsec socket of @family and @type: TCP (SOCK_STREAM) or UDP
 * (SOCK_DGRAM) on the wire, the records in the kernel.
 */
static inline int tapsec_socket(int family, int type)
{
	int fd = socket(family, type, IPPROTO_TAPSEC);

	if (fd < 0)
		fail(errno == EPROTONOSUPPORT ?
		     "socket (is tapsec.ko loaded?)" : "socket", errno);
	return fd;
}

/* SO_RCVTIMEO: recv() fails with EAGAIN after @sec seconds of nothing. */
static inline void recv_timeout(int fd, long sec)
{
	struct timeval tv = { .tv_sec = sec };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		fail("setsockopt SO_RCVTIMEO", errno);
}

/* TAPSEC_SOCK_INFO's tx_version (kTLS's numbers, DTLS's for DTLS). */
static inline const char *version_name(unsigned int v)
{
	return v == TAPSEC_TLS_1_3_VERSION ? "TLS 1.3" :
	       v == TAPSEC_TLS_1_2_VERSION ? "TLS 1.2" :
	       v == TAPSEC_DTLS_1_2_VERSION ? "DTLS 1.2" :
	       v == TAPSEC_DTLS_1_3_VERSION ? "DTLS 1.3" : "?";
}

/* TAPSEC_SOCK_INFO's tx_cipher. */
static inline const char *cipher_name(unsigned int c)
{
	return c == TAPSEC_CIPHER_AES_GCM_128 ? "AES-128-GCM" :
	       c == TAPSEC_CIPHER_AES_GCM_256 ? "AES-256-GCM" :
	       c == TAPSEC_CIPHER_CHACHA20_POLY1305 ? "ChaCha20-Poly1305" : "?";
}

/* ------------------------------------------------------- the clients -- */

/*
 * HOST PORT SERVER-NAME [TRUST [MESSAGE]]: usage() unless 3 to 5
 * arguments.  Puts MESSAGE, or else a line of stdin, into @line of @size
 * bytes, ending in one newline, and returns its length; exits 2 when
 * MESSAGE does not fit, 1 when stdin has no line.
 */
static inline size_t client_args(int argc, char **argv, char *line,
				 size_t size)
{
	size_t len;

	if (argc < 4 || argc > 6)
		usage();
	if (argc == 6) {
		if (strlen(argv[5]) > size - 2) {
			fprintf(stderr, PROG ": MESSAGE too long\n");
			exit(2);
		}
		strcpy(line, argv[5]);
	} else if (!fgets(line, size - 1, stdin)) {
		fprintf(stderr, PROG ": no line on stdin\n");
		exit(1);
	}
	len = strcspn(line, "\n");	/* one line, ending in a newline */
	line[len++] = '\n';
	return len;
}

/* HOST and PORT's first address for a socket of @type (freeaddrinfo()). */
static inline struct addrinfo *resolve(const char *host, const char *port,
				       int type)
{
	struct addrinfo hints = { .ai_socktype = type }, *ai;
	int err = getaddrinfo(host, port, &hints, &ai);

	if (err) {
		fprintf(stderr, PROG ": %s port %s: %s\n", host, port,
			gai_strerror(err));
		exit(1);
	}
	return ai;
}

/*
 * Before connect(): the daemon is to run the handshake, and check that
 * the server is @server_name with a certificate from its trust store
 * @trust (NULL or "": the daemon's default one).
 */
static inline void client_handshake(int fd, const char *server_name,
				    const char *trust)
{
	set_int(fd, SOL_TAPSEC, TAPSEC_HANDSHAKE, "setsockopt TAPSEC_HANDSHAKE",
		TAPSEC_HANDSHAKE_DAEMON);
	set_str(fd, TAPSEC_SERVER_NAME, "setsockopt TAPSEC_SERVER_NAME",
		server_name);
	if (trust && trust[0])
		set_str(fd, TAPSEC_TRUST, "setsockopt TAPSEC_TRUST", trust);
}

/*
 * connect() failed with @err.  TCP or UDP may have failed (ECONNREFUSED,
 * ...) or the handshake: TAPSEC_HANDSHAKE_INFO then says what went wrong.
 * Says both; returns the handshake's errno, -1 when no handshake was run.
 */
static inline int connect_failed(int fd, int err)
{
	struct tapsec_handshake_info hi;

	fprintf(stderr, PROG ": connect: %s\n", err_str(err));
	memset(&hi, 0, sizeof(hi));
	get_opt(fd, TAPSEC_HANDSHAKE_INFO, "getsockopt TAPSEC_HANDSHAKE_INFO",
		&hi, sizeof(hi));
	if (hi.state != TAPSEC_HS_FAILED)
		return -1;
	hi.reason[sizeof(hi.reason) - 1] = '\0';
	fprintf(stderr, PROG ": handshake failed: %s: %s\n",
		err_str(hi.error), hi.reason[0] ? hi.reason : "no reason given");
	return hi.error;
}

/*
 * TAPSEC_PEER_IDENTITY: the subject of the server's certificate, a string
 * of at most 255 bytes, into @peer ("" when there is none).
 */
static inline void peer_identity(int fd, char peer[256])
{
	socklen_t len = get_opt(fd, TAPSEC_PEER_IDENTITY,
				"getsockopt TAPSEC_PEER_IDENTITY", peer, 255);

	peer[len] = '\0';
}

/* ------------------------------------------------------- the servers -- */

/* A whole number from 1 to @max, or usage(). */
static inline long number(const char *s, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 1 || v > max)
		usage();
	return v;
}

/*
 * PORT IDENTITY [COUNT]: usage() unless 2 or 3 arguments, PORT a port and
 * COUNT from 1 to a million.  Returns PORT; @count is COUNT, 0 without.
 */
static inline int server_args(int argc, char **argv, long *count)
{
	if (argc < 3 || argc > 4)
		usage();
	*count = argc == 4 ? number(argv[3], 1000000) : 0;
	return number(argv[1], 65535);
}

/*
 * A listening socket of @type: IPv6, or IPv4 alone where the kernel has
 * no IPv6 (@v6 says which).
 */
static inline int listener_socket(int type, int *v6)
{
	int fd = socket(AF_INET6, type, IPPROTO_TAPSEC);

	*v6 = 1;
	if (fd < 0 && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)) {
		*v6 = 0;
		fd = socket(AF_INET, type, IPPROTO_TAPSEC);
	}
	if (fd < 0)
		fail(errno == EPROTONOSUPPORT ?
		     "socket (is tapsec.ko loaded?)" : "socket", errno);
	return fd;
}

/*
 * Before listen(): the daemon is to run the handshakes, presenting the
 * certificate of its [identity @identity].  Every accepted socket
 * inherits these.
 */
static inline void server_handshake(int fd, const char *identity)
{
	set_int(fd, SOL_TAPSEC, TAPSEC_HANDSHAKE, "setsockopt TAPSEC_HANDSHAKE",
		TAPSEC_HANDSHAKE_DAEMON);
	set_str(fd, TAPSEC_IDENTITY, "setsockopt TAPSEC_IDENTITY", identity);
}

/*
 * Binds @fd to @port on every address; an IPv6 socket takes IPv4 clients
 * too (IPV6_V6ONLY off: they show as ::ffff:10.99.0.2).
 */
static inline void bind_any(int fd, int v6, int port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_port = htons(port) };

	if (v6)
		set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY,
			"setsockopt IPV6_V6ONLY", 0);
	if (v6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6)) :
		 bind(fd, (struct sockaddr *)&a4, sizeof(a4)))
		fail("bind", errno);
}

/* The client's address and port, numeric, or "?" and "?". */
static inline void peer_address(int fd, char host[NI_MAXHOST],
				char port[NI_MAXSERV])
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	strcpy(host, "?");
	strcpy(port, "?");
	if (!getpeername(fd, (struct sockaddr *)&ss, &len))
		getnameinfo((struct sockaddr *)&ss, len, host, NI_MAXHOST,
			    port, NI_MAXSERV, NI_NUMERICHOST | NI_NUMERICSERV);
}

/* "PROG: connection @n: @what: ENAME (text)" on stderr; returns -1. */
static inline int conn_error(long n, const char *what, int err)
{
	fprintf(stderr, PROG ": connection %ld: %s: %s\n", n, what,
		err_str(err));
	return -1;
}

/*
 * The servers' loop: one client at a time from the listener @lfd, @count
 * of them (0: no end).  Each one's @print_session, then @serve (0 or -1),
 * then close(), which sends our close_notify; stdout is flushed before
 * the first client and after each.  Returns the exit status: 1 when any
 * handshake or @serve failed.
 */
static inline int serve_clients(int lfd, long count,
				void (*print_session)(int fd, long n),
				int (*serve)(int fd, long n))
{
	int fd, failed = 0;

	fflush(stdout);		/* what was printed before, e.g. "listening" */
	for (long n = 1; !count || n <= count; n++) {
		/* Blocking: returns once this client's handshake is done. */
		fd = accept(lfd, NULL, NULL);
		if (fd < 0 && errno == ECONNABORTED) {
			/*
			 * That client's handshake failed; the next accept()
			 * takes the next client.  The reason is not here:
			 * tapsecctl monitor, the daemon's log and hs_failed
			 * in tapsecctl stats have it (guide.rst).
			 */
			fprintf(stderr, PROG ": connection %ld: handshake "
				"failed: %s; see tapsecctl monitor or the "
				"daemon's log\n", n, err_str(ECONNABORTED));
			failed = 1;
			continue;
		}
		if (fd < 0)
			fail("accept", errno);
		print_session(fd, n);
		if (serve(fd, n))
			failed = 1;
		fflush(stdout);
		if (close(fd) < 0)	/* sends our close_notify */
			fail("close", errno);
	}
	close(lfd);
	return failed;
}

#endif /* TAPSEC_EXAMPLE_H */
