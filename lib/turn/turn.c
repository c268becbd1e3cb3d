/*
 * turn.c — end-of-turn detection on top of the frame VAD: a turn opens after
 * enough speech, and ends when the silence after its last speech has lasted
 * the hold (longer when the running transcript ends mid-number or on a
 * connective). Media time only. See docs/turn.md.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

#define TURN_MAX_MS    600000           /* 10 minutes */
#define TURN_MAX_WORDS 256              /* hold-list entries */
#define TURN_MAX_WORD  64               /* bytes of one normalised entry */

static const char *const default_hold_words[] = {
	/* number words */
	"zero", "oh", "o", "one", "two", "three", "four", "five", "six", "seven",
	"eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen",
	"fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
	"thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
	"hundred", "thousand", "million", "double", "triple", "point", "dash",
	/* connectives and lead-ins */
	"and", "so", "but", "or", "because", "then", "plus", "with", "if",
	"my number is", "the number is", "it's", "it is", "is", "the", "a",
	"my", "to", "of",
	/* hesitations */
	"um", "uh", "er", "erm", "hmm", "uhm", "like",
	NULL,
};

struct vagent_turn_detector {
	struct vagent_turn_config cfg;
	char **words;            /* normalised hold list (owned) */
	size_t nwords;
	int64_t start, min_hold, max_hold;   /* ticks */
	int64_t last_end;        /* end of the previous frame, -1: none yet */
	/* the VAD's current speech segment */
	bool seg_active;
	int64_t seg_onset, seg_like_end;
	/* the turn */
	bool open;               /* a turn is open (START sent, no END yet) */
	bool pending;            /* speech stopped; END due at speech_end + hold */
	int64_t speech_end;
	bool text_holds;         /* the transcript of this turn asks for the long hold */
};

const char *const *vagent_turn_default_hold_words(void)
{
	return default_hold_words;
}

struct vagent_turn_config vagent_turn_config_default(void)
{
	struct vagent_turn_config c = {
		.start_ms = 150,
		.min_hold_ms = 500,
		.max_hold_ms = 1500,
		.hold_rule = true,
		.hold_words = NULL,
	};

	return c;
}

/*
 * Normalise `s` into `out` (size `cap`): ASCII lowercase words of letters,
 * digits and apostrophes (U+2019 counts as one) separated by one space;
 * everything else separates words. Returns the length; truncated text keeps
 * its END (the part the hold rule reads).
 */
static size_t normalise(const char *s, char *out, size_t cap)
{
	size_t len = strlen(s), n = 0;
	const unsigned char *p = (const unsigned char *)s;
	/* only the tail matters: the longest entry is < TURN_MAX_WORD bytes */
	size_t from = len > cap - 1 ? len - (cap - 1) : 0;

	/* a word cut by the truncation is dropped whole */
	while (from > 0 && from < len && (isalnum(p[from]) || p[from] == '\'' || p[from] >= 0x80))
		from++;
	for (size_t i = from; i < len; i++) {
		unsigned char c = p[i];
		char w = 0;

		if (isalnum(c) && c < 128)
			w = (char)tolower(c);
		else if (c == '\'')
			w = '\'';
		else if (c == 0xE2 && i + 2 < len && p[i + 1] == 0x80 && p[i + 2] == 0x99) {
			w = '\'';
			i += 2;
		}
		if (w) {
			if (n + 1 < cap)
				out[n++] = w;
		} else if (n > 0 && out[n - 1] != ' ' && n + 1 < cap) {
			out[n++] = ' ';
		}
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	return n;
}

static bool text_holds(const struct vagent_turn_detector *d, const char *text)
{
	char buf[TURN_MAX_WORD * 2];
	size_t n;

	if (!text)
		return false;
	n = normalise(text, buf, sizeof(buf));
	if (n == 0)
		return false;
	if (isdigit((unsigned char)buf[n - 1]))
		return true;
	for (size_t i = 0; i < d->nwords; i++) {
		size_t m = strlen(d->words[i]);

		if (m <= n && !memcmp(buf + n - m, d->words[i], m) &&
		    (m == n || buf[n - m - 1] == ' '))
			return true;
	}
	return false;
}

static void free_words(struct vagent_turn_detector *d)
{
	for (size_t i = 0; i < d->nwords; i++)
		free(d->words[i]);
	free(d->words);
	d->words = NULL;
	d->nwords = 0;
}

void vagent_turn_detector_free(struct vagent_turn_detector *d)
{
	if (!d)
		return;
	free_words(d);
	free(d);
}

void vagent_turn_detector_reset(struct vagent_turn_detector *d)
{
	d->last_end = -1;
	d->seg_active = false;
	d->seg_onset = d->seg_like_end = 0;
	d->open = d->pending = false;
	d->speech_end = 0;
	d->text_holds = false;
}

vagent_status vagent_turn_detector_new(const struct vagent_turn_config *cfg,
				       struct vagent_turn_detector **out,
				       struct vagent_error *err)
{
	struct vagent_turn_detector *d = NULL;
	struct vagent_turn_config c = cfg ? *cfg : vagent_turn_config_default();
	const char *const *list = c.hold_words ? c.hold_words : default_hold_words;
	vagent_status st = VAGENT_OK;
	size_t count = 0;

	*out = NULL;
	if (c.start_ms < 0 || c.start_ms > TURN_MAX_MS)
		return vagent__error_set(err, VAGENT_EINVAL, "turn",
					 "start_ms %d is out of range (0..%d)", c.start_ms, TURN_MAX_MS);
	if (c.min_hold_ms < 0 || c.min_hold_ms > TURN_MAX_MS)
		return vagent__error_set(err, VAGENT_EINVAL, "turn",
					 "min_hold_ms %d is out of range (0..%d)", c.min_hold_ms, TURN_MAX_MS);
	if (c.max_hold_ms < c.min_hold_ms || c.max_hold_ms > TURN_MAX_MS)
		return vagent__error_set(err, VAGENT_EINVAL, "turn",
					 "max_hold_ms %d is out of range (min_hold_ms %d..%d)",
					 c.max_hold_ms, c.min_hold_ms, TURN_MAX_MS);
	while (list[count])
		count++;
	if (count > TURN_MAX_WORDS)
		return vagent__error_set(err, VAGENT_EINVAL, "turn",
					 "hold_words has %zu entries (at most %d)", count, TURN_MAX_WORDS);
	d = calloc(1, sizeof(*d));
	if (!d)
		return vagent__error_set(err, VAGENT_ENOMEM, "turn", "out of memory");
	d->words = calloc(count + 1, sizeof(*d->words));
	if (!d->words) {
		st = vagent__error_set(err, VAGENT_ENOMEM, "turn", "out of memory");
		goto done;
	}
	for (size_t i = 0; i < count; i++) {
		char buf[TURN_MAX_WORD];

		if (strlen(list[i]) >= TURN_MAX_WORD ||
		    normalise(list[i], buf, sizeof(buf)) == 0) {
			st = vagent__error_set(err, VAGENT_EINVAL, "turn",
					       "hold_words[%zu] \"%.40s\" is empty or longer than %d bytes",
					       i, list[i], TURN_MAX_WORD - 1);
			goto done;
		}
		d->words[d->nwords] = strdup(buf);
		if (!d->words[d->nwords]) {
			st = vagent__error_set(err, VAGENT_ENOMEM, "turn", "out of memory");
			goto done;
		}
		d->nwords++;
	}
	c.hold_words = NULL;     /* the copy in d->words is what is used */
	d->cfg = c;
	d->start = vagent_ticks_from_ms(c.start_ms);
	d->min_hold = vagent_ticks_from_ms(c.min_hold_ms);
	d->max_hold = vagent_ticks_from_ms(c.max_hold_ms);
	vagent_turn_detector_reset(d);
	*out = d;
	d = NULL;
done:
	vagent_turn_detector_free(d);
	return st;
}

bool vagent_turn_detector_text_holds(const struct vagent_turn_detector *d,
				     const char *text)
{
	return text_holds(d, text);
}

void vagent_turn_detector_set_transcript(struct vagent_turn_detector *d,
					 const char *text)
{
	/* with no turn open and no speech going on, the text belongs to a turn
	 * that already ended (a late final): it must not hold the next one */
	if (!d->open && !d->seg_active)
		return;
	d->text_holds = d->cfg.hold_rule && text_holds(d, text);
}

bool vagent_turn_detector_in_turn(const struct vagent_turn_detector *d)
{
	return d->open;
}

vagent_status vagent_turn_detector_push_vad(struct vagent_turn_detector *d,
					    const struct vagent_vad_result *r,
					    int64_t pts, int64_t duration,
					    struct vagent_turn_event *ev,
					    struct vagent_error *err)
{
	int64_t end;

	memset(ev, 0, sizeof(*ev));
	if (duration <= 0)
		return vagent__error_set(err, VAGENT_EINVAL, "turn",
					 "frame duration %lld ticks is not positive",
					 (long long)duration);
	if (d->last_end >= 0 && pts < d->last_end)
		return vagent__error_set(err, VAGENT_EINVAL, "turn",
					 "frame at %lld ms starts before the previous one ended (%lld ms)",
					 (long long)vagent_ticks_to_ms(pts),
					 (long long)vagent_ticks_to_ms(d->last_end));
	end = pts + duration;
	d->last_end = end;

	if (r->event == VAGENT_VAD_START) {
		d->seg_active = true;
		d->seg_onset = r->event_pts;
		d->seg_like_end = end;
		d->pending = false;     /* speech resumed: the turn goes on */
	}
	if (d->seg_active && r->speech_like)
		d->seg_like_end = end;
	if (d->seg_active && !d->open && d->seg_like_end - d->seg_onset >= d->start) {
		d->open = true;
		ev->type = VAGENT_TURN_START;
		ev->pts = end;
		ev->speech_pts = d->seg_onset;
		return VAGENT_OK;
	}
	if (r->event == VAGENT_VAD_END) {
		d->seg_active = false;
		if (d->open) {
			d->pending = true;
			d->speech_end = r->event_pts;
		}
	}
	/* a speech-like frame may be the onset of resumed speech: wait for the
	 * VAD to confirm or drop it (at most its onset run) */
	if (d->pending && !r->speech_like) {
		int64_t hold = d->text_holds ? d->max_hold : d->min_hold;

		if (end >= d->speech_end + hold) {
			ev->type = VAGENT_TURN_END;
			ev->pts = end;
			ev->speech_pts = d->speech_end;
			ev->hold = hold;
			ev->extended = d->text_holds && d->max_hold > d->min_hold;
			d->open = d->pending = false;
			d->text_holds = false;
		}
	}
	return VAGENT_OK;
}
