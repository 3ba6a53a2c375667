// SPDX-License-Identifier: GPL-2.0
/*
 * The WireGuard engine (TAPSEC_PROTO_WIREGUARD) between two tapsec
 * sockets on loopback; wg_interop_test.sh checks it against kernel
 * WireGuard.
 *
 *  - wg_pair (inner and outer IPv4 and IPv6): payloads of 0 to
 *    TAPSEC_WG_MAX_PAYLOAD bytes both ways, EMSGSIZE above, the keys and
 *    inner addresses read back (the key only with CAP_NET_ADMIN), a
 *    replaced key, inbound keys made before broken (TAPSEC_RX_PREV), the
 *    last counter and EKEYEXPIRED after it, inbound keys past their
 *    age, shutdown;
 *  - wg_wire: a plain UDP socket between the two (a -> tap -> b) sees the
 *    messages, opens them with the kernel's AEAD through AF_ALG (not
 *    tapsec's code) and checks every byte: type, index, counter, the
 *    inner IPv4 header and its checksum, the inner UDP header and its
 *    checksum, zero padding to 16; it forwards them copied, reordered,
 *    altered or cut, and forges messages of its own with the key: a
 *    keepalive, inner packets from or to another address or port, of
 *    another protocol, fragments, bad lengths and checksums; each one
 *    dropped and counted as the uapi says;
 *  - errors: inner addresses and keys checked, their order, no key, no
 *    peer, an address, listen(), the engine kept once it has state;
 *  - listener: listen() and accept() without a daemon: what starts a
 *    handshake, what is dropped and counted, the accepted socket's
 *    addresses, one socket per peer.
 *
 * Runs inside a VM with tapsec.ko loaded, as root.
 */
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/wait.h>

#include "tapsec_harness.h"
#include "tapsec_test.h"
#include "tapsec_test_util.h"
#include "tapsec_alg.h"
#include "tapsec_dgram_test.h"

#define A_PORT	6001		/* inner ports: a's and b's */
#define B_PORT	6002
#define HDR	16		/* type, reserved, index, counter */
#define TAG	16
#define IP4	20
#define UDP	8
#define MAXMSG	65536

static const uint8_t a_ip4[16] = { 10, 1, 0, 1 };
static const uint8_t b_ip4[16] = { 10, 1, 0, 2 };
static const uint8_t a_ip6[16] = { 0xfd, 1, [15] = 1 };
static const uint8_t b_ip6[16] = { 0xfd, 1, [15] = 2 };

static int wg_socket(int family)
{
	int fd = socket(family, SOCK_DGRAM, IPPROTO_TAPSEC);
	int proto = TAPSEC_PROTO_WIREGUARD;

	if (fd >= 0 && setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &proto,
				  sizeof(proto))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The inner addresses of a (@a) or b, in @family. */
static struct tapsec_wg_inner inner_of(int family, bool a)
{
	struct tapsec_wg_inner in;
	const uint8_t *me = family == AF_INET ? (a ? a_ip4 : b_ip4) :
						(a ? a_ip6 : b_ip6);
	const uint8_t *peer = family == AF_INET ? (a ? b_ip4 : a_ip4) :
						  (a ? b_ip6 : a_ip6);

	memset(&in, 0, sizeof(in));
	in.family = family;
	in.local_port = a ? A_PORT : B_PORT;
	in.peer_port = a ? B_PORT : A_PORT;
	memcpy(in.local_addr, me, 16);
	memcpy(in.peer_addr, peer, 16);
	return in;
}

static int set_inner(int fd, const struct tapsec_wg_inner *in)
{
	return setsockopt(fd, SOL_TAPSEC, TAPSEC_WG_INNER, in, sizeof(*in));
}

static void wg_key(struct tapsec_wg_key *k, uint32_t index)
{
	memset(k, 0, sizeof(*k));
	k->index = index;
	fill_random(k->key, sizeof(k->key));
}

static int set_key(int fd, int dir, const struct tapsec_wg_key *k)
{
	return setsockopt(fd, SOL_TAPSEC, dir, k, sizeof(*k));
}

static struct tapsec_wg_key get_key(struct __test_metadata *_metadata, int fd,
				    int opt)
{
	struct tapsec_wg_key k;
	socklen_t len = sizeof(k);

	memset(&k, 0xaa, sizeof(k));
	EXPECT_EQ(0, getsockopt(fd, SOL_TAPSEC, opt, &k, &len));
	EXPECT_EQ(sizeof(k), len);
	return k;
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, v);
	put_le32(p + 4, v >> 32);
}

/* The Internet checksum's sum (RFC 1071), not yet folded or inverted. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* The UDP checksum over an IPv4 pseudo-header: 0 when @udp's is right. */
static uint16_t udp4_check(const uint8_t *src, const uint8_t *dst,
			   const uint8_t *udp, size_t ulen)
{
	uint32_t sum = csum_add(0, src, 4);

	sum = csum_add(sum, dst, 4);
	sum += 17 + ulen;
	return csum_fold(csum_add(sum, udp, ulen));
}

/* ------------------------------------------------------------------ */

FIXTURE(wg_pair) {
	int a, b;
	struct tapsec_wg_key ab, ba;	/* a's outbound, b's outbound */
};

FIXTURE_VARIANT(wg_pair) {
	int outer;
	int inner;
};

FIXTURE_VARIANT_ADD(wg_pair, ipv4) { .outer = AF_INET, .inner = AF_INET };
FIXTURE_VARIANT_ADD(wg_pair, ipv6_inner) {
	.outer = AF_INET, .inner = AF_INET6
};
FIXTURE_VARIANT_ADD(wg_pair, ipv6_outer) {
	.outer = AF_INET6, .inner = AF_INET
};
FIXTURE_VARIANT_ADD(wg_pair, ipv6) { .outer = AF_INET6, .inner = AF_INET6 };

FIXTURE_SETUP(wg_pair)
{
	struct tapsec_wg_inner ia = inner_of(variant->inner, true);
	struct tapsec_wg_inner ib = inner_of(variant->inner, false);

	self->a = wg_socket(variant->outer);
	self->b = wg_socket(variant->outer);
	ASSERT_LE(0, self->a);
	ASSERT_LE(0, self->b);
	ASSERT_EQ(0, bind_lo(self->a, variant->outer));
	ASSERT_EQ(0, bind_lo(self->b, variant->outer));
	ASSERT_EQ(0, connect_to(self->a, variant->outer, self->b));
	ASSERT_EQ(0, connect_to(self->b, variant->outer, self->a));
	ASSERT_EQ(0, set_inner(self->a, &ia));
	ASSERT_EQ(0, set_inner(self->b, &ib));
	wg_key(&self->ab, 0x11223344);
	wg_key(&self->ba, 0x55667788);
	ASSERT_EQ(0, set_key(self->a, TAPSEC_TX, &self->ab));
	ASSERT_EQ(0, set_key(self->b, TAPSEC_RX, &self->ab));
	ASSERT_EQ(0, set_key(self->b, TAPSEC_TX, &self->ba));
	ASSERT_EQ(0, set_key(self->a, TAPSEC_RX, &self->ba));
}

FIXTURE_TEARDOWN(wg_pair)
{
	close_fd(&self->a);
	close_fd(&self->b);
}

TEST_F(wg_pair, sizes_both_ways)
{
	static const size_t sizes[] = { 0, 1, 4, 5, 15, 16, 17, 100, 1400,
					9000, TAPSEC_WG_MAX_PAYLOAD };
	static uint8_t out[TAPSEC_WG_MAX_PAYLOAD], in[TAPSEC_WG_MAX_PAYLOAD + 8];
	uint64_t bytes = 0;
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill_random(out, sizes[i]);
		ASSERT_EQ(sizes[i], send(self->a, out, sizes[i], 0));
		ASSERT_EQ(sizes[i], recv_wait(self->b, in, sizeof(in), 0, 5000));
		ASSERT_EQ(0, memcmp(in, out, sizes[i])) TH_LOG("size %zu", sizes[i]);
		ASSERT_EQ(sizes[i], send(self->b, out, sizes[i], 0));
		ASSERT_EQ(sizes[i], recv_wait(self->a, in, sizeof(in), 0, 5000));
		ASSERT_EQ(0, memcmp(in, out, sizes[i]));
		bytes += sizes[i];
	}
	EXPECT_EQ(i, CNT(self->a, tx_records));
	EXPECT_EQ(bytes, CNT(self->a, tx_bytes));
	EXPECT_EQ(i, CNT(self->b, rx_records));
	EXPECT_EQ(bytes, CNT(self->b, rx_bytes));
	EXPECT_EQ(0, CNT(self->b, rx_bad_tag));
	EXPECT_EQ(0, CNT(self->b, rx_bad_record));
	EXPECT_EQ(0, CNT(self->b, rx_misrouted));
	EXPECT_EQ(TAPSEC_PROTO_WIREGUARD,
		  tinfo(_metadata, self->a).protocol);
	EXPECT_EQ(TAPSEC_CIPHER_CHACHA20_POLY1305,
		  tinfo(_metadata, self->a).tx_cipher);
}

TEST_F(wg_pair, too_large)
{
	static uint8_t big[TAPSEC_WG_MAX_PAYLOAD + 1];

	EXPECT_EQ(-1, send(self->a, big, sizeof(big), 0));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(0, CNT(self->a, tx_records));
}

TEST_F(wg_pair, read_back)
{
	struct tapsec_wg_inner in, want = inner_of(variant->inner, true);
	socklen_t len = sizeof(in);
	struct tapsec_wg_key k;
	uint8_t zero[32] = { 0 };
	char buf[4];
	int i;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, send(self->a, "x", 1, 0));
		ASSERT_EQ(1, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
	}
	k = get_key(_metadata, self->a, TAPSEC_TX);
	EXPECT_EQ(self->ab.index, k.index);
	EXPECT_EQ(0, k.flags);
	EXPECT_EQ(3, k.counter);		/* the next to send */
	EXPECT_EQ(0, memcmp(k.key, zero, sizeof(zero)));
	k = get_key(_metadata, self->b, TAPSEC_RX);
	EXPECT_EQ(self->ab.index, k.index);
	EXPECT_EQ(3, k.counter);		/* past the highest accepted */
	EXPECT_EQ(0, get_key(_metadata, self->a, TAPSEC_RX).counter);
	EXPECT_EQ(0, memcmp(k.key, zero, sizeof(zero)));
	/* Root (CAP_NET_ADMIN) reads the key itself. */
	k = get_key(_metadata, self->a, TAPSEC_TX_KEY);
	EXPECT_EQ(0, memcmp(k.key, self->ab.key, sizeof(k.key)));
	k = get_key(_metadata, self->a, TAPSEC_RX_KEY);
	EXPECT_EQ(0, memcmp(k.key, self->ba.key, sizeof(k.key)));

	ASSERT_EQ(0, getsockopt(self->a, SOL_TAPSEC, TAPSEC_WG_INNER, &in,
				&len));
	EXPECT_EQ(sizeof(in), len);
	EXPECT_EQ(0, memcmp(&in, &want, sizeof(in)));
}

/* TAPSEC_TX_KEY/RX_KEY need CAP_NET_ADMIN; TAPSEC_TX/RX do not. */
TEST_F(wg_pair, key_needs_cap_net_admin)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct tapsec_wg_key k;
		uint8_t zero[32] = { 0 };
		socklen_t len = sizeof(k);

		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(10);
		memset(&k, 0, sizeof(k));
		if (getsockopt(self->a, SOL_TAPSEC, TAPSEC_TX, &k, &len) ||
		    k.index != self->ab.index || memcmp(k.key, zero, 32))
			_exit(11);
		if (getsockopt(self->a, SOL_TAPSEC, TAPSEC_RX_KEY, &k,
			       &len) != -1 || errno != EPERM)
			_exit(12);
		_exit(memcmp(k.key, zero, 32) ? 13 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child step %d failed (10: setuid, 11: TAPSEC_TX, "
		       "12: RX_KEY not EPERM, 13: key written)",
		       WEXITSTATUS(status));
}

TEST_F(wg_pair, replaced_key)
{
	struct tapsec_wg_inner in;
	struct tapsec_wg_key next;
	char buf[8];

	ASSERT_EQ(3, send(self->a, "old", 3, 0));
	ASSERT_EQ(3, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
	wg_key(&next, 0x99aabbcc);
	ASSERT_EQ(0, set_key(self->a, TAPSEC_TX, &next));
	/* Sent under the new key before the receiver has it: another index. */
	ASSERT_EQ(3, send(self->a, "mid", 3, 0));
	EXPECT_EQ(-1, recv_wait(self->b, buf, sizeof(buf), 0, 300));
	EXPECT_EQ(1, CNT(self->b, rx_bad_spi));
	ASSERT_EQ(0, set_key(self->b, TAPSEC_RX, &next));
	ASSERT_EQ(3, send(self->a, "new", 3, 0));
	ASSERT_EQ(3, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
	EXPECT_EQ(0, memcmp(buf, "new", 3));
	EXPECT_EQ(2, get_key(_metadata, self->a, TAPSEC_TX).counter);
	/* The inner addresses stay while keys are in. */
	in = inner_of(variant->inner, true);
	EXPECT_EQ(-1, set_inner(self->a, &in));
	EXPECT_EQ(EISCONN, errno);
}

/* make_before_break()'s keys: receiver indexes 0x7000 and up. */
static void wg_key_n(void *key, int n)
{
	wg_key(key, 0x7000 + n);
}

TEST_F(wg_pair, make_before_break)
{
	make_before_break(_metadata, self->a, self->b, wg_key_n,
			  sizeof(struct tapsec_wg_key));
}

TEST_F(wg_pair, last_counter)
{
	char buf[4];

	self->ab.counter = TAPSEC_WG_REJECT_AFTER_MESSAGES - 1;
	ASSERT_EQ(0, set_key(self->a, TAPSEC_TX, &self->ab));
	ASSERT_EQ(1, send(self->a, "x", 1, 0));
	ASSERT_EQ(1, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
	EXPECT_EQ(TAPSEC_WG_REJECT_AFTER_MESSAGES,
		  get_key(_metadata, self->b, TAPSEC_RX).counter);
	EXPECT_EQ(-1, send(self->a, "y", 1, 0));
	EXPECT_EQ(EKEYEXPIRED, errno);
	EXPECT_EQ(1, CNT(self->a, key_exhausted));
	/* No key starts past the last counter; an inbound one at zero. */
	self->ab.counter = TAPSEC_WG_REJECT_AFTER_MESSAGES;
	EXPECT_EQ(-1, set_key(self->a, TAPSEC_TX, &self->ab));
	EXPECT_EQ(EINVAL, errno);
	self->ba.counter = 5;
	EXPECT_EQ(-1, set_key(self->a, TAPSEC_RX, &self->ba));
	EXPECT_EQ(EINVAL, errno);
}

static struct tapsec_key_limits get_limits(struct __test_metadata *_metadata,
					   int fd)
{
	struct tapsec_key_limits lim;
	socklen_t len = sizeof(lim);

	memset(&lim, 0xaa, sizeof(lim));
	EXPECT_EQ(0, getsockopt(fd, SOL_TAPSEC, TAPSEC_KEY_LIMITS, &lim, &len));
	EXPECT_EQ(sizeof(lim), len);
	return lim;
}

/* WireGuard's REKEY_AFTER_* and REJECT_AFTER_* by default. */
TEST_F(wg_pair, key_limits_default)
{
	struct tapsec_key_limits lim = get_limits(_metadata, self->a);

	EXPECT_EQ(1ULL << 60, lim.soft_records);
	EXPECT_EQ(TAPSEC_WG_REJECT_AFTER_MESSAGES, lim.hard_records);
	EXPECT_EQ(120, lim.soft_seconds);
	EXPECT_EQ(180, lim.hard_seconds);
	EXPECT_EQ(0, lim.soft_bytes);
	EXPECT_EQ(0, lim.hard_bytes);
}

/*
 * A soft limit reports the key expiring once; a hard one refuses sends
 * until a new key comes, whose counts start afresh.
 */
TEST_F(wg_pair, key_limits_soft_and_hard)
{
	struct tapsec_key_limits lim = { .soft_records = 2, .hard_records = 3 };
	struct tapsec_wg_key next;
	struct tapsec_nl nl;
	char buf[4];
	int i;

	ASSERT_EQ(0, tapsec_nl_open(&nl));
	ASSERT_EQ(0, join_group(&nl, TAPSEC_MCGRP_EVENTS));
	ASSERT_EQ(0, setsockopt(self->a, SOL_TAPSEC, TAPSEC_KEY_LIMITS, &lim,
				sizeof(lim)));
	lim.soft_records = 4;		/* soft above hard */
	EXPECT_EQ(-1, setsockopt(self->a, SOL_TAPSEC, TAPSEC_KEY_LIMITS, &lim,
				 sizeof(lim)));
	EXPECT_EQ(EINVAL, errno);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, send(self->a, "x", 1, 0));
		ASSERT_EQ(1, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
	}
	EXPECT_EQ(1, count_events(&nl, self->a, TAPSEC_EVENT_KEY_EXPIRING, 500,
				  NULL));
	EXPECT_EQ(-1, send(self->a, "y", 1, 0));
	EXPECT_EQ(EKEYEXPIRED, errno);
	EXPECT_EQ(1, CNT(self->a, key_exhausted));
	EXPECT_EQ(3, CNT(self->a, tx_records));
	/* A new key: three more, and the limits stay. */
	wg_key(&next, 0x77777777);
	ASSERT_EQ(0, set_key(self->a, TAPSEC_TX, &next));
	ASSERT_EQ(0, set_key(self->b, TAPSEC_RX, &next));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(1, send(self->a, "z", 1, 0));
	EXPECT_EQ(-1, send(self->a, "z", 1, 0));
	EXPECT_EQ(EKEYEXPIRED, errno);
	EXPECT_EQ(1, count_events(&nl, self->a, TAPSEC_EVENT_KEY_EXPIRING, 500,
				  NULL));
	EXPECT_EQ(3, get_limits(_metadata, self->a).hard_records);
	tapsec_nl_close(&nl);
}

/* Whole seconds: a key whose hard limit is 1 s is refused 2 s on. */
TEST_F(wg_pair, key_limits_age)
{
	struct tapsec_key_limits lim = { .hard_seconds = 1 };
	struct tapsec_wg_key next, k;
	socklen_t len = sizeof(k);
	char buf[4];

	ASSERT_EQ(0, setsockopt(self->a, SOL_TAPSEC, TAPSEC_KEY_LIMITS, &lim,
				sizeof(lim)));
	usleep(2100 * 1000);
	EXPECT_EQ(-1, send(self->a, "x", 1, 0));
	EXPECT_EQ(EKEYEXPIRED, errno);
	/* The other direction's key is the peer's to age... */
	EXPECT_EQ(1, send(self->b, "y", 1, 0));
	/* ...but a's inbound key is a's: too old, it accepts nothing. */
	EXPECT_TRUE(nothing(self->a));
	EXPECT_EQ(1, CNT(self->a, rx_bad_spi));
	/* A new one comes; the old one, now previous, is wiped on use. */
	wg_key(&next, 0x99aabbcc);
	ASSERT_EQ(0, set_key(self->a, TAPSEC_RX, &next));
	EXPECT_EQ(0, getsockopt(self->a, SOL_TAPSEC, TAPSEC_RX_PREV, &k, &len));
	EXPECT_EQ(1, send(self->b, "z", 1, 0));
	EXPECT_TRUE(nothing(self->a));
	EXPECT_EQ(2, CNT(self->a, rx_bad_spi));
	len = sizeof(k);
	EXPECT_EQ(-1, getsockopt(self->a, SOL_TAPSEC, TAPSEC_RX_PREV, &k, &len));
	EXPECT_EQ(ENOKEY, errno);
	/*
	 * The new key would be too old in its turn a second on, which the
	 * steps above can take on a loaded debug kernel: lift the limit.
	 */
	lim.hard_seconds = 3600;
	ASSERT_EQ(0, setsockopt(self->a, SOL_TAPSEC, TAPSEC_KEY_LIMITS, &lim,
				sizeof(lim)));
	ASSERT_EQ(0, set_key(self->b, TAPSEC_TX, &next));
	EXPECT_EQ(1, send(self->b, "w", 1, 0));
	EXPECT_EQ(1, recv_wait(self->a, buf, sizeof(buf), 0, 5000));
}

TEST_F(wg_pair, shutdown_stops_sends)
{
	char buf[4];

	ASSERT_EQ(0, shutdown(self->a, SHUT_WR));
	EXPECT_EQ(-1, send(self->a, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	ASSERT_EQ(1, send(self->b, "y", 1, 0));
	EXPECT_EQ(1, recv_wait(self->a, buf, sizeof(buf), 0, 5000));
}

/* ------------------------------------------------------------------ */

/*
 * a -> tap (plain UDP) -> b, inner IPv4: the tap sees a's messages,
 * opens them with the key through AF_ALG, forwards them, and forges its
 * own with the key.
 */
FIXTURE(wg_wire) {
	int a, tap, b;
	struct tapsec_wg_key k;
	struct sockaddr_storage to_b;
	socklen_t to_b_len;
	uint64_t forged;		/* the next counter the tap forges */
};

FIXTURE_SETUP(wg_wire)
{
	struct tapsec_wg_inner ia = inner_of(AF_INET, true);
	struct tapsec_wg_inner ib = inner_of(AF_INET, false);

	if (!have_af_alg())
		SKIP(return, "no AF_ALG AEAD (algif_aead) in this kernel");
	self->a = wg_socket(AF_INET);
	self->b = wg_socket(AF_INET);
	self->tap = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, self->a);
	ASSERT_LE(0, self->b);
	ASSERT_LE(0, self->tap);
	ASSERT_EQ(0, bind_lo(self->a, AF_INET));
	ASSERT_EQ(0, bind_lo(self->b, AF_INET));
	ASSERT_EQ(0, bind_lo(self->tap, AF_INET));
	ASSERT_EQ(0, connect_to(self->a, AF_INET, self->tap));
	self->to_b_len = sizeof(self->to_b);
	ASSERT_EQ(0, getsockname(self->b, (struct sockaddr *)&self->to_b,
				 &self->to_b_len));
	ASSERT_EQ(0, set_inner(self->a, &ia));
	ASSERT_EQ(0, set_inner(self->b, &ib));
	wg_key(&self->k, 0x0a0b0c0d);
	ASSERT_EQ(0, set_key(self->a, TAPSEC_TX, &self->k));
	ASSERT_EQ(0, set_key(self->b, TAPSEC_RX, &self->k));
	self->forged = 1000;
}

FIXTURE_TEARDOWN(wg_wire)
{
	close_fd(&self->a);
	close_fd(&self->b);
	close_fd(&self->tap);
}

/* Open message @pkt of @n bytes with @k: its plaintext into @pt, or -1. */
static ssize_t open_msg(const struct tapsec_wg_key *k, const uint8_t *pkt,
			ssize_t n, uint8_t *pt)
{
	uint8_t nonce[12] = { 0 };

	memcpy(nonce + 4, pkt + 8, 8);		/* the counter, LE */
	return alg_aead(TAPSEC_CIPHER_CHACHA20_POLY1305, false, k->key, 32,
			nonce, NULL, 0, pkt + HDR, n - HDR, pt);
}

/* Seal @len bytes of @pt into a message of index @index: its length. */
static ssize_t forge_msg(struct tapsec_wg_key *k, uint32_t index,
			 uint64_t counter, const uint8_t *pt, size_t len,
			 uint8_t *pkt)
{
	uint8_t nonce[12] = { 0 };

	pkt[0] = 4;
	pkt[1] = pkt[2] = pkt[3] = 0;
	put_le32(pkt + 4, index);
	put_le64(pkt + 8, counter);
	put_le64(nonce + 4, counter);
	if (alg_seal(TAPSEC_CIPHER_CHACHA20_POLY1305, k->key, 32, nonce, NULL,
		     0, pt, len, pkt + HDR))
		return -1;
	return HDR + len + TAG;
}

/*
 * An inner IPv4 UDP packet from @src:@sport to @dst:@dport carrying
 * @payload, right in every length and checksum; its length.
 */
static size_t inner4(uint8_t *p, const uint8_t *src, uint16_t sport,
		     const uint8_t *dst, uint16_t dport, const char *payload)
{
	size_t plen = strlen(payload), ulen = UDP + plen;
	uint8_t *udp = p + IP4;
	uint16_t c;

	memset(p, 0, IP4 + UDP);
	p[0] = 0x45;
	p[2] = (IP4 + ulen) >> 8;
	p[3] = IP4 + ulen;
	p[6] = 0x40;			/* DF */
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	c = csum_fold(csum_add(0, p, IP4));
	p[10] = c >> 8;
	p[11] = c;
	udp[0] = sport >> 8;
	udp[1] = sport;
	udp[2] = dport >> 8;
	udp[3] = dport;
	udp[4] = ulen >> 8;
	udp[5] = ulen;
	memcpy(udp + UDP, payload, plen);
	c = udp4_check(src, dst, udp, ulen);
	udp[6] = c >> 8;
	udp[7] = c;
	return IP4 + ulen;
}

/* Refresh an IPv4 header's checksum after a change. */
static void ip4_recheck(uint8_t *p)
{
	uint16_t c;

	p[10] = p[11] = 0;
	c = csum_fold(csum_add(0, p, (p[0] & 15) * 4));
	p[10] = c >> 8;
	p[11] = c;
}

/* Forge @len bytes of plaintext @pt to b; 0 when sent. */
static int forge(struct __test_metadata *_metadata,
		 FIXTURE_DATA(wg_wire) *self, const uint8_t *pt, size_t len)
{
	uint8_t pkt[512];
	ssize_t n = forge_msg(&self->k, self->k.index, self->forged++, pt, len,
			      pkt);

	EXPECT_LT(0, n);
	return n > 0 && fwd(self, pkt, n) == n ? 0 : -1;
}

TEST_F(wg_wire, message_format)
{
	uint8_t pkt[256], pt[256], *udp = pt + IP4;
	ssize_t n;
	int i;

	for (i = 0; i < 2; i++) {
		n = capture(_metadata, self->a, self->tap, "hello", pkt,
			    sizeof(pkt));
		/* 20 + 8 + 5 = 33 bytes padded to 48 */
		ASSERT_EQ(HDR + 48 + TAG, n);
		EXPECT_EQ(4, get_le32(pkt));	/* type 4, reserved zero */
		EXPECT_EQ(self->k.index, get_le32(pkt + 4));
		EXPECT_EQ(i, get_le64(pkt + 8));
		ASSERT_EQ(48, open_msg(&self->k, pkt, n, pt));
		EXPECT_EQ(0x45, pt[0]);
		EXPECT_EQ(33, pt[2] << 8 | pt[3]);
		EXPECT_EQ(0x40, pt[6]);		/* DF, no fragment */
		EXPECT_EQ(0, pt[7]);
		EXPECT_EQ(64, pt[8]);
		EXPECT_EQ(17, pt[9]);
		EXPECT_EQ(0, csum_fold(csum_add(0, pt, IP4)));
		EXPECT_EQ(0, memcmp(pt + 12, a_ip4, 4));
		EXPECT_EQ(0, memcmp(pt + 16, b_ip4, 4));
		EXPECT_EQ(A_PORT, udp[0] << 8 | udp[1]);
		EXPECT_EQ(B_PORT, udp[2] << 8 | udp[3]);
		EXPECT_EQ(13, udp[4] << 8 | udp[5]);
		EXPECT_NE(0, udp[6] << 8 | udp[7]);
		EXPECT_EQ(0, udp4_check(a_ip4, b_ip4, udp, 13));
		EXPECT_EQ(0, memcmp(udp + UDP, "hello", 5));
		for (n = 33; n < 48; n++)	/* zero padding */
			EXPECT_EQ(0, pt[n]);
	}
}

/* What the tap forges with the key, b takes as a's. */
/*
 * TAPSEC_KEEPALIVE: an empty message under the outbound key, with the
 * next counter; not a record.  b consumes it: its inbound counter moves,
 * nothing is delivered.
 */
TEST_F(wg_wire, keepalive_sent)
{
	uint8_t pkt[256], pt[64];
	struct tapsec_wg_key k;
	socklen_t len = sizeof(k);
	ssize_t n;
	int esp, proto = TAPSEC_PROTO_ESP;

	ASSERT_EQ(0, setsockopt(self->a, SOL_TAPSEC, TAPSEC_KEEPALIVE, NULL,
				0));
	n = recv_wait(self->tap, pkt, sizeof(pkt), 0, 5000);
	ASSERT_EQ(HDR + TAG, n);
	EXPECT_EQ(4, get_le32(pkt));
	EXPECT_EQ(self->k.index, get_le32(pkt + 4));
	EXPECT_EQ(0, get_le64(pkt + 8));
	EXPECT_EQ(0, open_msg(&self->k, pkt, n, pt));
	ASSERT_EQ(0, getsockopt(self->a, SOL_TAPSEC, TAPSEC_TX, &k, &len));
	EXPECT_EQ(1, k.counter);
	EXPECT_EQ(0, CNT(self->a, tx_records));
	ASSERT_EQ(n, fwd(self, pkt, n));
	EXPECT_TRUE(nothing(self->b));
	len = sizeof(k);
	ASSERT_EQ(0, getsockopt(self->b, SOL_TAPSEC, TAPSEC_RX, &k, &len));
	EXPECT_EQ(1, k.counter);		/* key confirmation */
	EXPECT_EQ(0, CNT(self->b, rx_records));

	/* No value; not without an outbound key; not on ESP. */
	EXPECT_EQ(-1, setsockopt(self->a, SOL_TAPSEC, TAPSEC_KEEPALIVE, &k, 4));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setsockopt(self->b, SOL_TAPSEC, TAPSEC_KEEPALIVE, NULL,
				 0));
	EXPECT_EQ(ENOKEY, errno);
	esp = socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, esp);
	ASSERT_EQ(0, setsockopt(esp, SOL_TAPSEC, TAPSEC_PROTOCOL, &proto,
				sizeof(proto)));
	EXPECT_EQ(-1, setsockopt(esp, SOL_TAPSEC, TAPSEC_KEEPALIVE, NULL, 0));
	EXPECT_EQ(EOPNOTSUPP, errno);
	close(esp);
}

TEST_F(wg_wire, forged_control_delivered)
{
	uint8_t pt[128];
	char buf[16];
	size_t len = inner4(pt, a_ip4, A_PORT, b_ip4, B_PORT, "forged");

	ASSERT_EQ(0, forge(_metadata, self, pt, len));
	EXPECT_EQ(6, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
	EXPECT_EQ(0, memcmp(buf, "forged", 6));
	/* Padding after the packet's length is ignored, whatever it holds. */
	memset(pt + len, 0x5a, 7);
	ASSERT_EQ(0, forge(_metadata, self, pt, len + 7));
	EXPECT_EQ(6, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
	EXPECT_EQ(2, CNT(self->b, rx_records));
}

TEST_F(wg_wire, keepalive_consumed)
{
	uint8_t pt[128];
	char buf[16];
	size_t len;

	ASSERT_EQ(0, forge(_metadata, self, pt, 0));
	EXPECT_TRUE(nothing(self->b));
	EXPECT_EQ(0, CNT(self->b, rx_records));
	EXPECT_EQ(0, CNT(self->b, rx_bad_record));
	EXPECT_EQ(0, CNT(self->b, rx_bad_tag));
	len = inner4(pt, a_ip4, A_PORT, b_ip4, B_PORT, "after");
	ASSERT_EQ(0, forge(_metadata, self, pt, len));
	EXPECT_EQ(5, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
}

/* Inner packets that are well formed but not for b's socket. */
TEST_F(wg_wire, not_for_this_socket)
{
	static const uint8_t other[16] = { 10, 1, 0, 9 };
	uint8_t pt[128], pt6[128] = { 0x60 };
	char buf[16];
	size_t len;

	len = inner4(pt, other, A_PORT, b_ip4, B_PORT, "src");
	ASSERT_EQ(0, forge(_metadata, self, pt, len));
	len = inner4(pt, a_ip4, A_PORT, other, B_PORT, "dst");
	ASSERT_EQ(0, forge(_metadata, self, pt, len));
	len = inner4(pt, a_ip4, A_PORT + 7, b_ip4, B_PORT, "sport");
	ASSERT_EQ(0, forge(_metadata, self, pt, len));
	len = inner4(pt, a_ip4, A_PORT, b_ip4, B_PORT + 7, "dport");
	ASSERT_EQ(0, forge(_metadata, self, pt, len));
	len = inner4(pt, a_ip4, A_PORT, b_ip4, B_PORT, "tcp");
	pt[9] = 6;
	ip4_recheck(pt);
	ASSERT_EQ(0, forge(_metadata, self, pt, len));
	len = inner4(pt, a_ip4, A_PORT, b_ip4, B_PORT, "frag");
	pt[6] = 0x20;			/* more fragments */
	ip4_recheck(pt);
	ASSERT_EQ(0, forge(_metadata, self, pt, len));
	/* IPv6 to a socket whose inner addresses are IPv4. */
	pt6[4] = 0;
	pt6[5] = 8;
	pt6[6] = 17;
	pt6[7] = 64;
	ASSERT_EQ(0, forge(_metadata, self, pt6, 48));
	EXPECT_TRUE(nothing(self->b));
	EXPECT_EQ(7, CNT(self->b, rx_misrouted));
	EXPECT_EQ(0, CNT(self->b, rx_bad_record));
	EXPECT_EQ(0, CNT(self->b, rx_records));
	len = inner4(pt, a_ip4, A_PORT, b_ip4, B_PORT, "good");
	ASSERT_EQ(0, forge(_metadata, self, pt, len));
	EXPECT_EQ(4, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
}

/* Inner packets that are malformed. */
TEST_F(wg_wire, malformed_inner)
{
	uint8_t pt[128];
	size_t len;

	len = inner4(pt, a_ip4, A_PORT, b_ip4, B_PORT, "csum");
	pt[10] ^= 1;			/* the IP header's checksum */
	ASSERT_EQ(0, forge(_metadata, self, pt, len));
	len = inner4(pt, a_ip4, A_PORT, b_ip4, B_PORT, "long");
	pt[3] += 1;			/* total length past the plaintext */
	ip4_recheck(pt);
	ASSERT_EQ(0, forge(_metadata, self, pt, len));
	len = inner4(pt, a_ip4, A_PORT, b_ip4, B_PORT, "udp");
	pt[IP4 + 5] += 1;		/* UDP length past the IP packet */
	ASSERT_EQ(0, forge(_metadata, self, pt, len));
	len = inner4(pt, a_ip4, A_PORT, b_ip4, B_PORT, "ihl");
	pt[0] = 0x44;			/* a header shorter than 20 */
	ASSERT_EQ(0, forge(_metadata, self, pt, len));
	len = inner4(pt, a_ip4, A_PORT, b_ip4, B_PORT, "ver");
	pt[0] = 0x55;			/* version 5 */
	ASSERT_EQ(0, forge(_metadata, self, pt, len));
	inner4(pt, a_ip4, A_PORT, b_ip4, B_PORT, "cut");
	ASSERT_EQ(0, forge(_metadata, self, pt, 10));	/* cut short */
	EXPECT_TRUE(nothing(self->b));
	EXPECT_EQ(6, CNT(self->b, rx_bad_record));
	EXPECT_EQ(0, CNT(self->b, rx_misrouted));
	EXPECT_EQ(0, CNT(self->b, rx_records));
}

TEST_F(wg_wire, replay_dropped)
{
	uint8_t pkt[256];
	char buf[16];
	ssize_t n;

	n = capture(_metadata, self->a, self->tap, "once", pkt, sizeof(pkt));
	ASSERT_EQ(n, fwd(self, pkt, n));
	ASSERT_EQ(n, fwd(self, pkt, n));
	EXPECT_EQ(4, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
	EXPECT_TRUE(nothing(self->b));
	EXPECT_EQ(1, CNT(self->b, rx_replayed));
	EXPECT_EQ(1, CNT(self->b, rx_records));
}

TEST_F(wg_wire, reordered_and_window)
{
	static const int order[] = { 5, 3, 1, 4, 2 };
	uint8_t pkt[5][128], pt[128];
	ssize_t n[5];
	char buf[8], want[8];
	uint32_t win = 0;
	socklen_t wl = sizeof(win);
	size_t len;
	int i;

	ASSERT_EQ(0, getsockopt(self->b, SOL_TAPSEC, TAPSEC_REPLAY_WINDOW,
				&win, &wl));
	EXPECT_EQ(TAPSEC_WG_REPLAY_WINDOW, win);
	for (i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), "m%d", i + 1);
		n[i] = capture(_metadata, self->a, self->tap, want, pkt[i], 128);
	}
	for (i = 0; i < 5; i++)
		ASSERT_EQ(n[order[i] - 1],
			  fwd(self, pkt[order[i] - 1], n[order[i] - 1]));
	for (i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), "m%d", order[i]);
		ASSERT_EQ(2, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
		EXPECT_EQ(0, memcmp(buf, want, 2));
	}
	EXPECT_EQ(0, CNT(self->b, rx_replayed));
	/* 8192 behind the newest is outside the window; 8191 inside. */
	len = inner4(pt, a_ip4, A_PORT, b_ip4, B_PORT, "far");
	self->forged = 20000;
	ASSERT_EQ(0, forge(_metadata, self, pt, len));
	EXPECT_EQ(3, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
	self->forged = 20000 - 8192;
	ASSERT_EQ(0, forge(_metadata, self, pt, len));
	EXPECT_TRUE(nothing(self->b));
	EXPECT_EQ(1, CNT(self->b, rx_replayed));
	self->forged = 20000 - 8191;
	ASSERT_EQ(0, forge(_metadata, self, pt, len));
	EXPECT_EQ(3, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
	/* No counter at or past the last one is taken. */
	self->forged = TAPSEC_WG_REJECT_AFTER_MESSAGES;
	ASSERT_EQ(0, forge(_metadata, self, pt, len));
	EXPECT_TRUE(nothing(self->b));
	EXPECT_EQ(2, CNT(self->b, rx_replayed));
}

TEST_F(wg_wire, altered_or_cut_dropped)
{
	uint8_t pkt[256];
	char buf[16];
	ssize_t n;
	int off;

	/* The counter and the ciphertext: the tag fails. */
	for (off = 8; off < 64; off += 5) {
		n = capture(_metadata, self->a, self->tap, "payload", pkt,
			    sizeof(pkt));
		pkt[off] ^= 0x01;
		ASSERT_EQ(n, fwd(self, pkt, n));
		EXPECT_TRUE(nothing(self->b)) TH_LOG("byte %d", off);
	}
	EXPECT_EQ(12, CNT(self->b, rx_bad_tag));
	/* Type and reserved bytes: not transport data. */
	for (off = 0; off < 4; off++) {
		n = capture(_metadata, self->a, self->tap, "payload", pkt,
			    sizeof(pkt));
		pkt[off] ^= 0x02;
		ASSERT_EQ(n, fwd(self, pkt, n));
	}
	ASSERT_EQ(31, fwd(self, pkt, 31));		/* shorter than a tag */
	ASSERT_EQ(0, fwd(self, pkt, 0));		/* empty */
	EXPECT_TRUE(nothing(self->b));
	EXPECT_EQ(6, CNT(self->b, rx_bad_record));
	/* Another receiver index. */
	n = capture(_metadata, self->a, self->tap, "index", pkt, sizeof(pkt));
	pkt[5] ^= 0x10;
	ASSERT_EQ(n, fwd(self, pkt, n));
	EXPECT_TRUE(nothing(self->b));
	EXPECT_EQ(1, CNT(self->b, rx_bad_spi));
	EXPECT_EQ(12, CNT(self->b, rx_bad_tag));
	EXPECT_EQ(0, CNT(self->b, rx_records));
	/* None moved the window: a genuine message still goes through. */
	n = capture(_metadata, self->a, self->tap, "good", pkt, sizeof(pkt));
	ASSERT_EQ(n, fwd(self, pkt, n));
	EXPECT_EQ(4, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
}

/* ------------------------------------------------------------------ */

TEST(errors)
{
	struct tapsec_wg_inner in = inner_of(AF_INET, true), bad;
	int fd = wg_socket(AF_INET), peer = wg_socket(AF_INET);
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct tapsec_key_limits lim = { 0 };
	int esp = TAPSEC_PROTO_ESP, unbound;
	struct tapsec_wg_key k;
	uint32_t win;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, peer);
	ASSERT_EQ(0, bind_lo(fd, AF_INET));
	ASSERT_EQ(0, bind_lo(peer, AF_INET));
	wg_key(&k, 1);
	/* Keys carry inner packets: their addresses come first. */
	EXPECT_EQ(-1, set_key(fd, TAPSEC_TX, &k));
	EXPECT_EQ(EDESTADDRREQ, errno);
	/* An unbound socket whose engine has state keeps the engine. */
	unbound = wg_socket(AF_INET);
	ASSERT_LE(0, unbound);
	ASSERT_EQ(0, set_inner(unbound, &in));
	EXPECT_EQ(-1, setsockopt(unbound, SOL_TAPSEC, TAPSEC_PROTOCOL, &esp,
				 4));
	EXPECT_EQ(EBUSY, errno);
	close(unbound);

	bad = in;
	bad.family = AF_UNIX;
	EXPECT_EQ(-1, set_inner(fd, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad = in;
	bad.local_addr[4] = 1;		/* past IPv4's 4 bytes */
	EXPECT_EQ(-1, set_inner(fd, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad = in;
	memset(bad.peer_addr, 0, 16);
	EXPECT_EQ(-1, set_inner(fd, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad = in;
	bad.local_port = 0;
	EXPECT_EQ(-1, set_inner(fd, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad = in;
	bad.flags = 1;
	EXPECT_EQ(-1, set_inner(fd, &bad));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_WG_INNER, &in, 8));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, set_inner(fd, &in));

	k.flags = 1;
	EXPECT_EQ(-1, set_key(fd, TAPSEC_TX, &k));
	EXPECT_EQ(EINVAL, errno);
	k.flags = 0;
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_TX, &k, sizeof(k) - 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_TX, NULL, sizeof(k)));
	EXPECT_EQ(EFAULT, errno);
	/* No limits without an outbound key. */
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_KEY_LIMITS, &lim,
				 sizeof(lim)));
	EXPECT_EQ(ENOKEY, errno);
	/* A DTLS option means nothing here; the key options are read only. */
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_EPOCH_GRACE, &win, 4));
	EXPECT_EQ(ENOPROTOOPT, errno);
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_TX_KEY, &k, sizeof(k)));
	EXPECT_EQ(EPERM, errno);
	win = TAPSEC_REPLAY_WINDOW_MAX + 1;
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_REPLAY_WINDOW, &win, 4));
	EXPECT_EQ(EINVAL, errno);
	win = TAPSEC_REPLAY_WINDOW_MAX;
	EXPECT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_REPLAY_WINDOW, &win, 4));

	/* Without a key, without a peer, with an address. */
	EXPECT_EQ(-1, send(fd, "x", 1, 0));
	EXPECT_EQ(ENOKEY, errno);
	ASSERT_EQ(0, set_key(fd, TAPSEC_TX, &k));
	EXPECT_EQ(-1, send(fd, "x", 1, 0));
	EXPECT_EQ(EDESTADDRREQ, errno);
	ASSERT_EQ(0, connect_to(fd, AF_INET, peer));
	EXPECT_EQ(-1, sendto(fd, "x", 1, 0, (struct sockaddr *)&to,
			     sizeof(to)));
	EXPECT_EQ(EISCONN, errno);
	EXPECT_EQ(1, send(fd, "x", 1, 0));
	/* Connected and keyed: no listener. */
	EXPECT_EQ(-1, listen(fd, 1));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
	close(peer);
}

/* A datagram of @len bytes, type @type, from @fd to @to's port. */
static void send_typed(struct __test_metadata *_metadata, int fd, int to,
		       uint8_t type, size_t len)
{
	uint8_t msg[256] = { type };

	ASSERT_GE(sizeof(msg), len);
	ASSERT_EQ(0, connect_to(fd, AF_INET, to));
	ASSERT_EQ(len, send(fd, msg, len, 0));
}

/*
 * listen() and accept() without a daemon: a datagram that is not an
 * initiation (type 1, 148 bytes) is dropped and counted; an initiation
 * becomes a socket connected to its sender, bound to the listener's
 * address, with its inner addresses; a second initiation the sender
 * had queued before is not a second socket.
 */
TEST(listener)
{
	struct tapsec_wg_inner in = inner_of(AF_INET, true), got;
	int lfd = wg_socket(AF_INET), c1, c2, child, flags, esp;
	int proto = TAPSEC_PROTO_ESP;
	struct sockaddr_storage a, b;
	socklen_t alen = sizeof(a), blen = sizeof(b), len = sizeof(got);
	struct tapsec_wg_key k;

	ASSERT_LE(0, lfd);
	/* The inner addresses first (children take them), then bound. */
	EXPECT_EQ(-1, listen(lfd, 1));
	EXPECT_EQ(EDESTADDRREQ, errno);
	ASSERT_EQ(0, set_inner(lfd, &in));
	EXPECT_EQ(-1, listen(lfd, 1));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, bind_lo(lfd, AF_INET));
	ASSERT_EQ(0, listen(lfd, 1));
	ASSERT_EQ(0, listen(lfd, 1));		/* again: nothing changes */
	wg_key(&k, 1);
	EXPECT_EQ(-1, set_key(lfd, TAPSEC_RX, &k));	/* its children's */
	EXPECT_EQ(EINVAL, errno);
	flags = fcntl(lfd, F_GETFL);
	ASSERT_EQ(0, fcntl(lfd, F_SETFL, flags | O_NONBLOCK));
	EXPECT_EQ(-1, accept(lfd, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);

	c1 = socket(AF_INET, SOCK_DGRAM, 0);
	c2 = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, c1);
	ASSERT_LE(0, c2);
	ASSERT_EQ(0, bind_lo(c1, AF_INET));
	ASSERT_EQ(0, bind_lo(c2, AF_INET));
	send_typed(_metadata, c1, lfd, 2, 92);		/* a response */
	send_typed(_metadata, c1, lfd, 1, 147);		/* one byte short */
	send_typed(_metadata, c1, lfd, 4, 32);		/* data */
	/* Two initiations from c2, queued before any accept(). */
	send_typed(_metadata, c2, lfd, 1, 148);
	send_typed(_metadata, c2, lfd, 1, 148);
	ASSERT_EQ(0, fcntl(lfd, F_SETFL, flags));
	child = accept(lfd, NULL, NULL);
	ASSERT_LE(0, child);
	EXPECT_EQ(3, CNT(lfd, rx_bad_record));
	EXPECT_EQ(TAPSEC_ORIGIN_ACCEPT, tinfo(_metadata, child).origin);
	ASSERT_EQ(0, getpeername(child, (struct sockaddr *)&a, &alen));
	ASSERT_EQ(0, getsockname(c2, (struct sockaddr *)&b, &blen));
	EXPECT_EQ(blen, alen);
	EXPECT_EQ(0, memcmp(&a, &b, alen));
	EXPECT_EQ(port_of(lfd), port_of(child));
	ASSERT_EQ(0, getsockopt(child, SOL_TAPSEC, TAPSEC_WG_INNER, &got,
				&len));
	EXPECT_EQ(0, memcmp(&got, &in, sizeof(in)));
	/* The child takes keys; the listener goes on listening. */
	EXPECT_EQ(0, set_key(child, TAPSEC_RX, &k));
	ASSERT_EQ(0, fcntl(lfd, F_SETFL, flags | O_NONBLOCK));
	EXPECT_EQ(-1, accept(lfd, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, CNT(lfd, rx_replayed));
	/* Now c2's datagrams reach the child, not the listener. */
	send_typed(_metadata, c2, lfd, 1, 148);
	EXPECT_EQ(-1, accept(lfd, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, CNT(lfd, rx_replayed));
	EXPECT_EQ(4, CNT(lfd, rx_bad_record) + CNT(lfd, rx_replayed));
	EXPECT_EQ(0, CNT(lfd, rx_records));

	/* ESP has no listeners. */
	esp = socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, esp);
	ASSERT_EQ(0, setsockopt(esp, SOL_TAPSEC, TAPSEC_PROTOCOL, &proto,
				sizeof(proto)));
	ASSERT_EQ(0, bind_lo(esp, AF_INET));
	EXPECT_EQ(-1, listen(esp, 1));
	EXPECT_EQ(EOPNOTSUPP, errno);
	close(esp);
	close(child);
	close(c1);
	close(c2);
	close(lfd);
}

TAPSEC_HARNESS_MAIN
