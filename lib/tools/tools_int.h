/*
 * tools_int.h — what the files of lib/tools share: the JSON Schema subset
 * (schema.c), request templates (template.c) and one blocking HTTP attempt
 * run on a loop worker (http.c). docs/tools.md describes the behaviour.
 */
#ifndef VAGENT_TOOLS_INT_H
#define VAGENT_TOOLS_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "core/internal.h"

/* ---- schema.c ---- */

/*
 * Check that `schema` uses only the supported subset correctly. On a
 * problem, false and `problem` gets "PATH: what is wrong" (PATH in the
 * schema, e.g. "properties.amount.minimum").
 */
bool vagent__schema_check(const cJSON *schema, struct vagent__strbuf *problem);

/*
 * Validate `inst` against a checked `schema`. On a violation, false and
 * `problem` gets "PATH: what is wrong" (PATH in the instance, e.g.
 * "amount" or "items[2].sku"; `root` names the instance itself).
 */
bool vagent__schema_validate(const cJSON *schema, const cJSON *inst,
			     const char *root, struct vagent__strbuf *problem);

/* ---- template.c ---- */

/* "name=value" variables, looked up by name; NULL when absent. */
struct vagent__vars {
	char **names, **values;
	size_t n;
};

const char *vagent__vars_get(const struct vagent__vars *v, const char *name,
			     size_t len);

/*
 * Check a text template (URL or header): balanced {name} placeholders
 * with names of [A-Za-z0-9_.-]; "{{" and "}}" are literal braces. Each placeholder must be a variable or,
 * when `props` (the schema's properties) is not NULL, an argument.
 */
bool vagent__template_check(const char *tpl, const struct vagent__vars *vars,
			    const cJSON *props, struct vagent__strbuf *problem);

/*
 * Expand a text template: variables (which win over arguments of the same
 * name, so arguments cannot redirect a request) are inserted as they are;
 * arguments are percent-encoded when `url_encode`, else inserted as text
 * (strings without quotes, other values as JSON). A placeholder with no
 * value, or a header value holding CR or LF, is a problem. Transfer full;
 * NULL on a problem (or out of memory: *oom).
 */
char *vagent__template_expand(const char *tpl, const struct vagent__vars *vars,
			      const cJSON *args, bool url_encode, bool header,
			      struct vagent__strbuf *problem, bool *oom);

/*
 * Expand a JSON body template: a string that is exactly "{name}" becomes
 * the argument's JSON value (a member whose argument is absent is left
 * out; in an array it becomes null), or the variable's string; other
 * strings get their placeholders replaced as text. Transfer full
 * (compact JSON text); NULL on a problem / out of memory.
 */
char *vagent__body_expand(const cJSON *tpl, const struct vagent__vars *vars,
			  const cJSON *args, struct vagent__strbuf *problem,
			  bool *oom);

/* The URL as errors show it: vagent__url_redact (core/internal.h). */

/* ---- http.c ---- */

/*
 * One HTTP attempt, run by a loop worker (vagent_loop_submit): blocking
 * libcurl transfer with its own timeout and size limit, abortable from the
 * loop thread with vagent__http_job_abort (wakes the transfer at once).
 * The request fields are owned by the job.
 */
struct vagent__http_job {
	/* request (set before submit) */
	char *method, *url, *body;
	struct curl_slist *headers;
	long timeout_ms;
	size_t max_bytes;
	/* the owner on the loop thread (NULL: orphan, free in done) */
	void *owner;
	/* abort from the loop thread */
	pthread_mutex_t mu;
	bool aborted;
	CURLM *multi;
	/* outcome (written by the worker, read after done) */
	CURLcode code;
	long http_status;
	struct vagent__strbuf resp;
	bool too_large;
	char *retry_after;              /* the Retry-After header value */
	char errbuf[CURL_ERROR_SIZE];
};

/* (transfer full); NULL when out of memory. */
struct vagent__http_job *vagent__http_job_new(void);
void vagent__http_job_free(struct vagent__http_job *j);
/* The worker side: run the transfer (vagent_work_fn). */
void vagent__http_job_run(void *arg);
/* Abort a running transfer; any thread. */
void vagent__http_job_abort(struct vagent__http_job *j);
/* curl_global_init once, before any thread uses libcurl:
 * vagent__curl_init (core/internal.h). */

/*
 * Retry-After (delta seconds or an HTTP date) in ms from now; -1 when
 * absent or unparsable.
 */
int64_t vagent__retry_after_ms(const char *value);

#endif
