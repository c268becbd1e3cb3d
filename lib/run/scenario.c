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
	vagent_status status;
	char msg[sizeof(((struct vagent_error *)0)->message)];
};

static void fail(struct sctx *c, vagent_status st, const char *path,
		 const char *fmt, ...) VAGENT__PRINTF(4, 5);

static void fail(struct sctx *c, vagent_status st, const char *path,
		 const char *fmt, ...)
{
	char m[380];
	va_list ap;

	if (c->status != VAGENT_OK)
		return;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	c->status = st;
	if (*path)
		snprintf(c->msg, sizeof(c->msg), "%s:%d: %s: %s", c->file,
			 vagent__json_line(c->text, c->len, path), path, m);
	else
		snprintf(c->msg, sizeof(c->msg), "%s:%d: %s", c->file,
			 vagent__json_line(c->text, c->len, path), m);
}

static bool known_keys(struct sctx *c, const cJSON *o, const char *path,
		       const char *const *keys)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, o) {
		const char *const *k;
		char p[160];

		for (k = keys; *k && strcmp(*k, it->string); k++)
			;
		if (!*k) {
			snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "",
				 it->string);
			fail(c, VAGENT_EINVAL, p, "unknown key \"%s\"", it->string);
			return false;
		}
	}
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

/* `rel` resolved against the scenario's directory (transfer full). */
static char *resolve(const char *dir, const char *rel)
{
	size_t n;
	char *p;

	if (rel[0] == '/' || !dir || !*dir || !strcmp(dir, "."))
		return strdup(rel);
	n = strlen(dir) + strlen(rel) + 2;
	p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, rel);
	return p;
}

static const char *const anchor_names[] = {
	[VAGENT_ANCHOR_START] = "start",
	[VAGENT_ANCHOR_PREV_END] = "previous",
	[VAGENT_ANCHOR_AGENT_SPEAKING] = "agent_speaking",
	[VAGENT_ANCHOR_AGENT_DONE] = "agent_done",
};

static void parse_step(struct sctx *c, const cJSON *j, size_t i,
		       const char *dir, struct vagent_scenario_step *st)
{
	static const char *const keys[] = { "say", "audio", "silence_ms",
		"hangup", "after", "offset_ms", NULL };
	char path[64], p[96];
	const char *s;
	int kinds = 0;

	snprintf(path, sizeof(path), "steps[%zu]", i);
	if (!cJSON_IsObject(j)) {
		fail(c, VAGENT_EINVAL, path, "must be an object");
		return;
	}
	if (!known_keys(c, j, path, keys))
		return;
	st->anchor = VAGENT_ANCHOR_AGENT_DONE;
	st->offset_ms = 600;
	snprintf(p, sizeof(p), "%s.say", path);
	if ((s = get_string(c, j, "say", p))) {
		st->kind = VAGENT_STEP_SAY;
		st->text = strdup(s);
		kinds++;
	}
	snprintf(p, sizeof(p), "%s.audio", path);
	if ((s = get_string(c, j, "audio", p))) {
		st->kind = VAGENT_STEP_SAY;
		st->audio_path = resolve(dir, s);
		if (!cJSON_GetObjectItemCaseSensitive(j, "say"))
			kinds++;
	}
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
	if (c->status != VAGENT_OK)
		return;
	if (kinds != 1) {
		fail(c, VAGENT_EINVAL, path, kinds ? "has more than one of say/audio, "
		     "silence_ms, hangup" : "needs one of say (or audio), silence_ms, hangup");
		return;
	}
	snprintf(p, sizeof(p), "%s.after", path);
	if ((s = get_string(c, j, "after", p))) {
		size_t a;

		for (a = 0; a < VAGENT__ARRAY_SIZE(anchor_names); a++)
			if (!strcmp(s, anchor_names[a]))
				break;
		if (a == VAGENT__ARRAY_SIZE(anchor_names)) {
			fail(c, VAGENT_EINVAL, p, "unknown anchor \"%s\" (one of start, "
			     "previous, agent_speaking, agent_done)", s);
			return;
		}
		st->anchor = (vagent_sim_anchor)a;
	}
	snprintf(p, sizeof(p), "%s.offset_ms", path);
	get_int(c, j, "offset_ms", p, 0, 600000, &st->offset_ms);
}

static void parse(struct sctx *c, const cJSON *root, const char *dir,
		  struct vagent_scenario *sc)
{
	static const char *const keys[] = { "name", "description", "agent",
		"caller", "steps", "tools", "seed", "max_call_ms", NULL };
	static const char *const caller_keys[] = { "voice", "rate", "codec",
		"hangup_after_ms", NULL };
	const cJSON *caller, *steps, *it;
	const char *s;
	size_t i = 0;
	int seed;

	if (!cJSON_IsObject(root)) {
		fail(c, VAGENT_EINVAL, "", "a scenario is a JSON object");
		return;
	}
	if (!known_keys(c, root, "", keys))
		return;
	if ((s = get_string(c, root, "name", "name"))) {
		/* it names the call's files in --out */
		if (strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, "..") ||
		    strlen(s) > 128 || strpbrk(s, "\n\r\t")) {
			fail(c, VAGENT_EINVAL, "name", "must be at most 128 characters, "
			     "without '/' or control characters, and not . or ..");
			return;
		}
		sc->name = strdup(s);
	}
	if (!(s = get_string(c, root, "agent", "agent"))) {
		fail(c, VAGENT_EINVAL, "agent", "missing: the agent file to test");
		return;
	}
	sc->agent_path = resolve(dir, s);
	if (get_int(c, root, "seed", "seed", 0, INT_MAX, &seed))
		sc->seed = (uint64_t)seed;
	get_int(c, root, "max_call_ms", "max_call_ms", 1000, 3600000, &sc->max_call_ms);

	it = cJSON_GetObjectItemCaseSensitive(root, "tools");
	if (it && !cJSON_IsObject(it)) {
		fail(c, VAGENT_EINVAL, "tools", "must be an object (tool name: mock)");
		return;
	}
	sc->has_tools = it != NULL;

	caller = cJSON_GetObjectItemCaseSensitive(root, "caller");
	if (caller) {
		if (!cJSON_IsObject(caller)) {
			fail(c, VAGENT_EINVAL, "caller", "must be an object");
			return;
		}
		if (!known_keys(c, caller, "caller", caller_keys))
			return;
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
			else
				fail(c, VAGENT_EINVAL, "caller.codec",
				     "unknown codec \"%s\" (one of pcm16, ulaw, alaw)", s);
		}
		get_int(c, caller, "hangup_after_ms", "caller.hangup_after_ms", 0,
			600000, &sc->hangup_after_ms);
	}
	if (sc->codec != VAGENT_ENC_PCM16 && sc->rate != 8000)
		fail(c, VAGENT_EINVAL, "caller.codec", "G.711 needs \"rate\": 8000");

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
		c->status = VAGENT_ENOMEM;
		snprintf(c->msg, sizeof(c->msg), "%s: out of memory", c->file);
		return;
	}
	cJSON_ArrayForEach(it, steps) {
		parse_step(c, it, i, dir, &sc->steps[i]);
		i++;
		sc->n_steps = i;
		if (c->status != VAGENT_OK)
			return;
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

vagent_status vagent_scenario_parse(const char *text, size_t len,
				    const char *name, const char *base_dir,
				    struct vagent_scenario **out,
				    struct vagent_error *err)
{
	struct sctx c = { .file = name ? name : "scenario", .text = text, .len = len };
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
	root = cJSON_ParseWithLength(text, len);
	if (!root) {
		const char *at = cJSON_GetErrorPtr();
		int line = 1;

		for (const char *p = text; at && p < at && p < text + len; p++)
			line += *p == '\n';
		vagent_scenario_free(sc);
		return vagent__error_set(err, VAGENT_EFORMAT, NULL,
					 "%s:%d: not valid JSON", c.file, line);
	}
	parse(&c, root, base_dir, sc);
	cJSON_Delete(root);
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

vagent_status vagent_scenario_load(const char *path, struct vagent_scenario **out,
				   struct vagent_error *err)
{
	char *text, *dir_copy;
	size_t got;
	vagent_status st;

	*out = NULL;
	st = vagent__read_file(path, MAX_SCENARIO_BYTES, &text, &got, err);
	if (st != VAGENT_OK)
		return st;
	dir_copy = strdup(path);
	if (!dir_copy) {
		free(text);
		return vagent__error_set(err, VAGENT_ENOMEM, path, "out of memory");
	}
	st = vagent_scenario_parse(text, got, path, dirname(dir_copy), out, err);
	free(dir_copy);
	free(text);
	return st;
}

void vagent_scenario_free(struct vagent_scenario *sc)
{
	size_t i;

	if (!sc)
		return;
	for (i = 0; i < sc->n_steps; i++) {
		free(sc->steps[i].text);
		free(sc->steps[i].audio_path);
	}
	free(sc->steps);
	free(sc->name);
	free(sc->path);
	free(sc->agent_path);
	free(sc->voice);
	free(sc->text);
	free(sc);
}
