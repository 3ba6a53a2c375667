// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: listeners of the SA engines (tapsec_sa.h) whose handshakes a
 * peer starts with one datagram (WireGuard's initiation).
 *
 * listen() on a bound, unconnected socket without keys makes it a
 * listener, if its engine takes listeners (tapsec_sa_ops.listen).
 * accept() takes datagrams from its UDP queue: one the engine says can
 * start a handshake (tapsec_sa_ops.hello) becomes a new socket, bound to
 * the listener's address and connected to the peer
 * (tapsec_dgram_child_new() and _graft()), with the listener's settings
 * (tapsec_sa_ops.inherit) and that datagram waiting as its first one for
 * the handshake daemon (tapsec_sa_raw_recvmsg()); the others are dropped
 * and counted (rx_bad_record).  Once a child is connected, UDP gives it
 * its peer's datagrams; those the listener had already queued from the
 * same address (a handshake the peer started again before the answer
 * came) are dropped as rx_replayed for TAPSEC_SA_RECENT_MS, so that one
 * peer does not make two sockets.
 *
 * No state is kept per peer before accept(), and accept() makes one
 * socket per call: a flood of handshake datagrams costs the listener's
 * reader, not memory.  What it costs the daemon is its handshake's own
 * check (WireGuard's MAC1 and the DH behind it); cookies are not built.
 */
#include <linux/jiffies.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/inet_sock.h>
#include <net/sock.h>

#include "tapsec_sa.h"

/* How long a peer a child took is not taken again, and how many. */
#define TAPSEC_SA_RECENT_MS	5000
#define TAPSEC_SA_RECENT	8

/**
 * struct tapsec_sa_listener - what an SA listener keeps
 * @recent: the peers of the last children, and when they were taken
 * @next: the slot of @recent to fill next
 */
struct tapsec_sa_listener {
	struct {
		struct sockaddr_storage addr;
		int len;
		unsigned long at;
	} recent[TAPSEC_SA_RECENT];
	unsigned int next;
};

/**
 * tapsec_sa_listen() - listen() on an SA engine's socket
 * @sock: the socket, bound, not connected, without keys
 *
 * Return: 0 (again: nothing changes); -EOPNOTSUPP for an engine without
 * listeners; what the engine's listen check says (WireGuard:
 * -EDESTADDRREQ without inner addresses); -EINVAL when unbound,
 * connected or keyed; -ENOMEM.
 */
int tapsec_sa_listen(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct tapsec_ctx *ctx = tapsec_dgram_sock_ctx(sk);
	const struct tapsec_engine_ops *e = tapsec_ctx_engine(ctx, sk);
	struct tapsec_sa_listener *l;
	struct tapsec_sa *sa;
	int err;

	if (!e->sa || !e->sa->listen)
		return -EOPNOTSUPP;
	sa = tapsec_sa_engine_state(ctx, e);
	err = e->sa->listen(sa);
	if (err)
		return err;
	mutex_lock(&sa->tx_lock);
	mutex_lock(&sa->rx_lock);
	lock_sock(sk);
	err = -EINVAL;
	if (!inet_sk(sk)->inet_num || sk->sk_state != TCP_CLOSE || sa->tx ||
	    sa->rx)
		goto out;
	err = 0;
	if (sa->listener)
		goto out;
	err = -ENOMEM;
	l = tapsec_fail_alloc() ? NULL : kzalloc(sizeof(*l), GFP_KERNEL_ACCOUNT);
	if (!l)
		goto out;
	if (!sa->rx_buf) {
		sa->rx_buf = tapsec_fail_alloc() ? NULL :
			     kmalloc(TAPSEC_SA_BUF_LEN,
				     GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!sa->rx_buf) {
			kfree(l);
			goto out;
		}
	}
	/* Children join the listener's reuseport group (tapsec_dgram.c). */
	sk->sk_reuseport = 1;
	WRITE_ONCE(sa->listener, l);
	err = 0;
out:
	release_sock(sk);
	mutex_unlock(&sa->rx_lock);
	mutex_unlock(&sa->tx_lock);
	return err;
}

/* A child took this peer a moment ago. */
static bool tapsec_sa_recent(struct tapsec_sa_listener *l,
			     const struct sockaddr_storage *from, int len)
{
	unsigned int i;

	for (i = 0; i < TAPSEC_SA_RECENT; i++)
		if (l->recent[i].len == len &&
		    !memcmp(&l->recent[i].addr, from, len) &&
		    time_before(jiffies, l->recent[i].at +
				msecs_to_jiffies(TAPSEC_SA_RECENT_MS)))
			return true;
	return false;
}

/*
 * Wait for a datagram that starts a handshake, dropping the others.
 * Under the receive lock; on success it is in rx_buf and its source in
 * rx_from.  Returns its length, or a negative errno.
 */
static int tapsec_sa_next_hello(struct sock *sk, struct tapsec_ctx *ctx,
				struct tapsec_sa *sa, long *timeo)
{
	struct tapsec_sa_listener *l = sa->listener;
	unsigned int dropped = 0;
	struct sk_buff *last;
	int ret, err;

	for (;;) {
		ret = tapsec_dgram_read(sk, ctx, sa->rx_buf, TAPSEC_SA_BUF_LEN,
					&sa->rx_from, &sa->rx_from_len, &last);
		if (ret > 0) {
			if (sa->ops->hello(sa->rx_buf, ret)) {
				TAPSEC_COUNT(ctx, rx_bad_record, 1);
			} else if (tapsec_sa_recent(l, &sa->rx_from,
						    sa->rx_from_len)) {
				TAPSEC_COUNT(ctx, rx_replayed, 1);
			} else {
				l->recent[l->next].addr = sa->rx_from;
				l->recent[l->next].len = sa->rx_from_len;
				l->recent[l->next].at = jiffies;
				l->next = (l->next + 1) % TAPSEC_SA_RECENT;
				return ret;
			}
		}
		if (ret >= 0) {		/* a datagram dropped */
			ret = tapsec_dgram_dropped(sk, &dropped, *timeo);
			if (ret)
				return ret;
			continue;
		}
		if (ret != -EAGAIN || !*timeo)
			return ret;
		if (tapsec_dgram_wait(sk, &sa->rx_lock, timeo, last, NULL, &err))
			return err ?: -EINVAL;	/* 0: shut down */
	}
}

/*
 * A new socket for the peer of the @len-byte datagram in @sa's buffer,
 * grafted onto @newsock, that datagram waiting for the daemon; its key
 * limits @lim.  Under the listener's receive lock.
 */
static int tapsec_sa_spawn(struct socket *sock, struct socket *newsock,
			   struct tapsec_sa *sa, u32 len,
			   const struct tapsec_key_limits *lim)
{
	const struct tapsec_engine_ops *e = sa->st.ops;
	struct tapsec_ctx *cctx;
	struct tapsec_sa *child;
	struct socket *tmp;
	int err;

	err = tapsec_dgram_child_new(sock, e->proto, &tmp);
	if (err)
		return err;
	cctx = tapsec_dgram_sock_ctx(tmp->sk);
	child = tapsec_sa_state(tmp->sk, cctx, e, sa->ops->make);
	err = PTR_ERR_OR_ZERO(child);
	if (err)
		goto fail;
	child->window = READ_ONCE(sa->window);
	child->tx_use.lim = *lim;
	child->rx_max_age = lim->hard_seconds;
	sa->ops->inherit(child, sa);
	err = -ENOMEM;
	child->hello = tapsec_fail_alloc() ? NULL :
		       kmemdup(sa->rx_buf, len, GFP_KERNEL_ACCOUNT);
	if (!child->hello)
		goto fail;
	child->hello_len = len;
	return tapsec_dgram_child_graft(sock, tmp, newsock,
					(struct sockaddr *)&sa->rx_from,
					sa->rx_from_len);
fail:
	sock_release(tmp);
	return err;
}

/**
 * tapsec_sa_accept() - accept() on an SA engine's listener
 * @sock: the listener
 * @newsock: the new socket, its file allocated, no sk yet
 * @nonblock: fail with -EAGAIN rather than wait
 *
 * Return: 0 with @newsock connected to the peer that started a handshake
 * (and, for a delegated handshake, handshaken); -EINVAL when not
 * listening; -EAGAIN; or another negative errno.
 */
int tapsec_sa_accept(struct socket *sock, struct socket *newsock,
		     bool nonblock)
{
	struct sock *sk = sock->sk;
	struct tapsec_ctx *ctx = tapsec_dgram_sock_ctx(sk);
	struct tapsec_sa *sa = tapsec_sa_of(ctx);
	long timeo = sock_rcvtimeo(sk, nonblock);
	struct tapsec_key_limits lim;
	int ret;

	if (!sa || !READ_ONCE(sa->listener))
		return -EINVAL;
	/* The transmit lock comes before the receive lock, never after. */
	mutex_lock(&sa->tx_lock);
	lim = sa->tx_use.lim;
	mutex_unlock(&sa->tx_lock);
	if (mutex_lock_interruptible(&sa->rx_lock))
		return -EINTR;
	ret = tapsec_sa_next_hello(sk, ctx, sa, &timeo);
	if (ret > 0)
		ret = tapsec_sa_spawn(sock, newsock, sa, ret, &lim);
	mutex_unlock(&sa->rx_lock);
	if (ret)
		return ret;
	if (!tapsec_hs_delegated(ctx))
		return 0;
	return tapsec_hs_accept(ctx, tapsec_dgram_sock_ctx(newsock->sk),
				newsock, nonblock);
}

/**
 * tapsec_sa_raw_recvmsg() - the daemon reads in clear: an accepted
 * socket's first datagram, then UDP's
 * @ctx: the socket's context, in raw mode for the daemon
 * @msg: where it goes
 * @len: room in @msg
 * @flags: MSG_PEEK leaves it for the next read; MSG_TRUNC as for UDP
 *
 * Return: its length (or what fit), or -ENOENT when none is held: the
 * caller reads from UDP.
 */
int tapsec_sa_raw_recvmsg(struct tapsec_ctx *ctx, struct msghdr *msg,
			  size_t len, int flags)
{
	struct tapsec_sa *sa = tapsec_sa_of(ctx);
	int ret;

	if (!sa || !READ_ONCE(sa->hello))
		return -ENOENT;
	mutex_lock(&sa->rx_lock);
	ret = tapsec_dgram_raw_hello(&sa->hello, sa->hello_len, msg, len,
				     flags);
	mutex_unlock(&sa->rx_lock);
	return ret;
}

/**
 * tapsec_sa_listener_free() - free an SA state's listener parts
 * @sa: the state
 */
void tapsec_sa_listener_free(struct tapsec_sa *sa)
{
	kfree(sa->listener);
	sa->listener = NULL;
	kfree(sa->hello);
	sa->hello = NULL;
}
