/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec: the datagram path of engines whose keys come as one security
 * association per direction, installed whole (ESP, WireGuard): no
 * handshake messages in the kernel, one packet per datagram.
 * tapsec_sa.c holds the state, the locks and buffers, key installation,
 * sendmsg, recvmsg and the engine-table members these engines share;
 * tapsec_sa_listen.c their listeners; an engine adds its key format,
 * its sealing and opening (struct tapsec_sa_ops) and its options.
 */
#ifndef _TAPSEC_SA_H
#define _TAPSEC_SA_H

#include <linux/mutex.h>
#include <linux/socket.h>
#include <net/sock.h>

#include "tapsec.h"
#include "tapsec_engine.h"
#include "tapsec_aead.h"

/* Each buffer holds a whole UDP datagram. */
#define TAPSEC_SA_BUF_LEN	65535
/* The largest key structure TAPSEC_TX/RX read back. */
#define TAPSEC_SA_KEY_OUT_MAX	64

struct tapsec_sa;

/**
 * struct tapsec_sa_ops - what an engine plugs into the shared SA path
 * @max_payload: the largest payload one send() carries (EMSGSIZE above)
 * @tx_data_off: where a payload goes in @sa->tx_buf, before sealing
 * @seal: seal the packet in @sa->tx_buf whose @plen payload bytes are at
 *	@tx_data_off, with @sa->tx; return the packet's length, or
 *	-EKEYEXPIRED when the key's counters are used up, or another errno
 * @seal_empty: seal a packet without payload in @sa->tx_buf (WireGuard's
 *	keepalive), as @seal does; NULL when the engine has none
 * @open: open the datagram of @len bytes in @sa->rx_buf with @sa->rx,
 *	counting what it drops; on success set @sa->data_off and
 *	@sa->data_len and return 0, else a negative errno (-ENODATA: a
 *	packet that carries no payload, dropped without a count)
 * @key_free: wipe and free a key of this engine
 * @key_id: a key's SPI or receiver index: what a packet names it by
 * @key_out: fill @out, the engine's key structure of @key_out_size
 *	bytes (zeroed), with a key as TAPSEC_TX/RX read it (@tx: the
 *	outbound one); the key bytes only when @with_key
 *	(TAPSEC_TX_KEY/RX_KEY)
 * @key_out_size: its size, at most TAPSEC_SA_KEY_OUT_MAX
 * @window: the default anti-replay window
 * @limits: the default TAPSEC_KEY_LIMITS of a socket
 * @make: allocate the engine's state of a socket (tapsec_sa_init() in it)
 * @listen: whether listen() may make @sa (NULL before the socket has
 *	engine state) a listener: 0 or a negative errno; NULL for an engine
 *	without listeners
 * @hello: whether a datagram of @len bytes at @buf may start a handshake
 *	at a listener: 0, or -EBADMSG to drop it
 * @inherit: give an accepted socket's state @child the engine's settings
 *	of the listener's @parent
 */
struct tapsec_sa_ops {
	u32 max_payload;
	u32 (*tx_data_off)(const struct tapsec_sa *sa);
	int (*seal)(struct sock *sk, struct tapsec_sa *sa, u32 plen);
	int (*seal_empty)(struct sock *sk, struct tapsec_sa *sa);
	int (*open)(struct tapsec_ctx *ctx, struct tapsec_sa *sa, u32 len);
	void (*key_free)(void *key);
	u32 (*key_id)(const void *key);
	void (*key_out)(const void *key, bool tx, bool with_key, void *out);
	size_t key_out_size;
	u32 window;
	struct tapsec_key_limits limits;
	struct tapsec_engine_state *(*make)(struct tapsec_ctx *ctx);
	int (*listen)(const struct tapsec_sa *sa);
	int (*hello)(const u8 *buf, u32 len);
	void (*inherit)(struct tapsec_sa *child, const struct tapsec_sa *parent);
};

struct tapsec_sa_listener;

/**
 * struct tapsec_sa - the head of an SA engine's state of one socket
 * @st: the head of every engine's state (tapsec_engine.h)
 * @ops: the engine's hooks
 * @ctx: the socket's context
 * @tx_lock: serialises senders and outbound key changes
 * @rx_lock: serialises readers (across waits) and inbound key changes
 * @tx: the outbound key (the engine's type), NULL until TAPSEC_TX
 * @rx: the inbound key, NULL until TAPSEC_RX
 * @rx_prev: the previous inbound key (TAPSEC_RX_PREV), of another id
 *	than @rx, or NULL
 * @rx_id: @rx's id (tapsec_sa_ops.key_id), read once at installation
 * @rx_prev_id: @rx_prev's
 * @rx_born: when @rx was installed (boot-time seconds)
 * @rx_prev_born: when @rx_prev was
 * @rx_max_age: TAPSEC_KEY_LIMITS' hard_seconds, which bounds inbound
 *	keys too (0: no bound)
 * @window: TAPSEC_REPLAY_WINDOW
 * @tx_use: what the outbound key sealed, and TAPSEC_KEY_LIMITS
 * @tx_closed: shutdown(SHUT_WR) was called: sends fail with EPIPE
 * @tx_buf: one packet being sealed
 * @rx_buf: one datagram as received, opened in place
 * @rx_from: its source address
 * @rx_from_len: its length
 * @opened: @rx_buf holds an opened packet whose payload is not read yet
 * @data_off: where that payload is in @rx_buf
 * @data_len: its length
 * @rx_more: @opened, for poll
 * @listener: listen() made this socket a listener (tapsec_sa_listen.c)
 * @hello: an accepted socket's first datagram, for the handshake daemon
 * @hello_len: its length
 *
 * An engine's state begins with this head (tapsec_sa_init()); what
 * follows is the engine's own.
 */
struct tapsec_sa {
	struct tapsec_engine_state st;
	const struct tapsec_sa_ops *ops;
	struct tapsec_ctx *ctx;
	struct mutex tx_lock;		/* senders, the outbound key */
	struct mutex rx_lock;		/* readers, the inbound key */
	void *tx;
	void *rx;
	void *rx_prev;
	u32 rx_id;
	u32 rx_prev_id;
	u64 rx_born;
	u64 rx_prev_born;
	u64 rx_max_age;
	u32 window;
	struct tapsec_key_use tx_use;
	bool tx_closed;
	u8 *tx_buf;
	u8 *rx_buf;
	struct sockaddr_storage rx_from;
	int rx_from_len;
	bool opened;
	u32 data_off;
	u32 data_len;
	bool rx_more;
	struct tapsec_sa_listener *listener;
	u8 *hello;
	u32 hello_len;
};

/**
 * tapsec_sa_of() - a socket's SA engine state, whichever engine made it
 * @ctx: the socket's context, or NULL
 *
 * Return: the state, NULL when there is none or it is not an SA
 * engine's.
 */
static inline struct tapsec_sa *tapsec_sa_of(const struct tapsec_ctx *ctx)
{
	struct tapsec_engine_state *st = ctx ? READ_ONCE(ctx->engine_priv) :
					       NULL;

	return st && st->ops->sa ? container_of(st, struct tapsec_sa, st) :
				   NULL;
}

/**
 * tapsec_sa_engine_state() - the SA state one engine made of a socket
 * @ctx: the socket's context, or NULL
 * @e: the engine
 *
 * Return: the state, NULL when there is none or another engine's.
 */
static inline struct tapsec_sa *
tapsec_sa_engine_state(const struct tapsec_ctx *ctx,
		       const struct tapsec_engine_ops *e)
{
	struct tapsec_engine_state *st = tapsec_engine_state(ctx, e);

	return st ? container_of(st, struct tapsec_sa, st) : NULL;
}

__sum16 tapsec_sa_udp_csum(u16 family, const void *saddr, const void *daddr,
			   const u8 *udp, u32 ulen);
void tapsec_sa_init(struct tapsec_sa *sa, const struct tapsec_engine_ops *e,
		    struct tapsec_ctx *ctx);
struct tapsec_sa *tapsec_sa_state(struct sock *sk, struct tapsec_ctx *ctx,
				  const struct tapsec_engine_ops *e,
				  struct tapsec_engine_state *(*make)(struct tapsec_ctx *ctx));
int tapsec_sa_set_key(struct sock *sk, struct tapsec_ctx *ctx,
		      struct tapsec_sa *sa, bool is_tx, void *key, u16 cipher);
void *tapsec_sa_rx_key(struct tapsec_sa *sa, u32 id);
bool tapsec_sa_option(const struct tapsec_ctx *ctx, int optname, bool set);
int tapsec_sa_setsockopt(struct sock *sk, struct tapsec_sa *sa, int optname,
			 sockptr_t optval, unsigned int optlen);
int tapsec_sa_getsockopt(struct tapsec_ctx *ctx,
			 const struct tapsec_engine_ops *e, int optname,
			 char __user *optval, int __user *optlen);

/* Engine-table members every SA engine uses as they are. */
int tapsec_sa_sendmsg(struct sock *sk, struct tapsec_ctx *ctx,
		      struct msghdr *msg, size_t len);
int tapsec_sa_recvmsg(struct sock *sk, struct tapsec_ctx *ctx,
		      struct msghdr *msg, size_t len, int flags,
		      int *addr_len);
__poll_t tapsec_sa_poll(struct sock *sk, const struct tapsec_ctx *ctx,
			__poll_t mask);
bool tapsec_sa_keyed(const struct tapsec_ctx *ctx, bool tx);
int tapsec_sa_shutdown_tx(struct sock *sk, struct tapsec_ctx *ctx, int flags);
void tapsec_sa_close(struct sock *sk, struct tapsec_ctx *ctx);
void tapsec_sa_raw_sent(struct sock *sk, struct tapsec_ctx *ctx,
			struct msghdr *msg, size_t len);
int tapsec_sa_raw_recvmsg(struct tapsec_ctx *ctx, struct msghdr *msg,
			  size_t len, int flags);
void tapsec_sa_raw_read(struct tapsec_ctx *ctx);
void tapsec_sa_reject_peer(struct sock *sk, struct tapsec_ctx *ctx);
int tapsec_sa_listen(struct socket *sock);
int tapsec_sa_accept(struct socket *sock, struct socket *newsock,
		     bool nonblock);
void tapsec_sa_stop(struct tapsec_ctx *ctx);
void tapsec_sa_free(struct tapsec_ctx *ctx);
void tapsec_sa_listener_free(struct tapsec_sa *sa);

/* The engine-table members every SA engine shares, in its initializer. */
#define TAPSEC_SA_ENGINE_MEMBERS			\
	.type		= SOCK_DGRAM,			\
	.sendmsg	= tapsec_sa_sendmsg,		\
	.recvmsg	= tapsec_sa_recvmsg,		\
	.raw_sent	= tapsec_sa_raw_sent,		\
	.raw_recvmsg	= tapsec_sa_raw_recvmsg,	\
	.raw_read	= tapsec_sa_raw_read,		\
	.poll		= tapsec_sa_poll,		\
	.keyed		= tapsec_sa_keyed,		\
	.shutdown_tx	= tapsec_sa_shutdown_tx,	\
	.close		= tapsec_sa_close,		\
	.reject_peer	= tapsec_sa_reject_peer,	\
	.listen		= tapsec_sa_listen,		\
	.accept		= tapsec_sa_accept,		\
	.stop		= tapsec_sa_stop,		\
	.unhook		= tapsec_sa_stop,		\
	.free		= tapsec_sa_free

#endif /* _TAPSEC_SA_H */
