/*
 * routes.c — the mock HTTP server's routes file (docs/mock-http.md): parsing
 * and checking it, matching a request to a route, and rendering the route's
 * answer from its templates, tables, response sequence and idempotency store.
 * No sockets here: mock_http.c hands over parsed requests.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mock/mock_int.h"

/* ---- checking the file ---------------------------------------------- */

struct parser {
	const char *name;              /* the file, for errors */
	struct vagent_error *err;
	vagent_status st;
};

static vagent_status fail(struct parser *p, const char *where, const char *fmt, ...)
	VAGENT__PRINTF(3, 4);

static vagent_status fail(struct parser *p, const char *where, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (where && *where)
		p->st = vagent__error_set(p->err, VAGENT_EINVAL, p->name, "%s: %s", where, msg);
	else
		p->st = vagent__error_set(p->err, VAGENT_EINVAL, p->name, "%s", msg);
	return p->st;
}

static vagent_status oom(struct parser *p)
{
	p->st = vagent__error_set(p->err, VAGENT_ENOMEM, p->name, "out of memory");
	return p->st;
}

static bool has_key(const char *const *keys, const char *k)
{
	for (; *keys; keys++)
		if (!strcmp(*keys, k))
			return true;
	return false;
}

/* Does a route's path have the parameter `name` ("{name}" segment)? */
static bool route_has_param(const struct vagent__mock_route *rt, const char *name, size_t len)
{
	for (size_t i = 0; i < rt->n_segs; i++) {
		const char *s = rt->segs[i];
		if (s[0] == '{' && strlen(s) == len + 2 && !strncmp(s + 1, name, len))
			return true;
	}
	return false;
}

static bool placeholder_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

/*
 * Check the placeholders of one template string: "{param}" of the route's
 * path, "{query.X}", "{header.X}", "{body}", "{body.a.b}", and with a table
 * "{row}", "{row.a}". "{{" and "}}" are literal braces.
 */
static vagent_status check_template(struct parser *p, const char *where, const char *s,
				    const struct vagent__mock_route *rt, bool row_ok)
{
	for (const char *c = s; *c; c++) {
		const char *end, *name;
		size_t len;

		if (*c == '{' && c[1] == '{') {
			c++;
			continue;
		}
		if (*c != '{')
			continue;
		name = c + 1;
		end = strchr(name, '}');
		if (!end)
			return fail(p, where, "unterminated placeholder '%s' (write '{{' for a literal brace)", c);
		len = (size_t)(end - name);
		for (size_t i = 0; i < len; i++)
			if (!placeholder_char(name[i]))
				return fail(p, where, "bad placeholder '{%.*s}' (write '{{' for a literal brace)",
					    (int)len, name);
		if (len == 0)
			return fail(p, where, "empty placeholder '{}'");
		if ((len > 6 && !strncmp(name, "query.", 6)) || (len > 7 && !strncmp(name, "header.", 7)) ||
		    (len == 4 && !strncmp(name, "body", 4)) || (len > 5 && !strncmp(name, "body.", 5))) {
			/* request parts: any name */
		} else if ((len == 3 && !strncmp(name, "row", 3)) || (len > 4 && !strncmp(name, "row.", 4))) {
			if (!row_ok)
				return fail(p, where, "placeholder '{%.*s}' needs a table row here", (int)len, name);
		} else if (!route_has_param(rt, name, len)) {
			return fail(p, where, "unknown placeholder '{%.*s}': not a parameter of path '%s' "
				    "(nor query.X, header.X, body.X or row.X)", (int)len, name, rt->path);
		}
		c = end;
	}
	return VAGENT_OK;
}

/* Check every string in a JSON template, naming its place in the file. */
static vagent_status check_json_template(struct parser *p, char *where, size_t cap,
					 const cJSON *t, const struct vagent__mock_route *rt,
					 bool row_ok)
{
	size_t len = strlen(where);
	const cJSON *c;
	size_t i = 0;

	if (cJSON_IsString(t))
		return check_template(p, where, t->valuestring, rt, row_ok);
	cJSON_ArrayForEach(c, t) {
		if (cJSON_IsArray(t))
			snprintf(where + len, cap - len, "[%zu]", i);
		else
			snprintf(where + len, cap - len, ".%s", c->string);
		if (check_json_template(p, where, cap, c, rt, row_ok))
			return p->st;
		i++;
	}
	where[len] = '\0';
	return VAGENT_OK;
}

static bool get_int(const cJSON *v, long lo, long hi, int *out)
{
	/* the range first: casting a huge double to long is undefined */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)lo && v->valuedouble <= (double)hi) ||
	    v->valuedouble != (double)(long)v->valuedouble)
		return false;
	*out = (int)v->valuedouble;
	return true;
}

/* An HTTP token (RFC 9110 tchar): letters, digits and !#$%&'*+-.^_`|~ */
static bool header_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

static const char *const reply_keys[] = {
	"status", "headers", "body", "text", "delay_ms", "hang", "close", "malformed", NULL,
};

/* Parse the response fields of `o` (a route or an element of "responses"). */
static vagent_status parse_reply(struct parser *p, const char *at, const cJSON *o,
				 const struct vagent__mock_route *rt, bool row_ok,
				 int default_status, struct vagent__mock_reply *r)
{
	char where[512];
	const cJSON *v;

	memset(r, 0, sizeof(*r));
	r->status = default_status;
#define WHERE(field) (snprintf(where, sizeof(where), "%s%s%s", at, *at ? "." : "", field), where)
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "status")) &&
	    !get_int(v, 100, 599, &r->status))
		return fail(p, WHERE("status"), "must be an integer 100..599");
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "delay_ms")) &&
	    !get_int(v, 0, 3600000, &r->delay_ms))
		return fail(p, WHERE("delay_ms"), "must be an integer 0..3600000");
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "hang"))) {
		if (!cJSON_IsBool(v))
			return fail(p, WHERE("hang"), "must be true or false");
		r->hang = cJSON_IsTrue(v);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "close"))) {
		if (!cJSON_IsBool(v))
			return fail(p, WHERE("close"), "must be true or false");
		r->close = cJSON_IsTrue(v);
	}
	if (r->hang && r->close)
		return fail(p, WHERE("close"), "cannot be combined with hang");
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "malformed"))) {
		if (cJSON_IsTrue(v))
			r->malformed = "{\"error\": \"truncated";
		else if (cJSON_IsString(v))
			r->malformed = v->valuestring;
		else if (!cJSON_IsFalse(v))
			return fail(p, WHERE("malformed"), "must be true, false or the text to send");
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "headers"))) {
		const cJSON *h;

		if (!cJSON_IsObject(v))
			return fail(p, WHERE("headers"), "must be an object of \"Name\": \"value\"");
		cJSON_ArrayForEach(h, v) {
			char hw[600];

			snprintf(hw, sizeof(hw), "%s.%s", WHERE("headers"), h->string);
			if (!header_name_ok(h->string))
				return fail(p, hw, "not a valid header name");
			if (!cJSON_IsString(h) && !cJSON_IsNumber(h))
				return fail(p, hw, "must be a string or a number");
			if (!strcasecmp(h->string, "Content-Length") ||
			    !strcasecmp(h->string, "Transfer-Encoding") ||
			    !strcasecmp(h->string, "Connection"))
				return fail(p, hw, "is set by the server");
			if (cJSON_IsString(h) && strpbrk(h->valuestring, "\r\n"))
				return fail(p, hw, "must be one line");
			if (cJSON_IsString(h) && check_template(p, hw, h->valuestring, rt, row_ok))
				return p->st;
		}
		r->headers = v;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "body"))) {
		char bw[4096];

		snprintf(bw, sizeof(bw), "%s", WHERE("body"));
		if (check_json_template(p, bw, sizeof(bw), v, rt, row_ok))
			return p->st;
		r->body = v;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "text"))) {
		if (!cJSON_IsString(v))
			return fail(p, WHERE("text"), "must be a string");
		if (r->body)
			return fail(p, WHERE("text"), "cannot be combined with body");
		if (check_template(p, WHERE("text"), v->valuestring, rt, row_ok))
			return p->st;
		r->text = v->valuestring;
	}
#undef WHERE
	return VAGENT_OK;
}

static const char *const route_keys[] = {
	"name", "method", "path", "query", "when", "performs", "table", "key", "missing",
	"update", "responses", "status", "headers", "body", "text", "delay_ms", "hang", "close",
	"malformed", NULL,
};

static vagent_status parse_path(struct parser *p, const char *at,
				struct vagent__mock_route *rt)
{
	const char *s = rt->path;

	if (s[0] != '/')
		return fail(p, at, "must start with '/'");
	if (strpbrk(s, "?# \t\r\n"))
		return fail(p, at, "must be a path without a query or spaces (match the query with \"query\")");
	for (s++; ; ) {
		const char *slash = strchr(s, '/');
		size_t len = slash ? (size_t)(slash - s) : strlen(s);
		char *seg, **grown;

		if (len == 0 && (slash || rt->n_segs > 0))
			return fail(p, at, "empty segment in '%s'", rt->path);
		if (len == 0)
			break; /* "/" */
		if (!(seg = strndup(s, len)))
			return oom(p);
		grown = realloc(rt->segs, (rt->n_segs + 1) * sizeof(*grown));
		if (!grown) {
			free(seg);
			return oom(p);
		}
		rt->segs = grown;
		rt->segs[rt->n_segs++] = seg;
		if (strchr(seg, '{') || strchr(seg, '}')) {
			size_t n = strlen(seg);

			if (seg[0] != '{' || seg[n - 1] != '}' || n < 3)
				return fail(p, at, "a parameter must be a whole segment: '{name}' in '%s'", rt->path);
			for (size_t i = 1; i + 1 < n; i++)
				if (!isalnum((unsigned char)seg[i]) && seg[i] != '_' && seg[i] != '-')
					return fail(p, at, "bad parameter name '%s'", seg);
			if (!strcmp(seg, "{row}") || !strcmp(seg, "{body}"))
				return fail(p, at, "parameter name '%s' is reserved", seg);
			for (size_t i = 0; i + 1 < rt->n_segs; i++)
				if (!strcmp(rt->segs[i], seg))
					return fail(p, at, "parameter '%s' appears twice", seg);
		}
		if (!slash)
			break;
		s = slash + 1;
	}
	return VAGENT_OK;
}

static vagent_status parse_route(struct parser *p, struct vagent__mock_routes *rs,
				 size_t idx, const cJSON *o)
{
	struct vagent__mock_route *rt = &rs->routes[idx];
	char at[64], where[128];
	const cJSON *v, *resp;
	bool row_ok;

	snprintf(at, sizeof(at), "routes[%zu]", idx);
#define WHERE(field) (snprintf(where, sizeof(where), "%s.%s", at, field), where)
	if (!cJSON_IsObject(o))
		return fail(p, at, "must be an object");
	cJSON_ArrayForEach(v, o)
		if (!has_key(route_keys, v->string))
			return fail(p, WHERE(v->string), "unknown field");

	v = cJSON_GetObjectItemCaseSensitive(o, "method");
	if (v) {
		if (!cJSON_IsString(v) || !*v->valuestring)
			return fail(p, WHERE("method"), "must be a method name such as \"GET\" or \"*\"");
		for (const char *c = v->valuestring; *c; c++)
			if (!(isupper((unsigned char)*c) || (*c == '*' && !c[1] && c == v->valuestring)))
				return fail(p, WHERE("method"), "must be an upper-case method name or \"*\"");
	}
	rt->method = v ? v->valuestring : "GET";

	v = cJSON_GetObjectItemCaseSensitive(o, "path");
	if (!v)
		return fail(p, WHERE("path"), "missing (e.g. \"/orders/{order_number}\")");
	if (!cJSON_IsString(v))
		return fail(p, WHERE("path"), "must be a string");
	rt->path = v->valuestring;
	if (parse_path(p, WHERE("path"), rt))
		return p->st;
	if (!strncmp(rt->path, "/_mock/", 7) || !strcmp(rt->path, "/_mock"))
		return fail(p, WHERE("path"), "paths under /_mock/ are the server's own");

	v = cJSON_GetObjectItemCaseSensitive(o, "name");
	if (v && (!cJSON_IsString(v) || !*v->valuestring))
		return fail(p, WHERE("name"), "must be a non-empty string");
	if (v)
		rt->name = strdup(v->valuestring);
	else {
		struct vagent__strbuf b = { 0 };
		vagent__strbuf_printf(&b, "%s %s", rt->method, rt->path);
		rt->name = vagent__strbuf_detach(&b);
	}
	if (!rt->name)
		return oom(p);
	for (size_t i = 0; i < idx; i++)
		if (!strcmp(rs->routes[i].name, rt->name))
			return fail(p, at, "route name '%s' is already used by routes[%zu]%s",
				    rt->name, i, v ? "" : "; give one of them a \"name\"");

	if ((v = cJSON_GetObjectItemCaseSensitive(o, "query"))) {
		const cJSON *q;

		if (!cJSON_IsObject(v))
			return fail(p, WHERE("query"), "must be an object of \"param\": \"value\" (\"*\": present)");
		cJSON_ArrayForEach(q, v)
			if (!cJSON_IsString(q))
				return fail(p, WHERE("query"), "'%s' must be a string", q->string);
		rt->query = v;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "performs"))) {
		if (!cJSON_IsBool(v))
			return fail(p, WHERE("performs"), "must be true or false");
		rt->performs = cJSON_IsTrue(v);
	}

	if ((v = cJSON_GetObjectItemCaseSensitive(o, "table"))) {
		const cJSON *tables = cJSON_GetObjectItemCaseSensitive(rs->doc, "tables");

		if (!cJSON_IsString(v))
			return fail(p, WHERE("table"), "must be the name of a table");
		if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(tables, v->valuestring)))
			return fail(p, WHERE("table"), "no table '%s' in \"tables\"", v->valuestring);
		rt->table = v->valuestring;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "key"))) {
		if (!rt->table)
			return fail(p, WHERE("key"), "needs a \"table\"");
		if (!cJSON_IsString(v) || !*v->valuestring)
			return fail(p, WHERE("key"), "must be a template such as \"{order_number}\"");
		if (check_template(p, WHERE("key"), v->valuestring, rt, false))
			return p->st;
		rt->key = v->valuestring;
	} else if (rt->table) {
		const char *param = NULL;

		for (size_t i = 0; i < rt->n_segs; i++)
			if (rt->segs[i][0] == '{') {
				if (param)
					return fail(p, WHERE("key"), "missing: the path has several parameters");
				param = rt->segs[i];
			}
		if (!param)
			return fail(p, WHERE("key"), "missing: the path has no parameter to look up");
		rt->key = param; /* "{name}" is its own template */
	}
	row_ok = rt->table != NULL;

	if ((v = cJSON_GetObjectItemCaseSensitive(o, "missing"))) {
		const cJSON *f;

		if (!rt->table)
			return fail(p, WHERE("missing"), "needs a \"table\"");
		if (!cJSON_IsObject(v))
			return fail(p, WHERE("missing"), "must be a response object");
		cJSON_ArrayForEach(f, v)
			if (!has_key(reply_keys, f->string)) {
				char w2[200];
				snprintf(w2, sizeof(w2), "%s.missing.%s", at, f->string);
				return fail(p, w2, "unknown field");
			}
		if (parse_reply(p, WHERE("missing"), v, rt, false, 404, &rt->missing))
			return p->st;
	} else {
		rt->missing.status = 404;
	}

	if ((v = cJSON_GetObjectItemCaseSensitive(o, "update"))) {
		char uw[4096];

		if (!rt->table || !rt->performs)
			return fail(p, WHERE("update"), "needs a \"table\" and \"performs\": true");
		if (!cJSON_IsObject(v))
			return fail(p, WHERE("update"), "must be an object of \"field\": template");
		snprintf(uw, sizeof(uw), "%s", WHERE("update"));
		if (check_json_template(p, uw, sizeof(uw), v, rt, true))
			return p->st;
		rt->update = v;
	}

	if ((v = cJSON_GetObjectItemCaseSensitive(o, "when"))) {
		const cJSON *cond;

		if (!cJSON_IsObject(v) || !v->child)
			return fail(p, WHERE("when"), "must be an object of \"placeholder\": value, "
				    "e.g. {\"row.status\": \"delivered\"}");
		cJSON_ArrayForEach(cond, v) {
			char cw[300], tmpl[300];
			const cJSON *e;

			snprintf(cw, sizeof(cw), "%s.when.%s", at, cond->string);
			snprintf(tmpl, sizeof(tmpl), "{%s}", cond->string);
			if (!*cond->string || strchr(cond->string, '{') || strchr(cond->string, '}'))
				return fail(p, cw, "write the placeholder without braces (\"row.status\")");
			if (check_template(p, cw, tmpl, rt, row_ok))
				return p->st;
			if (cJSON_IsObject(cond))
				return fail(p, cw, "must be a value or an array of values (any of them)");
			cJSON_ArrayForEach(e, cond)
				if (cJSON_IsObject(e) || cJSON_IsArray(e))
					return fail(p, cw, "must be a value or an array of values (any of them)");
		}
		rt->when = v;
	}

	resp = cJSON_GetObjectItemCaseSensitive(o, "responses");
	if (resp) {
		const cJSON *r;
		size_t n = 0;

		for (const char *const *k = reply_keys; *k; k++)
			if (cJSON_GetObjectItemCaseSensitive(o, *k))
				return fail(p, WHERE(*k), "not allowed next to \"responses\" (put it in each response)");
		if (!cJSON_IsArray(resp) || cJSON_GetArraySize(resp) == 0)
			return fail(p, WHERE("responses"), "must be a non-empty array of responses");
		rt->n_replies = (size_t)cJSON_GetArraySize(resp);
		if (!(rt->replies = calloc(rt->n_replies, sizeof(*rt->replies))))
			return oom(p);
		cJSON_ArrayForEach(r, resp) {
			char rw[128];
			const cJSON *f;

			snprintf(rw, sizeof(rw), "%s.responses[%zu]", at, n);
			if (!cJSON_IsObject(r))
				return fail(p, rw, "must be an object");
			cJSON_ArrayForEach(f, r)
				if (!has_key(reply_keys, f->string)) {
					char w2[200];
					snprintf(w2, sizeof(w2), "%s.%s", rw, f->string);
					return fail(p, w2, "unknown field");
				}
			if (parse_reply(p, rw, r, rt, row_ok, 200, &rt->replies[n]))
				return p->st;
			n++;
		}
	} else {
		rt->n_replies = 1;
		if (!(rt->replies = calloc(1, sizeof(*rt->replies))))
			return oom(p);
		if (parse_reply(p, at, o, rt, row_ok, 200, &rt->replies[0]))
			return p->st;
	}
#undef WHERE
	return VAGENT_OK;
}

/* "line L, column C" of byte `pos` in `s`. */
static void line_col(const char *s, size_t pos, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < pos && s[i]; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

vagent_status vagent__mock_routes_parse(const char *json, const char *name,
					struct vagent__mock_routes **out,
					struct vagent_error *err)
{
	struct parser p = { .name = name ? name : "routes", .err = err };
	struct vagent__mock_routes *rs = NULL;
	const char *end = NULL;
	const cJSON *routes, *tables, *v;
	size_t i = 0;

	*out = NULL;
	if (!json)
		return fail(&p, NULL, "no routes given");
	if (!(rs = calloc(1, sizeof(*rs))))
		return oom(&p);
	rs->doc = cJSON_ParseWithOpts(json, &end, 1);
	if (!rs->doc) {
		int line, col;

		if (!end) {
			oom(&p);
			goto fail;
		}
		line_col(json, (size_t)(end - json), &line, &col);
		p.st = vagent__error_set(err, VAGENT_EFORMAT, p.name,
					 "invalid JSON at line %d, column %d", line, col);
		goto fail;
	}
	if (!cJSON_IsObject(rs->doc)) {
		fail(&p, NULL, "must be a JSON object with \"routes\" (docs/mock-http.md)");
		goto fail;
	}
	cJSON_ArrayForEach(v, rs->doc)
		if (strcmp(v->string, "routes") && strcmp(v->string, "tables")) {
			fail(&p, v->string, "unknown field (expected \"routes\" and \"tables\")");
			goto fail;
		}
	tables = cJSON_GetObjectItemCaseSensitive(rs->doc, "tables");
	if (tables) {
		const cJSON *t, *row;

		if (!cJSON_IsObject(tables)) {
			fail(&p, "tables", "must be an object of tables");
			goto fail;
		}
		cJSON_ArrayForEach(t, tables) {
			char tw[300];

			snprintf(tw, sizeof(tw), "tables.%s", t->string);
			if (!cJSON_IsObject(t)) {
				fail(&p, tw, "must be an object of rows keyed by their key");
				goto fail;
			}
			cJSON_ArrayForEach(row, t)
				if (!cJSON_IsObject(row)) {
					snprintf(tw, sizeof(tw), "tables.%s.%s", t->string, row->string);
					fail(&p, tw, "a row must be an object");
					goto fail;
				}
		}
		if (!(rs->tables = cJSON_Duplicate(tables, 1))) {
			oom(&p);
			goto fail;
		}
	} else if (!(rs->tables = cJSON_CreateObject())) {
		oom(&p);
		goto fail;
	}
	routes = cJSON_GetObjectItemCaseSensitive(rs->doc, "routes");
	if (!cJSON_IsArray(routes) || cJSON_GetArraySize(routes) == 0) {
		fail(&p, "routes", routes ? "must be a non-empty array" : "missing");
		goto fail;
	}
	rs->n_routes = (size_t)cJSON_GetArraySize(routes);
	if (!(rs->routes = calloc(rs->n_routes, sizeof(*rs->routes)))) {
		oom(&p);
		goto fail;
	}
	cJSON_ArrayForEach(v, routes)
		if (parse_route(&p, rs, i++, v))
			goto fail;
	*out = rs;
	return VAGENT_OK;
fail:
	vagent__mock_routes_free(rs);
	return p.st;
}

static void idem_free_all(struct vagent__mock_routes *r)
{
	while (r->idem) {
		struct vagent__mock_idem *n = r->idem->next;

		free(r->idem->key);
		free(r->idem->request);
		free(r->idem->headers);
		free(r->idem->body);
		free(r->idem);
		r->idem = n;
	}
}

void vagent__mock_routes_free(struct vagent__mock_routes *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_routes; i++) {
		struct vagent__mock_route *rt = &r->routes[i];

		for (size_t j = 0; j < rt->n_segs; j++)
			free(rt->segs[j]);
		free(rt->segs);
		free(rt->name);
		free(rt->replies);
	}
	idem_free_all(r);
	free(r->routes);
	cJSON_Delete(r->tables);
	cJSON_Delete(r->doc);
	free(r);
}

void vagent__mock_routes_reset(struct vagent__mock_routes *r)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(r->doc, "tables");
	cJSON *fresh = t ? cJSON_Duplicate(t, 1) : cJSON_CreateObject();

	r->requests = r->unmatched = 0;
	for (size_t i = 0; i < r->n_routes; i++) {
		struct vagent__mock_route *rt = &r->routes[i];

		rt->received = rt->performed = rt->replayed = 0;
		rt->next_reply = 0;
	}
	idem_free_all(r);
	if (fresh) { /* out of memory: keep the tables as they are */
		cJSON_Delete(r->tables);
		r->tables = fresh;
	}
}

/* ---- answering a request -------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode s[0..n) (and '+' as space in queries) into a new string. */
static char *decode(const char *s, size_t n, bool plus)
{
	char *d = malloc(n + 1), *o = d;

	if (!d)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = plus && s[i] == '+' ? ' ' : s[i];
		}
	}
	*o = '\0';
	return d;
}

struct render_ctx {
	const struct vagent__mock_route *rt;
	const struct vagent__mock_request *req;
	char **segs;                   /* the request's decoded path segments */
	size_t n_segs;
	char **qk, **qv;               /* decoded query pairs */
	size_t n_q;
	cJSON *body;                   /* the request body as JSON, or NULL */
	bool body_parsed;
	const cJSON *row;
};

static const cJSON *dotted(const cJSON *v, const char *path, size_t len)
{
	while (v && len) {
		const char *dot = memchr(path, '.', len);
		size_t n = dot ? (size_t)(dot - path) : len;
		char key[256];

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (cJSON_IsArray(v)) {
			char *e;
			long idx = strtol(key, &e, 10);
			v = *e || e == key ? NULL : cJSON_GetArrayItem(v, (int)idx);
		} else {
			v = cJSON_GetObjectItemCaseSensitive(v, key);
		}
		path += n;
		len -= n;
		if (len) {
			path++;
			len--;
		}
	}
	return v;
}

/* The value of placeholder name[0..len) as a new cJSON, or NULL if absent. */
static cJSON *lookup(struct render_ctx *c, const char *name, size_t len)
{
	if (len > 6 && !strncmp(name, "query.", 6)) {
		for (size_t i = 0; i < c->n_q; i++)
			if (strlen(c->qk[i]) == len - 6 && !strncmp(c->qk[i], name + 6, len - 6))
				return cJSON_CreateString(c->qv[i]);
		return NULL;
	}
	if (len > 7 && !strncmp(name, "header.", 7)) {
		for (size_t i = 0; i < c->req->n_headers; i++)
			if (strlen(c->req->headers[i].name) == len - 7 &&
			    !strncasecmp(c->req->headers[i].name, name + 7, len - 7))
				return cJSON_CreateString(c->req->headers[i].value);
		return NULL;
	}
	if (!strncmp(name, "body", 4) && (len == 4 || name[4] == '.')) {
		if (!c->body_parsed) {
			c->body_parsed = true;
			if (c->req->body_len)
				c->body = cJSON_ParseWithLength(c->req->body, c->req->body_len);
		}
		const cJSON *v = len == 4 ? c->body : dotted(c->body, name + 5, len - 5);
		return v ? cJSON_Duplicate(v, 1) : NULL;
	}
	if (!strncmp(name, "row", 3) && (len == 3 || name[3] == '.')) {
		const cJSON *v = len == 3 ? c->row : dotted(c->row, name + 4, len - 4);
		return v ? cJSON_Duplicate(v, 1) : NULL;
	}
	for (size_t i = 0; i < c->rt->n_segs && i < c->n_segs; i++) {
		const char *s = c->rt->segs[i];
		if (s[0] == '{' && strlen(s) == len + 2 && !strncmp(s + 1, name, len))
			return cJSON_CreateString(c->segs[i]);
	}
	return NULL;
}

/* Interpolate a template string; values other than strings are written as
 * JSON, absent ones as nothing. */
static void interpolate(struct render_ctx *c, const char *s, struct vagent__strbuf *b)
{
	for (const char *p = s; *p; p++) {
		const char *end;
		cJSON *v;

		if ((*p == '{' && p[1] == '{') || (*p == '}' && p[1] == '}')) {
			vagent__strbuf_put(b, p, 1);
			p++;
			continue;
		}
		if (*p != '{' || !(end = strchr(p, '}'))) {
			vagent__strbuf_put(b, p, 1);
			continue;
		}
		v = lookup(c, p + 1, (size_t)(end - p - 1));
		if (cJSON_IsString(v)) {
			vagent__strbuf_puts(b, v->valuestring);
		} else if (v && !cJSON_IsNull(v)) {
			char *t = cJSON_PrintUnformatted(v);
			if (t)
				vagent__strbuf_puts(b, t);
			else
				b->oom = true;
			free(t);
		}
		cJSON_Delete(v);
		p = end;
	}
}

/* Is `s` exactly one placeholder ("{body.amount}")? */
static bool whole_placeholder(const char *s)
{
	size_t n = strlen(s);

	return n > 2 && s[0] == '{' && s[1] != '{' && s[n - 1] == '}' &&
	       !strchr(s + 1, '{') && strchr(s, '}') == s + n - 1;
}

/* A template rendered: strings interpolated; a string that is one
 * placeholder takes the value with its JSON type (null when absent). */
static cJSON *render(struct render_ctx *c, const cJSON *t)
{
	cJSON *o, *ch;
	const cJSON *e;

	if (cJSON_IsString(t)) {
		struct vagent__strbuf b = { 0 };
		char *s;

		if (whole_placeholder(t->valuestring)) {
			cJSON *v = lookup(c, t->valuestring + 1, strlen(t->valuestring) - 2);
			return v ? v : cJSON_CreateNull();
		}
		interpolate(c, t->valuestring, &b);
		if (!(s = vagent__strbuf_detach(&b)))
			return NULL;
		o = cJSON_CreateString(s);
		free(s);
		return o;
	}
	if (!cJSON_IsArray(t) && !cJSON_IsObject(t))
		return cJSON_Duplicate(t, 0);
	o = cJSON_IsArray(t) ? cJSON_CreateArray() : cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_ArrayForEach(e, t) {
		if (!(ch = render(c, e))) {
			cJSON_Delete(o);
			return NULL;
		}
		if (cJSON_IsArray(t))
			cJSON_AddItemToArray(o, ch);
		else
			cJSON_AddItemToObject(o, e->string, ch);
	}
	return o;
}

static char *render_string(struct render_ctx *c, const char *s)
{
	struct vagent__strbuf b = { 0 };

	interpolate(c, s, &b);
	return vagent__strbuf_detach(&b);
}

const char *vagent__mock_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	}
	return "Unknown";
}

const char *vagent__mock_header(const struct vagent__mock_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

/* A JSON error body {"error": code, ...} as an outcome. */
static vagent_status error_outcome(struct vagent__mock_outcome *out, int status, cJSON *body)
{
	out->status = status;
	out->headers = strdup("Content-Type: application/json\r\n");
	out->body = body ? cJSON_PrintUnformatted(body) : NULL;
	cJSON_Delete(body);
	if (!out->headers || !out->body)
		return VAGENT_ENOMEM;
	out->body_len = strlen(out->body);
	return VAGENT_OK;
}

static cJSON *error_body(const char *code, const char *k1, const char *v1,
			 const char *k2, const char *v2)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "error", code);
	if (k1)
		cJSON_AddStringToObject(o, k1, v1);
	if (k2)
		cJSON_AddStringToObject(o, k2, v2);
	return o;
}

static bool route_matches(const struct vagent__mock_route *rt, const char *method,
			  struct render_ctx *c)
{
	if (strcmp(rt->method, "*") && strcmp(rt->method, method) &&
	    !(!strcmp(method, "HEAD") && !strcmp(rt->method, "GET")))
		return false;
	if (rt->n_segs != c->n_segs)
		return false;
	for (size_t i = 0; i < rt->n_segs; i++)
		if (rt->segs[i][0] == '{' ? !c->segs[i][0] : strcmp(rt->segs[i], c->segs[i]) != 0)
			return false;
	if (rt->query) {
		const cJSON *q;

		cJSON_ArrayForEach(q, rt->query) {
			const char *got = NULL;

			for (size_t i = 0; i < c->n_q && !got; i++)
				if (!strcmp(c->qk[i], q->string))
					got = c->qv[i];
			if (!got || (strcmp(q->valuestring, "*") && strcmp(q->valuestring, got)))
				return false;
		}
	}
	return true;
}

/* Render reply `r` into `out`. */
static vagent_status render_reply(struct render_ctx *c, const struct vagent__mock_reply *r,
				  struct vagent__mock_outcome *out)
{
	struct vagent__strbuf h = { 0 };
	bool has_type = false;
	const cJSON *e;
	char *body = NULL;

	out->status = r->status;
	out->delay_ms = r->delay_ms;
	out->hang = r->hang;
	out->close = r->close;
	cJSON_ArrayForEach(e, r->headers) {
		char *v = NULL;

		if (cJSON_IsString(e))
			v = render_string(c, e->valuestring);
		else
			v = cJSON_PrintUnformatted(e);
		if (!v) {
			h.oom = true;
			break;
		}
		for (char *p = v; *p; p++) /* rendered values stay one line */
			if (*p == '\r' || *p == '\n')
				*p = ' ';
		vagent__strbuf_printf(&h, "%s: %s\r\n", e->string, v);
		free(v);
		if (!strcasecmp(e->string, "Content-Type"))
			has_type = true;
	}
	if (r->malformed) {
		body = strdup(r->malformed);
	} else if (r->text) {
		body = render_string(c, r->text);
		if (!has_type)
			vagent__strbuf_puts(&h, "Content-Type: text/plain; charset=utf-8\r\n");
		has_type = true;
	} else if (r->body || c->row) {
		cJSON *v = r->body ? render(c, r->body) : cJSON_Duplicate(c->row, 1);

		body = v ? cJSON_PrintUnformatted(v) : NULL;
		cJSON_Delete(v);
	} else if (r->status == 204 || r->status == 304 || r->status < 200) {
		body = strdup("");
		has_type = true;
	} else if (r->status >= 400) {
		cJSON *v = error_body(vagent__mock_reason(r->status), NULL, NULL, NULL, NULL);

		body = v ? cJSON_PrintUnformatted(v) : NULL;
		cJSON_Delete(v);
	} else {
		body = strdup("{}");
	}
	if (!has_type)
		vagent__strbuf_puts(&h, "Content-Type: application/json\r\n");
	out->headers = vagent__strbuf_detach(&h);
	out->body = body;
	if (!out->headers || !out->body)
		return VAGENT_ENOMEM;
	out->body_len = strlen(body);
	return VAGENT_OK;
}

static void ctx_release(struct render_ctx *c)
{
	for (size_t i = 0; i < c->n_segs; i++)
		free(c->segs[i]);
	free(c->segs);
	for (size_t i = 0; i < c->n_q; i++) {
		free(c->qk[i]);
		free(c->qv[i]);
	}
	free(c->qk);
	free(c->qv);
	cJSON_Delete(c->body);
}

/* Split the target into decoded path segments and query pairs. */
static vagent_status ctx_parse_target(struct render_ctx *c, const char *target)
{
	const char *q = strchr(target, '?');
	size_t plen = q ? (size_t)(q - target) : strlen(target);
	const char *s = target;

	if (plen && *s == '/') {
		s++;
		plen--;
	}
	while (plen) {
		const char *slash = memchr(s, '/', plen);
		size_t n = slash ? (size_t)(slash - s) : plen;
		char **g = realloc(c->segs, (c->n_segs + 1) * sizeof(*g));

		if (!g)
			return VAGENT_ENOMEM;
		c->segs = g;
		if (!(c->segs[c->n_segs] = decode(s, n, false)))
			return VAGENT_ENOMEM;
		c->n_segs++;
		s += n;
		plen -= n;
		if (slash) {
			s++;
			plen--;
			if (!plen) { /* trailing slash: an empty last segment */
				g = realloc(c->segs, (c->n_segs + 1) * sizeof(*g));
				if (!g)
					return VAGENT_ENOMEM;
				c->segs = g;
				if (!(c->segs[c->n_segs] = strdup("")))
					return VAGENT_ENOMEM;
				c->n_segs++;
			}
		}
	}
	for (s = q ? q + 1 : NULL; s && *s; ) {
		const char *amp = strchr(s, '&');
		size_t n = amp ? (size_t)(amp - s) : strlen(s);
		const char *eq = memchr(s, '=', n);
		char **gk, **gv;

		if (n) {
			gk = realloc(c->qk, (c->n_q + 1) * sizeof(*gk));
			if (gk)
				c->qk = gk;
			gv = realloc(c->qv, (c->n_q + 1) * sizeof(*gv));
			if (gv)
				c->qv = gv;
			if (!gk || !gv)
				return VAGENT_ENOMEM;
			c->qk[c->n_q] = decode(s, eq ? (size_t)(eq - s) : n, true);
			c->qv[c->n_q] = eq ? decode(eq + 1, n - (size_t)(eq - s) - 1, true) : strdup("");
			c->n_q++;
			if (!c->qk[c->n_q - 1] || !c->qv[c->n_q - 1])
				return VAGENT_ENOMEM;
		}
		s = amp ? amp + 1 : NULL;
	}
	return VAGENT_OK;
}

/* What a stored answer's request was: method, target and body. */
static char *fingerprint(const struct vagent__mock_request *req)
{
	struct vagent__strbuf b = { 0 };

	vagent__strbuf_printf(&b, "%s %s\n", req->method, req->target);
	vagent__strbuf_put(&b, req->body, req->body_len);
	return vagent__strbuf_detach(&b);
}

/* Set the rendered `update` fields into the row. */
static vagent_status apply_update(struct render_ctx *c, const cJSON *update, cJSON *row)
{
	cJSON *vals = render(c, update), *v;

	if (!vals)
		return VAGENT_ENOMEM;
	while ((v = vals->child)) {
		char *key = strdup(v->string);

		cJSON_DetachItemViaPointer(vals, v);
		if (!key) {
			cJSON_Delete(v);
			cJSON_Delete(vals);
			return VAGENT_ENOMEM;
		}
		/* (cJSON frees the item's own key on replace: pass a copy) */
		if (cJSON_GetObjectItemCaseSensitive(row, key))
			cJSON_ReplaceItemInObjectCaseSensitive(row, key, v);
		else
			cJSON_AddItemToObject(row, key, v);
		free(key);
	}
	cJSON_Delete(vals);
	return VAGENT_OK;
}

/* The row a table route would answer from (NULL: none), its key rendered
 * into *key (transfer full). */
static vagent_status find_row(struct vagent__mock_routes *r, struct render_ctx *c,
			      const struct vagent__mock_route *rt, cJSON **row, char **key)
{
	const struct vagent__mock_route *saved = c->rt;

	*row = NULL;
	*key = NULL;
	if (!rt->table)
		return VAGENT_OK;
	c->rt = rt;
	*key = render_string(c, rt->key);
	c->rt = saved;
	if (!*key)
		return VAGENT_ENOMEM;
	*row = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r->tables, rt->table),
						*key);
	return VAGENT_OK;
}

/* Does one `when` value match? A string matches the value as text. */
static bool value_matches(const cJSON *got, const cJSON *want)
{
	if (cJSON_IsString(want)) {
		if (cJSON_IsString(got))
			return !strcmp(got->valuestring, want->valuestring);
		if (cJSON_IsNumber(got) || cJSON_IsBool(got)) {
			char *t = cJSON_PrintUnformatted(got);
			bool eq = t && !strcmp(t, want->valuestring);

			free(t);
			return eq;
		}
		return false;
	}
	if (!got)
		return cJSON_IsNull(want);
	return cJSON_Compare(got, want, true);
}

/* Do all of the route's `when` conditions hold? */
static bool when_holds(struct render_ctx *c, const struct vagent__mock_route *rt)
{
	const cJSON *cond;

	cJSON_ArrayForEach(cond, rt->when) {
		cJSON *got = lookup(c, cond->string, strlen(cond->string));
		bool ok = false;

		if (cJSON_IsArray(cond)) {
			const cJSON *e;
			cJSON_ArrayForEach(e, cond)
				ok = ok || value_matches(got, e);
		} else {
			ok = value_matches(got, cond);
		}
		cJSON_Delete(got);
		if (!ok)
			return false;
	}
	return true;
}

/* Answer from the stored outcome `m`. */
static vagent_status replay(const struct vagent__mock_idem *m, struct vagent__mock_outcome *out)
{
	struct vagent__strbuf b = { 0 };

	out->replayed = true;
	out->status = m->status;
	vagent__strbuf_printf(&b, "%sIdempotent-Replayed: true\r\n", m->headers);
	out->headers = vagent__strbuf_detach(&b);
	out->body = malloc(m->body_len + 1);
	if (!out->headers || !out->body)
		return VAGENT_ENOMEM;
	memcpy(out->body, m->body, m->body_len + 1);
	out->body_len = m->body_len;
	return VAGENT_OK;
}

static void store(struct vagent__mock_routes *r, size_t route, const char *key,
		  const struct vagent__mock_request *req, const struct vagent__mock_outcome *out)
{
	struct vagent__mock_idem *m = calloc(1, sizeof(*m));

	if (!m)
		return; /* not stored: a retry performs again */
	m->key = strdup(key);
	m->request = fingerprint(req);
	m->route = route;
	m->status = out->status;
	m->headers = strdup(out->headers);
	m->body = malloc(out->body_len + 1);
	if (!m->key || !m->request || !m->headers || !m->body) {
		free(m->key);
		free(m->request);
		free(m->headers);
		free(m->body);
		free(m);
		return;
	}
	memcpy(m->body, out->body, out->body_len + 1);
	m->body_len = out->body_len;
	m->next = r->idem;
	r->idem = m;
}

vagent_status vagent__mock_dispatch(struct vagent__mock_routes *r,
				    const struct vagent__mock_request *req,
				    struct vagent__mock_outcome *out)
{
	struct render_ctx c = { .req = req };
	struct vagent__mock_route *rt = NULL;
	const struct vagent__mock_reply *reply;
	const char *key = vagent__mock_header(req, "Idempotency-Key");
	cJSON *row = NULL;
	char *row_key = NULL;
	size_t first = r->n_routes;
	vagent_status st;

	memset(out, 0, sizeof(*out));
	r->requests++;
	if ((st = ctx_parse_target(&c, req->target)))
		goto done;
	for (size_t i = 0; i < r->n_routes && first == r->n_routes; i++)
		if (route_matches(&r->routes[i], req->method, &c))
			first = i;

	/* A repeated Idempotency-Key answers what the first call got, whatever
	 * the routes' conditions say now (the action may have changed them). */
	if (key && first < r->n_routes) {
		for (struct vagent__mock_idem *m = r->idem; m; m = m->next) {
			char *fp;

			if (strcmp(m->key, key))
				continue;
			if (!(fp = fingerprint(req))) {
				st = VAGENT_ENOMEM;
				goto done;
			}
			if (strcmp(fp, m->request)) {
				free(fp);
				r->routes[first].received++;
				out->route = r->routes[first].name;
				st = error_outcome(out, 422, error_body("idempotency_key_reused",
					"message", "this Idempotency-Key came with a different request",
					NULL, NULL));
				goto done;
			}
			free(fp);
			rt = &r->routes[m->route];
			rt->received++;
			rt->replayed++;
			out->route = rt->name;
			st = replay(m, out);
			goto done;
		}
	}

	/* the first matching route whose conditions hold */
	for (size_t i = first; i < r->n_routes && !rt; i++) {
		struct vagent__mock_route *cand = &r->routes[i];

		if (!route_matches(cand, req->method, &c))
			continue;
		free(row_key);
		if ((st = find_row(r, &c, cand, &row, &row_key)))
			goto done;
		c.rt = cand;
		c.row = row;
		if (!cand->when || when_holds(&c, cand))
			rt = cand;
	}
	if (!rt) {
		char *path = strndup(req->target, strcspn(req->target, "?"));

		r->unmatched++;
		st = path ? error_outcome(out, 404, error_body("no_route", "method", req->method,
							       "path", path))
			  : VAGENT_ENOMEM;
		free(path);
		goto done;
	}
	out->route = rt->name;
	rt->received++;

	if (rt->table && !row) {
		const struct vagent__mock_reply *m = &rt->missing;

		if (m->body || m->text || m->malformed) {
			st = render_reply(&c, m, out);
		} else {
			st = error_outcome(out, m->status, error_body("not_found", "table", rt->table,
								   "key", row_key));
			out->delay_ms = m->delay_ms;
			out->hang = m->hang;
			out->close = m->close;
		}
		goto done;
	}

	reply = &rt->replies[rt->next_reply < rt->n_replies ? rt->next_reply : rt->n_replies - 1];
	rt->next_reply++;
	out->performed = rt->performs && reply->status >= 200 && reply->status < 300 &&
			 !reply->hang && !reply->close;
	if (out->performed && rt->update && row && (st = apply_update(&c, rt->update, row)))
		goto done;
	if ((st = render_reply(&c, reply, out)))
		goto done;
	if (out->performed) {
		rt->performed++;
		if (key)
			store(r, (size_t)(rt - r->routes), key, req, out);
	}
done:
	free(row_key);
	ctx_release(&c);
	if (st)
		vagent__mock_outcome_release(out);
	return st;
}

void vagent__mock_outcome_release(struct vagent__mock_outcome *o)
{
	free(o->headers);
	free(o->body);
	o->headers = o->body = NULL;
	o->body_len = 0;
}

char *vagent__mock_stats_json(const struct vagent__mock_routes *r)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	char *s;

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "requests", (double)r->requests);
	cJSON_AddNumberToObject(o, "unmatched", (double)r->unmatched);
	arr = cJSON_AddArrayToObject(o, "routes");
	for (size_t i = 0; arr && i < r->n_routes; i++) {
		const struct vagent__mock_route *rt = &r->routes[i];
		cJSON *j = cJSON_CreateObject();

		if (!j)
			break;
		cJSON_AddStringToObject(j, "name", rt->name);
		cJSON_AddStringToObject(j, "method", rt->method);
		cJSON_AddStringToObject(j, "path", rt->path);
		cJSON_AddBoolToObject(j, "performs", rt->performs);
		cJSON_AddNumberToObject(j, "received", (double)rt->received);
		cJSON_AddNumberToObject(j, "performed", (double)rt->performed);
		cJSON_AddNumberToObject(j, "replayed", (double)rt->replayed);
		cJSON_AddItemToArray(arr, j);
	}
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}
