// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec-handshaked: logging and small helpers shared by all threads.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hs.h"

int hs_verbose;

static void hs_vlog(const char *fmt, va_list ap)
{
	static const char prefix[] = "tapsec-handshaked: ";
	char line[1024];
	size_t len = sizeof(prefix) - 1;
	int n;

	memcpy(line, prefix, len);
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
	hs_vlog(fmt, ap);
	va_end(ap);
}

void hs_debug(const char *fmt, ...)
{
	va_list ap;

	if (!hs_verbose)
		return;
	va_start(ap, fmt);
	hs_vlog(fmt, ap);
	va_end(ap);
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
