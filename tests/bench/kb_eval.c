/*
 * kb_eval.c — `make bench BENCH=nlu`: knowledge retrieval on the store
 * knowledge base: how often the right section comes first (and in the top
 * three) for labelled caller questions (fixtures/knowledge/queries.tsv),
 * the misses, and searches per second.
 *   usage: kb_eval KNOWLEDGE_FILE QUERIES_TSV
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vagent.h"

#define MAX_QUERIES 1024

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *slug(const char *source)
{
	const char *h = strchr(source, '#');

	return h ? h + 1 : "";
}

int main(int argc, char **argv)
{
	static char *query[MAX_QUERIES], *want[MAX_QUERIES];
	struct vagent_kb *kb = NULL;
	struct vagent_error err;
	struct vagent_kb_hit hits[3];
	int nq = 0, top1 = 0, top3 = 0, lineno = 0;
	char line[1024];
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: kb_eval KNOWLEDGE_FILE QUERIES_TSV\n");
		return 2;
	}
	if (vagent_kb_new(&kb) != VAGENT_OK)
		return 3;
	if (vagent_kb_add_file(kb, argv[1], &err) != VAGENT_OK) {
		fprintf(stderr, "kb_eval: %s\n", err.message);
		return vagent_status_exit_code(err.status);
	}
	f = fopen(argv[2], "r");
	if (!f) {
		fprintf(stderr, "kb_eval: %s: cannot open\n", argv[2]);
		return 2;
	}
	while (fgets(line, sizeof line, f) && nq < MAX_QUERIES) {
		char *tab;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		tab = strchr(line, '\t');
		if (!tab) {
			fprintf(stderr, "kb_eval: %s:%d: want slug<TAB>query\n", argv[2], lineno);
			return 2;
		}
		*tab = '\0';
		want[nq] = strdup(line);
		query[nq++] = strdup(tab + 1);
	}
	fclose(f);

	printf("knowledge: %zu chunks; %d labelled questions\n", vagent_kb_chunks(kb), nq);
	for (int i = 0; i < nq; i++) {
		size_t n = vagent_kb_search(kb, query[i], hits, 3);
		int rank = 0;

		for (size_t k = 0; k < n && !rank; k++)
			if (!strcmp(slug(hits[k].source), want[i]))
				rank = (int)k + 1;
		top1 += rank == 1;
		top3 += rank >= 1;
		if (rank != 1)
			printf("  miss: \"%s\": want #%s, got #%s%s\n", query[i], want[i],
			       n ? slug(hits[0].source) : "(nothing)",
			       rank ? " (right one in the top 3)" : "");
	}
	printf("right section first: %d/%d (%.1f%%), in the top 3: %d/%d\n", top1, nq,
	       100.0 * top1 / (nq ? nq : 1), top3, nq);

	double t0 = now(), t1;
	long searches = 0;

	do {
		for (int i = 0; i < nq; i++)
			searches += vagent_kb_search(kb, query[i], hits, 3) <= 3;
		t1 = now();
	} while (t1 - t0 < 1.0);
	printf("searches per second (top 3 with answers): %.0f\n", (double)searches / (t1 - t0));

	vagent_kb_free(kb);
	for (int i = 0; i < nq; i++) {
		free(query[i]);
		free(want[i]);
	}
	return 0;
}
