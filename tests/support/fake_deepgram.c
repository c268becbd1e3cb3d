/*
 * fake_deepgram.c — a loopback fake of Deepgram live STT (/v1/listen) on a
 * plain-socket WebSocket server of its own (independent of the lws client
 * it tests), one connection at a time, on one thread. See fake_deepgram.h
 * and docs/providers.md "The fake".
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <libwebsockets.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "support/fake_deepgram.h"
#include "support/loopback.h"

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
	int fd;
	bool ws, echo, closing, dead;
	/* request */
	char req[8192];
	size_t req_len;
	/* frames */
	unsigned char *in;
	size_t in_len, in_cap;
	unsigned char *msg;       /* fragmented message being assembled */
	size_t msg_len, msg_cap;
	int msg_opcode;
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

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* Queue a message to leave after the configured latency (in order). */
static void queue_msg(struct conn *c, int opcode, char *data, bool is_results)
{
	struct fake_deepgram *f = c->f;
	int64_t due = now_ms() + f->cfg.latency_ms;

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

static void flush_due(struct conn *c)
{
	struct fake_deepgram *f = c->f;
	int64_t now = now_ms();
	int i = 0;

	while (i < c->nq && c->q[i].due_ms <= now && !c->dead) {
		struct queued *m = &c->q[i];
		int n;

		pthread_mutex_lock(&f->lock);
		n = ++f->stats.messages_sent;
		pthread_cond_broadcast(&f->cond);
		pthread_mutex_unlock(&f->lock);
		if (m->opcode == 8) {
			send_close(c, 1000, "");
		} else if (f->cfg.stall_after > 0 && n > f->cfg.stall_after) {
			/* stalled: swallow it */
		} else if (f->cfg.malformed_at > 0 && n == f->cfg.malformed_at) {
			static const char broken[] = "{\"type\":\"Results\",\"channel\":{\"alter";

			send_frame(c, 1, broken, sizeof(broken) - 1);
		} else {
			send_frame(c, m->opcode, m->data, m->len);
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
	queue_msg(c, 1, fmt("{\"type\":\"Results\",\"channel_index\":[0,1],\"start\":%.3f,"
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
				queue_msg(c, 1, fmt("{\"type\":\"SpeechStarted\",\"channel\":[0,1],"
						   "\"timestamp\":%.3f}", c->speech_start), false);
		}
		c->last_voice = t_end;
	} else {
		c->need_silence = false;
	}
	if (c->ue_pending && t_end >= c->ue_at) {
		c->ue_pending = false;
		queue_msg(c, 1, fmt("{\"type\":\"UtteranceEnd\",\"channel\":[0,1],"
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
	    (double)c->samples * 1000 / c->rate >= f->cfg.drop_after_audio_ms && !c->closing) {
		if (f->cfg.close_code) {
			send_close(c, f->cfg.close_code, "NET-0000");
		} else {
			shutdown(c->fd, SHUT_RDWR);
			c->dead = true;
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
			send_close(c, code, reason);
		else
			send_frame(c, 1, text, strlen(text));
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
		queue_msg(c, 1, fmt("{\"type\":\"Metadata\",\"transaction_key\":\"deprecated\","
				   "\"request_id\":\"%s\",\"sha256\":\"0\",\"created\":"
				   "\"2026-01-01T00:00:00.000Z\",\"duration\":%.3f,\"channels\":%d}",
				   c->request_id, t, c->channels), false);
		queue_msg(c, 8, fmt("close"), false);
	}
}

/* ---- frames ---- */

static void on_message(struct conn *c, int opcode, unsigned char *d, size_t n)
{
	if (opcode == 2) {
		if (c->echo)
			send_frame(c, 2, d, n);
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

static void parse_frames(struct conn *c)
{
	size_t off = 0;

	while (!c->dead) {
		unsigned char *p = c->in + off;
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
		if (!masked || len > (64u << 20)) {   /* clients must mask */
			send_close(c, 1002, "protocol error");
			c->dead = true;
			break;
		}
		if (avail < hl + 4 + len)
			break;
		unsigned char *mask = p + hl, *d = p + hl + 4;

		for (uint64_t i = 0; i < len; i++)
			d[i] ^= mask[i & 3];
		off += hl + 4 + (size_t)len;
		c->last_rx_ms = now_ms();
		if (opcode == 8) {
			int code = len >= 2 ? (d[0] << 8) | d[1] : 1005;

			STAT_SET(c->f, client_close_code, code);
			if (!c->closing)
				send_close(c, code == 1005 ? 1000 : code, "");
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
			on_message(c, c->msg_opcode, c->msg, c->msg_len);
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

static void http_error(struct conn *c, int status, const char *code, const char *msg)
{
	const char *text = status == 401 ? "Unauthorized" : status == 429 ? "Too Many Requests" :
			   status == 400 ? "Bad Request" : status == 404 ? "Not Found" :
			   "Internal Server Error";
	char *body = fmt("{\"err_code\":\"%s\",\"err_msg\":\"%s\",\"request_id\":\"%s\"}",
			 code, msg, c->request_id);
	char *resp = fmt("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			 "dg-request-id: %s\r\ndg-error: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n%s",
			 status, text, c->request_id, msg, strlen(body), body);

	send_all(c, resp, strlen(resp));
	free(body);
	free(resp);
	c->dead = true;
}

static void upgrade(struct conn *c)
{
	struct fake_deepgram *f = c->f;
	char path[1024] = "", key[128] = "", auth[256] = "", v[64];
	const char *q;
	unsigned char sha[20];
	char accept[64], *resp, *concat;

	sscanf(c->req, "GET %1023s", path);
	q = strchr(path, '?');
	q = q ? q + 1 : "";
	header(c->req, "Authorization", auth, sizeof(auth));
	pthread_mutex_lock(&f->lock);
	f->stats.connections++;
	snprintf(f->stats.auth, sizeof(f->stats.auth), "%.*s", (int)sizeof(f->stats.auth) - 1, auth);
	snprintf(f->stats.query, sizeof(f->stats.query), "%.*s", (int)sizeof(f->stats.query) - 1, q);
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	if (!header(c->req, "Sec-WebSocket-Key", key, sizeof(key)))
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
		if (query_param(q, "encoding", v, sizeof(v))) {
			if (!strcmp(v, "mulaw"))
				c->mulaw = true;
			else if (strcmp(v, "linear16"))
				return http_error(c, 400, "INVALID_QUERY_PARAMETER",
						  "Failed to deserialize query parameters: encoding");
			if (!query_param(q, "sample_rate", v, sizeof(v)) || atoi(v) < 8000 ||
			    atoi(v) > 48000)
				return http_error(c, 400, "INVALID_QUERY_PARAMETER",
						  "Failed to deserialize query parameters: sample_rate");
			c->rate = atoi(v);
		} else {
			return http_error(c, 400, "INVALID_QUERY_PARAMETER",
					  "the fake needs raw audio: encoding and sample_rate");
		}
		if (query_param(q, "channels", v, sizeof(v)))
			c->channels = atoi(v) == 2 ? 2 : 1;
		c->interim = query_param(q, "interim_results", v, sizeof(v)) && !strcmp(v, "true");
		c->vad_events = query_param(q, "vad_events", v, sizeof(v)) && !strcmp(v, "true");
		c->endpointing_ms = 10;
		if (query_param(q, "endpointing", v, sizeof(v)))
			c->endpointing_ms = !strcmp(v, "false") ? 0 : atoi(v);
		c->utterance_end_ms = query_param(q, "utterance_end_ms", v, sizeof(v)) ? atoi(v) : 0;
		c->block_size = (size_t)(c->rate / 1000 * BLOCK_MS * c->channels);
		if (c->block_size > sizeof(c->block) / sizeof(c->block[0]))
			c->block_size = sizeof(c->block) / sizeof(c->block[0]);
	}
	concat = fmt("%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
	lws_SHA1((unsigned char *)concat, strlen(concat), sha);
	free(concat);
	lws_b64_encode_string((const char *)sha, 20, accept, sizeof(accept));
	resp = fmt("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		   "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
		   "dg-request-id: %s\r\n\r\n", accept, c->request_id);
	send_all(c, resp, strlen(resp));
	free(resp);
	c->ws = true;
	c->last_rx_ms = now_ms();
	STAT_ADD(f, upgraded, 1);
}

/* ---- the server thread ---- */

static void serve(struct fake_deepgram *f, int fd, int serial)
{
	struct conn *c = calloc(1, sizeof(*c));

	ck_assert(c);
	c->f = f;
	c->fd = fd;
	snprintf(c->request_id, sizeof(c->request_id), "fake-%08d", serial);
	pthread_mutex_lock(&f->lock);
	f->stats.open = 1;
	f->stats.audio_ms = 0;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	while (!c->dead) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { f->wake[0], POLLIN, 0 } };
		int timeout = 50;
		bool stop;

		pthread_mutex_lock(&f->lock);
		stop = f->stop;
		pthread_mutex_unlock(&f->lock);
		if (stop)
			break;
		if (c->nq) {
			int64_t d = c->q[0].due_ms - now_ms();

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
			if (!c->ws) {
				char *end;

				if (c->req_len + (size_t)n >= sizeof(c->req)) {
					http_error(c, 400, "BAD_REQUEST", "request too large");
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
		if (c->ws && !c->dead)
			flush_due(c);
		if (c->ws && !c->dead && !c->closing && f->cfg.idle_timeout_ms > 0 &&
		    now_ms() - c->last_rx_ms > f->cfg.idle_timeout_ms)
			send_close(c, 1011, "NET-0001");
	}
	for (int i = 0; i < c->nq; i++)
		free(c->q[i].data);
	close(fd);
	free(c->in);
	free(c->msg);
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
