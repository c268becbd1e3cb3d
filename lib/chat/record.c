/*
 * record.c — writing a live call (`vagent chat --record DIR`) as a call
 * folder (docs/call.md): vagent_call_record_write, with what the
 * recogniser heard as the caller's text where no golden text is known.
 */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

vagent_status vagent_chat_record_write(const struct vagent_call_run *run, const char *dir,
				       struct vagent_error *err)
{
	const struct vagent_session_result *res;
	vagent_status st;
	char **added;

	if (!run || !run->session)
		return vagent_call_record_write(run, dir, err);
	res = vagent_session_result(run->session);
	added = calloc(res->n_turns + 1, sizeof(*added));
	if (!added)
		return vagent__error_set(err, VAGENT_ENOMEM, dir, "out of memory");
	for (size_t i = 0; i < res->n_turns; i++) {
		struct vagent_session_turn *t = &res->turns[i];

		if (!t->caller_text && t->stt_text && *t->stt_text)
			t->caller_text = added[i] = strdup(t->stt_text);
	}
	st = vagent_call_record_write(run, dir, err);
	/* the result goes on without the borrowed texts */
	for (size_t i = 0; i < res->n_turns; i++)
		if (added[i] && res->turns[i].caller_text == added[i]) {
			res->turns[i].caller_text = NULL;
			free(added[i]);
		}
	free(added);
	return st;
}
