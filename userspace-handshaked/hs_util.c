// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec-handshaked: logging and small helpers shared by all threads.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "hs.h"

int hs_verbose;

/*
 * Under systemd, stderr is a stream to journald (JOURNAL_STREAM names its
 * device and inode): each line then starts with its syslog priority,
 * "<3>", which journald strips and records, so that `journalctl -p err`
 * finds failures.  Elsewhere lines start with the program's name.
 */
static pthread_once_t hs_log_once = PTHREAD_ONCE_INIT;
static bool hs_log_journal;

static void hs_log_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	hs_log_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
			 !fstat(STDERR_FILENO, &st) &&
			 (unsigned long long)st.st_dev == dev &&
			 (unsigned long long)st.st_ino == ino;
}

static void hs_vlog(int prio, const char *fmt, va_list ap)
{
	char line[1024];
	size_t len;
	int n;

	pthread_once(&hs_log_once, hs_log_init);
	if (hs_log_journal)
		n = snprintf(line, sizeof(line), "<%d>", prio);
	else
		n = snprintf(line, sizeof(line), "tapsec-handshaked: ");
	len = n;
	n = vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
	if (n < 0)
		return;
	len += (size_t)n < sizeof(line) - len - 1 ? (size_t)n :
						     sizeof(line) - len - 2;
	line[len++] = '\n';
	/*
	 * One write() per line: workers log concurrently, and stdio could
	 * split a line into several writes that interleave with others.
	 */
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}

void hs_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hs_vlog(LOG_ERR, fmt, ap);
	va_end(ap);
}

void hs_notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hs_vlog(LOG_NOTICE, fmt, ap);
	va_end(ap);
}

void hs_debug(const char *fmt, ...)
{
	va_list ap;

	if (!hs_verbose)
		return;
	va_start(ap, fmt);
	hs_vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

/*
 * sd_notify(3)'s protocol, without libsystemd: one datagram to the
 * AF_UNIX socket NOTIFY_SOCKET names ("@" for the abstract namespace).
 * Does nothing when the daemon was not started by a service manager that
 * asked for it (Type=notify).
 */
void hs_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof(sun.sun_path)) {
		hs_log("NOTIFY_SOCKET: name too long");
		return;
	}
	memcpy(sun.sun_path, path, len);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    sendto(fd, state, strlen(state), MSG_NOSIGNAL, (void *)&sun,
		   offsetof(struct sockaddr_un, sun_path) + len) < 0)
		hs_log("NOTIFY_SOCKET %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

void hs_fail(struct hs_result *res, int err, const char *fmt, ...)
{
	va_list ap;

	res->status = err;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}

void hs_format_addr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in6 *sin6 = (const void *)ss;
	const struct sockaddr_in *sin = (const void *)ss;
	char ip[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET &&
	    inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip)))
		snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
	else if (ss->ss_family == AF_INET6 &&
		 inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip)))
		snprintf(buf, len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	else
		snprintf(buf, len, "?");
}

void hs_request_free(struct hs_request *req)
{
	if (!req)
		return;
	free(req->server_name);
	free(req->alpn);
	free(req->identity);
	free(req->trust);
	free(req->psk_identity);
	free(req);
}

/*
 * TAPSEC_HANDSHAKE_PSK on the handshake's socket: the kernel copies the
 * key of PSK @identity into @req only for the process running the
 * handshake, and only when the socket's owner may use it.  Returns 0, or
 * a positive errno with the reason in @res and @req wiped.
 */
int hs_psk_get(int fd, const char *identity, struct tapsec_hs_psk *req,
	       struct hs_result *res)
{
	socklen_t len = sizeof(*req);
	int err = 0;

	memset(req, 0, sizeof(*req));
	snprintf(req->identity, sizeof(req->identity), "%s", identity);
	if (getsockopt(fd, SOL_TAPSEC, TAPSEC_HANDSHAKE_PSK, req, &len))
		err = errno;
	else if (len != sizeof(*req) || req->key_len < TAPSEC_PSK_KEY_MIN ||
		 req->key_len > TAPSEC_PSK_KEY_MAX)
		err = EBADMSG;
	if (!err)
		return 0;
	memset(req, 0, sizeof(*req));
	if (err == ENOKEY)
		hs_fail(res, ENOKEY, "unknown PSK identity");
	else if (err == EPERM)
		hs_fail(res, ENOKEY, "PSK identity not allowed on this socket");
	else if (err == EACCES)
		hs_fail(res, EACCES, "the socket's owner may not use that PSK");
	else
		hs_fail(res, err, "cannot fetch the PSK: %s", strerror(err));
	return res->status;
}
