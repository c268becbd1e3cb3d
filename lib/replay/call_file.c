/*
 * call_file.c — recorded call folders (docs/call.md): call.json (turns
 * with golden text, tool calls, expectations) and the audio, one stereo
 * file or one file per side. Validated strictly; every problem is one
 * line "FILE:LINE: field: problem" in a struct vagent_diags.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "agent/agent_int.h"
#include "replay/replay_int.h"
#include "run/run_int.h"

#define MAX_CALL_BYTES (4u << 20)
#define MAX_TURN_MS (24 * 3600 * 1000)

struct lctx {
	const char *file;
	const char *text;
	size_t len;
	struct vagent_diags *diags;
	struct vagent_error *err;
	vagent_status status;
};

const char *vagent__speaker_name(vagent_call_speaker s)
{
	return s == VAGENT_SPEAKER_AGENT ? "agent" : "caller";
}

static void problem(struct lctx *c, vagent_status st, const char *path,
		    const char *fmt, ...) VAGENT__PRINTF(4, 5);

static void problem(struct lctx *c, vagent_status st, const char *path,
		    const char *fmt, ...)
{
	char m[400], line[sizeof(((struct vagent_error *)0)->message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	if (*path)
		snprintf(line, sizeof(line), "%s:%d: %s: %s", c->file,
			 vagent__json_line(c->text, c->len, path), path, m);
	else
		snprintf(line, sizeof(line), "%s:%d: %s", c->file,
			 vagent__json_line(c->text, c->len, path), m);
	vagent_diags_add(c->diags, "%s", line);
	if (c->status == VAGENT_OK) {
		c->status = st;
		vagent__error_set(c->err, st, NULL, "%s", line);
	}
}

static void known_keys(struct lctx *c, const cJSON *o, const char *path,
		       const char *const *keys)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, o) {
		const char *const *k;
		char p[160];

		for (k = keys; *k && strcmp(*k, it->string); k++)
			;
		if (!*k) {
			snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", it->string);
			problem(c, VAGENT_EINVAL, p, "unknown key \"%s\"", it->string);
		}
	}
}

/* A string member: NULL when absent or wrong (reported). */
static const char *get_string(struct lctx *c, const cJSON *o, const char *key,
			      const char *path, bool may_be_empty)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!j)
		return NULL;
	if (!cJSON_IsString(j) || (!may_be_empty && !*j->valuestring)) {
		problem(c, VAGENT_EINVAL, path, may_be_empty ? "must be a string" :
			"must be a non-empty string");
		return NULL;
	}
	return j->valuestring;
}

/* An integer member in lo..hi: false when absent or wrong (reported). */
static bool get_int(struct lctx *c, const cJSON *o, const char *key,
		    const char *path, int64_t lo, int64_t hi, int64_t *out)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!j)
		return false;
	if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble) ||
	    j->valuedouble < (double)lo || j->valuedouble > (double)hi) {
		problem(c, VAGENT_EINVAL, path, "must be an integer %lld..%lld",
			(long long)lo, (long long)hi);
		return false;
	}
	*out = (int64_t)j->valuedouble;
	return true;
}

/* Drop "NAME/.." pairs from `p` in place, lexically ("a/b/../../c" ->
 * "c"), so paths read as the user would write them. */
static void drop_dot_dots(char *p)
{
	bool again = true;

	while (again) {
		char *seg = p;

		again = false;
		while (*seg) {
			char *end = strchr(seg, '/');
			size_t n = end ? (size_t)(end - seg) : strlen(seg);

			if (end && n && !(n == 2 && !strncmp(seg, "..", 2)) &&
			    !(n == 1 && seg[0] == '.') && !strncmp(end + 1, "..", 2) &&
			    (end[3] == '/' || end[3] == '\0')) {
				/* seg is NAME, followed by ".." */
				char *rest = end[3] ? end + 4 : end + 3;

				memmove(seg, rest, strlen(rest) + 1);
				again = true;
				break;
			}
			if (!end)
				break;
			seg = end + 1;
		}
	}
	if (!*p)
		strcpy(p, ".");
}

/* `rel` against `dir` (transfer full). */
static char *resolve(const char *dir, const char *rel)
{
	size_t n;
	char *p;

	if (rel[0] == '/' || !*dir || !strcmp(dir, "."))
		return strdup(rel);
	n = strlen(dir) + strlen(rel) + 2;
	p = malloc(n);
	if (p) {
		snprintf(p, n, "%s/%s", dir, rel);
		drop_dot_dots(p);
	}
	return p;
}

static int64_t duration_ms(const struct vagent_audio *a)
{
	/* the last sample's end, rounded up to the millisecond */
	return (int64_t)((a->frames * 1000 + (size_t)a->rate - 1) / (size_t)a->rate);
}

/* Load one audio file of the call into *out, mixed to mono when `mono`;
 * problems at `field`. */
static void load_audio(struct lctx *c, const char *dir, const char *rel,
		       const char *field, bool mono, struct vagent_audio **out)
{
	struct vagent_error e;
	char *path = resolve(dir, rel);
	vagent_status st;

	if (!path) {
		problem(c, VAGENT_ENOMEM, field, "out of memory");
		return;
	}
	st = vagent_audio_load(path, VAGENT_CHANNELS_ALL, out, &e);
	if (st != VAGENT_OK) {
		problem(c, st == VAGENT_ENOMEM || st == VAGENT_EIO ? st : VAGENT_EINVAL,
			field, "%s", e.message);
	} else if ((*out)->frames == 0) {
		problem(c, VAGENT_EINVAL, field, "%s: the audio is empty", path);
		vagent_audio_free(*out);
		*out = NULL;
	} else if (mono && (*out)->channels != 1) {
		/* a stereo file given for one side: its mix */
		struct vagent_audio *m = NULL;

		if (vagent_audio_select(*out, VAGENT_CHANNELS_MIX, &m, &e) != VAGENT_OK) {
			problem(c, VAGENT_ENOMEM, field, "%s", e.message);
		}
		vagent_audio_free(*out);
		*out = m;
	}
	free(path);
}

static void parse_audio(struct lctx *c, const cJSON *root, struct vagent_recorded_call *rc)
{
	static const char *const keys[] = { "file", "caller_channel", "caller", "agent", NULL };
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "audio");
	const char *file, *side, *caller, *agent;

	if (!a) {
		problem(c, VAGENT_EINVAL, "audio", "missing: the call's audio (\"file\": a "
			"stereo file, or \"caller\" and \"agent\" files)");
		return;
	}
	if (!cJSON_IsObject(a)) {
		problem(c, VAGENT_EINVAL, "audio", "must be an object");
		return;
	}
	known_keys(c, a, "audio", keys);
	file = get_string(c, a, "file", "audio.file", false);
	side = get_string(c, a, "caller_channel", "audio.caller_channel", false);
	caller = get_string(c, a, "caller", "audio.caller", false);
	agent = get_string(c, a, "agent", "audio.agent", false);
	if (side && strcmp(side, "left") && strcmp(side, "right")) {
		problem(c, VAGENT_EINVAL, "audio.caller_channel",
			"\"%s\" is not left or right", side);
		side = NULL;
	}
	if (file && (caller || agent)) {
		problem(c, VAGENT_EINVAL, "audio", "has both \"file\" (one stereo file) and "
			"\"caller\"/\"agent\" (one file per side)");
		return;
	}
	if (side && !file)
		problem(c, VAGENT_EINVAL, "audio.caller_channel",
			"only with \"file\" (one stereo file)");
	if (agent && !caller) {
		problem(c, VAGENT_EINVAL, "audio", "\"agent\" without \"caller\": the caller "
			"side is what is replayed");
		return;
	}
	if (file) {
		struct vagent_audio *st = NULL;
		struct vagent_error e;
		bool right = side && !strcmp(side, "right");

		load_audio(c, rc->dir, file, "audio.file", false, &st);
		if (!st)
			return;
		if (st->channels != 2) {
			problem(c, VAGENT_EINVAL, "audio.file", "%s: has %d channel%s; a single "
				"file must be stereo (caller and agent; or give \"caller\")",
				file, st->channels, st->channels == 1 ? "" : "s");
			vagent_audio_free(st);
			return;
		}
		if (vagent_audio_select(st, right ? VAGENT_CHANNELS_RIGHT : VAGENT_CHANNELS_LEFT,
					&rc->caller_audio, &e) != VAGENT_OK ||
		    vagent_audio_select(st, right ? VAGENT_CHANNELS_LEFT : VAGENT_CHANNELS_RIGHT,
					&rc->agent_audio, &e) != VAGENT_OK)
			problem(c, VAGENT_ENOMEM, "audio.file", "out of memory");
		vagent_audio_free(st);
	} else if (caller) {
		load_audio(c, rc->dir, caller, "audio.caller", true, &rc->caller_audio);
		if (agent)
			load_audio(c, rc->dir, agent, "audio.agent", true, &rc->agent_audio);
	} else {
		problem(c, VAGENT_EINVAL, "audio", "needs \"file\" (one stereo file) or "
			"\"caller\" (and \"agent\")");
	}
}

static void parse_turns(struct lctx *c, const cJSON *root, struct vagent_recorded_call *rc)
{
	static const char *const keys[] = { "speaker", "start_ms", "end_ms", "text", NULL };
	const cJSON *turns = cJSON_GetObjectItemCaseSensitive(root, "turns"), *it;
	/* the last turn of each speaker, for overlaps */
	int64_t last_end[2] = { -1, -1 }, prev_start = -1;
	size_t last_idx[2] = { 0, 0 }, i = 0, callers = 0, prev_idx = 0;

	if (!turns) {
		problem(c, VAGENT_EINVAL, "turns", "missing: the call's turns (speaker, "
			"start_ms, end_ms, text)");
		return;
	}
	if (!cJSON_IsArray(turns) || !cJSON_GetArraySize(turns)) {
		problem(c, VAGENT_EINVAL, "turns", "must be a non-empty array");
		return;
	}
	rc->turns = calloc((size_t)cJSON_GetArraySize(turns), sizeof(*rc->turns));
	if (!rc->turns) {
		problem(c, VAGENT_ENOMEM, "turns", "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, turns) {
		struct vagent_call_turn *t = &rc->turns[i];
		char path[48], p[80];
		const char *s;
		bool ok = true, has_start, has_end;
		int who = -1;

		snprintf(path, sizeof(path), "turns[%zu]", i);
		i++;
		rc->n_turns = i;
		if (!cJSON_IsObject(it)) {
			problem(c, VAGENT_EINVAL, path, "must be an object");
			continue;
		}
		known_keys(c, it, path, keys);
		snprintf(p, sizeof(p), "%s.speaker", path);
		if ((s = get_string(c, it, "speaker", p, false))) {
			if (!strcmp(s, "caller"))
				who = VAGENT_SPEAKER_CALLER;
			else if (!strcmp(s, "agent"))
				who = VAGENT_SPEAKER_AGENT;
			else
				problem(c, VAGENT_EINVAL, p, "\"%s\" is not caller or agent", s);
		} else if (!cJSON_GetObjectItemCaseSensitive(it, "speaker")) {
			problem(c, VAGENT_EINVAL, p, "missing: caller or agent");
		}
		snprintf(p, sizeof(p), "%s.start_ms", path);
		has_start = get_int(c, it, "start_ms", p, 0, MAX_TURN_MS, &t->start_ms);
		if (!cJSON_GetObjectItemCaseSensitive(it, "start_ms"))
			problem(c, VAGENT_EINVAL, p, "missing");
		snprintf(p, sizeof(p), "%s.end_ms", path);
		has_end = get_int(c, it, "end_ms", p, 0, MAX_TURN_MS, &t->end_ms);
		if (!cJSON_GetObjectItemCaseSensitive(it, "end_ms"))
			problem(c, VAGENT_EINVAL, p, "missing");
		snprintf(p, sizeof(p), "%s.text", path);
		if ((s = get_string(c, it, "text", p, true)) && !(t->text = strdup(s)))
			problem(c, VAGENT_ENOMEM, p, "out of memory");
		if (who < 0 || !has_start || !has_end)
			continue;
		t->speaker = (vagent_call_speaker)who;
		if (t->end_ms <= t->start_ms) {
			snprintf(p, sizeof(p), "%s.end_ms", path);
			problem(c, VAGENT_EINVAL, p, "%lld ms is not after start_ms (%lld ms)",
				(long long)t->end_ms, (long long)t->start_ms);
			ok = false;
		}
		if (t->start_ms < prev_start) {
			snprintf(p, sizeof(p), "%s.start_ms", path);
			problem(c, VAGENT_EINVAL, p, "turns out of order: starts at %lld ms, "
				"before turns[%zu] (%lld ms)", (long long)t->start_ms, prev_idx,
				(long long)prev_start);
		}
		prev_start = t->start_ms;
		prev_idx = i - 1;
		if (t->start_ms < last_end[who]) {
			snprintf(p, sizeof(p), "%s.start_ms", path);
			problem(c, VAGENT_EINVAL, p, "%s turn starts at %lld ms, before "
				"turns[%zu] of the same speaker ends (%lld ms)",
				vagent__speaker_name(t->speaker), (long long)t->start_ms,
				last_idx[who], (long long)last_end[who]);
		}
		if (ok) {
			const struct vagent_audio *a = who == VAGENT_SPEAKER_CALLER ?
				rc->caller_audio : rc->agent_audio;

			if (a && t->end_ms > duration_ms(a)) {
				snprintf(p, sizeof(p), "%s.end_ms", path);
				problem(c, VAGENT_EINVAL, p, "%lld ms is past the end of the %s "
					"audio (%lld ms)", (long long)t->end_ms,
					vagent__speaker_name(t->speaker), (long long)duration_ms(a));
			}
			last_end[who] = t->end_ms;
			last_idx[who] = i - 1;
		}
		if (who == VAGENT_SPEAKER_CALLER)
			callers++;
	}
	if (c->status == VAGENT_OK && !callers)
		problem(c, VAGENT_EINVAL, "turns", "no caller turn: nothing to replay");
}

/* A JSON value as compact text (transfer full), or NULL when out of memory. */
static char *compact(const cJSON *j)
{
	return cJSON_PrintUnformatted(j);
}

static void parse_tools(struct lctx *c, const cJSON *root, struct vagent_recorded_call *rc)
{
	static const char *const keys[] = { "name", "args", "result", "t_ms", NULL };
	const cJSON *tools = cJSON_GetObjectItemCaseSensitive(root, "tools"), *it;
	size_t i = 0;

	if (!tools)
		return;
	if (!cJSON_IsArray(tools)) {
		problem(c, VAGENT_EINVAL, "tools", "must be an array of tool calls (name, "
			"args, result, t_ms)");
		return;
	}
	if (!cJSON_GetArraySize(tools))
		return;
	rc->tools = calloc((size_t)cJSON_GetArraySize(tools), sizeof(*rc->tools));
	if (!rc->tools) {
		problem(c, VAGENT_ENOMEM, "tools", "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, tools) {
		struct vagent_call_tool *t = &rc->tools[i];
		const cJSON *args, *res;
		char path[48], p[80];
		const char *s;

		snprintf(path, sizeof(path), "tools[%zu]", i);
		i++;
		rc->n_tools = i;
		t->t_ms = -1;
		if (!cJSON_IsObject(it)) {
			problem(c, VAGENT_EINVAL, path, "must be an object");
			continue;
		}
		known_keys(c, it, path, keys);
		snprintf(p, sizeof(p), "%s.name", path);
		if ((s = get_string(c, it, "name", p, false)))
			t->name = strdup(s);
		else if (!cJSON_GetObjectItemCaseSensitive(it, "name"))
			problem(c, VAGENT_EINVAL, p, "missing: the tool's name");
		args = cJSON_GetObjectItemCaseSensitive(it, "args");
		snprintf(p, sizeof(p), "%s.args", path);
		if (args && !cJSON_IsObject(args))
			problem(c, VAGENT_EINVAL, p, "must be an object (the tool's arguments)");
		t->args = args && cJSON_IsObject(args) ? compact(args) : strdup("{}");
		res = cJSON_GetObjectItemCaseSensitive(it, "result");
		if (res)
			t->result = compact(res);
		snprintf(p, sizeof(p), "%s.t_ms", path);
		get_int(c, it, "t_ms", p, 0, MAX_TURN_MS, &t->t_ms);
		if ((s && !t->name) || !t->args || (res && !t->result))
			problem(c, VAGENT_ENOMEM, path, "out of memory");
	}
}

static void service_problem(void *ctx, const char *path, const char *msg)
{
	problem(ctx, strstr(msg, "out of memory") ? VAGENT_ENOMEM : VAGENT_EINVAL, path,
		"%s", msg);
}

static void parse(struct lctx *c, const cJSON *root, struct vagent_recorded_call *rc)
{
	static const char *const keys[] = { "version", "name", "description", "agent",
		"rate", "audio", "turns", "tools", "services", "expectations", NULL };
	const cJSON *x;
	const char *s;
	int64_t v;

	if (!cJSON_IsObject(root)) {
		problem(c, VAGENT_EINVAL, "", "a call file is a JSON object");
		return;
	}
	known_keys(c, root, "", keys);
	if (get_int(c, root, "version", "version", 0, INT_MAX, &v) && v != 1)
		problem(c, VAGENT_EINVAL, "version", "%lld is not a version this vagent "
			"reads (1)", (long long)v);
	if ((s = get_string(c, root, "name", "name", false))) {
		if (strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, "..") ||
		    strlen(s) > 128 || strpbrk(s, "\n\r\t"))
			problem(c, VAGENT_EINVAL, "name", "must be at most 128 characters, "
				"without '/' or control characters, and not . or ..");
		else if (!(rc->name = strdup(s)))
			problem(c, VAGENT_ENOMEM, "name", "out of memory");
	}
	if ((s = get_string(c, root, "description", "description", true)) &&
	    !(rc->description = strdup(s)))
		problem(c, VAGENT_ENOMEM, "description", "out of memory");
	if ((s = get_string(c, root, "agent", "agent", false))) {
		rc->agent_path = resolve(rc->dir, s);
		if (!rc->agent_path)
			problem(c, VAGENT_ENOMEM, "agent", "out of memory");
		else if (access(rc->agent_path, R_OK) != 0)
			problem(c, VAGENT_EINVAL, "agent", "%s: %s", rc->agent_path,
				errno == ENOENT ? "no such file" : strerror(errno));
	}
	if (get_int(c, root, "rate", "rate", 0, 192000, &v)) {
		if (v != 8000 && v != 16000)
			problem(c, VAGENT_EINVAL, "rate", "must be 8000 or 16000 (the rate "
				"the call runs at)");
		else
			rc->rate = (int)v;
	}
	parse_audio(c, root, rc);
	parse_turns(c, root, rc);
	parse_tools(c, root, rc);
	if ((x = cJSON_GetObjectItemCaseSensitive(root, "services")))
		vagent__services_parse(x, rc->dir, &rc->services, &rc->n_services,
				       service_problem, c);
	/* (its items are vagent_expectations_parse's to check) */
	rc->has_expectations = cJSON_GetObjectItemCaseSensitive(root, "expectations") != NULL;
}

/* The last component of `dir` (transfer full). */
static char *folder_name(const char *dir)
{
	char *real = realpath(dir, NULL), *b, *n;
	const char *p = real ? real : dir;

	b = strrchr(p, '/');
	n = strdup(b && b[1] ? b + 1 : p);
	free(real);
	return n;
}

vagent_status vagent_call_load(const char *path, struct vagent_recorded_call **out,
			       struct vagent_diags *diags, struct vagent_error *err)
{
	struct lctx c = { .diags = diags, .err = err };
	struct vagent_recorded_call *rc;
	struct stat sb;
	size_t n;
	cJSON *root;
	vagent_status st;

	*out = NULL;
	rc = calloc(1, sizeof(*rc));
	if (!rc)
		return vagent__error_set(err, VAGENT_ENOMEM, path, "out of memory");
	n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		rc->dir = strndup(path, n);
		rc->path = malloc(n + sizeof("/call.json"));
		if (rc->path)
			snprintf(rc->path, n + sizeof("/call.json"), "%.*s/call.json", (int)n, path);
	} else {
		const char *slash = strrchr(path, '/');

		rc->path = strdup(path);
		rc->dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path))
				: strdup(".");
	}
	if (!rc->dir || !rc->path) {
		vagent_recorded_call_free(rc);
		return vagent__error_set(err, VAGENT_ENOMEM, path, "out of memory");
	}
	c.file = rc->path;
	st = vagent__read_file(rc->path, MAX_CALL_BYTES, &rc->text, &rc->text_len, err);
	if (st != VAGENT_OK) {
		if (diags && err)
			vagent_diags_add(diags, "%s", err->message);
		vagent_recorded_call_free(rc);
		return st;
	}
	c.text = rc->text;
	c.len = rc->text_len;
	root = cJSON_ParseWithLength(rc->text, rc->text_len);
	if (!root) {
		const char *at = cJSON_GetErrorPtr();
		int line = 1;

		for (const char *p = rc->text; at && p < at && p < rc->text + rc->text_len; p++)
			line += *p == '\n';
		vagent_diags_add(diags, "%s:%d: not valid JSON", c.file, line);
		vagent__error_set(err, VAGENT_EFORMAT, NULL, "%s:%d: not valid JSON", c.file,
				  line);
		vagent_recorded_call_free(rc);
		return VAGENT_EFORMAT;
	}
	parse(&c, root, rc);
	cJSON_Delete(root);
	{
		struct vagent_error xerr;
		vagent_status xst = vagent_expectations_parse(rc->text, rc->text_len, c.file,
							      "expectations", &rc->expectations,
							      diags, &xerr);

		if (xst != VAGENT_OK && c.status == VAGENT_OK)
			c.status = vagent__error_set(err, xst, NULL, "%s", xerr.message);
	}
	if (c.status == VAGENT_OK && !rc->name && !(rc->name = folder_name(rc->dir)))
		c.status = vagent__error_set(err, VAGENT_ENOMEM, c.file, "out of memory");
	if (c.status != VAGENT_OK) {
		vagent_recorded_call_free(rc);
		return c.status;
	}
	*out = rc;
	return VAGENT_OK;
}

void vagent_recorded_call_free(struct vagent_recorded_call *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_turns; i++)
		free(c->turns[i].text);
	free(c->turns);
	for (size_t i = 0; i < c->n_tools; i++) {
		free(c->tools[i].name);
		free(c->tools[i].args);
		free(c->tools[i].result);
	}
	free(c->tools);
	vagent__services_free(c->services, c->n_services);
	vagent_expectations_free(c->expectations);
	vagent_audio_free(c->caller_audio);
	vagent_audio_free(c->agent_audio);
	free(c->name);
	free(c->description);
	free(c->path);
	free(c->dir);
	free(c->agent_path);
	free(c->text);
	free(c);
}
