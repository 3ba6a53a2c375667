// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: ESP packets in and out of a UDP socket.
 *
 * One send() is one ESP packet in one UDP datagram to the connected peer
 * (IP fragments it when it is larger than the path).  recv() takes
 * datagrams from UDP's queue (tapsec_dgram_io.c) and opens them, one
 * packet per call; packets that fail a check are dropped and counted and
 * the next one is tried.  Readers do not hold the receive lock while they
 * wait.
 */
#include <linux/uio.h>
#include <net/sock.h>

#include "tapsec_esp.h"

/**
 * tapsec_esp_sendmsg() - seal a datagram into one ESP packet and send it
 * @sk: the ESP socket
 * @ctx: its context
 * @msg: the payload; no address (the SA is the connected peer's) and no
 *	control messages
 * @len: its length
 *
 * Return: @len; -ENOKEY without an outbound SA; -EDESTADDRREQ when not
 * connected; -EISCONN with an address; -EINVAL with control messages;
 * -EMSGSIZE above TAPSEC_ESP_MAX_PAYLOAD; -EPIPE after shutdown(SHUT_WR);
 * -EKEYEXPIRED when the SA's sequence numbers are used up; UDP's errors.
 */
int tapsec_esp_sendmsg(struct sock *sk, struct tapsec_ctx *ctx,
		       struct msghdr *msg, size_t len)
{
	struct tapsec_esp *esp = tapsec_esp_of(ctx);
	int ret;

	if (!esp || !READ_ONCE(esp->tx))
		return tapsec_ctx_refuse(ctx);
	if (msg->msg_controllen)
		return -EINVAL;
	if (msg->msg_name)
		return -EISCONN;
	if (len > TAPSEC_ESP_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (READ_ONCE(sk->sk_state) != TCP_ESTABLISHED)
		return -EDESTADDRREQ;

	mutex_lock(&esp->tx_lock);
	if (esp->tx_closed) {
		ret = -EPIPE;
		goto out;
	}
	if (!copy_from_iter_full(esp->tx_buf + TAPSEC_ESP_DATA_OFF, len,
				 &msg->msg_iter)) {
		ret = -EFAULT;
		goto out;
	}
	ret = tapsec_esp_seal(sk, esp->tx, esp->tx_buf, len);
	if (ret == -EKEYEXPIRED)
		TAPSEC_COUNT(ctx, key_exhausted, 1);
	if (ret < 0)
		goto out;
	ret = tapsec_dgram_xmit(sk, esp->tx_buf, ret, msg->msg_flags, NULL, 0);
	if (ret < 0)
		goto out;
	TAPSEC_COUNT(ctx, tx_records, 1);
	TAPSEC_COUNT(ctx, tx_bytes, len);
	ret = len;
out:
	mutex_unlock(&esp->tx_lock);
	return ret;
}

/**
 * tapsec_esp_recvmsg() - read one ESP packet's payload
 * @sk: the ESP socket
 * @ctx: its context
 * @msg: where it goes, and its source address
 * @len: room in @msg
 * @flags: MSG_DONTWAIT, MSG_PEEK, MSG_TRUNC as for UDP; MSG_ERRQUEUE goes
 *	to UDP
 * @addr_len: set to the length of the source address in @msg->msg_name
 *
 * Return: bytes read; 0 after shutdown(SHUT_RD); -ENOKEY without an
 * inbound SA; -EAGAIN (also after TAPSEC_DGRAM_DROP_BUDGET bad packets in
 * a read that may not wait, or at a signal); -EINTR or -ERESTARTSYS for
 * a signal while bad packets keep coming; UDP's errors.
 */
int tapsec_esp_recvmsg(struct sock *sk, struct tapsec_ctx *ctx,
		       struct msghdr *msg, size_t len, int flags,
		       int *addr_len)
{
	struct tapsec_esp *esp = tapsec_esp_of(ctx);
	unsigned int dropped = 0;
	struct sk_buff *last;
	long timeo;
	int ret, err;

	if (flags & MSG_ERRQUEUE)
		return tapsec_dgram_base_recvmsg(sk, msg, len, flags, addr_len);
	if (!esp || !READ_ONCE(esp->rx))
		return tapsec_ctx_refuse(ctx);
	if (mutex_lock_interruptible(&esp->rx_lock))
		return -EINTR;
	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	for (;;) {
		if (esp->opened) {
			ret = tapsec_dgram_deliver(msg, len, flags,
						   esp->rx_buf +
						   TAPSEC_ESP_DATA_OFF,
						   esp->data_len, &esp->rx_from,
						   esp->rx_from_len, addr_len);
			if (ret >= 0 && !(flags & MSG_PEEK))
				esp->opened = false;
			break;
		}
		ret = tapsec_dgram_read(sk, ctx, esp->rx_buf,
					TAPSEC_ESP_BUF_LEN, &esp->rx_from,
					&esp->rx_from_len, &last);
		if (ret > 0 && !tapsec_esp_open(ctx, esp, ret))
			continue;
		if (ret >= 0) {		/* a packet dropped */
			ret = tapsec_dgram_dropped(sk, &dropped, timeo);
			if (ret)
				break;
			continue;
		}
		if (ret != -EAGAIN || !timeo)
			break;
		if (tapsec_dgram_wait(sk, &esp->rx_lock, &timeo, last, NULL,
				      &err)) {
			ret = err;	/* 0: shut down */
			break;
		}
	}
	WRITE_ONCE(esp->rx_more, esp->opened);
	mutex_unlock(&esp->rx_lock);
	return ret;
}
