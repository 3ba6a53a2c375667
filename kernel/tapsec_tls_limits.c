// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: how much one transmit key may protect (the survey's key
 * expiration), for the TLS engine and, through struct tapsec_key_use, the
 * DTLS engine.  Records, plaintext bytes and seconds are counted from the
 * key's installation or last KeyUpdate; TAPSEC_KEY_LIMITS sets a soft and
 * a hard limit of each.  At a soft limit a TLS 1.3 key with a traffic
 * secret is updated by itself (tapsec_tls13.c), and a key that cannot be
 * is reported expiring once; at a hard limit the key seals nothing more.
 */
#include <linux/bits.h>
#include <net/sock.h>
#include <linux/timekeeping.h>

#include "tapsec_tls.h"

/* RFC 8446 5.5: 2^24.5 full records for AES-GCM; ChaCha20: 2^62. */
#define TAPSEC_TLS_AES_GCM_SOFT_RECORDS	23726566ULL
#define TAPSEC_TLS_CHACHA_SOFT_RECORDS	BIT_ULL(62)

/**
 * tapsec_key_use_soft_records() - the soft record limit of a key
 * @u: its use
 * @cipher: its TAPSEC_CIPHER_*
 *
 * Return: TAPSEC_KEY_LIMITS' soft_records, or the AEAD's default.
 */
u64 tapsec_key_use_soft_records(const struct tapsec_key_use *u, u16 cipher)
{
	if (u->lim.soft_records)
		return u->lim.soft_records;
	return cipher == TAPSEC_CIPHER_CHACHA20_POLY1305 ?
	       TAPSEC_TLS_CHACHA_SOFT_RECORDS : TAPSEC_TLS_AES_GCM_SOFT_RECORDS;
}

/*
 * Whether the key is @lim seconds old (0: no limit).  Checked per record:
 * the clock is read only when there is a limit.
 */
static bool tapsec_key_use_aged(const struct tapsec_key_use *u, u64 lim)
{
	return lim && ktime_get_boottime_seconds() - u->born >= lim;
}

/* Whether @count reached the limit @lim (0: no limit). */
static bool tapsec_tls_reached(u64 count, u64 lim)
{
	return lim && count >= lim;
}

/**
 * tapsec_key_use_born() - a new transmit key: start its counts afresh
 * @ctx: the socket's context
 * @u: the key's use; its limits stay, they apply to every key
 */
void tapsec_key_use_born(struct tapsec_ctx *ctx, struct tapsec_key_use *u)
{
	u->records = 0;
	u->bytes = 0;
	u->born = ktime_get_boottime_seconds();
	u->expiring = false;
	WRITE_ONCE(ctx->tx_key_born, u->born);
}

/**
 * tapsec_key_use_hard() - whether a key reached a hard limit
 * @u: its use
 *
 * Return: true when it may seal no more.
 */
bool tapsec_key_use_hard(const struct tapsec_key_use *u)
{
	return tapsec_tls_reached(u->records, u->lim.hard_records) ||
	       tapsec_tls_reached(u->bytes, u->lim.hard_bytes) ||
	       tapsec_key_use_aged(u, u->lim.hard_seconds);
}

/**
 * tapsec_key_use_soft() - whether a key reached a soft limit
 * @u: its use
 * @cipher: its TAPSEC_CIPHER_*
 *
 * Return: true when it should be updated.
 */
bool tapsec_key_use_soft(const struct tapsec_key_use *u, u16 cipher)
{
	return u->records >= tapsec_key_use_soft_records(u, cipher) ||
	       tapsec_tls_reached(u->bytes, u->lim.soft_bytes) ||
	       tapsec_key_use_aged(u, u->lim.soft_seconds);
}

/**
 * tapsec_key_use_expiring() - report a key that cannot be updated here
 * @sk: the socket
 * @u: the key's use, past a soft limit
 *
 * Return: true when TAPSEC_EVENT_KEY_EXPIRING went out now (once a key).
 */
bool tapsec_key_use_expiring(struct sock *sk, struct tapsec_key_use *u)
{
	if (u->expiring)
		return false;
	u->expiring = true;
	tapsec_nl_event(sock_net(sk), TAPSEC_EVENT_KEY_EXPIRING,
			sock_i_ino(sk), 0, NULL);
	return true;
}

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

/* A soft limit above its hard limit could never act. */
static bool tapsec_tls_limits_valid(const struct tapsec_key_limits *lim)
{
	return !(lim->hard_records && lim->soft_records > lim->hard_records) &&
	       !(lim->hard_bytes && lim->soft_bytes > lim->hard_bytes) &&
	       !(lim->hard_seconds && lim->soft_seconds > lim->hard_seconds);
}

/**
 * tapsec_key_limits_get() - read and check a TAPSEC_KEY_LIMITS value
 * @optval: a struct tapsec_key_limits
 * @optlen: its size
 * @lim: the limits out
 *
 * Return: 0; -EINVAL for a bad size or a soft limit above its hard
 * limit; -EFAULT.
 */
int tapsec_key_limits_get(sockptr_t optval, unsigned int optlen,
			  struct tapsec_key_limits *lim)
{
	if (optlen != sizeof(*lim))
		return -EINVAL;
	if (copy_from_sockptr(lim, optval, sizeof(*lim)))
		return -EFAULT;
	return tapsec_tls_limits_valid(lim) ? 0 : -EINVAL;
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
