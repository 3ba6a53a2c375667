// SPDX-License-Identifier: GPL-2.0
/*
 * tapsecctl psk load FILE: external PSKs that survive a reboot.
 *
 * The kernel keeps PSKs in memory only, per network namespace; the
 * daemon's unit loads this file before it starts (tapsecctl(8)).  One PSK
 * a line:
 *
 *   IDENTITY HEX-KEY [hash=sha256|sha384] [owner=USER|@GROUP]...
 *
 * with '#' comment lines and blank lines.  The file holds keys: it must be
 * a regular file of root's or the caller's, that no one else may read or
 * write and its group may not write (Debian's ssl-cert convention allows
 * a group to read).  Every line is checked before the first PSK goes to
 * the kernel, so a file with a mistake changes nothing; a PSK already
 * stored under an identity of the file is replaced (deleted, then added),
 * and stored PSKs the file does not name are left alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tapsec_ids.h"
#include "tapsecctl_psk_file.h"

struct psk_line {
	char identity[TAPSEC_PSK_IDENTITY_MAX + 1];
	uint8_t key[TAPSEC_PSK_KEY_MAX];
	int keylen;
	int hash;			/* -1: the kernel's default */
	struct tapsec_psk_owners own;
	unsigned int line;
};

int tapsecctl_parse_hex(const char *s, size_t n, uint8_t *key, size_t max)
{
	int half = -1, v;
	size_t i, len = 0;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return -1;
		if (half < 0) {
			half = v;
			continue;
		}
		if (len == max)
			return -1;
		key[len++] = half << 4 | v;
		half = -1;
	}
	return half < 0 ? (int)len : -1;
}

static int line_err(const char *path, unsigned int line, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));

static int line_err(const char *path, unsigned int line, const char *fmt,
		    ...)
{
	va_list ap;

	fprintf(stderr, "tapsecctl: %s:%u: ", path, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

int tapsecctl_owners_add(struct tapsec_psk_owners *own, const char *arg)
{
	bool group = arg[0] == '@';
	uint32_t id;
	int err;

	err = tapsec_parse_id(arg + group, group, &id);
	if (err)
		return err == -ENOENT ? -ENOENT : -EINVAL;
	if ((group ? own->ngids : own->nuids) == TAPSEC_PSK_OWNERS_MAX)
		return -ENOSPC;
	if (group)
		own->gids[own->ngids++] = id;
	else
		own->uids[own->nuids++] = id;
	return 0;
}

/* "owner=USER" or "owner=@GROUP" into @p's owners. */
static int parse_owner(const char *path, struct psk_line *p, const char *v)
{
	int err = tapsecctl_owners_add(&p->own, v);

	if (err == -ENOSPC)
		return line_err(path, p->line, "more than %d users or groups",
				TAPSEC_PSK_OWNERS_MAX);
	if (err)
		return line_err(path, p->line, err == -ENOENT ?
				"owner=%s: no such user or group" :
				"owner=%s: not a user or group", v);
	return 0;
}

/* One non-comment line into @p; -1 after a message. */
static int parse_line(const char *path, char *s, struct psk_line *p)
{
	char *tok, *save = NULL;
	const char *id, *hex;

	id = strtok_r(s, " \t\r\n", &save);
	hex = strtok_r(NULL, " \t\r\n", &save);
	if (!hex)
		return line_err(path, p->line, "expected IDENTITY HEX-KEY");
	if (strlen(id) > TAPSEC_PSK_IDENTITY_MAX)
		return line_err(path, p->line, "identity longer than %d bytes",
				TAPSEC_PSK_IDENTITY_MAX);
	strcpy(p->identity, id);
	p->keylen = tapsecctl_parse_hex(hex, strlen(hex), p->key,
					sizeof(p->key));
	if (p->keylen < TAPSEC_PSK_KEY_MIN)
		return line_err(path, p->line,
				"the key must be %d to %d bytes in hex",
				TAPSEC_PSK_KEY_MIN, TAPSEC_PSK_KEY_MAX);
	p->hash = -1;
	while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
		if (!strcmp(tok, "hash=sha256") && p->hash < 0)
			p->hash = TAPSEC_PSK_HASH_SHA256;
		else if (!strcmp(tok, "hash=sha384") && p->hash < 0)
			p->hash = TAPSEC_PSK_HASH_SHA384;
		else if (!strncmp(tok, "owner=", 6) && tok[6]) {
			if (parse_owner(path, p, tok + 6))
				return -1;
		} else {
			return line_err(path, p->line,
					"unexpected \"%s\" (hash=sha256|sha384, owner=USER|@GROUP)",
					tok);
		}
	}
	return 0;
}

/* Open @path if it is a key file no one else may read; NULL otherwise. */
static FILE *open_key_file(const char *path)
{
	struct stat st;
	FILE *f;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0) {
		fprintf(stderr, "tapsecctl: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "tapsecctl: %s: not a regular file\n", path);
	} else if (st.st_uid != 0 && st.st_uid != geteuid()) {
		fprintf(stderr, "tapsecctl: %s: owned by uid %u, not root or you\n",
			path, (unsigned int)st.st_uid);
	} else if (st.st_mode & (S_IRWXO | S_IWGRP)) {
		fprintf(stderr, "tapsecctl: %s: keys open to others (mode %04o): chmod o-rwx,g-w\n",
			path, (unsigned int)(st.st_mode & 07777));
	} else {
		f = fdopen(fd, "r");
		if (f)
			return f;
		fprintf(stderr, "tapsecctl: %s: %s\n", path, strerror(errno));
	}
	close(fd);
	return NULL;
}

/* Read every line of @path into @ps; returns how many, or -1. */
static int read_psk_file(const char *path, struct psk_line *ps, int max)
{
	char *buf = NULL, *s;
	unsigned int line = 0;
	size_t cap = 0;
	int n = 0, err = 0;
	FILE *f;

	f = open_key_file(path);
	if (!f)
		return -1;
	while (!err && getline(&buf, &cap, f) >= 0) {
		line++;
		s = buf + strspn(buf, " \t\r\n");
		if (!*s || *s == '#')
			continue;
		if (n == max) {
			err = line_err(path, line, "more than %d PSKs", max);
			break;
		}
		memset(&ps[n], 0, sizeof(ps[n]));
		ps[n].line = line;
		err = parse_line(path, s, &ps[n]);
		for (int i = 0; !err && i < n; i++)
			if (!strcmp(ps[i].identity, ps[n].identity))
				err = line_err(path, line,
					       "identity \"%s\" given twice",
					       ps[n].identity);
		n++;
	}
	if (!err && ferror(f))
		err = line_err(path, line, "read error");
	if (buf) {
		explicit_bzero(buf, cap);
		free(buf);
	}
	fclose(f);
	return err ? -1 : n;
}

/* Add (or replace) the @n PSKs of @ps; 0 or a negative errno. */
static int store_psks(const char *path, const struct psk_line *ps, int n,
		      int *replaced)
{
	struct tapsec_nl nl = { 0 };
	int i, err;

	err = tapsec_nl_open(&nl);
	if (err) {
		fprintf(stderr, "tapsecctl: cannot reach the tapsec netlink family: %s%s\n",
			strerror(-err),
			err == -ENOENT ? " (is tapsec.ko loaded?)" : "");
		return err;
	}
	for (i = 0; i < n && !err; i++) {
		err = tapsec_nl_psk_add_owned(&nl, ps[i].identity, ps[i].key,
					      ps[i].keylen, ps[i].hash,
					      &ps[i].own);
		if (err == -EEXIST) {
			err = tapsec_nl_psk_del(&nl, ps[i].identity);
			if (!err)
				err = tapsec_nl_psk_add_owned(&nl, ps[i].identity,
							      ps[i].key,
							      ps[i].keylen,
							      ps[i].hash,
							      &ps[i].own);
			*replaced += !err;
		}
		if (err)
			fprintf(stderr, "tapsecctl: %s:%u: psk \"%s\": %s\n",
				path, ps[i].line, ps[i].identity,
				strerror(-err));
	}
	tapsec_nl_close(&nl);
	return err;
}

int tapsecctl_psk_load(const char *path)
{
	struct psk_line *ps;
	int n, replaced = 0, err = -1;

	ps = calloc(TAPSEC_PSK_MAX, sizeof(*ps));
	if (!ps) {
		fprintf(stderr, "tapsecctl: out of memory\n");
		return 1;
	}
	n = read_psk_file(path, ps, TAPSEC_PSK_MAX);
	if (n >= 0)
		err = store_psks(path, ps, n, &replaced);
	explicit_bzero(ps, TAPSEC_PSK_MAX * sizeof(*ps));
	free(ps);
	if (err)
		return 1;
	printf("%s: %d PSKs loaded, %d of them replaced\n", path, n, replaced);
	return 0;
}
