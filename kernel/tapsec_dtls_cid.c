// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: DTLS 1.3 connection IDs (RFC 9147 9) and the mobility they
 * allow.
 *
 * A socket accepted from a listener is bound to the listener's address
 * and UDP-connected to its peer, so UDP hands it only that peer's
 * datagrams.  When the peer's address changes (NAT rebinding, a new
 * network), its datagrams reach the listener instead.  Every listener
 * keeps a table of its children's receive connection IDs; its UDP
 * encapsulation hook looks the first record of each datagram up there,
 * in softirq, and hands a datagram whose connection ID a child owns to
 * that child's queue.  The child opens it as any record, and may follow
 * the peer there (tapsec_dtls_path.c).
 *
 * Lifetime: table entries are freed after an RCU grace period; a child
 * or listener that leaves waits for one (synchronize_rcu()) before its
 * engine goes, so the hook never sees a freed engine.
 */
#include <linux/jhash.h>
#include <linux/random.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/udp.h>
#include <net/udp_tunnel.h>

#include "tapsec_compat.h"
#include "tapsec_dtls.h"

#define TAPSEC_CID_BUCKETS	64
#define TAPSEC_HANDED_MAX	64	/* datagrams queued for one child */
/* Any value other than 0 makes UDP call the hook; UDP_ENCAP_* are 1-7. */
#define TAPSEC_UDP_ENCAP_DTLS	200
#define TAPSEC_DTLS13_C_FIXED	0x30	/* 001C with C set */

/**
 * struct tapsec_dtls_cids - a listener's children by connection ID
 * @ref: the listener's reference and one per child
 * @lock: serialises changes; lookups run under RCU
 * @salt: hash salt
 * @lens: bit n set when some child's connection ID has n bytes
 * @count: children per connection ID length
 * @buckets: the children, hashed by connection ID
 */
struct tapsec_dtls_cids {
	refcount_t ref;
	spinlock_t lock;		/* changes to @buckets and @count */
	u32 salt;
	unsigned long lens;
	u32 count[TAPSEC_CID_MAX + 1];
	struct hlist_head buckets[TAPSEC_CID_BUCKETS];
};

/**
 * struct tapsec_dtls_cid_entry - one child's receive connection ID
 * @node: in its table's bucket
 * @rcu: frees the entry after the readers
 * @dtls: the child's engine
 * @len: bytes of @cid
 * @cid: the connection ID
 */
struct tapsec_dtls_cid_entry {
	struct hlist_node node;
	struct rcu_head rcu;
	struct tapsec_dtls *dtls;
	u8 len;
	u8 cid[TAPSEC_CID_MAX];
};

/* What a handed-over datagram carries in skb->cb. */
struct tapsec_dtls_handed_cb {
	union {
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} from;
	u16 from_len;
	u16 off;		/* payload offset from skb->data */
};

static struct tapsec_dtls_handed_cb *tapsec_handed_cb(struct sk_buff *skb)
{
	BUILD_BUG_ON(sizeof(struct tapsec_dtls_handed_cb) >
		     sizeof_field(struct sk_buff, cb));
	return (struct tapsec_dtls_handed_cb *)skb->cb;
}

static struct hlist_head *tapsec_cid_bucket(struct tapsec_dtls_cids *t,
					    const u8 *cid, u8 len)
{
	return &t->buckets[jhash(cid, len, t->salt ^ len) %
			   TAPSEC_CID_BUCKETS];
}

/* Under RCU or the table's lock. */
static struct tapsec_dtls_cid_entry *
tapsec_cid_find(struct tapsec_dtls_cids *t, const u8 *cid, u8 len)
{
	struct tapsec_dtls_cid_entry *e;

	hlist_for_each_entry_rcu(e, tapsec_cid_bucket(t, cid, len), node,
				 lockdep_is_held(&t->lock))
		if (e->len == len && !memcmp(e->cid, cid, len))
			return e;
	return NULL;
}

/* The source of @skb as recvfrom() on a socket of @family gives it. */
static void tapsec_handed_source(struct sk_buff *skb, int family,
				 struct tapsec_dtls_handed_cb *cb)
{
	__be16 port = udp_hdr(skb)->source;

	memset(&cb->from, 0, sizeof(cb->from));
	if (skb->protocol == htons(ETH_P_IP) && family == AF_INET) {
		cb->from.v4.sin_family = AF_INET;
		cb->from.v4.sin_port = port;
		cb->from.v4.sin_addr.s_addr = ip_hdr(skb)->saddr;
		cb->from_len = sizeof(cb->from.v4);
		return;
	}
	cb->from.v6.sin6_family = AF_INET6;
	cb->from.v6.sin6_port = port;
	cb->from_len = sizeof(cb->from.v6);
	if (skb->protocol == htons(ETH_P_IP)) {
		ipv6_addr_set_v4mapped(ip_hdr(skb)->saddr,
				       &cb->from.v6.sin6_addr);
		return;
	}
#if IS_ENABLED(CONFIG_IPV6)
	cb->from.v6.sin6_addr = ipv6_hdr(skb)->saddr;
	cb->from.v6.sin6_scope_id =
		ipv6_iface_scope_id(&cb->from.v6.sin6_addr, skb->skb_iif);
#endif
}

/* Queue @skb for the child of @e and wake its readers; consumes @skb. */
static void tapsec_cid_hand_over(struct sock *lsk, struct sk_buff *skb,
				 u16 off, struct tapsec_dtls_cid_entry *e)
{
	struct tapsec_dtls *dtls = e->dtls;
	struct sock *sk = dtls->ctx->sk;
	struct tapsec_dtls_handed_cb *cb = tapsec_handed_cb(skb);

	if (skb_queue_len_lockless(&dtls->handed) >= TAPSEC_HANDED_MAX) {
		atomic_inc(&sk->sk_drops);
		kfree_skb(skb);
		return;
	}
	tapsec_handed_source(skb, lsk->sk_family, cb);
	cb->off = off;
	skb_dst_drop(skb);
	skb_queue_tail(&dtls->handed, skb);
	sk->sk_data_ready(sk);
}

/*
 * The listener's UDP encapsulation hook, in softirq with skb->data at the
 * UDP header.  Returns 0 when a child took the datagram, 1 to let UDP
 * queue it to the listener.
 */
static int tapsec_dtls_cid_rcv(struct sock *lsk, struct sk_buff *skb)
{
	struct tapsec_ctx *ctx = rcu_dereference_sk_user_data(lsk);
	u16 off = skb_transport_offset(skb) + sizeof(struct udphdr);
	struct tapsec_dtls_cid_entry *e = NULL;
	struct tapsec_dtls *dtls = tapsec_dtls_of(ctx);
	struct tapsec_dtls_cids *t = dtls ? READ_ONCE(dtls->cids) : NULL;
	u8 buf[1 + TAPSEC_CID_MAX];
	unsigned long lens;
	const u8 *p;
	int len;

	lens = t ? READ_ONCE(t->lens) : 0;
	if (!lens)
		return 1;
	p = skb_header_pointer(skb, off, 1, buf);
	if (!p || (p[0] & 0xf0) != TAPSEC_DTLS13_C_FIXED)
		return 1;
	for_each_set_bit(len, &lens, TAPSEC_CID_MAX + 1) {
		p = skb_header_pointer(skb, off, 1 + len, buf);
		if (!p)
			break;
		e = tapsec_cid_find(t, p + 1, len);
		if (e)
			break;
	}
	if (!e)
		return 1;
	tapsec_cid_hand_over(lsk, skb, off, e);
	return 0;
}

/**
 * tapsec_dtls_cids_new() - a listener's connection ID table
 * @lsk: the listener, bound, under the socket lock
 *
 * Also makes UDP pass the listener's datagrams through the lookup.
 *
 * Return: the table, or NULL without memory.
 */
struct tapsec_dtls_cids *tapsec_dtls_cids_new(struct sock *lsk)
{
	struct tapsec_dtls_cids *t;

	t = tapsec_fail_alloc() ? NULL : kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		return NULL;
	refcount_set(&t->ref, 1);
	spin_lock_init(&t->lock);
	t->salt = get_random_u32();
	udp_sk(lsk)->encap_type = TAPSEC_UDP_ENCAP_DTLS;
	WRITE_ONCE(udp_sk(lsk)->encap_rcv, tapsec_dtls_cid_rcv);
	udp_tunnel_encap_enable(lsk);
	return t;
}

/**
 * tapsec_dtls_cids_get() - another reference to a table
 * @t: the table
 *
 * Return: @t.
 */
struct tapsec_dtls_cids *tapsec_dtls_cids_get(struct tapsec_dtls_cids *t)
{
	refcount_inc(&t->ref);
	return t;
}

/**
 * tapsec_dtls_cids_put() - drop a reference to a table
 * @t: the table, or NULL
 *
 * Nobody looks it up any more once its listener stopped
 * (tapsec_dtls_cids_stop()) and its children left.
 */
void tapsec_dtls_cids_put(struct tapsec_dtls_cids *t)
{
	if (t && refcount_dec_and_test(&t->ref))
		kfree(t);
}

/**
 * tapsec_dtls_cids_stop() - a closing listener stops handing datagrams over
 * @lsk: the listener, in close()
 *
 * Waits until no hook runs on it any more: its engine may go after this.
 */
void tapsec_dtls_cids_stop(struct sock *lsk)
{
	WRITE_ONCE(udp_sk(lsk)->encap_rcv, NULL);
	synchronize_rcu();
}

/* Unhash @dtls's entry; under the table's lock. */
static void tapsec_cid_unhash(struct tapsec_dtls_cids *t,
			      struct tapsec_dtls_cid_entry *e)
{
	hlist_del_rcu(&e->node);
	if (!--t->count[e->len])
		WRITE_ONCE(t->lens, t->lens & ~BIT(e->len));
	kfree_rcu(e, rcu);
}

/**
 * tapsec_dtls_cid_register() - file a child under its receive connection ID
 * @dtls: the child's engine, under its receive lock, with a table
 * @cid: the connection ID
 * @len: its length, 0 to only unregister
 *
 * Return: 0; -EADDRINUSE when another child of the listener has it;
 * -ENOMEM.
 */
int tapsec_dtls_cid_register(struct tapsec_dtls *dtls, const u8 *cid, u8 len)
{
	struct tapsec_dtls_cids *t = dtls->cids;
	struct tapsec_dtls_cid_entry *e = NULL, *old;
	int err = 0;

	if (len) {
		e = tapsec_fail_alloc() ? NULL : kzalloc(sizeof(*e), GFP_KERNEL_ACCOUNT);
		if (!e)
			return -ENOMEM;
		e->dtls = dtls;
		e->len = len;
		memcpy(e->cid, cid, len);
	}
	spin_lock_bh(&t->lock);
	old = dtls->cid_entry;
	if (e) {
		struct tapsec_dtls_cid_entry *other = tapsec_cid_find(t, cid,
								      len);

		if (other && other != old) {
			err = -EADDRINUSE;
			goto out;
		}
	}
	if (old)
		tapsec_cid_unhash(t, old);
	if (e) {
		hlist_add_head_rcu(&e->node, tapsec_cid_bucket(t, cid, len));
		t->count[len]++;
		WRITE_ONCE(t->lens, t->lens | BIT(len));
	}
	dtls->cid_entry = e;
	e = NULL;
out:
	spin_unlock_bh(&t->lock);
	kfree(e);
	return err;
}

/*
 * Take a child's entry out of its table and drop its reference on the
 * table; returns whether there was an entry.
 */
static bool tapsec_dtls_cid_out(struct tapsec_dtls *dtls)
{
	bool had = false;

	if (!dtls->cids)
		return false;
	if (dtls->cid_entry) {
		spin_lock_bh(&dtls->cids->lock);
		tapsec_cid_unhash(dtls->cids, dtls->cid_entry);
		dtls->cid_entry = NULL;
		spin_unlock_bh(&dtls->cids->lock);
		had = true;
	}
	tapsec_dtls_cids_put(dtls->cids);
	dtls->cids = NULL;
	return had;
}

/**
 * tapsec_dtls_cid_leave() - a child leaves its listener's table
 * @dtls: the child's engine, being stopped
 *
 * Waits until no hook can still be handing it a datagram, then drops
 * what was handed over and not read.
 */
void tapsec_dtls_cid_leave(struct tapsec_dtls *dtls)
{
	if (tapsec_dtls_cid_out(dtls))
		synchronize_rcu();
	skb_queue_purge(&dtls->handed);
}

/**
 * tapsec_dtls_cid_drop() - tapsec_dtls_cid_leave() without waiting
 * @dtls: the child's engine, its socket being destructed
 *
 * For tapsec_dtls_unhook(): the engine's memory is freed after an RCU
 * grace period, which is what a hook still running needs of it.
 */
void tapsec_dtls_cid_drop(struct tapsec_dtls *dtls)
{
	tapsec_dtls_cid_out(dtls);
	skb_queue_purge(&dtls->handed);
}

/**
 * tapsec_dtls_take_handed() - the next datagram a listener handed over
 * @ctx: the socket's context
 * @dtls: its engine, under the receive lock
 *
 * Return: its length, copied to the receive buffer with its source in
 * @dtls->rx_from; 0 when none waits; -EMSGSIZE for one larger than any
 * record (dropped and counted).
 */
int tapsec_dtls_take_handed(struct tapsec_ctx *ctx, struct tapsec_dtls *dtls)
{
	struct tapsec_dtls_handed_cb *cb;
	struct sk_buff *skb;
	int len;

	/* Every datagram read passes here: no lock while none waits. */
	if (skb_queue_empty_lockless(&dtls->handed))
		return 0;
	skb = skb_dequeue(&dtls->handed);
	if (!skb)
		return 0;
	cb = tapsec_handed_cb(skb);
	len = skb->len - cb->off;
	if (len <= 0 || len > TAPSEC_DTLS_BUF_LEN ||
	    skb_copy_bits(skb, cb->off, dtls->rx_buf, len)) {
		TAPSEC_COUNT(ctx, rx_oversize, 1);
		kfree_skb(skb);
		return -EMSGSIZE;
	}
	memcpy(&dtls->rx_from, &cb->from, cb->from_len);
	dtls->rx_from_len = cb->from_len;
	dtls->rx_len = len;
	dtls->rx_off = 0;
	dtls->rx_handed = true;
	consume_skb(skb);
	return len;
}
