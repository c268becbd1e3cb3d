/*
 * stage_dtmf.c — the first stage of the chain: a DTMF detector on every
 * caller frame. Each key press goes to the turn stage (dtmf event, turn
 * rules, barge-in); a frame with a key tone sounding reaches the VAD and
 * the STT as silence (the recorder keeps the tone); in PCI mode (the
 * brain's on_sensitive) every caller frame is silence for the listeners
 * and the recording alike. docs/dtmf.md.
 */
#include <stdlib.h>
#include <string.h>

#include "session/session_int.h"

struct dtmf_stage {
	struct vagent__stage base;
	struct vagent_dtmf_detector *det;
	struct vagent_frame masked;        /* the silenced copy handed on */
	struct vagent_speech_truth no_truth; /* nothing is being said (for the STT) */
	bool pci_press;                    /* the key sounding began in PCI mode */
};

static void dtmf_handle(struct vagent__stage *st, struct vagent__item *it)
{
	struct dtmf_stage *d = (struct dtmf_stage *)st;
	struct vagent_session *s = st->s;

	if (it->kind == VAGENT__ITEM_CALLER_FRAME && it->frame->channels == 1) {
		const struct vagent_frame *f = it->frame;
		char keys[8];
		int64_t onsets[8];
		size_t n = vagent_dtmf_detector_feed(d->det, f->samples, f->n, keys, onsets, 8);

		/* the detector counts samples from the call's first frame (t = 0) */
		for (size_t i = 0; i < n; i++)
			vagent__turn_stage_dtmf(s->stage_turn, keys[i],
						vagent_ticks_from_samples(onsets[i], f->rate));
		bool active = vagent_dtmf_detector_active(d->det);

		/* a key pressed in PCI mode stays out of the recording to its
		 * end, even when the brain turns PCI off as it is recognised */
		d->pci_press = active && (s->sensitive || d->pci_press);
		if (s->sensitive || active) {
			vagent_frame_init(&d->masked, f->rate, 1, f->n, f->pts);
			if (!s->sensitive && !d->pci_press)
				it->record_frame = f;
			it->frame = &d->masked;
			it->truth = &d->no_truth;
		}
	}
	vagent__stage_forward(st, it);
}

static void dtmf_free(struct vagent__stage *st)
{
	struct dtmf_stage *d = (struct dtmf_stage *)st;

	vagent_dtmf_detector_free(d->det);
	free(d);
}

static const struct vagent__stage_ops dtmf_ops = {
	.name = "dtmf", .handle = dtmf_handle, .free = dtmf_free,
};

struct vagent__stage *vagent__dtmf_stage_new(struct vagent_session *s,
					     struct vagent_error *err)
{
	struct dtmf_stage *d = calloc(1, sizeof(*d));

	if (d)
		d->det = vagent_dtmf_detector_new(s->cfg.rate);
	if (!d || !d->det) {
		free(d);
		vagent__error_set(err, VAGENT_ENOMEM, "session", "out of memory");
		return NULL;
	}
	d->base.ops = &dtmf_ops;
	return &d->base;
}
