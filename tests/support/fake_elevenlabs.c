/*
 * fake_elevenlabs.c — a loopback fake of ElevenLabs TTS (stream-input
 * WebSocket and HTTP /stream) on a plain-socket server of its own
 * (support/ws_server.c), a thread per connection so a provider's spare
 * socket and its current one can be open at once. Speech is flite's
 * (vagent_flite_synth) in the requested output_format. See
 * fake_elevenlabs.h and docs/providers.md.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <libwebsockets.h>
#include <poll.h>
#include <pthread.h>
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
#include "support/ws_server.h"

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
	struct ws_conn ws;
	bool websocket;             /* stream-input, not HTTP /stream */
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

struct fake_elevenlabs_config fake_elevenlabs_config_default(void)
{
	struct fake_elevenlabs_config c = { 0 };

	c.chunk_ms = 100;
	c.pace_ms = 10;
	return c;
}

#define LOCKED(f, stmt) do { pthread_mutex_lock(&(f)->lock); stmt; \
	pthread_cond_broadcast(&(f)->cond); pthread_mutex_unlock(&(f)->lock); } while (0)

/* A text frame of the malloc'd `s`, which it frees. */
static void send_text(struct conn *c, char *s)
{
	ws_send_text_and_free(&c->ws, s);
}

/* Refuse the request with `status` and JSON `body`. */
static void refuse_request(struct conn *c, int status, const char *extra, const char *body)
{
	http_reply(&c->ws, status, extra, body);
	LOCKED(c->f, c->f->stats.refused++);
}

static void http_error(struct conn *c, int status, const char *code, const char *msg)
{
	char *body = ws_fmt("{\"detail\":{\"status\":\"%s\",\"message\":\"%s\"}}", code, msg);

	refuse_request(c, status, "", body);
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
		c->due_ms = ws_now_ms() + (g->faulty ? f->cfg.first_byte_delay_ms : 0);
}

static void gen_pop(struct conn *c)
{
	free(c->gens[0].audio);
	memmove(c->gens, c->gens + 1, (size_t)(c->n_gens - 1) * sizeof(c->gens[0]));
	c->n_gens--;
	if (c->n_gens)
		c->due_ms = ws_now_ms() + (c->gens[0].faulty ? c->f->cfg.first_byte_delay_ms : 0);
}

/* Vanish: no close frame, no last chunk. */
static void vanish(struct conn *c)
{
	shutdown(c->ws.fd, SHUT_RDWR);
	c->ws.dead = true;
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
			send_text(c, ws_fmt("{\"message\":\"Something went wrong while generating.\","
					 "\"error\":\"%s\",\"code\":1008}", f->cfg.error_after_drop));
			ws_send_close(&c->ws, 1008, "something went wrong");
			c->ws.dead = true;
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

		ws_send_frame(&c->ws, 1, broken, sizeof(broken) - 1);
		g->chunks++;
		return;
	}
	if (g->faulty && f->cfg.bad_audio_at_chunk > 0 &&
	    g->chunks + 1 == f->cfg.bad_audio_at_chunk) {
		send_text(c, ws_fmt("{\"audio\":\"%%%%not*base64!\",\"isFinal\":null}"));
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
		align = ws_fmt("{\"chars\":[%s],\"charStartTimesMs\":[%s],\"charDurationsMs\":[%s]}",
			    chars, starts, durs);
		free(chars);
		free(starts);
		free(durs);
	}
	send_text(c, ws_fmt("{\"audio\":\"%s\",\"isFinal\":null,\"normalizedAlignment\":%s,"
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
	ws_send_all(&c->ws, head, strlen(head));
	ws_send_all(&c->ws, g->audio + g->pos, n);
	ws_send_all(&c->ws, "\r\n", 2);
	g->pos += n;
	g->chunks++;
	if (g->pos >= g->len) {
		/* counted before the end goes out: once the client has it, a
		 * test may read the stats at once */
		LOCKED(f, f->stats.completed++);
		ws_send_all(&c->ws, "0\r\n\r\n", 5);
		gen_pop(c);
		c->final_sent = true;
	}
}

/* ---- requests ---- */

static bool set_format(struct conn *c, const char *q)
{
	char v[32] = "";

	if (!http_query_param(q, "output_format", v, sizeof(v)))
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

	sscanf(c->ws.req, "%7s %1023s", method, target);
	q = strchr(target, '?');
	if (q)
		*q++ = '\0';
	http_header(c->ws.req, "xi-api-key", key, sizeof(key));
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
	c->websocket = !strcmp(rest, "/stream-input") && !strcmp(method, "GET");
	if (!c->websocket && !(!strcmp(rest, "/stream") && !strcmp(method, "POST"))) {
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
		refuse_request(c, st, extra,
			   st == 401 ? "{\"detail\":{\"status\":\"invalid_api_key\",\"message\":\"Invalid API key\"}}"
			   : st == 429 ? "{\"detail\":{\"status\":\"too_many_concurrent_requests\","
					 "\"message\":\"Too many concurrent requests.\"}}"
			   : "{\"detail\":{\"status\":\"something_went_wrong\",\"message\":\"Something went wrong.\"}}");
		return false;
	}
	bad_key = !key[0] || (f->cfg.api_key && strcmp(key, f->cfg.api_key));
	if (bad_key && !(c->websocket && f->cfg.auth_in_socket)) {
		http_error(c, 401, "invalid_api_key", "Invalid API key");
		return false;
	}
	if (!set_format(c, q ? q : "")) {
		http_error(c, 400, "invalid_output_format", "the fake speaks pcm_* and ulaw_8000 only");
		return false;
	}
	if (c->websocket) {
		char v[16];

		if (!http_header(c->ws.req, "Sec-WebSocket-Key", wskey, sizeof(wskey))) {
			http_error(c, 400, "bad_request", "not a WebSocket upgrade");
			return false;
		}
		c->inactivity_ms = 20000;
		if (http_query_param(q ? q : "", "inactivity_timeout", v, sizeof(v)))
			c->inactivity_ms = atoi(v) * 1000;
		ws_upgrade_accept(&c->ws, wskey, "");
		LOCKED(f, f->stats.upgraded++);
		c->last_rx_ms = ws_now_ms();
		if (bad_key) {
			send_text(c, ws_fmt("{\"message\":\"Invalid API key\",\"error\":\"invalid_api_key\","
					 "\"code\":1008}"));
			ws_send_close(&c->ws, 1008, "invalid_api_key");
			c->ws.dead = true;
			return false;
		}
		/* what came after the headers is WebSocket data */
		memmove(c->ws.req, c->ws.req + head_len, c->ws.req_len - head_len);
		c->ws.req_len -= head_len;
		return true;
	}
	/* HTTP: the JSON body */
	{
		char cl[32] = "";
		size_t want, have;
		cJSON *j;
		const cJSON *text;
		char *resp;

		want = http_header(c->ws.req, "Content-Length", cl, sizeof(cl)) ? (size_t)atol(cl) : 0;
		have = c->ws.req_len - head_len;
		while (have < want && have < sizeof(c->ws.req) - head_len - 1) {
			struct pollfd p = { c->ws.fd, POLLIN, 0 };
			ssize_t n;

			if (poll(&p, 1, 2000) <= 0)
				break;
			n = recv(c->ws.fd, c->ws.req + c->ws.req_len,
				 sizeof(c->ws.req) - 1 - c->ws.req_len, 0);
			if (n <= 0)
				break;
			c->ws.req_len += (size_t)n;
			have += (size_t)n;
		}
		c->ws.req[c->ws.req_len] = '\0';
		LOCKED(f, snprintf(f->stats.body, sizeof(f->stats.body), "%.*s",
				   (int)sizeof(f->stats.body) - 1, c->ws.req + head_len));
		j = cJSON_Parse(c->ws.req + head_len);
		text = cJSON_GetObjectItemCaseSensitive(j, "text");
		if (!cJSON_IsString(text) || !*text->valuestring) {
			cJSON_Delete(j);
			refuse_request(c, 422, "", "{\"detail\":[{\"loc\":[\"body\",\"text\"],"
				   "\"msg\":\"field required\",\"type\":\"value_error.missing\"}]}");
			return false;
		}
		resp = ws_fmt("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n"
			   "request-id: fake-1\r\n\r\n", c->ulaw ? "audio/basic" : "audio/pcm");
		ws_send_all(&c->ws, resp, strlen(resp));
		free(resp);
		LOCKED(f, f->stats.http_requests++);
		c->got_text = true;
		generate(c, text->valuestring);
		cJSON_Delete(j);
		return true;
	}
}

/* A client text message on the socket. */
static void on_text(struct conn *c, const char *data, size_t len)
{
	struct fake_elevenlabs *f = c->f;
	cJSON *j = cJSON_ParseWithLength(data, len);
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(j, "text");
	bool flush = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "flush"));

	c->last_rx_ms = ws_now_ms();
	if (!cJSON_IsString(text) && !flush) {
		cJSON_Delete(j);
		send_text(c, ws_fmt("{\"message\":\"Invalid message.\",\"error\":\"invalid_message\","
				 "\"code\":1008}"));
		ws_send_close(&c->ws, 1008, "invalid message");
		c->ws.dead = true;
		return;
	}
	if (!c->got_init) {
		/* the first message initialises: a single space */
		if (!cJSON_IsString(text) || strcmp(text->valuestring, " ")) {
			cJSON_Delete(j);
			send_text(c, ws_fmt("{\"message\":\"The first message must be a single space.\","
					 "\"error\":\"invalid_message\",\"code\":1008}"));
			ws_send_close(&c->ws, 1008, "invalid message");
			c->ws.dead = true;
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

static void on_message(void *arg, int opcode, unsigned char *data, size_t len)
{
	if (opcode == WS_TEXT)
		on_text(arg, (const char *)data, len);
}

/* The client closes: a cancel when a sentence was still due. */
static void on_close(void *arg, int code)
{
	struct conn *c = arg;
	struct fake_elevenlabs *f = c->f;

	(void)code;
	LOCKED(f, if (c->got_text && !c->final_sent) f->stats.client_closed++;
	       else if (!c->got_text) f->stats.unused_closed++);
	if (!c->ws.closing)
		ws_send_close(&c->ws, 1000, "");
}

static const struct ws_handlers handlers = { on_message, on_close };

static void serve(struct conn *c)
{
	struct fake_elevenlabs *f = c->f;
	size_t head_len = 0;

	/* the request head */
	while (!head_len) {
		struct pollfd p[2] = { { c->ws.fd, POLLIN, 0 }, { f->wake[0], POLLIN, 0 } };
		ssize_t n;
		char *end;

		if (poll(p, 2, 5000) <= 0 || p[1].revents)
			return;
		n = recv(c->ws.fd, c->ws.req + c->ws.req_len,
			 sizeof(c->ws.req) - 1 - c->ws.req_len, 0);
		if (n <= 0)
			return;
		c->ws.req_len += (size_t)n;
		c->ws.req[c->ws.req_len] = '\0';
		end = strstr(c->ws.req, "\r\n\r\n");
		if (end)
			head_len = (size_t)(end - c->ws.req) + 4;
		else if (c->ws.req_len >= sizeof(c->ws.req) - 1)
			return;
	}
	if (!begin(c, head_len))
		return;
	if (c->websocket && c->ws.req_len) {
		ws_feed(&c->ws, c->ws.req, c->ws.req_len);
		ws_parse_frames(&c->ws, &handlers, c);
	}
	while (!c->ws.dead) {
		struct pollfd p[2] = { { c->ws.fd, POLLIN, 0 }, { f->wake[0], POLLIN, 0 } };
		int64_t now = ws_now_ms();
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
			ssize_t n = recv(c->ws.fd, buf, sizeof(buf), 0);

			if (n <= 0) {
				/* the client went away */
				LOCKED(f, if (c->got_text && !c->final_sent) f->stats.client_closed++;
				       else if (!c->got_text) f->stats.unused_closed++);
				break;
			}
			if (c->websocket) {
				ws_feed(&c->ws, buf, (size_t)n);
				ws_parse_frames(&c->ws, &handlers, c);
			}
		}
		now = ws_now_ms();
		if (!c->ws.dead && c->n_gens && !c->gens[0].stalled && now >= c->due_ms) {
			if (c->websocket)
				ws_send_chunk(c);
			else
				http_send_chunk(c);
			c->due_ms = now + f->cfg.pace_ms;
		}
		if (c->websocket && !c->ws.dead && c->eos && !c->n_gens && !c->final_sent) {
			LOCKED(f, f->stats.completed++);   /* before the client can know */
			send_text(c, ws_fmt("{\"isFinal\":true}"));
			ws_send_close(&c->ws, 1000, "");
			c->final_sent = true;
		}
		if (c->websocket && !c->ws.dead && !c->n_gens && !c->eos && c->inactivity_ms > 0 &&
		    now - c->last_rx_ms > c->inactivity_ms) {
			send_text(c, ws_fmt("{\"message\":\"Have not received a new text input within the "
					 "timeout of %d seconds. Streaming input terminated.\","
					 "\"error\":\"input_timeout_exceeded\",\"code\":1008}",
					 c->inactivity_ms / 1000));
			ws_send_close(&c->ws, 1008, "input timeout");
			break;
		}
		if (!c->websocket && c->final_sent)
			break;
	}
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;
	struct fake_elevenlabs *f = c->f;

	LOCKED(f, f->stats.open++);
	serve(c);
	close(c->ws.fd);
	LOCKED(f, f->stats.open--);
	while (c->n_gens)
		gen_pop(c);
	free(c->text);
	ws_conn_release(&c->ws);
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
		c->ws.fd = fd;
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
