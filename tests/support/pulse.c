/*
 * pulse.c — the private PulseAudio server of the device tests (pulse.h).
 *
 * pulseaudio runs in the foreground as a child (killed with the test
 * process through PR_SET_PDEATHSIG), with no default script: the modules
 * come from DIR/default.pa, the native protocol on DIR/run/native with
 * anonymous auth, no autospawn, no exit on idle. As root it only warns
 * ("not intended to be run as root") and runs. ALSA_CONFIG_PATH points at
 * DIR/asound.conf, which defines just "pulse" and "default" (type pulse),
 * so PortAudio lists exactly those two devices.
 *
 * Both devices are fifos. The rig's thread writes the mic's, one 20 ms
 * chunk per tick of the wall clock (the source plays at the pace it is
 * fed); the speaker's is clocked by the server (use_system_clock_for_timing)
 * and drained each tick. A null sink would do for the speaker, but it
 * renders in blocks of up to 2 s until a client asks for less, which stalls
 * the first stream for up to 2 s.
 */
#define _GNU_SOURCE  /* F_SETPIPE_SZ */
#include "support/pulse.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_MS 20
#define CHUNK_SAMPLES (PULSE_RATE * CHUNK_MS / 1000)
/* The mic's fifo: one page, 128 ms at 16 kHz, so what waits in it stays
 * short. The speaker's: 1 s, so that the server never finds it full when
 * the rig's thread is late on a loaded machine (it would drop audio). */
#define MIC_FIFO_BYTES 4096
#define SPEAKER_FIFO_BYTES 32768

bool pulse_tests_disabled(void)
{
	const char *v = getenv("VAGENT_NO_AUDIO_TESTS");
	return v && strcmp(v, "1") == 0;
}

static bool write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	if (!fp)
		return false;
	bool ok = fputs(text, fp) >= 0;
	return fclose(fp) == 0 && ok;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static bool socket_ready(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* `pactl unload-module MODULE`, quietly; true when it exits 0. */
static bool unload(const char *module)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return false;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execlp("pactl", "pactl", "unload-module", module, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Keep what the speaker played while capturing (lock held). */
static void keep_capture(struct pulse_server *ps, const int16_t *s, size_t n)
{
	if (!ps->capturing || n == 0)
		return;
	if (ps->cap_n + n > ps->cap_size) {
		size_t size = ps->cap_size ? ps->cap_size * 2 : PULSE_RATE * 4;
		while (size < ps->cap_n + n)
			size *= 2;
		int16_t *p = realloc(ps->cap, size * sizeof(*p));
		if (!p)
			return;
		ps->cap = p;
		ps->cap_size = size;
	}
	memcpy(ps->cap + ps->cap_n, s, n * sizeof(*s));
	ps->cap_n += n;
}

static void *clock_main(void *arg)
{
	struct pulse_server *ps = arg;
	int16_t mic[CHUNK_SAMPLES], speaker[CHUNK_SAMPLES];
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		/* The speaker, clocked by the server (use_system_clock_for_timing):
		 * take whatever it wrote (into the loop back to the mic when on). */
		for (;;) {
			ssize_t r = read(ps->speaker_fd, speaker, sizeof(speaker));
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 2)
				break;
			size_t got = (size_t)r / 2;
			pthread_mutex_lock(&ps->lock);
			keep_capture(ps, speaker, got);
			for (size_t i = 0; ps->loopback && i < got && ps->loop_n < PULSE_LOOP_MAX; i++)
				ps->loop[ps->loop_n++] = speaker[i];
			pthread_mutex_unlock(&ps->lock);
		}
		pthread_mutex_lock(&ps->lock);
		if (ps->stop) {
			pthread_mutex_unlock(&ps->lock);
			break;
		}
		size_t n = ps->feed_n - ps->feed_pos;
		if (n > CHUNK_SAMPLES)
			n = CHUNK_SAMPLES;
		if (n)
			memcpy(mic, ps->feed + ps->feed_pos, n * sizeof(*mic));
		memset(mic + n, 0, (CHUNK_SAMPLES - n) * sizeof(*mic));
		ps->feed_pos += n;
		size_t k = ps->loop_n < CHUNK_SAMPLES ? ps->loop_n : CHUNK_SAMPLES;
		for (size_t i = 0; i < k; i++) {
			int v = mic[i] + ps->loop[i];
			mic[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
		}
		memmove(ps->loop, ps->loop + k, (ps->loop_n - k) * sizeof(*ps->loop));
		ps->loop_n -= k;
		pthread_mutex_unlock(&ps->lock);

		/* Non-blocking (a chunk's write is atomic): while nobody records,
		 * PulseAudio stops reading the fifo and the chunk is lost, as a
		 * microphone's sound is when nobody listens; a gone module
		 * (EPIPE) is skipped. */
		ssize_t w;
		do
			w = write(ps->mic_fd, mic, sizeof(mic));
		while (w < 0 && errno == EINTR);

		/* Real time: one chunk each way every CHUNK_MS of wall time (a
		 * late tick is followed at once by the next). */
		next.tv_nsec += CHUNK_MS * 1000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	return NULL;
}

static int open_fifo(const char *dir, const char *name, int flags, int size)
{
	char path[700];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "pulse: %s: %s\n", path, strerror(errno));
	else
		fcntl(fd, F_SETPIPE_SZ, size);
	return fd;
}

bool pulse_start(struct pulse_server *ps, const char *dir)
{
	char path[700], script[2048], socket_path[700];

	memset(ps, 0, sizeof(*ps));
	ps->mic_fd = ps->speaker_fd = -1;
	snprintf(ps->dir, sizeof(ps->dir), "%s", dir);
	snprintf(path, sizeof(path), "%s/run", dir);
	mkdir(path, 0700);
	snprintf(socket_path, sizeof(socket_path), "%s/run/native", dir);

	snprintf(script, sizeof(script),
		 "load-module module-pipe-sink sink_name=vagent_speaker file=%s/speaker.fifo "
		 "format=s16le rate=%d channels=1 use_system_clock_for_timing=yes\n"
		 "load-module module-pipe-source source_name=vagent_mic file=%s/mic.fifo "
		 "format=s16le rate=%d channels=1\n"
		 "set-default-sink vagent_speaker\n"
		 "set-default-source vagent_mic\n"
		 /* last: clients can connect once everything is there */
		 "load-module module-native-protocol-unix auth-anonymous=1 socket=%s\n",
		 dir, PULSE_RATE, dir, PULSE_RATE, socket_path);
	snprintf(path, sizeof(path), "%s/default.pa", dir);
	char asound[700], client[700];
	snprintf(asound, sizeof(asound), "%s/asound.conf", dir);
	snprintf(client, sizeof(client), "%s/client.conf", dir);
	if (!write_text(path, script) ||
	    !write_text(asound, "pcm.!default { type pulse }\nctl.!default { type pulse }\n"
				"pcm.pulse { type pulse }\nctl.pulse { type pulse }\n") ||
	    !write_text(client, "autospawn = no\n")) {
		fprintf(stderr, "pulse: cannot write the rig's files in %s: %s\n", dir, strerror(errno));
		return false;
	}

	char server[760], runtime[700], state[700], cookie[700], log_target[760];
	snprintf(server, sizeof(server), "unix:%s", socket_path);
	snprintf(runtime, sizeof(runtime), "%s/run", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(cookie, sizeof(cookie), "%s/cookie", dir);
	snprintf(log_target, sizeof(log_target), "--log-target=file:%s/pulse.log", dir);
	setenv("PULSE_SERVER", server, 1);
	setenv("PULSE_RUNTIME_PATH", runtime, 1);
	setenv("PULSE_STATE_PATH", state, 1);
	setenv("PULSE_CLIENTCONFIG", client, 1);
	setenv("PULSE_COOKIE", cookie, 1);
	setenv("ALSA_CONFIG_PATH", asound, 1);
	setenv("JACK_NO_START_SERVER", "1", 1);

	pid_t parent = getpid();
	ps->daemon = fork();
	if (ps->daemon < 0) {
		fprintf(stderr, "pulse: fork: %s\n", strerror(errno));
		return false;
	}
	if (ps->daemon == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		setenv("HOME", dir, 1);  /* its cookie and state, not root's */
		execlp("pulseaudio", "pulseaudio", "-n", "-F", path, "--daemonize=no",
		       "--exit-idle-time=-1", "--use-pid-file=no", "--disable-shm=yes",
		       "--high-priority=no", "--realtime=no", "--system=no", log_target,
		       (char *)NULL);
		_exit(127);
	}
	/* Wait (bounded) for the socket to accept. */
	for (int i = 0; i < 1000 && !socket_ready(socket_path); i++) {
		int status;
		if (waitpid(ps->daemon, &status, WNOHANG) == ps->daemon) {
			fprintf(stderr, "pulse: pulseaudio exited (%s; see %s/pulse.log)\n",
				WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "not installed"
										  : "failed",
				dir);
			ps->daemon = 0;
			return false;
		}
		sleep_ms(10);
	}
	if (!socket_ready(socket_path)) {
		fprintf(stderr, "pulse: pulseaudio did not start in 10 s (see %s/pulse.log)\n", dir);
		pulse_stop(ps);
		return false;
	}
	signal(SIGPIPE, SIG_IGN);
	ps->mic_fd = open_fifo(dir, "mic.fifo", O_WRONLY, MIC_FIFO_BYTES);
	ps->speaker_fd = open_fifo(dir, "speaker.fifo", O_RDONLY, SPEAKER_FIFO_BYTES);
	pthread_mutex_init(&ps->lock, NULL);
	if (ps->mic_fd < 0 || ps->speaker_fd < 0 ||
	    pthread_create(&ps->clock, NULL, clock_main, ps) != 0) {
		pthread_mutex_destroy(&ps->lock);
		pulse_stop(ps);
		return false;
	}
	ps->clock_running = true;
	return true;
}

bool pulse_feed(struct pulse_server *ps, const int16_t *s, size_t n)
{
	pthread_mutex_lock(&ps->lock);
	size_t left = ps->feed_n - ps->feed_pos;
	int16_t *p = malloc((left + n + 1) * sizeof(*p));
	if (p) {
		if (left)
			memcpy(p, ps->feed + ps->feed_pos, left * sizeof(*p));
		memcpy(p + left, s, n * sizeof(*p));
		free(ps->feed);
		ps->feed = p;
		ps->feed_n = left + n;
		ps->feed_pos = 0;
	}
	pthread_mutex_unlock(&ps->lock);
	return p != NULL;
}

bool pulse_feed_done(struct pulse_server *ps)
{
	pthread_mutex_lock(&ps->lock);
	bool done = ps->feed_pos >= ps->feed_n;
	pthread_mutex_unlock(&ps->lock);
	return done;
}

void pulse_loopback(struct pulse_server *ps, bool on)
{
	pthread_mutex_lock(&ps->lock);
	ps->loopback = on;
	ps->loop_n = 0;
	pthread_mutex_unlock(&ps->lock);
}

bool pulse_capture_start(struct pulse_server *ps)
{
	pthread_mutex_lock(&ps->lock);
	ps->capturing = true;
	ps->cap_n = 0;
	pthread_mutex_unlock(&ps->lock);
	return true;
}

size_t pulse_capture_count(struct pulse_server *ps)
{
	pthread_mutex_lock(&ps->lock);
	size_t n = ps->cap_n;
	pthread_mutex_unlock(&ps->lock);
	return n;
}

int16_t *pulse_capture_stop(struct pulse_server *ps, size_t *n)
{
	pthread_mutex_lock(&ps->lock);
	int16_t *out = ps->cap;
	*n = ps->cap_n;
	ps->capturing = false;
	ps->cap = NULL;
	ps->cap_n = ps->cap_size = 0;
	pthread_mutex_unlock(&ps->lock);
	return out;
}

bool pulse_unload_source(struct pulse_server *ps)
{
	(void)ps;
	return unload("module-pipe-source");
}

bool pulse_unload_sink(struct pulse_server *ps)
{
	(void)ps;
	return unload("module-pipe-sink");
}

void pulse_stop(struct pulse_server *ps)
{
	if (ps->clock_running) {
		pthread_mutex_lock(&ps->lock);
		ps->stop = true;
		pthread_mutex_unlock(&ps->lock);
		pthread_join(ps->clock, NULL);
		ps->clock_running = false;
		pthread_mutex_destroy(&ps->lock);
	}
	if (ps->mic_fd >= 0)
		close(ps->mic_fd);
	if (ps->speaker_fd >= 0)
		close(ps->speaker_fd);
	ps->mic_fd = ps->speaker_fd = -1;
	if (ps->daemon > 0) {
		int status;
		kill(ps->daemon, SIGTERM);
		/* bounded: SIGKILL after 5 s */
		for (int i = 0; i < 500; i++) {
			if (waitpid(ps->daemon, &status, WNOHANG) != 0)
				break;
			sleep_ms(10);
		}
		if (waitpid(ps->daemon, &status, WNOHANG) == 0) {
			kill(ps->daemon, SIGKILL);
			waitpid(ps->daemon, &status, 0);
		}
		ps->daemon = 0;
	}
	free(ps->feed);
	free(ps->cap);
	ps->feed = ps->cap = NULL;
	ps->feed_n = ps->feed_pos = ps->cap_n = ps->cap_size = 0;
}

bool pulse_rig_start(struct pulse_server *ps, const char *dir)
{
	bool up = pulse_start(ps, dir);

	ck_assert_msg(up, "the PulseAudio test rig did not start (pulseaudio, "
		      "pulseaudio-utils and libasound2-plugins are in scripts/deps; "
		      "VAGENT_NO_AUDIO_TESTS=1 skips these tests)");
	return up;
}
