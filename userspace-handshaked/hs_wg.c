// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec-handshaked: the WireGuard handler class (hs.h): both sides of
 * WireGuard's Noise_IKpsk2 handshake (hs_noise.c) over a tapsec
 * WireGuard socket in raw mode, ending with the keypair installed in the
 * socket (TAPSEC_RX, then TAPSEC_TX).
 *
 * The socket's TAPSEC_IDENTITY names an identity with a wireguard-key;
 * its TAPSEC_TRUST (or "default") a trust store whose wireguard-peer keys
 * may answer; TAPSEC_SERVER_NAME picks the peer's key among them (base64,
 * as wg pubkey prints it), or the store holds just one.  A PSK
 * (TAPSEC_PSK_IDENTITY, 32 bytes) comes from the kernel's store.  The
 * initiation is sent again, with a fresh ephemeral key, every
 * HS_WG_REKEY_TIMEOUT_MS (WireGuard's REKEY_TIMEOUT) until a response
 * comes or the handshake's time runs out; datagrams that are not a valid
 * response to the latest initiation are dropped, as WireGuard drops
 * them.  Once the keys are in, a keepalive (TAPSEC_KEEPALIVE) confirms
 * them to the responder, which may not send before.
 *
 * The responder (a socket a WireGuard listener accepted) answers the
 * initiation the kernel holds as its first datagram, from any peer of
 * its trust store, once: a bad one fails the handshake (EBADMSG; EACCES
 * for a key not trusted).  An initiation whose TAI64N timestamp is not
 * newer than the last one this daemon answered for that peer is a
 * replay and refused (EBADMSG), as WireGuard refuses it; the timestamps
 * are kept in memory, for HS_WG_PEERS_MAX peers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <nettle/base64.h>

#include "hs.h"
#include "hs_blake2s.h"
#include "hs_config.h"
#include "hs_noise.h"

#define HS_WG_REKEY_TIMEOUT_MS	5000
/* Datagrams dropped in one step before the worker's other handshakes. */
#define HS_WG_DROPS_PER_STEP	16
#define HS_WG_B64_LEN		BASE64_ENCODE_RAW_LENGTH(HS_WG_KEY_LEN)
#define HS_WG_TAI64N_LEN	12
#define HS_WG_PEERS_MAX		4096

struct hs_wg {
	const struct hs_request *req;
	int fd;
	struct hs_noise noise;
	uint8_t msg[HS_NOISE_INIT_LEN];	/* the latest initiation */
	bool sent;			/* it went out */
	uint64_t resend;		/* CLOCK_MONOTONIC ms: send a new one */
	bool psk;
	char peer[HS_WG_B64_LEN + 1];	/* the peer's key, base64 */
	const struct hs_trust *trust;	/* responder: who may initiate */
};

/*
 * The newest initiation timestamp answered per peer key, shared by the
 * workers; the least recently answered peer makes room.
 */
static struct {
	uint8_t key[HS_WG_KEY_LEN];
	uint8_t tai64n[HS_WG_TAI64N_LEN];
	uint64_t used;
} seen[HS_WG_PEERS_MAX];
static unsigned int n_seen;
static uint64_t seen_clock;
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;

/* Whether @tai64n is newer than @key's last, which it becomes if so. */
static bool timestamp_newer(const uint8_t key[HS_WG_KEY_LEN],
			    const uint8_t tai64n[HS_WG_TAI64N_LEN])
{
	unsigned int i, slot = 0;
	bool newer = true;

	pthread_mutex_lock(&seen_lock);
	for (i = 0; i < n_seen; i++)
		if (!memcmp(seen[i].key, key, HS_WG_KEY_LEN))
			break;
	if (i < n_seen) {
		slot = i;
		newer = memcmp(tai64n, seen[i].tai64n, HS_WG_TAI64N_LEN) > 0;
	} else if (n_seen < HS_WG_PEERS_MAX) {
		slot = n_seen++;
	} else {
		for (i = 1; i < n_seen; i++)
			if (seen[i].used < seen[slot].used)
				slot = i;
	}
	if (newer) {
		memcpy(seen[slot].key, key, HS_WG_KEY_LEN);
		memcpy(seen[slot].tai64n, tai64n, HS_WG_TAI64N_LEN);
		seen[slot].used = ++seen_clock;
	}
	pthread_mutex_unlock(&seen_lock);
	return newer;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void b64(char out[HS_WG_B64_LEN + 1], const uint8_t key[HS_WG_KEY_LEN])
{
	base64_encode_raw(out, HS_WG_KEY_LEN, key);
	out[HS_WG_B64_LEN] = '\0';
}

/* The peer's static key: named by TAPSEC_SERVER_NAME, or the only one. */
static const uint8_t *peer_key(const struct hs_trust *trust,
			       const struct hs_request *req,
			       struct hs_result *res)
{
	char k[HS_WG_B64_LEN + 1];
	unsigned int i;

	if (!trust->n_wg_peers) {
		hs_fail(res, EINVAL, "trust store \"%s\" has no wireguard-peer",
			trust->name);
		return NULL;
	}
	if (!req->server_name || !*req->server_name) {
		if (trust->n_wg_peers == 1)
			return trust->wg_peers[0];
		hs_fail(res, EINVAL,
			"trust store \"%s\" has %u WireGuard peers: name one with TAPSEC_SERVER_NAME",
			trust->name, trust->n_wg_peers);
		return NULL;
	}
	for (i = 0; i < trust->n_wg_peers; i++) {
		b64(k, trust->wg_peers[i]);
		if (!strcmp(k, req->server_name))
			return trust->wg_peers[i];
	}
	hs_fail(res, EACCES, "WireGuard peer %s not in trust store \"%s\"",
		req->server_name, trust->name);
	return NULL;
}

static const uint8_t zero_key[HS_WG_KEY_LEN];

/* The PSK of TAPSEC_PSK_IDENTITY into @psk: 0, or -1 with @res set. */
static int fetch_psk(struct hs_wg *w, uint8_t psk[HS_WG_KEY_LEN],
		     struct hs_result *res)
{
	struct tapsec_hs_psk p;

	if (hs_psk_get(w->fd, w->req->psk_identity, &p, res))
		return -1;
	if (p.key_len != HS_WG_KEY_LEN)
		hs_fail(res, EINVAL, "a WireGuard PSK has 32 bytes, not %u",
			p.key_len);
	else
		memcpy(psk, p.key, HS_WG_KEY_LEN);
	hs_wipe(&p, sizeof(p));
	return res->status ? -1 : 0;
}

static void hs_wg_free(void *h)
{
	struct hs_wg *w = h;

	if (!w)
		return;
	hs_noise_wipe(&w->noise);
	hs_wipe(w, sizeof(*w));
	free(w);
}

static void *hs_wg_start(struct hs_config *cfg, struct hs_nl *nl,
			 const struct hs_request *req, struct hs_result *res)
{
	uint8_t psk[HS_WG_KEY_LEN];
	const struct hs_identity *id;
	const struct hs_trust *trust;
	const uint8_t *peer;
	struct hs_wg *w;

	(void)nl;
	if (!req->identity || !*req->identity) {
		hs_fail(res, EINVAL, "no identity: WireGuard needs a static key");
		return NULL;
	}
	id = hs_config_request_identity(cfg, req, res);
	if (!id)
		return NULL;
	if (!id->has_wg) {
		hs_fail(res, EINVAL, "identity \"%s\" has no wireguard-key",
			id->name);
		return NULL;
	}
	trust = hs_config_trust(cfg, req->trust && *req->trust ? req->trust :
						     HS_DEFAULT_TRUST);
	if (!trust) {
		hs_fail(res, EINVAL, "unknown trust store \"%s\"", req->trust);
		return NULL;
	}
	if (req->role == TAPSEC_ROLE_SERVER && !trust->n_wg_peers) {
		hs_fail(res, EINVAL, "trust store \"%s\" has no wireguard-peer",
			trust->name);
		return NULL;
	}
	/* A responder learns its peer from the initiation. */
	peer = req->role == TAPSEC_ROLE_SERVER ? zero_key :
						 peer_key(trust, req, res);
	if (!peer)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w) {
		hs_fail(res, ENOMEM, "out of memory");
		return NULL;
	}
	w->req = req;
	w->fd = req->fd;
	w->trust = req->role == TAPSEC_ROLE_SERVER ? trust : NULL;
	b64(w->peer, peer);
	w->psk = req->psk_identity && *req->psk_identity;
	if (w->psk && fetch_psk(w, psk, res))
		goto fail;
	if (hs_noise_init(&w->noise, id->wg_priv, peer, w->psk ? psk : NULL)) {
		hs_fail(res, EINVAL, "identity \"%s\": unusable wireguard-key",
			id->name);
		goto fail;
	}
	hs_wipe(psk, sizeof(psk));
	return w;
fail:
	hs_wipe(psk, sizeof(psk));
	hs_wg_free(w);
	return NULL;
}

/* Install the keypair: inbound first, so no answer to data is lost. */
static int install(struct hs_wg *w, const struct hs_noise_keys *k,
		   struct hs_result *res)
{
	struct tapsec_wg_key rx = { .index = k->recv_index };
	struct tapsec_wg_key tx = { .index = k->send_index };
	int err = 0;

	memcpy(rx.key, k->recv, sizeof(rx.key));
	memcpy(tx.key, k->send, sizeof(tx.key));
	if (setsockopt(w->fd, SOL_TAPSEC, TAPSEC_RX, &rx, sizeof(rx)) ||
	    setsockopt(w->fd, SOL_TAPSEC, TAPSEC_TX, &tx, sizeof(tx))) {
		err = errno;
		hs_fail(res, err, "cannot install the keys: %s%s",
			strerror(err), err == EDESTADDRREQ ?
			" (set TAPSEC_WG_INNER before connect())" : "");
	}
	hs_wipe(&rx, sizeof(rx));
	hs_wipe(&tx, sizeof(tx));
	return err;
}

/* The handshake is done: say what it was. */
static void done(struct hs_wg *w, struct hs_result *res)
{
	snprintf(res->peer_identity, sizeof(res->peer_identity), "%s",
		 w->peer);
	res->peer_auth = true;
	res->psk = w->psk;
	res->version_name = "WireGuard";
	res->cipher_name = "ChaCha20-Poly1305";
}

/* Responder: answer the initiation the kernel holds, or fail. */
static enum hs_want respond(struct hs_wg *w, struct hs_result *res)
{
	uint8_t buf[HS_NOISE_INIT_LEN + 1], resp[HS_NOISE_RESP_LEN];
	struct hs_noise_keys keys;
	ssize_t n;
	int err;

	n = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return HS_WANT_READ;
	if (n < 0) {
		hs_fail(res, errno, "cannot receive: %s", strerror(errno));
		return HS_FINISHED;
	}
	err = hs_noise_respond_any(&w->noise, w->trust->wg_peers,
				   w->trust->n_wg_peers, buf, n, resp, &keys);
	if (err == -EACCES) {
		hs_fail(res, EACCES,
			"the initiator's key is not in trust store \"%s\"",
			w->trust->name);
		goto out;
	}
	if (err) {
		hs_fail(res, EBADMSG, "not a valid initiation (%zd bytes)", n);
		goto out;
	}
	b64(w->peer, w->noise.peer_pub);
	if (!timestamp_newer(w->noise.peer_pub, w->noise.peer_timestamp)) {
		hs_fail(res, EBADMSG,
			"initiation of %s replayed: its timestamp is not newer",
			w->peer);
		goto out;
	}
	if (send(w->fd, resp, sizeof(resp), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		hs_fail(res, errno, "cannot send the response: %s",
			strerror(errno));
		goto out;
	}
	if (!install(w, &keys, res))
		done(w, res);
out:
	hs_wipe(&keys, sizeof(keys));
	hs_wipe(resp, sizeof(resp));
	return HS_FINISHED;
}

static enum hs_want hs_wg_step(void *h, struct hs_result *res)
{
	uint8_t buf[HS_NOISE_INIT_LEN + 1];
	struct hs_noise_keys keys;
	unsigned int drops = 0;
	struct hs_wg *w = h;
	ssize_t n;
	int err;

	if (w->trust)
		return respond(w, res);
	for (;;) {
		if (!w->sent || mono_ms() >= w->resend) {
			if (w->sent || !w->msg[0]) {
				err = hs_noise_initiation(&w->noise, w->msg);
				if (err) {
					hs_fail(res, -err,
						"cannot make an initiation: %s",
						strerror(-err));
					return HS_FINISHED;
				}
			}
			n = send(w->fd, w->msg, sizeof(w->msg),
				 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno == EAGAIN) {
				w->sent = false;
				return HS_WANT_WRITE;
			}
			if (n < 0) {
				hs_fail(res, errno, "cannot send: %s",
					strerror(errno));
				return HS_FINISHED;
			}
			w->sent = true;
			w->resend = mono_ms() + HS_WG_REKEY_TIMEOUT_MS;
		}
		n = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return HS_WANT_READ;
		if (n < 0 && errno == ECONNREFUSED) {
			hs_fail(res, ECONNREFUSED,
				"nothing listens at the peer's port");
			return HS_FINISHED;
		}
		if (n < 0) {
			hs_fail(res, errno, "cannot receive: %s",
				strerror(errno));
			return HS_FINISHED;
		}
		if (hs_noise_consume_response(&w->noise, buf, n, &keys)) {
			hs_debug("%s: datagram of %zd bytes is no response, dropped",
				 w->req->peer_str, n);
			/* A flood must not hold the worker: epoll comes back. */
			if (++drops == HS_WG_DROPS_PER_STEP)
				return HS_WANT_READ;
			continue;
		}
		break;
	}
	err = install(w, &keys, res);
	hs_wipe(&keys, sizeof(keys));
	if (err)
		return HS_FINISHED;
	/*
	 * The responder may send under the new keypair only once something
	 * came under it: confirm it now, as WireGuard's initiator does
	 * when it has no data queued.
	 */
	if (setsockopt(w->fd, SOL_TAPSEC, TAPSEC_KEEPALIVE, NULL, 0))
		hs_log("%s: no keepalive after the handshake: %s",
		       w->req->peer_str, strerror(errno));
	done(w, res);
	return HS_FINISHED;
}

static int hs_wg_wake_ms(void *h)
{
	struct hs_wg *w = h;
	uint64_t now = mono_ms();

	if (!w->sent || w->trust)
		return -1;
	return w->resend > now ? (int)(w->resend - now) : 0;
}

const struct hs_handler hs_wg_handler = {
	.name = "wireguard",
	.start = hs_wg_start,
	.step = hs_wg_step,
	.wake_ms = hs_wg_wake_ms,
	.free = hs_wg_free,
};
