// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: how much one transmit key may protect (the survey's key
 * expiration), the record core's part, for every engine: records,
 * plaintext bytes and seconds are counted from the key's installation
 * (or last update) in a struct tapsec_key_use; TAPSEC_KEY_LIMITS sets a
 * soft and a hard limit of each.  What a soft limit does is the engine's
 * (a TLS 1.3 KeyUpdate, or TAPSEC_EVENT_KEY_EXPIRING once for whoever
 * installs keys); at a hard limit the key seals nothing more.
 */
#include <linux/bits.h>
#include <net/sock.h>
#include <linux/timekeeping.h>

#include "tapsec.h"
#include "tapsec_aead.h"

/* RFC 8446 5.5: 2^24.5 full records for AES-GCM; ChaCha20: 2^62. */
#define TAPSEC_AES_GCM_SOFT_RECORDS	23726566ULL
#define TAPSEC_CHACHA_SOFT_RECORDS	BIT_ULL(62)

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
	       TAPSEC_CHACHA_SOFT_RECORDS : TAPSEC_AES_GCM_SOFT_RECORDS;
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
static bool tapsec_key_use_reached(u64 count, u64 lim)
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
	return tapsec_key_use_reached(u->records, u->lim.hard_records) ||
	       tapsec_key_use_reached(u->bytes, u->lim.hard_bytes) ||
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
	       tapsec_key_use_reached(u->bytes, u->lim.soft_bytes) ||
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

/* A soft limit above its hard limit could never act. */
static bool tapsec_key_limits_valid(const struct tapsec_key_limits *lim)
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
	return tapsec_key_limits_valid(lim) ? 0 : -EINVAL;
}
