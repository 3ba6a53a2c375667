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
#include <net/genetlink.h>

#include "tapsec.h"

static struct genl_family tapsec_genl_family;

static int tapsec_nl_get_info(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &tapsec_genl_family, 0,
				TAPSEC_CMD_GET_INFO);
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

/* GET_INFO takes no attributes: any attribute is rejected by strict parsing. */
static const struct nla_policy tapsec_nl_policy[TAPSEC_A_MAX + 1] = {
	[TAPSEC_A_VERSION] = { .type = NLA_REJECT },
	[TAPSEC_A_API_VERSION] = { .type = NLA_REJECT },
	[TAPSEC_A_FEATURES] = { .type = NLA_REJECT },
	[TAPSEC_A_SOCKETS] = { .type = NLA_REJECT },
	[TAPSEC_A_SOCKETS_TOTAL] = { .type = NLA_REJECT },
	[TAPSEC_A_PAD] = { .type = NLA_REJECT },
};

static const struct genl_small_ops tapsec_nl_ops[] = {
	{
		.cmd = TAPSEC_CMD_GET_INFO,
		.doit = tapsec_nl_get_info,
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
