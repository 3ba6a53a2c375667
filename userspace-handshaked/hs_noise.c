// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec-handshaked: WireGuard's Noise_IKpsk2 handshake (hs_noise.h),
 * written from the WireGuard paper's section 5.4: HASH is BLAKE2s-256,
 * MAC keyed BLAKE2s-128, HMAC HMAC-BLAKE2s, KDFn the HKDF-like chain of
 * HMACs, AEAD ChaCha20-Poly1305 with a counter nonce, DH X25519 (Nettle,
 * which GnuTLS brings).
 *
 * Initiation: sender, ephemeral, static (encrypted), timestamp
 * (encrypted, TAI64N), MAC1, MAC2.  Response: sender, receiver,
 * ephemeral, an empty encrypted payload, MAC1, MAC2.  Both then derive
 * the transport keys from the chaining key.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <nettle/chacha-poly1305.h>
#include <nettle/curve25519.h>
#include <nettle/memops.h>

#include "hs_blake2s.h"
#include "hs_noise.h"

#define KEY	HS_NOISE_KEY_LEN
#define TAG	16
#define TS_LEN	12

static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
static const char label_mac1[] = "mac1----";

/* Offsets in the messages. */
enum {
	INIT_SENDER = 4, INIT_EPHEMERAL = 8, INIT_STATIC = 40,
	INIT_TIMESTAMP = 88, INIT_MAC1 = 116, INIT_MAC2 = 132,
	RESP_SENDER = 4, RESP_RECEIVER = 8, RESP_EPHEMERAL = 12,
	RESP_EMPTY = 44, RESP_MAC1 = 60, RESP_MAC2 = 76,
};

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* h = HASH(h || data) */
static void mix_hash(uint8_t h[KEY], const void *data, size_t len)
{
	struct hs_blake2s s;

	hs_blake2s_init(&s, KEY, NULL, 0);
	hs_blake2s_update(&s, h, KEY);
	hs_blake2s_update(&s, data, len);
	hs_blake2s_final(&s, h);
}

/*
 * KDFn(ck, input): t0 = HMAC(ck, input), t1 = HMAC(t0, 1),
 * t2 = HMAC(t0, t1 || 2), t3 = HMAC(t0, t2 || 3); @t1 becomes the new
 * chaining key where callers pass @ck for it.  @t2, @t3 may be NULL.
 */
static void kdf(uint8_t t1[KEY], uint8_t *t2, uint8_t *t3,
		const uint8_t ck[KEY], const void *input, size_t len)
{
	uint8_t t0[KEY], buf[KEY + 1], out[KEY];

	hs_hmac_blake2s(t0, ck, KEY, input, len);
	buf[0] = 1;
	hs_hmac_blake2s(out, t0, KEY, buf, 1);
	memcpy(buf, out, KEY);
	memcpy(t1, out, KEY);
	if (t2) {
		buf[KEY] = 2;
		hs_hmac_blake2s(out, t0, KEY, buf, KEY + 1);
		memcpy(t2, out, KEY);
		memcpy(buf, out, KEY);
	}
	if (t3) {
		buf[KEY] = 3;
		hs_hmac_blake2s(t3, t0, KEY, buf, KEY + 1);
	}
	hs_wipe(t0, sizeof(t0));
	hs_wipe(buf, sizeof(buf));
	hs_wipe(out, sizeof(out));
}

/* X25519(priv, pub); false for an all-zero result (a low-order point). */
static bool dh(uint8_t out[KEY], const uint8_t priv[KEY],
	       const uint8_t pub[KEY])
{
	static const uint8_t zero[KEY];
	uint8_t n[KEY];

	memcpy(n, priv, KEY);
	n[0] &= 248;
	n[31] = (n[31] & 127) | 64;
	curve25519_mul(out, n, pub);
	hs_wipe(n, sizeof(n));
	return !memeql_sec(out, zero, KEY);
}

bool hs_noise_public(uint8_t pub[KEY], const uint8_t priv[KEY])
{
	static const uint8_t zero[KEY];
	uint8_t n[KEY];

	memcpy(n, priv, KEY);
	n[0] &= 248;
	n[31] = (n[31] & 127) | 64;
	curve25519_mul_g(pub, n);
	hs_wipe(n, sizeof(n));
	return !memeql_sec(priv, zero, KEY);
}

/* AEAD(key, 0, plain, aad): the handshake's keys are used once. */
static void seal(const uint8_t key[KEY], const uint8_t *in, size_t len,
		 const uint8_t *aad, size_t aadlen, uint8_t *out)
{
	uint8_t nonce[CHACHA_POLY1305_NONCE_SIZE] = { 0 };
	struct chacha_poly1305_ctx c;

	chacha_poly1305_set_key(&c, key);
	chacha_poly1305_set_nonce(&c, nonce);
	chacha_poly1305_update(&c, aadlen, aad);
	chacha_poly1305_encrypt(&c, len, out, in);
	chacha_poly1305_digest(&c, TAG, out + len);
	hs_wipe(&c, sizeof(c));
}

/* Open @len bytes of ciphertext and tag into @out; false if forged. */
static bool open_(const uint8_t key[KEY], const uint8_t *in, size_t len,
		  const uint8_t *aad, size_t aadlen, uint8_t *out)
{
	uint8_t nonce[CHACHA_POLY1305_NONCE_SIZE] = { 0 }, tag[TAG];
	struct chacha_poly1305_ctx c;
	bool ok;

	if (len < TAG)
		return false;
	chacha_poly1305_set_key(&c, key);
	chacha_poly1305_set_nonce(&c, nonce);
	chacha_poly1305_update(&c, aadlen, aad);
	chacha_poly1305_decrypt(&c, len - TAG, out, in);
	chacha_poly1305_digest(&c, TAG, tag);
	ok = memeql_sec(tag, in + len - TAG, TAG);
	hs_wipe(&c, sizeof(c));
	if (!ok)
		hs_wipe(out, len - TAG);
	return ok;
}

/* MAC1 of the message @msg of @len bytes (up to its MAC1) to @to_pub. */
static void mac1(uint8_t out[TAG], const uint8_t to_pub[KEY],
		 const uint8_t *msg, size_t len)
{
	uint8_t key[KEY];
	struct hs_blake2s s;

	hs_blake2s_init(&s, KEY, NULL, 0);
	hs_blake2s_update(&s, label_mac1, sizeof(label_mac1) - 1);
	hs_blake2s_update(&s, to_pub, KEY);
	hs_blake2s_final(&s, key);
	hs_blake2s(out, TAG, key, KEY, msg, len);
}

static bool mac1_ok(const uint8_t to_pub[KEY], const uint8_t *msg,
		    size_t len)
{
	uint8_t m[TAG];

	mac1(m, to_pub, msg, len);
	return memeql_sec(m, msg + len, TAG);
}

/* ck = HASH(construction), h = HASH(HASH(ck || identifier) || @resp_pub) */
static void initial(struct hs_noise *n, const uint8_t resp_pub[KEY])
{
	hs_blake2s(n->ck, KEY, NULL, 0, construction,
		   sizeof(construction) - 1);
	memcpy(n->h, n->ck, KEY);
	mix_hash(n->h, identifier, sizeof(identifier) - 1);
	mix_hash(n->h, resp_pub, KEY);
}

/* TAI64N of now: 2^62 + seconds, then nanoseconds, big-endian. */
static void tai64n(uint8_t out[TS_LEN])
{
	struct timespec ts;
	uint64_t s;
	int i;

	clock_gettime(CLOCK_REALTIME, &ts);
	s = 0x4000000000000000ULL + (uint64_t)ts.tv_sec;
	for (i = 0; i < 8; i++)
		out[i] = s >> (56 - 8 * i);
	for (i = 0; i < 4; i++)
		out[8 + i] = (uint32_t)ts.tv_nsec >> (24 - 8 * i);
}

/* A fresh ephemeral key and its public part in @pub. */
static int ephemeral(struct hs_noise *n, uint8_t pub[KEY])
{
	if (getrandom(n->e_priv, KEY, 0) != KEY)
		return -EIO;
	return hs_noise_public(pub, n->e_priv) ? 0 : -EIO;
}

static int new_index(uint32_t *index)
{
	return getrandom(index, sizeof(*index), 0) == sizeof(*index) ? 0 :
									-EIO;
}

int hs_noise_init(struct hs_noise *n, const uint8_t *s_priv,
		  const uint8_t *peer_pub, const uint8_t *psk)
{
	memset(n, 0, sizeof(*n));
	memcpy(n->s_priv, s_priv, KEY);
	memcpy(n->peer_pub, peer_pub, KEY);
	if (psk)
		memcpy(n->psk, psk, KEY);
	if (!hs_noise_public(n->s_pub, n->s_priv)) {
		hs_noise_wipe(n);
		return -EINVAL;
	}
	return 0;
}

int hs_noise_initiation(struct hs_noise *n, uint8_t msg[HS_NOISE_INIT_LEN])
{
	uint8_t k[KEY], shared[KEY], ts[TS_LEN];
	int err;

	memset(msg, 0, HS_NOISE_INIT_LEN);
	err = new_index(&n->local_index);
	if (!err)
		err = ephemeral(n, msg + INIT_EPHEMERAL);
	if (err)
		return err;
	initial(n, n->peer_pub);
	msg[0] = 1;
	put_le32(msg + INIT_SENDER, n->local_index);
	kdf(n->ck, NULL, NULL, n->ck, msg + INIT_EPHEMERAL, KEY);
	mix_hash(n->h, msg + INIT_EPHEMERAL, KEY);
	err = -EINVAL;
	if (!dh(shared, n->e_priv, n->peer_pub))
		goto out;
	kdf(n->ck, k, NULL, n->ck, shared, KEY);
	seal(k, n->s_pub, KEY, n->h, KEY, msg + INIT_STATIC);
	mix_hash(n->h, msg + INIT_STATIC, KEY + TAG);
	if (!dh(shared, n->s_priv, n->peer_pub))
		goto out;
	kdf(n->ck, k, NULL, n->ck, shared, KEY);
	tai64n(ts);
	seal(k, ts, TS_LEN, n->h, KEY, msg + INIT_TIMESTAMP);
	mix_hash(n->h, msg + INIT_TIMESTAMP, TS_LEN + TAG);
	mac1(msg + INIT_MAC1, n->peer_pub, msg, INIT_MAC1);
	err = 0;
out:
	hs_wipe(k, sizeof(k));
	hs_wipe(shared, sizeof(shared));
	return err;
}

/*
 * The response's part both sides compute alike: from @ck and @h after
 * the initiation, the responder's ephemeral @e_r, the two DH results
 * and the PSK, to the key of the empty payload in @k; @ck and @h move.
 */
static void response_chain(uint8_t ck[KEY], uint8_t h[KEY],
			   const uint8_t e_r[KEY], const uint8_t dh_ee[KEY],
			   const uint8_t dh_se[KEY], const uint8_t psk[KEY],
			   uint8_t k[KEY])
{
	uint8_t t[KEY];

	kdf(ck, NULL, NULL, ck, e_r, KEY);
	mix_hash(h, e_r, KEY);
	kdf(ck, NULL, NULL, ck, dh_ee, KEY);
	kdf(ck, NULL, NULL, ck, dh_se, KEY);
	kdf(ck, t, k, ck, psk, KEY);
	mix_hash(h, t, KEY);
	hs_wipe(t, sizeof(t));
}

int hs_noise_consume_response(struct hs_noise *n, const uint8_t *msg,
			      size_t len, struct hs_noise_keys *keys)
{
	uint8_t ck[KEY], h[KEY], k[KEY], ee[KEY], se[KEY], empty[1];
	const uint8_t *e_r = msg + RESP_EPHEMERAL;
	int err = -EBADMSG;

	if (len != HS_NOISE_RESP_LEN || get_le32(msg) != 2 ||
	    get_le32(msg + RESP_RECEIVER) != n->local_index ||
	    !mac1_ok(n->s_pub, msg, RESP_MAC1))
		return -EBADMSG;
	memcpy(ck, n->ck, KEY);
	memcpy(h, n->h, KEY);
	if (!dh(ee, n->e_priv, e_r) || !dh(se, n->s_priv, e_r))
		goto out;
	response_chain(ck, h, e_r, ee, se, n->psk, k);
	if (!open_(k, msg + RESP_EMPTY, TAG, h, KEY, empty))
		goto out;
	n->peer_index = get_le32(msg + RESP_SENDER);
	kdf(keys->send, keys->recv, NULL, ck, NULL, 0);
	keys->send_index = n->peer_index;
	keys->recv_index = n->local_index;
	err = 0;
out:
	hs_wipe(ck, sizeof(ck));
	hs_wipe(h, sizeof(h));
	hs_wipe(k, sizeof(k));
	hs_wipe(ee, sizeof(ee));
	hs_wipe(se, sizeof(se));
	return err;
}

int hs_noise_respond(struct hs_noise *n, const uint8_t *msg, size_t len,
		     uint8_t resp[HS_NOISE_RESP_LEN],
		     struct hs_noise_keys *keys)
{
	uint8_t peer[1][KEY];
	int err;

	memcpy(peer[0], n->peer_pub, KEY);
	err = hs_noise_respond_any(n, peer, 1, msg, len, resp, keys);
	hs_wipe(peer, sizeof(peer));
	return err;
}

int hs_noise_respond_any(struct hs_noise *n, const uint8_t (*peers)[32],
			 unsigned int n_peers, const uint8_t *msg, size_t len,
			 uint8_t resp[HS_NOISE_RESP_LEN],
			 struct hs_noise_keys *keys)
{
	uint8_t k[KEY], shared[KEY], se[KEY], spub[KEY];
	const uint8_t *e_i = msg + INIT_EPHEMERAL;
	unsigned int i, found = n_peers;
	int err = -EBADMSG;

	if (len != HS_NOISE_INIT_LEN || get_le32(msg) != 1 ||
	    !mac1_ok(n->s_pub, msg, INIT_MAC1))
		return -EBADMSG;
	initial(n, n->s_pub);
	kdf(n->ck, NULL, NULL, n->ck, e_i, KEY);
	mix_hash(n->h, e_i, KEY);
	if (!dh(shared, n->s_priv, e_i))
		goto out;
	kdf(n->ck, k, NULL, n->ck, shared, KEY);
	if (!open_(k, msg + INIT_STATIC, KEY + TAG, n->h, KEY, spub))
		goto out;
	mix_hash(n->h, msg + INIT_STATIC, KEY + TAG);
	/* Every key compared, in constant time: which one is not told. */
	for (i = 0; i < n_peers; i++)
		if (memeql_sec(spub, peers[i], KEY))
			found = i;
	err = -EACCES;
	if (found == n_peers)
		goto out;
	memcpy(n->peer_pub, peers[found], KEY);
	err = -EBADMSG;
	if (!dh(shared, n->s_priv, n->peer_pub))
		goto out;
	kdf(n->ck, k, NULL, n->ck, shared, KEY);
	if (!open_(k, msg + INIT_TIMESTAMP, TS_LEN + TAG, n->h, KEY,
		   n->peer_timestamp))
		goto out;
	mix_hash(n->h, msg + INIT_TIMESTAMP, TS_LEN + TAG);
	n->peer_index = get_le32(msg + INIT_SENDER);
	memcpy(n->peer_e, e_i, KEY);

	memset(resp, 0, HS_NOISE_RESP_LEN);
	err = new_index(&n->local_index);
	if (!err)
		err = ephemeral(n, resp + RESP_EPHEMERAL);
	if (err)
		goto out;
	err = -EBADMSG;
	if (!dh(shared, n->e_priv, e_i) || !dh(se, n->e_priv, n->peer_pub))
		goto out;
	resp[0] = 2;
	put_le32(resp + RESP_SENDER, n->local_index);
	put_le32(resp + RESP_RECEIVER, n->peer_index);
	response_chain(n->ck, n->h, resp + RESP_EPHEMERAL, shared, se,
		       n->psk, k);
	seal(k, NULL, 0, n->h, KEY, resp + RESP_EMPTY);
	mix_hash(n->h, resp + RESP_EMPTY, TAG);
	mac1(resp + RESP_MAC1, n->peer_pub, resp, RESP_MAC1);
	kdf(keys->recv, keys->send, NULL, n->ck, NULL, 0);
	keys->send_index = n->peer_index;
	keys->recv_index = n->local_index;
	err = 0;
out:
	hs_wipe(k, sizeof(k));
	hs_wipe(shared, sizeof(shared));
	hs_wipe(se, sizeof(se));
	hs_wipe(spub, sizeof(spub));
	return err;
}

void hs_noise_wipe(struct hs_noise *n)
{
	hs_wipe(n, sizeof(*n));
}
