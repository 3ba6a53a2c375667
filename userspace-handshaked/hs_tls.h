/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec-handshaked: one TLS handshake with GnuTLS over a tapsec socket in
 * raw mode, ending with the traffic keys installed in the socket.
 */
#ifndef HS_TLS_H
#define HS_TLS_H

#include <gnutls/gnutls.h>

#include "hs.h"
#include "hs_config.h"

struct hs_nl;

struct hs_tls;

/*
 * Set up the GnuTLS session for @req (which must outlive it).  PSK keys are
 * fetched on @nl, the socket that accepted the handshake.  Returns the
 * session, or NULL with the failure in @res.
 */
struct hs_tls *hs_tls_start(struct hs_config *cfg, struct hs_nl *nl,
			    const struct hs_request *req,
			    struct hs_result *res);

/*
 * Advance the handshake without blocking.  On HS_FINISHED @res says how it
 * ended; on success the keys are installed in the socket.
 */
enum hs_want hs_tls_step(struct hs_tls *t, struct hs_result *res);

/*
 * Milliseconds after which hs_tls_step() must run again even without I/O
 * (DTLS retransmissions), or -1.
 */
int hs_tls_wake_ms(struct hs_tls *t);

void hs_tls_free(struct hs_tls *t);

/*
 * kTLS-layout key material of one direction: @version and @cipher as
 * gnutls_protocol_get_version() and gnutls_cipher_get() report them, the
 * rest as gnutls_record_get_state() does.  Returns the structure's size,
 * or 0 for a version, cipher or key size tapsec does not take.
 */
union hs_crypto_info {
	struct tapsec_crypto_info info;
	struct tapsec_crypto_info_aes_gcm_128 aes_gcm_128;
	struct tapsec_crypto_info_aes_gcm_256 aes_gcm_256;
	struct tapsec_crypto_info_chacha20_poly1305 chacha20_poly1305;
};

size_t hs_tls_crypto_info(gnutls_protocol_t version,
			  gnutls_cipher_algorithm_t cipher,
			  const gnutls_datum_t *key, const gnutls_datum_t *iv,
			  const unsigned char seq[8], union hs_crypto_info *ci);

#endif /* HS_TLS_H */
