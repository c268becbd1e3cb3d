/*
 * nlu_int.h — declarations shared by the lib/nlu files: the word tokenizer
 * (normalisation, contractions, stop words, light stemming, a sound-alike
 * key), token similarity, and the number-word grammar the slot extractors
 * use.
 */
#ifndef VAGENT_NLU_INT_H
#define VAGENT_NLU_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"
#include "vagent.h"

#define VAGENT__NLU_WORD_MAX 32   /* longer words are cut (never matters) */
#define VAGENT__NLU_KEY_MAX  12
/* Queries (intent matching, knowledge search) use their first this many
 * content words: an utterance is short, and the cost grows with it. */
#define VAGENT__NLU_QUERY_MAX 64

/* One normalised word: as written (lower-case), its stem, its sound key. */
struct vagent__nlu_token {
	char word[VAGENT__NLU_WORD_MAX];
	char stem[VAGENT__NLU_WORD_MAX];
	char key[VAGENT__NLU_KEY_MAX];
	bool stop;                /* a stop word ("the", "is", "my"...) */
	bool number;              /* a number word ("four", "twenty", "oh") */
};

struct vagent__nlu_tokens {
	struct vagent__nlu_token *v;
	size_t n, cap;
};

/*
 * Split `text` into normalised tokens: ASCII lower-cased, contractions
 * expanded ("where's" → "where is", "don't"/"dont" → "do not"),
 * possessive 's dropped, everything but letters, digits and non-ASCII
 * bytes a separator. Appends to `out`; false on allocation failure.
 */
bool vagent__nlu_tokenize(const char *text, struct vagent__nlu_tokens *out);
/* Append one already-normalised word (stem and key computed). */
bool vagent__nlu_tokens_push(struct vagent__nlu_tokens *t, const char *word,
			     size_t len);
/* Remove stop words, unless that would leave nothing. */
void vagent__nlu_tokens_drop_stop(struct vagent__nlu_tokens *t);
void vagent__nlu_tokens_free(struct vagent__nlu_tokens *t);

bool vagent__nlu_is_stop_word(const char *word);
/* Light suffix stripping: order/orders/ordered/ordering → "order",
 * package/packages → "packag", deliveries → "delivery". */
void vagent__nlu_stem(const char *word, char *out, size_t cap);
/* A metaphone-like consonant key: "where"/"wear" → "WR". */
void vagent__nlu_sound_key(const char *word, char *out, size_t cap);
/* Levenshtein distance, or max+1 once it exceeds `max`. */
int vagent__nlu_edit_distance(const char *a, const char *b, int max);

/*
 * How alike two tokens are, 0..1: 1 for the same stem, 0.8 for the same
 * sound key, 1 - d/len (x0.95) for a small edit distance on longer words,
 * else 0. Digits and number words only ever match exactly.
 */
double vagent__nlu_token_sim(const struct vagent__nlu_token *a,
			     const struct vagent__nlu_token *b);

/* Vocabulary membership test used to re-join split words ("re fund"). */
typedef bool (*vagent__nlu_vocab_fn)(const char *stem, const void *ctx);
/* Merge adjacent tokens whose joined word is in the vocabulary while the
 * parts are not ("re fund" → "refund", "every thing" → "everything"). */
void vagent__nlu_tokens_join(struct vagent__nlu_tokens *t,
			     vagent__nlu_vocab_fn in_vocab, const void *ctx);

/*
 * Phrase alignment: the best mean similarity of `phrase`'s tokens to a
 * window of `text` tokens (each token at least `min_sim`; stop words of the
 * phrase may be missing when `skip_stop`), 0 when none.
 */
double vagent__nlu_phrase_sim(const struct vagent__nlu_tokens *text,
			      const struct vagent__nlu_tokens *phrase,
			      double min_sim, bool skip_stop);

/* ---- spoken numbers (numbers.c) */

/*
 * The slot tokenizer: like vagent__nlu_tokenize for words, but tokens with
 * digits stay whole ("$" split off): "$49.50" → "$" "49.50"; "3/14",
 * "2,500", "3rd" kept; "twenty-one" → "twenty" "one".
 */
bool vagent__slot_tokenize(const char *text, struct vagent__nlu_tokens *out);

enum vagent__num_kind {
	NUM_NONE, NUM_UNIT, NUM_OH, NUM_TEEN, NUM_TENS, NUM_HUNDRED,
	NUM_SCALE, NUM_HOMOPHONE, NUM_NUMERAL,
};

/* The kind (and value) of a word: "seven" UNIT 7, "oh" OH 0, "fifty" TENS
 * 50, "thousand" SCALE 1000, "for" HOMOPHONE 4, "123" NUMERAL. */
enum vagent__num_kind vagent__num_word(const char *w, unsigned *value);
bool vagent__num_is_filler(const char *w);
/* "123", "2,500" → value. */
bool vagent__num_numeral(const char *w, uint64_t *value);

struct vagent__num_phrase {
	size_t start, end;    /* tokens [start, end) */
	uint64_t value;
};

/* The longest cardinal at t[i]: "one hundred and five", "a thousand",
 * "twenty one", "2 thousand", "2,500". "four fifty" stops after "four". */
bool vagent__num_cardinal(const struct vagent__nlu_tokens *t, size_t i,
			  struct vagent__num_phrase *out);
/* Whether a digit run can start at t[i] (`lenient`: a homophone such as
 * "for" before a digit too). */
bool vagent__num_digit_start(const struct vagent__nlu_tokens *t, size_t i,
			     bool lenient);
/* The digits spoken from t[i] ("four fifty six" → "456", "double oh
 * seven" → "007", fillers inside skipped) into buf; returns the index
 * after the run (i when none). Homophones ("for", "to", "ate") count
 * between two digits, and with `lenient` at either end of the run too. */
size_t vagent__num_digit_run(const struct vagent__nlu_tokens *t, size_t i,
			     char *buf, size_t cap, bool lenient);
/* "third" → 3 (0 when not an ordinal word). */
unsigned vagent__num_ordinal_word(const char *w);
/* An ordinal at t[i]: "third", "twenty first", "3rd" (and with
 * allow_cardinal "3", "twenty one"). */
bool vagent__num_ordinal(const struct vagent__nlu_tokens *t, size_t i,
			 bool allow_cardinal, unsigned *value, size_t *end);

#endif
