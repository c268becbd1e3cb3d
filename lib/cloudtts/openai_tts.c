/*
 * openai_tts.c — OpenAI speech (POST {base}/audio/speech with
 * response_format "pcm": 24 kHz s16le mono, streamed) as a `struct
 * vagent_tts`, one request per sentence over lib/net/http_stream.c on the
 * session's loop. The body is resampled to the call's rate as it arrives
 * (a sample split across two reads is carried over). 429 (not quota) and
 * 5xx are retried before the first byte, honouring retry-after; errors
 * name the provider ("openai-tts") and never the key.
 * docs/providers.md "OpenAI speech (TTS)".
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "net/http_stream_int.h"

#define DEFAULT_BASE   "https://api.openai.com/v1"
#define WIRE_RATE      24000
#define MAX_RETRY_AFTER_S 10.0
#define MAX_INPUT      4096

struct openai_tts {
	struct vagent_tts base;
	char *endpoint, *auth, *key, *key_env, *model, *voice, *instructions;
	double speed;
	int connect_ms, first_byte_ms, idle_ms, max_retries;
	struct vagent__http *http;
	struct vagent__http_req *req;
	struct vagent_timer *retry_timer, *event_timer;
	/* the sentence in flight */
	bool active, got_bytes, stopped;
	uint64_t id;
	char *text;
	int rate, attempt;
	int64_t sent;                 /* loop time the current attempt went out */
	struct vagent_resampler *rs;
	unsigned char odd;            /* a byte of a sample split across reads */
	bool has_odd;
	float *fin, *fout;
	int16_t *pcm;
	size_t cap_in, cap_out;
	/* a deferred report (empty text's on_done, a failed start) */
	bool ev_error;
	vagent_status ev_st;
	char ev_msg[520];
	struct vagent_openai_tts_stats stats;
};

static void start_request(struct openai_tts *p);

struct vagent_openai_tts_config vagent_openai_tts_config_default(void)
{
	struct vagent_openai_tts_config c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "openai-tts");
	c.base_url = DEFAULT_BASE;
	c.api_key_env = "OPENAI_API_KEY";
	c.model = "gpt-4o-mini-tts";
	c.voice = "alloy";
	c.connect_timeout_ms = 10000;
	c.first_byte_timeout_ms = 10000;
	c.idle_timeout_ms = 5000;
	c.max_retries = 2;
	return c;
}

/* Never let the key out, even when a server echoes it. */
static void scrub(const struct openai_tts *p, char *msg)
{
	size_t klen = strlen(p->key);
	char *at;

	if (klen < 4)
		return;
	while ((at = strstr(msg, p->key)) != NULL)
		memset(at, '*', klen);
}

static void sentence_end(struct openai_tts *p)
{
	vagent__http_cancel(p->req);
	p->req = NULL;
	vagent_timer_stop(p->retry_timer);
	vagent_timer_stop(p->event_timer);
	vagent_resampler_free(p->rs);
	p->rs = NULL;
	free(p->text);
	p->text = NULL;
	p->active = false;
	p->has_odd = false;
}

static void fail_now(struct openai_tts *p, vagent_status st, const char *msg)
{
	char m[520];
	uint64_t id = p->id;

	snprintf(m, sizeof(m), "%s", msg);
	scrub(p, m);
	sentence_end(p);
	if (p->base.on_error)
		p->base.on_error(p->base.ctx, id, st, m);
}

static void report_later(struct openai_tts *p, bool error, vagent_status st,
			 const char *msg)
{
	p->ev_error = error;
	p->ev_st = st;
	snprintf(p->ev_msg, sizeof(p->ev_msg), "%s", msg ? msg : "");
	vagent_timer_start(p->event_timer, 0, 0, NULL);
}

static void event_fired(struct vagent_timer *t, void *arg)
{
	struct openai_tts *p = arg;
	uint64_t id = p->id;

	(void)t;
	if (!p->active)
		return;
	if (p->ev_error) {
		fail_now(p, p->ev_st, p->ev_msg);
		return;
	}
	sentence_end(p);
	p->stats.done++;
	if (p->base.on_done)
		p->base.on_done(p->base.ctx, id);
}

static bool grow(struct openai_tts *p, size_t in, size_t out)
{
	if (in > p->cap_in) {
		float *f = realloc(p->fin, in * sizeof(*f));

		if (!f)
			return false;
		p->fin = f;
		p->cap_in = in;
	}
	if (out > p->cap_out) {
		float *f = realloc(p->fout, out * sizeof(*f));
		int16_t *s = realloc(p->pcm, out * sizeof(*s));

		if (f)
			p->fout = f;
		if (s)
			p->pcm = s;
		if (!f || !s)
			return false;
		p->cap_out = out;
	}
	return true;
}

/* Hand `n` float samples (p->fout) to the session; false when the
 * sentence ended meanwhile (a cancel from on_audio). */
static bool emit(struct openai_tts *p, size_t n)
{
	uint64_t id = p->id;

	if (!n)
		return true;
	for (size_t i = 0; i < n; i++) {
		float v = p->fout[i];

		p->pcm[i] = v >= 32767.f ? 32767 : v <= -32768.f ? -32768 : (int16_t)lrintf(v);
	}
	p->stats.samples += (long)n;
	if (p->base.on_audio)
		p->base.on_audio(p->base.ctx, id, p->pcm, n);
	return p->active && p->id == id;
}

static void on_data(void *ctx, const char *buf, size_t n)
{
	struct openai_tts *p = ctx;
	const unsigned char *b = (const unsigned char *)buf;
	size_t samples, k = 0, out_n;

	if (!p->active || !n)
		return;
	p->stats.bytes += (long)n;
	if (!p->got_bytes) {
		uint64_t id = p->id;

		p->got_bytes = true;
		if (p->base.on_first_byte) {
			p->base.on_first_byte(p->base.ctx, id, p->sent);
			if (!p->active || p->id != id)
				return;
		}
	}
	samples = (n + (p->has_odd ? 1 : 0)) / 2;
	if (!grow(p, samples + 1, (p->rs ? vagent_resampler_max_output(p->rs, samples + 1)
				   : samples) + 1)) {
		vagent__http_cancel(p->req);
		p->req = NULL;
		report_later(p, true, VAGENT_ENOMEM, "openai-tts: out of memory");
		return;
	}
	{
		size_t i = 0, s = 0;

		if (p->has_odd) {
			p->fin[s++] = (float)(int16_t)(uint16_t)(p->odd | (b[0] << 8));
			i = 1;
			p->has_odd = false;
		}
		for (; i + 1 < n; i += 2)
			p->fin[s++] = (float)(int16_t)(uint16_t)(b[i] | (b[i + 1] << 8));
		if (i < n) {
			p->odd = b[i];
			p->has_odd = true;
		}
		k = s;
	}
	if (p->rate == WIRE_RATE) {
		memcpy(p->fout, p->fin, k * sizeof(float));
		out_n = k;
	} else if (vagent_resampler_process(p->rs, p->fin, k, p->fout, p->cap_out,
					    &out_n) != VAGENT_OK) {
		out_n = 0;
	}
	emit(p, out_n);
}

/* Retry this answer? Only before any audio; `delay_s` the wait. */
static bool retryable(struct openai_tts *p, const struct vagent__http_result *r,
		      double *delay_s)
{
	double backoff;

	if (p->got_bytes || p->attempt >= p->max_retries || r->should_retry_false)
		return false;
	if (r->st == VAGENT_OK) {
		if (r->status != 408 && r->status != 429 && r->status < 500)
			return false;
		if (r->status == 429 && strstr(r->body, "insufficient_quota"))
			return false;
	} else if (r->st == VAGENT_ETIMEOUT) {
		return false;    /* the session's own deadline is near: fail over */
	}
	if (r->retry_after_s > MAX_RETRY_AFTER_S)
		return false;
	backoff = 0.25 * pow(2, p->attempt);
	*delay_s = r->retry_after_s > 0 ? r->retry_after_s : backoff;
	return true;
}

/* error.message of an OpenAI error body, sanitised, or "". */
static void error_detail(const char *body, char *out, size_t cap)
{
	cJSON *j = body && *body ? cJSON_Parse(body) : NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	const cJSON *m = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "message") : e;

	out[0] = '\0';
	if (cJSON_IsString(m) && *m->valuestring) {
		snprintf(out, cap, ": %.200s", m->valuestring);
		for (char *c = out; *c; c++)
			if ((unsigned char)*c < 0x20)
				*c = ' ';
	}
	cJSON_Delete(j);
}

static void on_done(void *ctx, const struct vagent__http_result *r)
{
	struct openai_tts *p = ctx;
	char msg[400], detail[240];
	vagent_status st;
	double delay;

	p->req = NULL;
	if (!p->active)
		return;
	if (r->st == VAGENT_OK && r->status >= 200 && r->status < 300) {
		size_t n = 0;
		uint64_t id = p->id;

		if (p->rate != WIRE_RATE && p->rs) {
			if (!grow(p, 1, vagent_resampler_max_output(p->rs, 0) + 1) ||
			    vagent_resampler_flush(p->rs, p->fout, p->cap_out, &n) != VAGENT_OK)
				n = 0;
			if (!emit(p, n))
				return;
		}
		sentence_end(p);
		p->stats.done++;
		if (p->base.on_done)
			p->base.on_done(p->base.ctx, id);
		return;
	}
	if (r->st == VAGENT_OK) {
		error_detail(r->body, detail, sizeof(detail));
		if (r->status == 401 || r->status == 403) {
			st = VAGENT_EAUTH;
			snprintf(msg, sizeof(msg), "%s: authentication failed (HTTP %ld; check %s)%s",
				 p->base.name, r->status, p->key_env, detail);
		} else {
			st = VAGENT_EPROVIDER;
			snprintf(msg, sizeof(msg), "%s: HTTP %ld%s", p->base.name, r->status, detail);
		}
	} else {
		st = r->st;
		snprintf(msg, sizeof(msg), "%s", r->message);
	}
	if (retryable(p, r, &delay)) {
		p->attempt++;
		p->stats.retries++;
		vagent_timer_start(p->retry_timer,
				   (int64_t)llround(delay * 1000) * VAGENT_TICKS_PER_MS, 0, NULL);
		return;
	}
	fail_now(p, st, msg);
}

static void retry_fired(struct vagent_timer *t, void *arg)
{
	(void)t;
	start_request(arg);
}

static char *request_body(const struct openai_tts *p)
{
	cJSON *j = cJSON_CreateObject();
	char *s;

	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "model", p->model);
	cJSON_AddStringToObject(j, "voice", p->voice);
	cJSON_AddStringToObject(j, "input", p->text);
	if (p->instructions)
		cJSON_AddStringToObject(j, "instructions", p->instructions);
	cJSON_AddStringToObject(j, "response_format", "pcm");
	if (p->speed > 0)
		cJSON_AddNumberToObject(j, "speed", p->speed);
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

static void start_request(struct openai_tts *p)
{
	const char *headers[] = { p->auth, "Content-Type: application/json",
				  "Accept: application/octet-stream", NULL };
	struct vagent__http_request rq = { 0 };
	struct vagent_error e;
	char *body;

	if (!p->active)
		return;
	body = request_body(p);
	if (!body) {
		report_later(p, true, VAGENT_ENOMEM, "openai-tts: out of memory");
		return;
	}
	rq.name = p->base.name;
	rq.url = p->endpoint;
	rq.headers = headers;
	rq.body = body;
	rq.connect_timeout_ms = p->connect_ms;
	rq.first_byte_timeout_ms = p->first_byte_ms;
	rq.idle_timeout_ms = p->idle_ms;
	rq.on_data = on_data;
	rq.on_done = on_done;
	rq.ctx = p;
	p->sent = vagent_loop_now(p->base.loop);
	p->stats.requests++;
	if (vagent__http_start(p->http, &rq, &p->req, &e) != VAGENT_OK) {
		p->req = NULL;
		report_later(p, true, e.status, e.message);
	}
	free(body);
}

/* ---- the TTS slot ---- */

static vagent_status tts_speak(struct vagent_tts *t, uint64_t id, const char *text,
			       int rate, struct vagent_error *err)
{
	struct openai_tts *p = (struct openai_tts *)t;
	const char *s = text ? text : "";

	if (p->stopped)
		return vagent__error_set(err, VAGENT_EINVAL, t->name, "stopped");
	if (rate != 8000 && rate != 16000 && rate != WIRE_RATE)
		return vagent__error_set(err, VAGENT_EINVAL, t->name,
					 "rate: %d Hz (8000, 16000 or 24000)", rate);
	if (strlen(s) > MAX_INPUT)
		return vagent__error_set(err, VAGENT_EINVAL, t->name,
					 "a sentence over %d bytes", MAX_INPUT);
	if (!p->http) {
		vagent_status st = vagent__http_new(t->loop, &p->http, err);

		if (st != VAGENT_OK)
			return st;
		p->retry_timer = vagent_timer_new(t->loop, retry_fired, p);
		p->event_timer = vagent_timer_new(t->loop, event_fired, p);
		if (!p->retry_timer || !p->event_timer)
			return vagent__error_set(err, VAGENT_ENOMEM, t->name, "out of memory");
	}
	sentence_end(p);              /* one sentence at a time */
	p->text = strdup(s);
	if (!p->text)
		return vagent__error_set(err, VAGENT_ENOMEM, t->name, "out of memory");
	if (rate != WIRE_RATE) {
		struct vagent_resampler_config rc = vagent_resampler_config_default();
		vagent_status st;

		rc.in_rate = WIRE_RATE;
		rc.out_rate = rate;
		if ((st = vagent_resampler_new(&rc, &p->rs, err)) != VAGENT_OK) {
			free(p->text);
			p->text = NULL;
			return st;
		}
	}
	p->id = id;
	p->rate = rate;
	p->active = true;
	p->got_bytes = false;
	p->attempt = 0;
	p->stats.sentences++;
	if (!s[strspn(s, " \t\r\n")]) {
		report_later(p, false, VAGENT_OK, NULL);   /* nothing to say */
		return VAGENT_OK;
	}
	start_request(p);
	return VAGENT_OK;
}

static void tts_cancel(struct vagent_tts *t, uint64_t id)
{
	struct openai_tts *p = (struct openai_tts *)t;

	if (!p->active || p->id != id)
		return;
	p->stats.cancelled++;
	sentence_end(p);
}

/* Close the connection and drop the loop's watchers and timers now: the
 * loop may be freed before the provider. */
static void release_network(struct openai_tts *p)
{
	sentence_end(p);
	vagent__http_free(p->http);
	p->http = NULL;
	vagent_timer_free(p->retry_timer);
	vagent_timer_free(p->event_timer);
	p->retry_timer = p->event_timer = NULL;
}

static void tts_stop(struct vagent_tts *t)
{
	struct openai_tts *p = (struct openai_tts *)t;

	release_network(p);
	p->stopped = true;
}

static void tts_free(struct vagent_tts *t)
{
	struct openai_tts *p = (struct openai_tts *)t;

	if (!p)
		return;
	release_network(p);
	if (p->auth)
		memset(p->auth, 0, strlen(p->auth));
	if (p->key)
		memset(p->key, 0, strlen(p->key));
	free(p->auth);
	free(p->key);
	free(p->key_env);
	free(p->endpoint);
	free(p->model);
	free(p->voice);
	free(p->instructions);
	free(p->fin);
	free(p->fout);
	free(p->pcm);
	free(p);
}

static const struct vagent_tts_ops openai_tts_ops = {
	.speak = tts_speak,
	.cancel = tts_cancel,
	.stop = tts_stop,
	.free = tts_free,
};

vagent_status vagent_openai_tts_new(const struct vagent_openai_tts_config *cfg,
				    struct vagent_tts **out,
				    struct vagent_error *err)
{
	struct openai_tts *p;
	const char *name = cfg && cfg->name[0] ? cfg->name : "openai-tts";
	const char *base;
	size_t bl;
	bool oom = false;
	vagent_status st;

	*out = NULL;
	if (!cfg)
		return vagent__error_set(err, VAGENT_EINVAL, name, "no config");
	base = cfg->base_url ? cfg->base_url : DEFAULT_BASE;
	if (!vagent__is_http_base_url(base))
		return vagent__error_set(err, VAGENT_EINVAL, name, "url: not an http:// or "
					 "https:// base URL without query or credentials");
	if (!cfg->api_key || !*cfg->api_key || strpbrk(cfg->api_key, "\r\n"))
		return vagent__error_set(err, VAGENT_EINVAL, name, "no API key");
	if (!cfg->model || !*cfg->model)
		return vagent__error_set(err, VAGENT_EINVAL, name, "no model");
	if (!cfg->voice || !*cfg->voice)
		return vagent__error_set(err, VAGENT_EINVAL, name, "no voice");
	if (cfg->speed != 0 && (cfg->speed < 0.25 || cfg->speed > 4))
		return vagent__error_set(err, VAGENT_EINVAL, name, "speed: %g (0.25..4)",
					 cfg->speed);
	if (cfg->connect_timeout_ms < 0 || cfg->first_byte_timeout_ms < 0 ||
	    cfg->idle_timeout_ms < 0 || cfg->max_retries < 0 || cfg->max_retries > 5)
		return vagent__error_set(err, VAGENT_EINVAL, name,
					 "timeouts >= 0, max_retries 0..5");
	if ((st = vagent__curl_init(err, name)) != VAGENT_OK)
		return st;
	p = calloc(1, sizeof(*p));
	if (!p)
		return vagent__error_set(err, VAGENT_ENOMEM, name, "out of memory");
	p->base.ops = &openai_tts_ops;
	snprintf(p->base.name, sizeof(p->base.name), "%s", name);
	p->speed = cfg->speed;
	p->connect_ms = cfg->connect_timeout_ms;
	p->first_byte_ms = cfg->first_byte_timeout_ms;
	p->idle_ms = cfg->idle_timeout_ms;
	p->max_retries = cfg->max_retries;
	bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		bl--;
	p->endpoint = malloc(bl + sizeof("/audio/speech"));
	if (p->endpoint) {
		memcpy(p->endpoint, base, bl);
		strcpy(p->endpoint + bl, "/audio/speech");
	}
	p->auth = malloc(strlen(cfg->api_key) + sizeof("Authorization: Bearer "));
	if (p->auth)
		sprintf(p->auth, "Authorization: Bearer %s", cfg->api_key);
	p->key = vagent__strdup_track(cfg->api_key, &oom);
	p->key_env = vagent__strdup_track(cfg->api_key_env && *cfg->api_key_env ? cfg->api_key_env
				 : "the API key", &oom);
	p->model = vagent__strdup_track(cfg->model, &oom);
	p->voice = vagent__strdup_track(cfg->voice, &oom);
	p->instructions = vagent__strdup_track(cfg->instructions, &oom);
	if (oom || !p->endpoint || !p->auth) {
		tts_free(&p->base);
		return vagent__error_set(err, VAGENT_ENOMEM, name, "out of memory");
	}
	*out = &p->base;
	return VAGENT_OK;
}

void vagent_openai_tts_stats(const struct vagent_tts *tts,
			     struct vagent_openai_tts_stats *out)
{
	*out = ((const struct openai_tts *)tts)->stats;
}
