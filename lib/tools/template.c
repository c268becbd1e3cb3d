/*
 * template.c — building a tool's request from its templates: {name}
 * placeholders in the URL (percent-encoded arguments), headers and the
 * JSON body (values substituted as JSON), and the redacted URL errors
 * show (docs/tools.md).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tools_int.h"

const char *vagent__vars_get(const struct vagent__vars *v, const char *name,
			     size_t len)
{
	size_t i;

	for (i = 0; v && i < v->n; i++)
		if (strlen(v->names[i]) == len &&
		    memcmp(v->names[i], name, len) == 0)
			return v->values[i];
	return NULL;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* The placeholder at `s` (which points at '{'): its name and length, and
 * the position after the closing brace; false when malformed. */
static bool placeholder(const char *s, const char **name, size_t *len,
			const char **after)
{
	const char *e = s + 1;

	while (name_char(*e))
		e++;
	if (*e != '}' || e == s + 1)
		return false;
	*name = s + 1;
	*len = (size_t)(e - s - 1);
	*after = e + 1;
	return true;
}

bool vagent__template_check(const char *tpl, const struct vagent__vars *vars,
			    const cJSON *props, struct vagent__strbuf *problem)
{
	const char *s = tpl, *name, *after;
	size_t len;

	while (*s) {
		if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}')) {
			s += 2;             /* a literal brace */
			continue;
		}
		if (*s == '}') {
			vagent__strbuf_puts(problem, "'}' without '{' (write '}}' for a literal brace)");
			return false;
		}
		if (*s != '{') {
			s++;
			continue;
		}
		if (!placeholder(s, &name, &len, &after)) {
			vagent__strbuf_printf(problem,
				"bad placeholder at \"%.20s\" (want {name}; '{{' for a literal brace)", s);
			return false;
		}
		if (!vagent__vars_get(vars, name, len) && props) {
			const cJSON *p;
			bool found = false;

			cJSON_ArrayForEach(p, props)
				if (strlen(p->string) == len &&
				    memcmp(p->string, name, len) == 0)
					found = true;
			if (!found) {
				vagent__strbuf_printf(problem,
					"{%.*s} is neither an argument nor a variable",
					(int)len, name);
				return false;
			}
		}
		s = after;
	}
	return true;
}

static const cJSON *arg_get(const cJSON *args, const char *name, size_t len)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, args)
		if (a->string && strlen(a->string) == len &&
		    memcmp(a->string, name, len) == 0)
			return a;
	return NULL;
}

/* A value as text: strings as they are, integers without a fraction,
 * others as compact JSON. */
static void value_text(struct vagent__strbuf *b, const cJSON *v)
{
	char *txt;

	if (cJSON_IsString(v)) {
		vagent__strbuf_puts(b, v->valuestring);
		return;
	}
	if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
	    fabs(v->valuedouble) < 1e15) {
		vagent__strbuf_printf(b, "%.0f", v->valuedouble);
		return;
	}
	txt = cJSON_PrintUnformatted(v);
	if (!txt) {
		b->oom = true;
		return;
	}
	vagent__strbuf_puts(b, txt);
	free(txt);
}

static void percent_encode(struct vagent__strbuf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			vagent__strbuf_put(out, (const char *)&c, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			vagent__strbuf_put(out, e, 3);
		}
	}
}

char *vagent__template_expand(const char *tpl, const struct vagent__vars *vars,
			      const cJSON *args, bool url_encode, bool header,
			      struct vagent__strbuf *problem, bool *oom)
{
	struct vagent__strbuf out = { 0 };
	const char *s = tpl, *name, *after;
	size_t len;
	char *res;

	while (*s) {
		const char *var;
		const cJSON *arg;

		if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}')) {
			vagent__strbuf_put(&out, s, 1);     /* a literal brace */
			s += 2;
			continue;
		}
		if (*s != '{' || !placeholder(s, &name, &len, &after)) {
			vagent__strbuf_put(&out, s, 1);
			s++;
			continue;
		}
		var = vagent__vars_get(vars, name, len);
		if (var) {
			vagent__strbuf_puts(&out, var);
		} else if ((arg = arg_get(args, name, len)) != NULL) {
			struct vagent__strbuf t = { 0 };
			char *txt;

			value_text(&t, arg);
			txt = vagent__strbuf_detach(&t);
			if (!txt) {
				*oom = true;
				vagent__strbuf_release(&out);
				return NULL;
			}
			if (header && strpbrk(txt, "\r\n")) {
				vagent__strbuf_printf(problem,
					"%.*s: a line break cannot go in a header",
					(int)len, name);
				free(txt);
				vagent__strbuf_release(&out);
				return NULL;
			}
			if (url_encode)
				percent_encode(&out, txt);
			else
				vagent__strbuf_puts(&out, txt);
			free(txt);
		} else {
			vagent__strbuf_printf(problem, "%.*s: is required (for {%.*s})",
					      (int)len, name, (int)len, name);
			vagent__strbuf_release(&out);
			return NULL;
		}
		s = after;
	}
	res = vagent__strbuf_detach(&out);
	if (!res)
		*oom = true;
	return res;
}

/* Expand one node into a new node (NULL + *absent for a whole-string
 * placeholder with no value; NULL otherwise on a problem). */
static cJSON *body_node(const cJSON *t, const struct vagent__vars *vars,
			const cJSON *args, struct vagent__strbuf *problem,
			bool *oom, bool *absent)
{
	const cJSON *e;
	cJSON *out, *c;
	const char *name, *after;
	size_t len;

	*absent = false;
	if (cJSON_IsString(t)) {
		const char *s = t->valuestring;
		char *txt;

		if (*s == '{' && placeholder(s, &name, &len, &after) && !*after) {
			const char *var = vagent__vars_get(vars, name, len);
			const cJSON *arg;

			if (var) {
				out = cJSON_CreateString(var);
				if (!out)
					*oom = true;
				return out;
			}
			arg = arg_get(args, name, len);
			if (!arg) {
				*absent = true;
				return NULL;
			}
			out = cJSON_Duplicate(arg, true);
			if (!out)
				*oom = true;
			return out;
		}
		txt = vagent__template_expand(s, vars, args, false, false,
					      problem, oom);
		if (!txt)
			return NULL;
		out = cJSON_CreateString(txt);
		free(txt);
		if (!out)
			*oom = true;
		return out;
	}
	if (cJSON_IsObject(t) || cJSON_IsArray(t)) {
		bool obj = cJSON_IsObject(t);

		out = obj ? cJSON_CreateObject() : cJSON_CreateArray();
		if (!out) {
			*oom = true;
			return NULL;
		}
		cJSON_ArrayForEach(e, t) {
			bool gone;

			c = body_node(e, vars, args, problem, oom, &gone);
			if (!c && gone && !obj)
				c = cJSON_CreateNull();
			if (!c && gone && obj)
				continue;
			if (!c) {
				if (gone)
					*oom = true;
				cJSON_Delete(out);
				return NULL;
			}
			if (obj)
				cJSON_AddItemToObject(out, e->string, c);
			else
				cJSON_AddItemToArray(out, c);
		}
		return out;
	}
	out = cJSON_Duplicate(t, true);
	if (!out)
		*oom = true;
	return out;
}

char *vagent__body_expand(const cJSON *tpl, const struct vagent__vars *vars,
			  const cJSON *args, struct vagent__strbuf *problem,
			  bool *oom)
{
	bool absent;
	cJSON *b = body_node(tpl, vars, args, problem, oom, &absent);
	char *txt;

	if (!b && absent)
		b = cJSON_CreateNull();
	if (!b)
		return NULL;
	txt = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	if (!txt)
		*oom = true;
	return txt;
}
