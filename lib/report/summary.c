/*
 * summary.c — the terminal summary of a run: one line per call with its
 * verdict and key figures (failed expectations spelled out under it), a
 * totals line, then the hop percentile table (docs/report.md). ANSI colour
 * only when asked for; report text never reaches the terminal unfiltered
 * (no escape sequence from a call name or a detail gets through).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

#define NAME_MAX_COLS 36
#define DETAIL_MAX_COLS 200

struct out {
	struct vagent__strbuf b;
	bool colour;
};

static void colour_on(struct out *o, const char *sgr)
{
	if (o->colour)
		vagent__strbuf_printf(&o->b, "\033[%sm", sgr);
}

static void colour_off(struct out *o)
{
	if (o->colour)
		vagent__strbuf_puts(&o->b, "\033[0m");
}

/* µs as whole ms (halves up), "-" when absent, right-aligned in `w`. */
static void put_ms(struct out *o, int64_t us, int w)
{
	if (us == VAGENT_METRIC_ABSENT)
		vagent__strbuf_printf(&o->b, "%*s", w, "-");
	else
		vagent__strbuf_printf(&o->b, "%*lld", w,
				      (long long)(us >= 0 ? (us + 500) / 1000 : -((-us + 500) / 1000)));
}

static void call_line(struct out *o, const struct vagent__report_call *c, size_t name_cols)
{
	const struct vagent_call_report *rep = c->rep;
	const char *verdict = vagent__report_verdict(c);
	char pct[32];
	size_t cols;
	int64_t tenths = c->duration_us / 100000;

	colour_on(o, rep->failure ? "1;35" : rep->passed ? "32" : "1;31");
	vagent__strbuf_printf(&o->b, "%-5s", verdict);
	colour_off(o);
	vagent__strbuf_puts(&o->b, "  ");
	cols = vagent__report_plain(&o->b, c->name, NAME_MAX_COLS);
	vagent__strbuf_fill(&o->b, ' ', name_cols - cols + 2);
	vagent__strbuf_printf(&o->b, "%4lld.%lld s  %2zu turn%s  e2e p50 ", (long long)(tenths / 10),
			      (long long)(tenths % 10), c->caller_turns,
			      c->caller_turns == 1 ? " " : "s");
	put_ms(o, c->e2e_p50, 5);
	vagent__strbuf_puts(&o->b, " ms  WER ");
	if (c->has_wer) {
		snprintf(pct, sizeof(pct), "%.1f%%", vagent_wer_rate(&c->wer) * 100.0);
		vagent__strbuf_printf(&o->b, "%6s", pct);
	} else {
		vagent__strbuf_printf(&o->b, "%6s", "-");
	}
	vagent__strbuf_printf(&o->b, "  %zu/%zu failed  ", c->n_failed, rep->n_expectations);
	vagent__report_plain(&o->b, c->end_reason ? c->end_reason : "end unknown", 40);
	if (rep->escalated) {
		vagent__strbuf_puts(&o->b, ", escalated");
		if (c->escalation_reason) {
			vagent__strbuf_puts(&o->b, ": ");
			vagent__report_plain(&o->b, c->escalation_reason, 60);
		}
	}
	vagent__strbuf_put(&o->b, "\n", 1);
	if (rep->failure) {
		vagent__strbuf_puts(&o->b, "       ");
		colour_on(o, "35");
		vagent__strbuf_puts(&o->b, "infrastructure: ");
		colour_off(o);
		vagent__report_plain(&o->b, rep->failure, DETAIL_MAX_COLS);
		vagent__strbuf_put(&o->b, "\n", 1);
	}
	for (size_t i = 0; rep->expectations && i < rep->n_expectations; i++) {
		const struct vagent_expectation_result *e = &rep->expectations[i];

		if (e->passed)
			continue;
		vagent__strbuf_puts(&o->b, "       ");
		colour_on(o, "31");
		vagent__strbuf_puts(&o->b, "x ");
		colour_off(o);
		vagent__report_plain(&o->b, e->name ? e->name : "expectation", 80);
		if (e->detail) {
			vagent__strbuf_puts(&o->b, ": ");
			vagent__report_plain(&o->b, e->detail, DETAIL_MAX_COLS);
		}
		vagent__strbuf_put(&o->b, "\n", 1);
	}
}

static void totals(struct out *o, const struct vagent__report_run *run)
{
	colour_on(o, "1");
	vagent__strbuf_printf(&o->b, "%zu of %zu calls passed", run->passed, run->n);
	colour_off(o);
	if (run->errors)
		vagent__strbuf_printf(&o->b, ", %zu infrastructure error%s", run->errors,
				      run->errors == 1 ? "" : "s");
	if (run->has_wer) {
		vagent__strbuf_puts(&o->b, "; WER ");
		vagent__report_pct(&o->b, vagent_wer_rate(&run->wer));
		vagent__strbuf_printf(&o->b, " (%zu sub, %zu del, %zu ins / %zu words)",
				      run->wer.sub, run->wer.del, run->wer.ins, run->wer.ref_words);
	}
	if (run->n) {
		vagent__strbuf_puts(&o->b, "; containment ");
		vagent__report_pct(&o->b, (double)run->contained / (double)run->n);
	}
	vagent__strbuf_put(&o->b, "\n", 1);
}

vagent_status vagent_report_summary(const struct vagent_call_report *calls, size_t n,
				    bool colour, char **out, struct vagent_error *err)
{
	struct vagent__report_run run;
	struct out o = { { 0 }, colour };
	size_t name_cols = 4;
	vagent_status st;

	vagent_error_clear(err);
	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "summary", "no output pointer");
	*out = NULL;
	st = vagent__report_analyse(calls, n, "summary", &run, err);
	if (st != VAGENT_OK)
		goto done;
	for (size_t i = 0; i < n; i++) {
		struct vagent__strbuf scratch = { 0 };
		size_t cols = vagent__report_plain(&scratch, run.calls[i].name, NAME_MAX_COLS);

		vagent__strbuf_release(&scratch);
		if (cols > name_cols)
			name_cols = cols;
	}
	for (size_t i = 0; i < n; i++)
		call_line(&o, &run.calls[i], name_cols);
	totals(&o, &run);
	vagent__report_percentile_table(&o.b, run.stats, o.colour);
	*out = vagent__strbuf_detach(&o.b);
	if (!*out)
		st = vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
done:
	vagent__strbuf_release(&o.b);
	vagent__report_run_release(&run);
	return st;
}
