/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec-handshaked: the handshake commands of the "tapsec" generic
 * netlink family.
 */
#ifndef HS_NETLINK_H
#define HS_NETLINK_H

#include <pthread.h>
#include <stdbool.h>

#include "hs.h"
#include "tapsec_nl.h"

/*
 * The daemon's request socket, shared by the listener (ACCEPT) and the
 * workers (DONE): the kernel takes DONE only from the netlink port that
 * accepted the handshake, and fails the handshakes of a port that goes
 * away.  Requests are short, so one at a time is enough.
 */
struct hs_nl {
	struct tapsec_nl nl;
	pthread_mutex_t lock;		/* one request and answer at a time */
};

/* Returns 0 or a negative errno. */
int hs_nl_open(struct hs_nl *h);
void hs_nl_close(struct hs_nl *h);

/*
 * Join the "handshake" multicast group on @nl (from tapsec_nl_open(), not
 * the request socket), which is then only read with hs_nl_notified().
 * Returns the socket's file descriptor, for poll(), or a negative errno
 * (-ENOENT: the module has no such group).
 */
int hs_nl_subscribe(struct tapsec_nl *nl);

/*
 * Read everything queued on a subscribed socket without blocking.  True
 * when anything arrived, or notifications were lost: handshakes may wait.
 */
bool hs_nl_notified(struct tapsec_nl *nl);

/*
 * TAPSEC_CMD_HANDSHAKE_ACCEPT: take the oldest waiting handshake.  Returns
 * 0 with *@out set (the caller owns it and its file descriptor), -ENOENT
 * when none is waiting, or another negative errno.
 */
int hs_nl_accept(struct hs_nl *h, struct hs_request **out);

/*
 * TAPSEC_CMD_HANDSHAKE_DONE for the socket @fd.  Returns 0 or the
 * kernel's negative errno.
 */
int hs_nl_done(struct hs_nl *h, int fd, const struct hs_result *res);

#endif /* HS_NETLINK_H */
