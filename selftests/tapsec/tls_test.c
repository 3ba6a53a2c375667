// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec's TLS record engine (TLS 1.2/1.3 records over TCP):
 *
 *  - known answers from RFC 8448 on the wire, both directions;
 *  - interoperability with kTLS (tls.ko) for every version, cipher, entry
 *    point and family, and byte-identical records for the same key;
 *  - bad input from a raw TCP peer: each gets its errno and its counter,
 *    and other connections keep working;
 *  - socket behaviour: blocking and non-blocking I/O, poll/epoll, partial
 *    reads, MSG_PEEK, SO_RCVLOWAT, sendfile/splice, MSG_MORE, record types,
 *    sequence exhaustion, key read-back and validation, TLS 1.3 rekey;
 *  - lifecycle: close with unread data or with blocked threads, 10,000
 *    keyed connections without leaks, per-namespace counters.
 *
 * Valid records for the raw peer are made by a kTLS transmitter (an
 * implementation independent of tapsec) and captured off the wire; records
 * kTLS cannot make (TLS 1.3 padding, bad inner types) are sealed with the
 * kernel's AEADs through AF_ALG.  Runs inside a VM with tapsec.ko loaded.
 */
#include <fcntl.h>
#include <grp.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tls.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <netlink/netlink.h>
#include <netlink/genl/genl.h>

#include "tapsec_harness.h"
#include "tapsec_test.h"
#include "tapsec_test_util.h"
#include "tapsec_alg.h"
#include "tapsec_nl.h"

#ifndef TCP_ULP
#define TCP_ULP 31
#endif
#ifndef SOL_TLS
#define SOL_TLS 282
#endif

/* tapsec's key structures are kTLS's, byte for byte. */
#define SAME_LAYOUT(a, b, f)						\
	_Static_assert(offsetof(struct a, f) == offsetof(struct b, f) &&\
		       sizeof(((struct a *)0)->f) == sizeof(((struct b *)0)->f), \
		       #a "." #f)
SAME_LAYOUT(tapsec_crypto_info_aes_gcm_128, tls12_crypto_info_aes_gcm_128, iv);
SAME_LAYOUT(tapsec_crypto_info_aes_gcm_128, tls12_crypto_info_aes_gcm_128, key);
SAME_LAYOUT(tapsec_crypto_info_aes_gcm_128, tls12_crypto_info_aes_gcm_128, salt);
SAME_LAYOUT(tapsec_crypto_info_aes_gcm_128, tls12_crypto_info_aes_gcm_128, rec_seq);
SAME_LAYOUT(tapsec_crypto_info_aes_gcm_256, tls12_crypto_info_aes_gcm_256, iv);
SAME_LAYOUT(tapsec_crypto_info_aes_gcm_256, tls12_crypto_info_aes_gcm_256, key);
SAME_LAYOUT(tapsec_crypto_info_aes_gcm_256, tls12_crypto_info_aes_gcm_256, salt);
SAME_LAYOUT(tapsec_crypto_info_aes_gcm_256, tls12_crypto_info_aes_gcm_256, rec_seq);
SAME_LAYOUT(tapsec_crypto_info_chacha20_poly1305, tls12_crypto_info_chacha20_poly1305, iv);
SAME_LAYOUT(tapsec_crypto_info_chacha20_poly1305, tls12_crypto_info_chacha20_poly1305, key);
SAME_LAYOUT(tapsec_crypto_info_chacha20_poly1305, tls12_crypto_info_chacha20_poly1305, rec_seq);
_Static_assert(sizeof(struct tapsec_crypto_info_aes_gcm_128) ==
	       sizeof(struct tls12_crypto_info_aes_gcm_128), "gcm128 size");
_Static_assert(sizeof(struct tapsec_crypto_info_aes_gcm_256) ==
	       sizeof(struct tls12_crypto_info_aes_gcm_256), "gcm256 size");
_Static_assert(sizeof(struct tapsec_crypto_info_chacha20_poly1305) ==
	       sizeof(struct tls12_crypto_info_chacha20_poly1305), "chacha size");
_Static_assert(TAPSEC_TLS_1_2_VERSION == TLS_1_2_VERSION &&
	       TAPSEC_TLS_1_3_VERSION == TLS_1_3_VERSION, "versions");
_Static_assert(TAPSEC_CIPHER_AES_GCM_128 == TLS_CIPHER_AES_GCM_128 &&
	       TAPSEC_CIPHER_AES_GCM_256 == TLS_CIPHER_AES_GCM_256 &&
	       TAPSEC_CIPHER_CHACHA20_POLY1305 == TLS_CIPHER_CHACHA20_POLY1305,
	       "ciphers");
_Static_assert(TAPSEC_SET_RECORD_TYPE == TLS_SET_RECORD_TYPE &&
	       TAPSEC_GET_RECORD_TYPE == TLS_GET_RECORD_TYPE, "cmsg types");

#define TLS12	TAPSEC_TLS_1_2_VERSION
#define TLS13	TAPSEC_TLS_1_3_VERSION
#define GCM128	TAPSEC_CIPHER_AES_GCM_128
#define GCM256	TAPSEC_CIPHER_AES_GCM_256
#define CHACHA	TAPSEC_CIPHER_CHACHA20_POLY1305

#define REC_HDR		5
#define REC_TAG		16
#define MAX_PLAIN	16384
#define MAX_CT12	(MAX_PLAIN + 2048)
#define MAX_CT13	(MAX_PLAIN + 256)
#define MAX_REC		(REC_HDR + MAX_CT12)

#define T_ALERT		TAPSEC_RECORD_ALERT
#define T_HANDSHAKE	TAPSEC_RECORD_HANDSHAKE
#define T_DATA		TAPSEC_RECORD_APPLICATION_DATA

#define BULK		(4 << 20)	/* one big transfer per variant */
#define WAIT_MS		5000		/* longest wait for data that must come */

/* Entry points into the engine. */
enum entry {
	E_SOCKET,	/* socket(..., IPPROTO_TAPSEC) connecting out */
	E_ULP,		/* TCP_ULP "tapsec" on an established TCP socket */
	E_ACCEPT,	/* child of a tapsec listener */
};

/* ------------------------------------------------------------------ */
/* keys                                                                */

/* A random first sequence number: not 0, far from the end. */
static uint64_t random_seq(void)
{
	uint64_t s;

	fill_random(&s, sizeof(s));
	return s >> 20;
}

/* Record overhead: header, explicit nonce, tag, TLS 1.3 inner type. */
static size_t rec_overhead(uint16_t version, uint16_t cipher)
{
	if (version == TLS13)
		return REC_HDR + 1 + REC_TAG;
	return REC_HDR + (cipher == CHACHA ? 0 : 8) + REC_TAG;
}

/* Bytes on the wire for @len bytes sent in one call (no MSG_MORE). */
static size_t wire_len(uint16_t version, uint16_t cipher, size_t len)
{
	size_t recs = len ? (len + MAX_PLAIN - 1) / MAX_PLAIN : 0;

	return len + recs * rec_overhead(version, cipher);
}

/* kTLS on a plain TCP socket: the ULP once, then a key. */
static int ktls_key(int fd, int dir, const struct key *k)
{
	char name[8] = "";
	socklen_t len = sizeof(name);

	if (getsockopt(fd, SOL_TCP, TCP_ULP, name, &len) || strcmp(name, "tls")) {
		if (setsockopt(fd, SOL_TCP, TCP_ULP, "tls", 3))
			return -1;
	}
	return setsockopt(fd, SOL_TLS, dir == TAPSEC_TX ? TLS_TX : TLS_RX,
			  &k->ci, k->len);
}

/* ------------------------------------------------------------------ */
/* sockets                                                             */

/*
 * A connected TCP pair on loopback: *cfd connected from a socket of protocol
 * @cproto to a listener of protocol @lproto, *afd accepted.  0 or -errno.
 */
static int tcp_pair(int family, int lproto, int cproto, int *cfd, int *afd)
{
	struct sockaddr_storage srv;
	socklen_t srvlen;
	int lfd, err;

	*cfd = *afd = -1;
	lfd = socket(family, SOCK_STREAM, lproto);
	if (lfd < 0)
		return -errno;
	if (tt_bind_loopback(lfd, family, &srv, &srvlen) || listen(lfd, 16))
		goto fail;
	*cfd = socket(family, SOCK_STREAM, cproto);
	if (*cfd < 0 || connect(*cfd, (struct sockaddr *)&srv, srvlen))
		goto fail;
	*afd = accept(lfd, NULL, NULL);
	if (*afd < 0)
		goto fail;
	close(lfd);
	return 0;
fail:
	err = -errno;
	close(lfd);
	if (*cfd >= 0)
		close(*cfd);
	*cfd = -1;
	return err ? err : -EIO;
}

static int plain_pair(int family, int *a, int *b)
{
	return tcp_pair(family, 0, 0, a, b);
}

/*
 * *tfd: a tapsec socket reached through @entry; *pfd: a plain TCP socket
 * connected to it (the peer: raw, or kTLS once keyed).  0 or -errno.
 */
static int tls_pair(int family, enum entry entry, int *tfd, int *pfd)
{
	int c, a, err;

	switch (entry) {
	case E_SOCKET:
		err = tcp_pair(family, 0, IPPROTO_TAPSEC, tfd, pfd);
		break;
	case E_ACCEPT:
		err = tcp_pair(family, IPPROTO_TAPSEC, 0, pfd, tfd);
		break;
	default:
		err = tcp_pair(family, 0, 0, &c, &a);
		if (err)
			break;
		if (setsockopt(c, SOL_TCP, TCP_ULP, TAPSEC_ULP_NAME,
			       strlen(TAPSEC_ULP_NAME))) {
			err = -errno;
			close(c);
			close(a);
			break;
		}
		*tfd = c;
		*pfd = a;
	}
	return err;
}

/* ------------------------------------------------------------------ */
/* data                                                                */

#define PAT_SLACK	(64 << 10)
static uint8_t *pat;	/* BULK + PAT_SLACK pseudo-random bytes */

static void __attribute__((constructor)) tls_test_init(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t i;

	pat = malloc(BULK + PAT_SLACK);
	if (!pat)
		abort();
	for (i = 0; i < BULK + PAT_SLACK; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(pat + i, &x, 8);
	}
	/* kTLS and the AEADs, quietly; the tests say if they are missing. */
	if (system("modprobe -q tls; modprobe -q algif_aead; "
		   "modprobe -q chacha20poly1305; modprobe -q gcm") < 0)
		perror("system");
}

/* The expected bytes of a stream with @seed (offset into the pattern). */
static const uint8_t *stream(unsigned int seed)
{
	return pat + seed % PAT_SLACK;
}

struct writer {
	pthread_t th;
	int fd;
	const uint8_t *buf;
	size_t len;
	size_t chunk;
	size_t done;
	int err;
};

static void *writer_fn(void *arg)
{
	struct writer *w = arg;

	while (w->done < w->len) {
		size_t n = w->len - w->done;
		ssize_t r;

		if (n > w->chunk)
			n = w->chunk;
		r = send(w->fd, w->buf + w->done, n, MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			w->err = errno;
			break;
		}
		w->done += r;
	}
	return NULL;
}

static int writer_start(struct writer *w, int fd, const uint8_t *buf,
			size_t len, size_t chunk)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->buf = buf;
	w->len = len;
	w->chunk = chunk;
	return pthread_create(&w->th, NULL, writer_fn, w);
}

/*
 * Send @len bytes of stream @seed from @tx (one call when small, a writer
 * thread otherwise) and read them on @rx, comparing.  Returns 0 or a
 * description of what went wrong in @why.
 */
static int transfer(int tx, int rx, size_t len, unsigned int seed,
		    char *why, size_t whylen)
{
	const uint8_t *exp = stream(seed);
	size_t got = 0, bufsz = 256 << 10;
	uint8_t *buf = malloc(bufsz);
	struct writer w;
	int ret = -1;

	if (!buf || writer_start(&w, tx, exp, len, 1 << 20)) {
		snprintf(why, whylen, "no memory or thread");
		free(buf);
		return -1;
	}
	while (got < len) {
		size_t want = len - got < bufsz ? len - got : bufsz;
		ssize_t n;

		if (!wait_fd(rx, POLLIN, WAIT_MS)) {
			snprintf(why, whylen, "stalled at %zu of %zu (sender %zu, %s)",
				 got, len, w.done, strerror(w.err));
			goto out;
		}
		n = recv(rx, buf, want, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			snprintf(why, whylen, "recv at %zu of %zu: %s", got, len,
				 n ? strerror(errno) : "end of file");
			goto out;
		}
		if (memcmp(buf, exp + got, n)) {
			snprintf(why, whylen, "data differs in %zu..%zu", got, got + n);
			goto out;
		}
		got += n;
	}
	ret = 0;
out:
	if (ret)
		shutdown(rx, SHUT_RDWR);	/* unblock the writer */
	pthread_join(w.th, NULL);
	if (!ret && (w.err || w.done != len)) {
		snprintf(why, whylen, "sender: %zu of %zu, %s", w.done, len,
			 strerror(w.err));
		ret = -1;
	}
	free(buf);
	return ret;
}

#define XFER(tx, rx, len, seed) do {					\
		char __why[160] = "";					\
		ASSERT_EQ(0, transfer(tx, rx, len, seed, __why, sizeof(__why))) \
			TH_LOG("%zu bytes: %s", (size_t)(len), __why);	\
	} while (0)

/* Both directions at once, @len bytes each way, read with poll(). */
static int duplex(int a, int b, size_t len, char *why, size_t whylen)
{
	struct writer wa, wb;
	size_t got[2] = { 0, 0 };
	const uint8_t *exp[2] = { stream(1), stream(2) };
	uint8_t *buf = malloc(256 << 10);
	int ret = -1, i;

	if (!buf)
		return -1;
	if (writer_start(&wa, a, exp[0], len, 256 << 10)) {
		free(buf);
		return -1;
	}
	if (writer_start(&wb, b, exp[1], len, 256 << 10)) {
		shutdown(a, SHUT_RDWR);
		pthread_join(wa.th, NULL);
		free(buf);
		return -1;
	}
	while (got[0] < len || got[1] < len) {
		/* pfd[0] reads what a sent (on b), pfd[1] what b sent (on a). */
		struct pollfd pfd[2] = {
			{ .fd = got[0] < len ? b : -1, .events = POLLIN },
			{ .fd = got[1] < len ? a : -1, .events = POLLIN },
		};

		if (poll(pfd, 2, WAIT_MS) <= 0) {
			snprintf(why, whylen, "stalled: %zu and %zu of %zu", got[0],
				 got[1], len);
			goto out;
		}
		for (i = 0; i < 2; i++) {
			ssize_t n;

			if (!pfd[i].revents)
				continue;
			n = recv(pfd[i].fd, buf, 256 << 10, MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n <= 0 || got[i] + n > len) {
				snprintf(why, whylen, "direction %d at %zu: %s", i,
					 got[i], n < 0 ? strerror(errno) :
					 n ? "too much" : "end of file");
				goto out;
			}
			if (memcmp(buf, exp[i] + got[i], n)) {
				snprintf(why, whylen, "direction %d: data differs at %zu",
					 i, got[i]);
				goto out;
			}
			got[i] += n;
		}
	}
	ret = 0;
out:
	if (ret) {
		shutdown(a, SHUT_RDWR);
		shutdown(b, SHUT_RDWR);
	}
	pthread_join(wa.th, NULL);
	pthread_join(wb.th, NULL);
	if (!ret && (wa.done != len || wb.done != len)) {
		snprintf(why, whylen, "senders: %zu (%s), %zu (%s)", wa.done,
			 strerror(wa.err), wb.done, strerror(wb.err));
		ret = -1;
	}
	free(buf);
	return ret;
}

/* ------------------------------------------------------------------ */
/* records made by kTLS, and by AF_ALG                                 */

struct rec_spec {
	int type;	/* content type */
	size_t len;	/* plaintext bytes, at most MAX_PLAIN */
	unsigned int seed;	/* payload: stream(seed) ... */
	const uint8_t *data;	/* ... unless this is set */
};

/*
 * Have kTLS seal one record per spec with @k (starting at its rec_seq) and
 * capture the bytes off the wire into @out, with each record's offset in
 * @offs (n + 1 entries: the last is the total).  Returns the total or -1.
 */
static ssize_t ktls_records(const struct key *k, const struct rec_spec *spec,
			    int n, uint8_t *out, size_t outlen, size_t *offs)
{
	uint16_t ver = k->ci.info.version, cipher = k->ci.info.cipher_type;
	size_t total = 0;
	int a, b, i;

	if (plain_pair(AF_INET, &a, &b))
		return -1;
	if (ktls_key(a, TAPSEC_TX, k))
		goto fail;
	for (i = 0; i < n; i++) {
		size_t want = spec[i].len + rec_overhead(ver, cipher);

		if (total + want > outlen)
			goto fail;
		if (send_type(a, SOL_TLS, spec[i].type,
			      spec[i].data ?: stream(spec[i].seed),
			      spec[i].len, 0) != (ssize_t)spec[i].len)
			goto fail;
		if (read_exact(b, out + total, want, WAIT_MS) != (ssize_t)want)
			goto fail;
		if (offs)
			offs[i] = total;
		total += want;
	}
	if (offs)
		offs[n] = total;
	close(a);
	close(b);
	return total;
fail:
	close(a);
	close(b);
	return -1;
}

/*
 * Seal a record with @k at sequence number @seq through AF_ALG.  TLS 1.3:
 * inner plaintext is payload || @type || @pad zero bytes, and @type < 0
 * leaves the type byte out (all-zero inner plaintext when @plen is 0).
 * Returns the record's length or -errno.
 */
static ssize_t alg_record(const struct key *k, uint64_t seq, int type,
			  const uint8_t *payload, size_t plen, size_t pad,
			  uint8_t *out)
{
	uint16_t ver = k->ci.info.version, cipher = k->ci.info.cipher_type;
	uint8_t nonce[12], aad[13], *inner;
	size_t ilen, clen, off = REC_HDR;
	int keylen, err, i;
	const uint8_t *key = key_bytes(k, &keylen);

	key_nonce(k, nonce);
	inner = malloc(plen + 1 + pad + REC_TAG + 64);
	if (!inner)
		return -ENOMEM;
	memcpy(inner, payload, plen);
	ilen = plen;
	if (ver == TLS13) {
		if (type >= 0)
			inner[ilen++] = type;
		memset(inner + ilen, 0, pad);
		ilen += pad;
		for (i = 0; i < 8; i++)
			nonce[11 - i] ^= seq >> (8 * i);
		clen = ilen + REC_TAG;
		out[0] = T_DATA;
		out[1] = 3;
		out[2] = 3;
		out[3] = clen >> 8;
		out[4] = clen;
		err = alg_seal(cipher, key, keylen, nonce, out, REC_HDR, inner,
			       ilen, out);
	} else {
		if (cipher == CHACHA) {
			for (i = 0; i < 8; i++)
				nonce[11 - i] ^= seq >> (8 * i);
		} else {
			put_be64(nonce + 4, seq);	/* explicit nonce */
		}
		clen = (cipher == CHACHA ? 0 : 8) + plen + REC_TAG;
		out[0] = type;
		out[1] = 3;
		out[2] = 3;
		out[3] = clen >> 8;
		out[4] = clen;
		if (cipher != CHACHA) {
			memcpy(out + REC_HDR, nonce + 4, 8);
			off += 8;
		}
		put_be64(aad, seq);
		aad[8] = type;
		aad[9] = 3;
		aad[10] = 3;
		aad[11] = plen >> 8;
		aad[12] = plen;
		{
			uint8_t *tmp = malloc(13 + plen + REC_TAG);

			if (!tmp) {
				free(inner);
				return -ENOMEM;
			}
			err = alg_seal(cipher, key, keylen, nonce, aad, 13, inner,
				       plen, tmp);
			memcpy(out + off, tmp + 13, plen + REC_TAG);
			free(tmp);
		}
	}
	free(inner);
	return err ? err : (ssize_t)(REC_HDR + clen);
}

/* ------------------------------------------------------------------ */
/* netlink: per-namespace counters (TAPSEC_CMD_GET_STATS)              */

struct stats_reply {
	uint64_t c[sizeof(struct tapsec_counters) / 8];
	int parsed;
};

static int stats_cb(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *gnlh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[TAPSEC_A_MAX + 1], *st[TAPSEC_A_STATS_MAX + 1];
	struct stats_reply *r = arg;
	unsigned int i;

	if (nla_parse(tb, TAPSEC_A_MAX, genlmsg_attrdata(gnlh, 0),
		      genlmsg_attrlen(gnlh, 0), NULL) < 0 || !tb[TAPSEC_A_STATS])
		return NL_SKIP;
	if (nla_parse_nested(st, TAPSEC_A_STATS_MAX, tb[TAPSEC_A_STATS], NULL) < 0)
		return NL_SKIP;
	for (i = 0; i < sizeof(r->c) / 8; i++)
		if (st[i + 1])
			r->c[i] = nla_get_u64(st[i + 1]);
	r->parsed = 1;
	return NL_OK;
}

/* The caller's namespace's counters.  0 or a negative error. */
static int netns_stats(struct tapsec_counters *out)
{
	struct stats_reply r = {};
	struct tapsec_nl nl;
	struct nl_msg *msg;
	int err;

	err = tapsec_nl_open(&nl);
	if (err)
		return err;
	msg = nlmsg_alloc();
	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl.family, 0,
				 0, TAPSEC_CMD_GET_STATS, TAPSEC_GENL_VERSION)) {
		nlmsg_free(msg);
		tapsec_nl_close(&nl);
		return -ENOMEM;
	}
	nl_socket_modify_cb(nl.sock, NL_CB_VALID, NL_CB_CUSTOM, stats_cb, &r);
	err = nl_send_auto(nl.sock, msg);
	nlmsg_free(msg);
	if (err >= 0)
		err = nl_recvmsgs_default(nl.sock);
	tapsec_nl_close(&nl);
	if (err < 0)
		return -EIO;
	if (!r.parsed)
		return -EBADMSG;
	memcpy(out, r.c, sizeof(*out));
	return 0;
}

/* ------------------------------------------------------------------ */
/* threads blocked in the kernel                                       */

static void on_alarm(int sig)
{
	(void)sig;
}

/* SIGALRM interrupts blocked calls (EINTR) instead of killing the test. */
static void arm_alarm(unsigned int secs)
{
	struct sigaction sa = { .sa_handler = on_alarm };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART */
	alarm(secs);
}

struct blocked {
	pthread_t th;
	int fd;
	size_t len;
	ssize_t ret;
	int err;
	volatile int finished;
	uint8_t buf[MAX_PLAIN];
};

static void *blocked_recv_fn(void *arg)
{
	struct blocked *b = arg;

	b->ret = recv(b->fd, b->buf, b->len, 0);
	b->err = errno;
	b->finished = 1;
	return NULL;
}

/* One send() of 4 MiB: blocks when the peer does not read. */
static void *blocked_send_fn(void *arg)
{
	struct blocked *b = arg;

	b->ret = send(b->fd, pat, BULK, MSG_NOSIGNAL);
	b->err = errno;
	b->finished = 1;
	return NULL;
}

/* Whether the thread is still inside its call after @ms. */
static bool still_blocked(struct blocked *b, int ms)
{
	while (ms > 0 && !b->finished) {
		usleep(10000);
		ms -= 10;
	}
	return !b->finished;
}

/* Wait (bounded) for the thread to come back; false if it did not. */
static bool came_back(struct blocked *b, int ms)
{
	return !still_blocked(b, ms);
}

/* ================================================================== */
/* 1. Known answers: RFC 8448, simple 1-RTT handshake, client traffic   */

static const uint8_t kat_key[16] = {
	0x17, 0x42, 0x2d, 0xda, 0x59, 0x6e, 0xd5, 0xd9,
	0xac, 0xd8, 0x90, 0xe3, 0xc6, 0x3f, 0x50, 0x51,
};
static const uint8_t kat_salt[4] = { 0x5b, 0x78, 0x92, 0x3d };
static const uint8_t kat_iv[8] = {
	0xee, 0x08, 0x57, 0x90, 0x33, 0xe5, 0x23, 0xd9,
};
/* application_data, 50 bytes 00..31, sequence number 0 */
static const uint8_t kat_record[72] = {
	0x17, 0x03, 0x03, 0x00, 0x43, 0xa2, 0x3f, 0x70, 0x54, 0xb6, 0x2c, 0x94,
	0xd0, 0xaf, 0xfa, 0xfe, 0x82, 0x28, 0xba, 0x55, 0xcb, 0xef, 0xac, 0xea,
	0x42, 0xf9, 0x14, 0xaa, 0x66, 0xbc, 0xab, 0x3f, 0x2b, 0x98, 0x19, 0xa8,
	0xa5, 0xb4, 0x6b, 0x39, 0x5b, 0xd5, 0x4a, 0x9a, 0x20, 0x44, 0x1e, 0x2b,
	0x62, 0x97, 0x4e, 0x1f, 0x5a, 0x62, 0x92, 0xa2, 0x97, 0x70, 0x14, 0xbd,
	0x1e, 0x3d, 0xea, 0xe6, 0x3a, 0xee, 0xbb, 0x21, 0x69, 0x49, 0x15, 0xe4,
};
/* alert close_notify (01 00), sequence number 1 */
static const uint8_t kat_close_notify[24] = {
	0x17, 0x03, 0x03, 0x00, 0x13, 0xc9, 0x87, 0x27, 0x60, 0x65, 0x56, 0x66,
	0xb7, 0x4d, 0x7f, 0xf1, 0x15, 0x3e, 0xfd, 0x6d, 0xb6, 0xd0, 0xb0, 0xe3,
};

static void kat_keyinfo(struct key *k)
{
	memset(k, 0, sizeof(*k));
	k->ci.info.version = TLS13;
	k->ci.info.cipher_type = GCM128;
	memcpy(k->ci.g128.key, kat_key, 16);
	memcpy(k->ci.g128.salt, kat_salt, 4);
	memcpy(k->ci.g128.iv, kat_iv, 8);
	k->len = sizeof(k->ci.g128);
}

static void kat_payload(uint8_t *p)
{
	int i;

	for (i = 0; i < 50; i++)
		p[i] = i;
}

FIXTURE(kat) {
	int tfd, pfd;
	struct key k;
};

FIXTURE_VARIANT(kat) {
	int family;
	enum entry entry;
};

FIXTURE_VARIANT_ADD(kat, ipv4_socket) { .family = AF_INET, .entry = E_SOCKET };
FIXTURE_VARIANT_ADD(kat, ipv6_ulp) { .family = AF_INET6, .entry = E_ULP };
FIXTURE_VARIANT_ADD(kat, ipv4_accept) { .family = AF_INET, .entry = E_ACCEPT };

FIXTURE_SETUP(kat)
{
	ASSERT_EQ(0, tls_pair(variant->family, variant->entry, &self->tfd,
			      &self->pfd));
	kat_keyinfo(&self->k);
}

FIXTURE_TEARDOWN(kat)
{
	close_fd(&self->tfd);
	close_fd(&self->pfd);
}

/* The record on the wire is RFC 8448's; shutdown(SHUT_WR) its close_notify. */
TEST_F(kat, tx_shutdown)
{
	uint8_t p[50], wire[128];
	struct tapsec_sock_info info;

	kat_payload(p);
	ASSERT_EQ(0, tapsec_key(self->tfd, TAPSEC_TX, &self->k))
		TH_LOG("TAPSEC_TX: %s", strerror(errno));
	ASSERT_EQ(50, send(self->tfd, p, 50, 0));
	ASSERT_EQ(72, read_exact(self->pfd, wire, 72, WAIT_MS));
	EXPECT_EQ(0, memcmp(wire, kat_record, 72));
	/* Nothing else until the shutdown. */
	EXPECT_EQ(0, wait_fd(self->pfd, POLLIN, 50));

	ASSERT_EQ(0, shutdown(self->tfd, SHUT_WR));
	ASSERT_EQ(24, read_exact(self->pfd, wire, sizeof(wire), WAIT_MS));
	EXPECT_EQ(0, memcmp(wire, kat_close_notify, 24));
	EXPECT_EQ(0, recv(self->pfd, wire, sizeof(wire), 0));	/* then FIN */

	info = tinfo(_metadata, self->tfd);
	EXPECT_EQ(TAPSEC_STATE_ESTABLISHED, info.state);
	EXPECT_EQ(TLS13, info.tx_version);
	EXPECT_EQ(GCM128, info.tx_cipher);
	EXPECT_EQ(0, info.rx_version);
	EXPECT_EQ(2, info.counters.tx_records);
	EXPECT_EQ(52, info.counters.tx_bytes);
	EXPECT_EQ(1, info.counters.close_notify_tx);
	/* Nothing more goes out after close_notify. */
	EXPECT_EQ(-1, send(self->tfd, p, 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
}

/* close() sends the close_notify too, then FIN. */
TEST_F(kat, tx_close)
{
	uint8_t p[50], wire[128];

	kat_payload(p);
	ASSERT_EQ(0, tapsec_key(self->tfd, TAPSEC_TX, &self->k));
	ASSERT_EQ(50, send(self->tfd, p, 50, 0));
	close_fd(&self->tfd);
	ASSERT_EQ(96, read_exact(self->pfd, wire, sizeof(wire), WAIT_MS));
	EXPECT_EQ(0, memcmp(wire, kat_record, 72));
	EXPECT_EQ(0, memcmp(wire + 72, kat_close_notify, 24));
}

/* The same key on receive opens RFC 8448's records. */
TEST_F(kat, rx)
{
	uint8_t p[50], buf[128];
	struct tapsec_sock_info info;

	kat_payload(p);
	ASSERT_EQ(0, tapsec_key(self->tfd, TAPSEC_RX, &self->k))
		TH_LOG("TAPSEC_RX: %s", strerror(errno));
	ASSERT_EQ(72, send(self->pfd, kat_record, 72, 0));
	ASSERT_EQ(50, read_exact(self->tfd, buf, 50, WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, p, 50));
	ASSERT_EQ(24, send(self->pfd, kat_close_notify, 24, 0));
	EXPECT_EQ(0, recv(self->tfd, buf, sizeof(buf), 0));
	/* A FIN after close_notify is no truncation. */
	close_fd(&self->pfd);
	EXPECT_EQ(0, recv(self->tfd, buf, sizeof(buf), 0));

	info = tinfo(_metadata, self->tfd);
	EXPECT_EQ(TLS13, info.rx_version);
	EXPECT_EQ(GCM128, info.rx_cipher);
	EXPECT_EQ(2, info.counters.rx_records);
	EXPECT_EQ(1, info.counters.close_notify_rx);
	EXPECT_EQ(0, info.counters.rx_truncated);
	EXPECT_EQ(0, info.counters.rx_bad_tag);
}

/* The AF_ALG record builder the padding tests rely on is right too. */
TEST(kat_af_alg)
{
	uint8_t p[50], rec[128];
	struct key k;

	if (!have_af_alg())
		SKIP(return, "no AF_ALG AEAD (algif_aead)");
	kat_keyinfo(&k);
	kat_payload(p);
	ASSERT_EQ(72, alg_record(&k, 0, T_DATA, p, 50, 0, rec));
	EXPECT_EQ(0, memcmp(rec, kat_record, 72));
	p[0] = 1;
	p[1] = 0;
	ASSERT_EQ(24, alg_record(&k, 1, T_ALERT, p, 2, 0, rec));
	EXPECT_EQ(0, memcmp(rec, kat_close_notify, 24));
}

/* ================================================================== */
/* 2. kTLS interoperability                                             */

FIXTURE(ktls) {
	int tfd;	/* tapsec */
	int kfd;	/* kTLS */
	struct key out;	/* tapsec -> kTLS */
	struct key in;	/* kTLS -> tapsec */
};

FIXTURE_VARIANT(ktls) {
	int family;
	enum entry entry;
	uint16_t version;
	uint16_t cipher;
};

#define C_aes128	GCM128
#define C_aes256	GCM256
#define C_chacha20	CHACHA
#define F_ipv4		AF_INET
#define F_ipv6		AF_INET6
#define E_socket	E_SOCKET
#define E_ulp		E_ULP
#define KTLS_VARIANT(v, c, e, f)					\
	FIXTURE_VARIANT_ADD(ktls, tls##v##_##c##_##e##_##f) {		\
		.family = F_##f, .entry = E_##e,			\
		.version = TLS##v, .cipher = C_##c,			\
	}
#define KTLS_VARIANTS(v, c)						\
	KTLS_VARIANT(v, c, socket, ipv4);				\
	KTLS_VARIANT(v, c, socket, ipv6);				\
	KTLS_VARIANT(v, c, ulp, ipv4);					\
	KTLS_VARIANT(v, c, ulp, ipv6)
KTLS_VARIANTS(12, aes128);
KTLS_VARIANTS(12, aes256);
KTLS_VARIANTS(12, chacha20);
KTLS_VARIANTS(13, aes128);
KTLS_VARIANTS(13, aes256);
KTLS_VARIANTS(13, chacha20);

FIXTURE_SETUP(ktls)
{
	ASSERT_EQ(0, tls_pair(variant->family, variant->entry, &self->tfd,
			      &self->kfd));
	key_make(&self->out, variant->version, variant->cipher, random_seq());
	key_make(&self->in, variant->version, variant->cipher, random_seq());
	ASSERT_EQ(0, tapsec_key(self->tfd, TAPSEC_TX, &self->out))
		TH_LOG("TAPSEC_TX: %s", strerror(errno));
	ASSERT_EQ(0, tapsec_key(self->tfd, TAPSEC_RX, &self->in))
		TH_LOG("TAPSEC_RX: %s", strerror(errno));
	ASSERT_EQ(0, ktls_key(self->kfd, TAPSEC_RX, &self->out))
		TH_LOG("kTLS RX: %s (is tls.ko there?)", strerror(errno));
	ASSERT_EQ(0, ktls_key(self->kfd, TAPSEC_TX, &self->in))
		TH_LOG("kTLS TX: %s", strerror(errno));
}

FIXTURE_TEARDOWN(ktls)
{
	close_fd(&self->tfd);
	close_fd(&self->kfd);
}

/* kTLS's view of a direction's next sequence number. */
static uint64_t ktls_seq(int fd, int dir, const struct key *k)
{
	struct key got = *k;
	socklen_t len = k->len;

	if (getsockopt(fd, SOL_TLS, dir, &got.ci, &len))
		return ~0ULL;
	return key_get_seq(&got);
}

static uint64_t tapsec_seq(int fd, int dir, const struct key *k)
{
	struct key got = *k;
	socklen_t len = k->len;

	if (getsockopt(fd, SOL_TAPSEC, dir, &got.ci, &len))
		return ~0ULL;
	return key_get_seq(&got);
}

static const size_t sizes[] = { 1, MAX_PLAIN, MAX_PLAIN + 1 };

/* tapsec seals, kTLS opens: 1 B, 16 KiB, 16 KiB + 1 (4 MiB: duplex). */
TEST_F(ktls, tapsec_to_ktls)
{
	uint64_t recs = 0, bytes = 0, seq0 = key_get_seq(&self->out);
	struct tapsec_sock_info info;
	size_t i;

	for (i = 0; i < 3; i++) {
		XFER(self->tfd, self->kfd, sizes[i], i);
		recs += (sizes[i] + MAX_PLAIN - 1) / MAX_PLAIN;
		bytes += sizes[i];
		info = tinfo(_metadata, self->tfd);
		EXPECT_EQ(recs, info.counters.tx_records);
		EXPECT_EQ(bytes, info.counters.tx_bytes);
	}
	/* Both ends agree on the next sequence number. */
	EXPECT_EQ(seq0 + info.counters.tx_records,
		  tapsec_seq(self->tfd, TAPSEC_TX, &self->out));
	EXPECT_EQ(seq0 + info.counters.tx_records,
		  ktls_seq(self->kfd, TLS_RX, &self->out));
	EXPECT_EQ(0, info.counters.rx_records);
}

/* What sock_diag reports of a TCP socket's ULP (ss -ti). */
struct ulp_diag {
	char name[16];
	int has_tls;
	uint16_t version, cipher, txconf, rxconf;
};

static void diag_addr(const struct sockaddr_storage *ss, __be16 *port,
		      __be32 *addr)
{
	const struct sockaddr_in6 *sin6 = (const void *)ss;
	const struct sockaddr_in *sin = (const void *)ss;

	if (ss->ss_family == AF_INET) {
		*port = sin->sin_port;
		addr[0] = sin->sin_addr.s_addr;
	} else {
		*port = sin6->sin6_port;
		memcpy(addr, &sin6->sin6_addr, 16);
	}
}

static void ulp_diag_tls(struct rtattr *nest, struct ulp_diag *d)
{
	int len = RTA_PAYLOAD(nest);
	struct rtattr *a;

	d->has_tls = 1;
	for (a = RTA_DATA(nest); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		uint16_t v = *(uint16_t *)RTA_DATA(a);

		if (a->rta_type == TLS_INFO_VERSION)
			d->version = v;
		else if (a->rta_type == TLS_INFO_CIPHER)
			d->cipher = v;
		else if (a->rta_type == TLS_INFO_TXCONF)
			d->txconf = v;
		else if (a->rta_type == TLS_INFO_RXCONF)
			d->rxconf = v;
	}
}

/* Ask sock_diag for @fd by its addresses; 0, or -1 (errno set). */
static int ulp_diag(int fd, struct ulp_diag *d)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req = {
		.nlh.nlmsg_len = sizeof(req),
		.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY,
		.nlh.nlmsg_flags = NLM_F_REQUEST,
		.r.sdiag_protocol = IPPROTO_TCP,
		/* ULP info comes with INET_DIAG_INFO, as ss -i asks. */
		.r.idiag_ext = 1 << (INET_DIAG_INFO - 1),
		.r.idiag_states = ~0U,
		.r.id.idiag_cookie = { INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE },
	};
	struct sockaddr_storage me, peer;
	socklen_t len = sizeof(me), plen = sizeof(peer);
	struct rtattr *a, *u;
	struct nlmsghdr *nlh;
	char buf[8192];
	int s, n, ulen;

	memset(d, 0, sizeof(*d));
	if (getsockname(fd, (void *)&me, &len) ||
	    getpeername(fd, (void *)&peer, &plen))
		return -1;
	req.r.sdiag_family = me.ss_family;
	diag_addr(&me, &req.r.id.idiag_sport, req.r.id.idiag_src);
	diag_addr(&peer, &req.r.id.idiag_dport, req.r.id.idiag_dst);
	s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (s < 0)
		return -1;
	n = send(s, &req, sizeof(req), 0) < 0 ? -1 : recv(s, buf, sizeof(buf), 0);
	close(s);
	nlh = (void *)buf;
	if (n < 0 || !NLMSG_OK(nlh, (unsigned int)n) ||
	    nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY) {
		errno = EPROTO;
		return -1;
	}
	n = nlh->nlmsg_len - NLMSG_LENGTH(sizeof(struct inet_diag_msg));
	for (a = (void *)((char *)NLMSG_DATA(nlh) + sizeof(struct inet_diag_msg));
	     RTA_OK(a, n); a = RTA_NEXT(a, n)) {
		if (a->rta_type != INET_DIAG_ULP_INFO)
			continue;
		ulen = RTA_PAYLOAD(a);
		for (u = RTA_DATA(a); RTA_OK(u, ulen); u = RTA_NEXT(u, ulen)) {
			if (u->rta_type == INET_ULP_INFO_NAME)
				snprintf(d->name, sizeof(d->name), "%s",
					 (char *)RTA_DATA(u));
			else if (u->rta_type == INET_ULP_INFO_TLS)
				ulp_diag_tls(u, d);
		}
	}
	return 0;
}

/*
 * ss -ti shows a tapsec socket's version and cipher as it shows kTLS's:
 * the ULP "tapsec" with kTLS's INET_ULP_INFO_TLS nest, the same numbers
 * as the kTLS peer's, both directions in software.
 */
TEST_F(ktls, sock_diag_shows_version_and_cipher)
{
	struct ulp_diag t, k;

	ASSERT_EQ(0, ulp_diag(self->tfd, &t)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, ulp_diag(self->kfd, &k)) TH_LOG("%s", strerror(errno));
	EXPECT_STREQ(TAPSEC_ULP_NAME, t.name);
	EXPECT_STREQ("tls", k.name);
	ASSERT_TRUE(t.has_tls);
	EXPECT_EQ(variant->version, t.version);
	EXPECT_EQ(variant->cipher, t.cipher);
	EXPECT_EQ(k.version, t.version);
	EXPECT_EQ(k.cipher, t.cipher);
	EXPECT_EQ(TLS_CONF_SW, t.txconf);
	EXPECT_EQ(TLS_CONF_SW, t.rxconf);
}

/* kTLS seals, tapsec opens: 1 B, 16 KiB, 16 KiB + 1 (4 MiB: duplex). */
TEST_F(ktls, ktls_to_tapsec)
{
	uint64_t recs = 0, bytes = 0, seq0 = key_get_seq(&self->in);
	struct tapsec_sock_info info;
	size_t i;

	for (i = 0; i < 3; i++) {
		XFER(self->kfd, self->tfd, sizes[i], i);
		recs += (sizes[i] + MAX_PLAIN - 1) / MAX_PLAIN;
		bytes += sizes[i];
		info = tinfo(_metadata, self->tfd);
		EXPECT_EQ(recs, info.counters.rx_records);
		EXPECT_EQ(bytes, info.counters.rx_bytes);
	}
	EXPECT_EQ(seq0 + info.counters.rx_records,
		  tapsec_seq(self->tfd, TAPSEC_RX, &self->in));
	EXPECT_EQ(seq0 + info.counters.rx_records,
		  ktls_seq(self->kfd, TLS_TX, &self->in));
	EXPECT_EQ(0, info.counters.rx_bad_tag);
	EXPECT_EQ(0, info.counters.tx_records);
}

/*
 * 4 MiB each way at once (the big transfer of each variant): tapsec seals
 * while it opens, on one socket; loopback buffers fill, so both sides
 * wait for room and for records.
 */
TEST_F_TIMEOUT(ktls, duplex_4m, 120)
{
	uint64_t in0 = key_get_seq(&self->in), out0 = key_get_seq(&self->out);
	struct tapsec_sock_info info;
	char why[160] = "";

	ASSERT_EQ(0, duplex(self->tfd, self->kfd, BULK, why, sizeof(why)))
		TH_LOG("%s", why);
	info = tinfo(_metadata, self->tfd);
	EXPECT_EQ(BULK, info.counters.tx_bytes);
	EXPECT_EQ(BULK, info.counters.rx_bytes);
	EXPECT_LE(BULK / MAX_PLAIN, info.counters.tx_records);
	EXPECT_LE(BULK / MAX_PLAIN, info.counters.rx_records);
	EXPECT_EQ(out0 + info.counters.tx_records,
		  ktls_seq(self->kfd, TLS_RX, &self->out));
	EXPECT_EQ(in0 + info.counters.rx_records,
		  ktls_seq(self->kfd, TLS_TX, &self->in));
}

/*
 * With the same key and the same calls, tapsec's records are kTLS's byte
 * for byte: record sizes, header, explicit nonces, inner type, tag.
 */
TEST_F(ktls, same_bytes_as_ktls)
{
	static const struct { int type; size_t len; } calls[] = {
		{ T_DATA, 1 }, { T_HANDSHAKE, 100 }, { T_DATA, MAX_PLAIN },
		{ T_DATA, MAX_PLAIN + 1 }, { T_ALERT, 2 }, { T_DATA, 3000 },
	};
	size_t total = 0, i, cap = 4 * MAX_REC;
	uint8_t *a = malloc(cap), *b = malloc(cap);
	int t, tp, k, kp, n;
	struct key key;

	ASSERT_TRUE(a && b);
	key_make(&key, variant->version, variant->cipher, random_seq());
	ASSERT_EQ(0, tls_pair(variant->family, variant->entry, &t, &tp));
	ASSERT_EQ(0, plain_pair(variant->family, &k, &kp));
	ASSERT_EQ(0, tapsec_key(t, TAPSEC_TX, &key));
	ASSERT_EQ(0, ktls_key(k, TAPSEC_TX, &key));
	for (i = 0; i < ARRAY_SIZE(calls); i++) {
		size_t len = calls[i].len, want;

		want = wire_len(variant->version, variant->cipher, len);
		ASSERT_LE(total + want, cap);
		ASSERT_EQ(len, send_type(t, SOL_TAPSEC, calls[i].type, stream(i),
					 len, 0));
		ASSERT_EQ(len, send_type(k, SOL_TLS, calls[i].type, stream(i),
					 len, 0));
		ASSERT_EQ(want, read_exact(tp, a + total, want, WAIT_MS));
		ASSERT_EQ(want, read_exact(kp, b + total, want, WAIT_MS));
		for (n = 0; n < (int)want && a[total + n] == b[total + n]; n++)
			;
		EXPECT_EQ(want, n)
			TH_LOG("call %zu (type %d, %zu bytes): first difference at byte %d",
			       i, calls[i].type, len, n);
		total += want;
	}
	close(t);
	close(tp);
	close(k);
	close(kp);
	free(a);
	free(b);
}

/*
 * close_notify both ways: tapsec's shutdown(SHUT_WR) reads at kTLS as an
 * alert record 01 00 (EIO without room for its type); kTLS's close_notify
 * reads at tapsec as end of file.
 */
TEST_F(ktls, close_notify)
{
	uint8_t buf[64], cn[2] = { 1, 0 };
	int type;

	ASSERT_EQ(5, send(self->tfd, "bye!!", 5, 0));
	ASSERT_EQ(0, shutdown(self->tfd, SHUT_WR));
	ASSERT_EQ(5, read_exact(self->kfd, buf, 5, WAIT_MS));
	ASSERT_NE(0, wait_fd(self->kfd, POLLIN, WAIT_MS));
	EXPECT_EQ(-1, recv(self->kfd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EIO, errno);
	ASSERT_EQ(2, recv_type(self->kfd, SOL_TLS, buf, sizeof(buf), &type, 0));
	EXPECT_EQ(T_ALERT, type);
	EXPECT_EQ(0, memcmp(buf, cn, 2));
	EXPECT_EQ(0, recv(self->kfd, buf, sizeof(buf), 0));
	EXPECT_EQ(1, CNT(self->tfd, close_notify_tx));

	/* The other direction still works, until kTLS says close_notify. */
	XFER(self->kfd, self->tfd, 1000, 3);
	ASSERT_EQ(2, send_type(self->kfd, SOL_TLS, T_ALERT, cn, 2, 0));
	EXPECT_EQ(0, recv(self->tfd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, recv(self->tfd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(1, CNT(self->tfd, close_notify_rx));
	EXPECT_EQ(0, CNT(self->tfd, rx_truncated));
}

/*
 * A peer that reads the answer and closes (curl does, in `make demo`):
 * the close_notify of our shutdown(SHUT_WR) then meets a closed socket,
 * whose reset is back before shutdown() reaches TCP.  shutdown() still
 * succeeds, as it does on a plain TCP socket in CLOSE_WAIT.
 */
TEST_F(ktls, shutdown_after_peer_left)
{
	close_fd(&self->kfd);
	ASSERT_EQ(TCP_CLOSE_WAIT, wait_tcp_state(self->tfd, TCP_CLOSE_WAIT,
						 WAIT_MS));
	EXPECT_EQ(0, shutdown(self->tfd, SHUT_WR))
		TH_LOG("shutdown: %s", strerror(errno));
	EXPECT_EQ(1, CNT(self->tfd, close_notify_tx));
	/* The case is the one above: the peer did reset the connection. */
	EXPECT_EQ(TCP_CLOSE, wait_tcp_state(self->tfd, TCP_CLOSE, WAIT_MS));
	/*
	 * Either errno, as on plain TCP: EPIPE when the reset came back in
	 * CLOSE_WAIT, ECONNRESET when softirq processing was deferred (a
	 * loaded debug kernel) and it met our FIN in LAST_ACK (tcp_reset()).
	 */
	EXPECT_EQ(-1, send(self->tfd, "x", 1, MSG_NOSIGNAL));
	EXPECT_TRUE(errno == EPIPE || errno == ECONNRESET)
		TH_LOG("send: %s", strerror(errno));
}

/* ================================================================== */
/* 3. Bad input from a raw TCP peer                                     */

static const uint8_t close_notify_body[2] = { 1, 0 };

/* Records captured from kTLS, in sequence from the key's rec_seq. */
static const struct rec_spec bad_specs[] = {
	{ T_DATA, 1000, 20, NULL },		/* 0 */
	{ T_DATA, MAX_PLAIN, 21, NULL },	/* 1 */
	{ T_DATA, 200, 22, NULL },		/* 2 */
	{ T_DATA, 300, 23, NULL },		/* 3 */
	{ T_DATA, 400, 24, NULL },		/* 4 */
	{ T_DATA, 100, 25, NULL },		/* 5 */
	{ T_ALERT, 2, 0, close_notify_body },	/* 6: close_notify */
	{ T_DATA, 50, 27, NULL },		/* 7: after close_notify */
};
#define NBAD	((int)ARRAY_SIZE(bad_specs))

FIXTURE(bad) {
	int vfd;		/* tapsec, RX key k: the victim */
	int rfd;		/* raw TCP peer */
	int bt, bk;		/* bystander: tapsec and kTLS, keyed both ways */
	struct key k;
	uint8_t *rec;		/* bad_specs, sealed by kTLS with k */
	size_t off[NBAD + 1];
};

FIXTURE_VARIANT(bad) {
	uint16_t version;
	uint16_t cipher;
};

FIXTURE_VARIANT_ADD(bad, tls12_aes128) { .version = TLS12, .cipher = GCM128 };
FIXTURE_VARIANT_ADD(bad, tls12_chacha20) { .version = TLS12, .cipher = CHACHA };
FIXTURE_VARIANT_ADD(bad, tls13_aes256) { .version = TLS13, .cipher = GCM256 };
FIXTURE_VARIANT_ADD(bad, tls13_chacha20) { .version = TLS13, .cipher = CHACHA };

/* A new victim connection, keyed with @k for receive. */
static int bad_victim(FIXTURE_DATA(bad) *self, const struct key *k)
{
	close_fd(&self->vfd);
	close_fd(&self->rfd);
	if (tls_pair(AF_INET, E_SOCKET, &self->vfd, &self->rfd))
		return -1;
	return tapsec_key(self->vfd, TAPSEC_RX, k);
}

FIXTURE_SETUP(bad)
{
	struct key a, b;

	self->vfd = self->rfd = self->bt = self->bk = -1;
	key_make(&self->k, variant->version, variant->cipher, random_seq());
	self->rec = malloc(NBAD * MAX_REC);
	ASSERT_NE(NULL, self->rec);
	ASSERT_LT(0, ktls_records(&self->k, bad_specs, NBAD, self->rec,
				  NBAD * MAX_REC, self->off))
		TH_LOG("kTLS could not make records (tls.ko?)");
	ASSERT_EQ(0, bad_victim(self, &self->k));

	ASSERT_EQ(0, tls_pair(AF_INET6, E_ULP, &self->bt, &self->bk));
	key_make(&a, variant->version, variant->cipher, 0);
	key_make(&b, variant->version, variant->cipher, 0);
	ASSERT_EQ(0, tapsec_key(self->bt, TAPSEC_TX, &a));
	ASSERT_EQ(0, tapsec_key(self->bt, TAPSEC_RX, &b));
	ASSERT_EQ(0, ktls_key(self->bk, TAPSEC_RX, &a));
	ASSERT_EQ(0, ktls_key(self->bk, TAPSEC_TX, &b));
}

FIXTURE_TEARDOWN(bad)
{
	close_fd(&self->vfd);
	close_fd(&self->rfd);
	close_fd(&self->bt);
	close_fd(&self->bk);
	free(self->rec);
}

#define REC(i)		(self->rec + self->off[i])
#define RECLEN(i)	(self->off[(i) + 1] - self->off[i])

/* Nothing else broke: the bystander connection still works both ways. */
#define BYSTANDER_OK() do {						\
		struct tapsec_sock_info __bi;				\
		XFER(self->bt, self->bk, 3000, 31);			\
		XFER(self->bk, self->bt, 3000, 32);			\
		__bi = tinfo(_metadata, self->bt);			\
		EXPECT_EQ(0, __bi.counters.rx_bad_tag);			\
		EXPECT_EQ(0, __bi.counters.rx_bad_record);		\
	} while (0)

/*
 * The victim's receive side is dead with @err: recv fails with it now and
 * later, poll and SO_ERROR tell (SO_ERROR once: reading it clears it, as
 * for any socket error), no data comes out any more.
 */
static void __expect_dead(struct __test_metadata *_metadata, int fd, int err,
			  bool first)
{
	uint8_t buf[64];
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	ASSERT_NE(0, wait_fd(fd, POLLIN, WAIT_MS));
	EXPECT_EQ(-1, recv(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(err, errno) TH_LOG("got %s", strerror(errno));
	if (first) {
		EXPECT_NE(0, wait_fd(fd, POLLIN, 0) & POLLERR);
		EXPECT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len));
		EXPECT_EQ(err, soerr);
	}
	/* Still dead after the error was read. */
	EXPECT_NE(0, wait_fd(fd, POLLIN, 0) & POLLIN);
	EXPECT_EQ(-1, recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(err, errno);
	EXPECT_EQ(-1, recv(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(err, errno);
}

#define expect_dead(m, fd, err)		__expect_dead(m, fd, err, true)
#define expect_still_dead(m, fd, err)	__expect_dead(m, fd, err, false)

/* The plaintext of captured record @i arrives at the victim. */
#define EXPECT_RECORD(i) do {						\
		uint8_t __b[MAX_PLAIN];					\
		size_t __n = bad_specs[i].len;				\
		ASSERT_EQ(__n, read_exact(self->vfd, __b, __n, WAIT_MS));\
		EXPECT_EQ(0, memcmp(__b, stream(bad_specs[i].seed), __n));\
	} while (0)

/* Something that is not TLS at all. */
TEST_F(bad, garbage)
{
	const char *http = "GET / HTTP/1.1\r\nHost: example.org\r\n\r\n";

	ASSERT_EQ(strlen(http), send(self->rfd, http, strlen(http), 0));
	expect_dead(_metadata, self->vfd, EBADMSG);
	EXPECT_EQ(1, CNT(self->vfd, rx_bad_record));
	EXPECT_EQ(0, CNT(self->vfd, rx_records));
	/* A valid record afterwards does not revive it. */
	ASSERT_EQ(RECLEN(0), send(self->rfd, REC(0), RECLEN(0), 0));
	expect_still_dead(_metadata, self->vfd, EBADMSG);
	EXPECT_EQ(0, CNT(self->vfd, rx_records));
	BYSTANDER_OK();
}

/*
 * Valid records whose header is cut at every byte (1..5, and just after
 * it), with pauses: TCP may deliver a record in any pieces.  The last one
 * comes byte by byte, and is not readable before its last byte.
 */
TEST_F(bad, header_split)
{
	uint8_t buf[16];
	int i;
	size_t b;

	for (i = 0; i < 5; i++) {
		size_t cut = i + 1;

		ASSERT_EQ(cut, send(self->rfd, REC(i), cut, 0));
		usleep(20000);
		EXPECT_EQ(0, wait_fd(self->vfd, POLLIN, 0));
		ASSERT_EQ(RECLEN(i) - cut, send(self->rfd, REC(i) + cut,
						RECLEN(i) - cut, 0));
		EXPECT_RECORD(i);
	}
	for (b = 0; b < RECLEN(5); b++) {
		EXPECT_EQ(0, wait_fd(self->vfd, POLLIN, 0))
			TH_LOG("readable after %zu of %zu bytes", b, RECLEN(5));
		EXPECT_EQ(-1, recv(self->vfd, buf, sizeof(buf), MSG_DONTWAIT));
		EXPECT_EQ(EAGAIN, errno);
		ASSERT_EQ(1, send(self->rfd, REC(5) + b, 1, 0));
		if (b < 8)
			usleep(2000);
	}
	EXPECT_RECORD(5);
	EXPECT_EQ(6, CNT(self->vfd, rx_records));
	EXPECT_EQ(0, CNT(self->vfd, rx_bad_tag));
	EXPECT_EQ(0, CNT(self->vfd, rx_bad_record));
}

static void put_header(uint8_t *h, uint8_t type, uint16_t len)
{
	h[0] = type;
	h[1] = 3;
	h[2] = 3;
	h[3] = len >> 8;
	h[4] = len;
}

/* A length over the limit: EMSGSIZE, before any of the body arrives. */
TEST_F(bad, oversize)
{
	size_t max = variant->version == TLS13 ? MAX_CT13 : MAX_CT12;
	uint8_t h[5];

	put_header(h, T_DATA, max + 1);
	ASSERT_EQ(5, send(self->rfd, h, 5, 0));
	expect_dead(_metadata, self->vfd, EMSGSIZE);
	EXPECT_EQ(1, CNT(self->vfd, rx_oversize));
	EXPECT_EQ(0, CNT(self->vfd, rx_bad_record));

	/* The largest length of all. */
	ASSERT_EQ(0, bad_victim(self, &self->k));
	put_header(h, T_DATA, 0xffff);
	ASSERT_EQ(5, send(self->rfd, h, 5, 0));
	expect_dead(_metadata, self->vfd, EMSGSIZE);
	BYSTANDER_OK();
}

/* Exactly the limit is a length like any other (this body fails its tag). */
TEST_F(bad, max_length)
{
	size_t max = variant->version == TLS13 ? MAX_CT13 : MAX_CT12;
	uint8_t *r = calloc(1, REC_HDR + max);

	ASSERT_NE(NULL, r);
	put_header(r, T_DATA, max);
	memcpy(r + REC_HDR, REC(1) + REC_HDR, RECLEN(1) - REC_HDR);
	ASSERT_EQ(REC_HDR + max, send(self->rfd, r, REC_HDR + max, 0));
	expect_dead(_metadata, self->vfd, EBADMSG);
	EXPECT_EQ(0, CNT(self->vfd, rx_oversize));
	EXPECT_EQ(1, CNT(self->vfd, rx_bad_tag));
	free(r);
	BYSTANDER_OK();
}

/* Shorter than explicit nonce + tag (+ inner type): malformed. */
TEST_F(bad, too_short)
{
	size_t min = rec_overhead(variant->version, variant->cipher) - REC_HDR;
	uint8_t r[64] = {};

	put_header(r, T_DATA, min - 1);
	ASSERT_EQ(REC_HDR + min - 1, send(self->rfd, r, REC_HDR + min - 1, 0));
	expect_dead(_metadata, self->vfd, EBADMSG);
	EXPECT_EQ(1, CNT(self->vfd, rx_bad_record));
	EXPECT_EQ(0, CNT(self->vfd, rx_bad_tag));

	ASSERT_EQ(0, bad_victim(self, &self->k));
	put_header(r, T_DATA, 0);
	ASSERT_EQ(REC_HDR, send(self->rfd, r, REC_HDR, 0));
	expect_dead(_metadata, self->vfd, EBADMSG);
	EXPECT_EQ(1, CNT(self->vfd, rx_bad_record));
	BYSTANDER_OK();
}

/* Send record 0 with byte @at XORed with @mask; then record 1. */
static void send_mutated(struct __test_metadata *_metadata,
			 FIXTURE_DATA(bad) *self, size_t at, uint8_t mask)
{
	uint8_t r[MAX_REC];

	memcpy(r, REC(0), RECLEN(0));
	r[at] ^= mask;
	ASSERT_EQ(RECLEN(0), send(self->rfd, r, RECLEN(0), 0));
	ASSERT_EQ(RECLEN(1), send(self->rfd, REC(1), RECLEN(1), 0));
}

/* One bit of the tag, one of the ciphertext. */
TEST_F(bad, bad_tag)
{
	uint8_t buf[64];

	send_mutated(_metadata, self, RECLEN(0) - 1, 0x01);
	expect_dead(_metadata, self->vfd, EBADMSG);
	EXPECT_EQ(1, CNT(self->vfd, rx_bad_tag));
	EXPECT_EQ(0, CNT(self->vfd, rx_records));
	EXPECT_EQ(0, CNT(self->vfd, rx_bytes));
	/* The record after it, valid, is not handed out either. */
	EXPECT_EQ(-1, recv(self->vfd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(1, CNT(self->vfd, rx_bad_tag));

	ASSERT_EQ(0, bad_victim(self, &self->k));
	send_mutated(_metadata, self, RECLEN(0) / 2, 0x80);
	expect_dead(_metadata, self->vfd, EBADMSG);
	EXPECT_EQ(1, CNT(self->vfd, rx_bad_tag));
	BYSTANDER_OK();
}

/* A flipped bit in the header's version: malformed. */
TEST_F(bad, bad_header_version)
{
	send_mutated(_metadata, self, 2, 0x01);		/* 03 03 -> 03 02 */
	expect_dead(_metadata, self->vfd, EBADMSG);
	EXPECT_EQ(1, CNT(self->vfd, rx_bad_record));

	ASSERT_EQ(0, bad_victim(self, &self->k));
	send_mutated(_metadata, self, 1, 0x10);		/* 03 03 -> 13 03 */
	expect_dead(_metadata, self->vfd, EBADMSG);
	EXPECT_EQ(1, CNT(self->vfd, rx_bad_record));
	BYSTANDER_OK();
}

/*
 * A flipped bit in the header's type: 23 -> 22.  TLS 1.3 records are
 * always 23 outside (malformed); for TLS 1.2 the type is authenticated
 * (the tag fails).  24 is no type at all.
 */
TEST_F(bad, bad_header_type)
{
	send_mutated(_metadata, self, 0, 0x01);
	expect_dead(_metadata, self->vfd, EBADMSG);
	if (variant->version == TLS13) {
		EXPECT_EQ(1, CNT(self->vfd, rx_bad_record));
	} else {
		EXPECT_EQ(1, CNT(self->vfd, rx_bad_tag));
	}

	ASSERT_EQ(0, bad_victim(self, &self->k));
	send_mutated(_metadata, self, 0, 0x0f);		/* 23 -> 24 */
	expect_dead(_metadata, self->vfd, EBADMSG);
	EXPECT_EQ(1, CNT(self->vfd, rx_bad_record));
	EXPECT_EQ(0, CNT(self->vfd, rx_bad_tag));
	BYSTANDER_OK();
}

/* A flipped bit in the length: the record ends elsewhere, its tag fails. */
TEST_F(bad, bad_header_length)
{
	send_mutated(_metadata, self, 4, 0x01);
	expect_dead(_metadata, self->vfd, EBADMSG);
	EXPECT_EQ(1, CNT(self->vfd, rx_bad_tag));
	BYSTANDER_OK();
}

/* A record sealed with another key. */
TEST_F(bad, wrong_key)
{
	struct key other;

	key_make(&other, variant->version, variant->cipher, key_get_seq(&self->k));
	ASSERT_EQ(0, bad_victim(self, &other));
	ASSERT_EQ(RECLEN(0), send(self->rfd, REC(0), RECLEN(0), 0));
	expect_dead(_metadata, self->vfd, EBADMSG);
	EXPECT_EQ(1, CNT(self->vfd, rx_bad_tag));
	EXPECT_EQ(0, CNT(self->vfd, rx_records));
	BYSTANDER_OK();
}

/* A record played twice, and records out of order. */
TEST_F(bad, replay_reorder)
{
	ASSERT_EQ(RECLEN(0), send(self->rfd, REC(0), RECLEN(0), 0));
	EXPECT_RECORD(0);
	ASSERT_EQ(RECLEN(0), send(self->rfd, REC(0), RECLEN(0), 0));
	expect_dead(_metadata, self->vfd, EBADMSG);
	EXPECT_EQ(1, CNT(self->vfd, rx_records));
	EXPECT_EQ(1, CNT(self->vfd, rx_bad_tag));

	ASSERT_EQ(0, bad_victim(self, &self->k));
	ASSERT_EQ(RECLEN(2), send(self->rfd, REC(2), RECLEN(2), 0));
	ASSERT_EQ(RECLEN(0), send(self->rfd, REC(0), RECLEN(0), 0));
	expect_dead(_metadata, self->vfd, EBADMSG);
	EXPECT_EQ(1, CNT(self->vfd, rx_bad_tag));
	BYSTANDER_OK();
}

/* After close_notify nothing is delivered: end of file, again and again. */
TEST_F(bad, after_close_notify)
{
	struct tapsec_sock_info info;
	uint8_t buf[64];
	int i;

	ASSERT_EQ(self->off[NBAD], send(self->rfd, self->rec, self->off[NBAD], 0));
	for (i = 0; i < 6; i++)
		EXPECT_RECORD(i);
	EXPECT_EQ(0, recv(self->vfd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, recv(self->vfd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_NE(0, wait_fd(self->vfd, POLLIN, 0) & POLLIN);
	/* FIN after it is no truncation. */
	close_fd(&self->rfd);
	usleep(20000);
	EXPECT_EQ(0, recv(self->vfd, buf, sizeof(buf), 0));
	info = tinfo(_metadata, self->vfd);
	EXPECT_EQ(1, info.counters.close_notify_rx);
	EXPECT_EQ(7, info.counters.rx_records);	/* 6 + close_notify */
	EXPECT_EQ(0, info.counters.rx_truncated);
	EXPECT_EQ(0, info.counters.rx_bad_tag);
	BYSTANDER_OK();
}

/*
 * A FIN without close_notify is a truncation: ECONNABORTED once, then
 * end of file.  Mid-record, mid-header and between records.
 */
TEST_F(bad, fin_truncation)
{
	size_t cuts[3] = { RECLEN(0) / 2, 3, 0 };
	uint8_t buf[MAX_PLAIN];
	int i;

	for (i = 0; i < 3; i++) {
		if (i)
			ASSERT_EQ(0, bad_victim(self, &self->k));
		if (cuts[i]) {
			ASSERT_EQ(cuts[i], send(self->rfd, REC(0), cuts[i], 0));
		} else {
			ASSERT_EQ(RECLEN(0), send(self->rfd, REC(0), RECLEN(0), 0));
			EXPECT_RECORD(0);
		}
		usleep(10000);
		ASSERT_EQ(0, shutdown(self->rfd, SHUT_WR));
		EXPECT_EQ(-1, recv(self->vfd, buf, sizeof(buf), 0));
		EXPECT_EQ(ECONNABORTED, errno)
			TH_LOG("case %d: %s", i, strerror(errno));
		EXPECT_EQ(0, recv(self->vfd, buf, sizeof(buf), 0));
		EXPECT_EQ(0, recv(self->vfd, buf, sizeof(buf), MSG_DONTWAIT));
		EXPECT_EQ(1, CNT(self->vfd, rx_truncated));
		EXPECT_EQ(0, CNT(self->vfd, rx_bad_tag));
	}
	BYSTANDER_OK();
}

/* ---- records kTLS does not send, sealed through AF_ALG ---- */

#define NEED_AF_ALG() do {						\
		if (!have_af_alg())					\
			SKIP(return, "no AF_ALG AEAD (algif_aead)");	\
	} while (0)

/* Seal and send record number @i (from the key's rec_seq) to the victim. */
static void send_alg(struct __test_metadata *_metadata,
		     FIXTURE_DATA(bad) *self, int i, int type,
		     const uint8_t *p, size_t plen, size_t pad)
{
	uint8_t *r = malloc(MAX_REC + 512);
	ssize_t n;

	ASSERT_NE(NULL, r);
	n = alg_record(&self->k, key_get_seq(&self->k) + i, type, p, plen, pad, r);
	ASSERT_LT(0, n) TH_LOG("AF_ALG: %s", strerror(-n));
	ASSERT_EQ(n, send(self->rfd, r, n, 0));
	free(r);
}

/* TLS 1.3 zero padding after the inner type, up to the limit. */
TEST_F(bad, tls13_padding)
{
	static const struct { size_t len, pad; int type; } recs[] = {
		{ 100, 0, T_DATA }, { 100, 1, T_DATA }, { 100, 1000, T_DATA },
		{ 10, 5, T_HANDSHAKE },
		{ 0, 50, T_DATA },	/* empty, padded: nothing to read */
		{ MAX_PLAIN, MAX_CT13 - MAX_PLAIN - 1 - REC_TAG, T_DATA },
		{ 7, MAX_PLAIN, T_DATA },
	};
	uint8_t buf[MAX_PLAIN];
	int i, type;

	if (variant->version != TLS13)
		SKIP(return, "TLS 1.3 only");
	NEED_AF_ALG();
	for (i = 0; i < 7; i++)
		send_alg(_metadata, self, i, recs[i].type, stream(40 + i),
			 recs[i].len, recs[i].pad);
	for (i = 0; i < 7; i++) {
		if (!recs[i].len)
			continue;
		ASSERT_EQ(recs[i].len, recv_type(self->vfd, SOL_TAPSEC, buf,
						 recs[i].len, &type, 0))
			TH_LOG("record %d: %s", i, strerror(errno));
		EXPECT_EQ(recs[i].type, type);
		EXPECT_EQ(0, memcmp(buf, stream(40 + i), recs[i].len));
	}
	EXPECT_EQ(7, CNT(self->vfd, rx_records));
	EXPECT_EQ(0, CNT(self->vfd, rx_bad_record));
	BYSTANDER_OK();
}

/* TLS 1.3 inner plaintext that is all zeros: no content type. */
TEST_F(bad, tls13_no_type)
{
	if (variant->version != TLS13)
		SKIP(return, "TLS 1.3 only");
	NEED_AF_ALG();
	send_alg(_metadata, self, 0, -1, NULL, 0, 20);
	expect_dead(_metadata, self->vfd, EBADMSG);
	EXPECT_EQ(1, CNT(self->vfd, rx_bad_record));
	EXPECT_EQ(0, CNT(self->vfd, rx_bad_tag));
	BYSTANDER_OK();
}

/* TLS 1.3 inner types that do not exist, or may not be encrypted (20). */
TEST_F(bad, tls13_bad_inner_type)
{
	if (variant->version != TLS13)
		SKIP(return, "TLS 1.3 only");
	NEED_AF_ALG();
	send_alg(_metadata, self, 0, 0x30, stream(1), 10, 0);
	expect_dead(_metadata, self->vfd, EBADMSG);
	EXPECT_EQ(1, CNT(self->vfd, rx_bad_record));

	ASSERT_EQ(0, bad_victim(self, &self->k));
	send_alg(_metadata, self, 0, TAPSEC_RECORD_CHANGE_CIPHER_SPEC,
		 stream(1), 1, 0);
	expect_dead(_metadata, self->vfd, EBADMSG);
	EXPECT_EQ(1, CNT(self->vfd, rx_bad_record));
	BYSTANDER_OK();
}

/* Plaintext over 2^14 inside a record of allowed length: EMSGSIZE. */
TEST_F(bad, plaintext_oversize)
{
	uint8_t buf[MAX_PLAIN];

	NEED_AF_ALG();
	/* 2^14 is fine ... */
	send_alg(_metadata, self, 0, T_DATA, stream(3), MAX_PLAIN, 0);
	ASSERT_EQ(MAX_PLAIN, read_exact(self->vfd, buf, MAX_PLAIN, WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, stream(3), MAX_PLAIN));
	/* ... one more byte is not. */
	send_alg(_metadata, self, 1, T_DATA, stream(3), MAX_PLAIN + 1, 0);
	expect_dead(_metadata, self->vfd, EMSGSIZE);
	EXPECT_EQ(1, CNT(self->vfd, rx_oversize));
	EXPECT_EQ(1, CNT(self->vfd, rx_records));
	BYSTANDER_OK();
}

/*
 * An empty application data record followed by a record of another type:
 * the reader gets the second record (with its type), not a 0 that reads
 * as end of file.
 */
TEST_F(bad, empty_then_other_type)
{
	uint8_t buf[64];
	int type = -1;

	NEED_AF_ALG();
	send_alg(_metadata, self, 0, T_DATA, NULL, 0, 0);
	send_alg(_metadata, self, 1, T_HANDSHAKE, stream(6), 12, 0);
	send_alg(_metadata, self, 2, T_DATA, stream(7), 5, 0);
	ASSERT_NE(0, wait_fd(self->vfd, POLLIN, WAIT_MS));
	usleep(20000);	/* all three are in */
	EXPECT_EQ(12, recv_type(self->vfd, SOL_TAPSEC, buf, sizeof(buf), &type, 0))
		TH_LOG("recvmsg: %s, type %d", strerror(errno), type);
	EXPECT_EQ(T_HANDSHAKE, type);
	EXPECT_EQ(5, recv_type(self->vfd, SOL_TAPSEC, buf, sizeof(buf), &type, 0));
	EXPECT_EQ(T_DATA, type);
	EXPECT_EQ(0, memcmp(buf, stream(7), 5));
	BYSTANDER_OK();
}

/* Empty application data records are legal and read as nothing. */
TEST_F(bad, empty_records)
{
	uint8_t buf[64];

	NEED_AF_ALG();
	send_alg(_metadata, self, 0, T_DATA, NULL, 0, 0);
	send_alg(_metadata, self, 1, T_DATA, NULL, 0, 0);
	send_alg(_metadata, self, 2, T_DATA, stream(5), 33, 0);
	ASSERT_EQ(33, read_exact(self->vfd, buf, 33, WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, stream(5), 33));
	EXPECT_EQ(3, CNT(self->vfd, rx_records));
	EXPECT_EQ(33, CNT(self->vfd, rx_bytes));
	BYSTANDER_OK();
}

/*
 * Opening into the reader's buffer.  Application data goes straight into
 * the reader's pages (rx_direct counts those records), what they have no
 * room for into the record buffer for the next read; a record that cannot
 * (a peek, a buffer in too many pieces, a reader that cannot be told the
 * type) is opened in place and copied.  Either way the reader gets the same bytes, and its
 * buffer past what recv() returns never holds plaintext: not of a record
 * that failed authentication, not of a record of another type or with
 * padding that was opened there first.
 */
#define FILL		0xa5
#define BIG		(MAX_PLAIN + 4096)
#define PIECES		20

static bool fill_or_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != FILL && p[i])
			return false;
	return true;
}

static bool untouched(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != FILL)
			return false;
	return true;
}

/* Read one record of @len bytes of stream(@seed) into @n pieces of @each. */
static void recv_pieces(struct __test_metadata *_metadata, int fd,
			uint8_t *area, int n, size_t each, size_t len,
			unsigned int seed)
{
	struct iovec iov[PIECES];
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = n };
	size_t got = 0;
	int i;

	/* One piece per page, none starting at its page's start. */
	for (i = 0; i < n; i++) {
		iov[i].iov_base = area + i * 4096 + 100;
		iov[i].iov_len = each;
	}
	ASSERT_EQ(len, recvmsg(fd, &mh, 0)) TH_LOG("%s", strerror(errno));
	for (i = 0; i < n && got < len; i++) {
		size_t k = len - got < each ? len - got : each;

		EXPECT_EQ(0, memcmp(iov[i].iov_base, stream(seed) + got, k));
		got += k;
	}
}

TEST_F(bad, direct_open)
{
	uint8_t *buf = malloc(BIG), *area = aligned_alloc(4096, PIECES * 4096);
	char cbuf[1];
	struct iovec iov = { .iov_base = buf, .iov_len = BIG };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, area);
	NEED_AF_ALG();
	/* A whole record into a bigger buffer: nothing past it touched. */
	send_alg(_metadata, self, 0, T_DATA, stream(50), MAX_PLAIN, 0);
	memset(buf, FILL, BIG);
	ASSERT_EQ(MAX_PLAIN, recv(self->vfd, buf, BIG, 0));
	EXPECT_EQ(0, memcmp(buf, stream(50), MAX_PLAIN));
	EXPECT_TRUE(untouched(buf + MAX_PLAIN, BIG - MAX_PLAIN));
	EXPECT_EQ(1, CNT(self->vfd, rx_direct));

	/* A peek opens the record in place; the read copies from there. */
	send_alg(_metadata, self, 1, T_DATA, stream(51), 1000, 0);
	ASSERT_EQ(1000, recv(self->vfd, buf, BIG, MSG_PEEK));
	EXPECT_EQ(0, memcmp(buf, stream(51), 1000));
	ASSERT_EQ(1000, recv(self->vfd, buf, BIG, 0));
	EXPECT_EQ(0, memcmp(buf, stream(51), 1000));
	EXPECT_EQ(1, CNT(self->vfd, rx_direct));

	/*
	 * One byte too little room: opened into the reader's buffer but for
	 * the last byte, which waits, opened, for the next read.
	 */
	send_alg(_metadata, self, 2, T_DATA, stream(52), 1000, 0);
	ASSERT_NE(0, wait_fd(self->vfd, POLLIN, WAIT_MS));
	memset(buf, FILL, BIG);
	ASSERT_EQ(999, recv(self->vfd, buf, 999, 0));
	EXPECT_TRUE(untouched(buf + 999, BIG - 999));
	EXPECT_EQ(2, CNT(self->vfd, rx_direct));
	ASSERT_EQ(1, recv(self->vfd, buf + 999, 1, 0));
	EXPECT_EQ(0, memcmp(buf, stream(52), 1000));
	EXPECT_EQ(2, CNT(self->vfd, rx_direct));

	/* More pieces than a record may be opened into: copied. */
	send_alg(_metadata, self, 3, T_DATA, stream(53), MAX_PLAIN, 0);
	recv_pieces(_metadata, self->vfd, area, PIECES, 1000, MAX_PLAIN, 53);
	EXPECT_EQ(2, CNT(self->vfd, rx_direct));
	/* Fewer, bigger pieces: opened into them. */
	send_alg(_metadata, self, 4, T_DATA, stream(54), MAX_PLAIN, 0);
	recv_pieces(_metadata, self->vfd, area, 10, 2000, MAX_PLAIN, 54);
	EXPECT_EQ(3, CNT(self->vfd, rx_direct));

	/*
	 * No room for the type: EIO, nothing left in the buffer, and the
	 * record waits for a reader that can be told.
	 */
	send_alg(_metadata, self, 5, T_DATA, stream(55), 3000, 0);
	ASSERT_NE(0, wait_fd(self->vfd, POLLIN, WAIT_MS));
	memset(buf, FILL, BIG);
	EXPECT_EQ(-1, recvmsg(self->vfd, &mh, 0));
	EXPECT_EQ(EIO, errno);
	EXPECT_TRUE(fill_or_zero(buf, BIG));
	ASSERT_EQ(3000, recv(self->vfd, buf, BIG, 0));
	EXPECT_EQ(0, memcmp(buf, stream(55), 3000));
	EXPECT_EQ(3, CNT(self->vfd, rx_direct));
	EXPECT_EQ(6, CNT(self->vfd, rx_records));
	EXPECT_EQ(0, CNT(self->vfd, rx_bad_record));
	free(area);
	free(buf);
	BYSTANDER_OK();
}

/*
 * Opening from TCP's skbs.  A whole record that the reader's buffer can
 * hold is opened straight from where TCP keeps it (rx_from_skb counts
 * those), also when it came in two pieces while nobody read: cut in the
 * header (whose bytes are moved into the record buffer as they come), in
 * the explicit nonce or in the body (which wait in TCP for the rest).  A
 * peek moves the record out of TCP first.  Every byte is returned once:
 * the next record's header is found where it should be.
 */
TEST_F(bad, direct_from_skb)
{
	static const size_t cut[] = { 0, 3, 7, 13, 100 };
	uint8_t *buf = malloc(BIG);
	int i;

	ASSERT_NE(NULL, buf);
	for (i = 0; i < 5; i++) {
		const struct rec_spec *sp = &bad_specs[i];

		if (cut[i]) {
			ASSERT_EQ(cut[i], send(self->rfd, REC(i), cut[i], 0));
			usleep(20000);	/* moved out of TCP, nobody reads */
			EXPECT_EQ(0, wait_fd(self->vfd, POLLIN, 0));
		}
		ASSERT_EQ(RECLEN(i) - cut[i],
			  send(self->rfd, REC(i) + cut[i], RECLEN(i) - cut[i],
			       0));
		ASSERT_NE(0, wait_fd(self->vfd, POLLIN, WAIT_MS));
		memset(buf, FILL, BIG);
		ASSERT_EQ(sp->len, recv(self->vfd, buf, BIG, 0))
			TH_LOG("record %d: %s", i, strerror(errno));
		EXPECT_EQ(0, memcmp(buf, stream(sp->seed), sp->len))
			TH_LOG("record %d, cut at %zu", i, cut[i]);
		EXPECT_TRUE(untouched(buf + sp->len, BIG - sp->len));
		EXPECT_EQ(i + 1, CNT(self->vfd, rx_from_skb));
	}
	EXPECT_EQ(5, CNT(self->vfd, rx_direct));

	ASSERT_EQ(RECLEN(5), send(self->rfd, REC(5), RECLEN(5), 0));
	ASSERT_NE(0, wait_fd(self->vfd, POLLIN, WAIT_MS));
	ASSERT_EQ(bad_specs[5].len, recv(self->vfd, buf, BIG, MSG_PEEK));
	ASSERT_EQ(bad_specs[5].len, recv(self->vfd, buf, BIG, 0));
	EXPECT_EQ(0, memcmp(buf, stream(bad_specs[5].seed), bad_specs[5].len));
	EXPECT_EQ(5, CNT(self->vfd, rx_from_skb));
	EXPECT_EQ(6, CNT(self->vfd, rx_records));

	ASSERT_EQ(RECLEN(6), send(self->rfd, REC(6), RECLEN(6), 0));
	EXPECT_EQ(0, recv(self->vfd, buf, BIG, 0));
	EXPECT_EQ(1, CNT(self->vfd, close_notify_rx));
	EXPECT_EQ(0, CNT(self->vfd, rx_bad_record));
	free(buf);
	BYSTANDER_OK();
}

/*
 * A record in more pieces than it may be opened from: ten-byte segments,
 * each sent once the last is in, queued as a frag each before the ULP and
 * the key were there.  It is moved out of TCP first and still opened into
 * the reader's buffer; the next record, in one piece, comes from TCP's
 * skbs again.
 */
TEST_F(bad, direct_from_skb_in_pieces)
{
	uint8_t *buf = malloc(BIG);
	int c, a, one = 1, inq, n, tries;
	size_t i;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, tcp_pair(AF_INET, 0, 0, &c, &a));
	ASSERT_EQ(0, setsockopt(a, SOL_TCP, TCP_NODELAY, &one, sizeof(one)));
	for (i = 0; i < RECLEN(0); i += n) {
		n = RECLEN(0) - i < 10 ? RECLEN(0) - i : 10;
		ASSERT_EQ(n, send(a, REC(0) + i, n, 0));
		for (tries = 0, inq = 0; inq < (int)(i + n) && tries < 5000;
		     tries++) {
			ASSERT_EQ(0, ioctl(c, FIONREAD, &inq));
			if (inq < (int)(i + n))
				usleep(200);
		}
		ASSERT_EQ(i + n, inq);
	}
	ASSERT_EQ(0, setsockopt(c, SOL_TCP, TCP_ULP, TAPSEC_ULP_NAME,
				strlen(TAPSEC_ULP_NAME)));
	ASSERT_EQ(0, tapsec_key(c, TAPSEC_RX, &self->k));
	ASSERT_EQ(bad_specs[0].len, recv(c, buf, BIG, 0));
	EXPECT_EQ(0, memcmp(buf, stream(bad_specs[0].seed), bad_specs[0].len));
	EXPECT_EQ(1, CNT(c, rx_direct));
	EXPECT_EQ(0, CNT(c, rx_from_skb));

	ASSERT_EQ(RECLEN(1), send(a, REC(1), RECLEN(1), 0));
	ASSERT_EQ(bad_specs[1].len, recv(c, buf, BIG, 0));
	EXPECT_EQ(0, memcmp(buf, stream(bad_specs[1].seed), bad_specs[1].len));
	EXPECT_EQ(2, CNT(c, rx_direct));
	EXPECT_EQ(1, CNT(c, rx_from_skb));
	close(a);
	close(c);
	free(buf);
}

/*
 * A reader with less room than a record: the part it has room for is
 * opened into its buffer, the rest into the record buffer, which the next
 * reads hand out.  A TLS 1.3 record that turns out padded is opened again
 * in place; a forged one leaves nothing in the reader's buffer.
 */
TEST_F(bad, direct_split)
{
	uint8_t *buf = malloc(BIG), *r = malloc(MAX_REC);
	size_t len = bad_specs[1].len;

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(RECLEN(0), send(self->rfd, REC(0), RECLEN(0), 0));
	ASSERT_NE(0, wait_fd(self->vfd, POLLIN, WAIT_MS));
	memset(buf, FILL, BIG);
	ASSERT_EQ(1, recv(self->vfd, buf, 1, 0));
	EXPECT_TRUE(untouched(buf + 1, BIG - 1));
	ASSERT_EQ(500, recv(self->vfd, buf + 1, 500, 0));
	ASSERT_EQ(499, recv(self->vfd, buf + 501, BIG, 0));
	EXPECT_EQ(0, memcmp(buf, stream(bad_specs[0].seed), 1000));

	ASSERT_EQ(RECLEN(1), send(self->rfd, REC(1), RECLEN(1), 0));
	ASSERT_NE(0, wait_fd(self->vfd, POLLIN, WAIT_MS));
	memset(buf, FILL, BIG);
	ASSERT_EQ(1000, recv(self->vfd, buf, 1000, 0));
	EXPECT_TRUE(untouched(buf + 1000, BIG - 1000));
	ASSERT_EQ(len - 1000, recv(self->vfd, buf + 1000, BIG, 0));
	EXPECT_EQ(0, memcmp(buf, stream(bad_specs[1].seed), len));
	EXPECT_EQ(2, CNT(self->vfd, rx_direct));
	EXPECT_EQ(2, CNT(self->vfd, rx_from_skb));

	if (variant->version == TLS13 && have_af_alg()) {
		send_alg(_metadata, self, 2, T_DATA, stream(70), 300, 20);
		ASSERT_NE(0, wait_fd(self->vfd, POLLIN, WAIT_MS));
		memset(buf, FILL, BIG);
		ASSERT_EQ(100, recv(self->vfd, buf, 100, 0));
		EXPECT_TRUE(fill_or_zero(buf + 100, BIG - 100));
		ASSERT_EQ(200, recv(self->vfd, buf + 100, BIG, 0));
		EXPECT_EQ(0, memcmp(buf, stream(70), 300));
		EXPECT_EQ(2, CNT(self->vfd, rx_direct));
	} else {
		ASSERT_EQ(RECLEN(2), send(self->rfd, REC(2), RECLEN(2), 0));
		ASSERT_EQ(bad_specs[2].len, read_exact(self->vfd, buf,
						       bad_specs[2].len,
						       WAIT_MS));
	}

	memcpy(r, REC(3), RECLEN(3));
	r[RECLEN(3) - 1] ^= 0x01;
	ASSERT_EQ(RECLEN(3), send(self->rfd, r, RECLEN(3), 0));
	ASSERT_NE(0, wait_fd(self->vfd, POLLIN, WAIT_MS));
	memset(buf, FILL, BIG);
	EXPECT_EQ(-1, recv(self->vfd, buf, 100, 0));
	EXPECT_EQ(EBADMSG, errno);
	EXPECT_TRUE(fill_or_zero(buf, BIG));
	EXPECT_EQ(1, CNT(self->vfd, rx_bad_tag));
	free(r);
	free(buf);
	BYSTANDER_OK();
}

/* A forged record leaves none of its plaintext in the reader's buffer. */
TEST_F(bad, direct_bad_tag_wiped)
{
	uint8_t *buf = malloc(BIG);

	ASSERT_NE(NULL, buf);
	memset(buf, FILL, BIG);
	send_mutated(_metadata, self, RECLEN(0) - 1, 0x01);
	ASSERT_NE(0, wait_fd(self->vfd, POLLIN, WAIT_MS));
	EXPECT_EQ(-1, recv(self->vfd, buf, BIG, 0));
	EXPECT_EQ(EBADMSG, errno);
	EXPECT_TRUE(fill_or_zero(buf, BIG));
	EXPECT_EQ(1, CNT(self->vfd, rx_bad_tag));
	EXPECT_EQ(0, CNT(self->vfd, rx_direct));

	/* The same behind a good record, in one read. */
	ASSERT_EQ(0, bad_victim(self, &self->k));
	memset(buf, FILL, BIG);
	ASSERT_EQ(RECLEN(0), send(self->rfd, REC(0), RECLEN(0), 0));
	send_mutated(_metadata, self, RECLEN(0) + RECLEN(1) - 1, 0x01);
	usleep(20000);
	ASSERT_EQ(bad_specs[0].len, recv(self->vfd, buf, BIG, 0));
	EXPECT_EQ(0, memcmp(buf, stream(bad_specs[0].seed), bad_specs[0].len));
	EXPECT_TRUE(fill_or_zero(buf + bad_specs[0].len,
				 BIG - bad_specs[0].len));
	EXPECT_EQ(1, CNT(self->vfd, rx_direct));
	expect_dead(_metadata, self->vfd, EBADMSG);
	free(buf);
	BYSTANDER_OK();
}

/*
 * TLS 1.3: a record's inner type is known only once it is open.  A
 * handshake record after data, and a padded data record, were opened into
 * the reader's buffer first; they come out right, and nothing of them
 * stays where the previous read's data ended.
 */
TEST_F(bad, direct_tls13_other_type)
{
	uint8_t *buf = malloc(BIG);
	int type;

	ASSERT_NE(NULL, buf);
	if (variant->version != TLS13)
		SKIP(free(buf); return, "TLS 1.3 only");
	NEED_AF_ALG();
	send_alg(_metadata, self, 0, T_DATA, stream(60), 100, 0);
	send_alg(_metadata, self, 1, T_HANDSHAKE, stream(61), 10, 0);
	send_alg(_metadata, self, 2, T_DATA, stream(62), 100, 10);
	ASSERT_NE(0, wait_fd(self->vfd, POLLIN, WAIT_MS));
	usleep(20000);	/* all three are in */
	memset(buf, FILL, BIG);
	ASSERT_EQ(100, recv_type(self->vfd, SOL_TAPSEC, buf, BIG, &type, 0));
	EXPECT_EQ(T_DATA, type);
	EXPECT_EQ(0, memcmp(buf, stream(60), 100));
	EXPECT_TRUE(fill_or_zero(buf + 100, BIG - 100));
	ASSERT_EQ(10, recv_type(self->vfd, SOL_TAPSEC, buf, BIG, &type, 0));
	EXPECT_EQ(T_HANDSHAKE, type);
	EXPECT_EQ(0, memcmp(buf, stream(61), 10));
	memset(buf, FILL, BIG);
	ASSERT_EQ(100, recv_type(self->vfd, SOL_TAPSEC, buf, BIG, &type, 0));
	EXPECT_EQ(T_DATA, type);
	EXPECT_EQ(0, memcmp(buf, stream(62), 100));
	EXPECT_TRUE(fill_or_zero(buf + 100, BIG - 100));
	EXPECT_EQ(1, CNT(self->vfd, rx_direct));
	EXPECT_EQ(3, CNT(self->vfd, rx_records));
	free(buf);
	BYSTANDER_OK();
}

/* ================================================================== */
/* 4. Socket behaviour                                                  */

FIXTURE(sk) {
	int tfd;	/* tapsec */
	int kfd;	/* kTLS */
	struct key out, in;
};

FIXTURE_VARIANT(sk) {
	uint16_t version;
	uint16_t cipher;
};

FIXTURE_VARIANT_ADD(sk, tls12_aes128) { .version = TLS12, .cipher = GCM128 };
FIXTURE_VARIANT_ADD(sk, tls13_chacha20) { .version = TLS13, .cipher = CHACHA };

FIXTURE_SETUP(sk)
{
	ASSERT_EQ(0, tls_pair(AF_INET, E_SOCKET, &self->tfd, &self->kfd));
	key_make(&self->out, variant->version, variant->cipher, random_seq());
	key_make(&self->in, variant->version, variant->cipher, random_seq());
	ASSERT_EQ(0, tapsec_key(self->tfd, TAPSEC_TX, &self->out));
	ASSERT_EQ(0, tapsec_key(self->tfd, TAPSEC_RX, &self->in));
	ASSERT_EQ(0, ktls_key(self->kfd, TAPSEC_RX, &self->out));
	ASSERT_EQ(0, ktls_key(self->kfd, TAPSEC_TX, &self->in));
}

FIXTURE_TEARDOWN(sk)
{
	close_fd(&self->tfd);
	close_fd(&self->kfd);
}

/* A tapsec socket with receive key @k fed by a raw peer. */
static int raw_rx_pair(const struct key *k, int *tfd, int *rfd)
{
	if (tls_pair(AF_INET, E_SOCKET, tfd, rfd))
		return -1;
	return tapsec_key(*tfd, TAPSEC_RX, k);
}

/* A tapsec socket with transmit key @k read by a raw peer. */
static int raw_tx_pair(const struct key *k, int *tfd, int *rfd)
{
	if (tls_pair(AF_INET, E_SOCKET, tfd, rfd))
		return -1;
	return tapsec_key(*tfd, TAPSEC_TX, k);
}

struct delayed_send {
	pthread_t th;
	int fd;
	int delay_ms;
	size_t lens[4];
	unsigned int seed;
};

/* Sends stream(seed) in pieces of lens[], each after delay_ms. */
static void *delayed_send_fn(void *arg)
{
	struct delayed_send *d = arg;
	size_t off = 0;
	int i;

	for (i = 0; i < 4 && d->lens[i]; i++) {
		usleep(d->delay_ms * 1000);
		if (send(d->fd, stream(d->seed) + off, d->lens[i], MSG_NOSIGNAL) !=
		    (ssize_t)d->lens[i])
			break;
		off += d->lens[i];
	}
	return NULL;
}

/* A blocking read waits for a record; non-blocking ones say EAGAIN. */
TEST_F(sk, blocking_nonblocking)
{
	struct delayed_send d = { .fd = self->kfd, .delay_ms = 200,
				  .lens = { 777 }, .seed = 4 };
	struct timeval tv = { .tv_usec = 100000 };
	uint8_t buf[1024];
	int fl;

	EXPECT_EQ(-1, recv(self->tfd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	fl = fcntl(self->tfd, F_GETFL);
	ASSERT_EQ(0, fcntl(self->tfd, F_SETFL, fl | O_NONBLOCK));
	EXPECT_EQ(-1, recv(self->tfd, buf, sizeof(buf), 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, read(self->tfd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, fcntl(self->tfd, F_SETFL, fl));

	arm_alarm(10);
	ASSERT_EQ(0, pthread_create(&d.th, NULL, delayed_send_fn, &d));
	EXPECT_EQ(777, recv(self->tfd, buf, sizeof(buf), 0))
		TH_LOG("blocking recv: %s", strerror(errno));
	alarm(0);
	pthread_join(d.th, NULL);
	EXPECT_EQ(0, memcmp(buf, stream(4), 777));

	/* SO_RCVTIMEO bounds a blocking read like on TCP. */
	ASSERT_EQ(0, setsockopt(self->tfd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				sizeof(tv)));
	EXPECT_EQ(-1, recv(self->tfd, buf, sizeof(buf), 0));
	EXPECT_EQ(EAGAIN, errno);
}

/*
 * Non-blocking sends into a peer that does not read: EAGAIN once TCP is
 * full, never a torn stream; everything accepted arrives, in order, when
 * the peer reads (including a record TCP could only partly take).
 */
TEST_F(sk, nonblocking_send_full)
{
	size_t sent = 0, got = 0, chunk = 100000;
	uint8_t *buf = malloc(256 << 10);
	int sndbuf = 65536, rounds = 0;
	bool full = false, quiet = false;

	ASSERT_NE(NULL, buf);
	/* Small fixed buffers, so that 4 MiB is far more than fits. */
	ASSERT_EQ(0, setsockopt(self->tfd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
				sizeof(sndbuf)));
	while (sent + chunk <= BULK) {
		ssize_t r = send(self->tfd, pat + sent, chunk, MSG_DONTWAIT);

		if (r < 0) {
			ASSERT_EQ(EAGAIN, errno) TH_LOG("%s", strerror(errno));
			full = true;
			/*
			 * Full: poll says so.  The peer's TCP may still take
			 * in (and acknowledge) what it had in flight, and then
			 * there is room again, so fill that first and look
			 * again a little later.
			 */
			if (!(wait_fd(self->tfd, POLLOUT, 0) & POLLOUT)) {
				quiet = true;
				if (++rounds == 3)
					break;
			}
			usleep(20000);
			continue;
		}
		ASSERT_LT(0, r);
		ASSERT_GE(chunk, r);
		sent += r;
	}
	ASSERT_TRUE(full) TH_LOG("4 MiB went into a peer that does not read");
	EXPECT_TRUE(quiet) TH_LOG("writable whenever send() said EAGAIN");

	/* Drain: exactly the accepted bytes arrive, in order, all of them. */
	while (got < sent) {
		ssize_t n;

		if (!wait_fd(self->kfd, POLLIN, WAIT_MS))
			break;
		n = recv(self->kfd, buf, 256 << 10, MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0 || got + n > sent)
			break;
		ASSERT_EQ(0, memcmp(buf, pat + got, n)) TH_LOG("at %zu", got);
		got += n;
	}
	EXPECT_EQ(sent, got);
	EXPECT_EQ(sent, CNT(self->tfd, tx_bytes));
	EXPECT_NE(0, wait_fd(self->tfd, POLLOUT, WAIT_MS) & POLLOUT);
	/* And the stream goes on. */
	XFER(self->tfd, self->kfd, 5000, 8);
	free(buf);
}

/*
 * poll() and epoll: readable only once a whole record is in.  A raw peer
 * sends one record byte by byte.
 */
TEST_F(sk, poll_whole_record)
{
	static const struct rec_spec spec[] = { { T_DATA, 300, 12, NULL } };
	struct epoll_event ev = { .events = EPOLLIN }, out;
	uint8_t rec[512], buf[512];
	size_t off[2], b;
	int t, r, ep;

	ASSERT_EQ(wire_len(variant->version, variant->cipher, 300),
		  ktls_records(&self->in, spec, 1, rec, sizeof(rec), off));
	ASSERT_EQ(0, raw_rx_pair(&self->in, &t, &r));
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ev.data.fd = t;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev));
	for (b = 0; b < off[1]; b++) {
		EXPECT_EQ(0, wait_fd(t, POLLIN, 0))
			TH_LOG("poll: readable after %zu of %zu bytes", b, off[1]);
		EXPECT_EQ(0, epoll_wait(ep, &out, 1, 0))
			TH_LOG("epoll: readable after %zu of %zu bytes", b, off[1]);
		ASSERT_EQ(1, send(r, rec + b, 1, 0));
	}
	EXPECT_EQ(POLLIN, wait_fd(t, POLLIN | POLLRDNORM, WAIT_MS) & POLLIN);
	EXPECT_EQ(1, epoll_wait(ep, &out, 1, WAIT_MS));
	ASSERT_EQ(300, recv(t, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(0, memcmp(buf, stream(12), 300));
	EXPECT_EQ(0, wait_fd(t, POLLIN, 0));
	EXPECT_EQ(0, epoll_wait(ep, &out, 1, 0));
	close(ep);
	close(t);
	close(r);
}

/* Edge-triggered epoll wakes once per readable record, not per segment. */
TEST_F(sk, epoll_edge)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET }, out;
	uint8_t buf[4096];
	int ep;

	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->tfd, &ev));
	EXPECT_EQ(0, epoll_wait(ep, &out, 1, 0));
	ASSERT_EQ(1000, send(self->kfd, stream(3), 1000, 0));
	EXPECT_EQ(1, epoll_wait(ep, &out, 1, WAIT_MS));
	EXPECT_EQ(0, epoll_wait(ep, &out, 1, 0));
	ASSERT_EQ(1000, recv(self->tfd, buf, sizeof(buf), 0));
	ASSERT_EQ(1000, send(self->kfd, stream(4), 1000, 0));
	EXPECT_EQ(1, epoll_wait(ep, &out, 1, WAIT_MS));
	ASSERT_EQ(1000, recv(self->tfd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, stream(4), 1000));
	close(ep);
}

/* A record read in small pieces; then several records in one read. */
TEST_F(sk, partial_reads)
{
	uint8_t buf[4096];
	size_t got = 0;
	ssize_t n;
	int i;

	ASSERT_EQ(1000, send(self->kfd, stream(5), 1000, 0));
	ASSERT_NE(0, wait_fd(self->tfd, POLLIN, WAIT_MS));
	while (got < 1000) {
		n = recv(self->tfd, buf + got, 7, 0);
		ASSERT_LT(0, n);
		ASSERT_GE(7, n);
		got += n;
		/* Bytes left of an opened record are readable at once. */
		if (got < 1000)
			EXPECT_NE(0, wait_fd(self->tfd, POLLIN, 0));
	}
	EXPECT_EQ(0, memcmp(buf, stream(5), 1000));
	EXPECT_EQ(1, CNT(self->tfd, rx_records));

	for (i = 0; i < 3; i++)
		ASSERT_EQ(100, send(self->kfd, stream(6) + 100 * i, 100, 0));
	ASSERT_EQ(300, read_exact(self->tfd, buf, 300, WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, stream(6), 300));
	/* MSG_WAITALL reads across records. */
	for (i = 0; i < 3; i++)
		ASSERT_EQ(100, send(self->kfd, stream(7) + 100 * i, 100, 0));
	EXPECT_EQ(300, recv(self->tfd, buf, 300, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(buf, stream(7), 300));
	EXPECT_EQ(7, CNT(self->tfd, rx_records));
}

/* MSG_PEEK returns data without consuming it. */
TEST_F(sk, peek)
{
	uint8_t buf[1024];

	EXPECT_EQ(-1, recv(self->tfd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(500, send(self->kfd, stream(8), 500, 0));
	ASSERT_NE(0, wait_fd(self->tfd, POLLIN, WAIT_MS));
	ASSERT_EQ(100, recv(self->tfd, buf, 100, MSG_PEEK));
	EXPECT_EQ(0, memcmp(buf, stream(8), 100));
	ASSERT_EQ(500, recv(self->tfd, buf, sizeof(buf), MSG_PEEK));
	EXPECT_EQ(0, memcmp(buf, stream(8), 500));
	ASSERT_EQ(200, recv(self->tfd, buf, 200, 0));
	EXPECT_EQ(0, memcmp(buf, stream(8), 200));
	ASSERT_EQ(300, recv(self->tfd, buf, sizeof(buf), MSG_PEEK));
	EXPECT_EQ(0, memcmp(buf, stream(8) + 200, 300));
	ASSERT_EQ(300, recv(self->tfd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, stream(8) + 200, 300));
	EXPECT_EQ(-1, recv(self->tfd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, CNT(self->tfd, rx_records));
	EXPECT_EQ(500, CNT(self->tfd, rx_bytes));
}

/* SO_RCVLOWAT: a blocking read waits for that many plaintext bytes. */
TEST_F(sk, rcvlowat)
{
	struct delayed_send d = { .fd = self->kfd, .delay_ms = 100,
				  .lens = { 1000, 1000, 1500 }, .seed = 9 };
	uint8_t buf[8192];
	int lowat = 3000;
	ssize_t n;

	ASSERT_EQ(0, setsockopt(self->tfd, SOL_SOCKET, SO_RCVLOWAT, &lowat,
				sizeof(lowat)));
	arm_alarm(10);
	ASSERT_EQ(0, pthread_create(&d.th, NULL, delayed_send_fn, &d));
	n = recv(self->tfd, buf, sizeof(buf), 0);
	alarm(0);
	pthread_join(d.th, NULL);
	EXPECT_LE(3000, n) TH_LOG("recv: %zd (%s)", n, strerror(errno));
	ASSERT_LT(0, n);
	EXPECT_EQ(0, memcmp(buf, stream(9), n));
}

/*
 * SO_RCVLOWAT below a record's size: the record's last bytes arrive in a
 * TCP segment smaller than the low-water mark.  The record is complete
 * and bigger than the mark, so it must become readable.
 */
TEST_F(sk, rcvlowat_short_tail)
{
	static const struct rec_spec spec[] = { { T_DATA, 1000, 13, NULL } };
	uint8_t rec[1200], buf[2048];
	int lowat = 100, t, r;
	size_t off[2];
	ssize_t n;

	ASSERT_LT(0, ktls_records(&self->in, spec, 1, rec, sizeof(rec), off));
	ASSERT_EQ(0, raw_rx_pair(&self->in, &t, &r));
	ASSERT_EQ(0, setsockopt(t, SOL_SOCKET, SO_RCVLOWAT, &lowat,
				sizeof(lowat)));
	ASSERT_EQ(off[1] - 10, send(r, rec, off[1] - 10, 0));
	usleep(50000);
	ASSERT_EQ(10, send(r, rec + off[1] - 10, 10, 0));
	EXPECT_NE(0, wait_fd(t, POLLIN, 1000))
		TH_LOG("poll: the whole record is in, but not readable");
	arm_alarm(3);
	n = recv(t, buf, sizeof(buf), 0);
	alarm(0);
	EXPECT_EQ(1000, n) TH_LOG("recv: %s", n < 0 ? strerror(errno) : "short");
	EXPECT_EQ(0, memcmp(buf, stream(13), 1000));
	close(t);
	close(r);
}

/* sendfile() from a file, also past its end (the record must not wait). */
TEST_F(sk, sendfile)
{
	char path[] = "/tmp/tapsec-tls-XXXXXX";
	size_t len = 200000;
	uint8_t *buf = malloc(len);
	off_t off = 0;
	int file;

	ASSERT_NE(NULL, buf);
	file = mkstemp(path);
	ASSERT_LE(0, file);
	unlink(path);
	ASSERT_EQ(len, write(file, stream(10), len));
	ASSERT_EQ(len, sendfile(self->tfd, file, &off, len))
		TH_LOG("sendfile: %s", strerror(errno));
	ASSERT_EQ(len, read_exact(self->kfd, buf, len, WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, stream(10), len));
	EXPECT_LE(len / MAX_PLAIN + 1, CNT(self->tfd, tx_records));
	EXPECT_EQ(len, CNT(self->tfd, tx_bytes));

	/* Asking for more than the file has: what there is arrives. */
	ASSERT_EQ(0, ftruncate(file, 5000));
	off = 0;
	ASSERT_EQ(5000, sendfile(self->tfd, file, &off, 1 << 20));
	EXPECT_EQ(5000, read_exact(self->kfd, buf, 5000, WAIT_MS))
		TH_LOG("data of a sendfile past EOF is held back");
	EXPECT_EQ(0, memcmp(buf, stream(10), 5000));
	/* The page cache's pages are copied, never sealed from. */
	EXPECT_EQ(0, CNT(self->tfd, tx_direct));
	close(file);
	free(buf);
	XFER(self->tfd, self->kfd, 100, 11);
}

/* splice() from a pipe into the socket. */
TEST_F(sk, splice)
{
	uint8_t buf[60000];
	int p[2];

	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(60000, write(p[1], stream(11), 60000));
	ASSERT_EQ(60000, splice(p[0], NULL, self->tfd, NULL, 60000, 0))
		TH_LOG("splice: %s", strerror(errno));
	ASSERT_EQ(60000, read_exact(self->kfd, buf, 60000, WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, stream(11), 60000));
	/* SPLICE_F_MORE keeps the record open for what follows. */
	ASSERT_EQ(100, write(p[1], stream(12), 100));
	ASSERT_EQ(100, splice(p[0], NULL, self->tfd, NULL, 100, SPLICE_F_MORE));
	ASSERT_EQ(100, send(self->tfd, stream(12) + 100, 100, 0));
	ASSERT_EQ(200, read_exact(self->kfd, buf, 200, WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, stream(12), 200));
	EXPECT_EQ(60000 + 200, CNT(self->tfd, tx_bytes));
	close(p[0]);
	close(p[1]);
}

/* One big write is cut into records of 2^14 bytes. */
TEST_F(sk, large_write)
{
	size_t len = (1 << 20) + 5;
	char why[160] = "";
	struct writer w;
	uint8_t *buf = malloc(len);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, writer_start(&w, self->tfd, stream(13), len, len));
	EXPECT_EQ(len, read_exact(self->kfd, buf, len, WAIT_MS)) TH_LOG("%s", why);
	pthread_join(w.th, NULL);
	EXPECT_EQ(len, w.done);
	EXPECT_EQ(0, memcmp(buf, stream(13), len));
	EXPECT_EQ(65, CNT(self->tfd, tx_records));
	free(buf);
}

/*
 * A receive buffer smaller than a record: records still arrive and poll()
 * still reports them, since their bytes leave TCP's queue when it would
 * otherwise close the window with the record incomplete.  The last bytes
 * of each, which complete it, wait in TCP and are opened from there.
 */
TEST_F(sk, small_rcvbuf)
{
	int small = 2048;

	ASSERT_EQ(0, setsockopt(self->tfd, SOL_SOCKET, SO_RCVBUF, &small,
				sizeof(small)));
	XFER(self->kfd, self->tfd, (256 << 10) + 7, 14);
	EXPECT_LE(17, CNT(self->tfd, rx_records));
	EXPECT_LT(0, CNT(self->tfd, rx_direct));
	EXPECT_EQ(CNT(self->tfd, rx_direct), CNT(self->tfd, rx_from_skb));
}

/* Read one record header off a raw reader; returns its length or -1. */
static int read_header(int fd, uint8_t *hdr)
{
	if (read_exact(fd, hdr, REC_HDR, WAIT_MS) != REC_HDR)
		return -1;
	return hdr[3] << 8 | hdr[4];
}

/* MSG_MORE: two sends of 100 bytes are one record of 200 on the wire. */
TEST_F(sk, msg_more)
{
	size_t ovh = rec_overhead(variant->version, variant->cipher);
	uint8_t hdr[REC_HDR], body[1024], big[MAX_REC];
	int t, r, len;

	ASSERT_EQ(0, raw_tx_pair(&self->out, &t, &r));
	ASSERT_EQ(100, send(t, stream(14), 100, MSG_MORE));
	EXPECT_EQ(0, wait_fd(r, POLLIN, 100));	/* nothing yet */
	ASSERT_EQ(100, send(t, stream(14) + 100, 100, 0));
	len = read_header(r, hdr);
	EXPECT_EQ(200 + ovh - REC_HDR, len);
	ASSERT_LT(0, len);
	ASSERT_EQ(len, read_exact(r, body, len, WAIT_MS));
	EXPECT_EQ(0, wait_fd(r, POLLIN, 50));
	EXPECT_EQ(1, CNT(t, tx_records));

	/* A record of another type closes the open one first. */
	ASSERT_EQ(50, send(t, stream(15), 50, MSG_MORE));
	ASSERT_EQ(10, send_type(t, SOL_TAPSEC, T_HANDSHAKE, stream(16), 10, 0));
	len = read_header(r, hdr);
	EXPECT_EQ(50 + ovh - REC_HDR, len);
	EXPECT_EQ(T_DATA, hdr[0]);
	ASSERT_EQ(len, read_exact(r, body, len, WAIT_MS));
	len = read_header(r, hdr);
	EXPECT_EQ(10 + ovh - REC_HDR, len);
	EXPECT_EQ(variant->version == TLS13 ? T_DATA : T_HANDSHAKE, hdr[0]);
	ASSERT_EQ(len, read_exact(r, body, len, WAIT_MS));

	/* MSG_MORE up to 2^14: the full record goes, the rest stays open. */
	ASSERT_EQ(MAX_PLAIN + 10, send(t, stream(17), MAX_PLAIN + 10, MSG_MORE));
	len = read_header(r, hdr);
	EXPECT_EQ(MAX_PLAIN + ovh - REC_HDR, len);
	ASSERT_EQ(len, read_exact(r, big, len, WAIT_MS));
	EXPECT_EQ(0, wait_fd(r, POLLIN, 50));

	/* shutdown() seals the open record before close_notify. */
	ASSERT_EQ(0, shutdown(t, SHUT_WR));
	len = read_header(r, hdr);
	EXPECT_EQ(10 + ovh - REC_HDR, len);
	ASSERT_EQ(len, read_exact(r, body, len, WAIT_MS));
	len = read_header(r, hdr);
	EXPECT_EQ(2 + ovh - REC_HDR, len);
	EXPECT_EQ(variant->version == TLS13 ? T_DATA : T_ALERT, hdr[0]);
	ASSERT_EQ(len, read_exact(r, body, len, WAIT_MS));
	EXPECT_EQ(0, recv(r, body, sizeof(body), 0));
	/* 200, 50, 10 (handshake), 2^14, 10, close_notify */
	EXPECT_EQ(6, CNT(t, tx_records));
	close(t);
	close(r);
}

/*
 * A record that one send() fills or ends is sealed straight from the
 * sender's pages (tx_direct counts it); one that stays open for more, or
 * that would take more pieces of the sender's buffer than a record may be
 * sealed from, is copied first.  kTLS reads the same bytes either way.
 */
TEST_F(sk, direct_seal)
{
	uint8_t *area = aligned_alloc(4096, PIECES * 4096);
	uint8_t *got = malloc(2 * MAX_PLAIN);
	struct iovec iov[PIECES];
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = PIECES };
	int i;

	ASSERT_NE(NULL, area);
	ASSERT_NE(NULL, got);
	/* A full record, then the end of the send: both from the pages. */
	ASSERT_EQ(MAX_PLAIN + 100, send(self->tfd, stream(70), MAX_PLAIN + 100, 0));
	ASSERT_EQ(MAX_PLAIN + 100, read_exact(self->kfd, got, MAX_PLAIN + 100,
					      WAIT_MS));
	EXPECT_EQ(0, memcmp(got, stream(70), MAX_PLAIN + 100));
	EXPECT_EQ(2, CNT(self->tfd, tx_direct));

	/* A record left open with MSG_MORE is copied. */
	ASSERT_EQ(100, send(self->tfd, stream(71), 100, MSG_MORE));
	ASSERT_EQ(100, send(self->tfd, stream(71) + 100, 100, 0));
	ASSERT_EQ(200, read_exact(self->kfd, got, 200, WAIT_MS));
	EXPECT_EQ(0, memcmp(got, stream(71), 200));
	EXPECT_EQ(2, CNT(self->tfd, tx_direct));

	/*
	 * 20 pieces of 1000 bytes, one per page: the first record would take
	 * 17 pages and is copied, the last 3616 bytes (4 pages) are not.
	 */
	for (i = 0; i < PIECES; i++) {
		iov[i].iov_base = area + i * 4096 + 100;
		iov[i].iov_len = 1000;
		memcpy(iov[i].iov_base, stream(72) + i * 1000, 1000);
	}
	ASSERT_EQ(PIECES * 1000, sendmsg(self->tfd, &mh, 0));
	ASSERT_EQ(PIECES * 1000, read_exact(self->kfd, got, PIECES * 1000,
					    WAIT_MS));
	EXPECT_EQ(0, memcmp(got, stream(72), PIECES * 1000));
	EXPECT_EQ(3, CNT(self->tfd, tx_direct));
	EXPECT_EQ(5, CNT(self->tfd, tx_records));
	free(area);
	free(got);
}

/* A record type set by cmsg on send arrives at kTLS with that type. */
TEST_F(sk, record_type_tx)
{
	uint8_t buf[256];
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { .iov_base = buf, .iov_len = 10 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	int bad[] = { 0, 19, 24, 255 }, i, type;

	ASSERT_EQ(100, send_type(self->tfd, SOL_TAPSEC, T_HANDSHAKE, stream(18),
				 100, 0));
	ASSERT_NE(0, wait_fd(self->kfd, POLLIN, WAIT_MS));
	ASSERT_EQ(100, recv_type(self->kfd, SOL_TLS, buf, sizeof(buf), &type, 0));
	EXPECT_EQ(T_HANDSHAKE, type);
	EXPECT_EQ(0, memcmp(buf, stream(18), 100));

	for (i = 0; i < 4; i++) {
		EXPECT_EQ(-1, send_type(self->tfd, SOL_TAPSEC, bad[i], buf, 10, 0));
		EXPECT_EQ(EINVAL, errno) TH_LOG("type %d", bad[i]);
	}
	/* A cmsg of the wrong size. */
	cmsg->cmsg_level = SOL_TAPSEC;
	cmsg->cmsg_type = TAPSEC_SET_RECORD_TYPE;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	*(int *)CMSG_DATA(cmsg) = T_HANDSHAKE;
	EXPECT_EQ(-1, sendmsg(self->tfd, &msg, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(1, CNT(self->tfd, tx_records));
	EXPECT_EQ(0, wait_fd(self->kfd, POLLIN, 50));
	XFER(self->tfd, self->kfd, 10, 19);
}

/*
 * Other types from kTLS: EIO without room for the type (the record stays),
 * the type with it; one recvmsg returns records of one type only.
 */
TEST_F(sk, record_type_rx)
{
	uint8_t alert[2] = { 2, 40 }, buf[256];
	int type;

	ASSERT_EQ(2, send_type(self->kfd, SOL_TLS, T_ALERT, alert, 2, 0));
	ASSERT_NE(0, wait_fd(self->tfd, POLLIN, WAIT_MS));
	EXPECT_EQ(-1, recv(self->tfd, buf, sizeof(buf), 0));
	EXPECT_EQ(EIO, errno);
	ASSERT_EQ(2, recv_type(self->tfd, SOL_TAPSEC, buf, sizeof(buf), &type, 0));
	EXPECT_EQ(T_ALERT, type);
	EXPECT_EQ(0, memcmp(buf, alert, 2));
	EXPECT_EQ(0, CNT(self->tfd, close_notify_rx));

	ASSERT_EQ(10, send(self->kfd, stream(20), 10, 0));
	ASSERT_EQ(10, send_type(self->kfd, SOL_TLS, T_HANDSHAKE, stream(21), 10, 0));
	ASSERT_EQ(10, send(self->kfd, stream(22), 10, 0));
	ASSERT_EQ(10, send(self->kfd, stream(23), 10, 0));
	usleep(20000);
	ASSERT_EQ(10, recv_type(self->tfd, SOL_TAPSEC, buf, sizeof(buf), &type, 0));
	EXPECT_EQ(T_DATA, type);
	EXPECT_EQ(0, memcmp(buf, stream(20), 10));
	ASSERT_EQ(10, recv_type(self->tfd, SOL_TAPSEC, buf, sizeof(buf), &type, 0));
	EXPECT_EQ(T_HANDSHAKE, type);
	EXPECT_EQ(0, memcmp(buf, stream(21), 10));
	/* Application data records do run together. */
	ASSERT_EQ(20, read_exact(self->tfd, buf, 20, WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, stream(22), 10));
	EXPECT_EQ(0, memcmp(buf + 10, stream(23), 10));
}

/*
 * Sequence numbers never wrap: with rec_seq 2^64 - 1 one record goes, the
 * next send fails EKEYEXPIRED.  The record is valid (a receiver at the same
 * number opens it), and a receiver runs out the same way.
 */
TEST_F(sk, seq_exhaustion)
{
	size_t ovh = rec_overhead(variant->version, variant->cipher);
	uint8_t rec[256], buf[64];
	struct key k = self->out;
	int t, r, t2, r2;

	key_set_seq(&k, ~0ULL);
	ASSERT_EQ(0, raw_tx_pair(&k, &t, &r));
	ASSERT_EQ(10, send(t, stream(24), 10, 0));
	ASSERT_EQ(10 + ovh, read_exact(r, rec, 10 + ovh, WAIT_MS));
	EXPECT_EQ(-1, send(t, stream(24), 1, MSG_NOSIGNAL));
	EXPECT_EQ(EKEYEXPIRED, errno) TH_LOG("second send: %s", strerror(errno));
	EXPECT_EQ(-1, send(t, stream(24), 1, MSG_NOSIGNAL));
	EXPECT_EQ(EKEYEXPIRED, errno);
	EXPECT_LE(1, CNT(t, key_exhausted));
	EXPECT_EQ(1, CNT(t, tx_records));
	/* Nothing more on the wire, not even a close_notify. */
	ASSERT_EQ(0, shutdown(t, SHUT_WR));
	EXPECT_EQ(0, read_exact(r, buf, sizeof(buf), WAIT_MS));
	EXPECT_EQ(0, CNT(t, close_notify_tx));

	ASSERT_EQ(0, raw_rx_pair(&k, &t2, &r2));
	ASSERT_EQ(10 + ovh, send(r2, rec, 10 + ovh, 0));
	ASSERT_EQ(10, read_exact(t2, buf, 10, WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, stream(24), 10));
	ASSERT_EQ(10 + ovh, send(r2, rec, 10 + ovh, 0));
	ASSERT_NE(0, wait_fd(t2, POLLIN, WAIT_MS));
	EXPECT_EQ(-1, recv(t2, buf, sizeof(buf), 0));
	EXPECT_EQ(EKEYEXPIRED, errno);
	EXPECT_EQ(1, CNT(t2, key_exhausted));
	close(t);
	close(r);
	close(t2);
	close(r2);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/*
 * Keys read back: the structure as set, key zeroed, rec_seq the next
 * number (as kTLS reports it), TLS 1.2 AES-GCM's iv the next explicit
 * nonce; *_KEY adds the key (we are root here).
 */
TEST_F(sk, key_readback)
{
	struct key got, exp;
	socklen_t len;
	int keylen, t, r;
	const uint8_t *kb;
	uint8_t buf[64];

	/* Nothing read yet. */
	got = self->out;
	len = sizeof(got.ci);
	ASSERT_EQ(0, getsockopt(self->tfd, SOL_TAPSEC, TAPSEC_TX, &got.ci, &len));
	EXPECT_EQ(self->out.len, len);
	kb = key_bytes(&got, &keylen);
	EXPECT_TRUE(all_zero(kb, keylen));
	exp = self->out;
	memset((uint8_t *)key_bytes(&exp, &keylen), 0, keylen);
	EXPECT_EQ(0, memcmp(&exp.ci, &got.ci, exp.len));

	/* Three records out, two in. */
	XFER(self->tfd, self->kfd, 10, 1);
	XFER(self->tfd, self->kfd, 10, 2);
	XFER(self->tfd, self->kfd, 10, 3);
	XFER(self->kfd, self->tfd, 10, 4);
	XFER(self->kfd, self->tfd, 10, 5);
	EXPECT_EQ(key_get_seq(&self->out) + 3,
		  tapsec_seq(self->tfd, TAPSEC_TX, &self->out));
	EXPECT_EQ(key_get_seq(&self->in) + 2,
		  tapsec_seq(self->tfd, TAPSEC_RX, &self->in));
	EXPECT_EQ(ktls_seq(self->kfd, TLS_RX, &self->out),
		  tapsec_seq(self->tfd, TAPSEC_TX, &self->out));
	EXPECT_EQ(ktls_seq(self->kfd, TLS_TX, &self->in),
		  tapsec_seq(self->tfd, TAPSEC_RX, &self->in));
	if (variant->version == TLS12 && variant->cipher == GCM128) {
		/* The transmit iv moved on with the explicit nonce. */
		got = self->out;
		len = got.len;
		ASSERT_EQ(0, getsockopt(self->tfd, SOL_TAPSEC, TAPSEC_TX,
					&got.ci, &len));
		EXPECT_EQ(get_be64(self->out.ci.g128.iv) + 3,
			  get_be64(got.ci.g128.iv));
		EXPECT_EQ(0, memcmp(got.ci.g128.salt, self->out.ci.g128.salt, 4));
	}

	/* With the key, as root. */
	got = self->in;
	memset(&got.ci, 0, sizeof(got.ci));
	len = sizeof(got.ci);
	ASSERT_EQ(0, getsockopt(self->tfd, SOL_TAPSEC, TAPSEC_RX_KEY, &got.ci, &len))
		TH_LOG("TAPSEC_RX_KEY: %s", strerror(errno));
	EXPECT_EQ(self->in.len, len);
	kb = key_bytes(&got, &keylen);
	EXPECT_EQ(0, memcmp(kb, key_bytes(&self->in, &keylen), keylen));
	got = self->out;
	len = sizeof(got.ci);
	ASSERT_EQ(0, getsockopt(self->tfd, SOL_TAPSEC, TAPSEC_TX_KEY, &got.ci, &len));
	EXPECT_EQ(0, memcmp(key_bytes(&got, &keylen),
			    key_bytes(&self->out, &keylen), keylen));

	/* A buffer too small for the structure. */
	len = self->out.len - 1;
	EXPECT_EQ(-1, getsockopt(self->tfd, SOL_TAPSEC, TAPSEC_TX, &got.ci, &len));
	EXPECT_EQ(EINVAL, errno);

	/* No key in a direction: ENOKEY. */
	ASSERT_EQ(0, raw_tx_pair(&self->out, &t, &r));
	len = sizeof(got.ci);
	EXPECT_EQ(-1, getsockopt(t, SOL_TAPSEC, TAPSEC_RX, &got.ci, &len));
	EXPECT_EQ(ENOKEY, errno);
	EXPECT_EQ(-1, getsockopt(t, SOL_TAPSEC, TAPSEC_RX_KEY, &got.ci, &len));
	EXPECT_EQ(ENOKEY, errno);
	/* ... and data that way is refused. */
	ASSERT_EQ(3, send(r, "abc", 3, 0));
	EXPECT_EQ(-1, recv(t, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(ENOKEY, errno);
	EXPECT_EQ(1, CNT(t, refused_nokey));
	close(t);
	close(r);
	ASSERT_EQ(0, raw_rx_pair(&self->in, &t, &r));
	EXPECT_EQ(-1, getsockopt(t, SOL_TAPSEC, TAPSEC_TX, &got.ci, &len));
	EXPECT_EQ(ENOKEY, errno);
	EXPECT_EQ(-1, send(t, "abc", 3, MSG_NOSIGNAL));
	EXPECT_EQ(ENOKEY, errno);
	EXPECT_EQ(1, CNT(t, refused_nokey));
	close(t);
	close(r);
}

/* TAPSEC_TX_KEY/RX_KEY need CAP_NET_ADMIN; TAPSEC_TX/RX do not. */
TEST_F(sk, key_needs_cap_net_admin)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct key got = self->out;
		socklen_t len = sizeof(got.ci);
		int keylen = 0;

		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(10);
		if (getsockopt(self->tfd, SOL_TAPSEC, TAPSEC_TX, &got.ci, &len))
			_exit(11);
		if (!all_zero(key_bytes(&got, &keylen), keylen))
			_exit(12);
		len = sizeof(got.ci);
		if (getsockopt(self->tfd, SOL_TAPSEC, TAPSEC_TX_KEY, &got.ci,
			       &len) != -1 || errno != EPERM)
			_exit(13);
		len = sizeof(got.ci);
		if (getsockopt(self->tfd, SOL_TAPSEC, TAPSEC_RX_KEY, &got.ci,
			       &len) != -1 || errno != EPERM)
			_exit(14);
		/* Without the capability the key was not written either. */
		if (!all_zero(key_bytes(&got, &keylen), keylen))
			_exit(15);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child step %d failed (10: setuid, 11: TAPSEC_TX, "
		       "12: key not zeroed, 13/14: *_KEY not EPERM)",
		       WEXITSTATUS(status));
}

/* Every way to get TAPSEC_TX/RX wrong, each with its errno. */
TEST_F(sk, key_errors)
{
	struct sockaddr_storage ss;
	struct key k, bad;
	int fd, t, r;
	char raw[64] = {};
	socklen_t sl;

	key_make(&k, variant->version, variant->cipher, 0);

	/* Not connected: a fresh socket, and a listener. */
	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, tapsec_key(fd, TAPSEC_TX, &k));
	EXPECT_EQ(ENOTCONN, errno);
	EXPECT_EQ(-1, tapsec_key(fd, TAPSEC_RX, &k));
	EXPECT_EQ(ENOTCONN, errno);
	ASSERT_EQ(0, tt_bind_loopback(fd, AF_INET, &ss, &sl));
	ASSERT_EQ(0, listen(fd, 1));
	EXPECT_EQ(-1, tapsec_key(fd, TAPSEC_TX, &k));
	EXPECT_EQ(ENOTCONN, errno);
	close(fd);

	ASSERT_EQ(0, tls_pair(AF_INET, E_SOCKET, &t, &r));
	/* Sizes: one short, one long, the bare header, nothing. */
	EXPECT_EQ(-1, setsockopt(t, SOL_TAPSEC, TAPSEC_TX, &k.ci, k.len - 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setsockopt(t, SOL_TAPSEC, TAPSEC_TX, raw, 0));
	EXPECT_EQ(EINVAL, errno);
	memcpy(raw, &k.ci, k.len);
	EXPECT_EQ(-1, setsockopt(t, SOL_TAPSEC, TAPSEC_TX, raw, k.len + 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setsockopt(t, SOL_TAPSEC, TAPSEC_TX, &k.ci, 4));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setsockopt(t, SOL_TAPSEC, TAPSEC_TX, NULL, k.len));
	EXPECT_EQ(EFAULT, errno);
	/* Versions. */
	bad = k;
	bad.ci.info.version = 0x0302;
	EXPECT_EQ(-1, tapsec_key(t, TAPSEC_TX, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad.ci.info.version = 0x0305;
	EXPECT_EQ(-1, tapsec_key(t, TAPSEC_RX, &bad));
	EXPECT_EQ(EINVAL, errno);
	/* Ciphers: unknown ones, and a known one with another's size. */
	bad = k;
	bad.ci.info.cipher_type = 53;	/* AES-CCM-128 in kTLS: not here */
	EXPECT_EQ(-1, tapsec_key(t, TAPSEC_TX, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad.ci.info.cipher_type = 0;
	EXPECT_EQ(-1, tapsec_key(t, TAPSEC_TX, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad = k;
	bad.ci.info.cipher_type = variant->cipher == GCM128 ? GCM256 : GCM128;
	EXPECT_EQ(-1, tapsec_key(t, TAPSEC_TX, &bad));
	EXPECT_EQ(EINVAL, errno);
	/* None of this installed anything. */
	EXPECT_EQ(TAPSEC_STATE_NEW, tinfo(_metadata, t).state);
	EXPECT_EQ(-1, send(t, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(ENOKEY, errno);
	close(t);
	close(r);
}

/*
 * A second key: TLS 1.2 has no key update (EBUSY, the first key stays);
 * TLS 1.3 takes a new key of the same cipher (a key update) and refuses
 * another cipher or version.
 */
TEST_F(sk, second_key)
{
	struct key k2;

	key_make(&k2, variant->version, variant->cipher, 0);
	if (variant->version == TLS12) {
		EXPECT_EQ(-1, tapsec_key(self->tfd, TAPSEC_TX, &k2));
		EXPECT_EQ(EBUSY, errno);
		EXPECT_EQ(-1, tapsec_key(self->tfd, TAPSEC_RX, &k2));
		EXPECT_EQ(EBUSY, errno);
		XFER(self->tfd, self->kfd, 1000, 1);
		XFER(self->kfd, self->tfd, 1000, 2);
		return;
	}
	k2.ci.info.version = TLS12;
	EXPECT_EQ(-1, tapsec_key(self->tfd, TAPSEC_TX, &k2));
	EXPECT_EQ(EINVAL, errno);
	key_make(&k2, TLS13, variant->cipher == GCM128 ? GCM256 : GCM128, 0);
	EXPECT_EQ(-1, tapsec_key(self->tfd, TAPSEC_TX, &k2));
	EXPECT_EQ(EINVAL, errno);
	/* The old key is still in use after the refusals. */
	XFER(self->tfd, self->kfd, 1000, 1);
	key_make(&k2, TLS13, variant->cipher, 77);
	EXPECT_EQ(0, tapsec_key(self->tfd, TAPSEC_TX, &k2))
		TH_LOG("TLS 1.3 key update: %s", strerror(errno));
	EXPECT_EQ(77, tapsec_seq(self->tfd, TAPSEC_TX, &k2));
}

/*
 * TLS 1.3 key update between two tapsec sockets: A sends a KeyUpdate
 * (a handshake record), switches its transmit key and goes on sending;
 * B reads the KeyUpdate, then switches its receive key.
 */
static void rekey_case(struct __test_metadata *_metadata, uint16_t cipher,
		       bool data_waiting)
{
	uint8_t buf[256], ku[5] = { 24, 0, 0, 1, 0 };
	struct key k1, k2;
	int a, b, type;

	key_make(&k1, TLS13, cipher, random_seq());
	key_make(&k2, TLS13, cipher, 0);
	ASSERT_EQ(0, tcp_pair(AF_INET, IPPROTO_TAPSEC, IPPROTO_TAPSEC, &a, &b));
	ASSERT_EQ(0, tapsec_key(a, TAPSEC_TX, &k1));
	ASSERT_EQ(0, tapsec_key(b, TAPSEC_RX, &k1));
	ASSERT_EQ(100, send(a, stream(1), 100, 0));
	ASSERT_EQ(5, send_type(a, SOL_TAPSEC, T_HANDSHAKE, ku, 5, 0));
	ASSERT_EQ(0, tapsec_key(a, TAPSEC_TX, &k2));
	if (data_waiting) {
		/* The new key's first record is there before B switches. */
		ASSERT_EQ(100, send(a, stream(2), 100, 0));
		usleep(20000);
	}
	ASSERT_EQ(100, read_exact(b, buf, 100, WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, stream(1), 100));
	ASSERT_EQ(5, recv_type(b, SOL_TAPSEC, buf, sizeof(buf), &type, 0));
	EXPECT_EQ(T_HANDSHAKE, type);
	ASSERT_EQ(0, tapsec_key(b, TAPSEC_RX, &k2))
		TH_LOG("receive key update: %s", strerror(errno));
	if (!data_waiting)
		ASSERT_EQ(100, send(a, stream(2), 100, 0));
	ASSERT_EQ(100, read_exact(b, buf, 100, WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, stream(2), 100));
	EXPECT_EQ(1, tapsec_seq(a, TAPSEC_TX, &k2));
	EXPECT_EQ(1, tapsec_seq(b, TAPSEC_RX, &k2));
	EXPECT_EQ(0, CNT(b, rx_bad_tag));
	close(a);
	close(b);
}

TEST_F(sk, tls13_key_update)
{
	if (variant->version != TLS13)
		SKIP(return, "TLS 1.3 only");
	rekey_case(_metadata, variant->cipher, false);
}

/* The same, when the peer's next record has arrived before the switch. */
TEST_F(sk, tls13_key_update_data_waiting)
{
	if (variant->version != TLS13)
		SKIP(return, "TLS 1.3 only");
	rekey_case(_metadata, variant->cipher, true);
}

/*
 * TLS 1.2 AES-GCM explicit nonces: the crypto_info's iv, plus one per
 * record, carrying across bytes and wrapping within its 8 bytes, as kTLS.
 */
TEST_F(sk, explicit_nonce)
{
	static const uint8_t ivs[2][8] = {
		{ 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe },
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
	static const uint8_t next[2][2][8] = {
		{ { 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		  { 0x02, 0, 0, 0, 0, 0, 0, 0 } },
		{ { 0, 0, 0, 0, 0, 0, 0, 0 },
		  { 0, 0, 0, 0, 0, 0, 0, 1 } },
	};
	uint8_t a[3][64], b[3][64];
	struct key k;
	int i, j, t, tr, c, cr;

	if (variant->version != TLS12 || variant->cipher == CHACHA)
		SKIP(return, "TLS 1.2 AES-GCM only");
	for (i = 0; i < 2; i++) {
		key_make(&k, TLS12, GCM128, random_seq());
		memcpy(k.ci.g128.iv, ivs[i], 8);
		ASSERT_EQ(0, raw_tx_pair(&k, &t, &tr));
		ASSERT_EQ(0, plain_pair(AF_INET, &c, &cr));
		ASSERT_EQ(0, ktls_key(c, TAPSEC_TX, &k));
		for (j = 0; j < 3; j++) {
			ASSERT_EQ(10, send(t, stream(j), 10, 0));
			ASSERT_EQ(10, send(c, stream(j), 10, 0));
			ASSERT_EQ(39, read_exact(tr, a[j], 39, WAIT_MS));
			ASSERT_EQ(39, read_exact(cr, b[j], 39, WAIT_MS));
			EXPECT_EQ(0, memcmp(a[j], b[j], 39))
				TH_LOG("iv %d, record %d differs from kTLS's", i, j);
		}
		EXPECT_EQ(0, memcmp(a[0] + REC_HDR, ivs[i], 8));
		EXPECT_EQ(0, memcmp(a[1] + REC_HDR, next[i][0], 8));
		EXPECT_EQ(0, memcmp(a[2] + REC_HDR, next[i][1], 8));
		/* The salt stays out of it. */
		close(t);
		close(tr);
		close(c);
		close(cr);
	}
}

/* ================================================================== */
/* 5. Lifecycle                                                         */

/* A keyed tapsec (E_SOCKET, IPv4) and kTLS pair. */
static int keyed_pair(uint16_t version, uint16_t cipher, int *tfd, int *kfd)
{
	struct key a, b;

	key_make(&a, version, cipher, random_seq());
	key_make(&b, version, cipher, random_seq());
	if (tls_pair(AF_INET, E_SOCKET, tfd, kfd))
		return -1;
	if (tapsec_key(*tfd, TAPSEC_TX, &a) || tapsec_key(*tfd, TAPSEC_RX, &b) ||
	    ktls_key(*kfd, TAPSEC_RX, &a) || ktls_key(*kfd, TAPSEC_TX, &b)) {
		close(*tfd);
		close(*kfd);
		return -1;
	}
	return 0;
}

/* Wait (bounded) until the namespace's live tapsec sockets are @want. */
static long wait_live(long want)
{
	long live = -1;
	int i;

	for (i = 0; i < 250; i++) {
		live = live_sockets();
		if (live == want)
			break;
		usleep(20000);
	}
	return live;
}

/*
 * Wait (bounded) until /proc/net/sockstat's "sockets: used" is @want: it
 * counts sockets until they are freed, after TCP's closing handshake.
 */
static long wait_used(long want)
{
	long used = -1;
	int i;

	for (i = 0; i < 250; i++) {
		used = tt_sockets_used();
		if (used == want)
			break;
		usleep(20000);
	}
	return used;
}

/*
 * Move the test into a new network namespace with loopback up: its socket
 * counts (tapsec's over netlink, /proc/net/sockstat) start at 0, whatever
 * earlier tests left closing in the first one.
 */
static int enter_netns(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd, err = 0;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr))
		err = -errno;
	close(fd);
	return err;
}

/* A thread that will not come back is interrupted (SIGALRM: EINTR). */
static void unstick(struct blocked *b)
{
	if (!b->finished)
		pthread_kill(b->th, SIGALRM);
	pthread_join(b->th, NULL);
}

/*
 * close() with data unread: in the record buffer (opened and not), and in
 * TCP.  Nothing leaks, the peer is told, nothing hangs.
 */
TEST(close_with_unread_data)
{
	static const struct rec_spec spec[] = { { T_DATA, 5000, 1, NULL } };
	long base;
	uint8_t rec[6000], buf[256];
	size_t off[2];
	struct key k;
	int t, p;

	ASSERT_EQ(0, enter_netns());
	base = live_sockets();
	ASSERT_EQ(0, base);

	/* Part of a record read; two more records queued. */
	ASSERT_EQ(0, keyed_pair(TLS13, GCM128, &t, &p));
	ASSERT_EQ(MAX_PLAIN, send(p, stream(1), MAX_PLAIN, 0));
	ASSERT_EQ(MAX_PLAIN, send(p, stream(2), MAX_PLAIN, 0));
	ASSERT_EQ(MAX_PLAIN, send(p, stream(3), MAX_PLAIN, 0));
	ASSERT_EQ(100, read_exact(t, buf, 100, WAIT_MS));
	close(t);
	/* The peer learns (close_notify, or a reset for the unread data). */
	EXPECT_NE(0, wait_fd(p, POLLIN, WAIT_MS));
	close(p);

	/*
	 * Half a record, waiting in TCP for the rest: unread data, so the
	 * peer gets a reset, as from kTLS (whose strparser leaves it in TCP
	 * too) and from TCP.
	 */
	key_make(&k, TLS12, CHACHA, 0);
	ASSERT_LT(0, ktls_records(&k, spec, 1, rec, sizeof(rec), off));
	ASSERT_EQ(0, raw_rx_pair(&k, &t, &p));
	ASSERT_EQ(off[1] / 2, send(p, rec, off[1] / 2, 0));
	usleep(10000);
	close(t);
	EXPECT_EQ(-ECONNRESET, read_exact(p, buf, sizeof(buf), WAIT_MS));
	close(p);
	ASSERT_EQ(0, tcp_pair(AF_INET, 0, 0, &t, &p));
	ASSERT_EQ(0, ktls_key(t, TAPSEC_RX, &k));
	ASSERT_EQ(off[1] / 2, send(p, rec, off[1] / 2, 0));
	usleep(10000);
	close(t);
	EXPECT_EQ(-ECONNRESET, read_exact(p, buf, sizeof(buf), WAIT_MS))
		TH_LOG("kTLS");
	close(p);

	/* A record complete, not opened, plus bytes still in TCP. */
	ASSERT_EQ(0, raw_rx_pair(&k, &t, &p));
	ASSERT_EQ(off[1], send(p, rec, off[1], 0));
	ASSERT_EQ(100, send(p, rec, 100, 0));
	ASSERT_NE(0, wait_fd(t, POLLIN, WAIT_MS));
	close(t);
	close(p);
	EXPECT_EQ(base, wait_live(base));
	EXPECT_EQ(0, wait_used(0));
}

/*
 * A reader blocked in recv() on a socket closed by another thread: it
 * comes back when the peer sends, or when the peer closes.
 */
TEST(close_during_blocked_read)
{
	static struct blocked b;
	long base;
	int t, p, i;

	ASSERT_EQ(0, enter_netns());
	base = live_sockets();
	ASSERT_EQ(0, base);

	arm_alarm(20);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, keyed_pair(TLS13, CHACHA, &t, &p));
		memset(&b, 0, sizeof(b));
		b.fd = t;
		b.len = sizeof(b.buf);
		ASSERT_EQ(0, pthread_create(&b.th, NULL, blocked_recv_fn, &b));
		EXPECT_TRUE(still_blocked(&b, 200));
		close(t);
		usleep(50000);
		if (i == 0) {
			ASSERT_EQ(10, send(p, stream(4), 10, 0));
			EXPECT_TRUE(came_back(&b, WAIT_MS));
			EXPECT_EQ(10, b.ret);
			EXPECT_EQ(0, memcmp(b.buf, stream(4), 10));
			close(p);
		} else {
			/* kTLS closes without close_notify: a truncation. */
			close(p);
			EXPECT_TRUE(came_back(&b, WAIT_MS));
			EXPECT_EQ(-1, b.ret);
			EXPECT_EQ(ECONNABORTED, b.err);
		}
		unstick(&b);
	}
	alarm(0);
	EXPECT_EQ(base, wait_live(base));
}

/*
 * shutdown(SHUT_RD) by the application wakes a blocked reader, which reads
 * end of file as on TCP (and kTLS); it is no truncation by the peer.
 */
TEST(shutdown_rd_wakes_reader)
{
	static struct blocked b;
	int t, p;

	arm_alarm(20);
	ASSERT_EQ(0, keyed_pair(TLS12, GCM256, &t, &p));
	b.fd = t;
	b.len = sizeof(b.buf);
	ASSERT_EQ(0, pthread_create(&b.th, NULL, blocked_recv_fn, &b));
	EXPECT_TRUE(still_blocked(&b, 200));
	ASSERT_EQ(0, shutdown(t, SHUT_RD));
	EXPECT_TRUE(came_back(&b, WAIT_MS));
	EXPECT_EQ(0, b.ret) TH_LOG("recv after SHUT_RD: %s", strerror(b.err));
	EXPECT_EQ(0, CNT(t, rx_truncated));
	close(p);
	unstick(&b);
	alarm(0);
	close(t);
}

/*
 * A writer blocked on a peer that does not read: shutdown(SHUT_RDWR) from
 * another thread returns at once and unblocks it (as on TCP: the usual
 * way to stop a thread stuck in send()); the reader side sees the end.
 */
struct shut_arg {
	pthread_t th;
	int fd;
	volatile int done;
	int ret;
};

static void *shut_fn(void *arg)
{
	struct shut_arg *s = arg;

	s->ret = shutdown(s->fd, SHUT_RDWR);
	s->done = 1;
	return NULL;
}

TEST(shutdown_unblocks_writer)
{
	static struct blocked b;
	struct shut_arg sa = {};
	int t, p, sndbuf = 65536, i;

	arm_alarm(20);
	ASSERT_EQ(0, keyed_pair(TLS13, GCM256, &t, &p));
	ASSERT_EQ(0, setsockopt(t, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)));
	b.fd = t;
	ASSERT_EQ(0, pthread_create(&b.th, NULL, blocked_send_fn, &b));
	EXPECT_TRUE(still_blocked(&b, 300));
	sa.fd = t;
	ASSERT_EQ(0, pthread_create(&sa.th, NULL, shut_fn, &sa));
	for (i = 0; i < 200 && !sa.done; i++)
		usleep(10000);
	EXPECT_TRUE(sa.done) TH_LOG("shutdown() blocked behind the writer");
	if (sa.done) {
		EXPECT_TRUE(came_back(&b, WAIT_MS))
			TH_LOG("writer still blocked after shutdown()");
		EXPECT_EQ(0, sa.ret);
	}
	/* Let everything go: the peer's close resets the connection. */
	close(p);
	unstick(&b);
	pthread_join(sa.th, NULL);
	alarm(0);
	close(t);
}

/* A writer blocked in send() on a socket another thread closed. */
TEST(close_during_blocked_write)
{
	static struct blocked b;
	long base;
	int t, p, sndbuf = 65536;

	ASSERT_EQ(0, enter_netns());
	base = live_sockets();
	ASSERT_EQ(0, base);

	arm_alarm(20);
	ASSERT_EQ(0, keyed_pair(TLS12, GCM128, &t, &p));
	ASSERT_EQ(0, setsockopt(t, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)));
	b.fd = t;
	ASSERT_EQ(0, pthread_create(&b.th, NULL, blocked_send_fn, &b));
	EXPECT_TRUE(still_blocked(&b, 300));
	close(t);
	usleep(50000);
	close(p);	/* unread data: RST; the writer must come back */
	EXPECT_TRUE(came_back(&b, WAIT_MS));
	/* With what it wrote before the reset, as TCP's send() does. */
	EXPECT_LT(0, b.ret) TH_LOG("send: %s", strerror(b.err));
	EXPECT_GT(BULK, b.ret);
	unstick(&b);
	alarm(0);
	EXPECT_EQ(base, wait_live(base));
}

struct closer {
	pthread_t th;
	int fd;
	volatile int done;
};

static void *close_fn(void *arg)
{
	struct closer *c = arg;

	close(c->fd);
	c->done = 1;
	return NULL;
}

/*
 * close() does not wait for a peer that stopped reading, even with a
 * record pending and TCP full (the close_notify is dropped then).
 */
TEST(close_does_not_block)
{
	struct closer c = {};
	int t, p, sndbuf = 65536, i;
	size_t sent = 0;
	ssize_t r;

	ASSERT_EQ(0, enter_netns());
	ASSERT_EQ(0, keyed_pair(TLS12, CHACHA, &t, &p));
	ASSERT_EQ(0, setsockopt(t, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)));
	/* Until a sealed record is left pending: TCP took only part. */
	while (sent < BULK && (r = send(t, pat, 50000, MSG_DONTWAIT)) > 0)
		sent += r;
	ASSERT_EQ(EAGAIN, errno);
	c.fd = t;
	ASSERT_EQ(0, pthread_create(&c.th, NULL, close_fn, &c));
	for (i = 0; i < WAIT_MS / 10 && !c.done; i++)
		usleep(10000);
	EXPECT_TRUE(c.done) TH_LOG("close() is waiting for the peer");
	close(p);	/* lets a stuck close() go */
	pthread_join(c.th, NULL);
	EXPECT_EQ(0, wait_live(0));
}

/*
 * 10,000 connections opened, keyed both ways at both ends (all three
 * entry points) and closed: the live socket count (netlink) and
 * /proc/net/sockstat come back to where they were.  On the debug kernel
 * (KASAN, lockdep, kmemleak) a plain TCP connect/accept/close alone takes
 * ~25 ms under TCG, so it does 1,000 there.
 */
FIXTURE(life) {
};

FIXTURE_SETUP(life)
{
}

FIXTURE_TEARDOWN(life)
{
}

TEST_F_TIMEOUT(life, many_connections, 300)
{
	struct sockaddr_storage srv;
	long base_live, base_used;
	const char *kernel = getenv("TAPSEC_VM_KERNEL");
	int i, lfd, c, a, n = 10000;
	struct key k1, k2;
	socklen_t srvlen;
	uint8_t byte;

	if (kernel && strstr(kernel, "debug"))
		n = 1000;
	TH_LOG("%d connections", n);
	key_make(&k1, TLS13, GCM128, 0);
	key_make(&k2, TLS13, GCM128, 0);
	ASSERT_EQ(0, enter_netns());
	base_live = live_sockets();
	base_used = wait_used(0);	/* netlink sockets go after RCU */
	ASSERT_EQ(0, base_live);
	ASSERT_EQ(0, base_used);

	lfd = socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, tt_bind_loopback(lfd, AF_INET, &srv, &srvlen));
	ASSERT_EQ(0, listen(lfd, 128));
	for (i = 0; i < n; i++) {
		c = socket(AF_INET, SOCK_STREAM, i % 2 ? 0 : IPPROTO_TAPSEC);
		ASSERT_LE(0, c) TH_LOG("socket %d: %s", i, strerror(errno));
		ASSERT_EQ(0, connect(c, (struct sockaddr *)&srv, srvlen))
			TH_LOG("connect %d: %s", i, strerror(errno));
		a = accept(lfd, NULL, NULL);
		ASSERT_LE(0, a);
		if (i % 2)
			ASSERT_EQ(0, setsockopt(c, SOL_TCP, TCP_ULP, TAPSEC_ULP_NAME,
						strlen(TAPSEC_ULP_NAME)));
		ASSERT_EQ(0, tapsec_key(c, TAPSEC_TX, &k1));
		ASSERT_EQ(0, tapsec_key(c, TAPSEC_RX, &k2));
		ASSERT_EQ(0, tapsec_key(a, TAPSEC_TX, &k2));
		ASSERT_EQ(0, tapsec_key(a, TAPSEC_RX, &k1));
		if (i % 500 == 0) {
			ASSERT_EQ(1, send(c, "x", 1, 0));
			ASSERT_EQ(1, recv(a, &byte, 1, 0));
			ASSERT_EQ(1, send(a, "y", 1, 0));
			ASSERT_EQ(1, recv(c, &byte, 1, 0));
			EXPECT_EQ(base_live + 3, live_sockets());
		}
		if (i % 3) {
			close(c);
			close(a);
		} else {
			close(a);
			close(c);
		}
	}
	close(lfd);
	EXPECT_EQ(base_live, wait_live(base_live));
	EXPECT_EQ(base_used, wait_used(base_used));
}

/*
 * The counters of a network namespace (TAPSEC_CMD_GET_STATS) start at 0 in
 * a new one, add up its sockets' counters, outlive them, and leave other
 * namespaces alone.
 */
TEST(netns_counters)
{
	struct tapsec_counters before, zero = {}, ns, after;
	struct tapsec_sock_info ti, ri;
	uint64_t *n, *x, *y;
	int orig, t, p, r, rp;
	unsigned int i;

	ASSERT_EQ(0, netns_stats(&before)) TH_LOG("GET_STATS");
	orig = open("/proc/self/ns/net", O_RDONLY);
	ASSERT_LE(0, orig);
	ASSERT_EQ(0, enter_netns());

	ASSERT_EQ(0, netns_stats(&ns));
	EXPECT_EQ(0, memcmp(&ns, &zero, sizeof(ns)));
	EXPECT_EQ(0, live_sockets());

	ASSERT_EQ(0, keyed_pair(TLS13, CHACHA, &t, &p));
	XFER(t, p, 20000, 1);
	XFER(p, t, 30000, 2);
	ASSERT_EQ(0, tls_pair(AF_INET6, E_ULP, &r, &rp));
	EXPECT_EQ(-1, send(r, "x", 1, MSG_NOSIGNAL));	/* refused_nokey */
	EXPECT_EQ(2, live_sockets());
	ti = tinfo(_metadata, t);
	ri = tinfo(_metadata, r);
	ASSERT_EQ(0, netns_stats(&ns));
	n = (uint64_t *)&ns;
	x = (uint64_t *)&ti.counters;
	y = (uint64_t *)&ri.counters;
	for (i = 0; i < sizeof(ns) / 8; i++)
		EXPECT_EQ(x[i] + y[i], n[i]) TH_LOG("counter %u", i);
	EXPECT_EQ(20000, ns.tx_bytes);
	EXPECT_EQ(30000, ns.rx_bytes);
	EXPECT_EQ(1, ns.refused_nokey);

	/* Closing sends close_notify; the namespace keeps the counts. */
	close(t);
	close(p);
	close(r);
	close(rp);
	EXPECT_EQ(0, wait_live(0));
	ASSERT_EQ(0, netns_stats(&ns));
	EXPECT_EQ(1, ns.close_notify_tx);
	EXPECT_EQ(20000 + 2, ns.tx_bytes);
	EXPECT_EQ(1, ns.refused_nokey);

	/* The first namespace saw none of it. */
	ASSERT_EQ(0, setns(orig, CLONE_NEWNET));
	close(orig);
	ASSERT_EQ(0, netns_stats(&after));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(after)));
}

TAPSEC_HARNESS_MAIN
