/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Cryptography for tapsec's tests, computed outside tapsec with the
 * kernel's crypto API through AF_ALG: hashes and HMAC ("hash"),
 * HKDF-Expand-Label of TLS 1.3 and DTLS 1.3 (RFC 8446 7.1, RFC 9147 5.9),
 * AEAD seal and open ("aead": gcm(aes), rfc7539(chacha20,poly1305)) and
 * ciphers without authentication ("skcipher": ecb(aes), chacha20).
 * Header only; include after tapsec_test_util.h.
 */
#ifndef TAPSEC_ALG_H
#define TAPSEC_ALG_H

#include <linux/if_alg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "tapsec_test_util.h"

#ifndef SOL_ALG
#define SOL_ALG 279
#endif

#define ALG_TAG_LEN	16	/* AEAD tag of every tapsec cipher */

/*
 * An operation socket for transform @name of @type, keyed with @key when
 * @key is set, with an AEAD tag of @authsize bytes when not 0.  Returns
 * the socket or -errno.
 */
static inline int alg_open(const char *type, const char *name,
			   const void *key, size_t klen, unsigned int authsize)
{
	struct sockaddr_alg sa = { .salg_family = AF_ALG };
	int tfm, op, err;

	strncpy((char *)sa.salg_type, type, sizeof(sa.salg_type) - 1);
	strncpy((char *)sa.salg_name, name, sizeof(sa.salg_name) - 1);
	tfm = socket(AF_ALG, SOCK_SEQPACKET, 0);
	if (tfm < 0)
		return -errno;
	if (bind(tfm, (struct sockaddr *)&sa, sizeof(sa)) ||
	    (key && setsockopt(tfm, SOL_ALG, ALG_SET_KEY, key, klen)) ||
	    (authsize && setsockopt(tfm, SOL_ALG, ALG_SET_AEAD_AUTHSIZE, NULL,
				    authsize))) {
		err = -errno;
		close(tfm);
		return err;
	}
	op = accept(tfm, NULL, NULL);
	err = -errno;
	close(tfm);
	return op < 0 ? err : op;
}

/*
 * One cipher request on @op: @niov pieces of input, the operation @dir
 * (ALG_OP_ENCRYPT or ALG_OP_DECRYPT), an IV of @ivlen bytes (none when 0)
 * and, for an AEAD, @assoclen bytes of associated data at the start of
 * the input (none when negative).  Reads @outlen bytes into @out; closes
 * @op.  Returns 0 or -errno (-EBADMSG: an AEAD tag did not match).
 */
static inline int alg_request(int op, uint32_t dir, const uint8_t *iv,
			      size_t ivlen, long assoclen,
			      const struct iovec *iov, int niov,
			      uint8_t *out, size_t outlen)
{
	char cbuf[CMSG_SPACE(4) + CMSG_SPACE(sizeof(struct af_alg_iv) + 16) +
		  CMSG_SPACE(4)] = {};
	struct msghdr msg = {
		.msg_iov = (struct iovec *)iov, .msg_iovlen = niov,
		.msg_control = cbuf, .msg_controllen = CMSG_SPACE(4),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	struct af_alg_iv *aiv;
	size_t inlen = 0;
	ssize_t n;
	int i, err = 0;

	for (i = 0; i < niov; i++)
		inlen += iov[i].iov_len;
	c->cmsg_level = SOL_ALG;
	c->cmsg_type = ALG_SET_OP;
	c->cmsg_len = CMSG_LEN(4);
	memcpy(CMSG_DATA(c), &dir, 4);
	if (ivlen) {
		msg.msg_controllen += CMSG_SPACE(sizeof(*aiv) + ivlen);
		c = CMSG_NXTHDR(&msg, c);
		c->cmsg_level = SOL_ALG;
		c->cmsg_type = ALG_SET_IV;
		c->cmsg_len = CMSG_LEN(sizeof(*aiv) + ivlen);
		aiv = (struct af_alg_iv *)CMSG_DATA(c);
		aiv->ivlen = ivlen;
		memcpy(aiv->iv, iv, ivlen);
	}
	if (assoclen >= 0) {
		uint32_t al = assoclen;

		msg.msg_controllen += CMSG_SPACE(4);
		c = CMSG_NXTHDR(&msg, c);
		c->cmsg_level = SOL_ALG;
		c->cmsg_type = ALG_SET_AEAD_ASSOCLEN;
		c->cmsg_len = CMSG_LEN(4);
		memcpy(CMSG_DATA(c), &al, 4);
	}
	if (sendmsg(op, &msg, 0) != (ssize_t)inlen) {
		err = errno ? -errno : -EIO;
	} else {
		n = read(op, out, outlen);
		if (n != (ssize_t)outlen)
			err = n < 0 ? -errno : -EIO;
	}
	close(op);
	return err;
}

/* Hash (@key NULL) or HMAC of @msg into @out (@olen bytes).  0 or -1. */
static inline int alg_digest(const char *name, const void *key, size_t klen,
			     const void *msg, size_t mlen, uint8_t *out,
			     size_t olen)
{
	int op = alg_open("hash", name, key, klen, 0);
	int ret = -1;

	if (op < 0)
		return -1;
	if (send(op, msg, mlen, 0) == (ssize_t)mlen &&
	    read(op, out, olen) == (ssize_t)olen)
		ret = 0;
	close(op);
	return ret;
}

/* A label and its length, for hkdf_expand_label(). */
#define LBL(s)	s, sizeof(s) - 1

/*
 * HKDF-Expand-Label (RFC 8446 7.1, HKDF-Expand of RFC 5869) with the hash
 * of @cipher and the label prefix @prefix: "tls13 " for TLS 1.3, "dtls13"
 * for DTLS 1.3 (RFC 9147 5.9).  0 or -1.
 */
static inline int hkdf_expand_label(uint16_t cipher, const char *prefix,
				    const uint8_t *secret, const char *label,
				    size_t label_len, const uint8_t *ctx,
				    size_t ctx_len, uint8_t *out,
				    size_t out_len)
{
	const char *hmac = cipher == TAPSEC_CIPHER_AES_GCM_256 ?
			   "hmac(sha384)" : "hmac(sha256)";
	size_t hl = cipher_hash_len(cipher), plen = strlen(prefix);
	size_t info_len = 0, done = 0, n, mlen;
	uint8_t info[600], msg[700], t[64];
	int i;

	info[info_len++] = out_len >> 8;
	info[info_len++] = out_len;
	info[info_len++] = plen + label_len;
	memcpy(info + info_len, prefix, plen);
	info_len += plen;
	memcpy(info + info_len, label, label_len);
	info_len += label_len;
	info[info_len++] = ctx_len;
	memcpy(info + info_len, ctx, ctx_len);
	info_len += ctx_len;
	for (i = 1; done < out_len; i++) {
		mlen = 0;
		if (i > 1) {
			memcpy(msg, t, hl);
			mlen = hl;
		}
		memcpy(msg + mlen, info, info_len);
		mlen += info_len;
		msg[mlen++] = i;
		if (alg_digest(hmac, secret, hl, msg, mlen, t, hl))
			return -1;
		n = out_len - done < hl ? out_len - done : hl;
		memcpy(out + done, t, n);
		done += n;
	}
	return 0;
}

/*
 * The AEAD of @cipher (TAPSEC_CIPHER_*) with a 12-byte @nonce.  Sealing
 * (@seal) reads @inlen bytes of plaintext and writes @aad || ciphertext ||
 * tag to @out; opening reads ciphertext || tag and writes @aad ||
 * plaintext.  Returns the bytes written to @out or -errno (-EBADMSG: the
 * tag does not match).
 */
static inline ssize_t alg_aead(uint16_t cipher, bool seal, const uint8_t *key,
			       size_t keylen, const uint8_t *nonce,
			       const uint8_t *aad, size_t aadlen,
			       const uint8_t *in, size_t inlen, uint8_t *out)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)aad, .iov_len = aadlen },
		{ .iov_base = (void *)in, .iov_len = inlen },
	};
	size_t outlen;
	int op, err;

	if (!seal && inlen < ALG_TAG_LEN)
		return -EBADMSG;
	outlen = aadlen + (seal ? inlen + ALG_TAG_LEN : inlen - ALG_TAG_LEN);
	op = alg_open("aead", cipher == TAPSEC_CIPHER_CHACHA20_POLY1305 ?
		      "rfc7539(chacha20,poly1305)" : "gcm(aes)",
		      key, keylen, ALG_TAG_LEN);
	if (op < 0)
		return op;
	err = alg_request(op, seal ? ALG_OP_ENCRYPT : ALG_OP_DECRYPT, nonce,
			  12, aadlen, iov, 2, out, outlen);
	return err ? err : (ssize_t)outlen;
}

/* alg_aead() sealing, 0 or -errno. */
static inline int alg_seal(uint16_t cipher, const uint8_t *key, int keylen,
			   const uint8_t *nonce, const uint8_t *aad,
			   size_t aadlen, const uint8_t *pt, size_t ptlen,
			   uint8_t *out)
{
	ssize_t n = alg_aead(cipher, true, key, keylen, nonce, aad, aadlen, pt,
			     ptlen, out);

	return n < 0 ? n : 0;
}

/*
 * Encrypt @len bytes of @in with skcipher @name ("ecb(aes)", "chacha20"),
 * with an IV of @ivlen bytes (none when 0).  0 or -errno.
 */
static inline int alg_encrypt(const char *name, const uint8_t *key,
			      size_t keylen, const uint8_t *iv, size_t ivlen,
			      const uint8_t *in, size_t len, uint8_t *out)
{
	struct iovec iov = { .iov_base = (void *)in, .iov_len = len };
	int op = alg_open("skcipher", name, key, keylen, 0);

	if (op < 0)
		return op;
	return alg_request(op, ALG_OP_ENCRYPT, iv, ivlen, -1, &iov, 1, out,
			   len);
}

/* Whether AF_ALG AEADs work here (algif_aead). */
static inline bool have_af_alg(void)
{
	uint8_t key[16] = {}, nonce[12] = {}, out[64];

	return alg_seal(TAPSEC_CIPHER_AES_GCM_128, key, 16, nonce, NULL, 0,
			key, 16, out) == 0;
}

/* Whether AF_ALG hashes work here (algif_hash), SHA-256 and SHA-384. */
static inline bool have_alg_hash(void)
{
	uint8_t out[32];

	return !alg_digest("hmac(sha256)", "k", 1, "m", 1, out, 32) &&
	       !alg_digest("sha384", NULL, 0, "", 0, out, 32);
}

#endif /* TAPSEC_ALG_H */
