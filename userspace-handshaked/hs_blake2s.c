// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec-handshaked: BLAKE2s (RFC 7693), plain and keyed, the hash of
 * WireGuard's Noise handshake.  Nettle, the crypto library GnuTLS brings,
 * has no BLAKE2 before 3.10; Debian 12 ships 3.8.
 */
#include <string.h>

#include "hs_blake2s.h"

static const uint32_t blake2s_iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

static const uint8_t blake2s_sigma[10][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

static uint32_t ror32(uint32_t x, unsigned int n)
{
	return x >> n | x << (32 - n);
}

static uint32_t load_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void g(uint32_t *v, int a, int b, int c, int d, uint32_t x,
	      uint32_t y)
{
	v[a] = v[a] + v[b] + x;
	v[d] = ror32(v[d] ^ v[a], 16);
	v[c] = v[c] + v[d];
	v[b] = ror32(v[b] ^ v[c], 12);
	v[a] = v[a] + v[b] + y;
	v[d] = ror32(v[d] ^ v[a], 8);
	v[c] = v[c] + v[d];
	v[b] = ror32(v[b] ^ v[c], 7);
}

/* RFC 7693 3.2: compress the block in @s->buf, @last for the final one. */
static void compress(struct hs_blake2s *s, bool last)
{
	uint32_t m[16], v[16];
	int i, r;

	for (i = 0; i < 16; i++)
		m[i] = load_le32(s->buf + 4 * i);
	for (i = 0; i < 8; i++) {
		v[i] = s->h[i];
		v[i + 8] = blake2s_iv[i];
	}
	v[12] ^= (uint32_t)s->t;
	v[13] ^= (uint32_t)(s->t >> 32);
	if (last)
		v[14] = ~v[14];
	for (r = 0; r < 10; r++) {
		const uint8_t *z = blake2s_sigma[r];

		g(v, 0, 4, 8, 12, m[z[0]], m[z[1]]);
		g(v, 1, 5, 9, 13, m[z[2]], m[z[3]]);
		g(v, 2, 6, 10, 14, m[z[4]], m[z[5]]);
		g(v, 3, 7, 11, 15, m[z[6]], m[z[7]]);
		g(v, 0, 5, 10, 15, m[z[8]], m[z[9]]);
		g(v, 1, 6, 11, 12, m[z[10]], m[z[11]]);
		g(v, 2, 7, 8, 13, m[z[12]], m[z[13]]);
		g(v, 3, 4, 9, 14, m[z[14]], m[z[15]]);
	}
	for (i = 0; i < 8; i++)
		s->h[i] ^= v[i] ^ v[i + 8];
}

void hs_blake2s_init(struct hs_blake2s *s, size_t outlen, const void *key,
		     size_t keylen)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->h, blake2s_iv, sizeof(s->h));
	s->h[0] ^= 0x01010000 ^ (uint32_t)(keylen << 8) ^ (uint32_t)outlen;
	s->outlen = outlen;
	if (keylen) {
		memcpy(s->buf, key, keylen);
		s->n = HS_BLAKE2S_BLOCK;	/* the key is a whole block */
	}
}

void hs_blake2s_update(struct hs_blake2s *s, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t take;

	while (len) {
		/* The last block must be compressed as such: keep it. */
		if (s->n == HS_BLAKE2S_BLOCK) {
			s->t += HS_BLAKE2S_BLOCK;
			compress(s, false);
			s->n = 0;
		}
		take = HS_BLAKE2S_BLOCK - s->n;
		if (take > len)
			take = len;
		memcpy(s->buf + s->n, p, take);
		s->n += take;
		p += take;
		len -= take;
	}
}

void hs_blake2s_final(struct hs_blake2s *s, uint8_t *out)
{
	uint8_t full[HS_BLAKE2S_LEN];
	int i;

	s->t += s->n;
	memset(s->buf + s->n, 0, HS_BLAKE2S_BLOCK - s->n);
	compress(s, true);
	for (i = 0; i < 8; i++) {
		full[4 * i] = s->h[i];
		full[4 * i + 1] = s->h[i] >> 8;
		full[4 * i + 2] = s->h[i] >> 16;
		full[4 * i + 3] = s->h[i] >> 24;
	}
	memcpy(out, full, s->outlen);
	hs_wipe(full, sizeof(full));
	hs_wipe(s, sizeof(*s));
}

void hs_blake2s(uint8_t *out, size_t outlen, const void *key, size_t keylen,
		const void *data, size_t len)
{
	struct hs_blake2s s;

	hs_blake2s_init(&s, outlen, key, keylen);
	hs_blake2s_update(&s, data, len);
	hs_blake2s_final(&s, out);
}

void hs_hmac_blake2s(uint8_t out[HS_BLAKE2S_LEN], const uint8_t *key,
		     size_t keylen, const void *data, size_t len)
{
	uint8_t pad[HS_BLAKE2S_BLOCK], inner[HS_BLAKE2S_LEN];
	struct hs_blake2s s;
	size_t i;

	/* Keys here are hashes or chaining keys: never above a block. */
	memset(pad, 0, sizeof(pad));
	memcpy(pad, key, keylen);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36;
	hs_blake2s_init(&s, HS_BLAKE2S_LEN, NULL, 0);
	hs_blake2s_update(&s, pad, sizeof(pad));
	hs_blake2s_update(&s, data, len);
	hs_blake2s_final(&s, inner);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36 ^ 0x5c;
	hs_blake2s_init(&s, HS_BLAKE2S_LEN, NULL, 0);
	hs_blake2s_update(&s, pad, sizeof(pad));
	hs_blake2s_update(&s, inner, sizeof(inner));
	hs_blake2s_final(&s, out);
	hs_wipe(pad, sizeof(pad));
	hs_wipe(inner, sizeof(inner));
}

void hs_wipe(void *p, size_t len)
{
	volatile uint8_t *v = p;

	while (len--)
		*v++ = 0;
}
