// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: handshakes delegated to tapsec-handshaked.
 *
 * A stream socket in TAPSEC_HANDSHAKE_DAEMON mode does not return from
 * connect() (nor its child from accept()) until a handshake has installed
 * its keys.  The socket is queued per network namespace and the "handshake"
 * multicast group is told; the daemon takes the oldest queued socket with
 * TAPSEC_CMD_HANDSHAKE_ACCEPT and receives it as a file descriptor.  While
 * the daemon holds it (RUNNING), data calls made by the daemon's process
 * pass to TCP untouched (the handshake bytes); everyone else waits.  The
 * daemon installs the keys with TAPSEC_TX/TAPSEC_RX and ends with
 * TAPSEC_CMD_HANDSHAKE_DONE.
 *
 * Lifetime: a queued socket is pinned by a reference on its file, which
 * ACCEPT hands over to the daemon's new descriptor.  The timeout work holds
 * a socket reference while armed.  States move under the namespace's
 * hs_lock; waiters sleep on the handshake's wait queue.
 *
 * Failures and their errno (also in TAPSEC_HANDSHAKE_INFO with a reason):
 * ESRCH no daemon listening, ETIMEDOUT deadline passed, ECONNABORTED the
 * daemon went away, whatever the daemon reported otherwise.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/net.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/tcp.h>

#include "tapsec.h"
#include "tapsec_compat.h"
#include "tapsec_engine.h"

#define TAPSEC_HS_DEFAULT_TIMEOUT_MS	30000
#define TAPSEC_HS_MAX_TIMEOUT_MS	(10 * 60 * 1000)
#define TAPSEC_HS_MAX_CIPHERS		8

/**
 * struct tapsec_hs_params - what the application asked of a handshake
 * @mode: enum tapsec_handshake_mode
 * @verify: enum tapsec_verify
 * @timeout_ms: TAPSEC_HANDSHAKE_TIMEOUT
 * @vmin: lowest version allowed, 0 for any
 * @vmax: highest version allowed, 0 for any
 * @nciphers: entries in @ciphers
 * @ciphers: TAPSEC_CIPHER_* allowed, 0 entries for any
 * @server_name: TAPSEC_SERVER_NAME
 * @alpn: TAPSEC_ALPN
 * @identity: TAPSEC_IDENTITY
 * @trust: TAPSEC_TRUST
 * @psk_identity: TAPSEC_PSK_IDENTITY
 * @session_cache: TAPSEC_SESSION_CACHE
 *
 * Set under the socket's lock; an accepted socket gets a copy of its
 * listener's, taken under the listener's lock, and nothing else of it.
 */
struct tapsec_hs_params {
	u8 mode;
	u8 verify;
	u32 timeout_ms;
	u16 vmin;
	u16 vmax;
	u8 nciphers;
	u16 ciphers[TAPSEC_HS_MAX_CIPHERS];
	char server_name[256];
	char alpn[256];
	char identity[64];
	char trust[64];
	char psk_identity[TAPSEC_PSK_IDENTITY_MAX + 1];
	u8 session_cache;
};

/**
 * struct tapsec_hs - handshake parameters and state of one socket
 * @ctx: the socket's context
 * @sk: the socket
 * @ref: the context and an armed timeout each hold one
 * @p: the parameters
 * @role: enum tapsec_hs_role, set when the handshake is asked for
 * @state: enum tapsec_handshake_state
 * @chain: the peer's chain for TAPSEC_VERIFY_DEFER (TAPSEC_PEER_CHAIN)
 * @chain_len: its length
 * @err: positive errno once FAILED
 * @flags: TAPSEC_HS_F_*
 * @reason: why it failed
 * @alpn_negotiated: ALPN protocol the daemon reported
 * @peer_identity: peer identity the daemon validated
 * @node: in the namespace's queue or running list
 * @file: reference on the socket's file while queued
 * @portid: netlink port of the daemon running it
 * @owner: thread group of that daemon: its data calls pass through raw
 * @deadline: jiffies when the handshake times out
 * @wq: waiters for the end of the handshake
 * @timeout_work: fails the handshake at @deadline
 * @saved_state_change: TCP's sk_state_change while a non-blocking
 *	connect() waits for the TCP handshake to start ours
 * @start_work: starts that handshake in process context
 * @starting: @start_work is scheduled and has not queued the socket yet
 * @cred: credentials of the socket's file when the handshake was asked
 *	for: who the daemon may act for (Documentation/security.rst)
 */
struct tapsec_hs {
	struct tapsec_ctx *ctx;
	struct sock *sk;
	refcount_t ref;
	struct tapsec_hs_params p;
	u8 role;
	u8 state;

	int err;
	u32 flags;
	char reason[TAPSEC_REASON_LEN];
	char alpn_negotiated[64];
	char peer_identity[256];
	u8 *chain;
	u32 chain_len;

	struct list_head node;
	struct file *file;
	u32 portid;
	struct pid *owner;
	unsigned long deadline;
	wait_queue_head_t wq;
	struct delayed_work timeout_work;
	void (*saved_state_change)(struct sock *sk);
	struct work_struct start_work;
	bool starting;
	const struct cred *cred;
};

struct tapsec_hs_net {
	spinlock_t lock;		/* queue, running, states */
	struct list_head queue;		/* PENDING, oldest first */
	struct list_head running;	/* RUNNING */
	u32 pending;
};

static unsigned int tapsec_hs_net_id __read_mostly;
/* Runs the timeouts; destroyed (drained) before the module goes. */
static struct workqueue_struct *tapsec_hs_wq;

static void tapsec_hs_timeout(struct work_struct *work);
static void tapsec_hs_start(struct work_struct *work);
static int tapsec_hs_verdict(struct tapsec_ctx *ctx, sockptr_t optval,
			     unsigned int optlen);
static int tapsec_hs_get_psk(struct tapsec_ctx *ctx, char __user *optval,
			     int __user *optlen);

static struct tapsec_hs_net *tapsec_hs_pernet(const struct net *net)
{
	return net_generic(net, tapsec_hs_net_id);
}

/* Make @hs the fresh handshake state of @ctx. */
static void tapsec_hs_setup(struct tapsec_hs *hs, struct tapsec_ctx *ctx)
{
	hs->ctx = ctx;
	hs->sk = ctx->sk;
	refcount_set(&hs->ref, 1);
	hs->state = TAPSEC_HS_IDLE;
	hs->file = NULL;
	hs->owner = NULL;
	hs->saved_state_change = NULL;
	hs->chain = NULL;
	hs->chain_len = 0;
	hs->cred = NULL;
	INIT_LIST_HEAD(&hs->node);
	init_waitqueue_head(&hs->wq);
	INIT_DELAYED_WORK(&hs->timeout_work, tapsec_hs_timeout);
	INIT_WORK(&hs->start_work, tapsec_hs_start);
	WRITE_ONCE(ctx->hs, hs);
}

static void tapsec_hs_put(struct tapsec_hs *hs)
{
	if (!refcount_dec_and_test(&hs->ref))
		return;
	put_pid(hs->owner);
	if (hs->cred)
		put_cred(hs->cred);
	kfree(hs->chain);
	kfree_sensitive(hs);
}

static struct tapsec_hs *tapsec_hs_get(struct tapsec_ctx *ctx)
{
	struct tapsec_hs *hs = ctx->hs;

	if (hs)
		return hs;
	hs = kzalloc(sizeof(*hs), GFP_KERNEL_ACCOUNT);
	if (!hs)
		return NULL;
	hs->p.timeout_ms = TAPSEC_HS_DEFAULT_TIMEOUT_MS;
	tapsec_hs_setup(hs, ctx);
	return hs;
}

/**
 * tapsec_hs_delegated() - whether a socket's handshake is the daemon's
 * @ctx: the socket's context
 *
 * Return: true in TAPSEC_HANDSHAKE_DAEMON mode.
 */
bool tapsec_hs_delegated(const struct tapsec_ctx *ctx)
{
	const struct tapsec_hs *hs = ctx ? READ_ONCE(ctx->hs) : NULL;

	return hs && hs->p.mode == TAPSEC_HANDSHAKE_DAEMON;
}

/**
 * tapsec_hs_started() - whether a delegated handshake was asked for
 * @ctx: the socket's context
 *
 * Return: true once connect() or accept() queued the socket's handshake,
 * whatever became of it.
 */
bool tapsec_hs_started(const struct tapsec_ctx *ctx)
{
	const struct tapsec_hs *hs = READ_ONCE(ctx->hs);

	return hs && READ_ONCE(hs->state) != TAPSEC_HS_IDLE;
}

static int tapsec_hs_set_string(char *dst, size_t size, sockptr_t optval,
				unsigned int optlen)
{
	char buf[256];

	if (optlen >= size || optlen >= sizeof(buf))
		return -ENAMETOOLONG;
	if (copy_from_sockptr(buf, optval, optlen))
		return -EFAULT;
	buf[optlen] = '\0';
	/* The string ends at the first NUL; nothing may hide behind it. */
	if (strnlen(buf, optlen) != optlen &&
	    memchr_inv(buf + strlen(buf), 0, optlen - strlen(buf)))
		return -EINVAL;
	strscpy(dst, buf, size);
	return 0;
}

static int tapsec_hs_get_u32(sockptr_t optval, unsigned int optlen, u32 *val)
{
	if (optlen < sizeof(*val))
		return -EINVAL;
	return copy_from_sockptr(val, optval, sizeof(*val)) ? -EFAULT : 0;
}

/* A version's rank: 12 for (D)TLS 1.2, 13 for 1.3; 0 for none. */
static int tapsec_hs_version_rank(u16 v)
{
	switch (v) {
	case TAPSEC_TLS_1_2_VERSION:
	case TAPSEC_DTLS_1_2_VERSION:
		return 12;
	case TAPSEC_TLS_1_3_VERSION:
	case TAPSEC_DTLS_1_3_VERSION:
		return 13;
	default:
		return 0;
	}
}

/*
 * TAPSEC_VERSIONS: each bound 0 (none) or a version; with both, one
 * protocol's, the lower first by rank (DTLS numbers run down: DTLS 1.3
 * is 0xfefc, below DTLS 1.2's 0xfefd).
 */
static bool tapsec_hs_versions_ok(const struct tapsec_versions *v)
{
	int rmin = tapsec_hs_version_rank(v->min);
	int rmax = tapsec_hs_version_rank(v->max);

	if ((v->min && !rmin) || (v->max && !rmax))
		return false;
	if (!v->min || !v->max)
		return true;
	/* Versions of one protocol: both of TLS's, or both of DTLS's. */
	return rmin <= rmax && (v->min == TAPSEC_DTLS_1_2_VERSION ||
				v->min == TAPSEC_DTLS_1_3_VERSION) ==
			       (v->max == TAPSEC_DTLS_1_2_VERSION ||
				v->max == TAPSEC_DTLS_1_3_VERSION);
}

static bool tapsec_hs_cipher_ok(u16 c)
{
	return c == TAPSEC_CIPHER_AES_GCM_128 ||
	       c == TAPSEC_CIPHER_AES_GCM_256 ||
	       c == TAPSEC_CIPHER_CHACHA20_POLY1305;
}

static int tapsec_hs_set_param(struct tapsec_hs *hs, int optname,
			       sockptr_t optval, unsigned int optlen)
{
	struct tapsec_versions v;
	u16 ciphers[TAPSEC_HS_MAX_CIPHERS];
	unsigned int i, n;
	u32 val;
	int err;

	switch (optname) {
	case TAPSEC_HANDSHAKE:
		err = tapsec_hs_get_u32(optval, optlen, &val);
		if (err)
			return err;
		if (val > TAPSEC_HANDSHAKE_DAEMON)
			return -EINVAL;
		hs->p.mode = val;
		return 0;
	case TAPSEC_HANDSHAKE_TIMEOUT:
		err = tapsec_hs_get_u32(optval, optlen, &val);
		if (err)
			return err;
		if (!val || val > TAPSEC_HS_MAX_TIMEOUT_MS)
			return -EINVAL;
		hs->p.timeout_ms = val;
		return 0;
	case TAPSEC_VERIFY:
		err = tapsec_hs_get_u32(optval, optlen, &val);
		if (err)
			return err;
		if (val > TAPSEC_VERIFY_DEFER)
			return -EINVAL;
		hs->p.verify = val;
		return 0;
	case TAPSEC_SESSION_CACHE:
		err = tapsec_hs_get_u32(optval, optlen, &val);
		if (err)
			return err;
		if (val > TAPSEC_SESSION_CACHE_OFF)
			return -EINVAL;
		hs->p.session_cache = val;
		return 0;
	case TAPSEC_SERVER_NAME:
		return tapsec_hs_set_string(hs->p.server_name,
					    sizeof(hs->p.server_name), optval,
					    optlen);
	case TAPSEC_ALPN:
		return tapsec_hs_set_string(hs->p.alpn, sizeof(hs->p.alpn),
					    optval, optlen);
	case TAPSEC_IDENTITY:
		return tapsec_hs_set_string(hs->p.identity,
					    sizeof(hs->p.identity), optval,
					    optlen);
	case TAPSEC_TRUST:
		return tapsec_hs_set_string(hs->p.trust, sizeof(hs->p.trust),
					    optval, optlen);
	case TAPSEC_PSK_IDENTITY:
		return tapsec_hs_set_string(hs->p.psk_identity,
					    sizeof(hs->p.psk_identity), optval,
					    optlen);
	case TAPSEC_VERSIONS:
		if (optlen != sizeof(v))
			return -EINVAL;
		if (copy_from_sockptr(&v, optval, sizeof(v)))
			return -EFAULT;
		if (!tapsec_hs_versions_ok(&v))
			return -EINVAL;
		hs->p.vmin = v.min;
		hs->p.vmax = v.max;
		return 0;
	case TAPSEC_CIPHERS:
		if (optlen % sizeof(u16) || optlen > sizeof(ciphers))
			return -EINVAL;
		n = optlen / sizeof(u16);
		if (copy_from_sockptr(ciphers, optval, optlen))
			return -EFAULT;
		for (i = 0; i < n; i++)
			if (!tapsec_hs_cipher_ok(ciphers[i]))
				return -EINVAL;
		memcpy(hs->p.ciphers, ciphers, optlen);
		hs->p.nciphers = n;
		return 0;
	}
	return -ENOPROTOOPT;
}

/**
 * tapsec_hs_setsockopt() - set a handshake option
 * @ctx: the socket's context
 * @optname: TAPSEC_HANDSHAKE .. TAPSEC_PEER_VERDICT
 * @optval: value
 * @optlen: its length
 *
 * Pre-connection options: only on a stream socket that is neither
 * connected nor listening.
 *
 * Return: 0 or a negative errno.
 */
int tapsec_hs_setsockopt(struct tapsec_ctx *ctx, int optname,
			 sockptr_t optval, unsigned int optlen)
{
	struct sock *sk = ctx->sk;
	struct tapsec_hs *hs;
	int err;

	if (optname == TAPSEC_HANDSHAKE_INFO ||
	    optname == TAPSEC_ALPN_NEGOTIATED ||
	    optname == TAPSEC_PEER_IDENTITY || optname == TAPSEC_PEER_CHAIN ||
	    optname == TAPSEC_HANDSHAKE_PSK)
		return -EPERM;	/* read only */
	if (optname == TAPSEC_PEER_VERDICT)
		return tapsec_hs_verdict(ctx, optval, optlen);
	if (!tapsec_engine_active(ctx))
		return -EOPNOTSUPP;
	lock_sock(sk);
	if (sk->sk_state != TCP_CLOSE || ctx->origin != TAPSEC_ORIGIN_SOCKET) {
		err = -EISCONN;
		goto out;
	}
	hs = tapsec_hs_get(ctx);
	err = hs ? tapsec_hs_set_param(hs, optname, optval, optlen) : -ENOMEM;
out:
	release_sock(sk);
	return err;
}

/**
 * tapsec_hs_getsockopt() - read a handshake option or its outcome
 * @ctx: the socket's context
 * @optname: TAPSEC_HANDSHAKE .. TAPSEC_PEER_VERDICT
 * @optval: user buffer
 * @optlen: its size in, bytes written out
 *
 * Return: 0 or a negative errno.
 */
int tapsec_hs_getsockopt(struct tapsec_ctx *ctx, int optname,
			 char __user *optval, int __user *optlen)
{
	static const struct tapsec_hs none = {
		.p.timeout_ms = TAPSEC_HS_DEFAULT_TIMEOUT_MS,
	};
	const struct tapsec_hs *hs = READ_ONCE(ctx->hs) ?: &none;
	struct tapsec_handshake_info info = {};
	struct tapsec_versions v;
	struct sock *sk = ctx->sk;
	int len;
	u32 val;
	int err;

	if (optname == TAPSEC_HANDSHAKE_PSK)
		return tapsec_hs_get_psk(ctx, optval, optlen);
	lock_sock(sk);
	switch (optname) {
	case TAPSEC_HANDSHAKE:
		val = hs->p.mode;
		err = tapsec_copy_out(&val, sizeof(val), optval, optlen);
		break;
	case TAPSEC_HANDSHAKE_TIMEOUT:
		val = hs->p.timeout_ms;
		err = tapsec_copy_out(&val, sizeof(val), optval, optlen);
		break;
	case TAPSEC_VERIFY:
		val = hs->p.verify;
		err = tapsec_copy_out(&val, sizeof(val), optval, optlen);
		break;
	case TAPSEC_SESSION_CACHE:
		val = hs->p.session_cache;
		err = tapsec_copy_out(&val, sizeof(val), optval, optlen);
		break;
	case TAPSEC_SERVER_NAME:
		err = tapsec_copy_out(hs->p.server_name,
				      strlen(hs->p.server_name) + 1, optval,
				      optlen);
		break;
	case TAPSEC_ALPN:
		err = tapsec_copy_out(hs->p.alpn, strlen(hs->p.alpn) + 1,
				      optval, optlen);
		break;
	case TAPSEC_IDENTITY:
		err = tapsec_copy_out(hs->p.identity,
				      strlen(hs->p.identity) + 1, optval,
				      optlen);
		break;
	case TAPSEC_TRUST:
		err = tapsec_copy_out(hs->p.trust, strlen(hs->p.trust) + 1,
				      optval, optlen);
		break;
	case TAPSEC_PSK_IDENTITY:
		err = tapsec_copy_out(hs->p.psk_identity,
				      strlen(hs->p.psk_identity) + 1, optval,
				      optlen);
		break;
	case TAPSEC_VERSIONS:
		v.min = hs->p.vmin;
		v.max = hs->p.vmax;
		err = tapsec_copy_out(&v, sizeof(v), optval, optlen);
		break;
	case TAPSEC_CIPHERS:
		err = tapsec_copy_out(hs->p.ciphers,
				      hs->p.nciphers * sizeof(u16), optval,
				      optlen);
		break;
	case TAPSEC_HANDSHAKE_INFO:
		info.state = READ_ONCE(hs->state);
		if (info.state == TAPSEC_HS_FAILED)
			info.error = hs->err;
		if (info.state == TAPSEC_HS_DONE) {
			info.version = READ_ONCE(ctx->tx_version);
			info.cipher = READ_ONCE(ctx->tx_cipher);
			info.flags = hs->flags;
		}
		if (info.state >= TAPSEC_HS_DONE)
			strscpy(info.reason, hs->reason, sizeof(info.reason));
		err = tapsec_copy_out(&info, sizeof(info), optval, optlen);
		break;
	case TAPSEC_ALPN_NEGOTIATED:
		err = tapsec_copy_out(hs->alpn_negotiated,
				      strlen(hs->alpn_negotiated) + 1, optval,
				      optlen);
		break;
	case TAPSEC_PEER_IDENTITY:
		err = tapsec_copy_out(hs->peer_identity,
				      strlen(hs->peer_identity) + 1, optval,
				      optlen);
		break;
	case TAPSEC_PEER_CHAIN:
		/* optlen is read once: what it says decides the answer. */
		err = get_user(len, optlen);
		if (!err && len < 0)
			err = -EINVAL;
		else if (!err && len < (int)hs->chain_len)
			err = put_user((int)hs->chain_len, optlen) ?: -ERANGE;
		else if (!err && (put_user((int)hs->chain_len, optlen) ||
				  copy_to_user(optval, hs->chain,
					       hs->chain_len)))
			err = -EFAULT;
		break;
	case TAPSEC_PEER_VERDICT:
		err = -EPERM;	/* write only */
		break;
	default:
		err = -ENOPROTOOPT;
	}
	release_sock(sk);
	return err;
}

static void tapsec_hs_event(struct tapsec_hs *hs)
{
	struct sock *sk = hs->sk;

	if (hs->state == TAPSEC_HS_DONE)
		tapsec_nl_event(sock_net(sk), TAPSEC_EVENT_HANDSHAKE_DONE,
				sock_i_ino(sk), 0, NULL);
	else
		tapsec_nl_event(sock_net(sk), TAPSEC_EVENT_HANDSHAKE_FAILED,
				sock_i_ino(sk), hs->err, hs->reason);
}

/*
 * Record the end of a handshake.  Called under hs_lock with the handshake
 * PENDING or RUNNING; the caller then calls tapsec_hs_finished().
 */
static void tapsec_hs_end_locked(struct tapsec_hs_net *hn, struct tapsec_hs *hs,
				 int err, const char *reason)
{
	if (hs->state == TAPSEC_HS_PENDING)
		hn->pending--;
	list_del_init(&hs->node);
	hs->err = err;
	strscpy(hs->reason, reason ?: "", sizeof(hs->reason));
	/* A poller finding the handshake failed finds POLLERR too. */
	if (err)
		WRITE_ONCE(hs->sk->sk_err, err);
	smp_wmb();	/* sk_err before state: tapsec_hs_poll() */
	WRITE_ONCE(hs->state, err ? TAPSEC_HS_FAILED : TAPSEC_HS_DONE);
}

/*
 * Shut a connection whose handshake failed down, which also wakes a daemon
 * still reading it.  Works on the sock, whose memory the caller pins: the
 * struct socket may be going away under a concurrent close().
 */
static void tapsec_hs_shutdown(struct sock *sk)
{
	lock_sock(sk);
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | SHUTDOWN_MASK);
	if (!sock_flag(sk, SOCK_DEAD) && sk->sk_prot->shutdown &&
	    ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT)))
		sk->sk_prot->shutdown(sk, SEND_SHUTDOWN);
	release_sock(sk);
}

/*
 * After tapsec_hs_end_locked(), outside the lock, in process context: stop
 * the timer, shut a failed connection down (unless it is being closed
 * anyway), wake waiters and pollers, tell the events group, drop what the
 * queue held.
 */
static void tapsec_hs_finished(struct tapsec_hs *hs, struct file *file,
			       bool closing)
{
	struct sock *sk = hs->sk;

	if (hs->state == TAPSEC_HS_FAILED) {
		TAPSEC_COUNT(hs->ctx, hs_failed, 1);
		/* sk_err is set: the shutdown's wakeups find POLLERR. */
		if (!closing)
			tapsec_hs_shutdown(sk);
		sk_error_report(sk);
	} else {
		TAPSEC_COUNT(hs->ctx, hs_done, 1);
	}
	if (cancel_delayed_work(&hs->timeout_work)) {
		sock_put(sk);
		tapsec_hs_put(hs);	/* not the last: the context has one */
	}
	wake_up_all(&hs->wq);
	sk->sk_state_change(sk);
	tapsec_hs_event(hs);
	if (file)
		fput(file);
}

/*
 * End @hs with @err if it is queued and @queued says why, or running and
 * @running says why (NULL: leave it in that state), then finish it: the
 * lock, the check, the end and the finish in one place.  A queued
 * handshake's file reference goes with it.  @closing as for
 * tapsec_hs_finished().  Returns whether this call ended it.
 */
static bool tapsec_hs_end(struct tapsec_hs *hs, int err, const char *queued,
			  const char *running, bool closing)
{
	struct tapsec_hs_net *hn = tapsec_hs_pernet(sock_net(hs->sk));
	struct file *file = NULL;
	bool ended = true;

	spin_lock_bh(&hn->lock);
	if (queued && hs->state == TAPSEC_HS_PENDING) {
		file = hs->file;	/* the queue's, set while PENDING */
		hs->file = NULL;
		tapsec_hs_end_locked(hn, hs, err, queued);
	} else if (running && hs->state == TAPSEC_HS_RUNNING) {
		tapsec_hs_end_locked(hn, hs, err, running);
	} else {
		ended = false;
	}
	spin_unlock_bh(&hn->lock);
	if (ended)
		tapsec_hs_finished(hs, file, closing);
	return ended;
}

/*
 * The deadline.  The socket may have been destroyed meanwhile (the
 * handshake ended, the timer could not be stopped): only @hs, which this
 * work holds a reference on, and the socket's memory are touched then.
 */
static void tapsec_hs_timeout(struct work_struct *work)
{
	struct tapsec_hs *hs = container_of(to_delayed_work(work),
					    struct tapsec_hs, timeout_work);
	struct sock *sk = hs->sk;

	tapsec_hs_end(hs, ETIMEDOUT, "no handshake daemon took it in time",
		      "handshake timed out", false);
	tapsec_hs_put(hs);
	sock_put(sk);
}

/*
 * Queue @hs's socket for the daemon, in process context.  The queue takes
 * a reference on @file, the socket's file, and the handshake its
 * credentials.  With no daemon in the socket's namespace (the multicast
 * reached nobody) it fails at once with -ESRCH.  Only the first of
 * concurrent callers (two connect()s, connect() and the non-blocking
 * start) queues it: the state is checked under the queue's lock, and the
 * others get -EALREADY.
 */
static int tapsec_hs_submit(struct tapsec_hs *hs, struct file *file, u8 role)
{
	const struct cred *cred = get_cred(file->f_cred);
	struct sock *sk = hs->sk;
	struct net *net = sock_net(sk);
	struct tapsec_hs_net *hn = tapsec_hs_pernet(net);
	u32 pending;
	int err;

	spin_lock_bh(&hn->lock);
	if (hs->state != TAPSEC_HS_IDLE) {
		spin_unlock_bh(&hn->lock);
		put_cred(cred);
		return -EALREADY;
	}
	get_file(file);
	sock_hold(sk);
	refcount_inc(&hs->ref);
	hs->role = role;
	hs->deadline = jiffies + msecs_to_jiffies(hs->p.timeout_ms);
	hs->cred = cred;
	hs->file = file;
	WRITE_ONCE(hs->state, TAPSEC_HS_PENDING);
	list_add_tail(&hs->node, &hn->queue);
	pending = ++hn->pending;
	queue_delayed_work(tapsec_hs_wq, &hs->timeout_work,
			   msecs_to_jiffies(hs->p.timeout_ms));
	spin_unlock_bh(&hn->lock);

	err = tapsec_nl_handshake_ready(net, pending);
	if (err != -ESRCH)
		return 0;	/* delivered, or the daemon's poll finds it */

	/* Unless a daemon polling without the group took it meanwhile. */
	return tapsec_hs_end(hs, ESRCH, "no handshake daemon is running",
			     NULL, false) ? -ESRCH : 0;
}

/* A non-blocking connect() will start the handshake. */
static bool tapsec_hs_starting(struct tapsec_hs *hs)
{
	return READ_ONCE(hs->saved_state_change) || READ_ONCE(hs->starting);
}

/* Wait for the end of the handshake; 0 when keys are in. */
static int tapsec_hs_wait(struct tapsec_hs *hs)
{
	int err;

	err = wait_event_interruptible(hs->wq,
				       READ_ONCE(hs->state) >= TAPSEC_HS_DONE ||
				       (READ_ONCE(hs->state) == TAPSEC_HS_IDLE &&
					!tapsec_hs_starting(hs)));
	if (err)
		return err;
	switch (READ_ONCE(hs->state)) {
	case TAPSEC_HS_DONE:
		return 0;
	case TAPSEC_HS_FAILED:
		return -hs->err;
	default:	/* TCP failed before the handshake could start */
		return sock_error(hs->sk) ?: -ENOTCONN;
	}
}

/*
 * A reference on the live file of @sk, the caller holding the socket lock:
 * a close() of the last descriptor cannot finish meanwhile (it needs the
 * socket lock), but its file may already be on its way out.
 */
static struct file *tapsec_hs_sock_file(struct sock *sk)
{
	struct file *file = NULL;

	rcu_read_lock();
	if (!sock_flag(sk, SOCK_DEAD) && sk->sk_socket && sk->sk_socket->file &&
	    tapsec_get_file_live(sk->sk_socket->file))
		file = sk->sk_socket->file;
	rcu_read_unlock();
	return file;
}

/*
 * Start the handshake of a non-blocking connect() once TCP is established:
 * the state change (softirq) only schedules this.  Holds a socket and a
 * handshake reference.
 */
static void tapsec_hs_start(struct work_struct *work)
{
	struct tapsec_hs *hs = container_of(work, struct tapsec_hs, start_work);
	struct sock *sk = hs->sk;
	struct file *file = NULL;

	lock_sock(sk);
	if (READ_ONCE(hs->state) == TAPSEC_HS_IDLE &&
	    sk->sk_state == TCP_ESTABLISHED)
		file = tapsec_hs_sock_file(sk);
	release_sock(sk);
	if (file) {
		int err = tapsec_hs_submit(hs, file, TAPSEC_ROLE_CLIENT);

		if (err && err != -EALREADY)
			sk_error_report(sk);	/* sk_err is set */
		fput(file);
	}
	WRITE_ONCE(hs->starting, false);
	wake_up_all(&hs->wq);
	tapsec_hs_put(hs);
	sock_put(sk);
}

static void tapsec_hs_schedule_start(struct tapsec_hs *hs)
{
	sock_hold(hs->sk);
	refcount_inc(&hs->ref);
	WRITE_ONCE(hs->starting, true);
	if (!queue_work(tapsec_hs_wq, &hs->start_work)) {
		tapsec_hs_put(hs);	/* already queued: never the last */
		sock_put(hs->sk);
	}
}

/*
 * sk_state_change while a non-blocking connect() is under way (softirq or
 * the socket's backlog): once TCP leaves SYN_SENT, take the hook out and,
 * if it is established, have the handshake started.
 */
static void tapsec_hs_state_change(struct sock *sk)
{
	struct tapsec_ctx *ctx = tapsec_stream_ctx(sk);
	struct tapsec_hs *hs = ctx ? ctx->hs : NULL;
	void (*saved)(struct sock *sk);

	read_lock_bh(&sk->sk_callback_lock);
	saved = hs ? hs->saved_state_change : NULL;
	read_unlock_bh(&sk->sk_callback_lock);
	if (!saved)
		return;
	if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV)) {
		saved(sk);
		return;
	}
	/* Starting before unhooking: poll() never sees neither. */
	if (sk->sk_state == TCP_ESTABLISHED)
		tapsec_hs_schedule_start(hs);
	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_state_change = saved;
	hs->saved_state_change = NULL;
	write_unlock_bh(&sk->sk_callback_lock);
	saved(sk);
}

/**
 * tapsec_hs_connect() - run the handshake of a client socket
 * @sock: the socket
 * @ctx: its context
 * @tcp_err: what TCP's connect() returned (UDP's: always done at once)
 *
 * A blocking connect() that connected starts the handshake and waits for
 * it.  A non-blocking one (-EINPROGRESS) has it started once TCP is
 * established; poll() reports the socket writable when the handshake is
 * done, and SO_ERROR reads its error.
 *
 * Return: 0 when the handshake is done, -EINPROGRESS or -EALREADY while it
 * runs, or a negative errno.
 */
int tapsec_hs_connect(struct socket *sock, struct tapsec_ctx *ctx, int tcp_err)
{
	struct sock *sk = sock->sk;
	struct tapsec_hs *hs = ctx->hs;
	bool nonblock = sock->file && (sock->file->f_flags & O_NONBLOCK);
	int err;

	if (tcp_err == -EINPROGRESS) {
		lock_sock(sk);
		if (hs->state == TAPSEC_HS_IDLE && sk->sk_state == TCP_ESTABLISHED) {
			/* Loopback: TCP was done before connect() returned. */
			tapsec_hs_schedule_start(hs);
		} else if (hs->state == TAPSEC_HS_IDLE) {
			write_lock_bh(&sk->sk_callback_lock);
			if (!hs->saved_state_change) {
				hs->saved_state_change = sk->sk_state_change;
				sk->sk_state_change = tapsec_hs_state_change;
			}
			write_unlock_bh(&sk->sk_callback_lock);
		}
		release_sock(sk);
		return tcp_err;
	}
	/* A connect() restarted after a signal finds TCP connected. */
	if (tcp_err && tcp_err != -EALREADY && tcp_err != -EISCONN)
		return tcp_err;

	switch (READ_ONCE(hs->state)) {
	case TAPSEC_HS_IDLE:
		if (tcp_err || !sock->file || tapsec_hs_starting(hs))
			return tcp_err ?: -EALREADY;
		err = tapsec_hs_submit(hs, sock->file, TAPSEC_ROLE_CLIENT);
		if (err == -EALREADY) {
			/* Another connect() queued it first: as for RUNNING. */
			if (nonblock)
				return -EALREADY;
			break;
		}
		if (err)
			return err;
		if (nonblock)
			return -EINPROGRESS;
		break;
	case TAPSEC_HS_DONE:
		return -EISCONN;
	case TAPSEC_HS_FAILED:
		return -hs->err;
	default:
		if (nonblock)
			return -EALREADY;
	}
	return tapsec_hs_wait(hs);
}

/**
 * tapsec_hs_accept() - run the handshake of an accepted socket
 * @listener: the listening socket's context
 * @ctx: the accepted socket's context, or NULL when it has none
 * @newsock: the accepted socket, its file already allocated
 * @nonblock: return once queued; data calls wait for the end
 *
 * The child inherits its listener's handshake parameters.
 *
 * Return: 0, or -ECONNABORTED when this client's handshake failed.
 */
int tapsec_hs_accept(struct tapsec_ctx *listener, struct tapsec_ctx *ctx,
		     struct socket *newsock, bool nonblock)
{
	struct tapsec_hs *hs;
	int err;

	if (!ctx || !newsock->file)
		return -ECONNABORTED;
	hs = kzalloc(sizeof(*hs), GFP_KERNEL_ACCOUNT);
	if (!hs)
		return -ENOMEM;
	/* A datagram listener's options may change between accepts. */
	lock_sock(listener->sk);
	hs->p = listener->hs->p;
	release_sock(listener->sk);
	lock_sock(newsock->sk);
	tapsec_hs_setup(hs, ctx);
	release_sock(newsock->sk);

	err = tapsec_hs_submit(hs, newsock->file, TAPSEC_ROLE_SERVER);
	if (!err && !nonblock)
		err = tapsec_hs_wait(hs);
	if (err == -ERESTARTSYS)
		return err;
	return err ? -ECONNABORTED : 0;
}

/**
 * tapsec_hs_close() - the socket is being closed
 * @ctx: its context
 *
 * A handshake still running (the daemon closed its descriptor without
 * DONE) ends here; the non-blocking connect hook is taken out.
 */
void tapsec_hs_close(struct tapsec_ctx *ctx)
{
	struct tapsec_hs *hs = ctx->hs;
	struct sock *sk = ctx->sk;

	if (!hs)
		return;
	write_lock_bh(&sk->sk_callback_lock);
	if (hs->saved_state_change) {
		sk->sk_state_change = hs->saved_state_change;
		hs->saved_state_change = NULL;
	}
	write_unlock_bh(&sk->sk_callback_lock);

	tapsec_hs_end(hs, ECONNABORTED, NULL,
		      "the socket was closed during the handshake", true);
}

/**
 * tapsec_hs_raw() - whether a data call passes to TCP untouched
 * @ctx: the socket's context
 *
 * Return: true for the daemon running the socket's handshake.
 */
bool tapsec_hs_raw(const struct tapsec_ctx *ctx)
{
	const struct tapsec_hs *hs = READ_ONCE(ctx->hs);

	return hs && READ_ONCE(hs->state) == TAPSEC_HS_RUNNING &&
	       READ_ONCE(hs->owner) == task_tgid(current);
}

/**
 * tapsec_hs_server() - whether a delegated handshake was a server's
 * @ctx: the socket's context
 *
 * Return: true for a socket accept() returned after its handshake.
 */
bool tapsec_hs_server(const struct tapsec_ctx *ctx)
{
	const struct tapsec_hs *hs = READ_ONCE(ctx->hs);

	return hs && hs->role == TAPSEC_ROLE_SERVER;
}

/**
 * tapsec_hs_wait_data() - hold a data call until the handshake is over
 * @ctx: the socket's context, in TAPSEC_HANDSHAKE_DAEMON mode
 * @nonblock: fail with -EAGAIN rather than wait
 *
 * Return: 0 once keys are in, or a negative errno: the handshake's error,
 * -EAGAIN, -ERESTARTSYS, or -ENOTCONN when none was started.
 */
int tapsec_hs_wait_data(struct tapsec_ctx *ctx, bool nonblock)
{
	struct tapsec_hs *hs = READ_ONCE(ctx->hs);
	u8 state = READ_ONCE(hs->state);

	int err;

	if (state == TAPSEC_HS_IDLE && !tapsec_hs_starting(hs))
		return -ENOTCONN;
	if (state < TAPSEC_HS_DONE && nonblock)
		return -EAGAIN;
	err = tapsec_hs_wait(hs);
	/* TAPSEC_VERIFY_DEFER: nothing flows before the application's word. */
	if (!err && (READ_ONCE(hs->flags) & TAPSEC_HS_F_VERDICT))
		return -EPERM;
	return err;
}

/**
 * tapsec_hs_gate() - what a data call does on a delegated socket
 * @ctx: the socket's context
 * @tx: a send, else a receive
 * @nonblock: fail with -EAGAIN rather than wait
 *
 * The daemon's own calls carry handshake bytes in clear until it installs
 * that direction's key; anyone else waits for the end of the handshake.
 *
 * Return: 1 to pass the call to the transport in clear, 0 to go through
 * the engine, or a negative errno (tapsec_hs_wait_data()).
 */
int tapsec_hs_gate(struct tapsec_ctx *ctx, bool tx, bool nonblock)
{
	if (!tapsec_hs_delegated(ctx))
		return 0;
	if (tapsec_hs_raw(ctx))
		return !tapsec_engine_of(ctx)->keyed(ctx, tx);
	return tapsec_hs_wait_data(ctx, nonblock);
}

/*
 * TAPSEC_PEER_VERDICT on a socket whose handshake left the peer's
 * authentication to the application.  Accepting lets data flow (the peer
 * counts as authenticated); rejecting fails the handshake with
 * EKEYREJECTED, sends a fatal bad_certificate alert (a TLS or a DTLS
 * record, by the socket's engine) and shuts the connection down.  The
 * state changes first, under the socket lock, so that no data call gets
 * through between the verdict and the alert.
 */
static int tapsec_hs_verdict(struct tapsec_ctx *ctx, sockptr_t optval,
			     unsigned int optlen)
{
	struct tapsec_hs *hs = READ_ONCE(ctx->hs);
	struct sock *sk = ctx->sk;
	bool rejected = false;
	int err;
	u32 val;

	err = tapsec_hs_get_u32(optval, optlen, &val);
	if (err)
		return err;
	if (val > TAPSEC_PEER_ACCEPT)
		return -EINVAL;
	if (!hs || READ_ONCE(hs->state) != TAPSEC_HS_DONE ||
	    !(READ_ONCE(hs->flags) & TAPSEC_HS_F_VERDICT))
		return -EINVAL;	/* nothing to decide */
	lock_sock(sk);
	if (!(hs->flags & TAPSEC_HS_F_VERDICT)) {
		err = -EINVAL;	/* decided meanwhile */
	} else if (val == TAPSEC_PEER_ACCEPT) {
		WRITE_ONCE(hs->flags, (hs->flags & ~TAPSEC_HS_F_VERDICT) |
			   TAPSEC_HS_F_PEER_AUTH);
	} else {
		hs->err = EKEYREJECTED;
		strscpy(hs->reason, "peer rejected by the application",
			sizeof(hs->reason));
		WRITE_ONCE(hs->state, TAPSEC_HS_FAILED);
		WRITE_ONCE(hs->flags, hs->flags & ~TAPSEC_HS_F_VERDICT);
		rejected = true;
	}
	release_sock(sk);
	if (rejected) {
		/* Before sk_err, which TCP's sendmsg would refuse on. */
		tapsec_engine_of(ctx)->reject_peer(sk, ctx);
		WRITE_ONCE(sk->sk_err, EKEYREJECTED);
		tapsec_hs_shutdown(sk);
		sk_error_report(sk);
		tapsec_hs_event(hs);
	}
	wake_up_all(&hs->wq);
	sk->sk_state_change(sk);
	return err;
}

/**
 * tapsec_hs_poll() - poll mask of a socket during its handshake
 * @ctx: the socket's context, in TAPSEC_HANDSHAKE_DAEMON mode
 * @mask: the mask the socket would have otherwise
 *
 * Return: @mask with readiness withheld until the handshake is done.
 */
__poll_t tapsec_hs_poll(const struct tapsec_ctx *ctx, __poll_t mask)
{
	struct tapsec_hs *hs = READ_ONCE(ctx->hs);
	u8 state = READ_ONCE(hs->state);

	if (state == TAPSEC_HS_PENDING ||
	    (state == TAPSEC_HS_IDLE && tapsec_hs_starting(hs)) ||
	    (state == TAPSEC_HS_RUNNING && !tapsec_hs_raw(ctx))) {
		mask &= ~(EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM |
			  EPOLLWRBAND);
	} else if (state == TAPSEC_HS_DONE &&
		   (READ_ONCE(hs->flags) & TAPSEC_HS_F_VERDICT)) {
		/* Writable says the handshake is done: time to decide. */
		mask &= ~(EPOLLIN | EPOLLRDNORM);
	} else if (state == TAPSEC_HS_FAILED) {
		/* TCP's mask may predate the failure: its error with it. */
		smp_rmb();	/* state before sk_err: tapsec_hs_end_locked() */
		if (READ_ONCE(hs->sk->sk_err))
			mask |= EPOLLERR;
	}
	return mask;
}

/**
 * tapsec_hs_may_install() - whether keys may be set now
 * @ctx: the socket's context
 *
 * Return: 0, or -EPERM when the handshake belongs to the daemon and the
 * caller is not the daemon running it.
 */
int tapsec_hs_may_install(const struct tapsec_ctx *ctx)
{
	if (!tapsec_hs_delegated(ctx))
		return 0;
	return tapsec_hs_raw(ctx) ? 0 : -EPERM;
}

/**
 * tapsec_hs_release() - the socket is going away
 * @ctx: its context
 *
 * Callable in any context.  Nothing can still be queued (the queue holds
 * the file), and close ends a running handshake; should close not have
 * run tapsec's release, the handshake leaves the running list here all
 * the same.  An armed timeout keeps its reference.
 */
void tapsec_hs_release(struct tapsec_ctx *ctx)
{
	struct tapsec_hs *hs = ctx->hs;
	struct tapsec_hs_net *hn;

	if (!hs)
		return;
	hn = tapsec_hs_pernet(sock_net(ctx->sk));
	spin_lock_bh(&hn->lock);
	if (!list_empty(&hs->node)) {
		if (hs->state == TAPSEC_HS_PENDING)
			hn->pending--;
		list_del_init(&hs->node);
	}
	spin_unlock_bh(&hn->lock);
	WRITE_ONCE(ctx->hs, NULL);
	tapsec_hs_put(hs);
}

/*
 * Who asked for the handshake, as the daemon's user namespace names them:
 * the owner of the socket's file and its groups.
 */
static int tapsec_hs_fill_cred(struct sk_buff *msg, const struct cred *cred)
{
	struct user_namespace *ns = current_user_ns();
	const struct group_info *gi = cred->group_info;
	u32 groups[TAPSEC_HS_GROUPS_MAX];
	int i, n = min_t(int, gi->ngroups, TAPSEC_HS_GROUPS_MAX);

	for (i = 0; i < n; i++)
		groups[i] = from_kgid_munged(ns, gi->gid[i]);
	if (nla_put_u32(msg, TAPSEC_A_HS_UID, from_kuid_munged(ns, cred->fsuid)) ||
	    nla_put_u32(msg, TAPSEC_A_HS_GID, from_kgid_munged(ns, cred->fsgid)) ||
	    (n && nla_put(msg, TAPSEC_A_HS_GROUPS, n * sizeof(u32), groups)))
		return -EMSGSIZE;
	return 0;
}

/* Reply to ACCEPT: the socket as the daemon sees it. */
static int tapsec_hs_fill(struct sk_buff *msg, struct tapsec_hs *hs, int fd)
{
	struct sock *sk = hs->sk;
	long left = (long)hs->deadline - (long)jiffies;
	struct nlattr *nest;

	nest = nla_nest_start(msg, TAPSEC_A_HS);
	if (!nest ||
	    nla_put_u32(msg, TAPSEC_A_HS_FD, fd) ||
	    nla_put_u32(msg, TAPSEC_A_HS_ROLE, hs->role) ||
	    nla_put_u32(msg, TAPSEC_A_HS_PROTOCOL, hs->ctx->protocol) ||
	    nla_put_u32(msg, TAPSEC_A_HS_TIMEOUT,
			left > 0 ? jiffies_to_msecs(left) : 1) ||
	    nla_put_u32(msg, TAPSEC_A_HS_VERIFY, hs->p.verify) ||
	    nla_put_u32(msg, TAPSEC_A_HS_SESSION_CACHE, hs->p.session_cache) ||
	    nla_put_u16(msg, TAPSEC_A_HS_VERSION_MIN, hs->p.vmin) ||
	    nla_put_u16(msg, TAPSEC_A_HS_VERSION_MAX, hs->p.vmax) ||
	    nla_put_u64_64bit(msg, TAPSEC_A_HS_INODE, sock_i_ino(sk),
			      TAPSEC_A_HS_PAD) ||
	    tapsec_nl_put_addr(msg, TAPSEC_A_HS_PEER, sk, true) ||
	    tapsec_hs_fill_cred(msg, hs->cred))
		return -EMSGSIZE;
	if ((hs->p.server_name[0] &&
	     nla_put_string(msg, TAPSEC_A_HS_SERVER_NAME, hs->p.server_name)) ||
	    (hs->p.alpn[0] &&
	     nla_put_string(msg, TAPSEC_A_HS_ALPN, hs->p.alpn)) ||
	    (hs->p.identity[0] &&
	     nla_put_string(msg, TAPSEC_A_HS_IDENTITY, hs->p.identity)) ||
	    (hs->p.trust[0] &&
	     nla_put_string(msg, TAPSEC_A_HS_TRUST, hs->p.trust)) ||
	    (hs->p.psk_identity[0] &&
	     nla_put_string(msg, TAPSEC_A_HS_PSK_IDENTITY,
			    hs->p.psk_identity)) ||
	    (hs->p.nciphers &&
	     nla_put(msg, TAPSEC_A_HS_CIPHERS, hs->p.nciphers * sizeof(u16),
		     hs->p.ciphers)))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

/**
 * tapsec_hs_nl_accept() - TAPSEC_CMD_HANDSHAKE_ACCEPT
 * @skb: the request
 * @info: its details
 *
 * Return: 0 with the reply sent, -ENOENT when nothing waits, or an errno.
 */
int tapsec_hs_nl_accept(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct tapsec_hs_net *hn = tapsec_hs_pernet(net);
	struct tapsec_hs *hs;
	struct file *file;
	struct sk_buff *msg;
	struct pid *owner;
	void *hdr;
	int fd, err;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	msg = tapsec_nl_reply(info, TAPSEC_CMD_HANDSHAKE_ACCEPT, &hdr);
	if (!msg || !hdr) {
		nlmsg_free(msg);
		put_unused_fd(fd);
		return -ENOMEM;
	}
	owner = get_pid(task_tgid(current));

	spin_lock_bh(&hn->lock);
	hs = list_first_entry_or_null(&hn->queue, struct tapsec_hs, node);
	if (hs) {
		list_move_tail(&hs->node, &hn->running);
		hn->pending--;
		file = hs->file;
		hs->file = NULL;
		hs->portid = info->snd_portid;
		hs->owner = owner;
		owner = NULL;
		WRITE_ONCE(hs->state, TAPSEC_HS_RUNNING);
	}
	spin_unlock_bh(&hn->lock);
	put_pid(owner);
	if (!hs) {
		nlmsg_free(msg);
		put_unused_fd(fd);
		return -ENOENT;
	}

	/*
	 * The parameters no longer change (pre-connection options only), and
	 * the socket stays alive: the daemon's descriptor holds it.
	 */
	err = tapsec_hs_fill(msg, hs, fd);
	if (err) {
		nlmsg_free(msg);
		put_unused_fd(fd);
		/* Unless the timeout ended it first. */
		tapsec_hs_end(hs, EPROTO, NULL,
			      "handshake parameters do not fit a message",
			      false);
		fput(file);	/* the daemon's, taken from the queue above */
		return err;
	}
	genlmsg_end(msg, hdr);
	fd_install(fd, file);
	return genlmsg_reply(msg, info);
}

/* Policy of TAPSEC_A_HS in requests (HANDSHAKE_DONE). */
const struct nla_policy tapsec_hs_nl_policy[TAPSEC_A_HS_MAX + 1] = {
	[TAPSEC_A_HS_FD] = { .type = NLA_U32 },
	[TAPSEC_A_HS_STATUS] = NLA_POLICY_MAX(NLA_U32, 4095),
	[TAPSEC_A_HS_REASON] = { .type = NLA_NUL_STRING,
				 .len = TAPSEC_REASON_LEN - 1 },
	[TAPSEC_A_HS_ALPN_NEGOTIATED] = { .type = NLA_NUL_STRING, .len = 63 },
	[TAPSEC_A_HS_PEER_IDENTITY] = { .type = NLA_NUL_STRING, .len = 255 },
	[TAPSEC_A_HS_RESUMED] = { .type = NLA_FLAG },
	[TAPSEC_A_HS_PEER_AUTH] = { .type = NLA_FLAG },
	[TAPSEC_A_HS_PSK] = { .type = NLA_FLAG },
	[TAPSEC_A_HS_PEER_CHAIN] = { .type = NLA_BINARY,
				     .len = TAPSEC_PEER_CHAIN_MAX },
};

/* The context of a tapsec stream or datagram socket, or NULL. */
static struct tapsec_ctx *tapsec_hs_sock_ctx(const struct socket *sock)
{
	if (tapsec_stream_is(sock))
		return tapsec_stream_ctx(sock->sk);
	if (tapsec_dgram_is(sock))
		return tapsec_dgram_sock_ctx(sock->sk);
	return NULL;
}

/* The tapsec socket behind the daemon's @fd, with a reference. */
static struct socket *tapsec_hs_lookup(int fd, int *err)
{
	struct socket *sock = sockfd_lookup(fd, err);

	if (!sock)
		return NULL;
	if (!tapsec_hs_sock_ctx(sock) ||
	    !READ_ONCE(tapsec_hs_sock_ctx(sock)->hs)) {
		sockfd_put(sock);
		*err = -EINVAL;
		return NULL;
	}
	return sock;
}

/*
 * Parse a request's TAPSEC_A_HS with @policy into @tb; it must hold the fd
 * and attribute @need.  Returns the socket behind the fd, with a reference,
 * or NULL with *@err set.
 */
static struct socket *tapsec_hs_nl_sock(struct genl_info *info,
					struct nlattr **tb,
					const struct nla_policy *policy,
					int need, int *err)
{
	if (!info->attrs[TAPSEC_A_HS]) {
		*err = -EINVAL;
		return NULL;
	}
	*err = nla_parse_nested(tb, TAPSEC_A_HS_MAX, info->attrs[TAPSEC_A_HS],
				policy, info->extack);
	if (*err)
		return NULL;
	if (!tb[TAPSEC_A_HS_FD] || !tb[need]) {
		*err = -EINVAL;
		return NULL;
	}
	return tapsec_hs_lookup(nla_get_u32(tb[TAPSEC_A_HS_FD]), err);
}

/*
 * The handshake of @sock if the caller of @info runs it: RUNNING, taken by
 * the caller's netlink port, in the caller's namespace.  Called under the
 * namespace's hs_lock, which keeps the answer true.
 */
static struct tapsec_hs *tapsec_hs_running(struct genl_info *info,
					   struct socket *sock)
{
	struct tapsec_hs *hs = tapsec_hs_sock_ctx(sock)->hs;

	if (hs->state == TAPSEC_HS_RUNNING && hs->portid == info->snd_portid &&
	    net_eq(sock_net(sock->sk), genl_info_net(info)))
		return hs;
	return NULL;
}

/* @v is within the socket's TAPSEC_VERSIONS (DTLS numbers run down). */
static bool tapsec_hs_version_allowed(const struct tapsec_hs *hs, u16 v)
{
	int r = tapsec_hs_version_rank(v);

	return r && (!hs->p.vmin || r >= tapsec_hs_version_rank(hs->p.vmin)) &&
	       (!hs->p.vmax || r <= tapsec_hs_version_rank(hs->p.vmax));
}

/* @c is in the socket's TAPSEC_CIPHERS, or that list is empty. */
static bool tapsec_hs_cipher_allowed(const struct tapsec_hs *hs, u16 c)
{
	unsigned int i;

	for (i = 0; i < hs->p.nciphers; i++)
		if (hs->p.ciphers[i] == c)
			return true;
	return !hs->p.nciphers;
}

/*
 * The keys the daemon installed are of a version and cipher the socket
 * allows: a daemon may not downgrade.  Keys of an engine without versions
 * (WireGuard) have a cipher only.  Under the socket lock.
 */
static bool tapsec_hs_keys_allowed(const struct tapsec_hs *hs,
				   const struct tapsec_ctx *ctx)
{
	bool versioned = tapsec_engine_of(ctx)->versioned;

	return (!versioned ||
		(tapsec_hs_version_allowed(hs, ctx->tx_version) &&
		 tapsec_hs_version_allowed(hs, ctx->rx_version))) &&
	       tapsec_hs_cipher_allowed(hs, ctx->tx_cipher) &&
	       tapsec_hs_cipher_allowed(hs, ctx->rx_cipher);
}

/* Both directions have keys, the socket lock held. */
static bool tapsec_hs_keyed(const struct tapsec_ctx *ctx)
{
	const struct tapsec_engine_ops *e = tapsec_engine_of(ctx);

	return e->keyed(ctx, true) && e->keyed(ctx, false);
}

/**
 * tapsec_hs_nl_done() - TAPSEC_CMD_HANDSHAKE_DONE
 * @skb: the request
 * @info: its details
 *
 * Return: 0, or -EINVAL for a socket this daemon is not running.
 */
int tapsec_hs_nl_done(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[TAPSEC_A_HS_MAX + 1];
	struct tapsec_hs_net *hn;
	struct tapsec_ctx *ctx;
	const char *reason = NULL;
	char alpn[64] = "", peer[256] = "";
	struct tapsec_hs *hs;
	struct socket *sock;
	u32 status, flags, chain_len = 0;
	bool bad_keys = false;
	u8 *chain = NULL;
	int err;

	sock = tapsec_hs_nl_sock(info, tb, tapsec_hs_nl_policy,
				 TAPSEC_A_HS_STATUS, &err);
	if (!sock)
		return err;
	ctx = tapsec_hs_sock_ctx(sock);
	hs = ctx->hs;
	hn = tapsec_hs_pernet(sock_net(sock->sk));
	status = nla_get_u32(tb[TAPSEC_A_HS_STATUS]);
	if (tb[TAPSEC_A_HS_REASON])
		reason = nla_data(tb[TAPSEC_A_HS_REASON]);

	if (tb[TAPSEC_A_HS_ALPN_NEGOTIATED])
		nla_strscpy(alpn, tb[TAPSEC_A_HS_ALPN_NEGOTIATED], sizeof(alpn));
	if (tb[TAPSEC_A_HS_PEER_IDENTITY])
		nla_strscpy(peer, tb[TAPSEC_A_HS_PEER_IDENTITY], sizeof(peer));
	if (!status && hs->p.verify == TAPSEC_VERIFY_DEFER &&
	    tb[TAPSEC_A_HS_PEER_CHAIN]) {
		chain_len = nla_len(tb[TAPSEC_A_HS_PEER_CHAIN]);
		chain = kmemdup(nla_data(tb[TAPSEC_A_HS_PEER_CHAIN]), chain_len,
				GFP_KERNEL);
		if (!chain)
			status = ENOMEM;
	}
	flags = (nla_get_flag(tb[TAPSEC_A_HS_RESUMED]) ? TAPSEC_HS_F_RESUMED : 0) |
		(nla_get_flag(tb[TAPSEC_A_HS_PEER_AUTH]) ? TAPSEC_HS_F_PEER_AUTH : 0) |
		(nla_get_flag(tb[TAPSEC_A_HS_PSK]) ? TAPSEC_HS_F_PSK : 0);
	/* Deferred: the daemon authenticated nothing, the application will. */
	if (hs->p.verify == TAPSEC_VERIFY_DEFER && !(flags & TAPSEC_HS_F_PSK))
		flags = (flags & ~TAPSEC_HS_F_PEER_AUTH) | TAPSEC_HS_F_VERDICT;

	/* The keys cannot change under the socket lock. */
	lock_sock(sock->sk);
	if (!status && !tapsec_hs_keyed(ctx)) {
		status = EPROTO;
		reason = "the daemon reported success without keys";
	} else if (!status && !tapsec_hs_keys_allowed(hs, ctx)) {
		status = EPROTO;
		reason = "the daemon installed a version or cipher the socket does not allow";
		bad_keys = true;
	} else if (status && !reason) {
		reason = "the handshake daemon reported a failure";
	}
	err = -EINVAL;
	spin_lock_bh(&hn->lock);
	if (tapsec_hs_running(info, sock)) {
		if (!status) {
			strscpy(hs->alpn_negotiated, alpn,
				sizeof(hs->alpn_negotiated));
			strscpy(hs->peer_identity, peer,
				sizeof(hs->peer_identity));
			hs->flags = flags;
			hs->chain = chain;
			hs->chain_len = chain_len;
			chain = NULL;
		}
		tapsec_hs_end_locked(hn, hs, status, reason);
		err = 0;
	}
	spin_unlock_bh(&hn->lock);
	if (!err && bad_keys)
		TAPSEC_COUNT(ctx, hs_bad_keys, 1);
	release_sock(sock->sk);
	kfree(chain);
	if (!err)
		tapsec_hs_finished(hs, NULL, false);
	sockfd_put(sock);
	if (err)
		NL_SET_ERR_MSG(info->extack,
			       "no handshake of this daemon on that socket");
	return err;
}

/*
 * TAPSEC_HANDSHAKE_PSK: the daemon running the socket's handshake reads
 * the key of a PSK the socket may use.  A client socket may only use its
 * own TAPSEC_PSK_IDENTITY; a server socket that one too, or any identity
 * of the store when it is TAPSEC_PSK_ANY; in every case the PSK's owners
 * must include the socket's (tapsec_psk_get()).  The key goes from the
 * store to the caller's buffer through memory wiped here.
 */
static int tapsec_hs_get_psk(struct tapsec_ctx *ctx, char __user *optval,
			     int __user *optlen)
{
	struct tapsec_hs *hs = READ_ONCE(ctx->hs);
	struct sock *sk = ctx->sk;
	struct tapsec_hs_net *hn = tapsec_hs_pernet(sock_net(sk));
	const struct cred *cred = NULL;
	struct tapsec_hs_psk *req;
	const char *want;
	u8 role = 0;
	int len, err;

	if (!ns_capable(sock_net(sk)->user_ns, CAP_NET_ADMIN))
		return -EPERM;
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < (int)sizeof(*req))
		return -EINVAL;
	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	err = -EFAULT;
	if (copy_from_user(req->identity, optval, sizeof(req->identity)))
		goto out;
	req->identity[TAPSEC_PSK_IDENTITY_MAX] = '\0';

	err = -EPERM;
	spin_lock_bh(&hn->lock);
	if (hs && tapsec_hs_raw(ctx)) {
		role = hs->role;
		cred = get_cred(hs->cred);
		err = 0;
	}
	spin_unlock_bh(&hn->lock);
	if (err)
		goto out;	/* not the daemon running this handshake */

	/* The parameters are fixed once the handshake was asked for. */
	want = hs->p.psk_identity;
	if (!want[0] || !req->identity[0] ||
	    (strcmp(want, req->identity) &&
	     (role != TAPSEC_ROLE_SERVER || strcmp(want, TAPSEC_PSK_ANY)))) {
		err = -EPERM;
		goto out;
	}
	err = tapsec_psk_get(sock_net(sk), req->identity, cred, req->key,
			     &req->key_len, &req->hash);
	if (err == -EACCES)
		TAPSEC_COUNT(ctx, psk_denied, 1);
	if (!err && (put_user((int)sizeof(*req), optlen) ||
		     copy_to_user(optval, req, sizeof(*req))))
		err = -EFAULT;
out:
	if (cred)
		put_cred(cred);
	kfree_sensitive(req);
	return err;
}

/*
 * A netlink socket was released: fail the handshakes its owner was
 * running, in case that was the daemon.
 */
static int tapsec_hs_netlink_event(struct notifier_block *nb,
				   unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;
	struct tapsec_hs_net *hn;
	struct tapsec_hs *hs, *tmp;
	LIST_HEAD(ended);

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !n->portid)
		return NOTIFY_DONE;
	hn = tapsec_hs_pernet(n->net);
	spin_lock_bh(&hn->lock);
	list_for_each_entry_safe(hs, tmp, &hn->running, node) {
		if (hs->portid != n->portid)
			continue;
		tapsec_hs_end_locked(hn, hs, ECONNABORTED,
				     "the handshake daemon went away");
		sock_hold(hs->sk);
		refcount_inc(&hs->ref);
		list_add_tail(&hs->node, &ended);
	}
	spin_unlock_bh(&hn->lock);
	list_for_each_entry_safe(hs, tmp, &ended, node) {
		struct sock *sk = hs->sk;

		list_del_init(&hs->node);
		tapsec_hs_finished(hs, NULL, false);
		tapsec_hs_put(hs);
		sock_put(sk);
	}
	return NOTIFY_DONE;
}

static struct notifier_block tapsec_hs_notifier = {
	.notifier_call = tapsec_hs_netlink_event,
};

static int __net_init tapsec_hs_net_init(struct net *net)
{
	struct tapsec_hs_net *hn = tapsec_hs_pernet(net);

	spin_lock_init(&hn->lock);
	INIT_LIST_HEAD(&hn->queue);
	INIT_LIST_HEAD(&hn->running);
	return 0;
}

static struct pernet_operations tapsec_hs_net_ops = {
	.init = tapsec_hs_net_init,
	.id = &tapsec_hs_net_id,
	.size = sizeof(struct tapsec_hs_net),
};

/**
 * tapsec_hs_init() - set up handshake delegation
 *
 * Return: 0 or a negative errno.
 */
int tapsec_hs_init(void)
{
	int err;

	tapsec_hs_wq = alloc_workqueue("tapsec_hs", 0, 0);
	if (!tapsec_hs_wq)
		return -ENOMEM;
	err = register_pernet_subsys(&tapsec_hs_net_ops);
	if (err)
		goto err_wq;
	err = netlink_register_notifier(&tapsec_hs_notifier);
	if (err)
		goto err_pernet;
	return 0;

err_pernet:
	unregister_pernet_subsys(&tapsec_hs_net_ops);
err_wq:
	destroy_workqueue(tapsec_hs_wq);
	return err;
}

/**
 * tapsec_hs_exit() - undo tapsec_hs_init()
 */
void tapsec_hs_exit(void)
{
	netlink_unregister_notifier(&tapsec_hs_notifier);
	unregister_pernet_subsys(&tapsec_hs_net_ops);
	destroy_workqueue(tapsec_hs_wq);
}
