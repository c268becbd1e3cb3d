/*
 * device_latency.c — audio device figures for `make bench BENCH=device`,
 * on the private PulseAudio server of the tests (tests/support/pulse.c,
 * built in): a full-duplex stream on ALSA's "pulse" device at 16 kHz, the
 * rig's speaker looped back into its mic, DTMF tones written every 500 ms
 * and found in the echo reference and in the mic. Per suggested latency:
 * PortAudio's reported latencies, the reference delay, how long after its
 * reference the echo arrives, write-to-mic time, xruns.
 *
 *   device_latency LATENCY_MS TONES
 */
#include "support/pulse.c"   /* first: it defines _GNU_SOURCE */

#include "vagent.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: device_latency LATENCY_MS TONES\n");
		return 2;
	}
	int latency_ms = atoi(argv[1]), tones = atoi(argv[2]);
	char dir[] = "/tmp/vagent-device-bench-XXXXXX";
	struct pulse_server ps;
	struct vagent_error err;

	if (tones < 1 || tones > 100 || !mkdtemp(dir) || !pulse_start(&ps, dir))
		return 3;
	pulse_loopback(&ps, true);
	struct vagent_audio_io_config cfg = vagent_audio_io_config_default();
	struct vagent_audio_io *io = NULL;
	cfg.input = cfg.output = "pulse";
	cfg.latency_ms = latency_ms;
	if (vagent_audio_io_open(&cfg, &io, &err) != VAGENT_OK ||
	    vagent_audio_io_start(io, &err) != VAGENT_OK) {
		fprintf(stderr, "device_latency: %s\n", err.message);
		pulse_stop(&ps);
		return 3;
	}
	struct vagent_audio *a = NULL;
	if (vagent_dtmf_synth("5", 16000, 100, 100, &a, &err) != VAGENT_OK)
		return 3;
	int16_t tone[3200];
	for (size_t i = 0; i < 3200 && i < a->frames; i++)
		tone[i] = (int16_t)(a->samples[i] * 32767.0f);
	vagent_audio_free(a);

	size_t cap = (size_t)16000 * (size_t)(tones + 3) / 2 + 16000 * 2;
	int16_t *mic = calloc(cap, sizeof(*mic)), *ref = calloc(cap, sizeof(*ref));
	size_t n = 0;
	double t0 = now_s();
	for (int k = 0; k <= tones; k++) {
		while (now_s() - t0 < 0.5 * (k + 1) && n < cap) {
			n += vagent_audio_io_read(io, mic + n, ref + n, cap - n);
			struct timespec ts = { 0, 5000000 };
			nanosleep(&ts, NULL);
		}
		if (k < tones)
			vagent_audio_io_write(io, tone, 3200);
	}
	while (vagent_audio_io_pending(io) > 0 && now_s() - t0 < 0.5 * tones + 5 && n < cap)
		n += vagent_audio_io_read(io, mic + n, ref + n, cap - n);
	double t1 = now_s();
	while (now_s() - t1 < 0.5 && n < cap)
		n += vagent_audio_io_read(io, mic + n, ref + n, cap - n);

	struct vagent_dtmf_detector *dm = vagent_dtmf_detector_new(16000);
	struct vagent_dtmf_detector *dr = vagent_dtmf_detector_new(16000);
	char dmic[128], dref[128];
	int64_t on_mic[128], on_ref[128];
	size_t n_mic = vagent_dtmf_detector_feed(dm, mic, n, dmic, on_mic, 128);
	size_t n_ref = vagent_dtmf_detector_feed(dr, ref, n, dref, on_ref, 128);
	double in_ms, out_ms, ref_ms, echo[128];
	size_t pairs = n_mic < n_ref ? n_mic : n_ref, over, under;
	vagent_audio_io_latency(io, &in_ms, &out_ms, &ref_ms);
	vagent_audio_io_xruns(io, &over, &under);
	/* Each tone in the reference pairs with the first one heard in the mic
	 * from 20 ms before it on (a tone cut by a glitch is heard twice). */
	pairs = 0;
	for (size_t i = 0, j = 0; i < n_ref; i++) {
		while (j < n_mic && on_mic[j] < on_ref[i] - 320)
			j++;
		if (j < n_mic && (i + 1 == n_ref || on_mic[j] < on_ref[i + 1]))
			echo[pairs++] = (double)(on_mic[j] - on_ref[i]) / 16.0;
	}
	qsort(echo, pairs, sizeof(*echo), cmp_double);
	printf("latency_ms %3d: PortAudio in %.1f ms out %.1f ms, reference delay %.1f ms; "
	       "tones %d, in reference %zu, in mic %zu, paired %zu; echo after its reference: "
	       "median %.1f ms, min %.1f, max %.1f; write to mic %.1f ms; "
	       "overruns %zu, underruns %zu\n",
	       latency_ms, in_ms, out_ms, ref_ms, tones, n_ref, n_mic, pairs,
	       pairs ? echo[pairs / 2] : -1, pairs ? echo[0] : -1,
	       pairs ? echo[pairs - 1] : -1, pairs ? echo[pairs / 2] + ref_ms : -1, over, under);
	vagent_dtmf_detector_free(dm);
	vagent_dtmf_detector_free(dr);
	vagent_audio_io_free(io);
	free(mic);
	free(ref);
	pulse_stop(&ps);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 3;
}
