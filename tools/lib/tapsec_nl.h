/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace client of the "tapsec" generic netlink family, shared by
 * tapsecctl, tapsec-handshaked and the selftests.
 */
#ifndef TAPSEC_NL_H
#define TAPSEC_NL_H

#include <stddef.h>
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
	int64_t tx_key_age;	/* seconds, -1 without a transmit key */
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

/* Join multicast group @group ("handshake" or "events"). */
int tapsec_nl_join(struct tapsec_nl *nl, const char *group);

/* A handshake taken with TAPSEC_CMD_HANDSHAKE_ACCEPT. */
struct tapsec_hs_req {
	int fd;				/* the socket, now ours */
	uint32_t role, protocol, timeout_ms, verify, session_cache;
	uint16_t version_min, version_max;
	char server_name[256], alpn[256], identity[64], trust[64];
	char psk_identity[TAPSEC_PSK_IDENTITY_MAX + 1];
	uint16_t ciphers[8];
	int nciphers;
	struct sockaddr_storage peer;
	uint64_t inode;
	/* Who asked (TAPSEC_A_HS_UID, _GID, _GROUPS); has_cred 0 if not said. */
	int has_cred;
	uint32_t uid, gid;
	uint32_t groups[TAPSEC_HS_GROUPS_MAX];
	unsigned int ngroups;
};

/*
 * TAPSEC_CMD_HANDSHAKE_ACCEPT: take the oldest waiting handshake.  Returns
 * 0, -ENOENT when none waits, or a negative errno.
 */
int tapsec_nl_hs_accept(struct tapsec_nl *nl, struct tapsec_hs_req *req);

/* The outcome sent with TAPSEC_CMD_HANDSHAKE_DONE. */
struct tapsec_hs_result {
	int fd;
	uint32_t status;		/* 0 or a positive errno */
	const char *reason, *alpn, *peer_identity;	/* or NULL */
	int resumed, peer_auth, psk;
	const void *chain;		/* TAPSEC_A_HS_PEER_CHAIN, or NULL */
	size_t chain_len;
};

int tapsec_nl_hs_done(struct tapsec_nl *nl, const struct tapsec_hs_result *r);

/* Who may use a PSK: TAPSEC_A_PSK_UIDS and TAPSEC_A_PSK_GIDS. */
struct tapsec_psk_owners {
	uint32_t uids[TAPSEC_PSK_OWNERS_MAX];
	unsigned int nuids;
	uint32_t gids[TAPSEC_PSK_OWNERS_MAX];
	unsigned int ngids;
};

/* A stored PSK as TAPSEC_CMD_PSK_GET lists it: never its key. */
struct tapsec_psk_entry {
	char identity[TAPSEC_PSK_IDENTITY_MAX + 1];
	uint32_t hash;			/* enum tapsec_psk_hash */
	uint64_t added;			/* seconds since boot */
	struct tapsec_psk_owners owners;
};

/*
 * TAPSEC_CMD_PSK_ADD: @identity with the @keylen bytes of @key, bound to
 * @hash.  @hash < 0 sends no hash attribute (the kernel's default).
 * Returns 0 or the kernel's negative errno (-EEXIST: already stored).
 */
int tapsec_nl_psk_add(struct tapsec_nl *nl, const char *identity,
		      const void *key, size_t keylen, int hash);

/*
 * The same with owners (@own NULL, or no ids in it: the kernel's default,
 * uid 0 alone).
 */
int tapsec_nl_psk_add_owned(struct tapsec_nl *nl, const char *identity,
			    const void *key, size_t keylen, int hash,
			    const struct tapsec_psk_owners *own);

/* TAPSEC_CMD_PSK_DEL.  Returns 0 or the kernel's negative errno. */
int tapsec_nl_psk_del(struct tapsec_nl *nl, const char *identity);

/* TAPSEC_CMD_PSK_GET dump: @fn for each stored PSK. */
int tapsec_nl_psk_list(struct tapsec_nl *nl,
		       void (*fn)(const struct tapsec_psk_entry *e, void *arg),
		       void *arg);

/* A notification: TAPSEC_CMD_EVENT or TAPSEC_CMD_HANDSHAKE_READY. */
struct tapsec_event {
	uint8_t cmd;
	uint32_t type, error, pending;
	uint64_t inode, lost;
	char reason[TAPSEC_REASON_LEN];
};

/*
 * Block until the next notification of command @cmd (0: any) on a socket
 * that joined a group.  Returns 0, or -ENOBUFS when notifications were
 * lost, or another negative errno.
 */
int tapsec_nl_next_event(struct tapsec_nl *nl, uint8_t cmd,
			 struct tapsec_event *ev);

#endif /* TAPSEC_NL_H */
