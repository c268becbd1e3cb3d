/*
 * harness.c — what the suites share (see harness.h): running vagent with
 * captured output, fixture paths, temporary directories and files.
 */
#include "support/harness.h"
#include "core/internal.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <ftw.h>

const char *top_path(const char *rel)
{
	static char slots[8][4096];
	static unsigned next;
	const char *top = getenv("VAGENT_TOP");
	char *buf = slots[next++ % 8];

	snprintf(buf, sizeof(slots[0]), "%s/%s", top && *top ? top : ".", rel);
	return buf;
}

const char *vagent_bin(void)
{
	const char *bin = getenv("VAGENT_BIN");
	return bin && *bin ? bin : "./vagent";
}

/* Append to `b`, failing the test when memory runs out. */
static void buf_append(struct vagent__strbuf *b, const char *p, size_t n)
{
	vagent__strbuf_put(b, p, n);
	ck_assert_msg(!b->oom, "out of memory");
}

static struct run_result run(char *const argv[], const char *input, bool stdout_closed)
{
	int out_pipe[2], err_pipe[2], in_pipe[2];
	struct vagent__strbuf out = { 0 }, err = { 0 };
	struct run_result r = { 0 };
	size_t in_len = input ? strlen(input) : 0, in_off = 0;
	void (*old_sigpipe)(int);
	pid_t pid;
	int status;

	ck_assert_int_eq(pipe(out_pipe), 0);
	ck_assert_int_eq(pipe(err_pipe), 0);
	ck_assert_int_eq(pipe(in_pipe), 0);
	if (stdout_closed) {
		/* No reader exists before the child starts: its first write
		 * to stdout fails, deterministically. */
		close(out_pipe[0]);
		out_pipe[0] = -1;
	}
	/* A child that exits without reading its stdin must not kill the
	 * test with SIGPIPE when we feed it. */
	old_sigpipe = signal(SIGPIPE, SIG_IGN);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		dup2(in_pipe[0], 0);
		dup2(out_pipe[1], 1);
		dup2(err_pipe[1], 2);
		close(in_pipe[0]); close(in_pipe[1]);
		if (out_pipe[0] >= 0)
			close(out_pipe[0]);
		close(out_pipe[1]);
		close(err_pipe[0]); close(err_pipe[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in_pipe[0]);
	close(out_pipe[1]);
	close(err_pipe[1]);
	if (!in_len) {
		close(in_pipe[1]);
		in_pipe[1] = -1;
	} else {
		fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
	}
	/* Drain both outputs (and feed stdin) together so neither pipe fills. */
	for (int open_fds = out_pipe[0] >= 0 ? 2 : 1; open_fds > 0;) {
		struct pollfd p[3] = {
			{ out_pipe[0], POLLIN, 0 }, { err_pipe[0], POLLIN, 0 },
			{ in_pipe[1], POLLOUT, 0 },
		};
		char chunk[65536];
		if (poll(p, in_pipe[1] >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			ck_abort_msg("poll: %s", strerror(errno));
		}
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(p[i].fd, chunk, sizeof(chunk));
			if (n > 0) {
				buf_append(i == 0 ? &out : &err, chunk, (size_t)n);
			} else {
				close(p[i].fd);
				if (i == 0) out_pipe[0] = -1; else err_pipe[0] = -1;
				open_fds--;
			}
		}
		if (in_pipe[1] >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = write(in_pipe[1], input + in_off, in_len - in_off);
			if (n > 0)
				in_off += (size_t)n;
			if (n < 0 || in_off >= in_len) {
				close(in_pipe[1]);
				in_pipe[1] = -1;
			}
		}
		if (out_pipe[0] < 0 && err_pipe[0] < 0)
			break;
	}
	if (in_pipe[1] >= 0)
		close(in_pipe[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	signal(SIGPIPE, old_sigpipe);
	r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r.out = vagent__strbuf_detach(&out);
	r.err = vagent__strbuf_detach(&err);
	ck_assert(r.out && r.err);
	return r;
}

struct run_result run_argv(char *const argv[], const char *input)
{
	return run(argv, input, false);
}

static struct run_result run_vagent_va(const char *arg, va_list ap, bool stdout_closed)
{
	char *argv[64];
	int n = 0;
	struct run_result r;

	/* execvp() wants char *const[]; copies keep the callers' strings const. */
	argv[n++] = strdup(vagent_bin());
	for (const char *a = arg; a && n < 63; a = va_arg(ap, const char *))
		argv[n++] = strdup(a);
	argv[n] = NULL;
	r = run(argv, NULL, stdout_closed);
	for (int i = 0; i < n; i++)
		free(argv[i]);
	return r;
}

struct run_result run_vagent(const char *arg, ...)
{
	struct run_result r;
	va_list ap;

	va_start(ap, arg);
	r = run_vagent_va(arg, ap, false);
	va_end(ap);
	return r;
}

struct run_result run_vagent_stdout_closed(const char *arg, ...)
{
	struct run_result r;
	va_list ap;

	va_start(ap, arg);
	r = run_vagent_va(arg, ap, true);
	va_end(ap);
	return r;
}

void run_result_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

char *make_temp_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char *path = malloc(4096);

	ck_assert_ptr_nonnull(path);
	snprintf(path, 4096, "%s/vagent-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(path));
	return path;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

void remove_tree(const char *path)
{
	if (path)
		nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *temp_dir;

void temp_dir_setup(void)
{
	temp_dir = make_temp_dir();
}

void temp_dir_teardown(void)
{
	remove_tree(temp_dir);
	free(temp_dir);
	temp_dir = NULL;
}

const char *temp_path(const char *name)
{
	static char slots[8][4096];
	static unsigned next;
	char *buf = slots[next++ % 8];

	ck_assert_ptr_nonnull(temp_dir);
	snprintf(buf, sizeof(slots[0]), "%s/%s", temp_dir, name);
	return buf;
}

const char *temp_file(const char *name, const char *content)
{
	const char *p = temp_path(name);

	write_file(p, content, strlen(content));
	return p;
}

void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_msg(f != NULL, "cannot create %s: %s", path, strerror(errno));
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct vagent__strbuf b = { 0 };
	char chunk[65536];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	if (len)
		*len = b.len;
	return vagent__strbuf_detach(&b);
}

int count_lines(const char *text)
{
	int n = 0;
	for (const char *p = text; p && *p; p++)
		if (*p == '\n')
			n++;
	return n;
}

static struct vagent_mock_http *orders_service;

void orders_service_start(void)
{
	struct vagent_error err;
	char url[64];

	ck_assert_msg(vagent_mock_http_load(top_path("scenarios/services/orders.json"), NULL,
					    &orders_service, &err) == VAGENT_OK, "%s", err.message);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", vagent_mock_http_port(orders_service));
	setenv("ACME_ORDERS_URL", url, 1);
}

void orders_service_stop(void)
{
	vagent_mock_http_free(orders_service);
	orders_service = NULL;
}

struct cond_wait {
	struct vagent_loop *loop;
	bool (*cond)(void);
};

static void cond_check(struct vagent_timer *t, void *arg)
{
	struct cond_wait *w = arg;

	(void)t;
	if (w->cond())
		vagent_loop_stop(w->loop);
}

bool loop_run_until_cond(struct vagent_loop *loop, bool (*cond)(void), int ms)
{
	struct cond_wait w = { loop, cond };
	struct vagent_timer *check = vagent_timer_new(loop, cond_check, &w);
	struct vagent_error err;
	int64_t end = vagent_loop_now(loop) + vagent_ticks_from_ms(ms);

	ck_assert(check);
	ck_assert(vagent_timer_start(check, 0, vagent_ticks_from_ms(5), &err) == VAGENT_OK);
	ck_assert(vagent_loop_run_until(loop, end, &err) == VAGENT_OK);
	vagent_timer_free(check);
	return cond();
}
