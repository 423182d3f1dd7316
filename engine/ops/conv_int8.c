/* ConvInteger and QLinearConv. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


#include "conv_internal.h"
#include "cpu.h"

/* ------------------------------------------------------ ConvInteger, QLinearConv */

/* The 8-bit ops are rare in the models this engine targets (they are float),
 * so they take a direct, exact int64 loop over the shared geometry rather
 * than a GEMM: simple to check, never overflowing.
 *
 * Inputs, by op:
 *   ConvInteger: x, w, x_zero_point?, w_zero_point?
 *   QLinearConv: x, x_scale, x_zero_point, w, w_scale, w_zero_point,
 *                y_scale, y_zero_point, B? */
typedef struct conv_integer_inputs {
  const ir_tensor *x, *w, *b;
  const ir_tensor *x_zero, *w_zero, *x_scale, *w_scale, *y_scale, *y_zero;
} conv_integer_inputs;

static const ir_tensor *
conv_input_or_null (const ir_node *node, ir_tensor *const *in, int i)
{
  return i < node->n_inputs ? in[i] : NULL;
}

static void
conv_integer_gather (const ir_node *node, ir_tensor *const *in, conv_integer_inputs *q)
{
  const conv_params *p = node->params;
  memset (q, 0, sizeof *q);
  if (p->arith == CONV_ARITH_INTEGER) {
    q->x = conv_input_or_null (node, in, 0);
    q->w = conv_input_or_null (node, in, 1);
    q->x_zero = conv_input_or_null (node, in, 2);
    q->w_zero = conv_input_or_null (node, in, 3);
  } else {
    q->x = conv_input_or_null (node, in, 0);
    q->x_scale = conv_input_or_null (node, in, 1);
    q->x_zero = conv_input_or_null (node, in, 2);
    q->w = conv_input_or_null (node, in, 3);
    q->w_scale = conv_input_or_null (node, in, 4);
    q->w_zero = conv_input_or_null (node, in, 5);
    q->y_scale = conv_input_or_null (node, in, 6);
    q->y_zero = conv_input_or_null (node, in, 7);
    q->b = conv_input_or_null (node, in, 8);
  }
}

/* A per-tensor (one element) or, when allowed, per-output-channel operand. */
static int
conv_check_quant_operand (const ir_tensor *t, const char *name, ir_storage storage,
    bool required, int64_t per_channel, imgrec_error *err)
{
  if (t == NULL) {
    if (required)
      return ir_fail (err, "input %s is required", name);
    return 0;
  }
  if (t->storage != storage)
    return ir_fail (err, "input %s must be a %s tensor", name,
        storage == IR_F32 ? "float" : "8-bit integer");
  int64_t n = ir_numel (t);
  if (t->rank > 1 || (n != 1 && (per_channel <= 0 || n != per_channel)))
    return ir_fail (err, "input %s must be a scalar%s", name,
        per_channel > 0 ? " or hold one value per output channel" : "");
  return 0;
}

static int
conv_integer_geometry (const ir_node *node, ir_tensor *const *in, conv_integer_inputs *q,
    conv_geometry *g, imgrec_error *err)
{
  const conv_params *p = node->params;
  conv_integer_gather (node, in, q);
  ir_tensor *view[3] = { (ir_tensor *) q->x, (ir_tensor *) q->w, (ir_tensor *) q->b };
  if (conv_geometry_compute (p, view, q->b, g, err) < 0)
    return -1;
  const int64_t m = g->out_channels;
  const bool qlinear = p->arith == CONV_ARITH_QLINEAR;
  if (conv_check_quant_operand (q->x_zero, "x_zero_point", IR_I64, qlinear, 0, err) < 0
      || conv_check_quant_operand (q->w_zero, "w_zero_point", IR_I64, qlinear, m, err) < 0)
    return -1;
  if (qlinear
      && (conv_check_quant_operand (q->x_scale, "x_scale", IR_F32, true, 0, err) < 0
          || conv_check_quant_operand (q->w_scale, "w_scale", IR_F32, true, m, err) < 0
          || conv_check_quant_operand (q->y_scale, "y_scale", IR_F32, true, 0, err) < 0
          || conv_check_quant_operand (q->y_zero, "y_zero_point", IR_I64, true, 0, err) < 0))
    return -1;
  return 0;
}

int
conv_integer_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  const conv_params *p = node->params;
  conv_integer_inputs q;
  conv_geometry g;
  if (conv_integer_geometry (node, in, &q, &g, ctx->err) < 0)
    return -1;
  imgrec_dtype type = p->arith == CONV_ARITH_QLINEAR ? q.y_zero->elem_type
      : IMGREC_DTYPE_INT32;
  ir_set_shape (out[0], type, q.x->rank, g.out_dims);
  ctx->scratch_bytes = 0;
  return 0;
}

typedef struct conv_integer_task {
  const conv_geometry *g;
  const conv_integer_inputs *q;
  const int64_t *x, *w, *b;
  int64_t *y;
  bool qlinear;
  int64_t y_min, y_max;
} conv_integer_task;

static int64_t
conv_scalar_at (const ir_tensor *t, int64_t i)
{
  if (t == NULL)
    return 0;
  return ir_i64 (t)[ir_numel (t) == 1 ? 0 : i];
}

/* Output planes [begin, end) of the flattened (batch, output channel). */
static void
conv_integer_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const conv_integer_task *t = arg;
  const conv_geometry *g = t->g;
  const conv_lowering *l = &g->low;
  const int n_sp = l->n_spatial;
  const int64_t x_zero = conv_scalar_at (t->q->x_zero, 0);
  for (int64_t item = begin; item < end; item++) {
    const int64_t n = item / g->out_channels, m = item % g->out_channels;
    const int64_t grp = m / g->out_per_group;
    const int64_t w_zero = conv_scalar_at (t->q->w_zero, m);
    const int64_t *wm = t->w + m * g->in_per_group * l->kernel_size;
    const int64_t *xg = t->x + (n * g->in_channels + grp * g->in_per_group) * l->image_size;
    int64_t *yp = t->y + item * l->grid_size;
    float multiplier = 0.0f;
    if (t->qlinear)
      multiplier = ir_f32 (t->q->x_scale)[0]
          * ir_f32 (t->q->w_scale)[ir_numel (t->q->w_scale) == 1 ? 0 : m]
          / ir_f32 (t->q->y_scale)[0];
    const int64_t y_zero = t->qlinear ? conv_scalar_at (t->q->y_zero, 0) : 0;

    int64_t opos[CONV_MAX_SPATIAL] = { 0 };
    for (int64_t o = 0; o < l->grid_size; o++) {
      int64_t acc = t->b != NULL ? t->b[m] : 0;
      for (int64_t c = 0; c < g->in_per_group; c++) {
        const int64_t *xc = xg + c * l->image_size;
        const int64_t *wc = wm + c * l->kernel_size;
        for (int64_t k = 0; k < l->kernel_size; k++) {
          int64_t rest = k, index = 0;
          bool inside = true;
          int64_t kpos[CONV_MAX_SPATIAL];
          for (int i = n_sp - 1; i >= 0; i--) {
            kpos[i] = rest % l->kernel[i];
            rest /= l->kernel[i];
          }
          for (int i = 0; i < n_sp && inside; i++) {
            int64_t at = opos[i] * l->stride[i] + kpos[i] * l->dilation[i] - l->pad[i];
            inside = at >= 0 && at < l->image[i];
            index = index * l->image[i] + at;
          }
          if (inside)
            acc += (xc[index] - x_zero) * (wc[k] - w_zero);
        }
      }
      if (t->qlinear) {
        /* As QuantizeLinear: round half to even, then saturate. */
        /* Clamp in float first: a NaN or huge scale must not reach the
         * float -> int conversion (undefined behaviour). */
        float r = nearbyintf ((float) acc * multiplier) + (float) y_zero;
        if (!(r == r))
          r = 0.0f;
        acc = r < (float) t->y_min ? t->y_min : r > (float) t->y_max ? t->y_max : (int64_t) r;
      }
      yp[o] = acc;
      for (int i = n_sp - 1; i >= 0; i--) {
        if (++opos[i] < l->grid[i])
          break;
        opos[i] = 0;
      }
    }
  }
}

int
conv_integer_run (const ir_node *node, const op_run_ctx *ctx)
{
  const conv_params *p = node->params;
  conv_integer_inputs q;
  conv_geometry g;
  if (conv_integer_geometry (node, ctx->in, &q, &g, ctx->err) < 0)
    return -1;
  const ir_tensor *y = ctx->out[0];
  if (y == NULL || y->storage != IR_I64 || ir_numel (y) != ir_dims_product (g.out_dims, 0,
          q.x->rank))
    return ir_fail (ctx->err, "output y was not prepared as inferred");
  conv_integer_task t = { &g, &q, ir_i64 (q.x), ir_i64 (q.w),
    q.b != NULL ? ir_i64 (q.b) : NULL, ir_i64 (y), p->arith == CONV_ARITH_QLINEAR, 0, 0 };
  if (t.qlinear) {
    bool is_signed = q.y_zero->elem_type == IMGREC_DTYPE_INT8;
    t.y_min = is_signed ? -128 : 0;
    t.y_max = is_signed ? 127 : 255;
  }
  const int64_t work = g.low.grid_size * g.in_per_group * g.low.kernel_size;
  ir_parallel_for (ctx->pool, g.batch * g.out_channels, conv_grain (work),
      conv_integer_range, &t);
  return 0;
}

