/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec-handshaked: what every part of the daemon shares, the handshake
 * request the kernel hands over, its result, and logging.
 *
 * Documentation/handshaked.rst describes the daemon as a whole.
 */
#ifndef HS_H
#define HS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/tapsec.h>

/* A handshake without TAPSEC_A_HS_TIMEOUT gets the socket option's default. */
#define HS_DEFAULT_TIMEOUT_MS	30000

/* TAPSEC_CIPHER_* entries kept from TAPSEC_A_HS_CIPHERS. */
#define HS_MAX_CIPHERS		16

/*
 * Room for the peer identity (certificate DN) and the negotiated ALPN
 * protocol reported to the kernel, NUL included: what the kernel's
 * HANDSHAKE_DONE policy takes.  A longer DN is cut.
 */
#define HS_PEER_ID_LEN		256
#define HS_ALPN_LEN		64

/* "[address]:port" of an IPv6 peer, with room for the NUL. */
#define HS_ADDR_LEN		64

/*
 * One handshake taken with TAPSEC_CMD_HANDSHAKE_ACCEPT: the socket, now a
 * file descriptor of this process, and the application's parameters.
 * Absent strings are NULL; an empty TAPSEC_A_HS_TRUST is "" (it means the
 * default trust store, and is not the same as no trust attribute on the
 * server side).
 */
struct hs_request {
	int fd;
	uint32_t role;			/* enum tapsec_hs_role */
	uint32_t protocol;		/* enum tapsec_record_proto */
	uint32_t timeout_ms;
	uint32_t verify;		/* enum tapsec_verify */
	uint32_t session_cache;		/* enum tapsec_session_cache */
	char *server_name;
	char *alpn;			/* comma separated */
	char *identity;
	char *trust;
	char *psk_identity;
	uint16_t version_min;		/* TAPSEC_TLS_*_VERSION, 0: any */
	uint16_t version_max;
	uint16_t ciphers[HS_MAX_CIPHERS];
	unsigned int n_ciphers;		/* 0: any of the supported ones */
	struct sockaddr_storage peer;	/* ss_family 0: unknown */
	uint64_t inode;
	/*
	 * Who asked: the owner of the socket's file, its group and up to
	 * TAPSEC_HS_GROUPS_MAX supplementary groups, as the daemon's user
	 * namespace names them.  has_cred is false when the kernel did not
	 * say: such a request may use only what anyone may.
	 */
	bool has_cred;
	uint32_t uid, gid;
	uint32_t groups[TAPSEC_HS_GROUPS_MAX];
	unsigned int n_groups;
	/*
	 * Non-zero when the kernel's reply could not be used (malformed or
	 * out of memory): the worker reports it as the handshake's failure.
	 */
	int bad_request;
	char peer_str[HS_ADDR_LEN];	/* the peer, for log messages */
};

/* How a handshake ended: what TAPSEC_CMD_HANDSHAKE_DONE reports. */
struct hs_result {
	int status;			/* 0 or a positive errno */
	char reason[TAPSEC_REASON_LEN];
	char alpn[HS_ALPN_LEN];		/* negotiated, "" if none */
	char peer_identity[HS_PEER_ID_LEN];	/* "" unless authenticated */
	bool peer_auth;
	bool resumed;
	bool psk;			/* an external PSK was used */
	/* TAPSEC_VERIFY_DEFER: the peer's chain for the application. */
	uint8_t *chain;			/* malloc()ed, TAPSEC_PEER_CHAIN's form */
	size_t chain_len;
	/* For the log line of a successful handshake. */
	const char *version_name;
	const char *cipher_name;
};

void hs_request_free(struct hs_request *req);

/* Record a failure: @err a positive errno, @fmt the reason. */
void hs_fail(struct hs_result *res, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "192.0.2.1:443", "[2001:db8::1]:443" or "?" into @buf. */
void hs_format_addr(const struct sockaddr_storage *ss, char *buf, size_t len);

extern int hs_verbose;

/*
 * A line on stderr, prefixed "tapsec-handshaked: ", or with its syslog
 * priority when stderr is journald's: hs_log() for errors (LOG_ERR),
 * hs_notice() for the daemon's start and stop (LOG_NOTICE), hs_debug()
 * only with -v (LOG_INFO).
 */
void hs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hs_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hs_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Tell the service manager @state ("READY=1"...), if it listens. */
void hs_notify(const char *state);

/*
 * TAPSEC_HANDSHAKE_PSK on the handshake's socket @fd: the key of PSK
 * @identity into @req.  0, or a positive errno with the reason in @res
 * (hs_util.c).
 */
int hs_psk_get(int fd, const char *identity, struct tapsec_hs_psk *req,
	       struct hs_result *res);

/* What a handshake waits for after a step. */
enum hs_want {
	HS_WANT_READ,
	HS_WANT_WRITE,
	HS_FINISHED,		/* see the hs_result */
};

struct hs_config;
struct hs_nl;

/*
 * A handler class: the handshakes of one record protocol (hs_tls.c for
 * TLS and DTLS, hs_wg.c for WireGuard), run by the workers without
 * blocking.  @start sets one up for @req (which outlives it), PSKs
 * fetched on @nl, or returns NULL with the failure in @res; @step
 * advances it, on HS_FINISHED with the outcome in @res and, on success,
 * the keys installed; @wake_ms is when @step must run again without I/O
 * (retransmissions), -1 for never; @free ends it.
 */
struct hs_handler {
	const char *name;
	void *(*start)(struct hs_config *cfg, struct hs_nl *nl,
		       const struct hs_request *req, struct hs_result *res);
	enum hs_want (*step)(void *h, struct hs_result *res);
	int (*wake_ms)(void *h);
	void (*free)(void *h);
};

extern const struct hs_handler hs_tls_handler;
extern const struct hs_handler hs_wg_handler;

#endif /* HS_H */
