/*
 * tools_bench.c — tools figures for `make bench BENCH=tools`: the latency
 * of an HTTP tool call against the loopback mock server on a real loop
 * (validation, templates, a worker's libcurl transfer, JSON check), how
 * long an aborted hung transfer takes to give its worker back, and the
 * JSON Schema validator's rate.
 *
 *   tools_bench CALLS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vagent.h"

#define SCHEMA \
	"{\"type\":\"object\",\"properties\":{" \
	"\"order_id\":{\"type\":\"string\",\"pattern\":\"^[0-9]{5}$\"}," \
	"\"amount\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1000}," \
	"\"reason\":{\"type\":\"string\",\"enum\":[\"damaged\",\"late\"]}}," \
	"\"required\":[\"order_id\",\"amount\"],\"additionalProperties\":false}"
#define ARGS "{\"order_id\":\"12345\",\"amount\":42.5,\"reason\":\"late\"}"

struct bench {
	struct vagent_loop *loop;
	struct vagent_tools *tools;
	double *lat;
	int n, want;
	double t0;
	int failed;
};

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void next_call(struct bench *b)
{
	b->t0 = wall();
	b->tools->ops->call(b->tools, (uint64_t)b->n + 1, "refund", ARGS, NULL);
}

static void on_result(void *ctx, uint64_t id, vagent_status st, const char *r)
{
	struct bench *b = ctx;

	(void)id;
	(void)r;
	if (b->tools == NULL)
		return;
	if (st != VAGENT_OK)
		b->failed++;
	b->lat[b->n++] = (wall() - b->t0) * 1000.0;
	if (b->n < b->want)
		next_call(b);
}

static struct vagent_tools *make_tools(int port, struct bench *b, const char *path,
				       int timeout_ms)
{
	char base[64], url[128];
	const char *vars[] = { base, NULL };
	struct vagent_tool_def d;
	struct vagent_tools_config cfg = vagent_tools_config_default();
	struct vagent_tools *t = NULL;
	struct vagent_error err;

	memset(&d, 0, sizeof(d));
	snprintf(base, sizeof(base), "base_url=http://127.0.0.1:%d", port);
	snprintf(url, sizeof(url), "{base_url}%s", path);
	d.name = "refund";
	d.url = url;
	d.parameters = SCHEMA;
	d.body = "{\"amount\":\"{amount}\",\"reason\":\"{reason}\"}";
	d.retries = 0;
	d.timeout_ms = timeout_ms;
	d.guard.confirm_above = d.guard.max = -1;
	cfg.tools = &d;
	cfg.n_tools = 1;
	cfg.variables = vars;
	cfg.total_timeout_ms = 0;
	if (vagent_tools_new(&cfg, &t, &err) != VAGENT_OK) {
		fprintf(stderr, "tools_bench: %s\n", err.message);
		exit(3);
	}
	t->loop = b->loop;
	t->on_result = on_result;
	t->ctx = b;
	return t;
}

int main(int argc, char **argv)
{
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_mock_http *srv = NULL;
	struct vagent_error err;
	struct bench b;
	int calls = argc > 1 ? atoi(argv[1]) : 500;
	int i, n_val = 200000;
	double t, aborted_ms;
	const char *routes =
		"{\"routes\":[{\"name\":\"refund\",\"method\":\"POST\","
		"\"path\":\"/refund\",\"performs\":true,"
		"\"body\":{\"refund_id\":\"RF-1\",\"amount\":\"{body.amount}\"}},"
		"{\"name\":\"hang\",\"method\":\"POST\",\"path\":\"/hang\",\"hang\":true}]}";

	if (calls < 1)
		calls = 1;
	memset(&b, 0, sizeof(b));
	if (vagent_mock_http_new(routes, "bench", NULL, &srv, &err) != VAGENT_OK ||
	    vagent_loop_new(&lc, &b.loop, &err) != VAGENT_OK) {
		fprintf(stderr, "tools_bench: %s\n", err.message);
		return 3;
	}
	b.lat = calloc((size_t)calls, sizeof(double));
	b.want = calls;
	b.tools = make_tools(vagent_mock_http_port(srv), &b, "/refund", 5000);
	t = wall();
	next_call(&b);
	vagent_loop_run(b.loop, VAGENT_RUN_UNTIL_IDLE, NULL);
	t = wall() - t;
	qsort(b.lat, (size_t)b.n, sizeof(double), cmp);
	printf("HTTP tool call, loopback mock server, real loop, %d sequential calls "
	       "(%d failed): p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms; "
	       "%.0f calls/s\n", b.n, b.failed, b.lat[b.n / 2], b.lat[b.n * 9 / 10],
	       b.lat[b.n * 99 / 100], b.lat[b.n - 1], b.n / t);
	vagent_tools_free(b.tools);

	/* cancel a hung transfer: time until its worker is free again */
	b.tools = make_tools(vagent_mock_http_port(srv), &b, "/hang", 30000);
	b.want = 0;
	b.tools->ops->call(b.tools, 1, "refund", ARGS, NULL);
	vagent_loop_run_until(b.loop, vagent_loop_now(b.loop) +
			      vagent_ticks_from_ms(100), NULL);
	t = wall();
	b.tools->ops->cancel(b.tools, 1);
	vagent_loop_run(b.loop, VAGENT_RUN_UNTIL_IDLE, NULL);
	aborted_ms = (wall() - t) * 1000.0;
	printf("cancel of a hung transfer (timeout 30 s): worker free after %.3f ms\n",
	       aborted_ms);
	vagent_tools_free(b.tools);

	t = wall();
	for (i = 0; i < n_val; i++)
		if (vagent_json_schema_validate(SCHEMA, ARGS, NULL) != VAGENT_OK)
			return 3;
	t = wall() - t;
	printf("JSON Schema validate (parse schema + arguments, 3 properties, a "
	       "pattern): %.0f validations/s\n", n_val / t);
	free(b.lat);
	vagent_loop_free(b.loop);
	vagent_mock_http_free(srv);
	return 0;
}
