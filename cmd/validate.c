/*
 * validate.c — `vagent validate FILE|DIR...`: check agent, scenario and
 * recorded-call files without running anything, and report every problem
 * as "FILE:LINE: field: problem" (docs/validate.md).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "vagent.h"
#include "builtins.h"
#include "options.h"
#include "output.h"

/* What a file is; "unknown" when it cannot be told (unreadable, not
 * JSON, not an object). */
enum kind { KIND_UNKNOWN, KIND_AGENT, KIND_SCENARIO, KIND_CALL };

static const char *const kind_names[] = { "unknown", "agent", "scenario", "call" };

/* Larger than any file the loaders accept (agents: 16 MiB). */
#define MAX_CLASSIFY_BYTES (64u << 20)

/* One file checked: its problems and warnings. */
struct checked {
	char *file;                   /* as shown */
	char *key;                    /* its real path: each file once */
	enum kind kind;
	struct vagent_diags problems;
	struct vagent_diags warnings;
};

struct validation {
	struct checked *files;
	size_t n, cap;
	bool quiet;
	bool human;                   /* stdout is ours (no --json -) */
	bool oom;
};

static const struct cmd_usage validate_usage = {
	.name = "validate",
	.synopsis = "vagent validate [OPTION]... FILE|DIR...",
	.summary = "check agent, scenario and recorded-call files; report every problem",
	.description =
		"Checks files without running a call and reports every problem found, not\n"
		"just the first, one line each on stderr: FILE:LINE: field: problem.\n"
		"\n"
		"What each argument is:\n"
		"  a folder with a call.json, or a file named call.json   a recorded call\n"
		"  a JSON object with \"steps\"                            a scenario\n"
		"  any other JSON object                                  an agent file\n"
		"  a folder without call.json     each *.json in it (and each subfolder\n"
		"                                 with a call.json), told apart as above\n"
		"A scenario's agent file is checked too, once however many scenarios name\n"
		"it, with its problems under its own name; so are the scenario's tool mocks\n"
		"against that agent. A file that is not JSON cannot be told apart: one error.\n"
		"\n"
		"stdout: \"ok   FILE (agent|scenario|call)\" for each valid file, then\n"
		"\"N files, M problems\". Agent warnings (a greeting without the AI\n"
		"disclosure...) go to stderr and are not problems.\n"
		"\n"
		"Exit codes: 0 every file is valid, 2 a file is invalid or unreadable (or\n"
		"a usage error), 3 the --json file cannot be written. Never 1.",
	.epilogue =
		"Examples:\n"
		"  vagent validate scenarios/\n"
		"  vagent validate -q agents/store.json scenarios/refund.json\n"
		"  vagent validate --json - scenarios/ calls/2026-12-03-1402/\n",
	.min_args = 1, .max_args = -1,
};

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static bool is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* "DIR/NAME" (malloc'd; NULL without memory). */
static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s%s%s", dir, ends_with(dir, "/") ? "" : "/", name);
	return p;
}

static bool has_call_json(const char *dir)
{
	struct stat sb;
	char *p = path_join(dir, "call.json");
	bool yes = p && stat(p, &sb) == 0 && S_ISREG(sb.st_mode);

	free(p);
	return yes;
}

/*
 * The entry for `file` (a new one, or NULL when it was checked already —
 * the same real path — or without memory).
 */
static struct checked *add_file(struct validation *v, const char *file, enum kind kind)
{
	char real[PATH_MAX];
	const char *key = realpath(file, real) ? real : file;
	struct checked *c;

	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->files[i].key, key))
			return NULL;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		struct checked *f = realloc(v->files, cap * sizeof(*f));

		if (!f) {
			v->oom = true;
			return NULL;
		}
		v->files = f;
		v->cap = cap;
	}
	c = &v->files[v->n];
	memset(c, 0, sizeof(*c));
	c->file = strdup(file);
	c->key = strdup(key);
	if (!c->file || !c->key) {
		free(c->file);
		free(c->key);
		v->oom = true;
		return NULL;
	}
	c->kind = kind;
	vagent_diags_init(&c->problems);
	vagent_diags_init(&c->warnings);
	v->n++;
	return c;
}

/* Print a file's lines as they are found: problems and (unless -q)
 * warnings to stderr, the "ok" line to stdout. */
static void report(const struct validation *v, const struct checked *c)
{
	fflush(stdout);
	for (size_t i = 0; i < c->problems.n; i++)
		fprintf(stderr, "%s\n", c->problems.lines[i]);
	if (c->problems.dropped)
		fprintf(stderr, "%s: and %zu more problem%s not shown\n", c->file,
			c->problems.dropped, c->problems.dropped > 1 ? "s" : "");
	if (!v->quiet)
		for (size_t i = 0; i < c->warnings.n; i++)
			fprintf(stderr, "vagent: warning: %s\n", c->warnings.lines[i]);
	if (!c->problems.n && !c->problems.dropped && v->human && !v->quiet)
		printf("ok   %s (%s)\n", c->file, kind_names[c->kind]);
	fflush(stdout);
}

/* The agent file at `path` (unless checked already): every problem, and
 * its warnings when it is valid. */
static void check_agent(struct validation *v, const char *path)
{
	struct checked *c = add_file(v, path, KIND_AGENT);
	struct vagent_agent *a = NULL;
	struct vagent_error err;

	if (!c)
		return;
	if (vagent_agent_validate(path, &c->problems, &err) == VAGENT_OK) {
		if (vagent_agent_load(path, &a, &err) == VAGENT_OK) {
			for (size_t i = 0; i < a->n_warnings; i++)
				vagent_diags_add(&c->warnings, "%s", a->warnings[i]);
		} else {
			/* valid a moment ago: the file changed or memory ran out */
			vagent_diags_add(&c->problems, "%s", err.message);
		}
	}
	report(v, c);
	vagent_agent_free(a);
}

/*
 * A scenario: its own problems, then its agent file (once per agent file)
 * and its tool mocks against that agent.
 */
static void check_scenario(struct validation *v, const char *path)
{
	struct checked *c = add_file(v, path, KIND_SCENARIO);
	struct vagent_scenario *sc = NULL;
	struct vagent_error err;
	struct stat sb;
	const char *why = NULL;

	if (!c)
		return;
	if (vagent_scenario_load_diags(path, &sc, &c->problems, &err) != VAGENT_OK) {
		report(v, c);
		return;
	}
	/* the recordings it plays, its noise and its services' routes */
	vagent_scenario_check_files(sc, &c->problems, &err);
	if (stat(sc->agent_path, &sb) != 0)
		why = errno == ENOENT ? "no such file" : strerror(errno);
	else if (!S_ISREG(sb.st_mode))
		why = "not a regular file";
	if (why) {
		vagent_diags_add(&c->problems, "%s: agent: %s \"%s\"", path, why,
				 sc->agent_path);
		report(v, c);
		vagent_scenario_free(sc);
		return;
	}
	/* the mocks need the agent's tools, whether or not the agent file
	 * was checked before */
	if (sc->has_tools) {
		struct vagent_agent *a = NULL;

		if (vagent_agent_load(sc->agent_path, &a, &err) == VAGENT_OK) {
			/* ENOMEM is not the scenario's fault, but it is a problem
			 * all the same: it is reported, not hidden */
			vagent_agent_mock_tools_diags(a, sc->text, sc->text_len, sc->path,
						      "tools", &c->problems, &err);
			vagent_agent_free(a);
		}
		/* an invalid agent's problems are its own: listed below */
	}
	report(v, c);
	check_agent(v, sc->agent_path);         /* once: add_file skips a repeat */
	vagent_scenario_free(sc);
}

/*
 * A recorded call (a folder with call.json, or the call.json itself): the
 * file, its audio and its expectations, then its agent file (once).
 */
static void check_call(struct validation *v, const char *path)
{
	struct checked *c;
	struct vagent_recorded_call *call = NULL;
	struct vagent_error err;
	struct stat sb;
	char json[4096];

	/* a folder and its call.json are one call: checked once */
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    (size_t)snprintf(json, sizeof(json), "%s/call.json", path) < sizeof(json))
		path = json;
	if (!(c = add_file(v, path, KIND_CALL)))
		return;
	if (vagent_call_load(path, &call, &c->problems, &err) != VAGENT_OK) {
		report(v, c);
		return;
	}
	report(v, c);
	if (call->agent_path)
		check_agent(v, call->agent_path);
	vagent_recorded_call_free(call);
}

/* The line of the byte at `at` in `text` (1-based). */
static int line_at(const char *text, const char *at)
{
	int line = 1;

	for (const char *p = text; p < at; p++)
		line += *p == '\n';
	return line;
}

/* The whole file at `path`, NUL-terminated (malloc'd): false when it
 * cannot be read or is larger than MAX_CLASSIFY_BYTES. */
static bool read_text(const char *path, char **out, size_t *len_out)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0;
	bool ok = false;

	if (!f)
		return false;
	for (;;) {
		size_t got;

		if (cap - len < 4096) {
			char *t;

			if (cap > MAX_CLASSIFY_BYTES)
				break;
			t = realloc(text, cap ? cap * 2 : 16384);
			if (!t)
				break;
			text = t;
			cap = cap ? cap * 2 : 16384;
		}
		got = fread(text + len, 1, cap - len - 1, f);
		len += got;
		if (got == 0) {
			ok = !ferror(f);
			break;
		}
	}
	fclose(f);
	if (!ok) {
		free(text);
		return false;
	}
	text[len] = '\0';
	*out = text;
	*len_out = len;
	return true;
}

/*
 * A file that is not a call.json: a scenario when it is a JSON object
 * with "steps", else an agent file; one problem when it is not a JSON
 * object at all (which kind of file it is cannot be told).
 */
static void check_file(struct validation *v, const char *path)
{
	struct checked *c;
	char *text = NULL;
	size_t len = 0;
	const char *end = NULL;
	cJSON *root;

	if (!strcmp(base_name(path), "call.json")) {
		check_call(v, path);
		return;
	}
	if (!read_text(path, &text, &len)) {
		struct vagent_error err;

		/* unreadable: of no kind; the agent loader says why, in the
		 * project's words ("no such file", "larger than 16 MiB") */
		if ((c = add_file(v, path, KIND_UNKNOWN)) != NULL) {
			vagent_agent_validate(path, &c->problems, &err);
			report(v, c);
		}
		return;
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (!root || !cJSON_IsObject(root)) {
		c = add_file(v, path, KIND_UNKNOWN);
		if (c) {
			if (!root) {
				const char *at = cJSON_GetErrorPtr();

				if (!at || at < text || at > text + len)
					at = end && end >= text && end <= text + len ? end : text + len;
				vagent_diags_add(&c->problems,
						 "%s:%d: invalid JSON (cannot tell an agent from a scenario)",
						 path, line_at(text, at));
			} else {
				vagent_diags_add(&c->problems,
						 "%s:1: not a JSON object: neither an agent nor a scenario",
						 path);
			}
			report(v, c);
		}
		cJSON_Delete(root);
		free(text);
		return;
	}
	if (cJSON_GetObjectItemCaseSensitive(root, "steps")) {
		cJSON_Delete(root);
		free(text);
		check_scenario(v, path);
		return;
	}
	cJSON_Delete(root);
	free(text);
	check_agent(v, path);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* A folder of scenarios (and agents, and recorded calls): each *.json in
 * it and each subfolder with a call.json, in name order. */
static void check_dir(struct validation *v, const char *dir)
{
	struct dirent **ents = NULL;
	size_t before = v->n;
	int n = scandir(dir, &ents, NULL, by_name);
	struct checked *c;

	if (n < 0) {
		c = add_file(v, dir, KIND_UNKNOWN);
		if (c) {
			vagent_diags_add(&c->problems, "%s: cannot read the directory: %s", dir,
					 strerror(errno));
			report(v, c);
		}
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char *p = name[0] == '.' ? NULL : path_join(dir, name);

		if (p && is_dir(p)) {
			if (has_call_json(p))
				check_call(v, p);
		} else if (p && ends_with(name, ".json")) {
			check_file(v, p);
		} else if (!p && name[0] != '.') {
			v->oom = true;
		}
		free(p);
		free(ents[i]);
	}
	free(ents);
	if (v->n == before) {
		c = add_file(v, dir, KIND_UNKNOWN);
		if (c) {
			vagent_diags_add(&c->problems,
					 "%s: no agent, scenario or call files (*.json, */call.json) in it",
					 dir);
			report(v, c);
		}
	}
}

static void check_argument(struct validation *v, const char *arg)
{
	if (!is_dir(arg))
		check_file(v, arg);
	else if (has_call_json(arg))
		check_call(v, arg);
	else
		check_dir(v, arg);
}

/* The lines of `d` as a JSON array (NULL without memory). */
static cJSON *string_array(const struct vagent_diags *d)
{
	/* cJSON_CreateStringArray refuses an empty list */
	if (!d->n)
		return cJSON_CreateArray();
	return cJSON_CreateStringArray((const char *const *)d->lines, (int)d->n);
}

/* The result as JSON: {"files": [{file, kind, valid, problems[],
 * warnings[]}...], "files_checked": N, "problems": M}. NULL without
 * memory. */
static char *to_json(const struct validation *v, size_t problems)
{
	cJSON *root = cJSON_CreateObject(), *files = cJSON_AddArrayToObject(root, "files");
	char *text = NULL;

	if (!root || !files)
		goto done;
	for (size_t i = 0; i < v->n; i++) {
		const struct checked *c = &v->files[i];
		cJSON *o = cJSON_CreateObject(), *p, *w;

		if (!o || !cJSON_AddItemToArray(files, o))
			goto done;
		p = string_array(&c->problems);
		w = string_array(&c->warnings);
		if (!cJSON_AddStringToObject(o, "file", c->file) ||
		    !cJSON_AddStringToObject(o, "kind", kind_names[c->kind]) ||
		    !cJSON_AddBoolToObject(o, "valid",
					   !c->problems.n && !c->problems.dropped) ||
		    !p || !cJSON_AddItemToObject(o, "problems", p) ||
		    !cJSON_AddNumberToObject(o, "problems_not_shown",
					     (double)c->problems.dropped) ||
		    !w || !cJSON_AddItemToObject(o, "warnings", w))
			goto done;
	}
	if (!cJSON_AddNumberToObject(root, "files_checked", (double)v->n) ||
	    !cJSON_AddNumberToObject(root, "problems", (double)problems))
		goto done;
	text = cJSON_Print(root);
done:
	cJSON_Delete(root);
	return text;
}

int cmd_validate(int argc, char **argv)
{
	const char *json = NULL;
	bool quiet = false;
	const struct cmd_option opts[] = {
		OPT_STRING_(0, "json", &json, "FILE",
			    "also write the result as JSON ('-' for stdout): each file's "
			    "kind, problems and warnings"),
		OPT_BOOL_('q', "quiet", &quiet,
			  "print only the problems (no ok lines, count or warnings)"),
		OPT_END_(),
	};
	int n = parse_options(&validate_usage, opts, argc, argv), rc = 0;
	struct validation v = { 0 };
	size_t problems = 0, invalid = 0;

	if (n == PARSE_OPT_HELP)
		return 0;
	if (n < 0)
		return 2;
	v.quiet = quiet;
	v.human = !(json && !strcmp(json, "-"));
	for (int i = 0; i < n && !v.oom; i++)
		check_argument(&v, argv[i]);
	for (size_t i = 0; i < v.n; i++) {
		problems += v.files[i].problems.n + v.files[i].problems.dropped;
		invalid += v.files[i].problems.n || v.files[i].problems.dropped;
	}
	if (v.oom) {
		cmd_error("out of memory");
		rc = 3;
	} else if (invalid) {
		rc = 2;
	}
	if (v.human && !quiet)
		printf("%zu file%s, %zu problem%s\n", v.n, v.n == 1 ? "" : "s", problems,
		       problems == 1 ? "" : "s");
	if (json && !v.oom) {
		char *text = to_json(&v, problems);
		int w;

		if (!text) {
			cmd_error("out of memory");
			rc = 3;
		} else if ((w = cmd_write_output(json, text)) != 0) {
			rc = w;
		}
		free(text);
	}
	for (size_t i = 0; i < v.n; i++) {
		free(v.files[i].file);
		free(v.files[i].key);
		vagent_diags_clear(&v.files[i].problems);
		vagent_diags_clear(&v.files[i].warnings);
	}
	free(v.files);
	return rc;
}
