/*
 * pool.c -- a bounded job queue served by N worker threads (see pool.h).
 *
 * DESIGN
 *  - One ring of job pointers (capacity max_queued) guarded by queue_lock,
 *    with two condition variables: has_jobs (workers wait on it) and
 *    has_room (pool_submit waits on it while the ring is full).  The lock
 *    is held only to push or pop a pointer; work runs unlocked.
 *  - Each worker calls init once in its own thread before taking jobs,
 *    passes the state to every work call, and calls fini once after the
 *    last one.  A NULL state is passed on as is (init may legitimately
 *    return NULL; the work function decides what that means).
 *  - Workers block every signal: the pool masks all signals around
 *    pthread_create, so the threads inherit a full mask; the caller's mask
 *    is restored afterwards.  Signals thus reach only the thread that made
 *    the pool (the helper's reader).
 *  - Shutdown: pool_drain_and_free sets is_draining and wakes everyone.
 *    Workers keep taking jobs until the ring is empty, then return; every
 *    thread is joined.  No cancellation, no detached threads.  A submitter
 *    blocked on a full ring gets CM_EINVAL once draining began;
 *    pool_wait_room's waits end at a monotonic deadline.
 *  - Ordering: jobs are started in submission order; they finish in any
 *    order.
 *  - Start-up: when the system refuses a thread, the pool runs with those
 *    already started (at least one); pool_threads tells the caller.
 *    With reserve_per_thread, each thread is started only once that
 *    much address space was mapped for it (inaccessible, so it costs no
 *    memory); the mappings go when every thread runs.  Under RLIMIT_AS
 *    the last stacks then no longer take the memory the running workers
 *    need for their messages.  The first thread starts without its room
 *    when there is none.
 *
 * State owned: the ring, the worker threads.  Limits: CAPS_THREADS_MAX
 * workers, CAPS_JOBS_QUEUED_MAX queued jobs.  Threads: any thread may
 * submit; the creating thread drains.  (STYLE.md §2.8.)
 */
/* MAP_ANONYMOUS and MAP_NORESERVE are not POSIX. */
#define _DEFAULT_SOURCE
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"

struct pool {
    struct pool_conf conf;

    pthread_mutex_t queue_lock; /* guards ring, head, n_queued, draining */
    pthread_cond_t has_jobs;
    pthread_cond_t has_room;
    void **ring;
    size_t head;     /* index of the oldest job */
    size_t n_queued;
    bool is_draining;

    pthread_t *threads;
    unsigned n_threads; /* threads started (and to be joined) */
};

unsigned
pool_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (n < 1) {
        return 1;
    }
    if ((unsigned long)n > CAPS_THREADS_MAX) {
        return CAPS_THREADS_MAX;
    }
    return (unsigned)n;
}

/* Pop the next job, waiting for one; NULL when draining and empty. */
static void *
take_job(struct pool *p)
{
    void *job = NULL;

    pthread_mutex_lock(&p->queue_lock);
    while (p->n_queued == 0 && !p->is_draining) {
        pthread_cond_wait(&p->has_jobs, &p->queue_lock);
    }
    if (p->n_queued > 0) {
        job = p->ring[p->head];
        p->ring[p->head] = NULL;
        p->head = (p->head + 1) % p->conf.max_queued;
        p->n_queued--;
        pthread_cond_signal(&p->has_room);
    }
    pthread_mutex_unlock(&p->queue_lock);
    return job;
}

static void *
worker_main(void *arg)
{
    struct pool *p = arg;
    void *state = NULL;
    void *job;

    if (p->conf.init != NULL) {
        state = p->conf.init(p->conf.ctx);
    }
    for (;;) {
        job = take_job(p);
        if (job == NULL) {
            break;
        }
        p->conf.work(job, state, p->conf.ctx);
    }
    if (p->conf.fini != NULL) {
        p->conf.fini(state);
    }
    return NULL;
}

/* Wake every waiter for shutdown; the workers finish what is queued. */
static void
begin_drain(struct pool *p)
{
    pthread_mutex_lock(&p->queue_lock);
    p->is_draining = true;
    pthread_cond_broadcast(&p->has_jobs);
    pthread_cond_broadcast(&p->has_room);
    pthread_mutex_unlock(&p->queue_lock);
}

static void
join_and_free(struct pool *p)
{
    for (unsigned i = 0; i < p->n_threads; i++) {
        pthread_join(p->threads[i], NULL);
    }
    pthread_cond_destroy(&p->has_room);
    pthread_cond_destroy(&p->has_jobs);
    pthread_mutex_destroy(&p->queue_lock);
    free(p->threads);
    free(p->ring);
    free(p);
}

/* Room for one more worker: reserve bytes of address space, or NULL
 * when the system refuses it.  Inaccessible, so the kernel commits no
 * memory for it (not even under strict overcommit), yet it counts
 * against RLIMIT_AS like the memory it stands for. */
static void *
hold_room(size_t reserve)
{
    void *m = mmap(NULL, reserve, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    return m == MAP_FAILED ? NULL : m;
}

/* Start up to n workers, each with its room held while the next ones
 * start; the rooms are given back at the end.  The first is started
 * even without room (its room given back if that lets its stack fit):
 * one worker short of memory still beats none. */
static void
start_threads(struct pool *p, unsigned n, void **rooms)
{
    size_t reserve = p->conf.reserve_per_thread;

    for (unsigned i = 0; i < n; i++) {
        int err;

        if (reserve > 0) {
            rooms[i] = hold_room(reserve);
            if (rooms[i] == NULL && i > 0) {
                break;
            }
        }
        err = pthread_create(&p->threads[i], NULL, worker_main, p);
        if (err != 0 && i == 0 && rooms[0] != NULL) {
            munmap(rooms[0], reserve);
            rooms[0] = NULL;
            err = pthread_create(&p->threads[0], NULL, worker_main, p);
        }
        if (err != 0) {
            break;
        }
        p->n_threads++;
    }
    for (unsigned i = 0; i < n && reserve > 0; i++) {
        if (rooms[i] != NULL) {
            munmap(rooms[i], reserve);
        }
    }
}

struct pool *
pool_new(const struct pool_conf *conf)
{
    struct pool *p;
    void **rooms;
    unsigned n;
    sigset_t all;
    sigset_t old;
    pthread_condattr_t attr;

    if (conf == NULL || conf->work == NULL || conf->max_queued == 0 ||
        conf->max_queued > CAPS_JOBS_QUEUED_MAX ||
        conf->n_threads > CAPS_THREADS_MAX) {
        return NULL;
    }
    n = conf->n_threads == 0 ? pool_cpu_count() : conf->n_threads;
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return NULL;
    }
    p->conf = *conf;
    p->ring = calloc(conf->max_queued, sizeof(*p->ring));
    p->threads = calloc(n, sizeof(*p->threads));
    rooms = calloc(n, sizeof(*rooms));
    if (p->ring == NULL || p->threads == NULL || rooms == NULL) {
        free(rooms);
        free(p->ring);
        free(p->threads);
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->queue_lock, NULL);
    pthread_cond_init(&p->has_jobs, NULL);
    /* pool_wait_room's deadlines are monotonic: a clock step must not
     * stretch or cut its wait. */
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->has_room, &attr);
    pthread_condattr_destroy(&attr);

    /* Threads inherit the creator's mask: create them with everything
     * blocked, so no signal handler ever runs on a worker. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    /* A thread refused (EAGAIN: a process or address-space limit) ends
     * the start-up, but the threads already running serve: the helper
     * then answers with fewer workers (pool_threads says how many)
     * instead of exiting, which would leave CGP restarting it in a loop
     * while every message waits in its queue. */
    start_threads(p, n, rooms);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    free(rooms);
    if (p->n_threads == 0) {
        join_and_free(p);
        return NULL;
    }
    return p;
}

/* Queue job, waiting for room when is_waiting (else CM_ELIMIT when the
 * ring is full). */
static enum cm_err
submit(struct pool *p, void *job, bool is_waiting)
{
    enum cm_err rc = CM_OK;

    if (p == NULL || job == NULL) {
        return CM_EINVAL;
    }
    pthread_mutex_lock(&p->queue_lock);
    while (is_waiting && p->n_queued == p->conf.max_queued &&
           !p->is_draining) {
        pthread_cond_wait(&p->has_room, &p->queue_lock);
    }
    if (p->is_draining) {
        rc = CM_EINVAL;
    } else if (p->n_queued == p->conf.max_queued) {
        rc = CM_ELIMIT;
    } else {
        size_t tail = (p->head + p->n_queued) % p->conf.max_queued;
        p->ring[tail] = job;
        p->n_queued++;
        pthread_cond_signal(&p->has_jobs);
    }
    pthread_mutex_unlock(&p->queue_lock);
    return rc;
}

enum cm_err
pool_submit(struct pool *p, void *job)
{
    return submit(p, job, true);
}

enum cm_err
pool_try_submit(struct pool *p, void *job)
{
    return submit(p, job, false);
}

/* has_room's clock (monotonic) plus timeout_ms. */
static struct timespec
deadline_after(unsigned timeout_ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(timeout_ms / 1000u);
    ts.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

bool
pool_wait_room(struct pool *p, unsigned timeout_ms)
{
    struct timespec deadline = deadline_after(timeout_ms);
    bool has_room;

    if (p == NULL) {
        return true;
    }
    pthread_mutex_lock(&p->queue_lock);
    while (p->n_queued == p->conf.max_queued && !p->is_draining) {
        if (pthread_cond_timedwait(&p->has_room, &p->queue_lock,
                                   &deadline) == ETIMEDOUT) {
            break;
        }
    }
    has_room = p->n_queued < p->conf.max_queued || p->is_draining;
    pthread_mutex_unlock(&p->queue_lock);
    return has_room;
}

unsigned
pool_threads(const struct pool *p)
{
    return p == NULL ? 0 : p->n_threads;
}

void
pool_drain_and_free(struct pool *p)
{
    if (p == NULL) {
        return;
    }
    begin_drain(p);
    join_and_free(p);
}
