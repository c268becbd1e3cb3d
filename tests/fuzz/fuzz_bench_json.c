/*
 * fuzz_bench_json.c — libFuzzer harness for bench results read back by
 * `vagent report merge` (vagent_bench_from_json). A result that parses is
 * merged into itself as a second shard, rendered as text and JSON, and
 * its JSON must parse again to the same counts. Failures must be one
 * line with a bad-input status.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vagent_bench_result *a = NULL, *b = NULL, *again = NULL;
	struct vagent_error err;
	char *text = NULL, *json = NULL;
	vagent_status st;

	st = vagent_bench_from_json((const char *)data, size, "part.json", &a, &err);
	if (st != VAGENT_OK) {
		if ((st != VAGENT_EFORMAT && st != VAGENT_ENOMEM) || !err.message[0] ||
		    strchr(err.message, '\n'))
			abort();
		return 0;
	}
	if (vagent_report_bench_text(&a->summary, true, &text, &err) != VAGENT_OK)
		abort();
	if (vagent_bench_to_json(&a->summary, &json, &err) != VAGENT_OK)
		abort();
	if (vagent_bench_from_json(json, strlen(json), "again.json", &again, &err) != VAGENT_OK)
		abort();
	if (again->summary.calls != a->summary.calls || again->summary.turns != a->summary.turns ||
	    again->summary.wer_ref_words != a->summary.wer_ref_words)
		abort();
	if (vagent_bench_from_json((const char *)data, size, "part2.json", &b, &err) != VAGENT_OK)
		abort();
	if (vagent_bench_merge(a, b, &err) == VAGENT_OK && a->summary.calls != 2 * b->summary.calls)
		abort();
	free(text);
	free(json);
	vagent_bench_result_free(again);
	vagent_bench_result_free(a);
	vagent_bench_result_free(b);
	return 0;
}
