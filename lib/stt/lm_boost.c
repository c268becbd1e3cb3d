/*
 * lm_boost.c — the vocabulary boost's language model: a trigram over the
 * agent's expected phrases (intent examples, slot patterns), with
 * interpolated Witten-Bell discounting, written as an ARPA file for
 * sphinxbase to read and interpolate with the general model
 * (docs/stt.md "Vocabulary boost").
 *
 * Interpolated Witten-Bell: for a history h seen c(h) times with T(h)
 * distinct followers,
 *     P(w|h) = (c(h,w) + T(h) P(w|h')) / (c(h) + T(h))
 * where h' drops h's oldest word. In ARPA form the listed probability of a
 * seen n-gram is that interpolated value and the back-off weight of h is
 * exactly T(h) / (c(h) + T(h)), which keeps every distribution normalised.
 * Unigrams are add-one estimates over the phrase vocabulary.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stt/stt_int.h"

#define ORDER 3
#define BOS 0           /* word id of <s> */
#define EOS 1           /* word id of </s> */

struct vocab {
	char **words;
	size_t n, cap;
	size_t *count;          /* unigram counts */
};

struct gram {
	int w[ORDER];           /* w[0..order-1] */
	int order;
	long count;
};

struct grams {
	struct gram *g;
	size_t n, cap;
};

static int vocab_id(struct vocab *v, const char *word)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (!strcmp(v->words[i], word))
			return (int)i;
	if (v->n == v->cap) {
		size_t nc = v->cap ? 2 * v->cap : 64;
		char **nw = realloc(v->words, nc * sizeof(*nw));
		size_t *ncnt;

		if (!nw)
			return -1;
		v->words = nw;
		ncnt = realloc(v->count, nc * sizeof(*ncnt));
		if (!ncnt)
			return -1;
		v->count = ncnt;
		v->cap = nc;
	}
	if (!(v->words[v->n] = strdup(word)))
		return -1;
	v->count[v->n] = 0;
	return (int)v->n++;
}

static bool grams_add(struct grams *gs, const int *w, int order)
{
	struct gram *g;

	if (gs->n == gs->cap) {
		size_t nc = gs->cap ? 2 * gs->cap : 256;
		struct gram *ng = realloc(gs->g, nc * sizeof(*ng));

		if (!ng)
			return false;
		gs->g = ng;
		gs->cap = nc;
	}
	g = &gs->g[gs->n++];
	memset(g, 0, sizeof(*g));
	memcpy(g->w, w, (size_t)order * sizeof(int));
	g->order = order;
	g->count = 1;
	return true;
}

static int gram_cmp(const void *a, const void *b)
{
	const struct gram *x = a, *y = b;
	int i;

	if (x->order != y->order)
		return x->order - y->order;
	for (i = 0; i < x->order; i++)
		if (x->w[i] != y->w[i])
			return x->w[i] < y->w[i] ? -1 : 1;
	return 0;
}

/* Sort and merge duplicates, summing counts. */
static void grams_unique(struct grams *gs)
{
	size_t i, o = 0;

	if (!gs->n)
		return;
	qsort(gs->g, gs->n, sizeof(*gs->g), gram_cmp);
	for (i = 1; i < gs->n; i++) {
		if (gram_cmp(&gs->g[o], &gs->g[i]) == 0)
			gs->g[o].count += gs->g[i].count;
		else
			gs->g[++o] = gs->g[i];
	}
	gs->n = o + 1;
}

static const struct gram *grams_find(const struct grams *gs, const int *w,
				     int order)
{
	struct gram key;

	memset(&key, 0, sizeof(key));
	memcpy(key.w, w, (size_t)order * sizeof(int));
	key.order = order;
	return bsearch(&key, gs->g, gs->n, sizeof(*gs->g), gram_cmp);
}

static const char *const digit_words[] = {
	"zero", "one", "two", "three", "four", "five", "six", "seven",
	"eight", "nine",
};

/* Append `word` to the OOV list once. */
static void oov_add(struct vagent__strbuf *oov, const char *word)
{
	const char *p = oov->p;
	size_t n = strlen(word);

	while (p && *p) {
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == n && !strncmp(p, word, n))
			return;
		p = e ? e + 1 : p + len;
	}
	if (oov->len)
		vagent__strbuf_puts(oov, " ");
	vagent__strbuf_puts(oov, word);
}

/* Count the n-grams of one run of known words ids[0..n-1]; `bos`/`eos`:
 * the run starts/ends the phrase. */
static bool count_run(struct grams *gs, struct vocab *v, const int *ids,
		      size_t n, bool bos, bool eos)
{
	int seq[512 + 2];
	size_t len = 0, i;
	int k;

	if (!n)
		return true;
	if (bos)
		seq[len++] = BOS;
	for (i = 0; i < n && len < 512; i++)
		seq[len++] = ids[i];
	if (eos)
		seq[len++] = EOS;
	for (i = 0; i < len; i++) {
		if (seq[i] != BOS)
			v->count[seq[i]]++;
		for (k = 2; k <= ORDER && (size_t)k <= i + 1; k++)
			if (!grams_add(gs, &seq[i + 1 - (size_t)k], k))
				return false;
	}
	return true;
}

/* Tokenise one phrase into word ids (digits spelled out), counting its
 * n-grams; OOV words split the phrase into runs. */
static bool count_phrase(const char *phrase, struct vocab *v,
			 struct grams *gs, struct vagent__strbuf *oov,
			 vagent__in_dict_fn in_dict, void *arg)
{
	int ids[512];
	size_t n = 0;
	bool bos = true;
	const char *s = phrase;

	for (;;) {
		char word[128];
		size_t len = 0;

		while (*s && !(isalnum((unsigned char)*s) || *s == '\''))
			s++;
		if (!*s)
			break;
		if (isdigit((unsigned char)*s)) {
			/* each digit a word: "4512" -> four five one two */
			int id = vocab_id(v, digit_words[*s - '0']);

			if (id < 0)
				return false;
			if (n < VAGENT__ARRAY_SIZE(ids))
				ids[n++] = id;
			s++;
			continue;
		}
		while (*s && (isalpha((unsigned char)*s) || *s == '\'')) {
			if (len < sizeof(word) - 1)
				word[len++] = (char)tolower((unsigned char)*s);
			s++;
		}
		word[len] = '\0';
		while (len && word[len - 1] == '\'')
			word[--len] = '\0';
		if (!len)
			continue;
		if (in_dict(arg, word)) {
			int id = vocab_id(v, word);

			if (id < 0)
				return false;
			if (n < VAGENT__ARRAY_SIZE(ids))
				ids[n++] = id;
		} else {
			oov_add(oov, word);
			if (!count_run(gs, v, ids, n, bos, false))
				return false;
			n = 0;
			bos = false;
		}
	}
	return count_run(gs, v, ids, n, bos, true);
}

/* c(h) and T(h) of history h (order `hn`) from the sorted (hn+1)-grams. */
static void history_stats(const struct grams *gs, const int *h, int hn,
			  long *c, long *t)
{
	size_t i;

	*c = 0;
	*t = 0;
	/* linear over the sorted range: the phrase sets are small */
	for (i = 0; i < gs->n; i++) {
		const struct gram *g = &gs->g[i];

		if (g->order != hn + 1 ||
		    memcmp(g->w, h, (size_t)hn * sizeof(int)))
			continue;
		*c += g->count;
		(*t)++;
	}
}

static double lg(double p)
{
	return p > 0 ? log10(p) : -99.0;
}

vagent_status vagent__lm_boost_write(const char *const *phrases,
				     vagent__in_dict_fn in_dict, void *arg,
				     const char *path, const char *where,
				     char **oov_out, size_t *n_words,
				     struct vagent_error *err)
{
	struct vocab v = { 0 };
	struct grams gs = { 0 };
	struct vagent__strbuf oov = { 0 };
	size_t i, n_ord[ORDER + 1] = { 0 }, total = 0;
	double *p1 = NULL, *p2 = NULL;
	FILE *f = NULL;
	vagent_status st = VAGENT_OK;
	int o;

	*oov_out = NULL;
	*n_words = 0;
	if (vocab_id(&v, "<s>") != BOS || vocab_id(&v, "</s>") != EOS)
		goto nomem;
	for (i = 0; phrases && phrases[i]; i++)
		if (!count_phrase(phrases[i], &v, &gs, &oov, in_dict, arg))
			goto nomem;
	if (oov.oom)
		goto nomem;
	*n_words = v.n - 2;
	if (v.n <= 2) {
		st = vagent__error_set(err, VAGENT_EINVAL, where,
				       "boost: no phrase has a word the dictionary knows%s%s",
				       oov.len ? "; unknown: " : "",
				       oov.len ? oov.p : "");
		goto out;
	}
	grams_unique(&gs);
	for (i = 0; i < gs.n; i++)
		n_ord[gs.g[i].order]++;
	n_ord[1] = v.n;
	for (i = 1; i < v.n; i++)
		total += v.count[i];

	f = fopen(path, "w");
	if (!f) {
		st = vagent__error_set(err, VAGENT_EIO, where,
				       "boost: cannot write %s: %s", path,
				       strerror(errno));
		goto out;
	}
	fprintf(f, "\\data\\\n");
	for (o = 1; o <= ORDER; o++)
		fprintf(f, "ngram %d=%zu\n", o, n_ord[o]);

	/* unigrams: add-one over the vocabulary (without <s>) */
	p1 = calloc(v.n, sizeof(*p1));
	p2 = calloc(gs.n ? gs.n : 1, sizeof(*p2));
	if (!p1 || !p2)
		goto nomem;
	fprintf(f, "\n\\1-grams:\n");
	for (i = 0; i < v.n; i++) {
		long c, t;
		int h = (int)i;

		p1[i] = i == BOS ? 0 :
			((double)v.count[i] + 1) / ((double)total + (double)(v.n - 1));
		history_stats(&gs, &h, 1, &c, &t);
		if (t)
			fprintf(f, "%.6f %s %.6f\n", lg(p1[i]), v.words[i],
				lg((double)t / (double)(c + t)));
		else
			fprintf(f, "%.6f %s\n", lg(p1[i]), v.words[i]);
	}
	/* bigrams and trigrams: interpolated Witten-Bell */
	for (o = 2; o <= ORDER; o++) {
		fprintf(f, "\n\\%d-grams:\n", o);
		for (i = 0; i < gs.n; i++) {
			const struct gram *g = &gs.g[i];
			long c, t, hc, ht;
			double lower, p;

			if (g->order != o)
				continue;
			history_stats(&gs, g->w, o - 1, &c, &t);
			if (o == 2) {
				lower = p1[g->w[1]];
			} else {
				/* the bigram (w1, w2) was counted with it */
				const struct gram *b = grams_find(&gs, &g->w[1], 2);

				lower = b ? p2[b - gs.g] : 0;
			}
			p = ((double)g->count + (double)t * lower) /
			    (double)(c + t);
			p2[i] = p;
			if (o < ORDER) {
				history_stats(&gs, g->w, o, &hc, &ht);
				if (ht) {
					fprintf(f, "%.6f", lg(p));
					for (int k = 0; k < o; k++)
						fprintf(f, " %s", v.words[g->w[k]]);
					fprintf(f, " %.6f\n",
						lg((double)ht / (double)(hc + ht)));
					continue;
				}
			}
			fprintf(f, "%.6f", lg(p));
			for (int k = 0; k < o; k++)
				fprintf(f, " %s", v.words[g->w[k]]);
			fprintf(f, "\n");
		}
	}
	fprintf(f, "\n\\end\\\n");
	if (fclose(f) != 0) {
		f = NULL;
		st = vagent__error_set(err, VAGENT_EIO, where,
				       "boost: cannot write %s: %s", path,
				       strerror(errno));
		goto out;
	}
	f = NULL;
	goto out;
nomem:
	st = vagent__error_set(err, VAGENT_ENOMEM, where, "out of memory");
out:
	if (f)
		fclose(f);
	if (st == VAGENT_OK) {
		*oov_out = vagent__strbuf_detach(&oov);
		if (!*oov_out)
			st = vagent__error_set(err, VAGENT_ENOMEM, where,
					       "out of memory");
	}
	vagent__strbuf_release(&oov);
	for (i = 0; i < v.n; i++)
		free(v.words[i]);
	free(v.words);
	free(v.count);
	free(gs.g);
	free(p1);
	free(p2);
	return st;
}
