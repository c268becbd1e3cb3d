/*
 * align.c — sclite-compatible word alignment: the dynamic programme of
 * sclite's Network_dpalign() with wwd_WORD() costs, on interned tokens.
 */
#include <stdlib.h>
#include <string.h>

#include "wer/wer_int.h"

/*
 * sclite's wwd_WORD(): correct 0, substitution 4, insertion and deletion 3
 * (its special '@' null word and optionally deletable "(word)" are not
 * used: vagent compares tokens literally).
 */
enum { COST_SUB = 4, COST_INS = 3, COST_DEL = 3 };
enum { BACK_DIAG = 0, BACK_DEL = 1, BACK_INS = 2 };

void vagent__aligner_init(struct vagent__aligner *al)
{
	memset(al, 0, sizeof(*al));
}

void vagent__aligner_release(struct vagent__aligner *al)
{
	free(al->cost);
	free(al->back);
	memset(al, 0, sizeof(*al));
}

size_t vagent__align(struct vagent__aligner *al,
		     const int32_t *ref, size_t n, const int32_t *hyp, size_t m,
		     struct vagent_wer_edit *edits, struct vagent_wer_counts *counts)
{
	size_t cells = (n + 1) * (m + 1), a, b, k, nedits;
	int32_t *prev, *cur;
	uint8_t *back;

	if (n > SIZE_MAX / 2 / (m + 1) - 1)
		return (size_t)-1;
	if (al->cap < cells || !al->cost) {
		size_t cap = cells < 4096 ? 4096 : cells;
		uint8_t *nb = realloc(al->back, cap);
		if (!nb)
			return (size_t)-1;
		al->back = nb;
		al->cap = cap;
	}
	/* Costs need only two rows; the back pointers keep the whole matrix. */
	{
		int32_t *nc = realloc(al->cost, 2 * (m + 1) * sizeof(*nc));
		if (!nc)
			return (size_t)-1;
		al->cost = nc;
	}
	back = al->back;
	prev = al->cost;
	cur = al->cost + (m + 1);

	/* Row 0 (only insertions) and column 0 (only deletions): sclite's
	 * calculate_margin_cells(). */
	prev[0] = 0;
	back[0] = BACK_DIAG;
	for (b = 1; b <= m; b++) {
		prev[b] = prev[b - 1] + COST_INS;
		back[b] = BACK_INS;
	}
	for (a = 1; a <= n; a++) {
		uint8_t *brow = back + a * (m + 1);
		int32_t ra = ref[a - 1];

		int32_t left = prev[0] + COST_DEL;
		cur[0] = left;
		brow[0] = BACK_DEL;
		for (b = 1; b <= m; b++) {
			int32_t sub = prev[b - 1] + (ra == hyp[b - 1] ? 0 : COST_SUB);
			int32_t del = prev[b] + COST_DEL;
			int32_t ins = left + COST_INS;
			/* The tie-break order of calculate_internal_cells():
			 * substitution/correct when no worse than both (that is,
			 * than their minimum), then deletion when strictly better
			 * than insertion, else insertion. Written without
			 * branches: the compiler turns these into cmovs. */
			int32_t gap = del < ins ? del : ins;
			uint8_t gap_op = del < ins ? BACK_DEL : BACK_INS;
			int diag = sub <= gap;

			left = diag ? sub : gap;
			cur[b] = left;
			brow[b] = diag ? (uint8_t)BACK_DIAG : gap_op;
		}
		int32_t *t = prev;
		prev = cur;
		cur = t;
	}

	/* Trace back from (n, m), writing edits from the end of the buffer. */
	memset(counts, 0, sizeof(*counts));
	a = n;
	b = m;
	k = n + m;
	while (a > 0 || b > 0) {
		struct vagent_wer_edit e;
		switch (back[a * (m + 1) + b]) {
		case BACK_DIAG:
			a--;
			b--;
			e.ref = (int)a;
			e.hyp = (int)b;
			if (ref[a] == hyp[b]) {
				e.op = 'C';
				counts->cor++;
			} else {
				e.op = 'S';
				counts->sub++;
			}
			break;
		case BACK_DEL:
			a--;
			e.op = 'D';
			e.ref = (int)a;
			e.hyp = -1;
			counts->del++;
			break;
		default:
			b--;
			e.op = 'I';
			e.ref = -1;
			e.hyp = (int)b;
			counts->ins++;
			break;
		}
		k--;
		if (edits)
			edits[k] = e;
	}
	nedits = n + m - k;
	if (edits && k)
		memmove(edits, edits + k, nedits * sizeof(*edits));
	counts->ref_words = n;
	counts->hyp_words = m;
	return nedits;
}

size_t vagent__utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c;
	size_t need, i;

	if (len == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* Reject overlong forms, surrogates and values past U+10FFFF. */
	if ((need == 3 && c < 0x800) || (need == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return need;
}

/* Token separators (ASCII whitespace) and the end of the string. */
static const unsigned char stop[256] = {
	[0] = 2, [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, ['\v'] = 1, ['\f'] = 1,
};

static int is_space(unsigned char c)
{
	return stop[c] == 1;
}

size_t vagent__tokenize(const char *text, int cer, const char **toks, size_t *lens)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t n = 0;

	while (*p) {
		size_t len;
		if (is_space(*p)) {
			p++;
			continue;
		}
		if (cer) {
			uint32_t cp;
			len = vagent__utf8_decode(p, strnlen((const char *)p, 4), &cp);
			if (len == 0)
				len = 1; /* a stray byte is one character */
		} else {
			len = 0;
			while (!stop[p[len]])
				len++;
		}
		if (toks)
			toks[n] = (const char *)p;
		if (lens)
			lens[n] = len;
		n++;
		p += len;
	}
	return n;
}
