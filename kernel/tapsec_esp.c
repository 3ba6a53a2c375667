// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: the ESP engine's security associations and options, and its
 * entry in the engine table.
 *
 * An ESP socket (TAPSEC_PROTOCOL = TAPSEC_PROTO_ESP, chosen before the
 * socket is bound) has one outbound SA (TAPSEC_TX) and one inbound SA
 * (TAPSEC_RX), each a struct tapsec_esp_sa.  Installing an SA again
 * replaces it: the outbound one from the next packet on, the inbound one
 * with a new anti-replay window.  Keys can be read back only with
 * CAP_NET_ADMIN (TAPSEC_TX_KEY/RX_KEY, checked by the glue) and are wiped
 * when replaced or freed.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/sock.h>

#include "tapsec_esp.h"

static struct tapsec_engine_state *tapsec_esp_make(struct tapsec_ctx *ctx)
{
	struct tapsec_esp *esp = kzalloc(sizeof(*esp), GFP_KERNEL_ACCOUNT);

	if (!esp)
		return NULL;
	mutex_init(&esp->tx_lock);
	mutex_init(&esp->rx_lock);
	esp->ctx = ctx;
	esp->window = TAPSEC_REPLAY_WINDOW_DEFAULT;
	return &esp->st;
}

static void tapsec_esp_key_free(struct tapsec_esp_key *k)
{
	if (!k)
		return;
	tapsec_aead_wipe(&k->aead);
	kfree_sensitive(k);
}

static unsigned int tapsec_esp_key_len(u16 cipher)
{
	switch (cipher) {
	case TAPSEC_CIPHER_AES_GCM_128:
		return 16;
	case TAPSEC_CIPHER_AES_GCM_256:
	case TAPSEC_CIPHER_CHACHA20_POLY1305:
		return 32;
	default:
		return 0;
	}
}

/* An SA from user space, checked: every field means what it says. */
static struct tapsec_esp_key *tapsec_esp_key_new(sockptr_t optval,
						 unsigned int optlen,
						 bool is_tx)
{
	struct tapsec_esp_sa sa;
	struct tapsec_esp_key *k;
	unsigned int klen;
	int err;

	if (optlen != sizeof(sa))
		return ERR_PTR(-EINVAL);
	err = -EFAULT;
	if (copy_from_sockptr(&sa, optval, sizeof(sa)))
		goto out;	/* a partial copy holds key bytes */
	klen = tapsec_esp_key_len(sa.cipher);
	err = -EINVAL;
	if (!klen || sa.spi < TAPSEC_ESP_SPI_MIN || sa.flags ||
	    (sa.seq && !is_tx) ||
	    !sa.inner_sport || !sa.inner_dport ||
	    memchr_inv(sa.key + klen, 0, sizeof(sa.key) - klen))
		goto out;
	err = -ENOMEM;
	k = tapsec_fail_alloc() ? NULL : kzalloc(sizeof(*k), GFP_KERNEL_ACCOUNT);
	if (!k)
		goto out;
	err = tapsec_aead_init(&k->aead, sa.cipher, sa.key, klen);
	if (err) {
		kfree(k);
		goto out;
	}
	memcpy(k->aead.iv, sa.salt, TAPSEC_ESP_SALT_LEN);
	k->aead.seq = (u64)sa.seq + 1;
	k->spi = sa.spi;
	k->sport = sa.inner_sport;
	k->dport = sa.inner_dport;
	k->key_len = klen;
	memcpy(k->key, sa.key, klen);
	memzero_explicit(&sa, sizeof(sa));
	return k;
out:
	memzero_explicit(&sa, sizeof(sa));
	return ERR_PTR(err);
}

/* Install @k as the SA of one direction; its buffer is made on first use. */
static int tapsec_esp_set_key(struct sock *sk, struct tapsec_ctx *ctx,
			      struct tapsec_esp *esp, bool is_tx,
			      struct tapsec_esp_key *k)
{
	struct mutex *lock = is_tx ? &esp->tx_lock : &esp->rx_lock;
	u8 **buf = is_tx ? &esp->tx_buf : &esp->rx_buf;
	struct tapsec_esp_key *old;

	mutex_lock(lock);
	if (!*buf) {
		/*
		 * kmalloc, never vmalloc: the buffer goes to the crypto API
		 * in a scatterlist, which needs linear memory.
		 */
		*buf = tapsec_fail_alloc() ? NULL :
		       kmalloc(TAPSEC_ESP_BUF_LEN,
			       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!*buf) {
			mutex_unlock(lock);
			tapsec_esp_key_free(k);
			return -ENOMEM;
		}
	}
	lock_sock(sk);
	if (is_tx) {
		/*
		 * RFC 3948 2.1: the UDP checksum of ESP in UDP SHOULD be zero
		 * (the ICV covers the packet; a NAT would have to fix it).
		 * Over IPv4 only: IPv6 keeps its checksum (sk_no_check6_tx).
		 */
		sk->sk_no_check_tx = 1;
		old = esp->tx;
		WRITE_ONCE(esp->tx, k);
		WRITE_ONCE(ctx->tx_cipher, k->aead.cipher);
	} else {
		old = esp->rx;
		/* A new SA's packets are not the old one's payload. */
		esp->opened = false;
		WRITE_ONCE(esp->rx_more, false);
		WRITE_ONCE(esp->rx, k);
		WRITE_ONCE(ctx->rx_cipher, k->aead.cipher);
	}
	WRITE_ONCE(ctx->state, TAPSEC_STATE_ESTABLISHED);
	release_sock(sk);
	mutex_unlock(lock);
	tapsec_esp_key_free(old);
	return 0;
}

static int tapsec_esp_setsockopt(struct sock *sk, struct tapsec_ctx *ctx,
				 int optname, sockptr_t optval,
				 unsigned int optlen)
{
	struct tapsec_engine_state *st;
	struct tapsec_esp_key *k;
	struct tapsec_esp *esp;
	u32 val;

	if (READ_ONCE(ctx->protocol) != TAPSEC_PROTO_ESP)
		return -EPROTOTYPE;
	st = tapsec_ctx_make_state(sk, ctx, &tapsec_esp_engine_ops,
				   tapsec_esp_make);
	if (IS_ERR(st))
		return PTR_ERR(st);
	esp = container_of(st, struct tapsec_esp, st);
	if (optname == TAPSEC_REPLAY_WINDOW) {
		if (optlen < sizeof(val))
			return -EINVAL;
		if (copy_from_sockptr(&val, optval, sizeof(val)))
			return -EFAULT;
		if (val < TAPSEC_REPLAY_WINDOW_MIN ||
		    val > TAPSEC_REPLAY_WINDOW_MAX)
			return -EINVAL;
		WRITE_ONCE(esp->window, val);
		return 0;
	}
	k = tapsec_esp_key_new(optval, optlen, optname == TAPSEC_TX);
	if (IS_ERR(k))
		return PTR_ERR(k);
	return tapsec_esp_set_key(sk, ctx, esp, optname == TAPSEC_TX, k);
}

/* An SA as TAPSEC_TX/RX read it: the key only for TAPSEC_TX_KEY/RX_KEY. */
static int tapsec_esp_get_key(struct tapsec_esp *esp, int optname,
			      char __user *optval, int __user *optlen)
{
	bool is_tx = optname == TAPSEC_TX || optname == TAPSEC_TX_KEY;
	struct mutex *lock = is_tx ? &esp->tx_lock : &esp->rx_lock;
	struct tapsec_esp_key *k;
	struct tapsec_esp_sa sa;
	int err = -ENOKEY;

	memset(&sa, 0, sizeof(sa));
	if (mutex_lock_interruptible(lock))
		return -EINTR;
	k = is_tx ? esp->tx : esp->rx;
	if (k) {
		sa.spi = k->spi;
		sa.cipher = k->aead.cipher;
		sa.inner_sport = k->sport;
		sa.inner_dport = k->dport;
		sa.seq = is_tx ? k->aead.seq - 1 : k->replay.top;
		memcpy(sa.salt, k->aead.iv, TAPSEC_ESP_SALT_LEN);
		if (optname == TAPSEC_TX_KEY || optname == TAPSEC_RX_KEY)
			memcpy(sa.key, k->key, k->key_len);
		err = 0;
	}
	mutex_unlock(lock);
	if (!err)
		err = tapsec_copy_out(&sa, sizeof(sa), optval, optlen);
	memzero_explicit(&sa, sizeof(sa));
	return err;
}

static int tapsec_esp_getsockopt(struct sock *sk, struct tapsec_ctx *ctx,
				 int optname, char __user *optval,
				 int __user *optlen)
{
	struct tapsec_esp *esp = tapsec_esp_of(ctx);
	u32 val;

	switch (optname) {
	case TAPSEC_REPLAY_WINDOW:
		val = esp ? READ_ONCE(esp->window) :
		      TAPSEC_REPLAY_WINDOW_DEFAULT;
		return tapsec_copy_out(&val, sizeof(val), optval, optlen);
	default:	/* TAPSEC_TX, TAPSEC_RX, TAPSEC_TX_KEY, TAPSEC_RX_KEY */
		if (!esp)
			return -ENOKEY;
		return tapsec_esp_get_key(esp, optname, optval, optlen);
	}
}

static bool tapsec_esp_option(const struct tapsec_ctx *ctx, int optname,
			      bool set)
{
	switch (optname) {
	case TAPSEC_TX:
	case TAPSEC_RX:
	case TAPSEC_REPLAY_WINDOW:
		return true;
	case TAPSEC_TX_KEY:
	case TAPSEC_RX_KEY:
		return !set;
	}
	return false;
}

static __poll_t tapsec_esp_poll(struct sock *sk, const struct tapsec_ctx *ctx,
				__poll_t mask)
{
	const struct tapsec_esp *esp = tapsec_esp_of(ctx);

	if (esp && READ_ONCE(esp->rx_more))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

static bool tapsec_esp_keyed(const struct tapsec_ctx *ctx, bool tx)
{
	const struct tapsec_esp *esp = tapsec_esp_of(ctx);

	if (!esp)
		return false;
	return tx ? !!READ_ONCE(esp->tx) : !!READ_ONCE(esp->rx);
}

/* ESP has no closing message: sends stop. */
static int tapsec_esp_shutdown_tx(struct sock *sk, struct tapsec_ctx *ctx,
				  int flags)
{
	struct tapsec_esp *esp = tapsec_esp_of(ctx);

	if (esp) {
		mutex_lock(&esp->tx_lock);
		esp->tx_closed = true;
		mutex_unlock(&esp->tx_lock);
	}
	return 0;
}

static void tapsec_esp_close(struct sock *sk, struct tapsec_ctx *ctx)
{
}

/*
 * A handshake daemon's datagrams in clear pass untouched: the daemon
 * refuses ESP handshakes today (no IKEv2 yet), but one that ran one
 * must find nothing of the engine's in its way.
 */
static void tapsec_esp_raw_sent(struct sock *sk, struct tapsec_ctx *ctx,
				struct msghdr *msg, size_t len)
{
}

static int tapsec_esp_raw_recvmsg(struct tapsec_ctx *ctx, struct msghdr *msg,
				  size_t len, int flags)
{
	return -ENOENT;		/* read from UDP */
}

static void tapsec_esp_raw_read(struct tapsec_ctx *ctx)
{
}

/* No peer to tell: nothing authenticated one (no handshake yet). */
static void tapsec_esp_reject_peer(struct sock *sk, struct tapsec_ctx *ctx)
{
}

/* ESP has no listeners: one socket per peer, keyed before use. */
static int tapsec_esp_listen(struct socket *sock)
{
	return -EOPNOTSUPP;
}

static int tapsec_esp_accept(struct socket *sock, struct socket *newsock,
			     bool nonblock)
{
	return -EOPNOTSUPP;
}

/* No timers and no hooks yet. */
static void tapsec_esp_stop(struct tapsec_ctx *ctx)
{
}

static void tapsec_esp_free(struct tapsec_ctx *ctx)
{
	struct tapsec_esp *esp = tapsec_esp_of(ctx);

	if (!esp)
		return;
	WRITE_ONCE(ctx->engine_priv, NULL);
	tapsec_esp_key_free(esp->tx);
	tapsec_esp_key_free(esp->rx);
	kfree_sensitive(esp->tx_buf);
	kfree_sensitive(esp->rx_buf);
	kfree_sensitive(esp);
}

const struct tapsec_engine_ops tapsec_esp_engine_ops = {
	.proto		= TAPSEC_PROTO_ESP,
	.type		= SOCK_DGRAM,
	.option		= tapsec_esp_option,
	.setsockopt	= tapsec_esp_setsockopt,
	.getsockopt	= tapsec_esp_getsockopt,
	.sendmsg	= tapsec_esp_sendmsg,
	.recvmsg	= tapsec_esp_recvmsg,
	.raw_sent	= tapsec_esp_raw_sent,
	.raw_recvmsg	= tapsec_esp_raw_recvmsg,
	.raw_read	= tapsec_esp_raw_read,
	.poll		= tapsec_esp_poll,
	.keyed		= tapsec_esp_keyed,
	.shutdown_tx	= tapsec_esp_shutdown_tx,
	.close		= tapsec_esp_close,
	.reject_peer	= tapsec_esp_reject_peer,
	.listen		= tapsec_esp_listen,
	.accept		= tapsec_esp_accept,
	.stop		= tapsec_esp_stop,
	.unhook		= tapsec_esp_stop,
	.free		= tapsec_esp_free,
};
