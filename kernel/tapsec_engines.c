// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: the engine table, indexed by the uapi's TAPSEC_PROTO_*.
 *
 * A socket's engine is chosen when its context is made
 * (tapsec_ctx_alloc()), from its record protocol and socket type.  A
 * datagram socket starts with TAPSEC_PROTO_NONE and gets the datagram
 * engine of the table, which carries nothing until TAPSEC_PROTOCOL selects
 * its protocol (tapsec_engine_active()); TAPSEC_PROTOCOL moves it to
 * another datagram engine (ESP, WireGuard) while it has no engine state.
 */
#include <linux/kernel.h>

#include "tapsec_engine.h"

static const struct tapsec_engine_ops *const tapsec_engines[] = {
	[TAPSEC_PROTO_TLS] = &tapsec_tls_engine_ops,
	[TAPSEC_PROTO_DTLS] = &tapsec_dtls_engine_ops,
	[TAPSEC_PROTO_ESP] = &tapsec_esp_engine_ops,
	[TAPSEC_PROTO_WIREGUARD] = &tapsec_wg_engine_ops,
};

/**
 * tapsec_engine_get() - the engine of a record protocol
 * @proto: TAPSEC_PROTO_*
 *
 * Return: its engine, NULL when this build has none.
 */
const struct tapsec_engine_ops *tapsec_engine_get(u32 proto)
{
	if (proto >= ARRAY_SIZE(tapsec_engines))
		return NULL;
	return tapsec_engines[proto];
}

/**
 * tapsec_engine_for() - the engine a socket of a type gets
 * @proto: its record protocol, TAPSEC_PROTO_NONE when not chosen yet
 * @type: SOCK_STREAM or SOCK_DGRAM
 *
 * Return: the engine of @proto if it serves @type, else the first engine
 * of the table that does; NULL when none does.
 */
const struct tapsec_engine_ops *tapsec_engine_for(u32 proto, int type)
{
	const struct tapsec_engine_ops *e = tapsec_engine_get(proto);
	unsigned int i;

	if (e && e->type == type)
		return e;
	for (i = 0; i < ARRAY_SIZE(tapsec_engines); i++) {
		e = tapsec_engines[i];
		if (e && e->type == type)
			return e;
	}
	return NULL;
}
