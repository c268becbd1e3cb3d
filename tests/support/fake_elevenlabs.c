/*
 * fake_elevenlabs.c — a loopback fake of ElevenLabs TTS (stream-input
 * WebSocket and HTTP /stream) on a plain-socket server of its own, a thread
 * per connection so a provider's spare socket and its current one can be
 * open at once. Speech is flite's (vagent_flite_synth) in the requested
 * output_format. See fake_elevenlabs.h and docs/providers.md.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <libwebsockets.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vagent.h"
#include "support/fake_elevenlabs.h"
#include "support/loopback.h"

#define MAX_CONNS 256
#define MAX_GENS  8

struct fake_elevenlabs {
	struct fake_elevenlabs_config cfg;
	int listen_fd, port;
	int wake[2];
	pthread_t accept_thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	struct fake_elevenlabs_stats stats;
	int refusals;
	pthread_t threads[MAX_CONNS];
	int n_conns;
	char url[64];
};

/* One sentence's audio being sent. */
struct gen {
	unsigned char *audio;
	size_t len, pos;
	int chunks;
	int number;                 /* 1-based over the fake's life */
	bool faulty, stalled;
	char text[256];
};

struct conn {
	struct fake_elevenlabs *f;
	int fd;
	bool dead, ws, closing;
	char req[8192];
	size_t req_len;
	unsigned char *in;
	size_t in_len, in_cap;
	unsigned char *msg;
	size_t msg_len;
	int msg_opcode;
	/* stream */
	bool ulaw;
	int rate;
	int inactivity_ms;
	bool got_init, got_text, eos, final_sent;
	char *text;                 /* buffered, not yet generated */
	struct gen gens[MAX_GENS];
	int n_gens;
	int64_t due_ms, last_rx_ms;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct fake_elevenlabs_config fake_elevenlabs_config_default(void)
{
	struct fake_elevenlabs_config c = { 0 };

	c.chunk_ms = 100;
	c.pace_ms = 10;
	return c;
}

#define LOCKED(f, stmt) do { pthread_mutex_lock(&(f)->lock); stmt; \
	pthread_cond_broadcast(&(f)->cond); pthread_mutex_unlock(&(f)->lock); } while (0)

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, f);
	n = vsnprintf(NULL, 0, f, ap);
	va_end(ap);
	ck_assert(n >= 0);
	s = malloc((size_t)n + 1);
	ck_assert(s);
	va_start(ap, f);
	vsnprintf(s, (size_t)n + 1, f, ap);
	va_end(ap);
	return s;
}

/* ---- sending ---- */

static void send_all(struct conn *c, const void *data, size_t len)
{
	const char *p = data;

	while (len && !c->dead) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pf = { c->fd, POLLOUT, 0 };

			poll(&pf, 1, 1000);
			continue;
		}
		if (n <= 0) {
			c->dead = true;
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

static void send_frame(struct conn *c, int opcode, const void *data, size_t len)
{
	unsigned char h[10];
	size_t hl = 2;

	h[0] = (unsigned char)(0x80 | opcode);
	if (len < 126) {
		h[1] = (unsigned char)len;
	} else if (len < 65536) {
		h[1] = 126;
		h[2] = (unsigned char)(len >> 8);
		h[3] = (unsigned char)len;
		hl = 4;
	} else {
		h[1] = 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
		hl = 10;
	}
	send_all(c, h, hl);
	if (len)
		send_all(c, data, len);
}

static void send_text(struct conn *c, char *s)
{
	send_frame(c, 1, s, strlen(s));
	free(s);
}

static void send_close(struct conn *c, int code, const char *reason)
{
	unsigned char b[128];
	size_t rl = strlen(reason);

	if (rl > sizeof(b) - 2)
		rl = sizeof(b) - 2;
	b[0] = (unsigned char)(code >> 8);
	b[1] = (unsigned char)code;
	memcpy(b + 2, reason, rl);
	send_frame(c, 8, b, rl + 2);
	c->closing = true;
}

static void http_reply(struct conn *c, int status, const char *extra, const char *body)
{
	const char *text = status == 401 ? "Unauthorized" : status == 429 ? "Too Many Requests" :
			   status == 400 ? "Bad Request" : status == 404 ? "Not Found" :
			   status == 403 ? "Forbidden" : "Internal Server Error";
	char *resp = fmt("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n%s"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 status, text, extra, strlen(body), body);

	send_all(c, resp, strlen(resp));
	free(resp);
	c->dead = true;
	LOCKED(c->f, c->f->stats.refused++);
}

static void http_error(struct conn *c, int status, const char *code, const char *msg)
{
	char *body = fmt("{\"detail\":{\"status\":\"%s\",\"message\":\"%s\"}}", code, msg);

	http_reply(c, status, "", body);
	free(body);
}

/* ---- audio ---- */

/* `text` spoken by flite at the stream's rate and format (malloc'd). */
static unsigned char *synth(struct conn *c, const char *text, size_t *len)
{
	struct vagent_audio *a = NULL;
	struct vagent_error err;
	unsigned char *out;
	size_t bps = c->ulaw ? 1 : 2;

	ck_assert_msg(vagent_flite_synth(text, "slt", c->rate, &a, &err) == VAGENT_OK, "%s",
		      err.message);
	out = malloc(a->frames * bps + 1);
	ck_assert(out);
	for (size_t i = 0; i < a->frames; i++) {
		float v = a->samples[i * (size_t)a->channels] * 32767.0f;
		int16_t s = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);

		if (c->ulaw) {
			out[i] = vagent_ulaw_encode(s);
		} else {
			out[2 * i] = (unsigned char)((uint16_t)s & 0xff);
			out[2 * i + 1] = (unsigned char)((uint16_t)s >> 8);
		}
	}
	*len = a->frames * bps;
	vagent_audio_free(a);
	return out;
}

/* Start generating `text` (a flush or the end of input). */
static void generate(struct conn *c, const char *text)
{
	struct fake_elevenlabs *f = c->f;
	struct gen *g;
	const char *t = text;
	size_t tl;

	while (*t == ' ')
		t++;
	tl = strlen(t);
	while (tl && t[tl - 1] == ' ')
		tl--;
	if (!tl || c->n_gens == MAX_GENS)
		return;
	g = &c->gens[c->n_gens++];
	memset(g, 0, sizeof(*g));
	snprintf(g->text, sizeof(g->text), "%.*s", (int)tl, t);
	g->audio = synth(c, g->text, &g->len);
	pthread_mutex_lock(&f->lock);
	g->number = ++f->stats.sentences;
	if (g->number <= FAKE_EL_MAX_SENTENCES)
		snprintf(f->stats.texts[g->number - 1], sizeof(f->stats.texts[0]), "%.*s",
			 (int)sizeof(f->stats.texts[0]) - 1, g->text);
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	g->faulty = !f->cfg.fault_sentence || f->cfg.fault_sentence == g->number;
	if (c->n_gens == 1)
		c->due_ms = now_ms() + (g->faulty ? f->cfg.first_byte_delay_ms : 0);
}

static void gen_pop(struct conn *c)
{
	free(c->gens[0].audio);
	memmove(c->gens, c->gens + 1, (size_t)(c->n_gens - 1) * sizeof(c->gens[0]));
	c->n_gens--;
	if (c->n_gens)
		c->due_ms = now_ms() + (c->gens[0].faulty ? c->f->cfg.first_byte_delay_ms : 0);
}

/* Vanish: no close frame, no last chunk. */
static void vanish(struct conn *c)
{
	shutdown(c->fd, SHUT_RDWR);
	c->dead = true;
}

/* The next WebSocket chunk of the first generation. */
static void ws_send_chunk(struct conn *c)
{
	struct fake_elevenlabs *f = c->f;
	struct gen *g = &c->gens[0];
	size_t bytes = (size_t)(c->rate / 1000 * f->cfg.chunk_ms) * (c->ulaw ? 1 : 2);
	char *b64, *align = NULL;
	size_t n, b64_cap;

	if (g->faulty && f->cfg.drop_after_chunks > 0 && g->chunks == f->cfg.drop_after_chunks) {
		if (f->cfg.error_after_drop) {
			send_text(c, fmt("{\"message\":\"Something went wrong while generating.\","
					 "\"error\":\"%s\",\"code\":1008}", f->cfg.error_after_drop));
			send_close(c, 1008, "something went wrong");
			c->dead = true;
		} else {
			vanish(c);
		}
		return;
	}
	if (g->faulty && f->cfg.stall_after_chunks > 0 && g->chunks == f->cfg.stall_after_chunks) {
		g->stalled = true;
		return;
	}
	if (g->faulty && f->cfg.malformed_at_chunk > 0 &&
	    g->chunks + 1 == f->cfg.malformed_at_chunk) {
		static const char broken[] = "{\"audio\":\"AAAA\",\"isFinal\":nu";

		send_frame(c, 1, broken, sizeof(broken) - 1);
		g->chunks++;
		return;
	}
	if (g->faulty && f->cfg.bad_audio_at_chunk > 0 &&
	    g->chunks + 1 == f->cfg.bad_audio_at_chunk) {
		send_text(c, fmt("{\"audio\":\"%%%%not*base64!\",\"isFinal\":null}"));
		g->chunks++;
		return;
	}
	n = g->len - g->pos < bytes ? g->len - g->pos : bytes;
	b64_cap = n / 3 * 4 + 8;
	b64 = malloc(b64_cap);
	ck_assert(b64);
	lws_b64_encode_string((const char *)g->audio + g->pos, (int)n, b64, (int)b64_cap);
	if (g->chunks == 0) {
		/* the first chunk carries the characters' timing, evenly spread */
		size_t tl = strlen(g->text);
		int per = tl ? (int)((int64_t)g->len * 1000 / (c->rate * (c->ulaw ? 1 : 2)) / (int64_t)tl) : 0;
		char *chars = calloc(tl * 6 + 3, 1), *starts = calloc(tl * 12 + 3, 1),
		     *durs = calloc(tl * 12 + 3, 1);

		ck_assert(chars && starts && durs);
		for (size_t i = 0; i < tl; i++) {
			char ch = g->text[i] == '"' || g->text[i] == '\\' ? '\'' : g->text[i];

			sprintf(chars + strlen(chars), "%s\"%c\"", i ? "," : "", ch);
			sprintf(starts + strlen(starts), "%s%d", i ? "," : "", (int)i * per);
			sprintf(durs + strlen(durs), "%s%d", i ? "," : "", per);
		}
		align = fmt("{\"chars\":[%s],\"charStartTimesMs\":[%s],\"charDurationsMs\":[%s]}",
			    chars, starts, durs);
		free(chars);
		free(starts);
		free(durs);
	}
	send_text(c, fmt("{\"audio\":\"%s\",\"isFinal\":null,\"normalizedAlignment\":%s,"
			 "\"alignment\":%s}", b64, align ? align : "null", align ? align : "null"));
	free(align);
	free(b64);
	g->pos += n;
	g->chunks++;
	if (g->pos >= g->len)
		gen_pop(c);
}

/* The next HTTP chunk (odd sizes, so PCM samples split across reads). */
static void http_send_chunk(struct conn *c)
{
	struct fake_elevenlabs *f = c->f;
	struct gen *g = &c->gens[0];
	size_t bytes = (size_t)(c->rate / 1000 * f->cfg.chunk_ms) * (c->ulaw ? 1 : 2) + 1;
	size_t n = g->len - g->pos < bytes ? g->len - g->pos : bytes;
	char head[32];

	if (g->faulty && f->cfg.drop_after_chunks > 0 && g->chunks == f->cfg.drop_after_chunks) {
		vanish(c);
		return;
	}
	if (g->faulty && f->cfg.stall_after_chunks > 0 && g->chunks == f->cfg.stall_after_chunks) {
		g->stalled = true;
		return;
	}
	snprintf(head, sizeof(head), "%zx\r\n", n);
	send_all(c, head, strlen(head));
	send_all(c, g->audio + g->pos, n);
	send_all(c, "\r\n", 2);
	g->pos += n;
	g->chunks++;
	if (g->pos >= g->len) {
		send_all(c, "0\r\n\r\n", 5);
		gen_pop(c);
		LOCKED(f, f->stats.completed++);
		c->final_sent = true;
	}
}

/* ---- requests ---- */

static bool header(const char *req, const char *name, char *out, size_t cap)
{
	const char *p = req;
	size_t nl = strlen(name);

	while ((p = strstr(p, "\r\n"))) {
		p += 2;
		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1, *e;

			while (*v == ' ')
				v++;
			e = strstr(v, "\r\n");
			if (!e)
				return false;
			snprintf(out, cap, "%.*s", (int)(e - v), v);
			return true;
		}
	}
	return false;
}

static bool query_param(const char *q, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	const char *p = q;

	while (p && *p) {
		if (!strncmp(p, name, nl) && p[nl] == '=') {
			snprintf(out, cap, "%.*s", (int)strcspn(p + nl + 1, "&"), p + nl + 1);
			return true;
		}
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return false;
}

static bool set_format(struct conn *c, const char *q)
{
	char v[32] = "";

	if (!query_param(q, "output_format", v, sizeof(v)))
		snprintf(v, sizeof(v), "mp3_44100_128");
	c->ulaw = !strcmp(v, "ulaw_8000");
	if (c->ulaw) {
		c->rate = 8000;
		return true;
	}
	if (!strncmp(v, "pcm_", 4)) {
		c->rate = atoi(v + 4);
		return c->rate == 8000 || c->rate == 16000 || c->rate == 22050 ||
		       c->rate == 24000 || c->rate == 44100;
	}
	return false;   /* mp3/opus: the fake speaks raw formats only */
}

/* Answer the request line and headers; false when the connection is done. */
static bool begin(struct conn *c, size_t head_len)
{
	struct fake_elevenlabs *f = c->f;
	char method[8] = "", target[1024] = "", key[128] = "", voice[130] = "", wskey[128] = "";
	char *q, *rest;
	bool refuse = false, bad_key;

	sscanf(c->req, "%7s %1023s", method, target);
	q = strchr(target, '?');
	if (q)
		*q++ = '\0';
	header(c->req, "xi-api-key", key, sizeof(key));
	pthread_mutex_lock(&f->lock);
	f->stats.connections++;
	snprintf(f->stats.key, sizeof(f->stats.key), "%.*s", (int)sizeof(f->stats.key) - 1, key);
	snprintf(f->stats.path, sizeof(f->stats.path), "%.*s", (int)sizeof(f->stats.path) - 1, target);
	snprintf(f->stats.query, sizeof(f->stats.query), "%.*s", (int)sizeof(f->stats.query) - 1,
		 q ? q : "");
	if (f->cfg.http_status && (!f->cfg.fail_times || f->refusals < f->cfg.fail_times)) {
		f->refusals++;
		refuse = true;
	}
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	if (strncmp(target, "/v1/text-to-speech/", 19)) {
		http_error(c, 404, "not_found", "Not found");
		return false;
	}
	rest = target + 19;
	snprintf(voice, sizeof(voice), "%.*s", (int)strcspn(rest, "/"), rest);
	rest += strcspn(rest, "/");
	c->ws = !strcmp(rest, "/stream-input") && !strcmp(method, "GET");
	if (!c->ws && !(!strcmp(rest, "/stream") && !strcmp(method, "POST"))) {
		http_error(c, 404, "not_found", "Not found");
		return false;
	}
	if (f->cfg.voice_id && strcmp(voice, f->cfg.voice_id)) {
		http_error(c, 404, "voice_not_found", "A voice with the voice_id was not found.");
		return false;
	}
	if (refuse) {
		char extra[64] = "";
		int st = f->cfg.http_status;

		if (f->cfg.retry_after_s)
			snprintf(extra, sizeof(extra), "Retry-After: %d\r\n", f->cfg.retry_after_s);
		http_reply(c, st, extra,
			   st == 401 ? "{\"detail\":{\"status\":\"invalid_api_key\",\"message\":\"Invalid API key\"}}"
			   : st == 429 ? "{\"detail\":{\"status\":\"too_many_concurrent_requests\","
					 "\"message\":\"Too many concurrent requests.\"}}"
			   : "{\"detail\":{\"status\":\"something_went_wrong\",\"message\":\"Something went wrong.\"}}");
		return false;
	}
	bad_key = !key[0] || (f->cfg.api_key && strcmp(key, f->cfg.api_key));
	if (bad_key && !(c->ws && f->cfg.auth_in_socket)) {
		http_error(c, 401, "invalid_api_key", "Invalid API key");
		return false;
	}
	if (!set_format(c, q ? q : "")) {
		http_error(c, 400, "invalid_output_format", "the fake speaks pcm_* and ulaw_8000 only");
		return false;
	}
	if (c->ws) {
		char accept[64], v[16], *concat, *resp;
		unsigned char sha[20];

		if (!header(c->req, "Sec-WebSocket-Key", wskey, sizeof(wskey))) {
			http_error(c, 400, "bad_request", "not a WebSocket upgrade");
			return false;
		}
		c->inactivity_ms = 20000;
		if (query_param(q ? q : "", "inactivity_timeout", v, sizeof(v)))
			c->inactivity_ms = atoi(v) * 1000;
		concat = fmt("%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", wskey);
		lws_SHA1((unsigned char *)concat, strlen(concat), sha);
		free(concat);
		lws_b64_encode_string((const char *)sha, 20, accept, sizeof(accept));
		resp = fmt("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			   "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
		send_all(c, resp, strlen(resp));
		free(resp);
		LOCKED(f, f->stats.upgraded++);
		c->last_rx_ms = now_ms();
		if (bad_key) {
			send_text(c, fmt("{\"message\":\"Invalid API key\",\"error\":\"invalid_api_key\","
					 "\"code\":1008}"));
			send_close(c, 1008, "invalid_api_key");
			c->dead = true;
			return false;
		}
		/* what came after the headers is WebSocket data */
		memmove(c->req, c->req + head_len, c->req_len - head_len);
		c->req_len -= head_len;
		return true;
	}
	/* HTTP: the JSON body */
	{
		char cl[32] = "";
		size_t want, have;
		cJSON *j;
		const cJSON *text;
		char *resp;

		want = header(c->req, "Content-Length", cl, sizeof(cl)) ? (size_t)atol(cl) : 0;
		have = c->req_len - head_len;
		while (have < want && have < sizeof(c->req) - head_len - 1) {
			struct pollfd p = { c->fd, POLLIN, 0 };
			ssize_t n;

			if (poll(&p, 1, 2000) <= 0)
				break;
			n = recv(c->fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len, 0);
			if (n <= 0)
				break;
			c->req_len += (size_t)n;
			have += (size_t)n;
		}
		c->req[c->req_len] = '\0';
		LOCKED(f, snprintf(f->stats.body, sizeof(f->stats.body), "%.*s",
				   (int)sizeof(f->stats.body) - 1, c->req + head_len));
		j = cJSON_Parse(c->req + head_len);
		text = cJSON_GetObjectItemCaseSensitive(j, "text");
		if (!cJSON_IsString(text) || !*text->valuestring) {
			cJSON_Delete(j);
			http_reply(c, 422, "", "{\"detail\":[{\"loc\":[\"body\",\"text\"],"
				   "\"msg\":\"field required\",\"type\":\"value_error.missing\"}]}");
			return false;
		}
		resp = fmt("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n"
			   "request-id: fake-1\r\n\r\n", c->ulaw ? "audio/basic" : "audio/pcm");
		send_all(c, resp, strlen(resp));
		free(resp);
		LOCKED(f, f->stats.http_requests++);
		c->got_text = true;
		generate(c, text->valuestring);
		cJSON_Delete(j);
		return true;
	}
}

/* A client text message on the socket. */
static void on_message(struct conn *c, const char *data, size_t len)
{
	struct fake_elevenlabs *f = c->f;
	cJSON *j = cJSON_ParseWithLength(data, len);
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(j, "text");
	bool flush = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "flush"));

	c->last_rx_ms = now_ms();
	if (!cJSON_IsString(text) && !flush) {
		cJSON_Delete(j);
		send_text(c, fmt("{\"message\":\"Invalid message.\",\"error\":\"invalid_message\","
				 "\"code\":1008}"));
		send_close(c, 1008, "invalid message");
		c->dead = true;
		return;
	}
	if (!c->got_init) {
		/* the first message initialises: a single space */
		if (!cJSON_IsString(text) || strcmp(text->valuestring, " ")) {
			cJSON_Delete(j);
			send_text(c, fmt("{\"message\":\"The first message must be a single space.\","
					 "\"error\":\"invalid_message\",\"code\":1008}"));
			send_close(c, 1008, "invalid message");
			c->dead = true;
			return;
		}
		c->got_init = true;
		LOCKED(f, f->stats.inits++;
		       snprintf(f->stats.init, sizeof(f->stats.init), "%.*s", (int)len, data));
		cJSON_Delete(j);
		return;
	}
	if (cJSON_IsString(text) && !*text->valuestring) {
		/* end of input: generate the rest, then isFinal and close */
		LOCKED(f, f->stats.eos++);
		c->eos = true;
		if (c->text)
			generate(c, c->text);
		free(c->text);
		c->text = NULL;
		cJSON_Delete(j);
		return;
	}
	if (cJSON_IsString(text)) {
		size_t a = c->text ? strlen(c->text) : 0, b = strlen(text->valuestring);
		char *n = realloc(c->text, a + b + 1);

		ck_assert(n);
		memcpy(n + a, text->valuestring, b + 1);
		c->text = n;
		if (strcmp(text->valuestring, " "))
			c->got_text = true;
	}
	if (flush) {
		LOCKED(f, f->stats.flushes++);
		if (c->text)
			generate(c, c->text);
		free(c->text);
		c->text = NULL;
	}
	cJSON_Delete(j);
}

/* Parse the client's frames in c->in. */
static void parse_frames(struct conn *c)
{
	size_t off = 0;

	while (!c->dead) {
		unsigned char *b = c->in + off;
		size_t avail = c->in_len - off, hl = 2, plen;
		int opcode;
		bool fin;

		if (avail < 2)
			break;
		fin = b[0] & 0x80;
		opcode = b[0] & 0x0f;
		plen = b[1] & 0x7f;
		if (plen == 126) {
			if (avail < 4)
				break;
			plen = (size_t)b[2] << 8 | b[3];
			hl = 4;
		} else if (plen == 127) {
			if (avail < 10)
				break;
			plen = 0;
			for (int i = 0; i < 8; i++)
				plen = plen << 8 | b[2 + i];
			hl = 10;
		}
		if (b[1] & 0x80)
			hl += 4;
		if (avail < hl + plen)
			break;
		if (b[1] & 0x80)
			for (size_t i = 0; i < plen; i++)
				b[hl + i] ^= b[hl - 4 + (i & 3)];
		off += hl + plen;
		if (opcode == 8) {
			/* the client closes: a cancel when a sentence was still due */
			struct fake_elevenlabs *f = c->f;

			LOCKED(f, if (c->got_text && !c->final_sent) f->stats.client_closed++;
			       else if (!c->got_text) f->stats.unused_closed++);
			if (!c->closing)
				send_close(c, 1000, "");
			c->dead = true;
			break;
		}
		if (opcode == 9) {
			send_frame(c, 10, b + hl, plen);
			continue;
		}
		if (opcode == 10)
			continue;
		if (opcode == 1 || opcode == 2)
			c->msg_opcode = opcode, c->msg_len = 0;
		c->msg = realloc(c->msg, c->msg_len + plen + 1);
		ck_assert(c->msg);
		memcpy(c->msg + c->msg_len, b + hl, plen);
		c->msg_len += plen;
		if (fin && c->msg_opcode == 1)
			on_message(c, (const char *)c->msg, c->msg_len);
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
}

static void serve(struct conn *c)
{
	struct fake_elevenlabs *f = c->f;
	size_t head_len = 0;

	/* the request head */
	while (!head_len) {
		struct pollfd p[2] = { { c->fd, POLLIN, 0 }, { f->wake[0], POLLIN, 0 } };
		ssize_t n;
		char *end;

		if (poll(p, 2, 5000) <= 0 || p[1].revents)
			return;
		n = recv(c->fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len, 0);
		if (n <= 0)
			return;
		c->req_len += (size_t)n;
		c->req[c->req_len] = '\0';
		end = strstr(c->req, "\r\n\r\n");
		if (end)
			head_len = (size_t)(end - c->req) + 4;
		else if (c->req_len >= sizeof(c->req) - 1)
			return;
	}
	if (!begin(c, head_len))
		return;
	if (c->ws && c->req_len) {
		c->in = malloc(c->req_len);
		ck_assert(c->in);
		memcpy(c->in, c->req, c->req_len);
		c->in_len = c->in_cap = c->req_len;
		parse_frames(c);
	}
	while (!c->dead) {
		struct pollfd p[2] = { { c->fd, POLLIN, 0 }, { f->wake[0], POLLIN, 0 } };
		int64_t now = now_ms();
		int timeout = 50;
		bool sending = c->n_gens && !c->gens[0].stalled;

		if (sending)
			timeout = c->due_ms > now ? (int)(c->due_ms - now) : 0;
		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (p[0].revents) {
			unsigned char buf[16384];
			ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

			if (n <= 0) {
				/* the client went away */
				LOCKED(f, if (c->got_text && !c->final_sent) f->stats.client_closed++;
				       else if (!c->got_text) f->stats.unused_closed++);
				break;
			}
			if (c->ws) {
				if (c->in_len + (size_t)n > c->in_cap) {
					c->in_cap = (c->in_len + (size_t)n) * 2;
					c->in = realloc(c->in, c->in_cap);
					ck_assert(c->in);
				}
				memcpy(c->in + c->in_len, buf, (size_t)n);
				c->in_len += (size_t)n;
				parse_frames(c);
			}
		}
		now = now_ms();
		if (!c->dead && c->n_gens && !c->gens[0].stalled && now >= c->due_ms) {
			if (c->ws)
				ws_send_chunk(c);
			else
				http_send_chunk(c);
			c->due_ms = now + f->cfg.pace_ms;
		}
		if (c->ws && !c->dead && c->eos && !c->n_gens && !c->final_sent) {
			send_text(c, fmt("{\"isFinal\":true}"));
			send_close(c, 1000, "");
			c->final_sent = true;
			LOCKED(f, f->stats.completed++);
		}
		if (c->ws && !c->dead && !c->n_gens && !c->eos && c->inactivity_ms > 0 &&
		    now - c->last_rx_ms > c->inactivity_ms) {
			send_text(c, fmt("{\"message\":\"Have not received a new text input within the "
					 "timeout of %d seconds. Streaming input terminated.\","
					 "\"error\":\"input_timeout_exceeded\",\"code\":1008}",
					 c->inactivity_ms / 1000));
			send_close(c, 1008, "input timeout");
			break;
		}
		if (!c->ws && c->final_sent)
			break;
	}
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;
	struct fake_elevenlabs *f = c->f;

	LOCKED(f, f->stats.open++);
	serve(c);
	close(c->fd);
	LOCKED(f, f->stats.open--);
	while (c->n_gens)
		gen_pop(c);
	free(c->text);
	free(c->in);
	free(c->msg);
	free(c);
	return NULL;
}

static void *accept_thread(void *arg)
{
	struct fake_elevenlabs *f = arg;
	int fd;

	while ((fd = loopback_accept(f->listen_fd, f->wake[0])) >= 0) {
		struct conn *c = calloc(1, sizeof(*c));

		ck_assert(c);
		c->f = f;
		c->fd = fd;
		pthread_mutex_lock(&f->lock);
		if (f->n_conns == MAX_CONNS || f->stop) {
			pthread_mutex_unlock(&f->lock);
			close(fd);
			free(c);
			continue;
		}
		ck_assert(pthread_create(&f->threads[f->n_conns], NULL, conn_thread, c) == 0);
		f->n_conns++;
		pthread_mutex_unlock(&f->lock);
	}
	return NULL;
}

struct fake_elevenlabs *fake_elevenlabs_start(const struct fake_elevenlabs_config *cfg)
{
	struct fake_elevenlabs *f = calloc(1, sizeof(*f));

	ck_assert(f);
	f->cfg = *cfg;
	if (f->cfg.chunk_ms <= 0)
		f->cfg.chunk_ms = 100;
	f->listen_fd = loopback_listen(64, &f->port);
	ck_assert(pipe(f->wake) == 0);
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", f->port);
	ck_assert(pthread_create(&f->accept_thread, NULL, accept_thread, f) == 0);
	return f;
}

const char *fake_elevenlabs_url(const struct fake_elevenlabs *f)
{
	return f->url;
}

void fake_elevenlabs_get_stats(struct fake_elevenlabs *f, struct fake_elevenlabs_stats *out)
{
	pthread_mutex_lock(&f->lock);
	*out = f->stats;
	pthread_mutex_unlock(&f->lock);
}

bool fake_elevenlabs_wait(struct fake_elevenlabs *f,
			  bool (*cond)(const struct fake_elevenlabs_stats *s, void *arg),
			  void *arg, int timeout_ms)
{
	struct timespec until;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&f->lock);
	while (!(ok = cond(&f->stats, arg)))
		if (pthread_cond_timedwait(&f->cond, &f->lock, &until) != 0)
			break;
	ok = cond(&f->stats, arg);
	pthread_mutex_unlock(&f->lock);
	return ok;
}

void fake_elevenlabs_stop(struct fake_elevenlabs *f)
{
	int n;

	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	pthread_mutex_unlock(&f->lock);
	ck_assert(write(f->wake[1], "x", 1) == 1);
	pthread_join(f->accept_thread, NULL);
	pthread_mutex_lock(&f->lock);
	n = f->n_conns;
	pthread_mutex_unlock(&f->lock);
	for (int i = 0; i < n; i++)
		pthread_join(f->threads[i], NULL);
	close(f->listen_fd);
	close(f->wake[0]);
	close(f->wake[1]);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
	free(f);
}
