/* Fork-join pool: the calling thread runs range 0, workers the others.
 *
 * Workers spin briefly (IR_POOL_SPIN_NS) on the job counter after each job
 * before sleeping on a condition variable (ONNX Runtime's pool spins too):
 * a run posts dozens of short parallel regions in a row, and a futex
 * wake-up per region costs more than the region's work on small maps.
 *
 * The caller never sleeps inside a region: it spins, then yields, until its
 * workers are done.  A sleeping caller is woken by the last worker, and
 * Linux places a woken thread beside its waker: on a 2-vCPU VM the caller
 * and the worker then shared one CPU for 20-70 % of the runs while the
 * other CPU idled (l3 conv, 1.7 ms per half run one after the other), and
 * the load balancer, which acts every few milliseconds, rarely caught a
 * region of one millisecond.
 *
 * For the same reason, when a pool's width covers every CPU the process may
 * use (the session owns the machine), its workers are pinned to the CPUs
 * other than the caller's, re-pinned when the caller moves (checked at
 * each region with sched_getcpu, a vDSO call; IMGREC_PIN_THREADS=0 turns
 * this off).  Narrower pools (sessions sharing the thread budget) are left
 * to the scheduler.
 *
 * A job goes only to the workers inside the pool's width (the session's
 * share of the thread budget): the job word carries a counter and the
 * job's width together, so a worker outside it learns that from the one
 * atomic load that tells it of the job, reads none of the job's fields and
 * does not check in; and it sleeps instead of spinning, since the next job
 * is most likely just as narrow, on a condition of its own (`widened`),
 * signalled only when a job is wider than the one before: the workers of
 * the width are not woken for nothing at every job. */
#define _GNU_SOURCE
#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define IR_SPIN_PAUSE() _mm_pause ()
#else
#define IR_SPIN_PAUSE() ((void) 0)
#endif

/* How long a worker spins for the next job before sleeping, and how many
 * pauses (10-140 cycles each, by CPU) go between two looks at the clock. */
#define IR_POOL_SPIN_NS 400000
#define IR_POOL_SPIN_CHECK 64
/* Pauses the caller spins on its workers before it yields instead. */
#define IR_POOL_CALLER_SPIN 20000

/* The job word: (job counter << IR_JOB_WIDTH_BITS) | the job's width. */
#define IR_JOB_WIDTH_BITS 16
#define IR_JOB_WIDTH(word) ((int) ((word) & ((1u << IR_JOB_WIDTH_BITS) - 1)))

struct ir_thread_pool {
  int threads;
  int width;                    /* threads a parallel region uses, <= threads */
  pthread_t *workers;
  pthread_mutex_t lock;
  pthread_cond_t job_posted;
  pthread_cond_t widened;       /* a job wider than the last one was posted */
  atomic_uint_fast64_t generation;   /* the job word */
  atomic_int pending;
  atomic_int sleepers;          /* workers waiting on job_posted */
  atomic_int outside_sleepers;  /* workers waiting on widened */
  int last_width;               /* the last job's width (caller only) */
  bool quit;
  /* pinning (caller only): the CPUs the process may use, whether the
   * workers are pinned, and the caller's CPU they were pinned around */
  bool pin_enabled;
  cpu_set_t allowed;
  int n_allowed;
  bool pinned;
  int pinned_around;
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

static int64_t
pool_now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

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
    if (gen == seen && !outside) {
      const int64_t until = pool_now_ns () + IR_POOL_SPIN_NS;
      for (int spin = 1; gen == seen; spin++) {
        IR_SPIN_PAUSE ();
        gen = atomic_load_explicit (&pool->generation, memory_order_acquire);
        if (spin % IR_POOL_SPIN_CHECK == 0 && pool_now_ns () > until)
          break;
      }
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
    atomic_fetch_sub_explicit (&pool->pending, 1, memory_order_release);
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
  pthread_mutex_init (&pool->lock, NULL);
  pthread_cond_init (&pool->job_posted, NULL);
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
  const char *pin = getenv ("IMGREC_PIN_THREADS");
  pool->pin_enabled = pool->threads > 1 && !(pin != NULL && strcmp (pin, "0") == 0)
      && sched_getaffinity (0, sizeof pool->allowed, &pool->allowed) == 0;
  pool->n_allowed = pool->pin_enabled ? CPU_COUNT (&pool->allowed) : 0;
  pool->pinned_around = -1;
  return pool;
}

/* Worker i of the width on the i-th allowed CPU after the caller's, so that
 * none shares the caller's CPU while there are others; or every worker back
 * on all allowed CPUs when the width no longer covers them. */
static void
pool_place_workers (ir_thread_pool *pool)
{
  const bool want = pool->pin_enabled && pool->width > 1 && pool->width >= pool->n_allowed;
  if (!want) {
    if (pool->pinned) {
      for (int i = 1; i < pool->threads; i++)
        pthread_setaffinity_np (pool->workers[i], sizeof pool->allowed, &pool->allowed);
      pool->pinned = false;
      pool->pinned_around = -1;
    }
    return;
  }
  const int cpu = sched_getcpu ();
  if (pool->pinned && cpu == pool->pinned_around)
    return;
  int cpus[CPU_SETSIZE], n = 0, at = 0;
  for (int c = 0; c < CPU_SETSIZE && n < pool->n_allowed; c++)
    if (CPU_ISSET (c, &pool->allowed)) {
      if (c == cpu)
        at = n;
      cpus[n++] = c;
    }
  if (n == 0)
    return;
  for (int i = 1; i < pool->threads; i++) {
    cpu_set_t one;
    CPU_ZERO (&one);
    CPU_SET (cpus[(at + i) % n], &one);
    pthread_setaffinity_np (pool->workers[i], sizeof one, &one);
  }
  pool->pinned = true;
  pool->pinned_around = cpu;
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
  pool_place_workers (pool);
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

  for (int spin = 0; atomic_load_explicit (&pool->pending, memory_order_acquire) > 0; spin++) {
    if (spin < IR_POOL_CALLER_SPIN)
      IR_SPIN_PAUSE ();
    else
      sched_yield ();   /* a worker may be waiting for this CPU */
  }
}
