/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec-handshaked: BLAKE2s (RFC 7693) and HMAC-BLAKE2s, for the Noise
 * handshake of WireGuard (hs_noise.c).
 */
#ifndef HS_BLAKE2S_H
#define HS_BLAKE2S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HS_BLAKE2S_LEN		32
#define HS_BLAKE2S_BLOCK	64

struct hs_blake2s {
	uint32_t h[8];
	uint64_t t;		/* bytes compressed */
	uint8_t buf[HS_BLAKE2S_BLOCK];
	size_t n;		/* bytes in @buf */
	size_t outlen;
};

/* A hash of @outlen (1 to 32) bytes, keyed with @keylen (0 to 32) bytes. */
void hs_blake2s_init(struct hs_blake2s *s, size_t outlen, const void *key,
		     size_t keylen);
void hs_blake2s_update(struct hs_blake2s *s, const void *data, size_t len);
/* Writes @outlen bytes and wipes @s. */
void hs_blake2s_final(struct hs_blake2s *s, uint8_t *out);

/* One call: BLAKE2s of @data, keyed when @keylen is not 0. */
void hs_blake2s(uint8_t *out, size_t outlen, const void *key, size_t keylen,
		const void *data, size_t len);

/* HMAC (RFC 2104) over BLAKE2s-256, a key of at most 64 bytes. */
void hs_hmac_blake2s(uint8_t out[HS_BLAKE2S_LEN], const uint8_t *key,
		     size_t keylen, const void *data, size_t len);

/* Zero @len bytes in a way the compiler keeps. */
void hs_wipe(void *p, size_t len);

#endif /* HS_BLAKE2S_H */
