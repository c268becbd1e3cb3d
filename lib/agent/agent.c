/*
 * agent.c — the agent file (docs/agent.md): JSON parsed with cJSON,
 * validated strictly (unknown keys, types, ranges, required fields,
 * duplicates, references in templates, knowledge files), every problem
 * reported as "FILE:LINE: field.path: problem", into a struct vagent_agent
 * that owns all its strings.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "agent/agent_int.h"
#include "net/ws_int.h"

#define MAX_AGENT_BYTES (16u << 20)

const char *const vagent__default_human_phrases[] = {
	"agent", "representative", "a real person", "a human", "operator",
	"talk to someone", "speak to someone", "customer service",
	"live person", NULL
};

const char *const vagent__default_opt_out_phrases[] = {
	"stop calling", "do not call", "don't call", "opt out",
	"remove me from your list", "take me off your list", "unsubscribe",
	NULL
};

const char *const vagent__repeat_phrases[] = {
	"repeat that", "say that again", "come again", "repeat please",
	"can you repeat", "what did you say", "pardon", NULL
};

static const char *const default_disclosure_phrases[] = {
	"automated", "virtual assistant", "ai assistant", "an ai",
	"artificial intelligence", "a bot", "digital assistant", NULL
};

static const char *const yes_no_words[] = {
	"yes", "yeah", "yep", "sure", "correct", "that's right", "please do",
	"no", "nope", "don't", "not now", "cancel", NULL
};

static const char *const number_words[] = {
	"zero", "oh", "one", "two", "three", "four", "five", "six", "seven",
	"eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen",
	"fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
	"thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
	"hundred", "thousand", "double", "triple", "dollars", "cents", NULL
};

/* The public agent and what only this file sees. */
struct agent_priv {
	struct vagent_agent pub;
	void **pool;                  /* every allocation, freed together */
	size_t n_pool, cap_pool;
	char **phrases;               /* expected phrases (pool) */
	char **var_list;              /* "name=value" (pool) */
	bool oom;
};

/* A name and its index, sorted by both. */
struct named {
	const char *name;
	size_t i;
};

/* One problem kept for a diags list: its line orders the list. */
struct found {
	int line;
	vagent_status status;
	char *text;                   /* "FILE:LINE: field: problem" */
};

/* The parse: the file, its text, the first error and, when the caller
 * wants every problem (`diags`), each one found. */
struct ctx {
	const char *file;             /* as it appears in messages */
	const char *text;
	size_t len;
	struct agent_priv *ap;
	int n_errors;
	vagent_status status;
	char first[512];
	struct named *tools_by_name;  /* sorted by name, then index */
	struct vagent_diags *diags;   /* NULL: only the first is kept */
	struct found *found;          /* at most VAGENT_DIAGS_MAX */
	size_t n_found;
	size_t dropped;               /* problems past VAGENT_DIAGS_MAX */
};

/* ---- allocation ---- */

static void *pool_keep(struct ctx *c, void *p)
{
	struct agent_priv *ap = c->ap;

	if (!p) {
		ap->oom = true;
		return NULL;
	}
	if (ap->n_pool == ap->cap_pool) {
		size_t cap = ap->cap_pool ? ap->cap_pool * 2 : 64;
		void **n = realloc(ap->pool, cap * sizeof(*n));

		if (!n) {
			free(p);
			ap->oom = true;
			return NULL;
		}
		ap->pool = n;
		ap->cap_pool = cap;
	}
	ap->pool[ap->n_pool++] = p;
	return p;
}

static void *pool_calloc(struct ctx *c, size_t n, size_t size)
{
	return pool_keep(c, calloc(n ? n : 1, size));
}

static char *pool_strdup(struct ctx *c, const char *s)
{
	return s ? pool_keep(c, strdup(s)) : NULL;
}

/* ---- errors ---- */

static const char *type_name(const cJSON *j)
{
	if (cJSON_IsObject(j))
		return "an object";
	if (cJSON_IsArray(j))
		return "an array";
	if (cJSON_IsString(j))
		return "a string";
	if (cJSON_IsNumber(j))
		return "a number";
	if (cJSON_IsBool(j))
		return "a boolean";
	if (cJSON_IsNull(j))
		return "null";
	return "invalid";
}

static void problem_at(struct ctx *c, vagent_status st, int line,
		       const char *path, const char *fmt, va_list ap)
	VAGENT__PRINTF(5, 0);

static void problem_at(struct ctx *c, vagent_status st, int line,
		       const char *path, const char *fmt, va_list ap)
{
	char msg[400], text[512];
	bool keep = c->diags && c->n_found < VAGENT_DIAGS_MAX;

	c->n_errors++;
	if (c->n_errors > 1 && !keep) {
		if (c->diags)
			c->dropped++;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (path && *path)
		snprintf(text, sizeof(text), "%s:%d: %s: %s", c->file, line, path,
			 msg);
	else
		snprintf(text, sizeof(text), "%s:%d: %s", c->file, line, msg);
	if (c->n_errors == 1) {
		c->status = st;
		memcpy(c->first, text, sizeof(c->first));
	}
	if (!keep)
		return;
	if (!c->found) {
		c->found = calloc(VAGENT_DIAGS_MAX, sizeof(*c->found));
		if (!c->found) {
			c->dropped++;
			return;
		}
	}
	c->found[c->n_found].text = strdup(text);
	if (!c->found[c->n_found].text) {
		c->dropped++;
		return;
	}
	c->found[c->n_found].line = line;
	c->found[c->n_found].status = st;
	c->n_found++;
}

/* A problem with the value at `path`. */
static void problem(struct ctx *c, vagent_status st, const char *path,
		    const char *fmt, ...) VAGENT__PRINTF(4, 5);

static void problem(struct ctx *c, vagent_status st, const char *path,
		    const char *fmt, ...)
{
	bool told = c->n_errors == 0 ||
		    (c->diags && c->n_found < VAGENT_DIAGS_MAX);
	va_list ap;

	va_start(ap, fmt);
	/* a line is looked for only for a problem that is told: a file with
	 * 100 000 problems stays linear */
	problem_at(c, st, told ? vagent__json_line(c->text, c->len, path) : 0,
		   path, fmt, ap);
	va_end(ap);
}

/*
 * Hand the problems found to c->diags in file order (by line; on one line
 * in the order found) and free them; err gets the first of them (or, with
 * no diags, the first problem found). Returns that problem's status.
 */
static vagent_status flush_found(struct ctx *c, struct vagent_error *err)
{
	vagent_status st = c->status;
	size_t i;

	if (c->n_found) {
		/* a stable insertion sort (equal lines stay in the order
		 * found) of at most VAGENT_DIAGS_MAX entries */
		for (size_t k = 1; k < c->n_found; k++) {
			struct found f = c->found[k];
			size_t j = k;

			for (; j > 0 && c->found[j - 1].line > f.line; j--)
				c->found[j] = c->found[j - 1];
			c->found[j] = f;
		}
		st = c->found[0].status;
		vagent__error_set(err, st, NULL, "%s", c->found[0].text);
	} else if (c->n_errors) {
		vagent__error_set(err, st, NULL, "%s", c->first);
	}
	for (i = 0; i < c->n_found; i++) {
		vagent_diags_add(c->diags, "%s", c->found[i].text);
		free(c->found[i].text);
	}
	if (c->diags)
		c->diags->dropped += c->dropped;
	free(c->found);
	c->found = NULL;
	c->n_found = 0;
	return st;
}

static void warning(struct ctx *c, const char *path, const char *fmt, ...)
	VAGENT__PRINTF(3, 4);

static void warning(struct ctx *c, const char *path, const char *fmt, ...)
{
	struct vagent_agent *a = &c->ap->pub;
	char msg[400], line[512];
	char **w;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s:%d: %s: %s", c->file,
		 vagent__json_line(c->text, c->len, path), path, msg);
	w = realloc(a->warnings, (a->n_warnings + 1) * sizeof(*w));
	if (!w) {
		c->ap->oom = true;
		return;
	}
	a->warnings = w;
	w[a->n_warnings] = strdup(line);
	if (!w[a->n_warnings]) {
		c->ap->oom = true;
		return;
	}
	a->n_warnings++;
}

/* "PARENT.key" or "key" into buf. */
static const char *join(char *buf, size_t n, const char *parent,
			const char *key)
{
	snprintf(buf, n, "%.440s%s%.60s", parent, *parent ? "." : "", key);
	return buf;
}

static const char *join_index(char *buf, size_t n, const char *parent,
			      size_t i)
{
	snprintf(buf, n, "%.440s[%zu]", parent, i);
	return buf;
}

/* ---- "did you mean" ---- */

/* Edit distance with transpositions (optimal string alignment),
 * case-insensitive. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[64][64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t best = d[i - 1][j - 1] + (ca != cb);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

/* The candidate closest to `word` when close enough, else NULL. */
static const char *closest(const char *word, const char *const *cands)
{
	const char *best = NULL;
	size_t best_d = 99;

	for (; *cands; cands++) {
		size_t d = edit_distance(word, *cands);
		size_t len = strlen(*cands);
		size_t limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;

		if (d <= limit && d < best_d) {
			best_d = d;
			best = *cands;
		}
	}
	return best;
}

/* ---- generic checks ---- */

static int cmp_named(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	return r ? r : (x->i > y->i) - (x->i < y->i);
}

/*
 * For names[0..n) (NULL: none): earlier[i] is the index of the first
 * earlier element with the same name, or SIZE_MAX (transfer full; NULL
 * without memory). Sorting keeps it n log n: files with 100 000 names
 * load in a blink.
 */
static size_t *earlier_names(struct ctx *c, const char *(*name_of)(const void *, size_t),
			     const void *base, size_t n)
{
	struct named *v = calloc(n ? n : 1, sizeof(*v));
	size_t *earlier = malloc((n ? n : 1) * sizeof(*earlier));
	size_t i, m = 0, first = 0;

	if (!v || !earlier) {
		free(v);
		free(earlier);
		c->ap->oom = true;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		earlier[i] = SIZE_MAX;
		if (name_of(base, i)) {
			v[m].name = name_of(base, i);
			v[m++].i = i;
		}
	}
	qsort(v, m, sizeof(*v), cmp_named);
	for (i = 0; i < m; i++) {
		if (i == 0 || strcmp(v[i].name, v[i - 1].name) != 0)
			first = v[i].i;
		else
			earlier[v[i].i] = first;
	}
	free(v);
	return earlier;
}

/* Unknown and duplicate keys of object `o` (at `path`). */
static const char *child_name(const void *base, size_t i)
{
	const cJSON *const *v = base;

	return v[i]->string;
}

static void check_keys(struct ctx *c, const cJSON *o, const char *path,
		       const char *const *known)
{
	const cJSON *it;
	const cJSON **kids = NULL;
	size_t *earlier = NULL, n = 0, i = 0;
	char p[512];

	cJSON_ArrayForEach(it, o)
		n++;
	if (n > 1) {
		kids = malloc(n * sizeof(*kids));
		if (!kids) {
			c->ap->oom = true;
			return;
		}
		cJSON_ArrayForEach(it, o)
			kids[i++] = it;
		earlier = earlier_names(c, child_name, kids, n);
		free(kids);
		if (!earlier)
			return;
	}
	i = 0;

	cJSON_ArrayForEach(it, o) {
		const char *const *k;
		const char *near;
		bool ok = false;

		i++;
		for (k = known; *k; k++)
			if (strcmp(*k, it->string) == 0)
				ok = true;
		join(p, sizeof(p), path, it->string);
		if (!ok) {
			near = closest(it->string, known);
			if (near)
				problem(c, VAGENT_EINVAL, p,
					"unknown key \"%s\" (did you mean \"%s\"?)",
					it->string, near);
			else
				problem(c, VAGENT_EINVAL, p,
					"unknown key \"%s\"", it->string);
			continue;
		}
		if (earlier && earlier[i - 1] != SIZE_MAX)
			problem(c, VAGENT_EINVAL, p, "duplicate key");
	}
	free(earlier);
}

/* The member `key` of `o` when it has the wanted type; a problem when it
 * has another; NULL when absent (a problem too when required). */
enum want { W_STRING, W_NUMBER, W_BOOL, W_OBJECT, W_ARRAY, W_ANY };

static const cJSON *member(struct ctx *c, const cJSON *o, const char *path,
			   const char *key, enum want w, bool required)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	static const char *const want_name[] = {
		"a string", "a number", "a boolean", "an object", "an array",
		"a value"
	};
	char p[512];
	bool ok;

	join(p, sizeof(p), path, key);
	if (!j) {
		if (required)
			problem(c, VAGENT_EINVAL, p, "missing (required)");
		return NULL;
	}
	switch (w) {
	case W_STRING: ok = cJSON_IsString(j); break;
	case W_NUMBER: ok = cJSON_IsNumber(j); break;
	case W_BOOL: ok = cJSON_IsBool(j); break;
	case W_OBJECT: ok = cJSON_IsObject(j); break;
	case W_ARRAY: ok = cJSON_IsArray(j); break;
	default: ok = !cJSON_IsNull(j); break;
	}
	if (!ok) {
		problem(c, VAGENT_EINVAL, p, "must be %s (got %s)", want_name[w],
			type_name(j));
		return NULL;
	}
	return j;
}

/* Whether `o` has the member `key`, of any type. */
static bool present(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key) != NULL;
}

/* Whether the member `key` of `o` is there but was reported already (not
 * of the type `is`, or an empty string): a rule that needs the member
 * ("an intent needs examples") then says nothing more. */
static bool reported(const cJSON *o, const char *key, cJSON_bool (*is)(const cJSON *))
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

	return j && (!is(j) || (cJSON_IsString(j) && !j->valuestring[0]));
}

/* A string member (pool copy) or `def`; non-empty when `nonempty`. */
static char *get_string(struct ctx *c, const cJSON *o, const char *path,
			const char *key, bool required, const char *def)
{
	const cJSON *j = member(c, o, path, key, W_STRING, required);
	char p[512];

	if (!j)
		return pool_strdup(c, def);
	if (!j->valuestring[0]) {
		problem(c, VAGENT_EINVAL, join(p, sizeof(p), path, key),
			"must not be empty");
		return pool_strdup(c, def);
	}
	return pool_strdup(c, j->valuestring);
}

static void get_int(struct ctx *c, const cJSON *o, const char *path,
		    const char *key, long lo, long hi, int *out)
{
	const cJSON *j = member(c, o, path, key, W_NUMBER, false);
	char p[512];
	double v;

	if (!j)
		return;
	v = j->valuedouble;
	join(p, sizeof(p), path, key);
	if (v != floor(v)) {
		problem(c, VAGENT_EINVAL, p, "must be a whole number (got %g)", v);
		return;
	}
	if (v < (double)lo || v > (double)hi) {
		problem(c, VAGENT_EINVAL, p, "must be between %ld and %ld (got %.0f)",
			lo, hi, v);
		return;
	}
	*out = (int)v;
}

static void get_double(struct ctx *c, const cJSON *o, const char *path,
		       const char *key, double lo, double hi, double *out)
{
	const cJSON *j = member(c, o, path, key, W_NUMBER, false);
	char p[512];

	if (!j)
		return;
	if (j->valuedouble < lo || j->valuedouble > hi) {
		problem(c, VAGENT_EINVAL, join(p, sizeof(p), path, key),
			"must be between %g and %g (got %g)", lo, hi,
			j->valuedouble);
		return;
	}
	*out = j->valuedouble;
}

static void get_bool(struct ctx *c, const cJSON *o, const char *path,
		     const char *key, bool *out)
{
	const cJSON *j = member(c, o, path, key, W_BOOL, false);

	if (j)
		*out = cJSON_IsTrue(j);
}

/* A copy of a NULL-terminated list (pool; empty for NULL). */
static char **copy_list(struct ctx *c, const char *const *def)
{
	size_t n = 0, i;
	char **l;

	while (def && def[n])
		n++;
	l = pool_calloc(c, n + 1, sizeof(*l));
	for (i = 0; l && i < n; i++)
		l[i] = pool_strdup(c, def[i]);
	return l;
}

/* A list of non-empty strings (pool, NULL-terminated), `def` when absent,
 * an empty list when absent without a default. */
static char **get_list(struct ctx *c, const cJSON *o, const char *path,
		       const char *key, const char *const *def)
{
	const cJSON *j = member(c, o, path, key, W_ARRAY, false);
	const cJSON *it;
	char **l;
	size_t n = 0, i = 0;
	char p[512], pi[512];

	if (!j)
		return copy_list(c, def);
	join(p, sizeof(p), path, key);
	n = (size_t)cJSON_GetArraySize(j);
	l = pool_calloc(c, n + 1, sizeof(*l));
	if (!l)
		return NULL;
	cJSON_ArrayForEach(it, j) {
		join_index(pi, sizeof(pi), p, i);
		if (!cJSON_IsString(it)) {
			problem(c, VAGENT_EINVAL, pi, "must be a string (got %s)",
				type_name(it));
			continue;
		}
		if (!it->valuestring[0]) {
			problem(c, VAGENT_EINVAL, pi, "must not be empty");
			continue;
		}
		l[i++] = pool_strdup(c, it->valuestring);
	}
	return l;
}

/* One of `names` (NULL-terminated): the index, or a problem and -1. */
static int get_choice(struct ctx *c, const cJSON *o, const char *path,
		      const char *key, const char *const *names, int def)
{
	const cJSON *j = member(c, o, path, key, W_STRING, false);
	char p[512], list[256] = "";
	const char *near;
	int i;

	if (!j)
		return def;
	for (i = 0; names[i]; i++)
		if (strcmp(names[i], j->valuestring) == 0)
			return i;
	for (i = 0; names[i]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 i ? ", " : "", names[i]);
	join(p, sizeof(p), path, key);
	near = closest(j->valuestring, names);
	if (near)
		problem(c, VAGENT_EINVAL, p, "unknown %s \"%s\" (did you mean \"%s\"?)",
			key, j->valuestring, near);
	else
		problem(c, VAGENT_EINVAL, p, "unknown %s \"%s\" (one of %s)", key,
			j->valuestring, list);
	return def;
}

/* The JSON value as compact text (pool). */
static char *json_text(struct ctx *c, const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j), *d;

	if (!s) {
		c->ap->oom = true;
		return NULL;
	}
	d = pool_strdup(c, s);
	cJSON_free(s);
	return d;
}

static bool is_identifier(const char *s, bool dots)
{
	if (!*s || !(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-' ||
		      (dots && *s == '.')))
			return false;
	return true;
}

static bool is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 ||
	       s[0] == '{';
}

/* ---- variables ---- */

/* `v` with ${NAME} and ${NAME:-default} expanded from the environment
 * (malloc'd); NULL and a problem when a variable is unset without a
 * default or the syntax is broken. */
static char *expand_env(struct ctx *c, const char *path, const char *v)
{
	struct vagent__strbuf b = { 0 };

	while (*v) {
		const char *end, *dash;
		char name[128];
		size_t nlen;
		const char *val;

		if (v[0] != '$' || v[1] != '{') {
			vagent__strbuf_put(&b, v++, 1);
			continue;
		}
		end = strchr(v + 2, '}');
		if (!end) {
			problem(c, VAGENT_EINVAL, path, "unterminated \"${\"");
			vagent__strbuf_release(&b);
			return NULL;
		}
		dash = strstr(v + 2, ":-");
		nlen = (size_t)((dash && dash < end ? dash : end) - (v + 2));
		if (nlen == 0 || nlen >= sizeof(name)) {
			problem(c, VAGENT_EINVAL, path, "bad variable name in \"%.*s\"",
				(int)(end + 1 - v), v);
			vagent__strbuf_release(&b);
			return NULL;
		}
		memcpy(name, v + 2, nlen);
		name[nlen] = '\0';
		val = getenv(name);
		if (val && *val) {
			vagent__strbuf_puts(&b, val);
		} else if (dash && dash < end) {
			vagent__strbuf_put(&b, dash + 2, (size_t)(end - dash - 2));
		} else {
			problem(c, VAGENT_EINVAL, path,
				"environment variable %s is not set (give a default: ${%s:-VALUE})",
				name, name);
			vagent__strbuf_release(&b);
			return NULL;
		}
		v = end + 1;
	}
	return vagent__strbuf_detach(&b);
}

static void parse_variables(struct ctx *c, const cJSON *root)
{
	struct vagent_agent *a = &c->ap->pub;
	const cJSON *o = member(c, root, "", "variables", W_OBJECT, false), *it;
	char p[512];
	size_t i = 0;

	if (!o)
		return;
	a->variables = pool_calloc(c, (size_t)cJSON_GetArraySize(o),
				   sizeof(*a->variables));
	if (!a->variables)
		return;
	cJSON_ArrayForEach(it, o) {
		char *v;

		join(p, sizeof(p), "variables", it->string);
		if (!is_identifier(it->string, false)) {
			problem(c, VAGENT_EINVAL, p, "bad variable name \"%s\"",
				it->string);
			continue;
		}
		if (!cJSON_IsString(it)) {
			problem(c, VAGENT_EINVAL, p, "must be a string (got %s)",
				type_name(it));
			continue;
		}
		v = expand_env(c, p, it->valuestring);
		if (!v)
			continue;
		a->variables[i].name = pool_strdup(c, it->string);
		a->variables[i].value = pool_keep(c, v);
		i++;
	}
	a->n_variables = i;
}

static void build_var_list(struct ctx *c)
{
	const struct vagent_agent *a = &c->ap->pub;
	char **l = pool_calloc(c, a->n_variables + 1, sizeof(*l));
	size_t i;

	for (i = 0; l && i < a->n_variables; i++) {
		size_t n = strlen(a->variables[i].name) +
			   strlen(a->variables[i].value) + 2;

		l[i] = pool_calloc(c, n, 1);
		if (l[i])
			snprintf(l[i], n, "%s=%s", a->variables[i].name,
				 a->variables[i].value);
	}
	c->ap->var_list = l;
}

static bool has_variable(const struct vagent_agent *a, const char *name,
			 size_t len)
{
	size_t i;

	for (i = 0; i < a->n_variables; i++)
		if (strlen(a->variables[i].name) == len &&
		    memcmp(a->variables[i].name, name, len) == 0)
			return true;
	return false;
}

/* ---- sections ---- */

static void parse_settings(struct ctx *c, const cJSON *root)
{
	struct vagent_agent_config *cfg = &c->ap->pub.config;
	const cJSON *o;
	static const char *const vad_keys[] = {
		"threshold", "onset_ms", "hangover_ms", "full_hangover_after_ms",
		"min_energy_dbfs", "noise_window_ms", NULL
	};
	static const char *const turn_keys[] = {
		"start_ms", "min_hold_ms", "max_hold_ms", "hold_rule",
		"hold_words", NULL
	};
	static const char *const int_keys[] = {
		"barge_in", "min_speech_ms", "min_words", "backchannel_max_ms",
		"backchannels", "cancel_tools", NULL
	};
	static const char *const no_input_keys[] = {
		"after_ms", "reprompt", "max_reprompts", "goodbye", NULL
	};
	static const char *const deg_keys[] = {
		"filler_after_ms", "filler_text", "tool_timeout_ms",
		"llm_timeout_ms", "tts_timeout_ms", "stt_final_wait_ms", NULL
	};

	if ((o = member(c, root, "", "vad", W_OBJECT, false))) {
		check_keys(c, o, "vad", vad_keys);
		get_double(c, o, "vad", "threshold", 0, 1, &cfg->vad.threshold);
		get_int(c, o, "vad", "onset_ms", 0, 600000, &cfg->vad.onset_ms);
		get_int(c, o, "vad", "hangover_ms", 0, 600000,
			&cfg->vad.hangover_ms);
		get_int(c, o, "vad", "full_hangover_after_ms", 0, 600000,
			&cfg->vad.full_hangover_after_ms);
		get_double(c, o, "vad", "min_energy_dbfs", -140, 0,
			   &cfg->vad.min_energy_dbfs);
		get_int(c, o, "vad", "noise_window_ms", 100, 8000,
			&cfg->vad.noise_window_ms);
	}
	if ((o = member(c, root, "", "turn", W_OBJECT, false))) {
		check_keys(c, o, "turn", turn_keys);
		get_int(c, o, "turn", "start_ms", 0, 600000, &cfg->turn.start_ms);
		get_int(c, o, "turn", "min_hold_ms", 0, 600000,
			&cfg->turn.min_hold_ms);
		get_int(c, o, "turn", "max_hold_ms", 0, 600000,
			&cfg->turn.max_hold_ms);
		get_bool(c, o, "turn", "hold_rule", &cfg->turn.hold_rule);
		if (cJSON_GetObjectItemCaseSensitive(o, "hold_words"))
			cfg->turn.hold_words = (const char *const *)
				get_list(c, o, "turn", "hold_words", NULL);
		if (cfg->turn.max_hold_ms < cfg->turn.min_hold_ms)
			problem(c, VAGENT_EINVAL, "turn.max_hold_ms",
				"must be at least min_hold_ms (%d)",
				cfg->turn.min_hold_ms);
	}
	if ((o = member(c, root, "", "interruption", W_OBJECT, false))) {
		check_keys(c, o, "interruption", int_keys);
		get_bool(c, o, "interruption", "barge_in", &cfg->barge_in);
		get_int(c, o, "interruption", "min_speech_ms", 0, 10000,
			&cfg->min_speech_ms);
		get_int(c, o, "interruption", "backchannel_max_ms", 0, 10000,
			&cfg->backchannel_max_ms);
		get_int(c, o, "interruption", "min_words", 0, 10,
			&cfg->barge_in_min_words);
		if (cJSON_GetObjectItemCaseSensitive(o, "backchannels"))
			cfg->backchannels = (const char *const *)
				get_list(c, o, "interruption", "backchannels", NULL);
		get_bool(c, o, "interruption", "cancel_tools",
			 &cfg->cancel_tools_on_barge_in);
	}
	if ((o = member(c, root, "", "no_input", W_OBJECT, false))) {
		char *s;

		check_keys(c, o, "no_input", no_input_keys);
		get_int(c, o, "no_input", "after_ms", 1000, 600000, &cfg->no_input_ms);
		if (!cJSON_GetObjectItemCaseSensitive(o, "after_ms"))
			problem(c, VAGENT_EINVAL, "no_input.after_ms",
				"missing: how long the caller's silence lasts before a reprompt");
		if ((s = get_string(c, o, "no_input", "reprompt", false, NULL)))
			cfg->no_input_text = s;
		get_int(c, o, "no_input", "max_reprompts", 0, 10, &cfg->no_input_max);
		if ((s = get_string(c, o, "no_input", "goodbye", false, NULL)))
			cfg->no_input_goodbye = s;
	}
	if ((o = member(c, root, "", "degradation", W_OBJECT, false))) {
		char *s;

		check_keys(c, o, "degradation", deg_keys);
		get_int(c, o, "degradation", "filler_after_ms", 0, 600000,
			&cfg->filler_after_ms);
		s = get_string(c, o, "degradation", "filler_text", false, NULL);
		if (s)
			cfg->filler_text = s;
		get_int(c, o, "degradation", "tool_timeout_ms", 1, 600000,
			&cfg->tool_timeout_ms);
		get_int(c, o, "degradation", "llm_timeout_ms", 1, 600000,
			&cfg->llm_timeout_ms);
		get_int(c, o, "degradation", "tts_timeout_ms", 1, 600000,
			&cfg->tts_timeout_ms);
		get_int(c, o, "degradation", "stt_final_wait_ms", 0, 600000,
			&cfg->stt_final_wait_ms);
	}
}

/* stt.denoise: false (off), true (the recogniser's default level) or the
 * noise suppression in dB, 1..60 (docs/stt.md "Noisy lines"). */
static void get_denoise(struct ctx *c, const cJSON *o, double *out)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, "denoise");

	if (!j)
		return;
	if (cJSON_IsBool(j)) {
		*out = cJSON_IsTrue(j) ? VAGENT_SPHINX_DENOISE_DB : 0;
		return;
	}
	if (!cJSON_IsNumber(j)) {
		problem(c, VAGENT_EINVAL, "stt.denoise",
			"must be true, false or a level in dB (got %s)",
			type_name(j));
		return;
	}
	if (!(j->valuedouble >= 1 && j->valuedouble <= 60)) {
		problem(c, VAGENT_EINVAL, "stt.denoise",
			"must be between 1 and 60 dB (got %g)", j->valuedouble);
		return;
	}
	*out = j->valuedouble;
}

/* The LLM brains' settings of "brain" (docs/providers.md). */
static void parse_llm(struct ctx *c, const cJSON *o, bool llm)
{
	struct vagent_agent *a = &c->ap->pub;
	static const char *const llm_only[] = { "model", "base_url", "api_key_env",
						"system", "prompt", "temperature",
						"max_tokens", "fallback", NULL };
	static const char *const fallbacks[] = { "flow", NULL };
	const char *const *k;
	const cJSON *j;
	char *url;

	if (!llm) {
		for (k = llm_only; *k; k++) {
			char p[64];

			if (!present(o, *k))
				continue;
			snprintf(p, sizeof(p), "brain.%s", *k);
			problem(c, VAGENT_EINVAL, p,
				"only for the openai and anthropic providers");
		}
		return;
	}
	a->brain.model = get_string(c, o, "brain", "model", true, NULL);
	url = get_string(c, o, "brain", "base_url", false, NULL);
	if (url) {
		char *v = expand_env(c, "brain.base_url", url);

		if (v && strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
			problem(c, VAGENT_EINVAL, "brain.base_url",
				"must be an http:// or https:// URL");
		else if (v)
			a->brain.base_url = pool_strdup(c, v);
		free(v);
	}
	a->brain.api_key_env = get_string(c, o, "brain", "api_key_env", false, NULL);
	if (a->brain.api_key_env) {
		const char *s = a->brain.api_key_env;
		bool ok = !isdigit((unsigned char)*s);

		for (; *s; s++)
			if (!isalnum((unsigned char)*s) && *s != '_')
				ok = false;
		if (!ok)
			problem(c, VAGENT_EINVAL, "brain.api_key_env",
				"must be an environment variable name (got \"%s\")",
				a->brain.api_key_env);
	}
	if (present(o, "system") && present(o, "prompt"))
		problem(c, VAGENT_EINVAL, "brain.prompt",
			"give the system prompt once (\"system\" or \"prompt\")");
	a->brain.system = get_string(c, o, "brain", present(o, "system") ? "system" : "prompt",
				     false, NULL);
	get_double(c, o, "brain", "temperature", 0, 2, &a->brain.temperature);
	get_int(c, o, "brain", "max_tokens", 1, 1000000, &a->brain.max_tokens);
	if ((j = cJSON_GetObjectItemCaseSensitive(o, "fallback")) != NULL) {
		int f = get_choice(c, o, "brain", "fallback", fallbacks, -1);

		if (f >= 0)
			a->brain.fallback = pool_strdup(c, fallbacks[f]);
	}
}

static bool env_name(const char *s)
{
	if (!s || !((*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static bool name_token(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

/* The cloud STT fields of "stt" (docs/providers.md "Deepgram (STT)"). */
static void parse_cloud_stt(struct ctx *c, const cJSON *o, const char *provider)
{
	struct vagent_agent *a = &c->ap->pub;
	static const char *const cloud_keys[] = { "model", "url", "api_key_env",
						  "encoding", "language",
						  "endpointing_ms", NULL };
	static const char *const encodings[] = { "linear16", "mulaw", NULL };
	static const char *const fallbacks[] = { "pocketsphinx", "sim", NULL };
	bool deepgram = !strcmp(provider, "deepgram");
	bool openai = !strcmp(provider, "openai");
	const cJSON *j;

	for (int k = 0; cloud_keys[k]; k++) {
		char p[64];

		if (!cJSON_GetObjectItemCaseSensitive(o, cloud_keys[k]))
			continue;
		snprintf(p, sizeof(p), "stt.%s", cloud_keys[k]);
		if (!deepgram && !openai)
			problem(c, VAGENT_EINVAL, p, "only for a cloud provider "
				"(\"deepgram\", \"openai\"), not \"%s\"", provider);
		else if (openai && (!strcmp(cloud_keys[k], "encoding") ||
				    !strcmp(cloud_keys[k], "endpointing_ms")))
			problem(c, VAGENT_EINVAL, p, "only for \"deepgram\" (openai is sent WAV per turn)");
	}
	a->stt.endpointing_ms = 300;
	if (!deepgram && !openai)
		goto fallback;
	a->stt.model = get_string(c, o, "stt", "model", false,
				  openai ? "gpt-4o-mini-transcribe" : "nova-2");
	if (a->stt.model && !name_token(a->stt.model))
		problem(c, VAGENT_EINVAL, "stt.model", "\"%s\" is not a model name", a->stt.model);
	a->stt.language = get_string(c, o, "stt", "language", false, NULL);
	if (a->stt.language && !name_token(a->stt.language))
		problem(c, VAGENT_EINVAL, "stt.language", "\"%s\" is not a language code",
			a->stt.language);
	a->stt.url = get_string(c, o, "stt", "url", false, NULL);
	if (a->stt.url) {
		bool tls;
		char *host = NULL, *path = NULL;
		int port;

		if (openai) {
			if (!vagent__is_http_base_url(a->stt.url))
				problem(c, VAGENT_EINVAL, "stt.url", "must be an http:// or https:// "
					"base URL (\".../v1\") without query or credentials");
		} else if (!vagent__ws_parse_url(a->stt.url, &tls, &host, &port, &path)) {
			problem(c, VAGENT_EINVAL, "stt.url",
				"must be a ws:// or wss:// URL with a host and no credentials");
		}
		free(host);
		free(path);
	}
	a->stt.api_key_env = get_string(c, o, "stt", "api_key_env", false, NULL);
	if (a->stt.api_key_env && !env_name(a->stt.api_key_env))
		problem(c, VAGENT_EINVAL, "stt.api_key_env",
			"must name an environment variable (A-Z, 0-9, _), not hold the key");
	if ((j = cJSON_GetObjectItemCaseSensitive(o, "encoding")))
		a->stt.encoding = pool_strdup(c, encodings[get_choice(c, o, "stt", "encoding",
								      encodings, 0)]);
	get_int(c, o, "stt", "endpointing_ms", 0, 10000, &a->stt.endpointing_ms);
fallback:
	if ((j = cJSON_GetObjectItemCaseSensitive(o, "fallback"))) {
		int f = get_choice(c, o, "stt", "fallback", fallbacks, -1);

		if (f >= 0 && !strcmp(fallbacks[f], provider))
			problem(c, VAGENT_EINVAL, "stt.fallback",
				"\"%s\" is the provider itself", provider);
		else if (f >= 0)
			a->stt.fallback = pool_strdup(c, fallbacks[f]);
	}
}

/* The cloud TTS fields of "tts" (docs/providers.md "Cloud TTS"). */
static void parse_cloud_tts(struct ctx *c, const cJSON *o, const char *provider)
{
	struct vagent_agent *a = &c->ap->pub;
	static const char *const cloud_keys[] = { "model", "url", "api_key_env",
						  "transport", "speed", NULL };
	static const char *const transports[] = { "websocket", "http", NULL };
	static const char *const fallbacks[] = { "flite", "sim", NULL };
	bool elevenlabs = !strcmp(provider, "elevenlabs");
	bool cartesia = !strcmp(provider, "cartesia");
	bool openai = !strcmp(provider, "openai");
	const cJSON *j;

	for (int k = 0; cloud_keys[k]; k++) {
		char p[64];

		if (!cJSON_GetObjectItemCaseSensitive(o, cloud_keys[k]))
			continue;
		snprintf(p, sizeof(p), "tts.%s", cloud_keys[k]);
		if (!elevenlabs && !cartesia && !openai)
			problem(c, VAGENT_EINVAL, p, "only for a cloud provider (\"elevenlabs\", "
				"\"cartesia\", \"openai\"), not \"%s\"", provider);
		else if (!elevenlabs && !strcmp(cloud_keys[k], "transport"))
			problem(c, VAGENT_EINVAL, p, "only for \"elevenlabs\" (%s has one transport)",
				provider);
	}
	if (!elevenlabs && !cartesia && !openai)
		goto fallback;
	a->tts.voice = get_string(c, o, "tts", "voice", cartesia,
				  elevenlabs ? "21m00Tcm4TlvDq8ikWAM" : openai ? "alloy" : NULL);
	if (a->tts.voice && !name_token(a->tts.voice))
		problem(c, VAGENT_EINVAL, "tts.voice", "\"%s\" is not a voice id or name",
			a->tts.voice);
	a->tts.model = get_string(c, o, "tts", "model", false,
				  elevenlabs ? "eleven_flash_v2_5" :
				  cartesia ? "sonic-2" : "gpt-4o-mini-tts");
	if (a->tts.model && !name_token(a->tts.model))
		problem(c, VAGENT_EINVAL, "tts.model", "\"%s\" is not a model name", a->tts.model);
	a->tts.url = get_string(c, o, "tts", "url", false, NULL);
	if (a->tts.url) {             /* ${ENV} and ${ENV:-default}, as brain.base_url */
		char *v = expand_env(c, "tts.url", a->tts.url);

		a->tts.url = v ? pool_strdup(c, v) : NULL;
		free(v);
	}
	if (a->tts.url && cartesia) {
		bool tls;
		char *host = NULL, *path = NULL;
		int port;

		if (!vagent__ws_parse_url(a->tts.url, &tls, &host, &port, &path))
			problem(c, VAGENT_EINVAL, "tts.url",
				"must be a ws:// or wss:// URL with a host and no credentials");
		free(host);
		free(path);
	} else if (a->tts.url && !vagent__is_http_base_url(a->tts.url)) {
		problem(c, VAGENT_EINVAL, "tts.url", "must be an http:// or https:// base URL "
			"without query or credentials");
	}
	a->tts.api_key_env = get_string(c, o, "tts", "api_key_env", false,
					elevenlabs ? "ELEVENLABS_API_KEY" :
					cartesia ? "CARTESIA_API_KEY" : "OPENAI_API_KEY");
	if (a->tts.api_key_env && !env_name(a->tts.api_key_env))
		problem(c, VAGENT_EINVAL, "tts.api_key_env",
			"must name an environment variable (A-Z, 0-9, _), not hold the key");
	if (elevenlabs)
		a->tts.transport = pool_strdup(c, transports[get_choice(c, o, "tts", "transport",
									transports, 0)]);
	get_double(c, o, "tts", "speed", 0.25, 4.0, &a->tts.speed);
fallback:
	if ((j = cJSON_GetObjectItemCaseSensitive(o, "fallback"))) {
		int f = get_choice(c, o, "tts", "fallback", fallbacks, -1);

		if (f >= 0 && !strcmp(fallbacks[f], provider))
			problem(c, VAGENT_EINVAL, "tts.fallback",
				"\"%s\" is the provider itself", provider);
		else if (f >= 0)
			a->tts.fallback = pool_strdup(c, fallbacks[f]);
	}
}

static void parse_providers(struct ctx *c, const cJSON *root)
{
	struct vagent_agent *a = &c->ap->pub;
	static const char *const stt_keys[] = { "provider", "boost",
						"boost_weight", "denoise", "model", "url",
						"api_key_env", "encoding", "language",
						"endpointing_ms", "fallback", NULL };
	static const char *const tts_keys[] = { "provider", "voice", "model", "url",
						"api_key_env", "transport", "speed",
						"fallback", NULL };
	static const char *const brain_keys[] = { "provider", "model", "base_url",
						  "api_key_env", "system", "prompt",
						  "temperature", "max_tokens",
						  "fallback", NULL };
	static const char *const stt_names[] = { "pocketsphinx", "sim", "deepgram", "openai",
						 NULL };
	static const char *const tts_names[] = { "flite", "sim", "elevenlabs", "cartesia",
						 "openai", NULL };
	static const char *const voices[] = { "slt", "rms", "awb", "kal16",
					      "kal", NULL };
	static const char *const brain_names[] = { "flow", "sim", "openai",
						   "anthropic", NULL };
	const cJSON *o;
	int i;

	a->stt.boost = true;
	a->stt.boost_weight = 0.5;
	a->stt.denoise_db = vagent_sphinx_config_default().denoise_db;
	i = 0;
	if ((o = member(c, root, "", "stt", W_OBJECT, false))) {
		check_keys(c, o, "stt", stt_keys);
		i = get_choice(c, o, "stt", "provider", stt_names, 0);
		get_bool(c, o, "stt", "boost", &a->stt.boost);
		get_double(c, o, "stt", "boost_weight", 0, 1, &a->stt.boost_weight);
		get_denoise(c, o, &a->stt.denoise_db);
		parse_cloud_stt(c, o, stt_names[i]);
	}
	a->stt.provider = pool_strdup(c, stt_names[i]);
	if (!a->stt.api_key_env && !strcmp(stt_names[i], "deepgram"))
		a->stt.api_key_env = pool_strdup(c, "DEEPGRAM_API_KEY");
	if (!a->stt.api_key_env && !strcmp(stt_names[i], "openai"))
		a->stt.api_key_env = pool_strdup(c, "OPENAI_API_KEY");
	i = 0;
	a->tts.voice = NULL;
	if ((o = member(c, root, "", "tts", W_OBJECT, false))) {
		int v;

		check_keys(c, o, "tts", tts_keys);
		i = get_choice(c, o, "tts", "provider", tts_names, 0);
		if (i <= 1) {
			v = get_choice(c, o, "tts", "voice", voices, 0);
			a->tts.voice = pool_strdup(c, voices[v]);
		}
		parse_cloud_tts(c, o, tts_names[i]);
	}
	if (!a->tts.voice)
		a->tts.voice = pool_strdup(c, "slt");
	a->tts.provider = pool_strdup(c, tts_names[i]);
	i = 0;
	a->brain.temperature = -1;
	if ((o = member(c, root, "", "brain", W_OBJECT, false))) {
		check_keys(c, o, "brain", brain_keys);
		i = get_choice(c, o, "brain", "provider", brain_names, 0);
		parse_llm(c, o, i >= 2);
	}
	a->brain.provider = pool_strdup(c, brain_names[i]);
}

/* {name} references in an HTTP template must be arguments (parameters
 * properties, when declared) or variables. */
static void check_http_template(struct ctx *c, const char *path,
				const char *t, const cJSON *props)
{
	const char *s = t;

	while ((s = strchr(s, '{')) != NULL) {
		const char *end = strchr(s + 1, '}');
		char name[128];
		size_t n;

		if (!end)
			return;
		n = (size_t)(end - s - 1);
		if (n == 0 || n >= sizeof(name) || s[1] == '"' || s[1] == ' ' ||
		    memchr(s + 1, '{', n)) {
			s++;
			continue;
		}
		memcpy(name, s + 1, n);
		name[n] = '\0';
		if (!has_variable(&c->ap->pub, name, n) &&
		    !(props && cJSON_GetObjectItemCaseSensitive(props, name)) &&
		    props) {
			problem(c, VAGENT_EINVAL, path,
				"undefined reference {%s} (not an argument in parameters.properties nor a variable)",
				name);
		}
		s = end + 1;
	}
}

static void parse_faults(struct ctx *c, const cJSON *mock, const char *path,
			 struct vagent_tool_def *t)
{
	static const char *const fault_keys[] = {
		"kind", "from_call", "to_call", "delay_ms", "after",
		"http_status", NULL
	};
	const cJSON *arr = member(c, mock, path, "faults", W_ARRAY, false), *f;
	struct vagent_fault *faults;
	char p[512], pf[512], pk[512];
	size_t i = 0;

	if (!arr || cJSON_GetArraySize(arr) == 0)
		return;
	join(p, sizeof(p), path, "faults");
	faults = pool_calloc(c, (size_t)cJSON_GetArraySize(arr), sizeof(*faults));
	if (!faults)
		return;
	cJSON_ArrayForEach(f, arr) {
		struct vagent_fault *out = &faults[i];
		const cJSON *k;
		int kind;

		join_index(pf, sizeof(pf), p, i);
		i++;
		if (!cJSON_IsObject(f)) {
			problem(c, VAGENT_EINVAL, pf, "must be an object (got %s)",
				type_name(f));
			continue;
		}
		check_keys(c, f, pf, fault_keys);
		k = member(c, f, pf, "kind", W_STRING, true);
		out->from_call = 1;
		if (k) {
			kind = vagent_fault_kind_from_name(k->valuestring);
			if (kind < 0 ||
			    !vagent_fault_kind_allowed("tool", (vagent_fault_kind)kind)) {
				/* a tool takes the tool kinds only (not drop,
				 * wrong_words: those are the recogniser's) */
				problem(c, VAGENT_EINVAL, join(pk, sizeof(pk), pf, "kind"),
					"%s fault kind \"%s\" (one of %s)",
					kind < 0 ? "unknown" : "not a tool's",
					k->valuestring, vagent_fault_kinds_for("tool"));
			} else {
				out->kind = (vagent_fault_kind)kind;
			}
		}
		get_int(c, f, pf, "from_call", 1, INT_MAX, &out->from_call);
		get_int(c, f, pf, "to_call", 0, INT_MAX, &out->to_call);
		get_int(c, f, pf, "delay_ms", 0, 3600000, &out->delay_ms);
		get_int(c, f, pf, "after", 0, INT_MAX, &out->after);
		get_int(c, f, pf, "http_status", 100, 599, &out->http_status);
		if (out->to_call && out->to_call < out->from_call)
			problem(c, VAGENT_EINVAL, join(pk, sizeof(pk), pf, "to_call"),
				"must be 0 or at least from_call (%d)",
				out->from_call);
	}
	t->faults = faults;
	t->n_faults = i;
}

/* A tool's "mock" object at `path` (the agent file's, or a scenario's
 * override): its reply, latency and faults. */
static void parse_mock(struct ctx *c, const cJSON *mock, const char *path,
		       struct vagent_tool_def *t)
{
	static const char *const mock_keys[] = { "result", "latency_ms",
						 "jitter_ms", "faults", NULL };
	const cJSON *j;

	check_keys(c, mock, path, mock_keys);
	j = member(c, mock, path, "result", W_ANY, false);
	t->mock_result = j ? json_text(c, j) : pool_strdup(c, "{}");
	get_int(c, mock, path, "latency_ms", 0, 600000, &t->mock_latency.base_ms);
	get_int(c, mock, path, "jitter_ms", 0, 600000, &t->mock_latency.jitter_ms);
	parse_faults(c, mock, path, t);
}

static void parse_tool(struct ctx *c, const cJSON *o, const char *path,
		       struct vagent_tool_def *t)
{
	static const char *const keys[] = {
		"name", "description", "parameters", "http", "timeout_ms",
		"retries", "backoff_ms", "max_backoff_ms", "max_response_bytes",
		"guard", "mock", NULL
	};
	static const char *const http_keys[] = { "method", "url", "headers",
						 "body", NULL };
	static const char *const guard_keys[] = { "argument", "confirm_above",
						  "max", NULL };
	static const char *const methods[] = { "POST", "GET", "PUT", "PATCH",
					       "DELETE", NULL };
	const cJSON *params, *http, *guard, *mock, *props = NULL, *j;
	char p[512], pp[512];
	int bytes = 1 << 20;

	check_keys(c, o, path, keys);
	t->name = get_string(c, o, path, "name", true, NULL);
	if (t->name && (!is_identifier(t->name, true) ||
			strcmp(t->name, VAGENT_KNOWLEDGE_TOOL) == 0))
		problem(c, VAGENT_EINVAL, join(p, sizeof(p), path, "name"),
			strcmp(t->name, VAGENT_KNOWLEDGE_TOOL) == 0
			? "\"%s\" is the built-in knowledge tool"
			: "bad tool name \"%s\" (letters, digits, _ - .)", t->name);
	t->description = get_string(c, o, path, "description", false, NULL);
	params = member(c, o, path, "parameters", W_OBJECT, false);
	if (params) {
		t->parameters = json_text(c, params);
		props = cJSON_GetObjectItemCaseSensitive(params, "properties");
		if (props && !cJSON_IsObject(props)) {
			join(pp, sizeof(pp), path, "parameters.properties");
			problem(c, VAGENT_EINVAL, pp, "must be an object (got %s)",
				type_name(props));
			props = NULL;
		}
	}
	t->timeout_ms = 5000;
	t->retries = 2;
	t->backoff_ms = 200;
	t->max_backoff_ms = 4000;
	get_int(c, o, path, "timeout_ms", 1, 600000, &t->timeout_ms);
	get_int(c, o, path, "retries", 0, 10, &t->retries);
	get_int(c, o, path, "backoff_ms", 1, 600000, &t->backoff_ms);
	get_int(c, o, path, "max_backoff_ms", 1, 600000, &t->max_backoff_ms);
	get_int(c, o, path, "max_response_bytes", 1, 64 << 20, &bytes);
	t->max_response_bytes = (size_t)bytes;

	http = member(c, o, path, "http", W_OBJECT, false);
	if (http) {
		const cJSON *h;
		int m;

		join(p, sizeof(p), path, "http");
		check_keys(c, http, p, http_keys);
		m = get_choice(c, http, p, "method", methods, 0);
		t->method = pool_strdup(c, methods[m]);
		t->url = get_string(c, http, p, "url", true, NULL);
		if (t->url) {
			join(pp, sizeof(pp), p, "url");
			if (!is_url(t->url))
				problem(c, VAGENT_EINVAL, pp,
					"must start with http:// or https:// (or a {variable})");
			else
				check_http_template(c, pp, t->url, props);
		}
		h = member(c, http, p, "headers", W_OBJECT, false);
		if (h) {
			size_t n = 0;
			char **list = pool_calloc(c, (size_t)cJSON_GetArraySize(h) + 1,
						  sizeof(*list));

			cJSON_ArrayForEach(j, h) {
				char line[1024];

				snprintf(pp, sizeof(pp), "%.440s.headers.%.60s", p,
					 j->string);
				if (!cJSON_IsString(j)) {
					problem(c, VAGENT_EINVAL, pp,
						"must be a string (got %s)", type_name(j));
					continue;
				}
				snprintf(line, sizeof(line), "%s: %s", j->string,
					 j->valuestring);
				if (list)
					list[n++] = pool_strdup(c, line);
			}
			t->headers = (const char *const *)list;
		}
		j = cJSON_GetObjectItemCaseSensitive(http, "body");
		if (j && (strcmp(methods[m], "GET") == 0 ||
			  strcmp(methods[m], "DELETE") == 0))
			problem(c, VAGENT_EINVAL, join(pp, sizeof(pp), p, "body"),
				"a %s request has no body", methods[m]);
		else if (j)
			t->body = json_text(c, j);
	}
	guard = member(c, o, path, "guard", W_OBJECT, false);
	t->guard.confirm_above = -1;
	t->guard.max = -1;
	if (guard) {
		join(p, sizeof(p), path, "guard");
		check_keys(c, guard, p, guard_keys);
		t->guard.argument = get_string(c, guard, p, "argument", true, NULL);
		get_double(c, guard, p, "confirm_above", 0, 1e15,
			   &t->guard.confirm_above);
		get_double(c, guard, p, "max", 0, 1e15, &t->guard.max);
		if (t->guard.argument && props &&
		    !cJSON_GetObjectItemCaseSensitive(props, t->guard.argument))
			problem(c, VAGENT_EINVAL, join(pp, sizeof(pp), p, "argument"),
				"\"%s\" is not an argument in parameters.properties",
				t->guard.argument);
		if (t->guard.max >= 0 && t->guard.confirm_above > t->guard.max)
			problem(c, VAGENT_EINVAL,
				join(pp, sizeof(pp), p, "confirm_above"),
				"must not be above max (%g)", t->guard.max);
	}
	mock = member(c, o, path, "mock", W_OBJECT, false);
	if (mock) {
		join(p, sizeof(p), path, "mock");
		parse_mock(c, mock, p, t);
	}
	if (!present(o, "http") && !present(o, "mock"))
		problem(c, VAGENT_EINVAL, path,
			"a tool needs \"http\" (an endpoint) or \"mock\" (a scripted reply)");
}

static const char *tool_name_at(const void *base, size_t i)
{
	return ((const struct vagent_tool_def *)base)[i].name;
}

static void parse_tools(struct ctx *c, const cJSON *root)
{
	struct vagent_agent *a = &c->ap->pub;
	const cJSON *arr = member(c, root, "", "tools", W_ARRAY, false), *it;
	char p[64];
	size_t i = 0, k, *earlier;

	if (!arr)
		return;
	a->tools = pool_calloc(c, (size_t)cJSON_GetArraySize(arr), sizeof(*a->tools));
	if (!a->tools)
		return;
	cJSON_ArrayForEach(it, arr) {
		join_index(p, sizeof(p), "tools", i);
		if (!cJSON_IsObject(it)) {
			problem(c, VAGENT_EINVAL, p, "must be an object (got %s)",
				type_name(it));
			i++;
			continue;
		}
		parse_tool(c, it, p, &a->tools[i]);
		i++;
	}
	a->n_tools = i;
	earlier = earlier_names(c, tool_name_at, a->tools, a->n_tools);
	for (k = 0; earlier && k < a->n_tools; k++)
		if (earlier[k] != SIZE_MAX) {
			char pn[80];

			snprintf(pn, sizeof(pn), "tools[%zu].name", k);
			problem(c, VAGENT_EINVAL, pn,
				"duplicate tool name \"%s\" (also tools[%zu])",
				a->tools[k].name, earlier[k]);
		}
	free(earlier);
	/* the tools by name, for the intents' references */
	c->tools_by_name = calloc(a->n_tools ? a->n_tools : 1,
				  sizeof(*c->tools_by_name));
	if (!c->tools_by_name) {
		c->ap->oom = true;
		return;
	}
	for (k = 0; k < a->n_tools; k++) {
		c->tools_by_name[k].name = a->tools[k].name ? a->tools[k].name : "";
		c->tools_by_name[k].i = k;
	}
	qsort(c->tools_by_name, a->n_tools, sizeof(*c->tools_by_name), cmp_named);
}

/* The tool named `name` while parsing (n log n for big files), or NULL. */
static const struct vagent_tool_def *find_tool(struct ctx *c, const char *name)
{
	struct named key = { name, 0 };
	const struct named *lo = c->tools_by_name;
	size_t n = c->tools_by_name ? c->ap->pub.n_tools : 0;

	/* the first entry with this name (entries sort by name, then index) */
	while (n > 0) {
		size_t half = n / 2;

		if (strcmp(lo[half].name, key.name) < 0) {
			lo += half + 1;
			n -= half + 1;
		} else {
			n = half;
		}
	}
	if (c->tools_by_name && lo < c->tools_by_name + c->ap->pub.n_tools &&
	    strcmp(lo->name, name) == 0)
		return &c->ap->pub.tools[lo->i];
	return NULL;
}

/* A path relative to the agent's directory (pool). */
static char *resolve(struct ctx *c, const char *rel)
{
	const char *dir = c->ap->pub.base_dir;
	size_t n;
	char *s;

	if (rel[0] == '/' || !dir || !*dir || strcmp(dir, ".") == 0)
		return pool_strdup(c, rel);
	n = strlen(dir) + strlen(rel) + 2;
	s = pool_calloc(c, n, 1);
	if (s)
		snprintf(s, n, "%s/%s", dir, rel);
	return s;
}

static void parse_knowledge(struct ctx *c, const cJSON *root)
{
	struct vagent_agent *a = &c->ap->pub;
	char **l = get_list(c, root, "", "knowledge", NULL);
	size_t i;
	char p[64];

	a->knowledge = l;
	for (i = 0; l && l[i]; i++) {
		struct stat sb;
		char *full = resolve(c, l[i]);

		join_index(p, sizeof(p), "knowledge", i);
		if (!full)
			return;
		if (stat(full, &sb) != 0)
			problem(c, VAGENT_ENOENT, p, "%s \"%s\"",
				errno == ENOENT ? "no such file" : strerror(errno),
				full);
		else if (!S_ISREG(sb.st_mode))
			problem(c, VAGENT_EINVAL, p, "\"%s\" is not a regular file",
				full);
		l[i] = full;
	}
}

static void parse_escalation(struct ctx *c, const cJSON *root)
{
	struct vagent_agent *a = &c->ap->pub;
	struct vagent_agent_escalation *e = &a->escalation;
	static const char *const keys[] = {
		"human_phrases", "opt_out_phrases", "max_misunderstandings",
		"transfer_webhook", "hold_text", "replies", NULL
	};
	static const char *const reply_keys[] = {
		"human", "opt_out", "misunderstanding", "tool_failure",
		"guard_limit", NULL
	};
	const cJSON *o = member(c, root, "", "escalation", W_OBJECT, false), *r;
	cJSON *none = cJSON_CreateObject();
	const char *rp = "escalation.replies";

	if (!none) {
		c->ap->oom = true;
		return;
	}
	if (!o)
		o = none;
	check_keys(c, o, "escalation", keys);
	e->human_phrases = get_list(c, o, "escalation", "human_phrases",
				    vagent__default_human_phrases);
	e->opt_out_phrases = get_list(c, o, "escalation", "opt_out_phrases",
				      vagent__default_opt_out_phrases);
	e->max_misunderstandings = 2;
	get_int(c, o, "escalation", "max_misunderstandings", 0, 100,
		&e->max_misunderstandings);
	e->transfer_webhook = get_string(c, o, "escalation", "transfer_webhook",
					 false, NULL);
	if (e->transfer_webhook) {      /* ${ENV} and ${ENV:-default}, as variables */
		char *v = expand_env(c, "escalation.transfer_webhook", e->transfer_webhook);

		e->transfer_webhook = v ? pool_keep(c, v) : NULL;
	}
	if (e->transfer_webhook && strncmp(e->transfer_webhook, "http://", 7) &&
	    strncmp(e->transfer_webhook, "https://", 8))
		problem(c, VAGENT_EINVAL, "escalation.transfer_webhook",
			"must start with http:// or https://");
	e->hold_text = get_string(c, o, "escalation", "hold_text", false,
				  "Please hold while I transfer you to a colleague who can help.");
	r = member(c, o, "escalation", "replies", W_OBJECT, false);
	if (!r)
		r = none;
	check_keys(c, r, rp, reply_keys);
	{
		e->human_reply = get_string(c, r, rp, "human", false,
					    "Of course, I'll connect you with a person.");
		e->opt_out_reply = get_string(c, r, rp, "opt_out", false,
					      "Understood. We won't contact you again.");
		e->misunderstanding_reply = get_string(c, r, rp, "misunderstanding", false,
						       "I'm sorry, I'm having trouble understanding.");
		e->tool_failure_reply = get_string(c, r, rp, "tool_failure", false,
						   "I'm sorry, I couldn't complete that right now.");
		e->guard_reply = get_string(c, r, rp, "guard_limit", false,
					    "That's more than I can approve on this call.");
	}
	cJSON_Delete(none);
	a->config.handoff_text = e->hold_text;
}

static void parse_compliance(struct ctx *c, const cJSON *root)
{
	struct vagent_agent_compliance *cp = &c->ap->pub.compliance;
	static const char *const keys[] = { "disclosure_within_ms",
					    "disclosure_phrases",
					    "require_disclosure", NULL };
	const cJSON *o = member(c, root, "", "compliance", W_OBJECT, false);

	cp->disclosure_within_ms = 10000;
	if (!o) {
		cp->disclosure_phrases = copy_list(c, default_disclosure_phrases);
		return;
	}
	check_keys(c, o, "compliance", keys);
	get_int(c, o, "compliance", "disclosure_within_ms", 0, 600000,
		&cp->disclosure_within_ms);
	cp->disclosure_phrases = get_list(c, o, "compliance", "disclosure_phrases",
					  default_disclosure_phrases);
	get_bool(c, o, "compliance", "require_disclosure",
		 &cp->require_disclosure);
}

/* ---- the flow ---- */

static const struct vagent_agent_slot *find_slot(
	const struct vagent_agent_intent *in, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < in->n_slots; i++)
		if (in->slots[i].name && strlen(in->slots[i].name) == len &&
		    memcmp(in->slots[i].name, name, len) == 0)
			return &in->slots[i];
	return NULL;
}

/* References of template `t` (at `path`) in intent `in`: slots must
 * exist, results only after a tool or a knowledge lookup. */
static void check_template(struct ctx *c, const char *path, const char *t,
			   const struct vagent_agent_intent *in, bool results,
			   bool spoken)
{
	struct vagent__tref r;
	const char *s = t;

	if (!t)
		return;
	while ((s = vagent__tref_next(s, &r)) != NULL) {
		s += r.len;
		if (r.kind == VAGENT__TREF_BAD) {
			problem(c, VAGENT_EINVAL, path,
				"unknown reference %.*s (use {slot.NAME}, {result.PATH} or {agent.name})",
				(int)r.len, r.start);
			continue;
		}
		if (r.filter && !vagent__tref_filter_known(r.filter, r.filter_len)) {
			problem(c, VAGENT_EINVAL, path,
				"unknown filter \"%.*s\" in %.*s (one of %s)",
				(int)r.filter_len, r.filter, (int)r.len, r.start,
				VAGENT__TREF_FILTERS);
			continue;
		}
		if (r.kind == VAGENT__TREF_SLOT &&
		    (!in || !find_slot(in, r.name, r.name_len))) {
			problem(c, VAGENT_EINVAL, path,
				"undefined slot \"%.*s\" in %.*s", (int)r.name_len,
				r.name, (int)r.len, r.start);
			continue;
		}
		/* a card number is never said: only its last four digits */
		if (r.kind == VAGENT__TREF_SLOT && spoken &&
		    find_slot(in, r.name, r.name_len)->type == VAGENT_SLOT_CARD &&
		    !(r.filter && r.filter_len == 5 && !memcmp(r.filter, "last4", 5))) {
			problem(c, VAGENT_EINVAL, path,
				"%.*s is a card number: say it only as {slot.%.*s|last4}",
				(int)r.len, r.start, (int)r.name_len, r.name);
			return;
		}
		if (r.kind == VAGENT__TREF_RESULT && !results) {
			problem(c, VAGENT_EINVAL, path,
				"%.*s: there is no result here (only in the reply of an intent with a tool or knowledge)",
				(int)r.len, r.start);
			continue;
		}
		if (r.kind == VAGENT__TREF_AGENT &&
		    !(r.name_len == 4 && memcmp(r.name, "name", 4) == 0)) {
			problem(c, VAGENT_EINVAL, path,
				"unknown reference %.*s (the agent has {agent.name})",
				(int)r.len, r.start);
			continue;
		}
	}
}

static void parse_slot(struct ctx *c, const cJSON *o, const char *path,
		       struct vagent_agent_slot *s)
{
	static const char *const keys[] = {
		"name", "type", "prompt", "reprompt", "min_len", "max_len",
		"choices", "required", NULL
	};
	const cJSON *ty;
	char p[512];
	bool type_known = false;

	check_keys(c, o, path, keys);
	s->name = get_string(c, o, path, "name", true, NULL);
	if (s->name && !is_identifier(s->name, false))
		problem(c, VAGENT_EINVAL, join(p, sizeof(p), path, "name"),
			"bad slot name \"%s\" (letters, digits, _)", s->name);
	s->type = VAGENT_SLOT_TEXT;
	ty = member(c, o, path, "type", W_STRING, true);
	if (ty) {
		int t = vagent_slot_type_from_name(ty->valuestring);

		if (t < 0) {
			char list[200] = "";
			const char *names[16];
			const char *near;
			int i, n = 0;

			for (i = 0; n < 15 && vagent_slot_type_name((vagent_slot_type)i); i++)
				names[n++] = vagent_slot_type_name((vagent_slot_type)i);
			names[n] = NULL;
			for (i = 0; i < n; i++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list),
					 "%s%s", i ? ", " : "", names[i]);
			join(p, sizeof(p), path, "type");
			near = closest(ty->valuestring, names);
			if (near)
				problem(c, VAGENT_EINVAL, p,
					"unknown slot type \"%s\" (did you mean \"%s\"? one of %s)",
					ty->valuestring, near, list);
			else
				problem(c, VAGENT_EINVAL, p,
					"unknown slot type \"%s\" (one of %s)",
					ty->valuestring, list);
		} else {
			s->type = (vagent_slot_type)t;
			type_known = true;
		}
	}
	s->required = true;
	get_bool(c, o, path, "required", &s->required);
	s->prompt = get_string(c, o, path, "prompt", s->required, NULL);
	s->reprompt = get_string(c, o, path, "reprompt", false, NULL);
	if (s->type == VAGENT_SLOT_ORDER_NUMBER) {
		s->min_len = 4;
		s->max_len = 12;
	}
	get_int(c, o, path, "min_len", 0, 64, &s->min_len);
	get_int(c, o, path, "max_len", 0, 64, &s->max_len);
	if (s->max_len && s->min_len > s->max_len)
		problem(c, VAGENT_EINVAL, join(p, sizeof(p), path, "max_len"),
			"must be at least min_len (%d)", s->min_len);
	s->choices = get_list(c, o, path, "choices", NULL);
	if (s->type == VAGENT_SLOT_CHOICE && s->choices && !s->choices[0] &&
	    !reported(o, "choices", cJSON_IsArray))
		problem(c, VAGENT_EINVAL, path[0] ? path : NULL,
			"a choice slot needs \"choices\"");
	if (type_known && s->type != VAGENT_SLOT_CHOICE && s->choices && s->choices[0])
		problem(c, VAGENT_EINVAL, join(p, sizeof(p), path, "choices"),
			"only for slots of type choice");
}

static void parse_args(struct ctx *c, const cJSON *tool, const char *path,
		       struct vagent_agent_intent *in)
{
	const struct vagent_tool_def *def = in->tool ?
		find_tool(c, in->tool) : NULL;
	const cJSON *args = member(c, tool, path, "args", W_OBJECT, false), *it;
	cJSON *params = NULL;
	const cJSON *props = NULL, *req = NULL;
	char p[512], pa[512];
	size_t i = 0;

	join(p, sizeof(p), path, "args");
	if (def && def->parameters) {
		params = cJSON_Parse(def->parameters);
		props = cJSON_GetObjectItemCaseSensitive(params, "properties");
		req = cJSON_GetObjectItemCaseSensitive(params, "required");
	}
	if (args) {
		in->args = pool_calloc(c, (size_t)cJSON_GetArraySize(args),
				       sizeof(*in->args));
		cJSON_ArrayForEach(it, args) {
			struct vagent_agent_arg *ar;

			if (!in->args)
				break;
			ar = &in->args[i++];
			join(pa, sizeof(pa), p, it->string);
			ar->name = pool_strdup(c, it->string);
			if (cJSON_IsObject(props) &&
			    !cJSON_GetObjectItemCaseSensitive(props, it->string))
				problem(c, VAGENT_EINVAL, pa,
					"tool \"%s\" has no argument \"%s\"", in->tool,
					it->string);
			if (cJSON_IsString(it)) {
				ar->value = pool_strdup(c, it->valuestring);
				check_template(c, pa, ar->value, in, false, false);
			} else {
				ar->value = json_text(c, it);
				ar->literal = true;
			}
		}
		in->n_args = i;
	}
	if (cJSON_IsArray(req)) {
		cJSON_ArrayForEach(it, req) {
			if (cJSON_IsString(it) &&
			    !(args && cJSON_GetObjectItemCaseSensitive(args,
								       it->valuestring)))
				problem(c, VAGENT_EINVAL, args ? p : path,
					"missing argument \"%s\" (required by tool \"%s\")",
					it->valuestring, in->tool);
		}
	}
	cJSON_Delete(params);
}

static const char *slot_name_at(const void *base, size_t i)
{
	return ((const struct vagent_agent_slot *)base)[i].name;
}

static const char *intent_name_at(const void *base, size_t i)
{
	return ((const struct vagent_agent_intent *)base)[i].name;
}

static void parse_intent(struct ctx *c, const cJSON *o, const char *path,
			 struct vagent_agent_intent *in)
{
	static const char *const keys[] = {
		"name", "summary", "examples", "keywords", "slots", "confirm", "tool",
		"reply", "reply_error", "knowledge", "escalate", "end", NULL
	};
	static const char *const tool_keys[] = { "name", "args", NULL };
	const cJSON *slots, *tool, *it;
	char p[512], ps[512];
	size_t i = 0, k, *earlier;
	bool results;

	check_keys(c, o, path, keys);
	in->name = get_string(c, o, path, "name", true, NULL);
	in->summary = get_string(c, o, path, "summary", false, NULL);
	in->examples = get_list(c, o, path, "examples", NULL);
	in->keywords = get_list(c, o, path, "keywords", NULL);
	if (in->examples && in->keywords && !in->examples[0] && !in->keywords[0] &&
	    !reported(o, "examples", cJSON_IsArray) && !reported(o, "keywords", cJSON_IsArray))
		problem(c, VAGENT_EINVAL, path,
			"an intent needs \"examples\" or \"keywords\"");
	slots = member(c, o, path, "slots", W_ARRAY, false);
	if (slots) {
		join(p, sizeof(p), path, "slots");
		in->slots = pool_calloc(c, (size_t)cJSON_GetArraySize(slots),
					sizeof(*in->slots));
		cJSON_ArrayForEach(it, slots) {
			if (!in->slots)
				break;
			join_index(ps, sizeof(ps), p, i);
			if (!cJSON_IsObject(it)) {
				problem(c, VAGENT_EINVAL, ps, "must be an object (got %s)",
					type_name(it));
				i++;
				continue;
			}
			parse_slot(c, it, ps, &in->slots[i]);
			i++;
		}
		in->n_slots = i;
		earlier = earlier_names(c, slot_name_at, in->slots, in->n_slots);
		for (k = 0; earlier && k < in->n_slots; k++)
			if (earlier[k] != SIZE_MAX) {
				char pn[512];

				snprintf(pn, sizeof(pn), "%.400s.slots[%zu].name", path, k);
				problem(c, VAGENT_EINVAL, pn,
					"duplicate slot name \"%s\" (also slots[%zu])",
					in->slots[k].name, earlier[k]);
			}
		free(earlier);
	}
	tool = member(c, o, path, "tool", W_OBJECT, false);
	if (tool) {
		join(p, sizeof(p), path, "tool");
		check_keys(c, tool, p, tool_keys);
		in->tool = get_string(c, tool, p, "name", true, NULL);
		if (in->tool && !find_tool(c, in->tool)) {
			const char *names[65];
			const char *near;
			size_t n;

			for (n = 0; n < c->ap->pub.n_tools && n < 64; n++)
				names[n] = c->ap->pub.tools[n].name ?
					   c->ap->pub.tools[n].name : "";
			names[n] = NULL;
			near = closest(in->tool, names);
			join(ps, sizeof(ps), p, "name");
			if (near)
				problem(c, VAGENT_EINVAL, ps,
					"undefined tool \"%s\" (did you mean \"%s\"?)",
					in->tool, near);
			else
				problem(c, VAGENT_EINVAL, ps,
					"undefined tool \"%s\" (not in \"tools\")",
					in->tool);
		}
		parse_args(c, tool, p, in);
	}
	get_bool(c, o, path, "knowledge", &in->knowledge);
	get_bool(c, o, path, "end", &in->end);
	in->escalate = get_string(c, o, path, "escalate", false, NULL);
	in->confirm = get_string(c, o, path, "confirm", false, NULL);
	in->reply = get_string(c, o, path, "reply", false, NULL);
	in->reply_error = get_string(c, o, path, "reply_error", false, NULL);
	if (in->knowledge && in->tool)
		problem(c, VAGENT_EINVAL, join(p, sizeof(p), path, "knowledge"),
			"an intent answers from knowledge or calls a tool, not both");
	if (in->escalate && (in->tool || in->knowledge || in->end))
		problem(c, VAGENT_EINVAL, join(p, sizeof(p), path, "escalate"),
			"an escalating intent has no tool, knowledge or end");
	if (!in->reply && !reported(o, "reply", cJSON_IsString) && !present(o, "tool") &&
	    !in->knowledge && !reported(o, "knowledge", cJSON_IsBool) && !in->escalate &&
	    !reported(o, "escalate", cJSON_IsString))
		problem(c, VAGENT_EINVAL, path[0] ? path : NULL,
			"the intent does nothing: give \"reply\", \"tool\", \"knowledge\" or \"escalate\"");
	if (in->reply_error && !in->tool)
		problem(c, VAGENT_EINVAL, join(p, sizeof(p), path, "reply_error"),
			"only for an intent with a tool");
	results = in->tool || in->knowledge;
	check_template(c, join(p, sizeof(p), path, "confirm"), in->confirm, in,
		       false, true);
	check_template(c, join(p, sizeof(p), path, "reply"), in->reply, in,
		       results, true);
	check_template(c, join(p, sizeof(p), path, "reply_error"),
		       in->reply_error, in, false, true);
	for (i = 0; i < in->n_slots; i++) {
		snprintf(ps, sizeof(ps), "%s.slots[%zu].prompt", path, i);
		check_template(c, ps, in->slots[i].prompt, in, false, true);
		snprintf(ps, sizeof(ps), "%s.slots[%zu].reprompt", path, i);
		check_template(c, ps, in->slots[i].reprompt, in, false, true);
	}
}

static void parse_flow(struct ctx *c, const cJSON *root)
{
	struct vagent_agent_flow *f = &c->ap->pub.flow;
	static const char *const keys[] = {
		"intents", "match_threshold", "clarify_threshold", "fallback",
		"knowledge_miss",
		"cancelled", "anything_else", NULL
	};
	const struct vagent_agent *a = &c->ap->pub;
	/* an LLM brain without the flow behind it needs no dialog policy */
	bool llm = a->brain.provider && (!strcmp(a->brain.provider, "openai") ||
					 !strcmp(a->brain.provider, "anthropic"));
	bool needed = !llm || a->brain.fallback;
	const cJSON *o = member(c, root, "", "flow", W_OBJECT, needed), *arr, *it;
	char p[64], pn[80];
	size_t i = 0, k, *earlier;

	f->match_threshold = 0.5;
	f->clarify_threshold = 0.35;
	if (!o)
		return;
	check_keys(c, o, "flow", keys);
	get_double(c, o, "flow", "match_threshold", 0, 1, &f->match_threshold);
	f->clarify_threshold = f->match_threshold < 0.35 ? f->match_threshold : 0.35;
	get_double(c, o, "flow", "clarify_threshold", 0, 1, &f->clarify_threshold);
	if (f->clarify_threshold > f->match_threshold)
		problem(c, VAGENT_EINVAL, "flow.clarify_threshold",
			"must not be above match_threshold (%g)", f->match_threshold);
	f->fallback = get_string(c, o, "flow", "fallback", false,
				 "Sorry, I didn't catch that. Could you say it another way?");
	f->knowledge_miss = get_string(c, o, "flow", "knowledge_miss", false,
				       "I'm sorry, I don't have information about that.");
	f->cancelled = get_string(c, o, "flow", "cancelled", false,
				  "Okay, I won't do that. Is there anything else I can help with?");
	f->anything_else = get_string(c, o, "flow", "anything_else", false, NULL);
	arr = member(c, o, "flow", "intents", W_ARRAY, true);
	if (!arr)
		return;
	if (cJSON_GetArraySize(arr) == 0) {
		problem(c, VAGENT_EINVAL, "flow.intents", "needs at least one intent");
		return;
	}
	f->intents = pool_calloc(c, (size_t)cJSON_GetArraySize(arr),
				 sizeof(*f->intents));
	if (!f->intents)
		return;
	cJSON_ArrayForEach(it, arr) {
		join_index(p, sizeof(p), "flow.intents", i);
		if (!cJSON_IsObject(it)) {
			problem(c, VAGENT_EINVAL, p, "must be an object (got %s)",
				type_name(it));
			i++;
			continue;
		}
		parse_intent(c, it, p, &f->intents[i]);
		i++;
	}
	f->n_intents = i;
	earlier = earlier_names(c, intent_name_at, f->intents, f->n_intents);
	for (k = 0; earlier && k < f->n_intents; k++)
		if (earlier[k] != SIZE_MAX) {
			snprintf(pn, sizeof(pn), "flow.intents[%zu].name", k);
			problem(c, VAGENT_EINVAL, pn,
				"duplicate intent name \"%s\" (also flow.intents[%zu])",
				f->intents[k].name, earlier[k]);
		}
	free(earlier);
}

/* ---- the greeting and the expected phrases ---- */

static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

static void check_greeting(struct ctx *c)
{
	struct vagent_agent *a = &c->ap->pub;
	char **d;

	for (d = a->compliance.disclosure_phrases; d && *d; d++)
		if (contains_ci(a->greeting, *d))
			return;
	if (a->compliance.require_disclosure)
		problem(c, VAGENT_EINVAL, "greeting",
			"does not disclose that the caller talks to an AI (no compliance.disclosure_phrases)");
	else
		warning(c, "greeting",
			"does not disclose that the caller talks to an AI (no compliance.disclosure_phrases)");
}

static void add_phrase(struct ctx *c, char ***list, size_t *n, size_t *cap,
		       const char *s)
{
	char *low;
	size_t i;

	if (!s || !*s)
		return;
	low = strdup(s);
	if (!low) {
		c->ap->oom = true;
		return;
	}
	for (i = 0; low[i]; i++)
		low[i] = (char)tolower((unsigned char)low[i]);
	if (*n + 2 > *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		char **nl = realloc(*list, nc * sizeof(*nl));

		if (!nl) {
			free(low);
			c->ap->oom = true;
			return;
		}
		*list = nl;
		*cap = nc;
	}
	(*list)[(*n)++] = low;
	(*list)[*n] = NULL;
}

static void add_phrases(struct ctx *c, char ***list, size_t *n, size_t *cap,
			const char *const *l)
{
	for (; l && *l; l++)
		add_phrase(c, list, n, cap, *l);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void build_phrases(struct ctx *c)
{
	const struct vagent_agent *a = &c->ap->pub;
	char **list = NULL;
	size_t n = 0, cap = 0, i, k;

	for (i = 0; i < a->flow.n_intents; i++) {
		const struct vagent_agent_intent *in = &a->flow.intents[i];

		add_phrases(c, &list, &n, &cap, (const char *const *)in->examples);
		add_phrases(c, &list, &n, &cap, (const char *const *)in->keywords);
		for (k = 0; k < in->n_slots; k++)
			add_phrases(c, &list, &n, &cap,
				    (const char *const *)in->slots[k].choices);
	}
	add_phrases(c, &list, &n, &cap, yes_no_words);
	add_phrases(c, &list, &n, &cap, number_words);
	add_phrases(c, &list, &n, &cap,
		    (const char *const *)a->escalation.human_phrases);
	add_phrases(c, &list, &n, &cap,
		    (const char *const *)a->escalation.opt_out_phrases);
	add_phrases(c, &list, &n, &cap, vagent__repeat_phrases);
	if (!list) {
		list = calloc(1, sizeof(*list));
		if (!list) {
			c->ap->oom = true;
			return;
		}
	}
	/* sorted, each once */
	qsort(list, n, sizeof(*list), cmp_str);
	for (i = 0, k = 0; i < n; i++) {
		if (k > 0 && strcmp(list[k - 1], list[i]) == 0) {
			free(list[i]);
			continue;
		}
		list[k++] = list[i];
	}
	list[k] = NULL;
	for (i = 0; i < k; i++)
		pool_keep(c, list[i]);
	c->ap->phrases = pool_keep(c, list);
}

/* ---- entry points ---- */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static void parse_root(struct ctx *c, const cJSON *root, const char *name)
{
	struct vagent_agent *a = &c->ap->pub;
	static const char *const keys[] = {
		"name", "description", "rate", "greeting", "variables", "stt",
		"tts", "brain", "vad", "turn", "interruption", "degradation",
		"tools", "knowledge", "escalation", "compliance", "flow", "no_input", NULL
	};
	const cJSON *j;
	char def_name[256];
	char *dot;

	check_keys(c, root, "", keys);
	snprintf(def_name, sizeof(def_name), "%s", base_name(name));
	dot = strrchr(def_name, '.');
	if (dot && dot != def_name)
		*dot = '\0';
	a->name = get_string(c, root, "", "name", false, def_name);
	member(c, root, "", "description", W_STRING, false);
	a->rate = 16000;
	j = member(c, root, "", "rate", W_NUMBER, false);
	if (j && j->valuedouble != 8000 && j->valuedouble != 16000)
		problem(c, VAGENT_EINVAL, "rate", "must be 8000 or 16000 (got %g)",
			j->valuedouble);
	else if (j)
		a->rate = (int)j->valuedouble;
	a->config = vagent_agent_config_default();
	parse_variables(c, root);
	parse_settings(c, root);
	parse_providers(c, root);
	parse_tools(c, root);
	parse_knowledge(c, root);
	parse_escalation(c, root);
	parse_compliance(c, root);
	a->greeting = get_string(c, root, "", "greeting", false, NULL);
	if (!a->greeting) {
		a->greeting = pool_strdup(c, "Hello, you're speaking with an automated assistant. How can I help you today?");
		if (cJSON_IsObject(root))
			warning(c, "greeting", "missing: using \"%s\"",
				a->greeting ? a->greeting : "");
	} else {
		check_greeting(c);
	}
	parse_flow(c, root);
	if (c->n_errors == 0) {
		build_phrases(c);
		build_var_list(c);
	}
}

static struct agent_priv *agent_alloc(void)
{
	return calloc(1, sizeof(struct agent_priv));
}

/* A problem that ends the check at once (unreadable, not JSON, out of
 * memory): `e` into err and, as the file's only line, into diags. */
static vagent_status stop(struct vagent_diags *diags, const struct vagent_error *e,
			  struct vagent_error *err)
{
	vagent_diags_add(diags, "%s", e->message);
	if (err)
		*err = *e;
	return e->status;
}

/* vagent_agent_parse, with every problem into `diags` (may be NULL). */
static vagent_status parse_text(const char *text, size_t len, const char *name,
				const char *base_dir, struct vagent_agent **out,
				struct vagent_diags *diags, struct vagent_error *err)
{
	struct ctx c;
	struct vagent_error e;
	cJSON *root;
	const char *end = NULL;

	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "agent",
					 "no output pointer");
	*out = NULL;
	if (!name || !*name)
		name = "agent";
	if (!text) {
		vagent__error_set(&e, VAGENT_EINVAL, name, "no text");
		return stop(diags, &e, err);
	}
	memset(&c, 0, sizeof(c));
	c.file = name;
	c.text = text;
	c.len = len;
	c.diags = diags;
	if (memchr(text, '\0', len)) {
		vagent__error_set(&e, VAGENT_EFORMAT, name,
				  "not a JSON text file (NUL byte)");
		return stop(diags, &e, err);
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (root) {
		/* trailing garbage */
		const char *p = end;

		while (p && p < text + len && strchr(" \t\r\n", *p))
			p++;
		if (p && p < text + len) {
			cJSON_Delete(root);
			root = NULL;
			end = p;
		}
	}
	if (!root) {
		int line = 1;
		const char *p;

		if (!end || end < text || end > text + len)
			end = cJSON_GetErrorPtr();
		if (!end || end < text || end > text + len)
			end = text + len;
		for (p = text; p < end; p++)
			line += *p == '\n';
		vagent__error_set(&e, VAGENT_EFORMAT, NULL, "%s:%d: invalid JSON",
				  name, line);
		return stop(diags, &e, err);
	}
	c.ap = agent_alloc();
	if (!c.ap) {
		cJSON_Delete(root);
		vagent__error_set(&e, VAGENT_ENOMEM, name, "out of memory");
		return stop(diags, &e, err);
	}
	c.ap->pub.path = pool_strdup(&c, name);
	c.ap->pub.base_dir = pool_strdup(&c, base_dir && *base_dir ? base_dir : ".");
	if (!cJSON_IsObject(root))
		problem(&c, VAGENT_EINVAL, NULL, "the agent must be a JSON object (got %s)",
			type_name(root));
	else
		parse_root(&c, root, name);
	cJSON_Delete(root);
	free(c.tools_by_name);
	if (c.ap->oom) {
		vagent_agent_free(&c.ap->pub);
		flush_found(&c, NULL);
		vagent__error_set(&e, VAGENT_ENOMEM, name, "out of memory");
		return stop(diags, &e, err);
	}
	if (c.n_errors) {
		vagent_agent_free(&c.ap->pub);
		if (diags)
			return flush_found(&c, err);
		if (c.n_errors > 1)
			return vagent__error_set(err, c.status, NULL,
						 "%s (and %d more problem%s)", c.first,
						 c.n_errors - 1,
						 c.n_errors > 2 ? "s" : "");
		return vagent__error_set(err, c.status, NULL, "%s", c.first);
	}
	*out = &c.ap->pub;
	return VAGENT_OK;
}

vagent_status vagent_agent_parse(const char *text, size_t len,
				 const char *name, const char *base_dir,
				 struct vagent_agent **out,
				 struct vagent_error *err)
{
	return parse_text(text, len, name, base_dir, out, NULL, err);
}

vagent_status vagent__agent_load_diags(const char *path, struct vagent_agent **out,
				       struct vagent_diags *diags,
				       struct vagent_error *err)
{
	struct vagent_error e;
	char *buf = NULL, *dir;
	size_t len = 0;
	vagent_status st;
	const char *slash;

	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "agent",
					 "no output pointer");
	*out = NULL;
	if (!path || !*path) {
		vagent__error_set(&e, VAGENT_EINVAL, "agent", "no file name");
		return stop(diags, &e, err);
	}
	if (vagent__read_file(path, MAX_AGENT_BYTES, &buf, &len, &e) != VAGENT_OK)
		return stop(diags, &e, err);
	slash = strrchr(path, '/');
	if (slash) {
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	} else {
		dir = strdup(".");
	}
	if (!dir) {
		free(buf);
		vagent__error_set(&e, VAGENT_ENOMEM, path, "out of memory");
		return stop(diags, &e, err);
	}
	st = parse_text(buf, len, path, dir, out, diags, err);
	free(dir);
	free(buf);
	return st;
}

vagent_status vagent_agent_load(const char *path, struct vagent_agent **out,
				struct vagent_error *err)
{
	return vagent__agent_load_diags(path, out, NULL, err);
}

vagent_status vagent_agent_validate(const char *path, struct vagent_diags *diags,
				    struct vagent_error *err)
{
	struct vagent_agent *a = NULL;
	struct vagent_diags none;
	vagent_status st;

	/* without a list the problems are still all looked for, and err
	 * still names the first in file order */
	vagent_diags_init(&none);
	st = vagent__agent_load_diags(path, &a, diags ? diags : &none, err);
	vagent_diags_clear(&none);
	vagent_agent_free(a);
	if (st == VAGENT_OK)
		vagent_error_clear(err);
	return st;
}

void vagent_agent_free(struct vagent_agent *a)
{
	struct agent_priv *ap = (struct agent_priv *)a;
	size_t i;

	if (!a)
		return;
	for (i = 0; i < ap->n_pool; i++)
		free(ap->pool[i]);
	free(ap->pool);
	for (i = 0; i < a->n_warnings; i++)
		free(a->warnings[i]);
	free(a->warnings);
	free(ap);
}

const struct vagent_tool_def *vagent_agent_tool(const struct vagent_agent *a,
						const char *name)
{
	size_t i;

	if (!a || !name)
		return NULL;
	for (i = 0; i < a->n_tools; i++)
		if (a->tools[i].name && strcmp(a->tools[i].name, name) == 0)
			return &a->tools[i];
	return NULL;
}

const char *const *vagent_agent_variable_list(const struct vagent_agent *a)
{
	static const char *const none[] = { NULL };
	const struct agent_priv *ap = (const struct agent_priv *)a;

	if (!a || !ap->var_list)
		return none;
	return (const char *const *)ap->var_list;
}

const char *const *vagent_agent_expected_phrases(const struct vagent_agent *a)
{
	static const char *const none[] = { NULL };
	const struct agent_priv *ap = (const struct agent_priv *)a;

	if (!a || !ap->phrases)
		return none;
	return (const char *const *)ap->phrases;
}

vagent_status vagent_agent_mock_tools_diags(struct vagent_agent *a,
					    const char *text, size_t len,
					    const char *name, const char *key,
					    struct vagent_diags *diags,
					    struct vagent_error *err)
{
	struct agent_priv *ap = (struct agent_priv *)a;
	struct vagent_error e;
	struct ctx c;
	cJSON *root;
	const cJSON *tools, *it;

	memset(&c, 0, sizeof(c));
	c.file = name && *name ? name : "scenario";
	c.text = text;
	c.len = len;
	c.ap = ap;
	c.diags = diags;
	if (!a || !text || !key) {
		vagent__error_set(&e, VAGENT_EINVAL, c.file, "no agent, text or key");
		return stop(diags, &e, err);
	}
	root = cJSON_ParseWithLength(text, len);
	if (!root) {
		vagent__error_set(&e, VAGENT_EFORMAT, c.file, "invalid JSON");
		return stop(diags, &e, err);
	}
	tools = cJSON_GetObjectItemCaseSensitive(root, key);
	if (tools && !cJSON_IsObject(tools)) {
		problem(&c, VAGENT_EINVAL, key, "must be an object (tool name: mock)");
		tools = NULL;
	}
	cJSON_ArrayForEach(it, tools) {
		struct vagent_tool_def *t = NULL;
		char p[512];

		join(p, sizeof(p), key, it->string);
		for (size_t i = 0; i < a->n_tools; i++)
			if (!strcmp(a->tools[i].name, it->string))
				t = &a->tools[i];
		if (!t) {
			problem(&c, VAGENT_EINVAL, p, "the agent %s has no tool \"%s\"",
				a->path, it->string);
			continue;
		}
		if (!cJSON_IsObject(it)) {
			problem(&c, VAGENT_EINVAL, p, "must be an object (got %s)",
				type_name(it));
			continue;
		}
		t->mock_latency.base_ms = t->mock_latency.jitter_ms = 0;
		t->faults = NULL;
		t->n_faults = 0;
		parse_mock(&c, it, p, t);
		t->url = NULL;          /* answered by the mock from now on */
	}
	cJSON_Delete(root);
	if (ap->oom) {
		flush_found(&c, NULL);
		vagent__error_set(&e, VAGENT_ENOMEM, c.file, "out of memory");
		return stop(diags, &e, err);
	}
	if (c.n_errors && diags)
		return flush_found(&c, err);
	if (c.n_errors > 1)
		return vagent__error_set(err, c.status, NULL, "%s (and %d more problem%s)",
					 c.first, c.n_errors - 1, c.n_errors > 2 ? "s" : "");
	if (c.n_errors)
		return vagent__error_set(err, c.status, NULL, "%s", c.first);
	return VAGENT_OK;
}

vagent_status vagent_agent_mock_tools(struct vagent_agent *a, const char *text,
				      size_t len, const char *name,
				      const char *key, struct vagent_error *err)
{
	return vagent_agent_mock_tools_diags(a, text, len, name, key, NULL, err);
}
