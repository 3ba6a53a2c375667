// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: /proc/net/tapsec_stat, the network namespace's counters as
 * text, one "name value" line each, as /proc/net/tls_stat shows kTLS's.
 * The names are the fields of struct tapsec_counters, in its order (the
 * netlink GET_STATS reply has the same values as attributes).
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>

#include "tapsec.h"

static const char *const tapsec_counter_names[] = {
	"tx_records", "tx_bytes", "rx_records", "rx_bytes", "refused_nokey",
	"rx_bad_tag", "rx_bad_record", "rx_oversize", "rx_truncated",
	"key_exhausted", "close_notify_tx", "close_notify_rx", "hs_done",
	"hs_failed", "rx_post_handshake", "tx_key_updates", "rx_key_updates",
	"rx_replayed", "rx_bad_epoch", "tx_cookies", "rx_bad_cookie",
	"peer_moves", "tx_flight_resent", "rx_direct", "tx_direct",
	"rx_from_skb", "opt_refused", "psk_denied", "hs_bad_keys",
	"path_challenges", "moves_limited", "rx_bad_spi", "rx_misrouted",
};

static int tapsec_stat_show(struct seq_file *seq, void *v)
{
	u64 counters[TAPSEC_NR_COUNTERS];
	unsigned int i;

	BUILD_BUG_ON(ARRAY_SIZE(tapsec_counter_names) != TAPSEC_NR_COUNTERS);
	tapsec_net_counters(seq_file_single_net(seq), counters);
	seq_printf(seq, "%-24s%u\n", "sockets",
		   tapsec_net_sockets(seq_file_single_net(seq)));
	for (i = 0; i < TAPSEC_NR_COUNTERS; i++)
		seq_printf(seq, "%-24s%llu\n", tapsec_counter_names[i],
			   counters[i]);
	return 0;
}

static int __net_init tapsec_proc_net_init(struct net *net)
{
	if (!IS_ENABLED(CONFIG_PROC_FS))
		return 0;
	if (!proc_create_net_single("tapsec_stat", 0444, net->proc_net,
				    tapsec_stat_show, NULL))
		return -ENOMEM;
	return 0;
}

static void __net_exit tapsec_proc_net_exit(struct net *net)
{
	remove_proc_entry("tapsec_stat", net->proc_net);
}

/* Registered after tapsec_ctx_init(): the file goes before the counters. */
static struct pernet_operations tapsec_proc_net_ops = {
	.init = tapsec_proc_net_init,
	.exit = tapsec_proc_net_exit,
};

/**
 * tapsec_proc_init() - create /proc/net/tapsec_stat in every namespace
 *
 * Return: 0 or a negative errno.
 */
int tapsec_proc_init(void)
{
	return register_pernet_subsys(&tapsec_proc_net_ops);
}

/**
 * tapsec_proc_exit() - remove it
 */
void tapsec_proc_exit(void)
{
	unregister_pernet_subsys(&tapsec_proc_net_ops);
}
