// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: sealing and opening one WireGuard transport data message
 * (tapsec_wg.h has its layout).
 *
 * Sent: the payload in an inner UDP packet from this socket's inner
 * address and port to the peer's (TAPSEC_WG_INNER), IPv4 (no options,
 * DF, TTL 64) or IPv6 (hop limit 64), with its checksums, padded with
 * zeros to 16 bytes as WireGuard pads, under the next counter.
 *
 * Received: the message's type, index and counter are checked before it
 * is opened, the counter marked in the window only after its tag
 * verified; then the inner packet must be UDP, unfragmented, from the
 * peer's inner address and port to this socket's, with lengths that fit
 * (what follows its length is padding).  Its UDP checksum is not
 * checked: the tag covers the packet, as kernel WireGuard marks what it
 * decrypts CHECKSUM_UNNECESSARY.  An empty message is a keepalive.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <net/checksum.h>
#include <net/ip.h>
#include <net/ipv6.h>

#include "tapsec_wg.h"

/* Encrypt or decrypt the message in @buf: @clen bytes after the header
 * (decrypting: the tag included).
 */
static int tapsec_wg_crypt(struct tapsec_wg_keyhalf *k, bool encrypt,
			   u8 *buf, u32 clen, u64 counter)
{
	u8 nonce[TAPSEC_NONCE_LEN];
	struct scatterlist sg;
	int err;

	sg_init_one(&sg, buf + TAPSEC_WG_HDR_LEN,
		    clen + (encrypt ? TAPSEC_TAG_LEN : 0));
	tapsec_aead_le_nonce(counter, nonce);
	err = tapsec_aead_crypt(&k->aead, encrypt, &sg, &sg, 0, clen, nonce);
	memzero_explicit(nonce, sizeof(nonce));
	return err;
}

/* The inner IP and UDP headers in front of @plen payload bytes at @ip. */
static void tapsec_wg_inner_headers(const struct tapsec_wg_inner *in, u8 *ip,
				    u32 iplen, u32 plen)
{
	u32 ulen = TAPSEC_WG_UDP_LEN + plen;
	u8 *udp = ip + iplen;
	struct ipv6hdr *ip6;
	struct iphdr *iph;
	__sum16 check;

	put_unaligned_be16(in->local_port, udp);
	put_unaligned_be16(in->peer_port, udp + 2);
	put_unaligned_be16(ulen, udp + 4);
	put_unaligned_be16(0, udp + 6);
	check = tapsec_sa_udp_csum(in->family, in->local_addr, in->peer_addr,
				   udp, ulen);
	put_unaligned((__force u16)check, (u16 *)(udp + 6));
	if (in->family == AF_INET) {
		iph = (struct iphdr *)ip;
		memset(iph, 0, sizeof(*iph));
		iph->version = 4;
		iph->ihl = TAPSEC_WG_IP4_LEN / 4;
		iph->tot_len = htons(iplen + ulen);
		iph->frag_off = htons(IP_DF);
		iph->ttl = TAPSEC_WG_TTL;
		iph->protocol = IPPROTO_UDP;
		memcpy(&iph->saddr, in->local_addr, 4);
		memcpy(&iph->daddr, in->peer_addr, 4);
		iph->check = ip_fast_csum(iph, iph->ihl);
	} else {
		ip6 = (struct ipv6hdr *)ip;
		memset(ip6, 0, sizeof(*ip6));
		ip6->version = 6;
		ip6->payload_len = htons(ulen);
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = TAPSEC_WG_TTL;
		memcpy(&ip6->saddr, in->local_addr, 16);
		memcpy(&ip6->daddr, in->peer_addr, 16);
	}
}

/*
 * Seal the message in @sa->tx_buf whose @padded plaintext bytes (0: a
 * keepalive) follow the header: its length, -EKEYEXPIRED once the
 * counter reaches TAPSEC_WG_REJECT_AFTER_MESSAGES, or a crypto API error.
 */
static int tapsec_wg_seal_plain(struct tapsec_sa *sa, u32 padded)
{
	struct tapsec_wg_keyhalf *k = sa->tx;
	u8 *buf = sa->tx_buf;
	u64 counter;
	int err;

	if (k->aead.seq >= TAPSEC_WG_REJECT_AFTER_MESSAGES)
		return -EKEYEXPIRED;
	err = tapsec_aead_take_seq(&k->aead, &counter);
	if (err)
		return err;
	buf[0] = TAPSEC_WG_TYPE_DATA;
	buf[1] = 0;
	buf[2] = 0;
	buf[3] = 0;
	put_unaligned_le32(k->index, buf + 4);
	put_unaligned_le64(counter, buf + 8);
	err = tapsec_wg_crypt(k, true, buf, padded, counter);
	if (err)
		return err;
	return TAPSEC_WG_HDR_LEN + padded + TAPSEC_TAG_LEN;
}

/**
 * tapsec_wg_seal() - tapsec_sa_ops.seal: seal one transport data message
 * @sk: the socket
 * @sa: its state, under the transmit lock, with an outbound key
 * @plen: payload bytes at tapsec_wg_tx_data_off() in @sa->tx_buf
 *
 * Return: the message's length, -EKEYEXPIRED once the counter reaches
 * TAPSEC_WG_REJECT_AFTER_MESSAGES, or a crypto API error.
 */
int tapsec_wg_seal(struct sock *sk, struct tapsec_sa *sa, u32 plen)
{
	struct tapsec_wg *wg = tapsec_wg_of(sa);
	u32 iplen = tapsec_wg_ip_len(wg), clen, padded;
	u8 *buf = sa->tx_buf;

	tapsec_wg_inner_headers(&wg->inner, buf + TAPSEC_WG_HDR_LEN, iplen,
				plen);
	clen = iplen + TAPSEC_WG_UDP_LEN + plen;
	padded = ALIGN(clen, TAPSEC_WG_PAD);
	memset(buf + TAPSEC_WG_HDR_LEN + clen, 0, padded - clen);
	return tapsec_wg_seal_plain(sa, padded);
}

/**
 * tapsec_wg_seal_empty() - tapsec_sa_ops.seal_empty: a keepalive
 * @sk: the socket
 * @sa: its state, under the transmit lock, with an outbound key
 *
 * Return: as tapsec_wg_seal().
 */
int tapsec_wg_seal_empty(struct sock *sk, struct tapsec_sa *sa)
{
	return tapsec_wg_seal_plain(sa, 0);
}

/*
 * Check the inner packet of @plain bytes at @ip against TAPSEC_WG_INNER.
 * Returns the UDP payload's offset from @ip and sets *@ulen to the UDP
 * length; -EBADMSG for a malformed packet, -EXDEV for one not for this
 * socket.
 */
static int tapsec_wg_inner_check(const struct tapsec_wg_inner *in,
				 const u8 *ip, u32 plain, u32 *ulen)
{
	const struct ipv6hdr *ip6 = (const void *)ip;
	const struct iphdr *iph = (const void *)ip;
	u32 hl, total;
	const u8 *udp;

	switch (ip[0] >> 4) {
	case 4:
		if (plain < TAPSEC_WG_IP4_LEN)
			return -EBADMSG;
		hl = iph->ihl * 4;
		total = ntohs(iph->tot_len);
		if (hl < TAPSEC_WG_IP4_LEN || total < hl || total > plain ||
		    ip_fast_csum(iph, iph->ihl))
			return -EBADMSG;
		if (in->family != AF_INET || iph->protocol != IPPROTO_UDP ||
		    (iph->frag_off & htons(IP_MF | IP_OFFSET)) ||
		    memcmp(&iph->saddr, in->peer_addr, 4) ||
		    memcmp(&iph->daddr, in->local_addr, 4))
			return -EXDEV;
		break;
	case 6:
		if (plain < TAPSEC_WG_IP6_LEN)
			return -EBADMSG;
		hl = TAPSEC_WG_IP6_LEN;
		total = hl + ntohs(ip6->payload_len);
		if (total > plain)
			return -EBADMSG;
		/* Extension headers (fragments too) are not for a socket. */
		if (in->family != AF_INET6 || ip6->nexthdr != IPPROTO_UDP ||
		    memcmp(&ip6->saddr, in->peer_addr, 16) ||
		    memcmp(&ip6->daddr, in->local_addr, 16))
			return -EXDEV;
		break;
	default:
		return -EBADMSG;
	}
	if (total - hl < TAPSEC_WG_UDP_LEN)
		return -EBADMSG;
	udp = ip + hl;
	*ulen = get_unaligned_be16(udp + 4);
	if (*ulen < TAPSEC_WG_UDP_LEN || *ulen > total - hl)
		return -EBADMSG;
	if (get_unaligned_be16(udp) != in->peer_port ||
	    get_unaligned_be16(udp + 2) != in->local_port)
		return -EXDEV;
	return hl + TAPSEC_WG_UDP_LEN;
}

/**
 * tapsec_wg_open() - tapsec_sa_ops.open: open one transport data message
 * @ctx: the socket's context
 * @sa: its state, under the receive lock, with an inbound key
 * @len: bytes of the datagram in @sa->rx_buf
 *
 * A message that fails a check is dropped and counted: not a transport
 * data message or too short, and a malformed inner packet, as
 * rx_bad_record; a receiver index of no inbound key (the current or the
 * previous one, within its age) as rx_bad_spi; a counter seen,
 * too old or past TAPSEC_WG_REJECT_AFTER_MESSAGES as rx_replayed; a
 * failed tag as rx_bad_tag; an inner packet for another address, port
 * or protocol as rx_misrouted.  A keepalive is dropped silently.
 *
 * Return: 0 with @sa->data_off and @sa->data_len set, -ENODATA for a
 * keepalive, or another negative errno for a dropped message.
 */
int tapsec_wg_open(struct tapsec_ctx *ctx, struct tapsec_sa *sa, u32 len)
{
	struct tapsec_wg *wg = tapsec_wg_of(sa);
	struct tapsec_wg_keyhalf *k;
	u8 *buf = sa->rx_buf;
	u32 clen, ulen;
	u64 counter;
	int ret;

	if (len < TAPSEC_WG_HDR_LEN + TAPSEC_TAG_LEN ||
	    get_unaligned_le32(buf) != TAPSEC_WG_TYPE_DATA) {
		TAPSEC_COUNT(ctx, rx_bad_record, 1);
		return -EBADMSG;
	}
	k = tapsec_sa_rx_key(sa, get_unaligned_le32(buf + 4));
	if (!k) {
		TAPSEC_COUNT(ctx, rx_bad_spi, 1);
		return -EBADMSG;
	}
	counter = get_unaligned_le64(buf + 8);
	if (counter >= TAPSEC_WG_REJECT_AFTER_MESSAGES ||
	    !tapsec_replay_ok(&k->replay, READ_ONCE(sa->window), counter)) {
		TAPSEC_COUNT(ctx, rx_replayed, 1);
		return -EBADMSG;
	}
	clen = len - TAPSEC_WG_HDR_LEN - TAPSEC_TAG_LEN;
	if (tapsec_wg_crypt(k, false, buf, clen + TAPSEC_TAG_LEN, counter)) {
		TAPSEC_COUNT(ctx, rx_bad_tag, 1);
		return -EBADMSG;
	}
	tapsec_replay_mark(&k->replay, counter);
	if (!clen)
		return -ENODATA;	/* a keepalive */
	ret = tapsec_wg_inner_check(&wg->inner, buf + TAPSEC_WG_HDR_LEN, clen,
				    &ulen);
	if (ret < 0) {
		if (ret == -EXDEV)
			TAPSEC_COUNT(ctx, rx_misrouted, 1);
		else
			TAPSEC_COUNT(ctx, rx_bad_record, 1);
		return ret;
	}
	sa->data_off = TAPSEC_WG_HDR_LEN + ret;
	sa->data_len = ulen - TAPSEC_WG_UDP_LEN;
	return 0;
}

/**
 * tapsec_wg_tx_data_off() - tapsec_sa_ops.tx_data_off
 * @sa: the state, with TAPSEC_WG_INNER set
 *
 * Return: the payload's offset: after the message header and the inner
 * IP and UDP headers.
 */
u32 tapsec_wg_tx_data_off(const struct tapsec_sa *sa)
{
	return TAPSEC_WG_HDR_LEN + tapsec_wg_ip_len(tapsec_wg_of(sa)) +
	       TAPSEC_WG_UDP_LEN;
}
