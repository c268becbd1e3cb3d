/*
 * check_audio_opus.c — Opus round trips of 20 ms frames at 8, 16 and
 * 48 kHz (synthetic and real speech), packet sanity, PLC, bad input.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/harness.h"

/* Encode `in` (mono) in 20 ms frames and decode every packet; returns the
 * decoded signal (same length plus the flush frames). */
static struct vagent_audio *round_trip(const struct vagent_audio *in, int bitrate,
				       int *delay, double *mean_bytes)
{
	struct vagent_opus_config cfg = vagent_opus_config_default();
	struct vagent_opus_encoder *enc = NULL;
	struct vagent_opus_decoder *dec = NULL;
	struct vagent_audio *out = vagent_audio_new(in->rate, 1, 0);
	struct vagent_error err;
	size_t n20 = vagent_frame_samples_for(in->rate, 20), total = 0, packets = 0;
	struct vagent_frame f, g;
	uint8_t pkt[VAGENT_OPUS_MAX_PACKET];

	cfg.rate = in->rate;
	cfg.bitrate = bitrate;
	cfg.complexity = 10;
	ck_assert_int_eq(vagent_opus_encoder_new(&cfg, &enc, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_opus_decoder_new(in->rate, 1, &dec, &err), VAGENT_OK);
	*delay = vagent_opus_encoder_delay(enc);
	/* Two extra frames of silence push the delayed tail out. */
	for (size_t off = 0; off < in->frames + 2 * n20; off += n20) {
		size_t len = 0;
		if (vagent_audio_get_frame(in, off, n20, &f) == VAGENT_EOS)
			vagent_frame_init(&f, in->rate, 1, n20, 0);
		ck_assert_int_eq(vagent_opus_encode(enc, &f, pkt, sizeof(pkt), &len, &err), VAGENT_OK);
		ck_assert_uint_ge(len, 1);
		ck_assert_uint_le(len, VAGENT_OPUS_MAX_PACKET);
		/* TOC: one frame (c = 0), mono (s = 0). */
		ck_assert_int_eq(pkt[0] & 0x03, 0);
		ck_assert_int_eq(pkt[0] & 0x04, 0);
		total += len;
		packets++;
		g.pts = f.pts;
		ck_assert_int_eq(vagent_opus_decode(dec, pkt, len, &g, &err), VAGENT_OK);
		ck_assert_uint_eq(g.n, n20);
		ck_assert_int_eq(g.rate, in->rate);
		ck_assert_int_eq(g.pts, f.pts);
		ck_assert_int_eq(vagent_audio_append_frame(out, &g), VAGENT_OK);
	}
	*mean_bytes = (double)total / (double)packets;
	vagent_opus_encoder_free(enc);
	vagent_opus_decoder_free(dec);
	return out;
}

/* Normalised cross-correlation of in[i] with out[i + lag] over in's length. */
static double correlation(const struct vagent_audio *in, const struct vagent_audio *out, int lag)
{
	double xy = 0, xx = 0, yy = 0;

	for (size_t i = 0; i < in->frames && i + (size_t)lag < out->frames; i++) {
		double x = in->samples[i], y = out->samples[i + (size_t)lag];
		xy += x * y;
		xx += x * x;
		yy += y * y;
	}
	return xy / sqrt(xx * yy + 1e-30);
}

static double snr_at_lag(const struct vagent_audio *in, const struct vagent_audio *out, int lag)
{
	double s = 0, e = 0;

	for (size_t i = 0; i < in->frames; i++) {
		double d = out->samples[i + (size_t)lag] - in->samples[i];
		s += (double)in->samples[i] * (double)in->samples[i];
		e += d * d;
	}
	return 10 * log10(s / e);
}

static int best_lag(const struct vagent_audio *in, const struct vagent_audio *out, int max)
{
	int best = 0;
	double bc = -2;

	for (int lag = 0; lag <= max; lag++) {
		double c = correlation(in, out, lag);
		if (c > bc) {
			bc = c;
			best = lag;
		}
	}
	return best;
}

static const int rates[] = { 8000, 16000, 48000 };

START_TEST(test_sine_round_trip)
{
	int rate = rates[_i];
	struct vagent_audio *in = vagent_audio_new(rate, 1, (size_t)rate);
	struct vagent_audio *out;
	double mean, snr;
	int delay, lag;

	for (size_t i = 0; i < in->frames; i++)
		in->samples[i] = (float)(0.3 * sin(2 * M_PI * 440 * (double)i / rate) +
					 0.1 * sin(2 * M_PI * 1250 * (double)i / rate));
	out = round_trip(in, 32000, &delay, &mean);
	ck_assert_uint_eq(out->frames, in->frames + 2 * (size_t)rate / 50);
	/* The encoder reports 6.5 ms of lookahead (52 / 104 / 312 samples).
	 * At that lag the tones come back well correlated; Opus is not a
	 * waveform coder, so the best-matching lag of a pure tone drifts a
	 * little (measured 33 / 66 / 309), while real speech (below) peaks
	 * exactly at the lookahead. */
	ck_assert_int_eq(delay, rate * 13 / 2000);
	lag = best_lag(in, out, 4 * delay);
	ck_assert_int_le(abs(lag - delay), delay / 2);
	ck_assert_msg(correlation(in, out, delay) > 0.95, "%d Hz: correlation %.3f", rate,
		      correlation(in, out, delay));
	snr = snr_at_lag(in, out, delay);
	ck_assert_msg(snr > 10.0, "%d Hz: SNR %.1f dB", rate, snr);
	/* 32 kbit/s is 80 bytes per 20 ms on average. */
	ck_assert_msg(mean > 50 && mean < 110, "%d Hz: %.1f bytes/packet", rate, mean);
	vagent_audio_free(in);
	vagent_audio_free(out);
}
END_TEST

START_TEST(test_speech_round_trip)
{
	/* Real telephone and wideband speech. */
	static const char *files[] = {
		"fixtures/speech/asterisk/demo-thanks.wav",
		"fixtures/speech/librispeech/1221-135766-0002.wav",
	};
	struct vagent_audio *in = NULL, *out;
	struct vagent_error err;
	double mean, corr;
	int delay;

	ck_assert_int_eq(vagent_audio_load(top_path(files[_i]), VAGENT_CHANNELS_MIX, &in, &err),
			 VAGENT_OK);
	out = round_trip(in, 24000, &delay, &mean);
	ck_assert_int_eq(best_lag(in, out, 4 * delay), delay);
	corr = correlation(in, out, delay);
	ck_assert_msg(corr > 0.85, "%s: correlation %.3f", files[_i], corr);
	ck_assert_msg(mean > 30 && mean < 90, "%.1f bytes/packet at 24 kbit/s", mean);
	/* Same loudness within 1 dB. */
	ck_assert_double_eq_tol(vagent_db_from_amplitude(vagent_audio_rms(in)),
				vagent_db_from_amplitude(vagent_audio_rms(out)) +
				10 * log10((double)out->frames / (double)in->frames), 1.0);
	vagent_audio_free(in);
	vagent_audio_free(out);
}
END_TEST

START_TEST(test_packet_loss_concealment)
{
	struct vagent_opus_config cfg = vagent_opus_config_default();
	struct vagent_opus_encoder *enc = NULL;
	struct vagent_opus_decoder *dec = NULL;
	struct vagent_error err;
	struct vagent_frame f, g;
	uint8_t pkt[VAGENT_OPUS_MAX_PACKET];
	size_t len;
	double energy = 0;

	ck_assert_int_eq(vagent_opus_encoder_new(&cfg, &enc, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_opus_decoder_new(16000, 1, &dec, &err), VAGENT_OK);
	/* Before any packet, a lost packet is 20 ms of concealment. */
	ck_assert_int_eq(vagent_opus_decode(dec, NULL, 0, &g, &err), VAGENT_OK);
	ck_assert_uint_eq(g.n, 320);
	for (int k = 0; k < 10; k++) {
		vagent_frame_init_20ms(&f, 16000, 1, 0);
		for (size_t i = 0; i < f.n; i++)
			f.samples[i] = (int16_t)(8000 * sin(2 * M_PI * 300 * (double)(k * 320 + (int)i) / 16000));
		ck_assert_int_eq(vagent_opus_encode(enc, &f, pkt, sizeof(pkt), &len, &err), VAGENT_OK);
		ck_assert_int_eq(vagent_opus_decode(dec, pkt, len, &g, &err), VAGENT_OK);
	}
	/* A zero-length packet: 20 ms that continue the tone, not silence. */
	g.pts = 42;
	ck_assert_int_eq(vagent_opus_decode(dec, pkt, 0, &g, &err), VAGENT_OK);
	ck_assert_uint_eq(g.n, 320);
	ck_assert_int_eq(g.pts, 42);
	for (size_t i = 0; i < g.n; i++)
		energy += (double)g.samples[i] * g.samples[i];
	ck_assert_msg(sqrt(energy / (double)g.n) > 1000, "concealment RMS %.0f",
		      sqrt(energy / (double)g.n));

	/* A packet whose TOC claims an impossible layout is an error. */
	pkt[0] = 0x03;  /* code 3: frame count byte follows ... */
	pkt[1] = 0x00;  /* ... and says zero frames */
	ck_assert_int_eq(vagent_opus_decode(dec, pkt, 2, &g, &err), VAGENT_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err.message, "opus: corrupt packet"));

	/* Frames must be a legal Opus size at the encoder's rate. */
	vagent_frame_init(&f, 16000, 1, 300, 0);
	ck_assert_int_eq(vagent_opus_encode(enc, &f, pkt, sizeof(pkt), &len, &err), VAGENT_EINVAL);
	vagent_frame_init_20ms(&f, 8000, 1, 0);
	ck_assert_int_eq(vagent_opus_encode(enc, &f, pkt, sizeof(pkt), &len, &err), VAGENT_EINVAL);
	vagent_frame_init(&f, 16000, 1, 160, 0);  /* 10 ms is fine */
	ck_assert_int_eq(vagent_opus_encode(enc, &f, pkt, sizeof(pkt), &len, &err), VAGENT_OK);
	vagent_opus_encoder_free(enc);
	vagent_opus_decoder_free(dec);

	cfg.rate = 22050;
	ck_assert_int_eq(vagent_opus_encoder_new(&cfg, &enc, &err), VAGENT_EINVAL);
	ck_assert_ptr_null(enc);
	ck_assert_int_eq(vagent_opus_decoder_new(44100, 1, &dec, &err), VAGENT_EINVAL);
	ck_assert_ptr_null(dec);
	vagent_opus_encoder_free(NULL);
	vagent_opus_decoder_free(NULL);
}
END_TEST

Suite *suite_audio_opus(void);
Suite *suite_audio_opus(void)
{
	Suite *s = suite_create("audio_opus");
	TCase *tc = tcase_create("opus");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_sine_round_trip, 0, 3);
	tcase_add_loop_test(tc, test_speech_round_trip, 0, 2);
	tcase_add_test(tc, test_packet_loss_concealment);
	suite_add_tcase(s, tc);
	return s;
}
