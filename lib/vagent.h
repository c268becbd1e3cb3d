/*
 * vagent.h — the public API of libvagent, the library behind the `vagent`
 * command. This is the only header the command-line tool (cmd/) includes.
 *
 * Conventions: names read vagent_<object>_<verb>; heap objects have _new and
 * _free (and _free(NULL) does nothing); functions that can fail return a
 * vagent_status and take an optional trailing `struct vagent_error *err`
 * that receives a one-line, user-facing message naming the file or provider
 * at fault. The library never prints and never exits.
 */
#ifndef VAGENT_H
#define VAGENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Status codes and errors
 * ------------------------------------------------------------------------ */

/*
 * X(NAME, value, exit_code, message). Zero and positive values are expected
 * outcomes (end of stream, flushing); negative values are errors. exit_code
 * is what `vagent` exits with when a command fails with that status
 * (DESIGN.md §2: 2 = usage error or invalid input, 3 = infrastructure).
 */
#define VAGENT_STATUS_MAP(X)                                                  \
	X(OK,           0,  0, "success")                                     \
	X(EOS,          1,  0, "end of stream")                               \
	X(FLUSHING,     2,  0, "flushing")                                    \
	X(EINVAL,      -1,  2, "invalid argument")                            \
	X(ENOENT,      -2,  2, "no such file")                                \
	X(EFORMAT,     -3,  2, "malformed input")                             \
	X(EUNSUPPORTED,-4,  2, "unsupported format")                          \
	X(ENOMEM,      -5,  3, "out of memory")                               \
	X(EIO,         -6,  3, "input/output error")                          \
	X(ETIMEOUT,    -7,  3, "timed out")                                   \
	X(EPROTO,      -8,  3, "protocol error")                              \
	X(EPROVIDER,   -9,  3, "provider error")                              \
	X(EAUTH,      -10,  3, "authentication failed")                       \
	X(EDEVICE,    -11,  3, "audio device error")                          \
	X(EINTERNAL,  -12,  3, "internal error")

typedef enum vagent_status {
#define VAGENT__STATUS_ENUM(name, val, exit_code, msg) VAGENT_##name = (val),
	VAGENT_STATUS_MAP(VAGENT__STATUS_ENUM)
#undef VAGENT__STATUS_ENUM
} vagent_status;

/* A short, static description of a status ("no such file"). Never NULL. */
const char *vagent_strerror(vagent_status st);

/* The symbolic name of a status ("ENOENT"). Never NULL. */
const char *vagent_status_name(vagent_status st);

/* The process exit code a command should use when it fails with `st`:
 * 0 for expected outcomes, 2 for bad input, 3 for infrastructure. */
int vagent_status_exit_code(vagent_status st);

/*
 * Detail about a failure, filled in by the function that failed. `message`
 * is one line, ready to print after "vagent: ", and already names the file
 * or provider ("calls/a.wav: truncated data chunk").
 */
struct vagent_error {
	vagent_status status;
	int http_status;          /* for provider errors, else 0 */
	char message[512];
};

/* Reset `err` (may be NULL) to VAGENT_OK with an empty message. */
void vagent_error_clear(struct vagent_error *err);

/*
 * Every problem a validator found (`vagent validate`): one line each,
 * "FILE:LINE: field: problem", in the order found. Loaders that take a
 * `struct vagent_diags *` add every problem to it (and still return the
 * first in `err`); NULL collects nothing. At most VAGENT_DIAGS_MAX lines
 * are kept, `dropped` counts the rest.
 */
#define VAGENT_DIAGS_MAX 200
struct vagent_diags {
	char **lines;
	size_t n, cap;
	size_t dropped;
};

void vagent_diags_init(struct vagent_diags *d);
/* Add one line (printf format; NULL `d`: ignored; a duplicate of a line
 * already there: ignored). */
void vagent_diags_add(struct vagent_diags *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vagent_diags_clear(struct vagent_diags *d);

/* Library version string ("0.1.0"). */
const char *vagent_version(void);

/* One line listing the versions of the libraries vagent links
 * ("libsndfile-1.2.0, libopus 1.3.1, ..."). Static storage. */
const char *vagent_linked_versions(void);

/* ------------------------------------------------------------------------
 * Audio: frames, files, codecs, resampling, DSP   (lib/audio/)
 * ------------------------------------------------------------------------ */

/* @@AUDIO@@ — the audio module's declarations go here. */

/*
 * Media time. Every timestamp on the media clock is an int64 count of
 * ticks of 1/705 600 000 s (a "flick"): every common sample rate (8, 11.025,
 * 12, 16, 22.05, 24, 32, 44.1, 48, 96 kHz) divides it, so the time of any
 * sample is exact and frames of different rates compare without rounding.
 * One millisecond is 705 600 ticks; an int64 covers ±414 years.
 */
#define VAGENT_TICKS_PER_SEC INT64_C(705600000)
#define VAGENT_TICKS_PER_MS  INT64_C(705600)

/* Ticks at the start of sample `index` of a stream at `rate` Hz (exact
 * when `rate` divides VAGENT_TICKS_PER_SEC, truncated otherwise). */
int64_t vagent_ticks_from_samples(int64_t index, int rate);

/* Index of the sample at `rate` Hz that contains time `ticks` (floor). */
int64_t vagent_ticks_to_samples(int64_t ticks, int rate);

/* Conversions to and from milliseconds and microseconds (floor toward
 * minus infinity when converting to the coarser unit). */
int64_t vagent_ticks_from_ms(int64_t ms);
int64_t vagent_ticks_to_ms(int64_t ticks);
int64_t vagent_ticks_to_us(int64_t ticks);

/*
 * A frame: a short run of interleaved int16 samples with its media time.
 * Frames are plain values (no heap memory): copy them with `=`. Capacity is
 * 20 ms of 48 kHz stereo; the session pipeline moves 20 ms frames.
 */
#define VAGENT_FRAME_MAX_SAMPLES 1920  /* interleaved samples (n * channels) */

struct vagent_frame {
	int64_t pts;        /* media time of the first sample, in ticks */
	int rate;           /* samples per second per channel */
	int channels;       /* 1 or 2 */
	size_t n;           /* samples per channel */
	int16_t samples[VAGENT_FRAME_MAX_SAMPLES]; /* interleaved */
};

/* Number of samples per channel in `ms` milliseconds at `rate`
 * (rate * ms / 1000, rounded down). */
size_t vagent_frame_samples_for(int rate, int ms);

/*
 * Initialise `f` as `n` samples per channel of silence at `rate` Hz with
 * `channels` channels and time `pts`. Returns VAGENT_EINVAL (and leaves `f`
 * empty) when rate <= 0, channels is not 1 or 2, or n * channels exceeds
 * VAGENT_FRAME_MAX_SAMPLES.
 */
vagent_status vagent_frame_init(struct vagent_frame *f, int rate, int channels,
				size_t n, int64_t pts);

/* vagent_frame_init() with n = 20 ms at `rate` (160 at 8 kHz, 441 at
 * 22.05 kHz, 960 at 48 kHz). */
vagent_status vagent_frame_init_20ms(struct vagent_frame *f, int rate,
				     int channels, int64_t pts);

/* Duration of `f` in ticks, and the time just after its last sample. */
int64_t vagent_frame_duration(const struct vagent_frame *f);
int64_t vagent_frame_end(const struct vagent_frame *f);

/*
 * An in-memory audio buffer: interleaved float samples, full scale ±1.0
 * (an int16 sample s is s / 32768.0, so int16 → float → int16 is exact;
 * float keeps 24-bit and float files lossless and leaves DSP headroom).
 * Fields may be read directly; `samples` is owned by the buffer.
 */
typedef enum vagent_encoding {
	VAGENT_ENC_DEFAULT = 0, /* on save: the container's usual one (pcm16, opus) */
	VAGENT_ENC_PCM_U8,
	VAGENT_ENC_PCM_S8,
	VAGENT_ENC_PCM16,
	VAGENT_ENC_PCM24,
	VAGENT_ENC_PCM32,
	VAGENT_ENC_FLOAT,
	VAGENT_ENC_DOUBLE,
	VAGENT_ENC_ULAW,
	VAGENT_ENC_ALAW,
	VAGENT_ENC_OPUS,
	VAGENT_ENC_OTHER,       /* read only: anything else libsndfile decodes */
} vagent_encoding;

typedef enum vagent_container {
	VAGENT_CONTAINER_DEFAULT = 0, /* on save: from the file name's extension */
	VAGENT_CONTAINER_WAV,
	VAGENT_CONTAINER_FLAC,
	VAGENT_CONTAINER_OGG,         /* Ogg Opus */
	VAGENT_CONTAINER_OTHER,       /* read only: AIFF, AU, ... via libsndfile */
} vagent_container;

/* Short lower-case names: "pcm16", "ulaw", "flac"... ("?" if unknown). */
const char *vagent_encoding_name(vagent_encoding enc);
const char *vagent_container_name(vagent_container c);

/* Parse an encoding name as printed by vagent_encoding_name(); returns
 * VAGENT_ENC_DEFAULT for NULL or an unknown name. */
vagent_encoding vagent_encoding_from_name(const char *name);

struct vagent_audio {
	float *samples;             /* interleaved, frames * channels */
	size_t frames;              /* samples per channel */
	int rate;                   /* Hz */
	int channels;
	/* Where the audio came from (set by vagent_audio_load, else defaults). */
	vagent_container container;
	vagent_encoding encoding;
	char format_name[48];       /* libsndfile's name, "WAV (Microsoft)" */
	int source_channels;        /* channels in the file before selection */
	int source_rate;            /* Ogg Opus: the rate the encoder was fed */
	/* A non-fatal problem met while loading (one line naming the file), or
	 * "" — e.g. a data chunk claiming more bytes than the file holds. */
	char warning[256];
	size_t capacity;            /* allocated frames (internal) */
};

/* A new buffer of `frames` frames of silence (frames may be 0). Returns
 * NULL when out of memory or when rate <= 0 or channels < 1.
 * (transfer full: free with vagent_audio_free) */
struct vagent_audio *vagent_audio_new(int rate, int channels, size_t frames);

/* Free `a` and its samples; NULL is a no-op. */
void vagent_audio_free(struct vagent_audio *a);

/* A deep copy of `a`, or NULL when out of memory. (transfer full) */
struct vagent_audio *vagent_audio_dup(const struct vagent_audio *a);

/* Which channels to keep when loading or converting. */
typedef enum vagent_channel_select {
	VAGENT_CHANNELS_ALL = 0,  /* keep every channel */
	VAGENT_CHANNELS_LEFT,     /* channel 0 only (mono files: the channel) */
	VAGENT_CHANNELS_RIGHT,    /* channel 1 only (EINVAL on mono files) */
	VAGENT_CHANNELS_MIX,      /* average of all channels, mono */
} vagent_channel_select;

/* Parse "all", "left"/"0", "right"/"1", "mix"; -1 if unknown. */
int vagent_channel_select_from_name(const char *name);

/*
 * Read a whole audio file. WAV/FLAC/AIFF/... (any encoding libsndfile
 * decodes: PCM 8-32 bit, float, μ-law, A-law, FLAC, ...) go through
 * libsndfile; a file starting with an Ogg page holding "OpusHead" goes
 * through libopusfile (decoded at 48 kHz). `sel` picks channels.
 *
 * Returns VAGENT_OK and *out (transfer full), or: VAGENT_ENOENT (missing
 * file), VAGENT_EFORMAT (empty, truncated or impossible header, not audio),
 * VAGENT_EUNSUPPORTED (an encoding no decoder here handles), VAGENT_EINVAL
 * (right channel of a mono file), VAGENT_ENOMEM, VAGENT_EIO; `err` names the
 * file and the problem. A WAV data chunk that claims more bytes than the file
 * holds is not an error: the audio present is returned and
 * (*out)->warning says what was missing.
 */
vagent_status vagent_audio_load(const char *path, vagent_channel_select sel,
				struct vagent_audio **out,
				struct vagent_error *err);

/* How vagent_audio_save writes a file. */
struct vagent_audio_save_opts {
	vagent_container container; /* DEFAULT: .flac → FLAC, .opus/.ogg → Ogg Opus, else WAV */
	vagent_encoding encoding;   /* DEFAULT: pcm16 (WAV, FLAC), opus (Ogg) */
};

/* Defaults: container and encoding chosen from the file name. */
struct vagent_audio_save_opts vagent_audio_save_opts_default(void);

/*
 * Write `a` to `path` (created or truncated). WAV takes pcm16, pcm24,
 * pcm32, float, ulaw, alaw (and u8); FLAC takes pcm16 or pcm24 (and s8);
 * Ogg takes opus (libsndfile's encoder; rates 8/12/16/24/48 kHz).
 * Samples beyond ±1.0 are clipped for integer encodings. Integer encodings
 * are rounded from float here, so a buffer read from a PCM16 file is written
 * back bit-exact. Returns VAGENT_EUNSUPPORTED for a container/encoding pair
 * that cannot be written, VAGENT_EIO when the file cannot be written.
 */
vagent_status vagent_audio_save(const struct vagent_audio *a, const char *path,
				const struct vagent_audio_save_opts *opts,
				struct vagent_error *err);

/*
 * A stereo buffer from two mono buffers (caller left, agent right), the
 * shorter padded with silence. Both must have one channel and the same
 * rate (else VAGENT_EINVAL). (transfer full)
 */
vagent_status vagent_audio_interleave(const struct vagent_audio *left,
				      const struct vagent_audio *right,
				      struct vagent_audio **out,
				      struct vagent_error *err);

/* A new buffer holding the channels `sel` picks from `a` (a copy for
 * VAGENT_CHANNELS_ALL). VAGENT_EINVAL when `a` has no such channel. */
vagent_status vagent_audio_select(const struct vagent_audio *a,
				  vagent_channel_select sel,
				  struct vagent_audio **out,
				  struct vagent_error *err);

/* Append `n` interleaved frames of samples (n * a->channels floats, copied)
 * to `a`, growing it. VAGENT_ENOMEM when it cannot grow (`a` unchanged). */
vagent_status vagent_audio_append(struct vagent_audio *a, const float *samples,
				  size_t n);

/* Append a frame (same rate and channels as `a`, else VAGENT_EINVAL);
 * the frame's pts is ignored. VAGENT_ENOMEM when `a` cannot grow. */
vagent_status vagent_audio_append_frame(struct vagent_audio *a,
					const struct vagent_frame *f);

/*
 * Copy up to `n` frames starting at frame `offset` of `a` into `f`
 * (clipped and rounded to int16), pts = the offset's time. Past the end the
 * frame is padded with silence; returns VAGENT_EOS (and an empty frame) when
 * offset >= a->frames. `a` must have 1 or 2 channels.
 */
vagent_status vagent_audio_get_frame(const struct vagent_audio *a, size_t offset,
				     size_t n, struct vagent_frame *f);

/* Duration of `a` in seconds. */
double vagent_audio_duration(const struct vagent_audio *a);

/* Peak absolute sample value and RMS over all channels, and the same in
 * dBFS (20·log10 of the value; -INFINITY for digital silence). */
float vagent_audio_peak(const struct vagent_audio *a);
double vagent_audio_rms(const struct vagent_audio *a);
double vagent_db_from_amplitude(double amplitude);

/* ---- G.711 (reference algorithms, ../shared/protocols/audio-formats.md) */

/* Encode one sample to μ-law / A-law, and decode one code. */
uint8_t vagent_ulaw_encode(int16_t pcm);
int16_t vagent_ulaw_decode(uint8_t code);
uint8_t vagent_alaw_encode(int16_t pcm);
int16_t vagent_alaw_decode(uint8_t code);

/* The same over arrays of `n` samples (in and out must not overlap). */
void vagent_ulaw_encode_buf(const int16_t *in, uint8_t *out, size_t n);
void vagent_ulaw_decode_buf(const uint8_t *in, int16_t *out, size_t n);
void vagent_alaw_encode_buf(const int16_t *in, uint8_t *out, size_t n);
void vagent_alaw_decode_buf(const uint8_t *in, int16_t *out, size_t n);

/* ---- Opus (libopus), 20 ms frames */

struct vagent_opus_config {
	int rate;          /* 8000, 12000, 16000, 24000 or 48000 */
	int channels;      /* 1 or 2 */
	int bitrate;       /* bits per second; 0 = libopus default */
	int complexity;    /* 0..10 */
	bool voip;         /* OPUS_APPLICATION_VOIP (true) or _AUDIO */
};

/* 16 kHz mono, 24 kbit/s, complexity 5, VOIP. */
struct vagent_opus_config vagent_opus_config_default(void);

/* The largest packet vagent_opus_encode writes. */
#define VAGENT_OPUS_MAX_PACKET 1500

struct vagent_opus_encoder;
struct vagent_opus_decoder;

/* (transfer full: free with vagent_opus_encoder_free). VAGENT_EINVAL for
 * an unsupported rate or channel count. */
vagent_status vagent_opus_encoder_new(const struct vagent_opus_config *cfg,
				      struct vagent_opus_encoder **out,
				      struct vagent_error *err);
/* Free an encoder; NULL is a no-op. */
void vagent_opus_encoder_free(struct vagent_opus_encoder *enc);

/* The encoder's algorithmic delay in samples at its rate (decoded audio
 * lags the input by this much). */
int vagent_opus_encoder_delay(const struct vagent_opus_encoder *enc);

/*
 * Encode one frame (2.5/5/10/20/40/60 ms at the encoder's rate and channel
 * count, else VAGENT_EINVAL) into `packet` (capacity `cap`, at least
 * VAGENT_OPUS_MAX_PACKET is always enough); *len receives the size.
 */
vagent_status vagent_opus_encode(struct vagent_opus_encoder *enc,
				 const struct vagent_frame *f, uint8_t *packet,
				 size_t cap, size_t *len, struct vagent_error *err);

/* (transfer full) */
vagent_status vagent_opus_decoder_new(int rate, int channels,
				      struct vagent_opus_decoder **out,
				      struct vagent_error *err);
/* Free a decoder; NULL is a no-op. */
void vagent_opus_decoder_free(struct vagent_opus_decoder *dec);

/*
 * Decode one packet into `f` (rate/channels of the decoder, pts left as
 * the caller set it). A NULL or zero-length packet means "lost": the
 * decoder conceals it (PLC) with the duration of the last packet (20 ms
 * before any). VAGENT_EFORMAT for a corrupt packet.
 */
vagent_status vagent_opus_decode(struct vagent_opus_decoder *dec,
				 const uint8_t *packet, size_t len,
				 struct vagent_frame *f, struct vagent_error *err);

/* ---- Streaming resampler (speexdsp) */

struct vagent_resampler_config {
	int in_rate, out_rate;  /* Hz, 1000..384000 */
	int channels;           /* >= 1 */
	int quality;            /* 0..10 (speexdsp); default 7 */
	/*
	 * true (default): remove the filter delay, so output sample k is at
	 * input time k / out_rate; the first calls return fewer samples and
	 * vagent_resampler_flush() delivers the tail, for a total of
	 * round(in_total * out_rate / in_rate). false: keep a constant delay of
	 * vagent_resampler_delay() output samples; for the rates vagent uses
	 * every 20 ms in gives exactly 20 ms out (for a frame pipeline).
	 */
	bool compensate_delay;
};

/* channels 1, quality 7, compensate_delay true; rates 0 (must be set). */
struct vagent_resampler_config vagent_resampler_config_default(void);

struct vagent_resampler;

/* (transfer full). VAGENT_EINVAL for rates or channels out of range. */
vagent_status vagent_resampler_new(const struct vagent_resampler_config *cfg,
				   struct vagent_resampler **out,
				   struct vagent_error *err);
/* Free a resampler; NULL is a no-op. */
void vagent_resampler_free(struct vagent_resampler *rs);

/* The filter delay in output samples (what compensate_delay removes). */
double vagent_resampler_delay(const struct vagent_resampler *rs);

/* Upper bound on the frames one process() call of `in_frames` can
 * produce; size output buffers with it. */
size_t vagent_resampler_max_output(const struct vagent_resampler *rs,
				   size_t in_frames);

/*
 * Resample `in_frames` interleaved frames; writes *out_frames frames to
 * `out` (capacity `out_cap` frames, which must be at least
 * vagent_resampler_max_output(rs, in_frames), else VAGENT_EINVAL).
 * All input is consumed. Any chunk size works and gives the same samples as
 * one call over the whole signal.
 */
vagent_status vagent_resampler_process(struct vagent_resampler *rs,
				       const float *in, size_t in_frames,
				       float *out, size_t out_cap,
				       size_t *out_frames);

/*
 * End of stream: with compensate_delay, writes the remaining frames so that
 * the total output is round(in_total * out_rate / in_rate); without it,
 * writes nothing. `out_cap` must be at least vagent_resampler_max_output(rs,
 * 0). The resampler can then be reused for a new stream.
 */
vagent_status vagent_resampler_flush(struct vagent_resampler *rs, float *out,
				     size_t out_cap, size_t *out_frames);

/*
 * Resample a frame (rates and channels must match the resampler, else
 * VAGENT_EINVAL). out->pts is the time of the first output sample: the
 * input stream's start plus the output count so far at out_rate. out->n may
 * be 0 while the filter fills (with compensate_delay).
 */
vagent_status vagent_resampler_process_frame(struct vagent_resampler *rs,
					     const struct vagent_frame *in,
					     struct vagent_frame *out);

/* One-shot: `a` resampled to `rate` (a copy when rates are equal), delay
 * compensated, length round(frames * rate / a->rate). quality < 0 = default.
 * (transfer full) */
vagent_status vagent_audio_resample(const struct vagent_audio *a, int rate,
				    int quality, struct vagent_audio **out,
				    struct vagent_error *err);

/* ---- DSP */

/* Multiply every sample by 10^(db/20). */
void vagent_audio_gain(struct vagent_audio *a, double db);

/*
 * Mix `noise` into `speech` at `snr_db`: noise is looped (or trimmed) to
 * the speech length and scaled by g so that
 *   10·log10(P_speech / (g² · P_noise)) = snr_db,
 * P = mean of squared samples over the whole buffer (all channels).
 * Rates must match; noise must be mono or have speech's channel count.
 * VAGENT_EINVAL for silent noise or speech, mismatched rates.
 * (transfer full)
 */
vagent_status vagent_audio_mix_snr(const struct vagent_audio *speech,
				   const struct vagent_audio *noise,
				   double snr_db, struct vagent_audio **out,
				   struct vagent_error *err);

/* 10·log10(P_signal / P_noise), P the mean square of each whole buffer
 * (they need not be equally long). +INFINITY for silent noise, -INFINITY
 * for silent signal, NaN when both are silent or empty. */
double vagent_snr_db(const struct vagent_audio *signal,
		     const struct vagent_audio *noise);

/* Energy-based silence detection over whole buffers. */
struct vagent_silence_config {
	double threshold_dbfs;  /* a window is speech above this RMS; -45 */
	int window_ms;          /* analysis window; 10 */
	int min_speech_ms;      /* shorter bursts are ignored (clicks); 30 */
	int min_gap_ms;         /* shorter gaps join regions; 200 */
};

struct vagent_silence_config vagent_silence_config_default(void);

struct vagent_span {
	size_t start, end;      /* frames, [start, end) */
};

struct vagent_silence_result {
	bool silent;            /* no speech region at all */
	size_t leading;         /* frames before the first region (all if silent) */
	size_t trailing;        /* frames after the last region (all if silent) */
	size_t n_spans;
	struct vagent_span *spans;  /* speech regions (owned) */
};

/* Analyse `a` (mixed to mono); fills `res` (release with
 * vagent_silence_result_clear). cfg NULL = defaults. */
vagent_status vagent_audio_detect_silence(const struct vagent_audio *a,
					  const struct vagent_silence_config *cfg,
					  struct vagent_silence_result *res,
					  struct vagent_error *err);
void vagent_silence_result_clear(struct vagent_silence_result *res);

/* ------------------------------------------------------------------------
 * Word error rate   (lib/wer/)
 * ------------------------------------------------------------------------ */

/* @@WER@@ — the WER module's declarations go here. */

/*
 * Word (and character) error rate with NIST sclite's alignment: a
 * Levenshtein alignment with costs correct 0, substitution 4, insertion 3,
 * deletion 3 and sclite's tie-break order, so S/D/I agree with sclite for
 * the same tokens. Corpus WER = (S + D + I) / reference words.
 * See docs/wer.md and docs/normalizers.md.
 */

/* Text normalizers applied to both sides before tokenizing. */
typedef enum vagent_text_normalizer {
	VAGENT_NORMALIZE_NONE = 0,   /* tokens as given (split on whitespace) */
	VAGENT_NORMALIZE_BASIC,      /* case fold, punctuation stripped */
	VAGENT_NORMALIZE_ENGLISH,    /* basic + numbers, contractions, fillers */
} vagent_text_normalizer;

/* The normalizer called `name` ("none", "basic", "english"). Returns
 * VAGENT_OK, or VAGENT_EINVAL for an unknown name. */
vagent_status vagent_text_normalizer_from_name(const char *name,
					       vagent_text_normalizer *out);

/* The name of a normalizer ("basic"). Static storage, never NULL. */
const char *vagent_text_normalizer_name(vagent_text_normalizer n);

/*
 * Normalize UTF-8 `text` with normalizer `n`. The result is a string of
 * tokens separated by single spaces, without leading or trailing space.
 * Returns a malloc'd string (transfer full; free() it), or NULL when out
 * of memory. Invalid UTF-8 sequences are passed through unchanged.
 */
char *vagent_text_normalize(const char *text, vagent_text_normalizer n);

/* Transcript file formats. */
typedef enum vagent_transcript_format {
	VAGENT_TRANSCRIPT_AUTO = 0,  /* detect per file (docs/wer.md) */
	VAGENT_TRANSCRIPT_TRN,       /* sclite trn: "text (utt-id)" per line */
	VAGENT_TRANSCRIPT_LINES,     /* one utterance per line, id = line number */
	VAGENT_TRANSCRIPT_JSON,      /* JSON (shapes in docs/wer.md) */
} vagent_transcript_format;

/* Parse "auto", "trn", "lines" or "json"; VAGENT_EINVAL if unknown. */
vagent_status vagent_transcript_format_from_name(const char *name,
						 vagent_transcript_format *out);

/* The name of a format ("trn"). Static storage, never NULL. */
const char *vagent_transcript_format_name(vagent_transcript_format f);

/* One utterance of a transcript. Strings are owned by the transcript. */
struct vagent_utterance {
	const char *id;     /* utterance id (line number for the lines format) */
	const char *text;   /* raw text, as in the file, without the id */
	size_t line;        /* 1-based line where it appears in the file */
};

/* A set of utterances in file order, with unique ids. */
struct vagent_transcript {
	char *name;                      /* file name used in messages */
	vagent_transcript_format format; /* the format actually parsed */
	size_t count;
	struct vagent_utterance *utts;
	/* private */
	struct vagent__arena *arena;
};

/*
 * Parse a transcript from `len` bytes of `data` (need not be
 * NUL-terminated). `name` is used in error messages ("ref.trn:3: ...").
 * With VAGENT_TRANSCRIPT_AUTO the format is detected. On success stores
 * a new transcript in *out (transfer full; free with
 * vagent_transcript_free()). Errors: VAGENT_EFORMAT for malformed input
 * (bad trn line, invalid JSON, invalid UTF-8, duplicate ids), with a
 * one-line message "NAME:LINE: problem" in err; VAGENT_ENOMEM.
 */
vagent_status vagent_transcript_parse(const char *data, size_t len,
				      const char *name,
				      vagent_transcript_format format,
				      struct vagent_transcript **out,
				      struct vagent_error *err);

/* Read and parse the file at `path` (see vagent_transcript_parse()).
 * A missing or unreadable file is VAGENT_ENOENT; a read failure
 * VAGENT_EIO. */
vagent_status vagent_transcript_load(const char *path,
				     vagent_transcript_format format,
				     struct vagent_transcript **out,
				     struct vagent_error *err);

/* Free a transcript and every string it owns; NULL is a no-op. */
void vagent_transcript_free(struct vagent_transcript *t);

/* Error counts. For --cer the units are characters, else words. */
struct vagent_wer_counts {
	size_t cor, sub, del, ins;
	size_t ref_words;   /* N = cor + sub + del */
	size_t hyp_words;   /* cor + sub + ins */
};

/* (sub + del + ins) / ref_words. With no reference words it is 0 when
 * there are no errors and 1.0 otherwise. */
double vagent_wer_rate(const struct vagent_wer_counts *c);

/* One step of an alignment; ref/hyp index the utterance's tokens, -1 for
 * the gap side of an insertion or deletion. */
struct vagent_wer_edit {
	char op;            /* 'C', 'S', 'D' or 'I' */
	int ref, hyp;
};

/* The scored pair for one reference utterance. */
struct vagent_wer_utt {
	const char *id;
	size_t ref_line, hyp_line;    /* 0 when that side is absent */
	bool hyp_missing;             /* no hypothesis: all deletions */
	struct vagent_wer_counts counts;
	size_t n_ref, n_hyp;          /* tokens after normalization */
	const char *const *ref_tokens;
	const char *const *hyp_tokens;
	size_t n_edits;
	const struct vagent_wer_edit *edits;  /* in order, ref/hyp ascending */
};

struct vagent_wer_options {
	vagent_text_normalizer normalizer;  /* default BASIC */
	bool cer;             /* characters (spaces excluded) instead of words */
};

/* Initialise options to the defaults (normalizer basic, words). */
void vagent_wer_options_default(struct vagent_wer_options *o);

/* The result of scoring a hypothesis transcript against a reference. */
struct vagent_wer_result {
	struct vagent_wer_counts total;
	vagent_text_normalizer normalizer;
	bool cer;
	size_t n_utts;                 /* one per reference utterance, in order */
	struct vagent_wer_utt *utts;
	size_t n_missing;              /* reference ids with no hypothesis */
	const char **missing_ids;      /* (counted as deletions) */
	size_t n_extra;                /* hypothesis ids with no reference */
	const char **extra_ids;        /* (reported, not counted) */
	/* private */
	struct vagent__arena *arena;
};

/*
 * Score `hyp` against `ref`, matching utterances by id. Every reference
 * utterance is scored (a missing hypothesis counts as all deletions);
 * hypothesis utterances with no reference are listed in extra_ids and not
 * counted. opts may be NULL for the defaults. On success stores a new
 * result in *out (transfer full; free with vagent_wer_result_free()).
 * Errors: VAGENT_ENOMEM.
 */
vagent_status vagent_wer_score(const struct vagent_transcript *ref,
			       const struct vagent_transcript *hyp,
			       const struct vagent_wer_options *opts,
			       struct vagent_wer_result **out,
			       struct vagent_error *err);

/* Free a result and everything it points to (ids, tokens, edits); NULL
 * is a no-op. */
void vagent_wer_result_free(struct vagent_wer_result *r);

/*
 * Align one reference text with one hypothesis text (normalized with
 * opts, NULL for defaults) and return the counts. For per-turn WER
 * without building transcripts. Errors: VAGENT_ENOMEM.
 */
vagent_status vagent_wer_align_text(const char *ref, const char *hyp,
				    const struct vagent_wer_options *opts,
				    struct vagent_wer_counts *out,
				    struct vagent_error *err);

/*
 * Render an utterance's alignment in sclite's style: three lines
 * "REF:  ...", "HYP:  ...", "Eval: ..." with columns padded to equal
 * width, errors in upper case (ASCII letters) and '*' filling the gap
 * side. Returns a malloc'd string ending in '\n' (transfer full), or NULL
 * when out of memory.
 */
char *vagent_wer_utt_format_alignment(const struct vagent_wer_utt *u);

/*
 * The result as JSON text (docs/wer.md): {"wer": {...}, "utterances":
 * [...], "missing": [...], "extra": [...], ...}. With `with_alignment`
 * each utterance carries its aligned token pairs. Returns a malloc'd,
 * NUL-terminated string (transfer full), or NULL when out of memory.
 */
char *vagent_wer_result_to_json(const struct vagent_wer_result *r,
				bool with_alignment);

/* ------------------------------------------------------------------------
 * Session clocks and the event loop   (lib/loop/, docs/loop.md)
 * ------------------------------------------------------------------------ */

/* @@LOOP@@ — the clock and loop module's declarations go here. */

/*
 * A session clock tells media time in ticks (VAGENT_TICKS_PER_SEC), the
 * unit of frame pts; every component reads time only from its clock.
 * `real` follows CLOCK_MONOTONIC; `virtual` stands still until it is moved
 * (by its loop jumping to the next event, or vagent_clock_advance()).
 * Both start at 0 when created.
 */
enum vagent_clock_type {
	VAGENT_CLOCK_REAL,
	VAGENT_CLOCK_VIRTUAL,
};

struct vagent_clock;

/* A standalone clock (transfer full), or NULL when out of memory. A loop
 * has its own: vagent_loop_clock(). */
struct vagent_clock *vagent_clock_new(enum vagent_clock_type type);
/* Free a standalone clock; NULL is a no-op. */
void vagent_clock_free(struct vagent_clock *c);
enum vagent_clock_type vagent_clock_type(const struct vagent_clock *c);
/* The current time in ticks (>= 0, never decreasing). Any thread. */
int64_t vagent_clock_now(const struct vagent_clock *c);
/*
 * Move a virtual clock forward to `t`. VAGENT_EINVAL for a real clock or
 * a `t` before now. For unit tests of components that read a clock; a
 * loop's clock is moved by the loop (vagent_loop_run_until()).
 */
vagent_status vagent_clock_advance(struct vagent_clock *c, int64_t t,
				   struct vagent_error *err);

/*
 * The event loop: timers, fd watchers, posts from other threads and a
 * pool of worker threads, all driven from one thread (the one calling
 * vagent_loop_run). Unless a function says "any thread", call it from the
 * loop thread only (or before the loop runs). Callbacks run on the loop
 * thread and must not block.
 */
struct vagent_loop;
struct vagent_timer;
struct vagent_io;

/* How a worker job's compute time is measured (charged to a virtual
 * clock): wall time of work() on its thread, that thread's CPU time, or
 * not at all (VAGENT_JOB_FREE: measured jobs cost 0, so a virtual run's
 * outcome does not depend on the machine's speed — a sanitizer build, a
 * loaded CI runner; declared costs still apply). */
enum vagent_job_clock {
	VAGENT_JOB_WALL,
	VAGENT_JOB_THREAD_CPU,
	VAGENT_JOB_FREE,
};

struct vagent_loop_config {
	enum vagent_clock_type clock;
	int workers;                /* worker threads, 0..64; 0: no submit */
	enum vagent_job_clock job_clock;
};

/* Real clock, 2 workers, wall-time job charging. */
struct vagent_loop_config vagent_loop_config_default(void);

/* (transfer full). VAGENT_EINVAL for a bad config, VAGENT_EIO when the
 * system refuses epoll, eventfd or threads, VAGENT_ENOMEM. */
vagent_status vagent_loop_new(const struct vagent_loop_config *cfg,
			      struct vagent_loop **out,
			      struct vagent_error *err);
/*
 * Free a loop; NULL is a no-op. Free its fd watchers first. Timers still
 * allocated are detached (stopped; free them later). Running jobs are
 * waited for, queued ones dropped; every job that did not complete gets
 * done(arg, -1) (cancelled), so its owner can free `arg` — call no loop
 * function from it.
 */
void vagent_loop_free(struct vagent_loop *loop);

/* The loop's clock (transfer none) and its current time in ticks. */
struct vagent_clock *vagent_loop_clock(struct vagent_loop *loop);
int64_t vagent_loop_now(const struct vagent_loop *loop);

enum vagent_run_mode {
	VAGENT_RUN_DEFAULT,         /* until vagent_loop_stop() */
	VAGENT_RUN_UNTIL_IDLE,      /* ... or until nothing is left to do:
				     * no active timer or fd watcher, no job */
};

/*
 * Run the loop on the calling thread. In virtual time, whenever nothing
 * can run at the current instant (fds are polled without waiting and
 * outstanding jobs are awaited first), the clock jumps to the earliest
 * timer. Returns VAGENT_OK, VAGENT_EINVAL when called from a callback
 * (the loop is not re-entrant), VAGENT_EIO when epoll fails.
 */
vagent_status vagent_loop_run(struct vagent_loop *loop,
			      enum vagent_run_mode mode,
			      struct vagent_error *err);
/*
 * Run until the clock reaches `t` (or vagent_loop_stop()). Virtual time:
 * every event due at or before `t` runs, then the clock is set to `t`
 * (when it is behind), so a test can assert state "at t = 2500 ms".
 */
vagent_status vagent_loop_run_until(struct vagent_loop *loop, int64_t t,
				    struct vagent_error *err);
/* Make vagent_loop_run return after the callback in progress (when the
 * loop is not running, the next run returns at once). Any thread. */
void vagent_loop_stop(struct vagent_loop *loop);

typedef void (*vagent_loop_fn)(void *arg);
/*
 * Run fn(arg) on the loop thread soon, in posting order. Any thread;
 * wakes a loop waiting for events. This is how network or worker threads
 * hand work to the loop. VAGENT_ENOMEM when out of memory.
 */
vagent_status vagent_loop_post(struct vagent_loop *loop, vagent_loop_fn fn,
			       void *arg);

/*
 * Timers. Timers due at the same instant fire in the order they were
 * scheduled (started, or re-armed by their period): a virtual run is
 * repeatable event for event. A periodic timer's deadlines are exact
 * multiples of its period from its first deadline (no drift); after a
 * stall a real-time loop fires each missed deadline, late.
 */
typedef void (*vagent_timer_fn)(struct vagent_timer *t, void *arg);

/* A stopped timer (transfer full), or NULL when out of memory. */
struct vagent_timer *vagent_timer_new(struct vagent_loop *loop,
				      vagent_timer_fn fn, void *arg);
/* Stop and free; NULL is a no-op. Safe inside any timer callback,
 * including its own. */
void vagent_timer_free(struct vagent_timer *t);
/*
 * (Re)start `t` to fire at loop time `when` (ticks; a time already past
 * fires at once), then every `period` ticks when period > 0. VAGENT_EINVAL
 * for a negative period. From a callback, a timer due now fires after the
 * timers already due, once fds and posts had their turn.
 */
vagent_status vagent_timer_start_at(struct vagent_timer *t, int64_t when,
				    int64_t period, struct vagent_error *err);
/* The same, `delay` ticks from now. */
vagent_status vagent_timer_start(struct vagent_timer *t, int64_t delay,
				 int64_t period, struct vagent_error *err);
/* Cancel (NULL is a no-op); a stopped timer does not fire, even if it was due in the same
 * instant as the one whose callback stops it. */
void vagent_timer_stop(struct vagent_timer *t);
bool vagent_timer_active(const struct vagent_timer *t);
/* In its own callback: the deadline of the firing in progress (compare
 * with vagent_loop_now() for lateness). Elsewhere: the next deadline, or
 * -1 when stopped. */
int64_t vagent_timer_deadline(const struct vagent_timer *t);

/*
 * fd watchers (epoll, level-triggered). `events` is a mask of READ and
 * WRITE; the callback gets the ready ones, plus ERROR for an error or
 * hang-up (the fd should then be read to learn which). 0 pauses the
 * watcher. This matches libcurl multi's socket callback (CURL_POLL_IN,
 * _OUT, _INOUT, _REMOVE) and libwebsockets' external poll (docs/loop.md).
 */
enum {
	VAGENT_IO_READ = 1,
	VAGENT_IO_WRITE = 2,
	VAGENT_IO_ERROR = 4,
};

typedef void (*vagent_io_fn)(struct vagent_io *io, int fd, unsigned revents,
			     void *arg);

/* Watch `fd` (not owned; one watcher per fd) (transfer full).
 * VAGENT_EINVAL for a bad fd or events, or an fd already watched. */
vagent_status vagent_io_new(struct vagent_loop *loop, int fd, unsigned events,
			    vagent_io_fn fn, void *arg, struct vagent_io **out,
			    struct vagent_error *err);
/* Change the events watched for. */
vagent_status vagent_io_modify(struct vagent_io *io, unsigned events,
			       struct vagent_error *err);
/* Stop watching and free (the fd stays open; it may already be closed);
 * NULL is a no-op. Safe in any callback: a freed watcher's pending events
 * are dropped. */
void vagent_io_free(struct vagent_io *io);
int vagent_io_fd(const struct vagent_io *io);

/*
 * Worker jobs: work(arg) runs on a worker thread (it must not call loop
 * functions other than vagent_loop_post), then done(arg, charged) on the
 * loop thread. `charged` is the job's compute time in ticks. Real time:
 * the loop keeps running meanwhile and done runs when work returns.
 * Virtual time: the loop waits for the job before the clock moves on, and
 * done runs at virtual time start + charged, where start is the submit
 * time or, when all workers are busy in virtual time, when one is free;
 * `charged` is the measured time (cfg.job_clock; not repeatable) or the
 * cost declared with vagent_loop_submit_cost (repeatable).
 * VAGENT_EINVAL without workers, VAGENT_ENOMEM.
 */
typedef void (*vagent_work_fn)(void *arg);
typedef void (*vagent_done_fn)(void *arg, int64_t charged);

vagent_status vagent_loop_submit(struct vagent_loop *loop, vagent_work_fn work,
				 vagent_done_fn done, void *arg,
				 struct vagent_error *err);
/* The same, charging a fixed `cost` (ticks >= 0) in virtual time instead of
 * the measured time (real time ignores it). For tests and for engines
 * whose latency is modelled rather than measured. */
vagent_status vagent_loop_submit_cost(struct vagent_loop *loop,
				      vagent_work_fn work, vagent_done_fn done,
				      void *arg, int64_t cost,
				      struct vagent_error *err);

/* ------------------------------------------------------------------------
 * Traces and metrics   (lib/trace/)
 * ------------------------------------------------------------------------ */

/*
 * A call's trace (DESIGN.md §5, docs/trace.md): JSON lines, one event per
 * line, keys in a fixed order ("t_ms", "call", "turn", "type", then the
 * type's own fields). Times are media-clock milliseconds with exactly three
 * decimals (microsecond resolution), printed from an integer count of
 * microseconds, so output never depends on floating-point formatting.
 * Every metric of DESIGN.md §6 is computed from the trace alone
 * (docs/metrics.md).
 */

/* X(NAME, "wire name"). The enum is VAGENT_TRACE_<NAME>. */
#define VAGENT_TRACE_TYPE_MAP(X)                                              \
	X(CALL_START,          "call.start")                                  \
	X(CALL_END,            "call.end")                                    \
	X(CALLER_SPEECH_START, "caller.speech_start")                         \
	X(CALLER_SPEECH_END,   "caller.speech_end")                           \
	X(VAD_SPEECH_START,    "vad.speech_start")                            \
	X(VAD_SPEECH_END,      "vad.speech_end")                              \
	X(STT_PARTIAL,         "stt.partial")                                 \
	X(STT_FINAL,           "stt.final")                                   \
	X(TURN_END,            "turn.end")                                    \
	X(LLM_REQUEST,         "llm.request")                                 \
	X(LLM_FIRST_TOKEN,     "llm.first_token")                             \
	X(LLM_DONE,            "llm.done")                                    \
	X(TOOL_START,          "tool.start")                                  \
	X(TOOL_END,            "tool.end")                                    \
	X(TOOL_TIMEOUT,        "tool.timeout")                                \
	X(TOOL_ERROR,          "tool.error")                                  \
	X(TTS_REQUEST,         "tts.request")                                 \
	X(TTS_FIRST_AUDIO,     "tts.first_audio")                             \
	X(AGENT_AUDIO_START,   "agent.audio_start")                           \
	X(AGENT_AUDIO_STOP,    "agent.audio_stop")                            \
	X(BARGE_IN,            "barge_in")                                    \
	X(FILLER,              "filler")                                      \
	X(ESCALATION,          "escalation")                                  \
	X(TRANSFER,            "transfer")                                    \
	X(DTMF,                "dtmf")                                        \
	X(FALLBACK,            "fallback")                                    \
	X(ERROR,               "error")                                       \
	X(PROVIDER_FIRST_BYTE, "provider.first_byte")

typedef enum vagent_trace_type {
#define VAGENT__TRACE_TYPE_ENUM(name, wire) VAGENT_TRACE_##name,
	VAGENT_TRACE_TYPE_MAP(VAGENT__TRACE_TYPE_ENUM)
#undef VAGENT__TRACE_TYPE_ENUM
	VAGENT_TRACE_TYPE_COUNT
} vagent_trace_type;

/* The wire name of a type ("stt.final"); "unknown" when out of range. */
const char *vagent_trace_type_name(vagent_trace_type type);

/* The type called `name`; VAGENT_EINVAL when there is none. */
vagent_status vagent_trace_type_from_name(const char *name,
					  vagent_trace_type *out);

/*
 * One trace event. t_us is media time in microseconds (from the session
 * clock: vagent_ticks_to_us(ticks)). Only the fields of the event's type
 * (docs/trace.md) are written or filled in; the others stay NULL/0/false.
 * Strings are UTF-8. `args`, `result` and `package` hold JSON text (any
 * JSON value), written as JSON, not as strings.
 *
 *   type                 fields (? = optional: omitted when NULL/false)
 *   call.start           -
 *   call.end             reason?
 *   caller.speech_start  estimated?          (true boundaries, §6)
 *   caller.speech_end    estimated?
 *   vad.speech_start/end -
 *   stt.partial          text, provider?
 *   stt.final            text, confidence? (has_confidence, 0..1), provider?
 *   turn.end             -
 *   llm.request          provider
 *   llm.first_token      provider?
 *   llm.done             text?, provider?, prompt_tokens?,
 *                        completion_tokens?, retries? (counts: omitted
 *                        when 0)
 *   tool.start           name, id, args?
 *   tool.end             name, id, result?
 *   tool.timeout         name, id
 *   tool.error           name, id, error
 *   tts.request          text, provider?
 *   tts.first_audio      provider?
 *   agent.audio_start    -
 *   agent.audio_stop     reason ("done", "barge_in" or "hangup")
 *   barge_in             onset_us, decision_us (as onset_ms, decision_ms)
 *   filler               text?
 *   escalation           reason
 *   transfer             package
 *   dtmf                 digit (one of 0-9 * # A-D), or redacted (true,
 *                        no digit: a key pressed in PCI mode)
 *   fallback             slot, from, to
 *   error                source, message
 *   provider.first_byte  slot ("stt", "llm" or "tts"), provider, ttfb_us
 *                        (as ttfb_ms): a cloud provider's time to first
 *                        byte of an exchange (struct vagent_stt)
 *
 * There is deliberately no field for provider requests, headers or URLs:
 * a trace never carries credentials (docs/trace.md).
 */
struct vagent_trace_event {
	int64_t t_us;              /* media time, µs, >= 0 */
	const char *call;          /* call name (see vagent_trace_writer_new) */
	int turn;                  /* 0 before the first caller turn */
	vagent_trace_type type;
	bool estimated;            /* caller.speech_*: from offline VAD */
	bool has_confidence;       /* stt.final: confidence is set */
	double confidence;         /* stt.final, 0..1 (3 decimals on the wire) */
	const char *text;          /* stt.*, llm.done, tts.request, filler */
	const char *provider;      /* llm.*, stt.partial/final, tts.request,
				    * tts.first_audio, provider.first_byte */
	const char *name;          /* tool.*: tool name */
	const char *id;            /* tool.*: tool call id */
	const char *args;          /* tool.start: JSON */
	const char *result;        /* tool.end: JSON */
	const char *error;         /* tool.error: message */
	const char *reason;        /* call.end, agent.audio_stop, escalation */
	int64_t onset_us;          /* barge_in: true onset of caller speech */
	int64_t decision_us;       /* barge_in: interruption decided */
	const char *package;       /* transfer: JSON handoff package */
	const char *digit;         /* dtmf */
	const char *slot;          /* fallback: "stt", "llm", "tts", "tools";
				    * provider.first_byte: "stt", "llm", "tts" */
	const char *from, *to;     /* fallback: provider names */
	const char *source;        /* error: component or provider */
	const char *message;       /* error */
	size_t line;               /* reader: 1-based line in the file */
	bool redacted;             /* dtmf: pressed in PCI mode, digit omitted */
	int64_t ttfb_us;           /* provider.first_byte: now - sent, >= 0 */
	int64_t prompt_tokens;     /* llm.done: this reply's tokens (all its */
	int64_t completion_tokens; /*   requests); 0: unknown */
	int64_t retries;           /* llm.done: HTTP retries for this reply */
};

/* A writer of one trace: to a FILE* or to a memory buffer. Not locked:
 * use one writer from one thread (the session's loop thread). */
struct vagent_trace_writer;

/*
 * A new writer appending to `fp` (not owned; NULL = to a memory buffer,
 * see vagent_trace_writer_buffer()). `call` (copied; may be NULL) is the
 * call name written for events whose `call` is NULL. Returns NULL when
 * out of memory. Free with vagent_trace_writer_free().
 */
struct vagent_trace_writer *vagent_trace_writer_new(FILE *fp, const char *call);

/* Free a writer (does not close its FILE*); NULL is a no-op. */
void vagent_trace_writer_free(struct vagent_trace_writer *w);

/*
 * Append `ev` as one line. Fields are validated first and nothing is
 * written for an invalid event: VAGENT_EINVAL for a negative time or
 * turn, an unknown type, a missing required field, invalid UTF-8, a JSON
 * field that is not JSON, a bad digit, reason or confidence. Writing
 * errors are VAGENT_EIO, allocation failures VAGENT_ENOMEM. JSON fields are
 * re-printed compactly (so a written trace re-writes byte-identically).
 */
vagent_status vagent_trace_writer_add(struct vagent_trace_writer *w,
				      const struct vagent_trace_event *ev,
				      struct vagent_error *err);

/* A memory writer's text so far (NUL-terminated, owned by the writer,
 * valid until the next add or free) and its length; NULL for a FILE*
 * writer. */
const char *vagent_trace_writer_buffer(const struct vagent_trace_writer *w,
				       size_t *len);

/* A parsed trace: events in file order; strings owned by the trace. */
struct vagent_trace {
	size_t n;
	struct vagent_trace_event *events;
};

/*
 * Parse `len` bytes of JSON lines (blank lines are skipped; unknown keys
 * are ignored). `name` names the input in messages. On success *out is a
 * new trace (transfer full; vagent_trace_free()). Errors: VAGENT_EFORMAT
 * with "NAME:LINE: problem" (not JSON, missing or mistyped field, unknown
 * type, more than 3 decimals in a time, invalid UTF-8...); VAGENT_ENOMEM.
 */
vagent_status vagent_trace_parse(const char *data, size_t len,
				 const char *name, struct vagent_trace **out,
				 struct vagent_error *err);

/* Read and parse the file at `path` (errors as vagent_trace_parse(), plus
 * VAGENT_ENOENT/VAGENT_EIO for the file). */
vagent_status vagent_trace_load(const char *path, struct vagent_trace **out,
				struct vagent_error *err);

/* Free a trace and its strings; NULL is a no-op. */
void vagent_trace_free(struct vagent_trace *t);

/*
 * Metrics (DESIGN.md §6, docs/metrics.md). Values are integer
 * microseconds; VAGENT_METRIC_ABSENT marks a metric that cannot be
 * computed because an event is missing (absent, never 0).
 */
#define VAGENT_METRIC_ABSENT INT64_MIN

#define VAGENT_METRIC_MAP(X)                                                  \
	X(STT_FIRST_PARTIAL, "stt_first_partial")                             \
	X(ENDPOINT,          "endpoint")                                      \
	X(STT_FINAL,         "stt_final")                                     \
	X(LLM_TTFT,          "llm_ttft")                                      \
	X(TOOL,              "tool")                                          \
	X(TTS_TTFB,          "tts_ttfb")                                      \
	X(E2E,               "e2e")                                           \
	X(BARGE_IN_STOP,     "barge_in_stop")                                 \
	X(ANSWER,            "answer")                                        \
	X(STT_TTFB,          "stt_ttfb")                                      \
	X(LLM_TTFB,          "llm_ttfb")                                      \
	X(TTS_NET_TTFB,      "tts_net_ttfb")

typedef enum vagent_metric {
#define VAGENT__METRIC_ENUM(name, wire) VAGENT_METRIC_##name,
	VAGENT_METRIC_MAP(VAGENT__METRIC_ENUM)
#undef VAGENT__METRIC_ENUM
	VAGENT_METRIC_COUNT
} vagent_metric;

/* "e2e"; "unknown" when out of range. */
const char *vagent_metric_name(vagent_metric m);
/* The metric called `name`; VAGENT_EINVAL when there is none. */
vagent_status vagent_metric_from_name(const char *name, vagent_metric *out);

/* One turn. hop[] is indexed by vagent_metric; only the per-turn metrics
 * (stt_first_partial, endpoint, stt_final, llm_ttft, tts_ttfb, e2e and
 * the cloud providers' stt_ttfb, llm_ttfb, tts_net_ttfb) are ever set,
 * the others are always VAGENT_METRIC_ABSENT. */
struct vagent_turn_metrics {
	int turn;
	int64_t hop[VAGENT_METRIC_COUNT];
	int64_t speech_start_us;   /* true caller speech start, or ABSENT */
	int64_t speech_end_us;     /* true caller speech end, or ABSENT */
	int64_t turn_end_us;       /* end-of-turn decision, or ABSENT */
	size_t segments;           /* caller speech segments in the turn */
	bool estimated;            /* a true boundary used came from VAD */
	bool interrupted;          /* the agent's reply was barged in on */
	/* provider[m]: the provider that answered hop m, from the events'
	 * `provider` (NULL when the trace does not say, as in traces older
	 * than provider.first_byte): stt_first_partial's stt.partial,
	 * stt_final's stt.final, llm_ttft's llm.first_token (or its
	 * llm.request), tts_ttfb's tts.first_audio (or its tts.request), and
	 * the *_ttfb hops' provider.first_byte. */
	const char *provider[VAGENT_METRIC_COUNT];
};

/* One tool call: tool.start to its tool.end/timeout/error (same id). */
struct vagent_tool_metrics {
	int turn;
	const char *name, *id;
	const char *outcome;       /* "end", "timeout", "error", or NULL */
	int64_t start_us;
	int64_t tool;              /* duration, or ABSENT */
};

/* One interruption. */
struct vagent_barge_in_metrics {
	int turn;                  /* the interrupted turn */
	int64_t onset_us, decision_us;
	int64_t stop_us;           /* agent audio stopped, or ABSENT */
	int64_t barge_in_stop;     /* stop - onset, or ABSENT */
};

struct vagent_call_metrics {
	const char *call;
	int64_t answer;            /* or ABSENT */
	size_t n_turns;
	struct vagent_turn_metrics *turns;        /* ascending turn */
	size_t n_tools;
	struct vagent_tool_metrics *tools;        /* by turn, then time */
	size_t n_barge_ins;
	struct vagent_barge_in_metrics *barge_ins; /* by turn, then time */
};

struct vagent_trace_metrics {
	size_t n_calls;
	struct vagent_call_metrics *calls;  /* in order of first appearance */
};

/*
 * Compute the metrics of every call in `events[0..n-1]` (any order;
 * events are grouped by `call` and `turn`, and ordered by time within a
 * turn). On success *out is new (transfer full; free with
 * vagent_trace_metrics_free()); it does not point into `events`.
 * Errors: VAGENT_ENOMEM.
 */
vagent_status vagent_metrics_from_trace(const struct vagent_trace_event *events,
					size_t n,
					struct vagent_trace_metrics **out,
					struct vagent_error *err);

/* Free metrics; NULL is a no-op. */
void vagent_trace_metrics_free(struct vagent_trace_metrics *m);

/*
 * Aggregation: per-metric statistics over many samples (all turns of all
 * calls of a run). Percentiles are NEAREST-RANK: the p-th percentile of n
 * sorted samples is the sample at rank ceil(p/100 * n) (1-based, at least
 * 1). A metric's exact samples are kept while it has at most
 * VAGENT_STATS_EXACT_MAX of them; every value is also counted in a
 * bounded-size log-linear histogram, which answers once there are more
 * (see "Mergeable statistics" below; n, min, max and mean stay exact).
 */
struct vagent_stats;

/* A new, empty aggregator; NULL when out of memory. */
struct vagent_stats *vagent_stats_new(void);
/* Free an aggregator; NULL is a no-op. */
void vagent_stats_free(struct vagent_stats *s);

/* Add one sample (µs) of metric `m`. Errors: VAGENT_EINVAL (bad metric
 * or ABSENT value), VAGENT_ENOMEM. */
vagent_status vagent_stats_add(struct vagent_stats *s, vagent_metric m,
			       int64_t value);

/* Add every present value of `tm` (hops, tools, barge-ins, answers). */
vagent_status vagent_stats_add_metrics(struct vagent_stats *s,
				       const struct vagent_trace_metrics *tm);

/* Number of samples of metric `m`. */
size_t vagent_stats_count(const struct vagent_stats *s, vagent_metric m);

/*
 * Statistic `stat` of metric `m` in µs: "p50", "p90", "p95", "p99" (or
 * any "pN" with 0 < N <= 100 and up to 6 decimals: "p99.9"), "max",
 * "min", "mean". Percentile ranks are computed exactly in integers.
 * Returns VAGENT_OK, VAGENT_ENOENT when there are no samples (the
 * statistic is absent), VAGENT_EINVAL for an unknown stat or metric.
 */
vagent_status vagent_stats_get(const struct vagent_stats *s, vagent_metric m,
			       const char *stat, double *out);

/*
 * Mergeable statistics (`vagent bench`, `vagent report merge`;
 * docs/metrics.md "Histograms"). Besides the exact samples (kept while a
 * metric has at most VAGENT_STATS_EXACT_MAX of them), every value goes
 * into a log-linear histogram whose buckets are at most 1/256 of their
 * lower bound wide (values under 256 µs: 1 µs buckets, exact). Once a
 * metric has more samples, or its statistics were merged from a
 * serialized histogram, percentiles come from the histogram: the same
 * nearest rank picks the bucket, the answer is the midpoint of that
 * bucket's range cut to the exact [min, max] (rank 1 and rank n answer
 * min and max), so a reported percentile is within VAGENT_STATS_REL_ERROR
 * of the exact nearest-rank value, and exact below 256 µs. Range: |v| <
 * 2^40 µs; larger values share the last bucket (min and max stay exact).
 * n, min, max and mean stay exact (the sum is a long double). Memory does
 * not grow with the number of samples: 1 KiB per sign and power of two a
 * metric's values reach, plus at most 4096 exact samples.
 */
#define VAGENT_STATS_EXACT_MAX 4096
#define VAGENT_STATS_REL_ERROR (1.0 / 512)

/* Add every sample of `src` into `dst` (both unchanged otherwise; `src`
 * may be freed after). The result is exact only when both were exact and
 * the total stays within VAGENT_STATS_EXACT_MAX. VAGENT_ENOMEM. */
vagent_status vagent_stats_merge(struct vagent_stats *dst,
				 const struct vagent_stats *src);
/* Whether metric `m`'s statistics are exact (every sample kept). */
bool vagent_stats_exact(const struct vagent_stats *s, vagent_metric m);

/*
 * Serialize as one compact JSON object keyed by metric name (metrics
 * with samples only): {"e2e":{"n":12,"min":310000,"max":1460000,
 * "sum":5230000,"buckets":[[INDEX,COUNT],...]},...} with values in µs
 * and the non-empty buckets in increasing order (transfer full).
 */
vagent_status vagent_stats_to_json(const struct vagent_stats *s, char **out,
				   struct vagent_error *err);
/* Parse what vagent_stats_to_json wrote (transfer full; not exact).
 * VAGENT_EFORMAT with "WHERE: histograms.METRIC: problem" for anything
 * wrong (unknown metric, bad bucket index, counts that do not add up to
 * n, min > max). */
vagent_status vagent_stats_from_json(const char *text, size_t len,
				     const char *where, struct vagent_stats **out,
				     struct vagent_error *err);

/* One histogram bucket: `count` values in [lo, hi] µs. */
struct vagent_stats_bucket {
	int64_t lo, hi;
	uint64_t count;
};
/* The non-empty buckets of metric `m` in increasing order (transfer
 * full, free()); *n = 0 and *out = NULL when none. VAGENT_ENOMEM. */
vagent_status vagent_stats_buckets(const struct vagent_stats *s, vagent_metric m,
				   struct vagent_stats_bucket **out, size_t *n);

/* The summary of DESIGN.md §5 for one metric, in µs. */
struct vagent_stat_summary {
	size_t n;
	int64_t p50, p90, p95, p99, max;
	double mean;
};

/* Fill `out`; VAGENT_ENOENT (and n = 0) when there are no samples. */
vagent_status vagent_stats_summary(const struct vagent_stats *s,
				   vagent_metric m,
				   struct vagent_stat_summary *out);

/*
 * Per-provider breakdown (docs/metrics.md "Per provider"): the turn hops
 * whose provider the trace names (struct vagent_turn_metrics.provider[])
 * are also counted for that provider, by vagent_stats_add_metrics() and
 * vagent_stats_merge() (not by vagent_stats_add() or the JSON histograms).
 * vagent_stats_provider() is the i-th provider (0-based, in order of
 * first sample) with samples of `m`, NULL past the last: a hop after a
 * fallback has two. The summary is vagent_stats_summary() of that
 * provider's samples (VAGENT_ENOENT when it has none).
 */
const char *vagent_stats_provider(const struct vagent_stats *s, vagent_metric m,
				  size_t i);
vagent_status vagent_stats_provider_summary(const struct vagent_stats *s,
					    vagent_metric m, const char *provider,
					    struct vagent_stat_summary *out);

/* ==== @@VAD@@ — frame-level voice activity detection (lib/vad) ==== */

/*
 * A voice activity detector for 8 and 16 kHz telephone/wideband audio, one
 * call per 10 or 20 ms frame, no models. Per frame it computes band-limited
 * (150-3400 Hz) energy over an adaptive noise floor (the minimum of the
 * smoothed energy over a sliding window) and pitch periodicity, rejects
 * pure and dual tones (order-4 prediction gain, steadiness) and periodicity
 * above 400 Hz, combines the evidence into a
 * speech probability, and turns that into a decision with an onset run and
 * a hangover. Deterministic: the same frames give the same results. Time is
 * read only from the frames' pts. docs/vad.md has the measurements.
 */
struct vagent_vad_config {
	int rate;               /* 8000 or 16000 Hz; 16000 */
	int frame_ms;           /* 10 or 20; 20 */
	double threshold;       /* probability at/above which a frame is speech-like; 0.5 */
	int onset_ms;           /* speech-like run that starts speech (rounded up to
				 * whole frames, at least one; <= 600000); 60 */
	int hangover_ms;        /* speech holds this long after the last speech-like
				 * frame (rounded up to whole frames; <= 600000); 200 */
	int full_hangover_after_ms; /* the full hangover applies once the segment
				 * has had this much speech-like audio; before,
				 * the hold is as long as the speech-like audio
				 * seen so far (clicks and clanks end fast); 200 */
	double min_energy_dbfs; /* quieter frames (after the band filter) are never
				 * speech; -60 */
	int noise_window_ms;    /* noise-floor memory, 100 ms .. 400 frames; 1500 */
};

/* The defaults above. */
struct vagent_vad_config vagent_vad_config_default(void);

typedef enum vagent_vad_event {
	VAGENT_VAD_NONE = 0,
	VAGENT_VAD_START,       /* speech began (decision turned on this frame) */
	VAGENT_VAD_END,         /* speech ended (hangover ran out this frame) */
} vagent_vad_event;

/* What vagent_vad_process() says about one frame. */
struct vagent_vad_result {
	double probability;     /* speech probability of this frame alone, 0..1 */
	bool speech_like;       /* probability >= threshold */
	bool speech;            /* the decision (with onset and hangover) */
	vagent_vad_event event; /* a change of decision on this frame */
	/* START: pts of the first frame of the speech-like run that started
	 * speech (the onset, earlier than this frame by the onset run);
	 * END: end time of the last speech-like frame (before the hangover). */
	int64_t event_pts;
	/* features, for traces and tuning */
	double energy_dbfs;     /* band-limited frame energy */
	double snr_db;          /* energy over the noise floor */
	double periodicity;     /* best normalised pitch correlation, 0..1 */
	double tonality_db;     /* order-4 prediction gain (tones: > 25 dB) */
	double change;          /* spectral-shape change since the last frame
				 * (a held tone: < 0.08) */
};

struct vagent_vad;

/*
 * A new detector (transfer full: free with vagent_vad_free). `cfg` NULL
 * means the defaults. VAGENT_EINVAL (err says why) for a rate other than
 * 8000/16000, a frame other than 10/20 ms, or out-of-range values.
 */
vagent_status vagent_vad_new(const struct vagent_vad_config *cfg,
			     struct vagent_vad **out, struct vagent_error *err);

/* Free a detector; NULL is a no-op. */
void vagent_vad_free(struct vagent_vad *vad);

/* Forget all history (filters, noise floor, decision) for a new stream. */
void vagent_vad_reset(struct vagent_vad *vad);

/*
 * Analyse one frame: exactly frame_ms at the configured rate, mono or
 * stereo (channels averaged); else VAGENT_EINVAL and *res zeroed. Fills
 * *res. Frames must be consecutive: the detector keeps pitch and
 * noise-floor history across calls.
 */
vagent_status vagent_vad_process(struct vagent_vad *vad, const struct vagent_frame *f,
				 struct vagent_vad_result *res, struct vagent_error *err);

/* The configured onset run and hangover, in frames. */
int vagent_vad_onset_frames(const struct vagent_vad *vad);
int vagent_vad_hangover_frames(const struct vagent_vad *vad);

/* ==== @@TURN@@ — end-of-turn detection (lib/turn) ==== */

/*
 * Decides when the caller has finished a turn, from the VAD's per-frame
 * results and (optionally) the running STT transcript. A turn opens once a
 * VAD speech segment has `start_ms` of speech (onset to the end of its last
 * speech-like frame); it ends when the silence after the VAD's END (the
 * end of the last speech) has lasted the hold: `min_hold_ms`, or
 * `max_hold_ms` while the transcript of the turn ends in a digit or a hold
 * word ("four", "and", "my number is", "um", ...). Speech that resumes
 * before the hold ran out continues the same turn. Time comes only from the
 * frames' pts (media ticks); deterministic. docs/turn.md has the rule, the
 * word list and the evaluation.
 */
struct vagent_turn_config {
	int start_ms;           /* speech that opens a turn, 0..600000; 150 */
	int min_hold_ms;        /* silence that ends a turn, 0..600000; 500 */
	int max_hold_ms;        /* the hold while the transcript ends in a
				 * digit or a hold word, min_hold_ms..600000; 1500 */
	bool hold_rule;         /* apply the transcript rule; true */
	/* NULL-terminated words or phrases (matched case-insensitively on
	 * whole words at the end of the transcript; punctuation ignored;
	 * each < 64 bytes, at most 256); NULL: vagent_turn_default_hold_words().
	 * Copied by vagent_turn_detector_new. A transcript whose last word
	 * ends in a digit always holds (with hold_rule). */
	const char *const *hold_words;
};

/* The defaults above. */
struct vagent_turn_config vagent_turn_config_default(void);

/* The built-in hold list (number words, connectives, hesitations;
 * docs/turn.md), NULL-terminated, static. */
const char *const *vagent_turn_default_hold_words(void);

typedef enum vagent_turn_event_type {
	VAGENT_TURN_NONE = 0,
	VAGENT_TURN_START,      /* a turn opened */
	VAGENT_TURN_END,        /* end of turn: the agent may answer */
} vagent_turn_event_type;

/* What vagent_turn_detector_push_vad() decided on one frame. */
struct vagent_turn_event {
	vagent_turn_event_type type;
	int64_t pts;            /* when it was decided: the end of the frame
				 * that decided it (ticks) */
	int64_t speech_pts;     /* START: onset of the turn's speech (the VAD's
				 * START event_pts); END: end of its last speech
				 * (the VAD's END event_pts) */
	int64_t hold;           /* END: the hold applied (ticks) */
	bool extended;          /* END: the transcript rule chose max_hold_ms */
};

struct vagent_turn_detector;

/*
 * A new detector (transfer full: free with vagent_turn_detector_free).
 * `cfg` NULL means the defaults. VAGENT_EINVAL (err says which field) for
 * out-of-range times or a bad hold list; VAGENT_ENOMEM.
 */
vagent_status vagent_turn_detector_new(const struct vagent_turn_config *cfg,
				       struct vagent_turn_detector **out,
				       struct vagent_error *err);

/* Free a detector; NULL is a no-op. */
void vagent_turn_detector_free(struct vagent_turn_detector *det);

/* Forget everything (open turn, pending end, transcript) for a new stream. */
void vagent_turn_detector_reset(struct vagent_turn_detector *det);

/*
 * Feed the VAD result `r` of the frame [pts, pts + duration) (ticks), once
 * per frame in order; fills *ev (type NONE when nothing was decided; at
 * most one event per frame). END is decided on the first frame that ends
 * at or after speech_end + hold and is not speech-like (a speech-like frame
 * may be resumed speech: the decision waits for the VAD to confirm or drop
 * it, at most its onset run); with 20 ms frames on a 20 ms grid, speech
 * ending at 2000 ms and a 500 ms hold give END with pts 2500 ms, decided
 * on the frame [2480, 2500). A hold shorter than the VAD's hangover ends
 * the turn on the frame of the VAD's END. VAGENT_EINVAL for a duration
 * <= 0 or a frame that starts before the previous one ended (*ev NONE,
 * state unchanged).
 */
vagent_status vagent_turn_detector_push_vad(struct vagent_turn_detector *det,
					    const struct vagent_vad_result *r,
					    int64_t pts, int64_t duration,
					    struct vagent_turn_event *ev,
					    struct vagent_error *err);

/*
 * The running transcript of the current turn (partial or final, the whole
 * text so far; NULL or "" for none), read at once (not kept). It sets
 * whether the pending or next end uses max_hold_ms; a call after the end
 * was decided changes nothing for that turn. Cleared at each turn END;
 * ignored while no turn is open and the VAD hears no speech (a late final
 * of a turn that ended does not hold the next one).
 */
void vagent_turn_detector_set_transcript(struct vagent_turn_detector *det,
					 const char *text);

/* Whether `text` would extend the hold under det's word list (ignores
 * hold_rule). */
bool vagent_turn_detector_text_holds(const struct vagent_turn_detector *det,
				     const char *text);

/* Whether a turn is open (START sent, END not yet). */
bool vagent_turn_detector_in_turn(const struct vagent_turn_detector *det);

/* ==== @@SESSION@@ — providers, the simulated caller and the session engine
 * (lib/session, lib/sim; docs/session.md) ==== */

/*
 * Provider slots. A session talks to its speech recogniser (STT), its
 * brain (an LLM or a dialog policy), its speech synthesiser (TTS) and its
 * tools through these interfaces, so embedded engines, simulated
 * providers and cloud clients are interchangeable. A provider is a struct
 * that embeds the slot's base struct as its first member (GStreamer-style
 * subclassing) and fills `ops`. All calls happen on the session's loop
 * thread; a provider answers through the base's callbacks, also on the
 * loop thread, and never from inside the call that started a request
 * (it schedules a timer, posts, or submits a worker job). Requests carry
 * a session-chosen id; after cancel(id) or stop() a provider must not
 * call back for that id. `name` (set by the constructor, <= 63 bytes)
 * names the provider in traces and errors ("sim", "pocketsphinx",
 * "deepgram"); providers never put credentials in messages.
 */
struct vagent_stt;
struct vagent_brain;
struct vagent_tts;
struct vagent_tools;

/* What the caller is really saying, when the session knows it (simulated
 * callers, replayed calls). Real recognisers ignore it; the simulated STT
 * "recognises" from it. */
struct vagent_speech_truth {
	bool speaking;          /* this frame is inside an utterance */
	int utterance;          /* 1-based index of the caller's utterance */
	const char *text;       /* its text (NULL when unknown) */
	int64_t start, end;     /* its true start and end (session ticks) */
};

struct vagent_stt_ops {
	/* A caller frame (every 20 ms frame of the call, speech or not) and
	 * what is known about it (may be NULL). */
	void (*audio)(struct vagent_stt *stt, const struct vagent_frame *f,
		      const struct vagent_speech_truth *truth);
	/* The session's VAD opened (`started`) or closed a speech segment at
	 * `pts`; recognisers that segment by VAD start/end utterances here. */
	void (*speech)(struct vagent_stt *stt, bool started, int64_t pts);
	/* A turn ended: send what is left of this turn's final now. */
	void (*turn_end)(struct vagent_stt *stt, int64_t pts);
	/* The call is over: cancel everything, call back no more. */
	void (*stop)(struct vagent_stt *stt);
	void (*free)(struct vagent_stt *stt);
};

struct vagent_stt {
	const struct vagent_stt_ops *ops;
	char name[64];
	struct vagent_loop *loop;         /* set by the session */
	int64_t origin;                   /* loop time of the session's t = 0 */
	/* Set by the session. `confidence` < 0: none. An error ends this
	 * provider's use for the call (the session falls back). */
	void (*on_partial)(void *ctx, const char *text);
	void (*on_final)(void *ctx, const char *text, double confidence);
	void (*on_error)(void *ctx, vagent_status st, const char *message);
	void *ctx;
	/* Cloud providers: the first byte of the server's answer to an
	 * exchange started at loop time `sent` (a request, or a socket's
	 * first message after audio began) arrived now. For the trace's
	 * per-provider time to first byte (docs/trace.md); set by the
	 * session, may be NULL. `id`: 0 for an STT. */
	void (*on_first_byte)(void *ctx, uint64_t id, int64_t sent);
};

/* A request to the brain: answer one caller turn (or greet). */
struct vagent_brain_request {
	uint64_t id;
	int turn;
	const char *caller_text;          /* final transcript; "" to greet */
	bool greeting;
	const char *dtmf;                 /* digits pressed this turn, or NULL */
};

struct vagent_brain_ops {
	/* Start answering; the reply streams through on_text, then on_done. */
	vagent_status (*respond)(struct vagent_brain *b,
				 const struct vagent_brain_request *req,
				 struct vagent_error *err);
	/* The result of a tool the brain asked for (st VAGENT_OK: `result`
	 * is JSON; else `result` is the error message, ETIMEOUT on timeout). */
	void (*tool_result)(struct vagent_brain *b, uint64_t id,
			    const char *call_id, vagent_status st,
			    const char *result);
	void (*cancel)(struct vagent_brain *b, uint64_t id);
	void (*stop)(struct vagent_brain *b);
	void (*free)(struct vagent_brain *b);
};

struct vagent_brain {
	const struct vagent_brain_ops *ops;
	char name[64];
	struct vagent_loop *loop;
	int64_t origin;
	void (*on_first_token)(void *ctx, uint64_t id);
	void (*on_text)(void *ctx, uint64_t id, const char *delta);
	/* Run tool `name` with JSON `args`; the brain waits for tool_result. */
	void (*on_tool_call)(void *ctx, uint64_t id, const char *name,
			     const char *call_id, const char *args);
	/* This reply asks the caller for exactly `digits` digits (an order
	 * number): the caller's next turn may end as soon as that many have
	 * been heard, without the longer hold the turn detector keeps after
	 * digits. May be NULL. */
	void (*on_expect_digits)(void *ctx, uint64_t id, int digits);
	/* The brain ends the call (its goodbye): hang up once this reply
	 * has played. May be NULL (a host that hangs up by itself). */
	void (*on_hangup)(void *ctx, uint64_t id);
	/* Hand the call to a human: `package` is the JSON context package. */
	void (*on_escalate)(void *ctx, uint64_t id, const char *reason,
			    const char *package);
	void (*on_done)(void *ctx, uint64_t id);
	void (*on_error)(void *ctx, uint64_t id, vagent_status st,
			 const char *message);
	void *ctx;
	/* PCI mode (docs/dtmf.md): on while the caller enters something
	 * sensitive (a card number): the recogniser and the recording get
	 * silence and dtmf events carry no digit, until off. Set by the
	 * session; may be NULL. */
	void (*on_sensitive)(void *ctx, uint64_t id, bool on);
	/* Cloud providers: the first response byte of the request for reply
	 * `id` sent at loop time `sent` (see struct vagent_stt). May be NULL. */
	void (*on_first_byte)(void *ctx, uint64_t id, int64_t sent);
};

struct vagent_tts_ops {
	/* Synthesise `text` (one sentence) as mono int16 at `rate`. */
	vagent_status (*speak)(struct vagent_tts *t, uint64_t id,
			       const char *text, int rate,
			       struct vagent_error *err);
	void (*cancel)(struct vagent_tts *t, uint64_t id);
	void (*stop)(struct vagent_tts *t);
	void (*free)(struct vagent_tts *t);
};

struct vagent_tts {
	const struct vagent_tts_ops *ops;
	char name[64];
	struct vagent_loop *loop;
	int64_t origin;
	/* Audio in any chunk size (the session re-frames it). */
	void (*on_audio)(void *ctx, uint64_t id, const int16_t *samples,
			 size_t n);
	void (*on_done)(void *ctx, uint64_t id);
	void (*on_error)(void *ctx, uint64_t id, vagent_status st,
			 const char *message);
	void *ctx;
	/* Cloud providers: the first response byte for sentence `id`, asked
	 * for at loop time `sent` (see struct vagent_stt). May be NULL. */
	void (*on_first_byte)(void *ctx, uint64_t id, int64_t sent);
};

struct vagent_tools_ops {
	/* Run tool `name` with JSON `args`; answer with on_result. */
	vagent_status (*call)(struct vagent_tools *t, uint64_t id,
			      const char *name, const char *args,
			      struct vagent_error *err);
	void (*cancel)(struct vagent_tools *t, uint64_t id);
	void (*stop)(struct vagent_tools *t);
	void (*free)(struct vagent_tools *t);
};

struct vagent_tools {
	const struct vagent_tools_ops *ops;
	char name[64];
	struct vagent_loop *loop;
	int64_t origin;
	/* st VAGENT_OK: `result` is JSON; else an error message. A result
	 * that is not valid JSON is reported by the session as tool.error. */
	void (*on_result)(void *ctx, uint64_t id, vagent_status st,
			  const char *result);
	void *ctx;
};

/* Free a provider through its ops; NULL is a no-op. */
void vagent_stt_free(struct vagent_stt *p);
void vagent_brain_free(struct vagent_brain *p);
void vagent_tts_free(struct vagent_tts *p);
void vagent_tools_free(struct vagent_tools *p);

/*
 * The caller side of a session: supplies one caller frame per 20 ms tick
 * and hears what the agent does (a script can wait for the agent).
 */
struct vagent_caller;

/* What the agent did, told to the caller at the tick it happened. */
typedef enum vagent_agent_event {
	VAGENT_AGENT_SPEAKING,  /* first agent audio frame of a reply */
	VAGENT_AGENT_DONE,      /* the reply's audio finished */
	VAGENT_AGENT_STOPPED,   /* the reply was cut off (barge-in) */
} vagent_agent_event;

struct vagent_caller_ops {
	/* Fill `f` (already initialised: rate, mono, n, pts = session time)
	 * with the caller's audio for [pts, pts + 20 ms) and `truth` with
	 * what is being said. VAGENT_EOS: the caller hung up (f unused). */
	vagent_status (*frame)(struct vagent_caller *c, struct vagent_frame *f,
			       struct vagent_speech_truth *truth);
	/* The agent did something at session time `t` (ticks). */
	void (*agent_event)(struct vagent_caller *c, vagent_agent_event ev,
			    int64_t t);
	void (*free)(struct vagent_caller *c);
	/* The session wrote trace event `ev` (valid during the call only)
	 * of session time `t` (ticks); an event that waited for its turn is
	 * told when written, with its own (earlier) time. May be NULL. */
	void (*trace_event)(struct vagent_caller *c,
			    const struct vagent_trace_event *ev, int64_t t);
	/* The agent's output frame `f` (every tick: speech or silence) at
	 * the moment it leaves toward the caller (a live caller plays it).
	 * May be NULL. */
	void (*agent_audio)(struct vagent_caller *c, const struct vagent_frame *f);
};

struct vagent_caller {
	const struct vagent_caller_ops *ops;
};

void vagent_caller_free(struct vagent_caller *c);

/* ---- simulated providers (lib/sim, docs/simulation.md) ---- */

/*
 * A fault to inject into a simulated provider (DESIGN.md §4 faults). Each
 * applies to the calls (requests) numbered `from_call`..`to_call`
 * (1-based, counted per provider; to_call 0 = every later call).
 */
typedef enum vagent_fault_kind {
	VAGENT_FAULT_NONE = 0,
	VAGENT_FAULT_DELAY,      /* add delay_ms before the first output */
	VAGENT_FAULT_TIMEOUT,    /* never answer (the session's timeout fires) */
	VAGENT_FAULT_ERROR,      /* fail after delay_ms with `status` */
	VAGENT_FAULT_STALL,      /* stop mid-stream after `after` units (tokens,
				  * words, ms of audio) for delay_ms, then go on */
	VAGENT_FAULT_DISCONNECT, /* fail mid-stream after `after` units */
	VAGENT_FAULT_MALFORMED,  /* answer with malformed output */
	VAGENT_FAULT_DROP,       /* STT: drop the final (partials pass) */
	VAGENT_FAULT_WRONG_WORDS, /* STT: the final says `text`, or a fraction
				  * `rate` of its words is replaced */
} vagent_fault_kind;

struct vagent_fault {
	vagent_fault_kind kind;
	int from_call, to_call;
	int delay_ms;
	int after;
	int http_status;         /* ERROR: reported in the message, e.g. 503 */
	double rate;             /* WRONG_WORDS: fraction of words, 0..1 */
	const char *text;        /* WRONG_WORDS: the whole final instead
				  * (not owned; NULL: substitute `rate`) */
};

/* "delay", "timeout", ...; NULL when out of range; and back (-1). */
const char *vagent_fault_kind_name(vagent_fault_kind k);
int vagent_fault_kind_from_name(const char *name);

/* A latency model: base + uniform jitter in [0, jitter), ms, drawn from the
 * provider's seeded generator. */
struct vagent_latency {
	int base_ms;
	int jitter_ms;
};

struct vagent_sim_stt_config {
	char name[64];                   /* "sim" */
	struct vagent_latency first_partial; /* after speech start; 150 + 60 */
	int partial_interval_ms;         /* between partials; 200 */
	struct vagent_latency final;     /* after speech end; 120 + 60 */
	double word_error_rate;          /* substitutions, 0..1; 0 */
	const struct vagent_fault *faults; size_t n_faults;
	uint64_t seed;
};

struct vagent_sim_stt_config vagent_sim_stt_config_default(void);
vagent_status vagent_sim_stt_new(const struct vagent_sim_stt_config *cfg,
				 struct vagent_stt **out,
				 struct vagent_error *err);

/* A rule of the simulated LLM: when the caller text matches `pattern`
 * (POSIX extended regex, case-insensitive; NULL or "" matches anything),
 * optionally call `tool` with `args` (JSON), then say `reply`; "{result}"
 * in the reply is replaced by the tool's result (or its error). */
struct vagent_sim_rule {
	const char *pattern;
	const char *tool, *args;
	const char *reply;
	const char *escalate;            /* non-NULL: escalate with this reason */
	bool hangup;                     /* say the reply, then hang up */
};

struct vagent_sim_llm_config {
	char name[64];                   /* "sim-llm" */
	struct vagent_latency ttft;      /* 300 + 100 */
	double tokens_per_sec;           /* 50; a token is ~4 characters */
	const char *greeting;            /* reply to the greeting request */
	const struct vagent_sim_rule *rules; size_t n_rules; /* first match wins */
	const char *fallback_reply;      /* no rule matched */
	const struct vagent_fault *faults; size_t n_faults;
	uint64_t seed;
};

struct vagent_sim_llm_config vagent_sim_llm_config_default(void);
vagent_status vagent_sim_llm_new(const struct vagent_sim_llm_config *cfg,
				 struct vagent_brain **out,
				 struct vagent_error *err);

struct vagent_sim_tts_config {
	char name[64];                   /* "sim-tts" */
	struct vagent_latency first_byte; /* 120 + 40 */
	double realtime_factor;          /* audio made per unit of time: 5 */
	int chunk_ms;                    /* audio chunk size; 100 */
	const struct vagent_fault *faults; size_t n_faults;
	uint64_t seed;
};

struct vagent_sim_tts_config vagent_sim_tts_config_default(void);
vagent_status vagent_sim_tts_new(const struct vagent_sim_tts_config *cfg,
				 struct vagent_tts **out,
				 struct vagent_error *err);

/* A simulated tool: its name, reply (JSON) and latency; faults apply to
 * its own calls. */
struct vagent_sim_tool {
	const char *name;
	const char *result;
	struct vagent_latency latency;
	const struct vagent_fault *faults; size_t n_faults;
};

struct vagent_sim_tools_config {
	char name[64];                   /* "sim-tools" */
	const struct vagent_sim_tool *tools; size_t n_tools;
	uint64_t seed;
};

vagent_status vagent_sim_tools_new(const struct vagent_sim_tools_config *cfg,
				   struct vagent_tools **out,
				   struct vagent_error *err);

/*
 * Speech-like audio for simulated voices: voiced syllables (glottal pulse
 * train through formant resonators, pitch contour, syllable envelope) with
 * the rhythm of `text` (about 4.5 syllables per second, short gaps between
 * words, longer at punctuation), at `rate`, deterministic for a seed.
 * (transfer full)
 */
vagent_status vagent_speechlike_synth(const char *text, int rate,
				      uint64_t seed, struct vagent_audio **out,
				      struct vagent_error *err);
/* The duration vagent_speechlike_synth gives `text`, in ms. */
int vagent_speechlike_duration_ms(const char *text);

/*
 * The scripted simulated caller (the engine's; scenario files in issue 5
 * compile to it). Steps run in order; each starts when its anchor has
 * happened and `offset_ms` more has passed.
 */
typedef enum vagent_sim_anchor {
	VAGENT_ANCHOR_START,          /* call start */
	VAGENT_ANCHOR_PREV_END,       /* the previous step ended */
	VAGENT_ANCHOR_AGENT_SPEAKING, /* the agent's next reply starts */
	VAGENT_ANCHOR_AGENT_DONE,     /* the agent's next reply ended (done or cut) */
	VAGENT_ANCHOR_EVENT,          /* the next trace event of type `event`
				       * (matching `event_match`) */
	VAGENT_ANCHOR_SILENCE,        /* neither side made sound for `silence_ms` */
} vagent_sim_anchor;

typedef enum vagent_sim_step_kind {
	VAGENT_STEP_SAY,              /* speak `text` (or play `audio`) */
	VAGENT_STEP_SILENCE,          /* stay silent `duration_ms` */
	VAGENT_STEP_HANGUP,
	VAGENT_STEP_WAIT,             /* nothing; ends at its start (a "wait_for") */
} vagent_sim_step_kind;

struct vagent_sim_step {
	vagent_sim_step_kind kind;
	vagent_sim_anchor anchor;
	int offset_ms;
	const char *text;             /* SAY: the words (the truth) */
	const struct vagent_audio *audio; /* SAY: mono audio at the call's rate
				       * (not owned; copied); NULL: synthesise */
	int duration_ms;              /* SILENCE */
	vagent_trace_type event;      /* ANCHOR_EVENT: the event's type */
	const char *event_match;      /* ANCHOR_EVENT: equals the event's name,
				       * reason, digit or slot, or is part of
				       * its text; NULL: any (copied) */
	int silence_ms;               /* ANCHOR_SILENCE: > 0 */
};

struct vagent_sim_caller_config {
	int rate;                     /* 8000 or 16000; 16000 */
	const struct vagent_sim_step *steps; size_t n_steps;
	double noise_dbfs;            /* background noise level; 0: none */
	int hangup_after_ms;          /* hang up this long after the last step
				       * and the agent's last reply; 3000 */
	uint64_t seed;
};

struct vagent_sim_caller_config vagent_sim_caller_config_default(void);
vagent_status vagent_sim_caller_new(const struct vagent_sim_caller_config *cfg,
				    struct vagent_caller **out,
				    struct vagent_error *err);

/* ---- the session (lib/session, docs/session.md) ---- */

/* The agent's behaviour: turn-taking, interruptions, degradation. */
struct vagent_agent_config {
	struct vagent_vad_config vad;
	struct vagent_turn_config turn;
	/* Barge-in: caller speech over the agent's audio interrupts once it
	 * has lasted min_speech_ms (from its onset), unless everything
	 * recognised so far is backchannel words, in which case it has to
	 * last backchannel_max_ms. */
	bool barge_in;                     /* true */
	int min_speech_ms;                 /* 200 */
	int backchannel_max_ms;            /* 1000 */
	int barge_in_min_words;            /* 0; N > 0: besides min_speech_ms,
					    * wait until N words are recognised
					    * that are not all backchannel words
					    * (or backchannel_max_ms passes) */
	const char *const *backchannels;   /* NULL: the built-in list */
	bool cancel_tools_on_barge_in;     /* true: cancel; false: let finish */
	/* Degradation. */
	int filler_after_ms;               /* no agent audio this long after the
					    * turn ended (or a tool runs this
					    * long): say the filler; 0: never */
	const char *filler_text;           /* "One moment please." */
	int tool_timeout_ms;               /* 5000 */
	int llm_timeout_ms;                /* no first token: fail over; 8000 */
	int tts_timeout_ms;                /* no first audio: fail over; 5000 */
	int stt_final_wait_ms;             /* at the end of a turn whose final
					    * has not come, wait this long for
					    * it, then use the partial; 1000 */
	const char *handoff_text;          /* said before a human handoff */
	/* No input: the caller says nothing for no_input_ms after the
	 * agent's reply: say no_input_text; after no_input_max of those,
	 * say no_input_goodbye and hang up. 0 / NULL: never. */
	int no_input_ms;                   /* 0 */
	const char *no_input_text;         /* "Are you still there?" */
	int no_input_max;                  /* 1 */
	const char *no_input_goodbye;      /* "I'll let you go. Goodbye." */
	bool greet;                        /* ask the brain for a greeting; true */
};

struct vagent_agent_config vagent_agent_config_default(void);
/* The built-in backchannel words, NULL-terminated, static. */
const char *const *vagent_default_backchannels(void);

struct vagent_session_config {
	const char *name;                  /* call name in the trace: "call" */
	int rate;                          /* 8000 or 16000 */
	struct vagent_agent_config agent;
	/* Providers per slot, in fallback order (owned by the caller of
	 * vagent_session_new; the session does not free them). */
	struct vagent_stt *stt[4];
	struct vagent_brain *brain[4];
	struct vagent_tts *tts[4];
	struct vagent_tools *tools;        /* may be NULL */
	struct vagent_caller *caller;      /* required; not owned */
	FILE *trace;                       /* JSON lines trace, or NULL */
	bool keep_trace;                   /* keep the trace in memory too */
	bool record;                       /* keep a stereo recording */
	int max_call_ms;                   /* hang up after this; 600000 */
	/* Warm transfer: POST the handoff package (JSON) here when the call
	 * is handed to a human (NULL: don't). The call ends only once the
	 * POST has finished or timed out; a failure is an `error` event
	 * (source "transfer_webhook"). */
	const char *transfer_webhook;
	int transfer_webhook_timeout_ms;   /* 3000 */
	/* vagent_session_run's loop: how the engines' compute is charged to
	 * the virtual clock (VAGENT_JOB_WALL; VAGENT_JOB_FREE for outcomes
	 * independent of the machine's speed). */
	enum vagent_job_clock job_clock;
};

struct vagent_session_config vagent_session_config_default(void);

struct vagent_session;

/* One turn as the session saw it. */
struct vagent_session_turn {
	int turn;
	char *caller_text;                 /* truth (simulation), or NULL */
	char *stt_text;                    /* the final transcript */
	char *agent_text;                  /* what the agent said (text sent
					    * to TTS and played) */
	bool interrupted;
};

struct vagent_session_result {
	const char *name;
	vagent_status status;              /* VAGENT_OK, or the failure */
	char error[512];
	int64_t duration;                  /* ticks */
	const char *end_reason;            /* "hangup", "transfer", "timeout" */
	size_t n_turns;
	struct vagent_session_turn *turns;
	bool escalated;
	char *escalation_reason;
	size_t frames_out, frames_late;    /* output frames; > 5 ms late */
	int64_t max_lateness;              /* ticks (real clock) */
	int transfer_webhook_status;       /* HTTP status of the transfer POST;
					    * 0: none made, -1: it failed */
};

/*
 * A new session on `loop` (transfer full). VAGENT_EINVAL for a bad rate,
 * no caller, no STT/brain/TTS provider, or a bad agent setting (err names
 * the field). The session starts at vagent_session_start (its t = 0).
 */
vagent_status vagent_session_new(struct vagent_loop *loop,
				 const struct vagent_session_config *cfg,
				 struct vagent_session **out,
				 struct vagent_error *err);
vagent_status vagent_session_start(struct vagent_session *s,
				   struct vagent_error *err);
/* Whether the call has ended (hangup, transfer, max_call_ms, failure). */
bool vagent_session_done(const struct vagent_session *s);
/* Called once when the call ends (on the loop thread). */
void vagent_session_on_done(struct vagent_session *s,
			    void (*fn)(struct vagent_session *s, void *arg),
			    void *arg);
/* The outcome so far (owned by the session). */
const struct vagent_session_result *vagent_session_result(
	const struct vagent_session *s);
/* The in-memory trace (keep_trace), NUL-terminated; NULL otherwise. */
const char *vagent_session_trace(const struct vagent_session *s, size_t *len);
/* The stereo recording (caller left, agent right) (record); else NULL. */
const struct vagent_audio *vagent_session_recording(
	const struct vagent_session *s);
void vagent_session_free(struct vagent_session *s);

/*
 * Run one session to its end on a new loop of the given clock: the
 * convenience the tests, the benches and `vagent run` use.
 */
vagent_status vagent_session_run(const struct vagent_session_config *cfg,
				 enum vagent_clock_type clock,
				 struct vagent_session **out,
				 struct vagent_error *err);

/* ---- the run result (lib/session/result.c, docs/result.md) ---- */

/* An expectation's outcome (scenarios, replay). */
struct vagent_expectation_result {
	const char *name;
	bool passed;
	const char *detail;
};

/* An SLO's outcome (bench). `value` in the metric's unit (ms for hops,
 * a fraction for wer); has_value false when the metric is missing. */
struct vagent_slo_result {
	const char *expr;
	bool has_value;
	double value;
	bool passed;
};

/* One call of a run, as the result reports it. */
struct vagent_call_report {
	const char *name;
	bool passed;
	const struct vagent_session_turn *turns; size_t n_turns;
	const char *trace; size_t trace_len;   /* the call's JSON lines trace */
	bool escalated;
	const struct vagent_expectation_result *expectations;
	size_t n_expectations;
	/* For the reports (lib/report; may all be NULL/0). */
	const char *description;       /* what the call tests */
	const char *agent_path;        /* the agent file it ran against */
	const char *end_reason;        /* "hangup", "transfer", ...; NULL:
					* the trace's call.end reason */
	int64_t duration_ms;           /* media time; 0: from the trace */
	const char *failure;           /* infrastructure failure message (a
					* provider, a tool server, I/O), or
					* NULL: the call ran */
	const char *recording_href;    /* the stereo WAV relative to the HTML
					* report ("order-status.wav"), or NULL */
};

/*
 * The `--json` run result of DESIGN.md §5 (docs/result.md): "version",
 * "calls" (name, passed, turns with caller_text, stt_text, agent_text and
 * hops in ms, barge_ins with stop_ms, wer of stt_text against caller_text
 * under the english normalizer, expectations) and "summary" (calls,
 * passed, per-hop n/p50/p90/p95/p99/max/mean, corpus wer,
 * containment_rate = calls not escalated / calls, slo). *out is a
 * malloc'd NUL-terminated string (transfer full). VAGENT_EFORMAT when a
 * trace does not parse (err names the call), VAGENT_ENOMEM.
 */
vagent_status vagent_result_to_json(const struct vagent_call_report *calls,
				    size_t n_calls,
				    const struct vagent_slo_result *slos,
				    size_t n_slos, char **out,
				    struct vagent_error *err);


/* ==== @@SPHINX@@ — the embedded speech recogniser: pocketsphinx
 * (lib/stt, docs/stt.md) ==== */

/*
 * A streaming recogniser on pocketsphinx (Debian libpocketsphinx-dev,
 * model pocketsphinx-en-us). Decoding runs on the loop's workers, never
 * inside a frame deadline; on the virtual clock it is charged the compute
 * time it really took. Partials while the caller speaks, a final at the
 * end of the turn with a confidence.
 */
struct vagent_sphinx_config {
	char name[64];                /* "pocketsphinx" */
	int rate;                     /* the call's audio rate: 8000 or 16000 */
	const char *model_dir;        /* acoustic model; NULL: $VAGENT_SPHINX_MODEL
				       * or /usr/share/pocketsphinx/model/en-us/en-us */
	const char *lm;               /* language model; NULL: the stock en-us LM */
	const char *dict;             /* dictionary; NULL: the stock cmudict */
	/* Vocabulary boost: phrases the agent expects (intent examples, slot
	 * values), NULL-terminated; NULL or empty: none. */
	const char *const *boost_phrases;
	double boost_weight;          /* weight of the phrase model, 0..1; see docs */
	int partial_interval_ms;      /* between partials while speaking; 200 */
	/* Background-noise suppression before recognition (speexdsp's
	 * preprocessor), the most it attenuates noise by, in dB; 0: off.
	 * Default and measurements: docs/stt.md "Noisy lines". */
	double denoise_db;
};

/* The defaults above (rate 16000). */
struct vagent_sphinx_config vagent_sphinx_config_default(void);

/* @@SPHINX-API@@ — lib/stt adds its functions below. */

/* The denoiser's level (dB of noise suppression) an agent file's
 * "denoise": true asks for (docs/stt.md "Noisy lines"). */
#define VAGENT_SPHINX_DENOISE_DB 15

/*
 * A pocketsphinx recogniser for a session's STT slot (transfer full; free
 * with vagent_stt_free). Loads the model, dictionary and language model
 * (and builds the boost model) now, on the calling thread: about 0.3-1 s
 * (docs/stt.md). Frames must come at cfg->rate (8000 or 16000), mono or
 * stereo. The session's loop must have worker threads: decoding runs there.
 * VAGENT_EINVAL for a bad config or a boost set with no known word,
 * VAGENT_ENOENT for a missing model/LM/dictionary, VAGENT_EPROVIDER when
 * pocketsphinx refuses them; messages name the provider and the path.
 */
vagent_status vagent_sphinx_stt_new(const struct vagent_sphinx_config *cfg,
				    struct vagent_stt **out,
				    struct vagent_error *err);

/*
 * Offline recognition of a whole buffer (any rate and channel count: it
 * is mixed to mono and resampled to cfg->rate, then decoded as the
 * provider decodes a call at that rate). *text (transfer full) gets the
 * words in lower case separated by single spaces ("" for none);
 * *confidence (may be NULL) the mean word posterior 0..1, or -1.
 * Loads a decoder per call: use a transcriber for many buffers.
 */
vagent_status vagent_sphinx_transcribe(const struct vagent_sphinx_config *cfg,
				       const struct vagent_audio *audio,
				       char **text, double *confidence,
				       struct vagent_error *err);

/* A decoder loaded once for many vagent_sphinx_transcribe-like calls. */
struct vagent_sphinx_transcriber;

vagent_status vagent_sphinx_transcriber_new(const struct vagent_sphinx_config *cfg,
					    struct vagent_sphinx_transcriber **out,
					    struct vagent_error *err);
vagent_status vagent_sphinx_transcriber_run(struct vagent_sphinx_transcriber *t,
					    const struct vagent_audio *audio,
					    char **text, double *confidence,
					    struct vagent_error *err);
/* Boost words not in the dictionary (dropped), space-separated; "" none. */
const char *vagent_sphinx_transcriber_oov(const struct vagent_sphinx_transcriber *t);
/* Wall time loading took (model, LM, dictionary, boost), in seconds. */
double vagent_sphinx_transcriber_load_seconds(const struct vagent_sphinx_transcriber *t);
/* NULL is a no-op. */
void vagent_sphinx_transcriber_free(struct vagent_sphinx_transcriber *t);

/* @@SPHINX-END@@ */

/* ==== @@FLITE@@ — the embedded speech synthesiser: flite
 * (lib/tts, docs/tts.md) ==== */

/* @@FLITE-API@@ — lib/tts adds its declarations below. */

/*
 * The embedded speech synthesiser on flite (Debian flite1-dev 2.2): voices
 * "slt" (US female, the agent's default), "rms", "awb" (US/Scottish male)
 * and "kal16" (US male, diphone), all 16 kHz natively, resampled to the
 * rate asked for. docs/tts.md has the details: streaming, threading,
 * virtual-clock accounting, number reading and measured figures.
 */

/* The voice names, NULL-terminated, static: "slt", "rms", "awb", "kal16". */
const char *const *vagent_flite_voices(void);

/* What a voice is. */
struct vagent_flite_voice_info {
	const char *name;             /* "slt" */
	int rate;                     /* native sample rate, Hz (16000) */
	const char *description;      /* "US English female, clustergen" */
};

/* Describe `voice`. VAGENT_EINVAL for an unknown voice (the message names
 * it and lists the valid ones). Any thread. */
vagent_status vagent_flite_voice_info(const char *voice,
				      struct vagent_flite_voice_info *out,
				      struct vagent_error *err);

struct vagent_flite_config {
	char name[64];                /* provider name in traces: "flite" */
	const char *voice;            /* one of vagent_flite_voices(); "slt" */
	/* Speaking rate: 1.0 is the voice's own, 1.25 is 25% faster, 0.8
	 * slower (flite's duration_stretch = 1 / speed); 0.25..4. */
	double speed;
	/* Streaming granularity: audio is handed over in chunks of about
	 * this much native audio as flite makes it; 10..1000, 50. */
	int chunk_ms;
	/* Number reading (vagent_flite_normalize): digit runs of at least
	 * this many digits are read digit by digit; 5. 0 leaves all numbers
	 * to flite. */
	int spell_digits_min;
};

/* The defaults above. */
struct vagent_flite_config vagent_flite_config_default(void);

/*
 * A TTS provider (transfer full; free with vagent_tts_free) for the
 * session's `struct vagent_tts` slot. speak(id, text, rate) synthesises
 * on the loop's worker threads (the loop must have some) and streams
 * mono int16 at `rate` (any rate 1000..384000) through on_audio in order,
 * the first chunk as soon as flite has made it, then on_done; empty or
 * blank text gives on_done with no audio. cancel(id) and stop() stop all
 * callbacks at once and the synthesis at its next chunk. VAGENT_EINVAL
 * for a bad config (unknown voice: the message lists the valid ones).
 * Loop thread.
 */
vagent_status vagent_flite_tts_new(const struct vagent_flite_config *cfg,
				   struct vagent_tts **out,
				   struct vagent_error *err);

/*
 * Synthesise all of `text` with `voice` (NULL: "slt") at `rate` Hz into a
 * new mono buffer (transfer full), numbers read as the provider reads them
 * by default. Deterministic: the same text, voice and rate give the same
 * samples. Blank text gives an empty buffer. Synthesis is serialised
 * process-wide (docs/tts.md). VAGENT_EINVAL for an unknown voice, a bad
 * rate or text over 10000 bytes; VAGENT_ENOMEM; VAGENT_EPROVIDER when flite
 * fails. Any thread (blocks while synthesising).
 */
vagent_status vagent_flite_synth(const char *text, const char *voice, int rate,
				 struct vagent_audio **out,
				 struct vagent_error *err);

/*
 * The text flite is given for `text`: order, account and reference numbers
 * are spelled digit by digit ("12345" -> "1 2 3 4 5", "#42" -> "number
 * 4 2", "ORD-5521" -> "ORD 5 5 2 1") while amounts ("$1,250.99"),
 * decimals, percentages and short numbers ("3", "2024", "21st") are left
 * to flite. A digit run is spelled when it has at least `spell_digits_min`
 * digits, or (2 digits or more) follows "#", a hyphenated word, letters
 * ("COVID19"), "No." or one of the words order, number, account, ticket,
 * case, reference, ref, confirmation, code, pin, tracking, invoice, id,
 * extension, ext. spell_digits_min 0: an unchanged copy. *out is malloc'd
 * (transfer full). VAGENT_EINVAL for a NULL text or negative minimum,
 * VAGENT_ENOMEM. Any thread.
 */
vagent_status vagent_flite_normalize(const char *text, int spell_digits_min,
				     char **out, struct vagent_error *err);

/* @@FLITE-END@@ */

/* ==== @@TOOLS@@ — tools: HTTP (libcurl) and mock, with guardrails
 * (lib/tools, docs/tools.md) ==== */

/*
 * A tool the agent can call, as the agent file defines it (docs/agent.md).
 * Strings are owned by whoever built the definition (the agent file).
 */
struct vagent_tool_guard {
	const char *argument;          /* the numeric argument guarded
					* ("amount"); NULL: no guard */
	double confirm_above;          /* above this the brain asks the caller
					* to confirm first; < 0: never */
	double max;                    /* above this the call is refused: the
					* brain escalates (reason "guard_limit")
					* and the tools refuse it too; < 0: none */
};

struct vagent_tool_def {
	const char *name;
	const char *description;
	const char *parameters;        /* JSON Schema of the arguments (JSON text);
					* NULL: any object */
	/* HTTP endpoint (url NULL: a mock tool). Templates take {arg} from
	 * the arguments and {var} from the tools' variables. */
	const char *method;            /* "GET", "POST", ...; NULL: POST */
	const char *url;
	const char *body;              /* JSON template; NULL: the arguments (not
					* for GET/DELETE) */
	const char *const *headers;    /* "Name: value" templates, NULL-terminated */
	int timeout_ms;                /* per attempt; 0: 5000 */
	int retries;                   /* extra attempts on timeout, connection
					* failure, 5xx, 429; -1: default 2 */
	int backoff_ms;                /* first backoff (doubles, jittered); 0: 200 */
	int max_backoff_ms;            /* 0: 4000 */
	size_t max_response_bytes;     /* 0: 1 MiB */
	struct vagent_tool_guard guard;
	/* Mock tool (url NULL): its JSON reply, latency and faults, with the
	 * fault vocabulary of the simulated providers. */
	const char *mock_result;
	struct vagent_latency mock_latency;
	const struct vagent_fault *faults; size_t n_faults;
};

/* @@TOOLS-API@@ — lib/tools adds its functions below. */

/*
 * The tools provider (lib/tools, docs/tools.md) for the `struct
 * vagent_tools` slot: HTTP tools through libcurl (each attempt on a loop
 * worker, so give the loop workers) and mock tools (url NULL, answered on
 * loop timers: exact on the virtual clock). Per call: the arguments are
 * validated against the tool's JSON Schema and its guard (refused with
 * VAGENT_EINVAL before any request), the request is built from the
 * templates, attempts are retried on timeout, connection failure, 5xx and
 * 429 with exponential backoff and full jitter (or the Retry-After the
 * server sent), all within total_timeout_ms, and every attempt carries the
 * same Idempotency-Key. on_result gets the response JSON, or a one-line
 * error naming the tool and the URL (without query or credentials):
 * VAGENT_ETIMEOUT (no answer in time), VAGENT_EPROVIDER (connection failed,
 * HTTP error status), VAGENT_EPROTO (malformed JSON, response too large),
 * VAGENT_EINVAL (unknown tool, bad arguments, guard, template).
 */
struct vagent_tools_config {
	char name[64];                  /* provider name; "tools" */
	const struct vagent_tool_def *tools; size_t n_tools;
	/* "name=value", NULL-terminated: {name} in URL, header and body
	 * templates (base_url, api_key...). Variables win over arguments of
	 * the same name and are inserted verbatim (not URL-encoded). */
	const char *const *variables;
	/* Budget for all attempts of one call, backoff waits included; keep it
	 * under the session's tool_timeout_ms so the tools' own error (with
	 * its attempts) arrives first. 4500; <= 0: no budget. */
	int total_timeout_ms;
	uint64_t seed;                  /* backoff jitter, mock latency jitter */
	/* Tools that have both an HTTP endpoint and a mock (mock_result set)
	 * run the mock: simulated calls without the service. false */
	bool prefer_mock;
};

struct vagent_tools_config vagent_tools_config_default(void);

/*
 * A tools provider (transfer full; free with vagent_tools_free). The
 * definitions are checked and copied: VAGENT_EINVAL with a one-line error
 * naming the tool, e.g. `tools: tools[2] "refund": parameters:
 * properties.amount.minimum: must be a number` (duplicate names, bad
 * method, URL/header/body templates, schemas, guard, limits, mock result
 * or faults). Mock tools number their faults per request (attempt), so
 * "error 500 on request 1" is a 500 then a successful retry.
 */
vagent_status vagent_tools_new(const struct vagent_tools_config *cfg,
			       struct vagent_tools **out,
			       struct vagent_error *err);

/* Counters of one tool of a provider made by vagent_tools_new. */
struct vagent_tool_stats {
	int calls;          /* call() for this tool */
	int refused;        /* answered EINVAL before any request (arguments,
			     * guard, template) */
	int attempts;       /* requests started (HTTP or mock) */
	int succeeded;      /* calls answered with a result */
	int failed;         /* calls answered with an error after attempts */
	int performed;      /* mock tools: actions performed; the retries of
			     * one call (one Idempotency-Key) perform it at
			     * most once. HTTP tools: 0 (the server knows) */
};

/* VAGENT_EINVAL for an unknown tool or a provider not made here. */
vagent_status vagent_tools_stats(const struct vagent_tools *t,
				 const char *name, struct vagent_tool_stats *out,
				 struct vagent_error *err);

/*
 * The attempts of call `id` (in progress, or among the last 32 finished
 * or cancelled) as JSON (transfer full, free()):
 *   {"tool":"refund","id":7,"idempotency_key":"9f...","status":"EPROVIDER",
 *    "attempts":[{"n":1,"start_ms":12.000,"duration_ms":3.125,
 *                 "outcome":"HTTP 500","http_status":500}, ...]}
 * status: "running", "cancelled" or the status name of the answer
 * ("OK", "ETIMEOUT"...); outcome: "ok", "timeout", "connection failed",
 * "HTTP <code>", "malformed JSON", "response too large", "running";
 * start_ms is session time (from the provider's origin). The error
 * message of a failed call lists the same outcomes. VAGENT_ENOENT when
 * there is no record.
 */
vagent_status vagent_tools_attempts_json(const struct vagent_tools *t,
					 uint64_t id, char **out,
					 struct vagent_error *err);

/*
 * The JSON Schema subset of tool parameters (docs/tools.md): type (object,
 * string, number, integer, boolean, array, null, or a list), properties,
 * required, additionalProperties (false or a schema), enum, const,
 * minimum, maximum, exclusiveMinimum/exclusiveMaximum (numbers, or draft-4
 * flags), minLength, maxLength, pattern (POSIX ERE, unanchored, with \d \w
 * \s), items, minItems, maxItems; annotations (title, description,
 * default, examples, format...) are ignored; any other keyword is an
 * error. Check: VAGENT_EFORMAT (not JSON), VAGENT_EINVAL ("schema:
 * properties.amount.minimum: must be a number"). Validate: the same for the
 * schema, then VAGENT_EINVAL for an instance that does not conform
 * ("amount: must be >= 0", "order_id: is required", "color: is not an
 * allowed argument"; "value: ..." for the instance itself).
 */
vagent_status vagent_json_schema_check(const char *schema_json,
				       struct vagent_error *err);
vagent_status vagent_json_schema_validate(const char *schema_json,
					  const char *instance_json,
					  struct vagent_error *err);

/* ---- the mock HTTP server (lib/mock, docs/mock-http.md) ---- */

/*
 * A small HTTP/1.1 server on loopback that answers from a routes file
 * (JSON, docs/mock-http.md): path patterns with {param} segments, JSON
 * body templates, table lookups, response sequences, faults (delay, hang,
 * close, malformed JSON, any status with any header such as Retry-After)
 * and idempotent actions (`performs`, honouring Idempotency-Key). It
 * serves on its own thread from vagent_mock_http_new() until
 * vagent_mock_http_free(); every function below may be called from any
 * thread.
 */
struct vagent_mock_http;

struct vagent_mock_http_config {
	const char *host;              /* numeric address or name to bind;
					* NULL: "127.0.0.1" */
	int port;                      /* 0: an ephemeral port (see _port()) */
	size_t max_request_bytes;      /* request body limit (413 beyond);
					* 0: 1 MiB */
	int max_connections;           /* open at once; beyond, new ones are
					* closed at once; 0: 512 */
	/* Called on the server thread once per answered request with a
	 * one-line summary ("GET /orders/12345 -> 200 get_order"); NULL:
	 * none. The library never prints: the caller decides. */
	void (*on_request)(void *user, const char *line);
	void *user;
};

/* Fill `cfg` with the defaults (zeros and NULLs). */
void vagent_mock_http_config_default(struct vagent_mock_http_config *cfg);

/*
 * Parse the routes file text `routes_json` (`name` names it in errors:
 * "orders.json: routes[2].status: must be an integer 100..599", EINVAL or
 * EFORMAT), bind cfg->host:cfg->port (cfg may be NULL: loopback, ephemeral
 * port; EIO "127.0.0.1:8080: address already in use") and start serving.
 * The socket is listening when this returns, so clients may connect at
 * once. *out (transfer full) is NULL on failure.
 */
vagent_status vagent_mock_http_new(const char *routes_json, const char *name,
				   const struct vagent_mock_http_config *cfg,
				   struct vagent_mock_http **out,
				   struct vagent_error *err);

/* The same, reading the routes file at `path` (ENOENT when missing). */
vagent_status vagent_mock_http_load(const char *path,
				    const struct vagent_mock_http_config *cfg,
				    struct vagent_mock_http **out,
				    struct vagent_error *err);

/* Parse and check a routes file without serving (for `--check`). */
vagent_status vagent_mock_http_check(const char *routes_json, const char *name,
				     struct vagent_error *err);

/* The port the server listens on. */
int vagent_mock_http_port(const struct vagent_mock_http *m);

/* What one route has seen since start (or the last reset). */
struct vagent_mock_http_route_stats {
	uint64_t received;             /* requests that matched the route */
	uint64_t performed;            /* `performs` routes: actions carried
					* out (2xx, not replayed, not hang or
					* close); else 0 */
	uint64_t replayed;             /* answered from the Idempotency-Key
					* store, not performed again */
};

/* The counters of the route named `route` (its "name", else "METHOD
 * PATH" as written in the file); ENOENT when there is none. */
vagent_status vagent_mock_http_route_stats(struct vagent_mock_http *m,
					   const char *route,
					   struct vagent_mock_http_route_stats *out);

/* Every route's counters as JSON, the body of `GET /_mock/stats`:
 * {"requests":N,"unmatched":N,"routes":[{"name":..,"method":..,"path":..,
 * "received":N,"performed":N,"replayed":N},...]} (transfer full: free();
 * NULL when out of memory). */
char *vagent_mock_http_stats_json(struct vagent_mock_http *m);

/* Forget counters, sequence positions and stored idempotent responses, and
 * restore the tables as the file wrote them (also `POST /_mock/reset`). */
void vagent_mock_http_reset(struct vagent_mock_http *m);

/* Stop serving, close every connection (hung ones included) and free.
 * Returns promptly; NULL does nothing. */
void vagent_mock_http_free(struct vagent_mock_http *m);

/* @@TOOLS-END@@ */

/* ==== @@NLU@@ — understanding recognised speech: slot extractors, fuzzy
 * intent and phrase matching, knowledge retrieval (lib/nlu, docs/flow.md,
 * docs/knowledge.md) ==== */

/* @@NLU-API@@ — lib/nlu adds its declarations below. */

/*
 * Slot extraction from recognised speech (or typed/DTMF digits). Text is
 * what a recogniser writes: lower-case words, number words, fillers,
 * recognition errors. Each extractor finds the value in `text` and writes
 * its canonical form.
 */
typedef enum vagent_slot_type {
	VAGENT_SLOT_DIGITS,       /* spoken or typed digits: "four five six",
				   * "double seven", "oh", "four fifty six" → "456" */
	VAGENT_SLOT_NUMBER,       /* a cardinal: "one hundred and five" → "105" */
	VAGENT_SLOT_ORDER_NUMBER, /* digits, min_len..max_len long → "12345" */
	VAGENT_SLOT_AMOUNT,       /* money: "forty nine dollars fifty", "$49.50"
				   * → "49.50" */
	VAGENT_SLOT_DATE,         /* "tomorrow", "next friday", "march third",
				   * "3/14" → "YYYY-MM-DD" (from reference_date) */
	VAGENT_SLOT_YES_NO,       /* "yeah sure", "that's right" → "yes";
				   * "nope", "don't" → "no" */
	VAGENT_SLOT_CHOICE,       /* one of `choices` (fuzzy) → that choice */
	VAGENT_SLOT_TEXT,         /* the whole text, trimmed */
	VAGENT_SLOT_CARD,         /* a payment card number: 13..19 digits passing
				   * the Luhn check (speech or DTMF); sensitive */
} vagent_slot_type;

/* "digits", "number", "order_number", "amount", "date", "yes_no",
 * "choice", "text", "card"; NULL when out of range; and back (-1 if unknown). */
const char *vagent_slot_type_name(vagent_slot_type t);
int vagent_slot_type_from_name(const char *name);

struct vagent_slot_spec {
	vagent_slot_type type;
	int min_len, max_len;         /* DIGITS/ORDER_NUMBER: length bounds; 0: any */
	const char *const *choices;   /* CHOICE: NULL-terminated */
	const char *reference_date;   /* DATE: "YYYY-MM-DD" that "today" means;
				       * NULL: the current date */
};

/*
 * Extract a slot of `spec` from `text`: VAGENT_OK and *out (malloc'd,
 * transfer full), VAGENT_ENOENT when the text holds no such value (*out
 * NULL), VAGENT_EINVAL for a bad spec, VAGENT_ENOMEM.
 */
vagent_status vagent_slot_extract(const struct vagent_slot_spec *spec,
				  const char *text, char **out);

/*
 * Fuzzy intent matching: intents are added with example phrases and
 * keywords; a query is scored against each, tolerant of recognition
 * errors (word stems, small edit distances, sound-alike words).
 */
struct vagent_intent_matcher;

vagent_status vagent_intent_matcher_new(struct vagent_intent_matcher **out);
void vagent_intent_matcher_free(struct vagent_intent_matcher *m);
/* Add intent number `intent` (>= 0; may be added to again) with its
 * examples and keywords (NULL-terminated, either may be NULL). */
vagent_status vagent_intent_matcher_add(struct vagent_intent_matcher *m,
					int intent,
					const char *const *examples,
					const char *const *keywords);
/* The best intent for `text`: its number (-1 when none scores above 0)
 * and its score in 0..1 (*score may be NULL). Ties go to the intent added
 * first. docs/nlu.md gives the thresholds to act on: >= 0.5 accept,
 * 0.35..0.5 confirm, below that the fallback. */
int vagent_intent_match(const struct vagent_intent_matcher *m,
			const char *text, double *score);

/* Every intent scoring above 0 for `text`, best first (ties: the order
 * added), at most `max`; returns how many were written. For margins
 * ("did you mean A or B?") when the best two are close. */
struct vagent_intent_score {
	int intent;
	double score;
};
size_t vagent_intent_scores(const struct vagent_intent_matcher *m,
			    const char *text, struct vagent_intent_score *out,
			    size_t max);

/* Whether `text` contains `phrase` as whole words, allowing small
 * recognition errors (tolerance 0: the same words after normalisation and
 * stemming; 0.3: sound-alikes, one or two letters off, split words
 * re-joined, the phrase's stop words optional — docs/nlu.md). */
bool vagent_text_has_phrase(const char *text, const char *phrase,
			    double tolerance);

/*
 * Knowledge retrieval: BM25 over chunks of the agent's knowledge files
 * (Markdown chunked by heading, plain text by paragraph).
 */
struct vagent_kb;

struct vagent_kb_hit {
	const char *source;           /* "knowledge/store.md#returns" */
	const char *heading;          /* the chunk's heading path, or "" */
	const char *text;             /* the chunk's text */
	const char *answer;           /* its best sentences for the query, plain
				       * text fit to be spoken (<= ~300 chars) */
	double score;                 /* BM25 */
};

vagent_status vagent_kb_new(struct vagent_kb **out);
void vagent_kb_free(struct vagent_kb *kb);
/* Add a file (.md/.markdown by heading, else by paragraph); errors name
 * the file (VAGENT_ENOENT, VAGENT_EFORMAT for a non-text file). */
vagent_status vagent_kb_add_file(struct vagent_kb *kb, const char *path,
				 struct vagent_error *err);
vagent_status vagent_kb_add_text(struct vagent_kb *kb, const char *source,
				 const char *text, struct vagent_error *err);
size_t vagent_kb_chunks(const struct vagent_kb *kb);
/* The best `max` chunks for `query`, best first; returns how many.
 * Strings are owned by the kb (answer: until the next search). */
size_t vagent_kb_search(struct vagent_kb *kb, const char *query,
			struct vagent_kb_hit *hits, size_t max);

/* @@NLU-END@@ */

/* ==== @@AGENT@@ — the agent file and the flow brain (lib/agent,
 * lib/flow, docs/agent.md, docs/flow.md) ==== */

/* @@AGENT-API@@ — lib/agent and lib/flow add their declarations below. */

/*
 * The agent file (docs/agent.md): one JSON file describing an agent — its
 * providers, greeting, turn-taking, tools, knowledge, escalation and the
 * flow brain's dialog policy. Loading validates it strictly; every error
 * is one line "FILE:LINE: field.path: problem" (status VAGENT_EFORMAT for
 * JSON that does not parse, VAGENT_EINVAL for a wrong field, VAGENT_ENOENT
 * for a missing file). Everything below is owned by the agent and lives
 * until vagent_agent_free. NULL-terminated string lists are never NULL
 * (possibly empty) unless the comment says so.
 */

/* A slot of an intent: a value the flow collects from the caller. */
struct vagent_agent_slot {
	char *name;
	vagent_slot_type type;
	char *prompt;                 /* asked when the slot is missing */
	char *reprompt;               /* asked after a failed attempt (NULL:
				       * the prompt again) */
	int min_len, max_len;         /* DIGITS/ORDER_NUMBER (ORDER_NUMBER
				       * default 4..12); 0: any */
	char **choices;               /* CHOICE: the values; else empty */
	bool required;                /* true */
};

/* A tool argument: its name and template ("{slot.order_number}") or,
 * when the file gives a non-string JSON value, that value as JSON text. */
struct vagent_agent_arg {
	char *name;
	char *value;
	bool literal;                 /* value is JSON text, not a template */
};

struct vagent_agent_intent {
	char *name;
	char *summary;                /* "check on an order": the clarifying
				       * question "You'd like to check on an
				       * order, is that right?"; NULL: "Do you
				       * mean NAME?" */
	char **examples;              /* phrases the caller might say */
	char **keywords;              /* words that point to this intent */
	struct vagent_agent_slot *slots;
	size_t n_slots;
	char *confirm;                /* template asked (yes/no) before acting;
				       * NULL: act at once */
	char *tool;                   /* the tool to call; NULL: none */
	struct vagent_agent_arg *args;
	size_t n_args;
	char *reply;                  /* template said after acting; NULL */
	char *reply_error;            /* said when the tool failed; NULL: the
				       * flow's default apology */
	bool knowledge;               /* answer from the knowledge base */
	char *escalate;               /* hand off with this reason; NULL */
	bool end;                     /* the call's goodbye: say reply, end */
};

/* The flow brain's policy (docs/flow.md). */
struct vagent_agent_flow {
	struct vagent_agent_intent *intents;
	size_t n_intents;
	double match_threshold;       /* intent score to act on, 0..1; 0.5 */
	double clarify_threshold;     /* from here to match_threshold the flow
				       * asks whether it understood; 0.35 */
	char *fallback;               /* nothing matched: "Sorry, I didn't
				       * catch that. ..." */
	char *knowledge_miss;         /* no knowledge answer found */
	char *cancelled;              /* confirmation answered no */
	char *anything_else;          /* said after an answer? NULL: nothing */
};

struct vagent_agent_escalation {
	char **human_phrases;         /* "agent", "representative", ... */
	char **opt_out_phrases;       /* "stop calling", "do not call", ... */
	int max_misunderstandings;    /* consecutive; 2; 0: never escalate */
	char *transfer_webhook;       /* URL the package is POSTed to; NULL */
	char *hold_text;              /* the hold phrase (also
				       * config.handoff_text) */
	/* What the brain says before it escalates, per reason. */
	char *human_reply, *opt_out_reply, *misunderstanding_reply,
	     *tool_failure_reply, *guard_reply;
};

struct vagent_agent_compliance {
	int disclosure_within_ms;     /* AI disclosure due within; 10000 */
	char **disclosure_phrases;    /* what counts as one ("automated
				       * assistant", "virtual assistant", ...) */
	bool require_disclosure;      /* a greeting without one is an error
				       * (else a warning); false */
};

struct vagent_agent_variable {
	char *name;
	char *value;                  /* ${ENV} and ${ENV:-default} expanded */
};

struct vagent_agent {
	char *name;                   /* "name", else the file's base name */
	char *path;                   /* the file as given ("" when parsed
				       * from text) */
	char *base_dir;               /* relative paths resolve against it */
	int rate;                     /* 8000 or 16000; 16000 */
	char *greeting;               /* with the AI disclosure */
	/* The session's agent settings: vagent_agent_config_default() with
	 * the file's vad, turn, interruption and degradation settings;
	 * handoff_text is escalation.hold_text; strings point into the
	 * agent. */
	struct vagent_agent_config config;
	struct {
		char *provider;           /* "pocketsphinx" (default), "sim", "deepgram"
					   * or "openai" */
		bool boost;               /* vocabulary boost; true */
		double boost_weight;      /* 0..1; 0.5 */
		double denoise_db;        /* noise suppression in dB, 0: off;
					   * "denoise": true is VAGENT_SPHINX_DENOISE_DB;
					   * default vagent_sphinx_config_default()'s */
		/* cloud providers "deepgram" and "openai" (docs/providers.md) */
		char *model;              /* "nova-2" / "gpt-4o-mini-transcribe" */
		char *url;                /* NULL: the provider's default */
		char *api_key_env;        /* "DEEPGRAM_API_KEY" / "OPENAI_API_KEY" */
		char *encoding;           /* deepgram: "linear16" (default) or "mulaw" */
		char *language;           /* NULL: the provider's default */
		int endpointing_ms;       /* deepgram: 300 */
		char *fallback;           /* the next STT when this one fails:
					   * "pocketsphinx", "sim" or NULL */
	} stt;
	struct {
		char *provider;           /* "flite" (default), "sim",
					   * "elevenlabs", "cartesia" or "openai" */
		char *voice;              /* flite: "slt"; cloud: the provider's
					   * voice id or name */
		/* cloud providers (docs/providers.md); NULL/0 for flite, sim */
		char *model;              /* NULL: the provider's default */
		char *url;                /* NULL: the provider's default (see
					   * docs/agent.md: http(s) base URL for
					   * elevenlabs and openai, ws(s) URL for
					   * cartesia) */
		char *api_key_env;        /* "ELEVENLABS_API_KEY", ... */
		char *transport;          /* elevenlabs: "websocket" (default)
					   * or "http" */
		double speed;             /* 0: the provider's default */
		char *fallback;           /* the next TTS when this one fails:
					   * "flite", "sim" or NULL */
	} tts;
	struct {
		char *provider;           /* "flow" (default), "sim", "openai"
					   * or "anthropic" */
		/* The LLM providers' settings (docs/providers.md); NULL/-1/0
		 * for flow and sim. */
		char *model;              /* required for an LLM */
		char *base_url;           /* ${ENV} expanded; NULL: the provider's */
		char *api_key_env;        /* variable holding the key; NULL: none */
		char *system;             /* system prompt ("system" or "prompt");
					   * NULL: one built from the agent */
		double temperature;       /* 0..2; < 0: not sent */
		int max_tokens;           /* 0: not sent */
		char *fallback;           /* "flow": the flow brain takes over
					   * when the LLM fails; NULL: none */
	} brain;
	struct vagent_tool_def *tools;    /* strings owned by the agent */
	size_t n_tools;
	struct vagent_agent_variable *variables;
	size_t n_variables;
	char **knowledge;             /* knowledge files, resolved paths */
	struct vagent_agent_escalation escalation;
	struct vagent_agent_compliance compliance;
	struct vagent_agent_flow flow;
	/* Non-fatal findings, "FILE:LINE: field: problem" each. */
	char **warnings;
	size_t n_warnings;
};

/*
 * Load the agent file at `path` (transfer full). Relative paths inside it
 * (knowledge files) resolve against its directory. On error *out is NULL
 * and err holds the first problem (with ", and N more problems" when the
 * file has several).
 */
vagent_status vagent_agent_load(const char *path, struct vagent_agent **out,
				struct vagent_error *err);
/* The same from text: `name` names it in messages ("store.json"),
 * `base_dir` resolves relative paths (NULL: "."). */
vagent_status vagent_agent_parse(const char *text, size_t len,
				 const char *name, const char *base_dir,
				 struct vagent_agent **out,
				 struct vagent_error *err);
void vagent_agent_free(struct vagent_agent *a);
/*
 * Replace tools of `a` by mocks for a simulated call: the object `key` of
 * the JSON document `text` (a scenario's "tools") maps tool names to mock
 * objects of the agent file's form ({"result", "latency_ms", "jitter_ms",
 * "faults": [...]}); those tools answer from the mock from now on, with
 * the same retries, guards and validation. Errors are "NAME:LINE:
 * tools.TOOL.field: problem" in the scenario's lines; an unknown tool is
 * one. Partial changes may remain on error.
 */
vagent_status vagent_agent_mock_tools(struct vagent_agent *a, const char *text,
				      size_t len, const char *name,
				      const char *key, struct vagent_error *err);
/* The tool named `name`, or NULL. */
const struct vagent_tool_def *vagent_agent_tool(const struct vagent_agent *a,
						const char *name);
/* The variables as "name=value" (NULL-terminated, owned by the agent):
 * vagent_tools_config.variables. */
const char *const *vagent_agent_variable_list(const struct vagent_agent *a);
/*
 * The phrases the agent expects to hear — intent examples and keywords,
 * choice values, yes/no words, digit words, the escalation phrases —
 * lower-case, deduplicated, NULL-terminated; owned by the agent: the
 * corpus of the STT vocabulary boost (vagent_sphinx_config.boost_phrases).
 */
const char *const *vagent_agent_expected_phrases(const struct vagent_agent *a);

/*
 * The flow brain (lib/flow, docs/flow.md): the agent file's deterministic
 * dialog policy in the brain slot. It answers through the slot's
 * callbacks: on_first_token, one on_text per sentence, tool calls through
 * on_tool_call (it waits for tool_result), escalations through on_escalate
 * with the JSON context package. Knowledge answers are the tool
 * "knowledge.search" (args {"query": ...}), which
 * vagent_knowledge_tools_new serves from the agent's knowledge files.
 */
struct vagent_flow_config {
	char name[64];                /* "flow" */
	uint64_t seed;                /* reserved (the policy draws nothing) */
	const char *reference_date;   /* "YYYY-MM-DD" that DATE slots count
				       * from ("tomorrow"); NULL: today */
	int think_ms;                 /* time to the first output; 0 */
	int sentence_ms;              /* between sentences; 0 */
};

struct vagent_flow_config vagent_flow_config_default(void);
/* A flow brain for `agent` (not copied: it must outlive the brain). */
vagent_status vagent_flow_brain_new(const struct vagent_agent *agent,
				    const struct vagent_flow_config *cfg,
				    struct vagent_brain **out,
				    struct vagent_error *err);
/* Whether the flow said its goodbye (an `end` intent) and the call can be
 * hung up once that reply has played. false for other brains. */
bool vagent_flow_brain_ended(const struct vagent_brain *b);

/* The tool name of knowledge lookups, "knowledge.search". */
#define VAGENT_KNOWLEDGE_TOOL "knowledge.search"

/*
 * A tools provider answering VAGENT_KNOWLEDGE_TOOL from the agent's
 * knowledge files (BM25; result {"found": true, "source", "heading",
 * "answer", "score"} or {"found": false}) and passing every other tool to
 * `inner` (may be NULL: other tools then fail). Takes ownership of
 * `inner` (freed with it). The knowledge files are read here (errors
 * name the file).
 */
vagent_status vagent_knowledge_tools_new(const struct vagent_agent *agent,
					 struct vagent_tools *inner,
					 struct vagent_tools **out,
					 struct vagent_error *err);

/* @@AGENT-END@@ */

/* ==== @@RUN@@ — scenario files and running an agent on a simulated call
 * (lib/run, docs/scenario.md) ==== */

/* One step of a scenario's caller script (see vagent_sim_step). */
struct vagent_scenario_step {
	vagent_sim_step_kind kind;    /* SAY (say, audio, dtmf), SILENCE,
				       * HANGUP; a wait_only step is a WAIT */
	vagent_sim_anchor anchor;     /* "wait_for": agent_done (default for
				       * say), agent_speaking, previous, start */
	int offset_ms;                /* "after_ms" after the anchor; 600 for say */
	char *text;                   /* SAY: the words (spoken by the caller
				       * voice, and the golden text) */
	char *audio_path;             /* SAY: a recording to play instead
				       * (resolved path), or NULL */
	char *dtmf;                   /* SAY: keys to press (in-band tones), or NULL */
	int tone_ms, gap_ms;          /* dtmf: each tone, and between; 100, 100 */
	int duration_ms;              /* SILENCE */
	bool wait_only;               /* a step that only waits ("wait_for") */
	bool waits_for_event;         /* wait_for a trace event: */
	vagent_trace_type wait_event; /*   of this type */
	char *event_match;            /*   matching this, or NULL */
	int wait_silence_ms;          /* wait_for {"silence_ms": N}; 0: no */
};

/* A scenario file (docs/scenario.md): one simulated call. */
struct vagent_scenario {
	char *name;                   /* "name", else the file's base name */
	char *description;            /* or NULL */
	char *path;
	char *agent_path;             /* resolved against the scenario's dir */
	char *voice;                  /* caller voice: a flite voice (rms,
				       * awb, kal16, slt) or "speechlike"; rms */
	int rate;                     /* caller leg: 8000 or 16000; 0: the
				       * agent's rate */
	vagent_encoding codec;        /* caller leg: pcm16, ulaw, alaw or opus */
	int opus_bitrate;             /* opus: bits/s; 0: the leg's default */
	char *noise_path;             /* background noise recording, or NULL */
	double snr_db;                /* its level below the caller's speech */
	int hangup_after_ms;          /* after the last step and reply; 1500 */
	uint64_t seed;                /* 1 */
	int max_call_ms;              /* 300000 */
	struct vagent_scenario_step *steps;
	size_t n_steps;
	bool has_tools;               /* "tools": mocks replacing agent tools */
	/* "services": mock HTTP services started for the call, their base URL
	 * in an environment variable the agent file expands */
	struct vagent_scenario_service {
		char *env;                /* ACME_ORDERS_URL */
		char *routes_path;        /* a vagent mock-http routes file */
	} *services;
	size_t n_services;
	/* "faults": per provider slot, and the caller leg's network */
	struct vagent_fault *llm_faults, *stt_faults, *tts_faults;
	size_t n_llm_faults, n_stt_faults, n_tts_faults;
	double loss, loss_burst;      /* packet loss rate; mean burst (1) */
	int jitter_ms, jitter_buffer_ms; /* delay variation; buffer (60) */
	struct vagent_expectations *expectations; /* never NULL once loaded */
	char *text;                   /* the file's text (for "tools") */
	size_t text_len;
};

/* Load a scenario (transfer full); errors "FILE:LINE: field: problem". */
vagent_status vagent_scenario_load(const char *path, struct vagent_scenario **out,
				   struct vagent_error *err);
vagent_status vagent_scenario_parse(const char *text, size_t len,
				    const char *name, const char *base_dir,
				    struct vagent_scenario **out,
				    struct vagent_error *err);
void vagent_scenario_free(struct vagent_scenario *sc);
/*
 * Check the scenario at `path` and everything it points at: every
 * problem of the file, its agent file (vagent_agent_validate), its tool
 * mocks, recordings and noise file, into `diags`. VAGENT_OK when none;
 * else the first problem's status (and line in err).
 */
vagent_status vagent_scenario_validate(const char *path, struct vagent_diags *diags,
				       struct vagent_error *err);
/* vagent_scenario_load, with every problem of the file itself into
 * `diags` (its agent and recordings are not looked at). */
vagent_status vagent_scenario_load_diags(const char *path, struct vagent_scenario **out,
					 struct vagent_diags *diags,
					 struct vagent_error *err);
/* Whether the files a loaded scenario plays and serves load: its
 * recordings, noise file and services' routes files (problems into
 * `diags`; the first in err). */
vagent_status vagent_scenario_check_files(const struct vagent_scenario *sc,
					  struct vagent_diags *diags,
					  struct vagent_error *err);

/*
 * An agent's providers, built from its agent file for a call at `rate`:
 * pocketsphinx (with the vocabulary boost), flow, flite and the tools
 * (HTTP/mock, with the knowledge tool), or the simulated ones the file
 * names. Owned by the stack.
 */
struct vagent_agent_stack {
	struct vagent_stt *stt;
	struct vagent_brain *brain;
	struct vagent_tts *tts;
	struct vagent_tools *tools;
	struct vagent_brain *fallback_brain; /* brain.fallback's, or NULL */
	struct vagent_stt *stt_fallback;  /* the agent's stt.fallback, or NULL */
	struct vagent_tts *tts_fallback;  /* the agent's tts.fallback, or NULL */
};

struct vagent_stack_options {
	int rate;                     /* the call's rate: 8000 or 16000 */
	uint64_t seed;
	const char *reference_date;   /* DATE slots' "today"; NULL: today */
	bool prefer_mock_tools;       /* run tools' mocks, not their endpoints */
};

vagent_status vagent_agent_stack_new(const struct vagent_agent *agent,
				     const struct vagent_stack_options *opt,
				     struct vagent_agent_stack **out,
				     struct vagent_error *err);
void vagent_agent_stack_free(struct vagent_agent_stack *st);

/* How vagent_scenario_run runs a call. */
struct vagent_run_options {
	enum vagent_clock_type clock; /* virtual (default) or real */
	uint64_t seed;                /* seeds the simulated parts (vagent run
				       * passes the scenario's unless --seed) */
	const char *reference_date;   /* NULL: today */
	FILE *trace;                  /* also write the trace here; NULL */
	bool record;                  /* keep the stereo recording */
	bool prefer_mock_tools;
	/* Virtual clock: charge the engines' compute as measured (false) or
	 * not at all (true: the call's course no longer depends on how fast
	 * this machine is; the hops then show only the modelled parts). */
	bool free_compute;
	const char *agent_path;       /* test this agent file instead of the
				       * scenario's (NULL: the scenario's) */
	/* Provider cassettes (docs/cassettes.md): record every provider
	 * exchange into DIR/<call name>/cassette.jsonl, or replay them from
	 * there with no network. NULL: neither; not both. */
	const char *record_providers;
	const char *replay_providers;
	const char *cassette_name;    /* the cassette's call name (bench: one
				       * per run); NULL: the call's name */
};

/* A finished call: its session (result, trace, recording) and what it
 * ran. (transfer full: vagent_call_run_free) */
struct vagent_call_run {
	struct vagent_scenario *scenario;
	struct vagent_agent *agent;
	struct vagent_agent_stack *stack;
	struct vagent_caller *caller;     /* the simulated caller */
	struct vagent_session *session;
	struct vagent_recorded_call *call; /* a replayed call (scenario NULL);
					    * NULL for scenarios */
	/* the scenario's faults in front of the stack's providers, or NULL */
	struct vagent_stt *faulty_stt;
	struct vagent_brain *faulty_brain;
	struct vagent_tts *faulty_tts;
	/* the expectations' outcomes once vagent_call_run_check ran, or NULL */
	struct vagent_expectation_outcomes *outcomes;
	/* the scenario's services, serving while the call runs */
	struct vagent_mock_http **services;
	size_t n_services;
	/* the call's provider cassette (record_providers or
	 * replay_providers), or NULL */
	struct vagent_cassette *cassette;
};

/*
 * Run scenario `sc` (taken over: freed with the run) against its agent:
 * load the agent, build its stack, synthesise the caller's lines with the
 * caller voice, pass them through the caller leg's codec, and run the
 * session to its end. Errors name the file or provider; a call that ran
 * but failed inside (a provider) still gives *out with the session's
 * result status set.
 */
vagent_status vagent_scenario_run(struct vagent_scenario *sc,
				  const struct vagent_run_options *opt,
				  struct vagent_call_run **out,
				  struct vagent_error *err);
void vagent_call_run_free(struct vagent_call_run *r);

/* The expectations a run is judged by: its scenario's or its recorded
 * call's (NULL: none). */
const struct vagent_expectations *vagent_call_run_expectations(
	const struct vagent_call_run *r);
/*
 * Evaluate the run's expectations (docs/expectations.md) on its trace,
 * result and recording; `texts` are other outputs about the call (its
 * JSON result) that no_card_number scans too. The outcomes go to
 * r->outcomes (replacing earlier ones).
 */
vagent_status vagent_call_run_check(struct vagent_call_run *r,
				    const char *const *texts, size_t n_texts,
				    struct vagent_error *err);

/* ==== @@DTMF@@ — in-band DTMF tones, card numbers and PCI redaction
 * (lib/audio/dtmf.c, lib/nlu/card.c; docs/dtmf.md) ==== */
/* @@DTMF-API@@ */

/* DTMF digits "0-9*#A-D" as tones at `rate` (8000/16000): tone_ms each, gap_ms silence
 * between, at the usual level (about -10 dBFS per tone). (transfer full) */
vagent_status vagent_dtmf_synth(const char *digits, int rate, int tone_ms, int gap_ms,
				struct vagent_audio **out, struct vagent_error *err);

/* A streaming Goertzel detector (ITU-T Q.24-like checks: both tones present, twist limits,
 * other energy low, minimum duration ~40 ms, a digit reported once per key press). */
struct vagent_dtmf_detector;

/* A detector for mono audio at `rate` Hz (8000..48000); NULL for another
 * rate or when out of memory. (transfer full) */
struct vagent_dtmf_detector *vagent_dtmf_detector_new(int rate);

/* Feed mono int16 samples; returns the number of digits completed in this chunk, written to
 * `digits` (up to cap) with the sample offset (from the detector's start) of each onset.
 * `onsets` may be NULL. Digits past `cap` are dropped (a chunk of n samples completes at
 * most n / 200 + 1 digits at 8 kHz). */
size_t vagent_dtmf_detector_feed(struct vagent_dtmf_detector *d, const int16_t *s, size_t n,
				 char *digits, int64_t *onsets, size_t cap);

/* Whether a tone is currently sounding (so the session can keep it away from VAD/STT). */
bool vagent_dtmf_detector_active(const struct vagent_dtmf_detector *d);

/* Free a detector; NULL is a no-op. */
void vagent_dtmf_detector_free(struct vagent_dtmf_detector *d);

/* All digits in channel `channel` (-1: mix) of `a`, NUL-terminated into out (cap bytes).
 * Returns the number of digits written (0 for a channel `a` does not have). */
size_t vagent_dtmf_detect_audio(const struct vagent_audio *a, int channel, char *out, size_t cap);

/* A payment card number in `text`: 13..19 digits passing the Luhn check, written as a run of
 * digits possibly separated by single spaces or dashes, or spoken as digit words ("four one
 * one one ...", "oh" for zero) — the way transcripts show it. true and the byte span if found. */
bool vagent_card_number_find(const char *text, size_t *off, size_t *len);

/* Replace every such card number in `text` (in place): digits written as digits become '*'
 * except the last four ("**** **** **** 1111", same length); a number with digit words
 * becomes "[card ending 1111]" (shorter). Never grows the text. Returns how many were
 * redacted. NULL is 0. */
size_t vagent_card_number_redact(char *text);

/* Whether the `n` characters at `digits` are all ASCII digits (n >= 1) passing the Luhn
 * check. */
bool vagent_luhn_valid(const char *digits, size_t n);

/* @@DTMF-END@@ */

/* ==== @@LEG@@ — the caller's telephone leg: codec, noise, jitter, loss
 * (lib/sim/leg.c; docs/simulation.md) ==== */
/* @@LEG-API@@ */

/*
 * The caller's telephone leg: a decorator around any caller that puts its
 * audio through what a phone call does to it: background noise, a codec
 * (20 ms packets), packet loss (Gilbert model, bursts) and jitter against
 * a fixed receive buffer, with loss concealment. The audio is not delayed
 * (the buffer's constant playout delay is left out so the audio stays on
 * the truth's clock); Opus adds its own algorithmic delay.
 */
struct vagent_leg_config {
	int rate;                  /* the call's rate: 8000 or 16000 */
	vagent_encoding codec;     /* VAGENT_ENC_PCM16 (none), _ULAW, _ALAW (8000 only), _OPUS */
	int opus_bitrate;          /* bits/s for OPUS; 0: 16000 */
	const struct vagent_audio *noise; /* background noise, mono at `rate`, looped; NULL:
	                            * none (copied) */
	double snr_db;             /* noise level: speech_dbfs - snr_db */
	double speech_dbfs;        /* the caller speech's active level (see below) */
	double loss;               /* packet loss rate 0..1 (one packet = one 20 ms frame) */
	double loss_burst;         /* mean length of a loss burst in packets (Gilbert model); 1 */
	int jitter_ms;             /* packet delay variation: each packet 0..jitter_ms late */
	int jitter_buffer_ms;      /* the receiver's buffer: a packet later than this is lost; 60 */
	uint64_t seed;
};
/* rate 16000, PCM16, no noise, snr_db 20, speech_dbfs -26, no loss
 * (bursts of 1), no jitter, buffer 60 ms, seed 0: a transparent leg. */
struct vagent_leg_config vagent_leg_config_default(void);
/* Wrap `inner` (taken over: freed with the leg, also on error): every caller frame gets the
 * noise added, goes through the codec (encode+decode, 20 ms packets; Opus with its packet
 * loss concealment for lost packets, G.711/PCM with repetition-then-fade PLC), loss and
 * jitter. The truth passes through unchanged; agent events are forwarded. */
vagent_status vagent_leg_caller_new(struct vagent_caller *inner, const struct vagent_leg_config *cfg,
                                    struct vagent_caller **out, struct vagent_error *err);
/* Packets sent; lost (in the network or late); late (arrived after the
 * buffer's playout time: counted in `lost` too). */
struct vagent_leg_stats { size_t packets, lost, late; };
/* All zero when `leg` is not a leg. */
void vagent_leg_caller_stats(const struct vagent_caller *leg, struct vagent_leg_stats *out);
/* Active speech level of `a` in dBFS (ITU-T P.56 method B simplified: level over the
 * frames above a threshold), -100 for silence. */
double vagent_audio_active_level_dbfs(const struct vagent_audio *a);

/* @@LEG-END@@ */

/* ==== @@FAULTS@@ — fault injection around any STT, brain or TTS provider
 * (lib/sim/fault_wrap.c; docs/faults.md) ==== */
/* @@FAULTS-API@@ */

/*
 * Wrap `inner` (not owned; must outlive the wrapper) so that the requests
 * numbered by the faults' from_call..to_call misbehave (docs/faults.md).
 * The wrapper is itself a provider of the slot: it embeds the base, fills
 * ops, takes over inner's callbacks and forwards them (healthy requests
 * unchanged, at the same instants), and is named like the inner one
 * ("pocketsphinx") so traces stay readable. The call counter counts the
 * slot's requests: brain respond() calls (the greeting included), TTS
 * speak() calls (fillers and handoff phrases included), STT finals
 * (utterances). Faults a slot does not take are VAGENT_EINVAL ("NAME:
 * faults[i].kind: ..."). Freeing the wrapper cancels its requests on the
 * inner brain/TTS, or stops the inner STT. `seed` seeds WRONG_WORDS
 * substitutions. (transfer full)
 */
vagent_status vagent_fault_brain_new(struct vagent_brain *inner,
				     const struct vagent_fault *faults,
				     size_t n_faults, uint64_t seed,
				     struct vagent_brain **out,
				     struct vagent_error *err);
vagent_status vagent_fault_stt_new(struct vagent_stt *inner,
				   const struct vagent_fault *faults,
				   size_t n_faults, uint64_t seed,
				   struct vagent_stt **out,
				   struct vagent_error *err);
vagent_status vagent_fault_tts_new(struct vagent_tts *inner,
				   const struct vagent_fault *faults,
				   size_t n_faults, uint64_t seed,
				   struct vagent_tts **out,
				   struct vagent_error *err);

/*
 * Which fault kinds a slot accepts, for validators' messages: slot "llm"
 * (or "brain"), "stt", "tts", "tool" (tool mocks). A static
 * comma-separated list ("delay, drop, wrong_words, error"; "" for an
 * unknown slot), and whether `kind` is one of them (VAGENT_FAULT_NONE,
 * an explicitly healthy range, is allowed everywhere).
 */
const char *vagent_fault_kinds_for(const char *slot);
bool vagent_fault_kind_allowed(const char *slot, vagent_fault_kind kind);

/* @@FAULTS-END@@ */

/* ==== @@EXPECT@@ — expectations and SLO expressions (lib/expect;
 * docs/expectations.md) ==== */
/* @@EXPECT-API@@ */
/*
 * Expectations: checks a scenario or a recorded call makes on the finished
 * call (docs/expectations.md), each computed from the call's trace, its
 * session result and its recording, so a user can recompute them. Each
 * gives a name ("tool_called order_status"), pass/fail and a one-line
 * detail saying what was seen ("order_status called 0 times; tools
 * called: refund (1)").
 */
struct vagent_expectations;

/*
 * Parse the member `key` ("expectations", an array; absent: an empty
 * list) of the JSON document `text` (file `file`, for messages). Every
 * problem goes to `diags` (may be NULL) as "FILE:LINE:
 * expectations[2].tool_called: problem"; the first also to `err`
 * (VAGENT_EINVAL; VAGENT_EFORMAT when `text` is not JSON). Regular
 * expressions are compiled here, metric and event names checked.
 * On success *out is new (transfer full); on error NULL.
 */
vagent_status vagent_expectations_parse(const char *text, size_t len,
					const char *file, const char *key,
					struct vagent_expectations **out,
					struct vagent_diags *diags,
					struct vagent_error *err);
size_t vagent_expectations_count(const struct vagent_expectations *x);
/* Whether any expectation needs the recording (to transcribe the agent's
 * audio or scan the caller channel). */
bool vagent_expectations_need_recording(const struct vagent_expectations *x);
/* NULL is a no-op. */
void vagent_expectations_free(struct vagent_expectations *x);

/* What a finished call left behind. Everything is borrowed. */
struct vagent_call_evidence {
	const char *name;                     /* the call, for messages */
	const char *trace; size_t trace_len;  /* JSON lines (docs/trace.md) */
	const struct vagent_session_result *result;   /* or NULL */
	const struct vagent_audio *recording; /* stereo: caller left, agent
					       * right, sample 0 at t = 0; or NULL */
	const struct vagent_agent *agent;     /* or NULL (disclosure phrases) */
	const char *const *texts; size_t n_texts;  /* other outputs about the
					       * call (JSON, HTML, logs), scanned
					       * by no_card_number */
	/* Recogniser for "heard" and the caller channel (NULL: the
	 * default pocketsphinx config at the recording's rate). */
	const struct vagent_sphinx_config *sphinx;
};

struct vagent_expectation_outcomes {
	struct vagent_expectation_result *results;  /* in file order; name,
						     * passed, detail (owned) */
	size_t n;
	size_t failed;
};

/*
 * Evaluate every expectation of `x` on the call `ev`. *out (transfer
 * full; vagent_expectation_outcomes_free) holds one result per
 * expectation. Errors: VAGENT_EFORMAT when the trace does not parse (err
 * names the call and line); VAGENT_ENOMEM (*out NULL). A recogniser that
 * cannot load (VAGENT_ENOENT/EPROVIDER) is returned too, but *out is
 * still filled: the expectations it kept from being evaluated failed with
 * a detail saying so.
 */
vagent_status vagent_expectations_eval(const struct vagent_expectations *x,
				       const struct vagent_call_evidence *ev,
				       struct vagent_expectation_outcomes **out,
				       struct vagent_error *err);
/* NULL is a no-op. */
void vagent_expectation_outcomes_free(struct vagent_expectation_outcomes *o);

/*
 * SLO expressions (DESIGN.md §6): METRIC.STAT OP VALUE[ms|s] with METRIC
 * a metric of vagent_metric, STAT p50|p90|p95|p99 (any pN, 0 < N <= 100),
 * min, max or mean, OP < <= > >=, and a value in ms (the default unit) or
 * s; or `wer OP VALUE[%]` (a fraction, or a percentage with %). Spaces
 * around the parts are allowed: "e2e.p95 <= 1 s".
 */
typedef enum vagent_slo_op {
	VAGENT_SLO_LT,
	VAGENT_SLO_LE,
	VAGENT_SLO_GT,
	VAGENT_SLO_GE,
} vagent_slo_op;

struct vagent_slo {
	char expr[96];              /* as written (trimmed) */
	bool is_wer;
	vagent_metric metric;       /* unless is_wer */
	char stat[16];              /* "p95", "max" (vagent_stats_get) */
	vagent_slo_op op;
	double value;               /* ms, or a fraction for wer */
};

/* Parse `expr`. VAGENT_EINVAL with "SLO \"EXPR\": problem" for anything
 * wrong (unknown metric or statistic, missing operator or value, a unit
 * the metric does not take, trailing text, longer than 95 bytes). */
vagent_status vagent_slo_parse(const char *expr, struct vagent_slo *out,
			       struct vagent_error *err);
/* "<=" etc. */
const char *vagent_slo_op_name(vagent_slo_op op);

/*
 * Evaluate `slo` on aggregated `stats` (may be NULL: no samples) and the
 * run's corpus WER (has_wer false: none). out->expr points to slo->expr;
 * out->value is in ms (a fraction for wer). A missing metric fails, and
 * `detail` (detail_len bytes, may be NULL) says so; else it reads
 * "e2e.p95 = 1210 ms > 1000 ms".
 */
void vagent_slo_eval(const struct vagent_slo *slo,
		     const struct vagent_stats *stats, bool has_wer, double wer,
		     struct vagent_slo_result *out, char *detail,
		     size_t detail_len);
/* @@EXPECT-END@@ */

/* ==== @@REPLAY@@ — recorded calls: the call folder, replay and record
 * (lib/replay; docs/call.md) ==== */
/* @@REPLAY-API@@ */

/* Who speaks a recorded turn. */
typedef enum vagent_call_speaker {
	VAGENT_SPEAKER_CALLER,
	VAGENT_SPEAKER_AGENT,
} vagent_call_speaker;

/* One turn of a recorded call: who spoke when, and what (golden). */
struct vagent_call_turn {
	vagent_call_speaker speaker;
	int64_t start_ms, end_ms;     /* on the recording's time line */
	char *text;                   /* the golden transcript, or NULL */
};

/* A tool call made in the recorded call. */
struct vagent_call_tool {
	char *name;
	char *args;                   /* JSON object (compact) */
	char *result;                 /* JSON (compact), or NULL */
	int64_t t_ms;                 /* when it started; -1: not given */
};

/*
 * A recorded call (docs/call.md): a folder with call.json and its audio
 * (one stereo file, or one file per side; any rate; PCM, mu-law, A-law
 * WAV or Ogg Opus). (transfer full: vagent_recorded_call_free)
 */
struct vagent_recorded_call {
	char *name;                   /* "name", else the folder's name */
	char *description;            /* or NULL */
	char *path;                   /* the call.json file */
	char *dir;                    /* the folder */
	char *agent_path;             /* "agent" resolved against dir, or NULL */
	int rate;                     /* "rate": the call's rate (8000 or
				       * 16000); 0: the agent's */
	struct vagent_call_turn *turns; /* in order of start */
	size_t n_turns;
	struct vagent_call_tool *tools;
	size_t n_tools;
	struct vagent_audio *caller_audio; /* mono, at the file's rate */
	struct vagent_audio *agent_audio;  /* mono, or NULL (no agent side) */
	char *text;                   /* call.json's text, NUL-terminated: */
	size_t text_len;              /* vagent_expectations_parse(text,
				       * text_len, path, "expectations", ...) */
	bool has_expectations;        /* call.json has "expectations" */
	struct vagent_expectations *expectations; /* parsed; never NULL once
				       * loaded (empty without "expectations") */
	struct vagent_scenario_service *services; /* "services": started for
				       * the replay as for a scenario */
	size_t n_services;
	/* Filled by vagent_call_replay: the run's tool calls compared with
	 * the recorded ones ("tool calls match the recording"). */
	struct vagent_expectation_result tool_check;
	char tool_detail[512];
	bool replayed;
};

/*
 * Load and validate a recorded call: `path` is its folder or its
 * call.json. Every problem goes to `diags` (may be NULL) as
 * "FILE:LINE: field: problem" and the first to `err`: VAGENT_EINVAL for
 * a bad call.json (VAGENT_EFORMAT: not JSON; VAGENT_ENOENT: no call.json),
 * audio problems with the audio file named. (transfer full)
 */
vagent_status vagent_call_load(const char *path, struct vagent_recorded_call **out,
			       struct vagent_diags *diags, struct vagent_error *err);
void vagent_recorded_call_free(struct vagent_recorded_call *c);

/* How a recorded caller is played to the agent under test. */
typedef enum vagent_replay_mode {
	VAGENT_REPLAY_TURNS,          /* each caller turn after the agent's
				       * reply, keeping the recorded gap; an
				       * overlapping turn as a barge-in at the
				       * same offset into the agent's speech */
	VAGENT_REPLAY_TIMELINE,       /* the recorded timestamps */
} vagent_replay_mode;

struct vagent_replay_options {
	struct vagent_run_options run;
	vagent_replay_mode mode;
	const char *agent_path;       /* overrides call.json's "agent" */
	int rate;                     /* the call's rate; 0: call.json's
				       * "rate", else the agent's */
};

/*
 * Replay `call` (taken over: freed with the run) against its agent: the
 * agent's stack as vagent_scenario_run builds it, and a replay caller
 * playing the recorded caller turns (resampled to the call's rate) with
 * their golden text and times as the truth, so the metrics use true
 * boundaries and the result's caller_text is the golden text. Fills
 * call->tool_check. (*out: transfer full, run->call is the call)
 */
vagent_status vagent_call_replay(struct vagent_recorded_call *call,
				 const struct vagent_replay_options *opt,
				 struct vagent_call_run **out,
				 struct vagent_error *err);

/*
 * Compare the tool calls of `trace` (tool.start: name and args) with the
 * recorded ones, in order: `out` gets name "tool calls match the
 * recording", passed, and detail (written to `detail`) naming the first
 * difference.
 */
void vagent_call_compare_tools(const struct vagent_recorded_call *call,
			       const char *trace, size_t trace_len,
			       struct vagent_expectation_result *out,
			       char *detail, size_t detail_len);

/*
 * Write a finished call (simulated or replayed) as a call folder `dir`
 * (created): call.json (turns from the trace with the golden caller text
 * and the agent's text, tool calls from the trace, the scenario's or
 * call's expectations) and call.wav, the stereo recording (caller left):
 * the run needs run options `record`.
 */
vagent_status vagent_call_record_write(const struct vagent_call_run *run,
				       const char *dir, struct vagent_error *err);

/* @@REPLAY-END@@ */

/* ==== @@REPORT@@ — run outputs: terminal summary, JUnit XML, HTML
 * report (lib/report; docs/report.md) ==== */
/* @@REPORT-API@@ */

/*
 * The run outputs, all from the same call reports as vagent_result_to_json
 * (docs/report.md). Each writes a malloc'd NUL-terminated string to *out
 * (transfer full). A call's trace is parsed and its metrics computed as
 * for the JSON result: VAGENT_EFORMAT when a trace does not parse (err
 * names the call), VAGENT_EINVAL for a NULL `out` or a NULL array with a
 * non-zero count, VAGENT_ENOMEM. Text from the reports is escaped for
 * where it goes; invalid UTF-8 becomes U+FFFD and control characters are
 * replaced, so the output is always well-formed.
 */

/* JUnit XML: one <testsuite> (name `suite`; NULL: "vagent") in a
 * <testsuites> root, with one <testcase> per call (classname "vagent",
 * name = call name, time in s of media time); a failed expectation gives
 * <failure message="first failed detail"> with every failed expectation
 * in the body; an infrastructure failure (`failure`) gives <error>;
 * <system-out> holds the call's transcript lines. */
vagent_status vagent_report_junit(const struct vagent_call_report *calls, size_t n,
				  const char *suite, char **out, struct vagent_error *err);

/* The self-contained HTML report (inline CSS and SVG, no script, no
 * network asset): a summary (calls passed, hop percentile table, WER,
 * containment rate, SLO results), then per call a timeline drawn from its
 * trace (caller and agent speech as bars, tool calls, per-turn hop
 * markers, barge-ins, fillers, escalation), its hops per turn, its turns
 * with golden and heard text and their WER alignment, its tool calls and
 * its expectations. `title` NULL: "vagent run". */
vagent_status vagent_report_html(const struct vagent_call_report *calls, size_t n,
				 const struct vagent_slo_result *slos, size_t n_slos,
				 const char *title, char **out, struct vagent_error *err);

/* The terminal summary: one line per call ("ok", "FAIL" or "ERROR" (an
 * infrastructure failure), name, duration, turns, e2e p50, WER, failed
 * expectations, end reason), the failed expectations' details under a
 * failing call, a totals line (passed, WER, containment), then the hop
 * percentile table. ANSI colour only when `colour`. */
vagent_status vagent_report_summary(const struct vagent_call_report *calls, size_t n,
				    bool colour, char **out, struct vagent_error *err);
/* @@REPORT-END@@ */

/* ==== @@VALIDATE@@ — validating files (lib/agent, lib/run, lib/replay;
 * docs/validate.md) ==== */
/* @@VALIDATE-API@@ */

/*
 * Check the agent file at `path` (docs/agent.md, docs/validate.md): every
 * problem into `diags`, in file order, "FILE:LINE: field: problem" each
 * (a file that cannot be read or is not JSON: one line). VAGENT_OK when
 * none, else the first problem's status (err: the first line). Warnings
 * are not problems.
 */
vagent_status vagent_agent_validate(const char *path, struct vagent_diags *diags,
				    struct vagent_error *err);
/*
 * vagent_agent_mock_tools with every problem of the mocks into `diags`
 * (in the scenario's file order, "NAME:LINE: tools.TOOL.field: problem");
 * err: the first of them.
 */
vagent_status vagent_agent_mock_tools_diags(struct vagent_agent *a,
					    const char *text, size_t len,
					    const char *name, const char *key,
					    struct vagent_diags *diags,
					    struct vagent_error *err);
/* @@VALIDATE-END@@ */

/* ==== @@BENCH@@ — `vagent bench` and `vagent report merge` (cmd/bench.c,
 * lib/report; docs/bench.md) ==== */
/* @@BENCH-API@@ */

/* An aggregated bench result: one process's runs, or shards merged. */
struct vagent_bench_summary {
	const char *title;            /* "vagent bench" */
	const char *const *inputs;    /* scenario files and call folders */
	size_t n_inputs;
	const char *clock;            /* "virtual" or "real" */
	int runs;                     /* --runs per input */
	int concurrency;              /* --concurrency */
	int shard_k, shard_n;         /* this shard (1-based); 0/0: all */
	size_t n_parts;               /* shard results merged (0: none) */
	size_t calls;                 /* calls run */
	size_t calls_failed;          /* calls that could not run (infra) */
	size_t turns;                 /* caller turns over the calls that ran
				       * (failed calls count in no statistic) */
	size_t contained;             /* calls that ran and ended without an
				       * escalation (the rate's denominator:
				       * calls - calls_failed) */
	bool has_wer;
	double wer;                   /* corpus WER over all calls */
	size_t wer_errors, wer_ref_words;
	double wall_s;                /* elapsed wall time */
	const struct vagent_stats *stats;
	const struct vagent_slo_result *slos;
	const char *const *slo_details; /* per SLO, as vagent_slo_eval wrote */
	size_t n_slos;
};

/*
 * The bench page: self-contained HTML (inline CSS and SVG, no script, no
 * network asset) with the run's figures (inputs, calls, clock,
 * concurrency, shards, WER, containment), the SLO results (pass/fail,
 * measured value), a percentile bar chart per hop (p50/p90/p95/p99/max),
 * and a latency histogram per metric with samples drawn from
 * vagent_stats_buckets (log-spaced time axis). `b->title` NULL: "vagent
 * bench". Transfer full. VAGENT_EINVAL for NULL b or out.
 */
vagent_status vagent_report_bench_html(const struct vagent_bench_summary *b,
				       char **out, struct vagent_error *err);

/* The SLO expressions of a built-in profile, NULL-terminated (static):
 * "realtime" (stt_first_partial.p95<250ms, e2e.p95<1000ms,
 * barge_in_stop.p95<200ms) or "alerting" (e2e.p90<3500ms,
 * e2e.p99<5000ms, wer<=0.08); NULL for another name. */
const char *const *vagent_slo_profile(const char *name);
/* The built-in profiles' names, NULL-terminated (static). */
const char *const *vagent_slo_profile_names(void);

/* The terminal report of a bench (docs/bench.md): the figures, each SLO
 * with PASS/FAIL and its measured value, then the percentile table per
 * hop. ANSI colour only when `colour`. (transfer full) */
vagent_status vagent_report_bench_text(const struct vagent_bench_summary *b, bool colour,
				       char **out, struct vagent_error *err);

/*
 * The bench result as JSON (docs/bench.md): the figures, "summary" with
 * per-hop percentile objects in ms as the run result has them, "slo"
 * (expr, value, passed, detail), and "histograms"
 * (vagent_stats_to_json) so that shard results can be merged.
 * (transfer full)
 */
vagent_status vagent_bench_to_json(const struct vagent_bench_summary *b, char **out,
				   struct vagent_error *err);

/* A bench result read back from its JSON; `summary` points into the
 * owned fields (its slos are not read back: a merge evaluates them
 * again). (transfer full: vagent_bench_result_free) */
struct vagent_bench_result {
	struct vagent_bench_summary summary;
	char *path;                   /* where it was read from */
	char **inputs;
	char *clock;
	struct vagent_stats *stats;
	char **slo_exprs;             /* the SLOs it was checked against */
	size_t n_slo_exprs;
};

/* Parse a bench JSON; VAGENT_EFORMAT "WHERE: field: problem" for
 * anything wrong or missing (`where`: the file name). */
vagent_status vagent_bench_from_json(const char *text, size_t len, const char *where,
				     struct vagent_bench_result **out,
				     struct vagent_error *err);
void vagent_bench_result_free(struct vagent_bench_result *r);

/*
 * Merge shard result `src` into `dst`: counts, WER counts and histograms
 * added; wall time the longest. VAGENT_EINVAL naming src's file when the
 * two are not parts of the same bench (other inputs, runs, clock, shard
 * count). Which shards were merged is the caller's to check.
 */
vagent_status vagent_bench_merge(struct vagent_bench_result *dst,
				 const struct vagent_bench_result *src,
				 struct vagent_error *err);
/* @@BENCH-END@@ */

/* ==== @@DEVICE@@ — audio devices: PortAudio, WAV endpoints (lib/device;
 * docs/devices.md) ==== */
/* @@DEVICE-API@@ */
/* One PortAudio device (docs/devices.md). */
struct vagent_device_info {
	int index;                       /* PortAudio device index */
	char name[128];
	char host_api[32];               /* "ALSA", "JACK Audio Connection Kit" */
	int max_input_channels, max_output_channels;
	double default_rate;
	bool default_input, default_output;
};
/* Every device (transfer full: free()). VAGENT_EIO "audio: ..." when PortAudio cannot start. */
vagent_status vagent_devices_list(struct vagent_device_info **out, size_t *n,
				  struct vagent_error *err);

struct vagent_audio_io_config {
	const char *input;   /* NULL: the default input; "3": by index; else a name (case-insensitive
	                      * substring, must match exactly one device, or an exact match); a path
	                      * ending in .wav (any case): read from that file, paced in real time,
	                      * resampled to `rate` */
	const char *output;  /* likewise; a .wav path: written (mono, at `rate`) at close */
	int rate;            /* the call's rate (8000 or 16000): audio in and out is at this rate,
	                      * converted to/from the device's rate */
	int frame_ms;        /* 20 */
	int latency_ms;      /* suggested device latency; 0: the device's default low latency */
};
struct vagent_audio_io_config vagent_audio_io_config_default(void);

struct vagent_audio_io;
/* Open (not started). Errors name the device: VAGENT_ENOENT "input device \"X\": no such device
 * (see vagent devices)", VAGENT_EIO for PortAudio failures, VAGENT_EINVAL bad config,
 * file errors as vagent_audio_load's. */
vagent_status vagent_audio_io_open(const struct vagent_audio_io_config *cfg,
				   struct vagent_audio_io **out, struct vagent_error *err);
vagent_status vagent_audio_io_start(struct vagent_audio_io *io, struct vagent_error *err);
/* Non-blocking, any one thread (the loop thread): copy up to `max` captured mono samples at
 * `rate` into `mic` and, when `ref` is not NULL, the samples that were being played to the
 * output at the same moment (the echo reference; zeros when nothing was playing; for a WAV
 * output or separate devices, the best alignment available). Returns how many were copied. */
size_t vagent_audio_io_read(struct vagent_audio_io *io, int16_t *mic, int16_t *ref, size_t max);
/* Non-blocking: queue `n` samples at `rate` for playing; returns how many were accepted
 * (the rest did not fit in the output buffer, ~2 s). */
size_t vagent_audio_io_write(struct vagent_audio_io *io, const int16_t *samples, size_t n);
/* Samples queued for playing and not yet played (to drain before hanging up). */
size_t vagent_audio_io_pending(const struct vagent_audio_io *io);
/* True once a WAV input has been read to its end. */
bool vagent_audio_io_input_eof(const struct vagent_audio_io *io);
/* VAGENT_OK, or the failure of a device that stopped working (unplugged, server gone):
 * VAGENT_EIO with "input device \"NAME\": ..." in err. Any thread. */
vagent_status vagent_audio_io_status(const struct vagent_audio_io *io, struct vagent_error *err);
/* Whether the input and output are one full-duplex device stream (a reliable echo reference). */
bool vagent_audio_io_has_reference(const struct vagent_audio_io *io);
/* Overruns/underruns counted so far. */
void vagent_audio_io_xruns(const struct vagent_audio_io *io, size_t *in_overruns, size_t *out_underruns);
/* Stop, write a WAV output, free. NULL: no-op. */
void vagent_audio_io_free(struct vagent_audio_io *io);
/* The latencies PortAudio reports for the open device streams (0 for a WAV end), and how
 * much the echo reference is delayed to line up with the echo (full duplex: input + output
 * latency; docs/devices.md). Any pointer may be NULL. */
void vagent_audio_io_latency(const struct vagent_audio_io *io, double *input_ms,
			     double *output_ms, double *reference_delay_ms);
/* @@DEVICE-END@@ */

/* ==== @@CHAT@@ — a live call on the mic and speaker (lib/chat;
 * docs/chat.md) ==== */
/* @@CHAT-API@@ */

/*
 * The echo canceller (lib/chat/echo.c): speexdsp's MDF adaptive filter
 * removes the reference (what the speaker played) from the mic over a
 * `tail_ms` echo path (20..1000; 250 for a laptop), then, when
 * `suppress`, its preprocessor suppresses the residual echo. Frames of
 * `frame_samples` (5..100 ms) at `rate` (8000 or 16000). (transfer full)
 */
struct vagent_echo_canceller;
vagent_status vagent_echo_canceller_new(int rate, size_t frame_samples, int tail_ms,
					bool suppress,
					struct vagent_echo_canceller **out,
					struct vagent_error *err);
/* One frame: `mic` and the `ref` played at the same moment in, the mic
 * without the echo out (`out` may be `mic`). */
void vagent_echo_canceller_process(struct vagent_echo_canceller *ec, const int16_t *mic,
				   const int16_t *ref, int16_t *out);
void vagent_echo_canceller_free(struct vagent_echo_canceller *ec);

/* Where a live caller's audio comes from and goes to, when it is not a
 * vagent_audio_io (a simulated room in the echo bench, a test's fake):
 * the same semantics as vagent_audio_io_read/_write/_pending/_input_eof/
 * _status/_has_reference/_start. input_eof, status and start may be NULL. */
struct vagent_live_audio {
	void *ctx;
	size_t (*read)(void *ctx, int16_t *mic, int16_t *ref, size_t max);
	size_t (*write)(void *ctx, const int16_t *samples, size_t n);
	size_t (*pending)(void *ctx);
	bool (*input_eof)(void *ctx);
	vagent_status (*status)(void *ctx, struct vagent_error *err);
	bool has_reference;
	/* Called before the first frame is read (may be NULL). */
	vagent_status (*start)(void *ctx, struct vagent_error *err);
};

/* How a live caller keeps the agent from hearing itself (docs/chat.md). */
typedef enum vagent_echo_mode {
	VAGENT_ECHO_AUTO,          /* AEC when there is a reference, else half-duplex */
	VAGENT_ECHO_AEC,           /* echo cancellation with the played reference */
	VAGENT_ECHO_HALF_DUPLEX,   /* mic muted while the agent plays (+ hangover):
				    * no barge-in by voice */
	VAGENT_ECHO_OFF,           /* nothing (a WAV input, headphones) */
} vagent_echo_mode;

/* "auto", "aec", "half-duplex", "off". */
const char *vagent_echo_mode_name(vagent_echo_mode m);

struct vagent_live_caller_config {
	int rate;                     /* the call's rate: 8000 or 16000 */
	struct vagent_audio_io *io;   /* the devices, opened (not owned); the
				       * first frame starts them; NULL: `audio` */
	struct vagent_live_audio audio;
	vagent_echo_mode echo;        /* AUTO */
	int aec_tail_ms;              /* 250 */
	bool aec_suppress;            /* residual echo suppression; true */
	int aec_warmup_ms;            /* the filter adapts over its first seconds
				       * of echo: until it has heard this much
				       * agent audio and then removes 20 dB of
				       * the echo for a second, the mic is muted while
				       * the agent plays (as half-duplex); 2000 */
	double aec_residual_gate_db;  /* while the agent plays, a frame the filter
				       * took this much off is residual echo and
				       * is muted (a caller talking over the agent
				       * is not in the reference, so stays); 12;
				       * 0: off */
	int half_duplex_hangover_ms;  /* mic stays muted after the agent's last
				       * sound has played; 150 */
	/* The caller's speech boundaries (the trace's caller.speech_*, hence
	 * endpoint, stt_final and e2e) come from this VAD run on the mic
	 * after echo processing: give it the agent's (the session's) VAD. */
	struct vagent_vad_config vad;
	int hangup_after_ms;          /* once the input has ended (a WAV), hang
				       * up when the agent has been quiet this
				       * long and its audio has played; 3000 */
	int max_buffer_ms;            /* captured audio waiting beyond one frame;
				       * older is dropped (clock drift); 200 */
};

struct vagent_live_caller_config vagent_live_caller_config_default(void);

/*
 * A caller on live audio (lib/chat/live_caller.c, docs/chat.md): each
 * frame is the next 20 ms of the mic (silence on underrun, counted),
 * through the echo canceller or the half-duplex mute; every agent frame
 * (caller_ops.agent_audio) is written to the output. A failed device
 * ends the call: frame() returns its status (VAGENT_EIO), kept for
 * vagent_live_caller_status. VAGENT_EINVAL for a bad config. (transfer
 * full: vagent_caller_free)
 */
vagent_status vagent_live_caller_new(const struct vagent_live_caller_config *cfg,
				     struct vagent_caller **out, struct vagent_error *err);
/* Hang up at the next frame (async-signal-safe: a SIGINT handler). */
void vagent_live_caller_hangup(struct vagent_caller *c);
/* Tell `fn` every trace event of the call as the session writes it (on
 * the loop thread; `ev` valid during the call only; t in ticks). */
void vagent_live_caller_on_event(struct vagent_caller *c,
				 void (*fn)(void *arg, const struct vagent_trace_event *ev,
					    int64_t t),
				 void *arg);

struct vagent_live_caller_stats {
	vagent_echo_mode echo;        /* the mode in use (never AUTO) */
	size_t frames;                /* caller frames given */
	size_t underruns;             /* frames padded with silence */
	size_t dropped_samples;       /* captured samples dropped (late reader) */
	size_t muted_frames;          /* frames muted (half-duplex, AEC warm-up) */
	size_t output_dropped;        /* agent samples the output refused */
};
void vagent_live_caller_stats(const struct vagent_caller *c,
			      struct vagent_live_caller_stats *out);
/* VAGENT_OK, or the device failure that ended the call (err: the
 * device's one-line message, naming it). */
vagent_status vagent_live_caller_status(const struct vagent_caller *c,
					struct vagent_error *err);

/*
 * Write a live call `run` (agent, session with a recording; scenario and
 * call NULL) as a call folder `dir` (docs/call.md) with
 * vagent_call_record_write; a caller turn with no golden text gets what
 * the recogniser heard (correct it to make it golden).
 */
vagent_status vagent_chat_record_write(const struct vagent_call_run *run, const char *dir,
				       struct vagent_error *err);
/* @@CHAT-END@@ */

/* ==== @@CLOUD@@ — streaming HTTP/SSE transport and cloud LLM providers
 * (lib/net, lib/llm; docs/providers.md) ==== */
/* @@CLOUD-LLM-API@@ */

/*
 * Cloud LLM brains (lib/llm, docs/providers.md): OpenAI Chat Completions
 * (any compatible base URL: OpenAI, vLLM, llama.cpp, Ollama, Groq) and
 * Anthropic Messages, streamed over HTTP/SSE on the session's loop (give
 * the loop a worker: on a virtual clock it holds the clock while the
 * network works). The conversation (system prompt, caller turns, replies,
 * tool calls and results) is kept per brain; the agent's tools and
 * knowledge search are offered to the model as tools. The greeting is
 * said verbatim. Text streams through on_text as it arrives (the session
 * speaks it sentence by sentence); a tool call goes through on_tool_call
 * and its result starts the next request. Failures before the first
 * token are retried (connection errors, 408/409/429/5xx/529, honouring
 * retry-after up to 120 s, else backoff min(0.5 s x 2^n, 8 s) x jitter);
 * after it, and when retries run out, on_error (the session falls back).
 * Keys never appear in messages.
 */
struct vagent_llm_config {
	char name[64];                /* provider name in traces; "" : "openai"
				       * / "anthropic" */
	const char *base_url;         /* NULL: https://api.openai.com/v1,
				       * https://api.anthropic.com/v1 */
	const char *api_key;          /* NULL or "": no auth header */
	const char *api_key_env;      /* its variable's name, for messages */
	const char *model;            /* required */
	const char *system;           /* system prompt; NULL: none */
	const char *greeting;         /* said verbatim when asked to greet;
				       * NULL: the model greets */
	double temperature;           /* < 0: not sent; -1 */
	int max_tokens;               /* 0: not sent (Anthropic: 1024) */
	const struct vagent_tool_def *tools;  /* offered to the model */
	size_t n_tools;
	bool knowledge;               /* offer VAGENT_KNOWLEDGE_TOOL; false */
	int max_retries;              /* 2 */
	int connect_timeout_ms;       /* 5000 */
	int first_byte_timeout_ms;    /* per attempt; 10000 */
	int idle_timeout_ms;          /* stall mid-stream; 10000 */
	uint64_t seed;                /* backoff jitter */
};

struct vagent_llm_config vagent_llm_config_default(void);

vagent_status vagent_openai_brain_new(const struct vagent_llm_config *cfg,
				      struct vagent_brain **out,
				      struct vagent_error *err);
/* Anthropic Messages (x-api-key, anthropic-version 2023-06-01). */
vagent_status vagent_anthropic_brain_new(const struct vagent_llm_config *cfg,
					 struct vagent_brain **out,
					 struct vagent_error *err);

/* What an LLM brain used over its life (all requests, retries included). */
struct vagent_llm_usage {
	int requests;                 /* HTTP requests made */
	int retries;                  /* of which retries */
	long prompt_tokens, completion_tokens;   /* as the usage chunks said */
	int64_t first_byte_ticks;     /* the last request's time to first byte
				       * (loop ticks); -1: none */
	char finish_reason[32];       /* the last reply's ("stop", ...) */
};

/* VAGENT_EINVAL when `b` is not an LLM brain. */
vagent_status vagent_llm_brain_usage(const struct vagent_brain *b,
				     struct vagent_llm_usage *out);

/* @@CLOUD-LLM-END@@ */

/* ==== @@CLOUD-STT@@ — WebSocket transport and cloud STT providers
 * (lib/net, lib/cloudstt; docs/providers.md) ==== */
/* @@CLOUD-STT-API@@ */

/*
 * Deepgram live STT (/v1/listen over WebSocket; docs/providers.md
 * "Deepgram (STT)"). Every caller frame is streamed (mixed to mono, as
 * linear16 or mulaw at the call's rate); interim results become partials,
 * is_final segments are joined and sent as one final at speech_final,
 * UtteranceEnd or the answer to the Finalize sent at the session's turn
 * end; CloseStream at stop. A refused connection or a connection lost
 * mid-call is on_error (the session falls back to its next STT). Network
 * on a service thread, callbacks on the loop thread. Real-clock loops
 * only: on a virtual clock (which does not wait for the network,
 * docs/loop.md) the first frame is an on_error, so the session falls back.
 * The key is sent in the Authorization header and appears in no message.
 */
struct vagent_deepgram_config {
	char name[64];                /* "deepgram" */
	const char *url;              /* "wss://api.deepgram.com/v1/listen";
				       * its query string, if any, is kept */
	const char *api_key;          /* required ("Authorization: Token KEY") */
	const char *model;            /* "nova-2" */
	const char *language;         /* NULL: the server's default */
	int rate;                     /* the call's rate: 8000 or 16000 */
	const char *encoding;         /* "linear16" (default) or "mulaw" */
	bool interim_results;         /* true */
	int endpointing_ms;           /* 300; 0: endpointing=false */
	int utterance_end_ms;         /* 1000; 0: off (needs interim_results) */
	bool punctuate;               /* false */
	bool smart_format;            /* false */
	int keepalive_ms;             /* KeepAlive after this long without
				       * audio; 4000 */
	int connect_timeout_ms;       /* 5000 */
};

/* The defaults above (rate 8000). */
struct vagent_deepgram_config vagent_deepgram_config_default(void);

/* A Deepgram recogniser for a session's STT slot (transfer full; free with
 * vagent_stt_free). Connects on the first frame, on the session's loop.
 * VAGENT_EINVAL for a bad config (no key, a URL that is not ws:// or
 * wss://, an unknown encoding, a bad rate), messages name the provider. */
vagent_status vagent_deepgram_stt_new(const struct vagent_deepgram_config *cfg,
				      struct vagent_stt **out,
				      struct vagent_error *err);

/* What one Deepgram provider saw, for tests and benchmarks. Times are
 * wall milliseconds from the first frame; -1: not yet. */
struct vagent_deepgram_stats {
	int64_t connect_ms;           /* the upgrade answered (101) */
	int64_t first_result_ms;      /* the first Results message */
	int results, finals, partials;
	int finalize_sent, keepalive_sent;
	size_t audio_bytes;           /* sent */
};
/* `stt` must come from vagent_deepgram_stt_new. */
void vagent_deepgram_stt_stats(const struct vagent_stt *stt,
			       struct vagent_deepgram_stats *out);

/*
 * OpenAI-compatible transcription, per turn (POST {base_url}/audio/
 * transcriptions, multipart, response_format json; docs/providers.md
 * "OpenAI transcription (STT)"). The caller's audio from the turn's first
 * VAD speech start (with preroll_ms before it) to the session's turn end
 * is sent as one 16-bit mono WAV at the call's rate; the answer's "text"
 * is the turn's final (no confidence, no partials). The request runs on
 * one of the loop's worker threads (the loop must have workers; on a
 * virtual clock the loop waits for it). 429 (not insufficient_quota) and
 * 5xx are retried max_retries times, honouring retry-after(-ms) up to 2 s.
 * Errors (HTTP status, timeout, a body without "text") are on_error,
 * naming the provider, never the key.
 */
struct vagent_openai_stt_config {
	char name[64];                /* "openai" */
	const char *base_url;         /* "https://api.openai.com/v1" (any
				       * compatible server) */
	const char *api_key;          /* required ("Authorization: Bearer KEY") */
	const char *model;            /* "gpt-4o-mini-transcribe" */
	const char *language;         /* ISO-639-1 or NULL */
	const char *prompt;           /* vocabulary/style hint or NULL */
	int rate;                     /* the call's rate: 8000 or 16000 */
	int timeout_ms;               /* per request; 10000 */
	int preroll_ms;               /* audio kept before the VAD onset; 300 */
	int max_retries;              /* 1 */
};

/* The defaults above (rate 8000). */
struct vagent_openai_stt_config vagent_openai_stt_config_default(void);

/* (transfer full; free with vagent_stt_free). VAGENT_EINVAL for a bad
 * config (no key or model, a base URL that is not http(s) or carries a
 * query or credentials, a bad rate). */
vagent_status vagent_openai_stt_new(const struct vagent_openai_stt_config *cfg,
				    struct vagent_stt **out,
				    struct vagent_error *err);

struct vagent_openai_stt_stats {
	int requests;                 /* transcriptions started */
	int finals;                   /* answered */
};
/* `stt` must come from vagent_openai_stt_new. */
void vagent_openai_stt_stats(const struct vagent_stt *stt,
			     struct vagent_openai_stt_stats *out);

/* @@CLOUD-STT-END@@ */

/* ==== @@CLOUD-TTS@@ — cloud TTS providers (lib/cloudtts;
 * docs/providers.md) ==== */
/* @@ELEVENLABS-API@@ */

/*
 * ElevenLabs text to speech (lib/cloudtts/elevenlabs.c; docs/providers.md
 * "ElevenLabs (TTS)"): one sentence per speak(), over the stream-input
 * WebSocket (default: one socket per sentence, the next one opened ahead
 * of time) or HTTP streaming (POST .../stream). Audio comes back as
 * ulaw_8000 for an 8 kHz call and pcm_16000 for a 16 kHz one and is handed
 * over as int16 at the call's rate.
 */
struct vagent_elevenlabs_config {
	char name[64];                /* provider name in traces: "elevenlabs" */
	const char *base_url;         /* http(s)://host[:port][/prefix], no query
				       * or credentials; "https://api.elevenlabs.io".
				       * The WebSocket URL is ws(s)://the same host */
	const char *api_key;          /* required; sent as xi-api-key only */
	const char *api_key_env;      /* named in auth errors; "ELEVENLABS_API_KEY" */
	const char *voice_id;         /* "21m00Tcm4TlvDq8ikWAM" */
	const char *model_id;         /* "eleven_flash_v2_5" */
	const char *transport;        /* "websocket" (default) or "http" */
	int rate;                     /* the call's rate: 8000 or 16000 */
	const char *output_format;    /* NULL: ulaw_8000 / pcm_16000 by rate;
				       * else pcm_RATE or ulaw_8000 at the rate */
	double speed;                 /* voice_settings.speed (0.25..4 accepted;
				       * ElevenLabs takes 0.7..1.2); 0: not sent */
	bool prewarm;                 /* websocket: keep the next sentence's
				       * socket open ahead of time; true */
	int connect_timeout_ms;       /* 5000 */
	int first_byte_timeout_ms;    /* text sent, no audio yet: 10000 */
	int idle_timeout_ms;          /* audio stalls mid-sentence: 5000 */
	int max_retries;              /* 429/5xx/no connection before the first
				       * audio byte; 2 */
	uint64_t seed;                /* backoff jitter */
};

/* The defaults above (rate 8000). */
struct vagent_elevenlabs_config vagent_elevenlabs_tts_config_default(void);

/* A TTS provider (transfer full; free with vagent_tts_free). VAGENT_EINVAL
 * for a bad config (no key, a base URL that is not http(s) or carries a
 * query or credentials, a voice or model id with characters other than
 * letters, digits, "-_.", an unknown transport, a rate other than 8000 or
 * 16000, an output_format that does not match the rate). Messages name
 * the provider, never the key. Loop thread. */
vagent_status vagent_elevenlabs_tts_new(const struct vagent_elevenlabs_config *cfg,
					struct vagent_tts **out,
					struct vagent_error *err);

struct vagent_elevenlabs_stats {
	int requests;                 /* sentences asked for (speak) */
	int attempts;                 /* sockets used / POSTs sent for them,
				       * retries included */
	int retries;
	int sockets_opened;           /* WebSocket connections started, spares
				       * included */
	int cancels;                  /* sentences cancelled in flight */
	int done;                     /* sentences completed */
	int errors;                   /* on_error calls */
	int64_t first_byte_ms;        /* the last sentence: wall ms from its text
				       * leaving to its first audio; -1 none */
	int64_t audio_samples;        /* handed over, all sentences */
};
/* `tts` must come from vagent_elevenlabs_tts_new. */
void vagent_elevenlabs_tts_stats(const struct vagent_tts *tts,
				 struct vagent_elevenlabs_stats *out);

/* @@ELEVENLABS-END@@ */

/* @@CARTESIA-OPENAI-TTS-API@@ */

/*
 * OpenAI speech (POST {base}/audio/speech, response_format "pcm": 24 kHz
 * s16le mono, streamed) as a `struct vagent_tts`: one request per
 * sentence over lib/net/http_stream.c on the session's loop, the body
 * resampled to the call's rate as it arrives. 429 (not quota) and 5xx are
 * retried before the first byte, honouring retry-after; 401/403 are
 * VAGENT_EAUTH, other HTTP errors VAGENT_EPROVIDER with the server's
 * error.message; a timeout or a cut body is an on_error. Works on the
 * virtual clock when the loop has a worker (http_stream holds the clock).
 * Messages and traces name it "openai-tts"; the key is never in them.
 * docs/providers.md "OpenAI speech (TTS)".
 */
struct vagent_openai_tts_config {
	char name[64];                /* "openai-tts" */
	const char *base_url;         /* "https://api.openai.com/v1" (any
				       * compatible server; no query or
				       * credentials) */
	const char *api_key;          /* sent as Bearer; required */
	const char *api_key_env;      /* named by the 401 message;
				       * "OPENAI_API_KEY" */
	const char *model;            /* "gpt-4o-mini-tts" */
	const char *voice;            /* "alloy" */
	const char *instructions;     /* NULL: not sent */
	double speed;                 /* 0: not sent; else 0.25..4 */
	int connect_timeout_ms;       /* 10000 */
	int first_byte_timeout_ms;    /* per attempt; 10000 */
	int idle_timeout_ms;          /* between body bytes; 5000 */
	int max_retries;              /* 0..5; 2 */
};

/* The defaults above. */
struct vagent_openai_tts_config vagent_openai_tts_config_default(void);

/* (transfer full; free with vagent_tts_free). speak() accepts rates 8000
 * and 16000 (and 24000, unresampled). VAGENT_EINVAL for a bad config. */
vagent_status vagent_openai_tts_new(const struct vagent_openai_tts_config *cfg,
				    struct vagent_tts **out,
				    struct vagent_error *err);

struct vagent_openai_tts_stats {
	int requests;                 /* HTTP requests started (retries too) */
	int retries;
	int sentences;                /* speak() calls accepted */
	int done;                     /* sentences finished (on_done) */
	int cancelled;                /* cancel() of a sentence in flight */
	long bytes;                   /* 24 kHz PCM bytes received */
	long samples;                 /* samples handed to on_audio */
};
/* `tts` must come from vagent_openai_tts_new. */
void vagent_openai_tts_stats(const struct vagent_tts *tts,
			     struct vagent_openai_tts_stats *out);

/*
 * Cartesia TTS over its WebSocket (wss://api.cartesia.ai/tts/websocket)
 * as a `struct vagent_tts`: one socket per call (opened at the first
 * sentence, reopened lazily after the server closes an idle one), one
 * generation request per sentence with its own context_id and raw
 * output at the call's rate ("chunk" messages: base64 audio -> on_audio;
 * "done" -> on_done; "error" -> on_error, VAGENT_EAUTH for 401/403 else
 * VAGENT_EPROVIDER). cancel sends {"context_id":..,"cancel":true} and
 * drops that context's late chunks. Auth: both "X-API-Key" and
 * "Authorization: Bearer" (the notes' advice), plus "Cartesia-Version".
 * On a virtual clock a worker job holds the clock while a sentence is in
 * flight (the loop needs a worker, else speak() fails with a message
 * saying so and the session falls back). docs/providers.md "Cartesia
 * (TTS)".
 */
struct vagent_cartesia_config {
	char name[64];                /* "cartesia" */
	const char *url;              /* "wss://api.cartesia.ai/tts/websocket" */
	const char *api_key;          /* required; never in a message */
	const char *api_key_env;      /* named by the 401 message;
				       * "CARTESIA_API_KEY" */
	const char *version;          /* Cartesia-Version: "2026-03-01" */
	const char *model_id;         /* "sonic-2" */
	const char *voice;            /* the voice id; required */
	const char *language;         /* "en"; NULL: not sent */
	double speed;                 /* 0: not sent; else 0.25..4 */
	bool mulaw;                   /* at 8000 Hz ask for pcm_mulaw 8000
				       * (decoded here); else pcm_s16le */
	int connect_timeout_ms;       /* 10000 */
	int idle_timeout_ms;          /* a sentence in flight hears nothing
				       * this long: on_error; 5000 */
};

struct vagent_cartesia_config vagent_cartesia_config_default(void);

/* (transfer full; free with vagent_tts_free). VAGENT_EINVAL for a bad
 * config (no key or voice, a URL that is not ws(s)://). */
vagent_status vagent_cartesia_tts_new(const struct vagent_cartesia_config *cfg,
				      struct vagent_tts **out,
				      struct vagent_error *err);

struct vagent_cartesia_stats {
	int connections;              /* sockets opened (attempts) */
	int requests;                 /* generation requests sent */
	int cancels;                  /* cancel messages sent */
	int chunks;                   /* chunk messages played */
	int dropped;                  /* chunks of cancelled or old contexts */
	long samples;                 /* samples handed to on_audio */
};
/* `tts` must come from vagent_cartesia_tts_new. */
void vagent_cartesia_tts_stats(const struct vagent_tts *tts,
			       struct vagent_cartesia_stats *out);

/* @@CARTESIA-OPENAI-TTS-END@@ */

/* ==== @@DOCTOR@@ — `vagent doctor` (docs/doctor.md) ==== */
/* @@DOCTOR-API@@ */

/*
 * `vagent doctor` (lib/doctor, docs/doctor.md): is the embedded stack
 * complete (pocketsphinx model, flite voices, the libraries, PortAudio),
 * and is each cloud provider configured (its key variable set) and
 * reachable with that key (one cheap authenticated GET per provider, all
 * at once, with a timeout)? Keys are never put into a check: not their
 * value, a prefix or their length.
 */
enum vagent_doctor_verdict {
	VAGENT_DOCTOR_OK,             /* works */
	VAGENT_DOCTOR_NOTE,           /* worth knowing, not a failure: no audio
				       * device, a provider with no key that
				       * no agent file uses, --offline */
	VAGENT_DOCTOR_FAIL,           /* a required part missing, a provider in
				       * use unconfigured, unreachable or its
				       * key rejected: exit 3 */
};

/* What probing a provider found. */
enum vagent_doctor_probe {
	VAGENT_DOCTOR_NOT_PROBED,     /* no key, --offline, not a cloud check */
	VAGENT_DOCTOR_REACHABLE,      /* an HTTP answer that is not an auth or
				       * server error (2xx, 429, other 4xx) */
	VAGENT_DOCTOR_KEY_REJECTED,   /* HTTP 401 or 403 */
	VAGENT_DOCTOR_SERVER_ERROR,   /* HTTP 5xx */
	VAGENT_DOCTOR_UNREACHABLE,    /* DNS, connect, TLS, protocol error */
	VAGENT_DOCTOR_TIMEOUT,        /* no answer within the timeout */
};

struct vagent_doctor_check {
	char group[16];               /* "embedded" or "provider" */
	char name[32];                /* "pocketsphinx", "flite", "libcurl", ...;
				       * providers: "openai", "anthropic",
				       * "deepgram", "elevenlabs", "cartesia",
				       * or an embedded one an agent uses */
	char slot[32];                /* providers: "stt", "brain", "tts",
				       * "stt.fallback", ...; without an agent
				       * file the slots it serves ("brain/stt/tts") */
	char agent[128];              /* the agent file (as given); "" */
	bool required;                /* a problem here fails the run */
	enum vagent_doctor_verdict verdict;
	char detail[512];             /* one line: what was found */
	/* cloud providers ("" / -1 / 0 otherwise) */
	char key_env[64];             /* "OPENAI_API_KEY"; "": no key (a
				       * local server) */
	int key_set;                  /* 1 set, 0 unset or empty, -1 no key */
	char url[256];                /* the probe's URL (no credentials, no
				       * query) */
	enum vagent_doctor_probe probe;
	int http_status;              /* 0: no HTTP answer */
	double latency_ms;            /* request to first byte of the answer;
				       * -1: not probed or no answer */
};

struct vagent_doctor_report {
	struct vagent_doctor_check *checks;
	size_t n;
};

struct vagent_doctor_options {
	int timeout_ms;               /* per probe, 1..600000; 5000 */
	bool offline;                 /* no network probes */
};

/* The defaults above. */
struct vagent_doctor_options vagent_doctor_options_default(void);

/*
 * Run every check (transfer full: free with vagent_doctor_report_free).
 * With agents (n_agents > 0), each provider each agent uses in each slot
 * (stt, brain, tts and their fallbacks) is checked, and a key they need
 * that is not set is a failure; without, every cloud provider vagent
 * knows with its default key variable (OPENAI_BASE_URL and
 * ANTHROPIC_BASE_URL, as the providers' SDKs read them, change those two
 * probes' base URLs). Embedded parts are required when no agent is given
 * or an agent uses them. Probes run concurrently; the call returns within
 * about opts->timeout_ms of starting them. VAGENT_EINVAL for bad options,
 * VAGENT_ENOMEM, VAGENT_EIO when libcurl cannot start; a failed check is
 * not an error (vagent_doctor_exit_code).
 */
vagent_status vagent_doctor_run(const struct vagent_agent *const *agents,
				size_t n_agents,
				const struct vagent_doctor_options *opts,
				struct vagent_doctor_report **out,
				struct vagent_error *err);
/* NULL is a no-op. */
void vagent_doctor_report_free(struct vagent_doctor_report *r);
/* 3 when a check failed, else 0. */
int vagent_doctor_exit_code(const struct vagent_doctor_report *r);
/* "ok", "note", "fail" / "not_probed", "reachable", "key_rejected",
 * "server_error", "unreachable", "timeout". */
const char *vagent_doctor_verdict_name(enum vagent_doctor_verdict v);
const char *vagent_doctor_probe_name(enum vagent_doctor_probe p);
/*
 * The report as a terminal table, one line per check and a summary line
 * (colour: ANSI colours for the verdicts), or as JSON (docs/doctor.md has
 * the schema). *out is malloc'd (transfer full). VAGENT_ENOMEM.
 */
vagent_status vagent_doctor_report_text(const struct vagent_doctor_report *r,
					bool colour, char **out,
					struct vagent_error *err);
vagent_status vagent_doctor_report_json(const struct vagent_doctor_report *r,
					char **out, struct vagent_error *err);
/* @@DOCTOR-END@@ */

/* ==== @@CASSETTE@@ — recording and replaying provider exchanges
 * (lib/net; docs/cassettes.md) ==== */
/* @@CASSETTE-API@@ */

/*
 * A cassette: every provider exchange of one call (HTTP requests with
 * their streamed responses, WebSocket connections with their messages,
 * each with its timing) recorded into DIR/<call>/cassette.jsonl, or
 * played back from it with no network (docs/cassettes.md). The
 * transports (lib/net) find it on the loop the providers run on, so
 * every provider built on them records and replays unchanged.
 */
struct vagent_cassette;

typedef enum vagent_cassette_mode {
	VAGENT_CASSETTE_RECORD,       /* create DIR/<call>/, write the file */
	VAGENT_CASSETTE_REPLAY,       /* read DIR/<call>/cassette.jsonl */
} vagent_cassette_mode;

/*
 * Open call `call`'s cassette under `dir` (transfer full: unref). Replay:
 * VAGENT_ENOENT for a missing dir or file (the path named), VAGENT_EFORMAT
 * for a corrupt file ("FILE:LINE: problem"). Record: VAGENT_EIO when the
 * directory or file cannot be written.
 */
vagent_status vagent_cassette_open(const char *dir, const char *call,
				   vagent_cassette_mode mode,
				   struct vagent_cassette **out,
				   struct vagent_error *err);
/* Drop a reference (the loops that carry it hold their own); NULL is a
 * no-op. The file is complete once the providers have stopped. */
void vagent_cassette_unref(struct vagent_cassette *c);
/* Every loop created on the calling thread from now on carries `c` (a
 * reference of its own), until vagent_cassette_bind(NULL). */
void vagent_cassette_bind(struct vagent_cassette *c);
/* The cassette file. */
const char *vagent_cassette_path(const struct vagent_cassette *c);
/* Replay: the first miss ("cassette miss: PROVIDER METHOD PATH (request
 * N of call NAME): why"), or NULL. */
const char *vagent_cassette_miss(const struct vagent_cassette *c);
/* Record: the first failure to record (a write error), or NULL. */
const char *vagent_cassette_failure(const struct vagent_cassette *c);
/* Exchanges written (record) or in the file (replay). */
size_t vagent_cassette_exchanges(const struct vagent_cassette *c);
/* Replay: recorded exchanges no request used (so far). */
size_t vagent_cassette_unused(struct vagent_cassette *c);

/* The cassette of a call run with record_providers or replay_providers
 * (transfer none), or NULL. */
struct vagent_cassette *vagent_call_run_cassette(const struct vagent_call_run *r);
/* @@CASSETTE-END@@ */

#ifdef __cplusplus
}
#endif
#endif /* VAGENT_H */
