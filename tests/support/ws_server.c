/*
 * ws_server.c — see ws_server.h: the minimal RFC 6455 server side that the
 * tests' WebSocket fakes share (upgrade, framing, client frame parsing).
 */
#include <check.h>
#include <errno.h>
#include <libwebsockets.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "support/ws_server.h"

#define WS_MAX_PAYLOAD (64u << 20)

char *ws_fmt(const char *f, ...)
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

int64_t ws_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- sending ---- */

void ws_send_all(struct ws_conn *ws, const void *data, size_t len)
{
	const char *p = data;

	while (len && !ws->dead) {
		ssize_t n = send(ws->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pf = { ws->fd, POLLOUT, 0 };

			poll(&pf, 1, 1000);
			continue;
		}
		if (n <= 0) {
			ws->dead = true;
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

void ws_send_frame(struct ws_conn *ws, int opcode, const void *data, size_t len)
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
	ws_send_all(ws, h, hl);
	if (len)
		ws_send_all(ws, data, len);
}

void ws_send_text_and_free(struct ws_conn *ws, char *text)
{
	ws_send_frame(ws, WS_TEXT, text, strlen(text));
	free(text);
}

void ws_send_close(struct ws_conn *ws, int code, const char *reason)
{
	unsigned char b[128];
	size_t rl = strlen(reason);

	if (rl > sizeof(b) - 2)
		rl = sizeof(b) - 2;
	b[0] = (unsigned char)(code >> 8);
	b[1] = (unsigned char)code;
	memcpy(b + 2, reason, rl);
	ws_send_frame(ws, WS_CLOSE, b, rl + 2);
	ws->closing = true;
}

/* ---- receiving ---- */

void ws_feed(struct ws_conn *ws, const void *data, size_t len)
{
	if (ws->in_len + len > ws->in_cap) {
		ws->in_cap = (ws->in_len + len) * 2;
		ws->in = realloc(ws->in, ws->in_cap);
		ck_assert(ws->in);
	}
	memcpy(ws->in + ws->in_len, data, len);
	ws->in_len += len;
}

int ws_parse_frames(struct ws_conn *ws, const struct ws_handlers *h, void *arg)
{
	size_t off = 0;
	int frames = 0;

	while (!ws->dead) {
		unsigned char *p = ws->in + off, *mask, *d;
		size_t avail = ws->in_len - off, hl = 2;
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
		if (!masked || len > WS_MAX_PAYLOAD) {   /* clients must mask */
			ws_send_close(ws, 1002, "protocol error");
			ws->dead = true;
			break;
		}
		if (avail < hl + 4 + len)
			break;
		mask = p + hl;
		d = p + hl + 4;
		for (uint64_t i = 0; i < len; i++)
			d[i] ^= mask[i & 3];
		off += hl + 4 + (size_t)len;
		frames++;
		if (opcode == WS_CLOSE) {
			h->on_close(arg, len >= 2 ? (d[0] << 8) | d[1] : 1005);
			ws->dead = true;
			break;
		}
		if (opcode == WS_PING) {
			ws_send_frame(ws, WS_PONG, d, (size_t)len);
			continue;
		}
		if (opcode == WS_PONG)
			continue;
		if (opcode != 0)
			ws->msg_opcode = opcode;
		if (ws->msg_len + len > ws->msg_cap) {
			ws->msg_cap = (ws->msg_len + (size_t)len) * 2 + 64;
			ws->msg = realloc(ws->msg, ws->msg_cap);
			ck_assert(ws->msg);
		}
		memcpy(ws->msg + ws->msg_len, d, (size_t)len);
		ws->msg_len += (size_t)len;
		if (fin) {
			h->on_message(arg, ws->msg_opcode, ws->msg, ws->msg_len);
			ws->msg_len = 0;
		}
	}
	memmove(ws->in, ws->in + off, ws->in_len - off);
	ws->in_len -= off;
	return frames;
}

/* ---- the upgrade ---- */

long ws_request_add(struct ws_conn *ws, const void *data, size_t len)
{
	char *end;

	if (ws->req_len + len >= sizeof(ws->req))
		return -1;
	memcpy(ws->req + ws->req_len, data, len);
	ws->req_len += len;
	ws->req[ws->req_len] = '\0';
	end = strstr(ws->req, "\r\n\r\n");
	return end ? (long)(end + 4 - ws->req) : 0;
}

bool http_header(const char *req, const char *name, char *out, size_t cap)
{
	const char *p = req;
	size_t nl = strlen(name);

	if (cap)
		out[0] = '\0';
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

bool http_query_param(const char *q, const char *name, char *out, size_t cap)
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

void http_reply(struct ws_conn *ws, int status, const char *extra_headers, const char *body)
{
	const char *text = status == 401 ? "Unauthorized" : status == 429 ? "Too Many Requests" :
			   status == 400 ? "Bad Request" : status == 404 ? "Not Found" :
			   status == 403 ? "Forbidden" : "Internal Server Error";
	char *resp = ws_fmt("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n%s"
			    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			    status, text, extra_headers, strlen(body), body);

	ws_send_all(ws, resp, strlen(resp));
	free(resp);
	ws->dead = true;
}

void ws_upgrade_accept(struct ws_conn *ws, const char *key, const char *extra_headers)
{
	unsigned char sha[20];
	char accept[64], *concat = ws_fmt("%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key), *resp;

	lws_SHA1((unsigned char *)concat, strlen(concat), sha);
	free(concat);
	lws_b64_encode_string((const char *)sha, 20, accept, sizeof(accept));
	resp = ws_fmt("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		      "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s\r\n",
		      accept, extra_headers);
	ws_send_all(ws, resp, strlen(resp));
	free(resp);
}

void ws_conn_release(struct ws_conn *ws)
{
	free(ws->in);
	free(ws->msg);
	ws->in = ws->msg = NULL;
	ws->in_len = ws->in_cap = ws->msg_len = ws->msg_cap = 0;
}
