/* Op family: reshape — ops that keep the element order.
 *
 * Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout (inference).  They
 * only compute a new shape; run is one copy of the whole tensor, on any
 * storage (F32, I64, BOOL).
 *
 * Attributes are checked in init, everything that depends on shapes or on
 * shape-like input values in infer (the model, and so node->params, is shared
 * between sessions and must not be written after load).
 */
#include <limits.h>
#include <string.h>

#include "op_checks.h"
#include "strided_view.h"

/* ---- Identity, Dropout ---- */

static int
identity_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (op_need_input_and_output (node, in, out, "input", ctx->err) < 0)
    return -1;
  ir_set_shape (out[0], in[0]->elem_type, in[0]->rank, in[0]->dims);
  return 0;
}

static int
identity_run (const ir_node *node, const op_run_ctx *ctx)
{
  copy_tensor_data (ctx, ctx->out[0], ctx->in[0]);
  return 0;
}

static const op_kernel identity_v1 = {
  .op_type = "Identity", .domain = "", .since_version = 1,
  .infer = identity_infer, .run = identity_run,
};

/* Dropout is inference-only here: the output is the input, the mask all
 * true (bool from opset 10, the input's type before). */
static int
dropout_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (op_need_input_and_output (node, in, out, "data", ctx->err) < 0)
    return -1;
  if (node->opset >= 12 && node->n_inputs > 2 && in[2] != NULL) {
    const ir_tensor *mode = in[2];
    if (mode->data == NULL)
      return ir_fail (ctx->err, "the training_mode input is not known when the session is "
          "planned; only inference (training_mode false) is supported");
    if (ir_numel (mode) != 1)
      return ir_fail (ctx->err, "the training_mode input must be a scalar");
    if (ir_get_f64 (mode, 0) != 0)
      return ir_fail (ctx->err, "training_mode is true; only inference Dropout is supported");
  }
  ir_set_shape (out[0], in[0]->elem_type, in[0]->rank, in[0]->dims);
  if (node->n_outputs > 1 && out[1] != NULL) {
    imgrec_dtype mask_type = node->opset >= 10 ? IMGREC_DTYPE_BOOL : in[0]->elem_type;
    ir_set_shape (out[1], mask_type, in[0]->rank, in[0]->dims);
  }
  return 0;
}

static int
dropout_run (const ir_node *node, const op_run_ctx *ctx)
{
  copy_tensor_data (ctx, ctx->out[0], ctx->in[0]);
  ir_tensor *mask = node->n_outputs > 1 ? ctx->out[1] : NULL;
  if (mask != NULL) {
    int64_t n = ir_numel (mask);
    switch (mask->storage) {
      case IR_F32:
        for (int64_t i = 0; i < n; i++)
          ir_f32 (mask)[i] = 1.0f;
        break;
      case IR_I64:
        for (int64_t i = 0; i < n; i++)
          ir_i64 (mask)[i] = 1;
        break;
      default:
        memset (mask->data, 1, (size_t) n);
        break;
    }
  }
  return 0;
}

static const op_kernel dropout_v1 = {
  .op_type = "Dropout", .domain = "", .since_version = 1,
  .infer = dropout_infer, .run = dropout_run,
};

/* Opset 12 turned ratio and training_mode into inputs. */
static const op_kernel dropout_v12 = {
  .op_type = "Dropout", .domain = "", .since_version = 12,
  .needs_input_data = 1u << 2,
  .infer = dropout_infer, .run = dropout_run,
};

/* ---- Reshape ---- */

typedef struct reshape_params {
  int n_shape;                       /* opset < 5: the shape attribute */
  int64_t shape[IMGREC_MAX_RANK];
  bool allowzero;
} reshape_params;

static int
reshape_init_common (ir_node *node, const op_init_ctx *ctx, imgrec_error *err,
    bool shape_attr)
{
  reshape_params *p = op_params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  int64_t allowzero = op_attr_int (ctx, "allowzero", 0);
  if (allowzero != 0 && allowzero != 1)
    return ir_fail (err, "attribute allowzero is %lld; expected 0 or 1", (long long) allowzero);
  p->allowzero = allowzero == 1;
  if (shape_attr) {
    if (op_read_ints_attr (ctx, "shape", IMGREC_MAX_RANK, p->shape, &p->n_shape, err) < 0)
      return -1;
    if (p->n_shape < 0)
      return ir_fail (err, "attribute shape is missing");
  }
  return 0;
}

static int
reshape_init_v1 (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  return reshape_init_common (node, ctx, err, true);
}

static int
reshape_init_v5 (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  return reshape_init_common (node, ctx, err, false);
}

static int
reshape_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  const reshape_params *p = node->params;
  imgrec_error *err = ctx->err;
  if (op_need_input_and_output (node, in, out, "data", err) < 0)
    return -1;
  int64_t shape[IMGREC_MAX_RANK];
  int n;
  if (node->kernel->since_version < 5) {
    n = p->n_shape;
    memcpy (shape, p->shape, sizeof shape);
  } else {
    if (op_need_input (node, in, 1, "shape", err) < 0
        || op_read_int_input (in[1], "shape", IMGREC_MAX_RANK, shape, &n, err) < 0)
      return -1;
    if (in[1]->rank != 1)
      return ir_fail (err, "the shape input must be 1-D, not of rank %d", in[1]->rank);
  }
  int64_t in_numel = 0;
  if (op_checked_numel (in[0]->rank, in[0]->dims, &in_numel, err) < 0)
    return -1;
  int infer_at = -1;
  bool has_zero = false;
  int64_t known = 1;
  for (int i = 0; i < n; i++) {
    if (shape[i] == -1) {
      if (infer_at >= 0)
        return ir_fail (err, "the new shape has more than one -1 dimension");
      infer_at = i;
      continue;
    }
    if (shape[i] < -1)
      return ir_fail (err, "dimension %d of the new shape is %lld; expected -1 or more", i,
          (long long) shape[i]);
    if (shape[i] == 0) {
      has_zero = true;
      if (!p->allowzero) {
        if (i >= in[0]->rank)
          return ir_fail (err, "dimension %d of the new shape is 0 (copy the input's) but the "
              "input has rank %d", i, in[0]->rank);
        shape[i] = in[0]->dims[i];
      }
    }
    if (shape[i] != 0 && known > INT64_MAX / shape[i])
      return ir_fail (err, "the new shape has too many elements");
    known *= shape[i];
  }
  if (p->allowzero && has_zero && infer_at >= 0)
    return ir_fail (err, "with allowzero=1 the new shape cannot hold both 0 and -1");
  if (infer_at >= 0) {
    if (known == 0 || in_numel % known != 0)
      return ir_fail (err, "cannot infer the -1 dimension: %lld elements do not divide into "
          "blocks of %lld", (long long) in_numel, (long long) known);
    shape[infer_at] = in_numel / known;
    known = in_numel;
  }
  if (known != in_numel)
    return ir_fail (err, "the new shape has %lld elements but the input has %lld",
        (long long) known, (long long) in_numel);
  if (op_checked_numel (n, shape, &known, err) < 0)
    return -1;
  ir_set_shape (out[0], in[0]->elem_type, n, shape);
  return 0;
}

static const op_kernel reshape_v1 = {
  .op_type = "Reshape", .domain = "", .since_version = 1,
  .init = reshape_init_v1, .infer = reshape_infer, .run = identity_run,
};

static const op_kernel reshape_v5 = {
  .op_type = "Reshape", .domain = "", .since_version = 5,
  .needs_input_data = 1u << 1,
  .init = reshape_init_v5, .infer = reshape_infer, .run = identity_run,
};

/* ---- Flatten ---- */

static int
flatten_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  return op_axis_params_init (node, ctx, 1, err);
}

static int
flatten_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  const axis_params *p = node->params;
  if (op_need_input_and_output (node, in, out, "input", ctx->err) < 0)
    return -1;
  int rank = in[0]->rank;
  int64_t axis = p->axis < 0 ? p->axis + rank : p->axis;
  if (axis < 0 || axis > rank)
    return ir_fail (ctx->err, "attribute axis is %lld; expected a value in [%d, %d]",
        (long long) p->axis, -rank, rank);
  int64_t numel;
  if (op_checked_numel (rank, in[0]->dims, &numel, ctx->err) < 0)
    return -1;
  int64_t dims[2] = {
    ir_dims_product (in[0]->dims, 0, (int) axis),
    ir_dims_product (in[0]->dims, (int) axis, rank),
  };
  ir_set_shape (out[0], in[0]->elem_type, 2, dims);
  return 0;
}

static const op_kernel flatten_v1 = {
  .op_type = "Flatten", .domain = "", .since_version = 1,
  .init = flatten_init, .infer = flatten_infer, .run = identity_run,
};

/* ---- Squeeze, Unsqueeze ---- */

typedef struct axes_params {
  int n_axes;                        /* -1: no axes attribute */
  int64_t axes[IMGREC_MAX_RANK];
} axes_params;

static int
axes_attr_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  axes_params *p = op_params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  return op_read_ints_attr (ctx, "axes", IMGREC_MAX_RANK, p->axes, &p->n_axes, err);
}

/* The start of Squeeze and Unsqueeze infer: output 0 and the data input must
 * be there; the axes come from the attribute (opset < 13) or the optional
 * input 1, n = -1 when there are none. */
static int
squeeze_axes (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    int64_t *axes, int *n, imgrec_error *err)
{
  if (op_need_input_and_output (node, in, out, "data", err) < 0)
    return -1;
  if (node->kernel->since_version < 13) {
    const axes_params *p = node->params;
    *n = p->n_axes;
    if (p->n_axes > 0)
      memcpy (axes, p->axes, (size_t) p->n_axes * sizeof *axes);
    return 0;
  }
  if (node->n_inputs < 2 || in[1] == NULL) {
    *n = -1;
    return 0;
  }
  return op_read_int_input (in[1], "axes", IMGREC_MAX_RANK, axes, n, err);
}

/* Normalizes axes into [0, rank) and marks them; duplicates are an error. */
static int
mark_axes (const int64_t *axes, int n, int rank, bool *marked, imgrec_error *err)
{
  for (int i = 0; i < rank; i++)
    marked[i] = false;
  for (int i = 0; i < n; i++) {
    int a;
    if (ir_normalize_axis (axes[i], rank, &a, err) < 0)
      return -1;
    if (marked[a])
      return ir_fail (err, "axis %lld is listed twice", (long long) axes[i]);
    marked[a] = true;
  }
  return 0;
}

static int
squeeze_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  imgrec_error *err = ctx->err;
  int64_t axes[IMGREC_MAX_RANK];
  int n;
  if (squeeze_axes (node, in, out, axes, &n, err) < 0)
    return -1;
  const ir_tensor *x = in[0];
  bool marked[IMGREC_MAX_RANK];
  if (n < 0) {
    for (int i = 0; i < x->rank; i++)
      marked[i] = x->dims[i] == 1;
  } else {
    if (mark_axes (axes, n, x->rank, marked, err) < 0)
      return -1;
    for (int i = 0; i < x->rank; i++)
      if (marked[i] && x->dims[i] != 1)
        return ir_fail (err, "cannot squeeze axis %d: its dimension is %lld, not 1", i,
            (long long) x->dims[i]);
  }
  int64_t dims[IMGREC_MAX_RANK];
  int rank = 0;
  for (int i = 0; i < x->rank; i++)
    if (!marked[i])
      dims[rank++] = x->dims[i];
  ir_set_shape (out[0], x->elem_type, rank, dims);
  return 0;
}

static int
unsqueeze_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  imgrec_error *err = ctx->err;
  int64_t axes[IMGREC_MAX_RANK];
  int n;
  if (squeeze_axes (node, in, out, axes, &n, err) < 0)
    return -1;
  if (n < 0)
    return ir_fail (err, "the axes are missing (the axes attribute before opset 13, the "
        "axes input from opset 13)");
  const ir_tensor *x = in[0];
  int rank = x->rank + n;
  if (rank > IMGREC_MAX_RANK)
    return ir_fail (err, "the output would have rank %d; at most %d is supported", rank,
        IMGREC_MAX_RANK);
  bool marked[IMGREC_MAX_RANK];
  if (mark_axes (axes, n, rank, marked, err) < 0)
    return -1;
  int64_t dims[IMGREC_MAX_RANK];
  for (int i = 0, j = 0; i < rank; i++)
    dims[i] = marked[i] ? 1 : x->dims[j++];
  ir_set_shape (out[0], x->elem_type, rank, dims);
  return 0;
}

static const op_kernel squeeze_v1 = {
  .op_type = "Squeeze", .domain = "", .since_version = 1,
  .init = axes_attr_init, .infer = squeeze_infer, .run = identity_run,
};

static const op_kernel squeeze_v13 = {
  .op_type = "Squeeze", .domain = "", .since_version = 13,
  .needs_input_data = 1u << 1,
  .infer = squeeze_infer, .run = identity_run,
};

static const op_kernel unsqueeze_v1 = {
  .op_type = "Unsqueeze", .domain = "", .since_version = 1,
  .init = axes_attr_init, .infer = unsqueeze_infer, .run = identity_run,
};

static const op_kernel unsqueeze_v13 = {
  .op_type = "Unsqueeze", .domain = "", .since_version = 13,
  .needs_input_data = 1u << 1,
  .infer = unsqueeze_infer, .run = identity_run,
};
const op_kernel *const ir_ops_reshape[] = {
  &reshape_v1, &reshape_v5,
  &flatten_v1,
  &squeeze_v1, &squeeze_v13,
  &unsqueeze_v1, &unsqueeze_v13,
  &identity_v1,
  &dropout_v1, &dropout_v12,
  NULL,
};
