// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: TLS records on transmit.
 *
 * A record that one send() fills or ends is sealed from the sender's
 * pages straight into a record buffer; anything else (a record that stays
 * open for more, a kernel sender) is copied into the record buffer and
 * sealed in place.  The record buffer is a compound page that TCP's skbs
 * then point into, not a copy.  A record begins in a page TCP no longer
 * holds: the current one once TCP released it, else a spare, else a new
 * one.  While ACKs keep up the two alternate and nothing is allocated.
 * When no page can be had the record goes through the socket's own
 * buffer and is copied into TCP: the data path never fails for want of
 * memory.  A sealed record TCP could not take at once stays pending and
 * goes out before anything else, from the next send or, when TCP has
 * room again, from a work item.
 */
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/tcp.h>

#include "tapsec_compat.h"
#include "tapsec_tls.h"

#define TAPSEC_TLS_TX_BUF_LEN	(TAPSEC_TLS_HEADER_LEN +		\
				 TAPSEC_TLS12_EXPLICIT_LEN +		\
				 TAPSEC_TLS_MAX_PLAINTEXT + 1 +		\
				 TAPSEC_TAG_LEN)

/* Room for two records of the largest size: 64 KiB with 4 KiB pages. */
#define TAPSEC_TLS_TX_ORDER	get_order(2 * TAPSEC_TLS_TX_BUF_LEN)

/* Flags of the sender's that TCP should see when a record goes out. */
#define TAPSEC_TLS_TCP_FLAGS	(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE)

static u32 tapsec_tls_payload_off(const struct tapsec_tls_dir *d)
{
	return TAPSEC_TLS_HEADER_LEN + d->explicit_len;
}

/**
 * tapsec_tls_tx_alloc() - allocate a transmit side with its record buffer
 * @txp: set to the new, unkeyed transmit side
 *
 * Return: 0 or -ENOMEM.
 */
int tapsec_tls_tx_alloc(struct tapsec_tls_tx **txp)
{
	*txp = tapsec_tls_side_alloc(sizeof(**txp), TAPSEC_TLS_TX_BUF_LEN,
				     offsetof(struct tapsec_tls_tx, bounce));
	if (*txp)
		(*txp)->buf = (*txp)->bounce;
	return *txp ? 0 : -ENOMEM;
}

/**
 * tapsec_tls_tx_free() - wipe and free a transmit side
 * @tx: the transmit side, or NULL
 *
 * An open record's plaintext is wiped; pages TCP still holds (sealed
 * records only) go when TCP lets them go.
 */
void tapsec_tls_tx_free(struct tapsec_tls_tx *tx)
{
	if (!tx)
		return;
	if (tx->buf != tx->bounce && tx->open_len)
		memzero_explicit(tx->buf, tapsec_tls_payload_off(&tx->d) +
				 tx->open_len);
	if (tx->page)
		put_page(tx->page);
	if (tx->spare)
		put_page(tx->spare);
	tapsec_tls_side_free(tx, &tx->d, tx->bounce);
}

static bool tapsec_tls_page_unused(struct page *page)
{
	return page && page_ref_count(page) == 1;
}

/**
 * tapsec_tls_tx_fresh() - a record buffer TCP does not hold, for a new record
 * @tx: the transmit side, with no open or pending record
 *
 * A page when one is free or can be allocated, else the socket's own
 * buffer (copied into TCP).
 */
void tapsec_tls_tx_fresh(struct tapsec_tls_tx *tx)
{
	struct page *page;
	u32 off;

	/* After the last record, while a whole record still fits. */
	if (tx->buf != tx->bounce) {
		off = tx->buf - (u8 *)page_address(tx->page) +
		      ALIGN(tx->rec_len, SMP_CACHE_BYTES);
		tx->rec_len = 0;
		if (off + TAPSEC_TLS_TX_BUF_LEN <=
		    PAGE_SIZE << TAPSEC_TLS_TX_ORDER) {
			tx->buf = (u8 *)page_address(tx->page) + off;
			return;
		}
	}
	if (!tapsec_tls_page_unused(tx->page)) {
		if (tapsec_tls_page_unused(tx->spare)) {
			swap(tx->page, tx->spare);
		} else {
			page = tapsec_fail_alloc() ? NULL :
			       alloc_pages(GFP_KERNEL_ACCOUNT | __GFP_COMP |
					   __GFP_NORETRY | __GFP_NOWARN,
					   TAPSEC_TLS_TX_ORDER);
			if (!page) {
				tx->buf = tx->bounce;
				return;
			}
			/* TCP's references keep the old spare until sent. */
			if (tx->spare)
				put_page(tx->spare);
			tx->spare = tx->page;
			tx->page = page;
		}
	}
	tx->buf = page_address(tx->page);
}

/*
 * Seal the open record into the record buffer: from its payload there
 * (@src_pages 0), or from tx->sg, which holds @src_pages pages of the
 * sender's from entry 1 and room for the rest.  It becomes the pending
 * record.
 */
static int __tapsec_tls_seal(struct tapsec_ctx *ctx, struct tapsec_tls_tx *tx,
			     unsigned int src_pages)
{
	struct tapsec_tls_dir *d = &tx->d;
	bool tls13 = d->version == TAPSEC_TLS_1_3_VERSION;
	u32 poff = tapsec_tls_payload_off(d);
	u32 plen = tx->open_len, clen;
	u8 *buf = tx->buf;
	u64 seq;
	int err;

	err = tapsec_tls_take_seq(ctx, d, &seq);
	if (err)
		return err;
	if (tls13) {
		if (src_pages)
			tx->inner_type = tx->open_type;
		else
			buf[poff + plen] = tx->open_type;
		clen = plen + 1 + TAPSEC_TAG_LEN;
		buf[0] = TAPSEC_RECORD_APPLICATION_DATA;
	} else {
		clen = d->explicit_len + plen + TAPSEC_TAG_LEN;
		buf[0] = tx->open_type;
	}
	put_unaligned_be16(TAPSEC_TLS_LEGACY_VERSION, buf + 1);
	put_unaligned_be16(clen, buf + 3);

	if (d->explicit_len)	/* kTLS's explicit nonce: iv counts records */
		memcpy(buf + TAPSEC_TLS_HEADER_LEN, d->aead.iv + 4,
		       TAPSEC_TLS12_EXPLICIT_LEN);
	if (src_pages) {
		struct scatterlist *last = &tx->sg[src_pages];

		if (tls13) {
			sg_set_buf(&tx->sg[0], buf, TAPSEC_TLS_HEADER_LEN);
			sg_set_buf(++last, &tx->inner_type, 1);
		} else {
			sg_set_buf(&tx->sg[0], d->aad, TAPSEC_TLS12_AAD_LEN);
		}
		sg_mark_end(last);
	}
	err = tapsec_tls_crypt(d, true, buf, seq, tx->open_type,
			       tls13 ? plen + 1 : plen,
			       src_pages ? tx->sg : NULL, NULL);
	if (err) {
		/* The sequence number is spent: the stream cannot go on. */
		tx->err = err;
		return err;
	}
	if (d->explicit_len) {
		int i;

		for (i = TAPSEC_NONCE_LEN - 1; i >= 4; i--)
			if (++d->aead.iv[i])
				break;
	}
	tx->pend_off = 0;
	tx->pend_len = TAPSEC_TLS_HEADER_LEN + clen;
	tx->rec_len = tx->pend_len;
	tx->open_len = 0;
	tx->use.records++;
	tx->use.bytes += plen;
	TAPSEC_COUNT(ctx, tx_records, 1);
	TAPSEC_COUNT(ctx, tx_bytes, plen);
	return 0;
}

/**
 * tapsec_tls_push() - hand the pending record to TCP
 * @sk: the socket, owned by the caller
 * @tx: its transmit side
 * @flags: MSG_DONTWAIT and friends for TCP
 *
 * Return: 0 or a negative errno (-EAGAIN: TCP is full).
 */
int tapsec_tls_push(struct sock *sk, struct tapsec_tls_tx *tx, int flags)
{
	while (tx->pend_len) {
		struct kvec kv = {
			.iov_base = tx->buf + tx->pend_off,
			.iov_len = tx->pend_len,
		};
		struct msghdr msg = { .msg_flags = flags & TAPSEC_TLS_TCP_FLAGS };
		int ret;

		if (tx->buf != tx->bounce) {
			ret = tapsec_tcp_splice(sk, tx->page,
						tx->buf - (u8 *)page_address(tx->page) +
						tx->pend_off, tx->pend_len,
						msg.msg_flags);
		} else {
			iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &kv, 1,
				      kv.iov_len);
			ret = tcp_sendmsg_locked(sk, &msg, kv.iov_len);
		}
		if (ret <= 0)
			return ret ? ret : -EAGAIN;
		tx->pend_off += ret;
		tx->pend_len -= ret;
	}
	return 0;
}

/**
 * tapsec_tls_seal() - seal the open record in place
 * @ctx: the socket's context
 * @tx: its transmit side, without a pending record
 *
 * The record becomes the pending record.
 *
 * Return: 0 or a negative errno.
 */
int tapsec_tls_seal(struct tapsec_ctx *ctx, struct tapsec_tls_tx *tx)
{
	return __tapsec_tls_seal(ctx, tx, 0);
}

/*
 * Seal a record of the sender's next @plen bytes, from its pages: 1 when
 * it is the pending record; 0 when they cannot be had, nothing taken; or a
 * negative errno.
 */
static int tapsec_tls_seal_from(struct tapsec_ctx *ctx,
				struct tapsec_tls_tx *tx, struct iov_iter *from,
				u32 plen)
{
	unsigned int n;
	int err;

	n = tapsec_tls_pin(from, plen, tx->pages, tx->sg);
	if (!n)
		return 0;
	tx->open_len = plen;
	err = __tapsec_tls_seal(ctx, tx, n);
	tapsec_tls_unpin(tx->pages, n, false);
	if (err)
		tx->open_len = 0;	/* the bytes were not taken */
	return err ?: 1;
}

static int tapsec_tls_seal_push(struct sock *sk, struct tapsec_ctx *ctx,
				struct tapsec_tls_tx *tx, int flags)
{
	int err = tapsec_tls_seal(ctx, tx);

	return err ? err : tapsec_tls_push(sk, tx, flags);
}

/**
 * tapsec_tls_tx_flush() - send everything buffered, sealing the open record
 * @sk: the socket, owned by the caller
 * @ctx: its context, with a transmit key
 * @flags: MSG_DONTWAIT and friends for TCP
 *
 * Return: 0 or a negative errno (-EAGAIN: TCP is full).
 */
int tapsec_tls_tx_flush(struct sock *sk, struct tapsec_ctx *ctx, int flags)
{
	struct tapsec_tls_tx *tx = tapsec_tls_of(ctx)->tx;
	int err;

	if (tx->err)
		return tx->err;
	err = tapsec_tls_push(sk, tx, flags);
	if (!err && tx->open_len)
		err = tapsec_tls_seal_push(sk, ctx, tx, flags);
	return err;
}

/**
 * tapsec_tls_send_close_notify() - seal what is buffered, then close_notify
 * @sk: the socket, owned by the caller
 * @ctx: its context, with a transmit key
 * @flags: MSG_DONTWAIT and friends for TCP
 *
 * Nothing can be sent afterwards.
 *
 * Return: 0 or a negative errno.
 */
int tapsec_tls_send_close_notify(struct sock *sk, struct tapsec_ctx *ctx,
				 int flags)
{
	struct tapsec_tls_tx *tx = tapsec_tls_of(ctx)->tx;
	int err;

	if (tx->closed)
		return 0;
	err = tapsec_tls_tx_flush(sk, ctx, flags);
	if (err)
		return err;
	tapsec_tls_tx_fresh(tx);
	tx->closed = true;
	tx->open_type = TAPSEC_RECORD_ALERT;
	tx->buf[tapsec_tls_payload_off(&tx->d)] = 1;	/* warning */
	tx->buf[tapsec_tls_payload_off(&tx->d) + 1] = 0;	/* close_notify */
	tx->open_len = 2;
	err = tapsec_tls_seal_push(sk, ctx, tx, flags);
	if (!err)
		TAPSEC_COUNT(ctx, close_notify_tx, 1);
	return err;
}

/**
 * tapsec_tls_send_alert() - an alert in a record of its own
 * @sk: the socket, owned by the caller, who holds the transmit lock
 * @ctx: its context, with a transmit side
 * @level: 1 warning, 2 fatal
 * @desc: the AlertDescription
 * @flags: MSG_DONTWAIT and friends for TCP
 *
 * What is buffered goes first.
 *
 * Return: 0 or a negative errno.
 */
int tapsec_tls_send_alert(struct sock *sk, struct tapsec_ctx *ctx, u8 level,
			  u8 desc, int flags)
{
	struct tapsec_tls_tx *tx = tapsec_tls_of(ctx)->tx;
	int err;

	err = tapsec_tls_tx_flush(sk, ctx, flags);
	if (err)
		return err;
	tapsec_tls_tx_fresh(tx);
	tx->open_type = TAPSEC_RECORD_ALERT;
	tx->buf[tapsec_tls_payload_off(&tx->d)] = level;
	tx->buf[tapsec_tls_payload_off(&tx->d) + 1] = desc;
	tx->open_len = 2;
	return tapsec_tls_seal_push(sk, ctx, tx, flags);
}

/**
 * tapsec_tls_tx_owed() - send what the peer is owed before our next record
 * @sk: the socket, owned by the caller, who holds the transmit lock
 * @ctx: its context, with a transmit side
 * @flags: MSG_DONTWAIT and friends for TCP
 *
 * A no_renegotiation alert refusing the peer's TLS 1.2 renegotiation
 * (tapsec_tls_post_handshake()), and our KeyUpdate when the peer's asked
 * for one (RFC 8446 4.6.3).  Called by sendmsg, the transmit work item and
 * close; what cannot go out now stays owed.
 *
 * Return: 0 or a negative errno (-EAGAIN: TCP is full).
 */
int tapsec_tls_tx_owed(struct sock *sk, struct tapsec_ctx *ctx, int flags)
{
	struct tapsec_tls *tls = ctx->engine_priv;
	struct tapsec_tls_tx *tx = tls->tx;
	int err = 0;

	if (tx->closed)
		return 0;
	if (READ_ONCE(tls->noreneg_pending)) {
		err = tapsec_tls_send_alert(sk, ctx, TAPSEC_ALERT_WARNING,
					    TAPSEC_ALERT_NO_RENEGOTIATION,
					    flags);
		if (err)
			return err;
		WRITE_ONCE(tls->noreneg_pending, false);
	}
	if (READ_ONCE(tls->ku_pending) && tx->d.secret_len)
		err = tapsec_tls13_tx_update(sk, ctx, flags, false);
	return err;
}

/**
 * tapsec_tls_cmsg_type() - the record type a sender asked for
 * @msg: the sendmsg message
 * @type: TAPSEC_SET_RECORD_TYPE's value, application data without one
 *
 * Return: 0, or -EINVAL for a malformed control message or type.
 */
int tapsec_tls_cmsg_type(struct msghdr *msg, u8 *type)
{
	struct cmsghdr *cmsg;

	*type = TAPSEC_RECORD_APPLICATION_DATA;
	for_each_cmsghdr(cmsg, msg) {
		if (!CMSG_OK(msg, cmsg))
			return -EINVAL;
		if (cmsg->cmsg_level != SOL_TAPSEC)
			continue;
		if (cmsg->cmsg_type != TAPSEC_SET_RECORD_TYPE ||
		    cmsg->cmsg_len != CMSG_LEN(sizeof(u8)))
			return -EINVAL;
		*type = *(u8 *)CMSG_DATA(cmsg);
		if (*type < TAPSEC_RECORD_CHANGE_CIPHER_SPEC ||
		    *type > TAPSEC_RECORD_APPLICATION_DATA)
			return -EINVAL;
	}
	return 0;
}

#define TAPSEC_TLS_SEND_FLAGS	(MSG_MORE | MSG_DONTWAIT | MSG_NOSIGNAL | \
				 MSG_EOR | MSG_CMSG_COMPAT |		\
				 MSG_SPLICE_PAGES | TAPSEC_MSG_NOTLAST)

/**
 * tapsec_tls_sendmsg() - send data as TLS records
 * @sk: the socket
 * @ctx: its context
 * @msg: the data; a SOL_TAPSEC/TAPSEC_SET_RECORD_TYPE control message sets
 *	the content type (application data by default)
 * @size: bytes in @msg
 *
 * Records hold at most 2^14 bytes.  With MSG_MORE the last record stays
 * open for the next call; records of other types than application data
 * are sealed at the end of each call.
 *
 * Return: bytes taken, or a negative errno: -ENOKEY without a key,
 * -EKEYEXPIRED once the sequence numbers are used up, -EPIPE after
 * close_notify or shutdown.
 */
int tapsec_tls_sendmsg(struct sock *sk, struct tapsec_ctx *ctx,
		       struct msghdr *msg, size_t size)
{
	struct tapsec_tls *tls = READ_ONCE(ctx->engine_priv);
	int flags = msg->msg_flags;
	struct tapsec_tls_tx *tx;
	size_t copied = 0;
	bool more;
	int err;
	u8 type;

	if (!tls || !READ_ONCE(tls->tx))
		return tapsec_ctx_refuse(ctx);
	if (flags & ~TAPSEC_TLS_SEND_FLAGS)
		return -EOPNOTSUPP;
	err = tapsec_tls_cmsg_type(msg, &type);
	if (err)
		return err;
	more = (flags & (MSG_MORE | TAPSEC_MSG_NOTLAST)) &&
	       type == TAPSEC_RECORD_APPLICATION_DATA;

	mutex_lock(&tls->tx_lock);
	lock_sock(sk);
	tx = tls->tx;
	if (tx->closed || (sk->sk_shutdown & SEND_SHUTDOWN)) {
		err = sk_stream_error(sk, flags, -EPIPE);
		goto out;
	}
	err = tx->err ?: tapsec_tls_push(sk, tx, flags);
	if (!err)
		err = tapsec_tls_tx_owed(sk, ctx, flags);
	/* A KeyUpdate TCP could not take yet: nothing may be sealed now. */
	if (!err && tx->pend_len)
		err = -EAGAIN;
	if (!err && tx->open_len && tx->open_type != type)
		err = tapsec_tls_seal_push(sk, ctx, tx, flags | MSG_MORE);
	if (err)
		goto out;
	tx->open_type = type;

	while (msg_data_left(msg)) {
		u32 poff = tapsec_tls_payload_off(&tx->d);

		/*
		 * A record begun now could never be sealed: refuse the bytes
		 * rather than take them and lose them.
		 */
		if (!tx->open_len && tapsec_tls_tx_expired(tx)) {
			TAPSEC_COUNT(ctx, key_exhausted, 1);
			err = -EKEYEXPIRED;
			break;
		}
		size_t n = min_t(size_t, msg_data_left(msg),
				 TAPSEC_TLS_MAX_PLAINTEXT - tx->open_len);
		int sealed = 0;

		if (!tx->open_len)
			tapsec_tls_tx_fresh(tx);

		/* A whole record from the sender's pages, when it ends now */
		if (!tx->open_len && user_backed_iter(&msg->msg_iter) &&
		    (n == TAPSEC_TLS_MAX_PLAINTEXT ||
		     (n == msg_data_left(msg) && !more))) {
			sealed = tapsec_tls_seal_from(ctx, tx, &msg->msg_iter, n);
			if (sealed < 0) {
				err = sealed;
				break;
			}
			if (sealed) {
				copied += n;
				TAPSEC_COUNT(ctx, tx_direct, 1);
			}
		}
		if (!sealed) {
			size_t got = copy_from_iter(tx->buf + poff + tx->open_len,
						    n, &msg->msg_iter);

			tx->open_len += got;
			copied += got;
			if (got != n) {
				err = -EFAULT;
				break;
			}
			if (tx->open_len < TAPSEC_TLS_MAX_PLAINTEXT &&
			    (msg_data_left(msg) || more))
				continue;
			err = tapsec_tls_seal(ctx, tx);
		}
		if (!err)
			err = tapsec_tls_push(sk, tx, msg_data_left(msg) ?
					      flags | MSG_MORE : flags);
		if (!err)
			err = tapsec_tls_tx_limits(sk, ctx, flags);
		/*
		 * A KeyUpdate the soft limit sent that TCP could not take is
		 * pending in the record buffer: the next record would be
		 * sealed over it.
		 */
		if (!err && tx->pend_len)
			err = -EAGAIN;
		if (err)
			break;
		/*
		 * Let TCP take in the ACKs that came meanwhile, as its own
		 * sendmsg does: splicing records does not, and a long write
		 * would otherwise hold them in the backlog to the end.
		 */
		if (msg_data_left(msg))
			sk_flush_backlog(sk);
	}
	/* An empty send without MSG_MORE closes a record left open before. */
	if (!err && !more && tx->open_len)
		err = tapsec_tls_seal_push(sk, ctx, tx, flags);
	if (!err)
		err = tapsec_tls_tx_limits(sk, ctx, flags);
out:
	release_sock(sk);
	mutex_unlock(&tls->tx_lock);
	/* Sealed data is on its way even when TCP could not take it all. */
	return copied ? copied : err;
}

/**
 * tapsec_tls_write_space() - sk_write_space of sockets with a TX key
 * @sk: the socket
 *
 * Called by TCP when it has room again: a pending record goes out from
 * the work item, then writers are woken as TCP would.
 */
void tapsec_tls_write_space(struct sock *sk)
{
	struct tapsec_ctx *ctx = tapsec_stream_ctx(sk);
	struct tapsec_tls *tls = ctx ? ctx->engine_priv : NULL;

	if (!tls)
		return;
	if (tls->tx && READ_ONCE(tls->tx->pend_len))
		schedule_work(&tls->tx_work);
	tls->saved_write_space(sk);
}

/**
 * tapsec_tls_tx_work() - push a pending record from process context
 * @work: tapsec_tls.tx_work
 */
void tapsec_tls_tx_work(struct work_struct *work)
{
	struct tapsec_tls *tls = container_of(work, struct tapsec_tls, tx_work);
	struct sock *sk = tls->ctx->sk;

	/* A sender holding the lock pushes the record itself. */
	if (!mutex_trylock(&tls->tx_lock))
		return;
	lock_sock(sk);
	if (tls->tx && tls->tx->pend_len)
		tapsec_tls_push(sk, tls->tx, MSG_DONTWAIT | MSG_NOSIGNAL);
	/* What the peer is owed; else the next send sends it. */
	if (tls->tx && !tls->tx->pend_len && !tls->tx->open_len &&
	    ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT)))
		tapsec_tls_tx_owed(sk, tls->ctx, MSG_DONTWAIT | MSG_NOSIGNAL);
	release_sock(sk);
	mutex_unlock(&tls->tx_lock);
}

/**
 * tapsec_tls_sendpage() - ->sendpage (kernels before 6.5): sendfile/splice
 * @sk: the socket
 * @ctx: its context
 * @page: the data's page
 * @offset: where the data starts in it
 * @size: bytes
 * @flags: MSG_* and MSG_SENDPAGE_NOTLAST
 *
 * Return: as tapsec_tls_sendmsg().
 */
int tapsec_tls_sendpage(struct sock *sk, struct tapsec_ctx *ctx,
			struct page *page, int offset, size_t size, int flags)
{
	struct bio_vec bvec = {
		.bv_page = page,
		.bv_offset = offset,
		.bv_len = size,
	};
	struct msghdr msg = { .msg_flags = flags };

	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, &bvec, 1, size);
	return tapsec_tls_sendmsg(sk, ctx, &msg, size);
}

/*
 * Run @fn with the transmit side locked, unless a sender holds it: that
 * sender may sleep in TCP for as long as the peer does not read, and
 * shutdown() and splice's end must not wait for it (shutdown is how
 * another thread gets a blocked sender out).  Returns -EBUSY then.
 */
static int tapsec_tls_tx_locked(struct sock *sk, struct tapsec_ctx *ctx,
				int (*fn)(struct sock *sk,
					  struct tapsec_ctx *ctx, int flags),
				int flags)
{
	struct tapsec_tls *tls = READ_ONCE(ctx->engine_priv);
	int err = 0;

	if (!tls || !READ_ONCE(tls->tx))
		return 0;
	if (!mutex_trylock(&tls->tx_lock))
		return -EBUSY;
	lock_sock(sk);
	if (tls->tx && !tls->tx->closed &&
	    ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT)))
		err = fn(sk, ctx, flags);
	release_sock(sk);
	mutex_unlock(&tls->tx_lock);
	return err;
}

/**
 * tapsec_tls_splice_eof() - the end of a splice: seal the open record
 * @sk: the socket
 * @ctx: its context
 */
void tapsec_tls_splice_eof(struct sock *sk, struct tapsec_ctx *ctx)
{
	tapsec_tls_tx_locked(sk, ctx, tapsec_tls_tx_flush, MSG_DONTWAIT);
}

/**
 * tapsec_tls_shutdown_tx() - shutdown(SHUT_WR): close_notify before FIN
 * @sk: the socket
 * @ctx: its context
 * @flags: MSG_DONTWAIT for a non-blocking socket
 *
 * While another thread is inside send(), close_notify is not sent: that
 * thread owns the record stream, and TCP's shutdown wakes it with EPIPE.
 *
 * Return: 0 or why close_notify could not be queued.
 */
int tapsec_tls_shutdown_tx(struct sock *sk, struct tapsec_ctx *ctx, int flags)
{
	return tapsec_tls_tx_locked(sk, ctx, tapsec_tls_send_close_notify,
				    flags);
}
