/*
 * nlu_eval.c — `make bench BENCH=nlu`: intent accuracy of the fuzzy matcher
 * on a labelled set of noisy caller queries (fixtures/nlu/intents.tsv), at
 * several acceptance thresholds, what the flow brain would do with each
 * query (act, ask, fall back: thresholds 0.5 and 0.35), the queries it gets
 * wrong at the default threshold, and matches per second.
 *   usage: nlu_eval [--agent AGENT.json] [--scores] TSV [THRESHOLD]
 * --agent takes the intents (examples, keywords) from an agent file's flow
 * instead of the TSV's example/keyword lines; --scores prints every
 * query's per-intent scores, best first.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vagent.h"

#define MAX_INTENTS 64
#define MAX_QUERIES 4096
#define CLARIFY 0.35            /* the flow's default clarify_threshold */

static char *names[MAX_INTENTS];
static int nnames;

static bool names_fixed;        /* the agent's intents: no new names */

static int intent_of(const char *name)
{
	if (!strcmp(name, "none"))
		return -1;
	for (int i = 0; i < nnames; i++)
		if (!strcmp(names[i], name))
			return i;
	if (nnames == MAX_INTENTS || names_fixed)
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
	struct vagent_agent *agent = NULL;
	const char *agent_path = NULL;
	bool show_scores = false;
	double threshold = 0.5;
	int nq = 0, lineno = 0;
	char line[1024];
	FILE *f;

	while (argc > 1 && argv[1][0] == '-' && argv[1][1] == '-') {
		if (!strcmp(argv[1], "--agent") && argc > 2) {
			agent_path = argv[2];
			argc--;
			argv++;
		} else if (!strcmp(argv[1], "--scores")) {
			show_scores = true;
		} else {
			break;
		}
		argc--;
		argv++;
	}
	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: nlu_eval [--agent AGENT.json] [--scores] TSV [THRESHOLD]\n");
		return 2;
	}
	if (argc > 2)
		threshold = atof(argv[2]);
	if (vagent_intent_matcher_new(&m) != VAGENT_OK)
		return 3;
	if (agent_path) {
		struct vagent_error err = { 0 };

		if (vagent_agent_load(agent_path, &agent, &err) != VAGENT_OK) {
			fprintf(stderr, "nlu_eval: %s\n", err.message);
			return 2;
		}
		for (size_t i = 0; i < agent->flow.n_intents && i < MAX_INTENTS; i++) {
			const struct vagent_agent_intent *in = &agent->flow.intents[i];

			names[nnames] = strdup(in->name);
			if (vagent_intent_matcher_add(m, nnames++,
						      (const char *const *)in->examples,
						      (const char *const *)in->keywords) != VAGENT_OK)
				return 3;
		}
		names_fixed = true;
		vagent_agent_free(agent);
	}
	f = fopen(argv[1], "r");
	if (!f) {
		fprintf(stderr, "nlu_eval: %s: cannot open\n", argv[1]);
		return 2;
	}
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
			fprintf(stderr, "nlu_eval: %s:%d: %s\n", argv[1], lineno,
				names_fixed ? "no such intent in the agent" : "too many intents");
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

		if (id < 0 || agent_path || (!example && strcmp(kind, "keyword"))) {
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
	/* What the flow brain does (docs/flow.md): act at >= threshold, ask
	 * "you'd like to ..., is that right?" from 0.35, else fall back. */
	int act_ok = 0, act_bad = 0, ask_ok = 0, ask_bad = 0, fall_in = 0;
	int out_fall = 0, out_ask = 0, out_act = 0;

	for (int i = 0; i < nq; i++) {
		bool act = qgot[i] >= 0 && qscore[i] >= threshold;
		bool ask = !act && qgot[i] >= 0 && qscore[i] >= CLARIFY;

		if (qlabel[i] >= 0) {
			act_ok += act && qgot[i] == qlabel[i];
			act_bad += act && qgot[i] != qlabel[i];
			ask_ok += ask && qgot[i] == qlabel[i];
			ask_bad += ask && qgot[i] != qlabel[i];
			fall_in += !act && !ask;
		} else {
			out_act += act;
			out_ask += ask;
			out_fall += !act && !ask;
		}
	}
	printf("flow at %.2f, asking from %.2f: in scope %d acted right, %d asked right, "
	       "%d acted wrong, %d asked wrong, %d fell back; out of scope %d fell back, "
	       "%d asked, %d acted\n", threshold, CLARIFY, act_ok, ask_ok, act_bad, ask_bad,
	       fall_in, out_fall, out_ask, out_act);
	if (show_scores)
		for (int i = 0; i < nq; i++) {
			struct vagent_intent_score sc[MAX_INTENTS];
			size_t n = vagent_intent_scores(m, qtext[i], sc, MAX_INTENTS);

			printf("  %-14s \"%s\":", qlabel[i] >= 0 ? names[qlabel[i]] : "none",
			       qtext[i]);
			for (size_t k = 0; k < n; k++)
				printf(" %s=%.2f", names[sc[k].intent], sc[k].score);
			printf("\n");
		}
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
