/*
 * chromium.c — run headless Chromium from a test (the `chromium` package,
 * installed by scripts/deps) with its stdout captured, to check how a
 * generated HTML page renders (--dump-dom) or paints (--screenshot).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/chromium.h"

char *run_chromium(const char *const *args, int timeout_s, int *status)
{
	char *argv[24];
	int pipefd[2], pidfd, wstatus = 0;
	size_t n = 0, len = 0, cap = 1 << 16;
	char *out = malloc(cap);
	pid_t pid;
	struct timespec start, now;
	bool exited = false, eof = false, timed_out = false;

	ck_assert_ptr_nonnull(out);
	argv[n++] = (char *)"chromium";
	for (size_t i = 0; args[i] && n < 23; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		setpgid(0, 0);           /* its own group: killed together */
		dup2(pipefd[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		execvp("chromium", argv);
		_exit(127);
	}
	setpgid(pid, pid);
	close(pipefd[1]);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	ck_assert_msg(pidfd >= 0, "pidfd_open: %s", strerror(errno));
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!eof || !exited) {
		struct pollfd fds[2] = { { pipefd[0], POLLIN, 0 }, { pidfd, POLLIN, 0 } };
		long left_ms;
		int k;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left_ms = timeout_s * 1000L - ((now.tv_sec - start.tv_sec) * 1000L +
					      (now.tv_nsec - start.tv_nsec) / 1000000L);
		if (left_ms <= 0) {
			timed_out = true;
			break;
		}
		fds[0].fd = eof ? -1 : pipefd[0];
		fds[1].fd = exited ? -1 : pidfd;
		k = poll(fds, 2, (int)left_ms);
		if (k < 0 && errno == EINTR)
			continue;
		ck_assert_int_ge(k, 0);
		if (fds[0].revents) {
			for (;;) {
				ssize_t got;

				if (len + 4096 > cap) {
					cap *= 2;
					out = realloc(out, cap);
					ck_assert_ptr_nonnull(out);
				}
				got = read(pipefd[0], out + len, cap - len - 1);
				if (got > 0) {
					len += (size_t)got;
					continue;
				}
				if (got == 0)
					eof = true;
				break;
			}
		}
		if (fds[1].revents) {
			exited = true;
			/* what the browser wrote is in the pipe; a helper process
			 * that still holds it open must not keep us waiting */
			for (;;) {
				ssize_t got;

				if (len + 4096 > cap) {
					cap *= 2;
					out = realloc(out, cap);
					ck_assert_ptr_nonnull(out);
				}
				got = read(pipefd[0], out + len, cap - len - 1);
				if (got <= 0)
					break;
				len += (size_t)got;
			}
			eof = true;
		}
	}
	kill(-pid, SIGKILL);             /* its helpers, and itself on a timeout */
	ck_assert_int_eq(waitpid(pid, &wstatus, 0), pid);
	close(pidfd);
	close(pipefd[0]);
	out[len] = '\0';
	*status = timed_out ? -1 : wstatus;
	return out;
}
