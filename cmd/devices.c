/*
 * devices.c — `vagent devices`: the audio devices PortAudio sees (index,
 * name, host API, channels, default rate, which are the defaults), as a
 * table or JSON; what `vagent chat --input/--output` accept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "vagent.h"
#include "builtins.h"
#include "options.h"
#include "output.h"

static const struct cmd_usage devices_usage = {
	.name = "devices",
	.synopsis = "vagent devices [OPTION]...",
	.summary = "List the audio devices (PortAudio): index, name, host API, channels, rate.",
	.description =
		"A device is chosen (vagent chat --input/--output) by its index, by its exact\n"
		"name, or by a part of its name that matches only one device (any case); a\n"
		"path ending in .wav stands for a device. The default input and output are\n"
		"marked 'in' and 'out' in the DEFAULT column.",
	.epilogue =
		"Exit status: 0 listed; 2 usage error; 3 PortAudio cannot start or the output\n"
		"cannot be written.\n"
		"\n"
		"Examples:\n"
		"  vagent devices\n"
		"  vagent devices --json -\n"
		"See docs/devices.md.\n",
	.min_args = 0, .max_args = 0,
};

static char *devices_json(const struct vagent_device_info *d, size_t n)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(root, "devices");

	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "index", d[i].index);
		cJSON_AddStringToObject(o, "name", d[i].name);
		cJSON_AddStringToObject(o, "host_api", d[i].host_api);
		cJSON_AddNumberToObject(o, "max_input_channels", d[i].max_input_channels);
		cJSON_AddNumberToObject(o, "max_output_channels", d[i].max_output_channels);
		cJSON_AddNumberToObject(o, "default_rate", d[i].default_rate);
		cJSON_AddBoolToObject(o, "default_input", d[i].default_input);
		cJSON_AddBoolToObject(o, "default_output", d[i].default_output);
		cJSON_AddItemToArray(list, o);
	}
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	return text;
}

static void print_table(const struct vagent_device_info *d, size_t n)
{
	int name_w = 4, api_w = 8;

	for (size_t i = 0; i < n; i++) {
		int w = (int)strlen(d[i].name), a = (int)strlen(d[i].host_api);
		name_w = w > name_w ? w : name_w;
		api_w = a > api_w ? a : api_w;
	}
	printf("%5s  %-*s  %-*s  %3s  %3s  %7s  %s\n", "INDEX", name_w, "NAME", api_w, "HOST API",
	       "IN", "OUT", "RATE", "DEFAULT");
	for (size_t i = 0; i < n; i++) {
		char marks[16] = "";
		if (d[i].default_input)
			strcat(marks, "in");
		if (d[i].default_output)
			strcat(marks, *marks ? ",out" : "out");
		printf("%5d  %-*s  %-*s  %3d  %3d  %7.0f%s%s\n", d[i].index, name_w, d[i].name,
		       api_w, d[i].host_api, d[i].max_input_channels, d[i].max_output_channels,
		       d[i].default_rate, *marks ? "  " : "", marks);
	}
	if (n == 0)
		printf("(no audio devices)\n");
}

int cmd_devices(int argc, char **argv)
{
	const char *json = NULL;
	const struct cmd_option opts[] = {
		OPT_STRING_(0, "json", &json, "FILE", "write the list as JSON to FILE ('-' for stdout)"),
		OPT_END_(),
	};
	struct vagent_device_info *list = NULL;
	struct vagent_error err;
	size_t n = 0;
	int rc = 0;

	int args = parse_options(&devices_usage, opts, argc, argv);
	if (args == PARSE_OPT_HELP)
		return 0;
	if (args < 0)
		return 2;
	vagent_status st = vagent_devices_list(&list, &n, &err);
	if (st != VAGENT_OK) {
		cmd_error("%s", err.message);
		return vagent_status_exit_code(st);
	}
	if (json) {
		char *text = devices_json(list, n);
		if (!text) {
			cmd_error("out of memory writing JSON");
			rc = 3;
		} else {
			rc = cmd_write_output(json, text);
		}
		free(text);
	}
	if (rc == 0 && !(json && !strcmp(json, "-")))
		print_table(list, n);
	free(list);
	return rc;
}
