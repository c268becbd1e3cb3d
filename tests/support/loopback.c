/*
 * loopback.c — see loopback.h: the listening socket and accept loop of
 * the tests' fake servers (Deepgram, OpenAI transcription).
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include "support/loopback.h"

int loopback_listen(int backlog, int *port)
{
	struct sockaddr_in a = { 0 };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert(fd >= 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	ck_assert(listen(fd, backlog) == 0);
	ck_assert(getsockname(fd, (struct sockaddr *)&a, &al) == 0);
	*port = ntohs(a.sin_port);
	return fd;
}

int loopback_accept(int listen_fd, int wake_fd)
{
	for (;;) {
		struct pollfd p[2] = { { listen_fd, POLLIN, 0 }, { wake_fd, POLLIN, 0 } };
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents)
			return -1;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept(listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		return fd;
	}
}
