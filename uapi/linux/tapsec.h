/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * tapsec: secure sockets with an in-kernel record layer and handshakes
 * delegated to a userspace daemon.
 *
 * This is the one header that applications, tapsec-handshaked and tapsecctl
 * include.  Documentation/uapi.rst explains every constant.
 */
#ifndef _UAPI_LINUX_TAPSEC_H
#define _UAPI_LINUX_TAPSEC_H

#include <linux/const.h>
#include <linux/types.h>

/*
 * Socket creation:
 *
 *   socket(AF_INET or AF_INET6, SOCK_STREAM, IPPROTO_TAPSEC)  TLS over TCP
 *   socket(AF_INET or AF_INET6, SOCK_DGRAM,  IPPROTO_TAPSEC)  records over UDP
 *   setsockopt(tcp_fd, SOL_TCP, TCP_ULP, TAPSEC_ULP_NAME, ...) upgrade TCP
 *
 * A module cannot add an address family, so tapsec lives inside the inet
 * families as MPTCP (262) does.  258 is below IPPROTO_MAX (263) and used by
 * neither supported kernel (256 is SMC, 261 in-kernel QUIC, 262 MPTCP).
 * Once created, the socket is a TCP or UDP socket on the wire, and
 * getsockopt(SO_PROTOCOL) reports IPPROTO_TCP or IPPROTO_UDP.
 */
#define IPPROTO_TAPSEC		258

/*
 * Socket option level.  Levels up to 287 are the kernel's and 288 is
 * in-kernel QUIC's; 289 is left free for the next upstream level.
 */
#define SOL_TAPSEC		290

/* Name of the TCP upper layer protocol (TCP_ULP). */
#define TAPSEC_ULP_NAME		"tapsec"

/* Record protocols a tapsec socket can carry (TAPSEC_PROTOCOL). */
enum tapsec_record_proto {
	TAPSEC_PROTO_NONE = 0,		/* datagram socket not configured */
	TAPSEC_PROTO_TLS = 1,		/* TLS records over TCP */
	TAPSEC_PROTO_DTLS = 2,		/* DTLS records over UDP */
	TAPSEC_PROTO_ESP = 3,		/* ESP in UDP (RFC 3948) */
	TAPSEC_PROTO_WIREGUARD = 4,	/* WireGuard transport data */
};

/* SOL_TAPSEC socket options. */
enum tapsec_sockopt {
	/*
	 * int, read/write before connect/bind: the record protocol.  Stream
	 * sockets carry TLS only (other values: EPROTOTYPE); a protocol this
	 * build does not implement yet fails with EPROTONOSUPPORT.
	 */
	TAPSEC_PROTOCOL = 1,
	/* struct tapsec_sock_info, read only: state and counters. */
	TAPSEC_SOCK_INFO = 2,
	/*
	 * Traffic keys, one direction each: a struct tapsec_crypto_info_*
	 * chosen by cipher_type, laid out as kTLS's tls12_crypto_info_*.
	 * Set on a connected socket.  Reading returns the same structure
	 * with the key zeroed and rec_seq the next sequence number.
	 */
	TAPSEC_TX = 3,
	TAPSEC_RX = 4,
	/* Read only, CAP_NET_ADMIN: as TAPSEC_TX/RX, key included. */
	TAPSEC_TX_KEY = 5,
	TAPSEC_RX_KEY = 6,
};

/* Control messages at level SOL_TAPSEC (same numbers as kTLS's). */
#define TAPSEC_SET_RECORD_TYPE	1	/* sendmsg: __u8 content type */
#define TAPSEC_GET_RECORD_TYPE	2	/* recvmsg: __u8 content type */

/* TLS record content types. */
#define TAPSEC_RECORD_CHANGE_CIPHER_SPEC	20
#define TAPSEC_RECORD_ALERT			21
#define TAPSEC_RECORD_HANDSHAKE			22
#define TAPSEC_RECORD_APPLICATION_DATA		23

/* Versions and ciphers: the numbers of kTLS (linux/tls.h). */
#define TAPSEC_TLS_1_2_VERSION	0x0303
#define TAPSEC_TLS_1_3_VERSION	0x0304

#define TAPSEC_CIPHER_AES_GCM_128		51
#define TAPSEC_CIPHER_AES_GCM_256		52
#define TAPSEC_CIPHER_CHACHA20_POLY1305		54

struct tapsec_crypto_info {
	__u16 version;		/* TAPSEC_TLS_1_2_VERSION or _1_3_ */
	__u16 cipher_type;	/* TAPSEC_CIPHER_* */
};

struct tapsec_crypto_info_aes_gcm_128 {
	struct tapsec_crypto_info info;
	unsigned char iv[8];
	unsigned char key[16];
	unsigned char salt[4];
	unsigned char rec_seq[8];
};

struct tapsec_crypto_info_aes_gcm_256 {
	struct tapsec_crypto_info info;
	unsigned char iv[8];
	unsigned char key[32];
	unsigned char salt[4];
	unsigned char rec_seq[8];
};

struct tapsec_crypto_info_chacha20_poly1305 {
	struct tapsec_crypto_info info;
	unsigned char iv[12];
	unsigned char key[32];
	unsigned char rec_seq[8];
};

/* Socket states reported in tapsec_sock_info.state. */
enum tapsec_sock_state {
	TAPSEC_STATE_NEW = 0,		/* no keys: data refused with ENOKEY */
	TAPSEC_STATE_ESTABLISHED = 1,	/* a key is installed */
	TAPSEC_STATE_CLOSED = 2,
};

/* Where the socket came from (tapsec_sock_info.origin). */
enum tapsec_sock_origin {
	TAPSEC_ORIGIN_SOCKET = 0,	/* socket(..., IPPROTO_TAPSEC) */
	TAPSEC_ORIGIN_ULP = 1,		/* TCP_ULP "tapsec" on a TCP socket */
	TAPSEC_ORIGIN_ACCEPT = 2,	/* accepted from a tapsec listener */
};

/*
 * Counters of one socket (in TAPSEC_SOCK_INFO) or of a network namespace
 * (TAPSEC_CMD_GET_STATS).  Errors are counted by kind.
 */
struct tapsec_counters {
	__u64 tx_records;	/* records sealed and queued to TCP */
	__u64 tx_bytes;		/* plaintext bytes in them */
	__u64 rx_records;	/* records opened */
	__u64 rx_bytes;		/* plaintext bytes in them */
	__u64 refused_nokey;	/* data calls refused: no key installed */
	__u64 rx_bad_tag;	/* authentication failed: EBADMSG */
	__u64 rx_bad_record;	/* malformed header or content: EBADMSG */
	__u64 rx_oversize;	/* length over the protocol limit: EMSGSIZE */
	__u64 rx_truncated;	/* FIN without close_notify: ECONNABORTED */
	__u64 key_exhausted;	/* sequence numbers used up: EKEYEXPIRED */
	__u64 close_notify_tx;	/* close_notify alerts sent */
	__u64 close_notify_rx;	/* close_notify alerts received */
};

struct tapsec_sock_info {
	__u32 state;		/* enum tapsec_sock_state */
	__u32 protocol;		/* enum tapsec_record_proto */
	__u32 origin;		/* enum tapsec_sock_origin */
	__u16 tx_version;	/* TAPSEC_TLS_*_VERSION, 0 without TX key */
	__u16 rx_version;
	__u16 tx_cipher;	/* TAPSEC_CIPHER_*, 0 without TX key */
	__u16 rx_cipher;
	__u32 pad;
	struct tapsec_counters counters;
};

/* Generic netlink family. */
#define TAPSEC_GENL_NAME	"tapsec"
#define TAPSEC_GENL_VERSION	1

enum tapsec_cmd {
	TAPSEC_CMD_UNSPEC,
	/* Module version, features and counters; unprivileged, read only. */
	TAPSEC_CMD_GET_INFO,
	/* Counters of the caller's network namespace (TAPSEC_A_STATS). */
	TAPSEC_CMD_GET_STATS,
	/* Dump: one TAPSEC_A_SOCK per tapsec socket of the namespace. */
	TAPSEC_CMD_SOCK_GET,

	__TAPSEC_CMD_MAX,
	TAPSEC_CMD_MAX = __TAPSEC_CMD_MAX - 1
};

enum tapsec_attr {
	TAPSEC_A_UNSPEC,
	TAPSEC_A_VERSION,		/* string: module version */
	TAPSEC_A_API_VERSION,		/* u32: TAPSEC_GENL_VERSION */
	TAPSEC_A_FEATURES,		/* u64: TAPSEC_FEAT_* bits */
	TAPSEC_A_SOCKETS,		/* u32: live tapsec sockets, this netns */
	TAPSEC_A_SOCKETS_TOTAL,		/* u32: live tapsec sockets, all netns */
	TAPSEC_A_PAD,
	TAPSEC_A_STATS,			/* nest: TAPSEC_A_STATS_* */
	TAPSEC_A_SOCK,			/* nest: TAPSEC_A_SOCK_* */

	__TAPSEC_A_MAX,
	TAPSEC_A_MAX = __TAPSEC_A_MAX - 1
};

/*
 * TAPSEC_A_STATS: one u64 per field of struct tapsec_counters, in its
 * order: attribute N + 1 is field N.
 */
enum tapsec_stats_attr {
	TAPSEC_A_STATS_UNSPEC,
	TAPSEC_A_STATS_TX_RECORDS,
	TAPSEC_A_STATS_TX_BYTES,
	TAPSEC_A_STATS_RX_RECORDS,
	TAPSEC_A_STATS_RX_BYTES,
	TAPSEC_A_STATS_REFUSED_NOKEY,
	TAPSEC_A_STATS_RX_BAD_TAG,
	TAPSEC_A_STATS_RX_BAD_RECORD,
	TAPSEC_A_STATS_RX_OVERSIZE,
	TAPSEC_A_STATS_RX_TRUNCATED,
	TAPSEC_A_STATS_KEY_EXHAUSTED,
	TAPSEC_A_STATS_CLOSE_NOTIFY_TX,
	TAPSEC_A_STATS_CLOSE_NOTIFY_RX,
	TAPSEC_A_STATS_PAD,

	__TAPSEC_A_STATS_MAX,
	TAPSEC_A_STATS_MAX = __TAPSEC_A_STATS_MAX - 1
};

/* TAPSEC_A_SOCK: one socket. */
enum tapsec_sock_attr {
	TAPSEC_A_SOCK_UNSPEC,
	TAPSEC_A_SOCK_INODE,		/* u64: socket inode, as ss(8) shows */
	TAPSEC_A_SOCK_FAMILY,		/* u16: AF_INET or AF_INET6 */
	TAPSEC_A_SOCK_TYPE,		/* u16: SOCK_STREAM or SOCK_DGRAM */
	TAPSEC_A_SOCK_STATE,		/* u32: enum tapsec_sock_state */
	TAPSEC_A_SOCK_PROTOCOL,		/* u32: enum tapsec_record_proto */
	TAPSEC_A_SOCK_ORIGIN,		/* u32: enum tapsec_sock_origin */
	TAPSEC_A_SOCK_LOCAL,		/* binary: struct sockaddr_in[6] */
	TAPSEC_A_SOCK_PEER,		/* binary: struct sockaddr_in[6] */
	TAPSEC_A_SOCK_TX_VERSION,	/* u16: 0 without a TX key */
	TAPSEC_A_SOCK_TX_CIPHER,	/* u16 */
	TAPSEC_A_SOCK_RX_VERSION,	/* u16: 0 without an RX key */
	TAPSEC_A_SOCK_RX_CIPHER,	/* u16 */
	TAPSEC_A_SOCK_STATS,		/* nest: TAPSEC_A_STATS_* */
	TAPSEC_A_SOCK_PAD,

	__TAPSEC_A_SOCK_MAX,
	TAPSEC_A_SOCK_MAX = __TAPSEC_A_SOCK_MAX - 1
};

/* TAPSEC_A_FEATURES bits: what this module build offers. */
#define TAPSEC_FEAT_STREAM	_BITULL(0)	/* SOCK_STREAM sockets */
#define TAPSEC_FEAT_DGRAM	_BITULL(1)	/* SOCK_DGRAM sockets */
#define TAPSEC_FEAT_TCP_ULP	_BITULL(2)	/* TCP_ULP "tapsec" */
#define TAPSEC_FEAT_INET6	_BITULL(3)	/* AF_INET6 sockets */
#define TAPSEC_FEAT_TLS		_BITULL(4)	/* TLS 1.2/1.3 record layer */

#endif /* _UAPI_LINUX_TAPSEC_H */
