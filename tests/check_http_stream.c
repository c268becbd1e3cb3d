/*
 * check_http_stream.c — streaming HTTP on the loop against the loopback
 * fake OpenAI server: a stream on the real and the virtual clock, a cancel
 * from the data callback (the fake sees the connection closed), a 429's
 * retry-after, first-byte and stall timeouts, a refused connection, and
 * header redaction.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_stream_int.h"
#include "support/fake_openai.h"

static const char request_body[] =
	"{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
	"\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";

struct got {
	struct vagent__strbuf data;
	int done_calls, data_calls;
	vagent_status st;
	long status;
	double retry_after;
	char message[300], body[600];
	bool cancel_on_data;
	struct vagent__http_req *req;
	struct vagent__http *free_on_done;   /* free the client in on_done */
};

static void on_data(void *ctx, const char *buf, size_t n)
{
	struct got *g = ctx;

	g->data_calls++;
	vagent__strbuf_put(&g->data, buf, n);
	if (g->cancel_on_data)
		vagent__http_cancel(g->req);
}

static void on_done(void *ctx, const struct vagent__http_result *r)
{
	struct got *g = ctx;

	g->done_calls++;
	g->st = r->st;
	g->status = r->status;
	g->retry_after = r->retry_after_s;
	snprintf(g->message, sizeof(g->message), "%s", r->message);
	snprintf(g->body, sizeof(g->body), "%s", r->body);
	if (g->free_on_done)
		vagent__http_free(g->free_on_done);
}

static struct vagent_loop *new_loop(enum vagent_clock_type clock)
{
	struct vagent_loop_config cfg = vagent_loop_config_default();
	struct vagent_loop *loop = NULL;

	cfg.clock = clock;
	cfg.workers = 1;
	ck_assert_int_eq(vagent_loop_new(&cfg, &loop, NULL), VAGENT_OK);
	return loop;
}

/* Run one request to the end on a new loop. */
static void run_one(struct fake_openai *f, enum vagent_clock_type clock,
		    struct got *g, int first_byte_ms, int idle_ms, const char *url,
		    int64_t *elapsed)
{
	struct vagent_loop *loop = new_loop(clock);
	struct vagent__http *h = NULL;
	char full[128];
	const char *headers[] = { "Content-Type: application/json",
				  "Authorization: Bearer sk-test", NULL };
	struct vagent__http_request rq = {
		.name = "fakeai", .url = full, .headers = headers,
		.body = request_body, .first_byte_timeout_ms = first_byte_ms,
		.idle_timeout_ms = idle_ms, .on_data = on_data, .on_done = on_done,
		.ctx = g,
	};
	struct vagent_error err;

	snprintf(full, sizeof(full), "%s/chat/completions", url ? url : fake_openai_url(f));
	ck_assert_int_eq(vagent__http_new(loop, &h, &err), VAGENT_OK);
	ck_assert_int_eq(vagent__http_start(h, &rq, &g->req, &err), VAGENT_OK);
	ck_assert_int_eq(vagent__http_active(h), 1);
	ck_assert_int_eq(vagent_loop_run(loop, VAGENT_RUN_UNTIL_IDLE, &err), VAGENT_OK);
	ck_assert_int_eq(vagent__http_active(h), 0);
	if (elapsed)
		*elapsed = vagent_loop_now(loop);
	vagent__http_free(h);
	vagent_loop_free(loop);
}

static struct fake_openai *start_fake(struct fake_reply *r, int pace_ms)
{
	struct fake_openai_config c = { .replies = r, .n_replies = 1, .pace_ms = pace_ms,
					.api_key = "sk-test" };
	struct fake_openai *f = fake_openai_start(&c);

	ck_assert_ptr_nonnull(f);
	return f;
}

static void check_full_stream(enum vagent_clock_type clock)
{
	struct fake_reply r = { .text = "Your order shipped today." };
	struct fake_openai *f = start_fake(&r, 10);
	struct got g = { 0 };
	int64_t elapsed;
	char *body;

	run_one(f, clock, &g, 5000, 5000, NULL, &elapsed);
	ck_assert_int_eq(g.done_calls, 1);
	ck_assert_int_eq(g.st, VAGENT_OK);
	ck_assert_int_eq(g.status, 200);
	ck_assert_ptr_nonnull(strstr(g.data.p, "\"content\":\" shipped\""));
	ck_assert_ptr_nonnull(strstr(g.data.p, "\"usage\":{\"prompt_tokens\""));
	ck_assert_ptr_nonnull(strstr(g.data.p, "data: [DONE]\n\n"));
	/* seven paced chunks after the first: the clock saw >= 60 ms pass */
	ck_assert_int_ge(elapsed, 60 * VAGENT_TICKS_PER_MS);
	body = fake_openai_request_body(f, 0);
	ck_assert_str_eq(body, request_body);
	free(body);
	vagent__strbuf_release(&g.data);
	fake_openai_stop(f);
}

START_TEST(test_stream_real_clock)
{
	check_full_stream(VAGENT_CLOCK_REAL);
}
END_TEST

START_TEST(test_stream_virtual_clock)
{
	/* the virtual clock is held while the wire works */
	check_full_stream(VAGENT_CLOCK_VIRTUAL);
}
END_TEST

START_TEST(test_cancel_closes_connection)
{
	struct fake_reply r = { .text = "one two three four five six seven eight" };
	struct fake_openai *f = start_fake(&r, 50);
	struct got g = { .cancel_on_data = true };

	run_one(f, VAGENT_CLOCK_REAL, &g, 5000, 5000, NULL, NULL);
	ck_assert_int_eq(g.data_calls, 1);
	ck_assert_int_eq(g.done_calls, 0);
	ck_assert_int_eq(fake_openai_wait_closed(f, 1, 10000), 1);
	vagent__strbuf_release(&g.data);
	fake_openai_stop(f);
}
END_TEST

START_TEST(test_rate_limited)
{
	struct fake_reply r = { .text = "hi", .fault = FAKE_HTTP_429, .retry_after = "2" };
	struct fake_openai *f = start_fake(&r, 0);
	struct got g = { 0 };

	run_one(f, VAGENT_CLOCK_REAL, &g, 5000, 5000, NULL, NULL);
	ck_assert_int_eq(g.st, VAGENT_OK);
	ck_assert_int_eq(g.status, 429);
	ck_assert(g.retry_after == 2.0);
	ck_assert_ptr_nonnull(strstr(g.body, "rate_limit_exceeded"));
	ck_assert_ptr_null(g.data.p);            /* an error body is not data */
	fake_openai_stop(f);
}
END_TEST

START_TEST(test_first_byte_timeout)
{
	struct fake_reply r = { .text = "late", .fault = FAKE_SLOW_FIRST_BYTE,
				.fault_ms = 20000 };
	struct fake_openai *f = start_fake(&r, 0);
	struct got g = { 0 };

	run_one(f, VAGENT_CLOCK_VIRTUAL, &g, 100, 0, NULL, NULL);
	ck_assert_int_eq(g.done_calls, 1);
	ck_assert_int_eq(g.st, VAGENT_ETIMEOUT);
	ck_assert_str_eq(g.message, "fakeai: no response within 100 ms");
	ck_assert_int_eq(fake_openai_wait_closed(f, 1, 10000), 1);
	fake_openai_stop(f);
}
END_TEST

START_TEST(test_stall_timeout)
{
	struct fake_reply r = { .text = "one two three four", .fault = FAKE_STALL,
				.fault_after = 2 };
	struct fake_openai *f = start_fake(&r, 0);
	struct got g = { 0 };

	run_one(f, VAGENT_CLOCK_REAL, &g, 5000, 150, NULL, NULL);
	ck_assert_int_eq(g.st, VAGENT_ETIMEOUT);
	ck_assert_str_eq(g.message, "fakeai: stream stalled (no data for 150 ms)");
	ck_assert_ptr_nonnull(strstr(g.data.p, "\"content\":\"one\""));
	ck_assert_ptr_null(strstr(g.data.p, "two"));
	ck_assert_int_eq(fake_openai_wait_closed(f, 1, 10000), 1);
	vagent__strbuf_release(&g.data);
	fake_openai_stop(f);
}
END_TEST

START_TEST(test_connection_refused)
{
	struct fake_reply r = { .text = "x" };
	struct fake_openai *f = start_fake(&r, 0);
	char url[64];
	struct got g = { 0 };

	snprintf(url, sizeof(url), "%s", fake_openai_url(f));
	fake_openai_stop(f);                     /* nobody listens there now */
	run_one(NULL, VAGENT_CLOCK_REAL, &g, 0, 0, url, NULL);
	ck_assert_int_eq(g.st, VAGENT_EIO);
	ck_assert_ptr_nonnull(strstr(g.message, "fakeai: "));
	ck_assert_int_eq(g.status, 0);
}
END_TEST

START_TEST(test_header_redaction)
{
	char out[128];

	vagent__http_header_redact("Authorization: Bearer sk-secret", out, sizeof(out));
	ck_assert_str_eq(out, "authorization: <redacted>");
	vagent__http_header_redact("x-api-key: sk-ant-secret", out, sizeof(out));
	ck_assert_str_eq(out, "x-api-key: <redacted>");
	vagent__http_header_redact("Content-Type: application/json", out, sizeof(out));
	ck_assert_str_eq(out, "Content-Type: application/json");
}
END_TEST

/* The owner may free the client from its own completion callback (a
 * session that ends the call on a failure stops its brain there). */
START_TEST(test_free_from_callback)
{
	struct fake_reply r = { .text = "x", .fault = FAKE_HTTP_500 };
	struct fake_openai *f = start_fake(&r, 0);
	struct vagent_loop *loop = new_loop(VAGENT_CLOCK_VIRTUAL);
	struct vagent__http *h = NULL;
	char url[128];
	struct got g = { 0 };
	struct vagent__http_request rq = { .name = "fakeai", .url = url,
					   .body = request_body, .on_data = on_data,
					   .on_done = on_done, .ctx = &g };

	snprintf(url, sizeof(url), "%s/chat/completions", fake_openai_url(f));
	ck_assert_int_eq(vagent__http_new(loop, &h, NULL), VAGENT_OK);
	g.free_on_done = h;
	ck_assert_int_eq(vagent__http_start(h, &rq, &g.req, NULL), VAGENT_OK);
	ck_assert_int_eq(vagent_loop_run(loop, VAGENT_RUN_UNTIL_IDLE, NULL), VAGENT_OK);
	ck_assert_int_eq(g.done_calls, 1);
	ck_assert_int_eq(g.status, 401);        /* no key sent */
	vagent_loop_free(loop);
	fake_openai_stop(f);
}
END_TEST

Suite *suite_http_stream(void)
{
	Suite *s = suite_create("http_stream");
	TCase *tc = tcase_create("fake");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_stream_real_clock);
	tcase_add_test(tc, test_stream_virtual_clock);
	tcase_add_test(tc, test_cancel_closes_connection);
	tcase_add_test(tc, test_rate_limited);
	tcase_add_test(tc, test_first_byte_timeout);
	tcase_add_test(tc, test_stall_timeout);
	tcase_add_test(tc, test_connection_refused);
	tcase_add_test(tc, test_header_redaction);
	tcase_add_test(tc, test_free_from_callback);
	suite_add_tcase(s, tc);
	return s;
}
