/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of tapsec's kselftest-harness tests that need the harness or the
 * key structures: traffic keys, socket counters, polling reads, records of
 * a given type, the live socket count, addresses, tapsec events.  Header
 * only (each test is one binary); include after kselftest_harness.h and
 * tapsec_test.h.
 */
#ifndef TAPSEC_TEST_UTIL_H
#define TAPSEC_TEST_UTIL_H

#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "kselftest_harness.h"
#include "tapsec_test.h"
#include "tapsec_nl.h"

/* ------------------------------------------------------------------ */
/* keys                                                                */

struct key {
	union {
		struct tapsec_crypto_info info;
		struct tapsec_crypto_info_aes_gcm_128 g128;
		struct tapsec_crypto_info_aes_gcm_256 g256;
		struct tapsec_crypto_info_chacha20_poly1305 chacha;
	} ci;
	socklen_t len;
};

static inline void fill_random(void *p, size_t n)
{
	uint8_t *b = p;

	while (n) {
		ssize_t r = getrandom(b, n, 0);

		if (r <= 0)
			abort();
		b += r;
		n -= r;
	}
}

static inline socklen_t key_size(uint16_t cipher)
{
	switch (cipher) {
	case TAPSEC_CIPHER_AES_GCM_128:
		return sizeof(struct tapsec_crypto_info_aes_gcm_128);
	case TAPSEC_CIPHER_AES_GCM_256:
		return sizeof(struct tapsec_crypto_info_aes_gcm_256);
	default:
		return sizeof(struct tapsec_crypto_info_chacha20_poly1305);
	}
}

static inline uint8_t *key_seq_ptr(struct key *k)
{
	switch (k->ci.info.cipher_type) {
	case TAPSEC_CIPHER_AES_GCM_128:
		return k->ci.g128.rec_seq;
	case TAPSEC_CIPHER_AES_GCM_256:
		return k->ci.g256.rec_seq;
	default:
		return k->ci.chacha.rec_seq;
	}
}

static inline void put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = v;
}

static inline void key_set_seq(struct key *k, uint64_t seq)
{
	put_be64(key_seq_ptr(k), seq);
}

/* A random key, IV and salt; @seq is the first record's number. */
static inline void key_make(struct key *k, uint16_t version, uint16_t cipher,
			    uint64_t seq)
{
	memset(k, 0, sizeof(*k));
	fill_random(&k->ci, sizeof(k->ci));
	k->ci.info.version = version;
	k->ci.info.cipher_type = cipher;
	k->len = key_size(cipher);
	key_set_seq(k, seq);
}

static inline int tapsec_key(int fd, int dir, const struct key *k)
{
	return setsockopt(fd, SOL_TAPSEC, dir, &k->ci, k->len);
}

static inline uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static inline uint64_t key_get_seq(struct key *k)
{
	return get_be64(key_seq_ptr(k));
}

/* Bytes of the AEAD key of @cipher, and of its TLS 1.3 hash. */
static inline size_t cipher_key_len(uint16_t cipher)
{
	return cipher == TAPSEC_CIPHER_AES_GCM_128 ? 16 : 32;
}

static inline size_t cipher_hash_len(uint16_t cipher)
{
	return cipher == TAPSEC_CIPHER_AES_GCM_256 ? 48 : 32;
}

/* The AEAD key of @k, and its length in *@len. */
static inline const uint8_t *key_bytes(const struct key *k, int *len)
{
	*len = cipher_key_len(k->ci.info.cipher_type);
	switch (k->ci.info.cipher_type) {
	case TAPSEC_CIPHER_AES_GCM_128:
		return k->ci.g128.key;
	case TAPSEC_CIPHER_AES_GCM_256:
		return k->ci.g256.key;
	default:
		return k->ci.chacha.key;
	}
}

/*
 * The 12-byte static nonce of @k (salt || iv for AES-GCM, chacha's iv):
 * copied out to @n, or in from @n when @in.
 */
static inline void key_iv_copy(struct key *k, uint8_t *n, bool in)
{
	uint8_t *salt = NULL, *iv = k->ci.chacha.iv;

	if (k->ci.info.cipher_type == TAPSEC_CIPHER_AES_GCM_128) {
		salt = k->ci.g128.salt;
		iv = k->ci.g128.iv;
	} else if (k->ci.info.cipher_type == TAPSEC_CIPHER_AES_GCM_256) {
		salt = k->ci.g256.salt;
		iv = k->ci.g256.iv;
	}
	if (salt) {
		memcpy(in ? salt : n, in ? n : salt, 4);
		n += 4;
	}
	memcpy(in ? iv : n, in ? n : iv, salt ? 8 : 12);
}

static inline void key_nonce(const struct key *k, uint8_t *n)
{
	key_iv_copy((struct key *)k, n, false);
}

/*
 * A key of @version and @cipher from an AEAD key and a 12-byte IV (salt ||
 * iv for AES-GCM), at sequence number 0.
 */
static inline void key_from(struct key *k, uint16_t version, uint16_t cipher,
			    const uint8_t *key, const uint8_t *iv)
{
	int len;

	memset(k, 0, sizeof(*k));
	k->ci.info.version = version;
	k->ci.info.cipher_type = cipher;
	k->len = key_size(cipher);
	memcpy((uint8_t *)key_bytes(k, &len), key, cipher_key_len(cipher));
	key_iv_copy(k, (uint8_t *)iv, true);
}

/* TAPSEC_TX_SECRET, _RX_SECRET or _EXPORTER_SECRET: @s, of @cipher's hash. */
static inline int set_secret(int fd, int opt, uint16_t cipher,
			     const uint8_t *s)
{
	struct tapsec_tls13_secret ts = { .cipher = cipher,
					  .len = cipher_hash_len(cipher) };

	memcpy(ts.secret, s, ts.len);
	return setsockopt(fd, SOL_TAPSEC, opt, &ts, sizeof(ts));
}

/* ------------------------------------------------------------------ */
/* sockets                                                             */

static inline struct tapsec_sock_info tinfo(struct __test_metadata *_metadata,
					    int fd)
{
	struct tapsec_sock_info info;
	socklen_t len = sizeof(info);

	memset(&info, 0xff, sizeof(info));
	EXPECT_EQ(0, getsockopt(fd, SOL_TAPSEC, TAPSEC_SOCK_INFO, &info, &len))
		TH_LOG("TAPSEC_SOCK_INFO: %s", strerror(errno));
	EXPECT_EQ(sizeof(info), len);
	return info;
}

#define CNT(fd, field) (tinfo(_metadata, fd).counters.field)

static inline void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Wait up to @ms for @events on @fd; returns revents or 0. */
static inline short wait_fd(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	if (poll(&p, 1, ms) <= 0)
		return 0;
	return p.revents;
}

/* The TCP state of @fd (TCP_ESTABLISHED...), or -1. */
static inline int tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	return getsockopt(fd, SOL_TCP, TCP_INFO, &ti, &len) ? -1 : ti.tcpi_state;
}

/* Wait up to @ms for @fd to reach TCP state @state; returns the last seen. */
static inline int wait_tcp_state(int fd, int state, int ms)
{
	int now = tcp_state(fd);

	for (; now != state && ms > 0; ms -= 10) {
		usleep(10000);
		now = tcp_state(fd);
	}
	return now;
}

/*
 * Read exactly @len bytes (fewer at end of file) waiting at most @ms for
 * each piece.  Returns the bytes read, or -errno if an error came first.
 */
static inline ssize_t read_exact(int fd, void *buf, size_t len, int ms)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n;

		if (!wait_fd(fd, POLLIN, ms))
			break;
		n = recv(fd, (char *)buf + got, len - got, MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return got ? (ssize_t)got : -errno;
		}
		got += n;
	}
	return got;
}

/* sendmsg of one buffer as a record of @type (SET_RECORD_TYPE cmsg). */
static inline ssize_t send_type(int fd, int level, int type, const void *buf,
				size_t len, int flags)
{
	char cbuf[CMSG_SPACE(sizeof(uint8_t))] = {};
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = level;
	cmsg->cmsg_type = 1;	/* SET_RECORD_TYPE, both */
	cmsg->cmsg_len = CMSG_LEN(sizeof(uint8_t));
	*CMSG_DATA(cmsg) = type;
	return sendmsg(fd, &msg, flags | MSG_NOSIGNAL);
}

/* recvmsg with room for a record type cmsg; *type is -1 without one. */
static inline ssize_t recv_type(int fd, int level, void *buf, size_t len,
				int *type, int flags)
{
	char cbuf[CMSG_SPACE(sizeof(uint8_t))] = {};
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg;
	ssize_t n;

	*type = -1;
	n = recvmsg(fd, &msg, flags);
	if (n < 0)
		return n;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
		if (cmsg->cmsg_level == level && cmsg->cmsg_type == 2 /* GET */)
			*type = *CMSG_DATA(cmsg);
	return n;
}

/* Live tapsec sockets of this network namespace, or -1. */
static inline long live_sockets(void)
{
	struct tapsec_info info;
	struct tapsec_nl nl;

	if (tapsec_nl_open(&nl))
		return -1;
	if (tapsec_nl_get_info(&nl, &info)) {
		tapsec_nl_close(&nl);
		return -1;
	}
	tapsec_nl_close(&nl);
	return info.sockets;
}

/* ------------------------------------------------------------------ */
/* addresses and events                                                */

static inline uint64_t inode_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/* The same family, address and port. */
static inline bool same_addr(const struct sockaddr_storage *a,
			     const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	       !memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr));
}

/*
 * Join @group.  tapsec_nl_next_event() reads with callbacks of its own,
 * which keep libnl's sequence check: every notification (sequence 0) would
 * fail with NLE_SEQ_MISMATCH, reported as EIO.  Without auto-ack libnl
 * checks no sequence numbers; requests still ask for their ack.
 */
static inline int join_group(struct tapsec_nl *nl, const char *group)
{
	int err = tapsec_nl_join(nl, group);

	if (!err)
		nl_socket_disable_auto_ack(nl->sock);
	return err;
}

/* The next notification of @cmd, waiting at most @ms.  0 or -errno. */
static inline int next_event(struct tapsec_nl *nl, uint8_t cmd,
			     struct tapsec_event *ev, int ms)
{
	if (!wait_fd(nl_socket_get_fd(nl->sock), POLLIN, ms))
		return -ETIMEDOUT;
	return tapsec_nl_next_event(nl, cmd, ev);
}

/*
 * The next TAPSEC_CMD_EVENT of @type about socket @fd into @ev, others
 * skipped, each waited for at most @ms.  0 or -errno (-ETIMEDOUT: none).
 */
static inline int wait_event(struct tapsec_nl *nl, int fd, uint32_t type,
			     struct tapsec_event *ev, int ms)
{
	uint64_t ino = inode_of(fd);
	int err;

	while (!(err = next_event(nl, TAPSEC_CMD_EVENT, ev, ms)))
		if (ev->type == type && ev->inode == ino)
			return 0;
	return err;
}

/*
 * Events of @type about socket @fd until @nl has been quiet for @ms; the
 * last of them into @last unless NULL.
 */
static inline int count_events(struct tapsec_nl *nl, int fd, uint32_t type,
			       int ms, struct tapsec_event *last)
{
	struct tapsec_event ev;
	int n = 0;

	while (!wait_event(nl, fd, type, &ev, ms)) {
		if (last)
			*last = ev;
		n++;
	}
	return n;
}

#endif /* TAPSEC_TEST_UTIL_H */
