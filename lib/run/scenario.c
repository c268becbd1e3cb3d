/*
 * scenario.c — scenario files, first version (docs/scenario.md): one
 * simulated call — the agent under test, the caller's voice and telephone
 * leg, and a script of steps. Parsed with cJSON and validated strictly;
 * every problem is one line "FILE:LINE: field: problem" (lines from the
 * agent file's locator). Expectations and faults come with the scenarios
 * issue.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "agent/agent_int.h"
#include "run/run_int.h"

#define MAX_SCENARIO_BYTES (4u << 20)
#define MAX_STEPS 256

struct sctx {
	const char *file;
	const char *text;
	size_t len;
	vagent_status status;          /* the first problem's */
	char msg[sizeof(((struct vagent_error *)0)->message)];
	struct vagent_diags *diags;    /* every problem, or NULL */
};

static void fail(struct sctx *c, vagent_status st, const char *path,
		 const char *fmt, ...) VAGENT__PRINTF(4, 5);

/* Report a problem at JSON path `path` ("" for the document); parsing
 * goes on, so that every problem is found. */
static void fail(struct sctx *c, vagent_status st, const char *path,
		 const char *fmt, ...)
{
	char m[380], line[sizeof(c->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	if (st == VAGENT_ENOMEM)
		snprintf(line, sizeof(line), "%s: %s", c->file, m);
	else if (*path)
		snprintf(line, sizeof(line), "%s:%d: %s: %s", c->file,
			 vagent__json_line(c->text, c->len, path), path, m);
	else
		snprintf(line, sizeof(line), "%s:%d: %s", c->file,
			 vagent__json_line(c->text, c->len, path), m);
	vagent_diags_add(c->diags, "%s", line);
	if (c->status != VAGENT_OK)
		return;
	c->status = st;
	snprintf(c->msg, sizeof(c->msg), "%s", line);
}

static bool known_keys(struct sctx *c, const cJSON *o, const char *path,
		       const char *const *keys)
{
	const cJSON *it;
	bool ok = true;

	cJSON_ArrayForEach(it, o) {
		const char *const *k;
		char p[160];

		for (k = keys; *k && strcmp(*k, it->string); k++)
			;
		if (!*k) {
			snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "",
				 it->string);
			fail(c, VAGENT_EINVAL, p, "unknown key \"%s\"", it->string);
			ok = false;
		}
	}
	return ok;
}

/* A number 0..1 at `key` (absent: false, *out untouched). */
static bool get_fraction(struct sctx *c, const cJSON *o, const char *key,
			 const char *path, double *out)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!j)
		return false;
	if (!cJSON_IsNumber(j) || j->valuedouble < 0 || j->valuedouble > 1) {
		fail(c, VAGENT_EINVAL, path, "must be a number 0..1");
		return false;
	}
	*out = j->valuedouble;
	return true;
}

static const char *get_string(struct sctx *c, const cJSON *o, const char *key,
			      const char *path)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!j)
		return NULL;
	if (!cJSON_IsString(j) || !*j->valuestring) {
		fail(c, VAGENT_EINVAL, path, "must be a non-empty string");
		return NULL;
	}
	return j->valuestring;
}

static bool get_int(struct sctx *c, const cJSON *o, const char *key,
		    const char *path, int lo, int hi, int *out)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!j)
		return false;
	if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble) ||
	    j->valuedouble < lo || j->valuedouble > hi) {
		fail(c, VAGENT_EINVAL, path, "must be an integer %d..%d", lo, hi);
		return false;
	}
	*out = (int)j->valuedouble;
	return true;
}

static const char *const anchor_names[] = {
	[VAGENT_ANCHOR_START] = "start",
	[VAGENT_ANCHOR_PREV_END] = "previous",
	[VAGENT_ANCHOR_AGENT_SPEAKING] = "agent_speaking",
	[VAGENT_ANCHOR_AGENT_DONE] = "agent_done",
};

#define ANCHORS "start, previous, agent_speaking, agent_done, silence or a trace event type"

/* "wait_for": an anchor name or trace event type, or an object
 * {"event": TYPE, "match": TEXT} / {"silence_ms": N}. */
static void parse_wait_for(struct sctx *c, const cJSON *w, const char *path,
			   struct vagent_scenario_step *st)
{
	static const char *const keys[] = { "event", "match", "silence_ms", NULL };
	const char *name = NULL;
	char p[128];
	size_t a;

	if (cJSON_IsString(w)) {
		name = w->valuestring;
	} else if (cJSON_IsObject(w)) {
		if (!known_keys(c, w, path, keys))
			return;
		snprintf(p, sizeof(p), "%s.silence_ms", path);
		if (get_int(c, w, "silence_ms", p, 20, 600000, &st->wait_silence_ms)) {
			if (cJSON_GetObjectItemCaseSensitive(w, "event"))
				fail(c, VAGENT_EINVAL, path,
				     "has both event and silence_ms: wait for one thing");
			return;
		}
		snprintf(p, sizeof(p), "%s.event", path);
		if (!(name = get_string(c, w, "event", p))) {
			fail(c, VAGENT_EINVAL, path, "needs \"event\" (a trace event type) "
			     "or \"silence_ms\"");
			return;
		}
		snprintf(p, sizeof(p), "%s.match", path);
		const char *m = get_string(c, w, "match", p);

		if (m)
			st->event_match = strdup(m);
	} else {
		fail(c, VAGENT_EINVAL, path, "must be an anchor name (%s) or an object "
		     "{\"event\": TYPE, \"match\": TEXT} / {\"silence_ms\": N}", ANCHORS);
		return;
	}
	if (!strcmp(name, "silence")) {
		fail(c, VAGENT_EINVAL, path, "say how long: {\"silence_ms\": N}");
		return;
	}
	for (a = 0; a < VAGENT__ARRAY_SIZE(anchor_names); a++)
		if (!strcmp(name, anchor_names[a])) {
			st->anchor = (vagent_sim_anchor)a;
			if (st->event_match)
				fail(c, VAGENT_EINVAL, path, "\"match\" goes with a trace "
				     "event, not with %s", name);
			return;
		}
	if (vagent_trace_type_from_name(name, &st->wait_event) != VAGENT_OK) {
		fail(c, VAGENT_EINVAL, path, "unknown anchor \"%s\" (one of %s, e.g. "
		     "tool.start, filler, escalation)", name, ANCHORS);
		return;
	}
	st->waits_for_event = true;
}

static void parse_step(struct sctx *c, const cJSON *j, size_t i,
		       const char *dir, struct vagent_scenario_step *st)
{
	static const char *const keys[] = { "say", "audio", "dtmf", "tone_ms",
		"gap_ms", "silence_ms", "hangup", "wait_for", "after_ms", NULL };
	char path[64], p[96];
	const char *s;
	const cJSON *w;
	int kinds = 0;

	snprintf(path, sizeof(path), "steps[%zu]", i);
	if (!cJSON_IsObject(j)) {
		fail(c, VAGENT_EINVAL, path, "must be an object");
		return;
	}
	known_keys(c, j, path, keys);
	st->kind = VAGENT_STEP_SAY;
	st->anchor = VAGENT_ANCHOR_AGENT_DONE;
	st->offset_ms = 600;
	st->tone_ms = 100;
	st->gap_ms = 100;
	snprintf(p, sizeof(p), "%s.say", path);
	if ((s = get_string(c, j, "say", p))) {
		st->text = strdup(s);
		kinds++;
	}
	snprintf(p, sizeof(p), "%s.audio", path);
	if ((s = get_string(c, j, "audio", p))) {
		st->audio_path = vagent__path_resolve(dir, s);
		if (!cJSON_GetObjectItemCaseSensitive(j, "say"))
			kinds++;
	}
	snprintf(p, sizeof(p), "%s.dtmf", path);
	if ((s = get_string(c, j, "dtmf", p))) {
		if (strspn(s, "0123456789*#ABCD") != strlen(s) || strlen(s) > 64)
			fail(c, VAGENT_EINVAL, p, "keys are 0-9, *, #, A-D (at most 64)");
		st->dtmf = strdup(s);
		st->anchor = VAGENT_ANCHOR_PREV_END;
		st->offset_ms = 0;
		kinds++;
	}
	snprintf(p, sizeof(p), "%s.tone_ms", path);
	get_int(c, j, "tone_ms", p, 40, 1000, &st->tone_ms);
	snprintf(p, sizeof(p), "%s.gap_ms", path);
	get_int(c, j, "gap_ms", p, 40, 5000, &st->gap_ms);
	if (!st->dtmf && (cJSON_GetObjectItemCaseSensitive(j, "tone_ms") ||
			  cJSON_GetObjectItemCaseSensitive(j, "gap_ms")))
		fail(c, VAGENT_EINVAL, path, "tone_ms and gap_ms go with dtmf");
	snprintf(p, sizeof(p), "%s.silence_ms", path);
	if (get_int(c, j, "silence_ms", p, 1, 600000, &st->duration_ms)) {
		st->kind = VAGENT_STEP_SILENCE;
		st->anchor = VAGENT_ANCHOR_PREV_END;
		st->offset_ms = 0;
		kinds++;
	}
	if (cJSON_GetObjectItemCaseSensitive(j, "hangup")) {
		snprintf(p, sizeof(p), "%s.hangup", path);
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "hangup")))
			fail(c, VAGENT_EINVAL, p, "must be true");
		st->kind = VAGENT_STEP_HANGUP;
		st->anchor = VAGENT_ANCHOR_PREV_END;
		st->offset_ms = 0;
		kinds++;
	}
	w = cJSON_GetObjectItemCaseSensitive(j, "wait_for");
	if (kinds == 0 && w) {
		/* a step that only waits */
		st->wait_only = true;
		st->anchor = VAGENT_ANCHOR_PREV_END;
		st->offset_ms = 0;
		kinds++;
	}
	if (kinds != 1) {
		fail(c, VAGENT_EINVAL, path, kinds ? "has more than one of say/audio, "
		     "dtmf, silence_ms, hangup" : "needs one of say (or audio), dtmf, "
		     "silence_ms, hangup, or only wait_for");
		return;
	}
	if (w) {
		snprintf(p, sizeof(p), "%s.wait_for", path);
		parse_wait_for(c, w, p, st);
	}
	snprintf(p, sizeof(p), "%s.after_ms", path);
	get_int(c, j, "after_ms", p, 0, 600000, &st->offset_ms);
}

/* "faults": {"llm"|"stt"|"tts": [fault...], "network": {...}} */
static void parse_fault_list(struct sctx *c, const cJSON *arr, const char *slot,
			     struct vagent_fault **out, size_t *n_out)
{
	static const char *const keys[] = { "kind", "from_call", "to_call",
		"delay_ms", "after", "http_status", "rate", "text", NULL };
	char path[64], p[96];
	const cJSON *f;
	size_t i = 0, n;

	snprintf(path, sizeof(path), "faults.%s", slot);
	if (!cJSON_IsArray(arr)) {
		fail(c, VAGENT_EINVAL, path, "must be an array of faults");
		return;
	}
	n = (size_t)cJSON_GetArraySize(arr);
	if (n > 64) {
		fail(c, VAGENT_EINVAL, path, "more than 64 faults");
		return;
	}
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out) {
		fail(c, VAGENT_ENOMEM, "", "out of memory");
		return;
	}
	cJSON_ArrayForEach(f, arr) {
		struct vagent_fault *ft = &(*out)[i];
		const char *k;
		char fp[80];
		int kind;

		snprintf(fp, sizeof(fp), "%s[%zu]", path, i);
		i++;
		*n_out = i;
		if (!cJSON_IsObject(f)) {
			fail(c, VAGENT_EINVAL, fp, "must be an object");
			continue;
		}
		known_keys(c, f, fp, keys);
		snprintf(p, sizeof(p), "%s.kind", fp);
		if (!(k = get_string(c, f, "kind", p))) {
			fail(c, VAGENT_EINVAL, p, "missing (one of %s)",
			     vagent_fault_kinds_for(slot));
			continue;
		}
		kind = vagent_fault_kind_from_name(k);
		if (kind <= 0 || !vagent_fault_kind_allowed(slot, (vagent_fault_kind)kind)) {
			fail(c, VAGENT_EINVAL, p, "%s fault kind \"%s\" (one of %s)",
			     kind <= 0 ? "unknown" : "not a", k, vagent_fault_kinds_for(slot));
			continue;
		}
		ft->kind = (vagent_fault_kind)kind;
		ft->from_call = 1;
		snprintf(p, sizeof(p), "%s.from_call", fp);
		get_int(c, f, "from_call", p, 1, 1000000, &ft->from_call);
		snprintf(p, sizeof(p), "%s.to_call", fp);
		get_int(c, f, "to_call", p, 0, 1000000, &ft->to_call);
		if (ft->to_call && ft->to_call < ft->from_call)
			fail(c, VAGENT_EINVAL, p, "is before from_call (0: every later call)");
		snprintf(p, sizeof(p), "%s.delay_ms", fp);
		get_int(c, f, "delay_ms", p, 0, 600000, &ft->delay_ms);
		snprintf(p, sizeof(p), "%s.after", fp);
		get_int(c, f, "after", p, 0, 1000000, &ft->after);
		snprintf(p, sizeof(p), "%s.http_status", fp);
		get_int(c, f, "http_status", p, 100, 599, &ft->http_status);
		snprintf(p, sizeof(p), "%s.rate", fp);
		get_fraction(c, f, "rate", p, &ft->rate);
		snprintf(p, sizeof(p), "%s.text", fp);
		if ((k = get_string(c, f, "text", p)))
			ft->text = strdup(k);
		if ((ft->kind == VAGENT_FAULT_DELAY || ft->kind == VAGENT_FAULT_STALL) &&
		    !ft->delay_ms)
			fail(c, VAGENT_EINVAL, fp, "a %s fault needs delay_ms", k ? k : "delay");
	}
}

static void parse_faults(struct sctx *c, const cJSON *faults,
			 struct vagent_scenario *sc)
{
	static const char *const keys[] = { "llm", "stt", "tts", "network", NULL };
	static const char *const net_keys[] = { "loss", "loss_burst", "jitter_ms",
		"jitter_buffer_ms", NULL };
	const cJSON *it;

	if (!cJSON_IsObject(faults)) {
		fail(c, VAGENT_EINVAL, "faults", "must be an object (llm, stt, tts, "
		     "network; tool faults go in \"tools\")");
		return;
	}
	known_keys(c, faults, "faults", keys);
	if ((it = cJSON_GetObjectItemCaseSensitive(faults, "llm")))
		parse_fault_list(c, it, "llm", &sc->llm_faults, &sc->n_llm_faults);
	if ((it = cJSON_GetObjectItemCaseSensitive(faults, "stt")))
		parse_fault_list(c, it, "stt", &sc->stt_faults, &sc->n_stt_faults);
	if ((it = cJSON_GetObjectItemCaseSensitive(faults, "tts")))
		parse_fault_list(c, it, "tts", &sc->tts_faults, &sc->n_tts_faults);
	if ((it = cJSON_GetObjectItemCaseSensitive(faults, "network"))) {
		if (!cJSON_IsObject(it)) {
			fail(c, VAGENT_EINVAL, "faults.network", "must be an object");
			return;
		}
		known_keys(c, it, "faults.network", net_keys);
		get_fraction(c, it, "loss", "faults.network.loss", &sc->loss);
		if (sc->loss > 0.5)
			fail(c, VAGENT_EINVAL, "faults.network.loss",
			     "above 0.5 no call is understandable; use 0..0.5");
		if (cJSON_GetObjectItemCaseSensitive(it, "loss_burst")) {
			const cJSON *b = cJSON_GetObjectItemCaseSensitive(it, "loss_burst");

			if (!cJSON_IsNumber(b) || b->valuedouble < 1 || b->valuedouble > 50)
				fail(c, VAGENT_EINVAL, "faults.network.loss_burst",
				     "must be a number 1..50 (mean packets per loss burst)");
			else
				sc->loss_burst = b->valuedouble;
		}
		get_int(c, it, "jitter_ms", "faults.network.jitter_ms", 0, 2000,
			&sc->jitter_ms);
		get_int(c, it, "jitter_buffer_ms", "faults.network.jitter_buffer_ms", 20,
			2000, &sc->jitter_buffer_ms);
	}
}

static void parse_caller(struct sctx *c, const cJSON *caller, const char *dir,
			 struct vagent_scenario *sc)
{
	static const char *const caller_keys[] = { "voice", "rate", "codec",
		"opus_bitrate", "noise", "hangup_after_ms", NULL };
	static const char *const noise_keys[] = { "file", "snr_db", NULL };
	const cJSON *noise;
	const char *s;

	if (!cJSON_IsObject(caller)) {
		fail(c, VAGENT_EINVAL, "caller", "must be an object");
		return;
	}
	known_keys(c, caller, "caller", caller_keys);
	if ((s = get_string(c, caller, "voice", "caller.voice"))) {
		const char *const *v;

		for (v = vagent_flite_voices(); *v && strcmp(*v, s); v++)
			;
		if (!*v && strcmp(s, "speechlike"))
			fail(c, VAGENT_EINVAL, "caller.voice",
			     "unknown voice \"%s\" (one of rms, awb, kal16, slt, "
			     "speechlike)", s);
		free(sc->voice);
		sc->voice = strdup(s);
	}
	get_int(c, caller, "rate", "caller.rate", 8000, 16000, &sc->rate);
	if (sc->rate && sc->rate != 8000 && sc->rate != 16000)
		fail(c, VAGENT_EINVAL, "caller.rate", "must be 8000 or 16000");
	if ((s = get_string(c, caller, "codec", "caller.codec"))) {
		if (!strcmp(s, "pcm16"))
			sc->codec = VAGENT_ENC_PCM16;
		else if (!strcmp(s, "ulaw"))
			sc->codec = VAGENT_ENC_ULAW;
		else if (!strcmp(s, "alaw"))
			sc->codec = VAGENT_ENC_ALAW;
		else if (!strcmp(s, "opus"))
			sc->codec = VAGENT_ENC_OPUS;
		else
			fail(c, VAGENT_EINVAL, "caller.codec",
			     "unknown codec \"%s\" (one of pcm16, ulaw, alaw, opus)", s);
	}
	if (get_int(c, caller, "opus_bitrate", "caller.opus_bitrate", 6000, 128000,
		    &sc->opus_bitrate) && sc->codec != VAGENT_ENC_OPUS)
		fail(c, VAGENT_EINVAL, "caller.opus_bitrate", "goes with \"codec\": \"opus\"");
	get_int(c, caller, "hangup_after_ms", "caller.hangup_after_ms", 0,
		600000, &sc->hangup_after_ms);
	if ((noise = cJSON_GetObjectItemCaseSensitive(caller, "noise"))) {
		if (!cJSON_IsObject(noise)) {
			fail(c, VAGENT_EINVAL, "caller.noise",
			     "must be an object {\"file\": PATH, \"snr_db\": N}");
			return;
		}
		known_keys(c, noise, "caller.noise", noise_keys);
		if (!(s = get_string(c, noise, "file", "caller.noise.file")))
			fail(c, VAGENT_EINVAL, "caller.noise.file",
			     "missing: the noise recording");
		else
			sc->noise_path = vagent__path_resolve(dir, s);
		const cJSON *snr = cJSON_GetObjectItemCaseSensitive(noise, "snr_db");

		if (!snr)
			fail(c, VAGENT_EINVAL, "caller.noise.snr_db",
			     "missing: the speech-to-noise ratio in dB");
		else if (!cJSON_IsNumber(snr) || snr->valuedouble < -10 ||
			 snr->valuedouble > 60)
			fail(c, VAGENT_EINVAL, "caller.noise.snr_db",
			     "must be a number -10..60 (dB)");
		else
			sc->snr_db = snr->valuedouble;
	}
}

static void service_problem(void *ctx, const char *path, const char *msg)
{
	fail(ctx, strstr(msg, "out of memory") ? VAGENT_ENOMEM : VAGENT_EINVAL, path,
	     "%s", msg);
}

static void parse(struct sctx *c, const cJSON *root, const char *dir,
		  struct vagent_scenario *sc)
{
	static const char *const keys[] = { "name", "description", "agent",
		"caller", "steps", "tools", "services", "faults", "expectations",
		"seed", "max_call_ms", NULL };
	const cJSON *caller, *steps, *it;
	const char *s;
	size_t i = 0;
	int seed;

	if (!cJSON_IsObject(root)) {
		fail(c, VAGENT_EINVAL, "", "a scenario is a JSON object");
		return;
	}
	known_keys(c, root, "", keys);
	if ((s = get_string(c, root, "name", "name"))) {
		/* it names the call's files in --out */
		if (strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, "..") ||
		    strlen(s) > 128 || strpbrk(s, "\n\r\t"))
			fail(c, VAGENT_EINVAL, "name", "must be at most 128 characters, "
			     "without '/' or control characters, and not . or ..");
		else
			sc->name = strdup(s);
	}
	if ((s = get_string(c, root, "description", "description")))
		sc->description = strdup(s);
	if (!(s = get_string(c, root, "agent", "agent")))
		fail(c, VAGENT_EINVAL, "agent", "missing: the agent file to test");
	else
		sc->agent_path = vagent__path_resolve(dir, s);
	if (get_int(c, root, "seed", "seed", 0, INT_MAX, &seed))
		sc->seed = (uint64_t)seed;
	get_int(c, root, "max_call_ms", "max_call_ms", 1000, 3600000, &sc->max_call_ms);

	it = cJSON_GetObjectItemCaseSensitive(root, "tools");
	if (it && !cJSON_IsObject(it))
		fail(c, VAGENT_EINVAL, "tools", "must be an object (tool name: mock)");
	sc->has_tools = it && cJSON_IsObject(it);

	if ((it = cJSON_GetObjectItemCaseSensitive(root, "services")))
		vagent__services_parse(it, dir, &sc->services, &sc->n_services,
				       service_problem, c);
	if ((caller = cJSON_GetObjectItemCaseSensitive(root, "caller")))
		parse_caller(c, caller, dir, sc);
	if ((sc->codec == VAGENT_ENC_ULAW || sc->codec == VAGENT_ENC_ALAW) &&
	    sc->rate != 8000)
		fail(c, VAGENT_EINVAL, "caller.codec", "G.711 needs \"rate\": 8000");
	if ((it = cJSON_GetObjectItemCaseSensitive(root, "faults")))
		parse_faults(c, it, sc);
	if ((it = cJSON_GetObjectItemCaseSensitive(root, "expectations")) &&
	    !cJSON_IsArray(it))
		fail(c, VAGENT_EINVAL, "expectations", "must be an array");

	steps = cJSON_GetObjectItemCaseSensitive(root, "steps");
	if (!cJSON_IsArray(steps) || !cJSON_GetArraySize(steps)) {
		fail(c, VAGENT_EINVAL, "steps", steps ? "must be a non-empty array" :
		     "missing: the caller's script");
		return;
	}
	if (cJSON_GetArraySize(steps) > MAX_STEPS) {
		fail(c, VAGENT_EINVAL, "steps", "more than %d steps", MAX_STEPS);
		return;
	}
	sc->steps = calloc((size_t)cJSON_GetArraySize(steps), sizeof(*sc->steps));
	if (!sc->steps) {
		fail(c, VAGENT_ENOMEM, "", "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, steps) {
		parse_step(c, it, i, dir, &sc->steps[i]);
		i++;
		sc->n_steps = i;
	}
}

static char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	char *n = strdup(b ? b + 1 : path), *dot;

	if (n && (dot = strrchr(n, '.')) && dot != n)
		*dot = '\0';
	return n;
}

vagent_status vagent__scenario_parse(const char *text, size_t len,
				     const char *name, const char *base_dir,
				     struct vagent_scenario **out,
				     struct vagent_diags *diags,
				     struct vagent_error *err)
{
	struct sctx c = { .file = name ? name : "scenario", .text = text, .len = len,
			  .diags = diags };
	struct vagent_scenario *sc;
	cJSON *root;

	*out = NULL;
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return vagent__error_set(err, VAGENT_ENOMEM, c.file, "out of memory");
	sc->path = strdup(c.file);
	sc->voice = strdup("rms");
	sc->codec = VAGENT_ENC_PCM16;
	sc->seed = 1;
	sc->max_call_ms = 300000;
	sc->hangup_after_ms = 1500;
	sc->loss_burst = 1.0;
	sc->jitter_buffer_ms = 60;
	root = cJSON_ParseWithLength(text, len);
	if (!root) {
		const char *at = cJSON_GetErrorPtr();
		int line = 1;

		for (const char *p = text; at && p < at && p < text + len; p++)
			line += *p == '\n';
		vagent_scenario_free(sc);
		vagent_diags_add(diags, "%s:%d: not valid JSON", c.file, line);
		return vagent__error_set(err, VAGENT_EFORMAT, NULL,
					 "%s:%d: not valid JSON", c.file, line);
	}
	parse(&c, root, base_dir, sc);
	cJSON_Delete(root);
	{
		struct vagent_error xerr;
		vagent_status xst = vagent_expectations_parse(text, len, c.file,
							      "expectations",
							      &sc->expectations,
							      diags, &xerr);

		if (xst != VAGENT_OK && c.status == VAGENT_OK) {
			c.status = xst;
			snprintf(c.msg, sizeof(c.msg), "%s", xerr.message);
		}
	}
	if (c.status == VAGENT_OK && (!sc->path || !sc->voice || !sc->agent_path))
		c.status = VAGENT_ENOMEM;
	if (c.status != VAGENT_OK) {
		vagent_scenario_free(sc);
		if (c.status == VAGENT_ENOMEM && !c.msg[0])
			snprintf(c.msg, sizeof(c.msg), "%s: out of memory", c.file);
		return vagent__error_set(err, c.status, NULL, "%s", c.msg);
	}
	if (!sc->name)
		sc->name = base_name(c.file);
	sc->text = malloc(len + 1);
	if (!sc->name || !sc->text) {
		vagent_scenario_free(sc);
		return vagent__error_set(err, VAGENT_ENOMEM, c.file, "out of memory");
	}
	memcpy(sc->text, text, len);
	sc->text[len] = '\0';
	sc->text_len = len;
	*out = sc;
	return VAGENT_OK;
}

vagent_status vagent_scenario_parse(const char *text, size_t len,
				    const char *name, const char *base_dir,
				    struct vagent_scenario **out,
				    struct vagent_error *err)
{
	return vagent__scenario_parse(text, len, name, base_dir, out, NULL, err);
}

vagent_status vagent__scenario_load(const char *path, struct vagent_scenario **out,
				    struct vagent_diags *diags, struct vagent_error *err)
{
	char *text, *dir_copy;
	size_t got;
	vagent_status st;

	*out = NULL;
	st = vagent__read_file(path, MAX_SCENARIO_BYTES, &text, &got, err);
	if (st != VAGENT_OK) {
		vagent_diags_add(diags, "%s", err ? err->message : path);
		return st;
	}
	dir_copy = strdup(path);
	if (!dir_copy) {
		free(text);
		return vagent__error_set(err, VAGENT_ENOMEM, path, "out of memory");
	}
	st = vagent__scenario_parse(text, got, path, dirname(dir_copy), out, diags, err);
	free(dir_copy);
	free(text);
	return st;
}

vagent_status vagent_scenario_load(const char *path, struct vagent_scenario **out,
				   struct vagent_error *err)
{
	return vagent__scenario_load(path, out, NULL, err);
}

static void free_faults(struct vagent_fault *f, size_t n)
{
	for (size_t i = 0; f && i < n; i++)
		free((char *)f[i].text);
	free(f);
}

void vagent_scenario_free(struct vagent_scenario *sc)
{
	size_t i;

	if (!sc)
		return;
	for (i = 0; i < sc->n_steps; i++) {
		free(sc->steps[i].text);
		free(sc->steps[i].audio_path);
		free(sc->steps[i].dtmf);
		free(sc->steps[i].event_match);
	}
	free_faults(sc->llm_faults, sc->n_llm_faults);
	free_faults(sc->stt_faults, sc->n_stt_faults);
	free_faults(sc->tts_faults, sc->n_tts_faults);
	free(sc->noise_path);
	free(sc->description);
	vagent__services_free(sc->services, sc->n_services);
	vagent_expectations_free(sc->expectations);
	free(sc->steps);
	free(sc->name);
	free(sc->path);
	free(sc->agent_path);
	free(sc->voice);
	free(sc->text);
	free(sc);
}
