// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec-handshaked: the configuration file.
 *
 * An INI-like file (Documentation/handshaked.rst): global "key = value"
 * lines, then [identity NAME] and [trust NAME] sections.  Every file a
 * section names is read and parsed while loading, so that a mistake is
 * reported with its file and line when the daemon starts (or with
 * --check-config) rather than as a failed handshake later; the PEM data
 * stays in memory until SIGHUP loads the file and its files again
 * (hs_main.c).  User and group names of an identity's owners are looked
 * up then too.
 *
 * A value may be double-quoted ("a file name with # in it", with \" and
 * \\ inside); outside quotes, '#' or ';' after a blank (or right after
 * the '=') starts a comment.
 * A setting given twice is an error, except a trust store's ca and crl,
 * which are lists.  A private key file must be a regular file that no one
 * but its owner and group can read, and no one but its owner can write.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/base64.h>

#include "hs.h"
#include "hs_blake2s.h"
#include "hs_config.h"
#include "tapsec_ids.h"

/* PEM files larger than this are certainly not certificates or keys. */
#define HS_MAX_PEM_SIZE		(4 << 20)

/* What TAPSEC_IDENTITY and TAPSEC_TRUST can name: 63 bytes and a NUL. */
#define HS_MAX_NAME_LEN		63

struct hs_creds {
	const struct hs_identity *id;
	const struct hs_trust *trust;
	gnutls_certificate_credentials_t cred;
	struct hs_creds *next;
};

enum hs_section { SEC_GLOBAL, SEC_IDENTITY, SEC_TRUST };

struct hs_parser {
	struct hs_config *cfg;
	const char *path;
	char *dir;			/* relative file names start here */
	unsigned int line;
	enum hs_section section;
	unsigned int section_line;
	struct hs_identity *id;		/* the section being read */
	struct hs_trust *trust;
	bool seen_system;
	bool seen_workers, seen_cache_size;
};

/* The CA set of trust "system" and of a missing default trust store. */
static const struct hs_trust hs_system_trust = {
	.name = "system",
	.system = true,
};

static int perr(const struct hs_parser *p, unsigned int line,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int perr(const struct hs_parser *p, unsigned int line,
		const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hs_log("%s:%u: %s", p->path, line, msg);
	return -1;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static void free_datum(gnutls_datum_t *d, bool secret)
{
	if (secret && d->data)
		gnutls_memset(d->data, 0, d->size);
	free(d->data);
	d->data = NULL;
	d->size = 0;
}

/*
 * Read the file @value (relative to the configuration's directory); a
 * @secret one must not be open to others (see the top of this file).
 */
static int read_pem(struct hs_parser *p, const char *value, bool secret,
		    gnutls_datum_t *out)
{
	char path[4096];
	unsigned char *buf;
	struct stat st;
	long size;
	int fd, n;
	FILE *f;

	if (value[0] == '/')
		n = snprintf(path, sizeof(path), "%s", value);
	else
		n = snprintf(path, sizeof(path), "%s/%s", p->dir, value);
	if (n < 0 || (size_t)n >= sizeof(path))
		return perr(p, p->line, "file name too long");
	/* O_NONBLOCK: a FIFO must not hang the daemon before fstat(). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return perr(p, p->line, "cannot open %s: %s", path,
			    strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return perr(p, p->line, "%s: not a regular file", path);
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return perr(p, p->line, "cannot read %s: %s", path,
			    strerror(errno));
	}
	if (secret && (st.st_mode & (S_IRWXO | S_IWGRP))) {
		fclose(f);
		return perr(p, p->line,
			    "%s: a private key open to others (mode %04o): chmod o-rwx,g-w",
			    path, (unsigned int)(st.st_mode & 07777));
	}
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return perr(p, p->line, "cannot read %s: %s", path,
			    strerror(errno));
	}
	if (size == 0 || size > HS_MAX_PEM_SIZE) {
		fclose(f);
		return perr(p, p->line, "%s: %s", path,
			    size ? "too large" : "empty");
	}
	buf = malloc(size + 1);
	if (!buf || fread(buf, 1, size, f) != (size_t)size) {
		free(buf);
		fclose(f);
		return perr(p, p->line, "cannot read %s", path);
	}
	fclose(f);
	buf[size] = '\0';
	out->data = buf;
	out->size = size;
	return 0;
}

/*
 * Check that @d holds PEM certificates (or CRLs) by loading them the way
 * they will be used; returns -1 if not.
 */
static int check_pem_list(struct hs_parser *p, const char *value,
			  const gnutls_datum_t *d, bool crl)
{
	const gnutls_x509_crt_fmt_t pem = GNUTLS_X509_FMT_PEM;
	gnutls_certificate_credentials_t c;
	int ret;

	ret = gnutls_certificate_allocate_credentials(&c);
	if (ret >= 0) {
		/* Both return how many they loaded. */
		if (crl)
			ret = gnutls_certificate_set_x509_crl_mem(c, d, pem);
		else
			ret = gnutls_certificate_set_x509_trust_mem(c, d, pem);
		gnutls_certificate_free_credentials(c);
	}
	if (ret <= 0)
		return perr(p, p->line, "%s: no PEM %s: %s", value,
			    crl ? "CRL" : "certificate",
			    ret < 0 ? gnutls_strerror(ret) : "none found");
	return 0;
}

/* Append a file to a trust store's list of CAs or CRLs. */
static int add_pem(struct hs_parser *p, const char *value,
		   gnutls_datum_t **list, unsigned int *n, bool crl)
{
	gnutls_datum_t d, *grown;

	if (read_pem(p, value, false, &d))
		return -1;
	if (check_pem_list(p, value, &d, crl)) {
		free_datum(&d, false);
		return -1;
	}
	grown = realloc(*list, (*n + 1) * sizeof(**list));
	if (!grown) {
		free_datum(&d, false);
		return perr(p, p->line, "out of memory");
	}
	grown[(*n)++] = d;
	*list = grown;
	return 0;
}

static int build_creds(const struct hs_identity *id,
		       const struct hs_trust *trust,
		       gnutls_certificate_credentials_t *out)
{
	gnutls_certificate_credentials_t c;
	unsigned int i;
	int ret;

	ret = gnutls_certificate_allocate_credentials(&c);
	if (ret < 0)
		return ret;
	if (id)
		ret = gnutls_certificate_set_x509_key_mem2(c, &id->cert,
							   &id->key,
							   GNUTLS_X509_FMT_PEM,
							   NULL, 0);
	for (i = 0; ret >= 0 && trust && i < trust->n_cas; i++)
		ret = gnutls_certificate_set_x509_trust_mem(c, &trust->cas[i],
							    GNUTLS_X509_FMT_PEM);
	for (i = 0; ret >= 0 && trust && i < trust->n_crls; i++)
		ret = gnutls_certificate_set_x509_crl_mem(c, &trust->crls[i],
							  GNUTLS_X509_FMT_PEM);
	if (ret >= 0 && trust && trust->system) {
		ret = gnutls_certificate_set_x509_system_trust(c);
		/* Not fatal: verification will then name the missing signer. */
		if (ret <= 0)
			hs_log("trust \"%s\": no system CA certificates: %s",
			       trust->name,
			       ret < 0 ? gnutls_strerror(ret) : "none found");
		ret = 0;
	}
	if (ret < 0) {
		gnutls_certificate_free_credentials(c);
		return ret;
	}
	*out = c;
	return 0;
}

/* Append @id to a list of owners. */
static int add_owner(struct hs_parser *p, uint32_t **list, unsigned int *n,
		     uint32_t id)
{
	uint32_t *grown = realloc(*list, (*n + 1) * sizeof(**list));

	if (!grown)
		return perr(p, p->line, "out of memory");
	grown[(*n)++] = id;
	*list = grown;
	return 0;
}

/* The end of a section (or of the file): is what it holds complete? */
static int end_section(struct hs_parser *p)
{
	gnutls_certificate_credentials_t c;
	struct hs_owners *o;
	int ret;

	if (p->section == SEC_IDENTITY) {
		if ((!p->id->cert.data || !p->id->key.data) &&
		    (p->id->cert.data || p->id->key.data || !p->id->has_wg))
			return perr(p, p->section_line,
				    "[identity %s] needs both cert and key, or wireguard-key",
				    p->id->name);
		/* Without "owners", root's alone. */
		o = &p->id->owners;
		if (!p->id->owners_set &&
		    add_owner(p, &o->uids, &o->n_uids, 0))
			return -1;
		if (!p->id->cert.data)
			return 0;
		/* Loading them together checks that key and chain match. */
		ret = build_creds(p->id, NULL, &c);
		if (ret < 0)
			return perr(p, p->section_line,
				    "[identity %s]: unusable cert or key: %s",
				    p->id->name, gnutls_strerror(ret));
		gnutls_certificate_free_credentials(c);
	} else if (p->section == SEC_TRUST) {
		if (!p->trust->n_cas && !p->trust->system &&
		    !p->trust->n_wg_peers)
			return perr(p, p->section_line,
				    "[trust %s] needs ca, system = yes or wireguard-peer",
				    p->trust->name);
	}
	return 0;
}

static bool valid_name(const char *s)
{
	size_t len = strlen(s);

	if (!len || len > HS_MAX_NAME_LEN)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

static bool name_taken(const struct hs_parser *p, const char *name)
{
	if (p->section == SEC_IDENTITY)
		return hs_config_identity(p->cfg, name);
	for (const struct hs_trust *t = p->cfg->trusts; t; t = t->next)
		if (!strcmp(t->name, name))
			return true;
	return false;
}

/* "[identity NAME]" or "[trust NAME]". */
static int start_section(struct hs_parser *p, char *s)
{
	char *kind, *name, *copy, *end = s + strlen(s) - 1;
	void *obj;

	if (*end != ']')
		return perr(p, p->line, "section header lacks ']'");
	*end = '\0';
	kind = trim(s + 1);
	name = kind + strcspn(kind, " \t");
	if (*name)
		*name++ = '\0';
	name = trim(name);
	if (!strcmp(kind, "identity"))
		p->section = SEC_IDENTITY;
	else if (!strcmp(kind, "trust"))
		p->section = SEC_TRUST;
	else
		return perr(p, p->line,
			    "unknown section \"%s\" (identity or trust)", kind);
	if (!valid_name(name))
		return perr(p, p->line,
			    "[%s] needs a name: 1 to %d of A-Z a-z 0-9 . _ -",
			    kind, HS_MAX_NAME_LEN);
	if (name_taken(p, name))
		return perr(p, p->line, "[%s %s] defined twice", kind, name);

	p->section_line = p->line;
	p->seen_system = false;
	obj = calloc(1, p->section == SEC_IDENTITY ? sizeof(*p->id) :
						    sizeof(*p->trust));
	copy = strdup(name);
	if (!obj || !copy) {
		free(obj);
		free(copy);
		return perr(p, p->line, "out of memory");
	}
	if (p->section == SEC_IDENTITY) {
		p->id = obj;
		p->id->name = copy;
		p->id->next = p->cfg->identities;
		p->cfg->identities = p->id;
	} else {
		p->trust = obj;
		p->trust->name = copy;
		p->trust->next = p->cfg->trusts;
		p->cfg->trusts = p->trust;
	}
	return 0;
}

static int parse_bool(struct hs_parser *p, const char *key, const char *v,
		      bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return perr(p, p->line, "%s: expected yes or no, not \"%s\"",
			    key, v);
	return 0;
}

static int set_global(struct hs_parser *p, const char *key, const char *v)
{
	unsigned long n;
	char *end;

	if (!strcmp(key, "cache_size")) {
		if (p->seen_cache_size)
			return perr(p, p->line, "cache_size given twice");
		p->seen_cache_size = true;
		errno = 0;
		n = strtoul(v, &end, 10);
		if (errno || *end || !isdigit((unsigned char)*v) ||
		    n > HS_MAX_CACHE_SIZE)
			return perr(p, p->line,
				    "cache_size: expected 0 to %d, not \"%s\"",
				    HS_MAX_CACHE_SIZE, v);
		p->cfg->cache_size = n;
		return 0;
	}
	if (strcmp(key, "workers"))
		return perr(p, p->line, "unknown setting \"%s\"", key);
	if (p->seen_workers)
		return perr(p, p->line, "workers given twice");
	p->seen_workers = true;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || !isdigit((unsigned char)*v) || n < 1 ||
	    n > HS_MAX_WORKERS)
		return perr(p, p->line, "workers: expected 1 to %d, not \"%s\"",
			    HS_MAX_WORKERS, v);
	p->cfg->workers = n;
	return 0;
}

/* One id of an "owners" list (tapsec_parse_id()). */
static int parse_owner(struct hs_parser *p, const char *s, bool group,
		       uint32_t *out)
{
	const char *kind = group ? "group" : "user";
	int err = tapsec_parse_id(s, group, out);

	if (!err)
		return 0;
	if (!*s)
		return perr(p, p->line, "owners: \"@\" without a group");
	if (err == -EINVAL)
		return perr(p, p->line, "owners: bad %s id \"%s\"", kind, s);
	return perr(p, p->line, "owners: unknown %s \"%s\"", kind, s);
}

/*
 * "owners = LIST": users (uid or name), groups ("@" and gid or name), or
 * "*" alone for anyone; separated by spaces or commas.
 */
static int set_owners(struct hs_parser *p, char *v)
{
	struct hs_owners *o = &p->id->owners;
	char *tok, *save = NULL;
	bool group;
	uint32_t id = (uint32_t)-1;	/* no id, for the compiler */

	if (p->id->owners_set)
		return perr(p, p->line, "owners given twice");
	p->id->owners_set = true;
	for (tok = strtok_r(v, " \t,", &save); tok;
	     tok = strtok_r(NULL, " \t,", &save)) {
		if (!strcmp(tok, "*")) {
			o->anyone = true;
			continue;
		}
		group = *tok == '@';
		if (parse_owner(p, tok + group, group, &id))
			return -1;
		if (group ? add_owner(p, &o->gids, &o->n_gids, id) :
			    add_owner(p, &o->uids, &o->n_uids, id))
			return -1;
	}
	if (!o->anyone && !o->n_uids && !o->n_gids)
		return perr(p, p->line, "owners: nobody listed");
	if (o->anyone && (o->n_uids || o->n_gids))
		return perr(p, p->line,
			    "owners: \"*\" is everyone, list nothing with it");
	return 0;
}

/*
 * A WireGuard key as `wg genkey` and `wg pubkey` write it: 32 bytes in
 * base64, blanks around it allowed.  0, or -1 after reporting.
 */
static int parse_wg_key(struct hs_parser *p, const char *what, const char *s,
			size_t len, uint8_t out[HS_WG_KEY_LEN])
{
	struct base64_decode_ctx ctx;
	uint8_t buf[BASE64_DECODE_LENGTH(64)];
	size_t n = sizeof(buf);

	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	base64_decode_init(&ctx);
	if (len != 44 || !base64_decode_update(&ctx, &n, buf, len, s) ||
	    !base64_decode_final(&ctx) || n != HS_WG_KEY_LEN) {
		hs_wipe(buf, sizeof(buf));
		return perr(p, p->line,
			    "%s: not a WireGuard key (32 bytes in base64, as wg genkey writes)",
			    what);
	}
	memcpy(out, buf, HS_WG_KEY_LEN);
	hs_wipe(buf, sizeof(buf));
	return 0;
}

/* wireguard-key = FILE: the private key file, kept from others. */
static int set_wg_key(struct hs_parser *p, const char *v)
{
	gnutls_datum_t d = { NULL, 0 };
	int ret;

	if (p->id->has_wg)
		return perr(p, p->line, "wireguard-key given twice");
	if (read_pem(p, v, true, &d))
		return -1;
	ret = parse_wg_key(p, v, (const char *)d.data, d.size,
			   p->id->wg_priv);
	free_datum(&d, true);
	if (ret)
		return ret;
	p->id->has_wg = true;
	return 0;
}

static int set_identity(struct hs_parser *p, const char *key, char *v)
{
	gnutls_datum_t *d;

	if (!strcmp(key, "owners"))
		return set_owners(p, v);
	if (!strcmp(key, "wireguard-key"))
		return set_wg_key(p, v);
	if (!strcmp(key, "cert"))
		d = &p->id->cert;
	else if (!strcmp(key, "key"))
		d = &p->id->key;
	else
		return perr(p, p->line,
			    "unknown setting \"%s\" in [identity %s]", key,
			    p->id->name);
	if (d->data)
		return perr(p, p->line, "%s given twice", key);
	if (read_pem(p, v, d == &p->id->key, d))
		return -1;
	if (d == &p->id->cert)
		return check_pem_list(p, v, d, false);
	return 0;
}

static int set_trust(struct hs_parser *p, const char *key, const char *v)
{
	struct hs_trust *t = p->trust;

	if (!strcmp(key, "ca"))
		return add_pem(p, v, &t->cas, &t->n_cas, false);
	if (!strcmp(key, "crl"))
		return add_pem(p, v, &t->crls, &t->n_crls, true);
	if (!strcmp(key, "wireguard-peer")) {
		uint8_t (*grown)[HS_WG_KEY_LEN];

		grown = realloc(t->wg_peers,
				(t->n_wg_peers + 1) * sizeof(*grown));
		if (!grown)
			return perr(p, p->line, "out of memory");
		t->wg_peers = grown;
		if (parse_wg_key(p, "wireguard-peer", v, strlen(v),
				 t->wg_peers[t->n_wg_peers]))
			return -1;
		t->n_wg_peers++;
		return 0;
	}
	if (!strcmp(key, "system")) {
		if (p->seen_system)
			return perr(p, p->line, "system given twice");
		p->seen_system = true;
		return parse_bool(p, key, v, &t->system);
	}
	return perr(p, p->line, "unknown setting \"%s\" in [trust %s]", key,
		    t->name);
}

/* Cut a comment ('#' or ';' after a blank) off @s, and trim it. */
static char *strip_comment(char *s)
{
	char *c;

	for (c = s; *c; c++)
		if ((*c == '#' || *c == ';') &&
		    (c == s || isspace((unsigned char)c[-1]))) {
			*c = '\0';
			break;
		}
	return trim(s);
}

/*
 * A value: "quoted" (\" and \\ escape) or bare up to a comment.  Returns
 * the value, unquoted in place, or NULL after reporting the error.
 */
static char *parse_value(struct hs_parser *p, char *v)
{
	char *in, *out;

	if (*v != '"')
		return strip_comment(v);
	for (in = v + 1, out = v; *in && *in != '"'; in++) {
		if (*in == '\\' && (in[1] == '"' || in[1] == '\\'))
			in++;
		*out++ = *in;
	}
	if (*in != '"') {
		perr(p, p->line, "a quoted value lacks its closing '\"'");
		return NULL;
	}
	if (*strip_comment(in + 1)) {
		perr(p, p->line, "text after a quoted value");
		return NULL;
	}
	*out = '\0';
	return v;
}

static int parse_line(struct hs_parser *p, char *s)
{
	char *eq, *key, *value;

	s = trim(s);
	if (!*s || *s == '#' || *s == ';')
		return 0;
	if (*s == '[')
		return end_section(p) ? -1 :
					start_section(p, strip_comment(s));
	eq = strchr(s, '=');
	if (!eq)
		return perr(p, p->line,
			    "expected \"key = value\" or \"[section name]\"");
	*eq = '\0';
	key = trim(s);
	if (!*key)
		return perr(p, p->line, "missing key before '='");
	value = parse_value(p, trim(eq + 1));
	if (!value)
		return -1;
	if (!*value)
		return perr(p, p->line, "%s: missing value", key);
	switch (p->section) {
	case SEC_IDENTITY:
		return set_identity(p, key, value);
	case SEC_TRUST:
		return set_trust(p, key, value);
	default:
		return set_global(p, key, value);
	}
}

static void config_init(struct hs_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->workers = HS_DEFAULT_WORKERS;
	cfg->cache_size = HS_DEFAULT_CACHE_SIZE;
	pthread_mutex_init(&cfg->creds_lock, NULL);
}

int hs_config_load(struct hs_config *cfg, const char *path, bool must_exist)
{
	struct hs_parser p = { .cfg = cfg, .path = path };
	char *line = NULL, *slash;
	size_t cap = 0;
	int err = 0;
	FILE *f;

	config_init(cfg);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && !must_exist) {
			hs_debug("%s: not found, using the defaults", path);
			return 0;
		}
		hs_log("%s: %s", path, strerror(errno));
		return -1;
	}
	p.dir = strdup(path);
	if (!p.dir) {
		fclose(f);
		hs_log("out of memory");
		return -1;
	}
	slash = strrchr(p.dir, '/');
	if (slash)
		*(slash == p.dir ? slash + 1 : slash) = '\0';
	else
		strcpy(p.dir, ".");

	while (!err && getline(&line, &cap, f) >= 0) {
		p.line++;
		err = parse_line(&p, line);
	}
	if (!err && ferror(f))
		err = perr(&p, p.line, "read error");
	if (!err)
		err = end_section(&p);
	free(line);
	free(p.dir);
	fclose(f);
	if (err)
		hs_config_free(cfg);
	return err;
}

void hs_config_free(struct hs_config *cfg)
{
	unsigned int i;

	while (cfg->creds) {
		struct hs_creds *c = cfg->creds;

		cfg->creds = c->next;
		gnutls_certificate_free_credentials(c->cred);
		free(c);
	}
	while (cfg->identities) {
		struct hs_identity *id = cfg->identities;

		cfg->identities = id->next;
		free_datum(&id->cert, false);
		free_datum(&id->key, true);
		hs_wipe(id->wg_priv, sizeof(id->wg_priv));
		free(id->owners.uids);
		free(id->owners.gids);
		free(id->name);
		free(id);
	}
	while (cfg->trusts) {
		struct hs_trust *t = cfg->trusts;

		cfg->trusts = t->next;
		for (i = 0; i < t->n_cas; i++)
			free_datum(&t->cas[i], false);
		for (i = 0; i < t->n_crls; i++)
			free_datum(&t->crls[i], false);
		free(t->cas);
		free(t->crls);
		free(t->wg_peers);
		free(t->name);
		free(t);
	}
	pthread_mutex_destroy(&cfg->creds_lock);
}

struct hs_config *hs_config_new(const char *path, bool must_exist)
{
	struct hs_config *cfg = malloc(sizeof(*cfg));

	if (!cfg) {
		hs_log("out of memory");
		return NULL;
	}
	if (hs_config_load(cfg, path, must_exist)) {
		free(cfg);
		return NULL;
	}
	atomic_init(&cfg->refs, 1);
	return cfg;
}

static pthread_mutex_t hs_current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hs_config *hs_current;

struct hs_config *hs_config_get(void)
{
	struct hs_config *cfg;

	pthread_mutex_lock(&hs_current_lock);
	cfg = hs_current;
	if (cfg)
		atomic_fetch_add(&cfg->refs, 1);
	pthread_mutex_unlock(&hs_current_lock);
	return cfg;
}

void hs_config_put(struct hs_config *cfg)
{
	if (cfg && atomic_fetch_sub(&cfg->refs, 1) == 1) {
		hs_config_free(cfg);
		free(cfg);
	}
}

void hs_config_set_current(struct hs_config *cfg)
{
	struct hs_config *old;

	pthread_mutex_lock(&hs_current_lock);
	old = hs_current;
	hs_current = cfg;
	pthread_mutex_unlock(&hs_current_lock);
	hs_config_put(old);
}

const struct hs_identity *hs_config_identity(const struct hs_config *cfg,
					     const char *name)
{
	for (const struct hs_identity *id = cfg->identities; id; id = id->next)
		if (!strcmp(id->name, name))
			return id;
	return NULL;
}

const struct hs_identity *
hs_config_request_identity(const struct hs_config *cfg,
			   const struct hs_request *req,
			   struct hs_result *res)
{
	const struct hs_identity *id = hs_config_identity(cfg, req->identity);

	if (!id) {
		hs_fail(res, EINVAL, "unknown identity \"%s\"", req->identity);
		return NULL;
	}
	if (hs_config_may_use(id, req))
		return id;
	if (req->has_cred)
		hs_fail(res, EACCES, "identity \"%s\" not usable by uid %u",
			id->name, req->uid);
	else
		hs_fail(res, EACCES,
			"identity \"%s\" not usable by an unknown owner",
			id->name);
	return NULL;
}

bool hs_config_may_use(const struct hs_identity *id,
		       const struct hs_request *req)
{
	const struct hs_owners *o = &id->owners;
	unsigned int i, j;

	if (o->anyone)
		return true;
	if (!req->has_cred)
		return false;
	for (i = 0; i < o->n_uids; i++)
		if (o->uids[i] == req->uid)
			return true;
	for (i = 0; i < o->n_gids; i++) {
		if (o->gids[i] == req->gid)
			return true;
		for (j = 0; j < req->n_groups; j++)
			if (o->gids[i] == req->groups[j])
				return true;
	}
	return false;
}

const struct hs_trust *hs_config_trust(const struct hs_config *cfg,
				       const char *name)
{
	const char *want = name && *name ? name : HS_DEFAULT_TRUST;

	for (const struct hs_trust *t = cfg->trusts; t; t = t->next)
		if (!strcmp(t->name, want))
			return t;
	if (!name || !*name || !strcmp(name, hs_system_trust.name))
		return &hs_system_trust;
	return NULL;
}

int hs_config_creds(struct hs_config *cfg, const struct hs_identity *id,
		    const struct hs_trust *trust,
		    gnutls_certificate_credentials_t *out)
{
	struct hs_creds *c;
	int ret = 0;

	pthread_mutex_lock(&cfg->creds_lock);
	for (c = cfg->creds; c; c = c->next)
		if (c->id == id && c->trust == trust)
			break;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			ret = GNUTLS_E_MEMORY_ERROR;
		else
			ret = build_creds(id, trust, &c->cred);
		if (ret < 0) {
			free(c);
			c = NULL;
		} else {
			c->id = id;
			c->trust = trust;
			c->next = cfg->creds;
			cfg->creds = c;
		}
	}
	if (c)
		*out = c->cred;
	pthread_mutex_unlock(&cfg->creds_lock);
	return ret;
}
