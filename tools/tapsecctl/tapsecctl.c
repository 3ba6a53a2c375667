// SPDX-License-Identifier: GPL-2.0
/*
 * tapsecctl: control and inspect tapsec over its generic netlink family.
 *
 *   tapsecctl [-j] info      module version, features and live sockets
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tapsec_nl.h"

static const struct {
	uint64_t bit;
	const char *name;
} feature_names[] = {
	{ TAPSEC_FEAT_STREAM, "stream" },
	{ TAPSEC_FEAT_DGRAM, "dgram" },
	{ TAPSEC_FEAT_TCP_ULP, "tcp-ulp" },
	{ TAPSEC_FEAT_INET6, "inet6" },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tapsecctl [-j|--json] COMMAND\n"
		"\n"
		"commands:\n"
		"  info    module version, netlink API, features, live sockets\n"
		"  help    this text\n"
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tapsec_nl nl;
	int json = 0, c, err, ret;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
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
	if (strcmp(argv[optind], "info")) {
		fprintf(stderr, "tapsecctl: unknown command '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}

	err = tapsec_nl_open(&nl);
	if (err) {
		fprintf(stderr, "tapsecctl: cannot reach the tapsec netlink family: %s%s\n",
			strerror(-err),
			err == -ENOENT ? " (is tapsec.ko loaded?)" : "");
		return 1;
	}
	ret = cmd_info(&nl, json);
	tapsec_nl_close(&nl);
	return ret;
}
