/*
 * loop_int.h — private structures of the session clock, the event loop,
 * its timer heap, fd watchers and worker pool (lib/loop/, docs/loop.md).
 */
#ifndef VAGENT_LOOP_INT_H
#define VAGENT_LOOP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>

#include "core/internal.h"

struct vagent_clock {
	enum vagent_clock_type type;
	int64_t origin_ns;          /* real: CLOCK_MONOTONIC at creation */
	_Atomic int64_t now;        /* virtual: the current instant */
};

/* CLOCK_MONOTONIC (or another clock id) in nanoseconds. */
int64_t vagent__clock_ns(clockid_t id);
/* Nanoseconds to ticks (floor) and ticks to nanoseconds (ceiling), for
 * non-negative values; exact for every value below ±292 years. */
int64_t vagent__ns_to_ticks(int64_t ns);
int64_t vagent__ticks_to_ns_ceil(int64_t ticks);
/* Move a virtual clock to `t` (never backwards; the caller checks). */
void vagent__clock_set(struct vagent_clock *c, int64_t t);

#define VAGENT__NO_INDEX SIZE_MAX

struct vagent_timer {
	struct vagent_loop *loop;
	vagent_timer_fn fn;
	void *arg;
	int64_t due;                /* next deadline while active */
	int64_t period;             /* 0 for one-shot */
	int64_t fire_due;           /* deadline of the firing in progress */
	uint64_t seq;               /* tie-break: scheduling order */
	size_t heap_index;          /* VAGENT__NO_INDEX when inactive */
	/* every timer made by vagent_timer_new, so vagent_loop_free can
	 * detach the stopped ones too */
	struct vagent_timer *all_prev, *all_next;
};

struct vagent_io {
	struct vagent_loop *loop;
	int fd;
	unsigned events;
	bool in_epoll;
	vagent_io_fn fn;
	void *arg;
};

struct vagent__job {
	vagent_work_fn work;
	vagent_done_fn done;
	void *arg;
	int64_t declared;           /* charge in ticks, or -1: measure */
	int64_t measured;           /* ticks spent in work() */
	int64_t submitted;          /* loop time at submit */
	uint64_t seq;               /* reserved at submit (virtual order) */
	bool finished;              /* under loop->lock */
	struct vagent__job *next;   /* work queue, then done list (real) */
	struct vagent__job *pnext;  /* submit-order list (virtual) */
	struct vagent_timer timer;  /* virtual completion event */
};

struct vagent__post {
	vagent_loop_fn fn;
	void *arg;
	struct vagent__post *next;
};

#define VAGENT__MAX_EVENTS 64

struct vagent_loop {
	struct vagent_clock *clock;
	struct vagent_timer *all_timers;   /* vagent_timer_new's, linked */
	bool virtual_time;
	int epfd;
	int wakefd;                 /* eventfd: posts, job completions, stop */
	atomic_bool wake;           /* set before writing wakefd */
	atomic_bool stop;
	bool running;
	bool no_pwait2;             /* the kernel lacks epoll_pwait2 */

	/* Timers: binary min-heap on (due, seq). */
	struct vagent_timer **heap;
	size_t heap_len, heap_cap;
	size_t heap_reserved;       /* room kept for unscheduled jobs */
	uint64_t seq;
	struct vagent_timer *current;   /* timer whose callback runs */

	/* fd watchers: the batch being dispatched (entries of watchers freed
	 * meanwhile are cleared). */
	struct epoll_event events[VAGENT__MAX_EVENTS];
	int nevents, ev_pos;
	size_t active_io;           /* watchers with events != 0 */

	/* Shared with other threads, under `lock`. */
	pthread_mutex_t lock;
	pthread_cond_t work_cond;   /* workers wait for jobs */
	pthread_cond_t done_cond;   /* the loop waits for a job (virtual) */
	struct vagent__post *post_head, *post_tail;
	struct vagent__job *queue_head, *queue_tail;
	struct vagent__job *done_head, *done_tail;
	bool shutdown;

	/* Workers (loop thread only below). */
	pthread_t *threads;
	int nthreads;
	enum vagent_job_clock job_clock;
	struct vagent__job *pending_head, *pending_tail; /* virtual, submit order */
	int64_t *slot_free;         /* virtual: when each worker is next free */
	size_t jobs_out;            /* submitted, done not yet called */

	/* the provider cassette bound to the creating thread (a reference),
	 * for the transports (lib/net/cassette.c), or NULL */
	struct vagent_cassette *cassette;
};

/* workers.c */
vagent_status vagent__workers_start(struct vagent_loop *loop, int n,
				    struct vagent_error *err);
void vagent__workers_stop(struct vagent_loop *loop);
/* Hand finished jobs to the loop: real time calls their done callbacks,
 * virtual time schedules their completion events. */
void vagent__workers_collect(struct vagent_loop *loop);
/* Virtual time: block until the oldest unscheduled job has finished and
 * is scheduled. */
void vagent__workers_wait_oldest(struct vagent_loop *loop);
/* Whether `t` is a job's completion event, and free that job. */
bool vagent__timer_is_job(const struct vagent_timer *t);
void vagent__job_free_scheduled(struct vagent_timer *t);

/* loop.c */
void vagent__loop_wake(struct vagent_loop *loop);
void vagent__timer_init(struct vagent_timer *t, struct vagent_loop *loop,
			vagent_timer_fn fn, void *arg);
/* Make room in the timer heap for `n` more timers besides those
 * reserved; false when out of memory. */
bool vagent__heap_reserve(struct vagent_loop *loop, size_t n);
/* Schedule `t` at `due` with a given tie-break sequence number. */
void vagent__timer_schedule(struct vagent_timer *t, int64_t due, uint64_t seq);

#endif
