/*
 * elevenlabs.c — ElevenLabs text to speech as a `struct vagent_tts`
 * provider: one sentence per speak(), either over the stream-input
 * WebSocket (lib/net/ws_client.c; one socket per sentence: init message,
 * the text with flush, end of input, audio chunks, isFinal, close — the
 * next sentence's socket is opened and initialised ahead of time so the
 * handshake is off the critical path) or HTTP streaming (POST
 * /v1/text-to-speech/{voice}/stream over lib/net/http_stream.c, raw audio
 * bytes in the body). Audio is ulaw_8000 or pcm_16000 and goes to the
 * session as int16 at the call's rate. docs/providers.md "ElevenLabs (TTS)".
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/internal.h"
#include "net/http_stream_int.h"
#include "net/ws_int.h"

#define DEFAULT_BASE  "https://api.elevenlabs.io"
#define DEFAULT_VOICE "21m00Tcm4TlvDq8ikWAM"
#define DEFAULT_MODEL "eleven_flash_v2_5"
#define DEFAULT_ENV   "ELEVENLABS_API_KEY"
/* the server closes an idle socket after this (query inactivity_timeout);
 * a spare older than SPARE_MAX_AGE_MS is not used */
#define INACTIVITY_S      60
#define SPARE_MAX_AGE_MS  50000
#define HOLD_MS           5      /* virtual clock: see hold_arm() */
#define MAX_RETRY_AFTER_S 30

struct el_tts;
struct el_req;

/* One stream-input WebSocket. */
struct el_sock {
	struct el_tts *p;
	struct el_sock *next;
	struct vagent__ws_client *ws;
	struct el_req *req;           /* the sentence it carries; NULL: spare or
				       * retired */
	char format[24];              /* its output_format */
	int64_t opened_wall;
	bool retired;                 /* done with; freed at its close */
};

struct el_req {
	struct el_tts *p;
	struct el_req *next;
	uint64_t id;
	char *text;
	int rate;
	bool ulaw;
	char format[24];
	bool dead;                    /* finished, cancelled or failed */
	bool got_audio;
	int attempt;                  /* 0: the first try */
	int64_t sent;                 /* loop time the text left */
	int64_t sent_wall;
	struct vagent_timer *timer;   /* retry wait, first-byte and idle timeouts */
	bool waiting_retry;
	/* websocket */
	struct el_sock *sock;
	/* http */
	struct vagent__http_req *hreq;
	unsigned char carry;          /* pcm: an odd byte left from the last read */
	bool has_carry;
};

/* The worker job that keeps a virtual clock from running ahead of the
 * network while a WebSocket sentence is in flight (as http_stream.c does). */
struct hold {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool orphan;
	struct el_tts *p;
};

struct el_tts {
	struct vagent_tts base;
	struct vagent_elevenlabs_config cfg;
	char *base_url, *ws_base, *voice, *model, *key_header, *key_env;
	bool http;
	struct el_sock *socks;        /* every socket not yet freed */
	struct el_sock *spare;
	struct el_req *reqs;
	struct vagent__http *hs;
	struct hold *hold;
	struct vagent__rng rng;
	int depth;                    /* inside a callback to the session */
	bool stopped;
	struct vagent_elevenlabs_stats stats;
	int16_t pcm[4096];
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct vagent_elevenlabs_config vagent_elevenlabs_tts_config_default(void)
{
	struct vagent_elevenlabs_config c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "elevenlabs");
	c.base_url = DEFAULT_BASE;
	c.api_key_env = DEFAULT_ENV;
	c.voice_id = DEFAULT_VOICE;
	c.model_id = DEFAULT_MODEL;
	c.transport = "websocket";
	c.rate = 8000;
	c.prewarm = true;
	c.connect_timeout_ms = 5000;
	c.first_byte_timeout_ms = 10000;
	c.idle_timeout_ms = 5000;
	c.max_retries = 2;
	return c;
}

/* ---- the virtual-clock hold ------------------------------------------ */

static void hold_work(void *arg)
{
	struct hold *hd = arg;
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += HOLD_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&hd->mu);
	while (!hd->orphan)
		if (pthread_cond_timedwait(&hd->cv, &hd->mu, &until) != 0)
			break;
	pthread_mutex_unlock(&hd->mu);
}

static void hold_free(struct hold *hd)
{
	pthread_mutex_destroy(&hd->mu);
	pthread_cond_destroy(&hd->cv);
	free(hd);
}

static void hold_arm(struct el_tts *p);

static void hold_done(void *arg, int64_t charged)
{
	struct hold *hd = arg;
	struct el_tts *p = hd->p;

	if (hd->orphan) {
		hold_free(hd);
		return;
	}
	p->hold = NULL;
	hold_free(hd);
	if (charged >= 0)        /* -1: the loop is going away */
		hold_arm(p);
}

static bool ws_in_flight(const struct el_tts *p)
{
	for (const struct el_req *r = p->reqs; r; r = r->next)
		if (!r->dead && !p->http)
			return true;
	return false;
}

/* In virtual time the loop does not wait for fds: while a sentence is on
 * the wire, keep one worker job outstanding that lasts HOLD_MS of real
 * time and is charged as much, so the clock moves with the wire. */
static void hold_arm(struct el_tts *p)
{
	struct hold *hd;

	if (p->hold || p->stopped || !p->base.loop || !ws_in_flight(p) ||
	    vagent_clock_type(vagent_loop_clock(p->base.loop)) == VAGENT_CLOCK_REAL)
		return;
	hd = calloc(1, sizeof(*hd));
	if (!hd)
		return;
	pthread_mutex_init(&hd->mu, NULL);
	pthread_cond_init(&hd->cv, NULL);
	hd->p = p;
	if (vagent_loop_submit_cost(p->base.loop, hold_work, hold_done, hd,
				    (int64_t)HOLD_MS * VAGENT_TICKS_PER_MS, NULL) != VAGENT_OK) {
		hold_free(hd);   /* no workers: the clock cannot wait */
		return;
	}
	p->hold = hd;
}

static void hold_orphan(struct el_tts *p)
{
	struct hold *hd = p->hold;

	if (!hd)
		return;
	pthread_mutex_lock(&hd->mu);
	hd->orphan = true;
	pthread_cond_signal(&hd->cv);
	pthread_mutex_unlock(&hd->mu);
	p->hold = NULL;
}

/* ---- sockets --------------------------------------------------------- */

static void sock_unlink_free(struct el_sock *s)
{
	struct el_tts *p = s->p;

	for (struct el_sock **pp = &p->socks; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (p->spare == s)
		p->spare = NULL;
	vagent__ws_client_free(s->ws);   /* deferred when inside its callback */
	free(s);
}

/* Done with a socket: close it (the server sees a close frame at once)
 * and free it when the server answers, or at the provider's free. */
static void sock_retire(struct el_sock *s)
{
	if (!s || s->retired)
		return;
	s->retired = true;
	s->req = NULL;
	if (s->p->spare == s)
		s->p->spare = NULL;
	if (s->ws)
		vagent__ws_close(s->ws, 1000, "");
}

/* ---- requests -------------------------------------------------------- */

static void req_free(struct el_req *r)
{
	vagent_timer_free(r->timer);
	free(r->text);
	free(r);
}

/* Free the dead requests (not from inside a callback to the session). */
static void sweep(struct el_tts *p)
{
	struct el_req **pp = &p->reqs;

	if (p->depth)
		return;
	while (*pp) {
		struct el_req *r = *pp;

		if (r->dead) {
			*pp = r->next;
			req_free(r);
		} else {
			pp = &r->next;
		}
	}
}

/* Around every callback from the network or a timer: the requests it
 * ends are freed when it returns, not under its feet. */
static void enter(struct el_tts *p)
{
	p->depth++;
}

static void leave(struct el_tts *p)
{
	p->depth--;
	sweep(p);
}

/* Let go of what the request holds on the network. */
static void req_end(struct el_req *r)
{
	r->dead = true;
	vagent_timer_stop(r->timer);
	if (r->sock) {
		sock_retire(r->sock);
		r->sock = NULL;
	}
	if (r->hreq) {
		vagent__http_cancel(r->hreq);
		r->hreq = NULL;
	}
}

static void req_fail(struct el_req *r, vagent_status st, const char *msg)
{
	struct el_tts *p = r->p;

	if (r->dead)
		return;
	req_end(r);
	p->stats.errors++;
	p->depth++;
	if (p->base.on_error)
		p->base.on_error(p->base.ctx, r->id, st, msg);
	p->depth--;
	sweep(p);
}

static void req_failf(struct el_req *r, vagent_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void req_failf(struct el_req *r, vagent_status st, const char *fmt, ...)
{
	char m[320];
	int n;
	va_list ap;

	n = snprintf(m, sizeof(m), "%s: ", r->p->base.name);
	va_start(ap, fmt);
	vsnprintf(m + n, sizeof(m) - (size_t)n, fmt, ap);
	va_end(ap);
	req_fail(r, st, m);
}

static void req_done(struct el_req *r)
{
	struct el_tts *p = r->p;

	if (r->dead)
		return;
	req_end(r);
	p->stats.done++;
	p->depth++;
	if (p->base.on_done)
		p->base.on_done(p->base.ctx, r->id);
	p->depth--;
	sweep(p);
}

static void arm_timeout(struct el_req *r)
{
	int ms = r->got_audio ? r->p->cfg.idle_timeout_ms : r->p->cfg.first_byte_timeout_ms;

	r->waiting_retry = false;
	if (ms > 0)
		vagent_timer_start(r->timer, vagent_ticks_from_ms(ms), 0, NULL);
}

/* Audio bytes in the request's format → int16 to the session. */
static void deliver(struct el_req *r, const unsigned char *b, size_t n)
{
	struct el_tts *p = r->p;
	size_t cap = sizeof(p->pcm) / sizeof(p->pcm[0]);

	if (!n || r->dead)
		return;
	if (!r->got_audio) {
		r->got_audio = true;
		p->stats.first_byte_ms = wall_ms() - r->sent_wall;
		if (p->base.on_first_byte) {
			p->depth++;
			p->base.on_first_byte(p->base.ctx, r->id, r->sent);
			p->depth--;
			if (r->dead)
				return;
		}
	}
	arm_timeout(r);
	while (n && !r->dead) {
		size_t k = 0;

		if (r->ulaw) {
			k = n < cap ? n : cap;
			vagent_ulaw_decode_buf(b, p->pcm, k);
			b += k;
			n -= k;
		} else {
			while (n && k < cap) {
				if (r->has_carry) {
					p->pcm[k++] = (int16_t)(uint16_t)(r->carry | (unsigned)b[0] << 8);
					r->has_carry = false;
					b++;
					n--;
				} else if (n >= 2) {
					p->pcm[k++] = (int16_t)(uint16_t)(b[0] | (unsigned)b[1] << 8);
					b += 2;
					n -= 2;
				} else {
					r->carry = b[0];
					r->has_carry = true;
					b++;
					n--;
				}
			}
		}
		if (!k)
			continue;
		p->stats.audio_samples += (int64_t)k;
		p->depth++;
		if (p->base.on_audio)
			p->base.on_audio(p->base.ctx, r->id, p->pcm, k);
		p->depth--;
	}
}

/* ---- base64 ---------------------------------------------------------- */

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decode standard base64 (padding optional); false on a bad character. */
static bool b64_decode(const char *in, unsigned char *out, size_t *n_out)
{
	unsigned acc = 0;
	int bits = 0;
	size_t n = 0;

	for (; *in; in++) {
		int v;

		if (*in == '=')
			break;
		if (*in == '\n' || *in == '\r')
			continue;
		v = b64_value((unsigned char)*in);
		if (v < 0)
			return false;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	*n_out = n;
	return true;
}

/* ---- retries ---------------------------------------------------------- */

static void start_attempt(struct el_req *r);

/* Before the first audio byte a 429, 5xx or lost connection is tried
 * again after `retry_after_s` (< 0: backoff 0.5 s × 2^n, ≤ 8 s, jittered).
 * False when no retry is left. */
static bool retry_later(struct el_req *r, double retry_after_s)
{
	struct el_tts *p = r->p;
	double delay;

	if (r->got_audio || r->attempt >= p->cfg.max_retries || p->stopped ||
	    retry_after_s > MAX_RETRY_AFTER_S)
		return false;
	delay = 0.5 * pow(2, r->attempt);
	if (delay > 8)
		delay = 8;
	delay *= 1 - 0.25 * vagent__rng_double(&p->rng);
	if (retry_after_s >= 0)
		delay = retry_after_s;
	r->attempt++;
	p->stats.retries++;
	r->waiting_retry = true;
	vagent_timer_start(r->timer, vagent_ticks_from_ms((int64_t)(delay * 1000)), 0, NULL);
	return true;
}

static void timer_fired(struct vagent_timer *t, void *arg)
{
	struct el_req *r = arg;
	struct el_tts *p = r->p;

	(void)t;
	if (r->dead)
		return;
	enter(p);
	if (r->waiting_retry) {
		r->waiting_retry = false;
		start_attempt(r);
	} else if (r->got_audio) {
		req_failf(r, VAGENT_ETIMEOUT, "stream stalled (no audio for %d ms)",
			  p->cfg.idle_timeout_ms);
	} else {
		req_failf(r, VAGENT_ETIMEOUT, "no audio within %d ms",
			  p->cfg.first_byte_timeout_ms);
	}
	leave(p);
}

static void auth_failed(struct el_req *r, int status)
{
	req_failf(r, VAGENT_EAUTH, "authentication failed (HTTP %d; check %s)", status,
		  r->p->key_env);
}

/* ---- WebSocket -------------------------------------------------------- */

static void ws_open(void *arg)
{
	(void)arg;
}

/* An error object from the server ({"error": ..., "message": ..., "code"}). */
static void ws_server_error(struct el_req *r, const cJSON *msg)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(msg, "error");
	char code[64] = "";

	if (cJSON_IsString(e))
		for (size_t i = 0; e->valuestring[i] && i < sizeof(code) - 1; i++) {
			char c = e->valuestring[i];

			code[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				  (c >= '0' && c <= '9') || c == '_' || c == '-' ? c : '?';
			code[i + 1] = '\0';
		}
	if (strstr(code, "auth") || strstr(code, "api_key") || strstr(code, "quota") ||
	    strstr(code, "unauthorized"))
		req_failf(r, VAGENT_EAUTH, "authentication failed (%s; check %s)", code,
			  r->p->key_env);
	else
		req_failf(r, VAGENT_EPROVIDER, "server error %s", code[0] ? code : "(no code)");
}

static void ws_message_in(struct el_sock *s, bool binary, const void *data, size_t len);

static void ws_message(void *arg, bool binary, const void *data, size_t len)
{
	struct el_sock *s = arg;
	struct el_tts *p = s->p;

	enter(p);
	ws_message_in(s, binary, data, len);
	leave(p);
}

static void ws_message_in(struct el_sock *s, bool binary, const void *data, size_t len)
{
	struct el_req *r = s->req;
	cJSON *msg;
	const cJSON *audio, *fin;

	if (!r || r->dead || s->retired) {
		if (!s->retired && s == s->p->spare)
			sock_retire(s);   /* a spare that speaks (an error): drop it */
		return;
	}
	if (binary) {
		req_failf(r, VAGENT_EPROTO, "unexpected binary message from the server");
		return;
	}
	msg = cJSON_ParseWithLength(data, len);
	if (!msg || !cJSON_IsObject(msg)) {
		cJSON_Delete(msg);
		req_failf(r, VAGENT_EPROTO, "malformed message from the server (not a JSON object)");
		return;
	}
	audio = cJSON_GetObjectItemCaseSensitive(msg, "audio");
	fin = cJSON_GetObjectItemCaseSensitive(msg, "isFinal");
	if (!audio && !fin && (cJSON_GetObjectItemCaseSensitive(msg, "error") ||
			       cJSON_GetObjectItemCaseSensitive(msg, "message"))) {
		ws_server_error(r, msg);
	} else if (audio && !cJSON_IsNull(audio) && !cJSON_IsString(audio)) {
		req_failf(r, VAGENT_EPROTO, "malformed message from the server (audio is not a string)");
	} else {
		if (cJSON_IsString(audio) && audio->valuestring[0]) {
			size_t n = strlen(audio->valuestring), got = 0;
			unsigned char *buf = malloc(n / 4 * 3 + 4);

			if (!buf) {
				req_failf(r, VAGENT_ENOMEM, "out of memory");
			} else if (!b64_decode(audio->valuestring, buf, &got)) {
				req_failf(r, VAGENT_EPROTO,
					  "malformed message from the server (audio is not base64)");
			} else {
				deliver(r, buf, got);
			}
			free(buf);
		}
		if (!r->dead && cJSON_IsTrue(fin))
			req_done(r);
	}
	cJSON_Delete(msg);
}


static void ws_close(void *arg, int code, const char *reason)
{
	struct el_sock *s = arg;
	struct el_tts *p = s->p;
	struct el_req *r = s->req;

	(void)reason;
	enter(p);
	s->req = NULL;
	if (r && !r->dead) {
		r->sock = NULL;
		if (r->got_audio || !retry_later(r, -1))
			req_failf(r, VAGENT_EPROVIDER,
				  "the connection closed mid-sentence (code %d)", code);
	}
	sock_unlink_free(s);
	leave(p);
}

static void ws_error(void *arg, vagent_status st, int http_status, const char *message)
{
	struct el_sock *s = arg;
	struct el_tts *p = s->p;
	struct el_req *r = s->req;

	enter(p);
	s->req = NULL;
	if (r && !r->dead) {
		r->sock = NULL;
		if (http_status == 401 || http_status == 403)
			auth_failed(r, http_status);
		else if ((http_status == 429 || http_status >= 500 || http_status == 0) &&
			 st != VAGENT_EINVAL && retry_later(r, -1))
			;   /* tried again after the backoff */
		else
			req_fail(r, http_status == 429 || http_status >= 500 ? VAGENT_EPROVIDER
				 : st, message);   /* names the provider and host only */
	}
	sock_unlink_free(s);
	leave(p);
}

static struct el_sock *sock_open(struct el_tts *p, const char *format, struct vagent_error *err)
{
	struct vagent__ws_config wc = { 0 };
	struct vagent__ws_callbacks cb = { ws_open, ws_message, ws_close, ws_error, NULL };
	const char *headers[2] = { p->key_header, NULL };
	struct vagent__strbuf url = { 0 }, init = { 0 };
	struct el_sock *s = calloc(1, sizeof(*s));
	vagent_status st;

	if (!s) {
		vagent__error_set(err, VAGENT_ENOMEM, p->base.name, "out of memory");
		return NULL;
	}
	s->p = p;
	snprintf(s->format, sizeof(s->format), "%s", format);
	s->opened_wall = wall_ms();
	vagent__strbuf_printf(&url, "%s/v1/text-to-speech/%s/stream-input?model_id=%s"
			      "&output_format=%s&inactivity_timeout=%d", p->ws_base, p->voice,
			      p->model, format, INACTIVITY_S);
	cb.arg = s;
	wc.url = url.p;
	wc.headers = headers;
	wc.who = p->base.name;
	wc.connect_timeout_ms = p->cfg.connect_timeout_ms;
	st = url.p ? vagent__ws_client_new(p->base.loop, &wc, &cb, &s->ws, err)
		: vagent__error_set(err, VAGENT_ENOMEM, p->base.name, "out of memory");
	vagent__strbuf_release(&url);
	if (st != VAGENT_OK) {
		free(s);
		return NULL;
	}
	p->stats.sockets_opened++;
	s->next = p->socks;
	p->socks = s;
	/* the initialising message: a single space and the voice settings */
	vagent__strbuf_puts(&init, "{\"text\":\" \",\"voice_settings\":{\"stability\":0.5,"
			    "\"similarity_boost\":0.8");
	if (p->cfg.speed > 0)
		vagent__strbuf_printf(&init, ",\"speed\":%.3g", p->cfg.speed);
	vagent__strbuf_puts(&init, "}}");
	if (!init.p || vagent__ws_send(s->ws, false, init.p, init.len, err) != VAGENT_OK) {
		vagent__strbuf_release(&init);
		sock_unlink_free(s);
		return NULL;
	}
	vagent__strbuf_release(&init);
	return s;
}

/* The sentence, ending in a space, generated at once; then end of input. */
static vagent_status ws_send_sentence(struct el_sock *s, const char *sentence,
				      struct vagent_error *err)
{
	static const char eos[] = "{\"text\":\"\"}";
	struct vagent__strbuf t = { 0 };
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;
	vagent_status st;

	vagent__strbuf_printf(&t, "%s ", sentence);
	if (o && t.p && cJSON_AddStringToObject(o, "text", t.p) &&
	    cJSON_AddBoolToObject(o, "flush", true))
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	vagent__strbuf_release(&t);
	if (!text)
		return vagent__error_set(err, VAGENT_ENOMEM, s->p->base.name, "out of memory");
	st = vagent__ws_send(s->ws, false, text, strlen(text), err);
	free(text);
	if (st == VAGENT_OK)
		st = vagent__ws_send(s->ws, false, eos, sizeof(eos) - 1, err);
	return st;
}

static vagent_status ws_attempt(struct el_req *r, struct vagent_error *err)
{
	struct el_tts *p = r->p;
	struct el_sock *s = p->spare;
	vagent_status st;

	p->spare = NULL;
	if (s && (s->retired || strcmp(s->format, r->format) ||
		  wall_ms() - s->opened_wall > SPARE_MAX_AGE_MS)) {
		sock_retire(s);
		s = NULL;
	}
	/* a spare the server has just closed refuses the text: a fresh one */
	if (s && ws_send_sentence(s, r->text, NULL) != VAGENT_OK) {
		sock_retire(s);
		s = NULL;
	}
	if (!s) {
		if (!(s = sock_open(p, r->format, err)))
			return err ? err->status : VAGENT_EIO;
		st = ws_send_sentence(s, r->text, err);
		if (st != VAGENT_OK) {
			sock_retire(s);
			return st;
		}
	}
	s->req = r;
	r->sock = s;
	/* the next sentence's socket, handshaken while this one speaks */
	if (p->cfg.prewarm && !p->spare)
		p->spare = sock_open(p, r->format, NULL);
	return VAGENT_OK;
}

/* ---- HTTP streaming ---------------------------------------------------- */

static void http_data(void *ctx, const char *buf, size_t n)
{
	struct el_req *r = ctx;
	struct el_tts *p = r->p;

	enter(p);
	deliver(r, (const unsigned char *)buf, n);
	leave(p);
}

/* The machine code of an error body {"detail": {"status": ...}}, cleaned. */
static void detail_status(const char *body, char *out, size_t size)
{
	cJSON *j = cJSON_Parse(body ? body : "");
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "detail");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(d, "status");

	out[0] = '\0';
	if (cJSON_IsString(st))
		for (size_t i = 0; st->valuestring[i] && i + 1 < size; i++) {
			char c = st->valuestring[i];

			out[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				 (c >= '0' && c <= '9') || c == '_' || c == '-' ? c : '?';
			out[i + 1] = '\0';
		}
	cJSON_Delete(j);
}

static void http_done_in(struct el_req *r, const struct vagent__http_result *res);

static void http_done(void *ctx, const struct vagent__http_result *res)
{
	struct el_req *r = ctx;
	struct el_tts *p = r->p;

	enter(p);
	http_done_in(r, res);
	leave(p);
}

static void http_done_in(struct el_req *r, const struct vagent__http_result *res)
{
	char code[64];

	r->hreq = NULL;
	if (r->dead)
		return;
	if (res->st != VAGENT_OK) {
		if (res->got_bytes || r->got_audio || !retry_later(r, -1))
			req_fail(r, res->st, res->message);
		return;
	}
	if (res->status >= 200 && res->status < 300) {
		if (!r->got_audio && res->got_bytes == false)
			req_failf(r, VAGENT_EPROTO, "HTTP %ld with no audio", res->status);
		else
			req_done(r);
		return;
	}
	if (res->status == 401 || res->status == 403) {
		auth_failed(r, (int)res->status);
		return;
	}
	if ((res->status == 429 || res->status >= 500) && !res->should_retry_false &&
	    retry_later(r, res->retry_after_s))
		return;
	detail_status(res->body, code, sizeof(code));
	req_failf(r, VAGENT_EPROVIDER, "HTTP %ld%s%s%s", res->status, code[0] ? " (" : "",
		  code, code[0] ? ")" : "");
}

static vagent_status http_attempt(struct el_req *r, struct vagent_error *err)
{
	struct el_tts *p = r->p;
	struct vagent__http_request rq = { 0 };
	const char *headers[3] = { p->key_header, "Content-Type: application/json", NULL };
	struct vagent__strbuf url = { 0 };
	cJSON *o = cJSON_CreateObject(), *vs;
	char *body = NULL;
	vagent_status st;

	if (!p->hs && vagent__http_new(p->base.loop, &p->hs, err) != VAGENT_OK) {
		cJSON_Delete(o);
		return err ? err->status : VAGENT_EIO;
	}
	if (o) {
		cJSON_AddStringToObject(o, "text", r->text);
		cJSON_AddStringToObject(o, "model_id", p->model);
		vs = cJSON_AddObjectToObject(o, "voice_settings");
		cJSON_AddNumberToObject(vs, "stability", 0.5);
		cJSON_AddNumberToObject(vs, "similarity_boost", 0.8);
		if (p->cfg.speed > 0)
			cJSON_AddNumberToObject(vs, "speed", p->cfg.speed);
		body = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
	}
	vagent__strbuf_printf(&url, "%s/v1/text-to-speech/%s/stream?output_format=%s",
			      p->base_url, p->voice, r->format);
	if (!body || !url.p) {
		free(body);
		vagent__strbuf_release(&url);
		return vagent__error_set(err, VAGENT_ENOMEM, p->base.name, "out of memory");
	}
	rq.name = p->base.name;
	rq.url = url.p;
	rq.headers = headers;
	rq.body = body;
	rq.connect_timeout_ms = p->cfg.connect_timeout_ms;
	rq.on_data = http_data;
	rq.on_done = http_done;
	rq.ctx = r;
	r->has_carry = false;
	st = vagent__http_start(p->hs, &rq, &r->hreq, err);
	free(body);
	vagent__strbuf_release(&url);
	return st;
}

/* ---- the provider ------------------------------------------------------ */

static vagent_status attempt(struct el_req *r, struct vagent_error *err)
{
	struct el_tts *p = r->p;
	vagent_status st;

	p->stats.attempts++;
	r->sent = vagent_loop_now(p->base.loop);
	r->sent_wall = wall_ms();
	st = p->http ? http_attempt(r, err) : ws_attempt(r, err);
	if (st == VAGENT_OK) {
		arm_timeout(r);
		hold_arm(p);
	}
	return st;
}

/* A retry (from the request's timer). */
static void start_attempt(struct el_req *r)
{
	struct vagent_error e;

	if (attempt(r, &e) != VAGENT_OK)
		req_fail(r, e.status, e.message);
}

static void blank_fired(struct vagent_timer *t, void *arg)
{
	struct el_req *r = arg;
	struct el_tts *p = r->p;

	(void)t;
	enter(p);
	req_done(r);
	leave(p);
}

static vagent_status tts_speak(struct vagent_tts *t, uint64_t id, const char *text,
			       int rate, struct vagent_error *err)
{
	struct el_tts *p = (struct el_tts *)t;
	struct el_req *r;
	const char *fmt = p->cfg.output_format;
	bool blank = true;
	vagent_status st;

	if (p->stopped || !p->base.loop)
		return vagent__error_set(err, VAGENT_EINVAL, p->base.name,
					 p->stopped ? "stopped" : "no loop");
	if (!text)
		return vagent__error_set(err, VAGENT_EINVAL, p->base.name, "no text");
	if (rate != 8000 && rate != 16000)
		return vagent__error_set(err, VAGENT_EINVAL, p->base.name,
					 "rate: %d Hz (8000 or 16000)", rate);
	if (!fmt || rate != p->cfg.rate)
		fmt = rate == 8000 ? "ulaw_8000" : "pcm_16000";
	for (const char *c = text; *c; c++)
		if (*c != ' ' && *c != '\t' && *c != '\n' && *c != '\r')
			blank = false;
	r = calloc(1, sizeof(*r));
	if (r)
		r->text = strdup(text);
	if (r && blank)
		r->timer = vagent_timer_new(p->base.loop, blank_fired, r);
	else if (r)
		r->timer = vagent_timer_new(p->base.loop, timer_fired, r);
	if (!r || !r->text || !r->timer) {
		if (r)
			req_free(r);
		return vagent__error_set(err, VAGENT_ENOMEM, p->base.name, "out of memory");
	}
	r->p = p;
	r->id = id;
	r->rate = rate;
	snprintf(r->format, sizeof(r->format), "%s", fmt);
	r->ulaw = !strncmp(fmt, "ulaw", 4);
	p->stats.requests++;
	if (blank) {
		/* nothing to say: done, from the loop (never inside this call) */
		vagent_timer_start(r->timer, 0, 0, NULL);
		r->next = p->reqs;
		p->reqs = r;
		return VAGENT_OK;
	}
	st = attempt(r, err);
	if (st != VAGENT_OK) {
		req_end(r);
		req_free(r);
		return st;
	}
	r->next = p->reqs;
	p->reqs = r;
	hold_arm(p);
	return VAGENT_OK;
}

static void tts_cancel(struct vagent_tts *t, uint64_t id)
{
	struct el_tts *p = (struct el_tts *)t;

	for (struct el_req *r = p->reqs; r; r = r->next)
		if (r->id == id && !r->dead) {
			p->stats.cancels++;
			req_end(r);
		}
	sweep(p);
}

static void tts_stop(struct vagent_tts *t)
{
	struct el_tts *p = (struct el_tts *)t;

	for (struct el_req *r = p->reqs; r; r = r->next)
		if (!r->dead) {
			p->stats.cancels++;
			req_end(r);
		}
	sock_retire(p->spare);
	/* the loop may be freed before this provider: let go of it */
	for (struct el_sock *s = p->socks; s; s = s->next) {
		sock_retire(s);
		vagent__ws_detach(s->ws);
	}
	p->stopped = true;
	hold_orphan(p);
	vagent__http_free(p->hs);
	p->hs = NULL;
	sweep(p);
}

static void tts_free(struct vagent_tts *t)
{
	struct el_tts *p = (struct el_tts *)t;

	if (!p)
		return;
	tts_stop(t);
	p->depth = 0;
	sweep(p);
	while (p->socks)
		sock_unlink_free(p->socks);
	if (p->key_header)
		memset(p->key_header, 0, strlen(p->key_header));
	free(p->key_header);
	free(p->key_env);
	free(p->base_url);
	free(p->ws_base);
	free(p->voice);
	free(p->model);
	free(p);
}

static const struct vagent_tts_ops el_ops = {
	.speak = tts_speak,
	.cancel = tts_cancel,
	.stop = tts_stop,
	.free = tts_free,
};

static bool plain_id(const char *s)
{
	if (!s || !*s || strlen(s) > 128)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

/* "http(s)://authority[/path]" without a query, fragment or credentials. */
static bool good_base(const char *u, bool *tls)
{
	const char *rest, *slash;

	if (!strncmp(u, "https://", 8)) {
		*tls = true;
		rest = u + 8;
	} else if (!strncmp(u, "http://", 7)) {
		*tls = false;
		rest = u + 7;
	} else {
		return false;
	}
	slash = strchr(rest, '/');
	if (!*rest || *rest == '/' || strpbrk(u, "?# \r\n"))
		return false;
	if (memchr(rest, '@', slash ? (size_t)(slash - rest) : strlen(rest)))
		return false;
	return true;
}

static char *dup_trimmed(const char *s)
{
	size_t n = strlen(s);
	char *d;

	while (n && s[n - 1] == '/')
		n--;
	d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

vagent_status vagent_elevenlabs_tts_new(const struct vagent_elevenlabs_config *cfg,
					struct vagent_tts **out,
					struct vagent_error *err)
{
	const char *name = cfg && cfg->name[0] ? cfg->name : "elevenlabs";
	const char *base, *voice, *model;
	struct el_tts *p;
	bool tls = true, http;
	int n;

	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, name, "no output pointer");
	*out = NULL;
	if (!cfg)
		return vagent__error_set(err, VAGENT_EINVAL, name, "no config");
	base = cfg->base_url ? cfg->base_url : DEFAULT_BASE;
	voice = cfg->voice_id ? cfg->voice_id : DEFAULT_VOICE;
	model = cfg->model_id ? cfg->model_id : DEFAULT_MODEL;
	if (!cfg->api_key || !*cfg->api_key || strpbrk(cfg->api_key, "\r\n"))
		return vagent__error_set(err, VAGENT_EINVAL, name, "no API key");
	if (!good_base(base, &tls))
		return vagent__error_set(err, VAGENT_EINVAL, name,
					 "base_url: not an http:// or https:// URL with a host "
					 "(and no query or credentials)");
	if (!plain_id(voice))
		return vagent__error_set(err, VAGENT_EINVAL, name,
					 "voice_id: not a voice id (letters, digits, -_.)");
	if (!plain_id(model))
		return vagent__error_set(err, VAGENT_EINVAL, name,
					 "model_id: not a model id (letters, digits, -_.)");
	if (cfg->transport && strcmp(cfg->transport, "websocket") &&
	    strcmp(cfg->transport, "http"))
		return vagent__error_set(err, VAGENT_EINVAL, name,
					 "transport: \"%.32s\" (websocket or http)", cfg->transport);
	http = cfg->transport && !strcmp(cfg->transport, "http");
	if (cfg->rate != 8000 && cfg->rate != 16000)
		return vagent__error_set(err, VAGENT_EINVAL, name, "rate: %d Hz (8000 or 16000)",
					 cfg->rate);
	if (cfg->output_format) {
		char want[24];

		snprintf(want, sizeof(want), "pcm_%d", cfg->rate);
		if (strcmp(cfg->output_format, want) &&
		    !(cfg->rate == 8000 && !strcmp(cfg->output_format, "ulaw_8000")))
			return vagent__error_set(err, VAGENT_EINVAL, name,
						 "output_format: \"%.32s\" does not match the "
						 "%d Hz call (%s%s)", cfg->output_format, cfg->rate,
						 want, cfg->rate == 8000 ? " or ulaw_8000" : "");
	}
	/* the agent file's range; ElevenLabs documents 0.7..1.2 and answers
	 * anything else with an error of its own */
	if (cfg->speed != 0 && !(cfg->speed >= 0.25 && cfg->speed <= 4))
		return vagent__error_set(err, VAGENT_EINVAL, name,
					 "speed: must be 0.25..4 (got %g)", cfg->speed);
	if (cfg->connect_timeout_ms < 0 || cfg->first_byte_timeout_ms < 0 ||
	    cfg->idle_timeout_ms < 0 || cfg->max_retries < 0)
		return vagent__error_set(err, VAGENT_EINVAL, name, "negative timing or retries");
	if (cfg->api_key_env && !plain_id(cfg->api_key_env))
		return vagent__error_set(err, VAGENT_EINVAL, name,
					 "api_key_env: not a variable name");

	p = calloc(1, sizeof(*p));
	if (!p)
		return vagent__error_set(err, VAGENT_ENOMEM, name, "out of memory");
	p->base.ops = &el_ops;
	snprintf(p->base.name, sizeof(p->base.name), "%s", name);
	p->cfg = *cfg;
	p->http = http;
	p->stats.first_byte_ms = -1;
	vagent__rng_seed(&p->rng, cfg->seed, 0xe1e7);
	p->base_url = dup_trimmed(base);
	/* ws(s):// and the same authority and prefix */
	if (p->base_url) {
		const char *rest = strstr(p->base_url, "://") + 3;
		struct vagent__strbuf b = { 0 };

		vagent__strbuf_printf(&b, "%s://%s", tls ? "wss" : "ws", rest);
		p->ws_base = vagent__strbuf_detach(&b);
	}
	p->voice = strdup(voice);
	p->model = strdup(model);
	p->key_env = strdup(cfg->api_key_env ? cfg->api_key_env : DEFAULT_ENV);
	n = snprintf(NULL, 0, "xi-api-key: %s", cfg->api_key);
	p->key_header = malloc((size_t)n + 1);
	if (p->key_header)
		snprintf(p->key_header, (size_t)n + 1, "xi-api-key: %s", cfg->api_key);
	/* nothing borrowed is kept */
	p->cfg.api_key = p->cfg.base_url = p->cfg.voice_id = p->cfg.model_id = NULL;
	p->cfg.transport = p->cfg.api_key_env = NULL;
	if (cfg->output_format)
		p->cfg.output_format = !strcmp(cfg->output_format, "ulaw_8000") ? "ulaw_8000"
			: cfg->rate == 8000 ? "pcm_8000" : "pcm_16000";
	if (!p->base_url || !p->ws_base || !p->voice || !p->model || !p->key_env ||
	    !p->key_header) {
		tts_free(&p->base);
		return vagent__error_set(err, VAGENT_ENOMEM, name, "out of memory");
	}
	*out = &p->base;
	return VAGENT_OK;
}

void vagent_elevenlabs_tts_stats(const struct vagent_tts *tts,
				 struct vagent_elevenlabs_stats *out)
{
	const struct el_tts *p = (const struct el_tts *)tts;

	*out = p->stats;
}
