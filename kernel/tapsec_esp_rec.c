// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: sealing and opening one ESP packet (RFC 4303) in transport mode
 * with AES-GCM (RFC 4106) or ChaCha20-Poly1305 (RFC 7634):
 *
 *   SPI (4) | sequence number (4) | IV (8) |
 *   encrypted: inner UDP header (8) | payload | padding | pad length |
 *              next header (17) |
 *   ICV (16)
 *
 * The additional data is the SPI and the sequence number, the nonce the
 * SA's salt and the IV.  The IV is the 64-bit sequence number, unique
 * for the key as RFC 4106 8.1 asks.  Padding is the fewest bytes that
 * align the encrypted part on 4 bytes, 1, 2, 3 as RFC 4303 2.4 says.
 *
 * With extended sequence numbers (RFC 4303 2.2.1) the packet still
 * carries the low 32 bits; the additional data is SPI, high 32 bits, low
 * 32 bits (RFC 4106 5, RFC 7634 3), and the receiver infers the high
 * half from its window (RFC 4303 appendix A2.2).
 */
#include <linux/scatterlist.h>
#include <net/checksum.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/ip6_checksum.h>
#include <net/sock.h>

#include "tapsec_esp.h"

/* The inner UDP header's checksum, over the outer addresses (RFC 768). */
static __sum16 tapsec_esp_udp_csum(const struct sock *sk, const u8 *udp,
				   u32 ulen)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6 &&
	    !ipv6_addr_v4mapped(&sk->sk_v6_daddr))
		return tapsec_sa_udp_csum(AF_INET6, &inet6_sk(sk)->saddr,
					  &sk->sk_v6_daddr, udp, ulen);
#endif
	return tapsec_sa_udp_csum(AF_INET, &inet_sk(sk)->inet_saddr,
				  &inet_sk(sk)->inet_daddr, udp, ulen);
}

/*
 * Seal or open the packet in @buf: @clen bytes after the IV (opening: the
 * ICV included).  With ESN the additional data is SPI, @seq_hi and the
 * low half: sealing, the SPI and the IV, which is the whole 64-bit number
 * we chose; opening, the peer's IV is its own choice, so once it is in
 * the nonce the header is rewritten in place to SPI, @seq_hi, low half
 * (the packet is consumed either way).
 */
static int tapsec_esp_crypt(struct tapsec_esp_key *k, bool encrypt, u8 *buf,
			    u32 clen, u32 seq_hi)
{
	u32 alen = TAPSEC_ESP_HDR_LEN;
	u8 nonce[TAPSEC_NONCE_LEN];
	struct scatterlist sg[3];
	unsigned int n = 0;
	int err;

	tapsec_aead_salt_nonce(&k->aead, buf + TAPSEC_ESP_HDR_LEN, nonce);
	sg_init_table(sg, 3);
	if (!k->esn) {
		sg_set_buf(&sg[n++], buf, TAPSEC_ESP_HDR_LEN);
	} else if (encrypt) {
		sg_set_buf(&sg[n++], buf, 4);
		sg_set_buf(&sg[n++], buf + TAPSEC_ESP_HDR_LEN, 8);
		alen += 4;
	} else {
		memmove(buf + 8, buf + 4, 4);
		put_unaligned_be32(seq_hi, buf + 4);
		sg_set_buf(&sg[n++], buf, TAPSEC_ESP_HDR_LEN + 4);
		alen += 4;
	}
	sg_set_buf(&sg[n++], buf + TAPSEC_ESP_INNER_OFF,
		   clen + (encrypt ? TAPSEC_TAG_LEN : 0));
	sg_mark_end(&sg[n - 1]);
	err = tapsec_aead_crypt(&k->aead, encrypt, sg, sg, alen, clen, nonce);
	memzero_explicit(nonce, sizeof(nonce));
	return err;
}

/*
 * The 64-bit number of a packet carrying @lo, on an SA whose window's
 * top is @top and size @w (RFC 4303 appendix A2.2): in the top's 2^32
 * subspace, the next one if @lo is below the window, the previous one if
 * the window spans two subspaces and @lo is in the older; never below
 * subspace 0.
 */
static u64 tapsec_esp_esn(u64 top, u32 w, u32 lo)
{
	u32 th = upper_32_bits(top), tl = lower_32_bits(top);
	u32 bottom = tl - w + 1;	/* modulo 2^32 */

	if (tl >= w - 1) {
		if (lo < bottom && th != U32_MAX)
			th++;
	} else if (lo >= bottom && th) {
		th--;
	}
	return (u64)th << 32 | lo;
}

/**
 * tapsec_esp_seal() - tapsec_sa_ops.seal: seal one ESP packet
 * @sk: the connected socket, whose addresses the inner checksum covers
 * @sa: its state, under the transmit lock, with an outbound SA
 * @plen: payload bytes at TAPSEC_ESP_DATA_OFF in @sa->tx_buf
 *
 * Return: the packet's length, -EKEYEXPIRED when the SA's 2^32 - 1
 * sequence numbers are used up, or a crypto API error.
 */
int tapsec_esp_seal(struct sock *sk, struct tapsec_sa *sa, u32 plen)
{
	u32 ulen = TAPSEC_ESP_UDP_LEN + plen, clen, pad, i;
	struct tapsec_esp_key *k = sa->tx;
	u8 *buf = sa->tx_buf;
	u8 *udp = buf + TAPSEC_ESP_INNER_OFF, *t;
	u64 seq;
	int err;

	/* Without extended sequence numbers the 32 bits must not wrap. */
	if (!k->esn && k->aead.seq > U32_MAX)
		return -EKEYEXPIRED;
	err = tapsec_aead_take_seq(&k->aead, &seq);
	if (err)
		return err;
	put_unaligned_be32(k->spi, buf);
	put_unaligned_be32(seq, buf + 4);
	put_unaligned_be64(seq, buf + TAPSEC_ESP_HDR_LEN);

	put_unaligned_be16(k->sport, udp);
	put_unaligned_be16(k->dport, udp + 2);
	put_unaligned_be16(ulen, udp + 4);
	put_unaligned_be16(0, udp + 6);
	put_unaligned((__force u16)tapsec_esp_udp_csum(sk, udp, ulen),
		      (u16 *)(udp + 6));

	pad = -(ulen + TAPSEC_ESP_TRAILER_LEN) & 3;
	t = udp + ulen;
	for (i = 0; i < pad; i++)
		t[i] = i + 1;
	t[pad] = pad;
	t[pad + 1] = TAPSEC_ESP_NH_UDP;
	clen = ulen + pad + TAPSEC_ESP_TRAILER_LEN;

	err = tapsec_esp_crypt(k, true, buf, clen, upper_32_bits(seq));
	if (err)
		return err;
	return TAPSEC_ESP_INNER_OFF + clen + TAPSEC_TAG_LEN;
}

/*
 * Check what the ICV covered: the padding, the next header and the inner
 * UDP header.  Returns the payload's length, or -EBADMSG; a dummy packet
 * (next header 59) is -ENODATA.
 */
static int tapsec_esp_inner(const struct tapsec_esp_key *k, const u8 *buf,
			    u32 clen)
{
	const u8 *udp = buf + TAPSEC_ESP_INNER_OFF;
	u32 pad = udp[clen - 2], ulen, i;
	u8 nh = udp[clen - 1];

	if (nh == TAPSEC_ESP_NH_NONE)
		return -ENODATA;
	if (nh != TAPSEC_ESP_NH_UDP ||
	    pad + TAPSEC_ESP_TRAILER_LEN + TAPSEC_ESP_UDP_LEN > clen)
		return -EBADMSG;
	ulen = clen - TAPSEC_ESP_TRAILER_LEN - pad;
	for (i = 0; i < pad; i++)
		if (udp[ulen + i] != i + 1)
			return -EBADMSG;
	/*
	 * The inner checksum is not checked: the ICV covers the datagram,
	 * and the outer addresses it was computed over may have been
	 * translated (RFC 3948 3.1.2, as xfrm does in transport mode).
	 */
	if (get_unaligned_be16(udp + 4) != ulen ||
	    get_unaligned_be16(udp) != k->sport ||
	    get_unaligned_be16(udp + 2) != k->dport)
		return -EBADMSG;
	return ulen - TAPSEC_ESP_UDP_LEN;
}

/**
 * tapsec_esp_open() - tapsec_sa_ops.open: open one ESP packet
 * @ctx: the socket's context
 * @sa: its state, under the receive lock, with an inbound SA
 * @len: bytes of the datagram in @sa->rx_buf
 *
 * A packet that fails a check is dropped and counted: not ESP (an IKE
 * message's zero marker, a NAT-T keepalive, too short, misaligned) and
 * bad padding or inner header as rx_bad_record, the SPI of no inbound
 * SA (the current or the previous one, within its age) as rx_bad_spi,
 * a sequence number seen or too old as rx_replayed, a failed ICV as
 * rx_bad_tag.  A dummy packet is dropped silently.  The
 * window moves only for packets whose ICV verified.
 *
 * Return: 0 with @sa->data_off and @sa->data_len set, or a negative
 * errno for a dropped packet.
 */
int tapsec_esp_open(struct tapsec_ctx *ctx, struct tapsec_sa *sa, u32 len)
{
	struct tapsec_esp_key *k;
	u8 *buf = sa->rx_buf;
	u32 clen, window;
	u64 seq;
	int ret;

	if (len < TAPSEC_ESP_INNER_OFF + TAPSEC_TAG_LEN + 4 ||
	    !get_unaligned_be32(buf)) {
		TAPSEC_COUNT(ctx, rx_bad_record, 1);
		return -EBADMSG;
	}
	k = tapsec_sa_rx_key(sa, get_unaligned_be32(buf));
	if (!k) {
		TAPSEC_COUNT(ctx, rx_bad_spi, 1);
		return -EBADMSG;
	}
	clen = len - TAPSEC_ESP_INNER_OFF - TAPSEC_TAG_LEN;
	if (clen & 3) {
		TAPSEC_COUNT(ctx, rx_bad_record, 1);
		return -EBADMSG;
	}
	window = READ_ONCE(sa->window);
	seq = get_unaligned_be32(buf + 4);
	if (k->esn)
		seq = tapsec_esp_esn(k->replay.top, window, seq);
	if (!seq || !tapsec_replay_ok(&k->replay, window, seq)) {
		TAPSEC_COUNT(ctx, rx_replayed, 1);
		return -EBADMSG;
	}
	ret = tapsec_esp_crypt(k, false, buf, clen + TAPSEC_TAG_LEN,
			       upper_32_bits(seq));
	if (ret) {
		TAPSEC_COUNT(ctx, rx_bad_tag, 1);
		return -EBADMSG;
	}
	tapsec_replay_mark(&k->replay, seq);
	ret = tapsec_esp_inner(k, buf, clen);
	if (ret < 0) {
		if (ret == -EBADMSG)
			TAPSEC_COUNT(ctx, rx_bad_record, 1);
		return ret;
	}
	sa->data_off = TAPSEC_ESP_DATA_OFF;
	sa->data_len = ret;
	return 0;
}

/**
 * tapsec_esp_tx_data_off() - tapsec_sa_ops.tx_data_off
 * @sa: the state
 *
 * Return: TAPSEC_ESP_DATA_OFF, after the header, the IV and the inner
 * UDP header.
 */
u32 tapsec_esp_tx_data_off(const struct tapsec_sa *sa)
{
	return TAPSEC_ESP_DATA_OFF;
}
