// SPDX-License-Identifier: GPL-2.0
/*
 * The ESP engine (TAPSEC_PROTO_ESP) between two tapsec sockets on
 * loopback; esp_xfrm_test.sh checks it against the kernel's xfrm.
 *
 *  - esp_pair (each cipher, IPv4 and IPv6): payloads of 0 to
 *    TAPSEC_ESP_MAX_PAYLOAD bytes both ways, MSG_PEEK and MSG_TRUNC, the
 *    SA read back without its key, sequence numbers, a replaced SA,
 *    inbound SAs made before broken (TAPSEC_RX_PREV), shutdown, poll,
 *    the last sequence number and EKEYEXPIRED after it, extended
 *    sequence numbers across 2^32 and a sender and receiver that
 *    disagree on them;
 *  - esp_wire: a plain UDP socket between the two (a -> tap -> b) sees
 *    the packets and forwards them, copied, altered or cut: the packet
 *    format, replays, reordering, the window, a changed byte, another
 *    SPI, truncated, IKE's marker, a NAT-T keepalive, a misaligned
 *    packet, inner ports the SA does not name; each dropped and counted;
 *    with ESN the low half on the wire, and a replay across 2^32;
 *    a flood of bad packets ends a non-blocking read with EAGAIN;
 *  - protocol: TAPSEC_PROTOCOL moves a datagram socket between the DTLS
 *    and ESP engines only before either has state, and a thread setting
 *    options while another switches never makes one engine use the
 *    other's state;
 *  - esn_fields: the struct's old size, seq_hi and the ESN flag;
 *  - errors: SA fields checked, no key, no peer, an address, control
 *    messages, listen().
 *
 * Runs inside a VM with tapsec.ko loaded, as root.
 */
#include <grp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/wait.h>

#include "tapsec_harness.h"
#include "tapsec_test.h"
#include "tapsec_test_util.h"
#include "tapsec_dgram_test.h"

#define GCM128	TAPSEC_CIPHER_AES_GCM_128
#define GCM256	TAPSEC_CIPHER_AES_GCM_256
#define CHACHA	TAPSEC_CIPHER_CHACHA20_POLY1305
#define ESP_OVERHEAD	(8 + 8 + 16)	/* header, IV, ICV */
#define A_PORT	5001		/* inner ports: a's and b's */
#define B_PORT	5002

static int esp_socket(int family)
{
	int fd = socket(family, SOCK_DGRAM, IPPROTO_TAPSEC), proto = 3;

	if (fd >= 0 && setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &proto,
				  sizeof(proto))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void esp_sa(struct tapsec_esp_sa *sa, uint32_t spi, uint16_t cipher,
		   uint16_t sport, uint16_t dport)
{
	memset(sa, 0, sizeof(*sa));
	sa->spi = spi;
	sa->cipher = cipher;
	sa->inner_sport = sport;
	sa->inner_dport = dport;
	fill_random(sa->key, cipher == GCM128 ? 16 : 32);
	fill_random(sa->salt, sizeof(sa->salt));
}

static int set_sa(int fd, int dir, const struct tapsec_esp_sa *sa)
{
	return setsockopt(fd, SOL_TAPSEC, dir, sa, sizeof(*sa));
}

static struct tapsec_esp_sa get_sa(struct __test_metadata *_metadata, int fd,
				   int opt)
{
	struct tapsec_esp_sa sa;
	socklen_t len = sizeof(sa);

	memset(&sa, 0xaa, sizeof(sa));
	EXPECT_EQ(0, getsockopt(fd, SOL_TAPSEC, opt, &sa, &len));
	EXPECT_EQ(sizeof(sa), len);
	return sa;
}

/* ------------------------------------------------------------------ */

FIXTURE(esp_pair) {
	int a, b;
	struct tapsec_esp_sa ab, ba;	/* a's outbound, b's outbound */
};

FIXTURE_VARIANT(esp_pair) {
	uint16_t cipher;
	int family;
};

FIXTURE_VARIANT_ADD(esp_pair, gcm128) { .cipher = GCM128, .family = AF_INET };
FIXTURE_VARIANT_ADD(esp_pair, gcm256) { .cipher = GCM256, .family = AF_INET };
FIXTURE_VARIANT_ADD(esp_pair, chacha20) { .cipher = CHACHA, .family = AF_INET };
FIXTURE_VARIANT_ADD(esp_pair, gcm128_ipv6) {
	.cipher = GCM128, .family = AF_INET6
};

FIXTURE_SETUP(esp_pair)
{
	self->a = esp_socket(variant->family);
	self->b = esp_socket(variant->family);
	ASSERT_LE(0, self->a);
	ASSERT_LE(0, self->b);
	ASSERT_EQ(0, bind_lo(self->a, variant->family));
	ASSERT_EQ(0, bind_lo(self->b, variant->family));
	ASSERT_EQ(0, connect_to(self->a, variant->family, self->b));
	ASSERT_EQ(0, connect_to(self->b, variant->family, self->a));
	esp_sa(&self->ab, 0x1001, variant->cipher, A_PORT, B_PORT);
	esp_sa(&self->ba, 0x2002, variant->cipher, B_PORT, A_PORT);
	ASSERT_EQ(0, set_sa(self->a, TAPSEC_TX, &self->ab));
	ASSERT_EQ(0, set_sa(self->b, TAPSEC_RX, &self->ab));
	ASSERT_EQ(0, set_sa(self->b, TAPSEC_TX, &self->ba));
	ASSERT_EQ(0, set_sa(self->a, TAPSEC_RX, &self->ba));
}

FIXTURE_TEARDOWN(esp_pair)
{
	close_fd(&self->a);
	close_fd(&self->b);
}

TEST_F(esp_pair, sizes_both_ways)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 4, 5, 100, 1400, 9000,
					TAPSEC_ESP_MAX_PAYLOAD };
	static uint8_t out[TAPSEC_ESP_MAX_PAYLOAD], in[TAPSEC_ESP_MAX_PAYLOAD + 8];
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
}

TEST_F(esp_pair, too_large)
{
	static uint8_t big[TAPSEC_ESP_MAX_PAYLOAD + 1];

	EXPECT_EQ(-1, send(self->a, big, sizeof(big), 0));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(0, CNT(self->a, tx_records));
}

TEST_F(esp_pair, peek_and_trunc)
{
	char buf[16];

	ASSERT_EQ(10, send(self->a, "0123456789", 10, 0));
	ASSERT_EQ(4, recv_wait(self->b, buf, 4, MSG_PEEK, 5000));
	EXPECT_EQ(0, memcmp(buf, "0123", 4));
	/* MSG_TRUNC: the datagram's length, what fits copied, the rest gone. */
	EXPECT_EQ(10, recv(self->b, buf, 3, MSG_TRUNC));
	EXPECT_EQ(0, memcmp(buf, "012", 3));
	EXPECT_EQ(-1, recv(self->b, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(esp_pair, source_address)
{
	struct sockaddr_storage from;
	socklen_t len = sizeof(from);
	char buf[4];

	ASSERT_EQ(1, send(self->a, "x", 1, 0));
	ASSERT_EQ(POLLIN, wait_fd(self->b, POLLIN, 5000) & POLLIN);
	ASSERT_EQ(1, recvfrom(self->b, buf, sizeof(buf), 0,
			      (struct sockaddr *)&from, &len));
	EXPECT_EQ(variant->family, from.ss_family);
	EXPECT_EQ(port_of(self->a), ntohs(from.ss_family == AF_INET6 ?
			((struct sockaddr_in6 *)&from)->sin6_port :
			((struct sockaddr_in *)&from)->sin_port));
}

TEST_F(esp_pair, sa_read_back_without_key)
{
	struct tapsec_esp_sa sa;
	uint8_t zero[32] = { 0 };
	char buf[4];
	int i;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, send(self->a, "x", 1, 0));
		ASSERT_EQ(1, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
	}
	sa = get_sa(_metadata, self->a, TAPSEC_TX);
	EXPECT_EQ(self->ab.spi, sa.spi);
	EXPECT_EQ(variant->cipher, sa.cipher);
	EXPECT_EQ(A_PORT, sa.inner_sport);
	EXPECT_EQ(B_PORT, sa.inner_dport);
	EXPECT_EQ(3, sa.seq);		/* the last sent */
	EXPECT_EQ(0, memcmp(sa.key, zero, sizeof(zero)));
	EXPECT_EQ(0, memcmp(sa.salt, self->ab.salt, sizeof(sa.salt)));
	sa = get_sa(_metadata, self->b, TAPSEC_RX);
	EXPECT_EQ(self->ab.spi, sa.spi);
	EXPECT_EQ(3, sa.seq);		/* the highest accepted */
	EXPECT_EQ(0, memcmp(sa.key, zero, sizeof(zero)));
	/* Root (CAP_NET_ADMIN) reads the key itself. */
	sa = get_sa(_metadata, self->a, TAPSEC_TX_KEY);
	EXPECT_EQ(0, memcmp(sa.key, self->ab.key, sizeof(sa.key)));
}

/* TAPSEC_TX_KEY/RX_KEY need CAP_NET_ADMIN; TAPSEC_TX/RX do not. */
TEST_F(esp_pair, key_needs_cap_net_admin)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct tapsec_esp_sa sa;
		uint8_t zero[32] = { 0 };
		socklen_t len = sizeof(sa);

		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(10);
		memset(&sa, 0, sizeof(sa));
		if (getsockopt(self->a, SOL_TAPSEC, TAPSEC_TX, &sa, &len) ||
		    sa.spi != self->ab.spi || memcmp(sa.key, zero, 32))
			_exit(11);
		if (getsockopt(self->a, SOL_TAPSEC, TAPSEC_TX_KEY, &sa,
			       &len) != -1 || errno != EPERM)
			_exit(12);
		if (getsockopt(self->a, SOL_TAPSEC, TAPSEC_RX_KEY, &sa,
			       &len) != -1 || errno != EPERM)
			_exit(13);
		_exit(memcmp(sa.key, zero, 32) ? 14 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child step %d failed (10: setuid, 11: TAPSEC_TX, "
		       "12/13: *_KEY not EPERM, 14: key written)",
		       WEXITSTATUS(status));
}

TEST_F(esp_pair, replaced_sa)
{
	struct tapsec_esp_sa next;
	char buf[8];

	ASSERT_EQ(3, send(self->a, "old", 3, 0));
	ASSERT_EQ(3, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
	esp_sa(&next, 0x1003, variant->cipher, A_PORT, B_PORT);
	ASSERT_EQ(0, set_sa(self->a, TAPSEC_TX, &next));
	/* Sent under the new SA before the receiver has it: another SPI. */
	ASSERT_EQ(3, send(self->a, "mid", 3, 0));
	EXPECT_EQ(-1, recv_wait(self->b, buf, sizeof(buf), 0, 300));
	EXPECT_EQ(1, CNT(self->b, rx_bad_spi));
	ASSERT_EQ(0, set_sa(self->b, TAPSEC_RX, &next));
	ASSERT_EQ(3, send(self->a, "new", 3, 0));
	ASSERT_EQ(3, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
	EXPECT_EQ(0, memcmp(buf, "new", 3));
	EXPECT_EQ(2, get_sa(_metadata, self->a, TAPSEC_TX).seq);
}

/* make_before_break()'s SAs: SPIs 0x3000 and up. */
static void esp_sa_n(void *sa, int n)
{
	esp_sa(sa, 0x3000 + n, GCM128, A_PORT, B_PORT);
}

TEST_F(esp_pair, make_before_break)
{
	make_before_break(_metadata, self->a, self->b, esp_sa_n,
			  sizeof(struct tapsec_esp_sa));
}

TEST_F(esp_pair, last_sequence_number)
{
	char buf[4];

	self->ab.seq = 0xfffffffe;
	ASSERT_EQ(0, set_sa(self->a, TAPSEC_TX, &self->ab));
	ASSERT_EQ(1, send(self->a, "x", 1, 0));
	ASSERT_EQ(1, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
	EXPECT_EQ(0xffffffff, get_sa(_metadata, self->b, TAPSEC_RX).seq);
	EXPECT_EQ(-1, send(self->a, "y", 1, 0));
	EXPECT_EQ(EKEYEXPIRED, errno);
	EXPECT_EQ(1, CNT(self->a, key_exhausted));
	/* An inbound SA starts at the beginning. */
	self->ba.seq = 5;
	EXPECT_EQ(-1, set_sa(self->a, TAPSEC_RX, &self->ba));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * An SA warns (TAPSEC_EVENT_KEY_EXPIRING) 2^16 packets before its 32-bit
 * sequence numbers run out; a hard limit set refuses sends past it.
 */
TEST_F(esp_pair, key_limits)
{
	struct tapsec_key_limits lim;
	socklen_t len = sizeof(lim);
	char buf[4];

	ASSERT_EQ(0, getsockopt(self->a, SOL_TAPSEC, TAPSEC_KEY_LIMITS, &lim,
				&len));
	EXPECT_EQ(0xffffffffULL - 65536, lim.soft_records);
	EXPECT_EQ(0, lim.hard_records);
	EXPECT_EQ(0, lim.hard_seconds);
	lim.soft_records = 0;
	lim.hard_bytes = 5;
	ASSERT_EQ(0, setsockopt(self->a, SOL_TAPSEC, TAPSEC_KEY_LIMITS, &lim,
				sizeof(lim)));
	ASSERT_EQ(5, send(self->a, "12345", 5, 0));
	ASSERT_EQ(5, recv_wait(self->b, buf, sizeof(buf), MSG_TRUNC, 5000));
	EXPECT_EQ(-1, send(self->a, "6", 1, 0));
	EXPECT_EQ(EKEYEXPIRED, errno);
	EXPECT_EQ(1, CNT(self->a, key_exhausted));
}

TEST_F(esp_pair, shutdown_stops_sends)
{
	char buf[4];

	ASSERT_EQ(0, shutdown(self->a, SHUT_WR));
	EXPECT_EQ(-1, send(self->a, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	ASSERT_EQ(1, send(self->b, "y", 1, 0));
	EXPECT_EQ(1, recv_wait(self->a, buf, sizeof(buf), 0, 5000));
}

TEST_F(esp_pair, poll_after_peek)
{
	char buf[4];

	EXPECT_EQ(0, wait_fd(self->b, POLLIN, 50) & POLLIN);
	ASSERT_EQ(1, send(self->a, "x", 1, 0));
	ASSERT_EQ(1, recv_wait(self->b, buf, sizeof(buf), MSG_PEEK, 5000));
	/* The opened packet waits in the engine, not in UDP's queue. */
	EXPECT_EQ(POLLIN, wait_fd(self->b, POLLIN, 0) & POLLIN);
	EXPECT_EQ(1, recv(self->b, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(0, wait_fd(self->b, POLLIN, 0) & POLLIN);
}

/* ------------------------------------------------------------------ */

/*
 * a -> tap (plain UDP) -> b: the tap sees a's packets and forwards them.
 * The tap stays unconnected (it takes a's datagrams) and sends to b
 * with an address.
 */
FIXTURE(esp_wire) {
	int a, tap, b;
	struct tapsec_esp_sa sa;
	struct sockaddr_storage to_b;
	socklen_t to_b_len;
};

FIXTURE_SETUP(esp_wire)
{
	self->a = esp_socket(AF_INET);
	self->b = esp_socket(AF_INET);
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
	esp_sa(&self->sa, 0x3003, GCM128, A_PORT, B_PORT);
	ASSERT_EQ(0, set_sa(self->a, TAPSEC_TX, &self->sa));
	ASSERT_EQ(0, set_sa(self->b, TAPSEC_RX, &self->sa));
}

FIXTURE_TEARDOWN(esp_wire)
{
	close_fd(&self->a);
	close_fd(&self->b);
	close_fd(&self->tap);
}

TEST_F(esp_wire, packet_format)
{
	uint8_t pkt[256];
	ssize_t n;
	int i;

	for (i = 1; i <= 2; i++) {
		/* 8 inner + 5 payload + 2 trailer = 15: one byte of padding */
		n = capture(_metadata, self->a, self->tap, "hello", pkt,
			    sizeof(pkt));
		ASSERT_EQ(ESP_OVERHEAD + 16, n);
		EXPECT_EQ(0x3003, get_be64(pkt) >> 32);
		EXPECT_EQ(i, get_be64(pkt) & 0xffffffff);
		EXPECT_EQ(i, get_be64(pkt + 8));	/* the IV */
	}
}

/*
 * With ESN the packet carries the low half of the number and the IV all
 * 64 bits; across 2^32 a replayed packet of the older half is still
 * recognised (its high half inferred from the window) and dropped.
 */
TEST_F(esp_wire, esn_low_half_and_replay_across_wrap)
{
	uint8_t pkt[4][256];
	ssize_t n[4];
	char buf[16];
	int i;

	self->sa.flags = TAPSEC_ESP_F_ESN;
	ASSERT_EQ(0, set_sa(self->b, TAPSEC_RX, &self->sa));
	self->sa.seq = 0xfffffffe;
	ASSERT_EQ(0, set_sa(self->a, TAPSEC_TX, &self->sa));
	for (i = 0; i < 4; i++) {
		n[i] = capture(_metadata, self->a, self->tap, "wrap", pkt[i],
			       sizeof(pkt[i]));
		ASSERT_EQ(ESP_OVERHEAD + 16, n[i]);
		EXPECT_EQ((0xffffffffULL + i) & 0xffffffff,
			  get_be64(pkt[i]) & 0xffffffff);
		EXPECT_EQ(0xffffffffULL + i, get_be64(pkt[i] + 8));
		ASSERT_EQ(n[i], fwd(self, pkt[i], n[i]));
		ASSERT_EQ(4, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
	}
	/* 2^32 - 1 again, and 2^32 + 1 (low half 1) again. */
	ASSERT_EQ(n[0], fwd(self, pkt[0], n[0]));
	ASSERT_EQ(n[2], fwd(self, pkt[2], n[2]));
	EXPECT_TRUE(nothing(self->b));
	EXPECT_EQ(2, CNT(self->b, rx_replayed));
	EXPECT_EQ(0, CNT(self->b, rx_bad_tag));
	EXPECT_EQ(4, CNT(self->b, rx_records));
}

TEST_F(esp_wire, replay_dropped)
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

TEST_F(esp_wire, reordered_within_window)
{
	static const int order[] = { 5, 3, 1, 4, 2 };
	uint8_t pkt[5][64];
	ssize_t n[5];
	char buf[8], want[8];
	int i;

	for (i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), "m%d", i + 1);
		n[i] = capture(_metadata, self->a, self->tap, want, pkt[i], 64);
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
}

TEST_F(esp_wire, older_than_window_dropped)
{
	uint32_t win = 32;
	uint8_t first[64], pkt[64];
	ssize_t n0, n;
	char buf[8];
	int i;

	ASSERT_EQ(0, setsockopt(self->b, SOL_TAPSEC, TAPSEC_REPLAY_WINDOW,
				&win, sizeof(win)));
	n0 = capture(_metadata, self->a, self->tap, "first", first, 64);
	for (i = 2; i <= 40; i++)
		n = capture(_metadata, self->a, self->tap, "later", pkt, 64);
	ASSERT_EQ(n, fwd(self, pkt, n));	/* 40 */
	ASSERT_EQ(5, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
	ASSERT_EQ(n0, fwd(self, first, n0));	/* 1: 39 behind */
	EXPECT_TRUE(nothing(self->b));
	EXPECT_EQ(1, CNT(self->b, rx_replayed));
}

TEST_F(esp_wire, altered_byte_dropped)
{
	uint8_t pkt[256];
	char buf[16];
	ssize_t n;
	int off;

	/* The SPI's and length's checks come first; then any other byte. */
	for (off = 4; off < 24; off += 3) {
		n = capture(_metadata, self->a, self->tap, "payload", pkt,
			    sizeof(pkt));
		pkt[off] ^= 0x01;
		ASSERT_EQ(n, fwd(self, pkt, n));
		EXPECT_TRUE(nothing(self->b)) TH_LOG("byte %d", off);
	}
	n = capture(_metadata, self->a, self->tap, "payload", pkt, sizeof(pkt));
	pkt[n - 1] ^= 0x80;			/* the ICV */
	ASSERT_EQ(n, fwd(self, pkt, n));
	EXPECT_TRUE(nothing(self->b));
	/* Offset 4 changes the sequence number: a new one, a bad ICV. */
	EXPECT_EQ(8, CNT(self->b, rx_bad_tag));
	EXPECT_EQ(0, CNT(self->b, rx_records));
	/* The window did not move: the genuine packets still go through. */
	n = capture(_metadata, self->a, self->tap, "good", pkt, sizeof(pkt));
	ASSERT_EQ(n, fwd(self, pkt, n));
	EXPECT_EQ(4, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
}

TEST_F(esp_wire, other_spi_dropped)
{
	uint8_t pkt[256];
	ssize_t n;

	n = capture(_metadata, self->a, self->tap, "spi", pkt, sizeof(pkt));
	pkt[3] ^= 0x10;
	ASSERT_EQ(n, fwd(self, pkt, n));
	EXPECT_TRUE(nothing(self->b));
	EXPECT_EQ(1, CNT(self->b, rx_bad_spi));
	EXPECT_EQ(0, CNT(self->b, rx_bad_tag));
}

TEST_F(esp_wire, not_esp_dropped)
{
	uint8_t pkt[256], ike[64] = { 0 };
	uint8_t keepalive = 0xff;
	char buf[16];
	ssize_t n;

	n = capture(_metadata, self->a, self->tap, "short", pkt, sizeof(pkt));
	ASSERT_EQ(n - 20, fwd(self, pkt, n - 20));	/* truncated */
	ASSERT_EQ(n - 1, fwd(self, pkt, n - 1));	/* misaligned */
	ASSERT_EQ(sizeof(ike), fwd(self, ike, sizeof(ike)));
	ASSERT_EQ(1, fwd(self, &keepalive, 1));
	ASSERT_EQ(0, fwd(self, pkt, 0));		/* empty */
	EXPECT_TRUE(nothing(self->b));
	EXPECT_EQ(5, CNT(self->b, rx_bad_record));
	EXPECT_EQ(0, CNT(self->b, rx_bad_tag));
	/* None moved the window: the packet itself still goes through. */
	ASSERT_EQ(n, fwd(self, pkt, n));
	EXPECT_EQ(5, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
}

/*
 * A flood of bad packets cannot keep a read that may not wait: it drops
 * TAPSEC_DGRAM_DROP_BUDGET (64) of them and says EAGAIN; the next read goes
 * on through the rest to the good packet behind them.
 */
TEST_F(esp_wire, flood_ends_a_nonblocking_read)
{
	uint8_t pkt[256], bad[256];
	char buf[16];
	ssize_t n;
	int i;

	n = capture(_metadata, self->a, self->tap, "good", pkt, sizeof(pkt));
	memcpy(bad, pkt, n);
	bad[3] ^= 0x10;				/* another SPI */
	for (i = 0; i < 100; i++)
		ASSERT_EQ(n, fwd(self, bad, n));
	ASSERT_EQ(n, fwd(self, pkt, n));
	ASSERT_EQ(POLLIN, wait_fd(self->b, POLLIN, 5000) & POLLIN);
	EXPECT_EQ(-1, recv(self->b, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(64, CNT(self->b, rx_bad_spi));
	EXPECT_EQ(4, recv(self->b, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(100, CNT(self->b, rx_bad_spi));
}

TEST_F(esp_wire, other_inner_ports_dropped)
{
	struct tapsec_esp_sa rx = self->sa;
	uint8_t pkt[256];
	ssize_t n;

	/* Same key, but b expects another inner destination port. */
	rx.inner_dport = B_PORT + 1;
	ASSERT_EQ(0, set_sa(self->b, TAPSEC_RX, &rx));
	n = capture(_metadata, self->a, self->tap, "ports", pkt, sizeof(pkt));
	ASSERT_EQ(n, fwd(self, pkt, n));
	EXPECT_TRUE(nothing(self->b));
	EXPECT_EQ(1, CNT(self->b, rx_bad_record));
	EXPECT_EQ(0, CNT(self->b, rx_bad_tag));
}

/* ------------------------------------------------------------------ */

TEST(protocol_switch)
{
	int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC);
	int esp = TAPSEC_PROTO_ESP, dtls = TAPSEC_PROTO_DTLS, val;
	int wg = TAPSEC_PROTO_WIREGUARD;
	socklen_t len = sizeof(val);
	uint32_t win = 128;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &esp, 4));
	ASSERT_EQ(0, getsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &val, &len));
	EXPECT_EQ(TAPSEC_PROTO_ESP, val);
	/* No state yet: back to DTLS, and to ESP again. */
	EXPECT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &dtls, 4));
	EXPECT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &esp, 4));
	/* A DTLS option means nothing to ESP. */
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_EPOCH_GRACE, &win, 4));
	EXPECT_EQ(ENOPROTOOPT, errno);
	/* ESP's state made: the engine stays. */
	ASSERT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_REPLAY_WINDOW, &win, 4));
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &dtls, 4));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &wg, 4));
	EXPECT_EQ(EBUSY, errno);
	val = 0;
	EXPECT_EQ(0, getsockopt(fd, SOL_TAPSEC, TAPSEC_REPLAY_WINDOW, &val,
				&len));
	EXPECT_EQ(128, val);
	close(fd);

	/* DTLS's state made first: no move to ESP. */
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &dtls, 4));
	ASSERT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_REPLAY_WINDOW, &win, 4));
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &esp, 4));
	EXPECT_EQ(EBUSY, errno);
	close(fd);

	/* Bound: the protocol is fixed. */
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind_lo(fd, AF_INET));
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &esp, 4));
	EXPECT_EQ(EISCONN, errno);
	close(fd);

	/* Stream sockets carry TLS only. */
	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &esp, 4));
	EXPECT_EQ(EPROTOTYPE, errno);
	close(fd);
}

struct switch_race {
	int fd;
	volatile int stop;
};

/* Options of both engines, as fast as they go. */
static void *race_options(void *arg)
{
	struct switch_race *r = arg;
	uint32_t win = 64, val;
	socklen_t len;

	while (!r->stop) {
		setsockopt(r->fd, SOL_TAPSEC, TAPSEC_REPLAY_WINDOW, &win, 4);
		len = sizeof(val);
		getsockopt(r->fd, SOL_TAPSEC, TAPSEC_REPLAY_WINDOW, &val, &len);
		len = sizeof(val);
		getsockopt(r->fd, SOL_TAPSEC, TAPSEC_TX, &val, &len);
		send(r->fd, "x", 1, MSG_DONTWAIT);
	}
	return NULL;
}

/*
 * One thread switches a fresh socket's engine while another sets and
 * reads options: whichever engine makes its state first keeps the
 * socket, and no engine ever reads the other's (the debug kernel's KASAN
 * would see it).
 */
TEST(protocol_switch_race)
{
	int esp = TAPSEC_PROTO_ESP, dtls = TAPSEC_PROTO_DTLS, i, j, val;
	int moved = 0, kept = 0;
	struct switch_race r;
	socklen_t len;
	pthread_t t;

	for (i = 0; i < 300; i++) {
		r.fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC);
		ASSERT_LE(0, r.fd);
		r.stop = 0;
		ASSERT_EQ(0, pthread_create(&t, NULL, race_options, &r));
		for (j = 0; j < 20; j++)
			setsockopt(r.fd, SOL_TAPSEC, TAPSEC_PROTOCOL,
				   j & 1 ? &dtls : &esp, 4);
		r.stop = 1;
		pthread_join(t, NULL);
		len = sizeof(val);
		ASSERT_EQ(0, getsockopt(r.fd, SOL_TAPSEC, TAPSEC_PROTOCOL,
					&val, &len));
		if (val == TAPSEC_PROTO_ESP)
			moved++;
		else
			kept++;
		close(r.fd);
	}
	TH_LOG("%d sockets ended as ESP, %d as DTLS", moved, kept);
}

TEST(sa_fields_checked)
{
	int fd = esp_socket(AF_INET);
	struct tapsec_esp_sa sa, bad;

	ASSERT_LE(0, fd);
	esp_sa(&sa, 0x1001, GCM128, A_PORT, B_PORT);
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_TX, &sa,
				 sizeof(sa) - 1));
	EXPECT_EQ(EINVAL, errno);
	bad = sa;
	bad.cipher = 53;
	EXPECT_EQ(-1, set_sa(fd, TAPSEC_TX, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad = sa;
	bad.spi = TAPSEC_ESP_SPI_MIN - 1;
	EXPECT_EQ(-1, set_sa(fd, TAPSEC_TX, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad = sa;
	bad.flags = TAPSEC_ESP_F_ESN << 1;	/* not defined */
	EXPECT_EQ(-1, set_sa(fd, TAPSEC_RX, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad = sa;
	bad.inner_dport = 0;
	EXPECT_EQ(-1, set_sa(fd, TAPSEC_RX, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad = sa;
	bad.key[16] = 1;		/* past a 16-byte key */
	EXPECT_EQ(-1, set_sa(fd, TAPSEC_TX, &bad));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_TX, NULL, sizeof(sa)));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, set_sa(fd, TAPSEC_TX, &sa));
	/* The key options are read only. */
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_TX_KEY, &sa,
				 sizeof(sa)));
	EXPECT_EQ(EPERM, errno);
	close(fd);
}

/*
 * Extended sequence numbers' fields: the struct without seq_hi is taken
 * too (seq_hi 0), seq_hi needs TAPSEC_ESP_F_ESN, an inbound SA starts at
 * 0, the last 64-bit number cannot start one, and both halves and the
 * flag read back; an old program's shorter buffer gets the fields it
 * knows.
 */
TEST(esn_fields)
{
	int fd = esp_socket(AF_INET);
	struct tapsec_esp_sa sa, bad, got;
	socklen_t len;

	ASSERT_LE(0, fd);
	esp_sa(&sa, 0x1001, GCM128, A_PORT, B_PORT);
	EXPECT_EQ(56, sizeof(sa));
	EXPECT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_TX, &sa,
				TAPSEC_ESP_SA_SIZE_V0));
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_TX, &sa,
				 TAPSEC_ESP_SA_SIZE_V0 + 2));
	EXPECT_EQ(EINVAL, errno);
	bad = sa;
	bad.seq_hi = 1;			/* without ESN */
	EXPECT_EQ(-1, set_sa(fd, TAPSEC_TX, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad.flags = TAPSEC_ESP_F_ESN;	/* inbound starts at 0 */
	EXPECT_EQ(-1, set_sa(fd, TAPSEC_RX, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad.seq = bad.seq_hi = 0xffffffff;
	EXPECT_EQ(-1, set_sa(fd, TAPSEC_TX, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad.seq = 0xfffffff0;
	bad.seq_hi = 7;
	ASSERT_EQ(0, set_sa(fd, TAPSEC_TX, &bad));
	got = get_sa(_metadata, fd, TAPSEC_TX);
	EXPECT_EQ(TAPSEC_ESP_F_ESN, got.flags);
	EXPECT_EQ(0xfffffff0, got.seq);
	EXPECT_EQ(7, got.seq_hi);
	memset(&got, 0xaa, sizeof(got));
	len = TAPSEC_ESP_SA_SIZE_V0;
	EXPECT_EQ(0, getsockopt(fd, SOL_TAPSEC, TAPSEC_TX, &got, &len));
	EXPECT_EQ(TAPSEC_ESP_SA_SIZE_V0, len);
	EXPECT_EQ(0xfffffff0, got.seq);
	EXPECT_EQ(0xaaaaaaaa, got.seq_hi);	/* past the old size */
	ASSERT_EQ(0, set_sa(fd, TAPSEC_RX, &sa));
	EXPECT_EQ(0, get_sa(_metadata, fd, TAPSEC_RX).flags);
	close(fd);
}

/*
 * a -> b with ESN from 2^32 - 16: the forty packets cross into the next
 * 2^32, b takes every one and its window's top reads back as
 * 2^32 + 24; the packets carry the low half (esp_wire_esn).  Without
 * ESN the same start ends at 2^32 - 1 (last_sequence_number).
 */
TEST_F(esp_pair, esn_across_2_32)
{
	struct tapsec_esp_sa got;
	char buf[8];
	int i;

	self->ab.flags = TAPSEC_ESP_F_ESN;
	ASSERT_EQ(0, set_sa(self->b, TAPSEC_RX, &self->ab));
	self->ab.seq = 0xfffffff0;
	ASSERT_EQ(0, set_sa(self->a, TAPSEC_TX, &self->ab));
	for (i = 0; i < 40; i++) {
		ASSERT_EQ(4, send(self->a, &i, 4, 0));
		ASSERT_EQ(4, recv_wait(self->b, buf, sizeof(buf), 0, 5000));
		ASSERT_EQ(0, memcmp(buf, &i, 4)) TH_LOG("packet %d", i);
	}
	got = get_sa(_metadata, self->b, TAPSEC_RX);
	EXPECT_EQ(1, got.seq_hi);
	EXPECT_EQ(24, got.seq);
	got = get_sa(_metadata, self->a, TAPSEC_TX);
	EXPECT_EQ(1, got.seq_hi);
	EXPECT_EQ(24, got.seq);
	EXPECT_EQ(40, CNT(self->b, rx_records));
	EXPECT_EQ(0, CNT(self->b, rx_bad_tag));
	EXPECT_EQ(0, CNT(self->a, key_exhausted));
}

/*
 * The receiver's ESN must match the sender's: the ICV covers the high
 * half on one side only, so every packet fails it (rx_bad_tag), both
 * ways round.
 */
TEST_F(esp_pair, esn_mismatch_fails_icv)
{
	char buf[8];

	self->ab.flags = TAPSEC_ESP_F_ESN;
	ASSERT_EQ(0, set_sa(self->a, TAPSEC_TX, &self->ab));
	ASSERT_EQ(1, send(self->a, "x", 1, 0));
	EXPECT_EQ(-1, recv_wait(self->b, buf, sizeof(buf), 0, 300));
	self->ab.flags = 0;
	ASSERT_EQ(0, set_sa(self->a, TAPSEC_TX, &self->ab));
	self->ab.flags = TAPSEC_ESP_F_ESN;
	ASSERT_EQ(0, set_sa(self->b, TAPSEC_RX, &self->ab));
	ASSERT_EQ(1, send(self->a, "y", 1, 0));
	EXPECT_EQ(-1, recv_wait(self->b, buf, sizeof(buf), 0, 300));
	EXPECT_EQ(2, CNT(self->b, rx_bad_tag));
	EXPECT_EQ(0, CNT(self->b, rx_records));
}

TEST(errors)
{
	int fd = esp_socket(AF_INET), peer = esp_socket(AF_INET);
	struct tapsec_esp_sa sa, got;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(got);
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	char buf[4];

	ASSERT_LE(0, fd);
	ASSERT_LE(0, peer);
	EXPECT_EQ(-1, getsockopt(fd, SOL_TAPSEC, TAPSEC_TX, &got, &len));
	EXPECT_EQ(ENOKEY, errno);
	ASSERT_EQ(0, bind_lo(fd, AF_INET));
	ASSERT_EQ(0, bind_lo(peer, AF_INET));
	EXPECT_EQ(-1, send(fd, "x", 1, 0));
	EXPECT_EQ(ENOKEY, errno);
	EXPECT_EQ(-1, recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(ENOKEY, errno);
	esp_sa(&sa, 0x1001, CHACHA, A_PORT, B_PORT);
	ASSERT_EQ(0, set_sa(fd, TAPSEC_TX, &sa));
	EXPECT_EQ(-1, send(fd, "x", 1, 0));	/* not connected */
	EXPECT_EQ(EDESTADDRREQ, errno);
	ASSERT_EQ(0, connect_to(fd, AF_INET, peer));
	len = tt_loopback(AF_INET, &ss);
	EXPECT_EQ(-1, sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len));
	EXPECT_EQ(EISCONN, errno);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_IP;
	cm->cmsg_type = IP_TTL;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	EXPECT_EQ(-1, sendmsg(fd, &mh, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(1, send(fd, "x", 1, 0));
	EXPECT_EQ(-1, listen(fd, 1));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(0, CNT(fd, rx_bad_record));
	close(fd);
	close(peer);
}

TAPSEC_HARNESS_MAIN
