/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec: the WireGuard record engine (transport data messages of the
 * WireGuard paper, section 5.4.6), shared between tapsec_wg.c (keys,
 * options, the engine table's entry) and tapsec_wg_rec.c (sealing and
 * opening messages); its datagram path is the SA engines' (tapsec_sa.c).
 *
 * A message: type 4 (1) | reserved, zero (3) | receiver index (4, LE) |
 * counter (8, LE) | encrypted: an inner IPv4/IPv6 UDP packet, zero
 * padding to 16 bytes | tag (16).  No additional data; the nonce is the
 * counter (tapsec_aead_le_nonce()).
 */
#ifndef _TAPSEC_WG_H
#define _TAPSEC_WG_H

#include <linux/in6.h>
#include <net/sock.h>

#include "tapsec.h"
#include "tapsec_engine.h"
#include "tapsec_sa.h"
#include "tapsec_aead.h"
#include "tapsec_replay.h"

#define TAPSEC_WG_TYPE_INITIATION	1
#define TAPSEC_WG_INITIATION_LEN	148
#define TAPSEC_WG_TYPE_DATA	4
#define TAPSEC_WG_HDR_LEN	16	/* type, reserved, index, counter */
#define TAPSEC_WG_PAD		16	/* plaintext padded to a multiple */
#define TAPSEC_WG_IP4_LEN	20
#define TAPSEC_WG_IP6_LEN	40
#define TAPSEC_WG_UDP_LEN	8
#define TAPSEC_WG_TTL		64
/* The WireGuard paper's section 6.1 constants. */
#define TAPSEC_WG_REKEY_AFTER_MESSAGES	BIT_ULL(60)
#define TAPSEC_WG_REKEY_AFTER_TIME	120
#define TAPSEC_WG_REJECT_AFTER_TIME	180

/**
 * struct tapsec_wg_keyhalf - one direction of a keypair
 * @aead: the ChaCha20-Poly1305 key; on transmit @aead.seq is the next
 *	counter
 * @index: the receiver index messages carry
 * @key: the key, kept to answer TAPSEC_TX_KEY/RX_KEY
 * @replay: on receive, the anti-replay window
 */
struct tapsec_wg_keyhalf {
	struct tapsec_aead aead;
	u32 index;
	u8 key[TAPSEC_WG_KEY_LEN];
	struct tapsec_replay replay;
};

/**
 * struct tapsec_wg - the WireGuard engine's state of one socket
 * @sa: the SA engines' head (tapsec_sa.h); must come first
 * @inner: TAPSEC_WG_INNER, set once @inner_set
 * @inner_set: @inner was set; the keys may come
 */
struct tapsec_wg {
	struct tapsec_sa sa;
	struct tapsec_wg_inner inner;
	bool inner_set;
};

/**
 * tapsec_wg_of() - the WireGuard state around an SA head
 * @sa: the head, of a WireGuard socket
 *
 * Return: the state.
 */
static inline struct tapsec_wg *tapsec_wg_of(const struct tapsec_sa *sa)
{
	return container_of(sa, struct tapsec_wg, sa);
}

/**
 * tapsec_wg_ip_len() - the inner IP header's length
 * @wg: the state, with @wg->inner set
 *
 * Return: TAPSEC_WG_IP4_LEN or TAPSEC_WG_IP6_LEN.
 */
static inline u32 tapsec_wg_ip_len(const struct tapsec_wg *wg)
{
	return wg->inner.family == AF_INET ? TAPSEC_WG_IP4_LEN :
					     TAPSEC_WG_IP6_LEN;
}

/* tapsec_wg_rec.c: the engine's struct tapsec_sa_ops members */
int tapsec_wg_seal(struct sock *sk, struct tapsec_sa *sa, u32 plen);
int tapsec_wg_seal_empty(struct sock *sk, struct tapsec_sa *sa);
int tapsec_wg_open(struct tapsec_ctx *ctx, struct tapsec_sa *sa, u32 len);
u32 tapsec_wg_tx_data_off(const struct tapsec_sa *sa);

#endif /* _TAPSEC_WG_H */
