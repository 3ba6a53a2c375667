// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec-handshaked: the handshake commands of the "tapsec" generic
 * netlink family (libnl-genl).
 *
 * Requests are answered by reading the socket directly rather than through
 * libnl's callbacks: the daemon needs the kernel's exact errno (ENOENT
 * means "nothing waiting") and must never drop an ACCEPT reply, which
 * carries a file descriptor already installed in this process.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "hs_netlink.h"

int hs_nl_open(struct hs_nl *h)
{
	int err = tapsec_nl_open(&h->nl);

	if (err)
		return err;
	/* Let nl_recv() size its buffer to the message, however long. */
	nl_socket_enable_msg_peek(h->nl.sock);
	pthread_mutex_init(&h->lock, NULL);
	return 0;
}

void hs_nl_close(struct hs_nl *h)
{
	if (!h->nl.sock)
		return;
	tapsec_nl_close(&h->nl);
	pthread_mutex_destroy(&h->lock);
}

int hs_nl_subscribe(struct tapsec_nl *nl)
{
	int grp, err, one = 1;

	grp = genl_ctrl_resolve_grp(nl->sock, TAPSEC_GENL_NAME,
				    TAPSEC_MCGRP_HANDSHAKE);
	if (grp < 0)
		return grp == -NLE_OBJ_NOTFOUND ? -ENOENT : -EPROTO;
	err = nl_socket_add_membership(nl->sock, grp);
	/* Only CAP_NET_ADMIN in the namespace's user namespace joins. */
	if (err < 0)
		return err == -NLE_PERM ? -EPERM : -EPROTO;
	/*
	 * A full receive buffer must not look like "no daemon": without
	 * this the kernel's multicast reaches nobody and reports ESRCH, and
	 * the handshake fails at once.  With it the kernel sees ENOBUFS and
	 * keeps the handshake queued; our next recv() reads ENOBUFS too and
	 * we take whatever is queued.
	 */
	if (setsockopt(nl_socket_get_fd(nl->sock), SOL_NETLINK,
		       NETLINK_BROADCAST_ERROR, &one, sizeof(one)) < 0)
		return -errno;
	return nl_socket_get_fd(nl->sock);
}

bool hs_nl_notified(struct tapsec_nl *nl)
{
	int fd = nl_socket_get_fd(nl->sock);
	char buf[8192];
	bool any = false;
	ssize_t n;

	/*
	 * The group carries TAPSEC_CMD_HANDSHAKE_READY only, and its content
	 * does not matter: the daemon takes handshakes until ENOENT anyway.
	 * ENOBUFS says notifications were lost, which means the same.
	 */
	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0 || (n < 0 && errno == ENOBUFS))
			any = true;
		else if (n == 0 || errno != EINTR)
			break;
	}
	return any;
}

static struct nl_msg *hs_nl_msg(struct hs_nl *hn, uint8_t cmd)
{
	/* Room for a TAPSEC_A_HS_PEER_CHAIN in HANDSHAKE_DONE. */
	struct nl_msg *msg = nlmsg_alloc_size(TAPSEC_PEER_CHAIN_MAX + 4096);

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, hn->nl.family,
				0, NLM_F_REQUEST | NLM_F_ACK, cmd,
				TAPSEC_GENL_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

/*
 * Send @msg, then read until the kernel acks it or fails it; replies of
 * the family in between go to @parse.  Returns 0 or a negative errno.
 */
static int hs_nl_transact(struct hs_nl *hn, struct nl_msg *msg,
			  void (*parse)(struct nlmsghdr *h, void *arg),
			  void *arg)
{
	struct sockaddr_nl from;
	struct nlmsghdr *h;
	unsigned char *buf;
	struct nlmsgerr *e;
	bool answered = false;
	uint32_t seq;
	int err = 0, n;

	pthread_mutex_lock(&hn->lock);
	if (nl_send_auto(hn->nl.sock, msg) < 0)
		err = -EIO;
	seq = nlmsg_hdr(msg)->nlmsg_seq;
	while (!err && !answered) {
		n = nl_recv(hn->nl.sock, &from, &buf, NULL);
		if (n <= 0) {
			err = -EIO;
			break;
		}
		for (h = (struct nlmsghdr *)buf; nlmsg_ok(h, n);
		     h = nlmsg_next(h, &n)) {
			if (h->nlmsg_seq != seq)
				continue;	/* not ours: a late answer */
			if (h->nlmsg_type == NLMSG_ERROR) {
				e = nlmsg_data(h);
				err = nlmsg_datalen(h) >= (int)sizeof(*e) ?
				      e->error : -EBADMSG;
				answered = true;
			} else if (h->nlmsg_type == hn->nl.family && parse) {
				parse(h, arg);
			}
		}
		free(buf);
	}
	pthread_mutex_unlock(&hn->lock);
	return err;
}

/*
 * Attribute readers for the ACCEPT reply.  A malformed attribute does not
 * stop the parse: the file descriptor must still be found and answered
 * for, so the request is only marked bad.
 */
static uint32_t get_u32(struct hs_request *req, struct nlattr *a,
			uint32_t def)
{
	if (!a)
		return def;
	if (nla_len(a) != sizeof(uint32_t)) {
		req->bad_request = EINVAL;
		return def;
	}
	return nla_get_u32(a);
}

static uint16_t get_u16(struct hs_request *req, struct nlattr *a)
{
	if (!a)
		return 0;
	if (nla_len(a) != sizeof(uint16_t)) {
		req->bad_request = EINVAL;
		return 0;
	}
	return nla_get_u16(a);
}

static char *get_str(struct hs_request *req, struct nlattr *a)
{
	char *s;

	if (!a)
		return NULL;
	s = strndup(nla_data(a), nla_len(a));
	if (!s)
		req->bad_request = ENOMEM;
	return s;
}

/* TAPSEC_A_HS_UID, _GID and _GROUPS: who asked for the handshake. */
static void get_cred(struct hs_request *req, struct nlattr **a)
{
	struct nlattr *g = a[TAPSEC_A_HS_GROUPS];
	int len = g ? nla_len(g) : 0;

	if (!a[TAPSEC_A_HS_UID] || !a[TAPSEC_A_HS_GID])
		return;
	/* Malformed: refused anyway (bad_request), and owned by no one. */
	req->uid = get_u32(req, a[TAPSEC_A_HS_UID], (uint32_t)-1);
	req->gid = get_u32(req, a[TAPSEC_A_HS_GID], (uint32_t)-1);
	if (len % sizeof(uint32_t) ||
	    len > (int)sizeof(req->groups)) {
		req->bad_request = EINVAL;
		return;
	}
	if (len)
		memcpy(req->groups, nla_data(g), len);
	req->n_groups = len / sizeof(uint32_t);
	req->has_cred = !req->bad_request;
}

static void get_peer(struct hs_request *req, struct nlattr *a)
{
	socklen_t len = sizeof(req->peer);

	if (a && nla_len(a) <= (int)sizeof(req->peer))
		memcpy(&req->peer, nla_data(a), nla_len(a));
	/* Without the attribute, ask the socket itself. */
	else if (getpeername(req->fd, (struct sockaddr *)&req->peer, &len))
		memset(&req->peer, 0, sizeof(req->peer));
	hs_format_addr(&req->peer, req->peer_str, sizeof(req->peer_str));
}

static void parse_accept(struct nlmsghdr *h, void *arg)
{
	struct genlmsghdr *g = nlmsg_data(h);
	struct nlattr *tb[TAPSEC_A_MAX + 1];
	struct nlattr *a[TAPSEC_A_HS_MAX + 1];
	struct hs_request *req = arg;
	unsigned int i;

	if (g->cmd != TAPSEC_CMD_HANDSHAKE_ACCEPT || req->fd >= 0 ||
	    genlmsg_parse(h, 0, tb, TAPSEC_A_MAX, NULL) < 0 ||
	    !tb[TAPSEC_A_HS] ||
	    nla_parse_nested(a, TAPSEC_A_HS_MAX, tb[TAPSEC_A_HS], NULL) < 0)
		return;
	req->fd = (int)get_u32(req, a[TAPSEC_A_HS_FD], (uint32_t)-1);
	if (req->fd < 0)
		return;
	if (!a[TAPSEC_A_HS_ROLE])
		req->bad_request = EINVAL;
	req->role = get_u32(req, a[TAPSEC_A_HS_ROLE], TAPSEC_ROLE_CLIENT);
	req->protocol = get_u32(req, a[TAPSEC_A_HS_PROTOCOL], TAPSEC_PROTO_TLS);
	req->timeout_ms = get_u32(req, a[TAPSEC_A_HS_TIMEOUT],
				  HS_DEFAULT_TIMEOUT_MS);
	req->verify = get_u32(req, a[TAPSEC_A_HS_VERIFY],
			      TAPSEC_VERIFY_DEFAULT);
	req->session_cache = get_u32(req, a[TAPSEC_A_HS_SESSION_CACHE],
				     TAPSEC_SESSION_CACHE_ON);
	req->server_name = get_str(req, a[TAPSEC_A_HS_SERVER_NAME]);
	req->alpn = get_str(req, a[TAPSEC_A_HS_ALPN]);
	req->identity = get_str(req, a[TAPSEC_A_HS_IDENTITY]);
	req->trust = get_str(req, a[TAPSEC_A_HS_TRUST]);
	req->psk_identity = get_str(req, a[TAPSEC_A_HS_PSK_IDENTITY]);
	req->version_min = get_u16(req, a[TAPSEC_A_HS_VERSION_MIN]);
	req->version_max = get_u16(req, a[TAPSEC_A_HS_VERSION_MAX]);
	if (a[TAPSEC_A_HS_CIPHERS]) {
		const uint16_t *c = nla_data(a[TAPSEC_A_HS_CIPHERS]);
		unsigned int n = nla_len(a[TAPSEC_A_HS_CIPHERS]) / sizeof(*c);

		/* Beyond HS_MAX_CIPHERS there can only be repeats. */
		for (i = 0; i < n && i < HS_MAX_CIPHERS; i++)
			memcpy(&req->ciphers[i], &c[i], sizeof(*c));
		req->n_ciphers = i;
	}
	if (a[TAPSEC_A_HS_INODE] && nla_len(a[TAPSEC_A_HS_INODE]) == 8)
		req->inode = nla_get_u64(a[TAPSEC_A_HS_INODE]);
	get_cred(req, a);
	get_peer(req, a[TAPSEC_A_HS_PEER]);
}

int hs_nl_accept(struct hs_nl *hn, struct hs_request **out)
{
	struct hs_request *req;
	struct nl_msg *msg;
	int err;

	req = calloc(1, sizeof(*req));
	msg = hs_nl_msg(hn, TAPSEC_CMD_HANDSHAKE_ACCEPT);
	if (!req || !msg) {
		free(req);
		nlmsg_free(msg);
		return -ENOMEM;
	}
	req->fd = -1;
	err = hs_nl_transact(hn, msg, parse_accept, req);
	nlmsg_free(msg);
	if (req->fd >= 0) {
		/* The socket is ours: whatever else failed, answer for it. */
		if (err && !req->bad_request)
			req->bad_request = EPROTO;
		*out = req;
		return 0;
	}
	hs_request_free(req);
	return err ? err : -EBADMSG;
}

/*
 * A request @cmd about the handshake on @fd: TAPSEC_A_HS started, with the
 * fd in it (*@nest NULL if that did not fit).  NULL when out of memory.
 */
static struct nl_msg *hs_nl_fd_msg(struct hs_nl *hn, uint8_t cmd, int fd,
				   struct nlattr **nest)
{
	struct nl_msg *msg = hs_nl_msg(hn, cmd);

	if (!msg)
		return NULL;
	*nest = nla_nest_start(msg, TAPSEC_A_HS);
	if (*nest && nla_put_u32(msg, TAPSEC_A_HS_FD, fd))
		*nest = NULL;
	return msg;
}

int hs_nl_done(struct hs_nl *hn, int fd, const struct hs_result *res)
{
	struct nlattr *nest;
	struct nl_msg *msg = hs_nl_fd_msg(hn, TAPSEC_CMD_HANDSHAKE_DONE, fd,
					  &nest);
	int err = -EMSGSIZE;

	if (!msg)
		return -ENOMEM;
	if (!nest || nla_put_u32(msg, TAPSEC_A_HS_STATUS, res->status))
		goto out;
	if (res->status) {
		if (nla_put_string(msg, TAPSEC_A_HS_REASON, res->reason))
			goto out;
	} else if ((res->alpn[0] &&
		    nla_put_string(msg, TAPSEC_A_HS_ALPN_NEGOTIATED,
				   res->alpn)) ||
		   (res->peer_identity[0] &&
		    nla_put_string(msg, TAPSEC_A_HS_PEER_IDENTITY,
				   res->peer_identity)) ||
		   (res->peer_auth &&
		    nla_put_flag(msg, TAPSEC_A_HS_PEER_AUTH)) ||
		   (res->resumed && nla_put_flag(msg, TAPSEC_A_HS_RESUMED)) ||
		   (res->psk && nla_put_flag(msg, TAPSEC_A_HS_PSK)) ||
		   (res->chain_len &&
		    nla_put(msg, TAPSEC_A_HS_PEER_CHAIN, res->chain_len,
			    res->chain))) {
		goto out;
	}
	nla_nest_end(msg, nest);
	err = hs_nl_transact(hn, msg, NULL, NULL);
out:
	nlmsg_free(msg);
	return err;
}
