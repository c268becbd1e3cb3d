/*
 * calls.h — what `vagent run` and `vagent replay` share: the options of a
 * run of calls, printing each finished call (transcript, hops, tools,
 * comparisons, the ok/FAIL line), its files (--out, --record), the
 * percentile table and the --json result.
 */
#ifndef VAGENT_CMD_CALLS_H
#define VAGENT_CMD_CALLS_H

#include <stdbool.h>
#include <stddef.h>

#include "vagent.h"

struct calls_options {
	const char *clock;            /* "virtual" or "real" */
	const char *compute;          /* "measured" or "free" */
	const char *out_dir;          /* --out, or NULL */
	const char *record_dir;       /* --record, or NULL */
	const char *json;             /* --json, or NULL */
	const char *junit;            /* --junit, or NULL */
	const char *agent;            /* --agent: test this agent instead */
	const char *date;             /* --date, or NULL */
	long seed;                    /* --seed, -1: none */
	const char *record_providers; /* --record-providers DIR, or NULL */
	const char *replay_providers; /* --replay-providers DIR, or NULL */
	bool quiet, mock_tools;
	bool human;                   /* stdout is not the JSON's (set by calls_prepare) */
};

extern const char *const calls_clock_choices[];
extern const char *const calls_compute_choices[];

/* The options `vagent run` and `vagent replay` share, for their option
 * tables (options.h), writing into `co` (a struct calls_options). */
#define CALLS_OPTIONS(co)                                                        \
	OPT_CHOICE_(0, "clock", &(co).clock, "CLOCK",                             \
		    "virtual (default: as fast as the engines compute) or real",  \
		    calls_clock_choices),                                         \
	OPT_CHOICE_(0, "compute", &(co).compute, "HOW",                           \
		    "virtual clock: charge the engines' compute as measured "     \
		    "(default), or free (the call's course no longer depends on " \
		    "this machine's speed)", calls_compute_choices),              \
	OPT_STRING_(0, "out", &(co).out_dir, "DIR",                               \
		    "write each call's trace (NAME.trace.jsonl), stereo recording " \
		    "(NAME.wav) and the HTML report of the run (report.html)"),   \
	OPT_STRING_(0, "json", &(co).json, "FILE",                                \
		    "write the run result as JSON ('-' for stdout)"),             \
	OPT_STRING_(0, "junit", &(co).junit, "FILE",                              \
		    "write JUnit XML: one testcase per call, failures with the "  \
		    "failed checks' details ('-' for stdout)"),                   \
	OPT_STRING_(0, "date", &(co).date, "YYYY-MM-DD",                          \
		    "what \"today\" means to date slots (default: the real date)"), \
	OPT_BOOL_(0, "mock-tools", &(co).mock_tools,                              \
		  "run the mocks of tools that have both an endpoint and a mock"),\
	OPT_BOOL_('q', "quiet", &(co).quiet,                                      \
		  "print only each call's line, its failed checks and the summary"), \
	CASSETTE_OPTIONS(co)

/* --record-providers / --replay-providers (docs/cassettes.md), for
 * `vagent run`, `vagent replay` and `vagent bench`. */
#define CASSETTE_OPTIONS(co)                                                     \
	OPT_STRING_(0, "record-providers", &(co).record_providers, "DIR",         \
		    "record every provider exchange (HTTP, WebSocket) of each "   \
		    "call into DIR/NAME/cassette.jsonl (keys redacted)"),         \
	OPT_STRING_(0, "replay-providers", &(co).replay_providers, "DIR",         \
		    "play the providers back from DIR/NAME/cassette.jsonl with "  \
		    "no network; a request not in it fails the call (exit 3)")

/* Check the shared options, create --out and --record, make sure --json
 * can be written. 0, or the exit code after printing the error. */
int calls_prepare(struct calls_options *o, const char *cmd);

/* The run options the shared options give, with `seed` unless --seed. */
void calls_run_options(const struct calls_options *o, uint64_t seed,
		       struct vagent_run_options *ro);

/* Whether finished call `r` (its parsed trace `t`) failed for a reason
 * outside the agent: a provider cassette missed or could not be written,
 * a provider or the session failed, a tool with an
 * endpoint errored or timed out, the transfer webhook failed; `why`
 * (n bytes) says which. */
bool calls_infrastructure_failure(const struct vagent_call_run *r,
				  const struct vagent_trace *t, char *why, size_t n);

/* The WER of what call `res` heard against its golden caller text
 * (english normalizer, as the --json result counts it) into `out`; false
 * when no turn has a golden text. */
bool calls_wer(const struct vagent_session_result *res, struct vagent_wer_counts *out);

/* The calls of one command run, as they finish. */
struct calls {
	const struct calls_options *opt;
	struct vagent_stats *stats;
	struct vagent_call_run **runs;
	struct vagent_call_report *reports;
	/* per call: its checks and expectations' outcomes, its failure
	 * message and recording name (owned) */
	struct vagent_expectation_result **checks;
	char **failures, **hrefs;
	size_t n, cap;
	int rc;                       /* 0, 1 (a comparison failed), 3 */
};

/* A call's provider cassette notes on stderr: its miss (when
 * `print_miss`: the call's ERROR line has it otherwise), or a warning
 * naming the recorded exchanges it did not use. */
void calls_cassette_notes(struct vagent_call_run *r, const char *name, bool print_miss);

/* 0, or 3 after printing "out of memory". */
int calls_init(struct calls *c, const struct calls_options *o, size_t cap);

/*
 * Report finished call `r` (kept until calls_free) named `name`: its
 * transcript (unless -q), with the WER of what was heard against the
 * golden text when `wer`, the `checks` (comparisons) and the run's
 * expectations evaluated (docs/expectations.md; a failed one makes the
 * call FAIL, exit 1), the ok/FAIL line, and its --out and --record files.
 * `description` (may be NULL) goes to the reports. Returns the call's
 * exit code (0, 1 or 3), also kept in c->rc.
 */
int calls_add(struct calls *c, struct vagent_call_run *r, const char *name,
	      const char *description,
	      const struct vagent_expectation_result *checks, size_t n_checks, bool wer);

/* The summary (a line per call, the percentile table; colour on a
 * terminal), the --json result, --junit and --out DIR/report.html;
 * returns the run's exit code. */
int calls_finish(struct calls *c);
void calls_free(struct calls *c);

#endif
