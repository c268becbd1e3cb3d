/*
 * stt_flite.c — bench helper for bench_stt.sh: speaks every utterance of
 * an sclite trn file with a flite voice (rms, awb, kal16) and writes
 * OUTDIR/ID.wav at 16 kHz PCM16 or 8 kHz mu-law (telephone audio), so the
 * recogniser can be scored on it with `vagent transcribe` + `vagent wer`.
 *
 *   stt_flite VOICE 16000|8000 REF.trn OUTDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flite/flite.h>

#include "vagent.h"

cst_voice *register_cmu_us_rms(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);
cst_voice *register_cmu_us_kal16(const char *voxdir);

int main(int argc, char **argv)
{
	cst_voice *voice;
	FILE *f;
	char line[1024];
	int rate, n = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: stt_flite VOICE 16000|8000 REF.trn OUTDIR\n");
		return 2;
	}
	rate = atoi(argv[2]);
	flite_init();
	if (!strcmp(argv[1], "rms"))
		voice = register_cmu_us_rms(NULL);
	else if (!strcmp(argv[1], "awb"))
		voice = register_cmu_us_awb(NULL);
	else if (!strcmp(argv[1], "kal16"))
		voice = register_cmu_us_kal16(NULL);
	else {
		fprintf(stderr, "stt_flite: unknown voice %s\n", argv[1]);
		return 2;
	}
	if (!(f = fopen(argv[3], "r"))) {
		perror(argv[3]);
		return 2;
	}
	while (fgets(line, sizeof(line), f)) {
		char *open = strrchr(line, '('), *close, path[2048];
		struct vagent_audio *a, *r = NULL;
		struct vagent_audio_save_opts so = vagent_audio_save_opts_default();
		struct vagent_error err;
		cst_wave *w;

		if (!open || !(close = strchr(open, ')')))
			continue;
		*close = '\0';
		*open = '\0';
		w = flite_text_to_wave(line, voice);
		if (!w)
			return 3;
		a = vagent_audio_new(w->sample_rate, 1, (size_t)w->num_samples);
		if (!a)
			return 3;
		for (int i = 0; i < w->num_samples; i++)
			a->samples[i] = (float)w->samples[i] / 32768.0f;
		delete_wave(w);
		if (a->rate != rate &&
		    vagent_audio_resample(a, rate, 7, &r, &err) != VAGENT_OK) {
			fprintf(stderr, "stt_flite: %s\n", err.message);
			return 3;
		}
		if (rate == 8000)
			so.encoding = VAGENT_ENC_ULAW;
		snprintf(path, sizeof(path), "%s/%s.wav", argv[4], open + 1);
		if (vagent_audio_save(r ? r : a, path, &so, &err) != VAGENT_OK) {
			fprintf(stderr, "stt_flite: %s\n", err.message);
			return 3;
		}
		vagent_audio_free(r);
		vagent_audio_free(a);
		n++;
	}
	fclose(f);
	return n ? 0 : 2;
}
