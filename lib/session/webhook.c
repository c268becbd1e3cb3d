/*
 * webhook.c — the warm transfer's POST: when a call is handed to a human,
 * the handoff package (JSON) is POSTed to the agent's transfer webhook on
 * a worker thread (libcurl easy, bounded by a timeout), so the loop never
 * blocks. The session ends the call only once the POST has finished; a
 * failure is written to the trace as an `error` from "transfer_webhook".
 * Messages name the endpoint by scheme, host and port only: a webhook's
 * path, query or user part can hold its secret.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "session/session_int.h"

struct vagent__webhook {
	struct vagent_session *s;          /* NULL once the session is gone */
	int turn;
	char *url, *package;
	long timeout_ms;
	long http_status;                  /* 0: no HTTP answer */
	char message[320];                 /* the failure, or "" */
};

static size_t discard_body(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static void webhook_work(void *arg)
{
	struct vagent__webhook *w = arg;
	char where[256];
	struct curl_slist *hdr = NULL;
	CURL *h;
	CURLcode rc;

	vagent__url_redact(w->url, where, sizeof(where));
	{
		/* webhooks often carry their secret in the path (Slack,
		 * Zapier): name the endpoint by scheme, host and port only */
		char *host = strstr(where, "://");
		char *slash = host ? strchr(host + 3, '/') : NULL;

		if (slash)
			*slash = '\0';
	}
	if (vagent__curl_init(NULL, NULL) != VAGENT_OK || !(h = curl_easy_init())) {
		snprintf(w->message, sizeof(w->message), "POST %s: libcurl unavailable", where);
		return;
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, w->url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, w->package);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, w->timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &w->http_status);
		if (w->http_status < 200 || w->http_status > 299)
			snprintf(w->message, sizeof(w->message), "POST %s: HTTP %ld",
				 where, w->http_status);
	} else {
		snprintf(w->message, sizeof(w->message), "POST %s: %s", where,
			 curl_easy_strerror(rc));
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
}

static void webhook_free(struct vagent__webhook *w)
{
	free(w->url);
	free(w->package);
	free(w);
}

static void webhook_done(void *arg, int64_t charged)
{
	struct vagent__webhook *w = arg;
	struct vagent_session *s = w->s;

	if (s) {
		s->webhook = NULL;
		if (charged < 0)
			snprintf(w->message, sizeof(w->message), "the POST did not run");
		s->result.transfer_webhook_status = w->message[0] ? -1 : (int)w->http_status;
		if (w->message[0])
			vagent__session_error(s, w->turn, "transfer_webhook", w->message);
		vagent__session_webhook_finished(s);
	}
	webhook_free(w);
}

vagent_status vagent__webhook_post(struct vagent_session *s, int turn,
				   const char *package)
{
	struct vagent__webhook *w = calloc(1, sizeof(*w));
	vagent_status st;

	if (!w || !(w->url = strdup(s->cfg.transfer_webhook)) ||
	    !(w->package = strdup(package))) {
		if (w)
			webhook_free(w);
		return VAGENT_ENOMEM;
	}
	w->s = s;
	w->turn = turn;
	w->timeout_ms = s->cfg.transfer_webhook_timeout_ms > 0 ?
		s->cfg.transfer_webhook_timeout_ms : 3000;
	st = vagent_loop_submit(s->loop, webhook_work, webhook_done, w, NULL);
	if (st != VAGENT_OK) {
		webhook_free(w);
		return st;
	}
	s->webhook = w;
	return VAGENT_OK;
}

void vagent__webhook_detach(struct vagent__webhook *w)
{
	if (w)
		w->s = NULL;
}
