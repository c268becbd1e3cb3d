/*
 * opus_codec.c — Opus encode/decode of frames with libopus (raw packets,
 * no Ogg), with packet-loss concealment for missing packets.
 */
#include "audio/audio_int.h"

#include <stdlib.h>

#include <opus.h>

struct vagent_opus_encoder {
	OpusEncoder *enc;
	int rate, channels;
};

struct vagent_opus_decoder {
	OpusDecoder *dec;
	int rate, channels;
	int last_samples;   /* duration of the last packet, for PLC */
};

static bool opus_rate_ok(int rate)
{
	return rate == 8000 || rate == 12000 || rate == 16000 || rate == 24000 ||
	       rate == 48000;
}

struct vagent_opus_config vagent_opus_config_default(void)
{
	struct vagent_opus_config c = {
		.rate = 16000,
		.channels = 1,
		.bitrate = 24000,
		.complexity = 5,
		.voip = true,
	};
	return c;
}

vagent_status vagent_opus_encoder_new(const struct vagent_opus_config *cfg,
				      struct vagent_opus_encoder **out,
				      struct vagent_error *err)
{
	struct vagent_opus_encoder *e = NULL;
	int oe = OPUS_OK;

	*out = NULL;
	if (!opus_rate_ok(cfg->rate) || cfg->channels < 1 || cfg->channels > 2 ||
	    cfg->complexity < 0 || cfg->complexity > 10 || cfg->bitrate < 0)
		return vagent__error_set(err, VAGENT_EINVAL, "opus",
					 "unsupported encoder settings (%d Hz, %d channels, complexity %d)",
					 cfg->rate, cfg->channels, cfg->complexity);
	e = calloc(1, sizeof(*e));
	if (!e)
		return vagent__error_set(err, VAGENT_ENOMEM, "opus", "out of memory");
	e->rate = cfg->rate;
	e->channels = cfg->channels;
	e->enc = opus_encoder_create(cfg->rate, cfg->channels,
				     cfg->voip ? OPUS_APPLICATION_VOIP : OPUS_APPLICATION_AUDIO,
				     &oe);
	if (!e->enc || oe != OPUS_OK) {
		free(e);
		return vagent__error_set(err, VAGENT_EINVAL, "opus", "encoder: %s", opus_strerror(oe));
	}
	if (cfg->bitrate)
		opus_encoder_ctl(e->enc, OPUS_SET_BITRATE(cfg->bitrate));
	opus_encoder_ctl(e->enc, OPUS_SET_COMPLEXITY(cfg->complexity));
	*out = e;
	return VAGENT_OK;
}

void vagent_opus_encoder_free(struct vagent_opus_encoder *enc)
{
	if (!enc)
		return;
	opus_encoder_destroy(enc->enc);
	free(enc);
}

int vagent_opus_encoder_delay(const struct vagent_opus_encoder *enc)
{
	opus_int32 lookahead = 0;

	opus_encoder_ctl(enc->enc, OPUS_GET_LOOKAHEAD(&lookahead));
	return (int)lookahead;
}

vagent_status vagent_opus_encode(struct vagent_opus_encoder *enc,
				 const struct vagent_frame *f, uint8_t *packet,
				 size_t cap, size_t *len, struct vagent_error *err)
{
	/* Legal Opus frame sizes, in units of 2.5 ms. */
	static const int units[] = { 1, 2, 4, 8, 16, 24 };
	size_t unit = (size_t)enc->rate / 400;
	bool ok = false;
	opus_int32 n;

	*len = 0;
	if (f->rate != enc->rate || f->channels != enc->channels)
		return vagent__error_set(err, VAGENT_EINVAL, "opus",
					 "frame is %d Hz/%d ch, encoder %d Hz/%d ch",
					 f->rate, f->channels, enc->rate, enc->channels);
	for (size_t i = 0; i < VAGENT__ARRAY_SIZE(units); i++)
		ok |= f->n == unit * (size_t)units[i];
	if (!ok)
		return vagent__error_set(err, VAGENT_EINVAL, "opus",
					 "%zu samples is not an Opus frame size at %d Hz",
					 f->n, enc->rate);
	n = opus_encode(enc->enc, f->samples, (int)f->n, packet,
			(opus_int32)(cap > VAGENT_OPUS_MAX_PACKET ? VAGENT_OPUS_MAX_PACKET : cap));
	if (n < 0)
		return vagent__error_set(err, n == OPUS_BUFFER_TOO_SMALL ? VAGENT_EINVAL : VAGENT_EINTERNAL,
					 "opus", "encode: %s", opus_strerror(n));
	*len = (size_t)n;
	return VAGENT_OK;
}

vagent_status vagent_opus_decoder_new(int rate, int channels,
				      struct vagent_opus_decoder **out,
				      struct vagent_error *err)
{
	struct vagent_opus_decoder *d = NULL;
	int oe = OPUS_OK;

	*out = NULL;
	if (!opus_rate_ok(rate) || channels < 1 || channels > 2)
		return vagent__error_set(err, VAGENT_EINVAL, "opus",
					 "unsupported decoder settings (%d Hz, %d channels)",
					 rate, channels);
	d = calloc(1, sizeof(*d));
	if (!d)
		return vagent__error_set(err, VAGENT_ENOMEM, "opus", "out of memory");
	d->rate = rate;
	d->channels = channels;
	d->last_samples = rate / 50;
	d->dec = opus_decoder_create(rate, channels, &oe);
	if (!d->dec || oe != OPUS_OK) {
		free(d);
		return vagent__error_set(err, VAGENT_EINVAL, "opus", "decoder: %s", opus_strerror(oe));
	}
	*out = d;
	return VAGENT_OK;
}

void vagent_opus_decoder_free(struct vagent_opus_decoder *dec)
{
	if (!dec)
		return;
	opus_decoder_destroy(dec->dec);
	free(dec);
}

vagent_status vagent_opus_decode(struct vagent_opus_decoder *dec,
				 const uint8_t *packet, size_t len,
				 struct vagent_frame *f, struct vagent_error *err)
{
	int max = VAGENT_FRAME_MAX_SAMPLES / dec->channels;
	int64_t pts = f->pts;
	int n;

	if (packet && len) {
		int ns = opus_packet_get_nb_samples(packet, (opus_int32)len, dec->rate);
		if (ns < 0)
			return vagent__error_set(err, VAGENT_EFORMAT, "opus",
						 "corrupt packet (%zu bytes): %s", len, opus_strerror(ns));
		if (ns > max)
			return vagent__error_set(err, VAGENT_EUNSUPPORTED, "opus",
						 "packet holds %d samples, a frame takes %d", ns, max);
	} else {
		packet = NULL;
		len = 0;
		max = dec->last_samples < max ? dec->last_samples : max;
	}
	vagent_frame_init(f, dec->rate, dec->channels, 0, pts);
	n = opus_decode(dec->dec, packet, (opus_int32)len, f->samples, max, 0);
	if (n < 0)
		return vagent__error_set(err, VAGENT_EFORMAT, "opus", "corrupt packet (%zu bytes): %s",
					 len, opus_strerror(n));
	f->n = (size_t)n;
	if (packet)
		dec->last_samples = n;
	return VAGENT_OK;
}
