/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec: the record core shared by every record engine: one AEAD key of
 * one direction, its nonce construction and its sequence numbers.
 */
#ifndef _TAPSEC_AEAD_H
#define _TAPSEC_AEAD_H

#include <linux/types.h>
#include <linux/scatterlist.h>
#include <crypto/aead.h>
#include <linux/sockptr.h>
#include <linux/tapsec.h>

#define TAPSEC_NONCE_LEN	12
/* (D)TLS 1.2: the explicit nonce of AES-GCM records, the additional data */
#define TAPSEC_AEAD_EXPLICIT_LEN	8
#define TAPSEC_AEAD_TLS12_AAD_LEN	13
#define TAPSEC_TAG_LEN		16
#define TAPSEC_MAX_KEY_LEN	32

/**
 * struct tapsec_aead - one direction's AEAD key
 * @tfm: the transform, with the key set
 * @req: the request, allocated once and reused for every record (one
 *	record at a time, under the socket lock)
 * @iv: the static IV: XORed with the sequence number (TLS 1.3, DTLS 1.3,
 *	ChaCha20-Poly1305), or salt and explicit nonce (TLS 1.2 AES-GCM)
 * @seq: sequence number of the next record
 * @exhausted: every sequence number has been used; the key is dead
 * @cipher: TAPSEC_CIPHER_*
 */
struct tapsec_aead {
	struct crypto_aead *tfm;
	struct aead_request *req;
	u8 iv[TAPSEC_NONCE_LEN];
	u64 seq;
	bool exhausted;
	u16 cipher;
};

/* The union of every layout TAPSEC_TX/RX take (kTLS's crypto_info). */
union tapsec_crypto_info_any {
	struct tapsec_crypto_info info;
	struct tapsec_crypto_info_aes_gcm_128 gcm128;
	struct tapsec_crypto_info_aes_gcm_256 gcm256;
	struct tapsec_crypto_info_chacha20_poly1305 chacha;
};

/**
 * struct tapsec_keys - one direction's key material, out of a crypto_info
 * @version: crypto_info version, checked by the engine
 * @cipher: TAPSEC_CIPHER_*
 * @key: the key
 * @key_len: its length
 * @iv: salt || iv (AES-GCM) or the 12-byte iv (ChaCha20-Poly1305)
 * @seq: rec_seq, big-endian in the crypto_info
 */
struct tapsec_keys {
	u16 version;
	u16 cipher;
	u8 key[TAPSEC_MAX_KEY_LEN];
	unsigned int key_len;
	u8 iv[TAPSEC_NONCE_LEN];
	u64 seq;
};

/**
 * struct tapsec_key_use - what one transmit key protected, and its limits
 * @records: records sealed under it
 * @bytes: plaintext bytes in them
 * @born: ktime_get_boottime_seconds() when it came in
 * @expiring: TAPSEC_EVENT_KEY_EXPIRING was sent for it
 * @lim: TAPSEC_KEY_LIMITS, which stay from key to key
 *
 * Shared by the engines; tapsec_key_use.c counts and checks it.
 */
struct tapsec_key_use {
	u64 records;
	u64 bytes;
	u64 born;
	bool expiring;
	struct tapsec_key_limits lim;
};

/* tapsec_key_use.c */
void tapsec_key_use_born(struct tapsec_ctx *ctx, struct tapsec_key_use *u);
bool tapsec_key_use_hard(const struct tapsec_key_use *u);
bool tapsec_key_use_soft(const struct tapsec_key_use *u, u16 cipher);
u64 tapsec_key_use_soft_records(const struct tapsec_key_use *u, u16 cipher);
bool tapsec_key_use_expiring(struct sock *sk, struct tapsec_key_use *u);
int tapsec_key_limits_get(sockptr_t optval, unsigned int optlen,
			  struct tapsec_key_limits *lim);

/* tapsec_aead.c */
int tapsec_aead_parse(sockptr_t optval, unsigned int optlen,
		      struct tapsec_keys *k);
unsigned int tapsec_aead_pack(const struct tapsec_aead *a, u16 version,
			      const u8 *key, u64 rec_seq,
			      union tapsec_crypto_info_any *ci);
int tapsec_aead_info_out(union tapsec_crypto_info_any *ci, unsigned int size,
			 int len, char __user *optval, int __user *optlen);
int tapsec_aead_init(struct tapsec_aead *a, u16 cipher, const u8 *key,
		     unsigned int key_len);
void tapsec_aead_wipe(struct tapsec_aead *a);
int tapsec_aead_take_seq(struct tapsec_aead *a, u64 *seq);
void tapsec_aead_xor_nonce(const struct tapsec_aead *a, u64 seq, u8 *nonce);
void tapsec_aead_salt_nonce(const struct tapsec_aead *a, const u8 *explicit,
			    u8 *nonce);
void tapsec_aead_le_nonce(u64 counter, u8 *nonce);
void tapsec_aead_tls12_nonce(const struct tapsec_aead *a, u64 seq, u8 type,
			     u16 version, u16 len, const u8 *explicit,
			     u8 *aad, u8 *nonce);
int tapsec_aead_crypt(struct tapsec_aead *a, bool encrypt,
		      struct scatterlist *src, struct scatterlist *dst,
		      unsigned int assoclen, unsigned int cryptlen, u8 *nonce);

#endif /* _TAPSEC_AEAD_H */
