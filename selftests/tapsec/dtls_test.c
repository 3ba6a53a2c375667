// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec's DTLS record engine (DTLS 1.2, RFC 6347; DTLS 1.3, RFC 9147) on
 * SOCK_DGRAM tapsec sockets, for each cipher:
 *
 *  - the options: TAPSEC_PROTOCOL, keys and their versions, ENOTCONN,
 *    ENOKEY, TAPSEC_REPLAY_WINDOW, TAPSEC_EPOCH_GRACE, TAPSEC_MAX_PAYLOAD;
 *  - the wire, byte by byte, both ways, against a plain UDP socket: DTLS
 *    1.2 headers and nonces; DTLS 1.3 unified headers with encrypted
 *    sequence numbers, short headers, two records in one datagram;
 *  - anti-replay (RFC 6347 4.1.2.6), epochs and their grace period;
 *  - bad datagrams: dropped, counted by kind, never fatal;
 *  - datagram semantics: one send is one record is one datagram,
 *    MSG_TRUNC, MSG_PEEK, recvfrom, EMSGSIZE from the path MTU;
 *  - close_notify on close and on shutdown(SHUT_WR);
 *  - two tapsec sockets end to end;
 *  - DTLS 1.3 connection IDs (RFC 9147 9): the options, records with them
 *    both ways, and a listener's child following its peer to a new
 *    address (TAPSEC_EVENT_PEER_MOVED).
 *
 * The records the test sends and the checks of those tapsec sends are
 * computed here with the kernel's crypto API through AF_ALG (tapsec_alg.h),
 * independently of tapsec; kat_records checks that code against records
 * computed with another implementation.  Runs as root inside a VM with
 * tapsec.ko loaded.
 */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <linux/sock_diag.h>
#include <sys/wait.h>
#include <time.h>

#include "tapsec_harness.h"
#include "tapsec_test.h"
#include "tapsec_test_util.h"
#include "tapsec_alg.h"

#define DTLS12		TAPSEC_DTLS_1_2_VERSION
#define DTLS13		TAPSEC_DTLS_1_3_VERSION
#define GCM128		TAPSEC_CIPHER_AES_GCM_128
#define GCM256		TAPSEC_CIPHER_AES_GCM_256
#define CHACHA		TAPSEC_CIPHER_CHACHA20_POLY1305

#define T_ALERT		TAPSEC_RECORD_ALERT
#define T_HANDSHAKE	TAPSEC_RECORD_HANDSHAKE
#define T_DATA		TAPSEC_RECORD_APPLICATION_DATA
#define T_RRC		TAPSEC_RECORD_RETURN_ROUTABILITY

#define TAG		ALG_TAG_LEN
#define HDR12		13	/* DTLS 1.2 header */
#define HDR13		5	/* DTLS 1.3 header tapsec sends */
#define MAX_PLAIN	16384
#define MAX_CT12	(MAX_PLAIN + 2048)
#define MAX_CT13	(MAX_PLAIN + 256)
#define DGRAM		65536	/* room for any datagram */
#define WAIT_MS		3000	/* ms: a datagram that must come */
#define QUIET_MS	50	/* wait before saying nothing came */

/* DTLS 1.3 unified header, first byte 001CSLEE (RFC 9147 4). */
#define UH_FIXED	0x20
#define UH_CID		0x10
#define UH_S16		0x08
#define UH_LEN		0x04

/* ------------------------------------------------------------------ */
/* data                                                                */

static uint8_t pat[2 * DGRAM];

static void __attribute__((constructor)) dtls_test_init(void)
{
	static const char *const mods[] = {
		"algif_aead", "algif_skcipher", "algif_hash", "gcm", "aes",
		"chacha20poly1305", "chacha_generic", "sha256", "sha512",
	};
	char cmd[64];
	size_t i;

	fill_random(pat, sizeof(pat));
	/* The tests say what is missing; the modules are loaded quietly. */
	for (i = 0; i < ARRAY_SIZE(mods); i++) {
		snprintf(cmd, sizeof(cmd), "modprobe -q %s", mods[i]);
		if (system(cmd) < 0)
			perror("system");
	}
}

/* Payload bytes number @seed: any DGRAM bytes from here are readable. */
static const uint8_t *stream(unsigned int seed)
{
	return pat + (seed * 7919u) % DGRAM;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* keys                                                                */

/* One direction: the key tapsec gets, and what the test needs besides. */
struct dir {
	struct key k;		/* for TAPSEC_TX or TAPSEC_RX */
	uint8_t secret[48];	/* DTLS 1.3: the traffic secret */
	uint8_t snk[32];	/* DTLS 1.3: sn_key (RFC 9147 4.2.3) */
	uint16_t version, cipher, epoch;
	uint64_t seq;		/* the first record's sequence number */
	uint8_t cid[TAPSEC_CID_MAX + 1];	/* DTLS 1.3: records carry */
	size_t cidlen;		/* this connection ID (0: none) */
};

/* Application data epochs start at 1 in DTLS 1.2 and at 3 in DTLS 1.3. */
static uint16_t first_epoch(uint16_t version)
{
	return version == DTLS12 ? 1 : 3;
}

/*
 * A direction of @version and @cipher starting at record @seq of @epoch.
 * DTLS 1.2: a key and IV from @fixed (32 + 12 bytes) or random.  DTLS
 * 1.3: key, IV and sn_key derived from a traffic secret (@fixed, 48 bytes,
 * or random) with the "dtls13" label prefix.  0 or -1.
 */
static int dir_make(struct dir *d, uint16_t version, uint16_t cipher,
		    uint16_t epoch, uint64_t seq, const uint8_t *fixed)
{
	size_t kl = cipher_key_len(cipher);
	uint8_t key[32], iv[12];

	memset(d, 0, sizeof(*d));
	d->version = version;
	d->cipher = cipher;
	d->epoch = epoch;
	d->seq = seq;
	if (version == DTLS12) {
		if (fixed) {
			memcpy(key, fixed, 32);
			memcpy(iv, fixed + 32, 12);
		} else {
			fill_random(key, sizeof(key));
			fill_random(iv, sizeof(iv));
		}
	} else {
		if (fixed)
			memcpy(d->secret, fixed, sizeof(d->secret));
		else
			fill_random(d->secret, sizeof(d->secret));
		if (hkdf_expand_label(cipher, "dtls13", d->secret, LBL("key"),
				      NULL, 0, key, kl) ||
		    hkdf_expand_label(cipher, "dtls13", d->secret, LBL("iv"),
				      NULL, 0, iv, 12) ||
		    hkdf_expand_label(cipher, "dtls13", d->secret, LBL("sn"),
				      NULL, 0, d->snk, kl))
			return -1;
	}
	key_from(&d->k, version, cipher, key, iv);
	key_set_seq(&d->k, (uint64_t)epoch << 48 | seq);
	return 0;
}

/* The key of @d for transmit (@tx) or receive, and its DTLS 1.3 secret. */
static int dir_install(int fd, bool tx, const struct dir *d)
{
	if (tapsec_key(fd, tx ? TAPSEC_TX : TAPSEC_RX, &d->k))
		return -1;
	if (d->version != DTLS13)
		return 0;
	return set_secret(fd, tx ? TAPSEC_TX_SECRET : TAPSEC_RX_SECRET,
			  d->cipher, d->secret);
}

/* Bytes a record adds to its payload, as tapsec sends it. */
static size_t overhead(uint16_t version, uint16_t cipher)
{
	if (version == DTLS13)
		return HDR13 + 1 + TAG;
	return HDR12 + (cipher == CHACHA ? 0 : 8) + TAG;
}

/* ------------------------------------------------------------------ */
/* records, sealed and opened here                                     */

/* struct rec.flags: DTLS 1.3 header variants tapsec does not send. */
#define R_SEQ8		0x01	/* 1.3: 8-bit sequence number (S=0) */
#define R_NOLEN		0x02	/* 1.3: no length (L=0) */

struct rec {
	uint8_t type;		/* content type */
	uint16_t epoch;
	uint64_t seq;		/* 48 bits */
	const uint8_t *data;
	size_t len;
	size_t pad;		/* 1.3: zeros after the inner type */
	unsigned int flags;	/* R_* */
	uint16_t version;	/* 1.2: the header's version (0: fe fd) */
};

/*
 * The AEAD nonce of record @seq of @epoch: DTLS 1.2 AES-GCM: salt ||
 * epoch || seq (the explicit nonce); DTLS 1.2 ChaCha20: IV XOR (epoch ||
 * seq); DTLS 1.3: IV XOR seq (RFC 9147 4.2.3 leaves the epoch out).
 */
static void rec_nonce(const struct dir *d, uint16_t epoch, uint64_t seq,
		      uint8_t *n)
{
	uint64_t rn = seq;
	int i;

	key_nonce(&d->k, n);
	if (d->version == DTLS12)
		rn |= (uint64_t)epoch << 48;
	if (d->version == DTLS12 && d->cipher != CHACHA) {
		put_be64(n + 4, rn);
		return;
	}
	for (i = 0; i < 8; i++)
		n[11 - i] ^= rn >> (8 * i);
}

/*
 * RFC 9147 4.2.3: the sequence number mask from the first 16 bytes of
 * the ciphertext, AES-ECB under sn_key, or ChaCha20 under sn_key with
 * those bytes as counter (LE32) and nonce: the kernel's chacha20 IV.
 */
static int sn_mask(const struct dir *d, const uint8_t *ct, uint8_t *mask)
{
	static const uint8_t zero[16];

	if (d->cipher == CHACHA)
		return alg_encrypt("chacha20", d->snk, 32, ct, 16, zero, 16,
				   mask);
	return alg_encrypt("ecb(aes)", d->snk, cipher_key_len(d->cipher),
			   NULL, 0, ct, 16, mask);
}

/* DTLS 1.2 additional data: epoch || seq || type || version || length. */
static void aad12(uint8_t *aad, const uint8_t *hdr, size_t plen)
{
	memcpy(aad, hdr + 3, 8);
	aad[8] = hdr[0];
	aad[9] = hdr[1];
	aad[10] = hdr[2];
	aad[11] = plen >> 8;
	aad[12] = plen;
}

/* Seal @r with @d into @out.  Returns the record's length or -errno. */
static ssize_t rec_seal(const struct dir *d, const struct rec *r,
			uint8_t *out)
{
	uint16_t ver = r->version ? r->version : 0xfefd;
	size_t ilen = r->len, hlen = 0, sn = 1, off, i;
	uint8_t nonce[12], aad[32], mask[16];
	uint8_t *in = malloc(r->len + 1 + r->pad);
	uint8_t *tmp = malloc(sizeof(aad) + r->len + 1 + r->pad + TAG);
	const uint8_t *key;
	ssize_t n = -ENOMEM;
	int kl;

	if (!in || !tmp)
		goto out;
	key = key_bytes(&d->k, &kl);
	memcpy(in, r->data, r->len);
	rec_nonce(d, r->epoch, r->seq, nonce);
	if (d->version == DTLS12) {
		size_t clen = (d->cipher == CHACHA ? 0 : 8) + ilen + TAG;

		out[0] = r->type;
		out[1] = ver >> 8;
		out[2] = ver;
		put_be64(out + 3, (uint64_t)r->epoch << 48 | r->seq);
		out[11] = clen >> 8;
		out[12] = clen;
		off = HDR12;
		if (d->cipher != CHACHA) {
			memcpy(out + off, nonce + 4, 8);
			off += 8;
		}
		aad12(aad, out, ilen);
		hlen = 13;
	} else {
		size_t clen;

		in[ilen++] = r->type;
		memset(in + ilen, 0, r->pad);
		ilen += r->pad;
		clen = ilen + TAG;
		out[hlen++] = UH_FIXED | (r->epoch & 3) |
			      (d->cidlen ? UH_CID : 0) |
			      (r->flags & R_SEQ8 ? 0 : UH_S16) |
			      (r->flags & R_NOLEN ? 0 : UH_LEN);
		memcpy(out + hlen, d->cid, d->cidlen);
		hlen += d->cidlen;
		sn = hlen;
		if (!(r->flags & R_SEQ8))
			out[hlen++] = r->seq >> 8;
		out[hlen++] = r->seq;
		if (!(r->flags & R_NOLEN)) {
			out[hlen++] = clen >> 8;
			out[hlen++] = clen;
		}
		memcpy(aad, out, hlen);
		off = hlen;
	}
	n = alg_aead(d->cipher, true, key, kl, nonce, aad, hlen, in, ilen,
		     tmp);
	if (n < 0)
		goto out;
	memcpy(out + off, tmp + hlen, ilen + TAG);
	n = off + ilen + TAG;
	if (d->version == DTLS13) {
		int err = sn_mask(d, out + off, mask);

		if (err) {
			n = err;
			goto out;
		}
		for (i = 0; i < (r->flags & R_SEQ8 ? 1u : 2u); i++)
			out[sn + i] ^= mask[i];
	}
out:
	free(in);
	free(tmp);
	return n;
}

/* A data record of @len bytes of stream(@seed), number @seq of @epoch. */
static struct rec data_rec(uint16_t epoch, uint64_t seq, size_t len,
			   unsigned int seed)
{
	struct rec r = { .type = T_DATA, .epoch = epoch, .seq = seq,
			 .data = stream(seed), .len = len };

	return r;
}

/*
 * Check datagram @w of @wlen bytes that tapsec sent with @d: exactly one
 * record of @type, number @seq of @epoch, with @plen bytes of @pt, and
 * every header byte as RFC 6347 4.1 or RFC 9147 4 has it (tapsec's
 * unified header: @d's connection ID if any, 16-bit sequence number,
 * length).
 */
static void check_record_copy(struct __test_metadata *_metadata,
			      const struct dir *d, const uint8_t *w,
			      size_t wlen, uint8_t type, uint16_t epoch,
			      uint64_t seq, const uint8_t *pt, size_t plen,
			      uint8_t *copy);

static void check_record(struct __test_metadata *_metadata,
			 const struct dir *d, const uint8_t *w, size_t wlen,
			 uint8_t type, uint16_t epoch, uint64_t seq,
			 const uint8_t *pt, size_t plen)
{
	check_record_copy(_metadata, d, w, wlen, type, epoch, seq, pt, plen,
			  NULL);
}

/* check_record(), the plaintext copied to @copy rather than compared. */
static void check_record_copy(struct __test_metadata *_metadata,
			      const struct dir *d, const uint8_t *w,
			      size_t wlen, uint8_t type, uint16_t epoch,
			      uint64_t seq, const uint8_t *pt, size_t plen,
			      uint8_t *copy)
{
	uint8_t nonce[12], aad[32], mask[16], *out;
	size_t off, aadlen, cl = d->cidlen;
	int kl;
	const uint8_t *key = key_bytes(&d->k, &kl);
	ssize_t n;

	ASSERT_EQ(plen + overhead(d->version, d->cipher) + cl, wlen)
		TH_LOG("datagram of %zu bytes for a %zu-byte record", wlen,
		       plen);
	out = malloc(wlen + 16);
	ASSERT_NE(NULL, out);
	rec_nonce(d, epoch, seq, nonce);
	if (d->version == DTLS12) {
		EXPECT_EQ(type, w[0]);
		EXPECT_EQ(0xfe, w[1]);
		EXPECT_EQ(0xfd, w[2]);
		EXPECT_EQ(epoch, get_be(w + 3, 2));
		EXPECT_EQ(seq, get_be(w + 5, 6));
		EXPECT_EQ(wlen - HDR12, get_be(w + 11, 2));
		off = HDR12;
		if (d->cipher != CHACHA) {
			/* The explicit nonce is the record number. */
			EXPECT_EQ((uint64_t)epoch << 48 | seq,
				  get_be(w + HDR12, 8));
			off += 8;
		}
		aad12(aad, w, plen);
		aadlen = 13;
	} else {
		EXPECT_EQ(UH_FIXED | (cl ? UH_CID : 0) | UH_S16 | UH_LEN |
			  (epoch & 3), w[0]);
		EXPECT_EQ(0, memcmp(w + 1, d->cid, cl))
			TH_LOG("not the connection ID of %zu bytes", cl);
		EXPECT_EQ(wlen - HDR13 - cl, get_be(w + cl + 3, 2));
		ASSERT_EQ(0, sn_mask(d, w + HDR13 + cl, mask));
		/* The sequence number on the wire is encrypted... */
		EXPECT_EQ(seq & 0xffff, get_be(w + cl + 1, 2) ^
			  (mask[0] << 8 | mask[1]));
		/* ... and the AAD (the header, CID and all) has it in clear. */
		aadlen = off = HDR13 + cl;
		memcpy(aad, w, aadlen);
		aad[cl + 1] = seq >> 8;
		aad[cl + 2] = seq;
	}
	n = alg_aead(d->cipher, false, key, kl, nonce, aad, aadlen, w + off,
		     wlen - off, out);
	ASSERT_LE(0, n) TH_LOG("record %llu of epoch %u does not open: %s",
			       (unsigned long long)seq, epoch, strerror(-n));
	n -= aadlen;
	if (d->version == DTLS13) {
		/* DTLSInnerPlaintext: content || type, no padding. */
		ASSERT_EQ(plen + 1, n);
		EXPECT_EQ(type, out[aadlen + plen]);
	} else {
		ASSERT_EQ(plen, n);
	}
	if (copy)
		memcpy(copy, out + aadlen, plen);
	else
		EXPECT_EQ(0, memcmp(out + aadlen, pt, plen));
	free(out);
}

/* ------------------------------------------------------------------ */
/* sockets                                                             */

/* A tapsec datagram socket carrying DTLS; -1 on failure. */
static int dtls_socket(int family)
{
	int fd = socket(family, SOCK_DGRAM, IPPROTO_TAPSEC);
	int proto = TAPSEC_PROTO_DTLS;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &proto,
		       sizeof(proto))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Bind @a and @b on loopback and connect each to the other.  0 or -1. */
static int connect_both(int a, int b, int family)
{
	struct sockaddr_storage sa, sb;
	socklen_t la, lb;

	if (tt_bind_loopback(a, family, &sa, &la) ||
	    tt_bind_loopback(b, family, &sb, &lb))
		return -1;
	if (connect(a, (struct sockaddr *)&sb, lb) ||
	    connect(b, (struct sockaddr *)&sa, la))
		return -1;
	return 0;
}

/* A DTLS tapsec socket *@t connected to a plain UDP socket *@u. */
static int dtls_wire_pair(int family, int *t, int *u)
{
	*t = dtls_socket(family);
	*u = socket(family, SOCK_DGRAM, 0);
	if (*t < 0 || *u < 0)
		return -1;
	return connect_both(*t, *u, family);
}

/* Two DTLS tapsec sockets connected to each other. */
static int dtls_pair(int family, int *a, int *b)
{
	*a = dtls_socket(family);
	*b = dtls_socket(family);
	if (*a < 0 || *b < 0)
		return -1;
	return connect_both(*a, *b, family);
}

/*
 * The next datagram or record @fd gives within WAIT_MS, with its type in
 * *@type when @type is set, else its source in *@from when that is set.
 * Its length, or -errno (-ETIMEDOUT: none).
 */
static ssize_t recv_wait_from(int fd, void *buf, size_t len, int *type,
			      int flags, struct sockaddr_storage *from)
{
	uint64_t end = now_ms() + WAIT_MS;
	socklen_t flen;
	int t;

	for (;;) {
		uint64_t now = now_ms();
		ssize_t n;

		if (now >= end || !wait_fd(fd, POLLIN, end - now))
			return -ETIMEDOUT;
		flen = sizeof(*from);
		if (type)
			n = recv_type(fd, SOL_TAPSEC, buf, len, &t,
				      flags | MSG_DONTWAIT);
		else if (from)
			n = recvfrom(fd, buf, len, flags | MSG_DONTWAIT,
				     (struct sockaddr *)from, &flen);
		else
			n = recv(fd, buf, len, flags | MSG_DONTWAIT);
		if (n >= 0) {
			if (type)
				*type = t;
			return n;
		}
		if (errno != EAGAIN)
			return -errno;
	}
}

static ssize_t recv_wait(int fd, void *buf, size_t len, int *type, int flags)
{
	return recv_wait_from(fd, buf, len, type, flags, NULL);
}

/* Nothing (more) to read on @fd after QUIET_MS: EAGAIN. */
#define EXPECT_NOTHING(fd) do {						\
		char __b[64];						\
		usleep(QUIET_MS * 1000);				\
		EXPECT_EQ(-1, recv(fd, __b, sizeof(__b), MSG_DONTWAIT))	\
			TH_LOG("a record came that should not have");	\
		EXPECT_EQ(EAGAIN, errno);				\
	} while (0)

/* Seal @r with @d and send it as one datagram from @fd. */
static void send_rec(struct __test_metadata *_metadata, int fd,
		     const struct dir *d, const struct rec *r)
{
	uint8_t *w = malloc(DGRAM);
	ssize_t n;

	ASSERT_NE(NULL, w);
	n = rec_seal(d, r, w);
	ASSERT_LT(0, n) TH_LOG("AF_ALG: %s", strerror(-n));
	ASSERT_EQ(n, send(fd, w, n, 0)) TH_LOG("send: %s", strerror(errno));
	free(w);
}

/* The next record on @fd is application data: @len bytes of stream(@seed). */
static void expect_data(struct __test_metadata *_metadata, int fd,
			size_t len, unsigned int seed)
{
	uint8_t *buf = malloc(DGRAM);
	ssize_t n;
	int type;

	ASSERT_NE(NULL, buf);
	n = recv_wait(fd, buf, DGRAM, &type, 0);
	ASSERT_EQ((ssize_t)len, n) TH_LOG("recv: %s",
					  n < 0 ? strerror(-n) : "length");
	EXPECT_EQ(T_DATA, type);
	EXPECT_EQ(0, memcmp(buf, stream(seed), len));
	free(buf);
}

/* The next datagram on plain UDP socket @fd, checked as check_record. */
static void expect_wire(struct __test_metadata *_metadata, int fd,
			const struct dir *d, uint8_t type, uint16_t epoch,
			uint64_t seq, const uint8_t *pt, size_t plen)
{
	uint8_t *w = malloc(DGRAM);
	ssize_t n;

	ASSERT_NE(NULL, w);
	n = recv_wait(fd, w, DGRAM, NULL, 0);
	ASSERT_LT(0, n) TH_LOG("no datagram: %s", strerror(-n));
	check_record(_metadata, d, w, n, type, epoch, seq, pt, plen);
	free(w);
}

/* The next datagram on @fd is one such record; its plaintext to @pt. */
static void expect_wire_get(struct __test_metadata *_metadata, int fd,
			    const struct dir *d, uint8_t type, uint16_t epoch,
			    uint64_t seq, uint8_t *pt, size_t plen)
{
	uint8_t *w = malloc(DGRAM);
	ssize_t n;

	ASSERT_NE(NULL, w);
	n = recv_wait(fd, w, DGRAM, NULL, 0);
	ASSERT_LT(0, n) TH_LOG("no datagram: %s", strerror(-n));
	check_record_copy(_metadata, d, w, n, type, epoch, seq, NULL, plen, pt);
	free(w);
}

/* Receive drops by kind. */
struct drops {
	uint64_t tag, record, oversize, replayed, epoch;
};

/* The drops since counters @c0 are exactly @want. */
static void expect_drops(struct __test_metadata *_metadata, int fd,
			 const struct tapsec_counters *c0, struct drops want)
{
	struct tapsec_counters c = tinfo(_metadata, fd).counters;

	EXPECT_EQ(want.tag, c.rx_bad_tag - c0->rx_bad_tag);
	EXPECT_EQ(want.record, c.rx_bad_record - c0->rx_bad_record);
	EXPECT_EQ(want.oversize, c.rx_oversize - c0->rx_oversize);
	EXPECT_EQ(want.replayed, c.rx_replayed - c0->rx_replayed);
	EXPECT_EQ(want.epoch, c.rx_bad_epoch - c0->rx_bad_epoch);
}

static int get_u32_opt(int fd, int opt, uint32_t *v)
{
	socklen_t len = sizeof(*v);

	return getsockopt(fd, SOL_TAPSEC, opt, v, &len);
}

static int set_u32_opt(int fd, int opt, uint32_t v)
{
	return setsockopt(fd, SOL_TAPSEC, opt, &v, sizeof(v));
}

static int max_payload(int fd)
{
	socklen_t len = sizeof(int);
	int v = -1;

	if (getsockopt(fd, SOL_TAPSEC, TAPSEC_MAX_PAYLOAD, &v, &len))
		return -errno;
	return v;
}

static bool have_crypto(void)
{
	uint8_t k[16] = {}, out[16];

	return have_af_alg() && have_alg_hash() &&
	       !alg_encrypt("ecb(aes)", k, 16, NULL, 0, k, 16, out) &&
	       !alg_encrypt("chacha20", pat, 32, k, 16, k, 16, out);
}

#define NEED_CRYPTO() do {						\
		if (!have_crypto())					\
			SKIP(return, "no AF_ALG aead/skcipher/hash");	\
	} while (0)

/* ================================================================== */
/* 0. The record code of this test, against another implementation    */

/*
 * Records computed with Python's "cryptography" package (OpenSSL) and
 * hmac/hashlib, following RFC 6347 4.1 and RFC 9147 4 and 5.9, of an
 * application data payload "tapsec dtls": DTLS 1.2 AES-128-GCM (epoch 1,
 * record 5) and ChaCha20 (2, 0x123456789a) with key 00..1f and IV
 * 20..2b; DTLS 1.3 from traffic secret 00..2f: AES-128-GCM (3, 0x1a2b3c)
 * and ChaCha20 (4, 0x10203) with tapsec's header, AES-256-GCM (7, 0x42)
 * with an 8-bit sequence number and no length; with connection IDs (RFC
 * 9147 9, in the header and the additional data): AES-128-GCM (3,
 * 0x1a2b3c) with c0..c4 and tapsec's header, ChaCha20 (4, 0x10203) with
 * e0..f3 and an 8-bit sequence number.
 */
static const uint8_t kat12_gcm128[48] = {
	0x17, 0xfe, 0xfd, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00,
	0x23, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x75, 0x0d, 0x7d,
	0x5f, 0xdf, 0x96, 0x48, 0x03, 0x56, 0x4a, 0x91, 0x0c, 0x10, 0xf2, 0xa5,
	0x74, 0xdc, 0x24, 0x9e, 0xdc, 0x48, 0x41, 0x94, 0xad, 0x1d, 0xda, 0x2f,
};

static const uint8_t kat12_chacha[40] = {
	0x17, 0xfe, 0xfd, 0x00, 0x02, 0x00, 0x12, 0x34, 0x56, 0x78,
	0x9a, 0x00, 0x1b, 0x7d, 0x9a, 0x0f, 0xbf, 0x59, 0x5d, 0x40,
	0xe8, 0x0b, 0xd8, 0x94, 0x66, 0x4d, 0x31, 0x15, 0x19, 0xd7,
	0x68, 0x32, 0x84, 0xa5, 0x20, 0x06, 0x83, 0xb8, 0x01, 0x7e,
};

static const uint8_t kat13_gcm128[33] = {
	0x2f, 0xe3, 0x87, 0x00, 0x1c, 0xa2, 0xe7, 0xd5, 0x57, 0x83, 0x0a,
	0x93, 0x41, 0x38, 0xb8, 0xd9, 0x73, 0xb1, 0x07, 0xc3, 0x7a, 0x57,
	0xd2, 0xe5, 0xc4, 0xe5, 0x2d, 0xf4, 0x28, 0xcc, 0xa3, 0xdb, 0xd4,
};

static const uint8_t kat13_chacha[33] = {
	0x2c, 0x67, 0xec, 0x00, 0x1c, 0xbb, 0xdc, 0xb2, 0x1e,
	0x82, 0x7c, 0xe2, 0x66, 0x49, 0x48, 0x59, 0x90, 0x8a,
	0xb8, 0x9d, 0x3f, 0xef, 0x36, 0x32, 0x33, 0x32, 0xc6,
	0x84, 0x97, 0x45, 0x6a, 0x22, 0xb1,
};

static const uint8_t kat13_gcm256_short[30] = {
	0x23, 0x21, 0xf1, 0xea, 0xf3, 0x2d, 0x9a, 0x43,
	0x70, 0xd5, 0x78, 0x17, 0x75, 0xc3, 0x97, 0xc7,
	0x0c, 0xa2, 0x70, 0xf9, 0x05, 0xfe, 0x53, 0x0e,
	0xca, 0x6c, 0xba, 0x71, 0x4e, 0x70,
};

static const uint8_t kat13_gcm128_cid[38] = {
	0x3f, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc3, 0x86, 0x00, 0x1c,
	0xa2, 0xe7, 0xd5, 0x57, 0x83, 0x0a, 0x93, 0x41, 0x38, 0xb8,
	0xd9, 0x73, 0xd6, 0x50, 0xf0, 0x74, 0x1b, 0xbc, 0x19, 0xa4,
	0x97, 0x45, 0xb0, 0xf9, 0x50, 0xeb, 0x39, 0x3d,
};

static const uint8_t kat13_chacha_cid_seq8[52] = {
	0x34, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9,
	0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf2, 0xf3, 0x6c,
	0x00, 0x1c, 0xbb, 0xdc, 0xb2, 0x1e, 0x82, 0x7c, 0xe2, 0x66, 0x49,
	0x48, 0x59, 0x90, 0x5f, 0xd1, 0xeb, 0x6b, 0x2f, 0xb5, 0x0b, 0x90,
	0x1d, 0x0d, 0x83, 0x32, 0x05, 0xb4, 0xd8, 0x79,
};

/* @cidlen bytes of connection ID from @cid0 up. */
static void kat_one(struct __test_metadata *_metadata, uint16_t version,
		    uint16_t cipher, uint16_t epoch, uint64_t seq,
		    unsigned int flags, uint8_t cid0, size_t cidlen,
		    const uint8_t *want, size_t wlen)
{
	static const char payload[] = "tapsec dtls";
	uint8_t fixed[48], w[128];
	struct rec r = { .type = T_DATA, .epoch = epoch, .seq = seq,
			 .data = (const uint8_t *)payload, .len = 11,
			 .flags = flags };
	struct dir d;
	int i;

	for (i = 0; i < 48; i++)
		fixed[i] = i;
	ASSERT_EQ(0, dir_make(&d, version, cipher, epoch, seq, fixed));
	for (d.cidlen = 0; d.cidlen < cidlen; d.cidlen++)
		d.cid[d.cidlen] = cid0 + d.cidlen;
	ASSERT_EQ(wlen, rec_seal(&d, &r, w));
	EXPECT_EQ(0, memcmp(w, want, wlen))
		TH_LOG("version %x cipher %u flags %u differs", version,
		       cipher, flags);
	if (version == DTLS13 && !flags) {
		/* check_record reads it back too. */
		check_record(_metadata, &d, w, wlen, T_DATA, epoch, seq,
			     r.data, r.len);
	}
}

TEST(kat_records)
{
	NEED_CRYPTO();
	kat_one(_metadata, DTLS12, GCM128, 1, 5, 0, 0, 0, kat12_gcm128,
		sizeof(kat12_gcm128));
	kat_one(_metadata, DTLS12, CHACHA, 2, 0x123456789aULL, 0, 0, 0,
		kat12_chacha, sizeof(kat12_chacha));
	kat_one(_metadata, DTLS13, GCM128, 3, 0x1a2b3c, 0, 0, 0, kat13_gcm128,
		sizeof(kat13_gcm128));
	kat_one(_metadata, DTLS13, CHACHA, 4, 0x10203, 0, 0, 0, kat13_chacha,
		sizeof(kat13_chacha));
	kat_one(_metadata, DTLS13, GCM256, 7, 0x42, R_SEQ8 | R_NOLEN, 0, 0,
		kat13_gcm256_short, sizeof(kat13_gcm256_short));
	kat_one(_metadata, DTLS13, GCM128, 3, 0x1a2b3c, 0, 0xc0, 5,
		kat13_gcm128_cid, sizeof(kat13_gcm128_cid));
	kat_one(_metadata, DTLS13, CHACHA, 4, 0x10203, R_SEQ8, 0xe0, 20,
		kat13_chacha_cid_seq8, sizeof(kat13_chacha_cid_seq8));
}

/* ================================================================== */
/* 1. Options and their errors                                         */

static int udp_server(int family, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	return tt_plain_server(family, SOCK_DGRAM, ss, len);
}

TEST(protocol_option)
{
	struct sockaddr_storage ss, me;
	socklen_t len, mlen;
	int fd, srv, v = -1, other = TAPSEC_PROTO_NONE;

	srv = udp_server(AF_INET, &ss, &len);
	ASSERT_LE(0, srv);
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, fd);
	mlen = sizeof(v);
	ASSERT_EQ(0, getsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &v, &mlen));
	EXPECT_EQ(TAPSEC_PROTO_NONE, v);
	v = TAPSEC_PROTO_DTLS;
	ASSERT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &v,
				sizeof(v)));
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&ss, len));
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &other,
				 sizeof(other)));
	EXPECT_EQ(EISCONN, errno);
	v = -1;
	mlen = sizeof(v);
	ASSERT_EQ(0, getsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &v, &mlen));
	EXPECT_EQ(TAPSEC_PROTO_DTLS, v);
	EXPECT_EQ(TAPSEC_PROTO_DTLS, tinfo(_metadata, fd).protocol);
	close(fd);

	/* Bound is as late as connected. */
	fd = dtls_socket(AF_INET6);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tt_bind_loopback(fd, AF_INET6, &me, &mlen));
	EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL, &other,
				 sizeof(other)));
	EXPECT_EQ(EISCONN, errno);
	close(fd);
	close(srv);
}

TEST(key_needs_connect)
{
	struct sockaddr_storage me;
	socklen_t mlen;
	int fd, bound, dir;
	struct key k;

	key_make(&k, DTLS12, GCM128, 1ULL << 48);
	fd = dtls_socket(AF_INET);
	ASSERT_LE(0, fd);
	for (bound = 0; bound < 2; bound++) {
		/* A fresh socket, then a bound one. */
		if (bound)
			ASSERT_EQ(0, tt_bind_loopback(fd, AF_INET, &me, &mlen));
		for (dir = TAPSEC_TX; dir <= TAPSEC_RX; dir++) {
			EXPECT_EQ(-1, tapsec_key(fd, dir, &k));
			EXPECT_EQ(ENOTCONN, errno);
		}
	}
	close(fd);
}

TEST(key_versions)
{
	static const uint16_t tls[] = { TAPSEC_TLS_1_2_VERSION,
					TAPSEC_TLS_1_3_VERSION, 0, 0xfeff };
	struct key k;
	int t, u, i;

	ASSERT_EQ(0, dtls_wire_pair(AF_INET, &t, &u))
		TH_LOG("DTLS socket: %s", strerror(errno));
	for (i = 0; i < 4; i++) {
		key_make(&k, tls[i], GCM128, 1ULL << 48);
		EXPECT_EQ(-1, tapsec_key(t, TAPSEC_TX, &k));
		EXPECT_EQ(EINVAL, errno) TH_LOG("version %#x", tls[i]);
		EXPECT_EQ(-1, tapsec_key(t, TAPSEC_RX, &k));
		EXPECT_EQ(EINVAL, errno);
	}
	EXPECT_EQ(0, tinfo(_metadata, t).tx_version);
	key_make(&k, DTLS12, GCM128, 1ULL << 48);
	EXPECT_EQ(0, tapsec_key(t, TAPSEC_TX, &k));
	EXPECT_EQ(DTLS12, tinfo(_metadata, t).tx_version);
	key_make(&k, DTLS13, CHACHA, 3ULL << 48);
	EXPECT_EQ(0, tapsec_key(t, TAPSEC_RX, &k));
	EXPECT_EQ(DTLS13, tinfo(_metadata, t).rx_version);
	EXPECT_EQ(CHACHA, tinfo(_metadata, t).rx_cipher);
	close(t);
	close(u);
}

TEST(dtls_version_on_stream)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct key k;
	int srv, fd, peer;

	srv = tt_plain_server(AF_INET, SOCK_STREAM, &ss, &len);
	ASSERT_LE(0, srv);
	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&ss, len));
	peer = accept(srv, NULL, NULL);
	ASSERT_LE(0, peer);
	key_make(&k, DTLS12, GCM128, 0);
	EXPECT_EQ(-1, tapsec_key(fd, TAPSEC_TX, &k));
	EXPECT_EQ(EINVAL, errno);
	key_make(&k, DTLS13, GCM256, 0);
	EXPECT_EQ(-1, tapsec_key(fd, TAPSEC_RX, &k));
	EXPECT_EQ(EINVAL, errno);
	/* The TLS versions still work there. */
	key_make(&k, TAPSEC_TLS_1_3_VERSION, GCM256, 0);
	EXPECT_EQ(0, tapsec_key(fd, TAPSEC_TX, &k));
	close(peer);
	close(fd);
	close(srv);
}

TEST(nokey)
{
	char buf[16];
	struct dir d;
	int t, u;

	ASSERT_EQ(0, dtls_wire_pair(AF_INET, &t, &u))
		TH_LOG("DTLS socket: %s", strerror(errno));
	EXPECT_EQ(-1, send(t, "x", 1, 0));
	EXPECT_EQ(ENOKEY, errno);
	EXPECT_EQ(-1, recv(t, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(ENOKEY, errno);
	EXPECT_EQ(-ENOKEY, max_payload(t));
	/* A receive key is not a transmit key. */
	ASSERT_EQ(0, dir_make(&d, DTLS12, GCM128, 1, 0, NULL));
	ASSERT_EQ(0, dir_install(t, false, &d));
	EXPECT_EQ(-1, send(t, "x", 1, 0));
	EXPECT_EQ(ENOKEY, errno);
	EXPECT_EQ(-ENOKEY, max_payload(t));
	/* Without a transmit key, close() has nothing to send. */
	close(t);
	usleep(300 * 1000);
	EXPECT_NOTHING(u);
	close(u);
}

/*
 * DTLS 1.3 needs the traffic secret of each direction (for sn_key): data
 * calls fail with ENOKEY until it is there.
 */
TEST(dtls13_needs_secret)
{
	struct dir ab;
	char buf[16];
	ssize_t n;
	int a, b;

	NEED_CRYPTO();
	ASSERT_EQ(0, dtls_pair(AF_INET, &a, &b));
	ASSERT_EQ(0, dir_make(&ab, DTLS13, GCM128, 3, 0, NULL));
	ASSERT_EQ(0, tapsec_key(a, TAPSEC_TX, &ab.k));
	ASSERT_EQ(0, tapsec_key(b, TAPSEC_RX, &ab.k));
	EXPECT_EQ(-1, send(a, "x", 1, 0));
	EXPECT_EQ(ENOKEY, errno);
	EXPECT_EQ(-1, recv(b, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(ENOKEY, errno) TH_LOG("recv, nothing queued: %s",
					strerror(errno));
	ASSERT_EQ(0, set_secret(a, TAPSEC_TX_SECRET, GCM128, ab.secret));
	ASSERT_EQ(3, send(a, "abc", 3, 0));
	usleep(QUIET_MS * 1000);
	EXPECT_EQ(-1, recv(b, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(ENOKEY, errno) TH_LOG("recv, a record queued: %s",
					strerror(errno));
	ASSERT_EQ(0, set_secret(b, TAPSEC_RX_SECRET, GCM128, ab.secret));
	ASSERT_EQ(4, send(a, "defg", 4, 0));
	/* The first record may have waited for the secret, or not. */
	n = recv_wait(b, buf, sizeof(buf), NULL, 0);
	if (n == 3) {
		EXPECT_EQ(0, memcmp(buf, "abc", 3));
		n = recv_wait(b, buf, sizeof(buf), NULL, 0);
	}
	ASSERT_EQ(4, n);
	EXPECT_EQ(0, memcmp(buf, "defg", 4));
	close(a);
	close(b);
}

/* The u32 options: their default, values refused, values kept. */
static const struct {
	int opt;
	uint32_t def, bad[4], good[3];
} u32_opts[] = {
	{ TAPSEC_REPLAY_WINDOW, TAPSEC_REPLAY_WINDOW_DEFAULT,
	  { 0, TAPSEC_REPLAY_WINDOW_MIN - 1, TAPSEC_REPLAY_WINDOW_MAX + 1,
	    0xffffffff },
	  { TAPSEC_REPLAY_WINDOW_MIN, TAPSEC_REPLAY_WINDOW_MAX, 1000 } },
	{ TAPSEC_EPOCH_GRACE, TAPSEC_EPOCH_GRACE_DEFAULT,
	  { TAPSEC_EPOCH_GRACE_MAX + 1, 1000000, 0x80000000, 0xffffffff },
	  { TAPSEC_EPOCH_GRACE_MAX, 0, 200 } },
};

/*
 * A ClientHello from @fd, DTLS 1.2, record @rseq, with @cookie (@clen
 * bytes) and client random @random.
 */
static void send_hello(struct __test_metadata *_metadata, int fd,
		       uint64_t rseq, const uint8_t *random,
		       const uint8_t *cookie, size_t clen)
{
	uint8_t d[256], *b = d + 13 + 12;
	size_t blen = 0, i;

	b[blen++] = 0xfe;
	b[blen++] = 0xfd;
	memcpy(b + blen, random, 32);
	blen += 32;
	b[blen++] = 0;				/* session_id */
	b[blen++] = clen;
	memcpy(b + blen, cookie, clen);
	blen += clen;
	memcpy(b + blen, "\x00\x02\xc0\x2b\x01\x00", 6);
	blen += 6;
	d[13] = 1;				/* client_hello */
	for (i = 0; i < 3; i++) {
		d[14 + i] = blen >> (16 - 8 * i);	/* length */
		d[19 + i] = 0;				/* fragment_offset */
		d[22 + i] = blen >> (16 - 8 * i);	/* fragment_length */
	}
	d[17] = d[18] = 0;			/* message_seq */
	d[0] = T_HANDSHAKE;
	d[1] = 0xfe;
	d[2] = 0xfd;
	put_be64(d + 3, rseq);			/* epoch 0 */
	d[11] = (12 + blen) >> 8;
	d[12] = 12 + blen;
	ASSERT_EQ((ssize_t)(25 + blen), send(fd, d, 25 + blen, 0));
}

/*
 * A DTLS listener without a daemon: listen()/accept() errors; garbage is
 * dropped; a ClientHello without a cookie gets a HelloVerifyRequest (RFC
 * 6347 4.2.1, byte by byte) and makes no socket; with its cookie it makes
 * one, connected to the client; the same ClientHello again is dropped.
 */
TEST(listener_cookies)
{
	struct sockaddr_storage ss, peer, cli;
	socklen_t len = sizeof(ss), plen = sizeof(peer), clen = sizeof(cli);
	uint8_t random[32], hvr[128], cookie[16];
	int lfd, cfd, afd, plain, v = TAPSEC_PROTO_DTLS, fl;
	long socks;
	ssize_t n;

	/*
	 * A namespace of its own, whose socket count is this test's: sockets
	 * earlier tests closed may still be waiting for their RCU-deferred
	 * free, and leave the count under this test's feet.
	 */
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, system("ip link set lo up"));
	plain = socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, plain);
	EXPECT_EQ(-1, listen(plain, 1));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, accept(plain, NULL, NULL));
	EXPECT_EQ(EOPNOTSUPP, errno);
	close(plain);

	lfd = socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, setsockopt(lfd, SOL_TAPSEC, TAPSEC_PROTOCOL, &v,
				sizeof(v)));
	EXPECT_EQ(-1, listen(lfd, 1));		/* not bound */
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, tt_bind_loopback(lfd, AF_INET, &ss, &len));
	EXPECT_EQ(-1, accept(lfd, NULL, NULL));	/* not listening */
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, listen(lfd, 1));
	fl = fcntl(lfd, F_GETFL);
	ASSERT_EQ(0, fcntl(lfd, F_SETFL, fl | O_NONBLOCK));
	EXPECT_EQ(-1, accept(lfd, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);

	cfd = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect(cfd, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, getsockname(cfd, (struct sockaddr *)&cli, &clen));
	socks = live_sockets();

	ASSERT_EQ(7, send(cfd, "garbage", 7, 0));
	usleep(QUIET_MS * 1000);
	EXPECT_EQ(-1, accept(lfd, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, CNT(lfd, rx_bad_record));

	fill_random(random, sizeof(random));
	send_hello(_metadata, cfd, 7, random, NULL, 0);
	usleep(QUIET_MS * 1000);
	EXPECT_EQ(-1, accept(lfd, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	n = recv_wait(cfd, hvr, sizeof(hvr), NULL, 0);
	ASSERT_EQ(13 + 12 + 3 + 16, n);
	EXPECT_EQ(T_HANDSHAKE, hvr[0]);
	EXPECT_EQ(0xfe, hvr[1]);		/* DTLS 1.0, as 4.2.1 asks */
	EXPECT_EQ(0xff, hvr[2]);
	EXPECT_EQ(7, get_be(hvr + 3, 8));	/* epoch 0, the hello's number */
	EXPECT_EQ(12 + 3 + 16, get_be(hvr + 11, 2));
	EXPECT_EQ(3, hvr[13]);			/* hello_verify_request */
	EXPECT_EQ(3 + 16, get_be(hvr + 14, 3));
	EXPECT_EQ(0, get_be(hvr + 17, 2));	/* message_seq */
	EXPECT_EQ(0, get_be(hvr + 19, 3));
	EXPECT_EQ(3 + 16, get_be(hvr + 22, 3));
	EXPECT_EQ(0xfeff, get_be(hvr + 25, 2));
	EXPECT_EQ(16, hvr[27]);
	memcpy(cookie, hvr + 28, sizeof(cookie));
	EXPECT_EQ(1, CNT(lfd, tx_cookies));
	EXPECT_EQ(socks, live_sockets());

	/* A wrong cookie: counted, answered, nothing made. */
	cookie[0] ^= 1;
	send_hello(_metadata, cfd, 8, random, cookie, sizeof(cookie));
	usleep(QUIET_MS * 1000);
	EXPECT_EQ(-1, accept(lfd, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, CNT(lfd, rx_bad_cookie));
	EXPECT_EQ(2, CNT(lfd, tx_cookies));
	ASSERT_LT(0, recv_wait(cfd, hvr, sizeof(hvr), NULL, 0));
	cookie[0] ^= 1;

	/* The right one, twice: one socket, connected to the client. */
	send_hello(_metadata, cfd, 9, random, cookie, sizeof(cookie));
	send_hello(_metadata, cfd, 10, random, cookie, sizeof(cookie));
	usleep(QUIET_MS * 1000);
	afd = accept(lfd, (struct sockaddr *)&peer, &plen);
	ASSERT_LE(0, afd) TH_LOG("accept: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(&((struct sockaddr_in *)&peer)->sin_port,
			    &((struct sockaddr_in *)&cli)->sin_port, 2));
	EXPECT_EQ(TAPSEC_ORIGIN_ACCEPT, tinfo(_metadata, afd).origin);
	plen = sizeof(peer);
	ASSERT_EQ(0, getpeername(afd, (struct sockaddr *)&peer, &plen));
	EXPECT_EQ(0, memcmp(&((struct sockaddr_in *)&peer)->sin_port,
			    &((struct sockaddr_in *)&cli)->sin_port, 2));
	EXPECT_EQ(-1, accept(lfd, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, CNT(lfd, rx_replayed));
	EXPECT_EQ(socks + 1, live_sockets());
	close(afd);
	close(cfd);
	close(lfd);
}

/*
 * Until what was sent to @fd is all in its queue (loopback delivers
 * in softirq, which a loaded machine may defer to ksoftirqd): its
 * receive memory unchanged over 30 ms, 2 s at most.
 */
static void settle_queue(int fd)
{
	uint32_t mem[SK_MEMINFO_VARS], last = ~0u;
	socklen_t len;
	int i;

	for (i = 0; i < 200; i++) {
		len = sizeof(mem);
		if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len))
			return;
		if (mem[SK_MEMINFO_RMEM_ALLOC] == last)
			return;
		last = mem[SK_MEMINFO_RMEM_ALLOC];
		usleep(30000);
	}
}

/*
 * A flood of ClientHellos without a cookie cannot keep an accept() that
 * may not wait: it answers TAPSEC_DGRAM_DROP_BUDGET (64) of them and says
 * EAGAIN; the next accept() goes on with the rest.
 */
TEST(listener_flood_ends_a_nonblocking_accept)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int lfd, cfd, v = TAPSEC_PROTO_DTLS, i;
	uint8_t random[32];

	lfd = socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, setsockopt(lfd, SOL_TAPSEC, TAPSEC_PROTOCOL, &v,
				sizeof(v)));
	ASSERT_EQ(0, tt_bind_loopback(lfd, AF_INET, &ss, &len));
	ASSERT_EQ(0, listen(lfd, 1));
	ASSERT_EQ(0, fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK));
	cfd = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect(cfd, (struct sockaddr *)&ss, len));
	fill_random(random, sizeof(random));
	for (i = 0; i < 100; i++)
		send_hello(_metadata, cfd, i, random, NULL, 0);
	settle_queue(lfd);
	EXPECT_EQ(-1, accept(lfd, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(64, CNT(lfd, tx_cookies));
	EXPECT_EQ(-1, accept(lfd, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(100, CNT(lfd, tx_cookies));
	close(cfd);
	close(lfd);
}

/* ------------------------------------------------------------------ */
/* a flood of bad records                                              */

/* Write @val to /proc/sys/kernel/watchdog_thresh; the old value, or -1. */
static int watchdog_thresh(int val)
{
	char buf[16];
	int fd, old = -1;
	ssize_t n;

	fd = open("/proc/sys/kernel/watchdog_thresh", O_RDWR);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		old = atoi(buf);
		n = snprintf(buf, sizeof(buf), "%d\n", val);
		if (pwrite(fd, buf, n, 0) != n)
			old = -1;
	}
	close(fd);
	return old;
}

/*
 * Send @count full-size DTLS 1.2 records of epoch 1 that fail
 * authentication, numbered from @seq, from @u; -1 if a send failed.
 */
static int send_bad_records(int u, int count, uint64_t seq)
{
	static uint8_t rec[HDR12 + 8 + MAX_PLAIN + TAG];
	int i;

	fill_random(rec, sizeof(rec));
	rec[0] = T_DATA;
	rec[1] = 0xfe;
	rec[2] = 0xfd;
	rec[11] = (sizeof(rec) - HDR12) >> 8;
	rec[12] = (sizeof(rec) - HDR12) & 0xff;
	for (i = 0; i < count; i++) {
		put_be64(rec + 3, 1ULL << 48 | (seq + i));
		if (send(u, rec, sizeof(rec), 0) != sizeof(rec))
			return -1;
	}
	return 0;
}

/*
 * A DTLS 1.2 pair for a flood: @t receives with @d's key (epoch 1), from
 * @u, a raw UDP socket; @t's queue takes 256 MB.
 */
static void flood_pair(struct __test_metadata *_metadata, int *t, int *u,
		       struct dir *d)
{
	int big = 256 << 20;

	ASSERT_EQ(0, dtls_wire_pair(AF_INET, t, u));
	ASSERT_EQ(0, dir_make(d, DTLS12, GCM128, 1, 0, NULL));
	ASSERT_EQ(0, dir_install(*t, false, d));
	ASSERT_EQ(0, setsockopt(*t, SOL_SOCKET, SO_RCVBUFFORCE, &big,
				sizeof(big)));
}

/*
 * Queue @count full-size records that fail authentication on @t, from
 * @u, then a good one (record @seq of epoch 1); one blocking read must
 * drop them all and return the good one.  Returns how long it took, in
 * ms.
 */
static uint64_t flood_round(struct __test_metadata *_metadata, int t, int u,
			    const struct dir *d, int count, uint64_t seq)
{
	static uint8_t buf[DGRAM];
	struct rec r = data_rec(1, seq + count, 100, 7);
	uint64_t start, bad = CNT(t, rx_bad_tag);
	ssize_t n;

	if (send_bad_records(u, count, seq))
		return 0;
	send_rec(_metadata, u, d, &r);
	start = now_ms();
	n = recv(t, buf, sizeof(buf), 0);
	start = now_ms() - start;
	EXPECT_EQ(100, n) TH_LOG("recv: %s", n < 0 ? strerror(errno) : "short");
	EXPECT_EQ(0, memcmp(buf, stream(7), 100));
	/* UDP itself drops what its memory limits do not let it queue. */
	bad = CNT(t, rx_bad_tag) - bad;
	EXPECT_LT(0, bad);
	EXPECT_GE(count, bad);
	return start;
}

/*
 * A reader under a flood of records that fail authentication drops one
 * after the other without sleeping, for as long as they keep coming: it
 * must let others run.  The socket's queue holds seconds' worth of such
 * records (sized after a first, short round) before the reader starts;
 * the soft lockup detector, set to report after two seconds, watches.
 */
TEST(flood_bad_records)
{
	int t, u, old, count;
	uint64_t ms;
	struct dir d;

	NEED_CRYPTO();
	flood_pair(_metadata, &t, &u, &d);
	ms = flood_round(_metadata, t, u, &d, 200, 100);
	count = ms ? 3000 * 200 / ms : 8000;
	count = count < 200 ? 200 : count > 8000 ? 8000 : count;
	old = watchdog_thresh(1);
	ms = flood_round(_metadata, t, u, &d, count, 1000);
	if (old > 0)
		watchdog_thresh(old);
	TH_LOG("%d bad records dropped in one read of %llu ms", count,
	       (unsigned long long)ms);
	close(t);
	close(u);
}

/*
 * A flood of bad records cannot keep a read that may not wait: it drops
 * TAPSEC_DGRAM_DROP_BUDGET (64) of them and says EAGAIN; the next read
 * goes on through the rest to the good record behind them.  Records are
 * still queued after that EAGAIN, so the socket is woken again: an
 * edge-triggered epoll reader gets a new event.
 */
TEST(flood_ends_a_nonblocking_read)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	struct rec r = data_rec(1, 200, 100, 7);
	uint8_t buf[DGRAM];
	struct dir d;
	int t, u, ep;

	NEED_CRYPTO();
	flood_pair(_metadata, &t, &u, &d);
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev));
	ASSERT_EQ(0, send_bad_records(u, 100, 100));
	send_rec(_metadata, u, &d, &r);
	settle_queue(t);
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 5000));
	EXPECT_EQ(-1, recv(t, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(64, CNT(t, rx_bad_tag));
	/* EAGAIN with records queued: a new edge, at once. */
	EXPECT_EQ(1, epoll_wait(ep, &ev, 1, 0));
	EXPECT_EQ(100, recv(t, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(100, CNT(t, rx_bad_tag));
	close(ep);
	close(t);
	close(u);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * A signal ends a blocking read that is dropping a flood of bad records
 * (EINTR: the handler has no SA_RESTART) while the flood goes on, instead
 * of when it ends.  A child sends bad records without a pause (opening
 * one costs the reader an AEAD pass; sending it costs the child a copy),
 * for 30 s unless killed; the signal comes 20 ms into the read.  Then
 * the rest of the queue and a good record behind it are for the next
 * read.
 */
TEST(flood_read_ends_on_a_signal)
{
	struct itimerval it = { .it_value = { .tv_usec = 20000 } };
	struct sigaction sa = { .sa_handler = on_alarm };
	struct rec r = data_rec(1, 1, 100, 9);
	uint8_t buf[DGRAM];
	int t, u, status;
	uint64_t bad;
	struct dir d;
	pid_t child;

	NEED_CRYPTO();
	flood_pair(_metadata, &t, &u, &d);
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		uint64_t end = now_ms() + 30000, seq = 1000;

		while (now_ms() < end) {
			if (send_bad_records(u, 100, seq))
				usleep(1000);
			seq += 100;
		}
		_exit(0);
	}
	ASSERT_EQ(POLLIN, wait_fd(t, POLLIN, 5000) & POLLIN);
	bad = CNT(t, rx_bad_tag);
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-1, recv(t, buf, sizeof(buf), 0));
	EXPECT_EQ(EINTR, errno);
	/* The flood was still on: the child had not finished. */
	EXPECT_EQ(0, waitpid(child, &status, WNOHANG));
	kill(child, SIGKILL);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	bad = CNT(t, rx_bad_tag) - bad;
	TH_LOG("%llu bad records dropped before the signal",
	       (unsigned long long)bad);
	EXPECT_LT(0, bad);
	send_rec(_metadata, u, &d, &r);
	EXPECT_EQ(100, recv(t, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, stream(9), 100));
	close(t);
	close(u);
}

/*
 * Any DTLS 1.3 socket answers a path_challenge (TAPSEC_PATH_CHECK of its
 * peer) with a path_response carrying the cookie; its reader sees
 * nothing of either.
 */
TEST(path_challenge_answered)
{
	uint8_t body[10] = { 0, 8, 1, 2, 3, 4, 5, 6, 7, 8 }, got[10];
	struct dir in, out;
	struct rec r;
	int t, u;

	NEED_CRYPTO();
	ASSERT_EQ(0, dtls_wire_pair(AF_INET, &t, &u));
	ASSERT_EQ(0, dir_make(&in, DTLS13, GCM128, 3, 0, NULL));
	ASSERT_EQ(0, dir_make(&out, DTLS13, GCM128, 3, 0, NULL));
	ASSERT_EQ(0, dir_install(t, false, &in));
	ASSERT_EQ(0, dir_install(t, true, &out));
	r = (struct rec){ .type = T_RRC, .epoch = 3, .seq = 0, .data = body,
			  .len = sizeof(body) };
	send_rec(_metadata, u, &in, &r);
	EXPECT_NOTHING(t);
	expect_wire_get(_metadata, u, &out, T_RRC, 3, 0, got, sizeof(got));
	EXPECT_EQ(1, got[0]);		/* path_response */
	EXPECT_EQ(8, got[1]);
	EXPECT_EQ(0, memcmp(got + 2, body + 2, 8));
	close(t);
	close(u);
}

TEST(window_and_grace_options)
{
	uint32_t v;
	int fd, i, j;

	fd = dtls_socket(AF_INET);
	ASSERT_LE(0, fd);
	for (i = 0; i < (int)ARRAY_SIZE(u32_opts); i++) {
		int opt = u32_opts[i].opt;

		v = 0;
		ASSERT_EQ(0, get_u32_opt(fd, opt, &v));
		EXPECT_EQ(u32_opts[i].def, v) TH_LOG("option %d", opt);
		for (j = 0; j < 4; j++) {
			EXPECT_EQ(-1, set_u32_opt(fd, opt, u32_opts[i].bad[j]));
			EXPECT_EQ(EINVAL, errno)
				TH_LOG("option %d = %u", opt,
				       u32_opts[i].bad[j]);
		}
		for (j = 0; j < 3; j++) {
			ASSERT_EQ(0, set_u32_opt(fd, opt, u32_opts[i].good[j]))
				TH_LOG("option %d = %u: %s", opt,
				       u32_opts[i].good[j], strerror(errno));
			ASSERT_EQ(0, get_u32_opt(fd, opt, &v));
			EXPECT_EQ(u32_opts[i].good[j], v);
		}
	}
	close(fd);
}

/* ================================================================== */
/* 2-9. One tapsec socket and the wire                                 */

FIXTURE(wire) {
	int tfd;		/* tapsec */
	int wfd;		/* plain UDP: the wire */
	struct dir out;		/* tapsec to the wire */
	struct dir in;		/* the wire to tapsec */
	uint64_t next;		/* next number the wire uses in @in */
};

/*
 * Both fixtures run with every version and cipher over IPv4, and with one
 * of each version over IPv6.
 */
#define DTLS_VARIANTS(f)						\
	FIXTURE_VARIANT(f) {						\
		uint16_t version;					\
		uint16_t cipher;					\
		int family;						\
	};								\
	FIXTURE_VARIANT_ADD(f, dtls12_aes128) { DTLS12, GCM128, AF_INET }; \
	FIXTURE_VARIANT_ADD(f, dtls12_aes256) { DTLS12, GCM256, AF_INET }; \
	FIXTURE_VARIANT_ADD(f, dtls12_chacha20) { DTLS12, CHACHA, AF_INET }; \
	FIXTURE_VARIANT_ADD(f, dtls13_aes128) { DTLS13, GCM128, AF_INET }; \
	FIXTURE_VARIANT_ADD(f, dtls13_aes256) { DTLS13, GCM256, AF_INET }; \
	FIXTURE_VARIANT_ADD(f, dtls13_chacha20) { DTLS13, CHACHA, AF_INET }; \
	FIXTURE_VARIANT_ADD(f, dtls12_aes128_ipv6) {			\
		DTLS12, GCM128, AF_INET6 };				\
	FIXTURE_VARIANT_ADD(f, dtls13_chacha20_ipv6) {			\
		DTLS13, CHACHA, AF_INET6 }

DTLS_VARIANTS(wire);

/* A random first sequence number, well away from 0 and from 2^48. */
static uint64_t random_seq(void)
{
	uint64_t s;

	fill_random(&s, sizeof(s));
	return 100000 + (s >> 24);
}

/*
 * (Re)open the pair: tapsec's transmit key starts at @out_seq, its
 * receive key at @in_seq, both in the first epoch.
 */
static void wire_open(struct __test_metadata *_metadata,
		      FIXTURE_DATA(wire) *self,
		      const FIXTURE_VARIANT(wire) *variant,
		      uint64_t out_seq, uint64_t in_seq)
{
	uint16_t e = first_epoch(variant->version);

	close_fd(&self->tfd);
	close_fd(&self->wfd);
	ASSERT_EQ(0, dtls_wire_pair(variant->family, &self->tfd, &self->wfd))
		TH_LOG("DTLS socket: %s", strerror(errno));
	ASSERT_EQ(0, dir_make(&self->out, variant->version, variant->cipher,
			      e, out_seq, NULL));
	ASSERT_EQ(0, dir_make(&self->in, variant->version, variant->cipher,
			      e, in_seq, NULL));
	ASSERT_EQ(0, dir_install(self->tfd, true, &self->out))
		TH_LOG("TAPSEC_TX: %s", strerror(errno));
	ASSERT_EQ(0, dir_install(self->tfd, false, &self->in))
		TH_LOG("TAPSEC_RX: %s", strerror(errno));
	self->next = in_seq;
}

FIXTURE_SETUP(wire)
{
	self->tfd = self->wfd = -1;
	/* Not SKIP: the 6.1 harness runs the test after SKIP() in setup. */
	ASSERT_TRUE(have_crypto()) TH_LOG("no AF_ALG aead/skcipher/hash");
	wire_open(_metadata, self, variant, random_seq(), random_seq());
}

FIXTURE_TEARDOWN(wire)
{
	close_fd(&self->tfd);
	close_fd(&self->wfd);
}

#define IS13	(variant->version == DTLS13)

/* The wire sends data record in.seq + @off (@len bytes of stream(@seed)). */
#define WIRE_SEND(off, len, seed) do {					\
		struct rec __r = data_rec(self->in.epoch,		\
					  self->in.seq + (off), len, seed); \
		send_rec(_metadata, self->wfd, &self->in, &__r);	\
	} while (0)

/* Tapsec gives the record WIRE_SEND(_, len, seed) sent. */
#define EXPECT_DATA(len, seed) expect_data(_metadata, self->tfd, len, seed)

/* The wire sends the next record and tapsec gives it. */
#define GOOD_RECORD(len, seed) do {					\
		WIRE_SEND(self->next - self->in.seq, len, seed);	\
		self->next++;						\
		EXPECT_DATA(len, seed);					\
	} while (0)

static const size_t sizes[] = { 1, 0, 13, 16, 100, 1000, 1500, 4000,
				MAX_PLAIN - 1, MAX_PLAIN };
#define NSIZES	((int)ARRAY_SIZE(sizes))

/* 2, 3. What tapsec sends, byte by byte; the sequence counts up. */
TEST_F(wire, tx_records)
{
	struct tapsec_sock_info info;
	const uint8_t *kb;
	uint64_t bytes = 0;
	struct key got;
	socklen_t len;
	int i, kl;

	for (i = 0; i < NSIZES; i++) {
		ASSERT_EQ(sizes[i], send(self->tfd, stream(i), sizes[i], 0))
			TH_LOG("send %zu: %s", sizes[i], strerror(errno));
		expect_wire(_metadata, self->wfd, &self->out, T_DATA,
			    self->out.epoch, self->out.seq + i, stream(i),
			    sizes[i]);
		bytes += sizes[i];
	}
	info = tinfo(_metadata, self->tfd);
	EXPECT_EQ(NSIZES, info.counters.tx_records);
	EXPECT_EQ(bytes, info.counters.tx_bytes);
	EXPECT_EQ(variant->version, info.tx_version);
	EXPECT_EQ(variant->cipher, info.tx_cipher);
	/* Read back: no key, the next record number. */
	got = self->out.k;
	len = got.len;
	ASSERT_EQ(0, getsockopt(self->tfd, SOL_TAPSEC, TAPSEC_TX, &got.ci,
				&len));
	EXPECT_EQ(self->out.k.len, len);
	EXPECT_EQ((uint64_t)self->out.epoch << 48 | (self->out.seq + NSIZES),
		  key_get_seq(&got));
	kb = key_bytes(&got, &kl);
	for (i = 0; i < kl; i++)
		EXPECT_EQ(0, kb[i]) TH_LOG("key byte %d", i);
	EXPECT_NOTHING(self->wfd);
}

/* Other content types, with the SET_RECORD_TYPE cmsg. */
TEST_F(wire, tx_record_type)
{
	ASSERT_EQ(40, send_type(self->tfd, SOL_TAPSEC, T_HANDSHAKE, stream(1),
				40, 0));
	expect_wire(_metadata, self->wfd, &self->out, T_HANDSHAKE,
		    self->out.epoch, self->out.seq, stream(1), 40);
	ASSERT_EQ(2, send_type(self->tfd, SOL_TAPSEC, T_ALERT, "\x01\x2a", 2,
			       0));
	expect_wire(_metadata, self->wfd, &self->out, T_ALERT,
		    self->out.epoch, self->out.seq + 1,
		    (const uint8_t *)"\x01\x2a", 2);
	ASSERT_EQ(5, send(self->tfd, stream(2), 5, 0));
	expect_wire(_metadata, self->wfd, &self->out, T_DATA,
		    self->out.epoch, self->out.seq + 2, stream(2), 5);
}

/* One sendmsg of several pieces is one record; a read may scatter it. */
TEST_F(wire, iovecs)
{
	uint8_t a[100], b[100], c[100];
	struct iovec out[3] = {
		{ .iov_base = (void *)stream(1), .iov_len = 10 },
		{ .iov_base = (void *)(stream(1) + 10), .iov_len = 0 },
		{ .iov_base = (void *)(stream(1) + 10), .iov_len = 290 },
	};
	struct iovec in[3] = {
		{ .iov_base = a, .iov_len = 10 },
		{ .iov_base = b, .iov_len = 20 },
		{ .iov_base = c, .iov_len = 100 },
	};
	struct msghdr msg = { .msg_iov = out, .msg_iovlen = 3 };

	ASSERT_EQ(300, sendmsg(self->tfd, &msg, 0));
	expect_wire(_metadata, self->wfd, &self->out, T_DATA,
		    self->out.epoch, self->out.seq, stream(1), 300);
	EXPECT_EQ(1, CNT(self->tfd, tx_records));

	WIRE_SEND(0, 100, 2);
	ASSERT_NE(0, wait_fd(self->tfd, POLLIN, WAIT_MS));
	msg.msg_iov = in;
	ASSERT_EQ(100, recvmsg(self->tfd, &msg, 0));
	EXPECT_EQ(0, msg.msg_flags & MSG_TRUNC);
	EXPECT_EQ(0, memcmp(a, stream(2), 10));
	EXPECT_EQ(0, memcmp(b, stream(2) + 10, 20));
	EXPECT_EQ(0, memcmp(c, stream(2) + 30, 70));
}

/* 2, 3. Records sealed here come out as plaintext, one per recv. */
TEST_F(wire, rx_records)
{
	struct tapsec_sock_info info;
	uint64_t bytes = 0;
	struct key got;
	socklen_t len;
	int i;

	for (i = 0; i < NSIZES; i++) {
		WIRE_SEND(i, sizes[i], 10 + i);
		EXPECT_DATA(sizes[i], 10 + i);
		bytes += sizes[i];
	}
	/* Several queued before the first read. */
	for (i = 0; i < 5; i++)
		WIRE_SEND(NSIZES + i, 100 + i, 30 + i);
	for (i = 0; i < 5; i++)
		EXPECT_DATA(100 + i, 30 + i);
	info = tinfo(_metadata, self->tfd);
	EXPECT_EQ(NSIZES + 5, info.counters.rx_records);
	EXPECT_EQ(bytes + 5 * 100 + 10, info.counters.rx_bytes);
	EXPECT_EQ(variant->version, info.rx_version);
	EXPECT_EQ(0, info.counters.rx_bad_tag);
	EXPECT_EQ(0, info.counters.rx_bad_record);
	got = self->in.k;
	len = got.len;
	ASSERT_EQ(0, getsockopt(self->tfd, SOL_TAPSEC, TAPSEC_RX, &got.ci,
				&len));
	EXPECT_EQ((uint64_t)self->in.epoch << 48 | (self->in.seq + NSIZES + 5),
		  key_get_seq(&got));
	EXPECT_NOTHING(self->tfd);
}

/* Other content types come with a GET_RECORD_TYPE cmsg. */
TEST_F(wire, rx_record_type)
{
	struct rec r = data_rec(self->in.epoch, self->in.seq, 33, 3);
	uint8_t buf[64];
	int type;

	r.type = T_HANDSHAKE;
	send_rec(_metadata, self->wfd, &self->in, &r);
	WIRE_SEND(1, 7, 4);
	ASSERT_EQ(33, recv_wait(self->tfd, buf, sizeof(buf), &type, 0));
	EXPECT_EQ(T_HANDSHAKE, type);
	EXPECT_EQ(0, memcmp(buf, stream(3), 33));
	EXPECT_DATA(7, 4);
}

/* Numbers that jump ahead are fine. */
TEST_F(wire, rx_seq_jumps)
{
	static const uint64_t offs[] = { 0, 3, 4, 1000, 30000, 30001, 60000 };
	int i;

	for (i = 0; i < 7; i++) {
		WIRE_SEND(offs[i], 50 + i, i);
		EXPECT_DATA(50 + i, i);
	}
	EXPECT_EQ(7, CNT(self->tfd, rx_records));
}

/* Record numbers across a 16-bit boundary (DTLS 1.3 sends 16 bits). */
TEST_F(wire, seq_16bit_wrap)
{
	int i;

	wire_open(_metadata, self, variant, 0x2fffd, 0x4fffc);
	for (i = 0; i < 6; i++) {
		ASSERT_EQ(20, send(self->tfd, stream(i), 20, 0));
		expect_wire(_metadata, self->wfd, &self->out, T_DATA,
			    self->out.epoch, 0x2fffd + i, stream(i), 20);
		if (i == 2)
			continue;
		WIRE_SEND(i, 30 + i, i);
		EXPECT_DATA(30 + i, i);
	}
	/* 0x4fffe, late: behind the wrap of the highest, 0x50001. */
	WIRE_SEND(2, 32, 2);
	EXPECT_DATA(32, 2);
	WIRE_SEND(2, 32, 2);
	EXPECT_NOTHING(self->tfd);
	EXPECT_EQ(1, CNT(self->tfd, rx_replayed));
	EXPECT_EQ(6, CNT(self->tfd, rx_records));
}

/*
 * The wire sends data record in.seq + @off with header @flags and @pad
 * bytes of padding; tapsec gives its @len bytes of stream(@seed).
 */
static void rx_shaped(struct __test_metadata *_metadata,
		      FIXTURE_DATA(wire) *self, uint64_t off, size_t len,
		      unsigned int seed, unsigned int flags, size_t pad)
{
	struct rec r = data_rec(self->in.epoch, self->in.seq + off, len, seed);

	r.flags = flags;
	r.pad = pad;
	send_rec(_metadata, self->wfd, &self->in, &r);
	expect_data(_metadata, self->tfd, len, seed);
}

/* 3. DTLS 1.3 headers tapsec does not send but must read (RFC 9147 4). */
TEST_F(wire, dtls13_short_headers)
{
	static const unsigned int flags[] = { R_SEQ8, R_NOLEN,
					      R_SEQ8 | R_NOLEN, 0, R_SEQ8 };
	int i;

	if (!IS13)
		SKIP(return, "DTLS 1.3 only");
	for (i = 0; i < 5; i++)
		rx_shaped(_metadata, self, i, 60 + i, i, flags[i], 0);
	/* 8 bits go across their own boundary too. */
	for (i = 0; i < 300; i += 37)
		rx_shaped(_metadata, self, 5 + i, 10, i, R_SEQ8 | R_NOLEN, 0);
	EXPECT_EQ(0, CNT(self->tfd, rx_bad_record));
	EXPECT_EQ(0, CNT(self->tfd, rx_bad_tag));
}

/* 3. DTLS 1.3 zero padding after the inner type is not data. */
TEST_F(wire, dtls13_padding)
{
	static const size_t pads[] = { 1, 100, 1000 };
	int i;

	if (!IS13)
		SKIP(return, "DTLS 1.3 only");
	for (i = 0; i < 3; i++)
		rx_shaped(_metadata, self, i, 20 + i, i, 0, pads[i]);
	EXPECT_EQ(20 + 21 + 22, CNT(self->tfd, rx_bytes));
}

/* 3. Two records in one datagram: two recv()s (RFC 9147 4.3). */
TEST_F(wire, dtls13_two_records)
{
	uint8_t *w = malloc(DGRAM);
	int i;

	if (!IS13)
		SKIP(return, "DTLS 1.3 only");
	ASSERT_NE(NULL, w);
	for (i = 0; i < 2; i++) {
		struct rec a = data_rec(self->in.epoch, self->in.seq + 2 * i,
					100, 2 * i);
		struct rec b = data_rec(self->in.epoch,
					self->in.seq + 2 * i + 1, 200,
					2 * i + 1);
		ssize_t na, nb;

		/* The last one may leave its length out. */
		b.flags = i ? R_NOLEN | R_SEQ8 : 0;
		na = rec_seal(&self->in, &a, w);
		ASSERT_LT(0, na);
		nb = rec_seal(&self->in, &b, w + na);
		ASSERT_LT(0, nb);
		ASSERT_EQ(na + nb, send(self->wfd, w, na + nb, 0));
		EXPECT_DATA(100, 2 * i);
		EXPECT_DATA(200, 2 * i + 1);
	}
	EXPECT_EQ(4, CNT(self->tfd, rx_records));
	EXPECT_NOTHING(self->tfd);
	free(w);
}

/*
 * 3. A bad record next to a good one in the same datagram: each record is
 * dropped or delivered on its own.
 */
TEST_F(wire, dtls13_bad_record_in_datagram)
{
	struct tapsec_counters c0 = tinfo(_metadata, self->tfd).counters;
	uint8_t *w = malloc(DGRAM);
	struct rec r;
	ssize_t na, nb;

	if (!IS13)
		SKIP(return, "DTLS 1.3 only");
	ASSERT_NE(NULL, w);
	/* A record failing its tag, then a good one. */
	r = data_rec(self->in.epoch, self->in.seq + 1, 70, 1);
	na = rec_seal(&self->in, &r, w);
	ASSERT_LT(0, na);
	w[na - 1] ^= 0x01;
	r = data_rec(self->in.epoch, self->in.seq, 80, 2);
	nb = rec_seal(&self->in, &r, w + na);
	ASSERT_LT(0, nb);
	ASSERT_EQ(na + nb, send(self->wfd, w, na + nb, 0));
	EXPECT_DATA(80, 2);
	/* A good record, then bytes that are no record. */
	r = data_rec(self->in.epoch, self->in.seq + 1, 90, 3);
	na = rec_seal(&self->in, &r, w);
	ASSERT_LT(0, na);
	memset(w + na, 0xee, 10);
	ASSERT_EQ(na + 10, send(self->wfd, w, na + 10, 0));
	EXPECT_DATA(90, 3);
	EXPECT_NOTHING(self->tfd);
	expect_drops(_metadata, self->tfd, &c0,
		     (struct drops){ .tag = 1, .record = 1 });
	EXPECT_EQ(2, CNT(self->tfd, rx_records));
	free(w);
}

/* ---- 4. anti-replay ---- */

/*
 * Reordering within the window is fine; duplicates and records older
 * than the window are not.  The window of W records ends at the highest
 * number seen, H: H - W + 1 is in, H - W is out (RFC 6347 4.1.2.6, RFC
 * 4303 3.4.3).
 */
TEST_F(wire, replay_reorder)
{
	static const struct { uint64_t off; bool ok; } recs[] = {
		{ 100, true }, { 95, true }, { 99, true },
		{ 37, true },		/* H - 63 */
		{ 36, false },		/* H - 64 */
		{ 0, false },
		{ 95, false }, { 100, false }, { 37, false },
		{ 98, true },
		{ 101, true },		/* H = 101 */
		{ 37, false },		/* now H - 64 */
		{ 38, true },		/* H - 63 */
		{ 101, false },
	};
	struct tapsec_counters c0 = tinfo(_metadata, self->tfd).counters;
	int i, ok = 0, bad = 0;

	for (i = 0; i < (int)ARRAY_SIZE(recs); i++) {
		WIRE_SEND(recs[i].off, 40 + i, i);
		if (recs[i].ok) {
			EXPECT_DATA(40 + i, i);
			ok++;
		} else {
			EXPECT_NOTHING(self->tfd);
			bad++;
		}
		EXPECT_EQ(bad, CNT(self->tfd, rx_replayed) - c0.rx_replayed)
			TH_LOG("record %d (+%llu)", i,
			       (unsigned long long)recs[i].off);
	}
	EXPECT_EQ(ok, CNT(self->tfd, rx_records));
	expect_drops(_metadata, self->tfd, &c0,
		     (struct drops){ .replayed = bad });
}

/* The same datagram three times: one record, two counted replays. */
TEST_F(wire, replay_duplicates)
{
	struct tapsec_counters c0 = tinfo(_metadata, self->tfd).counters;
	struct rec r = data_rec(self->in.epoch, self->in.seq, 300, 5);
	uint8_t *w = malloc(DGRAM);
	ssize_t n;

	ASSERT_NE(NULL, w);
	n = rec_seal(&self->in, &r, w);
	ASSERT_LT(0, n);
	ASSERT_EQ(n, send(self->wfd, w, n, 0));
	ASSERT_EQ(n, send(self->wfd, w, n, 0));
	ASSERT_EQ(n, send(self->wfd, w, n, 0));
	EXPECT_DATA(300, 5);
	EXPECT_NOTHING(self->tfd);
	expect_drops(_metadata, self->tfd, &c0,
		     (struct drops){ .replayed = 2 });
	EXPECT_EQ(1, CNT(self->tfd, rx_records));
	self->next++;
	GOOD_RECORD(10, 6);
	free(w);
}

/* TAPSEC_REPLAY_WINDOW is honoured, growing and shrinking. */
TEST_F(wire, replay_window_size)
{
	struct tapsec_counters c0;
	uint32_t v = 0;

	ASSERT_EQ(0, get_u32_opt(self->tfd, TAPSEC_REPLAY_WINDOW, &v));
	EXPECT_EQ(TAPSEC_REPLAY_WINDOW_DEFAULT, v);
	ASSERT_EQ(0, set_u32_opt(self->tfd, TAPSEC_REPLAY_WINDOW, 1024));
	c0 = tinfo(_metadata, self->tfd).counters;
	WIRE_SEND(1000, 10, 1);
	EXPECT_DATA(10, 1);
	WIRE_SEND(0, 11, 2);		/* 1000 behind, in 1024 */
	EXPECT_DATA(11, 2);
	WIRE_SEND(1, 12, 3);
	EXPECT_DATA(12, 3);
	WIRE_SEND(0, 11, 2);		/* seen */
	EXPECT_NOTHING(self->tfd);
	expect_drops(_metadata, self->tfd, &c0,
		     (struct drops){ .replayed = 1 });

	ASSERT_EQ(0, set_u32_opt(self->tfd, TAPSEC_REPLAY_WINDOW, 32));
	c0 = tinfo(_metadata, self->tfd).counters;
	WIRE_SEND(1001, 13, 4);		/* H = 1001 */
	EXPECT_DATA(13, 4);
	WIRE_SEND(969, 14, 5);		/* H - 32 */
	EXPECT_NOTHING(self->tfd);
	WIRE_SEND(970, 15, 6);		/* H - 31 */
	EXPECT_DATA(15, 6);
	WIRE_SEND(1000, 16, 7);		/* seen */
	EXPECT_NOTHING(self->tfd);
	expect_drops(_metadata, self->tfd, &c0,
		     (struct drops){ .replayed = 2 });
}

/* A record that fails authentication moves nothing. */
TEST_F(wire, replay_forged)
{
	struct tapsec_counters c0;
	uint64_t far = IS13 ? 20000 : 1000000;
	uint8_t *w = malloc(DGRAM);
	struct rec r;
	ssize_t n;

	ASSERT_NE(NULL, w);
	WIRE_SEND(100, 10, 1);
	EXPECT_DATA(10, 1);
	c0 = tinfo(_metadata, self->tfd).counters;
	/* Far ahead, and the next one; each with one bit of its tag wrong. */
	r = data_rec(self->in.epoch, self->in.seq + far, 100, 2);
	n = rec_seal(&self->in, &r, w);
	ASSERT_LT(0, n);
	w[n - 1] ^= 0x80;
	ASSERT_EQ(n, send(self->wfd, w, n, 0));
	r = data_rec(self->in.epoch, self->in.seq + 101, 100, 3);
	n = rec_seal(&self->in, &r, w);
	ASSERT_LT(0, n);
	w[n - 1] ^= 0x01;
	ASSERT_EQ(n, send(self->wfd, w, n, 0));
	EXPECT_NOTHING(self->tfd);
	expect_drops(_metadata, self->tfd, &c0, (struct drops){ .tag = 2 });
	/* 100 is still the highest: 50 is in the window, 101 not seen. */
	WIRE_SEND(50, 20, 4);
	EXPECT_DATA(20, 4);
	WIRE_SEND(101, 21, 5);
	EXPECT_DATA(21, 5);
	WIRE_SEND(far, 22, 6);
	EXPECT_DATA(22, 6);
	expect_drops(_metadata, self->tfd, &c0, (struct drops){ .tag = 2 });
	free(w);
}

/* ---- 5. epochs ---- */

/* A new receive key of the next epoch, starting at record 0. */
static void rx_rekey(struct __test_metadata *_metadata, int fd,
		     const struct dir *old, struct dir *d)
{
	ASSERT_EQ(0, dir_make(d, old->version, old->cipher, old->epoch + 1, 0,
			      NULL));
	ASSERT_EQ(0, dir_install(fd, false, d))
		TH_LOG("RX epoch %u: %s", d->epoch, strerror(errno));
}

/*
 * The previous epoch's records pass for TAPSEC_EPOCH_GRACE after a new
 * receive key, with their own replay window; then they are dropped as
 * records of an epoch without a key, as are those of later epochs.
 */
TEST_F(wire, epoch_grace)
{
	struct tapsec_counters c0;
	struct dir e2, e3;
	uint32_t v = 0;
	struct rec r;

	ASSERT_EQ(0, set_u32_opt(self->tfd, TAPSEC_EPOCH_GRACE, 300));
	ASSERT_EQ(0, get_u32_opt(self->tfd, TAPSEC_EPOCH_GRACE, &v));
	EXPECT_EQ(300, v);
	WIRE_SEND(0, 10, 1);
	EXPECT_DATA(10, 1);
	rx_rekey(_metadata, self->tfd, &self->in, &e2);
	EXPECT_EQ(e2.epoch, key_get_seq(&e2.k) >> 48);
	c0 = tinfo(_metadata, self->tfd).counters;
	WIRE_SEND(2, 11, 2);			/* old epoch, in grace */
	EXPECT_DATA(11, 2);
	r = data_rec(e2.epoch, 0, 12, 3);
	send_rec(_metadata, self->wfd, &e2, &r);
	EXPECT_DATA(12, 3);
	WIRE_SEND(1, 13, 4);			/* reordered, old epoch */
	EXPECT_DATA(13, 4);
	WIRE_SEND(2, 11, 2);			/* replayed, old epoch */
	EXPECT_NOTHING(self->tfd);
	expect_drops(_metadata, self->tfd, &c0,
		     (struct drops){ .replayed = 1 });

	/* An epoch beyond the newest key. */
	ASSERT_EQ(0, dir_make(&e3, e2.version, e2.cipher, e2.epoch + 1, 0,
			      NULL));
	r = data_rec(e3.epoch, 0, 14, 5);
	send_rec(_metadata, self->wfd, &e3, &r);
	EXPECT_NOTHING(self->tfd);
	expect_drops(_metadata, self->tfd, &c0,
		     (struct drops){ .replayed = 1, .epoch = 1 });

	/* Grace is over. */
	usleep(700 * 1000);
	WIRE_SEND(3, 15, 6);
	EXPECT_NOTHING(self->tfd);
	expect_drops(_metadata, self->tfd, &c0,
		     (struct drops){ .replayed = 1, .epoch = 2 });
	r = data_rec(e2.epoch, 1, 16, 7);
	send_rec(_metadata, self->wfd, &e2, &r);
	EXPECT_DATA(16, 7);
	EXPECT_EQ(5, CNT(self->tfd, rx_records));
}

/* TAPSEC_EPOCH_GRACE 0: the previous epoch is gone with the new key. */
TEST_F(wire, epoch_grace_zero)
{
	struct tapsec_counters c0;
	struct dir e2;
	struct rec r;

	ASSERT_EQ(0, set_u32_opt(self->tfd, TAPSEC_EPOCH_GRACE, 0));
	WIRE_SEND(0, 10, 1);
	EXPECT_DATA(10, 1);
	rx_rekey(_metadata, self->tfd, &self->in, &e2);
	c0 = tinfo(_metadata, self->tfd).counters;
	WIRE_SEND(1, 11, 2);
	EXPECT_NOTHING(self->tfd);
	expect_drops(_metadata, self->tfd, &c0, (struct drops){ .epoch = 1 });
	r = data_rec(e2.epoch, 0, 12, 3);
	send_rec(_metadata, self->wfd, &e2, &r);
	EXPECT_DATA(12, 3);
}

/* The default grace (10 s) keeps the previous epoch for now. */
TEST_F(wire, epoch_grace_default)
{
	struct dir e2;
	struct rec r;

	rx_rekey(_metadata, self->tfd, &self->in, &e2);
	r = data_rec(e2.epoch, 0, 12, 3);
	send_rec(_metadata, self->wfd, &e2, &r);
	EXPECT_DATA(12, 3);
	WIRE_SEND(0, 10, 1);
	EXPECT_DATA(10, 1);
	EXPECT_EQ(0, CNT(self->tfd, rx_bad_epoch));
}

/* Records of epochs without a key, older and newer, before any rekey. */
TEST_F(wire, epoch_unknown)
{
	struct tapsec_counters c0 = tinfo(_metadata, self->tfd).counters;
	uint16_t epochs[] = { self->in.epoch + 1, self->in.epoch + 2,
			      self->in.epoch - 1 };
	struct dir other;
	int i;

	for (i = 0; i < 3; i++) {
		struct rec r = data_rec(epochs[i], self->in.seq, 10, i);

		ASSERT_EQ(0, dir_make(&other, variant->version,
				      variant->cipher, epochs[i],
				      self->in.seq, NULL));
		send_rec(_metadata, self->wfd, &other, &r);
		EXPECT_NOTHING(self->tfd);
	}
	expect_drops(_metadata, self->tfd, &c0, (struct drops){ .epoch = 3 });
	GOOD_RECORD(10, 9);
}

/* A new key must have a higher epoch, in each direction. */
TEST_F(wire, epoch_must_grow)
{
	struct dir d;

	ASSERT_EQ(0, dir_make(&d, variant->version, variant->cipher,
			      self->out.epoch, 0, NULL));
	EXPECT_EQ(-1, tapsec_key(self->tfd, TAPSEC_TX, &d.k));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, tapsec_key(self->tfd, TAPSEC_RX, &d.k));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, dir_make(&d, variant->version, variant->cipher,
			      self->out.epoch - 1, 0, NULL));
	EXPECT_EQ(-1, tapsec_key(self->tfd, TAPSEC_TX, &d.k));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, tapsec_key(self->tfd, TAPSEC_RX, &d.k));
	EXPECT_EQ(EINVAL, errno);
	/* The keys in place still work. */
	ASSERT_EQ(3, send(self->tfd, "abc", 3, 0));
	expect_wire(_metadata, self->wfd, &self->out, T_DATA,
		    self->out.epoch, self->out.seq,
		    (const uint8_t *)"abc", 3);
	GOOD_RECORD(10, 1);
}

/* A new transmit key replaces the old one at once. */
TEST_F(wire, epoch_tx_rekey)
{
	struct dir e2;
	struct key got;
	socklen_t len;

	ASSERT_EQ(4, send(self->tfd, stream(1), 4, 0));
	expect_wire(_metadata, self->wfd, &self->out, T_DATA,
		    self->out.epoch, self->out.seq, stream(1), 4);
	ASSERT_EQ(0, dir_make(&e2, variant->version, variant->cipher,
			      self->out.epoch + 1, 77, NULL));
	ASSERT_EQ(0, tapsec_key(self->tfd, TAPSEC_TX, &e2.k))
		TH_LOG("TX epoch %u: %s", e2.epoch, strerror(errno));
	if (IS13) {
		/* The old secret went with the old key. */
		EXPECT_EQ(-1, send(self->tfd, "x", 1, 0));
		EXPECT_EQ(ENOKEY, errno);
		ASSERT_EQ(0, set_secret(self->tfd, TAPSEC_TX_SECRET, e2.cipher,
					e2.secret));
	}
	got = e2.k;
	len = got.len;
	ASSERT_EQ(0, getsockopt(self->tfd, SOL_TAPSEC, TAPSEC_TX, &got.ci,
				&len));
	EXPECT_EQ((uint64_t)e2.epoch << 48 | 77, key_get_seq(&got));
	ASSERT_EQ(5, send(self->tfd, stream(2), 5, 0));
	expect_wire(_metadata, self->wfd, &e2, T_DATA, e2.epoch, 77,
		    stream(2), 5);
	ASSERT_EQ(6, send(self->tfd, stream(3), 6, 0));
	expect_wire(_metadata, self->wfd, &e2, T_DATA, e2.epoch, 78,
		    stream(3), 6);
}

/* ---- 7. DTLS 1.3 KeyUpdate and ACK (RFC 9147 7, 8) ---- */

#define T_ACK		26
#define HS_KEY_UPDATE	24

/* The next generation of @d: "traffic upd", epoch + 1, record 0. */
static int dir_next(struct dir *n, const struct dir *d)
{
	uint8_t secret[48] = { 0 };

	if (hkdf_expand_label(d->cipher, "dtls13", d->secret,
			      LBL("traffic upd"), NULL, 0, secret,
			      cipher_hash_len(d->cipher)))
		return -1;
	return dir_make(n, d->version, d->cipher, d->epoch + 1, 0, secret);
}

/* A KeyUpdate message: handshake header and request_update. */
static void key_update_msg(uint8_t *m, uint16_t msg_seq, uint8_t request)
{
	static const uint8_t hdr[12] = { HS_KEY_UPDATE, 0, 0, 1, 0, 0,
					 0, 0, 0, 0, 0, 1 };

	memcpy(m, hdr, sizeof(hdr));
	m[4] = msg_seq >> 8;
	m[5] = msg_seq;
	m[12] = request;
}

/* An ACK of one record: the list's length, epoch and sequence number. */
static void ack_msg(uint8_t *m, uint64_t epoch, uint64_t seq)
{
	m[0] = 0;
	m[1] = 16;
	put_be64(m + 2, epoch);
	put_be64(m + 10, seq);
}

/*
 * TAPSEC_KEY_UPDATE: a KeyUpdate in the current epoch; data stays under
 * the old key until the wire ACKs it, then goes under the next
 * generation's key, computed here.  Unacknowledged, it is retransmitted.
 */
TEST_F(wire, dtls13_key_update_sent)
{
	uint8_t ku[13], ack[18];
	struct dir next;
	struct rec r;
	int one = TAPSEC_KEY_UPDATE_REQUESTED;

	if (!IS13)
		SKIP(return, "DTLS 1.3 only");
	ASSERT_EQ(0, setsockopt(self->tfd, SOL_TAPSEC, TAPSEC_KEY_UPDATE,
				&one, sizeof(one)));
	key_update_msg(ku, 0, 1);
	expect_wire(_metadata, self->wfd, &self->out, T_HANDSHAKE,
		    self->out.epoch, self->out.seq, ku, sizeof(ku));
	/* One at a time. */
	EXPECT_EQ(-1, setsockopt(self->tfd, SOL_TAPSEC, TAPSEC_KEY_UPDATE,
				 &one, sizeof(one)));
	EXPECT_EQ(EBUSY, errno);
	ASSERT_EQ(3, send(self->tfd, "abc", 3, 0));
	expect_wire(_metadata, self->wfd, &self->out, T_DATA, self->out.epoch,
		    self->out.seq + 1, (const uint8_t *)"abc", 3);
	/* Not ACKed: the same message again, in a new record, after 1 s. */
	expect_wire(_metadata, self->wfd, &self->out, T_HANDSHAKE,
		    self->out.epoch, self->out.seq + 2, ku, sizeof(ku));
	EXPECT_EQ(0, CNT(self->tfd, tx_key_updates));

	/* The wire ACKs the first transmission; the reader takes it in. */
	ack_msg(ack, self->out.epoch, self->out.seq);
	r = (struct rec){ .type = T_ACK, .epoch = self->in.epoch,
			  .seq = self->next++, .data = ack, .len = sizeof(ack) };
	send_rec(_metadata, self->wfd, &self->in, &r);
	EXPECT_NOTHING(self->tfd);
	EXPECT_EQ(1, CNT(self->tfd, tx_key_updates));
	ASSERT_EQ(0, dir_next(&next, &self->out));
	ASSERT_EQ(3, send(self->tfd, "def", 3, 0));
	expect_wire(_metadata, self->wfd, &next, T_DATA, next.epoch, 0,
		    (const uint8_t *)"def", 3);
	/* No more retransmissions; a second update has message_seq 1. */
	ASSERT_EQ(0, setsockopt(self->tfd, SOL_TAPSEC, TAPSEC_KEY_UPDATE,
				&one, sizeof(one)));
	key_update_msg(ku, 1, 1);
	expect_wire(_metadata, self->wfd, &next, T_HANDSHAKE, next.epoch, 1,
		    ku, sizeof(ku));
}

/*
 * A KeyUpdate from the wire: tapsec ACKs its record, moves its receive
 * side to the next generation, and, asked to, updates its own key too.
 * A retransmission of it is ACKed again without a second update.
 */
TEST_F(wire, dtls13_key_update_received)
{
	uint8_t ku[13], ack[18], mine[13];
	uint64_t ku_seq = self->next;
	struct dir next, nout;
	struct rec r;

	if (!IS13)
		SKIP(return, "DTLS 1.3 only");
	key_update_msg(ku, 5, 1);
	r = (struct rec){ .type = T_HANDSHAKE, .epoch = self->in.epoch,
			  .seq = self->next++, .data = ku, .len = sizeof(ku) };
	send_rec(_metadata, self->wfd, &self->in, &r);
	EXPECT_NOTHING(self->tfd);
	EXPECT_EQ(1, CNT(self->tfd, rx_key_updates));
	ack_msg(ack, self->in.epoch, ku_seq);
	expect_wire(_metadata, self->wfd, &self->out, T_ACK, self->out.epoch,
		    self->out.seq, ack, sizeof(ack));
	key_update_msg(mine, 0, 0);
	expect_wire(_metadata, self->wfd, &self->out, T_HANDSHAKE,
		    self->out.epoch, self->out.seq + 1, mine, sizeof(mine));
	/* The wire ACKs that: tapsec's transmit side moves on too. */
	ack_msg(ack, self->out.epoch, self->out.seq + 1);
	r = (struct rec){ .type = T_ACK, .epoch = self->in.epoch,
			  .seq = self->next++, .data = ack, .len = sizeof(ack) };
	send_rec(_metadata, self->wfd, &self->in, &r);
	EXPECT_NOTHING(self->tfd);
	EXPECT_EQ(1, CNT(self->tfd, tx_key_updates));
	ASSERT_EQ(0, dir_next(&nout, &self->out));

	/* The next generation opens; the old epoch still does (grace). */
	ASSERT_EQ(0, dir_next(&next, &self->in));
	r = data_rec(next.epoch, 0, 20, 7);
	send_rec(_metadata, self->wfd, &next, &r);
	EXPECT_DATA(20, 7);
	r = data_rec(self->in.epoch, self->next++, 21, 8);
	send_rec(_metadata, self->wfd, &self->in, &r);
	EXPECT_DATA(21, 8);

	/* A retransmitted KeyUpdate (old epoch): ACKed, no new update. */
	r = (struct rec){ .type = T_HANDSHAKE, .epoch = self->in.epoch,
			  .seq = self->next, .data = ku, .len = sizeof(ku) };
	send_rec(_metadata, self->wfd, &self->in, &r);
	EXPECT_NOTHING(self->tfd);
	ack_msg(ack, self->in.epoch, self->next++);
	expect_wire(_metadata, self->wfd, &nout, T_ACK, nout.epoch, 0, ack,
		    sizeof(ack));
	EXPECT_EQ(1, CNT(self->tfd, rx_key_updates));
}

/* Options: DTLS 1.2 has no KeyUpdate; bad values; no secret. */
TEST_F(wire, dtls13_key_update_errors)
{
	int v = 2;

	EXPECT_EQ(-1, setsockopt(self->tfd, SOL_TAPSEC, TAPSEC_KEY_UPDATE,
				 &v, sizeof(v)));
	EXPECT_EQ(EINVAL, errno);
	v = 0;
	if (!IS13) {
		EXPECT_EQ(-1, setsockopt(self->tfd, SOL_TAPSEC,
					 TAPSEC_KEY_UPDATE, &v, sizeof(v)));
		EXPECT_EQ(EPROTO, errno);
		return;
	}
	EXPECT_EQ(-1, setsockopt(self->tfd, SOL_TAPSEC, TAPSEC_KEY_UPDATE,
				 &v, 2));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, setsockopt(self->tfd, SOL_TAPSEC, TAPSEC_KEY_UPDATE,
				&v, sizeof(v)));
}

/* ---- key limits (TAPSEC_KEY_LIMITS, as on TLS sockets) ---- */

static int set_limits(int fd, const struct tapsec_key_limits *lim)
{
	return setsockopt(fd, SOL_TAPSEC, TAPSEC_KEY_LIMITS, lim,
			  sizeof(*lim));
}

/* A hard limit refuses the next record; a new key starts afresh. */
TEST_F(wire, key_limits_hard)
{
	struct tapsec_key_limits lim = { .hard_records = 3 }, got;
	socklen_t len = sizeof(got);
	uint64_t before = CNT(self->tfd, key_exhausted);
	struct dir e2;
	int i;

	ASSERT_EQ(0, set_limits(self->tfd, &lim));
	ASSERT_EQ(0, getsockopt(self->tfd, SOL_TAPSEC, TAPSEC_KEY_LIMITS,
				&got, &len));
	EXPECT_EQ(3, got.hard_records);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(2, send(self->tfd, "ok", 2, 0));
		expect_wire(_metadata, self->wfd, &self->out, T_DATA,
			    self->out.epoch, self->out.seq + i,
			    (const uint8_t *)"ok", 2);
	}
	EXPECT_EQ(-1, send(self->tfd, "no", 2, 0));
	EXPECT_EQ(EKEYEXPIRED, errno);
	EXPECT_EQ(before + 1, CNT(self->tfd, key_exhausted));
	/* The next key: the limits stay, the count starts again. */
	ASSERT_EQ(0, dir_make(&e2, variant->version, variant->cipher,
			      self->out.epoch + 1, 0, NULL));
	ASSERT_EQ(0, dir_install(self->tfd, true, &e2));
	ASSERT_EQ(2, send(self->tfd, "ok", 2, 0));
	expect_wire(_metadata, self->wfd, &e2, T_DATA, e2.epoch, 0,
		    (const uint8_t *)"ok", 2);
}

/*
 * A soft limit: a DTLS 1.3 key with its secret sends a KeyUpdate by
 * itself; a DTLS 1.2 key cannot be updated here and goes on as it is.
 * The default soft record limit is RFC 8446 5.5's.
 */
TEST_F(wire, key_limits_soft)
{
	struct tapsec_key_limits lim = { .soft_records = 2 }, got;
	socklen_t len = sizeof(got);
	uint8_t ku[13];
	int i;

	ASSERT_EQ(0, getsockopt(self->tfd, SOL_TAPSEC, TAPSEC_KEY_LIMITS,
				&got, &len));
	EXPECT_EQ(variant->cipher == CHACHA ? 1ULL << 62 : 23726566ULL,
		  got.soft_records);
	ASSERT_EQ(0, set_limits(self->tfd, &lim));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, send(self->tfd, "s", 1, 0));
		expect_wire(_metadata, self->wfd, &self->out, T_DATA,
			    self->out.epoch, self->out.seq + i + (i == 2 && IS13),
			    (const uint8_t *)"s", 1);
		if (i == 1 && IS13) {
			key_update_msg(ku, 0, 0);
			expect_wire(_metadata, self->wfd, &self->out,
				    T_HANDSHAKE, self->out.epoch,
				    self->out.seq + 2, ku, sizeof(ku));
		}
	}
	EXPECT_NOTHING(self->wfd);
	EXPECT_EQ(0, CNT(self->tfd, tx_key_updates));
	/* Bad limits. */
	lim.hard_records = 1;
	EXPECT_EQ(-1, set_limits(self->tfd, &lim));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setsockopt(self->tfd, SOL_TAPSEC, TAPSEC_KEY_LIMITS,
				 &lim, sizeof(lim) - 1));
	EXPECT_EQ(EINVAL, errno);
}

/* ---- 6. bad datagrams from the wire ---- */

/*
 * Datagram @w (@len bytes) is dropped and counted as @want; nothing else
 * breaks: a non-blocking read has nothing, the next good record arrives.
 */
static void bad_dgram(struct __test_metadata *_metadata,
		      FIXTURE_DATA(wire) *self, const uint8_t *w, size_t len,
		      struct drops want)
{
	struct tapsec_counters c0 = tinfo(_metadata, self->tfd).counters;
	uint64_t recs = c0.rx_records;

	ASSERT_EQ(len, send(self->wfd, w, len, 0));
	EXPECT_NOTHING(self->tfd);
	expect_drops(_metadata, self->tfd, &c0, want);
	EXPECT_EQ(recs, CNT(self->tfd, rx_records));
	GOOD_RECORD(30, (unsigned int)len);
}

/* A record of the wire at the next number, sealed with @d into @w. */
static size_t next_sealed_by(struct __test_metadata *_metadata,
			     FIXTURE_DATA(wire) *self, const struct dir *d,
			     uint8_t *w, size_t len)
{
	struct rec r = data_rec(self->in.epoch, self->next, len, 77);
	ssize_t n = rec_seal(d, &r, w);

	EXPECT_LT(0, n);
	return n < 0 ? 0 : n;
}

/* A good record of the wire at the next number, sealed into @w. */
static size_t next_sealed(struct __test_metadata *_metadata,
			  FIXTURE_DATA(wire) *self, uint8_t *w, size_t len)
{
	return next_sealed_by(_metadata, self, &self->in, w, len);
}

TEST_F(wire, bad_garbage)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n";
	uint8_t junk[200];

	bad_dgram(_metadata, self, (const uint8_t *)http, sizeof(http) - 1,
		  (struct drops){ .record = 1 });
	fill_random(junk, sizeof(junk));
	/*
	 * A DTLS 1.2 length beyond the datagram, so that the garbage is one
	 * unframeable record: a random short length would frame a second.
	 */
	junk[11] = 0xff;
	junk[12] = 0xff;
	junk[0] = 0xff;		/* no content type, no unified header */
	bad_dgram(_metadata, self, junk, sizeof(junk),
		  (struct drops){ .record = 1 });
	junk[0] = 0x00;
	bad_dgram(_metadata, self, junk, sizeof(junk),
		  (struct drops){ .record = 1 });
}

/* A valid record cut to 1..12 bytes: header or body missing. */
TEST_F(wire, bad_truncated)
{
	uint8_t w[256];
	size_t cut;

	for (cut = 1; cut <= 12; cut++) {
		ASSERT_LT(12, next_sealed(_metadata, self, w, 100));
		bad_dgram(_metadata, self, w, cut,
			  (struct drops){ .record = 1 });
	}
}

/* A length field that goes past the end of the datagram. */
TEST_F(wire, bad_length_beyond)
{
	size_t at = IS13 ? 3 : 11;
	uint8_t w[256];
	size_t n;
	int d;

	for (d = 1; d <= 100; d += 99) {
		uint16_t l;

		n = next_sealed(_metadata, self, w, 100);
		l = get_be(w + at, 2) + d;
		w[at] = l >> 8;
		w[at + 1] = l;
		bad_dgram(_metadata, self, w, n, (struct drops){ .record = 1 });
	}
}

/* A length over 2^14 + 2048 (1.2) or 2^14 + 256 (1.3), body and all. */
TEST_F(wire, bad_oversize)
{
	size_t max = IS13 ? MAX_CT13 : MAX_CT12;
	size_t hlen = IS13 ? HDR13 : HDR12;
	uint8_t *w = malloc(DGRAM);

	ASSERT_NE(NULL, w);
	next_sealed(_metadata, self, w, 100);
	fill_random(w + hlen, max + 1);
	w[hlen - 2] = (max + 1) >> 8;
	w[hlen - 1] = max + 1;
	bad_dgram(_metadata, self, w, hlen + max + 1,
		  (struct drops){ .oversize = 1 });
	free(w);
}

/* DTLS 1.2: another version or content type in the header. */
TEST_F(wire, bad_version)
{
	static const uint16_t vers[] = { 0xfeff, 0x0303, 0xfefc, 0xfdfd };
	uint8_t w[256];
	ssize_t n;
	int i;

	if (IS13) {
		/* Not 001 in the fixed bits of a unified header. */
		static const uint8_t firsts[] = { 0x4c, 0x8c, 0xec, 0x0c };

		for (i = 0; i < 4; i++) {
			n = next_sealed(_metadata, self, w, 40);
			w[0] = firsts[i] | (self->in.epoch & 3);
			/*
			 * Read as a DTLS 1.2 header, its length (bytes 11
			 * and 12, ciphertext here) must not frame a record
			 * inside the datagram, or the random bytes after
			 * it now and then count as a second bad record.
			 */
			w[11] = 0xff;
			bad_dgram(_metadata, self, w, n,
				  (struct drops){ .record = 1 });
		}
		/*
		 * Authenticated, but no content type that may be encrypted
		 * (RFC 9147 4; RFC 8446 5.4): another one, or none at all.
		 * Numbers of their own: whether they count as seen is left
		 * open.
		 */
		for (i = 0; i < 3; i++) {
			struct rec r = data_rec(self->in.epoch, self->next++,
						i == 2 ? 0 : 40, 1);

			r.type = i == 0 ? 0x30 : i == 1 ? 20 : 0;
			r.pad = i == 2 ? 8 : 0;
			n = rec_seal(&self->in, &r, w);
			ASSERT_LT(0, n);
			bad_dgram(_metadata, self, w, n,
				  (struct drops){ .record = 1 });
		}
		return;
	}
	for (i = 0; i < 5; i++) {
		/* Sealed with what the header says: only the header is bad. */
		struct rec r = data_rec(self->in.epoch, self->next, 40, 1);

		if (i < 4)
			r.version = vers[i];
		else
			r.type = 0x30;
		n = rec_seal(&self->in, &r, w);
		ASSERT_LT(0, n);
		bad_dgram(_metadata, self, w, n, (struct drops){ .record = 1 });
	}
}

/* One bit of the tag, of the ciphertext, of the header's record number. */
TEST_F(wire, bad_tag)
{
	uint8_t w[256];
	size_t n, hlen = IS13 ? HDR13 : HDR12;

	n = next_sealed(_metadata, self, w, 100);
	w[n - 1] ^= 0x01;
	bad_dgram(_metadata, self, w, n, (struct drops){ .tag = 1 });
	n = next_sealed(_metadata, self, w, 100);
	w[n - TAG - 1] ^= 0x80;
	bad_dgram(_metadata, self, w, n, (struct drops){ .tag = 1 });
	n = next_sealed(_metadata, self, w, 100);
	w[hlen + 30] ^= 0x04;
	bad_dgram(_metadata, self, w, n, (struct drops){ .tag = 1 });
	if (!IS13) {
		/*
		 * The header says next + 1 (in the AAD): fails, and does not
		 * mark next + 1 as seen (bad_dgram's good record is next).
		 */
		n = next_sealed(_metadata, self, w, 100);
		put_be64(w + 3, (uint64_t)self->in.epoch << 48 |
			 (self->next + 1));
		bad_dgram(_metadata, self, w, n, (struct drops){ .tag = 1 });
		GOOD_RECORD(40, 1);
	}
}

/* Too short for (explicit nonce and) a tag: malformed, not a bad tag. */
TEST_F(wire, bad_short)
{
	size_t min = overhead(variant->version, variant->cipher) -
		     (IS13 ? HDR13 + 1 : HDR12);
	size_t hlen = IS13 ? HDR13 : HDR12;
	uint8_t w[256];
	size_t body;

	for (body = 0; body < min; body += min - 1) {
		next_sealed(_metadata, self, w, 0);
		fill_random(w + hlen, body);
		if (!IS13 && variant->cipher != CHACHA && body >= 8)
			put_be64(w + hlen, (uint64_t)self->in.epoch << 48 |
				 self->next);
		w[hlen - 2] = body >> 8;
		w[hlen - 1] = body;
		bad_dgram(_metadata, self, w, hlen + body,
			  (struct drops){ .record = 1 });
	}
	if (IS13) {
		/* S=0, L=0: 2 bytes of header, 15 of "ciphertext". */
		w[0] = UH_FIXED | (self->in.epoch & 3);
		fill_random(w + 1, 16);
		bad_dgram(_metadata, self, w, 17,
			  (struct drops){ .record = 1 });
	}
}

/*
 * A reader blocked in recv() stays blocked through bad datagrams and
 * gets the good record that follows them.
 */
TEST_F(wire, bad_while_blocked)
{
	struct timeval tv = { .tv_sec = 5 };
	uint8_t buf[256];
	pid_t pid;
	int status;

	ASSERT_EQ(0, setsockopt(self->tfd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				sizeof(tv)));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct rec r = data_rec(self->in.epoch, self->next, 60, 8);
		ssize_t n;

		usleep(200 * 1000);
		n = rec_seal(&self->in, &r, buf);
		if (n <= 0)
			_exit(1);
		buf[n - 1] ^= 0x01;
		send(self->wfd, buf, n, 0);
		send(self->wfd, "junk", 4, 0);
		usleep(200 * 1000);
		buf[n - 1] ^= 0x01;
		_exit(send(self->wfd, buf, n, 0) == n ? 0 : 1);
	}
	EXPECT_EQ(60, recv(self->tfd, buf, sizeof(buf), 0))
		TH_LOG("recv: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(buf, stream(8), 60));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	EXPECT_EQ(1, CNT(self->tfd, rx_bad_tag));
	EXPECT_EQ(1, CNT(self->tfd, rx_bad_record));
}

/* Only bad datagrams: a non-blocking read says EAGAIN, a good one comes. */
TEST_F(wire, bad_only_eagain)
{
	struct tapsec_counters c0 = tinfo(_metadata, self->tfd).counters;
	uint8_t w[256];
	size_t n;
	int i;

	for (i = 0; i < 10; i++) {
		n = next_sealed(_metadata, self, w, 50);
		w[n - 1 - i] ^= 0x10;
		ASSERT_EQ(n, send(self->wfd, w, n, 0));
		ASSERT_EQ(3, send(self->wfd, "bad", 3, 0));
	}
	EXPECT_NOTHING(self->tfd);
	EXPECT_EQ(-1, recv(self->tfd, w, sizeof(w), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	expect_drops(_metadata, self->tfd, &c0,
		     (struct drops){ .tag = 10, .record = 10 });
	GOOD_RECORD(10, 1);
}

/* ---- 7. payload limit ---- */

/* Loopback's MTU is 65536: the record limit, 2^14, is the smaller. */
TEST_F(wire, max_payload_loopback)
{
	uint8_t *big = malloc(MAX_PLAIN + 1);

	ASSERT_NE(NULL, big);
	memcpy(big, stream(1), MAX_PLAIN + 1);
	EXPECT_EQ(MAX_PLAIN, max_payload(self->tfd));
	ASSERT_EQ(MAX_PLAIN, send(self->tfd, big, MAX_PLAIN, 0));
	expect_wire(_metadata, self->wfd, &self->out, T_DATA, self->out.epoch,
		    self->out.seq, big, MAX_PLAIN);
	EXPECT_EQ(-1, send(self->tfd, big, MAX_PLAIN + 1, 0));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(1, CNT(self->tfd, tx_records));
	/* Nothing went out, no number was used. */
	ASSERT_EQ(1, send(self->tfd, big, 1, 0));
	expect_wire(_metadata, self->wfd, &self->out, T_DATA, self->out.epoch,
		    self->out.seq + 1, big, 1);
	free(big);
}

/*
 * With a path MTU of 1280 (lo in a namespace of the test's own): MTU - IP
 * header - UDP header - the record's overhead; one more is EMSGSIZE.
 */
TEST_F(wire, max_payload_mtu)
{
	size_t ip = variant->family == AF_INET ? 20 : 40;
	size_t want = 1280 - ip - 8 - overhead(variant->version,
					       variant->cipher);

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, system("ip link set lo mtu 1280 up"));
	wire_open(_metadata, self, variant, random_seq(), random_seq());
	EXPECT_EQ(want, max_payload(self->tfd))
		TH_LOG("1280 - %zu - 8 - %zu", ip,
		       overhead(variant->version, variant->cipher));
	ASSERT_EQ(want, send(self->tfd, stream(1), want, 0))
		TH_LOG("send: %s", strerror(errno));
	expect_wire(_metadata, self->wfd, &self->out, T_DATA, self->out.epoch,
		    self->out.seq, stream(1), want);
	EXPECT_EQ(-1, send(self->tfd, stream(2), want + 1, 0));
	EXPECT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(want - 1, send(self->tfd, stream(3), want - 1, 0));
	expect_wire(_metadata, self->wfd, &self->out, T_DATA, self->out.epoch,
		    self->out.seq + 1, stream(3), want - 1);
	/* The receive side has no such limit. */
	GOOD_RECORD(4000, 4);
}

/* ---- 8. datagram reads ---- */

/* A short buffer gets the start and MSG_TRUNC; the rest is gone. */
TEST_F(wire, msg_trunc)
{
	uint8_t buf[64];
	struct iovec iov = { .iov_base = buf, .iov_len = 10 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	WIRE_SEND(0, 100, 1);
	WIRE_SEND(1, 50, 2);
	ASSERT_NE(0, wait_fd(self->tfd, POLLIN, WAIT_MS));
	ASSERT_EQ(10, recvmsg(self->tfd, &msg, 0));
	EXPECT_NE(0, msg.msg_flags & MSG_TRUNC);
	EXPECT_EQ(0, memcmp(buf, stream(1), 10));
	EXPECT_DATA(50, 2);

	/* MSG_TRUNC asked for: the record's real length. */
	WIRE_SEND(2, 100, 3);
	WIRE_SEND(3, 20, 4);
	ASSERT_NE(0, wait_fd(self->tfd, POLLIN, WAIT_MS));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(100, recv(self->tfd, buf, 10, MSG_TRUNC));
	EXPECT_EQ(0, memcmp(buf, stream(3), 10));
	EXPECT_EQ(0, buf[10]);
	EXPECT_DATA(20, 4);

	/* A buffer that fits: no flag. */
	WIRE_SEND(4, 30, 5);
	ASSERT_NE(0, wait_fd(self->tfd, POLLIN, WAIT_MS));
	iov.iov_len = sizeof(buf);
	msg.msg_flags = 0;
	ASSERT_EQ(30, recvmsg(self->tfd, &msg, 0));
	EXPECT_EQ(0, msg.msg_flags & MSG_TRUNC);
	EXPECT_EQ(5, CNT(self->tfd, rx_records));
	EXPECT_EQ(0, CNT(self->tfd, rx_replayed));
}

/* MSG_PEEK gives the same record again; the read after it too. */
TEST_F(wire, msg_peek)
{
	uint8_t buf[256];

	WIRE_SEND(0, 100, 1);
	WIRE_SEND(1, 50, 2);
	ASSERT_NE(0, wait_fd(self->tfd, POLLIN, WAIT_MS));
	ASSERT_EQ(100, recv(self->tfd, buf, sizeof(buf), MSG_PEEK));
	EXPECT_EQ(0, memcmp(buf, stream(1), 100));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(100, recv(self->tfd, buf, sizeof(buf), MSG_PEEK));
	EXPECT_EQ(0, memcmp(buf, stream(1), 100));
	ASSERT_EQ(10, recv(self->tfd, buf, 10, MSG_PEEK));
	EXPECT_DATA(100, 1);
	ASSERT_EQ(50, recv(self->tfd, buf, sizeof(buf), MSG_PEEK));
	EXPECT_EQ(0, memcmp(buf, stream(2), 50));
	EXPECT_DATA(50, 2);
	EXPECT_NOTHING(self->tfd);
	EXPECT_EQ(2, CNT(self->tfd, rx_records));
	EXPECT_EQ(150, CNT(self->tfd, rx_bytes));
	EXPECT_EQ(0, CNT(self->tfd, rx_replayed));
}

/* recvfrom and recvmsg name the sender: the wire's address. */
TEST_F(wire, recvfrom_address)
{
	struct sockaddr_storage want, got;
	socklen_t wlen = sizeof(want), glen = sizeof(got);
	uint8_t buf[64];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_name = &got,
			      .msg_namelen = sizeof(got) };

	ASSERT_EQ(0, getsockname(self->wfd, (struct sockaddr *)&want, &wlen));
	WIRE_SEND(0, 20, 1);
	ASSERT_NE(0, wait_fd(self->tfd, POLLIN, WAIT_MS));
	memset(&got, 0xa5, sizeof(got));
	ASSERT_EQ(20, recvfrom(self->tfd, buf, sizeof(buf), 0,
			       (struct sockaddr *)&got, &glen));
	EXPECT_EQ(0, memcmp(buf, stream(1), 20));
	ASSERT_EQ(wlen, glen);
	EXPECT_EQ(variant->family, got.ss_family);
	if (variant->family == AF_INET) {
		struct sockaddr_in *a = (void *)&want, *b = (void *)&got;

		EXPECT_EQ(a->sin_port, b->sin_port);
		EXPECT_EQ(a->sin_addr.s_addr, b->sin_addr.s_addr);
	} else {
		struct sockaddr_in6 *a = (void *)&want, *b = (void *)&got;

		EXPECT_EQ(a->sin6_port, b->sin6_port);
		EXPECT_EQ(0, memcmp(&a->sin6_addr, &b->sin6_addr, 16));
	}

	WIRE_SEND(1, 21, 2);
	ASSERT_NE(0, wait_fd(self->tfd, POLLIN, WAIT_MS));
	memset(&got, 0, sizeof(got));
	ASSERT_EQ(21, recvmsg(self->tfd, &msg, 0));
	EXPECT_EQ(wlen, msg.msg_namelen);
	EXPECT_EQ(0, memcmp(&got, &want, wlen));
}

/* ---- 9. close_notify ---- */

static const uint8_t close_notify[2] = { 1, 0 };

TEST_F(wire, close_notify_on_close)
{
	ASSERT_EQ(8, send(self->tfd, stream(1), 8, 0));
	close_fd(&self->tfd);
	expect_wire(_metadata, self->wfd, &self->out, T_DATA, self->out.epoch,
		    self->out.seq, stream(1), 8);
	expect_wire(_metadata, self->wfd, &self->out, T_ALERT,
		    self->out.epoch, self->out.seq + 1, close_notify, 2);
	EXPECT_NOTHING(self->wfd);
}

TEST_F(wire, close_notify_on_shutdown)
{
	ASSERT_EQ(0, shutdown(self->tfd, SHUT_WR));
	expect_wire(_metadata, self->wfd, &self->out, T_ALERT,
		    self->out.epoch, self->out.seq, close_notify, 2);
	EXPECT_EQ(1, CNT(self->tfd, close_notify_tx));
	EXPECT_EQ(-1, send(self->tfd, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	/* Receiving goes on. */
	GOOD_RECORD(100, 1);
	EXPECT_NOTHING(self->wfd);
}

/* The peer's close_notify: recv gives 0, and keeps giving 0. */
TEST_F(wire, close_notify_received)
{
	struct rec r = { .type = T_ALERT, .epoch = self->in.epoch,
			 .seq = self->in.seq + 1, .data = close_notify,
			 .len = 2 };
	uint8_t buf[64];

	WIRE_SEND(0, 10, 1);
	send_rec(_metadata, self->wfd, &self->in, &r);
	EXPECT_DATA(10, 1);
	EXPECT_EQ(0, recv_wait(self->tfd, buf, sizeof(buf), NULL, 0));
	EXPECT_EQ(0, recv(self->tfd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, recv(self->tfd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(1, CNT(self->tfd, close_notify_rx));
	EXPECT_EQ(0, CNT(self->tfd, rx_bad_record));
	/* Records after it do not matter. */
	WIRE_SEND(2, 10, 2);
	usleep(QUIET_MS * 1000);
	EXPECT_EQ(0, recv(self->tfd, buf, sizeof(buf), MSG_DONTWAIT));
}

/* ================================================================== */
/* 10. Two tapsec sockets                                              */

FIXTURE(e2e) {
	int a, b;
	struct dir ab, ba;	/* a to b, b to a */
};

DTLS_VARIANTS(e2e);

/* New keys both ways, of @epoch, starting at @seq. */
static void e2e_keys(struct __test_metadata *_metadata,
		     FIXTURE_DATA(e2e) *self,
		     const FIXTURE_VARIANT(e2e) *variant, uint16_t epoch,
		     uint64_t seq)
{
	ASSERT_EQ(0, dir_make(&self->ab, variant->version, variant->cipher,
			      epoch, seq, NULL));
	ASSERT_EQ(0, dir_make(&self->ba, variant->version, variant->cipher,
			      epoch, seq, NULL));
	ASSERT_EQ(0, dir_install(self->a, true, &self->ab));
	ASSERT_EQ(0, dir_install(self->b, false, &self->ab));
	ASSERT_EQ(0, dir_install(self->b, true, &self->ba));
	ASSERT_EQ(0, dir_install(self->a, false, &self->ba));
}

FIXTURE_SETUP(e2e)
{
	self->a = self->b = -1;
	ASSERT_TRUE(have_crypto()) TH_LOG("no AF_ALG aead/skcipher/hash");
	ASSERT_EQ(0, dtls_pair(variant->family, &self->a, &self->b));
	e2e_keys(_metadata, self, variant, first_epoch(variant->version),
		 random_seq());
}

FIXTURE_TEARDOWN(e2e)
{
	close_fd(&self->a);
	close_fd(&self->b);
}

/* @len bytes of stream(@seed) from @from arrive whole at @to. */
#define XFER(from, to, len, seed) do {					\
		ASSERT_EQ((ssize_t)(len), send(from, stream(seed), len, 0)) \
			TH_LOG("send %zu: %s", (size_t)(len),		\
			       strerror(errno));			\
		expect_data(_metadata, to, len, seed);			\
	} while (0)

/* Both ways' counters agree. */
static void counters_agree(struct __test_metadata *_metadata, int a, int b)
{
	struct tapsec_counters ca = tinfo(_metadata, a).counters;
	struct tapsec_counters cb = tinfo(_metadata, b).counters;

	EXPECT_EQ(ca.tx_records, cb.rx_records);
	EXPECT_EQ(ca.tx_bytes, cb.rx_bytes);
	EXPECT_EQ(cb.tx_records, ca.rx_records);
	EXPECT_EQ(cb.tx_bytes, ca.rx_bytes);
	EXPECT_EQ(0, ca.rx_bad_tag + cb.rx_bad_tag);
	EXPECT_EQ(0, ca.rx_bad_record + cb.rx_bad_record);
	EXPECT_EQ(0, ca.rx_replayed + cb.rx_replayed);
}

TEST_F(e2e, sizes)
{
	static const size_t fixed[] = {
		0, 1, 2, 15, 16, 17, 31, 32, 33, 100, 255, 256, 1000, 1024,
		1400, 1500, 4095, 4096, 8192, 10000, 16000, 16383, 16384,
	};
	uint64_t total = 0;
	int i, n = 0;

	for (i = 0; i < (int)ARRAY_SIZE(fixed); i++, n++) {
		XFER(self->a, self->b, fixed[i], i);
		XFER(self->b, self->a, fixed[i], i + 100);
		total += fixed[i];
	}
	for (i = 0; i < 40; i++, n++) {
		uint16_t r;

		fill_random(&r, sizeof(r));
		r %= MAX_PLAIN + 1;
		XFER(self->a, self->b, r, 200 + i);
		XFER(self->b, self->a, r, 300 + i);
		total += r;
	}
	counters_agree(_metadata, self->a, self->b);
	EXPECT_EQ(n, CNT(self->a, tx_records));
	EXPECT_EQ(total, CNT(self->b, rx_bytes));
}

/* Many records in flight before the first read: all, in order. */
TEST_F(e2e, burst)
{
	int i, big = 4 << 20;

	setsockopt(self->b, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	for (i = 0; i < 100; i++)
		ASSERT_EQ(10 * i, send(self->a, stream(i), 10 * i, 0));
	for (i = 0; i < 100; i++)
		expect_data(_metadata, self->b, 10 * i, i);
	EXPECT_NOTHING(self->b);
	counters_agree(_metadata, self->a, self->b);
}

TEST_F(e2e, record_types)
{
	uint8_t buf[64];
	int type;

	ASSERT_EQ(30, send_type(self->a, SOL_TAPSEC, T_HANDSHAKE, stream(1),
				30, 0));
	ASSERT_EQ(2, send_type(self->b, SOL_TAPSEC, T_ALERT, "\x01\x2a", 2,
			       0));
	ASSERT_EQ(30, recv_wait(self->b, buf, sizeof(buf), &type, 0));
	EXPECT_EQ(T_HANDSHAKE, type);
	EXPECT_EQ(0, memcmp(buf, stream(1), 30));
	ASSERT_EQ(2, recv_wait(self->a, buf, sizeof(buf), &type, 0));
	EXPECT_EQ(T_ALERT, type);
	EXPECT_EQ(0, memcmp(buf, "\x01\x2a", 2));
	XFER(self->a, self->b, 40, 2);
	XFER(self->b, self->a, 41, 3);
}

TEST_F(e2e, close)
{
	uint8_t buf[64];

	XFER(self->a, self->b, 100, 1);
	close_fd(&self->a);
	EXPECT_EQ(0, recv_wait(self->b, buf, sizeof(buf), NULL, 0));
	EXPECT_EQ(0, recv(self->b, buf, sizeof(buf), 0));
	EXPECT_EQ(1, CNT(self->b, close_notify_rx));
}

TEST_F(e2e, shutdown)
{
	uint8_t buf[64];

	XFER(self->a, self->b, 100, 1);
	ASSERT_EQ(0, shutdown(self->a, SHUT_WR));
	EXPECT_EQ(0, recv_wait(self->b, buf, sizeof(buf), NULL, 0));
	EXPECT_EQ(1, CNT(self->a, close_notify_tx));
	EXPECT_EQ(1, CNT(self->b, close_notify_rx));
	EXPECT_EQ(-1, send(self->a, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
}

/* New keys of the next epoch mid-stream, both ways, twice. */
TEST_F(e2e, rekey)
{
	uint16_t e = self->ab.epoch;
	int i;

	for (i = 1; i <= 2; i++) {
		XFER(self->a, self->b, 1000, i);
		XFER(self->b, self->a, 1000, i + 10);
		e2e_keys(_metadata, self, variant, e + i, 0);
		XFER(self->a, self->b, 2000, i + 20);
		XFER(self->b, self->a, 2000, i + 30);
	}
	counters_agree(_metadata, self->a, self->b);
	EXPECT_EQ(0, CNT(self->b, rx_bad_epoch));
}

/* Record numbers past 16 and 24 bits, end to end. */
TEST_F(e2e, seq_wrap)
{
	uint64_t starts[] = { 0xfff0, 0xfffff0 };
	int i, j;

	for (j = 0; j < 2; j++) {
		e2e_keys(_metadata, self, variant, self->ab.epoch + 1,
			 starts[j]);
		for (i = 0; i < 40; i++) {
			XFER(self->a, self->b, 64, i);
			XFER(self->b, self->a, 64, i + 50);
		}
	}
	counters_agree(_metadata, self->a, self->b);
}

/* ================================================================== */
/* 11. DTLS 1.3 connection IDs (RFC 9147 9)                            */

static int set_cid(int fd, int opt, const uint8_t *cid, size_t len)
{
	return setsockopt(fd, SOL_TAPSEC, opt, cid, len);
}

/* Option @opt of @fd into @cid, with @room bytes: its length, or -errno. */
static int get_cid(int fd, int opt, uint8_t *cid, socklen_t room)
{
	if (getsockopt(fd, SOL_TAPSEC, opt, cid, &room))
		return -errno;
	return room;
}

/* @len random bytes, none equal to the one before it. */
static void cid_make(uint8_t *cid, size_t len)
{
	size_t i;

	fill_random(cid, len);
	for (i = 1; i < len; i++)
		if (cid[i] == cid[i - 1])
			cid[i] ^= 0x01;
}

/*
 * A new connection ID of @len bytes for the records of @d, set as option
 * @opt (TAPSEC_TX_CID or TAPSEC_RX_CID) of @fd.  0 or -1.
 */
static int dir_cid(int fd, int opt, struct dir *d, size_t len)
{
	cid_make(d->cid, len);
	d->cidlen = len;
	return set_cid(fd, opt, d->cid, len);
}

/* Option @opt of @fd is the @len bytes of @cid. */
static void expect_cid(struct __test_metadata *_metadata, int fd, int opt,
		       const uint8_t *cid, size_t len)
{
	uint8_t got[TAPSEC_CID_MAX + 8];

	memset(got, 0xa5, sizeof(got));
	ASSERT_EQ((int)len, get_cid(fd, opt, got, sizeof(got)))
		TH_LOG("option %d", opt);
	EXPECT_EQ(0, memcmp(got, cid, len));
}

/*
 * Lengths 0 to TAPSEC_CID_MAX, each direction on its own, before and
 * after keys; EINVAL beyond and for a short read; EPROTOTYPE without
 * DTLS; EOPNOTSUPP with DTLS 1.2 keys (RFC 9146 is not supported), in
 * either order.
 */
TEST(cid_options)
{
	static const int opts[] = { TAPSEC_TX_CID, TAPSEC_RX_CID };
	static const size_t lens[] = { 1, TAPSEC_CID_MAX, 0 };
	uint8_t cid[TAPSEC_CID_MAX + 1], other[TAPSEC_CID_MAX];
	struct key k12, k13;
	int fd, t, u, i, j, keyed;

	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, fd);
	fill_random(cid, sizeof(cid));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(-1, set_cid(fd, opts[i], cid, 4));
		EXPECT_EQ(EPROTOTYPE, errno);
	}
	close(fd);

	/* Unconnected without keys, then connected with DTLS 1.3 keys. */
	key_make(&k13, DTLS13, GCM128, 3ULL << 48);
	for (keyed = 0; keyed < 2; keyed++) {
		if (keyed) {
			ASSERT_EQ(0, dtls_wire_pair(AF_INET, &fd, &u));
			ASSERT_EQ(0, tapsec_key(fd, TAPSEC_TX, &k13));
			ASSERT_EQ(0, tapsec_key(fd, TAPSEC_RX, &k13));
		} else {
			fd = dtls_socket(AF_INET);
			ASSERT_LE(0, fd);
			u = -1;
		}
		for (i = 0; i < 2; i++) {
			expect_cid(_metadata, fd, opts[i], cid, 0);
			for (j = 0; j < 3; j++) {
				cid_make(cid, lens[j]);
				ASSERT_EQ(0, set_cid(fd, opts[i], cid, lens[j]))
					TH_LOG("%zu bytes: %s", lens[j],
					       strerror(errno));
				expect_cid(_metadata, fd, opts[i], cid,
					   lens[j]);
			}
			cid_make(cid, TAPSEC_CID_MAX);
			ASSERT_EQ(0, set_cid(fd, opts[i], cid,
					     TAPSEC_CID_MAX));
			EXPECT_EQ(-EINVAL, get_cid(fd, opts[i], other,
						   TAPSEC_CID_MAX - 1));
			EXPECT_EQ(-1, set_cid(fd, opts[i], other,
					      TAPSEC_CID_MAX + 1));
			EXPECT_EQ(EINVAL, errno);
			expect_cid(_metadata, fd, opts[i], cid,
				   TAPSEC_CID_MAX);
		}
		/* Each direction has its own. */
		cid_make(cid, 5);
		cid_make(other, 7);
		ASSERT_EQ(0, set_cid(fd, TAPSEC_TX_CID, cid, 5));
		ASSERT_EQ(0, set_cid(fd, TAPSEC_RX_CID, other, 7));
		expect_cid(_metadata, fd, TAPSEC_TX_CID, cid, 5);
		expect_cid(_metadata, fd, TAPSEC_RX_CID, other, 7);
		close(fd);
		if (u >= 0)
			close(u);
	}

	/* DTLS 1.2 keys first: only an empty CID in their direction. */
	key_make(&k12, DTLS12, GCM128, 1ULL << 48);
	ASSERT_EQ(0, dtls_wire_pair(AF_INET, &t, &u));
	ASSERT_EQ(0, tapsec_key(t, TAPSEC_TX, &k12));
	cid_make(cid, 4);
	EXPECT_EQ(-1, set_cid(t, TAPSEC_TX_CID, cid, 4));
	EXPECT_EQ(EOPNOTSUPP, errno);
	expect_cid(_metadata, t, TAPSEC_TX_CID, cid, 0);
	EXPECT_EQ(0, set_cid(t, TAPSEC_TX_CID, cid, 0));
	/* The receive side has no key yet: it may. */
	ASSERT_EQ(0, set_cid(t, TAPSEC_RX_CID, cid, 4));
	/* Then a DTLS 1.2 key cannot come in under it... */
	EXPECT_EQ(-1, tapsec_key(t, TAPSEC_RX, &k12));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(0, tinfo(_metadata, t).rx_version);
	/* ... until it is gone. */
	ASSERT_EQ(0, set_cid(t, TAPSEC_RX_CID, cid, 0));
	ASSERT_EQ(0, tapsec_key(t, TAPSEC_RX, &k12));
	EXPECT_EQ(DTLS12, tinfo(_metadata, t).rx_version);
	EXPECT_EQ(-1, set_cid(t, TAPSEC_RX_CID, cid, 1));
	EXPECT_EQ(EOPNOTSUPP, errno);
	close(t);
	close(u);

	/* A CID first: no DTLS 1.2 key in that direction, DTLS 1.3 is fine. */
	ASSERT_EQ(0, dtls_wire_pair(AF_INET, &t, &u));
	ASSERT_EQ(0, set_cid(t, TAPSEC_TX_CID, cid, 4));
	EXPECT_EQ(-1, tapsec_key(t, TAPSEC_TX, &k12));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(0, tinfo(_metadata, t).tx_version);
	EXPECT_EQ(0, tapsec_key(t, TAPSEC_TX, &k13));
	EXPECT_EQ(DTLS13, tinfo(_metadata, t).tx_version);
	expect_cid(_metadata, t, TAPSEC_TX_CID, cid, 4);
	close(t);
	close(u);
}

/*
 * What tapsec sends with a TAPSEC_TX_CID, byte by byte: C set, the CID
 * after the first byte, in the additional data and ahead of the sample
 * the record number mask is computed from.  DTLS 1.2 keys refuse CIDs.
 */
TEST_F(wire, cid_tx_records)
{
	static const size_t lens[] = { 1, 8, TAPSEC_CID_MAX };
	uint64_t n = 0;
	struct dir none;
	uint8_t cid[4];
	int i, j;

	if (!IS13) {
		cid_make(cid, sizeof(cid));
		EXPECT_EQ(-1, set_cid(self->tfd, TAPSEC_TX_CID, cid, 4));
		EXPECT_EQ(EOPNOTSUPP, errno);
		EXPECT_EQ(-1, set_cid(self->tfd, TAPSEC_RX_CID, cid, 4));
		EXPECT_EQ(EOPNOTSUPP, errno);
		/* Records go on without one. */
		ASSERT_EQ(10, send(self->tfd, stream(1), 10, 0));
		expect_wire(_metadata, self->wfd, &self->out, T_DATA,
			    self->out.epoch, self->out.seq, stream(1), 10);
		return;
	}
	for (j = 0; j < 3; j++) {
		ASSERT_EQ(0, dir_cid(self->tfd, TAPSEC_TX_CID, &self->out,
				     lens[j]));
		for (i = 0; i < NSIZES; i++, n++) {
			ASSERT_EQ(sizes[i], send(self->tfd, stream(i),
						 sizes[i], 0));
			expect_wire(_metadata, self->wfd, &self->out, T_DATA,
				    self->out.epoch, self->out.seq + n,
				    stream(i), sizes[i]);
		}
	}
	/* Other content types carry it too. */
	ASSERT_EQ(20, send_type(self->tfd, SOL_TAPSEC, T_HANDSHAKE, stream(1),
				20, 0));
	expect_wire(_metadata, self->wfd, &self->out, T_HANDSHAKE,
		    self->out.epoch, self->out.seq + n++, stream(1), 20);
	/* A receive CID is not sent. */
	cid_make(cid, sizeof(cid));
	ASSERT_EQ(0, set_cid(self->tfd, TAPSEC_RX_CID, cid, sizeof(cid)));
	ASSERT_EQ(30, send(self->tfd, stream(2), 30, 0));
	expect_wire(_metadata, self->wfd, &self->out, T_DATA, self->out.epoch,
		    self->out.seq + n++, stream(2), 30);
	/* None again: the plain header. */
	none = self->out;
	ASSERT_EQ(0, dir_cid(self->tfd, TAPSEC_TX_CID, &none, 0));
	ASSERT_EQ(31, send(self->tfd, stream(3), 31, 0));
	expect_wire(_metadata, self->wfd, &none, T_DATA, none.epoch,
		    none.seq + n++, stream(3), 31);
	EXPECT_EQ(n, CNT(self->tfd, tx_records));
	EXPECT_NOTHING(self->wfd);
}

/* TAPSEC_MAX_PAYLOAD shrinks by the transmit CID, and only by it. */
TEST_F(wire, cid_max_payload)
{
	size_t ip = variant->family == AF_INET ? 20 : 40;
	size_t want = 1280 - ip - 8 - overhead(variant->version,
					       variant->cipher);
	static const size_t lens[] = { 1, TAPSEC_CID_MAX, 7 };
	int i;

	if (!IS13)
		SKIP(return, "DTLS 1.3 only");
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, system("ip link set lo mtu 1280 up"));
	wire_open(_metadata, self, variant, random_seq(), random_seq());
	ASSERT_EQ(want, max_payload(self->tfd));
	ASSERT_EQ(0, dir_cid(self->tfd, TAPSEC_RX_CID, &self->in,
			     TAPSEC_CID_MAX));
	EXPECT_EQ(want, max_payload(self->tfd));
	for (i = 0; i < 3; i++) {
		size_t room = want - lens[i];

		ASSERT_EQ(0, dir_cid(self->tfd, TAPSEC_TX_CID, &self->out,
				     lens[i]));
		EXPECT_EQ(room, max_payload(self->tfd))
			TH_LOG("a CID of %zu bytes", lens[i]);
		ASSERT_EQ(room, send(self->tfd, stream(i), room, 0))
			TH_LOG("send: %s", strerror(errno));
		expect_wire(_metadata, self->wfd, &self->out, T_DATA,
			    self->out.epoch, self->out.seq + i, stream(i),
			    room);
		EXPECT_EQ(-1, send(self->tfd, stream(i), room + 1, 0));
		EXPECT_EQ(EMSGSIZE, errno);
	}
	ASSERT_EQ(0, dir_cid(self->tfd, TAPSEC_TX_CID, &self->out, 0));
	EXPECT_EQ(want, max_payload(self->tfd));
}

/*
 * With a TAPSEC_RX_CID records must carry exactly it: without the C bit,
 * with other bytes, or with a CID of another length (the receiver knows
 * only its own length: these differ within it) the header cannot be
 * parsed, and the datagram goes (rx_bad_record).  Without one, records
 * with a CID are dropped the same way.
 */
TEST_F(wire, cid_rx_records)
{
	struct tapsec_counters c0 = tinfo(_metadata, self->tfd).counters;
	uint8_t *w = malloc(DGRAM);
	struct dir bad, with;
	struct rec r;
	size_t n, cl = 6;
	ssize_t m;
	int i;

	if (!IS13)
		SKIP(return, "DTLS 1.3 only (EOPNOTSUPP: cid_tx_records)");
	ASSERT_NE(NULL, w);

	/* No RX CID yet. */
	bad = self->in;
	cid_make(bad.cid, cl);
	bad.cidlen = cl;
	n = next_sealed_by(_metadata, self, &bad, w, 40);
	bad_dgram(_metadata, self, w, n, (struct drops){ .record = 1 });

	ASSERT_EQ(0, dir_cid(self->tfd, TAPSEC_RX_CID, &self->in, cl));
	GOOD_RECORD(100, 1);
	/* The short header forms, with the CID. */
	for (i = 0; i < 3; i++)
		rx_shaped(_metadata, self, self->next++ - self->in.seq, 50 + i,
			  2 + i, i == 0 ? R_SEQ8 : i == 1 ? R_NOLEN :
			  R_SEQ8 | R_NOLEN, 0);

	/* No C bit. */
	bad = self->in;
	bad.cidlen = 0;
	n = next_sealed_by(_metadata, self, &bad, w, 40);
	bad_dgram(_metadata, self, w, n, (struct drops){ .record = 1 });
	/* Another first byte, another last byte. */
	for (i = 0; i < 2; i++) {
		bad = self->in;
		bad.cid[i ? cl - 1 : 0] ^= 0x80;
		n = next_sealed_by(_metadata, self, &bad, w, 40);
		bad_dgram(_metadata, self, w, n,
			  (struct drops){ .record = 1 });
	}
	/* One byte shorter (the first left out) and one longer. */
	bad = self->in;
	memmove(bad.cid, bad.cid + 1, cl - 1);
	bad.cidlen = cl - 1;
	n = next_sealed_by(_metadata, self, &bad, w, 40);
	bad_dgram(_metadata, self, w, n, (struct drops){ .record = 1 });
	bad = self->in;
	memmove(bad.cid + 1, bad.cid, cl);
	bad.cid[0] = self->in.cid[0] ^ 0xff;
	bad.cidlen = cl + 1;
	n = next_sealed_by(_metadata, self, &bad, w, 40);
	bad_dgram(_metadata, self, w, n, (struct drops){ .record = 1 });
	/* Sealed with the right one, then one bit of it changed. */
	n = next_sealed(_metadata, self, w, 40);
	w[cl] ^= 0x01;
	bad_dgram(_metadata, self, w, n, (struct drops){ .record = 1 });
	/* A wrong CID takes a good record after it in the datagram along. */
	bad = self->in;
	bad.cid[0] ^= 0x01;
	n = next_sealed_by(_metadata, self, &bad, w, 40);
	r = data_rec(self->in.epoch, self->next, 60, 9);
	m = rec_seal(&self->in, &r, w + n);
	ASSERT_LT(0, m);
	bad_dgram(_metadata, self, w, n + m, (struct drops){ .record = 1 });

	/* The RX CID removed: records with it are dropped, without taken. */
	with = self->in;
	ASSERT_EQ(0, dir_cid(self->tfd, TAPSEC_RX_CID, &self->in, 0));
	n = next_sealed_by(_metadata, self, &with, w, 40);
	bad_dgram(_metadata, self, w, n, (struct drops){ .record = 1 });
	expect_drops(_metadata, self->tfd, &c0,
		     (struct drops){ .record = 9 });
	EXPECT_EQ(self->next - self->in.seq, CNT(self->tfd, rx_records));
	free(w);
}

/* Two tapsec sockets, a CID each way, KeyUpdates and ACKs included. */
TEST_F(e2e, cid_both_ways)
{
	static const size_t lens[] = { 0, 1, 100, 1500, MAX_PLAIN };
	int i, v = TAPSEC_KEY_UPDATE_NOT_REQUESTED;

	if (variant->version != DTLS13)
		SKIP(return, "DTLS 1.3 only");
	ASSERT_EQ(0, dir_cid(self->a, TAPSEC_TX_CID, &self->ab, 5));
	ASSERT_EQ(0, set_cid(self->b, TAPSEC_RX_CID, self->ab.cid, 5));
	ASSERT_EQ(0, dir_cid(self->b, TAPSEC_TX_CID, &self->ba,
			     TAPSEC_CID_MAX));
	ASSERT_EQ(0, set_cid(self->a, TAPSEC_RX_CID, self->ba.cid,
			     TAPSEC_CID_MAX));
	for (i = 0; i < (int)ARRAY_SIZE(lens); i++) {
		XFER(self->a, self->b, lens[i], i);
		XFER(self->b, self->a, lens[i], i + 10);
	}
	counters_agree(_metadata, self->a, self->b);

	/* b expects another CID: a's records do not pass. */
	self->ab.cid[0] ^= 0x01;
	ASSERT_EQ(0, set_cid(self->b, TAPSEC_RX_CID, self->ab.cid, 5));
	ASSERT_EQ(10, send(self->a, stream(1), 10, 0));
	EXPECT_NOTHING(self->b);
	EXPECT_EQ(1, CNT(self->b, rx_bad_record));
	self->ab.cid[0] ^= 0x01;
	ASSERT_EQ(0, set_cid(self->b, TAPSEC_RX_CID, self->ab.cid, 5));
	XFER(self->a, self->b, 20, 2);

	/* A KeyUpdate and its ACK carry the CIDs: the next epoch flows. */
	ASSERT_EQ(0, setsockopt(self->a, SOL_TAPSEC, TAPSEC_KEY_UPDATE, &v,
				sizeof(v)));
	XFER(self->a, self->b, 30, 3);
	XFER(self->b, self->a, 31, 4);
	EXPECT_EQ(1, CNT(self->a, tx_key_updates));
	EXPECT_EQ(1, CNT(self->b, rx_key_updates));
	XFER(self->a, self->b, 32, 5);
	XFER(self->b, self->a, 33, 6);
	EXPECT_EQ(1, CNT(self->b, rx_bad_record));
	EXPECT_EQ(0, CNT(self->a, rx_bad_record));
	EXPECT_EQ(0, CNT(self->a, rx_bad_tag) + CNT(self->b, rx_bad_tag));
}

/* ================================================================== */
/* 12. Mobility: a listener's child follows its peer by its CID       */

/*
 * A child of non-blocking DTLS listener @lfd for plain UDP socket @cfd,
 * connected to it, without a daemon: a ClientHello, the cookie of the
 * HelloVerifyRequest, the ClientHello again with it, accept().
 */
static int accept_child(struct __test_metadata *_metadata, int lfd, int cfd)
{
	uint8_t random[32], hvr[64];
	int fd;

	fill_random(random, sizeof(random));
	send_hello(_metadata, cfd, 0, random, NULL, 0);
	ASSERT_NE(0, wait_fd(lfd, POLLIN, WAIT_MS));
	EXPECT_EQ(-1, accept(lfd, NULL, NULL));		/* answers it */
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(13 + 12 + 3 + 16, recv_wait(cfd, hvr, sizeof(hvr), NULL, 0));
	send_hello(_metadata, cfd, 1, random, hvr + 28, 16);
	ASSERT_NE(0, wait_fd(lfd, POLLIN, WAIT_MS));
	fd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, fd) TH_LOG("accept: %s", strerror(errno));
	return fd;
}

/* What TAPSEC_EVENT_PEER_MOVED says when the peer is @fd's address. */
static void moved_reason(struct __test_metadata *_metadata, int fd,
			 char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct sockaddr_in6 *s6 = (void *)&ss;
	struct sockaddr_in *s4 = (void *)&ss;
	char a[INET6_ADDRSTRLEN];

	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&ss, &len));
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, size, "peer moved to %s:%u", a,
			 ntohs(s4->sin_port));
	} else {
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, size, "peer moved to [%s]:%u", a,
			 ntohs(s6->sin6_port));
	}
}

FIXTURE(mob) {
	int lfd;		/* the listener, non-blocking */
	int c;			/* its child, DTLS 1.3 keys and CIDs */
	int a;			/* the child's first peer, plain UDP */
	struct sockaddr_storage laddr;	/* the listener's address */
	socklen_t llen;
	struct dir out;		/* the child to its peer, with TX_CID */
	struct dir in;		/* peers to the child, with RX_CID */
	uint64_t sent;		/* records the child has sent */
	struct tapsec_nl nl;	/* in the events group */
};

FIXTURE_VARIANT(mob) {
	uint16_t cipher;
	int family;
};

FIXTURE_VARIANT_ADD(mob, aes128) { GCM128, AF_INET };
FIXTURE_VARIANT_ADD(mob, chacha20) { CHACHA, AF_INET };
FIXTURE_VARIANT_ADD(mob, aes256_ipv6) { GCM256, AF_INET6 };

/* @from sends record in.seq + @off: @len bytes of stream(@seed). */
static void mob_send(struct __test_metadata *_metadata,
		     FIXTURE_DATA(mob) *self, int from, uint64_t off,
		     size_t len, unsigned int seed)
{
	struct rec r = data_rec(self->in.epoch, self->in.seq + off, len, seed);

	send_rec(_metadata, from, &self->in, &r);
}

/* The child gives @len bytes of stream(@seed), from @from's address. */
static void mob_expect(struct __test_metadata *_metadata,
		       FIXTURE_DATA(mob) *self, int from, size_t len,
		       unsigned int seed)
{
	struct sockaddr_storage want, got;
	socklen_t wlen = sizeof(want);
	uint8_t *buf = malloc(DGRAM);
	ssize_t n;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, getsockname(from, (struct sockaddr *)&want, &wlen));
	memset(&got, 0, sizeof(got));
	n = recv_wait_from(self->c, buf, DGRAM, NULL, 0, &got);
	ASSERT_EQ((ssize_t)len, n) TH_LOG("recv: %s",
					  n < 0 ? strerror(-n) : "length");
	EXPECT_EQ(0, memcmp(buf, stream(seed), len));
	EXPECT_TRUE(same_addr(&want, &got))
		TH_LOG("recvfrom: not the sender's address");
	free(buf);
}

/* The child's peer is @fd's address. */
static void mob_peer_is(struct __test_metadata *_metadata,
			FIXTURE_DATA(mob) *self, int fd)
{
	struct sockaddr_storage want, got;
	socklen_t wlen = sizeof(want), glen = sizeof(got);

	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&want, &wlen));
	ASSERT_EQ(0, getpeername(self->c, (struct sockaddr *)&got, &glen));
	EXPECT_TRUE(same_addr(&want, &got)) TH_LOG("getpeername");
}

/* The child sends @len bytes of stream(@seed): its next record, to @to. */
static void mob_child_sends(struct __test_metadata *_metadata,
			    FIXTURE_DATA(mob) *self, int to, size_t len,
			    unsigned int seed)
{
	ASSERT_EQ((ssize_t)len, send(self->c, stream(seed), len, 0))
		TH_LOG("send: %s", strerror(errno));
	expect_wire(_metadata, to, &self->out, T_DATA, self->out.epoch,
		    self->out.seq + self->sent++, stream(seed), len);
}

/*
 * The listener has nothing queued, and dropped @bad datagrams that were
 * no ClientHello since counters @l0.
 */
static void mob_listener_dropped(struct __test_metadata *_metadata,
				 FIXTURE_DATA(mob) *self,
				 const struct tapsec_counters *l0,
				 uint64_t bad)
{
	EXPECT_EQ(-1, accept(self->lfd, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(bad, CNT(self->lfd, rx_bad_record) - l0->rx_bad_record);
}

/* A peer: a plain UDP socket connected to the listener. */
static int mob_peer(struct __test_metadata *_metadata,
		    FIXTURE_DATA(mob) *self, int family)
{
	int fd = socket(family, SOCK_DGRAM, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&self->laddr,
			     self->llen));
	return fd;
}

/*
 * A listener on loopback; a child for A, with DTLS 1.3 keys, a TX CID of
 * 3 bytes and an RX CID of 8; record in.seq + 0 from A to the child and
 * one back.
 */
FIXTURE_SETUP(mob)
{
	self->lfd = self->c = self->a = -1;
	ASSERT_TRUE(have_crypto()) TH_LOG("no AF_ALG aead/skcipher/hash");
	ASSERT_EQ(0, tapsec_nl_open(&self->nl));
	ASSERT_EQ(0, join_group(&self->nl, TAPSEC_MCGRP_EVENTS));
	self->lfd = dtls_socket(variant->family);
	ASSERT_LE(0, self->lfd);
	ASSERT_EQ(0, tt_bind_loopback(self->lfd, variant->family,
				      &self->laddr, &self->llen));
	ASSERT_EQ(0, listen(self->lfd, 1));
	ASSERT_EQ(0, fcntl(self->lfd, F_SETFL, O_NONBLOCK));
	self->a = mob_peer(_metadata, self, variant->family);
	ASSERT_LE(0, self->a);
	self->c = accept_child(_metadata, self->lfd, self->a);
	ASSERT_EQ(0, dir_make(&self->out, DTLS13, variant->cipher, 3,
			      random_seq(), NULL));
	ASSERT_EQ(0, dir_make(&self->in, DTLS13, variant->cipher, 3,
			      random_seq(), NULL));
	ASSERT_EQ(0, dir_install(self->c, true, &self->out))
		TH_LOG("TAPSEC_TX: %s", strerror(errno));
	ASSERT_EQ(0, dir_install(self->c, false, &self->in))
		TH_LOG("TAPSEC_RX: %s", strerror(errno));
	ASSERT_EQ(0, dir_cid(self->c, TAPSEC_TX_CID, &self->out, 3))
		TH_LOG("TAPSEC_TX_CID: %s", strerror(errno));
	ASSERT_EQ(0, dir_cid(self->c, TAPSEC_RX_CID, &self->in, 8))
		TH_LOG("TAPSEC_RX_CID: %s", strerror(errno));
	/* The ClientHello the child starts with goes first, dropped. */
	/* Every move at once: the limit has cases of its own. */
	ASSERT_EQ(0, set_u32_opt(self->c, TAPSEC_MOVE_INTERVAL, 0));
	mob_send(_metadata, self, self->a, 0, 10, 1000);
	mob_expect(_metadata, self, self->a, 10, 1000);
	mob_child_sends(_metadata, self, self->a, 11, 1001);
	mob_peer_is(_metadata, self, self->a);
}

FIXTURE_TEARDOWN(mob)
{
	close_fd(&self->c);
	close_fd(&self->a);
	close_fd(&self->lfd);
	tapsec_nl_close(&self->nl);
}

/*
 * B sends the next record: the child follows it (getpeername, sends,
 * peer_moves, an event naming B); the listener never sees it.  From D
 * then: a forged record, a replayed one, an older one not seen yet and
 * one with another CID do not move the child; the newest does.
 */
TEST_F(mob, follows_peer)
{
	struct tapsec_counters c0, l0 = tinfo(_metadata, self->lfd).counters;
	char want[TAPSEC_REASON_LEN];
	uint8_t *w = malloc(DGRAM);
	struct tapsec_event ev;
	struct dir other;
	struct rec r;
	ssize_t n;
	int b, d;

	ASSERT_NE(NULL, w);
	b = mob_peer(_metadata, self, variant->family);
	d = mob_peer(_metadata, self, variant->family);

	mob_send(_metadata, self, b, 1, 100, 1);
	mob_expect(_metadata, self, b, 100, 1);
	mob_peer_is(_metadata, self, b);
	EXPECT_EQ(1, CNT(self->c, peer_moves));
	ASSERT_EQ(0, wait_event(&self->nl, self->c, TAPSEC_EVENT_PEER_MOVED,
				&ev, WAIT_MS));
	moved_reason(_metadata, b, want, sizeof(want));
	EXPECT_STREQ(want, ev.reason);
	mob_listener_dropped(_metadata, self, &l0, 0);
	mob_child_sends(_metadata, self, b, 50, 2);
	EXPECT_NOTHING(self->a);

	/* D: record 2 with a bad tag; B's record 1 again. */
	c0 = tinfo(_metadata, self->c).counters;
	r = data_rec(self->in.epoch, self->in.seq + 2, 60, 3);
	n = rec_seal(&self->in, &r, w);
	ASSERT_LT(0, n);
	w[n - 1] ^= 0x01;
	ASSERT_EQ(n, send(d, w, n, 0));
	EXPECT_NOTHING(self->c);
	mob_send(_metadata, self, d, 1, 100, 1);
	EXPECT_NOTHING(self->c);
	expect_drops(_metadata, self->c, &c0,
		     (struct drops){ .tag = 1, .replayed = 1 });
	mob_peer_is(_metadata, self, b);

	/* B sends 5, D the older 3: both read, from each, no move. */
	mob_send(_metadata, self, b, 5, 70, 5);
	mob_expect(_metadata, self, b, 70, 5);
	mob_send(_metadata, self, d, 3, 80, 6);
	mob_expect(_metadata, self, d, 80, 6);
	mob_peer_is(_metadata, self, b);

	/* D, the newest record but another CID: the listener's, dropped. */
	other = self->in;
	other.cid[0] ^= 0xff;
	r = data_rec(self->in.epoch, self->in.seq + 6, 90, 7);
	send_rec(_metadata, d, &other, &r);
	ASSERT_NE(0, wait_fd(self->lfd, POLLIN, WAIT_MS));
	mob_listener_dropped(_metadata, self, &l0, 1);
	EXPECT_NOTHING(self->c);
	expect_drops(_metadata, self->c, &c0,
		     (struct drops){ .tag = 1, .replayed = 1 });
	mob_peer_is(_metadata, self, b);
	EXPECT_EQ(1, CNT(self->c, peer_moves));
	mob_child_sends(_metadata, self, b, 40, 8);
	EXPECT_NOTHING(d);

	/* D, the newest record: now it is D. */
	mob_send(_metadata, self, d, 7, 30, 9);
	mob_expect(_metadata, self, d, 30, 9);
	mob_peer_is(_metadata, self, d);
	EXPECT_EQ(2, CNT(self->c, peer_moves));
	mob_child_sends(_metadata, self, d, 20, 10);
	EXPECT_NOTHING(b);
	EXPECT_NOTHING(self->a);
	/* One event more, for D: none for what did not move the child. */
	EXPECT_EQ(1, count_events(&self->nl, self->c, TAPSEC_EVENT_PEER_MOVED,
				  500, &ev));
	moved_reason(_metadata, d, want, sizeof(want));
	EXPECT_STREQ(want, ev.reason);
	/* A's 0, then 1, 5, 3 and 7. */
	EXPECT_EQ(5, CNT(self->c, rx_records));
	close(b);
	close(d);
	free(w);
}

/*
 * TAPSEC_MOVE_INTERVAL: a move within the interval after the last one is
 * held back and counted; the next newer record after it (here: with the
 * interval set to 0) moves the socket.  The default and the bounds.
 */
TEST_F(mob, move_interval)
{
	uint32_t v;
	int b, d, fd;

	fd = dtls_socket(variant->family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, get_u32_opt(fd, TAPSEC_MOVE_INTERVAL, &v));
	EXPECT_EQ(TAPSEC_MOVE_INTERVAL_DEFAULT, v);
	EXPECT_EQ(-1, set_u32_opt(fd, TAPSEC_MOVE_INTERVAL,
				  TAPSEC_MOVE_INTERVAL_MAX + 1));
	EXPECT_EQ(EINVAL, errno);
	close(fd);

	ASSERT_EQ(0, set_u32_opt(self->c, TAPSEC_MOVE_INTERVAL, 60000));
	b = mob_peer(_metadata, self, variant->family);
	d = mob_peer(_metadata, self, variant->family);
	mob_send(_metadata, self, b, 1, 10, 1);
	mob_expect(_metadata, self, b, 10, 1);
	mob_peer_is(_metadata, self, b);
	/* D within the minute: read, but no move. */
	mob_send(_metadata, self, d, 2, 20, 2);
	mob_expect(_metadata, self, d, 20, 2);
	mob_peer_is(_metadata, self, b);
	EXPECT_EQ(1, CNT(self->c, peer_moves));
	EXPECT_EQ(1, CNT(self->c, moves_limited));
	mob_child_sends(_metadata, self, b, 30, 3);
	ASSERT_EQ(0, set_u32_opt(self->c, TAPSEC_MOVE_INTERVAL, 0));
	mob_send(_metadata, self, d, 3, 40, 4);
	mob_expect(_metadata, self, d, 40, 4);
	mob_peer_is(_metadata, self, d);
	EXPECT_EQ(2, CNT(self->c, peer_moves));
	close(b);
	close(d);
}

/*
 * The path_challenge the child sends to @from after its newer record
 * number in.seq + @off: number @seq of the child's epoch, [0, 8, cookie];
 * the cookie to @cookie.
 */
static void mob_challenge(struct __test_metadata *_metadata,
			  FIXTURE_DATA(mob) *self, int from, uint8_t *cookie)
{
	uint8_t body[10];

	expect_wire_get(_metadata, from, &self->out, T_RRC, self->out.epoch,
			self->out.seq + self->sent++, body, sizeof(body));
	EXPECT_EQ(0, body[0]);		/* path_challenge */
	EXPECT_EQ(8, body[1]);
	memcpy(cookie, body + 2, 8);
}

/* @from answers: a path_response, record in.seq + @off, with @cookie. */
static void mob_respond(struct __test_metadata *_metadata,
			FIXTURE_DATA(mob) *self, int from, uint64_t off,
			const uint8_t *cookie)
{
	uint8_t body[10] = { 1, 8 };
	struct rec r = { .type = T_RRC, .epoch = self->in.epoch,
			 .seq = self->in.seq + off, .data = body,
			 .len = sizeof(body) };

	memcpy(body + 2, cookie, 8);
	send_rec(_metadata, from, &self->in, &r);
}

/*
 * TAPSEC_PATH_CHECK: a newer record from B is read, and the child checks
 * that B can be reached before it sends there: a path_challenge to B; it
 * goes on sending to A meanwhile.  Only B's path_response with the cookie
 * moves it.  Then D: a response with another cookie, or D's cookie from
 * B, moves nothing.
 */
TEST_F(mob, path_check)
{
	uint8_t cookie[8], other[8];
	struct tapsec_counters c0;
	struct tapsec_event ev;
	uint32_t v;
	int b, d;

	ASSERT_EQ(0, set_u32_opt(self->c, TAPSEC_PATH_CHECK, 1));
	ASSERT_EQ(0, get_u32_opt(self->c, TAPSEC_PATH_CHECK, &v));
	EXPECT_EQ(1, v);
	EXPECT_EQ(-1, set_u32_opt(self->c, TAPSEC_PATH_CHECK, 2));
	EXPECT_EQ(EINVAL, errno);
	b = mob_peer(_metadata, self, variant->family);
	d = mob_peer(_metadata, self, variant->family);

	mob_send(_metadata, self, b, 1, 100, 1);
	mob_expect(_metadata, self, b, 100, 1);
	mob_challenge(_metadata, self, b, cookie);
	EXPECT_EQ(1, CNT(self->c, path_challenges));
	mob_peer_is(_metadata, self, self->a);
	mob_child_sends(_metadata, self, self->a, 50, 2);
	EXPECT_NOTHING(b);

	mob_respond(_metadata, self, b, 2, cookie);
	EXPECT_NOTHING(self->c);	/* the kernel's: nothing to read */
	mob_peer_is(_metadata, self, b);
	EXPECT_EQ(1, CNT(self->c, peer_moves));
	ASSERT_EQ(0, wait_event(&self->nl, self->c, TAPSEC_EVENT_PEER_MOVED,
				&ev, WAIT_MS));
	mob_child_sends(_metadata, self, b, 40, 3);
	EXPECT_NOTHING(self->a);

	/* D: a challenge; answers with the wrong cookie or from B fail. */
	mob_send(_metadata, self, d, 3, 60, 4);
	mob_expect(_metadata, self, d, 60, 4);
	mob_challenge(_metadata, self, d, cookie);
	c0 = tinfo(_metadata, self->c).counters;
	memcpy(other, cookie, 8);
	other[7] ^= 0x80;
	mob_respond(_metadata, self, d, 4, other);
	mob_respond(_metadata, self, b, 5, cookie);
	EXPECT_NOTHING(self->c);
	expect_drops(_metadata, self->c, &c0, (struct drops){ .record = 2 });
	mob_peer_is(_metadata, self, b);
	/* D's own answer. */
	mob_respond(_metadata, self, d, 6, cookie);
	EXPECT_NOTHING(self->c);
	mob_peer_is(_metadata, self, d);
	EXPECT_EQ(2, CNT(self->c, peer_moves));
	EXPECT_EQ(2, CNT(self->c, path_challenges));
	close(b);
	close(d);
}

/* A record of the previous receive epoch (in its grace) does not move it. */
TEST_F(mob, old_epoch_stays)
{
	struct dir e2;
	struct rec r;
	int b;

	b = mob_peer(_metadata, self, variant->family);
	ASSERT_EQ(0, dir_make(&e2, DTLS13, variant->cipher,
			      self->in.epoch + 1, 0, NULL));
	memcpy(e2.cid, self->in.cid, self->in.cidlen);
	e2.cidlen = self->in.cidlen;
	ASSERT_EQ(0, dir_install(self->c, false, &e2));

	mob_send(_metadata, self, b, 10, 40, 1);
	mob_expect(_metadata, self, b, 40, 1);
	mob_peer_is(_metadata, self, self->a);
	EXPECT_EQ(0, CNT(self->c, peer_moves));

	r = data_rec(e2.epoch, 0, 41, 2);
	send_rec(_metadata, b, &e2, &r);
	mob_expect(_metadata, self, b, 41, 2);
	mob_peer_is(_metadata, self, b);
	EXPECT_EQ(1, CNT(self->c, peer_moves));
	close(b);
}

/*
 * One RX CID per listener: a second child cannot take the first one's
 * (EADDRINUSE) but another; the listener's own CID demultiplexes nothing.
 */
TEST_F(mob, cid_in_use)
{
	struct tapsec_counters l0;
	uint8_t lcid[4];
	struct dir other;
	struct rec r;
	int e, c2, d;

	cid_make(lcid, sizeof(lcid));
	e = mob_peer(_metadata, self, variant->family);
	c2 = accept_child(_metadata, self->lfd, e);
	EXPECT_EQ(-1, set_cid(c2, TAPSEC_RX_CID, self->in.cid,
			      self->in.cidlen));
	EXPECT_EQ(EADDRINUSE, errno);
	expect_cid(_metadata, c2, TAPSEC_RX_CID, lcid, 0);
	/* A TX CID is no address. */
	EXPECT_EQ(0, set_cid(c2, TAPSEC_TX_CID, self->in.cid,
			     self->in.cidlen));
	other = self->in;
	other.cid[other.cidlen - 1] ^= 0x01;
	EXPECT_EQ(0, set_cid(c2, TAPSEC_RX_CID, other.cid, other.cidlen));

	ASSERT_EQ(0, set_cid(self->lfd, TAPSEC_RX_CID, lcid, sizeof(lcid)));
	expect_cid(_metadata, self->lfd, TAPSEC_RX_CID, lcid, sizeof(lcid));
	d = mob_peer(_metadata, self, variant->family);
	l0 = tinfo(_metadata, self->lfd).counters;
	memcpy(other.cid, lcid, sizeof(lcid));
	other.cidlen = sizeof(lcid);
	r = data_rec(self->in.epoch, self->in.seq + 1, 20, 1);
	send_rec(_metadata, d, &other, &r);
	ASSERT_NE(0, wait_fd(self->lfd, POLLIN, WAIT_MS));
	mob_listener_dropped(_metadata, self, &l0, 1);

	/* The first child still has its CID, and its peer. */
	mob_send(_metadata, self, self->a, 1, 30, 2);
	mob_expect(_metadata, self, self->a, 30, 2);
	EXPECT_EQ(0, CNT(self->c, peer_moves));
	close(c2);
	close(e);
	close(d);
}

/* Without its listener the child goes on with its peer of the moment. */
TEST_F(mob, listener_closed)
{
	int b;

	b = mob_peer(_metadata, self, variant->family);
	mob_send(_metadata, self, b, 1, 20, 1);
	mob_expect(_metadata, self, b, 20, 1);
	mob_peer_is(_metadata, self, b);
	close_fd(&self->lfd);
	mob_send(_metadata, self, b, 2, 21, 2);
	mob_expect(_metadata, self, b, 21, 2);
	mob_child_sends(_metadata, self, b, 22, 3);
	mob_peer_is(_metadata, self, b);
	EXPECT_EQ(1, CNT(self->c, peer_moves));
	close(b);
}

/*
 * A child closed with a handed datagram unread; then datagrams with its
 * CID are the listener's, which drops them and still makes children.
 */
TEST_F(mob, child_closed)
{
	struct tapsec_counters l0 = tinfo(_metadata, self->lfd).counters;
	int b, d, e, c3;

	b = mob_peer(_metadata, self, variant->family);
	d = mob_peer(_metadata, self, variant->family);
	mob_send(_metadata, self, b, 1, 20, 1);
	mob_expect(_metadata, self, b, 20, 1);
	mob_send(_metadata, self, d, 2, 21, 2);
	ASSERT_NE(0, wait_fd(self->c, POLLIN, WAIT_MS));
	close_fd(&self->c);

	mob_send(_metadata, self, b, 3, 22, 3);
	ASSERT_NE(0, wait_fd(self->lfd, POLLIN, WAIT_MS));
	mob_listener_dropped(_metadata, self, &l0, 1);
	mob_send(_metadata, self, d, 4, 23, 4);
	ASSERT_NE(0, wait_fd(self->lfd, POLLIN, WAIT_MS));
	mob_listener_dropped(_metadata, self, &l0, 2);

	e = mob_peer(_metadata, self, variant->family);
	c3 = accept_child(_metadata, self->lfd, e);
	EXPECT_EQ(0, set_cid(c3, TAPSEC_RX_CID, self->in.cid,
			     self->in.cidlen));
	close(c3);
	close_fd(&self->lfd);
	close(b);
	close(d);
	close(e);
}

TAPSEC_HARNESS_MAIN
