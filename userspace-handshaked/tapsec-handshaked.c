// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec-handshaked: performs the handshakes tapsec.ko delegates.
 *
 * Skeleton: it finds the kernel's "tapsec" netlink family and reports what
 * the module offers (--check).  Handshake delegation is not built yet, so
 * running it as a daemon fails with a clear message instead of pretending.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tapsec_nl.h"

#define HANDSHAKED_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tapsec-handshaked [--check] [--version]\n"
		"  --check    verify that the tapsec module answers, then exit\n"
		"  --version  print the version\n");
}

static int check_module(void)
{
	struct tapsec_info info;
	struct tapsec_nl nl;
	int err;

	err = tapsec_nl_open(&nl);
	if (!err)
		err = tapsec_nl_get_info(&nl, &info);
	tapsec_nl_close(&nl);
	if (err) {
		fprintf(stderr, "tapsec-handshaked: tapsec module not reachable: %s\n",
			strerror(-err));
		return 1;
	}
	printf("tapsec-handshaked %s: module %s, netlink API %u\n",
	       HANDSHAKED_VERSION, info.version, info.api_version);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "check", no_argument, NULL, 'c' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "cVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			return check_module();
		case 'V':
			printf("tapsec-handshaked %s\n", HANDSHAKED_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	fprintf(stderr, "tapsec-handshaked: handshake delegation is not implemented in this version\n");
	return 1;
}
