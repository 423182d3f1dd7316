/* Op family: conv — Conv, ConvTranspose (1-D to 6-D spatial), and the
 * 8-bit ConvInteger and QLinearConv.
 *
 * Conv and ConvTranspose are lowered onto one "image <-> columns" mapping:
 *
 *   Conv:          image = X (input),  grid = Y (output)
 *                  col = im2col (X);   Y = W · col          (per group)
 *   ConvTranspose: image = Y (output), grid = X (input)
 *                  col = W^T · X;      Y += col2im (col)    (per group)
 *
 * In both, grid position o and kernel offset k touch image position
 * o * stride + k * dilation - pad_begin on every spatial axis, so im2col and
 * col2im share one row walker (conv_lower_row) and differ only in the
 * direction data moves.  Conv's and ConvTranspose's GEMMs run on our packed
 * SGEMM (ops/sgemm.h).  The algorithms live in their own files
 * (conv_internal.h lists them); this file parses, checks, chooses and packs.
 *
 * Special cases that skip the lowering:
 *   - pointwise (kernel 1, stride 1, no padding): X already is the column
 *     matrix (Conv), or the GEMM writes Y directly (ConvTranspose);
 *   - one input channel per group (depthwise, incl. channel multipliers), 1-D
 *     and 2-D: a direct kernel that keeps each output row in L1, with a fused
 *     one-pass 3x3 path; compiled for AVX-512 / AVX2 beside a baseline
 *     build, picked at run time;
 *   - 2-D 3x3 stride-1 convs with 16 to 128 channels in and out on maps of
 *     16x16 and more: Winograd F(4x4, 3x3) on our SGEMM, whose transformed
 *     weights `prepare` packs into node->packed when W is constant
 *     (otherwise run transforms and packs W into scratch).
 *
 * For the im2col path ONNX's weight layout is the row-major GEMM operand
 * (Conv: W_g is [M/group, C/group * k], ConvTranspose: W_g is
 * [C/group, M/group * k] used transposed).  Constant Conv weights are packed
 * at load into the SGEMM's panel order (conv_prepare) and the ONNX copy is
 * freed; weights computed at run time are packed into scratch per run.
 *
 * Scratch is bounded (CONV_COL_BUDGET_BYTES, CONV_WINOGRAD_BUDGET_BYTES):
 * large images are processed in tiles of whole rows along the first spatial
 * axis, so a 3x3 conv over 224x224x64 does not ask for 100+ MB.
 *
 * Bias, the fused residual Add (input 3, see src/passes.c and conv_sum.c)
 * and the fused activation (node->fused) are applied in the SGEMM's
 * epilogue in registers (depthwise, Winograd and ConvTranspose apply them
 * per output channel while the rows are still in cache, the residual right
 * after). */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


#include "conv_internal.h"
#include "cpu.h"
#include <stdio.h>

/* ---------------------------------------------------------------- attributes */

static int
conv_read_ints (const op_init_ctx *ctx, const char *name, int64_t *dst, int max_count,
    int64_t min_value, int *count, imgrec_error *err)
{
  const int64_t *vals;
  int n = op_attr_ints (ctx, name, &vals);
  *count = n;
  if (n < 0)
    return 0;
  if (n > max_count)
    return ir_fail (err, "attribute %s has %d values; at most %d are supported",
        name, n, max_count);
  for (int i = 0; i < n; i++) {
    if (vals[i] < min_value || vals[i] > CONV_ATTR_MAX)
      return ir_fail (err, "attribute %s[%d] is %lld; expected a value in [%lld, %lld]",
          name, i, (long long) vals[i], (long long) min_value, (long long) CONV_ATTR_MAX);
    dst[i] = vals[i];
  }
  return 0;
}

static int
conv_init_common (ir_node *node, const op_init_ctx *ctx, bool transpose,
    conv_arith arith, imgrec_error *err)
{
  conv_params *p = calloc (1, sizeof *p);
  if (p == NULL)
    return ir_fail (err, "out of memory for the conv attributes");
  node->params = p;
  p->transpose = transpose;
  p->arith = arith;

  const char *auto_pad = op_attr_string (ctx, "auto_pad", "NOTSET");
  if (strcmp (auto_pad, "NOTSET") == 0 || auto_pad[0] == '\0')
    p->auto_pad = CONV_PAD_NOTSET;
  else if (strcmp (auto_pad, "SAME_UPPER") == 0)
    p->auto_pad = CONV_PAD_SAME_UPPER;
  else if (strcmp (auto_pad, "SAME_LOWER") == 0)
    p->auto_pad = CONV_PAD_SAME_LOWER;
  else if (strcmp (auto_pad, "VALID") == 0)
    p->auto_pad = CONV_PAD_VALID;
  else
    return ir_fail (err, "attribute auto_pad is \"%s\"; expected NOTSET, SAME_UPPER, "
        "SAME_LOWER or VALID", auto_pad);

  p->group = op_attr_int (ctx, "group", 1);
  if (p->group < 1 || p->group > CONV_ATTR_MAX)
    return ir_fail (err, "attribute group is %lld; expected a positive count",
        (long long) p->group);

  if (conv_read_ints (ctx, "kernel_shape", p->kernel_shape, CONV_MAX_SPATIAL, 1,
          &p->n_kernel_shape, err) < 0
      || conv_read_ints (ctx, "strides", p->strides, CONV_MAX_SPATIAL, 1,
          &p->n_strides, err) < 0
      || conv_read_ints (ctx, "dilations", p->dilations, CONV_MAX_SPATIAL, 1,
          &p->n_dilations, err) < 0
      || conv_read_ints (ctx, "pads", p->pads, 2 * CONV_MAX_SPATIAL, 0,
          &p->n_pads, err) < 0)
    return -1;
  p->n_output_padding = p->n_output_shape = -1;
  if (transpose
      && (conv_read_ints (ctx, "output_padding", p->output_padding, CONV_MAX_SPATIAL, 0,
              &p->n_output_padding, err) < 0
          || conv_read_ints (ctx, "output_shape", p->output_shape, CONV_MAX_SPATIAL + 2, 0,
              &p->n_output_shape, err) < 0))
    return -1;

  if (p->n_pads >= 0 && p->n_pads % 2 != 0)
    return ir_fail (err, "attribute pads has %d values; expected two per spatial axis "
        "(all begins, then all ends)", p->n_pads);
  return 0;
}

/* One init per op type: the ops differ only in direction and arithmetic. */
#define CONV_INIT(fn, transpose, arith)                                 \
  static int                                                            \
  fn (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)         \
  {                                                                     \
    return conv_init_common (node, ctx, transpose, arith, err);         \
  }

CONV_INIT (conv_init, false, CONV_ARITH_FLOAT)
CONV_INIT (conv_transpose_init, true, CONV_ARITH_FLOAT)
CONV_INIT (conv_integer_init, false, CONV_ARITH_INTEGER)
CONV_INIT (conv_qlinear_init, false, CONV_ARITH_QLINEAR)

/* ------------------------------------------------------------------ geometry */

static int
conv_check_length (const char *name, int count, int expected, imgrec_error *err)
{
  if (count >= 0 && count != expected)
    return ir_fail (err, "attribute %s has %d values; expected %d for this input rank",
        name, count, expected);
  return 0;
}

static int64_t
conv_floor_div (int64_t a, int64_t b)   /* b > 0 */
{
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* Splits a total padding between begin and end as ONNX's auto_pad says:
 * SAME_UPPER puts the odd element at the end, everything else at the begin.
 * Floor division keeps this right for the negative totals ConvTranspose's
 * output_shape can produce (the extra output then lies at the end, as in
 * ONNX's test_convtranspose_output_shape). */
static int64_t
conv_split_padding (int64_t total, conv_auto_pad mode)
{
  if (mode == CONV_PAD_SAME_UPPER)
    return conv_floor_div (total, 2);
  return total - conv_floor_div (total, 2);
}

static int
conv_choose_tiles (conv_geometry *g, int64_t col_rows, imgrec_error *err)
{
  conv_lowering *l = &g->low;
  g->tile_inner = l->grid_size / (l->grid[0] > 0 ? l->grid[0] : 1);
  if (l->n_spatial == 1)
    g->tile_inner = 1;
  int64_t row_floats;
  if (__builtin_mul_overflow (col_rows, g->tile_inner, &row_floats)
      || row_floats > (int64_t) (SIZE_MAX / 8 / sizeof (float)))
    return ir_fail (err, "the column buffer would be too large");
  int64_t budget_rows = (int64_t) (CONV_COL_BUDGET_BYTES / sizeof (float))
      / (row_floats > 0 ? row_floats : 1);
  g->tile_rows = budget_rows < 1 ? 1 : budget_rows;
  if (g->tile_rows > l->grid[0])
    g->tile_rows = l->grid[0];
  g->scratch_bytes = (size_t) g->tile_rows * (size_t) row_floats * sizeof (float);
  return 0;
}

/* Whether a Conv with weights of this shape takes the Winograd path:
 * 2-D 3x3, stride 1, no dilation, one group, and channel counts where the
 * 36 point GEMMs (K = C instead of 9 C) still run well and the transformed
 * weights (4x the original) stay small: 16 to 128 in and out; the run takes
 * it for maps of at least CONV_WINOGRAD_MIN_MAP each way.  ResNet's 64- and
 * 128-channel layers, SqueezeNet's large expand convs.
 * IMGREC_CONV_WINOGRAD=0 turns it off (A/B runs). */
static bool
conv_winograd_enabled (void)
{
  static int enabled = -1;   /* read once; a benign race writes the same value */
  if (enabled < 0) {
    const char *v = getenv ("IMGREC_CONV_WINOGRAD");
    enabled = v == NULL || strcmp (v, "0") != 0;
  }
  return enabled == 1;
}

bool
conv_winograd_weights_fit (const conv_params *p, const ir_tensor *w)
{
  if (!conv_winograd_enabled ())
    return false;
  if (p->transpose || p->arith != CONV_ARITH_FLOAT || p->group != 1 || w == NULL
      || w->rank != 4 || w->dims[2] != 3 || w->dims[3] != 3)
    return false;
  for (int i = 0; i < 2; i++)
    if ((p->n_strides >= 0 && p->strides[i] != 1)
        || (p->n_dilations >= 0 && p->dilations[i] != 1))
      return false;
  return w->dims[0] >= 16 && w->dims[0] <= 128 && w->dims[1] >= 16 && w->dims[1] <= 128;
}

static int
conv_winograd_tiles (conv_geometry *g, imgrec_error *err)
{
  const conv_lowering *l = &g->low;
  const int64_t tiles_w = (l->grid[1] + 3) / 4, tiles_h = (l->grid[0] + 3) / 4;
  int64_t per_tile;   /* floats of transformed input and product per tile */
  if (__builtin_mul_overflow (g->in_channels + g->out_channels,
          (int64_t) CONV_WINOGRAD_POINTS, &per_tile)
      || __builtin_mul_overflow (per_tile, tiles_w, &per_tile)
      || per_tile > (int64_t) (SIZE_MAX / 8 / sizeof (float)))
    return ir_fail (err, "the Winograd buffers would be too large");
  int64_t rows = (int64_t) (CONV_WINOGRAD_BUDGET_BYTES / sizeof (float)) / per_tile;
  g->tile_rows = rows < 1 ? 1 : rows > tiles_h ? tiles_h : rows;
  g->tile_inner = tiles_w;
  g->scratch_bytes = ((size_t) g->tile_rows * (size_t) per_tile
      + (size_t) CONV_WINOGRAD_POINTS * (size_t) (g->in_channels + g->out_channels)
          * CONV_WINOGRAD_SLACK) * sizeof (float);
  /* Run-time weights: packed points, then the raw transform. */
  const ir_sgemm_kernel *kern = ir_sgemm_kernel_default ();
  g->weight_bytes = ((size_t) CONV_WINOGRAD_POINTS
      * (conv_winograd_point_floats (kern, g->out_channels, g->in_channels)
          + (size_t) g->out_channels * (size_t) g->in_channels)) * sizeof (float);
  return 0;
}

/* The optional bias, NULL when the node has no third input or it is absent. */
static const ir_tensor *
conv_bias_input (const ir_node *node, ir_tensor *const *in)
{
  return node->n_inputs > 2 ? in[2] : NULL;
}

int
conv_geometry_compute (const conv_params *p, ir_tensor *const *in, const ir_tensor *b,
    conv_geometry *g, imgrec_error *err)
{
  const ir_tensor *x = in[0], *w = in[1];
  memset (g, 0, sizeof *g);

  if (x == NULL || w == NULL)
    return ir_fail (err, "inputs X and W are required");
  const ir_storage storage = p->arith == CONV_ARITH_FLOAT ? IR_F32 : IR_I64;
  if (x->storage != storage || w->storage != storage)
    return ir_fail (err, "X and W must be %s tensors",
        storage == IR_F32 ? "floating-point" : "8-bit integer");
  if (x->rank < 3)
    return ir_fail (err, "input X has rank %d; expected at least 3 (N, C, spatial...)",
        x->rank);
  if (w->rank != x->rank)
    return ir_fail (err, "weight W has rank %d but X has rank %d; they must match",
        w->rank, x->rank);
  const int n = x->rank - 2;
  if (n > CONV_MAX_SPATIAL)
    return ir_fail (err, "%d spatial axes are more than the %d supported", n,
        CONV_MAX_SPATIAL);
  if (conv_check_length ("kernel_shape", p->n_kernel_shape, n, err) < 0
      || conv_check_length ("strides", p->n_strides, n, err) < 0
      || conv_check_length ("dilations", p->n_dilations, n, err) < 0
      || conv_check_length ("pads", p->n_pads, 2 * n, err) < 0
      || conv_check_length ("output_padding", p->n_output_padding, n, err) < 0)
    return -1;
  if (p->n_output_shape >= 0 && p->n_output_shape != n && p->n_output_shape != n + 2)
    return ir_fail (err, "attribute output_shape has %d values; expected %d (spatial "
        "axes) or %d (full shape)", p->n_output_shape, n, n + 2);

  for (int i = 0; i < x->rank; i++)
    if (x->dims[i] < 0 || x->dims[i] > (INT64_MAX >> 4))
      return ir_fail (err, "input X dimension %d (%lld) is out of range", i,
          (long long) x->dims[i]);
  for (int i = 0; i < w->rank; i++)
    if (w->dims[i] < 0 || w->dims[i] > (INT64_MAX >> 4))
      return ir_fail (err, "weight W dimension %d (%lld) is out of range", i,
          (long long) w->dims[i]);

  const int64_t group = p->group;
  g->group = group;
  g->batch = x->dims[0];
  g->in_channels = x->dims[1];
  if (!p->transpose) {
    /* W: [M, C/group, k...] */
    int64_t expected_channels;
    if (__builtin_mul_overflow (w->dims[1], group, &expected_channels)
        || expected_channels != x->dims[1])
      return ir_fail (err, "X has %lld channels but W expects %lld x group %lld",
          (long long) x->dims[1], (long long) w->dims[1], (long long) group);
    if (w->dims[0] % group != 0)
      return ir_fail (err, "W has %lld output channels, not a multiple of group %lld",
          (long long) w->dims[0], (long long) group);
    g->out_channels = w->dims[0];
  } else {
    /* W: [C, M/group, k...] */
    if (w->dims[0] != x->dims[1])
      return ir_fail (err, "X has %lld channels but W's first dimension is %lld",
          (long long) x->dims[1], (long long) w->dims[0]);
    if (x->dims[1] % group != 0)
      return ir_fail (err, "X has %lld channels, not a multiple of group %lld",
          (long long) x->dims[1], (long long) group);
    if (__builtin_mul_overflow (w->dims[1], group, &g->out_channels))
      return ir_fail (err, "output channel count overflows");
  }
  g->in_per_group = g->in_channels / group;
  g->out_per_group = g->out_channels / group;
  if (g->in_per_group == 0)
    return ir_fail (err, "input X has no channels");

  if (b != NULL) {
    if (b->storage != storage)
      return ir_fail (err, "bias B must be a %s tensor",
          storage == IR_F32 ? "floating-point" : "32-bit integer");
    if (b->rank != 1 || b->dims[0] != g->out_channels)
      return ir_fail (err, "bias B must be 1-D of size %lld (output channels)",
          (long long) g->out_channels);
  }

  conv_lowering *l = &g->low;
  l->n_spatial = n;
  l->kernel_size = 1;
  for (int i = 0; i < n; i++) {
    int64_t k = w->dims[i + 2];
    if (k < 1 || k > CONV_ATTR_MAX)
      return ir_fail (err, "weight W kernel dimension %d is %lld; expected a positive size",
          i, (long long) k);
    if (p->n_kernel_shape >= 0 && p->kernel_shape[i] != k)
      return ir_fail (err, "attribute kernel_shape[%d] is %lld but W has %lld there",
          i, (long long) p->kernel_shape[i], (long long) k);
    l->kernel[i] = k;
    l->kernel_size *= k;   /* <= 2^31 per axis, checked in total below */
    if (l->kernel_size > (INT64_MAX >> 32))
      return ir_fail (err, "kernel volume is too large");
    l->stride[i] = p->n_strides >= 0 ? p->strides[i] : 1;
    l->dilation[i] = p->n_dilations >= 0 ? p->dilations[i] : 1;
  }

  const int64_t *spatial_in = x->dims + 2;
  int64_t *spatial_out = g->out_dims + 2;
  for (int i = 0; i < n; i++) {
    const int64_t s = l->stride[i], extent = (l->kernel[i] - 1) * l->dilation[i] + 1;
    const int64_t size = spatial_in[i];
    int64_t begin = p->n_pads >= 0 ? p->pads[i] : 0;
    int64_t end = p->n_pads >= 0 ? p->pads[i + n] : 0;
    int64_t out;
    if (!p->transpose) {
      if (p->auto_pad == CONV_PAD_SAME_UPPER || p->auto_pad == CONV_PAD_SAME_LOWER) {
        out = (size + s - 1) / s;
        int64_t total = out > 0 ? (out - 1) * s + extent - size : 0;
        if (total < 0)
          total = 0;
        begin = conv_split_padding (total, p->auto_pad);
        end = total - begin;
      } else {
        if (p->auto_pad == CONV_PAD_VALID)
          begin = end = 0;
        if (size + begin + end < extent)
          return ir_fail (err, "spatial axis %d: the kernel extent %lld is larger than "
              "the padded input %lld", i, (long long) extent,
              (long long) (size + begin + end));
        out = (size + begin + end - extent) / s + 1;
      }
      l->image[i] = size;
      l->grid[i] = out;
    } else {
      if (size < 1)
        return ir_fail (err, "spatial axis %d of X is empty", i);
      const int64_t adjust = p->n_output_padding >= 0 ? p->output_padding[i] : 0;
      int64_t full;   /* output size with no padding at all */
      if (__builtin_mul_overflow (s, size - 1, &full)
          || __builtin_add_overflow (full, adjust + extent, &full))
        return ir_fail (err, "spatial axis %d: the output size overflows", i);
      if (p->n_output_shape >= 0 || p->auto_pad == CONV_PAD_SAME_UPPER
          || p->auto_pad == CONV_PAD_SAME_LOWER) {
        if (p->n_output_shape >= 0)
          out = p->output_shape[p->n_output_shape - n + i];
        else if (__builtin_mul_overflow (size, s, &out))
          return ir_fail (err, "spatial axis %d: the output size overflows", i);
        int64_t total = full - out;
        begin = conv_split_padding (total, p->auto_pad);
        end = total - begin;
      } else {
        if (p->auto_pad == CONV_PAD_VALID)
          begin = end = 0;
        out = full - begin - end;
        if (out < 0)
          return ir_fail (err, "spatial axis %d: pads (%lld + %lld) exceed the output "
              "size %lld", i, (long long) begin, (long long) end, (long long) full);
      }
      l->image[i] = out;
      l->grid[i] = size;
    }
    spatial_out[i] = out;
    l->pad[i] = begin;
  }

  g->out_dims[0] = g->batch;
  g->out_dims[1] = g->out_channels;
  int64_t total = 1;
  for (int i = 0; i < n + 2; i++)
    if (__builtin_mul_overflow (total, g->out_dims[i], &total)
        || total > (int64_t) (SIZE_MAX / 8))
      return ir_fail (err, "the output tensor would be too large");
  l->image_size = ir_dims_product (l->image, 0, n);
  l->grid_size = ir_dims_product (l->grid, 0, n);

  bool identity = true;   /* grid position o reads exactly image position o */
  for (int i = 0; i < n; i++)
    if (l->kernel[i] != 1 || l->stride[i] != 1 || l->pad[i] != 0
        || l->image[i] != l->grid[i])
      identity = false;

  /* Column rows per group: Conv's im2col has C/group * k, ConvTranspose's
   * GEMM output M/group * k. */
  int64_t col_rows;
  if (__builtin_mul_overflow (p->transpose ? g->out_per_group : g->in_per_group,
          l->kernel_size, &col_rows))
    return ir_fail (err, "the column buffer would be too large");
  if (p->arith != CONV_ARITH_FLOAT)
    return 0;   /* computed directly, see conv_integer_run */
  if (!p->transpose && g->in_per_group == 1 && n <= 2)
    g->method = CONV_METHOD_DEPTHWISE;
  else if (identity)
    g->method = CONV_METHOD_POINTWISE;
  else if (conv_winograd_weights_fit (p, w) && n == 2
      && l->grid[0] >= CONV_WINOGRAD_MIN_MAP && l->grid[1] >= CONV_WINOGRAD_MIN_MAP) {
    g->method = CONV_METHOD_WINOGRAD;
    if (conv_winograd_tiles (g, err) < 0)
      return -1;
  } else if (conv_direct_fits (p, g)) {
    g->method = CONV_METHOD_DIRECT;
  } else {
    g->method = CONV_METHOD_GEMM;
    if (conv_choose_tiles (g, col_rows, err) < 0)
      return -1;
  }
  return 0;
}

static bool
conv_has_winograd_pack (const ir_node *node)
{
  const conv_winograd_pack *pack = node->packed;
  return pack != NULL && pack->kind == CONV_PACK_WINOGRAD;
}

/* Scratch of a run on `threads` threads: column tiles and SGEMM strips, or
 * the Winograd buffers (and the transformed weights when not prepacked). */
static size_t
conv_scratch_bytes (const ir_node *node, const conv_geometry *g, int threads)
{
  const conv_params *p = node->params;
  if (g->method == CONV_METHOD_WINOGRAD)
    return ((ir_sgemm_scratch_bytes (ir_sgemm_kernel_default (), threads) + 63) & ~(size_t) 63)
        + g->scratch_bytes + (conv_has_winograd_pack (node) ? 0 : g->weight_bytes);
  if (g->method == CONV_METHOD_DEPTHWISE)
    return conv_depthwise_scratch_bytes (g, threads);
  if (g->method == CONV_METHOD_DIRECT)
    return conv_direct_scratch_bytes (g, threads);
  if (!p->transpose && (g->method == CONV_METHOD_GEMM || g->method == CONV_METHOD_POINTWISE))
    return conv_gemm_scratch_bytes (node, g, threads);
  if (p->transpose)
    return conv_transpose_scratch_bytes (node, g, threads);
  return 0;
}

/* The conv's own result when a fused residual broadcasts (conv_sum.c). */
static size_t
conv_sum_scratch_bytes (const conv_geometry *g, int conv_rank, const ir_tensor *sum)
{
  if (sum == NULL || conv_sum_same_shape (g, conv_rank, sum))
    return 0;
  const size_t floats = (size_t) ir_dims_product (g->out_dims, 0, conv_rank);
  return (floats * sizeof (float) + 63) & ~(size_t) 63;
}

static int
conv_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  conv_geometry g;
  if (conv_geometry_compute (node->params, in, conv_bias_input (node, in), &g,
          ctx->err) < 0)
    return -1;
  const ir_tensor *sum = conv_sum_input (node, in);
  int rank;
  int64_t dims[IMGREC_MAX_RANK];
  if (conv_sum_output_shape (&g, in[0]->rank, sum, &rank, dims, ctx->err) < 0)
    return -1;
  ir_set_shape (out[0], in[0]->elem_type, rank, dims);
  ctx->scratch_bytes = conv_scratch_bytes (node, &g, ctx->threads)
      + conv_sum_scratch_bytes (&g, in[0]->rank, sum);
  return 0;
}
/* Bytes of W packed per group in our SGEMM's panel order (a conv_pack and
 * its panels, 64-byte aligned), 0 when W takes no such pack (depthwise
 * reads W directly; bad shapes fail in infer). */
static size_t
conv_gemm_pack_bytes (const conv_params *p, const ir_tensor *w, const ir_sgemm_kernel *kern,
    size_t *group_floats)
{
  const int64_t m = w->dims[0], cg = w->dims[1], group = p->group;
  int64_t ks = 1;
  for (int i = 2; i < w->rank; i++)
    ks *= w->dims[i];
  if ((cg == 1 && w->rank <= 4) || m % group != 0 || ks > (INT64_MAX >> 34) / cg)
    return 0;
  size_t floats = ir_sgemm_packed_a_floats (kern, m / group, cg * ks);
  floats = (floats + 15) & ~(size_t) 15;   /* groups 64-byte aligned */
  if (floats > (SIZE_MAX / 8) / sizeof (float) / (size_t) group)
    return 0;
  *group_floats = floats;
  return ((sizeof (conv_pack) + 63) & ~(size_t) 63) + (size_t) group * floats * sizeof (float);
}

/* Fills a conv_pack of W at mem (conv_gemm_pack_bytes of room). */
static conv_pack *
conv_gemm_pack_fill (void *mem, const conv_params *p, const ir_tensor *w,
    const ir_sgemm_kernel *kern, size_t group_floats)
{
  const int64_t m = w->dims[0], cg = w->dims[1], group = p->group, mg = m / group;
  int64_t ks = 1;
  for (int i = 2; i < w->rank; i++)
    ks *= w->dims[i];
  const int64_t k = cg * ks;
  conv_pack *pack = mem;
  pack->kind = CONV_PACK_GEMM;
  pack->kern = kern;
  pack->out_channels = m;
  pack->in_per_group = cg;
  pack->kernel_size = ks;
  pack->group = group;
  pack->group_floats = group_floats;
  pack->a = (float *) ((uint8_t *) mem + ((sizeof (conv_pack) + 63) & ~(size_t) 63));
  for (int64_t g = 0; g < group; g++)
    ir_sgemm_pack_a (kern, ir_f32 (w) + g * mg * k, k, 1, mg, k,
        pack->a + (size_t) g * group_floats);
  return pack;
}

/* Packs constant weights at load, after which the run never reads W's data
 * and the loader frees it (packed_inputs): W per group in our SGEMM's panel
 * order; for the weights that fit Winograd also its transformed U per
 * point, in the same allocation (maps below CONV_WINOGRAD_MIN_MAP take
 * im2col with the panels: packing W at each run had made the 8x8 convs of
 * traffic-signs-seq 2.2-2.4x ORT's time). */
static int
conv_prepare (ir_node *node, ir_tensor *const *in, imgrec_error *err)
{
  const conv_params *p = node->params;
  const ir_tensor *w = node->n_inputs > 1 ? in[1] : NULL;
  if (p->arith != CONV_ARITH_FLOAT || w == NULL || w->data == NULL
      || w->storage != IR_F32 || w->rank < 3 || w->rank > IMGREC_MAX_RANK)
    return 0;
  for (int i = 0; i < w->rank; i++)
    if (w->dims[i] < 1 || w->dims[i] > CONV_ATTR_MAX)
      return 0;   /* leave it to the checks in infer */
  if (p->transpose)
    return conv_transpose_prepare (node, w, err);
  const ir_sgemm_kernel *kern = ir_sgemm_kernel_default ();
  size_t group_floats = 0;
  const size_t gemm_bytes = conv_gemm_pack_bytes (p, w, kern, &group_floats);
  if (conv_winograd_weights_fit (p, w)) {
    const int64_t m = w->dims[0], c = w->dims[1];
    const size_t point = conv_winograd_point_floats (kern, m, c);
    const size_t header = (sizeof (conv_winograd_pack) + 63) & ~(size_t) 63;
    const size_t u_bytes = (size_t) CONV_WINOGRAD_POINTS * point * sizeof (float);
    void *mem = NULL;
    float *raw = malloc ((size_t) CONV_WINOGRAD_POINTS * (size_t) (m * c) * sizeof (float));
    if (raw == NULL || posix_memalign (&mem, 64, header + u_bytes + gemm_bytes) != 0) {
      free (raw);
      return ir_fail (err, "out of memory for the prepacked Winograd weights");
    }
    conv_winograd_pack *pack = mem;
    pack->kind = CONV_PACK_WINOGRAD;
    pack->kern = kern;
    pack->out_channels = m;
    pack->in_channels = c;
    pack->u = (float *) ((uint8_t *) mem + header);
    conv_winograd_pack_weights (kern, ir_f32 (w), m, c, raw, pack->u);
    free (raw);
    pack->gemm = gemm_bytes > 0
        ? conv_gemm_pack_fill ((uint8_t *) mem + header + u_bytes, p, w, kern, group_floats)
        : NULL;
    node->packed = pack;
    if (pack->gemm != NULL)
      node->packed_inputs |= 1u << 1;
    return 0;
  }
  if (gemm_bytes == 0)
    return 0;
  void *mem = NULL;
  if (posix_memalign (&mem, 64, gemm_bytes) != 0)
    return ir_fail (err, "out of memory for the prepacked conv weights");
  node->packed = conv_gemm_pack_fill (mem, p, w, kern, group_floats);
  node->packed_inputs |= 1u << 1;
  return 0;
}

static void
conv_run_method (const ir_node *node, const op_run_ctx *ctx, const conv_geometry *g,
    const float *bias)
{
  const conv_params *p = node->params;
  if (g->method == CONV_METHOD_DEPTHWISE)
    conv_run_depthwise (node, ctx, g, bias);
  else if (g->method == CONV_METHOD_WINOGRAD)
    conv_run_winograd (node, ctx, g, bias);
  else if (g->method == CONV_METHOD_DIRECT)
    conv_run_direct (node, ctx, g, bias);
  else if (p->transpose)
    conv_run_transpose_gemm (node, ctx, g, bias);
  else
    conv_run_forward_gemm (node, ctx, g, bias);
}

static int
conv_run (const ir_node *node, const op_run_ctx *ctx)
{
  const conv_params *p = node->params;
  conv_geometry g;
  const ir_tensor *b = conv_bias_input (node, ctx->in);
  if (conv_geometry_compute (p, ctx->in, b, &g, ctx->err) < 0)
    return -1;
  const int conv_rank = ctx->in[0]->rank;
  const ir_tensor *sum = conv_sum_input (node, ctx->in);
  int rank;
  int64_t dims[IMGREC_MAX_RANK];
  if (conv_sum_output_shape (&g, conv_rank, sum, &rank, dims, ctx->err) < 0)
    return -1;
  const ir_tensor *y = ctx->out[0];
  if (y == NULL || y->storage != IR_F32 || y->rank != rank)
    return ir_fail (ctx->err, "output Y was not prepared as inferred");
  for (int i = 0; i < y->rank; i++)
    if (y->dims[i] != dims[i])
      return ir_fail (ctx->err, "output Y dimension %d is %lld; expected %lld", i,
          (long long) y->dims[i], (long long) dims[i]);
  const size_t sum_bytes = conv_sum_scratch_bytes (&g, conv_rank, sum);
  const size_t needed = conv_scratch_bytes (node, &g, ir_pool_threads (ctx->pool)) + sum_bytes;
  if (ctx->scratch_bytes < needed)
    return ir_fail (ctx->err, "the scratch buffer has %zu bytes; %zu are needed",
        ctx->scratch_bytes, needed);
  if (ir_numel (y) == 0)
    return 0;

  const float *bias = (b != NULL && b->data != NULL) ? ir_f32 (b) : NULL;
  const bool same = conv_sum_same_shape (&g, conv_rank, sum);
  const bool sgemm_path = !p->transpose
      && (g.method == CONV_METHOD_GEMM || g.method == CONV_METHOD_POINTWISE);
  if (sum == NULL || (same && sgemm_path)) {
    conv_run_method (node, ctx, &g, bias);   /* the SGEMM epilogue adds the sum */
    return 0;
  }
  /* The conv alone (no sum, no activation), then Y = act (conv + S). */
  ir_node plain = *node;
  plain.n_inputs = 3;
  plain.fused.kind = IR_ACT_NONE;
  if (same) {
    conv_run_method (&plain, ctx, &g, bias);
    conv_sum_apply (ctx->pool, &node->fused, ir_f32 (y), rank, dims, sum, ir_f32 (y), rank,
        dims);
    return 0;
  }
  ir_tensor c = { 0 };
  ir_set_shape (&c, IMGREC_DTYPE_FLOAT, conv_rank, g.out_dims);
  c.data = ctx->scratch;
  ir_tensor *outs[1] = { &c };
  op_run_ctx sub = *ctx;
  sub.out = outs;
  sub.scratch = (uint8_t *) ctx->scratch + sum_bytes;
  sub.scratch_bytes = ctx->scratch_bytes - sum_bytes;
  conv_run_method (&plain, &sub, &g, bias);
  conv_sum_apply (ctx->pool, &node->fused, ir_f32 (&c), conv_rank, g.out_dims, sum,
      ir_f32 (y), rank, dims);
  return 0;
}

static void
conv_describe (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out, char *buf,
    size_t size)
{
  conv_geometry g;
  imgrec_error err;
  if (conv_geometry_compute (node->params, in, conv_bias_input (node, in), &g, &err) < 0) {
    snprintf (buf, size, "?");
    return;
  }
  const conv_lowering *l = &g.low;
  const conv_pack *pack = conv_gemm_pack_of (node, &g);
  const char *sgemm = pack != NULL ? pack->kern->name : ir_sgemm_kernel_default ()->name;
  char method[64];
  if (g.method == CONV_METHOD_DEPTHWISE)
    snprintf (method, sizeof method, "depthwise direct %s", conv_depthwise_isa (&g));
  else if (g.method == CONV_METHOD_DIRECT)
    snprintf (method, sizeof method, "direct avx512 channels-in-lanes");
  else if (g.method == CONV_METHOD_WINOGRAD)
    snprintf (method, sizeof method, "winograd F(4x4,3x3) sgemm %s%s",
        conv_has_winograd_pack (node) ? ((const conv_winograd_pack *) node->packed)->kern->name
        : sgemm, conv_has_winograd_pack (node) ? " packed" : "");
  else if (((const conv_params *) node->params)->transpose)
    snprintf (method, sizeof method, "%s sgemm %s%s",
        g.method == CONV_METHOD_POINTWISE ? "pointwise" : "gemm+col2im",
        ir_sgemm_kernel_default ()->name, node->packed != NULL ? " packed" : "");
  else
    snprintf (method, sizeof method, "%s sgemm %s%s",
        g.method == CONV_METHOD_POINTWISE ? "pointwise" : "im2col", sgemm,
        pack != NULL ? " packed" : "");
  const ir_tensor *sum = conv_sum_input (node, in);
  const char *with_sum = sum == NULL ? ""
      : conv_sum_same_shape (&g, in[0]->rank, sum) ? " +sum" : " +sum broadcast";
  snprintf (buf, size, "%s k%lld s%lld g%lld%s", method,
      (long long) l->kernel[l->n_spatial - 1], (long long) l->stride[l->n_spatial - 1],
      (long long) g.group, with_sum);
}

/* ------------------------------------------------------------------ registry */

/* Conv and ConvTranspose share the float run; ConvInteger and QLinearConv
 * share the integer one, which has no epilogue to fuse an activation into. */
#define CONV_KERNEL(var, op, since, fuses, init_fn, prepare_fn, infer_fn, run_fn, describe_fn) \
  static const op_kernel var = {                                                \
    .op_type = op, .domain = "", .since_version = since,                        \
    .fuses_activation = fuses,                                                  \
    .init = init_fn, .prepare = prepare_fn, .infer = infer_fn, .run = run_fn,   \
    .describe = describe_fn,                                                    \
  }

CONV_KERNEL (conv_kernel, "Conv", 1, true,
    conv_init, conv_prepare, conv_infer, conv_run, conv_describe);
CONV_KERNEL (conv_transpose_kernel, "ConvTranspose", 1, true,
    conv_transpose_init, conv_prepare, conv_infer, conv_run, conv_describe);
CONV_KERNEL (conv_integer_kernel, "ConvInteger", 10, false,
    conv_integer_init, NULL, conv_integer_infer, conv_integer_run, NULL);
CONV_KERNEL (conv_qlinear_kernel, "QLinearConv", 10, false,
    conv_qlinear_init, NULL, conv_integer_infer, conv_integer_run, NULL);

const op_kernel *const ir_ops_conv[] = {
  &conv_kernel,
  &conv_transpose_kernel,
  &conv_integer_kernel,
  &conv_qlinear_kernel,
  NULL,
};

