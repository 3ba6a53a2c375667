// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec-handshaked: session resumption (the survey's session cache).
 *
 * Servers issue session tickets under one key the daemon makes at start
 * and wipes at exit: GnuTLS then resumes TLS 1.2 sessions from tickets and
 * TLS 1.3 ones from its NewSessionTickets (sent before the keys go to the
 * kernel, so the record numbers the kernel takes over count them).
 *
 * Clients keep TLS 1.2 sessions here, by everything that decided how the
 * server was authenticated: a session made without verification is never
 * resumed by a socket that asks for it.  TLS 1.3 tickets arrive after the
 * handshake, once the kernel has the keys, and are not kept.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	pthread_mutex_t lock;		/* entries and count */
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

void hs_cache_exit(void)
{
	struct hs_cache_entry *e, *next;

	pthread_mutex_lock(&cache.lock);
	for (e = cache.entries; e; e = next) {
		next = e->next;
		entry_free(e);
	}
	cache.entries = NULL;
	cache.count = 0;
	pthread_mutex_unlock(&cache.lock);
	if (cache.ticket_key.data) {
		gnutls_memset(cache.ticket_key.data, 0, cache.ticket_key.size);
		gnutls_free(cache.ticket_key.data);
		cache.ticket_key.data = NULL;
	}
}

int hs_cache_server(gnutls_session_t session)
{
	return gnutls_session_ticket_enable_server(session, &cache.ticket_key);
}

/* A string of what authenticated the server, or NULL (out of memory). */
static char *client_key(const struct hs_request *req, const char *verify_name)
{
	char *key;
	int n;

	n = asprintf(&key, "%s|%s|%s|%u|%s|%s|%s|%04x-%04x", req->peer_str,
		     req->server_name ? req->server_name : "",
		     verify_name ? verify_name : "", req->verify,
		     req->trust ? req->trust : "",
		     req->identity ? req->identity : "",
		     req->psk_identity ? req->psk_identity : "",
		     req->version_min, req->version_max);
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
