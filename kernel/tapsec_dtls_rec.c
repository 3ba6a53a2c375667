// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: DTLS records, sealed and opened in place.
 *
 * DTLS 1.2 (RFC 6347 4.1, RFC 5288/7905 nonces): a 13-byte header with the
 * epoch and a 48-bit sequence number; AES-GCM carries that 64-bit value as
 * its explicit nonce, ChaCha20-Poly1305 XORs it into the IV.
 *
 * DTLS 1.3 (RFC 9147 4): tapsec sends the unified header with a 16-bit
 * sequence number and a length, and the peer's connection ID when
 * TAPSEC_TX_CID set one; it takes 8- and 16-bit sequence numbers, with or
 * without a length, and requires TAPSEC_RX_CID's connection ID when set.
 * The header, with the sequence number in clear, is the additional data;
 * the sequence number is then encrypted with a mask computed from the
 * ciphertext (4.2.3).
 *
 * A record that cannot be framed drops the rest of its datagram; one that
 * is framed but bad (epoch, replay, tag, content) drops only itself.
 * Every drop is counted by kind and never ends the connection.
 */
#include <linux/scatterlist.h>
#include <crypto/skcipher.h>

#include "tapsec_compat.h"
#include "tapsec_dtls.h"

#define TAPSEC_DTLS13_FIXED_MASK	0xe0
#define TAPSEC_DTLS13_FIXED		0x20
#define TAPSEC_DTLS13_C			0x10	/* connection ID present */
#define TAPSEC_DTLS13_S			0x08	/* 16-bit sequence number */
#define TAPSEC_DTLS13_L			0x04	/* length present */
#define TAPSEC_DTLS13_EPOCH_BITS	0x03

/**
 * tapsec_dtls_overhead() - bytes a record adds to its payload
 * @ep: the transmit epoch
 *
 * Return: header, explicit nonce, inner content type and tag.
 */
unsigned int tapsec_dtls_overhead(const struct tapsec_dtls_epoch *ep)
{
	return tapsec_dtls_hdr_len(ep) + ep->explicit_len + TAPSEC_TAG_LEN +
	       (tapsec_dtls13(ep) ? 1 : 0);
}

/* ChaCha20 keystream with the sample as counter and nonce (4.2.3). */
static int tapsec_dtls13_chacha_mask(struct tapsec_dtls_epoch *ep,
				     const u8 *sample)
{
	SYNC_SKCIPHER_REQUEST_ON_STACK(req, ep->sn_chacha);
	u8 iv[TAPSEC_DTLS_MASK_LEN];
	struct scatterlist sg;
	int err;

	memcpy(iv, sample, sizeof(iv));
	memset(ep->mask, 0, sizeof(ep->mask));
	sg_init_one(&sg, ep->mask, sizeof(ep->mask));
	skcipher_request_set_sync_tfm(req, ep->sn_chacha);
	skcipher_request_set_callback(req, 0, NULL, NULL);
	skcipher_request_set_crypt(req, &sg, &sg, sizeof(ep->mask), iv);
	err = crypto_skcipher_encrypt(req);
	skcipher_request_zero(req);
	memzero_explicit(iv, sizeof(iv));
	return err;
}

/* RFC 9147 4.2.3: the mask from the first 16 bytes of ciphertext. */
static int tapsec_dtls13_mask(struct tapsec_dtls_epoch *ep, const u8 *sample)
{
	if (ep->sn_chacha)
		return tapsec_dtls13_chacha_mask(ep, sample);
	aes_encrypt(&ep->sn_aes, ep->mask, sample);	/* AES-ECB, one block */
	return 0;
}

/* DTLS 1.2 additional data and nonce of record number @rn. */
static void tapsec_dtls12_aad(struct tapsec_dtls_epoch *ep, u64 rn, u8 type,
			      u32 plen, const u8 *explicit, u8 *nonce)
{
	tapsec_aead_tls12_nonce(&ep->aead, rn, type, TAPSEC_DTLS_1_2_VERSION,
				plen, ep->explicit_len ? explicit : NULL,
				ep->aad, nonce);
}

static int tapsec_dtls12_crypt(struct tapsec_dtls_epoch *ep, bool encrypt,
			       u8 *text, u32 plen, const u8 *nonce)
{
	struct scatterlist sg[2];

	sg_init_table(sg, 2);
	sg_set_buf(&sg[0], ep->aad, TAPSEC_DTLS12_AAD_LEN);
	sg_set_buf(&sg[1], text, plen + TAPSEC_TAG_LEN);
	return tapsec_aead_crypt(&ep->aead, encrypt, sg, sg,
				 TAPSEC_DTLS12_AAD_LEN,
				 plen + (encrypt ? 0 : TAPSEC_TAG_LEN),
				 (u8 *)nonce);
}

/**
 * tapsec_dtls_seal() - seal one record in place
 * @ctx: the socket's context
 * @ep: the transmit epoch
 * @buf: the record; its payload is at tapsec_dtls_overhead() minus the
 *	tag and inner type, room for those after it
 * @type: content type
 * @plen: payload bytes
 *
 * Return: the record's length, -EKEYEXPIRED when the epoch's 2^48
 * sequence numbers are used up (counted), or a crypto API error.
 */
int tapsec_dtls_seal(struct tapsec_ctx *ctx, struct tapsec_dtls_epoch *ep,
		     u8 *buf, u8 type, u32 plen)
{
	unsigned int hlen = tapsec_dtls_hdr_len(ep);
	u8 *text = buf + hlen + ep->explicit_len;
	u8 nonce[TAPSEC_NONCE_LEN];
	u64 seq = ep->aead.seq, rn;
	struct scatterlist sg;
	int err;

	if (seq > TAPSEC_DTLS_SEQ_MAX) {
		TAPSEC_COUNT(ctx, key_exhausted, 1);
		return -EKEYEXPIRED;
	}
	ep->aead.seq = seq + 1;

	if (tapsec_dtls13(ep)) {
		u8 *sn = buf + 1 + ep->cid_len;

		text[plen] = type;	/* DTLSInnerPlaintext, no padding */
		buf[0] = TAPSEC_DTLS13_FIXED | TAPSEC_DTLS13_S |
			 TAPSEC_DTLS13_L | (ep->epoch & TAPSEC_DTLS13_EPOCH_BITS);
		if (ep->cid_len) {
			buf[0] |= TAPSEC_DTLS13_C;
			memcpy(buf + 1, ep->cid, ep->cid_len);
		}
		put_unaligned_be16((u16)seq, sn);
		put_unaligned_be16(plen + 1 + TAPSEC_TAG_LEN, sn + 2);
		tapsec_aead_xor_nonce(&ep->aead, seq, nonce);
		sg_init_one(&sg, buf, hlen + plen + 1 + TAPSEC_TAG_LEN);
		err = tapsec_aead_crypt(&ep->aead, true, &sg, &sg, hlen,
					plen + 1, nonce);
		if (!err)
			err = tapsec_dtls13_mask(ep, text);
		if (!err) {
			sn[0] ^= ep->mask[0];
			sn[1] ^= ep->mask[1];
		}
		memzero_explicit(nonce, sizeof(nonce));
		return err ?: hlen + plen + 1 + TAPSEC_TAG_LEN;
	}

	rn = (u64)ep->epoch << 48 | seq;
	buf[0] = type;
	put_unaligned_be16(TAPSEC_DTLS_1_2_VERSION, buf + 1);
	put_unaligned_be64(rn, buf + 3);
	put_unaligned_be16(ep->explicit_len + plen + TAPSEC_TAG_LEN, buf + 11);
	if (ep->explicit_len)
		put_unaligned_be64(rn, buf + hlen);
	tapsec_dtls12_aad(ep, rn, type, plen, buf + hlen, nonce);
	err = tapsec_dtls12_crypt(ep, true, text, plen, nonce);
	memzero_explicit(nonce, sizeof(nonce));
	return err ?: hlen + ep->explicit_len + plen + TAPSEC_TAG_LEN;
}

/*
 * RFC 9147 4.2.2: the full sequence number whose low @bits bits are @s,
 * closest to the next one expected.
 */
static u64 tapsec_dtls13_seq(u64 expected, u32 s, unsigned int bits)
{
	u64 win = 1ULL << bits, half = win / 2;
	u64 cand = (expected & ~(win - 1)) | s;

	if (cand + half <= expected && cand + win <= TAPSEC_DTLS_SEQ_MAX)
		return cand + win;
	if (cand > expected + half && cand >= win)
		return cand - win;
	return cand;
}

/* Hand out an opened record; @poff and @plen locate its plaintext. */
static int tapsec_dtls_opened(struct tapsec_ctx *ctx, struct tapsec_dtls *dtls,
			      struct tapsec_dtls_epoch *ep, u64 seq, u8 type,
			      u32 poff, u32 plen)
{
	if (plen > TAPSEC_DTLS_MAX_PLAINTEXT) {
		TAPSEC_COUNT(ctx, rx_oversize, 1);
		return -EMSGSIZE;
	}
	dtls->rec_newest = ep == dtls->rx &&
			   (!ep->replay.any || seq > ep->replay.top);
	tapsec_replay_mark(&ep->replay, seq);
	dtls->rec_epoch = ep->epoch;
	dtls->rec_seq = seq;
	dtls->opened = true;
	dtls->type = type;
	dtls->data_off = poff;
	dtls->data_len = plen;
	TAPSEC_COUNT(ctx, rx_records, 1);
	TAPSEC_COUNT(ctx, rx_bytes, plen);
	return 0;
}

/* A record whose framing is broken: the rest of the datagram goes too. */
static int tapsec_dtls_unframed(struct tapsec_ctx *ctx,
				struct tapsec_dtls *dtls)
{
	dtls->rx_off = dtls->rx_len;
	TAPSEC_COUNT(ctx, rx_bad_record, 1);
	return -EBADMSG;
}

static int tapsec_dtls12_open(struct tapsec_ctx *ctx, struct tapsec_dtls *dtls)
{
	u32 start = dtls->rx_off, left = dtls->rx_len - start, len, plen;
	u8 *rec = dtls->rx_buf + start, type = rec[0];
	u8 nonce[TAPSEC_NONCE_LEN];
	struct tapsec_dtls_epoch *ep;
	u64 rn, seq;
	int err;

	if (left < TAPSEC_DTLS12_HEADER_LEN)
		return tapsec_dtls_unframed(ctx, dtls);
	len = get_unaligned_be16(rec + 11);
	if (len > left - TAPSEC_DTLS12_HEADER_LEN)
		return tapsec_dtls_unframed(ctx, dtls);
	dtls->rx_off = start + TAPSEC_DTLS12_HEADER_LEN + len;

	rn = get_unaligned_be64(rec + 3);
	seq = rn & TAPSEC_DTLS_SEQ_MAX;
	if (type < TAPSEC_RECORD_CHANGE_CIPHER_SPEC ||
	    type > TAPSEC_RECORD_APPLICATION_DATA ||
	    get_unaligned_be16(rec + 1) != TAPSEC_DTLS_1_2_VERSION) {
		TAPSEC_COUNT(ctx, rx_bad_record, 1);
		return -EBADMSG;
	}
	if (len > TAPSEC_DTLS12_MAX_CIPHERTEXT) {
		TAPSEC_COUNT(ctx, rx_oversize, 1);
		return -EMSGSIZE;
	}
	ep = tapsec_dtls_rx_epoch(dtls, rn >> 48, U16_MAX);
	if (!ep || ep->version != TAPSEC_DTLS_1_2_VERSION) {
		TAPSEC_COUNT(ctx, rx_bad_epoch, 1);
		return -EBADMSG;
	}
	if (len < ep->explicit_len + TAPSEC_TAG_LEN) {
		TAPSEC_COUNT(ctx, rx_bad_record, 1);
		return -EBADMSG;
	}
	if (!tapsec_replay_ok(&ep->replay, dtls->window, seq)) {
		TAPSEC_COUNT(ctx, rx_replayed, 1);
		return -EBADMSG;
	}
	plen = len - ep->explicit_len - TAPSEC_TAG_LEN;
	tapsec_dtls12_aad(ep, rn, type, plen, rec + TAPSEC_DTLS12_HEADER_LEN,
			  nonce);
	err = tapsec_dtls12_crypt(ep, false, rec + TAPSEC_DTLS12_HEADER_LEN +
				  ep->explicit_len, plen, nonce);
	memzero_explicit(nonce, sizeof(nonce));
	if (err) {
		if (err == -EBADMSG)
			TAPSEC_COUNT(ctx, rx_bad_tag, 1);
		return err;
	}
	return tapsec_dtls_opened(ctx, dtls, ep, seq, type,
				  start + TAPSEC_DTLS12_HEADER_LEN +
				  ep->explicit_len, plen);
}

static int tapsec_dtls13_open(struct tapsec_ctx *ctx, struct tapsec_dtls *dtls)
{
	u32 start = dtls->rx_off, left = dtls->rx_len - start, hlen, clen;
	u8 *rec = dtls->rx_buf + start, b = rec[0], type, slen, *sn;
	u8 cl = dtls->rx_cid_len;
	u8 nonce[TAPSEC_NONCE_LEN];
	struct tapsec_dtls_epoch *ep;
	struct scatterlist sg;
	u64 expected, seq;
	u32 s, plen;
	int err;

	/*
	 * With TAPSEC_RX_CID every record carries it (RFC 9147 9); without,
	 * a connection ID's length is unknown.  Either way a record that
	 * does not match cannot be framed.
	 */
	if (!(b & TAPSEC_DTLS13_C) != !cl)
		return tapsec_dtls_unframed(ctx, dtls);
	slen = (b & TAPSEC_DTLS13_S) ? 2 : 1;
	hlen = 1 + cl + slen + ((b & TAPSEC_DTLS13_L) ? 2 : 0);
	if (left < hlen || memcmp(rec + 1, dtls->rx_cid, cl))
		return tapsec_dtls_unframed(ctx, dtls);
	sn = rec + 1 + cl;
	clen = (b & TAPSEC_DTLS13_L) ? get_unaligned_be16(sn + slen) :
				       left - hlen;
	if (clen > left - hlen)
		return tapsec_dtls_unframed(ctx, dtls);
	dtls->rx_off = start + hlen + clen;

	if (clen > TAPSEC_DTLS13_MAX_CIPHERTEXT) {
		TAPSEC_COUNT(ctx, rx_oversize, 1);
		return -EMSGSIZE;
	}
	if (clen < 1 + TAPSEC_TAG_LEN) {
		TAPSEC_COUNT(ctx, rx_bad_record, 1);
		return -EBADMSG;
	}
	ep = tapsec_dtls_rx_epoch(dtls, b & TAPSEC_DTLS13_EPOCH_BITS,
				  TAPSEC_DTLS13_EPOCH_BITS);
	if (!ep || ep->version != TAPSEC_DTLS_1_3_VERSION || !ep->has_sn) {
		TAPSEC_COUNT(ctx, rx_bad_epoch, 1);
		return -EBADMSG;
	}
	err = tapsec_dtls13_mask(ep, rec + hlen);
	if (err)
		return err;
	/* In clear from here: the additional data is the clear header. */
	sn[0] ^= ep->mask[0];
	if (slen == 2)
		sn[1] ^= ep->mask[1];
	s = slen == 2 ? get_unaligned_be16(sn) : sn[0];
	expected = ep->replay.any ? ep->replay.top + 1 : ep->first;
	seq = tapsec_dtls13_seq(expected, s, 8 * slen);
	if (!tapsec_replay_ok(&ep->replay, dtls->window, seq)) {
		TAPSEC_COUNT(ctx, rx_replayed, 1);
		return -EBADMSG;
	}
	tapsec_aead_xor_nonce(&ep->aead, seq, nonce);
	sg_init_one(&sg, rec, hlen + clen);
	err = tapsec_aead_crypt(&ep->aead, false, &sg, &sg, hlen, clen, nonce);
	memzero_explicit(nonce, sizeof(nonce));
	if (err) {
		if (err == -EBADMSG)
			TAPSEC_COUNT(ctx, rx_bad_tag, 1);
		return err;
	}

	/* DTLSInnerPlaintext: content, type, zero padding */
	plen = clen - TAPSEC_TAG_LEN;
	while (plen && !rec[hlen + plen - 1])
		plen--;
	type = plen ? rec[hlen + --plen] : 0;
	if (type != TAPSEC_RECORD_ALERT && type != TAPSEC_RECORD_HANDSHAKE &&
	    type != TAPSEC_RECORD_APPLICATION_DATA &&
	    type != TAPSEC_RECORD_ACK &&
	    type != TAPSEC_RECORD_RETURN_ROUTABILITY) {
		TAPSEC_COUNT(ctx, rx_bad_record, 1);
		return -EBADMSG;
	}
	return tapsec_dtls_opened(ctx, dtls, ep, seq, type, start + hlen, plen);
}

/**
 * tapsec_dtls_open() - open the next record of the datagram in @dtls
 * @ctx: the socket's context
 * @dtls: its engine, with a receive epoch, under the receive lock
 *
 * Moves @dtls->rx_off past the record (or to the end of the datagram
 * when the record cannot be framed).
 *
 * Return: 0 with the record opened, or the negative errno of a record
 * that was dropped and counted.
 */
int tapsec_dtls_open(struct tapsec_ctx *ctx, struct tapsec_dtls *dtls)
{
	u8 b = dtls->rx_buf[dtls->rx_off];

	if (dtls->rx->version == TAPSEC_DTLS_1_3_VERSION &&
	    (b & TAPSEC_DTLS13_FIXED_MASK) == TAPSEC_DTLS13_FIXED)
		return tapsec_dtls13_open(ctx, dtls);
	return tapsec_dtls12_open(ctx, dtls);
}
