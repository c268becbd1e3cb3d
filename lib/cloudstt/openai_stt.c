/*
 * openai_stt.c — OpenAI-compatible transcription (POST {base}/audio/
 * transcriptions, multipart, response_format json) as a per-turn batch
 * `struct vagent_stt`: the caller's audio from the first VAD speech start
 * of a turn (with a short pre-roll) to the session's turn end is sent as
 * one WAV file, and the answer's "text" is the turn's final. No partials.
 * The request runs with libcurl on one of the loop's worker threads, so on
 * a virtual clock the loop waits for it (charged its wall time). Retries
 * 429 (not quota) and 5xx once, honouring retry-after up to 2 s.
 * docs/providers.md "OpenAI transcription (STT)".
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/internal.h"
#include "net/cassette_int.h"

#define DEFAULT_BASE   "https://api.openai.com/v1"
#define MAX_TURN_SEC   120
#define MAX_RETRY_WAIT_MS 2000

struct openai_stt;

struct request {
	struct openai_stt *p;
	struct request *next;
	int16_t *samples;
	size_t n;
	struct vagent_cassette *cassette; /* the loop's provider cassette, or NULL */
	/* results (worker) */
	char *text;
	vagent_status status;
	char message[320];
	int64_t ttfb_us;          /* the answering attempt's time to the
				   * first byte of its answer; -1 */
};

struct openai_stt {
	struct vagent_stt base;
	char *endpoint, *auth, *model, *language, *prompt;
	int rate, timeout_ms, preroll_ms, max_retries;
	/* pre-roll ring, outside a turn's audio */
	int16_t *ring;
	size_t ring_cap, ring_len, ring_pos;
	/* the turn's audio */
	bool collecting;
	int16_t *buf;
	size_t len, cap;
	/* requests in flight */
	struct request *inflight;
	atomic_bool cancel;
	bool stopped, failed, freeing;
	struct vagent_timer *err_timer;
	vagent_status err_status;
	char err_msg[320];
	struct vagent_openai_stt_stats stats;
};

struct vagent_openai_stt_config vagent_openai_stt_config_default(void)
{
	struct vagent_openai_stt_config c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "openai");
	c.base_url = DEFAULT_BASE;
	c.model = "gpt-4o-mini-transcribe";
	c.rate = 8000;
	c.timeout_ms = 10000;
	c.preroll_ms = 300;
	c.max_retries = 1;
	return c;
}

static bool usable(const struct openai_stt *p)
{
	return !p->stopped && !p->failed && !p->freeing;
}

static void fail_now(struct openai_stt *p, vagent_status st, const char *msg)
{
	if (!usable(p))
		return;
	p->failed = true;
	if (p->base.on_error)
		p->base.on_error(p->base.ctx, st, msg);
}

static void err_timer_fired(struct vagent_timer *t, void *arg)
{
	struct openai_stt *p = arg;

	(void)t;
	fail_now(p, p->err_status, p->err_msg);
}

static void fail_later(struct openai_stt *p, vagent_status st, const char *msg)
{
	if (!usable(p) || !p->err_timer || vagent_timer_active(p->err_timer))
		return;
	p->err_status = st;
	snprintf(p->err_msg, sizeof(p->err_msg), "%s", msg);
	vagent_timer_start(p->err_timer, 0, 0, NULL);
}

/* ---- the worker side ---- */

static void put_le(unsigned char *b, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

static unsigned char *make_wav(const int16_t *s, size_t n, int rate, size_t *len)
{
	size_t data = n * 2;
	unsigned char *w = malloc(44 + data);

	if (!w)
		return NULL;
	memcpy(w, "RIFF", 4);
	put_le(w + 4, (uint32_t)(36 + data), 4);
	memcpy(w + 8, "WAVEfmt ", 8);
	put_le(w + 16, 16, 4);
	put_le(w + 20, 1, 2);            /* PCM */
	put_le(w + 22, 1, 2);            /* mono */
	put_le(w + 24, (uint32_t)rate, 4);
	put_le(w + 28, (uint32_t)rate * 2, 4);
	put_le(w + 32, 2, 2);
	put_le(w + 34, 16, 2);
	memcpy(w + 36, "data", 4);
	put_le(w + 40, (uint32_t)data, 4);
	for (size_t i = 0; i < n; i++)
		put_le(w + 44 + 2 * i, (uint16_t)s[i], 2);
	*len = 44 + data;
	return w;
}

struct body {
	char *data;
	size_t len;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;
	char *d;

	if (b->len + n > (1u << 20))
		return 0;
	d = realloc(b->data, b->len + n + 1);
	if (!d)
		return 0;
	memcpy(d + b->len, ptr, n);
	b->len += n;
	d[b->len] = '\0';
	b->data = d;
	return n;
}

struct hdrs {
	int retry_after_ms;   /* -1: none */
	int64_t first_us;     /* CLOCK_MONOTONIC of the answer's first byte; -1 */
};

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct hdrs *h = arg;
	size_t n = size * nmemb;

	if (h->first_us < 0)
		h->first_us = mono_us();   /* the status line */
	if (n > 15 && !strncasecmp(ptr, "retry-after-ms:", 15))
		h->retry_after_ms = (int)strtod(ptr + 15, NULL);
	else if (n > 12 && !strncasecmp(ptr, "retry-after:", 12) && h->retry_after_ms < 0)
		h->retry_after_ms = (int)(strtod(ptr + 12, NULL) * 1000);
	return n;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct openai_stt *p = arg;

	(void)a; (void)b; (void)c; (void)d;
	return atomic_load(&p->cancel) ? 1 : 0;
}

/* The error's message from an OpenAI error body, or "". */
static void error_detail(const char *body, char *out, size_t cap)
{
	cJSON *j = body ? cJSON_Parse(body) : NULL;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(j, "error"), "message");

	out[0] = '\0';
	if (cJSON_IsString(m)) {
		snprintf(out, cap, ": %.120s", m->valuestring);
		for (char *c = out; *c; c++)
			if ((unsigned char)*c < 0x20)
				*c = ' ';
	}
	cJSON_Delete(j);
}

static bool quota_error(const char *body)
{
	return body && strstr(body, "insufficient_quota");
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The request's form fields as JSON, for a provider cassette (the audio
 * is not recorded). malloc'd, or NULL. */
static char *form_json(const struct openai_stt *p)
{
	cJSON *j = cJSON_CreateObject();
	char *s;

	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "model", p->model);
	cJSON_AddStringToObject(j, "response_format", "json");
	if (p->language)
		cJSON_AddStringToObject(j, "language", p->language);
	if (p->prompt)
		cJSON_AddStringToObject(j, "prompt", p->prompt);
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1000.0 +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void transcribe(void *arg)
{
	struct request *r = arg;
	struct openai_stt *p = r->p;
	const char *name = p->base.name;
	size_t wav_len;
	unsigned char *wav = make_wav(r->samples, r->n, p->rate, &wav_len);
	CURL *h = NULL;
	curl_mime *mime = NULL;
	struct curl_slist *headers = NULL;
	struct body body = { 0 };
	long http = 0;
	int attempt = 0;
	char *form = r->cassette ? form_json(p) : NULL;
	const char *auth_headers[2] = { p->auth, NULL };
	bool replaying = vagent__cassette_replaying(r->cassette);

	r->status = VAGENT_EPROVIDER;
	if (!wav || !(h = curl_easy_init())) {
		r->status = VAGENT_ENOMEM;
		snprintf(r->message, sizeof(r->message), "%s: out of memory", name);
		goto out;
	}
	headers = curl_slist_append(headers, p->auth);
	headers = curl_slist_append(headers, "Expect:");
	for (;;) {
		struct hdrs hd = { -1, -1 };
		int64_t attempt_us;
		CURLcode rc;
		char detail[160];

		free(body.data);
		body.data = NULL;
		body.len = 0;
		curl_easy_reset(h);
		curl_mime_free(mime);   /* a mime body is read once: anew each try */
		mime = curl_mime_init(h);
		{
			curl_mimepart *part = curl_mime_addpart(mime);

			curl_mime_name(part, "file");
			curl_mime_filename(part, "turn.wav");
			curl_mime_type(part, "audio/wav");
			curl_mime_data(part, (const char *)wav, wav_len);
			part = curl_mime_addpart(mime);
			curl_mime_name(part, "model");
			curl_mime_data(part, p->model, CURL_ZERO_TERMINATED);
			part = curl_mime_addpart(mime);
			curl_mime_name(part, "response_format");
			curl_mime_data(part, "json", CURL_ZERO_TERMINATED);
			if (p->language) {
				part = curl_mime_addpart(mime);
				curl_mime_name(part, "language");
				curl_mime_data(part, p->language, CURL_ZERO_TERMINATED);
			}
			if (p->prompt) {
				part = curl_mime_addpart(mime);
				curl_mime_name(part, "prompt");
				curl_mime_data(part, p->prompt, CURL_ZERO_TERMINATED);
			}
		}
		curl_easy_setopt(h, CURLOPT_URL, p->endpoint);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, &hd);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, p);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)p->timeout_ms);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		attempt_us = mono_us();
		if (replaying) {
			/* a provider cassette answers, no network */
			struct vagent__cassette_answer ans;
			bool hit = vagent__cassette_blocking_replay(r->cassette, name, p->endpoint,
								    form, &p->cancel, &ans);

			if (atomic_load(&p->cancel) || !hit || !ans.status) {
				free(ans.body);
				r->status = atomic_load(&p->cancel) ? VAGENT_EIO : ans.st;
				snprintf(r->message, sizeof(r->message), "%s",
					 atomic_load(&p->cancel) ? "cancelled" : ans.message);
				goto out;
			}
			http = ans.status;
			r->ttfb_us = mono_us() - attempt_us;   /* the recorded wait */
			body.data = ans.body;
			body.len = ans.body ? strlen(ans.body) : 0;
			hd.retry_after_ms = ans.retry_after_ms;
		} else {
			struct vagent__cassette_answer rec = { .retry_after_ms = -1 };
			struct timespec t0;

			clock_gettime(CLOCK_MONOTONIC, &t0);
			rc = curl_easy_perform(h);
			if (atomic_load(&p->cancel)) {
				r->status = VAGENT_EIO;
				snprintf(r->message, sizeof(r->message), "%s: cancelled", name);
				goto out;
			}
			if (rc != CURLE_OK) {
				r->status = rc == CURLE_OPERATION_TIMEDOUT ? VAGENT_ETIMEOUT : VAGENT_EIO;
				snprintf(r->message, sizeof(r->message),
					 "%s: transcription request failed: %s",
					 name, curl_easy_strerror(rc));
				if (r->cassette) {
					rec.st = r->status;
					snprintf(rec.message, sizeof(rec.message), "%s", r->message);
					vagent__cassette_blocking_record(r->cassette, name, p->endpoint,
									 auth_headers, form,
									 ms_since(&t0), &rec);
				}
				goto out;
			}
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
			/* (not CURLINFO_STARTTRANSFER_TIME: for a POST some libcurl
			 * versions stamp it when the upload starts) */
			r->ttfb_us = hd.first_us >= attempt_us ? hd.first_us - attempt_us : -1;
			if (r->cassette) {
				rec.status = http;
				rec.body = body.data;
				rec.retry_after_ms = hd.retry_after_ms;
				rec.st = VAGENT_OK;
				vagent__cassette_blocking_record(r->cassette, name, p->endpoint,
								 auth_headers, form, ms_since(&t0),
								 &rec);
			}
		}
		if (http == 200)
			break;
		error_detail(body.data, detail, sizeof(detail));
		if ((http == 429 && !quota_error(body.data)) || http >= 500) {
			if (attempt < p->max_retries &&
			    hd.retry_after_ms <= MAX_RETRY_WAIT_MS) {
				attempt++;
				sleep_ms(hd.retry_after_ms > 0 ? hd.retry_after_ms : 250 * attempt);
				continue;
			}
		}
		r->status = http == 401 || http == 403 ? VAGENT_EAUTH : VAGENT_EPROVIDER;
		snprintf(r->message, sizeof(r->message), "%s: transcription answered HTTP %ld%s",
			 name, http, detail);
		goto out;
	}
	{
		cJSON *j = cJSON_Parse(body.data ? body.data : "");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "text");

		if (!cJSON_IsString(t)) {
			r->status = VAGENT_EPROTO;
			snprintf(r->message, sizeof(r->message),
				 "%s: malformed transcription response (no \"text\" string)", name);
		} else {
			r->text = strdup(t->valuestring);
			r->status = r->text ? VAGENT_OK : VAGENT_ENOMEM;
			if (!r->text)
				snprintf(r->message, sizeof(r->message), "%s: out of memory", name);
		}
		cJSON_Delete(j);
	}
out:
	free(form);
	free(body.data);
	curl_mime_free(mime);
	curl_slist_free_all(headers);
	if (h)
		curl_easy_cleanup(h);
	free(wav);
}

/* ---- the loop side ---- */

static void provider_destroy(struct openai_stt *p)
{
	vagent_timer_free(p->err_timer);
	if (p->auth)
		memset(p->auth, 0, strlen(p->auth));
	free(p->auth);
	free(p->endpoint);
	free(p->model);
	free(p->language);
	free(p->prompt);
	free(p->ring);
	free(p->buf);
	free(p);
}

static void request_free(struct request *r)
{
	free(r->samples);
	free(r->text);
	free(r);
}

static void transcribed(void *arg, int64_t charged)
{
	struct request *r = arg, **pp;
	struct openai_stt *p = r->p;

	for (pp = &p->inflight; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	if (charged >= 0 && usable(p)) {
		if (r->status == VAGENT_OK) {
			p->stats.finals++;
			/* The answer is one small JSON body: told when it has
			 * all arrived, with the request's measured time to
			 * first byte (docs/trace.md). */
			if (r->ttfb_us >= 0 && p->base.on_first_byte) {
				int64_t ttfb = (int64_t)r->ttfb_us * VAGENT_TICKS_PER_MS / 1000;

				p->base.on_first_byte(p->base.ctx, 0,
						      vagent_loop_now(p->base.loop) - ttfb);
			}
			if (usable(p))
				p->base.on_final(p->base.ctx, r->text, -1);
		} else {
			fail_now(p, r->status, r->message);
		}
	}
	request_free(r);
	if (p->freeing && !p->inflight)
		provider_destroy(p);
}

static void ring_push(struct openai_stt *p, const int16_t *s, size_t n)
{
	for (size_t i = 0; i < n && p->ring_cap; i++) {
		p->ring[p->ring_pos] = s[i];
		p->ring_pos = (p->ring_pos + 1) % p->ring_cap;
		if (p->ring_len < p->ring_cap)
			p->ring_len++;
	}
}

static bool buf_append(struct openai_stt *p, const int16_t *s, size_t n)
{
	if (p->len + n > (size_t)p->rate * MAX_TURN_SEC)
		return true;    /* a turn this long: keep its first two minutes */
	if (p->len + n > p->cap) {
		size_t cap = (p->len + n) * 2;
		int16_t *b = realloc(p->buf, cap * sizeof(*b));

		if (!b)
			return false;
		p->buf = b;
		p->cap = cap;
	}
	memcpy(p->buf + p->len, s, n * sizeof(*s));
	p->len += n;
	return true;
}

static void stt_audio(struct vagent_stt *stt, const struct vagent_frame *f,
		      const struct vagent_speech_truth *truth)
{
	struct openai_stt *p = (struct openai_stt *)stt;
	int16_t mono[VAGENT_FRAME_MAX_SAMPLES];

	(void)truth;
	if (!usable(p))
		return;
	if (!p->err_timer && p->base.loop)
		p->err_timer = vagent_timer_new(p->base.loop, err_timer_fired, p);
	if (f->rate != p->rate || (f->channels != 1 && f->channels != 2)) {
		char m[160];

		snprintf(m, sizeof(m), "%s: a %d Hz %d-channel frame on a %d Hz call",
			 p->base.name, f->rate, f->channels, p->rate);
		fail_later(p, VAGENT_EINVAL, m);
		return;
	}
	for (size_t i = 0; i < f->n; i++)
		mono[i] = f->channels == 1 ? f->samples[i]
			: (int16_t)(((int)f->samples[2 * i] + f->samples[2 * i + 1]) / 2);
	if (p->collecting) {
		if (!buf_append(p, mono, f->n))
			fail_later(p, VAGENT_ENOMEM, "openai: out of memory");
	} else {
		ring_push(p, mono, f->n);
	}
}

static void stt_speech(struct vagent_stt *stt, bool started, int64_t pts)
{
	struct openai_stt *p = (struct openai_stt *)stt;

	(void)pts;
	if (!usable(p) || !started || p->collecting)
		return;
	p->collecting = true;
	p->len = 0;
	/* the pre-roll, oldest first */
	for (size_t i = 0; i < p->ring_len; i++) {
		size_t at = (p->ring_pos + p->ring_cap - p->ring_len + i) % p->ring_cap;

		buf_append(p, &p->ring[at], 1);
	}
	p->ring_len = 0;
}

static void stt_turn_end(struct vagent_stt *stt, int64_t pts)
{
	struct openai_stt *p = (struct openai_stt *)stt;
	struct request *r;
	struct vagent_error err;

	(void)pts;
	if (!usable(p) || !p->collecting)
		return;
	p->collecting = false;
	if (!p->len)
		return;
	r = calloc(1, sizeof(*r));
	if (!r) {
		fail_later(p, VAGENT_ENOMEM, "openai: out of memory");
		return;
	}
	r->p = p;
	r->ttfb_us = -1;
	r->cassette = vagent__loop_cassette(p->base.loop);
	r->samples = p->buf;
	r->n = p->len;
	p->buf = NULL;
	p->len = p->cap = 0;
	if (vagent_loop_submit(p->base.loop, transcribe, transcribed, r, &err) != VAGENT_OK) {
		char m[320];

		snprintf(m, sizeof(m), "%s: cannot run the request (%.200s)", p->base.name,
			 err.message);
		request_free(r);
		fail_later(p, VAGENT_EINVAL, m);
		return;
	}
	r->next = p->inflight;
	p->inflight = r;
	p->stats.requests++;
}

static void stt_stop(struct vagent_stt *stt)
{
	struct openai_stt *p = (struct openai_stt *)stt;

	p->stopped = true;
	atomic_store(&p->cancel, true);
	if (p->err_timer)
		vagent_timer_stop(p->err_timer);
}

static void stt_free(struct vagent_stt *stt)
{
	struct openai_stt *p = (struct openai_stt *)stt;

	if (!p)
		return;
	p->stopped = true;
	atomic_store(&p->cancel, true);
	if (p->inflight) {
		p->freeing = true;      /* the last request's done frees */
		if (p->err_timer)
			vagent_timer_stop(p->err_timer);
		return;
	}
	provider_destroy(p);
}

static const struct vagent_stt_ops openai_ops = {
	.audio = stt_audio,
	.speech = stt_speech,
	.turn_end = stt_turn_end,
	.stop = stt_stop,
	.free = stt_free,
};

vagent_status vagent_openai_stt_new(const struct vagent_openai_stt_config *cfg,
				    struct vagent_stt **out,
				    struct vagent_error *err)
{
	struct openai_stt *p;
	const char *name = cfg && cfg->name[0] ? cfg->name : "openai";
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
	if (cfg->rate != 8000 && cfg->rate != 16000)
		return vagent__error_set(err, VAGENT_EINVAL, name, "rate: %d Hz (8000 or 16000)",
					 cfg->rate);
	if (!cfg->model || !*cfg->model)
		return vagent__error_set(err, VAGENT_EINVAL, name, "no model");
	if (cfg->timeout_ms <= 0 || cfg->preroll_ms < 0 || cfg->preroll_ms > 1000 ||
	    cfg->max_retries < 0 || cfg->max_retries > 5)
		return vagent__error_set(err, VAGENT_EINVAL, name,
					 "timeout_ms > 0, preroll_ms 0..1000, max_retries 0..5");
	if ((st = vagent__curl_init(err, name)) != VAGENT_OK)
		return st;
	p = calloc(1, sizeof(*p));
	if (!p)
		return vagent__error_set(err, VAGENT_ENOMEM, name, "out of memory");
	p->base.ops = &openai_ops;
	snprintf(p->base.name, sizeof(p->base.name), "%s", name);
	p->rate = cfg->rate;
	p->timeout_ms = cfg->timeout_ms;
	p->preroll_ms = cfg->preroll_ms;
	p->max_retries = cfg->max_retries;
	atomic_init(&p->cancel, false);
	bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		bl--;
	p->endpoint = malloc(bl + sizeof("/audio/transcriptions"));
	if (p->endpoint) {
		memcpy(p->endpoint, base, bl);
		strcpy(p->endpoint + bl, "/audio/transcriptions");
	}
	p->auth = malloc(strlen(cfg->api_key) + sizeof("Authorization: Bearer "));
	if (p->auth)
		sprintf(p->auth, "Authorization: Bearer %s", cfg->api_key);
	p->model = vagent__strdup_track(cfg->model, &oom);
	p->language = vagent__strdup_track(cfg->language, &oom);
	p->prompt = vagent__strdup_track(cfg->prompt, &oom);
	p->ring_cap = (size_t)p->rate * (size_t)p->preroll_ms / 1000;
	p->ring = p->ring_cap ? malloc(p->ring_cap * sizeof(int16_t)) : NULL;
	if (oom || !p->endpoint || !p->auth || (p->ring_cap && !p->ring)) {
		provider_destroy(p);
		return vagent__error_set(err, VAGENT_ENOMEM, name, "out of memory");
	}
	*out = &p->base;
	return VAGENT_OK;
}

void vagent_openai_stt_stats(const struct vagent_stt *stt,
			     struct vagent_openai_stt_stats *out)
{
	*out = ((const struct openai_stt *)stt)->stats;
}
