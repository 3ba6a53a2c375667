// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: the TLS engine's key expiration (the survey's), on the record
 * core's accounting (tapsec_key_use.c): at a soft limit a TLS 1.3 key
 * with a traffic secret is updated by itself (tapsec_tls13.c), and a key
 * that cannot be is reported expiring once; at a hard limit the key seals
 * nothing more.
 */
#include <net/sock.h>

#include "tapsec_tls.h"

/**
 * tapsec_tls_tx_key_born() - a new TLS transmit key
 * @ctx: the socket's context
 * @tx: its transmit side, with the new key
 */
void tapsec_tls_tx_key_born(struct tapsec_ctx *ctx, struct tapsec_tls_tx *tx)
{
	tapsec_key_use_born(ctx, &tx->use);
}

/**
 * tapsec_tls_tx_expired() - whether the transmit key may seal no more
 * @tx: the transmit side
 *
 * Return: true when its sequence numbers are used up or it reached a hard
 * limit of TAPSEC_KEY_LIMITS.
 */
bool tapsec_tls_tx_expired(const struct tapsec_tls_tx *tx)
{
	return tx->d.aead.exhausted || tapsec_key_use_hard(&tx->use);
}

/**
 * tapsec_tls_tx_limits() - act on the soft limits of the transmit key
 * @sk: the socket, owned by the caller, who holds the transmit lock
 * @ctx: its context, with a transmit side
 * @flags: MSG_DONTWAIT and friends for TCP
 *
 * Once the key reached a soft limit: with a TLS 1.3 transmit traffic
 * secret a KeyUpdate goes out and TAPSEC_EVENT_KEY_UPDATED is emitted;
 * without one, TAPSEC_EVENT_KEY_EXPIRING is emitted, once per key, for
 * whoever can install the next key.  Checked after each record sealed.
 *
 * Return: 0 or the error of tapsec_tls13_tx_update().
 */
int tapsec_tls_tx_limits(struct sock *sk, struct tapsec_ctx *ctx, int flags)
{
	struct tapsec_tls_tx *tx = tapsec_tls_of(ctx)->tx;
	int err;

	if (tx->closed || !tapsec_key_use_soft(&tx->use, tx->d.aead.cipher))
		return 0;
	if (!tx->d.secret_len) {
		tapsec_key_use_expiring(sk, &tx->use);
		return 0;
	}
	err = tapsec_tls13_tx_update(sk, ctx, flags, false);
	if (!err)
		tapsec_nl_event(sock_net(sk), TAPSEC_EVENT_KEY_UPDATED,
				sock_i_ino(sk), 0, NULL);
	return err;
}

/**
 * tapsec_tls_set_limits() - TAPSEC_KEY_LIMITS
 * @sk: the stream socket
 * @tls: its TLS engine, NULL before any key
 * @optval: a struct tapsec_key_limits
 * @optlen: its size
 *
 * Return: 0; -ENOKEY without a transmit key; -EINVAL for a bad size or a
 * soft limit above its hard limit; -EFAULT.
 */
int tapsec_tls_set_limits(struct sock *sk, struct tapsec_tls *tls,
			  sockptr_t optval, unsigned int optlen)
{
	struct tapsec_key_limits lim;
	int err = tapsec_key_limits_get(optval, optlen, &lim);

	if (err)
		return err;
	if (!tls)
		return -ENOKEY;
	mutex_lock(&tls->tx_lock);
	lock_sock(sk);
	if (tls->tx) {
		tls->tx->use.lim = lim;
		tls->tx->use.expiring = false;
	} else {
		err = -ENOKEY;
	}
	release_sock(sk);
	mutex_unlock(&tls->tx_lock);
	return err;
}

/**
 * tapsec_tls_get_limits() - read TAPSEC_KEY_LIMITS
 * @sk: the stream socket
 * @ctx: its context
 * @optval: receives a struct tapsec_key_limits, the default soft record
 *	limit resolved
 * @optlen: in: room at @optval; out: bytes written
 *
 * Return: 0, -ENOKEY without a transmit key, -EFAULT or -EINVAL.
 */
int tapsec_tls_get_limits(struct sock *sk, struct tapsec_ctx *ctx,
			  char __user *optval, int __user *optlen)
{
	struct tapsec_key_limits lim = {};
	struct tapsec_tls *tls;
	int err = 0;

	lock_sock(sk);
	tls = ctx->engine_priv;
	if (tls && tls->tx) {
		struct tapsec_tls_tx *tx = tls->tx;

		lim = tx->use.lim;
		lim.soft_records = tapsec_key_use_soft_records(&tx->use,
							       tx->d.aead.cipher);
	} else {
		err = -ENOKEY;
	}
	release_sock(sk);
	return err ?: tapsec_copy_out(&lim, sizeof(lim), optval, optlen);
}
