/* Per-node profiling of session runs: wall time per node (mean, and the
 * fastest run, which other processes' time slices do not inflate), FLOPs from the
 * shapes, and the algorithm each kernel chose (op_kernel.describe).
 * Enabled per session (imgrec_session_set_profiling) or for every session by
 * IMGREC_PROFILE=1 in the environment (report on stderr when the session is
 * freed). */
#ifndef IMGREC_PROFILE_H
#define IMGREC_PROFILE_H

#include <stdbool.h>
#include <stdio.h>

#include "graph.h"

/* Multiply-adds x 2 of a node at these shapes; 0 for ops without a GEMM-like
 * core (their time is still reported). */
double ir_profile_node_flops (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out);

/* Monotonic clock in nanoseconds. */
double ir_profile_now_ns (void);

/* Whether IMGREC_PROFILE asks every session to profile. */
bool ir_profile_env_enabled (void);

/* One row of the report, filled by the session for each scheduled node. */
typedef struct ir_profile_row {
  const ir_node *node;
  double total_ns;
  double min_ns;           /* fastest single run */
  double flops;            /* per run */
  char algo[96];
  char shape[64];          /* output shape */
} ir_profile_row;

/* Writes the per-node table (in execution order), then per op type, sorted
 * by time; `runs` runs were timed. */
void ir_profile_write (FILE *f, const ir_profile_row *rows, int n_rows, long long runs,
    int threads);

#endif
