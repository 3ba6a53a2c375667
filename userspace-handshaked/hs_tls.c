// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec-handshaked: one TLS handshake with GnuTLS.
 *
 * The socket the kernel hands over is in raw mode: send and recv carry the
 * handshake bytes untouched.  GnuTLS runs over it until the handshake is
 * complete, then the application traffic keys of both directions go into
 * the socket with TAPSEC_TX and TAPSEC_RX and the kernel's record layer
 * takes over.  Nothing may be read beyond the handshake: bytes the peer
 * sends after its last handshake message are records for the kernel.
 * GnuTLS reads a record header, then exactly the rest of that record, so
 * a transport that reads what it is asked for keeps that guarantee.
 * gnutls_bye() is never called: the connection lives on in the kernel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <gnutls/dtls.h>
#include <gnutls/x509.h>

#include "hs_cache.h"
#include "hs_netlink.h"
#include "hs_tls.h"

/* GnuTLS takes at most 8 ALPN protocols (MAX_ALPN_PROTOCOLS). */
#define HS_MAX_ALPN		8

/* Non-fatal GnuTLS errors in a row before the handshake is given up. */
#define HS_MAX_RETRIES		64

/*
 * TLS 1.3 secrets GnuTLS reports through its key log (hs_keylog()), for
 * the kernel to derive KeyUpdate generations and exporters from.
 */
struct hs_tls13_secret {
	unsigned char data[TAPSEC_TLS13_SECRET_MAX];
	unsigned int len;		/* 0: not reported */
};

struct hs_tls13_secrets {
	struct hs_tls13_secret client, server, exporter;
};

struct hs_tls {
	gnutls_session_t session;
	const struct hs_request *req;
	struct hs_nl *nl;	/* the request socket, for PSK keys */
	int fd;
	bool verify_peer;	/* the peer's certificate is checked */
	bool psk;		/* the socket asked for an external PSK */
	bool defer;		/* TAPSEC_VERIFY_DEFER: the chain goes up */
	bool dtls;		/* DTLS over a datagram socket */
	int io_errno;		/* errno of the last failed send or recv */
	bool want_write;	/* the last call that would block was a send */
	int rx_ready;		/* hs_pull_timeout()'s answer, -1: poll */
	char verify_name[256];	/* the name the server must carry */
	gnutls_psk_client_credentials_t psk_client;
	gnutls_psk_server_credentials_t psk_server;
	struct hs_result psk_res;	/* why a server-side key fetch failed */
	struct hs_tls13_secrets secrets;	/* from hs_keylog() */
};

static int hs_keylog(gnutls_session_t session, const char *label,
		     const gnutls_datum_t *secret);

/*
 * The record protections tapsec implements, in GnuTLS's own order of
 * preference, and where each field of the key material goes.  AES-GCM
 * splits its 12-byte nonce base into salt and iv; ChaCha20-Poly1305 has
 * no salt (salt_len 0).
 */
struct hs_aead {
	gnutls_cipher_algorithm_t algo;
	uint16_t type;			/* TAPSEC_CIPHER_* */
	const char *prio;		/* GnuTLS priority keyword */
	size_t size;			/* of its tapsec_crypto_info_* */
	size_t key_off, key_len;
	size_t salt_off, salt_len;
	size_t iv_off, iv_len;
	size_t seq_off;
};

#define HS_FIELD(st, f)		.f##_off = offsetof(struct st, f), \
				.f##_len = sizeof(((struct st *)0)->f)
#define HS_INFO(st)		.size = sizeof(struct st), HS_FIELD(st, key), \
				HS_FIELD(st, iv), \
				.seq_off = offsetof(struct st, rec_seq)

static const struct hs_aead hs_aeads[] = {
	{
		.algo = GNUTLS_CIPHER_AES_256_GCM,
		.type = TAPSEC_CIPHER_AES_GCM_256,
		.prio = "AES-256-GCM",
		HS_INFO(tapsec_crypto_info_aes_gcm_256),
		HS_FIELD(tapsec_crypto_info_aes_gcm_256, salt),
	}, {
		.algo = GNUTLS_CIPHER_CHACHA20_POLY1305,
		.type = TAPSEC_CIPHER_CHACHA20_POLY1305,
		.prio = "CHACHA20-POLY1305",
		HS_INFO(tapsec_crypto_info_chacha20_poly1305),
	}, {
		.algo = GNUTLS_CIPHER_AES_128_GCM,
		.type = TAPSEC_CIPHER_AES_GCM_128,
		.prio = "AES-128-GCM",
		HS_INFO(tapsec_crypto_info_aes_gcm_128),
		HS_FIELD(tapsec_crypto_info_aes_gcm_128, salt),
	},
};

#define HS_N_AEADS	(sizeof(hs_aeads) / sizeof(hs_aeads[0]))

/* The entry of GnuTLS cipher @algo, or if it is 0 of TAPSEC_CIPHER_ @type. */
static const struct hs_aead *aead_find(gnutls_cipher_algorithm_t algo,
				       uint16_t type)
{
	for (size_t i = 0; i < HS_N_AEADS; i++)
		if (algo ? hs_aeads[i].algo == algo : hs_aeads[i].type == type)
			return &hs_aeads[i];
	return NULL;
}

size_t hs_tls_crypto_info(gnutls_protocol_t version,
			  gnutls_cipher_algorithm_t cipher,
			  const gnutls_datum_t *key, const gnutls_datum_t *iv,
			  const unsigned char seq[8], union hs_crypto_info *ci)
{
	const struct hs_aead *a = aead_find(cipher, 0);
	unsigned char *p = (unsigned char *)ci;
	const unsigned char *nonce;
	size_t implicit;

	if (!a || (version != GNUTLS_TLS1_2 && version != GNUTLS_TLS1_3 &&
		   version != GNUTLS_DTLS1_2))
		return 0;
	/*
	 * TLS 1.3 (RFC 8446 5.3) and ChaCha20-Poly1305 in TLS 1.2 (RFC 7905)
	 * derive each nonce from a 12-byte static IV, which GnuTLS hands out
	 * whole; for AES-GCM kTLS wants its first 4 bytes as salt and the
	 * other 8 as iv.  TLS 1.2 AES-GCM (RFC 5288) has a 4-byte implicit
	 * IV, the salt, and an 8-byte explicit nonce carried in each record:
	 * GnuTLS sends the record sequence number there and so does the
	 * kernel, which counts on from the iv it is given, so iv = rec_seq.
	 */
	implicit = a->salt_len + a->iv_len;
	if (version != GNUTLS_TLS1_3 && a->salt_len)
		implicit = a->salt_len;
	if (key->size != a->key_len || iv->size != implicit)
		return 0;
	nonce = implicit > a->salt_len ? iv->data + a->salt_len : seq;

	memset(ci, 0, sizeof(*ci));
	/* DTLS 1.2 records as TLS 1.2's; seq carries the epoch on top. */
	ci->info.version = version == GNUTLS_TLS1_3 ? TAPSEC_TLS_1_3_VERSION :
			   version == GNUTLS_DTLS1_2 ? TAPSEC_DTLS_1_2_VERSION :
						       TAPSEC_TLS_1_2_VERSION;
	ci->info.cipher_type = a->type;
	memcpy(p + a->key_off, key->data, a->key_len);
	memcpy(p + a->salt_off, iv->data, a->salt_len);
	memcpy(p + a->iv_off, nonce, a->iv_len);
	memcpy(p + a->seq_off, seq, 8);
	return a->size;
}

/*
 * The transport.  GnuTLS's own would do, but the socket's file may be
 * shared with the application, so the daemon must not set O_NONBLOCK on
 * it: MSG_DONTWAIT makes each call non-blocking instead, and the worker's
 * event loop waits.  Reads ask for exactly what GnuTLS asks for.
 */
static ssize_t hs_pull(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
	struct hs_tls *t = ptr;
	ssize_t n = recv(t->fd, buf, len, MSG_DONTWAIT);

	t->rx_ready = -1;
	if (n < 0) {
		t->io_errno = errno;
		if (errno == EAGAIN)
			t->want_write = false;
	}
	return n;
}

static ssize_t hs_push(gnutls_transport_ptr_t ptr, const giovec_t *iov,
		       int iovcnt)
{
	struct hs_tls *t = ptr;
	struct msghdr msg = {
		.msg_iov = (struct iovec *)iov,
		.msg_iovlen = iovcnt,
	};
	ssize_t n = sendmsg(t->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0) {
		t->io_errno = errno;
		if (errno == EAGAIN)
			t->want_write = true;
	}
	return n;
}

/*
 * GnuTLS asks whether a datagram is there (DTLS only).  A GNUTLS_NONBLOCK
 * session does not wait here (it returns GNUTLS_E_AGAIN and the event loop
 * waits), and a worker must never block: answer without waiting, whatever
 * @ms says.
 *
 * The answer holds until the next read or step.  GnuTLS 3.7 asks twice in
 * a row while it waits for the peer's last flight: "nothing" the first
 * time sends it to check whether to retransmit, and "something" the
 * second time makes it read the datagram into its handshake buffer and
 * forget its own flight, but not read the message from there: the
 * handshake then neither ends nor retransmits until it times out.  A
 * datagram arriving between the two questions did that (one handshake in
 * a hundred or so, always waiting for the server's Finished).
 */
static int hs_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	struct hs_tls *t = ptr;
	struct pollfd pfd = { .fd = t->fd, .events = POLLIN };
	int n;

	(void)ms;
	if (t->rx_ready >= 0)
		return t->rx_ready;
	n = poll(&pfd, 1, 0);
	if (n >= 0)
		t->rx_ready = n;
	return n;
}

/*
 * The key of the external PSK @identity, from tapsec's PSK store.
 * @key->data is allocated with gnutls_malloc() (GnuTLS frees what a
 * credentials callback returns); the caller wipes and frees it otherwise.
 * Returns 0 or a positive errno with the reason in @res.
 */
static int hs_psk_fetch(struct hs_tls *t, const char *identity,
			gnutls_datum_t *key, struct hs_result *res)
{
	struct tapsec_hs_psk req;
	uint8_t *buf = req.key;
	uint32_t len, hash;
	int err;

	key->data = NULL;
	key->size = 0;
	err = hs_psk_get(t->fd, identity, &req, res);
	if (err)
		return err;
	len = req.key_len;
	hash = req.hash;
	/*
	 * GnuTLS before 3.8 binds every external PSK to SHA-256 in TLS 1.3
	 * and has no way to ask for SHA-384.
	 */
	if (hash != TAPSEC_PSK_HASH_SHA256) {
		gnutls_memset(&req, 0, sizeof(req));
		hs_fail(res, EOPNOTSUPP, "SHA-384 PSKs not supported by this GnuTLS");
		return EOPNOTSUPP;
	}
	key->data = gnutls_malloc(len);
	if (!key->data) {
		gnutls_memset(&req, 0, sizeof(req));
		hs_fail(res, ENOMEM, "out of memory");
		return ENOMEM;
	}
	memcpy(key->data, buf, len);
	key->size = len;
	gnutls_memset(&req, 0, sizeof(req));
	return 0;
}

/*
 * Server: the key of the identity the client offered.  The kernel checks
 * that the socket may use it.  A failure is kept for the handshake's
 * result: GnuTLS's own error says little.
 */
static int hs_psk_server_key(gnutls_session_t session,
			     const gnutls_datum_t *username,
			     gnutls_datum_t *key)
{
	struct hs_tls *t = gnutls_session_get_ptr(session);
	char identity[TAPSEC_PSK_IDENTITY_MAX + 1];

	if (!username->size || username->size > TAPSEC_PSK_IDENTITY_MAX ||
	    memchr(username->data, '\0', username->size)) {
		hs_fail(&t->psk_res, ENOKEY, "unknown PSK identity");
		return -1;
	}
	memcpy(identity, username->data, username->size);
	identity[username->size] = '\0';
	if (hs_psk_fetch(t, identity, key, &t->psk_res))
		return -1;
	hs_debug("%s: PSK identity \"%s\"", t->req->peer_str, identity);
	return 0;
}

/*
 * PSK credentials: a client fetches the key of its identity now; a server
 * when the client names one.
 */
static int set_psk(struct hs_tls *t, struct hs_result *res)
{
	gnutls_datum_t key;
	int ret;

	if (t->req->role == TAPSEC_ROLE_SERVER) {
		ret = gnutls_psk_allocate_server_credentials(&t->psk_server);
		if (ret < 0)
			goto gnutls_fail;
		gnutls_psk_set_server_credentials_function2(t->psk_server,
							    hs_psk_server_key);
		gnutls_psk_set_server_known_dh_params(t->psk_server,
						      GNUTLS_SEC_PARAM_MEDIUM);
		ret = gnutls_credentials_set(t->session, GNUTLS_CRD_PSK,
					     t->psk_server);
		if (ret < 0)
			goto gnutls_fail;
		return 0;
	}
	if (hs_psk_fetch(t, t->req->psk_identity, &key, res))
		return -1;
	ret = gnutls_psk_allocate_client_credentials(&t->psk_client);
	if (ret >= 0)
		ret = gnutls_psk_set_client_credentials(t->psk_client,
							t->req->psk_identity,
							&key,
							GNUTLS_PSK_KEY_RAW);
	gnutls_memset(key.data, 0, key.size);
	gnutls_free(key.data);
	if (ret >= 0)
		ret = gnutls_credentials_set(t->session, GNUTLS_CRD_PSK,
					     t->psk_client);
	if (ret >= 0)
		return 0;
gnutls_fail:
	hs_fail(res, EINVAL, "PSK credentials: %s", gnutls_strerror(ret));
	return -1;
}

/*
 * Whether the socket's TAPSEC_VERSIONS allows @v.  DTLS versions count
 * down (0xfefc, DTLS 1.3, is newer than 0xfefd, DTLS 1.2): for them "min"
 * is the numerically larger bound.
 */
static bool version_allowed(const struct hs_request *req, uint16_t v)
{
	if (v >= TAPSEC_DTLS_1_3_VERSION)
		return (!req->version_min || req->version_min >= v) &&
		       (!req->version_max || req->version_max <= v);
	return (!req->version_min || req->version_min <= v) &&
	       (!req->version_max || req->version_max >= v);
}

static void append(char *buf, size_t size, const char *s)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len, "%s", s);
}

/*
 * DTLS: datagrams no larger than the path allows (GnuTLS's MTU excludes
 * the IP and UDP headers), and retransmissions from 1 s on, doubling, for
 * as long as the handshake may take.
 */
/*
 * A DTLS server socket comes from accept() on a tapsec listener: the kernel
 * checked the client's cookie (its HelloVerifyRequest was message 0) and
 * keeps that second ClientHello as the socket's first datagram.  GnuTLS
 * reads it as usual once it knows where the sequence numbers stand, as
 * after gnutls_dtls_cookie_verify().  A short or missing datagram is left
 * for the handshake to fail on.
 */
static void set_dtls_prestate(struct hs_tls *t)
{
	gnutls_dtls_prestate_st ps = { 0 };
	unsigned char b[13 + 12];
	ssize_t n;

	n = recv(t->fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
	if (n != (ssize_t)sizeof(b))
		return;
	/* record header: sequence number at 5; handshake: message_seq */
	ps.record_seq = (unsigned int)b[7] << 24 | b[8] << 16 | b[9] << 8 |
			b[10];
	ps.hsk_read_seq = b[13 + 4] << 8 | b[13 + 5];
	ps.hsk_write_seq = 0;
	gnutls_dtls_prestate_set(t->session, &ps);
}

static void set_dtls_transport(struct hs_tls *t)
{
	bool v6 = t->req->peer.ss_family == AF_INET6;
	int mtu = 0;
	socklen_t len = sizeof(mtu);

	if (getsockopt(t->fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
		       v6 ? IPV6_MTU : IP_MTU, &mtu, &len) || mtu <= 0)
		mtu = 1280;
	gnutls_dtls_set_mtu(t->session, mtu - (v6 ? 48 : 28));
	gnutls_dtls_set_timeouts(t->session, 1000, t->req->timeout_ms);
	if (t->req->role == TAPSEC_ROLE_SERVER)
		set_dtls_prestate(t);
}

/**
 * hs_tls_wake_ms() - when a DTLS handshake must be stepped again
 * @t: the handshake
 *
 * Return: milliseconds until GnuTLS retransmits, or -1 (TLS: only I/O
 * moves it on).
 */
int hs_tls_wake_ms(struct hs_tls *t)
{
	return t->dtls ? (int)gnutls_dtls_get_timeout(t->session) : -1;
}

/*
 * Only what the kernel can take over: TLS 1.2 and 1.3 with the three
 * AEADs, narrowed by the application's versions and ciphers.  The
 * application's cipher list is in its order of preference; a server
 * follows it (%SERVER_PRECEDENCE).
 */
static int set_priority(struct hs_tls *t, struct hs_result *res)
{
	const struct hs_request *req = t->req;
	char prio[256] = "NORMAL:-VERS-ALL";
	const char *err_pos = NULL;
	bool used[HS_N_AEADS] = { false };
	const struct hs_aead *a;
	bool any = false;
	unsigned int i;
	int ret;

	/* GnuTLS 3.7 has no DTLS 1.3 handshake. */
	if (t->dtls && version_allowed(req, TAPSEC_DTLS_1_2_VERSION))
		append(prio, sizeof(prio), ":+VERS-DTLS1.2");
	if (!t->dtls && version_allowed(req, TAPSEC_TLS_1_3_VERSION))
		append(prio, sizeof(prio), ":+VERS-TLS1.3");
	if (!t->dtls && version_allowed(req, TAPSEC_TLS_1_2_VERSION))
		append(prio, sizeof(prio), ":+VERS-TLS1.2");
	if (!strchr(prio, '+')) {
		hs_fail(res, EPROTONOSUPPORT, "no %s version allowed",
			t->dtls ? "DTLS" : "TLS");
		return -1;
	}
	append(prio, sizeof(prio), ":-CIPHER-ALL");
	/* The application's ciphers in its order; without a list, ours. */
	for (i = 0; i < (req->n_ciphers ? req->n_ciphers : HS_N_AEADS); i++) {
		a = req->n_ciphers ?
		    aead_find(GNUTLS_CIPHER_UNKNOWN, req->ciphers[i]) :
		    &hs_aeads[i];
		/* The kernel checks the list; skip what we do not know. */
		if (!a || used[a - hs_aeads])
			continue;
		used[a - hs_aeads] = any = true;
		append(prio, sizeof(prio), ":+");
		append(prio, sizeof(prio), a->prio);
	}
	if (!any) {
		hs_fail(res, EPROTONOSUPPORT, "no supported cipher allowed");
		return -1;
	}
	append(prio, sizeof(prio), ":-MAC-ALL:+AEAD");
	/*
	 * PSK key exchanges, (EC)DHE first: TLS 1.3 psk_dhe_ke and psk_ke,
	 * and their TLS 1.2 suites.  A client using a PSK uses nothing else;
	 * a server with a certificate too offers both.
	 */
	if (t->psk && (req->role == TAPSEC_ROLE_CLIENT ||
		       !req->identity || !*req->identity))
		append(prio, sizeof(prio), ":-KX-ALL");
	if (t->psk)
		append(prio, sizeof(prio), ":+ECDHE-PSK:+DHE-PSK:+PSK");
	if (req->role == TAPSEC_ROLE_SERVER)
		append(prio, sizeof(prio), ":%SERVER_PRECEDENCE");
	ret = gnutls_priority_set_direct(t->session, prio, &err_pos);
	if (ret < 0) {
		hs_fail(res, EINVAL, "priority \"%s\" rejected: %s", prio,
			gnutls_strerror(ret));
		return -1;
	}
	return 0;
}

/*
 * ALPN from the comma-separated list.  GNUTLS_ALPN_MANDATORY fails the
 * handshake when the peer sends ALPN but nothing in it matches, and lets
 * it go on when the peer does not use ALPN at all.
 */
static int set_alpn(struct hs_tls *t, struct hs_result *res)
{
	gnutls_datum_t protos[HS_MAX_ALPN];
	const char *s = t->req->alpn;
	unsigned int n = 0, flags = GNUTLS_ALPN_MANDATORY;
	size_t len;
	int ret;

	while (s && *s) {
		len = strcspn(s, ",");
		if (len && n == HS_MAX_ALPN) {
			hs_fail(res, EINVAL, "more than %d ALPN protocols",
				HS_MAX_ALPN);
			return -1;
		}
		if (len) {
			/* GnuTLS copies the names. */
			protos[n].data = (unsigned char *)s;
			protos[n++].size = len;
		}
		s += len + (s[len] == ',');
	}
	if (!n)
		return 0;
	if (t->req->role == TAPSEC_ROLE_SERVER)
		flags |= GNUTLS_ALPN_SERVER_PRECEDENCE;
	ret = gnutls_alpn_set_protocols(t->session, protos, n, flags);
	if (ret < 0) {
		hs_fail(res, EINVAL, "ALPN list rejected: %s",
			gnutls_strerror(ret));
		return -1;
	}
	return 0;
}

static bool is_ip_literal(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 ||
	       inet_pton(AF_INET6, s, buf) == 1;
}

/* The peer's address as a certificate would name it (no port). */
static bool peer_ip(const struct hs_request *req, char *buf, size_t len)
{
	const struct sockaddr_in6 *sin6 = (const void *)&req->peer;
	const struct sockaddr_in *sin = (const void *)&req->peer;

	if (req->peer.ss_family == AF_INET)
		return inet_ntop(AF_INET, &sin->sin_addr, buf, len);
	if (req->peer.ss_family != AF_INET6)
		return false;
	/* An IPv4 client of a dual-stack socket is its IPv4 address. */
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], buf,
				 len);
	return inet_ntop(AF_INET6, &sin6->sin6_addr, buf, len);
}

/*
 * Client: SNI (never an address, RFC 6066 3) and the name the server's
 * certificate must carry, the server name or else the address connected
 * to.  GnuTLS matches a textual address against iPAddress entries.
 */
static int set_client_auth(struct hs_tls *t, struct hs_result *res)
{
	const char *sni = t->req->server_name;
	int ret;

	if (sni && *sni && !is_ip_literal(sni)) {
		ret = gnutls_server_name_set(t->session, GNUTLS_NAME_DNS, sni,
					     strlen(sni));
		if (ret < 0) {
			hs_fail(res, EINVAL, "server name rejected: %s",
				gnutls_strerror(ret));
			return -1;
		}
	}
	if (!t->verify_peer)
		return 0;
	if (sni && *sni)
		snprintf(t->verify_name, sizeof(t->verify_name), "%s", sni);
	else if (!peer_ip(t->req, t->verify_name, sizeof(t->verify_name))) {
		hs_fail(res, EINVAL, "no server name to verify");
		return -1;
	}
	gnutls_session_set_verify_cert(t->session, t->verify_name, 0);
	return 0;
}

struct hs_tls *hs_tls_start(struct hs_config *cfg, struct hs_nl *nl,
			    const struct hs_request *req,
			    struct hs_result *res)
{
	bool server = req->role == TAPSEC_ROLE_SERVER;
	bool psk = req->psk_identity && *req->psk_identity;
	/* Sessions are kept per owner: an unknown one gets none. */
	bool cache = req->session_cache == TAPSEC_SESSION_CACHE_ON &&
		     req->has_cred;
	unsigned int flags = GNUTLS_NONBLOCK;
	const struct hs_identity *id = NULL;
	const struct hs_trust *trust = NULL;
	gnutls_certificate_credentials_t cred = NULL;
	struct hs_tls *t;
	int ret;

	/* The worker checked bad_request and the protocol (handler_for()). */
	if (req->role != TAPSEC_ROLE_CLIENT && !server) {
		hs_fail(res, EINVAL, "unknown role %u", req->role);
		return NULL;
	}
	if (req->identity && *req->identity) {
		id = hs_config_request_identity(cfg, req, res);
		if (!id)
			return NULL;
		if (!id->cert.data) {
			hs_fail(res, EINVAL,
				"identity \"%s\" has no certificate (only a WireGuard key)",
				id->name);
			return NULL;
		}
	} else if (server && !psk) {
		hs_fail(res, EINVAL, "no identity");
		return NULL;
	}

	t = calloc(1, sizeof(*t));
	if (!t) {
		hs_fail(res, ENOMEM, "out of memory");
		return NULL;
	}
	t->req = req;
	t->nl = nl;
	t->fd = req->fd;
	t->psk = psk;
	t->dtls = req->protocol == TAPSEC_PROTO_DTLS;
	/*
	 * A server asks for a client certificate only given a trust store.
	 * The PSK authenticates both ends: no certificate is checked with it.
	 */
	t->verify_peer = req->verify == TAPSEC_VERIFY_DEFAULT && !psk &&
			 (!server || (req->trust && *req->trust));
	/* Deferred: the application judges the chain; a server asks for one. */
	t->defer = req->verify == TAPSEC_VERIFY_DEFER && !psk;
	if (t->verify_peer) {
		trust = hs_config_trust(cfg, req->trust);
		if (!trust) {
			hs_fail(res, EINVAL, "unknown trust store \"%s\"",
				req->trust);
			goto fail;
		}
	}
	ret = psk && !id ? 0 : hs_config_creds(cfg, id, trust, &cred);
	if (ret < 0) {
		hs_fail(res, EINVAL, "cannot load credentials: %s",
			gnutls_strerror(ret));
		goto fail;
	}

	/*
	 * Session tickets unless the socket's TAPSEC_SESSION_CACHE is off
	 * (hs_cache.c).  A client with a single certificate presents it even
	 * when the server's list of CA names does not include its issuer.
	 */
	if (!cache)
		flags |= GNUTLS_NO_TICKETS;
	flags |= server ? GNUTLS_SERVER :
			  GNUTLS_CLIENT | GNUTLS_FORCE_CLIENT_CERT;
	if (t->dtls)
		flags |= GNUTLS_DATAGRAM;
	ret = gnutls_init(&t->session, flags);
	if (ret < 0) {
		hs_fail(res, ENOMEM, "gnutls_init: %s", gnutls_strerror(ret));
		goto fail;
	}
	gnutls_session_set_ptr(t->session, t);
	gnutls_session_set_keylog_function(t->session, hs_keylog);
	ret = cred ? gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE,
					    cred) : 0;
	if (ret < 0) {
		hs_fail(res, EINVAL, "gnutls_credentials_set: %s",
			gnutls_strerror(ret));
		goto fail;
	}
	if (psk && set_psk(t, res))
		goto fail;
	if (set_priority(t, res) || set_alpn(t, res))
		goto fail;
	if (!server && set_client_auth(t, res))
		goto fail;
	if (server && cache) {
		ret = hs_cache_server(t->session, req);
		if (ret < 0) {
			hs_fail(res, EINVAL, "session tickets: %s",
				gnutls_strerror(ret));
			goto fail;
		}
	}
	if (!server && cache &&
	    hs_cache_client_resume(t->session, req, t->verify_name))
		hs_debug("%s: resuming a session", req->peer_str);
	if (server && t->verify_peer) {
		gnutls_certificate_server_set_request(t->session,
						      GNUTLS_CERT_REQUIRE);
		gnutls_session_set_verify_cert(t->session, NULL, 0);
	} else if (server && t->defer) {
		gnutls_certificate_server_set_request(t->session,
						      GNUTLS_CERT_REQUIRE);
	}

	gnutls_transport_set_ptr(t->session, t);
	gnutls_transport_set_pull_function(t->session, hs_pull);
	gnutls_transport_set_vec_push_function(t->session, hs_push);
	gnutls_transport_set_pull_timeout_function(t->session, hs_pull_timeout);
	gnutls_handshake_set_timeout(t->session, req->timeout_ms);
	if (t->dtls)
		set_dtls_transport(t);
	return t;

fail:
	hs_tls_free(t);
	return NULL;
}

/*
 * How GnuTLS failures become an errno and a reason.  @code is a GnuTLS
 * error, alert or verification status bit; a NULL reason means GnuTLS's
 * own message (for alerts: "peer alert: NAME").
 */
struct hs_errmap {
	int code;
	int err;
	const char *reason;
};

#define HS_ERRMAP_FIND(map, code, flags) \
	errmap_find(map, sizeof(map) / sizeof(map[0]), code, flags)

/* Verification failures, most telling first. */
static const struct hs_errmap hs_verify_errors[] = {
	{ GNUTLS_CERT_EXPIRED, EKEYEXPIRED, "certificate expired" },
	{ GNUTLS_CERT_NOT_ACTIVATED, EKEYEXPIRED, "certificate not yet valid" },
	{ GNUTLS_CERT_REVOKED, EKEYREJECTED, "certificate revoked" },
	{ GNUTLS_CERT_SIGNER_NOT_FOUND, EKEYREJECTED,
	  "certificate signer not trusted" },
	{ GNUTLS_CERT_SIGNER_NOT_CA, EKEYREJECTED,
	  "certificate signer is not a CA" },
	{ GNUTLS_CERT_UNEXPECTED_OWNER, EKEYREJECTED,
	  "certificate name mismatch" },
	{ GNUTLS_CERT_INSECURE_ALGORITHM, EKEYREJECTED,
	  "certificate uses an insecure algorithm" },
	{ GNUTLS_CERT_SIGNATURE_FAILURE, EKEYREJECTED,
	  "certificate signature invalid" },
	{ GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE, EKEYREJECTED,
	  "certificate signer constraints violated" },
	{ GNUTLS_CERT_PURPOSE_MISMATCH, EKEYREJECTED,
	  "certificate purpose mismatch" },
};

/*
 * Fatal alerts from the peer: EPROTO with their name, except those that
 * say the two ends have nothing in common (RFC 8446 6.2: handshake_failure
 * is "unable to negotiate an acceptable set of security parameters"), the
 * same failure as when it is found here: EPROTONOSUPPORT.
 */
static const struct hs_errmap hs_alert_errors[] = {
	{ GNUTLS_A_NO_APPLICATION_PROTOCOL, EPROTO,
	  "no ALPN protocol in common" },
	{ GNUTLS_A_HANDSHAKE_FAILURE, EPROTONOSUPPORT, NULL },
	{ GNUTLS_A_PROTOCOL_VERSION, EPROTONOSUPPORT, NULL },
	{ GNUTLS_A_INSUFFICIENT_SECURITY, EPROTONOSUPPORT, NULL },
};

/* The rest; any other error is EPROTO with GnuTLS's message. */
static const struct hs_errmap hs_gnutls_errors[] = {
	{ GNUTLS_E_NO_CERTIFICATE_FOUND, EKEYREJECTED,
	  "peer sent no certificate" },
	{ GNUTLS_E_CERTIFICATE_REQUIRED, EKEYREJECTED,
	  "peer sent no certificate" },
	{ GNUTLS_E_CERTIFICATE_ERROR, EKEYREJECTED, NULL },
	{ GNUTLS_E_EXPIRED, EKEYEXPIRED, "certificate expired" },
	{ GNUTLS_E_TIMEDOUT, ETIMEDOUT, "handshake timed out" },
	{ GNUTLS_E_PREMATURE_TERMINATION, ECONNRESET,
	  "connection closed by peer" },
	{ GNUTLS_E_NO_CIPHER_SUITES, EPROTONOSUPPORT,
	  "no TLS version or cipher suite in common" },
	{ GNUTLS_E_UNKNOWN_CIPHER_SUITE, EPROTONOSUPPORT,
	  "no TLS version or cipher suite in common" },
	{ GNUTLS_E_UNSUPPORTED_VERSION_PACKET, EPROTONOSUPPORT,
	  "no TLS version in common" },
	{ GNUTLS_E_INSUFFICIENT_SECURITY, EPROTONOSUPPORT, NULL },
	{ GNUTLS_E_NO_COMMON_KEY_SHARE, EPROTONOSUPPORT, NULL },
	{ GNUTLS_E_NO_APPLICATION_PROTOCOL, EPROTO,
	  "no ALPN protocol in common" },
};

/* The entry for @code: equal to it or, for @flags, sharing a bit. */
static const struct hs_errmap *errmap_find(const struct hs_errmap *map,
					   size_t n, int code, bool flags)
{
	for (size_t i = 0; i < n; i++)
		if (flags ? (map[i].code & code) : map[i].code == code)
			return &map[i];
	return NULL;
}

static void map_error(struct hs_tls *t, int err, struct hs_result *res)
{
	const struct hs_errmap *m;
	unsigned int status;
	const char *name;
	int alert;

	/* The server could not get the key of the identity offered. */
	if (t->psk_res.status) {
		*res = t->psk_res;
		return;
	}
	switch (err) {
	case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
		status = gnutls_session_get_verify_cert_status(t->session);
		m = HS_ERRMAP_FIND(hs_verify_errors, status, true);
		if (m)
			hs_fail(res, m->err, "%s", m->reason);
		else
			hs_fail(res, EKEYREJECTED,
				"certificate verification failed");
		return;
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		alert = gnutls_alert_get(t->session);
		name = gnutls_alert_get_name(alert);
		m = HS_ERRMAP_FIND(hs_alert_errors, alert, false);
		if (m && m->reason)
			hs_fail(res, m->err, "%s", m->reason);
		else
			hs_fail(res, m ? m->err : EPROTO, "peer alert: %s",
				name ? name : "unknown");
		return;
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PUSH_ERROR:
		if (!t->io_errno || t->io_errno == ECONNRESET ||
		    t->io_errno == EPIPE)
			hs_fail(res, ECONNRESET, "connection reset by peer");
		else
			hs_fail(res, ECONNRESET, "socket error: %s",
				strerror(t->io_errno));
		return;
	}
	m = HS_ERRMAP_FIND(hs_gnutls_errors, err, false);
	hs_fail(res, m ? m->err : EPROTO, "%s",
		m && m->reason ? m->reason : gnutls_strerror(err));
}

/* Hand the traffic key of one direction to the kernel. */
static int install_key(struct hs_tls *t, bool rx, struct hs_result *res)
{
	gnutls_protocol_t version = gnutls_protocol_get_version(t->session);
	gnutls_cipher_algorithm_t cipher = gnutls_cipher_get(t->session);
	gnutls_datum_t mac_key, iv, key;
	union hs_crypto_info ci;
	unsigned char seq[8];
	size_t len;
	int ret, err = 0;

	ret = gnutls_record_get_state(t->session, rx, &mac_key, &iv, &key, seq);
	if (ret < 0) {
		hs_fail(res, EPROTO, "no traffic keys: %s",
			gnutls_strerror(ret));
		return -1;
	}
	len = hs_tls_crypto_info(version, cipher, &key, &iv, seq, &ci);
	if (!len) {
		hs_fail(res, EPROTONOSUPPORT, "%s with %s cannot be offloaded",
			gnutls_protocol_get_name(version),
			gnutls_cipher_get_name(cipher));
		return -1;
	}
	if (setsockopt(t->fd, SOL_TAPSEC, rx ? TAPSEC_RX : TAPSEC_TX, &ci,
		       len))
		err = errno;
	/* The kernel has its own copy now; ours must not linger. */
	gnutls_memset(&ci, 0, sizeof(ci));
	if (err) {
		hs_fail(res, err, "cannot install the %s key: %s",
			rx ? "receive" : "transmit", strerror(err));
		return -1;
	}
	return 0;
}

/*
 * GnuTLS's key log: keep the TLS 1.3 application traffic secrets and the
 * exporter secret (NSS key log labels), nothing else.
 */
static int hs_keylog(gnutls_session_t session, const char *label,
		     const gnutls_datum_t *secret)
{
	struct hs_tls *t = gnutls_session_get_ptr(session);
	struct hs_tls13_secret *s = NULL;

	if (!strcmp(label, "CLIENT_TRAFFIC_SECRET_0"))
		s = &t->secrets.client;
	else if (!strcmp(label, "SERVER_TRAFFIC_SECRET_0"))
		s = &t->secrets.server;
	else if (!strcmp(label, "EXPORTER_SECRET"))
		s = &t->secrets.exporter;
	if (s && secret->size <= sizeof(s->data)) {
		memcpy(s->data, secret->data, secret->size);
		s->len = secret->size;
	}
	return 0;
}

static int set_tls13_secret(struct hs_tls *t, int opt, uint16_t cipher,
			    const struct hs_tls13_secret *s)
{
	struct tapsec_tls13_secret ts = { .cipher = cipher, .len = s->len };
	int ret;

	memcpy(ts.secret, s->data, s->len);
	ret = setsockopt(t->fd, SOL_TAPSEC, opt, &ts, sizeof(ts));
	gnutls_memset(&ts, 0, sizeof(ts));
	return ret ? errno : 0;
}

/*
 * TLS 1.3: hand the kernel the application traffic secrets of each
 * direction (the client's is TX on a client, RX on a server) and the
 * exporter secret, after the keys, so that it can run KeyUpdate and
 * answer TAPSEC_EXPORT.  Our copies are wiped once handed over.
 */
static int install_tls13_secrets(struct hs_tls *t, struct hs_result *res)
{
	const struct hs_aead *a = aead_find(gnutls_cipher_get(t->session), 0);
	bool client = t->req->role == TAPSEC_ROLE_CLIENT;
	struct hs_tls13_secrets *s = &t->secrets;
	int err = 0;

	if (gnutls_protocol_get_version(t->session) != GNUTLS_TLS1_3 || !a)
		goto out;
	if (!s->client.len || !s->server.len || !s->exporter.len) {
		err = EPROTO;
		hs_fail(res, err, "GnuTLS reported no TLS 1.3 secrets");
		goto out;
	}
	err = set_tls13_secret(t, TAPSEC_TX_SECRET, a->type,
			       client ? &s->client : &s->server);
	if (!err)
		err = set_tls13_secret(t, TAPSEC_RX_SECRET, a->type,
				       client ? &s->server : &s->client);
	if (!err)
		err = set_tls13_secret(t, TAPSEC_EXPORTER_SECRET, a->type,
				       &s->exporter);
	if (err)
		hs_fail(res, err, "cannot install the TLS 1.3 secrets: %s",
			strerror(err));
out:
	gnutls_memset(s, 0, sizeof(*s));
	return err ? -1 : 0;
}

/* Copy @len bytes of @src, cut to fit @size without splitting a character. */
static void copy_utf8(char *dst, size_t size, const unsigned char *src,
		      size_t len)
{
	size_t n = len < size - 1 ? len : size - 1;

	/* A continuation byte at the cut: its character would be split. */
	if (n < len)
		while (n && (src[n] & 0xc0) == 0x80)
			n--;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * The subject DN of the peer's certificate.  Only a verified one: the
 * application takes TAPSEC_PEER_IDENTITY as the validated identity.
 */
static void peer_identity(struct hs_tls *t, struct hs_result *res)
{
	const gnutls_datum_t *certs;
	unsigned int n = 0;
	gnutls_x509_crt_t crt;
	gnutls_datum_t dn;

	if (!t->verify_peer)
		return;
	certs = gnutls_certificate_get_peers(t->session, &n);
	if (!certs || !n ||
	    gnutls_certificate_type_get(t->session) != GNUTLS_CRT_X509 ||
	    gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0 &&
	    gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0) {
		copy_utf8(res->peer_identity, sizeof(res->peer_identity),
			  dn.data, dn.size);
		gnutls_free(dn.data);
	}
	gnutls_x509_crt_deinit(crt);
}

/*
 * TAPSEC_VERIFY_DEFER: the peer's chain, unverified, for the kernel to
 * hold for the application: each certificate as a 24-bit length and its
 * DER, as TLS sends them.
 */
static int peer_chain(struct hs_tls *t, struct hs_result *res)
{
	unsigned int i, n = 0;
	const gnutls_datum_t *certs;
	size_t len = 0;
	uint8_t *p;

	certs = gnutls_certificate_get_peers(t->session, &n);
	for (i = 0; i < n; i++)
		len += 3 + certs[i].size;
	if (!n || len > TAPSEC_PEER_CHAIN_MAX) {
		hs_fail(res, EKEYREJECTED, n ? "peer chain too long" :
			"no peer certificate");
		return -1;
	}
	p = res->chain = malloc(len);
	if (!p) {
		hs_fail(res, ENOMEM, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		*p++ = certs[i].size >> 16;
		*p++ = certs[i].size >> 8;
		*p++ = certs[i].size;
		memcpy(p, certs[i].data, certs[i].size);
		p += certs[i].size;
	}
	res->chain_len = len;
	return 0;
}

static void finish(struct hs_tls *t, struct hs_result *res)
{
	gnutls_protocol_t version = gnutls_protocol_get_version(t->session);
	gnutls_cipher_algorithm_t cipher = gnutls_cipher_get(t->session);
	gnutls_datum_t alpn;

	res->version_name = gnutls_protocol_get_name(version);
	res->cipher_name = gnutls_cipher_get_name(cipher);
	if (install_key(t, false, res) || install_key(t, true, res) ||
	    install_tls13_secrets(t, res))
		return;
	if (gnutls_alpn_get_selected_protocol(t->session, &alpn) == 0)
		copy_utf8(res->alpn, sizeof(res->alpn), alpn.data, alpn.size);
	peer_identity(t, res);
	/* Verification is part of the handshake: it passed. */
	res->peer_auth = t->verify_peer;
	if (t->psk && gnutls_auth_get_type(t->session) == GNUTLS_CRD_PSK) {
		/* Whoever holds the key is the peer: its identity is the PSK's. */
		gnutls_datum_t user = { NULL, 0 };

		res->psk = true;
		res->peer_auth = true;
		if (t->req->role == TAPSEC_ROLE_CLIENT)
			snprintf(res->peer_identity, sizeof(res->peer_identity),
				 "%s", t->req->psk_identity);
		else if (gnutls_psk_server_get_username2(t->session, &user) >= 0)
			copy_utf8(res->peer_identity, sizeof(res->peer_identity),
				  user.data, user.size);
	}
	if (t->defer && peer_chain(t, res))
		return;
	res->resumed = gnutls_session_is_resumed(t->session);
	if (t->req->role == TAPSEC_ROLE_CLIENT &&
	    t->req->session_cache == TAPSEC_SESSION_CACHE_ON)
		hs_cache_client_store(t->session, t->req, t->verify_name);
	res->status = 0;
}

enum hs_want hs_tls_step(struct hs_tls *t, struct hs_result *res)
{
	int ret, tries = 0;

	t->want_write = false;
	t->rx_ready = -1;
	for (;;) {
		ret = gnutls_handshake(t->session);
		/*
		 * Wait for what would have blocked, not for
		 * gnutls_record_get_direction(): that says "write" after any
		 * flush, also when a DTLS handshake waits for a datagram or
		 * its retransmission timer, and a UDP socket is always
		 * writable: the worker would spin until then.
		 */
		if (ret == GNUTLS_E_AGAIN)
			return t->want_write ? HS_WANT_WRITE : HS_WANT_READ;
		if (ret >= 0 || gnutls_error_is_fatal(ret))
			break;
		/* A warning alert, an interrupted call: carry on. */
		hs_debug("%s: %s", t->req->peer_str, gnutls_strerror(ret));
		if (++tries == HS_MAX_RETRIES)
			break;
	}
	if (ret < 0) {
		map_error(t, ret, res);
		/*
		 * GnuTLS leaves alerts to the application: tell the peer why,
		 * or it only sees the connection end.  Best effort, the
		 * socket is non-blocking.
		 */
		gnutls_alert_send_appropriate(t->session, ret);
	} else {
		finish(t, res);
	}
	return HS_FINISHED;
}

void hs_tls_free(struct hs_tls *t)
{
	if (!t)
		return;
	if (t->session)
		gnutls_deinit(t->session);
	if (t->psk_client)
		gnutls_psk_free_client_credentials(t->psk_client);
	if (t->psk_server)
		gnutls_psk_free_server_credentials(t->psk_server);
	gnutls_memset(&t->secrets, 0, sizeof(t->secrets));
	free(t);
}

static void *hs_tls_start_h(struct hs_config *cfg, struct hs_nl *nl,
			    const struct hs_request *req,
			    struct hs_result *res)
{
	return hs_tls_start(cfg, nl, req, res);
}

static enum hs_want hs_tls_step_h(void *h, struct hs_result *res)
{
	return hs_tls_step(h, res);
}

static int hs_tls_wake_ms_h(void *h)
{
	return hs_tls_wake_ms(h);
}

static void hs_tls_free_h(void *h)
{
	hs_tls_free(h);
}

const struct hs_handler hs_tls_handler = {
	.name = "tls",
	.start = hs_tls_start_h,
	.step = hs_tls_step_h,
	.wake_ms = hs_tls_wake_ms_h,
	.free = hs_tls_free_h,
};
