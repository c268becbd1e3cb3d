/*
 * check_ws.c — the WebSocket client transport (lib/net/ws_client.c) on a
 * real-clock vagent loop against the fake server's /echo endpoint: text
 * and binary messages come back intact and in order (a large one too),
 * extra headers reach the server, close codes go both ways, a refused
 * upgrade (401, 429) is one on_error naming the peer with the HTTP status
 * and never the key, a dead port and a bad URL are errors.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "net/ws_int.h"
#include "support/fake_deepgram.h"

struct got {
	struct vagent_loop *loop;
	struct vagent__ws_client *c;
	bool opened, closed, failed;
	int close_code, http_status;
	vagent_status status;
	char reason[128], error[512];
	char *msgs[16];
	bool binary[16];
	size_t lens[16];
	int n_msgs, want_msgs;
};

static void on_open(void *arg)
{
	struct got *g = arg;

	g->opened = true;
	if (!g->want_msgs)
		vagent_loop_stop(g->loop);
}

static void on_message(void *arg, bool binary, const void *data, size_t len)
{
	struct got *g = arg;

	if (g->n_msgs < 16) {
		g->msgs[g->n_msgs] = malloc(len + 1);
		memcpy(g->msgs[g->n_msgs], data, len);
		g->msgs[g->n_msgs][len] = '\0';
		g->lens[g->n_msgs] = len;
		g->binary[g->n_msgs] = binary;
		g->n_msgs++;
	}
	if (g->n_msgs >= g->want_msgs)
		vagent_loop_stop(g->loop);
}

static void on_close(void *arg, int code, const char *reason)
{
	struct got *g = arg;

	g->closed = true;
	g->close_code = code;
	snprintf(g->reason, sizeof(g->reason), "%s", reason);
	vagent_loop_stop(g->loop);
}

static void on_error(void *arg, vagent_status st, int http_status, const char *message)
{
	struct got *g = arg;

	g->failed = true;
	g->status = st;
	g->http_status = http_status;
	snprintf(g->error, sizeof(g->error), "%s", message);
	vagent_loop_stop(g->loop);
}

static void guard_fired(struct vagent_timer *t, void *arg)
{
	(void)t;
	vagent_loop_stop(arg);
}

/* Run the loop until a callback stops it, at most 10 s. */
static void run(struct got *g)
{
	struct vagent_timer *guard = vagent_timer_new(g->loop, guard_fired, g->loop);
	struct vagent_error err;

	ck_assert(guard);
	ck_assert(vagent_timer_start(guard, vagent_ticks_from_ms(10000), 0, &err) == VAGENT_OK);
	ck_assert(vagent_loop_run(g->loop, VAGENT_RUN_DEFAULT, &err) == VAGENT_OK);
	vagent_timer_free(guard);
}

static struct fake_deepgram *fake;
static struct got g;

static void setup(void)
{
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_error err;

	lc.workers = 0;
	memset(&g, 0, sizeof(g));
	ck_assert(vagent_loop_new(&lc, &g.loop, &err) == VAGENT_OK);
}

static void teardown(void)
{
	vagent__ws_client_free(g.c);
	for (int i = 0; i < g.n_msgs; i++)
		free(g.msgs[i]);
	vagent_loop_free(g.loop);
	fake_deepgram_stop(fake);
	fake = NULL;
}

static const struct vagent__ws_callbacks cbs = {
	on_open, on_message, on_close, on_error, &g,
};

static void connect_to(const char *path, const char *const *headers)
{
	struct vagent__ws_config wc = { 0 };
	struct vagent_error err;
	char url[128];

	snprintf(url, sizeof(url), "ws://127.0.0.1:%d%s", fake_deepgram_port(fake), path);
	wc.url = url;
	wc.headers = headers;
	wc.who = "echo";
	ck_assert_msg(vagent__ws_client_new(g.loop, &wc, &cbs, &g.c, &err) == VAGENT_OK,
		      "%s", err.message);
}

static const char *const token_headers[] = { "Authorization: Token sekrit-key-123", NULL };

START_TEST(test_echo_text_and_binary)
{
	struct vagent_error err;
	struct fake_deepgram_stats st;
	unsigned char bin[5] = { 0, 1, 255, 0, 7 };
	size_t big_len = 200000;
	char *big = malloc(big_len);

	fake = fake_deepgram_start(NULL);
	connect_to("/echo", token_headers);
	/* queued before the connection is open: sent in order once it is */
	ck_assert(vagent__ws_send(g.c, false, "hello", 5, &err) == VAGENT_OK);
	ck_assert(vagent__ws_send(g.c, true, bin, sizeof(bin), &err) == VAGENT_OK);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (char)('a' + i % 26);
	ck_assert(vagent__ws_send(g.c, true, big, big_len, &err) == VAGENT_OK);
	ck_assert(vagent__ws_send(g.c, false, "{\"type\":\"KeepAlive\"}", 20, &err) == VAGENT_OK);
	g.want_msgs = 4;
	run(&g);
	ck_assert(g.opened);
	ck_assert(vagent__ws_is_open(g.c));
	ck_assert_int_eq(g.n_msgs, 4);
	ck_assert(!g.binary[0]);
	ck_assert_str_eq(g.msgs[0], "hello");
	ck_assert(g.binary[1]);
	ck_assert_uint_eq(g.lens[1], sizeof(bin));
	ck_assert(!memcmp(g.msgs[1], bin, sizeof(bin)));
	ck_assert(g.binary[2]);
	ck_assert_uint_eq(g.lens[2], big_len);
	ck_assert(!memcmp(g.msgs[2], big, big_len));
	ck_assert_str_eq(g.msgs[3], "{\"type\":\"KeepAlive\"}");
	fake_deepgram_get_stats(fake, &st);
	ck_assert_str_eq(st.auth, "Token sekrit-key-123");
	free(big);
}
END_TEST

static bool close_4000_seen(const struct fake_deepgram_stats *s, void *arg)
{
	(void)arg;
	return s->client_close_code == 4000;
}

static bool close_4001_seen(const struct fake_deepgram_stats *s, void *arg)
{
	(void)arg;
	return s->client_close_code == 4001 && !strcmp(s->last_text, "bye");
}

START_TEST(test_client_close_code)
{
	struct vagent_error err;
	struct fake_deepgram_stats st;

	fake = fake_deepgram_start(NULL);
	connect_to("/echo", token_headers);
	run(&g);
	ck_assert(g.opened);
	vagent__ws_close(g.c, 4000, "done");
	run(&g);
	ck_assert(g.closed);
	ck_assert_int_eq(g.close_code, 4000);
	ck_assert(!vagent__ws_is_open(g.c));
	ck_assert(vagent__ws_send(g.c, false, "x", 1, &err) == VAGENT_EINVAL);
	ck_assert(fake_deepgram_wait(fake, close_4000_seen, NULL, 10000));
	fake_deepgram_get_stats(fake, &st);
	ck_assert_int_eq(st.client_close_code, 4000);
}
END_TEST

START_TEST(test_server_close_code)
{
	struct vagent_error err;

	fake = fake_deepgram_start(NULL);
	connect_to("/echo", token_headers);
	ck_assert(vagent__ws_send(g.c, false, "close 1011 NET-0001", 19, &err) == VAGENT_OK);
	run(&g);
	ck_assert(g.opened);
	if (!g.closed)
		run(&g);
	ck_assert(g.closed);
	ck_assert_int_eq(g.close_code, 1011);
	ck_assert_str_eq(g.reason, "NET-0001");
	ck_assert(!g.failed);
}
END_TEST

START_TEST(test_abrupt_close_is_1006)
{
	struct fake_deepgram_config fc = fake_deepgram_config_default();
	struct vagent_error err;
	int16_t loud[160];

	for (int i = 0; i < 160; i++)
		loud[i] = (int16_t)(i % 2 ? 8000 : -8000);
	fc.drop_after_audio_ms = 20;
	fake = fake_deepgram_start(&fc);
	{
		char url[160];
		struct vagent__ws_config wc = { 0 };

		snprintf(url, sizeof(url), "%s?encoding=linear16&sample_rate=8000", fake_deepgram_url(fake));
		wc.url = url;
		wc.headers = token_headers;
		wc.who = "deepgram";
		ck_assert(vagent__ws_client_new(g.loop, &wc, &cbs, &g.c, &err) == VAGENT_OK);
	}
	ck_assert(vagent__ws_send(g.c, true, loud, sizeof(loud), &err) == VAGENT_OK);
	run(&g);
	if (!g.closed)
		run(&g);
	ck_assert(g.closed);
	ck_assert_int_eq(g.close_code, 1006);
}
END_TEST

static void refused(int status, vagent_status want)
{
	struct fake_deepgram_config fc = fake_deepgram_config_default();

	fc.http_status = status;
	fake = fake_deepgram_start(&fc);
	connect_to("/v1/listen?encoding=mulaw&sample_rate=8000", token_headers);
	run(&g);
	ck_assert(!g.opened);
	ck_assert(g.failed);
	ck_assert_int_eq(g.http_status, status);
	ck_assert_int_eq(g.status, want);
	ck_assert_msg(strstr(g.error, "echo: ") == g.error, "%s", g.error);
	ck_assert_msg(strstr(g.error, "HTTP"), "%s", g.error);
	ck_assert_msg(!strstr(g.error, "sekrit") && !strstr(g.error, "encoding="), "%s", g.error);
	ck_assert(!strchr(g.error, '\n'));
}

START_TEST(test_401)
{
	refused(401, VAGENT_EAUTH);
}
END_TEST

START_TEST(test_429)
{
	refused(429, VAGENT_EPROVIDER);
}
END_TEST

START_TEST(test_wrong_key_is_401)
{
	struct fake_deepgram_config fc = fake_deepgram_config_default();
	static const char *const wrong[] = { "Authorization: Token not-the-key", NULL };

	fc.api_key = "right-key";
	fake = fake_deepgram_start(&fc);
	connect_to("/echo", wrong);
	run(&g);
	ck_assert(g.failed);
	ck_assert_int_eq(g.http_status, 401);
	ck_assert(!strstr(g.error, "not-the-key"));
}
END_TEST

START_TEST(test_nobody_listening)
{
	struct vagent__ws_config wc = { 0 };
	struct vagent_error err;
	char url[64];
	int port;

	fake = fake_deepgram_start(NULL);
	port = fake_deepgram_port(fake);
	fake_deepgram_stop(fake);   /* the port is free again */
	fake = NULL;
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/x?token=secret", port);
	wc.url = url;
	wc.who = "deepgram";
	ck_assert(vagent__ws_client_new(g.loop, &wc, &cbs, &g.c, &err) == VAGENT_OK);
	run(&g);
	ck_assert(g.failed);
	ck_assert_int_eq(g.http_status, 0);
	ck_assert_msg(strstr(g.error, "deepgram: cannot connect to 127.0.0.1:"), "%s", g.error);
	ck_assert(!strstr(g.error, "secret"));
}
END_TEST

START_TEST(test_bad_urls)
{
	static const char *const bad[] = {
		"http://x/y", "ws://", "ws://:80/", "ws://host:0/", "ws://host:99999/",
		"wss://user:pw@host/", "ws://host:12ab/", NULL,
	};
	struct vagent__ws_config wc = { 0 };
	struct vagent_error err;

	wc.who = "deepgram";
	for (int i = 0; bad[i]; i++) {
		wc.url = bad[i];
		ck_assert_int_eq(vagent__ws_client_new(g.loop, &wc, &cbs, &g.c, &err), VAGENT_EINVAL);
		ck_assert(g.c == NULL);
		ck_assert_msg(strstr(err.message, "deepgram") && !strstr(err.message, "pw"),
			      "%s", err.message);
	}
	{
		bool tls;
		char *host, *path;
		int port;

		ck_assert(vagent__ws_parse_url("wss://api.deepgram.com/v1/listen?a=1", &tls, &host, &port, &path));
		ck_assert(tls);
		ck_assert_int_eq(port, 443);
		ck_assert_str_eq(host, "api.deepgram.com");
		ck_assert_str_eq(path, "/v1/listen?a=1");
		free(host);
		free(path);
		ck_assert(vagent__ws_parse_url("ws://h:81?x", &tls, &host, &port, &path));
		ck_assert(!tls);
		ck_assert_int_eq(port, 81);
		ck_assert_str_eq(path, "/?x");
		free(host);
		free(path);
	}
}
END_TEST

START_TEST(test_detach_outlives_loop)
{
	struct vagent_error err;

	fake = fake_deepgram_start(NULL);
	connect_to("/echo", token_headers);
	run(&g);
	ck_assert(g.opened);
	vagent__ws_detach(g.c);
	/* sending and closing still work without the loop */
	ck_assert(vagent__ws_send(g.c, false, "bye", 3, &err) == VAGENT_OK);
	vagent__ws_close(g.c, 4001, "");
	vagent_loop_free(g.loop);
	g.loop = NULL;
	vagent__ws_client_free(g.c);
	g.c = NULL;
	ck_assert(fake_deepgram_wait(fake, close_4001_seen, NULL, 10000));
	ck_assert(!g.closed);   /* no callback after detach */
}
END_TEST

START_TEST(test_free_while_connecting)
{
	fake = fake_deepgram_start(NULL);
	connect_to("/echo", token_headers);
	vagent__ws_client_free(g.c);   /* no callback may follow */
	g.c = NULL;
	ck_assert(!g.opened && !g.failed && !g.closed);
}
END_TEST

Suite *suite_ws(void)
{
	Suite *s = suite_create("ws");
	TCase *tc = tcase_create("client");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_echo_text_and_binary);
	tcase_add_test(tc, test_client_close_code);
	tcase_add_test(tc, test_server_close_code);
	tcase_add_test(tc, test_abrupt_close_is_1006);
	tcase_add_test(tc, test_401);
	tcase_add_test(tc, test_429);
	tcase_add_test(tc, test_wrong_key_is_401);
	tcase_add_test(tc, test_nobody_listening);
	tcase_add_test(tc, test_bad_urls);
	tcase_add_test(tc, test_free_while_connecting);
	tcase_add_test(tc, test_detach_outlives_loop);
	suite_add_tcase(s, tc);
	return s;
}
