/*
 * audio.c — `vagent audio info|convert|mix`: inspect, convert and mix audio
 * files; a thin layer over the library's audio module.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "vagent.h"
#include "builtins.h"
#include "options.h"
#include "output.h"

static const char *const channel_choices[] = { "all", "left", "right", "mix", NULL };
static const char *const encoding_choices[] = {
	"pcm16", "pcm24", "pcm32", "float", "ulaw", "alaw", "flac", "opus", NULL,
};

static void print_overview(FILE *out)
{
	fprintf(out,
		"usage: vagent audio <command> [OPTION]... FILE...\n"
		"\n"
		"Inspect, convert and mix audio files (WAV in any libsndfile encoding,\n"
		"FLAC, Ogg Opus).\n"
		"\n"
		"Commands:\n"
		"  info FILE...              format, rate, channels, duration, levels and silence\n"
		"  convert IN OUT            change rate, channels or encoding\n"
		"  mix SPEECH NOISE -o OUT   add noise to speech at a target SNR (--snr DB)\n"
		"\n"
		"'vagent audio <command> --help' shows a command's options.\n"
		"Exit codes: 0 ok, 2 bad input or usage, 3 cannot write the output.\n");
}

/* Load with the library's one-line error; warnings go to stderr too.
 * Returns the exit code (0 when loaded). */
static int load_err(const char *path, vagent_channel_select sel, struct vagent_audio **out,
		    struct vagent_error *err)
{
	vagent_status st = vagent_audio_load(path, sel, out, err);

	if (st) {
		cmd_error("%s", err->message);
		return vagent_status_exit_code(st);
	}
	if ((*out)->warning[0])
		cmd_error("warning: %s", (*out)->warning);
	return 0;
}

static int load(const char *path, vagent_channel_select sel, struct vagent_audio **out)
{
	struct vagent_error err;

	return load_err(path, sel, out, &err);
}

static double db(double amplitude)
{
	return vagent_db_from_amplitude(amplitude);
}

static cJSON *number_or_null(double v)
{
	return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

/* ---- info */

static const struct cmd_usage info_usage = {
	.name = "audio info",
	.synopsis = "vagent audio info [OPTION]... FILE...",
	.summary = "Show format, encoding, rate, channels, duration, peak and RMS level\n"
		   "(dBFS) and leading/trailing silence of each audio file.",
	.description =
		"Silence is found with 10 ms windows: a window whose RMS is above the\n"
		"threshold (default -45 dBFS) is speech; pauses under 200 ms are joined and\n"
		"bursts under 30 ms ignored. A file with no speech region is silent.\n",
	.epilogue = "Examples:\n"
		    "  vagent audio info call.wav\n"
		    "  vagent audio info --json - prompts/*.wav\n",
	.min_args = 1, .max_args = -1,
};

static int cmd_audio_info(int argc, char **argv)
{
	const char *json = NULL, *channel = "all";
	double threshold = -45.0;
	bool regions = false;
	const struct cmd_option opts[] = {
		OPT_STRING_(0, "json", &json, "FILE", "write the results as JSON to FILE ('-' for stdout)"),
		OPT_CHOICE_(0, "channel", &channel, "CH", "analyse these channels", channel_choices),
		OPT_DOUBLE_(0, "threshold", &threshold, "DBFS",
			    "speech/silence threshold in dBFS (default -45)", -120, 0),
		OPT_BOOL_(0, "regions", &regions, "also list the speech regions"),
		OPT_END_(),
	};
	int n = parse_options(&info_usage, opts, argc, argv), rc = 0;
	bool to_stdout;
	cJSON *arr = NULL;

	if (n == PARSE_OPT_HELP)
		return 0;
	if (n < 0)
		return 2;
	to_stdout = json && !strcmp(json, "-");
	if (json)
		arr = cJSON_CreateArray();
	for (int i = 0; i < n; i++) {
		struct vagent_silence_config sc = vagent_silence_config_default();
		struct vagent_silence_result sr;
		struct vagent_audio *a = NULL;
		struct vagent_error err;
		double dur, peak, rms;
		int lrc = load_err(argv[i], (vagent_channel_select)vagent_channel_select_from_name(channel),
				   &a, &err);

		if (lrc) {
			if (arr) {
				cJSON *o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "file", argv[i]);
				cJSON_AddStringToObject(o, "error", err.message);
				cJSON_AddStringToObject(o, "status", vagent_status_name(err.status));
				cJSON_AddItemToArray(arr, o);
			}
			rc = rc > lrc ? rc : lrc;
			continue;
		}
		sc.threshold_dbfs = threshold;
		if (vagent_audio_detect_silence(a, &sc, &sr, &err)) {
			cmd_error("%s: %s", argv[i], err.message);
			vagent_audio_free(a);
			rc = 2;
			continue;
		}
		dur = vagent_audio_duration(a);
		peak = db(vagent_audio_peak(a));
		rms = db(vagent_audio_rms(a));
		if (arr) {
			cJSON *o = cJSON_CreateObject(), *rg;
			cJSON_AddStringToObject(o, "file", argv[i]);
			cJSON_AddStringToObject(o, "format", a->format_name);
			cJSON_AddStringToObject(o, "container", vagent_container_name(a->container));
			cJSON_AddStringToObject(o, "encoding", vagent_encoding_name(a->encoding));
			cJSON_AddNumberToObject(o, "rate", a->rate);
			if (a->source_rate != a->rate)
				cJSON_AddNumberToObject(o, "source_rate", a->source_rate);
			cJSON_AddNumberToObject(o, "channels", a->source_channels);
			cJSON_AddNumberToObject(o, "frames", (double)a->frames);
			cJSON_AddNumberToObject(o, "duration_s", dur);
			cJSON_AddItemToObject(o, "peak_dbfs", number_or_null(peak));
			cJSON_AddItemToObject(o, "rms_dbfs", number_or_null(rms));
			cJSON_AddNumberToObject(o, "leading_silence_s", (double)sr.leading / a->rate);
			cJSON_AddNumberToObject(o, "trailing_silence_s", (double)sr.trailing / a->rate);
			cJSON_AddBoolToObject(o, "silent", sr.silent);
			rg = cJSON_AddArrayToObject(o, "speech_regions");
			for (size_t k = 0; k < sr.n_spans; k++) {
				cJSON *p = cJSON_CreateArray();
				cJSON_AddItemToArray(p, cJSON_CreateNumber((double)sr.spans[k].start / a->rate));
				cJSON_AddItemToArray(p, cJSON_CreateNumber((double)sr.spans[k].end / a->rate));
				cJSON_AddItemToArray(rg, p);
			}
			if (a->warning[0])
				cJSON_AddStringToObject(o, "warning", a->warning);
			cJSON_AddItemToArray(arr, o);
		}
		if (!to_stdout) {
			if (i)
				putchar('\n');
			printf("%s\n", argv[i]);
			printf("  format:    %s, %s\n", a->format_name, vagent_encoding_name(a->encoding));
			if (a->source_rate != a->rate)
				printf("  rate:      %d Hz (decoded; encoder input was %d Hz)\n", a->rate,
				       a->source_rate);
			else
				printf("  rate:      %d Hz\n", a->rate);
			printf("  channels:  %d%s\n", a->source_channels,
			       a->channels != a->source_channels ? " (analysed: mono selection)" : "");
			printf("  duration:  %.3f s (%zu samples per channel)\n", dur, a->frames);
			printf("  peak:      %.1f dBFS\n", peak);
			printf("  rms:       %.1f dBFS\n", rms);
			printf("  silence:   leading %.3f s, trailing %.3f s\n",
			       (double)sr.leading / a->rate, (double)sr.trailing / a->rate);
			printf("  silent:    %s\n", sr.silent ? "yes" : "no");
			if (regions)
				for (size_t k = 0; k < sr.n_spans; k++)
					printf("  speech:    %.3f - %.3f s\n", (double)sr.spans[k].start / a->rate,
					       (double)sr.spans[k].end / a->rate);
		}
		vagent_silence_result_clear(&sr);
		vagent_audio_free(a);
	}
	if (arr) {
		char *text = cJSON_Print(arr);
		int wrc = 3;

		if (text)
			wrc = cmd_write_output(json, text);
		else
			cmd_error("out of memory writing JSON");
		rc = rc > wrc ? rc : wrc;
		cJSON_free(text);
		cJSON_Delete(arr);
	}
	return rc;
}

/* ---- convert */

static int save(const struct vagent_audio *a, const char *path, const char *encoding)
{
	struct vagent_audio_save_opts o = vagent_audio_save_opts_default();
	struct vagent_error err;
	vagent_status st;

	if (encoding && !strcmp(encoding, "flac")) {
		o.container = VAGENT_CONTAINER_FLAC;
		o.encoding = VAGENT_ENC_PCM16;
	} else if (encoding && !strcmp(encoding, "opus")) {
		o.container = VAGENT_CONTAINER_OGG;
		o.encoding = VAGENT_ENC_OPUS;
	} else if (encoding) {
		o.encoding = vagent_encoding_from_name(encoding);
	}
	st = vagent_audio_save(a, path, &o, &err);
	if (st) {
		cmd_error("%s", err.message);
		return vagent_status_exit_code(st);
	}
	return 0;
}

/* Resample in place when `rate` is set and differs. */
static int resample(struct vagent_audio **a, long rate)
{
	struct vagent_audio *b = NULL;
	struct vagent_error err;

	if (!rate || rate == (*a)->rate)
		return 0;
	if (vagent_audio_resample(*a, (int)rate, -1, &b, &err)) {
		cmd_error("%s", err.message);
		return 2;
	}
	vagent_audio_free(*a);
	*a = b;
	return 0;
}

static size_t count_clipped(const struct vagent_audio *a)
{
	size_t n = 0, total = a->frames * (size_t)a->channels;

	for (size_t i = 0; i < total; i++)
		n += a->samples[i] >= 1.0f || a->samples[i] < -1.0f;
	return n;
}

static void warn_clipping(const struct vagent_audio *a, const char *path, const char *encoding)
{
	size_t n;

	if (encoding && !strcmp(encoding, "float"))
		return;
	n = count_clipped(a);
	if (n)
		cmd_error("warning: %s: %zu sample%s clipped at full scale (lower --gain)", path, n,
			  n == 1 ? "" : "s");
}

static const struct cmd_usage convert_usage = {
	.name = "audio convert",
	.synopsis = "vagent audio convert [OPTION]... IN OUT",
	.summary = "Convert an audio file: sample rate, channels, encoding, gain.",
	.description =
		"The output container follows OUT's extension (.wav, .flac, .opus/.ogg)\n"
		"unless --encoding flac or opus chooses it. Resampling uses speexdsp\n"
		"(quality 7) with its delay removed: the output has exactly\n"
		"round(frames * RATE / input rate) samples, aligned with the input.\n",
	.epilogue = "Examples:\n"
		    "  vagent audio convert --rate 8000 --encoding ulaw in.flac phone.wav\n"
		    "  vagent audio convert --channel right call.wav agent.wav\n",
	.min_args = 2, .max_args = 2,
};

static int cmd_audio_convert(int argc, char **argv)
{
	const char *channel = "all", *encoding = NULL;
	long rate = 0;
	double gain = 0;
	const struct cmd_option opts[] = {
		OPT_INT_(0, "rate", &rate, "HZ", "resample to HZ", 1000, 384000),
		OPT_CHOICE_(0, "channel", &channel, "CH", "keep these channels (default all)",
			    channel_choices),
		OPT_CHOICE_(0, "encoding", &encoding, "ENC", "output encoding (default pcm16)",
			    encoding_choices),
		OPT_DOUBLE_(0, "gain", &gain, "DB", "apply a gain in dB", -120, 120),
		OPT_END_(),
	};
	int n = parse_options(&convert_usage, opts, argc, argv), rc;
	struct vagent_audio *a = NULL;

	if (n == PARSE_OPT_HELP)
		return 0;
	if (n < 0)
		return 2;
	rc = load(argv[0], (vagent_channel_select)vagent_channel_select_from_name(channel), &a);
	if (!rc)
		rc = resample(&a, rate);
	if (!rc) {
		if (gain != 0)
			vagent_audio_gain(a, gain);
		warn_clipping(a, argv[1], encoding);
		rc = save(a, argv[1], encoding);
	}
	vagent_audio_free(a);
	return rc;
}

/* ---- mix */

static const struct cmd_usage mix_usage = {
	.name = "audio mix",
	.synopsis = "vagent audio mix [OPTION]... --snr DB -o OUT SPEECH NOISE",
	.summary = "Mix NOISE into SPEECH at a signal-to-noise ratio.",
	.description =
		"NOISE is resampled to SPEECH's rate, mixed to mono when the channel\n"
		"counts differ, looped or trimmed to SPEECH's length, and scaled so that\n"
		"10*log10(P_speech / P_noise) = DB, with P the mean square over the whole\n"
		"file. --gain is applied to the mix afterwards.\n",
	.epilogue = "Example:\n"
		    "  vagent audio mix --snr 10 -o noisy.wav prompt.wav fixtures/noise/exercise_bike.wav\n",
	.min_args = 2, .max_args = 2,
};

static int cmd_audio_mix(int argc, char **argv)
{
	const char *out = NULL, *encoding = NULL;
	double gain = 0, snr = NAN;
	bool quiet = false;
	const struct cmd_option opts[] = {
		OPT_DOUBLE_(0, "snr", &snr, "DB", "target signal-to-noise ratio in dB (required)",
			    -100, 200),
		OPT_STRING_('o', "output", &out, "OUT", "output file (required)"),
		OPT_DOUBLE_(0, "gain", &gain, "DB", "gain applied to the mix in dB", -120, 120),
		OPT_CHOICE_(0, "encoding", &encoding, "ENC", "output encoding (default pcm16)",
			    encoding_choices),
		OPT_BOOL_('q', "quiet", &quiet, "do not print the levels line"),
		OPT_END_(),
	};
	int n = parse_options(&mix_usage, opts, argc, argv), rc;
	struct vagent_audio *speech = NULL, *noise = NULL, *m = NULL, *tmp = NULL;
	struct vagent_error err;

	if (n == PARSE_OPT_HELP)
		return 0;
	if (n < 0)
		return 2;
	if (isnan(snr))
		return cmd_usage_error("audio mix", "--snr DB is required");
	if (!out)
		return cmd_usage_error("audio mix", "-o OUT is required");
	rc = load(argv[0], VAGENT_CHANNELS_ALL, &speech);
	if (!rc)
		rc = load(argv[1], VAGENT_CHANNELS_ALL, &noise);
	if (!rc)
		rc = resample(&noise, speech->rate);
	if (!rc && noise->channels != 1 && noise->channels != speech->channels) {
		if (vagent_audio_select(noise, VAGENT_CHANNELS_MIX, &tmp, &err)) {
			cmd_error("%s: %s", argv[1], err.message);
			rc = 2;
		} else {
			vagent_audio_free(noise);
			noise = tmp;
		}
	}
	if (!rc && vagent_audio_mix_snr(speech, noise, snr, &m, &err)) {
		cmd_error("%s + %s: %s", argv[0], argv[1], err.message);
		rc = 2;
	}
	if (!rc) {
		double ps = db(vagent_audio_rms(speech));
		if (gain != 0)
			vagent_audio_gain(m, gain);
		warn_clipping(m, out, encoding);
		rc = save(m, out, encoding);
		if (!rc && !quiet)
			printf("%s: speech %.1f dBFS RMS + noise %.1f dBFS RMS (SNR %.1f dB)%s\n", out, ps,
			       ps - snr, snr, gain != 0 ? ", then gain applied" : "");
	}
	vagent_audio_free(speech);
	vagent_audio_free(noise);
	vagent_audio_free(m);
	return rc;
}

int cmd_audio(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} subs[] = {
		{ "convert", cmd_audio_convert },
		{ "info", cmd_audio_info },
		{ "mix", cmd_audio_mix },
	};

	if (argc < 2)
		return cmd_usage_error("audio", "expected a command: info, convert or mix");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_overview(stdout);
		return 0;
	}
	if (argv[1][0] == '-')
		return cmd_usage_error("audio", "unknown option '%s'", argv[1]);
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(argc - 1, argv + 1);
	return cmd_usage_error("audio", "'%s' is not an audio command (info, convert, mix)", argv[1]);
}
