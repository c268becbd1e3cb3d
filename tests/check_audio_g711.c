/*
 * check_audio_g711.c — G.711 μ-law / A-law against an independent
 * transcription of the reference pseudo-code (audio-formats.md §2-3) on all
 * 65 536 inputs and all 256 codes, the document's vectors, and sox.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/harness.h"

/* ---- the pseudo-code, transcribed line by line (deliberately not the
 * library's code shape: floor division, a table-driven segment search) */

static int ref_floor_div(int a, int b)
{
	int q = a / b;
	return (a % b != 0 && a < 0) ? q - 1 : q;
}

static unsigned ref_ulaw_encode(int pcm16)
{
	static const int seg_end[8] = { 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF };
	int x = ref_floor_div(pcm16, 4);   /* "x = pcm16 >> 2" */
	unsigned mask;
	int seg = 0;

	if (x < 0) {
		x = -x;
		mask = 0x7F;
	} else {
		mask = 0xFF;
	}
	if (x > 8159)
		x = 8159;
	x += 0x84 >> 2;
	while (seg < 8 && !(x <= seg_end[seg]))
		seg++;
	if (seg == 8)      /* past the last segment end: the table's 32767 → 0x80 */
		return 0x7F ^ mask;
	return (((unsigned)seg << 4) | (((unsigned)x >> (seg + 1)) & 0x0F)) ^ mask;
}

static int ref_ulaw_decode(unsigned code)
{
	unsigned u = ~code & 0xFF;
	int t = (int)(((u & 0x0F) << 3) + 0x84);

	t <<= (u & 0x70) >> 4;
	return (u & 0x80) ? (0x84 - t) : (t - 0x84);
}

static unsigned ref_alaw_encode(int pcm16)
{
	static const int seg_end[8] = { 0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF };
	int x = ref_floor_div(pcm16, 8);   /* "x = pcm16 >> 3" */
	unsigned mask, a;
	int seg = 0;

	if (x >= 0) {
		mask = 0xD5;
	} else {
		mask = 0x55;
		x = -x - 1;
	}
	while (seg < 8 && !(x <= seg_end[seg]))
		seg++;
	if (seg == 8)
		return 0x7F ^ mask;
	a = (unsigned)seg << 4;
	if (seg < 2)
		a |= ((unsigned)x >> 1) & 0x0F;
	else
		a |= ((unsigned)x >> seg) & 0x0F;
	return a ^ mask;
}

static int ref_alaw_decode(unsigned code)
{
	unsigned a = code ^ 0x55;
	int t = (int)((a & 0x0F) << 4);
	int seg = (int)((a & 0x70) >> 4);

	if (seg == 0)
		t += 8;
	else if (seg == 1)
		t += 0x108;
	else
		t = (t + 0x108) << (seg - 1);
	return (a & 0x80) ? t : -t;
}

START_TEST(test_encode_all_inputs_against_reference)
{
	int bad_u = 0, bad_a = 0;

	for (int x = -32768; x <= 32767; x++) {
		bad_u += vagent_ulaw_encode((int16_t)x) != ref_ulaw_encode(x);
		bad_a += vagent_alaw_encode((int16_t)x) != ref_alaw_encode(x);
	}
	ck_assert_int_eq(bad_u, 0);
	ck_assert_int_eq(bad_a, 0);
}
END_TEST

START_TEST(test_decode_all_codes)
{
	for (unsigned c = 0; c < 256; c++) {
		ck_assert_int_eq(vagent_ulaw_decode((uint8_t)c), ref_ulaw_decode(c));
		ck_assert_int_eq(vagent_alaw_decode((uint8_t)c), ref_alaw_decode(c));
		/* Sign symmetry: flipping the sign bit negates. */
		ck_assert_int_eq(vagent_ulaw_decode((uint8_t)c), -vagent_ulaw_decode((uint8_t)(c ^ 0x80)));
		ck_assert_int_eq(vagent_alaw_decode((uint8_t)c), -vagent_alaw_decode((uint8_t)(c ^ 0x80)));
		/* Decoding then encoding gives the code back (but μ-law's
		 * negative zero 0x7F comes back as 0xFF). */
		ck_assert_int_eq(vagent_ulaw_encode(vagent_ulaw_decode((uint8_t)c)), c == 0x7F ? 0xFF : c);
		ck_assert_int_eq(vagent_alaw_encode(vagent_alaw_decode((uint8_t)c)), c);
	}
}
END_TEST

START_TEST(test_document_vectors)
{
	static const struct { int pcm; unsigned u, a; } enc[] = {
		{ 0, 0xFF, 0xD5 }, { 1, 0xFF, 0xD5 }, { -1, 0x7E, 0x55 },
		{ 100, 0xF2, 0xD3 }, { -100, 0x72, 0x53 }, { 1000, 0xCE, 0xFA },
		{ -1000, 0x4E, 0x7A }, { 8000, 0xA0, 0x8A }, { -8000, 0x20, 0x0A },
		{ 32767, 0x80, 0xAA }, { -32768, 0x00, 0x2A },
	};
	static const struct { unsigned code; int pcm; } udec[] = {
		{ 0xFF, 0 }, { 0x7F, 0 }, { 0x80, 32124 }, { 0x00, -32124 },
		{ 0x8F, 16764 }, { 0x0F, -16764 },
	}, adec[] = {
		{ 0xD5, 8 }, { 0x55, -8 }, { 0xAA, 32256 }, { 0x2A, -32256 },
		{ 0x80, 5504 }, { 0x00, -5504 },
	};

	for (size_t i = 0; i < sizeof(enc) / sizeof(enc[0]); i++) {
		ck_assert_int_eq(vagent_ulaw_encode((int16_t)enc[i].pcm), enc[i].u);
		ck_assert_int_eq(vagent_alaw_encode((int16_t)enc[i].pcm), enc[i].a);
	}
	for (size_t i = 0; i < sizeof(udec) / sizeof(udec[0]); i++) {
		ck_assert_int_eq(vagent_ulaw_decode((uint8_t)udec[i].code), udec[i].pcm);
		ck_assert_int_eq(vagent_alaw_decode((uint8_t)adec[i].code), adec[i].pcm);
	}
}
END_TEST

START_TEST(test_buffer_functions)
{
	int16_t pcm[512], back[512];
	uint8_t codes[512];

	for (int i = 0; i < 512; i++)
		pcm[i] = (int16_t)(i * 128 - 32768);
	vagent_ulaw_encode_buf(pcm, codes, 512);
	for (int i = 0; i < 512; i++)
		ck_assert_int_eq(codes[i], vagent_ulaw_encode(pcm[i]));
	vagent_ulaw_decode_buf(codes, back, 512);
	for (int i = 0; i < 512; i++)
		ck_assert_int_eq(back[i], vagent_ulaw_decode(codes[i]));
	vagent_alaw_encode_buf(pcm, codes, 512);
	for (int i = 0; i < 512; i++)
		ck_assert_int_eq(codes[i], vagent_alaw_encode(pcm[i]));
	vagent_alaw_decode_buf(codes, back, 512);
	for (int i = 0; i < 512; i++)
		ck_assert_int_eq(back[i], vagent_alaw_decode(codes[i]));
}
END_TEST

/* ---- cross-check with sox */

static void sox(const char *const *args)
{
	char *argv[32];
	struct run_result r;
	int n = 0;

	/* run_argv wants char *const[]: hand it writable copies. */
	argv[n++] = strdup("sox");
	while (*args && n < 31)
		argv[n++] = strdup(*args++);
	argv[n] = NULL;
	r = run_argv(argv, NULL);
	for (int i = 0; i < n; i++)
		free(argv[i]);
	ck_assert_msg(r.exit_code == 0, "sox failed (%d): %s", r.exit_code, r.err);
	run_result_free(&r);
}

/* The data chunk of a WAV file written by sox. */
static unsigned char *wav_data(const char *path, size_t *n)
{
	size_t len, pos = 12;
	unsigned char *buf = (unsigned char *)read_file(path, &len);

	ck_assert_ptr_nonnull(buf);
	while (pos + 8 <= len) {
		size_t sz = buf[pos + 4] | buf[pos + 5] << 8 | buf[pos + 6] << 16 |
			    (size_t)buf[pos + 7] << 24;
		if (!memcmp(buf + pos, "data", 4)) {
			unsigned char *d = malloc(sz);
			ck_assert_uint_le(pos + 8 + sz, len);
			memcpy(d, buf + pos + 8, sz);
			free(buf);
			*n = sz;
			return d;
		}
		pos += 8 + sz + (sz & 1);
	}
	ck_abort_msg("%s: no data chunk", path);
	return NULL;
}

/*
 * sox 14.4 feeds the reference encoder a sample rounded to 14 (μ-law) or
 * 13 (A-law) bits — SOX_SAMPLE_TO_UNSIGNED(14, ...) adds half an LSB — where
 * the reference truncates (x >> 2). With dither off (-D) that is the only
 * difference; with dither on (sox's default when lowering precision) sox
 * adds random TPDF noise and no exact comparison is possible.
 */
static int sox_rounded(int x, int bits)
{
	int shift = 16 - bits, max = (1 << (bits - 1)) - 1;
	int r = ref_floor_div(x + (1 << (shift - 1)), 1 << shift);

	return (r > max ? max : r) * (1 << shift);
}

/* True when no code of the law decodes strictly between v1 and v2. */
static bool adjacent_levels(int law, int v1, int v2)
{
	int lo = v1 < v2 ? v1 : v2, hi = v1 < v2 ? v2 : v1;

	if (lo == hi)
		return false;
	for (int c = 0; c < 256; c++) {
		int v = law ? vagent_alaw_decode((uint8_t)c) : vagent_ulaw_decode((uint8_t)c);
		if (v > lo && v < hi)
			return false;
	}
	return true;
}

START_TEST(test_encoders_against_sox)
{
	char in[4096], out[4096];
	static int16_t all[65536];
	unsigned char *d;
	size_t n;

	for (int i = 0; i < 65536; i++)
		all[i] = (int16_t)(i - 32768);
	snprintf(in, sizeof(in), "%s", temp_path("all.wav"));
	/* The input WAV is written by sox too, from raw bytes. */
	snprintf(out, sizeof(out), "%s", temp_path("all.s16"));
	write_file(out, all, sizeof(all));
	sox((const char *[]){ "-t", "raw", "-r", "8000", "-e", "signed", "-b", "16",
			      "-c", "1", "-L", out, in, NULL });

	for (int law = 0; law < 2; law++) {
		int differ = 0, model_differ = 0, aligned_differ = 0, far = 0;
		int bits = law ? 13 : 14, step = 1 << (16 - bits);

		snprintf(out, sizeof(out), "%s", temp_path(law ? "a.wav" : "u.wav"));
		sox((const char *[]){ "-D", in, "-e", law ? "a-law" : "u-law", out, NULL });
		d = wav_data(out, &n);
		ck_assert_uint_eq(n, 65536);
		for (int i = 0; i < 65536; i++) {
			int x = i - 32768;
			unsigned mine = law ? vagent_alaw_encode((int16_t)x) : vagent_ulaw_encode((int16_t)x);
			int xr = sox_rounded(x, bits);
			unsigned model = law ? vagent_alaw_encode((int16_t)xr) : vagent_ulaw_encode((int16_t)xr);

			if (d[i] != mine) {
				int dm = law ? vagent_alaw_decode((uint8_t)mine) : vagent_ulaw_decode((uint8_t)mine);
				int ds = law ? vagent_alaw_decode(d[i]) : vagent_ulaw_decode(d[i]);
				differ++;
				/* Only where rounding and truncation disagree ... */
				if (x % step == 0)
					aligned_differ++;
				/* ... and then by exactly one quantisation step, the
				 * neighbouring code. */
				if (!adjacent_levels(law, dm, ds))
					far++;
			}
			model_differ += d[i] != model;
		}
		/* Measured with sox 14.4.2: 508 μ-law and 1020 A-law inputs of
		 * 65 536 differ, all explained by the rounding above. */
		ck_assert_msg(model_differ == 0, "%s: %d codes not explained by sox's rounding",
			      law ? "A-law" : "μ-law", model_differ);
		ck_assert_int_eq(aligned_differ, 0);
		ck_assert_int_eq(far, 0);
		ck_assert_int_eq(differ, law ? 1020 : 508);
		free(d);
	}
}
END_TEST

START_TEST(test_decoders_against_sox)
{
	char in[4096], out[4096];
	uint8_t codes[256];
	size_t len;
	char *pcm;

	for (int c = 0; c < 256; c++)
		codes[c] = (uint8_t)c;
	for (int law = 0; law < 2; law++) {
		snprintf(in, sizeof(in), "%s", temp_path("codes.raw"));
		snprintf(out, sizeof(out), "%s", temp_path("pcm.s16"));
		write_file(in, codes, sizeof(codes));
		sox((const char *[]){ "-t", "raw", "-r", "8000", "-e", law ? "a-law" : "u-law",
				      "-b", "8", "-c", "1", in, "-t", "raw", "-e", "signed",
				      "-b", "16", "-L", out, NULL });
		pcm = read_file(out, &len);
		ck_assert_uint_eq(len, 512);
		for (int c = 0; c < 256; c++) {
			int16_t s;
			memcpy(&s, pcm + 2 * c, 2);
			ck_assert_int_eq(s, law ? vagent_alaw_decode((uint8_t)c) : vagent_ulaw_decode((uint8_t)c));
		}
		free(pcm);
	}
}
END_TEST

Suite *suite_audio_g711(void);
Suite *suite_audio_g711(void)
{
	Suite *s = suite_create("audio_g711");
	TCase *tc = tcase_create("reference");

	tcase_add_test(tc, test_encode_all_inputs_against_reference);
	tcase_add_test(tc, test_decode_all_codes);
	tcase_add_test(tc, test_document_vectors);
	tcase_add_test(tc, test_buffer_functions);
	suite_add_tcase(s, tc);

	tc = tcase_create("sox");
	tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_encoders_against_sox);
	tcase_add_test(tc, test_decoders_against_sox);
	suite_add_tcase(s, tc);
	return s;
}
