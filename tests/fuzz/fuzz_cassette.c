/*
 * fuzz_cassette.c — libFuzzer harness for the provider cassette parser
 * (vagent__cassette_parse, lib/net/cassette.c). A rejected input must give
 * one line starting "c.jsonl:" with VAGENT_EFORMAT (or ENOMEM) and no
 * cassette; an accepted one must count its exchanges and free cleanly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "net/cassette_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vagent_cassette *c = (struct vagent_cassette *)1;
	struct vagent_error err;
	vagent_status st;

	memset(&err, 0, sizeof(err));
	st = vagent__cassette_parse((const char *)data, size, "c.jsonl", &c, &err);
	if (st != VAGENT_OK) {
		if (c || (st != VAGENT_EFORMAT && st != VAGENT_ENOMEM) ||
		    (st == VAGENT_EFORMAT && strncmp(err.message, "c.jsonl:", 8)) ||
		    strchr(err.message, '\n'))
			abort();
		return 0;
	}
	if (!c)
		abort();
	(void)vagent_cassette_exchanges(c);
	(void)vagent_cassette_unused(c);
	vagent_cassette_unref(c);
	return 0;
}
