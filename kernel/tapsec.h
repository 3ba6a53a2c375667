/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec: declarations shared between the module's files.
 *
 * Each file owns one concern:
 *   tapsec_main.c     module init/exit, module aliases, feature bits
 *   tapsec_ctx.c      per-socket context, per-netns accounting, SOL_TAPSEC
 *   tapsec_inet.c     discovery of the kernel's TCP/UDP protos and ops
 *   tapsec_stream.c   SOCK_STREAM sockets and the TCP ULP
 *   tapsec_dgram.c    SOCK_DGRAM sockets
 *   tapsec_netlink.c  the "tapsec" generic netlink family
 */
#ifndef _TAPSEC_H
#define _TAPSEC_H

#include <linux/types.h>
#include <linux/rcupdate.h>
#include <linux/sockptr.h>
#include <net/sock.h>
#include <linux/tapsec.h>

#define TAPSEC_VERSION	"0.1.0"

/* Index of an inet family in the per-family tables. */
enum tapsec_family {
	TAPSEC_INET,
	TAPSEC_INET6,
	TAPSEC_NFAMILIES,
};

/**
 * struct tapsec_ctx - tapsec state attached to one socket
 * @sk: the TCP or UDP socket this context protects
 * @protocol: record protocol, enum tapsec_record_proto
 * @origin: how the socket became a tapsec socket, enum tapsec_sock_origin
 * @state: enum tapsec_sock_state
 * @refused_nokey: data calls refused because no key is installed
 * @rcu: frees the context after readers in softirq are done
 *
 * Stream sockets reach it through icsk_ulp_data, datagram sockets through
 * sk_user_data.  Fields change under the socket lock.
 */
struct tapsec_ctx {
	struct sock *sk;
	u32 protocol;
	u8 origin;
	u8 state;
	atomic64_t refused_nokey;
	struct rcu_head rcu;
};

/* tapsec_ctx.c */
struct tapsec_ctx *tapsec_ctx_alloc(struct sock *sk, gfp_t gfp, u32 protocol,
				    u8 origin);
void tapsec_ctx_free(struct tapsec_ctx *ctx);
int tapsec_ctx_refuse(struct tapsec_ctx *ctx);
int tapsec_ctx_setsockopt(struct tapsec_ctx *ctx, int optname,
			  sockptr_t optval, unsigned int optlen);
int tapsec_ctx_getsockopt(struct tapsec_ctx *ctx, int optname,
			  char __user *optval, int __user *optlen);
u32 tapsec_net_sockets(const struct net *net);
u32 tapsec_total_sockets(void);
int tapsec_ctx_init(void);
void tapsec_ctx_exit(void);

/* tapsec_inet.c */
int tapsec_family_index(int family);
int tapsec_inet_base(int family, int type, struct proto **prot,
		     const struct proto_ops **ops);

/* tapsec_stream.c */
int tapsec_stream_init(void);
void tapsec_stream_exit(void);
bool tapsec_stream_has_inet6(void);

/* tapsec_dgram.c */
int tapsec_dgram_init(void);
void tapsec_dgram_exit(void);
bool tapsec_dgram_has_inet6(void);

/* tapsec_netlink.c */
int tapsec_netlink_init(void);
void tapsec_netlink_exit(void);

/* tapsec_main.c */
u64 tapsec_features(void);

#endif /* _TAPSEC_H */
