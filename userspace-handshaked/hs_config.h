/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec-handshaked: the configuration file (identities and trust stores)
 * and the GnuTLS credentials built from it.
 */
#ifndef HS_CONFIG_H
#define HS_CONFIG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <gnutls/gnutls.h>

#define HS_DEFAULT_CONFIG	"/etc/tapsec/handshaked.conf"
#define HS_DEFAULT_WORKERS	16
#define HS_DEFAULT_CACHE_SIZE	256
#define HS_MAX_CACHE_SIZE	65536
#define HS_MAX_WORKERS		1024

/* The trust store TAPSEC_TRUST "" (or none) names. */
#define HS_DEFAULT_TRUST	"default"

/*
 * Who may use an identity: its "owners" setting, uid 0 alone without one.
 * A request may when its uid is listed, or its gid or one of its groups.
 */
struct hs_owners {
	bool anyone;			/* "*": every request */
	uint32_t *uids;
	unsigned int n_uids;
	uint32_t *gids;
	unsigned int n_gids;
};

/* [identity NAME]: a certificate chain and its private key, PEM. */
#define HS_WG_KEY_LEN		32

struct hs_identity {
	char *name;
	gnutls_datum_t cert;
	gnutls_datum_t key;
	bool has_wg;			/* "wireguard-key" given */
	uint8_t wg_priv[HS_WG_KEY_LEN];	/* WireGuard static private key */
	struct hs_owners owners;
	bool owners_set;		/* "owners" given */
	struct hs_identity *next;
};

/* [trust NAME]: CA certificates, CRLs, and maybe the system's CAs. */
struct hs_trust {
	char *name;
	gnutls_datum_t *cas;
	unsigned int n_cas;
	gnutls_datum_t *crls;
	unsigned int n_crls;
	bool system;
	/* "wireguard-peer": WireGuard static public keys trusted. */
	uint8_t (*wg_peers)[HS_WG_KEY_LEN];
	unsigned int n_wg_peers;
	struct hs_trust *next;
};

struct hs_creds;

struct hs_config {
	atomic_uint refs;		/* hs_config_get()/hs_config_put() */
	unsigned int workers;
	unsigned int cache_size;	/* client sessions kept, 0: none */
	struct hs_identity *identities;
	struct hs_trust *trusts;

	/* Credentials per (identity, trust) pair, built on first use. */
	pthread_mutex_t creds_lock;
	struct hs_creds *creds;
};

/*
 * Read @path.  A file that does not exist is an error only when
 * @must_exist; otherwise the defaults apply.  Errors are logged as
 * "FILE:LINE: what"; returns 0 or -1.
 */
int hs_config_load(struct hs_config *cfg, const char *path, bool must_exist);
void hs_config_free(struct hs_config *cfg);

/*
 * hs_config_load() into a new configuration holding one reference, or
 * NULL (the errors are logged).
 */
struct hs_config *hs_config_new(const char *path, bool must_exist);
/*
 * The configuration that new handshakes use, with a reference for the
 * caller: a handshake keeps the one it started with, and SIGHUP
 * (hs_config_set_current()) changes only the next ones.
 */
struct hs_config *hs_config_get(void);
/* Drop a reference; the last one frees the configuration. */
void hs_config_put(struct hs_config *cfg);
/* Make @cfg current, taking over the caller's reference; NULL: none. */
void hs_config_set_current(struct hs_config *cfg);

/* The identity called @name, or NULL. */
const struct hs_identity *hs_config_identity(const struct hs_config *cfg,
					     const char *name);

struct hs_request;

/* Whether the socket of @req may use @id: its owner is among @id's. */
bool hs_config_may_use(const struct hs_identity *id,
		       const struct hs_request *req);

struct hs_result;

/*
 * The identity @req names (TAPSEC_IDENTITY), if its socket's owner may
 * use it; NULL with the failure (EINVAL unknown, EACCES not allowed) in
 * @res otherwise.
 */
const struct hs_identity *
hs_config_request_identity(const struct hs_config *cfg,
			   const struct hs_request *req,
			   struct hs_result *res);

/*
 * The trust store called @name.  NULL or "" is the [trust default] section
 * or, without one, the system's CAs; "system" is the system's CAs unless
 * the file defines a store of that name.  NULL when unknown.
 */
const struct hs_trust *hs_config_trust(const struct hs_config *cfg,
				       const char *name);

/*
 * Certificate credentials presenting @id (may be NULL) and verifying
 * against @trust (may be NULL), shared by every session that needs the
 * same pair and valid until hs_config_free().  Returns 0 or a GnuTLS error.
 */
int hs_config_creds(struct hs_config *cfg, const struct hs_identity *id,
		    const struct hs_trust *trust,
		    gnutls_certificate_credentials_t *out);

#endif /* HS_CONFIG_H */
