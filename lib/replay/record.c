/*
 * record.c — writing a finished call (simulated or replayed) as a call
 * folder (docs/call.md): call.json with the turns read off the trace
 * (true caller speech boundaries with the golden text, the agent's audio
 * with what it said), the tool calls, the expectations of the scenario or
 * call it came from, and call.wav, the stereo recording (caller left).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "replay/replay_int.h"

/* `target` relative to directory `from` when both resolve, else `target`
 * as given (transfer full). */
static char *relative_path(const char *from, const char *target)
{
	char *a = realpath(from, NULL), *b = realpath(target, NULL), *out = NULL;
	size_t common = 0, ups = 0, n;

	if (!a || !b) {
		free(a);
		free(b);
		return strdup(target);
	}
	/* the longest common prefix ending at a path component */
	size_t i = 0;

	while (a[i] && a[i] == b[i]) {
		if (a[i] == '/')
			common = i;
		i++;
	}
	if (!a[i] && b[i] == '/')
		common = i;     /* `from` holds `target` */
	for (const char *p = a + common; *p; p++)
		ups += *p == '/';
	n = 3 * ups + strlen(b + common) + 1;
	out = malloc(n);
	if (out) {
		out[0] = '\0';
		for (size_t u = 0; u < ups; u++)
			strcat(out, "../");
		strcat(out, b + common + 1);
	}
	free(a);
	free(b);
	return out;
}

static int64_t floor_ms(int64_t us)
{
	return us / 1000;
}

static int64_t ceil_ms(int64_t us)
{
	return (us + 999) / 1000;
}

/* The turns of call.json from the trace: per session turn, the caller's
 * speech (first start to the last end at or before the turn's end) and
 * the agent's audio (first start to the last stop). */
static cJSON *turns_json(const struct vagent_session_result *res,
			 const struct vagent_trace *t, int64_t audio_ms)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t k = 0; arr && k < res->n_turns; k++) {
		const struct vagent_session_turn *st = &res->turns[k];
		int64_t cs = -1, ce = -1, te = -1, as = -1, ae = -1;

		for (size_t i = 0; i < t->n; i++) {
			const struct vagent_trace_event *e = &t->events[i];

			if (e->turn != st->turn)
				continue;
			if (e->type == VAGENT_TRACE_TURN_END && te < 0)
				te = e->t_us;
			else if (e->type == VAGENT_TRACE_CALLER_SPEECH_START && cs < 0)
				cs = e->t_us;
			else if (e->type == VAGENT_TRACE_AGENT_AUDIO_START && as < 0)
				as = e->t_us;
			else if (e->type == VAGENT_TRACE_AGENT_AUDIO_STOP && as >= 0)
				ae = e->t_us;
		}
		for (size_t i = 0; i < t->n; i++) {
			const struct vagent_trace_event *e = &t->events[i];

			if (e->turn == st->turn && e->type == VAGENT_TRACE_CALLER_SPEECH_END &&
			    e->t_us >= cs && (te < 0 || e->t_us <= te || ce < 0))
				ce = e->t_us;
		}
		struct { int64_t s, e; const char *who, *text; } sides[2] = {
			{ cs, ce, "caller", st->caller_text },
			{ as, ae, "agent", st->agent_text },
		};
		for (int j = 0; j < 2; j++) {
			cJSON *o;
			int64_t s = floor_ms(sides[j].s), e = ceil_ms(sides[j].e);

			if (sides[j].s < 0 || sides[j].e < 0 || (j == 0 && st->turn == 0))
				continue;
			if (e > audio_ms)
				e = audio_ms;
			if (e <= s)
				continue;
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "speaker", sides[j].who);
			cJSON_AddNumberToObject(o, "start_ms", (double)s);
			cJSON_AddNumberToObject(o, "end_ms", (double)e);
			if (sides[j].text)
				cJSON_AddStringToObject(o, "text", sides[j].text);
			cJSON_AddItemToArray(arr, o);
		}
	}
	return arr;
}

/* Sort the turns by start (a caller turn and the reply it overlapped). */
static void sort_turns(cJSON *arr)
{
	int n = cJSON_GetArraySize(arr);

	for (int i = 1; i < n; i++)
		for (int j = i; j > 0; j--) {
			cJSON *a = cJSON_GetArrayItem(arr, j - 1), *b = cJSON_GetArrayItem(arr, j);

			if (cJSON_GetObjectItem(a, "start_ms")->valuedouble <=
			    cJSON_GetObjectItem(b, "start_ms")->valuedouble)
				break;
			cJSON_DetachItemViaPointer(arr, b);
			cJSON_InsertItemInArray(arr, j - 1, b);
		}
}

static cJSON *tools_json(const struct vagent_trace *t)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; arr && i < t->n; i++) {
		const struct vagent_trace_event *e = &t->events[i];
		cJSON *o, *args;

		if (e->type != VAGENT_TRACE_TOOL_START || !e->name)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", e->name);
		args = cJSON_Parse(e->args ? e->args : "{}");
		cJSON_AddItemToObject(o, "args", args ? args : cJSON_CreateObject());
		for (size_t j = i + 1; j < t->n; j++) {
			const struct vagent_trace_event *r = &t->events[j];

			if (r->type == VAGENT_TRACE_TOOL_END && r->id && e->id &&
			    !strcmp(r->id, e->id) && r->result) {
				cJSON *res = cJSON_Parse(r->result);

				if (res)
					cJSON_AddItemToObject(o, "result", res);
				break;
			}
		}
		cJSON_AddNumberToObject(o, "t_ms", (double)floor_ms(e->t_us));
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* cJSON's layout with two-space indents and "key": value (its tabs are
 * layout only: tabs in strings are escaped). (transfer full) */
static char *two_spaces(const char *text)
{
	struct vagent__strbuf b = { 0 };

	for (const char *p = text; *p; p++) {
		if (*p != '\t')
			vagent__strbuf_put(&b, p, 1);
		else if (p > text && p[-1] == ':')
			vagent__strbuf_put(&b, " ", 1);
		else
			vagent__strbuf_put(&b, "  ", 2);
	}
	return vagent__strbuf_detach(&b);
}

/* A member of the JSON document `text` (a copy), or NULL. */
static cJSON *member_of(const char *text, size_t len, const char *key)
{
	cJSON *root, *m = NULL;

	if (!text)
		return NULL;
	root = cJSON_ParseWithLength(text, len);
	if (root && cJSON_GetObjectItemCaseSensitive(root, key))
		m = cJSON_DetachItemFromObjectCaseSensitive(root, key);
	cJSON_Delete(root);
	return m;
}

vagent_status vagent_call_record_write(const struct vagent_call_run *run,
				       const char *dir, struct vagent_error *err)
{
	const struct vagent_session_result *res;
	const struct vagent_audio *rec;
	struct vagent_audio_save_opts so = vagent_audio_save_opts_default();
	struct vagent_trace *t = NULL;
	const char *trace, *src_text = NULL, *agent_path = NULL;
	size_t trace_len = 0, src_len = 0, n = strlen(dir) + 16;
	cJSON *root = NULL, *x;
	char *path = NULL, *text = NULL, *rel = NULL;
	int64_t audio_ms;
	vagent_status st;
	FILE *f;

	if (!run || !run->session)
		return vagent__error_set(err, VAGENT_EINVAL, dir, "no finished call to record");
	rec = vagent_session_recording(run->session);
	if (!rec)
		return vagent__error_set(err, VAGENT_EINVAL, dir, "the call was run without "
					 "a recording (run option record)");
	res = vagent_session_result(run->session);
	trace = vagent_session_trace(run->session, &trace_len);
	st = vagent_trace_parse(trace ? trace : "", trace_len, res->name, &t, err);
	if (st != VAGENT_OK)
		return st;
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		st = vagent__error_set(err, VAGENT_EIO, dir, "cannot create the directory: %s",
				       strerror(errno));
		goto done;
	}
	path = malloc(n);
	if (!path) {
		st = vagent__error_set(err, VAGENT_ENOMEM, dir, "out of memory");
		goto done;
	}
	snprintf(path, n, "%s/call.wav", dir);
	st = vagent_audio_save(rec, path, &so, err);
	if (st != VAGENT_OK)
		goto done;
	audio_ms = (int64_t)(rec->frames * 1000 / (size_t)rec->rate);

	if (run->scenario) {
		src_text = run->scenario->text;
		src_len = run->scenario->text_len;
		agent_path = run->scenario->agent_path;
	} else if (run->call) {
		src_text = run->call->text;
		src_len = run->call->text_len;
	}
	if (run->agent && run->agent->path && *run->agent->path)
		agent_path = run->agent->path;

	root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "version", 1);
	cJSON_AddStringToObject(root, "name", res->name ? res->name : "call");
	if ((x = member_of(src_text, src_len, "description")) && cJSON_IsString(x))
		cJSON_AddItemToObject(root, "description", x);
	else
		cJSON_Delete(x);
	if (agent_path) {
		rel = relative_path(dir, agent_path);
		if (rel)
			cJSON_AddStringToObject(root, "agent", rel);
	}
	cJSON_AddNumberToObject(root, "rate", rec->rate);
	x = cJSON_AddObjectToObject(root, "audio");
	cJSON_AddStringToObject(x, "file", "call.wav");
	cJSON_AddStringToObject(x, "caller_channel", "left");
	x = turns_json(res, t, audio_ms);
	sort_turns(x);
	cJSON_AddItemToObject(root, "turns", x);
	cJSON_AddItemToObject(root, "tools", tools_json(t));
	{
		/* the services the call needs, relative to the new folder */
		const struct vagent_scenario_service *sv = run->scenario ? run->scenario->services
			: run->call ? run->call->services : NULL;
		size_t nsv = run->scenario ? run->scenario->n_services
			: run->call ? run->call->n_services : 0;

		if (nsv) {
			cJSON *o = cJSON_AddObjectToObject(root, "services");

			for (size_t i = 0; o && i < nsv; i++) {
				char *rp = relative_path(dir, sv[i].routes_path);

				if (rp)
					cJSON_AddStringToObject(o, sv[i].env, rp);
				free(rp);
			}
		}
	}
	if ((x = member_of(src_text, src_len, "expectations")))
		cJSON_AddItemToObject(root, "expectations", x);
	{
		char *raw = cJSON_Print(root);

		text = raw ? two_spaces(raw) : NULL;
		free(raw);
	}
	if (!text) {
		st = vagent__error_set(err, VAGENT_ENOMEM, dir, "out of memory");
		goto done;
	}
	snprintf(path, n, "%s/call.json", dir);
	f = fopen(path, "wb");
	if (!f || fputs(text, f) == EOF || fputc('\n', f) == EOF) {
		st = vagent__error_set(err, VAGENT_EIO, path, "cannot write: %s", strerror(errno));
		if (f)
			fclose(f);
		goto done;
	}
	if (fclose(f) != 0)
		st = vagent__error_set(err, VAGENT_EIO, path, "cannot write: %s", strerror(errno));
done:
	cJSON_Delete(root);
	free(text);
	free(rel);
	free(path);
	vagent_trace_free(t);
	return st;
}
