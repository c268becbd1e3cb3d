/*
 * workers.c — the loop's worker threads for CPU-heavy jobs (speech
 * recognition, synthesis). In virtual time a job's compute time is charged
 * to the clock: it completes at submit time + cost, queueing behind the
 * other jobs when every worker is busy in virtual time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "loop/loop_int.h"

#define WHERE "workers"

/* Workers run at a lower priority than the loop (nice +19, per thread on
 * Linux): the loop's 20 ms deadlines come first; workers get the rest of
 * the CPU. Best effort: an unprivileged process may always lower it. */
#define WORKER_NICE 19

static void *worker_main(void *arg)
{
	struct vagent_loop *loop = arg;
	clockid_t id = loop->job_clock == VAGENT_JOB_THREAD_CPU ?
		       CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;

	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WORKER_NICE);
	pthread_mutex_lock(&loop->lock);
	for (;;) {
		struct vagent__job *j;
		int64_t t0;

		while (!loop->shutdown && !loop->queue_head)
			pthread_cond_wait(&loop->work_cond, &loop->lock);
		if (loop->shutdown)
			break;
		j = loop->queue_head;
		loop->queue_head = j->next;
		if (!loop->queue_head)
			loop->queue_tail = NULL;
		j->next = NULL;
		pthread_mutex_unlock(&loop->lock);

		t0 = vagent__clock_ns(id);
		j->work(j->arg);
		j->measured = loop->job_clock == VAGENT_JOB_FREE ? 0 :
			vagent__ns_to_ticks(vagent__clock_ns(id) - t0);

		pthread_mutex_lock(&loop->lock);
		j->finished = true;
		if (!loop->virtual_time) {
			if (loop->done_tail)
				loop->done_tail->next = j;
			else
				loop->done_head = j;
			loop->done_tail = j;
		}
		pthread_cond_broadcast(&loop->done_cond);
		pthread_mutex_unlock(&loop->lock);
		vagent__loop_wake(loop);
		pthread_mutex_lock(&loop->lock);
	}
	pthread_mutex_unlock(&loop->lock);
	return NULL;
}

vagent_status vagent__workers_start(struct vagent_loop *loop, int n,
				    struct vagent_error *err)
{
	if (n == 0)
		return VAGENT_OK;
	loop->threads = calloc((size_t)n, sizeof(*loop->threads));
	loop->slot_free = calloc((size_t)n, sizeof(*loop->slot_free));
	if (!loop->threads || !loop->slot_free)
		return vagent__error_set(err, VAGENT_ENOMEM, WHERE, "out of memory");
	for (int i = 0; i < n; i++) {
		int rc = pthread_create(&loop->threads[i], NULL, worker_main, loop);

		if (rc != 0)
			return vagent__error_set(err, VAGENT_EIO, WHERE,
						 "cannot start worker thread: %s",
						 strerror(rc));
		loop->nthreads++;
	}
	return VAGENT_OK;
}

/* Jobs that will never complete: done(arg, -1) lets their owner free
 * `arg` (libuv's UV_ECANCELED), then the job goes. */
static void free_list(struct vagent__job *j, bool pending_links)
{
	while (j) {
		struct vagent__job *next = pending_links ? j->pnext : j->next;

		j->done(j->arg, -1);
		free(j);
		j = next;
	}
}

void vagent__workers_stop(struct vagent_loop *loop)
{
	pthread_mutex_lock(&loop->lock);
	loop->shutdown = true;
	pthread_cond_broadcast(&loop->work_cond);
	pthread_mutex_unlock(&loop->lock);
	for (int i = 0; i < loop->nthreads; i++)
		pthread_join(loop->threads[i], NULL);
	loop->nthreads = 0;
	if (loop->virtual_time) {
		/* Every job not yet scheduled is on the submit-order list. */
		free_list(loop->pending_head, true);
	} else {
		free_list(loop->queue_head, false);
		free_list(loop->done_head, false);
	}
	loop->pending_head = loop->pending_tail = NULL;
	loop->queue_head = loop->queue_tail = NULL;
	loop->done_head = loop->done_tail = NULL;
	free(loop->threads);
	free(loop->slot_free);
	loop->threads = NULL;
	loop->slot_free = NULL;
}

static void job_fire(struct vagent_timer *t, void *arg)
{
	struct vagent__job *j = arg;
	struct vagent_loop *loop = t->loop;
	int64_t charged = j->declared >= 0 ? j->declared : j->measured;

	loop->jobs_out--;
	j->done(j->arg, charged);
	free(j);
}

bool vagent__timer_is_job(const struct vagent_timer *t)
{
	return t->fn == job_fire;
}

void vagent__job_free_scheduled(struct vagent_timer *t)
{
	struct vagent__job *j = t->arg;

	j->done(j->arg, -1);
	free(t->arg);
}

/* Virtual time: give the oldest job (finished) its completion event on the
 * worker that is free first in virtual time. */
static void schedule_oldest(struct vagent_loop *loop)
{
	struct vagent__job *j = loop->pending_head;
	int64_t cost = j->declared >= 0 ? j->declared : j->measured;
	int slot = 0;
	int64_t start;

	loop->pending_head = j->pnext;
	if (!loop->pending_head)
		loop->pending_tail = NULL;
	loop->heap_reserved--;
	for (int i = 1; i < loop->nthreads; i++)
		if (loop->slot_free[i] < loop->slot_free[slot])
			slot = i;
	start = j->submitted > loop->slot_free[slot] ? j->submitted :
		loop->slot_free[slot];
	loop->slot_free[slot] = start + cost;
	vagent__timer_schedule(&j->timer, start + cost, j->seq);
}

void vagent__workers_collect(struct vagent_loop *loop)
{
	struct vagent__job *j, *next;

	if (loop->virtual_time) {
		for (;;) {
			bool ready;

			pthread_mutex_lock(&loop->lock);
			ready = loop->pending_head && loop->pending_head->finished;
			pthread_mutex_unlock(&loop->lock);
			if (!ready)
				break;
			schedule_oldest(loop);
		}
		return;
	}
	pthread_mutex_lock(&loop->lock);
	j = loop->done_head;
	loop->done_head = loop->done_tail = NULL;
	pthread_mutex_unlock(&loop->lock);
	for (; j; j = next) {
		next = j->next;
		loop->jobs_out--;
		j->done(j->arg, j->measured);
		free(j);
	}
}

void vagent__workers_wait_oldest(struct vagent_loop *loop)
{
	pthread_mutex_lock(&loop->lock);
	while (!loop->pending_head->finished)
		pthread_cond_wait(&loop->done_cond, &loop->lock);
	pthread_mutex_unlock(&loop->lock);
	schedule_oldest(loop);
}

static vagent_status submit(struct vagent_loop *loop, vagent_work_fn work,
			    vagent_done_fn done, void *arg, int64_t cost,
			    struct vagent_error *err)
{
	struct vagent__job *j;

	if (loop->nthreads == 0)
		return vagent__error_set(err, VAGENT_EINVAL, WHERE,
					 "the loop has no worker threads");
	if (!work || !done)
		return vagent__error_set(err, VAGENT_EINVAL, WHERE,
					 "a job needs a work and a done function");
	if (loop->virtual_time && !vagent__heap_reserve(loop, 1))
		return vagent__error_set(err, VAGENT_ENOMEM, WHERE, "out of memory");
	j = calloc(1, sizeof(*j));
	if (!j)
		return vagent__error_set(err, VAGENT_ENOMEM, WHERE, "out of memory");
	j->work = work;
	j->done = done;
	j->arg = arg;
	j->declared = cost;
	j->submitted = vagent_loop_now(loop);
	vagent__timer_init(&j->timer, loop, job_fire, j);
	if (loop->virtual_time) {
		j->seq = loop->seq++;
		loop->heap_reserved++;
		if (loop->pending_tail)
			loop->pending_tail->pnext = j;
		else
			loop->pending_head = j;
		loop->pending_tail = j;
	}
	pthread_mutex_lock(&loop->lock);
	if (loop->queue_tail)
		loop->queue_tail->next = j;
	else
		loop->queue_head = j;
	loop->queue_tail = j;
	pthread_cond_signal(&loop->work_cond);
	pthread_mutex_unlock(&loop->lock);
	loop->jobs_out++;
	return VAGENT_OK;
}

vagent_status vagent_loop_submit(struct vagent_loop *loop, vagent_work_fn work,
				 vagent_done_fn done, void *arg,
				 struct vagent_error *err)
{
	return submit(loop, work, done, arg, -1, err);
}

vagent_status vagent_loop_submit_cost(struct vagent_loop *loop,
				      vagent_work_fn work, vagent_done_fn done,
				      void *arg, int64_t cost,
				      struct vagent_error *err)
{
	if (cost < 0)
		return vagent__error_set(err, VAGENT_EINVAL, WHERE,
					 "negative job cost (%lld ticks)",
					 (long long)cost);
	return submit(loop, work, done, arg, cost, err);
}
