// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: anti-replay sliding window (RFC 6347 4.1.2.6, RFC 4303 3.4.3).
 *
 * A record is checked before it is authenticated and marked only after:
 * a forged record can neither move the window nor mark a number as seen.
 */
#include <linux/bitmap.h>

#include "tapsec_replay.h"

#define TAPSEC_RING	TAPSEC_REPLAY_WINDOW_MAX

/**
 * tapsec_replay_ok() - whether a record may be accepted
 * @w: the window
 * @size: records the window spans, at most TAPSEC_REPLAY_WINDOW_MAX
 * @seq: the record's sequence number
 *
 * Return: true for a number above the highest accepted, or one inside the
 * window that was not accepted yet; false for a duplicate or one older
 * than the window.
 */
bool tapsec_replay_ok(const struct tapsec_replay *w, u32 size, u64 seq)
{
	if (!w->any || seq > w->top)
		return true;
	if (w->top - seq >= size)
		return false;
	return !test_bit(seq % TAPSEC_RING, w->bits);
}

/**
 * tapsec_replay_mark() - record an authenticated sequence number
 * @w: the window
 * @seq: the number, which tapsec_replay_ok() accepted
 */
void tapsec_replay_mark(struct tapsec_replay *w, u64 seq)
{
	u64 n;

	if (w->any && seq <= w->top) {
		__set_bit(seq % TAPSEC_RING, w->bits);
		return;
	}
	if (!w->any || seq - w->top >= TAPSEC_RING) {
		bitmap_zero(w->bits, TAPSEC_RING);
	} else {
		/* Numbers skipped over are not seen yet. */
		for (n = w->top + 1; n < seq; n++)
			__clear_bit(n % TAPSEC_RING, w->bits);
	}
	__set_bit(seq % TAPSEC_RING, w->bits);
	w->top = seq;
	w->any = true;
}
