/* Op family: shape — ops that report a tensor's shape, not its data.
 *
 * Shape (opset 15 start/end range) and Size.  Both are reads_only_shapes, so
 * the engine folds them whenever the input's shape is known.
 */
#include "op_checks.h"

typedef struct shape_params {
  int64_t start, end;
  bool has_end;
} shape_params;

static int
shape_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  shape_params *p = op_params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  p->start = op_attr_int (ctx, "start", 0);
  p->has_end = op_attr_has (ctx, "end");
  p->end = op_attr_int (ctx, "end", 0);
  return 0;
}

/* The [start, end) range of dims to report (opset 15; clamped to [0, rank]). */
static void
shape_range (const shape_params *p, int rank, int64_t *start, int64_t *end)
{
  int64_t s = p->start < 0 ? p->start + rank : p->start;
  int64_t e = !p->has_end ? rank : p->end < 0 ? p->end + rank : p->end;
  *start = s < 0 ? 0 : s > rank ? rank : s;
  *end = e < 0 ? 0 : e > rank ? rank : e;
  if (*end < *start)
    *end = *start;
}

static int
shape_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (op_need_input_and_output (node, in, out, "data", ctx->err) < 0)
    return -1;
  int64_t start, end;
  shape_range (node->params, in[0]->rank, &start, &end);
  int64_t dims[1] = { end - start };
  ir_set_shape (out[0], IMGREC_DTYPE_INT64, 1, dims);
  return 0;
}

static int
shape_run (const ir_node *node, const op_run_ctx *ctx)
{
  int64_t start, end;
  shape_range (node->params, ctx->in[0]->rank, &start, &end);
  for (int64_t i = start; i < end; i++)
    ir_i64 (ctx->out[0])[i - start] = ctx->in[0]->dims[i];
  return 0;
}

static const op_kernel shape_v1 = {
  .op_type = "Shape", .domain = "", .since_version = 1, .reads_only_shapes = true,
  .init = shape_init, .infer = shape_infer, .run = shape_run,
};

static int
size_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  int64_t numel;
  if (op_need_input_and_output (node, in, out, "data", ctx->err) < 0
      || op_checked_numel (in[0]->rank, in[0]->dims, &numel, ctx->err) < 0)
    return -1;
  ir_set_shape (out[0], IMGREC_DTYPE_INT64, 0, NULL);
  return 0;
}

static int
size_run (const ir_node *node, const op_run_ctx *ctx)
{
  ir_i64 (ctx->out[0])[0] = ir_numel (ctx->in[0]);
  return 0;
}

static const op_kernel size_v1 = {
  .op_type = "Size", .domain = "", .since_version = 1, .reads_only_shapes = true,
  .infer = size_infer, .run = size_run,
};

const op_kernel *const ir_ops_shape[] = {
  &shape_v1,
  &size_v1,
  NULL,
};
