// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: SOCK_STREAM sockets (TLS over TCP) and the "tapsec" TCP ULP.
 *
 * Both entry points end in the same place: a TCP socket whose sk_prot and
 * socket ops are tapsec's copies of the kernel's TCP ones, with a
 * struct tapsec_ctx in icsk_ulp_data and icsk_ulp_ops set to the tapsec ULP.
 *
 *  - socket(AF_INET[6], SOCK_STREAM, IPPROTO_TAPSEC): inet_create() allocates
 *    the socket with tapsec's proto; its ->init runs TCP's and attaches the
 *    context.  sk_protocol is set to IPPROTO_TCP: the IP layer writes it into
 *    every header, and TCP code relies on it.
 *  - setsockopt(SOL_TCP, TCP_ULP, "tapsec") on an established TCP socket:
 *    the ULP's ->init attaches the context and swaps proto and ops.
 *
 * Children accepted from a tapsec listener are cloned by TCP with the
 * listener's proto; the ULP's ->clone gives each its own context.
 *
 * The data path (sendmsg, recvmsg, sendpage, splice_eof, poll, shutdown,
 * close) goes to the socket's engine through the engine table,
 * tapsec_engine.h.  A stream socket keeps the engine its context was
 * made with (TAPSEC_PROTOCOL takes only TLS), so ctx->engine is read
 * plainly here.
 */
#include <linux/module.h>
#include <net/inet_connection_sock.h>
#include <net/tcp.h>
#include <net/protocol.h>
#include <net/ipv6.h>

#include "tapsec.h"
#include "tapsec_compat.h"
#include "tapsec_engine.h"

static struct proto *stream_base_prot[TAPSEC_NFAMILIES] __ro_after_init;
static const struct proto_ops *stream_base_ops[TAPSEC_NFAMILIES] __ro_after_init;
static struct proto stream_prot[TAPSEC_NFAMILIES] __ro_after_init;
/* Built from the kernel's ops at init, read only afterwards. */
static struct proto_ops stream_ops[TAPSEC_NFAMILIES] __ro_after_init;
static struct inet_protosw stream_protosw[TAPSEC_NFAMILIES];
static bool stream_registered[TAPSEC_NFAMILIES];

static int tapsec_stream_sendmsg(struct sock *sk, struct msghdr *msg,
				 size_t size)
{
	struct tapsec_ctx *ctx = tapsec_stream_ctx(sk);
	int fam = tapsec_family_index(sk->sk_family);
	int err;

	if (!ctx)
		return tapsec_ctx_refuse(ctx);
	err = tapsec_hs_gate(ctx, true, msg->msg_flags & MSG_DONTWAIT);
	if (err > 0)
		return stream_base_prot[fam]->sendmsg(sk, msg, size);
	if (err)
		return err;
	return ctx->engine->sendmsg(sk, ctx, msg, size);
}

static int tapsec_stream_recvmsg(struct sock *sk, struct msghdr *msg,
				 size_t len, int flags, int *addr_len)
{
	struct tapsec_ctx *ctx = tapsec_stream_ctx(sk);
	int fam = tapsec_family_index(sk->sk_family);
	int err;

	if (!ctx)
		return tapsec_ctx_refuse(ctx);
	err = tapsec_hs_gate(ctx, false, flags & MSG_DONTWAIT);
	if (err > 0)
		return stream_base_prot[fam]->recvmsg(sk, msg, len, flags,
						      addr_len);
	if (err)
		return err;
	return ctx->engine->recvmsg(sk, ctx, msg, len, flags, addr_len);
}

#if TAPSEC_HAVE_SENDPAGE
static int tapsec_stream_sendpage(struct sock *sk, struct page *page,
				  int offset, size_t size, int flags)
{
	struct tapsec_ctx *ctx = tapsec_stream_ctx(sk);

	if (!ctx)
		return tapsec_ctx_refuse(ctx);
	return ctx->engine->sendpage(sk, ctx, page, offset, size, flags);
}
#endif

static void tapsec_stream_splice_eof(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct tapsec_ctx *ctx = tapsec_stream_ctx(sk);
	int fam = tapsec_family_index(sk->sk_family);

	if (ctx)
		ctx->engine->splice_eof(sk, ctx);
	if (stream_base_prot[fam]->splice_eof)
		stream_base_prot[fam]->splice_eof(sock);
}

static void tapsec_stream_close(struct sock *sk, long timeout)
{
	struct tapsec_ctx *ctx = tapsec_stream_ctx(sk);
	int fam = tapsec_family_index(sk->sk_family);

	if (ctx) {
		tapsec_hs_close(ctx);
		ctx->engine->close(sk, ctx);
		tapsec_nl_event(sock_net(sk), TAPSEC_EVENT_CLOSED,
				sock_i_ino(sk), 0, NULL);
	}
	stream_base_prot[fam]->close(sk, timeout);
}

static int tapsec_stream_setsockopt(struct sock *sk, int level, int optname,
				    sockptr_t optval, unsigned int optlen)
{
	struct tapsec_ctx *ctx = tapsec_stream_ctx(sk);
	int fam = tapsec_family_index(sk->sk_family);

	if (level != SOL_TAPSEC)
		return tapsec_passthru_check(ctx, level, optname, true) ?:
		       stream_base_prot[fam]->setsockopt(sk, level, optname,
							optval, optlen);
	if (ctx && ctx->engine->option(ctx, optname, true))
		return tapsec_ctx_engine_setsockopt(sk, ctx, ctx->engine,
						    optname, optval, optlen);
	return tapsec_ctx_setsockopt(ctx, optname, optval, optlen);
}

static int tapsec_stream_getsockopt(struct sock *sk, int level, int optname,
				    char __user *optval, int __user *optlen)
{
	struct tapsec_ctx *ctx = tapsec_stream_ctx(sk);
	int fam = tapsec_family_index(sk->sk_family);

	if (level != SOL_TAPSEC)
		return tapsec_passthru_check(ctx, level, optname, false) ?:
		       stream_base_prot[fam]->getsockopt(sk, level, optname,
							optval, optlen);
	if (ctx && ctx->engine->option(ctx, optname, false))
		return tapsec_ctx_engine_getsockopt(sk, ctx, ctx->engine,
						    optname, optval, optlen);
	return tapsec_ctx_getsockopt(ctx, optname, optval, optlen);
}

/* The engine says when the reader has data (or news). */
static __poll_t tapsec_stream_poll(struct file *file, struct socket *sock,
				   poll_table *wait)
{
	struct sock *sk = sock->sk;
	int fam = tapsec_family_index(sk->sk_family);
	__poll_t mask = stream_base_ops[fam]->poll(file, sock, wait);
	struct tapsec_ctx *ctx = tapsec_stream_ctx(sk);

	mask = tapsec_ctx_engine(ctx, sk)->poll(sk, ctx, mask);
	/* Last: a handshake (or a verdict) under way withholds readiness. */
	if (tapsec_hs_delegated(ctx))
		mask = tapsec_hs_poll(ctx, mask);
	return mask;
}

/* SO_RCVLOWAT: see tapsec_ctx.rcvlowat. */
static int tapsec_stream_set_rcvlowat(struct sock *sk, int val)
{
	struct tapsec_ctx *ctx = tapsec_stream_ctx(sk);
	int fam = tapsec_family_index(sk->sk_family);

	if (ctx)
		WRITE_ONCE(ctx->rcvlowat, val ?: 1);
	if (ctx && ctx->engine->keyed(ctx, false))
		return 0;
	if (stream_base_ops[fam]->set_rcvlowat)
		return stream_base_ops[fam]->set_rcvlowat(sk, val);
	WRITE_ONCE(sk->sk_rcvlowat, val ?: 1);
	return 0;
}

/*
 * shutdown(SHUT_WR) says close_notify before TCP's FIN.
 *
 * A peer that has closed its socket answers the close_notify with a
 * reset, and over loopback or veth that reset is processed before this
 * call gets to TCP's shutdown, which would then see TCP_CLOSE and fail
 * with ENOTCONN.  A plain TCP socket in the state this one was in when
 * shutdown() was called (say CLOSE_WAIT) succeeds, and so does this:
 * the reset is reported by the next call on the socket (EPIPE), as TCP
 * reports one that arrives after its FIN.
 */
static int tapsec_stream_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	int fam = tapsec_family_index(sk->sk_family);
	struct tapsec_ctx *ctx = tapsec_stream_ctx(sk);
	bool was_open = false;
	int err;

	if (ctx && (how == SHUT_WR || how == SHUT_RDWR)) {
		int flags = sock->file && (sock->file->f_flags & O_NONBLOCK) ?
			    MSG_DONTWAIT : 0;

		was_open = (1 << READ_ONCE(sk->sk_state)) &
			   (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT);
		ctx->engine->shutdown_tx(sk, ctx, flags);
	}
	err = stream_base_ops[fam]->shutdown(sock, how);
	if (err == -ENOTCONN && was_open)
		err = 0;
	return err;
}

/*
 * connect(): TCP's, then the delegated handshake if there is one.  As with
 * kTLS, AF_UNSPEC (TCP's disconnect) is refused once keys or a handshake
 * tie the socket to its peer: the socket would go to another one with
 * this one's keys and half-sent records.
 */
static int tapsec_stream_connect(struct socket *sock, struct sockaddr *uaddr,
				 int addr_len, int flags)
{
	struct sock *sk = sock->sk;
	struct tapsec_ctx *ctx = tapsec_stream_ctx(sk);
	int fam = tapsec_family_index(sk->sk_family);
	int err;

	if (addr_len >= (int)sizeof(uaddr->sa_family) &&
	    uaddr->sa_family == AF_UNSPEC && tapsec_ctx_committed(ctx))
		return -EOPNOTSUPP;
	err = stream_base_ops[fam]->connect(sock, uaddr, addr_len, flags);
	if (!tapsec_hs_delegated(ctx))
		return err;
	return tapsec_hs_connect(sock, ctx, err);
}

/* accept(): TCP's, then the child's delegated handshake. */
static int tapsec_stream_accepted(struct socket *sock, struct socket *newsock,
				  int err, bool nonblock)
{
	struct tapsec_ctx *ctx = tapsec_stream_ctx(sock->sk);

	if (err || !tapsec_hs_delegated(ctx))
		return err;
	return tapsec_hs_accept(ctx, tapsec_stream_ctx(newsock->sk), newsock,
				nonblock);
}

#if TAPSEC_HAVE_ACCEPT_ARG
static int tapsec_stream_accept(struct socket *sock, struct socket *newsock,
				struct proto_accept_arg *arg)
{
	int fam = tapsec_family_index(sock->sk->sk_family);
	int err = stream_base_ops[fam]->accept(sock, newsock, arg);

	return tapsec_stream_accepted(sock, newsock, err,
				      arg->flags & O_NONBLOCK);
}
#else
static int tapsec_stream_accept(struct socket *sock, struct socket *newsock,
				int flags, bool kern)
{
	int fam = tapsec_family_index(sock->sk->sk_family);
	int err = stream_base_ops[fam]->accept(sock, newsock, flags, kern);

	return tapsec_stream_accepted(sock, newsock, err, flags & O_NONBLOCK);
}
#endif

/**
 * tapsec_stream_is() - whether a socket is a tapsec stream socket
 * @sock: the socket
 *
 * Return: true when its ops are tapsec's.
 */
bool tapsec_stream_is(const struct socket *sock)
{
	return sock->ops == &stream_ops[TAPSEC_INET] ||
	       sock->ops == &stream_ops[TAPSEC_INET6];
}

static struct tcp_ulp_ops tapsec_ulp_ops;

/* Attach a new context to a socket that has none. */
static int tapsec_stream_attach(struct sock *sk, u8 origin, gfp_t gfp)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct tapsec_ctx *ctx;

	/* A stream socket carries its engine's records from the start. */
	ctx = tapsec_ctx_alloc(sk, gfp,
			       tapsec_engine_for(TAPSEC_PROTO_NONE,
						 SOCK_STREAM)->proto, origin);
	if (!ctx)
		return -ENOMEM;
	rcu_assign_pointer(icsk->icsk_ulp_data, ctx);
	return 0;
}

/*
 * Module references.  tapsec's protos have owner THIS_MODULE, so sk_alloc()
 * and sk_clone_lock() take a reference for sk_prot_creator.  But TIME_WAIT
 * sockets keep sk_prot_creator, and would pin the module for a minute after
 * every connection.  So once the ULP is attached, sk_prot_creator becomes
 * the kernel's TCP proto and the reference passes to the ULP, which
 * tcp_cleanup_ulp() drops when the socket is destroyed; by then
 * tapsec_ulp_release() has put the kernel's proto back in sk_prot, and
 * nothing refers to module memory any more.  This is where a TCP_ULP
 * socket (kTLS's too) stands from the start.
 */
static void tapsec_stream_adopt(struct sock *sk, int fam)
{
	sk->sk_prot_creator = stream_base_prot[fam];
	inet_csk(sk)->icsk_ulp_ops = &tapsec_ulp_ops;
}

/* ->init of tapsec's proto: socket(..., SOCK_STREAM, IPPROTO_TAPSEC). */
static int tapsec_stream_init_sock(struct sock *sk)
{
	int fam = tapsec_family_index(sk->sk_family);
	int err;

	sk->sk_protocol = IPPROTO_TCP;
	err = stream_base_prot[fam]->init(sk);
	if (err)
		return err;
	err = tapsec_stream_attach(sk, TAPSEC_ORIGIN_SOCKET, GFP_KERNEL);
	if (err)
		return err;
	tapsec_stream_adopt(sk, fam);
	return 0;
}

/* ->init of the ULP: TCP_ULP "tapsec" on an existing TCP socket. */
static int tapsec_ulp_init(struct sock *sk)
{
	int fam = tapsec_family_index(sk->sk_family);
	int err;

	if (fam < 0 || !stream_registered[fam])
		return -EAFNOSUPPORT;
	/* Another layer (sockmap, ...) owns the proto: do not stack. */
	if (sk->sk_prot != stream_base_prot[fam])
		return -EOPNOTSUPP;
	/* As with kTLS: upgrade after the TCP handshake, not before. */
	if (sk->sk_state != TCP_ESTABLISHED)
		return -ENOTCONN;

	err = tapsec_stream_attach(sk, TAPSEC_ORIGIN_ULP, GFP_KERNEL);
	if (err)
		return err;
	WRITE_ONCE(sk->sk_prot, &stream_prot[fam]);
	if (sk->sk_socket)
		WRITE_ONCE(sk->sk_socket->ops, &stream_ops[fam]);
	return 0;
}

/* Called from the socket's ->destroy; the module reference goes next. */
static void tapsec_ulp_release(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct tapsec_ctx *ctx = tapsec_stream_ctx(sk);
	int fam = tapsec_family_index(sk->sk_family);

	rcu_assign_pointer(icsk->icsk_ulp_data, NULL);
	tapsec_ctx_free(ctx);
	WRITE_ONCE(sk->sk_prot, stream_base_prot[fam]);
}

/*
 * A child of a tapsec listener: TCP copied the listener's icsk_ulp_data, so
 * give the child its own context, and pass the module reference its
 * sk_prot_creator took to the ULP (see tapsec_stream_adopt()).  If the
 * context cannot be allocated the child keeps no context and every data
 * call on it fails with ENOMEM: it never carries data in clear.
 */
static void tapsec_ulp_clone(const struct request_sock *req,
			     struct sock *newsk, const gfp_t priority)
{
	int fam = tapsec_family_index(newsk->sk_family);

	rcu_assign_pointer(inet_csk(newsk)->icsk_ulp_data, NULL);
	tapsec_stream_attach(newsk, TAPSEC_ORIGIN_ACCEPT, priority);
	tapsec_stream_adopt(newsk, fam);
}

/* ss -ti (INET_DIAG_ULP_INFO): the name TCP puts, then the engine's part. */
static int tapsec_ulp_get_info(struct sock *sk, struct sk_buff *skb)
{
	const struct tapsec_ctx *ctx;
	int err = 0;

	rcu_read_lock();
	ctx = rcu_dereference(inet_csk(sk)->icsk_ulp_data);
	if (ctx && ctx->engine->diag)
		err = ctx->engine->diag(ctx, skb);
	rcu_read_unlock();
	return err;
}

static size_t tapsec_ulp_get_info_size(const struct sock *sk)
{
	const struct tapsec_ctx *ctx;
	size_t size = 0;

	rcu_read_lock();
	ctx = rcu_dereference(inet_csk(sk)->icsk_ulp_data);
	if (ctx && ctx->engine->diag_size)
		size = ctx->engine->diag_size(ctx);
	rcu_read_unlock();
	return size;
}

static struct tcp_ulp_ops tapsec_ulp_ops __read_mostly = {
	.name = TAPSEC_ULP_NAME,
	.owner = THIS_MODULE,
	.init = tapsec_ulp_init,
	.release = tapsec_ulp_release,
	.clone = tapsec_ulp_clone,
	.get_info = tapsec_ulp_get_info,
	.get_info_size = tapsec_ulp_get_info_size,
};

static void tapsec_stream_build(int fam, struct proto *base,
				const struct proto_ops *base_ops)
{
	struct proto *prot = &stream_prot[fam];
	struct proto_ops *ops = &stream_ops[fam];

	stream_base_prot[fam] = base;
	stream_base_ops[fam] = base_ops;
	*prot = *base;
	strscpy(prot->name, fam == TAPSEC_INET ? "TAPSEC" : "TAPSECv6",
		sizeof(prot->name));
	prot->owner = THIS_MODULE;
	prot->init = tapsec_stream_init_sock;
	prot->close = tapsec_stream_close;
	prot->sendmsg = tapsec_stream_sendmsg;
	prot->recvmsg = tapsec_stream_recvmsg;
	prot->splice_eof = tapsec_stream_splice_eof;
	prot->setsockopt = tapsec_stream_setsockopt;
	prot->getsockopt = tapsec_stream_getsockopt;
#if TAPSEC_HAVE_SENDPAGE
	prot->sendpage = tapsec_stream_sendpage;
#endif
#ifdef CONFIG_BPF_SYSCALL
	/* sockmap would put TCP's own proto back: not in a map. */
	prot->psock_update_sk_prot = NULL;
#endif

	/*
	 * ops->owner stays the kernel's: the ULP path swaps ops on a live
	 * socket whose release would otherwise drop a module reference it
	 * never took.  The module is pinned by sk_prot_creator and the ULP.
	 */
	*ops = *base_ops;
	ops->poll = tapsec_stream_poll;
	ops->connect = tapsec_stream_connect;
	ops->accept = tapsec_stream_accept;
	ops->shutdown = tapsec_stream_shutdown;
	ops->set_rcvlowat = tapsec_stream_set_rcvlowat;
	/*
	 * Paths that would read or write the TCP stream around ->recvmsg and
	 * ->sendmsg: with these unset the socket layer falls back to
	 * ->recvmsg (splice), refuses (mmap, in-kernel users) or refuses
	 * insertion (sockmap needs ->read_skb).
	 */
	ops->splice_read = NULL;
	ops->mmap = sock_no_mmap;
	ops->read_sock = NULL;
	ops->read_skb = NULL;
	ops->sendmsg_locked = NULL;
#if TAPSEC_HAVE_SENDPAGE
	ops->sendpage_locked = NULL;
#endif

	stream_protosw[fam] = (struct inet_protosw) {
		.type = SOCK_STREAM,
		.protocol = IPPROTO_TAPSEC,
		.prot = prot,
		.ops = ops,
		.flags = INET_PROTOSW_ICSK,
	};
}

/**
 * tapsec_stream_has_inet6() - whether AF_INET6 stream sockets are offered
 *
 * Return: true when registered.
 */
bool tapsec_stream_has_inet6(void)
{
	return stream_registered[TAPSEC_INET6];
}

/**
 * tapsec_stream_init() - register stream sockets and the TCP ULP
 *
 * Return: 0 or a negative errno.
 */
int tapsec_stream_init(void)
{
	const struct proto_ops *ops;
	struct proto *base;
	int err;

	err = tapsec_inet_base(AF_INET, SOCK_STREAM, &base, &ops);
	if (err)
		return err;
	tapsec_stream_build(TAPSEC_INET, base, ops);

	/* IPv6 may be disabled at boot; IPv4 still works then. */
	if (!tapsec_inet_base(AF_INET6, SOCK_STREAM, &base, &ops))
		tapsec_stream_build(TAPSEC_INET6, base, ops);

	err = tcp_register_ulp(&tapsec_ulp_ops);
	if (err)
		return err;

	inet_register_protosw(&stream_protosw[TAPSEC_INET]);
	stream_registered[TAPSEC_INET] = true;
	if (stream_base_prot[TAPSEC_INET6]) {
		err = inet6_register_protosw(&stream_protosw[TAPSEC_INET6]);
		if (err) {
			tapsec_stream_exit();
			return err;
		}
		stream_registered[TAPSEC_INET6] = true;
	}
	return 0;
}

/**
 * tapsec_stream_exit() - unregister what tapsec_stream_init() registered
 */
void tapsec_stream_exit(void)
{
	if (stream_registered[TAPSEC_INET6])
		inet6_unregister_protosw(&stream_protosw[TAPSEC_INET6]);
	if (stream_registered[TAPSEC_INET])
		inet_unregister_protosw(&stream_protosw[TAPSEC_INET]);
	stream_registered[TAPSEC_INET6] = false;
	stream_registered[TAPSEC_INET] = false;
	tcp_unregister_ulp(&tapsec_ulp_ops);
}
