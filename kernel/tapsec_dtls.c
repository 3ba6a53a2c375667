// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: the DTLS engine's keys, epochs and options.
 *
 * TAPSEC_TX/RX take kTLS's crypto_info layouts with a DTLS version; the
 * top 16 bits of rec_seq are the epoch.  A direction's new key must have
 * a higher epoch.  On transmit it replaces the old key at once; on
 * receive the old epoch stays usable for TAPSEC_EPOCH_GRACE milliseconds,
 * for records the peer sent before it switched and the network delayed.
 * DTLS 1.3 directions also need their traffic secret (TAPSEC_TX_SECRET /
 * RX_SECRET), from which the record number key is derived.
 */
#include <linux/capability.h>
#include <linux/jiffies.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/udp.h>

#include "tapsec_compat.h"
#include "tapsec_dtls.h"
#include "tapsec_tls.h"

/**
 * tapsec_dtls_option() - whether the DTLS engine answers an option
 * @optname: enum tapsec_sockopt
 *
 * Return: true for the options of DTLS sockets.
 */
bool tapsec_dtls_option(int optname)
{
	switch (optname) {
	case TAPSEC_TX:
	case TAPSEC_RX:
	case TAPSEC_TX_KEY:
	case TAPSEC_RX_KEY:
	case TAPSEC_TX_SECRET:
	case TAPSEC_RX_SECRET:
	case TAPSEC_REPLAY_WINDOW:
	case TAPSEC_EPOCH_GRACE:
	case TAPSEC_MAX_PAYLOAD:
	case TAPSEC_KEY_UPDATE:
	case TAPSEC_KEY_LIMITS:
	case TAPSEC_TX_CID:
	case TAPSEC_RX_CID:
	case TAPSEC_PATH_CHECK:
	case TAPSEC_MOVE_INTERVAL:
		return true;
	default:
		return false;
	}
}

/* The lock of one direction's key. */
static struct mutex *tapsec_dtls_lock(struct tapsec_dtls *dtls, bool is_tx)
{
	return is_tx ? &dtls->tx_lock : &dtls->rx_lock;
}

/**
 * tapsec_dtls_epoch_free() - wipe and free an epoch's key
 * @ep: the epoch, or NULL
 */
void tapsec_dtls_epoch_free(struct tapsec_dtls_epoch *ep)
{
	if (!ep)
		return;
	tapsec_aead_wipe(&ep->aead);
	if (ep->sn_chacha)
		crypto_free_sync_skcipher(ep->sn_chacha);
	kfree_sensitive(ep);	/* sn_aes, the key and the secret */
}

static struct tapsec_engine_state *tapsec_dtls_make(struct tapsec_ctx *ctx)
{
	struct tapsec_dtls *dtls = kzalloc(sizeof(*dtls), GFP_KERNEL_ACCOUNT);

	if (!dtls)
		return NULL;
	mutex_init(&dtls->tx_lock);
	mutex_init(&dtls->rx_lock);
	dtls->ctx = ctx;
	dtls->window = TAPSEC_REPLAY_WINDOW_DEFAULT;
	tapsec_dtls13_init(dtls);
	skb_queue_head_init(&dtls->handed);
	dtls->grace_ms = TAPSEC_EPOCH_GRACE_DEFAULT;
	dtls->move_interval_ms = TAPSEC_MOVE_INTERVAL_DEFAULT;
	return &dtls->st;
}

/**
 * tapsec_dtls_engine() - a socket's DTLS engine, made on first use
 * @sk: the datagram socket
 * @ctx: its context
 *
 * Return: the engine, or an ERR_PTR(): -ENOMEM, or -EPROTOTYPE when the
 * socket moved to another engine (tapsec_ctx_make_state()).
 */
struct tapsec_dtls *tapsec_dtls_engine(struct sock *sk, struct tapsec_ctx *ctx)
{
	struct tapsec_engine_state *st;

	st = tapsec_ctx_make_state(sk, ctx, &tapsec_dtls_engine_ops,
				   tapsec_dtls_make);
	if (IS_ERR(st))
		return ERR_CAST(st);
	return container_of(st, struct tapsec_dtls, st);
}

/**
 * tapsec_dtls_epoch_new() - an epoch keyed from @k
 * @k: key material; the epoch is in @k->seq's top 16 bits
 *
 * Return: the epoch, or an ERR_PTR().
 */
struct tapsec_dtls_epoch *tapsec_dtls_epoch_new(const struct tapsec_keys *k)
{
	struct tapsec_dtls_epoch *ep;
	int err;

	ep = tapsec_fail_alloc() ? NULL : kzalloc(sizeof(*ep), GFP_KERNEL_ACCOUNT);
	if (!ep)
		return ERR_PTR(-ENOMEM);
	err = tapsec_aead_init(&ep->aead, k->cipher, k->key, k->key_len);
	if (err) {
		kfree(ep);
		return ERR_PTR(err);
	}
	memcpy(ep->aead.iv, k->iv, TAPSEC_NONCE_LEN);
	ep->epoch = k->seq >> 48;
	ep->aead.seq = k->seq & TAPSEC_DTLS_SEQ_MAX;
	ep->first = ep->aead.seq;
	ep->version = k->version;
	ep->explicit_len = (k->version == TAPSEC_DTLS_1_2_VERSION &&
			    k->cipher != TAPSEC_CIPHER_CHACHA20_POLY1305) ?
			   TAPSEC_DTLS_EXPLICIT_LEN : 0;
	ep->key_len = k->key_len;
	memcpy(ep->key, k->key, k->key_len);
	return ep;
}

/**
 * tapsec_dtls_rx_switch() - a new current receive epoch
 * @dtls: the engine, under its receive lock
 * @ep: the new epoch
 *
 * The current one becomes the previous one for TAPSEC_EPOCH_GRACE (or is
 * freed at once with no grace); the one before that is freed.
 */
void tapsec_dtls_rx_switch(struct tapsec_dtls *dtls,
			   struct tapsec_dtls_epoch *ep)
{
	struct tapsec_dtls_epoch *old = dtls->rx;

	tapsec_dtls_epoch_free(dtls->rx_prev);
	dtls->rx_prev = NULL;
	if (old && dtls->grace_ms) {
		dtls->rx_prev = old;
		dtls->rx_prev_until = jiffies + msecs_to_jiffies(dtls->grace_ms);
		old = NULL;
	}
	WRITE_ONCE(dtls->rx, ep);
	tapsec_dtls_epoch_free(old);
}

/* Drop the previous receive epoch once its grace time is over. */
static void tapsec_dtls_rx_expire(struct tapsec_dtls *dtls)
{
	if (dtls->rx_prev && !time_before(jiffies, dtls->rx_prev_until)) {
		tapsec_dtls_epoch_free(dtls->rx_prev);
		dtls->rx_prev = NULL;
	}
}

/**
 * tapsec_dtls_rx_epoch() - the receive epoch a record belongs to
 * @dtls: the engine, under its receive lock
 * @epoch: the record's epoch, or its low bits (DTLS 1.3)
 * @bits: the bits of the epoch @epoch holds
 *
 * Return: the current epoch, the previous one while its grace time
 * lasts, or NULL.
 */
struct tapsec_dtls_epoch *tapsec_dtls_rx_epoch(struct tapsec_dtls *dtls,
					       u16 epoch, u16 bits)
{
	tapsec_dtls_rx_expire(dtls);
	if ((dtls->rx->epoch & bits) == epoch)
		return dtls->rx;
	if (dtls->rx_prev && (dtls->rx_prev->epoch & bits) == epoch)
		return dtls->rx_prev;
	return NULL;
}

/**
 * tapsec_dtls_tx_cid_copy() - give a transmit epoch the socket's TAPSEC_TX_CID
 * @dtls: the engine, under its transmit lock
 * @ep: the epoch about to become the transmit one
 */
void tapsec_dtls_tx_cid_copy(struct tapsec_dtls *dtls,
			     struct tapsec_dtls_epoch *ep)
{
	ep->cid_len = tapsec_dtls13(ep) ? dtls->tx_cid_len : 0;
	memcpy(ep->cid, dtls->tx_cid, ep->cid_len);
}

/*
 * TAPSEC_TX_CID and TAPSEC_RX_CID.  A socket accepted from a listener
 * files itself under its receive connection ID there, so that the
 * listener finds it when the peer's address changes.
 */
static int tapsec_dtls_set_cid(struct tapsec_dtls *dtls, bool is_tx,
			       sockptr_t optval, unsigned int optlen)
{
	struct tapsec_dtls_epoch *ep;
	u8 cid[TAPSEC_CID_MAX];
	int err = 0;

	if (optlen > TAPSEC_CID_MAX)
		return -EINVAL;
	if (copy_from_sockptr(cid, optval, optlen))
		return -EFAULT;
	mutex_lock(tapsec_dtls_lock(dtls, is_tx));
	ep = is_tx ? dtls->tx : dtls->rx;
	if (optlen && ep && !tapsec_dtls13(ep)) {
		err = -EOPNOTSUPP;
	} else if (is_tx) {
		dtls->tx_cid_len = optlen;
		memcpy(dtls->tx_cid, cid, optlen);
		if (ep)
			tapsec_dtls_tx_cid_copy(dtls, ep);
	} else {
		if (dtls->cids && !dtls->listener)
			err = tapsec_dtls_cid_register(dtls, cid, optlen);
		if (!err) {
			dtls->rx_cid_len = optlen;
			memcpy(dtls->rx_cid, cid, optlen);
		}
	}
	mutex_unlock(tapsec_dtls_lock(dtls, is_tx));
	return err;
}

static int tapsec_dtls_set_key(struct sock *sk, struct tapsec_ctx *ctx,
			       struct tapsec_dtls *dtls, bool is_tx,
			       const struct tapsec_keys *k)
{
	struct tapsec_dtls_epoch *old = is_tx ? dtls->tx : dtls->rx, *ep;
	u8 **buf = is_tx ? &dtls->tx_buf : &dtls->rx_buf;

	if (old && ((k->seq >> 48) <= old->epoch || k->version != old->version))
		return -EINVAL;
	/* RFC 9146's DTLS 1.2 connection IDs frame records otherwise. */
	if (k->version == TAPSEC_DTLS_1_2_VERSION &&
	    (is_tx ? dtls->tx_cid_len : dtls->rx_cid_len))
		return -EOPNOTSUPP;
	if (!*buf) {
		*buf = tapsec_fail_alloc() ? NULL :
		       kmalloc(TAPSEC_DTLS_BUF_LEN, GFP_KERNEL_ACCOUNT);
		if (!*buf)
			return -ENOMEM;
	}
	ep = tapsec_dtls_epoch_new(k);
	if (IS_ERR(ep))
		return PTR_ERR(ep);

	lock_sock(sk);
	if (is_tx) {
		tapsec_dtls_tx_cid_copy(dtls, ep);
		WRITE_ONCE(dtls->tx, ep);
		WRITE_ONCE(ctx->tx_version, k->version);
		WRITE_ONCE(ctx->tx_cipher, k->cipher);
		tapsec_key_use_born(ctx, &dtls->tx_use);
	} else {
		tapsec_dtls_rx_switch(dtls, ep);
		old = NULL;
		WRITE_ONCE(ctx->rx_version, k->version);
		WRITE_ONCE(ctx->rx_cipher, k->cipher);
	}
	WRITE_ONCE(ctx->state, TAPSEC_STATE_ESTABLISHED);
	release_sock(sk);
	tapsec_dtls_epoch_free(old);
	return 0;
}

/**
 * tapsec_dtls_set_secret() - a DTLS 1.3 epoch's secret and record number key
 * @ep: the epoch, or NULL (-ENOKEY)
 * @s: its traffic secret (TAPSEC_TX_SECRET/RX_SECRET)
 *
 * Return: 0; -EINVAL for DTLS 1.2 or another cipher; -EBUSY when set
 * already; a crypto API error.
 */
int tapsec_dtls_set_secret(struct tapsec_dtls_epoch *ep,
			   const struct tapsec_tls13_secret *s)
{
	struct crypto_sync_skcipher *tfm = NULL;
	u8 sn_key[TAPSEC_MAX_KEY_LEN];
	int err;

	if (!ep)
		return -ENOKEY;
	if (ep->version != TAPSEC_DTLS_1_3_VERSION ||
	    s->cipher != ep->aead.cipher)
		return -EINVAL;
	if (ep->has_sn)
		return -EBUSY;
	err = tapsec_tls13_derive(s->cipher, s->secret, TAPSEC_DTLS13_LABEL,
				  "sn", sn_key, ep->key_len);
	if (err)
		goto out;
	if (s->cipher == TAPSEC_CIPHER_CHACHA20_POLY1305) {
		tfm = crypto_alloc_sync_skcipher("chacha20", 0, 0);
		if (IS_ERR(tfm)) {
			err = PTR_ERR(tfm);
			goto out;
		}
		err = crypto_sync_skcipher_setkey(tfm, sn_key, ep->key_len);
		if (err) {
			crypto_free_sync_skcipher(tfm);
			goto out;
		}
		ep->sn_chacha = tfm;
	} else {
		err = aes_expandkey(&ep->sn_aes, sn_key, ep->key_len);
		if (err)
			goto out;
	}
	memcpy(ep->secret, s->secret, s->len);
	ep->secret_len = s->len;
	ep->has_sn = true;
out:
	memzero_explicit(sn_key, sizeof(sn_key));
	return err;
}

static int tapsec_dtls_get_u32(sockptr_t optval, unsigned int optlen,
			       u32 *val)
{
	if (optlen != sizeof(*val))
		return -EINVAL;
	return copy_from_sockptr(val, optval, sizeof(*val)) ? -EFAULT : 0;
}

static int tapsec_dtls_set_param(struct tapsec_dtls *dtls, int optname,
				 sockptr_t optval, unsigned int optlen)
{
	u32 val;
	int err = tapsec_dtls_get_u32(optval, optlen, &val);

	if (err)
		return err;
	if (optname == TAPSEC_REPLAY_WINDOW) {
		if (val < TAPSEC_REPLAY_WINDOW_MIN ||
		    val > TAPSEC_REPLAY_WINDOW_MAX)
			return -EINVAL;
		mutex_lock(&dtls->rx_lock);
		dtls->window = val;
		mutex_unlock(&dtls->rx_lock);
		return 0;
	}
	if ((optname == TAPSEC_EPOCH_GRACE && val > TAPSEC_EPOCH_GRACE_MAX) ||
	    (optname == TAPSEC_PATH_CHECK && val > 1) ||
	    (optname == TAPSEC_MOVE_INTERVAL && val > TAPSEC_MOVE_INTERVAL_MAX))
		return -EINVAL;
	mutex_lock(&dtls->rx_lock);
	if (optname == TAPSEC_EPOCH_GRACE)
		dtls->grace_ms = val;
	else if (optname == TAPSEC_PATH_CHECK)
		dtls->path_check = val;
	else
		dtls->move_interval_ms = val;
	mutex_unlock(&dtls->rx_lock);
	return 0;
}

/**
 * tapsec_dtls_setsockopt() - SOL_TAPSEC options of a DTLS socket
 * @sk: the datagram socket
 * @ctx: its context
 * @optname: an option tapsec_dtls_option() accepts
 * @optval: option value
 * @optlen: length of @optval
 *
 * Return: 0; -EPROTOTYPE on a socket that is not DTLS; -EINVAL for a bad
 * value, a non-DTLS version or an epoch that does not move forward;
 * -ENOTCONN for keys on an unconnected socket; -ENOKEY for a secret
 * before its key; -EPERM for read-only options; -EOPNOTSUPP for
 * connection IDs with DTLS 1.2; -EADDRINUSE for a receive connection ID
 * another socket accepted from the same listener has; or a crypto API
 * error.
 */
int tapsec_dtls_setsockopt(struct sock *sk, struct tapsec_ctx *ctx,
			   int optname, sockptr_t optval, unsigned int optlen)
{
	bool is_tx = optname == TAPSEC_TX || optname == TAPSEC_TX_SECRET;
	struct tapsec_tls13_secret s;
	struct tapsec_dtls *dtls;
	struct tapsec_keys k;
	int err;

	if (optname == TAPSEC_TX_KEY || optname == TAPSEC_RX_KEY ||
	    optname == TAPSEC_MAX_PAYLOAD)
		return -EPERM;
	if (READ_ONCE(ctx->protocol) != TAPSEC_PROTO_DTLS)
		return optname == TAPSEC_TX || optname == TAPSEC_RX ?
		       -EPROTONOSUPPORT : -EPROTOTYPE;
	dtls = tapsec_dtls_engine(sk, ctx);
	if (IS_ERR(dtls))
		return PTR_ERR(dtls);
	if (optname == TAPSEC_REPLAY_WINDOW || optname == TAPSEC_EPOCH_GRACE ||
	    optname == TAPSEC_PATH_CHECK || optname == TAPSEC_MOVE_INTERVAL)
		return tapsec_dtls_set_param(dtls, optname, optval, optlen);
	if (optname == TAPSEC_TX_CID || optname == TAPSEC_RX_CID)
		return tapsec_dtls_set_cid(dtls, optname == TAPSEC_TX_CID,
					   optval, optlen);
	if (optname == TAPSEC_KEY_LIMITS) {
		struct tapsec_key_limits lim;

		err = tapsec_key_limits_get(optval, optlen, &lim);
		if (err)
			return err;
		mutex_lock(&dtls->tx_lock);
		if (dtls->tx) {
			dtls->tx_use.lim = lim;
			dtls->tx_use.expiring = false;
		} else {
			err = -ENOKEY;
		}
		mutex_unlock(&dtls->tx_lock);
		return err;
	}
	if (optname == TAPSEC_KEY_UPDATE) {
		u32 val;

		err = tapsec_dtls_get_u32(optval, optlen, &val);
		if (!err && val > TAPSEC_KEY_UPDATE_REQUESTED)
			err = -EINVAL;
		return err ?: tapsec_dtls13_key_update(sk, ctx, val);
	}

	if (optname == TAPSEC_TX_SECRET || optname == TAPSEC_RX_SECRET) {
		err = tapsec_tls13_get_secret(optval, optlen, &s);
		if (!err) {
			mutex_lock(tapsec_dtls_lock(dtls, is_tx));
			err = tapsec_dtls_set_secret(is_tx ? dtls->tx : dtls->rx,
						     &s);
			mutex_unlock(tapsec_dtls_lock(dtls, is_tx));
		}
		memzero_explicit(&s, sizeof(s));
		return err;
	}

	err = tapsec_aead_parse(optval, optlen, &k);
	if (!err && k.version != TAPSEC_DTLS_1_2_VERSION &&
	    k.version != TAPSEC_DTLS_1_3_VERSION)
		err = -EINVAL;
	if (!err && READ_ONCE(sk->sk_state) != TCP_ESTABLISHED)
		err = -ENOTCONN;
	if (!err) {
		mutex_lock(tapsec_dtls_lock(dtls, is_tx));
		err = tapsec_dtls_set_key(sk, ctx, dtls, is_tx, &k);
		mutex_unlock(tapsec_dtls_lock(dtls, is_tx));
	}
	memzero_explicit(&k, sizeof(k));
	return err;
}

/**
 * tapsec_dtls_max_payload() - largest payload one record may carry now
 * @sk: the connected socket
 * @ep: its transmit epoch
 *
 * The route's MTU less the IP and UDP headers and the record's overhead,
 * at most TAPSEC_DTLS_MAX_PLAINTEXT.  A stale route is looked up again
 * first (the datagram release callback does that for connected sockets).
 *
 * Return: the number of bytes, 0 when not even an empty record fits.
 */
int tapsec_dtls_max_payload(struct sock *sk,
			    const struct tapsec_dtls_epoch *ep)
{
	int room = TAPSEC_DTLS_MAX_PLAINTEXT, iph = sizeof(struct iphdr);
	struct dst_entry *dst;

#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6 &&
	    !ipv6_addr_v4mapped(&sk->sk_v6_daddr))
		iph = sizeof(struct ipv6hdr);
#endif
	lock_sock(sk);
	if (sk->sk_prot->release_cb)
		sk->sk_prot->release_cb(sk);
	dst = __sk_dst_get(sk);
	if (dst)
		room = min_t(int, room, (int)dst_mtu(dst) - iph -
			     (int)sizeof(struct udphdr) -
			     (int)tapsec_dtls_overhead(ep));
	release_sock(sk);
	return max(room, 0);
}

static int tapsec_dtls_get_key(struct tapsec_dtls *dtls, int optname,
			       char __user *optval, int __user *optlen)
{
	bool with_key = optname == TAPSEC_TX_KEY || optname == TAPSEC_RX_KEY;
	bool is_tx = optname == TAPSEC_TX || optname == TAPSEC_TX_KEY;
	union tapsec_crypto_info_any ci = {};
	struct tapsec_dtls_epoch *ep;
	unsigned int size = 0;
	int len, err = 0;

	if (get_user(len, optlen))
		return -EFAULT;
	mutex_lock(tapsec_dtls_lock(dtls, is_tx));
	ep = is_tx ? dtls->tx : dtls->rx;
	if (ep)
		size = tapsec_aead_pack(&ep->aead, ep->version,
					with_key ? ep->key : NULL,
					(u64)ep->epoch << 48 |
					(is_tx ? ep->aead.seq :
					 ep->replay.any ? ep->replay.top + 1 :
					 ep->first), &ci);
	else
		err = -ENOKEY;
	mutex_unlock(tapsec_dtls_lock(dtls, is_tx));
	return err ?: tapsec_aead_info_out(&ci, size, len, optval, optlen);
}

/* TAPSEC_KEY_LIMITS read back, the default soft record limit resolved. */
static int tapsec_dtls_get_limits(struct tapsec_dtls *dtls,
				  char __user *optval, int __user *optlen)
{
	struct tapsec_key_limits lim = {};
	int err = 0;

	if (!dtls)
		return -ENOKEY;
	mutex_lock(&dtls->tx_lock);
	if (dtls->tx) {
		lim = dtls->tx_use.lim;
		lim.soft_records =
			tapsec_key_use_soft_records(&dtls->tx_use,
						    dtls->tx->aead.cipher);
	} else {
		err = -ENOKEY;
	}
	mutex_unlock(&dtls->tx_lock);
	return err ?: tapsec_copy_out(&lim, sizeof(lim), optval, optlen);
}

static int tapsec_dtls_get_cid(struct tapsec_dtls *dtls, bool is_tx,
			       char __user *optval, int __user *optlen)
{
	u8 cid[TAPSEC_CID_MAX];
	unsigned int n = 0;
	int len;

	if (get_user(len, optlen))
		return -EFAULT;
	if (dtls) {
		mutex_lock(tapsec_dtls_lock(dtls, is_tx));
		n = is_tx ? dtls->tx_cid_len : dtls->rx_cid_len;
		memcpy(cid, is_tx ? dtls->tx_cid : dtls->rx_cid, n);
		mutex_unlock(tapsec_dtls_lock(dtls, is_tx));
	}
	if (len < 0 || len < (int)n)
		return -EINVAL;
	if (copy_to_user(optval, cid, n) || put_user(n, optlen))
		return -EFAULT;
	return 0;
}

/**
 * tapsec_dtls_getsockopt() - read SOL_TAPSEC options of a DTLS socket
 * @sk: the datagram socket
 * @ctx: its context
 * @optname: an option tapsec_dtls_option() accepts
 * @optval: user buffer
 * @optlen: in: its size; out: bytes written
 *
 * Keys read back with rec_seq the next sequence number (transmit) or the
 * one after the highest received (receive).
 *
 * Return: 0; -ENOKEY without the key asked about; -EPERM for the key
 * itself without CAP_NET_ADMIN, or for secrets; -ENOTCONN for
 * TAPSEC_MAX_PAYLOAD on an unconnected socket; -EINVAL, -EFAULT.
 */
int tapsec_dtls_getsockopt(struct sock *sk, struct tapsec_ctx *ctx,
			   int optname, char __user *optval,
			   int __user *optlen)
{
	struct tapsec_dtls *dtls = tapsec_dtls_of(ctx);
	u32 val;

	switch (optname) {
	case TAPSEC_TX_SECRET:
	case TAPSEC_RX_SECRET:
		return -EPERM;	/* never read back */
	case TAPSEC_REPLAY_WINDOW:
		val = dtls ? READ_ONCE(dtls->window) :
		      TAPSEC_REPLAY_WINDOW_DEFAULT;
		return tapsec_copy_out(&val, sizeof(val), optval, optlen);
	case TAPSEC_EPOCH_GRACE:
		val = dtls ? READ_ONCE(dtls->grace_ms) :
		      TAPSEC_EPOCH_GRACE_DEFAULT;
		return tapsec_copy_out(&val, sizeof(val), optval, optlen);
	case TAPSEC_PATH_CHECK:
		val = dtls ? READ_ONCE(dtls->path_check) : 0;
		return tapsec_copy_out(&val, sizeof(val), optval, optlen);
	case TAPSEC_MOVE_INTERVAL:
		val = dtls ? READ_ONCE(dtls->move_interval_ms) :
		      TAPSEC_MOVE_INTERVAL_DEFAULT;
		return tapsec_copy_out(&val, sizeof(val), optval, optlen);
	case TAPSEC_KEY_LIMITS:
		return tapsec_dtls_get_limits(dtls, optval, optlen);
	case TAPSEC_KEY_UPDATE:
		return -EPERM;	/* write only */
	case TAPSEC_TX_CID:
	case TAPSEC_RX_CID:
		return tapsec_dtls_get_cid(dtls, optname == TAPSEC_TX_CID,
					   optval, optlen);
	case TAPSEC_TX_KEY:
	case TAPSEC_RX_KEY:
	case TAPSEC_TX:
	case TAPSEC_RX:
		if (!dtls)
			return -ENOKEY;
		return tapsec_dtls_get_key(dtls, optname, optval, optlen);
	default:	/* TAPSEC_MAX_PAYLOAD */
		if (READ_ONCE(sk->sk_state) != TCP_ESTABLISHED)
			return -ENOTCONN;
		if (!dtls)
			return -ENOKEY;
		mutex_lock(&dtls->tx_lock);
		val = dtls->tx ? tapsec_dtls_max_payload(sk, dtls->tx) : 0;
		mutex_unlock(&dtls->tx_lock);
		if (!READ_ONCE(dtls->tx))
			return -ENOKEY;
		return tapsec_copy_out(&val, sizeof(val), optval, optlen);
	}
}

/**
 * tapsec_dtls_stop() - stop a socket's DTLS engine
 * @ctx: the context, whose socket is being destroyed (->destroy)
 *
 * In process context: the KeyUpdate timer is stopped, a listener's hook
 * is taken out and a child leaves its listener's connection ID table,
 * each waited for, so that nothing runs on the engine any more.
 */
void tapsec_dtls_stop(struct tapsec_ctx *ctx)
{
	struct tapsec_dtls *dtls = tapsec_dtls_of(ctx);

	if (!dtls || dtls->stopped)
		return;
	tapsec_dtls13_stop(dtls);
	if (dtls->listener && dtls->cids)
		tapsec_dtls_cids_stop(ctx->sk);
	tapsec_dtls_cid_leave(dtls);
	dtls->stopped = true;
}

/**
 * tapsec_dtls_unhook() - stop an engine ->destroy did not stop
 * @ctx: the context, whose socket is being destructed (sk_destruct)
 *
 * In any context: what tapsec_dtls_stop() would have done without
 * waiting.  The KeyUpdate timer holds a reference on the socket and so
 * cannot be armed now; the hooks are taken out, and the engine's memory
 * is freed after an RCU grace period (tapsec_ctx_free()).  Only a socket
 * whose ->destroy was bypassed gets here, which tapsec_passthru.c exists
 * to prevent.
 */
void tapsec_dtls_unhook(struct tapsec_ctx *ctx)
{
	struct tapsec_dtls *dtls = tapsec_dtls_of(ctx);

	if (!dtls || dtls->stopped)
		return;
	if (dtls->listener && dtls->cids)
		WRITE_ONCE(udp_sk(ctx->sk)->encap_rcv, NULL);
	tapsec_dtls_cid_drop(dtls);
	dtls->stopped = true;
}

/**
 * tapsec_dtls_free() - wipe and free a socket's DTLS engine
 * @ctx: the context, its engine stopped or unhooked
 */
void tapsec_dtls_free(struct tapsec_ctx *ctx)
{
	struct tapsec_dtls *dtls = tapsec_dtls_of(ctx);

	if (!dtls)
		return;
	tapsec_dtls_flight_free(dtls);
	WRITE_ONCE(ctx->engine_priv, NULL);
	tapsec_dtls_epoch_free(dtls->tx);
	tapsec_dtls_epoch_free(dtls->rx);
	tapsec_dtls_epoch_free(dtls->rx_prev);
	tapsec_dtls_listener_free(dtls->listener);
	kfree(dtls->hello);
	kfree_sensitive(dtls->tx_buf);
	kfree_sensitive(dtls->rx_buf);
	kfree_sensitive(dtls);
}

/* Options are taken before TAPSEC_PROTOCOL, which they then report. */
static bool tapsec_dtls_engine_option(const struct tapsec_ctx *ctx,
				      int optname, bool set)
{
	return tapsec_dtls_option(optname) &&
	       (set || READ_ONCE(ctx->protocol) == TAPSEC_PROTO_DTLS);
}

static __poll_t tapsec_dtls_engine_poll(struct sock *sk,
					const struct tapsec_ctx *ctx,
					__poll_t mask)
{
	return mask | tapsec_dtls_poll(ctx);
}

static bool tapsec_dtls_keyed(const struct tapsec_ctx *ctx, bool tx)
{
	struct tapsec_dtls *dtls = tapsec_dtls_of(ctx);

	if (!dtls)
		return false;
	return tx ? !!READ_ONCE(dtls->tx) : !!READ_ONCE(dtls->rx);
}

static int tapsec_dtls_shutdown_tx(struct sock *sk, struct tapsec_ctx *ctx,
				   int flags)
{
	return tapsec_dtls_close_notify(sk, ctx);
}

/* close(): no KeyUpdate is sent again; close_notify goes out. */
static void tapsec_dtls_close(struct sock *sk, struct tapsec_ctx *ctx)
{
	struct tapsec_dtls *dtls = tapsec_dtls_of(ctx);

	if (dtls)
		tapsec_dtls13_stop(dtls);
	tapsec_dtls_close_notify(sk, ctx);
}

const struct tapsec_engine_ops tapsec_dtls_engine_ops = {
	.proto		= TAPSEC_PROTO_DTLS,
	.type		= SOCK_DGRAM,
	.versioned	= true,
	.option		= tapsec_dtls_engine_option,
	.setsockopt	= tapsec_dtls_setsockopt,
	.getsockopt	= tapsec_dtls_getsockopt,
	.sendmsg	= tapsec_dtls_sendmsg,
	.recvmsg	= tapsec_dtls_recvmsg,
	.raw_sent	= tapsec_dtls_flight_sent,
	.raw_recvmsg	= tapsec_dtls_raw_hello,
	.raw_read	= tapsec_dtls_flight_read,
	.poll		= tapsec_dtls_engine_poll,
	.keyed		= tapsec_dtls_keyed,
	.shutdown_tx	= tapsec_dtls_shutdown_tx,
	.close		= tapsec_dtls_close,
	.reject_peer	= tapsec_dtls_reject_peer,
	.listen		= tapsec_dtls_listen,
	.accept		= tapsec_dtls_accept,
	.stop		= tapsec_dtls_stop,
	.unhook		= tapsec_dtls_unhook,
	.free		= tapsec_dtls_free,
};
