/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec: the DTLS record engine (RFC 6347 DTLS 1.2 and RFC 9147 DTLS 1.3
 * records over UDP), shared between tapsec_dtls.c (keys, epochs, options),
 * tapsec_dtls_rec.c (sealing and opening records) and tapsec_dtls_io.c
 * (sendmsg, recvmsg, close_notify).
 */
#ifndef _TAPSEC_DTLS_H
#define _TAPSEC_DTLS_H

#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <linux/sizes.h>
#include <linux/socket.h>
#include <crypto/aes.h>
#include <crypto/skcipher.h>
#include <net/sock.h>

#include "tapsec.h"
#include "tapsec_engine.h"
#include "tapsec_aead.h"
#include "tapsec_replay.h"

#define TAPSEC_DTLS12_HEADER_LEN	13
#define TAPSEC_DTLS13_HEADER_LEN	5	/* as tapsec sends it, CID aside */
#define TAPSEC_DTLS_MAX_PLAINTEXT	SZ_16K
#define TAPSEC_DTLS12_MAX_CIPHERTEXT	(TAPSEC_DTLS_MAX_PLAINTEXT + 2048)
#define TAPSEC_DTLS13_MAX_CIPHERTEXT	(TAPSEC_DTLS_MAX_PLAINTEXT + 256)
#define TAPSEC_DTLS_EXPLICIT_LEN	TAPSEC_AEAD_EXPLICIT_LEN
#define TAPSEC_DTLS12_AAD_LEN		TAPSEC_AEAD_TLS12_AAD_LEN
#define TAPSEC_DTLS_SEQ_MAX		((1ULL << 48) - 1)
/* One record of the largest kind; also the largest datagram taken in. */
#define TAPSEC_DTLS_BUF_LEN		(TAPSEC_DTLS12_HEADER_LEN + \
					 TAPSEC_DTLS12_MAX_CIPHERTEXT)
#define TAPSEC_DTLS_MASK_LEN		16
#define TAPSEC_RECORD_ACK		26	/* RFC 9147 7 */
#define TAPSEC_DTLS_RECENT		16	/* ClientHellos a listener recalls */
#define TAPSEC_DTLS_KU_RECORDS		8	/* KeyUpdate records an ACK may name */
#define TAPSEC_RRC_COOKIE_LEN		8	/* return routability cookie */

struct tapsec_dtls_listener;
struct tapsec_dtls_cids;
struct tapsec_dtls_cid_entry;
struct tapsec_dtls_flight;

/**
 * struct tapsec_dtls_epoch - the key of one epoch of one direction
 * @aead: key, IV and, on transmit, the next sequence number
 * @epoch: the epoch (rec_seq's top 16 bits)
 * @version: TAPSEC_DTLS_1_2_VERSION or TAPSEC_DTLS_1_3_VERSION
 * @explicit_len: explicit nonce bytes per record (8 for DTLS 1.2 AES-GCM)
 * @key_len: bytes in @key
 * @key: the key, kept to answer TAPSEC_TX_KEY/RX_KEY
 * @secret_len: bytes in @secret, 0 without one
 * @secret: DTLS 1.3 traffic secret (TAPSEC_TX_SECRET/RX_SECRET)
 * @has_sn: the DTLS 1.3 record number key (RFC 9147 4.2.3) is set
 * @sn_aes: that key for AES-GCM suites (the AES library, one block)
 * @sn_chacha: that key for ChaCha20-Poly1305 (the "chacha20" skcipher)
 * @first: on receive, the first sequence number expected (rec_seq)
 * @replay: on receive, the anti-replay window of this epoch
 * @aad: DTLS 1.2 additional data of the record at hand
 * @mask: DTLS 1.3 record number mask of the record at hand
 * @cid_len: on transmit, bytes of @cid
 * @cid: on transmit, the connection ID records carry (TAPSEC_TX_CID)
 *
 * @aad and @mask live here, not on the stack, because the crypto API
 * takes them through scatterlists.
 */
struct tapsec_dtls_epoch {
	struct tapsec_aead aead;
	u16 epoch;
	u16 version;
	u8 explicit_len;
	u8 key_len;
	u8 key[TAPSEC_MAX_KEY_LEN];
	u8 secret_len;
	u8 secret[TAPSEC_TLS13_SECRET_MAX];
	bool has_sn;
	struct crypto_aes_ctx sn_aes;
	struct crypto_sync_skcipher *sn_chacha;
	u64 first;
	struct tapsec_replay replay;
	u8 aad[TAPSEC_DTLS12_AAD_LEN];
	u8 mask[TAPSEC_DTLS_MASK_LEN];
	u8 cid_len;
	u8 cid[TAPSEC_CID_MAX];
};

/**
 * struct tapsec_dtls - the DTLS engine of one datagram socket
 * @st: the head of every engine's state (tapsec_engine.h)
 * @ctx: the socket's context
 * @tx_lock: serialises senders and transmit key changes
 * @rx_lock: serialises readers (across waits) and receive key changes
 * @tx: the transmit epoch, NULL until TAPSEC_TX
 * @rx: the current receive epoch, NULL until TAPSEC_RX
 * @rx_prev: the previous receive epoch, kept until @rx_prev_until
 * @rx_prev_until: jiffies after which @rx_prev is dropped
 * @window: TAPSEC_REPLAY_WINDOW
 * @grace_ms: TAPSEC_EPOCH_GRACE
 * @tx_buf: one record being sealed
 * @tx_closed: close_notify sent; sends fail with EPIPE
 * @tx_use: what the transmit key protected, and TAPSEC_KEY_LIMITS
 * @rx_buf: one datagram as received, records opened in place
 * @rx_len: bytes of the datagram in @rx_buf
 * @rx_off: offset of its next record
 * @rx_from: the datagram's source address
 * @rx_from_len: its length
 * @opened: a record of @rx_buf is open, its plaintext not handed out
 * @type: its content type
 * @data_off: offset of its plaintext in @rx_buf
 * @data_len: bytes of it
 * @rx_more: records or plaintext wait in @rx_buf (for poll)
 * @peer_closed: close_notify received: end of file from now on
 * @rx_err: a fatal alert was received: every read fails with it
 * @listener: set by listen(): cookies and what accept() needs
 * @hello: an accepted socket's ClientHello, the daemon's first datagram
 * @hello_len: its length
 * @rec_epoch: epoch of the record open in @rx_buf
 * @rec_seq: its sequence number
 * @ku_wait: a DTLS 1.3 KeyUpdate is sent and not ACKed yet
 * @ku_request: its update_requested
 * @ku_msg_seq: message_seq of the next KeyUpdate
 * @ku_sent: transmissions of the outstanding KeyUpdate
 * @ku_rn: sequence numbers of the last of them (in the transmit epoch)
 * @ku_backoff: milliseconds until the next retransmission
 * @ku_work: retransmits the outstanding KeyUpdate
 * @tx_cid_len: bytes of @tx_cid
 * @tx_cid: TAPSEC_TX_CID, copied into each transmit epoch
 * @rx_cid_len: bytes of @rx_cid
 * @rx_cid: TAPSEC_RX_CID, which received DTLS 1.3 records must carry
 * @cids: a listener's connection ID table, or the one of the listener a
 *	socket was accepted from
 * @cid_entry: this socket's entry in @cids
 * @handed: datagrams the listener handed over (a moved peer's)
 * @rx_handed: the datagram in @rx_buf came from @handed
 * @rec_newest: the record opened is of the current epoch and newer than
 *	every one accepted before
 * @flight: the daemon's last handshake flight, kept to send again
 * @stopped: timers and hooks are stopped (tapsec_dtls_stop())
 * @path_check: TAPSEC_PATH_CHECK
 * @move_interval_ms: TAPSEC_MOVE_INTERVAL
 * @moved: the socket followed its peer at least once
 * @moved_at: jiffies of the last time
 * @path_pending: a return routability check waits for its answer
 * @path_to: the address it went to
 * @path_to_len: its length
 * @path_sent: jiffies when it went
 * @path_cookie: its cookie
 */
struct tapsec_dtls {
	struct tapsec_engine_state st;
	struct tapsec_ctx *ctx;
	struct mutex tx_lock;		/* senders, transmit keys */
	struct mutex rx_lock;		/* readers, receive keys */
	struct tapsec_dtls_epoch *tx;
	struct tapsec_dtls_epoch *rx;
	struct tapsec_dtls_epoch *rx_prev;
	unsigned long rx_prev_until;
	u32 window;
	u32 grace_ms;
	u8 *tx_buf;
	bool tx_closed;
	struct tapsec_key_use tx_use;
	u8 *rx_buf;
	u32 rx_len;
	u32 rx_off;
	struct sockaddr_storage rx_from;
	int rx_from_len;
	bool opened;
	u8 type;
	u32 data_off;
	u32 data_len;
	bool rx_more;
	bool peer_closed;
	int rx_err;
	struct tapsec_dtls_listener *listener;
	u8 *hello;
	u32 hello_len;
	u16 rec_epoch;
	u64 rec_seq;
	bool ku_wait;
	u8 ku_request;
	u16 ku_msg_seq;
	u32 ku_sent;
	u64 ku_rn[TAPSEC_DTLS_KU_RECORDS];
	u32 ku_backoff;
	struct delayed_work ku_work;
	u8 tx_cid_len;
	u8 tx_cid[TAPSEC_CID_MAX];
	u8 rx_cid_len;
	u8 rx_cid[TAPSEC_CID_MAX];
	struct tapsec_dtls_cids *cids;
	struct tapsec_dtls_cid_entry *cid_entry;
	struct sk_buff_head handed;
	bool rx_handed;
	bool rec_newest;
	struct tapsec_dtls_flight *flight;
	bool stopped;
	bool path_check;
	u32 move_interval_ms;
	bool moved;
	unsigned long moved_at;
	bool path_pending;
	struct sockaddr_storage path_to;
	int path_to_len;
	unsigned long path_sent;
	u8 path_cookie[TAPSEC_RRC_COOKIE_LEN];
};

/**
 * tapsec_dtls_of() - a socket's DTLS engine state
 * @ctx: the socket's context, or NULL
 *
 * Return: the state, NULL when there is none (or another engine's).
 */
static inline struct tapsec_dtls *tapsec_dtls_of(const struct tapsec_ctx *ctx)
{
	struct tapsec_engine_state *st;

	st = tapsec_engine_state(ctx, &tapsec_dtls_engine_ops);
	return st ? container_of(st, struct tapsec_dtls, st) : NULL;
}

static inline bool tapsec_dtls13(const struct tapsec_dtls_epoch *ep)
{
	return ep->version == TAPSEC_DTLS_1_3_VERSION;
}

/* Bytes of the header tapsec sends in front of a record's body. */
static inline unsigned int tapsec_dtls_hdr_len(const struct tapsec_dtls_epoch *ep)
{
	return tapsec_dtls13(ep) ? TAPSEC_DTLS13_HEADER_LEN + ep->cid_len :
				   TAPSEC_DTLS12_HEADER_LEN;
}

/* Offset of the payload in a record being sealed. */
static inline unsigned int tapsec_dtls_payload_off(const struct tapsec_dtls_epoch *ep)
{
	return tapsec_dtls_hdr_len(ep) + ep->explicit_len;
}

/* tapsec_dtls.c */
void tapsec_dtls_stop(struct tapsec_ctx *ctx);
void tapsec_dtls_unhook(struct tapsec_ctx *ctx);
void tapsec_dtls_free(struct tapsec_ctx *ctx);
bool tapsec_dtls_option(int optname);
struct tapsec_dtls *tapsec_dtls_engine(struct sock *sk, struct tapsec_ctx *ctx);
struct tapsec_dtls_epoch *tapsec_dtls_epoch_new(const struct tapsec_keys *k);
void tapsec_dtls_epoch_free(struct tapsec_dtls_epoch *ep);
int tapsec_dtls_set_secret(struct tapsec_dtls_epoch *ep,
			   const struct tapsec_tls13_secret *s);
void tapsec_dtls_rx_switch(struct tapsec_dtls *dtls,
			   struct tapsec_dtls_epoch *ep);
int tapsec_dtls_setsockopt(struct sock *sk, struct tapsec_ctx *ctx,
			   int optname, sockptr_t optval, unsigned int optlen);
int tapsec_dtls_getsockopt(struct sock *sk, struct tapsec_ctx *ctx,
			   int optname, char __user *optval,
			   int __user *optlen);
int tapsec_dtls_max_payload(struct sock *sk,
			    const struct tapsec_dtls_epoch *ep);
struct tapsec_dtls_epoch *tapsec_dtls_rx_epoch(struct tapsec_dtls *dtls,
					       u16 epoch, u16 bits);
void tapsec_dtls_tx_cid_copy(struct tapsec_dtls *dtls,
			     struct tapsec_dtls_epoch *ep);

/* tapsec_dtls_rec.c */
unsigned int tapsec_dtls_overhead(const struct tapsec_dtls_epoch *ep);
int tapsec_dtls_seal(struct tapsec_ctx *ctx, struct tapsec_dtls_epoch *ep,
		     u8 *buf, u8 type, u32 plen);
int tapsec_dtls_open(struct tapsec_ctx *ctx, struct tapsec_dtls *dtls);

/* tapsec_dtls_io.c */
int tapsec_dtls_sendmsg(struct sock *sk, struct tapsec_ctx *ctx,
			struct msghdr *msg, size_t len);
int tapsec_dtls_recvmsg(struct sock *sk, struct tapsec_ctx *ctx,
			struct msghdr *msg, size_t len, int flags,
			int *addr_len);
int tapsec_dtls_close_notify(struct sock *sk, struct tapsec_ctx *ctx);
void tapsec_dtls_reject_peer(struct sock *sk, struct tapsec_ctx *ctx);
int tapsec_dtls_send_record(struct sock *sk, struct tapsec_ctx *ctx,
			    struct tapsec_dtls *dtls, u8 type, u32 plen,
			    int flags);
int tapsec_dtls_send_record_to(struct sock *sk, struct tapsec_ctx *ctx,
			       struct tapsec_dtls *dtls, u8 type, u32 plen,
			       int flags, struct sockaddr_storage *to,
			       int to_len);
int tapsec_dtls_fetch(struct sock *sk, struct tapsec_ctx *ctx,
		      struct tapsec_dtls *dtls, long *timeo,
		      unsigned int *dropped);
int tapsec_dtls_raw_hello(struct tapsec_ctx *ctx, struct msghdr *msg,
			  size_t len, int flags);

/* tapsec_dtls13.c */
void tapsec_dtls13_init(struct tapsec_dtls *dtls);
void tapsec_dtls13_stop(struct tapsec_dtls *dtls);
int tapsec_dtls13_key_update(struct sock *sk, struct tapsec_ctx *ctx,
			     bool request);
int tapsec_dtls13_rx_control(struct sock *sk, struct tapsec_dtls *dtls);
int tapsec_dtls13_start_ku(struct sock *sk, struct tapsec_dtls *dtls,
			   bool request);

/* tapsec_dtls_server.c */
int tapsec_dtls_listen(struct socket *sock);
int tapsec_dtls_accept(struct socket *sock, struct socket *newsock,
		       bool nonblock);
void tapsec_dtls_listener_free(struct tapsec_dtls_listener *l);
__poll_t tapsec_dtls_poll(const struct tapsec_ctx *ctx);

/* tapsec_dtls_cid.c */
struct tapsec_dtls_cids *tapsec_dtls_cids_new(struct sock *lsk);
struct tapsec_dtls_cids *tapsec_dtls_cids_get(struct tapsec_dtls_cids *t);
void tapsec_dtls_cids_put(struct tapsec_dtls_cids *t);
void tapsec_dtls_cids_stop(struct sock *lsk);
int tapsec_dtls_cid_register(struct tapsec_dtls *dtls, const u8 *cid, u8 len);
void tapsec_dtls_cid_leave(struct tapsec_dtls *dtls);
void tapsec_dtls_cid_drop(struct tapsec_dtls *dtls);
int tapsec_dtls_take_handed(struct tapsec_ctx *ctx, struct tapsec_dtls *dtls);

/* tapsec_dtls_path.c */
void tapsec_dtls_follow(struct sock *sk, struct tapsec_dtls *dtls);
int tapsec_dtls_path_rx(struct sock *sk, struct tapsec_dtls *dtls);

/* tapsec_dtls_flight.c */
void tapsec_dtls_flight_sent(struct sock *sk, struct tapsec_ctx *ctx,
			     struct msghdr *msg, size_t len);
void tapsec_dtls_flight_read(struct tapsec_ctx *ctx);
void tapsec_dtls_flight_check(struct sock *sk, struct tapsec_dtls *dtls);
void tapsec_dtls_flight_free(struct tapsec_dtls *dtls);

#endif /* _TAPSEC_DTLS_H */
