/*
 * vagent.h — the public API of libvagent, the library behind the `vagent`
 * command. This is the only header the command-line tool (cmd/) includes.
 *
 * Conventions: names read vagent_<object>_<verb>; heap objects have _new and
 * _free (and _free(NULL) does nothing); functions that can fail return a
 * vagent_status and take an optional trailing `struct vagent_error *err`
 * that receives a one-line, user-facing message naming the file or provider
 * at fault. The library never prints and never exits.
 */
#ifndef VAGENT_H
#define VAGENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Status codes and errors
 * ------------------------------------------------------------------------ */

/*
 * X(NAME, value, exit_code, message). Zero and positive values are expected
 * outcomes (end of stream, flushing); negative values are errors. exit_code
 * is what `vagent` exits with when a command fails with that status
 * (DESIGN.md §2: 2 = usage error or invalid input, 3 = infrastructure).
 */
#define VAGENT_STATUS_MAP(X)                                                  \
	X(OK,           0,  0, "success")                                     \
	X(EOS,          1,  0, "end of stream")                               \
	X(FLUSHING,     2,  0, "flushing")                                    \
	X(EINVAL,      -1,  2, "invalid argument")                            \
	X(ENOENT,      -2,  2, "no such file")                                \
	X(EFORMAT,     -3,  2, "malformed input")                             \
	X(EUNSUPPORTED,-4,  2, "unsupported format")                          \
	X(ENOMEM,      -5,  3, "out of memory")                               \
	X(EIO,         -6,  3, "input/output error")                          \
	X(ETIMEOUT,    -7,  3, "timed out")                                   \
	X(EPROTO,      -8,  3, "protocol error")                              \
	X(EPROVIDER,   -9,  3, "provider error")                              \
	X(EAUTH,      -10,  3, "authentication failed")                       \
	X(EDEVICE,    -11,  3, "audio device error")                          \
	X(EINTERNAL,  -12,  3, "internal error")

typedef enum vagent_status {
#define VAGENT__STATUS_ENUM(name, val, exit_code, msg) VAGENT_##name = (val),
	VAGENT_STATUS_MAP(VAGENT__STATUS_ENUM)
#undef VAGENT__STATUS_ENUM
} vagent_status;

/* A short, static description of a status ("no such file"). Never NULL. */
const char *vagent_strerror(vagent_status st);

/* The symbolic name of a status ("ENOENT"). Never NULL. */
const char *vagent_status_name(vagent_status st);

/* The process exit code a command should use when it fails with `st`:
 * 0 for expected outcomes, 2 for bad input, 3 for infrastructure. */
int vagent_status_exit_code(vagent_status st);

/*
 * Detail about a failure, filled in by the function that failed. `message`
 * is one line, ready to print after "vagent: ", and already names the file
 * or provider ("calls/a.wav: truncated data chunk").
 */
struct vagent_error {
	vagent_status status;
	int http_status;          /* for provider errors, else 0 */
	char message[512];
};

/* Reset `err` (may be NULL) to VAGENT_OK with an empty message. */
void vagent_error_clear(struct vagent_error *err);

/* Library version string ("0.1.0"). */
const char *vagent_version(void);

/* One line listing the versions of the libraries vagent links
 * ("libsndfile-1.2.0, libopus 1.3.1, ..."). Static storage. */
const char *vagent_linked_versions(void);

/* ------------------------------------------------------------------------
 * Audio: frames, files, codecs, resampling, DSP   (lib/audio/)
 * ------------------------------------------------------------------------ */

/* @@AUDIO@@ — the audio module's declarations go here. */

/* ------------------------------------------------------------------------
 * Word error rate   (lib/wer/)
 * ------------------------------------------------------------------------ */

/* @@WER@@ — the WER module's declarations go here. */

/*
 * Word (and character) error rate with NIST sclite's alignment: a
 * Levenshtein alignment with costs correct 0, substitution 4, insertion 3,
 * deletion 3 and sclite's tie-break order, so S/D/I agree with sclite for
 * the same tokens. Corpus WER = (S + D + I) / reference words.
 * See docs/wer.md and docs/normalizers.md.
 */

/* Text normalizers applied to both sides before tokenizing. */
typedef enum vagent_text_normalizer {
	VAGENT_NORMALIZE_NONE = 0,   /* tokens as given (split on whitespace) */
	VAGENT_NORMALIZE_BASIC,      /* case fold, punctuation stripped */
	VAGENT_NORMALIZE_ENGLISH,    /* basic + numbers, contractions, fillers */
} vagent_text_normalizer;

/* The normalizer called `name` ("none", "basic", "english"). Returns
 * VAGENT_OK, or VAGENT_EINVAL for an unknown name. */
vagent_status vagent_text_normalizer_from_name(const char *name,
					       vagent_text_normalizer *out);

/* The name of a normalizer ("basic"). Static storage, never NULL. */
const char *vagent_text_normalizer_name(vagent_text_normalizer n);

/*
 * Normalize UTF-8 `text` with normalizer `n`. The result is a string of
 * tokens separated by single spaces, without leading or trailing space.
 * Returns a malloc'd string (transfer full; free() it), or NULL when out
 * of memory. Invalid UTF-8 sequences are passed through unchanged.
 */
char *vagent_text_normalize(const char *text, vagent_text_normalizer n);

/* Transcript file formats. */
typedef enum vagent_transcript_format {
	VAGENT_TRANSCRIPT_AUTO = 0,  /* detect per file (docs/wer.md) */
	VAGENT_TRANSCRIPT_TRN,       /* sclite trn: "text (utt-id)" per line */
	VAGENT_TRANSCRIPT_LINES,     /* one utterance per line, id = line number */
	VAGENT_TRANSCRIPT_JSON,      /* JSON (shapes in docs/wer.md) */
} vagent_transcript_format;

/* Parse "auto", "trn", "lines" or "json"; VAGENT_EINVAL if unknown. */
vagent_status vagent_transcript_format_from_name(const char *name,
						 vagent_transcript_format *out);

/* The name of a format ("trn"). Static storage, never NULL. */
const char *vagent_transcript_format_name(vagent_transcript_format f);

/* One utterance of a transcript. Strings are owned by the transcript. */
struct vagent_utterance {
	const char *id;     /* utterance id (line number for the lines format) */
	const char *text;   /* raw text, as in the file, without the id */
	size_t line;        /* 1-based line where it appears in the file */
};

/* A set of utterances in file order, with unique ids. */
struct vagent_transcript {
	char *name;                      /* file name used in messages */
	vagent_transcript_format format; /* the format actually parsed */
	size_t count;
	struct vagent_utterance *utts;
	/* private */
	struct vagent__arena *arena;
};

/*
 * Parse a transcript from `len` bytes of `data` (need not be
 * NUL-terminated). `name` is used in error messages ("ref.trn:3: ...").
 * With VAGENT_TRANSCRIPT_AUTO the format is detected. On success stores
 * a new transcript in *out (transfer full; free with
 * vagent_transcript_free()). Errors: VAGENT_EFORMAT for malformed input
 * (bad trn line, invalid JSON, invalid UTF-8, duplicate ids), with a
 * one-line message "NAME:LINE: problem" in err; VAGENT_ENOMEM.
 */
vagent_status vagent_transcript_parse(const char *data, size_t len,
				      const char *name,
				      vagent_transcript_format format,
				      struct vagent_transcript **out,
				      struct vagent_error *err);

/* Read and parse the file at `path` (see vagent_transcript_parse()).
 * A missing or unreadable file is VAGENT_ENOENT; a read failure
 * VAGENT_EIO. */
vagent_status vagent_transcript_load(const char *path,
				     vagent_transcript_format format,
				     struct vagent_transcript **out,
				     struct vagent_error *err);

void vagent_transcript_free(struct vagent_transcript *t);

/* Error counts. For --cer the units are characters, else words. */
struct vagent_wer_counts {
	size_t cor, sub, del, ins;
	size_t ref_words;   /* N = cor + sub + del */
	size_t hyp_words;   /* cor + sub + ins */
};

/* (sub + del + ins) / ref_words. With no reference words it is 0 when
 * there are no errors and 1.0 otherwise. */
double vagent_wer_rate(const struct vagent_wer_counts *c);

/* One step of an alignment; ref/hyp index the utterance's tokens, -1 for
 * the gap side of an insertion or deletion. */
struct vagent_wer_edit {
	char op;            /* 'C', 'S', 'D' or 'I' */
	int ref, hyp;
};

/* The scored pair for one reference utterance. */
struct vagent_wer_utt {
	const char *id;
	size_t ref_line, hyp_line;    /* 0 when that side is absent */
	bool hyp_missing;             /* no hypothesis: all deletions */
	struct vagent_wer_counts counts;
	size_t n_ref, n_hyp;          /* tokens after normalization */
	const char *const *ref_tokens;
	const char *const *hyp_tokens;
	size_t n_edits;
	const struct vagent_wer_edit *edits;  /* in order, ref/hyp ascending */
};

struct vagent_wer_options {
	vagent_text_normalizer normalizer;  /* default BASIC */
	bool cer;             /* characters (spaces excluded) instead of words */
};

/* Initialise options to the defaults (normalizer basic, words). */
void vagent_wer_options_default(struct vagent_wer_options *o);

/* The result of scoring a hypothesis transcript against a reference. */
struct vagent_wer_result {
	struct vagent_wer_counts total;
	vagent_text_normalizer normalizer;
	bool cer;
	size_t n_utts;                 /* one per reference utterance, in order */
	struct vagent_wer_utt *utts;
	size_t n_missing;              /* reference ids with no hypothesis */
	const char **missing_ids;      /* (counted as deletions) */
	size_t n_extra;                /* hypothesis ids with no reference */
	const char **extra_ids;        /* (reported, not counted) */
	/* private */
	struct vagent__arena *arena;
};

/*
 * Score `hyp` against `ref`, matching utterances by id. Every reference
 * utterance is scored (a missing hypothesis counts as all deletions);
 * hypothesis utterances with no reference are listed in extra_ids and not
 * counted. opts may be NULL for the defaults. On success stores a new
 * result in *out (transfer full; free with vagent_wer_result_free()).
 * Errors: VAGENT_ENOMEM.
 */
vagent_status vagent_wer_score(const struct vagent_transcript *ref,
			       const struct vagent_transcript *hyp,
			       const struct vagent_wer_options *opts,
			       struct vagent_wer_result **out,
			       struct vagent_error *err);

void vagent_wer_result_free(struct vagent_wer_result *r);

/*
 * Align one reference text with one hypothesis text (normalized with
 * opts, NULL for defaults) and return the counts. For per-turn WER
 * without building transcripts. Errors: VAGENT_ENOMEM.
 */
vagent_status vagent_wer_align_text(const char *ref, const char *hyp,
				    const struct vagent_wer_options *opts,
				    struct vagent_wer_counts *out,
				    struct vagent_error *err);

/*
 * Render an utterance's alignment in sclite's style: three lines
 * "REF:  ...", "HYP:  ...", "Eval: ..." with columns padded to equal
 * width, errors in upper case (ASCII letters) and '*' filling the gap
 * side. Returns a malloc'd string ending in '\n' (transfer full), or NULL
 * when out of memory.
 */
char *vagent_wer_utt_format_alignment(const struct vagent_wer_utt *u);

/*
 * The result as JSON text (docs/wer.md): {"wer": {...}, "utterances":
 * [...], "missing": [...], "extra": [...], ...}. With `with_alignment`
 * each utterance carries its aligned token pairs. Returns a malloc'd,
 * NUL-terminated string (transfer full), or NULL when out of memory.
 */
char *vagent_wer_result_to_json(const struct vagent_wer_result *r,
				bool with_alignment);

#ifdef __cplusplus
}
#endif
#endif /* VAGENT_H */
