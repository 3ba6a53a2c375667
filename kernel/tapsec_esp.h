/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec: the ESP record engine (RFC 4303 ESP in UDP, RFC 3948), shared
 * between tapsec_esp.c (security associations, options, the engine
 * table's entry), tapsec_esp_rec.c (sealing and opening packets) and
 * tapsec_esp_io.c (sendmsg, recvmsg).
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
#include "tapsec_aead.h"
#include "tapsec_replay.h"

#define TAPSEC_ESP_HDR_LEN	8	/* SPI, sequence number */
#define TAPSEC_ESP_IV_LEN	TAPSEC_AEAD_EXPLICIT_LEN
#define TAPSEC_ESP_UDP_LEN	8	/* the inner UDP header */
#define TAPSEC_ESP_TRAILER_LEN	2	/* pad length, next header */
/* Offset of the inner UDP header, and of the payload, in a packet. */
#define TAPSEC_ESP_INNER_OFF	(TAPSEC_ESP_HDR_LEN + TAPSEC_ESP_IV_LEN)
#define TAPSEC_ESP_DATA_OFF	(TAPSEC_ESP_INNER_OFF + TAPSEC_ESP_UDP_LEN)
/* The largest packet sent or taken in: a whole UDP datagram. */
#define TAPSEC_ESP_BUF_LEN	65535
#define TAPSEC_ESP_NH_UDP	17
#define TAPSEC_ESP_NH_NONE	59	/* a dummy packet (RFC 4303 2.6) */

/**
 * struct tapsec_esp_key - one security association of one direction
 * @aead: key; its @iv begins with the salt; on transmit @aead.seq is the
 *	next sequence number
 * @spi: the SPI
 * @sport: the inner UDP header's source port
 * @dport: its destination port
 * @key_len: bytes in @key
 * @key: the key, kept to answer TAPSEC_TX_KEY/RX_KEY
 * @replay: on receive, the anti-replay window
 */
struct tapsec_esp_key {
	struct tapsec_aead aead;
	u32 spi;
	u16 sport;
	u16 dport;
	u8 key_len;
	u8 key[TAPSEC_MAX_KEY_LEN];
	struct tapsec_replay replay;
};

/**
 * struct tapsec_esp - the ESP engine of one datagram socket
 * @st: the head of every engine's state (tapsec_engine.h)
 * @ctx: the socket's context
 * @tx_lock: serialises senders and outbound SA changes
 * @rx_lock: serialises readers (across waits) and inbound SA changes
 * @tx: the outbound SA, NULL until TAPSEC_TX
 * @rx: the inbound SA, NULL until TAPSEC_RX
 * @window: TAPSEC_REPLAY_WINDOW
 * @tx_closed: shutdown(SHUT_WR) was called: sends fail with EPIPE
 * @tx_buf: one packet being sealed
 * @rx_buf: one datagram as received, opened in place
 * @rx_from: its source address
 * @rx_from_len: its length
 * @opened: @rx_buf holds an opened packet whose payload is not read yet
 * @data_len: bytes of that payload, at TAPSEC_ESP_DATA_OFF
 * @rx_more: @opened, for poll
 */
struct tapsec_esp {
	struct tapsec_engine_state st;
	struct tapsec_ctx *ctx;
	struct mutex tx_lock;		/* senders, the outbound SA */
	struct mutex rx_lock;		/* readers, the inbound SA */
	struct tapsec_esp_key *tx;
	struct tapsec_esp_key *rx;
	u32 window;
	bool tx_closed;
	u8 *tx_buf;
	u8 *rx_buf;
	struct sockaddr_storage rx_from;
	int rx_from_len;
	bool opened;
	u32 data_len;
	bool rx_more;
};

/**
 * tapsec_esp_of() - a socket's ESP engine state
 * @ctx: the socket's context, or NULL
 *
 * Return: the state, NULL when there is none (or another engine's).
 */
static inline struct tapsec_esp *tapsec_esp_of(const struct tapsec_ctx *ctx)
{
	struct tapsec_engine_state *st;

	st = tapsec_engine_state(ctx, &tapsec_esp_engine_ops);
	return st ? container_of(st, struct tapsec_esp, st) : NULL;
}

/* tapsec_esp_rec.c */
int tapsec_esp_seal(struct sock *sk, struct tapsec_esp_key *k, u8 *buf,
		    u32 plen);
int tapsec_esp_open(struct tapsec_ctx *ctx, struct tapsec_esp *esp, u32 len);

/* tapsec_esp_io.c */
int tapsec_esp_sendmsg(struct sock *sk, struct tapsec_ctx *ctx,
		       struct msghdr *msg, size_t len);
int tapsec_esp_recvmsg(struct sock *sk, struct tapsec_ctx *ctx,
		       struct msghdr *msg, size_t len, int flags,
		       int *addr_len);

#endif /* _TAPSEC_ESP_H */
