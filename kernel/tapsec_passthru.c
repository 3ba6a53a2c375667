// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: what tapsec sockets refuse to pass to TCP, UDP and IPv6.
 *
 * A tapsec socket hands every socket option it does not own to the
 * kernel's TCP or UDP (and from there to IPv4/IPv6).  A few of those would
 * take the socket out of the record layer's hands:
 *
 *  - IPV6_ADDRFORM turns an AF_INET6 socket into an AF_INET one by putting
 *    the kernel's own proto and ops in place of tapsec's: data would go
 *    out in clear and tapsec's release and destroy would never run;
 *  - TCP_ZEROCOPY_RECEIVE reads TCP's receive queue (into its copy buffer)
 *    past the record layer: handshake bytes before the keys, ciphertext
 *    after them;
 *  - TCP_REPAIR and the options that only work under it rewrite TCP's
 *    sequence numbers and queues under the records;
 *  - UDP_ENCAP hands datagrams to xfrm instead of the record layer (and
 *    takes the hook a DTLS listener uses); UDP_SEGMENT, UDP_GRO and
 *    UDP_CORK cut and join datagrams below the records, which must stay
 *    one per datagram on the way out (an ESP packet is a whole datagram;
 *    a corked DTLS record would sit in UDP's queue while the engine
 *    counts it sent) and be read one datagram at a time.
 *
 * Each is refused with EOPNOTSUPP and counted (opt_refused).  Other paths
 * of the same kind are closed where they are built: sockmap (no
 * psock_update_sk_prot in tapsec's protos), splice and mmap of the stream
 * (tapsec_stream.c), and connect(AF_UNSPEC) once the socket has keys or a
 * delegated handshake (tapsec_stream.c, tapsec_dgram.c).
 */
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/sock.h>

#include "tapsec.h"

/* Options of @level that would bypass the record layer when set. */
static bool tapsec_passthru_set_refused(int level, int optname)
{
	switch (level) {
	case SOL_IPV6:
		return optname == IPV6_ADDRFORM;
	case SOL_TCP:
		return optname == TCP_REPAIR || optname == TCP_REPAIR_QUEUE ||
		       optname == TCP_QUEUE_SEQ ||
		       optname == TCP_REPAIR_OPTIONS ||
		       optname == TCP_REPAIR_WINDOW;
	case SOL_UDP:
		return optname == UDP_ENCAP || optname == UDP_SEGMENT ||
		       optname == UDP_GRO || optname == UDP_CORK;
	default:
		return false;
	}
}

/**
 * tapsec_passthru_check() - whether an option may pass to TCP/UDP/IP
 * @ctx: the socket's context, or NULL when it could not be made
 * @level: the option's level, not SOL_TAPSEC
 * @optname: the option
 * @set: setsockopt (true) or getsockopt (false)
 *
 * Return: 0 to pass it on, -EOPNOTSUPP (counted as opt_refused) when it
 * would take the socket's data past the record layer.
 */
int tapsec_passthru_check(struct tapsec_ctx *ctx, int level, int optname,
			  bool set)
{
	bool refused;

	if (set)
		refused = tapsec_passthru_set_refused(level, optname);
	else
		refused = level == SOL_TCP && optname == TCP_ZEROCOPY_RECEIVE;
	if (!refused)
		return 0;
	if (ctx)
		TAPSEC_COUNT(ctx, opt_refused, 1);
	return -EOPNOTSUPP;
}

/**
 * tapsec_ctx_committed() - whether a socket is bound to its peer for good
 * @ctx: the socket's context, or NULL
 *
 * Return: true once a key is installed or a delegated handshake was asked
 * for: from then on the socket may not be disconnected and reused
 * (connect() with AF_UNSPEC), as the records in flight, the sequence
 * numbers and the keys belong to this peer.
 */
bool tapsec_ctx_committed(const struct tapsec_ctx *ctx)
{
	return ctx && (READ_ONCE(ctx->state) != TAPSEC_STATE_NEW ||
		       tapsec_hs_started(ctx));
}
