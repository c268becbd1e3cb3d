/*
 * services.c — the "services" of a scenario or a recorded call: mock HTTP
 * services (vagent mock-http routes files) to start for the call, each
 * with the environment variable that gets its base URL (docs/scenario.md).
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "run/run_int.h"

static bool env_name(const char *v)
{
	return *v && !(*v >= '0' && *v <= '9') &&
	       strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") ==
	       strlen(v);
}

char *vagent__path_resolve(const char *dir, const char *rel)
{
	size_t n;
	char *p;

	if (rel[0] == '/' || !dir || !*dir || !strcmp(dir, "."))
		return strdup(rel);
	n = strlen(dir) + strlen(rel) + 2;
	if ((p = malloc(n)))
		snprintf(p, n, "%s/%s", dir, rel);
	return p;
}

void vagent__services_parse(const cJSON *o, const char *dir,
			    struct vagent_scenario_service **out, size_t *n_out,
			    void (*problem)(void *ctx, const char *path, const char *msg),
			    void *ctx)
{
	const cJSON *it;
	size_t n = 0;

	*out = NULL;
	*n_out = 0;
	if (!cJSON_IsObject(o)) {
		problem(ctx, "services", "must be an object (environment variable: "
			"mock-http routes file)");
		return;
	}
	*out = calloc((size_t)cJSON_GetArraySize(o) + 1, sizeof(**out));
	if (!*out) {
		problem(ctx, "services", "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, o) {
		struct vagent_scenario_service *sv = &(*out)[n];
		char p[160];

		snprintf(p, sizeof(p), "services.%s", it->string);
		if (!env_name(it->string)) {
			problem(ctx, p, "not an environment variable name");
			continue;
		}
		if (!cJSON_IsString(it) || !*it->valuestring) {
			problem(ctx, p, "must be the path of a routes file (docs/mock-http.md)");
			continue;
		}
		sv->env = strdup(it->string);
		sv->routes_path = vagent__path_resolve(dir, it->valuestring);
		if (!sv->env || !sv->routes_path) {
			free(sv->env);
			free(sv->routes_path);
			problem(ctx, p, "out of memory");
			continue;
		}
		*n_out = ++n;
	}
}

void vagent__services_free(struct vagent_scenario_service *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++) {
		free(s[i].env);
		free(s[i].routes_path);
	}
	free(s);
}
