/*
 * check_audio.c — media time, frames, the audio buffer, and loading/saving
 * files in every supported format, including broken ones.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vagent.h"
#include "support/harness.h"

/* A mono buffer whose samples are exact int16 values: a 440 Hz sine at
 * half scale plus the extreme values, so round trips can be bit-exact. */
static struct vagent_audio *test_signal(int rate, size_t frames)
{
	struct vagent_audio *a = vagent_audio_new(rate, 1, frames);

	ck_assert_ptr_nonnull(a);
	for (size_t i = 0; i < frames; i++) {
		double v = 0.5 * sin(2 * M_PI * 440.0 * (double)i / rate);
		a->samples[i] = (float)lrint(v * 32767) / 32768.0f;
	}
	a->samples[0] = -1.0f;               /* -32768 */
	a->samples[1] = 32767.0f / 32768.0f; /* +32767 */
	a->samples[2] = -1.0f / 32768.0f;
	return a;
}

static struct vagent_audio *load_ok(const char *path, vagent_channel_select sel)
{
	struct vagent_audio *a = NULL;
	struct vagent_error err;
	vagent_status st = vagent_audio_load(path, sel, &a, &err);

	ck_assert_msg(st == VAGENT_OK, "load %s: %s", path, err.message);
	ck_assert_ptr_nonnull(a);
	return a;
}

static void save_ok(const struct vagent_audio *a, const char *path,
		    vagent_container c, vagent_encoding e)
{
	struct vagent_audio_save_opts o = vagent_audio_save_opts_default();
	struct vagent_error err;
	vagent_status st;

	o.container = c;
	o.encoding = e;
	st = vagent_audio_save(a, path, &o, &err);
	ck_assert_msg(st == VAGENT_OK, "save %s: %s", path, err.message);
}

/* ---- media time and frames */

START_TEST(test_ticks_are_exact_for_all_rates)
{
	static const int rates[] = { 8000, 11025, 12000, 16000, 22050, 24000,
				     32000, 44100, 48000, 96000 };

	ck_assert_int_eq(VAGENT_TICKS_PER_MS * 1000, VAGENT_TICKS_PER_SEC);
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		int r = rates[i];
		ck_assert_int_eq(VAGENT_TICKS_PER_SEC % r, 0);
		/* One second of samples is exactly one second. */
		ck_assert_int_eq(vagent_ticks_from_samples(r, r), VAGENT_TICKS_PER_SEC);
		/* Sample k of an hour-long stream round-trips. */
		int64_t k = (int64_t)r * 3600 + 7;
		ck_assert_int_eq(vagent_ticks_to_samples(vagent_ticks_from_samples(k, r), r), k);
		/* 20 ms worth of samples is exactly 20 ms, and back (11.025 kHz
		 * has no whole number of samples in 20 ms). */
		size_t n = vagent_frame_samples_for(r, 20);
		if (r == 11025) {
			ck_assert_uint_eq(n, 220);
			continue;
		}
		ck_assert_int_eq(vagent_ticks_from_samples((int64_t)n, r),
				 vagent_ticks_from_ms(20));
		ck_assert_int_eq(vagent_ticks_to_samples(vagent_ticks_from_ms(20), r), (int64_t)n);
	}
	ck_assert_uint_eq(vagent_frame_samples_for(22050, 20), 441);
	ck_assert_uint_eq(vagent_frame_samples_for(8000, 20), 160);
	ck_assert_uint_eq(vagent_frame_samples_for(48000, 20), 960);
	/* One sample at 22.05 kHz is 32000 ticks: no rounding anywhere. */
	ck_assert_int_eq(vagent_ticks_from_samples(1, 22050), 32000);
	ck_assert_int_eq(vagent_ticks_to_ms(vagent_ticks_from_ms(1234)), 1234);
	ck_assert_int_eq(vagent_ticks_to_us(vagent_ticks_from_ms(3)), 3000);
	ck_assert_int_eq(vagent_ticks_to_us(vagent_ticks_from_samples(1, 8000)), 125);
	ck_assert_int_eq(vagent_ticks_to_us(vagent_ticks_from_samples(1, 22050)), 45);
	ck_assert_int_eq(vagent_ticks_to_us(-1), -1);
	/* Coarser units floor, also below zero. */
	ck_assert_int_eq(vagent_ticks_to_ms(VAGENT_TICKS_PER_MS - 1), 0);
	ck_assert_int_eq(vagent_ticks_to_ms(-1), -1);
	ck_assert_int_eq(vagent_ticks_to_samples(-1, 8000), -1);
	/* A rate that does not divide the tick rate still floors sensibly. */
	ck_assert_int_eq(vagent_ticks_from_samples(7, 7), VAGENT_TICKS_PER_SEC);
	ck_assert_int_eq(vagent_ticks_from_samples(1, 7), VAGENT_TICKS_PER_SEC / 7);
	ck_assert_int_eq(vagent_ticks_from_samples(1, 0), 0);
}
END_TEST

START_TEST(test_frame_init)
{
	struct vagent_frame f;

	ck_assert_int_eq(vagent_frame_init_20ms(&f, 22050, 1, 5), VAGENT_OK);
	ck_assert_uint_eq(f.n, 441);
	ck_assert_int_eq(f.rate, 22050);
	ck_assert_int_eq(f.channels, 1);
	ck_assert_int_eq(f.pts, 5);
	ck_assert_int_eq(vagent_frame_duration(&f), 20 * VAGENT_TICKS_PER_MS);
	ck_assert_int_eq(vagent_frame_end(&f), 5 + 20 * VAGENT_TICKS_PER_MS);
	for (size_t i = 0; i < f.n; i++)
		ck_assert_int_eq(f.samples[i], 0);
	/* 20 ms of 48 kHz stereo is the capacity. */
	ck_assert_int_eq(vagent_frame_init_20ms(&f, 48000, 2, 0), VAGENT_OK);
	ck_assert_uint_eq(f.n, 960);
	ck_assert_int_eq(vagent_frame_init(&f, 48000, 2, 961, 0), VAGENT_EINVAL);
	ck_assert_uint_eq(f.n, 0);
	ck_assert_int_eq(vagent_frame_init(&f, 8000, 3, 160, 0), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_frame_init(&f, 8000, 0, 160, 0), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_frame_init(&f, 0, 1, 160, 0), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_frame_init(&f, 8000, 1, 0, 0), VAGENT_OK);
}
END_TEST

START_TEST(test_buffer_frames_round_trip)
{
	struct vagent_audio *a = test_signal(16000, 16000 + 100), *b;
	struct vagent_frame f;
	size_t off = 0;
	int nframes = 0;

	b = vagent_audio_new(16000, 1, 0);
	ck_assert_ptr_nonnull(b);
	for (;;) {
		vagent_status st = vagent_audio_get_frame(a, off, 320, &f);
		if (st == VAGENT_EOS)
			break;
		ck_assert_int_eq(st, VAGENT_OK);
		ck_assert_int_eq(f.pts, vagent_ticks_from_ms(20 * nframes));
		ck_assert_uint_eq(f.n, 320);
		ck_assert_int_eq(vagent_audio_append_frame(b, &f), VAGENT_OK);
		off += f.n;
		nframes++;
	}
	ck_assert_int_eq(nframes, 51);
	ck_assert_uint_eq(f.n, 0);
	/* The last frame is padded with silence; everything before is exact. */
	ck_assert_uint_eq(b->frames, 51 * 320);
	ck_assert_int_eq(memcmp(a->samples, b->samples, a->frames * sizeof(float)), 0);
	for (size_t i = a->frames; i < b->frames; i++)
		ck_assert(b->samples[i] == 0.0f);
	/* Frames of another rate are refused. */
	vagent_frame_init_20ms(&f, 8000, 1, 0);
	ck_assert_int_eq(vagent_audio_append_frame(b, &f), VAGENT_EINVAL);
	ck_assert_double_eq_tol(vagent_audio_duration(a), 1.00625, 1e-9);
	vagent_audio_free(a);
	vagent_audio_free(b);
	vagent_audio_free(NULL);
}
END_TEST

START_TEST(test_float_to_int16_rounds_and_clips)
{
	struct vagent_audio *a = vagent_audio_new(8000, 1, 6);
	struct vagent_frame f;

	a->samples[0] = 1.5f;
	a->samples[1] = -1.5f;
	a->samples[2] = 0.4f / 32768;
	a->samples[3] = 0.6f / 32768;
	a->samples[4] = -0.6f / 32768;
	a->samples[5] = NAN;
	ck_assert_int_eq(vagent_audio_get_frame(a, 0, 6, &f), VAGENT_OK);
	ck_assert_int_eq(f.samples[0], 32767);
	ck_assert_int_eq(f.samples[1], -32768);
	ck_assert_int_eq(f.samples[2], 0);
	ck_assert_int_eq(f.samples[3], 1);
	ck_assert_int_eq(f.samples[4], -1);
	ck_assert_int_eq(f.samples[5], 0);
	vagent_audio_free(a);
}
END_TEST

/* ---- files */

START_TEST(test_round_trip_every_encoding)
{
	static const struct {
		vagent_container c;
		vagent_encoding e;
		const char *name;
		bool exact;
	} cases[] = {
		{ VAGENT_CONTAINER_WAV, VAGENT_ENC_PCM16, "a.wav", true },
		{ VAGENT_CONTAINER_WAV, VAGENT_ENC_PCM24, "b.wav", true },
		{ VAGENT_CONTAINER_WAV, VAGENT_ENC_PCM32, "c.wav", true },
		{ VAGENT_CONTAINER_WAV, VAGENT_ENC_FLOAT, "d.wav", true },
		{ VAGENT_CONTAINER_WAV, VAGENT_ENC_DOUBLE, "e.wav", true },
		{ VAGENT_CONTAINER_FLAC, VAGENT_ENC_PCM16, "f.flac", true },
		{ VAGENT_CONTAINER_FLAC, VAGENT_ENC_PCM24, "g.flac", true },
		{ VAGENT_CONTAINER_WAV, VAGENT_ENC_ULAW, "h.wav", false },
		{ VAGENT_CONTAINER_WAV, VAGENT_ENC_ALAW, "i.wav", false },
		{ VAGENT_CONTAINER_WAV, VAGENT_ENC_PCM_U8, "j.wav", false },
	};
	struct vagent_audio *a = test_signal(22050, 22050);

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const char *p = temp_path(cases[k].name);
		struct vagent_audio *b;

		save_ok(a, p, cases[k].c, cases[k].e);
		b = load_ok(p, VAGENT_CHANNELS_ALL);
		ck_assert_int_eq(b->rate, 22050);
		ck_assert_int_eq(b->channels, 1);
		ck_assert_uint_eq(b->frames, a->frames);
		ck_assert_int_eq(b->container, cases[k].c);
		ck_assert_msg(b->encoding == cases[k].e, "%s: read back as %s",
			      cases[k].name, vagent_encoding_name(b->encoding));
		for (size_t i = 0; i < a->frames; i++) {
			int16_t s = (int16_t)lrintf(a->samples[i] * 32768);
			float want = a->samples[i];
			if (cases[k].e == VAGENT_ENC_ULAW)
				want = vagent_ulaw_decode(vagent_ulaw_encode(s)) / 32768.0f;
			else if (cases[k].e == VAGENT_ENC_ALAW)
				want = vagent_alaw_decode(vagent_alaw_encode(s)) / 32768.0f;
			else if (cases[k].e == VAGENT_ENC_PCM_U8)
				want = (float)(lrint(s / 256.0) > 127 ? 127 : lrint(s / 256.0)) / 128.0f;
			if (cases[k].exact || cases[k].e != VAGENT_ENC_PCM_U8)
				ck_assert_msg(b->samples[i] == want, "%s sample %zu: %g != %g",
					      cases[k].name, i, (double)b->samples[i], (double)want);
			else
				ck_assert_double_eq_tol((double)b->samples[i], (double)want, 1.0 / 128 + 1e-6);
		}
		vagent_audio_free(b);
	}
	vagent_audio_free(a);
}
END_TEST

/* Find a WAV file's data chunk (test-side walk, independent of lib/). */
static const unsigned char *wav_data(const unsigned char *buf, size_t len, size_t *n)
{
	size_t pos = 12;

	while (pos + 8 <= len) {
		size_t sz = buf[pos + 4] | buf[pos + 5] << 8 | buf[pos + 6] << 16 |
			    (size_t)buf[pos + 7] << 24;
		if (!memcmp(buf + pos, "data", 4)) {
			*n = sz;
			return buf + pos + 8;
		}
		pos += 8 + sz + (sz & 1);
	}
	ck_abort_msg("no data chunk");
	return NULL;
}

START_TEST(test_g711_files_use_reference_encoder)
{
	/* All 65 536 int16 values written as μ-law / A-law WAV: the bytes are
	 * vagent's reference encoder's (libsndfile's differs on 381 / 127). */
	struct vagent_audio *a = vagent_audio_new(8000, 1, 65536);

	for (int i = 0; i < 65536; i++)
		a->samples[i] = (float)(i - 32768) / 32768.0f;
	for (int law = 0; law < 2; law++) {
		const char *p = temp_path(law ? "a.wav" : "u.wav");
		unsigned char *buf;
		const unsigned char *d;
		size_t len, n;
		struct vagent_audio *b;

		save_ok(a, p, VAGENT_CONTAINER_WAV, law ? VAGENT_ENC_ALAW : VAGENT_ENC_ULAW);
		buf = (unsigned char *)read_file(p, &len);
		ck_assert_ptr_nonnull(buf);
		/* WAVE_FORMAT_MULAW = 7, WAVE_FORMAT_ALAW = 6 */
		ck_assert_int_eq(buf[20], law ? 6 : 7);
		d = wav_data(buf, len, &n);
		ck_assert_uint_eq(n, 65536);
		for (int i = 0; i < 65536; i++) {
			int16_t s = (int16_t)(i - 32768);
			ck_assert_int_eq(d[i], law ? vagent_alaw_encode(s) : vagent_ulaw_encode(s));
		}
		b = load_ok(p, VAGENT_CHANNELS_ALL);
		ck_assert_uint_eq(b->frames, 65536);
		for (int i = 0; i < 65536; i++) {
			int16_t want = law ? vagent_alaw_decode(d[i]) : vagent_ulaw_decode(d[i]);
			ck_assert(b->samples[i] == want / 32768.0f);
		}
		vagent_audio_free(b);
		free(buf);
	}
	vagent_audio_free(a);
}
END_TEST

START_TEST(test_real_flac_matches_sox)
{
	const char *flac = top_path("fixtures/speech/librispeech/1089-134686-0000.flac");
	const char *raw = temp_path("x.raw");
	char a0[] = "sox", a2[] = "-t", a3[] = "raw", a4[] = "-e", a5[] = "signed", a6[] = "-b",
	     a7[] = "16", fl[4096], rw[4096];
	char *argv[] = { a0, fl, a2, a3, a4, a5, a6, a7, rw, NULL };
	struct vagent_audio *a = load_ok(flac, VAGENT_CHANNELS_ALL);
	struct run_result r;
	size_t len;
	char *pcm;

	snprintf(fl, sizeof(fl), "%s", flac);
	snprintf(rw, sizeof(rw), "%s", raw);
	r = run_argv(argv, NULL);
	ck_assert_msg(r.exit_code == 0, "sox: %s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(a->rate, 16000);
	ck_assert_int_eq(a->container, VAGENT_CONTAINER_FLAC);
	ck_assert_int_eq(a->encoding, VAGENT_ENC_PCM16);
	pcm = read_file(raw, &len);
	ck_assert_uint_eq(len, a->frames * 2);
	for (size_t i = 0; i < a->frames; i++) {
		int16_t s;
		memcpy(&s, pcm + 2 * i, 2);
		ck_assert(a->samples[i] == s / 32768.0f);
	}
	free(pcm);
	vagent_audio_free(a);

	/* A float WAV recording reads as float. */
	a = load_ok(top_path("fixtures/speech/ami-pyannote/tst00.wav"), VAGENT_CHANNELS_ALL);
	ck_assert_int_eq(a->encoding, VAGENT_ENC_FLOAT);
	ck_assert_int_eq(a->rate, 16000);
	ck_assert_uint_eq(a->frames, 480001);
	vagent_audio_free(a);
}
END_TEST

START_TEST(test_stereo_recording_and_channel_selection)
{
	struct vagent_audio *caller = load_ok(top_path("fixtures/speech/asterisk/demo-thanks.wav"),
					      VAGENT_CHANNELS_ALL);
	struct vagent_audio *agent = load_ok(top_path("fixtures/speech/asterisk/beep.wav"),
					     VAGENT_CHANNELS_ALL);
	struct vagent_audio *st = NULL, *l, *r, *m, *all, *bad = NULL;
	struct vagent_error err;
	const char *p = temp_path("call.wav");

	ck_assert_int_eq(caller->rate, 8000);
	ck_assert_int_eq(agent->rate, 8000);
	ck_assert_uint_gt(caller->frames, agent->frames);
	ck_assert_int_eq(vagent_audio_interleave(caller, agent, &st, &err), VAGENT_OK);
	save_ok(st, p, VAGENT_CONTAINER_DEFAULT, VAGENT_ENC_DEFAULT);

	all = load_ok(p, VAGENT_CHANNELS_ALL);
	l = load_ok(p, VAGENT_CHANNELS_LEFT);
	r = load_ok(p, VAGENT_CHANNELS_RIGHT);
	m = load_ok(p, VAGENT_CHANNELS_MIX);
	ck_assert_int_eq(all->channels, 2);
	ck_assert_int_eq(all->source_channels, 2);
	ck_assert_int_eq(l->channels, 1);
	ck_assert_int_eq(l->source_channels, 2);
	ck_assert_uint_eq(all->frames, caller->frames);
	ck_assert_int_eq(memcmp(l->samples, caller->samples, caller->frames * sizeof(float)), 0);
	ck_assert_int_eq(memcmp(r->samples, agent->samples, agent->frames * sizeof(float)), 0);
	for (size_t i = agent->frames; i < r->frames; i++)
		ck_assert(r->samples[i] == 0.0f);  /* agent padded with silence */
	for (size_t i = 0; i < m->frames; i++)
		ck_assert_double_eq_tol((double)m->samples[i],
					((double)all->samples[2 * i] + (double)all->samples[2 * i + 1]) / 2, 1e-7);

	/* Mono files have no right channel; left and mix are the file. */
	ck_assert_int_eq(vagent_audio_load(top_path("fixtures/speech/asterisk/beep.wav"),
					   VAGENT_CHANNELS_RIGHT, &bad, &err), VAGENT_EINVAL);
	ck_assert_ptr_null(bad);
	ck_assert_ptr_nonnull(strstr(err.message, "beep.wav: no right channel"));
	/* Interleaving needs equal rates and mono inputs. */
	agent->rate = 16000;
	ck_assert_int_eq(vagent_audio_interleave(caller, agent, &bad, &err), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_audio_interleave(all, caller, &bad, &err), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_channel_select_from_name("right"), VAGENT_CHANNELS_RIGHT);
	ck_assert_int_eq(vagent_channel_select_from_name("0"), VAGENT_CHANNELS_LEFT);
	ck_assert_int_eq(vagent_channel_select_from_name("mix"), VAGENT_CHANNELS_MIX);
	ck_assert_int_eq(vagent_channel_select_from_name("centre"), -1);

	vagent_audio_free(caller);
	vagent_audio_free(agent);
	vagent_audio_free(st);
	vagent_audio_free(all);
	vagent_audio_free(l);
	vagent_audio_free(r);
	vagent_audio_free(m);
}
END_TEST

/* Ogg's page checksum (CRC-32, polynomial 0x04c11db7, not reflected). */
static uint32_t ogg_crc(const unsigned char *p, size_t n)
{
	uint32_t c = 0;

	for (size_t i = 0; i < n; i++) {
		c ^= (uint32_t)p[i] << 24;
		for (int k = 0; k < 8; k++)
			c = c & 0x80000000u ? (c << 1) ^ 0x04c11db7u : c << 1;
	}
	return c;
}

/* Recompute the checksum of the Ogg page at the start of `buf`, after a
 * test has patched a header field, so the page is rejected for the field
 * and not for a stale checksum. */
static void ogg_fix_first_page_crc(unsigned char *buf)
{
	size_t page = 27 + buf[26], body = 0;
	uint32_t crc;

	for (int i = 0; i < buf[26]; i++)
		body += buf[27 + i];
	memset(buf + 22, 0, 4);
	crc = ogg_crc(buf, page + body);
	for (int k = 0; k < 4; k++)
		buf[22 + k] = (unsigned char)(crc >> (8 * k));
}

START_TEST(test_ogg_opus_read_through_opusfile)
{
	struct vagent_audio *a = load_ok(top_path("fixtures/speech/librispeech/1221-135766-0002.wav"),
					 VAGENT_CHANNELS_ALL);
	struct vagent_audio *b;
	const char *p = temp_path("speech.opus");
	unsigned char *buf;
	size_t len;
	double ra, rb;

	save_ok(a, p, VAGENT_CONTAINER_DEFAULT, VAGENT_ENC_DEFAULT);
	buf = (unsigned char *)read_file(p, &len);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(memcmp(buf, "OggS", 4), 0);
	ck_assert_int_eq(memcmp(buf + 28, "OpusHead", 8), 0);
	free(buf);

	b = load_ok(p, VAGENT_CHANNELS_ALL);
	ck_assert_int_eq(b->container, VAGENT_CONTAINER_OGG);
	ck_assert_int_eq(b->encoding, VAGENT_ENC_OPUS);
	ck_assert_str_eq(b->format_name, "Ogg Opus");  /* opusfile, not libsndfile */
	ck_assert_int_eq(b->rate, 48000);
	ck_assert_int_eq(b->source_rate, 16000);
	ck_assert_int_eq(b->channels, 1);
	/* Same duration within one 20 ms packet, same loudness within 1 dB. */
	ck_assert_double_eq_tol(vagent_audio_duration(b), vagent_audio_duration(a), 0.02);
	ra = vagent_db_from_amplitude(vagent_audio_rms(a));
	rb = vagent_db_from_amplitude(vagent_audio_rms(b));
	ck_assert_double_eq_tol(ra, rb, 1.0);
	ck_assert_str_eq(b->warning, "");
	vagent_audio_free(b);

	/* Broken Ogg Opus: cut inside the headers, a bad OpusHead version,
	 * cut in the middle (audio + warning), a corrupted page (gap skipped,
	 * audio + warning). */
	{
		const char *q = temp_path("broken.opus");
		char want[4096];
		struct vagent_error err;
		unsigned char *orig = (unsigned char *)read_file(p, &len), *c = malloc(len);

		write_file(q, orig, 40);
		ck_assert_int_eq(vagent_audio_load(q, VAGENT_CHANNELS_ALL, &b, &err), VAGENT_EFORMAT);
		snprintf(want, sizeof(want), "%s: truncated, damaged or unsupported Ogg Opus headers", q);
		ck_assert_str_eq(err.message, want);
		memcpy(c, orig, len);
		c[36] = 0x20;  /* OpusHead version: upper nibble must be 0 */
		ogg_fix_first_page_crc(c);
		write_file(q, c, len);
		ck_assert_int_eq(vagent_audio_load(q, VAGENT_CHANNELS_ALL, &b, &err),
				 VAGENT_EUNSUPPORTED);
		snprintf(want, sizeof(want), "%s: unsupported Ogg Opus version", q);
		ck_assert_str_eq(err.message, want);
		/* The same patch with a stale page checksum: a damaged page. */
		c[22] ^= 0xff;
		write_file(q, c, len);
		ck_assert_int_eq(vagent_audio_load(q, VAGENT_CHANNELS_ALL, &b, &err), VAGENT_EFORMAT);
		snprintf(want, sizeof(want), "%s: truncated, damaged or unsupported Ogg Opus headers", q);
		ck_assert_str_eq(err.message, want);

		write_file(q, orig, len / 2);
		b = load_ok(q, VAGENT_CHANNELS_ALL);
		ck_assert_uint_gt(b->frames, 48000 / 2);
		ck_assert_ptr_nonnull(strstr(b->warning, "no end-of-stream page (file truncated?)"));
		vagent_audio_free(b);

		memcpy(c, orig, len);
		for (size_t i = len / 3; i < len / 3 + 200; i++)
			c[i] ^= 0x5A;
		write_file(q, c, len);
		b = load_ok(q, VAGENT_CHANNELS_ALL);
		ck_assert_uint_gt(b->frames, 48000);
		ck_assert_ptr_nonnull(strstr(b->warning, "gap in the Ogg stream"));
		vagent_audio_free(b);
		free(orig);
		free(c);
	}
	vagent_audio_free(a);
}
END_TEST

START_TEST(test_bad_inputs)
{
	static const struct {
		const char *file;
		vagent_status st;
		const char *msg;
	} cases[] = {
		{ "missing.wav", VAGENT_ENOENT, "no such file" },
		{ "zero-length.wav", VAGENT_EFORMAT, "empty file (0 bytes)" },
		{ "truncated-header.wav", VAGENT_EFORMAT,
		  "truncated header: fmt chunk ends at byte 36 but the file has 30 bytes" },
		{ "no-data-chunk.wav", VAGENT_EFORMAT, "truncated header: no data chunk" },
		{ "short-fmt.wav", VAGENT_EFORMAT, "fmt chunk too short (8 bytes, needs 16)" },
		{ "zero-rate.wav", VAGENT_EFORMAT, "sample rate is 0 Hz" },
		{ "zero-channels.wav", VAGENT_EFORMAT, "fmt chunk claims 0 channels" },
		{ "zero-bits.wav", VAGENT_EFORMAT, "fmt chunk claims 0 bits per sample" },
		{ "g723-adpcm.wav", VAGENT_EUNSUPPORTED,
		  "unsupported WAV encoding (format tag 0x0014, G.723 ADPCM)" },
		{ "not-audio.wav", VAGENT_EFORMAT, "not an audio file" },
		{ "riff-not-wave.wav", VAGENT_EFORMAT, "not an audio file" },
		{ "", VAGENT_EFORMAT, "is a directory" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rel[256], want[4096];
		struct vagent_audio *a = (struct vagent_audio *)&rel; /* must be reset */
		struct vagent_error err;
		const char *p;
		vagent_status st;

		snprintf(rel, sizeof(rel), "fixtures/audio/bad/%s", cases[i].file);
		p = top_path(rel);
		st = vagent_audio_load(p, VAGENT_CHANNELS_ALL, &a, &err);
		ck_assert_msg(st == cases[i].st, "%s: %s (%s)", cases[i].file,
			      vagent_status_name(st), err.message);
		ck_assert_int_eq(err.status, st);
		ck_assert_ptr_null(a);
		snprintf(want, sizeof(want), "%s: %s", p, cases[i].msg);
		ck_assert_msg(!strncmp(err.message, want, strlen(want)),
			      "%s: got '%s'", cases[i].file, err.message);
		ck_assert_ptr_null(strchr(err.message, '\n'));
		ck_assert_int_eq(vagent_status_exit_code(st), 2);
	}
}
END_TEST

START_TEST(test_lying_data_size_gives_audio_and_warning)
{
	const char *p = top_path("fixtures/audio/bad/lying-data-size.wav");
	struct vagent_audio *a = load_ok(p, VAGENT_CHANNELS_ALL);
	char want[4096];

	ck_assert_uint_eq(a->frames, 4);
	ck_assert(a->samples[1] == 1000 / 32768.0f);
	ck_assert(a->samples[2] == -1000 / 32768.0f);
	snprintf(want, sizeof(want),
		 "%s: data chunk claims 100000 bytes but the file ends 99992 bytes short; read the 4 frames present",
		 p);
	ck_assert_str_eq(a->warning, want);
	vagent_audio_free(a);

	/* A sound file carries no warning. */
	a = load_ok(top_path("fixtures/speech/asterisk/beep.wav"), VAGENT_CHANNELS_ALL);
	ck_assert_str_eq(a->warning, "");
	vagent_audio_free(a);
}
END_TEST

START_TEST(test_streaming_placeholder_sizes_are_accepted)
{
	/* A writer that could not seek back leaves 0 or 0xFFFFFFFF as the data
	 * size (audio-formats.md §4): read to the end, no warning. */
	struct vagent_audio *a = test_signal(8000, 800), *b;
	const char *p = temp_path("stream.wav");
	unsigned char *buf;
	size_t len;

	save_ok(a, p, VAGENT_CONTAINER_WAV, VAGENT_ENC_PCM16);
	buf = (unsigned char *)read_file(p, &len);
	ck_assert_uint_eq(len, 44 + 1600);
	ck_assert_int_eq(memcmp(buf + 36, "data", 4), 0);
	for (int v = 0; v < 2; v++) {
		memset(buf + 40, v ? 0xFF : 0x00, 4);
		memset(buf + 4, v ? 0xFF : 0x00, 4);
		write_file(p, buf, len);
		b = load_ok(p, VAGENT_CHANNELS_ALL);
		ck_assert_msg(b->frames == 800, "placeholder %s: %zu frames",
			      v ? "0xFFFFFFFF" : "0", b->frames);
		ck_assert_int_eq(memcmp(a->samples, b->samples, 800 * sizeof(float)), 0);
		ck_assert_str_eq(b->warning, "");
		vagent_audio_free(b);
	}
	free(buf);
	vagent_audio_free(a);
}
END_TEST

START_TEST(test_save_errors)
{
	struct vagent_audio *a = test_signal(22050, 100);
	struct vagent_audio_save_opts o = vagent_audio_save_opts_default();
	struct vagent_error err;
	struct stat sb;
	const char *p;

	p = temp_path("no/such/dir/x.wav");
	ck_assert_int_eq(vagent_audio_save(a, p, NULL, &err), VAGENT_EIO);
	ck_assert_ptr_nonnull(strstr(err.message, "x.wav: cannot write"));
	ck_assert_int_eq(vagent_status_exit_code(err.status), 3);

	p = temp_path("x.opus");
	ck_assert_int_eq(vagent_audio_save(a, p, NULL, &err), VAGENT_EUNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(err.message, "got 22050 Hz"));
	ck_assert_int_eq(stat(p, &sb), -1);

	o.encoding = VAGENT_ENC_FLOAT;
	p = temp_path("x.flac");
	ck_assert_int_eq(vagent_audio_save(a, p, &o, &err), VAGENT_EUNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(err.message, "cannot write float encoding in a flac file"));
	ck_assert_int_eq(stat(p, &sb), -1);

	ck_assert_int_eq(vagent_encoding_from_name("alaw"), VAGENT_ENC_ALAW);
	ck_assert_int_eq(vagent_encoding_from_name("mp3"), VAGENT_ENC_DEFAULT);
	ck_assert_str_eq(vagent_encoding_name(VAGENT_ENC_PCM24), "pcm24");
	vagent_audio_free(a);
}
END_TEST

/* Inputs found by tests/fuzz/fuzz_audio_load.c. */
START_TEST(test_fuzz_regressions)
{
	struct vagent_audio *a = vagent_audio_new(16000, 1, 1600), *b;
	const char *p = temp_path("rate.opus");
	unsigned char *buf;
	size_t len;

	/* An OpusHead whose input sample rate is 0xFFFFFFFF was reported as
	 * an encoder input rate of -1 Hz: too large for an int is "not
	 * stated", like 0. The first page holds only OpusHead. */
	ck_assert_ptr_nonnull(a);
	save_ok(a, p, VAGENT_CONTAINER_DEFAULT, VAGENT_ENC_DEFAULT);
	buf = (unsigned char *)read_file(p, &len);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(memcmp(buf + 28, "OpusHead", 8), 0);
	ck_assert_int_eq(buf[26], 1);
	memset(buf + 40, 0xff, 4);
	ogg_fix_first_page_crc(buf);
	write_file(p, buf, len);
	b = load_ok(p, VAGENT_CHANNELS_ALL);
	ck_assert_int_eq(b->source_rate, 48000);
	ck_assert_int_eq(b->rate, 48000);
	vagent_audio_free(b);
	free(buf);
	vagent_audio_free(a);
}
END_TEST

Suite *suite_audio(void);
Suite *suite_audio(void)
{
	Suite *s = suite_create("audio");
	TCase *tc = tcase_create("frames");

	tcase_add_test(tc, test_ticks_are_exact_for_all_rates);
	tcase_add_test(tc, test_frame_init);
	tcase_add_test(tc, test_buffer_frames_round_trip);
	tcase_add_test(tc, test_float_to_int16_rounds_and_clips);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_round_trip_every_encoding);
	tcase_add_test(tc, test_g711_files_use_reference_encoder);
	tcase_add_test(tc, test_real_flac_matches_sox);
	tcase_add_test(tc, test_stereo_recording_and_channel_selection);
	tcase_add_test(tc, test_ogg_opus_read_through_opusfile);
	tcase_add_test(tc, test_bad_inputs);
	tcase_add_test(tc, test_lying_data_size_gives_audio_and_warning);
	tcase_add_test(tc, test_streaming_placeholder_sizes_are_accepted);
	tcase_add_test(tc, test_save_errors);
	tcase_add_test(tc, test_fuzz_regressions);
	suite_add_tcase(s, tc);
	return s;
}
