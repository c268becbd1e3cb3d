/*
 * loopback.h — what the tests' fake servers share: a listening socket on
 * 127.0.0.1 at a free port, and an accept loop that a stop pipe ends.
 */
#ifndef VAGENT_TESTS_LOOPBACK_H
#define VAGENT_TESTS_LOOPBACK_H

/* A listening TCP socket on 127.0.0.1 at a port the system picks (in
 * *port); aborts the test on failure. */
int loopback_listen(int backlog, int *port);

/* The next connection accepted on `listen_fd` (TCP_NODELAY set), or -1
 * once `wake_fd` is readable (the server is stopping) or poll fails. */
int loopback_accept(int listen_fd, int wake_fd);

#endif
