/*
 * devices.c — PortAudio's process-wide set-up (reference counted, with
 * ALSA's and JACK's stderr chatter silenced), the device list
 * (vagent_devices_list) and finding a device by index or name.
 */
#include "device/device_int.h"

#include <ctype.h>
#include <errno.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <portaudio.h>

static pthread_mutex_t pa_lock = PTHREAD_MUTEX_INITIALIZER;
static int pa_users;

/* ALSA's error handler type: snd_lib_error_handler_t. */
typedef void (*alsa_error_handler)(const char *file, int line, const char *function,
				   int err, const char *fmt, ...);
typedef int (*alsa_set_handler_fn)(alsa_error_handler handler);
typedef void (*jack_message_fn)(const char *msg);
typedef void (*jack_set_function_fn)(jack_message_fn fn);

static void alsa_quiet(const char *file, int line, const char *function, int err,
		       const char *fmt, ...)
{
	(void)file, (void)line, (void)function, (void)err, (void)fmt;
}

static void jack_quiet(const char *msg)
{
	(void)msg;
}

/*
 * PortAudio's ALSA and JACK back ends print on stderr while they probe
 * devices ("ALSA lib pcm.c: Unknown PCM", "jack server is not running").
 * Both libraries are loaded with PortAudio; their own hooks silence them,
 * found at run time so that neither becomes a build dependency.
 */
static void silence_backends(void)
{
	void *sym = dlsym(RTLD_DEFAULT, "snd_lib_error_set_handler");

	if (sym) {
		alsa_set_handler_fn set;

		memcpy(&set, &sym, sizeof(set));
		set(alsa_quiet);
	}
	const char *jack_hooks[] = { "jack_set_error_function", "jack_set_info_function" };
	for (size_t i = 0; i < VAGENT__ARRAY_SIZE(jack_hooks); i++) {
		sym = dlsym(RTLD_DEFAULT, jack_hooks[i]);
		if (sym) {
			jack_set_function_fn set;

			memcpy(&set, &sym, sizeof(set));
			set(jack_quiet);
		}
	}
}

/*
 * PortAudio 19.6 aborts (an assertion in its ALSA back end) when a file
 * ALSA_CONFIG_PATH names is missing: refuse that first. ALSA splits the
 * list at ':' and spaces.
 */
static vagent_status check_alsa_config_path(struct vagent_error *err, const char *where)
{
	const char *list = getenv("ALSA_CONFIG_PATH");
	char path[4096];

	if (!list)
		return VAGENT_OK;
	for (const char *c = list; *c;) {
		size_t len = strcspn(c, ": ");
		if (len > 0 && len < sizeof(path)) {
			memcpy(path, c, len);
			path[len] = '\0';
			if (access(path, R_OK) != 0)
				return vagent__error_set(err, VAGENT_EIO, where,
							 "PortAudio cannot start: ALSA_CONFIG_PATH names "
							 "%s: %s", path, strerror(errno));
		}
		c += len;
		if (*c)
			c++;
	}
	return VAGENT_OK;
}

vagent_status vagent__pa_acquire(struct vagent_error *err, const char *where)
{
	vagent_status st = VAGENT_OK;

	pthread_mutex_lock(&pa_lock);
	if (pa_users == 0)
		st = check_alsa_config_path(err, where);
	if (pa_users == 0 && st == VAGENT_OK) {
		silence_backends();
		PaError e = Pa_Initialize();
		if (e != paNoError)
			st = vagent__error_set(err, VAGENT_EIO, where,
					       "PortAudio cannot start: %s", Pa_GetErrorText(e));
	}
	if (st == VAGENT_OK)
		pa_users++;
	pthread_mutex_unlock(&pa_lock);
	return st;
}

void vagent__pa_release(void)
{
	pthread_mutex_lock(&pa_lock);
	if (pa_users > 0 && --pa_users == 0)
		Pa_Terminate();
	pthread_mutex_unlock(&pa_lock);
}

static void fill_info(struct vagent_device_info *d, int index)
{
	const PaDeviceInfo *pi = Pa_GetDeviceInfo(index);
	const PaHostApiInfo *hi = pi ? Pa_GetHostApiInfo(pi->hostApi) : NULL;

	memset(d, 0, sizeof(*d));
	d->index = index;
	if (!pi)
		return;
	snprintf(d->name, sizeof(d->name), "%s", pi->name ? pi->name : "");
	snprintf(d->host_api, sizeof(d->host_api), "%s", hi && hi->name ? hi->name : "");
	d->max_input_channels = pi->maxInputChannels;
	d->max_output_channels = pi->maxOutputChannels;
	d->default_rate = pi->defaultSampleRate;
	d->default_input = index == Pa_GetDefaultInputDevice();
	d->default_output = index == Pa_GetDefaultOutputDevice();
}

vagent_status vagent_devices_list(struct vagent_device_info **out, size_t *n,
				  struct vagent_error *err)
{
	if (!out || !n)
		return vagent__error_set(err, VAGENT_EINVAL, "audio", "no output for the device list");
	*out = NULL;
	*n = 0;
	vagent_status st = vagent__pa_acquire(err, "audio");
	if (st != VAGENT_OK)
		return st;
	int count = Pa_GetDeviceCount();
	if (count < 0) {
		st = vagent__error_set(err, VAGENT_EIO, "audio", "PortAudio cannot list devices: %s",
				       Pa_GetErrorText(count));
		vagent__pa_release();
		return st;
	}
	struct vagent_device_info *list = calloc(count ? (size_t)count : 1, sizeof(*list));
	if (!list) {
		vagent__pa_release();
		return vagent__error_set(err, VAGENT_ENOMEM, "audio", "out of memory");
	}
	for (int i = 0; i < count; i++)
		fill_info(&list[i], i);
	vagent__pa_release();
	*out = list;
	*n = (size_t)count;
	return VAGENT_OK;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Case-insensitive strstr. */
static bool contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return n == 0;
}

static int channels_of(const PaDeviceInfo *pi, bool input)
{
	return input ? pi->maxInputChannels : pi->maxOutputChannels;
}

vagent_status vagent__device_find(const char *spec, bool input, int *index,
				  char *name, size_t name_size, struct vagent_error *err)
{
	const char *role = input ? "input" : "output";
	int count = Pa_GetDeviceCount();

	if (!spec) {
		int d = input ? Pa_GetDefaultInputDevice() : Pa_GetDefaultOutputDevice();
		if (d == paNoDevice || d < 0 || d >= count)
			return vagent__error_set(err, VAGENT_ENOENT, NULL,
						 "no default %s device (see vagent devices)", role);
		*index = d;
		snprintf(name, name_size, "%s", Pa_GetDeviceInfo(d)->name);
		return VAGENT_OK;
	}
	if (!*spec)
		return vagent__error_set(err, VAGENT_EINVAL, NULL,
					 "%s device \"\": empty name (see vagent devices)", role);
	if (all_digits(spec)) {
		long d = strtol(spec, NULL, 10);
		if (strlen(spec) > 6 || d >= count)
			return vagent__error_set(err, VAGENT_ENOENT, NULL,
						 "%s device \"%s\": no such device (see vagent devices)",
						 role, spec);
		const PaDeviceInfo *pi = Pa_GetDeviceInfo((int)d);
		if (channels_of(pi, input) < 1)
			return vagent__error_set(err, VAGENT_EINVAL, NULL,
						 "%s device \"%s\" (%s) has no %s channels", role, spec,
						 pi->name, role);
		*index = (int)d;
		snprintf(name, name_size, "%s", pi->name);
		return VAGENT_OK;
	}
	int exact = -1, n_exact = 0, n_sub = 0, sub = -1;
	for (int i = 0; i < count; i++) {
		const PaDeviceInfo *pi = Pa_GetDeviceInfo(i);
		if (!pi || channels_of(pi, input) < 1)
			continue;
		if (strcasecmp(pi->name, spec) == 0) {
			exact = i;
			n_exact++;
		}
		if (contains_nocase(pi->name, spec)) {
			sub = i;
			n_sub++;
		}
	}
	int found = n_exact == 1 ? exact : n_exact == 0 && n_sub == 1 ? sub : -1;
	if (found >= 0) {
		*index = found;
		snprintf(name, name_size, "%s", Pa_GetDeviceInfo(found)->name);
		return VAGENT_OK;
	}
	if (n_exact == 0 && n_sub == 0)
		return vagent__error_set(err, VAGENT_ENOENT, NULL,
					 "%s device \"%s\": no such device (see vagent devices)",
					 role, spec);
	/* Ambiguous: list the candidates on the one line. */
	struct vagent__strbuf b = { 0 };
	vagent__strbuf_printf(&b, "%s device \"%s\" matches %d devices:", role, spec,
			      n_exact ? n_exact : n_sub);
	for (int i = 0, k = 0; i < count; i++) {
		const PaDeviceInfo *pi = Pa_GetDeviceInfo(i);
		if (!pi || channels_of(pi, input) < 1)
			continue;
		if (n_exact ? strcasecmp(pi->name, spec) != 0 : !contains_nocase(pi->name, spec))
			continue;
		vagent__strbuf_printf(&b, "%s %d \"%s\"", k++ ? "," : "", i, pi->name);
	}
	vagent__strbuf_puts(&b, " (give the index or the exact name)");
	char *msg = vagent__strbuf_detach(&b);
	vagent_status st = vagent__error_set(err, VAGENT_EINVAL, NULL, "%s",
					     msg ? msg : "ambiguous device name");
	free(msg);
	return st;
}

bool vagent__is_wav_path(const char *path)
{
	size_t n = path ? strlen(path) : 0;

	return n >= 4 && strcasecmp(path + n - 4, ".wav") == 0;
}
