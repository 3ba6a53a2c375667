/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace client of the "tapsec" generic netlink family, shared by
 * tapsecctl, tapsec-handshaked and the selftests.
 */
#ifndef TAPSEC_NL_H
#define TAPSEC_NL_H

#include <stdint.h>
#include <sys/socket.h>
#include <linux/tapsec.h>

#define TAPSEC_NR_COUNTERS (sizeof(struct tapsec_counters) / sizeof(uint64_t))

struct nl_sock;

struct tapsec_nl {
	struct nl_sock *sock;
	int family;		/* resolved generic netlink family id */
};

struct tapsec_info {
	char version[32];
	uint32_t api_version;
	uint64_t features;
	uint32_t sockets;
	uint32_t sockets_total;
};

/* Connect and resolve the family.  Returns 0 or a negative errno. */
int tapsec_nl_open(struct tapsec_nl *nl);
void tapsec_nl_close(struct tapsec_nl *nl);

/* TAPSEC_CMD_GET_INFO.  Returns 0 or a negative errno. */
int tapsec_nl_get_info(struct tapsec_nl *nl, struct tapsec_info *info);

/* TAPSEC_CMD_GET_STATS: the namespace's counters. */
int tapsec_nl_get_stats(struct tapsec_nl *nl, struct tapsec_counters *c);

struct tapsec_sock_entry {
	uint64_t inode;
	uint16_t family, type;
	uint32_t state, protocol, origin;
	struct sockaddr_storage local, peer;
	uint16_t tx_version, tx_cipher, rx_version, rx_cipher;
	struct tapsec_counters counters;
};

/*
 * TAPSEC_CMD_SOCK_GET dump: @fn is called for each tapsec socket of the
 * caller's namespace.  Returns 0 or a negative errno.
 */
int tapsec_nl_sock_list(struct tapsec_nl *nl,
			void (*fn)(const struct tapsec_sock_entry *e, void *arg),
			void *arg);

/*
 * Send @cmd with one u32 attribute @attr (skipped when @attr is 0) and wait
 * for the kernel's answer; for tests of the kernel's input validation.
 * Returns 0 or the negative errno the kernel answered with.
 */
int tapsec_nl_raw_cmd(struct tapsec_nl *nl, uint8_t cmd, int attr,
		      uint32_t val);

#endif /* TAPSEC_NL_H */
