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

int tapsec_nl_get_info(struct tapsec_nl *nl, struct tapsec_info *info)
{
	struct reply r = { .info = info };
	struct nl_msg *msg;
	int err;

	memset(info, 0, sizeof(*info));
	msg = nlmsg_alloc();
	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			 NLM_F_ACK, TAPSEC_CMD_GET_INFO, TAPSEC_GENL_VERSION)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	err = transact(nl, msg, get_info_cb, &r);
	nlmsg_free(msg);
	if (!err && !r.parsed)
		err = -EBADMSG;
	return err;
}

int tapsec_nl_raw_cmd(struct tapsec_nl *nl, uint8_t cmd, int attr,
		      uint32_t val)
{
	struct nl_msg *msg;
	int err;

	msg = nlmsg_alloc();
	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			 NLM_F_ACK, cmd, TAPSEC_GENL_VERSION) ||
	    (attr && nla_put_u32(msg, attr, val) < 0)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	err = transact(nl, msg, NULL, NULL);
	nlmsg_free(msg);
	return err;
}
