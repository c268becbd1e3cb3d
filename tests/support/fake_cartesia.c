/*
 * fake_cartesia.c — a loopback fake of Cartesia's TTS WebSocket on a
 * plain-socket WebSocket server of its own (support/ws_server.c, independent
 * of the lws client it tests), a thread per connection. See fake_cartesia.h.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <libwebsockets.h>
#include <math.h>
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
#include "support/fake_cartesia.h"
#include "support/loopback.h"
#include "support/ws_server.h"

#define MAX_CONNS    32
#define MAX_CONTEXTS 8

struct fake_cartesia {
	struct fake_cartesia_config cfg;
	int listen_fd, port, wake[2];
	pthread_t thread;
	pthread_t conns[MAX_CONNS];
	int n_conns;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct fake_cartesia_stats stats;
	char url[64];
};

struct context {
	bool used, last, timestamps, first_sent, flush;
	char id[64];
	unsigned char *audio;        /* encoded bytes still to send */
	size_t len, off, chunk;
	int64_t due_ms;
	char words[512];
	double seconds;
};

struct conn {
	struct fake_cartesia *f;
	struct ws_conn ws;
	bool upgraded, stalled;
	struct context ctx[MAX_CONTEXTS];
	int chunks;                  /* sent on this connection */
	int flush_id;                /* the last flush_done's id */
	bool error_sent, malformed_sent;
};

#define STAT_ADD(f, field, v) do { \
	pthread_mutex_lock(&(f)->lock); (f)->stats.field += (v); \
	pthread_cond_broadcast(&(f)->cond); pthread_mutex_unlock(&(f)->lock); } while (0)

/* A text frame of the malloc'd `s`, which it frees. */
static void send_text(struct conn *c, char *s)
{
	ws_send_text_and_free(&c->ws, s);
}

static void send_error(struct conn *c, const char *ctx, int status, const char *title,
		       const char *message, const char *code)
{
	send_text(c, ws_fmt("{\"type\":\"error\",\"context_id\":\"%s\",\"status_code\":%d,"
			 "\"done\":true,\"title\":\"%s\",\"message\":\"%s\","
			 "\"error_code\":\"%s\",\"request_id\":\"fake-req\"}",
			 ctx, status, title, message, code));
}

/* ---- audio ---- */

static float *synth(const char *text, int rate, size_t *n)
{
	struct vagent_audio *a = NULL;
	struct vagent_error err;
	float *s;

	ck_assert_msg(vagent_flite_synth(text, "slt", rate, &a, &err) == VAGENT_OK, "%s",
		      err.message);
	s = malloc((a->frames + 1) * sizeof(*s));
	ck_assert(s);
	memcpy(s, a->samples, a->frames * sizeof(*s));
	*n = a->frames;
	vagent_audio_free(a);
	return s;
}

long fake_cartesia_samples_for(const char *text, int rate)
{
	size_t n;
	float *s = synth(text, rate, &n);

	free(s);
	return (long)n;
}

static struct context *find_ctx(struct conn *c, const char *id, bool create)
{
	struct context *freec = NULL;

	for (int i = 0; i < MAX_CONTEXTS; i++) {
		if (c->ctx[i].used && !strcmp(c->ctx[i].id, id))
			return &c->ctx[i];
		if (!c->ctx[i].used && !freec)
			freec = &c->ctx[i];
	}
	if (!create || !freec)
		return NULL;
	memset(freec, 0, sizeof(*freec));
	freec->used = true;
	snprintf(freec->id, sizeof(freec->id), "%s", id);
	return freec;
}

static void ctx_free(struct context *x)
{
	free(x->audio);
	memset(x, 0, sizeof(*x));
}

static void on_request(struct conn *c, cJSON *j)
{
	struct fake_cartesia *f = c->f;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "context_id");
	const cJSON *tr = cJSON_GetObjectItemCaseSensitive(j, "transcript");
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model_id");
	const cJSON *voice = cJSON_GetObjectItemCaseSensitive(j, "voice");
	const cJSON *of = cJSON_GetObjectItemCaseSensitive(j, "output_format");
	const cJSON *lang = cJSON_GetObjectItemCaseSensitive(j, "language");
	const cJSON *cont = cJSON_GetObjectItemCaseSensitive(j, "continue");
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(j, "add_timestamps");
	const cJSON *container = cJSON_GetObjectItemCaseSensitive(of, "container");
	const cJSON *enc = cJSON_GetObjectItemCaseSensitive(of, "encoding");
	const cJSON *rate = cJSON_GetObjectItemCaseSensitive(of, "sample_rate");
	const char *vid = NULL, *cid;
	struct context *x;
	bool mulaw;
	int r;

	if (cJSON_IsString(voice))
		vid = voice->valuestring;
	else if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(voice, "id")))
		vid = cJSON_GetObjectItemCaseSensitive(voice, "id")->valuestring;
	cid = cJSON_IsString(id) ? id->valuestring : "";
	pthread_mutex_lock(&f->lock);
	f->stats.requests++;
	snprintf(f->stats.context_id, sizeof(f->stats.context_id), "%s", cid);
	snprintf(f->stats.transcript, sizeof(f->stats.transcript), "%s",
		 cJSON_IsString(tr) ? tr->valuestring : "");
	snprintf(f->stats.model_id, sizeof(f->stats.model_id), "%s",
		 cJSON_IsString(model) ? model->valuestring : "");
	snprintf(f->stats.voice, sizeof(f->stats.voice), "%s", vid ? vid : "");
	snprintf(f->stats.encoding, sizeof(f->stats.encoding), "%s",
		 cJSON_IsString(enc) ? enc->valuestring : "");
	f->stats.sample_rate = cJSON_IsNumber(rate) ? rate->valueint : 0;
	snprintf(f->stats.language, sizeof(f->stats.language), "%s",
		 cJSON_IsString(lang) ? lang->valuestring : "");
	f->stats.continue_flag = cJSON_IsTrue(cont);
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);

	if (!*cid || !cJSON_IsString(tr) || !cJSON_IsString(model))
		return send_error(c, cid, 400, "Invalid request",
				  "context_id, model_id and transcript are required",
				  "invalid_request");
	if (!vid || (f->cfg.voice && strcmp(vid, f->cfg.voice)))
		return send_error(c, cid, 400, "Invalid voice", "Voice not found",
				  "voice_not_found");
	mulaw = cJSON_IsString(enc) && !strcmp(enc->valuestring, "pcm_mulaw");
	r = cJSON_IsNumber(rate) ? rate->valueint : 0;
	if (!cJSON_IsString(container) || strcmp(container->valuestring, "raw") ||
	    !cJSON_IsString(enc) || (!mulaw && strcmp(enc->valuestring, "pcm_s16le")) ||
	    (r != 8000 && r != 16000 && r != 22050 && r != 24000 && r != 44100 && r != 48000) ||
	    (mulaw && r != 8000))
		return send_error(c, cid, 400, "Invalid output format",
				  "the fake serves raw pcm_s16le or pcm_mulaw at 8000",
				  "invalid_output_format");
	x = find_ctx(c, cid, true);
	if (!x)
		return send_error(c, cid, 429, "Too many contexts", "Too many concurrent contexts",
				  "too_many_contexts");
	if (*tr->valuestring) {
		size_t n, bytes = 0;
		float *s = synth(tr->valuestring, r, &n);
		unsigned char *a;

		bytes = mulaw ? n : 2 * n;
		a = realloc(x->audio, x->len + bytes + 1);
		ck_assert(a);
		x->audio = a;
		for (size_t i = 0; i < n; i++) {
			float v = s[i] * 32767.f;
			int16_t q = v > 32767.f ? 32767 : v < -32768.f ? -32768 : (int16_t)lrintf(v);

			if (mulaw) {
				x->audio[x->len + i] = vagent_ulaw_encode(q);
			} else {
				x->audio[x->len + 2 * i] = (unsigned char)(q & 0xff);
				x->audio[x->len + 2 * i + 1] = (unsigned char)((uint16_t)q >> 8);
			}
		}
		x->len += bytes;
		x->seconds += (double)n / r;
		snprintf(x->words + strlen(x->words), sizeof(x->words) - strlen(x->words), "%s%s",
			 *x->words ? " " : "", tr->valuestring);
		free(s);
	}
	x->chunk = (size_t)(f->cfg.chunk_ms > 0 ? f->cfg.chunk_ms : 40) * (size_t)r / 1000 *
		   (mulaw ? 1 : 2);
	x->last = !cJSON_IsTrue(cont);
	x->timestamps = cJSON_IsTrue(ts) || f->cfg.extras;
	x->flush = x->flush || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "flush")) ||
		   f->cfg.extras;
	if (!x->first_sent && !x->due_ms)
		x->due_ms = ws_now_ms() + f->cfg.first_chunk_delay_ms;
}

static void on_text(struct conn *c, const char *text, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(text, len);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "context_id");

	if (!cJSON_IsObject(j)) {
		send_error(c, "", 400, "Invalid JSON", "Could not parse the message", "bad_json");
	} else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "cancel"))) {
		struct context *x = cJSON_IsString(id) ? find_ctx(c, id->valuestring, false) : NULL;

		STAT_ADD(c->f, cancels, 1);
		if (x)
			ctx_free(x);
		else
			STAT_ADD(c->f, late_cancels, 1);
	} else {
		on_request(c, j);
	}
	cJSON_Delete(j);
}

/* Send what is due; the wait until the next thing is due (ms, -1 none). */
static int pump(struct conn *c)
{
	struct fake_cartesia *f = c->f;
	int wait = -1;

	for (int i = 0; i < MAX_CONTEXTS && !c->ws.dead && !c->stalled; i++) {
		struct context *x = &c->ctx[i];
		int64_t now = ws_now_ms();

		if (x->used && x->flush && x->off >= x->len) {
			/* all audio asked for so far has gone: the flush is done */
			x->flush = false;
			send_text(c, ws_fmt("{\"type\":\"flush_done\",\"context_id\":\"%s\","
					 "\"status_code\":206,\"done\":false,\"flush_done\":true,"
					 "\"flush_id\":%d}", x->id, ++c->flush_id));
			STAT_ADD(f, flush_done, 1);
		}
		if (!x->used || (x->off >= x->len && !x->last))
			continue;
		if (x->due_ms > now) {
			int d = (int)(x->due_ms - now);

			wait = wait < 0 || d < wait ? d : wait;
			continue;
		}
		if (f->cfg.stall_after_chunks > 0 && c->chunks >= f->cfg.stall_after_chunks) {
			c->stalled = true;
			break;
		}
		if (f->cfg.close_after_chunks > 0 && c->chunks >= f->cfg.close_after_chunks) {
			shutdown(c->ws.fd, SHUT_RDWR);
			c->ws.dead = true;
			break;
		}
		if (f->cfg.malformed_after_chunks > 0 && !c->malformed_sent &&
		    c->chunks >= f->cfg.malformed_after_chunks) {
			static const char broken[] = "{\"type\":\"chunk\",\"context_id\":\"x\",\"da";

			c->malformed_sent = true;
			ws_send_frame(&c->ws, 1, broken, sizeof(broken) - 1);
			continue;
		}
		if (f->cfg.error_status && !c->error_sent && c->chunks >= f->cfg.error_after_chunks) {
			c->error_sent = true;
			if (f->cfg.error_status == 401)
				send_error(c, x->id, 401, "Unauthorized", "Invalid API key",
					   "unauthorized");
			else
				send_error(c, x->id, f->cfg.error_status, "Generation failed",
					   "The model is overloaded", "generation_failed");
			ctx_free(x);
			continue;
		}
		if (x->off < x->len) {
			size_t k = x->len - x->off < x->chunk ? x->len - x->off : x->chunk;
			size_t cap = k / 3 * 4 + 8;
			char *b64 = malloc(cap);

			ck_assert(b64);
			ck_assert(lws_b64_encode_string((const char *)x->audio + x->off, (int)k, b64,
							(int)cap) >= 0);
			send_text(c, ws_fmt("{\"type\":\"chunk\",\"context_id\":\"%s\",\"status_code\":206,"
					 "\"done\":false,\"step_time\":12.5,\"data\":\"%s\"}", x->id, b64));
			free(b64);
			x->off += k;
			x->first_sent = true;
			c->chunks++;
			STAT_ADD(f, chunks, 1);
			x->due_ms = ws_now_ms() + f->cfg.pace_ms;
			if (x->off < x->len || x->last)
				wait = wait < 0 || f->cfg.pace_ms < wait ? f->cfg.pace_ms : wait;
			continue;
		}
		/* all sent and the context closed */
		if (x->timestamps)
			send_text(c, ws_fmt("{\"type\":\"timestamps\",\"context_id\":\"%s\","
					 "\"status_code\":206,\"done\":false,\"word_timestamps\":"
					 "{\"words\":[\"%.100s\"],\"start\":[0.0],\"end\":[%.3f]}}",
					 x->id, x->words, x->seconds));
		STAT_ADD(f, done, 1);   /* before the client can know */
		send_text(c, ws_fmt("{\"type\":\"done\",\"context_id\":\"%s\",\"status_code\":200,"
				 "\"done\":true}", x->id));
		ctx_free(x);
	}
	return wait;
}

/* ---- frames ---- */

static void on_message(void *arg, int opcode, unsigned char *data, size_t len)
{
	if (opcode == WS_TEXT)
		on_text(arg, (const char *)data, len);
}

/* The client closes: answered with 1000. */
static void on_close(void *arg, int code)
{
	struct conn *c = arg;

	(void)code;
	ws_send_close(&c->ws, 1000, "");
	STAT_ADD(c->f, client_closed, 1);
}

static const struct ws_handlers handlers = { on_message, on_close };

/* ---- the upgrade ---- */

static void http_error(struct conn *c, int status, const char *msg)
{
	char *body = ws_fmt("{\"error\":\"%s\"}", msg);

	http_reply(&c->ws, status, "", body);
	free(body);
}

static void upgrade(struct conn *c)
{
	struct fake_cartesia *f = c->f;
	char path[256] = "", key[128] = "", xkey[256], auth[256], version[64];
	bool key_ok;

	sscanf(c->ws.req, "GET %255s", path);
	http_header(c->ws.req, "X-API-Key", xkey, sizeof(xkey));
	http_header(c->ws.req, "Authorization", auth, sizeof(auth));
	http_header(c->ws.req, "Cartesia-Version", version, sizeof(version));
	pthread_mutex_lock(&f->lock);
	f->stats.connections++;
	snprintf(f->stats.api_key_header, sizeof(f->stats.api_key_header), "%.150s", xkey);
	snprintf(f->stats.auth, sizeof(f->stats.auth), "%.150s", auth);
	snprintf(f->stats.version, sizeof(f->stats.version), "%s", version);
	snprintf(f->stats.path, sizeof(f->stats.path), "%s", path);
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	if (!http_header(c->ws.req, "Sec-WebSocket-Key", key, sizeof(key)))
		return http_error(c, 400, "not a WebSocket upgrade");
	if (strncmp(path, "/tts/websocket", 14) || (path[14] && path[14] != '?'))
		return http_error(c, 404, "no such endpoint");
	if (f->cfg.upgrade_status)
		return http_error(c, f->cfg.upgrade_status, f->cfg.upgrade_status == 401
				  ? "Invalid API key" : "Internal error");
	key_ok = (*xkey && (!f->cfg.api_key || !strcmp(xkey, f->cfg.api_key))) ||
		 (!strncmp(auth, "Bearer ", 7) && auth[7] &&
		  (!f->cfg.api_key || !strcmp(auth + 7, f->cfg.api_key)));
	if (!key_ok)
		return http_error(c, 401, "Invalid API key");
	if (!*version)
		return http_error(c, 400, "Cartesia-Version header is required");
	ws_upgrade_accept(&c->ws, key, "");
	c->upgraded = true;
	STAT_ADD(f, upgraded, 1);
}

/* ---- the connection threads ---- */

static void serve(struct conn *c)
{
	struct fake_cartesia *f = c->f;

	while (!c->ws.dead) {
		struct pollfd p[2] = { { c->ws.fd, POLLIN, 0 }, { f->wake[0], POLLIN, 0 } };
		int wait = c->upgraded ? pump(c) : -1;

		if (c->ws.dead)
			break;
		if (poll(p, 2, wait < 0 || wait > 200 ? 200 : wait) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			char buf[16384];
			ssize_t n = recv(c->ws.fd, buf, sizeof(buf), 0);

			if (n <= 0) {
				if (n < 0 && errno == EINTR)
					continue;
				if (c->upgraded)
					STAT_ADD(f, client_closed, 1);
				break;
			}
			if (!c->upgraded) {
				long used = ws_request_add(&c->ws, buf, (size_t)n);

				if (used < 0) {
					http_error(c, 400, "request too large");
					break;
				}
				if (used > 0) {
					upgrade(c);
					if (c->upgraded && c->ws.req_len > (size_t)used) {
						ws_feed(&c->ws, c->ws.req + used, c->ws.req_len - (size_t)used);
						ws_parse_frames(&c->ws, &handlers, c);
					}
				}
			} else {
				ws_feed(&c->ws, buf, (size_t)n);
				ws_parse_frames(&c->ws, &handlers, c);
			}
		}
	}
	for (int i = 0; i < MAX_CONTEXTS; i++)
		ctx_free(&c->ctx[i]);
	close(c->ws.fd);
	ws_conn_release(&c->ws);
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;

	serve(c);
	free(c);
	return NULL;
}

static void *server_main(void *arg)
{
	struct fake_cartesia *f = arg;
	int fd;

	while ((fd = loopback_accept(f->listen_fd, f->wake[0])) >= 0) {
		struct conn *c = calloc(1, sizeof(*c));

		ck_assert(c);
		c->f = f;
		c->ws.fd = fd;
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

struct fake_cartesia *fake_cartesia_start(const struct fake_cartesia_config *cfg)
{
	struct fake_cartesia *f = calloc(1, sizeof(*f));

	ck_assert(f);
	if (cfg)
		f->cfg = *cfg;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	ck_assert(pipe(f->wake) == 0);
	f->listen_fd = loopback_listen(8, &f->port);
	snprintf(f->url, sizeof(f->url), "ws://127.0.0.1:%d/tts/websocket", f->port);
	ck_assert(pthread_create(&f->thread, NULL, server_main, f) == 0);
	return f;
}

const char *fake_cartesia_url(const struct fake_cartesia *f)
{
	return f->url;
}

void fake_cartesia_get_stats(struct fake_cartesia *f, struct fake_cartesia_stats *out)
{
	pthread_mutex_lock(&f->lock);
	*out = f->stats;
	pthread_mutex_unlock(&f->lock);
}

bool fake_cartesia_wait(struct fake_cartesia *f,
			bool (*cond)(const struct fake_cartesia_stats *s, void *arg),
			void *arg, int timeout_ms)
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
	while (!(ok = cond(&f->stats, arg)))
		if (pthread_cond_timedwait(&f->cond, &f->lock, &until) == ETIMEDOUT) {
			ok = cond(&f->stats, arg);
			break;
		}
	pthread_mutex_unlock(&f->lock);
	return ok;
}

void fake_cartesia_stop(struct fake_cartesia *f)
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
