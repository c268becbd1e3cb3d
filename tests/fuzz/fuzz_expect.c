/*
 * fuzz_expect.c — libFuzzer harness for expectations and SLO expressions.
 * The input is "DOC\n--\nTRACE": DOC is parsed as an expectations list
 * (vagent_expectations_parse) and its first line as an SLO
 * (vagent_slo_parse); a list that parses is evaluated on TRACE with no
 * recording (so no recogniser loads). Failures must be one line with a
 * bad-input status; outcomes must have a name and a one-line detail, and
 * `failed` must count the failures.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_line(const char *s)
{
	if (!s || !*s || strchr(s, '\n'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), *sep, *line;
	const char *trace = "";
	struct vagent_expectations *x = NULL;
	struct vagent_expectation_outcomes *o = NULL;
	struct vagent_diags d;
	struct vagent_error err;
	struct vagent_slo slo;
	struct vagent_slo_result r;
	char detail[256];
	vagent_status st;
	size_t doc_len = size, failed = 0;

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if ((sep = strstr(in, "\n--\n"))) {
		doc_len = (size_t)(sep - in);
		trace = sep + 4;
	}

	/* the first line as an SLO */
	if ((line = strndup(in, strcspn(in, "\n")))) {
		if (vagent_slo_parse(line, &slo, &err) == VAGENT_OK) {
			vagent_slo_eval(&slo, NULL, true, 0.5, &r, detail, sizeof(detail));
			one_line(detail);
			if (r.passed != (slo.is_wer && r.has_value &&
					 ((slo.op == VAGENT_SLO_LT && 0.5 < slo.value) ||
					  (slo.op == VAGENT_SLO_LE && 0.5 <= slo.value) ||
					  (slo.op == VAGENT_SLO_GT && 0.5 > slo.value) ||
					  (slo.op == VAGENT_SLO_GE && 0.5 >= slo.value))))
				abort();
		} else {
			one_line(err.message);
			if (strncmp(err.message, "SLO \"", 5))
				abort();
		}
		free(line);
	}

	vagent_diags_init(&d);
	st = vagent_expectations_parse(in, doc_len, "s.json", "expectations", &x, &d, &err);
	if (st != VAGENT_OK) {
		one_line(err.message);
		if (x || strncmp(err.message, "s.json:", 7) ||
		    (st != VAGENT_EINVAL && st != VAGENT_EFORMAT && st != VAGENT_ENOMEM) ||
		    (st != VAGENT_ENOMEM && !d.n))
			abort();
		for (size_t i = 0; i < d.n; i++)
			one_line(d.lines[i]);
		vagent_diags_clear(&d);
		free(in);
		return 0;
	}
	vagent_diags_clear(&d);
	{
		struct vagent_call_evidence ev = { .name = "c", .trace = trace,
						   .trace_len = strlen(trace) };

		st = vagent_expectations_eval(x, &ev, &o, &err);
	}
	if (st == VAGENT_OK) {
		if (!o || o->n != vagent_expectations_count(x))
			abort();
		for (size_t i = 0; i < o->n; i++) {
			one_line(o->results[i].name);
			one_line(o->results[i].detail);
			failed += !o->results[i].passed;
		}
		if (failed != o->failed)
			abort();
	} else if (o || (st != VAGENT_EFORMAT && st != VAGENT_ENOMEM)) {
		abort();
	} else {
		one_line(err.message);
	}
	vagent_expectation_outcomes_free(o);
	vagent_expectations_free(x);
	free(in);
	return 0;
}
