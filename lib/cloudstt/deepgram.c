/*
 * deepgram.c — Deepgram live STT (/v1/listen) as a `struct vagent_stt`
 * provider over the WebSocket transport (lib/net/ws_client.c). Every caller
 * frame goes up as a binary message (mono linear16 or mulaw at the call's
 * rate); Results come back as JSON: interim transcripts become partials
 * (the turn's is_final segments so far plus the interim text), is_final
 * segments are joined and sent as one final when Deepgram marks the end of
 * speech (speech_final), at an UtteranceEnd that no speech_final preceded,
 * or in answer to the Finalize sent when the session ends the turn.
 * docs/providers.md "Deepgram (STT)".
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/internal.h"
#include "net/cassette_int.h"
#include "net/ws_int.h"

#define DEFAULT_URL "wss://api.deepgram.com/v1/listen"

struct deepgram_stt {
	struct vagent_stt base;
	struct vagent_deepgram_config cfg;
	char *url, *model, *language, *auth;
	bool mulaw;
	struct vagent__ws_client *ws;
	bool started;             /* the connection was attempted */
	bool stopped, failed;
	/* the turn's finals so far (joined), their mean confidence */
	char *finals;
	double conf_sum;
	int conf_n;
	char *last_interim;
	char *last_partial_sent;
	bool finalize_pending;
	/* time to first byte (loop times; -1: none pending): the
	 * connection's first audio frame, the last Finalize */
	int64_t first_audio_at, finalize_at;
	bool any_result;
	/* KeepAlive */
	struct vagent_timer *keepalive;
	int64_t last_audio_ms;
	/* an error to report from a timer, never inside the call */
	struct vagent_timer *err_timer;
	vagent_status err_status;
	char err_msg[320];
	/* scratch for one frame */
	int16_t mono[VAGENT_FRAME_MAX_SAMPLES];
	uint8_t ulaw[VAGENT_FRAME_MAX_SAMPLES];
	/* stats */
	int64_t t0_ms;
	struct vagent_deepgram_stats stats;
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct vagent_deepgram_config vagent_deepgram_config_default(void)
{
	struct vagent_deepgram_config c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "deepgram");
	c.url = DEFAULT_URL;
	c.model = "nova-2";
	c.rate = 8000;
	c.encoding = "linear16";
	c.interim_results = true;
	c.endpointing_ms = 300;
	c.utterance_end_ms = 1000;
	c.keepalive_ms = 4000;
	c.connect_timeout_ms = 5000;
	return c;
}

static bool usable(const struct deepgram_stt *p)
{
	return !p->stopped && !p->failed;
}

/* Report an error once; the provider is then done for this call. */
static void fail_now(struct deepgram_stt *p, vagent_status st, const char *msg)
{
	if (!usable(p))
		return;
	p->failed = true;
	vagent_timer_stop(p->keepalive);
	if (p->base.on_error)
		p->base.on_error(p->base.ctx, st, msg);
}

static void err_timer_fired(struct vagent_timer *t, void *arg)
{
	struct deepgram_stt *p = arg;

	(void)t;
	fail_now(p, p->err_status, p->err_msg);
}

/* From inside a session call: report from a timer. */
static void fail_later(struct deepgram_stt *p, vagent_status st, const char *msg)
{
	if (!usable(p) || vagent_timer_active(p->err_timer))
		return;
	p->err_status = st;
	snprintf(p->err_msg, sizeof(p->err_msg), "%s", msg);
	vagent_timer_start(p->err_timer, 0, 0, NULL);
}

static void reset_turn(struct deepgram_stt *p)
{
	free(p->finals);
	p->finals = NULL;
	p->conf_sum = 0;
	p->conf_n = 0;
	free(p->last_interim);
	p->last_interim = NULL;
	free(p->last_partial_sent);
	p->last_partial_sent = NULL;
}

static void append(char **to, const char *text)
{
	size_t a, b;
	char *n;

	if (!text || !*text)
		return;
	a = *to ? strlen(*to) : 0;
	b = strlen(text);
	n = realloc(*to, a + b + 2);
	if (!n)
		return;
	if (a)
		n[a++] = ' ';
	memcpy(n + a, text, b + 1);
	*to = n;
}

static void send_partial(struct deepgram_stt *p, const char *interim)
{
	char *text = NULL;

	append(&text, p->finals);
	append(&text, interim);
	if (!text)
		return;
	if (p->last_partial_sent && !strcmp(p->last_partial_sent, text)) {
		free(text);
		return;
	}
	free(p->last_partial_sent);
	p->last_partial_sent = text;
	p->stats.partials++;
	p->base.on_partial(p->base.ctx, text);
}

/* The turn's joined finals go to the session as one final. */
static void send_final(struct deepgram_stt *p)
{
	char *text = p->finals;
	double conf = p->conf_n ? p->conf_sum / p->conf_n : -1;

	p->finals = NULL;
	reset_turn(p);
	if (!text)
		return;
	p->stats.finals++;
	p->base.on_final(p->base.ctx, text, conf);
	free(text);
}

/* A Results message arrived: the first byte of the connection's answer to
 * its first audio, or of the answer to the last Finalize. True when the
 * session was told (it may have stopped this provider meanwhile). */
static bool report_first_byte(struct deepgram_stt *p)
{
	int64_t sent = -1;

	if (!p->any_result && p->first_audio_at >= 0)
		sent = p->first_audio_at;
	else if (p->finalize_at >= 0)
		sent = p->finalize_at;
	p->any_result = true;
	p->finalize_at = -1;
	if (sent < 0 || !p->base.on_first_byte)
		return false;
	p->base.on_first_byte(p->base.ctx, 0, sent);
	return true;
}

static void on_results(struct deepgram_stt *p, const cJSON *msg)
{
	const cJSON *alts = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(msg, "channel"), "alternatives");
	const cJSON *alt = cJSON_GetArrayItem(alts, 0);
	const cJSON *tr = cJSON_GetObjectItemCaseSensitive(alt, "transcript");
	const cJSON *conf = cJSON_GetObjectItemCaseSensitive(alt, "confidence");
	bool is_final = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "is_final"));
	bool speech_final = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "speech_final"));
	bool from_finalize = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "from_finalize"));
	const char *text;

	if (!cJSON_IsString(tr)) {
		char m[160];

		snprintf(m, sizeof(m), "%s: Results without channel.alternatives[0].transcript",
			 p->base.name);
		fail_now(p, VAGENT_EPROTO, m);
		return;
	}
	text = tr->valuestring;
	p->stats.results++;
	if (report_first_byte(p) && !usable(p))
		return;
	if (p->stats.first_result_ms < 0)
		p->stats.first_result_ms = wall_ms() - p->t0_ms;
	if (!is_final) {
		free(p->last_interim);
		p->last_interim = *text ? strdup(text) : NULL;
		if (*text)
			send_partial(p, text);
		return;
	}
	if (*text) {
		append(&p->finals, text);
		if (cJSON_IsNumber(conf) && conf->valuedouble >= 0 && conf->valuedouble <= 1) {
			p->conf_sum += conf->valuedouble;
			p->conf_n++;
		}
	} else if (from_finalize && !p->finals && p->last_interim) {
		/* Finalize found nothing more: what was heard is the final */
		append(&p->finals, p->last_interim);
	}
	free(p->last_interim);
	p->last_interim = NULL;
	if (from_finalize)
		p->finalize_pending = false;
	if (speech_final || from_finalize)
		send_final(p);
	else if (*text)
		send_partial(p, NULL);   /* the finals so far, as the partial */
}

static void ws_message(void *arg, bool binary, const void *data, size_t len)
{
	struct deepgram_stt *p = arg;
	cJSON *msg;
	const cJSON *type;
	char m[200];

	if (!usable(p) || binary)
		return;
	msg = cJSON_ParseWithLength(data, len);
	if (!msg || !cJSON_IsObject(msg)) {
		cJSON_Delete(msg);
		snprintf(m, sizeof(m), "%s: malformed message from the server (not a JSON object)",
			 p->base.name);
		fail_now(p, VAGENT_EPROTO, m);
		return;
	}
	type = cJSON_GetObjectItemCaseSensitive(msg, "type");
	if (!cJSON_IsString(type)) {
		/* unknown shapes are ignored (notes: ignore unknown fields) */
	} else if (!strcmp(type->valuestring, "Results")) {
		on_results(p, msg);
	} else if (!strcmp(type->valuestring, "UtteranceEnd")) {
		/* an end of speech no speech_final announced */
		if (p->finals)
			send_final(p);
	}
	/* SpeechStarted, Metadata and unknown types: nothing to do */
	cJSON_Delete(msg);
}

static void ws_open(void *arg)
{
	struct deepgram_stt *p = arg;

	if (p->stats.connect_ms < 0)
		p->stats.connect_ms = wall_ms() - p->t0_ms;
}

static void ws_close(void *arg, int code, const char *reason)
{
	struct deepgram_stt *p = arg;
	char m[320];

	if (!usable(p))
		return;
	snprintf(m, sizeof(m), "%s: the connection closed mid-stream (code %d%s%.60s)",
		 p->base.name, code, reason && *reason ? " " : "", reason ? reason : "");
	fail_now(p, VAGENT_EPROVIDER, m);
}

static void ws_error(void *arg, vagent_status st, int http_status, const char *message)
{
	struct deepgram_stt *p = arg;

	(void)http_status;
	fail_now(p, st, message);   /* names the provider, never the key */
}

static void keepalive_fired(struct vagent_timer *t, void *arg)
{
	struct deepgram_stt *p = arg;
	static const char ka[] = "{\"type\":\"KeepAlive\"}";

	(void)t;
	if (!usable(p) || !p->ws)
		return;
	if (wall_ms() - p->last_audio_ms >= p->cfg.keepalive_ms &&
	    vagent__ws_send(p->ws, false, ka, sizeof(ka) - 1, NULL) == VAGENT_OK)
		p->stats.keepalive_sent++;
}

static bool start(struct deepgram_stt *p)
{
	struct vagent__ws_config wc = { 0 };
	struct vagent__ws_callbacks cb = { ws_open, ws_message, ws_close, ws_error, p };
	const char *headers[2] = { p->auth, NULL };
	struct vagent_error err;

	p->started = true;
	p->t0_ms = wall_ms();
	p->err_timer = vagent_timer_new(p->base.loop, err_timer_fired, p);
	p->keepalive = vagent_timer_new(p->base.loop, keepalive_fired, p);
	if (!p->err_timer || !p->keepalive) {
		p->failed = true;   /* no timer to report it from: a dead provider */
		return false;
	}
	/* a cassette replay needs no network: the virtual clock is fine */
	if (vagent_clock_type(vagent_loop_clock(p->base.loop)) != VAGENT_CLOCK_REAL &&
	    !vagent__cassette_replaying(vagent__loop_cassette(p->base.loop))) {
		char m[200];

		snprintf(m, sizeof(m), "%s: needs the real clock (--clock real): the virtual "
			 "clock does not wait for the network", p->base.name);
		fail_later(p, VAGENT_EINVAL, m);
		return false;
	}
	wc.url = p->url;
	wc.headers = headers;
	wc.who = p->base.name;
	wc.connect_timeout_ms = p->cfg.connect_timeout_ms;
	if (vagent__ws_client_new(p->base.loop, &wc, &cb, &p->ws, &err) != VAGENT_OK) {
		fail_later(p, err.status, err.message);
		return false;
	}
	if (p->cfg.keepalive_ms > 0)
		vagent_timer_start(p->keepalive, vagent_ticks_from_ms(p->cfg.keepalive_ms),
				   vagent_ticks_from_ms(p->cfg.keepalive_ms), NULL);
	return true;
}

static void stt_audio(struct vagent_stt *stt, const struct vagent_frame *f,
		      const struct vagent_speech_truth *truth)
{
	struct deepgram_stt *p = (struct deepgram_stt *)stt;
	const void *data;
	size_t bytes;

	(void)truth;
	if (!usable(p) || !p->base.loop)
		return;
	if (!p->started && !start(p))
		return;
	if (!p->ws)
		return;
	if (f->rate != p->cfg.rate || (f->channels != 1 && f->channels != 2)) {
		char m[160];

		snprintf(m, sizeof(m), "%s: a %d Hz %d-channel frame on a %d Hz stream",
			 p->base.name, f->rate, f->channels, p->cfg.rate);
		fail_later(p, VAGENT_EINVAL, m);
		return;
	}
	for (size_t i = 0; i < f->n; i++)
		p->mono[i] = f->channels == 1 ? f->samples[i]
			: (int16_t)(((int)f->samples[2 * i] + f->samples[2 * i + 1]) / 2);
	if (p->mulaw) {
		vagent_ulaw_encode_buf(p->mono, p->ulaw, f->n);
		data = p->ulaw;
		bytes = f->n;
	} else {
		data = p->mono;   /* little-endian hosts: int16 is linear16 */
		bytes = f->n * sizeof(int16_t);
	}
	if (!bytes)
		return;           /* an empty binary frame would close the stream */
	if (vagent__ws_send(p->ws, true, data, bytes, NULL) == VAGENT_OK) {
		if (p->first_audio_at < 0)
			p->first_audio_at = vagent_loop_now(p->base.loop);
		p->stats.audio_bytes += bytes;
		p->last_audio_ms = wall_ms();
	}
}

static void stt_turn_end(struct vagent_stt *stt, int64_t pts)
{
	struct deepgram_stt *p = (struct deepgram_stt *)stt;
	static const char fin[] = "{\"type\":\"Finalize\"}";

	(void)pts;
	if (!usable(p) || !p->ws)
		return;
	if (vagent__ws_send(p->ws, false, fin, sizeof(fin) - 1, NULL) == VAGENT_OK) {
		p->finalize_pending = true;
		if (p->any_result)
			p->finalize_at = vagent_loop_now(p->base.loop);
		p->stats.finalize_sent++;
	}
}

static void stt_stop(struct vagent_stt *stt)
{
	struct deepgram_stt *p = (struct deepgram_stt *)stt;
	static const char cs[] = "{\"type\":\"CloseStream\"}";

	if (p->ws && usable(p)) {
		vagent__ws_send(p->ws, false, cs, sizeof(cs) - 1, NULL);
		vagent__ws_close(p->ws, 1000, "");
	}
	/* the session's loop may be freed before this provider */
	vagent__ws_detach(p->ws);
	p->stopped = true;
	vagent_timer_stop(p->keepalive);
	vagent_timer_stop(p->err_timer);
}

static void stt_free(struct vagent_stt *stt)
{
	struct deepgram_stt *p = (struct deepgram_stt *)stt;

	if (!p)
		return;
	p->stopped = true;
	vagent__ws_client_free(p->ws);
	vagent_timer_free(p->keepalive);
	vagent_timer_free(p->err_timer);
	reset_turn(p);
	if (p->auth)
		memset(p->auth, 0, strlen(p->auth));
	free(p->auth);
	free(p->url);
	free(p->model);
	free(p->language);
	free(p);
}

static const struct vagent_stt_ops deepgram_ops = {
	.audio = stt_audio,
	.turn_end = stt_turn_end,
	.stop = stt_stop,
	.free = stt_free,
};

static bool plain_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

vagent_status vagent_deepgram_stt_new(const struct vagent_deepgram_config *cfg,
				      struct vagent_stt **out,
				      struct vagent_error *err)
{
	struct deepgram_stt *p;
	const char *name = cfg && cfg->name[0] ? cfg->name : "deepgram";
	const char *url;
	bool tls;
	char *host = NULL, *path = NULL;
	int port, n;
	struct vagent__strbuf b = { 0 };

	*out = NULL;
	if (!cfg)
		return vagent__error_set(err, VAGENT_EINVAL, name, "no config");
	url = cfg->url ? cfg->url : DEFAULT_URL;
	if (!cfg->api_key || !*cfg->api_key || strpbrk(cfg->api_key, "\r\n"))
		return vagent__error_set(err, VAGENT_EINVAL, name, "no API key");
	if (cfg->rate != 8000 && cfg->rate != 16000)
		return vagent__error_set(err, VAGENT_EINVAL, name, "rate: %d Hz (8000 or 16000)",
					 cfg->rate);
	if (cfg->encoding && strcmp(cfg->encoding, "linear16") && strcmp(cfg->encoding, "mulaw"))
		return vagent__error_set(err, VAGENT_EINVAL, name,
					 "encoding: \"%.32s\" (linear16 or mulaw)", cfg->encoding);
	if (cfg->model && !plain_token(cfg->model))
		return vagent__error_set(err, VAGENT_EINVAL, name, "model: not a model name");
	if (cfg->language && !plain_token(cfg->language))
		return vagent__error_set(err, VAGENT_EINVAL, name, "language: not a language code");
	if (!vagent__ws_parse_url(url, &tls, &host, &port, &path))
		return vagent__error_set(err, VAGENT_EINVAL, name,
					 "url: not a ws:// or wss:// URL with a host");
	free(host);
	free(path);
	if (cfg->endpointing_ms < 0 || cfg->utterance_end_ms < 0 || cfg->keepalive_ms < 0)
		return vagent__error_set(err, VAGENT_EINVAL, name, "negative timing");

	p = calloc(1, sizeof(*p));
	if (!p)
		return vagent__error_set(err, VAGENT_ENOMEM, name, "out of memory");
	p->base.ops = &deepgram_ops;
	snprintf(p->base.name, sizeof(p->base.name), "%s", name);
	p->cfg = *cfg;
	p->mulaw = cfg->encoding && !strcmp(cfg->encoding, "mulaw");
	p->stats.connect_ms = p->stats.first_result_ms = -1;
	p->first_audio_at = p->finalize_at = -1;
	/* the URL with the stream's parameters */
	vagent__strbuf_puts(&b, url);
	vagent__strbuf_puts(&b, strchr(url, '?') ? "&" : "?");
	if (cfg->model)
		vagent__strbuf_printf(&b, "model=%s&", cfg->model);
	if (cfg->language)
		vagent__strbuf_printf(&b, "language=%s&", cfg->language);
	vagent__strbuf_printf(&b, "encoding=%s&sample_rate=%d&channels=1",
			      p->mulaw ? "mulaw" : "linear16", cfg->rate);
	vagent__strbuf_printf(&b, "&interim_results=%s", cfg->interim_results ? "true" : "false");
	if (cfg->endpointing_ms > 0)
		vagent__strbuf_printf(&b, "&endpointing=%d", cfg->endpointing_ms);
	else
		vagent__strbuf_puts(&b, "&endpointing=false");
	if (cfg->utterance_end_ms > 0 && cfg->interim_results)
		vagent__strbuf_printf(&b, "&utterance_end_ms=%d", cfg->utterance_end_ms);
	vagent__strbuf_puts(&b, "&vad_events=true");
	if (cfg->punctuate)
		vagent__strbuf_puts(&b, "&punctuate=true");
	if (cfg->smart_format)
		vagent__strbuf_puts(&b, "&smart_format=true");
	p->url = vagent__strbuf_detach(&b);
	n = snprintf(NULL, 0, "Authorization: Token %s", cfg->api_key);
	p->auth = malloc((size_t)n + 1);
	if (p->auth)
		snprintf(p->auth, (size_t)n + 1, "Authorization: Token %s", cfg->api_key);
	p->cfg.url = NULL;        /* not kept: p->url is ours */
	p->cfg.api_key = NULL;    /* only in p->auth */
	p->cfg.model = p->cfg.language = p->cfg.encoding = NULL;
	if (!p->url || !p->auth) {
		stt_free(&p->base);
		return vagent__error_set(err, VAGENT_ENOMEM, name, "out of memory");
	}
	*out = &p->base;
	return VAGENT_OK;
}

void vagent_deepgram_stt_stats(const struct vagent_stt *stt,
			       struct vagent_deepgram_stats *out)
{
	const struct deepgram_stt *p = (const struct deepgram_stt *)stt;

	*out = p->stats;
}
