/* The process-wide thread budget (see thread_budget.h).
 *
 * One mutex and a list of the sessions: a run's share is counted over the
 * list at its start, a few dozen members at most, microseconds against a
 * model run's milliseconds.  A share is fixed for the run: kernels split
 * their work once per parallel region from ir_pool_threads, and scratch
 * was planned for the pool's full size, which no share exceeds.
 *
 * Arena slots: a leased slot keeps its buffer when returned, so steady
 * runs allocate nothing; a run that needs more than the free slots hold
 * grows the largest free one. */
#define _GNU_SOURCE
#include "thread_budget.h"

#include "imgrec/engine.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define IR_BUDGET_MAX 256

static pthread_mutex_t budget_lock = PTHREAD_MUTEX_INITIALIZER;
static ir_budget_member *members_head, *members_tail;
static atomic_int budget_set;   /* imgrec_set_thread_budget; 0 = default */
static int budget_default;      /* under budget_lock once computed */

typedef struct arena_slot {
  void *buf;
  size_t cap;
  bool busy;
} arena_slot;

static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t arena_freed = PTHREAD_COND_INITIALIZER;
static arena_slot arena_slots[IR_BUDGET_MAX];
static int arenas_busy;

static int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
clamp_budget (long n)
{
  return n < 1 ? 1 : n > IR_BUDGET_MAX ? IR_BUDGET_MAX : (int) n;
}

/* The CPUs this process may run on (its affinity mask: a container or
 * taskset limit), else the online ones. */
static int
usable_cpus (void)
{
  cpu_set_t set;
  if (sched_getaffinity (0, sizeof set, &set) == 0 && CPU_COUNT (&set) > 0)
    return CPU_COUNT (&set);
  long online = sysconf (_SC_NPROCESSORS_ONLN);
  return online > 0 ? (int) online : 1;
}

static int
default_budget_locked (void)
{
  if (budget_default == 0) {
    const char *env = getenv ("IMGREC_THREAD_BUDGET");
    char *end = NULL;
    long n = env ? strtol (env, &end, 10) : 0;
    budget_default = env && *env && end && *end == '\0' && n > 0 ? clamp_budget (n)
        : clamp_budget (usable_cpus ());
  }
  return budget_default;
}

int
ir_thread_budget (void)
{
  int set = atomic_load (&budget_set);
  if (set > 0)
    return set;
  pthread_mutex_lock (&budget_lock);
  int n = default_budget_locked ();
  pthread_mutex_unlock (&budget_lock);
  return n;
}

void
imgrec_set_thread_budget (int threads)
{
  atomic_store (&budget_set, threads > 0 ? clamp_budget (threads) : 0);
}

int
imgrec_thread_budget (void)
{
  return ir_thread_budget ();
}

void
ir_budget_join (ir_budget_member *m, int fixed_threads)
{
  m->fixed_threads = fixed_threads > 0 ? fixed_threads : 0;
  m->running = false;
  m->last_run_end_ns = INT64_MIN;
  pthread_mutex_lock (&budget_lock);
  m->prev = members_tail;
  m->next = NULL;
  if (members_tail)
    members_tail->next = m;
  else
    members_head = m;
  members_tail = m;
  pthread_mutex_unlock (&budget_lock);
}

void
ir_budget_leave (ir_budget_member *m)
{
  pthread_mutex_lock (&budget_lock);
  if (m->prev)
    m->prev->next = m->next;
  else
    members_head = m->next;
  if (m->next)
    m->next->prev = m->prev;
  else
    members_tail = m->prev;
  m->prev = m->next = NULL;
  pthread_mutex_unlock (&budget_lock);
}

static bool
is_active (const ir_budget_member *m, int64_t now)
{
  return m->running || (m->last_run_end_ns != INT64_MIN
      && now - m->last_run_end_ns < (int64_t) IR_BUDGET_IDLE_MS * 1000000);
}

int
ir_budget_begin_run (ir_budget_member *m)
{
  int set = atomic_load (&budget_set);
  int64_t now = now_ns ();
  pthread_mutex_lock (&budget_lock);
  m->running = true;
  if (m->fixed_threads > 0) {
    pthread_mutex_unlock (&budget_lock);
    return m->fixed_threads;
  }
  int budget = set > 0 ? set : default_budget_locked ();
  int fixed = 0, budgeted = 0, rank = 0;
  for (const ir_budget_member *o = members_head; o; o = o->next) {
    if (!is_active (o, now))
      continue;
    if (o->fixed_threads > 0) {
      fixed += o->fixed_threads;
    } else {
      if (o == m)
        rank = budgeted;
      budgeted++;
    }
  }
  pthread_mutex_unlock (&budget_lock);
  int left = budget - fixed;
  if (left < budgeted)
    return 1;
  return left / budgeted + (rank < left % budgeted ? 1 : 0);
}

void
ir_budget_end_run (ir_budget_member *m)
{
  int64_t now = now_ns ();
  pthread_mutex_lock (&budget_lock);
  m->running = false;
  m->last_run_end_ns = now;
  pthread_mutex_unlock (&budget_lock);
}

int
ir_budget_lease_arena (size_t bytes, void **arena)
{
  int limit = ir_thread_budget ();
  pthread_mutex_lock (&arena_lock);
  while (arenas_busy >= limit)
    pthread_cond_wait (&arena_freed, &arena_lock);
  /* the smallest free slot that holds `bytes`, else the largest free one */
  int best = -1;
  for (int i = 0; i < IR_BUDGET_MAX; i++) {
    const arena_slot *a = &arena_slots[i];
    if (a->busy)
      continue;
    if (best < 0)
      best = i;
    const arena_slot *b = &arena_slots[best];
    bool a_fits = a->cap >= bytes, b_fits = b->cap >= bytes;
    if ((a_fits && (!b_fits || a->cap < b->cap)) || (!a_fits && !b_fits && a->cap > b->cap))
      best = i;
  }
  arena_slot *slot = &arena_slots[best];
  slot->busy = true;
  arenas_busy++;
  pthread_mutex_unlock (&arena_lock);
  if (slot->cap < bytes) {
    free (slot->buf);
    slot->buf = NULL;
    slot->cap = 0;
    if (posix_memalign (&slot->buf, 64, bytes ? bytes : 64) != 0) {
      slot->buf = NULL;
      ir_budget_return_arena (best);
      return -1;
    }
    slot->cap = bytes;
  }
  *arena = slot->buf;
  return best;
}

void
ir_budget_return_arena (int slot)
{
  if (slot < 0 || slot >= IR_BUDGET_MAX)
    return;
  pthread_mutex_lock (&arena_lock);
  arena_slots[slot].busy = false;
  arenas_busy--;
  pthread_cond_signal (&arena_freed);
  pthread_mutex_unlock (&arena_lock);
}
