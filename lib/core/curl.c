/*
 * curl.c — libcurl's process-wide set-up, done once and thread-safely
 * (curl_global_init is not thread-safe; every module that uses libcurl
 * calls vagent__curl_init first).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "core/internal.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

static void curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

vagent_status vagent__curl_init(struct vagent_error *err, const char *where)
{
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK)
		return vagent__error_set(err, VAGENT_EIO, where,
					 "libcurl initialisation failed: %s",
					 curl_easy_strerror(curl_init_rc));
	return VAGENT_OK;
}

void vagent__url_redact(const char *url, char *out, size_t size)
{
	const char *scheme_end = strstr(url, "://");
	const char *host, *at, *end, *slash;
	size_t n;

	if (!scheme_end) {
		snprintf(out, size, "%.*s", (int)strcspn(url, "?#"), url);
		return;
	}
	host = scheme_end + 3;
	slash = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(slash - host));
	end = slash + strcspn(slash, "?#");
	if (at) {
		n = (size_t)(scheme_end + 3 - url);
		snprintf(out, size, "%.*s%.*s", (int)n, url,
			 (int)(end - at - 1), at + 1);
	} else {
		snprintf(out, size, "%.*s", (int)(end - url), url);
	}
}

bool vagent__is_http_base_url(const char *url)
{
	return url && (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)) &&
	       !strpbrk(url, "?@");
}

char *vagent__strdup_track(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}
