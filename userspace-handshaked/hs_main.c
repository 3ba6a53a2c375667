// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec-handshaked: performs the TLS handshakes tapsec.ko delegates.
 *
 * The main thread is the listener: subscribed to the family's "handshake"
 * multicast group, it takes every waiting handshake with
 * TAPSEC_CMD_HANDSHAKE_ACCEPT whenever the kernel says some are waiting,
 * and once a second in case a notification was lost, and hands them to
 * the worker threads (hs_worker.c).  Documentation/handshaked.rst.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "hs.h"
#include "hs_cache.h"
#include "hs_config.h"
#include "hs_netlink.h"
#include "hs_worker.h"

/* How often to look for handshakes whose notification was lost. */
#define HS_POLL_MS	1000

enum { OPT_CHECK = 256, OPT_CHECK_CONFIG, OPT_READY_FILE };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tapsec-handshaked [-v] [-c FILE] [--ready-file PATH]\n"
		"       tapsec-handshaked [-c FILE] --check-config\n"
		"       tapsec-handshaked --check | --version\n"
		"  -c, --config FILE   configuration, default\n"
		"                      " HS_DEFAULT_CONFIG "\n"
		"  -v, --verbose       also log every successful handshake\n"
		"  --ready-file PATH   create PATH once handshakes are taken\n"
		"  --check-config      validate the configuration, then exit\n"
		"  --check             check that the module answers, then exit\n"
		"  --version           print the version\n");
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
		hs_log("tapsec module not reachable: %s", strerror(-err));
		return 1;
	}
	printf("tapsec-handshaked %s: module %s, netlink API %u\n",
	       TAPSEC_VERSION, info.version, info.api_version);
	return 0;
}

/*
 * Take handshakes until the kernel has none left.  Returns 0 or the
 * negative errno that stopped it (other than ENOENT).
 */
static int take_handshakes(struct hs_nl *nl, struct hs_pool *pool)
{
	struct hs_request *req;
	int err;

	while (!(err = hs_nl_accept(nl, &req))) {
		hs_debug("handshake taken: %s, peer %s, inode %llu",
			 req->role == TAPSEC_ROLE_SERVER ? "server" : "client",
			 req->peer_str, (unsigned long long)req->inode);
		hs_pool_submit(pool, req);
	}
	return err == -ENOENT ? 0 : err;
}

static int write_ready_file(const char *path)
{
	char pid[32];
	int fd, len;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		hs_log("%s: %s", path, strerror(errno));
		return -1;
	}
	len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (write(fd, pid, len) != len)
		hs_log("%s: %s", path, strerror(errno));
	close(fd);
	return 0;
}

/*
 * SIGHUP: read the configuration again.  Handshakes already running keep
 * the configuration they started with; a file with a mistake changes
 * nothing.  Sessions and tickets of the old configuration are forgotten,
 * so that new trust stores and CRLs judge every next handshake; the
 * worker count and the session cache's size are set at start.
 */
static void reload(const char *path, unsigned int workers,
		   unsigned int cache_size)
{
	struct hs_config *cfg;

	hs_notify("RELOADING=1");
	cfg = hs_config_new(path, true);
	if (!cfg) {
		hs_log("SIGHUP: %s has errors: the running configuration stays",
		       path);
	} else {
		if (cfg->workers != workers || cfg->cache_size != cache_size)
			hs_notice("SIGHUP: workers and cache_size change at the next start");
		hs_config_set_current(cfg);
		/* Nothing made under the old configuration resumes. */
		if (hs_cache_flush() < 0)
			hs_log("SIGHUP: no new session ticket key: servers issue no tickets");
		hs_notice("SIGHUP: %s reloaded", path);
	}
	hs_notify("READY=1");
}

/* Listen until SIGTERM or SIGINT.  Returns the exit status. */
static int listen_loop(struct tapsec_nl *mc, int mcfd, struct hs_nl *req_nl,
		       struct hs_pool *pool, int sigfd, const char *path,
		       unsigned int workers, unsigned int cache_size)
{
	struct pollfd pfd[2] = {
		{ .fd = mcfd, .events = POLLIN },
		{ .fd = sigfd, .events = POLLIN },
	};
	struct signalfd_siginfo si;
	int err, last_err = 0;

	for (;;) {
		if (poll(pfd, 2, HS_POLL_MS) < 0 && errno != EINTR) {
			hs_log("poll: %s", strerror(errno));
			return 1;
		}
		if ((pfd[1].revents & POLLIN) &&
		    read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP) {
				reload(path, workers, cache_size);
				continue;
			}
			hs_notify("STOPPING=1");
			hs_notice("%s: finishing running handshakes",
				  strsignal(si.ssi_signo));
			return 0;
		}
		/* Notified or not: the timeout is the safety net. */
		hs_nl_notified(mc);
		err = take_handshakes(req_nl, pool);
		/* Say it once, not every second. */
		if (err && err != last_err)
			hs_log("HANDSHAKE_ACCEPT: %s", strerror(-err));
		last_err = err;
	}
}

/*
 * Open the sockets, start the workers, serve with @cfg (whose reference
 * this takes) until a SIGHUP loads @path again.  Returns the exit status.
 */
static int run(struct hs_config *cfg, const char *path,
	       const char *ready_file)
{
	unsigned int workers = cfg->workers, cache_size = cfg->cache_size;
	struct tapsec_nl mc = { 0 };
	struct hs_nl req_nl = { 0 };
	struct hs_pool *pool = NULL;
	int err, mcfd, sigfd = -1, status = 1;
	sigset_t sigs;

	/*
	 * Signals go to the listener's signalfd alone: blocked here, before
	 * the workers start, they stay blocked in every thread.  A peer that
	 * resets the connection must not kill the daemon with SIGPIPE.
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	hs_config_set_current(cfg);
	if (sigfd < 0) {
		hs_log("signalfd: %s", strerror(errno));
		goto out;
	}

	err = tapsec_nl_open(&mc);
	if (!err)
		err = hs_nl_open(&req_nl);
	if (err) {
		hs_log("tapsec module not reachable: %s", strerror(-err));
		goto out;
	}
	err = mcfd = hs_nl_subscribe(&mc);
	if (err == -ENOENT) {
		hs_log("the tapsec module offers no handshake delegation");
		goto out;
	}
	if (err < 0) {
		hs_log("cannot join the handshake group: %s%s", strerror(-err),
		       err == -EPERM ? " (CAP_NET_ADMIN is needed)" : "");
		goto out;
	}
	err = hs_cache_init(cache_size);
	if (err < 0) {
		hs_log("session ticket key: %s", gnutls_strerror(err));
		goto out;
	}
	pool = hs_pool_start(workers, &req_nl);
	if (!pool)
		goto out;

	/* Handshakes queued before we subscribed are taken here. */
	err = take_handshakes(&req_nl, pool);
	if (err == -EPERM) {
		hs_log("HANDSHAKE_ACCEPT: %s (CAP_NET_ADMIN is needed)",
		       strerror(-err));
		goto out;
	}
	if (ready_file && write_ready_file(ready_file))
		goto out;
	hs_notice("version %s ready, %u workers", TAPSEC_VERSION, workers);
	/* Type=notify: units ordered after this one start now. */
	hs_notify("READY=1");
	status = listen_loop(&mc, mcfd, &req_nl, pool, sigfd, path, workers,
			     cache_size);
	if (ready_file)
		unlink(ready_file);
out:
	/*
	 * Leave the group first: new handshakes fail fast (ESRCH) rather than
	 * queue for a daemon that is going.  The request socket goes last:
	 * the kernel aborts the handshakes of its port when it closes.
	 */
	tapsec_nl_close(&mc);
	if (pool)
		hs_pool_stop(pool);
	hs_nl_close(&req_nl);
	hs_cache_exit();
	hs_config_set_current(NULL);
	if (sigfd >= 0)
		close(sigfd);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "ready-file", required_argument, NULL, OPT_READY_FILE },
		{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *ready_file = NULL;
	/*
	 * Without -c, a missing default file means the defaults; a file
	 * named on the command line, or one being checked, must exist.
	 */
	bool check_config = false, must_exist = false;
	struct hs_config *cfg;
	int c;

	while ((c = getopt_long(argc, argv, "c:vVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'v':
			hs_verbose = 1;
			break;
		case OPT_READY_FILE:
			ready_file = optarg;
			break;
		case OPT_CHECK_CONFIG:
			check_config = true;
			break;
		case OPT_CHECK:
			return check_module();
		case 'V':
			printf("tapsec-handshaked %s\n", TAPSEC_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (!gnutls_check_version("3.7.0")) {
		hs_log("GnuTLS 3.7.0 or later needed, found %s",
		       gnutls_check_version(NULL));
		return 1;
	}
	if (!config)
		config = HS_DEFAULT_CONFIG;
	else
		must_exist = true;
	if (check_config)
		must_exist = true;
	cfg = hs_config_new(config, must_exist);
	if (!cfg)
		return 2;
	if (check_config) {
		printf("%s: configuration OK\n", config);
		hs_config_put(cfg);
		return 0;
	}
	return run(cfg, config, ready_file);
}
