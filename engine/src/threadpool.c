/* Fork-join pool: the calling thread runs range 0, workers the others.
 *
 * Workers spin briefly on the job counter after each job before sleeping on
 * a condition variable (ONNX Runtime's pool spins too): a conv posts several
 * short parallel regions in a row, and a futex wake-up per region costs more
 * than the region's work on small maps.  The caller likewise spins on the
 * count of unfinished parts before it sleeps.
 *
 * A job goes only to the workers inside the pool's width (the session's
 * share of the thread budget): the job word carries a counter and the
 * job's width together, so a worker outside it learns that from the one
 * atomic load that tells it of the job, reads none of the job's fields and
 * does not check in; and it sleeps instead of spinning, since the next job
 * is most likely just as narrow, on a condition of its own (`widened`),
 * signalled only when a job is wider than the one before: the workers of
 * the width are not woken for nothing at every job. */
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define IR_SPIN_PAUSE() _mm_pause ()
#else
#define IR_SPIN_PAUSE() ((void) 0)
#endif

/* Spin iterations (each a pause, ~10-40 ns) before sleeping: ~50-200 us. */
#define IR_POOL_SPIN 5000

/* The job word: (job counter << IR_JOB_WIDTH_BITS) | the job's width. */
#define IR_JOB_WIDTH_BITS 16
#define IR_JOB_WIDTH(word) ((int) ((word) & ((1u << IR_JOB_WIDTH_BITS) - 1)))

struct ir_thread_pool {
  int threads;
  int width;                    /* threads a parallel region uses, <= threads */
  pthread_t *workers;
  pthread_mutex_t lock;
  pthread_cond_t job_posted;
  pthread_cond_t job_done;
  pthread_cond_t widened;       /* a job wider than the last one was posted */
  atomic_uint_fast64_t generation;   /* the job word */
  atomic_int pending;
  atomic_int sleepers;          /* workers waiting on job_posted */
  atomic_int outside_sleepers;  /* workers waiting on widened */
  int last_width;               /* the last job's width (caller only) */
  atomic_bool caller_sleeping;
  bool quit;
  /* the current job, written before generation is bumped */
  ir_parallel_fn fn;
  void *arg;
  int64_t n;
  int parts;
};

typedef struct worker_start {
  ir_thread_pool *pool;
  int index;
} worker_start;

static void
run_part (ir_thread_pool *pool, int part)
{
  int64_t begin = pool->n * part / pool->parts;
  int64_t end = pool->n * (part + 1) / pool->parts;
  if (begin < end)
    pool->fn (pool->arg, begin, end, part);
}

static void *
worker_main (void *p)
{
  worker_start *start = p;
  ir_thread_pool *pool = start->pool;
  int index = start->index;
  free (start);
  uint64_t seen = 0;
  bool outside = false;         /* left out of the last job */
  for (;;) {
    uint64_t gen = atomic_load_explicit (&pool->generation, memory_order_acquire);
    for (int spin = 0; gen == seen && !outside && spin < IR_POOL_SPIN; spin++) {
      IR_SPIN_PAUSE ();
      gen = atomic_load_explicit (&pool->generation, memory_order_acquire);
    }
    if (gen == seen) {
      /* seq_cst on the counts and the job word: a worker going to sleep
       * either sees the new job or is seen sleeping (and woken) */
      atomic_int *count = outside ? &pool->outside_sleepers : &pool->sleepers;
      pthread_cond_t *cond = outside ? &pool->widened : &pool->job_posted;
      pthread_mutex_lock (&pool->lock);
      atomic_fetch_add (count, 1);
      while (!pool->quit && (gen = atomic_load (&pool->generation)) == seen)
        pthread_cond_wait (cond, &pool->lock);
      atomic_fetch_sub (count, 1);
      bool quit = pool->quit;
      pthread_mutex_unlock (&pool->lock);
      if (quit)
        break;
    }
    seen = gen;
    outside = index >= IR_JOB_WIDTH (gen);
    if (outside)
      continue;
    /* Every worker of the job checks in, with or without a part, so none
     * can still be reading its fields when the next one is posted. */
    if (index < pool->parts)
      run_part (pool, index);
    if (atomic_fetch_sub (&pool->pending, 1) == 1 && atomic_load (&pool->caller_sleeping)) {
      pthread_mutex_lock (&pool->lock);
      pthread_cond_signal (&pool->job_done);
      pthread_mutex_unlock (&pool->lock);
    }
  }
  return NULL;
}

ir_thread_pool *
ir_pool_new (int threads)
{
  if (threads < 1)
    threads = 1;
  ir_thread_pool *pool = calloc (1, sizeof *pool);
  if (pool == NULL)
    return NULL;
  pool->threads = threads;
  atomic_init (&pool->generation, 0);
  atomic_init (&pool->pending, 0);
  atomic_init (&pool->sleepers, 0);
  atomic_init (&pool->outside_sleepers, 0);
  atomic_init (&pool->caller_sleeping, false);
  pthread_mutex_init (&pool->lock, NULL);
  pthread_cond_init (&pool->job_posted, NULL);
  pthread_cond_init (&pool->job_done, NULL);
  pthread_cond_init (&pool->widened, NULL);
  if (threads > 1) {
    pool->workers = calloc ((size_t) threads, sizeof *pool->workers);
    if (pool->workers == NULL) {
      ir_pool_free (pool);
      return NULL;
    }
    for (int i = 1; i < threads; i++) {
      worker_start *start = malloc (sizeof *start);
      if (start == NULL) {
        pool->threads = i;
        break;
      }
      start->pool = pool;
      start->index = i;
      if (pthread_create (&pool->workers[i], NULL, worker_main, start) != 0) {
        free (start);
        pool->threads = i;
        break;
      }
    }
  }
  pool->width = pool->threads;
  return pool;
}

void
ir_pool_free (ir_thread_pool *pool)
{
  if (pool == NULL)
    return;
  pthread_mutex_lock (&pool->lock);
  pool->quit = true;
  pthread_cond_broadcast (&pool->job_posted);
  pthread_cond_broadcast (&pool->widened);
  pthread_mutex_unlock (&pool->lock);
  for (int i = 1; i < pool->threads; i++)
    pthread_join (pool->workers[i], NULL);
  pthread_mutex_destroy (&pool->lock);
  pthread_cond_destroy (&pool->job_posted);
  pthread_cond_destroy (&pool->job_done);
  pthread_cond_destroy (&pool->widened);
  free (pool->workers);
  free (pool);
}

int
ir_pool_threads (const ir_thread_pool *pool)
{
  return pool == NULL ? 1 : pool->width;
}

void
ir_pool_set_width (ir_thread_pool *pool, int width)
{
  if (pool != NULL)
    pool->width = width < 1 ? 1 : width > pool->threads ? pool->threads : width;
}

void
ir_parallel_for (ir_thread_pool *pool, int64_t n, int64_t grain,
    ir_parallel_fn fn, void *arg)
{
  if (n <= 0)
    return;
  if (grain < 1)
    grain = 1;
  int64_t parts = n / grain;
  if (pool != NULL && parts > pool->width)
    parts = pool->width;
  if (pool == NULL || parts <= 1) {
    fn (arg, 0, n, 0);
    return;
  }
  pool->fn = fn;
  pool->arg = arg;
  pool->n = n;
  pool->parts = (int) parts;
  atomic_store_explicit (&pool->pending, pool->width - 1, memory_order_relaxed);
  /* seq_cst here and on the sleepers count: a worker going to sleep either
   * sees the new job or is seen sleeping (and woken). */
  uint64_t word = atomic_load_explicit (&pool->generation, memory_order_relaxed);
  atomic_store (&pool->generation,
      ((word >> IR_JOB_WIDTH_BITS) + 1) << IR_JOB_WIDTH_BITS | (uint64_t) pool->width);
  if (atomic_load (&pool->sleepers) > 0) {
    pthread_mutex_lock (&pool->lock);
    pthread_cond_broadcast (&pool->job_posted);
    pthread_mutex_unlock (&pool->lock);
  }
  /* a worker left out of an earlier job can only be in this one if the
   * width grew since */
  if (pool->width > pool->last_width && atomic_load (&pool->outside_sleepers) > 0) {
    pthread_mutex_lock (&pool->lock);
    pthread_cond_broadcast (&pool->widened);
    pthread_mutex_unlock (&pool->lock);
  }
  pool->last_width = pool->width;

  run_part (pool, 0);

  for (int spin = 0; spin < IR_POOL_SPIN; spin++) {
    if (atomic_load_explicit (&pool->pending, memory_order_acquire) == 0)
      return;
    IR_SPIN_PAUSE ();
  }
  pthread_mutex_lock (&pool->lock);
  atomic_store (&pool->caller_sleeping, true);
  while (atomic_load_explicit (&pool->pending, memory_order_acquire) > 0)
    pthread_cond_wait (&pool->job_done, &pool->lock);
  atomic_store (&pool->caller_sleeping, false);
  pthread_mutex_unlock (&pool->lock);
}
