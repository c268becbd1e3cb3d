/*
 * text.c — the word layer under intent matching, phrase spotting and
 * knowledge retrieval: normalising tokenizer (contractions, possessives,
 * punctuation), stop words, a light stemmer, a metaphone-like sound key,
 * bounded edit distance and the token similarity built on them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/nlu_int.h"

/* ---- stop words */

static const char *const stop_words[] = {
	"a", "about", "am", "an", "and", "any", "are", "as", "at", "be",
	"been", "but", "by", "can", "could", "did", "do", "does", "er", "for",
	"from", "get", "got", "had", "has", "have", "hmm", "i", "if", "in",
	"into", "is", "it", "its", "just", "let", "like", "me", "mm", "my",
	"of", "oh", "on", "or", "our", "please", "so", "some", "that", "the",
	"their", "them", "then", "there", "these", "they", "this", "those",
	"to", "uh", "um", "umm", "us", "was", "we", "well", "were", "will",
	"with", "would", "you", "your",
};

bool vagent__nlu_is_stop_word(const char *word)
{
	size_t lo = 0, hi = VAGENT__ARRAY_SIZE(stop_words);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(word, stop_words[mid]);

		if (!c)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

/* ---- stemming */

static bool ends_with(const char *w, size_t n, const char *suf)
{
	size_t k = strlen(suf);

	return n >= k && !memcmp(w + n - k, suf, k);
}

static bool is_vowel(int c)
{
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

static bool has_vowel(const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (is_vowel((unsigned char)w[i]) || w[i] == 'y')
			return true;
	return false;
}

void vagent__nlu_stem(const char *word, char *out, size_t cap)
{
	size_t n = strlen(word);

	if (n >= cap)
		n = cap - 1;
	memcpy(out, word, n);
	out[n] = '\0';
	if (n <= 3)
		return;
	for (size_t i = 0; i < n; i++)
		if (isdigit((unsigned char)out[i]))
			return;
	/* Plurals. */
	if (ends_with(out, n, "ies") && n > 4) {
		n -= 2;
		out[n - 1] = 'y';
	} else if (ends_with(out, n, "sses")) {
		n -= 2;
	} else if (ends_with(out, n, "s") && !ends_with(out, n, "ss") &&
		   !ends_with(out, n, "us") && !ends_with(out, n, "is")) {
		n -= 1;
	}
	/* Verb endings. */
	if (ends_with(out, n, "ied") && n > 4) {
		n -= 2;
		out[n - 1] = 'y';
	} else if (ends_with(out, n, "ing") && n - 3 >= 3 && has_vowel(out, n - 3)) {
		n -= 3;
	} else if (ends_with(out, n, "ed") && n - 2 >= 3 && has_vowel(out, n - 2)) {
		n -= 2;
	}
	/* A final silent e: store/stores/stored → "stor". */
	if (n >= 4 && out[n - 1] == 'e')
		n -= 1;
	/* Double final consonant: shipp → ship, cancell → cancel. */
	if (n >= 4 && out[n - 1] == out[n - 2] && !is_vowel((unsigned char)out[n - 1]))
		n -= 1;
	out[n] = '\0';
}

/* ---- sound key */

static void key_put(char *out, size_t cap, size_t *k, char c)
{
	if (*k + 1 < cap)
		out[(*k)++] = c;
}

void vagent__nlu_sound_key(const char *w, char *out, size_t cap)
{
	size_t n = strlen(w), i = 0, k = 0;

	out[0] = '\0';
	for (size_t j = 0; j < n; j++)
		if (!isalpha((unsigned char)w[j]))
			return;
	if (n >= 2 && (!strncmp(w, "kn", 2) || !strncmp(w, "gn", 2) ||
		       !strncmp(w, "pn", 2) || !strncmp(w, "wr", 2) ||
		       !strncmp(w, "ps", 2)))
		i = 1;
	else if (w[0] == 'x') {
		key_put(out, cap, &k, 'S');
		i = 1;
	} else if (!strncmp(w, "wh", 2)) {
		key_put(out, cap, &k, 'W');
		i = 2;
	}
	for (; i < n; i++) {
		char c = w[i], prev = i ? w[i - 1] : 0;
		char next = i + 1 < n ? w[i + 1] : 0;
		char next2 = i + 2 < n ? w[i + 2] : 0;

		if (c == prev && c != 'c')
			continue;
		switch (c) {
		case 'a': case 'e': case 'i': case 'o': case 'u':
			if (i == 0)
				key_put(out, cap, &k, 'A');
			break;
		case 'b':
			if (!(prev == 'm' && i + 1 == n))
				key_put(out, cap, &k, 'B');
			break;
		case 'c':
			if (prev == 's' && next == 'h') {
				key_put(out, cap, &k, 'K');
				i++;
			} else if (next == 'i' && next2 == 'a') {
				key_put(out, cap, &k, 'X');
			} else if (next == 'h') {
				key_put(out, cap, &k, 'X');
				i++;
			} else if (next == 'i' || next == 'e' || next == 'y') {
				key_put(out, cap, &k, 'S');
			} else {
				key_put(out, cap, &k, 'K');
			}
			break;
		case 'd':
			if (next == 'g' && (next2 == 'i' || next2 == 'e' || next2 == 'y')) {
				key_put(out, cap, &k, 'J');
				i++;
			} else {
				key_put(out, cap, &k, 'T');
			}
			break;
		case 'g':
			if (next == 'h') {
				if (i + 2 < n && !is_vowel((unsigned char)next2))
					i++;           /* "night": silent */
				else if (i + 2 == n)
					i++;           /* "though": silent */
				else {
					key_put(out, cap, &k, 'K');
					i++;
				}
			} else if (next == 'n' && (i + 2 == n ||
					(i + 4 == n && !strcmp(w + i + 2, "ed")))) {
				/* "sign", "signed": silent */
			} else if (next == 'i' || next == 'e' || next == 'y') {
				key_put(out, cap, &k, 'J');
			} else {
				key_put(out, cap, &k, 'K');
			}
			break;
		case 'h':
			if (is_vowel((unsigned char)next) && !strchr("csptg", prev ? prev : '.'))
				key_put(out, cap, &k, 'H');
			break;
		case 'k':
			if (prev != 'c')
				key_put(out, cap, &k, 'K');
			break;
		case 'p':
			if (next == 'h') {
				key_put(out, cap, &k, 'F');
				i++;
			} else {
				key_put(out, cap, &k, 'P');
			}
			break;
		case 'q':
			key_put(out, cap, &k, 'K');
			break;
		case 's':
			if (next == 'h') {
				key_put(out, cap, &k, 'X');
				i++;
			} else if (next == 'i' && (next2 == 'o' || next2 == 'a')) {
				key_put(out, cap, &k, 'X');
			} else {
				key_put(out, cap, &k, 'S');
			}
			break;
		case 't':
			if (next == 'i' && (next2 == 'a' || next2 == 'o')) {
				key_put(out, cap, &k, 'X');
			} else if (next == 'h') {
				key_put(out, cap, &k, '0');
				i++;
			} else if (!(next == 'c' && next2 == 'h')) {
				key_put(out, cap, &k, 'T');
			}
			break;
		case 'v':
			key_put(out, cap, &k, 'F');
			break;
		case 'w':
			if (is_vowel((unsigned char)next))
				key_put(out, cap, &k, 'W');
			break;
		case 'x':
			key_put(out, cap, &k, 'K');
			key_put(out, cap, &k, 'S');
			break;
		case 'y':
			if (is_vowel((unsigned char)next))
				key_put(out, cap, &k, 'Y');
			break;
		case 'z':
			key_put(out, cap, &k, 'S');
			break;
		default:
			key_put(out, cap, &k, (char)toupper((unsigned char)c));
			break;
		}
	}
	out[k] = '\0';
}

/* ---- edit distance */

int vagent__nlu_edit_distance(const char *a, const char *b, int max)
{
	int la = (int)strlen(a), lb = (int)strlen(b);
	int row[VAGENT__NLU_WORD_MAX + 1];

	if (la >= VAGENT__NLU_WORD_MAX || lb >= VAGENT__NLU_WORD_MAX)
		return max + 1;
	if (abs(la - lb) > max)
		return max + 1;
	for (int j = 0; j <= lb; j++)
		row[j] = j;
	for (int i = 1; i <= la; i++) {
		int diag = row[0], best;

		row[0] = i;
		best = row[0];
		for (int j = 1; j <= lb; j++) {
			int up = row[j];
			int v = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < v)
				v = up + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			diag = up;
			row[j] = v;
			if (v < best)
				best = v;
		}
		if (best > max)
			return max + 1;
	}
	return row[lb] > max ? max + 1 : row[lb];
}

/* ---- similarity */

static bool has_digit(const char *s)
{
	for (; *s; s++)
		if (isdigit((unsigned char)*s))
			return true;
	return false;
}

static bool is_number_word(const char *w)
{
	enum vagent__num_kind k = vagent__num_word(w, NULL);

	return k != NUM_NONE && k != NUM_HOMOPHONE && k != NUM_NUMERAL;
}

double vagent__nlu_token_sim(const struct vagent__nlu_token *a,
			     const struct vagent__nlu_token *b)
{
	double sim = 0;
	size_t la, lb, l, s;
	int d;

	if (!strcmp(a->stem, b->stem))
		return 1.0;
	/* Digits, and number words ("four" is not a misheard "hour", "one"
	 * not "own"), only ever match exactly: a caller reading out an order
	 * number is not asking about opening hours. */
	if (has_digit(a->word) || has_digit(b->word) || a->number || b->number)
		return 0.0;
	la = strlen(a->stem);
	lb = strlen(b->stem);
	l = la > lb ? la : lb;
	s = la < lb ? la : lb;
	d = vagent__nlu_edit_distance(a->stem, b->stem, 3);
	/* Sound-alikes: "where"/"wear", "night"/"knight"; a two-letter key
	 * collides too easily ("icy"/"issue") unless the spelling is close. */
	if (a->key[0] && a->key[1] && strlen(a->word) >= 3 && strlen(b->word) >= 3 &&
	    !strcmp(a->key, b->key) && (a->key[2] || d <= 2))
		sim = 0.8;
	/* Both words long enough that the edits leave most of them:
	 * "packet"/"package", not "good"/"goodbye"; and not a word with a
	 * longer ending ("person"/"personal", "operate"/"operator"): a
	 * different word, not a misheard one. */
	if (d >= 2 && !strncmp(a->stem, b->stem, s))
		d = 4;
	if ((d == 1 && l >= 4 && s >= 3) || (d == 2 && s >= 5) || (d == 3 && s >= 8)) {
		double e = 0.95 * (1.0 - (double)d / (double)l);

		if (e > sim)
			sim = e;
	}
	return sim;
}

/* ---- tokenizer */

static void token_fill(struct vagent__nlu_token *t, const char *word, size_t len)
{
	if (len >= VAGENT__NLU_WORD_MAX)
		len = VAGENT__NLU_WORD_MAX - 1;
	memcpy(t->word, word, len);
	t->word[len] = '\0';
	vagent__nlu_stem(t->word, t->stem, sizeof t->stem);
	vagent__nlu_sound_key(t->word, t->key, sizeof t->key);
	t->stop = vagent__nlu_is_stop_word(t->word);
	t->number = is_number_word(t->word) || is_number_word(t->stem);
}

bool vagent__nlu_tokens_push(struct vagent__nlu_tokens *t, const char *word,
			     size_t len)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		struct vagent__nlu_token *v = realloc(t->v, cap * sizeof *v);

		if (!v)
			return false;
		t->v = v;
		t->cap = cap;
	}
	token_fill(&t->v[t->n++], word, len);
	return true;
}

static bool push_words(struct vagent__nlu_tokens *t, const char *words)
{
	while (*words) {
		size_t n = strcspn(words, " ");

		if (n && !vagent__nlu_tokens_push(t, words, n))
			return false;
		words += n;
		while (*words == ' ')
			words++;
	}
	return true;
}

/* Whole-word contractions, with and without the apostrophe (recognisers
 * and typists drop it). */
static const struct { const char *from, *to; } contractions[] = {
	{ "aint", "is not" }, { "arent", "are not" }, { "cant", "can not" },
	{ "couldnt", "could not" }, { "didnt", "did not" },
	{ "doesnt", "does not" }, { "dont", "do not" }, { "hadnt", "had not" },
	{ "hasnt", "has not" }, { "havent", "have not" }, { "hes", "he is" },
	{ "hows", "how is" }, { "im", "i am" }, { "isnt", "is not" },
	{ "ive", "i have" }, { "lets", "let us" }, { "shant", "shall not" },
	{ "shes", "she is" }, { "shouldnt", "should not" },
	{ "thats", "that is" }, { "theres", "there is" }, { "wasnt", "was not" },
	{ "werent", "were not" }, { "whats", "what is" }, { "whens", "when is" },
	{ "wheres", "where is" }, { "whos", "who is" }, { "wont", "will not" },
	{ "wouldnt", "would not" }, { "youre", "you are" },
};

/* "'s" after these is "is", after anything else a possessive. */
static const char *const s_is_words[] = {
	"he", "here", "how", "it", "she", "that", "there", "what", "when",
	"where", "who", "why",
};

static bool push_word(struct vagent__nlu_tokens *t, char *w, size_t n)
{
	char plain[VAGENT__NLU_WORD_MAX * 2];
	size_t k = 0;
	char *apos;

	if (n >= sizeof plain)
		n = sizeof plain - 1;
	w[n] = '\0';
	/* Strip leading and trailing apostrophes (quotes). */
	while (*w == '\'')
		w++, n--;
	while (n && w[n - 1] == '\'')
		w[--n] = '\0';
	if (!n)
		return true;
	for (size_t i = 0; i < n; i++)
		if (w[i] != '\'')
			plain[k++] = w[i];
	plain[k] = '\0';
	for (size_t i = 0; i < VAGENT__ARRAY_SIZE(contractions); i++) {
		if (!strcmp(plain, contractions[i].from)) {
			/* "lets" without the apostrophe is the verb "lets". */
			if (!strcmp(plain, "lets") && !strchr(w, '\''))
				break;
			return push_words(t, contractions[i].to);
		}
	}
	apos = strchr(w, '\'');
	if (apos) {
		const char *suf = apos + 1;
		size_t base = (size_t)(apos - w);

		if (!strcmp(suf, "t") && base > 1 && w[base - 1] == 'n') {
			return vagent__nlu_tokens_push(t, w, base - 1) &&
			       push_words(t, "not");
		}
		if (!strcmp(suf, "s")) {
			*apos = '\0';
			for (size_t i = 0; i < VAGENT__ARRAY_SIZE(s_is_words); i++)
				if (!strcmp(w, s_is_words[i]))
					return vagent__nlu_tokens_push(t, w, base) &&
					       push_words(t, "is");
			return vagent__nlu_tokens_push(t, w, base);
		}
		static const struct { const char *suf, *word; } tails[] = {
			{ "re", "are" }, { "ll", "will" }, { "ve", "have" },
			{ "m", "am" }, { "d", "would" },
		};
		for (size_t i = 0; i < VAGENT__ARRAY_SIZE(tails); i++)
			if (!strcmp(suf, tails[i].suf))
				return vagent__nlu_tokens_push(t, w, base) &&
				       push_words(t, tails[i].word);
	}
	return vagent__nlu_tokens_push(t, plain, k);
}

bool vagent__nlu_tokenize(const char *text, struct vagent__nlu_tokens *out)
{
	char buf[VAGENT__NLU_WORD_MAX * 2];
	size_t n = 0;

	if (!text)
		return true;
	for (const unsigned char *p = (const unsigned char *)text;; p++) {
		int c = *p;
		bool word_char = isalnum(c) || c == '\'' || c >= 0x80;

		/* U+2019 (right single quote) is an apostrophe. */
		if (c == 0xe2 && p[1] == 0x80 && p[2] == 0x99) {
			c = '\'';
			word_char = true;
			p += 2;
		}
		if (c && word_char) {
			if (n + 1 < sizeof buf)
				buf[n++] = (char)tolower(c);
			continue;
		}
		if (n) {
			if (!push_word(out, buf, n))
				return false;
			n = 0;
		}
		if (!c)
			break;
	}
	return true;
}

void vagent__nlu_tokens_drop_stop(struct vagent__nlu_tokens *t)
{
	size_t k = 0;

	for (size_t i = 0; i < t->n; i++)
		if (!t->v[i].stop)
			k++;
	if (!k)
		return;
	k = 0;
	for (size_t i = 0; i < t->n; i++)
		if (!t->v[i].stop)
			t->v[k++] = t->v[i];
	t->n = k;
}

void vagent__nlu_tokens_free(struct vagent__nlu_tokens *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

void vagent__nlu_tokens_join(struct vagent__nlu_tokens *t,
			     vagent__nlu_vocab_fn in_vocab, const void *ctx)
{
	size_t k = 0;

	for (size_t i = 0; i < t->n; i++) {
		if (i + 1 < t->n) {
			const struct vagent__nlu_token *a = &t->v[i], *b = &t->v[i + 1];
			size_t la = strlen(a->word), lb = strlen(b->word);

			if (la + lb < VAGENT__NLU_WORD_MAX &&
			    (!in_vocab(a->stem, ctx) || !in_vocab(b->stem, ctx))) {
				char joined[VAGENT__NLU_WORD_MAX];
				struct vagent__nlu_token j;

				memcpy(joined, a->word, la);
				memcpy(joined + la, b->word, lb + 1);
				token_fill(&j, joined, la + lb);
				if (in_vocab(j.stem, ctx)) {
					t->v[k++] = j;
					i++;
					continue;
				}
			}
		}
		t->v[k++] = t->v[i];
	}
	t->n = k;
}

double vagent__nlu_phrase_sim(const struct vagent__nlu_tokens *text,
			      const struct vagent__nlu_tokens *phrase,
			      double min_sim, bool skip_stop)
{
	double best = 0;

	if (!phrase->n)
		return 0;
	for (size_t s = 0; s < text->n; s++) {
		size_t i = s, j = 0, matched = 0, inserted = 0;
		double total = 0;

		while (j < phrase->n) {
			double sim = i < text->n ?
				vagent__nlu_token_sim(&text->v[i], &phrase->v[j]) : 0;

			if (sim >= min_sim && sim > 0) {
				total += sim;
				matched++;
				i++;
				j++;
			} else if (skip_stop && phrase->v[j].stop) {
				j++;
			} else if (skip_stop && matched && !inserted &&
				   i < text->n && text->v[i].stop) {
				inserted = 1;    /* one filler inside the phrase */
				i++;
			} else {
				break;
			}
		}
		/* Every content word of the phrase matched (only stop words
		 * may have been skipped). */
		if (j == phrase->n && matched && total / (double)matched > best)
			best = total / (double)matched;
	}
	return best;
}
