/*
 * report_int.h — what the run outputs (JUnit, HTML, terminal summary)
 * share: each call report analysed once (trace parsed, metrics, WER,
 * duration, failed expectations), the run's statistics, and text
 * escaping for XML/HTML and for the terminal.
 */
#ifndef VAGENT_REPORT_INT_H
#define VAGENT_REPORT_INT_H

#include "core/internal.h"

/* One call as the reports see it. */
struct vagent__report_call {
	const struct vagent_call_report *rep;
	const char *name;                      /* rep->name, or "call" */
	struct vagent_trace *trace;            /* parsed, or NULL (no trace) */
	struct vagent_trace_metrics *tm;
	struct vagent_call_metrics *cm;        /* this call's, or NULL */
	struct vagent_wer_counts wer;          /* over turns with caller_text */
	bool has_wer;
	int64_t duration_us;                   /* rep->duration_ms, else the
						* trace's call.end or last event */
	const char *end_reason;                /* rep->end_reason, else call.end's */
	const char *escalation_reason;         /* the trace's first, or NULL */
	size_t caller_turns;                   /* turns numbered >= 1 */
	size_t n_failed;                       /* failed expectations */
	const struct vagent_expectation_result *first_failed;
	int64_t e2e_p50;                       /* nearest rank over its turns,
						* or VAGENT_METRIC_ABSENT */
};

struct vagent__report_run {
	size_t n;
	struct vagent__report_call *calls;
	struct vagent_stats *stats;            /* every call's metrics */
	struct vagent_wer_counts wer;          /* corpus */
	bool has_wer;
	size_t passed, contained, errors;      /* errors: calls with `failure` */
};

/* Analyse `calls` (`where` names the output in argument errors: "junit").
 * Errors as vagent_result_to_json. Release with
 * vagent__report_run_release() either way. */
vagent_status vagent__report_analyse(const struct vagent_call_report *calls, size_t n,
				     const char *where, struct vagent__report_run *run,
				     struct vagent_error *err);
void vagent__report_run_release(struct vagent__report_run *run);

/* The call's status word: "ok", "FAIL", or "ERROR" (rep->failure). */
const char *vagent__report_verdict(const struct vagent__report_call *c);

/*
 * Append `s` escaped for XML/HTML text (`attr` false: & < > escaped) or a
 * double- or single-quoted attribute (`attr` true: also " ' and tab,
 * newline, carriage return as character references). Invalid UTF-8 bytes,
 * characters XML 1.0 forbids (controls other than tab/newline/CR, U+FFFE,
 * U+FFFF) become U+FFFD. NULL appends nothing.
 */
void vagent__report_xml(struct vagent__strbuf *b, const char *s, bool attr);

/* Append `s` fit for a terminal: invalid UTF-8 and every control
 * character (C0, DEL, C1; so no escape sequence gets through) as U+FFFD;
 * newlines and tabs as spaces. At most `max_cols` code points (0: no
 * limit), with "…" when cut. Returns the code points written. */
size_t vagent__report_plain(struct vagent__strbuf *b, const char *s, size_t max_cols);

/* Microseconds as milliseconds, as the JSON result prints them: integer
 * arithmetic, trailing zeros trimmed ("1040", "130.5", "0.001"). */
void vagent__report_ms(struct vagent__strbuf *b, int64_t us);

/* A rate as a percentage with one decimal ("11.8%"). */
void vagent__report_pct(struct vagent__strbuf *b, double rate);

/* The hop percentile table of the terminal outputs (n, p50, p90, p95,
 * p99, max, mean in ms per metric with samples); nothing when none. */
void vagent__report_percentile_table(struct vagent__strbuf *b, const struct vagent_stats *stats,
				     bool colour);
/* A number rounded to 6 decimals, trailing zeros trimmed (the JSON
 * result's format for SLO values: "1210", "0.0625"). */
void vagent__report_real(struct vagent__strbuf *b, double v);

/* The CSS both HTML pages start with (page, sections, cards, tables,
 * pass/fail badges). */
extern const char vagent__report_css_base[];

/* The metrics in the order the reports list them (DESIGN.md §6). */
extern const vagent_metric vagent__report_turn_hops[6];

#endif
