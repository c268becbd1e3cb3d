/*
 * match.c — fuzzy intent matching and phrase spotting over recognised
 * speech. A query is scored against every example of every intent by a
 * soft, IDF-weighted token overlap (F-measure leaning on recall), combined
 * with keyword evidence, and scaled down for an intent that explains less
 * of the query than another does; tokens match by stem, sound key or small
 * edit distance, and words a recogniser split ("re fund") are re-joined.
 * docs/nlu.md explains the score and the thresholds to use.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/nlu_int.h"

/* Recall weighs BETA² times precision: callers pad what they mean with
 * words the examples do not have ("hi um yes so where is my order"). */
#define BETA2 4.0
/* A keyword hit alone scores this much; with example evidence more. */
#define KEYWORD_WEIGHT 0.5
/* Query words no intent knows weigh this fraction of the rarest word. */
#define UNKNOWN_WEIGHT 0.5
/* Answer words ("yes", "no", "okay") weigh this fraction of their IDF: they
 * answer a question, they do not ask for anything; "no" alone is not the
 * goodbye "no that's all". */
#define ANSWER_WEIGHT 0.25
/* An intent explaining a smaller part of the query's content than the
 * best-explaining intent is scaled by (its part / the best part)^this. */
#define EXPLAIN_POWER 2.0
/* Only words alike at least this much explain a query word: the same
 * stem or a sound-alike, not a loose spelling match. */
#define EXPLAIN_SIM 0.8

static bool is_answer_word(const char *w)
{
	static const char *const words[] = {
		"alright", "correct", "nah", "no", "nope", "ok", "okay", "right",
		"sure", "yeah", "yep", "yes", "yup",
	};

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (!strcmp(w, words[i]))
			return true;
	return false;
}

struct vocab_entry {
	struct vagent__nlu_token tok;   /* the first token seen with this stem */
	int df;                         /* intents using it */
	double idf;
};

struct example {
	size_t *terms;                  /* vocabulary indexes */
	size_t n;
};

struct intent {
	int id;
	struct example *examples;
	size_t nexamples;
	struct vagent__nlu_tokens *keywords;
	size_t nkeywords;
};

struct vagent_intent_matcher {
	struct intent *intents;
	size_t n;
	struct vocab_entry *vocab;      /* sorted by stem */
	size_t nvocab;
	double max_idf;
};

vagent_status vagent_intent_matcher_new(struct vagent_intent_matcher **out)
{
	if (!out)
		return VAGENT_EINVAL;
	*out = calloc(1, sizeof **out);
	return *out ? VAGENT_OK : VAGENT_ENOMEM;
}

void vagent_intent_matcher_free(struct vagent_intent_matcher *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		struct intent *in = &m->intents[i];

		for (size_t e = 0; e < in->nexamples; e++)
			free(in->examples[e].terms);
		free(in->examples);
		for (size_t k = 0; k < in->nkeywords; k++)
			vagent__nlu_tokens_free(&in->keywords[k]);
		free(in->keywords);
	}
	free(m->intents);
	free(m->vocab);
	free(m);
}

/* ---- vocabulary */

static size_t vocab_find(const struct vagent_intent_matcher *m, const char *stem,
			 bool *found)
{
	size_t lo = 0, hi = m->nvocab;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(stem, m->vocab[mid].tok.stem);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = false;
	return lo;
}

static bool in_vocab(const char *stem, const void *ctx)
{
	bool found;

	vocab_find(ctx, stem, &found);
	return found;
}

/* Insert a token's stem; vocabulary indexes held by examples shift. */
static bool vocab_add(struct vagent_intent_matcher *m, const struct vagent__nlu_token *t)
{
	bool found;
	size_t at = vocab_find(m, t->stem, &found);
	struct vocab_entry *v;

	if (found)
		return true;
	v = realloc(m->vocab, (m->nvocab + 1) * sizeof *v);
	if (!v)
		return false;
	m->vocab = v;
	memmove(v + at + 1, v + at, (m->nvocab - at) * sizeof *v);
	memset(&v[at], 0, sizeof v[at]);
	v[at].tok = *t;
	m->nvocab++;
	for (size_t i = 0; i < m->n; i++)
		for (size_t e = 0; e < m->intents[i].nexamples; e++) {
			struct example *ex = &m->intents[i].examples[e];

			for (size_t k = 0; k < ex->n; k++)
				if (ex->terms[k] >= at)
					ex->terms[k]++;
		}
	return true;
}

/* Document frequency over intents, and IDF = ln(1 + N/df). */
static void vocab_weigh(struct vagent_intent_matcher *m)
{
	bool *seen = NULL;
	bool found;

	for (size_t v = 0; v < m->nvocab; v++)
		m->vocab[v].df = 0;
	seen = calloc(m->nvocab ? m->nvocab : 1, sizeof *seen);
	for (size_t i = 0; i < m->n; i++) {
		const struct intent *in = &m->intents[i];

		if (seen)
			memset(seen, 0, m->nvocab * sizeof *seen);
		for (size_t e = 0; e < in->nexamples; e++)
			for (size_t k = 0; k < in->examples[e].n; k++) {
				size_t v = in->examples[e].terms[k];

				if (!seen || !seen[v])
					m->vocab[v].df++;
				if (seen)
					seen[v] = true;
			}
		for (size_t kw = 0; kw < in->nkeywords; kw++)
			for (size_t k = 0; k < in->keywords[kw].n; k++) {
				size_t v = vocab_find(m, in->keywords[kw].v[k].stem, &found);

				if (found && (!seen || !seen[v])) {
					m->vocab[v].df++;
					if (seen)
						seen[v] = true;
				}
			}
	}
	free(seen);
	m->max_idf = log(1.0 + (double)(m->n ? m->n : 1));
	for (size_t v = 0; v < m->nvocab; v++) {
		m->vocab[v].idf = log(1.0 + (double)m->n /
				      (double)(m->vocab[v].df ? m->vocab[v].df : 1));
		if (is_answer_word(m->vocab[v].tok.word))
			m->vocab[v].idf *= ANSWER_WEIGHT;
	}
}

/* ---- adding intents */

static bool tokens_of(const char *text, struct vagent__nlu_tokens *t)
{
	if (!vagent__nlu_tokenize(text, t))
		return false;
	vagent__nlu_tokens_drop_stop(t);
	return true;
}

vagent_status vagent_intent_matcher_add(struct vagent_intent_matcher *m,
					int intent,
					const char *const *examples,
					const char *const *keywords)
{
	struct intent *in = NULL;
	struct vagent__nlu_tokens t = {0};
	vagent_status st = VAGENT_ENOMEM;

	if (!m || intent < 0)
		return VAGENT_EINVAL;
	for (size_t i = 0; i < m->n; i++)
		if (m->intents[i].id == intent)
			in = &m->intents[i];
	if (!in) {
		struct intent *v = realloc(m->intents, (m->n + 1) * sizeof *v);

		if (!v)
			return VAGENT_ENOMEM;
		m->intents = v;
		in = &v[m->n++];
		memset(in, 0, sizeof *in);
		in->id = intent;
	}
	for (size_t e = 0; examples && examples[e]; e++) {
		struct example *ev;
		size_t *terms;
		bool found;

		t.n = 0;
		if (!tokens_of(examples[e], &t))
			goto done;
		if (!t.n)
			continue;
		for (size_t k = 0; k < t.n; k++)
			if (!vocab_add(m, &t.v[k]))
				goto done;
		terms = malloc(t.n * sizeof *terms);
		ev = realloc(in->examples, (in->nexamples + 1) * sizeof *ev);
		if (ev)
			in->examples = ev;
		if (!terms || !ev) {
			free(terms);
			goto done;
		}
		for (size_t k = 0; k < t.n; k++)
			terms[k] = vocab_find(m, t.v[k].stem, &found);
		in->examples[in->nexamples].terms = terms;
		in->examples[in->nexamples].n = t.n;
		in->nexamples++;
	}
	for (size_t k = 0; keywords && keywords[k]; k++) {
		struct vagent__nlu_tokens kt = {0}, *kv;

		if (!tokens_of(keywords[k], &kt)) {
			vagent__nlu_tokens_free(&kt);
			goto done;
		}
		if (!kt.n) {
			vagent__nlu_tokens_free(&kt);
			continue;
		}
		for (size_t q = 0; q < kt.n; q++)
			if (!vocab_add(m, &kt.v[q])) {
				vagent__nlu_tokens_free(&kt);
				goto done;
			}
		kv = realloc(in->keywords, (in->nkeywords + 1) * sizeof *kv);
		if (!kv) {
			vagent__nlu_tokens_free(&kt);
			goto done;
		}
		in->keywords = kv;
		in->keywords[in->nkeywords++] = kt;
	}
	st = VAGENT_OK;
done:
	vocab_weigh(m);
	vagent__nlu_tokens_free(&t);
	return st;
}

/* ---- matching */

/* Score every intent for `text` into scores[m->n]; false when the text
 * has no words or memory ran out (all scores 0). */
static bool score_all(const struct vagent_intent_matcher *m, const char *text,
		      double *scores)
{
	struct vagent__nlu_tokens q = {0};
	double *sim = NULL, *qw = NULL, *cover = NULL, *explained = NULL;
	double qsum = 0, best_explained = 0;
	size_t *first = NULL;
	bool ok = false;

	for (size_t n = 0; n < m->n; n++)
		scores[n] = 0;
	if (!m->nvocab || !vagent__nlu_tokenize(text, &q))
		goto done;
	vagent__nlu_tokens_join(&q, in_vocab, m);
	vagent__nlu_tokens_drop_stop(&q);
	if (q.n > VAGENT__NLU_QUERY_MAX)
		q.n = VAGENT__NLU_QUERY_MAX;
	if (!q.n)
		goto done;
	/* Similarity of every query token to every vocabulary word. */
	sim = malloc(q.n * m->nvocab * sizeof *sim);
	qw = malloc(q.n * sizeof *qw);
	cover = malloc(q.n * sizeof *cover);
	first = malloc(q.n * sizeof *first);
	explained = malloc(m->n * sizeof *explained);
	if (!sim || !qw || !cover || !first || !explained)
		goto done;
	for (size_t i = 0; i < q.n; i++) {
		bool found;
		size_t v = vocab_find(m, q.v[i].stem, &found);

		qw[i] = found ? m->vocab[v].idf : UNKNOWN_WEIGHT * m->max_idf;
		if (!found && is_answer_word(q.v[i].word))
			qw[i] *= ANSWER_WEIGHT;
		qsum += qw[i];
		/* A repeated word ("bye bye") is one piece of content. */
		first[i] = i;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(q.v[j].stem, q.v[i].stem)) {
				first[i] = j;
				break;
			}
		for (size_t k = 0; k < m->nvocab; k++)
			sim[i * m->nvocab + k] = vagent__nlu_token_sim(&q.v[i], &m->vocab[k].tok);
	}
	for (size_t n = 0; n < m->n; n++) {
		const struct intent *in = &m->intents[n];
		double ex_best = 0, kw_best = 0, s;

		/* cover[i]: how well any example or keyword word of this
		 * intent explains query word i. */
		for (size_t i = 0; i < q.n; i++)
			cover[i] = 0;
		for (size_t e = 0; e < in->nexamples; e++) {
			const struct example *ex = &in->examples[e];
			double pnum = 0, rnum = 0, rden = 0, p, r, f;

			/* Soft precision: how much of the query the example
			 * explains; soft recall: how much of the example the
			 * query says; both IDF-weighted. */
			for (size_t i = 0; i < q.n; i++) {
				double b = 0;

				for (size_t k = 0; k < ex->n; k++)
					if (sim[i * m->nvocab + ex->terms[k]] > b)
						b = sim[i * m->nvocab + ex->terms[k]];
				pnum += qw[i] * b;
				if (b >= EXPLAIN_SIM && b > cover[first[i]])
					cover[first[i]] = b;
			}
			for (size_t k = 0; k < ex->n; k++) {
				double w = m->vocab[ex->terms[k]].idf, b = 0;

				for (size_t i = 0; i < q.n; i++)
					if (sim[i * m->nvocab + ex->terms[k]] > b)
						b = sim[i * m->nvocab + ex->terms[k]];
				rnum += w * b;
				rden += w;
			}
			p = qsum > 0 ? pnum / qsum : 0;
			r = rden > 0 ? rnum / rden : 0;
			f = p + r > 0 ? (1 + BETA2) * p * r / (BETA2 * p + r) : 0;
			if (f > ex_best)
				ex_best = f;
		}
		for (size_t k = 0; k < in->nkeywords; k++) {
			const struct vagent__nlu_tokens *kw = &in->keywords[k];
			double ks = vagent__nlu_phrase_sim(&q, kw, 0.6, true);

			if (ks > kw_best)
				kw_best = ks;
			for (size_t t = 0; t < kw->n; t++) {
				bool found;
				size_t v = vocab_find(m, kw->v[t].stem, &found);

				for (size_t i = 0; found && i < q.n; i++)
					if (sim[i * m->nvocab + v] >= EXPLAIN_SIM &&
					    sim[i * m->nvocab + v] > cover[first[i]])
						cover[first[i]] = sim[i * m->nvocab + v];
			}
		}
		s = 1.0 - (1.0 - ex_best) * (1.0 - KEYWORD_WEIGHT * kw_best);
		scores[n] = s > 1 ? 1 : s;
		explained[n] = 0;
		for (size_t i = 0; i < q.n; i++)
			if (first[i] == i)
				explained[n] += qw[i] * cover[i];
		if (explained[n] > best_explained)
			best_explained = explained[n];
	}
	/* An intent that explains only a small part of what the caller said,
	 * while another explains more ("bye bye i'd like to check on my
	 * order": "bye" against "check", "order"), gives way. */
	for (size_t n = 0; n < m->n && best_explained > 0; n++)
		scores[n] *= pow(explained[n] / best_explained, EXPLAIN_POWER);
	ok = true;
done:
	free(sim);
	free(qw);
	free(cover);
	free(first);
	free(explained);
	vagent__nlu_tokens_free(&q);
	return ok;
}

size_t vagent_intent_scores(const struct vagent_intent_matcher *m,
			    const char *text, struct vagent_intent_score *out,
			    size_t max)
{
	double *scores;
	size_t found = 0;

	if (!m || !text || !out || !max || !m->n)
		return 0;
	scores = malloc(m->n * sizeof *scores);
	if (!scores)
		return 0;
	if (score_all(m, text, scores)) {
		while (found < max) {
			size_t best = SIZE_MAX;

			for (size_t n = 0; n < m->n; n++)
				if (scores[n] > 0 && (best == SIZE_MAX || scores[n] > scores[best]))
					best = n;
			if (best == SIZE_MAX)
				break;
			out[found].intent = m->intents[best].id;
			out[found].score = scores[best];
			scores[best] = 0;
			found++;
		}
	}
	free(scores);
	return found;
}

int vagent_intent_match(const struct vagent_intent_matcher *m,
			const char *text, double *score)
{
	struct vagent_intent_score best;

	if (score)
		*score = 0;
	if (vagent_intent_scores(m, text, &best, 1) != 1)
		return -1;
	if (score)
		*score = best.score;
	return best.intent;
}

/* ---- phrases */

static bool phrase_vocab(const char *stem, const void *ctx)
{
	const struct vagent__nlu_tokens *p = ctx;

	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].stem, stem))
			return true;
	return false;
}

bool vagent_text_has_phrase(const char *text, const char *phrase, double tolerance)
{
	struct vagent__nlu_tokens t = {0}, p = {0};
	bool found = false;

	if (!text || !phrase || !(tolerance >= 0))
		return false;
	if (tolerance > 1)
		tolerance = 1;
	if (vagent__nlu_tokenize(text, &t) && vagent__nlu_tokenize(phrase, &p) && p.n) {
		if (tolerance > 0)
			vagent__nlu_tokens_join(&t, phrase_vocab, &p);
		found = vagent__nlu_phrase_sim(&t, &p, 1.0 - tolerance, tolerance > 0) > 0;
	}
	vagent__nlu_tokens_free(&t);
	vagent__nlu_tokens_free(&p);
	return found;
}
