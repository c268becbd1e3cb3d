/*
 * transcribe.c — `vagent transcribe FILE...`: offline speech recognition
 * with the embedded pocketsphinx recogniser (lib/stt, docs/stt.md); one
 * sclite trn line per file, so the output scores with `vagent wer`.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vagent.h"
#include "builtins.h"
#include "options.h"

static const struct cmd_usage transcribe_usage = {
	.name = "transcribe",
	.synopsis = "vagent transcribe [OPTION]... FILE...",
	.summary = "Transcribe audio files with the embedded pocketsphinx recognizer.",
	.description =
		"Each FILE (WAV incl. mu-law/A-law, FLAC, Ogg Opus, anything vagent audio\n"
		"reads) is mixed to mono, resampled to the recognizer's rate and decoded as\n"
		"one utterance by the decoder and front end a call at that rate uses (with\n"
		"the utterance's own cepstral mean: docs/stt.md). Prints one sclite trn line\n"
		"per file, \"text (id)\", id = the file's base name without extension, so\n"
		"  vagent transcribe *.wav > hyp.trn && vagent wer ref.trn hyp.trn\n"
		"scores it. The default rate is 8000 for files at 8 kHz or less (telephone\n"
		"audio: the telephone-band front end), else 16000.",
	.epilogue =
		"The model is pocketsphinx-en-us (or $VAGENT_SPHINX_MODEL); loading it takes\n"
		"about a second. A boost file has one expected phrase per line (intent\n"
		"examples, slot values; '#' starts a comment): a small trigram model built\n"
		"from them is interpolated with the general one, weight --boost-weight.\n"
		"Boost words missing from the dictionary are reported on stderr and dropped.\n"
		"\n"
		"Exit status: 0 transcribed; 2 bad input (a file that cannot be read, a bad\n"
		"boost file); 3 the recognizer or the system failed.\n"
		"\n"
		"Examples:\n"
		"  vagent transcribe call.wav\n"
		"  vagent transcribe --rate 8000 --boost phrases.txt fixtures/speech/asterisk/*.wav\n"
		"  vagent transcribe --json - utt.flac\n"
		"See docs/stt.md.\n",
	.min_args = 1, .max_args = -1,
};

static const char *const rate_choices[] = { "8000", "16000", NULL };

/* The base name of `path` without its extension, into buf. */
static void file_id(const char *path, char *buf, size_t size)
{
	const char *b = strrchr(path, '/');
	char *dot;

	snprintf(buf, size, "%s", b ? b + 1 : path);
	dot = strrchr(buf, '.');
	if (dot && dot != buf)
		*dot = '\0';
}

/* Read the boost file: one phrase a line, '#' comments, blanks skipped.
 * Returns 0, or the exit code after printing the error. */
static int read_boost(const char *path, char ***out, char **buf_out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, **lines = NULL, *p;
	size_t len = 0, cap = 0, n = 0, got;

	*out = NULL;
	*buf_out = NULL;
	if (!f) {
		cmd_error("%s: cannot open boost file: %s", path, strerror(errno));
		return 2;
	}
	do {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap ? 2 * cap : 65536);

			if (!nb) {
				fclose(f);
				free(buf);
				cmd_error("out of memory");
				return 3;
			}
			buf = nb;
			cap = cap ? 2 * cap : 65536;
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
	} while (got);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		cmd_error("%s: cannot read boost file: %s", path, strerror(errno));
		return 2;
	}
	fclose(f);
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		free(buf);
		cmd_error("%s: not a text file (NUL byte)", path);
		return 2;
	}
	lines = calloc(len / 2 + 2, sizeof(*lines));
	if (!lines) {
		free(buf);
		cmd_error("out of memory");
		return 3;
	}
	for (p = buf; *p;) {
		char *e = strchr(p, '\n'), *hash;

		if (e)
			*e = '\0';
		if ((hash = strchr(p, '#')))
			*hash = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (*p)
			lines[n++] = p;
		if (!e)
			break;
		p = e + 1;
	}
	if (!n) {
		free(lines);
		free(buf);
		cmd_error("%s: boost file has no phrases", path);
		return 2;
	}
	*out = lines;
	*buf_out = buf;
	return 0;
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static double seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_transcribe(int argc, char **argv)
{
	const char *rate = NULL, *boost = NULL, *json = NULL;
	double weight = -1;
	const struct cmd_option opts[] = {
		OPT_CHOICE_(0, "rate", &rate, "HZ",
			    "recognizer rate (default: 8000 for files at <= 8 kHz, else 16000)",
			    rate_choices),
		OPT_STRING_(0, "boost", &boost, "FILE",
			    "expected phrases, one a line: the vocabulary boost"),
		OPT_DOUBLE_(0, "boost-weight", &weight, "X",
			    "weight of the boost model, 0..1 (default 0.5)", 0, 1),
		OPT_STRING_(0, "json", &json, "FILE",
			    "also write JSON lines {id,file,text,confidence,audio_s,decode_s} to FILE ('-': stdout instead of trn)"),
		OPT_END_(),
	};
	struct vagent_sphinx_transcriber *t[2] = { NULL, NULL };   /* 8k, 16k */
	struct vagent_sphinx_config cfg = vagent_sphinx_config_default();
	char **phrases = NULL, *boost_buf = NULL;
	FILE *jf = NULL;
	bool trn = true, progress = isatty(2);
	int n, i, rc = 0;

	n = parse_options(&transcribe_usage, opts, argc, argv);
	if (n == PARSE_OPT_HELP)
		return 0;
	if (n < 0)
		return 2;
	if (n < 1)
		return cmd_usage_error("transcribe", "expected at least one FILE");
	if (weight >= 0 && !boost)
		return cmd_usage_error("transcribe", "--boost-weight needs --boost");
	if (boost && (rc = read_boost(boost, &phrases, &boost_buf)))
		return rc;
	cfg.boost_phrases = (const char *const *)phrases;
	if (weight >= 0)
		cfg.boost_weight = weight;
	if (json) {
		if (!strcmp(json, "-")) {
			jf = stdout;
			trn = false;
		} else if (!(jf = fopen(json, "w"))) {
			cmd_error("%s: cannot write: %s", json, strerror(errno));
			rc = 2;
			goto out;
		}
	}

	for (i = 0; i < n; i++) {
		struct vagent_audio *a = NULL;
		struct vagent_error err;
		char id[256], *text = NULL;
		double conf = -1, t0, dt;
		int r, k;
		vagent_status st;

		st = vagent_audio_load(argv[i], VAGENT_CHANNELS_MIX, &a, &err);
		if (st != VAGENT_OK) {
			cmd_error("%s", err.message);
			rc = vagent_status_exit_code(st);
			goto out;
		}
		r = rate ? atoi(rate) : (a->rate <= 8000 ? 8000 : 16000);
		k = r == 8000 ? 0 : 1;
		if (!t[k]) {
			cfg.rate = r;
			st = vagent_sphinx_transcriber_new(&cfg, &t[k], &err);
			if (st != VAGENT_OK) {
				vagent_audio_free(a);
				cmd_error("%s", err.message);
				rc = vagent_status_exit_code(st);
				goto out;
			}
			if (*vagent_sphinx_transcriber_oov(t[k]))
				fprintf(stderr, "vagent transcribe: warning: %s: words not in the dictionary, dropped: %s\n",
					boost, vagent_sphinx_transcriber_oov(t[k]));
		}
		if (progress)
			fprintf(stderr, "\r[%d/%d] %s\033[K", i + 1, n, argv[i]);
		t0 = seconds_now();
		st = vagent_sphinx_transcriber_run(t[k], a, &text, &conf, &err);
		dt = seconds_now() - t0;
		if (st != VAGENT_OK) {
			if (progress)
				fprintf(stderr, "\r\033[K");
			vagent_audio_free(a);
			cmd_error("%s: %s", argv[i], err.message);
			rc = vagent_status_exit_code(st);
			goto out;
		}
		file_id(argv[i], id, sizeof(id));
		if (trn) {
			if (*text)
				printf("%s (%s)\n", text, id);
			else
				printf("(%s)\n", id);
		}
		if (jf) {
			fprintf(jf, "{\"id\":");
			json_string(jf, id);
			fprintf(jf, ",\"file\":");
			json_string(jf, argv[i]);
			fprintf(jf, ",\"text\":");
			json_string(jf, text);
			if (conf >= 0)
				fprintf(jf, ",\"confidence\":%.3f", conf);
			else
				fprintf(jf, ",\"confidence\":null");
			fprintf(jf, ",\"rate\":%d,\"audio_s\":%.3f,\"decode_s\":%.3f}\n",
				r, (double)a->frames / a->rate, dt);
		}
		free(text);
		vagent_audio_free(a);
	}
	if (progress)
		fprintf(stderr, "\r\033[K");
out:
	if (jf && jf != stdout && fclose(jf) != 0 && !rc) {
		cmd_error("%s: cannot write: %s", json, strerror(errno));
		rc = 3;
	}
	vagent_sphinx_transcriber_free(t[0]);
	vagent_sphinx_transcriber_free(t[1]);
	free(phrases);
	free(boost_buf);
	return rc;
}
