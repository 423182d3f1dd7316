/* Per-node profile report: see profile.h. */
#include "profile.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu.h"

double
ir_profile_now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

bool
ir_profile_env_enabled (void)
{
  const char *v = getenv ("IMGREC_PROFILE");
  return v != NULL && v[0] != '\0' && strcmp (v, "0") != 0;
}

static double
numel_d (const ir_tensor *t)
{
  double n = 1;
  for (int i = 0; i < t->rank; i++)
    n *= (double) t->dims[i];
  return n;
}

double
ir_profile_node_flops (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out)
{
  const char *op = node->op_type;
  if (out[0] == NULL || in[0] == NULL)
    return 0;
  if (strcmp (op, "Conv") == 0 || strcmp (op, "ConvInteger") == 0) {
    const ir_tensor *w = in[1];
    if (w == NULL || w->rank < 3)
      return 0;
    double taps = 1;   /* input channels per group x kernel volume */
    for (int i = 1; i < w->rank; i++)
      taps *= (double) w->dims[i];
    return 2.0 * numel_d (out[0]) * taps;
  }
  if (strcmp (op, "ConvTranspose") == 0) {
    const ir_tensor *w = in[1];
    if (w == NULL || w->rank < 3)
      return 0;
    double taps = 1;   /* output channels per group x kernel volume */
    for (int i = 1; i < w->rank; i++)
      taps *= (double) w->dims[i];
    return 2.0 * numel_d (in[0]) * taps;
  }
  if (strcmp (op, "Gemm") == 0 || strcmp (op, "MatMul") == 0) {
    const ir_tensor *a = in[0];
    if (a->rank < 1 || out[0]->rank < 1)
      return 0;
    /* K: MatMul's A is [..., M, K]; Gemm's A holds M x K in either order. */
    double k = (double) a->dims[a->rank - 1];
    if (op[0] == 'G' && out[0]->dims[0] > 0)
      k = numel_d (a) / (double) out[0]->dims[0];
    return 2.0 * numel_d (out[0]) * k;
  }
  return 0;
}

typedef struct op_total {
  const char *op_type;
  double ns, min_ns, flops;
  int nodes;
} op_total;

static int
compare_total (const void *a, const void *b)
{
  const op_total *x = a, *y = b;
  return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : 0;
}

void
ir_profile_write (FILE *f, const ir_profile_row *rows, int n_rows, long long runs,
    int threads)
{
  if (runs < 1)
    runs = 1;
  double total_ns = 0, total_min_ns = 0, total_flops = 0;
  for (int i = 0; i < n_rows; i++) {
    total_ns += rows[i].total_ns;
    total_min_ns += rows[i].min_ns;
    total_flops += rows[i].flops;
  }
  const double per_run_ms = total_ns / 1e6 / (double) runs;
  fprintf (f, "# imgrec profile: %lld runs, %d threads, ISA %s; %.3f ms per run in %d "
      "nodes, %.3f GFLOP per run (%.1f GFLOP/s)\n", runs, threads, ir_cpu_isa_name (ir_cpu ()->isa),
      per_run_ms, n_rows, total_flops / 1e9,
      per_run_ms > 0 ? total_flops / 1e6 / per_run_ms : 0.0);
  /* On a loaded machine the mean carries other processes' time slices; each
   * node's fastest run does not, and their sum is what the code can do. */
  fprintf (f, "# sum of per-node fastest runs: %.3f ms (%.1f GFLOP/s)\n", total_min_ns / 1e6,
      total_min_ns > 0 ? total_flops / total_min_ns : 0.0);
  fprintf (f, "%-4s %-36s %-18s %-20s %9s %9s %6s %8s  %s\n", "#", "node", "op", "output",
      "ms", "min ms", "%", "GFLOP/s", "kernel");
  for (int i = 0; i < n_rows; i++) {
    const ir_profile_row *r = &rows[i];
    const double ms = r->total_ns / 1e6 / (double) runs;
    char gflops[32] = "-";
    if (r->flops > 0 && ms > 0)
      snprintf (gflops, sizeof gflops, "%.1f", r->flops / 1e6 / ms);
    fprintf (f, "%-4d %-36.36s %-18.18s %-20.20s %9.4f %9.4f %6.2f %8s  %s\n", i,
        r->node->name, r->node->op_type, r->shape, ms, r->min_ns / 1e6,
        total_ns > 0 ? 100.0 * r->total_ns / total_ns : 0.0, gflops, r->algo);
  }
  op_total *totals = calloc ((size_t) n_rows + 1, sizeof *totals);
  if (totals == NULL)
    return;
  int n_totals = 0;
  for (int i = 0; i < n_rows; i++) {
    int k = 0;
    while (k < n_totals && strcmp (totals[k].op_type, rows[i].node->op_type) != 0)
      k++;
    if (k == n_totals)
      totals[n_totals++].op_type = rows[i].node->op_type;
    totals[k].ns += rows[i].total_ns;
    totals[k].min_ns += rows[i].min_ns;
    totals[k].flops += rows[i].flops;
    totals[k].nodes++;
  }
  qsort (totals, (size_t) n_totals, sizeof *totals, compare_total);
  fprintf (f, "# per op type\n%-18s %6s %9s %9s %6s %8s\n", "op", "nodes", "ms", "min ms", "%",
      "GFLOP/s");
  for (int k = 0; k < n_totals; k++) {
    const double ms = totals[k].ns / 1e6 / (double) runs;
    char gflops[32] = "-";
    if (totals[k].flops > 0 && ms > 0)
      snprintf (gflops, sizeof gflops, "%.1f", totals[k].flops / 1e6 / ms);
    fprintf (f, "%-18.18s %6d %9.4f %9.4f %6.2f %8s\n", totals[k].op_type, totals[k].nodes, ms,
        totals[k].min_ns / 1e6, total_ns > 0 ? 100.0 * totals[k].ns / total_ns : 0.0, gflops);
  }
  free (totals);
}
