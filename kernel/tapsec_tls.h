/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec: the TLS record engine (RFC 5246 and RFC 8446 records over TCP),
 * shared between tapsec_tls.c (keys, lifecycle), tapsec_tls_tx.c and
 * tapsec_tls_rx.c.
 */
#ifndef _TAPSEC_TLS_H
#define _TAPSEC_TLS_H

#include <linux/mutex.h>
#include <linux/sizes.h>
#include <linux/workqueue.h>
#include <net/sock.h>

#include "tapsec.h"
#include "tapsec_engine.h"
#include "tapsec_aead.h"

#define TAPSEC_ALERT_WARNING		1
#define TAPSEC_ALERT_FATAL		2
#define TAPSEC_ALERT_BAD_CERTIFICATE	42
#define TAPSEC_ALERT_NO_RENEGOTIATION	100	/* RFC 5246 7.2.2, a warning */
#define TAPSEC_TLS_HEADER_LEN		5
#define TAPSEC_TLS_MAX_PLAINTEXT	SZ_16K
#define TAPSEC_TLS12_MAX_CIPHERTEXT	(TAPSEC_TLS_MAX_PLAINTEXT + 2048)
#define TAPSEC_TLS13_MAX_CIPHERTEXT	(TAPSEC_TLS_MAX_PLAINTEXT + 256)
#define TAPSEC_TLS_MAX_RECORD	(TAPSEC_TLS_HEADER_LEN + TAPSEC_TLS12_MAX_CIPHERTEXT)
#define TAPSEC_TLS12_AAD_LEN		TAPSEC_AEAD_TLS12_AAD_LEN
#define TAPSEC_TLS12_EXPLICIT_LEN	TAPSEC_AEAD_EXPLICIT_LEN
#define TAPSEC_TLS_LEGACY_VERSION	0x0303
/* User pages one record may be sealed from or opened into */
#define TAPSEC_TLS_USER_PAGES		16
/* Their table: additional data, the pages, two more pieces (tapsec_tls_pin) */
#define TAPSEC_TLS_USER_SG		(TAPSEC_TLS_USER_PAGES + 3)
/*
 * Pieces one record may be opened from: the additional data, bytes
 * already in the record buffer, then the heads and frags of TCP's skbs
 * (a 16 KiB record in 1448-byte segments TCP did not coalesce takes 12)
 */
#define TAPSEC_TLS_SKB_PIECES		48

/**
 * struct tapsec_tls_dir - parameters of one direction
 * @aead: key, IV and sequence number
 * @version: TAPSEC_TLS_1_2_VERSION or TAPSEC_TLS_1_3_VERSION
 * @explicit_len: explicit nonce bytes in each record (8 for TLS 1.2
 *	AES-GCM, else 0)
 * @aad: TLS 1.2 additional data of the record at hand
 * @key_len: bytes in @key
 * @key: the key, kept only to answer TAPSEC_TX_KEY/TAPSEC_RX_KEY
 * @secret_len: bytes in @secret, 0 without one
 * @secret: TLS 1.3 traffic secret of @key (TAPSEC_TX/RX_SECRET): the
 *	kernel derives the next generation from it on KeyUpdate
 */
struct tapsec_tls_dir {
	struct tapsec_aead aead;
	u16 version;
	u8 explicit_len;
	u8 aad[TAPSEC_TLS12_AAD_LEN];
	u8 key_len;
	u8 key[TAPSEC_MAX_KEY_LEN];
	u8 secret_len;
	u8 secret[TAPSEC_TLS13_SECRET_MAX];
};

/**
 * struct tapsec_tls_tx - transmit side
 * @d: key and parameters
 * @buf: one record: header, explicit nonce, payload, inner type, tag;
 *	in @page, or in @bounce when no page could be had
 * @page: the compound page records are sealed in, which TCP's skbs
 *	reference instead of copying
 * @spare: the previous one, reused once TCP has let it go
 * @bounce: the socket's own record buffer, copied into TCP
 * @rec_len: bytes of the last record sealed in @page: the next one
 *	follows it while a whole record still fits
 * @open_len: payload bytes in the record being filled
 * @open_type: its content type
 * @pend_off: first byte of a sealed record TCP has not taken yet
 * @pend_len: bytes of it left
 * @closed: close_notify sent; nothing more may be sent
 * @err: sealing failed after a sequence number was spent: sending is over
 * @use: what the current key protected, and TAPSEC_KEY_LIMITS
 *	(tapsec_tls_limits.c)
 * @inner_type: a TLS 1.3 record's inner content type when the record is
 *	sealed from the sender's pages (tapsec_tls_tx.c)
 * @pages: the sender's pages a record is sealed from
 * @sg: the additional data, the sender's pages, @inner_type
 */
struct tapsec_tls_tx {
	struct tapsec_tls_dir d;
	u8 *buf;
	struct page *page;
	struct page *spare;
	u8 *bounce;
	u32 rec_len;
	u32 open_len;
	u8 open_type;
	u32 pend_off;
	u32 pend_len;
	bool closed;
	int err;
	struct tapsec_key_use use;
	u8 inner_type;
	struct page *pages[TAPSEC_TLS_USER_PAGES];
	struct scatterlist sg[TAPSEC_TLS_USER_SG];
};

/**
 * struct tapsec_tls_rx - receive side
 * @d: key and parameters
 * @buf: one record as received, opened in place
 * @have: bytes of the record in @buf
 * @need: bytes of the whole record (the header's length until it is in)
 * @opened: @buf holds an opened record
 * @type: its content type
 * @data_off: offset of plaintext not yet handed out
 * @data_len: bytes of it
 * @ready: a complete record, plaintext or an error is waiting (for poll)
 * @queued: the rest of the record whose header is in @buf is in TCP's
 *	receive queue, for the reader to open from there or to move
 * @err: sticky fatal error (negative errno)
 * @peer_closed: close_notify received: end of file
 * @truncated: end of stream without close_notify, reported once
 * @aad_out: where the cipher may put the additional data when a record is
 *	opened into the reader's buffer (tapsec_tls_rx.c)
 * @tail: the last byte of such a TLS 1.3 record: its inner content type,
 *	or 0 when it is padded
 * @pages: the reader's pages the record is opened into
 * @sg: @aad_out, the reader's pages, the rest of the plaintext in @buf
 *	when the reader has no room for it, @tail
 * @src: the additional data, the record's text and tag where they are
 *	when it is opened from TCP's receive queue (tapsec_tls_rx.c)
 */
struct tapsec_tls_rx {
	struct tapsec_tls_dir d;
	u8 *buf;
	u32 have;
	u32 need;
	bool opened;
	u8 type;
	u32 data_off;
	u32 data_len;
	bool ready;
	bool queued;
	int err;
	bool peer_closed;
	bool truncated;
	u8 aad_out[TAPSEC_TLS12_AAD_LEN];
	u8 tail;
	struct page *pages[TAPSEC_TLS_USER_PAGES];
	struct scatterlist sg[TAPSEC_TLS_USER_SG];
	struct scatterlist src[TAPSEC_TLS_SKB_PIECES];
};

/**
 * struct tapsec_tls - the TLS engine of one stream socket
 * @ctx: the socket's context
 * @tx: transmit side, NULL until TAPSEC_TX
 * @rx: receive side, NULL until TAPSEC_RX
 * @tx_lock: serialises senders across TCP's waits for memory
 * @rx_lock: serialises readers across waits for data
 * @tx_work: pushes a sealed record once TCP has room again
 * @saved_data_ready: TCP's sk_data_ready, restored on close
 * @saved_write_space: TCP's sk_write_space, restored on close
 * @exporter_len: bytes in @exporter, 0 without one
 * @exporter_cipher: TAPSEC_CIPHER_* of @exporter (selects the hash)
 * @exporter: TLS 1.3 exporter_master_secret (TAPSEC_EXPORTER_SECRET)
 * @ku_pending: the peer asked for a KeyUpdate that is not sent yet
 * @noreneg_pending: a no_renegotiation alert is owed to the peer
 */
struct tapsec_tls {
	struct tapsec_ctx *ctx;
	struct tapsec_tls_tx *tx;
	struct tapsec_tls_rx *rx;
	struct mutex tx_lock;		/* senders, across TCP's waits */
	struct mutex rx_lock;		/* readers, across waits for data */
	struct work_struct tx_work;
	void (*saved_data_ready)(struct sock *sk);
	void (*saved_write_space)(struct sock *sk);
	u8 exporter_len;
	u16 exporter_cipher;
	u8 exporter[TAPSEC_TLS13_SECRET_MAX];
	bool ku_pending;
	bool noreneg_pending;
};

/* The TLS engine's state of a socket, NULL before its first key. */
static inline struct tapsec_tls *tapsec_tls_of(const struct tapsec_ctx *ctx)
{
	return ctx->engine_priv;
}

/* tapsec_tls.c */
int tapsec_tls_setsockopt(struct sock *sk, struct tapsec_ctx *ctx,
			  int optname, sockptr_t optval, unsigned int optlen);
int tapsec_tls_getsockopt(struct sock *sk, struct tapsec_ctx *ctx,
			  int optname, char __user *optval,
			  int __user *optlen);
void tapsec_tls_close(struct sock *sk, struct tapsec_ctx *ctx);
void tapsec_tls_reject_peer(struct sock *sk, struct tapsec_ctx *ctx);
void tapsec_tls_dir_wipe(struct tapsec_tls_dir *d);
int tapsec_tls_take_seq(struct tapsec_ctx *ctx, struct tapsec_tls_dir *d,
			u64 *seq);
int tapsec_tls_crypt(struct tapsec_tls_dir *d, bool encrypt, u8 *buf,
		     u64 seq, u8 type, u32 textlen, struct scatterlist *ext,
		     struct scatterlist *in);
unsigned int tapsec_tls_pin(struct iov_iter *it, u32 len, struct page **pages,
			    struct scatterlist *sgt);
void tapsec_tls_unpin(struct page **pages, unsigned int n, bool dirty);
void *tapsec_tls_side_alloc(size_t size, size_t buf_len, size_t buf_off);
void tapsec_tls_side_free(void *side, struct tapsec_tls_dir *d, u8 *buf);
void tapsec_tls_free(struct tapsec_ctx *ctx);
void tapsec_tls_record_error(struct sock *sk, struct tapsec_ctx *ctx,
			     int err);

/* tapsec_tls_tx.c */
int tapsec_tls_sendmsg(struct sock *sk, struct tapsec_ctx *ctx,
		       struct msghdr *msg, size_t size);
int tapsec_tls_sendpage(struct sock *sk, struct tapsec_ctx *ctx,
			struct page *page, int offset, size_t size, int flags);
int tapsec_tls_send_close_notify(struct sock *sk, struct tapsec_ctx *ctx,
				 int flags);
int tapsec_tls_tx_flush(struct sock *sk, struct tapsec_ctx *ctx, int flags);
void tapsec_tls_splice_eof(struct sock *sk, struct tapsec_ctx *ctx);
int tapsec_tls_shutdown_tx(struct sock *sk, struct tapsec_ctx *ctx, int flags);
void tapsec_tls_write_space(struct sock *sk);
void tapsec_tls_tx_work(struct work_struct *work);

/* tapsec_tls_posths.c */
int tapsec_tls_post_handshake(struct tapsec_ctx *ctx, const u8 *buf, u32 len);
int tapsec_tls_tx_alloc(struct tapsec_tls_tx **txp);
void tapsec_tls_tx_fresh(struct tapsec_tls_tx *tx);
void tapsec_tls_tx_free(struct tapsec_tls_tx *tx);
int tapsec_tls_seal(struct tapsec_ctx *ctx, struct tapsec_tls_tx *tx);
int tapsec_tls_push(struct sock *sk, struct tapsec_tls_tx *tx, int flags);
int tapsec_tls_tx_owed(struct sock *sk, struct tapsec_ctx *ctx, int flags);
int tapsec_tls_send_alert(struct sock *sk, struct tapsec_ctx *ctx, u8 level,
			  u8 desc, int flags);
int tapsec_tls_cmsg_type(struct msghdr *msg, u8 *type);

/* tapsec_tls_rx.c */
int tapsec_tls_recvmsg(struct sock *sk, struct tapsec_ctx *ctx,
		       struct msghdr *msg, size_t len, int flags);
void tapsec_tls_data_ready(struct sock *sk);
void tapsec_tls_rx_fill(struct sock *sk, struct tapsec_tls_rx *rx);
bool tapsec_tls_rx_readable(const struct tapsec_tls_rx *rx);
int tapsec_tls_rx_alloc(struct tapsec_tls_rx **rxp);
void tapsec_tls_rx_free(struct tapsec_tls_rx *rx);
int tapsec_tls_put_type(struct msghdr *msg, u8 type);

/* tapsec_tls13.c */
#define TAPSEC_TLS13_LABEL	"tls13 "	/* HkdfLabel prefixes, 6 bytes */
#define TAPSEC_DTLS13_LABEL	"dtls13"

/* One generation of a direction's traffic secret, key and IV. */
struct tapsec_tls13_gen {
	u8 secret[TAPSEC_TLS13_SECRET_MAX];
	u8 key[TAPSEC_MAX_KEY_LEN];
	u8 iv[TAPSEC_NONCE_LEN];
};

unsigned int tapsec_tls13_hash_len(u16 cipher);
unsigned int tapsec_tls13_key_len(u16 cipher);
int tapsec_tls13_derive(u16 cipher, const u8 *secret, const char *prefix,
			const char *label, u8 *out, unsigned int out_len);
int tapsec_tls13_next(u16 cipher, const u8 *secret, const char *prefix,
		      struct tapsec_tls13_gen *g);
int tapsec_tls13_get_secret(sockptr_t optval, unsigned int optlen,
			    struct tapsec_tls13_secret *s);
int tapsec_tls13_setsockopt(struct sock *sk, struct tapsec_ctx *ctx,
			    int optname, sockptr_t optval,
			    unsigned int optlen);
int tapsec_tls13_getsockopt(struct sock *sk, struct tapsec_ctx *ctx,
			    int optname, char __user *optval,
			    int __user *optlen);
int tapsec_tls13_tx_update(struct sock *sk, struct tapsec_ctx *ctx,
			   int flags, bool request);
int tapsec_tls13_rx_handshake(struct sock *sk, struct tapsec_ctx *ctx,
			      struct tapsec_tls_rx *rx);

/* tapsec_tls_limits.c */
void tapsec_tls_tx_key_born(struct tapsec_ctx *ctx, struct tapsec_tls_tx *tx);
bool tapsec_tls_tx_expired(const struct tapsec_tls_tx *tx);
int tapsec_tls_tx_limits(struct sock *sk, struct tapsec_ctx *ctx, int flags);
int tapsec_tls_set_limits(struct sock *sk, struct tapsec_tls *tls,
			  sockptr_t optval, unsigned int optlen);
int tapsec_tls_get_limits(struct sock *sk, struct tapsec_ctx *ctx,
			  char __user *optval, int __user *optlen);

#endif /* _TAPSEC_TLS_H */
