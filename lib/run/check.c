/*
 * check.c — judging a finished call: its expectations (the scenario's or
 * the recorded call's, docs/expectations.md) evaluated on what the call
 * left behind — the trace, the session result and the stereo recording —
 * and kept with the run for the reports.
 */
#include <stdlib.h>
#include <string.h>

#include "run/run_int.h"

vagent_status vagent_call_run_check(struct vagent_call_run *r,
				    const char *const *texts, size_t n_texts,
				    struct vagent_error *err)
{
	const struct vagent_expectations *x = vagent_call_run_expectations(r);
	struct vagent_call_evidence ev = { 0 };
	struct vagent_expectation_outcomes *o = NULL;
	vagent_status st;

	vagent_expectation_outcomes_free(r->outcomes);
	r->outcomes = NULL;
	if (!x)
		return VAGENT_OK;
	ev.name = vagent_session_result(r->session)->name;
	ev.trace = vagent_session_trace(r->session, &ev.trace_len);
	ev.result = vagent_session_result(r->session);
	ev.recording = vagent_session_recording(r->session);
	ev.agent = r->agent;
	ev.texts = texts;
	ev.n_texts = n_texts;
	st = vagent_expectations_eval(x, &ev, &o, err);
	if (st != VAGENT_OK)
		return st;
	r->outcomes = o;
	return VAGENT_OK;
}
