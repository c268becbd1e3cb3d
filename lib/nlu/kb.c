/*
 * kb.c — knowledge retrieval for the flow brain: Markdown files chunked by
 * heading (plain text by paragraph), indexed with the matcher's tokenizer
 * (normalised, stemmed, stop words out) and ranked with Okapi BM25; each
 * hit carries a short spoken answer, the chunk's most relevant sentences
 * with the Markdown stripped. docs/knowledge.md describes it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nlu/nlu_int.h"

#define BM25_K1 1.2
#define BM25_B  0.75
#define KB_FILE_MAX (16u << 20)   /* bytes */
#define ANSWER_MAX 300           /* characters */
/* A query word not in the index stands for the closest indexed word at
 * least this alike ("retern" → "return"). */
#define FUZZY_MIN 0.7

struct posting {
	size_t chunk;
	unsigned tf;
};

struct term {
	struct vagent__nlu_token tok;
	struct posting *post;
	size_t npost, cap;
};

struct chunk {
	char *source, *heading, *text;
	char *plain;          /* Markdown stripped, sentences on their own lines */
	size_t len;           /* tokens indexed */
};

struct vagent_kb {
	struct chunk *chunks;
	size_t n, cap;
	struct term *terms;
	size_t nterms, tcap;
	size_t *table;        /* open addressing: term index + 1, 0 empty */
	size_t tsize;
	double total_len;
	char **answers;       /* of the last search */
	size_t nanswers;
};

vagent_status vagent_kb_new(struct vagent_kb **out)
{
	if (!out)
		return VAGENT_EINVAL;
	*out = calloc(1, sizeof **out);
	return *out ? VAGENT_OK : VAGENT_ENOMEM;
}

static void answers_free(struct vagent_kb *kb)
{
	for (size_t i = 0; i < kb->nanswers; i++)
		free(kb->answers[i]);
	free(kb->answers);
	kb->answers = NULL;
	kb->nanswers = 0;
}

void vagent_kb_free(struct vagent_kb *kb)
{
	if (!kb)
		return;
	for (size_t i = 0; i < kb->n; i++) {
		free(kb->chunks[i].source);
		free(kb->chunks[i].heading);
		free(kb->chunks[i].text);
		free(kb->chunks[i].plain);
	}
	free(kb->chunks);
	for (size_t i = 0; i < kb->nterms; i++)
		free(kb->terms[i].post);
	free(kb->terms);
	free(kb->table);
	answers_free(kb);
	free(kb);
}

size_t vagent_kb_chunks(const struct vagent_kb *kb)
{
	return kb ? kb->n : 0;
}

/* ---- term dictionary */

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static size_t *term_slot(const struct vagent_kb *kb, const char *stem)
{
	size_t mask = kb->tsize - 1;

	for (size_t h = hash_str(stem) & mask;; h = (h + 1) & mask) {
		size_t *slot = &kb->table[h];

		if (!*slot || !strcmp(kb->terms[*slot - 1].tok.stem, stem))
			return slot;
	}
}

static long term_find(const struct vagent_kb *kb, const char *stem)
{
	size_t *slot;

	if (!kb->tsize)
		return -1;
	slot = term_slot(kb, stem);
	return *slot ? (long)(*slot - 1) : -1;
}

static bool kb_in_vocab(const char *stem, const void *ctx)
{
	return term_find(ctx, stem) >= 0;
}

static bool table_grow(struct vagent_kb *kb)
{
	size_t size = kb->tsize ? kb->tsize * 2 : 256;
	size_t *old = kb->table, old_size = kb->tsize;

	kb->table = calloc(size, sizeof *kb->table);
	if (!kb->table) {
		kb->table = old;
		return false;
	}
	kb->tsize = size;
	for (size_t i = 0; i < old_size; i++)
		if (old[i])
			*term_slot(kb, kb->terms[old[i] - 1].tok.stem) = old[i];
	free(old);
	return true;
}

static long term_add(struct vagent_kb *kb, const struct vagent__nlu_token *tok)
{
	size_t *slot;

	if ((kb->nterms + 1) * 2 > kb->tsize && !table_grow(kb))
		return -1;
	slot = term_slot(kb, tok->stem);
	if (*slot)
		return (long)(*slot - 1);
	if (kb->nterms == kb->tcap) {
		size_t cap = kb->tcap ? 2 * kb->tcap : 256;
		struct term *t = realloc(kb->terms, cap * sizeof *t);

		if (!t)
			return -1;
		kb->terms = t;
		kb->tcap = cap;
	}
	memset(&kb->terms[kb->nterms], 0, sizeof kb->terms[0]);
	kb->terms[kb->nterms].tok = *tok;
	*slot = ++kb->nterms;
	return (long)(kb->nterms - 1);
}

/* Stop words out, and question words: documents answer "what" and "how"
 * without saying them, and fuzzy matching would turn "what" into "chat". */
static void drop_stop_words(struct vagent__nlu_tokens *t)
{
	static const char *const question[] = {
		"how", "what", "when", "where", "which", "who", "why",
	};
	size_t k = 0;

	for (size_t i = 0; i < t->n; i++) {
		bool drop = t->v[i].stop;

		for (size_t q = 0; q < VAGENT__ARRAY_SIZE(question) && !drop; q++)
			drop = !strcmp(t->v[i].word, question[q]);
		if (!drop)
			t->v[k++] = t->v[i];
	}
	t->n = k;
}

/* ---- Markdown to speakable text */

static void put_char(struct vagent__strbuf *b, char c)
{
	vagent__strbuf_put(b, &c, 1);
}

/* Inline Markdown of one line: links and images as their text, emphasis
 * and code marks, HTML tags and table pipes out. */
static void strip_inline(struct vagent__strbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if ((c == '!' && i + 1 < n && s[i + 1] == '[') || c == '[') {
			size_t open = c == '!' ? i + 1 : i;
			const char *close = memchr(s + open, ']', n - open);

			if (close) {
				size_t end = (size_t)(close - s);

				strip_inline(b, s + open + 1, end - open - 1);
				i = end;
				/* "(url)" or "[ref]" after the text */
				if (i + 1 < n && (s[i + 1] == '(' || s[i + 1] == '[')) {
					const char *shut = memchr(s + i + 1, s[i + 1] == '(' ? ')' : ']',
								  n - i - 1);

					if (shut)
						i = (size_t)(shut - s);
				}
				continue;
			}
		}
		if (c == '<') {
			const char *shut = memchr(s + i, '>', n - i);

			if (shut) {
				size_t end = (size_t)(shut - s);

				/* <https://...> autolink: keep the address */
				if (!strncmp(s + i + 1, "http", 4) || memchr(s + i, '@', end - i))
					vagent__strbuf_put(b, s + i + 1, end - i - 1);
				i = end;
				continue;
			}
		}
		if (c == '*' || c == '`' || c == '~')
			continue;
		if (c == '_' && (i == 0 || !isalnum((unsigned char)s[i - 1]) ||
				 i + 1 == n || !isalnum((unsigned char)s[i + 1])))
			continue;
		if (c == '|') {
			if (b->len && b->p[b->len - 1] != ' ' && b->p[b->len - 1] != ',')
				vagent__strbuf_puts(b, ",");
			put_char(b, ' ');
			continue;
		}
		if (c == '\\' && i + 1 < n && ispunct((unsigned char)s[i + 1])) {
			put_char(b, s[++i]);
			continue;
		}
		put_char(b, c);
	}
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			return false;
	return true;
}

/* A table rule "|---|:--:|" or a thematic break "---", "***". */
static bool rule_line(const char *s, size_t n)
{
	size_t marks = 0;

	for (size_t i = 0; i < n; i++) {
		if (strchr("-*_=", s[i]))
			marks++;
		else if (!strchr(" |:\t", s[i]))
			return false;
	}
	return marks >= 3;
}

/* End the current unit: a sentence stop if the text has none, a newline. */
static void end_unit(struct vagent__strbuf *b)
{
	while (b->len && b->p[b->len - 1] == ' ')
		b->p[--b->len] = '\0';
	if (b->len && b->p[b->len - 1] == ',')
		b->p[--b->len] = '\0';
	if (!b->len || b->p[b->len - 1] == '\n')
		return;
	if (!strchr(".!?:;", b->p[b->len - 1]))
		put_char(b, '.');
	put_char(b, '\n');
}

/* Markdown body → plain text, one paragraph or list item per line. */
static char *plain_text(const char *md)
{
	struct vagent__strbuf b = {0};
	const char *p = md;
	bool code = false;

	while (*p) {
		size_t n = strcspn(p, "\n");
		const char *s = p;
		size_t k = n;

		p += n + (p[n] == '\n');
		while (k && isspace((unsigned char)s[k - 1]))
			k--;
		while (k && (*s == ' ' || *s == '\t'))
			s++, k--;
		/* Code blocks are not spoken. */
		if (k >= 3 && (!strncmp(s, "```", 3) || !strncmp(s, "~~~", 3))) {
			code = !code;
			end_unit(&b);
			continue;
		}
		if (code)
			continue;
		if (!k || rule_line(s, k)) {
			end_unit(&b);
			continue;
		}
		/* Headings inside a body (deeper than the chunking), quotes. */
		bool item = false;

		if (*s == '#') {
			while (k && *s == '#')
				s++, k--;
			item = true;
		}
		while (k && *s == '>')
			s++, k--;
		while (k && *s == ' ')
			s++, k--;
		if (k >= 2 && strchr("-*+", s[0]) && s[1] == ' ') {
			s += 2, k -= 2;
			item = true;
		} else if (k >= 3 && isdigit((unsigned char)s[0])) {
			size_t d = 0;

			while (d < k && isdigit((unsigned char)s[d]))
				d++;
			if (d + 1 < k && (s[d] == '.' || s[d] == ')') && s[d + 1] == ' ') {
				s += d + 2, k -= d + 2;
				item = true;
			}
		}
		if (item || (k && s[0] == '|'))
			end_unit(&b);
		else if (b.len && b.p[b.len - 1] != '\n')
			put_char(&b, ' ');
		strip_inline(&b, s, k);
		if (item)
			end_unit(&b);
	}
	end_unit(&b);
	return vagent__strbuf_detach(&b);
}

/* ---- chunking */

static char *slugify(const char *heading)
{
	struct vagent__strbuf b = {0};

	for (const char *s = heading; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c >= 0x80 || c == '_')
			put_char(&b, (char)tolower(c));
		else if ((c == ' ' || c == '-') && b.len && b.p[b.len - 1] != '-')
			put_char(&b, '-');
	}
	vagent__strbuf_rtrim(&b, '-');
	return vagent__strbuf_detach(&b);
}

static vagent_status chunk_add(struct vagent_kb *kb, const char *source,
			       const char *heading, const char *body, size_t body_len,
			       bool markdown)
{
	struct vagent__nlu_tokens t = {0};
	struct chunk *c;
	long *ids = NULL;
	vagent_status st = VAGENT_ENOMEM;
	size_t len = body_len, idx = kb->n;

	while (len && isspace((unsigned char)body[len - 1]))
		len--;
	while (len && isspace((unsigned char)*body))
		body++, len--;
	if (!len)
		return VAGENT_OK;
	if (kb->n == kb->cap) {
		size_t cap = kb->cap ? 2 * kb->cap : 16;
		struct chunk *v = realloc(kb->chunks, cap * sizeof *v);

		if (!v)
			return VAGENT_ENOMEM;
		kb->chunks = v;
		kb->cap = cap;
	}
	c = &kb->chunks[idx];
	memset(c, 0, sizeof *c);
	c->source = strdup(source);
	c->heading = strdup(heading);
	c->text = strndup(body, len);
	if (!c->source || !c->heading || !c->text)
		goto fail;
	c->plain = markdown ? plain_text(c->text) : NULL;
	if (!markdown) {
		struct vagent__strbuf b = {0};

		/* A paragraph: its lines joined. */
		for (const char *s = c->text; *s; s++)
			put_char(&b, *s == '\n' || *s == '\r' || *s == '\t' ? ' ' : *s);
		end_unit(&b);
		c->plain = vagent__strbuf_detach(&b);
	}
	if (!c->plain)
		goto fail;
	/* Index the heading path with the text, the chunk's own heading
	 * twice: "Store hours" is about hours more than a sentence that
	 * mentions "48 hours". */
	const char *own = strrchr(heading, '>');

	own = own ? own + 1 : heading;
	if (!vagent__nlu_tokenize(heading, &t) || !vagent__nlu_tokenize(own, &t) ||
	    !vagent__nlu_tokenize(c->plain, &t))
		goto fail;
	drop_stop_words(&t);
	ids = malloc((t.n ? t.n : 1) * sizeof *ids);
	if (!ids)
		goto fail;
	for (size_t i = 0; i < t.n; i++)
		if ((ids[i] = term_add(kb, &t.v[i])) < 0)
			goto fail;
	for (size_t i = 0; i < t.n; i++) {
		struct term *term = &kb->terms[ids[i]];

		if (term->npost && term->post[term->npost - 1].chunk == idx) {
			term->post[term->npost - 1].tf++;
			continue;
		}
		if (term->npost == term->cap) {
			size_t cap = term->cap ? 2 * term->cap : 4;
			struct posting *pv = realloc(term->post, cap * sizeof *pv);

			if (!pv)
				goto fail_posted;
			term->post = pv;
			term->cap = cap;
		}
		term->post[term->npost].chunk = idx;
		term->post[term->npost].tf = 1;
		term->npost++;
	}
	c->len = t.n;
	kb->total_len += (double)t.n;
	kb->n++;
	st = VAGENT_OK;
	goto done;
fail_posted:
	/* Undo the postings of this chunk. */
	for (size_t i = 0; i < kb->nterms; i++) {
		struct term *term = &kb->terms[i];

		if (term->npost && term->post[term->npost - 1].chunk == idx)
			term->npost--;
	}
fail:
	free(c->source);
	free(c->heading);
	free(c->text);
	free(c->plain);
	memset(c, 0, sizeof *c);
done:
	free(ids);
	vagent__nlu_tokens_free(&t);
	return st;
}

static bool has_ext(const char *path, const char *ext)
{
	size_t n = strlen(path), k = strlen(ext);

	return n > k && !strcasecmp(path + n - k, ext);
}

static bool is_markdown(const char *source)
{
	size_t n = strcspn(source, "#");
	char name[4096];

	if (n >= sizeof name)
		return false;
	memcpy(name, source, n);
	name[n] = '\0';
	return has_ext(name, ".md") || has_ext(name, ".markdown");
}

/* An ATX heading "## Returns ##" → level 2, its text. */
static int atx_heading(const char *s, size_t n, const char **text, size_t *len)
{
	int level = 0;

	while ((size_t)level < n && s[level] == '#')
		level++;
	if (level < 1 || level > 6 || ((size_t)level < n && s[level] != ' ' && s[level] != '\t'))
		return 0;
	s += level, n -= (size_t)level;
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && (isspace((unsigned char)s[n - 1]) || s[n - 1] == '#'))
		n--;
	*text = s;
	*len = n;
	return level;
}

static bool setext_rule(const char *s, size_t n, int *level)
{
	size_t i = 0;
	char c;

	while (i < n && s[i] == ' ')
		i++;
	if (i >= n || (s[i] != '=' && s[i] != '-'))
		return false;
	c = s[i];
	while (i < n && s[i] == c)
		i++;
	while (i < n && isspace((unsigned char)s[i]))
		i++;
	*level = c == '=' ? 1 : 2;
	return i == n;
}

/* Slugs seen in one file and how often (a hash set: a file may have many
 * headings). */
struct slug_seen {
	char **slug;
	size_t *count;
	size_t n, size;
};

static void slug_seen_free(struct slug_seen *ss)
{
	for (size_t i = 0; i < ss->size; i++)
		free(ss->slug[i]);
	free(ss->slug);
	free(ss->count);
}

static size_t slug_seen_slot(const struct slug_seen *ss, const char *slug)
{
	size_t mask = ss->size - 1, h = hash_str(slug) & mask;

	while (ss->slug[h] && strcmp(ss->slug[h], slug))
		h = (h + 1) & mask;
	return h;
}

/* Count `slug` (taking it); *before: how many times it was seen already.
 * False on allocation failure (the slug is freed). */
static bool slug_seen_add(struct slug_seen *ss, char *slug, size_t *before)
{
	size_t h;

	if ((ss->n + 1) * 2 > ss->size) {
		struct slug_seen grown = { NULL, NULL, 0, ss->size ? ss->size * 2 : 64 };

		grown.slug = calloc(grown.size, sizeof *grown.slug);
		grown.count = calloc(grown.size, sizeof *grown.count);
		if (!grown.slug || !grown.count) {
			free(grown.slug);
			free(grown.count);
			free(slug);
			return false;
		}
		for (size_t i = 0; i < ss->size; i++)
			if (ss->slug[i]) {
				size_t k = slug_seen_slot(&grown, ss->slug[i]);

				grown.slug[k] = ss->slug[i];
				grown.count[k] = ss->count[i];
			}
		grown.n = ss->n;
		free(ss->slug);
		free(ss->count);
		*ss = grown;
	}
	h = slug_seen_slot(ss, slug);
	if (ss->slug[h]) {
		free(slug);
	} else {
		ss->slug[h] = slug;
		ss->n++;
	}
	*before = ss->count[h]++;
	return true;
}

static vagent_status add_markdown(struct vagent_kb *kb, const char *source,
				  const char *text)
{
	char *path[6] = {0};
	struct slug_seen seen = {0};
	struct vagent__strbuf body = {0};
	const char *p = text;
	int depth = 0;
	bool fence = false;
	vagent_status st = VAGENT_OK;
	char *cur_source = strdup(source);

	if (!cur_source)
		return VAGENT_ENOMEM;
	for (;;) {
		size_t n = strcspn(p, "\n");
		const char *line = p, *htext = NULL;
		size_t hlen = 0;
		int level = 0;
		bool end = !*p;

		if (!end) {
			p += n + (p[n] == '\n');
			if (!strncmp(line, "```", 3) || !strncmp(line, "~~~", 3))
				fence = !fence;
			if (!fence && line[0] == '#')
				level = atx_heading(line, n, &htext, &hlen);
			if (!fence && !level && !blank(line, n) && line[0] != ' ' &&
			    !strchr("-*+>|", line[0])) {
				size_t n2 = strcspn(p, "\n");
				int l2;

				if (*p && setext_rule(p, n2, &l2) && (l2 == 1 || n2 >= 2)) {
					level = l2;
					htext = line;
					hlen = n;
					while (hlen && isspace((unsigned char)htext[hlen - 1]))
						hlen--;
					p += n2 + (p[n2] == '\n');
				}
			}
		}
		if (end || level) {
			/* Close the section so far. */
			struct vagent__strbuf head = {0};
			char *heading;
			const char *chunk_text;

			for (int i = 0; i < depth; i++)
				if (path[i]) {
					if (head.len)
						vagent__strbuf_puts(&head, " > ");
					vagent__strbuf_puts(&head, path[i]);
				}
			heading = vagent__strbuf_detach(&head);
			chunk_text = body.p ? body.p : "";
			if (!heading || body.oom)
				st = VAGENT_ENOMEM;
			else
				st = chunk_add(kb, cur_source, heading, chunk_text,
					       strlen(chunk_text), true);
			free(heading);
			vagent__strbuf_release(&body);
			if (st != VAGENT_OK || end)
				break;
			/* Open the new section. */
			struct vagent__strbuf hb = {0};
			char *slug, *src;
			size_t dup = 0;

			strip_inline(&hb, htext, hlen);
			for (int i = level - 1; i < 6; i++) {
				free(path[i]);
				path[i] = NULL;
			}
			path[level - 1] = vagent__strbuf_detach(&hb);
			depth = level;
			slug = path[level - 1] ? slugify(path[level - 1]) : NULL;
			if (!slug) {
				st = VAGENT_ENOMEM;
				break;
			}
			{
				struct vagent__strbuf sb = {0};

				vagent__strbuf_printf(&sb, "%s#%s", source, slug);
				if (!slug_seen_add(&seen, slug, &dup)) {
					vagent__strbuf_release(&sb);
					st = VAGENT_ENOMEM;
					break;
				}
				if (dup)
					vagent__strbuf_printf(&sb, "-%zu", dup);
				src = vagent__strbuf_detach(&sb);
			}
			if (!src) {
				st = VAGENT_ENOMEM;
				break;
			}
			free(cur_source);
			cur_source = src;
			continue;
		}
		vagent__strbuf_put(&body, line, n);
		vagent__strbuf_put(&body, "\n", 1);
	}
	vagent__strbuf_release(&body);
	for (int i = 0; i < 6; i++)
		free(path[i]);
	slug_seen_free(&seen);
	free(cur_source);
	return st;
}

static vagent_status add_paragraphs(struct vagent_kb *kb, const char *source,
				    const char *text)
{
	const char *p = text;
	size_t para = 0;

	while (*p) {
		const char *start, *end;
		char name[64];
		struct vagent__strbuf sb = {0};
		char *src;
		vagent_status st;

		/* Skip blank lines. */
		while (*p) {
			size_t n = strcspn(p, "\n");

			if (!blank(p, n))
				break;
			p += n + (p[n] == '\n');
		}
		if (!*p)
			break;
		start = p;
		while (*p) {
			size_t n = strcspn(p, "\n");

			if (blank(p, n))
				break;
			p += n + (p[n] == '\n');
		}
		end = p;
		snprintf(name, sizeof name, "p%zu", ++para);
		vagent__strbuf_printf(&sb, "%s#%s", source, name);
		src = vagent__strbuf_detach(&sb);
		if (!src)
			return VAGENT_ENOMEM;
		st = chunk_add(kb, src, "", start, (size_t)(end - start), false);
		free(src);
		if (st != VAGENT_OK)
			return st;
	}
	return VAGENT_OK;
}

/* Text is UTF-8 without NUL bytes or other control characters than
 * tab, newline, carriage return and form feed; returns the offset of the
 * first bad byte, or len. */
static size_t text_check(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		size_t k;

		if (c < 0x80) {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f')
				return i;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3;
		else
			return i;
		for (size_t j = 1; j <= k; j++)
			if (i + j >= len || (s[i + j] & 0xc0) != 0x80)
				return i;
		i += k + 1;
	}
	return len;
}

vagent_status vagent_kb_add_text(struct vagent_kb *kb, const char *source,
				 const char *text, struct vagent_error *err)
{
	size_t bad, len;
	vagent_status st;

	if (!kb || !source || !text)
		return vagent__error_set(err, VAGENT_EINVAL, "knowledge",
					 "no knowledge base, source or text");
	len = strlen(text);
	/* A UTF-8 byte order mark is not text. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		text += 3, len -= 3;
	bad = text_check((const unsigned char *)text, len);
	if (bad < len)
		return vagent__error_set(err, VAGENT_EFORMAT, source,
					 "not a text file (byte 0x%02x at offset %zu)",
					 (unsigned char)text[bad], bad);
	st = is_markdown(source) ? add_markdown(kb, source, text)
				 : add_paragraphs(kb, source, text);
	if (st != VAGENT_OK)
		return vagent__error_set(err, st, source, "%s", vagent_strerror(st));
	return VAGENT_OK;
}

vagent_status vagent_kb_add_file(struct vagent_kb *kb, const char *path,
				 struct vagent_error *err)
{
	struct stat sb;
	char *data = NULL;
	size_t got = 0;
	vagent_status st;
	int fd;

	if (!kb || !path)
		return vagent__error_set(err, VAGENT_EINVAL, "knowledge",
					 "no knowledge base or path");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vagent__error_open_input(err, errno, path);
	if (fstat(fd, &sb) != 0) {
		st = vagent__error_set(err, VAGENT_EIO, path, "cannot read: %s", strerror(errno));
		goto done;
	}
	if (S_ISDIR(sb.st_mode)) {
		st = vagent__error_open_input(err, EISDIR, path);
		goto done;
	}
	if (!S_ISREG(sb.st_mode)) {
		st = vagent__error_set(err, VAGENT_EFORMAT, path, "not a regular file");
		goto done;
	}
	if (sb.st_size > (off_t)KB_FILE_MAX) {
		st = vagent__error_set(err, VAGENT_EFORMAT, path,
				       "too large for knowledge (over %u MiB)", KB_FILE_MAX >> 20);
		goto done;
	}
	data = malloc((size_t)sb.st_size + 1);
	if (!data) {
		st = vagent__error_set(err, VAGENT_ENOMEM, path, "out of memory");
		goto done;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t r = read(fd, data + got, (size_t)sb.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			st = vagent__error_set(err, VAGENT_EIO, path, "cannot read: %s",
					       strerror(errno));
			goto done;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	data[got] = '\0';
	if (memchr(data, '\0', got)) {
		st = vagent__error_set(err, VAGENT_EFORMAT, path,
				       "not a text file (NUL byte at offset %zu)",
				       (size_t)((char *)memchr(data, '\0', got) - data));
		goto done;
	}
	st = vagent_kb_add_text(kb, path, data, err);
done:
	free(data);
	close(fd);
	return st;
}

/* ---- search */

struct qterm {
	long term;
	double weight;        /* 1, or the similarity of a fuzzy stand-in */
	double idf;
};

static double idf_of(const struct vagent_kb *kb, const struct term *t)
{
	double n = (double)kb->n, df = (double)t->npost;

	return log(1.0 + (n - df + 0.5) / (df + 0.5));
}

/* The query's indexed terms: exact stems, else the closest indexed word. */
static size_t query_terms(struct vagent_kb *kb, const char *query, struct qterm **out)
{
	struct vagent__nlu_tokens t = {0};
	struct qterm *q = NULL;
	size_t n = 0;

	*out = NULL;
	if (!vagent__nlu_tokenize(query, &t))
		goto done;
	vagent__nlu_tokens_join(&t, kb_in_vocab, kb);
	drop_stop_words(&t);
	if (t.n > VAGENT__NLU_QUERY_MAX)
		t.n = VAGENT__NLU_QUERY_MAX;
	q = malloc((t.n ? t.n : 1) * sizeof *q);
	if (!q)
		goto done;
	for (size_t i = 0; i < t.n; i++) {
		long id = term_find(kb, t.v[i].stem);
		double w = 1.0;

		if (id < 0) {
			double best = 0;

			for (size_t k = 0; k < kb->nterms; k++) {
				double s = vagent__nlu_token_sim(&t.v[i], &kb->terms[k].tok);

				if (s > best) {
					best = s;
					id = (long)k;
				}
			}
			if (best < FUZZY_MIN)
				continue;
			w = best;
		}
		bool dup = false;

		for (size_t k = 0; k < n; k++)
			if (q[k].term == id) {
				dup = true;
				if (w > q[k].weight)
					q[k].weight = w;
			}
		if (dup)
			continue;
		q[n].term = id;
		q[n].weight = w;
		q[n].idf = idf_of(kb, &kb->terms[id]);
		n++;
	}
done:
	vagent__nlu_tokens_free(&t);
	if (!n) {
		free(q);
		q = NULL;
	}
	*out = q;
	return n;
}

/* The chunk's sentences: split at ". ", "! ", "? " and line ends, not
 * after abbreviations or initials. Returns how many (starts/ends). */
static size_t sentences(const char *s, size_t *starts, size_t *ends, size_t max)
{
	static const char *const abbrev[] = {
		"e.g", "i.e", "mr", "mrs", "ms", "dr", "st", "etc", "vs", "no", "approx",
	};
	size_t n = 0, i = 0, start = 0, len = strlen(s);

	while (i <= len && n < max) {
		bool cut = false;

		if (i == len || s[i] == '\n') {
			cut = true;
		} else if (strchr(".!?", s[i]) && (i + 1 == len || s[i + 1] == ' ' || s[i + 1] == '\n')) {
			size_t w = i;

			while (w > start && s[w - 1] != ' ')
				w--;
			cut = true;
			if (s[i] == '.') {
				for (size_t a = 0; a < VAGENT__ARRAY_SIZE(abbrev); a++)
					if (i - w == strlen(abbrev[a]) &&
					    !strncasecmp(s + w, abbrev[a], i - w))
						cut = false;
				if (i - w == 1 && isalpha((unsigned char)s[w]))
					cut = false;
			}
			if (cut)
				i++;   /* keep the stop */
		}
		if (cut) {
			size_t a = start, b = i;

			while (a < b && isspace((unsigned char)s[a]))
				a++;
			while (b > a && isspace((unsigned char)s[b - 1]))
				b--;
			if (b > a) {
				starts[n] = a;
				ends[n] = b;
				n++;
			}
			start = i + (i < len);
		}
		i++;
	}
	return n;
}

static double sentence_score(struct vagent_kb *kb, const char *s, size_t len,
			     const struct qterm *q, size_t nq)
{
	struct vagent__nlu_tokens t = {0};
	char *copy = strndup(s, len);
	double score = 0;

	if (!copy || !vagent__nlu_tokenize(copy, &t))
		goto done;
	for (size_t k = 0; k < nq; k++)
		for (size_t i = 0; i < t.n; i++)
			if (!strcmp(t.v[i].stem, kb->terms[q[k].term].tok.stem)) {
				score += q[k].idf * q[k].weight;
				break;
			}
done:
	free(copy);
	vagent__nlu_tokens_free(&t);
	return score;
}

/* Up to two of the chunk's sentences for the query, in text order, at
 * most ANSWER_MAX characters. */
static char *answer_for(struct vagent_kb *kb, const struct chunk *c,
			const struct qterm *q, size_t nq)
{
	size_t starts[64], ends[64], n, best = 0, second = SIZE_MAX;
	double scores[64];
	struct vagent__strbuf b = {0};

	n = sentences(c->plain, starts, ends, 64);
	if (!n)
		return strdup("");
	for (size_t i = 0; i < n; i++) {
		scores[i] = sentence_score(kb, c->plain + starts[i], ends[i] - starts[i], q, nq);
		if (scores[i] > scores[best])
			best = i;
	}
	for (size_t i = 0; i < n; i++)
		if (i != best && scores[i] > 0 &&
		    (second == SIZE_MAX || scores[i] > scores[second]))
			second = i;
	/* A short best sentence takes the one after it as context. */
	if (second == SIZE_MAX && best + 1 < n && ends[best] - starts[best] < 80)
		second = best + 1;
	if (second != SIZE_MAX &&
	    (ends[best] - starts[best]) + 1 + (ends[second] - starts[second]) > ANSWER_MAX)
		second = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		if (i != best && i != second)
			continue;
		if (b.len)
			put_char(&b, ' ');
		if (ends[i] - starts[i] > ANSWER_MAX) {
			/* Cut a long sentence at a word boundary. */
			size_t cut = starts[i] + ANSWER_MAX - 3;

			while (cut > starts[i] && c->plain[cut] != ' ')
				cut--;
			if (cut == starts[i])
				cut = starts[i] + ANSWER_MAX - 3;
			vagent__strbuf_put(&b, c->plain + starts[i], cut - starts[i]);
			vagent__strbuf_rtrim(&b, ',');
			vagent__strbuf_puts(&b, "...");
		} else {
			vagent__strbuf_put(&b, c->plain + starts[i], ends[i] - starts[i]);
		}
	}
	return vagent__strbuf_detach(&b);
}

size_t vagent_kb_search(struct vagent_kb *kb, const char *query,
			struct vagent_kb_hit *hits, size_t max)
{
	struct qterm *q = NULL;
	double *score = NULL, avgdl;
	size_t nq, found = 0;

	if (!kb)
		return 0;
	answers_free(kb);
	if (!query || !hits || !max || !kb->n)
		return 0;
	nq = query_terms(kb, query, &q);
	if (!nq)
		return 0;
	score = calloc(kb->n, sizeof *score);
	kb->answers = calloc(max, sizeof *kb->answers);
	if (!score || !kb->answers)
		goto done;
	avgdl = kb->total_len / (double)kb->n;
	for (size_t k = 0; k < nq; k++) {
		const struct term *t = &kb->terms[q[k].term];

		for (size_t p = 0; p < t->npost; p++) {
			const struct chunk *c = &kb->chunks[t->post[p].chunk];
			double tf = t->post[p].tf;
			double norm = BM25_K1 * (1.0 - BM25_B + BM25_B * (double)c->len / avgdl);

			score[t->post[p].chunk] += q[k].weight * q[k].idf *
						   tf * (BM25_K1 + 1.0) / (tf + norm);
		}
	}
	/* Top `max` by score; equal scores keep the files' order. */
	while (found < max) {
		size_t best = SIZE_MAX;

		for (size_t i = 0; i < kb->n; i++)
			if (score[i] > 0 && (best == SIZE_MAX || score[i] > score[best]))
				best = i;
		if (best == SIZE_MAX)
			break;
		hits[found].source = kb->chunks[best].source;
		hits[found].heading = kb->chunks[best].heading;
		hits[found].text = kb->chunks[best].text;
		hits[found].score = score[best];
		kb->answers[found] = answer_for(kb, &kb->chunks[best], q, nq);
		hits[found].answer = kb->answers[found] ? kb->answers[found] : "";
		kb->nanswers = found + 1;
		score[best] = 0;
		found++;
	}
done:
	free(score);
	free(q);
	return found;
}
