// SPDX-License-Identifier: GPL-2.0
/*
 * stream - bulk-transfer throughput of tapsec's TLS record layer against
 * its peers, over loopback TCP, all in one boot of one machine:
 *
 *   tcp         plain TCP
 *   ktls        kTLS (tls.ko): TCP_ULP "tls", SOL_TLS TLS_TX / TLS_RX
 *   ktls-nopad  kTLS with TLS_RX_EXPECT_NO_PAD on the receiver (TLS 1.3
 *               only; off by default in the kernel; not run unless asked)
 *   tapsec      socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC) on both ends,
 *               SOL_TAPSEC TAPSEC_TX / TAPSEC_RX
 *   tapsec-ulp  plain TCP sockets upgraded with TCP_ULP "tapsec", then
 *               TAPSEC_TX / TAPSEC_RX
 *
 * For every (cipher, write size, stack) a fresh connection carries a fixed
 * number of bytes from a sending thread to a receiving thread that reads and
 * discards them.  Rounds are interleaved: each round runs every
 * combination once, stacks in an order rotated by one per round, so a slow
 * drift of the machine hits every stack alike.  The report gives the median
 * throughput per row (MB/s, 10^6 bytes per second, measured from the
 * sender's first send() to the receiver's last byte), the ratios of each
 * tapsec entry point to each peer with the range of the per-round ratios,
 * and the same for the best round, as a table and as one JSON object per
 * row (lines starting with '{').  See Documentation/performance.rst.
 *
 * Before the timed rounds every stack and cipher runs a short untimed
 * transfer whose content is checked, with odd write and read sizes.
 *
 * Exit status: 0, or 1 when a transfer failed (setup error, send/recv
 * error, timeout, wrong byte count or content), or 2 for bad usage.
 * Ratios never affect it: this is a benchmark, not a test.
 *
 * Build: tools/bench/run does it, or
 *   gcc -O2 -Wall -Wextra -Werror -std=gnu11 -Iuapi -o build/bench/stream \
 *       tools/bench/stream.c -lpthread
 */
#define BENCH_NAME "stream"
#include "bench_common.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <linux/tls.h>

#ifndef TCP_ULP
#define TCP_ULP 31
#endif
#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef TLS_RX_EXPECT_NO_PAD
#define TLS_RX_EXPECT_NO_PAD 4
#endif

/* tapsec's key layouts are kTLS's: the same bytes go to both. */
_Static_assert(sizeof(struct tapsec_crypto_info_aes_gcm_128) ==
	       sizeof(struct tls12_crypto_info_aes_gcm_128), "layout");
_Static_assert(sizeof(struct tapsec_crypto_info_aes_gcm_256) ==
	       sizeof(struct tls12_crypto_info_aes_gcm_256), "layout");
_Static_assert(sizeof(struct tapsec_crypto_info_chacha20_poly1305) ==
	       sizeof(struct tls12_crypto_info_chacha20_poly1305), "layout");
_Static_assert(TAPSEC_CIPHER_AES_GCM_128 == TLS_CIPHER_AES_GCM_128, "num");
_Static_assert(TAPSEC_CIPHER_AES_GCM_256 == TLS_CIPHER_AES_GCM_256, "num");
_Static_assert(TAPSEC_CIPHER_CHACHA20_POLY1305 ==
	       TLS_CIPHER_CHACHA20_POLY1305, "num");

#define MAX_CONFIGS	6

/* ------------------------------------------------------------ stacks -- */

enum stack { ST_TCP, ST_KTLS, ST_KTLS_NOPAD, ST_TAPSEC, ST_TAPSEC_ULP, NSTACKS };
_Static_assert(NSTACKS <= MAX_STACKS, "bench.stack_on");

static const char *const stack_name[NSTACKS] = {
	[ST_TCP] = "tcp",
	[ST_KTLS] = "ktls",
	[ST_KTLS_NOPAD] = "ktls-nopad",
	[ST_TAPSEC] = "tapsec",
	[ST_TAPSEC_ULP] = "tapsec-ulp",
};

/* ----------------------------------------------------------- ciphers -- */

struct config {
	uint16_t version;	/* TAPSEC_TLS_1_x_VERSION */
	uint16_t cipher;	/* TAPSEC_CIPHER_* */
};

static const char *version_name(uint16_t v)
{
	return v == TAPSEC_TLS_1_2_VERSION ? "1.2" : "1.3";
}


/* ----------------------------------------------------------- options -- */

static struct {
	struct config configs[MAX_CONFIGS];
	int nconfigs;
	size_t bytes[MAX_SIZES];	/* per size; 0: default */
	size_t fixed_bytes;		/* --mib */
	size_t read_size;		/* 0: same as the write size */
	bool warmup;
} opt = {
	.read_size = 256 * KIB,
	.warmup = true,
};

/*
 * Default bytes per transfer.  Under QEMU TCG with the x86 crypto drivers
 * kTLS and tapsec move 10-25 MB/s, so 16 MiB is about a second per
 * transfer and a default run (3 sizes, 4 stacks, 9 rounds) two to three
 * minutes.  Natively, use --mib 256 or more.
 */
#define DEFAULT_BYTES	(16 * MIB)

static void usage(FILE *f)
{
	fprintf(f,
"Usage: stream [OPTIONS]\n"
"\n"
"Bulk-transfer throughput over loopback TCP: plain TCP, kTLS and tapsec\n"
"(IPPROTO_TAPSEC sockets and TCP_ULP \"tapsec\"), interleaved rounds,\n"
"medians and ratios.  Needs tapsec.ko and tls.ko loaded.\n"
"\n"
"  --version 1.2|1.3      TLS version (default 1.3)\n"
"  --cipher C             aes-128-gcm (default), aes-256-gcm,\n"
"                         chacha20-poly1305\n"
"  --all-ciphers          every version and cipher (6 configurations)\n"
"  --sizes LIST           write sizes per send(), e.g. 1k,16k,256k (default)\n"
"  --mib N                MiB per transfer (default 16)\n"
"  --rounds N             interleaved rounds (default 9)\n"
"  --stacks LIST          of tcp,ktls,ktls-nopad,tapsec,tapsec-ulp\n"
"                         (default tcp,ktls,tapsec,tapsec-ulp)\n"
"  --read-size N|same     receiver's recv() size (default 256k)\n"
"  --no-pin               do not pin sender to CPU 0 and receiver to CPU 1\n"
"  --no-warmup            skip the checked warm-up transfers\n"
"  --timeout SECS         per-transfer limit (default 120)\n"
"  --quiet                no per-transfer progress on stderr\n"
"  -h, --help             this text\n");
}

/* The largest write, read and transfer size. */
#define MAX_SIZE	(64 * MIB)

/* What the options say before parse_args() turns it into opt. */
static struct {
	uint16_t version;
} args = {
	.version = TAPSEC_TLS_1_3_VERSION,
};

enum { O_VERSION = O_OWN, O_MIB, O_READ, O_NOWARM };

static void own_option(int c, const char *val)
{
	switch (c) {
	case O_VERSION:
		if (!strcmp(val, "1.2"))
			args.version = TAPSEC_TLS_1_2_VERSION;
		else if (!strcmp(val, "1.3"))
			args.version = TAPSEC_TLS_1_3_VERSION;
		else
			bad_usage("--version: 1.2 or 1.3");
		break;
	case O_MIB:
		opt.fixed_bytes = (size_t)parse_long(val, 1, 65536,
						     "--mib") * MIB;
		break;
	case O_READ:
		if (!strcmp(val, "same"))
			opt.read_size = 0;
		else if (parse_size(val, &opt.read_size, MAX_SIZE))
			bad_usage("--read-size: bad size %s", val);
		break;
	case O_NOWARM:
		opt.warmup = false;
		break;
	}
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "version", required_argument, NULL, O_VERSION },
		{ "mib", required_argument, NULL, O_MIB },
		{ "read-size", required_argument, NULL, O_READ },
		{ "no-warmup", no_argument, NULL, O_NOWARM },
		BENCH_OPTIONS
	};
	int i;

	bench.max_size = MAX_SIZE;
	bench.stack_names = stack_name;
	bench.nstacks = NSTACKS;
	bench_getopt(argc, argv, longopts, own_option, usage);
	if (!bench.stacks_given) {
		bench.stack_on[ST_TCP] = bench.stack_on[ST_KTLS] = true;
		bench.stack_on[ST_TAPSEC] = bench.stack_on[ST_TAPSEC_ULP] = true;
	}
	if (!bench.nsizes) {
		bench.sizes[0] = 1 * KIB;
		bench.sizes[1] = 16 * KIB;
		bench.sizes[2] = 256 * KIB;
		bench.nsizes = 3;
	}
	for (i = 0; i < bench.nsizes; i++)
		opt.bytes[i] = opt.fixed_bytes ?: DEFAULT_BYTES;

	if (bench.all_ciphers) {
		int vi, ci;

		for (vi = 0; vi < 2; vi++)
			for (ci = 0; ci < 3; ci++)
				opt.configs[opt.nconfigs++] = (struct config){
					vi ? TAPSEC_TLS_1_2_VERSION :
					     TAPSEC_TLS_1_3_VERSION,
					cipher_descs[ci].type };
	} else {
		opt.configs[0] = (struct config){ args.version, bench.cipher };
		opt.nconfigs = 1;
	}
}

/* -------------------------------------------------------- connection -- */

struct conn {
	int tx;		/* the sender's socket */
	int rx;		/* the receiver's socket */
};

static int set_ulp(int fd, const char *name)
{
	return setsockopt(fd, SOL_TCP, TCP_ULP, name, strlen(name));
}

/*
 * Connect a sender to a receiver over loopback with @stack's record layer
 * and @cfg's keys on them.  Returns 0, or -1 with the failure reported.
 */
static int conn_open(enum stack stack, const struct config *cfg,
		     struct conn *c, const char *what)
{
	int proto = stack == ST_TAPSEC ? IPPROTO_TAPSEC : 0;
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t slen = sizeof(sin);
	struct timeval tv = { .tv_sec = bench.timeout };
	union crypto_info ci;
	socklen_t cilen;
	int lfd, one = 1;
	const char *step;

	c->tx = c->rx = -1;
	step = "listener";
	lfd = socket(AF_INET, SOCK_STREAM, proto);
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(lfd, (struct sockaddr *)&sin, &slen) ||
	    listen(lfd, 4))
		goto err;
	step = "connect";
	c->tx = socket(AF_INET, SOCK_STREAM, proto);
	if (c->tx < 0 || connect(c->tx, (struct sockaddr *)&sin, sizeof(sin)))
		goto err;
	step = "accept";
	c->rx = accept(lfd, NULL, NULL);
	if (c->rx < 0)
		goto err;
	close(lfd);
	lfd = -1;

	step = "SO_SNDTIMEO/SO_RCVTIMEO";
	if (setsockopt(c->tx, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(c->rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(c->rx, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(c->tx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		goto err;
	if (stack == ST_TCP)
		return 0;

	step = "key generation";
	/* Key and IV random per run; rec_seq starts at 0. */
	cilen = make_crypto_info(cfg->version, cfg->cipher, 0, &ci);
	if (!cilen)
		goto err;
	switch (stack) {
	case ST_KTLS:
	case ST_KTLS_NOPAD:
		step = "TCP_ULP \"tls\" (is tls.ko loaded?)";
		if (set_ulp(c->tx, "tls") || set_ulp(c->rx, "tls"))
			goto err;
		step = "SOL_TLS TLS_TX";
		if (setsockopt(c->tx, SOL_TLS, TLS_TX, &ci, cilen))
			goto err;
		step = "SOL_TLS TLS_RX";
		if (setsockopt(c->rx, SOL_TLS, TLS_RX, &ci, cilen))
			goto err;
		if (stack == ST_KTLS_NOPAD &&
		    cfg->version == TAPSEC_TLS_1_3_VERSION) {
			step = "SOL_TLS TLS_RX_EXPECT_NO_PAD";
			if (setsockopt(c->rx, SOL_TLS, TLS_RX_EXPECT_NO_PAD,
				       &one, sizeof(one)))
				goto err;
		}
		break;
	case ST_TAPSEC_ULP:
		step = "TCP_ULP \"tapsec\"";
		if (set_ulp(c->tx, TAPSEC_ULP_NAME) ||
		    set_ulp(c->rx, TAPSEC_ULP_NAME))
			goto err;
		/* fall through */
	case ST_TAPSEC:
		step = "SOL_TAPSEC TAPSEC_TX";
		if (setsockopt(c->tx, SOL_TAPSEC, TAPSEC_TX, &ci, cilen))
			goto err;
		step = "SOL_TAPSEC TAPSEC_RX";
		if (setsockopt(c->rx, SOL_TAPSEC, TAPSEC_RX, &ci, cilen))
			goto err;
		break;
	default:
		break;
	}
	explicit_bzero(&ci, sizeof(ci));
	return 0;
err:
	fail("%s: %s: %s", what, step, strerror(errno));
	explicit_bzero(&ci, sizeof(ci));
	if (lfd >= 0)
		close(lfd);
	if (c->tx >= 0)
		close(c->tx);
	if (c->rx >= 0)
		close(c->rx);
	c->tx = c->rx = -1;
	return -1;
}

static void conn_close(struct conn *c)
{
	close(c->tx);
	close(c->rx);
}

/* ---------------------------------------------------------- transfer -- */

static unsigned char *txbuf, *rxbuf, *pattern;
static size_t txbuf_len, rxbuf_len;

/* The content at stream offset @off: a 251-byte cycle, never aligned. */
#define PATTERN_PERIOD	251
static unsigned char pattern_byte(uint64_t off)
{
	return (unsigned char)(off % PATTERN_PERIOD * 7 + 1);
}

struct xfer {
	struct conn conn;
	size_t total;		/* bytes to move */
	size_t wsize;		/* bytes per send() */
	size_t rsize;		/* bytes per recv() */
	bool verify;		/* send the pattern and check it */
	pthread_barrier_t go;
	/* results */
	struct timespec t_start;	/* sender, before the first send() */
	struct timespec t_end;		/* receiver, after the last byte */
	double tx_cpu, rx_cpu;		/* thread CPU seconds */
	size_t sent, got;
	int tx_err, rx_err;		/* errno, or -1: wrong bytes/EOF */
	const char *rx_what;
};

static void *sender(void *arg)
{
	struct xfer *x = arg;
	double cpu0;

	pin_to(0);
	pthread_barrier_wait(&x->go);
	cpu0 = thread_cpu();
	clock_gettime(CLOCK_MONOTONIC, &x->t_start);
	while (x->sent < x->total) {
		size_t n = x->total - x->sent;
		const unsigned char *p = txbuf;
		ssize_t r;

		if (n > x->wsize)
			n = x->wsize;
		if (x->verify)
			p = pattern + x->sent % PATTERN_PERIOD;
		r = send(x->conn.tx, p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			x->tx_err = errno;
			break;
		}
		x->sent += r;
	}
	x->tx_cpu = thread_cpu() - cpu0;
	/* close_notify (tapsec) and FIN: the receiver must then see EOF. */
	if (!x->tx_err && shutdown(x->conn.tx, SHUT_WR))
		x->tx_err = errno;
	return NULL;
}

static void *receiver(void *arg)
{
	struct xfer *x = arg;
	char extra[64];
	double cpu0;
	ssize_t r;

	pin_to(1);
	pthread_barrier_wait(&x->go);
	cpu0 = thread_cpu();
	while (x->got < x->total) {
		r = recv(x->conn.rx, rxbuf, x->rsize, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			x->rx_err = errno;
			x->rx_what = "recv";
			break;
		}
		if (r == 0) {
			x->rx_err = -1;
			x->rx_what = "early EOF";
			break;
		}
		if (x->verify) {
			size_t i;

			for (i = 0; i < (size_t)r; i++)
				if (rxbuf[i] != pattern_byte(x->got + i))
					break;
			if (i < (size_t)r) {
				x->rx_err = -1;
				x->rx_what = "content mismatch";
				x->got += i;
				break;
			}
		}
		x->got += r;
	}
	clock_gettime(CLOCK_MONOTONIC, &x->t_end);
	x->rx_cpu = thread_cpu() - cpu0;
	if (x->rx_err)
		return NULL;
	/* Nothing may follow the expected bytes but a clean EOF. */
	do
		r = recv(x->conn.rx, extra, sizeof(extra), 0);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		x->rx_err = errno;
		x->rx_what = "recv at end of stream";
	} else if (r > 0) {
		x->rx_err = -1;
		x->rx_what = "bytes after the expected end";
		x->got += r;
	}
	return NULL;
}

/*
 * Move @total bytes in @wsize writes over a fresh @stack connection.
 * Returns the seconds taken, or a negative number on failure (reported).
 */
static double transfer(enum stack stack, const struct config *cfg,
		       size_t wsize, size_t rsize, size_t total, bool verify,
		       double *tx_cpu, double *rx_cpu)
{
	char what[160];
	struct xfer x;
	double secs;

	snprintf(what, sizeof(what), "%s TLS %s %s, %zu-byte writes, %zu bytes%s",
		 stack_name[stack], version_name(cfg->version),
		 cipher_name(cfg->cipher), wsize, total,
		 verify ? " (checked)" : "");
	if (stack == ST_TCP)
		snprintf(what, sizeof(what), "tcp, %zu-byte writes, %zu bytes%s",
			 wsize, total, verify ? " (checked)" : "");
	memset(&x, 0, sizeof(x));
	if (conn_open(stack, cfg, &x.conn, what))
		return -1;
	x.total = total;
	x.wsize = wsize;
	x.rsize = rsize;
	x.verify = verify;
	pthread_barrier_init(&x.go, NULL, 2);

	run_pair(receiver, sender, &x, what, bench.timeout + 10);
	pthread_barrier_destroy(&x.go);
	conn_close(&x.conn);

	if (x.tx_err) {
		fail("%s: send: %s (%zu bytes sent)", what, strerror(x.tx_err),
		     x.sent);
		return -1;
	}
	if (x.rx_err) {
		fail("%s: %s: %s (%zu bytes received)", what, x.rx_what,
		     x.rx_err > 0 ? strerror(x.rx_err) : "wrong data", x.got);
		return -1;
	}
	if (x.got != total || x.sent != total) {
		fail("%s: sent %zu, received %zu", what, x.sent, x.got);
		return -1;
	}
	secs = ts_diff(&x.t_start, &x.t_end);
	if (secs <= 0)
		secs = 1e-9;
	*tx_cpu = x.tx_cpu;
	*rx_cpu = x.rx_cpu;
	return secs;
}

/* ----------------------------------------------------------- results -- */

struct sample {
	double mbps;		/* 10^6 bytes per second */
	double tx_cpu;		/* sender thread CPU seconds per GB moved */
	double rx_cpu;		/* receiver thread's */
};

/*
 * results[config][size][stack][round]; plain TCP does not depend on the
 * cipher and lives under config 0 only.
 */
static struct sample results[MAX_CONFIGS][MAX_SIZES][NSTACKS][MAX_ROUNDS];
static int nresults[MAX_CONFIGS][MAX_SIZES][NSTACKS];
static bool failed[MAX_CONFIGS][MAX_SIZES][NSTACKS];

static int cfg_of(int ci, int st)
{
	return st == ST_TCP ? 0 : ci;
}

enum field { F_MBPS, F_TXCPU, F_RXCPU };

static double field_of(const struct sample *s, enum field f)
{
	return f == F_MBPS ? s->mbps : f == F_TXCPU ? s->tx_cpu : s->rx_cpu;
}

static double stat_median(int ci, int si, int st, enum field f)
{
	double v[MAX_ROUNDS];
	int i, n;

	ci = cfg_of(ci, st);
	n = nresults[ci][si][st];
	for (i = 0; i < n; i++)
		v[i] = field_of(&results[ci][si][st][i], f);
	return median(v, n);
}

/* The best (highest) throughput of the rounds. */
static double stat_best(int ci, int si, int st)
{
	double best = 0;
	int i;

	ci = cfg_of(ci, st);
	for (i = 0; i < nresults[ci][si][st]; i++)
		if (results[ci][si][st][i].mbps > best)
			best = results[ci][si][st][i].mbps;
	return best;
}

static double stat_mbps(int ci, int si, int st, bool best)
{
	return best ? stat_best(ci, si, st) : stat_median(ci, si, st, F_MBPS);
}

static bool have(int ci, int si, int st)
{
	ci = cfg_of(ci, st);
	return bench.stack_on[st] && nresults[ci][si][st] && !failed[ci][si][st];
}

/*
 * The ratio of @a's median (or best) to @b's; the range and the median of
 * the ratios of the two within each round (they ran back to back there).
 * False when either is missing.
 */
static bool ratio(int ci, int si, int a, int b, bool best, double *r,
		  double *lo, double *hi, double *mid)
{
	int i, n, ca = cfg_of(ci, a), cb = cfg_of(ci, b);
	double qa[MAX_ROUNDS], qb[MAX_ROUNDS];

	if (!have(ci, si, a) || !have(ci, si, b))
		return false;
	*r = stat_mbps(ci, si, a, best) / stat_mbps(ci, si, b, best);
	n = nresults[ca][si][a];
	if (nresults[cb][si][b] < n)
		n = nresults[cb][si][b];
	for (i = 0; i < n; i++) {
		qa[i] = results[ca][si][a][i].mbps;
		qb[i] = results[cb][si][b][i].mbps;
	}
	round_ratios(qa, qb, n, *r, lo, hi, mid);
	return true;
}

/* The (tapsec stack, peer) pairs whose ratios the report gives. */
struct pair {
	enum stack ours, peer;
	char title[32];
};

static int report_pairs(struct pair *pairs)
{
	static const enum stack ours[] = { ST_TAPSEC, ST_TAPSEC_ULP };
	static const enum stack peers[] = { ST_KTLS, ST_KTLS_NOPAD, ST_TCP };
	int o, p, n = 0;

	for (p = 0; p < 3; p++)
		for (o = 0; o < 2; o++) {
			if (!bench.stack_on[ours[o]] || !bench.stack_on[peers[p]])
				continue;
			pairs[n].ours = ours[o];
			pairs[n].peer = peers[p];
			snprintf(pairs[n].title, sizeof(pairs[n].title), "%s/%s",
				 stack_name[ours[o]], stack_name[peers[p]]);
			n++;
		}
	return n;
}

static void report_table(int ci, const char *release, bool best)
{
	const struct config *cfg = &opt.configs[ci];
	struct pair pairs[6];
	int np = report_pairs(pairs), si, st, p;
	char label[32], drv[160];

	crypto_driver(aead_name(cfg->cipher), drv, sizeof(drv));
	if (opt.read_size)
		size_label(opt.read_size, label, sizeof(label));
	else
		snprintf(label, sizeof(label), "= write size");
	if (best) {
		printf("best of %d round%s, MB/s; ratios of bests "
		       "(an estimate of the cost without interference)\n",
		       bench.rounds, bench.rounds == 1 ? "" : "s");
	} else {
		printf("\nTLS %s %s (%s), kernel %s, %ld CPUs: %s\n",
		       version_name(cfg->version), cipher_title(cfg->cipher),
		       drv, release, sysconf(_SC_NPROCESSORS_ONLN),
		       cpu_model());
		printf("median of %d round%s, MB/s = 10^6 B/s, recv() size %s; "
		       "ratios of medians [range of per-round ratios]\n",
		       bench.rounds, bench.rounds == 1 ? "" : "s", label);
	}
	printf("%-5s %4s", "write", "MiB");
	for (st = 0; st < NSTACKS; st++)
		if (bench.stack_on[st])
			printf(" %10s", stack_name[st]);
	for (p = 0; p < np; p++)
		printf(p < np - 1 ? "  %-22s" : "  %s", pairs[p].title);
	printf("\n");
	for (si = 0; si < bench.nsizes; si++) {
		size_label(bench.sizes[si], label, sizeof(label));
		printf("%-5s %4zu", label, opt.bytes[si] / MIB);
		for (st = 0; st < NSTACKS; st++) {
			if (!bench.stack_on[st])
				continue;
			if (have(ci, si, st))
				printf(" %10.1f", stat_mbps(ci, si, st, best));
			else
				printf(" %10s", "FAILED");
		}
		for (p = 0; p < np; p++) {
			double r, lo, hi, mid;
			char cell[40];

			if (!ratio(ci, si, pairs[p].ours, pairs[p].peer, best,
				   &r, &lo, &hi, &mid))
				snprintf(cell, sizeof(cell), "-");
			else if (best)
				snprintf(cell, sizeof(cell), "%.2f", r);
			else
				snprintf(cell, sizeof(cell), "%.2f [%.2f-%.2f]",
					 r, lo, hi);
			printf(p < np - 1 ? "  %-22s" : "  %s", cell);
		}
		printf("\n");
	}
}

/* One JSON object per row, on one line starting with '{'. */
static void report_json(int ci, int si, const char *release, double elapsed)
{
	static const enum field fields[] = { F_MBPS, F_TXCPU, F_RXCPU };
	static const char *const fnames[] = {
		"mbps", "tx_cpu_s_per_gb", "rx_cpu_s_per_gb",
	};
	const struct config *cfg = &opt.configs[ci];
	struct pair pairs[6];
	int np = report_pairs(pairs), st, p, f, r;
	const char *sep;
	char drv[160];

	crypto_driver(aead_name(cfg->cipher), drv, sizeof(drv));
	printf("{\"bench\":\"stream\",\"kernel\":\"%s\",\"cpu\":\"%s\","
	       "\"tls\":\"%s\","
	       "\"cipher\":\"%s\",\"crypto_driver\":\"%s\","
	       "\"write_size\":%zu,\"read_size\":%zu,\"bytes\":%zu,"
	       "\"rounds\":%d",
	       release, cpu_model(), version_name(cfg->version),
	       cipher_name(cfg->cipher), drv, bench.sizes[si], opt.read_size ?: bench.sizes[si],
	       opt.bytes[si], bench.rounds);
	for (f = 0; f < 3; f++) {
		printf(",\"%s\":{", fnames[f]);
		sep = "";
		for (st = 0; st < NSTACKS; st++) {
			if (!bench.stack_on[st])
				continue;
			printf("%s\"%s\":", sep, stack_name[st]);
			sep = ",";
			if (have(ci, si, st))
				printf("%.3f", stat_median(ci, si, st, fields[f]));
			else
				printf("null");
		}
		printf("}");
	}
	printf(",\"best_mbps\":{");
	for (st = 0, sep = ""; st < NSTACKS; st++) {
		if (!bench.stack_on[st])
			continue;
		printf("%s\"%s\":", sep, stack_name[st]);
		sep = ",";
		if (have(ci, si, st))
			printf("%.3f", stat_best(ci, si, st));
		else
			printf("null");
	}
	printf("}");
	/* ratio of medians, of bests, median of per-round ratios, range */
	for (f = 0; f < 5; f++) {
		static const char *const rnames[] = {
			"ratio", "ratio_best", "ratio_round_median",
			"ratio_round_min", "ratio_round_max",
		};

		printf(",\"%s\":{", rnames[f]);
		for (p = 0, sep = ""; p < np; p++, sep = ",") {
			double q, lo, hi, mid, v;

			if (!ratio(ci, si, pairs[p].ours, pairs[p].peer, f == 1,
				   &q, &lo, &hi, &mid)) {
				printf("%s\"%s\":null", sep, pairs[p].title);
				continue;
			}
			v = f < 2 ? q : f == 2 ? mid : f == 3 ? lo : hi;
			printf("%s\"%s\":%.4f", sep, pairs[p].title, v);
		}
		printf("}");
	}
	printf(",\"samples_mbps\":{");
	for (st = 0, sep = ""; st < NSTACKS; st++) {
		int c = cfg_of(ci, st);

		if (!bench.stack_on[st])
			continue;
		printf("%s\"%s\":[", sep, stack_name[st]);
		sep = ",";
		for (r = 0; r < nresults[c][si][st]; r++)
			printf("%s%.3f", r ? "," : "", results[c][si][st][r].mbps);
		printf("]");
	}
	printf("},\"elapsed_s\":%.1f}\n", elapsed);
}

/* ------------------------------------------------------------- main -- */

/* Untimed checked transfers: odd sizes cross record boundaries. */
static void warmup(void)
{
	double a, b;
	int ci, st;

	for (ci = 0; ci < opt.nconfigs; ci++)
		for (st = 0; st < NSTACKS; st++) {
			if (!bench.stack_on[st] || (st == ST_TCP && ci))
				continue;
			if (transfer(st, &opt.configs[ci], 16 * KIB + 13, 4093,
				     4 * MIB + 7, true, &a, &b) < 0) {
				/* the timed rounds would fail the same way */
				failed[ci][0][st] = true;
			}
		}
}

/* One timed transfer of the rounds; its sample goes into results[]. */
static void run_one(int round, int si, int ci, int st)
{
	const struct config *cfg = &opt.configs[ci];
	size_t rsize = opt.read_size ?: bench.sizes[si];
	int c = cfg_of(ci, st);
	double secs, txc, rxc;
	struct sample *s;

	/* plain TCP does not depend on the cipher: once per round */
	if ((st == ST_TCP && ci) || failed[c][si][st])
		return;
	secs = transfer(st, cfg, bench.sizes[si], rsize, opt.bytes[si], false,
			&txc, &rxc);
	if (secs < 0) {
		failed[c][si][st] = true;
		return;
	}
	s = &results[c][si][st][nresults[c][si][st]++];
	s->mbps = opt.bytes[si] / secs / 1e6;
	s->tx_cpu = txc / (opt.bytes[si] / 1e9);
	s->rx_cpu = rxc / (opt.bytes[si] / 1e9);
	if (!bench.verbose)
		return;
	fprintf(stderr, "stream: round %d/%d  %-10s %-4s %-17s %7zu B writes: ",
		round + 1, bench.rounds, stack_name[st],
		st == ST_TCP ? "" : version_name(cfg->version),
		st == ST_TCP ? "" : cipher_name(cfg->cipher), bench.sizes[si]);
	fprintf(stderr, "%8.1f MB/s  (%.2f s, cpu tx %.2f rx %.2f s)\n",
		s->mbps, secs, txc, rxc);
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct utsname u;
	int ci, si, k, i;
	size_t maxw = 16 * KIB + 13, maxr = 4093;

	parse_args(argc, argv);
	bench_setup(&u);

	for (si = 0; si < bench.nsizes; si++) {
		if (bench.sizes[si] > maxw)
			maxw = bench.sizes[si];
		if (!opt.read_size && bench.sizes[si] > maxr)
			maxr = bench.sizes[si];
	}
	if (opt.read_size > maxr)
		maxr = opt.read_size;
	txbuf_len = maxw;
	rxbuf_len = maxr;
	txbuf = malloc(txbuf_len);
	rxbuf = malloc(rxbuf_len);
	pattern = malloc(txbuf_len + PATTERN_PERIOD);
	if (!txbuf || !rxbuf || !pattern) {
		fprintf(stderr, "stream: out of memory\n");
		return 1;
	}
	for (i = 0; i < (int)txbuf_len; i++)
		txbuf[i] = (unsigned char)(i * 131 + 7);
	for (i = 0; i < (int)(txbuf_len + PATTERN_PERIOD); i++)
		pattern[i] = pattern_byte(i);
	memset(rxbuf, 0, rxbuf_len);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	fprintf(stderr, "stream: kernel %s, %d configuration%s, %d size%s, "
		"%d round%s\n", u.release, opt.nconfigs,
		opt.nconfigs == 1 ? "" : "s", bench.nsizes,
		bench.nsizes == 1 ? "" : "s", bench.rounds,
		bench.rounds == 1 ? "" : "s");
	if (opt.warmup)
		warmup();
	/* A stack that failed its warm-up is left out of the timed rounds. */
	for (ci = 0; ci < opt.nconfigs; ci++)
		for (k = 0; k < NSTACKS; k++)
			if (failed[ci][0][k])
				for (si = 1; si < bench.nsizes; si++)
					failed[ci][si][k] = true;

	run_rounds(bench.stack_on, NSTACKS, bench.nsizes, opt.nconfigs, run_one);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	report_all(opt.nconfigs, bench.nsizes, report_table, report_json,
		   u.release, ts_diff(&t0, &t1));
	printf("stream: %d transfer failure%s, %.0f s\n", failures,
	       failures == 1 ? "" : "s", ts_diff(&t0, &t1));
	return failures ? 1 : 0;
}
