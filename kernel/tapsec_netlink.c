// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: the "tapsec" generic netlink family.
 *
 * The family is netns-aware: every answer describes the caller's network
 * namespace.  Commands that only read are open to everyone; commands that
 * change state carry GENL_UNS_ADMIN_PERM (CAP_NET_ADMIN in the user
 * namespace owning the network namespace).  Two multicast groups, which
 * only the same capability joins: "handshake" wakes the daemon, "events"
 * reports what happens to sockets.
 * Documentation/netlink/specs/tapsec.yaml is the specification of this file.
 */
#include <linux/in.h>
#include <linux/in6.h>
#include <net/genetlink.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <linux/timekeeping.h>

#include "tapsec.h"

static struct genl_family tapsec_genl_family;

enum tapsec_nl_groups {
	TAPSEC_NLGRP_HANDSHAKE,
	TAPSEC_NLGRP_EVENTS,
};

/*
 * Both groups name sockets, peers and failure reasons of the namespace,
 * and a listener on "handshake" stands for the daemon: only
 * CAP_NET_ADMIN in the namespace's user namespace joins them.
 */
static const struct genl_multicast_group tapsec_nl_mcgrps[] = {
	[TAPSEC_NLGRP_HANDSHAKE] = { .name = TAPSEC_MCGRP_HANDSHAKE,
				     .flags = GENL_MCAST_CAP_NET_ADMIN },
	[TAPSEC_NLGRP_EVENTS] = { .name = TAPSEC_MCGRP_EVENTS,
				  .flags = GENL_MCAST_CAP_NET_ADMIN },
};

/* Events that could not be delivered, not yet reported in an event. */
static atomic64_t tapsec_nl_events_lost = ATOMIC64_INIT(0);

/**
 * tapsec_nl_reply() - start a reply to a request
 * @info: the request
 * @cmd: the reply's command
 * @hdr: set to the message header, NULL if it does not fit
 *
 * Return: the message, NULL when out of memory.
 */
struct sk_buff *tapsec_nl_reply(struct genl_info *info, u8 cmd, void **hdr)
{
	struct sk_buff *msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);

	if (!msg)
		return NULL;
	*hdr = genlmsg_put_reply(msg, info, &tapsec_genl_family, 0, cmd);
	return msg;
}

/**
 * tapsec_nl_dump_put() - start one message of a dump
 * @skb: the dump's buffer
 * @cb: the dump's state
 * @cmd: the messages' command
 *
 * Return: the message header, NULL when the buffer is full.
 */
void *tapsec_nl_dump_put(struct sk_buff *skb, struct netlink_callback *cb,
			 u8 cmd)
{
	return genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
			   cb->nlh->nlmsg_seq, &tapsec_genl_family,
			   NLM_F_MULTI, cmd);
}

static int tapsec_nl_get_info(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct sk_buff *msg;
	void *hdr;

	msg = tapsec_nl_reply(info, TAPSEC_CMD_GET_INFO, &hdr);
	if (!msg)
		return -ENOMEM;
	if (!hdr)
		goto nla_failure;
	if (nla_put_string(msg, TAPSEC_A_VERSION, TAPSEC_VERSION) ||
	    nla_put_u32(msg, TAPSEC_A_API_VERSION, TAPSEC_GENL_VERSION) ||
	    nla_put_u64_64bit(msg, TAPSEC_A_FEATURES, tapsec_features(),
			      TAPSEC_A_PAD) ||
	    nla_put_u32(msg, TAPSEC_A_SOCKETS, tapsec_net_sockets(net)) ||
	    nla_put_u32(msg, TAPSEC_A_SOCKETS_TOTAL, tapsec_total_sockets()))
		goto nla_failure;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

nla_failure:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int tapsec_nl_put_stats(struct sk_buff *msg, int attr,
			       const u64 *counters)
{
	struct nlattr *nest = nla_nest_start(msg, attr);
	unsigned int i;

	/* One attribute per counter, in order, then the padding. */
	BUILD_BUG_ON(TAPSEC_A_STATS_TX_RECORDS + TAPSEC_NR_COUNTERS !=
		     TAPSEC_A_STATS_PAD);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < TAPSEC_NR_COUNTERS; i++)
		if (nla_put_u64_64bit(msg, TAPSEC_A_STATS_TX_RECORDS + i,
				      counters[i], TAPSEC_A_STATS_PAD))
			return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int tapsec_nl_get_stats(struct sk_buff *skb, struct genl_info *info)
{
	u64 counters[TAPSEC_NR_COUNTERS];
	struct sk_buff *msg;
	void *hdr;

	msg = tapsec_nl_reply(info, TAPSEC_CMD_GET_STATS, &hdr);
	if (!msg)
		return -ENOMEM;
	tapsec_net_counters(genl_info_net(info), counters);
	if (!hdr || tapsec_nl_put_stats(msg, TAPSEC_A_STATS, counters)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/**
 * tapsec_nl_put_addr() - put a socket's address as a sockaddr attribute
 * @msg: the message
 * @attr: attribute type
 * @sk: the socket
 * @peer: the peer's address rather than the local one
 *
 * Return: 0 or -EMSGSIZE.
 */
int tapsec_nl_put_addr(struct sk_buff *msg, int attr, const struct sock *sk,
		       bool peer)
{
	const struct inet_sock *inet = inet_sk(sk);
	struct sockaddr_in sin;

	if (sk->sk_family == AF_INET6) {
		struct sockaddr_in6 sin6 = {
			.sin6_family = AF_INET6,
			.sin6_port = peer ? inet->inet_dport : inet->inet_sport,
			.sin6_addr = peer ? sk->sk_v6_daddr :
					    sk->sk_v6_rcv_saddr,
		};

		return nla_put(msg, attr, sizeof(sin6), &sin6);
	}
	sin = (struct sockaddr_in) {
		.sin_family = AF_INET,
		.sin_port = peer ? inet->inet_dport : inet->inet_sport,
		.sin_addr.s_addr = peer ? inet->inet_daddr : inet->inet_rcv_saddr,
	};
	return nla_put(msg, attr, sizeof(sin), &sin);
}

struct tapsec_nl_dump {
	struct sk_buff *skb;
	struct netlink_callback *cb;
};

/* Called under the namespace's socket-list lock: nothing may sleep. */
static int tapsec_nl_put_sock(struct tapsec_ctx *ctx, void *arg)
{
	struct tapsec_nl_dump *d = arg;
	u64 counters[TAPSEC_NR_COUNTERS];
	struct sk_buff *skb = d->skb;
	struct sock *sk = ctx->sk;
	struct nlattr *nest;
	void *hdr;

	hdr = tapsec_nl_dump_put(skb, d->cb, TAPSEC_CMD_SOCK_GET);
	if (!hdr)
		return -EMSGSIZE;
	nest = nla_nest_start(skb, TAPSEC_A_SOCK);
	tapsec_ctx_counters(ctx, counters);
	if (!nest ||
	    nla_put_u64_64bit(skb, TAPSEC_A_SOCK_INODE, sock_i_ino(sk),
			      TAPSEC_A_SOCK_PAD) ||
	    nla_put_u16(skb, TAPSEC_A_SOCK_FAMILY, sk->sk_family) ||
	    nla_put_u16(skb, TAPSEC_A_SOCK_TYPE, sk->sk_type) ||
	    nla_put_u32(skb, TAPSEC_A_SOCK_STATE, READ_ONCE(ctx->state)) ||
	    nla_put_u32(skb, TAPSEC_A_SOCK_PROTOCOL, READ_ONCE(ctx->protocol)) ||
	    nla_put_u32(skb, TAPSEC_A_SOCK_ORIGIN, ctx->origin) ||
	    tapsec_nl_put_addr(skb, TAPSEC_A_SOCK_LOCAL, sk, false) ||
	    tapsec_nl_put_addr(skb, TAPSEC_A_SOCK_PEER, sk, true) ||
	    nla_put_u16(skb, TAPSEC_A_SOCK_TX_VERSION, READ_ONCE(ctx->tx_version)) ||
	    nla_put_u16(skb, TAPSEC_A_SOCK_TX_CIPHER, READ_ONCE(ctx->tx_cipher)) ||
	    nla_put_u16(skb, TAPSEC_A_SOCK_RX_VERSION, READ_ONCE(ctx->rx_version)) ||
	    nla_put_u16(skb, TAPSEC_A_SOCK_RX_CIPHER, READ_ONCE(ctx->rx_cipher)) ||
	    /* Every engine's transmit key has a cipher; not all a version. */
	    (READ_ONCE(ctx->tx_cipher) &&
	     nla_put_u64_64bit(skb, TAPSEC_A_SOCK_TX_KEY_AGE,
			       ktime_get_boottime_seconds() -
			       READ_ONCE(ctx->tx_key_born),
			       TAPSEC_A_SOCK_PAD)) ||
	    tapsec_nl_put_stats(skb, TAPSEC_A_SOCK_STATS, counters)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;
}

static int tapsec_nl_sock_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct tapsec_nl_dump d = { .skb = skb, .cb = cb };
	unsigned long pos = cb->args[0];
	int err;

	err = tapsec_net_walk(sock_net(skb->sk), &pos, tapsec_nl_put_sock, &d);
	cb->args[0] = pos;
	/* A full message ends this part of the dump; the next goes on. */
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

/**
 * tapsec_nl_handshake_ready() - tell the daemon that handshakes wait
 * @net: the namespace
 * @pending: how many
 *
 * Return: 0 when delivered, -ESRCH when nobody in @net listens on the
 * "handshake" group (or a listener's receive buffer was full and it did
 * not set NETLINK_BROADCAST_ERROR, as tapsec-handshaked does), or another
 * negative errno (-ENOBUFS: a full receive buffer; the daemon reads
 * ENOBUFS and takes what is queued, so the handshake is not lost).
 */
int tapsec_nl_handshake_ready(struct net *net, u32 pending)
{
	struct sk_buff *msg;
	struct nlattr *nest;
	void *hdr;

	/* The kernel's own listener check counts every namespace. */
	if (!genl_has_listeners(&tapsec_genl_family, net, TAPSEC_NLGRP_HANDSHAKE))
		return -ESRCH;
	/*
	 * Sized to its one attribute, not NLMSG_GOODSIZE: a burst of
	 * connect()s queues one per handshake in the daemon's receive buffer,
	 * and page-sized ones filled it after a few dozen.
	 */
	msg = genlmsg_new(nla_total_size(nla_total_size(sizeof(u32))),
			  GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put(msg, 0, 0, &tapsec_genl_family, 0,
			  TAPSEC_CMD_HANDSHAKE_READY);
	nest = hdr ? nla_nest_start(msg, TAPSEC_A_HS) : NULL;
	if (!nest || nla_put_u32(msg, TAPSEC_A_HS_PENDING, pending)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, nest);
	genlmsg_end(msg, hdr);
	return genlmsg_multicast_netns(&tapsec_genl_family, net, msg, 0,
				       TAPSEC_NLGRP_HANDSHAKE, GFP_KERNEL);
}

/**
 * tapsec_nl_event() - report an event to the "events" group
 * @net: the socket's namespace
 * @type: enum tapsec_event_type
 * @inode: the socket's inode
 * @err: positive errno, or 0
 * @reason: why, or NULL
 *
 * Callable in any context.  An event that cannot be delivered is counted
 * and the count goes out with the next one (TAPSEC_A_EVENT_LOST); a
 * listener whose buffer overflowed also reads ENOBUFS.
 */
void tapsec_nl_event(struct net *net, u32 type, u64 inode, int err,
		     const char *reason)
{
	struct sk_buff *msg;
	struct nlattr *nest;
	u64 lost;
	void *hdr;
	int ret;

	if (!genl_has_listeners(&tapsec_genl_family, net, TAPSEC_NLGRP_EVENTS))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_ATOMIC);
	if (!msg)
		goto lost;
	lost = atomic64_xchg(&tapsec_nl_events_lost, 0);
	hdr = genlmsg_put(msg, 0, 0, &tapsec_genl_family, 0, TAPSEC_CMD_EVENT);
	nest = hdr ? nla_nest_start(msg, TAPSEC_A_EVENT) : NULL;
	if (!nest || nla_put_u32(msg, TAPSEC_A_EVENT_TYPE, type) ||
	    nla_put_u64_64bit(msg, TAPSEC_A_EVENT_INODE, inode,
			      TAPSEC_A_EVENT_PAD) ||
	    (err && nla_put_u32(msg, TAPSEC_A_EVENT_ERROR, err)) ||
	    (reason && reason[0] &&
	     nla_put_string(msg, TAPSEC_A_EVENT_REASON, reason)) ||
	    (lost && nla_put_u64_64bit(msg, TAPSEC_A_EVENT_LOST, lost,
				       TAPSEC_A_EVENT_PAD))) {
		atomic64_add(lost, &tapsec_nl_events_lost);
		nlmsg_free(msg);
		goto lost;
	}
	nla_nest_end(msg, nest);
	genlmsg_end(msg, hdr);
	ret = genlmsg_multicast_netns(&tapsec_genl_family, net, msg, 0,
				      TAPSEC_NLGRP_EVENTS, GFP_ATOMIC);
	if (ret && ret != -ESRCH)
		atomic64_add(lost + 1, &tapsec_nl_events_lost);
	return;
lost:
	atomic64_inc(&tapsec_nl_events_lost);
}

/* Attributes no request may carry: strict parsing rejects them. */
#define TAPSEC_NL_REJECT_REPLY_ATTRS					\
	[TAPSEC_A_VERSION] = { .type = NLA_REJECT },			\
	[TAPSEC_A_API_VERSION] = { .type = NLA_REJECT },		\
	[TAPSEC_A_FEATURES] = { .type = NLA_REJECT },			\
	[TAPSEC_A_SOCKETS] = { .type = NLA_REJECT },			\
	[TAPSEC_A_SOCKETS_TOTAL] = { .type = NLA_REJECT },		\
	[TAPSEC_A_PAD] = { .type = NLA_REJECT },			\
	[TAPSEC_A_STATS] = { .type = NLA_REJECT },			\
	[TAPSEC_A_SOCK] = { .type = NLA_REJECT },			\
	[TAPSEC_A_EVENT] = { .type = NLA_REJECT }

/* Requests that take no attributes. */
static const struct nla_policy tapsec_nl_policy[TAPSEC_A_MAX + 1] = {
	TAPSEC_NL_REJECT_REPLY_ATTRS,
	[TAPSEC_A_HS] = { .type = NLA_REJECT },
	[TAPSEC_A_PSK] = { .type = NLA_REJECT },
};

/* HANDSHAKE_DONE: one TAPSEC_A_HS. */
static const struct nla_policy tapsec_nl_hs_policy[TAPSEC_A_MAX + 1] = {
	TAPSEC_NL_REJECT_REPLY_ATTRS,
	[TAPSEC_A_HS] = NLA_POLICY_NESTED(tapsec_hs_nl_policy),
	[TAPSEC_A_PSK] = { .type = NLA_REJECT },
};

/* PSK_ADD: one TAPSEC_A_PSK with identity, key and maybe hash. */
static const struct nla_policy tapsec_nl_psk_add_policy[TAPSEC_A_MAX + 1] = {
	TAPSEC_NL_REJECT_REPLY_ATTRS,
	[TAPSEC_A_HS] = { .type = NLA_REJECT },
	[TAPSEC_A_PSK] = NLA_POLICY_NESTED(tapsec_psk_nl_policy),
};

/* PSK_DEL: one TAPSEC_A_PSK with the identity. */
static const struct nla_policy tapsec_nl_psk_del_policy[TAPSEC_A_MAX + 1] = {
	TAPSEC_NL_REJECT_REPLY_ATTRS,
	[TAPSEC_A_HS] = { .type = NLA_REJECT },
	[TAPSEC_A_PSK] = NLA_POLICY_NESTED(tapsec_psk_nl_del_policy),
};

static const struct genl_ops tapsec_nl_ops[] = {
	{
		.cmd = TAPSEC_CMD_GET_INFO,
		.doit = tapsec_nl_get_info,
		.policy = tapsec_nl_policy,
		.maxattr = TAPSEC_A_MAX,
	},
	{
		.cmd = TAPSEC_CMD_GET_STATS,
		.doit = tapsec_nl_get_stats,
		.policy = tapsec_nl_policy,
		.maxattr = TAPSEC_A_MAX,
	},
	{
		.cmd = TAPSEC_CMD_SOCK_GET,
		.dumpit = tapsec_nl_sock_dump,
		.policy = tapsec_nl_policy,
		.maxattr = TAPSEC_A_MAX,
	},
	{
		.cmd = TAPSEC_CMD_HANDSHAKE_ACCEPT,
		.doit = tapsec_hs_nl_accept,
		.policy = tapsec_nl_policy,
		.maxattr = TAPSEC_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = TAPSEC_CMD_HANDSHAKE_DONE,
		.doit = tapsec_hs_nl_done,
		.policy = tapsec_nl_hs_policy,
		.maxattr = TAPSEC_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = TAPSEC_CMD_PSK_ADD,
		.doit = tapsec_psk_nl_add,
		.policy = tapsec_nl_psk_add_policy,
		.maxattr = TAPSEC_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = TAPSEC_CMD_PSK_DEL,
		.doit = tapsec_psk_nl_del,
		.policy = tapsec_nl_psk_del_policy,
		.maxattr = TAPSEC_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = TAPSEC_CMD_PSK_GET,
		.dumpit = tapsec_psk_nl_dump,
		.policy = tapsec_nl_policy,
		.maxattr = TAPSEC_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

static struct genl_family tapsec_genl_family __ro_after_init = {
	.name = TAPSEC_GENL_NAME,
	.version = TAPSEC_GENL_VERSION,
	.netnsok = true,
	.module = THIS_MODULE,
	.ops = tapsec_nl_ops,
	.n_ops = ARRAY_SIZE(tapsec_nl_ops),
	.mcgrps = tapsec_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(tapsec_nl_mcgrps),
	.resv_start_op = 0,	/* strict validation of every command */
};

/**
 * tapsec_netlink_init() - register the generic netlink family
 *
 * Return: 0 or a negative errno.
 */
int tapsec_netlink_init(void)
{
	return genl_register_family(&tapsec_genl_family);
}

/**
 * tapsec_netlink_exit() - unregister the generic netlink family
 */
void tapsec_netlink_exit(void)
{
	genl_unregister_family(&tapsec_genl_family);
}
