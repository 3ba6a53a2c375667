// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: the "tapsec" generic netlink family.
 *
 * The family is netns-aware: every answer describes the caller's network
 * namespace.  Commands that only read are open to everyone; commands that
 * change state will carry GENL_UNS_ADMIN_PERM (CAP_NET_ADMIN in the user
 * namespace owning the network namespace).  Documentation/netlink/tapsec.yaml
 * is the specification of this file.
 */
#include <linux/in.h>
#include <linux/in6.h>
#include <net/genetlink.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "tapsec.h"

static struct genl_family tapsec_genl_family;

/* A reply to @info; NULL when out of memory. */
static struct sk_buff *tapsec_nl_reply(struct genl_info *info, u8 cmd,
				       void **hdr)
{
	struct sk_buff *msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);

	if (!msg)
		return NULL;
	*hdr = genlmsg_put_reply(msg, info, &tapsec_genl_family, 0, cmd);
	return msg;
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

static int tapsec_nl_put_addr(struct sk_buff *msg, int attr,
			      const struct sock *sk, bool peer)
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

	hdr = genlmsg_put(skb, NETLINK_CB(d->cb->skb).portid,
			  d->cb->nlh->nlmsg_seq, &tapsec_genl_family,
			  NLM_F_MULTI, TAPSEC_CMD_SOCK_GET);
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

/* Requests take no attributes: any attribute is rejected by strict parsing. */
static const struct nla_policy tapsec_nl_policy[TAPSEC_A_MAX + 1] = {
	[TAPSEC_A_VERSION] = { .type = NLA_REJECT },
	[TAPSEC_A_API_VERSION] = { .type = NLA_REJECT },
	[TAPSEC_A_FEATURES] = { .type = NLA_REJECT },
	[TAPSEC_A_SOCKETS] = { .type = NLA_REJECT },
	[TAPSEC_A_SOCKETS_TOTAL] = { .type = NLA_REJECT },
	[TAPSEC_A_PAD] = { .type = NLA_REJECT },
	[TAPSEC_A_STATS] = { .type = NLA_REJECT },
	[TAPSEC_A_SOCK] = { .type = NLA_REJECT },
};

static const struct genl_small_ops tapsec_nl_ops[] = {
	{
		.cmd = TAPSEC_CMD_GET_INFO,
		.doit = tapsec_nl_get_info,
	},
	{
		.cmd = TAPSEC_CMD_GET_STATS,
		.doit = tapsec_nl_get_stats,
	},
	{
		.cmd = TAPSEC_CMD_SOCK_GET,
		.dumpit = tapsec_nl_sock_dump,
	},
};

static struct genl_family tapsec_genl_family __ro_after_init = {
	.name = TAPSEC_GENL_NAME,
	.version = TAPSEC_GENL_VERSION,
	.maxattr = TAPSEC_A_MAX,
	.policy = tapsec_nl_policy,
	.netnsok = true,
	.module = THIS_MODULE,
	.small_ops = tapsec_nl_ops,
	.n_small_ops = ARRAY_SIZE(tapsec_nl_ops),
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
