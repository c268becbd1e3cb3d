/*
 * cartesia.c — Cartesia TTS over its WebSocket (/tts/websocket) as a
 * `struct vagent_tts`, on lib/net/ws_client.c: one socket per call,
 * opened at the first sentence (and again lazily after the server closed
 * an idle one), one generation request per sentence under its own
 * context_id with raw output at the call's rate; "chunk" messages carry
 * base64 audio, "done" ends the sentence, "error" fails it. cancel sends
 * the context's cancel message and drops its late chunks. On a virtual
 * clock a worker job holds the clock while a sentence is in flight, as
 * lib/net/http_stream.c does for HTTP.
 * docs/providers.md "Cartesia (TTS)".
 */
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "net/ws_int.h"

#define DEFAULT_URL     "wss://api.cartesia.ai/tts/websocket"
#define DEFAULT_VERSION "2026-03-01"
#define HOLD_MS         5

/* The worker job that holds a virtual clock while a sentence is in
 * flight (as lib/net/http_stream.c does for HTTP): it lasts up to HOLD_MS
 * of real time, less when a message arrives, and is charged HOLD_MS, so
 * the virtual clock moves no faster than the wire. Shared with the job,
 * which may outlive the provider: then `orphan` and the job's done frees
 * it. */
struct hold {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool wake, orphan;
	struct cartesia_tts *p;
};

struct cartesia_tts {
	struct vagent_tts base;
	char *url, *key, *key_env, *model_id, *voice, *language;
	char *h_key, *h_auth, *h_version;
	double speed;
	bool mulaw;
	int connect_ms, idle_ms;
	struct vagent__ws_client *ws;
	struct vagent_timer *event_timer, *idle_timer;
	bool stopped, virtual_clock;
	struct hold *hold;            /* outstanding hold job, or NULL */
	/* the sentence in flight */
	bool active, got_first;
	uint64_t id;
	int rate;
	unsigned serial;
	char context[48];
	int64_t sent;
	unsigned char odd;
	bool has_odd;
	unsigned char *bytes;
	int16_t *pcm;
	size_t cap;
	struct vagent_cartesia_stats stats;
};

struct vagent_cartesia_config vagent_cartesia_config_default(void)
{
	struct vagent_cartesia_config c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "cartesia");
	c.url = DEFAULT_URL;
	c.api_key_env = "CARTESIA_API_KEY";
	c.version = DEFAULT_VERSION;
	c.model_id = "sonic-2";
	c.language = "en";
	c.connect_timeout_ms = 10000;
	c.idle_timeout_ms = 5000;
	return c;
}

static void scrub(const struct cartesia_tts *p, char *msg)
{
	size_t klen = strlen(p->key);
	char *at;

	if (klen < 4)
		return;
	while ((at = strstr(msg, p->key)) != NULL)
		memset(at, '*', klen);
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
}

/* ---- the virtual-clock hold ---- */

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
	while (!hd->wake && !hd->orphan)
		if (pthread_cond_timedwait(&hd->cv, &hd->mu, &until) != 0)
			break;
	hd->wake = false;
	pthread_mutex_unlock(&hd->mu);
}

static void hold_free(struct hold *hd)
{
	pthread_mutex_destroy(&hd->mu);
	pthread_cond_destroy(&hd->cv);
	free(hd);
}

static bool hold_arm(struct cartesia_tts *p);

static void hold_done(void *arg, int64_t charged)
{
	struct hold *hd = arg;
	struct cartesia_tts *p = hd->p;

	(void)charged;
	if (hd->orphan) {
		hold_free(hd);
		return;
	}
	p->hold = NULL;
	hold_free(hd);
	if (p->active)
		hold_arm(p);
}

/* Keep a hold job outstanding (virtual clock only); false when the loop
 * has no worker to run it. */
static bool hold_arm(struct cartesia_tts *p)
{
	struct hold *hd;

	if (!p->virtual_clock || p->hold)
		return true;
	hd = calloc(1, sizeof(*hd));
	if (!hd)
		return false;
	pthread_mutex_init(&hd->mu, NULL);
	pthread_cond_init(&hd->cv, NULL);
	hd->p = p;
	if (vagent_loop_submit_cost(p->base.loop, hold_work, hold_done, hd,
				    (int64_t)HOLD_MS * VAGENT_TICKS_PER_MS, NULL) != VAGENT_OK) {
		hold_free(hd);
		return false;
	}
	p->hold = hd;
	return true;
}

/* End the current hold job early (a message came); `orphan`: for good,
 * the provider is going. */
static void hold_wake(struct cartesia_tts *p, bool orphan)
{
	struct hold *hd = p->hold;

	if (!hd)
		return;
	pthread_mutex_lock(&hd->mu);
	hd->wake = true;
	if (orphan)
		hd->orphan = true;
	pthread_cond_signal(&hd->cv);
	pthread_mutex_unlock(&hd->mu);
	if (orphan)
		p->hold = NULL;
}

static void sentence_end(struct cartesia_tts *p)
{
	p->active = false;
	p->has_odd = false;
	p->context[0] = '\0';
	vagent_timer_stop(p->idle_timer);
	vagent_timer_stop(p->event_timer);
}

static void fail_now(struct cartesia_tts *p, vagent_status st, const char *msg)
{
	char m[400];
	uint64_t id = p->id;

	if (!p->active)
		return;
	snprintf(m, sizeof(m), "%s", msg);
	scrub(p, m);
	sentence_end(p);
	if (p->base.on_error)
		p->base.on_error(p->base.ctx, id, st, m);
}

static void drop_socket(struct cartesia_tts *p)
{
	vagent__ws_client_free(p->ws);
	p->ws = NULL;
}

/* ---- audio ---- */

static int b64_value(unsigned char c)
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

/* Standard or URL-safe base64, padding optional; -1 for a bad digit. */
static long b64_decode(const char *in, unsigned char *out)
{
	unsigned acc = 0;
	int bits = 0;
	long n = 0;

	for (const unsigned char *s = (const unsigned char *)in; *s; s++) {
		int v;

		if (*s == '=')
			break;
		if (*s == '\n' || *s == '\r')
			continue;
		if ((v = b64_value(*s)) < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return n;
}

static bool grow(struct cartesia_tts *p, size_t n)
{
	unsigned char *b;
	int16_t *s;

	if (n <= p->cap)
		return true;
	b = realloc(p->bytes, n);
	if (b)
		p->bytes = b;
	s = realloc(p->pcm, n * sizeof(*s));
	if (s)
		p->pcm = s;
	if (!b || !s)
		return false;
	p->cap = n;
	return true;
}

static void play_chunk(struct cartesia_tts *p, const char *data)
{
	size_t len = strlen(data), n = 0;
	long got;
	unsigned char *b;

	if (!grow(p, len / 4 * 3 + 4)) {
		fail_now(p, VAGENT_ENOMEM, "cartesia: out of memory");
		return;
	}
	b = p->bytes;
	got = b64_decode(data, b);
	if (got < 0) {
		char m[160];

		snprintf(m, sizeof(m), "%s: a chunk whose data is not base64", p->base.name);
		fail_now(p, VAGENT_EPROTO, m);
		return;
	}
	if (p->mulaw) {
		vagent_ulaw_decode_buf(b, p->pcm, (size_t)got);
		n = (size_t)got;
	} else {
		size_t i = 0;

		if (p->has_odd && got > 0) {
			p->pcm[n++] = (int16_t)(uint16_t)(p->odd | (b[0] << 8));
			p->has_odd = false;
			i = 1;
		}
		for (; i + 1 < (size_t)got; i += 2)
			p->pcm[n++] = (int16_t)(uint16_t)(b[i] | (b[i + 1] << 8));
		if (i < (size_t)got) {
			p->odd = b[i];
			p->has_odd = true;
		}
	}
	p->stats.chunks++;
	if (n) {
		p->stats.samples += (long)n;
		if (p->base.on_audio)
			p->base.on_audio(p->base.ctx, p->id, p->pcm, n);
	}
}

/* ---- the socket ---- */

static void ws_open(void *arg)
{
	(void)arg;
}

static void server_error(struct cartesia_tts *p, const cJSON *j)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "status_code");
	const cJSON *title = cJSON_GetObjectItemCaseSensitive(j, "title");
	const cJSON *message = cJSON_GetObjectItemCaseSensitive(j, "message");
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(j, "error");
	int status = cJSON_IsNumber(code) ? code->valueint : 0;
	char m[800], what[300] = "";

	if (cJSON_IsString(title) && cJSON_IsString(message))
		snprintf(what, sizeof(what), "%.100s: %.180s", title->valuestring,
			 message->valuestring);
	else if (cJSON_IsString(message))
		snprintf(what, sizeof(what), "%.280s", message->valuestring);
	else if (cJSON_IsString(title))
		snprintf(what, sizeof(what), "%.280s", title->valuestring);
	else if (cJSON_IsString(error))
		snprintf(what, sizeof(what), "%.280s", error->valuestring);
	else
		snprintf(what, sizeof(what), "generation failed");
	if (status == 401 || status == 403) {
		snprintf(m, sizeof(m), "%s: authentication failed (status %d; check %s): %s",
			 p->base.name, status, p->key_env, what);
		fail_now(p, VAGENT_EAUTH, m);
	} else {
		if (status)
			snprintf(m, sizeof(m), "%s: error %d: %s", p->base.name, status, what);
		else
			snprintf(m, sizeof(m), "%s: error: %s", p->base.name, what);
		fail_now(p, VAGENT_EPROVIDER, m);
	}
}

static void ws_message(void *arg, bool binary, const void *data, size_t len)
{
	struct cartesia_tts *p = arg;
	cJSON *j;
	const cJSON *type, *ctx, *d;
	uint64_t id = p->id;

	hold_wake(p, false);             /* the clock may move on */
	if (binary)
		return;                  /* the API sends text frames only */
	j = cJSON_ParseWithLength(data, len);
	type = cJSON_GetObjectItemCaseSensitive(j, "type");
	ctx = cJSON_GetObjectItemCaseSensitive(j, "context_id");
	if (!cJSON_IsString(type)) {
		char m[160];

		cJSON_Delete(j);
		snprintf(m, sizeof(m), "%s: malformed message from the server (not a JSON "
			 "object with a type)", p->base.name);
		fail_now(p, VAGENT_EPROTO, m);
		return;
	}
	if (!p->active || (cJSON_IsString(ctx) && strcmp(ctx->valuestring, p->context)) ||
	    (!cJSON_IsString(ctx) && strcmp(type->valuestring, "error"))) {
		/* a cancelled or finished context's late message */
		if (!strcmp(type->valuestring, "chunk"))
			p->stats.dropped++;
		cJSON_Delete(j);
		return;
	}
	if (!p->got_first) {
		p->got_first = true;
		if (p->base.on_first_byte)
			p->base.on_first_byte(p->base.ctx, id, p->sent);
		if (!p->active || p->id != id) {
			cJSON_Delete(j);
			return;
		}
	}
	if (p->idle_ms > 0)
		vagent_timer_start(p->idle_timer, vagent_ticks_from_ms(p->idle_ms), 0, NULL);
	if (!strcmp(type->valuestring, "chunk")) {
		d = cJSON_GetObjectItemCaseSensitive(j, "data");
		if (cJSON_IsString(d))
			play_chunk(p, d->valuestring);
	} else if (!strcmp(type->valuestring, "done")) {
		sentence_end(p);
		if (p->base.on_done)
			p->base.on_done(p->base.ctx, id);
	} else if (!strcmp(type->valuestring, "error")) {
		server_error(p, j);
	}
	/* timestamps, flush_done, phoneme_timestamps: nothing to do */
	cJSON_Delete(j);
}

static void ws_close(void *arg, int code, const char *reason)
{
	struct cartesia_tts *p = arg;
	char m[300];

	drop_socket(p);
	snprintf(m, sizeof(m), "%s: the connection closed mid-sentence (code %d%s%.120s)",
		 p->base.name, code, reason && *reason ? ": " : "", reason ? reason : "");
	fail_now(p, VAGENT_EIO, m);   /* nothing in flight: reopen at the next */
}

static void ws_error(void *arg, vagent_status st, int http_status, const char *message)
{
	struct cartesia_tts *p = arg;
	char m[400];

	drop_socket(p);
	if (http_status == 401 || http_status == 403) {
		snprintf(m, sizeof(m), "%s: authentication failed (HTTP %d; check %s)",
			 p->base.name, http_status, p->key_env);
		fail_now(p, VAGENT_EAUTH, m);
	} else {
		fail_now(p, http_status ? VAGENT_EPROVIDER : st, message);
	}
}

static void event_fired(struct vagent_timer *t, void *arg)
{
	struct cartesia_tts *p = arg;
	uint64_t id = p->id;

	(void)t;
	if (!p->active)
		return;
	sentence_end(p);
	if (p->base.on_done)
		p->base.on_done(p->base.ctx, id);
}

static void idle_fired(struct vagent_timer *t, void *arg)
{
	struct cartesia_tts *p = arg;
	char m[160];

	(void)t;
	if (!p->active)
		return;
	snprintf(m, sizeof(m), "%s: no answer for %d ms", p->base.name, p->idle_ms);
	drop_socket(p);   /* a stalled socket: the next sentence opens another */
	fail_now(p, VAGENT_ETIMEOUT, m);
}

static vagent_status connect_ws(struct cartesia_tts *p, struct vagent_error *err)
{
	struct vagent__ws_config wc = { 0 };
	struct vagent__ws_callbacks cb = { ws_open, ws_message, ws_close, ws_error, p };
	const char *headers[] = { p->h_key, p->h_auth, p->h_version, NULL };

	wc.url = p->url;
	wc.headers = headers;
	wc.who = p->base.name;
	wc.connect_timeout_ms = p->connect_ms;
	p->stats.connections++;
	return vagent__ws_client_new(p->base.loop, &wc, &cb, &p->ws, err);
}

static char *request_json(const struct cartesia_tts *p, const char *text)
{
	cJSON *j = cJSON_CreateObject(), *v, *f;
	char *s;

	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "context_id", p->context);
	cJSON_AddStringToObject(j, "model_id", p->model_id);
	cJSON_AddStringToObject(j, "transcript", text);
	v = cJSON_AddObjectToObject(j, "voice");
	cJSON_AddStringToObject(v, "mode", "id");
	cJSON_AddStringToObject(v, "id", p->voice);
	f = cJSON_AddObjectToObject(j, "output_format");
	cJSON_AddStringToObject(f, "container", "raw");
	cJSON_AddStringToObject(f, "encoding", p->mulaw ? "pcm_mulaw" : "pcm_s16le");
	cJSON_AddNumberToObject(f, "sample_rate", p->rate);
	if (p->language)
		cJSON_AddStringToObject(j, "language", p->language);
	if (p->speed > 0)
		cJSON_AddNumberToObject(j, "speed", p->speed);
	cJSON_AddBoolToObject(j, "continue", false);
	cJSON_AddNumberToObject(j, "max_buffer_delay_ms", 0);
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

static void send_cancel(struct cartesia_tts *p)
{
	char m[128];
	int n = snprintf(m, sizeof(m), "{\"context_id\":\"%s\",\"cancel\":true}", p->context);

	if (p->ws && vagent__ws_send(p->ws, false, m, (size_t)n, NULL) == VAGENT_OK)
		p->stats.cancels++;
}

/* ---- the TTS slot ---- */

static vagent_status tts_speak(struct vagent_tts *t, uint64_t id, const char *text,
			       int rate, struct vagent_error *err)
{
	struct cartesia_tts *p = (struct cartesia_tts *)t;
	const char *s = text ? text : "";
	char *req;
	vagent_status st;

	if (p->stopped)
		return vagent__error_set(err, VAGENT_EINVAL, t->name, "stopped");
	p->virtual_clock = vagent_clock_type(vagent_loop_clock(t->loop)) != VAGENT_CLOCK_REAL;
	if (rate != 8000 && rate != 16000 && rate != 22050 && rate != 24000 &&
	    rate != 44100 && rate != 48000)
		return vagent__error_set(err, VAGENT_EINVAL, t->name,
					 "rate: %d Hz (8000, 16000, 22050, 24000, 44100 or 48000)",
					 rate);
	if (p->mulaw && rate != 8000)
		return vagent__error_set(err, VAGENT_EINVAL, t->name,
					 "pcm_mulaw is 8000 Hz only, not %d", rate);
	if (!p->event_timer) {
		p->event_timer = vagent_timer_new(t->loop, event_fired, p);
		p->idle_timer = vagent_timer_new(t->loop, idle_fired, p);
		if (!p->event_timer || !p->idle_timer)
			return vagent__error_set(err, VAGENT_ENOMEM, t->name, "out of memory");
	}
	if (p->active) {                  /* one sentence at a time */
		send_cancel(p);
		sentence_end(p);
	}
	p->id = id;
	p->rate = rate;
	p->got_first = false;
	snprintf(p->context, sizeof(p->context), "vagent-%llu-%u", (unsigned long long)id,
		 ++p->serial);
	if (!s[strspn(s, " \t\r\n")]) {
		p->active = true;
		vagent_timer_start(p->event_timer, 0, 0, NULL);   /* nothing to say */
		return VAGENT_OK;
	}
	if (!hold_arm(p))
		return vagent__error_set(err, VAGENT_EINVAL, t->name,
					 "on a virtual clock the loop needs a worker to wait for "
					 "the WebSocket (or use --clock real)");
	if (!p->ws && (st = connect_ws(p, err)) != VAGENT_OK)
		return st;
	req = request_json(p, s);
	if (!req)
		return vagent__error_set(err, VAGENT_ENOMEM, t->name, "out of memory");
	st = vagent__ws_send(p->ws, false, req, strlen(req), err);
	if (st == VAGENT_EINVAL) {
		/* the socket closed under us between sentences: a new one */
		drop_socket(p);
		if ((st = connect_ws(p, err)) == VAGENT_OK)
			st = vagent__ws_send(p->ws, false, req, strlen(req), err);
	}
	free(req);
	if (st != VAGENT_OK)
		return st;
	p->stats.requests++;
	p->active = true;
	p->sent = vagent_loop_now(t->loop);

	if (p->idle_ms > 0)
		vagent_timer_start(p->idle_timer, vagent_ticks_from_ms(p->idle_ms), 0, NULL);
	return VAGENT_OK;
}

static void tts_cancel(struct vagent_tts *t, uint64_t id)
{
	struct cartesia_tts *p = (struct cartesia_tts *)t;

	if (!p->active || p->id != id)
		return;
	send_cancel(p);
	sentence_end(p);
}

static void tts_stop(struct vagent_tts *t)
{
	struct cartesia_tts *p = (struct cartesia_tts *)t;

	if (p->active)
		send_cancel(p);
	sentence_end(p);
	if (p->ws) {
		vagent__ws_close(p->ws, 1000, "");
		/* the session's loop may be freed before this provider */
		vagent__ws_detach(p->ws);
	}
	hold_wake(p, true);
	vagent_timer_free(p->event_timer);
	vagent_timer_free(p->idle_timer);
	p->event_timer = p->idle_timer = NULL;
	p->stopped = true;
}

static void wipe(char *s)
{
	if (s)
		memset(s, 0, strlen(s));
	free(s);
}

static void tts_free(struct vagent_tts *t)
{
	struct cartesia_tts *p = (struct cartesia_tts *)t;

	if (!p)
		return;
	p->stopped = true;
	hold_wake(p, true);
	vagent__ws_client_free(p->ws);
	vagent_timer_free(p->event_timer);
	vagent_timer_free(p->idle_timer);
	wipe(p->key);
	wipe(p->h_key);
	wipe(p->h_auth);
	free(p->h_version);
	free(p->url);
	free(p->key_env);
	free(p->model_id);
	free(p->voice);
	free(p->language);
	free(p->bytes);
	free(p->pcm);
	free(p);
}

static const struct vagent_tts_ops cartesia_ops = {
	.speak = tts_speak,
	.cancel = tts_cancel,
	.stop = tts_stop,
	.free = tts_free,
};

static char *header_line(const char *name, const char *prefix, const char *value, bool *oom)
{
	struct vagent__strbuf b = { 0 };
	char *s;

	vagent__strbuf_printf(&b, "%s: %s%s", name, prefix, value);
	s = vagent__strbuf_detach(&b);
	if (!s)
		*oom = true;
	return s;
}

static bool token_ok(const char *s)
{
	return s && *s && !strpbrk(s, "\r\n\"\\");
}

vagent_status vagent_cartesia_tts_new(const struct vagent_cartesia_config *cfg,
				      struct vagent_tts **out,
				      struct vagent_error *err)
{
	struct cartesia_tts *p;
	const char *name = cfg && cfg->name[0] ? cfg->name : "cartesia";
	const char *url;
	bool oom = false, tls;
	char *host = NULL, *path = NULL;
	int port;

	*out = NULL;
	if (!cfg)
		return vagent__error_set(err, VAGENT_EINVAL, name, "no config");
	url = cfg->url ? cfg->url : DEFAULT_URL;
	if (!vagent__ws_parse_url(url, &tls, &host, &port, &path))
		return vagent__error_set(err, VAGENT_EINVAL, name,
					 "url: not a ws:// or wss:// URL");
	free(host);
	free(path);
	if (strchr(url, '@'))
		return vagent__error_set(err, VAGENT_EINVAL, name,
					 "url: a URL without credentials (the key goes in "
					 "api_key)");
	if (!cfg->api_key || !*cfg->api_key || strpbrk(cfg->api_key, "\r\n"))
		return vagent__error_set(err, VAGENT_EINVAL, name, "no API key");
	if (!token_ok(cfg->voice))
		return vagent__error_set(err, VAGENT_EINVAL, name, "no voice id");
	if (!token_ok(cfg->model_id))
		return vagent__error_set(err, VAGENT_EINVAL, name, "no model_id");
	if (cfg->version && !token_ok(cfg->version))
		return vagent__error_set(err, VAGENT_EINVAL, name, "version: not a token");
	if (cfg->speed != 0 && (cfg->speed < 0.25 || cfg->speed > 4))
		return vagent__error_set(err, VAGENT_EINVAL, name, "speed: %g (0.25..4)",
					 cfg->speed);
	if (cfg->connect_timeout_ms < 0 || cfg->idle_timeout_ms < 0)
		return vagent__error_set(err, VAGENT_EINVAL, name, "timeouts >= 0");
	p = calloc(1, sizeof(*p));
	if (!p)
		return vagent__error_set(err, VAGENT_ENOMEM, name, "out of memory");
	p->base.ops = &cartesia_ops;
	snprintf(p->base.name, sizeof(p->base.name), "%s", name);
	p->speed = cfg->speed;
	p->mulaw = cfg->mulaw;
	p->connect_ms = cfg->connect_timeout_ms;
	p->idle_ms = cfg->idle_timeout_ms;
	p->url = vagent__strdup_track(url, &oom);
	p->key = vagent__strdup_track(cfg->api_key, &oom);
	p->key_env = vagent__strdup_track(cfg->api_key_env && *cfg->api_key_env ? cfg->api_key_env
				 : "the API key", &oom);
	p->model_id = vagent__strdup_track(cfg->model_id, &oom);
	p->voice = vagent__strdup_track(cfg->voice, &oom);
	p->language = vagent__strdup_track(cfg->language && *cfg->language ? cfg->language : NULL, &oom);
	p->h_key = header_line("X-API-Key", "", cfg->api_key, &oom);
	p->h_auth = header_line("Authorization", "Bearer ", cfg->api_key, &oom);
	p->h_version = header_line("Cartesia-Version", "",
				   cfg->version ? cfg->version : DEFAULT_VERSION, &oom);
	if (oom) {
		tts_free(&p->base);
		return vagent__error_set(err, VAGENT_ENOMEM, name, "out of memory");
	}
	*out = &p->base;
	return VAGENT_OK;
}

void vagent_cartesia_tts_stats(const struct vagent_tts *tts,
			       struct vagent_cartesia_stats *out)
{
	*out = ((const struct cartesia_tts *)tts)->stats;
}
