// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: the store of external pre-shared keys, one per network namespace.
 *
 * An administrator adds, deletes and lists PSKs over netlink; a listing
 * never carries a key.  Each PSK has owners, the uids and gids that may
 * use it (uid 0 alone unless the administrator names others).  The only
 * way a key leaves the kernel is the TAPSEC_HANDSHAKE_PSK socket option
 * (tapsec_handshake.c), to the daemon running the handshake of a socket
 * that asked for that identity and whose owner is one of the PSK's.  Keys
 * are wiped when deleted, replaced, and when the namespace or the module
 * goes away, and in the PSK_ADD request once copied.
 */
#include <linux/cred.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "tapsec.h"

/**
 * struct tapsec_psk - one external PSK
 * @node: in the namespace's list
 * @identity: its identity, NUL terminated
 * @key: the key
 * @keylen: bytes of @key in use
 * @hash: enum tapsec_psk_hash
 * @added: ktime_get_boottime_seconds() when added
 * @nuids: entries in @uids
 * @uids: owners by user
 * @ngids: entries in @gids
 * @gids: owners by group
 */
struct tapsec_psk {
	struct list_head node;
	char identity[TAPSEC_PSK_IDENTITY_MAX + 1];
	u8 key[TAPSEC_PSK_KEY_MAX];
	u8 keylen;
	u32 hash;
	u64 added;
	u8 nuids;
	kuid_t uids[TAPSEC_PSK_OWNERS_MAX];
	u8 ngids;
	kgid_t gids[TAPSEC_PSK_OWNERS_MAX];
};

struct tapsec_psk_net {
	struct mutex lock;		/* list and count */
	struct list_head list;
	u32 count;
};

static unsigned int tapsec_psk_net_id __read_mostly;

static struct tapsec_psk_net *tapsec_psk_pernet(const struct net *net)
{
	return net_generic(net, tapsec_psk_net_id);
}

/* Policy of TAPSEC_A_PSK in PSK_ADD. */
const struct nla_policy tapsec_psk_nl_policy[TAPSEC_A_PSK_MAX + 1] = {
	[TAPSEC_A_PSK_IDENTITY] = { .type = NLA_NUL_STRING,
				    .len = TAPSEC_PSK_IDENTITY_MAX },
	[TAPSEC_A_PSK_KEY] = { .type = NLA_BINARY, .len = TAPSEC_PSK_KEY_MAX },
	[TAPSEC_A_PSK_HASH] = NLA_POLICY_MAX(NLA_U32, TAPSEC_PSK_HASH_SHA384),
	[TAPSEC_A_PSK_ADDED] = { .type = NLA_REJECT },
	[TAPSEC_A_PSK_PAD] = { .type = NLA_REJECT },
	[TAPSEC_A_PSK_UIDS] = { .type = NLA_BINARY,
				.len = TAPSEC_PSK_OWNERS_MAX * sizeof(u32) },
	[TAPSEC_A_PSK_GIDS] = { .type = NLA_BINARY,
				.len = TAPSEC_PSK_OWNERS_MAX * sizeof(u32) },
};

/* Policy of TAPSEC_A_PSK in PSK_DEL: the identity only. */
const struct nla_policy tapsec_psk_nl_del_policy[TAPSEC_A_PSK_MAX + 1] = {
	[TAPSEC_A_PSK_IDENTITY] = { .type = NLA_NUL_STRING,
				    .len = TAPSEC_PSK_IDENTITY_MAX },
	[TAPSEC_A_PSK_KEY] = { .type = NLA_REJECT },
	[TAPSEC_A_PSK_HASH] = { .type = NLA_REJECT },
	[TAPSEC_A_PSK_ADDED] = { .type = NLA_REJECT },
	[TAPSEC_A_PSK_PAD] = { .type = NLA_REJECT },
	[TAPSEC_A_PSK_UIDS] = { .type = NLA_REJECT },
	[TAPSEC_A_PSK_GIDS] = { .type = NLA_REJECT },
};

/* Called with the lock held. */
static struct tapsec_psk *tapsec_psk_find(struct tapsec_psk_net *pn,
					  const char *identity)
{
	struct tapsec_psk *psk;

	list_for_each_entry(psk, &pn->list, node)
		if (!strcmp(psk->identity, identity))
			return psk;
	return NULL;
}

/* Parse TAPSEC_A_PSK of a request; the identity is checked non-empty. */
static int tapsec_psk_parse(struct genl_info *info, struct nlattr **tb,
			    const struct nla_policy *policy)
{
	int err;

	if (!info->attrs[TAPSEC_A_PSK]) {
		NL_SET_ERR_MSG(info->extack, "missing TAPSEC_A_PSK");
		return -EINVAL;
	}
	err = nla_parse_nested(tb, TAPSEC_A_PSK_MAX, info->attrs[TAPSEC_A_PSK],
			       policy, info->extack);
	if (err)
		return err;
	if (!tb[TAPSEC_A_PSK_IDENTITY] ||
	    !*(char *)nla_data(tb[TAPSEC_A_PSK_IDENTITY])) {
		NL_SET_ERR_MSG(info->extack, "missing or empty PSK identity");
		return -EINVAL;
	}
	return 0;
}

/*
 * TAPSEC_A_PSK_UIDS or _GIDS of a request: ids of the caller's user
 * namespace, @gid says which kind.  Returns how many, or -EINVAL.
 */
static int tapsec_psk_owners(struct genl_info *info, const struct nlattr *a,
			     bool gid, kuid_t *uids, kgid_t *gids)
{
	struct user_namespace *ns = current_user_ns();
	const u32 *v = nla_data(a);
	int i, n = nla_len(a) / sizeof(u32);

	if (nla_len(a) % sizeof(u32)) {
		NL_SET_ERR_MSG_ATTR(info->extack, a, "not a list of 32-bit ids");
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (gid)
			gids[i] = make_kgid(ns, v[i]);
		else
			uids[i] = make_kuid(ns, v[i]);
		if (gid ? !gid_valid(gids[i]) : !uid_valid(uids[i])) {
			NL_SET_ERR_MSG_ATTR(info->extack, a,
					    "an id this namespace does not map");
			return -EINVAL;
		}
	}
	return n;
}

/* Fill @psk's owners from the request; uid 0 alone without any. */
static int tapsec_psk_set_owners(struct genl_info *info, struct nlattr **tb,
				 struct tapsec_psk *psk)
{
	int n;

	if (tb[TAPSEC_A_PSK_UIDS]) {
		n = tapsec_psk_owners(info, tb[TAPSEC_A_PSK_UIDS], false,
				      psk->uids, NULL);
		if (n < 0)
			return n;
		psk->nuids = n;
	}
	if (tb[TAPSEC_A_PSK_GIDS]) {
		n = tapsec_psk_owners(info, tb[TAPSEC_A_PSK_GIDS], true, NULL,
				      psk->gids);
		if (n < 0)
			return n;
		psk->ngids = n;
	}
	if (!psk->nuids && !psk->ngids) {
		psk->uids[0] = make_kuid(current_user_ns(), 0);
		psk->nuids = uid_valid(psk->uids[0]);
	}
	return 0;
}

/* Whether the owner of a file opened with @cred may use @psk. */
static bool tapsec_psk_may_use(const struct tapsec_psk *psk,
			       const struct cred *cred)
{
	const struct group_info *gi = cred->group_info;
	int i, j;

	for (i = 0; i < psk->nuids; i++)
		if (uid_eq(psk->uids[i], cred->fsuid))
			return true;
	for (i = 0; i < psk->ngids; i++) {
		if (gid_eq(psk->gids[i], cred->fsgid))
			return true;
		for (j = 0; j < gi->ngroups; j++)
			if (gid_eq(psk->gids[i], gi->gid[j]))
				return true;
	}
	return false;
}

/**
 * tapsec_psk_nl_add() - TAPSEC_CMD_PSK_ADD
 * @skb: the request
 * @info: its details
 *
 * A stored identity is not replaced: genetlink's strict checks refuse
 * NLM_F_REPLACE, so a new key means PSK_DEL, then PSK_ADD.
 *
 * Return: 0, -EEXIST for a known identity, -ENOSPC when the store is full,
 * -EINVAL for a bad identity or key.
 */
int tapsec_psk_nl_add(struct sk_buff *skb, struct genl_info *info)
{
	struct tapsec_psk_net *pn = tapsec_psk_pernet(genl_info_net(info));
	struct nlattr *tb[TAPSEC_A_PSK_MAX + 1];
	struct tapsec_psk *psk = NULL;
	struct nlattr *key;
	int err, len;

	err = tapsec_psk_parse(info, tb, tapsec_psk_nl_policy);
	if (err)
		return err;
	key = tb[TAPSEC_A_PSK_KEY];
	if (!key) {
		NL_SET_ERR_MSG(info->extack, "missing PSK key");
		return -EINVAL;
	}
	len = nla_len(key);
	err = -EINVAL;
	if (len < TAPSEC_PSK_KEY_MIN || len > TAPSEC_PSK_KEY_MAX) {
		NL_SET_ERR_MSG(info->extack, "PSK key length out of range");
		goto out;
	}
	err = -ENOMEM;
	psk = kzalloc(sizeof(*psk), GFP_KERNEL);
	if (!psk)
		goto out;
	nla_strscpy(psk->identity, tb[TAPSEC_A_PSK_IDENTITY],
		    sizeof(psk->identity));
	memcpy(psk->key, nla_data(key), len);
	psk->keylen = len;
	psk->hash = tb[TAPSEC_A_PSK_HASH] ?
		    nla_get_u32(tb[TAPSEC_A_PSK_HASH]) : TAPSEC_PSK_HASH_SHA256;
	psk->added = ktime_get_boottime_seconds();
	err = tapsec_psk_set_owners(info, tb, psk);
	if (err)
		goto out;

	mutex_lock(&pn->lock);
	if (tapsec_psk_find(pn, psk->identity)) {
		err = -EEXIST;
	} else if (pn->count >= TAPSEC_PSK_MAX) {
		err = -ENOSPC;
	} else {
		list_add_tail(&psk->node, &pn->list);
		pn->count++;
		psk = NULL;
	}
	mutex_unlock(&pn->lock);
	if (err == -EEXIST)
		NL_SET_ERR_MSG(info->extack, "PSK identity already stored");
out:
	/* The request is freed with its skb, unwiped: wipe its key now. */
	memzero_explicit(nla_data(key), nla_len(key));
	kfree_sensitive(psk);
	return err;
}

/**
 * tapsec_psk_nl_del() - TAPSEC_CMD_PSK_DEL
 * @skb: the request
 * @info: its details
 *
 * Return: 0, or -ENOENT for an unknown identity.
 */
int tapsec_psk_nl_del(struct sk_buff *skb, struct genl_info *info)
{
	struct tapsec_psk_net *pn = tapsec_psk_pernet(genl_info_net(info));
	struct nlattr *tb[TAPSEC_A_PSK_MAX + 1];
	struct tapsec_psk *psk;
	int err;

	err = tapsec_psk_parse(info, tb, tapsec_psk_nl_del_policy);
	if (err)
		return err;
	mutex_lock(&pn->lock);
	psk = tapsec_psk_find(pn, nla_data(tb[TAPSEC_A_PSK_IDENTITY]));
	if (psk) {
		list_del(&psk->node);
		pn->count--;
	}
	mutex_unlock(&pn->lock);
	if (!psk)
		return -ENOENT;
	kfree_sensitive(psk);
	return 0;
}

/* A PSK's owners as the dumping socket's user namespace names them. */
static int tapsec_psk_put_owners(struct sk_buff *skb,
				 const struct tapsec_psk *psk,
				 struct user_namespace *ns)
{
	u32 ids[TAPSEC_PSK_OWNERS_MAX];
	int i;

	for (i = 0; i < psk->nuids; i++)
		ids[i] = from_kuid_munged(ns, psk->uids[i]);
	if (psk->nuids &&
	    nla_put(skb, TAPSEC_A_PSK_UIDS, psk->nuids * sizeof(u32), ids))
		return -EMSGSIZE;
	for (i = 0; i < psk->ngids; i++)
		ids[i] = from_kgid_munged(ns, psk->gids[i]);
	if (psk->ngids &&
	    nla_put(skb, TAPSEC_A_PSK_GIDS, psk->ngids * sizeof(u32), ids))
		return -EMSGSIZE;
	return 0;
}

/**
 * tapsec_psk_nl_dump() - TAPSEC_CMD_PSK_GET: the store, without keys
 * @skb: the reply being filled
 * @cb: the dump's state; args[0] counts entries already sent
 *
 * Return: the reply's length, or a negative errno.
 */
int tapsec_psk_nl_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct user_namespace *ns = sk_user_ns(NETLINK_CB(cb->skb).sk);
	struct tapsec_psk_net *pn = tapsec_psk_pernet(sock_net(skb->sk));
	unsigned long i = 0, skip = cb->args[0];
	struct tapsec_psk *psk;
	struct nlattr *nest;
	void *hdr;
	int err = 0;

	mutex_lock(&pn->lock);
	list_for_each_entry(psk, &pn->list, node) {
		if (i++ < skip)
			continue;
		hdr = tapsec_nl_dump_put(skb, cb, TAPSEC_CMD_PSK_GET);
		nest = hdr ? nla_nest_start(skb, TAPSEC_A_PSK) : NULL;
		if (!nest ||
		    nla_put_string(skb, TAPSEC_A_PSK_IDENTITY, psk->identity) ||
		    nla_put_u32(skb, TAPSEC_A_PSK_HASH, psk->hash) ||
		    nla_put_u64_64bit(skb, TAPSEC_A_PSK_ADDED, psk->added,
				      TAPSEC_A_PSK_PAD) ||
		    tapsec_psk_put_owners(skb, psk, ns)) {
			if (hdr)
				genlmsg_cancel(skb, hdr);
			err = -EMSGSIZE;
			i--;
			break;
		}
		nla_nest_end(skb, nest);
		genlmsg_end(skb, hdr);
	}
	mutex_unlock(&pn->lock);
	cb->args[0] = i;
	/* A full message ends this part of the dump; the next goes on. */
	if (err && skb->len)
		return skb->len;
	return err ?: skb->len;
}

/**
 * tapsec_psk_get() - copy a stored PSK out for a socket's owner
 * @net: the namespace whose store to search
 * @identity: the PSK's identity
 * @cred: credentials of the socket's file, which must be among the
 *	PSK's owners
 * @key: receives the key, TAPSEC_PSK_KEY_MAX bytes of room
 * @keylen: receives its length
 * @hash: receives its enum tapsec_psk_hash
 *
 * The caller wipes @key when done with it.
 *
 * Return: 0, -ENOKEY for an unknown identity, -EACCES for a PSK @cred
 * may not use.
 */
int tapsec_psk_get(struct net *net, const char *identity,
		   const struct cred *cred, u8 *key, u32 *keylen, u32 *hash)
{
	struct tapsec_psk_net *pn = tapsec_psk_pernet(net);
	struct tapsec_psk *psk;
	int err = -ENOKEY;

	mutex_lock(&pn->lock);
	psk = tapsec_psk_find(pn, identity);
	if (psk && !tapsec_psk_may_use(psk, cred)) {
		err = -EACCES;
	} else if (psk) {
		memcpy(key, psk->key, psk->keylen);
		*keylen = psk->keylen;
		*hash = psk->hash;
		err = 0;
	}
	mutex_unlock(&pn->lock);
	return err;
}

static int __net_init tapsec_psk_net_init(struct net *net)
{
	struct tapsec_psk_net *pn = tapsec_psk_pernet(net);

	mutex_init(&pn->lock);
	INIT_LIST_HEAD(&pn->list);
	pn->count = 0;
	return 0;
}

static void __net_exit tapsec_psk_net_exit(struct net *net)
{
	struct tapsec_psk_net *pn = tapsec_psk_pernet(net);
	struct tapsec_psk *psk, *tmp;

	mutex_lock(&pn->lock);
	list_for_each_entry_safe(psk, tmp, &pn->list, node) {
		list_del(&psk->node);
		kfree_sensitive(psk);
	}
	pn->count = 0;
	mutex_unlock(&pn->lock);
}

static struct pernet_operations tapsec_psk_net_ops = {
	.init = tapsec_psk_net_init,
	.exit = tapsec_psk_net_exit,
	.id = &tapsec_psk_net_id,
	.size = sizeof(struct tapsec_psk_net),
};

/**
 * tapsec_psk_init() - set up the per-namespace PSK stores
 *
 * Return: 0 or a negative errno.
 */
int tapsec_psk_init(void)
{
	return register_pernet_subsys(&tapsec_psk_net_ops);
}

/**
 * tapsec_psk_exit() - wipe and free every namespace's store
 */
void tapsec_psk_exit(void)
{
	unregister_pernet_subsys(&tapsec_psk_net_ops);
}
