// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: secure sockets with an in-kernel record layer.
 *
 * Module init and exit, and the aliases that let the kernel load the module
 * on demand: socket(..., IPPROTO_TAPSEC), TCP_ULP "tapsec" and the "tapsec"
 * generic netlink family.
 */
#include <linux/module.h>
#include <linux/net.h>
#include <net/genetlink.h>
#include <net/tcp.h>

#include "tapsec.h"

/**
 * tapsec_features() - what this build of the module offers
 *
 * Return: TAPSEC_FEAT_* bits, as reported over netlink.
 */
u64 tapsec_features(void)
{
	u64 feat = TAPSEC_FEAT_STREAM | TAPSEC_FEAT_DGRAM | TAPSEC_FEAT_TCP_ULP |
		   TAPSEC_FEAT_TLS | TAPSEC_FEAT_HANDSHAKE | TAPSEC_FEAT_DTLS |
		   TAPSEC_FEAT_ESP | TAPSEC_FEAT_WIREGUARD;

	if (tapsec_stream_has_inet6() && tapsec_dgram_has_inet6())
		feat |= TAPSEC_FEAT_INET6;
	return feat;
}

static int __init tapsec_init(void)
{
	int err;

	tapsec_fault_init();
	err = tapsec_ctx_init();
	if (err)
		goto err_fault;
	err = tapsec_proc_init();
	if (err)
		goto err_ctx;
	err = tapsec_hs_init();
	if (err)
		goto err_proc;
	err = tapsec_psk_init();
	if (err)
		goto err_hs;
	err = tapsec_netlink_init();
	if (err)
		goto err_psk;
	err = tapsec_stream_init();
	if (err)
		goto err_netlink;
	err = tapsec_dgram_init();
	if (err)
		goto err_stream;
	pr_info("tapsec %s loaded\n", TAPSEC_VERSION);
	return 0;

err_stream:
	tapsec_stream_exit();
err_netlink:
	tapsec_netlink_exit();
err_psk:
	tapsec_psk_exit();
err_hs:
	tapsec_hs_exit();
err_proc:
	tapsec_proc_exit();
err_ctx:
	tapsec_ctx_exit();
err_fault:
	tapsec_fault_exit();
	return err;
}

static void __exit tapsec_exit(void)
{
	tapsec_dgram_exit();
	tapsec_stream_exit();
	tapsec_netlink_exit();
	tapsec_psk_exit();
	tapsec_hs_exit();
	tapsec_proc_exit();
	tapsec_ctx_exit();
	tapsec_fault_exit();
}

module_init(tapsec_init);
module_exit(tapsec_exit);

MODULE_DESCRIPTION("tapsec: secure sockets with an in-kernel record layer");
MODULE_LICENSE("GPL");
MODULE_VERSION(TAPSEC_VERSION);
MODULE_ALIAS_NET_PF_PROTO_TYPE(PF_INET, IPPROTO_TAPSEC, SOCK_STREAM);
MODULE_ALIAS_NET_PF_PROTO_TYPE(PF_INET, IPPROTO_TAPSEC, SOCK_DGRAM);
MODULE_ALIAS_NET_PF_PROTO_TYPE(PF_INET6, IPPROTO_TAPSEC, SOCK_STREAM);
MODULE_ALIAS_NET_PF_PROTO_TYPE(PF_INET6, IPPROTO_TAPSEC, SOCK_DGRAM);
MODULE_ALIAS_NET_PF_PROTO(PF_INET, IPPROTO_TAPSEC);
MODULE_ALIAS_NET_PF_PROTO(PF_INET6, IPPROTO_TAPSEC);
MODULE_ALIAS_TCP_ULP(TAPSEC_ULP_NAME);
MODULE_ALIAS_GENL_FAMILY(TAPSEC_GENL_NAME);
