/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kselftest harness, as tapsec's C suites use it: include this instead
 * of kselftest_harness.h and end with TAPSEC_HARNESS_MAIN.
 *
 * TAPSEC_HARNESS_MAIN is TEST_HARNESS_MAIN, but with TAP_SLICE_VARIANTS=1
 * in the environment each fixture keeps a covering slice of its variants:
 * its first, then, one at a time, the variant whose name brings the most
 * words ("_"-separated: tls13, chacha20, ulp, ipv6...) not yet covered,
 * until every word of every variant's name is in a kept one.  Every test
 * function still runs, and every version, cipher, entry point and family
 * still runs at least once per fixture; the full product runs where the
 * variable is not set.  tools/check sets it for the stock 6.1 kernel,
 * whose source the debug kernel runs in full (Documentation/testing.rst).
 * The 6.1 harness has no filter of its own.
 */
#ifndef TAPSEC_HARNESS_H
#define TAPSEC_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#define TAPSEC_SLICE_WORDS	16
#define TAPSEC_SLICE_WORD_LEN	32

struct tapsec_slice_words {
	int n;
	char w[TAPSEC_SLICE_WORDS][TAPSEC_SLICE_WORD_LEN];
};

static inline int tapsec_slice_has(const struct tapsec_slice_words *s,
				   const char *w)
{
	int i;

	/* Compared as stored: cut to TAPSEC_SLICE_WORD_LEN - 1. */
	for (i = 0; i < s->n; i++)
		if (!strncmp(s->w[i], w, TAPSEC_SLICE_WORD_LEN - 1))
			return 1;
	return 0;
}

/* The words of @name not in @covered; added to @covered if @add. */
static inline int tapsec_slice_new_words(struct tapsec_slice_words *covered,
					 const char *name, int add)
{
	char buf[256], *tok, *save = NULL;
	int fresh = 0;

	snprintf(buf, sizeof(buf), "%s", name);
	for (tok = strtok_r(buf, "_", &save); tok;
	     tok = strtok_r(NULL, "_", &save)) {
		if (tapsec_slice_has(covered, tok))
			continue;
		fresh++;
		if (add && covered->n < TAPSEC_SLICE_WORDS)
			snprintf(covered->w[covered->n++],
				 TAPSEC_SLICE_WORD_LEN, "%s", tok);
	}
	return fresh;
}

static inline void tapsec_slice_fixture(struct __fixture_metadata *f)
{
	struct __fixture_variant_metadata *v, *best, *tail, *next;
	struct tapsec_slice_words covered = { 0 };
	int all = 0, kept = 1, n, most;
	struct __fixture_variant_metadata *keep[256];

	if (!f->variant)
		return;
	for (v = f->variant; v; v = v->next)
		all++;
	if (all > (int)(sizeof(keep) / sizeof(keep[0])))
		return;
	keep[0] = f->variant;
	tapsec_slice_new_words(&covered, f->variant->name, 1);
	for (;;) {
		best = NULL;
		most = 0;
		for (v = f->variant->next; v; v = v->next) {
			n = tapsec_slice_new_words(&covered, v->name, 0);
			if (n > most) {
				most = n;
				best = v;
			}
		}
		if (!best)
			break;
		n = covered.n;
		tapsec_slice_new_words(&covered, best->name, 1);
		/* No room left for words: keep what is kept. */
		if (covered.n == n)
			break;
		keep[kept++] = best;
	}
	/* Relink the kept ones in their declared order. */
	tail = NULL;
	for (v = f->variant; v; v = next) {
		next = v->next;
		for (n = 0; n < kept && keep[n] != v; n++)
			;
		if (n == kept)
			continue;
		v->prev = tail;
		v->next = NULL;
		if (tail)
			tail->next = v;
		tail = v;
	}
	f->variant->prev = tail;
	fprintf(stderr, "# TAP_SLICE_VARIANTS: %s runs %d of %d variants\n",
		f->name, kept, all);
}

static inline void tapsec_slice_variants(void)
{
	struct __fixture_metadata *f;
	const char *s = getenv("TAP_SLICE_VARIANTS");

	if (!s || !*s || !strcmp(s, "0"))
		return;
	for (f = __fixture_list; f; f = f->next)
		tapsec_slice_fixture(f);
}

#define TAPSEC_HARNESS_MAIN						\
	int main(int argc, char **argv)					\
	{								\
		tapsec_slice_variants();				\
		return test_harness_run(argc, argv);			\
	}

#endif /* TAPSEC_HARNESS_H */
