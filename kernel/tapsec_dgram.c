// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: SOCK_DGRAM sockets (DTLS, ESP-in-UDP and WireGuard records).
 *
 * socket(AF_INET[6], SOCK_DGRAM, IPPROTO_TAPSEC) gives a UDP socket whose
 * proto and ops are tapsec's copies of the kernel's UDP ones; the context
 * lives in sk_user_data, where the UDP encapsulation hooks of the record
 * engines will find it.  sk_protocol is IPPROTO_UDP for the IP layer.
 */
#include <linux/module.h>
#include <net/udp.h>
#include <net/protocol.h>
#include <net/ipv6.h>

#include "tapsec.h"
#include "tapsec_compat.h"
#include "tapsec_engine.h"

static struct proto *dgram_base_prot[TAPSEC_NFAMILIES] __ro_after_init;
static struct proto dgram_prot[TAPSEC_NFAMILIES] __ro_after_init;
/* Built from the kernel's ops at init, read only afterwards. */
static struct proto_ops dgram_ops[TAPSEC_NFAMILIES] __ro_after_init;
static const struct proto_ops *dgram_base_ops[TAPSEC_NFAMILIES] __ro_after_init;
static struct inet_protosw dgram_protosw[TAPSEC_NFAMILIES];
static bool dgram_registered[TAPSEC_NFAMILIES];

/* Set in ->init, cleared in ->destroy: stable while a caller holds sk. */
static struct tapsec_ctx *tapsec_dgram_ctx(const struct sock *sk)
{
	return rcu_dereference_protected(__sk_user_data(sk), 1);
}

/**
 * tapsec_dgram_is() - whether a socket is a tapsec datagram socket
 * @sock: the socket
 *
 * Return: true when its ops are tapsec's.
 */
bool tapsec_dgram_is(const struct socket *sock)
{
	return sock->ops == &dgram_ops[TAPSEC_INET] ||
	       sock->ops == &dgram_ops[TAPSEC_INET6];
}

/**
 * tapsec_dgram_sock_ctx() - the context of a tapsec datagram socket
 * @sk: a socket for which tapsec_dgram_is() holds
 *
 * Return: the context, NULL when it could not be allocated.
 */
struct tapsec_ctx *tapsec_dgram_sock_ctx(const struct sock *sk)
{
	return tapsec_dgram_ctx(sk);
}

/**
 * tapsec_dgram_base_sendmsg() - send through the kernel's UDP
 * @sk: a tapsec datagram socket
 * @msg: the datagram
 * @len: its length
 *
 * Return: what UDP's sendmsg returns.
 */
int tapsec_dgram_base_sendmsg(struct sock *sk, struct msghdr *msg, size_t len)
{
	return dgram_base_prot[tapsec_family_index(sk->sk_family)]->sendmsg(sk,
									 msg,
									 len);
}

/**
 * tapsec_dgram_base_recvmsg() - receive through the kernel's UDP
 * @sk: a tapsec datagram socket
 * @msg: where the datagram goes
 * @len: room in @msg
 * @flags: MSG_* flags for UDP
 * @addr_len: set to the source address length
 *
 * Return: what UDP's recvmsg returns.
 */
int tapsec_dgram_base_recvmsg(struct sock *sk, struct msghdr *msg,
			      size_t len, int flags, int *addr_len)
{
	int fam = tapsec_family_index(sk->sk_family);

	return dgram_base_prot[fam]->recvmsg(sk, msg, len, flags, addr_len);
}

static int tapsec_dgram_sendmsg(struct sock *sk, struct msghdr *msg,
				size_t len)
{
	struct tapsec_ctx *ctx = tapsec_dgram_ctx(sk);
	const struct tapsec_engine_ops *e;
	int gate;

	if (!tapsec_engine_active(ctx))
		return tapsec_ctx_refuse(ctx);
	e = tapsec_engine_of(ctx);
	gate = tapsec_hs_gate(ctx, true, msg->msg_flags & MSG_DONTWAIT);
	if (gate > 0) {
		struct mem_cgroup *old = tapsec_charge_socket(sk);

		e->raw_sent(sk, ctx, msg, len);
		tapsec_charge_end(old);
		return tapsec_dgram_base_sendmsg(sk, msg, len);
	}
	return gate ?: e->sendmsg(sk, ctx, msg, len);
}

static int tapsec_dgram_recvmsg(struct sock *sk, struct msghdr *msg,
				size_t len, int flags, int *addr_len)
{
	struct tapsec_ctx *ctx = tapsec_dgram_ctx(sk);
	const struct tapsec_engine_ops *e;
	int gate;

	if (!tapsec_engine_active(ctx))
		return tapsec_ctx_refuse(ctx);
	e = tapsec_engine_of(ctx);
	gate = (flags & MSG_ERRQUEUE) ? 0 :
	       tapsec_hs_gate(ctx, false, flags & MSG_DONTWAIT);
	if (gate > 0) {
		int ret = e->raw_recvmsg(ctx, msg, len, flags);

		if (ret == -ENOENT)
			ret = tapsec_dgram_base_recvmsg(sk, msg, len, flags,
							addr_len);
		if (ret >= 0 && !(flags & MSG_PEEK))
			e->raw_read(ctx);
		return ret;
	}
	return gate ?: e->recvmsg(sk, ctx, msg, len, flags, addr_len);
}

/**
 * tapsec_dgram_base_connect() - connect through the kernel's UDP
 * @sock: a tapsec datagram socket
 * @addr: the peer
 * @addr_len: its length
 *
 * Return: what UDP's connect returns; no handshake is started.
 */
int tapsec_dgram_base_connect(struct socket *sock, struct sockaddr *addr,
			      int addr_len)
{
	int fam = tapsec_family_index(sock->sk->sk_family);

	return dgram_base_ops[fam]->connect(sock, addr, addr_len, 0);
}

/**
 * tapsec_dgram_child_new() - a new socket for a datagram listener's peer
 * @sock: the listener
 * @proto: the record protocol (TAPSEC_PROTO_*) the socket carries
 * @child: set to the new socket, which the caller grafts with
 *	tapsec_dgram_child_graft() or releases
 *
 * The socket is of the listener's namespace and family, its origin
 * TAPSEC_ORIGIN_ACCEPT; the caller makes its engine state.
 *
 * Return: 0, or what socket creation returns.
 */
int tapsec_dgram_child_new(struct socket *sock, u32 proto,
			   struct socket **child)
{
	struct sock *lsk = sock->sk;
	struct tapsec_ctx *ctx;
	int err;

	err = __sock_create(sock_net(lsk), lsk->sk_family, SOCK_DGRAM,
			    IPPROTO_TAPSEC, child, 0);
	if (err)
		return err;
	ctx = tapsec_dgram_sock_ctx((*child)->sk);
	if (!ctx) {
		sock_release(*child);
		return -ENOMEM;
	}
	/* Nobody else sees the socket yet: no lock, no engine state. */
	ctx->engine = tapsec_engine_for(proto, SOCK_DGRAM);
	ctx->protocol = proto;
	ctx->origin = TAPSEC_ORIGIN_ACCEPT;
	return 0;
}

/**
 * tapsec_dgram_child_graft() - bind, connect and hand over a child socket
 * @sock: the listener
 * @child: from tapsec_dgram_child_new(); released here either way
 * @newsock: accept()'s socket, its file allocated, no sk yet
 * @peer: the peer's address
 * @peer_len: its length
 *
 * The child binds to the listener's address and port, in its reuseport
 * group, with the listener's owner (whoever accepts: the group checks
 * that every member has it, so no other user can bind there too, as
 * SO_REUSEADDR would let anyone), and connects to @peer: UDP then gives
 * it that peer's datagrams, and the listener the others.
 *
 * Return: 0 with @newsock connected, or a bind or connect error.
 */
int tapsec_dgram_child_graft(struct socket *sock, struct socket *child,
			     struct socket *newsock, struct sockaddr *peer,
			     int peer_len)
{
	struct sockaddr_storage local;
	struct sock *sk = child->sk;
	int err;

	SOCK_INODE(child)->i_uid = SOCK_INODE(sock)->i_uid;
	sk->sk_uid = sock->sk->sk_uid;
	sk->sk_reuseport = 1;
	err = kernel_getsockname(sock, (struct sockaddr *)&local);
	if (err >= 0)
		err = kernel_bind(child, (struct sockaddr *)&local, err);
	if (!err)
		err = tapsec_dgram_base_connect(child, peer, peer_len);
	if (err) {
		sock_release(child);
		return err;
	}
	newsock->sk = NULL;
	SOCK_INODE(newsock)->i_uid = SOCK_INODE(sock)->i_uid;
	sock_graft(sk, newsock);
	newsock->state = SS_CONNECTED;
	child->sk = NULL;
	sock_release(child);
	return 0;
}

static int tapsec_dgram_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;

	return tapsec_ctx_engine(tapsec_dgram_ctx(sk), sk)->listen(sock);
}

static int tapsec_dgram_do_accept(struct socket *sock, struct socket *newsock,
				  bool nonblock)
{
	struct sock *sk = sock->sk;

	return tapsec_ctx_engine(tapsec_dgram_ctx(sk), sk)->accept(sock, newsock,
								   nonblock);
}

#if TAPSEC_HAVE_ACCEPT_ARG
static int tapsec_dgram_accept(struct socket *sock, struct socket *newsock,
			       struct proto_accept_arg *arg)
{
	return tapsec_dgram_do_accept(sock, newsock, arg->flags & O_NONBLOCK);
}
#else
static int tapsec_dgram_accept(struct socket *sock, struct socket *newsock,
			       int flags, bool kern)
{
	return tapsec_dgram_do_accept(sock, newsock, flags & O_NONBLOCK);
}
#endif

/*
 * connect(): UDP's, then the delegated handshake if there is one.  A
 * socket with keys or a delegated handshake may move to another peer (an
 * application's migration), but not be disconnected (AF_UNSPEC): its
 * records would have no peer and the next connect() would find the
 * handshake's state.
 */
static int tapsec_dgram_connect(struct socket *sock, struct sockaddr *uaddr,
				int addr_len, int flags)
{
	int fam = tapsec_family_index(sock->sk->sk_family);
	struct tapsec_ctx *ctx = tapsec_dgram_ctx(sock->sk);
	bool unspec = addr_len >= (int)sizeof(uaddr->sa_family) &&
		      uaddr->sa_family == AF_UNSPEC;
	int err;

	if (unspec && tapsec_ctx_committed(ctx))
		return -EOPNOTSUPP;
	err = dgram_base_ops[fam]->connect(sock, uaddr, addr_len, flags);
	if (err || unspec || !tapsec_engine_active(ctx) ||
	    !tapsec_hs_delegated(ctx) || addr_len < sizeof(uaddr->sa_family))
		return err;
	return tapsec_hs_connect(sock, ctx, 0);
}

static __poll_t tapsec_dgram_poll(struct file *file, struct socket *sock,
				  poll_table *wait)
{
	int fam = tapsec_family_index(sock->sk->sk_family);
	__poll_t mask = dgram_base_ops[fam]->poll(file, sock, wait);
	struct tapsec_ctx *ctx = tapsec_dgram_ctx(sock->sk);

	mask = tapsec_ctx_engine(ctx, sock->sk)->poll(sock->sk, ctx, mask);
	/* Last: a handshake under way withholds readiness. */
	if (tapsec_hs_delegated(ctx))
		mask = tapsec_hs_poll(ctx, mask);
	return mask;
}

static int tapsec_dgram_shutdown(struct socket *sock, int how)
{
	int fam = tapsec_family_index(sock->sk->sk_family);
	struct tapsec_ctx *ctx = tapsec_dgram_ctx(sock->sk);

	if ((how == SHUT_WR || how == SHUT_RDWR) && tapsec_engine_active(ctx))
		tapsec_engine_of(ctx)->shutdown_tx(sock->sk, ctx, 0);
	return dgram_base_ops[fam]->shutdown(sock, how);
}

/* close(): close_notify goes out while the socket is still whole. */
static int tapsec_dgram_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct tapsec_ctx *ctx;
	int fam;

	if (!sk)
		return 0;
	fam = tapsec_family_index(sk->sk_family);
	ctx = tapsec_dgram_ctx(sk);
	if (ctx) {
		tapsec_hs_close(ctx);
		if (tapsec_engine_active(ctx)) {
			tapsec_engine_of(ctx)->close(sk, ctx);
			tapsec_nl_event(sock_net(sk), TAPSEC_EVENT_CLOSED,
					sock_i_ino(sk), 0, NULL);
		}
	}
	return dgram_base_ops[fam]->release(sock);
}

#if TAPSEC_HAVE_SENDPAGE
static int tapsec_dgram_sendpage(struct sock *sk, struct page *page,
				 int offset, size_t size, int flags)
{
	return tapsec_ctx_refuse(tapsec_dgram_ctx(sk));
}
#endif

static int tapsec_dgram_setsockopt(struct sock *sk, int level, int optname,
				   sockptr_t optval, unsigned int optlen)
{
	int fam = tapsec_family_index(sk->sk_family);
	struct tapsec_ctx *ctx = tapsec_dgram_ctx(sk);
	const struct tapsec_engine_ops *e = tapsec_ctx_engine(ctx, sk);

	if (level == SOL_TAPSEC && ctx && e->option(ctx, optname, true))
		return tapsec_ctx_engine_setsockopt(sk, ctx, e, optname, optval,
						    optlen);
	if (level == SOL_TAPSEC)
		return tapsec_ctx_setsockopt(ctx, optname, optval, optlen);
	return tapsec_passthru_check(ctx, level, optname, true) ?:
	       dgram_base_prot[fam]->setsockopt(sk, level, optname, optval,
						optlen);
}

static int tapsec_dgram_getsockopt(struct sock *sk, int level, int optname,
				   char __user *optval, int __user *optlen)
{
	int fam = tapsec_family_index(sk->sk_family);
	struct tapsec_ctx *ctx = tapsec_dgram_ctx(sk);
	const struct tapsec_engine_ops *e = tapsec_ctx_engine(ctx, sk);

	if (level == SOL_TAPSEC && ctx && e->option(ctx, optname, false))
		return tapsec_ctx_engine_getsockopt(sk, ctx, e, optname, optval,
						    optlen);
	if (level == SOL_TAPSEC)
		return tapsec_ctx_getsockopt(ctx, optname, optval, optlen);
	return tapsec_passthru_check(ctx, level, optname, false) ?:
	       dgram_base_prot[fam]->getsockopt(sk, level, optname, optval,
						optlen);
}

/*
 * The socket's last moment, whatever proto and ops it ended with: the
 * context leaves its namespace's list and is freed here, so that it can
 * never outlive its socket.  ->destroy stopped the engine before, in
 * process context; should it not have run, what it would have unhooked
 * is unhooked here.
 */
static void tapsec_dgram_destruct(struct sock *sk)
{
	struct tapsec_ctx *ctx = tapsec_dgram_ctx(sk);
	void (*saved)(struct sock *sk) = ctx->saved_destruct;

	rcu_assign_sk_user_data(sk, NULL);
	tapsec_engine_of(ctx)->unhook(ctx);
	tapsec_ctx_free(ctx);
	if (saved)
		saved(sk);
}

static int tapsec_dgram_init_sock(struct sock *sk)
{
	int fam = tapsec_family_index(sk->sk_family);
	struct tapsec_ctx *ctx;
	int err;

	sk->sk_protocol = IPPROTO_UDP;
	if (dgram_base_prot[fam]->init) {
		err = dgram_base_prot[fam]->init(sk);
		if (err)
			return err;
	}
	ctx = tapsec_ctx_alloc(sk, GFP_KERNEL, TAPSEC_PROTO_NONE,
			       TAPSEC_ORIGIN_SOCKET);
	if (!ctx)
		return -ENOMEM;
	rcu_assign_sk_user_data(sk, ctx);
	ctx->saved_destruct = sk->sk_destruct;
	sk->sk_destruct = tapsec_dgram_destruct;
	return 0;
}

/* UDP's destroy, then the engine's timers and hooks stop. */
static void tapsec_dgram_destroy_sock(struct sock *sk)
{
	int fam = tapsec_family_index(sk->sk_family);
	struct tapsec_ctx *ctx = tapsec_dgram_ctx(sk);

	if (dgram_base_prot[fam]->destroy)
		dgram_base_prot[fam]->destroy(sk);
	if (ctx)
		tapsec_engine_of(ctx)->stop(ctx);
}

static void tapsec_dgram_build(int fam, struct proto *base,
			       const struct proto_ops *base_ops)
{
	struct proto *prot = &dgram_prot[fam];
	struct proto_ops *ops = &dgram_ops[fam];

	dgram_base_prot[fam] = base;
	*prot = *base;
	strscpy(prot->name, fam == TAPSEC_INET ? "TAPSEC-UDP" : "TAPSEC-UDPv6",
		sizeof(prot->name));
	prot->owner = THIS_MODULE;
	prot->init = tapsec_dgram_init_sock;
	prot->destroy = tapsec_dgram_destroy_sock;
	prot->sendmsg = tapsec_dgram_sendmsg;
	prot->recvmsg = tapsec_dgram_recvmsg;
	prot->setsockopt = tapsec_dgram_setsockopt;
	prot->getsockopt = tapsec_dgram_getsockopt;
#if TAPSEC_HAVE_SENDPAGE
	prot->sendpage = tapsec_dgram_sendpage;
#endif
#ifdef CONFIG_BPF_SYSCALL
	/* sockmap would put UDP's own proto back: not in a map. */
	prot->psock_update_sk_prot = NULL;
#endif

	dgram_base_ops[fam] = base_ops;
	*ops = *base_ops;
	ops->poll = tapsec_dgram_poll;
	ops->connect = tapsec_dgram_connect;
	ops->listen = tapsec_dgram_listen;
	ops->accept = tapsec_dgram_accept;
	ops->shutdown = tapsec_dgram_shutdown;
	ops->release = tapsec_dgram_release;
	/* Keep datagrams away from sockmap and in-kernel readers. */
	ops->read_skb = NULL;
	ops->splice_read = NULL;

	dgram_protosw[fam] = (struct inet_protosw) {
		.type = SOCK_DGRAM,
		.protocol = IPPROTO_TAPSEC,
		.prot = prot,
		.ops = ops,
		.flags = 0,
	};
}

/**
 * tapsec_dgram_has_inet6() - whether AF_INET6 datagram sockets are offered
 *
 * Return: true when registered.
 */
bool tapsec_dgram_has_inet6(void)
{
	return dgram_registered[TAPSEC_INET6];
}

/**
 * tapsec_dgram_init() - register datagram sockets
 *
 * Return: 0 or a negative errno.
 */
int tapsec_dgram_init(void)
{
	const struct proto_ops *ops;
	struct proto *base;
	int err;

	err = tapsec_inet_base(AF_INET, SOCK_DGRAM, &base, &ops);
	if (err)
		return err;
	tapsec_dgram_build(TAPSEC_INET, base, ops);
	if (!tapsec_inet_base(AF_INET6, SOCK_DGRAM, &base, &ops))
		tapsec_dgram_build(TAPSEC_INET6, base, ops);

	inet_register_protosw(&dgram_protosw[TAPSEC_INET]);
	dgram_registered[TAPSEC_INET] = true;
	if (dgram_base_prot[TAPSEC_INET6]) {
		err = inet6_register_protosw(&dgram_protosw[TAPSEC_INET6]);
		if (err) {
			tapsec_dgram_exit();
			return err;
		}
		dgram_registered[TAPSEC_INET6] = true;
	}
	return 0;
}

/**
 * tapsec_dgram_exit() - unregister datagram sockets
 */
void tapsec_dgram_exit(void)
{
	if (dgram_registered[TAPSEC_INET6])
		inet6_unregister_protosw(&dgram_protosw[TAPSEC_INET6]);
	if (dgram_registered[TAPSEC_INET])
		inet_unregister_protosw(&dgram_protosw[TAPSEC_INET]);
	dgram_registered[TAPSEC_INET6] = false;
	dgram_registered[TAPSEC_INET] = false;
}
