/* The pool's placement of its threads: when a pool's width covers every CPU
 * the process may use, no worker shares the caller's CPU and no two workers
 * share one (a woken worker lands beside its waker otherwise, and on a
 * 2-vCPU VM both halves of a region then ran one after the other); with
 * IMGREC_PIN_THREADS=0, or a narrower width, the workers may run anywhere
 * allowed.  Every part of every region runs exactly once either way.
 *
 * Usage: test-threadpool */
#define _GNU_SOURCE
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "threadpool.h"

#define REGIONS 200
#define MAX_THREADS 64

typedef struct region_log {
  int cpu[MAX_THREADS];
  atomic_long items;
} region_log;

static void
record (void *arg, int64_t begin, int64_t end, int thread_index)
{
  region_log *log = arg;
  log->cpu[thread_index] = sched_getcpu ();
  /* Workers get more work than the caller (as when a region's split is
   * uneven), so the caller waits: a caller that slept then was woken by
   * the last worker, onto that worker's CPU. */
  volatile double x = 0;
  const int work = thread_index == 0 ? 2000 : 300000;
  for (int i = 0; i < work; i++)
    x += 1e-9 * i;
  atomic_fetch_add (&log->items, (long) (end - begin));
}

int
main (void)
{
  cpu_set_t allowed;
  if (sched_getaffinity (0, sizeof allowed, &allowed) != 0) {
    printf ("FAIL: sched_getaffinity\n");
    return 1;
  }
  const int cpus = CPU_COUNT (&allowed);
  if (cpus < 2 || cpus > MAX_THREADS) {
    printf ("SKIP: %d CPUs allowed (placement needs 2 to %d)\n", cpus, MAX_THREADS);
    return 77;
  }
  const char *pin = getenv ("IMGREC_PIN_THREADS");
  const bool pinning = !(pin != NULL && strcmp (pin, "0") == 0);
  ir_thread_pool *pool = ir_pool_new (cpus);
  if (pool == NULL || ir_pool_threads (pool) != cpus) {
    printf ("FAIL: a pool of %d threads did not start\n", cpus);
    return 1;
  }
  int failures = 0, shared_regions = 0;
  for (int r = 0; r < REGIONS; r++) {
    region_log log = { .items = 0 };
    for (int i = 0; i < cpus; i++)
      log.cpu[i] = -1;
    /* idle longer than the workers spin: each region wakes them (a video
     * pipeline between frames) */
    usleep (1000);
    ir_parallel_for (pool, 1000 * cpus, 1, record, &log);
    if (atomic_load (&log.items) != 1000 * cpus) {
      printf ("FAIL: region %d covered %ld of %d items\n", r, atomic_load (&log.items),
          1000 * cpus);
      failures++;
    }
    bool shared = false;
    for (int i = 0; i < cpus; i++)
      for (int j = i + 1; j < cpus; j++)
        if (log.cpu[i] >= 0 && log.cpu[i] == log.cpu[j])
          shared = true;
    shared_regions += shared;
  }
  /* The caller may be moved by the scheduler in the middle of a region;
   * the workers follow at the next one. */
  if (pinning && shared_regions > REGIONS / 20) {
    printf ("FAIL: %d of %d regions ran two threads on one CPU (of %d allowed)\n",
        shared_regions, REGIONS, cpus);
    failures++;
  } else {
    printf ("PASS: %d of %d regions ran two threads on one CPU (%d CPUs, pinning %s)\n",
        shared_regions, REGIONS, cpus, pinning ? "on" : "off");
  }
  /* A narrower width leaves the workers unpinned: each may run anywhere. */
  ir_pool_set_width (pool, cpus - 1);
  {
    region_log log = { .items = 0 };
    ir_parallel_for (pool, 1000, 1, record, &log);
    if (atomic_load (&log.items) != 1000) {
      printf ("FAIL: a narrow region covered %ld of 1000 items\n", atomic_load (&log.items));
      failures++;
    }
  }
  ir_pool_free (pool);
  printf ("%s\n", failures == 0 ? "all passed" : "FAILED");
  return failures == 0 ? 0 : 1;
}
