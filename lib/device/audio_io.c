/*
 * audio_io.c — a call's audio endpoints (vagent_audio_io): the microphone
 * and speaker through PortAudio, or WAV files standing in for either.
 *
 * Device audio moves through lock-free rings between PortAudio's callback
 * and the loop thread, at the device's rate; the loop thread converts
 * to/from the call's rate with speexdsp's resampler. In a full-duplex
 * stream the callback queues the samples it played next to the ones it
 * captured, so the echo reference lines up sample for sample. A WAV input
 * is paced by the wall clock from start(); a WAV output is a timeline on
 * the same clock (silence where nothing was played), written at free.
 */
#include "audio/audio_int.h"
#include "device/device_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <portaudio.h>
#include <speex/speex_resampler.h>

#define RING_SECONDS 2
#define CHUNK 256                 /* samples per step in callbacks and conversions */
#define RESAMPLE_QUALITY 5
#define MAX_REF_DELAY_S 0.5       /* the most the echo reference is delayed */
#define REF_SLACK_MS 250          /* separate streams: reference kept beyond the cushion */
/* A started stream whose callback has not run for this long has stalled
 * (the ALSA pulse plugin can block instead of failing when its server or
 * device goes away). */
#define STALL_NS (3000LL * 1000 * 1000)

struct stream_side {
	struct vagent_audio_io *io;
	PaStream *stream;
	bool capture, play;          /* what this stream does */
	int in_channels, out_channels;
	const char *label;           /* the failing device, for errors */
	size_t dry_samples;          /* silence played since the queue ran dry mid-play */
};

struct vagent_audio_io {
	int rate, frame_ms;
	char in_name[160], out_name[160];   /* "pulse", or the file path */
	bool in_wav, out_wav;

	/* WAV input (at `rate`) */
	int16_t *win;
	size_t win_n, win_pos;

	/* WAV output timeline (at `rate`), sample 0 = start() */
	char *wout_path;
	int16_t *wout;
	size_t wout_cap, wout_end;

	/* devices */
	bool pa_held, duplex;
	double dev_rate;               /* the stream(s)' rate */
	struct stream_side sides[2];
	size_t n_sides;
	struct vagent__ring in_ring, ref_ring, out_ring;
	bool ref_from_ring;            /* ref_ring carries what a device played */
	size_t ref_delay;              /* device samples the reference is delayed by */
	bool ref_primed;               /* separate streams: the cushion is there */
	size_t out_latency;            /* the output stream's, at `rate` */
	SpeexResamplerState *rs_in, *rs_ref, *rs_out;
	int16_t *mic_stage, *ref_stage;     /* converted, at `rate` */
	size_t mic_n, ref_n, stage_cap;

	bool started;
	_Atomic bool stopping;
	int64_t t0_ns;
	size_t mic_total;              /* samples handed out by read() */

	_Atomic int64_t last_callback_ns;
	_Atomic bool fail_claimed, failed;
	char fail_msg[400];
	_Atomic size_t overruns, underruns;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Samples at `rate` since start() (0 before). */
static size_t elapsed_samples(const struct vagent_audio_io *io)
{
	if (!io->started)
		return 0;
	int64_t dt = now_ns() - io->t0_ns;
	return dt > 0 ? (size_t)(dt / 1000 * io->rate / 1000000) : 0;
}

struct vagent_audio_io_config vagent_audio_io_config_default(void)
{
	return (struct vagent_audio_io_config){ .rate = 16000, .frame_ms = 20 };
}

/* Record the first failure (any thread, the callback's included). */
static void fail(struct vagent_audio_io *io, const char *label, const char *what)
{
	if (atomic_exchange(&io->fail_claimed, true))
		return;
	snprintf(io->fail_msg, sizeof(io->fail_msg), "%s: %s", label, what);
	atomic_store_explicit(&io->failed, true, memory_order_release);
}

/* ---- the PortAudio callback */

/*
 * An underrun is the output running dry in the middle of playing: the
 * queue emptied and more came within UNDERRUN_GAP_MS (the writer was late).
 * A longer silence is the end of one utterance and the start of another.
 */
#define UNDERRUN_GAP_MS 100

static void count_underrun(struct vagent_audio_io *io, struct stream_side *side, size_t got,
			   size_t want)
{
	if (got > 0 && side->dry_samples > 0) {
		if (side->dry_samples < (size_t)(io->dev_rate * UNDERRUN_GAP_MS / 1000))
			atomic_fetch_add(&io->underruns, 1);
		side->dry_samples = 0;
	}
	if (got < want && (got > 0 || side->dry_samples > 0))
		side->dry_samples += want - got;
}

static int stream_callback(const void *input, void *output, unsigned long frames,
			   const PaStreamCallbackTimeInfo *time_info,
			   PaStreamCallbackFlags flags, void *user)
{
	struct stream_side *side = user;
	struct vagent_audio_io *io = side->io;
	int16_t mono[CHUNK], played[CHUNK];
	const int16_t *in = input;
	int16_t *out = output;

	(void)time_info;
	atomic_store_explicit(&io->last_callback_ns, now_ns(), memory_order_relaxed);
	if (flags & paInputOverflow)
		atomic_fetch_add(&io->overruns, 1);
	if (flags & paOutputUnderflow)
		atomic_fetch_add(&io->underruns, 1);
	for (unsigned long done = 0; done < frames;) {
		size_t n = frames - done > CHUNK ? CHUNK : frames - done;

		if (side->play) {
			size_t got = vagent__ring_read(&io->out_ring, played, n);
			count_underrun(io, side, got, n);
			memset(played + got, 0, (n - got) * sizeof(*played));
			for (size_t i = 0; i < n; i++)
				for (int c = 0; c < side->out_channels; c++)
					out[(done + i) * (size_t)side->out_channels + (size_t)c] = played[i];
		}
		if (side->capture) {
			for (size_t i = 0; i < n; i++) {
				int sum = 0;
				for (int c = 0; c < side->in_channels; c++)
					sum += in ? in[(done + i) * (size_t)side->in_channels + (size_t)c] : 0;
				mono[i] = (int16_t)(sum / side->in_channels);
			}
			size_t fit = vagent__ring_space(&io->in_ring);
			if (side->play && vagent__ring_space(&io->ref_ring) < fit)
				fit = vagent__ring_space(&io->ref_ring);
			if (fit < n)
				atomic_fetch_add(&io->overruns, 1);
			if (fit > n)
				fit = n;
			if (side->play)
				vagent__ring_write(&io->ref_ring, played, fit);
			vagent__ring_write(&io->in_ring, mono, fit);
		} else if (side->play && io->ref_from_ring) {
			vagent__ring_write(&io->ref_ring, played, n);
		}
		done += n;
	}
	return paContinue;
}

static void stream_finished(void *user)
{
	struct stream_side *side = user;
	struct vagent_audio_io *io = side->io;

	if (!atomic_load(&io->stopping))
		fail(io, side->label, "the audio stream stopped (device gone or server lost)");
}

/* ---- opening */

static vagent_status open_wav_input(struct vagent_audio_io *io, const char *path,
				    struct vagent_error *err)
{
	struct vagent_audio *a = NULL, *r = NULL;
	vagent_status st = vagent_audio_load(path, VAGENT_CHANNELS_MIX, &a, err);

	if (st != VAGENT_OK)
		return st;
	st = vagent_audio_resample(a, io->rate, -1, &r, err);
	vagent_audio_free(a);
	if (st != VAGENT_OK)
		return st;
	io->win = malloc((r->frames ? r->frames : 1) * sizeof(*io->win));
	if (!io->win) {
		vagent_audio_free(r);
		return vagent__error_set(err, VAGENT_ENOMEM, path, "out of memory");
	}
	for (size_t i = 0; i < r->frames; i++)
		io->win[i] = vagent__f2s(r->samples[i]);
	io->win_n = r->frames;
	vagent_audio_free(r);
	return VAGENT_OK;
}

static vagent_status open_wav_output(struct vagent_audio_io *io, const char *path,
				     struct vagent_error *err)
{
	/* Fail now, not silently at free, when the file cannot be written. */
	FILE *fp = fopen(path, "wb");
	if (!fp) {
		int e = errno;
		return vagent__error_set(err, e == ENOENT ? VAGENT_ENOENT : VAGENT_EIO, path,
					 "cannot write: %s", strerror(e));
	}
	fclose(fp);
	io->wout_path = strdup(path);
	if (!io->wout_path)
		return vagent__error_set(err, VAGENT_ENOMEM, path, "out of memory");
	return VAGENT_OK;
}

static bool format_ok(int dev, bool input, int channels, double rate, PaTime latency)
{
	PaStreamParameters p = { .device = dev, .channelCount = channels,
				 .sampleFormat = paInt16, .suggestedLatency = latency };

	return Pa_IsFormatSupported(input ? &p : NULL, input ? NULL : &p, rate) == paFormatIsSupported;
}

/* Mono when the device takes it, else stereo (mixed down / copied). */
static int pick_channels(int dev, bool input, double rate, PaTime latency)
{
	const PaDeviceInfo *pi = Pa_GetDeviceInfo(dev);
	int max = input ? pi->maxInputChannels : pi->maxOutputChannels;

	if (format_ok(dev, input, 1, rate, latency))
		return 1;
	return max >= 2 ? 2 : 1;
}

static PaTime latency_for(const struct vagent_audio_io_config *cfg, int dev, bool input)
{
	const PaDeviceInfo *pi = Pa_GetDeviceInfo(dev);

	if (cfg->latency_ms > 0)
		return cfg->latency_ms / 1000.0;
	return input ? pi->defaultLowInputLatency : pi->defaultLowOutputLatency;
}

static vagent_status open_stream(struct vagent_audio_io *io, struct stream_side *side,
				 const struct vagent_audio_io_config *cfg, int in_dev,
				 int out_dev, struct vagent_error *err)
{
	PaStreamParameters in = { 0 }, out = { 0 };
	double rate = io->dev_rate;

	if (side->capture) {
		in.device = in_dev;
		in.sampleFormat = paInt16;
		in.suggestedLatency = latency_for(cfg, in_dev, true);
		in.channelCount = side->in_channels = pick_channels(in_dev, true, rate, in.suggestedLatency);
	}
	if (side->play) {
		out.device = out_dev;
		out.sampleFormat = paInt16;
		out.suggestedLatency = latency_for(cfg, out_dev, false);
		out.channelCount = side->out_channels =
			pick_channels(out_dev, false, rate, out.suggestedLatency);
	}
	side->io = io;
	PaError e = Pa_OpenStream(&side->stream, side->capture ? &in : NULL,
				  side->play ? &out : NULL, rate, paFramesPerBufferUnspecified,
				  paNoFlag, stream_callback, side);
	if (e != paNoError) {
		side->stream = NULL;
		return vagent__error_set(err, VAGENT_EIO, NULL, "%s: cannot open: %s", side->label,
					 Pa_GetErrorText(e));
	}
	Pa_SetStreamFinishedCallback(side->stream, stream_finished);
	return VAGENT_OK;
}

/*
 * In a full-duplex stream the callback gets the input captured about
 * inputLatency ago and writes output that sounds about outputLatency later:
 * an echo of what it writes now comes back in the input of a callback
 * (inputLatency + outputLatency) later. Delaying the reference by that much
 * (silence first) lines it up with the echo, up to what the device or the
 * sound server adds beyond what PortAudio reports.
 */
static void delay_reference(struct vagent_audio_io *io)
{
	const PaStreamInfo *info = Pa_GetStreamInfo(io->sides[0].stream);
	int16_t zeros[CHUNK] = { 0 };

	if (!info)
		return;
	double delay_s = info->inputLatency + info->outputLatency;
	if (!(delay_s > 0))
		return;
	if (delay_s > MAX_REF_DELAY_S)
		delay_s = MAX_REF_DELAY_S;
	io->ref_delay = (size_t)(delay_s * io->dev_rate + 0.5);
	for (size_t left = io->ref_delay; left > 0;) {
		size_t n = left < CHUNK ? left : CHUNK;
		vagent__ring_write(&io->ref_ring, zeros, n);
		left -= n;
	}
}

static SpeexResamplerState *new_resampler(double from, double to)
{
	int e = 0;

	return speex_resampler_init(1, (spx_uint32_t)from, (spx_uint32_t)to, RESAMPLE_QUALITY, &e);
}

static vagent_status open_devices(struct vagent_audio_io *io,
				  const struct vagent_audio_io_config *cfg,
				  struct vagent_error *err)
{
	bool want_in = !io->in_wav, want_out = !io->out_wav;
	int in_dev = -1, out_dev = -1;
	char name[128];
	vagent_status st = vagent__pa_acquire(err, "audio");

	if (st != VAGENT_OK)
		return st;
	io->pa_held = true;
	if (want_in) {
		st = vagent__device_find(cfg->input, true, &in_dev, name, sizeof(name), err);
		if (st != VAGENT_OK)
			return st;
		snprintf(io->in_name, sizeof(io->in_name), "input device \"%s\"", name);
	}
	if (want_out) {
		st = vagent__device_find(cfg->output, false, &out_dev, name, sizeof(name), err);
		if (st != VAGENT_OK)
			return st;
		snprintf(io->out_name, sizeof(io->out_name), "output device \"%s\"", name);
	}
	int dev = want_in ? in_dev : out_dev;
	io->dev_rate = Pa_GetDeviceInfo(dev)->defaultSampleRate;
	if (io->dev_rate < 1000 || io->dev_rate > 384000)
		io->dev_rate = io->rate;

	/* One full-duplex stream when both ends are devices of one host API at
	 * one rate, else a stream per device. */
	io->duplex = want_in && want_out &&
		     Pa_GetDeviceInfo(in_dev)->hostApi == Pa_GetDeviceInfo(out_dev)->hostApi &&
		     format_ok(in_dev, true, 1, io->dev_rate, latency_for(cfg, in_dev, true)) &&
		     format_ok(out_dev, false, 1, io->dev_rate, latency_for(cfg, out_dev, false));
	if (want_in && want_out && !io->duplex &&
	    Pa_GetDeviceInfo(out_dev)->defaultSampleRate != io->dev_rate)
		io->dev_rate = io->rate; /* separate streams share one conversion rate */

	size_t ring = (size_t)(io->dev_rate * RING_SECONDS);
	/* The reference ring also holds the delay that lines it up (below). */
	if (!vagent__ring_init(&io->in_ring, ring) ||
	    !vagent__ring_init(&io->ref_ring, ring + (size_t)(io->dev_rate * MAX_REF_DELAY_S)) ||
	    !vagent__ring_init(&io->out_ring, ring))
		return vagent__error_set(err, VAGENT_ENOMEM, "audio", "out of memory");
	io->rs_in = new_resampler(io->dev_rate, io->rate);
	io->rs_ref = new_resampler(io->dev_rate, io->rate);
	io->rs_out = new_resampler(io->rate, io->dev_rate);
	if (!io->rs_in || !io->rs_ref || !io->rs_out)
		return vagent__error_set(err, VAGENT_EINVAL, "audio",
					 "cannot convert between %.0f Hz and %d Hz", io->dev_rate,
					 io->rate);
	io->ref_from_ring = want_out;

	if (io->duplex) {
		io->sides[0] = (struct stream_side){ .capture = true, .play = true,
						     .label = io->in_name };
		io->n_sides = 1;
		st = open_stream(io, &io->sides[0], cfg, in_dev, out_dev, err);
		if (st == VAGENT_OK)
			delay_reference(io);
		return st;
	}
	if (want_in)
		io->sides[io->n_sides++] = (struct stream_side){ .capture = true, .label = io->in_name };
	if (want_out)
		io->sides[io->n_sides++] = (struct stream_side){ .play = true, .label = io->out_name };
	for (size_t i = 0; i < io->n_sides; i++) {
		st = open_stream(io, &io->sides[i], cfg, in_dev, out_dev, err);
		if (st != VAGENT_OK)
			return st;
		const PaStreamInfo *info = Pa_GetStreamInfo(io->sides[i].stream);
		if (io->sides[i].play && info && info->outputLatency > 0 &&
		    info->outputLatency < MAX_REF_DELAY_S)
			io->out_latency = (size_t)(info->outputLatency * io->rate);
	}
	return VAGENT_OK;
}

vagent_status vagent_audio_io_open(const struct vagent_audio_io_config *cfg,
				   struct vagent_audio_io **out, struct vagent_error *err)
{
	if (!cfg || !out)
		return vagent__error_set(err, VAGENT_EINVAL, "audio", "no configuration");
	*out = NULL;
	if (cfg->rate < 8000 || cfg->rate > 48000)
		return vagent__error_set(err, VAGENT_EINVAL, "audio",
					 "call rate %d Hz out of range (8000 to 48000)", cfg->rate);
	if (cfg->frame_ms < 0 || cfg->frame_ms > 1000 || cfg->latency_ms < 0 ||
	    cfg->latency_ms > 5000)
		return vagent__error_set(err, VAGENT_EINVAL, "audio",
					 "frame_ms %d or latency_ms %d out of range", cfg->frame_ms,
					 cfg->latency_ms);
	struct vagent_audio_io *io = calloc(1, sizeof(*io));
	if (!io)
		return vagent__error_set(err, VAGENT_ENOMEM, "audio", "out of memory");
	io->rate = cfg->rate;
	io->frame_ms = cfg->frame_ms ? cfg->frame_ms : 20;
	io->in_wav = vagent__is_wav_path(cfg->input);
	io->out_wav = vagent__is_wav_path(cfg->output);
	io->stage_cap = (size_t)io->rate * RING_SECONDS;
	vagent_status st = VAGENT_OK;
	if (io->in_wav) {
		snprintf(io->in_name, sizeof(io->in_name), "%s", cfg->input);
		st = open_wav_input(io, cfg->input, err);
	}
	if (st == VAGENT_OK && io->out_wav) {
		snprintf(io->out_name, sizeof(io->out_name), "%s", cfg->output);
		st = open_wav_output(io, cfg->output, err);
	}
	if (st == VAGENT_OK && (!io->in_wav || !io->out_wav))
		st = open_devices(io, cfg, err);
	if (st == VAGENT_OK) {
		io->mic_stage = malloc(io->stage_cap * sizeof(*io->mic_stage));
		io->ref_stage = malloc(io->stage_cap * sizeof(*io->ref_stage));
		if (!io->mic_stage || !io->ref_stage)
			st = vagent__error_set(err, VAGENT_ENOMEM, "audio", "out of memory");
	}
	if (st != VAGENT_OK) {
		vagent_audio_io_free(io);
		return st;
	}
	*out = io;
	return VAGENT_OK;
}

vagent_status vagent_audio_io_start(struct vagent_audio_io *io, struct vagent_error *err)
{
	if (!io)
		return vagent__error_set(err, VAGENT_EINVAL, "audio", "no audio endpoints");
	if (io->started)
		return VAGENT_OK;
	io->t0_ns = now_ns();
	atomic_store(&io->last_callback_ns, io->t0_ns);
	for (size_t i = 0; i < io->n_sides; i++) {
		PaError e = Pa_StartStream(io->sides[i].stream);
		if (e != paNoError) {
			atomic_store(&io->stopping, true);
			for (size_t k = 0; k < i; k++)
				Pa_AbortStream(io->sides[k].stream);
			return vagent__error_set(err, VAGENT_EIO, NULL, "%s: cannot start: %s",
						 io->sides[i].label, Pa_GetErrorText(e));
		}
	}
	io->started = true;
	return VAGENT_OK;
}

/* ---- reading and writing (the loop thread) */

/* Drain up to `limit` samples of a device ring through `rs` into a stage at
 * the call rate; returns how many were taken from the ring. */
static size_t convert_ring(struct vagent__ring *ring, SpeexResamplerState *rs,
			   int16_t *stage, size_t *stage_n, size_t stage_cap, size_t limit)
{
	int16_t in[CHUNK];
	size_t taken = 0;

	while (taken < limit) {
		size_t room = stage_cap - *stage_n;
		size_t want = limit - taken < CHUNK ? limit - taken : CHUNK;
		if (room < CHUNK + 16)
			break;
		size_t got = vagent__ring_read(ring, in, want);
		if (got == 0)
			break;
		taken += got;
		spx_uint32_t in_len = (spx_uint32_t)got, out_len = (spx_uint32_t)room;
		speex_resampler_process_int(rs, 0, in, &in_len, stage + *stage_n, &out_len);
		*stage_n += out_len;
	}
	return taken;
}

static void stage_take(int16_t *stage, size_t *stage_n, int16_t *dst, size_t n)
{
	if (dst)
		memcpy(dst, stage, n * sizeof(*stage));
	memmove(stage, stage + n, (*stage_n - n) * sizeof(*stage));
	*stage_n -= n;
}

/* How far behind the output's callback the reference of separate streams
 * runs (at `rate`): three frames and the output's latency (its callback
 * comes in bursts about that long, and stalls as long while it starts). */
static size_t separate_cushion(const struct vagent_audio_io *io)
{
	return (size_t)io->rate * (size_t)io->frame_ms * 3 / 1000 + io->out_latency;
}

/* The echo reference for the `n` mic samples starting at mic_total. */
static void take_reference(struct vagent_audio_io *io, int16_t *ref, size_t n)
{
	if (io->out_wav) {
		for (size_t i = 0; i < n; i++) {
			size_t at = io->mic_total + i;
			if (ref)
				ref[i] = at < io->wout_end ? io->wout[at] : 0;
		}
		return;
	}
	if (!io->ref_from_ring) {
		if (ref)
			memset(ref, 0, n * sizeof(*ref));
		return;
	}
	if (io->duplex) {
		/* Lockstep: the stage holds exactly as much as the mic's. */
		size_t have = io->ref_n < n ? io->ref_n : n;
		if (ref)
			memset(ref + have, 0, (n - have) * sizeof(*ref));
		stage_take(io->ref_stage, &io->ref_n, ref, have);
		return;
	}
	/*
	 * Separate streams: the output stream's callback queued what it played,
	 * in bursts of its own; hand it out at the mic's pace behind a cushion
	 * that absorbs the bursts. Running dry (the output stalled) starts the
	 * cushion over; far too much (the mic stalled) is dropped down to it.
	 */
	size_t cushion = separate_cushion(io);
	size_t most = cushion + (size_t)io->rate * REF_SLACK_MS / 1000;
	if (io->ref_n > most + n)
		stage_take(io->ref_stage, &io->ref_n, NULL, io->ref_n - cushion - n);
	if (!io->ref_primed && io->ref_n >= cushion + n)
		io->ref_primed = true;
	if (!io->ref_primed) {
		if (ref)
			memset(ref, 0, n * sizeof(*ref));
		return;
	}
	size_t have = io->ref_n < n ? io->ref_n : n;
	stage_take(io->ref_stage, &io->ref_n, ref, have);
	if (ref)
		memset(ref + have, 0, (n - have) * sizeof(*ref));
	if (have < n)
		io->ref_primed = false;
}

size_t vagent_audio_io_read(struct vagent_audio_io *io, int16_t *mic, int16_t *ref, size_t max)
{
	if (!io || !mic || !io->started)
		return 0;
	size_t n;
	if (io->in_wav) {
		size_t due = elapsed_samples(io);
		if (due > io->win_n)
			due = io->win_n;
		n = due > io->win_pos ? due - io->win_pos : 0;
		if (n > max)
			n = max;
		memcpy(mic, io->win + io->win_pos, n * sizeof(*mic));
		io->win_pos += n;
		if (io->ref_from_ring)
			convert_ring(&io->ref_ring, io->rs_ref, io->ref_stage, &io->ref_n,
				     io->stage_cap, (size_t)-1);
	} else {
		if (io->duplex) {
			/* Both rings were filled in lockstep (the reference ahead by
			 * its delay): convert equal counts. */
			size_t taken = convert_ring(&io->in_ring, io->rs_in, io->mic_stage,
						    &io->mic_n, io->stage_cap, (size_t)-1);
			convert_ring(&io->ref_ring, io->rs_ref, io->ref_stage, &io->ref_n,
				     io->stage_cap, taken);
		} else {
			convert_ring(&io->in_ring, io->rs_in, io->mic_stage, &io->mic_n,
				     io->stage_cap, (size_t)-1);
			if (io->ref_from_ring)
				convert_ring(&io->ref_ring, io->rs_ref, io->ref_stage, &io->ref_n,
					     io->stage_cap, (size_t)-1);
		}
		n = io->mic_n < max ? io->mic_n : max;
		stage_take(io->mic_stage, &io->mic_n, mic, n);
	}
	take_reference(io, ref, n);
	io->mic_total += n;
	return n;
}

size_t vagent_audio_io_write(struct vagent_audio_io *io, const int16_t *samples, size_t n)
{
	if (!io || !samples || n == 0)
		return 0;
	if (io->out_wav) {
		size_t now = elapsed_samples(io);
		size_t at = io->wout_end > now ? io->wout_end : now;
		size_t limit = (size_t)io->rate * RING_SECONDS;
		size_t queued = at - now;
		if (queued >= limit)
			return 0;
		if (n > limit - queued)
			n = limit - queued;
		if (at + n > io->wout_cap) {
			size_t cap = io->wout_cap ? io->wout_cap : (size_t)io->rate * 4;
			while (cap < at + n)
				cap *= 2;
			int16_t *p = realloc(io->wout, cap * sizeof(*p));
			if (!p)
				return 0;
			io->wout = p;
			io->wout_cap = cap;
		}
		memset(io->wout + io->wout_end, 0, (at - io->wout_end) * sizeof(*io->wout));
		memcpy(io->wout + at, samples, n * sizeof(*samples));
		io->wout_end = at + n;
		return n;
	}
	/* Device: convert in chunks while the ring has room for the result. */
	size_t done = 0;
	int16_t conv[CHUNK * 8];
	size_t chunk_in = (size_t)((double)CHUNK * io->rate / io->dev_rate);
	if (chunk_in < 1)
		chunk_in = 1;
	if (chunk_in > CHUNK)
		chunk_in = CHUNK;
	while (done < n) {
		size_t take = n - done < chunk_in ? n - done : chunk_in;
		size_t worst = (size_t)((double)take * io->dev_rate / io->rate) + 16;
		if (vagent__ring_space(&io->out_ring) < worst || worst > VAGENT__ARRAY_SIZE(conv))
			break;
		spx_uint32_t in_len = (spx_uint32_t)take, out_len = (spx_uint32_t)VAGENT__ARRAY_SIZE(conv);
		speex_resampler_process_int(io->rs_out, 0, samples + done, &in_len, conv, &out_len);
		vagent__ring_write(&io->out_ring, conv, out_len);
		done += in_len;
		if (in_len == 0)
			break;
	}
	return done;
}

size_t vagent_audio_io_pending(const struct vagent_audio_io *io)
{
	if (!io)
		return 0;
	if (io->out_wav) {
		size_t now = elapsed_samples(io);
		return io->wout_end > now ? io->wout_end - now : 0;
	}
	return (size_t)((double)vagent__ring_fill(&io->out_ring) * io->rate / io->dev_rate);
}

bool vagent_audio_io_input_eof(const struct vagent_audio_io *io)
{
	return io && io->in_wav && io->win_pos >= io->win_n;
}

vagent_status vagent_audio_io_status(const struct vagent_audio_io *io, struct vagent_error *err)
{
	if (!io)
		return vagent__error_set(err, VAGENT_EINVAL, "audio", "no audio endpoints");
	if (atomic_load_explicit(&io->failed, memory_order_acquire))
		return vagent__error_set(err, VAGENT_EIO, NULL, "%s", io->fail_msg);
	if (io->started && io->n_sides > 0 && !atomic_load(&io->stopping)) {
		int64_t idle = now_ns() - atomic_load_explicit(&io->last_callback_ns,
							       memory_order_relaxed);
		if (idle > STALL_NS)
			return vagent__error_set(err, VAGENT_EIO, NULL,
						 "%s: no audio for %lld ms (device gone or server lost)",
						 io->sides[0].label, (long long)(idle / 1000000));
	}
	return VAGENT_OK;
}

bool vagent_audio_io_has_reference(const struct vagent_audio_io *io)
{
	return io && io->duplex;
}

void vagent_audio_io_xruns(const struct vagent_audio_io *io, size_t *in_overruns,
			   size_t *out_underruns)
{
	if (in_overruns)
		*in_overruns = io ? atomic_load(&io->overruns) : 0;
	if (out_underruns)
		*out_underruns = io ? atomic_load(&io->underruns) : 0;
}

void vagent_audio_io_latency(const struct vagent_audio_io *io, double *input_ms,
			     double *output_ms, double *reference_delay_ms)
{
	double in = 0, out = 0;

	for (size_t i = 0; io && i < io->n_sides; i++) {
		const PaStreamInfo *info = Pa_GetStreamInfo(io->sides[i].stream);
		if (!info)
			continue;
		if (io->sides[i].capture)
			in = info->inputLatency * 1000;
		if (io->sides[i].play)
			out = info->outputLatency * 1000;
	}
	if (input_ms)
		*input_ms = in;
	if (output_ms)
		*output_ms = out;
	double ref = 0;
	if (io && io->duplex && io->dev_rate > 0)
		ref = (double)io->ref_delay * 1000.0 / io->dev_rate;
	else if (io && io->ref_from_ring)
		ref = (double)separate_cushion(io) * 1000.0 / io->rate;
	if (reference_delay_ms)
		*reference_delay_ms = ref;
}

static void write_wav_output(struct vagent_audio_io *io)
{
	size_t len = io->wout_end;
	size_t now = elapsed_samples(io);

	if (now > len)
		len = now;
	struct vagent_audio *a = vagent_audio_new(io->rate, 1, len);
	if (!a)
		return;
	for (size_t i = 0; i < io->wout_end; i++)
		a->samples[i] = vagent__s2f(io->wout[i]);
	struct vagent_audio_save_opts opts = vagent_audio_save_opts_default();
	vagent_audio_save(a, io->wout_path, &opts, NULL);
	vagent_audio_free(a);
}

void vagent_audio_io_free(struct vagent_audio_io *io)
{
	if (!io)
		return;
	atomic_store(&io->stopping, true);
	for (size_t i = 0; i < io->n_sides; i++) {
		if (!io->sides[i].stream)
			continue;
		if (io->started)
			Pa_AbortStream(io->sides[i].stream);
		Pa_CloseStream(io->sides[i].stream);
	}
	if (io->pa_held)
		vagent__pa_release();
	if (io->wout_path)
		write_wav_output(io);
	if (io->rs_in)
		speex_resampler_destroy(io->rs_in);
	if (io->rs_ref)
		speex_resampler_destroy(io->rs_ref);
	if (io->rs_out)
		speex_resampler_destroy(io->rs_out);
	vagent__ring_free(&io->in_ring);
	vagent__ring_free(&io->ref_ring);
	vagent__ring_free(&io->out_ring);
	free(io->mic_stage);
	free(io->ref_stage);
	free(io->win);
	free(io->wout);
	free(io->wout_path);
	free(io);
}
