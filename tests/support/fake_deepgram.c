/*
 * fake_deepgram.c — a loopback fake of Deepgram live STT (/v1/listen) on a
 * plain-socket WebSocket server of its own (support/ws_server.c, independent
 * of the lws client it tests), one connection at a time, on one thread. See
 * fake_deepgram.h and docs/providers.md "The fake".
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "support/fake_deepgram.h"
#include "support/loopback.h"
#include "support/ws_server.h"

#define MAX_QUEUED 256
#define BLOCK_MS   10

struct queued {
	int64_t due_ms;
	int opcode;              /* 1 text, 8 close */
	char *data;
	size_t len;
	bool is_results;
};

struct fake_deepgram {
	struct fake_deepgram_config cfg;
	int listen_fd, port;
	int wake[2];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	struct fake_deepgram_stats stats;
	char url[64];
};

/* One connection's state (server thread only). */
struct conn {
	struct fake_deepgram *f;
	struct ws_conn ws;
	bool upgraded, echo;
	/* parameters */
	bool mulaw;
	int rate, channels;
	bool interim, vad_events;
	int endpointing_ms, utterance_end_ms;
	/* recognition */
	int64_t samples;          /* per channel, received so far */
	int16_t block[BLOCK_MS * 48 * 2];
	size_t block_len, block_size;
	unsigned char odd_byte;
	bool has_odd;
	bool in_speech, need_silence;
	double speech_start, last_voice, last_interim;
	int utt;                  /* index into the script of the current utterance */
	int words_said;           /* revealed so far in this utterance */
	int words_final;          /* already sent in is_final segments */
	double seg_start;
	bool ue_pending;
	double ue_at, ue_last_word;
	/* output */
	struct queued q[MAX_QUEUED];
	int nq;
	int64_t last_due;
	bool first_result_done;
	int64_t last_rx_ms;
	char request_id[40];
};

struct fake_deepgram_config fake_deepgram_config_default(void)
{
	struct fake_deepgram_config c = { 0 };

	c.interim_every_ms = 200;
	c.speech_rms = 300;
	c.idle_timeout_ms = 10000;
	return c;
}

#define STAT_ADD(f, field, v) do { \
	pthread_mutex_lock(&(f)->lock); (f)->stats.field += (v); \
	pthread_cond_broadcast(&(f)->cond); pthread_mutex_unlock(&(f)->lock); } while (0)
#define STAT_SET(f, field, v) do { \
	pthread_mutex_lock(&(f)->lock); (f)->stats.field = (v); \
	pthread_cond_broadcast(&(f)->cond); pthread_mutex_unlock(&(f)->lock); } while (0)

/* Queue a message to leave after the configured latency (in order). */
static void queue_msg(struct conn *c, int opcode, char *data, bool is_results)
{
	struct fake_deepgram *f = c->f;
	int64_t due = ws_now_ms() + f->cfg.latency_ms;

	if (is_results && !c->first_result_done) {
		c->first_result_done = true;
		due += f->cfg.first_result_delay_ms;
	}
	if (due < c->last_due)
		due = c->last_due;
	c->last_due = due;
	if (c->nq == MAX_QUEUED) {
		free(data);
		return;
	}
	c->q[c->nq].due_ms = due;
	c->q[c->nq].opcode = opcode;
	c->q[c->nq].data = data;
	c->q[c->nq].len = strlen(data);
	c->q[c->nq].is_results = is_results;
	c->nq++;
}

static void flush_due(struct conn *c)
{
	struct fake_deepgram *f = c->f;
	int64_t now = ws_now_ms();
	int i = 0;

	while (i < c->nq && c->q[i].due_ms <= now && !c->ws.dead) {
		struct queued *m = &c->q[i];
		int n;

		pthread_mutex_lock(&f->lock);
		n = ++f->stats.messages_sent;
		pthread_cond_broadcast(&f->cond);
		pthread_mutex_unlock(&f->lock);
		if (m->opcode == 8) {
			ws_send_close(&c->ws, 1000, "");
		} else if (f->cfg.stall_after > 0 && n > f->cfg.stall_after) {
			/* stalled: swallow it */
		} else if (f->cfg.malformed_at > 0 && n == f->cfg.malformed_at) {
			static const char broken[] = "{\"type\":\"Results\",\"channel\":{\"alter";

			ws_send_frame(&c->ws, 1, broken, sizeof(broken) - 1);
		} else {
			ws_send_frame(&c->ws, m->opcode, m->data, m->len);
		}
		free(m->data);
		i++;
	}
	if (i) {
		memmove(c->q, c->q + i, (size_t)(c->nq - i) * sizeof(c->q[0]));
		c->nq -= i;
	}
}

/* ---- the script ---- */

static int script_len(const struct fake_deepgram *f)
{
	int n = 0;

	while (f->cfg.script && f->cfg.script[n])
		n++;
	return n;
}

/* The words of utterance `utt` (a static split into `words`). */
static int split_words(const char *text, char words[][48], int max)
{
	int n = 0;
	const char *p = text;

	while (*p && n < max) {
		size_t l;

		while (*p == ' ')
			p++;
		l = strcspn(p, " ");
		if (!l)
			break;
		if (l > 47)
			l = 47;
		memcpy(words[n], p, l);
		words[n][l] = '\0';
		n++;
		p += strcspn(p, " ");
	}
	return n;
}

/* A Results message for words [from, to) of the current utterance,
 * spread evenly over [t0, t1]. */
static void send_results(struct conn *c, int from, int to, bool is_final,
			 bool speech_final, bool from_finalize, double t0, double t1)
{
	const char *text = c->utt < script_len(c->f) ? c->f->cfg.script[c->utt] : "";
	char words[64][48];
	int n = split_words(text, words, 64);
	char transcript[1024] = "", wl[8192] = "";
	size_t tl = 0, wlen = 0;
	double per;

	if (to > n)
		to = n;
	if (from > to)
		from = to;
	per = to > from ? (t1 - t0) / (to - from) : 0;
	for (int i = from; i < to; i++) {
		double ws = t0 + per * (i - from), we = ws + per;

		tl += (size_t)snprintf(transcript + tl, sizeof(transcript) - tl, "%s%s",
				       i > from ? " " : "", words[i]);
		if (tl >= sizeof(transcript))
			tl = sizeof(transcript) - 1;
		wlen += (size_t)snprintf(wl + wlen, sizeof(wl) - wlen,
			"%s{\"word\":\"%s\",\"start\":%.3f,\"end\":%.3f,\"confidence\":0.97,"
			"\"punctuated_word\":\"%s\"}", i > from ? "," : "", words[i], ws, we, words[i]);
		if (wlen >= sizeof(wl))
			wlen = sizeof(wl) - 1;
	}
	queue_msg(c, 1, ws_fmt("{\"type\":\"Results\",\"channel_index\":[0,1],\"start\":%.3f,"
		"\"duration\":%.3f,\"is_final\":%s,\"speech_final\":%s,\"from_finalize\":%s,"
		"\"channel\":{\"alternatives\":[{\"transcript\":\"%s\",\"confidence\":%s,"
		"\"words\":[%s]}]},\"metadata\":{\"request_id\":\"%s\","
		"\"model_info\":{\"name\":\"fake\",\"version\":\"0\",\"arch\":\"fake\"}}}",
		t0, t1 > t0 ? t1 - t0 : 0, is_final ? "true" : "false",
		speech_final ? "true" : "false", from_finalize ? "true" : "false",
		transcript, to > from ? "0.97" : "0", wl, c->request_id), true);
}

static int current_words(struct conn *c)
{
	char words[64][48];

	if (c->utt >= script_len(c->f))
		return 0;
	return split_words(c->f->cfg.script[c->utt], words, 64);
}

/* End the current utterance: the rest of its words as a final. */
static void finish_utterance(struct conn *c, double t, bool speech_final,
			     bool from_finalize)
{
	int n = current_words(c);

	send_results(c, c->words_final, n, true, speech_final, from_finalize,
		     c->seg_start, t);
	if (c->utterance_end_ms > 0 && c->interim && !from_finalize) {
		c->ue_pending = true;
		c->ue_last_word = t;
		c->ue_at = c->last_voice + c->utterance_end_ms / 1000.0;
	}
	c->utt++;
	c->in_speech = false;
	c->words_said = c->words_final = 0;
	STAT_ADD(c->f, utterances, 1);
}

static void analyse_block(struct conn *c, const int16_t *s, size_t n)
{
	struct fake_deepgram *f = c->f;
	double sum = 0, rms, t_end;
	int total;

	for (size_t i = 0; i < n; i++)
		sum += (double)s[i] * s[i];
	rms = n ? sqrt(sum / (double)n) : 0;
	c->samples += (int64_t)(n / (size_t)c->channels);
	t_end = (double)c->samples / c->rate;
	STAT_SET(f, audio_ms, (long)(t_end * 1000));
	if (rms >= f->cfg.speech_rms) {
		if (c->need_silence)
			return;
		if (!c->in_speech) {
			c->in_speech = true;
			c->speech_start = c->seg_start = t_end - BLOCK_MS / 1000.0;
			c->last_interim = c->speech_start;
			c->words_said = c->words_final = 0;
			c->ue_pending = false;
			if (c->vad_events)
				queue_msg(c, 1, ws_fmt("{\"type\":\"SpeechStarted\",\"channel\":[0,1],"
						   "\"timestamp\":%.3f}", c->speech_start), false);
		}
		c->last_voice = t_end;
	} else {
		c->need_silence = false;
	}
	if (c->ue_pending && t_end >= c->ue_at) {
		c->ue_pending = false;
		queue_msg(c, 1, ws_fmt("{\"type\":\"UtteranceEnd\",\"channel\":[0,1],"
				   "\"last_word_end\":%.3f}", c->ue_last_word), false);
	}
	if (!c->in_speech)
		return;
	total = current_words(c);
	if (t_end - c->last_interim >= f->cfg.interim_every_ms / 1000.0 &&
	    c->words_said < total && rms >= f->cfg.speech_rms) {
		c->last_interim = t_end;
		c->words_said++;
		if (f->cfg.final_every_words > 0 &&
		    c->words_said - c->words_final >= f->cfg.final_every_words &&
		    c->words_said < total) {
			send_results(c, c->words_final, c->words_said, true, false, false,
				     c->seg_start, t_end);
			c->words_final = c->words_said;
			c->seg_start = t_end;
		} else if (c->interim) {
			send_results(c, c->words_final, c->words_said, false, false, false,
				     c->seg_start, t_end);
		}
	}
	if (c->endpointing_ms > 0 &&
	    t_end - c->last_voice >= c->endpointing_ms / 1000.0)
		finish_utterance(c, c->last_voice, true, false);
}

static int16_t ulaw_decode(unsigned char u)
{
	int t;

	u = (unsigned char)~u;
	t = ((u & 0x0f) << 3) + 0x84;
	t <<= (u & 0x70) >> 4;
	return (int16_t)((u & 0x80) ? (0x84 - t) : (t - 0x84));
}

static void push_sample(struct conn *c, int16_t v)
{
	c->block[c->block_len++] = v;
	if (c->block_len == c->block_size) {
		analyse_block(c, c->block, c->block_len);
		c->block_len = 0;
	}
}

static void on_audio(struct conn *c, const unsigned char *d, size_t n)
{
	struct fake_deepgram *f = c->f;

	for (size_t i = 0; i < n; i++) {
		if (c->mulaw) {
			push_sample(c, ulaw_decode(d[i]));
		} else if (c->has_odd) {
			push_sample(c, (int16_t)(c->odd_byte | (d[i] << 8)));
			c->has_odd = false;
		} else {
			c->odd_byte = d[i];
			c->has_odd = true;
		}
	}
	if (f->cfg.drop_after_audio_ms > 0 &&
	    (double)c->samples * 1000 / c->rate >= f->cfg.drop_after_audio_ms && !c->ws.closing) {
		if (f->cfg.close_code) {
			ws_send_close(&c->ws, f->cfg.close_code, "NET-0000");
		} else {
			shutdown(c->ws.fd, SHUT_RDWR);
			c->ws.dead = true;
		}
	}
}

static void on_text(struct conn *c, const char *text)
{
	struct fake_deepgram *f = c->f;
	double t = (double)c->samples / c->rate;

	pthread_mutex_lock(&f->lock);
	snprintf(f->stats.last_text, sizeof(f->stats.last_text), "%s", text);
	pthread_mutex_unlock(&f->lock);
	if (c->echo) {
		int code;
		char reason[64] = "";

		if (sscanf(text, "close %d %63s", &code, reason) >= 1)
			ws_send_close(&c->ws, code, reason);
		else
			ws_send_frame(&c->ws, 1, text, strlen(text));
		return;
	}
	if (strstr(text, "\"KeepAlive\"")) {
		STAT_ADD(f, keepalive, 1);
	} else if (strstr(text, "\"Finalize\"")) {
		STAT_ADD(f, finalize, 1);
		if (c->in_speech || c->words_said > c->words_final) {
			finish_utterance(c, t, false, true);
			c->need_silence = true;
		} else {
			send_results(c, 0, 0, true, false, true, t, t);
		}
	} else if (strstr(text, "\"CloseStream\"")) {
		STAT_ADD(f, closestream, 1);
		if (c->in_speech)
			finish_utterance(c, t, true, false);
		queue_msg(c, 1, ws_fmt("{\"type\":\"Metadata\",\"transaction_key\":\"deprecated\","
				   "\"request_id\":\"%s\",\"sha256\":\"0\",\"created\":"
				   "\"2026-01-01T00:00:00.000Z\",\"duration\":%.3f,\"channels\":%d}",
				   c->request_id, t, c->channels), false);
		queue_msg(c, 8, ws_fmt("close"), false);
	}
}

/* ---- frames ---- */

static void on_message(void *arg, int opcode, unsigned char *d, size_t n)
{
	struct conn *c = arg;

	if (opcode == 2) {
		if (c->echo)
			ws_send_frame(&c->ws, 2, d, n);
		else if (n == 0)
			on_text(c, "{\"type\":\"CloseStream\"}");   /* deprecated form */
		else
			on_audio(c, d, n);
	} else if (opcode == 1) {
		char *s = malloc(n + 1);

		ck_assert(s);
		memcpy(s, d, n);
		s[n] = '\0';
		on_text(c, s);
		free(s);
	}
}

/* The client closes: answered with its code unless we closed first. */
static void on_close(void *arg, int code)
{
	struct conn *c = arg;

	STAT_SET(c->f, client_close_code, code);
	if (!c->ws.closing)
		ws_send_close(&c->ws, code == 1005 ? 1000 : code, "");
}

static const struct ws_handlers handlers = { on_message, on_close };

static void parse_frames(struct conn *c)
{
	if (ws_parse_frames(&c->ws, &handlers, c) > 0)
		c->last_rx_ms = ws_now_ms();
}

/* ---- the upgrade ---- */

static void http_error(struct conn *c, int status, const char *code, const char *msg)
{
	char *body = ws_fmt("{\"err_code\":\"%s\",\"err_msg\":\"%s\",\"request_id\":\"%s\"}",
			    code, msg, c->request_id);
	char *extra = ws_fmt("dg-request-id: %s\r\ndg-error: %s\r\n", c->request_id, msg);

	http_reply(&c->ws, status, extra, body);
	free(body);
	free(extra);
}

static void upgrade(struct conn *c)
{
	struct fake_deepgram *f = c->f;
	char path[1024] = "", key[128] = "", auth[256] = "", v[64];
	const char *q;
	char *extra;

	sscanf(c->ws.req, "GET %1023s", path);
	q = strchr(path, '?');
	q = q ? q + 1 : "";
	http_header(c->ws.req, "Authorization", auth, sizeof(auth));
	pthread_mutex_lock(&f->lock);
	f->stats.connections++;
	snprintf(f->stats.auth, sizeof(f->stats.auth), "%.*s", (int)sizeof(f->stats.auth) - 1, auth);
	snprintf(f->stats.query, sizeof(f->stats.query), "%.*s", (int)sizeof(f->stats.query) - 1, q);
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	if (!http_header(c->ws.req, "Sec-WebSocket-Key", key, sizeof(key)))
		return http_error(c, 400, "BAD_REQUEST", "not a WebSocket upgrade");
	c->echo = !strncmp(path, "/echo", 5);
	if (!c->echo && strncmp(path, "/v1/listen", 10))
		return http_error(c, 404, "NOT_FOUND", "no such endpoint");
	if (f->cfg.http_status == 429)
		return http_error(c, 429, "TOO_MANY_REQUESTS", "Too many requests. Please try again later");
	if (f->cfg.http_status)
		return http_error(c, f->cfg.http_status,
				  f->cfg.http_status == 401 ? "INVALID_AUTH" : "INTERNAL_SERVER_ERROR",
				  f->cfg.http_status == 401 ? "Invalid credentials." : "Internal error");
	if (strncmp(auth, "Token ", 6) || !auth[6] ||
	    (f->cfg.api_key && strcmp(auth + 6, f->cfg.api_key)))
		return http_error(c, 401, "INVALID_AUTH", "Invalid credentials.");
	if (!c->echo) {
		c->mulaw = false;
		c->rate = 0;
		c->channels = 1;
		if (http_query_param(q, "encoding", v, sizeof(v))) {
			if (!strcmp(v, "mulaw"))
				c->mulaw = true;
			else if (strcmp(v, "linear16"))
				return http_error(c, 400, "INVALID_QUERY_PARAMETER",
						  "Failed to deserialize query parameters: encoding");
			if (!http_query_param(q, "sample_rate", v, sizeof(v)) || atoi(v) < 8000 ||
			    atoi(v) > 48000)
				return http_error(c, 400, "INVALID_QUERY_PARAMETER",
						  "Failed to deserialize query parameters: sample_rate");
			c->rate = atoi(v);
		} else {
			return http_error(c, 400, "INVALID_QUERY_PARAMETER",
					  "the fake needs raw audio: encoding and sample_rate");
		}
		if (http_query_param(q, "channels", v, sizeof(v)))
			c->channels = atoi(v) == 2 ? 2 : 1;
		c->interim = http_query_param(q, "interim_results", v, sizeof(v)) && !strcmp(v, "true");
		c->vad_events = http_query_param(q, "vad_events", v, sizeof(v)) && !strcmp(v, "true");
		c->endpointing_ms = 10;
		if (http_query_param(q, "endpointing", v, sizeof(v)))
			c->endpointing_ms = !strcmp(v, "false") ? 0 : atoi(v);
		c->utterance_end_ms = http_query_param(q, "utterance_end_ms", v, sizeof(v)) ? atoi(v) : 0;
		c->block_size = (size_t)(c->rate / 1000 * BLOCK_MS * c->channels);
		if (c->block_size > sizeof(c->block) / sizeof(c->block[0]))
			c->block_size = sizeof(c->block) / sizeof(c->block[0]);
	}
	extra = ws_fmt("dg-request-id: %s\r\n", c->request_id);
	ws_upgrade_accept(&c->ws, key, extra);
	free(extra);
	c->upgraded = true;
	c->last_rx_ms = ws_now_ms();
	STAT_ADD(f, upgraded, 1);
}

/* ---- the server thread ---- */

static void serve(struct fake_deepgram *f, int fd, int serial)
{
	struct conn *c = calloc(1, sizeof(*c));

	ck_assert(c);
	c->f = f;
	c->ws.fd = fd;
	snprintf(c->request_id, sizeof(c->request_id), "fake-%08d", serial);
	pthread_mutex_lock(&f->lock);
	f->stats.open = 1;
	f->stats.audio_ms = 0;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	while (!c->ws.dead) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { f->wake[0], POLLIN, 0 } };
		int timeout = 50;
		bool stop;

		pthread_mutex_lock(&f->lock);
		stop = f->stop;
		pthread_mutex_unlock(&f->lock);
		if (stop)
			break;
		if (c->nq) {
			int64_t d = c->q[0].due_ms - ws_now_ms();

			timeout = d < 0 ? 0 : d < 50 ? (int)d : 50;
		}
		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			break;
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			char buf[16384];
			ssize_t n = recv(fd, buf, sizeof(buf), 0);

			if (n <= 0) {
				if (n < 0 && errno == EINTR)
					continue;
				break;
			}
			if (!c->upgraded) {
				long used = ws_request_add(&c->ws, buf, (size_t)n);

				if (used < 0) {
					http_error(c, 400, "BAD_REQUEST", "request too large");
					break;
				}
				if (used > 0) {
					upgrade(c);
					if (c->upgraded && c->ws.req_len > (size_t)used) {
						ws_feed(&c->ws, c->ws.req + used, c->ws.req_len - (size_t)used);
						parse_frames(c);
					}
				}
			} else {
				ws_feed(&c->ws, buf, (size_t)n);
				parse_frames(c);
			}
		}
		if (c->upgraded && !c->ws.dead)
			flush_due(c);
		if (c->upgraded && !c->ws.dead && !c->ws.closing && f->cfg.idle_timeout_ms > 0 &&
		    ws_now_ms() - c->last_rx_ms > f->cfg.idle_timeout_ms)
			ws_send_close(&c->ws, 1011, "NET-0001");
	}
	for (int i = 0; i < c->nq; i++)
		free(c->q[i].data);
	close(fd);
	ws_conn_release(&c->ws);
	free(c);
	STAT_SET(f, open, 0);
}

static void *server_main(void *arg)
{
	struct fake_deepgram *f = arg;
	int serial = 0, fd;

	while ((fd = loopback_accept(f->listen_fd, f->wake[0])) >= 0)
		serve(f, fd, ++serial);
	return NULL;
}

struct fake_deepgram *fake_deepgram_start(const struct fake_deepgram_config *cfg)
{
	struct fake_deepgram *f = calloc(1, sizeof(*f));

	ck_assert(f);
	f->cfg = cfg ? *cfg : fake_deepgram_config_default();
	if (f->cfg.interim_every_ms <= 0)
		f->cfg.interim_every_ms = 200;
	if (f->cfg.speech_rms <= 0)
		f->cfg.speech_rms = 300;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	ck_assert(pipe(f->wake) == 0);
	f->listen_fd = loopback_listen(8, &f->port);
	snprintf(f->url, sizeof(f->url), "ws://127.0.0.1:%d/v1/listen", f->port);
	ck_assert(pthread_create(&f->thread, NULL, server_main, f) == 0);
	return f;
}

int fake_deepgram_port(const struct fake_deepgram *f)
{
	return f->port;
}

const char *fake_deepgram_url(const struct fake_deepgram *f)
{
	return f->url;
}

void fake_deepgram_get_stats(struct fake_deepgram *f, struct fake_deepgram_stats *out)
{
	pthread_mutex_lock(&f->lock);
	*out = f->stats;
	pthread_mutex_unlock(&f->lock);
}

bool fake_deepgram_wait(struct fake_deepgram *f,
			bool (*cond)(const struct fake_deepgram_stats *s, void *arg),
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

void fake_deepgram_stop(struct fake_deepgram *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	pthread_mutex_unlock(&f->lock);
	ck_assert(write(f->wake[1], "x", 1) == 1);
	pthread_join(f->thread, NULL);
	close(f->listen_fd);
	close(f->wake[0]);
	close(f->wake[1]);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	free(f);
}
