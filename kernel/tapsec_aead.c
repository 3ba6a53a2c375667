// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: the record core shared by every record engine (TLS, DTLS and
 * ESP; WireGuard next): AEAD setup through the kernel crypto API, nonce
 * construction and sequence numbers that never wrap.
 */
#include <linux/slab.h>
#include <linux/string.h>
#include <crypto/aead.h>
#include <linux/uaccess.h>
#include <linux/tapsec.h>

#include "tapsec.h"
#include "tapsec_aead.h"
#include "tapsec_compat.h"

static const char *tapsec_aead_alg(u16 cipher)
{
	switch (cipher) {
	case TAPSEC_CIPHER_AES_GCM_128:
	case TAPSEC_CIPHER_AES_GCM_256:
		return "gcm(aes)";
	case TAPSEC_CIPHER_CHACHA20_POLY1305:
		return "rfc7539(chacha20,poly1305)";
	default:
		return NULL;
	}
}

/**
 * tapsec_aead_init() - set up one direction's AEAD key
 * @a: the key slot, zeroed by the caller or wiped before
 * @cipher: TAPSEC_CIPHER_*
 * @key: the key bytes
 * @key_len: their length
 *
 * The caller fills @a->iv and @a->seq.  Allocates everything the data path
 * needs, so that sealing and opening records allocates nothing.
 *
 * Return: 0, -EINVAL for an unknown cipher, or the crypto API's error.
 */
int tapsec_aead_init(struct tapsec_aead *a, u16 cipher, const u8 *key,
		     unsigned int key_len)
{
	const char *alg = tapsec_aead_alg(cipher);
	struct crypto_aead *tfm;
	int err;

	if (!alg)
		return -EINVAL;
	if (tapsec_fail_alloc())
		return -ENOMEM;
	tfm = crypto_alloc_aead(alg, 0, 0);
	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	err = crypto_aead_setkey(tfm, key, key_len);
	if (!err)
		err = crypto_aead_setauthsize(tfm, TAPSEC_TAG_LEN);
	if (!err) {
		a->req = tapsec_fail_alloc() ? NULL :
			 aead_request_alloc(tfm, GFP_KERNEL);
		if (!a->req)
			err = -ENOMEM;
	}
	if (err) {
		crypto_free_aead(tfm);
		return err;
	}
	a->tfm = tfm;
	a->cipher = cipher;
	a->exhausted = false;
	return 0;
}

/**
 * tapsec_aead_wipe() - free a key slot and erase what it held
 * @a: the key slot; may be unused
 *
 * The crypto API erases the key schedule when the transform is freed.
 */
void tapsec_aead_wipe(struct tapsec_aead *a)
{
	if (a->req)
		aead_request_free(a->req);	/* kfree_sensitive() */
	if (a->tfm)
		crypto_free_aead(a->tfm);
	memzero_explicit(a, sizeof(*a));
}

/**
 * tapsec_aead_take_seq() - claim the next sequence number
 * @a: the key slot
 * @seq: set to the claimed number
 *
 * Sequence numbers never wrap: after 2^64 - 1 the key is exhausted.
 *
 * Return: 0, or -EKEYEXPIRED when no number is left.
 */
int tapsec_aead_take_seq(struct tapsec_aead *a, u64 *seq)
{
	if (a->exhausted)
		return -EKEYEXPIRED;
	*seq = a->seq;
	if (a->seq == U64_MAX)
		a->exhausted = true;
	else
		a->seq++;
	return 0;
}

/**
 * tapsec_aead_xor_nonce() - per-record nonce of RFC 8446 section 5.3
 * @a: the key slot
 * @seq: the record's sequence number
 * @nonce: TAPSEC_NONCE_LEN bytes out: the static IV XOR the 64-bit
 *	big-endian sequence number, left-padded with zeros
 */
void tapsec_aead_xor_nonce(const struct tapsec_aead *a, u64 seq, u8 *nonce)
{
	int i;

	memcpy(nonce, a->iv, TAPSEC_NONCE_LEN);
	for (i = 0; i < 8; i++)
		nonce[TAPSEC_NONCE_LEN - 1 - i] ^= (u8)(seq >> (8 * i));
}

/**
 * tapsec_aead_salt_nonce() - a nonce made of a salt and an explicit IV
 * @a: the key slot, whose @iv begins with the 4-byte salt
 * @explicit: the TAPSEC_AEAD_EXPLICIT_LEN bytes the record carries
 * @nonce: TAPSEC_NONCE_LEN bytes out: the salt, then @explicit
 *
 * The nonce of AES-GCM in (D)TLS 1.2 (RFC 5288) and of ESP's AES-GCM
 * (RFC 4106) and ChaCha20-Poly1305 (RFC 7634).
 */
void tapsec_aead_salt_nonce(const struct tapsec_aead *a, const u8 *explicit,
			    u8 *nonce)
{
	memcpy(nonce, a->iv, TAPSEC_NONCE_LEN - TAPSEC_AEAD_EXPLICIT_LEN);
	memcpy(nonce + TAPSEC_NONCE_LEN - TAPSEC_AEAD_EXPLICIT_LEN, explicit,
	       TAPSEC_AEAD_EXPLICIT_LEN);
}

/**
 * tapsec_aead_le_nonce() - a nonce made of a little-endian counter
 * @counter: the message's 64-bit counter
 * @nonce: TAPSEC_NONCE_LEN bytes out: four zero bytes, then @counter
 *	little-endian
 *
 * The nonce of WireGuard's transport data messages (its ChaCha20-Poly1305
 * takes the counter as the IETF construction's last 8 bytes).
 */
void tapsec_aead_le_nonce(u64 counter, u8 *nonce)
{
	memset(nonce, 0, TAPSEC_NONCE_LEN - sizeof(counter));
	put_unaligned_le64(counter, nonce + TAPSEC_NONCE_LEN - sizeof(counter));
}

/**
 * tapsec_aead_tls12_nonce() - additional data and nonce of a (D)TLS 1.2 record
 * @a: the key slot
 * @seq: the record's 64-bit sequence number (DTLS: epoch, then number)
 * @type: its content type
 * @version: the version the additional data names (TLS 1.2's 0x0303,
 *	DTLS 1.2's 0xfefd)
 * @len: its plaintext length
 * @explicit: its explicit nonce (AES-GCM, RFC 5288: the nonce is the salt,
 *	then these 8 bytes), or NULL (ChaCha20-Poly1305, RFC 7905: the IV
 *	XOR @seq, as tapsec_aead_xor_nonce())
 * @aad: TAPSEC_AEAD_TLS12_AAD_LEN bytes out: @seq, @type, @version, @len
 *	(RFC 5246 6.2.3.3, RFC 6347 4.1.2.1)
 * @nonce: TAPSEC_NONCE_LEN bytes out
 */
void tapsec_aead_tls12_nonce(const struct tapsec_aead *a, u64 seq, u8 type,
			     u16 version, u16 len, const u8 *explicit,
			     u8 *aad, u8 *nonce)
{
	put_unaligned_be64(seq, aad);
	aad[8] = type;
	put_unaligned_be16(version, aad + 9);
	put_unaligned_be16(len, aad + 11);
	if (explicit)
		tapsec_aead_salt_nonce(a, explicit, nonce);
	else
		tapsec_aead_xor_nonce(a, seq, nonce);
}

/**
 * tapsec_aead_crypt() - seal or open one record
 * @a: the key slot
 * @encrypt: seal when true, open when false
 * @src: associated data followed by the text
 * @dst: where the output goes (may be @src)
 * @assoclen: bytes of associated data at the start of @src and @dst
 * @cryptlen: bytes to process after the associated data; when opening it
 *	includes the tag
 * @nonce: TAPSEC_NONCE_LEN bytes
 *
 * Asynchronous implementations are waited for (the request may backlog).
 *
 * Return: 0, -EBADMSG when the tag does not verify, or another error.
 */
int tapsec_aead_crypt(struct tapsec_aead *a, bool encrypt,
		      struct scatterlist *src, struct scatterlist *dst,
		      unsigned int assoclen, unsigned int cryptlen, u8 *nonce)
{
	struct aead_request *req = a->req;
	DECLARE_CRYPTO_WAIT(wait);

	aead_request_set_tfm(req, a->tfm);
	aead_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG,
				  crypto_req_done, &wait);
	aead_request_set_ad(req, assoclen);
	aead_request_set_crypt(req, src, dst, cryptlen, nonce);
	return crypto_wait_req(encrypt ? crypto_aead_encrypt(req) :
				crypto_aead_decrypt(req), &wait);
}

static unsigned int tapsec_aead_info_size(u16 cipher)
{
	switch (cipher) {
	case TAPSEC_CIPHER_AES_GCM_128:
		return sizeof(struct tapsec_crypto_info_aes_gcm_128);
	case TAPSEC_CIPHER_AES_GCM_256:
		return sizeof(struct tapsec_crypto_info_aes_gcm_256);
	case TAPSEC_CIPHER_CHACHA20_POLY1305:
		return sizeof(struct tapsec_crypto_info_chacha20_poly1305);
	default:
		return 0;
	}
}

/* Pull key material out of a crypto_info with a salt (AES-GCM). */
static void tapsec_aead_unpack(struct tapsec_keys *k, const u8 *key,
			       unsigned int key_len, const u8 *salt,
			       const u8 *iv, const u8 *rec_seq)
{
	memcpy(k->key, key, key_len);
	k->key_len = key_len;
	memcpy(k->iv, salt, 4);
	memcpy(k->iv + 4, iv, TAPSEC_NONCE_LEN - 4);
	k->seq = get_unaligned_be64(rec_seq);
}

/**
 * tapsec_aead_parse() - read a TAPSEC_TX/RX crypto_info
 * @optval: a struct tapsec_crypto_info_* for the cipher named in it
 * @optlen: exactly the size of that structure
 * @k: the key material out; the caller checks @k->version and wipes @k
 *
 * The structure is read twice, its header (which sizes it) first: a
 * cipher_type that changed meanwhile is -EINVAL, never a layout filled
 * from beyond what was read.
 *
 * Return: 0, -EINVAL for an unknown or changing cipher or a wrong length,
 * -EFAULT.
 */
int tapsec_aead_parse(sockptr_t optval, unsigned int optlen,
		      struct tapsec_keys *k)
{
	union tapsec_crypto_info_any ci = {};
	unsigned int size;
	u16 cipher;
	int err = -EINVAL;

	if (optlen < sizeof(ci.info))
		return -EINVAL;
	if (copy_from_sockptr(&ci.info, optval, sizeof(ci.info)))
		return -EFAULT;
	cipher = ci.info.cipher_type;
	size = tapsec_aead_info_size(cipher);
	if (!size || optlen != size)
		return -EINVAL;
	if (copy_from_sockptr(&ci, optval, size)) {
		err = -EFAULT;
		goto out;
	}
	/*
	 * User memory may have changed between the two reads: the layout
	 * is the one the size was taken from, or nothing.
	 */
	if (ci.info.cipher_type != cipher)
		goto out;

	k->version = ci.info.version;
	k->cipher = ci.info.cipher_type;
	switch (k->cipher) {
	case TAPSEC_CIPHER_AES_GCM_128:
		tapsec_aead_unpack(k, ci.gcm128.key, sizeof(ci.gcm128.key),
				   ci.gcm128.salt, ci.gcm128.iv,
				   ci.gcm128.rec_seq);
		break;
	case TAPSEC_CIPHER_AES_GCM_256:
		tapsec_aead_unpack(k, ci.gcm256.key, sizeof(ci.gcm256.key),
				   ci.gcm256.salt, ci.gcm256.iv,
				   ci.gcm256.rec_seq);
		break;
	default:
		memcpy(k->key, ci.chacha.key, sizeof(ci.chacha.key));
		k->key_len = sizeof(ci.chacha.key);
		memcpy(k->iv, ci.chacha.iv, sizeof(ci.chacha.iv));
		k->seq = get_unaligned_be64(ci.chacha.rec_seq);
		break;
	}
	err = 0;
out:
	memzero_explicit(&ci, sizeof(ci));
	return err;
}

/**
 * tapsec_aead_info_out() - answer a TAPSEC_TX/RX(_KEY) getsockopt
 * @ci: what tapsec_aead_pack() filled; wiped here
 * @size: its size
 * @len: the room the caller gave
 * @optval: user buffer
 * @optlen: set to @size
 *
 * Return: 0, -EINVAL when @len is short or negative, -EFAULT.
 */
int tapsec_aead_info_out(union tapsec_crypto_info_any *ci, unsigned int size,
			 int len, char __user *optval, int __user *optlen)
{
	int err = 0;

	if (len < (int)size)	/* signed: a negative length too */
		err = -EINVAL;
	else if (put_user(size, optlen) || copy_to_user(optval, ci, size))
		err = -EFAULT;
	memzero_explicit(ci, sizeof(*ci));
	return err;
}

/**
 * tapsec_aead_pack() - fill a crypto_info to read a key's parameters back
 * @a: the key slot
 * @version: crypto_info version to report
 * @key: the key bytes to include, or NULL to leave them zero
 * @rec_seq: the rec_seq to report
 * @ci: zeroed by the caller, filled here
 *
 * Return: the size of the structure for @a's cipher.
 */
unsigned int tapsec_aead_pack(const struct tapsec_aead *a, u16 version,
			      const u8 *key, u64 rec_seq,
			      union tapsec_crypto_info_any *ci)
{
	bool gcm256 = a->cipher == TAPSEC_CIPHER_AES_GCM_256;
	u8 *k, *salt = NULL, *iv, *seq;
	unsigned int klen;

	ci->info.version = version;
	ci->info.cipher_type = a->cipher;
	if (a->cipher == TAPSEC_CIPHER_CHACHA20_POLY1305) {
		k = ci->chacha.key;
		klen = sizeof(ci->chacha.key);
		iv = ci->chacha.iv;
		seq = ci->chacha.rec_seq;
	} else {
		/* The two AES-GCM layouts differ in the key's size only. */
		k = gcm256 ? ci->gcm256.key : ci->gcm128.key;
		klen = gcm256 ? sizeof(ci->gcm256.key) : sizeof(ci->gcm128.key);
		salt = gcm256 ? ci->gcm256.salt : ci->gcm128.salt;
		iv = gcm256 ? ci->gcm256.iv : ci->gcm128.iv;
		seq = gcm256 ? ci->gcm256.rec_seq : ci->gcm128.rec_seq;
	}
	if (salt) {
		memcpy(salt, a->iv, 4);
		memcpy(iv, a->iv + 4, TAPSEC_NONCE_LEN - 4);
	} else {
		memcpy(iv, a->iv, TAPSEC_NONCE_LEN);
	}
	put_unaligned_be64(rec_seq, seq);
	if (key)
		memcpy(k, key, klen);
	return tapsec_aead_info_size(a->cipher);
}
