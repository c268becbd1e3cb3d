/*
 * status.c — status names, messages and exit codes, generated from the one
 * list in vagent.h, and the vagent_error helpers shared by every module.
 */
#include "core/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <sndfile.h>
#include <curl/curl.h>
#include <flite/flite_version.h>
#include <opus.h>

const char *vagent_strerror(vagent_status st)
{
	switch (st) {
#define X(name, val, exit_code, msg) case VAGENT_##name: return msg;
	VAGENT_STATUS_MAP(X)
#undef X
	}
	return "unknown status";
}

const char *vagent_status_name(vagent_status st)
{
	switch (st) {
#define X(name, val, exit_code, msg) case VAGENT_##name: return #name;
	VAGENT_STATUS_MAP(X)
#undef X
	}
	return "UNKNOWN";
}

int vagent_status_exit_code(vagent_status st)
{
	switch (st) {
#define X(name, val, exit_code, msg) case VAGENT_##name: return exit_code;
	VAGENT_STATUS_MAP(X)
#undef X
	}
	return 3;
}

void vagent_error_clear(struct vagent_error *err)
{
	if (!err)
		return;
	err->status = VAGENT_OK;
	err->http_status = 0;
	err->message[0] = '\0';
}

vagent_status vagent__error_set(struct vagent_error *err, vagent_status st,
				const char *where, const char *fmt, ...)
{
	size_t len = 0;
	va_list ap;

	if (!err)
		return st;
	err->status = st;
	err->message[0] = '\0';
	if (where && *where)
		len = (size_t)snprintf(err->message, sizeof(err->message), "%s: ", where);
	if (len >= sizeof(err->message))
		len = sizeof(err->message) - 1;
	va_start(ap, fmt);
	vsnprintf(err->message + len, sizeof(err->message) - len, fmt, ap);
	va_end(ap);
	/* Messages are one line: fold any newline a library handed us. */
	for (char *p = err->message; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return st;
}

vagent_status vagent__error_open_input(struct vagent_error *err, int errnum,
				       const char *path)
{
	switch (errnum) {
	case ENOENT:
	case ENOTDIR:
		return vagent__error_set(err, VAGENT_ENOENT, path, "no such file");
	case EACCES:
	case EPERM:
	case EISDIR:
	case ENAMETOOLONG:
	case ELOOP:
		return vagent__error_set(err, VAGENT_EINVAL, path, "cannot open: %s",
					 strerror(errnum));
	default:
		return vagent__error_set(err, VAGENT_EIO, path, "cannot open: %s",
					 strerror(errnum));
	}
}

const char *vagent_version(void)
{
	return VAGENT_VERSION;
}

const char *vagent_linked_versions(void)
{
	static char buf[256];
	char sf[128];

	if (!buf[0]) {
		sf_command(NULL, SFC_GET_LIB_VERSION, sf, sizeof(sf));
		snprintf(buf, sizeof(buf), "%s, %s, libcurl %s, pocketsphinx %s, flite %s",
			 sf, opus_get_version_string(), curl_version_info(CURLVERSION_NOW)->version,
			 VAGENT_POCKETSPHINX_VERSION, FLITE_PROJECT_VERSION);
	}
	return buf;
}
