// SPDX-License-Identifier: GPL-2.0
/*
 * hs_peer: one end of a TLS connection whose handshake tapsec delegates to
 * tapsec-handshaked, for selftests/tapsec/handshake_test.sh.
 *
 *   hs_peer connect HOST PORT [OPTIONS]   a client: connect() runs the
 *                                         handshake; --send, then read
 *   hs_peer serve PORT [OPTIONS]          a listener: accept() returns
 *                                         handshaken connections
 *   hs_peer probe                         does setsockopt(TAPSEC_HANDSHAKE)
 *                                         work?
 *
 * On success a connection prints one line
 *   version=1.3 cipher=aes128gcm alpn=h2 peer=<DN> resumed=0 peer_auth=1
 * with " psk=1" at the end when an external PSK was used
 * (the server prefixes it with "conn=N"); a client then prints the data it
 * read, verbatim.  A failure prints
 *   error=<ERRNO NAME> reason=<why>
 * and the exit status is 1 (2 for bad usage).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/tapsec.h>

#define MAX_CIPHERS 8

struct opts {
	int family;			/* AF_INET, AF_INET6 or 0: from HOST */
	const char *sni, *alpn, *identity, *trust, *psk;
	int verify_none;
	int no_cache;			/* TAPSEC_SESSION_CACHE_OFF */
	int defer;			/* TAPSEC_VERIFY_DEFER: 1 accept, 2 reject */
	const char *chain_out;		/* --defer: the first certificate's DER */
	struct tapsec_versions versions;
	int set_versions;
	__u16 ciphers[MAX_CIPHERS];
	int nr_ciphers;
	unsigned int timeout_ms;	/* 0: the kernel's default */
	char *send;			/* bytes to send, escapes expanded */
	size_t send_len;
	size_t read_len;		/* client: stop after this many; 0: EOF */
	long count;			/* server: connections; 0: forever */
	int echo, http;			/* server modes; echo 2: every read */
	const char *ready_file;		/* server: created once listening */
	int key_update;			/* client: KeyUpdate, send again */
	char *export_label;		/* print TAPSEC_EXPORT of this label */
	unsigned int export_len;
};

static const struct {
	const char *name;
	__u16 id;
} ciphers[] = {
	{ "aes128gcm", TAPSEC_CIPHER_AES_GCM_128 },
	{ "aes256gcm", TAPSEC_CIPHER_AES_GCM_256 },
	{ "chacha20", TAPSEC_CIPHER_CHACHA20_POLY1305 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hs_peer connect HOST PORT [OPTIONS]\n"
		"       hs_peer serve PORT [OPTIONS]\n"
		"       hs_peer probe\n"
		"\n"
		"handshake (socket options, set before connect/listen):\n"
		"  --sni NAME          TAPSEC_SERVER_NAME\n"
		"  --alpn LIST         TAPSEC_ALPN, e.g. h2,http/1.1\n"
		"  --identity NAME     TAPSEC_IDENTITY (daemon identity)\n"
		"  --trust NAME        TAPSEC_TRUST (daemon trust store)\n"
		"  --psk IDENTITY      TAPSEC_PSK_IDENTITY (\"*\": a server takes any)\n"
		"  --verify-none       TAPSEC_VERIFY = TAPSEC_VERIFY_NONE\n"
		"  --no-cache          TAPSEC_SESSION_CACHE = TAPSEC_SESSION_CACHE_OFF\n"
		"  --defer accept|reject  client: TAPSEC_VERIFY_DEFER, then this\n"
		"                      verdict (print what data calls did before)\n"
		"  --chain-out FILE    --defer: write the peer's first certificate\n"
		"  --versions MIN:MAX  TAPSEC_VERSIONS, e.g. 1.2:1.3\n"
		"  --ciphers LIST      TAPSEC_CIPHERS: aes128gcm,aes256gcm,chacha20\n"
		"  --timeout MS        TAPSEC_HANDSHAKE_TIMEOUT\n"
		"  --family 4|6        address family (default: from HOST; serve: 4)\n"
		"data:\n"
		"  --send STR          send STR (\\n \\r \\t \\\\ expanded)\n"
		"  --send-size N       send N bytes of a printable pattern\n"
		"  --read N            client: read N bytes, not until EOF\n"
		"  --echo              server: reply \"echo: \" and what one read got\n"
		"  --echo-all          server: the same for every read, until EOF\n"
		"  --http              server: answer a GET with \"hello from tapsec\"\n"
		"  --count N           server: accept N connections, then exit\n"
		"  --ready-file PATH   server: create PATH once listening\n"
		"TLS 1.3:\n"
		"  --key-update        client: after --send, TAPSEC_KEY_UPDATE\n"
		"                      (update_requested), then send it again\n"
		"  --export LABEL:LEN  print export=HEX, TAPSEC_EXPORT of LABEL\n"
		"DTLS:\n"
		"  --dtls              a datagram socket with TAPSEC_PROTO_DTLS;\n"
		"                      --versions takes dtls1.2 and dtls1.3\n");
}

static const char *errname(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "E?";
}

/* The failure line; returns 1, the exit status. */
static int fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(int err, const char *fmt, ...)
{
	va_list ap;

	printf("error=%s reason=", errname(err));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return 1;
}

/* Failure of a handshake on @fd: the reason the kernel recorded, if any. */
static int fail_handshake(int fd, int err, const char *what)
{
	struct tapsec_handshake_info hi;
	socklen_t len = sizeof(hi);

	memset(&hi, 0, sizeof(hi));
	if (!getsockopt(fd, SOL_TAPSEC, TAPSEC_HANDSHAKE_INFO, &hi, &len) &&
	    hi.reason[0]) {
		hi.reason[sizeof(hi.reason) - 1] = '\0';
		return fail(err, "%s (state %u, error %s)", hi.reason,
			    hi.state, hi.error ? errname(hi.error) : "0");
	}
	return fail(err, "%s: %s", what, strerror(err));
}

static int set_str(int fd, int opt, const char *name, const char *val)
{
	if (!val)
		return 0;
	if (setsockopt(fd, SOL_TAPSEC, opt, val, strlen(val)))
		return fail(errno, "setsockopt %s: %s", name, strerror(errno));
	return 0;
}

static int set_int(int fd, int opt, const char *name, const void *val,
		   socklen_t len)
{
	if (setsockopt(fd, SOL_TAPSEC, opt, val, len))
		return fail(errno, "setsockopt %s: %s", name, strerror(errno));
	return 0;
}

/* Every pre-connection option the command line asked for. */
static int set_options(int fd, const struct opts *o)
{
	int mode = TAPSEC_HANDSHAKE_DAEMON, verify = TAPSEC_VERIFY_NONE;
	int cache = TAPSEC_SESSION_CACHE_OFF, defer = TAPSEC_VERIFY_DEFER;

	if (set_int(fd, TAPSEC_HANDSHAKE, "TAPSEC_HANDSHAKE", &mode,
		    sizeof(mode)) ||
	    set_str(fd, TAPSEC_SERVER_NAME, "TAPSEC_SERVER_NAME", o->sni) ||
	    set_str(fd, TAPSEC_ALPN, "TAPSEC_ALPN", o->alpn) ||
	    set_str(fd, TAPSEC_IDENTITY, "TAPSEC_IDENTITY", o->identity) ||
	    set_str(fd, TAPSEC_TRUST, "TAPSEC_TRUST", o->trust) ||
	    set_str(fd, TAPSEC_PSK_IDENTITY, "TAPSEC_PSK_IDENTITY", o->psk))
		return 1;
	if (o->verify_none &&
	    set_int(fd, TAPSEC_VERIFY, "TAPSEC_VERIFY", &verify, sizeof(verify)))
		return 1;
	if (o->defer &&
	    set_int(fd, TAPSEC_VERIFY, "TAPSEC_VERIFY", &defer, sizeof(defer)))
		return 1;
	if (o->no_cache &&
	    set_int(fd, TAPSEC_SESSION_CACHE, "TAPSEC_SESSION_CACHE", &cache,
		    sizeof(cache)))
		return 1;
	if (o->set_versions &&
	    set_int(fd, TAPSEC_VERSIONS, "TAPSEC_VERSIONS", &o->versions,
		    sizeof(o->versions)))
		return 1;
	if (o->nr_ciphers &&
	    set_int(fd, TAPSEC_CIPHERS, "TAPSEC_CIPHERS", o->ciphers,
		    o->nr_ciphers * sizeof(o->ciphers[0])))
		return 1;
	if (o->timeout_ms &&
	    set_int(fd, TAPSEC_HANDSHAKE_TIMEOUT, "TAPSEC_HANDSHAKE_TIMEOUT",
		    &o->timeout_ms, sizeof(o->timeout_ms)))
		return 1;
	return 0;
}

static void get_str(int fd, int opt, char *buf, socklen_t size)
{
	socklen_t len = size - 1;

	if (getsockopt(fd, SOL_TAPSEC, opt, buf, &len))
		snprintf(buf, size, "?%s", errname(errno));
	else
		buf[len < size ? len : size - 1] = '\0';
}

static const char *version_name(__u16 v)
{
	switch (v) {
	case TAPSEC_TLS_1_2_VERSION: return "1.2";
	case TAPSEC_TLS_1_3_VERSION: return "1.3";
	case TAPSEC_DTLS_1_2_VERSION: return "dtls1.2";
	case TAPSEC_DTLS_1_3_VERSION: return "dtls1.3";
	default: return "?";
	}
}

static const char *cipher_name(__u16 c)
{
	size_t i;

	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (ciphers[i].id == c)
			return ciphers[i].name;
	return "?";
}

/* The success line of a connection; @prefix is "" or "conn=N ". */
static int print_info(int fd, const char *prefix)
{
	struct tapsec_handshake_info hi;
	socklen_t len = sizeof(hi);
	char alpn[256], peer[512];

	memset(&hi, 0, sizeof(hi));
	if (getsockopt(fd, SOL_TAPSEC, TAPSEC_HANDSHAKE_INFO, &hi, &len))
		return fail(errno, "getsockopt TAPSEC_HANDSHAKE_INFO: %s",
			    strerror(errno));
	if (hi.state != TAPSEC_HS_DONE)
		return fail(EPROTO, "handshake state %u after success",
			    hi.state);
	get_str(fd, TAPSEC_ALPN_NEGOTIATED, alpn, sizeof(alpn));
	get_str(fd, TAPSEC_PEER_IDENTITY, peer, sizeof(peer));
	printf("%sversion=%s cipher=%s alpn=%s peer=%s resumed=%d peer_auth=%d%s\n",
	       prefix, version_name(hi.version), cipher_name(hi.cipher), alpn,
	       peer, !!(hi.flags & TAPSEC_HS_F_RESUMED),
	       !!(hi.flags & TAPSEC_HS_F_PEER_AUTH),
	       hi.flags & TAPSEC_HS_F_PSK ? " psk=1" : "");
	fflush(stdout);
	return 0;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail(errno, "send: %s", strerror(errno));
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/* --send STR with \n \r \t \\ expanded. */
static char *unescape(const char *s, size_t *len)
{
	char *out = malloc(strlen(s) + 1), *p = out;

	if (!out)
		exit(fail(ENOMEM, "malloc"));
	for (; *s; s++) {
		if (*s != '\\' || !s[1]) {
			*p++ = *s;
			continue;
		}
		switch (*++s) {
		case 'n': *p++ = '\n'; break;
		case 'r': *p++ = '\r'; break;
		case 't': *p++ = '\t'; break;
		default: *p++ = *s; break;
		}
	}
	*len = p - out;
	return out;
}

/*
 * --send-size N: line K is 63 letters of the alphabet from letter K % 26 on,
 * wrapping around, and a newline.
 */
static char *pattern(size_t len)
{
	char *out = malloc(len + 1);
	size_t i;

	if (!out)
		exit(fail(ENOMEM, "malloc"));
	for (i = 0; i < len; i++)
		out[i] = i % 64 == 63 ? '\n' : 'a' + (i / 64 + i % 64) % 26;
	return out;
}

/* Client: read until EOF or @want bytes (0: EOF), copy to stdout. */
static int read_reply(int fd, size_t want)
{
	char buf[16384];
	size_t got = 0;

	while (!want || got < want) {
		size_t room = want && want - got < sizeof(buf) ? want - got :
								sizeof(buf);
		ssize_t n = recv(fd, buf, room, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fflush(stdout);
			return fail(errno, "recv after %zu bytes: %s", got,
				    strerror(errno));
		}
		if (!n)
			break;
		fwrite(buf, 1, n, stdout);
		got += n;
	}
	fflush(stdout);
	if (want && got < want)
		return fail(ECONNRESET, "EOF after %zu of %zu bytes", got,
			    want);
	return 0;
}

static int resolve(const char *host, const char *port, int family,
		   struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = {
		.ai_family = family,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = host ? 0 : AI_PASSIVE,
	}, *ai;
	int err = getaddrinfo(host, port, &hints, &ai);

	if (err)
		return fail(EINVAL, "%s port %s: %s", host ? host : "*", port,
			    gai_strerror(err));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* --dtls: datagram sockets carrying DTLS records. */
static int dtls;

static int tapsec_socket(int family)
{
	int fd = socket(family, dtls ? SOCK_DGRAM : SOCK_STREAM,
			IPPROTO_TAPSEC);
	int proto = TAPSEC_PROTO_DTLS;

	if (fd < 0)
		fail(errno, "socket(IPPROTO_TAPSEC): %s", strerror(errno));
	else if (dtls && setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &proto,
				    sizeof(proto))) {
		fail(errno, "TAPSEC_PROTOCOL DTLS: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* --export LABEL:LEN: one line export=HEX (no context). */
static int print_export(int fd, const struct opts *o)
{
	struct tapsec_export_req req;
	socklen_t len = sizeof(req);
	unsigned int i;

	if (!o->export_label)
		return 0;
	memset(&req, 0, sizeof(req));
	req.label_len = strlen(o->export_label);
	if (req.label_len > sizeof(req.label))
		return fail(EINVAL, "export label too long");
	memcpy(req.label, o->export_label, req.label_len);
	req.out_len = o->export_len;
	if (getsockopt(fd, SOL_TAPSEC, TAPSEC_EXPORT, &req, &len))
		return fail(errno, "getsockopt TAPSEC_EXPORT: %s",
			    strerror(errno));
	printf("export=");
	for (i = 0; i < len; i++)
		printf("%02X", ((unsigned char *)&req)[i]);
	printf("\n");
	fflush(stdout);
	return 0;
}

/*
 * --defer: before the verdict nothing flows (recv and send: EPERM, printed
 * as before_verdict=); the chain is read (chain=N certs, the first written
 * to --chain-out), then the verdict is given.
 */
static int verdict(int fd, const struct opts *o)
{
	int v = o->defer == 1 ? TAPSEC_PEER_ACCEPT : TAPSEC_PEER_REJECT;
	static unsigned char chain[TAPSEC_PEER_CHAIN_MAX];
	socklen_t len = 4;
	unsigned int n = 0, off = 0, clen;
	char c;
	int r, w, re, we;
	FILE *f;

	if (!o->defer)
		return 0;
	r = recv(fd, &c, 1, MSG_DONTWAIT);
	re = errno;
	w = send(fd, "x", 1, MSG_NOSIGNAL);
	we = errno;
	printf("before_verdict=%s,%s\n", r < 0 ? errname(re) : "data",
	       w < 0 ? errname(we) : "sent");
	/* A short buffer: ERANGE and the size needed. */
	if (!getsockopt(fd, SOL_TAPSEC, TAPSEC_PEER_CHAIN, chain, &len) ||
	    errno != ERANGE)
		return fail(EPROTO, "TAPSEC_PEER_CHAIN in 4 bytes: %s",
			    strerror(errno));
	if (len > sizeof(chain) ||
	    getsockopt(fd, SOL_TAPSEC, TAPSEC_PEER_CHAIN, chain, &len))
		return fail(errno, "TAPSEC_PEER_CHAIN: %s", strerror(errno));
	while (off + 3 <= len) {
		clen = chain[off] << 16 | chain[off + 1] << 8 | chain[off + 2];
		if (!n && o->chain_out) {
			f = fopen(o->chain_out, "w");
			if (!f || fwrite(chain + off + 3, 1, clen, f) != clen)
				return fail(errno, "%s", o->chain_out);
			fclose(f);
		}
		off += 3 + clen;
		n++;
	}
	printf("chain=%u certs %u bytes%s\n", n, len,
	       off == len ? "" : " (malformed)");
	if (set_int(fd, TAPSEC_PEER_VERDICT, "TAPSEC_PEER_VERDICT", &v,
		    sizeof(v)))
		return 1;
	if (v == TAPSEC_PEER_ACCEPT)
		return print_info(fd, "verdict ");
	w = send(fd, "x", 1, MSG_NOSIGNAL);
	printf("after_reject=%s\n", w < 0 ? errname(errno) : "sent");
	return 0;
}

/* --key-update: a KeyUpdate asking for the peer's, then --send again. */
static int key_update_send(int fd, const struct opts *o)
{
	int req = TAPSEC_KEY_UPDATE_REQUESTED;

	if (!o->key_update)
		return 0;
	if (set_int(fd, TAPSEC_KEY_UPDATE, "TAPSEC_KEY_UPDATE", &req,
		    sizeof(req)))
		return 1;
	return o->send ? send_all(fd, o->send, o->send_len) : 0;
}

static int do_connect(const char *host, const char *port, struct opts *o)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, ret;

	if (resolve(host, port, o->family, &ss, &len))
		return 1;
	fd = tapsec_socket(ss.ss_family);
	if (fd < 0)
		return 1;
	if (set_options(fd, o))
		return 1;
	if (connect(fd, (struct sockaddr *)&ss, len))
		return fail_handshake(fd, errno, "connect");
	ret = print_info(fd, "");
	if (!ret)
		ret = verdict(fd, o);
	if (!ret)
		ret = print_export(fd, o);
	if (!ret && o->send)
		ret = send_all(fd, o->send, o->send_len);
	if (!ret)
		ret = key_update_send(fd, o);
	if (!ret && (o->send || o->read_len))
		ret = read_reply(fd, o->read_len);
	close(fd);
	return ret;
}

/* Server side of one connection, in a child process. */
static int serve_one(int fd, const struct opts *o)
{
	static const char body[] = "hello from tapsec\n";
	char buf[16384];
	size_t got = 0;
	ssize_t n;

	while (o->echo) {
		do
			n = recv(fd, buf, sizeof(buf), 0);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return fail(errno, "recv: %s", strerror(errno));
		if (!n && o->echo > 1)
			return 0;
		if (send_all(fd, "echo: ", 6) || send_all(fd, buf, n))
			return 1;
		if (o->echo == 1)
			return 0;
	}
	if (o->http) {
		while (got < sizeof(buf) - 1) {
			n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return fail(n ? errno : ECONNRESET,
					    "request: %s", n ? strerror(errno) :
					    "EOF before the header's end");
			got += n;
			buf[got] = '\0';
			if (strstr(buf, "\r\n\r\n"))
				break;
		}
		if (strncmp(buf, "GET ", 4))
			return fail(EPROTO, "not a GET request");
		n = snprintf(buf, sizeof(buf),
			     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			     strlen(body), body);
		return send_all(fd, buf, n);
	}
	if (o->send)
		return send_all(fd, o->send, o->send_len);
	return 0;
}

static int do_serve(const char *port, struct opts *o)
{
	int family = o->family ? o->family : AF_INET, lfd, fd, status;
	int one = 1, failed = 0;
	struct sockaddr_storage ss;
	socklen_t len;
	long n = 0;
	char prefix[32];
	pid_t pid;

	if (resolve(NULL, port, family, &ss, &len))
		return 1;
	lfd = tapsec_socket(family);
	if (lfd < 0)
		return 1;
	if (set_options(lfd, o))
		return 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&ss, len) || listen(lfd, 1024))
		return fail(errno, "bind/listen port %s: %s", port,
			    strerror(errno));
	if (o->ready_file)
		close(open(o->ready_file, O_WRONLY | O_CREAT, 0644));
	while (!o->count || n < o->count) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0 && errno == EINTR)
			continue;
		n++;
		if (fd < 0) {
			/* ECONNABORTED: that client's handshake failed. */
			fail(errno, "accept %ld: %s", n, strerror(errno));
			failed = 1;
			if (errno == ECONNABORTED)
				continue;
			break;
		}
		snprintf(prefix, sizeof(prefix), "conn=%ld ", n);
		pid = fork();
		if (pid < 0) {
			fail(errno, "fork: %s", strerror(errno));
			failed = 1;
		} else if (!pid) {
			close(lfd);
			_exit(print_info(fd, prefix) || print_export(fd, o) ||
			      serve_one(fd, o));
		}
		close(fd);
	}
	close(lfd);
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed = 1;
	return failed;
}

/* Does this kernel take TAPSEC_HANDSHAKE at all? */
static int do_probe(void)
{
	int mode = TAPSEC_HANDSHAKE_DAEMON, fd = tapsec_socket(AF_INET);

	if (fd < 0)
		return 1;
	if (set_int(fd, TAPSEC_HANDSHAKE, "TAPSEC_HANDSHAKE", &mode,
		    sizeof(mode)))
		return 1;
	printf("handshake=supported\n");
	return 0;
}

static __u16 parse_version(const char *s)
{
	if (!strcmp(s, "1.2"))
		return TAPSEC_TLS_1_2_VERSION;
	if (!strcmp(s, "1.3"))
		return TAPSEC_TLS_1_3_VERSION;
	if (!strcmp(s, "dtls1.2"))
		return TAPSEC_DTLS_1_2_VERSION;
	if (!strcmp(s, "dtls1.3"))
		return TAPSEC_DTLS_1_3_VERSION;
	if (!*s)
		return 0;
	fprintf(stderr, "hs_peer: unknown TLS version %s\n", s);
	exit(2);
}

static void parse_ciphers(struct opts *o, char *list)
{
	char *name, *save;
	size_t i;

	for (name = strtok_r(list, ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
			if (!strcmp(name, ciphers[i].name))
				break;
		if (i == sizeof(ciphers) / sizeof(ciphers[0]) ||
		    o->nr_ciphers == MAX_CIPHERS) {
			fprintf(stderr, "hs_peer: bad cipher %s\n", name);
			exit(2);
		}
		o->ciphers[o->nr_ciphers++] = ciphers[i].id;
	}
}

static unsigned long number(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end) {
		fprintf(stderr, "hs_peer: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	enum { OPT_SNI = 256, OPT_ALPN, OPT_IDENTITY, OPT_TRUST, OPT_VERIFY_NONE, OPT_NO_CACHE, OPT_DEFER, OPT_CHAIN_OUT,
	       OPT_VERSIONS, OPT_CIPHERS, OPT_TIMEOUT, OPT_FAMILY, OPT_SEND,
	       OPT_SEND_SIZE, OPT_READ, OPT_ECHO, OPT_ECHO_ALL, OPT_HTTP, OPT_COUNT, OPT_READY,
	       OPT_PSK, OPT_KEY_UPDATE, OPT_EXPORT, OPT_DTLS };
	static const struct option lopts[] = {
		{ "sni", required_argument, NULL, OPT_SNI },
		{ "alpn", required_argument, NULL, OPT_ALPN },
		{ "identity", required_argument, NULL, OPT_IDENTITY },
		{ "trust", required_argument, NULL, OPT_TRUST },
		{ "psk", required_argument, NULL, OPT_PSK },
		{ "verify-none", no_argument, NULL, OPT_VERIFY_NONE },
		{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
		{ "defer", required_argument, NULL, OPT_DEFER },
		{ "chain-out", required_argument, NULL, OPT_CHAIN_OUT },
		{ "versions", required_argument, NULL, OPT_VERSIONS },
		{ "ciphers", required_argument, NULL, OPT_CIPHERS },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "family", required_argument, NULL, OPT_FAMILY },
		{ "send", required_argument, NULL, OPT_SEND },
		{ "send-size", required_argument, NULL, OPT_SEND_SIZE },
		{ "read", required_argument, NULL, OPT_READ },
		{ "echo", no_argument, NULL, OPT_ECHO },
		{ "echo-all", no_argument, NULL, OPT_ECHO_ALL },
		{ "http", no_argument, NULL, OPT_HTTP },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "ready-file", required_argument, NULL, OPT_READY },
		{ "key-update", no_argument, NULL, OPT_KEY_UPDATE },
		{ "export", required_argument, NULL, OPT_EXPORT },
		{ "dtls", no_argument, NULL, OPT_DTLS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 0 };
	char *colon;
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case OPT_SNI: o.sni = optarg; break;
		case OPT_ALPN: o.alpn = optarg; break;
		case OPT_IDENTITY: o.identity = optarg; break;
		case OPT_TRUST: o.trust = optarg; break;
		case OPT_PSK: o.psk = optarg; break;
		case OPT_VERIFY_NONE: o.verify_none = 1; break;
		case OPT_NO_CACHE: o.no_cache = 1; break;
		case OPT_DEFER:
			o.defer = !strcmp(optarg, "accept") ? 1 :
				  !strcmp(optarg, "reject") ? 2 : -1;
			if (o.defer < 0) {
				usage(stderr);
				return 2;
			}
			break;
		case OPT_CHAIN_OUT: o.chain_out = optarg; break;
		case OPT_VERSIONS:
			colon = strchr(optarg, ':');
			if (colon)
				*colon++ = '\0';
			o.versions.min = parse_version(optarg);
			o.versions.max = parse_version(colon ? colon : optarg);
			o.set_versions = 1;
			break;
		case OPT_CIPHERS: parse_ciphers(&o, optarg); break;
		case OPT_TIMEOUT: o.timeout_ms = number(optarg); break;
		case OPT_FAMILY:
			o.family = !strcmp(optarg, "6") ? AF_INET6 : AF_INET;
			break;
		case OPT_SEND: o.send = unescape(optarg, &o.send_len); break;
		case OPT_SEND_SIZE:
			o.send_len = number(optarg);
			o.send = pattern(o.send_len);
			break;
		case OPT_READ: o.read_len = number(optarg); break;
		case OPT_ECHO: o.echo = 1; break;
		case OPT_ECHO_ALL: o.echo = 2; break;
		case OPT_HTTP: o.http = 1; break;
		case OPT_COUNT: o.count = number(optarg); break;
		case OPT_READY: o.ready_file = optarg; break;
		case OPT_KEY_UPDATE: o.key_update = 1; break;
		case OPT_DTLS: dtls = 1; break;
		case OPT_EXPORT:
			colon = strrchr(optarg, ':');
			if (!colon) {
				usage(stderr);
				return 2;
			}
			*colon++ = '\0';
			o.export_label = optarg;
			o.export_len = number(colon);
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	argv += optind;
	argc -= optind;
	if (argc == 3 && !strcmp(argv[0], "connect"))
		return do_connect(argv[1], argv[2], &o);
	if (argc == 2 && !strcmp(argv[0], "serve"))
		return do_serve(argv[1], &o);
	if (argc == 1 && !strcmp(argv[0], "probe"))
		return do_probe();
	usage(stderr);
	return 2;
}
