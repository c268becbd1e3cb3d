/*
 * harness.c — see harness.h.
 */
#include "support/harness.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

struct buf {
	char *data;
	size_t len, cap;
};

static void buf_append(struct buf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->data = realloc(b->data, b->cap);
		ck_assert_ptr_nonnull(b->data);
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

struct run_result run_argv(char *const argv[], const char *input)
{
	int out_pipe[2], err_pipe[2], in_pipe[2];
	struct buf out = { 0 }, err = { 0 };
	struct run_result r = { 0 };
	size_t in_len = input ? strlen(input) : 0, in_off = 0;
	pid_t pid;
	int status;

	ck_assert_int_eq(pipe(out_pipe), 0);
	ck_assert_int_eq(pipe(err_pipe), 0);
	ck_assert_int_eq(pipe(in_pipe), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(in_pipe[0], 0);
		dup2(out_pipe[1], 1);
		dup2(err_pipe[1], 2);
		close(in_pipe[0]); close(in_pipe[1]);
		close(out_pipe[0]); close(out_pipe[1]);
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
	buf_append(&out, "", 0);
	buf_append(&err, "", 0);
	/* Drain both outputs (and feed stdin) together so neither pipe fills. */
	for (int open_fds = 2; open_fds > 0;) {
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
	r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r.out = out.data;
	r.err = err.data;
	return r;
}

struct run_result run_vagent(const char *arg, ...)
{
	char *argv[64];
	int n = 0;
	struct run_result r;
	va_list ap;

	/* execvp() wants char *const[]; copies keep the callers' strings const. */
	argv[n++] = strdup(vagent_bin());
	va_start(ap, arg);
	for (const char *a = arg; a && n < 63; a = va_arg(ap, const char *))
		argv[n++] = strdup(a);
	va_end(ap);
	argv[n] = NULL;
	r = run_argv(argv, NULL);
	for (int i = 0; i < n; i++)
		free(argv[i]);
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
	struct buf b = { 0 };
	char chunk[65536];
	size_t n;

	if (!f)
		return NULL;
	buf_append(&b, "", 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	if (len)
		*len = b.len;
	return b.data;
}

int count_lines(const char *text)
{
	int n = 0;
	for (const char *p = text; p && *p; p++)
		if (*p == '\n')
			n++;
	return n;
}
