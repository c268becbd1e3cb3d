/*
 * schema.c — the JSON Schema subset tool parameters use: checking a
 * schema (strictly: an unsupported keyword is an error, not silently
 * ignored) and validating arguments against it, with one-line errors that
 * name the offending argument (docs/tools.md).
 */
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tools_int.h"

/* Keywords that only annotate: accepted and ignored. */
static const char *const annotations[] = {
	"title", "description", "default", "examples", "format", "$schema",
	"$id", "$comment", "deprecated", "readOnly", "writeOnly",
};

static const char *const constraints[] = {
	"type", "properties", "required", "additionalProperties", "enum",
	"const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
	"minLength", "maxLength", "pattern", "items", "minItems", "maxItems",
};

static const char *const type_names[] = {
	"object", "string", "number", "integer", "boolean", "array", "null",
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* ---- paths ---------------------------------------------------------- */

/* A path being built, as a stack of string lengths in a buffer. */
struct path {
	char buf[256];
	size_t len;
};

static size_t path_push_key(struct path *p, const char *key)
{
	size_t old = p->len;
	size_t room = sizeof(p->buf) - p->len;
	int n = snprintf(p->buf + p->len, room, "%s%s", p->len ? "." : "", key);

	if (n > 0)
		p->len += (size_t)n < room ? (size_t)n : room - 1;
	return old;
}

static size_t path_push_index(struct path *p, int i)
{
	size_t old = p->len;
	size_t room = sizeof(p->buf) - p->len;
	int n = snprintf(p->buf + p->len, room, "[%d]", i);

	if (n > 0)
		p->len += (size_t)n < room ? (size_t)n : room - 1;
	return old;
}

static void path_pop(struct path *p, size_t old)
{
	p->len = old;
	p->buf[old] = '\0';
}

static bool fail(struct vagent__strbuf *problem, const struct path *p,
		 const char *root, const char *fmt, const char *a)
{
	const char *name = p->len ? p->buf : root;

	if (name && *name)
		vagent__strbuf_printf(problem, "%s: ", name);
	vagent__strbuf_printf(problem, fmt, a ? a : "");
	return false;
}

/* ---- POSIX ERE from JSON Schema's (ECMA-262) patterns ---------------- */

/*
 * Translate the shorthand classes tool schemas use (\d \D \w \W \s \S)
 * into POSIX bracket expressions, outside brackets; everything else is
 * passed through to regcomp (REG_EXTENDED).
 */
static char *pattern_to_ere(const char *pat)
{
	struct vagent__strbuf b = { 0 };
	bool in_bracket = false;
	const char *s;

	for (s = pat; *s; s++) {
		if (*s == '\\' && s[1]) {
			const char *cls = NULL;

			switch (s[1]) {
			case 'd': cls = in_bracket ? "0-9" : "[0-9]"; break;
			case 'D': cls = in_bracket ? NULL : "[^0-9]"; break;
			case 'w': cls = in_bracket ? "A-Za-z0-9_" : "[A-Za-z0-9_]"; break;
			case 'W': cls = in_bracket ? NULL : "[^A-Za-z0-9_]"; break;
			case 's': cls = in_bracket ? "[:space:]" : "[[:space:]]"; break;
			case 'S': cls = in_bracket ? NULL : "[^[:space:]]"; break;
			default: break;
			}
			if (cls) {
				vagent__strbuf_puts(&b, cls);
				s++;
				continue;
			}
			vagent__strbuf_put(&b, s, 2);
			s++;
			continue;
		}
		if (!in_bracket && *s == '[') {
			in_bracket = true;
			vagent__strbuf_put(&b, s, 1);
			if (s[1] == '^') {
				s++;
				vagent__strbuf_put(&b, s, 1);
			}
			if (s[1] == ']') {        /* a literal ] first */
				s++;
				vagent__strbuf_put(&b, s, 1);
			}
			continue;
		}
		if (in_bracket && *s == '[' && (s[1] == ':' || s[1] == '.' || s[1] == '=')) {
			const char *end = strstr(s + 2, s[1] == ':' ? ":]" :
						 s[1] == '.' ? ".]" : "=]");

			if (end) {
				vagent__strbuf_put(&b, s, (size_t)(end + 2 - s));
				s = end + 1;
				continue;
			}
		}
		if (in_bracket && *s == ']')
			in_bracket = false;
		vagent__strbuf_put(&b, s, 1);
	}
	return vagent__strbuf_detach(&b);
}

/* "\\1".."\\9": glibc's ERE accepts them, at a cost that can explode. */
static bool has_backreference(const char *pat)
{
	for (; *pat; pat++)
		if (*pat == '\\' && pat[1]) {
			if (pat[1] >= '1' && pat[1] <= '9')
				return true;
			pat++;
		}
	return false;
}

static bool pattern_compile(const char *pat, regex_t *re)
{
	char *ere = pattern_to_ere(pat);
	int rc;

	if (!ere)
		return false;
	rc = regcomp(re, ere, REG_EXTENDED | REG_NOSUB);
	free(ere);
	return rc == 0;
}

/* ---- checking a schema ---------------------------------------------- */

static bool is_nonneg_int(const cJSON *v)
{
	return cJSON_IsNumber(v) && v->valuedouble >= 0 &&
	       v->valuedouble == floor(v->valuedouble) && v->valuedouble < 1e15;
}

static bool check_node(const cJSON *s, struct path *p,
		       struct vagent__strbuf *problem);

static bool check_type(const cJSON *t, struct path *p,
		       struct vagent__strbuf *problem)
{
	const cJSON *e;
	size_t old = path_push_key(p, "type");

	if (cJSON_IsString(t)) {
		if (!in_list(t->valuestring, type_names,
			     VAGENT__ARRAY_SIZE(type_names)))
			return fail(problem, p, "", "unknown type '%s'",
				    t->valuestring);
	} else if (cJSON_IsArray(t) && cJSON_GetArraySize(t) > 0) {
		cJSON_ArrayForEach(e, t) {
			if (!cJSON_IsString(e))
				return fail(problem, p, "",
					    "must be a type name or a list of them%s", NULL);
			if (!in_list(e->valuestring, type_names,
				     VAGENT__ARRAY_SIZE(type_names)))
				return fail(problem, p, "", "unknown type '%s'",
					    e->valuestring);
		}
	} else {
		return fail(problem, p, "", "must be a type name or a list of them%s",
			    NULL);
	}
	path_pop(p, old);
	return true;
}

static bool check_node(const cJSON *s, struct path *p,
		       struct vagent__strbuf *problem)
{
	const cJSON *k, *e;
	size_t old;

	if (cJSON_IsBool(s))
		return true;            /* true: anything; false: nothing */
	if (!cJSON_IsObject(s))
		return fail(problem, p, "", "must be an object%s", NULL);
	cJSON_ArrayForEach(k, s) {
		const char *key = k->string;

		if (in_list(key, annotations, VAGENT__ARRAY_SIZE(annotations)))
			continue;
		if (!in_list(key, constraints, VAGENT__ARRAY_SIZE(constraints))) {
			fail(problem, p, "", "unsupported keyword '%s'", key);
			return false;
		}
		old = path_push_key(p, key);
		if (strcmp(key, "type") == 0) {
			path_pop(p, old);
			if (!check_type(k, p, problem))
				return false;
			continue;
		} else if (strcmp(key, "properties") == 0) {
			if (!cJSON_IsObject(k))
				return fail(problem, p, "", "must be an object%s", NULL);
			cJSON_ArrayForEach(e, k) {
				size_t o2 = path_push_key(p, e->string);

				if (!check_node(e, p, problem))
					return false;
				path_pop(p, o2);
			}
		} else if (strcmp(key, "required") == 0) {
			if (!cJSON_IsArray(k))
				return fail(problem, p, "", "must be a list of names%s", NULL);
			cJSON_ArrayForEach(e, k)
				if (!cJSON_IsString(e))
					return fail(problem, p, "",
						    "must be a list of names%s", NULL);
		} else if (strcmp(key, "additionalProperties") == 0 ||
			   strcmp(key, "items") == 0) {
			if (!check_node(k, p, problem))
				return false;
		} else if (strcmp(key, "enum") == 0) {
			if (!cJSON_IsArray(k) || cJSON_GetArraySize(k) == 0)
				return fail(problem, p, "", "must be a non-empty list%s",
					    NULL);
		} else if (strcmp(key, "const") == 0) {
			/* any value */
		} else if (strcmp(key, "minimum") == 0 ||
			   strcmp(key, "maximum") == 0) {
			if (!cJSON_IsNumber(k))
				return fail(problem, p, "", "must be a number%s", NULL);
		} else if (strcmp(key, "exclusiveMinimum") == 0 ||
			   strcmp(key, "exclusiveMaximum") == 0) {
			/* a number (draft 6+) or a flag on minimum (draft 4) */
			if (!cJSON_IsNumber(k) && !cJSON_IsBool(k))
				return fail(problem, p, "", "must be a number%s", NULL);
		} else if (strcmp(key, "pattern") == 0) {
			regex_t re;

			if (!cJSON_IsString(k))
				return fail(problem, p, "", "must be a string%s", NULL);
			if (strlen(k->valuestring) > 1000)
				return fail(problem, p, "", "longer than 1000 characters%s",
					    NULL);
			if (has_backreference(k->valuestring))
				return fail(problem, p, "",
					    "backreferences (\\1...) are not supported: %s",
					    k->valuestring);
			if (!pattern_compile(k->valuestring, &re))
				return fail(problem, p, "",
					    "not a valid regular expression: %s",
					    k->valuestring);
			regfree(&re);
		} else {   /* minLength maxLength minItems maxItems */
			if (!is_nonneg_int(k))
				return fail(problem, p, "",
					    "must be a non-negative integer%s", NULL);
		}
		path_pop(p, old);
	}
	{
		const cJSON *lo = cJSON_GetObjectItemCaseSensitive(s, "minimum");
		const cJSON *hi = cJSON_GetObjectItemCaseSensitive(s, "maximum");

		if (cJSON_IsNumber(lo) && cJSON_IsNumber(hi) &&
		    lo->valuedouble > hi->valuedouble)
			return fail(problem, p, "",
				    "minimum is above maximum%s", NULL);
	}
	return true;
}

bool vagent__schema_check(const cJSON *schema, struct vagent__strbuf *problem)
{
	struct path p = { .len = 0 };

	p.buf[0] = '\0';
	return check_node(schema, &p, problem);
}

/* ---- validating ----------------------------------------------------- */

static const char *type_of(const cJSON *v)
{
	if (cJSON_IsObject(v)) return "object";
	if (cJSON_IsArray(v)) return "array";
	if (cJSON_IsString(v)) return "string";
	if (cJSON_IsNumber(v)) return "number";
	if (cJSON_IsBool(v)) return "boolean";
	return "null";
}

static bool has_type(const cJSON *v, const char *t)
{
	if (strcmp(t, "integer") == 0)
		return cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
		       v->valuedouble == floor(v->valuedouble);
	return strcmp(type_of(v), t) == 0;
}

/* Code points of a UTF-8 string. */
static size_t utf8_length(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static void describe_value(struct vagent__strbuf *b, const cJSON *v)
{
	char *txt = cJSON_PrintUnformatted(v);

	if (!txt) {
		b->oom = true;
		return;
	}
	if (strlen(txt) > 40)
		vagent__strbuf_printf(b, "%.37s...", txt);
	else
		vagent__strbuf_puts(b, txt);
	free(txt);
}

static void fmt_number(char *out, size_t size, double d)
{
	if (d == floor(d) && fabs(d) < 1e15)
		snprintf(out, size, "%.0f", d);
	else
		snprintf(out, size, "%.15g", d);
}

static bool validate_node(const cJSON *s, const cJSON *v, struct path *p,
			  const char *root, struct vagent__strbuf *problem);

static bool validate_type(const cJSON *t, const cJSON *v, struct path *p,
			  const char *root, struct vagent__strbuf *problem)
{
	const cJSON *e;
	struct vagent__strbuf names = { 0 };
	char *list;
	bool ok = false;

	if (cJSON_IsString(t)) {
		if (has_type(v, t->valuestring))
			return true;
		return fail(problem, p, root,
			    strcmp(t->valuestring, "integer") == 0 ||
			    strcmp(t->valuestring, "array") == 0 ||
			    strcmp(t->valuestring, "object") == 0
			    ? "must be an %s" : "must be a %s", t->valuestring);
	}
	cJSON_ArrayForEach(e, t) {
		if (has_type(v, e->valuestring)) {
			vagent__strbuf_release(&names);
			return true;
		}
		vagent__strbuf_printf(&names, "%s%s", names.len ? " or " : "",
				      e->valuestring);
	}
	list = vagent__strbuf_detach(&names);
	if (!list) {
		problem->oom = true;
		return false;
	}
	ok = fail(problem, p, root, "must be %s", list);
	free(list);
	return ok;
}

static bool validate_object(const cJSON *s, const cJSON *v, struct path *p,
			    const char *root, struct vagent__strbuf *problem)
{
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "required");
	const cJSON *addl = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
	const cJSON *e;

	cJSON_ArrayForEach(e, req) {
		if (!cJSON_GetObjectItemCaseSensitive(v, e->valuestring)) {
			path_push_key(p, e->valuestring);
			return fail(problem, p, root, "is required%s", NULL);
		}
	}
	cJSON_ArrayForEach(e, v) {
		const cJSON *ps = props ? cJSON_GetObjectItemCaseSensitive(props,
							  e->string) : NULL;
		size_t old = path_push_key(p, e->string);

		if (ps) {
			if (!validate_node(ps, e, p, root, problem))
				return false;
		} else if (cJSON_IsFalse(addl)) {
			return fail(problem, p, root, "is not an allowed argument%s",
				    NULL);
		} else if (addl && !cJSON_IsBool(addl)) {
			if (!validate_node(addl, e, p, root, problem))
				return false;
		}
		path_pop(p, old);
	}
	return true;
}

static bool validate_node(const cJSON *s, const cJSON *v, struct path *p,
			  const char *root, struct vagent__strbuf *problem)
{
	const cJSON *k;
	char num[64];

	if (cJSON_IsFalse(s))
		return fail(problem, p, root, "is not allowed%s", NULL);
	if (!cJSON_IsObject(s))
		return true;
	k = cJSON_GetObjectItemCaseSensitive(s, "type");
	if (k && !validate_type(k, v, p, root, problem))
		return false;
	k = cJSON_GetObjectItemCaseSensitive(s, "enum");
	if (k) {
		const cJSON *e;
		bool found = false;

		cJSON_ArrayForEach(e, k)
			if (cJSON_Compare(e, v, true)) {
				found = true;
				break;
			}
		if (!found) {
			int i = 0;

			vagent__strbuf_printf(problem, "%s: must be one of ",
					      p->len ? p->buf : root);
			cJSON_ArrayForEach(e, k) {
				if (i == 6) {
					vagent__strbuf_puts(problem, ", ...");
					break;
				}
				if (i++)
					vagent__strbuf_puts(problem, ", ");
				describe_value(problem, e);
			}
			return false;
		}
	}
	k = cJSON_GetObjectItemCaseSensitive(s, "const");
	if (k && !cJSON_Compare(k, v, true)) {
		vagent__strbuf_printf(problem, "%s: must be ",
				      p->len ? p->buf : root);
		describe_value(problem, k);
		return false;
	}
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		const cJSON *lo = cJSON_GetObjectItemCaseSensitive(s, "minimum");
		const cJSON *hi = cJSON_GetObjectItemCaseSensitive(s, "maximum");
		const cJSON *xlo = cJSON_GetObjectItemCaseSensitive(s, "exclusiveMinimum");
		const cJSON *xhi = cJSON_GetObjectItemCaseSensitive(s, "exclusiveMaximum");

		if (cJSON_IsNumber(lo)) {
			bool excl = cJSON_IsTrue(xlo);

			fmt_number(num, sizeof(num), lo->valuedouble);
			if (excl ? !(d > lo->valuedouble) : !(d >= lo->valuedouble))
				return fail(problem, p, root,
					    excl ? "must be > %s" : "must be >= %s", num);
		}
		if (cJSON_IsNumber(hi)) {
			bool excl = cJSON_IsTrue(xhi);

			fmt_number(num, sizeof(num), hi->valuedouble);
			if (excl ? !(d < hi->valuedouble) : !(d <= hi->valuedouble))
				return fail(problem, p, root,
					    excl ? "must be < %s" : "must be <= %s", num);
		}
		if (cJSON_IsNumber(xlo) && !(d > xlo->valuedouble)) {
			fmt_number(num, sizeof(num), xlo->valuedouble);
			return fail(problem, p, root, "must be > %s", num);
		}
		if (cJSON_IsNumber(xhi) && !(d < xhi->valuedouble)) {
			fmt_number(num, sizeof(num), xhi->valuedouble);
			return fail(problem, p, root, "must be < %s", num);
		}
	}
	if (cJSON_IsString(v)) {
		size_t len = utf8_length(v->valuestring);
		const cJSON *mn = cJSON_GetObjectItemCaseSensitive(s, "minLength");
		const cJSON *mx = cJSON_GetObjectItemCaseSensitive(s, "maxLength");
		const cJSON *pat = cJSON_GetObjectItemCaseSensitive(s, "pattern");

		if (mn && (double)len < mn->valuedouble) {
			fmt_number(num, sizeof(num), mn->valuedouble);
			return fail(problem, p, root,
				    "must be at least %s characters long", num);
		}
		if (mx && (double)len > mx->valuedouble) {
			fmt_number(num, sizeof(num), mx->valuedouble);
			return fail(problem, p, root,
				    "must be at most %s characters long", num);
		}
		if (pat) {
			regex_t re;
			int rc;

			if (!pattern_compile(pat->valuestring, &re))
				return fail(problem, p, root,
					    "bad pattern %s", pat->valuestring);
			rc = regexec(&re, v->valuestring, 0, NULL, 0);
			regfree(&re);
			if (rc != 0)
				return fail(problem, p, root, "must match %s",
					    pat->valuestring);
		}
	}
	if (cJSON_IsArray(v)) {
		int n = cJSON_GetArraySize(v), i = 0;
		const cJSON *mn = cJSON_GetObjectItemCaseSensitive(s, "minItems");
		const cJSON *mx = cJSON_GetObjectItemCaseSensitive(s, "maxItems");
		const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items");
		const cJSON *e;

		if (mn && (double)n < mn->valuedouble) {
			fmt_number(num, sizeof(num), mn->valuedouble);
			return fail(problem, p, root, "must have at least %s items",
				    num);
		}
		if (mx && (double)n > mx->valuedouble) {
			fmt_number(num, sizeof(num), mx->valuedouble);
			return fail(problem, p, root, "must have at most %s items",
				    num);
		}
		if (items) {
			cJSON_ArrayForEach(e, v) {
				size_t old = path_push_index(p, i++);

				if (!validate_node(items, e, p, root, problem))
					return false;
				path_pop(p, old);
			}
		}
	}
	if (cJSON_IsObject(v))
		return validate_object(s, v, p, root, problem);
	return true;
}

bool vagent__schema_validate(const cJSON *schema, const cJSON *inst,
			     const char *root, struct vagent__strbuf *problem)
{
	struct path p = { .len = 0 };

	p.buf[0] = '\0';
	return validate_node(schema, inst, &p, root ? root : "value", problem);
}

/* ---- the public wrappers -------------------------------------------- */

static vagent_status parse(const char *text, const char *what, cJSON **out,
			   struct vagent_error *err)
{
	const char *end = NULL;

	*out = NULL;
	if (!text)
		return vagent__error_set(err, VAGENT_EINVAL, NULL, "no %s", what);
	*out = cJSON_ParseWithOpts(text, &end, true);
	if (!*out)
		return vagent__error_set(err, VAGENT_EFORMAT, NULL,
					 "%s is not JSON (at byte %zu)", what,
					 end ? (size_t)(end - text) : 0);
	return VAGENT_OK;
}

static vagent_status report(struct vagent__strbuf *b, vagent_status st,
			    struct vagent_error *err)
{
	char *msg = vagent__strbuf_detach(b);

	if (!msg)
		return vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
	vagent__error_set(err, st, NULL, "%s", msg);
	free(msg);
	return st;
}

vagent_status vagent_json_schema_check(const char *schema_json,
				       struct vagent_error *err)
{
	struct vagent__strbuf b = { 0 };
	cJSON *s;
	vagent_status st = parse(schema_json, "schema", &s, err);

	if (st != VAGENT_OK)
		return st;
	vagent__strbuf_puts(&b, "schema: ");
	if (!vagent__schema_check(s, &b)) {
		cJSON_Delete(s);
		return report(&b, VAGENT_EINVAL, err);
	}
	cJSON_Delete(s);
	vagent__strbuf_release(&b);
	return VAGENT_OK;
}

vagent_status vagent_json_schema_validate(const char *schema_json,
					  const char *instance_json,
					  struct vagent_error *err)
{
	struct vagent__strbuf b = { 0 };
	cJSON *s = NULL, *v = NULL;
	vagent_status st = parse(schema_json, "schema", &s, err);

	if (st != VAGENT_OK)
		return st;
	vagent__strbuf_puts(&b, "schema: ");
	if (!vagent__schema_check(s, &b)) {
		cJSON_Delete(s);
		return report(&b, VAGENT_EINVAL, err);
	}
	vagent__strbuf_release(&b);
	st = parse(instance_json, "value", &v, err);
	if (st != VAGENT_OK) {
		cJSON_Delete(s);
		return st;
	}
	if (!vagent__schema_validate(s, v, "value", &b))
		st = report(&b, VAGENT_EINVAL, err);
	else
		vagent__strbuf_release(&b);
	cJSON_Delete(s);
	cJSON_Delete(v);
	return st;
}
