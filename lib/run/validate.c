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
			st = vagent_agent_mock_tools(agent, sc->text, sc->text_len, sc->path,
						     "tools", &e);
		if (st != VAGENT_OK) {
			vagent_diags_add(diags, "%s", e.message);
			first = st;
			vagent__error_set(err, st, NULL, "%s", e.message);
		}
		vagent_agent_free(agent);
	}
	for (size_t i = 0; i < sc->n_steps; i++) {
		char what[48];

		if (!sc->steps[i].audio_path)
			continue;
		snprintf(what, sizeof(what), "steps[%zu].audio", i);
		check_audio(sc, sc->steps[i].audio_path, what, diags, &first, err);
	}
	if (sc->noise_path)
		check_audio(sc, sc->noise_path, "caller.noise.file", diags, &first, err);
	vagent_scenario_free(sc);
	return first;
}
