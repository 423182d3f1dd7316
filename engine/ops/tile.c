/* Op family: tile — ops that repeat their input.
 *
 * Expand (numpy broadcasting to a shape) and Tile (whole copies per axis).
 * Both are a strided view (strided_view.h) with stride 0 on the repeated
 * dims, on any storage (F32, I64, BOOL).
 */
#include <limits.h>

#include "op_checks.h"
#include "strided_view.h"

/* ---- Expand ---- */

static int
expand_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  imgrec_error *err = ctx->err;
  int64_t shape[IMGREC_MAX_RANK], dims[IMGREC_MAX_RANK];
  int n, rank;
  if (op_need_input_and_output (node, in, out, "input", err) < 0
      || op_need_input (node, in, 1, "shape", err) < 0
      || op_read_int_input (in[1], "shape", IMGREC_MAX_RANK, shape, &n, err) < 0)
    return -1;
  for (int i = 0; i < n; i++)
    if (shape[i] < 0)
      return ir_fail (err, "dimension %d of the shape input is negative (%lld)", i,
          (long long) shape[i]);
  if (ir_broadcast_shapes (in[0]->rank, in[0]->dims, n, shape, &rank, dims, err) < 0)
    return -1;
  return op_set_checked_shape (out[0], in[0]->elem_type, rank, dims, err);
}

static int
expand_run (const ir_node *node, const op_run_ctx *ctx)
{
  const ir_tensor *x = ctx->in[0];
  ir_tensor *y = ctx->out[0];
  int64_t in_strides[IMGREC_MAX_RANK];
  dense_strides (x->rank, x->dims, in_strides);
  strided_view v = { .rank = y->rank, .offset = 0 };
  int lead = y->rank - x->rank;
  for (int k = 0; k < y->rank; k++) {
    v.dims[k] = y->dims[k];
    v.strides[k] = k < lead || x->dims[k - lead] == 1 ? 0 : in_strides[k - lead];
  }
  view_copy (ctx->pool, &v, x->data, y->data, ir_storage_size (x->storage));
  return 0;
}

static const op_kernel expand_v8 = {
  .op_type = "Expand", .domain = "", .since_version = 8,
  .needs_input_data = 1u << 1,
  .infer = expand_infer, .run = expand_run,
};

/* ---- Tile ---- */

/* Repeats per input dim: opset 6+ one `repeats` input; opset 1 a `tiles`
 * count and an `axis`, both scalar inputs. */
static int
tile_repeats (const ir_node *node, ir_tensor *const *in, int64_t *repeats, imgrec_error *err)
{
  const ir_tensor *x = in[0];
  int n;
  if (node->kernel->since_version >= 6) {
    if (op_need_input (node, in, 1, "repeats", err) < 0
        || op_read_int_input (in[1], "repeats", IMGREC_MAX_RANK, repeats, &n, err) < 0)
      return -1;
    if (n != x->rank)
      return ir_fail (err, "repeats has %d values but the input has rank %d", n, x->rank);
  } else {
    int64_t tiles, axis_value;
    int a;
    if (op_need_input (node, in, 1, "tiles", err) < 0
        || op_need_input (node, in, 2, "axis", err) < 0
        || op_read_int_input (in[1], "tiles", 1, &tiles, &n, err) < 0
        || op_read_int_input (in[2], "axis", 1, &axis_value, &n, err) < 0
        || ir_normalize_axis (axis_value, x->rank, &a, err) < 0)
      return -1;
    for (int k = 0; k < x->rank; k++)
      repeats[k] = k == a ? tiles : 1;
  }
  for (int k = 0; k < x->rank; k++)
    if (repeats[k] < 0)
      return ir_fail (err, "repeat count %lld for axis %d is negative",
          (long long) repeats[k], k);
  return 0;
}

static int
tile_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  imgrec_error *err = ctx->err;
  int64_t repeats[IMGREC_MAX_RANK], dims[IMGREC_MAX_RANK];
  if (op_need_input_and_output (node, in, out, "input", err) < 0
      || tile_repeats (node, in, repeats, err) < 0)
    return -1;
  const ir_tensor *x = in[0];
  for (int k = 0; k < x->rank; k++) {
    if (repeats[k] != 0 && x->dims[k] > INT64_MAX / repeats[k])
      return ir_fail (err, "tiling axis %d overflows", k);
    dims[k] = x->dims[k] * repeats[k];
  }
  return op_set_checked_shape (out[0], x->elem_type, x->rank, dims, err);
}

static int
tile_run (const ir_node *node, const op_run_ctx *ctx)
{
  const ir_tensor *x = ctx->in[0];
  int64_t repeats[IMGREC_MAX_RANK], in_strides[IMGREC_MAX_RANK];
  if (tile_repeats (node, ctx->in, repeats, ctx->err) < 0)
    return -1;
  dense_strides (x->rank, x->dims, in_strides);
  /* Output index (r, i) per axis: r walks the copies (stride 0), i the input. */
  strided_view v = { .rank = 2 * x->rank, .offset = 0 };
  for (int k = 0; k < x->rank; k++) {
    v.dims[2 * k] = repeats[k];
    v.strides[2 * k] = 0;
    v.dims[2 * k + 1] = x->dims[k];
    v.strides[2 * k + 1] = in_strides[k];
  }
  view_copy (ctx->pool, &v, x->data, ctx->out[0]->data, ir_storage_size (x->storage));
  return 0;
}

static const op_kernel tile_v1 = {
  .op_type = "Tile", .domain = "", .since_version = 1,
  .needs_input_data = (1u << 1) | (1u << 2),
  .infer = tile_infer, .run = tile_run,
};

static const op_kernel tile_v6 = {
  .op_type = "Tile", .domain = "", .since_version = 6,
  .needs_input_data = 1u << 1,
  .infer = tile_infer, .run = tile_run,
};

const op_kernel *const ir_ops_tile[] = {
  &expand_v8,
  &tile_v1, &tile_v6,
  NULL,
};
