/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsecctl: external PSKs in files (tapsecctl_psk_file.c).
 */
#ifndef TAPSECCTL_PSK_FILE_H
#define TAPSECCTL_PSK_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "tapsec_nl.h"

/*
 * Hex digits of @s (@n bytes; blanks and newlines skipped) into @key, at
 * most @max bytes.  Returns the length, or -1 for anything else, an odd
 * digit count or more than @max bytes.
 */
int tapsecctl_parse_hex(const char *s, size_t n, uint8_t *key, size_t max);

/*
 * An owner, USER or @GROUP (a name or a number), added to @own.  Returns
 * 0, -ENOENT (no such user or group), -EINVAL (not a name or number) or
 * -ENOSPC (TAPSEC_PSK_OWNERS_MAX of that kind already).
 */
int tapsecctl_owners_add(struct tapsec_psk_owners *own, const char *arg);

/*
 * Store every PSK of the file @path (format at the top of
 * tapsecctl_psk_file.c): checked whole first, then added over a netlink
 * socket of its own, replacing PSKs of the same identities.  Returns the
 * exit status: 0, or 1 after a message.
 */
int tapsecctl_psk_load(const char *path);

#endif /* TAPSECCTL_PSK_FILE_H */
