/*
 * pool.h -- a bounded job queue served by N worker threads.
 *
 * Used by the helper (one job per FILE request) and by RATE (one job per
 * message).  A job pointer changes owner on pool_submit: the queue owns it
 * until a worker takes it, then the work function owns it (and frees or
 * hands it on).  Work functions cannot fail: errors are recorded in the job.
 * Each worker has private state made by init (e.g. an engine scratch) and
 * released by fini.  Workers block every signal.
 */
#ifndef CM_POOL_H
#define CM_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

typedef void *(*pool_init_fn)(void *ctx);   /* per-worker state; NULL ok */
typedef void (*pool_fini_fn)(void *state);
typedef void (*pool_work_fn)(void *job, void *state, void *ctx);

struct pool_conf {
    unsigned n_threads;  /* 1..CAPS_THREADS_MAX; 0 = number of CPUs */
    size_t max_queued;   /* 1..CAPS_JOBS_QUEUED_MAX; submit blocks past it */
    pool_init_fn init;   /* may be NULL */
    pool_fini_fn fini;   /* may be NULL */
    pool_work_fn work;
    void *ctx;           /* passed to init and work */
    /* Address space each worker needs beside its stack to do its work;
     * 0 for none.  While starting the threads the pool holds that much
     * per thread (mapped inaccessible: no memory), so that under an
     * address-space limit (RLIMIT_AS) it stops starting threads while
     * the ones running still have room to work; all of it is released
     * once they run. */
    size_t reserve_per_thread;
};

struct pool;

/* Start the workers; NULL when memory or not even one thread could be
 * had.  When the system refuses a thread (or the room reserved for it,
 * past the first) part way, the pool runs with the ones started:
 * pool_threads() may be less than asked. */
struct pool *pool_new(const struct pool_conf *conf);

/* Queue a job (blocks while the queue is full).  CM_EINVAL for a NULL
 * job (NULL is the workers' stop signal) and after pool_drain_and_free
 * has begun.  Any thread. */
enum cm_err pool_submit(struct pool *p, void *job);

/* As pool_submit without waiting: CM_ELIMIT when the queue is full, and
 * the job stays the caller's.  Any thread. */
enum cm_err pool_try_submit(struct pool *p, void *job);

/* Wait at most timeout_ms for the queue to have room (or to be draining);
 * false when it is still full.  With pool_try_submit, lets a submitter
 * that must notice something else (the helper's reader, a signal) wait
 * in slices and look before it queues.  Any thread. */
bool pool_wait_room(struct pool *p, unsigned timeout_ms);

/* Number of worker threads running. */
unsigned pool_threads(const struct pool *p);

/* Let the workers finish every queued job, join them and free the pool.
 * Call from the thread that made the pool.  NULL does nothing. */
void pool_drain_and_free(struct pool *p);

/* Number of online CPUs (at least 1). */
unsigned pool_cpu_count(void);

#endif
