/*
 * chat_int.h — what lib/chat's files share: the live caller's view of a
 * vagent_audio_io (device_audio.c).
 */
#ifndef VAGENT_CHAT_INT_H
#define VAGENT_CHAT_INT_H

#include "core/internal.h"

/* `io`'s read/write/pending/input_eof/status/has_reference as a live
 * audio endpoint (io stays the caller's). */
vagent_status vagent__chat_io_audio(struct vagent_audio_io *io, struct vagent_live_audio *out,
				    struct vagent_error *err);

#endif
