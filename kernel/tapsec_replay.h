/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec: the anti-replay sliding window shared by the datagram record
 * engines (DTLS now; ESP and WireGuard next).
 */
#ifndef _TAPSEC_REPLAY_H
#define _TAPSEC_REPLAY_H

#include <linux/bitops.h>
#include <linux/types.h>
#include <linux/tapsec.h>

/**
 * struct tapsec_replay - which recent sequence numbers were accepted
 * @top: highest sequence number accepted, valid once @any
 * @any: a number was accepted
 * @bits: ring of TAPSEC_REPLAY_WINDOW_MAX bits, bit (n % MAX) for n
 *
 * The ring always spans the largest window, so the window size (a
 * parameter of each check) can change at any time.
 */
struct tapsec_replay {
	u64 top;
	bool any;
	DECLARE_BITMAP(bits, TAPSEC_REPLAY_WINDOW_MAX);
};

bool tapsec_replay_ok(const struct tapsec_replay *w, u32 size, u64 seq);
void tapsec_replay_mark(struct tapsec_replay *w, u64 seq);

#endif /* _TAPSEC_REPLAY_H */
