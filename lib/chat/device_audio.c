/*
 * device_audio.c — the live caller's audio on a vagent_audio_io (lib/device):
 * PortAudio devices or WAV endpoints.
 */
#include "chat/chat_int.h"

vagent_status vagent__chat_io_audio(struct vagent_audio_io *io, struct vagent_live_audio *out,
				    struct vagent_error *err)
{
	(void)io;
	(void)out;
	return vagent__error_set(err, VAGENT_EUNSUPPORTED, "live caller",
				 "audio devices are not built in yet");
}
