/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec-handshaked: WireGuard's handshake, Noise_IKpsk2 over Curve25519,
 * ChaCha20-Poly1305 and BLAKE2s (the WireGuard paper, section 5.4): the
 * initiation (type 1) and response (type 2) messages, their MAC1, and the
 * transport keys they lead to.  No cookies (MAC2 is sent as zeros and
 * not checked), no I/O: hs_wg.c moves the messages.
 */
#ifndef HS_NOISE_H
#define HS_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HS_NOISE_KEY_LEN	32
#define HS_NOISE_INIT_LEN	148	/* a type 1 message */
#define HS_NOISE_RESP_LEN	92	/* a type 2 message */

/* One handshake of one side, from its first message to its keys. */
struct hs_noise {
	uint8_t s_priv[HS_NOISE_KEY_LEN];	/* our static key */
	uint8_t s_pub[HS_NOISE_KEY_LEN];
	uint8_t peer_pub[HS_NOISE_KEY_LEN];	/* the peer's static key */
	uint8_t psk[HS_NOISE_KEY_LEN];		/* zeros without a PSK */
	uint8_t e_priv[HS_NOISE_KEY_LEN];	/* our ephemeral key */
	uint8_t peer_e[HS_NOISE_KEY_LEN];	/* the peer's ephemeral */
	uint8_t h[HS_NOISE_KEY_LEN];		/* the handshake hash */
	uint8_t ck[HS_NOISE_KEY_LEN];		/* the chaining key */
	uint32_t local_index;			/* ours, sent as "sender" */
	uint32_t peer_index;			/* the peer's */
	uint8_t peer_timestamp[12];		/* responder: TAI64N received */
};

/* Transport keys: what TAPSEC_TX and TAPSEC_RX take. */
struct hs_noise_keys {
	uint8_t send[HS_NOISE_KEY_LEN];
	uint8_t recv[HS_NOISE_KEY_LEN];
	uint32_t send_index;		/* the peer's receiver index */
	uint32_t recv_index;		/* ours */
};

/* @pub from @priv (X25519); false for a key that is all zeros. */
bool hs_noise_public(uint8_t pub[HS_NOISE_KEY_LEN],
		     const uint8_t priv[HS_NOISE_KEY_LEN]);

/*
 * Start @n as our side with static key @s_priv, the peer's static public
 * key @peer_pub and @psk (NULL: none).  0, or -EINVAL for a key whose
 * public part is zero.
 */
int hs_noise_init(struct hs_noise *n, const uint8_t *s_priv,
		  const uint8_t *peer_pub, const uint8_t *psk);

/* Initiator: a new initiation message, fresh ephemeral and index. */
int hs_noise_initiation(struct hs_noise *n, uint8_t msg[HS_NOISE_INIT_LEN]);

/*
 * Initiator: consume a response to our last initiation and derive the
 * keys.  -EBADMSG for anything else (wrong type, length, index, MAC1,
 * or a message that does not decrypt), which the caller drops.
 */
int hs_noise_consume_response(struct hs_noise *n, const uint8_t *msg,
			      size_t len, struct hs_noise_keys *keys);

/*
 * Responder: consume an initiation from the peer @n knows, answer it in
 * @resp and derive the keys.  -EBADMSG as above; -EACCES for another
 * peer's static key.
 */
int hs_noise_respond(struct hs_noise *n, const uint8_t *msg, size_t len,
		     uint8_t resp[HS_NOISE_RESP_LEN],
		     struct hs_noise_keys *keys);

/*
 * Responder: as hs_noise_respond(), the initiator's static key any of
 * the @n_peers keys of @peers (then copied to @n->peer_pub, which
 * hs_noise_init() may have left zero).
 */
int hs_noise_respond_any(struct hs_noise *n, const uint8_t (*peers)[32],
			 unsigned int n_peers, const uint8_t *msg, size_t len,
			 uint8_t resp[HS_NOISE_RESP_LEN],
			 struct hs_noise_keys *keys);

/* Wipe @n. */
void hs_noise_wipe(struct hs_noise *n);

#endif /* HS_NOISE_H */
