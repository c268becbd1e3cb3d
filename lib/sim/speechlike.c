/*
 * speechlike.c — speech-like audio for simulated voices (sim TTS, the
 * simulated caller): the rhythm of a text as syllables of a glottal pulse
 * train through three formant resonators, with consonant onsets of
 * filtered noise, a falling pitch contour, dips between words and pauses at
 * punctuation. Timing depends on the text only; the seed picks the voice's
 * pitch, the vowels and the jitter. docs/simulation.md.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

#define SL_WHERE        "speechlike"
#define SL_MIN_RATE     8000
#define SL_MAX_RATE     48000
#define SL_LEVEL        0.1             /* -20 dBFS RMS */
#define SL_KNEE         0.8             /* peaks above are softly limited ... */
#define SL_PEAK         0.99            /* ... to this */
#define SL_CTRL_HZ      500             /* control rate: a 2 ms block */
#define SL_MAX_WORD     256             /* bytes of a word analysed */
/* Voice quality, tuned so lib/vad sees speech (tests/check_speechlike.c):
 * breath noise on the pulses (in the source) and a little after the
 * formants keep vowels from looking like steady tones to the VAD's
 * order-4 predictor; pre-emphasis gives the spectrum a speech-like tilt. */
#define SL_BREATH       0.25            /* in the source, per unit of voicing */
#define SL_AIR          0.05            /* after the formants: ~24 dB below */
#define SL_PREEMPH_HZ   40.0            /* pre-emphasis zero */
#define SL_TOP_HZ       5000.0          /* the voice's top (at rates above 11 kHz) */

/* Gaps, ms: between words 30..60, at a comma 250..290, a stop 300..350. */
enum { GAP_NONE = 0, GAP_WORD, GAP_COMMA, GAP_STOP };

/* Consonant onsets. */
enum {
	C_NONE = 0,
	C_STOP,         /* p t k c q x: closure, then a burst */
	C_VSTOP,        /* b d g: closure with a voice bar, then a burst */
	C_SIB,          /* s sh ch j: high, strong noise */
	C_VSIB,         /* z */
	C_FRIC,         /* f th: weak, broad noise */
	C_VFRIC,        /* v */
	C_ASP,          /* h: noise through the vowel's formants */
	C_SON,          /* m n l r w y: voiced murmur with low formants */
};

struct sl_syl {
	int start_ms, dur_ms, cons_ms;
	int cons;               /* C_* */
	char cons_letter;
	char vowel;             /* first letter of the vowel group (0: none) */
	bool stressed, word_final;
	int phrase;
	unsigned hash;          /* of the word and position: per-syllable detail */
	/* filled by the synthesiser (seed dependent) */
	double f[3];            /* vowel target formants */
	double drift[3];        /* formant movement over the vowel */
	double amp;
	double pitch;           /* accent, Hz */
};

struct sl_plan {
	struct sl_syl *syl;     /* NULL: count only */
	size_t n, cap;
	int total_ms;
	int phrases;
};

static unsigned sl_hash(const char *s, size_t n)
{
	unsigned h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * 16777619u;
	}
	return h ^ (h >> 15);
}

static bool is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '\'' ||
	       c >= 0x80;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_vowel(const char *w, size_t i)
{
	char c = w[i];

	if (c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u')
		return true;
	/* y is a vowel except at the start of the word */
	return c == 'y' && i > 0;
}

static int consonant_class(const char *w, size_t at, char *letter)
{
	char c = w[at], prev = at > 0 ? w[at - 1] : 0;

	*letter = c;
	if (c == 'h') {
		if (prev == 's' || prev == 'c') {
			*letter = 'j';          /* "sh", "ch": lower than "s" */
			return C_SIB;
		}
		if (prev == 't') {
			*letter = 'f';
			return C_FRIC;
		}
		return C_ASP;
	}
	switch (c) {
	case 'p': case 't': case 'k': case 'c': case 'q': case 'x':
		return C_STOP;
	case 'b': case 'd': case 'g':
		return C_VSTOP;
	case 's': case 'j':
		return C_SIB;
	case 'z':
		return C_VSIB;
	case 'f':
		return C_FRIC;
	case 'v':
		return C_VFRIC;
	case 'm': case 'n': case 'l': case 'r': case 'w': case 'y':
		return C_SON;
	default:
		return C_NONE;          /* apostrophes, non-ASCII */
	}
}

static bool is_function_word(const char *w)
{
	static const char *const words[] = {
		"a", "an", "the", "to", "of", "and", "or", "for", "in", "on",
		"at", "is", "it", "as", "by", "be", "but", "from", "with",
	};

	for (size_t i = 0; i < VAGENT__ARRAY_SIZE(words); i++)
		if (strcmp(w, words[i]) == 0)
			return true;
	return false;
}

/* Add the syllables of one word (lower-case ASCII in w[0..n), n > 0). */
static void plan_word(struct sl_plan *p, const char *w, size_t n,
		      unsigned h)
{
	size_t group[SL_MAX_WORD];
	int k = 0;

	for (size_t i = 0; i < n; i++)
		if (is_vowel(w, i) && (i == 0 || !is_vowel(w, i - 1)))
			group[k++] = i;
	/* silent endings: "like", "times", "booked" (not "table", "wanted") */
	if (k > 1) {
		size_t last = group[k - 1];

		if (last == n - 1 && w[last] == 'e' && !(n >= 3 && w[n - 2] == 'l' &&
							 !is_vowel(w, n - 3)))
			k--;
		else if (last == n - 2 && w[last] == 'e' &&
			 ((w[n - 1] == 's' && !strchr("sxzcgh", w[n - 3])) ||
			  (w[n - 1] == 'd' && !strchr("td", w[n - 3]))))
			k--;
	}
	if (k == 0) {                   /* "hmm", "st", "Ω" */
		group[0] = n;
		k = 1;
	}
	for (int j = 0; j < k; j++) {
		struct sl_syl s;
		unsigned hj = h + 7919u * (unsigned)j;
		int d;

		memset(&s, 0, sizeof(s));
		if (k == 1)
			d = is_function_word(w) ? 160 : 210;
		else if (j == 0)
			d = 195;
		else if (j == k - 1)
			d = 180;
		else
			d = 165;
		d += (int)(hj % 21u) - 10;
		s.start_ms = p->total_ms;
		s.dur_ms = d;
		s.stressed = j == 0 && !(k == 1 && is_function_word(w));
		s.word_final = j == k - 1;
		s.phrase = p->phrases;
		s.hash = hj;
		s.vowel = group[j] < n ? w[group[j]] : 0;
		/* the onset: the consonant just before the vowel group */
		if (group[j] > 0 && (j == 0 || group[j] > group[j - 1] + 1))
			s.cons = consonant_class(w, group[j] - 1, &s.cons_letter);
		else if (group[j] == n && n > 0)
			s.cons = consonant_class(w, 0, &s.cons_letter);
		switch (s.cons) {
		case C_STOP: case C_VSTOP: s.cons_ms = 40; break;
		case C_SIB: case C_VSIB: s.cons_ms = 65; break;
		case C_FRIC: case C_VFRIC: s.cons_ms = 55; break;
		case C_ASP: s.cons_ms = 40; break;
		case C_SON: s.cons_ms = 45; break;
		default: s.cons_ms = 0; break;
		}
		p->total_ms += d;
		if (p->syl && p->n < p->cap)
			p->syl[p->n] = s;
		p->n++;
	}
}

/*
 * Lay out the syllables of `text`: words are runs of letters (and
 * apostrophes, and any non-ASCII byte); each digit is a word of its own,
 * read by name. Returns the number of syllables (0: no words).
 */
static size_t plan_text(const char *text, struct sl_plan *p)
{
	static const char *const digit_names[] = {
		"zero", "one", "two", "three", "four", "five", "six", "seven",
		"eight", "nine",
	};
	const unsigned char *s = (const unsigned char *)text;
	int gap = GAP_NONE;
	char w[SL_MAX_WORD + 1];

	p->n = 0;
	p->total_ms = 0;
	p->phrases = 0;
	for (size_t i = 0; s[i];) {
		size_t n = 0;
		unsigned h;

		if (!is_word_byte(s[i]) && !is_digit(s[i])) {
			int g = GAP_NONE;

			if (strchr(",;:", s[i]))
				g = GAP_COMMA;
			else if (strchr(".!?", s[i]))
				g = GAP_STOP;
			/* "1,000", "3.5", "e.g": no pause inside a token */
			if (g != GAP_NONE && gap != GAP_NONE &&
			    !is_word_byte(s[i + 1]) && !is_digit(s[i + 1]) && g > gap)
				gap = g;
			i++;
			continue;
		}
		if (is_digit(s[i])) {
			const char *name = digit_names[s[i] - '0'];

			n = strlen(name);
			memcpy(w, name, n + 1);
			i++;
		} else {
			while (s[i] && is_word_byte(s[i])) {
				if (n < SL_MAX_WORD) {
					unsigned char c = s[i];

					if (c >= 'A' && c <= 'Z')
						c = (unsigned char)(c - 'A' + 'a');
					if (c != '\'')
						w[n++] = (char)c;
				}
				i++;
			}
			w[n] = 0;
			if (n == 0)             /* apostrophes only */
				continue;
		}
		h = sl_hash(w, n);
		if (gap == GAP_WORD)
			p->total_ms += 30 + (int)(h % 31u);
		else if (gap == GAP_COMMA)
			p->total_ms += 250 + (int)(h % 41u);
		else if (gap == GAP_STOP)
			p->total_ms += 300 + (int)(h % 51u);
		if (gap == GAP_COMMA || gap == GAP_STOP)
			p->phrases++;
		plan_word(p, w, n, h);
		gap = GAP_WORD;
	}
	if (p->n)
		p->phrases++;
	/* the text starts with the burst, not with the closure before it */
	if (p->syl && p->n && (p->syl[0].cons == C_STOP || p->syl[0].cons == C_VSTOP))
		p->syl[0].cons_ms = 20;
	return p->n;
}

int vagent_speechlike_duration_ms(const char *text)
{
	struct sl_plan p = { 0 };

	if (!text || !plan_text(text, &p))
		return 0;
	return p.total_ms;
}

/* ---- synthesis ---- */

/* Peterson & Barney (adult male) F1..F3, Hz. */
static const double vowel_table[][3] = {
	{ 270, 2290, 3010 },    /* 0 i  beet */
	{ 390, 1990, 2550 },    /* 1 ɪ  bit */
	{ 530, 1840, 2480 },    /* 2 ɛ  bet */
	{ 660, 1720, 2410 },    /* 3 æ  bat */
	{ 730, 1090, 2440 },    /* 4 ɑ  father */
	{ 570,  840, 2410 },    /* 5 ɔ  bought */
	{ 440, 1020, 2240 },    /* 6 ʊ  book */
	{ 300,  870, 2240 },    /* 7 u  boot */
	{ 640, 1190, 2390 },    /* 8 ʌ  but */
	{ 490, 1350, 1690 },    /* 9 ɝ  bird */
	{ 500, 1500, 2500 },    /* 10 ə */
};

/* The vowels a letter may stand for; the seed picks one. */
static int pick_vowel(char letter, struct vagent__rng *r)
{
	static const int a[] = { 3, 4, 8, 2 }, e[] = { 2, 0, 1, 10 },
		i[] = { 1, 0, 4 }, o[] = { 5, 4, 8, 7 }, u[] = { 6, 7, 8 },
		y[] = { 0, 1 }, any[] = { 10, 8, 1 };
	const int *set = any;
	size_t n = VAGENT__ARRAY_SIZE(any);

	switch (letter) {
	case 'a': set = a; n = VAGENT__ARRAY_SIZE(a); break;
	case 'e': set = e; n = VAGENT__ARRAY_SIZE(e); break;
	case 'i': set = i; n = VAGENT__ARRAY_SIZE(i); break;
	case 'o': set = o; n = VAGENT__ARRAY_SIZE(o); break;
	case 'u': set = u; n = VAGENT__ARRAY_SIZE(u); break;
	case 'y': set = y; n = VAGENT__ARRAY_SIZE(y); break;
	default: break;
	}
	return set[vagent__rng_range(r, (int64_t)n)];
}

/* A formant resonator (Klatt): unity gain at DC. */
struct reson {
	double a, b, c, y1, y2;
};

static void reson_set(struct reson *r, double f, double bw, double fs)
{
	double e = exp(-M_PI * bw / fs);

	r->c = -e * e;
	r->b = 2.0 * e * cos(2.0 * M_PI * f / fs);
	r->a = 1.0 - r->b - r->c;
}

static inline double reson_run(struct reson *r, double x)
{
	double y = r->a * x + r->b * r->y1 + r->c * r->y2;

	r->y2 = r->y1;
	r->y1 = y;
	return y;
}

/* A band-pass biquad (RBJ, 0 dB peak) for the noise of consonants. */
struct bpf {
	double b0, a1, a2, x1, x2, y1, y2;
};

static void bpf_set(struct bpf *q, double f, double bw, double fs)
{
	double w = 2.0 * M_PI * f / fs, alpha = sin(w) * sinh(log(2.0) / 2.0 *
				(bw / f) * w / sin(w)), a0 = 1.0 + alpha;

	q->b0 = alpha / a0;
	q->a1 = -2.0 * cos(w) / a0;
	q->a2 = (1.0 - alpha) / a0;
}

static inline double bpf_run(struct bpf *q, double x)
{
	double y = q->b0 * (x - q->x2) - q->a1 * q->y1 - q->a2 * q->y2;

	q->x2 = q->x1;
	q->x1 = x;
	q->y2 = q->y1;
	q->y1 = y;
	return y;
}

/* A low-pass biquad (RBJ, Butterworth): the top of the voice. */
struct lpf {
	double b0, b1, a1, a2, z1, z2;
};

static void lpf_set(struct lpf *q, double f, double fs)
{
	double w = 2.0 * M_PI * f / fs, alpha = sin(w) * M_SQRT1_2, a0 = 1.0 + alpha;

	q->b0 = (1.0 - cos(w)) / 2.0 / a0;
	q->b1 = (1.0 - cos(w)) / a0;
	q->a1 = -2.0 * cos(w) / a0;
	q->a2 = (1.0 - alpha) / a0;
}

static inline double lpf_run(struct lpf *q, double x)
{
	double y = q->b0 * x + q->z1;

	q->z1 = q->b1 * x - q->a1 * y + q->z2;
	q->z2 = q->b0 * x - q->a2 * y;
	return y;
}

static void flush2(double *a, double *b)
{
	if (fabs(*a) < 1e-20 && fabs(*b) < 1e-20)
		*a = *b = 0.0;
}

/* What the voice does at one instant. */
struct sl_ctrl {
	double av;              /* voicing amplitude */
	double an;              /* frication / burst amplitude */
	bool asp;               /* the noise goes through the formants */
	double f[3];            /* formants */
	double nf, nbw;         /* noise band */
	double f0;
};

/* Raised-cosine ramp 0 → 1 over [0, len). */
static double ramp(double x, double len)
{
	if (x <= 0)
		return 0;
	if (x >= len)
		return 1;
	return 0.5 - 0.5 * cos(M_PI * x / len);
}

struct sl_synth {
	const struct sl_plan *p;
	int rate;
	double base_f0;
	double schwa[3];
	size_t cur;             /* syllable index for the control search */
	double last_f0;
	double last_f[3];
	/* phrase spans, ms */
	int *ph_start, *ph_end;
};

static double noise_centre(const struct sl_syl *s, double fs)
{
	double nyq = 0.45 * fs;

	switch (s->cons) {
	case C_SIB: case C_VSIB:
		return fmin(s->cons_letter == 's' || s->cons_letter == 'z' ?
			    4800.0 : 2600.0, nyq);
	case C_FRIC: case C_VFRIC:
		return fmin(3200.0, nyq);
	case C_STOP: case C_VSTOP:
		switch (s->cons_letter) {
		case 'p': case 'b': return 1000.0;
		case 't': case 'd': return fmin(3500.0, nyq);
		default: return 2000.0;
		}
	default:
		return 1500.0;
	}
}

static void control(struct sl_synth *sy, double t, struct sl_ctrl *c)
{
	const struct sl_plan *p = sy->p;
	const struct sl_syl *s;
	double u, d, cd, v, from[3], x;

	while (sy->cur < p->n && t >= p->syl[sy->cur].start_ms + p->syl[sy->cur].dur_ms)
		sy->cur++;
	memset(c, 0, sizeof(*c));
	memcpy(c->f, sy->last_f, sizeof(c->f));
	c->f0 = sy->last_f0;
	c->nf = 1500.0;
	c->nbw = 1500.0;
	if (sy->cur >= p->n || t < p->syl[sy->cur].start_ms)
		return;                 /* a gap between words */
	s = &p->syl[sy->cur];
	u = t - s->start_ms;
	d = s->dur_ms;
	cd = s->cons_ms;

	/* pitch: declination over the phrase, an accent on stressed syllables */
	{
		double ps = sy->ph_start[s->phrase], pe = sy->ph_end[s->phrase];
		double pos = pe > ps ? (t - ps) / (pe - ps) : 0.0;

		c->f0 = sy->base_f0 + 12.0 - 24.0 * pos +
			s->pitch * sin(M_PI * u / d);
	}

	/* formants: from the previous syllable's (or the murmur's) to this
	 * vowel's over the first 40 % of the vowel, then drifting */
	if (sy->cur > 0 && !p->syl[sy->cur - 1].word_final) {
		const struct sl_syl *q = &p->syl[sy->cur - 1];

		for (int k = 0; k < 3; k++)
			from[k] = q->f[k] + q->drift[k];
	} else {
		memcpy(from, sy->schwa, sizeof(from));
	}
	if (s->cons == C_SON) {
		from[0] = 280.0;
		from[1] = 1100.0 + 200.0 * (s->hash % 3u);
		from[2] = 2400.0;
	}
	if (u < cd) {
		for (int k = 0; k < 3; k++)
			c->f[k] = s->cons == C_ASP ? s->f[k] : from[k];
	} else {
		double vt = (u - cd) / (d - cd), tr = ramp(vt, 0.4);

		for (int k = 0; k < 3; k++)
			c->f[k] = from[k] + (s->f[k] - from[k]) * tr + s->drift[k] * vt;
	}
	memcpy(sy->last_f, c->f, sizeof(c->f));
	sy->last_f0 = c->f0;

	/* voicing */
	if (u < cd) {
		switch (s->cons) {
		case C_SON: v = 0.45 * ramp(u, 15.0); break;
		case C_VSTOP: v = u < cd - 12.0 ? 0.06 : 0.0; break;
		case C_VSIB: case C_VFRIC: v = 0.15 * ramp(u, 10.0); break;
		default: v = 0.0; break;
		}
	} else {
		double v0 = s->cons == C_SON ? 0.45 : s->cons == C_VSIB ||
			    s->cons == C_VFRIC ? 0.15 : 0.0;
		double rel = s->word_final ? 40.0 : 30.0, floor_ = s->word_final ? 0.0 : 0.35;

		v = v0 + (1.0 - v0) * ramp(u - cd, 20.0);
		v *= 1.0 - 0.15 * (u - cd) / (d - cd);
		x = d - u;
		if (x < rel)
			v *= floor_ + (1.0 - floor_) * ramp(x, rel);
	}
	c->av = v * s->amp;

	/* frication and bursts */
	if (u < cd + 8.0) {
		switch (s->cons) {
		case C_STOP: case C_VSTOP:
			x = u - (cd - 14.0);
			if (x >= 0)
				c->an = (s->cons == C_STOP ? 0.9 : 0.55) * exp(-x / 6.0);
			break;
		case C_SIB: case C_VSIB:
			c->an = 0.5 * ramp(u, 12.0) * ramp(cd + 8.0 - u, 20.0);
			break;
		case C_FRIC: case C_VFRIC:
			c->an = 0.2 * ramp(u, 10.0) * ramp(cd + 8.0 - u, 15.0);
			break;
		case C_ASP:
			c->an = 0.6 * ramp(u, 10.0) * ramp(cd + 8.0 - u, 20.0);
			c->asp = true;
			break;
		default:
			break;
		}
		c->an *= s->amp;
	}
	c->nf = noise_centre(s, sy->rate);
	c->nbw = s->cons == C_SIB || s->cons == C_VSIB ? 1800.0 : 2500.0;
}

/* Rosenberg glottal flow at phase x of the period (0..1). */
static inline double glottal(double x)
{
	const double tp = 0.40, tn = 0.16;

	if (x < tp)
		return 0.5 - 0.5 * cos(M_PI * x / tp);
	if (x < tp + tn)
		return cos(0.5 * M_PI * (x - tp) / tn);
	return 0.0;
}

static inline double white(struct vagent__rng *r)
{
	return (double)(vagent__rng_next(r) >> 11) * 0x1.0p-52 - 1.0;
}

vagent_status vagent_speechlike_synth(const char *text, int rate,
				      uint64_t seed, struct vagent_audio **out,
				      struct vagent_error *err)
{
	struct sl_plan p = { 0 };
	struct sl_synth sy;
	struct vagent__rng rv, rj, rn;
	struct vagent_audio *a = NULL;
	struct reson fr[3] = { { 0 } };
	struct bpf nb = { 0 };
	struct lpf top = { 0 };
	double pre_a, pre_g;
	bool use_top;
	struct sl_ctrl c0, c1;
	size_t n, block;
	double phase = 0, g_prev = 0, period_f0 = 1.0, shimmer = 1.0, dscale;
	double sum = 0, gain, peak = 0, nscale;
	static const double bw[3] = { 110.0, 150.0, 220.0 };
	double y_prev = 0;
	float *x;

	*out = NULL;
	if (!text || !plan_text(text, &p))
		return vagent__error_set(err, VAGENT_EINVAL, SL_WHERE, "empty text");
	if (rate < SL_MIN_RATE || rate > SL_MAX_RATE)
		return vagent__error_set(err, VAGENT_EINVAL, SL_WHERE,
					 "unsupported rate %d Hz (%d..%d)", rate,
					 SL_MIN_RATE, SL_MAX_RATE);
	p.cap = p.n;
	p.syl = calloc(p.cap, sizeof(*p.syl));
	memset(&sy, 0, sizeof(sy));
	sy.ph_start = calloc((size_t)p.phrases + 1, sizeof(int));
	sy.ph_end = calloc((size_t)p.phrases + 1, sizeof(int));
	n = (size_t)(((int64_t)p.total_ms * rate + 500) / 1000);
	if (p.syl && sy.ph_start && sy.ph_end)
		a = vagent_audio_new(rate, 1, n);
	if (!a) {
		free(p.syl);
		free(sy.ph_start);
		free(sy.ph_end);
		return vagent__error_set(err, VAGENT_ENOMEM, SL_WHERE, "out of memory");
	}
	plan_text(text, &p);

	/* the voice: seed-dependent pitch, vowels, accents */
	vagent__rng_seed(&rv, seed, 1);
	vagent__rng_seed(&rj, seed, 2);
	vagent__rng_seed(&rn, seed, 3);
	sy.p = &p;
	sy.rate = rate;
	sy.base_f0 = 114.0 + 12.0 * vagent__rng_double(&rv);
	for (int k = 0; k < 3; k++)
		sy.schwa[k] = vowel_table[10][k];
	memcpy(sy.last_f, sy.schwa, sizeof(sy.last_f));
	sy.last_f0 = sy.base_f0;
	for (int k = 0; k <= p.phrases; k++) {
		sy.ph_start[k] = -1;
		sy.ph_end[k] = 0;
	}
	for (size_t i = 0; i < p.n; i++) {
		struct sl_syl *s = &p.syl[i];
		int v = pick_vowel(s->vowel, &rv);

		for (int k = 0; k < 3; k++) {
			s->f[k] = vowel_table[v][k] * (0.96 + 0.08 * vagent__rng_double(&rv));
			s->drift[k] = vowel_table[v][k] * (0.12 * vagent__rng_double(&rv) - 0.06);
		}
		s->amp = (s->stressed ? 1.0 : 0.75) * (0.9 + 0.2 * vagent__rng_double(&rv));
		s->pitch = s->stressed ? 6.0 + 6.0 * vagent__rng_double(&rv) : 0.0;
		if (sy.ph_start[s->phrase] < 0)
			sy.ph_start[s->phrase] = s->start_ms;
		sy.ph_end[s->phrase] = s->start_ms + s->dur_ms;
	}

	/* the samples, with the control (pitch, formants, envelopes) updated
	 * every 2 ms and the amplitudes interpolated in between */
	x = a->samples;
	block = (size_t)(rate / SL_CTRL_HZ);
	dscale = rate / 1000.0;
	nscale = sqrt(rate / 8000.0);
	/* pre-emphasis: the analog (s + wc) / w(1 kHz), the same at any rate */
	pre_a = exp(-2.0 * M_PI * SL_PREEMPH_HZ / rate);
	pre_g = rate / (2.0 * M_PI * 1000.0);
	use_top = rate > 11025;
	if (use_top)
		lpf_set(&top, SL_TOP_HZ, rate);
	control(&sy, 0.0, &c0);
	for (size_t i0 = 0; i0 < n; i0 += block) {
		size_t len = n - i0 < block ? n - i0 : block;
		double t1 = (double)(i0 + len) * 1000.0 / rate;

		for (int k = 0; k < 3; k++)
			reson_set(&fr[k], fmin(c0.f[k], 0.45 * rate), bw[k], rate);
		bpf_set(&nb, c0.nf, c0.nbw, rate);
		/* decayed filter states would turn subnormal: slow on x86 */
		for (int k = 0; k < 3; k++)
			flush2(&fr[k].y1, &fr[k].y2);
		flush2(&nb.x1, &nb.x2);
		flush2(&nb.y1, &nb.y2);
		flush2(&top.z1, &top.z2);
		control(&sy, t1, &c1);
		for (size_t j = 0; j < len; j++) {
			double w = (double)j / (double)len;
			double av = c0.av + (c1.av - c0.av) * w;
			double an = c0.an + (c1.an - c0.an) * w;
			double g, src, y, z, nz = 0;

			phase += c0.f0 * period_f0 / rate;
			if (phase >= 1.0) {
				phase -= 1.0;
				/* jitter and shimmer, per period */
				period_f0 = 1.0 + 0.01 * (2.0 * vagent__rng_double(&rj) - 1.0);
				shimmer = 1.0 + 0.06 * (2.0 * vagent__rng_double(&rj) - 1.0);
			}
			g = glottal(phase);
			src = (g - g_prev) * dscale * av * shimmer;
			g_prev = g;
			if (an > 0)
				nz = white(&rn) * an * nscale;
			if (c0.asp)
				src += 0.25 * nz;
			/* breath: noise riding on the glottal pulses */
			src += SL_BREATH * nscale * av * white(&rn) * (0.3 + g);
			y = reson_run(&fr[2], reson_run(&fr[1], reson_run(&fr[0], src)));
			if (!c0.asp)
				y += bpf_run(&nb, nz);
			else
				bpf_run(&nb, 0.0);
			z = (y - pre_a * y_prev) * pre_g;
			y_prev = y;
			y = z + SL_AIR * nscale * av * white(&rn);
			if (use_top)
				y = lpf_run(&top, y);
			x[i0 + j] = (float)y;
			sum += y * y;
		}
		c0 = c1;
	}

	/* -20 dBFS RMS over the whole utterance */
	gain = sum > 0 ? SL_LEVEL / sqrt(sum / (double)n) : 0.0;
	for (size_t i = 0; i < n; i++) {
		double v = (double)x[i] * gain;

		if (fabs(v) > peak)
			peak = fabs(v);
		x[i] = (float)v;
	}
	/* a soft knee for the rare big peak */
	if (peak > SL_KNEE)
		for (size_t i = 0; i < n; i++) {
			double v = x[i], m = fabs(v);

			if (m > SL_KNEE)
				x[i] = (float)copysign(SL_KNEE + (SL_PEAK - SL_KNEE) *
						       tanh((m - SL_KNEE) / (SL_PEAK - SL_KNEE)), v);
		}

	free(p.syl);
	free(sy.ph_start);
	free(sy.ph_end);
	*out = a;
	return VAGENT_OK;
}
