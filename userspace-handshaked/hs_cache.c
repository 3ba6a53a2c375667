// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec-handshaked: session resumption (the survey's session cache).
 *
 * Servers issue session tickets under a key derived from one master key
 * the daemon makes at start and wipes at exit: GnuTLS then resumes TLS 1.2
 * sessions from tickets and TLS 1.3 ones from its NewSessionTickets (sent
 * before the keys go to the kernel, so the record numbers the kernel takes
 * over count them).  The key is derived from the server socket's owner and
 * everything that decided how the session was authenticated: a ticket of
 * one user's server is a stranger's to another user's server, and one
 * issued without a client certificate does not open a server that asks
 * for one.
 *
 * Clients keep TLS 1.2 sessions here, by owner (uid) and everything that
 * decided how the server was authenticated: a session made without
 * verification is never resumed by a socket that asks for it, and one
 * user's session never by another user's socket.  TLS 1.3 tickets arrive
 * after the handshake, once the kernel has the keys, and are not kept.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>

#include "hs.h"
#include "hs_cache.h"

#define HS_CACHE_LIFETIME	7200	/* seconds, GnuTLS's ticket lifetime */

struct hs_cache_entry {
	struct hs_cache_entry *next;
	char *key;
	gnutls_datum_t data;		/* holds the master secret: wiped */
	time_t expires;
};

static struct {
	pthread_mutex_t lock;		/* entries, count and ticket_key */
	struct hs_cache_entry *entries;	/* most recently stored first */
	unsigned int count, size;
	gnutls_datum_t ticket_key;
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void entry_free(struct hs_cache_entry *e)
{
	gnutls_memset(e->data.data, 0, e->data.size);
	gnutls_free(e->data.data);
	free(e->key);
	free(e);
}

int hs_cache_init(unsigned int size)
{
	cache.size = size;
	return gnutls_session_ticket_key_generate(&cache.ticket_key);
}

static void wipe_datum(gnutls_datum_t *d)
{
	if (d->data) {
		gnutls_memset(d->data, 0, d->size);
		gnutls_free(d->data);
	}
	d->data = NULL;
	d->size = 0;
}

/* Called with the lock held. */
static void drop_entries(void)
{
	struct hs_cache_entry *e, *next;

	for (e = cache.entries; e; e = next) {
		next = e->next;
		entry_free(e);
	}
	cache.entries = NULL;
	cache.count = 0;
}

void hs_cache_exit(void)
{
	pthread_mutex_lock(&cache.lock);
	drop_entries();
	wipe_datum(&cache.ticket_key);
	pthread_mutex_unlock(&cache.lock);
}

int hs_cache_flush(void)
{
	gnutls_datum_t fresh = { NULL, 0 }, old;
	int ret = gnutls_session_ticket_key_generate(&fresh);

	pthread_mutex_lock(&cache.lock);
	drop_entries();
	old = cache.ticket_key;
	/* Without a fresh key, none: servers then issue no tickets. */
	cache.ticket_key = ret < 0 ? (gnutls_datum_t){ NULL, 0 } : fresh;
	pthread_mutex_unlock(&cache.lock);
	wipe_datum(&old);
	return ret;
}

/* @s, or "" for NULL. */
static const char *str(const char *s)
{
	return s ? s : "";
}

/*
 * The ticket key of a server socket: HMAC-SHA-512 of its owner and
 * settings under the master key, as long as the master (GnuTLS's
 * TICKET_MASTER_KEY_SIZE, 64 bytes).  Strings go with their lengths, so
 * that no two settings read the same.
 */
int hs_cache_server(gnutls_session_t session, const struct hs_request *req)
{
	unsigned char key[64];
	gnutls_datum_t d = { key, sizeof(key) };
	char *label;
	int n, ret;

	n = asprintf(&label,
		     "tapsec ticket key|uid %u|proto %u|verify %u|%zu:%s|%zu:%s|%zu:%s",
		     req->uid, req->protocol, req->verify,
		     strlen(str(req->identity)), str(req->identity),
		     strlen(str(req->trust)), str(req->trust),
		     strlen(str(req->psk_identity)), str(req->psk_identity));
	if (n < 0)
		return GNUTLS_E_MEMORY_ERROR;
	/* The master key changes on a reload (hs_cache_flush()). */
	pthread_mutex_lock(&cache.lock);
	if (cache.ticket_key.size != sizeof(key))
		ret = GNUTLS_E_INTERNAL_ERROR;
	else
		ret = gnutls_hmac_fast(GNUTLS_MAC_SHA512,
				       cache.ticket_key.data,
				       cache.ticket_key.size, label, n, key);
	pthread_mutex_unlock(&cache.lock);
	free(label);
	/* GnuTLS copies the key into the session. */
	if (ret >= 0)
		ret = gnutls_session_ticket_enable_server(session, &d);
	gnutls_memset(key, 0, sizeof(key));
	return ret;
}

/*
 * A string of whose session it is and what authenticated the server, or
 * NULL: out of memory, or nobody's (no credentials: nothing is kept).
 */
static char *client_key(const struct hs_request *req, const char *verify_name)
{
	char *key;
	int n;

	if (!req->has_cred)
		return NULL;
	n = asprintf(&key, "%u|%s|%s|%s|%u|%s|%s|%s|%04x-%04x", req->uid,
		     req->peer_str, str(req->server_name), str(verify_name),
		     req->verify, str(req->trust), str(req->identity),
		     str(req->psk_identity), req->version_min,
		     req->version_max);
	return n < 0 ? NULL : key;
}

/* Unlink and return the entry of @key; expired ones go on the way. */
static struct hs_cache_entry *take(const char *key, time_t now)
{
	struct hs_cache_entry **p = &cache.entries, *e, *found = NULL;

	while ((e = *p)) {
		if (!found && !strcmp(e->key, key)) {
			*p = e->next;
			cache.count--;
			found = e;
		} else if (e->expires <= now) {
			*p = e->next;
			cache.count--;
			entry_free(e);
		} else {
			p = &e->next;
		}
	}
	return found;
}

bool hs_cache_client_resume(gnutls_session_t session,
			    const struct hs_request *req,
			    const char *verify_name)
{
	struct hs_cache_entry *e;
	char *key = client_key(req, verify_name);
	bool set = false;

	if (!key)
		return false;
	pthread_mutex_lock(&cache.lock);
	/* A session is resumed once: the next full handshake stores anew. */
	e = take(key, time(NULL));
	pthread_mutex_unlock(&cache.lock);
	if (e) {
		set = gnutls_session_set_data(session, e->data.data,
					      e->data.size) == 0;
		entry_free(e);
	}
	free(key);
	return set;
}

void hs_cache_client_store(gnutls_session_t session,
			   const struct hs_request *req,
			   const char *verify_name)
{
	struct hs_cache_entry *e, *old, **p;

	if (!cache.size ||
	    gnutls_protocol_get_version(session) != GNUTLS_TLS1_2)
		return;
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->key = client_key(req, verify_name);
	if (!e->key || gnutls_session_get_data2(session, &e->data) < 0) {
		entry_free(e);
		return;
	}
	e->expires = time(NULL) + HS_CACHE_LIFETIME;
	pthread_mutex_lock(&cache.lock);
	old = take(e->key, time(NULL));
	if (old)
		entry_free(old);
	e->next = cache.entries;
	cache.entries = e;
	/* Full: the oldest goes. */
	if (++cache.count > cache.size) {
		for (p = &cache.entries; (*p)->next; p = &(*p)->next)
			;
		entry_free(*p);
		*p = NULL;
		cache.count--;
	}
	pthread_mutex_unlock(&cache.lock);
}
