/*
 * test_pool.c -- the bounded job queue and its workers (include/pool.h).
 *
 * Synchronisation in these tests uses condition variables only: no sleeps,
 * no timing assertions.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "caps.h"
#include "pool.h"

/* A latch: threads wait until it is opened. */
struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool is_open;
};

static void
gate_init(struct gate *g)
{
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cond, NULL);
    g->is_open = false;
}

static void
gate_destroy(struct gate *g)
{
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
}

static void
gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->is_open = true;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

static void
gate_wait(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    while (!g->is_open) {
        pthread_cond_wait(&g->cond, &g->lock);
    }
    pthread_mutex_unlock(&g->lock);
}

static bool
gate_is_open(struct gate *g)
{
    bool open;

    pthread_mutex_lock(&g->lock);
    open = g->is_open;
    pthread_mutex_unlock(&g->lock);
    return open;
}

struct job {
    size_t id;
};

struct counting_ctx {
    atomic_uint n_init;
    atomic_uint n_fini;
    atomic_size_t n_done;
    atomic_uint bad_state;
    atomic_uint signals_open;
    atomic_uchar *seen; /* per job id: times run */
    struct gate *hold;  /* when set, job 0 waits on it */
    struct gate *started; /* opened when job 0 starts */
};

struct worker_state {
    pthread_t self;
    unsigned magic;
    struct counting_ctx *ctx;
};

static void *
counting_init(void *ctx)
{
    struct counting_ctx *c = ctx;
    struct worker_state *s = malloc(sizeof(*s));

    atomic_fetch_add(&c->n_init, 1);
    if (s != NULL) {
        s->self = pthread_self();
        s->magic = 0xfeedu;
        s->ctx = c;
    }
    return s;
}

/* Runs on a worker: no cmocka asserts here (they long-jump to the main
 * thread); problems are counted and checked after the drain. */
static void
counting_fini(void *state)
{
    struct worker_state *s = state;

    if (s == NULL) {
        return;
    }
    atomic_fetch_add(&s->ctx->n_fini, 1);
    if (s->magic != 0xfeedu || !pthread_equal(s->self, pthread_self())) {
        atomic_fetch_add(&s->ctx->bad_state, 1);
    }
    free(s);
}

static void
counting_work(void *job, void *state, void *ctx)
{
    struct counting_ctx *c = ctx;
    struct job *j = job;
    struct worker_state *s = state;
    sigset_t mask;

    if (s == NULL || s->magic != 0xfeedu ||
        !pthread_equal(s->self, pthread_self())) {
        atomic_fetch_add(&c->bad_state, 1);
    }
    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    if (!sigismember(&mask, SIGTERM) || !sigismember(&mask, SIGINT) ||
        !sigismember(&mask, SIGPIPE) || !sigismember(&mask, SIGHUP)) {
        atomic_fetch_add(&c->signals_open, 1);
    }
    if (j->id == 0 && c->hold != NULL) {
        gate_open(c->started);
        gate_wait(c->hold);
    }
    if (c->seen != NULL) {
        atomic_fetch_add(&c->seen[j->id], 1);
    }
    atomic_fetch_add(&c->n_done, 1);
    free(j);
}

static struct job *
new_job(size_t id)
{
    struct job *j = malloc(sizeof(*j));

    assert_non_null(j);
    j->id = id;
    return j;
}

static struct pool_conf
conf_for(struct counting_ctx *c, unsigned n_threads, size_t max_queued)
{
    struct pool_conf conf;

    memset(&conf, 0, sizeof(conf));
    conf.n_threads = n_threads;
    conf.max_queued = max_queued;
    conf.init = counting_init;
    conf.fini = counting_fini;
    conf.work = counting_work;
    conf.ctx = c;
    return conf;
}

static void
test_pool_many_jobs(void **state)
{
    enum { N_JOBS = 20000 };
    struct counting_ctx c;
    struct pool_conf conf;
    struct pool *p;

    (void)state;
    memset(&c, 0, sizeof(c));
    c.seen = calloc(N_JOBS, sizeof(*c.seen));
    assert_non_null(c.seen);
    conf = conf_for(&c, 4, 8);
    p = pool_new(&conf);
    assert_non_null(p);
    assert_int_equal(pool_threads(p), 4);
    for (size_t i = 0; i < N_JOBS; i++) {
        assert_int_equal(pool_submit(p, new_job(i)), CM_OK);
    }
    pool_drain_and_free(p);
    assert_int_equal(atomic_load(&c.n_done), N_JOBS);
    for (size_t i = 0; i < N_JOBS; i++) {
        assert_int_equal(atomic_load(&c.seen[i]), 1);
    }
    assert_int_equal(atomic_load(&c.n_init), 4);
    assert_int_equal(atomic_load(&c.n_fini), 4);
    assert_int_equal(atomic_load(&c.bad_state), 0);
    assert_int_equal(atomic_load(&c.signals_open), 0);
    free(c.seen);
}

static void
test_pool_init_fini_once(void **state)
{
    struct counting_ctx c;
    struct pool_conf conf;
    struct pool *p;

    (void)state;
    /* No jobs at all: every worker still inits and finis exactly once. */
    memset(&c, 0, sizeof(c));
    conf = conf_for(&c, 3, 1);
    p = pool_new(&conf);
    assert_non_null(p);
    pool_drain_and_free(p);
    assert_int_equal(atomic_load(&c.n_init), 3);
    assert_int_equal(atomic_load(&c.n_fini), 3);
}

static void
test_pool_null_init_fini(void **state)
{
    struct counting_ctx c;
    struct pool_conf conf;
    struct pool *p;

    (void)state;
    memset(&c, 0, sizeof(c));
    conf = conf_for(&c, 2, 4);
    conf.init = NULL;
    conf.fini = NULL;
    p = pool_new(&conf);
    assert_non_null(p);
    for (size_t i = 0; i < 100; i++) {
        assert_int_equal(pool_submit(p, new_job(i + 1)), CM_OK);
    }
    pool_drain_and_free(p);
    assert_int_equal(atomic_load(&c.n_done), 100);
    /* The work function saw a NULL state each time. */
    assert_int_equal(atomic_load(&c.bad_state), 100);
}

struct submitter {
    struct pool *p;
    struct gate *hold;
    enum cm_err rc;
    bool was_released; /* the hold gate was open when submit returned */
};

static void *
submitter_main(void *arg)
{
    struct submitter *s = arg;

    s->rc = pool_submit(s->p, new_job(3));
    s->was_released = gate_is_open(s->hold);
    return NULL;
}

static void
test_pool_queue_full_blocks(void **state)
{
    struct counting_ctx c;
    struct pool_conf conf;
    struct pool *p;
    struct gate hold;
    struct gate started;
    struct submitter s;
    pthread_t t;

    (void)state;
    memset(&c, 0, sizeof(c));
    gate_init(&hold);
    gate_init(&started);
    c.hold = &hold;
    c.started = &started;
    conf = conf_for(&c, 1, 2);
    p = pool_new(&conf);
    assert_non_null(p);
    /* Job 0 occupies the only worker; jobs 1 and 2 fill the queue. */
    assert_int_equal(pool_submit(p, new_job(0)), CM_OK);
    gate_wait(&started);
    assert_int_equal(pool_submit(p, new_job(1)), CM_OK);
    assert_int_equal(pool_submit(p, new_job(2)), CM_OK);
    /* A fourth submit can only return once the worker made room, which
     * needs the hold gate open. */
    s.p = p;
    s.hold = &hold;
    s.rc = CM_EIO;
    s.was_released = false;
    assert_int_equal(pthread_create(&t, NULL, submitter_main, &s), 0);
    gate_open(&hold);
    pthread_join(t, NULL);
    assert_int_equal(s.rc, CM_OK);
    assert_true(s.was_released);
    pool_drain_and_free(p);
    assert_int_equal(atomic_load(&c.n_done), 4);
    gate_destroy(&hold);
    gate_destroy(&started);
}

/* pool_try_submit refuses a full queue, leaving the job with the caller;
 * pool_wait_room gives up on a queue that stays full and says when there
 * is room (the helper's reader waits so, looking for a signal between
 * slices). */
static void
test_pool_try_submit_wait_room(void **state)
{
    struct counting_ctx c;
    struct pool_conf conf;
    struct pool *p;
    struct gate hold;
    struct gate started;
    struct job *late;

    (void)state;
    memset(&c, 0, sizeof(c));
    gate_init(&hold);
    gate_init(&started);
    c.hold = &hold;
    c.started = &started;
    conf = conf_for(&c, 1, 1);
    p = pool_new(&conf);
    assert_non_null(p);
    assert_int_equal(pool_submit(p, new_job(0)), CM_OK);
    gate_wait(&started);
    assert_true(pool_wait_room(p, 0));
    assert_int_equal(pool_try_submit(p, new_job(1)), CM_OK);
    /* Full until the hold gate opens: only a time-out can end these. */
    late = new_job(2);
    assert_int_equal(pool_try_submit(p, late), CM_ELIMIT);
    assert_false(pool_wait_room(p, 0));
    assert_false(pool_wait_room(p, 30));
    gate_open(&hold);
    assert_true(pool_wait_room(p, 600000));
    assert_int_equal(pool_try_submit(p, late), CM_OK);
    assert_int_equal(pool_try_submit(p, NULL), CM_EINVAL);
    pool_drain_and_free(p);
    assert_int_equal(atomic_load(&c.n_done), 3);
    gate_destroy(&hold);
    gate_destroy(&started);
}

static void
test_pool_drain_finishes_queued(void **state)
{
    struct counting_ctx c;
    struct pool_conf conf;
    struct pool *p;
    struct gate hold;
    struct gate started;

    (void)state;
    memset(&c, 0, sizeof(c));
    gate_init(&hold);
    gate_init(&started);
    c.hold = &hold;
    c.started = &started;
    conf = conf_for(&c, 2, 64);
    p = pool_new(&conf);
    assert_non_null(p);
    assert_int_equal(pool_submit(p, new_job(0)), CM_OK);
    gate_wait(&started);
    for (size_t i = 1; i <= 60; i++) {
        assert_int_equal(pool_submit(p, new_job(i)), CM_OK);
    }
    gate_open(&hold);
    pool_drain_and_free(p);
    assert_int_equal(atomic_load(&c.n_done), 61);
    assert_int_equal(atomic_load(&c.n_fini), 2);
    gate_destroy(&hold);
    gate_destroy(&started);
}

static void
test_pool_bad_conf(void **state)
{
    struct counting_ctx c;
    struct pool_conf conf;
    struct pool *p;

    (void)state;
    memset(&c, 0, sizeof(c));
    assert_null(pool_new(NULL));
    conf = conf_for(&c, 1, 1);
    conf.work = NULL;
    assert_null(pool_new(&conf));
    conf = conf_for(&c, 1, 0);
    assert_null(pool_new(&conf));
    conf = conf_for(&c, 1, CAPS_JOBS_QUEUED_MAX + 1);
    assert_null(pool_new(&conf));
    conf = conf_for(&c, CAPS_THREADS_MAX + 1, 1);
    assert_null(pool_new(&conf));
    assert_int_equal(atomic_load(&c.n_init), 0);

    /* At the caps. */
    conf = conf_for(&c, CAPS_THREADS_MAX, CAPS_JOBS_QUEUED_MAX);
    p = pool_new(&conf);
    assert_non_null(p);
    assert_int_equal(pool_threads(p), CAPS_THREADS_MAX);
    assert_int_equal(pool_submit(p, NULL), CM_EINVAL);
    pool_drain_and_free(p);
    assert_int_equal(atomic_load(&c.n_fini), CAPS_THREADS_MAX);

    /* 0 threads means one per CPU. */
    conf = conf_for(&c, 0, 4);
    p = pool_new(&conf);
    assert_non_null(p);
    assert_int_equal(pool_threads(p), pool_cpu_count());
    pool_drain_and_free(p);

    pool_drain_and_free(NULL);
    assert_int_equal(pool_threads(NULL), 0);
    assert_int_equal(pool_submit(NULL, &c), CM_EINVAL);
}

static void
test_pool_cpu_count(void **state)
{
    unsigned n = pool_cpu_count();

    (void)state;
    assert_true(n >= 1);
    assert_true(n <= CAPS_THREADS_MAX);
}

static void
test_pool_caller_mask_kept(void **state)
{
    struct counting_ctx c;
    struct pool_conf conf;
    struct pool *p;
    sigset_t before;
    sigset_t after;

    (void)state;
    memset(&c, 0, sizeof(c));
    pthread_sigmask(SIG_BLOCK, NULL, &before);
    conf = conf_for(&c, 2, 4);
    p = pool_new(&conf);
    assert_non_null(p);
    pthread_sigmask(SIG_BLOCK, NULL, &after);
    assert_int_equal(sigismember(&before, SIGTERM),
                     sigismember(&after, SIGTERM));
    assert_int_equal(sigismember(&before, SIGINT),
                     sigismember(&after, SIGINT));
    assert_int_equal(sigismember(&after, SIGTERM), 0);
    assert_int_equal(pool_submit(p, new_job(0)), CM_OK);
    pool_drain_and_free(p);
    assert_int_equal(atomic_load(&c.signals_open), 0);
}

/* Runs jobs 0..n-1 on p, drains it; the number done. */
static size_t
run_and_drain(struct pool *p, struct counting_ctx *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pool_submit(p, new_job(i + 1)), CM_OK);
    }
    pool_drain_and_free(p);
    return atomic_load(&c->n_done);
}

static void
test_pool_room_refused(void **state)
{
    struct counting_ctx c;
    struct pool_conf conf;
    struct pool *p;

    (void)state;
    /* No system maps that much: only the first worker starts (one
     * worker short of room beats none), and it works. */
    memset(&c, 0, sizeof(c));
    conf = conf_for(&c, 4, 8);
    conf.reserve_per_thread = SIZE_MAX / 2;
    p = pool_new(&conf);
    assert_non_null(p);
    assert_int_equal(pool_threads(p), 1);
    assert_int_equal(run_and_drain(p, &c, 50), 50);
    assert_int_equal(atomic_load(&c.n_init), 1);
    assert_int_equal(atomic_load(&c.n_fini), 1);
}

/* The sanitizers' shadow memory cannot live under RLIMIT_AS. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define POOL_TEST_NO_RLIMIT_AS 1
#endif

#ifndef POOL_TEST_NO_RLIMIT_AS
/* VmSize of this process in bytes, 0 if unknown. */
static size_t
vm_size(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long kb = 0;

    if (f == NULL) {
        return 0;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "VmSize: %lu kB", &kb) == 1) {
            break;
        }
    }
    fclose(f);
    return (size_t)kb * 1024u;
}
#endif

static void
test_pool_room_given_back_for_first(void **state)
{
#ifdef POOL_TEST_NO_RLIMIT_AS
    (void)state;
#else
    struct counting_ctx c;
    struct pool_conf conf;
    struct pool *p;
    struct rlimit old_lim;
    struct rlimit lim;
    pthread_attr_t attr;
    size_t stack = 0;
    size_t vm;
    unsigned n_threads;
    size_t n_done = 0;

    (void)state;
    /* Under an address-space limit that fits the first worker's room
     * but not its stack beside it: the room is given back and the
     * worker starts (the pool used to start none, and the helper exited
     * "cannot start 64 worker threads"); the second one's room does not
     * fit, so it is the only one. */
    pthread_attr_init(&attr);
    pthread_attr_getstacksize(&attr, &stack);
    pthread_attr_destroy(&attr);
    vm = vm_size();
    if (vm == 0 || stack == 0 || getrlimit(RLIMIT_AS, &old_lim) != 0) {
        skip();
    }
    memset(&c, 0, sizeof(c));
    conf = conf_for(&c, 4, 8);
    conf.reserve_per_thread = 4 * stack;
    lim = old_lim;
    lim.rlim_cur = vm + 4 * stack + stack / 2;
    if (old_lim.rlim_cur != RLIM_INFINITY && old_lim.rlim_cur < lim.rlim_cur) {
        skip();
    }
    assert_int_equal(setrlimit(RLIMIT_AS, &lim), 0);
    p = pool_new(&conf);
    n_threads = pool_threads(p);
    if (p != NULL) {
        n_done = run_and_drain(p, &c, 20);
    }
    assert_int_equal(setrlimit(RLIMIT_AS, &old_lim), 0);
    assert_non_null(p);
    assert_int_equal(n_threads, 1);
    assert_int_equal(n_done, 20);
#endif
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        /* First: before any thread ran, glibc has no stack of a joined
         * thread cached, so the first worker's stack must be mapped. */
        cmocka_unit_test(test_pool_room_given_back_for_first),
        cmocka_unit_test(test_pool_many_jobs),
        cmocka_unit_test(test_pool_init_fini_once),
        cmocka_unit_test(test_pool_null_init_fini),
        cmocka_unit_test(test_pool_queue_full_blocks),
        cmocka_unit_test(test_pool_try_submit_wait_room),
        cmocka_unit_test(test_pool_drain_finishes_queued),
        cmocka_unit_test(test_pool_bad_conf),
        cmocka_unit_test(test_pool_cpu_count),
        cmocka_unit_test(test_pool_caller_mask_kept),
        cmocka_unit_test(test_pool_room_refused),
    };

    return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}
