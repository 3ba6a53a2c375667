/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec: declarations shared between the module's files.
 *
 * Each file owns one concern:
 *   tapsec_main.c     module init/exit, module aliases, feature bits
 *   tapsec_ctx.c      per-socket context, per-netns accounting, SOL_TAPSEC
 *   tapsec_inet.c     discovery of the kernel's TCP/UDP protos and ops
 *   tapsec_passthru.c what tapsec sockets refuse to pass to TCP/UDP/IPv6
 *   tapsec_stream.c   SOCK_STREAM sockets and the TCP ULP
 *   tapsec_dgram.c    SOCK_DGRAM sockets
 *   tapsec_netlink.c  the "tapsec" generic netlink family
 *   tapsec_handshake.c handshakes delegated to tapsec-handshaked
 *   tapsec_psk.c      per-netns store of external pre-shared keys
 *   tapsec_engines.c  the engine table (tapsec_engine.h): the glue above
 *                     calls the engines below only through it
 *   tapsec_aead.c     record core: AEAD keys, nonces, sequence numbers
 *   tapsec_tls.c      TLS engine: keys, lifecycle, close_notify
 *   tapsec_tls_tx.c   TLS engine: records on transmit
 *   tapsec_tls_rx.c   TLS engine: records on receive
 *   tapsec_tls13.c    TLS 1.3 secrets, KeyUpdate, exporters
 *   tapsec_tls_limits.c  key limits: records, bytes, age (expiration)
 *   tapsec_replay.c   anti-replay window of the datagram engines
 *   tapsec_dtls.c     DTLS engine: keys, epochs, options
 *   tapsec_dtls_rec.c DTLS engine: sealing and opening records
 *   tapsec_dtls_io.c  DTLS engine: sendmsg, recvmsg, close_notify
 *   tapsec_dtls_server.c DTLS listeners: cookies, accept()
 *   tapsec_dtls13.c   DTLS 1.3 KeyUpdate and ACK
 *   tapsec_dtls_cid.c DTLS 1.3 connection IDs: a listener hands records on
 *   tapsec_dtls_path.c DTLS peers that move: rate limit, return routability
 *   tapsec_dtls_flight.c DTLS 1.2: a handshake's last flight, sent again
 *   tapsec_fault.c    fault point for allocation failure tests
 */
#ifndef _TAPSEC_H
#define _TAPSEC_H

#include <linux/types.h>
#include <linux/rcupdate.h>
#include <linux/sockptr.h>
#include <net/sock.h>
#include <net/inet_connection_sock.h>
#include <linux/tapsec.h>

/* TAPSEC_VERSION comes from the file VERSION (Kbuild). */

/* Index of an inet family in the per-family tables. */
enum tapsec_family {
	TAPSEC_INET,
	TAPSEC_INET6,
	TAPSEC_NFAMILIES,
};

#define TAPSEC_NR_COUNTERS	(sizeof(struct tapsec_counters) / sizeof(__u64))

/* Index of a field of struct tapsec_counters. */
#define TAPSEC_COUNTER(field)						\
	(offsetof(struct tapsec_counters, field) / sizeof(__u64))

struct tapsec_engine_ops;
struct mem_cgroup;
struct tapsec_hs;
struct genl_info;
struct netlink_callback;

/**
 * struct tapsec_ctx - tapsec state attached to one socket
 * @sk: the TCP or UDP socket this context protects
 * @protocol: record protocol, enum tapsec_record_proto
 * @origin: how the socket became a tapsec socket, enum tapsec_sock_origin
 * @state: enum tapsec_sock_state
 * @tx_version: TLS version of the transmit key, 0 without one
 * @tx_cipher: its TAPSEC_CIPHER_*
 * @rx_version: TLS version of the receive key, 0 without one
 * @rx_cipher: its TAPSEC_CIPHER_*
 * @tx_key_born: ktime_get_boottime_seconds() when the transmit key came
 *	in (installed or updated), for netlink dumps
 * @rcvlowat: SO_RCVLOWAT in plaintext bytes once a receive key is set;
 *	TCP's own sk_rcvlowat then stays 1 so that every arrival reaches
 *	the record layer
 * @engine: the record engine, chosen with the context (tapsec_engine.h)
 * @engine_priv: the engine's state, from the first option that needs it
 *	(a stream socket's first key) until the context is freed; only the
 *	engine looks inside
 * @hs: handshake parameters and state, once a handshake option is set
 * @node: in the namespace's list of sockets (netlink dumps)
 * @counters: struct tapsec_counters, as atomics
 * @rcu: frees the context after readers in softirq are done
 * @saved_destruct: a datagram socket's sk_destruct before tapsec's
 * @free_work: frees the engines in process context when the socket is
 *	destructed in softirq
 *
 * Stream sockets reach it through icsk_ulp_data, datagram sockets through
 * sk_user_data.  Fields change under the socket lock.
 */
struct tapsec_ctx {
	struct sock *sk;
	u32 protocol;
	u8 origin;
	u8 state;
	u16 tx_version;
	u16 tx_cipher;
	u16 rx_version;
	u16 rx_cipher;
	u64 tx_key_born;
	int rcvlowat;
	const struct tapsec_engine_ops *engine;
	void *engine_priv;
	struct tapsec_hs *hs;
	struct list_head node;
	atomic64_t counters[TAPSEC_NR_COUNTERS];
	struct rcu_head rcu;
	void (*saved_destruct)(struct sock *sk);
	struct work_struct free_work;
};

/**
 * tapsec_stream_ctx() - the context of a tapsec stream socket
 * @sk: a socket whose proto is tapsec's stream proto
 *
 * Return: the context, NULL when it could not be allocated.
 */
static inline struct tapsec_ctx *tapsec_stream_ctx(const struct sock *sk)
{
	return (__force struct tapsec_ctx *)inet_csk(sk)->icsk_ulp_data;
}

void tapsec_count(struct tapsec_ctx *ctx, unsigned int idx, u64 n);

/* Add @n to counter @field of the socket and of its namespace. */
#define TAPSEC_COUNT(ctx, field, n)					\
	tapsec_count(ctx, TAPSEC_COUNTER(field), n)

/* tapsec_ctx.c */
struct tapsec_ctx *tapsec_ctx_alloc(struct sock *sk, gfp_t gfp, u32 protocol,
				    u8 origin);
void tapsec_ctx_free(struct tapsec_ctx *ctx);
int tapsec_ctx_refuse(struct tapsec_ctx *ctx);
int tapsec_ctx_engine_setsockopt(struct sock *sk, struct tapsec_ctx *ctx,
				 const struct tapsec_engine_ops *e,
				 int optname, sockptr_t optval,
				 unsigned int optlen);
struct mem_cgroup *tapsec_charge_socket(const struct sock *sk);
void tapsec_charge_end(struct mem_cgroup *old);
int tapsec_ctx_engine_getsockopt(struct sock *sk, struct tapsec_ctx *ctx,
				 const struct tapsec_engine_ops *e,
				 int optname, char __user *optval,
				 int __user *optlen);
int tapsec_ctx_setsockopt(struct tapsec_ctx *ctx, int optname,
			  sockptr_t optval, unsigned int optlen);
int tapsec_ctx_getsockopt(struct tapsec_ctx *ctx, int optname,
			  char __user *optval, int __user *optlen);
int tapsec_copy_out(const void *val, int size, char __user *optval,
		    int __user *optlen);
u32 tapsec_net_sockets(const struct net *net);
u32 tapsec_total_sockets(void);
void tapsec_net_counters(const struct net *net, u64 *out);
void tapsec_ctx_counters(const struct tapsec_ctx *ctx, u64 *out);
int tapsec_net_walk(const struct net *net, unsigned long *pos,
		    int (*fn)(struct tapsec_ctx *ctx, void *arg), void *arg);
int tapsec_ctx_init(void);
void tapsec_ctx_exit(void);

/* tapsec_proc.c */
int tapsec_proc_init(void);
void tapsec_proc_exit(void);

/* tapsec_inet.c */
int tapsec_family_index(int family);
int tapsec_inet_base(int family, int type, struct proto **prot,
		     const struct proto_ops **ops);

/* tapsec_stream.c */
int tapsec_stream_init(void);
void tapsec_stream_exit(void);
bool tapsec_stream_has_inet6(void);
bool tapsec_stream_is(const struct socket *sock);

/* tapsec_dgram.c */
int tapsec_dgram_init(void);
void tapsec_dgram_exit(void);
bool tapsec_dgram_has_inet6(void);
bool tapsec_dgram_is(const struct socket *sock);
struct tapsec_ctx *tapsec_dgram_sock_ctx(const struct sock *sk);
int tapsec_dgram_base_sendmsg(struct sock *sk, struct msghdr *msg,
			      size_t len);
int tapsec_dgram_base_connect(struct socket *sock, struct sockaddr *addr,
			      int addr_len);
int tapsec_dgram_child_new(struct socket *sock, u32 proto,
			   struct socket **child);
int tapsec_dgram_child_graft(struct socket *sock, struct socket *child,
			     struct socket *newsock, struct sockaddr *peer,
			     int peer_len);
int tapsec_dgram_base_recvmsg(struct sock *sk, struct msghdr *msg,
			      size_t len, int flags, int *addr_len);

/* tapsec_dgram_io.c */
/* Bad datagrams a read that may not wait drops before it says EAGAIN. */
#define TAPSEC_DGRAM_DROP_BUDGET	64
int tapsec_dgram_dropped(struct sock *sk, unsigned int *dropped, long timeo);
int tapsec_dgram_xmit(struct sock *sk, const void *buf, u32 len, int flags,
		      struct sockaddr_storage *to, int to_len);
int tapsec_dgram_read(struct sock *sk, struct tapsec_ctx *ctx, u8 *buf,
		      u32 size, struct sockaddr_storage *from, int *from_len,
		      struct sk_buff **last);
int tapsec_dgram_raw_hello(u8 **hello, u32 hello_len, struct msghdr *msg,
			   size_t len, int flags);
int tapsec_dgram_deliver(struct msghdr *msg, size_t len, int flags,
			 const u8 *data, u32 data_len,
			 const struct sockaddr_storage *from, int from_len,
			 int *addr_len);
int tapsec_dgram_wait(struct sock *sk, struct mutex *lock, long *timeo,
		      struct sk_buff *last, struct sk_buff_head *extra,
		      int *err);

/* tapsec_passthru.c */
int tapsec_passthru_check(struct tapsec_ctx *ctx, int level, int optname,
			  bool set);
bool tapsec_ctx_committed(const struct tapsec_ctx *ctx);

/* tapsec_netlink.c */
int tapsec_netlink_init(void);
void tapsec_netlink_exit(void);
struct sk_buff *tapsec_nl_reply(struct genl_info *info, u8 cmd, void **hdr);
void *tapsec_nl_dump_put(struct sk_buff *skb, struct netlink_callback *cb,
			 u8 cmd);
int tapsec_nl_put_addr(struct sk_buff *msg, int attr, const struct sock *sk,
		       bool peer);
int tapsec_nl_handshake_ready(struct net *net, u32 pending);
void tapsec_nl_event(struct net *net, u32 type, u64 inode, int err,
		     const char *reason);

/* tapsec_handshake.c */
extern const struct nla_policy tapsec_hs_nl_policy[TAPSEC_A_HS_MAX + 1];
int tapsec_hs_init(void);
void tapsec_hs_exit(void);
bool tapsec_hs_delegated(const struct tapsec_ctx *ctx);
bool tapsec_hs_started(const struct tapsec_ctx *ctx);
int tapsec_hs_setsockopt(struct tapsec_ctx *ctx, int optname,
			 sockptr_t optval, unsigned int optlen);
int tapsec_hs_getsockopt(struct tapsec_ctx *ctx, int optname,
			 char __user *optval, int __user *optlen);
int tapsec_hs_connect(struct socket *sock, struct tapsec_ctx *ctx, int tcp_err);
int tapsec_hs_accept(struct tapsec_ctx *listener, struct tapsec_ctx *ctx,
		     struct socket *newsock, bool nonblock);
void tapsec_hs_close(struct tapsec_ctx *ctx);
void tapsec_hs_release(struct tapsec_ctx *ctx);
bool tapsec_hs_raw(const struct tapsec_ctx *ctx);
int tapsec_hs_wait_data(struct tapsec_ctx *ctx, bool nonblock);
int tapsec_hs_gate(struct tapsec_ctx *ctx, bool tx, bool nonblock);
__poll_t tapsec_hs_poll(const struct tapsec_ctx *ctx, __poll_t mask);
int tapsec_hs_may_install(const struct tapsec_ctx *ctx);
bool tapsec_hs_server(const struct tapsec_ctx *ctx);
int tapsec_hs_nl_accept(struct sk_buff *skb, struct genl_info *info);
int tapsec_hs_nl_done(struct sk_buff *skb, struct genl_info *info);

/* tapsec_psk.c */
extern const struct nla_policy tapsec_psk_nl_policy[TAPSEC_A_PSK_MAX + 1];
extern const struct nla_policy tapsec_psk_nl_del_policy[TAPSEC_A_PSK_MAX + 1];
int tapsec_psk_init(void);
void tapsec_psk_exit(void);
int tapsec_psk_nl_add(struct sk_buff *skb, struct genl_info *info);
int tapsec_psk_nl_del(struct sk_buff *skb, struct genl_info *info);
int tapsec_psk_nl_dump(struct sk_buff *skb, struct netlink_callback *cb);
int tapsec_psk_get(struct net *net, const char *identity,
		   const struct cred *cred, u8 *key, u32 *keylen, u32 *hash);

/* tapsec_fault.c */
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
bool tapsec_fail_alloc(void);
void tapsec_fault_init(void);
void tapsec_fault_exit(void);
#else
static inline bool tapsec_fail_alloc(void) { return false; }
static inline void tapsec_fault_init(void) { }
static inline void tapsec_fault_exit(void) { }
#endif

/* tapsec_main.c */
u64 tapsec_features(void);

#endif /* _TAPSEC_H */
