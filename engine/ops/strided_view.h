/* Data movement for the layout ops: whole-tensor copies and the strided
 * view, a dense output that reads the input through per-dimension strides.
 * Every function works on any storage (F32, I64, BOOL): only the element
 * size matters. */
#ifndef IMGREC_STRIDED_VIEW_H
#define IMGREC_STRIDED_VIEW_H

#include "op.h"

/* Elements copied per parallel task: below this a copy stays on one thread. */
#define COPY_GRAIN_ELEMS 32768
/* A Tile view interleaves repeats and input dims, so views go up to 2x rank. */
#define VIEW_MAX_RANK (2 * IMGREC_MAX_RANK)

typedef struct strided_view {
  int rank;
  int64_t dims[VIEW_MAX_RANK];      /* output dims; the output is dense */
  int64_t strides[VIEW_MAX_RANK];   /* input element stride per output dim */
  int64_t offset;                   /* input element read by output element 0 */
} strided_view;

/* Row-major element strides of a dense tensor with these dims. */
void dense_strides (int rank, const int64_t *dims, int64_t *strides);

/* Items per parallel task when each item moves `per_item` units (elements
 * or bytes) and a task should move about `target`. */
int64_t copy_grain (int64_t per_item, int64_t target);

/* n bytes from src to dst (split across the pool); nothing when dst == src. */
void copy_bytes (ir_thread_pool *pool, void *dst, const void *src, size_t n);

/* The whole of `in` into `out`, which has as many bytes: the run of every op
 * that keeps the element order. */
void copy_tensor_data (const op_run_ctx *ctx, ir_tensor *out, const ir_tensor *in);

/* A view of the whole input in its own order, to be permuted or cut. */
void view_of_input (strided_view *v, const ir_tensor *in);

/* Fills the dense `dst` from `src` through the view (which it simplifies). */
void view_copy (ir_thread_pool *pool, strided_view *v, const void *src, void *dst,
    size_t esize);

#endif
