/*
 * fake_openai_tts.c — a loopback HTTP/1.1 fake of OpenAI's speech endpoint
 * (one request per connection, a thread per connection so a stalled
 * answer does not hold up the next). See fake_openai_tts.h.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vagent.h"
#include "support/fake_openai_tts.h"
#include "support/loopback.h"

#define MAX_CONNS 64

struct fake_openai_tts {
	struct fake_openai_tts_config cfg;
	int listen_fd, port, wake[2];
	pthread_t thread;
	pthread_t conns[MAX_CONNS];
	int n_conns;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct fake_openai_tts_stats stats;
	char url[64];
};

struct conn {
	struct fake_openai_tts *f;
	int fd;
};

static bool send_all(int fd, const void *data, size_t len)
{
	const char *s = data;

	while (len) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		s += n;
		len -= (size_t)n;
	}
	return true;
}

static void respond(int fd, int status, const char *extra, const char *body)
{
	char head[512];

	snprintf(head, sizeof(head),
		 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		 "x-request-id: fake\r\n%sConnection: close\r\n\r\n",
		 status, status == 200 ? "OK" : "Error", strlen(body), extra ? extra : "");
	send_all(fd, head, strlen(head));
	send_all(fd, body, strlen(body));
}

static void respond_error(int fd, int status, const char *extra, const char *message,
			  const char *type, const char *code)
{
	cJSON *j = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(j, "error");
	char *body;

	cJSON_AddStringToObject(e, "message", message);
	cJSON_AddStringToObject(e, "type", type);
	if (code)
		cJSON_AddStringToObject(e, "code", code);
	else
		cJSON_AddNullToObject(e, "code");
	body = cJSON_PrintUnformatted(j);
	respond(fd, status, extra, body);
	free(body);
	cJSON_Delete(j);
}

static bool header_value(const char *req, const char *name, char *out, size_t cap)
{
	const char *p = req;
	size_t nl = strlen(name);

	out[0] = '\0';
	while ((p = strstr(p, "\r\n"))) {
		p += 2;
		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			p += nl + 1;
			while (*p == ' ')
				p++;
			snprintf(out, cap, "%.*s", (int)strcspn(p, "\r\n"), p);
			return true;
		}
	}
	return false;
}

/* Wait up to ms for the stop pipe or the client: false when the server
 * stops or the client closed its end (counted). */
static bool wait_ms(struct fake_openai_tts *f, int fd, int ms)
{
	for (;;) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { f->wake[0], POLLIN, 0 } };
		int r = poll(p, 2, ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0;
		if (p[1].revents)
			return false;
		if (p[0].revents) {
			char b[256];
			ssize_t n = recv(fd, b, sizeof(b), MSG_DONTWAIT);

			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				pthread_mutex_lock(&f->lock);
				f->stats.client_closed++;
				pthread_cond_broadcast(&f->cond);
				pthread_mutex_unlock(&f->lock);
				return false;
			}
			/* stray bytes: ignore and keep waiting (a zero wait ends) */
			if (ms == 0)
				return true;
		}
	}
}

static int16_t *speak(const char *text, size_t *n)
{
	struct vagent_audio *a = NULL;
	struct vagent_error err;
	int16_t *s;

	ck_assert_msg(vagent_flite_synth(text, "slt", 24000, &a, &err) == VAGENT_OK, "%s",
		      err.message);
	s = malloc((a->frames + 1) * sizeof(*s));
	ck_assert(s);
	for (size_t i = 0; i < a->frames; i++) {
		float v = a->samples[i] * 32767.f;

		s[i] = v > 32767.f ? 32767 : v < -32768.f ? -32768 : (int16_t)lrintf(v);
	}
	*n = a->frames;
	vagent_audio_free(a);
	return s;
}

long fake_openai_tts_samples_for(const char *text)
{
	size_t n;
	int16_t *s = speak(text, &n);

	free(s);
	return (long)n;
}

static void stream_audio(struct fake_openai_tts *f, int fd, const char *input)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
				   "Transfer-Encoding: chunked\r\nx-request-id: fake\r\n"
				   "Connection: close\r\n\r\n";
	size_t n, chunk, off = 0;
	int16_t *pcm = speak(input, &n);
	const unsigned char *bytes = (const unsigned char *)pcm;
	size_t total = n * 2;
	int sent = 0;

	chunk = f->cfg.chunk_bytes_odd > 0 ? (size_t)f->cfg.chunk_bytes_odd
		: (size_t)(f->cfg.chunk_ms > 0 ? f->cfg.chunk_ms : 40) * 24 * 2;
	if (f->cfg.first_byte_delay_ms > 0 && !wait_ms(f, fd, f->cfg.first_byte_delay_ms))
		goto out;
	if (!send_all(fd, head, sizeof(head) - 1))
		goto out;
	while (off < total) {
		size_t k = total - off < chunk ? total - off : chunk;
		char size[32];

		if (f->cfg.stall_after_chunks > 0 && sent == f->cfg.stall_after_chunks) {
			while (wait_ms(f, fd, 1000))
				;
			goto out;
		}
		if (f->cfg.cut_after_chunks > 0 && sent == f->cfg.cut_after_chunks)
			goto out;
		if (sent && !wait_ms(f, fd, f->cfg.pace_ms))
			goto out;
		snprintf(size, sizeof(size), "%zx\r\n", k);
		if (!send_all(fd, size, strlen(size)) || !send_all(fd, bytes + off, k) ||
		    !send_all(fd, "\r\n", 2))
			goto out;
		off += k;
		sent++;
	}
	/* counted before the end goes out: once the client has it, a test
	 * may read the stats at once */
	pthread_mutex_lock(&f->lock);
	f->stats.completed++;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	send_all(fd, "0\r\n\r\n", 5);
out:
	free(pcm);
}

static void serve(struct fake_openai_tts *f, int fd)
{
	char *req = NULL;
	size_t len = 0, cap = 0, body_at = 0, clen = 0;
	char method[8] = "", path[256] = "", auth[256] = "", v[64];
	cJSON *j = NULL;
	const cJSON *input, *model, *voice, *format, *speed;
	int n;

	for (;;) {
		char buf[16384];
		ssize_t r;
		struct pollfd pf[2] = { { fd, POLLIN, 0 }, { f->wake[0], POLLIN, 0 } };

		if (poll(pf, 2, 5000) <= 0 || pf[1].revents)
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

			if (!e)
				continue;
			body_at = (size_t)(e + 4 - req);
			clen = header_value(req, "Content-Length", v, sizeof(v))
				? strtoul(v, NULL, 10) : 0;
		}
		if (len >= body_at + clen)
			break;
	}
	sscanf(req, "%7s %255s", method, path);
	header_value(req, "Authorization", auth, sizeof(auth));
	req[body_at + clen] = '\0';
	j = cJSON_Parse(req + body_at);
	input = cJSON_GetObjectItemCaseSensitive(j, "input");
	model = cJSON_GetObjectItemCaseSensitive(j, "model");
	voice = cJSON_GetObjectItemCaseSensitive(j, "voice");
	format = cJSON_GetObjectItemCaseSensitive(j, "response_format");
	speed = cJSON_GetObjectItemCaseSensitive(j, "speed");
	pthread_mutex_lock(&f->lock);
	n = ++f->stats.requests;
	snprintf(f->stats.auth, sizeof(f->stats.auth), "%.*s", (int)sizeof(f->stats.auth) - 1, auth);
	header_value(req, "Accept", f->stats.accept, sizeof(f->stats.accept));
	f->stats.json_ok = cJSON_IsObject(j);
	snprintf(f->stats.model, sizeof(f->stats.model), "%s",
		 cJSON_IsString(model) ? model->valuestring : "");
	snprintf(f->stats.voice, sizeof(f->stats.voice), "%s",
		 cJSON_IsString(voice) ? voice->valuestring : "");
	snprintf(f->stats.input, sizeof(f->stats.input), "%s",
		 cJSON_IsString(input) ? input->valuestring : "");
	snprintf(f->stats.response_format, sizeof(f->stats.response_format), "%s",
		 cJSON_IsString(format) ? format->valuestring : "");
	f->stats.speed = cJSON_IsNumber(speed) ? speed->valuedouble : 0;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);

	if (strcmp(method, "POST") || strcmp(path, "/v1/audio/speech")) {
		respond_error(fd, 404, NULL, "Not found", "invalid_request_error", NULL);
	} else if (strncmp(auth, "Bearer ", 7) ||
		   (f->cfg.api_key && strcmp(auth + 7, f->cfg.api_key))) {
		respond_error(fd, 401, NULL, "Incorrect API key provided",
			      "invalid_request_error", "invalid_api_key");
	} else if (f->cfg.http_status && (!f->cfg.fail_times || n <= f->cfg.fail_times)) {
		char extra[128] = "";

		if (f->cfg.retry_after)
			snprintf(extra, sizeof(extra), "retry-after: %s\r\n", f->cfg.retry_after);
		if (f->cfg.quota)
			respond_error(fd, f->cfg.http_status, extra,
				      "You exceeded your current quota", "insufficient_quota",
				      "insufficient_quota");
		else
			respond_error(fd, f->cfg.http_status, extra,
				      f->cfg.error_message ? f->cfg.error_message
				      : f->cfg.http_status == 429 ? "Rate limit reached"
				      : "The server had an error while processing your request",
				      f->cfg.http_status == 429 ? "requests" : "server_error", NULL);
	} else if (!cJSON_IsObject(j) || !cJSON_IsString(input) || !cJSON_IsString(model) ||
		   !cJSON_IsString(voice)) {
		respond_error(fd, 400, NULL, "Missing required parameter: 'input', 'model' "
			      "or 'voice'", "invalid_request_error", NULL);
	} else if (!cJSON_IsString(format) || strcmp(format->valuestring, "pcm")) {
		respond_error(fd, 400, NULL, "The fake streams response_format 'pcm' only",
			      "invalid_request_error", NULL);
	} else if (strlen(input->valuestring) > 4096) {
		respond_error(fd, 400, NULL, "input: string too long", "invalid_request_error",
			      NULL);
	} else {
		stream_audio(f, fd, input->valuestring);
	}
done:
	cJSON_Delete(j);
	free(req);
	close(fd);
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;

	serve(c->f, c->fd);
	free(c);
	return NULL;
}

static void *server_main(void *arg)
{
	struct fake_openai_tts *f = arg;
	int fd;

	while ((fd = loopback_accept(f->listen_fd, f->wake[0])) >= 0) {
		struct conn *c = malloc(sizeof(*c));

		ck_assert(c);
		c->f = f;
		c->fd = fd;
		pthread_mutex_lock(&f->lock);
		if (f->n_conns == MAX_CONNS) {
			pthread_mutex_unlock(&f->lock);
			close(fd);
			free(c);
			continue;
		}
		ck_assert(pthread_create(&f->conns[f->n_conns++], NULL, conn_main, c) == 0);
		pthread_mutex_unlock(&f->lock);
	}
	return NULL;
}

struct fake_openai_tts *fake_openai_tts_start(const struct fake_openai_tts_config *cfg)
{
	struct fake_openai_tts *f = calloc(1, sizeof(*f));

	ck_assert(f);
	if (cfg)
		f->cfg = *cfg;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	ck_assert(pipe(f->wake) == 0);
	f->listen_fd = loopback_listen(8, &f->port);
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d/v1", f->port);
	ck_assert(pthread_create(&f->thread, NULL, server_main, f) == 0);
	return f;
}

const char *fake_openai_tts_url(const struct fake_openai_tts *f)
{
	return f->url;
}

void fake_openai_tts_get_stats(struct fake_openai_tts *f, struct fake_openai_tts_stats *out)
{
	pthread_mutex_lock(&f->lock);
	*out = f->stats;
	pthread_mutex_unlock(&f->lock);
}

bool fake_openai_tts_wait_closed(struct fake_openai_tts *f, int n, int timeout_ms)
{
	struct timespec until;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&f->lock);
	while (!(ok = f->stats.client_closed >= n))
		if (pthread_cond_timedwait(&f->cond, &f->lock, &until) == ETIMEDOUT) {
			ok = f->stats.client_closed >= n;
			break;
		}
	pthread_mutex_unlock(&f->lock);
	return ok;
}

void fake_openai_tts_stop(struct fake_openai_tts *f)
{
	if (!f)
		return;
	ck_assert(write(f->wake[1], "x", 1) == 1);
	pthread_join(f->thread, NULL);
	for (int i = 0; i < f->n_conns; i++)
		pthread_join(f->conns[i], NULL);
	close(f->listen_fd);
	close(f->wake[0]);
	close(f->wake[1]);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	free(f);
}
