/*
 * validate.c — checking a scenario and everything it points at (its agent
 * file, tool mocks, recordings, noise) without running it: every problem
 * one line "FILE:LINE: field: problem" in a vagent_diags list, for
 * `vagent validate` and for `vagent run`, which checks every scenario
 * before any call runs (docs/validate.md).
 */
#include <stdlib.h>
#include <string.h>

#include "run/run_int.h"

/* A recording the scenario plays: it must load (any format vagent reads). */
static void check_audio(const struct vagent_scenario *sc, const char *path,
			const char *what, struct vagent_diags *diags,
			vagent_status *first, struct vagent_error *err)
{
	struct vagent_audio *a = NULL;
	struct vagent_error e;
	vagent_status st = vagent_audio_load(path, VAGENT_CHANNELS_MIX, &a, &e);

	if (st == VAGENT_OK && a->frames == 0) {
		st = VAGENT_EINVAL;
		vagent__error_set(&e, st, path, "the recording is empty");
	}
	vagent_audio_free(a);
	if (st == VAGENT_OK)
		return;
	vagent_diags_add(diags, "%s: %s: %s", sc->path, what, e.message);
	if (*first == VAGENT_OK) {
		*first = st;
		vagent__error_set(err, st, NULL, "%s: %s: %s", sc->path, what, e.message);
	}
}

vagent_status vagent_scenario_load_diags(const char *path, struct vagent_scenario **out,
					 struct vagent_diags *diags,
					 struct vagent_error *err)
{
	return vagent__scenario_load(path, out, diags, err);
}

vagent_status vagent_scenario_check_files(const struct vagent_scenario *sc,
					  struct vagent_diags *diags,
					  struct vagent_error *err)
{
	vagent_status first = VAGENT_OK;

	for (size_t i = 0; i < sc->n_steps; i++) {
		char what[48];

		if (!sc->steps[i].audio_path)
			continue;
		snprintf(what, sizeof(what), "steps[%zu].audio", i);
		check_audio(sc, sc->steps[i].audio_path, what, diags, &first, err);
	}
	if (sc->noise_path)
		check_audio(sc, sc->noise_path, "caller.noise.file", diags, &first, err);
	for (size_t i = 0; i < sc->n_services; i++) {
		struct vagent_error e;
		char *text = NULL;
		size_t len = 0;
		vagent_status st = vagent__read_file(sc->services[i].routes_path, 16u << 20,
						     &text, &len, &e);

		if (st == VAGENT_OK)
			st = vagent_mock_http_check(text, sc->services[i].routes_path, &e);
		free(text);
		if (st == VAGENT_OK)
			continue;
		vagent_diags_add(diags, "%s: services.%s: %s", sc->path, sc->services[i].env,
				 e.message);
		if (first == VAGENT_OK) {
			first = st;
			vagent__error_set(err, st, NULL, "%s: services.%s: %s", sc->path,
					  sc->services[i].env, e.message);
		}
	}
	return first;
}

vagent_status vagent_scenario_validate(const char *path, struct vagent_diags *diags,
				       struct vagent_error *err)
{
	struct vagent_scenario *sc = NULL;
	struct vagent_agent *agent = NULL;
	struct vagent_error e;
	vagent_status first, st;

	first = vagent__scenario_load(path, &sc, diags, err);
	if (first != VAGENT_OK)
		return first;
	st = vagent_agent_validate(sc->agent_path, diags, &e);
	if (st != VAGENT_OK) {
		first = st;
		vagent__error_set(err, st, NULL, "%s", e.message);
	} else if (sc->has_tools) {
		st = vagent_agent_load(sc->agent_path, &agent, &e);
		if (st == VAGENT_OK)
			st = vagent_agent_mock_tools_diags(agent, sc->text, sc->text_len,
							   sc->path, "tools", diags, &e);
		else
			vagent_diags_add(diags, "%s", e.message);
		if (st != VAGENT_OK) {
			first = st;
			vagent__error_set(err, st, NULL, "%s", e.message);
		}
		vagent_agent_free(agent);
	}
	st = vagent_scenario_check_files(sc, diags, &e);
	if (st != VAGENT_OK && first == VAGENT_OK) {
		first = st;
		vagent__error_set(err, st, NULL, "%s", e.message);
	}
	vagent_scenario_free(sc);
	return first;
}
