// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: DTLS servers.  listen() on a bound DTLS socket makes it a
 * listener; accept() takes ClientHellos from its UDP queue and answers one
 * without a valid cookie with a HelloVerifyRequest (RFC 6347 4.2.1), from
 * no state but a per-listener key: source address validation before any
 * per-peer state exists, in the kernel or in the daemon.  A ClientHello
 * with a valid cookie becomes a new socket, bound to the listener's
 * address and connected to the peer, which the handshake daemon then
 * takes (as for stream children) with that ClientHello as its first
 * datagram.  Datagrams from a peer's new address reach the listener too;
 * its connection ID table hands them to the right child
 * (tapsec_dtls_cid.c).
 *
 * The cookie is HMAC-SHA256(key, minute, peer address and port, client
 * random), truncated; the minute before is accepted too.  Retransmitted
 * ClientHellos queued at the listener before the child took the peer are
 * recognised by their client random and dropped.
 */
#include <linux/jiffies.h>
#include <linux/net.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <crypto/algapi.h>
#include <crypto/hash.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "tapsec_compat.h"
#include "tapsec_dtls.h"

#define TAPSEC_HS_HEADER_LEN		12	/* DTLS handshake header */
#define TAPSEC_HS_CLIENT_HELLO		1
#define TAPSEC_HS_HELLO_VERIFY_REQUEST	3
#define TAPSEC_DTLS_1_0_VERSION		0xfeff
#define TAPSEC_RANDOM_LEN		32
#define TAPSEC_COOKIE_LEN		16
#define TAPSEC_COOKIE_PERIOD		60	/* seconds per cookie key epoch */
#define TAPSEC_HVR_LEN			(TAPSEC_DTLS12_HEADER_LEN + \
					 TAPSEC_HS_HEADER_LEN + 3 + \
					 TAPSEC_COOKIE_LEN)

/**
 * struct tapsec_dtls_listener - what a DTLS listener keeps
 * @hmac: hmac(sha256) under the cookie key
 * @recent: client randoms of the last ClientHellos accepted
 * @next: slot of @recent to fill next
 * @hvr: the HelloVerifyRequest being sent
 */
struct tapsec_dtls_listener {
	struct crypto_shash *hmac;
	u8 recent[TAPSEC_DTLS_RECENT][TAPSEC_RANDOM_LEN];
	unsigned int next;
	u8 hvr[TAPSEC_HVR_LEN];
};

/* A ClientHello as the listener reads it. */
struct tapsec_client_hello {
	u64 record_seq;
	u16 message_seq;
	const u8 *random;
	const u8 *cookie;
	u8 cookie_len;
};

/*
 * Parse an unfragmented DTLS ClientHello at the start of @buf (epoch 0).
 * Returns 0 or -EBADMSG.
 */
static int tapsec_dtls_parse_hello(const u8 *buf, u32 len,
				   struct tapsec_client_hello *ch)
{
	const u8 *hs = buf + TAPSEC_DTLS12_HEADER_LEN;
	const u8 *body = hs + TAPSEC_HS_HEADER_LEN;
	u32 rlen, blen, off;
	u16 version;

	if (len < TAPSEC_DTLS12_HEADER_LEN + TAPSEC_HS_HEADER_LEN)
		return -EBADMSG;
	version = get_unaligned_be16(buf + 1);
	rlen = get_unaligned_be16(buf + 11);
	if (buf[0] != TAPSEC_RECORD_HANDSHAKE ||
	    (version != TAPSEC_DTLS_1_0_VERSION &&
	     version != TAPSEC_DTLS_1_2_VERSION) ||
	    get_unaligned_be16(buf + 3) != 0 ||
	    rlen > len - TAPSEC_DTLS12_HEADER_LEN ||
	    rlen < TAPSEC_HS_HEADER_LEN || hs[0] != TAPSEC_HS_CLIENT_HELLO)
		return -EBADMSG;
	blen = get_unaligned_be24(hs + 1);
	/* One unfragmented message in the record. */
	if (get_unaligned_be24(hs + 6) != 0 ||
	    get_unaligned_be24(hs + 9) != blen ||
	    blen > rlen - TAPSEC_HS_HEADER_LEN)
		return -EBADMSG;
	/* client_version, random, session_id, cookie */
	off = 2 + TAPSEC_RANDOM_LEN;
	if (blen < off + 1 || blen < off + 1 + body[off] + 1)
		return -EBADMSG;
	off += 1 + body[off];
	if (blen < off + 1 + body[off])
		return -EBADMSG;
	ch->record_seq = get_unaligned_be64(buf + 3) & TAPSEC_DTLS_SEQ_MAX;
	ch->message_seq = get_unaligned_be16(hs + 4);
	ch->random = body + 2;
	ch->cookie_len = body[off];
	ch->cookie = body + off + 1;
	return 0;
}

/* The cookie for @peer and @random in cookie key epoch @period. */
static int tapsec_dtls_cookie(struct tapsec_dtls_listener *l,
			      const struct sockaddr_storage *peer,
			      const u8 *random, u64 period, u8 *out)
{
	SHASH_DESC_ON_STACK(desc, l->hmac);
	u8 mac[32];
	__be64 p = cpu_to_be64(period);
	int err;

	desc->tfm = l->hmac;
	err = crypto_shash_init(desc);
	if (!err)
		err = crypto_shash_update(desc, (u8 *)&p, sizeof(p));
	if (!err && peer->ss_family == AF_INET)
		err = crypto_shash_update(desc, (u8 *)peer,
					  sizeof(struct sockaddr_in));
#if IS_ENABLED(CONFIG_IPV6)
	else if (!err) {
		const struct sockaddr_in6 *s6 = (const void *)peer;

		err = crypto_shash_update(desc, (u8 *)&s6->sin6_addr,
					  sizeof(s6->sin6_addr));
		if (!err)
			err = crypto_shash_update(desc, (u8 *)&s6->sin6_port,
						  sizeof(s6->sin6_port));
	}
#endif
	if (!err)
		err = crypto_shash_update(desc, random, TAPSEC_RANDOM_LEN);
	if (!err)
		err = crypto_shash_final(desc, mac);
	shash_desc_zero(desc);
	memcpy(out, mac, TAPSEC_COOKIE_LEN);
	memzero_explicit(mac, sizeof(mac));
	return err;
}

static bool tapsec_dtls_cookie_ok(struct tapsec_dtls_listener *l,
				  const struct sockaddr_storage *peer,
				  const struct tapsec_client_hello *ch)
{
	u64 now = ktime_get_boottime_seconds() / TAPSEC_COOKIE_PERIOD;
	u8 want[TAPSEC_COOKIE_LEN];
	int i;

	if (ch->cookie_len != TAPSEC_COOKIE_LEN)
		return false;
	for (i = 0; i < 2; i++)
		if (!tapsec_dtls_cookie(l, peer, ch->random, now - i, want) &&
		    !crypto_memneq(want, ch->cookie, TAPSEC_COOKIE_LEN))
			return true;
	return false;
}

/* Answer @ch with a HelloVerifyRequest carrying its cookie. */
static int tapsec_dtls_send_hvr(struct sock *sk, struct tapsec_dtls_listener *l,
				struct sockaddr_storage *peer, int peer_len,
				const struct tapsec_client_hello *ch)
{
	u64 now = ktime_get_boottime_seconds() / TAPSEC_COOKIE_PERIOD;
	u8 *b = l->hvr, *hs = b + TAPSEC_DTLS12_HEADER_LEN;
	u32 blen = 3 + TAPSEC_COOKIE_LEN;
	int err;

	/* RFC 6347 4.2.1: version 1.0, the ClientHello's record number. */
	b[0] = TAPSEC_RECORD_HANDSHAKE;
	put_unaligned_be16(TAPSEC_DTLS_1_0_VERSION, b + 1);
	put_unaligned_be64(ch->record_seq, b + 3);	/* epoch 0 */
	put_unaligned_be16(TAPSEC_HS_HEADER_LEN + blen, b + 11);
	hs[0] = TAPSEC_HS_HELLO_VERIFY_REQUEST;
	put_unaligned_be24(blen, hs + 1);
	put_unaligned_be16(0, hs + 4);			/* message_seq */
	put_unaligned_be24(0, hs + 6);
	put_unaligned_be24(blen, hs + 9);
	put_unaligned_be16(TAPSEC_DTLS_1_0_VERSION, hs + 12);
	hs[14] = TAPSEC_COOKIE_LEN;
	err = tapsec_dtls_cookie(l, peer, ch->random, now, hs + 15);
	if (err)
		return err;
	err = tapsec_dgram_xmit(sk, b, sizeof(l->hvr), MSG_DONTWAIT, peer,
				peer_len);
	return err < 0 ? err : 0;
}

/* A retransmission of a ClientHello a child already took. */
static bool tapsec_dtls_seen(struct tapsec_dtls_listener *l, const u8 *random)
{
	int i;

	for (i = 0; i < TAPSEC_DTLS_RECENT; i++)
		if (!memcmp(l->recent[i], random, TAPSEC_RANDOM_LEN))
			return true;
	return false;
}

/**
 * tapsec_dtls_listen() - listen() on a DTLS socket
 * @sock: the socket, bound and not connected
 *
 * Return: 0; -EINVAL when unbound or connected; -EOPNOTSUPP when the
 * socket is not DTLS; -ENOMEM or a crypto API error.
 */
int tapsec_dtls_listen(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct tapsec_ctx *ctx = tapsec_dgram_sock_ctx(sk);
	struct tapsec_dtls_listener *l;
	struct tapsec_dtls *dtls;
	u8 key[32];
	int err;

	if (!ctx || READ_ONCE(ctx->protocol) != TAPSEC_PROTO_DTLS)
		return -EOPNOTSUPP;
	dtls = tapsec_dtls_engine(sk, ctx);
	if (IS_ERR(dtls))
		return PTR_ERR(dtls);
	mutex_lock(&dtls->rx_lock);
	lock_sock(sk);
	if (!inet_sk(sk)->inet_num || sk->sk_state != TCP_CLOSE || dtls->rx) {
		err = -EINVAL;
		goto out;
	}
	err = 0;
	if (dtls->listener)
		goto out;	/* listen() again: nothing changes */
	err = -ENOMEM;
	l = tapsec_fail_alloc() ? NULL : kzalloc(sizeof(*l), GFP_KERNEL_ACCOUNT);
	if (!l)
		goto out;
	if (!dtls->rx_buf) {
		dtls->rx_buf = tapsec_fail_alloc() ? NULL :
			       kmalloc(TAPSEC_DTLS_BUF_LEN, GFP_KERNEL_ACCOUNT);
		if (!dtls->rx_buf) {
			kfree(l);
			goto out;
		}
	}
	l->hmac = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(l->hmac)) {
		err = PTR_ERR(l->hmac);
		kfree(l);
		goto out;
	}
	get_random_bytes(key, sizeof(key));
	err = crypto_shash_setkey(l->hmac, key, sizeof(key));
	memzero_explicit(key, sizeof(key));
	if (err) {
		crypto_free_shash(l->hmac);
		kfree(l);
		goto out;
	}
	dtls->cids = tapsec_dtls_cids_new(sk);
	if (!dtls->cids) {
		err = -ENOMEM;
		tapsec_dtls_listener_free(l);
		goto out;
	}
	/*
	 * Children bind to the same address and port, in the listener's
	 * reuseport group: that takes the same owner (uid), so no other
	 * user can bind there too (as SO_REUSEADDR would have let anyone).
	 */
	sk->sk_reuseport = 1;
	dtls->listener = l;
out:
	release_sock(sk);
	mutex_unlock(&dtls->rx_lock);
	return err;
}

/**
 * tapsec_dtls_listener_free() - wipe and free a listener's state
 * @l: the state, or NULL
 */
void tapsec_dtls_listener_free(struct tapsec_dtls_listener *l)
{
	if (!l)
		return;
	crypto_free_shash(l->hmac);	/* the key schedule is wiped */
	kfree_sensitive(l);
}

/*
 * Wait for a ClientHello with a valid cookie, answering the others.
 * Under the receive lock; on success the datagram is in rx_buf and its
 * source in rx_from.  A flood of datagrams that are not such a
 * ClientHello ends the wait as bad datagrams end a read
 * (tapsec_dgram_dropped()).
 */
static int tapsec_dtls_next_hello(struct sock *sk, struct tapsec_ctx *ctx,
				  struct tapsec_dtls *dtls, long *timeo)
{
	struct tapsec_dtls_listener *l = dtls->listener;
	struct tapsec_client_hello ch;
	unsigned int dropped = 0;
	int ret;

	for (;;) {
		ret = tapsec_dtls_fetch(sk, ctx, dtls, timeo, &dropped);
		if (ret <= 0)
			return ret ?: -EINVAL;	/* shut down */
		dtls->rx_off = dtls->rx_len;	/* one ClientHello a datagram */
		if (tapsec_dtls_parse_hello(dtls->rx_buf, dtls->rx_len, &ch)) {
			TAPSEC_COUNT(ctx, rx_bad_record, 1);
		} else if (!tapsec_dtls_cookie_ok(l, &dtls->rx_from, &ch)) {
			if (ch.cookie_len)
				TAPSEC_COUNT(ctx, rx_bad_cookie, 1);
			if (!tapsec_dtls_send_hvr(sk, l, &dtls->rx_from,
						  dtls->rx_from_len, &ch))
				TAPSEC_COUNT(ctx, tx_cookies, 1);
		} else if (tapsec_dtls_seen(l, ch.random)) {
			TAPSEC_COUNT(ctx, rx_replayed, 1);
		} else {
			memcpy(l->recent[l->next], ch.random,
			       TAPSEC_RANDOM_LEN);
			l->next = (l->next + 1) % TAPSEC_DTLS_RECENT;
			return dtls->rx_len;
		}
		ret = tapsec_dgram_dropped(sk, &dropped, *timeo);
		if (ret)
			return ret;
	}
}

/*
 * A new DTLS socket for the peer of the ClientHello in @dtls's buffer,
 * grafted onto @newsock: bound to the listener's address, connected to
 * the peer, the ClientHello waiting as its first raw datagram.
 */
static int tapsec_dtls_spawn(struct socket *sock, struct socket *newsock,
			     struct tapsec_dtls *dtls)
{
	struct tapsec_dtls *cd;
	struct socket *tmp;
	int err;

	err = tapsec_dgram_child_new(sock, TAPSEC_PROTO_DTLS, &tmp);
	if (err)
		return err;
	cd = tapsec_dtls_engine(tmp->sk, tapsec_dgram_sock_ctx(tmp->sk));
	err = PTR_ERR_OR_ZERO(cd);
	if (err)
		goto fail;
	cd->window = dtls->window;
	cd->grace_ms = dtls->grace_ms;
	cd->path_check = dtls->path_check;
	cd->move_interval_ms = dtls->move_interval_ms;
	cd->cids = tapsec_dtls_cids_get(dtls->cids);
	cd->hello = kmemdup(dtls->rx_buf, dtls->rx_len, GFP_KERNEL_ACCOUNT);
	err = -ENOMEM;
	if (!cd->hello)
		goto fail;
	cd->hello_len = dtls->rx_len;
	return tapsec_dgram_child_graft(sock, tmp, newsock,
					(struct sockaddr *)&dtls->rx_from,
					dtls->rx_from_len);
fail:
	sock_release(tmp);
	return err;
}

/**
 * tapsec_dtls_accept() - accept() on a DTLS listener
 * @sock: the listener
 * @newsock: the new socket, its file allocated, no sk yet
 * @nonblock: fail with -EAGAIN rather than wait for a ClientHello
 *
 * Return: 0 with @newsock connected to a peer whose address was
 * validated (and, for a delegated handshake, handshaken); -EOPNOTSUPP
 * on a socket that is not DTLS; -EINVAL when it is not listening;
 * -EAGAIN; or another negative errno.
 */
int tapsec_dtls_accept(struct socket *sock, struct socket *newsock,
		       bool nonblock)
{
	struct sock *sk = sock->sk;
	struct tapsec_ctx *ctx = tapsec_dgram_sock_ctx(sk);
	struct tapsec_dtls *dtls = tapsec_dtls_of(ctx);
	long timeo = sock_rcvtimeo(sk, nonblock);
	int err;

	if (!ctx || READ_ONCE(ctx->protocol) != TAPSEC_PROTO_DTLS)
		return -EOPNOTSUPP;	/* as UDP's own accept() */
	if (!dtls || !READ_ONCE(dtls->listener))
		return -EINVAL;
	if (mutex_lock_interruptible(&dtls->rx_lock))
		return -EINTR;
	err = tapsec_dtls_next_hello(sk, ctx, dtls, &timeo);
	if (err > 0)
		err = tapsec_dtls_spawn(sock, newsock, dtls);
	mutex_unlock(&dtls->rx_lock);
	if (err)
		return err;
	if (!tapsec_hs_delegated(ctx))
		return 0;
	return tapsec_hs_accept(ctx, tapsec_dgram_sock_ctx(newsock->sk),
				newsock, nonblock);
}
