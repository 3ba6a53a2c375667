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

	/*
	 * Handshake delegation (stream sockets; Documentation/handshake.rst).
	 * Pre-connection options are set before connect() or listen() (EISCONN
	 * afterwards); an accepted socket inherits its listener's.
	 */
	/* int, enum tapsec_handshake_mode; default TAPSEC_HANDSHAKE_NONE. */
	TAPSEC_HANDSHAKE = 7,
	/* u32, milliseconds a delegated handshake may take (default 30000). */
	TAPSEC_HANDSHAKE_TIMEOUT = 8,
	/* string: SNI sent and the name the peer certificate must match. */
	TAPSEC_SERVER_NAME = 9,
	/* string: ALPN protocols offered/accepted, comma separated. */
	TAPSEC_ALPN = 10,
	/* string: name of the daemon identity (certificate chain and key). */
	TAPSEC_IDENTITY = 11,
	/* int, enum tapsec_verify: how the peer is authenticated. */
	TAPSEC_VERIFY = 12,
	/* string: name of the daemon trust store (CA set); "" the default. */
	TAPSEC_TRUST = 13,
	/* string: external PSK identity (TAPSEC_PSK_* store). */
	TAPSEC_PSK_IDENTITY = 14,
	/* struct tapsec_versions: lowest and highest TLS version allowed. */
	TAPSEC_VERSIONS = 15,
	/* __u16 array: TAPSEC_CIPHER_* allowed, in preference order. */
	TAPSEC_CIPHERS = 16,
	/* struct tapsec_handshake_info, read only: outcome of the handshake. */
	TAPSEC_HANDSHAKE_INFO = 17,
	/* string, read only: ALPN protocol negotiated ("" if none). */
	TAPSEC_ALPN_NEGOTIATED = 18,
	/* string, read only: the validated peer identity (certificate DN). */
	TAPSEC_PEER_IDENTITY = 19,
	/*
	 * u32, enum tapsec_session_cache: whether the daemon may resume this
	 * socket's session (client) or issue tickets for it (server).
	 */
	TAPSEC_SESSION_CACHE = 20,
	/*
	 * Authentication deferred to the application (TAPSEC_VERIFY_DEFER):
	 * the peer's certificate chain, read only, each certificate as a
	 * 24-bit big-endian length and its DER (TLS's encoding); ERANGE with
	 * the size needed in optlen when the buffer is short.
	 */
	TAPSEC_PEER_CHAIN = 21,
	/* int, write only: TAPSEC_PEER_ACCEPT or TAPSEC_PEER_REJECT. */
	TAPSEC_PEER_VERDICT = 22,

	/*
	 * TLS 1.3 secrets, KeyUpdate and exporters (Documentation/tls.rst).
	 * Secrets are set by whoever may set TAPSEC_TX/RX, after the key of
	 * that direction, and can never be read back.
	 */
	/* struct tapsec_tls13_secret: this direction's traffic secret. */
	TAPSEC_TX_SECRET = 30,
	TAPSEC_RX_SECRET = 31,
	/* struct tapsec_tls13_secret: the exporter_master_secret. */
	TAPSEC_EXPORTER_SECRET = 32,
	/* int, write only: send a KeyUpdate; 1 asks the peer for one too. */
	TAPSEC_KEY_UPDATE = 33,
	/* struct tapsec_export_req in, out_len exporter bytes out. */
	TAPSEC_EXPORT = 34,
	/*
	 * struct tapsec_key_limits, read/write with a transmit key: records,
	 * bytes and seconds one transmit key may seal (RFC 8446 5.5; ESP and
	 * WireGuard start with their protocol's limits).
	 */
	TAPSEC_KEY_LIMITS = 35,

	/*
	 * Datagram records (DTLS; Documentation/dtls.rst).
	 * u32, read/write: records the anti-replay window spans,
	 * TAPSEC_REPLAY_WINDOW_MIN to TAPSEC_REPLAY_WINDOW_MAX (default 64).
	 */
	TAPSEC_REPLAY_WINDOW = 36,
	/*
	 * u32, read/write: milliseconds for which records of the previous
	 * receive epoch are still accepted once a newer receive key is in
	 * (default 10000, at most 600000; 0 drops them at once).
	 */
	TAPSEC_EPOCH_GRACE = 37,
	/*
	 * int, read only, on a connected socket with a transmit key: the
	 * largest payload one send() may carry on the current path (larger
	 * ones fail with EMSGSIZE).
	 */
	TAPSEC_MAX_PAYLOAD = 38,
	/*
	 * DTLS 1.3 connection IDs (RFC 9147 9), 0 to TAPSEC_CID_MAX bytes,
	 * read/write; an empty value means none.  TAPSEC_TX_CID: the peer's,
	 * carried by every record sent.  TAPSEC_RX_CID: this socket's, which
	 * every record received must carry.  A socket accepted from a
	 * listener is found by its TAPSEC_RX_CID when the peer's address
	 * changes, and follows the peer (Documentation/dtls.rst, Mobility).
	 * DTLS 1.2 connection IDs (RFC 9146) are not supported: EOPNOTSUPP.
	 */
	TAPSEC_TX_CID = 39,
	TAPSEC_RX_CID = 40,
	/*
	 * struct tapsec_hs_psk, read only, for the daemon running the
	 * socket's handshake (and CAP_NET_ADMIN): the identity goes in, the
	 * key of that PSK comes out, copied from the namespace's store
	 * straight into the caller's buffer.  EPERM for anyone else or an
	 * identity the socket did not ask for; EACCES when the socket's
	 * owner may not use that PSK (TAPSEC_A_PSK_UIDS/GIDS); ENOKEY for
	 * an identity the store does not hold.
	 */
	TAPSEC_HANDSHAKE_PSK = 41,
	/*
	 * u32, read/write, DTLS sockets (inherited by accepted ones): 1 makes
	 * an accepted socket check that a peer is reachable at a new address
	 * (a return routability check: a challenge the peer must echo from
	 * there) before it follows the peer; 0 (the default) follows the
	 * first authenticated newer record.  Documentation/dtls.rst.
	 */
	TAPSEC_PATH_CHECK = 42,
	/*
	 * u32, read/write, DTLS sockets (inherited by accepted ones): the
	 * fewest milliseconds between two moves of an accepted socket to a
	 * peer's new address, TAPSEC_MOVE_INTERVAL_DEFAULT by default, at
	 * most TAPSEC_MOVE_INTERVAL_MAX; 0 lets every authenticated newer
	 * record move it.  A move held back is counted (moves_limited).
	 */
	TAPSEC_MOVE_INTERVAL = 43,
	/*
	 * WireGuard sockets (Documentation/wireguard.rst): struct
	 * tapsec_wg_inner, read/write, set before the keys: the inner
	 * IPv4/IPv6 and UDP addresses each datagram is carried between.
	 */
	TAPSEC_WG_INNER = 44,
	/*
	 * ESP and WireGuard sockets: the previous inbound key.  Installing
	 * an inbound key (TAPSEC_RX) of another SPI or receiver index than
	 * the current one keeps the current one as the previous: packets
	 * under either are accepted (make-before-break rekeying).  Read: the
	 * previous key as TAPSEC_RX reads it (ENOKEY when there is none).
	 * Set, with no value (optlen 0): retire it, wiped; ENOKEY when there
	 * is none.
	 */
	TAPSEC_RX_PREV = 45,
	/*
	 * WireGuard sockets: set with no value (optlen 0) to send one
	 * keepalive, an empty transport data message under the outbound
	 * key (it takes a counter, counts against the key's limits, not as
	 * a record).  ENOKEY without an outbound key; EOPNOTSUPP on ESP.
	 */
	TAPSEC_KEEPALIVE = 46,
};

/*
 * ESP in UDP (TAPSEC_PROTO_ESP, RFC 4303 and RFC 3948; Documentation/esp.rst).
 * TAPSEC_TX and TAPSEC_RX take a struct tapsec_esp_sa on an ESP socket: the
 * outbound and the inbound security association of a transport-mode flow.
 * Each datagram sent is one ESP packet in one UDP datagram to the
 * connected peer, carrying an inner UDP header (inner_sport, inner_dport)
 * and the payload, next header 17; each one received must carry the
 * inbound SA's SPI and inner ports.  Reading TAPSEC_TX or TAPSEC_RX gives
 * the SA with its key zeroed and seq (with seq_hi) the last sequence
 * number sent (outbound) or the highest accepted (inbound); TAPSEC_TX_KEY
 * and TAPSEC_RX_KEY (CAP_NET_ADMIN) include the key.  TAPSEC_REPLAY_WINDOW
 * sizes the inbound anti-replay window.
 *
 * TAPSEC_ESP_F_ESN: extended (64-bit) sequence numbers (RFC 4303 2.2.1,
 * RFC 4106 5): the packet carries the low 32 bits, the ICV covers all 64,
 * and the receiver infers the high half from its window (RFC 4303
 * appendix A2).  Without it an outbound SA ends after 2^32 - 1 packets.
 * The struct grew seq_hi for it: setting TAPSEC_TX/RX takes either size
 * (TAPSEC_ESP_SA_SIZE_V0, without seq_hi, or sizeof), reading gives as
 * much as the caller's buffer holds.
 */
#define TAPSEC_ESP_SPI_MIN	256	/* 1 to 255 are reserved (RFC 4303 2.1) */
#define TAPSEC_ESP_SALT_LEN	4
/* The largest payload of one send(): 65507 UDP bytes less ESP's 45. */
#define TAPSEC_ESP_MAX_PAYLOAD	65462
#define TAPSEC_ESP_F_ESN	0x1
#define TAPSEC_ESP_SA_SIZE_V0	52	/* the struct before seq_hi */

struct tapsec_esp_sa {
	__u32 spi;		/* host order, TAPSEC_ESP_SPI_MIN and up */
	__u16 cipher;		/* TAPSEC_CIPHER_AES_GCM_128/_256, _CHACHA20_POLY1305 */
	__u16 flags;		/* TAPSEC_ESP_F_* */
	__u16 inner_sport;	/* the inner UDP header's ports, host order, */
	__u16 inner_dport;	/* neither 0 */
	__u32 seq;		/* outbound: the last sent (0 for a new SA); */
				/* inbound: 0; read: see above */
	__u8 key[32];		/* 16 or 32 bytes as the cipher says, then 0 */
	__u8 salt[TAPSEC_ESP_SALT_LEN];	/* RFC 4106 / RFC 7634 salt */
	__u32 seq_hi;		/* with TAPSEC_ESP_F_ESN: seq's high 32 bits */
};

/*
 * WireGuard transport data (TAPSEC_PROTO_WIREGUARD; Documentation/
 * wireguard.rst).  Each datagram sent becomes an inner IPv4 or IPv6 UDP
 * packet between the addresses of TAPSEC_WG_INNER, padded to 16 bytes
 * and sealed into one type-4 message (ChaCha20-Poly1305, the counter as
 * nonce) to the connected peer, so that kernel WireGuard on the other
 * side delivers it to a plain UDP socket on its interface, and back.
 * TAPSEC_TX and TAPSEC_RX take a struct tapsec_wg_key: the two halves
 * of a keypair a Noise handshake derived.  Each message received must
 * carry the inbound key's index, a counter not seen in the anti-replay
 * window (TAPSEC_REPLAY_WINDOW, default TAPSEC_WG_REPLAY_WINDOW) and an
 * inner UDP packet from the peer's inner address and port to this
 * socket's; an empty one (a keepalive) is consumed.  Reading TAPSEC_TX or
 * TAPSEC_RX gives the key zeroed and counter the next one to send
 * (outbound) or one past the highest accepted (inbound: 0 until a
 * message, a keepalive too, authenticated under it: key confirmation);
 * TAPSEC_TX_KEY and TAPSEC_RX_KEY (CAP_NET_ADMIN) include the key.
 */
#define TAPSEC_WG_KEY_LEN		32
#define TAPSEC_WG_REPLAY_WINDOW		8192
/* Counters at and above this are refused (WireGuard's REJECT_AFTER_MESSAGES). */
#define TAPSEC_WG_REJECT_AFTER_MESSAGES	(~0ULL - 8192)
/* The largest payload of one send(): 65507 UDP bytes less 32 of the
 * message, 48 of inner IPv6 and UDP headers, and padding to 16.
 */
#define TAPSEC_WG_MAX_PAYLOAD		65424

struct tapsec_wg_key {
	__u32 index;		/* outbound: the peer's receiver index, which */
				/* every message sent carries; inbound: this */
				/* socket's, which each one received must */
	__u32 flags;		/* none defined yet: 0 */
	__u64 counter;		/* outbound: the next to send (0 for a new */
				/* keypair); inbound: 0; read: see above */
	__u8 key[TAPSEC_WG_KEY_LEN];	/* ChaCha20-Poly1305 */
};

struct tapsec_wg_inner {
	__u16 family;		/* AF_INET or AF_INET6 */
	__u16 local_port;	/* host order: this socket's inner UDP port, */
	__u16 peer_port;	/* and the peer application's; neither 0 */
	__u16 flags;		/* none defined yet: 0 */
	__u8 local_addr[16];	/* this socket's inner address (AF_INET: */
	__u8 peer_addr[16];	/* 4 bytes, then zeros), and the peer's */
};

#define TAPSEC_MOVE_INTERVAL_DEFAULT	1000
#define TAPSEC_MOVE_INTERVAL_MAX	600000

#define TAPSEC_CID_MAX			20

#define TAPSEC_REPLAY_WINDOW_MIN	32
#define TAPSEC_REPLAY_WINDOW_MAX	8192
#define TAPSEC_REPLAY_WINDOW_DEFAULT	64
#define TAPSEC_EPOCH_GRACE_DEFAULT	10000
#define TAPSEC_EPOCH_GRACE_MAX		600000

/* TAPSEC_HANDSHAKE values. */
enum tapsec_handshake_mode {
	TAPSEC_HANDSHAKE_NONE = 0,	/* the application installs keys */
	TAPSEC_HANDSHAKE_DAEMON = 1,	/* connect()/accept() run one */
};

/* TAPSEC_SESSION_CACHE values. */
enum tapsec_session_cache {
	TAPSEC_SESSION_CACHE_ON = 0,	/* resume and store (the default) */
	TAPSEC_SESSION_CACHE_OFF = 1,	/* a full handshake, nothing kept */
};

/* TAPSEC_VERIFY values. */
enum tapsec_verify {
	TAPSEC_VERIFY_DEFAULT = 0,	/* chain to the trust store, and name */
	TAPSEC_VERIFY_NONE = 1,		/* no peer authentication */
	TAPSEC_VERIFY_DEFER = 2,	/* the application decides */
};

/* TAPSEC_PEER_VERDICT values. */
#define TAPSEC_PEER_REJECT	0	/* bad_certificate alert, EKEYREJECTED */
#define TAPSEC_PEER_ACCEPT	1	/* data flows */
#define TAPSEC_PEER_CHAIN_MAX	32768	/* bytes of TAPSEC_PEER_CHAIN */

struct tapsec_versions {
	__u16 min;			/* TAPSEC_TLS_*_VERSION, 0: any */
	__u16 max;
};

/* Handshake states (tapsec_handshake_info.state). */
enum tapsec_handshake_state {
	TAPSEC_HS_IDLE = 0,		/* none asked for (yet) */
	TAPSEC_HS_PENDING = 1,		/* waiting for the daemon */
	TAPSEC_HS_RUNNING = 2,		/* the daemon is on it */
	TAPSEC_HS_DONE = 3,		/* keys installed, data may flow */
	TAPSEC_HS_FAILED = 4,		/* see error and reason */
};

#define TAPSEC_REASON_LEN	128

struct tapsec_handshake_info {
	__u32 state;			/* enum tapsec_handshake_state */
	__u32 error;			/* positive errno when FAILED */
	__u16 version;			/* negotiated TAPSEC_TLS_*_VERSION */
	__u16 cipher;			/* negotiated TAPSEC_CIPHER_* */
	__u32 flags;			/* TAPSEC_HS_F_* */
	char reason[TAPSEC_REASON_LEN];	/* why it failed, NUL terminated */
};

/* TAPSEC_TX_SECRET, TAPSEC_RX_SECRET, TAPSEC_EXPORTER_SECRET. */
#define TAPSEC_TLS13_SECRET_MAX	48
struct tapsec_tls13_secret {
	__u16 cipher;			/* TAPSEC_CIPHER_*: selects the hash */
	__u16 len;			/* 32 (SHA-256) or 48 (SHA-384) */
	__u8 secret[TAPSEC_TLS13_SECRET_MAX];
};

/* TAPSEC_KEY_UPDATE values (RFC 8446 4.6.3 KeyUpdateRequest). */
#define TAPSEC_KEY_UPDATE_NOT_REQUESTED	0
#define TAPSEC_KEY_UPDATE_REQUESTED	1

/* TAPSEC_EXPORT: TLS-Exporter(label, context, out_len), RFC 8446 7.5. */
#define TAPSEC_EXPORT_LABEL_MAX		249
#define TAPSEC_EXPORT_CONTEXT_MAX	256
#define TAPSEC_EXPORT_OUT_MAX		255
struct tapsec_export_req {
	__u16 label_len;
	__u16 context_len;
	__u16 out_len;			/* 1..TAPSEC_EXPORT_OUT_MAX */
	__u8 has_context;
	__u8 pad;
	__u8 label[256];
	__u8 context[TAPSEC_EXPORT_CONTEXT_MAX];
};

/*
 * TAPSEC_KEY_LIMITS: what one transmit key may protect, counted from its
 * installation or last KeyUpdate: records, plaintext bytes, seconds.  At
 * a soft limit the kernel sends a KeyUpdate (with TAPSEC_TX_SECRET set)
 * and emits TAPSEC_EVENT_KEY_UPDATED, or else emits
 * TAPSEC_EVENT_KEY_EXPIRING once; at a hard limit sends fail with
 * EKEYEXPIRED.  On ESP and WireGuard sockets hard_seconds bounds inbound
 * keys too: one older accepts nothing (its packets count as rx_bad_spi)
 * and is wiped.  0 is no limit, except soft_records: 0 is the default of
 * RFC 8446 5.5, 2^24.5 records for AES-GCM, 2^62 for ChaCha20-Poly1305.
 * A soft limit above its hard limit is EINVAL.
 */
struct tapsec_key_limits {
	__u64 soft_records;
	__u64 hard_records;
	__u64 soft_bytes;
	__u64 hard_bytes;
	__u64 soft_seconds;
	__u64 hard_seconds;
};

#define TAPSEC_HS_F_RESUMED	_BITUL(0)	/* session resumed */
#define TAPSEC_HS_F_PEER_AUTH	_BITUL(1)	/* peer authenticated */
#define TAPSEC_HS_F_PSK		_BITUL(2)	/* external PSK used */
#define TAPSEC_HS_F_VERDICT	_BITUL(3)	/* waits for TAPSEC_PEER_VERDICT */

/* Control messages at level SOL_TAPSEC (same numbers as kTLS's). */
#define TAPSEC_SET_RECORD_TYPE	1	/* sendmsg: __u8 content type */
#define TAPSEC_GET_RECORD_TYPE	2	/* recvmsg: __u8 content type */

/* TLS record content types. */
#define TAPSEC_RECORD_CHANGE_CIPHER_SPEC	20
#define TAPSEC_RECORD_ALERT			21
#define TAPSEC_RECORD_HANDSHAKE			22
#define TAPSEC_RECORD_APPLICATION_DATA		23
/*
 * DTLS 1.3 return routability check (TAPSEC_PATH_CHECK): tapsec's number
 * for the content type draft-ietf-tls-dtls-rrc leaves to IANA.  The
 * kernel sends and answers these; readers never see them.
 */
#define TAPSEC_RECORD_RETURN_ROUTABILITY	27

/* Versions and ciphers: the numbers of kTLS (linux/tls.h). */
#define TAPSEC_TLS_1_2_VERSION	0x0303
#define TAPSEC_TLS_1_3_VERSION	0x0304
/*
 * DTLS keys use the same layouts; rec_seq is the epoch (16 bits) and the
 * record sequence number (48 bits), big-endian, as in DTLS 1.2 records.
 */
#define TAPSEC_DTLS_1_2_VERSION	0xfefd
#define TAPSEC_DTLS_1_3_VERSION	0xfefc

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
	__u64 hs_done;		/* delegated handshakes that succeeded */
	__u64 hs_failed;	/* delegated handshakes that failed */
	__u64 rx_post_handshake; /* post-handshake messages consumed */
	__u64 tx_key_updates;	/* TLS 1.3 KeyUpdates sent */
	__u64 rx_key_updates;	/* TLS 1.3 KeyUpdates received */
	__u64 rx_replayed;	/* DTLS: duplicate or too old, dropped */
	__u64 rx_bad_epoch;	/* DTLS: epoch without a key, dropped */
	__u64 tx_cookies;	/* DTLS listener: HelloVerifyRequests sent */
	__u64 rx_bad_cookie;	/* DTLS listener: wrong or stale cookies */
	__u64 peer_moves;	/* DTLS: peer followed to a new address */
	__u64 tx_flight_resent;	/* DTLS 1.2: last handshake flight datagrams resent */
	__u64 rx_direct;	/* TLS: records opened into the reader's buffer */
	__u64 tx_direct;	/* TLS: records sealed from the sender's buffer */
	__u64 rx_from_skb;	/* TLS: of rx_direct, opened from TCP's skbs */
	__u64 opt_refused;	/* TCP/UDP/IPv6 options refused: EOPNOTSUPP */
	__u64 psk_denied;	/* PSKs the socket's owner may not use: EACCES */
	__u64 hs_bad_keys;	/* DONE with a version or cipher not allowed */
	__u64 path_challenges;	/* DTLS: return routability checks sent */
	__u64 moves_limited;	/* DTLS: peer moves held back by the limit */
	__u64 rx_bad_spi;	/* ESP, WireGuard: packets of no inbound key */
				/* (SPI, receiver index), dropped */
	__u64 rx_misrouted;	/* WireGuard: inner packets for another */
				/* address, port or protocol, dropped */
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
	/*
	 * Kernel to the "handshake" group: handshakes are waiting
	 * (TAPSEC_A_HS_PENDING: how many).
	 */
	TAPSEC_CMD_HANDSHAKE_READY,
	/*
	 * Daemon, admin: take the oldest waiting handshake.  The reply's
	 * TAPSEC_A_HS holds the socket, installed in the caller as a file
	 * descriptor (TAPSEC_A_HS_FD), and the socket's parameters.  ENOENT
	 * when none is waiting.
	 */
	TAPSEC_CMD_HANDSHAKE_ACCEPT,
	/*
	 * Daemon, admin: the handshake on TAPSEC_A_HS_FD is over;
	 * TAPSEC_A_HS_STATUS 0 (keys installed) or a positive errno with
	 * TAPSEC_A_HS_REASON.
	 */
	TAPSEC_CMD_HANDSHAKE_DONE,
	/* Kernel to the "events" group: one TAPSEC_A_EVENT. */
	TAPSEC_CMD_EVENT,
	/*
	 * Admin: add the external PSK in TAPSEC_A_PSK (identity, key, hash)
	 * to the namespace's store.  EEXIST when the identity is there (a
	 * new key for it: PSK_DEL first); ENOSPC beyond TAPSEC_PSK_MAX
	 * entries.
	 */
	TAPSEC_CMD_PSK_ADD,
	/* Admin: delete the PSK TAPSEC_A_PSK_IDENTITY; ENOENT if unknown. */
	TAPSEC_CMD_PSK_DEL,
	/*
	 * Dump, admin: one TAPSEC_A_PSK per stored PSK, with its identity,
	 * hash and time added; never its key.
	 */
	TAPSEC_CMD_PSK_GET,
	/*
	 * Was HANDSHAKE_PSK, whose reply carried a key in an skb nobody
	 * wipes; the daemon reads keys with TAPSEC_HANDSHAKE_PSK instead.
	 */
	TAPSEC_CMD_RESERVED_11,

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
	TAPSEC_A_HS,			/* nest: TAPSEC_A_HS_* */
	TAPSEC_A_EVENT,			/* nest: TAPSEC_A_EVENT_* */
	TAPSEC_A_PSK,			/* nest: TAPSEC_A_PSK_* */

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
	TAPSEC_A_STATS_HS_DONE,
	TAPSEC_A_STATS_HS_FAILED,
	TAPSEC_A_STATS_RX_POST_HANDSHAKE,
	TAPSEC_A_STATS_TX_KEY_UPDATES,
	TAPSEC_A_STATS_RX_KEY_UPDATES,
	TAPSEC_A_STATS_RX_REPLAYED,
	TAPSEC_A_STATS_RX_BAD_EPOCH,
	TAPSEC_A_STATS_TX_COOKIES,
	TAPSEC_A_STATS_RX_BAD_COOKIE,
	TAPSEC_A_STATS_PEER_MOVES,
	TAPSEC_A_STATS_TX_FLIGHT_RESENT,
	TAPSEC_A_STATS_RX_DIRECT,
	TAPSEC_A_STATS_TX_DIRECT,
	TAPSEC_A_STATS_RX_FROM_SKB,
	TAPSEC_A_STATS_OPT_REFUSED,
	TAPSEC_A_STATS_PSK_DENIED,
	TAPSEC_A_STATS_HS_BAD_KEYS,
	TAPSEC_A_STATS_PATH_CHALLENGES,
	TAPSEC_A_STATS_MOVES_LIMITED,
	TAPSEC_A_STATS_RX_BAD_SPI,
	TAPSEC_A_STATS_RX_MISROUTED,
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
	TAPSEC_A_SOCK_TX_KEY_AGE,	/* u64: seconds since the TX key came in */

	__TAPSEC_A_SOCK_MAX,
	TAPSEC_A_SOCK_MAX = __TAPSEC_A_SOCK_MAX - 1
};

/* Multicast groups of the family. */
#define TAPSEC_MCGRP_HANDSHAKE	"handshake"
#define TAPSEC_MCGRP_EVENTS	"events"

/* Supplementary groups a handshake request carries at most. */
#define TAPSEC_HS_GROUPS_MAX	64

/* Roles in a handshake (TAPSEC_A_HS_ROLE). */
enum tapsec_hs_role {
	TAPSEC_ROLE_CLIENT = 0,
	TAPSEC_ROLE_SERVER = 1,
};

/* TAPSEC_A_HS: one handshake, between the kernel and the daemon. */
enum tapsec_hs_attr {
	TAPSEC_A_HS_UNSPEC,
	TAPSEC_A_HS_FD,			/* u32: socket, as the daemon's fd */
	TAPSEC_A_HS_ROLE,		/* u32: enum tapsec_hs_role */
	TAPSEC_A_HS_PROTOCOL,		/* u32: enum tapsec_record_proto */
	TAPSEC_A_HS_TIMEOUT,		/* u32: milliseconds left */
	TAPSEC_A_HS_SERVER_NAME,	/* string */
	TAPSEC_A_HS_ALPN,		/* string, comma separated */
	TAPSEC_A_HS_IDENTITY,		/* string */
	TAPSEC_A_HS_VERIFY,		/* u32: enum tapsec_verify */
	TAPSEC_A_HS_TRUST,		/* string */
	TAPSEC_A_HS_PSK_IDENTITY,	/* string */
	TAPSEC_A_HS_VERSION_MIN,	/* u16 */
	TAPSEC_A_HS_VERSION_MAX,	/* u16 */
	TAPSEC_A_HS_CIPHERS,		/* binary: __u16 TAPSEC_CIPHER_* list */
	TAPSEC_A_HS_PEER,		/* binary: struct sockaddr_in[6] */
	TAPSEC_A_HS_STATUS,		/* u32: 0 or a positive errno */
	TAPSEC_A_HS_REASON,		/* string: why it failed */
	TAPSEC_A_HS_ALPN_NEGOTIATED,	/* string */
	TAPSEC_A_HS_PEER_IDENTITY,	/* string */
	TAPSEC_A_HS_RESUMED,		/* flag */
	TAPSEC_A_HS_PEER_AUTH,		/* flag: the peer was authenticated */
	TAPSEC_A_HS_PENDING,		/* u32: handshakes waiting */
	TAPSEC_A_HS_INODE,		/* u64: socket inode */
	TAPSEC_A_HS_PSK,		/* flag: an external PSK was used */
	TAPSEC_A_HS_PAD,
	TAPSEC_A_HS_SESSION_CACHE,	/* u32: enum tapsec_session_cache */
	TAPSEC_A_HS_PEER_CHAIN,		/* binary: as TAPSEC_PEER_CHAIN */
	/*
	 * Who asked: the owner of the socket's file (its opener's fsuid and
	 * fsgid, and up to TAPSEC_HS_GROUPS_MAX supplementary groups), in
	 * the daemon's user namespace.  The daemon lets a socket use only
	 * the identities its owner may (Documentation/security.rst).
	 */
	TAPSEC_A_HS_UID,		/* u32 */
	TAPSEC_A_HS_GID,		/* u32 */
	TAPSEC_A_HS_GROUPS,		/* binary: __u32 list */

	__TAPSEC_A_HS_MAX,
	TAPSEC_A_HS_MAX = __TAPSEC_A_HS_MAX - 1
};

/* Event types (TAPSEC_A_EVENT_TYPE). */
enum tapsec_event_type {
	TAPSEC_EVENT_UNSPEC,
	TAPSEC_EVENT_HANDSHAKE_DONE,
	TAPSEC_EVENT_HANDSHAKE_FAILED,
	TAPSEC_EVENT_CLOSED,
	TAPSEC_EVENT_KEY_UPDATED,	/* automatic KeyUpdate at the soft limit */
	TAPSEC_EVENT_KEY_EXPIRING,	/* soft limit reached, no update possible */
	TAPSEC_EVENT_PEER_MOVED,	/* DTLS: the reason names the new address */
};

/* TAPSEC_A_EVENT: one event. */
enum tapsec_event_attr {
	TAPSEC_A_EVENT_UNSPEC,
	TAPSEC_A_EVENT_TYPE,		/* u32: enum tapsec_event_type */
	TAPSEC_A_EVENT_INODE,		/* u64: socket inode */
	TAPSEC_A_EVENT_ERROR,		/* u32: positive errno */
	TAPSEC_A_EVENT_REASON,		/* string */
	TAPSEC_A_EVENT_LOST,		/* u64: events lost before this one */
	TAPSEC_A_EVENT_PAD,

	__TAPSEC_A_EVENT_MAX,
	TAPSEC_A_EVENT_MAX = __TAPSEC_A_EVENT_MAX - 1
};

/*
 * External pre-shared keys (RFC 8446 2.2), per network namespace.  A TLS
 * 1.3 external PSK is bound to a hash (TAPSEC_A_PSK_HASH).
 */
#define TAPSEC_PSK_IDENTITY_MAX	128	/* bytes, NUL excluded */
#define TAPSEC_PSK_KEY_MIN	16
#define TAPSEC_PSK_KEY_MAX	64
#define TAPSEC_PSK_MAX		1024	/* entries per network namespace */
/* TAPSEC_PSK_IDENTITY of a server socket: any identity of the store. */
#define TAPSEC_PSK_ANY		"*"

/*
 * Who may use a PSK: TAPSEC_A_PSK_UIDS and TAPSEC_A_PSK_GIDS, up to
 * TAPSEC_PSK_OWNERS_MAX of each.  A socket may when the owner of its file
 * (fsuid) is listed, or its fsgid or a supplementary group is.  A PSK
 * added without either belongs to uid 0 alone.
 */
#define TAPSEC_PSK_OWNERS_MAX	16

/* TAPSEC_HANDSHAKE_PSK: the daemon fetches the key of a handshake's PSK. */
struct tapsec_hs_psk {
	char identity[TAPSEC_PSK_IDENTITY_MAX + 1];	/* in, NUL terminated */
	__u8 pad[3];
	__u32 hash;			/* out: enum tapsec_psk_hash */
	__u32 key_len;			/* out: bytes of key */
	__u8 key[TAPSEC_PSK_KEY_MAX];	/* out */
};

/* TAPSEC_A_PSK_HASH values. */
enum tapsec_psk_hash {
	TAPSEC_PSK_HASH_SHA256 = 0,	/* the default */
	TAPSEC_PSK_HASH_SHA384 = 1,
};

/* TAPSEC_A_PSK: one pre-shared key. */
enum tapsec_psk_attr {
	TAPSEC_A_PSK_UNSPEC,
	TAPSEC_A_PSK_IDENTITY,		/* string, 1..TAPSEC_PSK_IDENTITY_MAX */
	TAPSEC_A_PSK_KEY,		/* binary, TAPSEC_PSK_KEY_MIN..MAX */
	TAPSEC_A_PSK_HASH,		/* u32: enum tapsec_psk_hash */
	TAPSEC_A_PSK_ADDED,		/* u64: seconds since boot when added */
	TAPSEC_A_PSK_PAD,
	TAPSEC_A_PSK_UIDS,		/* binary: __u32 uids that may use it */
	TAPSEC_A_PSK_GIDS,		/* binary: __u32 gids that may use it */

	__TAPSEC_A_PSK_MAX,
	TAPSEC_A_PSK_MAX = __TAPSEC_A_PSK_MAX - 1
};

/* TAPSEC_A_FEATURES bits: what this module build offers. */
#define TAPSEC_FEAT_STREAM	_BITULL(0)	/* SOCK_STREAM sockets */
#define TAPSEC_FEAT_DGRAM	_BITULL(1)	/* SOCK_DGRAM sockets */
#define TAPSEC_FEAT_TCP_ULP	_BITULL(2)	/* TCP_ULP "tapsec" */
#define TAPSEC_FEAT_INET6	_BITULL(3)	/* AF_INET6 sockets */
#define TAPSEC_FEAT_TLS		_BITULL(4)	/* TLS 1.2/1.3 record layer */
#define TAPSEC_FEAT_HANDSHAKE	_BITULL(5)	/* delegated handshakes */
#define TAPSEC_FEAT_DTLS	_BITULL(6)	/* DTLS 1.2/1.3 record layer */
#define TAPSEC_FEAT_ESP		_BITULL(7)	/* ESP in UDP */
#define TAPSEC_FEAT_WIREGUARD	_BITULL(8)	/* WireGuard transport data */

#endif /* _UAPI_LINUX_TAPSEC_H */
