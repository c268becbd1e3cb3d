/*
 * fuzz_scenario.c — libFuzzer harness for scenario files: the input is
 * parsed as a scenario (vagent_scenario_parse); a failure must be one line
 * "s.json:LINE: ..." with a bad-input status; a scenario that parses must
 * have steps, each of a known kind, and an agent path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vagent_scenario *sc = NULL;
	struct vagent_error err;
	vagent_status st;

	st = vagent_scenario_parse((const char *)data, size, "s.json", "dir", &sc, &err);
	if (st != VAGENT_OK) {
		if (sc || strchr(err.message, '\n') ||
		    strncmp(err.message, "s.json", 6) != 0 ||
		    (st != VAGENT_EINVAL && st != VAGENT_EFORMAT && st != VAGENT_ENOMEM))
			abort();
		return 0;
	}
	if (!sc->agent_path || !sc->n_steps || !sc->name || !sc->voice)
		abort();
	for (size_t i = 0; i < sc->n_steps; i++)
		if (sc->steps[i].kind != VAGENT_STEP_SAY &&
		    sc->steps[i].kind != VAGENT_STEP_SILENCE &&
		    sc->steps[i].kind != VAGENT_STEP_HANGUP)
			abort();
	vagent_scenario_free(sc);
	return 0;
}
