/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec: the engine table.  A record engine (TLS, DTLS, ESP, WireGuard)
 * offers the socket glue (tapsec_stream.c, tapsec_dgram.c, tapsec_ctx.c,
 * tapsec_handshake.c) one struct tapsec_engine_ops; the glue calls the
 * engine only through it and never names an engine.  tapsec_engines.c
 * holds the table, indexed by TAPSEC_PROTO_*.
 */
#ifndef _TAPSEC_ENGINE_H
#define _TAPSEC_ENGINE_H

#include <linux/net.h>
#include <linux/poll.h>
#include <linux/sockptr.h>
#include <net/sock.h>

#include "tapsec.h"
#include "tapsec_compat.h"

/**
 * struct tapsec_engine_ops - what a record engine offers the socket glue
 * @proto: the TAPSEC_PROTO_* the engine carries, its index in the table
 * @type: SOCK_STREAM or SOCK_DGRAM, the sockets it serves
 * @versioned: its keys carry a protocol version (TLS, DTLS), which
 *	TAPSEC_VERSIONS bounds for the keys a handshake daemon installs
 * @option: whether the engine answers SOL_TAPSEC option @optname, to set
 *	(@set) or to read; the glue answers the others
 *	(tapsec_ctx_setsockopt(), tapsec_ctx_getsockopt())
 * @setsockopt: set an option @option claimed: keys, secrets, limits,
 *	parameters; for keys and secrets the glue has checked
 *	tapsec_hs_may_install() (tapsec_ctx_engine_setsockopt())
 * @getsockopt: read an option @option claimed
 * @sendmsg: seal and send application data
 * @recvmsg: receive and open records; @addr_len is a datagram engine's
 * @sendpage: sendpage() of kernels that have it (stream engines)
 * @splice_eof: the end of a splice(): seal what is pending (stream
 *	engines)
 * @raw_sent: the handshake daemon sent a datagram in clear on the socket
 *	(datagram engines: DTLS 1.2 keeps its last flight)
 * @raw_recvmsg: the handshake daemon reads in clear: a datagram the
 *	engine holds for it, or -ENOENT to read from the transport
 *	(datagram engines)
 * @raw_read: the daemon read a datagram in clear (datagram engines)
 * @poll: adjust the transport's poll mask; @ctx may be NULL
 * @keyed: whether the direction @tx (transmit) or receive has a key
 * @shutdown_tx: shutdown(SHUT_WR): say close_notify
 * @close: close(): close_notify while the socket is whole, then the
 *	engine's hooks go
 * @reject_peer: the application rejected the peer a handshake
 *	authenticated: tell it (an alert) before the socket errs
 * @listen: listen() where the protocol has listeners (datagram engines)
 * @accept: accept() of such a listener (datagram engines)
 * @diag: put the engine's part of a TCP socket's ULP diag info
 *	(INET_DIAG_ULP_INFO, what ss -ti shows), under RCU; may be NULL
 * @diag_size: the most @diag puts
 * @stop: ->destroy: stop timers and hooks, waiting for them (datagram
 *	engines)
 * @unhook: sk_destruct without ->destroy: take hooks out without
 *	waiting (datagram engines)
 * @free: wipe and free the engine's state, in process context after an
 *	RCU grace period; the state may be absent
 * @sa: the hooks of an engine built on the shared SA datagram path
 *	(tapsec_sa.h: ESP, WireGuard), whose state begins with a struct
 *	tapsec_sa; NULL for the others
 *
 * The engine keeps its state in tapsec_ctx.engine_priv, created on the
 * first option that needs it.  Members a glue never calls for the
 * engine's socket type may be NULL, as noted.
 */
struct tapsec_sa_ops;

struct tapsec_engine_ops {
	u32 proto;
	int type;
	bool versioned;
	bool (*option)(const struct tapsec_ctx *ctx, int optname, bool set);
	int (*setsockopt)(struct sock *sk, struct tapsec_ctx *ctx, int optname,
			  sockptr_t optval, unsigned int optlen);
	int (*getsockopt)(struct sock *sk, struct tapsec_ctx *ctx, int optname,
			  char __user *optval, int __user *optlen);
	int (*sendmsg)(struct sock *sk, struct tapsec_ctx *ctx,
		       struct msghdr *msg, size_t len);
	int (*recvmsg)(struct sock *sk, struct tapsec_ctx *ctx,
		       struct msghdr *msg, size_t len, int flags,
		       int *addr_len);
#if TAPSEC_HAVE_SENDPAGE
	int (*sendpage)(struct sock *sk, struct tapsec_ctx *ctx,
			struct page *page, int offset, size_t size, int flags);
#endif
	void (*splice_eof)(struct sock *sk, struct tapsec_ctx *ctx);
	void (*raw_sent)(struct sock *sk, struct tapsec_ctx *ctx,
			 struct msghdr *msg, size_t len);
	int (*raw_recvmsg)(struct tapsec_ctx *ctx, struct msghdr *msg,
			   size_t len, int flags);
	void (*raw_read)(struct tapsec_ctx *ctx);
	__poll_t (*poll)(struct sock *sk, const struct tapsec_ctx *ctx,
			 __poll_t mask);
	bool (*keyed)(const struct tapsec_ctx *ctx, bool tx);
	int (*shutdown_tx)(struct sock *sk, struct tapsec_ctx *ctx, int flags);
	void (*close)(struct sock *sk, struct tapsec_ctx *ctx);
	void (*reject_peer)(struct sock *sk, struct tapsec_ctx *ctx);
	int (*listen)(struct socket *sock);
	int (*accept)(struct socket *sock, struct socket *newsock,
		      bool nonblock);
	int (*diag)(const struct tapsec_ctx *ctx, struct sk_buff *skb);
	size_t (*diag_size)(const struct tapsec_ctx *ctx);
	void (*stop)(struct tapsec_ctx *ctx);
	void (*unhook)(struct tapsec_ctx *ctx);
	void (*free)(struct tapsec_ctx *ctx);
	const struct tapsec_sa_ops *sa;
};

/**
 * struct tapsec_engine_state - the head of every datagram engine's state
 * @ops: the engine that made it
 *
 * TAPSEC_PROTOCOL may move a datagram socket to another engine while the
 * socket has no engine state (tapsec_ctx.c).  A caller that read the old
 * engine just before must not take the new engine's state for its own:
 * datagram engines begin their state with this head, make it with
 * tapsec_ctx_make_state() and find it with tapsec_engine_state(), which
 * checks @ops.  A stream socket keeps the engine it was made with.
 */
struct tapsec_engine_state {
	const struct tapsec_engine_ops *ops;
};

/* tapsec_engines.c */
const struct tapsec_engine_ops *tapsec_engine_get(u32 proto);
const struct tapsec_engine_ops *tapsec_engine_for(u32 proto, int type);

/* tapsec_ctx.c */
struct tapsec_engine_state *
tapsec_ctx_make_state(struct sock *sk, struct tapsec_ctx *ctx,
		      const struct tapsec_engine_ops *e,
		      struct tapsec_engine_state *(*make)(struct tapsec_ctx *ctx));

/**
 * tapsec_engine_of() - a context's engine, which TAPSEC_PROTOCOL may change
 * @ctx: the context
 *
 * Return: the engine.
 */
static inline const struct tapsec_engine_ops *
tapsec_engine_of(const struct tapsec_ctx *ctx)
{
	return READ_ONCE(ctx->engine);
}

/**
 * tapsec_ctx_engine() - the engine a socket's calls go to
 * @ctx: the socket's context, or NULL when it could not be allocated
 * @sk: the socket
 *
 * Return: the context's engine; without a context, the one of the
 * socket's type, whose members accept a NULL context where noted.
 */
static inline const struct tapsec_engine_ops *
tapsec_ctx_engine(const struct tapsec_ctx *ctx, const struct sock *sk)
{
	return ctx ? tapsec_engine_of(ctx) :
		     tapsec_engine_for(TAPSEC_PROTO_NONE, sk->sk_type);
}

/**
 * tapsec_engine_state() - an engine's state of a datagram socket
 * @ctx: the socket's context, or NULL
 * @e: the engine asking
 *
 * Return: the state @e made, NULL when there is none or another engine's.
 */
static inline struct tapsec_engine_state *
tapsec_engine_state(const struct tapsec_ctx *ctx,
		    const struct tapsec_engine_ops *e)
{
	struct tapsec_engine_state *st = ctx ? READ_ONCE(ctx->engine_priv) :
					       NULL;

	return st && st->ops == e ? st : NULL;
}

/**
 * tapsec_engine_active() - whether a socket carries its engine's protocol
 * @ctx: the socket's context, or NULL
 *
 * A datagram socket has an engine from the start but carries no records
 * until TAPSEC_PROTOCOL selects the engine's protocol.
 *
 * Return: true when it does.
 */
static inline bool tapsec_engine_active(const struct tapsec_ctx *ctx)
{
	return ctx && READ_ONCE(ctx->protocol) == tapsec_engine_of(ctx)->proto;
}

/* The engines of this build, for tapsec_engines.c: nobody else names them. */
extern const struct tapsec_engine_ops tapsec_tls_engine_ops;
extern const struct tapsec_engine_ops tapsec_dtls_engine_ops;
extern const struct tapsec_engine_ops tapsec_esp_engine_ops;
extern const struct tapsec_engine_ops tapsec_wg_engine_ops;

#endif /* _TAPSEC_ENGINE_H */
