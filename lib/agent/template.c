/*
 * template.c — the references of reply, prompt, confirmation and
 * argument templates: {slot.NAME}, {result.PATH}, {agent.name}, each with
 * an optional |FILTER (docs/flow.md). The agent file checks them at load
 * time; the flow brain renders them.
 */
#include <string.h>

#include "agent/agent_int.h"

static const char *const filters[] = { "digits", "date", "amount", "list",
				       "number", "last4", NULL };

bool vagent__tref_filter_known(const char *filter, size_t len)
{
	const char *const *f;

	for (f = filters; *f; f++)
		if (strlen(*f) == len && memcmp(*f, filter, len) == 0)
			return true;
	return false;
}

const char *vagent__tref_next(const char *s, struct vagent__tref *r)
{
	while (s && (s = strchr(s, '{')) != NULL) {
		const char *end = strchr(s + 1, '}');
		const char *bar, *body = s + 1;
		size_t blen;

		if (!end)
			return NULL;
		memset(r, 0, sizeof(*r));
		r->start = s;
		r->len = (size_t)(end + 1 - s);
		blen = (size_t)(end - body);
		bar = memchr(body, '|', blen);
		if (bar) {
			r->filter = bar + 1;
			r->filter_len = (size_t)(end - bar - 1);
			blen = (size_t)(bar - body);
		}
		if (blen > 5 && memcmp(body, "slot.", 5) == 0) {
			r->kind = VAGENT__TREF_SLOT;
			r->name = body + 5;
			r->name_len = blen - 5;
		} else if (blen > 7 && memcmp(body, "result.", 7) == 0) {
			r->kind = VAGENT__TREF_RESULT;
			r->name = body + 7;
			r->name_len = blen - 7;
		} else if (blen == 6 && memcmp(body, "result", 6) == 0) {
			r->kind = VAGENT__TREF_RESULT;
			r->name = body + 6;
			r->name_len = 0;
		} else if (blen > 6 && memcmp(body, "agent.", 6) == 0) {
			r->kind = VAGENT__TREF_AGENT;
			r->name = body + 6;
			r->name_len = blen - 6;
		} else {
			r->kind = VAGENT__TREF_BAD;
			r->name = body;
			r->name_len = blen;
		}
		return s;
	}
	return NULL;
}
