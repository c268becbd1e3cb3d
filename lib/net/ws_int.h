/*
 * ws_int.h — the WebSocket client transport (lib/net/ws_client.c): one
 * ws:// or wss:// connection whose events arrive on a vagent loop.
 *
 * Threading (docs/providers.md "WebSocket client"): Debian's libwebsockets
 * is built without external-poll support, so each client runs its own lws
 * context on a private service thread. The loop thread never calls lws
 * directly: sends and closes are queued under a mutex and the service
 * thread is woken with lws_cancel_service(); everything the service thread
 * receives (open, messages, close, connect errors) is queued the other way
 * and signalled through an eventfd that a loop fd watcher drains. Freeing a
 * client removes its watcher and joins its thread, so no event can reach a
 * freed client. lws's own logging is off: nothing is printed, and request
 * headers (API keys) never reach a log or a message.
 */
#ifndef VAGENT_NET_WS_INT_H
#define VAGENT_NET_WS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "vagent.h"

struct vagent__ws_client;

struct vagent__ws_config {
	const char *url;               /* ws://host[:port]/path?query or wss:// */
	/* Extra request headers "Name: value", NULL-terminated (may be NULL).
	 * Their values never appear in messages. */
	const char *const *headers;
	const char *who;               /* names the peer in messages ("deepgram") */
	int connect_timeout_ms;        /* 0: 10000 */
	size_t max_message;            /* a longer received message is an error;
					* 0: 4 MiB */
};

/* Called on the loop thread. After on_close or on_error nothing more is
 * called. A callback may free the client. */
struct vagent__ws_callbacks {
	void (*on_open)(void *arg);
	void (*on_message)(void *arg, bool binary, const void *data, size_t len);
	/* The connection ended after it was open: the peer's close code and
	 * reason (1006 and "" when it vanished without a close frame; 1009
	 * for a message over max_message). */
	void (*on_close)(void *arg, int code, const char *reason);
	/* It never opened. `http_status` is the upgrade's answer (401, 429,
	 * ...) or 0; `message` names cfg->who and the host, never the query
	 * or the headers. */
	void (*on_error)(void *arg, vagent_status st, int http_status,
			 const char *message);
	void *arg;
};

/* Start connecting (transfer full). VAGENT_EINVAL for a bad URL, EIO when
 * lws or the system refuse the context or thread, ENOMEM. */
vagent_status vagent__ws_client_new(struct vagent_loop *loop,
				    const struct vagent__ws_config *cfg,
				    const struct vagent__ws_callbacks *cb,
				    struct vagent__ws_client **out,
				    struct vagent_error *err);
/* Queue a text or binary message (sent in order once open). EINVAL after
 * close or on_close/on_error; ENOMEM. */
vagent_status vagent__ws_send(struct vagent__ws_client *c, bool binary,
			      const void *data, size_t len,
			      struct vagent_error *err);
/* Send a close frame with `code` and `reason` after the queued messages;
 * on_close follows when the peer answers. */
void vagent__ws_close(struct vagent__ws_client *c, int code,
		      const char *reason);
bool vagent__ws_is_open(const struct vagent__ws_client *c);
/* No more callbacks, and let go of the loop (its fd watcher): after this
 * the client may outlive its loop (a loop must lose its watchers before it
 * is freed). Sending and closing still work. Call it at a provider's stop. */
void vagent__ws_detach(struct vagent__ws_client *c);
/* Close at once and free; NULL is a no-op. No callback after this. */
void vagent__ws_client_free(struct vagent__ws_client *c);

/* Split a ws:// or wss:// URL. host, path (with the query) are malloc'd;
 * returns false for anything else. */
bool vagent__ws_parse_url(const char *url, bool *tls, char **host, int *port,
			  char **path);

#endif
