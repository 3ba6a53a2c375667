// SPDX-License-Identifier: GPL-2.0
/*
 * tapsecctl: control and inspect tapsec over its generic netlink family.
 *
 *   tapsecctl [-j] info       module version, features and live sockets
 *   tapsecctl [-j] stats      counters of this network namespace
 *   tapsecctl [-j] sock list  every tapsec socket of this namespace
 *   tapsecctl monitor [--count N]
 *                             handshake events, one JSON object a line
 *   tapsecctl psk add IDENTITY [--hash sha256|sha384] [--key-file FILE]
 *                 [--owner USER|@GROUP]...
 *                             store an external PSK, its key read in hex
 *                             from FILE or stdin (never the command line),
 *                             usable by the sockets of these owners (uid 0
 *                             alone when none is given)
 *   tapsecctl psk del IDENTITY
 *   tapsecctl psk load FILE   every PSK of a key file (tapsecctl_psk_file.c)
 *   tapsecctl [-j] psk list   stored PSKs: identity, hash, age, owners; no key
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <netlink/socket.h>

#include "tapsec_ids.h"
#include "tapsec_nl.h"
#include "tapsecctl_psk_file.h"

static const struct {
	uint64_t bit;
	const char *name;
} feature_names[] = {
	{ TAPSEC_FEAT_STREAM, "stream" },
	{ TAPSEC_FEAT_DGRAM, "dgram" },
	{ TAPSEC_FEAT_TCP_ULP, "tcp-ulp" },
	{ TAPSEC_FEAT_INET6, "inet6" },
	{ TAPSEC_FEAT_TLS, "tls" },
	{ TAPSEC_FEAT_HANDSHAKE, "handshake" },
	{ TAPSEC_FEAT_DTLS, "dtls" },
	{ TAPSEC_FEAT_ESP, "esp" },
	{ TAPSEC_FEAT_WIREGUARD, "wireguard" },
};

/* struct tapsec_counters, field by field. */
static const char *const counter_names[] = {
	"tx_records", "tx_bytes", "rx_records", "rx_bytes", "refused_nokey",
	"rx_bad_tag", "rx_bad_record", "rx_oversize", "rx_truncated",
	"key_exhausted", "close_notify_tx", "close_notify_rx",
	"hs_done", "hs_failed", "rx_post_handshake", "tx_key_updates",
	"rx_key_updates", "rx_replayed", "rx_bad_epoch", "tx_cookies",
	"rx_bad_cookie", "peer_moves", "tx_flight_resent", "rx_direct",
	"tx_direct", "rx_from_skb", "opt_refused", "psk_denied",
	"hs_bad_keys", "path_challenges", "moves_limited", "rx_bad_spi",
	"rx_misrouted",
};

_Static_assert(sizeof(counter_names) / sizeof(counter_names[0]) ==
	       TAPSEC_NR_COUNTERS, "a counter has no name");

static const char *const state_names[] = { "new", "established", "closed" };
static const char *const origin_names[] = { "socket", "ulp", "accept" };
static const char *const proto_names[] = {
	"none", "tls", "dtls", "esp", "wireguard",
};

#define NAME(table, i) \
	((i) < sizeof(table) / sizeof(table[0]) ? table[i] : "?")

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tapsecctl [-j|--json] COMMAND | --version\n"
		"\n"
		"commands:\n"
		"  info       module version, netlink API, features, live sockets\n"
		"  stats      counters of this network namespace\n"
		"  sock list  every tapsec socket of this namespace\n"
		"  monitor    handshake events of this namespace as they happen, one\n"
		"             JSON object a line; --count N: exit after N events\n"
		"  psk add IDENTITY [--hash sha256|sha384] [--key-file FILE]\n"
		"          [--owner USER|@GROUP]...\n"
		"             store an external PSK; the key (16 to 64 bytes) is\n"
		"             read in hex from FILE, or from stdin; only sockets\n"
		"             opened by an owner (a user, or a member of a group,\n"
		"             by name or number) may use it: uid 0 alone by default\n"
		"  psk del IDENTITY\n"
		"             delete a stored PSK\n"
		"  psk load FILE\n"
		"             store every PSK of FILE, a line each: IDENTITY HEX-KEY\n"
		"             [hash=sha256|sha384] [owner=USER|@GROUP]...; all or\n"
		"             nothing is checked first, same identities replaced\n"
		"  psk list   stored PSKs: identity, hash, age and owners, never the key\n"
		"  key-update INODE [--request]\n"
		"             send a TLS 1.3 KeyUpdate on the socket INODE (as sock\n"
		"             list shows it) of whichever process holds it;\n"
		"             --request asks the peer to update its key too\n"
		"  help       this text\n"
		"\n"
		"-j, --json  print JSON instead of text\n");
}

static void print_features(uint64_t features, int json)
{
	const char *sep = "";
	size_t i;

	for (i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++) {
		if (!(features & feature_names[i].bit))
			continue;
		printf(json ? "%s\"%s\"" : "%s%s", sep, feature_names[i].name);
		sep = json ? "," : " ";
	}
}

static int cmd_info(struct tapsec_nl *nl, int json)
{
	struct tapsec_info info;
	int err;

	err = tapsec_nl_get_info(nl, &info);
	if (err) {
		fprintf(stderr, "tapsecctl: info: %s\n", strerror(-err));
		return 1;
	}
	if (json) {
		printf("{\"version\":\"%s\",\"api\":%u,\"features\":[",
		       info.version, info.api_version);
		print_features(info.features, 1);
		printf("],\"sockets\":%u,\"sockets_total\":%u}\n",
		       info.sockets, info.sockets_total);
		return 0;
	}
	printf("tapsec %s (netlink API %u)\n", info.version, info.api_version);
	printf("features: ");
	print_features(info.features, 0);
	printf("\nsockets: %u in this netns, %u in all\n", info.sockets,
	       info.sockets_total);
	return 0;
}

static void print_counters(const struct tapsec_counters *c, int json,
			   const char *indent)
{
	const uint64_t *v = (const uint64_t *)c;
	size_t i;

	for (i = 0; i < TAPSEC_NR_COUNTERS; i++) {
		if (json)
			printf("%s\"%s\":%llu", i ? "," : "", counter_names[i],
			       (unsigned long long)v[i]);
		else
			printf("%s%-16s %llu\n", indent, counter_names[i],
			       (unsigned long long)v[i]);
	}
}

static int cmd_stats(struct tapsec_nl *nl, int json)
{
	struct tapsec_counters c;
	int err;

	err = tapsec_nl_get_stats(nl, &c);
	if (err) {
		fprintf(stderr, "tapsecctl: stats: %s\n", strerror(-err));
		return 1;
	}
	if (json)
		printf("{");
	print_counters(&c, json, "");
	if (json)
		printf("}\n");
	return 0;
}

static const char *addr_str(const struct sockaddr_storage *ss, char *buf,
			    size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		port = ntohs(sin->sin_port);
		snprintf(buf, len, "%s:%u", ip, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		port = ntohs(sin6->sin6_port);
		snprintf(buf, len, "[%s]:%u", ip, port);
	} else {
		snprintf(buf, len, "-");
	}
	return buf;
}

static const char *version_str(uint16_t v)
{
	switch (v) {
	case TAPSEC_TLS_1_2_VERSION: return "tls1.2";
	case TAPSEC_TLS_1_3_VERSION: return "tls1.3";
	case 0: return "-";
	default: return "?";
	}
}

static const char *cipher_str(uint16_t c)
{
	switch (c) {
	case TAPSEC_CIPHER_AES_GCM_128: return "aes-128-gcm";
	case TAPSEC_CIPHER_AES_GCM_256: return "aes-256-gcm";
	case TAPSEC_CIPHER_CHACHA20_POLY1305: return "chacha20-poly1305";
	case 0: return "-";
	default: return "?";
	}
}

static void print_sock(const struct tapsec_sock_entry *e, void *arg)
{
	char local[80], peer[80];
	int json = *(int *)arg;

	addr_str(&e->local, local, sizeof(local));
	addr_str(&e->peer, peer, sizeof(peer));
	if (json) {
		printf("{\"inode\":%llu,\"type\":\"%s\",\"state\":\"%s\","
		       "\"protocol\":\"%s\",\"origin\":\"%s\","
		       "\"local\":\"%s\",\"peer\":\"%s\","
		       "\"tx\":\"%s %s\",\"rx\":\"%s %s\",\"tx_key_age\":%lld,"
		       "\"counters\":{",
		       (unsigned long long)e->inode,
		       e->type == SOCK_STREAM ? "stream" : "dgram",
		       NAME(state_names, e->state),
		       NAME(proto_names, e->protocol),
		       NAME(origin_names, e->origin), local, peer,
		       version_str(e->tx_version), cipher_str(e->tx_cipher),
		       version_str(e->rx_version), cipher_str(e->rx_cipher),
		       (long long)e->tx_key_age);
		print_counters(&e->counters, 1, "");
		printf("}}\n");
		return;
	}
	printf("inode %llu %s %s %s from %s: %s -> %s\n",
	       (unsigned long long)e->inode,
	       e->type == SOCK_STREAM ? "stream" : "dgram",
	       NAME(proto_names, e->protocol), NAME(state_names, e->state),
	       NAME(origin_names, e->origin), local, peer);
	printf("  tx %s %s, rx %s %s", version_str(e->tx_version),
	       cipher_str(e->tx_cipher), version_str(e->rx_version),
	       cipher_str(e->rx_cipher));
	if (e->tx_key_age >= 0)
		printf(", tx key age %llds", (long long)e->tx_key_age);
	putchar('\n');
	print_counters(&e->counters, 0, "  ");
}

/*
 * The words after COMMAND have the command's shape (checked before netlink
 * is opened, so a mistake is told as such even without the module); says
 * what is wrong.  cmd_*() check the values.
 */
static bool args_shaped(const char *cmd, int argc, char **argv)
{
	const char *sub = argc ? argv[0] : "";

	if (!strcmp(cmd, "info") || !strcmp(cmd, "stats")) {
		if (!argc)
			return true;
		fprintf(stderr, "tapsecctl: %s takes no arguments ('%s')\n",
			cmd, argv[0]);
		return false;
	}
	if (!strcmp(cmd, "sock")) {
		if (argc == 1 && !strcmp(sub, "list"))
			return true;
		fprintf(stderr, "tapsecctl: usage: sock list\n");
		return false;
	}
	if (!strcmp(cmd, "psk")) {
		if ((argc == 1 && !strcmp(sub, "list")) ||
		    (argc == 2 && (!strcmp(sub, "add") || !strcmp(sub, "del") ||
				   !strcmp(sub, "load"))))
			return true;
		fprintf(stderr, "tapsecctl: usage: psk add IDENTITY [--hash sha256|sha384] [--key-file FILE] [--owner USER|@GROUP]... | psk del IDENTITY | psk load FILE | psk list\n");
		return false;
	}
	return true;
}

static int cmd_sock(struct tapsec_nl *nl, int json, int argc, char **argv)
{
	int err;

	if (argc != 1 || strcmp(argv[0], "list")) {
		fprintf(stderr, "tapsecctl: usage: sock list\n");
		return 2;
	}
	err = tapsec_nl_sock_list(nl, print_sock, &json);
	if (err) {
		fprintf(stderr, "tapsecctl: sock list: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}

/* @s as a JSON string: escaped, and invalid UTF-8 replaced by U+FFFD. */
static void print_json_string(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	while (*p) {
		unsigned char c = *p;
		int n = c >= 0xf5 ? 0 : c >= 0xf0 ? 3 : c >= 0xe0 ? 2 :
			c >= 0xc2 ? 1 : 0, i;

		if (c == '"' || c == '\\') {
			printf("\\%c", c);
		} else if (c < 0x20 || c == 0x7f) {
			printf("\\u%04x", c);
		} else if (c < 0x80) {
			putchar(c);
		} else {
			/* A lead byte and its continuation bytes, or U+FFFD. */
			for (i = 1; i <= n && (p[i] & 0xc0) == 0x80; i++)
				;
			if (!n || i <= n ||
			    (c == 0xe0 && p[1] < 0xa0) ||	/* overlong */
			    (c == 0xed && p[1] >= 0xa0) ||	/* surrogate */
			    (c == 0xf0 && p[1] < 0x90) ||	/* overlong */
			    (c == 0xf4 && p[1] >= 0x90)) {	/* > U+10FFFF */
				fputs("\\ufffd", stdout);
			} else {
				fwrite(p, 1, n + 1, stdout);
				p += n;
			}
		}
		p++;
	}
	putchar('"');
}

static void print_event(const struct tapsec_event *ev)
{
	static const char *const names[] = {
		[TAPSEC_EVENT_HANDSHAKE_DONE] = "handshake-done",
		[TAPSEC_EVENT_HANDSHAKE_FAILED] = "handshake-failed",
		[TAPSEC_EVENT_CLOSED] = "closed",
		[TAPSEC_EVENT_KEY_UPDATED] = "key-updated",
		[TAPSEC_EVENT_KEY_EXPIRING] = "key-expiring",
		[TAPSEC_EVENT_PEER_MOVED] = "peer-moved",
	};
	const char *name = ev->type < sizeof(names) / sizeof(names[0]) ?
			   names[ev->type] : NULL;
	const char *err = ev->error ? strerrorname_np(ev->error) : NULL;

	if (name)
		printf("{\"event\":\"%s\"", name);
	else
		printf("{\"event\":\"unknown\",\"type\":%u", ev->type);
	printf(",\"inode\":%llu", (unsigned long long)ev->inode);
	if (ev->error || ev->type == TAPSEC_EVENT_HANDSHAKE_FAILED) {
		fputs(",\"error\":", stdout);
		if (err)
			print_json_string(err);
		else
			fputs("null", stdout);
		printf(",\"errno\":%u", ev->error);
	}
	if (ev->reason[0] || ev->type == TAPSEC_EVENT_HANDSHAKE_FAILED) {
		fputs(",\"reason\":", stdout);
		print_json_string(ev->reason);
	}
	if (ev->lost)
		printf(",\"lost\":%llu", (unsigned long long)ev->lost);
	puts("}");
}

/* Print events until @count of them (0: forever), or an error. */
static int cmd_monitor(struct tapsec_nl *nl, long count)
{
	struct tapsec_event ev;
	long seen = 0;
	int err, one = 1;

	/*
	 * Without it the kernel cannot tell an event we could not take from
	 * one nobody listened to, and never reports it lost.
	 */
	setsockopt(nl_socket_get_fd(nl->sock), SOL_NETLINK,
		   NETLINK_BROADCAST_ERROR, &one, sizeof(one));
	err = tapsec_nl_join(nl, TAPSEC_MCGRP_EVENTS);
	if (err) {
		fprintf(stderr, "tapsecctl: monitor: cannot join the events group: %s\n",
			strerror(-err));
		return 1;
	}
	/*
	 * tapsec_nl_next_event() reads with fresh callbacks, which keep
	 * libnl's sequence check and would refuse every notification
	 * (sequence 0); libnl checks none without auto-ack.
	 */
	nl_socket_disable_auto_ack(nl->sock);
	while (!count || seen < count) {
		err = tapsec_nl_next_event(nl, TAPSEC_CMD_EVENT, &ev);
		if (err == -ENOBUFS) {
			puts("{\"event\":\"overflow\"}");
		} else if (err) {
			fprintf(stderr, "tapsecctl: monitor: %s\n", strerror(-err));
			return 1;
		} else {
			print_event(&ev);
			seen++;
		}
		if (fflush(stdout))
			return 1;
	}
	return 0;
}

static const char *const psk_hash_names[] = { "sha256", "sha384" };

/*
 * Read a hex key from @f into @key: whitespace and a trailing newline are
 * allowed, nothing else.  Returns its length, or -1.
 */
static int read_hex_key(FILE *f, uint8_t *key)
{
	char buf[4 * TAPSEC_PSK_KEY_MAX + 2];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	int len = -1;

	if (!ferror(f) && n < sizeof(buf) - 1)
		len = tapsecctl_parse_hex(buf, n, key, TAPSEC_PSK_KEY_MAX);
	explicit_bzero(buf, sizeof(buf));
	return len;
}

/*
 * Parse an --owner: a user (name or uid) or @group (name or gid) into @own.
 * Returns 0, or -1 with a message.
 */
static int add_owner(struct tapsec_psk_owners *own, const char *arg)
{
	int group = arg[0] == '@';
	int err = tapsecctl_owners_add(own, arg);

	if (err == -ENOSPC)
		fprintf(stderr, "tapsecctl: at most %d users and %d groups own a PSK\n",
			TAPSEC_PSK_OWNERS_MAX, TAPSEC_PSK_OWNERS_MAX);
	else if (err)
		fprintf(stderr, "tapsecctl: --owner: %s %s '%s'\n",
			err == -ENOENT ? "no" : "bad",
			group ? "group" : "user", arg + group);
	return err ? -1 : 0;
}

static void print_ids(const char *sep, const char *prefix,
		      const uint32_t *ids, unsigned int n, int *first)
{
	unsigned int i;

	for (i = 0; i < n; i++, *first = 0)
		printf("%s%s%u", *first ? "" : sep, prefix, ids[i]);
}

static void print_psk(const struct tapsec_psk_entry *e, void *arg)
{
	int json = *(int *)arg, first = 1;
	struct timespec now;
	long long age = 0;

	if (!clock_gettime(CLOCK_BOOTTIME, &now) &&
	    (unsigned long long)now.tv_sec >= e->added)
		age = now.tv_sec - (long long)e->added;
	if (json) {
		fputs("{\"identity\":", stdout);
		print_json_string(e->identity);
		printf(",\"hash\":\"%s\",\"age\":%lld,\"uids\":[",
		       NAME(psk_hash_names, e->hash), age);
		print_ids(",", "", e->owners.uids, e->owners.nuids, &first);
		fputs("],\"gids\":[", stdout);
		first = 1;
		print_ids(",", "", e->owners.gids, e->owners.ngids, &first);
		fputs("]}\n", stdout);
	} else {
		printf("%s hash %s age %llds owners ", e->identity,
		       NAME(psk_hash_names, e->hash), age);
		print_ids(" ", "", e->owners.uids, e->owners.nuids, &first);
		print_ids(" ", "@", e->owners.gids, e->owners.ngids, &first);
		putchar('\n');
	}
}

static int cmd_psk(struct tapsec_nl *nl, int json, int argc, char **argv,
		   int hash, const char *key_file,
		   const struct tapsec_psk_owners *own)
{
	uint8_t key[TAPSEC_PSK_KEY_MAX];
	const char *sub = argc ? argv[0] : "";
	FILE *f = stdin;
	int err, len;

	int add_only = hash >= 0 || key_file || own->nuids || own->ngids;

	if (!strcmp(sub, "list") && argc == 1 && !add_only) {
		err = tapsec_nl_psk_list(nl, print_psk, &json);
	} else if (!strcmp(sub, "del") && argc == 2 && !add_only) {
		err = tapsec_nl_psk_del(nl, argv[1]);
	} else if (!strcmp(sub, "add") && argc == 2) {
		if (key_file) {
			f = fopen(key_file, "r");
			if (!f) {
				fprintf(stderr, "tapsecctl: %s: %s\n", key_file,
					strerror(errno));
				return 1;
			}
		}
		len = read_hex_key(f, key);
		if (key_file)
			fclose(f);
		if (len < TAPSEC_PSK_KEY_MIN) {
			memset(key, 0, sizeof(key));
			fprintf(stderr, "tapsecctl: psk add: the key must be %d to %d bytes in hex\n",
				TAPSEC_PSK_KEY_MIN, TAPSEC_PSK_KEY_MAX);
			return 1;
		}
		err = tapsec_nl_psk_add_owned(nl, argv[1], key, len, hash, own);
		memset(key, 0, sizeof(key));
	} else {
		fprintf(stderr, "tapsecctl: usage: psk add IDENTITY [--hash sha256|sha384] [--key-file FILE] [--owner USER|@GROUP]... | psk del IDENTITY | psk load FILE | psk list\n");
		return 2;
	}
	if (err) {
		fprintf(stderr, "tapsecctl: psk %s: %s\n", sub, strerror(-err));
		return 1;
	}
	return 0;
}

/*
 * A duplicate of the descriptor some process holds socket @inode by, found
 * as ss -p finds it, taken with pidfd_getfd() (which needs ptrace rights
 * over that process: root).  Returns it, or -1 with errno set (ENOENT:
 * no process holds it).
 */
static int sock_by_inode(unsigned long long inode)
{
	char want[48], path[64], link[48];
	int fd = -1, err = ENOENT;
	struct dirent *p, *f;
	DIR *proc, *fds;
	ssize_t n;

	snprintf(want, sizeof(want), "socket:[%llu]", inode);
	proc = opendir("/proc");
	if (!proc)
		return -1;
	while (fd < 0 && (p = readdir(proc))) {
		char *end;
		long pid = strtol(p->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while (fd < 0 && (f = readdir(fds))) {
			long num = strtol(f->d_name, &end, 10);
			int pidfd;

			if (*end || num < 0)
				continue;
			n = readlinkat(dirfd(fds), f->d_name, link,
				       sizeof(link) - 1);
			if (n < 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, want))
				continue;
			pidfd = syscall(SYS_pidfd_open, (pid_t)pid, 0);
			if (pidfd >= 0) {
				fd = syscall(SYS_pidfd_getfd, pidfd, (int)num, 0);
				err = errno;
				close(pidfd);
			} else {
				err = errno;
			}
			if (fd < 0)	/* gone meanwhile, or not ours */
				break;
		}
		closedir(fds);
	}
	closedir(proc);
	if (fd < 0)
		errno = err;
	return fd;
}

static int cmd_key_update(int argc, char **argv, int request)
{
	int val = request ? TAPSEC_KEY_UPDATE_REQUESTED :
			    TAPSEC_KEY_UPDATE_NOT_REQUESTED;
	unsigned long long inode;
	char *end;
	int fd;

	if (argc != 1) {
		fprintf(stderr, "tapsecctl: usage: key-update INODE [--request]\n");
		return 2;
	}
	errno = 0;
	inode = strtoull(argv[0], &end, 10);
	if (errno || *end || end == argv[0] || !inode) {
		fprintf(stderr, "tapsecctl: key-update: bad inode '%s'\n",
			argv[0]);
		return 2;
	}
	fd = sock_by_inode(inode);
	if (fd < 0) {
		fprintf(stderr, "tapsecctl: key-update: socket %llu: %s\n",
			inode, errno == ENOENT ? "no process holds it" :
			strerror(errno));
		return 1;
	}
	if (setsockopt(fd, SOL_TAPSEC, TAPSEC_KEY_UPDATE, &val,
		       sizeof(val))) {
		int err = errno;

		fprintf(stderr, "tapsecctl: key-update: socket %llu: %s%s\n",
			inode, strerror(err),
			err == EPROTO ? " (not TLS 1.3 with a transmit traffic secret)" :
			err == ENOPROTOOPT || err == EOPNOTSUPP ||
			err == EPROTOTYPE ? " (not a tapsec TLS socket)" :
			err == ENOKEY ? " (no transmit key)" : "");
		close(fd);
		return 1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'c' },
		{ "hash", required_argument, NULL, 'H' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "owner", required_argument, NULL, 'o' },
		{ "request", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct tapsec_nl nl;
	int json = 0, c, err, ret, hash = -1, request = 0;
	struct tapsec_psk_owners own = { 0 };
	const char *key_file = NULL;
	long count = 0;
	char *end;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'c':
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || count <= 0) {
				fprintf(stderr, "tapsecctl: --count takes a positive number\n");
				return 2;
			}
			break;
		case 'H':
			if (!strcmp(optarg, "sha256")) {
				hash = TAPSEC_PSK_HASH_SHA256;
			} else if (!strcmp(optarg, "sha384")) {
				hash = TAPSEC_PSK_HASH_SHA384;
			} else {
				fprintf(stderr, "tapsecctl: --hash takes sha256 or sha384\n");
				return 2;
			}
			break;
		case 'k':
			key_file = optarg;
			break;
		case 'o':
			if (add_owner(&own, optarg))
				return 2;
			break;
		case 'r':
			request = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tapsecctl %s\n", TAPSEC_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc || !strcmp(argv[optind], "help")) {
		usage(optind >= argc ? stderr : stdout);
		return optind >= argc ? 2 : 0;
	}
	if (strcmp(argv[optind], "info") && strcmp(argv[optind], "stats") &&
	    strcmp(argv[optind], "sock") && strcmp(argv[optind], "monitor") &&
	    strcmp(argv[optind], "psk") && strcmp(argv[optind], "key-update")) {
		fprintf(stderr, "tapsecctl: unknown command '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	if ((hash >= 0 || key_file || own.nuids || own.ngids) &&
	    (strcmp(argv[optind], "psk") || optind + 1 >= argc ||
	     strcmp(argv[optind + 1], "add"))) {
		fprintf(stderr, "tapsecctl: --hash, --key-file and --owner go with psk add\n");
		return 2;
	}
	if (request && strcmp(argv[optind], "key-update")) {
		fprintf(stderr, "tapsecctl: --request goes with key-update\n");
		return 2;
	}
	if (count && strcmp(argv[optind], "monitor")) {
		fprintf(stderr, "tapsecctl: --count goes with monitor\n");
		return 2;
	}
	if (!strcmp(argv[optind], "monitor") && optind + 1 < argc) {
		fprintf(stderr, "tapsecctl: usage: monitor [--count N]\n");
		return 2;
	}
	if (!args_shaped(argv[optind], argc - optind - 1, argv + optind + 1))
		return 2;

	/* The file is checked whole before netlink is opened. */
	if (!strcmp(argv[optind], "psk") && !strcmp(argv[optind + 1], "load"))
		return tapsecctl_psk_load(argv[optind + 2]);

	/* A socket option on the socket itself: no netlink needed. */
	if (!strcmp(argv[optind], "key-update"))
		return cmd_key_update(argc - optind - 1, argv + optind + 1,
				      request);

	err = tapsec_nl_open(&nl);
	if (err) {
		fprintf(stderr, "tapsecctl: cannot reach the tapsec netlink family: %s%s\n",
			strerror(-err),
			err == -ENOENT ? " (is tapsec.ko loaded?)" : "");
		return 1;
	}
	if (!strcmp(argv[optind], "info"))
		ret = cmd_info(&nl, json);
	else if (!strcmp(argv[optind], "stats"))
		ret = cmd_stats(&nl, json);
	else if (!strcmp(argv[optind], "monitor"))
		ret = cmd_monitor(&nl, count);
	else if (!strcmp(argv[optind], "psk"))
		ret = cmd_psk(&nl, json, argc - optind - 1, argv + optind + 1,
			      hash, key_file, &own);
	else
		ret = cmd_sock(&nl, json, argc - optind - 1, argv + optind + 1);
	tapsec_nl_close(&nl);
	return ret;
}
