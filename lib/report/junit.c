/*
 * junit.c — the `--junit` output: JUnit XML as GitLab, GitHub (test
 * reporter actions), Jenkins and most CI systems read it. One testcase per
 * call; a failed expectation is a <failure>, an infrastructure failure an
 * <error>, so CI tells a broken agent from a broken network
 * (docs/report.md).
 */
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

/* Seconds with 3 decimals from µs (integer arithmetic, like every time
 * vagent prints). */
static void put_seconds(struct vagent__strbuf *b, int64_t us)
{
	int64_t ms = us > 0 ? us / 1000 : 0;

	vagent__strbuf_printf(b, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
}

static void attr(struct vagent__strbuf *b, const char *name, const char *value)
{
	vagent__strbuf_printf(b, " %s=\"", name);
	vagent__report_xml(b, value, true);
	vagent__strbuf_put(b, "\"", 1);
}

/* "name: detail" (or just the name) of an expectation. */
static void expectation_line(struct vagent__strbuf *b, const struct vagent_expectation_result *e)
{
	vagent__report_xml(b, e->name ? e->name : "expectation", false);
	if (e->detail) {
		vagent__strbuf_puts(b, ": ");
		vagent__report_xml(b, e->detail, false);
	}
	vagent__strbuf_put(b, "\n", 1);
}

static void failed_expectations(struct vagent__strbuf *b, const struct vagent_call_report *rep)
{
	for (size_t i = 0; rep->expectations && i < rep->n_expectations; i++)
		if (!rep->expectations[i].passed)
			expectation_line(b, &rep->expectations[i]);
}

/* The transcript: a line per caller text, heard text and agent reply. */
static void system_out(struct vagent__strbuf *b, const struct vagent__report_call *c)
{
	const struct vagent_call_report *rep = c->rep;

	vagent__strbuf_puts(b, "      <system-out>");
	for (size_t i = 0; i < rep->n_turns; i++) {
		const struct vagent_session_turn *t = &rep->turns[i];
		static const char *const who[] = { "caller", "heard ", "agent " };
		const char *text[] = { t->caller_text, t->stt_text, t->agent_text };

		for (int k = 0; k < 3; k++) {
			if (!text[k] || (k == 1 && t->turn == 0))
				continue;
			vagent__strbuf_printf(b, "[turn %d] %s ", t->turn, who[k]);
			vagent__report_xml(b, text[k], false);
			if (k == 2 && t->interrupted)
				vagent__strbuf_puts(b, " [interrupted]");
			vagent__strbuf_put(b, "\n", 1);
		}
	}
	if (c->escalation_reason || rep->escalated) {
		vagent__strbuf_puts(b, "escalated");
		if (c->escalation_reason) {
			vagent__strbuf_puts(b, ": ");
			vagent__report_xml(b, c->escalation_reason, false);
		}
		vagent__strbuf_put(b, "\n", 1);
	}
	vagent__strbuf_puts(b, "end: ");
	vagent__report_xml(b, c->end_reason ? c->end_reason : "unknown", false);
	vagent__strbuf_puts(b, " after ");
	put_seconds(b, c->duration_us);
	vagent__strbuf_puts(b, " s</system-out>\n");
}

static void testcase(struct vagent__strbuf *b, const struct vagent__report_call *c)
{
	const struct vagent_call_report *rep = c->rep;

	vagent__strbuf_puts(b, "    <testcase classname=\"vagent\"");
	attr(b, "name", c->name);
	vagent__strbuf_puts(b, " time=\"");
	put_seconds(b, c->duration_us);
	vagent__strbuf_puts(b, "\">\n");
	if (rep->failure) {
		vagent__strbuf_puts(b, "      <error type=\"infrastructure\"");
		attr(b, "message", rep->failure);
		vagent__strbuf_puts(b, ">");
		vagent__report_xml(b, rep->failure, false);
		vagent__strbuf_put(b, "\n", 1);
		failed_expectations(b, rep);
		vagent__strbuf_puts(b, "</error>\n");
	} else if (!rep->passed) {
		const struct vagent_expectation_result *e = c->first_failed;

		vagent__strbuf_puts(b, "      <failure type=\"expectation\"");
		attr(b, "message", !e ? "the call did not pass"
			 : e->detail ? e->detail : e->name ? e->name : "expectation failed");
		vagent__strbuf_puts(b, ">");
		if (e)
			failed_expectations(b, rep);
		else
			vagent__strbuf_puts(b, "the call did not pass\n");
		vagent__strbuf_puts(b, "</failure>\n");
	}
	system_out(b, c);
	vagent__strbuf_puts(b, "    </testcase>\n");
}

vagent_status vagent_report_junit(const struct vagent_call_report *calls, size_t n,
				  const char *suite, char **out, struct vagent_error *err)
{
	struct vagent__report_run run;
	struct vagent__strbuf b = { 0 };
	size_t failures = 0;
	int64_t total_us = 0;
	vagent_status st;

	vagent_error_clear(err);
	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "junit", "no output pointer");
	*out = NULL;
	st = vagent__report_analyse(calls, n, "junit", &run, err);
	if (st != VAGENT_OK)
		goto done;
	for (size_t i = 0; i < n; i++) {
		failures += !calls[i].passed && !calls[i].failure;
		total_us += run.calls[i].duration_us;
	}
	if (!suite)
		suite = "vagent";
	vagent__strbuf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites");
	attr(&b, "name", suite);
	vagent__strbuf_printf(&b, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" time=\"", n,
			      failures, run.errors);
	put_seconds(&b, total_us);
	vagent__strbuf_puts(&b, "\">\n  <testsuite");
	attr(&b, "name", suite);
	vagent__strbuf_printf(&b, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\""
			      " time=\"", n, failures, run.errors);
	put_seconds(&b, total_us);
	vagent__strbuf_puts(&b, "\">\n");
	for (size_t i = 0; i < n; i++)
		testcase(&b, &run.calls[i]);
	vagent__strbuf_puts(&b, "  </testsuite>\n</testsuites>\n");
	*out = vagent__strbuf_detach(&b);
	if (!*out)
		st = vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
done:
	vagent__strbuf_release(&b);
	vagent__report_run_release(&run);
	return st;
}
