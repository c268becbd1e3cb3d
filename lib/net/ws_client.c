/*
 * ws_client.c — a WebSocket client connection on libwebsockets whose
 * events are delivered on a vagent loop. Each client owns an lws context
 * and a service thread; the loop thread and the service thread exchange
 * work through two mutex-protected queues (see ws_int.h for the threading
 * and docs/providers.md "WebSocket client").
 */
#include <errno.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/internal.h"
#include "net/cassette_int.h"
#include "net/ws_int.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_MAX_MESSAGE        (4u << 20)
#define LINGER_MS                  2000  /* a loaded machine may take a while to send the close frame */

enum event_kind { EV_OPEN, EV_MESSAGE, EV_CLOSE, EV_ERROR };

/* service thread -> loop */
struct event {
	struct event *next;
	enum event_kind kind;
	bool binary;
	int code;                      /* EV_CLOSE: close code; EV_ERROR: HTTP status */
	vagent_status status;          /* EV_ERROR */
	size_t len;
	char *data;                    /* message, close reason or error text */
};

/* loop -> service thread: a message with LWS_PRE bytes of headroom */
struct outgoing {
	struct outgoing *next;
	bool binary;
	size_t len;
	unsigned char buf[];
};

struct vagent__ws_client {
	struct vagent_loop *loop;
	struct vagent__ws_callbacks cb;
	char *who, *host, *path;
	int port;
	bool tls;
	char **headers;                /* "name:" and value, pairs */
	size_t n_headers;
	size_t max_message;
	int connect_timeout_ms;

	struct lws_context *ctx;
	struct lws *wsi;               /* service thread only */
	pthread_t thread;
	bool thread_started;
	int efd;
	struct vagent_io *io;

	pthread_mutex_t lock;          /* guards everything below */
	struct outgoing *out_head, *out_tail;
	bool close_wanted;
	bool close_started;            /* the close frame is on its way (service thread) */
	int close_code;
	char close_reason[124];
	bool stop;                     /* the service thread must exit */
	bool finished;                 /* the connection is over */
	pthread_cond_t finished_cond;
	struct event *ev_head, *ev_tail;

	/* service thread only */
	bool terminal_sent;            /* EV_CLOSE or EV_ERROR queued */
	bool opened;
	int peer_code;
	char peer_reason[124];
	char *rx;
	size_t rx_len, rx_cap;
	bool rx_binary, rx_too_big;

	/* loop thread only */
	bool ended;                    /* on_close/on_error delivered, or closing */
	bool open;
	bool dispatching, free_wanted;
	bool detached;                 /* vagent__ws_detach: no loop, no callbacks */

	/* provider cassette (docs/cassettes.md): the connection being
	 * recorded, or (replay) the recorded one playing instead of lws */
	struct vagent__cassette_ws *cas;
	bool replay;
};

static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void quiet_log(int level, const char *line)
{
	(void)level;
	(void)line;
}

static void lws_quiet(void)
{
	lws_set_log_level(0, quiet_log);
}

/* ---- URL ---- */

bool vagent__ws_parse_url(const char *url, bool *tls, char **host, int *port,
			  char **path)
{
	const char *p, *h, *slash, *colon;
	size_t hl;

	*host = *path = NULL;
	if (!url)
		return false;
	if (!strncmp(url, "ws://", 5)) {
		*tls = false;
		*port = 80;
		p = url + 5;
	} else if (!strncmp(url, "wss://", 6)) {
		*tls = true;
		*port = 443;
		p = url + 6;
	} else {
		return false;
	}
	h = p;
	slash = strpbrk(h, "/?");
	hl = slash ? (size_t)(slash - h) : strlen(h);
	if (hl == 0 || memchr(h, '@', hl))
		return false;      /* no host, or credentials in the URL */
	colon = memchr(h, ':', hl);
	if (colon) {
		char *end;
		long v = strtol(colon + 1, &end, 10);

		if (end != h + hl || v <= 0 || v > 65535 || colon + 1 == end)
			return false;
		*port = (int)v;
		hl = (size_t)(colon - h);
		if (hl == 0)
			return false;
	}
	*host = strndup(h, hl);
	if (!slash)
		*path = strdup("/");
	else if (*slash == '?' && (*path = malloc(strlen(slash) + 2)))
		sprintf(*path, "/%s", slash);
	else if (*slash == '/')
		*path = strdup(slash);
	if (!*host || !*path) {
		free(*host);
		free(*path);
		*host = *path = NULL;
		return false;
	}
	return true;
}

/* ---- service thread side ---- */

static void push_event(struct vagent__ws_client *c, enum event_kind kind,
		       bool binary, int code, vagent_status st,
		       const void *data, size_t len)
{
	struct event *e = calloc(1, sizeof(*e));
	uint64_t one = 1;
	ssize_t w;

	if (!e)
		return;
	e->kind = kind;
	e->binary = binary;
	e->code = code;
	e->status = st;
	e->len = len;
	e->data = malloc(len + 1);
	if (!e->data) {
		free(e);
		return;
	}
	if (len)
		memcpy(e->data, data, len);
	e->data[len] = '\0';
	pthread_mutex_lock(&c->lock);
	if (c->ev_tail)
		c->ev_tail->next = e;
	else
		c->ev_head = e;
	c->ev_tail = e;
	pthread_mutex_unlock(&c->lock);
	do
		w = write(c->efd, &one, sizeof(one));
	while (w < 0 && errno == EINTR);
}

static void push_terminal(struct vagent__ws_client *c, enum event_kind kind,
			  int code, vagent_status st, const char *text)
{
	if (c->terminal_sent)
		return;
	c->terminal_sent = true;
	push_event(c, kind, false, code, st, text, strlen(text));
	pthread_mutex_lock(&c->lock);
	c->finished = true;
	pthread_cond_broadcast(&c->finished_cond);
	pthread_mutex_unlock(&c->lock);
}

static void connect_failed(struct vagent__ws_client *c, struct lws *wsi,
			   const char *why)
{
	int http = wsi ? (int)lws_http_client_http_response(wsi) : 0;
	char msg[320];
	vagent_status st = VAGENT_EIO;

	if (http == 401 || http == 403)
		st = VAGENT_EAUTH;
	else if (http >= 400)
		st = VAGENT_EPROVIDER;
	if (http)
		snprintf(msg, sizeof(msg),
			 "%s: %s:%d refused the WebSocket upgrade: HTTP %d",
			 c->who, c->host, c->port, http);
	else
		snprintf(msg, sizeof(msg), "%s: cannot connect to %s:%d: %s",
			 c->who, c->host, c->port,
			 why && *why ? why : "connection failed");
	/* lws's text may echo a header or the path: keep it to one line */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	push_terminal(c, EV_ERROR, http, st, msg);
}

static int append_headers(struct vagent__ws_client *c, struct lws *wsi,
			  unsigned char **p, unsigned char *end)
{
	for (size_t i = 0; i < c->n_headers; i++) {
		const char *v = c->headers[2 * i + 1];

		if (lws_add_http_header_by_name(wsi,
				(const unsigned char *)c->headers[2 * i],
				(const unsigned char *)v, (int)strlen(v), p, end))
			return -1;
	}
	return 0;
}

static void rx_append(struct vagent__ws_client *c, struct lws *wsi,
		      const void *in, size_t len)
{
	if (lws_is_first_fragment(wsi)) {
		c->rx_len = 0;
		c->rx_too_big = false;
		c->rx_binary = lws_frame_is_binary(wsi);
	}
	if (c->rx_too_big)
		return;
	if (c->rx_len + len > c->max_message) {
		c->rx_too_big = true;
		return;
	}
	if (c->rx_len + len + 1 > c->rx_cap) {
		size_t cap = (c->rx_len + len + 1) * 2;
		char *n = realloc(c->rx, cap);

		if (!n) {
			c->rx_too_big = true;
			return;
		}
		c->rx = n;
		c->rx_cap = cap;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons why,
		       void *user, void *in, size_t len)
{
	struct vagent__ws_client *c = user;

	switch (why) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED: {
		struct lws_context *ctx = lws_get_context(wsi);

		c = ctx ? lws_context_user(ctx) : NULL;
		if (c && c->wsi && c->opened) {
			bool want;

			pthread_mutex_lock(&c->lock);
			want = c->out_head || c->close_wanted;
			pthread_mutex_unlock(&c->lock);
			if (want)
				lws_callback_on_writable(c->wsi);
		}
		return 0;
	}
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (!c)
			return 0;
		return append_headers(c, wsi, (unsigned char **)in,
				      *(unsigned char **)in + len);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c) {
			connect_failed(c, wsi, in ? (const char *)in : NULL);
			c->wsi = NULL;
		}
		return 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (!c)
			return 0;
		c->opened = true;
		push_event(c, EV_OPEN, false, 0, VAGENT_OK, "", 0);
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (!c)
			return 0;
		rx_append(c, wsi, in, len);
		if (lws_is_final_fragment(wsi) &&
		    !lws_remaining_packet_payload(wsi)) {
			if (c->rx_too_big) {
				static const char big[] = "message too big";

				c->peer_code = 1009;
				snprintf(c->peer_reason, sizeof(c->peer_reason), "%s", big);
				lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
						 (unsigned char *)(uintptr_t)big,
						 sizeof(big) - 1);
				return -1;
			}
			push_event(c, EV_MESSAGE, c->rx_binary, 0, VAGENT_OK,
				   c->rx ? c->rx : "", c->rx_len);
			c->rx_len = 0;
		}
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE: {
		struct outgoing *o;
		bool close_now = false;
		int code = 1000;
		char reason[124];

		if (!c)
			return 0;
		pthread_mutex_lock(&c->lock);
		o = c->out_head;
		if (o) {
			c->out_head = o->next;
			if (!c->out_head)
				c->out_tail = NULL;
		} else if (c->close_wanted) {
			close_now = true;
			code = c->close_code;
			snprintf(reason, sizeof(reason), "%s", c->close_reason);
		}
		pthread_mutex_unlock(&c->lock);
		if (o) {
			int n = lws_write(wsi, o->buf + LWS_PRE, o->len,
					  o->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);

			free(o);
			if (n < 0)
				return -1;
			lws_callback_on_writable(wsi);
			return 0;
		}
		if (close_now && c->close_started)
			return 0;              /* lws is sending the close frame */
		if (close_now) {
			c->close_started = true;
			if (!c->peer_code) {
				c->peer_code = code;
				snprintf(c->peer_reason, sizeof(c->peer_reason), "%s", reason);
			}
			lws_close_reason(wsi, (enum lws_close_status)code,
					 (unsigned char *)reason, strlen(reason));
			return -1;
		}
		return 0;
	}
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (c && len >= 2 && !c->peer_code) {
			const unsigned char *b = in;
			size_t rl = len - 2;

			c->peer_code = (b[0] << 8) | b[1];
			if (rl >= sizeof(c->peer_reason))
				rl = sizeof(c->peer_reason) - 1;
			memcpy(c->peer_reason, b + 2, rl);
			c->peer_reason[rl] = '\0';
		} else if (c && !c->peer_code) {
			c->peer_code = 1005;   /* close frame without a code */
		}
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c) {
			char reason[124];

			snprintf(reason, sizeof(reason), "%s", c->peer_reason);
			for (char *p = reason; *p; p++)
				if ((unsigned char)*p < 0x20)
					*p = ' ';
			if (c->opened)
				push_terminal(c, EV_CLOSE, c->peer_code ? c->peer_code : 1006,
					      VAGENT_OK, reason);
			else
				connect_failed(c, NULL, "connection closed");
			c->wsi = NULL;
		}
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols protocols[] = {
	{ "vagent-ws", ws_callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void *service_main(void *arg)
{
	struct vagent__ws_client *c = arg;
	struct lws_client_connect_info ci;
	bool stop;

	memset(&ci, 0, sizeof(ci));
	ci.context = c->ctx;
	ci.address = c->host;
	ci.port = c->port;
	ci.path = c->path;
	ci.host = c->host;
	ci.origin = c->host;
	ci.ssl_connection = c->tls ? LCCSCF_USE_SSL : 0;
	ci.local_protocol_name = protocols[0].name;
	ci.userdata = c;
	ci.pwsi = &c->wsi;
	if (!lws_client_connect_via_info(&ci)) {
		c->wsi = NULL;
		connect_failed(c, NULL, "connection failed");
	}
	for (;;) {
		pthread_mutex_lock(&c->lock);
		stop = c->stop;
		pthread_mutex_unlock(&c->lock);
		if (stop)
			break;
		if (lws_service(c->ctx, 0) < 0)
			break;
	}
	return NULL;
}

/* ---- loop side ---- */

static void event_free(struct event *e)
{
	free(e->data);
	free(e);
}

static void really_free(struct vagent__ws_client *c);

static void drain(struct vagent_io *io, int fd, unsigned revents, void *arg)
{
	struct vagent__ws_client *c = arg;
	uint64_t count;
	ssize_t r;

	(void)io;
	(void)revents;
	do
		r = read(fd, &count, sizeof(count));
	while (r < 0 && errno == EINTR);
	c->dispatching = true;
	while (!c->free_wanted) {
		struct event *e;

		pthread_mutex_lock(&c->lock);
		e = c->ev_head;
		if (e) {
			c->ev_head = e->next;
			if (!c->ev_head)
				c->ev_tail = NULL;
		}
		pthread_mutex_unlock(&c->lock);
		if (!e)
			break;
		if (c->cas && !c->ended)
			vagent__cassette_ws_event(c->cas, e->kind == EV_OPEN ? 'o'
						  : e->kind == EV_MESSAGE ? 'm'
						  : e->kind == EV_CLOSE ? 'c' : 'e',
						  e->binary, e->data, e->len, e->code, e->status);
		switch (e->kind) {
		case EV_OPEN:
			if (!c->ended) {
				c->open = true;
				if (c->cb.on_open)
					c->cb.on_open(c->cb.arg);
			}
			break;
		case EV_MESSAGE:
			if (!c->ended && c->cb.on_message)
				c->cb.on_message(c->cb.arg, e->binary, e->data, e->len);
			break;
		case EV_CLOSE:
			c->open = false;
			if (c->cb.on_close && !c->ended) {
				c->ended = true;
				c->cb.on_close(c->cb.arg, e->code, e->data);
			}
			c->ended = true;
			break;
		case EV_ERROR:
			c->open = false;
			if (c->cb.on_error && !c->ended) {
				c->ended = true;
				c->cb.on_error(c->cb.arg, e->status, e->code, e->data);
			}
			c->ended = true;
			break;
		}
		event_free(e);
	}
	c->dispatching = false;
	if (c->free_wanted)
		really_free(c);
}

/* ---- replay from a cassette: the recorded server on loop timers ---- */

static void replay_enter(struct vagent__ws_client *c)
{
	c->dispatching = true;
}

static void replay_leave(struct vagent__ws_client *c)
{
	c->dispatching = false;
	if (c->free_wanted)
		really_free(c);
}

static void replay_open(void *arg)
{
	struct vagent__ws_client *c = arg;

	if (c->ended)
		return;
	c->open = true;
	replay_enter(c);
	if (c->cb.on_open)
		c->cb.on_open(c->cb.arg);
	replay_leave(c);
}

static void replay_message(void *arg, bool binary, const void *data, size_t len)
{
	struct vagent__ws_client *c = arg;

	if (c->ended || !c->cb.on_message)
		return;
	replay_enter(c);
	c->cb.on_message(c->cb.arg, binary, data, len);
	replay_leave(c);
}

static void replay_close(void *arg, int code, const char *reason)
{
	struct vagent__ws_client *c = arg;

	c->open = false;
	if (c->ended)
		return;
	c->ended = true;
	replay_enter(c);
	if (c->cb.on_close)
		c->cb.on_close(c->cb.arg, code, reason);
	replay_leave(c);
}

static void replay_error(void *arg, vagent_status st, int http_status, const char *message)
{
	struct vagent__ws_client *c = arg;

	c->open = false;
	if (c->ended)
		return;
	c->ended = true;
	replay_enter(c);
	if (c->cb.on_error)
		c->cb.on_error(c->cb.arg, st, http_status, message);
	replay_leave(c);
}

vagent_status vagent__ws_client_new(struct vagent_loop *loop,
				    const struct vagent__ws_config *cfg,
				    const struct vagent__ws_callbacks *cb,
				    struct vagent__ws_client **out,
				    struct vagent_error *err)
{
	struct vagent__ws_client *c;
	struct lws_context_creation_info info;
	const char *who = cfg && cfg->who ? cfg->who : "websocket";
	size_t nh = 0;
	vagent_status st;

	*out = NULL;
	if (!loop || !cfg || !cb)
		return vagent__error_set(err, VAGENT_EINVAL, who, "no loop, config or callbacks");
	c = calloc(1, sizeof(*c));
	if (!c)
		return vagent__error_set(err, VAGENT_ENOMEM, who, "out of memory");
	c->efd = -1;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->finished_cond, NULL);
	c->loop = loop;
	c->cb = *cb;
	c->who = strdup(who);
	c->max_message = cfg->max_message ? cfg->max_message : DEFAULT_MAX_MESSAGE;
	c->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms
							     : DEFAULT_CONNECT_TIMEOUT_MS;
	if (!c->who) {
		st = vagent__error_set(err, VAGENT_ENOMEM, who, "out of memory");
		goto fail;
	}
	if (!vagent__ws_parse_url(cfg->url, &c->tls, &c->host, &c->port, &c->path)) {
		st = vagent__error_set(err, VAGENT_EINVAL, who,
				       "url: not a ws:// or wss:// URL with a host");
		goto fail;
	}
	while (cfg->headers && cfg->headers[nh])
		nh++;
	c->headers = calloc(2 * nh + 1, sizeof(char *));
	if (!c->headers) {
		st = vagent__error_set(err, VAGENT_ENOMEM, who, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < nh; i++) {
		const char *h = cfg->headers[i], *colon = strchr(h, ':');
		const char *v;
		char *name;

		if (!colon || colon == h) {
			st = vagent__error_set(err, VAGENT_EINVAL, who,
					       "header %zu: not \"Name: value\"", i + 1);
			goto fail;
		}
		name = malloc((size_t)(colon - h) + 2);
		if (!name) {
			st = vagent__error_set(err, VAGENT_ENOMEM, who, "out of memory");
			goto fail;
		}
		for (size_t k = 0; k < (size_t)(colon - h); k++)
			name[k] = (char)((h[k] >= 'A' && h[k] <= 'Z') ? h[k] + 32 : h[k]);
		name[colon - h] = ':';
		name[colon - h + 1] = '\0';
		c->headers[2 * i] = name;
		c->n_headers = i + 1;
		v = colon + 1;
		while (*v == ' ')
			v++;
		c->headers[2 * i + 1] = strdup(v);
		if (!c->headers[2 * i + 1]) {
			st = vagent__error_set(err, VAGENT_ENOMEM, who, "out of memory");
			goto fail;
		}
	}
	if (vagent__cassette_replaying(vagent__loop_cassette(loop))) {
		struct vagent__cassette_ws_sink sink = {
			replay_open, replay_message, replay_close, replay_error, c
		};

		c->replay = true;
		c->cas = vagent__cassette_ws_replay(vagent__loop_cassette(loop), loop, who,
						    cfg->url, &sink);
		if (!c->cas) {
			st = vagent__error_set(err, VAGENT_ENOMEM, who, "out of memory");
			goto fail;
		}
		*out = c;
		return VAGENT_OK;
	}
	if (vagent__loop_cassette(loop))
		c->cas = vagent__cassette_ws_record(vagent__loop_cassette(loop), loop, who,
						    cfg->url, cfg->headers);
	c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->efd < 0) {
		st = vagent__error_set(err, VAGENT_EIO, who, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if ((st = vagent_io_new(loop, c->efd, VAGENT_IO_READ, drain, c, &c->io, err)) != VAGENT_OK)
		goto fail;

	pthread_once(&log_once, lws_quiet);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.user = c;
	info.gid = -1;
	info.uid = -1;
	info.fd_limit_per_thread = 16;
	info.timeout_secs = (unsigned)((c->connect_timeout_ms + 999) / 1000);
	info.connect_timeout_secs = info.timeout_secs;
	if (c->tls)
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	c->ctx = lws_create_context(&info);
	if (!c->ctx) {
		st = vagent__error_set(err, VAGENT_EIO, who, "libwebsockets refused a client context");
		goto fail;
	}
	if (pthread_create(&c->thread, NULL, service_main, c)) {
		st = vagent__error_set(err, VAGENT_EIO, who, "cannot start the WebSocket thread");
		goto fail;
	}
	c->thread_started = true;
	*out = c;
	return VAGENT_OK;
fail:
	really_free(c);
	return st;
}

vagent_status vagent__ws_send(struct vagent__ws_client *c, bool binary,
			      const void *data, size_t len,
			      struct vagent_error *err)
{
	struct outgoing *o;
	bool closing;

	if ((c->ended && !c->detached) || c->free_wanted)
		return vagent__error_set(err, VAGENT_EINVAL, c->who, "the connection is closed");
	if (c->replay) {
		vagent__cassette_ws_send(c->cas, binary, data, len);
		return VAGENT_OK;
	}
	if (c->cas)
		vagent__cassette_ws_sent(c->cas, binary, data, len);
	o = malloc(sizeof(*o) + LWS_PRE + len);
	if (!o)
		return vagent__error_set(err, VAGENT_ENOMEM, c->who, "out of memory");
	o->next = NULL;
	o->binary = binary;
	o->len = len;
	if (len)
		memcpy(o->buf + LWS_PRE, data, len);
	pthread_mutex_lock(&c->lock);
	closing = c->close_wanted;
	if (!closing) {
		if (c->out_tail)
			c->out_tail->next = o;
		else
			c->out_head = o;
		c->out_tail = o;
	}
	pthread_mutex_unlock(&c->lock);
	if (closing) {
		free(o);
		return vagent__error_set(err, VAGENT_EINVAL, c->who, "the connection is closing");
	}
	lws_cancel_service(c->ctx);
	return VAGENT_OK;
}

void vagent__ws_close(struct vagent__ws_client *c, int code, const char *reason)
{
	if (!c || (c->ended && !c->detached))
		return;
	if (c->replay) {
		vagent__cassette_ws_closing(c->cas);
		return;
	}
	pthread_mutex_lock(&c->lock);
	if (!c->close_wanted) {
		c->close_wanted = true;
		c->close_code = code;
		snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason ? reason : "");
	}
	pthread_mutex_unlock(&c->lock);
	lws_cancel_service(c->ctx);
}

void vagent__ws_detach(struct vagent__ws_client *c)
{
	if (!c)
		return;
	vagent__cassette_ws_end(c->cas);
	vagent_io_free(c->io);
	c->io = NULL;
	c->ended = true;
	c->detached = true;
	c->open = false;
}

bool vagent__ws_is_open(const struct vagent__ws_client *c)
{
	return c && c->open && !c->ended;
}

static void really_free(struct vagent__ws_client *c)
{
	struct event *e;
	struct outgoing *o;

	vagent__cassette_ws_free(c->cas);
	c->cas = NULL;
	vagent_io_free(c->io);
	c->io = NULL;
	if (c->thread_started) {
		struct timespec until;

		/* After vagent__ws_close: give the queued messages and the close
		 * frame a moment to leave (the peer's last word, e.g. Deepgram's
		 * CloseStream, matters); bounded by LINGER_MS. */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += LINGER_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&c->lock);
		while (c->close_wanted && !c->finished)
			if (pthread_cond_timedwait(&c->finished_cond, &c->lock, &until))
				break;
		c->stop = true;
		pthread_mutex_unlock(&c->lock);
		lws_cancel_service(c->ctx);
		pthread_join(c->thread, NULL);
	}
	if (c->ctx)
		lws_context_destroy(c->ctx);   /* closes the socket, no events out */
	while ((e = c->ev_head)) {
		c->ev_head = e->next;
		event_free(e);
	}
	while ((o = c->out_head)) {
		c->out_head = o->next;
		free(o);
	}
	if (c->efd >= 0)
		close(c->efd);
	for (size_t i = 0; c->headers && i < 2 * c->n_headers; i++) {
		if (c->headers[i] && (i & 1))   /* scrub the values (keys) */
			memset(c->headers[i], 0, strlen(c->headers[i]));
		free(c->headers[i]);
	}
	free(c->headers);
	free(c->rx);
	free(c->who);
	free(c->host);
	free(c->path);
	pthread_cond_destroy(&c->finished_cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void vagent__ws_client_free(struct vagent__ws_client *c)
{
	if (!c)
		return;
	if (c->dispatching) {
		c->free_wanted = true;
		return;
	}
	really_free(c);
}
