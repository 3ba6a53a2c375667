// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: the WireGuard engine's keys and options, and its entry in the
 * engine table.
 *
 * A WireGuard socket (TAPSEC_PROTOCOL = TAPSEC_PROTO_WIREGUARD, chosen
 * before the socket is bound) first gets its inner addresses
 * (TAPSEC_WG_INNER), then the two halves of a keypair (TAPSEC_TX and
 * TAPSEC_RX, each a struct tapsec_wg_key), kept by the SA engines' shared
 * path (tapsec_sa.c): installing one again replaces it.  Keys can be read
 * back only with CAP_NET_ADMIN (TAPSEC_TX_KEY/RX_KEY, checked by the
 * glue).
 */
#include <linux/in.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/sock.h>

#include "tapsec_wg.h"

static struct tapsec_engine_state *tapsec_wg_make(struct tapsec_ctx *ctx)
{
	struct tapsec_wg *wg = kzalloc(sizeof(*wg), GFP_KERNEL_ACCOUNT);

	if (!wg)
		return NULL;
	tapsec_sa_init(&wg->sa, &tapsec_wg_engine_ops, ctx);
	return &wg->sa.st;
}

/* tapsec_sa_ops.listen: children take the inner addresses, so first them. */
static int tapsec_wg_listen(const struct tapsec_sa *sa)
{
	return sa && READ_ONCE(tapsec_wg_of(sa)->inner_set) ? 0 : -EDESTADDRREQ;
}

/* tapsec_sa_ops.hello: a handshake initiation (type 1) of its length. */
static int tapsec_wg_hello(const u8 *buf, u32 len)
{
	return len == TAPSEC_WG_INITIATION_LEN &&
	       get_unaligned_le32(buf) == TAPSEC_WG_TYPE_INITIATION ? 0 :
								     -EBADMSG;
}

/* tapsec_sa_ops.inherit: the listener's inner addresses. */
static void tapsec_wg_inherit(struct tapsec_sa *child,
			      const struct tapsec_sa *parent)
{
	struct tapsec_wg *c = tapsec_wg_of(child);

	c->inner = tapsec_wg_of(parent)->inner;
	c->inner_set = true;
}

/* tapsec_sa_ops.key_free */
static void tapsec_wg_key_free(void *key)
{
	struct tapsec_wg_keyhalf *k = key;

	tapsec_aead_wipe(&k->aead);
	kfree_sensitive(k);
}

/* tapsec_sa_ops.key_id: the receiver index */
static u32 tapsec_wg_key_id(const void *key)
{
	const struct tapsec_wg_keyhalf *k = key;

	return k->index;
}

/* A keypair half from user space, checked. */
static struct tapsec_wg_keyhalf *tapsec_wg_key_new(sockptr_t optval,
						   unsigned int optlen,
						   bool is_tx)
{
	struct tapsec_wg_keyhalf *k;
	struct tapsec_wg_key uk;
	int err;

	if (optlen != sizeof(uk))
		return ERR_PTR(-EINVAL);
	err = -EFAULT;
	if (copy_from_sockptr(&uk, optval, sizeof(uk)))
		goto out;	/* a partial copy holds key bytes */
	err = -EINVAL;
	if (uk.flags || (uk.counter && !is_tx) ||
	    uk.counter >= TAPSEC_WG_REJECT_AFTER_MESSAGES)
		goto out;
	err = -ENOMEM;
	k = tapsec_fail_alloc() ? NULL : kzalloc(sizeof(*k), GFP_KERNEL_ACCOUNT);
	if (!k)
		goto out;
	err = tapsec_aead_init(&k->aead, TAPSEC_CIPHER_CHACHA20_POLY1305,
			       uk.key, TAPSEC_WG_KEY_LEN);
	if (err) {
		kfree(k);
		goto out;
	}
	k->aead.seq = uk.counter;
	k->index = uk.index;
	memcpy(k->key, uk.key, TAPSEC_WG_KEY_LEN);
	memzero_explicit(&uk, sizeof(uk));
	return k;
out:
	memzero_explicit(&uk, sizeof(uk));
	return ERR_PTR(err);
}

/* An inner address of @family: not unspecified, nothing after IPv4's 4. */
static bool tapsec_wg_addr_ok(u16 family, const u8 *addr)
{
	if (family == AF_INET)
		return memchr_inv(addr, 0, 4) && !memchr_inv(addr + 4, 0, 12);
	return memchr_inv(addr, 0, 16);
}

/* TAPSEC_WG_INNER: only while the socket has no key. */
static int tapsec_wg_set_inner(struct tapsec_wg *wg, sockptr_t optval,
			       unsigned int optlen)
{
	struct tapsec_wg_inner in;
	int err = 0;

	if (optlen != sizeof(in))
		return -EINVAL;
	if (copy_from_sockptr(&in, optval, sizeof(in)))
		return -EFAULT;
	if ((in.family != AF_INET && in.family != AF_INET6) || in.flags ||
	    !in.local_port || !in.peer_port ||
	    !tapsec_wg_addr_ok(in.family, in.local_addr) ||
	    !tapsec_wg_addr_ok(in.family, in.peer_addr))
		return -EINVAL;
	mutex_lock(&wg->sa.tx_lock);
	mutex_lock(&wg->sa.rx_lock);
	if (wg->sa.tx || wg->sa.rx) {
		err = -EISCONN;
	} else {
		wg->inner = in;
		WRITE_ONCE(wg->inner_set, true);
	}
	mutex_unlock(&wg->sa.rx_lock);
	mutex_unlock(&wg->sa.tx_lock);
	return err;
}

static int tapsec_wg_setsockopt(struct sock *sk, struct tapsec_ctx *ctx,
				int optname, sockptr_t optval,
				unsigned int optlen)
{
	struct tapsec_wg_keyhalf *k;
	struct tapsec_sa *sa;

	sa = tapsec_sa_state(sk, ctx, &tapsec_wg_engine_ops, tapsec_wg_make);
	if (IS_ERR(sa))
		return PTR_ERR(sa);
	if (optname == TAPSEC_WG_INNER)
		return tapsec_wg_set_inner(tapsec_wg_of(sa), optval, optlen);
	if (optname != TAPSEC_TX && optname != TAPSEC_RX)
		return tapsec_sa_setsockopt(sk, sa, optname, optval, optlen);
	/* Keys carry inner packets: their addresses come first. */
	if (!READ_ONCE(tapsec_wg_of(sa)->inner_set))
		return -EDESTADDRREQ;
	k = tapsec_wg_key_new(optval, optlen, optname == TAPSEC_TX);
	if (IS_ERR(k))
		return PTR_ERR(k);
	return tapsec_sa_set_key(sk, ctx, sa, optname == TAPSEC_TX, k,
				 TAPSEC_CIPHER_CHACHA20_POLY1305);
}

/* tapsec_sa_ops.key_out: a keypair half as TAPSEC_TX/RX read it. */
static void tapsec_wg_key_out(const void *key, bool tx, bool with_key,
			      void *out)
{
	const struct tapsec_wg_keyhalf *k = key;
	struct tapsec_wg_key *uk = out;

	uk->index = k->index;
	/* Inbound: one past the highest accepted, 0 before any. */
	uk->counter = tx ? k->aead.seq :
			   k->replay.any ? k->replay.top + 1 : 0;
	if (with_key)
		memcpy(uk->key, k->key, TAPSEC_WG_KEY_LEN);
}

static int tapsec_wg_getsockopt(struct sock *sk, struct tapsec_ctx *ctx,
				int optname, char __user *optval,
				int __user *optlen)
{
	struct tapsec_sa *sa;
	struct tapsec_wg_inner in;

	if (optname != TAPSEC_WG_INNER)
		return tapsec_sa_getsockopt(ctx, &tapsec_wg_engine_ops, optname,
					    optval, optlen);
	/* Zeros (family 0) until set. */
	memset(&in, 0, sizeof(in));
	sa = tapsec_sa_engine_state(ctx, &tapsec_wg_engine_ops);
	if (sa) {
		mutex_lock(&sa->tx_lock);
		in = tapsec_wg_of(sa)->inner;
		mutex_unlock(&sa->tx_lock);
	}
	return tapsec_copy_out(&in, sizeof(in), optval, optlen);
}

/* The SA engines' options, and the inner addresses. */
static bool tapsec_wg_option(const struct tapsec_ctx *ctx, int optname,
			     bool set)
{
	return optname == TAPSEC_WG_INNER || tapsec_sa_option(ctx, optname, set);
}

static const struct tapsec_sa_ops tapsec_wg_sa_ops = {
	.max_payload	= TAPSEC_WG_MAX_PAYLOAD,
	.tx_data_off	= tapsec_wg_tx_data_off,
	.seal		= tapsec_wg_seal,
	.seal_empty	= tapsec_wg_seal_empty,
	.open		= tapsec_wg_open,
	.key_free	= tapsec_wg_key_free,
	.key_id		= tapsec_wg_key_id,
	.key_out	= tapsec_wg_key_out,
	.key_out_size	= sizeof(struct tapsec_wg_key),
	.make		= tapsec_wg_make,
	.listen		= tapsec_wg_listen,
	.hello		= tapsec_wg_hello,
	.inherit	= tapsec_wg_inherit,
	.window		= TAPSEC_WG_REPLAY_WINDOW,
	/* WireGuard's REKEY_AFTER_* soft, REJECT_AFTER_* hard. */
	.limits		= {
		.soft_records	= TAPSEC_WG_REKEY_AFTER_MESSAGES,
		.hard_records	= TAPSEC_WG_REJECT_AFTER_MESSAGES,
		.soft_seconds	= TAPSEC_WG_REKEY_AFTER_TIME,
		.hard_seconds	= TAPSEC_WG_REJECT_AFTER_TIME,
	},
};

static_assert(sizeof(struct tapsec_wg_key) <= TAPSEC_SA_KEY_OUT_MAX);

const struct tapsec_engine_ops tapsec_wg_engine_ops = {
	TAPSEC_SA_ENGINE_MEMBERS,
	.proto		= TAPSEC_PROTO_WIREGUARD,
	.option		= tapsec_wg_option,
	.setsockopt	= tapsec_wg_setsockopt,
	.getsockopt	= tapsec_wg_getsockopt,
	.sa		= &tapsec_wg_sa_ops,
};
