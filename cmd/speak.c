/*
 * speak.c — `vagent speak`: synthesise text with one of the embedded flite
 * voices into an audio file (docs/tts.md); a thin layer over
 * vagent_flite_synth().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "builtins.h"
#include "options.h"

/* Longest text accepted (the library's limit; longer is refused there). */
#define MAX_STDIN_TEXT (1 << 20)

static const char *const encoding_choices[] = { "pcm16", "ulaw", "alaw", NULL };

static const struct cmd_usage speak_usage = {
	.name = "speak",
	.synopsis = "vagent speak [OPTION]... -o OUT TEXT...\n"
		    "   or: vagent speak [OPTION]... -o OUT -\n"
		    "   or: vagent speak --list-voices",
	.summary = "Synthesise TEXT with an embedded flite voice into an audio file.",
	.description =
		"The words of TEXT are joined with spaces; '-' reads the text from standard\n"
		"input instead (all of it, one file). Voices: slt (US female, the agent's\n"
		"default), rms (US male), awb (Scottish male), kal16 (US male, diphone);\n"
		"all are 16 kHz and are resampled to --rate. Order and reference numbers\n"
		"are read digit by digit (\"order 12345\" -> \"one two three four five\"),\n"
		"amounts as amounts (\"$49.99\"). The output is WAV unless OUT ends in\n"
		".flac or .opus; ulaw and alaw need WAV. The same text, voice and rate give\n"
		"the same samples. At most 10000 bytes of text.\n",
	.epilogue = "Examples:\n"
		    "  vagent speak -o hello.wav Hello, how can I help you today?\n"
		    "  vagent speak --voice rms --rate 8000 --encoding ulaw -o caller.wav \\\n"
		    "      I would like to check on order 12345.\n"
		    "  echo 'Your refund of $42.50 is on its way.' | vagent speak -o refund.wav -\n"
		    "\n"
		    "Exit codes: 0 ok, 2 bad input or usage, 3 synthesis or writing failed.\n",
	.min_args = 0, .max_args = -1,
};

static int list_voices(void)
{
	for (const char *const *v = vagent_flite_voices(); *v; v++) {
		struct vagent_flite_voice_info info;
		struct vagent_error err;

		if (vagent_flite_voice_info(*v, &info, &err) != VAGENT_OK) {
			cmd_error("%s", err.message);
			return vagent_status_exit_code(err.status);
		}
		printf("%-6s %5d Hz  %s\n", info.name, info.rate, info.description);
	}
	return 0;
}

/* Standard input, whole (malloc'd), or NULL after printing the error. */
static char *read_stdin_text(void)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	if (!buf) {
		cmd_error("<stdin>: out of memory");
		return NULL;
	}
	for (;;) {
		size_t got = fread(buf + len, 1, cap - len - 1, stdin);

		len += got;
		if (got == 0)
			break;
		if (len + 1 == cap) {
			char *bigger;

			if (cap >= MAX_STDIN_TEXT)
				break;      /* the library refuses it as too long */
			bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				cmd_error("<stdin>: out of memory");
				return NULL;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	if (ferror(stdin)) {
		free(buf);
		cmd_error("<stdin>: read failed");
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* argv[0..n-1] joined with spaces (malloc'd), or NULL when out of memory. */
static char *join_words(int n, char **argv)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < n; i++)
		len += strlen(argv[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

int cmd_speak(int argc, char **argv)
{
	const char *voice = "slt", *encoding = NULL, *output = NULL;
	bool list = false;
	long rate = 0;
	const struct cmd_option opts[] = {
		OPT_STRING_('o', "output", &output, "FILE", "write the audio to FILE (required)"),
		OPT_CHOICE_(0, "voice", &voice, "VOICE", "the voice (default slt)",
			    vagent_flite_voices()),
		OPT_INT_(0, "rate", &rate, "HZ",
			 "sample rate of the output (default: the voice's, 16000)", 1000, 384000),
		OPT_CHOICE_(0, "encoding", &encoding, "ENC", "WAV encoding (default pcm16)",
			    encoding_choices),
		OPT_BOOL_(0, "list-voices", &list, "list the voices and exit"),
		OPT_END_(),
	};
	int n = parse_options(&speak_usage, opts, argc, argv), rc = 0;
	struct vagent_audio_save_opts so = vagent_audio_save_opts_default();
	struct vagent_flite_voice_info info;
	struct vagent_audio *a = NULL;
	struct vagent_error err;
	vagent_status st;
	char *text;

	if (n == PARSE_OPT_HELP)
		return 0;
	if (n < 0)
		return 2;
	if (list) {
		if (n > 0 || output)
			return cmd_usage_error("speak", "--list-voices takes no text or output");
		return list_voices();
	}
	if (!output)
		return cmd_usage_error("speak", "no output file (-o OUT)");
	if (n == 0)
		return cmd_usage_error("speak", "no text to speak (give TEXT... or '-')");
	if (n == 1 && !strcmp(argv[0], "-"))
		text = read_stdin_text();
	else if ((text = join_words(n, argv)) == NULL)
		cmd_error("out of memory");
	if (!text)
		return 3;
	if (vagent_flite_voice_info(voice, &info, &err) != VAGENT_OK) {
		free(text);
		cmd_error("%s", err.message);
		return vagent_status_exit_code(err.status);
	}
	st = vagent_flite_synth(text, voice, rate ? (int)rate : info.rate, &a, &err);
	free(text);
	if (st != VAGENT_OK) {
		cmd_error("%s", err.message);
		return vagent_status_exit_code(st);
	}
	if (encoding)
		so.encoding = vagent_encoding_from_name(encoding);
	st = vagent_audio_save(a, output, &so, &err);
	if (st != VAGENT_OK) {
		cmd_error("%s", err.message);
		rc = vagent_status_exit_code(st);
	}
	vagent_audio_free(a);
	return rc;
}
