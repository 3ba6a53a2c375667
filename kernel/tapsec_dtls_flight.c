// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: the last flight of a delegated DTLS 1.2 handshake.
 *
 * RFC 6347 4.2.4: the side that sends a handshake's last flight (the
 * server's ChangeCipherSpec and Finished in a full handshake, the
 * client's in an abbreviated one) sets no timer for it.  When the flight
 * is lost, the peer retransmits its own previous flight, and the answer
 * is to send the last flight again.  By then the daemon's GnuTLS session
 * is gone and the keys are in the kernel, so the kernel keeps a copy of
 * the datagrams the daemon sent in clear after the last one it read, and
 * sends them again whenever an authenticated handshake record of the new
 * epoch (the peer's retransmitted Finished) arrives.  The copy goes once
 * the peer's first application data shows the flight arrived, after
 * TAPSEC_FLIGHT_KEEP, or with the socket.  A side whose handshake ended
 * with a read (the client of a full handshake) keeps nothing to resend:
 * its peer's GnuTLS was still running and retransmitted by itself.
 */
#include <linux/jiffies.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "tapsec_dtls.h"

#define TAPSEC_FLIGHT_MAX	8	/* datagrams kept */
#define TAPSEC_FLIGHT_KEEP	(120 * HZ)

/**
 * struct tapsec_dtls_flight - the datagrams of the daemon's last flight
 * @until: jiffies after which they are not sent again
 * @read: the daemon read a datagram after them: the next send starts a
 *	new flight, and these are not the last one
 * @overflow: the flight had more than TAPSEC_FLIGHT_MAX datagrams, one
 *	larger than any record, or one that could not be copied
 * @n: datagrams in @dgram
 * @len: their lengths
 * @dgram: the datagrams, as sent
 */
struct tapsec_dtls_flight {
	unsigned long until;
	bool read;
	bool overflow;
	u8 n;
	u32 len[TAPSEC_FLIGHT_MAX];
	u8 *dgram[TAPSEC_FLIGHT_MAX];
};

static void tapsec_flight_clear(struct tapsec_dtls_flight *f)
{
	while (f->n) {
		f->n--;
		kfree(f->dgram[f->n]);
	}
	f->read = false;
	f->overflow = false;
}

/**
 * tapsec_dtls_flight_sent() - note a datagram the daemon sends in clear
 * @sk: the socket, in raw mode for the daemon
 * @ctx: its context
 * @msg: the datagram, before UDP consumes it
 * @len: its length
 */
void tapsec_dtls_flight_sent(struct sock *sk, struct tapsec_ctx *ctx,
			     struct msghdr *msg, size_t len)
{
	struct tapsec_dtls *dtls = tapsec_dtls_engine(sk, ctx);
	struct iov_iter it = msg->msg_iter;
	struct tapsec_dtls_flight *f;
	u8 *copy;

	if (IS_ERR(dtls) || !len)
		return;
	mutex_lock(&dtls->tx_lock);
	f = dtls->flight;
	if (!f) {
		f = tapsec_fail_alloc() ? NULL : kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
		dtls->flight = f;
	}
	if (!f)
		goto out;
	if (f->read)
		tapsec_flight_clear(f);
	if (f->overflow)
		goto out;
	if (f->n == TAPSEC_FLIGHT_MAX || len > TAPSEC_DTLS_BUF_LEN) {
		tapsec_flight_clear(f);
		f->overflow = true;
		goto out;
	}
	copy = tapsec_fail_alloc() ? NULL : kmalloc(len, GFP_KERNEL_ACCOUNT);
	if (copy && copy_from_iter(copy, len, &it) != len) {
		kfree(copy);
		copy = NULL;
	}
	if (!copy) {		/* half a flight is no flight */
		tapsec_flight_clear(f);
		f->overflow = true;
		goto out;
	}
	f->dgram[f->n] = copy;
	f->len[f->n++] = len;
	f->until = jiffies + TAPSEC_FLIGHT_KEEP;
out:
	mutex_unlock(&dtls->tx_lock);
}

/**
 * tapsec_dtls_flight_read() - the daemon read a datagram in clear
 * @ctx: the socket's context
 *
 * What it sent before is not the last flight.
 */
void tapsec_dtls_flight_read(struct tapsec_ctx *ctx)
{
	struct tapsec_dtls *dtls = tapsec_dtls_of(ctx);

	if (!dtls)
		return;
	mutex_lock(&dtls->tx_lock);
	if (dtls->flight)
		dtls->flight->read = true;
	mutex_unlock(&dtls->tx_lock);
}

/**
 * tapsec_dtls_flight_check() - act on a record opened after the handshake
 * @sk: the socket
 * @dtls: its engine, under the receive lock, with a record open
 *
 * A DTLS 1.2 handshake record (the peer retransmitted its flight) sends
 * the last flight again; application data (the peer has it) drops it.
 */
void tapsec_dtls_flight_check(struct sock *sk, struct tapsec_dtls *dtls)
{
	struct tapsec_dtls_flight *f;
	u8 i;

	if (!READ_ONCE(dtls->flight))
		return;
	if (dtls->type != TAPSEC_RECORD_HANDSHAKE &&
	    dtls->type != TAPSEC_RECORD_APPLICATION_DATA)
		return;
	mutex_lock(&dtls->tx_lock);
	f = dtls->flight;
	if (dtls->type == TAPSEC_RECORD_APPLICATION_DATA ||
	    !time_before(jiffies, f->until)) {
		tapsec_dtls_flight_free(dtls);
	} else if (!f->read && !tapsec_dtls13(dtls->rx)) {
		for (i = 0; i < f->n; i++)
			if (tapsec_dgram_xmit(sk, f->dgram[i], f->len[i],
					      MSG_DONTWAIT, NULL, 0) > 0)
				TAPSEC_COUNT(dtls->ctx, tx_flight_resent, 1);
	}
	mutex_unlock(&dtls->tx_lock);
}

/**
 * tapsec_dtls_flight_free() - drop the kept flight
 * @dtls: the engine, under its transmit lock or being freed
 */
void tapsec_dtls_flight_free(struct tapsec_dtls *dtls)
{
	if (!dtls->flight)
		return;
	tapsec_flight_clear(dtls->flight);
	kfree(dtls->flight);
	WRITE_ONCE(dtls->flight, NULL);
}
