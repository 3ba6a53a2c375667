// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: the TLS record engine's keys and lifecycle: TAPSEC_TX/TAPSEC_RX
 * (layouts of kTLS's tls12_crypto_info_*), reading them back, close_notify
 * and wiping everything on close.
 */
#include <linux/capability.h>
#include <linux/slab.h>
#include <linux/inet_diag.h>
#include <linux/tls.h>
#include <linux/uaccess.h>
#include <net/tcp.h>

#include "tapsec_compat.h"
#include "tapsec_tls.h"

/* Key a direction from @k; the old key, if any, was wiped before. */
static int tapsec_tls_dir_init(struct tapsec_tls_dir *d,
			       const struct tapsec_keys *k)
{
	int err;

	err = tapsec_aead_init(&d->aead, k->cipher, k->key, k->key_len);
	if (err)
		return err;
	memcpy(d->aead.iv, k->iv, TAPSEC_NONCE_LEN);
	d->aead.seq = k->seq;
	d->version = k->version;
	d->explicit_len = (k->version == TAPSEC_TLS_1_2_VERSION &&
			   k->cipher != TAPSEC_CIPHER_CHACHA20_POLY1305) ?
			  TAPSEC_TLS12_EXPLICIT_LEN : 0;
	memcpy(d->key, k->key, k->key_len);
	d->key_len = k->key_len;
	return 0;
}

/**
 * tapsec_tls_dir_wipe() - wipe a direction's key, keep its buffers
 * @d: the direction
 */
void tapsec_tls_dir_wipe(struct tapsec_tls_dir *d)
{
	tapsec_aead_wipe(&d->aead);
	memzero_explicit(d->key, sizeof(d->key));
	memzero_explicit(d->aad, sizeof(d->aad));
	memzero_explicit(d->secret, sizeof(d->secret));
	d->secret_len = 0;
	d->key_len = 0;
}

/**
 * tapsec_tls_side_alloc() - allocate a transmit or receive side
 * @size: size of the side's structure
 * @buf_len: size of its record buffer
 * @buf_off: offset of the u8 *buf member that points to the buffer
 *
 * The buffer is physically contiguous: the crypto API takes it as one
 * scatterlist entry.
 *
 * Return: the zeroed side with its buffer, or NULL.
 */
void *tapsec_tls_side_alloc(size_t size, size_t buf_len, size_t buf_off)
{
	void *side = tapsec_fail_alloc() ? NULL : kzalloc(size, GFP_KERNEL_ACCOUNT);
	u8 *buf;

	if (!side)
		return NULL;
	buf = tapsec_fail_alloc() ? NULL : kmalloc(buf_len, GFP_KERNEL_ACCOUNT);
	if (!buf) {
		kfree(side);
		return NULL;
	}
	*(u8 **)(side + buf_off) = buf;
	return side;
}

/**
 * tapsec_tls_side_free() - wipe and free what tapsec_tls_side_alloc() gave
 * @side: the side
 * @d: its key
 * @buf: its record buffer, which may hold plaintext
 */
void tapsec_tls_side_free(void *side, struct tapsec_tls_dir *d, u8 *buf)
{
	tapsec_tls_dir_wipe(d);
	kfree_sensitive(buf);
	kfree_sensitive(side);
}

/**
 * tapsec_tls_take_seq() - sequence number for the next record, counted
 * @ctx: the socket's context
 * @d: the direction
 * @seq: set to the number
 *
 * Return: 0, or -EKEYEXPIRED once all are used (counted as key_exhausted).
 */
int tapsec_tls_take_seq(struct tapsec_ctx *ctx, struct tapsec_tls_dir *d,
			u64 *seq)
{
	int err = tapsec_aead_take_seq(&d->aead, seq);

	if (err)
		TAPSEC_COUNT(ctx, key_exhausted, 1);
	return err;
}

/**
 * tapsec_tls_crypt() - seal or open the record in @buf
 * @d: the direction's key
 * @encrypt: seal when true, open when false
 * @buf: the record: header, explicit nonce (already in place), text, tag
 * @seq: its sequence number
 * @type: its content type (TLS 1.2 additional data)
 * @textlen: bytes of text: the plaintext (TLS 1.2) or TLSInnerPlaintext
 *	(TLS 1.3), without the tag
 * @ext: NULL to work in place.  Else, opening, where the output goes: a
 *	first entry as long as the additional data (scratch: 5 bytes in TLS
 *	1.3, 13 in TLS 1.2), then room for the text; @buf is left as it was.
 *	Sealing, where the input comes from: the additional data (the header
 *	in @buf in TLS 1.3, @d->aad in TLS 1.2), then the text; the output
 *	goes to @buf.
 * @in: opening into @ext only, NULL when the text and tag are in @buf.
 *	Else where they are (TCP's skbs), from the second entry on; the
 *	first is set here to the additional data, and @buf need hold only
 *	the header and the explicit nonce.
 *
 * Return: 0, -EBADMSG when opening fails authentication, or another error.
 */
int tapsec_tls_crypt(struct tapsec_tls_dir *d, bool encrypt, u8 *buf,
		     u64 seq, u8 type, u32 textlen, struct scatterlist *ext,
		     struct scatterlist *in)
{
	struct scatterlist *src, *dst;
	u32 cryptlen = textlen + (encrypt ? 0 : TAPSEC_TAG_LEN);
	u8 nonce[TAPSEC_NONCE_LEN];
	struct scatterlist sg[2];
	int err;

	src = encrypt && ext ? ext : in ?: sg;
	dst = !encrypt && ext ? ext : sg;
	if (d->version == TAPSEC_TLS_1_3_VERSION) {
		tapsec_aead_xor_nonce(&d->aead, seq, nonce);
		/* The additional data is the record header itself. */
		if (in)
			sg_set_buf(in, buf, TAPSEC_TLS_HEADER_LEN);
		else
			sg_init_one(sg, buf, TAPSEC_TLS_HEADER_LEN + textlen +
				    TAPSEC_TAG_LEN);
		err = tapsec_aead_crypt(&d->aead, encrypt, src, dst,
					TAPSEC_TLS_HEADER_LEN, cryptlen, nonce);
	} else {
		tapsec_aead_tls12_nonce(&d->aead, seq, type,
					TAPSEC_TLS_LEGACY_VERSION, textlen,
					d->explicit_len ?
					buf + TAPSEC_TLS_HEADER_LEN : NULL,
					d->aad, nonce);
		if (in) {
			sg_set_buf(in, d->aad, TAPSEC_TLS12_AAD_LEN);
		} else {
			sg_init_table(sg, 2);
			sg_set_buf(&sg[0], d->aad, TAPSEC_TLS12_AAD_LEN);
			sg_set_buf(&sg[1], buf + TAPSEC_TLS_HEADER_LEN +
				   d->explicit_len, textlen + TAPSEC_TAG_LEN);
		}
		err = tapsec_aead_crypt(&d->aead, encrypt, src, dst,
					TAPSEC_TLS12_AAD_LEN, cryptlen, nonce);
	}
	memzero_explicit(nonce, sizeof(nonce));
	return err;
}

/**
 * tapsec_tls_pin() - take the pages of a user's buffer for the cipher
 * @it: the buffer, user memory; advanced past what is taken
 * @len: bytes to take
 * @pages: set to the pages, TAPSEC_TLS_USER_PAGES at most
 * @sgt: a table of TAPSEC_TLS_USER_SG entries, initialised here:
 *	the first is left for the additional data, the next ones are set to
 *	the pages' pieces, two more may follow them
 *
 * Writable pages when @it is a destination.  Release them with
 * tapsec_tls_unpin().
 *
 * Return: pages taken, or 0 with @it as it was when the @len bytes cannot
 * all be had (a fault, or more than TAPSEC_TLS_USER_PAGES pages).
 */
unsigned int tapsec_tls_pin(struct iov_iter *it, u32 len, struct page **pages,
			    struct scatterlist *sgt)
{
	const unsigned int max = TAPSEC_TLS_USER_PAGES;
	struct scatterlist *sg = sgt + 1;
	unsigned int n = 0;
	size_t got = 0;

	sg_init_table(sgt, TAPSEC_TLS_USER_SG);

	while (got < len) {
		size_t start;
		ssize_t r;

		if (n == max)
			goto undo;
		r = iov_iter_get_pages2(it, pages + n, len - got, max - n,
					&start);
		if (r <= 0)
			goto undo;
		got += r;
		while (r > 0) {
			size_t seg = min_t(size_t, r, PAGE_SIZE - start);

			sg_set_page(&sg[n], pages[n], seg, start);
			start = 0;
			r -= seg;
			n++;
		}
	}
	return n;
undo:
	iov_iter_revert(it, got);
	tapsec_tls_unpin(pages, n, false);
	return 0;
}

/**
 * tapsec_tls_unpin() - release what tapsec_tls_pin() took
 * @pages: the pages
 * @n: how many
 * @dirty: they were written to
 */
void tapsec_tls_unpin(struct page **pages, unsigned int n, bool dirty)
{
	while (n--) {
		if (dirty)
			set_page_dirty_lock(pages[n]);
		put_page(pages[n]);
	}
}

/*
 * A TLS 1.3 direction's next key, make before break: the new key is set
 * up first, and only once it is (and, on transmit when @sk is given,
 * what was buffered went out under the old one) does it replace the old
 * key, which is wiped.  On failure the old key stays in use.
 */
static int tapsec_tls_rekey(struct tapsec_tls_dir *d,
			    const struct tapsec_keys *k, struct sock *sk,
			    struct tapsec_ctx *ctx)
{
	struct tapsec_tls_dir nd = {};
	int err;

	err = tapsec_tls_dir_init(&nd, k);
	if (!err && sk)
		err = tapsec_tls_tx_flush(sk, ctx, 0);
	if (err) {
		tapsec_tls_dir_wipe(&nd);
		return err;
	}
	tapsec_tls_dir_wipe(d);
	*d = nd;
	memzero_explicit(&nd, sizeof(nd));
	return 0;
}

static struct tapsec_tls *tapsec_tls_get(struct sock *sk,
					 struct tapsec_ctx *ctx)
{
	struct tapsec_tls *tls;

	lock_sock(sk);
	tls = ctx->engine_priv;
	if (!tls) {
		tls = tapsec_fail_alloc() ? NULL : kzalloc(sizeof(*tls), GFP_KERNEL_ACCOUNT);
		if (tls) {
			mutex_init(&tls->tx_lock);
			mutex_init(&tls->rx_lock);
			INIT_WORK(&tls->tx_work, tapsec_tls_tx_work);
			tls->ctx = ctx;
			WRITE_ONCE(ctx->engine_priv, tls);
		}
	}
	release_sock(sk);
	return tls;
}

static bool tapsec_tls_connected(const struct sock *sk)
{
	return (1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT);
}

static int tapsec_tls_set_tx(struct sock *sk, struct tapsec_ctx *ctx,
			     struct tapsec_tls *tls,
			     const struct tapsec_keys *k)
{
	struct tapsec_tls_tx *tx = tls->tx;
	int err;

	if (tx) {
		/* A new key of the same kind: TLS 1.3 key update. */
		if (tx->d.version != TAPSEC_TLS_1_3_VERSION)
			return -EBUSY;
		if (k->version != tx->d.version || k->cipher != tx->d.aead.cipher)
			return -EINVAL;
		err = tapsec_tls_rekey(&tx->d, k, sk, ctx);
		if (!err)
			tapsec_tls_tx_key_born(ctx, tx);
		return err;
	}

	err = tapsec_tls_tx_alloc(&tx);
	if (err)
		return err;
	err = tapsec_tls_dir_init(&tx->d, k);
	if (err) {
		tapsec_tls_tx_free(tx);
		return err;
	}
	if (!tls->saved_write_space) {
		tls->saved_write_space = sk->sk_write_space;
		sk->sk_write_space = tapsec_tls_write_space;
	}
	tapsec_tls_tx_key_born(ctx, tx);
	WRITE_ONCE(tls->tx, tx);
	WRITE_ONCE(ctx->state, TAPSEC_STATE_ESTABLISHED);
	WRITE_ONCE(ctx->tx_version, k->version);
	WRITE_ONCE(ctx->tx_cipher, k->cipher);
	return 0;
}

static int tapsec_tls_set_rx(struct sock *sk, struct tapsec_ctx *ctx,
			     struct tapsec_tls *tls,
			     const struct tapsec_keys *k)
{
	struct tapsec_tls_rx *rx = tls->rx;
	int err;

	if (rx) {
		if (rx->d.version != TAPSEC_TLS_1_3_VERSION)
			return -EBUSY;
		if (k->version != rx->d.version || k->cipher != rx->d.aead.cipher)
			return -EINVAL;
		/*
		 * Records are opened only when read: bytes already pulled out
		 * of TCP but not opened follow the KeyUpdate the reader just
		 * consumed, so they are under the new key.
		 */
		return tapsec_tls_rekey(&rx->d, k, NULL, ctx);
	}

	err = tapsec_tls_rx_alloc(&rx);
	if (err)
		return err;
	err = tapsec_tls_dir_init(&rx->d, k);
	if (err) {
		tapsec_tls_rx_free(rx);
		return err;
	}
	WRITE_ONCE(tls->rx, rx);
	WRITE_ONCE(ctx->state, TAPSEC_STATE_ESTABLISHED);
	WRITE_ONCE(ctx->rx_version, k->version);
	WRITE_ONCE(ctx->rx_cipher, k->cipher);
	if (!tls->saved_data_ready) {
		tls->saved_data_ready = sk->sk_data_ready;
		sk->sk_data_ready = tapsec_tls_data_ready;
	}
	/*
	 * TCP calls sk_data_ready only once sk_rcvlowat bytes are queued,
	 * but the last bytes of a record may be fewer: the low-water mark
	 * now counts plaintext, in the record layer.
	 */
	WRITE_ONCE(ctx->rcvlowat, READ_ONCE(sk->sk_rcvlowat));
	WRITE_ONCE(sk->sk_rcvlowat, 1);
	/* Bytes TCP queued before the key was there. */
	tapsec_tls_rx_fill(sk, rx);
	if (tapsec_tls_rx_readable(rx))
		tls->saved_data_ready(sk);
	return 0;
}

/**
 * tapsec_tls_setsockopt() - install a TLS traffic key (TAPSEC_TX/RX)
 * @sk: the stream socket
 * @ctx: its context
 * @optname: TAPSEC_TX or TAPSEC_RX
 * @optval: a struct tapsec_crypto_info_* for the cipher named in it
 * @optlen: exactly the size of that structure
 *
 * Return: 0; -EINVAL for a bad version, cipher or length; -ENOTCONN on an
 * unconnected socket; -EBUSY when a TLS 1.2 key is set already; or an error
 * of the crypto API.
 */
int tapsec_tls_setsockopt(struct sock *sk, struct tapsec_ctx *ctx,
			  int optname, sockptr_t optval, unsigned int optlen)
{
	bool is_tx = optname == TAPSEC_TX;
	struct tapsec_keys k;
	struct tapsec_tls *tls;
	int err;

	if (ctx->protocol != TAPSEC_PROTO_TLS)
		return -EPROTOTYPE;
	err = tapsec_aead_parse(optval, optlen, &k);
	if (!err && k.version != TAPSEC_TLS_1_2_VERSION &&
	    k.version != TAPSEC_TLS_1_3_VERSION)
		err = -EINVAL;
	if (err)
		goto out;
	tls = tapsec_tls_get(sk, ctx);
	if (!tls) {
		err = -ENOMEM;
		goto out;
	}

	mutex_lock(is_tx ? &tls->tx_lock : &tls->rx_lock);
	lock_sock(sk);
	if (!tapsec_tls_connected(sk))
		err = -ENOTCONN;
	else if (is_tx)
		err = tapsec_tls_set_tx(sk, ctx, tls, &k);
	else
		err = tapsec_tls_set_rx(sk, ctx, tls, &k);
	release_sock(sk);
	mutex_unlock(is_tx ? &tls->tx_lock : &tls->rx_lock);
out:
	memzero_explicit(&k, sizeof(k));
	return err;
}

/**
 * tapsec_tls_getsockopt() - read a TLS traffic key's parameters back
 * @sk: the stream socket
 * @ctx: its context
 * @optname: TAPSEC_TX, TAPSEC_RX, or TAPSEC_TX_KEY/TAPSEC_RX_KEY to include
 *	the key (the glue checked CAP_NET_ADMIN, tapsec_ctx_engine_getsockopt())
 * @optval: user buffer
 * @optlen: in: its size, at least the structure's; out: bytes written
 *
 * Return: 0; -ENOKEY when that direction has no key; -EINVAL for a short
 * buffer; -EFAULT.
 */
int tapsec_tls_getsockopt(struct sock *sk, struct tapsec_ctx *ctx,
			  int optname, char __user *optval, int __user *optlen)
{
	bool with_key = optname == TAPSEC_TX_KEY || optname == TAPSEC_RX_KEY;
	bool is_tx = optname == TAPSEC_TX || optname == TAPSEC_TX_KEY;
	union tapsec_crypto_info_any ci = {};
	struct tapsec_tls_dir *d = NULL;
	struct tapsec_tls *tls;
	unsigned int size = 0;
	int len, err = 0;

	if (get_user(len, optlen))
		return -EFAULT;

	lock_sock(sk);
	tls = ctx->engine_priv;
	if (tls && is_tx && tls->tx)
		d = &tls->tx->d;
	else if (tls && !is_tx && tls->rx)
		d = &tls->rx->d;
	if (!d || !d->key_len) {
		err = -ENOKEY;
		goto out;
	}
	size = tapsec_aead_pack(&d->aead, d->version, with_key ? d->key : NULL,
				d->aead.seq, &ci);
out:
	release_sock(sk);
	return err ?: tapsec_aead_info_out(&ci, size, len, optval, optlen);
}

/**
 * tapsec_tls_record_error() - the receive side is dead
 * @sk: the socket, owned by the caller
 * @ctx: its context
 * @err: negative errno every later read returns
 *
 * RFC 8446 section 5.2: after a record fails to decrypt or parse, the
 * connection cannot be used to receive.  The error is also reported on the
 * socket so that poll() and SO_ERROR see it.
 */
void tapsec_tls_record_error(struct sock *sk, struct tapsec_ctx *ctx, int err)
{
	struct tapsec_tls_rx *rx = tapsec_tls_of(ctx)->rx;

	if (rx->err)
		return;
	rx->err = err;
	WRITE_ONCE(rx->ready, true);
	WRITE_ONCE(sk->sk_err, -err);
	sk_error_report(sk);
}

/**
 * tapsec_tls_reject_peer() - the application rejected the peer
 * @sk: the stream socket
 * @ctx: its context, whose handshake just failed (TAPSEC_PEER_VERDICT)
 *
 * A fatal bad_certificate alert, then nothing more is sent.  Does not
 * wait for room in TCP.
 */
void tapsec_tls_reject_peer(struct sock *sk, struct tapsec_ctx *ctx)
{
	struct tapsec_tls *tls = READ_ONCE(ctx->engine_priv);

	if (!tls)
		return;
	mutex_lock(&tls->tx_lock);
	lock_sock(sk);
	if (tls->tx && !tls->tx->closed) {
		tapsec_tls_send_alert(sk, ctx, TAPSEC_ALERT_FATAL,
				      TAPSEC_ALERT_BAD_CERTIFICATE,
				      MSG_DONTWAIT);
		tls->tx->closed = true;
	}
	release_sock(sk);
	mutex_unlock(&tls->tx_lock);
}

/**
 * tapsec_tls_close() - end TLS on a socket being closed
 * @sk: the socket
 * @ctx: its context
 *
 * Called from close() in process context before TCP's close.  Seals what
 * is buffered, sends close_notify when a transmit key exists (without
 * waiting: close must not block on a peer that stopped reading), gives TCP
 * its callbacks back, then wipes the keys.
 */
void tapsec_tls_close(struct sock *sk, struct tapsec_ctx *ctx)
{
	struct tapsec_tls *tls = ctx->engine_priv;

	if (!tls)
		return;
	mutex_lock(&tls->tx_lock);
	lock_sock(sk);
	if (tls->tx && !tls->tx->closed && tapsec_tls_connected(sk)) {
		/* What the peer is owed goes first. */
		tapsec_tls_tx_owed(sk, ctx, MSG_DONTWAIT);
		tapsec_tls_send_close_notify(sk, ctx, MSG_DONTWAIT);
	}
	if (tls->saved_data_ready)
		sk->sk_data_ready = tls->saved_data_ready;
	if (tls->saved_write_space)
		sk->sk_write_space = tls->saved_write_space;
	WRITE_ONCE(ctx->state, TAPSEC_STATE_CLOSED);
	release_sock(sk);
	mutex_unlock(&tls->tx_lock);

	cancel_work_sync(&tls->tx_work);
	lock_sock(sk);
	WRITE_ONCE(ctx->engine_priv, NULL);
	WRITE_ONCE(ctx->tx_version, 0);
	WRITE_ONCE(ctx->rx_version, 0);
	release_sock(sk);
	tapsec_tls_tx_free(tls->tx);
	tapsec_tls_rx_free(tls->rx);
	kfree_sensitive(tls);	/* the exporter secret */
}

/**
 * tapsec_tls_free() - last resort when a socket dies without close()
 * @ctx: the context being freed
 *
 * Sockets get keys only through a file descriptor, so close() runs first
 * and this finds nothing; it stays as a guard against a leak.
 */
void tapsec_tls_free(struct tapsec_ctx *ctx)
{
	struct tapsec_tls *tls = ctx->engine_priv;

	if (WARN_ON_ONCE(tls)) {
		tapsec_tls_tx_free(tls->tx);
		tapsec_tls_rx_free(tls->rx);
		kfree_sensitive(tls);
		ctx->engine_priv = NULL;
	}
}

static bool tapsec_tls13_option(int optname)
{
	return optname == TAPSEC_TX_SECRET || optname == TAPSEC_RX_SECRET ||
	       optname == TAPSEC_EXPORTER_SECRET ||
	       optname == TAPSEC_KEY_UPDATE || optname == TAPSEC_EXPORT;
}

/* The engine's options: keys, limits and TLS 1.3's secrets. */
static bool tapsec_tls_option(const struct tapsec_ctx *ctx, int optname,
			      bool set)
{
	if (optname == TAPSEC_TX || optname == TAPSEC_RX ||
	    optname == TAPSEC_KEY_LIMITS || tapsec_tls13_option(optname))
		return true;
	return !set && (optname == TAPSEC_TX_KEY || optname == TAPSEC_RX_KEY);
}

static int tapsec_tls_engine_setsockopt(struct sock *sk,
					struct tapsec_ctx *ctx, int optname,
					sockptr_t optval, unsigned int optlen)
{
	if (optname == TAPSEC_KEY_LIMITS)
		return ctx->protocol == TAPSEC_PROTO_TLS ?
		       tapsec_tls_set_limits(sk, READ_ONCE(ctx->engine_priv),
					     optval, optlen) : -EPROTOTYPE;
	if (optname == TAPSEC_EXPORT)
		return -EPERM;	/* read only */
	if (optname == TAPSEC_TX || optname == TAPSEC_RX)
		return tapsec_tls_setsockopt(sk, ctx, optname, optval, optlen);
	return tapsec_tls13_setsockopt(sk, ctx, optname, optval, optlen);
}

static int tapsec_tls_engine_getsockopt(struct sock *sk,
					struct tapsec_ctx *ctx, int optname,
					char __user *optval,
					int __user *optlen)
{
	if (optname == TAPSEC_KEY_LIMITS)
		return tapsec_tls_get_limits(sk, ctx, optval, optlen);
	if (tapsec_tls13_option(optname))
		return tapsec_tls13_getsockopt(sk, ctx, optname, optval,
					       optlen);
	return tapsec_tls_getsockopt(sk, ctx, optname, optval, optlen);
}

static int tapsec_tls_engine_recvmsg(struct sock *sk, struct tapsec_ctx *ctx,
				     struct msghdr *msg, size_t len,
				     int flags, int *addr_len)
{
	return tapsec_tls_recvmsg(sk, ctx, msg, len, flags);
}

/* Once a receive key is in, readable only when a record has news. */
static __poll_t tapsec_tls_poll(struct sock *sk, const struct tapsec_ctx *ctx,
				__poll_t mask)
{
	struct tapsec_tls *tls = ctx ? READ_ONCE(ctx->engine_priv) : NULL;
	struct tapsec_tls_rx *rx = tls ? READ_ONCE(tls->rx) : NULL;

	if (rx) {
		mask &= ~(EPOLLIN | EPOLLRDNORM);
		if (tapsec_tls_rx_readable(rx) ||
		    (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN))
			mask |= EPOLLIN | EPOLLRDNORM;
	}
	return mask;
}

static bool tapsec_tls_keyed(const struct tapsec_ctx *ctx, bool tx)
{
	struct tapsec_tls *tls = READ_ONCE(ctx->engine_priv);

	if (!tls)
		return false;
	return tx ? !!READ_ONCE(tls->tx) : !!READ_ONCE(tls->rx);
}

/*
 * ss -ti: kTLS's INET_ULP_INFO_TLS nest, which ss prints as "version: 1.3
 * cipher: aes-gcm-128 rxconf: sw txconf: sw".  tapsec's version and
 * cipher numbers are kTLS's; a direction without a key is "none".
 */
static int tapsec_tls_diag(const struct tapsec_ctx *ctx, struct sk_buff *skb)
{
	u16 txv = READ_ONCE(ctx->tx_version), rxv = READ_ONCE(ctx->rx_version);
	u16 cipher = txv ? READ_ONCE(ctx->tx_cipher) : READ_ONCE(ctx->rx_cipher);
	struct nlattr *nest;

	nest = nla_nest_start_noflag(skb, INET_ULP_INFO_TLS);
	if (!nest)
		return -EMSGSIZE;
	if ((txv || rxv) &&
	    (nla_put_u16(skb, TLS_INFO_VERSION, txv ? txv : rxv) ||
	     nla_put_u16(skb, TLS_INFO_CIPHER, cipher)))
		goto fail;
	if (nla_put_u16(skb, TLS_INFO_TXCONF, txv ? TLS_CONF_SW : TLS_CONF_BASE) ||
	    nla_put_u16(skb, TLS_INFO_RXCONF, rxv ? TLS_CONF_SW : TLS_CONF_BASE))
		goto fail;
	nla_nest_end(skb, nest);
	return 0;
fail:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static size_t tapsec_tls_diag_size(const struct tapsec_ctx *ctx)
{
	return nla_total_size(0) +			/* INET_ULP_INFO_TLS */
	       4 * nla_total_size(sizeof(u16));		/* TLS_INFO_* */
}

const struct tapsec_engine_ops tapsec_tls_engine_ops = {
	.proto			= TAPSEC_PROTO_TLS,
	.type			= SOCK_STREAM,
	.versioned		= true,
	.option			= tapsec_tls_option,
	.setsockopt		= tapsec_tls_engine_setsockopt,
	.getsockopt		= tapsec_tls_engine_getsockopt,
	.sendmsg		= tapsec_tls_sendmsg,
	.recvmsg		= tapsec_tls_engine_recvmsg,
#if TAPSEC_HAVE_SENDPAGE
	.sendpage		= tapsec_tls_sendpage,
#endif
	.splice_eof		= tapsec_tls_splice_eof,
	.poll			= tapsec_tls_poll,
	.keyed			= tapsec_tls_keyed,
	.shutdown_tx		= tapsec_tls_shutdown_tx,
	.close			= tapsec_tls_close,
	.reject_peer		= tapsec_tls_reject_peer,
	.diag			= tapsec_tls_diag,
	.diag_size		= tapsec_tls_diag_size,
	.free			= tapsec_tls_free,
};
