/* SPDX-License-Identifier: GPL-2.0 */
/* tapsec's userspace tools: user and group ids as the administrator writes them. */
#ifndef TAPSEC_IDS_H
#define TAPSEC_IDS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * One owner as tapsecctl's --owner and the daemon's "owners" take it
 * (without the "@" of a group): a number, or a name the system's user
 * (@group true: group) database knows now.  Returns 0 with the id in
 * *@id, -EINVAL for an empty or bad number (digits first, but not a
 * number below 2^32 - 1), -ENOENT for an unknown name.
 */
int tapsec_parse_id(const char *s, bool group, uint32_t *id);

#endif
