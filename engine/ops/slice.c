/* Op family: slice — ops that join tensors along an axis or cut parts out.
 *
 * Concat, Split, Slice, on any storage (F32, I64, BOOL).  Split and Slice
 * build a strided view of their input (strided_view.h); Concat copies each
 * input's blocks side by side.
 *
 * Attributes are checked in init, everything that depends on shapes or on
 * shape-like input values in infer; run recomputes what it needs from the
 * same inputs (node->params is shared between sessions).
 */
#include <limits.h>
#include <string.h>

#include "op_checks.h"
#include "strided_view.h"

/* ---- Concat ---- */

static int
concat_init_v1 (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  return op_axis_params_init (node, ctx, 1, err);   /* opset 1 defaults to 1 */
}

static int
concat_init_v4 (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  if (!op_attr_has (ctx, "axis"))
    return ir_fail (err, "attribute axis is missing");
  return concat_init_v1 (node, ctx, err);
}

static int
concat_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (op_need_output (node, out, ctx->err) < 0)
    return -1;
  const axis_params *p = node->params;
  imgrec_error *err = ctx->err;
  if (node->n_inputs < 1)
    return ir_fail (err, "Concat needs at least one input");
  for (int i = 0; i < node->n_inputs; i++)
    if (in[i] == NULL)
      return ir_fail (err, "input %d is missing", i);
  const ir_tensor *first = in[0];
  int axis;
  if (ir_normalize_axis (p->axis, first->rank, &axis, err) < 0)
    return -1;
  int64_t dims[IMGREC_MAX_RANK];
  memcpy (dims, first->dims, sizeof dims);
  dims[axis] = 0;
  for (int i = 0; i < node->n_inputs; i++) {
    const ir_tensor *t = in[i];
    if (t->rank != first->rank || t->storage != first->storage)
      return ir_fail (err, "input %d has rank %d and type %s but input 0 has rank %d and "
          "type %s", i, t->rank, imgrec_dtype_name (t->elem_type), first->rank,
          imgrec_dtype_name (first->elem_type));
    for (int k = 0; k < t->rank; k++)
      if (k != axis && t->dims[k] != first->dims[k])
        return ir_fail (err, "input %d has dimension %lld on axis %d but input 0 has %lld",
            i, (long long) t->dims[k], k, (long long) first->dims[k]);
    if (t->dims[axis] > INT64_MAX - dims[axis])
      return ir_fail (err, "the concatenated axis is too long");
    dims[axis] += t->dims[axis];
  }
  return op_set_checked_shape (out[0], first->elem_type, first->rank, dims, err);
}

typedef struct concat_job {
  const op_run_ctx *ctx;
  int n_inputs;
  int axis;
  int64_t inner;        /* elements after the axis */
  int64_t out_row;      /* output elements per outer index */
  size_t esize;
} concat_job;

/* Outer rows [begin, end): each row is the inputs' blocks side by side. */
static void
concat_rows (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const concat_job *job = arg;
  int64_t es = (int64_t) job->esize;
  char *dst = (char *) job->ctx->out[0]->data + begin * job->out_row * es;
  for (int64_t o = begin; o < end; o++) {
    for (int i = 0; i < job->n_inputs; i++) {
      const ir_tensor *t = job->ctx->in[i];
      int64_t block = t->dims[job->axis] * job->inner * es;
      memcpy (dst, (const char *) t->data + o * block, (size_t) block);
      dst += block;
    }
  }
}

static int
concat_run (const ir_node *node, const op_run_ctx *ctx)
{
  const axis_params *p = node->params;
  ir_tensor *y = ctx->out[0];
  concat_job job = {
    .ctx = ctx, .n_inputs = node->n_inputs,
    .axis = op_axis_in_rank (p->axis, y->rank),
    .esize = ir_storage_size (y->storage),
  };
  int64_t outer = ir_dims_product (y->dims, 0, job.axis);
  job.inner = ir_dims_product (y->dims, job.axis + 1, y->rank);
  job.out_row = y->dims[job.axis] * job.inner;
  if (outer == 0 || job.out_row == 0)
    return 0;
  if (outer == 1) {
    /* One block per input (axis 0, or only ones before it): big memcpys,
     * none for an input the planner placed inside Y (concat_inputs_in_output). */
    char *dst = y->data;
    for (int i = 0; i < node->n_inputs; i++) {
      size_t bytes = ir_nbytes (ctx->in[i]);
      if (ctx->in[i]->data != dst)
        copy_bytes (ctx->pool, dst, ctx->in[i]->data, bytes);
      dst += bytes;
    }
    return 0;
  }
  ir_parallel_for (ctx->pool, outer, copy_grain (job.out_row, COPY_GRAIN_ELEMS), concat_rows,
      &job);
  return 0;
}

/* With only ones before the axis, Y is its inputs end to end: SqueezeNet's
 * fire modules (and YOLO's necks) then write their branches straight into
 * the concatenation instead of copying them (0.6 ms of SqueezeNet 1.1's
 * 10 ms at 1 thread). */
static bool
concat_inputs_in_output (const ir_node *node, ir_tensor *const *in, const ir_tensor *out,
    size_t *offsets)
{
  const axis_params *p = node->params;
  if (out == NULL || out->rank < 1)
    return false;
  const int axis = op_axis_in_rank (p->axis, out->rank);
  if (ir_dims_product (out->dims, 0, axis) != 1)
    return false;
  size_t at = 0;
  for (int i = 0; i < node->n_inputs; i++) {
    if (in[i] == NULL || in[i]->storage != out->storage)
      return false;
    offsets[i] = at;
    at += ir_nbytes (in[i]);
  }
  return at == ir_nbytes (out);
}

/* For the profiler: "in place" when the planner put every input inside Y
 * (the run copies nothing), else "copy". */
static void
concat_describe (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out, char *buf,
    size_t size)
{
  size_t offsets[64];
  bool in_place = out[0] != NULL && out[0]->data != NULL && node->n_inputs <= 64
      && concat_inputs_in_output (node, in, out[0], offsets);
  for (int i = 0; in_place && i < node->n_inputs; i++)
    in_place = in[i]->data == (const char *) out[0]->data + offsets[i];
  snprintf (buf, size, "%s", in_place ? "in place" : "copy");
}

static const op_kernel concat_v1 = {
  .op_type = "Concat", .domain = "", .since_version = 1,
  .init = concat_init_v1, .infer = concat_infer, .run = concat_run,
  .inputs_in_output = concat_inputs_in_output, .describe = concat_describe,
};

static const op_kernel concat_v4 = {
  .op_type = "Concat", .domain = "", .since_version = 4,
  .init = concat_init_v4, .infer = concat_infer, .run = concat_run,
  .inputs_in_output = concat_inputs_in_output, .describe = concat_describe,
};

/* ---- Split ---- */

typedef struct split_params {
  int64_t axis;
  int n_split;                       /* -1: no split attribute */
  const int64_t *split;              /* owned by the model */
} split_params;

static int
split_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  split_params *p = op_params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  p->axis = op_attr_int (ctx, "axis", 0);
  p->n_split = node->kernel->since_version < 13 ? op_attr_ints (ctx, "split", &p->split) : -1;
  if (node->n_outputs < 1)
    return ir_fail (err, "Split needs at least one output");
  return 0;
}

/* Where the part sizes come from: the attribute (opset < 13), the optional
 * input (opset 1 and 13+), or nowhere (equal parts).  NULL for equal parts. */
static const int64_t *
split_sizes (const ir_node *node, ir_tensor *const *in, int64_t *n_sizes)
{
  const split_params *p = node->params;
  if (p->n_split >= 0) {
    *n_sizes = p->n_split;
    return p->split;
  }
  if (node->kernel->since_version != 2 && node->n_inputs > 1 && in[1] != NULL) {
    *n_sizes = ir_numel (in[1]);
    return ir_i64 (in[1]);
  }
  *n_sizes = -1;
  return NULL;
}

static int
split_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  const split_params *p = node->params;
  imgrec_error *err = ctx->err;
  if (op_need_input (node, in, 0, "input", err) < 0)
    return -1;
  const ir_tensor *x = in[0];
  int axis;
  if (ir_normalize_axis (p->axis, x->rank, &axis, err) < 0)
    return -1;
  if (p->n_split < 0 && node->kernel->since_version != 2 && node->n_inputs > 1
      && in[1] != NULL) {
    if (in[1]->data == NULL)
      return ir_fail (err, "the values of the split input are not known when the session "
          "is planned");
    if (in[1]->storage != IR_I64 || in[1]->rank != 1)
      return ir_fail (err, "the split input must be a 1-D integer tensor");
  }
  int64_t n_sizes, dim = x->dims[axis];
  const int64_t *sizes = split_sizes (node, in, &n_sizes);
  if (sizes != NULL) {
    if (n_sizes != node->n_outputs)
      return ir_fail (err, "split lists %lld sizes but the node has %d outputs",
          (long long) n_sizes, node->n_outputs);
    int64_t sum = 0;
    for (int64_t k = 0; k < n_sizes; k++) {
      if (sizes[k] < 0 || sizes[k] > dim - sum)
        return ir_fail (err, "split sizes must be non-negative and add up to the "
            "dimension of axis %d (%lld)", axis, (long long) dim);
      sum += sizes[k];
    }
    if (sum != dim)
      return ir_fail (err, "split sizes add up to %lld but axis %d has dimension %lld",
          (long long) sum, axis, (long long) dim);
  } else if (dim % node->n_outputs != 0) {
    return ir_fail (err, "axis %d of dimension %lld cannot be split into %d equal parts",
        axis, (long long) dim, node->n_outputs);
  }
  for (int k = 0; k < node->n_outputs; k++) {
    if (out[k] == NULL)
      continue;
    int64_t dims[IMGREC_MAX_RANK];
    memcpy (dims, x->dims, sizeof dims);
    dims[axis] = sizes != NULL ? sizes[k] : dim / node->n_outputs;
    ir_set_shape (out[k], x->elem_type, x->rank, dims);
  }
  return 0;
}

static int
split_run (const ir_node *node, const op_run_ctx *ctx)
{
  const split_params *p = node->params;
  const ir_tensor *x = ctx->in[0];
  int axis = op_axis_in_rank (p->axis, x->rank);
  int64_t n_sizes, start = 0;
  const int64_t *sizes = split_sizes (node, ctx->in, &n_sizes);
  size_t es = ir_storage_size (x->storage);
  for (int k = 0; k < node->n_outputs; k++) {
    int64_t size = sizes != NULL ? sizes[k] : x->dims[axis] / node->n_outputs;
    ir_tensor *y = ctx->out[k];
    if (y != NULL) {
      strided_view v;
      view_of_input (&v, x);
      v.dims[axis] = size;
      v.offset = start * v.strides[axis];
      view_copy (ctx->pool, &v, x->data, y->data, es);
    }
    start += size;
  }
  return 0;
}

static const op_kernel split_v1 = {
  .op_type = "Split", .domain = "", .since_version = 1,
  .needs_input_data = 1u << 1,
  .init = split_init, .infer = split_infer, .run = split_run,
};

static const op_kernel split_v2 = {
  .op_type = "Split", .domain = "", .since_version = 2,
  .init = split_init, .infer = split_infer, .run = split_run,
};

static const op_kernel split_v13 = {
  .op_type = "Split", .domain = "", .since_version = 13,
  .needs_input_data = 1u << 1,
  .init = split_init, .infer = split_infer, .run = split_run,
};

/* ---- Slice ---- */

typedef struct slice_params {          /* opset < 10: attributes */
  int n_starts, n_ends, n_axes;
  int64_t starts[IMGREC_MAX_RANK], ends[IMGREC_MAX_RANK], axes[IMGREC_MAX_RANK];
} slice_params;

static int
slice_init_v1 (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  slice_params *p = op_params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  if (op_read_ints_attr (ctx, "starts", IMGREC_MAX_RANK, p->starts, &p->n_starts, err) < 0
      || op_read_ints_attr (ctx, "ends", IMGREC_MAX_RANK, p->ends, &p->n_ends, err) < 0
      || op_read_ints_attr (ctx, "axes", IMGREC_MAX_RANK, p->axes, &p->n_axes, err) < 0)
    return -1;
  if (p->n_starts < 0 || p->n_ends < 0)
    return ir_fail (err, "attributes starts and ends are required");
  return 0;
}

/* Turns starts/ends/axes/steps into a view of the input (numpy rules:
 * negative values count from the end, everything is clamped). */
static int
slice_view (const ir_node *node, ir_tensor *const *in, strided_view *v, imgrec_error *err)
{
  int64_t starts[IMGREC_MAX_RANK], ends[IMGREC_MAX_RANK], axes[IMGREC_MAX_RANK];
  int64_t steps[IMGREC_MAX_RANK];
  int n, n_ends, n_axes = -1, n_steps = -1;
  if (op_need_input (node, in, 0, "data", err) < 0)
    return -1;
  if (node->kernel->since_version < 10) {
    const slice_params *p = node->params;
    n = p->n_starts;
    n_ends = p->n_ends;
    n_axes = p->n_axes;
    memcpy (starts, p->starts, sizeof starts);
    memcpy (ends, p->ends, sizeof ends);
    memcpy (axes, p->axes, sizeof axes);
  } else {
    if (op_need_input (node, in, 1, "starts", err) < 0
        || op_need_input (node, in, 2, "ends", err) < 0
        || op_read_int_input (in[1], "starts", IMGREC_MAX_RANK, starts, &n, err) < 0
        || op_read_int_input (in[2], "ends", IMGREC_MAX_RANK, ends, &n_ends, err) < 0)
      return -1;
    if (node->n_inputs > 3 && in[3] != NULL
        && op_read_int_input (in[3], "axes", IMGREC_MAX_RANK, axes, &n_axes, err) < 0)
      return -1;
    if (node->n_inputs > 4 && in[4] != NULL
        && op_read_int_input (in[4], "steps", IMGREC_MAX_RANK, steps, &n_steps, err) < 0)
      return -1;
  }
  if (n_ends != n || (n_axes >= 0 && n_axes != n) || (n_steps >= 0 && n_steps != n))
    return ir_fail (err, "starts, ends, axes and steps must have the same length "
        "(%d, %d, %d, %d)", n, n_ends, n_axes, n_steps);
  const ir_tensor *x = in[0];
  view_of_input (v, x);
  bool seen[IMGREC_MAX_RANK] = { false };
  for (int i = 0; i < n; i++) {
    int a;
    if (ir_normalize_axis (n_axes >= 0 ? axes[i] : i, x->rank, &a, err) < 0)
      return -1;
    if (seen[a])
      return ir_fail (err, "axis %d is sliced twice", a);
    seen[a] = true;
    int64_t step = n_steps >= 0 ? steps[i] : 1;
    if (step == 0)
      return ir_fail (err, "steps[%d] is 0; a slice step cannot be 0", i);
    int64_t dim = x->dims[a], start = starts[i], end = ends[i], count;
    if (start < 0)
      start += dim;
    if (end < 0)
      end += dim;
    if (dim == 0) {
      count = 0;
    } else if (step > 0) {
      start = start < 0 ? 0 : start > dim ? dim : start;
      end = end < 0 ? 0 : end > dim ? dim : end;
      count = end > start ? (end - start - 1) / step + 1 : 0;
    } else {
      int64_t magnitude = step == INT64_MIN ? INT64_MAX : -step;
      start = start < 0 ? 0 : start > dim - 1 ? dim - 1 : start;
      end = end < -1 ? -1 : end > dim - 1 ? dim - 1 : end;
      count = start > end ? (start - end - 1) / magnitude + 1 : 0;
    }
    v->dims[a] = count;
    if (count > 0)
      v->offset += start * v->strides[a];
    /* With two or more elements |step| < dim, so the product cannot overflow. */
    v->strides[a] = count > 1 ? v->strides[a] * step : 0;
  }
  return 0;
}

static int
slice_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (op_need_output (node, out, ctx->err) < 0)
    return -1;
  strided_view v;
  if (slice_view (node, in, &v, ctx->err) < 0)
    return -1;
  ir_set_shape (out[0], in[0]->elem_type, v.rank, v.dims);
  return 0;
}

static int
slice_run (const ir_node *node, const op_run_ctx *ctx)
{
  strided_view v;
  if (slice_view (node, ctx->in, &v, ctx->err) < 0)
    return -1;
  view_copy (ctx->pool, &v, ctx->in[0]->data, ctx->out[0]->data,
      ir_storage_size (ctx->in[0]->storage));
  return 0;
}

static const op_kernel slice_v1 = {
  .op_type = "Slice", .domain = "", .since_version = 1,
  .init = slice_init_v1, .infer = slice_infer, .run = slice_run,
};

static const op_kernel slice_v10 = {
  .op_type = "Slice", .domain = "", .since_version = 10,
  .needs_input_data = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4),
  .infer = slice_infer, .run = slice_run,
};

const op_kernel *const ir_ops_slice[] = {
  &concat_v1, &concat_v4,
  &split_v1, &split_v2, &split_v13,
  &slice_v1, &slice_v10,
  NULL,
};
