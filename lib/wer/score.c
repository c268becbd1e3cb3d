/*
 * score.c — scoring a hypothesis transcript against a reference: matching
 * utterances by id, normalizing, aligning, totals; rendering of alignments
 * and of the JSON result.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "wer/wer_int.h"

void vagent_wer_options_default(struct vagent_wer_options *o)
{
	memset(o, 0, sizeof(*o));
	o->normalizer = VAGENT_NORMALIZE_BASIC;
	o->cer = false;
}

double vagent_wer_rate(const struct vagent_wer_counts *c)
{
	size_t errors = c->sub + c->del + c->ins;

	if (c->ref_words == 0)
		return errors ? 1.0 : 0.0;
	return (double)errors / (double)c->ref_words;
}

void vagent_wer_result_free(struct vagent_wer_result *r)
{
	if (!r)
		return;
	vagent__arena_free(r->arena);
	free(r);
}

/* Working state of one vagent_wer_score() call. */
struct scorer {
	struct vagent__arena *arena;
	struct vagent__interner tokens;
	struct vagent__aligner aligner;
	int cer;
	vagent_text_normalizer norm;
	const char **tok;     /* scratch for tokenizing */
	size_t *len;
	int32_t *ids_ref, *ids_hyp;
	size_t scratch_cap;
};

static int scratch_reserve(struct scorer *s, size_t n)
{
	if (n <= s->scratch_cap)
		return 0;
	size_t cap = n < 256 ? 256 : n * 2;
	const char **tok = realloc(s->tok, cap * sizeof(*tok));
	if (!tok)
		return -1;
	s->tok = tok;
	size_t *len = realloc(s->len, cap * sizeof(*len));
	if (!len)
		return -1;
	s->len = len;
	int32_t *ir = realloc(s->ids_ref, cap * sizeof(*ir));
	if (!ir)
		return -1;
	s->ids_ref = ir;
	int32_t *ih = realloc(s->ids_hyp, cap * sizeof(*ih));
	if (!ih)
		return -1;
	s->ids_hyp = ih;
	s->scratch_cap = cap;
	return 0;
}

/*
 * Normalize and tokenize `text`; token copies go to the arena (*out_toks)
 * and their interned ids to the scratch array of `side` (0 ref, 1 hyp).
 * Returns the token count or -1 when out of memory.
 */
static long prepare_side(struct scorer *s, const char *text, int side,
			 const char ***out_toks)
{
	/* "none" only splits on whitespace, which the tokenizer does anyway. */
	char *norm = s->norm == VAGENT_NORMALIZE_NONE ? NULL : vagent_text_normalize(text, s->norm);
	const char *src = s->norm == VAGENT_NORMALIZE_NONE ? text : norm;
	const char **toks = NULL;
	int32_t *ids;
	long ret = -1;
	size_t n;

	if (!src)
		goto out;
	n = vagent__tokenize(src, s->cer, NULL, NULL);
	if (scratch_reserve(s, n))
		goto out;
	vagent__tokenize(src, s->cer, s->tok, s->len);
	toks = vagent__arena_alloc(s->arena, (n ? n : 1) * sizeof(*toks));
	if (!toks)
		goto out;
	ids = side ? s->ids_hyp : s->ids_ref;
	for (size_t i = 0; i < n; i++) {
		char *t = vagent__arena_strndup(s->arena, s->tok[i], s->len[i]);
		int32_t id;
		if (!t)
			goto out;
		id = vagent__intern(&s->tokens, t, s->len[i]);
		if (id < 0)
			goto out;
		toks[i] = t;
		ids[i] = id;
	}
	*out_toks = toks;
	ret = (long)n;
out:
	free(norm);
	return ret;
}

static void counts_add(struct vagent_wer_counts *t, const struct vagent_wer_counts *c)
{
	t->cor += c->cor;
	t->sub += c->sub;
	t->del += c->del;
	t->ins += c->ins;
	t->ref_words += c->ref_words;
	t->hyp_words += c->hyp_words;
}

static int score_utt(struct scorer *s, struct vagent_wer_utt *u,
		     const struct vagent_utterance *r, const struct vagent_utterance *h)
{
	const char **rt = NULL, **ht = NULL;
	long n, m = 0;
	struct vagent_wer_edit *edits;
	size_t ne;

	/* scratch_reserve() keeps the reference ids when the hypothesis
	 * side grows the scratch arrays (realloc preserves contents). */
	n = prepare_side(s, r->text, 0, &rt);
	if (n < 0)
		return -1;
	if (h) {
		m = prepare_side(s, h->text, 1, &ht);
		if (m < 0)
			return -1;
	} else {
		ht = vagent__arena_alloc(s->arena, sizeof(*ht));
		if (!ht)
			return -1;
	}
	edits = vagent__arena_alloc(s->arena, ((size_t)n + (size_t)m + 1) * sizeof(*edits));
	u->id = vagent__arena_strndup(s->arena, r->id, strlen(r->id));
	if (!edits || !u->id)
		return -1;
	ne = vagent__align(&s->aligner, s->ids_ref, (size_t)n, s->ids_hyp, (size_t)m,
			   edits, &u->counts);
	if (ne == (size_t)-1)
		return -1;
	u->ref_line = r->line;
	u->hyp_line = h ? h->line : 0;
	u->hyp_missing = !h;
	u->n_ref = (size_t)n;
	u->n_hyp = (size_t)m;
	u->ref_tokens = rt;
	u->hyp_tokens = ht;
	u->n_edits = ne;
	u->edits = edits;
	return 0;
}

vagent_status vagent_wer_score(const struct vagent_transcript *ref,
			       const struct vagent_transcript *hyp,
			       const struct vagent_wer_options *opts,
			       struct vagent_wer_result **out,
			       struct vagent_error *err)
{
	struct vagent_wer_options defaults;
	struct vagent_wer_result *r = NULL;
	struct vagent__interner ids;
	struct scorer s;
	unsigned char *used = NULL;
	vagent_status st = VAGENT_ENOMEM;

	vagent__interner_init(&ids);
	memset(&s, 0, sizeof(s));
	vagent__interner_init(&s.tokens);
	vagent__aligner_init(&s.aligner);
	*out = NULL;
	if (!opts) {
		vagent_wer_options_default(&defaults);
		opts = &defaults;
	}
	s.cer = opts->cer;
	s.norm = opts->normalizer;

	r = calloc(1, sizeof(*r));
	if (!r || !(r->arena = vagent__arena_new()))
		goto out;
	s.arena = r->arena;
	r->normalizer = opts->normalizer;
	r->cer = opts->cer;
	used = calloc(hyp->count + 1, 1);
	r->utts = vagent__arena_alloc(r->arena, (ref->count + 1) * sizeof(*r->utts));
	r->missing_ids = vagent__arena_alloc(r->arena, (ref->count + 1) * sizeof(char *));
	r->extra_ids = vagent__arena_alloc(r->arena, (hyp->count + 1) * sizeof(char *));
	if (!used || !r->utts || !r->missing_ids || !r->extra_ids)
		goto out;

	/* Hypothesis ids are unique, so they intern to 0..count-1; a reference
	 * id that interns below hyp->count names that hypothesis. */
	for (size_t i = 0; i < hyp->count; i++)
		if (vagent__intern(&ids, hyp->utts[i].id, strlen(hyp->utts[i].id)) < 0)
			goto out;
	for (size_t i = 0; i < ref->count; i++) {
		struct vagent_wer_utt *u = &r->utts[r->n_utts++];
		int32_t k = vagent__intern(&ids, ref->utts[i].id, strlen(ref->utts[i].id));
		const struct vagent_utterance *h = NULL;

		if (k < 0)
			goto out;
		memset(u, 0, sizeof(*u));
		if ((size_t)k < hyp->count) {
			h = &hyp->utts[k];
			used[k] = 1;
		}
		if (score_utt(&s, u, &ref->utts[i], h))
			goto out;
		if (!h)
			r->missing_ids[r->n_missing++] = u->id;
		counts_add(&r->total, &u->counts);
	}
	for (size_t i = 0; i < hyp->count; i++) {
		if (used[i])
			continue;
		r->extra_ids[r->n_extra] = vagent__arena_strndup(r->arena, hyp->utts[i].id,
								 strlen(hyp->utts[i].id));
		if (!r->extra_ids[r->n_extra++])
			goto out;
	}
	*out = r;
	r = NULL;
	st = VAGENT_OK;
out:
	if (st != VAGENT_OK)
		vagent__error_set(err, st, "wer", "out of memory while scoring");
	vagent_wer_result_free(r);
	free(used);
	free(s.tok);
	free(s.len);
	free(s.ids_ref);
	free(s.ids_hyp);
	vagent__interner_release(&s.tokens);
	vagent__interner_release(&ids);
	vagent__aligner_release(&s.aligner);
	return st;
}

vagent_status vagent_wer_align_text(const char *ref, const char *hyp,
				    const struct vagent_wer_options *opts,
				    struct vagent_wer_counts *out,
				    struct vagent_error *err)
{
	struct vagent_transcript rt = { 0 }, ht = { 0 };
	struct vagent_utterance ru = { "1", ref, 1 }, hu = { "1", hyp, 1 };
	struct vagent_wer_result *r = NULL;
	vagent_status st;

	rt.count = ht.count = 1;
	rt.utts = &ru;
	ht.utts = &hu;
	st = vagent_wer_score(&rt, &ht, opts, &r, err);
	if (st == VAGENT_OK)
		*out = r->total;
	vagent_wer_result_free(r);
	return st;
}

/* ------------------------------------------------------------------ */
/* Rendering */

/* Display width: one column per code point. */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void sb_word(struct vagent__strbuf *b, const char *w, size_t wwidth, int upper, size_t width)
{
	size_t start = b->len, n = strlen(w);

	vagent__strbuf_put(b, w, n);
	if (upper && !b->oom)
		for (size_t i = start; i < start + n; i++)
			if (b->p[i] >= 'a' && b->p[i] <= 'z')
				b->p[i] = (char)(b->p[i] - 'a' + 'A');
	vagent__strbuf_fill(b, ' ', width - wwidth);
}

static void sb_trim_line(struct vagent__strbuf *b)
{
	vagent__strbuf_rtrim(b, ' ');
	vagent__strbuf_put(b, "\n", 1);
}

char *vagent_wer_utt_format_alignment(const struct vagent_wer_utt *u)
{
	struct vagent__strbuf lines[3] = { { 0 }, { 0 }, { 0 } };
	char *outp = NULL;

	vagent__strbuf_put(&lines[0], "REF:  ", 6);
	vagent__strbuf_put(&lines[1], "HYP:  ", 6);
	vagent__strbuf_put(&lines[2], "Eval: ", 6);
	for (size_t i = 0; i < u->n_edits; i++) {
		const struct vagent_wer_edit *e = &u->edits[i];
		const char *rw = e->ref >= 0 ? u->ref_tokens[e->ref] : NULL;
		const char *hw = e->hyp >= 0 ? u->hyp_tokens[e->hyp] : NULL;
		size_t rwid = rw ? text_width(rw) : 0, hwid = hw ? text_width(hw) : 0;
		size_t w = rwid > hwid ? rwid : hwid;
		int upper = e->op != 'C';

		if (rw)
			sb_word(&lines[0], rw, rwid, upper, w);
		else
			vagent__strbuf_fill(&lines[0], '*', w);
		if (hw)
			sb_word(&lines[1], hw, hwid, upper, w);
		else
			vagent__strbuf_fill(&lines[1], '*', w);
		vagent__strbuf_put(&lines[2], e->op == 'C' ? " " : &e->op, 1);
		vagent__strbuf_fill(&lines[2], ' ', w ? w - 1 : 0);
		for (int l = 0; l < 3; l++)
			vagent__strbuf_put(&lines[l], " ", 1);
	}
	for (int l = 0; l < 3; l++)
		sb_trim_line(&lines[l]);
	if (!lines[1].oom && !lines[2].oom) {
		vagent__strbuf_put(&lines[0], lines[1].p, lines[1].len);
		vagent__strbuf_put(&lines[0], lines[2].p, lines[2].len);
		outp = vagent__strbuf_detach(&lines[0]);
	}
	for (int l = 0; l < 3; l++)
		vagent__strbuf_release(&lines[l]);
	return outp;
}

/* A new object with the counts and the rate; with id != NULL, "id" first. */
static cJSON *counts_json(const struct vagent_wer_counts *c, const char *id)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	if (id && !cJSON_AddStringToObject(o, "id", id)) {
		cJSON_Delete(o);
		return NULL;
	}
	/* Rounded to 6 decimals: stable across platforms, ample for a rate. */
	double w = vagent_wer_rate(c);
	w = (double)(long long)(w * 1e6 + 0.5) / 1e6;
	if (!cJSON_AddNumberToObject(o, "wer", w) ||
	    !cJSON_AddNumberToObject(o, "sub", (double)c->sub) ||
	    !cJSON_AddNumberToObject(o, "del", (double)c->del) ||
	    !cJSON_AddNumberToObject(o, "ins", (double)c->ins) ||
	    !cJSON_AddNumberToObject(o, "cor", (double)c->cor) ||
	    !cJSON_AddNumberToObject(o, "ref_words", (double)c->ref_words) ||
	    !cJSON_AddNumberToObject(o, "hyp_words", (double)c->hyp_words) ||
	    !cJSON_AddNumberToObject(o, "errors", (double)(c->sub + c->del + c->ins))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The tokens joined by `sep` into `b`. */
static void join_tokens(struct vagent__strbuf *b, const char *const *toks, size_t n,
			const char *sep)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			vagent__strbuf_puts(b, sep);
		vagent__strbuf_puts(b, toks[i]);
	}
}

static cJSON *utt_json(const struct vagent_wer_utt *u, const char *sep, bool with_alignment)
{
	cJSON *o = counts_json(&u->counts, u->id), *a;
	struct vagent__strbuf ops = { 0 }, rtext = { 0 }, htext = { 0 };

	if (!o)
		return NULL;
	for (size_t i = 0; i < u->n_edits; i++)
		vagent__strbuf_put(&ops, &u->edits[i].op, 1);
	join_tokens(&rtext, u->ref_tokens, u->n_ref, sep);
	join_tokens(&htext, u->hyp_tokens, u->n_hyp, sep);
	if (ops.oom || rtext.oom || htext.oom ||
	    !cJSON_AddBoolToObject(o, "hyp_missing", u->hyp_missing) ||
	    !cJSON_AddStringToObject(o, "ref", rtext.p ? rtext.p : "") ||
	    !cJSON_AddStringToObject(o, "hyp", htext.p ? htext.p : "") ||
	    !cJSON_AddStringToObject(o, "ops", ops.p ? ops.p : ""))
		goto fail;
	if (with_alignment) {
		if (!(a = cJSON_AddArrayToObject(o, "alignment")))
			goto fail;
		for (size_t i = 0; i < u->n_edits; i++) {
			const struct vagent_wer_edit *e = &u->edits[i];
			cJSON *step = cJSON_CreateArray();
			char op[2] = { e->op, 0 };
			if (!step)
				goto fail;
			cJSON_AddItemToArray(a, step);
			cJSON_AddItemToArray(step, cJSON_CreateString(op));
			cJSON_AddItemToArray(step, e->ref >= 0 ? cJSON_CreateString(u->ref_tokens[e->ref]) : cJSON_CreateNull());
			cJSON_AddItemToArray(step, e->hyp >= 0 ? cJSON_CreateString(u->hyp_tokens[e->hyp]) : cJSON_CreateNull());
			if (cJSON_GetArraySize(step) != 3)
				goto fail;
		}
	}
	goto out;
fail:
	cJSON_Delete(o);
	o = NULL;
out:
	vagent__strbuf_release(&ops);
	vagent__strbuf_release(&rtext);
	vagent__strbuf_release(&htext);
	return o;
}

char *vagent_wer_result_to_json(const struct vagent_wer_result *r, bool with_alignment)
{
	cJSON *root = cJSON_CreateObject(), *arr, *w;
	char *text = NULL;
	const char *sep = r->cer ? "" : " ";

	if (!root)
		return NULL;
	if (!cJSON_AddStringToObject(root, "version", vagent_version()) ||
	    !cJSON_AddStringToObject(root, "unit", r->cer ? "char" : "word") ||
	    !cJSON_AddStringToObject(root, "normalizer", vagent_text_normalizer_name(r->normalizer)))
		goto out;
	if (!(w = counts_json(&r->total, NULL)))
		goto out;
	cJSON_AddItemToObject(root, "wer", w);
	if (!cJSON_AddNumberToObject(root, "utterances_scored", (double)r->n_utts))
		goto out;
	if (!(arr = cJSON_AddArrayToObject(root, "missing")))
		goto out;
	for (size_t i = 0; i < r->n_missing; i++) {
		cJSON *s = cJSON_CreateString(r->missing_ids[i]);
		if (!s)
			goto out;
		cJSON_AddItemToArray(arr, s);
	}
	if (!(arr = cJSON_AddArrayToObject(root, "extra")))
		goto out;
	for (size_t i = 0; i < r->n_extra; i++) {
		cJSON *s = cJSON_CreateString(r->extra_ids[i]);
		if (!s)
			goto out;
		cJSON_AddItemToArray(arr, s);
	}
	if (!(arr = cJSON_AddArrayToObject(root, "utterances")))
		goto out;
	for (size_t i = 0; i < r->n_utts; i++) {
		cJSON *u = utt_json(&r->utts[i], sep, with_alignment);
		if (!u)
			goto out;
		cJSON_AddItemToArray(arr, u);
	}
	text = cJSON_Print(root);
out:
	cJSON_Delete(root);
	return text;
}
