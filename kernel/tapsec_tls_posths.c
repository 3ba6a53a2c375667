// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: TLS handshake messages that arrive after a delegated handshake.
 *
 * The daemon ran the handshake and left; what the peer sends later in
 * handshake records is the TLS engine's to answer or refuse.  KeyUpdate
 * is tapsec_tls13.c's; this file takes the rest.
 */
#include <linux/workqueue.h>

#include "tapsec_tls.h"

#define TAPSEC_TLS_HELLO_REQUEST	0
#define TAPSEC_TLS_CLIENT_HELLO		1
#define TAPSEC_TLS_NEW_SESSION_TICKET	4

/* A TLS 1.2 ClientHello after the handshake: no_renegotiation is owed. */
static int tapsec_tls_refuse_renegotiation(struct tapsec_ctx *ctx)
{
	struct tapsec_tls *tls = ctx->engine_priv;

	if (!tls)
		return -EPROTO;
	WRITE_ONCE(tls->noreneg_pending, true);
	schedule_work(&tls->tx_work);
	return 0;
}

/**
 * tapsec_tls_post_handshake() - consume handshake messages after the handshake
 * @ctx: the socket's context, in TAPSEC_HANDSHAKE_DAEMON mode
 * @buf: the record's plaintext
 * @len: its length
 *
 * The application never sees handshake records of a delegated handshake.
 * A NewSessionTicket is dropped (the daemon keeps no tickets yet).  tapsec
 * never renegotiates TLS 1.2: a HelloRequest to a client is ignored, which
 * RFC 5246 7.4.1.1 allows, and a ClientHello to a server is answered with
 * a no_renegotiation warning alert (7.2.2), the connection going on.
 * Anything else, a KeyUpdate without secrets included, or a message split
 * across records, is a protocol error.
 *
 * Return: 0 when consumed, -EPROTO otherwise.
 */
int tapsec_tls_post_handshake(struct tapsec_ctx *ctx, const u8 *buf, u32 len)
{
	u16 version = READ_ONCE(ctx->rx_version);
	u32 off = 0, mlen;

	while (off < len) {
		if (len - off < 4)
			return -EPROTO;
		mlen = (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3];
		if (mlen > len - off - 4)
			return -EPROTO;
		switch (buf[off]) {
		case TAPSEC_TLS_NEW_SESSION_TICKET:
			if (version != TAPSEC_TLS_1_3_VERSION)
				return -EPROTO;
			break;
		case TAPSEC_TLS_HELLO_REQUEST:
			if (version != TAPSEC_TLS_1_2_VERSION || mlen)
				return -EPROTO;
			break;
		case TAPSEC_TLS_CLIENT_HELLO:
			if (version != TAPSEC_TLS_1_2_VERSION ||
			    !tapsec_hs_server(ctx) ||
			    tapsec_tls_refuse_renegotiation(ctx))
				return -EPROTO;
			break;
		default:
			return -EPROTO;
		}
		TAPSEC_COUNT(ctx, rx_post_handshake, 1);
		off += 4 + mlen;
	}
	return 0;
}
