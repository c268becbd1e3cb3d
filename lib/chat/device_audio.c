/*
 * device_audio.c — the live caller's audio on a vagent_audio_io
 * (lib/device): PortAudio devices or WAV endpoints.
 */
#include "chat/chat_int.h"

static size_t io_read(void *ctx, int16_t *mic, int16_t *ref, size_t max)
{
	return vagent_audio_io_read(ctx, mic, ref, max);
}

static size_t io_write(void *ctx, const int16_t *samples, size_t n)
{
	return vagent_audio_io_write(ctx, samples, n);
}

static size_t io_pending(void *ctx)
{
	return vagent_audio_io_pending(ctx);
}

static bool io_input_eof(void *ctx)
{
	return vagent_audio_io_input_eof(ctx);
}

static vagent_status io_start(void *ctx, struct vagent_error *err)
{
	return vagent_audio_io_start(ctx, err);
}

static vagent_status io_status(void *ctx, struct vagent_error *err)
{
	return vagent_audio_io_status(ctx, err);
}

vagent_status vagent__chat_io_audio(struct vagent_audio_io *io, struct vagent_live_audio *out,
				    struct vagent_error *err)
{
	(void)err;
	out->ctx = io;
	out->read = io_read;
	out->write = io_write;
	out->pending = io_pending;
	out->input_eof = io_input_eof;
	out->status = io_status;
	out->start = io_start;
	out->has_reference = vagent_audio_io_has_reference(io);
	return VAGENT_OK;
}
