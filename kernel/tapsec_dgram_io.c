// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: datagram I/O shared by the datagram record engines (DTLS, ESP,
 * WireGuard).
 *
 * An engine seals a datagram in a buffer of its own and sends it through
 * UDP (tapsec_dgram_xmit()); it takes datagrams out of UDP's queue into
 * another buffer (tapsec_dgram_read()) and opens them there, and waits
 * for the next one without holding its receive lock
 * (tapsec_dgram_wait()), and hands the payload to the reader as UDP would
 * (tapsec_dgram_deliver()).  What a datagram means is the engine's business;
 * datagrams no engine could take (empty, or larger than its buffer) are
 * dropped and counted here.  Whoever drops a datagram asks
 * tapsec_dgram_dropped() whether the read goes on: a flood of bad
 * datagrams cannot hold a reader.
 */
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/sock.h>

#include "tapsec.h"

/**
 * tapsec_dgram_xmit() - send one datagram through UDP
 * @sk: the tapsec datagram socket
 * @buf: the datagram
 * @len: its length
 * @flags: MSG_DONTWAIT for UDP
 * @to: where to, NULL for the connected peer
 * @to_len: length of @to
 *
 * Return: what UDP's sendmsg returns.
 */
int tapsec_dgram_xmit(struct sock *sk, const void *buf, u32 len, int flags,
		      struct sockaddr_storage *to, int to_len)
{
	struct msghdr msg = { .msg_flags = flags & MSG_DONTWAIT,
			      .msg_name = to, .msg_namelen = to_len };
	struct kvec kv = { .iov_base = (void *)buf, .iov_len = len };

	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &kv, 1, len);
	return tapsec_dgram_base_sendmsg(sk, &msg, len);
}

/**
 * tapsec_dgram_read() - take the next datagram out of UDP's queue
 * @sk: the tapsec datagram socket
 * @ctx: its context
 * @buf: where the datagram goes
 * @size: room in @buf; larger datagrams are dropped (rx_oversize)
 * @from: set to its source address
 * @from_len: set to the length of @from
 * @last: set to the queue's tail before the read, for tapsec_dgram_wait()
 *
 * Never waits.  An empty datagram (rx_bad_record) or one larger than
 * @size (rx_oversize) is dropped and counted; the caller then asks
 * tapsec_dgram_dropped() whether to read on.
 *
 * Return: the datagram's length, 0 for a datagram dropped, -EAGAIN when
 * the queue is empty, or another of UDP's errors.
 */
int tapsec_dgram_read(struct sock *sk, struct tapsec_ctx *ctx, u8 *buf,
		      u32 size, struct sockaddr_storage *from, int *from_len,
		      struct sk_buff **last)
{
	struct kvec kv = { .iov_base = buf, .iov_len = size };
	struct msghdr msg;
	int ret, alen;

	memset(&msg, 0, sizeof(msg));
	msg.msg_name = from;
	msg.msg_namelen = sizeof(*from);
	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &kv, 1, size);
	alen = 0;
	*last = READ_ONCE(sk->sk_receive_queue.prev);
	ret = tapsec_dgram_base_recvmsg(sk, &msg, size, MSG_DONTWAIT, &alen);
	if (ret > 0 && !(msg.msg_flags & MSG_TRUNC)) {
		*from_len = alen;
		return ret;
	}
	if (ret < 0)
		return ret;
	if (ret)
		TAPSEC_COUNT(ctx, rx_oversize, 1);
	else
		TAPSEC_COUNT(ctx, rx_bad_record, 1);
	return 0;
}

/**
 * tapsec_dgram_dropped() - a read dropped a bad datagram: does it go on?
 * @sk: the socket read
 * @dropped: the datagrams this read dropped so far; counts this one
 * @timeo: the read's timeout, 0 for a read that may not wait
 *
 * Bad datagrams dropped one after the other never sleep: let others run,
 * let a signal end a read that may wait, and end a read that may not
 * after TAPSEC_DGRAM_DROP_BUDGET of them.  Datagrams are still queued
 * then, but the reader saw EAGAIN: wake it as a new datagram would, so
 * that an edge-triggered poller comes back.  A read that may wait goes
 * on: it is the reader's to bound with a signal.
 *
 * Return: 0 to read on, else what the read returns: -EINTR or
 * -ERESTARTSYS for a signal, -EAGAIN when a read that may not wait ends.
 */
int tapsec_dgram_dropped(struct sock *sk, unsigned int *dropped, long timeo)
{
	cond_resched();
	if (timeo && signal_pending(current))
		return sock_intr_errno(timeo);
	if (!timeo && (signal_pending(current) ||
		       ++*dropped >= TAPSEC_DGRAM_DROP_BUDGET)) {
		sk->sk_data_ready(sk);
		return -EAGAIN;
	}
	return 0;
}

/**
 * tapsec_dgram_deliver() - hand an opened datagram's payload to a reader
 * @msg: the reader's message: the payload, and the source address
 * @len: room in @msg
 * @flags: recvmsg's flags: MSG_TRUNC returns the payload's whole length
 * @data: the payload
 * @data_len: its length
 * @from: the datagram's source address
 * @from_len: its length
 * @addr_len: set to @from_len when @msg takes the address
 *
 * As UDP does: what does not fit is cut off and MSG_TRUNC set in
 * @msg->msg_flags.
 *
 * Return: the bytes copied (with MSG_TRUNC in @flags, @data_len), or
 * -EFAULT.
 */
int tapsec_dgram_deliver(struct msghdr *msg, size_t len, int flags,
			 const u8 *data, u32 data_len,
			 const struct sockaddr_storage *from, int from_len,
			 int *addr_len)
{
	u32 n = min_t(size_t, len, data_len);

	if (copy_to_iter(data, n, &msg->msg_iter) != n)
		return -EFAULT;
	if (n < data_len)
		msg->msg_flags |= MSG_TRUNC;
	if (msg->msg_name) {
		memcpy(msg->msg_name, from, from_len);
		*addr_len = from_len;
	}
	return (flags & MSG_TRUNC) ? data_len : n;
}

/**
 * tapsec_dgram_wait() - wait for a datagram, without the receive lock
 * @sk: the tapsec datagram socket
 * @lock: the engine's receive lock, held; dropped while waiting
 * @timeo: how long to wait, updated
 * @last: UDP's queue tail tapsec_dgram_read() saw
 * @extra: another queue the engine reads first (datagrams handed over by
 *	a listener), or NULL
 * @err: set when the wait ends the read: 0 when shut down for reading,
 *	else a negative errno (-EAGAIN when @timeo ran out)
 *
 * Return: 0 to read again, 1 when the read ends with *@err.
 */
int tapsec_dgram_wait(struct sock *sk, struct mutex *lock, long *timeo,
		      struct sk_buff *last, struct sk_buff_head *extra,
		      int *err)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	int ret = 0;

	*err = 0;
	mutex_unlock(lock);
	add_wait_queue(sk_sleep(sk), &wait);
	while (READ_ONCE(sk->sk_receive_queue.prev) == last &&
	       (!extra || skb_queue_empty_lockless(extra))) {
		*err = sock_error(sk);
		if (*err || (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN)) {
			ret = 1;
			break;
		}
		if (!*timeo || signal_pending(current)) {
			*err = *timeo ? sock_intr_errno(*timeo) : -EAGAIN;
			ret = 1;
			break;
		}
		*timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, *timeo);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	mutex_lock(lock);
	return ret;
}

/**
 * tapsec_dgram_raw_hello() - hand the daemon an accepted socket's first
 * datagram, which its listener took
 * @hello: the datagram held, under the caller's receive lock; freed and
 *	cleared once read without MSG_PEEK
 * @hello_len: its length
 * @msg: where it goes
 * @len: room in @msg
 * @flags: MSG_PEEK leaves it for the next read; MSG_TRUNC as for UDP
 *
 * Return: its length (or what fit), -ENOENT when none is held (the
 * caller reads from UDP), or -EFAULT.
 */
int tapsec_dgram_raw_hello(u8 **hello, u32 hello_len, struct msghdr *msg,
			   size_t len, int flags)
{
	u32 n = min_t(size_t, len, hello_len);

	if (!*hello)
		return -ENOENT;
	if (copy_to_iter(*hello, n, &msg->msg_iter) != n)
		return -EFAULT;
	if (n < hello_len)
		msg->msg_flags |= MSG_TRUNC;
	if (!(flags & MSG_PEEK)) {
		u8 *p = *hello;

		WRITE_ONCE(*hello, NULL);
		kfree(p);
	}
	return (flags & MSG_TRUNC) ? hello_len : n;
}
