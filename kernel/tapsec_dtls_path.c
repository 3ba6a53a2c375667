// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: where a DTLS 1.3 socket accepted from a listener sends once its
 * peer's address changes (tapsec_dtls_cid.c finds the records).
 *
 * A record that authenticates, belongs to the current epoch and is newer
 * than any before moves the socket to its source, at most once per
 * TAPSEC_MOVE_INTERVAL: a peer (or whoever rewrites the source of its
 * records on the way) cannot make the socket hop about, and a move held
 * back is counted (moves_limited); the next such record after the
 * interval moves it.
 *
 * With TAPSEC_PATH_CHECK the socket first checks that the peer can be
 * reached there, as QUIC does before it sends to a new address: a
 * return routability check modelled on draft-ietf-tls-dtls-rrc.  It
 * sends a path_challenge record with a random cookie to the new address,
 * goes on sending to the old one meanwhile, and moves when a
 * path_response with that cookie comes back from the new address in an
 * authenticated record.  Every DTLS 1.3 socket answers a path_challenge
 * with a path_response to where the challenge came from.
 *
 * The record's content type is TAPSEC_RECORD_RETURN_ROUTABILITY (the
 * draft leaves the number to IANA); its body is the message type (0
 * path_challenge, 1 path_response), the cookie's length (8) and the
 * cookie.
 */
#include <linux/jiffies.h>
#include <linux/random.h>
#include <crypto/algapi.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "tapsec_dtls.h"

#define TAPSEC_RRC_CHALLENGE	0
#define TAPSEC_RRC_RESPONSE	1
#define TAPSEC_RRC_LEN		(2 + TAPSEC_RRC_COOKIE_LEN)
/* A challenge not answered within this may be sent again. */
#define TAPSEC_RRC_RETRY	(HZ / 2)

static bool tapsec_same_peer(const struct sockaddr_storage *a,
			     const struct sockaddr_storage *b)
{
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	       ipv6_addr_equal(&a6->sin6_addr, &b6->sin6_addr) &&
	       a6->sin6_scope_id == b6->sin6_scope_id;
}

/* Connect the socket to @to, the peer's new address; counted, reported. */
static void tapsec_dtls_move(struct sock *sk, struct tapsec_dtls *dtls,
			     struct sockaddr_storage *to, int len)
{
	char reason[72];

	if (tapsec_dgram_base_connect(sk->sk_socket, (struct sockaddr *)to,
				      len))
		return;
	dtls->moved_at = jiffies;
	dtls->moved = true;
	dtls->path_pending = false;
	TAPSEC_COUNT(dtls->ctx, peer_moves, 1);
	snprintf(reason, sizeof(reason), "peer moved to %pISpc", to);
	tapsec_nl_event(sock_net(sk), TAPSEC_EVENT_PEER_MOVED, sock_i_ino(sk),
			0, reason);
}

/* A return routability message to @to; under the receive lock. */
static void tapsec_dtls_rrc_send(struct sock *sk, struct tapsec_dtls *dtls,
				 u8 type, const u8 *cookie,
				 struct sockaddr_storage *to, int len)
{
	u8 *body;

	mutex_lock(&dtls->tx_lock);
	if (!dtls->tx_closed && dtls->tx && tapsec_dtls13(dtls->tx) &&
	    dtls->tx->has_sn) {
		body = dtls->tx_buf + tapsec_dtls_payload_off(dtls->tx);
		body[0] = type;
		body[1] = TAPSEC_RRC_COOKIE_LEN;
		memcpy(body + 2, cookie, TAPSEC_RRC_COOKIE_LEN);
		tapsec_dtls_send_record_to(sk, dtls->ctx, dtls,
					   TAPSEC_RECORD_RETURN_ROUTABILITY,
					   TAPSEC_RRC_LEN, MSG_DONTWAIT, to,
					   len);
	}
	mutex_unlock(&dtls->tx_lock);
}

/**
 * tapsec_dtls_follow() - follow the peer to the source of the record opened
 * @sk: the socket
 * @dtls: its engine, under the receive lock, a handed-over record just
 *	opened
 *
 * Only a record of the current epoch newer than every one accepted before
 * moves the socket (RFC 9147 9): a replayed or reordered one does not.
 * The move waits for TAPSEC_MOVE_INTERVAL after the last one, and with
 * TAPSEC_PATH_CHECK for the peer's answer from there.
 */
void tapsec_dtls_follow(struct sock *sk, struct tapsec_dtls *dtls)
{
	struct sockaddr_storage peer;
	int len;

	if (!dtls->rec_newest || !dtls->rx_cid_len)
		return;
	len = kernel_getpeername(sk->sk_socket, (struct sockaddr *)&peer);
	if (len >= 0 && tapsec_same_peer(&peer, &dtls->rx_from))
		return;
	if (dtls->moved && dtls->move_interval_ms &&
	    time_before(jiffies, dtls->moved_at +
			msecs_to_jiffies(dtls->move_interval_ms))) {
		TAPSEC_COUNT(dtls->ctx, moves_limited, 1);
		return;
	}
	if (!dtls->path_check) {
		tapsec_dtls_move(sk, dtls, &dtls->rx_from, dtls->rx_from_len);
		return;
	}
	/* An answer is handled by tapsec_dtls_path_rx(). */
	if (dtls->type == TAPSEC_RECORD_RETURN_ROUTABILITY ||
	    (dtls->path_pending &&
	     tapsec_same_peer(&dtls->path_to, &dtls->rx_from) &&
	     time_before(jiffies, dtls->path_sent + TAPSEC_RRC_RETRY)))
		return;
	get_random_bytes(dtls->path_cookie, sizeof(dtls->path_cookie));
	memcpy(&dtls->path_to, &dtls->rx_from, dtls->rx_from_len);
	dtls->path_to_len = dtls->rx_from_len;
	dtls->path_sent = jiffies;
	dtls->path_pending = true;
	TAPSEC_COUNT(dtls->ctx, path_challenges, 1);
	tapsec_dtls_rrc_send(sk, dtls, TAPSEC_RRC_CHALLENGE, dtls->path_cookie,
			     &dtls->path_to, dtls->path_to_len);
}

/**
 * tapsec_dtls_path_rx() - a return routability record was opened
 * @sk: the socket
 * @dtls: its engine, under the receive lock, the record open
 *
 * A path_challenge is answered with a path_response carrying its cookie,
 * to where it came from.  A path_response moves the socket when it
 * carries the cookie of the outstanding challenge and comes from the
 * address that challenge went to.  Anything else is dropped and counted
 * as a bad record.
 *
 * Return: 1, the record consumed.
 */
int tapsec_dtls_path_rx(struct sock *sk, struct tapsec_dtls *dtls)
{
	const u8 *p = dtls->rx_buf + dtls->data_off;

	dtls->opened = false;
	if (dtls->data_len != TAPSEC_RRC_LEN ||
	    p[1] != TAPSEC_RRC_COOKIE_LEN) {
		TAPSEC_COUNT(dtls->ctx, rx_bad_record, 1);
		return 1;
	}
	if (p[0] == TAPSEC_RRC_CHALLENGE) {
		tapsec_dtls_rrc_send(sk, dtls, TAPSEC_RRC_RESPONSE, p + 2,
				     &dtls->rx_from, dtls->rx_from_len);
		TAPSEC_COUNT(dtls->ctx, rx_post_handshake, 1);
		return 1;
	}
	if (p[0] == TAPSEC_RRC_RESPONSE && dtls->path_pending &&
	    !crypto_memneq(p + 2, dtls->path_cookie, TAPSEC_RRC_COOKIE_LEN) &&
	    tapsec_same_peer(&dtls->path_to, &dtls->rx_from)) {
		tapsec_dtls_move(sk, dtls, &dtls->path_to, dtls->path_to_len);
		TAPSEC_COUNT(dtls->ctx, rx_post_handshake, 1);
		return 1;
	}
	TAPSEC_COUNT(dtls->ctx, rx_bad_record, 1);
	return 1;
}
