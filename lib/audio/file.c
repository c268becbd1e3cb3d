/*
 * file.c — loading and saving whole audio files: libsndfile for WAV, FLAC
 * and friends, libopusfile for Ogg Opus, and a RIFF chunk walk in front of
 * libsndfile so that broken WAV headers get precise one-line errors.
 */
#include "audio/audio_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>
#include <opusfile.h>

#define READ_CHUNK 16384   /* frames per libsndfile read */

/* ------------------------------------------------------------------------
 * RIFF/WAVE header probe
 * ------------------------------------------------------------------------ */

static uint32_t rd_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static unsigned rd_u16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static const char *wav_tag_name(unsigned tag)
{
	switch (tag) {
	case 0x0001: return "PCM";
	case 0x0002: return "Microsoft ADPCM";
	case 0x0003: return "IEEE float";
	case 0x0006: return "A-law";
	case 0x0007: return "mu-law";
	case 0x0011: return "IMA ADPCM";
	case 0x0014: return "G.723 ADPCM";
	case 0x0031: return "GSM 6.10";
	case 0x0040: return "G.721 ADPCM";
	case 0x0050: return "MPEG";
	case 0x0055: return "MPEG layer 3";
	case 0x0064: return "G.726 ADPCM";
	case 0x00FF: return "AAC";
	case 0xFFFE: return "extensible";
	}
	return "unknown";
}

/* The WAV format tags libsndfile 1.2 decodes (wav.c); anything else is
 * reported as unsupported rather than as libsndfile's "malformed fmt". */
static bool tag_known_to_sndfile(unsigned tag)
{
	switch (tag) {
	case 0x0001: case 0x0002: case 0x0003: case 0x0006: case 0x0007:
	case 0x0011: case 0x0031: case 0x0040: case 0x0055: case 0xFFFE:
		return true;
	}
	return false;
}

/* Tags whose fmt fields we can sanity-check (bits per sample is meaningful). */
static bool tag_is_linear(unsigned tag)
{
	return tag == 0x0001 || tag == 0x0003 || tag == 0x0006 || tag == 0x0007;
}

vagent_status vagent__wav_probe(const char *path, FILE *fp, uint64_t file_size,
				struct vagent__wav_info *wi,
				struct vagent_error *err)
{
	unsigned char hdr[12], ch[8], fmt[40];
	uint64_t pos = 12;
	bool have_fmt = false;

	memset(wi, 0, sizeof(*wi));
	if (fseek(fp, 0, SEEK_SET))
		return vagent__error_set(err, VAGENT_EIO, path, "cannot seek: %s", strerror(errno));
	if (fread(hdr, 1, 4, fp) != 4 || memcmp(hdr, "RIFF", 4))
		return VAGENT_OK;  /* not RIFF: let libsndfile decide */
	if (file_size < 12)
		return vagent__error_set(err, VAGENT_EFORMAT, path,
					 "truncated header (%llu bytes; a RIFF header needs 12)",
					 (unsigned long long)file_size);
	if (fread(hdr + 4, 1, 8, fp) != 8)
		return vagent__error_set(err, VAGENT_EIO, path, "read error");
	if (memcmp(hdr + 8, "WAVE", 4))
		return VAGENT_OK;  /* RIFF but not WAVE (AVI, ...) */
	wi->is_wav = true;

	for (;;) {
		uint64_t size, end;

		if (pos + 8 > file_size)
			return vagent__error_set(err, VAGENT_EFORMAT, path,
						 "truncated header: no %s chunk before the end of the file (%llu bytes)",
						 have_fmt ? "data" : "fmt", (unsigned long long)file_size);
		if (fseek(fp, (long)pos, SEEK_SET) || fread(ch, 1, 8, fp) != 8)
			return vagent__error_set(err, VAGENT_EIO, path, "read error at byte %llu",
						 (unsigned long long)pos);
		size = rd_u32(ch + 4);
		end = pos + 8 + size;

		if (!memcmp(ch, "fmt ", 4)) {
			size_t want = size < sizeof(fmt) ? (size_t)size : sizeof(fmt);

			if (size < 16)
				return vagent__error_set(err, VAGENT_EFORMAT, path,
							 "fmt chunk too short (%llu bytes, needs 16)",
							 (unsigned long long)size);
			if (end > file_size)
				return vagent__error_set(err, VAGENT_EFORMAT, path,
							 "truncated header: fmt chunk ends at byte %llu but the file has %llu bytes",
							 (unsigned long long)end, (unsigned long long)file_size);
			if (fread(fmt, 1, want, fp) != want)
				return vagent__error_set(err, VAGENT_EIO, path, "read error in fmt chunk");
			wi->format_tag = rd_u16(fmt);
			wi->channels = rd_u16(fmt + 2);
			wi->rate = rd_u32(fmt + 4);
			wi->bits = rd_u16(fmt + 14);
			if (wi->format_tag == 0xFFFE && want >= 26)
				wi->format_tag = rd_u16(fmt + 24); /* SubFormat GUID's first two bytes */
			if (wi->channels == 0)
				return vagent__error_set(err, VAGENT_EFORMAT, path,
							 "fmt chunk claims 0 channels");
			if (wi->rate == 0)
				return vagent__error_set(err, VAGENT_EFORMAT, path, "sample rate is 0 Hz");
			if (tag_is_linear(wi->format_tag)) {
				unsigned align = rd_u16(fmt + 12);

				if (wi->bits == 0 || wi->bits > 64)
					return vagent__error_set(err, VAGENT_EFORMAT, path,
								 "fmt chunk claims %u bits per sample", wi->bits);
				if (align == 0)
					return vagent__error_set(err, VAGENT_EFORMAT, path,
								 "fmt chunk claims a block size of 0 bytes");
			}
			have_fmt = true;
		} else if (!memcmp(ch, "data", 4)) {
			wi->data_offset = pos + 8;
			wi->data_size = size;
			wi->data_size_placeholder = size == 0 || size == 0xFFFFFFFFu;
			if (end > file_size && !wi->data_size_placeholder)
				wi->data_missing = end - file_size;
			if (!have_fmt)
				return vagent__error_set(err, VAGENT_EFORMAT, path,
							 "data chunk before the fmt chunk");
			return VAGENT_OK;
		} else if (end > file_size) {
			return vagent__error_set(err, VAGENT_EFORMAT, path,
						 "truncated header: '%.4s' chunk at byte %llu claims %llu bytes but the file has %llu",
						 isprint(ch[0]) ? (const char *)ch : "????",
						 (unsigned long long)pos, (unsigned long long)size,
						 (unsigned long long)file_size);
		}
		pos = end + (size & 1);  /* chunks are padded to even length */
	}
}

/* ------------------------------------------------------------------------
 * Loading
 * ------------------------------------------------------------------------ */

static vagent_encoding encoding_from_sf(int format)
{
	switch (format & SF_FORMAT_SUBMASK) {
	case SF_FORMAT_PCM_U8: return VAGENT_ENC_PCM_U8;
	case SF_FORMAT_PCM_S8: return VAGENT_ENC_PCM_S8;
	case SF_FORMAT_PCM_16: return VAGENT_ENC_PCM16;
	case SF_FORMAT_PCM_24: return VAGENT_ENC_PCM24;
	case SF_FORMAT_PCM_32: return VAGENT_ENC_PCM32;
	case SF_FORMAT_FLOAT: return VAGENT_ENC_FLOAT;
	case SF_FORMAT_DOUBLE: return VAGENT_ENC_DOUBLE;
	case SF_FORMAT_ULAW: return VAGENT_ENC_ULAW;
	case SF_FORMAT_ALAW: return VAGENT_ENC_ALAW;
	case SF_FORMAT_OPUS: return VAGENT_ENC_OPUS;
	}
	return VAGENT_ENC_OTHER;
}

static vagent_container container_from_sf(int format)
{
	switch (format & SF_FORMAT_TYPEMASK) {
	case SF_FORMAT_WAV:
	case SF_FORMAT_WAVEX:
		return VAGENT_CONTAINER_WAV;
	case SF_FORMAT_FLAC:
		return VAGENT_CONTAINER_FLAC;
	case SF_FORMAT_OGG:
		return VAGENT_CONTAINER_OGG;
	}
	return VAGENT_CONTAINER_OTHER;
}

/* Does the file start with an Ogg page whose first packet is OpusHead? */
static bool is_ogg_opus(const unsigned char *buf, size_t len)
{
	size_t nseg, off;

	if (len < 27 || memcmp(buf, "OggS", 4))
		return false;
	nseg = buf[26];
	off = 27 + nseg;
	return len >= off + 8 && !memcmp(buf + off, "OpusHead", 8);
}

/*
 * A WAV whose data size is the streaming placeholder 0 reads as empty in
 * libsndfile; such files are opened from a memory copy whose data size is
 * patched to "the rest of the file" (audio-formats.md §4).
 */
struct memfile {
	unsigned char *data;
	sf_count_t len, pos;
};

static sf_count_t mem_len(void *user)
{
	return ((struct memfile *)user)->len;
}

static sf_count_t mem_seek(sf_count_t off, int whence, void *user)
{
	struct memfile *m = user;
	sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->len;

	if (base + off < 0 || base + off > m->len)
		return -1;
	m->pos = base + off;
	return m->pos;
}

static sf_count_t mem_read(void *ptr, sf_count_t n, void *user)
{
	struct memfile *m = user;

	if (n > m->len - m->pos)
		n = m->len - m->pos;
	memcpy(ptr, m->data + m->pos, (size_t)n);
	m->pos += n;
	return n;
}

static sf_count_t mem_write(const void *ptr, sf_count_t n, void *user)
{
	(void)ptr, (void)n, (void)user;
	return 0;
}

static sf_count_t mem_tell(void *user)
{
	return ((struct memfile *)user)->pos;
}

static vagent_status read_patched(const char *path, const struct vagent__wav_info *wi,
				  struct memfile *m, struct vagent_error *err)
{
	FILE *fp = fopen(path, "rb");
	uint64_t size;
	size_t got;

	if (!fp)
		return vagent__error_open_input(err, errno, path);
	if (fseek(fp, 0, SEEK_END) || ftell(fp) < 0) {
		fclose(fp);
		return vagent__error_set(err, VAGENT_EIO, path, "cannot seek");
	}
	m->len = ftell(fp);
	m->data = malloc(m->len ? (size_t)m->len : 1);
	rewind(fp);
	got = m->data ? fread(m->data, 1, (size_t)m->len, fp) : 0;
	fclose(fp);
	if (!m->data)
		return vagent__error_set(err, VAGENT_ENOMEM, path, "out of memory");
	if ((sf_count_t)got != m->len)
		return vagent__error_set(err, VAGENT_EIO, path, "read error");
	size = (uint64_t)m->len - wi->data_offset;
	if (size > 0xFFFFFFF0u)
		size = 0xFFFFFFF0u;
	size -= size % (wi->channels * ((wi->bits + 7) / 8));
	for (int i = 0; i < 4; i++)
		m->data[wi->data_offset - 4 + (uint64_t)i] = (unsigned char)(size >> (8 * i));
	return VAGENT_OK;
}

static vagent_status load_sndfile(const char *path,
				  const struct vagent__wav_info *wi,
				  struct vagent_audio **out,
				  struct vagent_error *err)
{
	SF_INFO info;
	SF_FORMAT_INFO fi;
	SNDFILE *sf = NULL;
	struct vagent_audio *a = NULL;
	int *ibuf = NULL;
	bool as_float;
	vagent_status st = VAGENT_OK;
	struct memfile mem = { NULL, 0, 0 };
	SF_VIRTUAL_IO vio = { mem_len, mem_seek, mem_read, mem_write, mem_tell };

	memset(&info, 0, sizeof(info));
	if (wi->is_wav && wi->data_size_placeholder && wi->data_size == 0 &&
	    tag_is_linear(wi->format_tag) && wi->bits) {
		st = read_patched(path, wi, &mem, err);
		if (st)
			goto done;
		sf = sf_open_virtual(&vio, SFM_READ, &info, &mem);
	} else {
		sf = sf_open(path, SFM_READ, &info);
	}
	if (!sf) {
		int e = sf_error(NULL);

		if (wi->is_wav && e != SF_ERR_SYSTEM && !tag_known_to_sndfile(wi->format_tag))
			st = vagent__error_set(err, VAGENT_EUNSUPPORTED, path,
					       "unsupported WAV encoding (format tag 0x%04X, %s)",
					       wi->format_tag, wav_tag_name(wi->format_tag));
		else if (wi->is_wav && e != SF_ERR_SYSTEM && !tag_is_linear(wi->format_tag))
			st = vagent__error_set(err, VAGENT_EFORMAT, path,
					       "cannot decode WAV format tag 0x%04X (%s): %s",
					       wi->format_tag, wav_tag_name(wi->format_tag),
					       sf_strerror(NULL));
		else if (e == SF_ERR_UNRECOGNISED_FORMAT)
			st = vagent__error_set(err, VAGENT_EFORMAT, path,
					       "not an audio file (format not recognised)");
		else if (e == SF_ERR_UNSUPPORTED_ENCODING)
			st = vagent__error_set(err, VAGENT_EUNSUPPORTED, path, "%s",
					       sf_strerror(NULL));
		else if (e == SF_ERR_SYSTEM)
			st = vagent__error_set(err, VAGENT_EIO, path, "%s", sf_strerror(NULL));
		else
			st = vagent__error_set(err, VAGENT_EFORMAT, path, "%s", sf_strerror(NULL));
		goto done;
	}
	if (info.samplerate <= 0) {
		st = vagent__error_set(err, VAGENT_EFORMAT, path, "sample rate is %d Hz",
				       info.samplerate);
		goto done;
	}
	if (info.channels <= 0 || info.channels > 64) {
		st = vagent__error_set(err, info.channels <= 0 ? VAGENT_EFORMAT : VAGENT_EUNSUPPORTED,
				       path, "%d channels", info.channels);
		goto done;
	}

	a = vagent_audio_new(info.samplerate, info.channels, 0);
	if (!a)
		goto nomem;
	a->encoding = encoding_from_sf(info.format);
	a->container = container_from_sf(info.format);
	fi.format = info.format & SF_FORMAT_TYPEMASK;
	if (!sf_command(NULL, SFC_GET_FORMAT_INFO, &fi, sizeof(fi)) && fi.name)
		snprintf(a->format_name, sizeof(a->format_name), "%s", fi.name);

	/*
	 * Integer encodings up to 32 bits are read as left-justified int32 and
	 * scaled by 2^-31 here: exact for <= 24 bits and symmetric with save()
	 * (libsndfile's own float conversion writes with 0x7FFF but reads with
	 * 0x8000, which would change every sample on a round trip).
	 */
	as_float = a->encoding == VAGENT_ENC_FLOAT || a->encoding == VAGENT_ENC_DOUBLE ||
		   a->encoding == VAGENT_ENC_OPUS || a->encoding == VAGENT_ENC_OTHER;
	if (!as_float) {
		ibuf = malloc(sizeof(int) * READ_CHUNK * (size_t)info.channels);
		if (!ibuf)
			goto nomem;
	}
	for (;;) {
		sf_count_t got;
		float *dst;

		if (vagent__audio_reserve(a, a->frames + READ_CHUNK))
			goto nomem;
		dst = a->samples + a->frames * (size_t)a->channels;
		if (as_float) {
			got = sf_readf_float(sf, dst, READ_CHUNK);
		} else {
			got = sf_readf_int(sf, ibuf, READ_CHUNK);
			for (sf_count_t i = 0; i < got * info.channels; i++)
				dst[i] = (float)((double)ibuf[i] * (1.0 / 2147483648.0));
		}
		if (got <= 0)
			break;
		a->frames += (size_t)got;
	}
	if (sf_error(sf)) {
		st = vagent__error_set(err, VAGENT_EFORMAT, path, "%s", sf_strerror(sf));
		goto done;
	}
	if (wi->data_missing && wi->bits && wi->channels) {
		snprintf(a->warning, sizeof(a->warning),
			 "%s: data chunk claims %llu bytes but the file ends %llu bytes short; read the %zu frames present",
			 path, (unsigned long long)wi->data_size,
			 (unsigned long long)wi->data_missing, a->frames);
	}
	*out = a;
	a = NULL;
	goto done;
nomem:
	st = vagent__error_set(err, VAGENT_ENOMEM, path, "out of memory");
done:
	if (sf)
		sf_close(sf);
	free(ibuf);
	free(mem.data);
	vagent_audio_free(a);
	return st;
}

static vagent_status opus_error(const char *path, int e, struct vagent_error *err)
{
	switch (e) {
	case OP_EREAD:
		return vagent__error_set(err, VAGENT_EIO, path, "read error");
	case OP_EFAULT:
		return vagent__error_set(err, VAGENT_ENOMEM, path, "out of memory (opusfile)");
	case OP_EIMPL:
		return vagent__error_set(err, VAGENT_EUNSUPPORTED, path,
					 "Ogg Opus feature not implemented by libopusfile");
	case OP_EVERSION:
		return vagent__error_set(err, VAGENT_EUNSUPPORTED, path,
					 "unsupported Ogg Opus version");
	case OP_ENOTFORMAT:
		/* We only come here for files that start with OggS + OpusHead. */
		return vagent__error_set(err, VAGENT_EFORMAT, path,
					 "truncated, damaged or unsupported Ogg Opus headers");
	case OP_EBADHEADER:
		return vagent__error_set(err, VAGENT_EFORMAT, path, "bad OpusHead/OpusTags header");
	case OP_EBADPACKET:
		return vagent__error_set(err, VAGENT_EFORMAT, path, "corrupt Opus packet");
	case OP_EBADTIMESTAMP:
		return vagent__error_set(err, VAGENT_EFORMAT, path, "invalid Ogg granule position");
	case OP_EBADLINK:
		return vagent__error_set(err, VAGENT_EFORMAT, path, "corrupt Ogg stream link");
	}
	return vagent__error_set(err, VAGENT_EFORMAT, path, "Ogg Opus error %d", e);
}

/* Does the last Ogg page of the file carry the end-of-stream flag? A file
 * cut short (crashed recorder, partial download) has none. */
static bool ogg_has_eos(const char *path)
{
	unsigned char buf[65536 + 27];
	FILE *fp = fopen(path, "rb");
	long size, start;
	size_t n;
	bool eos = false;

	if (!fp)
		return true;  /* cannot tell: do not warn */
	if (fseek(fp, 0, SEEK_END) || (size = ftell(fp)) < 0) {
		fclose(fp);
		return true;
	}
	start = size > (long)sizeof(buf) ? size - (long)sizeof(buf) : 0;
	n = fseek(fp, start, SEEK_SET) ? 0 : fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	for (size_t i = n >= 27 ? n - 27 + 1 : 0; i-- > 0;) {
		if (!memcmp(buf + i, "OggS", 4) && buf[i + 4] == 0) {
			eos = (buf[i + 5] & 0x04) != 0;
			break;
		}
	}
	return eos;
}

static vagent_status load_opus(const char *path, struct vagent_audio **out,
			       struct vagent_error *err)
{
	OggOpusFile *of = NULL;
	struct vagent_audio *a = NULL;
	const OpusHead *head;
	vagent_status st = VAGENT_OK;
	int e = 0, channels;
	bool stereo_downmix;
	long holes = 0;

	of = op_open_file(path, &e);
	if (!of) {
		st = opus_error(path, e, err);
		goto done;
	}
	head = op_head(of, -1);
	/* Chained streams may change channel count: fold everything to stereo
	 * then, and multichannel too, with libopusfile's downmix. */
	stereo_downmix = op_link_count(of) > 1 || head->channel_count > 2;
	channels = stereo_downmix ? 2 : head->channel_count;
	a = vagent_audio_new(48000, channels, 0);
	if (!a)
		goto nomem;
	a->container = VAGENT_CONTAINER_OGG;
	a->encoding = VAGENT_ENC_OPUS;
	a->source_channels = head->channel_count;
	/* 0 means "not stated"; so does a value no int holds (it printed as a
	 * negative rate). The field is informational: decoding is at 48 kHz. */
	a->source_rate = head->input_sample_rate && head->input_sample_rate <= INT_MAX ?
			 (int)head->input_sample_rate : 48000;
	snprintf(a->format_name, sizeof(a->format_name), "Ogg Opus");
	for (;;) {
		int got;

		if (vagent__audio_reserve(a, a->frames + 5760))
			goto nomem;
		if (stereo_downmix)
			got = op_read_float_stereo(of, a->samples + a->frames * 2, 5760 * 2);
		else
			got = op_read_float(of, a->samples + a->frames * (size_t)channels,
					    5760 * channels, NULL);
		if (got == OP_HOLE) {
			holes++;
			continue;
		}
		if (got < 0) {
			st = opus_error(path, got, err);
			goto done;
		}
		if (got == 0)
			break;
		a->frames += (size_t)got;
	}
	if (holes)
		snprintf(a->warning, sizeof(a->warning),
			 "%s: %ld gap%s in the Ogg stream (missing or corrupt pages) skipped",
			 path, holes, holes == 1 ? "" : "s");
	else if (!ogg_has_eos(path))
		snprintf(a->warning, sizeof(a->warning),
			 "%s: no end-of-stream page (file truncated?); read the %zu frames present",
			 path, a->frames);
	*out = a;
	a = NULL;
	goto done;
nomem:
	st = vagent__error_set(err, VAGENT_ENOMEM, path, "out of memory");
done:
	if (of)
		op_free(of);
	vagent_audio_free(a);
	return st;
}

vagent_status vagent_audio_load(const char *path, vagent_channel_select sel,
				struct vagent_audio **out,
				struct vagent_error *err)
{
	struct vagent__wav_info wi;
	struct vagent_audio *a = NULL, *b = NULL;
	unsigned char head[512];
	struct stat sb;
	size_t len;
	FILE *fp = NULL;
	vagent_status st;

	*out = NULL;
	memset(&wi, 0, sizeof(wi));
	fp = fopen(path, "rb");
	if (!fp) {
		st = vagent__error_open_input(err, errno, path);
		goto done;
	}
	if (fstat(fileno(fp), &sb)) {
		st = vagent__error_set(err, VAGENT_EIO, path, "cannot stat: %s", strerror(errno));
		goto done;
	}
	if (S_ISDIR(sb.st_mode)) {
		st = vagent__error_set(err, VAGENT_EFORMAT, path, "is a directory, not an audio file");
		goto done;
	}
	if (S_ISREG(sb.st_mode) && sb.st_size == 0) {
		st = vagent__error_set(err, VAGENT_EFORMAT, path, "empty file (0 bytes)");
		goto done;
	}
	len = fread(head, 1, sizeof(head), fp);
	if (is_ogg_opus(head, len)) {
		fclose(fp);
		fp = NULL;
		st = load_opus(path, &a, err);
	} else {
		if (S_ISREG(sb.st_mode)) {
			st = vagent__wav_probe(path, fp, (uint64_t)sb.st_size, &wi, err);
			if (st)
				goto done;
		}
		fclose(fp);
		fp = NULL;
		st = load_sndfile(path, &wi, &a, err);
	}
	if (st)
		goto done;
	if (sel != VAGENT_CHANNELS_ALL) {
		st = vagent_audio_select(a, sel, &b, err);
		if (st) {
			if (st == VAGENT_EINVAL)
				vagent__error_set(err, st, path,
						  "no right channel: the file is mono");
			goto done;
		}
		vagent_audio_free(a);
		a = b;
	}
	*out = a;
	a = NULL;
done:
	if (fp)
		fclose(fp);
	vagent_audio_free(a);
	return st;
}

/* ------------------------------------------------------------------------
 * Saving
 * ------------------------------------------------------------------------ */

struct vagent_audio_save_opts vagent_audio_save_opts_default(void)
{
	struct vagent_audio_save_opts o = {
		.container = VAGENT_CONTAINER_DEFAULT,
		.encoding = VAGENT_ENC_DEFAULT,
	};
	return o;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcasecmp(s + n - m, suffix);
}

static int sf_subtype(vagent_encoding enc)
{
	switch (enc) {
	case VAGENT_ENC_PCM_U8: return SF_FORMAT_PCM_U8;
	case VAGENT_ENC_PCM_S8: return SF_FORMAT_PCM_S8;
	case VAGENT_ENC_PCM16: return SF_FORMAT_PCM_16;
	case VAGENT_ENC_PCM24: return SF_FORMAT_PCM_24;
	case VAGENT_ENC_PCM32: return SF_FORMAT_PCM_32;
	case VAGENT_ENC_FLOAT: return SF_FORMAT_FLOAT;
	case VAGENT_ENC_DOUBLE: return SF_FORMAT_DOUBLE;
	case VAGENT_ENC_ULAW: return SF_FORMAT_ULAW;
	case VAGENT_ENC_ALAW: return SF_FORMAT_ALAW;
	case VAGENT_ENC_OPUS: return SF_FORMAT_OPUS;
	default: return 0;
	}
}

static vagent_status write_samples(SNDFILE *sf, const struct vagent_audio *a,
				   vagent_encoding enc)
{
	size_t ch = (size_t)a->channels, done = 0;
	int *ibuf = NULL;
	short *sbuf = NULL;
	vagent_status st = VAGENT_OK;

	if (enc == VAGENT_ENC_FLOAT || enc == VAGENT_ENC_DOUBLE || enc == VAGENT_ENC_OPUS) {
		if (a->frames && sf_writef_float(sf, a->samples, (sf_count_t)a->frames) !=
				 (sf_count_t)a->frames)
			st = VAGENT_EIO;
		goto done;
	}
	if (enc == VAGENT_ENC_ULAW || enc == VAGENT_ENC_ALAW) {
		/*
		 * Encode G.711 here and write the bytes raw: libsndfile's own
		 * encoder is the classic 16-bit variant, which differs from the
		 * reference (g711.c, sox, audioop) on 381 μ-law and 127 A-law
		 * negative inputs. This keeps files and vagent_ulaw_encode equal.
		 */
		unsigned char *bbuf = malloc(READ_CHUNK * ch);
		if (!bbuf) {
			st = VAGENT_ENOMEM;
			goto done;
		}
		while (done < a->frames) {
			size_t n = a->frames - done < READ_CHUNK ? a->frames - done : READ_CHUNK;
			const float *src = a->samples + done * ch;
			for (size_t i = 0; i < n * ch; i++) {
				int16_t s = vagent__f2s(src[i]);
				bbuf[i] = enc == VAGENT_ENC_ULAW ? vagent_ulaw_encode(s)
							       : vagent_alaw_encode(s);
			}
			if (sf_write_raw(sf, bbuf, (sf_count_t)(n * ch)) != (sf_count_t)(n * ch)) {
				st = VAGENT_EIO;
				break;
			}
			done += n;
		}
		free(bbuf);
		goto done;
	}
	if (enc == VAGENT_ENC_PCM24 || enc == VAGENT_ENC_PCM32) {
		ibuf = malloc(sizeof(*ibuf) * READ_CHUNK * ch);
		if (!ibuf) {
			st = VAGENT_ENOMEM;
			goto done;
		}
	} else {
		sbuf = malloc(sizeof(*sbuf) * READ_CHUNK * ch);
		if (!sbuf) {
			st = VAGENT_ENOMEM;
			goto done;
		}
	}
	while (done < a->frames) {
		size_t n = a->frames - done < READ_CHUNK ? a->frames - done : READ_CHUNK;
		const float *src = a->samples + done * ch;
		sf_count_t put;

		if (ibuf) {
			/* PCM24 keeps 24 bits; PCM32 gets float's 24-bit precision too. */
			double scale = enc == VAGENT_ENC_PCM24 ? 8388608.0 : 2147483648.0;
			double hi = enc == VAGENT_ENC_PCM24 ? 8388607.0 : 2147483647.0;
			for (size_t i = 0; i < n * ch; i++) {
				double v = (double)src[i] * scale;
				long long q;
				if (!(v > -scale))
					v = v != v ? 0 : -scale;
				if (v > hi)
					v = hi;
				q = llrint(v);
				ibuf[i] = enc == VAGENT_ENC_PCM24 ? (int)(q * 256) : (int)q;
			}
			put = sf_writef_int(sf, ibuf, (sf_count_t)n);
		} else {
			for (size_t i = 0; i < n * ch; i++)
				sbuf[i] = vagent__f2s(src[i]);
			put = sf_writef_short(sf, sbuf, (sf_count_t)n);
		}
		if (put != (sf_count_t)n) {
			st = VAGENT_EIO;
			goto done;
		}
		done += n;
	}
done:
	free(ibuf);
	free(sbuf);
	return st;
}

vagent_status vagent_audio_save(const struct vagent_audio *a, const char *path,
				const struct vagent_audio_save_opts *opts,
				struct vagent_error *err)
{
	struct vagent_audio_save_opts o = opts ? *opts : vagent_audio_save_opts_default();
	SF_INFO info;
	SNDFILE *sf = NULL;
	vagent_status st = VAGENT_OK;
	bool created = false;

	if (o.container == VAGENT_CONTAINER_DEFAULT) {
		if (has_suffix(path, ".flac"))
			o.container = VAGENT_CONTAINER_FLAC;
		else if (has_suffix(path, ".opus") || has_suffix(path, ".ogg"))
			o.container = VAGENT_CONTAINER_OGG;
		else
			o.container = VAGENT_CONTAINER_WAV;
	}
	if (o.encoding == VAGENT_ENC_DEFAULT)
		o.encoding = o.container == VAGENT_CONTAINER_OGG ? VAGENT_ENC_OPUS : VAGENT_ENC_PCM16;

	memset(&info, 0, sizeof(info));
	info.samplerate = a->rate;
	info.channels = a->channels;
	switch (o.container) {
	case VAGENT_CONTAINER_WAV:
		if (o.encoding == VAGENT_ENC_OPUS || o.encoding == VAGENT_ENC_PCM_S8 ||
		    !sf_subtype(o.encoding))
			goto unsupported;
		info.format = SF_FORMAT_WAV | sf_subtype(o.encoding);
		break;
	case VAGENT_CONTAINER_FLAC:
		if (o.encoding != VAGENT_ENC_PCM16 && o.encoding != VAGENT_ENC_PCM24 &&
		    o.encoding != VAGENT_ENC_PCM_S8)
			goto unsupported;
		info.format = SF_FORMAT_FLAC | sf_subtype(o.encoding);
		break;
	case VAGENT_CONTAINER_OGG:
		if (o.encoding != VAGENT_ENC_OPUS)
			goto unsupported;
		if (a->rate != 8000 && a->rate != 12000 && a->rate != 16000 &&
		    a->rate != 24000 && a->rate != 48000)
			return vagent__error_set(err, VAGENT_EUNSUPPORTED, path,
						 "Ogg Opus needs a rate of 8, 12, 16, 24 or 48 kHz (got %d Hz)",
						 a->rate);
		info.format = SF_FORMAT_OGG | SF_FORMAT_OPUS;
		break;
	default:
		goto unsupported;
	}
	if (!sf_format_check(&info))
		return vagent__error_set(err, VAGENT_EUNSUPPORTED, path,
					 "cannot write %s in %s with %d channels at %d Hz",
					 vagent_encoding_name(o.encoding),
					 vagent_container_name(o.container), a->channels, a->rate);

	errno = 0;
	sf = sf_open(path, SFM_WRITE, &info);
	if (!sf) {
		/* libsndfile's text for a failed open() is "System error : ...";
		 * the system's own reason reads better. */
		int e = errno;
		st = vagent__error_set(err, VAGENT_EIO, path, "cannot write: %s",
				       sf_error(NULL) == SF_ERR_SYSTEM && e ? strerror(e)
									   : sf_strerror(NULL));
		goto done;
	}
	created = true;
	st = write_samples(sf, a, o.encoding);
	if (st == VAGENT_ENOMEM) {
		vagent__error_set(err, st, path, "out of memory");
		goto done;
	}
	if (st) {
		vagent__error_set(err, st, path, "write failed: %s", sf_strerror(sf));
		goto done;
	}
done:
	if (sf && sf_close(sf) && !st)
		st = vagent__error_set(err, VAGENT_EIO, path, "write failed on close");
	if (st && created)
		unlink(path);  /* never leave a half-written file behind */
	return st;
unsupported:
	return vagent__error_set(err, VAGENT_EUNSUPPORTED, path,
				 "cannot write %s encoding in a %s file",
				 vagent_encoding_name(o.encoding), vagent_container_name(o.container));
}
