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
};

/* Socket states reported in tapsec_sock_info.state. */
enum tapsec_sock_state {
	TAPSEC_STATE_NEW = 0,		/* no keys: data refused with ENOKEY */
	TAPSEC_STATE_ESTABLISHED = 1,	/* keys installed */
	TAPSEC_STATE_CLOSED = 2,
};

/* Where the socket came from (tapsec_sock_info.origin). */
enum tapsec_sock_origin {
	TAPSEC_ORIGIN_SOCKET = 0,	/* socket(..., IPPROTO_TAPSEC) */
	TAPSEC_ORIGIN_ULP = 1,		/* TCP_ULP "tapsec" on a TCP socket */
	TAPSEC_ORIGIN_ACCEPT = 2,	/* accepted from a tapsec listener */
};

struct tapsec_sock_info {
	__u32 state;		/* enum tapsec_sock_state */
	__u32 protocol;		/* enum tapsec_record_proto */
	__u32 origin;		/* enum tapsec_sock_origin */
	__u32 pad;
	__u64 refused_nokey;	/* data calls refused: no key installed */
};

/* Generic netlink family. */
#define TAPSEC_GENL_NAME	"tapsec"
#define TAPSEC_GENL_VERSION	1

enum tapsec_cmd {
	TAPSEC_CMD_UNSPEC,
	/* Module version, features and counters; unprivileged, read only. */
	TAPSEC_CMD_GET_INFO,

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

	__TAPSEC_A_MAX,
	TAPSEC_A_MAX = __TAPSEC_A_MAX - 1
};

/* TAPSEC_A_FEATURES bits: what this module build offers. */
#define TAPSEC_FEAT_STREAM	_BITULL(0)	/* SOCK_STREAM sockets */
#define TAPSEC_FEAT_DGRAM	_BITULL(1)	/* SOCK_DGRAM sockets */
#define TAPSEC_FEAT_TCP_ULP	_BITULL(2)	/* TCP_ULP "tapsec" */
#define TAPSEC_FEAT_INET6	_BITULL(3)	/* AF_INET6 sockets */

#endif /* _UAPI_LINUX_TAPSEC_H */
