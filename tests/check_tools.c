/*
 * check_tools.c — the tools provider (lib/tools): the JSON Schema subset,
 * definition checks, HTTP tools against the real mock server on loopback
 * (templates, retries, Retry-After, idempotency, timeouts, hangs, cancel,
 * limits) on real loops, and mock tools with faults on the virtual clock.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "vagent.h"
#include "tools/tools_int.h"

/* ---- the JSON Schema subset ---------------------------------------- */

static const char *schema_error(const char *schema, const char *inst)
{
	static struct vagent_error err;

	vagent_error_clear(&err);
	if (vagent_json_schema_validate(schema, inst, &err) == VAGENT_OK)
		return "ok";
	return err.message;
}

#define REFUND_SCHEMA \
	"{\"type\":\"object\",\"properties\":{" \
	"\"order_id\":{\"type\":\"string\",\"pattern\":\"^\\\\d{5}$\"}," \
	"\"amount\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1000}," \
	"\"reason\":{\"type\":\"string\",\"enum\":[\"damaged\",\"late\"]}," \
	"\"note\":{\"type\":\"string\",\"minLength\":2,\"maxLength\":5}," \
	"\"count\":{\"type\":\"integer\",\"exclusiveMinimum\":0}," \
	"\"items\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":2," \
	"\"items\":{\"type\":\"object\",\"properties\":{\"sku\":{\"type\":\"string\"}}," \
	"\"required\":[\"sku\"]}}," \
	"\"flag\":{\"type\":[\"boolean\",\"null\"]}}," \
	"\"required\":[\"order_id\",\"amount\"],\"additionalProperties\":false}"

START_TEST(test_schema_validate)
{
	const char *s = REFUND_SCHEMA;

	ck_assert_str_eq(schema_error(s, "{\"order_id\":\"12345\",\"amount\":20}"), "ok");
	ck_assert_str_eq(schema_error(s,
		"{\"order_id\":\"12345\",\"amount\":20,\"reason\":\"late\",\"note\":\"héé\","
		"\"count\":3,\"items\":[{\"sku\":\"a\"}],\"flag\":null}"), "ok");
	ck_assert_str_eq(schema_error(s, "{\"amount\":20}"), "order_id: is required");
	ck_assert_str_eq(schema_error(s, "{\"order_id\":12345,\"amount\":20}"),
			 "order_id: must be a string");
	ck_assert_str_eq(schema_error(s, "{\"order_id\":\"1234\",\"amount\":20}"),
			 "order_id: must match ^\\d{5}$");
	ck_assert_str_eq(schema_error(s, "{\"order_id\":\"12345\",\"amount\":-1}"),
			 "amount: must be >= 0");
	ck_assert_str_eq(schema_error(s, "{\"order_id\":\"12345\",\"amount\":1000.5}"),
			 "amount: must be <= 1000");
	ck_assert_str_eq(schema_error(s, "{\"order_id\":\"12345\",\"amount\":\"5\"}"),
			 "amount: must be a number");
	ck_assert_str_eq(schema_error(s,
		"{\"order_id\":\"12345\",\"amount\":1,\"reason\":\"bored\"}"),
		"reason: must be one of \"damaged\", \"late\"");
	ck_assert_str_eq(schema_error(s,
		"{\"order_id\":\"12345\",\"amount\":1,\"note\":\"x\"}"),
		"note: must be at least 2 characters long");
	ck_assert_str_eq(schema_error(s,
		"{\"order_id\":\"12345\",\"amount\":1,\"note\":\"éééééé\"}"),
		"note: must be at most 5 characters long");
	ck_assert_str_eq(schema_error(s,
		"{\"order_id\":\"12345\",\"amount\":1,\"count\":0}"),
		"count: must be > 0");
	ck_assert_str_eq(schema_error(s,
		"{\"order_id\":\"12345\",\"amount\":1,\"count\":1.5}"),
		"count: must be an integer");
	ck_assert_str_eq(schema_error(s,
		"{\"order_id\":\"12345\",\"amount\":1,\"items\":[]}"),
		"items: must have at least 1 items");
	ck_assert_str_eq(schema_error(s,
		"{\"order_id\":\"12345\",\"amount\":1,\"items\":[{\"sku\":\"a\"},{\"sku\":2}]}"),
		"items[1].sku: must be a string");
	ck_assert_str_eq(schema_error(s,
		"{\"order_id\":\"12345\",\"amount\":1,\"items\":[{\"sku\":\"a\"},{}]}"),
		"items[1].sku: is required");
	ck_assert_str_eq(schema_error(s,
		"{\"order_id\":\"12345\",\"amount\":1,\"flag\":1}"),
		"flag: must be boolean or null");
	ck_assert_str_eq(schema_error(s,
		"{\"order_id\":\"12345\",\"amount\":1,\"color\":\"red\"}"),
		"color: is not an allowed argument");
	ck_assert_str_eq(schema_error(s, "[1]"), "value: must be an object");
	ck_assert_str_eq(schema_error("{\"type\":\"number\",\"maximum\":5,"
				      "\"exclusiveMaximum\":true}", "5"),
			 "value: must be < 5");
	ck_assert_str_eq(schema_error("{\"const\":\"x\"}", "\"y\""),
			 "value: must be \"x\"");
	ck_assert_str_eq(schema_error("true", "{\"a\":1}"), "ok");
	ck_assert_str_eq(schema_error("{\"additionalProperties\":{\"type\":\"string\"}}",
				      "{\"a\":1}"), "a: must be a string");
}
END_TEST

START_TEST(test_schema_check)
{
	struct vagent_error err;

	ck_assert_int_eq(vagent_json_schema_check(REFUND_SCHEMA, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_json_schema_check("{\"oneOf\":[]}", &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "schema: unsupported keyword 'oneOf'");
	ck_assert_int_eq(vagent_json_schema_check(
		"{\"properties\":{\"amount\":{\"type\":\"float\"}}}", &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "schema: properties.amount.type: unknown type 'float'");
	ck_assert_int_eq(vagent_json_schema_check(
		"{\"properties\":{\"amount\":{\"minimum\":\"0\"}}}", &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "schema: properties.amount.minimum: must be a number");
	ck_assert_int_eq(vagent_json_schema_check("{\"pattern\":\"a(\"}", &err),
			 VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "schema: pattern: not a valid regular expression: a(");
	ck_assert_int_eq(vagent_json_schema_check("{\"pattern\":\"(a)\\\\1\"}", &err),
			 VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "schema: pattern: backreferences (\\1...) are not supported: (a)\\1");
	ck_assert_int_eq(vagent_json_schema_check("{\"maxLength\":-1}", &err),
			 VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "schema: maxLength: must be a non-negative integer");
	ck_assert_int_eq(vagent_json_schema_check("{\"required\":[1]}", &err),
			 VAGENT_EINVAL);
	ck_assert_int_eq(vagent_json_schema_check("{\"minimum\":5,\"maximum\":1}", &err),
			 VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "schema: minimum is above maximum");
	ck_assert_int_eq(vagent_json_schema_check("{\"type\":", &err), VAGENT_EFORMAT);
	ck_assert_int_eq(vagent_json_schema_check("3", &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "schema: must be an object");
	/* annotations are fine */
	ck_assert_int_eq(vagent_json_schema_check(
		"{\"title\":\"t\",\"description\":\"d\",\"default\":1,\"format\":\"date\"}",
		&err), VAGENT_OK);
	/* a bad instance text */
	ck_assert_int_eq(vagent_json_schema_validate("{}", "{", &err), VAGENT_EFORMAT);
}
END_TEST

START_TEST(test_retry_after_parse)
{
	char date[64];
	time_t later = time(NULL) + 100;
	struct tm tm;
	int64_t ms;

	ck_assert_int_eq(vagent__retry_after_ms("120"), 120000);
	ck_assert_int_eq(vagent__retry_after_ms("0"), 0);
	ck_assert_int_eq(vagent__retry_after_ms("1.5"), -1);
	ck_assert_int_eq(vagent__retry_after_ms("soon"), -1);
	ck_assert_int_eq(vagent__retry_after_ms(""), -1);
	ck_assert_int_eq(vagent__retry_after_ms(NULL), -1);
	gmtime_r(&later, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	ms = vagent__retry_after_ms(date);
	ck_assert_int_ge(ms, 98000);
	ck_assert_int_le(ms, 100000);
	ck_assert_int_eq(vagent__retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT"), 0);
}
END_TEST

START_TEST(test_url_redact)
{
	char out[128];

	vagent__url_redact("http://user:pw@h:8080/a/b?key=secret#x", out, sizeof(out));
	ck_assert_str_eq(out, "http://h:8080/a/b");
	vagent__url_redact("https://h/x", out, sizeof(out));
	ck_assert_str_eq(out, "https://h/x");
}
END_TEST

/* ---- definitions ---------------------------------------------------- */

static struct vagent_tool_def def_http(const char *name, const char *url)
{
	struct vagent_tool_def d;

	memset(&d, 0, sizeof(d));
	d.name = name;
	d.url = url;
	d.retries = -1;
	d.guard.confirm_above = -1;
	d.guard.max = -1;
	return d;
}

static const char *new_error(const struct vagent_tool_def *defs, size_t n,
			     const char *const *vars)
{
	static struct vagent_error err;
	struct vagent_tools_config cfg = vagent_tools_config_default();
	struct vagent_tools *t = NULL;

	cfg.tools = defs;
	cfg.n_tools = n;
	cfg.variables = vars;
	vagent_error_clear(&err);
	if (vagent_tools_new(&cfg, &t, &err) == VAGENT_OK) {
		vagent_tools_free(t);
		return "ok";
	}
	ck_assert_ptr_null(t);
	ck_assert_int_eq(err.status, VAGENT_EINVAL);
	return err.message;
}

START_TEST(test_definition_errors)
{
	static const char *const vars[] = { "base_url=http://127.0.0.1:9", NULL };
	static const char *const bad_vars[] = { "base url=x", NULL };
	static const char *const hdr_idem[] = { "Idempotency-Key: x", NULL };
	static const char *const hdr_bad[] = { "Authorization Bearer", NULL };
	struct vagent_tool_def d[3];

	d[0] = def_http("lookup", "{base_url}/orders/{order_id}");
	d[0].method = "GET";
	d[0].parameters = "{\"type\":\"object\",\"properties\":{\"order_id\":{\"type\":\"string\"}}}";
	d[1] = def_http("refund", "{base_url}/refund");
	d[1].parameters = "{\"type\":\"object\",\"properties\":{\"amount\":{\"type\":\"number\"}}}";
	d[1].guard.argument = "amount";
	d[1].guard.confirm_above = 50;
	d[1].guard.max = 200;
	d[2] = def_http("lookup", "{base_url}/x");
	ck_assert_str_eq(new_error(d, 2, vars), "ok");
	ck_assert_str_eq(new_error(d, 3, vars),
			 "tools: tools[2] \"lookup\": the name is already tools[0]");
	d[2] = def_http("hours", "{base_url}/orders/{order");
	ck_assert_str_eq(new_error(d, 3, vars),
			 "tools: tools[2] \"hours\": url: bad placeholder at \"{order\" (want {name}; "
			 "'{{' for a literal brace)");
	d[2] = def_http("hours", "ftp://h/x");
	ck_assert_str_eq(new_error(d, 3, vars),
			 "tools: tools[2] \"hours\": url: must start with http:// or https:// "
			 "(or a variable holding that)");
	d[2] = def_http("hours", "{base_url}/orders/{order_id}");
	d[2].parameters = "{\"type\":\"object\",\"properties\":{}}";
	ck_assert_str_eq(new_error(d, 3, vars),
			 "tools: tools[2] \"hours\": url: {order_id} is neither an argument "
			 "nor a variable");
	d[2] = def_http("hours", "{base_url}/h");
	d[2].parameters = "{\"type\":\"object\",\"properties\":{\"amount\":{\"minimum\":\"0\"}}}";
	ck_assert_str_eq(new_error(d, 3, vars),
			 "tools: tools[2] \"hours\": parameters: properties.amount.minimum: "
			 "must be a number");
	d[2].parameters = "{\"type\":\"array\"}";
	ck_assert_str_eq(new_error(d, 3, vars),
			 "tools: tools[2] \"hours\": parameters: the arguments must be an "
			 "object (type \"object\")");
	d[2].parameters = "{\"type\":";
	ck_assert_str_eq(new_error(d, 3, vars),
			 "tools: tools[2] \"hours\": parameters: not JSON");
	d[2].parameters = NULL;
	d[2].method = "FETCH";
	ck_assert_str_eq(new_error(d, 3, vars),
			 "tools: tools[2] \"hours\": method: 'FETCH' is not GET, POST, PUT, "
			 "PATCH or DELETE");
	d[2].method = "GET";
	d[2].body = "{}";
	ck_assert_str_eq(new_error(d, 3, vars),
			 "tools: tools[2] \"hours\": body: a GET request has no body");
	d[2].method = "POST";
	d[2].body = "{amount}";
	ck_assert_str_eq(new_error(d, 3, vars),
			 "tools: tools[2] \"hours\": body: not JSON (placeholders go in "
			 "strings: \"{amount}\")");
	d[2].body = NULL;
	d[2].headers = hdr_idem;
	ck_assert_str_eq(new_error(d, 3, vars),
			 "tools: tools[2] \"hours\": headers[0]: Idempotency-Key is set by vagent");
	d[2].headers = hdr_bad;
	ck_assert_str_eq(new_error(d, 3, vars),
			 "tools: tools[2] \"hours\": headers[0]: want \"Name: value\"");
	d[2].headers = NULL;
	d[2].retries = 11;
	ck_assert_str_eq(new_error(d, 3, vars),
			 "tools: tools[2] \"hours\": retries: must be 0..10");
	d[2].retries = -1;
	d[2].backoff_ms = 500;
	d[2].max_backoff_ms = 100;
	ck_assert_str_eq(new_error(d, 3, vars),
			 "tools: tools[2] \"hours\": max_backoff_ms: 100 is below backoff_ms 500");
	d[2] = def_http("hours", NULL);
	d[2].mock_result = "{\"open\":";
	ck_assert_str_eq(new_error(d, 3, vars),
			 "tools: tools[2] \"hours\": mock.result: not JSON");
	d[1].guard.argument = "total";
	ck_assert_str_eq(new_error(d, 2, vars),
			 "tools: tools[1] \"refund\": guard: 'total' is not a parameter");
	d[1].guard.argument = "amount";
	d[1].guard.confirm_above = 500;
	ck_assert_str_eq(new_error(d, 2, vars),
			 "tools: tools[1] \"refund\": guard: confirm_above is above max");
	d[1].guard.confirm_above = 50;
	/* the URL's variable is missing */
	ck_assert_str_eq(new_error(d, 2, NULL),
			 "tools: tools[0] \"lookup\": url: must start with http:// or "
			 "https:// (or a variable holding that)");
	ck_assert_str_eq(new_error(d, 2, bad_vars),
			 "tools: variables[0]: bad name 'base url' (letters, digits, _ . -)");
	d[0].name = "";
	ck_assert_str_eq(new_error(d, 1, vars), "tools: tools[0] \"\": name: missing");
}
END_TEST

/* ---- running calls -------------------------------------------------- */

struct answer {
	uint64_t id;
	vagent_status st;
	char *result;
	int64_t t;                      /* loop ticks */
};

struct rig {
	struct vagent_loop *loop;
	struct vagent_tools *tools;
	struct vagent_mock_http *srv;
	char base_url[64];
	struct answer a[16];
	int n;
	bool in_call;                   /* inside call(): answering is a bug */
};

static void on_result(void *ctx, uint64_t id, vagent_status st,
		      const char *result)
{
	struct rig *r = ctx;

	ck_assert_msg(!r->in_call, "on_result called from inside call()");
	ck_assert_int_lt(r->n, 16);
	r->a[r->n].id = id;
	r->a[r->n].st = st;
	r->a[r->n].result = strdup(result);
	r->a[r->n].t = vagent_loop_now(r->loop);
	r->n++;
}

static void rig_loop(struct rig *r, enum vagent_clock_type clock)
{
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_error err;

	memset(r, 0, sizeof(*r));
	lc.clock = clock;
	lc.workers = 2;
	ck_assert_int_eq(vagent_loop_new(&lc, &r->loop, &err), VAGENT_OK);
}

static void rig_server(struct rig *r, const char *routes)
{
	struct vagent_error err;

	ck_assert_msg(vagent_mock_http_new(routes, "routes.json", NULL, &r->srv,
					   &err) == VAGENT_OK, "%s", err.message);
	snprintf(r->base_url, sizeof(r->base_url), "base_url=http://127.0.0.1:%d",
		 vagent_mock_http_port(r->srv));
}

static void rig_tools(struct rig *r, const struct vagent_tool_def *defs,
		      size_t n, int budget_ms)
{
	const char *vars[] = { r->base_url, "api_key=sk-test-secret", NULL };
	struct vagent_tools_config cfg = vagent_tools_config_default();
	struct vagent_error err;

	cfg.tools = defs;
	cfg.n_tools = n;
	cfg.variables = r->base_url[0] ? vars : NULL;
	cfg.total_timeout_ms = budget_ms;
	cfg.seed = 7;
	ck_assert_msg(vagent_tools_new(&cfg, &r->tools, &err) == VAGENT_OK, "%s",
		      err.message);
	r->tools->loop = r->loop;
	r->tools->origin = 0;
	r->tools->on_result = on_result;
	r->tools->ctx = r;
}

static void rig_call(struct rig *r, uint64_t id, const char *name,
		     const char *args)
{
	struct vagent_error err;

	r->in_call = true;
	ck_assert_int_eq(r->tools->ops->call(r->tools, id, name, args, &err),
			 VAGENT_OK);
	r->in_call = false;
}

static void rig_run(struct rig *r)
{
	ck_assert_int_eq(vagent_loop_run(r->loop, VAGENT_RUN_UNTIL_IDLE, NULL),
			 VAGENT_OK);
}

static void rig_free(struct rig *r)
{
	int i;

	vagent_tools_free(r->tools);
	vagent_loop_free(r->loop);
	vagent_mock_http_free(r->srv);
	for (i = 0; i < r->n; i++)
		free(r->a[i].result);
}

static const struct answer *by_id(const struct rig *r, uint64_t id)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (r->a[i].id == id)
			return &r->a[i];
	ck_abort_msg("no answer for call %llu", (unsigned long long)id);
	return NULL;
}

static struct vagent_mock_http_route_stats route(struct rig *r, const char *name)
{
	struct vagent_mock_http_route_stats s;

	ck_assert_int_eq(vagent_mock_http_route_stats(r->srv, name, &s), VAGENT_OK);
	return s;
}

static cJSON *attempts(struct rig *r, uint64_t id)
{
	char *txt = NULL;
	cJSON *j;

	ck_assert_int_eq(vagent_tools_attempts_json(r->tools, id, &txt, NULL),
			 VAGENT_OK);
	j = cJSON_Parse(txt);
	ck_assert_ptr_nonnull(j);
	free(txt);
	return j;
}

static int n_attempts(const cJSON *rec)
{
	return cJSON_GetArraySize(cJSON_GetObjectItem(rec, "attempts"));
}

static const char *attempt_outcome(const cJSON *rec, int i)
{
	return cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(rec, "attempts"), i), "outcome")->valuestring;
}

/* start / duration of attempt i in microseconds */
static int64_t attempt_us(const cJSON *rec, int i, const char *field)
{
	const cJSON *v = cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(rec, "attempts"), i), field);

	ck_assert_ptr_nonnull(v);
	return (int64_t)(v->valuedouble * 1000.0 + 0.5);
}

static const char *json_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);

	ck_assert_msg(cJSON_IsString(v), "no string '%s'", k);
	return v->valuestring;
}

#define ECHO_ROUTES \
	"{\"routes\":[{\"name\":\"refund\",\"method\":\"POST\"," \
	"\"path\":\"/orders/{order_id}/refund\",\"performs\":true," \
	"\"body\":{\"order_id\":\"{order_id}\",\"amount\":\"{body.amount}\"," \
	"\"reason\":\"{body.reason}\",\"fixed\":\"{body.fixed}\",\"note\":\"{query.note}\"," \
	"\"auth\":\"{header.Authorization}\",\"key\":\"{header.Idempotency-Key}\"," \
	"\"type\":\"{header.Content-Type}\"}}]}"

static const char *const auth_header[] = { "Authorization: Bearer {api_key}", NULL };

START_TEST(test_http_templates)
{
	struct rig r;
	struct vagent_tool_def d = def_http("refund",
		"{base_url}/orders/{order_id}/refund?note={note}");
	cJSON *res, *rec;

	rig_loop(&r, VAGENT_CLOCK_REAL);
	rig_server(&r, ECHO_ROUTES);
	d.parameters = REFUND_SCHEMA;
	d.body = "{\"amount\":\"{amount}\",\"reason\":\"{reason}\",\"fixed\":[1,\"{{{order_id}}}\"]}";
	d.headers = auth_header;
	rig_tools(&r, &d, 1, 4500);
	rig_call(&r, 1, "refund",
		 "{\"order_id\":\"12345\",\"amount\":42.5,\"note\":\"a b&c\"}");
	ck_assert_int_eq(r.n, 0);
	rig_run(&r);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.a[0].st, VAGENT_OK);
	res = cJSON_Parse(r.a[0].result);
	ck_assert_ptr_nonnull(res);
	ck_assert_str_eq(json_str(res, "order_id"), "12345");
	/* the value went into the body as a JSON number; the absent reason
	 * was left out; the query argument was percent-encoded */
	ck_assert_double_eq(cJSON_GetObjectItem(res, "amount")->valuedouble, 42.5);
	ck_assert_str_eq(json_str(res, "note"), "a b&c");
	ck_assert_str_eq(json_str(res, "auth"), "Bearer sk-test-secret");
	ck_assert_str_eq(json_str(res, "type"), "application/json");
	/* "{{{order_id}}}": literal braces around the value */
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(res, "fixed"), 1)->valuestring,
			 "{12345}");
	rec = attempts(&r, 1);
	ck_assert_str_eq(json_str(res, "key"), json_str(rec, "idempotency_key"));
	ck_assert_int_eq((int)strlen(json_str(rec, "idempotency_key")), 32);
	ck_assert_str_eq(json_str(rec, "status"), "OK");
	ck_assert_int_eq(n_attempts(rec), 1);
	ck_assert_str_eq(attempt_outcome(rec, 0), "ok");
	ck_assert_int_eq((int)route(&r, "refund").performed, 1);
	cJSON_Delete(res);
	cJSON_Delete(rec);
	rig_free(&r);
}
END_TEST

START_TEST(test_http_template_safety)
{
	/* variables win over arguments (an argument cannot redirect the
	 * request or replace a credential); no line break into a header; a
	 * missing URL argument refuses the call */
	static const char *const hdr[] = { "Authorization: Bearer {api_key}",
					   "X-Note: {note}", NULL };
	struct rig r;
	struct vagent_tool_def d = def_http("echo", "{base_url}/orders/{order_id}/refund");
	cJSON *res;

	rig_loop(&r, VAGENT_CLOCK_REAL);
	rig_server(&r, ECHO_ROUTES);
	d.headers = hdr;
	rig_tools(&r, &d, 1, 4500);
	rig_call(&r, 1, "echo", "{\"order_id\":\"a b/c\",\"base_url\":\"http://192.0.2.1\","
		 "\"api_key\":\"stolen\",\"note\":\"ok\"}");
	rig_call(&r, 2, "echo", "{\"order_id\":\"1\",\"note\":\"x\\r\\nHost: evil\"}");
	rig_call(&r, 3, "echo", "{\"note\":\"x\"}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 3);
	ck_assert_int_eq(by_id(&r, 2)->st, VAGENT_EINVAL);
	ck_assert_str_eq(by_id(&r, 2)->result, "echo: note: a line break cannot go in a header");
	ck_assert_int_eq(by_id(&r, 3)->st, VAGENT_EINVAL);
	ck_assert_str_eq(by_id(&r, 3)->result, "echo: order_id: is required (for {order_id})");
	ck_assert_int_eq(by_id(&r, 1)->st, VAGENT_OK);
	res = cJSON_Parse(by_id(&r, 1)->result);
	/* percent-encoded in the URL, one path segment for the server */
	ck_assert_str_eq(json_str(res, "order_id"), "a b/c");
	ck_assert_str_eq(json_str(res, "auth"), "Bearer sk-test-secret");
	cJSON_Delete(res);
	ck_assert_int_eq((int)route(&r, "refund").received, 1);
	rig_free(&r);
}
END_TEST

START_TEST(test_http_no_workers)
{
	struct rig r;
	struct vagent_tool_def d = def_http("lookup", "http://127.0.0.1:1/x");
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_tool_stats st;

	memset(&r, 0, sizeof(r));
	lc.clock = VAGENT_CLOCK_VIRTUAL;
	lc.workers = 0;
	ck_assert_int_eq(vagent_loop_new(&lc, &r.loop, NULL), VAGENT_OK);
	rig_tools(&r, &d, 1, 4500);
	rig_call(&r, 1, "lookup", "{}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.a[0].st, VAGENT_EINTERNAL);
	ck_assert_str_eq(r.a[0].result,
			 "lookup: could not start a request (the loop has no worker threads)");
	ck_assert_int_eq(vagent_tools_stats(r.tools, "lookup", &st, NULL), VAGENT_OK);
	ck_assert_int_eq(st.failed, 1);
	ck_assert_int_eq(st.attempts, 0);
	rig_free(&r);
}
END_TEST

START_TEST(test_http_500_then_success)
{
	struct rig r;
	struct vagent_tool_def d = def_http("refund", "{base_url}/refund");
	struct vagent_tool_stats st;
	cJSON *res, *rec;

	rig_loop(&r, VAGENT_CLOCK_REAL);
	rig_server(&r, "{\"routes\":[{\"name\":\"refund\",\"method\":\"POST\","
		   "\"path\":\"/refund\",\"performs\":true,\"responses\":["
		   "{\"status\":500,\"body\":{\"error\":\"boom\"}},"
		   "{\"status\":200,\"body\":{\"ok\":true,\"key\":\"{header.Idempotency-Key}\"}}]}]}");
	d.backoff_ms = 20;
	rig_tools(&r, &d, 1, 4500);
	rig_call(&r, 9, "refund", "{\"amount\":10}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.a[0].st, VAGENT_OK);
	ck_assert_int_eq((int)route(&r, "refund").received, 2);
	ck_assert_int_eq((int)route(&r, "refund").performed, 1);
	rec = attempts(&r, 9);
	ck_assert_int_eq(n_attempts(rec), 2);
	ck_assert_str_eq(attempt_outcome(rec, 0), "HTTP 500");
	ck_assert_str_eq(attempt_outcome(rec, 1), "ok");
	res = cJSON_Parse(r.a[0].result);
	ck_assert_str_eq(json_str(res, "key"), json_str(rec, "idempotency_key"));
	/* the backoff wait: between 0 and backoff_ms (full jitter) */
	ck_assert_int_ge(attempt_us(rec, 1, "start_ms"),
			 attempt_us(rec, 0, "start_ms") + attempt_us(rec, 0, "duration_ms"));
	ck_assert_int_eq(vagent_tools_stats(r.tools, "refund", &st, NULL), VAGENT_OK);
	ck_assert_int_eq(st.calls, 1);
	ck_assert_int_eq(st.attempts, 2);
	ck_assert_int_eq(st.succeeded, 1);
	ck_assert_int_eq(st.failed, 0);
	cJSON_Delete(res);
	cJSON_Delete(rec);
	rig_free(&r);
}
END_TEST

START_TEST(test_http_slow_then_replayed)
{
	/* The first attempt is performed but answered too late; the retry
	 * carries the same Idempotency-Key, so the server replays the stored
	 * answer instead of refunding twice. */
	struct rig r;
	struct vagent_tool_def d = def_http("refund", "{base_url}/refund");
	cJSON *rec;

	rig_loop(&r, VAGENT_CLOCK_REAL);
	rig_server(&r, "{\"routes\":[{\"name\":\"refund\",\"method\":\"POST\","
		   "\"path\":\"/refund\",\"performs\":true,\"responses\":["
		   "{\"status\":200,\"delay_ms\":600,\"body\":{\"refund\":\"RF-1\"}},"
		   "{\"status\":200,\"body\":{\"refund\":\"RF-2\"}}]}]}");
	d.timeout_ms = 150;
	d.backoff_ms = 10;
	rig_tools(&r, &d, 1, 4500);
	rig_call(&r, 1, "refund", "{\"amount\":10}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.a[0].st, VAGENT_OK);
	ck_assert_str_eq(r.a[0].result, "{\"refund\":\"RF-1\"}");
	ck_assert_int_eq((int)route(&r, "refund").received, 2);
	ck_assert_int_eq((int)route(&r, "refund").performed, 1);
	ck_assert_int_eq((int)route(&r, "refund").replayed, 1);
	rec = attempts(&r, 1);
	ck_assert_str_eq(attempt_outcome(rec, 0), "timeout");
	ck_assert_str_eq(attempt_outcome(rec, 1), "ok");
	cJSON_Delete(rec);
	rig_free(&r);
}
END_TEST

START_TEST(test_http_slow_timeout)
{
	struct rig r;
	struct vagent_tool_def d = def_http("lookup", "{base_url}/slow");
	char want[200];
	cJSON *rec;

	rig_loop(&r, VAGENT_CLOCK_REAL);
	rig_server(&r, "{\"routes\":[{\"name\":\"slow\",\"method\":\"GET\","
		   "\"path\":\"/slow\",\"delay_ms\":2000,\"body\":{}}]}");
	d.method = "GET";
	d.timeout_ms = 100;
	d.retries = 1;
	d.backoff_ms = 10;
	rig_tools(&r, &d, 1, 4500);
	rig_call(&r, 1, "lookup", "{}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.a[0].st, VAGENT_ETIMEOUT);
	snprintf(want, sizeof(want), "lookup: no answer in time from http://127.0.0.1:%d/slow "
		 "after 2 attempts (timeout, timeout)", vagent_mock_http_port(r.srv));
	ck_assert_str_eq(r.a[0].result, want);
	ck_assert_int_eq((int)route(&r, "slow").received, 2);
	rec = attempts(&r, 1);
	ck_assert_str_eq(json_str(rec, "status"), "ETIMEOUT");
	/* each attempt was cut at its own timeout, not the server's delay */
	ck_assert_int_lt(attempt_us(rec, 0, "duration_ms"), 2000000);
	ck_assert_int_ge(attempt_us(rec, 0, "duration_ms"), 100000);
	cJSON_Delete(rec);
	rig_free(&r);
}
END_TEST

#define R429 \
	"{\"routes\":[{\"name\":\"busy\",\"method\":\"POST\",\"path\":\"/busy\"," \
	"\"responses\":[{\"status\":429,\"headers\":{\"Retry-After\":\"%s\"}," \
	"\"body\":{\"error\":\"slow down\"}},{\"status\":200,\"body\":{\"ok\":1}}]}]}"

static void retry_after_case(enum vagent_clock_type clock)
{
	struct rig r;
	struct vagent_tool_def d = def_http("busy", "{base_url}/busy");
	char routes[512];
	cJSON *rec;
	int64_t end0, start1;

	rig_loop(&r, clock);
	snprintf(routes, sizeof(routes), R429, "1");
	rig_server(&r, routes);
	d.backoff_ms = 5;
	rig_tools(&r, &d, 1, 4500);
	rig_call(&r, 1, "busy", "{}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.a[0].st, VAGENT_OK);
	ck_assert_str_eq(r.a[0].result, "{\"ok\":1}");
	rec = attempts(&r, 1);
	ck_assert_int_eq(n_attempts(rec), 2);
	ck_assert_str_eq(attempt_outcome(rec, 0), "HTTP 429");
	end0 = attempt_us(rec, 0, "start_ms") + attempt_us(rec, 0, "duration_ms");
	start1 = attempt_us(rec, 1, "start_ms");
	if (clock == VAGENT_CLOCK_VIRTUAL) {
		/* exactly the Retry-After (1 us of rounding in the record) */
		ck_assert_int_ge(start1 - end0, 1000000 - 1);
		ck_assert_int_le(start1 - end0, 1000000 + 1);
	} else {
		ck_assert_int_ge(start1 - end0, 1000000 - 1);
	}
	ck_assert_int_eq((int)route(&r, "busy").received, 2);
	cJSON_Delete(rec);
	rig_free(&r);
}

START_TEST(test_http_retry_after_virtual)
{
	retry_after_case(VAGENT_CLOCK_VIRTUAL);
}
END_TEST

START_TEST(test_http_retry_after_real)
{
	retry_after_case(VAGENT_CLOCK_REAL);
}
END_TEST

START_TEST(test_http_retry_after_beyond_budget)
{
	struct rig r;
	struct vagent_tool_def d = def_http("busy", "{base_url}/busy");
	char routes[512], want[300];

	rig_loop(&r, VAGENT_CLOCK_VIRTUAL);
	snprintf(routes, sizeof(routes), R429, "30");
	rig_server(&r, routes);
	rig_tools(&r, &d, 1, 4500);
	rig_call(&r, 1, "busy", "{}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.a[0].st, VAGENT_EPROVIDER);
	snprintf(want, sizeof(want), "busy: HTTP 429 from http://127.0.0.1:%d/busy: "
		 "{\"error\":\"slow down\"}; Retry-After 30000 ms is beyond the 4500 ms budget",
		 vagent_mock_http_port(r.srv));
	ck_assert_str_eq(r.a[0].result, want);
	ck_assert_int_eq((int)route(&r, "busy").received, 1);
	/* answered at once, not after waiting */
	ck_assert_int_lt(r.a[0].t, vagent_ticks_from_ms(1000));
	rig_free(&r);
}
END_TEST

START_TEST(test_http_malformed)
{
	struct rig r;
	struct vagent_tool_def d = def_http("lookup", "{base_url}/bad?token=secret");
	char want[200];

	rig_loop(&r, VAGENT_CLOCK_REAL);
	rig_server(&r, "{\"routes\":[{\"name\":\"bad\",\"method\":\"GET\","
		   "\"path\":\"/bad\",\"malformed\":true}]}");
	d.method = "GET";
	rig_tools(&r, &d, 1, 4500);
	rig_call(&r, 1, "lookup", "{}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.a[0].st, VAGENT_EPROTO);
	/* the query (which may hold a token) is not shown */
	snprintf(want, sizeof(want), "lookup: malformed JSON from http://127.0.0.1:%d/bad",
		 vagent_mock_http_port(r.srv));
	ck_assert_msg(strncmp(r.a[0].result, want, strlen(want)) == 0, "%s", r.a[0].result);
	ck_assert_ptr_null(strstr(r.a[0].result, "secret"));
	ck_assert_int_eq((int)route(&r, "bad").received, 1);   /* not retried */
	rig_free(&r);
}
END_TEST

START_TEST(test_http_not_found)
{
	struct rig r;
	struct vagent_tool_def d = def_http("lookup", "{base_url}/orders/{id}");
	char want[300];

	rig_loop(&r, VAGENT_CLOCK_REAL);
	rig_server(&r, "{\"routes\":[{\"name\":\"o\",\"method\":\"GET\","
		   "\"path\":\"/orders/{id}\",\"status\":404,"
		   "\"body\":{\"error\":\"order_not_found\"}}]}");
	d.method = "GET";
	rig_tools(&r, &d, 1, 4500);
	rig_call(&r, 1, "lookup", "{\"id\":\"99\"}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.a[0].st, VAGENT_EPROVIDER);
	snprintf(want, sizeof(want), "lookup: HTTP 404 from http://127.0.0.1:%d/orders/99: "
		 "{\"error\":\"order_not_found\"}", vagent_mock_http_port(r.srv));
	ck_assert_str_eq(r.a[0].result, want);
	ck_assert_int_eq((int)route(&r, "o").received, 1);
	rig_free(&r);
}
END_TEST

START_TEST(test_http_connection_refused)
{
	struct rig r;
	struct vagent_tool_def d = def_http("lookup", "{base_url}/x");
	char want[300];
	int port;

	rig_loop(&r, VAGENT_CLOCK_REAL);
	/* a port nobody listens on: a server's, once it is gone */
	rig_server(&r, "{\"routes\":[{\"method\":\"GET\",\"path\":\"/x\",\"body\":{}}]}");
	port = vagent_mock_http_port(r.srv);
	vagent_mock_http_free(r.srv);
	r.srv = NULL;
	d.method = "GET";
	d.backoff_ms = 10;
	rig_tools(&r, &d, 1, 4500);
	rig_call(&r, 1, "lookup", "{}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.a[0].st, VAGENT_EPROVIDER);
	snprintf(want, sizeof(want), "lookup: connection to http://127.0.0.1:%d/x failed "
		 "(Couldn't connect to server) after 3 attempts (connection failed x3)", port);
	ck_assert_str_eq(r.a[0].result, want);
	rig_free(&r);
}
END_TEST

#define HANG_ROUTES \
	"{\"routes\":[{\"name\":\"hang\",\"method\":\"POST\",\"path\":\"/hang\"," \
	"\"hang\":true}]}"

START_TEST(test_http_hang_budget)
{
	/* a hang: each attempt is cut at its timeout, the last one at what is
	 * left of the call's budget, and no retry starts past the budget */
	struct rig r;
	struct vagent_tool_def d = def_http("hang", "{base_url}/hang");
	cJSON *rec;
	int n, i;
	int64_t total = 0;

	rig_loop(&r, VAGENT_CLOCK_REAL);
	rig_server(&r, HANG_ROUTES);
	d.timeout_ms = 200;
	d.retries = 10;
	d.backoff_ms = 10;
	d.max_backoff_ms = 10;
	rig_tools(&r, &d, 1, 500);
	rig_call(&r, 1, "hang", "{}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.a[0].st, VAGENT_ETIMEOUT);
	ck_assert_msg(strstr(r.a[0].result, "500 ms budget") != NULL, "%s", r.a[0].result);
	rec = attempts(&r, 1);
	n = n_attempts(rec);
	ck_assert_int_ge(n, 2);
	ck_assert_int_le(n, 4);
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(attempt_outcome(rec, i), "timeout");
		total += attempt_us(rec, i, "duration_ms");
	}
	/* the attempts fit in the budget (plus curl's timer slack) */
	ck_assert_int_lt(total, 500000 + 150000 * n);
	ck_assert_int_eq((int)route(&r, "hang").received, n);
	cJSON_Delete(rec);
	rig_free(&r);
}
END_TEST

START_TEST(test_http_cancel_during_hang)
{
	struct rig r;
	struct vagent_tool_def d = def_http("hang", "{base_url}/hang");
	struct timespec t0, t1;
	cJSON *rec;
	double waited;

	rig_loop(&r, VAGENT_CLOCK_REAL);
	rig_server(&r, HANG_ROUTES);
	d.timeout_ms = 30000;
	rig_tools(&r, &d, 1, 60000);
	rig_call(&r, 1, "hang", "{}");
	rig_call(&r, 2, "hang", "{}");
	ck_assert_int_eq(vagent_loop_run_until(r.loop, vagent_loop_now(r.loop) +
					       vagent_ticks_from_ms(200), NULL), VAGENT_OK);
	ck_assert_int_eq((int)route(&r, "hang").received, 2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r.tools->ops->cancel(r.tools, 1);
	r.tools->ops->stop(r.tools);
	rig_run(&r);             /* returns once the aborted jobs are back */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_int_eq(r.n, 0);
	/* the 30 s transfers were aborted, not waited for */
	ck_assert_msg(waited < 10.0, "waited %.3f s", waited);
	rec = attempts(&r, 1);
	ck_assert_str_eq(json_str(rec, "status"), "cancelled");
	cJSON_Delete(rec);
	rig_free(&r);
}
END_TEST

START_TEST(test_http_free_during_hang)
{
	/* freeing the provider, then the loop, with a transfer in flight */
	struct rig r;
	struct vagent_tool_def d = def_http("hang", "{base_url}/hang");

	rig_loop(&r, VAGENT_CLOCK_REAL);
	rig_server(&r, HANG_ROUTES);
	d.timeout_ms = 30000;
	rig_tools(&r, &d, 1, 60000);
	rig_call(&r, 1, "hang", "{}");
	ck_assert_int_eq(vagent_loop_run_until(r.loop, vagent_loop_now(r.loop) +
					       vagent_ticks_from_ms(100), NULL), VAGENT_OK);
	vagent_tools_free(r.tools);
	r.tools = NULL;
	rig_run(&r);
	ck_assert_int_eq(r.n, 0);
	rig_free(&r);
}
END_TEST

START_TEST(test_http_too_large)
{
	struct rig r;
	struct vagent_tool_def d = def_http("big", "{base_url}/big");
	char routes[4096], pad[3001];

	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	snprintf(routes, sizeof(routes), "{\"routes\":[{\"name\":\"big\",\"method\":\"GET\","
		 "\"path\":\"/big\",\"body\":{\"pad\":\"%s\"}}]}", pad);
	rig_loop(&r, VAGENT_CLOCK_REAL);
	rig_server(&r, routes);
	d.method = "GET";
	d.max_response_bytes = 1000;
	rig_tools(&r, &d, 1, 4500);
	rig_call(&r, 1, "big", "{}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.a[0].st, VAGENT_EPROTO);
	ck_assert_msg(strstr(r.a[0].result, "is larger than 1000 bytes") != NULL, "%s",
		      r.a[0].result);
	ck_assert_int_eq((int)route(&r, "big").received, 1);
	rig_free(&r);
}
END_TEST

START_TEST(test_http_refused_without_request)
{
	static const struct {
		const char *args, *error;
	} cases[] = {
		{ "{\"amount\":20}", "refund: order_id: is required" },
		{ "{\"order_id\":12345,\"amount\":20}", "refund: order_id: must be a string" },
		{ "{\"order_id\":\"12345\",\"amount\":20,\"reason\":\"x\"}",
		  "refund: reason: must be one of \"damaged\", \"late\"" },
		{ "{\"order_id\":\"12345\",\"amount\":-5}", "refund: amount: must be >= 0" },
		{ "{\"order_id\":\"12345\",\"amount\":5000}", "refund: amount: must be <= 1000" },
		{ "{\"order_id\":\"12345\",\"amount\":5,\"colour\":\"red\"}",
		  "refund: colour: is not an allowed argument" },
		{ "[1,2]", "refund: the arguments are not a JSON object" },
		{ "{\"order_id\":", "refund: the arguments are not a JSON object" },
		{ "{\"order_id\":\"12345\",\"amount\":500}",
		  "refund: guard: amount 500 exceeds the limit 200" },
		{ "{\"order_id\":\"12345\",\"amount\":200.5}",
		  "refund: guard: amount 200.5 exceeds the limit 200" },
	};
	struct rig r;
	struct vagent_tool_def d = def_http("refund", "{base_url}/orders/{order_id}/refund");
	struct vagent_tool_stats st;
	size_t i;

	rig_loop(&r, VAGENT_CLOCK_VIRTUAL);
	rig_server(&r, ECHO_ROUTES);
	d.parameters = REFUND_SCHEMA;
	d.guard.argument = "amount";
	d.guard.confirm_above = 50;
	d.guard.max = 200;
	rig_tools(&r, &d, 1, 4500);
	for (i = 0; i < VAGENT__ARRAY_SIZE(cases); i++)
		rig_call(&r, i + 1, "refund", cases[i].args);
	rig_call(&r, 99, "refund_all", "{}");
	ck_assert_int_eq(r.n, 0);
	rig_run(&r);
	ck_assert_int_eq(r.n, (int)VAGENT__ARRAY_SIZE(cases) + 1);
	for (i = 0; i < VAGENT__ARRAY_SIZE(cases); i++) {
		ck_assert_int_eq(r.a[i].id, i + 1);
		ck_assert_int_eq(r.a[i].st, VAGENT_EINVAL);
		ck_assert_str_eq(r.a[i].result, cases[i].error);
		ck_assert_int_eq(r.a[i].t, 0);
	}
	ck_assert_int_eq(r.a[i].st, VAGENT_EINVAL);
	ck_assert_str_eq(r.a[i].result, "tools: unknown tool 'refund_all'");
	ck_assert_int_eq((int)route(&r, "refund").received, 0);
	ck_assert_int_eq(vagent_tools_stats(r.tools, "refund", &st, NULL), VAGENT_OK);
	ck_assert_int_eq(st.refused, (int)VAGENT__ARRAY_SIZE(cases));
	ck_assert_int_eq(st.attempts, 0);
	/* at the limit: allowed */
	rig_call(&r, 100, "refund", "{\"order_id\":\"12345\",\"amount\":200}");
	rig_run(&r);
	ck_assert_int_eq(r.a[r.n - 1].st, VAGENT_OK);
	ck_assert_int_eq((int)route(&r, "refund").received, 1);
	rig_free(&r);
}
END_TEST

/* ---- mock tools on the virtual clock -------------------------------- */

static struct vagent_tool_def def_mock(const char *name, const char *result,
				       int latency_ms)
{
	struct vagent_tool_def d = def_http(name, NULL);

	d.mock_result = result;
	d.mock_latency.base_ms = latency_ms;
	return d;
}

static int64_t ms(int64_t v)
{
	return vagent_ticks_from_ms(v);
}

START_TEST(test_mock_success)
{
	struct rig r;
	struct vagent_tool_def d = def_mock("hours", "{\"open\":\"9-17\"}", 120);
	cJSON *rec;

	rig_loop(&r, VAGENT_CLOCK_VIRTUAL);
	rig_tools(&r, &d, 1, 4500);
	rig_call(&r, 1, "hours", "{}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.a[0].st, VAGENT_OK);
	ck_assert_str_eq(r.a[0].result, "{\"open\":\"9-17\"}");
	ck_assert_int_eq(r.a[0].t, ms(120));
	rec = attempts(&r, 1);
	ck_assert_int_eq(attempt_us(rec, 0, "duration_ms"), 120000);
	cJSON_Delete(rec);
	rig_free(&r);
}
END_TEST

START_TEST(test_mock_500_then_success)
{
	struct rig r;
	struct vagent_fault f[] = {
		{ .kind = VAGENT_FAULT_ERROR, .from_call = 1, .to_call = 1,
		  .delay_ms = 30, .http_status = 500 },
	};
	struct vagent_tool_def d = def_mock("refund", "{\"refund\":\"RF-1\"}", 100);
	struct vagent_tool_stats st;
	cJSON *rec;
	int64_t start1;

	d.faults = f;
	d.n_faults = 1;
	d.backoff_ms = 200;
	rig_loop(&r, VAGENT_CLOCK_VIRTUAL);
	rig_tools(&r, &d, 1, 4500);
	rig_call(&r, 1, "refund", "{\"amount\":5}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.a[0].st, VAGENT_OK);
	rec = attempts(&r, 1);
	ck_assert_int_eq(n_attempts(rec), 2);
	ck_assert_str_eq(attempt_outcome(rec, 0), "HTTP 500");
	ck_assert_int_eq(attempt_us(rec, 0, "start_ms"), 0);
	ck_assert_int_eq(attempt_us(rec, 0, "duration_ms"), 30000);
	start1 = attempt_us(rec, 1, "start_ms");
	/* full jitter: the wait is in [0, backoff_ms] */
	ck_assert_int_ge(start1, 30000);
	ck_assert_int_le(start1, 230000);
	ck_assert_int_eq(attempt_us(rec, 1, "duration_ms"), 100000);
	ck_assert_int_eq(vagent_ticks_to_us(r.a[0].t), start1 + 100000);
	ck_assert_int_eq(vagent_tools_stats(r.tools, "refund", &st, NULL), VAGENT_OK);
	ck_assert_int_eq(st.attempts, 2);
	ck_assert_int_eq(st.performed, 1);
	cJSON_Delete(rec);
	rig_free(&r);
}
END_TEST

START_TEST(test_mock_429_retry_after_exact)
{
	struct rig r;
	struct vagent_fault f[] = {
		{ .kind = VAGENT_FAULT_ERROR, .from_call = 1, .to_call = 2,
		  .delay_ms = 50, .http_status = 429, .after = 2 },
	};
	struct vagent_tool_def d = def_mock("lookup", "{\"ok\":true}", 100);
	cJSON *rec;

	d.faults = f;
	d.n_faults = 1;
	rig_loop(&r, VAGENT_CLOCK_VIRTUAL);
	rig_tools(&r, &d, 1, 10000);
	rig_call(&r, 1, "lookup", "{}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.a[0].st, VAGENT_OK);
	/* 0: 429 at 50; 2050: 429 at 2100; 4100: ok at 4200 */
	ck_assert_int_eq(r.a[0].t, ms(4200));
	rec = attempts(&r, 1);
	ck_assert_int_eq(n_attempts(rec), 3);
	ck_assert_int_eq(attempt_us(rec, 1, "start_ms"), 2050000);
	ck_assert_int_eq(attempt_us(rec, 2, "start_ms"), 4100000);
	cJSON_Delete(rec);
	rig_free(&r);
}
END_TEST

START_TEST(test_mock_hang_timeouts_exact)
{
	struct rig r;
	struct vagent_fault f[] = {
		{ .kind = VAGENT_FAULT_TIMEOUT, .from_call = 1, .to_call = 0 },
	};
	struct vagent_tool_def d = def_mock("lookup", "{}", 10);
	cJSON *rec;
	int i;

	d.faults = f;
	d.n_faults = 1;
	d.timeout_ms = 300;
	d.retries = 5;
	d.backoff_ms = 100;
	d.max_backoff_ms = 100;
	rig_loop(&r, VAGENT_CLOCK_VIRTUAL);
	rig_tools(&r, &d, 1, 1000);
	rig_call(&r, 1, "lookup", "{}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.a[0].st, VAGENT_ETIMEOUT);
	rec = attempts(&r, 1);
	/* attempts of 300 ms, the last one cut to what is left of the 1000 ms
	 * budget; the answer comes at the budget's end at the latest */
	ck_assert_int_ge(n_attempts(rec), 3);
	ck_assert_int_le(n_attempts(rec), 4);
	for (i = 0; i < n_attempts(rec) - 1; i++)
		ck_assert_int_eq(attempt_us(rec, i, "duration_ms"), 300000);
	ck_assert_int_le(r.a[0].t, ms(1000));
	ck_assert_msg(strncmp(r.a[0].result, "lookup: no answer in time from mock lookup after ",
			      49) == 0, "%s", r.a[0].result);
	cJSON_Delete(rec);
	rig_free(&r);
}
END_TEST

START_TEST(test_mock_stall_is_performed_once)
{
	/* the first request is performed but its answer stalls past the
	 * timeout; the retry (same Idempotency-Key) does not perform again */
	struct rig r;
	struct vagent_fault f[] = {
		{ .kind = VAGENT_FAULT_STALL, .from_call = 1, .to_call = 1, .delay_ms = 1000 },
	};
	struct vagent_tool_def d = def_mock("refund", "{\"done\":1}", 50);
	struct vagent_tool_stats st;

	d.faults = f;
	d.n_faults = 1;
	d.timeout_ms = 300;
	rig_loop(&r, VAGENT_CLOCK_VIRTUAL);
	rig_tools(&r, &d, 1, 4500);
	rig_call(&r, 1, "refund", "{}");
	rig_call(&r, 2, "refund", "{}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 2);
	ck_assert_int_eq(r.a[0].st, VAGENT_OK);
	ck_assert_int_eq(r.a[1].st, VAGENT_OK);
	ck_assert_int_eq(vagent_tools_stats(r.tools, "refund", &st, NULL), VAGENT_OK);
	ck_assert_int_eq(st.calls, 2);
	ck_assert_int_eq(st.attempts, 3);
	ck_assert_int_eq(st.performed, 2);   /* once per call, not per attempt */
	rig_free(&r);
}
END_TEST

START_TEST(test_mock_faults_not_retried)
{
	struct rig r;
	struct vagent_fault f[] = {
		{ .kind = VAGENT_FAULT_MALFORMED, .from_call = 1, .to_call = 1 },
		{ .kind = VAGENT_FAULT_ERROR, .from_call = 2, .to_call = 2,
		  .delay_ms = 5, .http_status = 404 },
		{ .kind = VAGENT_FAULT_DISCONNECT, .from_call = 3, .to_call = 0,
		  .delay_ms = 20 },
	};
	struct vagent_tool_def d = def_mock("lookup", "{}", 40);

	d.faults = f;
	d.n_faults = 3;
	d.retries = 1;
	d.backoff_ms = 1;
	rig_loop(&r, VAGENT_CLOCK_VIRTUAL);
	rig_tools(&r, &d, 1, 4500);
	rig_call(&r, 1, "lookup", "{}");
	rig_run(&r);
	rig_call(&r, 2, "lookup", "{}");
	rig_run(&r);
	rig_call(&r, 3, "lookup", "{}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 3);
	ck_assert_int_eq(r.a[0].st, VAGENT_EPROTO);
	ck_assert_str_eq(r.a[0].result, "lookup: malformed JSON from mock lookup");
	ck_assert_int_eq(r.a[0].t, ms(40));
	ck_assert_int_eq(r.a[1].st, VAGENT_EPROVIDER);
	ck_assert_str_eq(r.a[1].result, "lookup: HTTP 404 from mock lookup: injected error");
	ck_assert_int_eq(r.a[2].st, VAGENT_EPROVIDER);
	ck_assert_str_eq(r.a[2].result, "lookup: connection to mock lookup failed "
			 "(connection reset (injected)) after 2 attempts (connection failed, "
			 "connection failed)");
	rig_free(&r);
}
END_TEST

START_TEST(test_mock_delay_past_timeout)
{
	struct rig r;
	struct vagent_fault f[] = {
		{ .kind = VAGENT_FAULT_DELAY, .from_call = 1, .to_call = 1, .delay_ms = 500 },
	};
	struct vagent_tool_def d = def_mock("lookup", "{\"a\":1}", 100);
	cJSON *rec;
	int64_t s1;

	d.faults = f;
	d.n_faults = 1;
	d.timeout_ms = 400;
	rig_loop(&r, VAGENT_CLOCK_VIRTUAL);
	rig_tools(&r, &d, 1, 4500);
	rig_call(&r, 1, "lookup", "{}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.a[0].st, VAGENT_OK);
	rec = attempts(&r, 1);
	ck_assert_str_eq(attempt_outcome(rec, 0), "timeout");
	ck_assert_int_eq(attempt_us(rec, 0, "duration_ms"), 400000);
	s1 = attempt_us(rec, 1, "start_ms");
	ck_assert_int_eq(vagent_ticks_to_us(r.a[0].t), s1 + 100000);
	cJSON_Delete(rec);
	rig_free(&r);
}
END_TEST

static void mock_timeline(uint64_t seed, int64_t out[4])
{
	struct rig r;
	struct vagent_fault f[] = {
		{ .kind = VAGENT_FAULT_ERROR, .from_call = 1, .to_call = 2,
		  .http_status = 503 },
	};
	struct vagent_tool_def d = def_mock("lookup", "{}", 10);
	struct vagent_tools_config cfg = vagent_tools_config_default();
	int i;

	d.faults = f;
	d.n_faults = 1;
	d.mock_latency.jitter_ms = 50;
	rig_loop(&r, VAGENT_CLOCK_VIRTUAL);
	cfg.tools = &d;
	cfg.n_tools = 1;
	cfg.seed = seed;
	ck_assert_int_eq(vagent_tools_new(&cfg, &r.tools, NULL), VAGENT_OK);
	r.tools->loop = r.loop;
	r.tools->on_result = on_result;
	r.tools->ctx = &r;
	for (i = 0; i < 4; i++) {
		rig_call(&r, (uint64_t)i + 1, "lookup", "{}");
		rig_run(&r);
		out[i] = r.a[i].t;
	}
	rig_free(&r);
}

START_TEST(test_mock_repeatable)
{
	int64_t a[4], b[4], c[4];

	mock_timeline(11, a);
	mock_timeline(11, b);
	mock_timeline(12, c);
	ck_assert_mem_eq(a, b, sizeof(a));
	ck_assert_int_ne(memcmp(a, c, sizeof(a)), 0);
}
END_TEST

START_TEST(test_mock_cancel_and_stop)
{
	struct rig r;
	struct vagent_tool_def d = def_mock("lookup", "{}", 100);
	char *txt = NULL;

	rig_loop(&r, VAGENT_CLOCK_VIRTUAL);
	rig_tools(&r, &d, 1, 4500);
	rig_call(&r, 1, "lookup", "{}");
	rig_call(&r, 2, "lookup", "{}");
	rig_call(&r, 3, "lookup", "{}");
	ck_assert_int_eq(vagent_loop_run_until(r.loop, ms(50), NULL), VAGENT_OK);
	r.tools->ops->cancel(r.tools, 2);
	rig_run(&r);
	ck_assert_int_eq(r.n, 2);
	ck_assert_int_eq(r.a[0].id, 1);
	ck_assert_int_eq(r.a[1].id, 3);
	rig_call(&r, 4, "lookup", "{}");
	r.tools->ops->stop(r.tools);
	rig_run(&r);
	ck_assert_int_eq(r.n, 2);
	ck_assert_int_eq(vagent_tools_attempts_json(r.tools, 77, &txt, NULL), VAGENT_ENOENT);
	ck_assert_ptr_null(txt);
	/* a provider that is not ours */
	{
		struct vagent_tools other = { 0 };
		struct vagent_tool_stats st;

		ck_assert_int_eq(vagent_tools_stats(&other, "lookup", &st, NULL),
				 VAGENT_EINVAL);
	}
	/* freed with a call pending */
	rig_call(&r, 5, "lookup", "{}");
	rig_free(&r);
}
END_TEST

START_TEST(test_mock_preferred)
{
	/* a tool with an endpoint and a mock runs the mock when asked */
	struct rig r;
	struct vagent_tool_def d = def_mock("hours", "{\"open\":1}", 70);
	struct vagent_tools_config cfg = vagent_tools_config_default();

	d.url = "http://127.0.0.1:1/hours";
	rig_loop(&r, VAGENT_CLOCK_VIRTUAL);
	cfg.tools = &d;
	cfg.n_tools = 1;
	cfg.prefer_mock = true;
	ck_assert_int_eq(vagent_tools_new(&cfg, &r.tools, NULL), VAGENT_OK);
	r.tools->loop = r.loop;
	r.tools->on_result = on_result;
	r.tools->ctx = &r;
	rig_call(&r, 1, "hours", "{}");
	rig_run(&r);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.a[0].st, VAGENT_OK);
	ck_assert_str_eq(r.a[0].result, "{\"open\":1}");
	ck_assert_int_eq(r.a[0].t, ms(70));
	rig_free(&r);
}
END_TEST

/* ---- in a session --------------------------------------------------- */

static const struct vagent_trace_event *trace_find(const struct vagent_trace *t,
						   vagent_trace_type type, int k)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->events[i].type == type && k-- == 0)
			return &t->events[i];
	return NULL;
}

START_TEST(test_session_http_tool)
{
	/* The provider in the session's slot on the virtual clock: the sim
	 * LLM calls an HTTP tool that fails once (500) then succeeds, then a
	 * refund above the guard's limit, which is refused without a request. */
	static const struct vagent_sim_rule rules[] = {
		{ .pattern = "order", .tool = "get_order",
		  .args = "{\"order_id\":\"12345\"}", .reply = "Your order: {result}." },
		{ .pattern = "refund", .tool = "refund",
		  .args = "{\"order_id\":\"12345\",\"amount\":500}", .reply = "Sorry, {result}." },
	};
	struct vagent_sim_step steps[3] = {
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_START,
		  .offset_ms = 500, .text = "where is my order" },
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_AGENT_DONE,
		  .offset_ms = 300, .text = "I want a refund" },
		{ .kind = VAGENT_STEP_SILENCE, .anchor = VAGENT_ANCHOR_AGENT_DONE,
		  .duration_ms = 200 },
	};
	struct vagent_tool_def d[2];
	struct vagent_session_config cfg = vagent_session_config_default();
	struct vagent_sim_stt_config sc = vagent_sim_stt_config_default();
	struct vagent_sim_llm_config lc = vagent_sim_llm_config_default();
	struct vagent_sim_tts_config tc = vagent_sim_tts_config_default();
	struct vagent_sim_caller_config cc = vagent_sim_caller_config_default();
	struct vagent_stt *stt = NULL;
	struct vagent_brain *llm = NULL;
	struct vagent_tts *tts = NULL;
	struct vagent_caller *caller = NULL;
	struct vagent_session *sess = NULL;
	struct vagent_trace *trace = NULL;
	const struct vagent_trace_event *ts, *te, *terr;
	struct vagent_error err;
	struct rig r;
	const char *text;
	size_t len;

	memset(&r, 0, sizeof(r));
	rig_server(&r, "{\"routes\":[{\"name\":\"get_order\",\"method\":\"GET\","
		   "\"path\":\"/orders/{id}\",\"responses\":[{\"status\":500},"
		   "{\"status\":200,\"body\":{\"order\":\"{id}\",\"status\":\"shipped\"}}]},"
		   "{\"name\":\"refund\",\"method\":\"POST\",\"path\":\"/refund\","
		   "\"body\":{}}]}");
	d[0] = def_http("get_order", "{base_url}/orders/{order_id}");
	d[0].method = "GET";
	d[0].backoff_ms = 50;
	d[1] = def_http("refund", "{base_url}/refund");
	d[1].guard.argument = "amount";
	d[1].guard.max = 200;
	lc.rules = rules;
	lc.n_rules = 2;
	cc.steps = steps;
	cc.n_steps = 3;
	cc.hangup_after_ms = 1000;
	ck_assert_int_eq(vagent_sim_stt_new(&sc, &stt, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_llm_new(&lc, &llm, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_tts_new(&tc, &tts, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_caller_new(&cc, &caller, &err), VAGENT_OK);
	rig_tools(&r, d, 2, 4500);
	r.tools->on_result = NULL;       /* the session sets its own */
	cfg.name = "tools";
	cfg.rate = cc.rate;
	cfg.keep_trace = true;
	cfg.agent.greet = false;
	cfg.stt[0] = stt;
	cfg.brain[0] = llm;
	cfg.tts[0] = tts;
	cfg.tools = r.tools;
	cfg.caller = caller;
	ck_assert_msg(vagent_session_run(&cfg, VAGENT_CLOCK_VIRTUAL, &sess, &err) ==
		      VAGENT_OK, "%s", err.message);
	text = vagent_session_trace(sess, &len);
	ck_assert_int_eq(vagent_trace_parse(text, len, "tools", &trace, &err), VAGENT_OK);
	ts = trace_find(trace, VAGENT_TRACE_TOOL_START, 0);
	te = trace_find(trace, VAGENT_TRACE_TOOL_END, 0);
	ck_assert_msg(ts && te, "%s", text);
	ck_assert_str_eq(ts->name, "get_order");
	ck_assert_str_eq(te->result, "{\"order\":\"12345\",\"status\":\"shipped\"}");
	terr = trace_find(trace, VAGENT_TRACE_TOOL_ERROR, 0);
	ck_assert_msg(terr != NULL, "%s", text);
	ck_assert_str_eq(terr->name, "refund");
	ck_assert_str_eq(terr->error, "refund: guard: amount 500 exceeds the limit 200");
	ck_assert_int_eq((int)route(&r, "get_order").received, 2);
	ck_assert_int_eq((int)route(&r, "refund").received, 0);
	ck_assert_ptr_nonnull(strstr(vagent_session_result(sess)->turns[0].agent_text,
				     "shipped"));
	vagent_trace_free(trace);
	vagent_session_free(sess);
	vagent_stt_free(stt);
	vagent_brain_free(llm);
	vagent_tts_free(tts);
	vagent_caller_free(caller);
	vagent_tools_free(r.tools);
	vagent_mock_http_free(r.srv);
}
END_TEST

Suite *suite_tools(void)
{
	Suite *s = suite_create("tools");
	TCase *tc = tcase_create("schema");

	tcase_add_test(tc, test_schema_validate);
	tcase_add_test(tc, test_schema_check);
	tcase_add_test(tc, test_retry_after_parse);
	tcase_add_test(tc, test_url_redact);
	tcase_add_test(tc, test_definition_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("http");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_http_templates);
	tcase_add_test(tc, test_http_template_safety);
	tcase_add_test(tc, test_http_no_workers);
	tcase_add_test(tc, test_http_500_then_success);
	tcase_add_test(tc, test_http_slow_then_replayed);
	tcase_add_test(tc, test_http_slow_timeout);
	tcase_add_test(tc, test_http_retry_after_virtual);
	tcase_add_test(tc, test_http_retry_after_real);
	tcase_add_test(tc, test_http_retry_after_beyond_budget);
	tcase_add_test(tc, test_http_malformed);
	tcase_add_test(tc, test_http_not_found);
	tcase_add_test(tc, test_http_connection_refused);
	tcase_add_test(tc, test_http_hang_budget);
	tcase_add_test(tc, test_http_cancel_during_hang);
	tcase_add_test(tc, test_http_free_during_hang);
	tcase_add_test(tc, test_http_too_large);
	tcase_add_test(tc, test_http_refused_without_request);
	suite_add_tcase(s, tc);

	tc = tcase_create("mock");
	tcase_add_test(tc, test_mock_success);
	tcase_add_test(tc, test_mock_500_then_success);
	tcase_add_test(tc, test_mock_429_retry_after_exact);
	tcase_add_test(tc, test_mock_hang_timeouts_exact);
	tcase_add_test(tc, test_mock_stall_is_performed_once);
	tcase_add_test(tc, test_mock_faults_not_retried);
	tcase_add_test(tc, test_mock_delay_past_timeout);
	tcase_add_test(tc, test_mock_repeatable);
	tcase_add_test(tc, test_mock_cancel_and_stop);
	tcase_add_test(tc, test_mock_preferred);
	suite_add_tcase(s, tc);

	tc = tcase_create("session");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_session_http_tool);
	suite_add_tcase(s, tc);
	return s;
}
