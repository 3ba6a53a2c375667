// SPDX-License-Identifier: GPL-2.0
/*
 * dgram - datagram throughput of tapsec's DTLS record layer against its
 * peers, over loopback UDP, all in one boot of one machine:
 *
 *   udp      plain UDP sockets
 *   tapsec   socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC) on both ends,
 *            TAPSEC_PROTOCOL TAPSEC_PROTO_DTLS, DTLS 1.2 keys installed
 *            with SOL_TAPSEC TAPSEC_TX / TAPSEC_RX
 *   openssl  OpenSSL's userspace DTLS 1.2 (libssl) over connected UDP
 *            sockets, after a PSK handshake between the two threads
 *
 * For every (cipher, payload size, stack) a fresh pair of connected
 * sockets carries a fixed number of datagrams from a sending thread to a
 * receiving thread; one send() is one datagram (for the DTLS stacks one
 * record), one recv() one datagram's payload.  Both sockets get large
 * buffers so that loopback does not drop.  A transfer is timed from the
 * sender's first send() to the receiver's last datagram; when datagrams
 * are lost, the receiver stops at the sender's end marker or after a
 * quiet time, and the row reports the loss.  Rounds are interleaved as in
 * stream.c: each round runs every combination once, stacks in an order
 * rotated by one per round.  The report gives the median packets per
 * second received per row, the ratios tapsec/udp and tapsec/openssl (the
 * median of the per-round ratios and their range), the same for the best
 * round, as a table and as one JSON object per row (lines starting with
 * '{').  See Documentation/performance.rst.
 *
 * Before the timed rounds every stack and cipher sends a few datagrams of
 * many lengths, each with its own content, and the receiver checks every
 * byte, the order and the end marker (an empty UDP datagram, tapsec's or
 * OpenSSL's close_notify).
 *
 * Exit status: 0, or 1 when a transfer failed (setup or handshake error,
 * send/recv error, timeout, a datagram of the wrong length, wrong content
 * or any loss in the checked transfers, nothing received, or tapsec
 * counting records it dropped), or 2 for bad usage.  Loss in a timed
 * transfer is reported, not a failure; ratios never affect the status.
 *
 * Build: tools/bench/run does it, or
 *   gcc -O2 -g -Wall -Wextra -Werror -std=gnu11 -Iuapi -o build/bench/dgram \
 *       tools/bench/dgram.c -lpthread -lssl -lcrypto
 */
#define BENCH_NAME "dgram"
#include "bench_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_CONFIGS	NCIPHERS
#define MAX_PAYLOAD	16384	/* a DTLS record's largest plaintext */
#define RXBUF_LEN	65536	/* room for any datagram */
#define LINK_MTU	65535	/* what OpenSSL is told: room for any record */
#define MAX_NOTES	256

/* DTLS 1.2 keys start at epoch 1 (the handshake's is 0), sequence 0. */
#define FIRST_REC_SEQ	(1ULL << 48)

/* ------------------------------------------------------------ stacks -- */

enum stack { ST_UDP, ST_TAPSEC, ST_OPENSSL, NSTACKS };
_Static_assert(NSTACKS <= MAX_STACKS, "bench.stack_on");

static const char *const stack_name[NSTACKS] = {
	[ST_UDP] = "udp",
	[ST_TAPSEC] = "tapsec",
	[ST_OPENSSL] = "openssl",
};

/* The OpenSSL cipher suite with the AEAD tapsec uses for @cipher. */
static const char *openssl_suite(uint16_t cipher)
{
	switch (cipher) {
	case TAPSEC_CIPHER_AES_GCM_128:
		return "PSK-AES128-GCM-SHA256";
	case TAPSEC_CIPHER_AES_GCM_256:
		return "PSK-AES256-GCM-SHA384";
	default:
		return "PSK-CHACHA20-POLY1305";
	}
}

/* ----------------------------------------------------------- options -- */

static struct {
	uint16_t ciphers[MAX_CONFIGS];
	int nconfigs;
	long count;
	size_t buffer;
	int idle_ms;
	bool check;
} opt = {
	.count = 20000,
	.buffer = 64 * MIB,
	.idle_ms = 2000,
	.check = true,
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: dgram [OPTIONS]\n"
"\n"
"Datagram throughput over loopback UDP: plain UDP, tapsec DTLS 1.2\n"
"(IPPROTO_TAPSEC sockets) and OpenSSL's userspace DTLS 1.2, interleaved\n"
"rounds, medians and ratios.  Needs tapsec.ko loaded.\n"
"\n"
"  --cipher C             aes-128-gcm (default), aes-256-gcm,\n"
"                         chacha20-poly1305\n"
"  --all-ciphers          all three\n"
"  --sizes LIST           payload bytes per datagram (default 64,1200,1400;\n"
"                         at most 16384)\n"
"  --count N              datagrams per transfer (default 20000)\n"
"  --rounds N             interleaved rounds (default 9)\n"
"  --stacks LIST          of udp,tapsec,openssl (default all)\n"
"  --buffer N             SO_SNDBUFFORCE/SO_RCVBUFFORCE (default 64m)\n"
"  --idle-ms N            receiver gives up after N ms without a datagram\n"
"                         (default 2000)\n"
"  --no-pin               do not pin sender to CPU 0 and receiver to CPU 1\n"
"  --no-check             skip the checked transfers before the rounds\n"
"  --timeout SECS         per-transfer limit (default 120)\n"
"  --quiet                no per-transfer progress on stderr\n"
"  -h, --help             this text\n");
}

enum { O_COUNT = O_OWN, O_BUFFER, O_IDLE, O_NOCHECK };

static void own_option(int c, const char *val)
{
	switch (c) {
	case O_COUNT:
		opt.count = parse_long(val, 1, 100000000, "--count");
		break;
	case O_BUFFER:
		if (parse_size(val, &opt.buffer, 1024 * MIB))
			bad_usage("--buffer: bad size %s", val);
		break;
	case O_IDLE:
		opt.idle_ms = (int)parse_long(val, 10, 600000, "--idle-ms");
		break;
	case O_NOCHECK:
		opt.check = false;
		break;
	}
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, O_COUNT },
		{ "buffer", required_argument, NULL, O_BUFFER },
		{ "idle-ms", required_argument, NULL, O_IDLE },
		{ "no-check", no_argument, NULL, O_NOCHECK },
		BENCH_OPTIONS
	};
	int k;

	bench.max_size = MAX_PAYLOAD;
	bench.stack_names = stack_name;
	bench.nstacks = NSTACKS;
	bench_getopt(argc, argv, longopts, own_option, usage);
	if (!bench.stacks_given)
		bench.stack_on[ST_UDP] = bench.stack_on[ST_TAPSEC] =
			bench.stack_on[ST_OPENSSL] = true;
	if (!bench.nsizes) {
		bench.sizes[0] = 64;
		bench.sizes[1] = 1200;
		bench.sizes[2] = 1400;
		bench.nsizes = 3;
	}
	if (bench.all_ciphers) {
		for (k = 0; k < NCIPHERS; k++)
			opt.ciphers[k] = cipher_descs[k].type;
		opt.nconfigs = NCIPHERS;
	} else {
		opt.ciphers[0] = bench.cipher;
		opt.nconfigs = 1;
	}
}

/* ----------------------------------------------------------- OpenSSL -- */

static unsigned char psk_key[32];		/* random per run */
static const char psk_identity[] = "tapsec-bench";
static SSL_CTX *ssl_ctx[MAX_CONFIGS][2];	/* [cipher][server] */

static unsigned int psk_client_cb(SSL *ssl, const char *hint, char *identity,
				  unsigned int max_identity_len,
				  unsigned char *psk, unsigned int max_psk_len)
{
	(void)ssl;
	(void)hint;
	if (max_identity_len < sizeof(psk_identity) ||
	    max_psk_len < sizeof(psk_key))
		return 0;
	memcpy(identity, psk_identity, sizeof(psk_identity));
	memcpy(psk, psk_key, sizeof(psk_key));
	return sizeof(psk_key);
}

static unsigned int psk_server_cb(SSL *ssl, const char *identity,
				  unsigned char *psk, unsigned int max_psk_len)
{
	(void)ssl;
	if (!identity || strcmp(identity, psk_identity) ||
	    max_psk_len < sizeof(psk_key))
		return 0;
	memcpy(psk, psk_key, sizeof(psk_key));
	return sizeof(psk_key);
}

/* The oldest error in this thread's OpenSSL queue, or @dflt. */
static void ssl_error(char *buf, size_t len, const char *dflt)
{
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "%s", dflt);
	ERR_clear_error();
}

/* DTLS 1.2 only, one PSK cipher suite, no path MTU queries. */
static SSL_CTX *ssl_ctx_get(int ci, bool server, char *err, size_t errlen)
{
	SSL_CTX *ctx = ssl_ctx[ci][server];

	if (ctx)
		return ctx;
	ctx = SSL_CTX_new(server ? DTLS_server_method() : DTLS_client_method());
	if (!ctx ||
	    !SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, openssl_suite(opt.ciphers[ci]))) {
		ssl_error(err, errlen, "SSL_CTX set-up failed");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU);
	if (server)
		SSL_CTX_set_psk_server_callback(ctx, psk_server_cb);
	else
		SSL_CTX_set_psk_client_callback(ctx, psk_client_cb);
	ssl_ctx[ci][server] = ctx;
	return ctx;
}

/* An SSL object on connected UDP socket @fd whose peer is @peer. */
static SSL *ssl_new(SSL_CTX *ctx, int fd, const struct sockaddr_in *peer)
{
	BIO_ADDR *addr = BIO_ADDR_new();
	SSL *ssl = SSL_new(ctx);
	BIO *bio = BIO_new_dgram(fd, BIO_NOCLOSE);

	if (!addr || !ssl || !bio ||
	    !BIO_ADDR_rawmake(addr, AF_INET, &peer->sin_addr,
			      sizeof(peer->sin_addr), peer->sin_port) ||
	    BIO_ctrl_set_connected(bio, addr) <= 0) {
		BIO_ADDR_free(addr);
		BIO_free(bio);
		SSL_free(ssl);
		return NULL;
	}
	BIO_ADDR_free(addr);
	SSL_set_bio(ssl, bio, bio);
	SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
	DTLS_set_link_mtu(ssl, LINK_MTU);
	return ssl;
}

struct handshake {
	SSL *ssl;
	int ret;
	char err[160];
};

static void *server_handshake(void *arg)
{
	struct handshake *h = arg;

	h->ret = SSL_accept(h->ssl);
	if (h->ret != 1)
		ssl_error(h->err, sizeof(h->err), "SSL_accept failed");
	return NULL;
}

/* ------------------------------------------------------- connections -- */

struct conn {
	enum stack stack;
	int tx;			/* the sender's socket */
	int rx;			/* the receiver's socket */
	SSL *tx_ssl;		/* openssl: the server */
	SSL *rx_ssl;		/* openssl: the client */
	size_t max_payload;	/* largest payload a send() may carry */
};

static bool warned_force;

/* Large socket buffers: SO_*BUFFORCE as root, else what the sysctls allow. */
static int set_buffers(int fd)
{
	int v = (int)opt.buffer;

	if (!setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) &&
	    !setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)))
		return 0;
	if (errno != EPERM)
		return -1;
	if (!warned_force) {
		fprintf(stderr, "dgram: not allowed SO_*BUFFORCE; buffers are "
			"capped by net.core.[rw]mem_max and may drop\n");
		warned_force = true;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)))
		return -1;
	return 0;
}

static void set_timeout(int fd, int opt_name, long ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = ms % 1000 * 1000 };

	setsockopt(fd, SOL_SOCKET, opt_name, &tv, sizeof(tv));
}

/* A UDP or tapsec DTLS socket bound to an ephemeral loopback port. */
static int dgram_socket(enum stack stack, struct sockaddr_in *sin)
{
	int proto = TAPSEC_PROTO_DTLS;
	socklen_t slen = sizeof(*sin);
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM,
		    stack == ST_TAPSEC ? IPPROTO_TAPSEC : 0);
	if (fd < 0)
		return -1;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((stack == ST_TAPSEC &&
	     setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &proto,
			sizeof(proto))) ||
	    bind(fd, (struct sockaddr *)sin, sizeof(*sin)) ||
	    getsockname(fd, (struct sockaddr *)sin, &slen) ||
	    set_buffers(fd)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* OpenSSL's DTLS 1.2 handshake: the sender is the server. */
static int openssl_open(struct conn *c, int ci, const struct sockaddr_in *tx_sin,
			const struct sockaddr_in *rx_sin, char *err,
			size_t errlen)
{
	const char *want = openssl_suite(opt.ciphers[ci]), *got;
	SSL_CTX *sctx = ssl_ctx_get(ci, true, err, errlen);
	SSL_CTX *cctx = sctx ? ssl_ctx_get(ci, false, err, errlen) : NULL;
	struct handshake h = { 0 };
	pthread_t t;
	int ret;

	if (!cctx)
		return -1;
	c->tx_ssl = ssl_new(sctx, c->tx, rx_sin);
	c->rx_ssl = ssl_new(cctx, c->rx, tx_sin);
	if (!c->tx_ssl || !c->rx_ssl) {
		ssl_error(err, errlen, "SSL_new/BIO_new_dgram failed");
		return -1;
	}
	h.ssl = c->tx_ssl;
	if (pthread_create(&t, NULL, server_handshake, &h)) {
		snprintf(err, errlen, "pthread_create failed");
		return -1;
	}
	ret = SSL_connect(c->rx_ssl);
	if (ret != 1)
		ssl_error(err, errlen, "SSL_connect failed");
	pthread_join(t, NULL);
	if (ret != 1)
		return -1;
	if (h.ret != 1) {
		snprintf(err, errlen, "%s", h.err);
		return -1;
	}
	got = SSL_get_cipher_name(c->rx_ssl);
	if (SSL_version(c->rx_ssl) != DTLS1_2_VERSION || strcmp(got, want)) {
		snprintf(err, errlen, "negotiated %s %s, not DTLSv1.2 %s",
			 SSL_get_version(c->rx_ssl), got, want);
		return -1;
	}
	return 0;
}

static void conn_close(struct conn *c)
{
	SSL_free(c->tx_ssl);
	SSL_free(c->rx_ssl);
	if (c->tx >= 0)
		close(c->tx);
	if (c->rx >= 0)
		close(c->rx);
	c->tx_ssl = c->rx_ssl = NULL;
	c->tx = c->rx = -1;
}

/*
 * Two connected sockets over loopback with @stack's record layer and
 * cipher @ci's keys on them.  Returns 0, or -1 with the failure reported.
 */
static int conn_open(enum stack stack, int ci, struct conn *c,
		     const char *what)
{
	struct sockaddr_in tx_sin, rx_sin;
	union crypto_info info;
	socklen_t ilen, vlen;
	char err[200] = "";
	const char *step;
	int v;

	memset(c, 0, sizeof(*c));
	c->stack = stack;
	c->tx = c->rx = -1;
	c->max_payload = MAX_PAYLOAD;
	step = stack == ST_TAPSEC ?
	       "socket(IPPROTO_TAPSEC), TAPSEC_PROTOCOL DTLS, bind, buffers" :
	       "socket, bind, buffers";
	c->rx = dgram_socket(stack, &rx_sin);
	if (c->rx < 0)
		goto err;
	c->tx = dgram_socket(stack, &tx_sin);
	if (c->tx < 0)
		goto err;
	step = "connect";
	if (connect(c->tx, (struct sockaddr *)&rx_sin, sizeof(rx_sin)) ||
	    connect(c->rx, (struct sockaddr *)&tx_sin, sizeof(tx_sin)))
		goto err;
	/* Nothing hangs: the handshake and sends give up after --timeout. */
	set_timeout(c->tx, SO_SNDTIMEO, bench.timeout * 1000L);
	set_timeout(c->tx, SO_RCVTIMEO, bench.timeout * 1000L);
	set_timeout(c->rx, SO_SNDTIMEO, bench.timeout * 1000L);
	set_timeout(c->rx, SO_RCVTIMEO, bench.timeout * 1000L);

	switch (stack) {
	case ST_TAPSEC:
		step = "key generation";
		ilen = make_crypto_info(TAPSEC_DTLS_1_2_VERSION,
					opt.ciphers[ci], FIRST_REC_SEQ, &info);
		if (!ilen)
			goto err;
		step = "SOL_TAPSEC TAPSEC_TX";
		if (setsockopt(c->tx, SOL_TAPSEC, TAPSEC_TX, &info, ilen))
			goto err;
		step = "SOL_TAPSEC TAPSEC_RX";
		if (setsockopt(c->rx, SOL_TAPSEC, TAPSEC_RX, &info, ilen))
			goto err;
		explicit_bzero(&info, sizeof(info));
		step = "SOL_TAPSEC TAPSEC_MAX_PAYLOAD";
		vlen = sizeof(v);
		if (getsockopt(c->tx, SOL_TAPSEC, TAPSEC_MAX_PAYLOAD, &v,
			       &vlen))
			goto err;
		if ((size_t)v < c->max_payload)
			c->max_payload = v;
		break;
	case ST_OPENSSL:
		step = "OpenSSL DTLS 1.2 PSK handshake";
		if (openssl_open(c, ci, &tx_sin, &rx_sin, err, sizeof(err)))
			goto err;
		break;
	default:
		break;
	}
	/* The receiver stops after --idle-ms without a datagram. */
	set_timeout(c->rx, SO_RCVTIMEO, opt.idle_ms);
	return 0;
err:
	if (err[0])
		fail("%s: %s: %s", what, step, err);
	else
		fail("%s: %s: %s", what, step, strerror(errno));
	explicit_bzero(&info, sizeof(info));
	conn_close(c);
	return -1;
}

/* ------------------------------------------------------ send, receive -- */

enum { RECV_IDLE = -1, RECV_ERR = -2 };

/* One datagram: 0, or -1 with the reason in @err. */
static int dgram_send(struct conn *c, const void *p, size_t len, char *err,
		      size_t errlen)
{
	ssize_t r;
	int n;

	if (c->stack == ST_OPENSSL) {
		n = SSL_write(c->tx_ssl, p, (int)len);
		if (n == (int)len)
			return 0;
		snprintf(err, errlen, "SSL_write: error %d",
			 SSL_get_error(c->tx_ssl, n));
		ssl_error(err + strlen(err), errlen - strlen(err), "");
		return -1;
	}
	do
		r = send(c->tx, p, len, 0);
	while (r < 0 && errno == EINTR);
	if (r == (ssize_t)len)
		return 0;
	if (r < 0)
		snprintf(err, errlen, "send: %s", strerror(errno));
	else
		snprintf(err, errlen, "send: %zd of %zu bytes", r, len);
	return -1;
}

/*
 * The end of the datagrams: an empty UDP datagram, or close_notify.
 * Returns 0, or -1 with the reason in @err.
 */
static int dgram_end(struct conn *c, char *err, size_t errlen)
{
	int n;

	switch (c->stack) {
	case ST_OPENSSL:
		n = SSL_shutdown(c->tx_ssl);
		if (n >= 0)
			return 0;
		snprintf(err, errlen, "SSL_shutdown: error %d",
			 SSL_get_error(c->tx_ssl, n));
		return -1;
	case ST_TAPSEC:
		if (!shutdown(c->tx, SHUT_WR))
			return 0;
		snprintf(err, errlen, "shutdown(SHUT_WR): %s", strerror(errno));
		return -1;
	default:
		if (!send(c->tx, "", 0, 0))
			return 0;
		snprintf(err, errlen, "send(empty): %s", strerror(errno));
		return -1;
	}
}

/*
 * The next datagram's payload: its length, 0 at the end marker, RECV_IDLE
 * after --idle-ms without one, or RECV_ERR with the reason in @err.
 */
static int dgram_recv(struct conn *c, void *buf, char *err, size_t errlen)
{
	ssize_t r;
	int n, e;

	if (c->stack == ST_OPENSSL) {
		n = SSL_read(c->rx_ssl, buf, RXBUF_LEN);
		if (n > 0)
			return n;
		e = SSL_get_error(c->rx_ssl, n);
		if (e == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (e == SSL_ERROR_WANT_READ)	/* SO_RCVTIMEO ran out */
			return RECV_IDLE;
		snprintf(err, errlen, "SSL_read: error %d (%s) ", e,
			 strerror(errno));
		ssl_error(err + strlen(err), errlen - strlen(err), "");
		return RECV_ERR;
	}
	do
		r = recv(c->rx, buf, RXBUF_LEN, 0);
	while (r < 0 && errno == EINTR);
	if (r >= 0)
		return (int)r;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return RECV_IDLE;
	snprintf(err, errlen, "recv: %s", strerror(errno));
	return RECV_ERR;
}

/* -------------------------------------------------------- transfers -- */

static unsigned char *txbuf, *rxbuf;

/*
 * The checked transfers' datagrams: lengths that cross the sizes usually
 * measured and the largest payload, each datagram with its own content.
 */
static const size_t check_lens[] = {
	1, 13, 64, 255, 1199, 1200, 1400, 1401, 4093, MAX_PAYLOAD,
};
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define CHECK_ROUNDS	3
#define NCHECK		(CHECK_ROUNDS * (long)ARRAY_SIZE(check_lens))

static size_t check_len(long i, size_t max)
{
	size_t n = check_lens[i % ARRAY_SIZE(check_lens)];

	return n < max ? n : max;
}

static unsigned char check_byte(long i, size_t j)
{
	return (unsigned char)(i * 131 + j * 7 + 1);
}

struct xfer {
	struct conn conn;
	long count;		/* datagrams to send */
	size_t size;		/* their payload (not when checking) */
	bool check;		/* lengths and content per check_len/_byte */
	pthread_barrier_t go;
	/* results */
	struct timespec t_start;	/* sender, before the first send() */
	struct timespec t_end;		/* receiver, after the last datagram */
	double tx_cpu, rx_cpu;		/* thread CPU seconds */
	long sent, got;
	bool end_seen;			/* the receiver saw the end marker */
	char tx_err[200], rx_err[200];
};

static void *sender(void *arg)
{
	struct xfer *x = arg;
	double cpu0;
	size_t len;
	long i;
	size_t j;

	pin_to(0);
	pthread_barrier_wait(&x->go);
	cpu0 = thread_cpu();
	clock_gettime(CLOCK_MONOTONIC, &x->t_start);
	for (i = 0; i < x->count; i++) {
		len = x->size;
		if (x->check) {
			len = check_len(i, x->conn.max_payload);
			for (j = 0; j < len; j++)
				txbuf[j] = check_byte(i, j);
		}
		if (dgram_send(&x->conn, txbuf, len, x->tx_err,
			       sizeof(x->tx_err)))
			break;
		x->sent++;
	}
	x->tx_cpu = thread_cpu() - cpu0;
	if (!x->tx_err[0])
		dgram_end(&x->conn, x->tx_err, sizeof(x->tx_err));
	return NULL;
}

/* Whether datagram @i of a checked transfer came as sent. */
static bool check_ok(const struct xfer *x, long i, int n, char *err,
		     size_t errlen)
{
	size_t len = check_len(i, x->conn.max_payload), j;

	if ((size_t)n != len) {
		snprintf(err, errlen, "datagram %ld: %d bytes, sent %zu "
			 "(lost or reordered?)", i, n, len);
		return false;
	}
	for (j = 0; j < len; j++)
		if (rxbuf[j] != check_byte(i, j))
			break;
	if (j == len)
		return true;
	snprintf(err, errlen, "datagram %ld (%zu bytes): byte %zu is %#x, "
		 "sent %#x", i, len, j, rxbuf[j], check_byte(i, j));
	return false;
}

static void *receiver(void *arg)
{
	struct xfer *x = arg;
	double cpu0;
	int n = 0;

	pin_to(1);
	pthread_barrier_wait(&x->go);
	cpu0 = thread_cpu();
	while (x->got < x->count) {
		n = dgram_recv(&x->conn, rxbuf, x->rx_err, sizeof(x->rx_err));
		if (n <= 0)
			break;
		if (x->check) {
			if (!check_ok(x, x->got, n, x->rx_err,
				      sizeof(x->rx_err)))
				break;
		} else if ((size_t)n != x->size) {
			snprintf(x->rx_err, sizeof(x->rx_err),
				 "datagram %ld: %d bytes, sent %zu", x->got, n,
				 x->size);
			break;
		}
		x->got++;
	}
	clock_gettime(CLOCK_MONOTONIC, &x->t_end);
	x->rx_cpu = thread_cpu() - cpu0;
	if (n == RECV_IDLE) {
		/* The last datagram came when the wait began. */
		x->t_end.tv_sec -= opt.idle_ms / 1000;
		x->t_end.tv_nsec -= opt.idle_ms % 1000 * 1000000L;
		if (x->t_end.tv_nsec < 0) {
			x->t_end.tv_nsec += 1000000000L;
			x->t_end.tv_sec--;
		}
	} else if (n == 0 && x->got < x->count) {
		x->end_seen = true;
	}
	if (x->rx_err[0] || x->got < x->count || !x->check)
		return NULL;
	/* A checked transfer must end with the end marker, nothing else. */
	n = dgram_recv(&x->conn, rxbuf, x->rx_err, sizeof(x->rx_err));
	if (n == 0)
		x->end_seen = true;
	else if (n > 0)
		snprintf(x->rx_err, sizeof(x->rx_err), "a %d-byte datagram "
			 "after the last one, not the end marker", n);
	else if (n == RECV_IDLE)
		snprintf(x->rx_err, sizeof(x->rx_err), "no end marker "
			 "(close_notify or empty datagram) within %d ms",
			 opt.idle_ms);
	return NULL;
}

/* Kernel counters that tell where lost datagrams went. */
struct drops {
	long long udp_rcvbuf, udp_mem, udp_in_err;	/* /proc/net/snmp */
	long long backlog;		/* /proc/net/softnet_stat, dropped */
};

static void read_drops(struct drops *d)
{
	char names[512], vals[512], *ns, *vs, *n, *v;
	unsigned int col[3];
	FILE *f;

	memset(d, 0, sizeof(*d));
	f = fopen("/proc/net/snmp", "r");
	while (f && fgets(names, sizeof(names), f)) {
		if (strncmp(names, "Udp: ", 5) || !fgets(vals, sizeof(vals), f))
			continue;
		n = strtok_r(names + 5, " \n", &ns);
		v = strtok_r(vals + 5, " \n", &vs);
		for (; n && v; n = strtok_r(NULL, " \n", &ns),
			       v = strtok_r(NULL, " \n", &vs)) {
			if (!strcmp(n, "RcvbufErrors"))
				d->udp_rcvbuf = atoll(v);
			else if (!strcmp(n, "MemErrors"))
				d->udp_mem = atoll(v);
			else if (!strcmp(n, "InErrors"))
				d->udp_in_err = atoll(v);
		}
		break;
	}
	if (f)
		fclose(f);
	f = fopen("/proc/net/softnet_stat", "r");
	while (f && fgets(vals, sizeof(vals), f))
		if (sscanf(vals, "%x %x %x", &col[0], &col[1], &col[2]) == 3)
			d->backlog += col[1];
	if (f)
		fclose(f);
}

/*
 * A tapsec receiver drops only records that fail a check; on loopback
 * none may.  Returns false with the counts in @err when it dropped some.
 */
static bool tapsec_rx_clean(int fd, char *err, size_t errlen)
{
	struct tapsec_sock_info si;
	socklen_t len = sizeof(si);
	const struct tapsec_counters *k = &si.counters;

	if (getsockopt(fd, SOL_TAPSEC, TAPSEC_SOCK_INFO, &si, &len)) {
		snprintf(err, errlen, "TAPSEC_SOCK_INFO: %s", strerror(errno));
		return false;
	}
	if (!(k->rx_bad_tag | k->rx_bad_record | k->rx_oversize |
	      k->rx_replayed | k->rx_bad_epoch))
		return true;
	snprintf(err, errlen, "tapsec dropped records: rx_bad_tag %llu "
		 "rx_bad_record %llu rx_oversize %llu rx_replayed %llu "
		 "rx_bad_epoch %llu (rx_records %llu)",
		 (unsigned long long)k->rx_bad_tag,
		 (unsigned long long)k->rx_bad_record,
		 (unsigned long long)k->rx_oversize,
		 (unsigned long long)k->rx_replayed,
		 (unsigned long long)k->rx_bad_epoch,
		 (unsigned long long)k->rx_records);
	return false;
}

struct outcome {
	double secs;
	double tx_cpu, rx_cpu;
	long got;
	char loss[200];		/* where lost datagrams went, if any */
};

/*
 * Send @count datagrams of @size bytes (or the checked ones) over a fresh
 * @stack connection.  Returns 0 with @out filled, or -1 on failure
 * (reported).
 */
static int transfer(enum stack stack, int ci, size_t size, long count,
		    bool check, struct outcome *out)
{
	char what[160], err[300] = "", sizes[40];
	struct drops d0, d1;
	struct xfer x;

	if (check)
		snprintf(sizes, sizeof(sizes), "1 to %d bytes (checked)",
			 MAX_PAYLOAD);
	else
		snprintf(sizes, sizeof(sizes), "%zu bytes", size);
	snprintf(what, sizeof(what), "%s%s%s, %ld datagrams of %s",
		 stack_name[stack], stack == ST_UDP ? "" : " DTLS 1.2 ",
		 stack == ST_UDP ? "" : cipher_name(opt.ciphers[ci]), count,
		 sizes);
	memset(&x, 0, sizeof(x));
	if (conn_open(stack, ci, &x.conn, what))
		return -1;
	x.count = count;
	x.size = size;
	x.check = check;
	pthread_barrier_init(&x.go, NULL, 2);
	read_drops(&d0);

	run_pair(receiver, sender, &x, what,
		 bench.timeout + opt.idle_ms / 1000 + 10);
	pthread_barrier_destroy(&x.go);
	read_drops(&d1);
	if (stack == ST_TAPSEC && !x.rx_err[0])
		tapsec_rx_clean(x.conn.rx, x.rx_err, sizeof(x.rx_err));
	conn_close(&x.conn);

	if (x.tx_err[0])
		snprintf(err, sizeof(err), "sender: %s (%ld sent)", x.tx_err,
			 x.sent);
	else if (x.rx_err[0])
		snprintf(err, sizeof(err), "receiver: %s (%ld received)",
			 x.rx_err, x.got);
	else if (!x.got)
		snprintf(err, sizeof(err), "nothing received of %ld sent",
			 x.sent);
	else if (check && x.got < count)
		snprintf(err, sizeof(err), "%ld of %ld received", x.got, count);
	if (err[0]) {
		fail("%s: %s", what, err);
		return -1;
	}
	out->secs = ts_diff(&x.t_start, &x.t_end);
	if (out->secs <= 0)
		out->secs = 1e-9;
	out->tx_cpu = x.tx_cpu;
	out->rx_cpu = x.rx_cpu;
	out->got = x.got;
	out->loss[0] = 0;
	if (x.got < count)
		snprintf(out->loss, sizeof(out->loss),
			 "%ld of %ld received, receiver stopped at %s; UDP "
			 "RcvbufErrors +%lld MemErrors +%lld InErrors +%lld, "
			 "backlog drops +%lld", x.got, count,
			 x.end_seen ? "the end marker" : "the idle timeout",
			 d1.udp_rcvbuf - d0.udp_rcvbuf, d1.udp_mem - d0.udp_mem,
			 d1.udp_in_err - d0.udp_in_err,
			 d1.backlog - d0.backlog);
	return 0;
}

/* ----------------------------------------------------------- results -- */

struct sample {
	double pps;		/* datagrams received per second */
	double tx_us;		/* sender thread CPU us per datagram sent */
	double rx_us;		/* receiver thread's per datagram received */
	long got;		/* datagrams received */
};

/*
 * results[config][size][stack][round]; plain UDP does not depend on the
 * cipher and lives under config 0 only.
 */
static struct sample results[MAX_CONFIGS][MAX_SIZES][NSTACKS][MAX_ROUNDS];
static int nresults[MAX_CONFIGS][MAX_SIZES][NSTACKS];
static bool failed[MAX_CONFIGS][MAX_SIZES][NSTACKS];
static bool lossy[MAX_CONFIGS][MAX_SIZES][NSTACKS];

/* Transfers that lost datagrams, for the notes under each table. */
static struct note {
	int ci, round;
	enum stack st;
	size_t size;
	char text[200];
} notes[MAX_NOTES];
static int nnotes, nlossy;

static int cfg_of(int ci, int st)
{
	return st == ST_UDP ? 0 : ci;
}

static bool have(int ci, int si, int st)
{
	ci = cfg_of(ci, st);
	return bench.stack_on[st] && nresults[ci][si][st] && !failed[ci][si][st];
}

enum field { F_PPS, F_TXUS, F_RXUS };

/* Field @f of every round of a row, into @v; returns how many. */
static int samples(int ci, int si, int st, enum field f, double *v)
{
	int i, n;

	ci = cfg_of(ci, st);
	n = nresults[ci][si][st];
	for (i = 0; i < n; i++) {
		const struct sample *s = &results[ci][si][st][i];

		v[i] = f == F_PPS ? s->pps : f == F_TXUS ? s->tx_us : s->rx_us;
	}
	return n;
}

static double stat_median(int ci, int si, int st, enum field f)
{
	double v[MAX_ROUNDS];
	int n = samples(ci, si, st, f, v);

	return median(v, n);
}

static double stat_best(int ci, int si, int st)
{
	double v[MAX_ROUNDS], best = 0;
	int i, n = samples(ci, si, st, F_PPS, v);

	for (i = 0; i < n; i++)
		if (v[i] > best)
			best = v[i];
	return best;
}

static double stat_pps(int ci, int si, int st, bool best)
{
	return best ? stat_best(ci, si, st) : stat_median(ci, si, st, F_PPS);
}

/*
 * tapsec's rate over @peer's: the ratio of the medians (or bests), and the
 * median and range of the per-round ratios.  False when either is missing.
 */
static bool ratio(int ci, int si, int peer, bool best, double *r, double *lo,
		  double *hi, double *mid)
{
	double a[MAX_ROUNDS], b[MAX_ROUNDS];
	int na, nb;

	if (!have(ci, si, ST_TAPSEC) || !have(ci, si, peer))
		return false;
	*r = stat_pps(ci, si, ST_TAPSEC, best) / stat_pps(ci, si, peer, best);
	na = samples(ci, si, ST_TAPSEC, F_PPS, a);
	nb = samples(ci, si, peer, F_PPS, b);
	round_ratios(a, b, na < nb ? na : nb, *r, lo, hi, mid);
	return true;
}

static const enum stack peers[] = { ST_UDP, ST_OPENSSL };
#define NPEERS	2

static bool pair_on(int p)
{
	return bench.stack_on[ST_TAPSEC] && bench.stack_on[peers[p]];
}

static void report_table(int ci, const char *release, bool best)
{
	uint16_t cipher = opt.ciphers[ci];
	int si, st, p, last = -1, k;
	char drv[160], cell[40];

	for (p = 0; p < NPEERS; p++)
		if (pair_on(p))
			last = p;
	crypto_driver(aead_name(cipher), drv, sizeof(drv));
	if (best) {
		printf("best of %d round%s, packets/s; ratios of bests "
		       "(an estimate of the cost without interference)\n",
		       bench.rounds, bench.rounds == 1 ? "" : "s");
	} else {
		printf("\nDTLS 1.2 %s (kernel: %s; %s), kernel %s, %ld CPUs: "
		       "%s\n", cipher_title(cipher), drv,
		       OpenSSL_version(OPENSSL_VERSION), release,
		       sysconf(_SC_NPROCESSORS_ONLN), cpu_model());
		printf("median of %d round%s, packets/s received of %ld sent "
		       "per transfer (* some lost); ratios: median of the "
		       "per-round ratios [range]\n", bench.rounds,
		       bench.rounds == 1 ? "" : "s", opt.count);
	}
	printf("%-5s", "size");
	for (st = 0; st < NSTACKS; st++)
		if (bench.stack_on[st])
			printf(" %10s", stack_name[st]);
	for (p = 0; p < NPEERS; p++) {
		if (!pair_on(p))
			continue;
		snprintf(cell, sizeof(cell), "tapsec/%s", stack_name[peers[p]]);
		printf(p < last ? "  %-22s" : "  %s", cell);
	}
	printf("\n");
	for (si = 0; si < bench.nsizes; si++) {
		printf("%-5zu", bench.sizes[si]);
		for (st = 0; st < NSTACKS; st++) {
			if (!bench.stack_on[st])
				continue;
			if (!have(ci, si, st)) {
				printf(" %10s", "FAILED");
				continue;
			}
			snprintf(cell, sizeof(cell), "%.0f%s",
				 stat_pps(ci, si, st, best),
				 lossy[cfg_of(ci, st)][si][st] ? "*" : "");
			printf(" %10s", cell);
		}
		for (p = 0; p < NPEERS; p++) {
			double r, lo, hi, mid;

			if (!pair_on(p))
				continue;
			if (!ratio(ci, si, peers[p], best, &r, &lo, &hi, &mid))
				snprintf(cell, sizeof(cell), "-");
			else if (best)
				snprintf(cell, sizeof(cell), "%.2f", r);
			else
				snprintf(cell, sizeof(cell), "%.2f [%.2f-%.2f]",
					 mid, lo, hi);
			printf(p < last ? "  %-22s" : "  %s", cell);
		}
		printf("\n");
	}
	if (best)
		return;
	for (k = 0; k < nnotes; k++)
		if (notes[k].ci == ci || (notes[k].st == ST_UDP && !ci))
			printf("* %s %zu B, round %d: %s\n",
			       stack_name[notes[k].st], notes[k].size,
			       notes[k].round + 1, notes[k].text);
}

/* {"udp":V,...} over the stacks that ran, V from @val or null. */
static void json_stacks(const char *key, int ci, int si,
			double (*val)(int ci, int si, int st, enum field f),
			enum field f)
{
	const char *sep = "";
	int st;

	printf(",\"%s\":{", key);
	for (st = 0; st < NSTACKS; st++, sep = ",") {
		if (!bench.stack_on[st])
			continue;
		printf("%s\"%s\":", sep, stack_name[st]);
		if (have(ci, si, st))
			printf("%.3f", val(ci, si, st, f));
		else
			printf("null");
	}
	printf("}");
}

static double json_best(int ci, int si, int st, enum field f)
{
	(void)f;
	return stat_best(ci, si, st);
}

/* One JSON object per row, on one line starting with '{'. */
static void report_json(int ci, int si, const char *release, double elapsed)
{
	static const char *const rnames[] = {
		"ratio", "ratio_best", "ratio_round_median",
		"ratio_round_min", "ratio_round_max",
	};
	uint16_t cipher = opt.ciphers[ci];
	const char *sep;
	int st, p, f, r;
	char drv[160];

	crypto_driver(aead_name(cipher), drv, sizeof(drv));
	printf("{\"bench\":\"dgram\",\"kernel\":\"%s\",\"cpu\":\"%s\","
	       "\"dtls\":\"1.2\",\"cipher\":\"%s\",\"crypto_driver\":\"%s\","
	       "\"openssl\":\"%s\",\"size\":%zu,\"count\":%ld,\"rounds\":%d",
	       release, cpu_model(), cipher_name(cipher), drv,
	       OpenSSL_version(OPENSSL_VERSION), bench.sizes[si], opt.count,
	       bench.rounds);
	json_stacks("pps", ci, si, stat_median, F_PPS);
	json_stacks("best_pps", ci, si, json_best, F_PPS);
	json_stacks("tx_cpu_us_per_pkt", ci, si, stat_median, F_TXUS);
	json_stacks("rx_cpu_us_per_pkt", ci, si, stat_median, F_RXUS);
	/* ratio of medians, of bests, median of per-round ratios, range */
	for (f = 0; f < 5; f++) {
		printf(",\"%s\":{", rnames[f]);
		for (p = 0, sep = ""; p < NPEERS; p++) {
			double q, lo, hi, mid, v;

			if (!pair_on(p))
				continue;
			printf("%s\"tapsec/%s\":", sep, stack_name[peers[p]]);
			sep = ",";
			if (!ratio(ci, si, peers[p], f == 1, &q, &lo, &hi,
				   &mid)) {
				printf("null");
				continue;
			}
			v = f < 2 ? q : f == 2 ? mid : f == 3 ? lo : hi;
			printf("%.4f", v);
		}
		printf("}");
	}
	for (f = 0; f < 2; f++) {
		printf(f ? ",\"received\":{" : ",\"samples_pps\":{");
		for (st = 0, sep = ""; st < NSTACKS; st++) {
			int c = cfg_of(ci, st);

			if (!bench.stack_on[st])
				continue;
			printf("%s\"%s\":[", sep, stack_name[st]);
			sep = ",";
			for (r = 0; r < nresults[c][si][st]; r++) {
				const struct sample *s = &results[c][si][st][r];

				if (f)
					printf("%s%ld", r ? "," : "", s->got);
				else
					printf("%s%.1f", r ? "," : "", s->pps);
			}
			printf("]");
		}
		printf("}");
	}
	printf(",\"elapsed_s\":%.1f}\n", elapsed);
}

/* ------------------------------------------------------------- main -- */

/* Untimed checked transfers: every length, every byte, the end marker. */
static void check(void)
{
	struct outcome o;
	int ci, st, si;

	for (ci = 0; ci < opt.nconfigs; ci++)
		for (st = 0; st < NSTACKS; st++) {
			if (!bench.stack_on[st] || (st == ST_UDP && ci))
				continue;
			if (transfer(st, ci, 0, NCHECK, true, &o) < 0) {
				/* the timed rounds would fail the same way */
				for (si = 0; si < bench.nsizes; si++)
					failed[ci][si][st] = true;
			}
		}
}

/* One timed transfer of the rounds; its sample goes into results[]. */
static void run_one(int round, int si, int ci, int st)
{
	int c = cfg_of(ci, st);
	struct outcome o;
	struct sample *s;
	struct note *n;

	/* plain UDP does not depend on the cipher: once per round */
	if ((st == ST_UDP && ci) || failed[c][si][st])
		return;
	if (transfer(st, ci, bench.sizes[si], opt.count, false, &o) < 0) {
		failed[c][si][st] = true;
		return;
	}
	s = &results[c][si][st][nresults[c][si][st]++];
	s->pps = o.got / o.secs;
	s->tx_us = o.tx_cpu * 1e6 / opt.count;
	s->rx_us = o.rx_cpu * 1e6 / o.got;
	s->got = o.got;
	if (o.loss[0]) {
		lossy[c][si][st] = true;
		nlossy++;
		fprintf(stderr, "dgram: LOSS: %s %zu B, round %d: %s\n",
			stack_name[st], bench.sizes[si], round + 1, o.loss);
		if (nnotes < MAX_NOTES) {
			n = &notes[nnotes++];
			n->ci = c;
			n->round = round;
			n->st = st;
			n->size = bench.sizes[si];
			snprintf(n->text, sizeof(n->text), "%s", o.loss);
		}
	}
	if (!bench.verbose)
		return;
	fprintf(stderr, "dgram: round %d/%d  %-7s %-17s %5zu B: %9.0f pkt/s  "
		"(%ld/%ld in %.2f s, cpu tx %.2f rx %.2f s)\n", round + 1,
		bench.rounds, stack_name[st],
		st == ST_UDP ? "" : cipher_name(opt.ciphers[ci]),
		bench.sizes[si], s->pps, o.got, opt.count, o.secs, o.tx_cpu,
		o.rx_cpu);
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct utsname u;
	int ci, k;

	parse_args(argc, argv);
	bench_setup(&u);

	txbuf = malloc(RXBUF_LEN);
	rxbuf = malloc(RXBUF_LEN);
	if (!txbuf || !rxbuf || random_bytes(psk_key, sizeof(psk_key))) {
		fprintf(stderr, "dgram: out of memory or randomness\n");
		return 1;
	}
	for (k = 0; k < RXBUF_LEN; k++)
		txbuf[k] = (unsigned char)(k * 131 + 7);
	memset(rxbuf, 0, RXBUF_LEN);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	fprintf(stderr, "dgram: kernel %s, %s, %d cipher%s, %d size%s, "
		"%d round%s of %ld datagrams\n", u.release,
		OpenSSL_version(OPENSSL_VERSION), opt.nconfigs,
		opt.nconfigs == 1 ? "" : "s", bench.nsizes,
		bench.nsizes == 1 ? "" : "s", bench.rounds,
		bench.rounds == 1 ? "" : "s", opt.count);
	if (opt.check)
		check();

	run_rounds(bench.stack_on, NSTACKS, bench.nsizes, opt.nconfigs, run_one);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	report_all(opt.nconfigs, bench.nsizes, report_table, report_json,
		   u.release, ts_diff(&t0, &t1));
	printf("dgram: %d transfer failure%s, %d transfer%s with loss, "
	       "%.0f s\n", failures, failures == 1 ? "" : "s", nlossy,
	       nlossy == 1 ? "" : "s", ts_diff(&t0, &t1));
	for (ci = 0; ci < opt.nconfigs; ci++)
		for (k = 0; k < 2; k++)
			SSL_CTX_free(ssl_ctx[ci][k]);
	return failures ? 1 : 0;
}
