/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench_common.h - what the benchmarks in tools/bench share: cipher names
 * and key material, option parsing, failure reporting, thread pinning and
 * timing, medians and per-round ratios, and what the report says about the
 * machine (crypto driver, CPU model).  Header only: each benchmark is one
 * .c file.  Define BENCH_NAME (the prefix of its messages) before
 * including it.
 */
#ifndef TAPSEC_BENCH_COMMON_H
#define TAPSEC_BENCH_COMMON_H

#ifndef BENCH_NAME
#error "define BENCH_NAME before including bench_common.h"
#endif

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/tapsec.h>

/* Not every benchmark uses every helper. */
#define BENCH_API	static __attribute__((unused))

#define KIB	1024UL
#define MIB	(1024UL * 1024UL)

#define MAX_ROUNDS	101
#define MAX_SIZES	8
#define MAX_STACKS	8

/* ----------------------------------------------------------- ciphers -- */

/* What the benchmarks call each cipher. */
static const struct cipher_desc {
	uint16_t type;		/* TAPSEC_CIPHER_* */
	const char *name;	/* in --cipher, progress and JSON */
	const char *alias;	/* also taken by --cipher */
	const char *title;	/* in table headers */
	const char *aead;	/* the crypto API algorithm that serves it */
} cipher_descs[] __attribute__((unused)) = {
	{ TAPSEC_CIPHER_AES_GCM_128, "aes-128-gcm", "aes128", "AES-128-GCM",
	  "gcm(aes)" },
	{ TAPSEC_CIPHER_AES_GCM_256, "aes-256-gcm", "aes256", "AES-256-GCM",
	  "gcm(aes)" },
	{ TAPSEC_CIPHER_CHACHA20_POLY1305, "chacha20-poly1305", "chacha20",
	  "ChaCha20-Poly1305", "rfc7539(chacha20,poly1305)" },
};
#define NCIPHERS	3

/* @c's entry; anything unknown is the last (ChaCha20-Poly1305). */
static const struct cipher_desc *cipher_desc(uint16_t c)
{
	int i;

	for (i = 0; i < NCIPHERS - 1; i++)
		if (cipher_descs[i].type == c)
			break;
	return &cipher_descs[i];
}

BENCH_API const char *cipher_name(uint16_t c)
{
	return cipher_desc(c)->name;
}

BENCH_API const char *cipher_title(uint16_t c)
{
	return cipher_desc(c)->title;
}

/* The crypto API algorithm that serves @cipher. */
BENCH_API const char *aead_name(uint16_t cipher)
{
	return cipher_desc(cipher)->aead;
}

BENCH_API int parse_cipher(const char *s, uint16_t *c)
{
	int i;

	for (i = 0; i < NCIPHERS; i++)
		if (!strcmp(s, cipher_descs[i].name) ||
		    !strcmp(s, cipher_descs[i].alias)) {
			*c = cipher_descs[i].type;
			return 0;
		}
	return -1;
}

/* The key material of one direction, laid out for the cipher. */
union crypto_info {
	struct tapsec_crypto_info info;
	struct tapsec_crypto_info_aes_gcm_128 aes128;
	struct tapsec_crypto_info_aes_gcm_256 aes256;
	struct tapsec_crypto_info_chacha20_poly1305 chacha;
};

static int random_bytes(void *p, size_t n)
{
	return getrandom(p, n, 0) == (ssize_t)n ? 0 : -1;
}

static void put_be64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

/*
 * Random key, IV and salt for @version and @cipher; @rec_seq is the first
 * record's sequence number (for DTLS the epoch in its top 16 bits).
 * Returns the length to pass to setsockopt, or 0 when getrandom failed.
 */
BENCH_API socklen_t make_crypto_info(uint16_t version, uint16_t cipher,
				     uint64_t rec_seq, union crypto_info *ci)
{
	unsigned char *key, *iv, *salt, *seq;
	size_t klen, ivlen;
	socklen_t len;

	memset(ci, 0, sizeof(*ci));
	ci->info.version = version;
	ci->info.cipher_type = cipher;
/* The fields every layout has, in member @m of union crypto_info. */
#define LAYOUT(m) (key = ci->m.key, klen = sizeof(ci->m.key), iv = ci->m.iv, \
		   ivlen = sizeof(ci->m.iv), seq = ci->m.rec_seq, \
		   len = sizeof(ci->m))
	switch (cipher) {
	case TAPSEC_CIPHER_AES_GCM_128:
		LAYOUT(aes128);
		salt = ci->aes128.salt;
		break;
	case TAPSEC_CIPHER_AES_GCM_256:
		LAYOUT(aes256);
		salt = ci->aes256.salt;
		break;
	default:	/* ChaCha20-Poly1305: a 12-byte IV, no salt */
		LAYOUT(chacha);
		salt = NULL;
		break;
	}
#undef LAYOUT
	if (random_bytes(key, klen) || random_bytes(iv, ivlen) ||
	    (salt && random_bytes(salt, sizeof(ci->aes128.salt))))
		return 0;
	put_be64(seq, rec_seq);
	return len;
}

/* ----------------------------------------------------------- options -- */

/* The options every benchmark has; bench_getopt() sets them. */
static struct {
	int rounds;		/* interleaved rounds */
	int timeout;		/* seconds per transfer */
	bool verbose;		/* a progress line per transfer on stderr */
	bool pin;		/* sender on CPU 0, receiver on CPU 1 */
	uint16_t cipher;	/* --cipher */
	bool all_ciphers;	/* --all-ciphers */
	size_t sizes[MAX_SIZES];	/* --sizes, up to max_size */
	int nsizes;
	size_t max_size;
	const char *const *stack_names;	/* the benchmark's stacks */
	int nstacks;
	bool stack_on[MAX_STACKS];	/* --stacks */
	bool stacks_given;
} bench __attribute__((unused)) = {
	.rounds = 9,
	.timeout = 120,
	.verbose = true,
	.pin = true,
	.cipher = TAPSEC_CIPHER_AES_GCM_128,
};

/* getopt_long values: the common options, then each benchmark's own. */
enum { O_ROUNDS = 200, O_NOPIN, O_TIMEOUT, O_QUIET, O_CIPHER, O_ALL,
       O_SIZES, O_STACKS, O_OWN = 256 };

/* The common options' entries, at the end of a benchmark's longopts. */
#define BENCH_OPTIONS \
	{ "cipher", required_argument, NULL, O_CIPHER }, \
	{ "all-ciphers", no_argument, NULL, O_ALL }, \
	{ "sizes", required_argument, NULL, O_SIZES }, \
	{ "stacks", required_argument, NULL, O_STACKS }, \
	{ "rounds", required_argument, NULL, O_ROUNDS }, \
	{ "no-pin", no_argument, NULL, O_NOPIN }, \
	{ "timeout", required_argument, NULL, O_TIMEOUT }, \
	{ "quiet", no_argument, NULL, O_QUIET }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ 0 }

/* One message on stderr: the benchmark's name, @what, the text, @end. */
static void vmessage(const char *what, const char *end, const char *fmt,
		     va_list ap)
{
	fprintf(stderr, BENCH_NAME ": %s", what);
	vfprintf(stderr, fmt, ap);
	fputs(end, stderr);
}

BENCH_API void bad_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("", " (see --help)\n", fmt, ap);
	va_end(ap);
	exit(2);
}

/* A byte count with an optional k or m suffix, 1 to @max. */
BENCH_API int parse_size(const char *s, size_t *out, size_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end == 'k' || *end == 'K')
		v *= KIB, end++;
	else if (*end == 'm' || *end == 'M')
		v *= MIB, end++;
	if (*end || !v || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A number from @lo to @hi for option @name (as strtol reads it). */
BENCH_API long parse_long(const char *s, long lo, long hi, const char *name)
{
	long v = strtol(s, NULL, 10);

	if (v < lo || v > hi)
		bad_usage("%s: %ld..%ld", name, lo, hi);
	return v;
}

/* A comma-separated list of sizes into @sizes; returns how many. */
BENCH_API int parse_sizes(const char *arg, size_t *sizes, int max_n,
			  size_t max_size)
{
	char *list = strdup(arg), *tok, *save;
	int n = 0;

	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == max_n)
			bad_usage("--sizes: at most %d", max_n);
		if (parse_size(tok, &sizes[n++], max_size))
			bad_usage("--sizes: bad size %s", tok);
	}
	free(list);
	return n;
}

/* A comma-separated list of @names: on[i] for each one given. */
BENCH_API void parse_names(const char *arg, const char *const *names, int n,
			   bool *on, const char *option)
{
	char *list = strdup(arg), *tok, *save;
	int i;

	memset(on, 0, n * sizeof(*on));
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < n; i++)
			if (!strcmp(tok, names[i]))
				break;
		if (i == n)
			bad_usage("%s: unknown stack %s", option, tok);
		on[i] = true;
	}
	free(list);
}

/*
 * Parse the command line: the common options into bench (set max_size,
 * stack_names and nstacks first), the benchmark's own (at O_OWN and up)
 * by @own; -h prints @usage and exits 0, a bad option or a stray argument
 * exits 2.
 */
BENCH_API void bench_getopt(int argc, char **argv,
			    const struct option *longopts,
			    void (*own)(int c, const char *arg),
			    void (*usage)(FILE *f))
{
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_ROUNDS:
			bench.rounds = (int)parse_long(optarg, 1, MAX_ROUNDS,
						       "--rounds");
			break;
		case O_NOPIN:
			bench.pin = false;
			break;
		case O_TIMEOUT:
			bench.timeout = (int)parse_long(optarg, 1, 86400,
							"--timeout");
			break;
		case O_QUIET:
			bench.verbose = false;
			break;
		case O_CIPHER:
			if (parse_cipher(optarg, &bench.cipher))
				bad_usage("--cipher: unknown cipher %s", optarg);
			break;
		case O_ALL:
			bench.all_ciphers = true;
			break;
		case O_SIZES:
			bench.nsizes = parse_sizes(optarg, bench.sizes, MAX_SIZES,
						   bench.max_size);
			break;
		case O_STACKS:
			bench.stacks_given = true;
			parse_names(optarg, bench.stack_names, bench.nstacks,
				    bench.stack_on, "--stacks");
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			if (c < O_OWN) {
				usage(stderr);
				exit(2);
			}
			own(c, optarg);
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument %s", argv[optind]);
}

/* ---------------------------------------------------------- failures -- */

static int failures __attribute__((unused));

BENCH_API void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("FAIL: ", "\n", fmt, ap);
	va_end(ap);
	failures++;
}

/* What the alarm names when a transfer hangs. */
static const char *current_transfer __attribute__((unused)) = "";

BENCH_API void on_alarm(int sig)
{
	static const char msg[] = BENCH_NAME ": FAIL: transfer timed out: ";
	ssize_t r;

	(void)sig;
	r = write(2, msg, sizeof(msg) - 1);
	r = write(2, current_transfer, strlen(current_transfer));
	r = write(2, "\n", 1);
	(void)r;
	_exit(1);
}

/* ------------------------------------------------------------ timing -- */

/* Signals, line-buffered stdout, and the kernel release into @u. */
BENCH_API void bench_setup(struct utsname *u)
{
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	setvbuf(stdout, NULL, _IOLBF, 0);
	uname(u);
}

/*
 * Run @receiver and @sender on @arg in two threads and wait for both; the
 * alarm ends the process after @limit seconds, naming @what.
 */
BENCH_API void run_pair(void *(*receiver)(void *), void *(*sender)(void *),
			void *arg, const char *what, unsigned int limit)
{
	pthread_t ts, tr;

	current_transfer = what;
	alarm(limit);
	if (pthread_create(&tr, NULL, receiver, arg) ||
	    pthread_create(&ts, NULL, sender, arg)) {
		fprintf(stderr, BENCH_NAME ": pthread_create failed\n");
		exit(1);
	}
	pthread_join(ts, NULL);
	pthread_join(tr, NULL);
	alarm(0);
}

/*
 * The timed rounds: each runs every (size, configuration, stack) once,
 * the stacks that are on in an order rotated by one per round, so that a
 * slow drift of the machine hits every stack alike.
 */
BENCH_API void run_rounds(const bool *stack_on, int nstacks, int nsizes,
			  int nconfigs,
			  void (*one)(int round, int si, int ci, int st))
{
	int order[16], n = 0, round, si, ci, k;

	for (k = 0; k < nstacks && n < 16; k++)
		if (stack_on[k])
			order[n++] = k;
	for (round = 0; round < bench.rounds; round++)
		for (si = 0; si < nsizes; si++)
			for (ci = 0; ci < nconfigs; ci++)
				for (k = 0; k < n; k++)
					one(round, si, ci,
					    order[(k + round) % n]);
}

BENCH_API void pin_to(int cpu)
{
	cpu_set_t set;

	if (!bench.pin)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* Best effort: a single-CPU machine keeps both on CPU 0. */
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

BENCH_API double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

BENCH_API double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

/* ----------------------------------------------------------- results -- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

BENCH_API double median(const double *v, int n)
{
	double s[MAX_ROUNDS];

	if (!n)
		return 0;
	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/*
 * The ratios a[i] / b[i] of the first @n rounds (the two ran back to back
 * in each): their range and median.  With no rounds all three stay @dflt.
 */
BENCH_API void round_ratios(const double *a, const double *b, int n,
			    double dflt, double *lo, double *hi, double *mid)
{
	double q[MAX_ROUNDS];
	int i;

	*lo = *hi = *mid = dflt;
	for (i = 0; i < n; i++) {
		q[i] = a[i] / b[i];
		if (!i || q[i] < *lo)
			*lo = q[i];
		if (!i || q[i] > *hi)
			*hi = q[i];
	}
	if (n)
		*mid = median(q, n);
}

BENCH_API void size_label(size_t size, char *buf, size_t len)
{
	if (size % MIB == 0)
		snprintf(buf, len, "%zuM", size / MIB);
	else if (size % KIB == 0)
		snprintf(buf, len, "%zuK", size / KIB);
	else
		snprintf(buf, len, "%zu", size);
}

/*
 * The report: per configuration the table of medians and, with more than
 * one round, of bests; then one JSON line per (configuration, size).
 */
BENCH_API void report_all(int nconfigs, int nsizes,
			  void (*table)(int ci, const char *release, bool best),
			  void (*json)(int ci, int si, const char *release,
				       double elapsed),
			  const char *release, double elapsed)
{
	int ci, si;

	for (ci = 0; ci < nconfigs; ci++) {
		table(ci, release, false);
		if (bench.rounds > 1)
			table(ci, release, true);
	}
	printf("\n");
	for (ci = 0; ci < nconfigs; ci++)
		for (si = 0; si < nsizes; si++)
			json(ci, si, release, elapsed);
	fflush(stdout);
}

/*
 * The implementation the crypto API picks for @name: the highest-priority
 * driver in /proc/crypto that is not internal.  "?" when not instantiated.
 */
BENCH_API void crypto_driver(const char *name, char *out, size_t len)
{
	char line[256], drv[160] = "", key[64], val[160];
	bool match = false, internal = false;
	long prio = -1, best = -1;
	FILE *f = fopen("/proc/crypto", "r");

	snprintf(out, len, "?");
	if (!f)
		return;
	for (;;) {
		bool eof = !fgets(line, sizeof(line), f);

		if (eof || line[0] == '\n') {
			if (match && !internal && prio > best) {
				best = prio;
				snprintf(out, len, "%s", drv);
			}
			match = internal = false;
			prio = -1;
			if (eof)
				break;
			continue;
		}
		if (sscanf(line, "%63s : %159[^\n]", key, val) != 2)
			continue;
		if (!strcmp(key, "name"))
			match = !strcmp(val, name);
		else if (!strcmp(key, "driver"))
			snprintf(drv, sizeof(drv), "%s", val);
		else if (!strcmp(key, "priority"))
			prio = strtol(val, NULL, 10);
		else if (!strcmp(key, "internal"))
			internal = !strcmp(val, "yes");
	}
	fclose(f);
}

/* The CPU's model name ("QEMU TCG CPU ..." under emulation). */
BENCH_API const char *cpu_model(void)
{
	static char model[128];
	char line[256];
	FILE *f;

	if (model[0])
		return model;
	snprintf(model, sizeof(model), "?");
	f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return model;
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !v)
			continue;
		v += strspn(v + 1, " ") + 1;
		v[strcspn(v, "\n")] = 0;
		snprintf(model, sizeof(model), "%s", v);
		break;
	}
	fclose(f);
	return model;
}

#endif /* TAPSEC_BENCH_COMMON_H */
