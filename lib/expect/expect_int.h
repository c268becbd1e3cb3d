/*
 * expect_int.h — what the files of lib/expect share: the parsed form of an
 * expectation (expect.c parses it, eval.c evaluates it) and the SLO parser
 * without its message prefix (slo.c).
 */
#ifndef VAGENT_EXPECT_INT_H
#define VAGENT_EXPECT_INT_H

#include <regex.h>

#include <cjson/cJSON.h>

#include "core/internal.h"

enum vagent__expect_kind {
	VAGENT__X_TOOL_CALLED,
	VAGENT__X_TOOL_NOT_CALLED,
	VAGENT__X_AGENT_SAID,
	VAGENT__X_AGENT_NEVER_SAID,
	VAGENT__X_ESCALATED,
	VAGENT__X_TRANSFER_PACKAGE,
	VAGENT__X_EVENT_WITHIN,
	VAGENT__X_LATENCY,
	VAGENT__X_WER_MAX,
	VAGENT__X_DISCLOSURE,
	VAGENT__X_NO_CARD_NUMBER,
	VAGENT__X_END_REASON,
	VAGENT__X_TURNS,
	VAGENT__X_FILLER,
	VAGENT__X_BARGE_IN,
};

/* A string to match: equal (case-insensitive), or a regex when written
 * "/.../" (POSIX extended, case-insensitive). */
struct vagent__xmatch {
	char *text;                   /* as written */
	bool is_re;
	regex_t re;
};

struct vagent__expectation {
	enum vagent__expect_kind kind;
	char *name;                   /* shown in results */
	char *subject;                /* tool name, end reason, event B */
	cJSON *args;                  /* tool_*: expected args (object), or NULL */
	int times;                    /* tool_called: exact count; -1: >= 1 */
	regex_t re;                   /* agent_*, disclosure "phrase" */
	bool has_re;
	char *pattern;                /* the regex as written */
	bool heard;                   /* over the recognised agent audio */
	bool flag;                    /* escalated / filler / barge_in: true;
				       * no_card_number: scan the recording */
	struct vagent__xmatch reason; /* escalated "reason" (text NULL: any) */
	cJSON *package;               /* transfer_package: array of paths or
				       * object path -> value */
	vagent_trace_type event_a, event_b;
	int within_ms;                /* event / disclosure_within_ms */
	struct vagent_slo slo;        /* latency */
	double wer_max;
	int min, max;                 /* turns */
};

struct vagent_expectations {
	size_t n;
	struct vagent__expectation *items;
};

/* Compile `text` into `m` (regex when "/.../"); false and `problem` filled
 * when the regex does not compile. */
bool vagent__xmatch_init(struct vagent__xmatch *m, const char *text,
			 char *problem, size_t size);
bool vagent__xmatch_test(const struct vagent__xmatch *m, const char *s);
void vagent__xmatch_free(struct vagent__xmatch *m);

/* Parse an SLO; on failure false, with the problem (no prefix). */
bool vagent__slo_parse(const char *expr, struct vagent_slo *out,
		       char *problem, size_t size);
/* Replace control characters (newlines from a file's strings) by spaces:
 * every problem and detail is one line. Returns `s`. */
char *vagent__one_line(char *s);
/* A time or value in ms, printed with up to 3 decimals ("1210", "130.5"). */
void vagent__fmt_ms(char *buf, size_t size, double ms);

#endif
