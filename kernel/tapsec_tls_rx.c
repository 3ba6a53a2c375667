// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: TLS records on receive.
 *
 * Bytes move from TCP's receive queue into the socket's one record buffer
 * as they arrive (sk_data_ready, in softirq or from the backlog) until a
 * whole record is there; the rest stays queued in TCP, whose window then
 * paces the peer.  Records are opened in place by the reader, in process
 * context, and handed out from there; readers are woken only when a whole
 * record is in, so poll() reports readable only when data can be read.
 */
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/tcp.h>

#include "tapsec_compat.h"
#include "tapsec_tls.h"

/**
 * tapsec_tls_rx_alloc() - allocate a receive side with its record buffer
 * @rxp: set to the new, unkeyed receive side
 *
 * Return: 0 or -ENOMEM.
 */
int tapsec_tls_rx_alloc(struct tapsec_tls_rx **rxp)
{
	*rxp = tapsec_tls_side_alloc(sizeof(**rxp), TAPSEC_TLS_MAX_RECORD,
				     offsetof(struct tapsec_tls_rx, buf));
	if (!*rxp)
		return -ENOMEM;
	(*rxp)->need = TAPSEC_TLS_HEADER_LEN;
	return 0;
}

/**
 * tapsec_tls_rx_free() - wipe and free a receive side
 * @rx: the receive side, or NULL
 */
void tapsec_tls_rx_free(struct tapsec_tls_rx *rx)
{
	if (rx)
		tapsec_tls_side_free(rx, &rx->d, rx->buf);
}

/**
 * tapsec_tls_rx_readable() - whether a reader would not wait
 * @rx: the receive side
 *
 * Return: true when a whole record, plaintext, an error or the end of the
 * stream is waiting.
 */
bool tapsec_tls_rx_readable(const struct tapsec_tls_rx *rx)
{
	return READ_ONCE(rx->ready);
}

static void tapsec_tls_rx_update_ready(struct tapsec_tls_rx *rx)
{
	WRITE_ONCE(rx->ready, rx->err || rx->peer_closed ||
		   (rx->opened && rx->data_len) || rx->have == rx->need);
}

/* Check a complete header; returns 0 or the error the record earns. */
static int tapsec_tls_check_header(struct tapsec_ctx *ctx,
				   struct tapsec_tls_rx *rx)
{
	const struct tapsec_tls_dir *d = &rx->d;
	u8 type = rx->buf[0];
	u16 version = get_unaligned_be16(rx->buf + 1);
	u16 len = get_unaligned_be16(rx->buf + 3);
	bool tls13 = d->version == TAPSEC_TLS_1_3_VERSION;
	u32 max = tls13 ? TAPSEC_TLS13_MAX_CIPHERTEXT :
			  TAPSEC_TLS12_MAX_CIPHERTEXT;
	u32 min = d->explicit_len + TAPSEC_TAG_LEN + (tls13 ? 1 : 0);

	if (version != TAPSEC_TLS_LEGACY_VERSION ||
	    (tls13 && type != TAPSEC_RECORD_APPLICATION_DATA) ||
	    type < TAPSEC_RECORD_CHANGE_CIPHER_SPEC ||
	    type > TAPSEC_RECORD_APPLICATION_DATA || len < min) {
		TAPSEC_COUNT(ctx, rx_bad_record, 1);
		return -EBADMSG;
	}
	if (len > max) {
		TAPSEC_COUNT(ctx, rx_oversize, 1);
		return -EMSGSIZE;
	}
	rx->need = TAPSEC_TLS_HEADER_LEN + len;
	return 0;
}

struct tapsec_tls_reader {
	struct tapsec_ctx *ctx;
	struct tapsec_tls_rx *rx;
	int err;
};

static int tapsec_tls_rx_actor(read_descriptor_t *desc, struct sk_buff *skb,
			       unsigned int offset, size_t len)
{
	struct tapsec_tls_reader *r = desc->arg.data;
	struct tapsec_tls_rx *rx = r->rx;
	size_t take = min_t(size_t, len, rx->need - rx->have);

	if (r->err || !take) {
		desc->count = 0;
		return 0;
	}
	if (skb_copy_bits(skb, offset, rx->buf + rx->have, take)) {
		r->err = -EFAULT;
		return 0;
	}
	rx->have += take;
	if (rx->have == TAPSEC_TLS_HEADER_LEN &&
	    rx->need == TAPSEC_TLS_HEADER_LEN)
		r->err = tapsec_tls_check_header(r->ctx, rx);
	if (rx->have == rx->need || r->err)
		desc->count = 0;
	return take;
}

/**
 * tapsec_tls_rx_fill() - move bytes of the next record out of TCP
 * @sk: the socket, owned by the caller or locked in softirq
 * @rx: its receive side
 *
 * Stops at the end of the record; a malformed header kills the receive
 * side.
 */
void tapsec_tls_rx_fill(struct sock *sk, struct tapsec_tls_rx *rx)
{
	struct tapsec_ctx *ctx = tapsec_stream_ctx(sk);
	struct tapsec_tls_reader r = { .ctx = ctx, .rx = rx };
	read_descriptor_t desc = {
		.arg.data = &r,
		.count = 1,
	};

	if (rx->err || rx->opened || rx->have == rx->need || rx->peer_closed)
		return;
	tcp_read_sock(sk, &desc, tapsec_tls_rx_actor);
	if (r.err)
		tapsec_tls_record_error(sk, ctx, r.err);
	tapsec_tls_rx_update_ready(rx);
}

/**
 * tapsec_tls_data_ready() - sk_data_ready of sockets with an RX key
 * @sk: the socket
 */
void tapsec_tls_data_ready(struct sock *sk)
{
	struct tapsec_ctx *ctx = tapsec_stream_ctx(sk);
	struct tapsec_tls *tls = ctx ? ctx->tls : NULL;

	if (!tls)
		return;
	tapsec_tls_rx_fill(sk, tls->rx);
	if (tapsec_tls_rx_readable(tls->rx))
		tls->saved_data_ready(sk);
}

/* Open the complete record in @rx->buf. */
static int tapsec_tls_open(struct tapsec_ctx *ctx, struct tapsec_tls_rx *rx)
{
	struct tapsec_tls_dir *d = &rx->d;
	bool tls13 = d->version == TAPSEC_TLS_1_3_VERSION;
	u32 clen = rx->need - TAPSEC_TLS_HEADER_LEN;
	u32 poff = TAPSEC_TLS_HEADER_LEN + d->explicit_len;
	u8 *buf = rx->buf;
	u32 plen;
	u64 seq;
	int err;

	err = tapsec_tls_take_seq(ctx, d, &seq);
	if (err)
		return err;
	plen = clen - d->explicit_len - TAPSEC_TAG_LEN;
	err = tapsec_tls_crypt(d, false, buf, seq, buf[0], plen);
	if (err == -EBADMSG) {
		TAPSEC_COUNT(ctx, rx_bad_tag, 1);
		return err;
	}
	if (err)
		return err;

	rx->type = buf[0];
	if (tls13) {
		/* TLSInnerPlaintext: content, type, zero padding */
		while (plen && !buf[poff + plen - 1])
			plen--;
		if (!plen) {
			TAPSEC_COUNT(ctx, rx_bad_record, 1);
			return -EBADMSG;
		}
		rx->type = buf[poff + --plen];
		if (rx->type < TAPSEC_RECORD_ALERT ||
		    rx->type > TAPSEC_RECORD_APPLICATION_DATA) {
			TAPSEC_COUNT(ctx, rx_bad_record, 1);
			return -EBADMSG;
		}
	}
	if (plen > TAPSEC_TLS_MAX_PLAINTEXT) {
		TAPSEC_COUNT(ctx, rx_oversize, 1);
		return -EMSGSIZE;
	}
	rx->opened = true;
	rx->data_off = poff;
	rx->data_len = plen;
	TAPSEC_COUNT(ctx, rx_records, 1);
	TAPSEC_COUNT(ctx, rx_bytes, plen);

	if (rx->type == TAPSEC_RECORD_ALERT && plen == 2 &&
	    buf[poff] == 1 && buf[poff + 1] == 0) {
		/* close_notify: the end of the stream, nothing after it */
		rx->peer_closed = true;
		rx->data_len = 0;
		TAPSEC_COUNT(ctx, close_notify_rx, 1);
	}
	return 0;
}

static void tapsec_tls_rx_next(struct tapsec_tls_rx *rx)
{
	rx->opened = false;
	rx->have = 0;
	rx->need = TAPSEC_TLS_HEADER_LEN;
	rx->data_len = 0;
}

/**
 * tapsec_tls_put_type() - tell a reader the type of the record it reads
 * @msg: the recvmsg message
 * @type: the record's content type
 *
 * Return: 0; -EIO when the reader cannot be told (no or too small a
 * control buffer) and the record is not application data.
 */
int tapsec_tls_put_type(struct msghdr *msg, u8 type)
{
	if (msg->msg_controllen) {
		int err = put_cmsg(msg, SOL_TAPSEC, TAPSEC_GET_RECORD_TYPE,
				   sizeof(type), &type);

		if (err)
			return err;
		if (msg->msg_flags & MSG_CTRUNC)
			return -EIO;
		return 0;
	}
	/* Only application data may reach a reader that cannot tell. */
	return type == TAPSEC_RECORD_APPLICATION_DATA ? 0 : -EIO;
}

static bool tapsec_tls_rx_wakeup(struct sock *sk, struct tapsec_tls_rx *rx)
{
	return tapsec_tls_rx_readable(rx) || READ_ONCE(sk->sk_err) ||
	       (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN);
}

/*
 * Wait for a whole record: 0 when there is one; 1 at the end of a stream
 * whose truncation was reported; -ECONNABORTED at the end of a stream
 * without close_notify (a FIN, maybe forged, maybe mid-record); or why the
 * wait ended.
 */
static int tapsec_tls_rx_wait(struct sock *sk, struct tapsec_ctx *ctx,
			      struct tapsec_tls_rx *rx, long *timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	for (;;) {
		tapsec_tls_rx_fill(sk, rx);
		if (tapsec_tls_rx_readable(rx))
			return 0;
		if (sk->sk_err)
			return sock_error(sk);
		if (sk->sk_shutdown & RCV_SHUTDOWN) {
			/* shutdown(SHUT_RD) here is no truncation; a FIN is */
			if (rx->truncated || !sock_flag(sk, SOCK_DONE))
				return 1;
			return -ECONNABORTED;
		}
		if (!*timeo)
			return -EAGAIN;
		if (signal_pending(current))
			return sock_intr_errno(*timeo);
		add_wait_queue(sk_sleep(sk), &wait);
		sk_set_bit(SOCKWQ_ASYNC_WAITDATA, sk);
		sk_wait_event(sk, timeo, tapsec_tls_rx_wakeup(sk, rx), &wait);
		sk_clear_bit(SOCKWQ_ASYNC_WAITDATA, sk);
		remove_wait_queue(sk_sleep(sk), &wait);
	}
}

/*
 * A record the reader never sees: 1 to skip an empty application data
 * record or a delegated handshake's post-handshake message, 0 to hand the
 * record out, or a negative errno.  RFC 8446 5.1: only application data
 * may be empty.
 */
static int tapsec_tls_rx_consume(struct sock *sk, struct tapsec_ctx *ctx,
				 struct tapsec_tls_rx *rx)
{
	if (!rx->data_len)
		return rx->type == TAPSEC_RECORD_APPLICATION_DATA ? 1 : -EBADMSG;
	if (rx->type == TAPSEC_RECORD_HANDSHAKE && rx->d.secret_len) {
		int err = tapsec_tls13_rx_handshake(sk, ctx, rx);

		if (err)
			return err;
	}
	if (rx->type == TAPSEC_RECORD_HANDSHAKE && tapsec_hs_delegated(ctx))
		return tapsec_hs_post_handshake(ctx, rx->buf + rx->data_off,
						rx->data_len) ?: 1;
	return 0;
}

#define TAPSEC_TLS_RECV_FLAGS	(MSG_PEEK | MSG_DONTWAIT | MSG_WAITALL | \
				 MSG_CMSG_COMPAT)

/**
 * tapsec_tls_recvmsg() - read the plaintext of TLS records
 * @sk: the socket
 * @ctx: its context
 * @msg: where the data goes; a SOL_TAPSEC/TAPSEC_GET_RECORD_TYPE control
 *	message tells the content type when there is room for it
 * @len: bytes wanted
 * @flags: MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL
 *
 * One call returns records of one content type only; other types than
 * application data need room for the control message (else -EIO).  A
 * received close_notify reads as end of file; a TCP FIN without it is
 * reported once as -ECONNABORTED, then as end of file.
 *
 * Return: bytes read, or a negative errno: -ENOKEY without a key,
 * -EBADMSG for a record that fails authentication or is malformed,
 * -EMSGSIZE for one longer than the protocol allows; after those the
 * receive side stays dead.
 */
int tapsec_tls_recvmsg(struct sock *sk, struct tapsec_ctx *ctx,
		       struct msghdr *msg, size_t len, int flags)
{
	struct tapsec_tls *tls = READ_ONCE(ctx->tls);
	struct tapsec_tls_rx *rx;
	int copied = 0, target, err = 0;
	u8 type = 0;
	long timeo;

	if (!tls || !READ_ONCE(tls->rx))
		return tapsec_ctx_refuse(ctx);
	if (flags & ~TAPSEC_TLS_RECV_FLAGS)
		return -EOPNOTSUPP;

	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	if (flags & MSG_DONTWAIT) {
		if (!mutex_trylock(&tls->rx_lock))
			return -EAGAIN;
	} else if (mutex_lock_interruptible(&tls->rx_lock)) {
		return sock_intr_errno(timeo);
	}
	lock_sock(sk);
	rx = tls->rx;
	target = (flags & MSG_WAITALL) ? len :
		 min_t(size_t, READ_ONCE(ctx->rcvlowat) ?: 1, len);

	while (copied < len) {
		u32 n;

		if (rx->err) {
			err = rx->err;
			break;
		}
		if (rx->peer_closed)
			break;
		if (!rx->opened) {
			if (copied >= target && !tapsec_tls_rx_readable(rx))
				break;
			err = tapsec_tls_rx_wait(sk, ctx, rx, &timeo);
			if (err == -ECONNABORTED && !copied) {
				rx->truncated = true;
				TAPSEC_COUNT(ctx, rx_truncated, 1);
			}
			if (err) {
				if (err > 0 || copied)
					err = 0;
				break;
			}
			if (rx->err)
				continue;
			err = tapsec_tls_open(ctx, rx);
			if (err) {
				tapsec_tls_record_error(sk, ctx, err);
				break;
			}
			tapsec_tls_rx_update_ready(rx);
			if (rx->peer_closed)
				break;
			err = tapsec_tls_rx_consume(sk, ctx, rx);
			if (err < 0) {
				TAPSEC_COUNT(ctx, rx_bad_record, 1);
				tapsec_tls_record_error(sk, ctx, err);
				break;
			}
			if (err) {
				err = 0;
				tapsec_tls_rx_next(rx);
				tapsec_tls_rx_fill(sk, rx);
				tapsec_tls_rx_update_ready(rx);
				continue;
			}
		}
		/* One content type per call. */
		if (type && rx->type != type)
			break;
		if (!type) {
			err = tapsec_tls_put_type(msg, rx->type);
			if (err)
				break;
			type = rx->type;
		}
		n = min_t(size_t, rx->data_len, len - copied);
		if (copy_to_iter(rx->buf + rx->data_off, n, &msg->msg_iter) != n) {
			err = -EFAULT;
			break;
		}
		copied += n;
		if (flags & MSG_PEEK)
			break;
		rx->data_off += n;
		rx->data_len -= n;
		if (!rx->data_len) {
			tapsec_tls_rx_next(rx);
			tapsec_tls_rx_fill(sk, rx);
		}
		tapsec_tls_rx_update_ready(rx);
		if (type != TAPSEC_RECORD_APPLICATION_DATA)
			break;
	}
	release_sock(sk);
	mutex_unlock(&tls->rx_lock);
	return copied ? copied : err;
}
