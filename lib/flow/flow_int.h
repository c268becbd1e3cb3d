/*
 * flow_int.h — what the files of lib/flow share: template rendering
 * (docs/flow.md).
 */
#ifndef VAGENT_FLOW_INT_H
#define VAGENT_FLOW_INT_H

#include <cjson/cJSON.h>

#include "agent/agent_int.h"

/* What a template's references resolve against. */
struct vagent__render_ctx {
	const char *agent_name;
	const struct vagent_agent_intent *intent;   /* may be NULL */
	char *const *values;          /* the intent's slot values (NULL: unset) */
	const cJSON *result;          /* the tool's result, or NULL */
};

/* `tmpl` with its references replaced (transfer full; NULL: no memory).
 * A reference to something missing renders as nothing. */
char *vagent__render(const char *tmpl, const struct vagent__render_ctx *rc);

/* A value through a filter (digits, date, amount, list, number; NULL:
 * none) into b. */
void vagent__render_value(struct vagent__strbuf *b, const cJSON *v,
			  const char *filter, size_t filter_len);

#endif
