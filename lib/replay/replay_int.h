/*
 * replay_int.h — what lib/replay's files share: recorded call folders
 * (call_file.c), replaying them (replay.c) and writing them (record.c).
 */
#ifndef VAGENT_REPLAY_INT_H
#define VAGENT_REPLAY_INT_H

#include "core/internal.h"

/* "caller" / "agent". */
const char *vagent__speaker_name(vagent_call_speaker s);

#endif
