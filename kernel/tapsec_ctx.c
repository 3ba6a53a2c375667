// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: per-socket context, per-network-namespace accounting and the
 * SOL_TAPSEC options common to every socket type.
 */
#include <linux/memcontrol.h>
#include <linux/percpu.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/tcp_states.h>
#include <net/inet_sock.h>

#include "tapsec.h"
#include "tapsec_engine.h"

/* A namespace's counters on one CPU (struct tapsec_counters order). */
struct tapsec_net_counters {
	u64 v[TAPSEC_NR_COUNTERS];
};

/*
 * The namespace's counters are per CPU, as kTLS's: the records of all its
 * sockets add to them without sharing a cache line.  A socket's own
 * counters stay atomics in its context.
 */
struct tapsec_net {
	atomic_t sockets;
	spinlock_t lock;		/* protects @socks */
	struct list_head socks;		/* every tapsec_ctx of the netns */
	struct tapsec_net_counters __percpu *counters;
};

static unsigned int tapsec_net_id __read_mostly;
static struct kmem_cache *tapsec_ctx_cache __read_mostly;
static atomic_t tapsec_sockets_total = ATOMIC_INIT(0);
/* Frees engines in process context; drained before the module goes. */
static struct workqueue_struct *tapsec_ctx_wq;

static struct tapsec_net *tapsec_pernet(const struct net *net)
{
	return net_generic(net, tapsec_net_id);
}

/**
 * tapsec_ctx_alloc() - allocate and account the context of a socket
 * @sk: the socket being made a tapsec socket
 * @gfp: allocation flags (GFP_ATOMIC when cloning in softirq)
 * @protocol: initial record protocol, enum tapsec_record_proto
 * @origin: enum tapsec_sock_origin
 *
 * Return: the context, or NULL when out of memory.
 */
struct tapsec_ctx *tapsec_ctx_alloc(struct sock *sk, gfp_t gfp, u32 protocol,
				    u8 origin)
{
	struct tapsec_net *tn;
	struct tapsec_ctx *ctx;

	ctx = tapsec_fail_alloc() ? NULL : kmem_cache_zalloc(tapsec_ctx_cache, gfp);
	if (!ctx)
		return NULL;
	ctx->sk = sk;
	ctx->protocol = protocol;
	ctx->engine = tapsec_engine_for(protocol, sk->sk_type);
	ctx->origin = origin;
	ctx->state = TAPSEC_STATE_NEW;
	ctx->rcvlowat = 1;
	tn = tapsec_pernet(sock_net(sk));
	spin_lock_bh(&tn->lock);
	list_add_tail(&ctx->node, &tn->socks);
	spin_unlock_bh(&tn->lock);
	atomic_inc(&tn->sockets);
	atomic_inc(&tapsec_sockets_total);
	return ctx;
}

/* The engines' keys and buffers, then the context: process context. */
static void tapsec_ctx_free_work(struct work_struct *work)
{
	struct tapsec_ctx *ctx = container_of(work, struct tapsec_ctx,
					      free_work);

	tapsec_engine_of(ctx)->free(ctx);
	kmem_cache_free(tapsec_ctx_cache, ctx);
}

static void tapsec_ctx_free_rcu(struct rcu_head *head)
{
	struct tapsec_ctx *ctx = container_of(head, struct tapsec_ctx, rcu);

	queue_work(tapsec_ctx_wq, &ctx->free_work);
}

/**
 * tapsec_ctx_free() - release a context whose socket is going away
 * @ctx: the context, or NULL
 *
 * Callable in any context, the socket's memory still valid: the context
 * leaves its namespace's list (netlink dumps look at its socket) and its
 * handshake at once.  The engines' memory, which receive paths in softirq
 * may still look at, goes after an RCU grace period, from process context
 * (freeing crypto transforms).
 */
void tapsec_ctx_free(struct tapsec_ctx *ctx)
{
	struct tapsec_net *tn;

	if (!ctx)
		return;
	tapsec_hs_release(ctx);
	tn = tapsec_pernet(sock_net(ctx->sk));
	spin_lock_bh(&tn->lock);
	list_del(&ctx->node);
	spin_unlock_bh(&tn->lock);
	atomic_dec(&tn->sockets);
	atomic_dec(&tapsec_sockets_total);
	WRITE_ONCE(ctx->state, TAPSEC_STATE_CLOSED);
	INIT_WORK(&ctx->free_work, tapsec_ctx_free_work);
	call_rcu(&ctx->rcu, tapsec_ctx_free_rcu);
}

/**
 * tapsec_ctx_refuse() - refuse a data call on a socket that has no keys
 * @ctx: the socket's context, or NULL when the context could not be made
 *
 * Fail closed: without keys nothing is sent or received in clear.
 *
 * Return: -ENOKEY, or -ENOMEM without a context.
 */
int tapsec_ctx_refuse(struct tapsec_ctx *ctx)
{
	if (!ctx)
		return -ENOMEM;
	TAPSEC_COUNT(ctx, refused_nokey, 1);
	return -ENOKEY;
}

/**
 * tapsec_count() - add to a counter of a socket and of its namespace
 * @ctx: the socket's context
 * @idx: TAPSEC_COUNTER(field)
 * @n: how much
 */
void tapsec_count(struct tapsec_ctx *ctx, unsigned int idx, u64 n)
{
	atomic64_add(n, &ctx->counters[idx]);
	this_cpu_add(tapsec_pernet(sock_net(ctx->sk))->counters->v[idx], n);
}

/**
 * tapsec_ctx_counters() - read a socket's counters
 * @ctx: the socket's context
 * @out: TAPSEC_NR_COUNTERS values, in struct tapsec_counters order
 */
void tapsec_ctx_counters(const struct tapsec_ctx *ctx, u64 *out)
{
	unsigned int i;

	for (i = 0; i < TAPSEC_NR_COUNTERS; i++)
		out[i] = atomic64_read(&ctx->counters[i]);
}

/**
 * tapsec_net_counters() - read a namespace's counters
 * @net: the namespace
 * @out: TAPSEC_NR_COUNTERS values, in struct tapsec_counters order
 */
void tapsec_net_counters(const struct net *net, u64 *out)
{
	struct tapsec_net *tn = tapsec_pernet(net);
	unsigned int i;
	int cpu;

	memset(out, 0, TAPSEC_NR_COUNTERS * sizeof(*out));
	for_each_possible_cpu(cpu) {
		const struct tapsec_net_counters *c;

		c = per_cpu_ptr(tn->counters, cpu);
		for (i = 0; i < TAPSEC_NR_COUNTERS; i++)
			out[i] += READ_ONCE(c->v[i]);
	}
}

/**
 * tapsec_net_walk() - call @fn for the namespace's sockets from *@pos on
 * @net: the namespace
 * @pos: in: index of the first socket to visit; out: of the next one
 * @fn: called under a spinlock (no sleeping); non-zero stops the walk
 *	before *@pos moves past that socket
 * @arg: passed to @fn
 *
 * Return: what @fn returned last, 0 when all sockets were visited.
 */
int tapsec_net_walk(const struct net *net, unsigned long *pos,
		    int (*fn)(struct tapsec_ctx *ctx, void *arg), void *arg)
{
	struct tapsec_net *tn = tapsec_pernet(net);
	struct tapsec_ctx *ctx;
	unsigned long i = 0;
	int ret = 0;

	spin_lock_bh(&tn->lock);
	list_for_each_entry(ctx, &tn->socks, node) {
		if (i++ < *pos)
			continue;
		ret = fn(ctx, arg);
		if (ret)
			break;
		(*pos)++;
	}
	spin_unlock_bh(&tn->lock);
	return ret;
}

/* A protocol the socket's type has an engine for; datagram ones may unset. */
static int tapsec_check_protocol(const struct sock *sk, int val)
{
	const struct tapsec_engine_ops *e;

	if (val < TAPSEC_PROTO_NONE || val > TAPSEC_PROTO_WIREGUARD)
		return -EINVAL;
	e = tapsec_engine_get(val);
	if (e)
		return e->type == sk->sk_type ? 0 : -EPROTOTYPE;
	if (sk->sk_type == SOCK_STREAM)
		return -EPROTOTYPE;
	/* A protocol without an engine in this build. */
	return val == TAPSEC_PROTO_NONE ? 0 : -EPROTONOSUPPORT;
}

/*
 * Move a datagram socket to the engine of @val, the socket locked.  Only
 * a socket without engine state moves (options of one engine set before
 * TAPSEC_PROTOCOL chose another: EBUSY); callers that read the old
 * engine just before find no state of theirs (tapsec_engine_state()).
 */
static int tapsec_switch_engine(struct tapsec_ctx *ctx, int val)
{
	const struct tapsec_engine_ops *e;

	if (val == TAPSEC_PROTO_NONE)
		return 0;
	e = tapsec_engine_for(val, ctx->sk->sk_type);
	if (e == ctx->engine)
		return 0;
	if (ctx->engine_priv)
		return -EBUSY;
	WRITE_ONCE(ctx->engine, e);
	return 0;
}

/**
 * tapsec_ctx_make_state() - an engine's state of a socket, made on first use
 * @sk: the socket
 * @ctx: its context
 * @e: the engine asking
 * @make: allocates and initialises the state, under the socket lock
 *
 * Return: the state; ERR_PTR(-EPROTOTYPE) when TAPSEC_PROTOCOL moved the
 * socket to another engine since @e was read, ERR_PTR(-ENOMEM).
 */
struct tapsec_engine_state *
tapsec_ctx_make_state(struct sock *sk, struct tapsec_ctx *ctx,
		      const struct tapsec_engine_ops *e,
		      struct tapsec_engine_state *(*make)(struct tapsec_ctx *ctx))
{
	struct tapsec_engine_state *st;

	lock_sock(sk);
	st = ctx->engine_priv;
	if (ctx->engine != e) {
		st = ERR_PTR(-EPROTOTYPE);
	} else if (!st) {
		st = tapsec_fail_alloc() ? NULL : make(ctx);
		if (st) {
			st->ops = e;
			WRITE_ONCE(ctx->engine_priv, st);
		} else {
			st = ERR_PTR(-ENOMEM);
		}
	}
	release_sock(sk);
	return st;
}

static int tapsec_set_protocol(struct tapsec_ctx *ctx, sockptr_t optval,
			       unsigned int optlen)
{
	struct sock *sk = ctx->sk;
	int val, err;

	if (optlen < sizeof(val))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;

	lock_sock(sk);
	err = tapsec_check_protocol(sk, val);
	/* The protocol is fixed once the socket is bound or connected. */
	if (!err && (sk->sk_state != TCP_CLOSE || inet_sk(sk)->inet_num))
		err = val == ctx->protocol ? 0 : -EISCONN;
	if (!err)
		err = tapsec_switch_engine(ctx, val);
	if (!err)
		WRITE_ONCE(ctx->protocol, val);
	release_sock(sk);
	return err;
}

/* The options that put key material into an engine, whatever the engine. */
static bool tapsec_opt_installs_key(int optname)
{
	switch (optname) {
	case TAPSEC_TX:
	case TAPSEC_RX:
	case TAPSEC_RX_PREV:
	case TAPSEC_TX_SECRET:
	case TAPSEC_RX_SECRET:
	case TAPSEC_EXPORTER_SECRET:
		return true;
	}
	return false;
}

/**
 * tapsec_charge_socket() - charge what follows to a socket's memory cgroup
 * @sk: the socket
 *
 * Engine state, keys and buffers a call makes for a socket are charged
 * (__GFP_ACCOUNT) to the memory cgroup the socket was made in, which the
 * socket layer keeps in sk_memcg outside the root cgroup, whoever makes
 * the call: the handshake daemon installs keys in other users' sockets.
 * A socket of the root cgroup charges the caller's.
 *
 * Return: the charging scope to restore with tapsec_charge_end().
 */
struct mem_cgroup *tapsec_charge_socket(const struct sock *sk)
{
	return set_active_memcg(READ_ONCE(sk->sk_memcg));
}

/**
 * tapsec_charge_end() - end tapsec_charge_socket()'s scope
 * @old: what tapsec_charge_socket() returned
 */
void tapsec_charge_end(struct mem_cgroup *old)
{
	set_active_memcg(old);
}

/**
 * tapsec_ctx_engine_getsockopt() - read an option the socket's engine claims
 * @sk: the socket
 * @ctx: its context
 * @e: the engine, read once by the caller
 * @optname: enum tapsec_sockopt, one @e's option() claimed
 * @optval: user buffer
 * @optlen: its size in, bytes written out
 *
 * Keys themselves (TAPSEC_TX_KEY, TAPSEC_RX_KEY) are read, for every
 * engine, only with CAP_NET_ADMIN in the socket's network namespace.
 *
 * Return: 0 or a negative errno (-EPERM without that capability).
 */
int tapsec_ctx_engine_getsockopt(struct sock *sk, struct tapsec_ctx *ctx,
				 const struct tapsec_engine_ops *e,
				 int optname, char __user *optval,
				 int __user *optlen)
{
	if ((optname == TAPSEC_TX_KEY || optname == TAPSEC_RX_KEY) &&
	    !ns_capable(sock_net(sk)->user_ns, CAP_NET_ADMIN))
		return -EPERM;
	return e->getsockopt(sk, ctx, optname, optval, optlen);
}

/**
 * tapsec_ctx_engine_setsockopt() - set an option the socket's engine claims
 * @sk: the socket
 * @ctx: its context
 * @e: the engine, read once by the caller
 * @optname: enum tapsec_sockopt, one @e's option() claimed
 * @optval: option value
 * @optlen: length of @optval
 *
 * Keys and secrets wait for a delegated handshake's end, for every engine:
 * until then only the daemon running it may set them
 * (tapsec_hs_may_install()).
 *
 * Return: 0 or a negative errno.
 */
int tapsec_ctx_engine_setsockopt(struct sock *sk, struct tapsec_ctx *ctx,
				 const struct tapsec_engine_ops *e,
				 int optname, sockptr_t optval,
				 unsigned int optlen)
{
	int err = 0;

	struct mem_cgroup *old;

	if (tapsec_opt_installs_key(optname))
		err = tapsec_hs_may_install(ctx);
	if (err)
		return err;
	old = tapsec_charge_socket(sk);
	err = e->setsockopt(sk, ctx, optname, optval, optlen);
	tapsec_charge_end(old);
	return err;
}

/**
 * tapsec_ctx_setsockopt() - SOL_TAPSEC options common to all sockets
 * @ctx: the socket's context
 * @optname: enum tapsec_sockopt
 * @optval: option value
 * @optlen: length of @optval
 *
 * Return: 0 or a negative errno.
 */
int tapsec_ctx_setsockopt(struct tapsec_ctx *ctx, int optname,
			  sockptr_t optval, unsigned int optlen)
{
	if (!ctx)
		return -ENOMEM;
	switch (optname) {
	case TAPSEC_PROTOCOL:
		return tapsec_set_protocol(ctx, optval, optlen);
	case TAPSEC_SOCK_INFO:
	case TAPSEC_TX_KEY:
	case TAPSEC_RX_KEY:
		return -EPERM;	/* read only */
	case TAPSEC_TX:
	case TAPSEC_RX:
		/* Stream sockets' engines take these. */
		return -EPROTONOSUPPORT;
	case TAPSEC_HANDSHAKE ... TAPSEC_PEER_VERDICT:
	case TAPSEC_HANDSHAKE_PSK:
		return tapsec_hs_setsockopt(ctx, optname, optval, optlen);
	default:
		return -ENOPROTOOPT;
	}
}

/**
 * tapsec_copy_out() - answer a getsockopt
 * @val: the value
 * @size: its size; a shorter user buffer gets the start of it
 * @optval: user buffer
 * @optlen: its size in, bytes written out
 *
 * Return: 0 or -EFAULT/-EINVAL.
 */
int tapsec_copy_out(const void *val, int size, char __user *optval,
		    int __user *optlen)
{
	int len;

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	len = min(len, size);
	if (put_user(len, optlen) || copy_to_user(optval, val, len))
		return -EFAULT;
	return 0;
}

/**
 * tapsec_ctx_getsockopt() - read SOL_TAPSEC options common to all sockets
 * @ctx: the socket's context
 * @optname: enum tapsec_sockopt
 * @optval: user buffer
 * @optlen: in: size of @optval; out: bytes written
 *
 * Return: 0 or a negative errno.
 */
int tapsec_ctx_getsockopt(struct tapsec_ctx *ctx, int optname,
			  char __user *optval, int __user *optlen)
{
	struct tapsec_sock_info info = {};
	int val;

	if (!ctx)
		return -ENOMEM;
	switch (optname) {
	case TAPSEC_PROTOCOL:
		val = READ_ONCE(ctx->protocol);
		return tapsec_copy_out(&val, sizeof(val), optval, optlen);
	case TAPSEC_SOCK_INFO:
		info.state = READ_ONCE(ctx->state);
		info.protocol = READ_ONCE(ctx->protocol);
		info.origin = ctx->origin;
		info.tx_version = READ_ONCE(ctx->tx_version);
		info.tx_cipher = READ_ONCE(ctx->tx_cipher);
		info.rx_version = READ_ONCE(ctx->rx_version);
		info.rx_cipher = READ_ONCE(ctx->rx_cipher);
		tapsec_ctx_counters(ctx, (u64 *)&info.counters);
		return tapsec_copy_out(&info, sizeof(info), optval, optlen);
	case TAPSEC_TX:
	case TAPSEC_RX:
	case TAPSEC_TX_KEY:
	case TAPSEC_RX_KEY:
		return -ENOKEY;
	case TAPSEC_HANDSHAKE ... TAPSEC_PEER_VERDICT:
	case TAPSEC_HANDSHAKE_PSK:
		return tapsec_hs_getsockopt(ctx, optname, optval, optlen);
	default:
		return -ENOPROTOOPT;
	}
}

/**
 * tapsec_net_sockets() - live tapsec sockets in one network namespace
 * @net: the namespace
 *
 * Return: the count.
 */
u32 tapsec_net_sockets(const struct net *net)
{
	return atomic_read(&tapsec_pernet(net)->sockets);
}

/**
 * tapsec_total_sockets() - live tapsec sockets in all namespaces
 *
 * Return: the count.
 */
u32 tapsec_total_sockets(void)
{
	return atomic_read(&tapsec_sockets_total);
}

static int __net_init tapsec_net_init(struct net *net)
{
	struct tapsec_net *tn = tapsec_pernet(net);

	spin_lock_init(&tn->lock);
	INIT_LIST_HEAD(&tn->socks);
	tn->counters = alloc_percpu_gfp(struct tapsec_net_counters,
					GFP_KERNEL_ACCOUNT);
	return tn->counters ? 0 : -ENOMEM;
}

static void __net_exit tapsec_net_exit(struct net *net)
{
	struct tapsec_net *tn = tapsec_pernet(net);

	WARN_ON_ONCE(atomic_read(&tn->sockets));
	free_percpu(tn->counters);
}

static struct pernet_operations tapsec_net_ops = {
	.init = tapsec_net_init,
	.exit = tapsec_net_exit,
	.id = &tapsec_net_id,
	.size = sizeof(struct tapsec_net),
};

/**
 * tapsec_ctx_init() - create the context cache and per-netns state
 *
 * Return: 0 or a negative errno.
 */
int tapsec_ctx_init(void)
{
	int err;

	tapsec_ctx_cache = KMEM_CACHE(tapsec_ctx, SLAB_ACCOUNT);
	if (!tapsec_ctx_cache)
		return -ENOMEM;
	tapsec_ctx_wq = alloc_workqueue("tapsec_free", 0, 0);
	if (!tapsec_ctx_wq) {
		kmem_cache_destroy(tapsec_ctx_cache);
		return -ENOMEM;
	}
	err = register_pernet_subsys(&tapsec_net_ops);
	if (err) {
		destroy_workqueue(tapsec_ctx_wq);
		kmem_cache_destroy(tapsec_ctx_cache);
	}
	return err;
}

/**
 * tapsec_ctx_exit() - undo tapsec_ctx_init() once no socket is left
 */
void tapsec_ctx_exit(void)
{
	unregister_pernet_subsys(&tapsec_net_ops);
	rcu_barrier();	/* contexts freed with call_rcu() queue their work */
	destroy_workqueue(tapsec_ctx_wq);
	kmem_cache_destroy(tapsec_ctx_cache);
}
