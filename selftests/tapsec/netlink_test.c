// SPDX-License-Identifier: GPL-2.0
/*
 * The "tapsec" generic netlink family: GET_INFO contents, strict input
 * validation, per-network-namespace answers, and access for unprivileged
 * users to read-only commands; and /proc/net/tapsec_stat, which shows the
 * same counters.
 */
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tapsec_harness.h"
#include "tapsec_test.h"
#include "tapsec_nl.h"

FIXTURE(nl) {
	struct tapsec_nl nl;
};

FIXTURE_SETUP(nl)
{
	ASSERT_EQ(0, tapsec_nl_open(&self->nl));
}

FIXTURE_TEARDOWN(nl)
{
	tapsec_nl_close(&self->nl);
}

TEST_F(nl, get_info)
{
	struct tapsec_info info;

	ASSERT_EQ(0, tapsec_nl_get_info(&self->nl, &info));
	EXPECT_STREQ(TAPSEC_VERSION, info.version);	/* the file VERSION */
	EXPECT_EQ(TAPSEC_GENL_VERSION, info.api_version);
	EXPECT_EQ(TAPSEC_FEAT_STREAM | TAPSEC_FEAT_DGRAM | TAPSEC_FEAT_TCP_ULP |
		  TAPSEC_FEAT_INET6 | TAPSEC_FEAT_TLS | TAPSEC_FEAT_HANDSHAKE |
		  TAPSEC_FEAT_DTLS | TAPSEC_FEAT_ESP | TAPSEC_FEAT_WIREGUARD,
		  info.features);
	EXPECT_LE(info.sockets, info.sockets_total);
}

/* The counts follow sockets as they are created and closed. */
TEST_F(nl, socket_counts)
{
	struct tapsec_info before, during, after;
	int fds[3], i;

	ASSERT_EQ(0, tapsec_nl_get_info(&self->nl, &before));
	fds[0] = socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC);
	fds[1] = socket(AF_INET6, SOCK_DGRAM, IPPROTO_TAPSEC);
	fds[2] = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);	/* not ours */
	for (i = 0; i < 3; i++)
		ASSERT_LE(0, fds[i]);
	ASSERT_EQ(0, tapsec_nl_get_info(&self->nl, &during));
	EXPECT_EQ(before.sockets + 2, during.sockets);
	EXPECT_EQ(before.sockets_total + 2, during.sockets_total);
	for (i = 0; i < 3; i++)
		close(fds[i]);
	ASSERT_EQ(0, tapsec_nl_get_info(&self->nl, &after));
	EXPECT_EQ(before.sockets, after.sockets);
}

/* Per-namespace counters move with the sockets' own. */
TEST_F(nl, stats_follow_sockets)
{
	struct tapsec_counters before, after;
	int fd;

	ASSERT_EQ(0, tapsec_nl_get_stats(&self->nl, &before));
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, send(fd, "x", 1, 0));	/* no key: refused, counted */
	EXPECT_EQ(-1, send(fd, "x", 1, 0));
	close(fd);
	ASSERT_EQ(0, tapsec_nl_get_stats(&self->nl, &after));
	EXPECT_EQ(before.refused_nokey + 2, after.refused_nokey);
	EXPECT_EQ(before.tx_records, after.tx_records);
}

struct seen {
	uint64_t inode;
	int found;
	struct tapsec_sock_entry e;
};

static void find_sock(const struct tapsec_sock_entry *e, void *arg)
{
	struct seen *s = arg;

	if (e->inode == s->inode) {
		s->found++;
		s->e = *e;
	}
}

/* The socket dump lists each socket with its addresses and counters. */
TEST_F(nl, sock_dump)
{
	struct sockaddr_storage srv, me;
	socklen_t srvlen, melen = sizeof(me);
	struct seen s = {};
	struct stat st;
	int lfd, fd, i, fds[300];

	lfd = tt_plain_server(AF_INET6, SOCK_STREAM, &srv, &srvlen);
	ASSERT_LE(0, lfd);
	fd = socket(AF_INET6, SOCK_STREAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&srv, srvlen));
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&me, &melen));
	EXPECT_EQ(-1, send(fd, "x", 1, 0));
	/* Enough sockets that the dump spans several messages. */
	for (i = 0; i < 300; i++)
		fds[i] = socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC);
	ASSERT_EQ(0, fstat(fd, &st));
	s.inode = st.st_ino;
	ASSERT_EQ(0, tapsec_nl_sock_list(&self->nl, find_sock, &s));
	EXPECT_EQ(1, s.found);
	EXPECT_EQ(AF_INET6, s.e.family);
	EXPECT_EQ(SOCK_STREAM, s.e.type);
	EXPECT_EQ(TAPSEC_PROTO_TLS, s.e.protocol);
	EXPECT_EQ(TAPSEC_ORIGIN_SOCKET, s.e.origin);
	EXPECT_EQ(0, memcmp(&s.e.local, &me, melen));
	EXPECT_EQ(0, memcmp(&((struct sockaddr_in6 *)&s.e.peer)->sin6_addr,
			    &((struct sockaddr_in6 *)&srv)->sin6_addr, 16));
	EXPECT_EQ(1, s.e.counters.refused_nokey);
	for (i = 0; i < 300; i++)
		close(fds[i]);
	close(fd);
	close(lfd);
	/* The dump of a namespace without sockets is empty, not an error. */
	s.found = 0;
	EXPECT_EQ(0, tapsec_nl_sock_list(&self->nl, find_sock, &s));
	EXPECT_EQ(0, s.found);
}

/*
 * The transmit key's age is listed for every engine with one: ESP and
 * WireGuard keys have a cipher but no version.
 */
TEST_F(nl, sock_dump_sa_key_age)
{
	struct tapsec_wg_inner in = {
		.family = AF_INET, .local_port = 1, .peer_port = 2,
		.local_addr = { 10, 0, 0, 1 }, .peer_addr = { 10, 0, 0, 2 },
	};
	struct tapsec_esp_sa esa = {
		.spi = 0x1000, .cipher = TAPSEC_CIPHER_AES_GCM_128,
		.inner_sport = 1, .inner_dport = 2,
	};
	struct tapsec_wg_key wk = { .index = 7 };
	struct sockaddr_in sin = {
		.sin_family = AF_INET, .sin_port = htons(9),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int proto[2] = { TAPSEC_PROTO_ESP, TAPSEC_PROTO_WIREGUARD };
	const void *key[2] = { &esa, &wk };
	socklen_t key_len[2] = { sizeof(esa), sizeof(wk) };
	struct seen s = {};
	struct stat st;
	int i, fd;

	for (i = 0; i < 2; i++) {
		fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_PROTOCOL,
					&proto[i], sizeof(proto[i])));
		ASSERT_EQ(0, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
		/* WireGuard's keys need inner addresses; ESP has none. */
		EXPECT_EQ(proto[i] == TAPSEC_PROTO_WIREGUARD ? 0 : -1,
			  setsockopt(fd, SOL_TAPSEC, TAPSEC_WG_INNER, &in,
				     sizeof(in)));
		ASSERT_EQ(0, fstat(fd, &st));
		s.inode = st.st_ino;
		s.found = 0;
		ASSERT_EQ(0, tapsec_nl_sock_list(&self->nl, find_sock, &s));
		EXPECT_EQ(1, s.found);
		EXPECT_EQ(-1, s.e.tx_key_age);		/* no key yet */
		ASSERT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_TX, key[i],
					key_len[i]));
		s.found = 0;
		ASSERT_EQ(0, tapsec_nl_sock_list(&self->nl, find_sock, &s));
		EXPECT_EQ(1, s.found);
		EXPECT_EQ(proto[i], s.e.protocol);
		EXPECT_LE(0, s.e.tx_key_age);
		EXPECT_GE(2, s.e.tx_key_age);
		close(fd);
	}
}

/* Strict validation: attributes GET_INFO does not take are refused. */
TEST_F(nl, rejects_attributes)
{
	EXPECT_EQ(0, tapsec_nl_raw_cmd(&self->nl, TAPSEC_CMD_GET_INFO, 0, 0));
	EXPECT_EQ(-EINVAL, tapsec_nl_raw_cmd(&self->nl, TAPSEC_CMD_GET_INFO,
					     TAPSEC_A_SOCKETS, 1));
	EXPECT_EQ(-EINVAL, tapsec_nl_raw_cmd(&self->nl, TAPSEC_CMD_GET_INFO,
					     TAPSEC_A_MAX + 1, 1));
}

TEST_F(nl, unknown_command)
{
	EXPECT_EQ(-EOPNOTSUPP, tapsec_nl_raw_cmd(&self->nl, TAPSEC_CMD_MAX + 1, 0, 0));
	EXPECT_EQ(-EOPNOTSUPP, tapsec_nl_raw_cmd(&self->nl, TAPSEC_CMD_UNSPEC, 0, 0));
}

/* Each network namespace sees its own sockets. */
TEST_F(nl, per_netns)
{
	struct tapsec_info outer;
	int fd, status;
	pid_t pid;

	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tapsec_nl_get_info(&self->nl, &outer));
	ASSERT_LE(1, outer.sockets);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct tapsec_info inner;
		struct tapsec_nl nl;
		int ifd;

		if (unshare(CLONE_NEWNET) || tapsec_nl_open(&nl) ||
		    tapsec_nl_get_info(&nl, &inner))
			_exit(10);
		/*
		 * The total counts the parent's socket, alive throughout;
		 * not all of outer.sockets: datagram sockets the tests
		 * before closed leave the count after an RCU grace period.
		 */
		if (inner.sockets != 0 || inner.sockets_total < 1)
			_exit(11);
		ifd = socket(AF_INET6, SOCK_DGRAM, IPPROTO_TAPSEC);
		if (ifd < 0 || tapsec_nl_get_info(&nl, &inner) ||
		    inner.sockets != 1)
			_exit(12);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(fd);
}

/*
 * /proc/net/tapsec_stat: the namespace's sockets, then every counter of
 * struct tapsec_counters as "name value", the values GET_STATS gives.  In
 * a new namespace: one socket, two sends refused for want of a key.
 */
static int proc_stat_child(void)
{
	uint64_t nlv[sizeof(struct tapsec_counters) / sizeof(uint64_t)];
	struct tapsec_counters c;
	unsigned long long v;
	struct tapsec_nl nl;
	char name[64];
	int fd, n = 0;
	FILE *f;

	if (unshare(CLONE_NEWNET) || tapsec_nl_open(&nl))
		return 10;
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_TAPSEC);
	if (fd < 0 || send(fd, "x", 1, 0) != -1 || send(fd, "x", 1, 0) != -1)
		return 11;
	if (tapsec_nl_get_stats(&nl, &c))
		return 12;
	memcpy(nlv, &c, sizeof(nlv));
	f = fopen("/proc/net/tapsec_stat", "r");
	if (!f)
		return 13;
	if (fscanf(f, "%63s %llu", name, &v) != 2 || strcmp(name, "sockets") ||
	    v != 1)
		return 14;
	while (fscanf(f, "%63s %llu", name, &v) == 2) {
		if (n == ARRAY_SIZE(nlv) || v != nlv[n])
			return 15;
		if (!strcmp(name, "refused_nokey") !=
		    (n == offsetof(struct tapsec_counters, refused_nokey) / 8))
			return 16;
		n++;
	}
	if (n != ARRAY_SIZE(nlv) || c.refused_nokey != 2 || c.tx_records)
		return 17;
	return 0;
}

TEST_F(nl, proc_stat)
{
	struct stat st;
	int status;
	pid_t pid;

	ASSERT_EQ(0, stat("/proc/net/tapsec_stat", &st));
	EXPECT_EQ(0444, st.st_mode & 07777);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(proc_stat_child());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* Read-only commands need no privilege. */
TEST_F(nl, unprivileged_read)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct tapsec_info info;
		struct tapsec_nl nl;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		if (tapsec_nl_open(&nl) || tapsec_nl_get_info(&nl, &info))
			_exit(11);
		_exit(info.api_version == TAPSEC_GENL_VERSION ? 0 : 12);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TAPSEC_HARNESS_MAIN
