/*
 * fake_cartesia.c — a loopback fake of Cartesia's TTS WebSocket on a
 * plain-socket WebSocket server of its own (independent of the lws client
 * it tests), a thread per connection. See fake_cartesia.h.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <libwebsockets.h>
#include <math.h>
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
#include "support/fake_cartesia.h"
#include "support/loopback.h"

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
	int fd;
	bool ws, dead, stalled;
	char req[8192];
	size_t req_len;
	unsigned char *in, *msg;
	size_t in_len, in_cap, msg_len, msg_cap;
	int msg_opcode;
	struct context ctx[MAX_CONTEXTS];
	int chunks;                  /* sent on this connection */
	int flush_id;                /* the last flush_done's id */
	bool error_sent, malformed_sent;
};

#define STAT_ADD(f, field, v) do { \
	pthread_mutex_lock(&(f)->lock); (f)->stats.field += (v); \
	pthread_cond_broadcast(&(f)->cond); pthread_mutex_unlock(&(f)->lock); } while (0)

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

static void send_error(struct conn *c, const char *ctx, int status, const char *title,
		       const char *message, const char *code)
{
	send_text(c, fmt("{\"type\":\"error\",\"context_id\":\"%s\",\"status_code\":%d,"
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
		x->due_ms = now_ms() + f->cfg.first_chunk_delay_ms;
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

	for (int i = 0; i < MAX_CONTEXTS && !c->dead && !c->stalled; i++) {
		struct context *x = &c->ctx[i];
		int64_t now = now_ms();

		if (x->used && x->flush && x->off >= x->len) {
			/* all audio asked for so far has gone: the flush is done */
			x->flush = false;
			send_text(c, fmt("{\"type\":\"flush_done\",\"context_id\":\"%s\","
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
			shutdown(c->fd, SHUT_RDWR);
			c->dead = true;
			break;
		}
		if (f->cfg.malformed_after_chunks > 0 && !c->malformed_sent &&
		    c->chunks >= f->cfg.malformed_after_chunks) {
			static const char broken[] = "{\"type\":\"chunk\",\"context_id\":\"x\",\"da";

			c->malformed_sent = true;
			send_frame(c, 1, broken, sizeof(broken) - 1);
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
			send_text(c, fmt("{\"type\":\"chunk\",\"context_id\":\"%s\",\"status_code\":206,"
					 "\"done\":false,\"step_time\":12.5,\"data\":\"%s\"}", x->id, b64));
			free(b64);
			x->off += k;
			x->first_sent = true;
			c->chunks++;
			STAT_ADD(f, chunks, 1);
			x->due_ms = now_ms() + f->cfg.pace_ms;
			if (x->off < x->len || x->last)
				wait = wait < 0 || f->cfg.pace_ms < wait ? f->cfg.pace_ms : wait;
			continue;
		}
		/* all sent and the context closed */
		if (x->timestamps)
			send_text(c, fmt("{\"type\":\"timestamps\",\"context_id\":\"%s\","
					 "\"status_code\":206,\"done\":false,\"word_timestamps\":"
					 "{\"words\":[\"%.100s\"],\"start\":[0.0],\"end\":[%.3f]}}",
					 x->id, x->words, x->seconds));
		send_text(c, fmt("{\"type\":\"done\",\"context_id\":\"%s\",\"status_code\":200,"
				 "\"done\":true}", x->id));
		STAT_ADD(f, done, 1);
		ctx_free(x);
	}
	return wait;
}

/* ---- frames ---- */

static void parse_frames(struct conn *c)
{
	size_t off = 0;

	while (!c->dead) {
		unsigned char *p = c->in + off, *mask, *d;
		size_t avail = c->in_len - off, hl = 2;
		uint64_t len;
		int opcode;
		bool fin, masked;

		if (avail < 2)
			break;
		fin = p[0] & 0x80;
		opcode = p[0] & 0x0f;
		masked = p[1] & 0x80;
		len = p[1] & 0x7f;
		if (len == 126) {
			if (avail < 4)
				break;
			len = ((uint64_t)p[2] << 8) | p[3];
			hl = 4;
		} else if (len == 127) {
			if (avail < 10)
				break;
			len = 0;
			for (int i = 0; i < 8; i++)
				len = (len << 8) | p[2 + i];
			hl = 10;
		}
		if (!masked || len > (16u << 20)) {
			c->dead = true;
			break;
		}
		if (avail < hl + 4 + len)
			break;
		mask = p + hl;
		d = p + hl + 4;
		for (uint64_t i = 0; i < len; i++)
			d[i] ^= mask[i & 3];
		off += hl + 4 + (size_t)len;
		if (opcode == 8) {
			unsigned char b[2] = { 0x03, 0xe8 };

			send_frame(c, 8, b, 2);
			STAT_ADD(c->f, client_closed, 1);
			c->dead = true;
			break;
		}
		if (opcode == 9) {
			send_frame(c, 10, d, (size_t)len);
			continue;
		}
		if (opcode == 10)
			continue;
		if (opcode != 0)
			c->msg_opcode = opcode;
		if (c->msg_len + len > c->msg_cap) {
			c->msg_cap = (c->msg_len + (size_t)len) * 2 + 64;
			c->msg = realloc(c->msg, c->msg_cap);
			ck_assert(c->msg);
		}
		memcpy(c->msg + c->msg_len, d, (size_t)len);
		c->msg_len += (size_t)len;
		if (fin) {
			if (c->msg_opcode == 1)
				on_text(c, (const char *)c->msg, c->msg_len);
			c->msg_len = 0;
		}
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
}

/* ---- the upgrade ---- */

static bool header(const char *req, const char *name, char *out, size_t cap)
{
	const char *p = req;
	size_t nl = strlen(name);

	out[0] = '\0';
	while ((p = strstr(p, "\r\n"))) {
		p += 2;
		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1;

			while (*v == ' ')
				v++;
			snprintf(out, cap, "%.*s", (int)strcspn(v, "\r\n"), v);
			return true;
		}
	}
	return false;
}

static void http_error(struct conn *c, int status, const char *msg)
{
	char *body = fmt("{\"error\":\"%s\"}", msg);
	char *resp = fmt("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", status,
			 status == 401 ? "Unauthorized" : status == 400 ? "Bad Request" :
			 status == 404 ? "Not Found" : "Internal Server Error", strlen(body), body);

	send_all(c, resp, strlen(resp));
	free(body);
	free(resp);
	c->dead = true;
}

static void upgrade(struct conn *c)
{
	struct fake_cartesia *f = c->f;
	char path[256] = "", key[128] = "", xkey[256], auth[256], version[64];
	unsigned char sha[20];
	char accept[64], *resp, *concat;
	bool key_ok;

	sscanf(c->req, "GET %255s", path);
	header(c->req, "X-API-Key", xkey, sizeof(xkey));
	header(c->req, "Authorization", auth, sizeof(auth));
	header(c->req, "Cartesia-Version", version, sizeof(version));
	pthread_mutex_lock(&f->lock);
	f->stats.connections++;
	snprintf(f->stats.api_key_header, sizeof(f->stats.api_key_header), "%.150s", xkey);
	snprintf(f->stats.auth, sizeof(f->stats.auth), "%.150s", auth);
	snprintf(f->stats.version, sizeof(f->stats.version), "%s", version);
	snprintf(f->stats.path, sizeof(f->stats.path), "%s", path);
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	if (!header(c->req, "Sec-WebSocket-Key", key, sizeof(key)))
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
	concat = fmt("%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
	lws_SHA1((unsigned char *)concat, strlen(concat), sha);
	free(concat);
	lws_b64_encode_string((const char *)sha, 20, accept, sizeof(accept));
	resp = fmt("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		   "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
	send_all(c, resp, strlen(resp));
	free(resp);
	c->ws = true;
	STAT_ADD(f, upgraded, 1);
}

/* ---- the connection threads ---- */

static void serve(struct conn *c)
{
	struct fake_cartesia *f = c->f;

	while (!c->dead) {
		struct pollfd p[2] = { { c->fd, POLLIN, 0 }, { f->wake[0], POLLIN, 0 } };
		int wait = c->ws ? pump(c) : -1;

		if (c->dead)
			break;
		if (poll(p, 2, wait < 0 || wait > 200 ? 200 : wait) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			char buf[16384];
			ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

			if (n <= 0) {
				if (n < 0 && errno == EINTR)
					continue;
				if (c->ws)
					STAT_ADD(f, client_closed, 1);
				break;
			}
			if (!c->ws) {
				char *end;

				if (c->req_len + (size_t)n >= sizeof(c->req)) {
					http_error(c, 400, "request too large");
					break;
				}
				memcpy(c->req + c->req_len, buf, (size_t)n);
				c->req_len += (size_t)n;
				c->req[c->req_len] = '\0';
				end = strstr(c->req, "\r\n\r\n");
				if (end) {
					size_t used = (size_t)(end + 4 - c->req);

					upgrade(c);
					if (c->ws && c->req_len > used) {
						c->in = malloc(c->req_len - used);
						ck_assert(c->in);
						memcpy(c->in, c->req + used, c->req_len - used);
						c->in_len = c->in_cap = c->req_len - used;
						parse_frames(c);
					}
				}
			} else {
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
	}
	for (int i = 0; i < MAX_CONTEXTS; i++)
		ctx_free(&c->ctx[i]);
	close(c->fd);
	free(c->in);
	free(c->msg);
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
