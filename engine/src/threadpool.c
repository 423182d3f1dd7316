/* Fork-join pool: the calling thread runs range 0, workers the others.
 * Workers sleep on a condition variable between jobs; a generation counter
 * tells them a new job has been posted. */
#include "threadpool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct ir_thread_pool {
  int threads;
  pthread_t *workers;
  pthread_mutex_t lock;
  pthread_cond_t job_posted;
  pthread_cond_t job_done;
  uint64_t generation;
  int pending;
  bool quit;
  /* the current job */
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
  pthread_mutex_lock (&pool->lock);
  for (;;) {
    while (!pool->quit && pool->generation == seen)
      pthread_cond_wait (&pool->job_posted, &pool->lock);
    if (pool->quit)
      break;
    seen = pool->generation;
    bool mine = index < pool->parts;
    pthread_mutex_unlock (&pool->lock);
    if (mine)
      run_part (pool, index);
    pthread_mutex_lock (&pool->lock);
    if (mine && --pool->pending == 0)
      pthread_cond_signal (&pool->job_done);
  }
  pthread_mutex_unlock (&pool->lock);
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
  pthread_mutex_init (&pool->lock, NULL);
  pthread_cond_init (&pool->job_posted, NULL);
  pthread_cond_init (&pool->job_done, NULL);
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
  pthread_mutex_unlock (&pool->lock);
  for (int i = 1; i < pool->threads; i++)
    pthread_join (pool->workers[i], NULL);
  pthread_mutex_destroy (&pool->lock);
  pthread_cond_destroy (&pool->job_posted);
  pthread_cond_destroy (&pool->job_done);
  free (pool->workers);
  free (pool);
}

int
ir_pool_threads (const ir_thread_pool *pool)
{
  return pool == NULL ? 1 : pool->threads;
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
  if (pool != NULL && parts > pool->threads)
    parts = pool->threads;
  if (pool == NULL || parts <= 1) {
    fn (arg, 0, n, 0);
    return;
  }
  pthread_mutex_lock (&pool->lock);
  pool->fn = fn;
  pool->arg = arg;
  pool->n = n;
  pool->parts = (int) parts;
  pool->pending = (int) parts - 1;
  pool->generation++;
  pthread_cond_broadcast (&pool->job_posted);
  pthread_mutex_unlock (&pool->lock);

  run_part (pool, 0);

  pthread_mutex_lock (&pool->lock);
  while (pool->pending > 0)
    pthread_cond_wait (&pool->job_done, &pool->lock);
  pthread_mutex_unlock (&pool->lock);
}
