/*
 * main.c — the vagent command: global options, the command table, and the
 * checks every command gets on the way out (stdout written without error).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <poll.h>
#include <unistd.h>

#include "vagent.h"
#include "builtins.h"
#include "options.h"
#include "commands.h"

/* The command table, sorted by name; `vagent help` is generated from it. */
const struct command commands[] = {
	{ "audio", cmd_audio, "inspect, convert and mix audio files (info, convert, mix)" },
	{ "bench", cmd_bench, "run calls many times, many at once: hop percentiles, latency SLO checks, shards" },
	{ "chat", cmd_chat, "talk to an agent live on the mic and speaker (or WAV files)" },
	{ "devices", cmd_devices, "list the audio devices (PortAudio) that chat can use" },
	{ "doctor", cmd_doctor, "check dependencies, models, provider keys and that the providers answer" },
	{ "help", cmd_help, "show help for vagent or one of its commands" },
	{ "mock-http", cmd_mock_http, "serve a routes file over HTTP on loopback, with faults, to stub tool backends" },
	{ "replay", cmd_replay, "replay recorded calls against an agent: WER, tool calls, expectations, latencies" },
	{ "report", cmd_report, "merge the shard results of vagent bench and check SLOs; render a bench page" },
	{ "run", cmd_run, "run scripted simulated calls with faults and judge them by their expectations" },
	{ "speak", cmd_speak, "synthesise text with an embedded flite voice into an audio file" },
	{ "trace", cmd_trace, "recompute hop latencies and percentiles from call traces" },
	{ "transcribe", cmd_transcribe, "speech to text with the embedded pocketsphinx recognizer (trn lines)" },
	{ "validate", cmd_validate, "check agent, scenario and recorded-call files; report every problem" },
	{ "wer", cmd_wer, "word/character error rate of a hypothesis, counted as sclite does" },
	{ NULL, NULL, NULL },
};

const struct command *find_command(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

/* The command name closest to `name` by edit distance, for "did you mean". */
static const char *closest_command(const char *name)
{
	const char *best = NULL;
	size_t best_d = 3; /* suggest only near misses */

	for (const struct command *c = commands; c->name; c++) {
		size_t n = strlen(name), m = strlen(c->name), row[64];
		if (n >= 63 || m >= 63)
			continue;
		for (size_t j = 0; j <= m; j++)
			row[j] = j;
		for (size_t i = 1; i <= n; i++) {
			size_t diag = row[0];
			row[0] = i;
			for (size_t j = 1; j <= m; j++) {
				size_t up = row[j];
				size_t sub = diag + (name[i - 1] != c->name[j - 1]);
				size_t v = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
				row[j] = v < sub ? v : sub;
				diag = up;
			}
		}
		if (row[m] < best_d) {
			best_d = row[m];
			best = c->name;
		}
	}
	return best;
}

static void print_version(void)
{
	printf("vagent %s\n", vagent_version());
	printf("linked: %s\n", vagent_linked_versions());
}

/* Is stdout a pipe or socket whose reader has gone ("vagent wer | head")? */
static bool stdout_reader_gone(void)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };

	return errno == EPIPE || (poll(&p, 1, 0) == 1 && (p.revents & POLLERR));
}

/*
 * Make sure what a command printed reached stdout: a full disk must not
 * pass as success (git's run_builtin). A reader that stopped reading
 * (`| head -1`) is not a failure of ours: SIGPIPE is ignored in main() and
 * the command's own exit code stands, so a CI gate piped into head still
 * reports the gate's result, not 141 or a write error.
 */
static int finish(int rc)
{
	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return rc;
	if (stdout_reader_gone())
		return rc;
	cmd_error("write error on standard output: %s", strerror(errno ? errno : EIO));
	return rc ? rc : 3;
}

int main(int argc, char **argv)
{
	const struct command *c;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		print_main_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		print_version();
		return finish(0);
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_main_usage(stdout);
		return finish(0);
	}
	if (argv[1][0] == '-')
		return cmd_usage_error(NULL, "unknown option '%s'", argv[1]);

	c = find_command(argv[1]);
	if (!c) {
		const char *near = closest_command(argv[1]);
		fflush(stdout);
		if (near)
			fprintf(stderr, "vagent: '%s' is not a vagent command; did you mean '%s'? (see 'vagent help')\n",
				argv[1], near);
		else
			fprintf(stderr, "vagent: '%s' is not a vagent command (see 'vagent help')\n", argv[1]);
		return 2;
	}
	return finish(c->fn(argc - 1, argv + 1));
}
