/* A small fork-join thread pool, one per session.  Kernels split their own
 * work: ir_parallel_for hands out [begin, end) ranges of `n` items.  The
 * pool has a fixed number of threads and a width (how many of them the
 * current run uses: the session's share of the process's thread budget). */
#ifndef IMGREC_THREADPOOL_H
#define IMGREC_THREADPOOL_H

#include <stdint.h>

typedef struct ir_thread_pool ir_thread_pool;

/* `thread_index` is in [0, ir_pool_threads) and is stable for the call, so a
 * kernel may use it to pick its slice of scratch memory. */
typedef void (*ir_parallel_fn) (void *arg, int64_t begin, int64_t end, int thread_index);

/* NULL on failure to start threads (then callers run single-threaded). */
ir_thread_pool *ir_pool_new (int threads);
void ir_pool_free (ir_thread_pool *pool);
/* The width: the threads parallel regions use now (1 for a NULL pool). */
int ir_pool_threads (const ir_thread_pool *pool);
/* Sets the width, clamped to [1, the pool's threads]; by the thread that
 * runs the pool's parallel regions, between them. */
void ir_pool_set_width (ir_thread_pool *pool, int width);

/* Runs fn over [0, n) split into at most ir_pool_threads (the width) contiguous ranges of
 * at least `grain` items; returns when all are done.  pool may be NULL. */
void ir_parallel_for (ir_thread_pool *pool, int64_t n, int64_t grain,
    ir_parallel_fn fn, void *arg);

#endif
