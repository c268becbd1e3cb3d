/*
 * resample_quality.c — measures vagent's resampler (speexdsp) per quality
 * level: SNR of resampled sines against the exact analytic sine at the
 * output rate, alias rejection, speed. With --file, measures a WAV written
 * by another tool (sox) against the analytic sine instead.
 *
 *   resample_quality                      table for every quality, all rate pairs
 *   resample_quality --file F.wav HZ AMP  SNR of F against AMP·sin(2π·HZ·t)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vagent.h"

static const int rates[] = { 8000, 16000, 22050, 24000, 48000 };
#define NRATES 5

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static struct vagent_audio *sine(int rate, double hz, double amp, double secs)
{
	size_t n = (size_t)(rate * secs);
	struct vagent_audio *a = vagent_audio_new(rate, 1, n);

	for (size_t i = 0; i < n; i++)
		a->samples[i] = (float)(amp * sin(2 * M_PI * hz * (double)i / rate));
	return a;
}

/* SNR of `b` against amp·sin(2π·hz·t), skipping 0.1 s at each end. */
static double snr_vs_sine(const struct vagent_audio *b, double hz, double amp)
{
	size_t lo = (size_t)b->rate / 10, hi = b->frames > lo ? b->frames - lo : 0;
	double s = 0, e = 0;

	for (size_t i = lo; i < hi; i++) {
		double ref = amp * sin(2 * M_PI * hz * (double)i / b->rate);
		double d = b->samples[i * (size_t)b->channels] - ref;
		s += ref * ref;
		e += d * d;
	}
	return 10 * log10(s / (e + 1e-300));
}

/* RMS level in dBFS, skipping 0.1 s at each end (filter start-up). */
static double rms_db(const struct vagent_audio *b)
{
	size_t lo = (size_t)b->rate / 10, hi = b->frames > lo ? b->frames - lo : 0;
	double s = 0;

	for (size_t i = lo; i < hi; i++)
		s += (double)b->samples[i] * b->samples[i];
	return 10 * log10(s / (double)(hi - lo) + 1e-300);
}

static int file_mode(const char *path, double hz, double amp)
{
	struct vagent_audio *b = NULL;
	struct vagent_error err;

	if (vagent_audio_load(path, VAGENT_CHANNELS_LEFT, &b, &err)) {
		fprintf(stderr, "%s\n", err.message);
		return 2;
	}
	printf("%.1f\n", snr_vs_sine(b, hz, amp));
	vagent_audio_free(b);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "--file"))
		return file_mode(argv[2], atof(argv[3]), atof(argv[4]));

	printf("speexdsp resampler, all 20 rate pairs among 8/16/22.05/24/48 kHz, 2 s sines at -6 dBFS\n");
	printf("%-8s %14s %14s %14s %12s\n", "quality", "SNR 1 kHz", "SNR 0.8·Nyq", "alias 1.2·Nyq",
	       "Msamples/s");
	for (int q = 0; q <= 10; q++) {
		double worst1 = 1e9, worst_edge = 1e9, worst_alias = -1e9, secs = 0;
		long samples = 0;

		for (int i = 0; i < NRATES; i++) {
			for (int j = 0; j < NRATES; j++) {
				int ri = rates[i], ro = rates[j];
				int nyq = (ri < ro ? ri : ro) / 2;
				struct vagent_audio *a, *b = NULL;
				struct vagent_error err;
				double t0, v;

				if (i == j)
					continue;
				/* 1 kHz: in every band. */
				a = sine(ri, 1000, 0.5, 2);
				t0 = now();
				vagent_audio_resample(a, ro, q, &b, &err);
				secs += now() - t0;
				samples += (long)a->frames;
				v = snr_vs_sine(b, 1000, 0.5);
				worst1 = v < worst1 ? v : worst1;
				vagent_audio_free(a);
				vagent_audio_free(b);
				/* Near the band edge. */
				a = sine(ri, 0.8 * nyq, 0.5, 2);
				vagent_audio_resample(a, ro, q, &b, &err);
				v = snr_vs_sine(b, 0.8 * nyq, 0.5);
				worst_edge = v < worst_edge ? v : worst_edge;
				vagent_audio_free(a);
				vagent_audio_free(b);
				/* Downsampling: a tone above the output Nyquist must vanish. */
				if (ro < ri && 1.2 * ro / 2 < ri / 2.0) {
					a = sine(ri, 1.2 * ro / 2, 0.5, 2);
					vagent_audio_resample(a, ro, q, &b, &err);
					v = rms_db(b) - rms_db(a);
					worst_alias = v > worst_alias ? v : worst_alias;
					vagent_audio_free(a);
					vagent_audio_free(b);
				}
			}
		}
		printf("%-8d %11.1f dB %11.1f dB %11.1f dB %12.1f\n", q, worst1, worst_edge,
		       worst_alias, (double)samples / secs / 1e6);
	}
	return 0;
}
