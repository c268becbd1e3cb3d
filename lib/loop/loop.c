/*
 * loop.c — the event loop: a timer heap ordered by (deadline, scheduling
 * order), epoll fd watchers, posts from other threads, and the run modes
 * for real and virtual (discrete-event) time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "loop/loop_int.h"
#include "net/cassette_int.h"

#define WHERE "loop"

/* ---- timer heap ---------------------------------------------------- */

static bool timer_before(const struct vagent_timer *a,
			 const struct vagent_timer *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_set(struct vagent_loop *loop, size_t i, struct vagent_timer *t)
{
	loop->heap[i] = t;
	t->heap_index = i;
}

static void heap_up(struct vagent_loop *loop, size_t i)
{
	struct vagent_timer *t = loop->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!timer_before(t, loop->heap[parent]))
			break;
		heap_set(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_set(loop, i, t);
}

static void heap_down(struct vagent_loop *loop, size_t i)
{
	struct vagent_timer *t = loop->heap[i];
	size_t n = loop->heap_len;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && timer_before(loop->heap[c + 1], loop->heap[c]))
			c++;
		if (!timer_before(loop->heap[c], t))
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, t);
}

static void heap_remove(struct vagent_loop *loop, struct vagent_timer *t)
{
	size_t i = t->heap_index;
	struct vagent_timer *last = loop->heap[--loop->heap_len];

	t->heap_index = VAGENT__NO_INDEX;
	if (last == t)
		return;
	heap_set(loop, i, last);
	if (i > 0 && timer_before(last, loop->heap[(i - 1) / 2]))
		heap_up(loop, i);
	else
		heap_down(loop, i);
}

/* Reserve heap room before anything changes, so scheduling cannot fail
 * halfway (jobs keep a slot for their completion event). */
bool vagent__heap_reserve(struct vagent_loop *loop, size_t n)
{
	struct vagent_timer **h;
	size_t need = loop->heap_len + loop->heap_reserved + n;
	size_t cap = loop->heap_cap ? loop->heap_cap : 64;

	if (need <= loop->heap_cap)
		return true;
	while (cap < need)
		cap *= 2;
	h = realloc(loop->heap, cap * sizeof(*h));
	if (!h)
		return false;
	loop->heap = h;
	loop->heap_cap = cap;
	return true;
}

void vagent__timer_init(struct vagent_timer *t, struct vagent_loop *loop,
			vagent_timer_fn fn, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->loop = loop;
	t->fn = fn;
	t->arg = arg;
	t->heap_index = VAGENT__NO_INDEX;
}

/* The caller has reserved heap room and `t` is not in the heap. */
void vagent__timer_schedule(struct vagent_timer *t, int64_t due, uint64_t seq)
{
	struct vagent_loop *loop = t->loop;

	t->due = due;
	t->seq = seq;
	loop->heap[loop->heap_len] = t;
	t->heap_index = loop->heap_len++;
	heap_up(loop, t->heap_index);
}

struct vagent_timer *vagent_timer_new(struct vagent_loop *loop,
				      vagent_timer_fn fn, void *arg)
{
	struct vagent_timer *t = malloc(sizeof(*t));

	if (!t)
		return NULL;
	vagent__timer_init(t, loop, fn, arg);
	t->all_next = loop->all_timers;
	if (loop->all_timers)
		loop->all_timers->all_prev = t;
	loop->all_timers = t;
	return t;
}

void vagent_timer_stop(struct vagent_timer *t)
{
	if (t && t->heap_index != VAGENT__NO_INDEX)
		heap_remove(t->loop, t);
}

void vagent_timer_free(struct vagent_timer *t)
{
	if (!t)
		return;
	if (t->loop && t->loop->current == t)
		t->loop->current = NULL;
	vagent_timer_stop(t);
	if (t->loop && (t->all_prev || t->loop->all_timers == t)) {
		if (t->all_prev)
			t->all_prev->all_next = t->all_next;
		else
			t->loop->all_timers = t->all_next;
		if (t->all_next)
			t->all_next->all_prev = t->all_prev;
	}
	free(t);
}

vagent_status vagent_timer_start_at(struct vagent_timer *t, int64_t when,
				    int64_t period, struct vagent_error *err)
{
	struct vagent_loop *loop = t->loop;

	if (period < 0)
		return vagent__error_set(err, VAGENT_EINVAL, "timer",
					 "negative period (%lld ticks)",
					 (long long)period);
	if (!loop)
		return vagent__error_set(err, VAGENT_EINVAL, "timer",
					 "its loop was freed");
	vagent_timer_stop(t);
	if (!vagent__heap_reserve(loop, 1))
		return vagent__error_set(err, VAGENT_ENOMEM, "timer",
					 "out of memory for %zu timers",
					 loop->heap_len + 1);
	t->period = period;
	vagent__timer_schedule(t, when, loop->seq++);
	return VAGENT_OK;
}

vagent_status vagent_timer_start(struct vagent_timer *t, int64_t delay,
				 int64_t period, struct vagent_error *err)
{
	if (!t->loop)
		return vagent__error_set(err, VAGENT_EINVAL, "timer",
					 "its loop was freed");
	return vagent_timer_start_at(t, vagent_loop_now(t->loop) + delay,
				     period, err);
}

bool vagent_timer_active(const struct vagent_timer *t)
{
	return t->heap_index != VAGENT__NO_INDEX;
}

int64_t vagent_timer_deadline(const struct vagent_timer *t)
{
	if (t->loop && t->loop->current == t)
		return t->fire_due;
	return vagent_timer_active(t) ? t->due : -1;
}

/* ---- the loop object ------------------------------------------------ */

struct vagent_loop_config vagent_loop_config_default(void)
{
	struct vagent_loop_config cfg = {
		.clock = VAGENT_CLOCK_REAL,
		.workers = 2,
		.job_clock = VAGENT_JOB_WALL,
	};
	return cfg;
}

vagent_status vagent_loop_new(const struct vagent_loop_config *cfg,
			      struct vagent_loop **out,
			      struct vagent_error *err)
{
	struct vagent_loop *loop = NULL;
	struct epoll_event ev = { .events = EPOLLIN };
	vagent_status st;

	*out = NULL;
	if ((cfg->clock != VAGENT_CLOCK_REAL && cfg->clock != VAGENT_CLOCK_VIRTUAL) ||
	    cfg->workers < 0 || cfg->workers > 64 ||
	    (cfg->job_clock != VAGENT_JOB_WALL &&
	     cfg->job_clock != VAGENT_JOB_THREAD_CPU &&
	     cfg->job_clock != VAGENT_JOB_FREE))
		return vagent__error_set(err, VAGENT_EINVAL, WHERE,
					 "invalid configuration (clock %d, %d workers, job clock %d)",
					 (int)cfg->clock, cfg->workers,
					 (int)cfg->job_clock);
	loop = calloc(1, sizeof(*loop));
	if (!loop)
		return vagent__error_set(err, VAGENT_ENOMEM, WHERE, "out of memory");
	loop->epfd = -1;
	loop->wakefd = -1;
	atomic_init(&loop->wake, false);
	atomic_init(&loop->stop, false);
	pthread_mutex_init(&loop->lock, NULL);
	pthread_cond_init(&loop->work_cond, NULL);
	pthread_cond_init(&loop->done_cond, NULL);
	loop->virtual_time = cfg->clock == VAGENT_CLOCK_VIRTUAL;
	loop->job_clock = cfg->job_clock;
	loop->clock = vagent_clock_new(cfg->clock);
	if (!loop->clock) {
		st = vagent__error_set(err, VAGENT_ENOMEM, WHERE, "out of memory");
		goto fail;
	}
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ev.data.ptr = NULL;   /* NULL marks the wakeup fd */
	if (loop->epfd < 0 || loop->wakefd < 0 ||
	    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &ev) < 0) {
		st = vagent__error_set(err, VAGENT_EIO, WHERE,
				       "cannot create epoll/eventfd: %s",
				       strerror(errno));
		goto fail;
	}
	st = vagent__workers_start(loop, cfg->workers, err);
	if (st != VAGENT_OK)
		goto fail;
	loop->cassette = vagent__cassette_bound_ref();
	*out = loop;
	return VAGENT_OK;
fail:
	vagent_loop_free(loop);
	return st;
}

void vagent_loop_free(struct vagent_loop *loop)
{
	struct vagent__post *p;

	if (!loop)
		return;
	/* Detach user timers; free jobs waiting for their virtual completion. */
	for (size_t i = 0; i < loop->heap_len; i++) {
		struct vagent_timer *t = loop->heap[i];

		if (vagent__timer_is_job(t)) {
			vagent__job_free_scheduled(t);
			continue;
		}
		t->heap_index = VAGENT__NO_INDEX;
		t->loop = NULL;
	}
	loop->heap_len = 0;
	/* and the stopped ones: freeing them later must not touch the loop */
	for (struct vagent_timer *t = loop->all_timers, *n; t; t = n) {
		n = t->all_next;
		t->loop = NULL;
		t->all_prev = t->all_next = NULL;
	}
	loop->all_timers = NULL;
	vagent__workers_stop(loop);
	while ((p = loop->post_head)) {
		loop->post_head = p->next;
		free(p);
	}
	free(loop->heap);
	if (loop->epfd >= 0)
		close(loop->epfd);
	if (loop->wakefd >= 0)
		close(loop->wakefd);
	pthread_cond_destroy(&loop->done_cond);
	pthread_cond_destroy(&loop->work_cond);
	pthread_mutex_destroy(&loop->lock);
	vagent_clock_free(loop->clock);
	vagent_cassette_unref(loop->cassette);
	free(loop);
}

struct vagent_cassette *vagent__loop_cassette(const struct vagent_loop *loop)
{
	return loop ? loop->cassette : NULL;
}

struct vagent_clock *vagent_loop_clock(struct vagent_loop *loop)
{
	return loop->clock;
}

int64_t vagent_loop_now(const struct vagent_loop *loop)
{
	return vagent_clock_now(loop->clock);
}

void vagent__loop_wake(struct vagent_loop *loop)
{
	uint64_t one = 1;

	if (atomic_exchange(&loop->wake, true))
		return;     /* a wakeup is already on its way */
	while (write(loop->wakefd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

void vagent_loop_stop(struct vagent_loop *loop)
{
	atomic_store(&loop->stop, true);
	vagent__loop_wake(loop);
}

vagent_status vagent_loop_post(struct vagent_loop *loop, vagent_loop_fn fn,
			       void *arg)
{
	struct vagent__post *p = malloc(sizeof(*p));

	if (!p)
		return VAGENT_ENOMEM;
	p->fn = fn;
	p->arg = arg;
	p->next = NULL;
	pthread_mutex_lock(&loop->lock);
	if (loop->post_tail)
		loop->post_tail->next = p;
	else
		loop->post_head = p;
	loop->post_tail = p;
	pthread_mutex_unlock(&loop->lock);
	vagent__loop_wake(loop);
	return VAGENT_OK;
}

/* Run the posts queued so far (not those they post) and collect finished
 * jobs, when a wakeup was signalled. */
static void handle_wakeup(struct vagent_loop *loop)
{
	struct vagent__post *p, *next;
	uint64_t v;

	if (!atomic_load(&loop->wake))
		return;
	/* Clear the flag before draining: a wakeup signalled from now on
	 * writes the eventfd again and is seen next time. */
	while (read(loop->wakefd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	atomic_store(&loop->wake, false);
	pthread_mutex_lock(&loop->lock);
	p = loop->post_head;
	loop->post_head = loop->post_tail = NULL;
	pthread_mutex_unlock(&loop->lock);
	for (; p; p = next) {
		next = p->next;
		p->fn(p->arg);
		free(p);
	}
	vagent__workers_collect(loop);
}

/* ---- fd watchers ----------------------------------------------------- */

static uint32_t to_epoll(unsigned events)
{
	return ((events & VAGENT_IO_READ) ? EPOLLIN : 0) |
	       ((events & VAGENT_IO_WRITE) ? EPOLLOUT : 0);
}

static vagent_status io_apply(struct vagent_io *io, unsigned events,
			      struct vagent_error *err)
{
	struct vagent_loop *loop = io->loop;
	struct epoll_event ev = { .events = to_epoll(events), .data.ptr = io };
	int rc = 0;

	if (events && !io->in_epoll)
		rc = epoll_ctl(loop->epfd, EPOLL_CTL_ADD, io->fd, &ev);
	else if (events)
		rc = epoll_ctl(loop->epfd, EPOLL_CTL_MOD, io->fd, &ev);
	else if (io->in_epoll)
		rc = epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, &ev);
	if (rc < 0) {
		int e = errno;

		return vagent__error_set(err, e == ENOMEM || e == ENOSPC ?
					 VAGENT_EIO : VAGENT_EINVAL, "fd watcher",
					 "cannot watch fd %d: %s", io->fd,
					 e == EEXIST ? "already watched" : strerror(e));
	}
	io->in_epoll = events != 0;
	if (events && !io->events)
		loop->active_io++;
	else if (!events && io->events)
		loop->active_io--;
	io->events = events;
	return VAGENT_OK;
}

vagent_status vagent_io_new(struct vagent_loop *loop, int fd, unsigned events,
			    vagent_io_fn fn, void *arg, struct vagent_io **out,
			    struct vagent_error *err)
{
	struct vagent_io *io;
	vagent_status st;

	*out = NULL;
	if (fd < 0 || (events & ~(unsigned)(VAGENT_IO_READ | VAGENT_IO_WRITE)))
		return vagent__error_set(err, VAGENT_EINVAL, "fd watcher",
					 "invalid fd %d or events %#x", fd, events);
	io = calloc(1, sizeof(*io));
	if (!io)
		return vagent__error_set(err, VAGENT_ENOMEM, "fd watcher",
					 "out of memory");
	io->loop = loop;
	io->fd = fd;
	io->fn = fn;
	io->arg = arg;
	st = io_apply(io, events, err);
	if (st != VAGENT_OK) {
		free(io);
		return st;
	}
	*out = io;
	return VAGENT_OK;
}

vagent_status vagent_io_modify(struct vagent_io *io, unsigned events,
			       struct vagent_error *err)
{
	if (events & ~(unsigned)(VAGENT_IO_READ | VAGENT_IO_WRITE))
		return vagent__error_set(err, VAGENT_EINVAL, "fd watcher",
					 "invalid events %#x", events);
	return io_apply(io, events, err);
}

void vagent_io_free(struct vagent_io *io)
{
	struct vagent_loop *loop;
	struct epoll_event ev = { 0 };

	if (!io)
		return;
	loop = io->loop;
	/* The fd may already be closed (EBADF) and gone from the set. */
	if (io->in_epoll)
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, &ev);
	if (io->events)
		loop->active_io--;
	for (int i = loop->ev_pos; i < loop->nevents; i++)
		if (loop->events[i].data.ptr == io)
			loop->events[i].data.ptr = NULL;
	free(io);
}

int vagent_io_fd(const struct vagent_io *io)
{
	return io->fd;
}

/* ---- running ---------------------------------------------------------- */

#define WAIT_FOREVER INT64_C(-1)

/*
 * Wait up to `timeout` ticks (0: poll, WAIT_FOREVER) for fds, then
 * dispatch them. Returns the number of events or -1 on failure.
 */
static int poll_io(struct vagent_loop *loop, int64_t timeout,
		   struct vagent_error *err)
{
	int n;

	if (timeout > 0 && !loop->no_pwait2) {
		/* epoll_pwait2 takes nanoseconds: a deadline is met to the
		 * microsecond rather than rounded up to the next ms. */
		int64_t ns = vagent__ticks_to_ns_ceil(timeout);
		struct timespec ts = { ns / 1000000000, ns % 1000000000 };

		n = epoll_pwait2(loop->epfd, loop->events, VAGENT__MAX_EVENTS,
				 &ts, NULL);
		if (n < 0 && errno == ENOSYS) {
			loop->no_pwait2 = true;
			return poll_io(loop, timeout, err);
		}
	} else {
		int ms = timeout < 0 ? -1 :
			 (int)((vagent__ticks_to_ns_ceil(timeout) + 999999) / 1000000);

		n = epoll_wait(loop->epfd, loop->events, VAGENT__MAX_EVENTS, ms);
	}
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		vagent__error_set(err, VAGENT_EIO, WHERE, "epoll_wait: %s",
				  strerror(errno));
		return -1;
	}
	loop->nevents = n;
	for (loop->ev_pos = 0; loop->ev_pos < n; loop->ev_pos++) {
		struct epoll_event *e = &loop->events[loop->ev_pos];
		struct vagent_io *io = e->data.ptr;
		unsigned rev = 0;

		if (!io) {
			/* The wakeup fd (or a freed watcher). A wakeup written
			 * just after handle_wakeup() drained the fd and cleared
			 * the flag finds the flag clear: set it again, so the
			 * next handle_wakeup() reads the fd. Else the fd stays
			 * readable with the flag clear, every poll returns it,
			 * and a virtual clock never moves again. */
			atomic_store(&loop->wake, true);
			continue;
		}
		if (e->events & EPOLLIN)
			rev |= VAGENT_IO_READ;
		if (e->events & EPOLLOUT)
			rev |= VAGENT_IO_WRITE;
		if (e->events & (EPOLLERR | EPOLLHUP))
			rev |= VAGENT_IO_ERROR;
		io->fn(io, io->fd, rev, io->arg);
		if (atomic_load(&loop->stop))
			break;
	}
	loop->nevents = 0;
	loop->ev_pos = 0;
	return n;
}

static bool key_before(int64_t t1, uint64_t s1, int64_t t2, uint64_t s2)
{
	return t1 < t2 || (t1 == t2 && s1 < s2);
}

/*
 * Fire the timers due now that were scheduled before this round began
 * (a timer a callback schedules for now waits for the next round, after
 * fds and posts). Virtual time: a job submitted before a timer's
 * (deadline, order) may complete before it, so it is awaited first.
 */
static void run_timers(struct vagent_loop *loop)
{
	int64_t now = vagent_loop_now(loop);
	uint64_t bound = loop->seq;

	while (loop->heap_len && !atomic_load(&loop->stop)) {
		struct vagent_timer *t = loop->heap[0];
		struct vagent__job *j = loop->pending_head;

		if (t->due > now || t->seq >= bound)
			break;
		if (j && key_before(j->submitted, j->seq, t->due, t->seq)) {
			vagent__workers_wait_oldest(loop);
			continue;
		}
		heap_remove(loop, t);
		t->fire_due = t->due;
		if (t->period > 0)
			vagent__timer_schedule(t, t->due + t->period, loop->seq++);
		loop->current = t;
		t->fn(t, t->arg);
		loop->current = NULL;
	}
}

static bool loop_alive(const struct vagent_loop *loop)
{
	return loop->heap_len || loop->active_io || loop->jobs_out;
}

/* The loop proper. `until` < 0: no time limit. */
static vagent_status loop_run(struct vagent_loop *loop,
			      enum vagent_run_mode mode, int64_t until,
			      struct vagent_error *err)
{
	vagent_status st = VAGENT_OK;

	if (loop->running)
		return vagent__error_set(err, VAGENT_EINVAL, WHERE,
					 "vagent_loop_run called from a callback");
	loop->running = true;
	while (!atomic_load(&loop->stop)) {
		int64_t now, next, timeout;

		handle_wakeup(loop);
		run_timers(loop);
		if (atomic_load(&loop->stop))
			break;
		now = vagent_loop_now(loop);
		if (until >= 0 && now >= until && !loop->virtual_time)
			break;
		if (mode == VAGENT_RUN_UNTIL_IDLE && !loop_alive(loop) &&
		    !atomic_load(&loop->wake))
			break;
		next = loop->heap_len ? loop->heap[0]->due : WAIT_FOREVER;
		if (atomic_load(&loop->wake) ||
		    (loop->heap_len && next <= now)) {
			timeout = 0;
		} else if (!loop->virtual_time) {
			timeout = next;
			if (until >= 0 && (timeout < 0 || until < timeout))
				timeout = until;
			if (timeout >= 0)
				timeout -= now;
		} else if (loop->pending_head) {
			/* Time cannot move before the job has told its cost:
			 * wait for its completion (the eventfd). */
			timeout = WAIT_FOREVER;
		} else {
			int64_t to = next;

			if (loop->active_io) {
				int n = poll_io(loop, 0, err);

				if (n < 0) {
					st = VAGENT_EIO;
					break;
				}
				if (n > 0)
					continue;   /* callbacks may have
						     * scheduled work for now */
			}
			if (atomic_load(&loop->wake) || atomic_load(&loop->stop))
				continue;
			if (until >= 0 && (to < 0 || to > until)) {
				if (until > now)
					vagent__clock_set(loop->clock, until);
				break;
			}
			if (to >= 0) {
				vagent__clock_set(loop->clock, to > now ? to : now);
				continue;
			}
			if (mode == VAGENT_RUN_UNTIL_IDLE && !loop->active_io)
				break;
			timeout = WAIT_FOREVER;
		}
		if (timeout == 0 && loop->virtual_time && !loop->active_io)
			continue;
		if (poll_io(loop, timeout, err) < 0) {
			st = VAGENT_EIO;
			break;
		}
	}
	atomic_store(&loop->stop, false);
	loop->running = false;
	return st;
}

vagent_status vagent_loop_run(struct vagent_loop *loop,
			      enum vagent_run_mode mode,
			      struct vagent_error *err)
{
	if (mode != VAGENT_RUN_DEFAULT && mode != VAGENT_RUN_UNTIL_IDLE)
		return vagent__error_set(err, VAGENT_EINVAL, WHERE,
					 "invalid run mode %d", (int)mode);
	return loop_run(loop, mode, -1, err);
}

vagent_status vagent_loop_run_until(struct vagent_loop *loop, int64_t t,
				    struct vagent_error *err)
{
	if (t < 0)
		return vagent__error_set(err, VAGENT_EINVAL, WHERE,
					 "negative time %lld", (long long)t);
	return loop_run(loop, VAGENT_RUN_DEFAULT, t, err);
}
