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

#ifdef __cplusplus
}
#endif
#endif /* VAGENT_H */
