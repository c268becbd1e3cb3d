/*
 * doctor.c — the checks behind `vagent doctor`: the embedded stack
 * (pocketsphinx model, flite voices, library versions, PortAudio) and the
 * cloud providers (key variable set, one authenticated GET per provider,
 * all probes concurrently on one libcurl multi handle). Keys go into
 * request headers only; no check, message or URL ever holds one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <flite/flite_version.h>
#include <libwebsockets.h>
#include <opus/opus.h>
#include <portaudio.h>
#include <sndfile.h>

#include "core/internal.h"
#include "doctor/doctor_int.h"

#define WHERE "doctor"

/* The stock model lib/stt/decoder.c loads (keep in step with it). */
#define SPHINX_MODEL_DEFAULT "/usr/share/pocketsphinx/model/en-us/en-us"
#define SPHINX_LM_DEFAULT    "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin"
#define SPHINX_DICT_DEFAULT  "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"

#define ANTHROPIC_VERSION "2023-06-01"
#define CARTESIA_VERSION  "2026-03-01"

const struct vagent__cloud_info vagent__clouds[VAGENT__CLOUD_COUNT] = {
	[VAGENT__CLOUD_DEEPGRAM] = { "deepgram", "DEEPGRAM_API_KEY",
				     "wss://api.deepgram.com/v1/listen", NULL, "stt" },
	[VAGENT__CLOUD_OPENAI] = { "openai", "OPENAI_API_KEY", "https://api.openai.com/v1",
				   "OPENAI_BASE_URL", "brain/stt/tts" },
	[VAGENT__CLOUD_ANTHROPIC] = { "anthropic", "ANTHROPIC_API_KEY",
				      "https://api.anthropic.com/v1", "ANTHROPIC_BASE_URL",
				      "brain" },
	[VAGENT__CLOUD_ELEVENLABS] = { "elevenlabs", "ELEVENLABS_API_KEY",
				       "https://api.elevenlabs.io", NULL, "tts" },
	[VAGENT__CLOUD_CARTESIA] = { "cartesia", "CARTESIA_API_KEY",
				     "wss://api.cartesia.ai/tts/websocket", NULL, "tts" },
};

struct vagent_doctor_options vagent_doctor_options_default(void)
{
	return (struct vagent_doctor_options){ .timeout_ms = 5000, .offline = false };
}

const char *vagent_doctor_verdict_name(enum vagent_doctor_verdict v)
{
	switch (v) {
	case VAGENT_DOCTOR_OK: return "ok";
	case VAGENT_DOCTOR_NOTE: return "note";
	case VAGENT_DOCTOR_FAIL: return "fail";
	}
	return "?";
}

const char *vagent_doctor_probe_name(enum vagent_doctor_probe p)
{
	switch (p) {
	case VAGENT_DOCTOR_NOT_PROBED: return "not_probed";
	case VAGENT_DOCTOR_REACHABLE: return "reachable";
	case VAGENT_DOCTOR_KEY_REJECTED: return "key_rejected";
	case VAGENT_DOCTOR_SERVER_ERROR: return "server_error";
	case VAGENT_DOCTOR_UNREACHABLE: return "unreachable";
	case VAGENT_DOCTOR_TIMEOUT: return "timeout";
	}
	return "?";
}

int vagent__doctor_probe_url(enum vagent__cloud cloud, const char *url, char *out, size_t size)
{
	const char *scheme, *rest, *auth, *auth_end, *at, *path_end;
	size_t path_len;
	int n;

	if (!url || !out || size == 0 || (unsigned)cloud >= VAGENT__CLOUD_COUNT)
		return -1;
	if (!strncmp(url, "https://", 8) || !strncmp(url, "wss://", 6))
		scheme = "https";
	else if (!strncmp(url, "http://", 7) || !strncmp(url, "ws://", 5))
		scheme = "http";
	else
		return -1;
	rest = strstr(url, "://") + 3;
	auth_end = rest + strcspn(rest, "/?#");
	auth = rest;
	while ((at = memchr(auth, '@', (size_t)(auth_end - auth))) != NULL)
		auth = at + 1; /* credentials are never sent nor shown */
	if (auth == auth_end)
		return -1;
	path_end = auth_end + strcspn(auth_end, "?#");
	path_len = (size_t)(path_end - auth_end);
	while (path_len > 0 && auth_end[path_len - 1] == '/')
		path_len--;

	switch (cloud) {
	case VAGENT__CLOUD_OPENAI:
	case VAGENT__CLOUD_ANTHROPIC:
		n = snprintf(out, size, "%s://%.*s%.*s/models", scheme, (int)(auth_end - auth),
			     auth, (int)path_len, auth_end);
		break;
	case VAGENT__CLOUD_ELEVENLABS: {
		bool v1 = path_len >= 3 && !strncmp(auth_end + path_len - 3, "/v1", 3);
		n = snprintf(out, size, "%s://%.*s%.*s%s/models", scheme, (int)(auth_end - auth),
			     auth, (int)path_len, auth_end, v1 ? "" : "/v1");
		break;
	}
	case VAGENT__CLOUD_DEEPGRAM:
		n = snprintf(out, size, "%s://%.*s/v1/projects", scheme, (int)(auth_end - auth), auth);
		break;
	case VAGENT__CLOUD_CARTESIA:
		n = snprintf(out, size, "%s://%.*s/voices", scheme, (int)(auth_end - auth), auth);
		break;
	default:
		return -1;
	}
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* ---- the report being built ---- */

struct builder {
	struct vagent_doctor_report *r;
	size_t cap;
	bool oom;
	const char **keys;   /* per check: the key (from getenv) or NULL; never copied */
};

static struct vagent_doctor_check *add_check(struct builder *b, const char *group,
					     const char *name, bool required)
{
	if (b->oom)
		return NULL;
	if (b->r->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct vagent_doctor_check *c = realloc(b->r->checks, cap * sizeof(*c));
		const char **k = realloc(b->keys, cap * sizeof(*k));
		if (c)
			b->r->checks = c;
		if (k)
			b->keys = k;
		if (!c || !k) {
			b->oom = true;
			return NULL;
		}
		b->cap = cap;
	}
	struct vagent_doctor_check *c = &b->r->checks[b->r->n];
	b->keys[b->r->n] = NULL;
	b->r->n++;
	memset(c, 0, sizeof(*c));
	snprintf(c->group, sizeof(c->group), "%s", group);
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->required = required;
	c->key_set = -1;
	c->latency_ms = -1;
	return c;
}

static void set_result(struct vagent_doctor_check *c, enum vagent_doctor_verdict v,
		       const char *fmt, ...) VAGENT__PRINTF(3, 4);

static void set_result(struct vagent_doctor_check *c, enum vagent_doctor_verdict v,
		       const char *fmt, ...)
{
	va_list ap;

	c->verdict = v;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

/* A problem is a failure where the part is required, else a note. */
static enum vagent_doctor_verdict problem(const struct vagent_doctor_check *c)
{
	return c->required ? VAGENT_DOCTOR_FAIL : VAGENT_DOCTOR_NOTE;
}

/* ---- what the agents use ---- */

struct usage {
	bool sphinx, flite;
	const char *voices[16]; /* flite voices the agents use */
	size_t n_voices;
};

static void use_voice(struct usage *u, const char *voice)
{
	for (size_t i = 0; i < u->n_voices; i++)
		if (!strcmp(u->voices[i], voice))
			return;
	if (u->n_voices < sizeof(u->voices) / sizeof(u->voices[0]))
		u->voices[u->n_voices++] = voice;
}

static bool is_flite_voice(const char *v)
{
	for (const char *const *l = vagent_flite_voices(); *l; l++)
		if (!strcmp(*l, v))
			return true;
	return false;
}

static void collect_usage(const struct vagent_agent *const *agents, size_t n, struct usage *u)
{
	memset(u, 0, sizeof(*u));
	if (n == 0) { /* the embedded default stack */
		u->sphinx = u->flite = true;
		use_voice(u, "slt");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct vagent_agent *a = agents[i];
		const char *stt = a->stt.provider ? a->stt.provider : "pocketsphinx";
		const char *tts = a->tts.provider ? a->tts.provider : "flite";

		if (!strcmp(stt, "pocketsphinx") ||
		    (a->stt.fallback && !strcmp(a->stt.fallback, "pocketsphinx")))
			u->sphinx = true;
		if (!strcmp(tts, "flite")) {
			u->flite = true;
			use_voice(u, a->tts.voice && *a->tts.voice ? a->tts.voice : "slt");
		}
		if (a->tts.fallback && !strcmp(a->tts.fallback, "flite")) {
			u->flite = true;
			use_voice(u, a->tts.voice && is_flite_voice(a->tts.voice) ? a->tts.voice
										 : "slt");
		}
	}
}

/* ---- embedded checks ---- */

static bool readable(const char *path)
{
	return access(path, R_OK) == 0;
}

static void check_sphinx(struct builder *b, bool required)
{
	struct vagent_doctor_check *c = add_check(b, "embedded", "pocketsphinx", required);
	const char *model = getenv("VAGENT_SPHINX_MODEL");
	char mdef[1024];

	if (!c)
		return;
	if (!model || !*model)
		model = SPHINX_MODEL_DEFAULT;
	snprintf(mdef, sizeof(mdef), "%s/mdef", model);
	if (!readable(mdef))
		set_result(c, problem(c),
			   "no acoustic model at %s (no readable mdef; install pocketsphinx-en-us "
			   "or set VAGENT_SPHINX_MODEL)", model);
	else if (!readable(SPHINX_DICT_DEFAULT))
		set_result(c, problem(c), "dictionary %s missing or unreadable",
			   SPHINX_DICT_DEFAULT);
	else if (!readable(SPHINX_LM_DEFAULT))
		set_result(c, problem(c), "language model %s missing or unreadable",
			   SPHINX_LM_DEFAULT);
	else
		set_result(c, VAGENT_DOCTOR_OK,
			   "pocketsphinx %s; model %s (dictionary %s, language model %s)",
			   VAGENT_POCKETSPHINX_VERSION, model, strrchr(SPHINX_DICT_DEFAULT, '/') + 1,
			   strrchr(SPHINX_LM_DEFAULT, '/') + 1);
	if (!required && c->verdict == VAGENT_DOCTOR_OK) {
		char found[sizeof(c->detail)];
		snprintf(found, sizeof(found), "%s", c->detail);
		set_result(c, VAGENT_DOCTOR_OK, "%.400s (no agent uses it)", found);
	}
}

static void check_flite(struct builder *b, const struct usage *u)
{
	struct vagent_doctor_check *c = add_check(b, "embedded", "flite", u->flite);
	struct vagent__strbuf names = { 0 };
	struct vagent_error err;
	size_t n = 0;

	if (!c)
		return;
	for (const char *const *v = vagent_flite_voices(); *v; v++, n++)
		vagent__strbuf_printf(&names, "%s%s", n ? ", " : "", *v);
	char *list = vagent__strbuf_detach(&names);
	if (!list) {
		b->oom = true;
		return;
	}
	/* Each voice an agent uses must really synthesise. */
	for (size_t i = 0; i < u->n_voices; i++) {
		struct vagent_audio *audio = NULL;
		vagent_status st = vagent_flite_synth("OK.", u->voices[i], 16000, &audio, &err);
		bool empty = st == VAGENT_OK && (!audio || audio->frames == 0);

		vagent_audio_free(audio);
		if (st != VAGENT_OK || empty) {
			set_result(c, problem(c), "voice %s does not synthesise: %s", u->voices[i],
				   st != VAGENT_OK ? err.message : "no audio");
			free(list);
			return;
		}
	}
	if (u->n_voices)
		set_result(c, VAGENT_DOCTOR_OK, "flite %s; voices %s (synthesised with %s%s)",
			   FLITE_PROJECT_VERSION, list, u->voices[0], u->n_voices > 1 ? ", ..." : "");
	else
		set_result(c, VAGENT_DOCTOR_OK, "flite %s; voices %s (no agent uses it)",
			   FLITE_PROJECT_VERSION, list);
	free(list);
}

static void check_libraries(struct builder *b, bool cloud_needed)
{
	const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
	struct vagent_doctor_check *c;
	bool https = false;
	char sf[128] = "";

	for (const char *const *p = cv->protocols; p && *p; p++)
		if (!strcmp(*p, "https"))
			https = true;
	if ((c = add_check(b, "embedded", "libcurl", cloud_needed)) != NULL) {
		if (https)
			set_result(c, VAGENT_DOCTOR_OK, "libcurl %s (%s), https", cv->version,
				   cv->ssl_version ? cv->ssl_version : "no TLS library");
		else
			set_result(c, problem(c), "libcurl %s has no https: cloud providers cannot "
				   "be reached", cv->version);
	}
	if ((c = add_check(b, "embedded", "libwebsockets", cloud_needed)) != NULL) {
		const char *lws = lws_get_library_version(); /* "4.1.6-" or "4.3.3-v4.3.3" */
		set_result(c, VAGENT_DOCTOR_OK, "libwebsockets %.*s", (int)strcspn(lws, "- "), lws);
	}
	if ((c = add_check(b, "embedded", "opus", true)) != NULL)
		set_result(c, VAGENT_DOCTOR_OK, "%s", opus_get_version_string());
	sf_command(NULL, SFC_GET_LIB_VERSION, sf, sizeof(sf));
	if ((c = add_check(b, "embedded", "libsndfile", true)) != NULL)
		set_result(c, VAGENT_DOCTOR_OK, "%s", sf);
	if ((c = add_check(b, "embedded", "cjson", true)) != NULL)
		set_result(c, VAGENT_DOCTOR_OK, "cJSON %s", cJSON_Version());
}

static void check_portaudio(struct builder *b)
{
	struct vagent_doctor_check *c = add_check(b, "embedded", "portaudio", false);
	const PaVersionInfo *pv = Pa_GetVersionInfo();
	const char *text = pv && pv->versionText ? pv->versionText : "PortAudio";
	char version[64];
	struct vagent_device_info *list = NULL;
	struct vagent_error err;
	size_t n = 0, in = 0, out = 0;

	if (!c)
		return;
	/* "PortAudio V19.6.0-devel, revision 396fe4b..." without the revision */
	snprintf(version, sizeof(version), "%.*s", (int)strcspn(text, ","), text);
	if (vagent_devices_list(&list, &n, &err) != VAGENT_OK) {
		set_result(c, VAGENT_DOCTOR_NOTE, "%s: %s (only vagent chat needs audio devices)",
			   version, err.message);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		in += list[i].max_input_channels > 0;
		out += list[i].max_output_channels > 0;
	}
	free(list);
	if (n == 0)
		set_result(c, VAGENT_DOCTOR_NOTE, "%s; no audio devices (only vagent chat needs "
			   "them; WAV files stand in)", version);
	else
		set_result(c, VAGENT_DOCTOR_OK, "%s; %zu device%s (%zu with input, %zu with output)",
			   version, n, n == 1 ? "" : "s", in, out);
}

/* ---- provider checks ---- */

static int cloud_of(const char *provider)
{
	for (int i = 0; i < VAGENT__CLOUD_COUNT; i++)
		if (provider && !strcmp(provider, vagent__clouds[i].name))
			return i;
	return -1;
}

/* A cloud provider check: key variable, probe URL; the probe comes later.
 * `key_env` NULL: no key (a local server). */
static void add_cloud(struct builder *b, enum vagent__cloud cloud, const char *slot,
		      const char *agent, const char *url, const char *key_env, bool required,
		      const struct vagent_doctor_options *opts)
{
	const struct vagent__cloud_info *ci = &vagent__clouds[cloud];
	struct vagent_doctor_check *c = add_check(b, "provider", ci->name, required);
	const char *key;

	if (!c)
		return;
	snprintf(c->slot, sizeof(c->slot), "%s", slot);
	snprintf(c->agent, sizeof(c->agent), "%s", agent ? agent : "");
	if (vagent__doctor_probe_url(cloud, url, c->url, sizeof(c->url)) != 0) {
		char shown[256];
		vagent__url_redact(url, shown, sizeof(shown));
		c->url[0] = '\0';
		set_result(c, problem(c), "endpoint %s is not an http(s) or ws(s) URL", shown);
		return;
	}
	if (!key_env) {
		c->key_set = -1;
		if (opts->offline)
			set_result(c, VAGENT_DOCTOR_NOTE, "no key (local server); not probed "
				   "(--offline)");
		return;
	}
	snprintf(c->key_env, sizeof(c->key_env), "%s", key_env);
	key = getenv(key_env);
	c->key_set = key && *key;
	if (!c->key_set) {
		if (required)
			set_result(c, VAGENT_DOCTOR_FAIL, "%s is %s", key_env, key ? "empty" : "not set");
		else
			set_result(c, VAGENT_DOCTOR_NOTE, "not configured: %s is %s", key_env,
				   key ? "empty" : "not set");
		return;
	}
	if (opts->offline) {
		set_result(c, VAGENT_DOCTOR_OK, "%s is set; not probed (--offline)", key_env);
		return;
	}
	b->keys[c - b->r->checks] = key;
}

/* An embedded provider in an agent's slot: as good as its embedded check. */
static void add_embedded_use(struct builder *b, const char *name, const char *slot,
			     const char *agent)
{
	struct vagent_doctor_check *c;
	bool works = false;

	for (size_t i = 0; i < b->r->n; i++)
		if (!strcmp(b->r->checks[i].group, "embedded") &&
		    !strcmp(b->r->checks[i].name, name))
			works = b->r->checks[i].verdict == VAGENT_DOCTOR_OK;
	if (!(c = add_check(b, "provider", name, true)))
		return;
	snprintf(c->slot, sizeof(c->slot), "%s", slot);
	snprintf(c->agent, sizeof(c->agent), "%s", agent);
	if (works)
		set_result(c, VAGENT_DOCTOR_OK, "embedded (the %s check above)", name);
	else
		set_result(c, VAGENT_DOCTOR_FAIL, "embedded, and the %s check above failed", name);
}

static void add_agent(struct builder *b, const struct vagent_agent *a,
		      const struct vagent_doctor_options *opts)
{
	const char *name = a->path && *a->path ? a->path : a->name ? a->name : "agent";
	const char *stt = a->stt.provider ? a->stt.provider : "pocketsphinx";
	const char *tts = a->tts.provider ? a->tts.provider : "flite";
	const char *brain = a->brain.provider ? a->brain.provider : "flow";
	int k;

	if ((k = cloud_of(stt)) >= 0)
		add_cloud(b, (enum vagent__cloud)k, "stt", name,
			  a->stt.url ? a->stt.url : vagent__clouds[k].default_url,
			  a->stt.api_key_env ? a->stt.api_key_env : vagent__clouds[k].key_env,
			  true, opts);
	else if (!strcmp(stt, "pocketsphinx"))
		add_embedded_use(b, "pocketsphinx", "stt", name);
	if (a->stt.fallback && !strcmp(a->stt.fallback, "pocketsphinx"))
		add_embedded_use(b, "pocketsphinx", "stt.fallback", name);

	if ((k = cloud_of(brain)) >= 0)
		add_cloud(b, (enum vagent__cloud)k, "brain", name,
			  a->brain.base_url ? a->brain.base_url : vagent__clouds[k].default_url,
			  a->brain.api_key_env, true, opts);

	if ((k = cloud_of(tts)) >= 0)
		add_cloud(b, (enum vagent__cloud)k, "tts", name,
			  a->tts.url ? a->tts.url : vagent__clouds[k].default_url,
			  a->tts.api_key_env ? a->tts.api_key_env : vagent__clouds[k].key_env,
			  true, opts);
	else if (!strcmp(tts, "flite"))
		add_embedded_use(b, "flite", "tts", name);
	if (a->tts.fallback && !strcmp(a->tts.fallback, "flite"))
		add_embedded_use(b, "flite", "tts.fallback", name);
}

static void add_known(struct builder *b, const struct vagent_doctor_options *opts)
{
	for (int k = 0; k < VAGENT__CLOUD_COUNT; k++) {
		const struct vagent__cloud_info *ci = &vagent__clouds[k];
		const char *base = ci->base_env ? getenv(ci->base_env) : NULL;

		add_cloud(b, (enum vagent__cloud)k, ci->slots, NULL,
			  base && *base ? base : ci->default_url, ci->key_env, false, opts);
	}
}

/* ---- probing ---- */

struct probe {
	size_t check;
	CURL *h;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t discard_body(char *p, size_t size, size_t n, void *user)
{
	(void)p;
	(void)user;
	return size * n;
}

/* Append "NAME: VALUE" to the request's headers; the copy on the stack
 * is wiped (it may hold a key). */
static bool add_header(struct probe *p, const char *name, const char *prefix, const char *value)
{
	char line[1024];
	struct curl_slist *l;
	int n = snprintf(line, sizeof(line), "%s: %s%s", name, prefix, value);

	if (n < 0 || (size_t)n >= sizeof(line)) {
		memset(line, 0, sizeof(line));
		return false;
	}
	l = curl_slist_append(p->headers, line);
	memset(line, 0, sizeof(line));
	if (!l)
		return false;
	p->headers = l;
	return true;
}

static bool probe_headers(struct probe *p, enum vagent__cloud cloud, const char *key)
{
	bool ok = true;

	switch (cloud) {
	case VAGENT__CLOUD_OPENAI:
		if (key)
			ok = add_header(p, "Authorization", "Bearer ", key);
		break;
	case VAGENT__CLOUD_ANTHROPIC:
		if (key)
			ok = add_header(p, "x-api-key", "", key);
		ok = ok && add_header(p, "anthropic-version", "", ANTHROPIC_VERSION);
		break;
	case VAGENT__CLOUD_DEEPGRAM:
		if (key)
			ok = add_header(p, "Authorization", "Token ", key);
		break;
	case VAGENT__CLOUD_ELEVENLABS:
		if (key)
			ok = add_header(p, "xi-api-key", "", key);
		break;
	case VAGENT__CLOUD_CARTESIA:
		/* both auth forms (docs/doctor.md: the notes' advice) */
		if (key)
			ok = add_header(p, "Authorization", "Bearer ", key) &&
			     add_header(p, "X-API-Key", "", key);
		ok = ok && add_header(p, "Cartesia-Version", "", CARTESIA_VERSION);
		break;
	default:
		break;
	}
	return ok && add_header(p, "Accept", "", "application/json");
}

/* Copy `s` into `out`, or `fallback` when it holds the key. */
static void scrub(char *out, size_t size, const char *s, const char *key, const char *fallback)
{
	snprintf(out, size, "%s", key && *key && strstr(s, key) ? fallback : s);
}

static void probe_done(struct probe *p, struct vagent_doctor_check *c, const char *key,
		       CURLcode rc, int timeout_ms)
{
	long status = 0;
	curl_off_t ttfb = 0;
	char why[CURL_ERROR_SIZE];
	size_t len;

	curl_easy_getinfo(p->h, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_OK && status > 0) {
		curl_easy_getinfo(p->h, CURLINFO_STARTTRANSFER_TIME_T, &ttfb);
		c->http_status = (int)status;
		c->latency_ms = (double)ttfb / 1000.0;
	}
	const char *keynote = c->key_set == 1 ? "" : " (no key sent)";
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		c->probe = VAGENT_DOCTOR_TIMEOUT;
		set_result(c, VAGENT_DOCTOR_FAIL, "timeout: no answer within %d ms", timeout_ms);
	} else if (rc != CURLE_OK || status <= 0) {
		c->probe = VAGENT_DOCTOR_UNREACHABLE;
		scrub(why, sizeof(why), p->errbuf[0] ? p->errbuf : curl_easy_strerror(rc), key,
		      curl_easy_strerror(rc));
		len = strlen(why);
		while (len > 0 && (why[len - 1] == '\n' || why[len - 1] == '.'))
			why[--len] = '\0';
		set_result(c, VAGENT_DOCTOR_FAIL, "unreachable: %s", why);
	} else if (status == 401 || status == 403) {
		c->probe = VAGENT_DOCTOR_KEY_REJECTED;
		if (c->key_set == 1)
			set_result(c, VAGENT_DOCTOR_FAIL, "key rejected (HTTP %ld; check %s)", status,
				   c->key_env);
		else
			set_result(c, VAGENT_DOCTOR_FAIL, "the server wants a key (HTTP %ld) and the "
				   "agent names no api_key_env", status);
	} else if (status >= 500) {
		c->probe = VAGENT_DOCTOR_SERVER_ERROR;
		set_result(c, VAGENT_DOCTOR_FAIL, "server error (HTTP %ld, %.0f ms)", status,
			   c->latency_ms);
	} else if (status >= 200 && status < 300) {
		c->probe = VAGENT_DOCTOR_REACHABLE;
		set_result(c, VAGENT_DOCTOR_OK, "reachable (HTTP %ld, %.0f ms)%s", status,
			   c->latency_ms, keynote);
	} else if (status == 429) {
		c->probe = VAGENT_DOCTOR_REACHABLE;
		set_result(c, VAGENT_DOCTOR_NOTE, "reachable but rate-limited (HTTP 429, %.0f ms)",
			   c->latency_ms);
	} else {
		c->probe = VAGENT_DOCTOR_REACHABLE;
		set_result(c, VAGENT_DOCTOR_NOTE, "reachable (HTTP %ld, %.0f ms), but the probe "
			   "endpoint is not served here, so the key is not confirmed", status,
			   c->latency_ms);
	}
}

static vagent_status run_probes(struct builder *b, const struct vagent_doctor_options *opts,
				struct vagent_error *err)
{
	struct vagent_doctor_report *r = b->r;
	struct probe *probes;
	size_t n = 0;
	CURLM *m;
	vagent_status st;
	char ua[64];

	if (opts->offline)
		return VAGENT_OK;
	/* the checks still to probe: a URL and no result yet */
	for (size_t i = 0; i < r->n; i++)
		if (r->checks[i].url[0] && !r->checks[i].detail[0])
			n++;
	if (n == 0)
		return VAGENT_OK;
	if ((st = vagent__curl_init(err, WHERE)) != VAGENT_OK)
		return st;
	probes = calloc(n, sizeof(*probes));
	m = curl_multi_init();
	if (!probes || !m) {
		free(probes);
		if (m)
			curl_multi_cleanup(m);
		return vagent__error_set(err, VAGENT_ENOMEM, WHERE, "out of memory");
	}
	snprintf(ua, sizeof(ua), "vagent-doctor/%s", vagent_version());
	n = 0;
	st = VAGENT_OK;
	for (size_t i = 0; i < r->n && st == VAGENT_OK; i++) {
		struct vagent_doctor_check *c = &r->checks[i];
		struct probe *p = &probes[n];
		int k = cloud_of(c->name);

		if (!c->url[0] || c->detail[0] || k < 0)
			continue;
		n++;
		p->check = i;
		p->h = curl_easy_init();
		if (!p->h || !probe_headers(p, (enum vagent__cloud)k, b->keys[i])) {
			st = vagent__error_set(err, VAGENT_ENOMEM, WHERE, "out of memory");
			break;
		}
		curl_easy_setopt(p->h, CURLOPT_URL, c->url);
		curl_easy_setopt(p->h, CURLOPT_HTTPHEADER, p->headers);
		curl_easy_setopt(p->h, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(p->h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(p->h, CURLOPT_TIMEOUT_MS, (long)opts->timeout_ms);
		curl_easy_setopt(p->h, CURLOPT_CONNECTTIMEOUT_MS, (long)opts->timeout_ms);
		curl_easy_setopt(p->h, CURLOPT_WRITEFUNCTION, discard_body);
		curl_easy_setopt(p->h, CURLOPT_ERRORBUFFER, p->errbuf);
		curl_easy_setopt(p->h, CURLOPT_USERAGENT, ua);
		curl_easy_setopt(p->h, CURLOPT_PRIVATE, p);
#if LIBCURL_VERSION_NUM >= 0x075500
		curl_easy_setopt(p->h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
		if (curl_multi_add_handle(m, p->h) != CURLM_OK)
			st = vagent__error_set(err, VAGENT_EIO, WHERE, "libcurl cannot start a probe");
	}
	if (st == VAGENT_OK) {
		int running = 1;
		while (running) {
			CURLMcode mc = curl_multi_perform(m, &running);
			if (mc == CURLM_OK && running)
				mc = curl_multi_poll(m, NULL, 0, 1000, NULL);
			if (mc != CURLM_OK) {
				st = vagent__error_set(err, VAGENT_EIO, WHERE, "libcurl: %s",
						       curl_multi_strerror(mc));
				break;
			}
		}
		CURLMsg *msg;
		int left;
		while (st == VAGENT_OK && (msg = curl_multi_info_read(m, &left)) != NULL) {
			struct probe *p = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&p);
			if (p)
				probe_done(p, &r->checks[p->check], b->keys[p->check],
					   msg->data.result, opts->timeout_ms);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (probes[i].h) {
			curl_multi_remove_handle(m, probes[i].h);
			curl_easy_cleanup(probes[i].h);
		}
		curl_slist_free_all(probes[i].headers);
	}
	curl_multi_cleanup(m);
	free(probes);
	return st;
}

/* ---- the run ---- */

vagent_status vagent_doctor_run(const struct vagent_agent *const *agents, size_t n_agents,
				const struct vagent_doctor_options *opts,
				struct vagent_doctor_report **out, struct vagent_error *err)
{
	struct vagent_doctor_options o = opts ? *opts : vagent_doctor_options_default();
	struct builder b = { 0 };
	struct usage use;
	bool cloud = n_agents == 0;
	vagent_status st;

	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, WHERE, "no output for the report");
	*out = NULL;
	if (o.timeout_ms < 1 || o.timeout_ms > 600000)
		return vagent__error_set(err, VAGENT_EINVAL, WHERE,
					 "timeout: must be 1..600000 ms (got %d)", o.timeout_ms);
	if (n_agents > 0 && !agents)
		return vagent__error_set(err, VAGENT_EINVAL, WHERE, "no agents");
	for (size_t i = 0; i < n_agents; i++) {
		if (!agents[i])
			return vagent__error_set(err, VAGENT_EINVAL, WHERE, "agent %zu is NULL", i);
		if (cloud_of(agents[i]->stt.provider) >= 0 || cloud_of(agents[i]->tts.provider) >= 0 ||
		    cloud_of(agents[i]->brain.provider) >= 0)
			cloud = true;
	}
	if (!(b.r = calloc(1, sizeof(*b.r))))
		return vagent__error_set(err, VAGENT_ENOMEM, WHERE, "out of memory");
	collect_usage(agents, n_agents, &use);
	check_sphinx(&b, use.sphinx);
	check_flite(&b, &use);
	check_libraries(&b, cloud);
	check_portaudio(&b);
	if (n_agents == 0)
		add_known(&b, &o);
	for (size_t i = 0; i < n_agents; i++)
		add_agent(&b, agents[i], &o);
	st = b.oom ? vagent__error_set(err, VAGENT_ENOMEM, WHERE, "out of memory")
		   : run_probes(&b, &o, err);
	free(b.keys);
	if (st != VAGENT_OK) {
		vagent_doctor_report_free(b.r);
		return st;
	}
	*out = b.r;
	return VAGENT_OK;
}

void vagent_doctor_report_free(struct vagent_doctor_report *r)
{
	if (!r)
		return;
	free(r->checks);
	free(r);
}

int vagent_doctor_exit_code(const struct vagent_doctor_report *r)
{
	for (size_t i = 0; r && i < r->n; i++)
		if (r->checks[i].verdict == VAGENT_DOCTOR_FAIL)
			return 3;
	return 0;
}

/* ---- output ---- */

static void label(const struct vagent_doctor_check *c, bool with_agent, char *out, size_t size)
{
	if (!strcmp(c->group, "embedded"))
		snprintf(out, size, "%s", c->name);
	else if (with_agent && c->agent[0]) {
		const char *base = strrchr(c->agent, '/');
		snprintf(out, size, "%s %s (%s)", c->slot, c->name, base ? base + 1 : c->agent);
	}
	else if (c->agent[0])
		snprintf(out, size, "%s %s", c->slot, c->name);
	else
		snprintf(out, size, "%s (%s)", c->name, c->slot);
}

vagent_status vagent_doctor_report_text(const struct vagent_doctor_report *r, bool colour,
					char **out, struct vagent_error *err)
{
	static const char *const sgr[] = { "32", "33", "1;31" };
	struct vagent__strbuf s = { 0 };
	bool many_agents = false;
	size_t width = 5, counts[3] = { 0 };
	char name[320];

	if (!r || !out)
		return vagent__error_set(err, VAGENT_EINVAL, WHERE, "no report");
	for (size_t i = 0, first = r->n; i < r->n; i++) {
		if (!r->checks[i].agent[0])
			continue;
		if (first == r->n)
			first = i;
		else if (strcmp(r->checks[i].agent, r->checks[first].agent))
			many_agents = true;
	}
	for (size_t i = 0; i < r->n; i++) {
		label(&r->checks[i], many_agents, name, sizeof(name));
		if (strlen(name) > width)
			width = strlen(name);
	}
	vagent__strbuf_printf(&s, "%-*s  %-4s  %s\n", (int)width, "CHECK", "", "DETAIL");
	for (size_t i = 0; i < r->n; i++) {
		const struct vagent_doctor_check *c = &r->checks[i];
		const char *v = vagent_doctor_verdict_name(c->verdict);

		counts[c->verdict]++;
		label(c, many_agents, name, sizeof(name));
		vagent__strbuf_printf(&s, "%-*s  ", (int)width, name);
		if (colour)
			vagent__strbuf_printf(&s, "\033[%sm%-4s\033[0m", sgr[c->verdict], v);
		else
			vagent__strbuf_printf(&s, "%-4s", v);
		vagent__strbuf_printf(&s, "  %s", c->detail);
		if (c->url[0] && c->probe != VAGENT_DOCTOR_NOT_PROBED)
			vagent__strbuf_printf(&s, " [GET %s]", c->url);
		vagent__strbuf_puts(&s, "\n");
	}
	vagent__strbuf_printf(&s, "doctor: %zu checks: %zu ok, %zu note%s, %zu failed\n", r->n,
			      counts[VAGENT_DOCTOR_OK], counts[VAGENT_DOCTOR_NOTE],
			      counts[VAGENT_DOCTOR_NOTE] == 1 ? "" : "s", counts[VAGENT_DOCTOR_FAIL]);
	if (!(*out = vagent__strbuf_detach(&s)))
		return vagent__error_set(err, VAGENT_ENOMEM, WHERE, "out of memory");
	return VAGENT_OK;
}

vagent_status vagent_doctor_report_json(const struct vagent_doctor_report *r, char **out,
					struct vagent_error *err)
{
	cJSON *root, *summary, *list;
	size_t counts[3] = { 0 };
	bool ok = true;

	if (!r || !out)
		return vagent__error_set(err, VAGENT_EINVAL, WHERE, "no report");
	*out = NULL;
	root = cJSON_CreateObject();
	ok = root && cJSON_AddStringToObject(root, "vagent", vagent_version()) &&
	     cJSON_AddNumberToObject(root, "exit_code", vagent_doctor_exit_code(r));
	summary = ok ? cJSON_AddObjectToObject(root, "summary") : NULL;
	list = ok ? cJSON_AddArrayToObject(root, "checks") : NULL;
	ok = summary && list;
	for (size_t i = 0; ok && i < r->n; i++) {
		const struct vagent_doctor_check *c = &r->checks[i];
		cJSON *o = cJSON_CreateObject();

		counts[c->verdict]++;
		ok = o && cJSON_AddItemToArray(list, o);
		if (!ok) {
			cJSON_Delete(o);
			break;
		}
		ok = cJSON_AddStringToObject(o, "group", c->group) &&
		     cJSON_AddStringToObject(o, "name", c->name) &&
		     cJSON_AddStringToObject(o, "verdict", vagent_doctor_verdict_name(c->verdict)) &&
		     cJSON_AddBoolToObject(o, "required", c->required) &&
		     cJSON_AddStringToObject(o, "detail", c->detail);
		if (!ok || strcmp(c->group, "provider"))
			continue;
		ok = cJSON_AddStringToObject(o, "slot", c->slot) &&
		     (c->agent[0] ? cJSON_AddStringToObject(o, "agent", c->agent)
				  : cJSON_AddNullToObject(o, "agent")) != NULL;
		if (!ok || cloud_of(c->name) < 0)
			continue;
		ok = (c->key_env[0] ? cJSON_AddStringToObject(o, "key_env", c->key_env)
				    : cJSON_AddNullToObject(o, "key_env")) &&
		     (c->key_set < 0 ? cJSON_AddNullToObject(o, "key_set")
				     : cJSON_AddBoolToObject(o, "key_set", c->key_set == 1)) &&
		     (c->url[0] ? cJSON_AddStringToObject(o, "url", c->url)
				: cJSON_AddNullToObject(o, "url")) &&
		     cJSON_AddStringToObject(o, "probe", vagent_doctor_probe_name(c->probe)) &&
		     (c->http_status ? cJSON_AddNumberToObject(o, "http_status", c->http_status)
				     : cJSON_AddNullToObject(o, "http_status")) &&
		     (c->latency_ms >= 0 ? cJSON_AddNumberToObject(o, "latency_ms",
								   (double)(long)(c->latency_ms * 10 + 0.5) / 10)
					 : cJSON_AddNullToObject(o, "latency_ms"));
	}
	ok = ok && cJSON_AddNumberToObject(summary, "checks", (double)r->n) &&
	     cJSON_AddNumberToObject(summary, "ok", (double)counts[VAGENT_DOCTOR_OK]) &&
	     cJSON_AddNumberToObject(summary, "note", (double)counts[VAGENT_DOCTOR_NOTE]) &&
	     cJSON_AddNumberToObject(summary, "fail", (double)counts[VAGENT_DOCTOR_FAIL]);
	if (ok)
		*out = cJSON_Print(root);
	cJSON_Delete(root);
	if (!*out)
		return vagent__error_set(err, VAGENT_ENOMEM, WHERE, "out of memory");
	return VAGENT_OK;
}
