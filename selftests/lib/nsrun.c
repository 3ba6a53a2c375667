// SPDX-License-Identifier: GPL-2.0
/*
 * nsrun: run a command in a named network namespace with a time limit,
 * what `nsenter --net=/run/netns/NETNS timeout SECS CMD...` does, in one
 * process start instead of two forks and three execs.  Each costs a
 * fraction of a second on the debug kernel under TCG, and the shell suites
 * start their peers this way thousands of times.
 *
 *   nsrun NETNS SECS CMD [ARGS...]
 *
 * NETNS is a name under /run/netns, or a path when it holds a '/'.  SECS
 * 0 means no limit; otherwise an alarm(2), which survives the exec, ends
 * CMD with SIGALRM after SECS seconds (the shell sees status 142, not
 * timeout(1)'s 124; none of the programs the suites run handle SIGALRM).
 * CMD replaces nsrun: its pid is the one the caller started, so signals
 * reach it and /proc/PID/net shows its namespace.  Exit status 125: the
 * namespace could not be entered, 126/127: CMD could not be run.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char path[PATH_MAX];
	unsigned long secs;
	char *end;
	int fd;

	if (argc < 4) {
		fprintf(stderr, "usage: nsrun NETNS SECS CMD [ARGS...]\n");
		return 125;
	}
	errno = 0;
	secs = strtoul(argv[2], &end, 10);
	if (errno || *end || end == argv[2] || secs > UINT_MAX) {
		fprintf(stderr, "nsrun: bad time limit '%s'\n", argv[2]);
		return 125;
	}
	if (snprintf(path, sizeof(path), "%s%s",
		     strchr(argv[1], '/') ? "" : "/run/netns/",
		     argv[1]) >= (int)sizeof(path)) {
		fprintf(stderr, "nsrun: namespace name too long\n");
		return 125;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "nsrun: %s: %s\n", path, strerror(errno));
		return 125;
	}
	close(fd);
	if (secs)
		alarm(secs);
	execvp(argv[3], argv + 3);
	fprintf(stderr, "nsrun: %s: %s\n", argv[3], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
