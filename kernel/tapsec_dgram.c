// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: SOCK_DGRAM sockets (DTLS, ESP-in-UDP and WireGuard records).
 *
 * socket(AF_INET[6], SOCK_DGRAM, IPPROTO_TAPSEC) gives a UDP socket whose
 * proto and ops are tapsec's copies of the kernel's UDP ones; the context
 * lives in sk_user_data, where the UDP encapsulation hooks of the record
 * engines will find it.  sk_protocol is IPPROTO_UDP for the IP layer.
 */
#include <linux/module.h>
#include <net/udp.h>
#include <net/protocol.h>
#include <net/ipv6.h>

#include "tapsec.h"
#include "tapsec_compat.h"

static struct proto *dgram_base_prot[TAPSEC_NFAMILIES] __ro_after_init;
static struct proto dgram_prot[TAPSEC_NFAMILIES] __ro_after_init;
/* Built from the kernel's ops at init, read only afterwards. */
static struct proto_ops dgram_ops[TAPSEC_NFAMILIES] __ro_after_init;
static struct inet_protosw dgram_protosw[TAPSEC_NFAMILIES];
static bool dgram_registered[TAPSEC_NFAMILIES];

/* Set in ->init, cleared in ->destroy: stable while a caller holds sk. */
static struct tapsec_ctx *tapsec_dgram_ctx(const struct sock *sk)
{
	return rcu_dereference_protected(__sk_user_data(sk), 1);
}

static int tapsec_dgram_sendmsg(struct sock *sk, struct msghdr *msg,
				size_t len)
{
	return tapsec_ctx_refuse(tapsec_dgram_ctx(sk));
}

static int tapsec_dgram_recvmsg(struct sock *sk, struct msghdr *msg,
				size_t len, int flags, int *addr_len)
{
	return tapsec_ctx_refuse(tapsec_dgram_ctx(sk));
}

#if TAPSEC_HAVE_SENDPAGE
static int tapsec_dgram_sendpage(struct sock *sk, struct page *page,
				 int offset, size_t size, int flags)
{
	return tapsec_ctx_refuse(tapsec_dgram_ctx(sk));
}
#endif

static int tapsec_dgram_setsockopt(struct sock *sk, int level, int optname,
				   sockptr_t optval, unsigned int optlen)
{
	int fam = tapsec_family_index(sk->sk_family);

	if (level == SOL_TAPSEC)
		return tapsec_ctx_setsockopt(tapsec_dgram_ctx(sk), optname,
					     optval, optlen);
	return dgram_base_prot[fam]->setsockopt(sk, level, optname, optval,
						optlen);
}

static int tapsec_dgram_getsockopt(struct sock *sk, int level, int optname,
				   char __user *optval, int __user *optlen)
{
	int fam = tapsec_family_index(sk->sk_family);

	if (level == SOL_TAPSEC)
		return tapsec_ctx_getsockopt(tapsec_dgram_ctx(sk), optname,
					     optval, optlen);
	return dgram_base_prot[fam]->getsockopt(sk, level, optname, optval,
						optlen);
}

static int tapsec_dgram_init_sock(struct sock *sk)
{
	int fam = tapsec_family_index(sk->sk_family);
	struct tapsec_ctx *ctx;
	int err;

	sk->sk_protocol = IPPROTO_UDP;
	if (dgram_base_prot[fam]->init) {
		err = dgram_base_prot[fam]->init(sk);
		if (err)
			return err;
	}
	ctx = tapsec_ctx_alloc(sk, GFP_KERNEL, TAPSEC_PROTO_NONE,
			       TAPSEC_ORIGIN_SOCKET);
	if (!ctx)
		return -ENOMEM;
	rcu_assign_sk_user_data(sk, ctx);
	return 0;
}

static void tapsec_dgram_destroy_sock(struct sock *sk)
{
	int fam = tapsec_family_index(sk->sk_family);
	struct tapsec_ctx *ctx = tapsec_dgram_ctx(sk);

	if (dgram_base_prot[fam]->destroy)
		dgram_base_prot[fam]->destroy(sk);
	rcu_assign_sk_user_data(sk, NULL);
	tapsec_ctx_free(ctx);
}

static void tapsec_dgram_build(int fam, struct proto *base,
			       const struct proto_ops *base_ops)
{
	struct proto *prot = &dgram_prot[fam];
	struct proto_ops *ops = &dgram_ops[fam];

	dgram_base_prot[fam] = base;
	*prot = *base;
	strscpy(prot->name, fam == TAPSEC_INET ? "TAPSEC-UDP" : "TAPSEC-UDPv6",
		sizeof(prot->name));
	prot->owner = THIS_MODULE;
	prot->init = tapsec_dgram_init_sock;
	prot->destroy = tapsec_dgram_destroy_sock;
	prot->sendmsg = tapsec_dgram_sendmsg;
	prot->recvmsg = tapsec_dgram_recvmsg;
	prot->setsockopt = tapsec_dgram_setsockopt;
	prot->getsockopt = tapsec_dgram_getsockopt;
#if TAPSEC_HAVE_SENDPAGE
	prot->sendpage = tapsec_dgram_sendpage;
#endif

	*ops = *base_ops;
	/* Keep datagrams away from sockmap and in-kernel readers. */
	ops->read_skb = NULL;
	ops->splice_read = NULL;

	dgram_protosw[fam] = (struct inet_protosw) {
		.type = SOCK_DGRAM,
		.protocol = IPPROTO_TAPSEC,
		.prot = prot,
		.ops = ops,
		.flags = 0,
	};
}

/**
 * tapsec_dgram_has_inet6() - whether AF_INET6 datagram sockets are offered
 *
 * Return: true when registered.
 */
bool tapsec_dgram_has_inet6(void)
{
	return dgram_registered[TAPSEC_INET6];
}

/**
 * tapsec_dgram_init() - register datagram sockets
 *
 * Return: 0 or a negative errno.
 */
int tapsec_dgram_init(void)
{
	const struct proto_ops *ops;
	struct proto *base;
	int err;

	err = tapsec_inet_base(AF_INET, SOCK_DGRAM, &base, &ops);
	if (err)
		return err;
	tapsec_dgram_build(TAPSEC_INET, base, ops);
	if (!tapsec_inet_base(AF_INET6, SOCK_DGRAM, &base, &ops))
		tapsec_dgram_build(TAPSEC_INET6, base, ops);

	inet_register_protosw(&dgram_protosw[TAPSEC_INET]);
	dgram_registered[TAPSEC_INET] = true;
	if (dgram_base_prot[TAPSEC_INET6]) {
		err = inet6_register_protosw(&dgram_protosw[TAPSEC_INET6]);
		if (err) {
			tapsec_dgram_exit();
			return err;
		}
		dgram_registered[TAPSEC_INET6] = true;
	}
	return 0;
}

/**
 * tapsec_dgram_exit() - unregister datagram sockets
 */
void tapsec_dgram_exit(void)
{
	if (dgram_registered[TAPSEC_INET6])
		inet6_unregister_protosw(&dgram_protosw[TAPSEC_INET6]);
	if (dgram_registered[TAPSEC_INET])
		inet_unregister_protosw(&dgram_protosw[TAPSEC_INET]);
	dgram_registered[TAPSEC_INET6] = false;
	dgram_registered[TAPSEC_INET] = false;
}
