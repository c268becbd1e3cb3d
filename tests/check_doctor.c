/*
 * check_doctor.c — `vagent doctor` run as a child against a loopback HTTP
 * server that answers every probe with a chosen status (or never): each
 * provider's probe path and auth headers, reachable / key rejected /
 * server error / unreachable / timeout, keys unset, --offline, --json,
 * bad input; and in every test, the key appears nowhere in the output.
 */
#define _GNU_SOURCE /* strcasestr */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "doctor/doctor_int.h"
#include "support/harness.h"
#include "support/loopback.h"
#include "vagent.h"

/* A distinctive fake key: no part of it may ever be printed. */
#define FAKE_KEY "Zq7vX93kPzL0wMbT4xRj"
#define KEY_VAR  "VAGENT_DOCTOR_TEST_KEY"

/* ---- the probe server ---- */

#define MAX_REQUESTS 16
#define MAX_HUNG     16

struct probe_server {
	int listen_fd, port;
	int wake[2];
	int status;                      /* the answer; 0: never answer */
	pthread_t thread;
	pthread_mutex_t lock;
	char requests[MAX_REQUESTS][2048]; /* request heads, in arrival order */
	int n_requests;
	int hung[MAX_HUNG];              /* connections held open */
	int n_hung;
};

static void read_head(int fd, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	while (len + 1 < size && !strstr(buf, "\r\n\r\n")) {
		ssize_t n = recv(fd, buf + len, size - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
	}
}

static void *serve(void *arg)
{
	struct probe_server *s = arg;
	char head[2048], answer[256];
	int fd;

	while ((fd = loopback_accept(s->listen_fd, s->wake[0])) >= 0) {
		read_head(fd, head, sizeof(head));
		pthread_mutex_lock(&s->lock);
		if (s->n_requests < MAX_REQUESTS)
			snprintf(s->requests[s->n_requests++], sizeof(s->requests[0]), "%s", head);
		pthread_mutex_unlock(&s->lock);
		if (s->status == 0 && s->n_hung < MAX_HUNG) {
			s->hung[s->n_hung++] = fd;
			continue;
		}
		int n = snprintf(answer, sizeof(answer),
				 "HTTP/1.1 %d Status\r\nContent-Type: application/json\r\n"
				 "Content-Length: 11\r\nConnection: close\r\n\r\n{\"data\":[]}",
				 s->status);
		/* a client that gave up is the test's to notice, not a SIGPIPE */
		(void)!send(fd, answer, (size_t)n, MSG_NOSIGNAL);
		close(fd);
	}
	return NULL;
}

static struct probe_server *server_start(int status)
{
	struct probe_server *s = calloc(1, sizeof(*s));

	ck_assert_ptr_nonnull(s);
	s->status = status;
	pthread_mutex_init(&s->lock, NULL);
	ck_assert(pipe(s->wake) == 0);
	s->listen_fd = loopback_listen(16, &s->port);
	ck_assert(pthread_create(&s->thread, NULL, serve, s) == 0);
	return s;
}

static void server_stop(struct probe_server *s)
{
	ck_assert(write(s->wake[1], "x", 1) == 1);
	pthread_join(s->thread, NULL);
	for (int i = 0; i < s->n_hung; i++)
		close(s->hung[i]);
	close(s->listen_fd);
	close(s->wake[0]);
	close(s->wake[1]);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* The request head whose request line starts "GET PATH ", or NULL. */
static const char *request_for(struct probe_server *s, const char *path)
{
	char line[256];
	const char *found = NULL;

	snprintf(line, sizeof(line), "GET %s HTTP/", path);
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < s->n_requests; i++)
		if (!strncmp(s->requests[i], line, strlen(line)))
			found = s->requests[i];
	pthread_mutex_unlock(&s->lock);
	return found;
}

static int requests(struct probe_server *s)
{
	pthread_mutex_lock(&s->lock);
	int n = s->n_requests;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* A header line of a request head, case-insensitive name: "Name: value". */
static bool has_header(const char *head, const char *name, const char *value)
{
	char want[512];

	snprintf(want, sizeof(want), "\r\n%s: %s\r\n", name, value);
	return head && strcasestr(head, want) != NULL;
}

/* ---- helpers ---- */

/* No trace of the key: not whole, not any 6 characters of it in a row
 * (a prefix, a suffix, a middle). */
static void assert_no_key(const char *where, const char *text)
{
	const char *key = FAKE_KEY;
	char part[7];

	if (!text)
		return;
	for (size_t i = 0; i + 6 <= strlen(key); i++) {
		memcpy(part, key + i, 6);
		part[6] = '\0';
		ck_assert_msg(!strstr(text, part), "%s shows part of the key (%s):\n%s", where,
			      part, text);
	}
}

/* The table line starting with `start` (static copy; "" when none). */
static const char *table_line(const char *out, const char *start)
{
	static char line[1024];

	line[0] = '\0';
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, start, strlen(start))) {
			snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
			break;
		}
	return line;
}

static void assert_clean(const struct run_result *r)
{
	assert_no_key("stdout", r->out);
	assert_no_key("stderr", r->err);
}

/* Only the test's own key variables: the real ones may be set around us. */
static void env_setup(void)
{
	static const char *const vars[] = { "OPENAI_API_KEY", "ANTHROPIC_API_KEY",
					    "DEEPGRAM_API_KEY", "ELEVENLABS_API_KEY",
					    "CARTESIA_API_KEY", "OPENAI_BASE_URL",
					    "ANTHROPIC_BASE_URL", KEY_VAR, NULL };
	temp_dir_setup();
	for (int i = 0; vars[i]; i++)
		unsetenv(vars[i]);
	setenv(KEY_VAR, FAKE_KEY, 1);
	/* PortAudio is refused before it starts (lib/device checks the
	 * path): on a machine with no sound server its ALSA back end leaks
	 * in a plugin it unloads, which LeakSanitizer cannot suppress. The
	 * doctor must take that as a note. */
	setenv("ALSA_CONFIG_PATH", temp_path("no-such-asound.conf"), 1);
}

static void env_teardown(void)
{
	temp_dir_teardown();
}

/* An agent file with an OpenAI-compatible brain at `base_url`; `key_env`
 * NULL: none (a local server). Cloud STT and TTS elsewhere are not used. */
static const char *llm_agent(const char *name, const char *base_url, const char *key_env)
{
	char text[1024], key[128] = "";

	if (key_env)
		snprintf(key, sizeof(key), ", \"api_key_env\": \"%s\"", key_env);
	snprintf(text, sizeof(text),
		 "{\n  \"greeting\": \"Hi, I'm an automated assistant.\",\n"
		 "  \"brain\": {\"provider\": \"openai\", \"model\": \"m\", \"base_url\": \"%s\"%s}\n}\n",
		 base_url, key);
	return temp_file(name, text);
}

static const char *server_base(struct probe_server *s, const char *path)
{
	static char url[8][256];
	static int slot;
	char *u = url[slot++ % 8];

	snprintf(u, 256, "http://127.0.0.1:%d%s", s->port, path);
	return u;
}

/* ---- tests ---- */

START_TEST(test_probe_url)
{
	char out[256];

	ck_assert_int_eq(vagent__doctor_probe_url(VAGENT__CLOUD_OPENAI, "https://api.openai.com/v1/",
						  out, sizeof(out)), 0);
	ck_assert_str_eq(out, "https://api.openai.com/v1/models");
	ck_assert_int_eq(vagent__doctor_probe_url(VAGENT__CLOUD_ANTHROPIC,
						  "http://u:secret@127.0.0.1:8080/v1?key=abc",
						  out, sizeof(out)), 0);
	ck_assert_str_eq(out, "http://127.0.0.1:8080/v1/models");
	ck_assert_int_eq(vagent__doctor_probe_url(VAGENT__CLOUD_DEEPGRAM,
						  "wss://api.deepgram.com/v1/listen?model=nova-2",
						  out, sizeof(out)), 0);
	ck_assert_str_eq(out, "https://api.deepgram.com/v1/projects");
	ck_assert_int_eq(vagent__doctor_probe_url(VAGENT__CLOUD_CARTESIA,
						  "ws://127.0.0.1:9/tts/websocket?api_key=k",
						  out, sizeof(out)), 0);
	ck_assert_str_eq(out, "http://127.0.0.1:9/voices");
	ck_assert_int_eq(vagent__doctor_probe_url(VAGENT__CLOUD_ELEVENLABS,
						  "https://api.elevenlabs.io", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "https://api.elevenlabs.io/v1/models");
	ck_assert_int_eq(vagent__doctor_probe_url(VAGENT__CLOUD_ELEVENLABS,
						  "https://proxy.example/el/v1", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "https://proxy.example/el/v1/models");
	ck_assert_int_eq(vagent__doctor_probe_url(VAGENT__CLOUD_OPENAI, "ftp://x/v1", out,
						  sizeof(out)), -1);
	ck_assert_int_eq(vagent__doctor_probe_url(VAGENT__CLOUD_OPENAI, "https:///v1", out,
						  sizeof(out)), -1);
	ck_assert_int_eq(vagent__doctor_probe_url(VAGENT__CLOUD_OPENAI, "https://a.example/v1",
						  out, 10), -1);
}
END_TEST

START_TEST(test_reachable)
{
	struct probe_server *s = server_start(200);
	const char *agent = llm_agent("a.json", server_base(s, "/v1"), KEY_VAR);
	struct run_result r = run_vagent("doctor", "--agent", agent, NULL);

	assert_clean(&r);
	ck_assert_msg(r.exit_code == 0, "exit %d\n%s%s", r.exit_code, r.out, r.err);
	ck_assert_msg(strstr(r.out, "brain openai") && strstr(r.out, "reachable (HTTP 200, "),
		      "%s", r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "doctor: "));
	const char *head = request_for(s, "/v1/models");
	ck_assert_msg(head != NULL, "no GET /v1/models");
	ck_assert(has_header(head, "Authorization", "Bearer " FAKE_KEY));
	ck_assert_int_eq(requests(s), 1);
	run_result_free(&r);
	server_stop(s);
}
END_TEST

/* Every provider's probe: path and auth headers, two agents at once. */
START_TEST(test_each_provider_probe)
{
	struct probe_server *s = server_start(200);
	char a[1024], b[1024];

	snprintf(a, sizeof(a),
		 "{\"greeting\": \"Hi, I'm an automated assistant.\",\n"
		 " \"stt\": {\"provider\": \"deepgram\", \"url\": \"ws://127.0.0.1:%d/v1/listen\", "
		 "\"api_key_env\": \"%s\"},\n"
		 " \"brain\": {\"provider\": \"anthropic\", \"model\": \"m\", "
		 "\"base_url\": \"http://127.0.0.1:%d/anthropic/v1\", \"api_key_env\": \"%s\"},\n"
		 " \"tts\": {\"provider\": \"elevenlabs\", \"url\": \"http://127.0.0.1:%d/el\", "
		 "\"api_key_env\": \"%s\"}}\n",
		 s->port, KEY_VAR, s->port, KEY_VAR, s->port, KEY_VAR);
	snprintf(b, sizeof(b),
		 "{\"greeting\": \"Hi, I'm an automated assistant.\",\n"
		 " \"stt\": {\"provider\": \"openai\", \"url\": \"http://127.0.0.1:%d/stt/v1\", "
		 "\"api_key_env\": \"%s\"},\n"
		 " \"brain\": {\"provider\": \"openai\", \"model\": \"m\", "
		 "\"base_url\": \"http://127.0.0.1:%d/local/v1\"},\n"
		 " \"tts\": {\"provider\": \"cartesia\", \"voice\": \"v\", "
		 "\"url\": \"ws://127.0.0.1:%d/tts/websocket\", \"api_key_env\": \"%s\"}}\n",
		 s->port, KEY_VAR, s->port, s->port, KEY_VAR);
	const char *fa = temp_file("a.json", a), *fb = temp_file("b.json", b);
	struct run_result r = run_vagent("doctor", "--agent", fa, "--agent", fb, NULL);

	assert_clean(&r);
	ck_assert_msg(r.exit_code == 0, "exit %d\n%s%s", r.exit_code, r.out, r.err);
	ck_assert_int_eq(requests(s), 6);
	const char *h = request_for(s, "/v1/projects");
	ck_assert_msg(has_header(h, "Authorization", "Token " FAKE_KEY), "deepgram: %s", h);
	h = request_for(s, "/anthropic/v1/models");
	ck_assert_msg(has_header(h, "x-api-key", FAKE_KEY) &&
		      has_header(h, "anthropic-version", "2023-06-01"), "anthropic: %s", h);
	h = request_for(s, "/el/v1/models");
	ck_assert_msg(has_header(h, "xi-api-key", FAKE_KEY), "elevenlabs: %s", h);
	h = request_for(s, "/stt/v1/models");
	ck_assert_msg(has_header(h, "Authorization", "Bearer " FAKE_KEY), "openai stt: %s", h);
	h = request_for(s, "/local/v1/models");
	ck_assert_msg(h && !strcasestr(h, "Authorization:"), "local server got a key: %s", h);
	h = request_for(s, "/voices");
	ck_assert_msg(has_header(h, "Authorization", "Bearer " FAKE_KEY) &&
		      has_header(h, "X-API-Key", FAKE_KEY) && strcasestr(h, "\r\nCartesia-Version: "),
		      "cartesia: %s", h);
	/* no agent uses the embedded stack: found, but not required */
	const char *ps = table_line(r.out, "pocketsphinx ");
	ck_assert_msg(strstr(ps, " ok  ") && strstr(ps, "model ") && strstr(ps, "(no agent uses it)"),
		      "%s", r.out);
	/* one line per slot, naming the agent when there are several */
	ck_assert_msg(strstr(r.out, "stt deepgram (") && strstr(r.out, "tts cartesia ("), "%s", r.out);
	run_result_free(&r);
	server_stop(s);
}
END_TEST

START_TEST(test_key_rejected)
{
	struct probe_server *s = server_start(401);
	const char *agent = llm_agent("a.json", server_base(s, "/v1"), KEY_VAR);
	struct run_result r = run_vagent("doctor", "--agent", agent, NULL);

	assert_clean(&r);
	ck_assert_int_eq(r.exit_code, 3);
	ck_assert_msg(strstr(r.out, "key rejected (HTTP 401; check " KEY_VAR ")"), "%s", r.out);
	run_result_free(&r);
	server_stop(s);
}
END_TEST

START_TEST(test_server_error)
{
	struct probe_server *s = server_start(503);
	const char *agent = llm_agent("a.json", server_base(s, "/v1"), KEY_VAR);
	struct run_result r = run_vagent("doctor", "--agent", agent, NULL);

	assert_clean(&r);
	ck_assert_int_eq(r.exit_code, 3);
	ck_assert_msg(strstr(r.out, "server error (HTTP 503"), "%s", r.out);
	run_result_free(&r);
	server_stop(s);
}
END_TEST

START_TEST(test_unreachable)
{
	int port, fd = loopback_listen(1, &port);
	char base[64];

	close(fd); /* nothing listens there now */
	snprintf(base, sizeof(base), "http://127.0.0.1:%d/v1", port);
	const char *agent = llm_agent("a.json", base, KEY_VAR);
	struct run_result r = run_vagent("doctor", "--agent", agent, NULL);

	assert_clean(&r);
	ck_assert_int_eq(r.exit_code, 3);
	ck_assert_msg(strstr(r.out, "unreachable: ") && strstr(r.out, "127.0.0.1"), "%s", r.out);
	run_result_free(&r);
}
END_TEST

START_TEST(test_timeout)
{
	struct probe_server *s = server_start(0);
	const char *agent = llm_agent("a.json", server_base(s, "/v1"), KEY_VAR);
	struct run_result r = run_vagent("doctor", "--agent", agent, "--timeout", "300", NULL);

	assert_clean(&r);
	ck_assert_int_eq(r.exit_code, 3);
	ck_assert_msg(strstr(r.out, "timeout: no answer within 300 ms"), "%s", r.out);
	ck_assert_int_eq(requests(s), 1);
	run_result_free(&r);
	server_stop(s);
}
END_TEST

START_TEST(test_key_unset_with_agent)
{
	struct probe_server *s = server_start(200);
	const char *agent = llm_agent("a.json", server_base(s, "/v1"), "VAGENT_DOCTOR_UNSET_KEY");
	struct run_result r;

	unsetenv("VAGENT_DOCTOR_UNSET_KEY");
	r = run_vagent("doctor", "--agent", agent, NULL);
	assert_clean(&r);
	ck_assert_int_eq(r.exit_code, 3);
	ck_assert_msg(strstr(r.out, "VAGENT_DOCTOR_UNSET_KEY is not set"), "%s", r.out);
	ck_assert_int_eq(requests(s), 0);
	run_result_free(&r);
	server_stop(s);
}
END_TEST

START_TEST(test_offline)
{
	struct probe_server *s = server_start(200);
	const char *agent = llm_agent("a.json", server_base(s, "/v1"), KEY_VAR);
	struct run_result r = run_vagent("doctor", "--agent", agent, "--offline", NULL);

	assert_clean(&r);
	ck_assert_msg(r.exit_code == 0, "exit %d\n%s%s", r.exit_code, r.out, r.err);
	ck_assert_msg(strstr(r.out, KEY_VAR " is set; not probed (--offline)"), "%s", r.out);
	ck_assert_int_eq(requests(s), 0);
	run_result_free(&r);

	/* no agent, no keys: every cloud provider is a note, nothing fails */
	r = run_vagent("doctor", "--offline", NULL);
	assert_clean(&r);
	ck_assert_msg(r.exit_code == 0, "exit %d\n%s%s", r.exit_code, r.out, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "not configured: DEEPGRAM_API_KEY is not set"));
	ck_assert_ptr_nonnull(strstr(r.out, "not configured: CARTESIA_API_KEY is not set"));
	/* PortAudio that cannot start is a note: only chat needs it */
	const char *pa = table_line(r.out, "portaudio ");
	ck_assert_msg(strstr(pa, " note  ") && strstr(pa, "PortAudio cannot start"), "%s", r.out);
	run_result_free(&r);
	server_stop(s);
}
END_TEST

/* Without --agent: the known providers, OPENAI_BASE_URL moving openai's. */
START_TEST(test_known_providers)
{
	struct probe_server *s = server_start(200);
	struct run_result r;

	setenv("OPENAI_API_KEY", FAKE_KEY, 1);
	setenv("OPENAI_BASE_URL", server_base(s, "/v1"), 1);
	r = run_vagent("doctor", NULL);
	assert_clean(&r);
	ck_assert_msg(r.exit_code == 0, "exit %d\n%s%s", r.exit_code, r.out, r.err);
	ck_assert_msg(strstr(r.out, "openai (brain/stt/tts)") && strstr(r.out, "reachable (HTTP 200"),
		      "%s", r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "not configured: ANTHROPIC_API_KEY is not set"));
	ck_assert_ptr_nonnull(strstr(r.out, "pocketsphinx"));
	ck_assert_ptr_nonnull(strstr(r.out, "flite"));
	ck_assert(has_header(request_for(s, "/v1/models"), "Authorization", "Bearer " FAKE_KEY));
	run_result_free(&r);
	server_stop(s);
}
END_TEST

/* A required embedded part missing fails; one no agent uses is a note. */
START_TEST(test_model_missing)
{
	const char *agent = llm_agent("a.json", "http://127.0.0.1:9/v1", KEY_VAR);
	const char *cloud = temp_file("cloud.json",
				      "{\"greeting\": \"Hi, I'm an automated assistant.\",\n"
				      " \"stt\": {\"provider\": \"deepgram\", \"api_key_env\": \"" KEY_VAR "\"},\n"
				      " \"brain\": {\"provider\": \"openai\", \"model\": \"m\", "
				      "\"api_key_env\": \"" KEY_VAR "\"},\n"
				      " \"tts\": {\"provider\": \"elevenlabs\", \"api_key_env\": \"" KEY_VAR "\"}}\n");
	struct run_result r;

	setenv("VAGENT_SPHINX_MODEL", temp_path("no-model"), 1);
	r = run_vagent("doctor", "--offline", NULL);
	assert_clean(&r);
	ck_assert_int_eq(r.exit_code, 3);
	const char *line = table_line(r.out, "pocketsphinx ");
	ck_assert_msg(strstr(line, " fail ") && strstr(line, "no acoustic model at ") &&
		      strstr(line, "no-model"), "%s", r.out);
	run_result_free(&r);

	r = run_vagent("doctor", "--offline", "--agent", agent, NULL);
	assert_clean(&r);
	ck_assert_int_eq(r.exit_code, 3);
	ck_assert_msg(strstr(table_line(r.out, "stt pocketsphinx "), " fail "), "%s", r.out);
	run_result_free(&r);

	r = run_vagent("doctor", "--offline", "--agent", cloud, NULL);
	assert_clean(&r);
	ck_assert_msg(r.exit_code == 0, "exit %d\n%s%s", r.exit_code, r.out, r.err);
	ck_assert_msg(strstr(table_line(r.out, "pocketsphinx "), " note "), "%s", r.out);
	ck_assert_msg(strstr(table_line(r.out, "stt deepgram "), KEY_VAR " is set"), "%s", r.out);
	run_result_free(&r);
	unsetenv("VAGENT_SPHINX_MODEL");
}
END_TEST

static const cJSON *find_check(const cJSON *checks, const char *group, const char *name)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, checks)
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "group")), group) &&
		    !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "name")), name))
			return c;
	return NULL;
}

START_TEST(test_json)
{
	struct probe_server *s = server_start(401);
	const char *agent = llm_agent("a.json", server_base(s, "/v1"), KEY_VAR);
	const char *out = temp_path("doctor.json");
	struct run_result r = run_vagent("doctor", "--agent", agent, "--json", "-", NULL);

	assert_clean(&r);
	ck_assert_int_eq(r.exit_code, 3);
	cJSON *root = cJSON_Parse(r.out);
	ck_assert_msg(root != NULL, "not JSON: %s", r.out);
	ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(root, "exit_code")), 3);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(root, "vagent")), vagent_version());
	const cJSON *summary = cJSON_GetObjectItem(root, "summary");
	const cJSON *checks = cJSON_GetObjectItem(root, "checks");
	ck_assert(cJSON_IsArray(checks));
	ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(summary, "checks")),
			 cJSON_GetArraySize(checks));
	ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(summary, "fail")), 1);
	const cJSON *p = find_check(checks, "provider", "openai");
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(p, "verdict")), "fail");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(p, "slot")), "brain");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(p, "agent")), agent);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(p, "key_env")), KEY_VAR);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(p, "key_set")));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(p, "required")));
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(p, "probe")), "key_rejected");
	ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(p, "http_status")), 401);
	ck_assert(cJSON_GetNumberValue(cJSON_GetObjectItem(p, "latency_ms")) >= 0);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(p, "url")),
			 server_base(s, "/v1/models"));
	const cJSON *e = find_check(checks, "embedded", "portaudio");
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_null(cJSON_GetObjectItem(e, "key_env"));
	cJSON_Delete(root);
	run_result_free(&r);

	/* --json FILE: the file has it, stdout the table */
	r = run_vagent("doctor", "--agent", agent, "--json", out, NULL);
	assert_clean(&r);
	ck_assert_int_eq(r.exit_code, 3);
	ck_assert_ptr_nonnull(strstr(r.out, "key rejected"));
	char *text = read_file(out, NULL);
	ck_assert_ptr_nonnull(text);
	assert_no_key("the JSON file", text);
	root = cJSON_Parse(text);
	ck_assert_ptr_nonnull(root);
	ck_assert_ptr_nonnull(find_check(cJSON_GetObjectItem(root, "checks"), "provider", "openai"));
	cJSON_Delete(root);
	free(text);
	run_result_free(&r);
	server_stop(s);
}
END_TEST

START_TEST(test_bad_input)
{
	const char *bad = temp_file("bad.json",
				    "{\n  \"greeting\": \"Hi, I'm an automated assistant.\",\n"
				    "  \"brain\": {\"provider\": \"openai\", \"api_key_env\": \""
				    KEY_VAR "\"}\n}\n");
	struct run_result r = run_vagent("doctor", "--agent", bad, NULL);

	assert_clean(&r);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_msg(strstr(r.err, "bad.json:3: brain.model") && count_lines(r.err) == 1, "%s",
		      r.err);
	ck_assert_str_eq(r.out, "");
	run_result_free(&r);

	r = run_vagent("doctor", "--agent", temp_path("missing.json"), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "missing.json"));
	run_result_free(&r);

	r = run_vagent("doctor", "--timeout", "0", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "timeout"));
	run_result_free(&r);

	r = run_vagent("doctor", "extra", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	run_result_free(&r);
}
END_TEST

START_TEST(test_help)
{
	struct run_result r = run_vagent("doctor", "--help", NULL);

	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "--offline"));
	ck_assert_ptr_nonnull(strstr(r.out, "--timeout"));
	ck_assert_ptr_nonnull(strstr(r.out, "Authorization: Token"));
	run_result_free(&r);
}
END_TEST

Suite *suite_doctor(void)
{
	Suite *s = suite_create("doctor");
	TCase *tc = tcase_create("doctor");

	tcase_add_checked_fixture(tc, env_setup, env_teardown);
	tcase_set_timeout(tc, 60); /* the no-agent runs synthesise with flite */
	tcase_add_test(tc, test_probe_url);
	tcase_add_test(tc, test_reachable);
	tcase_add_test(tc, test_each_provider_probe);
	tcase_add_test(tc, test_key_rejected);
	tcase_add_test(tc, test_server_error);
	tcase_add_test(tc, test_unreachable);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_key_unset_with_agent);
	tcase_add_test(tc, test_offline);
	tcase_add_test(tc, test_known_providers);
	tcase_add_test(tc, test_model_missing);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_bad_input);
	tcase_add_test(tc, test_help);
	suite_add_tcase(s, tc);
	return s;
}
