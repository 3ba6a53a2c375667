// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: the ESP engine's security associations and options, and its
 * entry in the engine table.
 *
 * An ESP socket (TAPSEC_PROTOCOL = TAPSEC_PROTO_ESP, chosen before the
 * socket is bound) has one outbound SA (TAPSEC_TX) and one inbound SA
 * (TAPSEC_RX), each a struct tapsec_esp_sa, kept by the SA engines'
 * shared path (tapsec_sa.c): installing one again replaces it.  Keys can
 * be read back only with CAP_NET_ADMIN (TAPSEC_TX_KEY/RX_KEY, checked by
 * the glue).
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/sock.h>

#include "tapsec_esp.h"

static struct tapsec_engine_state *tapsec_esp_make(struct tapsec_ctx *ctx)
{
	struct tapsec_sa *sa = kzalloc(sizeof(*sa), GFP_KERNEL_ACCOUNT);

	if (!sa)
		return NULL;
	tapsec_sa_init(sa, &tapsec_esp_engine_ops, ctx);
	return &sa->st;
}

/* tapsec_sa_ops.key_free */
static void tapsec_esp_key_free(void *key)
{
	struct tapsec_esp_key *k = key;

	tapsec_aead_wipe(&k->aead);
	kfree_sensitive(k);
}

/* tapsec_sa_ops.key_id: the SPI */
static u32 tapsec_esp_key_id(const void *key)
{
	const struct tapsec_esp_key *k = key;

	return k->spi;
}

static unsigned int tapsec_esp_key_len(u16 cipher)
{
	switch (cipher) {
	case TAPSEC_CIPHER_AES_GCM_128:
		return 16;
	case TAPSEC_CIPHER_AES_GCM_256:
	case TAPSEC_CIPHER_CHACHA20_POLY1305:
		return 32;
	default:
		return 0;
	}
}

/* An SA from user space, checked: every field means what it says. */
static struct tapsec_esp_key *tapsec_esp_key_new(sockptr_t optval,
						 unsigned int optlen,
						 bool is_tx)
{
	struct tapsec_esp_sa sa = {};
	struct tapsec_esp_key *k;
	unsigned int klen;
	bool esn;
	int err;

	/* The struct before seq_hi (zero then), or as it is now. */
	if (optlen != TAPSEC_ESP_SA_SIZE_V0 && optlen != sizeof(sa))
		return ERR_PTR(-EINVAL);
	err = -EFAULT;
	if (copy_from_sockptr(&sa, optval, optlen))
		goto out;	/* a partial copy holds key bytes */
	klen = tapsec_esp_key_len(sa.cipher);
	esn = sa.flags & TAPSEC_ESP_F_ESN;
	err = -EINVAL;
	if (!klen || sa.spi < TAPSEC_ESP_SPI_MIN ||
	    (sa.flags & ~TAPSEC_ESP_F_ESN) ||
	    ((sa.seq || sa.seq_hi) && !is_tx) || (sa.seq_hi && !esn) ||
	    !sa.inner_sport || !sa.inner_dport ||
	    memchr_inv(sa.key + klen, 0, sizeof(sa.key) - klen))
		goto out;
	/* The last number of a 64-bit space cannot start an SA. */
	if (sa.seq == U32_MAX && sa.seq_hi == U32_MAX)
		goto out;
	err = -ENOMEM;
	k = tapsec_fail_alloc() ? NULL : kzalloc(sizeof(*k), GFP_KERNEL_ACCOUNT);
	if (!k)
		goto out;
	err = tapsec_aead_init(&k->aead, sa.cipher, sa.key, klen);
	if (err) {
		kfree(k);
		goto out;
	}
	memcpy(k->aead.iv, sa.salt, TAPSEC_ESP_SALT_LEN);
	k->aead.seq = ((u64)sa.seq_hi << 32 | sa.seq) + 1;
	k->esn = esn;
	k->spi = sa.spi;
	k->sport = sa.inner_sport;
	k->dport = sa.inner_dport;
	k->key_len = klen;
	memcpy(k->key, sa.key, klen);
	memzero_explicit(&sa, sizeof(sa));
	return k;
out:
	memzero_explicit(&sa, sizeof(sa));
	return ERR_PTR(err);
}

static int tapsec_esp_setsockopt(struct sock *sk, struct tapsec_ctx *ctx,
				 int optname, sockptr_t optval,
				 unsigned int optlen)
{
	struct tapsec_esp_key *k;
	struct tapsec_sa *sa;

	sa = tapsec_sa_state(sk, ctx, &tapsec_esp_engine_ops, tapsec_esp_make);
	if (IS_ERR(sa))
		return PTR_ERR(sa);
	if (optname != TAPSEC_TX && optname != TAPSEC_RX)
		return tapsec_sa_setsockopt(sk, sa, optname, optval, optlen);
	k = tapsec_esp_key_new(optval, optlen, optname == TAPSEC_TX);
	if (IS_ERR(k))
		return PTR_ERR(k);
	if (optname == TAPSEC_TX) {
		/*
		 * RFC 3948 2.1: the UDP checksum of ESP in UDP SHOULD be zero
		 * (the ICV covers the packet; a NAT would have to fix it).
		 * Over IPv4 only: IPv6 keeps its checksum (sk_no_check6_tx).
		 */
		lock_sock(sk);
		sk->sk_no_check_tx = 1;
		release_sock(sk);
	}
	return tapsec_sa_set_key(sk, ctx, sa, optname == TAPSEC_TX, k,
				 k->aead.cipher);
}

/* tapsec_sa_ops.key_out: an SA as TAPSEC_TX/RX read it. */
static void tapsec_esp_key_out(const void *key, bool tx, bool with_key,
			       void *out)
{
	const struct tapsec_esp_key *k = key;
	struct tapsec_esp_sa *sa = out;
	u64 seq = tx ? k->aead.seq - 1 : k->replay.top;

	sa->spi = k->spi;
	sa->cipher = k->aead.cipher;
	sa->flags = k->esn ? TAPSEC_ESP_F_ESN : 0;
	sa->inner_sport = k->sport;
	sa->inner_dport = k->dport;
	sa->seq = lower_32_bits(seq);
	sa->seq_hi = upper_32_bits(seq);
	memcpy(sa->salt, k->aead.iv, TAPSEC_ESP_SALT_LEN);
	if (with_key)
		memcpy(sa->key, k->key, k->key_len);
}

static int tapsec_esp_getsockopt(struct sock *sk, struct tapsec_ctx *ctx,
				 int optname, char __user *optval,
				 int __user *optlen)
{
	return tapsec_sa_getsockopt(ctx, &tapsec_esp_engine_ops, optname,
				    optval, optlen);
}

static const struct tapsec_sa_ops tapsec_esp_sa_ops = {
	.max_payload	= TAPSEC_ESP_MAX_PAYLOAD,
	.tx_data_off	= tapsec_esp_tx_data_off,
	.seal		= tapsec_esp_seal,
	.open		= tapsec_esp_open,
	.key_free	= tapsec_esp_key_free,
	.key_id		= tapsec_esp_key_id,
	.key_out	= tapsec_esp_key_out,
	.key_out_size	= sizeof(struct tapsec_esp_sa),
	.make		= tapsec_esp_make,
	.window		= TAPSEC_REPLAY_WINDOW_DEFAULT,
	/* A warning before the 32-bit sequence numbers run out. */
	.limits		= { .soft_records = U32_MAX - BIT(16) },
};

static_assert(sizeof(struct tapsec_esp_sa) <= TAPSEC_SA_KEY_OUT_MAX);
/* The older struct, still taken, ends where seq_hi begins. */
static_assert(offsetof(struct tapsec_esp_sa, seq_hi) == TAPSEC_ESP_SA_SIZE_V0);

const struct tapsec_engine_ops tapsec_esp_engine_ops = {
	TAPSEC_SA_ENGINE_MEMBERS,
	.proto		= TAPSEC_PROTO_ESP,
	.option		= tapsec_sa_option,
	.setsockopt	= tapsec_esp_setsockopt,
	.getsockopt	= tapsec_esp_getsockopt,
	.sa		= &tapsec_esp_sa_ops,
};
