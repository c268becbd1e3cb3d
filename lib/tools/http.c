/*
 * http.c — one HTTP attempt of a tool call, run on a loop worker thread:
 * a libcurl transfer with a per-attempt timeout and a response size limit,
 * driven through a private multi handle so that the loop thread can abort
 * it at once (curl_multi_wakeup) when the call is cancelled.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tools/tools_int.h"

struct vagent__http_job *vagent__http_job_new(void)
{
	struct vagent__http_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	if (pthread_mutex_init(&j->mu, NULL) != 0) {
		free(j);
		return NULL;
	}
	return j;
}

void vagent__http_job_free(struct vagent__http_job *j)
{
	if (!j)
		return;
	free(j->method);
	free(j->url);
	free(j->body);
	curl_slist_free_all(j->headers);
	vagent__strbuf_release(&j->resp);
	free(j->retry_after);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

void vagent__http_job_abort(struct vagent__http_job *j)
{
	pthread_mutex_lock(&j->mu);
	j->aborted = true;
	if (j->multi)
		curl_multi_wakeup(j->multi);
	pthread_mutex_unlock(&j->mu);
}

static bool job_aborted(struct vagent__http_job *j)
{
	bool a;

	pthread_mutex_lock(&j->mu);
	a = j->aborted;
	pthread_mutex_unlock(&j->mu);
	return a;
}

static size_t on_write(char *data, size_t size, size_t n, void *arg)
{
	struct vagent__http_job *j = arg;
	size_t len = size * n;

	if (j->resp.len + len > j->max_bytes) {
		j->too_large = true;
		return 0;               /* aborts: CURLE_WRITE_ERROR */
	}
	vagent__strbuf_put(&j->resp, data, len);
	return j->resp.oom ? 0 : len;
}

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct vagent__http_job *j = arg;
	size_t len = size * n;
	static const char name[] = "retry-after:";

	if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		/* a new response (after 100 Continue): forget the last one's */
		free(j->retry_after);
		j->retry_after = NULL;
	} else if (len > sizeof(name) - 1 &&
		   strncasecmp(buf, name, sizeof(name) - 1) == 0) {
		const char *v = buf + sizeof(name) - 1, *end = buf + len;

		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && isspace((unsigned char)end[-1]))
			end--;
		free(j->retry_after);
		j->retry_after = strndup(v, (size_t)(end - v));
	}
	return len;
}

static void set_request(CURL *e, struct vagent__http_job *j)
{
	curl_easy_setopt(e, CURLOPT_URL, j->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, j->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, j->timeout_ms);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)j->max_bytes);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, j);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->errbuf);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "vagent/" VAGENT_VERSION);
	if (strcmp(j->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else {
		if (strcmp(j->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, j->method);
		if (j->body) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
					 (curl_off_t)strlen(j->body));
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body);
		} else if (strcmp(j->method, "POST") == 0) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		}
	}
}

void vagent__http_job_run(void *arg)
{
	struct vagent__http_job *j = arg;
	CURL *e = curl_easy_init();
	CURLM *m = NULL;
	CURLMsg *msg;
	int running = 1, left;

	j->code = CURLE_FAILED_INIT;
	if (!e)
		return;
	set_request(e, j);
	pthread_mutex_lock(&j->mu);
	if (!j->aborted) {
		m = curl_multi_init();
		j->multi = m;
	}
	pthread_mutex_unlock(&j->mu);
	if (!m) {
		j->code = job_aborted(j) ? CURLE_ABORTED_BY_CALLBACK
					 : CURLE_OUT_OF_MEMORY;
		curl_easy_cleanup(e);
		return;
	}
	curl_multi_add_handle(m, e);
	while (running) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		if (!running || job_aborted(j))
			break;
		if (curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK)
			break;
	}
	while ((msg = curl_multi_info_read(m, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == e)
			j->code = msg->data.result;
	if (job_aborted(j))
		j->code = CURLE_ABORTED_BY_CALLBACK;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &j->http_status);
	pthread_mutex_lock(&j->mu);
	j->multi = NULL;
	pthread_mutex_unlock(&j->mu);
	curl_multi_remove_handle(m, e);
	curl_multi_cleanup(m);
	curl_easy_cleanup(e);
}

int64_t vagent__retry_after_ms(const char *value)
{
	const char *s = value;
	int64_t secs = 0;
	time_t when;

	if (!value || !*value)
		return -1;
	if (isdigit((unsigned char)*s)) {
		for (; isdigit((unsigned char)*s); s++) {
			secs = secs * 10 + (*s - '0');
			if (secs > 86400 * 365)
				secs = 86400 * 365;
		}
		return *s ? -1 : secs * 1000;
	}
	when = curl_getdate(value, NULL);
	if (when == (time_t)-1)
		return -1;
	secs = (int64_t)when - (int64_t)time(NULL);
	return secs > 0 ? secs * 1000 : 0;
}
