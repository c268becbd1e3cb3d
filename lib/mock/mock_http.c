/*
 * mock_http.c — the mock HTTP/1.1 server's sockets: one thread polling the
 * listening socket and every connection (keep-alive, pipelining, chunked and
 * Content-Length bodies, Expect: 100-continue, size limits), carrying out the
 * faults routes.c decides (delay, hang, close) and serving /_mock/stats.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mock/mock_int.h"

#define MAX_HEADER_BYTES (16 * 1024)
#define MAX_HEADERS 100
#define DEFAULT_BODY_LIMIT (1024 * 1024)
#define DEFAULT_MAX_CONNECTIONS 512

enum conn_state {
	CONN_READ,                     /* reading a request */
	CONN_WAIT,                     /* a delayed answer: write (or drop) when due */
	CONN_WRITE,                    /* writing the answer */
	CONN_HUNG,                     /* the hang fault: read and discard forever */
	CONN_DRAIN,                    /* answered and shut for writing: read and
					* discard what the client still sends, so
					* it can read the answer (a lingering close) */
};

#define DRAIN_MS 2000
#define DRAIN_MAX_BYTES (4 * 1024 * 1024)

struct conn {
	int fd;
	enum conn_state state;
	char *in;                      /* bytes received, not yet a whole request */
	size_t in_len, in_cap;
	char *out;                     /* bytes to send */
	size_t out_len, out_off;
	int64_t due_ms;                /* CONN_WAIT: when to answer */
	bool drop_when_due;            /* CONN_WAIT: close instead (close fault) */
	bool close_after;              /* close once `out` is sent */
	bool sent_continue;            /* "100 Continue" sent for this request */
	bool dead;                     /* finished: freed after this poll round */
	bool peer_eof;                 /* the client shut its side */
	size_t drained;                /* CONN_DRAIN: bytes discarded */
};

struct vagent_mock_http {
	struct vagent__mock_routes *routes;
	pthread_mutex_t lock;          /* routes' state: dispatch, stats, reset */
	pthread_t thread;
	int listen_fd, wake[2];
	int port;
	size_t body_limit;
	int max_connections;
	void (*on_request)(void *user, const char *line);
	void *user;
	struct conn **conns;
	size_t n_conns, cap_conns;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* memmem() is a GNU extension: the first `needle` in s[0..n), or NULL. */
static const char *find_bytes(const char *s, size_t n, const char *needle, size_t k)
{
	for (size_t i = 0; k <= n && i <= n - k; i++)
		if (s[i] == needle[0] && !memcmp(s + i, needle, k))
			return s + i;
	return NULL;
}

static void conn_free(struct conn *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

static bool out_append(struct conn *c, const char *s, size_t n)
{
	if (c->out_len + n > SIZE_MAX / 2)
		return false;
	char *g = realloc(c->out, c->out_len + n + 1);

	if (!g)
		return false;
	c->out = g;
	memcpy(c->out + c->out_len, s, n);
	c->out_len += n;
	return true;
}

/* Queue a whole response. */
static bool queue_response(struct conn *c, int status, const char *headers,
			   const char *body, size_t body_len, size_t content_length,
			   bool keep_alive)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nServer: vagent-mock\r\n",
			 status, vagent__mock_reason(status));
	char tail[128];
	int m = snprintf(tail, sizeof(tail), "Content-Length: %zu\r\n%s\r\n", content_length,
			 keep_alive ? "" : "Connection: close\r\n");

	c->close_after = !keep_alive;
	return out_append(c, head, (size_t)n) && out_append(c, headers, strlen(headers)) &&
	       out_append(c, tail, (size_t)m) && out_append(c, body, body_len);
}

/* A protocol error of the client's: answer and close. */
static void reply_error(struct vagent_mock_http *m, struct conn *c, int status,
			const char *why)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", why);

	if (!queue_response(c, status, "Content-Type: application/json\r\n", body, (size_t)n,
			    (size_t)n, false))
		c->close_after = true;
	c->state = CONN_WRITE;
	if (m->on_request) {
		char line[128];
		snprintf(line, sizeof(line), "(bad request) -> %d %s", status, why);
		m->on_request(m->user, line);
	}
}

/* The outcome of looking for a request in c->in. */
enum parse_result { PARSE_MORE, PARSE_DONE, PARSE_BAD };

struct parsed {
	char *head;                    /* the header block copy (NUL-split) */
	struct vagent__mock_request req;
	struct vagent__mock_header headers[MAX_HEADERS];
	char *body;                    /* decoded body (owned) */
	size_t consumed;               /* bytes of c->in used */
	bool keep_alive;
	int bad_status;
	const char *bad_why;
};

static enum parse_result bad(struct parsed *p, int status, const char *why)
{
	p->bad_status = status;
	p->bad_why = why;
	return PARSE_BAD;
}

/*
 * Decode a chunked body starting at `s` (n bytes available). Returns
 * PARSE_MORE until the last chunk and the trailers are in; sets *used.
 */
static enum parse_result dechunk(struct parsed *p, const char *s, size_t n, size_t limit,
				 size_t *used)
{
	struct vagent__strbuf b = { 0 };
	size_t off = 0;

	for (;;) {
		const char *eol = find_bytes(s + off, n - off, "\r\n", 2);
		char *end;
		unsigned long long size;

		if (!eol) {
			vagent__strbuf_release(&b);
			return n - off > 1024 ? bad(p, 400, "bad_chunk") : PARSE_MORE;
		}
		errno = 0;
		size = strtoull(s + off, &end, 16);
		if (end == s + off || errno || (end != eol && *end != ';' && *end != ' ')) {
			vagent__strbuf_release(&b);
			return bad(p, 400, "bad_chunk");
		}
		if (size > limit || b.len + size > limit) {
			vagent__strbuf_release(&b);
			return bad(p, 413, "request_too_large");
		}
		off = (size_t)(eol - s) + 2;
		if (size == 0) {
			/* trailers, up to an empty line */
			for (;;) {
				eol = find_bytes(s + off, n - off, "\r\n", 2);
				if (!eol) {
					vagent__strbuf_release(&b);
					return PARSE_MORE;
				}
				if (eol == s + off) {
					off += 2;
					break;
				}
				off = (size_t)(eol - s) + 2;
			}
			break;
		}
		if (n - off < size + 2) {
			vagent__strbuf_release(&b);
			return PARSE_MORE;
		}
		if (s[off + size] != '\r' || s[off + size + 1] != '\n') {
			vagent__strbuf_release(&b);
			return bad(p, 400, "bad_chunk");
		}
		vagent__strbuf_put(&b, s + off, (size_t)size);
		off += (size_t)size + 2;
	}
	p->req.body_len = b.len;
	if (!(p->body = vagent__strbuf_detach(&b)))
		return bad(p, 500, "out_of_memory");
	p->req.body = p->body;
	*used = off;
	return PARSE_DONE;
}

static void parsed_release(struct parsed *p)
{
	free(p->head);
	free(p->body);
	p->head = p->body = NULL;
}

static bool token_has(const char *value, const char *token)
{
	size_t n = strlen(token);

	for (const char *s = value; s && *s; ) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (!strncasecmp(s, token, n) && (!s[n] || s[n] == ',' || s[n] == ' ' || s[n] == ';'))
			return true;
		s = strchr(s, ',');
	}
	return false;
}

/* Is there a whole request at the start of c->in? */
static enum parse_result parse_request(struct vagent_mock_http *m, struct conn *c,
				       struct parsed *p)
{
	const char *end = c->in_len ? find_bytes(c->in, c->in_len, "\r\n\r\n", 4) : NULL;
	size_t head_len, body_off;
	char *line, *save, *s;
	const char *te, *cl, *conn, *expect;
	bool http10;

	memset(p, 0, sizeof(*p));
	if (!end)
		return c->in_len > MAX_HEADER_BYTES ? bad(p, 431, "headers_too_large") : PARSE_MORE;
	head_len = (size_t)(end - c->in);
	body_off = head_len + 4;
	if (head_len > MAX_HEADER_BYTES)
		return bad(p, 431, "headers_too_large");
	if (!(p->head = strndup(c->in, head_len)))
		return bad(p, 500, "out_of_memory");
	if (memchr(c->in, '\0', head_len))
		return bad(p, 400, "bad_request");

	/* request line */
	line = p->head;
	s = strstr(line, "\r\n");
	save = s ? s + 2 : NULL;
	if (s)
		*s = '\0';
	{
		char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;

		if (!sp1 || !sp2 || strchr(sp2 + 1, ' '))
			return bad(p, 400, "bad_request_line");
		*sp1 = *sp2 = '\0';
		p->req.method = line;
		p->req.target = sp1 + 1;
		if (strcmp(sp2 + 1, "HTTP/1.1") && strcmp(sp2 + 1, "HTTP/1.0"))
			return bad(p, 400, "bad_http_version");
		if (p->req.target[0] != '/')
			return bad(p, 400, "bad_target");
		http10 = !strcmp(sp2 + 1, "HTTP/1.0");
		for (const char *k = p->req.method; *k; k++)
			if (*k < 'A' || *k > 'Z')
				return bad(p, 400, "bad_method");
	}
	/* headers */
	while (save && *save) {
		char *colon;

		line = save;
		s = strstr(line, "\r\n");
		save = s ? s + 2 : NULL;
		if (s)
			*s = '\0';
		colon = strchr(line, ':');
		if (!colon || colon == line || line[0] == ' ' || line[0] == '\t')
			return bad(p, 400, "bad_header");
		if (p->req.n_headers == MAX_HEADERS)
			return bad(p, 431, "too_many_headers");
		*colon = '\0';
		for (const char *k = line; *k; k++)
			if (*k == ' ' || *k == '\t')
				return bad(p, 400, "bad_header");
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		for (char *e = colon + strlen(colon); e > colon && (e[-1] == ' ' || e[-1] == '\t'); )
			*--e = '\0';
		p->headers[p->req.n_headers].name = line;
		p->headers[p->req.n_headers].value = colon;
		p->req.n_headers++;
	}
	p->req.headers = p->headers;

	conn = vagent__mock_header(&p->req, "Connection");
	p->keep_alive = http10 ? token_has(conn, "keep-alive") : !token_has(conn, "close");
	te = vagent__mock_header(&p->req, "Transfer-Encoding");
	cl = vagent__mock_header(&p->req, "Content-Length");
	expect = vagent__mock_header(&p->req, "Expect");
	if (te && cl)
		return bad(p, 400, "both_content_length_and_chunked");
	if (te) {
		size_t used = 0;
		enum parse_result r;

		if (strcasecmp(te, "chunked"))
			return bad(p, 501, "unsupported_transfer_encoding");
		r = dechunk(p, c->in + body_off, c->in_len - body_off, m->body_limit, &used);
		if (r == PARSE_DONE)
			p->consumed = body_off + used;
		if (r == PARSE_MORE && expect && !strcasecmp(expect, "100-continue") &&
		    !c->sent_continue) {
			c->sent_continue = true;
			out_append(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		}
		return r;
	}
	if (cl) {
		char *e;
		unsigned long long n;

		errno = 0;
		n = strtoull(cl, &e, 10);
		if (e == cl || *e || errno || cl[0] == '-')
			return bad(p, 400, "bad_content_length");
		if (n > m->body_limit)
			return bad(p, 413, "request_too_large");
		if (c->in_len - body_off < n) {
			if (expect && !strcasecmp(expect, "100-continue") && !c->sent_continue) {
				c->sent_continue = true;
				out_append(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
			}
			return PARSE_MORE;
		}
		if (!(p->body = malloc((size_t)n + 1)))
			return bad(p, 500, "out_of_memory");
		memcpy(p->body, c->in + body_off, (size_t)n);
		p->body[n] = '\0';
		p->req.body = p->body;
		p->req.body_len = (size_t)n;
		p->consumed = body_off + (size_t)n;
		return PARSE_DONE;
	}
	p->req.body = "";
	p->req.body_len = 0;
	p->consumed = body_off;
	return PARSE_DONE;
}

static void log_request(struct vagent_mock_http *m, const struct vagent__mock_request *req,
			const struct vagent__mock_outcome *o)
{
	char line[600], status[16], delay[40] = "";

	if (!m->on_request)
		return;
	if (o->hang || o->close)
		snprintf(status, sizeof(status), "%s", o->hang ? "hang" : "close");
	else
		snprintf(status, sizeof(status), "%d", o->status);
	if (o->delay_ms)
		snprintf(delay, sizeof(delay), " (delayed %d ms)", o->delay_ms);
	snprintf(line, sizeof(line), "%s %.300s -> %s [%s]%s%s%s", req->method, req->target,
		 status, o->route ? o->route : "no route", delay,
		 o->replayed ? " (replayed)" : "", o->performed ? " (performed)" : "");
	m->on_request(m->user, line);
}

/* The server's own endpoints under /_mock/. */
static bool serve_internal(struct vagent_mock_http *m, const struct vagent__mock_request *req,
			   struct vagent__mock_outcome *o)
{
	size_t plen = strcspn(req->target, "?");
	char *body = NULL;

	if (plen < 6 || strncmp(req->target, "/_mock", 6) || (plen > 6 && req->target[6] != '/'))
		return false;
	memset(o, 0, sizeof(*o));
	o->route = "_mock";
	if (plen == 12 && !strncmp(req->target, "/_mock/stats", 12) && !strcmp(req->method, "GET")) {
		pthread_mutex_lock(&m->lock);
		body = vagent__mock_stats_json(m->routes);
		pthread_mutex_unlock(&m->lock);
		o->status = 200;
	} else if (plen == 12 && !strncmp(req->target, "/_mock/reset", 12) &&
		   !strcmp(req->method, "POST")) {
		vagent_mock_http_reset(m);
		body = strdup("{\"reset\":true}");
		o->status = 200;
	} else {
		body = strdup("{\"error\":\"no_route\"}");
		o->status = 404;
	}
	o->headers = strdup("Content-Type: application/json\r\n");
	o->body = body;
	o->body_len = body ? strlen(body) : 0;
	if (!o->headers || !o->body) {
		vagent__mock_outcome_release(o);
		o->status = 500;
	}
	return true;
}

/* Answer the requests waiting in c->in, one at a time: a connection holds
 * one answer in flight, as HTTP/1.1 pipelining requires. */
static bool process_input(struct vagent_mock_http *m, struct conn *c)
{
	while (c->state == CONN_READ) {
		struct parsed p;
		struct vagent__mock_outcome o;
		enum parse_result r = parse_request(m, c, &p);
		vagent_status st;

		if (r == PARSE_MORE) {
			parsed_release(&p);
			return true;
		}
		if (r == PARSE_BAD) {
			reply_error(m, c, p.bad_status, p.bad_why);
			parsed_release(&p);
			return true;
		}
		c->sent_continue = false;
		if (!serve_internal(m, &p.req, &o)) {
			pthread_mutex_lock(&m->lock);
			st = vagent__mock_dispatch(m->routes, &p.req, &o);
			pthread_mutex_unlock(&m->lock);
			if (st) {
				reply_error(m, c, 500, "out_of_memory");
				parsed_release(&p);
				return true;
			}
		}
		log_request(m, &p.req, &o);
		memmove(c->in, c->in + p.consumed, c->in_len - p.consumed);
		c->in_len -= p.consumed;
		if (o.hang) {
			c->state = CONN_HUNG;
			c->in_len = 0;
		} else if (o.close) {
			if (o.delay_ms) {
				c->state = CONN_WAIT;
				c->drop_when_due = true;
				c->due_ms = now_ms() + o.delay_ms;
			} else {
				vagent__mock_outcome_release(&o);
				parsed_release(&p);
				return false;
			}
		} else if (!o.headers) {
			reply_error(m, c, 500, "out_of_memory");
		} else {
			/* HEAD: the headers of the answer, Content-Length included,
			 * without its body */
			if (!queue_response(c, o.status, o.headers, o.body,
					    strcmp(p.req.method, "HEAD") ? o.body_len : 0,
					    o.body_len, p.keep_alive)) {
				vagent__mock_outcome_release(&o);
				parsed_release(&p);
				return false;
			}
			if (o.delay_ms) {
				c->state = CONN_WAIT;
				c->due_ms = now_ms() + o.delay_ms;
			} else {
				c->state = CONN_WRITE;
			}
		}
		vagent__mock_outcome_release(&o);
		parsed_release(&p);
	}
	return true;
}

/* Send what is queued; false when the connection is finished. */
static bool flush_out(struct vagent_mock_http *m, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0)
			return false;
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	if (c->state == CONN_WRITE) {
		if (c->close_after) {
			if (c->peer_eof || shutdown(c->fd, SHUT_WR) < 0)
				return false;
			c->state = CONN_DRAIN;
			c->due_ms = now_ms() + DRAIN_MS;
			return true;
		}
		c->state = CONN_READ;
		return process_input(m, c);
	}
	return true;
}

/* Read what arrived; false when the connection is finished. */
static bool read_in(struct vagent_mock_http *m, struct conn *c)
{
	for (;;) {
		ssize_t n;
		size_t limit = MAX_HEADER_BYTES + 4 + m->body_limit * 2 + 4096;

		if (c->in_cap - c->in_len < 4096) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 8192;
			char *g;

			if (c->in_cap >= limit && c->state == CONN_READ) {
				reply_error(m, c, 413, "request_too_large");
				return true;
			}
			if (!(g = realloc(c->in, cap)))
				return false;
			c->in = g;
			c->in_cap = cap;
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n == 0 && c->state == CONN_READ && c->in_len) {
			/* the client sent its request and shut its side: answer,
			 * then close */
			c->peer_eof = true;
			if (!process_input(m, c) || c->state == CONN_READ)
				return false;
			c->close_after = true;
			return true;
		}
		if (n <= 0)
			return false; /* the client closed (or reset) */
		if (c->state == CONN_HUNG) {
			c->in_len = 0; /* discard: a hung server reads, never answers */
			continue;
		}
		if (c->state == CONN_DRAIN) {
			c->in_len = 0;
			c->drained += (size_t)n;
			if (c->drained > DRAIN_MAX_BYTES)
				return false;
			continue;
		}
		c->in_len += (size_t)n;
	}
	if (c->state == CONN_READ)
		return process_input(m, c);
	return true;
}

static void accept_all(struct vagent_mock_http *m)
{
	for (;;) {
		int fd = accept(m->listen_fd, NULL, NULL), one = 1;
		struct conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN, or out of descriptors: try on the next wake */
		}
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (m->n_conns >= (size_t)m->max_connections) {
			close(fd);
			continue;
		}
		if (m->n_conns == m->cap_conns) {
			size_t cap = m->cap_conns ? m->cap_conns * 2 : 16;
			struct conn **g = realloc(m->conns, cap * sizeof(*g));

			if (!g) {
				close(fd);
				continue;
			}
			m->conns = g;
			m->cap_conns = cap;
		}
		if (!(c = calloc(1, sizeof(*c)))) {
			close(fd);
			continue;
		}
		c->fd = fd;
		m->conns[m->n_conns++] = c;
	}
}

static void *serve(void *arg)
{
	struct vagent_mock_http *m = arg;
	struct pollfd *fds = NULL;
	size_t cap_fds = 0;

	for (;;) {
		size_t n = 2;
		int timeout = -1, rc;
		int64_t now = now_ms();

		if (cap_fds < m->n_conns + 2) {
			struct pollfd *g = realloc(fds, (m->n_conns + 2) * 2 * sizeof(*g));

			if (g) {
				fds = g;
				cap_fds = (m->n_conns + 2) * 2;
			}
		}
		if (!fds || cap_fds < m->n_conns + 2) {
			/* out of memory: wait for the stop */
			struct pollfd w = { .fd = m->wake[0], .events = POLLIN };
			poll(&w, 1, 100);
			if (w.revents)
				break;
			continue;
		}
		fds[0] = (struct pollfd){ .fd = m->wake[0], .events = POLLIN };
		fds[1] = (struct pollfd){ .fd = m->listen_fd, .events = POLLIN };
		for (size_t i = 0; i < m->n_conns; i++) {
			struct conn *c = m->conns[i];
			short ev = 0;

			if ((c->state == CONN_READ || c->state == CONN_HUNG ||
			     c->state == CONN_DRAIN) && !c->peer_eof)
				ev |= POLLIN;
			if (c->state != CONN_WAIT && c->out_off < c->out_len)
				ev |= POLLOUT;
			if (c->state == CONN_WAIT || c->state == CONN_DRAIN) {
				int64_t left = c->due_ms - now;
				int t = left < 0 ? 0 : left > 60000 ? 60000 : (int)left;
				if (timeout < 0 || t < timeout)
					timeout = t;
			}
			fds[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
		}
		rc = poll(fds, n, timeout);
		if (rc < 0 && errno != EINTR)
			break;
		if (rc > 0 && fds[0].revents)
			break;
		now = now_ms();
		/* fds[2 + i] is conns[i] for the connections polled this round */
		for (size_t i = 0; i + 2 < n; i++) {
			struct conn *c = m->conns[i];
			short re = fds[2 + i].revents;
			bool keep = true;

			if (c->state == CONN_WAIT) {
				/* a delayed answer; a client that reset the
				 * connection meanwhile gets nothing */
				if (re & (POLLERR | POLLHUP | POLLNVAL)) {
					keep = false;
				} else if (now >= c->due_ms) {
					if (c->drop_when_due) {
						keep = false;
					} else {
						c->state = CONN_WRITE;
						keep = flush_out(m, c);
					}
				}
			} else if (re & (POLLERR | POLLNVAL)) {
				keep = false;
			} else if (c->state == CONN_DRAIN) {
				if (now >= c->due_ms)
					keep = false;
				else if (re & (POLLIN | POLLHUP))
					keep = read_in(m, c);
			} else {
				if (re & POLLOUT)
					keep = flush_out(m, c);
				if (keep && (re & (POLLIN | POLLHUP)) &&
				    (c->state == CONN_READ || c->state == CONN_HUNG))
					keep = read_in(m, c);
				/* an answer queued just now: try to send it at once */
				if (keep && c->out_off < c->out_len && c->state != CONN_WAIT)
					keep = flush_out(m, c);
			}
			c->dead = !keep;
		}
		for (size_t i = 0; i < m->n_conns; ) {
			if (m->conns[i]->dead) {
				conn_free(m->conns[i]);
				m->conns[i] = m->conns[--m->n_conns];
			} else {
				i++;
			}
		}
		if (rc > 0 && (fds[1].revents & POLLIN))
			accept_all(m);
	}
	free(fds);
	return NULL;
}

void vagent_mock_http_config_default(struct vagent_mock_http_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

static vagent_status bind_listen(struct vagent_mock_http *m, const char *host, int port,
				 struct vagent_error *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char portstr[16], where[300];
	int rc, fd = -1, one = 1, saved = 0;

	snprintf(portstr, sizeof(portstr), "%d", port);
	snprintf(where, sizeof(where), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	rc = getaddrinfo(host, portstr, &hints, &ai);
	if (rc)
		return vagent__error_set(err, VAGENT_EIO, where, "cannot resolve host: %s",
					 gai_strerror(rc));
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    a->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 128) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		return vagent__error_set(err, VAGENT_EIO, where, "cannot listen: %s",
					 strerror(saved ? saved : EADDRNOTAVAIL));
	{
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
			saved = errno;
			close(fd);
			return vagent__error_set(err, VAGENT_EIO, where, "getsockname: %s",
						 strerror(saved));
		}
		m->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
						   : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	m->listen_fd = fd;
	return VAGENT_OK;
}

vagent_status vagent_mock_http_check(const char *routes_json, const char *name,
				     struct vagent_error *err)
{
	struct vagent__mock_routes *r = NULL;
	vagent_status st = vagent__mock_routes_parse(routes_json, name, &r, err);

	vagent__mock_routes_free(r);
	return st;
}

vagent_status vagent_mock_http_new(const char *routes_json, const char *name,
				   const struct vagent_mock_http_config *cfg,
				   struct vagent_mock_http **out,
				   struct vagent_error *err)
{
	struct vagent_mock_http_config def;
	struct vagent_mock_http *m;
	vagent_status st;
	int rc;

	*out = NULL;
	if (!cfg) {
		vagent_mock_http_config_default(&def);
		cfg = &def;
	}
	if (cfg->port < 0 || cfg->port > 65535)
		return vagent__error_set(err, VAGENT_EINVAL, "mock-http", "port %d out of range 0..65535",
					 cfg->port);
	if (!(m = calloc(1, sizeof(*m))))
		return vagent__error_set(err, VAGENT_ENOMEM, "mock-http", "out of memory");
	m->listen_fd = m->wake[0] = m->wake[1] = -1;
	m->body_limit = cfg->max_request_bytes ? cfg->max_request_bytes : DEFAULT_BODY_LIMIT;
	m->max_connections = cfg->max_connections > 0 ? cfg->max_connections : DEFAULT_MAX_CONNECTIONS;
	m->on_request = cfg->on_request;
	m->user = cfg->user;
	pthread_mutex_init(&m->lock, NULL);
	if ((st = vagent__mock_routes_parse(routes_json, name, &m->routes, err)))
		goto fail;
	if ((st = bind_listen(m, cfg->host ? cfg->host : "127.0.0.1", cfg->port, err)))
		goto fail;
	if (pipe(m->wake) < 0) {
		st = vagent__error_set(err, VAGENT_EIO, "mock-http", "pipe: %s", strerror(errno));
		goto fail;
	}
	fcntl(m->wake[0], F_SETFD, FD_CLOEXEC);
	fcntl(m->wake[1], F_SETFD, FD_CLOEXEC);
	if ((rc = pthread_create(&m->thread, NULL, serve, m))) {
		st = vagent__error_set(err, VAGENT_EIO, "mock-http", "cannot start thread: %s",
				       strerror(rc));
		goto fail;
	}
	*out = m;
	return VAGENT_OK;
fail:
	if (m->wake[0] >= 0) {
		close(m->wake[0]);
		close(m->wake[1]);
	}
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	vagent__mock_routes_free(m->routes);
	pthread_mutex_destroy(&m->lock);
	free(m);
	return st;
}

vagent_status vagent_mock_http_load(const char *path,
				    const struct vagent_mock_http_config *cfg,
				    struct vagent_mock_http **out,
				    struct vagent_error *err)
{
	char *text;
	vagent_status st;

	*out = NULL;
	st = vagent__read_file(path, 64u << 20, &text, NULL, err);
	if (st != VAGENT_OK)
		return st;
	if (strlen(text) == 0) {
		free(text);
		return vagent__error_set(err, VAGENT_EFORMAT, path, "empty file");
	}
	st = vagent_mock_http_new(text, path, cfg, out, err);
	free(text);
	return st;
}

int vagent_mock_http_port(const struct vagent_mock_http *m)
{
	return m->port;
}

vagent_status vagent_mock_http_route_stats(struct vagent_mock_http *m, const char *route,
					   struct vagent_mock_http_route_stats *out)
{
	vagent_status st = VAGENT_ENOENT;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->routes->n_routes; i++) {
		const struct vagent__mock_route *rt = &m->routes->routes[i];

		if (!strcmp(rt->name, route)) {
			out->received = rt->received;
			out->performed = rt->performed;
			out->replayed = rt->replayed;
			st = VAGENT_OK;
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return st;
}

char *vagent_mock_http_stats_json(struct vagent_mock_http *m)
{
	char *s;

	pthread_mutex_lock(&m->lock);
	s = vagent__mock_stats_json(m->routes);
	pthread_mutex_unlock(&m->lock);
	return s;
}

void vagent_mock_http_reset(struct vagent_mock_http *m)
{
	pthread_mutex_lock(&m->lock);
	vagent__mock_routes_reset(m->routes);
	pthread_mutex_unlock(&m->lock);
}

void vagent_mock_http_free(struct vagent_mock_http *m)
{
	if (!m)
		return;
	while (write(m->wake[1], "x", 1) < 0 && errno == EINTR)
		;
	pthread_join(m->thread, NULL);
	for (size_t i = 0; i < m->n_conns; i++)
		conn_free(m->conns[i]);
	free(m->conns);
	close(m->listen_fd);
	close(m->wake[0]);
	close(m->wake[1]);
	vagent__mock_routes_free(m->routes);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
