/* Op family: gather — ops that pick elements by an indices tensor.
 *
 * Gather (whole slices along an axis) and GatherElements (one element per
 * index), on any storage (F32, I64, BOOL).  Indices may be negative, counted
 * from the end of the axis.
 */
#include <string.h>

#include "op_checks.h"
#include "strided_view.h"

/* ---- shared by both ops ---- */

static int
gather_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  return op_axis_params_init (node, ctx, 0, err);
}

/* The start of both infers: output 0, the data and the integer indices
 * inputs must be there, and the axis within the data's rank. */
static int
gather_inputs (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out, int *axis,
    imgrec_error *err)
{
  const axis_params *p = node->params;
  if (op_need_input_and_output (node, in, out, "data", err) < 0
      || op_need_input (node, in, 1, "indices", err) < 0
      || ir_normalize_axis (p->axis, in[0]->rank, axis, err) < 0)
    return -1;
  if (in[1]->storage != IR_I64)
    return ir_fail (err, "indices must be integers, not %s",
        imgrec_dtype_name (in[1]->elem_type));
  return 0;
}

/* Index values are known only at run: every one is checked before any
 * thread reads through one. */
static int
check_indices (const int64_t *indices, int64_t n, int axis, int64_t axis_dim,
    imgrec_error *err)
{
  for (int64_t i = 0; i < n; i++)
    if (indices[i] < -axis_dim || indices[i] >= axis_dim)
      return ir_fail (err, "index %lld is out of range for axis %d of dimension %lld",
          (long long) indices[i], axis, (long long) axis_dim);
  return 0;
}

/* A checked index, negative ones counted from the end of the axis. */
static inline int64_t
wrap_index (int64_t index, int64_t axis_dim)
{
  return index < 0 ? index + axis_dim : index;
}

/* ---- Gather ---- */

static int
gather_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  imgrec_error *err = ctx->err;
  int axis;
  if (gather_inputs (node, in, out, &axis, err) < 0)
    return -1;
  const ir_tensor *x = in[0], *indices = in[1];
  int rank = x->rank - 1 + indices->rank;
  if (rank > IMGREC_MAX_RANK)
    return ir_fail (err, "the output would have rank %d; at most %d is supported", rank,
        IMGREC_MAX_RANK);
  int64_t dims[IMGREC_MAX_RANK];
  int r = 0;
  for (int k = 0; k < axis; k++)
    dims[r++] = x->dims[k];
  for (int k = 0; k < indices->rank; k++)
    dims[r++] = indices->dims[k];
  for (int k = axis + 1; k < x->rank; k++)
    dims[r++] = x->dims[k];
  return op_set_checked_shape (out[0], x->elem_type, rank, dims, err);
}

typedef struct gather_job {
  const char *src;
  char *dst;
  const int64_t *indices;
  int64_t n_indices, axis_dim;
  size_t block;                     /* bytes after the axis */
} gather_job;

static void
gather_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const gather_job *job = arg;
  for (int64_t item = begin; item < end; item++) {
    int64_t o = item / job->n_indices;
    int64_t k = wrap_index (job->indices[item % job->n_indices], job->axis_dim);
    memcpy (job->dst + (size_t) item * job->block,
        job->src + (size_t) (o * job->axis_dim + k) * job->block, job->block);
  }
}

static int
gather_run (const ir_node *node, const op_run_ctx *ctx)
{
  const axis_params *p = node->params;
  const ir_tensor *x = ctx->in[0], *indices = ctx->in[1];
  int axis = op_axis_in_rank (p->axis, x->rank);
  gather_job job = {
    .src = x->data, .dst = ctx->out[0]->data, .indices = ir_i64 (indices),
    .n_indices = ir_numel (indices), .axis_dim = x->dims[axis],
    .block = (size_t) ir_dims_product (x->dims, axis + 1, x->rank)
        * ir_storage_size (x->storage),
  };
  if (check_indices (job.indices, job.n_indices, axis, job.axis_dim, ctx->err) < 0)
    return -1;
  int64_t outer = ir_dims_product (x->dims, 0, axis);
  int64_t items = outer * job.n_indices;
  if (items == 0 || job.block == 0)
    return 0;
  /* Blocks are bytes: a task moves about as many bytes as a copy task's
   * elements take at 4 bytes each. */
  ir_parallel_for (ctx->pool, items, copy_grain ((int64_t) job.block, COPY_GRAIN_ELEMS * 4),
      gather_range, &job);
  return 0;
}

static const op_kernel gather_v1 = {
  .op_type = "Gather", .domain = "", .since_version = 1,
  .init = gather_init, .infer = gather_infer, .run = gather_run,
};

/* ---- GatherElements ---- */

static int
gather_elements_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  imgrec_error *err = ctx->err;
  int axis;
  if (gather_inputs (node, in, out, &axis, err) < 0)
    return -1;
  const ir_tensor *x = in[0], *indices = in[1];
  if (indices->rank != x->rank)
    return ir_fail (err, "indices have rank %d but data has rank %d", indices->rank, x->rank);
  /* Off the axis, an index position is also the data position: it must exist. */
  for (int k = 0; k < x->rank; k++)
    if (k != axis && indices->dims[k] > x->dims[k])
      return ir_fail (err, "indices dimension %d (%lld) exceeds the data's (%lld)", k,
          (long long) indices->dims[k], (long long) x->dims[k]);
  ir_set_shape (out[0], x->elem_type, indices->rank, indices->dims);
  return 0;
}

typedef struct gather_elements_job {
  const ir_tensor *x, *indices;
  ir_tensor *y;
  int axis;
  int64_t strides[IMGREC_MAX_RANK];   /* of the data */
} gather_elements_job;

/* Rows of the indices (all dims but the last). */
static void
gather_elements_rows (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const gather_elements_job *job = arg;
  const ir_tensor *ind = job->indices;
  int last = ind->rank - 1, axis = job->axis;
  int64_t inner = ind->dims[last], axis_dim = job->x->dims[axis];
  int64_t step = axis == last ? 0 : job->strides[last];
  size_t es = ir_storage_size (job->x->storage);
  for (int64_t row = begin; row < end; row++) {
    int64_t base = 0, rem = row;
    for (int k = last - 1; k >= 0; k--) {
      int64_t i = rem % ind->dims[k];
      rem /= ind->dims[k];
      if (k != axis)
        base += i * job->strides[k];
    }
    const int64_t *idx = ir_i64 (ind) + row * inner;
    int64_t o = row * inner;
    for (int64_t j = 0; j < inner; j++) {
      int64_t k = wrap_index (idx[j], axis_dim);
      int64_t src = base + j * step + k * job->strides[axis];
      switch (es) {
        case 4: ir_f32 (job->y)[o + j] = ir_f32 (job->x)[src]; break;
        case 8: ir_i64 (job->y)[o + j] = ir_i64 (job->x)[src]; break;
        default: ir_bool (job->y)[o + j] = ir_bool (job->x)[src]; break;
      }
    }
  }
}

static int
gather_elements_run (const ir_node *node, const op_run_ctx *ctx)
{
  const axis_params *p = node->params;
  const ir_tensor *x = ctx->in[0], *indices = ctx->in[1];
  gather_elements_job job = { .x = x, .indices = indices, .y = ctx->out[0] };
  job.axis = op_axis_in_rank (p->axis, x->rank);
  dense_strides (x->rank, x->dims, job.strides);
  int64_t n = ir_numel (indices), axis_dim = x->dims[job.axis];
  if (check_indices (ir_i64 (indices), n, job.axis, axis_dim, ctx->err) < 0)
    return -1;
  if (n == 0)
    return 0;
  int64_t inner = indices->dims[indices->rank - 1];
  ir_parallel_for (ctx->pool, n / inner, copy_grain (inner, COPY_GRAIN_ELEMS),
      gather_elements_rows, &job);
  return 0;
}

static const op_kernel gather_elements_v11 = {
  .op_type = "GatherElements", .domain = "", .since_version = 11,
  .init = gather_init, .infer = gather_elements_infer, .run = gather_elements_run,
};

const op_kernel *const ir_ops_gather[] = {
  &gather_v1,
  &gather_elements_v11,
  NULL,
};
