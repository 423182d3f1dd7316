/* Op family: softmax.
 *
 * Softmax, LogSoftmax and Hardmax.  Before opset 13 the input is seen as a
 * matrix [N, D] split at `axis` (default 1) and each row of D is
 * normalised; from opset 13 the op works along the one dimension `axis`
 * (default -1).  Both are the same computation on a [outer, A, inner] view:
 * the old form is simply inner = 1.
 *
 * inner = 1 (the common case: class scores, attention rows) works on
 * contiguous rows.  inner > 1 (e.g. softmax over channels of NCHW) keeps the
 * loops contiguous too: running max and sum are vectors of `inner` values
 * in scratch, updated one slice of A at a time.  Both are numerically
 * stable: the maximum is subtracted before exponentiating. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

#include "activation.h"

typedef enum sm_kind { SM_SOFTMAX, SM_LOG_SOFTMAX, SM_HARDMAX } sm_kind;

typedef struct sm_params {
  sm_kind kind;
  int64_t axis;
  bool per_axis;       /* opset >= 13 */
} sm_params;

/* The [outer, A, inner] view and how it is split over threads. */
typedef struct sm_plan {
  int64_t outer, len, inner;
  int64_t pieces, piece;      /* inner is cut into `pieces` of `piece` */
  size_t slice_floats;        /* scratch per thread, multiple of 16 */
} sm_plan;

/* Rows per thread are at least this many elements. */
#define SM_GRAIN_ELEMS 8192

static int
sm_make_plan (const sm_params *p, const ir_tensor *x, int threads, sm_plan *plan,
    imgrec_error *err)
{
  int rank = x->rank;
  int axis;
  if (p->per_axis) {
    if (ir_normalize_axis (p->axis, rank, &axis, err) < 0)
      return -1;
    plan->outer = ir_dims_product (x->dims, 0, axis);
    plan->len = x->dims[axis];
    plan->inner = ir_dims_product (x->dims, axis + 1, rank);
  } else {
    /* The 2-D coercion accepts axis == rank (then D = 1). */
    int64_t a = p->axis < 0 ? p->axis + rank : p->axis;
    if (a < 0 || a > rank)
      return ir_fail (err, "attribute 'axis' is %lld; expected a value in [%d, %d] for an input of rank %d.",
          (long long) p->axis, -rank, rank, rank);
    axis = (int) a;
    plan->outer = ir_dims_product (x->dims, 0, axis);
    plan->len = ir_dims_product (x->dims, axis, rank);
    plan->inner = 1;
  }
  if (threads < 1)
    threads = 1;

  plan->pieces = 1;
  if (plan->inner > 1 && plan->outer < threads) {
    /* Few outer blocks (one image): split the columns instead. */
    int64_t most = plan->inner / 256;
    plan->pieces = most < threads ? (most < 1 ? 1 : most) : threads;
  }
  plan->piece = (plan->inner + plan->pieces - 1) / plan->pieces;
  if (plan->pieces > 1)
    plan->piece = (plan->piece + 15) & ~(int64_t) 15;
  if (plan->piece > 0)
    plan->pieces = (plan->inner + plan->piece - 1) / plan->piece;

  /* inner > 1: max, sum and one exp slice per column; inner = 1 and
   * LogSoftmax: the exponentials of one row (the output keeps x - max). */
  size_t floats = 0;
  if (plan->inner > 1)
    floats = 3 * (size_t) plan->piece;
  else if (p->kind == SM_LOG_SOFTMAX)
    floats = (size_t) plan->len;
  plan->slice_floats = (floats + 15) & ~(size_t) 15;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Contiguous rows (inner = 1)                                             */
/* ---------------------------------------------------------------------- */

static float
row_max (const float *x, int64_t n)
{
  /* Eight running maxima so the loop is not one long dependency chain. */
  float m[8];
  int64_t i = 0;
  for (int k = 0; k < 8; k++)
    m[k] = -INFINITY;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++)
      m[k] = x[i + k] > m[k] ? x[i + k] : m[k];
  for (; i < n; i++)
    m[0] = x[i] > m[0] ? x[i] : m[0];
  float best = m[0];
  for (int k = 1; k < 8; k++)
    best = m[k] > best ? m[k] : best;
  return best;
}

static void
softmax_row (const float *x, float *y, int64_t n)
{
  float sum = ir_vector_exp_sum (x, y, n, row_max (x, n));
  float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; i++)
    y[i] *= inv;
}

static void
log_softmax_row (const float *x, float *y, int64_t n, float *tmp)
{
  float m = row_max (x, n);
  float sum = ir_vector_exp_sum (x, tmp, n, m);
  /* (x - m) - log(sum), not x - (m + log(sum)): m may be large, and the
   * sum would lose log(sum)'s low bits. */
  float log_sum = logf (sum);
  for (int64_t i = 0; i < n; i++)
    y[i] = (x[i] - m) - log_sum;
}

/* Hardmax: 1 at the first maximum of each row/column, 0 elsewhere.  Works on
 * a strided column so that both layouts share it. */
static void
hardmax_column (const float *x, float *y, int64_t n, int64_t stride)
{
  int64_t best = 0;
  for (int64_t a = 1; a < n; a++)
    if (x[a * stride] > x[best * stride])
      best = a;
  for (int64_t a = 0; a < n; a++)
    y[a * stride] = 0.0f;
  if (n > 0)
    y[best * stride] = 1.0f;
}

/* ---------------------------------------------------------------------- */
/* Strided columns (inner > 1)                                             */
/* ---------------------------------------------------------------------- */

/* x, y point at the first column of the block; w columns of `len` values
 * each, consecutive values `stride` apart. */
static void
softmax_columns (sm_kind kind, const float *x, float *y, int64_t len,
    int64_t stride, int64_t w, float *scratch)
{
  float *mx = scratch, *sum = scratch + w, *tmp = scratch + 2 * w;

  if (kind == SM_HARDMAX) {
    for (int64_t i = 0; i < w; i++)
      hardmax_column (x + i, y + i, len, stride);
    return;
  }

  memcpy (mx, x, (size_t) w * sizeof (float));
  for (int64_t a = 1; a < len; a++) {
    const float *xa = x + a * stride;
    for (int64_t i = 0; i < w; i++)
      mx[i] = xa[i] > mx[i] ? xa[i] : mx[i];
  }
  for (int64_t i = 0; i < w; i++)
    sum[i] = 0.0f;

  for (int64_t a = 0; a < len; a++) {
    const float *xa = x + a * stride;
    float *ya = y + a * stride;
    for (int64_t i = 0; i < w; i++)
      tmp[i] = xa[i] - mx[i];
    if (kind == SM_SOFTMAX) {
      ir_vector_exp_sum (tmp, ya, w, 0.0f);
      for (int64_t i = 0; i < w; i++)
        sum[i] += ya[i];
    } else {
      /* The output keeps x - max; the exponentials only feed the sum. */
      memcpy (ya, tmp, (size_t) w * sizeof (float));
      ir_vector_exp_sum (tmp, tmp, w, 0.0f);
      for (int64_t i = 0; i < w; i++)
        sum[i] += tmp[i];
    }
  }

  if (kind == SM_SOFTMAX) {
    for (int64_t i = 0; i < w; i++)
      sum[i] = 1.0f / sum[i];
    for (int64_t a = 0; a < len; a++) {
      float *ya = y + a * stride;
      for (int64_t i = 0; i < w; i++)
        ya[i] *= sum[i];
    }
  } else {
    for (int64_t i = 0; i < w; i++)
      sum[i] = logf (sum[i]);
    for (int64_t a = 0; a < len; a++) {
      float *ya = y + a * stride;
      for (int64_t i = 0; i < w; i++)
        ya[i] -= sum[i];
    }
  }
}

/* ---------------------------------------------------------------------- */
/* Driver                                                                  */
/* ---------------------------------------------------------------------- */

typedef struct sm_task {
  const sm_params *p;
  const sm_plan *plan;
  const float *x;
  float *y;
  float *scratch;
} sm_task;

static void
sm_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const sm_task *t = arg;
  const sm_plan *plan = t->plan;
  const int64_t len = plan->len, inner = plan->inner;
  float *scratch = t->scratch + (size_t) thread_index * plan->slice_floats;

  for (int64_t item = begin; item < end; item++) {
    if (inner == 1) {
      const float *x = t->x + item * len;
      float *y = t->y + item * len;
      switch (t->p->kind) {
      case SM_SOFTMAX: softmax_row (x, y, len); break;
      case SM_LOG_SOFTMAX: log_softmax_row (x, y, len, scratch); break;
      case SM_HARDMAX: hardmax_column (x, y, len, 1); break;
      }
      continue;
    }
    int64_t o = item / plan->pieces, c0 = item % plan->pieces * plan->piece;
    int64_t w = inner - c0 < plan->piece ? inner - c0 : plan->piece;
    size_t base = (size_t) o * len * inner + c0;
    softmax_columns (t->p->kind, t->x + base, t->y + base, len, inner, w, scratch);
  }
}

static int
sm_init_common (ir_node *node, const op_init_ctx *ctx, imgrec_error *err, bool per_axis)
{
  if (node->n_inputs != 1 || node->inputs[0] < 0)
    return ir_fail (err, "expected exactly one input, got %d.", node->n_inputs);
  if (node->n_outputs < 1 || node->outputs[0] < 0)
    return ir_fail (err, "expected one output.");
  sm_params *p = calloc (1, sizeof *p);
  if (p == NULL)
    return ir_fail (err, "out of memory for the node's parameters.");
  const char *type = node->op_type;
  p->kind = strcmp (type, "LogSoftmax") == 0 ? SM_LOG_SOFTMAX
      : strcmp (type, "Hardmax") == 0 ? SM_HARDMAX : SM_SOFTMAX;
  p->per_axis = per_axis;
  p->axis = op_attr_int (ctx, "axis", per_axis ? -1 : 1);
  node->params = p;
  if (p->axis < -IMGREC_MAX_RANK || p->axis > IMGREC_MAX_RANK)
    return ir_fail (err, "attribute 'axis' is %lld; expected a value in [%d, %d].",
        (long long) p->axis, -IMGREC_MAX_RANK, IMGREC_MAX_RANK);
  return 0;
}

static int
sm_init1 (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  return sm_init_common (node, ctx, err, false);
}

static int
sm_init13 (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  return sm_init_common (node, ctx, err, true);
}

static int
sm_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  const sm_params *p = node->params;
  const ir_tensor *x = in[0];
  if (x == NULL)
    return ir_fail (ctx->err, "input is missing.");
  if (x->storage != IR_F32)
    return ir_fail (ctx->err, "input has type %s; expected a floating type.",
        imgrec_dtype_name (x->elem_type));
  if (x->rank < 1)
    return ir_fail (ctx->err, "input is a scalar; expected rank 1 or more.");
  sm_plan plan = { 0 };
  if (sm_make_plan (p, x, ctx->threads, &plan, ctx->err) < 0)
    return -1;
  int threads = ctx->threads < 1 ? 1 : ctx->threads;
  ctx->scratch_bytes = (size_t) threads * plan.slice_floats * sizeof (float);
  ir_set_shape (out[0], x->elem_type, x->rank, x->dims);
  return 0;
}

static int
sm_run (const ir_node *node, const op_run_ctx *ctx)
{
  const sm_params *p = node->params;
  const ir_tensor *x = ctx->in[0];
  int threads = ir_pool_threads (ctx->pool);
  sm_plan plan = { 0 };
  if (sm_make_plan (p, x, threads, &plan, ctx->err) < 0)
    return -1;
  if ((size_t) threads * plan.slice_floats * sizeof (float) > ctx->scratch_bytes)
    return ir_fail (ctx->err, "scratch space is %zu bytes but %zu are needed; was the session planned for %d threads?",
        ctx->scratch_bytes, (size_t) threads * plan.slice_floats * sizeof (float), threads);
  if (ir_numel (x) == 0)
    return 0;

  sm_task t = { .p = p, .plan = &plan, .x = ir_f32 (x), .y = ir_f32 (ctx->out[0]),
      .scratch = ctx->scratch };
  int64_t items, item_elems;
  if (plan.inner == 1) {
    items = plan.outer;
    item_elems = plan.len;
  } else {
    items = plan.outer * plan.pieces;
    item_elems = plan.len * plan.piece;
  }
  int64_t grain = item_elems > 0 ? SM_GRAIN_ELEMS / item_elems : 1;
  ir_parallel_for (ctx->pool, items, grain < 1 ? 1 : grain, sm_range, &t);
  return 0;
}

#define SM_KERNEL(var, op, since, initfn)                       \
  static const op_kernel var = {                                \
    .op_type = op, .domain = "", .since_version = since,        \
    .init = initfn, .infer = sm_infer, .run = sm_run,           \
  }

SM_KERNEL (softmax1_kernel, "Softmax", 1, sm_init1);
SM_KERNEL (softmax13_kernel, "Softmax", 13, sm_init13);
SM_KERNEL (log_softmax1_kernel, "LogSoftmax", 1, sm_init1);
SM_KERNEL (log_softmax13_kernel, "LogSoftmax", 13, sm_init13);
SM_KERNEL (hardmax1_kernel, "Hardmax", 1, sm_init1);
SM_KERNEL (hardmax13_kernel, "Hardmax", 13, sm_init13);

const op_kernel *const ir_ops_softmax[] = {
  &softmax1_kernel, &softmax13_kernel,
  &log_softmax1_kernel, &log_softmax13_kernel,
  &hardmax1_kernel, &hardmax13_kernel,
  NULL
};
