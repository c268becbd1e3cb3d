/*
 * diag.c — a list of validation problems. Validators (`vagent validate`,
 * the agent, scenario and call file loaders) report every problem they
 * find, one line each ("FILE:LINE: field: problem"), not just the first.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

void vagent_diags_init(struct vagent_diags *d)
{
	memset(d, 0, sizeof(*d));
}

void vagent_diags_clear(struct vagent_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->lines[i]);
	free(d->lines);
	vagent_diags_init(d);
}

void vagent_diags_add(struct vagent_diags *d, const char *fmt, ...)
{
	char line[sizeof(((struct vagent_error *)0)->message)];
	va_list ap;

	if (!d)
		return;
	if (d->n >= VAGENT_DIAGS_MAX) {
		d->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* the same problem found twice (a field checked by two passes) is
	 * reported once */
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->lines[i], line))
			return;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		char **p = realloc(d->lines, cap * sizeof(*p));

		if (!p) {
			d->dropped++;
			return;
		}
		d->lines = p;
		d->cap = cap;
	}
	if (!(d->lines[d->n] = strdup(line))) {
		d->dropped++;
		return;
	}
	d->n++;
}
