/*
 * failpoint.h -- a test hook that makes the nth call of one fallible step
 * fail, so a test can reach the path an allocation or fsync failure takes.
 *
 * DESIGN
 *   Each module that offers a hook keeps one static struct failpoint
 *   beside the step (zero: disarmed) and a public <module>_test_fail_nth_*
 *   function that arms it.  failpoint_hit counts calls down atomically, so
 *   workers may pass the step concurrently and exactly one call -- the nth
 *   from arming -- reports true; the step then fails as the real call
 *   would (NULL, EIO).  Disarmed, a hit is one atomic load.
 *
 * THREADS
 *   Any thread.  Arming while other threads pass the step counts from
 *   whichever call sees the new value first.
 */
#ifndef CM_FAILPOINT_H
#define CM_FAILPOINT_H

#include <stdatomic.h>
#include <stdbool.h>

struct failpoint {
    atomic_uint countdown; /* calls left until the failing one; 0: none */
};

/* The nth call of failpoint_hit from now on returns true (0 disarms). */
static inline void
failpoint_arm(struct failpoint *fp, unsigned nth)
{
    atomic_store(&fp->countdown, nth);
}

/* True for the one call armed by failpoint_arm; counts the call down. */
static inline bool
failpoint_hit(struct failpoint *fp)
{
    unsigned left = atomic_load(&fp->countdown);

    while (left > 0) {
        if (atomic_compare_exchange_weak(&fp->countdown, &left, left - 1)) {
            return left == 1;
        }
    }
    return false;
}

#endif
