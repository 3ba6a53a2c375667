// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: TLS 1.3 key schedule pieces the record layer needs after the
 * handshake (RFC 8446): HKDF-Expand-Label through the kernel crypto API,
 * the traffic secrets of each direction (TAPSEC_TX_SECRET/RX_SECRET),
 * KeyUpdate sent (TAPSEC_KEY_UPDATE) and received (section 4.6.3, 7.2),
 * and exporters from the exporter_master_secret (section 7.5).
 */
#include <linux/bits.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <crypto/hash.h>
#include <net/tcp.h>

#include "tapsec_tls.h"

#define TAPSEC_TLS13_KEY_UPDATE		24	/* HandshakeType key_update */
#define TAPSEC_TLS13_KU_LEN		5	/* header and one byte */

/**
 * tapsec_tls13_hash_len() - length of a cipher suite's hash
 * @cipher: TAPSEC_CIPHER_*
 *
 * Return: 32 or 48, or 0 for an unknown cipher.
 */
unsigned int tapsec_tls13_hash_len(u16 cipher)
{
	switch (cipher) {
	case TAPSEC_CIPHER_AES_GCM_128:
	case TAPSEC_CIPHER_CHACHA20_POLY1305:
		return 32;
	case TAPSEC_CIPHER_AES_GCM_256:
		return 48;
	default:
		return 0;
	}
}

/**
 * tapsec_tls13_key_len() - length of a cipher suite's traffic key
 * @cipher: TAPSEC_CIPHER_*
 *
 * Return: 16 or 32.
 */
unsigned int tapsec_tls13_key_len(u16 cipher)
{
	return cipher == TAPSEC_CIPHER_AES_GCM_128 ? 16 : 32;
}

static struct crypto_shash *tapsec_tls13_shash(u16 cipher, bool hmac)
{
	bool sha384 = tapsec_tls13_hash_len(cipher) == 48;

	if (hmac)
		return crypto_alloc_shash(sha384 ? "hmac(sha384)" :
					  "hmac(sha256)", 0, 0);
	return crypto_alloc_shash(sha384 ? "sha384" : "sha256", 0, 0);
}

/*
 * HKDF-Expand-Label(secret, label, context, out_len) of RFC 8446 7.1:
 * HKDF-Expand (RFC 5869) with info = HkdfLabel, hashed in pieces.  The
 * label's prefix is "tls13 ", or "dtls13" for DTLS 1.3 (RFC 9147 5.9).
 */
static int tapsec_tls13_expand_label(struct crypto_shash *tfm,
				     const u8 *secret, unsigned int hlen,
				     const char *prefix,
				     const u8 *label, unsigned int label_len,
				     const u8 *context, unsigned int context_len,
				     u8 *out, unsigned int out_len)
{
	SHASH_DESC_ON_STACK(desc, tfm);
	u8 t[TAPSEC_TLS13_SECRET_MAX], hdr[3], clen = context_len, ctr;
	unsigned int done = 0, n;
	int err;

	err = crypto_shash_setkey(tfm, secret, hlen);
	if (err)
		return err;
	desc->tfm = tfm;
	put_unaligned_be16(out_len, hdr);
	hdr[2] = 6 + label_len;
	for (ctr = 1; done < out_len; ctr++) {
		err = crypto_shash_init(desc);
		if (!err && done)
			err = crypto_shash_update(desc, t, hlen);
		if (!err)
			err = crypto_shash_update(desc, hdr, sizeof(hdr));
		if (!err)
			err = crypto_shash_update(desc, (const u8 *)prefix, 6);
		if (!err)
			err = crypto_shash_update(desc, label, label_len);
		if (!err)
			err = crypto_shash_update(desc, &clen, 1);
		if (!err && context_len)
			err = crypto_shash_update(desc, context, context_len);
		if (!err)
			err = crypto_shash_update(desc, &ctr, 1);
		if (!err)
			err = crypto_shash_final(desc, t);
		if (err)
			break;
		n = min(hlen, out_len - done);
		memcpy(out + done, t, n);
		done += n;
	}
	shash_desc_zero(desc);
	memzero_explicit(t, sizeof(t));
	return err;
}

/**
 * tapsec_tls13_derive() - HKDF-Expand-Label with an empty context
 * @cipher: TAPSEC_CIPHER_*: selects the hash
 * @secret: the secret, as long as the hash
 * @prefix: TAPSEC_TLS13_LABEL or TAPSEC_DTLS13_LABEL
 * @label: the label, without the prefix
 * @out: where the output goes
 * @out_len: bytes of output
 *
 * Return: 0 or an error of the crypto API.
 */
int tapsec_tls13_derive(u16 cipher, const u8 *secret, const char *prefix,
			const char *label, u8 *out, unsigned int out_len)
{
	struct crypto_shash *tfm = tapsec_tls13_shash(cipher, true);
	int err;

	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	err = tapsec_tls13_expand_label(tfm, secret,
					tapsec_tls13_hash_len(cipher), prefix,
					(const u8 *)label, strlen(label),
					NULL, 0, out, out_len);
	crypto_free_shash(tfm);
	return err;
}

/**
 * tapsec_tls13_next() - the next generation of a direction's secret
 * @cipher: TAPSEC_CIPHER_*
 * @secret: the current traffic secret
 * @prefix: TAPSEC_TLS13_LABEL or TAPSEC_DTLS13_LABEL
 * @g: the next secret, its key and IV (RFC 8446 7.2 and 7.3)
 *
 * Return: 0 or an error of the crypto API.
 */
int tapsec_tls13_next(u16 cipher, const u8 *secret, const char *prefix,
		      struct tapsec_tls13_gen *g)
{
	int err;

	err = tapsec_tls13_derive(cipher, secret, prefix, "traffic upd",
				  g->secret, tapsec_tls13_hash_len(cipher));
	if (!err)
		err = tapsec_tls13_derive(cipher, g->secret, prefix, "key",
					  g->key, tapsec_tls13_key_len(cipher));
	if (!err)
		err = tapsec_tls13_derive(cipher, g->secret, prefix, "iv",
					  g->iv, TAPSEC_NONCE_LEN);
	return err;
}

/*
 * Derive the next generation of @d and prepare its AEAD in @na, so that
 * the switch itself cannot fail.
 */
static int tapsec_tls13_prepare(struct tapsec_tls_dir *d,
				struct tapsec_tls13_gen *g,
				struct tapsec_aead *na)
{
	int err = tapsec_tls13_next(d->aead.cipher, d->secret,
				    TAPSEC_TLS13_LABEL, g);

	if (err)
		return err;
	return tapsec_aead_init(na, d->aead.cipher, g->key,
				tapsec_tls13_key_len(d->aead.cipher));
}

/* Switch @d to the generation prepared by tapsec_tls13_prepare(). */
static void tapsec_tls13_switch(struct tapsec_tls_dir *d,
				const struct tapsec_tls13_gen *g,
				struct tapsec_aead *na)
{
	u16 cipher = d->aead.cipher;

	tapsec_aead_wipe(&d->aead);
	d->aead = *na;
	memzero_explicit(na, sizeof(*na));
	memcpy(d->aead.iv, g->iv, TAPSEC_NONCE_LEN);
	d->aead.seq = 0;
	d->key_len = tapsec_tls13_key_len(cipher);
	memcpy(d->key, g->key, d->key_len);
	memcpy(d->secret, g->secret, d->secret_len);
}

/**
 * tapsec_tls13_tx_update() - send a KeyUpdate and switch the transmit key
 * @sk: the socket, owned by the caller, who holds the transmit lock
 * @ctx: its context, with a transmit side
 * @flags: MSG_DONTWAIT and friends for TCP
 * @request: ask the peer to update its key too (update_requested)
 *
 * Buffered data goes out under the current key first, then the KeyUpdate;
 * every later record is sealed under the next key with sequence number 0.
 * If TCP cannot take the KeyUpdate at once it stays pending and goes out
 * before anything else.
 *
 * Return: 0; -EPROTO without a TLS 1.3 traffic secret; -EPIPE after
 * close_notify; -EAGAIN when buffered data could not be sent without
 * waiting; or another negative errno.
 */
int tapsec_tls13_tx_update(struct sock *sk, struct tapsec_ctx *ctx,
			   int flags, bool request)
{
	struct tapsec_tls *tls = ctx->engine_priv;
	struct tapsec_tls_tx *tx = tls->tx;
	struct tapsec_tls_dir *d = &tx->d;
	struct tapsec_aead na = {};
	struct tapsec_tls13_gen g;
	u8 type = tx->open_type;
	u8 *p;
	int err;

	if (d->version != TAPSEC_TLS_1_3_VERSION || !d->secret_len)
		return -EPROTO;
	if (tx->closed)
		return -EPIPE;
	err = tapsec_tls_tx_flush(sk, ctx, flags);
	if (err)
		return err;
	if (d->aead.exhausted) {
		TAPSEC_COUNT(ctx, key_exhausted, 1);
		return -EKEYEXPIRED;
	}
	tapsec_tls_tx_fresh(tx);
	err = tapsec_tls13_prepare(d, &g, &na);
	if (err)
		goto out;

	p = tx->buf + TAPSEC_TLS_HEADER_LEN;	/* no explicit nonce */
	p[0] = TAPSEC_TLS13_KEY_UPDATE;
	p[1] = 0;
	p[2] = 0;
	p[3] = 1;
	p[4] = request;
	tx->open_type = TAPSEC_RECORD_HANDSHAKE;
	tx->open_len = TAPSEC_TLS13_KU_LEN;
	err = tapsec_tls_seal(ctx, tx);
	/* A sendmsg() that crossed the soft limit goes on with its type. */
	tx->open_type = type;
	if (err) {
		tapsec_aead_wipe(&na);
		goto out;
	}
	tapsec_tls13_switch(d, &g, &na);
	tapsec_tls_tx_key_born(ctx, tx);
	WRITE_ONCE(tls->ku_pending, false);
	TAPSEC_COUNT(ctx, tx_key_updates, 1);
	err = tapsec_tls_push(sk, tx, flags);
	if (err == -EAGAIN)	/* pending: it goes out before any other */
		err = 0;
out:
	memzero_explicit(&g, sizeof(g));
	return err;
}

/**
 * tapsec_tls13_rx_handshake() - a KeyUpdate in a received handshake record
 * @sk: the socket, owned by the caller
 * @ctx: its context
 * @rx: its receive side, with a traffic secret and an opened handshake
 *	record
 *
 * A KeyUpdate must end its record (RFC 8446 5.1).  The receive key
 * switches to the next generation for the records after this one; when
 * the peer asked for an update, ours is sent before our next record (from
 * the transmit work item, or the next send).  Messages before the
 * KeyUpdate of a delegated handshake go to tapsec_tls_post_handshake().
 *
 * Return: 1 when the record was consumed, 0 when it holds no KeyUpdate
 * (or handshake messages for the application), or a negative errno.
 */
int tapsec_tls13_rx_handshake(struct sock *sk, struct tapsec_ctx *ctx,
			      struct tapsec_tls_rx *rx)
{
	const u8 *buf = rx->buf + rx->data_off;
	struct tapsec_tls *tls = ctx->engine_priv;
	u32 len = rx->data_len, off = 0, mlen = 0;
	struct tapsec_aead na = {};
	struct tapsec_tls13_gen g;
	bool request;
	int err;

	while (off < len) {
		if (len - off < 4)
			return 0;
		mlen = (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3];
		if (mlen > len - off - 4)
			return 0;
		if (buf[off] == TAPSEC_TLS13_KEY_UPDATE)
			break;
		off += 4 + mlen;
	}
	if (off >= len)
		return 0;
	if (mlen != 1 || buf[off + 4] > 1 || off + TAPSEC_TLS13_KU_LEN != len)
		return -EPROTO;
	if (off) {
		if (!tapsec_hs_delegated(ctx))
			return 0;
		err = tapsec_tls_post_handshake(ctx, buf, off);
		if (err)
			return err;
	}
	request = buf[off + 4];
	if (request && (!tls->tx || !tls->tx->d.secret_len))
		return -EPROTO;	/* we could not answer */

	err = tapsec_tls13_prepare(&rx->d, &g, &na);
	if (!err) {
		tapsec_tls13_switch(&rx->d, &g, &na);
		TAPSEC_COUNT(ctx, rx_key_updates, 1);
		if (request && !tls->ku_pending) {
			WRITE_ONCE(tls->ku_pending, true);
			schedule_work(&tls->tx_work);
		}
	}
	memzero_explicit(&g, sizeof(g));
	return err ?: 1;
}

/**
 * tapsec_tls13_get_secret() - read a struct tapsec_tls13_secret option
 * @optval: the option value
 * @optlen: its length, exactly the structure's
 * @s: the secret out; the caller wipes it
 *
 * Return: 0, -EINVAL for a wrong length, cipher or secret length, -EFAULT.
 */
int tapsec_tls13_get_secret(sockptr_t optval, unsigned int optlen,
			    struct tapsec_tls13_secret *s)
{
	if (optlen != sizeof(*s))
		return -EINVAL;
	if (copy_from_sockptr(s, optval, sizeof(*s)))
		return -EFAULT;
	if (!tapsec_tls13_hash_len(s->cipher) ||
	    s->len != tapsec_tls13_hash_len(s->cipher))
		return -EINVAL;
	return 0;
}

/* TAPSEC_TX_SECRET/RX_SECRET: the direction's key must be TLS 1.3. */
static int tapsec_tls13_set_dir_secret(struct sock *sk, struct tapsec_tls *tls,
				       bool is_tx,
				       const struct tapsec_tls13_secret *s)
{
	struct mutex *lock = is_tx ? &tls->tx_lock : &tls->rx_lock;
	struct tapsec_tls_dir *d = NULL;
	int err = 0;

	mutex_lock(lock);
	lock_sock(sk);
	if (is_tx && tls->tx)
		d = &tls->tx->d;
	else if (!is_tx && tls->rx)
		d = &tls->rx->d;
	if (!d || !d->key_len) {
		err = -ENOKEY;
	} else if (d->version != TAPSEC_TLS_1_3_VERSION ||
		   d->aead.cipher != s->cipher) {
		err = -EINVAL;
	} else {
		memzero_explicit(d->secret, sizeof(d->secret));
		memcpy(d->secret, s->secret, s->len);
		d->secret_len = s->len;
	}
	release_sock(sk);
	mutex_unlock(lock);
	return err;
}

static int tapsec_tls13_set_exporter(struct sock *sk, struct tapsec_tls *tls,
				     const struct tapsec_tls13_secret *s)
{
	int err = 0;

	lock_sock(sk);
	if ((!tls->tx || tls->tx->d.version != TAPSEC_TLS_1_3_VERSION) &&
	    (!tls->rx || tls->rx->d.version != TAPSEC_TLS_1_3_VERSION)) {
		err = tls->tx || tls->rx ? -EOPNOTSUPP : -ENOKEY;
	} else {
		memzero_explicit(tls->exporter, sizeof(tls->exporter));
		memcpy(tls->exporter, s->secret, s->len);
		tls->exporter_len = s->len;
		tls->exporter_cipher = s->cipher;
	}
	release_sock(sk);
	return err;
}

/**
 * tapsec_tls13_setsockopt() - TLS 1.3 secrets and KeyUpdate
 * @sk: the stream socket
 * @ctx: its context
 * @optname: TAPSEC_TX_SECRET, TAPSEC_RX_SECRET, TAPSEC_EXPORTER_SECRET or
 *	TAPSEC_KEY_UPDATE
 * @optval: a struct tapsec_tls13_secret, an int for TAPSEC_KEY_UPDATE
 * @optlen: its size
 *
 * A secret replaces (and wipes) the one set before.  A traffic secret
 * goes with the key installed in that direction, and installing another
 * key with TAPSEC_TX/RX drops it.
 *
 * Return: 0; -ENOKEY without the key the option needs; -EINVAL for a bad
 * value or a secret of another cipher or version than the key; -EPROTO
 * for TAPSEC_KEY_UPDATE without a transmit traffic secret; -EOPNOTSUPP
 * for an exporter secret on TLS 1.2; or another negative errno.
 */
int tapsec_tls13_setsockopt(struct sock *sk, struct tapsec_ctx *ctx,
			    int optname, sockptr_t optval, unsigned int optlen)
{
	struct tapsec_tls *tls = READ_ONCE(ctx->engine_priv);
	struct tapsec_tls13_secret s;
	int err, val;

	if (ctx->protocol != TAPSEC_PROTO_TLS)
		return -EPROTOTYPE;
	if (optname == TAPSEC_KEY_UPDATE) {
		if (optlen != sizeof(val))
			return -EINVAL;
		if (copy_from_sockptr(&val, optval, sizeof(val)))
			return -EFAULT;
		if (val != TAPSEC_KEY_UPDATE_NOT_REQUESTED &&
		    val != TAPSEC_KEY_UPDATE_REQUESTED)
			return -EINVAL;
		if (!tls)
			return -ENOKEY;
		mutex_lock(&tls->tx_lock);
		lock_sock(sk);
		err = tls->tx ? tapsec_tls13_tx_update(sk, ctx, 0, val) :
				-ENOKEY;
		release_sock(sk);
		mutex_unlock(&tls->tx_lock);
		return err;
	}

	err = tapsec_tls13_get_secret(optval, optlen, &s);
	if (!err && !tls)
		err = -ENOKEY;
	if (err)
		goto out;
	if (optname == TAPSEC_EXPORTER_SECRET)
		err = tapsec_tls13_set_exporter(sk, tls, &s);
	else
		err = tapsec_tls13_set_dir_secret(sk, tls,
						  optname == TAPSEC_TX_SECRET,
						  &s);
out:
	memzero_explicit(&s, sizeof(s));
	return err;
}

/*
 * TLS-Exporter(label, context, out_len) of RFC 8446 7.5:
 * HKDF-Expand-Label(Derive-Secret(secret, label, ""), "exporter",
 * Hash(context), out_len).  No context and an empty one are the same.
 */
static int tapsec_tls13_export(u16 cipher, const u8 *secret,
			       const struct tapsec_export_req *req, u8 *out)
{
	unsigned int hlen = tapsec_tls13_hash_len(cipher);
	u8 empty[TAPSEC_TLS13_SECRET_MAX], chash[TAPSEC_TLS13_SECRET_MAX];
	u8 derived[TAPSEC_TLS13_SECRET_MAX];
	struct crypto_shash *hash, *hmac;
	int err;

	hash = tapsec_tls13_shash(cipher, false);
	if (IS_ERR(hash))
		return PTR_ERR(hash);
	hmac = tapsec_tls13_shash(cipher, true);
	if (IS_ERR(hmac)) {
		crypto_free_shash(hash);
		return PTR_ERR(hmac);
	}
	err = crypto_shash_tfm_digest(hash, NULL, 0, empty);
	if (!err)
		err = crypto_shash_tfm_digest(hash, req->context,
					      req->context_len, chash);
	if (!err)
		err = tapsec_tls13_expand_label(hmac, secret, hlen,
						TAPSEC_TLS13_LABEL, req->label,
						req->label_len, empty, hlen,
						derived, hlen);
	if (!err)
		err = tapsec_tls13_expand_label(hmac, derived, hlen,
						TAPSEC_TLS13_LABEL,
						(const u8 *)"exporter", 8,
						chash, hlen, out, req->out_len);
	memzero_explicit(derived, sizeof(derived));
	crypto_free_shash(hmac);
	crypto_free_shash(hash);
	return err;
}

/**
 * tapsec_tls13_getsockopt() - TAPSEC_EXPORT
 * @sk: the stream socket
 * @ctx: its context
 * @optname: TAPSEC_EXPORT (secrets and TAPSEC_KEY_UPDATE: -EPERM, they
 *	are not readable)
 * @optval: in: a struct tapsec_export_req; out: out_len exporter bytes
 * @optlen: in: size of @optval, at least the request's; out: out_len
 *
 * Return: 0; -ENOKEY without an exporter secret; -EOPNOTSUPP on a TLS 1.2
 * connection; -EINVAL for a bad request; or another negative errno.
 */
int tapsec_tls13_getsockopt(struct sock *sk, struct tapsec_ctx *ctx,
			    int optname, char __user *optval,
			    int __user *optlen)
{
	u8 secret[TAPSEC_TLS13_SECRET_MAX], out[TAPSEC_EXPORT_OUT_MAX];
	struct tapsec_export_req *req;
	struct tapsec_tls *tls;
	u16 cipher = 0;
	int len, err = 0;

	if (optname != TAPSEC_EXPORT)
		return -EPERM;
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < (int)sizeof(*req))
		return -EINVAL;
	req = kmalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	if (copy_from_user(req, optval, sizeof(*req))) {
		err = -EFAULT;
		goto out;
	}
	if (req->label_len > TAPSEC_EXPORT_LABEL_MAX ||
	    req->context_len > TAPSEC_EXPORT_CONTEXT_MAX ||
	    !req->out_len || req->out_len > TAPSEC_EXPORT_OUT_MAX) {
		err = -EINVAL;
		goto out;
	}

	lock_sock(sk);
	tls = ctx->engine_priv;
	if (tls && tls->exporter_len) {
		cipher = tls->exporter_cipher;
		memcpy(secret, tls->exporter, tls->exporter_len);
	} else if (READ_ONCE(ctx->tx_version) == TAPSEC_TLS_1_2_VERSION ||
		   READ_ONCE(ctx->rx_version) == TAPSEC_TLS_1_2_VERSION) {
		err = -EOPNOTSUPP;
	} else {
		err = -ENOKEY;
	}
	release_sock(sk);
	if (!err)
		err = tapsec_tls13_export(cipher, secret, req, out);
	if (!err && (put_user((int)req->out_len, optlen) ||
		     copy_to_user(optval, out, req->out_len)))
		err = -EFAULT;
	memzero_explicit(secret, sizeof(secret));
	memzero_explicit(out, sizeof(out));
out:
	kfree_sensitive(req);
	return err;
}
