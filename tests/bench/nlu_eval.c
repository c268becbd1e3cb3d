/*
 * nlu_eval.c — `make bench BENCH=nlu`: intent accuracy of the fuzzy matcher
 * on a labelled set of noisy caller queries (fixtures/nlu/intents.tsv), at
 * several acceptance thresholds, the queries it gets wrong at the default
 * threshold, and matches per second.
 *   usage: nlu_eval TSV [THRESHOLD]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vagent.h"

#define MAX_INTENTS 64
#define MAX_QUERIES 4096

static char *names[MAX_INTENTS];
static int nnames;

static int intent_of(const char *name)
{
	if (!strcmp(name, "none"))
		return -1;
	for (int i = 0; i < nnames; i++)
		if (!strcmp(names[i], name))
			return i;
	if (nnames == MAX_INTENTS)
		return -2;
	names[nnames] = strdup(name);
	return nnames++;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static char *qtext[MAX_QUERIES];
	static int qlabel[MAX_QUERIES], qgot[MAX_QUERIES];
	static double qscore[MAX_QUERIES];
	struct vagent_intent_matcher *m = NULL;
	double threshold = argc > 2 ? atof(argv[2]) : 0.5;
	int nq = 0, lineno = 0;
	char line[1024];
	FILE *f;

	if (argc < 2) {
		fprintf(stderr, "usage: nlu_eval TSV [THRESHOLD]\n");
		return 2;
	}
	f = fopen(argv[1], "r");
	if (!f) {
		fprintf(stderr, "nlu_eval: %s: cannot open\n", argv[1]);
		return 2;
	}
	if (vagent_intent_matcher_new(&m) != VAGENT_OK)
		return 3;
	while (fgets(line, sizeof line, f)) {
		char *kind = line, *name, *text;
		int id;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		name = strchr(kind, '\t');
		text = name ? strchr(name + 1, '\t') : NULL;
		if (!text) {
			fprintf(stderr, "nlu_eval: %s:%d: want kind<TAB>intent<TAB>text\n",
				argv[1], lineno);
			return 2;
		}
		*name++ = '\0';
		*text++ = '\0';
		id = intent_of(name);
		if (id < -1) {
			fprintf(stderr, "nlu_eval: %s:%d: too many intents\n", argv[1], lineno);
			return 2;
		}
		if (!strcmp(kind, "query")) {
			if (nq == MAX_QUERIES)
				continue;
			qtext[nq] = strdup(text);
			qlabel[nq++] = id;
			continue;
		}
		const char *one[] = { text, NULL };
		bool example = !strcmp(kind, "example");

		if (id < 0 || (!example && strcmp(kind, "keyword"))) {
			fprintf(stderr, "nlu_eval: %s:%d: bad line\n", argv[1], lineno);
			return 2;
		}
		if (vagent_intent_matcher_add(m, id, example ? one : NULL,
					      example ? NULL : one) != VAGENT_OK)
			return 3;
	}
	fclose(f);

	for (int i = 0; i < nq; i++)
		qgot[i] = vagent_intent_match(m, qtext[i], &qscore[i]);

	int nout = 0;

	for (int i = 0; i < nq; i++)
		nout += qlabel[i] < 0;
	printf("intents: %d, queries: %d (%d in scope, %d out of scope)\n", nnames, nq,
	       nq - nout, nout);
	static const double thresholds[] = { 0.3, 0.4, 0.5, 0.6, 0.7 };

	printf("threshold  accuracy  in scope  out of scope rejected\n");
	for (size_t t = 0; t < sizeof thresholds / sizeof thresholds[0]; t++) {
		int ok = 0, in = 0, in_ok = 0, out = 0, out_ok = 0;

		for (int i = 0; i < nq; i++) {
			int got = qscore[i] >= thresholds[t] ? qgot[i] : -1;

			ok += got == qlabel[i];
			if (qlabel[i] >= 0) {
				in++;
				in_ok += got == qlabel[i];
			} else {
				out++;
				out_ok += got == -1;
			}
		}
		printf("  %.2f     %5.1f%%    %3d/%-3d   %d/%d\n", thresholds[t],
		       100.0 * ok / (nq ? nq : 1), in_ok, in, out_ok, out);
	}
	/* Where the scores fall: the weakest correct in-scope match and the
	 * strongest out-of-scope one bound a good threshold. */
	double min_in = 1, max_out = 0;
	int top1 = 0, nin = 0;

	for (int i = 0; i < nq; i++) {
		if (qlabel[i] >= 0) {
			nin++;
			if (qgot[i] == qlabel[i]) {
				top1++;
				if (qscore[i] < min_in)
					min_in = qscore[i];
			}
		} else if (qscore[i] > max_out) {
			max_out = qscore[i];
		}
	}
	printf("top-1 intent right (any score): %d/%d; weakest right score %.2f, "
	       "strongest out-of-scope score %.2f\n", top1, nin, min_in, max_out);
	printf("misses at threshold %.2f:\n", threshold);
	for (int i = 0; i < nq; i++) {
		int got = qscore[i] >= threshold ? qgot[i] : -1;

		if (got != qlabel[i])
			printf("  want %-20s got %-20s (best %s %.2f)  \"%s\"\n",
			       qlabel[i] >= 0 ? names[qlabel[i]] : "none",
			       got >= 0 ? names[got] : "none",
			       qgot[i] >= 0 ? names[qgot[i]] : "none", qscore[i], qtext[i]);
	}

	/* Throughput: the whole query set, repeated for about a second. */
	double t0 = now(), t1;
	long matches = 0;

	do {
		for (int i = 0; i < nq; i++)
			matches += vagent_intent_match(m, qtext[i], NULL) >= -1;
		t1 = now();
	} while (t1 - t0 < 1.0);
	printf("matches per second: %.0f (%d intents, %ld matches in %.2f s)\n",
	       (double)matches / (t1 - t0), nnames, matches, t1 - t0);

	vagent_intent_matcher_free(m);
	for (int i = 0; i < nq; i++)
		free(qtext[i]);
	for (int i = 0; i < nnames; i++)
		free(names[i]);
	return 0;
}
