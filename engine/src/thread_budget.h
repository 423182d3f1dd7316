/* The process-wide thread budget: how many threads the sessions of one
 * process run on together.  Without it, every session's pool took all the
 * CPUs, and four streams on two cores ran eight threads that spun and
 * waited on each other (0.67x the throughput of one stream).
 *
 * A session that asked for a fixed number of threads keeps it.  Every other
 * ("budgeted") session takes, at the start of each run, its share of what
 * the fixed ones leave: budget / n over the n budgeted sessions that are
 * active (running, or ran within the last IR_BUDGET_IDLE_MS), the remainder
 * going to the oldest, at least one thread each.
 *
 * Budgeted sessions also share their tensor arenas: at most `budget` of
 * their runs go at a time (more could not get a core each anyway), each on
 * one of `budget` arenas leased for the run, so eight streams on two cores
 * hold two arenas instead of eight. */
#ifndef IMGREC_THREAD_BUDGET_H
#define IMGREC_THREAD_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A session idle for longer than this no longer takes a share. */
#define IR_BUDGET_IDLE_MS 2000

typedef struct ir_budget_member {
  struct ir_budget_member *prev, *next;
  int fixed_threads;            /* > 0: the session's own count; 0: budgeted */
  bool running;
  int64_t last_run_end_ns;      /* monotonic; INT64_MIN: never ran */
} ir_budget_member;

/* The budget: imgrec_set_thread_budget's value, else IMGREC_THREADS from the
 * environment (read once), else the CPUs this process may run on. */
int ir_thread_budget (void);

/* Joins (at session creation) and leaves (when it is freed). */
void ir_budget_join (ir_budget_member *m, int fixed_threads);
void ir_budget_leave (ir_budget_member *m);

/* At the start of a run: marks the member running and returns the threads
 * this run may use (its fixed count, or its share of the budget). */
int ir_budget_begin_run (ir_budget_member *m);
void ir_budget_end_run (ir_budget_member *m);

/* Waits until fewer than `budget` arenas are leased, then leases one of at
 * least `bytes` (64-byte aligned; grown if needed) into *arena.  Returns the
 * lease's slot, or -1 when the memory cannot be had. */
int ir_budget_lease_arena (size_t bytes, void **arena);
void ir_budget_return_arena (int slot);

#endif
