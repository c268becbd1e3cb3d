/*
 * fuzz_tool_schema.c — libFuzzer harness for the tools' argument checks
 * (lib/tools): the JSON Schema subset (check, then validation of the
 * instance) and the request templates (URL, header and body expansion
 * with the instance as arguments). Input: SCHEMA "\n--\n" INSTANCE.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tools_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A message is one non-empty line. */
static void check_line(const char *msg)
{
	if (!msg || !*msg || strchr(msg, '\n'))
		abort();
}

static void templates(const char *tpl, const cJSON *args)
{
	struct vagent__vars vars = { 0 };
	char *names[] = { "base_url" }, *values[] = { "http://127.0.0.1:1" };
	struct vagent__strbuf prob = { 0 };
	bool oom = false;
	char *out, *msg;
	cJSON *body;

	vars.names = names;
	vars.values = values;
	vars.n = 1;
	if (vagent__template_check(tpl, &vars, NULL, &prob)) {
		out = vagent__template_expand(tpl, &vars, args, true, false, &prob, &oom);
		if (out && strpbrk(out, " \r\n\"<>"))   /* arguments are encoded */
			if (!strpbrk(tpl, " \r\n\"<>"))
				abort();
		free(out);
		out = vagent__template_expand(tpl, &vars, args, false, true, &prob, &oom);
		if (out && strpbrk(out, "\r\n") && !strpbrk(tpl, "\r\n"))
			abort();                       /* no header injection */
		free(out);
	}
	msg = vagent__strbuf_detach(&prob);
	free(msg);
	body = cJSON_Parse(tpl);
	if (body) {
		out = vagent__body_expand(body, &vars, args, &prob, &oom);
		if (out) {
			cJSON *again = cJSON_Parse(out);

			if (!again)
				abort();                       /* always JSON */
			cJSON_Delete(again);
		}
		free(out);
		vagent__strbuf_release(&prob);
		cJSON_Delete(body);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *sep, *inst;
	struct vagent_error err;
	vagent_status st;
	cJSON *args;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	sep = strstr(text, "\n--\n");
	if (sep) {
		*sep = '\0';
		inst = sep + 4;
	} else {
		inst = text;
	}
	st = vagent_json_schema_check(text, &err);
	if (st != VAGENT_OK) {
		if (st != VAGENT_EINVAL && st != VAGENT_EFORMAT && st != VAGENT_ENOMEM)
			abort();
		check_line(err.message);
	}
	st = vagent_json_schema_validate(text, inst, &err);
	if (st != VAGENT_OK) {
		if (st != VAGENT_EINVAL && st != VAGENT_EFORMAT && st != VAGENT_ENOMEM)
			abort();
		check_line(err.message);
	}
	args = cJSON_Parse(inst);
	if (cJSON_IsObject(args))
		templates(text, args);
	cJSON_Delete(args);
	free(text);
	return 0;
}
