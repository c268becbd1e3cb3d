/*
 * check_mock_http.c — the mock HTTP server (lib/mock) hit over real loopback
 * sockets: routes, templates, tables, response sequences, every fault,
 * idempotent actions, stats, concurrency, HTTP/1.1 framing, bad routes files,
 * and the `vagent mock-http` command end to end.
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cjson/cJSON.h>

#include "vagent.h"
#include "support/harness.h"

/* ---- a small HTTP client over plain sockets -------------------------- */

struct client {
	int fd;
	char buf[1 << 17];
	size_t len;
};

struct resp {
	int status;                    /* 0: no response */
	bool eof;                      /* the server closed before answering */
	bool timed_out;
	char head[8192];
	char *body;                    /* NUL-terminated (owned) */
	size_t body_len;
};

static int connect_port(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "connect: %s",
		      strerror(errno));
	return fd;
}

static void client_open(struct client *c, int port)
{
	c->fd = connect_port(port);
	c->len = 0;
}

static void send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
		ck_assert_msg(k > 0, "send: %s", strerror(errno));
		s += k;
		n -= (size_t)k;
	}
}

static void send_str(int fd, const char *s)
{
	send_all(fd, s, strlen(s));
}

/* Read more into c->buf; 0 on EOF, -1 on timeout. */
static ssize_t client_fill(struct client *c, int timeout_ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	ssize_t n;
	int rc;

	ck_assert_uint_lt(c->len, sizeof(c->buf));
	do
		rc = poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc == 0)
		return -1;
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
	if (n < 0 && errno == ECONNRESET)
		return 0;
	ck_assert_int_ge(n, 0);
	c->len += (size_t)n;
	return n;
}

static const char *find_str(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; k <= n && i <= n - k; i++)
		if (!memcmp(s + i, needle, k))
			return s + i;
	return NULL;
}

/* The value of header `name` in r->head, copied into a static buffer. */
static const char *resp_header(const struct resp *r, const char *name)
{
	static _Thread_local char v[512]; /* the concurrency test reads from threads */
	size_t n = strlen(name);

	for (const char *l = strstr(r->head, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
		const char *s = l + 2, *e;

		if (!strncasecmp(s, name, n) && s[n] == ':') {
			s += n + 1;
			while (*s == ' ')
				s++;
			e = strstr(s, "\r\n");
			snprintf(v, sizeof(v), "%.*s", (int)(e ? e - s : (long)strlen(s)), s);
			return v;
		}
	}
	return NULL;
}

/* Read one response (skipping a "100 Continue"); timeout per wait. */
static void read_resp(struct client *c, struct resp *r, int timeout_ms)
{
	const char *end;
	size_t head_len, need;
	const char *cl;

	memset(r, 0, sizeof(*r));
	for (;;) {
		while (!(end = find_str(c->buf, c->len, "\r\n\r\n"))) {
			ssize_t n = client_fill(c, timeout_ms);
			if (n < 0) {
				r->timed_out = true;
				return;
			}
			if (n == 0) {
				r->eof = true;
				return;
			}
		}
		head_len = (size_t)(end - c->buf) + 4;
		if (!strncmp(c->buf, "HTTP/1.1 100 ", 13)) {
			memmove(c->buf, c->buf + head_len, c->len - head_len);
			c->len -= head_len;
			continue;
		}
		break;
	}
	ck_assert_uint_lt(head_len, sizeof(r->head));
	memcpy(r->head, c->buf, head_len);
	r->head[head_len] = '\0';
	ck_assert_msg(sscanf(r->head, "HTTP/1.1 %d ", &r->status) == 1, "bad status line: %s", r->head);
	cl = resp_header(r, "Content-Length");
	ck_assert_ptr_nonnull(cl);
	need = (size_t)atol(cl);
	while (c->len < head_len + need) {
		ssize_t n = client_fill(c, timeout_ms);
		ck_assert_msg(n > 0, "body cut short");
	}
	r->body = malloc(need + 1);
	memcpy(r->body, c->buf + head_len, need);
	r->body[need] = '\0';
	r->body_len = need;
	memmove(c->buf, c->buf + head_len + need, c->len - head_len - need);
	c->len -= head_len + need;
}

static void resp_free(struct resp *r)
{
	free(r->body);
	r->body = NULL;
}

/* One request on a fresh connection. */
static struct resp request(int port, const char *raw)
{
	struct client *c = malloc(sizeof(*c));
	struct resp r;

	client_open(c, port);
	send_all(c->fd, raw, strlen(raw));
	read_resp(c, &r, 10000);
	close(c->fd);
	free(c);
	return r;
}

static struct resp get(int port, const char *path)
{
	char raw[1024];

	snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	return request(port, raw);
}

static struct resp post(int port, const char *path, const char *extra_headers, const char *body)
{
	char raw[4096];

	snprintf(raw, sizeof(raw),
		 "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%sContent-Length: %zu\r\n\r\n%s",
		 path, extra_headers ? extra_headers : "", strlen(body), body);
	return request(port, raw);
}

static cJSON *json_of(const struct resp *r)
{
	cJSON *j = cJSON_Parse(r->body);

	ck_assert_msg(j != NULL, "not JSON: %s", r->body ? r->body : "(none)");
	return j;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	ck_assert_msg(cJSON_IsString(v), "no string '%s'", k);
	return v->valuestring;
}

static double jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	ck_assert_msg(cJSON_IsNumber(v), "no number '%s'", k);
	return v->valuedouble;
}

static struct vagent_mock_http *start(const char *routes)
{
	struct vagent_mock_http *m = NULL;
	struct vagent_error err;
	vagent_status st = vagent_mock_http_new(routes, "test.json", NULL, &m, &err);

	ck_assert_msg(st == VAGENT_OK, "%s", err.message);
	ck_assert_int_gt(vagent_mock_http_port(m), 0);
	return m;
}

static struct vagent_mock_http *start_orders(void)
{
	struct vagent_mock_http *m = NULL;
	struct vagent_error err;
	vagent_status st = vagent_mock_http_load(top_path("scenarios/services/orders.json"), NULL,
						 &m, &err);

	ck_assert_msg(st == VAGENT_OK, "%s", err.message);
	return m;
}

static struct vagent_mock_http_route_stats stats_of(struct vagent_mock_http *m, const char *route)
{
	struct vagent_mock_http_route_stats s;

	ck_assert_int_eq(vagent_mock_http_route_stats(m, route, &s), VAGENT_OK);
	return s;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- routes, tables, templates --------------------------------------- */

START_TEST(test_order_lookup_and_404)
{
	struct vagent_mock_http *m = start_orders();
	int port = vagent_mock_http_port(m);
	struct resp r = get(port, "/orders/12345");
	cJSON *j = json_of(&r);

	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(resp_header(&r, "Content-Type"), "application/json");
	ck_assert_str_eq(jstr(j, "order_number"), "12345");
	ck_assert_str_eq(jstr(j, "status"), "shipped");
	ck_assert_str_eq(jstr(j, "carrier"), "UPS");
	ck_assert(jnum(j, "total") > 79.98 && jnum(j, "total") < 80.0);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "items")), 1);
	cJSON_Delete(j);
	resp_free(&r);

	r = get(port, "/orders/99999");
	j = json_of(&r);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(jstr(j, "error"), "order_not_found");
	ck_assert_str_eq(jstr(j, "order_number"), "99999");
	cJSON_Delete(j);
	resp_free(&r);

	r = get(port, "/nowhere");
	j = json_of(&r);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(jstr(j, "error"), "no_route");
	ck_assert_str_eq(jstr(j, "path"), "/nowhere");
	cJSON_Delete(j);
	resp_free(&r);

	/* the method is part of the match */
	r = post(port, "/orders/12345", NULL, "{}");
	ck_assert_int_eq(r.status, 404);
	resp_free(&r);

	ck_assert_uint_eq(stats_of(m, "get_order").received, 2);
	ck_assert_int_eq(vagent_mock_http_route_stats(m, "no_such_route",
						      &(struct vagent_mock_http_route_stats){ 0 }),
			 VAGENT_ENOENT);
	vagent_mock_http_free(m);
}
END_TEST

START_TEST(test_templates)
{
	struct vagent_mock_http *m = start(
		"{\"routes\":["
		" {\"method\":\"POST\",\"path\":\"/echo/{id}/x\","
		"  \"headers\":{\"X-Id\":\"id-{id}\"},"
		"  \"body\":{\"id\":\"{id}\",\"amount\":\"{body.amount}\",\"nested\":\"{body.a.b}\","
		"           \"first\":\"{body.list.0}\",\"q\":\"{query.q}\",\"h\":\"{header.x-who}\","
		"           \"text\":\"{{literal}} {id}/{body.amount}\",\"absent\":\"{body.nope}\","
		"           \"all\":\"{body}\",\"n\":[1,true,null]}},"
		" {\"path\":\"/only\",\"query\":{\"kind\":\"a\"},\"name\":\"kind a\",\"body\":{\"k\":\"a\"}},"
		" {\"path\":\"/only\",\"query\":{\"kind\":\"*\"},\"name\":\"any kind\",\"body\":{\"k\":\"{query.kind}\"}},"
		" {\"path\":\"/text\",\"text\":\"hello {query.name}\"},"
		" {\"method\":\"*\",\"path\":\"/\",\"status\":204}"
		"]}");
	int port = vagent_mock_http_port(m);
	struct resp r = post(port, "/echo/a%20b/x?q=hello+world&z", "X-Who: Ann\r\n",
			     "{\"amount\": 12.5, \"a\": {\"b\": \"deep\"}, \"list\": [\"x\", \"y\"]}");
	cJSON *j = json_of(&r), *all;

	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(resp_header(&r, "X-Id"), "id-a b");
	ck_assert_str_eq(jstr(j, "id"), "a b");
	ck_assert(jnum(j, "amount") == 12.5); /* a whole placeholder keeps its type */
	ck_assert_str_eq(jstr(j, "nested"), "deep");
	ck_assert_str_eq(jstr(j, "first"), "x");
	ck_assert_str_eq(jstr(j, "q"), "hello world");
	ck_assert_str_eq(jstr(j, "h"), "Ann");
	ck_assert_str_eq(jstr(j, "text"), "{literal} a b/12.5");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "absent")));
	all = cJSON_GetObjectItem(j, "all");
	ck_assert_str_eq(jstr(cJSON_GetObjectItem(all, "a"), "b"), "deep");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "n")), 3);
	cJSON_Delete(j);
	resp_free(&r);

	r = get(port, "/only?kind=a");
	j = json_of(&r);
	ck_assert_str_eq(jstr(j, "k"), "a");
	cJSON_Delete(j);
	resp_free(&r);
	r = get(port, "/only?x=1&kind=b");
	j = json_of(&r);
	ck_assert_str_eq(jstr(j, "k"), "b");
	cJSON_Delete(j);
	resp_free(&r);
	r = get(port, "/only");
	ck_assert_int_eq(r.status, 404);
	resp_free(&r);

	r = get(port, "/text?name=Bo");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "hello Bo");
	ck_assert_ptr_nonnull(strstr(resp_header(&r, "Content-Type"), "text/plain"));
	resp_free(&r);

	/* a parameter matches a non-empty segment only */
	r = post(port, "/echo//x", NULL, "{}");
	ck_assert_int_eq(r.status, 404);
	resp_free(&r);

	r = request(port, "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(r.status, 204);
	ck_assert_uint_eq(r.body_len, 0);
	resp_free(&r);
	vagent_mock_http_free(m);
}
END_TEST

START_TEST(test_response_sequence)
{
	struct vagent_mock_http *m = start(
		"{\"routes\":[{\"path\":\"/flaky\",\"responses\":["
		" {\"status\":500},{\"status\":503,\"body\":{\"try\":2}},{\"body\":{\"ok\":true}}]}]}");
	int port = vagent_mock_http_port(m);
	int want[] = { 500, 503, 200, 200 };

	for (int i = 0; i < 4; i++) {
		struct resp r = get(port, "/flaky");
		cJSON *j = json_of(&r);

		ck_assert_int_eq(r.status, want[i]);
		if (i == 0)
			ck_assert_str_eq(jstr(j, "error"), "Internal Server Error");
		if (i >= 2)
			ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
		cJSON_Delete(j);
		resp_free(&r);
	}
	ck_assert_uint_eq(stats_of(m, "GET /flaky").received, 4);
	/* a reset starts the sequence again */
	vagent_mock_http_reset(m);
	{
		struct resp r = get(port, "/flaky");
		ck_assert_int_eq(r.status, 500);
		resp_free(&r);
	}
	ck_assert_uint_eq(stats_of(m, "GET /flaky").received, 1);
	vagent_mock_http_free(m);
}
END_TEST

START_TEST(test_when_conditions)
{
	struct vagent_mock_http *m = start(
		"{\"routes\":["
		" {\"name\":\"big\",\"method\":\"POST\",\"path\":\"/pay\",\"when\":{\"body.currency\":[\"EUR\",\"GBP\"],"
		"  \"body.vip\":true},\"body\":{\"route\":\"vip-europe\"}},"
		" {\"name\":\"n\",\"method\":\"POST\",\"path\":\"/pay\",\"when\":{\"body.n\":\"7\",\"header.X-Mode\":\"test\"},"
		"  \"body\":{\"route\":\"seven\"}},"
		" {\"name\":\"other\",\"method\":\"POST\",\"path\":\"/pay\",\"body\":{\"route\":\"other\"}},"
		" {\"name\":\"only-if\",\"path\":\"/gate\",\"when\":{\"query.open\":\"yes\"}}"
		"]}");
	int port = vagent_mock_http_port(m);
	struct resp r = post(port, "/pay", NULL, "{\"currency\":\"GBP\",\"vip\":true}");

	ck_assert_str_eq(r.body, "{\"route\":\"vip-europe\"}");
	resp_free(&r);
	r = post(port, "/pay", NULL, "{\"currency\":\"USD\",\"vip\":true}");
	ck_assert_str_eq(r.body, "{\"route\":\"other\"}");
	resp_free(&r);
	r = post(port, "/pay", "X-Mode: test\r\n", "{\"n\":7}"); /* "7" matches the number 7 */
	ck_assert_str_eq(r.body, "{\"route\":\"seven\"}");
	resp_free(&r);
	r = post(port, "/pay", NULL, "{\"n\":7}");
	ck_assert_str_eq(r.body, "{\"route\":\"other\"}");
	resp_free(&r);
	r = get(port, "/gate?open=yes");
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	r = get(port, "/gate?open=no"); /* no route whose conditions hold */
	ck_assert_int_eq(r.status, 404);
	ck_assert_ptr_nonnull(strstr(r.body, "no_route"));
	resp_free(&r);
	ck_assert_uint_eq(stats_of(m, "other").received, 2);
	ck_assert_uint_eq(stats_of(m, "big").received, 1);
	vagent_mock_http_free(m);
}
END_TEST

/* ---- faults ------------------------------------------------------------ */

static const char *fault_routes =
	"{\"routes\":["
	" {\"path\":\"/slow\",\"delay_ms\":1000,\"body\":{\"slow\":true}},"
	" {\"path\":\"/fast\",\"body\":{\"fast\":true}},"
	" {\"path\":\"/hang\",\"hang\":true},"
	" {\"path\":\"/close\",\"close\":true},"
	" {\"path\":\"/slowclose\",\"close\":true,\"delay_ms\":50},"
	" {\"path\":\"/bad\",\"malformed\":true},"
	" {\"path\":\"/badtext\",\"malformed\":\"{\\\"total\\\": 12,\"},"
	" {\"path\":\"/limited\",\"status\":429,\"headers\":{\"Retry-After\":\"2\"}}"
	"]}";

START_TEST(test_delay_orders_answers)
{
	struct vagent_mock_http *m = start(fault_routes);
	int port = vagent_mock_http_port(m);
	struct client *slow = malloc(sizeof(*slow)), *fast = malloc(sizeof(*fast));
	struct resp rs, rf;
	struct pollfd p;
	int64_t t0 = mono_ms();

	client_open(slow, port);
	client_open(fast, port);
	send_str(slow->fd, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
	send_str(fast->fd, "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
	read_resp(fast, &rf, 10000);
	ck_assert_int_eq(rf.status, 200);
	/* the delayed answer is not there yet when the fast one is */
	p = (struct pollfd){ .fd = slow->fd, .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, 0), 0);
	read_resp(slow, &rs, 10000);
	ck_assert_int_eq(rs.status, 200);
	ck_assert_ptr_nonnull(strstr(rs.body, "\"slow\":true"));
	ck_assert_int_ge(mono_ms() - t0, 500); /* a generous lower bound only */
	resp_free(&rs);
	resp_free(&rf);
	close(slow->fd);
	close(fast->fd);
	free(slow);
	free(fast);
	vagent_mock_http_free(m);
}
END_TEST

START_TEST(test_hang_and_prompt_free)
{
	struct vagent_mock_http *m = start(fault_routes);
	int port = vagent_mock_http_port(m);
	struct client *c = malloc(sizeof(*c)), *c2 = malloc(sizeof(*c2));
	struct resp r;

	client_open(c, port);
	send_str(c->fd, "GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
	read_resp(c, &r, 200);
	ck_assert(r.timed_out);
	/* the server still serves others, and reads (and ignores) more from the
	 * hung connection */
	send_str(c->fd, "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
	r = get(port, "/fast");
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	read_resp(c, &r, 100);
	ck_assert(r.timed_out);
	/* a second hung connection with a half-sent request */
	client_open(c2, port);
	send_str(c2->fd, "GET /fa");

	vagent_mock_http_free(m); /* returns with both connections open */
	read_resp(c, &r, 5000);
	ck_assert(r.eof);
	read_resp(c2, &r, 5000);
	ck_assert(r.eof);
	close(c->fd);
	close(c2->fd);
	free(c);
	free(c2);
}
END_TEST

START_TEST(test_close_malformed_429)
{
	struct vagent_mock_http *m = start(fault_routes);
	int port = vagent_mock_http_port(m);
	struct resp r = get(port, "/close");
	int64_t t0;

	ck_assert(r.eof);
	ck_assert_int_eq(r.status, 0);
	t0 = mono_ms();
	r = get(port, "/slowclose");
	ck_assert(r.eof);
	ck_assert_int_ge(mono_ms() - t0, 25);

	r = get(port, "/bad");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(resp_header(&r, "Content-Type"), "application/json");
	ck_assert_ptr_null(cJSON_Parse(r.body));
	resp_free(&r);
	r = get(port, "/badtext");
	ck_assert_str_eq(r.body, "{\"total\": 12,");
	resp_free(&r);

	r = get(port, "/limited");
	ck_assert_int_eq(r.status, 429);
	ck_assert_str_eq(resp_header(&r, "Retry-After"), "2");
	ck_assert_ptr_nonnull(strstr(r.body, "Too Many Requests"));
	resp_free(&r);
	ck_assert_uint_eq(stats_of(m, "GET /close").received, 1);
	vagent_mock_http_free(m);
}
END_TEST

/* ---- idempotent actions -------------------------------------------------- */

START_TEST(test_idempotency_key)
{
	struct vagent_mock_http *m = start_orders();
	int port = vagent_mock_http_port(m);
	const char *body = "{\"amount\": 45.00, \"reason\": \"arrived broken\"}";
	struct resp a = post(port, "/orders/55012/refund", "Idempotency-Key: call-1-refund\r\n", body);
	struct resp b = post(port, "/orders/55012/refund", "Idempotency-Key: call-1-refund\r\n", body);
	struct resp d;
	struct vagent_mock_http_route_stats s;
	cJSON *j;

	ck_assert_int_eq(a.status, 200);
	ck_assert_int_eq(b.status, 200);
	ck_assert_str_eq(a.body, b.body);
	ck_assert_ptr_null(resp_header(&a, "Idempotent-Replayed"));
	ck_assert_str_eq(resp_header(&b, "Idempotent-Replayed"), "true");
	j = json_of(&a);
	ck_assert_str_eq(jstr(j, "status"), "refunded");
	ck_assert_str_eq(jstr(j, "refund_id"), "RF-55012");
	ck_assert(jnum(j, "amount") == 45.0);
	cJSON_Delete(j);
	s = stats_of(m, "refund_order");
	ck_assert_uint_eq(s.received, 2);
	ck_assert_uint_eq(s.performed, 1);
	ck_assert_uint_eq(s.replayed, 1);

	/* the same key with another request is refused, not performed */
	d = post(port, "/orders/55012/refund", "Idempotency-Key: call-1-refund\r\n", "{\"amount\": 1}");
	ck_assert_int_eq(d.status, 422);
	j = json_of(&d);
	ck_assert_str_eq(jstr(j, "error"), "idempotency_key_reused");
	cJSON_Delete(j);
	resp_free(&d);

	/* the action updated the table */
	d = get(port, "/orders/55012");
	j = json_of(&d);
	ck_assert_str_eq(jstr(j, "refund_status"), "refunded");
	ck_assert(jnum(j, "refunded_amount") == 45.0);
	cJSON_Delete(j);
	resp_free(&d);

	/* so a new refund of it is refused ("when"), while the first key
	 * still replays its answer */
	d = post(port, "/orders/55012/refund", "Idempotency-Key: call-3-refund\r\n", body);
	ck_assert_int_eq(d.status, 409);
	j = json_of(&d);
	ck_assert_str_eq(jstr(j, "error"), "already_refunded");
	ck_assert(jnum(j, "refunded_amount") == 45.0);
	cJSON_Delete(j);
	resp_free(&d);
	d = post(port, "/orders/55012/refund", "Idempotency-Key: call-1-refund\r\n", body);
	ck_assert_int_eq(d.status, 200);
	ck_assert_str_eq(d.body, a.body);
	resp_free(&d);

	/* another order without a key is another action; a missing order is
	 * not performed */
	d = post(port, "/orders/12345/refund", NULL, "{\"amount\": 10}");
	ck_assert_int_eq(d.status, 200);
	resp_free(&d);
	d = post(port, "/orders/99999/refund", "Idempotency-Key: k9\r\n", body);
	ck_assert_int_eq(d.status, 404);
	resp_free(&d);
	s = stats_of(m, "refund_order");
	ck_assert_uint_eq(s.received, 5);
	ck_assert_uint_eq(s.performed, 2);
	ck_assert_uint_eq(s.replayed, 2);
	/* the 422 counts on the path's first route, as does the 409 */
	ck_assert_uint_eq(stats_of(m, "refund_already_refunded").received, 2);
	ck_assert_uint_eq(stats_of(m, "refund_already_refunded").performed, 0);

	/* reschedule: a delivered order is refused, a shipped one moves */
	d = post(port, "/orders/55012/reschedule", NULL, "{\"date\": \"2026-12-24\"}");
	ck_assert_int_eq(d.status, 409);
	ck_assert_ptr_nonnull(strstr(d.body, "already_delivered"));
	resp_free(&d);
	d = post(port, "/orders/12345/reschedule", NULL, "{\"date\": \"2026-12-24\"}");
	ck_assert_int_eq(d.status, 200);
	resp_free(&d);
	ck_assert_uint_eq(stats_of(m, "reschedule_delivery").performed, 1);

	/* a reset forgets the keys and restores the table */
	vagent_mock_http_reset(m);
	d = get(port, "/orders/55012");
	j = json_of(&d);
	ck_assert_str_eq(jstr(j, "refund_status"), "none");
	cJSON_Delete(j);
	resp_free(&d);
	d = post(port, "/orders/55012/refund", "Idempotency-Key: call-1-refund\r\n", body);
	ck_assert_int_eq(d.status, 200);
	ck_assert_ptr_null(resp_header(&d, "Idempotent-Replayed"));
	ck_assert_uint_eq(stats_of(m, "refund_order").performed, 1);
	resp_free(&d);
	resp_free(&a);
	resp_free(&b);
	vagent_mock_http_free(m);
}
END_TEST

/* The case: 500 then success, retried once with the same key,
 * performed once; and a slow success the client gave up on, retried:
 * performed once, the retry gets the stored answer. */
START_TEST(test_retry_performs_once)
{
	struct vagent_mock_http *m = start(
		"{\"routes\":["
		" {\"name\":\"pay\",\"method\":\"POST\",\"path\":\"/pay\",\"performs\":true,\"responses\":["
		"  {\"status\":500},{\"status\":201,\"body\":{\"paid\":\"{body.amount}\"}}]},"
		" {\"name\":\"slowpay\",\"method\":\"POST\",\"path\":\"/slowpay\",\"performs\":true,\"responses\":["
		"  {\"delay_ms\":5000,\"body\":{\"ok\":1}},{\"body\":{\"ok\":2}}]}"
		"]}");
	int port = vagent_mock_http_port(m);
	struct resp r1 = post(port, "/pay", "Idempotency-Key: k\r\n", "{\"amount\":5}");
	struct resp r2 = post(port, "/pay", "Idempotency-Key: k\r\n", "{\"amount\":5}");
	struct vagent_mock_http_route_stats s;
	struct client *c = malloc(sizeof(*c));
	const char *req = "POST /slowpay HTTP/1.1\r\nHost: x\r\nIdempotency-Key: s\r\nContent-Length: 2\r\n\r\n{}";
	struct resp r3;

	ck_assert_int_eq(r1.status, 500);
	ck_assert_int_eq(r2.status, 201);
	ck_assert_str_eq(r2.body, "{\"paid\":5}");
	s = stats_of(m, "pay");
	ck_assert_uint_eq(s.received, 2);
	ck_assert_uint_eq(s.performed, 1);
	/* another key, or none, is another action each time */
	resp_free(&r1);
	r1 = post(port, "/pay", "Idempotency-Key: other\r\n", "{\"amount\":5}");
	ck_assert_int_eq(r1.status, 201);
	resp_free(&r1);
	r1 = post(port, "/pay", NULL, "{\"amount\":5}");
	resp_free(&r1);
	r1 = post(port, "/pay", NULL, "{\"amount\":5}");
	ck_assert_int_eq(r1.status, 201);
	ck_assert_ptr_null(resp_header(&r1, "Idempotent-Replayed"));
	s = stats_of(m, "pay");
	ck_assert_uint_eq(s.received, 5);
	ck_assert_uint_eq(s.performed, 4);
	ck_assert_uint_eq(s.replayed, 0);

	client_open(c, port);
	send_all(c->fd, req, strlen(req));
	read_resp(c, &r3, 50);
	ck_assert(r3.timed_out); /* the client's timeout */
	close(c->fd);
	r3 = request(port, req);
	ck_assert_int_eq(r3.status, 200);
	ck_assert_str_eq(r3.body, "{\"ok\":1}");
	ck_assert_str_eq(resp_header(&r3, "Idempotent-Replayed"), "true");
	s = stats_of(m, "slowpay");
	ck_assert_uint_eq(s.performed, 1);
	ck_assert_uint_eq(s.replayed, 1);
	resp_free(&r1);
	resp_free(&r2);
	resp_free(&r3);
	free(c);
	vagent_mock_http_free(m);
}
END_TEST

START_TEST(test_stats_endpoint)
{
	struct vagent_mock_http *m = start_orders();
	int port = vagent_mock_http_port(m);
	struct resp r = post(port, "/orders/40721/reschedule", "Idempotency-Key: r1\r\n",
			     "{\"date\": \"2026-12-20\"}");
	cJSON *j, *routes, *e;
	char *api;
	bool seen = false;

	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	r = get(port, "/orders/40721");
	j = json_of(&r);
	ck_assert_str_eq(jstr(j, "delivery_date"), "2026-12-20");
	cJSON_Delete(j);
	resp_free(&r);
	r = get(port, "/missing");
	resp_free(&r);

	r = get(port, "/_mock/stats");
	ck_assert_int_eq(r.status, 200);
	j = json_of(&r);
	ck_assert(jnum(j, "requests") == 3);
	ck_assert(jnum(j, "unmatched") == 1);
	routes = cJSON_GetObjectItem(j, "routes");
	cJSON_ArrayForEach(e, routes)
		if (!strcmp(jstr(e, "name"), "reschedule_delivery")) {
			seen = true;
			ck_assert_str_eq(jstr(e, "method"), "POST");
			ck_assert_str_eq(jstr(e, "path"), "/orders/{order_number}/reschedule");
			ck_assert(jnum(e, "received") == 1);
			ck_assert(jnum(e, "performed") == 1);
		}
	ck_assert(seen);
	/* the API gives the same document */
	api = vagent_mock_http_stats_json(m);
	ck_assert_str_eq(api, r.body);
	free(api);
	cJSON_Delete(j);
	resp_free(&r);

	r = request(port, "POST /_mock/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	ck_assert_uint_eq(stats_of(m, "reschedule_delivery").received, 0);
	vagent_mock_http_free(m);
}
END_TEST

/* ---- HTTP/1.1 framing ------------------------------------------------------ */

START_TEST(test_keep_alive_pipelining_chunked)
{
	struct vagent_mock_http *m = start(
		"{\"routes\":[{\"method\":\"POST\",\"path\":\"/echo\",\"body\":{\"got\":\"{body}\"}},"
		"{\"path\":\"/x\",\"body\":{\"x\":1}}]}");
	int port = vagent_mock_http_port(m);
	struct client *c = malloc(sizeof(*c));
	struct resp r;
	const char *two =
		"GET /x HTTP/1.1\r\nHost: x\r\n\r\n"
		"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
		"5\r\n{\"a\":\r\n3;ext=1\r\n 42\r\n1\r\n}\r\n0\r\nX-Trailer: t\r\n\r\n";

	client_open(c, port);
	/* two pipelined requests, the second chunked, on one connection */
	send_all(c->fd, two, strlen(two));
	read_resp(c, &r, 5000);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"x\":1}");
	ck_assert_ptr_null(resp_header(&r, "Connection"));
	resp_free(&r);
	read_resp(c, &r, 5000);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"got\":{\"a\":42}}");
	resp_free(&r);
	/* a request sent byte by byte on the same connection */
	{
		const char *slow = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"b\":1}";
		for (const char *p = slow; *p; p++)
			send_all(c->fd, p, 1);
	}
	read_resp(c, &r, 5000);
	ck_assert_str_eq(r.body, "{\"got\":{\"b\":1}}");
	resp_free(&r);
	/* Expect: 100-continue gets its interim answer before the body */
	send_str(c->fd, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 7\r\n\r\n");
	ck_assert_int_gt(client_fill(c, 5000), 0);
	ck_assert(!strncmp(c->buf, "HTTP/1.1 100 Continue\r\n\r\n", 25));
	send_str(c->fd, "{\"c\":1}");
	read_resp(c, &r, 5000);
	ck_assert_str_eq(r.body, "{\"got\":{\"c\":1}}");
	resp_free(&r);
	/* HEAD matches GET routes: the answer's headers, Content-Length
	 * included, without the body; the next answer follows at once */
	send_str(c->fd, "HEAD /x HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n");
	while (c->len < 7 || memcmp(c->buf + c->len - 7, "{\"x\":1}", 7))
		ck_assert_int_gt(client_fill(c, 5000), 0);
	c->buf[c->len] = '\0';
	{
		const char *second = strstr(c->buf + 1, "HTTP/1.1 200 OK\r\n");

		ck_assert_ptr_nonnull(second);
		ck_assert(!strncmp(c->buf, "HTTP/1.1 200 OK\r\n", 17));
		ck_assert_ptr_nonnull(find_str(c->buf, (size_t)(second - c->buf), "Content-Length: 7\r\n\r\n"));
		ck_assert_ptr_null(find_str(c->buf, (size_t)(second - c->buf), "{\"x\":1}"));
	}
	c->len = 0;

	/* Connection: close is honoured */
	send_str(c->fd, "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	read_resp(c, &r, 5000);
	ck_assert_str_eq(resp_header(&r, "Connection"), "close");
	resp_free(&r);
	read_resp(c, &r, 5000);
	ck_assert(r.eof);
	close(c->fd);

	/* HTTP/1.0 closes by default */
	client_open(c, port);
	send_str(c->fd, "GET /x HTTP/1.0\r\n\r\n");
	read_resp(c, &r, 5000);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	read_resp(c, &r, 5000);
	ck_assert(r.eof);
	close(c->fd);
	free(c);
	vagent_mock_http_free(m);
}
END_TEST

START_TEST(test_bad_requests_and_limits)
{
	struct vagent_mock_http_config cfg;
	struct vagent_mock_http *m = NULL;
	struct vagent_error err;
	struct resp r;
	char *big, raw[256];
	struct client *c = malloc(sizeof(*c));

	vagent_mock_http_config_default(&cfg);
	cfg.max_request_bytes = 1000;
	ck_assert_int_eq(vagent_mock_http_new("{\"routes\":[{\"method\":\"POST\",\"path\":\"/p\"}]}",
					      "t.json", &cfg, &m, &err), VAGENT_OK);
	r = request(vagent_mock_http_port(m), "NONSENSE\r\n\r\n");
	ck_assert_int_eq(r.status, 400);
	resp_free(&r);
	r = request(vagent_mock_http_port(m), "GET /p HTTP/2.0\r\n\r\n");
	ck_assert_int_eq(r.status, 400);
	resp_free(&r);
	r = request(vagent_mock_http_port(m),
		    "POST /p HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
	ck_assert_int_eq(r.status, 400);
	resp_free(&r);
	r = request(vagent_mock_http_port(m), "POST /p HTTP/1.1\r\nContent-Length: 1001\r\n\r\n");
	ck_assert_int_eq(r.status, 413);
	ck_assert_str_eq(resp_header(&r, "Connection"), "close");
	resp_free(&r);
	r = request(vagent_mock_http_port(m), "POST /p HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n");
	ck_assert_int_eq(r.status, 501);
	resp_free(&r);

	/* a chunked body over the limit */
	client_open(c, vagent_mock_http_port(m));
	send_str(c->fd, "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
	big = malloc(1200);
	memset(big, 'a', 1200);
	snprintf(raw, sizeof(raw), "%x\r\n", 1200);
	send_all(c->fd, raw, strlen(raw));
	send_all(c->fd, big, 1200);
	read_resp(c, &r, 5000);
	ck_assert_int_eq(r.status, 413);
	resp_free(&r);
	close(c->fd);

	/* headers without an end */
	client_open(c, vagent_mock_http_port(m));
	send_str(c->fd, "GET /p HTTP/1.1\r\n");
	for (int i = 0; i < 400; i++)
		send_str(c->fd, "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
	read_resp(c, &r, 5000);
	ck_assert_int_eq(r.status, 431);
	resp_free(&r);
	close(c->fd);
	free(big);
	free(c);
	vagent_mock_http_free(m);
}
END_TEST

struct worker {
	int port, ok, id;
};

static void *hammer(void *arg)
{
	struct worker *w = arg;
	struct client *c = malloc(sizeof(*c));
	char raw[256];

	client_open(c, w->port);
	for (int i = 0; i < 25; i++) {
		struct resp r;

		snprintf(raw, sizeof(raw), "GET /orders/%s HTTP/1.1\r\nHost: x\r\n\r\n",
			 i % 5 == 4 ? "99999" : w->id % 2 ? "12345" : "40721");
		send_all(c->fd, raw, strlen(raw));
		read_resp(c, &r, 10000);
		if (r.status == (i % 5 == 4 ? 404 : 200) &&
		    strstr(r.body, i % 5 == 4 ? "99999" : w->id % 2 ? "12345" : "40721"))
			w->ok++;
		resp_free(&r);
	}
	close(c->fd);
	free(c);
	return NULL;
}

START_TEST(test_concurrent_clients)
{
	struct vagent_mock_http *m = start_orders();
	pthread_t th[8];
	struct worker w[8];
	int ok = 0;

	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){ .port = vagent_mock_http_port(m), .id = i };
		ck_assert_int_eq(pthread_create(&th[i], NULL, hammer, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		ok += w[i].ok;
	}
	ck_assert_int_eq(ok, 8 * 25);
	ck_assert_uint_eq(stats_of(m, "get_order").received, 8 * 25);
	vagent_mock_http_free(m);
}
END_TEST

/* ---- bad routes files and binding ----------------------------------------- */

static const struct {
	const char *json, *message;
	vagent_status st;
} bad_files[] = {
	{ "{\"routes\": [", "t.json: invalid JSON at line 1, column 13", VAGENT_EFORMAT },
	{ "[]", "t.json: must be a JSON object with \"routes\" (docs/mock-http.md)", VAGENT_EINVAL },
	{ "{}", "t.json: routes: missing", VAGENT_EINVAL },
	{ "{\"routes\":[],\"x\":1}", "t.json: x: unknown field (expected \"routes\" and \"tables\")", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/a\"},{\"path\":\"/b\"},{\"path\":\"/c\",\"status\":99}]}",
	  "t.json: routes[2].status: must be an integer 100..599", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/c\",\"status\":\"200\"}]}",
	  "t.json: routes[0].status: must be an integer 100..599", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"c\"}]}", "t.json: routes[0].path: must start with '/'", VAGENT_EINVAL },
	{ "{\"routes\":[{\"method\":\"GET\"}]}",
	  "t.json: routes[0].path: missing (e.g. \"/orders/{order_number}\")", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/a\",\"stauts\":200}]}", "t.json: routes[0].stauts: unknown field", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/a\",\"method\":\"get\"}]}",
	  "t.json: routes[0].method: must be an upper-case method name or \"*\"", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/a/{id}\",\"body\":{\"x\":[1,{\"y\":\"{idd}\"}]}}]}",
	  "t.json: routes[0].body.x[1].y: unknown placeholder '{idd}': not a parameter of path '/a/{id}' "
	  "(nor query.X, header.X, body.X or row.X)", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/a\",\"text\":\"{oops\"}]}",
	  "t.json: routes[0].text: unterminated placeholder '{oops' (write '{{' for a literal brace)", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/a\",\"body\":\"{row.x}\"}]}",
	  "t.json: routes[0].body: placeholder '{row.x}' needs a table row here", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/a/{n}\",\"table\":\"orders\"}]}",
	  "t.json: routes[0].table: no table 'orders' in \"tables\"", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/a\",\"responses\":[{\"status\":200},{\"delay_ms\":-1}]}]}",
	  "t.json: routes[0].responses[1].delay_ms: must be an integer 0..3600000", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/a\",\"responses\":[]}]}",
	  "t.json: routes[0].responses: must be a non-empty array of responses", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/a\",\"status\":500,\"responses\":[{}]}]}",
	  "t.json: routes[0].status: not allowed next to \"responses\" (put it in each response)", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/a\",\"hang\":true,\"close\":true}]}",
	  "t.json: routes[0].close: cannot be combined with hang", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/a\",\"headers\":{\"Content-Length\":\"3\"}}]}",
	  "t.json: routes[0].headers.Content-Length: is set by the server", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/a\"},{\"path\":\"/a\"}]}",
	  "t.json: routes[1]: route name 'GET /a' is already used by routes[0]; give one of them a \"name\"", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/a/{x}/{x}\"}]}",
	  "t.json: routes[0].path: parameter '{x}' appears twice", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/_mock/stats\"}]}",
	  "t.json: routes[0].path: paths under /_mock/ are the server's own", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/a\",\"update\":{\"x\":1}}]}",
	  "t.json: routes[0].update: needs a \"table\" and \"performs\": true", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/a\",\"when\":{\"row.x\":1}}]}",
	  "t.json: routes[0].when.row.x: placeholder '{row.x}' needs a table row here", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/a\",\"when\":{\"body.x\":{\"gt\":1}}}]}",
	  "t.json: routes[0].when.body.x: must be a value or an array of values (any of them)", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/a\",\"when\":{\"{id}\":1}}]}",
	  "t.json: routes[0].when.{id}: write the placeholder without braces (\"row.status\")", VAGENT_EINVAL },
	{ "{\"routes\":[{\"path\":\"/a\"}],\"tables\":{\"t\":{\"1\":5}}}",
	  "t.json: tables.t.1: a row must be an object", VAGENT_EINVAL },
};

START_TEST(test_bad_routes_files)
{
	struct vagent_mock_http *m = (struct vagent_mock_http *)1;
	struct vagent_error err;
	vagent_status st = vagent_mock_http_new(bad_files[_i].json, "t.json", NULL, &m, &err);

	ck_assert_msg(st == bad_files[_i].st, "status %s for %s", vagent_status_name(st),
		      bad_files[_i].json);
	ck_assert_ptr_null(m);
	ck_assert_str_eq(err.message, bad_files[_i].message);
	ck_assert_int_eq(vagent_mock_http_check(bad_files[_i].json, "t.json", &err), bad_files[_i].st);
	ck_assert_int_eq(vagent_status_exit_code(st), 2);
}
END_TEST

START_TEST(test_port_in_use)
{
	struct vagent_mock_http *a = start("{\"routes\":[{\"path\":\"/\"}]}"), *b = NULL;
	struct vagent_mock_http_config cfg;
	struct vagent_error err;
	char want[64];

	vagent_mock_http_config_default(&cfg);
	cfg.port = vagent_mock_http_port(a);
	ck_assert_int_eq(vagent_mock_http_new("{\"routes\":[{\"path\":\"/\"}]}", "t.json", &cfg, &b, &err),
			 VAGENT_EIO);
	ck_assert_ptr_null(b);
	snprintf(want, sizeof(want), "127.0.0.1:%d: cannot listen: Address already in use", cfg.port);
	ck_assert_str_eq(err.message, want);
	ck_assert_int_eq(vagent_status_exit_code(err.status), 3);

	cfg.port = 0;
	cfg.host = "no-such-host.invalid";
	ck_assert_int_eq(vagent_mock_http_new("{\"routes\":[{\"path\":\"/\"}]}", "t.json", &cfg, &b, &err),
			 VAGENT_EIO);
	ck_assert_ptr_nonnull(strstr(err.message, "no-such-host.invalid:0: cannot resolve host"));
	vagent_mock_http_free(a);

	ck_assert_int_eq(vagent_mock_http_load(top_path("fixtures/no-such-routes.json"), NULL, &b, &err),
			 VAGENT_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.message, "no-such-routes.json: no such file"));
	vagent_mock_http_free(NULL);
}
END_TEST

/* ---- the command ------------------------------------------------------------ */

START_TEST(test_cli_serves_until_sigterm)
{
	const char *ready = temp_path("port");
	char ready_copy[4096], line[256] = "", *file;
	int out[2], err_pipe[2], status, port = 0;
	pid_t pid;
	FILE *f;
	struct resp r;

	snprintf(ready_copy, sizeof(ready_copy), "%s", ready);
	ck_assert_int_eq(pipe(out), 0);
	ck_assert_int_eq(pipe(err_pipe), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err_pipe[1], 2);
		close(out[0]);
		close(err_pipe[0]);
		execl(vagent_bin(), vagent_bin(), "mock-http", "-v", "--ready-file", ready_copy,
		      top_path("scenarios/services/orders.json"), (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	close(err_pipe[1]);
	/* the line comes once the server listens (and the file is written) */
	f = fdopen(out[0], "r");
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_msg(sscanf(line, "listening on http://127.0.0.1:%d", &port) == 1, "line: %s", line);
	file = read_file(ready_copy, NULL);
	ck_assert_ptr_nonnull(file);
	ck_assert_int_eq(atoi(file), port);
	free(file);

	r = get(port, "/orders/31337");
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"total\":1249"));
	resp_free(&r);

	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_ptr_null(read_file(ready_copy, NULL)); /* removed on exit */
	{
		char log[4096];
		ssize_t n = read(err_pipe[0], log, sizeof(log) - 1);

		ck_assert_int_gt(n, 0);
		log[n] = '\0';
		ck_assert_ptr_nonnull(strstr(log, "mock-http: GET /orders/31337 -> 200 [get_order]\n"));
	}
	fclose(f);
	close(err_pipe[0]);
}
END_TEST

START_TEST(test_cli_errors)
{
	const char *bad = temp_file("bad.json", "{\"routes\":[{\"path\":\"/a\",\"delay_ms\":\"x\"}]}");
	char bad_copy[4096], want[4200];
	struct run_result r;
	struct vagent_mock_http *m;

	snprintf(bad_copy, sizeof(bad_copy), "%s", bad);
	r = run_vagent("mock-http", bad_copy, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	snprintf(want, sizeof(want), "vagent: %s: routes[0].delay_ms: must be an integer 0..3600000\n", bad_copy);
	ck_assert_str_eq(r.err, want);
	ck_assert_str_eq(r.out, "");
	run_result_free(&r);

	r = run_vagent("mock-http", "--check", bad_copy, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_str_eq(r.err, want);
	run_result_free(&r);

	r = run_vagent("mock-http", "--check", top_path("scenarios/services/orders.json"), NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "orders.json: ok"));
	run_result_free(&r);

	r = run_vagent("mock-http", temp_path("missing.json"), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "missing.json: no such file"));
	run_result_free(&r);

	r = run_vagent("mock-http", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	run_result_free(&r);

	r = run_vagent("mock-http", "--help", NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "--ready-file"));
	ck_assert_ptr_nonnull(strstr(r.out, "Idempotency-Key"));
	run_result_free(&r);

	/* port in use: exit 3, naming host:port */
	m = start("{\"routes\":[{\"path\":\"/\"}]}");
	{
		char port[16];

		snprintf(port, sizeof(port), "%d", vagent_mock_http_port(m));
		r = run_vagent("mock-http", "--port", port, top_path("scenarios/services/orders.json"), NULL);
		ck_assert_int_eq(r.exit_code, 3);
		snprintf(want, sizeof(want), "vagent: 127.0.0.1:%s: cannot listen: Address already in use\n", port);
		ck_assert_str_eq(r.err, want);
		run_result_free(&r);
	}
	vagent_mock_http_free(m);
}
END_TEST

Suite *suite_mock_http(void)
{
	Suite *s = suite_create("mock_http");
	TCase *tc = tcase_create("server");
	TCase *cli = tcase_create("cli");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_order_lookup_and_404);
	tcase_add_test(tc, test_templates);
	tcase_add_test(tc, test_response_sequence);
	tcase_add_test(tc, test_when_conditions);
	tcase_add_test(tc, test_delay_orders_answers);
	tcase_add_test(tc, test_hang_and_prompt_free);
	tcase_add_test(tc, test_close_malformed_429);
	tcase_add_test(tc, test_idempotency_key);
	tcase_add_test(tc, test_retry_performs_once);
	tcase_add_test(tc, test_stats_endpoint);
	tcase_add_test(tc, test_keep_alive_pipelining_chunked);
	tcase_add_test(tc, test_bad_requests_and_limits);
	tcase_add_test(tc, test_concurrent_clients);
	tcase_add_loop_test(tc, test_bad_routes_files, 0, (int)(sizeof(bad_files) / sizeof(bad_files[0])));
	tcase_add_test(tc, test_port_in_use);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(cli, temp_dir_setup, temp_dir_teardown);
	tcase_set_timeout(cli, 30);
	tcase_add_test(cli, test_cli_serves_until_sigterm);
	tcase_add_test(cli, test_cli_errors);
	suite_add_tcase(s, cli);
	return s;
}
