// SPDX-License-Identifier: GPL-2.0
/*
 * TLS 1.3 KeyUpdate and exporters (RFC 8446 4.6.3, 7.2, 7.5) on tapsec
 * sockets with keys and secrets installed directly (TAPSEC_TX/RX and
 * TAPSEC_TX_SECRET/RX_SECRET/EXPORTER_SECRET), for each TLS 1.3 cipher:
 *
 *  - TAPSEC_KEY_UPDATE sends a KeyUpdate under the current key: a peer
 *    without a receive secret reads it as a handshake record, byte for
 *    byte, and the next key is the one computed here;
 *  - between two sockets with secrets, updates with and without
 *    update_requested, both ways, keep the data intact, and are counted;
 *  - TAPSEC_EXPORT equals TLS-Exporter computed here;
 *  - TAPSEC_KEY_LIMITS, in records, bytes and seconds: the soft limit
 *    sends a KeyUpdate by itself, with an event, or without a secret
 *    reports the key expiring; the hard limit fails sends with EKEYEXPIRED;
 *  - tapsecctl key-update on a socket of this process;
 *  - the errors of each option.
 *
 * The independent HKDF-Expand-Label is built on AF_ALG "hash"
 * (hmac(sha256), hmac(sha384), sha256, sha384; tapsec_alg.h).  Runs
 * inside a VM with tapsec.ko loaded.
 */
#include <netinet/tcp.h>
#include <stdint.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "tapsec_harness.h"
#include "tapsec_test.h"
#include "tapsec_test_util.h"
#include "tapsec_alg.h"

#define TLS12	TAPSEC_TLS_1_2_VERSION
#define TLS13	TAPSEC_TLS_1_3_VERSION
#define GCM128	TAPSEC_CIPHER_AES_GCM_128
#define GCM256	TAPSEC_CIPHER_AES_GCM_256
#define CHACHA	TAPSEC_CIPHER_CHACHA20_POLY1305
#define WAIT_MS	5000

/* ------------------------------------------------------------------ */
/* HKDF on AF_ALG                                                      */

/* HKDF-Expand-Label of RFC 8446 7.1. */
static int expand_label(uint16_t cipher, const uint8_t *secret,
			const char *label, size_t label_len,
			const uint8_t *ctx, size_t ctx_len,
			uint8_t *out, size_t out_len)
{
	return hkdf_expand_label(cipher, "tls13 ", secret, label, label_len,
				 ctx, ctx_len, out, out_len);
}

/* The next generation: secret, key and the 12-byte IV. */
static int next_gen(uint16_t cipher, const uint8_t *secret, uint8_t *nsecret,
		    uint8_t *key, uint8_t *iv)
{
	size_t hl = cipher_hash_len(cipher);

	if (expand_label(cipher, secret, LBL("traffic upd"), NULL, 0,
			 nsecret, hl))
		return -1;
	if (expand_label(cipher, nsecret, LBL("key"), NULL, 0, key,
			 cipher_key_len(cipher)))
		return -1;
	return expand_label(cipher, nsecret, LBL("iv"), NULL, 0, iv, 12);
}

static int exporter(uint16_t cipher, const uint8_t *secret, const char *label,
		    const uint8_t *ctx, size_t ctx_len, uint8_t *out,
		    size_t out_len)
{
	const char *hash = cipher == GCM256 ? "sha384" : "sha256";
	uint8_t empty[64], ch[64], derived[64];
	size_t hl = cipher_hash_len(cipher);

	if (alg_digest(hash, NULL, 0, "", 0, empty, hl) ||
	    alg_digest(hash, NULL, 0, ctx, ctx_len, ch, hl) ||
	    expand_label(cipher, secret, label, strlen(label), empty, hl,
			 derived, hl))
		return -1;
	return expand_label(cipher, derived, LBL("exporter"), ch, hl, out,
			    out_len);
}

/* ------------------------------------------------------------------ */
/* keys and sockets                                                    */

struct gen {
	uint8_t secret[48];
	struct key k;
};

static void gen_random(struct gen *g, uint16_t cipher)
{
	uint8_t key[32], iv[12];

	fill_random(g->secret, sizeof(g->secret));
	fill_random(key, sizeof(key));
	fill_random(iv, sizeof(iv));
	key_from(&g->k, TLS13, cipher, key, iv);
	key_set_seq(&g->k, 1000);
}

static int gen_next(struct gen *g)
{
	uint8_t ns[48], key[32], iv[12];
	uint16_t cipher = g->k.ci.info.cipher_type;

	if (next_gen(cipher, g->secret, ns, key, iv))
		return -1;
	memcpy(g->secret, ns, sizeof(ns));
	key_from(&g->k, TLS13, cipher, key, iv);
	return 0;
}

static int key_update(int fd, int request)
{
	return setsockopt(fd, SOL_TAPSEC, TAPSEC_KEY_UPDATE, &request,
			  sizeof(request));
}

static int tapsec_pair(int *a, int *b)
{
	struct sockaddr_storage srv;
	socklen_t srvlen;
	int lfd;

	*a = *b = -1;
	lfd = socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC);
	if (lfd < 0 || tt_bind_loopback(lfd, AF_INET, &srv, &srvlen) ||
	    listen(lfd, 4))
		return -1;
	*a = socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC);
	if (*a < 0 || connect(*a, (struct sockaddr *)&srv, srvlen))
		return -1;
	*b = accept(lfd, NULL, NULL);
	close(lfd);
	return *b < 0 ? -1 : 0;
}

static uint8_t pat[4096];

static void fill_pat(unsigned int seed)
{
	size_t i;

	for (i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
}

/* @len bytes from @from arrive intact at @to. */
#define XFER(from, to, len, seed) do {					\
	uint8_t _got[sizeof(pat)];					\
	fill_pat(seed);							\
	ASSERT_EQ((ssize_t)(len), send(from, pat, len, MSG_NOSIGNAL))	\
		TH_LOG("send: %s", strerror(errno));			\
	ASSERT_EQ((ssize_t)(len), read_exact(to, _got, len, WAIT_MS));	\
	ASSERT_EQ(0, memcmp(_got, pat, len));				\
} while (0)

/* ------------------------------------------------------------------ */

FIXTURE(ku) {
	int a, b;
	struct gen ab, ba;	/* a to b, b to a */
};

FIXTURE_VARIANT(ku) {
	uint16_t cipher;
};

FIXTURE_VARIANT_ADD(ku, aes128) { .cipher = GCM128 };
FIXTURE_VARIANT_ADD(ku, aes256) { .cipher = GCM256 };
FIXTURE_VARIANT_ADD(ku, chacha20) { .cipher = CHACHA };

FIXTURE_SETUP(ku)
{
	if (!have_alg_hash())
		SKIP(return, "no AF_ALG hash (algif_hash)");
	ASSERT_EQ(0, tapsec_pair(&self->a, &self->b));
	gen_random(&self->ab, variant->cipher);
	gen_random(&self->ba, variant->cipher);
	ASSERT_EQ(0, tapsec_key(self->a, TAPSEC_TX, &self->ab.k));
	ASSERT_EQ(0, tapsec_key(self->b, TAPSEC_RX, &self->ab.k));
	ASSERT_EQ(0, tapsec_key(self->b, TAPSEC_TX, &self->ba.k));
	ASSERT_EQ(0, tapsec_key(self->a, TAPSEC_RX, &self->ba.k));
}

FIXTURE_TEARDOWN(ku)
{
	close_fd(&self->a);
	close_fd(&self->b);
}

static void all_secrets(struct __test_metadata *_metadata,
			FIXTURE_DATA(ku) *self, uint16_t cipher)
{
	ASSERT_EQ(0, set_secret(self->a, TAPSEC_TX_SECRET, cipher,
				self->ab.secret));
	ASSERT_EQ(0, set_secret(self->b, TAPSEC_RX_SECRET, cipher,
				self->ab.secret));
	ASSERT_EQ(0, set_secret(self->b, TAPSEC_TX_SECRET, cipher,
				self->ba.secret));
	ASSERT_EQ(0, set_secret(self->a, TAPSEC_RX_SECRET, cipher,
				self->ba.secret));
}

/*
 * A peer without a receive secret sees the KeyUpdate record as is, and
 * the key computed here for the next generation opens what follows.
 */
TEST_F(ku, record_and_next_key)
{
	uint8_t buf[64];
	struct key got;
	socklen_t len;
	int req, type;

	ASSERT_EQ(0, set_secret(self->a, TAPSEC_TX_SECRET, variant->cipher,
				self->ab.secret));
	for (req = 0; req < 2; req++) {
		XFER(self->a, self->b, 100, req);
		ASSERT_EQ(0, key_update(self->a, req))
			TH_LOG("KEY_UPDATE: %s", strerror(errno));
		ASSERT_TRUE(wait_fd(self->b, POLLIN, WAIT_MS));
		ASSERT_EQ(5, recv_type(self->b, SOL_TAPSEC, buf, sizeof(buf),
				       &type, MSG_DONTWAIT));
		EXPECT_EQ(TAPSEC_RECORD_HANDSHAKE, type);
		EXPECT_EQ(24, buf[0]);
		EXPECT_EQ(0, buf[1]);
		EXPECT_EQ(0, buf[2]);
		EXPECT_EQ(1, buf[3]);
		EXPECT_EQ(req, buf[4]);

		ASSERT_EQ(0, gen_next(&self->ab));
		got = self->ab.k;
		memset(&got.ci, 0, sizeof(got.ci));
		len = self->ab.k.len;
		ASSERT_EQ(0, getsockopt(self->a, SOL_TAPSEC, TAPSEC_TX_KEY,
					&got.ci, &len));
		EXPECT_EQ(0, memcmp(&got.ci, &self->ab.k.ci, len))
			TH_LOG("next key differs from RFC 8446 7.2");
		ASSERT_EQ(0, tapsec_key(self->b, TAPSEC_RX, &self->ab.k));
		XFER(self->a, self->b, 3000, 10 + req);
	}
	EXPECT_EQ(2, CNT(self->a, tx_key_updates));
	EXPECT_EQ(0, CNT(self->b, rx_key_updates));
	EXPECT_EQ(0, CNT(self->b, rx_bad_tag));
}

/* Updates without update_requested, both ways, data flowing. */
TEST_F(ku, not_requested_both_ways)
{
	struct key got;
	socklen_t len;
	int i;

	all_secrets(_metadata, self, variant->cipher);
	for (i = 0; i < 5; i++) {
		XFER(self->a, self->b, 1000, i);
		XFER(self->b, self->a, 1000, i + 1);
		ASSERT_EQ(0, key_update(i & 1 ? self->b : self->a, 0));
	}
	XFER(self->a, self->b, 4000, 7);
	XFER(self->b, self->a, 4000, 8);
	EXPECT_EQ(3, CNT(self->a, tx_key_updates));
	EXPECT_EQ(3, CNT(self->b, rx_key_updates));
	EXPECT_EQ(2, CNT(self->b, tx_key_updates));
	EXPECT_EQ(2, CNT(self->a, rx_key_updates));
	/* The receiver's key follows the sender's, as computed here. */
	ASSERT_EQ(0, gen_next(&self->ab));
	ASSERT_EQ(0, gen_next(&self->ab));
	ASSERT_EQ(0, gen_next(&self->ab));
	got = self->ab.k;
	len = got.len;
	ASSERT_EQ(0, getsockopt(self->b, SOL_TAPSEC, TAPSEC_RX_KEY, &got.ci,
				&len));
	key_set_seq(&got, 0);
	EXPECT_EQ(0, memcmp(&got.ci, &self->ab.k.ci, len));
}

/* update_requested: the peer answers with its own, before its data. */
TEST_F(ku, requested)
{
	int i;

	all_secrets(_metadata, self, variant->cipher);
	for (i = 0; i < 4; i++) {
		int from = i & 1 ? self->b : self->a;
		int to = i & 1 ? self->a : self->b;

		ASSERT_EQ(0, key_update(from, 1));
		XFER(from, to, 500, i);
		XFER(to, from, 500, i + 20);
		XFER(from, to, 500, i + 40);
	}
	EXPECT_EQ(4, CNT(self->a, tx_key_updates));
	EXPECT_EQ(4, CNT(self->b, tx_key_updates));
	EXPECT_EQ(4, CNT(self->a, rx_key_updates));
	EXPECT_EQ(4, CNT(self->b, rx_key_updates));
	EXPECT_EQ(0, CNT(self->a, rx_bad_record));
	EXPECT_EQ(0, CNT(self->b, rx_bad_record));
}

/* The answer goes out without waiting for the peer's next send. */
TEST_F(ku, requested_answer_from_work)
{
	uint8_t buf[16];
	int i;

	all_secrets(_metadata, self, variant->cipher);
	ASSERT_EQ(0, key_update(self->a, 1));
	XFER(self->a, self->b, 10, 1);	/* b reads the KeyUpdate */
	for (i = 0; i < 100 && CNT(self->b, tx_key_updates) != 1; i++)
		usleep(10000);
	EXPECT_EQ(1, CNT(self->b, tx_key_updates));
	/* a has nothing to read, but the KeyUpdate is consumed on read. */
	EXPECT_TRUE(wait_fd(self->a, POLLIN, WAIT_MS));
	EXPECT_EQ(-1, recv(self->a, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, CNT(self->a, rx_key_updates));
	XFER(self->b, self->a, 100, 2);
}

/*
 * An answer TCP cannot take at once (a full send buffer) holds back the
 * sender's data: send() says EAGAIN until the KeyUpdate is out, and
 * nothing is sealed over it.  b's open record (MSG_MORE) keeps the work
 * item from answering, so the answer is sent by b's next send(), whose
 * flush of that record fills TCP.
 */
TEST_F(ku, answer_waits_for_full_tcp)
{
	static uint8_t big[16000], got[16100];
	int small = 4096, i;
	ssize_t n = -1;

	all_secrets(_metadata, self, variant->cipher);
	for (i = 0; i < (int)sizeof(big); i++)
		big[i] = (uint8_t)(i * 13 + 5);
	ASSERT_EQ(0, setsockopt(self->b, SOL_SOCKET, SO_SNDBUF, &small,
				sizeof(small)));
	ASSERT_EQ((ssize_t)sizeof(big),
		  send(self->b, big, sizeof(big), MSG_MORE | MSG_DONTWAIT));
	ASSERT_EQ(0, key_update(self->a, 1));
	XFER(self->a, self->b, 10, 1);	/* b reads the KeyUpdate */
	usleep(50000);
	EXPECT_EQ(0, CNT(self->b, tx_key_updates));

	/* The flush fills TCP; the KeyUpdate waits; so do these bytes. */
	fill_pat(2);
	EXPECT_EQ(-1, send(self->b, pat, 100, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, CNT(self->b, tx_key_updates));
	for (i = 0; i < 500 && n != 100; i++) {
		n = send(self->b, pat, 100, MSG_DONTWAIT);
		if (n < 0)
			usleep(10000);
	}
	ASSERT_EQ(100, n) TH_LOG("send: %s", strerror(errno));
	ASSERT_EQ((ssize_t)sizeof(got), read_exact(self->a, got, sizeof(got),
						   WAIT_MS));
	EXPECT_EQ(0, memcmp(got, big, sizeof(big)));
	EXPECT_EQ(0, memcmp(got + sizeof(big), pat, 100));
	EXPECT_EQ(1, CNT(self->a, rx_key_updates));
	EXPECT_EQ(0, CNT(self->a, rx_bad_record));
	XFER(self->a, self->b, 10, 3);
}

TEST_F(ku, exporter)
{
	static const char *const labels[] = { "EXPERIMENTAL-tapsec", "", "x" };
	struct tapsec_export_req req;
	uint8_t secret[48], want[255];
	socklen_t len;
	size_t i, outs[] = { 1, 32, 255 };

	fill_random(secret, sizeof(secret));
	memset(&req, 0, sizeof(req));
	req.out_len = 32;
	len = sizeof(req);
	EXPECT_EQ(-1, getsockopt(self->a, SOL_TAPSEC, TAPSEC_EXPORT, &req,
				 &len));
	EXPECT_EQ(ENOKEY, errno);
	ASSERT_EQ(0, set_secret(self->a, TAPSEC_EXPORTER_SECRET,
				variant->cipher, secret));
	for (i = 0; i < 3; i++) {
		memset(&req, 0, sizeof(req));
		req.label_len = strlen(labels[i]);
		memcpy(req.label, labels[i], req.label_len);
		req.out_len = outs[i];
		if (i == 1) {
			req.has_context = 1;
			req.context_len = 200;
			memset(req.context, 0xab, 200);
		}
		ASSERT_EQ(0, exporter(variant->cipher, secret, labels[i],
				      req.context, req.context_len, want,
				      outs[i]));
		len = sizeof(req);
		ASSERT_EQ(0, getsockopt(self->a, SOL_TAPSEC, TAPSEC_EXPORT,
					&req, &len))
			TH_LOG("TAPSEC_EXPORT: %s", strerror(errno));
		EXPECT_EQ(outs[i], len);
		EXPECT_EQ(0, memcmp(&req, want, outs[i]))
			TH_LOG("exporter %zu differs from RFC 8446 7.5", i);
	}
	/* Bad requests. */
	memset(&req, 0, sizeof(req));
	len = sizeof(req);
	EXPECT_EQ(-1, getsockopt(self->a, SOL_TAPSEC, TAPSEC_EXPORT, &req,
				 &len));
	EXPECT_EQ(EINVAL, errno);
	req.out_len = 32;
	len = sizeof(req) - 1;
	EXPECT_EQ(-1, getsockopt(self->a, SOL_TAPSEC, TAPSEC_EXPORT, &req,
				 &len));
	EXPECT_EQ(EINVAL, errno);
	req.label_len = 250;
	len = sizeof(req);
	EXPECT_EQ(-1, getsockopt(self->a, SOL_TAPSEC, TAPSEC_EXPORT, &req,
				 &len));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(ku, errors)
{
	struct tapsec_tls13_secret s = {};
	uint16_t other = variant->cipher == GCM256 ? GCM128 : GCM256;
	socklen_t len = sizeof(s);
	struct gen g;
	int fd;

	/* No transmit secret: no KeyUpdate from the kernel. */
	EXPECT_EQ(-1, key_update(self->a, 0));
	EXPECT_EQ(EPROTO, errno);
	/* A secret of another cipher than the key, bad lengths, values. */
	EXPECT_EQ(-1, set_secret(self->a, TAPSEC_TX_SECRET, other,
				 self->ab.secret));
	EXPECT_EQ(EINVAL, errno);
	s.cipher = variant->cipher;
	s.len = 40;
	EXPECT_EQ(-1, setsockopt(self->a, SOL_TAPSEC, TAPSEC_TX_SECRET, &s,
				 sizeof(s)));
	EXPECT_EQ(EINVAL, errno);
	s.len = cipher_hash_len(variant->cipher);
	EXPECT_EQ(-1, setsockopt(self->a, SOL_TAPSEC, TAPSEC_TX_SECRET, &s,
				 sizeof(s) - 1));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, set_secret(self->a, TAPSEC_TX_SECRET, variant->cipher,
				self->ab.secret));
	EXPECT_EQ(-1, key_update(self->a, 2));
	EXPECT_EQ(EINVAL, errno);
	/* Never readable. */
	EXPECT_EQ(-1, getsockopt(self->a, SOL_TAPSEC, TAPSEC_TX_SECRET, &s,
				 &len));
	EXPECT_EQ(EPERM, errno);
	/* A new key from userspace drops the secret that went with the old. */
	gen_random(&g, variant->cipher);
	ASSERT_EQ(0, tapsec_key(self->a, TAPSEC_TX, &g.k));
	EXPECT_EQ(-1, key_update(self->a, 0));
	EXPECT_EQ(EPROTO, errno);

	/* No key yet. */
	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, set_secret(fd, TAPSEC_TX_SECRET, variant->cipher,
				 self->ab.secret));
	EXPECT_EQ(ENOKEY, errno);
	EXPECT_EQ(-1, key_update(fd, 0));
	EXPECT_EQ(ENOKEY, errno);
	close(fd);
}

/* A KeyUpdate the peer asked for that we cannot answer: EPROTO. */
TEST_F(ku, requested_without_tx_secret)
{
	uint8_t buf[16];

	ASSERT_EQ(0, set_secret(self->a, TAPSEC_TX_SECRET, variant->cipher,
				self->ab.secret));
	ASSERT_EQ(0, set_secret(self->b, TAPSEC_RX_SECRET, variant->cipher,
				self->ab.secret));
	ASSERT_EQ(0, key_update(self->a, 1));
	ASSERT_EQ(1, send(self->a, "x", 1, 0));
	ASSERT_TRUE(wait_fd(self->b, POLLIN, WAIT_MS));
	EXPECT_EQ(-1, recv(self->b, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EPROTO, errno);
}

static int set_limits(int fd, uint64_t soft, uint64_t hard)
{
	struct tapsec_key_limits lim = { .soft_records = soft,
					 .hard_records = hard };

	return setsockopt(fd, SOL_TAPSEC, TAPSEC_KEY_LIMITS, &lim, sizeof(lim));
}

/* Defaults of RFC 8446 5.5; a tiny soft limit updates, with an event. */
TEST_F(ku, soft_limit)
{
	struct tapsec_key_limits lim;
	struct tapsec_event ev;
	struct tapsec_nl nl;
	socklen_t len = sizeof(lim);
	int i, found = 0;

	ASSERT_EQ(0, getsockopt(self->a, SOL_TAPSEC, TAPSEC_KEY_LIMITS, &lim,
				&len));
	EXPECT_EQ(variant->cipher == CHACHA ? 1ULL << 62 : 23726566ULL,
		  lim.soft_records);
	EXPECT_EQ(0, lim.hard_records);
	all_secrets(_metadata, self, variant->cipher);
	ASSERT_EQ(0, tapsec_nl_open(&nl));
	ASSERT_EQ(0, join_group(&nl, TAPSEC_MCGRP_EVENTS));
	ASSERT_EQ(0, set_limits(self->a, 3, 0));
	len = sizeof(lim);
	ASSERT_EQ(0, getsockopt(self->a, SOL_TAPSEC, TAPSEC_KEY_LIMITS, &lim,
				&len));
	EXPECT_EQ(3, lim.soft_records);
	for (i = 0; i < 7; i++)
		XFER(self->a, self->b, 100, i);	/* one record each */
	EXPECT_EQ(2, CNT(self->a, tx_key_updates));
	EXPECT_EQ(2, CNT(self->b, rx_key_updates));
	XFER(self->b, self->a, 100, 9);
	while (found < 2 && !wait_event(&nl, self->a, TAPSEC_EVENT_KEY_UPDATED,
					&ev, WAIT_MS))
		found++;
	EXPECT_EQ(2, found);
	tapsec_nl_close(&nl);
}

/* Byte @i of a long stream, for checking what arrives. */
static uint8_t stream_byte(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 10) * 3 + (i >> 17));
}

/*
 * A non-blocking sender with a soft limit of one record, so that a
 * KeyUpdate follows every record, fills TCP: a KeyUpdate TCP cannot take
 * stays pending, and the send stops there rather than seal the next
 * record over it.  The reader then gets every byte that send() took,
 * each record under the key its KeyUpdates said.
 */
TEST_F(ku, soft_limit_full_tcp)
{
	static uint8_t chunk[65536], got[65536];
	size_t total = 0, done = 0, i;
	int small = 4096, eagain = 0;
	ssize_t n;

	all_secrets(_metadata, self, variant->cipher);
	ASSERT_EQ(0, set_limits(self->a, 1, 0));
	ASSERT_EQ(0, setsockopt(self->a, SOL_SOCKET, SO_SNDBUF, &small,
				sizeof(small)));
	while (eagain < 20 && total < (8u << 20)) {
		for (i = 0; i < sizeof(chunk); i++)
			chunk[i] = stream_byte(total + i);
		n = send(self->a, chunk, sizeof(chunk),
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			total += n;
			continue;
		}
		ASSERT_EQ(EAGAIN, errno) TH_LOG("send: %s", strerror(errno));
		eagain++;
		usleep(1000);
	}
	EXPECT_LT(1, CNT(self->a, tx_key_updates));
	/* What send() took arrives, in order, under the right keys. */
	while (done < total) {
		size_t want = total - done < sizeof(got) ? total - done :
			      sizeof(got);

		n = read_exact(self->b, got, want, WAIT_MS);
		ASSERT_EQ((ssize_t)want, n)
			TH_LOG("%zu of %zu bytes, then %s (a: %llu updates, "
			       "b: %llu updates, %llu bad tags, %llu bad)",
			       done, total, n < 0 ? strerror(-n) : "short",
			       CNT(self->a, tx_key_updates),
			       CNT(self->b, rx_key_updates),
			       CNT(self->b, rx_bad_tag),
			       CNT(self->b, rx_bad_record));
		for (i = 0; i < want; i++)
			ASSERT_EQ(stream_byte(done + i), got[i])
				TH_LOG("byte %zu", done + i);
		done += want;
	}
	EXPECT_EQ(0, CNT(self->b, rx_bad_tag));
	EXPECT_EQ(0, CNT(self->b, rx_bad_record));
	EXPECT_EQ(CNT(self->a, tx_key_updates), CNT(self->b, rx_key_updates));
	XFER(self->b, self->a, 10, 4);
}

/* A tiny hard limit: sends fail with EKEYEXPIRED, counted. */
TEST_F(ku, hard_limit)
{
	int i;

	ASSERT_EQ(0, set_limits(self->a, 0, 3));
	for (i = 0; i < 3; i++)
		XFER(self->a, self->b, 100, i);
	EXPECT_EQ(-1, send(self->a, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EKEYEXPIRED, errno);
	EXPECT_EQ(1, CNT(self->a, key_exhausted));
	/* With a secret, a KeyUpdate (exempt) gives a fresh key. */
	ASSERT_EQ(0, set_secret(self->a, TAPSEC_TX_SECRET, variant->cipher,
				self->ab.secret));
	ASSERT_EQ(0, set_secret(self->b, TAPSEC_RX_SECRET, variant->cipher,
				self->ab.secret));
	ASSERT_EQ(0, key_update(self->a, 0));
	XFER(self->a, self->b, 100, 5);
	/* The other direction has no limit. */
	XFER(self->b, self->a, 100, 6);
}

/* Plaintext bytes: soft updates by itself, hard refuses the next record. */
TEST_F(ku, byte_limits)
{
	struct tapsec_key_limits lim = { .soft_bytes = 250, .hard_bytes = 250 };
	struct tapsec_key_limits bad = { .soft_bytes = 2, .hard_bytes = 1 };
	socklen_t len = sizeof(lim);
	int i;

	EXPECT_EQ(-1, setsockopt(self->a, SOL_TAPSEC, TAPSEC_KEY_LIMITS, &bad,
				 sizeof(bad)));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, setsockopt(self->a, SOL_TAPSEC, TAPSEC_KEY_LIMITS, &lim,
				sizeof(lim)));
	memset(&lim, 0, sizeof(lim));
	ASSERT_EQ(0, getsockopt(self->a, SOL_TAPSEC, TAPSEC_KEY_LIMITS, &lim,
				&len));
	EXPECT_EQ(250, lim.soft_bytes);
	EXPECT_EQ(250, lim.hard_bytes);

	/* No secret: the third record passes 250 bytes, the fourth waits. */
	for (i = 0; i < 3; i++)
		XFER(self->a, self->b, 100, i);
	EXPECT_EQ(-1, send(self->a, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EKEYEXPIRED, errno);

	/* With secrets the soft limit updates first: the hard one never hits. */
	all_secrets(_metadata, self, variant->cipher);
	ASSERT_EQ(0, key_update(self->a, 0));
	for (i = 0; i < 9; i++)
		XFER(self->a, self->b, 100, i);
	EXPECT_EQ(1 + 3, CNT(self->a, tx_key_updates));
	/* The last update follows the ninth record: read past it. */
	XFER(self->a, self->b, 10, 9);
	EXPECT_EQ(1 + 3, CNT(self->b, rx_key_updates));
}

/* A pair of TLS 1.3 AES-128-GCM sockets with traffic secrets both ways. */
static void secret_pair(struct __test_metadata *_metadata, int *a, int *b,
			bool secrets)
{
	struct gen ab, ba;

	ASSERT_EQ(0, tapsec_pair(a, b));
	gen_random(&ab, GCM128);
	gen_random(&ba, GCM128);
	ASSERT_EQ(0, tapsec_key(*a, TAPSEC_TX, &ab.k));
	ASSERT_EQ(0, tapsec_key(*b, TAPSEC_RX, &ab.k));
	ASSERT_EQ(0, tapsec_key(*b, TAPSEC_TX, &ba.k));
	ASSERT_EQ(0, tapsec_key(*a, TAPSEC_RX, &ba.k));
	if (!secrets)
		return;
	ASSERT_EQ(0, set_secret(*a, TAPSEC_TX_SECRET, GCM128, ab.secret));
	ASSERT_EQ(0, set_secret(*b, TAPSEC_RX_SECRET, GCM128, ab.secret));
	ASSERT_EQ(0, set_secret(*b, TAPSEC_TX_SECRET, GCM128, ba.secret));
	ASSERT_EQ(0, set_secret(*a, TAPSEC_RX_SECRET, GCM128, ba.secret));
}

struct key_age {
	uint64_t inode;
	int64_t age;
};

static void key_age_cb(const struct tapsec_sock_entry *e, void *arg)
{
	struct key_age *k = arg;

	if (e->inode == k->inode)
		k->age = e->tx_key_age;
}

/* The transmit key age tapsecctl sock list shows; -2 if not listed. */
static int64_t key_age(struct tapsec_nl *nl, int fd)
{
	struct key_age k = { .age = -2 };
	struct stat st;

	if (fstat(fd, &st))
		return -2;
	k.inode = st.st_ino;
	if (tapsec_nl_sock_list(nl, key_age_cb, &k))
		return -2;
	return k.age;
}

/*
 * The age of a key: without a secret the soft limit is reported once as
 * expiring, the hard limit refuses sends.  Seconds are whole: the checks
 * leave a second of slack each way.
 */
TEST(age_limits)
{
	struct tapsec_key_limits lim = { .soft_seconds = 1, .hard_seconds = 4 };
	uint8_t pat_ab[100], got[100];
	struct tapsec_nl nl, ctl;
	struct gen g;
	int a, b, i;

	memset(pat_ab, 0x5a, sizeof(pat_ab));
	secret_pair(_metadata, &a, &b, false);
	ASSERT_EQ(0, tapsec_nl_open(&nl));
	ASSERT_EQ(0, join_group(&nl, TAPSEC_MCGRP_EVENTS));
	ASSERT_EQ(0, setsockopt(a, SOL_TAPSEC, TAPSEC_KEY_LIMITS, &lim,
				sizeof(lim)));
	sleep(2);
	ASSERT_EQ(0, tapsec_nl_open(&ctl));
	EXPECT_LE(1, key_age(&ctl, a));
	for (i = 0; i < 3; i++) {	/* soft passed: still sends */
		ASSERT_EQ(100, send(a, pat_ab, 100, MSG_NOSIGNAL));
		ASSERT_EQ(100, read_exact(b, got, 100, WAIT_MS));
	}
	EXPECT_EQ(1, count_events(&nl, a, TAPSEC_EVENT_KEY_EXPIRING,
				  500, NULL));
	sleep(3);
	EXPECT_EQ(-1, send(a, pat_ab, 1, MSG_NOSIGNAL));
	EXPECT_EQ(EKEYEXPIRED, errno);
	/* A new key starts a new age. */
	gen_random(&g, GCM128);
	ASSERT_EQ(0, tapsec_key(a, TAPSEC_TX, &g.k));
	ASSERT_EQ(0, tapsec_key(b, TAPSEC_RX, &g.k));
	ASSERT_EQ(100, send(a, pat_ab, 100, MSG_NOSIGNAL));
	ASSERT_EQ(100, read_exact(b, got, 100, WAIT_MS));
	EXPECT_GE(1, key_age(&ctl, a));
	EXPECT_LE(0, key_age(&ctl, a));
	tapsec_nl_close(&ctl);
	tapsec_nl_close(&nl);
	close(a);
	close(b);
}

/* The path of tapsecctl, from this test's own: build/selftests/tapsec. */
static void tapsecctl_path(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 32);

	buf[n > 0 ? n : 0] = '\0';
	strcpy(strrchr(buf, '/') ?: buf, "/../../bin/tapsecctl");
}

static int run_tapsecctl(const char *args, int fd)
{
	char ctl[PATH_MAX], cmd[PATH_MAX + 128];
	struct stat st;
	int status;

	tapsecctl_path(ctl, sizeof(ctl));
	if (fd >= 0 && fstat(fd, &st))
		return -1;
	snprintf(cmd, sizeof(cmd), "%s %s %llu", ctl, args,
		 fd >= 0 ? (unsigned long long)st.st_ino : 987654321ULL);
	status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* tapsecctl key-update, from outside the process holding the socket. */
TEST(tapsecctl_key_update)
{
	uint8_t p[64] = { 1, 2, 3 }, got[64];
	int a, b, c, d;

	secret_pair(_metadata, &a, &b, true);
	EXPECT_EQ(0, run_tapsecctl("key-update", a));
	EXPECT_EQ(1, CNT(a, tx_key_updates));
	ASSERT_EQ(64, send(a, p, 64, MSG_NOSIGNAL));
	ASSERT_EQ(64, read_exact(b, got, 64, WAIT_MS));
	EXPECT_EQ(1, CNT(b, rx_key_updates));

	/* --request: the peer answers with its own, before its next data. */
	EXPECT_EQ(0, run_tapsecctl("key-update --request", a));
	ASSERT_EQ(64, send(a, p, 64, MSG_NOSIGNAL));
	ASSERT_EQ(64, read_exact(b, got, 64, WAIT_MS));
	ASSERT_EQ(64, send(b, p, 64, MSG_NOSIGNAL));
	ASSERT_EQ(64, read_exact(a, got, 64, WAIT_MS));
	EXPECT_EQ(0, memcmp(p, got, 64));
	EXPECT_EQ(1, CNT(b, tx_key_updates));
	EXPECT_EQ(1, CNT(a, rx_key_updates));

	/* Errors: nobody holds the inode; a socket without secrets. */
	EXPECT_EQ(1, run_tapsecctl("key-update", -1));
	secret_pair(_metadata, &c, &d, false);
	EXPECT_EQ(1, run_tapsecctl("key-update", c));
	EXPECT_EQ(0, CNT(c, tx_key_updates));
	EXPECT_EQ(2, run_tapsecctl("key-update --request --count 1", c));
	close(a);
	close(b);
	close(c);
	close(d);
}

/* TLS 1.2: no secrets, no exporter. */
TEST(tls12)
{
	struct tapsec_export_req req = { .out_len = 16 };
	socklen_t len = sizeof(req);
	struct key k;
	uint8_t s[48] = {};
	int a, b;

	ASSERT_EQ(0, tapsec_pair(&a, &b));
	key_make(&k, TLS12, GCM128, 0);
	ASSERT_EQ(0, tapsec_key(a, TAPSEC_TX, &k));
	EXPECT_EQ(-1, set_secret(a, TAPSEC_TX_SECRET, GCM128, s));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_secret(a, TAPSEC_EXPORTER_SECRET, GCM128, s));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, getsockopt(a, SOL_TAPSEC, TAPSEC_EXPORT, &req, &len));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, key_update(a, 0));
	EXPECT_EQ(EPROTO, errno);
	close(a);
	close(b);
}

TAPSEC_HARNESS_MAIN
