/*
 * fake_openai.c — the loopback fake of OpenAI's streaming Chat Completions
 * endpoint (see fake_openai.h). Chunks follow
 * ../shared/protocols/openai-chat-sse.md §2: a role chunk, content deltas,
 * tool_calls fragments joined by index, the finish chunk, a usage chunk
 * when stream_options.include_usage, then "data: [DONE]".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "support/fake_openai.h"

#define MAX_LOG 64

struct fake_openai {
	struct fake_openai_config cfg;
	int listen_fd, stop_pipe[2], port;
	char url[64];
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int n_requests, closed_early;
	char *bodies[MAX_LOG], *auths[MAX_LOG];
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Wait `ms` (< 0: until the client closes or the server stops). false:
 * the client closed or the server is stopping. */
static bool wait_ms(struct fake_openai *f, int fd, int ms)
{
	long end = now_ms() + ms;

	for (;;) {
		struct pollfd p[2] = { { fd, POLLIN | POLLRDHUP, 0 },
				       { f->stop_pipe[0], POLLIN, 0 } };
		long left = ms < 0 ? -1 : end - now_ms();
		char c[256];

		if (ms >= 0 && left <= 0)
			return true;
		if (poll(p, 2, (int)left) < 0 && errno != EINTR)
			return false;
		if (p[1].revents)
			return false;
		if (p[0].revents) {
			ssize_t n = recv(fd, c, sizeof(c), MSG_DONTWAIT);

			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				return false;
		}
	}
}

static bool send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		s += w;
		n -= (size_t)w;
	}
	return true;
}

static void note_closed(struct fake_openai *f)
{
	pthread_mutex_lock(&f->mu);
	f->closed_early++;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* Read one request: headers and a Content-Length body. */
static char *header_value(const char *buf, const char *name)
{
	char pat[64];
	const char *a;

	snprintf(pat, sizeof(pat), "\r\n%s:", name);
	a = strcasestr(buf, pat);
	if (!a)
		return NULL;
	a += strlen(pat);
	while (*a == ' ')
		a++;
	return strndup(a, strcspn(a, "\r\n"));
}

static char *read_request(struct fake_openai *f, int fd, char **body, char **auth)
{
	size_t cap = 8192, len = 0, need = 0;
	char *buf = malloc(cap + 1), *hdr_end = NULL;

	*body = *auth = NULL;
	while (buf) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { f->stop_pipe[0], POLLIN, 0 } };
		ssize_t n;

		if (hdr_end && len >= need) {
			*body = strndup(hdr_end + 4, need - (size_t)(hdr_end + 4 - buf));
			*auth = header_value(buf, f->cfg.anthropic ? "x-api-key" : "Authorization");
			return buf;
		}
		if (len == cap) {
			char *nb = cap < (1u << 22) ? realloc(buf, cap * 2 + 1) : NULL;

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		if (poll(p, 2, 5000) <= 0 || p[1].revents)
			break;
		n = recv(fd, buf + len, cap - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (!hdr_end && (hdr_end = strstr(buf, "\r\n\r\n"))) {
			const char *cl = strcasestr(buf, "\r\nContent-Length:");
			size_t body_len = cl ? strtoul(cl + 17, NULL, 10) : 0;

			need = (size_t)(hdr_end + 4 - buf) + body_len;
		}
	}
	free(buf);
	return NULL;
}

/* The content of the last message, as text. */
static const char *last_content(const cJSON *req)
{
	const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(req, "messages");
	int n = cJSON_GetArraySize(msgs);
	const cJSON *c;

	if (n <= 0)
		return "";
	c = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(msgs, n - 1), "content");
	if (cJSON_IsString(c))
		return c->valuestring;
	if (cJSON_IsArray(c)) {
		/* Anthropic blocks: the last text or tool_result content */
		const cJSON *b, *t = NULL;

		cJSON_ArrayForEach(b, c) {
			const cJSON *x = cJSON_GetObjectItemCaseSensitive(b, "text");

			if (!cJSON_IsString(x))
				x = cJSON_GetObjectItemCaseSensitive(b, "content");
			if (cJSON_IsString(x))
				t = x;
		}
		if (t)
			return t->valuestring;
	}
	return "";
}

static bool send_event(int fd, const char *json)
{
	char *s;
	bool ok;

	if (asprintf(&s, "data: %s\n\n", json) < 0)
		return false;
	ok = send_all(fd, s, strlen(s));
	free(s);
	return ok;
}

static char *chunk_json(const char *id, const cJSON *delta, const char *finish,
			bool with_usage_null)
{
	cJSON *c = cJSON_CreateObject(), *ch = cJSON_CreateArray(), *one = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(c, "id", id);
	cJSON_AddStringToObject(c, "object", "chat.completion.chunk");
	cJSON_AddNumberToObject(c, "created", 1760000000);
	cJSON_AddStringToObject(c, "model", "fake-gpt");
	cJSON_AddStringToObject(c, "system_fingerprint", "fp_fake");
	cJSON_AddNumberToObject(one, "index", 0);
	cJSON_AddItemToObject(one, "delta", cJSON_Duplicate(delta, true));
	cJSON_AddNullToObject(one, "logprobs");
	if (finish)
		cJSON_AddStringToObject(one, "finish_reason", finish);
	else
		cJSON_AddNullToObject(one, "finish_reason");
	cJSON_AddItemToArray(ch, one);
	cJSON_AddItemToObject(c, "choices", ch);
	if (with_usage_null)
		cJSON_AddNullToObject(c, "usage");
	s = cJSON_PrintUnformatted(c);
	cJSON_Delete(c);
	return s;
}

static void answer_status(struct fake_openai *f, int fd, int code, const char *reason,
			  const char *extra, const char *type, const char *ecode)
{
	char body[400], head[600];

	if (f->cfg.anthropic) {
		/* Anthropic's error types by status (protocol notes §3.1) */
		ecode = code == 401 ? "authentication_error" : code == 429 ? "rate_limit_error" :
			code == 529 ? "overloaded_error" : code == 400 ? "invalid_request_error" :
			code == 404 ? "not_found_error" : "api_error";
		(void)type;
		snprintf(body, sizeof(body),
			 "{\"type\":\"error\",\"error\":{\"type\":\"%s\","
			 "\"message\":\"fake %d %s\"},\"request_id\":\"req_fake\"}",
			 ecode, code, reason);
	} else {
		snprintf(body, sizeof(body),
			 "{\"error\":{\"message\":\"fake %d %s\",\"type\":\"%s\","
			 "\"param\":null,\"code\":\"%s\"}}", code, reason, type, ecode);
	}
	snprintf(head, sizeof(head),
		 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\n%sx-request-id: req_fake\r\n"
		 "Connection: close\r\n\r\n", code, reason, strlen(body),
		 extra ? extra : "");
	if (send_all(fd, head, strlen(head)))
		send_all(fd, body, strlen(body));
}

/* Stream a reply; false when the client closed before the end. */
static bool stream_reply(struct fake_openai *f, int fd, struct fake_reply *r,
			 bool fault, bool include_usage, int seq)
{
	static const char head[] =
		"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
		"Cache-Control: no-cache\r\nx-request-id: req_fake\r\n"
		"Connection: close\r\n\r\n";
	char id[32];
	int sent = 0;
	cJSON *delta;
	char *s;
	bool ok = true;

	snprintf(id, sizeof(id), "chatcmpl-fake%d", seq);
	if (!send_all(fd, head, sizeof(head) - 1))
		return false;
#define CHUNK(d, fin)                                                         \
	do {                                                                  \
		if (fault && sent == r->fault_after) {                        \
			cJSON_Delete(d);                                      \
			goto do_fault;                                        \
		}                                                             \
		if (sent && f->cfg.pace_ms && !wait_ms(f, fd, f->cfg.pace_ms)) { \
			cJSON_Delete(d);                                      \
			return false;                                         \
		}                                                             \
		s = chunk_json(id, d, fin, include_usage);                    \
		cJSON_Delete(d);                                              \
		ok = s && send_event(fd, s);                                  \
		free(s);                                                      \
		if (!ok)                                                      \
			return false;                                         \
		sent++;                                                       \
	} while (0)

	delta = cJSON_CreateObject();
	cJSON_AddStringToObject(delta, "role", "assistant");
	if (r->text)
		cJSON_AddStringToObject(delta, "content", "");
	else
		cJSON_AddNullToObject(delta, "content");
	cJSON_AddNullToObject(delta, "refusal");
	CHUNK(delta, NULL);
	if (r->text) {
		const char *p = r->text;

		while (*p) {
			size_t n = strspn(p, " ");
			char piece[256];

			n += strcspn(p + n, " ");
			if (n > sizeof(piece) - 1)
				n = sizeof(piece) - 1;
			memcpy(piece, p, n);
			piece[n] = '\0';
			p += n;
			delta = cJSON_CreateObject();
			cJSON_AddStringToObject(delta, "content", piece);
			CHUNK(delta, NULL);
		}
	}
	if (r->tool_name) {
		const char *args = r->tool_args ? r->tool_args : "{}";
		size_t len = strlen(args), a = len / 3, b = 2 * len / 3;
		size_t cut[4] = { 0, a, b, len };
		cJSON *tcs, *tc, *fn;
		char piece[1024];

		for (int i = 0; i < 4; i++) {
			delta = cJSON_CreateObject();
			tcs = cJSON_AddArrayToObject(delta, "tool_calls");
			tc = cJSON_CreateObject();
			cJSON_AddNumberToObject(tc, "index", 0);
			fn = cJSON_CreateObject();
			if (i == 0) {
				char cid[32];

				snprintf(cid, sizeof(cid), "call_fake%d", seq);
				cJSON_AddStringToObject(tc, "id", cid);
				cJSON_AddStringToObject(tc, "type", "function");
				cJSON_AddStringToObject(fn, "name", r->tool_name);
				cJSON_AddStringToObject(fn, "arguments", "");
			} else {
				size_t n = cut[i] - cut[i - 1];

				if (n > sizeof(piece) - 1)
					n = sizeof(piece) - 1;
				memcpy(piece, args + cut[i - 1], n);
				piece[n] = '\0';
				cJSON_AddStringToObject(fn, "arguments", piece);
			}
			cJSON_AddItemToObject(tc, "function", fn);
			cJSON_AddItemToArray(tcs, tc);
			CHUNK(delta, NULL);
		}
	}
	delta = cJSON_CreateObject();
	CHUNK(delta, r->finish ? r->finish : r->tool_name ? "tool_calls" : "stop");
	if (include_usage) {
		if (f->cfg.pace_ms && !wait_ms(f, fd, f->cfg.pace_ms))
			return false;
		s = NULL;
		if (asprintf(&s, "{\"id\":\"%s\",\"object\":\"chat.completion.chunk\","
			     "\"created\":1760000000,\"model\":\"fake-gpt\",\"choices\":[],"
			     "\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,"
			     "\"total_tokens\":%d}}", id, 50 + seq, sent, 50 + seq + sent) < 0)
			return false;
		ok = send_event(fd, s);
		free(s);
		if (!ok)
			return false;
	}
	if (fault && sent == r->fault_after)
		goto do_fault;
	return send_event(fd, "[DONE]");
#undef CHUNK
do_fault:
	switch (r->fault) {
	case FAKE_STALL:
		return wait_ms(f, fd, r->fault_ms > 0 ? r->fault_ms : -1) &&
		       send_event(fd, "[DONE]");
	case FAKE_MALFORMED:
		send_event(fd, "{\"id\":\"chatcmpl-bad\",\"choices\":[{\"delta\":{\"content\":");
		return true;
	case FAKE_STREAM_ERROR:
		send_event(fd, "{\"error\":{\"message\":\"The server had an error while "
			   "processing your request.\",\"type\":\"server_error\","
			   "\"param\":null,\"code\":null}}");
		return true;
	default:                     /* FAKE_ABRUPT_CLOSE */
		return true;
	}
}

static bool send_named(int fd, const char *event, const char *json)
{
	char *s;
	bool ok;

	if (asprintf(&s, "event: %s\ndata: %s\n\n", event, json) < 0)
		return false;
	ok = send_all(fd, s, strlen(s));
	free(s);
	return ok;
}

/* Stream a reply in Anthropic's event sequence (protocol notes §2). */
static bool stream_anthropic(struct fake_openai *f, int fd, struct fake_reply *r,
			     bool fault, int seq)
{
	static const char head[] =
		"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
		"Cache-Control: no-cache\r\nrequest-id: req_fake\r\n"
		"Connection: close\r\n\r\n";
	int sent = 0, block = 0, out_tokens = 0;
	char ev[2048], one[1800];
	bool ok;

	if (!send_all(fd, head, sizeof(head) - 1))
		return false;
#define EVENT(name, ...)                                                      \
	do {                                                                  \
		if (fault && sent == r->fault_after)                          \
			goto do_fault;                                        \
		if (sent && f->cfg.pace_ms && !wait_ms(f, fd, f->cfg.pace_ms)) \
			return false;                                         \
		snprintf(ev, sizeof(ev), __VA_ARGS__);                        \
		if (!send_named(fd, name, ev))                                \
			return false;                                         \
		sent++;                                                       \
	} while (0)

	EVENT("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":"
	      "\"msg_fake%d\",\"type\":\"message\",\"role\":\"assistant\",\"model\":"
	      "\"fake-claude\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":"
	      "null,\"usage\":{\"input_tokens\":%d,\"output_tokens\":1}}}", seq, 40 + seq);
	ok = send_named(fd, "ping", "{\"type\": \"ping\"}");
	if (!ok)
		return false;
	if (r->text) {
		const char *p = r->text;

		EVENT("content_block_start", "{\"type\":\"content_block_start\",\"index\":%d,"
		      "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}", block);
		while (*p) {
			size_t n = strspn(p, " ");
			cJSON *t;
			char *js;
			char piece[256];

			n += strcspn(p + n, " ");

			snprintf(piece, sizeof(piece), "%.*s", (int)(n < 255 ? n : 255), p);
			t = cJSON_CreateString(piece);
			js = cJSON_PrintUnformatted(t);
			cJSON_Delete(t);
			p += n;
			snprintf(one, sizeof(one), "{\"type\":\"content_block_delta\",\"index\":%d,"
				 "\"delta\":{\"type\":\"text_delta\",\"text\":%s}}", block,
				 js ? js : "\"\"");
			free(js);
			EVENT("content_block_delta", "%s", one);
			out_tokens++;
		}
		EVENT("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":%d}", block);
		block++;
	}
	if (r->tool_name) {
		const char *args = r->tool_args ? r->tool_args : "{}";
		size_t len = strlen(args), cut[4] = { 0, 0, len / 2, len };

		EVENT("content_block_start", "{\"type\":\"content_block_start\",\"index\":%d,"
		      "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_fake%d\","
		      "\"name\":\"%s\",\"input\":{}}}", block, seq, r->tool_name);
		for (int i = 1; i < 4; i++) {
			char piece[1024];
			cJSON *t;
			char *js;

			snprintf(piece, sizeof(piece), "%.*s", (int)(cut[i] - cut[i - 1]),
				 args + cut[i - 1]);
			t = cJSON_CreateString(piece);
			js = cJSON_PrintUnformatted(t);
			cJSON_Delete(t);
			snprintf(one, sizeof(one), "{\"type\":\"content_block_delta\",\"index\":%d,"
				 "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":%s}}",
				 block, js ? js : "\"\"");
			free(js);
			EVENT("content_block_delta", "%s", one);
			out_tokens++;
		}
		EVENT("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":%d}", block);
		block++;
	}
	EVENT("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"%s\","
	      "\"stop_sequence\":null},\"usage\":{\"output_tokens\":%d}}",
	      r->finish ? r->finish : r->tool_name ? "tool_use" : "end_turn", out_tokens);
	EVENT("message_stop", "{\"type\":\"message_stop\"}");
	return true;
#undef EVENT
do_fault:
	switch (r->fault) {
	case FAKE_STALL:
		return wait_ms(f, fd, r->fault_ms > 0 ? r->fault_ms : -1) &&
		       send_named(fd, "message_stop", "{\"type\":\"message_stop\"}");
	case FAKE_MALFORMED:
		send_named(fd, "content_block_delta", "{\"type\":\"content_block_delta\",\"index\":");
		return true;
	case FAKE_STREAM_ERROR:
		send_named(fd, "error", "{\"type\":\"error\",\"error\":{\"type\":"
			   "\"overloaded_error\",\"message\":\"Overloaded\"}}");
		return true;
	default:
		return true;
	}
}

static void serve(struct fake_openai *f, int fd)
{
	char *body, *auth, *req = read_request(f, fd, &body, &auth);
	cJSON *j = NULL;
	struct fake_reply *r = NULL, none = { 0 };
	bool fault, usage;
	int seq;

	if (!req)
		return;
	pthread_mutex_lock(&f->mu);
	seq = f->n_requests;
	if (seq < MAX_LOG) {
		f->bodies[seq] = body;
		f->auths[seq] = auth;
		body = auth = NULL;
	}
	f->n_requests++;
	pthread_mutex_unlock(&f->mu);
	j = cJSON_Parse(seq < MAX_LOG ? f->bodies[seq] : body);
	if (strncmp(req, "POST ", 5) ||
	    !strstr(req, f->cfg.anthropic ? "/messages " : "/chat/completions ")) {
		answer_status(f, fd, 404, "Not Found", NULL, "invalid_request_error", "unknown_url");
		goto out;
	}
	if (f->cfg.api_key) {
		const char *a = seq < MAX_LOG ? f->auths[seq] : auth;
		char want[256];

		snprintf(want, sizeof(want), f->cfg.anthropic ? "%s" : "Bearer %s",
			 f->cfg.api_key);
		if (!a || strcmp(a, want)) {
			answer_status(f, fd, 401, "Unauthorized", NULL, "invalid_request_error",
				      f->cfg.anthropic ? "authentication_error" : "invalid_api_key");
			goto out;
		}
	}
	if (f->cfg.anthropic) {
		char *v = header_value(req, "anthropic-version");
		bool bad = !v || !*v;

		free(v);
		if (bad || !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "max_tokens"))) {
			answer_status(f, fd, 400, "Bad Request", NULL, "invalid_request_error",
				      "invalid_request_error");
			goto out;
		}
	}
	if (!j || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "stream"))) {
		answer_status(f, fd, 400, "Bad Request", NULL, "invalid_request_error",
			      "stream_required");
		goto out;
	}
	for (int i = 0; i < f->cfg.n_replies; i++) {
		struct fake_reply *c = &f->cfg.replies[i];

		if (!c->match || !*c->match || strstr(last_content(j), c->match)) {
			r = c;
			break;
		}
	}
	if (!r) {
		none.text = "I have no scripted answer for that.";
		r = &none;
	}
	r->hits++;
	fault = r->fault != FAKE_NONE && (r->fault_times <= 0 || r->hits <= r->fault_times);
	usage = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(j, "stream_options"), "include_usage"));
	if (fault && r->fault == FAKE_HTTP_429) {
		char extra[80] = "";

		if (r->retry_after)
			snprintf(extra, sizeof(extra), "retry-after: %s\r\n", r->retry_after);
		answer_status(f, fd, 429, "Too Many Requests", extra, "requests",
			      "rate_limit_exceeded");
	} else if (fault && r->fault == FAKE_HTTP_529) {
		answer_status(f, fd, 529, "Overloaded", NULL, "overloaded_error", "overloaded_error");
	} else if (fault && r->fault == FAKE_HTTP_500) {
		answer_status(f, fd, 500, "Internal Server Error", NULL, "server_error", "server_error");
	} else if (fault && r->fault == FAKE_HTTP_401) {
		answer_status(f, fd, 401, "Unauthorized", NULL, "invalid_request_error",
			      "invalid_api_key");
	} else {
		if (fault && r->fault == FAKE_SLOW_FIRST_BYTE) {
			if (!wait_ms(f, fd, r->fault_ms)) {
				note_closed(f);
				goto out;
			}
			fault = false;
		}
		if (f->cfg.anthropic ? !stream_anthropic(f, fd, r, fault, seq)
				     : !stream_reply(f, fd, r, fault, usage, seq))
			note_closed(f);
	}
out:
	cJSON_Delete(j);
	free(req);
	free(body);
	free(auth);
}

static void *server_main(void *arg)
{
	struct fake_openai *f = arg;

	for (;;) {
		struct pollfd p[2] = { { f->listen_fd, POLLIN, 0 },
				       { f->stop_pipe[0], POLLIN, 0 } };
		int fd;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!p[0].revents)
			continue;
		fd = accept(f->listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		serve(f, fd);
		shutdown(fd, SHUT_WR);
		close(fd);
	}
	return NULL;
}

struct fake_openai *fake_openai_start(const struct fake_openai_config *cfg)
{
	struct fake_openai *f = calloc(1, sizeof(*f));
	struct sockaddr_in a = { 0 };
	socklen_t alen = sizeof(a);
	int one = 1;

	if (!f)
		return NULL;
	f->cfg = *cfg;
	f->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->listen_fd < 0 || pipe(f->stop_pipe) < 0) {
		free(f);
		return NULL;
	}
	setsockopt(f->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)cfg->port);
	if (bind(f->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(f->listen_fd, 16) < 0 ||
	    getsockname(f->listen_fd, (struct sockaddr *)&a, &alen) < 0)
		goto fail;
	f->port = ntohs(a.sin_port);
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d/v1", f->port);
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	if (pthread_create(&f->thread, NULL, server_main, f) != 0) {
		pthread_mutex_destroy(&f->mu);
		pthread_cond_destroy(&f->cv);
		goto fail;
	}
	return f;
fail:
	close(f->listen_fd);
	close(f->stop_pipe[0]);
	close(f->stop_pipe[1]);
	free(f);
	return NULL;
}

const char *fake_openai_url(const struct fake_openai *f)
{
	return f->url;
}

int fake_openai_port(const struct fake_openai *f)
{
	return f->port;
}

int fake_openai_requests(struct fake_openai *f)
{
	int n;

	pthread_mutex_lock(&f->mu);
	n = f->n_requests;
	pthread_mutex_unlock(&f->mu);
	return n;
}

static char *logged(struct fake_openai *f, char **log, int i)
{
	char *s = NULL;

	pthread_mutex_lock(&f->mu);
	if (i >= 0 && i < f->n_requests && i < MAX_LOG && log[i])
		s = strdup(log[i]);
	pthread_mutex_unlock(&f->mu);
	return s;
}

char *fake_openai_request_body(struct fake_openai *f, int i)
{
	return logged(f, f->bodies, i);
}

char *fake_openai_request_auth(struct fake_openai *f, int i)
{
	return logged(f, f->auths, i);
}

int fake_openai_wait_closed(struct fake_openai *f, int n, int timeout_ms)
{
	struct timespec until;
	int seen;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&f->mu);
	while (f->closed_early < n &&
	       pthread_cond_timedwait(&f->cv, &f->mu, &until) == 0)
		;
	seen = f->closed_early;
	pthread_mutex_unlock(&f->mu);
	return seen;
}

void fake_openai_stop(struct fake_openai *f)
{
	if (!f)
		return;
	if (write(f->stop_pipe[1], "x", 1) < 0) {
		/* the thread then only stops at its next accept */
	}
	pthread_join(f->thread, NULL);
	close(f->listen_fd);
	close(f->stop_pipe[0]);
	close(f->stop_pipe[1]);
	for (int i = 0; i < MAX_LOG; i++) {
		free(f->bodies[i]);
		free(f->auths[i]);
	}
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
}
