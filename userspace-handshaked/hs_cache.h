/* SPDX-License-Identifier: GPL-2.0 */
/* tapsec-handshaked: session resumption (hs_cache.c). */
#ifndef HS_CACHE_H
#define HS_CACHE_H

#include <stdbool.h>
#include <gnutls/gnutls.h>

struct hs_request;

/* Make the ticket key; keep up to @size client sessions (0: none). */
int hs_cache_init(unsigned int size);

/* Wipe and free the sessions and the ticket key. */
void hs_cache_exit(void);

/*
 * Forget every client session and replace the servers' ticket master key
 * (a reload: sessions made under the old trust stores, CRLs and
 * identities are not resumed under the new ones).  Returns 0, or GnuTLS's
 * error when no new key could be made (servers then issue no tickets).
 */
int hs_cache_flush(void);

/*
 * Let a server session issue and take tickets, under a key of its own
 * owner and settings (@req's).  GnuTLS error or 0.
 */
int hs_cache_server(gnutls_session_t session, const struct hs_request *req);

/*
 * Before a client handshake: resume the session kept for the same owner
 * (uid), peer, names, verification, trust, identities and versions, if
 * any (and drop it from the cache).  True when one was set.
 */
bool hs_cache_client_resume(gnutls_session_t session,
			    const struct hs_request *req,
			    const char *verify_name);

/* After a successful TLS 1.2 client handshake: keep its session. */
void hs_cache_client_store(gnutls_session_t session,
			   const struct hs_request *req,
			   const char *verify_name);

#endif /* HS_CACHE_H */
