/*
 * bench.c — the outputs of `vagent bench` and `vagent report merge`
 * (docs/bench.md): the terminal report (figures, SLO verdicts, the
 * percentile table), the bench result as JSON — which is also the shard
 * part that `vagent report merge` reads back — and the merge of parts.
 * The page with histograms is bench_html.c's.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

/* ---- terminal ---- */

static void sgr(struct vagent__strbuf *b, bool colour, const char *code)
{
	if (colour)
		vagent__strbuf_printf(b, "\033[%sm", code);
}

vagent_status vagent_report_bench_text(const struct vagent_bench_summary *bs, bool colour,
				       char **out, struct vagent_error *err)
{
	struct vagent__strbuf b = { 0 };
	size_t failed = 0;

	vagent_error_clear(err);
	if (!bs || !out)
		return vagent__error_set(err, VAGENT_EINVAL, "bench", "no summary or output pointer");
	*out = NULL;
	sgr(&b, colour, "1");
	vagent__strbuf_printf(&b, "%zu call%s", bs->calls, bs->calls == 1 ? "" : "s");
	sgr(&b, colour, "0");
	if (bs->n_parts)
		vagent__strbuf_printf(&b, " (merged from %zu shard%s)", bs->n_parts,
				      bs->n_parts == 1 ? "" : "s");
	else if (bs->shard_n)
		vagent__strbuf_printf(&b, " (shard %d/%d)", bs->shard_k, bs->shard_n);
	vagent__strbuf_printf(&b, ", %zu caller turns", bs->turns);
	if (bs->calls_failed) {
		sgr(&b, colour, "1;35");
		vagent__strbuf_printf(&b, ", %zu failed to run", bs->calls_failed);
		sgr(&b, colour, "0");
	}
	vagent__strbuf_printf(&b, "; %d run%s of %zu input%s, concurrency %d, %s clock",
			      bs->runs, bs->runs == 1 ? "" : "s", bs->n_inputs,
			      bs->n_inputs == 1 ? "" : "s", bs->concurrency,
			      bs->clock ? bs->clock : "virtual");
	if (bs->wall_s > 0)
		vagent__strbuf_printf(&b, ", %.1f s", bs->wall_s);
	vagent__strbuf_puts(&b, "\n");
	if (bs->has_wer) {
		vagent__strbuf_puts(&b, "WER ");
		vagent__report_pct(&b, bs->wer);
		vagent__strbuf_printf(&b, " (%zu errors / %zu words)", bs->wer_errors,
				      bs->wer_ref_words);
	} else {
		vagent__strbuf_puts(&b, "WER -");
	}
	if (bs->calls > bs->calls_failed) {
		vagent__strbuf_puts(&b, "; containment ");
		vagent__report_pct(&b, (double)bs->contained /
					  (double)(bs->calls - bs->calls_failed));
	}
	vagent__strbuf_puts(&b, "\n");
	vagent__report_percentile_table(&b, bs->stats, colour);
	if (bs->n_slos)
		vagent__strbuf_puts(&b, "\n");
	for (size_t i = 0; i < bs->n_slos; i++) {
		const struct vagent_slo_result *r = &bs->slos[i];
		const char *d = bs->slo_details ? bs->slo_details[i] : NULL;

		failed += !r->passed;
		sgr(&b, colour, r->passed ? "32" : "1;31");
		vagent__strbuf_puts(&b, r->passed ? "PASS" : "FAIL");
		sgr(&b, colour, "0");
		vagent__strbuf_puts(&b, "  ");
		vagent__report_plain(&b, d && *d ? d : r->expr, 200);
		vagent__strbuf_puts(&b, "\n");
	}
	if (bs->n_slos) {
		sgr(&b, colour, "1");
		vagent__strbuf_printf(&b, "%zu of %zu SLOs met", bs->n_slos - failed, bs->n_slos);
		sgr(&b, colour, "0");
		vagent__strbuf_puts(&b, bs->shard_n && !bs->n_parts
				    ? " on this shard alone (vagent report merge judges them on "
				      "all shards)\n" : "\n");
	}
	*out = vagent__strbuf_detach(&b);
	vagent__strbuf_release(&b);
	if (!*out)
		return vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
	return VAGENT_OK;
}

/* ---- JSON ---- */

static double us_to_ms(int64_t us)
{
	return (double)us / 1000.0;
}

static cJSON *hops_object(const struct vagent_stats *stats)
{
	cJSON *hops = cJSON_CreateObject();

	for (int m = 0; hops && stats && m < VAGENT_METRIC_COUNT; m++) {
		struct vagent_stat_summary s;
		cJSON *o;

		if (vagent_stats_summary(stats, (vagent_metric)m, &s) != VAGENT_OK || !s.n)
			continue;
		o = cJSON_AddObjectToObject(hops, vagent_metric_name((vagent_metric)m));
		if (!o)
			break;
		cJSON_AddNumberToObject(o, "n", (double)s.n);
		cJSON_AddNumberToObject(o, "p50", us_to_ms(s.p50));
		cJSON_AddNumberToObject(o, "p90", us_to_ms(s.p90));
		cJSON_AddNumberToObject(o, "p95", us_to_ms(s.p95));
		cJSON_AddNumberToObject(o, "p99", us_to_ms(s.p99));
		cJSON_AddNumberToObject(o, "max", us_to_ms(s.max));
		cJSON_AddNumberToObject(o, "mean", round(s.mean) / 1000.0);
		cJSON_AddBoolToObject(o, "exact", vagent_stats_exact(stats, (vagent_metric)m));
	}
	return hops;
}

vagent_status vagent_bench_to_json(const struct vagent_bench_summary *bs, char **out,
				   struct vagent_error *err)
{
	cJSON *root, *a, *o;
	char *hist = NULL;
	vagent_status st;

	vagent_error_clear(err);
	if (!bs || !out)
		return vagent__error_set(err, VAGENT_EINVAL, "bench", "no summary or output pointer");
	*out = NULL;
	if (bs->stats) {
		st = vagent_stats_to_json(bs->stats, &hist, err);
		if (st != VAGENT_OK)
			return st;
	}
	root = cJSON_CreateObject();
	if (!root)
		goto nomem;
	cJSON_AddStringToObject(root, "version", vagent_version());
	cJSON_AddStringToObject(root, "kind", "bench");
	cJSON_AddNumberToObject(root, "schema", 1);
	a = cJSON_AddArrayToObject(root, "inputs");
	for (size_t i = 0; a && i < bs->n_inputs; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(bs->inputs[i]));
	cJSON_AddStringToObject(root, "clock", bs->clock ? bs->clock : "virtual");
	cJSON_AddNumberToObject(root, "runs", bs->runs);
	cJSON_AddNumberToObject(root, "concurrency", bs->concurrency);
	if (bs->shard_n && !bs->n_parts) {
		o = cJSON_AddObjectToObject(root, "shard");
		if (o) {
			cJSON_AddNumberToObject(o, "k", bs->shard_k);
			cJSON_AddNumberToObject(o, "n", bs->shard_n);
		}
	} else {
		cJSON_AddNullToObject(root, "shard");
	}
	cJSON_AddNumberToObject(root, "shards", bs->shard_n);
	cJSON_AddNumberToObject(root, "parts", (double)bs->n_parts);
	cJSON_AddNumberToObject(root, "wall_s", round(bs->wall_s * 1000.0) / 1000.0);

	o = cJSON_AddObjectToObject(root, "summary");
	if (!o)
		goto nomem;
	cJSON_AddNumberToObject(o, "calls", (double)bs->calls);
	cJSON_AddNumberToObject(o, "calls_failed", (double)bs->calls_failed);
	cJSON_AddNumberToObject(o, "turns", (double)bs->turns);
	cJSON_AddNumberToObject(o, "contained", (double)bs->contained);
	cJSON_AddItemToObject(o, "hops", hops_object(bs->stats));
	if (bs->has_wer) {
		cJSON *w = cJSON_AddObjectToObject(o, "wer");

		if (w) {
			cJSON_AddNumberToObject(w, "wer", bs->wer);
			cJSON_AddNumberToObject(w, "errors", (double)bs->wer_errors);
			cJSON_AddNumberToObject(w, "ref_words", (double)bs->wer_ref_words);
		}
	} else {
		cJSON_AddNullToObject(o, "wer");
	}
	if (bs->calls > bs->calls_failed)
		cJSON_AddNumberToObject(o, "containment_rate",
					(double)bs->contained /
					(double)(bs->calls - bs->calls_failed));
	else
		cJSON_AddNullToObject(o, "containment_rate");
	a = cJSON_AddArrayToObject(o, "slo");
	for (size_t i = 0; a && i < bs->n_slos; i++) {
		cJSON *s = cJSON_CreateObject();

		if (!s)
			goto nomem;
		cJSON_AddItemToArray(a, s);
		cJSON_AddStringToObject(s, "expr", bs->slos[i].expr);
		if (bs->slos[i].has_value)
			cJSON_AddNumberToObject(s, "value", bs->slos[i].value);
		else
			cJSON_AddNullToObject(s, "value");
		cJSON_AddBoolToObject(s, "passed", bs->slos[i].passed);
		cJSON_AddStringToObject(s, "detail", bs->slo_details && bs->slo_details[i]
							     ? bs->slo_details[i] : "");
	}
	if (hist) {
		cJSON *h = cJSON_Parse(hist);

		if (!h)
			goto nomem;
		cJSON_AddItemToObject(root, "histograms", h);
	} else {
		cJSON_AddObjectToObject(root, "histograms");
	}
	*out = cJSON_Print(root);
	cJSON_Delete(root);
	free(hist);
	if (!*out)
		return vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
	return VAGENT_OK;
nomem:
	cJSON_Delete(root);
	free(hist);
	return vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
}

/* A non-negative integer field; false (and the error set) when absent or
 * not one. */
static bool get_count(const cJSON *obj, const char *name, const char *where,
		      const char *path, double max, double *out, struct vagent_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > max ||
	    v->valuedouble != floor(v->valuedouble)) {
		vagent__error_set(err, VAGENT_EFORMAT, where, "%s%s: %s", path, name,
				  v ? "must be a whole number in range" : "missing");
		return false;
	}
	*out = v->valuedouble;
	return true;
}

void vagent_bench_result_free(struct vagent_bench_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->summary.n_inputs; i++)
		free(r->inputs[i]);
	free(r->inputs);
	for (size_t i = 0; i < r->n_slo_exprs; i++)
		free(r->slo_exprs[i]);
	free(r->slo_exprs);
	free(r->clock);
	free(r->path);
	vagent_stats_free(r->stats);
	free(r);
}

vagent_status vagent_bench_from_json(const char *text, size_t len, const char *where,
				     struct vagent_bench_result **out,
				     struct vagent_error *err)
{
	struct vagent_bench_result *r;
	struct vagent_bench_summary *s;
	const cJSON *root, *v, *sum, *wer;
	char *hist;
	double d;
	vagent_status st = VAGENT_EFORMAT;

	vagent_error_clear(err);
	if (!where)
		where = "bench result";
	if (!out || (!text && len))
		return vagent__error_set(err, VAGENT_EINVAL, where, "no input or output pointer");
	*out = NULL;
	root = cJSON_ParseWithLength(text ? text : "", len);
	if (!root)
		return vagent__error_set(err, VAGENT_EFORMAT, where, "not JSON");
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(where))) {
		st = vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
		goto fail;
	}
	s = &r->summary;
	s->title = "vagent bench";
	v = cJSON_GetObjectItemCaseSensitive(root, "kind");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "bench")) {
		vagent__error_set(err, VAGENT_EFORMAT, where,
				  "kind: not a bench result (write one with vagent bench --json)");
		goto fail;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "inputs");
	if (!cJSON_IsArray(v)) {
		vagent__error_set(err, VAGENT_EFORMAT, where, "inputs: missing or not an array");
		goto fail;
	}
	r->inputs = calloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(*r->inputs));
	if (!r->inputs)
		goto nomem;
	for (const cJSON *i = v->child; i; i = i->next) {
		if (!cJSON_IsString(i)) {
			vagent__error_set(err, VAGENT_EFORMAT, where, "inputs[%zu]: not a string",
					  s->n_inputs);
			goto fail;
		}
		if (!(r->inputs[s->n_inputs] = strdup(i->valuestring)))
			goto nomem;
		s->n_inputs++;
	}
	s->inputs = (const char *const *)r->inputs;
	v = cJSON_GetObjectItemCaseSensitive(root, "clock");
	if (!cJSON_IsString(v) || (strcmp(v->valuestring, "virtual") &&
				   strcmp(v->valuestring, "real"))) {
		vagent__error_set(err, VAGENT_EFORMAT, where, "clock: must be \"virtual\" or \"real\"");
		goto fail;
	}
	if (!(r->clock = strdup(v->valuestring)))
		goto nomem;
	s->clock = r->clock;
	if (!get_count(root, "runs", where, "", 1e9, &d, err))
		goto fail;
	s->runs = (int)d;
	if (!get_count(root, "concurrency", where, "", 1e9, &d, err))
		goto fail;
	s->concurrency = (int)d;
	if (!get_count(root, "shards", where, "", 1e9, &d, err))
		goto fail;
	s->shard_n = (int)d;
	v = cJSON_GetObjectItemCaseSensitive(root, "shard");
	if (cJSON_IsObject(v)) {
		double k, n;

		if (!get_count(v, "k", where, "shard.", 1e9, &k, err) ||
		    !get_count(v, "n", where, "shard.", 1e9, &n, err))
			goto fail;
		if (k < 1 || k > n || (int)n != s->shard_n) {
			vagent__error_set(err, VAGENT_EFORMAT, where,
					  "shard: k must be 1..n and n the \"shards\" count");
			goto fail;
		}
		s->shard_k = (int)k;
	} else if (v && !cJSON_IsNull(v)) {
		vagent__error_set(err, VAGENT_EFORMAT, where, "shard: must be an object or null");
		goto fail;
	}
	if (!get_count(root, "parts", where, "", 1e9, &d, err))
		goto fail;
	s->n_parts = (size_t)d;
	/* one shard's result names its shard; a whole run or a merge none */
	if ((s->shard_k != 0) != (s->shard_n > 0 && s->n_parts == 0)) {
		vagent__error_set(err, VAGENT_EFORMAT, where, s->shard_k
				  ? "shard: given in a result merged from parts"
				  : "shard: missing though \"shards\" is %d", s->shard_n);
		goto fail;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "wall_s");
	s->wall_s = cJSON_IsNumber(v) && v->valuedouble > 0 ? v->valuedouble : 0;

	sum = cJSON_GetObjectItemCaseSensitive(root, "summary");
	if (!cJSON_IsObject(sum)) {
		vagent__error_set(err, VAGENT_EFORMAT, where, "summary: missing or not an object");
		goto fail;
	}
	if (!get_count(sum, "calls", where, "summary.", 1e15, &d, err))
		goto fail;
	s->calls = (size_t)d;
	if (!get_count(sum, "calls_failed", where, "summary.", 1e15, &d, err))
		goto fail;
	s->calls_failed = (size_t)d;
	if (!get_count(sum, "turns", where, "summary.", 1e15, &d, err))
		goto fail;
	s->turns = (size_t)d;
	if (!get_count(sum, "contained", where, "summary.", 1e15, &d, err))
		goto fail;
	s->contained = (size_t)d;
	if (s->contained > s->calls) {
		vagent__error_set(err, VAGENT_EFORMAT, where,
				  "summary.contained: more than the calls");
		goto fail;
	}
	wer = cJSON_GetObjectItemCaseSensitive(sum, "wer");
	if (cJSON_IsObject(wer)) {
		if (!get_count(wer, "errors", where, "summary.wer.", 1e15, &d, err))
			goto fail;
		s->wer_errors = (size_t)d;
		if (!get_count(wer, "ref_words", where, "summary.wer.", 1e15, &d, err))
			goto fail;
		s->wer_ref_words = (size_t)d;
		s->has_wer = s->wer_ref_words > 0;
		s->wer = s->has_wer ? (double)s->wer_errors / (double)s->wer_ref_words : 0;
	} else if (wer && !cJSON_IsNull(wer)) {
		vagent__error_set(err, VAGENT_EFORMAT, where, "summary.wer: must be an object or null");
		goto fail;
	}
	v = cJSON_GetObjectItemCaseSensitive(sum, "slo");
	if (v && !cJSON_IsArray(v)) {
		vagent__error_set(err, VAGENT_EFORMAT, where, "summary.slo: not an array");
		goto fail;
	}
	if (v) {
		r->slo_exprs = calloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(*r->slo_exprs));
		if (!r->slo_exprs)
			goto nomem;
		for (const cJSON *i = v->child; i; i = i->next) {
			const cJSON *e = cJSON_GetObjectItemCaseSensitive(i, "expr");

			if (!cJSON_IsString(e)) {
				vagent__error_set(err, VAGENT_EFORMAT, where,
						  "summary.slo[%zu].expr: missing", r->n_slo_exprs);
				goto fail;
			}
			if (!(r->slo_exprs[r->n_slo_exprs] = strdup(e->valuestring)))
				goto nomem;
			r->n_slo_exprs++;
		}
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "histograms");
	if (!cJSON_IsObject(v)) {
		vagent__error_set(err, VAGENT_EFORMAT, where, "histograms: missing or not an object");
		goto fail;
	}
	hist = cJSON_PrintUnformatted(v);
	if (!hist)
		goto nomem;
	st = vagent_stats_from_json(hist, strlen(hist), where, &r->stats, err);
	free(hist);
	if (st != VAGENT_OK)
		goto fail;
	s->stats = r->stats;
	cJSON_Delete((cJSON *)root);
	*out = r;
	return VAGENT_OK;
nomem:
	st = vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
fail:
	cJSON_Delete((cJSON *)root);
	vagent_bench_result_free(r);
	return st == VAGENT_OK ? VAGENT_EFORMAT : st;
}

vagent_status vagent_bench_merge(struct vagent_bench_result *dst,
				 const struct vagent_bench_result *src,
				 struct vagent_error *err)
{
	struct vagent_bench_summary *d;
	const struct vagent_bench_summary *s;
	vagent_status st;

	vagent_error_clear(err);
	if (!dst || !src)
		return vagent__error_set(err, VAGENT_EINVAL, "merge", "no result to merge");
	d = &dst->summary;
	s = &src->summary;
	if (s->n_inputs != d->n_inputs)
		return vagent__error_set(err, VAGENT_EINVAL, src->path,
					 "not a part of the same bench as %s: %zu inputs, not %zu",
					 dst->path, s->n_inputs, d->n_inputs);
	for (size_t i = 0; i < s->n_inputs; i++)
		if (strcmp(s->inputs[i], d->inputs[i]))
			return vagent__error_set(err, VAGENT_EINVAL, src->path,
						 "not a part of the same bench as %s: input %zu is "
						 "%s, not %s", dst->path, i + 1, s->inputs[i],
						 d->inputs[i]);
	if (s->runs != d->runs || strcmp(s->clock, d->clock) || s->shard_n != d->shard_n)
		return vagent__error_set(err, VAGENT_EINVAL, src->path,
					 "not a part of the same bench as %s: --runs %d, %s clock, "
					 "%d shards (there: --runs %d, %s clock, %d shards)",
					 dst->path, s->runs, s->clock, s->shard_n, d->runs, d->clock,
					 d->shard_n);
	st = vagent_stats_merge(dst->stats, src->stats);
	if (st != VAGENT_OK)
		return vagent__error_set(err, st, NULL, "out of memory");
	d->calls += s->calls;
	d->calls_failed += s->calls_failed;
	d->turns += s->turns;
	d->contained += s->contained;
	d->wer_errors += s->wer_errors;
	d->wer_ref_words += s->wer_ref_words;
	d->has_wer = d->wer_ref_words > 0;
	d->wer = d->has_wer ? (double)d->wer_errors / (double)d->wer_ref_words : 0;
	if (s->wall_s > d->wall_s)
		d->wall_s = s->wall_s;
	if (s->concurrency > d->concurrency)
		d->concurrency = s->concurrency;
	d->n_parts = (d->n_parts ? d->n_parts : 1) + (s->n_parts ? s->n_parts : 1);
	return VAGENT_OK;
}
