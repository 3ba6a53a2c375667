/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec: the ESP record engine (RFC 4303 ESP in UDP, RFC 3948), shared
 * between tapsec_esp.c (security associations, options, the engine
 * table's entry) and tapsec_esp_rec.c (sealing and opening packets); its
 * datagram path is the SA engines' (tapsec_sa.c).
 *
 * Transport mode: each packet carries an inner UDP header and the
 * application's datagram, next header 17, so that a Linux host with an
 * xfrm transport SA (encap espinudp) delivers it to a plain UDP socket.
 */
#ifndef _TAPSEC_ESP_H
#define _TAPSEC_ESP_H

#include <linux/mutex.h>
#include <linux/socket.h>
#include <net/sock.h>

#include "tapsec.h"
#include "tapsec_engine.h"
#include "tapsec_sa.h"
#include "tapsec_aead.h"
#include "tapsec_replay.h"

#define TAPSEC_ESP_HDR_LEN	8	/* SPI, sequence number */
#define TAPSEC_ESP_IV_LEN	TAPSEC_AEAD_EXPLICIT_LEN
#define TAPSEC_ESP_UDP_LEN	8	/* the inner UDP header */
#define TAPSEC_ESP_TRAILER_LEN	2	/* pad length, next header */
/* Offset of the inner UDP header, and of the payload, in a packet. */
#define TAPSEC_ESP_INNER_OFF	(TAPSEC_ESP_HDR_LEN + TAPSEC_ESP_IV_LEN)
#define TAPSEC_ESP_DATA_OFF	(TAPSEC_ESP_INNER_OFF + TAPSEC_ESP_UDP_LEN)
#define TAPSEC_ESP_NH_UDP	17
#define TAPSEC_ESP_NH_NONE	59	/* a dummy packet (RFC 4303 2.6) */

/**
 * struct tapsec_esp_key - one security association of one direction
 * @aead: key; its @iv begins with the salt; on transmit @aead.seq is the
 *	next sequence number
 * @spi: the SPI
 * @sport: the inner UDP header's source port
 * @dport: its destination port
 * @esn: extended sequence numbers (TAPSEC_ESP_F_ESN)
 * @key_len: bytes in @key
 * @key: the key, kept to answer TAPSEC_TX_KEY/RX_KEY
 * @replay: on receive, the anti-replay window, over 64-bit numbers
 */
struct tapsec_esp_key {
	struct tapsec_aead aead;
	u32 spi;
	u16 sport;
	u16 dport;
	bool esn;
	u8 key_len;
	u8 key[TAPSEC_MAX_KEY_LEN];
	struct tapsec_replay replay;
};

/* tapsec_esp_rec.c: the engine's struct tapsec_sa_ops members */
int tapsec_esp_seal(struct sock *sk, struct tapsec_sa *sa, u32 plen);
int tapsec_esp_open(struct tapsec_ctx *ctx, struct tapsec_sa *sa, u32 len);
u32 tapsec_esp_tx_data_off(const struct tapsec_sa *sa);

#endif /* _TAPSEC_ESP_H */
