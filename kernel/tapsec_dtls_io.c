// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: DTLS records in and out of a UDP socket.
 *
 * One send() is one record in one datagram, no larger than the path
 * allows (EMSGSIZE otherwise).  recv() takes datagrams from UDP's queue
 * into the engine's buffer and opens their records there, one record per
 * call; records that fail any check are dropped and counted and the next
 * one is tried, so bad input costs CPU and a counter, never the
 * connection.  Readers do not hold the engine's receive lock while they
 * wait for a datagram.
 */
#include <linux/uio.h>
#include <net/sock.h>
#include <net/udp.h>

#include "tapsec_compat.h"
#include "tapsec_dtls.h"
#include "tapsec_tls.h"

#define TAPSEC_ALERT_CLOSE_NOTIFY	0

/**
 * tapsec_dtls_send_record() - seal the payload in the transmit buffer, send it
 * @sk: the DTLS socket
 * @ctx: its context
 * @dtls: its engine, under the transmit lock, with a transmit epoch
 * @type: content type
 * @plen: payload bytes, at tapsec_dtls_payload_off() in the buffer
 * @flags: MSG_DONTWAIT for UDP
 *
 * Return: 0, or the error of sealing or of UDP.
 */
int tapsec_dtls_send_record(struct sock *sk, struct tapsec_ctx *ctx,
			    struct tapsec_dtls *dtls, u8 type, u32 plen,
			    int flags)
{
	return tapsec_dtls_send_record_to(sk, ctx, dtls, type, plen, flags,
					  NULL, 0);
}

/**
 * tapsec_dtls_send_record_to() - tapsec_dtls_send_record() to an address
 * @sk: the DTLS socket
 * @ctx: its context
 * @dtls: its engine, under the transmit lock, with a transmit epoch
 * @type: content type
 * @plen: payload bytes, at tapsec_dtls_payload_off() in the buffer
 * @flags: MSG_DONTWAIT for UDP
 * @to: where to, rather than the connected peer; NULL for the peer
 * @to_len: its length
 *
 * Return: 0, or the error of sealing or of UDP.
 */
int tapsec_dtls_send_record_to(struct sock *sk, struct tapsec_ctx *ctx,
			       struct tapsec_dtls *dtls, u8 type, u32 plen,
			       int flags, struct sockaddr_storage *to,
			       int to_len)
{
	int len, err;

	len = tapsec_dtls_seal(ctx, dtls->tx, dtls->tx_buf, type, plen);
	if (len < 0)
		return len;
	err = tapsec_dgram_xmit(sk, dtls->tx_buf, len, flags, to, to_len);
	if (err < 0)
		return err;
	dtls->tx_use.records++;
	dtls->tx_use.bytes += plen;
	TAPSEC_COUNT(ctx, tx_records, 1);
	TAPSEC_COUNT(ctx, tx_bytes, plen);
	return 0;
}

/* A transmit epoch records can be sealed under: DTLS 1.3 needs its sn key. */
static bool tapsec_dtls_tx_ready(const struct tapsec_dtls *dtls)
{
	return dtls->tx && (!tapsec_dtls13(dtls->tx) || dtls->tx->has_sn);
}

/* A hard limit of TAPSEC_KEY_LIMITS: the key seals nothing more. */
static int tapsec_dtls_expired(struct tapsec_ctx *ctx)
{
	TAPSEC_COUNT(ctx, key_exhausted, 1);
	return -EKEYEXPIRED;
}

/*
 * After a record: at a soft limit a DTLS 1.3 key with its secret is
 * updated (one KeyUpdate at a time), any other is reported expiring once.
 */
static void tapsec_dtls_tx_limits(struct sock *sk, struct tapsec_dtls *dtls)
{
	struct tapsec_dtls_epoch *ep = dtls->tx;

	if (!tapsec_key_use_soft(&dtls->tx_use, ep->aead.cipher))
		return;
	if (!tapsec_dtls13(ep) || !ep->secret_len) {
		tapsec_key_use_expiring(sk, &dtls->tx_use);
		return;
	}
	if (!dtls->ku_wait && !tapsec_dtls13_start_ku(sk, dtls, false))
		tapsec_nl_event(sock_net(sk), TAPSEC_EVENT_KEY_UPDATED,
				sock_i_ino(sk), 0, NULL);
}

/**
 * tapsec_dtls_sendmsg() - send one record
 * @sk: the DTLS socket
 * @ctx: its context
 * @msg: the payload, and optionally TAPSEC_SET_RECORD_TYPE
 * @len: bytes of payload
 *
 * Return: @len; -ENOKEY without a transmit key (or its DTLS 1.3 secret);
 * -EDESTADDRREQ when not connected; -EISCONN with a destination address;
 * -EMSGSIZE over tapsec_dtls_max_payload(); -EPIPE after close_notify;
 * -EKEYEXPIRED when the epoch's sequence numbers are used up or the key
 * reached a hard limit of TAPSEC_KEY_LIMITS; or UDP's error.
 */
int tapsec_dtls_sendmsg(struct sock *sk, struct tapsec_ctx *ctx,
			struct msghdr *msg, size_t len)
{
	struct tapsec_dtls *dtls = tapsec_dtls_of(ctx);
	u8 type;
	int err;

	if (msg->msg_flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (!dtls || !READ_ONCE(dtls->tx))
		return tapsec_ctx_refuse(ctx);
	err = tapsec_tls_cmsg_type(msg, &type);
	if (err)
		return err;
	if (msg->msg_name)
		return -EISCONN;
	if (READ_ONCE(sk->sk_state) != TCP_ESTABLISHED)
		return -EDESTADDRREQ;

	mutex_lock(&dtls->tx_lock);
	if (dtls->tx_closed)
		err = -EPIPE;
	else if (!tapsec_dtls_tx_ready(dtls))
		err = tapsec_ctx_refuse(ctx);
	else if (tapsec_key_use_hard(&dtls->tx_use))
		err = tapsec_dtls_expired(ctx);
	else if (len > tapsec_dtls_max_payload(sk, dtls->tx))
		err = -EMSGSIZE;
	else if (!copy_from_iter_full(dtls->tx_buf +
				      tapsec_dtls_payload_off(dtls->tx), len,
				      &msg->msg_iter))
		err = -EFAULT;
	else
		err = tapsec_dtls_send_record(sk, ctx, dtls, type, len,
					      msg->msg_flags);
	if (!err)
		tapsec_dtls_tx_limits(sk, dtls);
	mutex_unlock(&dtls->tx_lock);
	return err ?: len;
}

/**
 * tapsec_dtls_close_notify() - send close_notify once; sending is over
 * @sk: the DTLS socket
 * @ctx: its context
 *
 * Called on shutdown(SHUT_WR) and on close; does not wait for buffer
 * space (a lost close_notify only costs the peer its truncation check).
 *
 * Return: 0, or the error of sealing or sending it.
 */
int tapsec_dtls_close_notify(struct sock *sk, struct tapsec_ctx *ctx)
{
	struct tapsec_dtls *dtls = tapsec_dtls_of(ctx);
	u8 *body;
	int err = 0;

	if (!dtls)
		return 0;
	mutex_lock(&dtls->tx_lock);
	if (!dtls->tx_closed && tapsec_dtls_tx_ready(dtls) &&
	    READ_ONCE(sk->sk_state) == TCP_ESTABLISHED) {
		body = dtls->tx_buf + tapsec_dtls_payload_off(dtls->tx);
		body[0] = TAPSEC_ALERT_WARNING;
		body[1] = TAPSEC_ALERT_CLOSE_NOTIFY;
		err = tapsec_dtls_send_record(sk, ctx, dtls,
					      TAPSEC_RECORD_ALERT, 2,
					      MSG_DONTWAIT);
		if (!err)
			TAPSEC_COUNT(ctx, close_notify_tx, 1);
	}
	dtls->tx_closed = true;
	mutex_unlock(&dtls->tx_lock);
	return err;
}

/**
 * tapsec_dtls_reject_peer() - the application rejected the peer
 * @sk: the DTLS socket
 * @ctx: its context, whose handshake just failed (TAPSEC_PEER_VERDICT)
 *
 * A fatal bad_certificate alert in a record of the transmit epoch, then
 * nothing more is sent (EPIPE).
 */
void tapsec_dtls_reject_peer(struct sock *sk, struct tapsec_ctx *ctx)
{
	struct tapsec_dtls *dtls = tapsec_dtls_of(ctx);
	u8 *body;

	if (!dtls)
		return;
	mutex_lock(&dtls->tx_lock);
	if (!dtls->tx_closed && tapsec_dtls_tx_ready(dtls)) {
		body = dtls->tx_buf + tapsec_dtls_payload_off(dtls->tx);
		body[0] = TAPSEC_ALERT_FATAL;
		body[1] = TAPSEC_ALERT_BAD_CERTIFICATE;
		tapsec_dtls_send_record(sk, ctx, dtls, TAPSEC_RECORD_ALERT, 2,
					MSG_DONTWAIT);
	}
	dtls->tx_closed = true;
	mutex_unlock(&dtls->tx_lock);
}

/**
 * tapsec_dtls_fetch() - take the next datagram into the receive buffer
 * @sk: the DTLS socket
 * @ctx: its context
 * @dtls: its engine, under the receive lock (dropped while waiting)
 * @timeo: how long to wait, updated
 * @dropped: the datagrams this read dropped so far (tapsec_dgram_dropped())
 *
 * Datagrams a listener handed over come first.  Empty datagrams and
 * ones larger than any record are dropped and counted.  The source goes
 * to @dtls->rx_from.
 *
 * Return: the datagram's length, 0 when the socket is shut down for
 * reading, or a negative errno (-EAGAIN when @timeo ran out or the drop
 * budget is spent, -EINTR or -ERESTARTSYS for a signal).  Handed-over
 * datagrams too large for the buffer are dropped the same way.
 */
int tapsec_dtls_fetch(struct sock *sk, struct tapsec_ctx *ctx,
		      struct tapsec_dtls *dtls, long *timeo,
		      unsigned int *dropped)
{
	struct sk_buff *last;
	int ret, err;

	for (;;) {
		cond_resched();
		ret = tapsec_dtls_take_handed(ctx, dtls);
		if (ret > 0)
			return ret;
		if (ret) {		/* a handed-over datagram dropped */
			ret = tapsec_dgram_dropped(sk, dropped, *timeo);
			if (ret)
				return ret;
			continue;
		}
		dtls->rx_handed = false;
		ret = tapsec_dgram_read(sk, ctx, dtls->rx_buf,
					TAPSEC_DTLS_BUF_LEN, &dtls->rx_from,
					&dtls->rx_from_len, &last);
		if (ret > 0) {
			dtls->rx_len = ret;
			dtls->rx_off = 0;
			return ret;
		}
		if (!ret) {		/* a datagram dropped */
			ret = tapsec_dgram_dropped(sk, dropped, *timeo);
			if (ret)
				return ret;
			continue;
		}
		if (ret != -EAGAIN || !*timeo)
			return ret;
		if (tapsec_dgram_wait(sk, &dtls->rx_lock, timeo, last,
				      &dtls->handed, &err))
			return err;	/* 0: shut down */
	}
}

/*
 * A record the reader gets no control message for: close_notify ends the
 * stream, a fatal alert ends the connection, anything else is consumed.
 * Returns 1 to go on reading, else what recvmsg returns.
 */
static int tapsec_dtls_consume(struct sock *sk, struct tapsec_ctx *ctx,
			       struct tapsec_dtls *dtls)
{
	const u8 *p = dtls->rx_buf + dtls->data_off;

	dtls->opened = false;
	if (dtls->type == TAPSEC_RECORD_ALERT && dtls->data_len == 2 &&
	    p[1] == TAPSEC_ALERT_CLOSE_NOTIFY) {
		dtls->peer_closed = true;
		TAPSEC_COUNT(ctx, close_notify_rx, 1);
		return 0;
	}
	if (dtls->type == TAPSEC_RECORD_ALERT && dtls->data_len == 2 &&
	    p[0] == TAPSEC_ALERT_FATAL) {
		dtls->rx_err = -ECONNRESET;
		WRITE_ONCE(sk->sk_err, ECONNRESET);
		sk_error_report(sk);
		return -ECONNRESET;
	}
	TAPSEC_COUNT(ctx, rx_post_handshake, 1);
	return 1;
}

static int tapsec_dtls_deliver(struct tapsec_dtls *dtls, struct msghdr *msg,
			       size_t len, int flags, int *addr_len)
{
	int ret;

	ret = tapsec_tls_put_type(msg, dtls->type);
	if (ret)
		return ret;
	ret = tapsec_dgram_deliver(msg, len, flags,
				   dtls->rx_buf + dtls->data_off,
				   dtls->data_len, &dtls->rx_from,
				   dtls->rx_from_len, addr_len);
	if (ret >= 0 && !(flags & MSG_PEEK))
		dtls->opened = false;
	return ret;
}

/**
 * tapsec_dtls_recvmsg() - read one record's plaintext
 * @sk: the DTLS socket
 * @ctx: its context
 * @msg: where it goes; a control buffer also gets records of other types
 *	with TAPSEC_GET_RECORD_TYPE
 * @len: room in @msg
 * @flags: MSG_DONTWAIT, MSG_PEEK, MSG_TRUNC as for UDP; MSG_ERRQUEUE goes
 *	to UDP
 * @addr_len: set to the length of the source address in @msg->msg_name
 *
 * A flood of bad records ends a read as tapsec_dgram_dropped() says.
 *
 * Return: bytes read; 0 after close_notify; -ENOKEY without a receive
 * key (or, DTLS 1.3, its secret); -EAGAIN (also after
 * TAPSEC_DGRAM_DROP_BUDGET bad records in a read that may not wait, or
 * at a signal); -EINTR or -ERESTARTSYS for a signal while bad records
 * keep coming;
 * -ECONNRESET after a fatal alert; UDP's errors.
 */
int tapsec_dtls_recvmsg(struct sock *sk, struct tapsec_ctx *ctx,
			struct msghdr *msg, size_t len, int flags,
			int *addr_len)
{
	struct tapsec_dtls *dtls = tapsec_dtls_of(ctx);
	unsigned int dropped = 0;
	long timeo;
	int ret;

	if (flags & MSG_ERRQUEUE)
		return tapsec_dgram_base_recvmsg(sk, msg, len, flags, addr_len);
	if (!dtls || !READ_ONCE(dtls->rx))
		return tapsec_ctx_refuse(ctx);
	if (mutex_lock_interruptible(&dtls->rx_lock))
		return -EINTR;
	/* DTLS 1.3 records cannot be opened without the record number key. */
	if (tapsec_dtls13(dtls->rx) && !dtls->rx->has_sn) {
		mutex_unlock(&dtls->rx_lock);
		return tapsec_ctx_refuse(ctx);
	}
	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	for (;;) {
		if (dtls->opened && dtls->type != TAPSEC_RECORD_APPLICATION_DATA &&
		    tapsec_dtls13(dtls->rx) &&
		    tapsec_dtls13_rx_control(sk, dtls))
			continue;
		if (dtls->opened) {
			if (dtls->type == TAPSEC_RECORD_APPLICATION_DATA ||
			    (msg->msg_controllen && !(dtls->type ==
			     TAPSEC_RECORD_ALERT && dtls->data_len == 2 &&
			     dtls->rx_buf[dtls->data_off + 1] ==
			     TAPSEC_ALERT_CLOSE_NOTIFY))) {
				ret = tapsec_dtls_deliver(dtls, msg, len, flags,
							  addr_len);
				break;
			}
			ret = tapsec_dtls_consume(sk, ctx, dtls);
			if (ret <= 0)
				break;
			continue;
		}
		if (dtls->rx_err) {
			ret = dtls->rx_err;
			break;
		}
		if (dtls->peer_closed) {
			ret = 0;
			break;
		}
		if (dtls->rx_off < dtls->rx_len) {
			if (tapsec_dtls_open(ctx, dtls)) {
				ret = tapsec_dgram_dropped(sk, &dropped,
							   timeo);
				if (ret)
					break;
				continue;
			}
			if (dtls->rx_handed)
				tapsec_dtls_follow(sk, dtls);
			tapsec_dtls_flight_check(sk, dtls);
			continue;
		}
		ret = tapsec_dtls_fetch(sk, ctx, dtls, &timeo, &dropped);
		if (ret <= 0)
			break;
	}
	WRITE_ONCE(dtls->rx_more, dtls->opened || dtls->rx_off < dtls->rx_len);
	mutex_unlock(&dtls->rx_lock);
	return ret;
}

/**
 * tapsec_dtls_raw_hello() - hand the daemon an accepted socket's ClientHello
 * @ctx: the accepted socket's context, in raw mode for the daemon
 * @msg: where it goes
 * @len: room in @msg
 * @flags: MSG_PEEK leaves it for the next read; MSG_TRUNC as for UDP
 *
 * Return: its length (or what fit), or -ENOENT when there is none.
 */
int tapsec_dtls_raw_hello(struct tapsec_ctx *ctx, struct msghdr *msg,
			  size_t len, int flags)
{
	struct tapsec_dtls *dtls = tapsec_dtls_of(ctx);
	int ret;

	if (!dtls || !READ_ONCE(dtls->hello))
		return -ENOENT;
	mutex_lock(&dtls->rx_lock);
	ret = tapsec_dgram_raw_hello(&dtls->hello, dtls->hello_len, msg, len,
				     flags);
	mutex_unlock(&dtls->rx_lock);
	return ret;
}

/**
 * tapsec_dtls_poll() - readiness the engine adds to UDP's
 * @ctx: the socket's context
 *
 * Return: EPOLLIN when records wait in the engine's buffer, or the
 * stream has ended or failed.
 */
__poll_t tapsec_dtls_poll(const struct tapsec_ctx *ctx)
{
	const struct tapsec_dtls *dtls = tapsec_dtls_of(ctx);

	if (dtls && (READ_ONCE(dtls->rx_more) || READ_ONCE(dtls->peer_closed) ||
		     READ_ONCE(dtls->rx_err) || READ_ONCE(dtls->hello) ||
		     !skb_queue_empty_lockless(&dtls->handed)))
		return EPOLLIN | EPOLLRDNORM;
	return 0;
}
