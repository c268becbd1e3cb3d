/*
 * chat.c — `vagent chat`: talk to an agent live on the mic and speaker (or
 * WAV files), on the real clock, with its own providers (by default the
 * embedded stack). Shows the caller's words as they are recognised, the
 * agent's replies as they are spoken and each turn's hop latencies; on
 * exit the percentile summary; --record keeps the call as a replayable
 * call folder. docs/chat.md.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vagent.h"
#include "builtins.h"
#include "options.h"
#include "output.h"

static const struct cmd_usage chat_usage = {
	.name = "chat",
	.synopsis = "vagent chat [OPTION]...",
	.summary = "talk to an agent live on the mic and speaker",
	.description =
		"Runs the agent file (docs/agent.md) on its providers — by default the\n"
		"embedded stack: pocketsphinx, the flow brain, flite — on a live call: the\n"
		"mic is the caller, the speaker plays the agent, at the agent's rate on\n"
		"the real clock. Without --agent, the example agent\n"
		"(scenarios/agents/store.json, with its order service mocked) answers.\n"
		"\n"
		"While you talk, vagent shows your words as they are recognised, the\n"
		"agent's replies as they are spoken and each turn's hop latencies\n"
		"(endpoint, STT final, time to first token, TTS first audio, e2e, in ms).\n"
		"Ctrl-C or the agent's goodbye ends the call; the percentile summary\n"
		"follows.\n"
		"\n"
		"--input and --output take a device (its index or part of its name, as\n"
		"'vagent devices' lists them) or a WAV file: a WAV input is played as the\n"
		"caller and the call ends once it has been played and the agent is done;\n"
		"a WAV output records what the agent said. With one full-duplex device the\n"
		"played audio is the reference of the echo canceller, so you can talk over\n"
		"the agent (barge-in); with no reference (separate devices, a WAV output)\n"
		"the mic is muted while the agent speaks (half-duplex: no barge-in).\n"
		"\n"
		"Exit status: 0 the call ended, 2 a bad option or agent file, 3 an audio\n"
		"device is missing or failed (the recording so far is still written).",
	.epilogue =
		"Examples:\n"
		"  vagent chat\n"
		"  vagent chat --agent my-agent.json --record calls/first-try\n"
		"  vagent chat --input caller.wav --output agent.wav -q\n"
		"  vagent chat --input 2 --output \"USB Headset\" --no-aec\n",
};

/* The caller of the running call, for the SIGINT handler. */
static struct vagent_caller *volatile live_call;

static void on_sigint(int sig)
{
	(void)sig;
	vagent_live_caller_hangup(live_call);
}

/* ---- the live display ---- */

struct display {
	FILE *out;
	bool tty, quiet, partial_shown;
	int turn;                      /* the turn whose hops are tracked */
	bool hops_printed;
	int64_t speech_end, turn_end, stt_final, llm_request, first_token,
		tts_request, tts_first_audio;
	char line[256];
};

static void turn_reset(struct display *d, int turn)
{
	d->turn = turn;
	d->hops_printed = false;
	d->speech_end = d->turn_end = d->stt_final = d->llm_request = -1;
	d->first_token = d->tts_request = d->tts_first_audio = -1;
}

static void clear_partial(struct display *d)
{
	if (d->partial_shown)
		fputs("\r\033[K", d->out);
	d->partial_shown = false;
}

/* "210", or "-" when either end is unknown. */
static const char *hop(char *buf, size_t n, int64_t from, int64_t to)
{
	if (from < 0 || to < from)
		return "-";
	snprintf(buf, n, "%lld", (long long)((to - from + 500) / 1000));
	return buf;
}

static void print_hops(struct display *d, int64_t audio_start)
{
	char a[24], b[24], c[24], e[24], f[24];

	/* the turn's true speech end: the last one before it ended */
	fprintf(d->out, "  endpoint %s \xc2\xb7 stt %s \xc2\xb7 ttft %s \xc2\xb7 tts %s \xc2\xb7 e2e %s ms\n",
		hop(a, sizeof(a), d->speech_end, d->turn_end),
		hop(b, sizeof(b), d->speech_end, d->stt_final),
		hop(c, sizeof(c), d->llm_request, d->first_token),
		hop(e, sizeof(e), d->tts_request, d->tts_first_audio),
		hop(f, sizeof(f), d->speech_end, audio_start));
}

static void on_event(void *arg, const struct vagent_trace_event *ev, int64_t t)
{
	struct display *d = arg;
	int64_t us = ev->t_us;

	(void)t;
	if (d->quiet)
		return;
	if (ev->turn > d->turn)
		turn_reset(d, ev->turn);
	if (ev->turn == d->turn) {
		switch (ev->type) {
		case VAGENT_TRACE_CALLER_SPEECH_END:
			if (d->turn_end < 0 || us <= d->turn_end)
				d->speech_end = us;
			break;
		case VAGENT_TRACE_TURN_END:
			if (d->turn_end < 0)
				d->turn_end = us;
			break;
		case VAGENT_TRACE_STT_FINAL:
			if (d->stt_final < 0 && d->speech_end >= 0 && us >= d->speech_end)
				d->stt_final = us;
			break;
		case VAGENT_TRACE_LLM_REQUEST:
			if (d->llm_request < 0)
				d->llm_request = us;
			break;
		case VAGENT_TRACE_LLM_FIRST_TOKEN:
			if (d->first_token < 0 && d->llm_request >= 0)
				d->first_token = us;
			break;
		case VAGENT_TRACE_TTS_REQUEST:
			if (d->tts_request < 0)
				d->tts_request = us;
			break;
		case VAGENT_TRACE_TTS_FIRST_AUDIO:
			if (d->tts_first_audio < 0 && d->tts_request >= 0)
				d->tts_first_audio = us;
			break;
		default:
			break;
		}
	}
	switch (ev->type) {
	case VAGENT_TRACE_STT_PARTIAL:
		/* on a terminal, the words so far, rewritten in place */
		if (d->tty && ev->text && *ev->text) {
			fprintf(d->out, "\r\033[K  you: %s ...", ev->text);
			d->partial_shown = true;
		}
		break;
	case VAGENT_TRACE_STT_FINAL:
		clear_partial(d);
		fprintf(d->out, "you:   %s\n", ev->text ? ev->text : "");
		break;
	case VAGENT_TRACE_TTS_REQUEST:
		clear_partial(d);
		fprintf(d->out, "agent: %s\n", ev->text ? ev->text : "");
		break;
	case VAGENT_TRACE_AGENT_AUDIO_START:
		if (ev->turn == d->turn && ev->turn > 0 && !d->hops_printed) {
			clear_partial(d);
			print_hops(d, us);
			d->hops_printed = true;
		}
		break;
	case VAGENT_TRACE_BARGE_IN:
		clear_partial(d);
		fprintf(d->out, "  (you interrupted the agent)\n");
		break;
	case VAGENT_TRACE_TOOL_START:
		clear_partial(d);
		fprintf(d->out, "  tool %s %s\n", ev->name ? ev->name : "?",
			ev->args ? ev->args : "");
		break;
	case VAGENT_TRACE_ESCALATION:
		clear_partial(d);
		fprintf(d->out, "  handed to a person: %s\n", ev->reason ? ev->reason : "");
		break;
	case VAGENT_TRACE_ERROR:
		clear_partial(d);
		fprintf(d->out, "  error: %s: %s\n", ev->source ? ev->source : "?",
			ev->message ? ev->message : "");
		break;
	default:
		break;
	}
	fflush(d->out);
}

/* ---- setting up ---- */

static bool is_file(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static bool is_wav(const char *endpoint)
{
	size_t n = endpoint ? strlen(endpoint) : 0;

	return n > 4 && !strcasecmp(endpoint + n - 4, ".wav");
}

/* The example agent: scenarios/agents/store.json in the current directory
 * or above the vagent binary (build/default/vagent, ./vagent). */
static char *default_agent(void)
{
	const char *rel = "scenarios/agents/store.json";
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n;

	if (is_file(rel))
		return strdup(rel);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	for (int up = 0; up < 4; up++) {
		char *slash = strrchr(exe, '/');

		if (!slash)
			break;
		*slash = '\0';
		snprintf(path, sizeof(path), "%s/%s", exe, rel);
		if (is_file(path))
			return strdup(path);
	}
	return NULL;
}

/* The example agent's order service (scenarios/services/orders.json), so
 * its tools answer; unless ACME_ORDERS_URL is set already. */
static int start_example_service(struct vagent_call_run *run, const char *agent_path)
{
	char path[PATH_MAX + 64], url[64];
	const char *slash = strrchr(agent_path, '/');
	struct vagent_error err;

	if (getenv("ACME_ORDERS_URL"))
		return 0;
	snprintf(path, sizeof(path), "%.*s../services/orders.json",
		 slash ? (int)(slash - agent_path + 1) : 0, agent_path);
	if (!is_file(path))
		return 0;
	run->services = calloc(1, sizeof(*run->services));
	if (!run->services) {
		cmd_error("out of memory");
		return 3;
	}
	if (vagent_mock_http_load(path, NULL, &run->services[0], &err) != VAGENT_OK) {
		cmd_error("%s", err.message);
		return 3;
	}
	run->n_services = 1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", vagent_mock_http_port(run->services[0]));
	setenv("ACME_ORDERS_URL", url, 1);
	return 0;
}

/* Wait (up to 5 s) for the agent's last words to play. */
static void drain(struct vagent_audio_io *io)
{
	for (int i = 0; i < 250 && vagent_audio_io_pending(io) > 0; i++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		if (vagent_audio_io_status(io, NULL) != VAGENT_OK)
			return;
		nanosleep(&ts, NULL);
	}
}

/* The end: the call's summary line and percentile table, --json. */
static int report(struct vagent_call_run *run, const char *json, const char *failure,
		  bool human)
{
	const struct vagent_session_result *res = vagent_session_result(run->session);
	struct vagent_call_report rep;
	struct vagent_error err;
	size_t trace_len = 0;
	char *text = NULL;
	int rc = 0;

	memset(&rep, 0, sizeof(rep));
	rep.name = res->name;
	rep.passed = failure == NULL;
	rep.turns = res->turns;
	rep.n_turns = res->n_turns;
	rep.trace = vagent_session_trace(run->session, &trace_len);
	rep.trace_len = trace_len;
	rep.escalated = res->escalated;
	rep.agent_path = run->agent->path;
	rep.end_reason = res->end_reason;
	rep.duration_ms = vagent_ticks_to_ms(res->duration);
	rep.failure = failure;
	if (human) {
		if (vagent_report_summary(&rep, 1, isatty(STDOUT_FILENO), &text, &err) != VAGENT_OK) {
			cmd_error("%s", err.message);
			rc = 3;
		} else {
			fputs(text, stdout);
		}
		free(text);
		text = NULL;
	}
	if (json) {
		if (vagent_result_to_json(&rep, 1, NULL, 0, &text, &err) != VAGENT_OK) {
			cmd_error("%s", err.message);
			rc = 3;
		} else if (cmd_write_output(json, text)) {
			rc = 3;
		}
		free(text);
	}
	return rc;
}

int cmd_chat(int argc, char **argv)
{
	const char *agent_opt = NULL, *input = NULL, *output = NULL, *record = NULL,
		   *json = NULL, *record_providers = NULL, *replay_providers = NULL;
	bool half_duplex = false, no_aec = false, quiet = false;
	const struct cmd_option opts[] = {
		OPT_STRING_(0, "agent", &agent_opt, "FILE",
			    "the agent file (default: the example agent, scenarios/agents/store.json)"),
		OPT_STRING_(0, "input", &input, "DEV|WAV",
			    "the mic: a device index or name ('vagent devices'), or a WAV file "
			    "played as the caller (default: the default input)"),
		OPT_STRING_(0, "output", &output, "DEV|WAV",
			    "the speaker: a device, or a WAV file written with the agent's audio "
			    "(default: the default output)"),
		OPT_STRING_(0, "record", &record, "DIR",
			    "write the call as a call folder DIR (call.json, call.wav) that "
			    "'vagent replay' plays back"),
		OPT_BOOL_(0, "half-duplex", &half_duplex,
			  "mute the mic while the agent speaks (no echo canceller; no barge-in)"),
		OPT_BOOL_(0, "no-aec", &no_aec,
			  "no echo handling at all (headphones)"),
		OPT_STRING_(0, "json", &json, "FILE",
			    "write the call's result as JSON ('-' for stdout)"),
		OPT_STRING_(0, "record-providers", &record_providers, "DIR",
			    "record every provider exchange into DIR/chat/cassette.jsonl "
			    "(docs/cassettes.md; keys redacted)"),
		OPT_STRING_(0, "replay-providers", &replay_providers, "DIR",
			    "play the providers back from DIR/chat/cassette.jsonl, no network"),
		OPT_BOOL_('q', "quiet", &quiet, "show only the summary at the end"),
		OPT_END_(),
	};
	int n = parse_options(&chat_usage, opts, argc, argv), rc = 0;
	struct vagent_audio_io_config ioc = vagent_audio_io_config_default();
	struct vagent_live_caller_config lcc = vagent_live_caller_config_default();
	struct vagent_session_config cfg = vagent_session_config_default();
	struct vagent_stack_options so = { 0 };
	struct vagent_audio_io *io = NULL;
	struct vagent_call_run *run = NULL;
	struct vagent_live_caller_stats stats;
	struct display d;
	struct sigaction sa, old_sa;
	struct vagent_diags diags;
	struct vagent_error err, dev_err;
	char *agent_path = NULL, failure[600] = "";
	bool human = !(json && !strcmp(json, "-")), device_failed = false;
	vagent_status st;

	if (n == PARSE_OPT_HELP)
		return 0;
	if (n < 0)
		return 2;
	if (half_duplex && no_aec)
		return cmd_usage_error("chat", "--half-duplex and --no-aec exclude each other");
	if (record_providers && replay_providers)
		return cmd_usage_error("chat", "--record-providers and --replay-providers "
				       "cannot be used together");
	if (record_providers && (rc = cmd_make_dir(record_providers, "--record-providers")) != 0)
		return rc;
	if (!human)
		quiet = true;
	agent_path = agent_opt ? strdup(agent_opt) : default_agent();
	if (!agent_path) {
		cmd_error("no agent: the example agent scenarios/agents/store.json is not in the "
			  "current directory; give --agent FILE");
		return 2;
	}
	vagent_diags_init(&diags);
	st = vagent_agent_validate(agent_path, &diags, &err);
	for (size_t k = 0; k < diags.n; k++)
		cmd_error("%s", diags.lines[k]);
	vagent_diags_clear(&diags);
	if (st != VAGENT_OK) {
		free(agent_path);
		return vagent_status_exit_code(st);
	}
	if (json && human) {
		FILE *f = fopen(json, "a");

		if (!f) {
			cmd_error("%s: cannot write: %s", json, strerror(errno));
			free(agent_path);
			return 3;
		}
		fclose(f);
	}
	run = calloc(1, sizeof(*run));
	if (!run) {
		cmd_error("out of memory");
		free(agent_path);
		return 3;
	}
	if (!agent_opt && (rc = start_example_service(run, agent_path)) != 0)
		goto done;
	st = vagent_agent_load(agent_path, &run->agent, &err);
	if (st != VAGENT_OK) {
		cmd_error("%s", err.message);
		rc = vagent_status_exit_code(st);
		goto done;
	}
	for (size_t w = 0; w < run->agent->n_warnings; w++)
		cmd_error("warning: %s", run->agent->warnings[w]);

	/* the devices first: a missing one is the likeliest problem */
	ioc.input = input;
	ioc.output = output;
	ioc.rate = run->agent->rate;
	ioc.frame_ms = 20;
	st = vagent_audio_io_open(&ioc, &io, &err);
	if (st != VAGENT_OK) {
		cmd_error("%s", err.message);
		/* a device that is not there is the environment's; a WAV
		 * file the user named wrongly is bad input */
		rc = !strncmp(err.message, "input device ", 13) ||
		     !strncmp(err.message, "output device ", 14) ? 3 : vagent_status_exit_code(st);
		goto done;
	}
	so.rate = run->agent->rate;
	so.seed = 1;
	st = vagent_agent_stack_new(run->agent, &so, &run->stack, &err);
	if (st != VAGENT_OK) {
		cmd_error("%s", err.message);
		rc = vagent_status_exit_code(st);
		goto done;
	}
	lcc.rate = run->agent->rate;
	lcc.io = io;
	lcc.vad = run->agent->config.vad;
	lcc.echo = half_duplex ? VAGENT_ECHO_HALF_DUPLEX
		 : no_aec || is_wav(input) ? VAGENT_ECHO_OFF : VAGENT_ECHO_AUTO;
	st = vagent_live_caller_new(&lcc, &run->caller, &err);
	if (st != VAGENT_OK) {
		cmd_error("%s", err.message);
		rc = vagent_status_exit_code(st);
		goto done;
	}
	memset(&d, 0, sizeof(d));
	d.out = stdout;
	d.tty = isatty(STDOUT_FILENO);
	d.quiet = quiet;
	turn_reset(&d, 0);
	vagent_live_caller_on_event(run->caller, on_event, &d);
	vagent_live_caller_stats(run->caller, &stats);

	cfg.name = "chat";
	cfg.rate = run->agent->rate;
	cfg.agent = run->agent->config;
	cfg.stt[0] = run->stack->stt;
	cfg.stt[1] = run->stack->stt_fallback;        /* NULL: none */
	cfg.brain[0] = run->stack->brain;
	cfg.brain[1] = run->stack->fallback_brain;
	cfg.tts[0] = run->stack->tts;
	cfg.tts[1] = run->stack->tts_fallback;
	cfg.tools = run->stack->tools;
	cfg.caller = run->caller;
	cfg.keep_trace = true;
	cfg.record = record != NULL;
	cfg.max_call_ms = 3600 * 1000;
	cfg.transfer_webhook = run->agent->escalation.transfer_webhook;
	cfg.job_clock = VAGENT_JOB_WALL;
	if (!quiet) {
		printf("== chat with %s (%s, %d Hz, echo: %s)%s\n", run->agent->name
		       ? run->agent->name : agent_path, agent_path, cfg.rate,
		       vagent_echo_mode_name(stats.echo),
		       d.tty ? "; Ctrl-C hangs up" : "");
		fflush(stdout);
	}

	if (record_providers || replay_providers) {
		st = vagent_cassette_open(record_providers ? record_providers : replay_providers,
					  "chat", record_providers ? VAGENT_CASSETTE_RECORD
								   : VAGENT_CASSETTE_REPLAY,
					  &run->cassette, &err);
		if (st != VAGENT_OK) {
			cmd_error("%s", err.message);
			rc = vagent_status_exit_code(st);
			goto done;
		}
	}
	live_call = run->caller;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sa.sa_flags = SA_RESETHAND;     /* a second Ctrl-C kills */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_sa);
	/* the live caller starts the devices at the call's first frame */
	vagent_cassette_bind(run->cassette);   /* NULL: none */
	st = vagent_session_run(&cfg, VAGENT_CLOCK_REAL, &run->session, &err);
	vagent_cassette_bind(NULL);
	if (vagent_live_caller_status(run->caller, &dev_err) != VAGENT_OK) {
		device_failed = true;
		snprintf(failure, sizeof(failure), "%s", dev_err.message);
	} else if (st != VAGENT_OK) {
		snprintf(failure, sizeof(failure), "%s", err.message);
	}
	if (!device_failed && run->session && !vagent_session_result(run->session)->status)
		drain(io);
	sigaction(SIGINT, &old_sa, NULL);
	live_call = NULL;
	vagent_audio_io_free(io);       /* writes a WAV output */
	io = NULL;
	if (!quiet && d.partial_shown)
		clear_partial(&d);
	if (!*failure && vagent_cassette_miss(run->cassette))
		snprintf(failure, sizeof(failure), "%s", vagent_cassette_miss(run->cassette));
	if (*failure) {
		cmd_error("%s", failure);
		rc = device_failed || vagent_cassette_miss(run->cassette) ? 3
								 : vagent_status_exit_code(st);
	}
	if (!run->session)
		goto done;
	vagent_live_caller_stats(run->caller, &stats);
	if (!quiet && (stats.underruns > 10 || stats.dropped_samples))
		printf("  audio: %zu of %zu mic frames late (silence), %zu samples dropped\n",
		       stats.underruns, stats.frames, stats.dropped_samples);
	if (record) {
		if (vagent_chat_record_write(run, record, &err) != VAGENT_OK) {
			cmd_error("%s", err.message);
			rc = 3;
		} else if (human) {
			printf("recorded the call in %s (replay it with 'vagent replay %s')\n",
			       record, record);
		}
	}
	{
		int r = report(run, json, *failure ? failure : NULL, human);

		if (r > rc)
			rc = r;
	}
	fflush(stdout);
done:
	vagent_audio_io_free(io);
	vagent_call_run_free(run);
	free(agent_path);
	return rc;
}
