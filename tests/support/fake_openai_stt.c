/*
 * fake_openai_stt.c — a loopback HTTP/1.1 fake of OpenAI's transcription
 * endpoint (one request per connection, one connection at a time, on a
 * thread). See fake_openai_stt.h.
 */
#include <arpa/inet.h>
#include <check.h>
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

#include "support/fake_openai_stt.h"
#include "support/loopback.h"

struct fake_openai_stt {
	struct fake_openai_stt_config cfg;
	int listen_fd, port, wake[2];
	pthread_t thread;
	pthread_mutex_t lock;
	bool stop;
	int answered;                 /* script lines used */
	struct fake_openai_stt_stats stats;
	char url[64];
};

static void send_str(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static void respond(int fd, int status, const char *extra, const char *body)
{
	char head[512];

	snprintf(head, sizeof(head),
		 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		 "x-request-id: fake\r\n%sConnection: close\r\n\r\n",
		 status, status == 200 ? "OK" : "Error", strlen(body), extra ? extra : "");
	send_str(fd, head);
	send_str(fd, body);
}

/* The value of header `name` in a request head, or NULL. */
static const char *header_value(const char *req, const char *name)
{
	const char *p = req;
	size_t nl = strlen(name);

	while ((p = strstr(p, "\r\n"))) {
		p += 2;
		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			p += nl + 1;
			while (*p == ' ')
				p++;
			return p;
		}
	}
	return NULL;
}

static const char *memfind(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (!memcmp(hay + i, needle, k))
			return hay + i;
	return NULL;
}

/* The value of multipart field `name` (text parts), into out. */
static void form_field(const char *body, size_t n, const char *name, char *out, size_t cap)
{
	char key[96];
	const char *p, *v, *e;

	out[0] = '\0';
	snprintf(key, sizeof(key), "name=\"%s\"", name);
	p = memfind(body, n, key);
	if (!p)
		return;
	v = memfind(p, n - (size_t)(p - body), "\r\n\r\n");
	if (!v)
		return;
	v += 4;
	e = memfind(v, n - (size_t)(v - body), "\r\n");
	if (e)
		snprintf(out, cap, "%.*s", (int)(e - v), v);
}

static unsigned long le(const unsigned char *b, int bytes)
{
	unsigned long v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

static void serve(struct fake_openai_stt *f, int fd)
{
	char *req = NULL;
	size_t len = 0, cap = 0, body_at = 0, clen = 0;
	char method[8] = "", path[256] = "", auth[256] = "";
	const char *body, *file;
	int n;

	/* read the head, then Content-Length bytes */
	for (;;) {
		char buf[65536];
		ssize_t r;
		struct pollfd pf = { fd, POLLIN, 0 };

		if (poll(&pf, 1, 5000) <= 0)
			goto done;
		r = recv(fd, buf, sizeof(buf), 0);
		if (r <= 0)
			goto done;
		if (len + (size_t)r + 1 > cap) {
			cap = (len + (size_t)r + 1) * 2;
			req = realloc(req, cap);
			ck_assert(req);
		}
		memcpy(req + len, buf, (size_t)r);
		len += (size_t)r;
		req[len] = '\0';
		if (!body_at) {
			const char *e = strstr(req, "\r\n\r\n");
			const char *cl;

			if (!e)
				continue;
			body_at = (size_t)(e + 4 - req);
			cl = header_value(req, "Content-Length");
			clen = cl ? strtoul(cl, NULL, 10) : 0;
		}
		if (len >= body_at + clen)
			break;
	}
	sscanf(req, "%7s %255s", method, path);
	{
		const char *a = header_value(req, "Authorization");

		if (a) {
			snprintf(auth, sizeof(auth), "%.*s", (int)strcspn(a, "\r\n"), a);
		}
	}
	body = req + body_at;
	pthread_mutex_lock(&f->lock);
	n = ++f->stats.requests;
	snprintf(f->stats.auth, sizeof(f->stats.auth), "%.*s", (int)sizeof(f->stats.auth) - 1, auth);
	form_field(body, clen, "model", f->stats.model, sizeof(f->stats.model));
	form_field(body, clen, "language", f->stats.language, sizeof(f->stats.language));
	file = memfind(body, clen, "name=\"file\"; filename=\"turn.wav\"");
	f->stats.wav_ok = false;
	if (file && (file = memfind(file, clen - (size_t)(file - body), "\r\n\r\n"))) {
		const unsigned char *w = (const unsigned char *)file + 4;

		if ((size_t)((const char *)w - body) + 44 <= clen && !memcmp(w, "RIFF", 4) &&
		    !memcmp(w + 8, "WAVE", 4) && !memcmp(w + 36, "data", 4)) {
			f->stats.wav_ok = le(w + 20, 2) == 1 && le(w + 22, 2) == 1 && le(w + 34, 2) == 16;
			f->stats.wav_rate = (long)le(w + 24, 4);
			f->stats.wav_samples = (long)le(w + 40, 4) / 2;
		}
	}
	pthread_mutex_unlock(&f->lock);

	if (f->cfg.delay_ms > 0) {
		struct pollfd pf = { f->wake[0], POLLIN, 0 };

		poll(&pf, 1, f->cfg.delay_ms);   /* the stop pipe cuts it short */
	}
	if (strcmp(method, "POST") || !strstr(path, "/audio/transcriptions")) {
		respond(fd, 404, NULL, "{\"error\":{\"message\":\"Not found\",\"type\":\"invalid_request_error\"}}");
	} else if (strncmp(auth, "Bearer ", 7) ||
		   (f->cfg.api_key && strcmp(auth + 7, f->cfg.api_key))) {
		respond(fd, 401, NULL, "{\"error\":{\"message\":\"Incorrect API key provided\","
			"\"type\":\"invalid_request_error\",\"code\":\"invalid_api_key\"}}");
	} else if (f->cfg.http_status && (!f->cfg.fail_times || n <= f->cfg.fail_times)) {
		char extra[128] = "";

		if (f->cfg.retry_after)
			snprintf(extra, sizeof(extra), "retry-after: %s\r\n", f->cfg.retry_after);
		respond(fd, f->cfg.http_status, extra, f->cfg.quota
			? "{\"error\":{\"message\":\"You exceeded your current quota\","
			  "\"type\":\"insufficient_quota\",\"code\":\"insufficient_quota\"}}"
			: "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\","
			  "\"code\":\"rate_limit_exceeded\"}}");
	} else if (f->cfg.malformed) {
		respond(fd, 200, NULL, "{\"txt\": 42");
	} else {
		const char *text = "";
		char *out;

		pthread_mutex_lock(&f->lock);
		if (f->cfg.script && f->cfg.script[f->answered])
			text = f->cfg.script[f->answered++];
		pthread_mutex_unlock(&f->lock);
		out = malloc(strlen(text) + 96);
		ck_assert(out);
		sprintf(out, "{\"text\":\"%s\",\"usage\":{\"type\":\"duration\",\"seconds\":3}}", text);
		respond(fd, 200, NULL, out);
		free(out);
	}
done:
	free(req);
	close(fd);
}

static void *server_main(void *arg)
{
	struct fake_openai_stt *f = arg;
	int fd;

	while ((fd = loopback_accept(f->listen_fd, f->wake[0])) >= 0)
		serve(f, fd);
	return NULL;
}

struct fake_openai_stt *fake_openai_stt_start(const struct fake_openai_stt_config *cfg)
{
	struct fake_openai_stt *f = calloc(1, sizeof(*f));

	ck_assert(f);
	if (cfg)
		f->cfg = *cfg;
	pthread_mutex_init(&f->lock, NULL);
	ck_assert(pipe(f->wake) == 0);
	f->listen_fd = loopback_listen(8, &f->port);
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d/v1", f->port);
	ck_assert(pthread_create(&f->thread, NULL, server_main, f) == 0);
	return f;
}

const char *fake_openai_stt_url(const struct fake_openai_stt *f)
{
	return f->url;
}

void fake_openai_stt_get_stats(struct fake_openai_stt *f, struct fake_openai_stt_stats *out)
{
	pthread_mutex_lock(&f->lock);
	*out = f->stats;
	pthread_mutex_unlock(&f->lock);
}

void fake_openai_stt_stop(struct fake_openai_stt *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	pthread_mutex_unlock(&f->lock);
	ck_assert(write(f->wake[1], "x", 1) == 1);
	pthread_join(f->thread, NULL);
	close(f->listen_fd);
	close(f->wake[0]);
	close(f->wake[1]);
	pthread_mutex_destroy(&f->lock);
	free(f);
}
