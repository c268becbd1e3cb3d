/*
 * http_stream.c — streaming HTTP requests on the session's loop: one
 * libcurl multi handle whose sockets are loop fd watchers and whose
 * timeout is a loop timer (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION), body
 * bytes handed over as they arrive, first-byte/idle/total timeouts, and a
 * cancel that closes the connection at once. See http_stream_int.h for
 * how a virtual clock is held while the network works.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "net/cassette_int.h"
#include "net/http_stream_int.h"

#define WHERE "http"
#define ERROR_BODY_MAX 8192

/* The worker job that holds a virtual clock (shared with the job, which
 * may outlive the client: then `orphan` and the job's done frees it). */
struct hold {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool wake, orphan;
	struct vagent__http *h;
};

struct vagent__http {
	struct vagent_loop *loop;
	CURLM *multi;
	struct vagent_timer *timer;        /* curl's timeout */
	struct vagent__http_req *reqs;
	int in_curl;                       /* inside curl_multi_socket_action */
	int depth;                         /* inside one of our callbacks */
	bool free_pending;                 /* freed from a callback: later */
	bool virtual_clock;
	struct hold *hold;                 /* outstanding hold job, or NULL */
};

struct sock {
	struct vagent__http *h;
	struct vagent_io *io;
};

struct vagent__http_req {
	struct vagent__http *h;
	struct vagent__http_req *next;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	char name[64];
	void (*on_data)(void *ctx, const char *buf, size_t n);
	void (*on_done)(void *ctx, const struct vagent__http_result *r);
	void *ctx;
	long status;
	bool in_header_block;
	bool got_bytes, cancelled, finished;
	double retry_after_s;
	bool should_retry_false;
	struct vagent__strbuf error_body;
	struct vagent_timer *byte_timer;   /* first-byte, then idle */
	int first_byte_ms, idle_ms;
	char curl_error[CURL_ERROR_SIZE];
	char timeout_msg[160];
	/* provider cassette (docs/cassettes.md): the exchange being recorded,
	 * or the recorded one playing instead of the network */
	struct vagent__cassette_http *rec, *play;
};

static void drive(struct vagent__http *h, curl_socket_t fd, int ev);
static void leave(struct vagent__http *h);

/* ---- the virtual-clock hold ------------------------------------------ */

static void hold_work(void *arg)
{
	struct hold *hd = arg;
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += VAGENT__HTTP_HOLD_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&hd->mu);
	while (!hd->wake && !hd->orphan) {
		if (pthread_cond_timedwait(&hd->cv, &hd->mu, &until) != 0)
			break;
	}
	hd->wake = false;
	pthread_mutex_unlock(&hd->mu);
}

static void hold_free(struct hold *hd)
{
	pthread_mutex_destroy(&hd->mu);
	pthread_cond_destroy(&hd->cv);
	free(hd);
}

static void hold_arm(struct vagent__http *h);

static void hold_done(void *arg, int64_t charged)
{
	struct hold *hd = arg;
	struct vagent__http *h = hd->h;

	(void)charged;
	if (hd->orphan) {
		hold_free(hd);
		return;
	}
	h->hold = NULL;
	hold_free(hd);
	hold_arm(h);
}

static void hold_arm(struct vagent__http *h)
{
	struct hold *hd;

	if (!h->virtual_clock || h->hold || !h->reqs)
		return;
	hd = calloc(1, sizeof(*hd));
	if (!hd)
		return;
	pthread_mutex_init(&hd->mu, NULL);
	pthread_cond_init(&hd->cv, NULL);
	hd->h = h;
	if (vagent_loop_submit_cost(h->loop, hold_work, hold_done, hd,
				    (int64_t)VAGENT__HTTP_HOLD_MS * VAGENT_TICKS_PER_MS,
				    NULL) != VAGENT_OK) {
		hold_free(hd);           /* no workers: the clock cannot wait */
		return;
	}
	h->hold = hd;
}

static void hold_wake(struct vagent__http *h, bool orphan)
{
	struct hold *hd = h->hold;

	if (!hd)
		return;
	pthread_mutex_lock(&hd->mu);
	hd->wake = true;
	if (orphan)
		hd->orphan = true;
	pthread_cond_signal(&hd->cv);
	pthread_mutex_unlock(&hd->mu);
	if (orphan)
		h->hold = NULL;
}

/* ---- requests --------------------------------------------------------- */

static void req_unlink(struct vagent__http_req *r)
{
	struct vagent__http_req **pp = &r->h->reqs;

	while (*pp && *pp != r)
		pp = &(*pp)->next;
	if (*pp)
		*pp = r->next;
}

static void req_free(struct vagent__http_req *r)
{
	if (r->rec)
		vagent__cassette_http_end(r->rec, VAGENT_OK, "", r->status, r->retry_after_s,
					  r->should_retry_false, "", true);
	vagent__cassette_http_free(r->play);
	if (r->easy) {
		curl_multi_remove_handle(r->h->multi, r->easy);
		curl_easy_cleanup(r->easy);
	}
	curl_slist_free_all(r->headers);
	vagent_timer_free(r->byte_timer);
	vagent__strbuf_release(&r->error_body);
	free(r->body);
	free(r);
}

static void req_finish(struct vagent__http_req *r, vagent_status st,
		       const char *message)
{
	struct vagent__http_result res = { 0 };

	r->finished = true;
	req_unlink(r);
	res.st = st;
	res.status = r->status;
	res.body = r->error_body.p ? r->error_body.p : "";
	res.retry_after_s = r->retry_after_s;
	res.should_retry_false = r->should_retry_false;
	res.got_bytes = r->got_bytes;
	res.message = message ? message : "";
	if (r->rec) {
		vagent__cassette_http_end(r->rec, st, res.message, r->status, r->retry_after_s,
					  r->should_retry_false, res.body, r->cancelled);
		r->rec = NULL;
	}
	if (r->easy) {
		curl_multi_remove_handle(r->h->multi, r->easy);
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
	}
	if (!r->cancelled && r->on_done)
		r->on_done(r->ctx, &res);
	req_free(r);
}

static void byte_timer_fired(struct vagent_timer *t, void *arg)
{
	struct vagent__http_req *r = arg;

	(void)t;
	if (r->h->in_curl) {
		/* never remove a handle inside curl: try again at once */
		vagent_timer_start(t, 0, 0, NULL);
		return;
	}
	snprintf(r->timeout_msg, sizeof(r->timeout_msg),
		 r->got_bytes ? "%s: stream stalled (no data for %d ms)"
			      : "%s: no response within %d ms",
		 r->name, r->got_bytes ? r->idle_ms : r->first_byte_ms);
	{
		struct vagent__http *h = r->h;

		h->depth++;
		req_finish(r, VAGENT_ETIMEOUT, r->timeout_msg);
		leave(h);
	}
}

static double parse_retry_after(const char *v, bool ms)
{
	char *end;
	double d = strtod(v, &end);

	if (end == v || d < 0)
		return -1;
	while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
		end++;
	if (*end)
		return -1;                  /* an HTTP date: not honoured */
	return ms ? d / 1000.0 : d;
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct vagent__http_req *r = arg;
	size_t n = size * nitems;
	char line[256];
	char *colon, *v;

	if (n >= 5 && !strncmp(buf, "HTTP/", 5)) {
		/* a new response (after a 100 Continue, a redirect) */
		r->retry_after_s = -1;
		r->should_retry_false = false;
		r->status = 0;
		sscanf(buf, "HTTP/%*s %ld", &r->status);
		return n;
	}
	snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) - 1 ? n : sizeof(line) - 1), buf);
	colon = strchr(line, ':');
	if (!colon)
		return n;
	*colon = '\0';
	v = colon + 1;
	while (*v == ' ')
		v++;
	if (!strcasecmp(line, "retry-after-ms"))
		r->retry_after_s = parse_retry_after(v, true);
	else if (!strcasecmp(line, "retry-after") && r->retry_after_s < 0)
		r->retry_after_s = parse_retry_after(v, false);
	else if (!strcasecmp(line, "x-should-retry"))
		r->should_retry_false = !strncasecmp(v, "false", 5);
	return n;
}

static size_t write_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct vagent__http_req *r = arg;
	size_t n = size * nmemb;

	if (r->cancelled)
		return 0;                   /* abort: the handle goes after */
	if (r->status < 200 || r->status >= 300) {
		size_t room = ERROR_BODY_MAX - r->error_body.len;

		vagent__strbuf_put(&r->error_body, buf, n < room ? n : room);
		return n;
	}
	r->got_bytes = true;
	if (r->idle_ms > 0)
		vagent_timer_start(r->byte_timer,
				   (int64_t)r->idle_ms * VAGENT_TICKS_PER_MS, 0, NULL);
	else
		vagent_timer_stop(r->byte_timer);
	if (r->rec)
		vagent__cassette_http_chunk(r->rec, buf, n);
	if (n && r->on_data)
		r->on_data(r->ctx, buf, n);
	return r->cancelled ? 0 : n;
}

/* Completed transfers, after curl has returned. */
static void reap(struct vagent__http *h)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left))) {
		struct vagent__http_req *r = NULL;
		char msg[400];

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (!r || r->finished)
			continue;
		if (r->cancelled) {
			r->finished = true;
			req_unlink(r);
			req_free(r);
			continue;
		}
		if (m->data.result == CURLE_OK) {
			req_finish(r, VAGENT_OK, NULL);
			continue;
		}
		snprintf(msg, sizeof(msg), "%s: %s", r->name,
			 r->curl_error[0] ? r->curl_error
					  : curl_easy_strerror(m->data.result));
		req_finish(r, m->data.result == CURLE_OPERATION_TIMEDOUT
			      ? VAGENT_ETIMEOUT : VAGENT_EIO, msg);
	}
	/* cancelled in a callback while curl ran */
	{
		struct vagent__http_req *r = h->reqs, *next;

		for (; r; r = next) {
			next = r->next;
			if (r->cancelled) {
				r->finished = true;
				req_unlink(r);
				req_free(r);
			}
		}
	}
}

static void http_destroy(struct vagent__http *h);

/* Leave a callback section: a free asked for inside it happens now. */
static void leave(struct vagent__http *h)
{
	if (--h->depth == 0 && h->free_pending)
		http_destroy(h);
}

static void drive(struct vagent__http *h, curl_socket_t fd, int ev)
{
	int running;

	h->depth++;
	h->in_curl++;
	curl_multi_socket_action(h->multi, fd, ev, &running);
	h->in_curl--;
	if (!h->in_curl && !h->free_pending)
		reap(h);
	if (!h->free_pending) {
		hold_wake(h, false);
		hold_arm(h);
	}
	leave(h);
}

static void io_cb(struct vagent_io *io, int fd, unsigned revents, void *arg)
{
	struct sock *s = arg;
	int ev = 0;

	(void)io;
	if (revents & VAGENT_IO_READ)
		ev |= CURL_CSELECT_IN;
	if (revents & VAGENT_IO_WRITE)
		ev |= CURL_CSELECT_OUT;
	if (revents & VAGENT_IO_ERROR)
		ev |= CURL_CSELECT_ERR;
	drive(s->h, fd, ev);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
		     void *socketp)
{
	struct vagent__http *h = userp;
	struct sock *s = socketp;
	unsigned events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			vagent_io_free(s->io);
			free(s);
			curl_multi_assign(h->multi, fd, NULL);
		}
		return 0;
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= VAGENT_IO_READ;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= VAGENT_IO_WRITE;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->h = h;
		if (vagent_io_new(h->loop, fd, events, io_cb, s, &s->io, NULL) != VAGENT_OK) {
			free(s);
			return -1;
		}
		curl_multi_assign(h->multi, fd, s);
	} else if (vagent_io_modify(s->io, events, NULL) != VAGENT_OK) {
		return -1;
	}
	return 0;
}

static void timer_fired(struct vagent_timer *t, void *arg)
{
	(void)t;
	drive(arg, CURL_SOCKET_TIMEOUT, 0);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct vagent__http *h = userp;

	(void)multi;
	if (timeout_ms < 0)
		vagent_timer_stop(h->timer);
	else
		vagent_timer_start(h->timer, (int64_t)timeout_ms * VAGENT_TICKS_PER_MS,
				   0, NULL);
	return 0;
}

vagent_status vagent__http_new(struct vagent_loop *loop, struct vagent__http **out,
			       struct vagent_error *err)
{
	struct vagent__http *h;
	vagent_status st;

	*out = NULL;
	if ((st = vagent__curl_init(err, WHERE)) != VAGENT_OK)
		return st;
	h = calloc(1, sizeof(*h));
	if (!h)
		return vagent__error_set(err, VAGENT_ENOMEM, WHERE, "out of memory");
	h->loop = loop;
	h->virtual_clock = vagent_clock_type(vagent_loop_clock(loop)) == VAGENT_CLOCK_VIRTUAL;
	h->multi = curl_multi_init();
	h->timer = vagent_timer_new(loop, timer_fired, h);
	if (!h->multi || !h->timer) {
		vagent__http_free(h);
		return vagent__error_set(err, VAGENT_ENOMEM, WHERE, "out of memory");
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	*out = h;
	return VAGENT_OK;
}

void vagent__http_free(struct vagent__http *h)
{
	if (!h)
		return;
	if (h->depth) {
		/* from one of our callbacks: no more callbacks, free on the
		 * way out */
		for (struct vagent__http_req *r = h->reqs; r; r = r->next)
			r->cancelled = true;
		h->free_pending = true;
		return;
	}
	http_destroy(h);
}

static void http_destroy(struct vagent__http *h)
{
	while (h->reqs) {
		struct vagent__http_req *r = h->reqs;

		h->reqs = r->next;
		req_free(r);
	}
	hold_wake(h, true);
	if (h->multi)
		curl_multi_cleanup(h->multi);   /* REMOVEs the sockets */
	vagent_timer_free(h->timer);
	free(h);
}

size_t vagent__http_active(const struct vagent__http *h)
{
	const struct vagent__http_req *r;
	size_t n = 0;

	for (r = h->reqs; r; r = r->next)
		if (!r->cancelled)
			n++;
	return n;
}

/* ---- replay from a cassette: the recorded response on loop timers ---- */

static void replay_data(void *ctx, const char *buf, size_t n)
{
	struct vagent__http_req *r = ctx;
	struct vagent__http *h = r->h;

	if (r->cancelled)
		return;
	r->got_bytes = true;
	if (!n || !r->on_data)
		return;
	h->depth++;
	r->on_data(r->ctx, buf, n);
	leave(h);
}

static void replay_done(void *ctx, vagent_status st, const char *message, long status,
			double retry_after_s, bool should_retry_false,
			const char *error_body)
{
	struct vagent__http_req *r = ctx;
	struct vagent__http *h = r->h;

	if (r->cancelled || r->finished)
		return;
	r->status = status;
	r->retry_after_s = retry_after_s;
	r->should_retry_false = should_retry_false;
	vagent__strbuf_puts(&r->error_body, error_body ? error_body : "");
	h->depth++;
	req_finish(r, st, message);
	leave(h);
}

static vagent_status replay_start(struct vagent__http *h, struct vagent__http_req *r,
				  const struct vagent__http_request *rq,
				  struct vagent_cassette *cs, struct vagent__http_req **out,
				  struct vagent_error *err)
{
	struct vagent__cassette_http_sink sink = { replay_data, replay_done, r };

	r->play = vagent__cassette_http_replay(cs, h->loop, r->name, rq->url, rq->body, &sink);
	if (!r->play) {
		req_free(r);
		return vagent__error_set(err, VAGENT_ENOMEM, r->name, "out of memory");
	}
	r->next = h->reqs;
	h->reqs = r;
	*out = r;
	return VAGENT_OK;
}

vagent_status vagent__http_start(struct vagent__http *h,
				 const struct vagent__http_request *rq,
				 struct vagent__http_req **out,
				 struct vagent_error *err)
{
	struct vagent__http_req *r;
	const char *name = rq->name ? rq->name : WHERE;
	size_t i;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return vagent__error_set(err, VAGENT_ENOMEM, name, "out of memory");
	r->h = h;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->on_data = rq->on_data;
	r->on_done = rq->on_done;
	r->ctx = rq->ctx;
	r->retry_after_s = -1;
	r->first_byte_ms = rq->first_byte_timeout_ms;
	r->idle_ms = rq->idle_timeout_ms;
	if (vagent__cassette_replaying(vagent__loop_cassette(h->loop)))
		return replay_start(h, r, rq, vagent__loop_cassette(h->loop), out, err);
	r->easy = curl_easy_init();
	r->byte_timer = vagent_timer_new(h->loop, byte_timer_fired, r);
	r->body = rq->body ? strdup(rq->body) : NULL;
	if (!r->easy || !r->byte_timer || (rq->body && !r->body))
		goto oom;
	for (i = 0; rq->headers && rq->headers[i]; i++) {
		struct curl_slist *l = curl_slist_append(r->headers, rq->headers[i]);

		if (!l)
			goto oom;
		r->headers = l;
	}
	curl_easy_setopt(r->easy, CURLOPT_URL, rq->url);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, (char *)r);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->curl_error);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(rq->connect_timeout_ms > 0 ? rq->connect_timeout_ms : 10000));
	if (rq->total_timeout_ms > 0)
		curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (long)rq->total_timeout_ms);
	if (r->body) {
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
	}
	if (r->first_byte_ms > 0)
		vagent_timer_start(r->byte_timer,
				   (int64_t)r->first_byte_ms * VAGENT_TICKS_PER_MS, 0, NULL);
	if (curl_multi_add_handle(h->multi, r->easy) != CURLM_OK)
		goto oom;
	if (vagent__loop_cassette(h->loop))
		r->rec = vagent__cassette_http_record(vagent__loop_cassette(h->loop), h->loop,
						      r->name, rq->url, rq->headers, rq->body);
	r->next = h->reqs;
	h->reqs = r;
	hold_arm(h);
	*out = r;
	return VAGENT_OK;
oom:
	req_free(r);
	return vagent__error_set(err, VAGENT_ENOMEM, name, "out of memory");
}

void vagent__http_cancel(struct vagent__http_req *r)
{
	if (!r || r->cancelled || r->finished)
		return;
	r->cancelled = true;
	vagent_timer_stop(r->byte_timer);
	if (r->h->in_curl)
		return;                    /* reap() frees it once curl returns */
	r->finished = true;
	req_unlink(r);
	req_free(r);
}

void vagent__http_header_redact(const char *line, char *out, size_t size)
{
	size_t name_len = strcspn(line, ":");
	char name[64];

	snprintf(name, sizeof(name), "%.*s", (int)(name_len < 63 ? name_len : 63), line);
	for (char *c = name; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	if (line[name_len] == ':' &&
	    (!strcmp(name, "authorization") || strstr(name, "key") ||
	     strstr(name, "token") || !strcmp(name, "cookie")))
		snprintf(out, size, "%s: <redacted>", name);
	else
		snprintf(out, size, "%s", line);
}
