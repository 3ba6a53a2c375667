// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: the shared datagram path of the SA engines (tapsec_sa.h).
 *
 * One send() is one packet in one UDP datagram to the connected peer (IP
 * fragments it when it is larger than the path).  recv() takes datagrams
 * from UDP's queue (tapsec_dgram_io.c) and opens them, one packet per
 * call; packets that fail a check are dropped and counted by the engine
 * and the next one is tried.  Readers do not hold the receive lock while
 * they wait.  Installing a key again replaces it: the outbound one from
 * the next packet on, the inbound one with a new anti-replay window.
 *
 * Inbound keys are made before they are broken: a new inbound key of
 * another SPI or receiver index leaves the one it follows valid as the
 * previous key, until a third one comes, it is retired
 * (TAPSEC_RX_PREV) or it is older than the socket's hard_seconds.  The
 * engine picks the key a packet names (tapsec_sa_rx_key()).  Both live
 * under the receive lock, which every reader holds while it opens a
 * packet: a key is never freed under a reader.  Keys are wiped when
 * replaced, retired or freed.
 */
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uio.h>
#include <net/checksum.h>
#include <net/ip6_checksum.h>
#include <net/sock.h>

#include "tapsec_sa.h"

/**
 * tapsec_sa_udp_csum() - the checksum of an inner UDP header (RFC 768)
 * @family: AF_INET or AF_INET6, of @saddr and @daddr
 * @saddr: the source address the pseudo-header names
 * @daddr: the destination address
 * @udp: the UDP header, its checksum zero, and the payload
 * @ulen: their length
 *
 * Return: the checksum, 0xffff for one that came out zero.
 */
__sum16 tapsec_sa_udp_csum(u16 family, const void *saddr, const void *daddr,
			   const u8 *udp, u32 ulen)
{
	__wsum csum = csum_partial(udp, ulen, 0);
	__sum16 check;
	__be32 s4, d4;

	if (family == AF_INET6) {
		check = csum_ipv6_magic(saddr, daddr, ulen, IPPROTO_UDP, csum);
	} else {
		memcpy(&s4, saddr, sizeof(s4));
		memcpy(&d4, daddr, sizeof(d4));
		check = csum_tcpudp_magic(s4, d4, ulen, IPPROTO_UDP, csum);
	}
	return check ?: CSUM_MANGLED_0;
}

/**
 * tapsec_sa_init() - set up the head of a new SA engine state
 * @sa: the state, zeroed
 * @e: the engine making it, whose @sa hooks it uses
 * @ctx: the socket's context
 */
void tapsec_sa_init(struct tapsec_sa *sa, const struct tapsec_engine_ops *e,
		    struct tapsec_ctx *ctx)
{
	mutex_init(&sa->tx_lock);
	mutex_init(&sa->rx_lock);
	sa->ops = e->sa;
	sa->ctx = ctx;
	sa->window = e->sa->window;
	sa->tx_use.lim = e->sa->limits;
	sa->rx_max_age = e->sa->limits.hard_seconds;
}

/**
 * tapsec_sa_state() - an SA engine's state of a socket, made on first use
 * @sk: the socket
 * @ctx: its context
 * @e: the engine asking
 * @make: allocates the state and calls tapsec_sa_init()
 *
 * Return: the state, or ERR_PTR(-EPROTOTYPE) when the socket does not
 * carry @e's protocol (or moved to another engine), ERR_PTR(-ENOMEM).
 */
struct tapsec_sa *tapsec_sa_state(struct sock *sk, struct tapsec_ctx *ctx,
				  const struct tapsec_engine_ops *e,
				  struct tapsec_engine_state *(*make)(struct tapsec_ctx *ctx))
{
	struct tapsec_engine_state *st;

	if (READ_ONCE(ctx->protocol) != e->proto)
		return ERR_PTR(-EPROTOTYPE);
	st = tapsec_ctx_make_state(sk, ctx, e, make);
	if (IS_ERR(st))
		return ERR_CAST(st);
	return container_of(st, struct tapsec_sa, st);
}

/**
 * tapsec_sa_set_key() - install the key of one direction
 * @sk: the socket
 * @ctx: its context
 * @sa: its SA state
 * @is_tx: outbound (TAPSEC_TX) or inbound
 * @key: the engine's key, which this call owns from now on
 * @cipher: its TAPSEC_CIPHER_*, for TAPSEC_SOCK_INFO
 *
 * The direction's buffer is made on its first key.  An inbound key of
 * another id than the current one makes that one the previous key (the
 * previous one before it is wiped); of the same id, it replaces it.
 *
 * Return: 0, or -ENOMEM (@key freed).
 */
int tapsec_sa_set_key(struct sock *sk, struct tapsec_ctx *ctx,
		      struct tapsec_sa *sa, bool is_tx, void *key, u16 cipher)
{
	struct mutex *lock = is_tx ? &sa->tx_lock : &sa->rx_lock;
	u8 **buf = is_tx ? &sa->tx_buf : &sa->rx_buf;
	u32 id = sa->ops->key_id(key);
	void *old;

	mutex_lock(lock);
	/* A listener takes handshakes, its children keys. */
	if (READ_ONCE(sa->listener)) {
		mutex_unlock(lock);
		sa->ops->key_free(key);
		return -EINVAL;
	}
	if (!*buf) {
		/*
		 * kmalloc, never vmalloc: the buffer goes to the crypto API
		 * in a scatterlist, which needs linear memory.
		 */
		*buf = tapsec_fail_alloc() ? NULL :
		       kmalloc(TAPSEC_SA_BUF_LEN,
			       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!*buf) {
			mutex_unlock(lock);
			sa->ops->key_free(key);
			return -ENOMEM;
		}
	}
	lock_sock(sk);
	if (is_tx) {
		old = sa->tx;
		WRITE_ONCE(sa->tx, key);
		WRITE_ONCE(ctx->tx_cipher, cipher);
		tapsec_key_use_born(ctx, &sa->tx_use);
	} else if (sa->rx && sa->rx_id != id) {
		/* Make before break: the current key stays valid. */
		old = sa->rx_prev;
		sa->rx_prev = sa->rx;
		sa->rx_prev_id = sa->rx_id;
		sa->rx_prev_born = sa->rx_born;
		sa->rx_id = id;
		sa->rx_born = ktime_get_boottime_seconds();
		WRITE_ONCE(sa->rx, key);
		WRITE_ONCE(ctx->rx_cipher, cipher);
	} else {
		old = sa->rx;
		/* A new key's packets are not the old one's payload. */
		sa->opened = false;
		WRITE_ONCE(sa->rx_more, false);
		sa->rx_id = id;
		sa->rx_born = ktime_get_boottime_seconds();
		WRITE_ONCE(sa->rx, key);
		WRITE_ONCE(ctx->rx_cipher, cipher);
	}
	WRITE_ONCE(ctx->state, TAPSEC_STATE_ESTABLISHED);
	release_sock(sk);
	mutex_unlock(lock);
	if (old)
		sa->ops->key_free(old);
	return 0;
}

/* A key born at @born is @max_age seconds old (0: no limit, no clock). */
static bool tapsec_sa_too_old(u64 born, u64 max_age)
{
	return max_age && ktime_get_boottime_seconds() - born >= max_age;
}

/**
 * tapsec_sa_rx_key() - the inbound key a packet names
 * @sa: the SA state, under the receive lock
 * @id: the SPI or receiver index the packet carries
 *
 * A previous key older than the socket's hard_seconds is wiped here;
 * a current one that old stays, accepting nothing, until it is replaced.
 *
 * Return: the current or the previous key whose id is @id, NULL when
 * neither is, or it is too old.
 */
void *tapsec_sa_rx_key(struct tapsec_sa *sa, u32 id)
{
	u64 max_age = READ_ONCE(sa->rx_max_age);
	void *prev = sa->rx_prev;

	if (sa->rx && sa->rx_id == id)
		return tapsec_sa_too_old(sa->rx_born, max_age) ? NULL : sa->rx;
	if (!prev || sa->rx_prev_id != id)
		return NULL;
	if (tapsec_sa_too_old(sa->rx_prev_born, max_age)) {
		sa->rx_prev = NULL;
		sa->ops->key_free(prev);
		return NULL;
	}
	return prev;
}

/*
 * tapsec_sa_retire_prev() - TAPSEC_RX_PREV set: retire the previous key
 * @sa: the SA state
 * @optlen: the option's length, which must be 0
 *
 * Return: 0 with the previous inbound key wiped, -ENOKEY when there is
 * none, -EINVAL for a value, -EINTR.
 */
static int tapsec_sa_retire_prev(struct tapsec_sa *sa, unsigned int optlen)
{
	void *prev;

	if (optlen)
		return -EINVAL;
	if (mutex_lock_interruptible(&sa->rx_lock))
		return -EINTR;
	prev = sa->rx_prev;
	sa->rx_prev = NULL;
	mutex_unlock(&sa->rx_lock);
	if (!prev)
		return -ENOKEY;
	sa->ops->key_free(prev);
	return 0;
}

/**
 * tapsec_sa_option() - the options every SA engine answers
 * @ctx: the socket's context
 * @optname: the SOL_TAPSEC option
 * @set: to set it, else to read it
 *
 * Return: true for the keys (TAPSEC_TX/RX; the _KEY forms only to read),
 * TAPSEC_RX_PREV, TAPSEC_REPLAY_WINDOW, TAPSEC_KEY_LIMITS and (to set)
 * TAPSEC_KEEPALIVE.
 */
bool tapsec_sa_option(const struct tapsec_ctx *ctx, int optname, bool set)
{
	switch (optname) {
	case TAPSEC_TX:
	case TAPSEC_RX:
	case TAPSEC_REPLAY_WINDOW:
	case TAPSEC_KEY_LIMITS:
	case TAPSEC_RX_PREV:
		return true;
	case TAPSEC_TX_KEY:
	case TAPSEC_RX_KEY:
		return !set;
	case TAPSEC_KEEPALIVE:
		return set;
	}
	return false;
}

/*
 * tapsec_sa_set_window() - TAPSEC_REPLAY_WINDOW
 * @sa: the SA state
 * @optval: a u32, TAPSEC_REPLAY_WINDOW_MIN to TAPSEC_REPLAY_WINDOW_MAX
 * @optlen: its length
 *
 * Return: 0, -EINVAL or -EFAULT.
 */
static int tapsec_sa_set_window(struct tapsec_sa *sa, sockptr_t optval,
				unsigned int optlen)
{
	u32 val;

	if (optlen < sizeof(val))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;
	if (val < TAPSEC_REPLAY_WINDOW_MIN || val > TAPSEC_REPLAY_WINDOW_MAX)
		return -EINVAL;
	WRITE_ONCE(sa->window, val);
	return 0;
}

/*
 * tapsec_sa_set_limits() - TAPSEC_KEY_LIMITS of an SA engine's socket
 * @sk: the socket
 * @sa: its state
 * @optval: a struct tapsec_key_limits, which replaces the engine's
 *	defaults and stays from key to key
 * @optlen: its size
 *
 * Return: 0; -ENOKEY without an outbound key; -EINVAL for a bad size or
 * a soft limit above its hard limit; -EFAULT.
 */
static int tapsec_sa_set_limits(struct sock *sk, struct tapsec_sa *sa,
				sockptr_t optval, unsigned int optlen)
{
	struct tapsec_key_limits lim;
	int err = tapsec_key_limits_get(optval, optlen, &lim);

	if (err)
		return err;
	mutex_lock(&sa->tx_lock);
	if (sa->tx) {
		sa->tx_use.lim = lim;
		sa->tx_use.expiring = false;
		WRITE_ONCE(sa->rx_max_age, lim.hard_seconds);
	} else {
		err = -ENOKEY;
	}
	mutex_unlock(&sa->tx_lock);
	return err;
}

/*
 * Seal @plen payload bytes in @sa->tx_buf (0 with an engine's
 * seal_empty: a packet without payload, else an empty datagram) and send
 * the packet, under the transmit lock; account the key's use.  Returns
 * 0, or an errno (-EKEYEXPIRED at a hard limit, counted).
 */
static int tapsec_sa_push(struct sock *sk, struct tapsec_sa *sa, u32 plen,
			  int flags, bool empty)
{
	struct tapsec_ctx *ctx = sa->ctx;
	int ret;

	if (tapsec_key_use_hard(&sa->tx_use))
		ret = -EKEYEXPIRED;
	else
		ret = empty ? sa->ops->seal_empty(sk, sa) :
			      sa->ops->seal(sk, sa, plen);
	if (ret == -EKEYEXPIRED)
		TAPSEC_COUNT(ctx, key_exhausted, 1);
	if (ret < 0)
		return ret;
	ret = tapsec_dgram_xmit(sk, sa->tx_buf, ret, flags, NULL, 0);
	if (ret < 0)
		return ret;
	sa->tx_use.records++;
	sa->tx_use.bytes += plen;
	if (tapsec_key_use_soft(&sa->tx_use, READ_ONCE(ctx->tx_cipher)))
		tapsec_key_use_expiring(sk, &sa->tx_use);
	return 0;
}

/*
 * tapsec_sa_send_empty() - TAPSEC_KEEPALIVE: one packet without payload
 * to the connected peer, under the outbound key, which it uses up as a
 * packet does (not counted as a record).
 */
static int tapsec_sa_send_empty(struct sock *sk, struct tapsec_sa *sa)
{
	int ret;

	if (!sa->ops->seal_empty)
		return -EOPNOTSUPP;
	if (!READ_ONCE(sa->tx))
		return -ENOKEY;
	if (READ_ONCE(sk->sk_state) != TCP_ESTABLISHED)
		return -EDESTADDRREQ;
	mutex_lock(&sa->tx_lock);
	ret = sa->tx_closed ? -EPIPE :
	      tapsec_sa_push(sk, sa, 0, MSG_DONTWAIT, true);
	mutex_unlock(&sa->tx_lock);
	return ret;
}

/**
 * tapsec_sa_setsockopt() - set an option every SA engine answers alike
 * @sk: the socket
 * @sa: its state
 * @optname: TAPSEC_REPLAY_WINDOW, TAPSEC_KEY_LIMITS, TAPSEC_RX_PREV or
 *	TAPSEC_KEEPALIVE
 * @optval: the value
 * @optlen: its length
 *
 * Return: what setting the option returns; -ENOPROTOOPT for another
 * option (the keys, and an engine's own, are the engine's to parse).
 */
int tapsec_sa_setsockopt(struct sock *sk, struct tapsec_sa *sa, int optname,
			 sockptr_t optval, unsigned int optlen)
{
	switch (optname) {
	case TAPSEC_REPLAY_WINDOW:
		return tapsec_sa_set_window(sa, optval, optlen);
	case TAPSEC_KEY_LIMITS:
		return tapsec_sa_set_limits(sk, sa, optval, optlen);
	case TAPSEC_RX_PREV:
		return tapsec_sa_retire_prev(sa, optlen);
	case TAPSEC_KEEPALIVE:
		return optlen ? -EINVAL : tapsec_sa_send_empty(sk, sa);
	}
	return -ENOPROTOOPT;
}

/* TAPSEC_KEY_LIMITS read back, the default soft record limit resolved. */
static int tapsec_sa_get_limits(struct tapsec_sa *sa, char __user *optval,
				int __user *optlen)
{
	u16 cipher = READ_ONCE(sa->ctx->tx_cipher);
	struct tapsec_key_limits lim;
	int err = 0;

	mutex_lock(&sa->tx_lock);
	lim = sa->tx_use.lim;
	if (sa->tx)
		lim.soft_records = tapsec_key_use_soft_records(&sa->tx_use,
							       cipher);
	else
		err = -ENOKEY;
	mutex_unlock(&sa->tx_lock);
	return err ?: tapsec_copy_out(&lim, sizeof(lim), optval, optlen);
}

/* A key as TAPSEC_TX/RX (and _KEY) and TAPSEC_RX_PREV read it. */
static int tapsec_sa_get_key(struct tapsec_sa *sa, int optname,
			     char __user *optval, int __user *optlen)
{
	bool tx = optname == TAPSEC_TX || optname == TAPSEC_TX_KEY;
	bool with_key = optname == TAPSEC_TX_KEY || optname == TAPSEC_RX_KEY;
	struct mutex *lock = tx ? &sa->tx_lock : &sa->rx_lock;
	size_t size = sa->ops->key_out_size;
	u8 out[TAPSEC_SA_KEY_OUT_MAX];
	int err = -ENOKEY;
	void *k;

	memset(out, 0, size);
	if (mutex_lock_interruptible(lock))
		return -EINTR;
	if (optname == TAPSEC_RX_PREV)
		k = sa->rx_prev;
	else
		k = tx ? sa->tx : sa->rx;
	if (k) {
		sa->ops->key_out(k, tx, with_key, out);
		err = 0;
	}
	mutex_unlock(lock);
	if (!err)
		err = tapsec_copy_out(out, size, optval, optlen);
	memzero_explicit(out, size);
	return err;
}

/**
 * tapsec_sa_getsockopt() - the options every SA engine answers
 * @ctx: the socket's context
 * @e: the engine asked
 * @optname: TAPSEC_REPLAY_WINDOW, TAPSEC_KEY_LIMITS, TAPSEC_TX, TAPSEC_RX,
 *	TAPSEC_RX_PREV, TAPSEC_TX_KEY or TAPSEC_RX_KEY (the glue checked
 *	CAP_NET_ADMIN for the last two)
 * @optval: where the value goes
 * @optlen: its room in, the length written out
 *
 * Return: 0, -ENOKEY for a direction without a key, -EINTR, or what
 * tapsec_copy_out() returns.
 */
int tapsec_sa_getsockopt(struct tapsec_ctx *ctx,
			 const struct tapsec_engine_ops *e, int optname,
			 char __user *optval, int __user *optlen)
{
	struct tapsec_sa *sa = tapsec_sa_engine_state(ctx, e);
	u32 val;

	if (optname == TAPSEC_REPLAY_WINDOW) {
		val = sa ? READ_ONCE(sa->window) : e->sa->window;
		return tapsec_copy_out(&val, sizeof(val), optval, optlen);
	}
	if (!sa)
		return -ENOKEY;
	if (optname == TAPSEC_KEY_LIMITS)
		return tapsec_sa_get_limits(sa, optval, optlen);
	return tapsec_sa_get_key(sa, optname, optval, optlen);
}

/**
 * tapsec_sa_sendmsg() - seal a datagram into one packet and send it
 * @sk: the socket
 * @ctx: its context
 * @msg: the payload; no address (the key is the connected peer's) and no
 *	control messages
 * @len: its length
 *
 * Return: @len; -ENOKEY without an outbound key; -EDESTADDRREQ when not
 * connected; -EISCONN with an address; -EINVAL with control messages;
 * -EMSGSIZE above the engine's largest payload; -EPIPE after
 * shutdown(SHUT_WR); -EKEYEXPIRED when the key's counters are used up
 * or it reached a hard limit of TAPSEC_KEY_LIMITS; UDP's errors.  At a
 * soft limit TAPSEC_EVENT_KEY_EXPIRING goes out, once per key.
 */
int tapsec_sa_sendmsg(struct sock *sk, struct tapsec_ctx *ctx,
		      struct msghdr *msg, size_t len)
{
	struct tapsec_sa *sa = tapsec_sa_of(ctx);
	int ret;

	if (!sa || !READ_ONCE(sa->tx))
		return tapsec_ctx_refuse(ctx);
	if (msg->msg_controllen)
		return -EINVAL;
	if (msg->msg_name)
		return -EISCONN;
	if (len > sa->ops->max_payload)
		return -EMSGSIZE;
	if (READ_ONCE(sk->sk_state) != TCP_ESTABLISHED)
		return -EDESTADDRREQ;

	mutex_lock(&sa->tx_lock);
	if (sa->tx_closed) {
		ret = -EPIPE;
		goto out;
	}
	if (!copy_from_iter_full(sa->tx_buf + sa->ops->tx_data_off(sa), len,
				 &msg->msg_iter)) {
		ret = -EFAULT;
		goto out;
	}
	ret = tapsec_sa_push(sk, sa, len, msg->msg_flags, false);
	if (ret)
		goto out;
	TAPSEC_COUNT(ctx, tx_records, 1);
	TAPSEC_COUNT(ctx, tx_bytes, len);
	ret = len;
out:
	mutex_unlock(&sa->tx_lock);
	return ret;
}

/**
 * tapsec_sa_recvmsg() - read one packet's payload
 * @sk: the socket
 * @ctx: its context
 * @msg: where it goes, and its (outer) source address
 * @len: room in @msg
 * @flags: MSG_DONTWAIT, MSG_PEEK, MSG_TRUNC as for UDP; MSG_ERRQUEUE goes
 *	to UDP
 * @addr_len: set to the length of the source address in @msg->msg_name
 *
 * Return: bytes read; 0 after shutdown(SHUT_RD); -ENOKEY without an
 * inbound key; -EAGAIN (also after TAPSEC_DGRAM_DROP_BUDGET bad packets
 * in a read that may not wait, or at a signal); -EINTR or -ERESTARTSYS
 * for a signal while bad packets keep coming; UDP's errors.
 */
int tapsec_sa_recvmsg(struct sock *sk, struct tapsec_ctx *ctx,
		      struct msghdr *msg, size_t len, int flags,
		      int *addr_len)
{
	struct tapsec_sa *sa = tapsec_sa_of(ctx);
	unsigned int dropped = 0;
	struct sk_buff *last;
	long timeo;
	int ret, err;

	if (flags & MSG_ERRQUEUE)
		return tapsec_dgram_base_recvmsg(sk, msg, len, flags, addr_len);
	if (!sa || !READ_ONCE(sa->rx))
		return tapsec_ctx_refuse(ctx);
	if (mutex_lock_interruptible(&sa->rx_lock))
		return -EINTR;
	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	for (;;) {
		if (sa->opened) {
			ret = tapsec_dgram_deliver(msg, len, flags,
						   sa->rx_buf + sa->data_off,
						   sa->data_len, &sa->rx_from,
						   sa->rx_from_len, addr_len);
			if (ret >= 0 && !(flags & MSG_PEEK))
				sa->opened = false;
			break;
		}
		ret = tapsec_dgram_read(sk, ctx, sa->rx_buf, TAPSEC_SA_BUF_LEN,
					&sa->rx_from, &sa->rx_from_len, &last);
		if (ret > 0 && !sa->ops->open(ctx, sa, ret)) {
			sa->opened = true;
			TAPSEC_COUNT(ctx, rx_records, 1);
			TAPSEC_COUNT(ctx, rx_bytes, sa->data_len);
			continue;
		}
		if (ret >= 0) {		/* a packet dropped */
			ret = tapsec_dgram_dropped(sk, &dropped, timeo);
			if (ret)
				break;
			continue;
		}
		if (ret != -EAGAIN || !timeo)
			break;
		if (tapsec_dgram_wait(sk, &sa->rx_lock, &timeo, last, NULL,
				      &err)) {
			ret = err;	/* 0: shut down */
			break;
		}
	}
	WRITE_ONCE(sa->rx_more, sa->opened);
	mutex_unlock(&sa->rx_lock);
	return ret;
}

/**
 * tapsec_sa_poll() - readable while an opened payload waits
 * @sk: the socket
 * @ctx: its context, or NULL
 * @mask: UDP's mask
 *
 * Return: @mask, readable too when a payload waits.
 */
__poll_t tapsec_sa_poll(struct sock *sk, const struct tapsec_ctx *ctx,
			__poll_t mask)
{
	const struct tapsec_sa *sa = tapsec_sa_of(ctx);

	if (sa && READ_ONCE(sa->rx_more))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

/**
 * tapsec_sa_keyed() - whether a direction has a key
 * @ctx: the socket's context, or NULL
 * @tx: the outbound direction, else the inbound
 *
 * Return: true when it has.
 */
bool tapsec_sa_keyed(const struct tapsec_ctx *ctx, bool tx)
{
	const struct tapsec_sa *sa = tapsec_sa_of(ctx);

	if (!sa)
		return false;
	return tx ? !!READ_ONCE(sa->tx) : !!READ_ONCE(sa->rx);
}

/**
 * tapsec_sa_shutdown_tx() - no closing message: sends stop
 * @sk: the socket
 * @ctx: its context
 * @flags: unused
 *
 * Return: 0.
 */
int tapsec_sa_shutdown_tx(struct sock *sk, struct tapsec_ctx *ctx, int flags)
{
	struct tapsec_sa *sa = tapsec_sa_of(ctx);

	if (sa) {
		mutex_lock(&sa->tx_lock);
		sa->tx_closed = true;
		mutex_unlock(&sa->tx_lock);
	}
	return 0;
}

/**
 * tapsec_sa_close() - nothing to say on close
 * @sk: the socket
 * @ctx: its context
 */
void tapsec_sa_close(struct sock *sk, struct tapsec_ctx *ctx)
{
}

/**
 * tapsec_sa_raw_sent() - a handshake daemon's datagram went out in clear
 * @sk: the socket
 * @ctx: its context
 * @msg: the datagram
 * @len: its length
 *
 * Nothing of the engine's follows a handshake datagram: the daemon
 * sends its messages again itself.
 */
void tapsec_sa_raw_sent(struct sock *sk, struct tapsec_ctx *ctx,
			struct msghdr *msg, size_t len)
{
}

/**
 * tapsec_sa_raw_read() - the daemon read a datagram in clear: nothing held
 * @ctx: the socket's context
 */
void tapsec_sa_raw_read(struct tapsec_ctx *ctx)
{
}

/**
 * tapsec_sa_reject_peer() - no peer to tell: no handshake authenticated one
 * @sk: the socket
 * @ctx: its context
 */
void tapsec_sa_reject_peer(struct sock *sk, struct tapsec_ctx *ctx)
{
}

/**
 * tapsec_sa_stop() - no timers and no hooks to stop
 * @ctx: the socket's context
 */
void tapsec_sa_stop(struct tapsec_ctx *ctx)
{
}

/**
 * tapsec_sa_free() - wipe and free an SA engine's state
 * @ctx: the socket's context
 */
void tapsec_sa_free(struct tapsec_ctx *ctx)
{
	struct tapsec_sa *sa = tapsec_sa_of(ctx);

	if (!sa)
		return;
	WRITE_ONCE(ctx->engine_priv, NULL);
	if (sa->tx)
		sa->ops->key_free(sa->tx);
	if (sa->rx)
		sa->ops->key_free(sa->rx);
	if (sa->rx_prev)
		sa->ops->key_free(sa->rx_prev);
	tapsec_sa_listener_free(sa);
	kfree_sensitive(sa->tx_buf);
	kfree_sensitive(sa->rx_buf);
	kfree_sensitive(sa);
}
