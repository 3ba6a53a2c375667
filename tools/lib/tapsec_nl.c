// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace client of the "tapsec" generic netlink family (libnl-genl).
 */
#include <errno.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "tapsec_nl.h"

int tapsec_nl_open(struct tapsec_nl *nl)
{
	int err;

	memset(nl, 0, sizeof(*nl));
	nl->sock = nl_socket_alloc();
	if (!nl->sock)
		return -ENOMEM;
	err = genl_connect(nl->sock);
	if (err < 0)
		goto fail;
	nl->family = genl_ctrl_resolve(nl->sock, TAPSEC_GENL_NAME);
	if (nl->family < 0) {
		err = nl->family;
		goto fail;
	}
	return 0;
fail:
	nl_socket_free(nl->sock);
	nl->sock = NULL;
	/* libnl's own codes: the family is missing, or netlink is. */
	return err == -NLE_OBJ_NOTFOUND ? -ENOENT : -EPROTONOSUPPORT;
}

void tapsec_nl_close(struct tapsec_nl *nl)
{
	if (nl->sock)
		nl_socket_free(nl->sock);
	nl->sock = NULL;
}

struct reply {
	struct tapsec_info *info;
	int parsed;
};

static int get_info_cb(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *gnlh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[TAPSEC_A_MAX + 1];
	struct reply *r = arg;
	struct tapsec_info *info = r->info;

	if (nla_parse(tb, TAPSEC_A_MAX, genlmsg_attrdata(gnlh, 0),
		      genlmsg_attrlen(gnlh, 0), NULL) < 0)
		return NL_SKIP;
	if (tb[TAPSEC_A_VERSION])
		nla_strlcpy(info->version, tb[TAPSEC_A_VERSION],
			    sizeof(info->version));
	if (tb[TAPSEC_A_API_VERSION])
		info->api_version = nla_get_u32(tb[TAPSEC_A_API_VERSION]);
	if (tb[TAPSEC_A_FEATURES])
		info->features = nla_get_u64(tb[TAPSEC_A_FEATURES]);
	if (tb[TAPSEC_A_SOCKETS])
		info->sockets = nla_get_u32(tb[TAPSEC_A_SOCKETS]);
	if (tb[TAPSEC_A_SOCKETS_TOTAL])
		info->sockets_total = nla_get_u32(tb[TAPSEC_A_SOCKETS_TOTAL]);
	r->parsed = 1;
	return NL_OK;
}

static int error_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	int *ret = arg;

	(void)nla;
	*ret = e->error;
	return NL_STOP;
}

static int done_cb(struct nl_msg *msg, void *arg)
{
	int *ret = arg;

	(void)msg;
	*ret = 0;
	return NL_STOP;
}

/*
 * Send @msg and hand replies to @cb until the kernel's ack.  Returns 0 or
 * the exact -errno of the kernel's error message (libnl would fold it into
 * its own codes).
 */
static int transact(struct tapsec_nl *nl, struct nl_msg *msg,
		    nl_recvmsg_msg_cb_t cb, void *arg)
{
	struct nl_cb *cbs;
	int ret = 1, err;

	cbs = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cbs)
		return -ENOMEM;
	if (cb)
		nl_cb_set(cbs, NL_CB_VALID, NL_CB_CUSTOM, cb, arg);
	nl_cb_err(cbs, NL_CB_CUSTOM, error_cb, &ret);
	nl_cb_set(cbs, NL_CB_ACK, NL_CB_CUSTOM, done_cb, &ret);
	nl_cb_set(cbs, NL_CB_FINISH, NL_CB_CUSTOM, done_cb, &ret);
	err = nl_send_auto(nl->sock, msg);
	while (err >= 0 && ret > 0)
		err = nl_recvmsgs(nl->sock, cbs);
	nl_cb_put(cbs);
	if (err < 0 && ret > 0)
		return -EIO;
	return ret;
}

static int put_cmd(struct tapsec_nl *nl, struct nl_msg **msgp, uint8_t cmd,
		   int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return -ENOMEM;
	/* A dump ends with NLMSG_DONE; an ack would linger after it. */
	if ((flags & NLM_F_DUMP) != NLM_F_DUMP)
		flags |= NLM_F_ACK;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			 flags, cmd, TAPSEC_GENL_VERSION)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	*msgp = msg;
	return 0;
}

int tapsec_nl_get_info(struct tapsec_nl *nl, struct tapsec_info *info)
{
	struct reply r = { .info = info };
	struct nl_msg *msg;
	int err;

	memset(info, 0, sizeof(*info));
	err = put_cmd(nl, &msg, TAPSEC_CMD_GET_INFO, 0);
	if (err)
		return err;
	err = transact(nl, msg, get_info_cb, &r);
	nlmsg_free(msg);
	if (!err && !r.parsed)
		err = -EBADMSG;
	return err;
}

/* Fill @c from a TAPSEC_A_STATS-style nest: attribute i + 1 is field i. */
static void parse_stats(struct nlattr *nest, struct tapsec_counters *c)
{
	struct nlattr *tb[TAPSEC_A_STATS_MAX + 1];
	uint64_t *v = (uint64_t *)c;
	unsigned int i;

	memset(c, 0, sizeof(*c));
	if (!nest || nla_parse_nested(tb, TAPSEC_A_STATS_MAX, nest, NULL) < 0)
		return;
	for (i = 0; i < TAPSEC_NR_COUNTERS; i++)
		if (tb[TAPSEC_A_STATS_TX_RECORDS + i])
			v[i] = nla_get_u64(tb[TAPSEC_A_STATS_TX_RECORDS + i]);
}

struct stats_reply {
	struct tapsec_counters *c;
	int parsed;
};

static int get_stats_cb(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *gnlh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[TAPSEC_A_MAX + 1];
	struct stats_reply *r = arg;

	if (nla_parse(tb, TAPSEC_A_MAX, genlmsg_attrdata(gnlh, 0),
		      genlmsg_attrlen(gnlh, 0), NULL) < 0 || !tb[TAPSEC_A_STATS])
		return NL_SKIP;
	parse_stats(tb[TAPSEC_A_STATS], r->c);
	r->parsed = 1;
	return NL_OK;
}

int tapsec_nl_get_stats(struct tapsec_nl *nl, struct tapsec_counters *c)
{
	struct stats_reply r = { .c = c };
	struct nl_msg *msg;
	int err;

	err = put_cmd(nl, &msg, TAPSEC_CMD_GET_STATS, 0);
	if (err)
		return err;
	err = transact(nl, msg, get_stats_cb, &r);
	nlmsg_free(msg);
	if (!err && !r.parsed)
		err = -EBADMSG;
	return err;
}

struct sock_list {
	void (*fn)(const struct tapsec_sock_entry *e, void *arg);
	void *arg;
};

static void get_addr(struct nlattr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a && nla_len(a) <= (int)sizeof(*ss))
		memcpy(ss, nla_data(a), nla_len(a));
}

static int sock_list_cb(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *gnlh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[TAPSEC_A_MAX + 1];
	struct nlattr *sb[TAPSEC_A_SOCK_MAX + 1];
	struct sock_list *l = arg;
	struct tapsec_sock_entry e;

	if (nla_parse(tb, TAPSEC_A_MAX, genlmsg_attrdata(gnlh, 0),
		      genlmsg_attrlen(gnlh, 0), NULL) < 0 || !tb[TAPSEC_A_SOCK] ||
	    nla_parse_nested(sb, TAPSEC_A_SOCK_MAX, tb[TAPSEC_A_SOCK], NULL) < 0)
		return NL_SKIP;
	memset(&e, 0, sizeof(e));
#define U(attr, get) (sb[attr] ? get(sb[attr]) : 0)
	e.inode = U(TAPSEC_A_SOCK_INODE, nla_get_u64);
	e.family = U(TAPSEC_A_SOCK_FAMILY, nla_get_u16);
	e.type = U(TAPSEC_A_SOCK_TYPE, nla_get_u16);
	e.state = U(TAPSEC_A_SOCK_STATE, nla_get_u32);
	e.protocol = U(TAPSEC_A_SOCK_PROTOCOL, nla_get_u32);
	e.origin = U(TAPSEC_A_SOCK_ORIGIN, nla_get_u32);
	e.tx_version = U(TAPSEC_A_SOCK_TX_VERSION, nla_get_u16);
	e.tx_cipher = U(TAPSEC_A_SOCK_TX_CIPHER, nla_get_u16);
	e.rx_version = U(TAPSEC_A_SOCK_RX_VERSION, nla_get_u16);
	e.rx_cipher = U(TAPSEC_A_SOCK_RX_CIPHER, nla_get_u16);
	e.tx_key_age = sb[TAPSEC_A_SOCK_TX_KEY_AGE] ?
		       (int64_t)nla_get_u64(sb[TAPSEC_A_SOCK_TX_KEY_AGE]) : -1;
#undef U
	get_addr(sb[TAPSEC_A_SOCK_LOCAL], &e.local);
	get_addr(sb[TAPSEC_A_SOCK_PEER], &e.peer);
	parse_stats(sb[TAPSEC_A_SOCK_STATS], &e.counters);
	l->fn(&e, l->arg);
	return NL_OK;
}

/* Dump @cmd, each message to @cb. */
static int dump(struct tapsec_nl *nl, uint8_t cmd, nl_recvmsg_msg_cb_t cb,
		void *arg)
{
	struct nl_msg *msg;
	int err;

	err = put_cmd(nl, &msg, cmd, NLM_F_DUMP);
	if (err)
		return err;
	err = transact(nl, msg, cb, arg);
	nlmsg_free(msg);
	return err;
}

int tapsec_nl_sock_list(struct tapsec_nl *nl,
			void (*fn)(const struct tapsec_sock_entry *e, void *arg),
			void *arg)
{
	struct sock_list l = { .fn = fn, .arg = arg };

	return dump(nl, TAPSEC_CMD_SOCK_GET, sock_list_cb, &l);
}

int tapsec_nl_raw_cmd(struct tapsec_nl *nl, uint8_t cmd, int attr,
		      uint32_t val)
{
	struct nl_msg *msg;
	int err;

	err = put_cmd(nl, &msg, cmd, 0);
	if (err)
		return err;
	if (attr && nla_put_u32(msg, attr, val) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	err = transact(nl, msg, NULL, NULL);
	nlmsg_free(msg);
	return err;
}

int tapsec_nl_join(struct tapsec_nl *nl, const char *group)
{
	int grp = genl_ctrl_resolve_grp(nl->sock, TAPSEC_GENL_NAME, group);

	if (grp < 0)
		return -ENOENT;
	/* Notifications carry sequence number 0. */
	nl_socket_disable_seq_check(nl->sock);
	return nl_socket_add_membership(nl->sock, grp) < 0 ? -EIO : 0;
}

/* A binary attribute of __u32 ids into @ids, at most @max of them. */
static void get_ids(const struct nlattr *a, uint32_t *ids, unsigned int *n,
		    unsigned int max)
{
	unsigned int len;

	*n = 0;
	if (!a)
		return;
	len = nla_len(a) / sizeof(uint32_t);
	if (len > max)
		len = max;
	memcpy(ids, nla_data(a), len * sizeof(uint32_t));
	*n = len;
}

#define HS_STR(tb, attr, dst) \
	do { if (tb[attr]) nla_strlcpy(dst, tb[attr], sizeof(dst)); } while (0)

static int hs_accept_cb(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *gnlh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[TAPSEC_A_MAX + 1], *hb[TAPSEC_A_HS_MAX + 1];
	struct tapsec_hs_req *r = arg;

	if (nla_parse(tb, TAPSEC_A_MAX, genlmsg_attrdata(gnlh, 0),
		      genlmsg_attrlen(gnlh, 0), NULL) < 0 || !tb[TAPSEC_A_HS] ||
	    nla_parse_nested(hb, TAPSEC_A_HS_MAX, tb[TAPSEC_A_HS], NULL) < 0 ||
	    !hb[TAPSEC_A_HS_FD])
		return NL_SKIP;
	r->fd = nla_get_u32(hb[TAPSEC_A_HS_FD]);
#define U(a, get) (hb[a] ? get(hb[a]) : 0)
	r->role = U(TAPSEC_A_HS_ROLE, nla_get_u32);
	r->protocol = U(TAPSEC_A_HS_PROTOCOL, nla_get_u32);
	r->timeout_ms = U(TAPSEC_A_HS_TIMEOUT, nla_get_u32);
	r->verify = U(TAPSEC_A_HS_VERIFY, nla_get_u32);
	r->session_cache = U(TAPSEC_A_HS_SESSION_CACHE, nla_get_u32);
	r->version_min = U(TAPSEC_A_HS_VERSION_MIN, nla_get_u16);
	r->version_max = U(TAPSEC_A_HS_VERSION_MAX, nla_get_u16);
	r->inode = U(TAPSEC_A_HS_INODE, nla_get_u64);
	r->has_cred = hb[TAPSEC_A_HS_UID] && hb[TAPSEC_A_HS_GID];
	r->uid = U(TAPSEC_A_HS_UID, nla_get_u32);
	r->gid = U(TAPSEC_A_HS_GID, nla_get_u32);
#undef U
	get_ids(hb[TAPSEC_A_HS_GROUPS], r->groups, &r->ngroups,
		TAPSEC_HS_GROUPS_MAX);
	HS_STR(hb, TAPSEC_A_HS_SERVER_NAME, r->server_name);
	HS_STR(hb, TAPSEC_A_HS_ALPN, r->alpn);
	HS_STR(hb, TAPSEC_A_HS_IDENTITY, r->identity);
	HS_STR(hb, TAPSEC_A_HS_TRUST, r->trust);
	HS_STR(hb, TAPSEC_A_HS_PSK_IDENTITY, r->psk_identity);
	if (hb[TAPSEC_A_HS_CIPHERS]) {
		int n = nla_len(hb[TAPSEC_A_HS_CIPHERS]);

		if (n > (int)sizeof(r->ciphers))
			n = sizeof(r->ciphers);
		memcpy(r->ciphers, nla_data(hb[TAPSEC_A_HS_CIPHERS]), n);
		r->nciphers = n / sizeof(uint16_t);
	}
	get_addr(hb[TAPSEC_A_HS_PEER], &r->peer);
	return NL_OK;
}

int tapsec_nl_hs_accept(struct tapsec_nl *nl, struct tapsec_hs_req *req)
{
	struct nl_msg *msg;
	int err;

	memset(req, 0, sizeof(*req));
	req->fd = -1;
	err = put_cmd(nl, &msg, TAPSEC_CMD_HANDSHAKE_ACCEPT, 0);
	if (err)
		return err;
	err = transact(nl, msg, hs_accept_cb, req);
	nlmsg_free(msg);
	if (!err && req->fd < 0)
		return -EPROTO;
	return err;
}

int tapsec_nl_hs_done(struct tapsec_nl *nl, const struct tapsec_hs_result *r)
{
	struct nlattr *nest;
	struct nl_msg *msg;
	int err;

	err = put_cmd(nl, &msg, TAPSEC_CMD_HANDSHAKE_DONE, 0);
	if (err)
		return err;
	nest = nla_nest_start(msg, TAPSEC_A_HS);
	if (!nest || nla_put_u32(msg, TAPSEC_A_HS_FD, r->fd) < 0 ||
	    nla_put_u32(msg, TAPSEC_A_HS_STATUS, r->status) < 0 ||
	    (r->reason && nla_put_string(msg, TAPSEC_A_HS_REASON, r->reason) < 0) ||
	    (r->alpn && nla_put_string(msg, TAPSEC_A_HS_ALPN_NEGOTIATED,
				       r->alpn) < 0) ||
	    (r->peer_identity && nla_put_string(msg, TAPSEC_A_HS_PEER_IDENTITY,
						r->peer_identity) < 0) ||
	    (r->resumed && nla_put_flag(msg, TAPSEC_A_HS_RESUMED) < 0) ||
	    (r->peer_auth && nla_put_flag(msg, TAPSEC_A_HS_PEER_AUTH) < 0) ||
	    (r->psk && nla_put_flag(msg, TAPSEC_A_HS_PSK) < 0) ||
	    (r->chain && nla_put(msg, TAPSEC_A_HS_PEER_CHAIN, r->chain_len,
				 r->chain) < 0)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, nest);
	err = transact(nl, msg, NULL, NULL);
	nlmsg_free(msg);
	return err;
}

int tapsec_nl_psk_add(struct tapsec_nl *nl, const char *identity,
		      const void *key, size_t keylen, int hash)
{
	return tapsec_nl_psk_add_owned(nl, identity, key, keylen, hash, NULL);
}

int tapsec_nl_psk_add_owned(struct tapsec_nl *nl, const char *identity,
			    const void *key, size_t keylen, int hash,
			    const struct tapsec_psk_owners *own)
{
	struct nlattr *nest;
	struct nl_msg *msg;
	int err;

	err = put_cmd(nl, &msg, TAPSEC_CMD_PSK_ADD, 0);
	if (err)
		return err;
	nest = nla_nest_start(msg, TAPSEC_A_PSK);
	if (!nest || nla_put_string(msg, TAPSEC_A_PSK_IDENTITY, identity) < 0 ||
	    nla_put(msg, TAPSEC_A_PSK_KEY, keylen, key) < 0 ||
	    (hash >= 0 && nla_put_u32(msg, TAPSEC_A_PSK_HASH, hash) < 0) ||
	    (own && own->nuids &&
	     nla_put(msg, TAPSEC_A_PSK_UIDS, own->nuids * sizeof(uint32_t),
		     own->uids) < 0) ||
	    (own && own->ngids &&
	     nla_put(msg, TAPSEC_A_PSK_GIDS, own->ngids * sizeof(uint32_t),
		     own->gids) < 0)) {
		memset(nlmsg_hdr(msg), 0, nlmsg_hdr(msg)->nlmsg_len);
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, nest);
	err = transact(nl, msg, NULL, NULL);
	/* The message holds the key: wipe it before it goes back. */
	memset(nlmsg_hdr(msg), 0, nlmsg_hdr(msg)->nlmsg_len);
	nlmsg_free(msg);
	return err;
}

int tapsec_nl_psk_del(struct tapsec_nl *nl, const char *identity)
{
	struct nlattr *nest;
	struct nl_msg *msg;
	int err;

	err = put_cmd(nl, &msg, TAPSEC_CMD_PSK_DEL, 0);
	if (err)
		return err;
	nest = nla_nest_start(msg, TAPSEC_A_PSK);
	if (!nest || nla_put_string(msg, TAPSEC_A_PSK_IDENTITY, identity) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, nest);
	err = transact(nl, msg, NULL, NULL);
	nlmsg_free(msg);
	return err;
}

struct psk_list {
	void (*fn)(const struct tapsec_psk_entry *e, void *arg);
	void *arg;
};

/* The TAPSEC_A_PSK of @msg into @pb, which must hold attribute @need. */
static int parse_psk(struct nl_msg *msg, struct nlattr **pb, int need)
{
	struct genlmsghdr *gnlh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[TAPSEC_A_MAX + 1];

	if (nla_parse(tb, TAPSEC_A_MAX, genlmsg_attrdata(gnlh, 0),
		      genlmsg_attrlen(gnlh, 0), NULL) < 0 || !tb[TAPSEC_A_PSK] ||
	    nla_parse_nested(pb, TAPSEC_A_PSK_MAX, tb[TAPSEC_A_PSK], NULL) < 0 ||
	    !pb[need])
		return -1;
	return 0;
}

static int psk_list_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *pb[TAPSEC_A_PSK_MAX + 1];
	struct psk_list *l = arg;
	struct tapsec_psk_entry e;

	if (parse_psk(msg, pb, TAPSEC_A_PSK_IDENTITY))
		return NL_SKIP;
	memset(&e, 0, sizeof(e));
	nla_strlcpy(e.identity, pb[TAPSEC_A_PSK_IDENTITY], sizeof(e.identity));
	if (pb[TAPSEC_A_PSK_HASH])
		e.hash = nla_get_u32(pb[TAPSEC_A_PSK_HASH]);
	if (pb[TAPSEC_A_PSK_ADDED])
		e.added = nla_get_u64(pb[TAPSEC_A_PSK_ADDED]);
	get_ids(pb[TAPSEC_A_PSK_UIDS], e.owners.uids, &e.owners.nuids,
		TAPSEC_PSK_OWNERS_MAX);
	get_ids(pb[TAPSEC_A_PSK_GIDS], e.owners.gids, &e.owners.ngids,
		TAPSEC_PSK_OWNERS_MAX);
	l->fn(&e, l->arg);
	return NL_OK;
}

int tapsec_nl_psk_list(struct tapsec_nl *nl,
		       void (*fn)(const struct tapsec_psk_entry *e, void *arg),
		       void *arg)
{
	struct psk_list l = { .fn = fn, .arg = arg };

	return dump(nl, TAPSEC_CMD_PSK_GET, psk_list_cb, &l);
}

struct event_wait {
	uint8_t want;
	struct tapsec_event *ev;
	int got;
};

static int event_cb(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *gnlh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[TAPSEC_A_MAX + 1], *eb[TAPSEC_A_EVENT_MAX + 1];
	struct nlattr *hb[TAPSEC_A_HS_MAX + 1];
	struct event_wait *w = arg;
	struct tapsec_event *ev = w->ev;

	if (gnlh->cmd != TAPSEC_CMD_EVENT && gnlh->cmd != TAPSEC_CMD_HANDSHAKE_READY)
		return NL_SKIP;
	if (w->want && gnlh->cmd != w->want)
		return NL_SKIP;
	if (nla_parse(tb, TAPSEC_A_MAX, genlmsg_attrdata(gnlh, 0),
		      genlmsg_attrlen(gnlh, 0), NULL) < 0)
		return NL_SKIP;
	memset(ev, 0, sizeof(*ev));
	ev->cmd = gnlh->cmd;
	if (tb[TAPSEC_A_EVENT] &&
	    nla_parse_nested(eb, TAPSEC_A_EVENT_MAX, tb[TAPSEC_A_EVENT], NULL) >= 0) {
#define U(a, get) (eb[a] ? get(eb[a]) : 0)
		ev->type = U(TAPSEC_A_EVENT_TYPE, nla_get_u32);
		ev->inode = U(TAPSEC_A_EVENT_INODE, nla_get_u64);
		ev->error = U(TAPSEC_A_EVENT_ERROR, nla_get_u32);
		ev->lost = U(TAPSEC_A_EVENT_LOST, nla_get_u64);
#undef U
		HS_STR(eb, TAPSEC_A_EVENT_REASON, ev->reason);
	}
	if (tb[TAPSEC_A_HS] &&
	    nla_parse_nested(hb, TAPSEC_A_HS_MAX, tb[TAPSEC_A_HS], NULL) >= 0 &&
	    hb[TAPSEC_A_HS_PENDING])
		ev->pending = nla_get_u32(hb[TAPSEC_A_HS_PENDING]);
	w->got = 1;
	return NL_STOP;
}

static int no_seq_check(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

int tapsec_nl_next_event(struct tapsec_nl *nl, uint8_t cmd,
			 struct tapsec_event *ev)
{
	struct event_wait w = { .want = cmd, .ev = ev };
	struct nl_cb *cbs;
	int err = 0;

	cbs = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cbs)
		return -ENOMEM;
	/* Notifications carry sequence number 0: no check. */
	nl_cb_set(cbs, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, no_seq_check, NULL);
	nl_cb_set(cbs, NL_CB_VALID, NL_CB_CUSTOM, event_cb, &w);
	while (!w.got && err >= 0)
		err = nl_recvmsgs(nl->sock, cbs);
	nl_cb_put(cbs);
	if (w.got)
		return 0;
	/* A full receive buffer lost notifications: say so. */
	return err == -NLE_NOMEM ? -ENOBUFS : -EIO;
}
