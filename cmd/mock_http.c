/*
 * mock_http.c — `vagent mock-http ROUTES.json`: serve a routes file on
 * loopback until SIGINT or SIGTERM, to stub an agent's tool backends in
 * tests and CI (docs/mock-http.md).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include "vagent.h"
#include "builtins.h"
#include "options.h"

static const struct cmd_usage mock_http_usage = {
	.name = "mock-http",
	.synopsis = "vagent mock-http [OPTION]... ROUTES.json",
	.summary = "Serve HTTP/1.1 on loopback from a routes file: canned JSON answers,\n"
		   "table lookups, response sequences, faults and idempotent actions.",
	.description =
		"Each route of ROUTES.json matches a method and a path with {param}\n"
		"segments and answers a status, headers and a JSON body rendered from\n"
		"templates ({param}, {query.x}, {header.X}, {body.field}, {row.field}).\n"
		"A route can look its answer up in a table (404 when the key is missing),\n"
		"give successive answers (\"responses\": 500 then 200), and inject faults:\n"
		"delay_ms, hang (read, never answer), close (drop the connection),\n"
		"malformed (invalid JSON), any status and header (429 with Retry-After).\n"
		"\"when\" conditions pick a route by the row, body, query or headers\n"
		"(409 for an order already refunded).\n"
		"Routes with \"performs\": true are actions: a repeated Idempotency-Key\n"
		"gets the stored answer and is not performed again. GET /_mock/stats\n"
		"shows per route the requests received and the actions performed;\n"
		"POST /_mock/reset starts afresh. The format is in docs/mock-http.md.\n"
		"\n"
		"Prints 'listening on http://HOST:PORT' once it accepts connections and\n"
		"serves until SIGINT or SIGTERM, then exits 0. With --ready-file the port\n"
		"is also written to a file (atomically, before the line), so a script can\n"
		"wait for the file instead of sleeping; the file is removed on exit.\n",
	.epilogue = "Examples:\n"
		    "  vagent mock-http scenarios/services/orders.json --port 8081\n"
		    "  vagent mock-http routes.json --ready-file run/port &\n"
		    "  vagent mock-http --check routes.json\n"
		    "\n"
		    "Exit codes: 0 stopped by a signal (or --check passed), 2 bad routes file\n"
		    "or usage, 3 cannot listen (port in use) or write the ready file.\n",
	.min_args = 1, .max_args = 1,
};

static void log_line(void *user, const char *line)
{
	(void)user;
	fprintf(stderr, "mock-http: %s\n", line);
}

/* Write "PORT\n" to `path` through a temporary file and rename, so a reader
 * never sees it half written. */
static int write_ready_file(const char *path, int port)
{
	size_t n = strlen(path) + 8;
	char *tmp = malloc(n);
	FILE *f;
	int rc = 0;

	if (!tmp) {
		cmd_error("out of memory");
		return 3;
	}
	snprintf(tmp, n, "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0) {
		cmd_error("%s: cannot write: %s", tmp, strerror(errno));
		rc = 3;
	} else if (rename(tmp, path) != 0) {
		cmd_error("%s: cannot write: %s", path, strerror(errno));
		remove(tmp);
		rc = 3;
	}
	free(tmp);
	return rc;
}

int cmd_mock_http(int argc, char **argv)
{
	const char *host = "127.0.0.1", *ready_file = NULL;
	long port = 0, max_request = 0;
	bool check = false;
	int verbose = 0;
	const struct cmd_option opts[] = {
		OPT_INT_('p', "port", &port, "N", "port to listen on (default 0: any free port)", 0, 65535),
		OPT_STRING_(0, "host", &host, "ADDR", "address to bind (default 127.0.0.1)"),
		OPT_STRING_(0, "ready-file", &ready_file, "PATH",
			    "once listening, write the port to PATH"),
		OPT_INT_(0, "max-request-bytes", &max_request, "N",
			 "largest request body accepted (default 1 MiB; 413 beyond)", 1, 1 << 30),
		OPT_BOOL_(0, "check", &check, "only check the routes file, do not serve"),
		OPT_COUNT_('v', "verbose", &verbose, "log one line per request to stderr"),
		OPT_END_(),
	};
	int n = parse_options(&mock_http_usage, opts, argc, argv), rc = 0, sig = 0;
	struct vagent_mock_http_config cfg;
	struct vagent_mock_http *m = NULL;
	struct vagent_error err;
	sigset_t set, old;
	vagent_status st;

	if (n == PARSE_OPT_HELP)
		return 0;
	if (n < 0)
		return 2;
	if (check) {
		char *text = NULL;
		size_t len = 0, got;
		char buf[8192];
		FILE *f = fopen(argv[0], "rb");

		if (!f) {
			int e = errno;
			cmd_error("%s: %s", argv[0], e == ENOENT ? "no such file" : strerror(e));
			return e == ENOENT || e == EACCES || e == EISDIR ? 2 : 3;
		}
		while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
			char *g = realloc(text, len + got + 1);
			if (!g) {
				free(text);
				fclose(f);
				cmd_error("out of memory");
				return 3;
			}
			text = g;
			memcpy(text + len, buf, got);
			len += got;
		}
		if (ferror(f)) {
			int e = errno;
			cmd_error("%s: cannot read: %s", argv[0], strerror(e));
			fclose(f);
			free(text);
			return e == EISDIR ? 2 : 3;
		}
		fclose(f);
		if (text)
			text[len] = '\0';
		st = vagent_mock_http_check(text ? text : "", argv[0], &err);
		free(text);
		if (st) {
			cmd_error("%s", err.message);
			return vagent_status_exit_code(st);
		}
		printf("%s: ok\n", argv[0]);
		return 0;
	}

	/* The server thread inherits a mask with the stop signals blocked;
	 * this thread takes them with sigwait(). */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);

	vagent_mock_http_config_default(&cfg);
	cfg.host = host;
	cfg.port = (int)port;
	cfg.max_request_bytes = (size_t)max_request;
	if (verbose)
		cfg.on_request = log_line;
	st = vagent_mock_http_load(argv[0], &cfg, &m, &err);
	if (st) {
		cmd_error("%s", err.message);
		rc = vagent_status_exit_code(st);
		goto done;
	}
	/* the ready file first: whoever reads the line can read the file */
	if (ready_file && (rc = write_ready_file(ready_file, vagent_mock_http_port(m))))
		goto done;
	printf(strchr(host, ':') ? "listening on http://[%s]:%d\n" : "listening on http://%s:%d\n",
	       host, vagent_mock_http_port(m));
	fflush(stdout);
	while (sigwait(&set, &sig) != 0)
		;
	if (verbose)
		fprintf(stderr, "mock-http: stopping on %s\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	/* a stale file must not tell the next run's script we are ready */
	if (ready_file)
		remove(ready_file);
done:
	vagent_mock_http_free(m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
