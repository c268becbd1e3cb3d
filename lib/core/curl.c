/*
 * curl.c — libcurl's process-wide set-up, done once and thread-safely
 * (curl_global_init is not thread-safe; every module that uses libcurl
 * calls vagent__curl_init first).
 */
#include <pthread.h>

#include <curl/curl.h>

#include "core/internal.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

static void curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

vagent_status vagent__curl_init(struct vagent_error *err)
{
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK)
		return vagent__error_set(err, VAGENT_EINTERNAL, "libcurl",
					 "initialisation failed: %s",
					 curl_easy_strerror(curl_init_rc));
	return VAGENT_OK;
}

void vagent__url_redact(const char *url, char *out, size_t size)
{
	CURLU *h = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;

	if (!size)
		return;
	out[0] = '\0';
	if (h && curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		curl_url_get(h, CURLUPART_PORT, &port, 0);
		curl_url_get(h, CURLUPART_PATH, &path, 0);
		snprintf(out, size, "%s://%s%s%s%s", scheme, host, port ? ":" : "",
			 port ? port : "", path ? path : "");
	} else {
		snprintf(out, size, "(invalid URL)");
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	if (h)
		curl_url_cleanup(h);
}
