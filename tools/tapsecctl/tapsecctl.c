// SPDX-License-Identifier: GPL-2.0
/*
 * tapsecctl: control and inspect tapsec over its generic netlink family.
 *
 *   tapsecctl [-j] info       module version, features and live sockets
 *   tapsecctl [-j] stats      counters of this network namespace
 *   tapsecctl [-j] sock list  every tapsec socket of this namespace
 *   tapsecctl monitor [--count N]
 *                             handshake events, one JSON object a line
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>
#include <netlink/socket.h>

#include "tapsec_nl.h"

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
};

/* struct tapsec_counters, field by field. */
static const char *const counter_names[] = {
	"tx_records", "tx_bytes", "rx_records", "rx_bytes", "refused_nokey",
	"rx_bad_tag", "rx_bad_record", "rx_oversize", "rx_truncated",
	"key_exhausted", "close_notify_tx", "close_notify_rx",
	"hs_done", "hs_failed", "rx_post_handshake",
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
		"usage: tapsecctl [-j|--json] COMMAND\n"
		"\n"
		"commands:\n"
		"  info       module version, netlink API, features, live sockets\n"
		"  stats      counters of this network namespace\n"
		"  sock list  every tapsec socket of this namespace\n"
		"  monitor    handshake events of this namespace as they happen, one\n"
		"             JSON object a line; --count N: exit after N events\n"
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
		       "\"tx\":\"%s %s\",\"rx\":\"%s %s\",\"counters\":{",
		       (unsigned long long)e->inode,
		       e->type == SOCK_STREAM ? "stream" : "dgram",
		       NAME(state_names, e->state),
		       NAME(proto_names, e->protocol),
		       NAME(origin_names, e->origin), local, peer,
		       version_str(e->tx_version), cipher_str(e->tx_cipher),
		       version_str(e->rx_version), cipher_str(e->rx_cipher));
		print_counters(&e->counters, 1, "");
		printf("}}\n");
		return;
	}
	printf("inode %llu %s %s %s from %s: %s -> %s\n",
	       (unsigned long long)e->inode,
	       e->type == SOCK_STREAM ? "stream" : "dgram",
	       NAME(proto_names, e->protocol), NAME(state_names, e->state),
	       NAME(origin_names, e->origin), local, peer);
	printf("  tx %s %s, rx %s %s\n", version_str(e->tx_version),
	       cipher_str(e->tx_cipher), version_str(e->rx_version),
	       cipher_str(e->rx_cipher));
	print_counters(&e->counters, 0, "  ");
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tapsec_nl nl;
	int json = 0, c, err, ret;
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
		case 'h':
			usage(stdout);
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
	    strcmp(argv[optind], "sock") && strcmp(argv[optind], "monitor")) {
		fprintf(stderr, "tapsecctl: unknown command '%s'\n",
			argv[optind]);
		usage(stderr);
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
	else
		ret = cmd_sock(&nl, json, argc - optind - 1, argv + optind + 1);
	tapsec_nl_close(&nl);
	return ret;
}
