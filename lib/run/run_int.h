/*
 * run_int.h — what lib/run's files share: scenarios (scenario.c), the
 * agent's provider stack (stack.c) and running a call (call.c); lib/replay
 * runs recorded calls through the same call.c.
 */
#ifndef VAGENT_RUN_INT_H
#define VAGENT_RUN_INT_H

#include "core/internal.h"

typedef struct cJSON cJSON;

/* For a call run `r` whose agent is loaded (r->agent): build the agent's
 * providers for a call at `rate` into r->stack. */
vagent_status vagent__run_stack(struct vagent_call_run *r, int rate,
				const struct vagent_run_options *opt,
				struct vagent_error *err);

/* Run the session of `r` (agent, stack and caller set) to its end, named
 * `name`, into r->session. Shared by scenarios and replayed calls. */
vagent_status vagent__run_session(struct vagent_call_run *r, const char *name,
				  int rate, int max_call_ms,
				  const struct vagent_run_options *opt,
				  struct vagent_error *err);
/* vagent_scenario_parse/_load, with every problem also into `diags`. */
vagent_status vagent__scenario_parse(const char *text, size_t len,
				     const char *name, const char *base_dir,
				     struct vagent_scenario **out,
				     struct vagent_diags *diags,
				     struct vagent_error *err);
vagent_status vagent__scenario_load(const char *path, struct vagent_scenario **out,
				    struct vagent_diags *diags, struct vagent_error *err);

/* Start mock HTTP services for the call `r` (kept in r->services, freed
 * with it) and put each one's base URL in its environment variable, then
 * read the agent file at `agent_path` into r->agent, which expands those
 * variables: fresh services per call, so what one call changes (a
 * refund) never leaks into the next. Both happen under one process-wide
 * lock, so calls run from several threads at once (`vagent bench
 * --concurrency`) each get their own services' URLs. */
vagent_status vagent__run_services_agent(struct vagent_call_run *r,
					 const struct vagent_scenario_service *services,
					 size_t n, const char *where, const char *agent_path,
					 struct vagent_error *err);

/* `rel` resolved against directory `dir` (absolute paths, and any path
 * when dir is NULL, "" or ".", as given). (transfer full) */
char *vagent__path_resolve(const char *dir, const char *rel);

/* The "services" object `o` of a scenario or call file (routes files
 * resolved against `dir`); every problem goes to `problem` with its JSON
 * path. *out: transfer full (vagent__services_free). */
void vagent__services_parse(const cJSON *o, const char *dir,
			    struct vagent_scenario_service **out, size_t *n_out,
			    void (*problem)(void *ctx, const char *path, const char *msg),
			    void *ctx);
void vagent__services_free(struct vagent_scenario_service *s, size_t n);

#endif
