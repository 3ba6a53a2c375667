// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: find the kernel's own TCP and UDP protos and socket ops.
 *
 * tapsec sockets are TCP and UDP sockets whose data path goes through the
 * record layer, so their struct proto and struct proto_ops are copies of the
 * kernel's with a few operations replaced.  Not all of the originals are
 * exported (udpv6_prot, inet6_stream_ops, inet6_dgram_ops are not), so they
 * are read off a short-lived kernel socket of each kind, which works the
 * same on every kernel.  IPv6 is built in on the supported kernels, so the
 * pointers stay valid after the socket is gone.
 */
#include <linux/net.h>
#include <linux/in.h>
#include <net/net_namespace.h>

#include "tapsec.h"

/**
 * tapsec_family_index() - index of an address family in per-family tables
 * @family: AF_INET or AF_INET6
 *
 * Return: TAPSEC_INET, TAPSEC_INET6 or -EAFNOSUPPORT.
 */
int tapsec_family_index(int family)
{
	switch (family) {
	case AF_INET:
		return TAPSEC_INET;
	case AF_INET6:
		return TAPSEC_INET6;
	default:
		return -EAFNOSUPPORT;
	}
}

/**
 * tapsec_inet_base() - the kernel's proto and proto_ops for a socket kind
 * @family: AF_INET or AF_INET6
 * @type: SOCK_STREAM (TCP) or SOCK_DGRAM (UDP)
 * @prot: set to the struct proto of such sockets
 * @ops: set to the struct proto_ops of such sockets
 *
 * Return: 0, or a negative errno when the kernel cannot create such a
 * socket (e.g. IPv6 disabled at boot).
 */
int tapsec_inet_base(int family, int type, struct proto **prot,
		     const struct proto_ops **ops)
{
	int protocol = type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
	struct socket *sock;
	int err;

	err = sock_create_kern(&init_net, family, type, protocol, &sock);
	if (err)
		return err;
	*prot = READ_ONCE(sock->sk->sk_prot);
	*ops = sock->ops;
	sock_release(sock);
	return 0;
}
