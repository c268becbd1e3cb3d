/*
 * fake_openai_main.c — the loopback fake OpenAI server (tests/support/
 * fake_openai.c) as a program, for the npm SDK fidelity test (make
 * check-npm) and for pointing a client at it by hand. Prints its base URL
 * on stdout, then serves until stdin closes.
 *
 *   fake_openai [--port N] [--pace-ms N]
 *
 * Scripted replies (matched on the last message): "weather" streams a
 * sentence and a get_weather tool call split in fragments; "rate" is a
 * 429 with retry-after; "broken" puts an error event in the stream;
 * "cut" closes the connection mid-stream; anything else streams a
 * greeting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/fake_openai.h"

int main(int argc, char **argv)
{
	static struct fake_reply replies[] = {
		{ .match = "weather", .text = "Let me check the weather.",
		  .tool_name = "get_weather",
		  .tool_args = "{\"city\":\"Paris\",\"unit\":\"celsius\"}" },
		{ .match = "rate", .text = "never", .fault = FAKE_HTTP_429,
		  .retry_after = "1" },
		{ .match = "broken", .text = "This will not end well.",
		  .fault = FAKE_STREAM_ERROR, .fault_after = 3 },
		{ .match = "cut", .text = "This stream is cut short.",
		  .fault = FAKE_ABRUPT_CLOSE, .fault_after = 3 },
		{ .text = "Hello! How can I help you today?" },
	};
	struct fake_openai_config cfg = { .replies = replies, .n_replies = 5 };
	struct fake_openai *f;
	char buf[256];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--port") && i + 1 < argc) {
			cfg.port = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--pace-ms") && i + 1 < argc) {
			cfg.pace_ms = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: fake_openai [--port N] [--pace-ms N]\n");
			return 2;
		}
	}
	f = fake_openai_start(&cfg);
	if (!f) {
		fprintf(stderr, "fake_openai: cannot listen on 127.0.0.1:%d\n", cfg.port);
		return 3;
	}
	printf("%s\n", fake_openai_url(f));
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	fake_openai_stop(f);
	return 0;
}
