/*
 * echo.c — the acoustic echo canceller of a live call (docs/chat.md):
 * speexdsp's MDF adaptive filter removes the speaker's signal (the
 * reference) from the mic, then its preprocessor suppresses the residual
 * echo the linear filter leaves (non-linear speakers, a moving room).
 */
#include <stdlib.h>
#include <string.h>

#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>

#include "core/internal.h"

struct vagent_echo_canceller {
	SpeexEchoState *echo;
	SpeexPreprocessState *pre;      /* NULL: no residual suppression */
	size_t frame;
	int16_t *out;
};

vagent_status vagent_echo_canceller_new(int rate, size_t frame_samples, int tail_ms,
					bool suppress,
					struct vagent_echo_canceller **out,
					struct vagent_error *err)
{
	struct vagent_echo_canceller *ec;
	int tail, off = 0, on = 1, noise_db = -3;

	*out = NULL;
	if (rate != 8000 && rate != 16000)
		return vagent__error_set(err, VAGENT_EINVAL, "echo canceller",
					 "rate %d Hz: must be 8000 or 16000", rate);
	if (frame_samples < 40 || frame_samples > (size_t)rate / 10)
		return vagent__error_set(err, VAGENT_EINVAL, "echo canceller",
					 "frame of %zu samples: must be 5..100 ms", frame_samples);
	if (tail_ms < 20 || tail_ms > 1000)
		return vagent__error_set(err, VAGENT_EINVAL, "echo canceller",
					 "tail %d ms: must be 20..1000", tail_ms);
	ec = calloc(1, sizeof(*ec));
	if (!ec)
		return vagent__error_set(err, VAGENT_ENOMEM, "echo canceller", "out of memory");
	tail = rate / 1000 * tail_ms;
	ec->frame = frame_samples;
	ec->out = calloc(frame_samples, sizeof(*ec->out));
	ec->echo = speex_echo_state_init((int)frame_samples, tail);
	if (ec->echo)
		speex_echo_ctl(ec->echo, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
	if (ec->echo && suppress) {
		ec->pre = speex_preprocess_state_init((int)frame_samples, rate);
		if (ec->pre) {
			/* echo suppression; speex applies its gains only with
			 * the denoiser on, so that stays on, but gentle (the
			 * recogniser has its own); no gain control (the VAD) */
			speex_preprocess_ctl(ec->pre, SPEEX_PREPROCESS_SET_DENOISE, &on);
			speex_preprocess_ctl(ec->pre, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS,
					     &noise_db);
			speex_preprocess_ctl(ec->pre, SPEEX_PREPROCESS_SET_AGC, &off);
			speex_preprocess_ctl(ec->pre, SPEEX_PREPROCESS_SET_DEREVERB, &off);
			speex_preprocess_ctl(ec->pre, SPEEX_PREPROCESS_SET_ECHO_STATE, ec->echo);
		}
	}
	if (!ec->out || !ec->echo || (suppress && !ec->pre)) {
		vagent_echo_canceller_free(ec);
		return vagent__error_set(err, VAGENT_ENOMEM, "echo canceller", "out of memory");
	}
	*out = ec;
	return VAGENT_OK;
}

void vagent_echo_canceller_process(struct vagent_echo_canceller *ec, const int16_t *mic,
				   const int16_t *ref, int16_t *out)
{
	speex_echo_cancellation(ec->echo, mic, ref, ec->out);
	if (ec->pre)
		speex_preprocess_run(ec->pre, ec->out);
	memcpy(out, ec->out, ec->frame * sizeof(*out));
}

void vagent_echo_canceller_free(struct vagent_echo_canceller *ec)
{
	if (!ec)
		return;
	if (ec->pre)
		speex_preprocess_state_destroy(ec->pre);
	if (ec->echo)
		speex_echo_state_destroy(ec->echo);
	free(ec->out);
	free(ec);
}
