/* Memory planning: gives every intermediate tensor an offset in one arena so
 * that tensors whose lifetimes overlap never overlap in memory.  Greedy by
 * size (largest first), each placed in the lowest gap that fits among the
 * already placed tensors it is alive with — the approach of TFLite's arena
 * planner, simple and within a few percent of optimal on CNNs. */
#include "plan.h"

#include <stdlib.h>

/* Insertion sorts with the requests as an explicit parameter (no globals:
 * sessions on different threads plan at the same time). */
static void
sort_by_size_desc (const ir_buffer_request *reqs, int *idx, int n)
{
  for (int i = 1; i < n; i++) {
    int x = idx[i], j = i - 1;
    while (j >= 0 && reqs[idx[j]].size < reqs[x].size) {
      idx[j + 1] = idx[j];
      j--;
    }
    idx[j + 1] = x;
  }
}

static void
sort_by_offset (const ir_buffer_request *reqs, int *idx, int n)
{
  for (int i = 1; i < n; i++) {
    int x = idx[i], j = i - 1;
    while (j >= 0 && reqs[idx[j]].offset > reqs[x].offset) {
      idx[j + 1] = idx[j];
      j--;
    }
    idx[j + 1] = x;
  }
}

int
ir_plan_offsets (ir_buffer_request *reqs, int n, size_t *total)
{
  int *order = malloc (((size_t) n + 1) * sizeof *order);
  int *live = malloc (((size_t) n + 1) * sizeof *live);
  if (order == NULL || live == NULL) {
    free (order);
    free (live);
    return -1;
  }
  for (int i = 0; i < n; i++)
    order[i] = i;
  sort_by_size_desc (reqs, order, n);
  size_t end = 0;
  for (int oi = 0; oi < n; oi++) {
    ir_buffer_request *r = &reqs[order[oi]];
    size_t size = (r->size + IR_ARENA_ALIGN - 1) & ~(size_t) (IR_ARENA_ALIGN - 1);
    int n_live = 0;
    for (int pj = 0; pj < oi; pj++) {
      const ir_buffer_request *q = &reqs[order[pj]];
      if (q->first <= r->last && r->first <= q->last)
        live[n_live++] = order[pj];
    }
    sort_by_offset (reqs, live, n_live);
    size_t offset = 0;
    for (int k = 0; k < n_live; k++) {
      const ir_buffer_request *q = &reqs[live[k]];
      size_t q_size = (q->size + IR_ARENA_ALIGN - 1) & ~(size_t) (IR_ARENA_ALIGN - 1);
      if (q->offset >= offset + size)
        break;
      if (q->offset + q_size > offset)
        offset = q->offset + q_size;
    }
    r->offset = offset;
    if (offset + size > end)
      end = offset + size;
  }
  free (order);
  free (live);
  *total = end;
  return 0;
}
