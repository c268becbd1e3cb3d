/*
 * agent_int.h — what lib/agent shares with lib/flow and lib/run: the JSON
 * line locator, the template reference scanner and loading with every
 * problem listed (docs/agent.md, docs/flow.md, docs/validate.md).
 */
#ifndef VAGENT_AGENT_INT_H
#define VAGENT_AGENT_INT_H

#include "core/internal.h"

/* The line (1-based) of the value at `path` ("a.b[2].c") in the JSON
 * `text`; when the path does not exist, the line of its deepest existing
 * prefix. */
int vagent__json_line(const char *text, size_t len, const char *path);

/* vagent_agent_load with every problem also into `diags` (may be NULL),
 * in file order; err then names the first in file order. */
vagent_status vagent__agent_load_diags(const char *path, struct vagent_agent **out,
				       struct vagent_diags *diags,
				       struct vagent_error *err);

/* A reference in a template: {slot.NAME}, {slot.NAME|FILTER},
 * {result.PATH}, {result.PATH|FILTER}, {agent.name}. */
enum vagent__tref_kind {
	VAGENT__TREF_SLOT,
	VAGENT__TREF_RESULT,
	VAGENT__TREF_AGENT,
	VAGENT__TREF_BAD,
};

struct vagent__tref {
	enum vagent__tref_kind kind;
	const char *start;            /* the '{' */
	size_t len;                   /* up to and with the '}' */
	const char *name;             /* after "slot." / "result." / "agent." */
	size_t name_len;
	const char *filter;           /* after '|', or NULL */
	size_t filter_len;
};

/* The next reference in `s` (NULL: none). A '{' without a '}' is not a
 * reference. */
const char *vagent__tref_next(const char *s, struct vagent__tref *r);
/* Whether `filter` (filter_len bytes) is one of the filters: digits,
 * date, amount, list, number. */
bool vagent__tref_filter_known(const char *filter, size_t len);
#define VAGENT__TREF_FILTERS "digits, date, amount, list, number, last4"

/* The default phrases (NULL-terminated, static). */
extern const char *const vagent__default_human_phrases[];
extern const char *const vagent__default_opt_out_phrases[];
extern const char *const vagent__repeat_phrases[];

#endif
