/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec: the one place where differences between the supported kernels
 * (Debian's 6.1 and 6.12) are bridged.  Other files test the TAPSEC_HAVE_*
 * macros defined here and never LINUX_VERSION_CODE directly.
 */
#ifndef _TAPSEC_COMPAT_H
#define _TAPSEC_COMPAT_H

#include <linux/bvec.h>
#include <linux/fs.h>
#include <linux/uio.h>
#include <linux/version.h>
#include <net/tcp.h>

/*
 * struct proto and struct proto_ops lost ->sendpage (and proto_ops its
 * ->sendpage_locked) in 6.5; sendfile now reaches ->sendmsg with
 * MSG_SPLICE_PAGES.  Where the hooks exist, tapsec must override them or
 * sendfile would bypass the record layer.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
#define TAPSEC_HAVE_SENDPAGE 1
#else
#define TAPSEC_HAVE_SENDPAGE 0
#endif

/* splice's "more pages follow" flag for ->sendpage; MSG_MORE since 6.5. */
#ifdef MSG_SENDPAGE_NOTLAST
#define TAPSEC_MSG_NOTLAST MSG_SENDPAGE_NOTLAST
#else
#define TAPSEC_MSG_NOTLAST 0
#endif

/*
 * Hand TCP @len bytes of @page from @off by reference, no copy: 6.1's
 * tcp_sendpage_locked(), 6.12's sendmsg with MSG_SPLICE_PAGES.  The
 * socket is owned by the caller.  MSG_MORE corks as for sendmsg (not
 * MSG_SENDPAGE_NOTLAST, which would not push full segments either).
 * Returns bytes taken or a negative errno.
 */
#if TAPSEC_HAVE_SENDPAGE
static inline int tapsec_tcp_splice(struct sock *sk, struct page *page,
				    u32 off, u32 len, int flags)
{
	return tcp_sendpage_locked(sk, page, off, len, flags);
}
#else
static inline int tapsec_tcp_splice(struct sock *sk, struct page *page,
				    u32 off, u32 len, int flags)
{
	struct bio_vec bvec;
	struct msghdr msg = { .msg_flags = flags | MSG_SPLICE_PAGES };

	bvec_set_page(&bvec, page, len, off);
	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, &bvec, 1, len);
	return tcp_sendmsg_locked(sk, &msg, len);
}
#endif

/*
 * Whether the host may read an skb's frags: 6.12's device memory TCP
 * receives into frags that are not pages (skb->unreadable).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
static inline bool tapsec_skb_readable(const struct sk_buff *skb)
{
	return skb_frags_readable(skb);
}
#else
static inline bool tapsec_skb_readable(const struct sk_buff *skb)
{
	return true;
}
#endif

/* <asm/unaligned.h> became <linux/unaligned.h> in 6.12. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/* proto_ops->accept takes a struct proto_accept_arg since 6.10. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define TAPSEC_HAVE_ACCEPT_ARG 1
#else
#define TAPSEC_HAVE_ACCEPT_ARG 0
#endif

/*
 * A reference on a file unless its last one is already gone (the file
 * memory itself stays valid under RCU).  6.13 turned f_count into a
 * file_ref_t; 6.1 and 6.12 have the atomic.
 */
static inline bool tapsec_get_file_live(struct file *file)
{
	return atomic_long_inc_not_zero(&file->f_count);
}

#endif /* _TAPSEC_COMPAT_H */
