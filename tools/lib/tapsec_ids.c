// SPDX-License-Identifier: GPL-2.0
/* tapsec's userspace tools: user and group ids (tapsec_ids.h). */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>

#include "tapsec_ids.h"

int tapsec_parse_id(const char *s, bool group, uint32_t *id)
{
	unsigned long n;
	struct passwd *pw;
	struct group *gr;
	char *end;

	if (!*s)
		return -EINVAL;
	if (isdigit((unsigned char)*s)) {
		errno = 0;
		n = strtoul(s, &end, 10);
		if (errno || *end || n >= UINT32_MAX)
			return -EINVAL;
		*id = n;
		return 0;
	}
	if (group && (gr = getgrnam(s)))
		*id = gr->gr_gid;
	else if (!group && (pw = getpwnam(s)))
		*id = pw->pw_uid;
	else
		return -ENOENT;
	return 0;
}
