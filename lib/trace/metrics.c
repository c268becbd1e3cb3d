/*
 * metrics.c — the hop latencies of DESIGN.md §6 computed from a trace
 * alone: per turn, per tool call, per interruption and per call. The exact
 * from/to events and the edge cases are in docs/metrics.md.
 */
#include <stdlib.h>
#include <string.h>

#include "trace/trace_int.h"

#define ABSENT VAGENT_METRIC_ABSENT

static const char *const metric_names[VAGENT_METRIC_COUNT] = {
#define VAGENT__METRIC_NAME(name, wire) wire,
	VAGENT_METRIC_MAP(VAGENT__METRIC_NAME)
#undef VAGENT__METRIC_NAME
};

const char *vagent_metric_name(vagent_metric m)
{
	if ((unsigned)m < VAGENT_METRIC_COUNT)
		return metric_names[m];
	return "unknown";
}

vagent_status vagent_metric_from_name(const char *name, vagent_metric *out)
{
	for (int i = 0; name && i < VAGENT_METRIC_COUNT; i++) {
		if (!strcmp(name, metric_names[i])) {
			*out = (vagent_metric)i;
			return VAGENT_OK;
		}
	}
	return VAGENT_EINVAL;
}

/* The metrics and the strings they own. */
struct metrics_impl {
	struct vagent_trace_metrics pub;
	struct vagent__owned owned;
};

void vagent_trace_metrics_free(struct vagent_trace_metrics *m)
{
	struct metrics_impl *impl = (struct metrics_impl *)m;

	if (!m)
		return;
	for (size_t i = 0; i < m->n_calls; i++) {
		free(m->calls[i].turns);
		free(m->calls[i].tools);
		free(m->calls[i].barge_ins);
	}
	free(m->calls);
	vagent__owned_free(&impl->owned);
	free(impl);
}

/* A copy of `s` owned by the metrics; NULL when out of memory. */
static const char *own_copy(struct metrics_impl *impl, const char *s)
{
	return vagent__owned_take(&impl->owned, strdup(s ? s : ""));
}

/* An event and its position in the input, for a stable order. */
struct ref {
	const struct vagent_trace_event *ev;
	size_t pos;
};

static const char *call_of(const struct vagent_trace_event *ev)
{
	return ev->call ? ev->call : "";
}

/* By call, then turn, then time, then input position. */
static int cmp_ref(const void *pa, const void *pb)
{
	const struct ref *a = pa, *b = pb;
	int c = strcmp(call_of(a->ev), call_of(b->ev));

	if (c)
		return c;
	if (a->ev->turn != b->ev->turn)
		return a->ev->turn < b->ev->turn ? -1 : 1;
	if (a->ev->t_us != b->ev->t_us)
		return a->ev->t_us < b->ev->t_us ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* The earliest event of `type` in r[0..n-1] (time-ordered) at or after
 * `from`; NULL if none. */
static const struct vagent_trace_event *first_at(const struct ref *r, size_t n,
						 vagent_trace_type type, int64_t from)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].ev->type == type && r[i].ev->t_us >= from)
			return r[i].ev;
	return NULL;
}

static bool has_text(const char *s)
{
	for (; s && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return true;
	return false;
}

/* The first provider.first_byte of `slot` in r[0..n-1]; NULL if none. */
static const struct vagent_trace_event *first_byte_of(const struct ref *r, size_t n,
						      const char *slot)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].ev->type == VAGENT_TRACE_PROVIDER_FIRST_BYTE && r[i].ev->slot &&
		    !strcmp(r[i].ev->slot, slot))
			return r[i].ev;
	return NULL;
}

/* Set hop `m` to `value`, answered by `ev`'s provider (or `alt`'s). */
static void set_hop(struct vagent_turn_metrics *tm, vagent_metric m, int64_t value,
		    const struct vagent_trace_event *ev, const struct vagent_trace_event *alt)
{
	tm->hop[m] = value;
	tm->provider[m] = ev && ev->provider ? ev->provider :
			  alt && alt->provider ? alt->provider : NULL;
}

static void turn_metrics(const struct ref *r, size_t n, struct vagent_turn_metrics *tm)
{
	static const struct { vagent_metric m; const char *slot; } ttfb[] = {
		{ VAGENT_METRIC_STT_TTFB, "stt" },
		{ VAGENT_METRIC_LLM_TTFB, "llm" },
		{ VAGENT_METRIC_TTS_NET_TTFB, "tts" },
	};
	const struct vagent_trace_event *start = NULL, *end = NULL, *te, *ev;
	int64_t s_us, e_us;

	memset(tm, 0, sizeof(*tm));
	tm->turn = r[0].ev->turn;
	for (int m = 0; m < VAGENT_METRIC_COUNT; m++)
		tm->hop[m] = ABSENT;

	te = first_at(r, n, VAGENT_TRACE_TURN_END, INT64_MIN);
	tm->turn_end_us = te ? te->t_us : ABSENT;
	/* True start: the first caller.speech_start of the turn. True end:
	 * the last caller.speech_end at or before turn.end (any, without a
	 * turn.end). Segments: speech starts at or before turn.end. */
	for (size_t i = 0; i < n; i++) {
		ev = r[i].ev;
		if (te && ev->t_us > te->t_us)
			break;
		if (ev->type == VAGENT_TRACE_CALLER_SPEECH_START) {
			if (!start)
				start = ev;
			tm->segments++;
		} else if (ev->type == VAGENT_TRACE_CALLER_SPEECH_END) {
			end = ev;
		}
	}
	if (start && end && end->t_us < start->t_us)
		end = NULL;
	s_us = start ? start->t_us : ABSENT;
	e_us = end ? end->t_us : ABSENT;
	tm->speech_start_us = s_us;
	tm->speech_end_us = e_us;
	tm->estimated = (start && start->estimated) || (end && end->estimated);

	if (start) {
		for (size_t i = 0; i < n; i++) {
			ev = r[i].ev;
			if (ev->type == VAGENT_TRACE_STT_PARTIAL && ev->t_us >= s_us &&
			    has_text(ev->text)) {
				set_hop(tm, VAGENT_METRIC_STT_FIRST_PARTIAL, ev->t_us - s_us,
					ev, NULL);
				break;
			}
		}
	}
	if (end) {
		if (te)
			tm->hop[VAGENT_METRIC_ENDPOINT] = te->t_us - e_us;
		if ((ev = first_at(r, n, VAGENT_TRACE_STT_FINAL, e_us)))
			set_hop(tm, VAGENT_METRIC_STT_FINAL, ev->t_us - e_us, ev, NULL);
		if ((ev = first_at(r, n, VAGENT_TRACE_AGENT_AUDIO_START, e_us)))
			tm->hop[VAGENT_METRIC_E2E] = ev->t_us - e_us;
	}
	if ((start = first_at(r, n, VAGENT_TRACE_LLM_REQUEST, INT64_MIN)) &&
	    (ev = first_at(r, n, VAGENT_TRACE_LLM_FIRST_TOKEN, start->t_us))) {
		/* after a fallback: the provider whose request answered */
		const struct vagent_trace_event *req = start;

		for (size_t i = 0; i < n && r[i].ev->t_us <= ev->t_us; i++)
			if (r[i].ev->type == VAGENT_TRACE_LLM_REQUEST)
				req = r[i].ev;
		set_hop(tm, VAGENT_METRIC_LLM_TTFT, ev->t_us - start->t_us, ev, req);
	}
	if ((start = first_at(r, n, VAGENT_TRACE_TTS_REQUEST, INT64_MIN)) &&
	    (ev = first_at(r, n, VAGENT_TRACE_TTS_FIRST_AUDIO, start->t_us)))
		set_hop(tm, VAGENT_METRIC_TTS_TTFB, ev->t_us - start->t_us, ev, start);
	for (size_t k = 0; k < sizeof(ttfb) / sizeof(ttfb[0]); k++)
		if ((ev = first_byte_of(r, n, ttfb[k].slot)))
			set_hop(tm, ttfb[k].m, ev->ttfb_us, ev, NULL);
	for (size_t i = 0; i < n; i++)
		if (r[i].ev->type == VAGENT_TRACE_AGENT_AUDIO_STOP &&
		    r[i].ev->reason && !strcmp(r[i].ev->reason, "barge_in"))
			tm->interrupted = true;
}

static bool any_hop(const struct vagent_turn_metrics *tm)
{
	for (int m = 0; m < VAGENT_METRIC_COUNT; m++)
		if (tm->hop[m] != ABSENT)
			return true;
	return false;
}

static bool is_tool_outcome(vagent_trace_type t)
{
	return t == VAGENT_TRACE_TOOL_END || t == VAGENT_TRACE_TOOL_TIMEOUT ||
	       t == VAGENT_TRACE_TOOL_ERROR;
}

/* Tool outcomes of one turn group, by id then group position (= time
 * order), so each tool.start finds its outcome by binary search: a scan
 * per start took minutes on a turn of 20 000 tool calls. */
static int cmp_outcome(const void *pa, const void *pb)
{
	const struct ref *a = pa, *b = pb;
	int c = strcmp(a->ev->id ? a->ev->id : "", b->ev->id ? b->ev->id : "");

	return c ? c : (a->pos > b->pos) - (a->pos < b->pos);
}

/* The first outcome in o[0..n-1] (sorted by cmp_outcome) with `id` at or
 * after `from`; NULL if none. */
static const struct vagent_trace_event *find_outcome(const struct ref *o, size_t n,
						     const char *id, int64_t from)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(o[mid].ev->id, id);

		if (c < 0 || (c == 0 && o[mid].ev->t_us < from))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && !strcmp(o[lo].ev->id, id) ? o[lo].ev : NULL;
}

/* The first agent.audio_stop in s[0..n-1] (time order) at or after
 * `from`; NULL if none. */
static const struct vagent_trace_event *find_stop(const struct ref *s, size_t n,
						  int64_t from)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s[mid].ev->t_us < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n ? s[lo].ev : NULL;
}

/* Fill `cm` from the events r[0..n-1] of one call (sorted by cmp_ref). */
static vagent_status call_metrics(struct metrics_impl *impl, const struct ref *r,
				  size_t n, struct vagent_call_metrics *cm)
{
	size_t n_turn_groups = 0, n_tools = 0, n_barge = 0;
	const struct vagent_trace_event *start = NULL, *audio = NULL;
	struct ref *scratch = NULL;

	if (!(cm->call = own_copy(impl, call_of(r[0].ev))))
		return VAGENT_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct vagent_trace_event *ev = r[i].ev;

		if (i == 0 || ev->turn != r[i - 1].ev->turn)
			n_turn_groups++;
		if (ev->type == VAGENT_TRACE_TOOL_START)
			n_tools++;
		else if (ev->type == VAGENT_TRACE_BARGE_IN)
			n_barge++;
		else if (ev->type == VAGENT_TRACE_CALL_START &&
			 (!start || ev->t_us < start->t_us))
			start = ev;
	}
	/* answer: call.start to the first agent audio of the call. */
	cm->answer = ABSENT;
	for (size_t i = 0; start && i < n; i++) {
		const struct vagent_trace_event *ev = r[i].ev;

		if (ev->type == VAGENT_TRACE_AGENT_AUDIO_START && ev->t_us >= start->t_us &&
		    (!audio || ev->t_us < audio->t_us))
			audio = ev;
	}
	if (audio)
		cm->answer = audio->t_us - start->t_us;

	cm->turns = calloc(n_turn_groups, sizeof(*cm->turns));
	cm->tools = calloc(n_tools ? n_tools : 1, sizeof(*cm->tools));
	cm->barge_ins = calloc(n_barge ? n_barge : 1, sizeof(*cm->barge_ins));
	if (!cm->turns || !cm->tools || !cm->barge_ins)
		return VAGENT_ENOMEM;
	/* Scratch for one turn group's tool outcomes and audio stops. */
	if (!(scratch = malloc(2 * n * sizeof(*scratch))))
		return VAGENT_ENOMEM;

	for (size_t a = 0, b; a < n; a = b) {
		const struct ref *g = r + a;
		struct vagent_turn_metrics *tm = &cm->turns[cm->n_turns];
		struct ref *outcomes = scratch, *stops = scratch + n;
		size_t gn, n_out = 0, n_stops = 0;

		for (b = a + 1; b < n && r[b].ev->turn == r[a].ev->turn; b++)
			;
		gn = b - a;
		turn_metrics(g, gn, tm);
		for (int m = 0; m < VAGENT_METRIC_COUNT; m++)
			if (tm->provider[m] && !(tm->provider[m] = own_copy(impl, tm->provider[m]))) {
				free(scratch);
				return VAGENT_ENOMEM;
			}
		if (tm->turn > 0 || any_hop(tm))
			cm->n_turns++;

		for (size_t i = 0; i < gn; i++) {
			if (is_tool_outcome(g[i].ev->type) && g[i].ev->id)
				outcomes[n_out++] = (struct ref){ g[i].ev, i };
			else if (g[i].ev->type == VAGENT_TRACE_AGENT_AUDIO_STOP)
				stops[n_stops++] = (struct ref){ g[i].ev, i };
		}
		if (n_out > 1)
			qsort(outcomes, n_out, sizeof(*outcomes), cmp_outcome);

		for (size_t i = 0; i < gn; i++) {
			const struct vagent_trace_event *ev = g[i].ev, *end = NULL;

			if (ev->type == VAGENT_TRACE_TOOL_START) {
				struct vagent_tool_metrics *t = &cm->tools[cm->n_tools++];

				if (ev->id)
					end = find_outcome(outcomes, n_out, ev->id, ev->t_us);
				t->turn = ev->turn;
				t->name = own_copy(impl, ev->name);
				t->id = own_copy(impl, ev->id);
				if (!t->name || !t->id) {
					free(scratch);
					return VAGENT_ENOMEM;
				}
				t->start_us = ev->t_us;
				t->outcome = !end ? NULL :
					     end->type == VAGENT_TRACE_TOOL_END ? "end" :
					     end->type == VAGENT_TRACE_TOOL_TIMEOUT ? "timeout" : "error";
				t->tool = end ? end->t_us - ev->t_us : ABSENT;
			} else if (ev->type == VAGENT_TRACE_BARGE_IN) {
				struct vagent_barge_in_metrics *bi = &cm->barge_ins[cm->n_barge_ins++];

				end = find_stop(stops, n_stops, ev->t_us);
				bi->turn = ev->turn;
				bi->onset_us = ev->onset_us;
				bi->decision_us = ev->decision_us;
				bi->stop_us = end ? end->t_us : ABSENT;
				bi->barge_in_stop = end && end->t_us >= ev->onset_us ?
						    end->t_us - ev->onset_us : ABSENT;
			}
		}
	}
	free(scratch);
	return VAGENT_OK;
}

/* A call's first input position and its index in the calls array. */
struct first_pos {
	size_t pos, index;
};

static int cmp_first_pos(const void *pa, const void *pb)
{
	const struct first_pos *a = pa, *b = pb;

	return (a->pos > b->pos) - (a->pos < b->pos);
}

vagent_status vagent_metrics_from_trace(const struct vagent_trace_event *events,
					size_t n, struct vagent_trace_metrics **out,
					struct vagent_error *err)
{
	struct metrics_impl *impl = calloc(1, sizeof(*impl));
	struct ref *r = NULL;
	size_t *first = NULL;   /* first input position of each call */
	size_t n_calls = 0;
	vagent_status st = VAGENT_OK;

	*out = NULL;
	if (!impl || (n && !(r = malloc(n * sizeof(*r)))))
		goto done;
	for (size_t i = 0; i < n; i++) {
		r[i].ev = &events[i];
		r[i].pos = i;
	}
	if (n)
		qsort(r, n, sizeof(*r), cmp_ref);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(call_of(r[i].ev), call_of(r[i - 1].ev)))
			n_calls++;
	if (n_calls) {
		impl->pub.calls = calloc(n_calls, sizeof(*impl->pub.calls));
		first = malloc(n_calls * sizeof(*first));
		if (!impl->pub.calls || !first)
			goto done;
	}
	for (size_t a = 0, b; a < n; a = b) {
		size_t c = impl->pub.n_calls++;

		first[c] = r[a].pos;
		for (b = a + 1; b < n && !strcmp(call_of(r[b].ev), call_of(r[a].ev)); b++)
			if (r[b].pos < first[c])
				first[c] = r[b].pos;
		if (call_metrics(impl, r + a, b - a, &impl->pub.calls[c]) != VAGENT_OK)
			goto done;
	}
	/* Calls in order of first appearance (sorted: an insertion sort took
	 * 15 s on 100 000 calls named in descending order). */
	if (impl->pub.n_calls > 1) {
		struct first_pos *order = malloc(impl->pub.n_calls * sizeof(*order));
		struct vagent_call_metrics *calls =
			malloc(impl->pub.n_calls * sizeof(*calls));

		if (!order || !calls) {
			free(order);
			free(calls);
			goto done;
		}
		for (size_t i = 0; i < impl->pub.n_calls; i++)
			order[i] = (struct first_pos){ first[i], i };
		qsort(order, impl->pub.n_calls, sizeof(*order), cmp_first_pos);
		for (size_t i = 0; i < impl->pub.n_calls; i++)
			calls[i] = impl->pub.calls[order[i].index];
		free(impl->pub.calls);
		impl->pub.calls = calls;
		free(order);
	}
	*out = &impl->pub;
	impl = NULL;
done:
	if (impl || !*out) {
		st = vagent__error_set(err, VAGENT_ENOMEM, "trace metrics", "out of memory");
		vagent_trace_metrics_free(impl ? &impl->pub : NULL);
	}
	free(r);
	free(first);
	return st;
}
