// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: TLS records on receive.
 *
 * sk_data_ready (in softirq or from the backlog) and the reader take the
 * header of the next record out of TCP's receive queue into the socket's
 * one record buffer.  The body stays in TCP's queue: the reader opens it
 * from there in process context, on its own CPU, once it is all in.  Only when TCP needs the
 * room back are the bytes of an incomplete record moved as they come.
 * Records after the current one stay queued in TCP, whose window then
 * paces the peer.
 *
 * Application data is opened straight into the reader's pages, from TCP's
 * skbs (no copy at all) or from the record buffer, which keeps the
 * ciphertext; what the reader has no room for is opened into the record
 * buffer, for the next call.  Anything else is moved into the record
 * buffer, opened in place and handed out from there.  Readers are
 * woken only when a whole record is in, so poll() reports readable only
 * when data can be read.
 */
#include <linux/mm.h>
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
		   (rx->opened && rx->data_len) || rx->have == rx->need ||
		   rx->queued);
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
	u32 upto;
	int err;
};

static int tapsec_tls_rx_actor(read_descriptor_t *desc, struct sk_buff *skb,
			       unsigned int offset, size_t len)
{
	struct tapsec_tls_reader *r = desc->arg.data;
	struct tapsec_tls_rx *rx = r->rx;
	u32 end = min(rx->need, r->upto);
	size_t take = rx->have < end ? min_t(size_t, len, end - rx->have) : 0;

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
	/* The end moves once the header is in: read on into the body. */
	if (rx->have == min(rx->need, r->upto) || r->err)
		desc->count = 0;
	return take;
}

static int tapsec_tls_rx_read(struct sock *sk, struct tapsec_tls_reader *r,
			      u32 upto)
{
	read_descriptor_t desc = {
		.arg.data = r,
		.count = 1,
	};

	r->upto = upto;
	tcp_read_sock(sk, &desc, tapsec_tls_rx_actor);
	return r->err;
}

/*
 * Whether the body of the record whose header is in rx->buf may stay in
 * TCP's queue, to be opened from there.  A whole one may: the record is
 * ready and a reader on its way.  So may the part there is of one still
 * incomplete, unless TCP needs the room it takes back, as kTLS's
 * strparser decides: its receive memory is nearly all used (a receive
 * buffer smaller than a record) or its window is down to a segment (a
 * sender sends no segment smaller than its MSS into a smaller window).
 * Only a reader, who is not woken yet, would open that room otherwise.
 */
static bool tapsec_tls_rx_leave(struct sock *sk, struct tapsec_tls_rx *rx)
{
	if (rx->have < TAPSEC_TLS_HEADER_LEN)
		return false;
	if (tcp_inq(sk) < rx->need - rx->have)
		return !tcp_epollin_ready(sk, INT_MAX);
	rx->queued = true;
	return true;
}

/**
 * tapsec_tls_rx_fill() - take the next record's header out of TCP
 * @sk: the socket, owned by the caller or locked in softirq
 * @rx: its receive side
 *
 * The body stays in TCP unless TCP needs its room (tapsec_tls_rx_leave()),
 * else what there is of it is moved out too.  Stops at the end of the
 * record; a malformed header kills the receive side.
 */
void tapsec_tls_rx_fill(struct sock *sk, struct tapsec_tls_rx *rx)
{
	struct tapsec_ctx *ctx = tapsec_stream_ctx(sk);
	struct tapsec_tls_reader r = { .ctx = ctx, .rx = rx };

	if (rx->err || rx->opened || rx->have == rx->need || rx->peer_closed)
		return;
	rx->queued = false;
	if (!tapsec_tls_rx_read(sk, &r, TAPSEC_TLS_HEADER_LEN) &&
	    !tapsec_tls_rx_leave(sk, rx))
		tapsec_tls_rx_read(sk, &r, U32_MAX);
	if (r.err)
		tapsec_tls_record_error(sk, ctx, r.err);
	tapsec_tls_rx_update_ready(rx);
}

/*
 * Move the bytes of the ready record that are still in TCP (up to @upto)
 * into the record buffer.
 */
static int tapsec_tls_rx_take(struct sock *sk, struct tapsec_ctx *ctx,
			      struct tapsec_tls_rx *rx, u32 upto)
{
	struct tapsec_tls_reader r = { .ctx = ctx, .rx = rx };

	upto = min(upto, rx->need);
	if (rx->have >= upto)
		return 0;
	if (tapsec_tls_rx_read(sk, &r, upto))
		return r.err;
	/* Only a reader takes bytes out of TCP's queue, and it owns it. */
	return rx->have == upto ? 0 : -EPIPE;
}

/*
 * Describe in @sg, from entry @n on, @len bytes of @skb from @off: its
 * head, its frags, the skbs on its frag_list (which have none of their
 * own).  Return: the next free entry, or -EMSGSIZE when @max entries
 * would not do.
 */
static int tapsec_tls_skb_to_sg(struct sk_buff *skb, u32 off, u32 len,
				struct scatterlist *sg, int n, int max)
{
	u32 start = 0, end = skb_headlen(skb), take;
	struct sk_buff *frag;
	int i;

	if (off < end) {
		take = min(len, end - off);
		if (n == max)
			return -EMSGSIZE;
		sg_set_buf(&sg[n++], skb->data + off, take);
		off += take;
		len -= take;
	}
	for (i = 0; len && i < skb_shinfo(skb)->nr_frags; i++) {
		const skb_frag_t *f = &skb_shinfo(skb)->frags[i];

		start = end;
		end = start + skb_frag_size(f);
		if (off >= end)
			continue;
		take = min(len, end - off);
		if (n == max)
			return -EMSGSIZE;
		sg_set_page(&sg[n++], skb_frag_page(f), take,
			    skb_frag_off(f) + off - start);
		off += take;
		len -= take;
	}
	skb_walk_frags(skb, frag) {
		if (!len)
			break;
		start = end;
		end = start + frag->len;
		if (off >= end)
			continue;
		if (skb_has_frag_list(frag))
			return -EMSGSIZE;
		take = min(len, end - off);
		n = tapsec_tls_skb_to_sg(frag, off - start, take, sg, n, max);
		if (n < 0)
			return n;
		off += take;
		len -= take;
	}
	return len ? -EMSGSIZE : n;
}

/*
 * Describe in rx->src the ready record's text and tag from the explicit
 * nonce on: what of it is in the record buffer, then the rest where it is
 * in TCP's receive queue (the first entry is left for the additional
 * data).  The skbs stay valid while the caller owns the socket and reads
 * nothing else out of TCP.  Return: false when they cannot be described
 * (too many pieces, frags the host cannot read, a gap); the caller then
 * moves the record out of TCP.
 */
static bool tapsec_tls_rx_map(struct sock *sk, struct tapsec_tls_rx *rx)
{
	u32 body = TAPSEC_TLS_HEADER_LEN + rx->d.explicit_len;
	u32 seq = tcp_sk(sk)->copied_seq, left = rx->need - rx->have, off;
	struct scatterlist *sg = rx->src;
	struct sk_buff *skb;
	int n = 1;

	sg_init_table(sg, TAPSEC_TLS_SKB_PIECES);
	if (rx->have > body)
		sg_set_buf(&sg[n++], rx->buf + body, rx->have - body);
	skb = tcp_recv_skb(sk, seq, &off);
	while (left) {
		u32 take;

		if (!skb || off >= skb->len || !tapsec_skb_readable(skb) ||
		    TCP_SKB_CB(skb)->seq + off != seq ||
		    (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_SYN))
			return false;
		take = min(left, skb->len - off);
		n = tapsec_tls_skb_to_sg(skb, off, take, sg, n,
					 TAPSEC_TLS_SKB_PIECES);
		if (n < 0)
			return false;
		seq += take;
		left -= take;
		off = 0;
		skb = skb_peek_next(skb, &sk->sk_receive_queue);
	}
	sg_mark_end(&sg[n - 1]);
	return true;
}

/**
 * tapsec_tls_data_ready() - sk_data_ready of sockets with an RX key
 * @sk: the socket
 */
void tapsec_tls_data_ready(struct sock *sk)
{
	struct tapsec_ctx *ctx = tapsec_stream_ctx(sk);
	struct tapsec_tls *tls = ctx ? ctx->engine_priv : NULL;

	if (!tls)
		return;
	tapsec_tls_rx_fill(sk, tls->rx);
	if (tapsec_tls_rx_readable(tls->rx))
		tls->saved_data_ready(sk);
}

/* Open the complete record in @rx->buf, sequence number @seq, in place. */
static int tapsec_tls_open(struct tapsec_ctx *ctx, struct tapsec_tls_rx *rx,
			   u64 seq)
{
	struct tapsec_tls_dir *d = &rx->d;
	bool tls13 = d->version == TAPSEC_TLS_1_3_VERSION;
	u32 clen = rx->need - TAPSEC_TLS_HEADER_LEN;
	u32 poff = TAPSEC_TLS_HEADER_LEN + d->explicit_len;
	u8 *buf = rx->buf;
	u32 plen;
	int err;

	plen = clen - d->explicit_len - TAPSEC_TAG_LEN;
	err = tapsec_tls_crypt(d, false, buf, seq, buf[0], plen, NULL, NULL);
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

/*
 * Application data bytes of the complete record whose header is in
 * @rx->buf, if it may be opened into the reader's buffer (a TLS 1.3
 * record's inner type is taken to be application data, without padding);
 * 0 when it may not: a peek, a kernel or splice reader.
 */
static u32 tapsec_tls_direct_len(const struct tapsec_tls_rx *rx,
				 const struct msghdr *msg, int flags)
{
	const struct tapsec_tls_dir *d = &rx->d;
	u32 plen = rx->need - TAPSEC_TLS_HEADER_LEN - d->explicit_len -
		   TAPSEC_TAG_LEN;

	if (d->version == TAPSEC_TLS_1_3_VERSION)
		plen--;		/* the inner content type goes to rx->tail */
	else if (rx->buf[0] != TAPSEC_RECORD_APPLICATION_DATA)
		return 0;
	if ((flags & MSG_PEEK) || !user_backed_iter(&msg->msg_iter) ||
	    !plen || plen > TAPSEC_TLS_MAX_PLAINTEXT)
		return 0;
	return plen;
}

/* Clear and give back the reader's @plen bytes in the @n pages of rx->sg. */
static void tapsec_tls_rx_undo(struct tapsec_tls_rx *rx, struct iov_iter *to,
			       unsigned int n, u32 plen)
{
	sg_zero_buffer(rx->sg + 1, n, plen, 0);
	iov_iter_revert(to, plen);
	tapsec_tls_unpin(rx->pages, n, true);
}

/*
 * Open the complete record, sequence number @seq, @plen bytes of
 * application data (tapsec_tls_direct_len()), into the reader's buffer:
 * its first @ulen bytes, the rest to the record buffer where an in-place
 * open would put it.  From @in, which tapsec_tls_rx_map() set, or from
 * @rx->buf when all of it goes to the reader.  The ciphertext stays where
 * it is, so a record that turns out not to be such data (TLS 1.3 padding
 * or another inner type) can still be opened in place, and the reader's
 * buffer is cleared again: it never keeps plaintext that failed
 * authentication or that the call does not return.  On success the pages
 * stay taken, *@pinned of them.
 *
 * Return: 1 when the data is in the reader's buffer; 0 when the record is
 * to be opened in place; or a negative errno.
 */
static int tapsec_tls_open_direct(struct tapsec_ctx *ctx,
				  struct tapsec_tls_rx *rx, struct iov_iter *to,
				  u64 seq, u32 plen, u32 ulen,
				  struct scatterlist *in, unsigned int *pinned)
{
	struct tapsec_tls_dir *d = &rx->d;
	bool tls13 = d->version == TAPSEC_TLS_1_3_VERSION;
	u8 *rest = rx->buf + TAPSEC_TLS_HEADER_LEN + d->explicit_len + ulen;
	unsigned int n, last;
	int err;

	n = tapsec_tls_pin(to, ulen, rx->pages, rx->sg);
	if (!n)
		return 0;
	sg_set_buf(&rx->sg[0], rx->aad_out,
		   tls13 ? TAPSEC_TLS_HEADER_LEN : TAPSEC_TLS12_AAD_LEN);
	last = n;
	if (ulen < plen)
		sg_set_buf(&rx->sg[++last], rest, plen - ulen);
	if (tls13) {
		rx->tail = 0;
		sg_set_buf(&rx->sg[++last], &rx->tail, 1);
	}
	sg_mark_end(&rx->sg[last]);
	err = tapsec_tls_crypt(d, false, rx->buf, seq, rx->buf[0],
			       tls13 ? plen + 1 : plen, rx->sg, in);
	if (!err && tls13 && rx->tail != TAPSEC_RECORD_APPLICATION_DATA)
		err = 1;
	if (err) {
		tapsec_tls_rx_undo(rx, to, n, ulen);
		memzero_explicit(rest, plen - ulen);
		if (err == -EBADMSG)
			TAPSEC_COUNT(ctx, rx_bad_tag, 1);
		return err < 0 ? err : 0;
	}
	*pinned = n;
	return 1;
}

/*
 * Open the complete record straight into the reader's buffer, @plen bytes
 * of application data, as much as @room takes: from TCP's skbs when the
 * rest of it is there and they can be described, else from the record
 * buffer.  What the reader has no room for goes to the record buffer,
 * opened, for the next call; only from TCP's skbs, as the ciphertext must
 * not be where it goes.  Bytes opened out of TCP are let go there whatever
 * the outcome, unless the record is to be opened in place.
 *
 * Return: bytes put in the reader's buffer; 0 when the record is to be
 * opened in place; or a negative errno.
 */
static int tapsec_tls_rx_direct(struct sock *sk, struct tapsec_ctx *ctx,
				struct tapsec_tls_rx *rx, struct msghdr *msg,
				u64 seq, u32 plen, size_t room, bool first)
{
	u32 body = TAPSEC_TLS_HEADER_LEN + rx->d.explicit_len;
	u32 ulen = min_t(size_t, plen, room);
	struct scatterlist *in = NULL;
	unsigned int pinned;
	int err;

	/* TLS 1.2 AES-GCM: the explicit nonce is part of the nonce. */
	err = tapsec_tls_rx_take(sk, ctx, rx, body);
	if (err)
		return err;
	if (rx->have < rx->need && tapsec_tls_rx_map(sk, rx))
		in = rx->src;
	else
		err = tapsec_tls_rx_take(sk, ctx, rx, rx->need);
	if (err)
		return err;
	if (ulen < plen && (!in || rx->have > body + ulen))
		return 0;
	err = tapsec_tls_open_direct(ctx, rx, &msg->msg_iter, seq, plen, ulen,
				     in, &pinned);
	if (err > 0 && first &&
	    tapsec_tls_put_type(msg, TAPSEC_RECORD_APPLICATION_DATA)) {
		/* Keep the record for a reader that can be told. */
		tapsec_tls_rx_undo(rx, &msg->msg_iter, pinned, ulen);
		err = 0;
	}
	if (in && err) {
		tcp_read_done(sk, rx->need - rx->have);
		rx->have = rx->need;
	}
	if (err <= 0)
		return err;
	tapsec_tls_unpin(rx->pages, pinned, true);
	TAPSEC_COUNT(ctx, rx_records, 1);
	TAPSEC_COUNT(ctx, rx_bytes, plen);
	TAPSEC_COUNT(ctx, rx_direct, 1);
	if (in)
		TAPSEC_COUNT(ctx, rx_from_skb, 1);
	if (ulen < plen) {
		rx->opened = true;
		rx->type = TAPSEC_RECORD_APPLICATION_DATA;
		rx->data_off = body + ulen;
		rx->data_len = plen - ulen;
	}
	return ulen;
}

/*
 * Open the complete record, whose header is in rx->buf: straight into the
 * reader's buffer, as much as @room takes, when it is application data,
 * else in place, moved out of TCP first.  @first: nothing was read yet in
 * this call, so the content type is still to be told.
 *
 * Return: bytes put in the reader's buffer (the rest, if any, waits opened
 * in the record buffer); 0 when the record was opened in place; or a
 * negative errno.
 */
static int tapsec_tls_rx_open_record(struct sock *sk, struct tapsec_ctx *ctx,
				     struct tapsec_tls_rx *rx,
				     struct msghdr *msg, size_t room,
				     int flags, bool first)
{
	u64 seq;
	u32 plen;
	int err;

	err = tapsec_tls_take_seq(ctx, &rx->d, &seq);
	if (err)
		return err;
	plen = tapsec_tls_direct_len(rx, msg, flags);
	if (plen) {
		err = tapsec_tls_rx_direct(sk, ctx, rx, msg, seq, plen, room,
					   first);
		if (err)
			return err;
	}
	err = tapsec_tls_rx_take(sk, ctx, rx, rx->need);
	if (err)
		return err;
	return tapsec_tls_open(ctx, rx, seq);
}

static void tapsec_tls_rx_next(struct tapsec_tls_rx *rx)
{
	rx->opened = false;
	rx->have = 0;
	rx->need = TAPSEC_TLS_HEADER_LEN;
	rx->data_len = 0;
	rx->queued = false;
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
		return tapsec_tls_post_handshake(ctx, rx->buf + rx->data_off,
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
	struct tapsec_tls *tls = READ_ONCE(ctx->engine_priv);
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
			err = tapsec_tls_rx_open_record(sk, ctx, rx, msg,
							len - copied, flags,
							!type);
			if (err < 0) {
				tapsec_tls_record_error(sk, ctx, err);
				break;
			}
			if (err) {
				copied += err;
				err = 0;
				type = TAPSEC_RECORD_APPLICATION_DATA;
				if (!rx->opened) {
					tapsec_tls_rx_next(rx);
					tapsec_tls_rx_fill(sk, rx);
				}
				tapsec_tls_rx_update_ready(rx);
				continue;
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
