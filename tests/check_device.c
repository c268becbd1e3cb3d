/*
 * check_device.c — audio endpoints (lib/device): WAV files standing in for
 * the mic and speaker (pacing, resampling, the echo reference, the file
 * written at free), bad configurations, and real devices through a private
 * PulseAudio server (tests/support/pulse.h): the device list, choosing a
 * device by index or name, DTMF round trips into the mic and out of the
 * speaker, the full-duplex echo reference, a device vanishing mid-call.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vagent.h"
#include "support/harness.h"
#include "support/pulse.h"

/* ---- helpers */

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int16_t *to_s16(const struct vagent_audio *a)
{
	int16_t *s = malloc((a->frames + 1) * sizeof(*s));
	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < a->frames; i++) {
		float y = a->samples[i] * 32767.0f;
		s[i] = (int16_t)(y > 32767 ? 32767 : y < -32768 ? -32768 : y);
	}
	return s;
}

static int16_t *dtmf(const char *digits, int rate, size_t *n)
{
	struct vagent_audio *a = NULL;
	struct vagent_error err;

	ck_assert_msg(vagent_dtmf_synth(digits, rate, 100, 100, &a, &err) == VAGENT_OK, "%s",
		      err.message);
	int16_t *s = to_s16(a);
	*n = a->frames;
	vagent_audio_free(a);
	return s;
}

/* A mono sine WAV of `seconds` at `rate`. */
static void write_sine(const char *path, int rate, double hz, double seconds)
{
	size_t n = (size_t)(rate * seconds);
	struct vagent_audio *a = vagent_audio_new(rate, 1, n);
	struct vagent_audio_save_opts opts = vagent_audio_save_opts_default();
	struct vagent_error err;

	ck_assert_ptr_nonnull(a);
	for (size_t i = 0; i < n; i++)
		a->samples[i] = (float)(0.5 * sin(2 * M_PI * hz * (double)i / rate));
	ck_assert_msg(vagent_audio_save(a, path, &opts, &err) == VAGENT_OK, "%s", err.message);
	vagent_audio_free(a);
}

static struct vagent_audio_io *open_io(const char *input, const char *output, int rate)
{
	struct vagent_audio_io_config cfg = vagent_audio_io_config_default();
	struct vagent_audio_io *io = NULL;
	struct vagent_error err;

	cfg.input = input;
	cfg.output = output;
	cfg.rate = rate;
	/* Not the device's lowest: tests share a loaded machine (and run under
	 * sanitizers), where a late callback would cut the tones. */
	cfg.latency_ms = 60;
	ck_assert_msg(vagent_audio_io_open(&cfg, &io, &err) == VAGENT_OK, "%s", err.message);
	ck_assert_ptr_nonnull(io);
	return io;
}

static vagent_status open_fails(const char *input, const char *output, int rate, char *msg,
				size_t cap)
{
	struct vagent_audio_io_config cfg = vagent_audio_io_config_default();
	struct vagent_audio_io *io = NULL;
	struct vagent_error err;

	cfg.input = input;
	cfg.output = output;
	cfg.rate = rate;
	vagent_status st = vagent_audio_io_open(&cfg, &io, &err);
	ck_assert_int_ne(st, VAGENT_OK);
	ck_assert_ptr_null(io);
	ck_assert_int_eq(err.status, st);
	ck_assert_ptr_null(strchr(err.message, '\n'));
	snprintf(msg, cap, "%s", err.message);
	return st;
}

/* Everything the input delivers until `stop` (or `limit_s` of wall time),
 * mic and reference; returns the count. */
struct captured {
	int16_t *mic, *ref;
	size_t n, cap;
};

static void captured_add(struct captured *c, const int16_t *mic, const int16_t *ref, size_t n)
{
	if (n == 0)
		return;
	if (c->n + n > c->cap) {
		c->cap = (c->n + n) * 2 + 16000;
		c->mic = realloc(c->mic, c->cap * sizeof(*c->mic));
		c->ref = realloc(c->ref, c->cap * sizeof(*c->ref));
		ck_assert(c->mic && c->ref);
	}
	memcpy(c->mic + c->n, mic, n * sizeof(*mic));
	memcpy(c->ref + c->n, ref, n * sizeof(*ref));
	c->n += n;
}

static void captured_free(struct captured *c)
{
	free(c->mic);
	free(c->ref);
}

/* Read what is there now (a loop step). */
static size_t pump(struct vagent_audio_io *io, struct captured *c)
{
	int16_t mic[1600], ref[1600];
	size_t total = 0, n;

	while ((n = vagent_audio_io_read(io, mic, ref, 1600)) > 0) {
		captured_add(c, mic, ref, n);
		total += n;
	}
	return total;
}

static size_t detect(const int16_t *s, size_t n, int rate, char *out, size_t cap, int64_t *first)
{
	struct vagent_dtmf_detector *d = vagent_dtmf_detector_new(rate);
	int64_t onsets[32];
	char digits[32];
	size_t k = 0;

	ck_assert_ptr_nonnull(d);
	size_t got = vagent_dtmf_detector_feed(d, s, n, digits, onsets, 32);
	for (size_t i = 0; i < got && k + 1 < cap; i++)
		out[k++] = digits[i];
	out[k] = '\0';
	if (first)
		*first = got ? onsets[0] : -1;
	vagent_dtmf_detector_free(d);
	return k;
}

/* ---- WAV endpoints */

START_TEST(test_wav_input_paced_and_resampled)
{
	const char *in = temp_path("in8k.WAV");
	write_sine(in, 8000, 500, 0.6);
	struct vagent_audio_io *io = open_io(in, temp_path("out.wav"), 16000);
	struct captured c = { 0 };
	int16_t mic[16000], ref[16000];

	ck_assert_uint_eq(vagent_audio_io_read(io, mic, ref, 16000), 0); /* not started */
	ck_assert(!vagent_audio_io_has_reference(io));
	ck_assert_int_eq(vagent_audio_io_start(io, NULL), VAGENT_OK);
	/* Paced: right after start only what the clock allows, not the file. */
	size_t first = vagent_audio_io_read(io, mic, ref, 16000);
	ck_assert_uint_lt(first, 4800);
	captured_add(&c, mic, ref, first);
	double t0 = now_s();
	while (!vagent_audio_io_input_eof(io) && now_s() - t0 < 5) {
		pump(io, &c);
		pause_ms(10);
	}
	ck_assert(vagent_audio_io_input_eof(io));
	ck_assert_uint_eq(vagent_audio_io_read(io, mic, ref, 16000), 0);
	ck_assert_uint_eq(c.n, 9600); /* 0.6 s at 16 kHz */
	/* The 500 Hz sine at 16 kHz, in order (away from the filter's edges). */
	double err = 0, pw = 0;
	for (size_t i = 200; i < c.n - 200; i++) {
		double want = 0.5 * 32767 * sin(2 * M_PI * 500 * (double)i / 16000);
		err += (c.mic[i] - want) * (c.mic[i] - want);
		pw += want * want;
	}
	ck_assert_msg(err / pw < 1e-3, "relative error %g", err / pw);
	for (size_t i = 0; i < c.n; i++)
		ck_assert_int_eq(c.ref[i], 0); /* nothing was played */
	captured_free(&c);
	vagent_audio_io_free(io);
}
END_TEST

START_TEST(test_wav_output_written_at_free_and_reference)
{
	const char *in = temp_path("silence.wav"), *out = temp_path("agent.wav");
	write_sine(in, 16000, 0, 0.8);
	struct vagent_audio_io *io = open_io(in, out, 16000);
	size_t n;
	int16_t *tone = dtmf("7", 16000, &n); /* 100 ms tone, 100 ms gap */
	struct captured c = { 0 };

	ck_assert_int_eq(vagent_audio_io_start(io, NULL), VAGENT_OK);
	ck_assert_uint_eq(vagent_audio_io_write(io, tone, n), n);
	ck_assert_uint_gt(vagent_audio_io_pending(io), n / 2);
	double t0 = now_s();
	while (!vagent_audio_io_input_eof(io) && now_s() - t0 < 5) {
		pump(io, &c);
		pause_ms(10);
	}
	ck_assert_uint_eq(vagent_audio_io_pending(io), 0);
	/* The reference is the tone, where it was played (right after start). */
	size_t at = 0, lead = 0;
	while (at < c.n && c.ref[at] == 0)
		at++;
	while (tone[lead] == 0)
		lead++;
	ck_assert_uint_ge(at, lead);
	at -= lead;
	ck_assert_uint_lt(at, 1600);
	ck_assert_uint_ge(c.n, at + 1600);
	ck_assert_int_eq(memcmp(c.ref + at, tone, 1600 * sizeof(*tone)), 0);
	/* More than 2 s queued is refused. */
	int16_t *big = calloc(48000, sizeof(*big));
	size_t took = vagent_audio_io_write(io, big, 48000);
	ck_assert_uint_le(took, 32000);
	ck_assert_uint_gt(took, 30000);
	vagent_audio_io_free(io);

	struct vagent_audio *a = NULL;
	struct vagent_error err;
	ck_assert_msg(vagent_audio_load(out, VAGENT_CHANNELS_ALL, &a, &err) == VAGENT_OK, "%s",
		      err.message);
	ck_assert_int_eq(a->rate, 16000);
	ck_assert_int_eq(a->channels, 1);
	ck_assert_uint_ge(a->frames, at + n + took);
	char digits[8];
	ck_assert_uint_eq(vagent_dtmf_detect_audio(a, 0, digits, sizeof(digits)), 1);
	ck_assert_str_eq(digits, "7");
	vagent_audio_free(a);
	free(big);
	free(tone);
	captured_free(&c);
}
END_TEST

START_TEST(test_bad_configurations)
{
	char msg[600];
	struct vagent_audio_io_config cfg = vagent_audio_io_config_default();

	ck_assert_int_eq(cfg.rate, 16000);
	ck_assert_int_eq(cfg.frame_ms, 20);
	ck_assert_int_eq(open_fails(temp_path("missing.wav"), temp_path("o.wav"), 16000, msg,
				    sizeof(msg)), VAGENT_ENOENT);
	ck_assert_ptr_nonnull(strstr(msg, "missing.wav"));
	write_sine(temp_path("in.wav"), 16000, 300, 0.1);
	ck_assert_int_eq(open_fails(temp_path("in.wav"), temp_path("no/such/dir/o.wav"), 16000,
				    msg, sizeof(msg)), VAGENT_ENOENT);
	ck_assert_ptr_nonnull(strstr(msg, "no/such/dir/o.wav"));
	ck_assert_int_eq(open_fails(temp_path("in.wav"), temp_path("o.wav"), 1000, msg,
				    sizeof(msg)), VAGENT_EINVAL);
	ck_assert_ptr_nonnull(strstr(msg, "1000"));
	temp_file("text.wav", "this is not audio\n");
	ck_assert_int_eq(open_fails(temp_path("text.wav"), temp_path("o.wav"), 16000, msg,
				    sizeof(msg)), VAGENT_EFORMAT);
	ck_assert_ptr_nonnull(strstr(msg, "text.wav"));
	vagent_audio_io_free(NULL);
	ck_assert_int_eq(vagent_audio_io_status(NULL, NULL), VAGENT_EINVAL);
}
END_TEST

START_TEST(test_cli_devices_portaudio_cannot_start)
{
	/* A malformed ALSA configuration: PortAudio's ALSA back end fails. */
	setenv("ALSA_CONFIG_PATH", temp_file("asound.conf", "pcm.broken { type\n"), 1);
	struct run_result r = run_vagent("devices", NULL);
	ck_assert_int_eq(r.exit_code, 3);
	ck_assert_msg(strstr(r.err, "vagent: audio: PortAudio cannot start: ") != NULL, "%s", r.err);
	ck_assert_str_eq(r.out, "");
	run_result_free(&r);
	/* A missing one (PortAudio itself would abort). */
	setenv("ALSA_CONFIG_PATH", temp_path("missing.conf"), 1);
	r = run_vagent("devices", "--json", "-", NULL);
	ck_assert_int_eq(r.exit_code, 3);
	ck_assert_msg(strstr(r.err, "vagent: audio: PortAudio cannot start: ALSA_CONFIG_PATH names ") &&
		      strstr(r.err, "missing.conf") && count_lines(r.err) == 1, "%s", r.err);
	run_result_free(&r);
	unsetenv("ALSA_CONFIG_PATH");
}
END_TEST

/* ---- real devices through PulseAudio */

static struct pulse_server pulse;
static bool pulse_up;

static void pulse_setup(void)
{
	temp_dir_setup();
	if (pulse_tests_disabled())
		return;
	pulse_up = pulse_rig_start(&pulse, temp_dir);
}

static void pulse_teardown(void)
{
	if (pulse_up)
		pulse_stop(&pulse);
	pulse_up = false;
	temp_dir_teardown();
}

#define NEED_PULSE()                                                                 \
	do {                                                                         \
		if (pulse_tests_disabled()) {                                        \
			fprintf(stderr, "skipped: VAGENT_NO_AUDIO_TESTS=1\n");       \
			return;                                                      \
		}                                                                    \
	} while (0)

START_TEST(test_device_list)
{
	NEED_PULSE();
	struct vagent_device_info *list = NULL;
	size_t n = 0;
	struct vagent_error err;
	bool found = false, any_default_in = false;

	ck_assert_msg(vagent_devices_list(&list, &n, &err) == VAGENT_OK, "%s", err.message);
	ck_assert_uint_ge(n, 1);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(list[i].index, (int)i);
		ck_assert_str_eq(list[i].host_api, "ALSA");
		any_default_in |= list[i].default_input;
		if (strcmp(list[i].name, "pulse") == 0) {
			found = true;
			ck_assert_int_ge(list[i].max_input_channels, 1);
			ck_assert_int_ge(list[i].max_output_channels, 1);
			ck_assert(list[i].default_rate >= 8000);
		}
	}
	ck_assert(found);
	ck_assert(any_default_in);
	free(list);
}
END_TEST

START_TEST(test_cli_devices)
{
	NEED_PULSE();
	struct run_result r = run_vagent("devices", NULL);
	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	ck_assert_str_eq(r.err, "");
	ck_assert_msg(strncmp(r.out, "INDEX  NAME", 11) == 0, "%s", r.out);
	ck_assert_msg(strstr(r.out, " pulse ") && strstr(r.out, " ALSA ") && strstr(r.out, "in,out"),
		      "%s", r.out);
	run_result_free(&r);

	const char *path = temp_path("devices.json");
	r = run_vagent("devices", "--json", path, NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, " pulse ")); /* the table too */
	run_result_free(&r);
	char *json = read_file(path, NULL);
	ck_assert_ptr_nonnull(json);
	ck_assert_msg(strstr(json, "\"name\":\t\"pulse\"") && strstr(json, "\"host_api\":\t\"ALSA\"") &&
		      strstr(json, "\"default_input\":\ttrue"), "%s", json);
	free(json);

	r = run_vagent("devices", "--json", "-", NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_msg(r.out[0] == '{' && !strstr(r.out, "INDEX"), "%s", r.out);
	run_result_free(&r);
	r = run_vagent("devices", "extra", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	run_result_free(&r);
}
END_TEST

START_TEST(test_device_selection)
{
	NEED_PULSE();
	struct vagent_device_info *list = NULL;
	size_t n = 0;
	char msg[600], index[16];
	const char *out = temp_path("o.wav");

	ck_assert_int_eq(vagent_devices_list(&list, &n, NULL), VAGENT_OK);
	int pulse_index = -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].name, "pulse") == 0)
			pulse_index = (int)i;
	ck_assert_int_ge(pulse_index, 0);
	free(list);

	snprintf(index, sizeof(index), "%d", pulse_index);
	vagent_audio_io_free(open_io(index, out, 16000));
	vagent_audio_io_free(open_io("PULSE", out, 16000));   /* exact, any case */
	vagent_audio_io_free(open_io("uls", out, 8000));      /* the one substring match */
	vagent_audio_io_free(open_io(NULL, out, 16000));      /* the default */

	ck_assert_int_eq(open_fails("no-such-mic", out, 16000, msg, sizeof(msg)), VAGENT_ENOENT);
	ck_assert_str_eq(msg, "input device \"no-such-mic\": no such device (see vagent devices)");
	ck_assert_int_eq(open_fails("999", out, 16000, msg, sizeof(msg)), VAGENT_ENOENT);
	ck_assert_ptr_nonnull(strstr(msg, "\"999\""));
	ck_assert_int_eq(open_fails(temp_path("in.wav"), "nowhere", 16000, msg, sizeof(msg)),
			 VAGENT_ENOENT);
	ck_assert_int_eq(open_fails(temp_path("in.wav"), "", 16000, msg, sizeof(msg)),
			 VAGENT_ENOENT);  /* the WAV input is checked first */
	ck_assert_int_eq(open_fails("", out, 16000, msg, sizeof(msg)), VAGENT_EINVAL);
	ck_assert_str_eq(msg, "input device \"\": empty name (see vagent devices)");
	/* "e" is in "pulse" and "default": an error naming both. */
	ck_assert_int_eq(open_fails("e", out, 16000, msg, sizeof(msg)), VAGENT_EINVAL);
	ck_assert_msg(strstr(msg, "\"pulse\"") && strstr(msg, "\"default\"") &&
		      strstr(msg, "input device \"e\""), "%s", msg);
}
END_TEST

START_TEST(test_mic_round_trip)
{
	NEED_PULSE();
	struct vagent_audio_io *io = open_io("pulse", temp_path("o.wav"), 8000);
	struct captured c = { 0 };
	size_t n;
	int16_t *tones = dtmf("159#", PULSE_RATE, &n);
	char got[16] = "";

	ck_assert_int_eq(vagent_audio_io_start(io, NULL), VAGENT_OK);
	double t0 = now_s();
	pulse_feed(&pulse, tones, n);
	while (now_s() - t0 < 8) {
		pump(io, &c);
		ck_assert_int_eq(vagent_audio_io_status(io, NULL), VAGENT_OK);
		if (pulse_feed_done(&pulse) && detect(c.mic, c.n, 8000, got, sizeof(got), NULL) == 4)
			break;
		pause_ms(10);
	}
	ck_assert_str_eq(got, "159#");
	captured_free(&c);
	free(tones);
	vagent_audio_io_free(io);
}
END_TEST

START_TEST(test_speaker_round_trip_and_reference)
{
	NEED_PULSE();
	struct vagent_audio_io *io = open_io("pulse", "pulse", 16000);
	struct captured c = { 0 };
	size_t n;
	int16_t *tones = dtmf("2580", 16000, &n);
	char got[16] = "";

	ck_assert(vagent_audio_io_has_reference(io));
	ck_assert(pulse_capture_start(&pulse));
	ck_assert_int_eq(vagent_audio_io_start(io, NULL), VAGENT_OK);
	ck_assert_uint_eq(vagent_audio_io_write(io, tones, n), n);
	double t0 = now_s();
	while (vagent_audio_io_pending(io) > 0 && now_s() - t0 < 8) {
		struct vagent_error err;
		pump(io, &c);
		ck_assert_msg(vagent_audio_io_status(io, &err) == VAGENT_OK, "%s", err.message);
		pause_ms(10);
	}
	ck_assert_uint_eq(vagent_audio_io_pending(io), 0);
	/* Played out of the speaker: the sink's monitor hears the digits (after
	 * what is still in the device's and the server's buffers). */
	size_t cap_n = pulse_capture_count(&pulse);
	size_t until = cap_n + PULSE_RATE / 2;
	t0 = now_s();
	while (pulse_capture_count(&pulse) < until && now_s() - t0 < 8) {
		pump(io, &c);
		pause_ms(10);
	}
	int16_t *cap = pulse_capture_stop(&pulse, &cap_n);
	detect(cap, cap_n, PULSE_RATE, got, sizeof(got), NULL);
	ck_assert_str_eq(got, "2580");
	free(cap);
	/* The echo reference carried the same digits, next to the mic. */
	ck_assert_uint_eq(detect(c.ref, c.n, 16000, got, sizeof(got), NULL), 4);
	ck_assert_str_eq(got, "2580");
	captured_free(&c);
	free(tones);
	vagent_audio_io_free(io);
}
END_TEST

START_TEST(test_wav_input_device_output)
{
	NEED_PULSE();
	const char *in = temp_path("caller.wav");
	write_sine(in, 16000, 0, 3.0);            /* 3 s of silence */
	struct vagent_audio_io *io = open_io(in, "pulse", 16000);
	struct captured c = { 0 };
	size_t n;
	int16_t *tones = dtmf("47", 16000, &n);
	char got[16] = "";

	ck_assert(!vagent_audio_io_has_reference(io));  /* separate streams */
	ck_assert(pulse_capture_start(&pulse));
	ck_assert_int_eq(vagent_audio_io_start(io, NULL), VAGENT_OK);
	ck_assert_uint_eq(vagent_audio_io_write(io, tones, n), n);
	double t0 = now_s();
	while (vagent_audio_io_pending(io) > 0 && now_s() - t0 < 8) {
		pump(io, &c);
		pause_ms(10);
	}
	size_t until = pulse_capture_count(&pulse) + PULSE_RATE / 2;
	while (pulse_capture_count(&pulse) < until && now_s() - t0 < 8) {
		pump(io, &c);
		pause_ms(10);
	}
	size_t cap_n;
	int16_t *cap = pulse_capture_stop(&pulse, &cap_n);
	ck_assert_uint_eq(detect(cap, cap_n, PULSE_RATE, got, sizeof(got), NULL), 2);
	ck_assert_str_eq(got, "47");
	/* The reference: what the output stream played, next to the file's
	 * samples as they were read (a stall of the output's callback longer
	 * than the reference's cushion may cut a tone in two: "447"). */
	ck_assert_uint_ge(detect(c.ref, c.n, 16000, got, sizeof(got), NULL), 2);
	ck_assert_msg(strspn(got, "4") >= 1 && strspn(got, "4") + strspn(got + strspn(got, "4"), "7") ==
		      strlen(got), "reference digits \"%s\"", got);
	ck_assert_uint_eq(detect(c.mic, c.n, 16000, got, sizeof(got), NULL), 0);
	free(cap);
	captured_free(&c);
	free(tones);
	vagent_audio_io_free(io);
}
END_TEST

START_TEST(test_echo_reference_leads_the_echo)
{
	NEED_PULSE();
	struct vagent_audio_io *io = open_io("pulse", "pulse", 16000);
	struct captured c = { 0 };
	size_t n;
	int16_t *tone = dtmf("3", 16000, &n);
	struct vagent_dtmf_detector *dm = vagent_dtmf_detector_new(16000);
	struct vagent_dtmf_detector *dr = vagent_dtmf_detector_new(16000);
	char dmic[8], dref[8];
	int64_t on_mic[8], on_ref[8];
	size_t n_mic = 0, n_ref = 0, fed = 0;
	double ref_delay_ms = -1;

	pulse_loopback(&pulse, true);   /* the speaker is heard by the mic */
	ck_assert_int_eq(vagent_audio_io_start(io, NULL), VAGENT_OK);
	vagent_audio_io_latency(io, NULL, NULL, &ref_delay_ms);
	ck_assert(ref_delay_ms > 0 && ref_delay_ms <= 500);
	double t0 = now_s();
	while (c.n < 3200 && now_s() - t0 < 5) {   /* audio flows */
		pump(io, &c);
		pause_ms(10);
	}
	ck_assert_uint_eq(vagent_audio_io_write(io, tone, n), n);
	t0 = now_s();
	while ((n_mic == 0 || n_ref == 0) && now_s() - t0 < 8) {
		pump(io, &c);
		n_ref += vagent_dtmf_detector_feed(dr, c.ref + fed, c.n - fed, dref + n_ref,
						   on_ref + n_ref, 8 - n_ref);
		n_mic += vagent_dtmf_detector_feed(dm, c.mic + fed, c.n - fed, dmic + n_mic,
						   on_mic + n_mic, 8 - n_mic);
		fed = c.n;
		pause_ms(10);
	}
	ck_assert_uint_eq(n_ref, 1);
	ck_assert_uint_eq(n_mic, 1);
	ck_assert_int_eq(dref[0], '3');
	ck_assert_int_eq(dmic[0], '3');
	/* The reference comes no later than the echo, and not long before. */
	int64_t lead = on_mic[0] - on_ref[0];
	ck_assert_msg(lead >= 0 && lead < 16000 * 3 / 10, "the echo comes %lld samples after "
		      "the reference", (long long)lead);
	vagent_dtmf_detector_free(dm);
	vagent_dtmf_detector_free(dr);
	captured_free(&c);
	free(tone);
	vagent_audio_io_free(io);
}
END_TEST

START_TEST(test_source_unloaded_mid_stream)
{
	NEED_PULSE();
	struct vagent_audio_io *io = open_io("pulse", temp_path("o.wav"), 16000);
	struct captured c = { 0 };
	struct vagent_error err;

	ck_assert_int_eq(vagent_audio_io_start(io, NULL), VAGENT_OK);
	double t0 = now_s();
	while (c.n < 3200 && now_s() - t0 < 5) {
		pump(io, &c);
		pause_ms(10);
	}
	ck_assert_uint_ge(c.n, 3200);  /* audio flowed */
	ck_assert_int_eq(vagent_audio_io_status(io, &err), VAGENT_OK);
	/* PulseAudio moves a stream whose source vanishes to another source
	 * (here the speaker's monitor), which the application never notices;
	 * with the speaker gone first there is nowhere to move it. */
	ck_assert(pulse_unload_sink(&pulse));
	ck_assert(pulse_unload_source(&pulse));
	vagent_status st = VAGENT_OK;
	t0 = now_s();
	while (st == VAGENT_OK && now_s() - t0 < 8) {
		pump(io, &c);
		st = vagent_audio_io_status(io, &err);
		pause_ms(10);
	}
	ck_assert_int_eq(st, VAGENT_EIO);
	ck_assert_msg(strstr(err.message, "input device \"pulse\"") != NULL, "%s", err.message);
	ck_assert_ptr_null(strchr(err.message, '\n'));
	captured_free(&c);
	vagent_audio_io_free(io);    /* no hang */
}
END_TEST

Suite *suite_device(void)
{
	Suite *s = suite_create("device");
	TCase *wav = tcase_create("wav");
	TCase *dev = tcase_create("pulse");

	tcase_set_timeout(wav, 20);
	tcase_add_checked_fixture(wav, temp_dir_setup, temp_dir_teardown);
	tcase_add_test(wav, test_wav_input_paced_and_resampled);
	tcase_add_test(wav, test_wav_output_written_at_free_and_reference);
	tcase_add_test(wav, test_bad_configurations);
	tcase_add_test(wav, test_cli_devices_portaudio_cannot_start);
	suite_add_tcase(s, wav);

	tcase_set_timeout(dev, 30);
	tcase_add_checked_fixture(dev, pulse_setup, pulse_teardown);
	tcase_add_test(dev, test_device_list);
	tcase_add_test(dev, test_cli_devices);
	tcase_add_test(dev, test_device_selection);
	tcase_add_test(dev, test_mic_round_trip);
	tcase_add_test(dev, test_speaker_round_trip_and_reference);
	tcase_add_test(dev, test_wav_input_device_output);
	tcase_add_test(dev, test_echo_reference_leads_the_echo);
	tcase_add_test(dev, test_source_unloaded_mid_stream);
	suite_add_tcase(s, dev);
	return s;
}
