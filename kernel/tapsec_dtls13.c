// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: DTLS 1.3 KeyUpdate and ACK in the kernel (RFC 9147 7 and 8),
 * from the traffic secrets of TAPSEC_TX_SECRET/RX_SECRET.
 *
 * Sending: TAPSEC_KEY_UPDATE sends a KeyUpdate under the current epoch
 * and retransmits it (1 s, doubling up to 16 s) until the peer ACKs one of
 * its records; only then does the transmit side move to the next epoch,
 * whose key, IV and record number key come from the next traffic secret
 * ("traffic upd" with the "dtls13" prefix).  One KeyUpdate is outstanding
 * at a time.
 *
 * Receiving: a KeyUpdate in the current receive epoch moves the receive
 * side to the next epoch (the old one stays for TAPSEC_EPOCH_GRACE) and is
 * ACKed; one in the previous epoch is a retransmission and is only ACKed
 * again.  update_requested is answered with a KeyUpdate of our own unless
 * one is outstanding already.  Both happen in the reader's context, like
 * everything on receive.
 */
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "tapsec_compat.h"
#include "tapsec_dtls.h"
#include "tapsec_tls.h"

#define TAPSEC_HS_KEY_UPDATE		24
#define TAPSEC_DTLS_HS_HEADER_LEN	12
#define TAPSEC_DTLS13_KU_LEN		(TAPSEC_DTLS_HS_HEADER_LEN + 1)
#define TAPSEC_DTLS13_KU_FIRST_MS	1000
#define TAPSEC_DTLS13_KU_MAX_MS		16000
#define TAPSEC_DTLS13_RN_LEN		16	/* RecordNumber: epoch, seq */

/* The next epoch of @ep: key, IV and record number key from its secret. */
static struct tapsec_dtls_epoch *tapsec_dtls13_next(struct tapsec_dtls_epoch *ep)
{
	struct tapsec_tls13_secret s = { .cipher = ep->aead.cipher,
					 .len = ep->secret_len };
	struct tapsec_dtls_epoch *next;
	struct tapsec_tls13_gen g;
	struct tapsec_keys k = { .version = ep->version,
				 .cipher = ep->aead.cipher,
				 .key_len = ep->key_len,
				 .seq = (u64)(ep->epoch + 1) << 48 };
	int err;

	if (!ep->secret_len)
		return ERR_PTR(-EPROTO);
	err = tapsec_tls13_next(ep->aead.cipher, ep->secret,
				TAPSEC_DTLS13_LABEL, &g);
	if (err) {
		next = ERR_PTR(err);
		goto out;
	}
	memcpy(k.key, g.key, k.key_len);
	memcpy(k.iv, g.iv, TAPSEC_NONCE_LEN);
	memcpy(s.secret, g.secret, s.len);
	next = tapsec_dtls_epoch_new(&k);
	if (!IS_ERR(next)) {
		err = tapsec_dtls_set_secret(next, &s);
		if (err) {
			tapsec_dtls_epoch_free(next);
			next = ERR_PTR(err);
		}
	}
out:
	memzero_explicit(&g, sizeof(g));
	memzero_explicit(&k, sizeof(k));
	memzero_explicit(&s, sizeof(s));
	return next;
}

/* (Re)send the outstanding KeyUpdate; under the transmit lock. */
static int tapsec_dtls13_send_ku(struct sock *sk, struct tapsec_dtls *dtls)
{
	u8 *b = dtls->tx_buf + tapsec_dtls_payload_off(dtls->tx);
	u64 seq = dtls->tx->aead.seq;
	int err;

	b[0] = TAPSEC_HS_KEY_UPDATE;
	put_unaligned_be24(1, b + 1);
	put_unaligned_be16(dtls->ku_msg_seq, b + 4);
	put_unaligned_be24(0, b + 6);			/* fragment_offset */
	put_unaligned_be24(1, b + 9);			/* fragment_length */
	b[12] = dtls->ku_request;
	err = tapsec_dtls_send_record(sk, dtls->ctx, dtls,
				      TAPSEC_RECORD_HANDSHAKE,
				      TAPSEC_DTLS13_KU_LEN, MSG_DONTWAIT);
	/* Even when UDP refused it: the timer tries again. */
	dtls->ku_rn[dtls->ku_sent++ % TAPSEC_DTLS_KU_RECORDS] = seq;
	return err;
}

/*
 * The retransmission timer holds a reference on the socket while armed,
 * so that the socket (and the engine with it) never goes while it can
 * fire: each arming that queues takes one, each run or cancel that
 * unqueues drops one.
 */
static void tapsec_dtls13_arm(struct sock *sk, struct tapsec_dtls *dtls)
{
	sock_hold(sk);
	if (!queue_delayed_work(system_wq, &dtls->ku_work,
				msecs_to_jiffies(dtls->ku_backoff)))
		sock_put(sk);
}

static void tapsec_dtls13_disarm(struct sock *sk, struct tapsec_dtls *dtls,
				 bool sync)
{
	if (sync ? cancel_delayed_work_sync(&dtls->ku_work) :
		   cancel_delayed_work(&dtls->ku_work))
		sock_put(sk);
}

static void tapsec_dtls13_ku_work(struct work_struct *work)
{
	struct tapsec_dtls *dtls = container_of(to_delayed_work(work),
						struct tapsec_dtls, ku_work);
	struct sock *sk = dtls->ctx->sk;

	mutex_lock(&dtls->tx_lock);
	if (dtls->ku_wait && !dtls->tx_closed) {
		tapsec_dtls13_send_ku(sk, dtls);
		dtls->ku_backoff = min(dtls->ku_backoff * 2,
				       TAPSEC_DTLS13_KU_MAX_MS);
		tapsec_dtls13_arm(sk, dtls);
	}
	mutex_unlock(&dtls->tx_lock);
	sock_put(sk);	/* this run's reference: the engine may go now */
}

/**
 * tapsec_dtls13_init() - set up an engine's KeyUpdate state
 * @dtls: the new engine
 */
void tapsec_dtls13_init(struct tapsec_dtls *dtls)
{
	INIT_DELAYED_WORK(&dtls->ku_work, tapsec_dtls13_ku_work);
}

/**
 * tapsec_dtls13_stop() - no more retransmissions; the socket is closing
 * @dtls: the engine
 */
void tapsec_dtls13_stop(struct tapsec_dtls *dtls)
{
	mutex_lock(&dtls->tx_lock);
	dtls->ku_wait = false;
	mutex_unlock(&dtls->tx_lock);
	tapsec_dtls13_disarm(dtls->ctx->sk, dtls, true);
}

/**
 * tapsec_dtls13_start_ku() - send a KeyUpdate, the key changing on its ACK
 * @sk: the socket
 * @dtls: its engine, under the transmit lock
 * @request: update_requested
 *
 * Return: 0; -EPROTO without a DTLS 1.3 transmit secret; -EBUSY while one
 * is outstanding; -EPIPE after close_notify.
 */
int tapsec_dtls13_start_ku(struct sock *sk, struct tapsec_dtls *dtls,
			   bool request)
{
	struct tapsec_dtls_epoch *ep = dtls->tx;

	if (!ep || !tapsec_dtls13(ep) || !ep->has_sn)
		return -EPROTO;
	if (dtls->tx_closed)
		return -EPIPE;
	if (dtls->ku_wait)
		return -EBUSY;
	dtls->ku_wait = true;
	dtls->ku_request = request;
	dtls->ku_sent = 0;
	dtls->ku_backoff = TAPSEC_DTLS13_KU_FIRST_MS;
	tapsec_dtls13_send_ku(sk, dtls);
	tapsec_dtls13_arm(sk, dtls);
	return 0;
}

/**
 * tapsec_dtls13_key_update() - TAPSEC_KEY_UPDATE on a DTLS 1.3 socket
 * @sk: the socket
 * @ctx: its context
 * @request: ask the peer to update its key too
 *
 * Return: 0 once the KeyUpdate is sent (the key changes when it is
 * ACKed); -EPROTO without a DTLS 1.3 transmit secret; -EBUSY while one is
 * outstanding; -EPIPE after close_notify; -ENOMEM.
 */
int tapsec_dtls13_key_update(struct sock *sk, struct tapsec_ctx *ctx,
			     bool request)
{
	struct tapsec_dtls *dtls = tapsec_dtls_engine(sk, ctx);
	int err;

	if (IS_ERR(dtls))
		return PTR_ERR(dtls);
	mutex_lock(&dtls->tx_lock);
	err = tapsec_dtls13_start_ku(sk, dtls, request);
	mutex_unlock(&dtls->tx_lock);
	return err;
}

/* The peer ACKed record @seq of transmit epoch @epoch. */
static void tapsec_dtls13_acked(struct sock *sk, struct tapsec_dtls *dtls,
				u64 epoch, u64 seq)
{
	struct tapsec_dtls_epoch *next, *old;
	unsigned int i, n;

	if (!dtls->ku_wait || epoch != dtls->tx->epoch)
		return;
	n = min_t(unsigned int, dtls->ku_sent, TAPSEC_DTLS_KU_RECORDS);
	for (i = 0; i < n && dtls->ku_rn[i] != seq; i++)
		;
	if (i == n)
		return;
	next = tapsec_dtls13_next(dtls->tx);
	if (IS_ERR(next))
		return;		/* the next ACK tries again */
	old = dtls->tx;
	tapsec_dtls_tx_cid_copy(dtls, next);
	WRITE_ONCE(dtls->tx, next);
	tapsec_dtls_epoch_free(old);
	dtls->ku_wait = false;
	dtls->ku_msg_seq++;	/* retransmissions kept the message's */
	tapsec_dtls13_disarm(sk, dtls, false);
	tapsec_key_use_born(dtls->ctx, &dtls->tx_use);
	TAPSEC_COUNT(dtls->ctx, tx_key_updates, 1);
}

/* ACK record @seq of receive epoch @epoch; under both locks. */
static void tapsec_dtls13_send_ack(struct sock *sk, struct tapsec_dtls *dtls,
				   u64 epoch, u64 seq)
{
	u8 *b;

	if (!dtls->tx || !tapsec_dtls13(dtls->tx) || !dtls->tx->has_sn ||
	    dtls->tx_closed)
		return;
	b = dtls->tx_buf + tapsec_dtls_payload_off(dtls->tx);
	put_unaligned_be16(TAPSEC_DTLS13_RN_LEN, b);
	put_unaligned_be64(epoch, b + 2);
	put_unaligned_be64(seq, b + 10);
	tapsec_dtls_send_record(sk, dtls->ctx, dtls, TAPSEC_RECORD_ACK,
				2 + TAPSEC_DTLS13_RN_LEN, MSG_DONTWAIT);
}

/* A KeyUpdate from the peer in the opened record; under the rx lock. */
static int tapsec_dtls13_rx_ku(struct sock *sk, struct tapsec_dtls *dtls,
			       const u8 *p)
{
	struct tapsec_dtls_epoch *next;
	bool current_epoch = dtls->rec_epoch == dtls->rx->epoch;

	if (p[0] != TAPSEC_HS_KEY_UPDATE || get_unaligned_be24(p + 1) != 1 ||
	    get_unaligned_be24(p + 6) || get_unaligned_be24(p + 9) != 1 ||
	    p[12] > TAPSEC_KEY_UPDATE_REQUESTED)
		return -EBADMSG;
	if (current_epoch) {
		next = tapsec_dtls13_next(dtls->rx);
		if (IS_ERR(next))
			return PTR_ERR(next);	/* unACKed: it comes again */
		tapsec_dtls_rx_switch(dtls, next);
		TAPSEC_COUNT(dtls->ctx, rx_key_updates, 1);
	}
	mutex_lock(&dtls->tx_lock);
	tapsec_dtls13_send_ack(sk, dtls, dtls->rec_epoch, dtls->rec_seq);
	if (current_epoch && p[12] == TAPSEC_KEY_UPDATE_REQUESTED &&
	    !dtls->ku_wait)
		tapsec_dtls13_start_ku(sk, dtls, false);
	mutex_unlock(&dtls->tx_lock);
	return 0;
}

/**
 * tapsec_dtls13_rx_control() - handle an opened KeyUpdate or ACK record
 * @sk: the socket
 * @dtls: its engine, under the receive lock, with a DTLS 1.3 record open
 *
 * Return: 1 when the record was a KeyUpdate, an ACK or a return
 * routability check and is consumed, 0 when it is for the reader.
 */
int tapsec_dtls13_rx_control(struct sock *sk, struct tapsec_dtls *dtls)
{
	const u8 *p = dtls->rx_buf + dtls->data_off;
	u32 len = dtls->data_len, i, n;

	if (dtls->type == TAPSEC_RECORD_HANDSHAKE &&
	    len == TAPSEC_DTLS13_KU_LEN && p[0] == TAPSEC_HS_KEY_UPDATE) {
		dtls->opened = false;
		if (tapsec_dtls13_rx_ku(sk, dtls, p))
			TAPSEC_COUNT(dtls->ctx, rx_bad_record, 1);
		return 1;
	}
	if (dtls->type == TAPSEC_RECORD_RETURN_ROUTABILITY)
		return tapsec_dtls_path_rx(sk, dtls);
	if (dtls->type != TAPSEC_RECORD_ACK)
		return 0;
	dtls->opened = false;
	n = len >= 2 ? get_unaligned_be16(p) : 1;
	if (n != len - 2 || n % TAPSEC_DTLS13_RN_LEN) {
		TAPSEC_COUNT(dtls->ctx, rx_bad_record, 1);
		return 1;
	}
	mutex_lock(&dtls->tx_lock);
	for (i = 2; i < len; i += TAPSEC_DTLS13_RN_LEN)
		tapsec_dtls13_acked(sk, dtls, get_unaligned_be64(p + i),
				    get_unaligned_be64(p + i + 8));
	mutex_unlock(&dtls->tx_lock);
	TAPSEC_COUNT(dtls->ctx, rx_post_handshake, 1);
	return 1;
}
