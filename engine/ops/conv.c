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
 * direction data moves.  The GEMMs go to OpenBLAS.
 *
 * Special cases that skip the lowering:
 *   - pointwise (kernel 1, stride 1, no padding): X already is the column
 *     matrix (Conv), or the GEMM writes Y directly (ConvTranspose);
 *   - one input channel per group (depthwise, incl. channel multipliers), 1-D
 *     and 2-D: a direct kernel that keeps each output row in L1, with a fused
 *     one-pass 3x3 path; compiled for AVX-512 / AVX2 beside a baseline
 *     build, picked at run time;
 *   - 2-D 3x3 stride-1 convs with deep inputs: Winograd F(2x2, 3x3), whose
 *     transformed weights `prepare` packs into node->packed when W is
 *     constant (otherwise run transforms W into scratch).
 *
 * For the im2col path ONNX's weight layout already is the row-major GEMM
 * operand (Conv: W_g is [M/group, C/group * k], ConvTranspose: W_g is
 * [C/group, M/group * k] used transposed) and OpenBLAS has no public
 * packed-operand API, so run reads W as given, constant or not.
 *
 * Scratch is bounded (CONV_COL_BUDGET_BYTES, CONV_WINOGRAD_BUDGET_BYTES):
 * large images are processed in tiles of whole rows along the first spatial
 * axis, so a 3x3 conv over 224x224x64 does not ask for 100+ MB.
 *
 * Bias and the fused activation (node->fused) are applied in the epilogue,
 * per output channel, while the rows are still in cache. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include <stdio.h>

#include "cpu.h"
#include "op.h"

#define CONV_MAX_SPATIAL (IMGREC_MAX_RANK - 2)

/* Largest value accepted for kernel sizes, strides, dilations and pads:
 * keeps every geometry product comfortably inside int64. */
#define CONV_ATTR_MAX ((int64_t) INT32_MAX)

/* Upper bound of the im2col / GEMM-output column buffer. */
#define CONV_COL_BUDGET_BYTES ((size_t) 4 << 20)

/* Roughly how many floats one thread should touch before splitting pays. */
#define CONV_PARALLEL_GRAIN_FLOATS 16384

typedef enum conv_auto_pad {
  CONV_PAD_NOTSET,
  CONV_PAD_SAME_UPPER,
  CONV_PAD_SAME_LOWER,
  CONV_PAD_VALID,
} conv_auto_pad;

typedef enum conv_arith {
  CONV_ARITH_FLOAT,        /* Conv, ConvTranspose */
  CONV_ARITH_INTEGER,      /* ConvInteger: int32 accumulators */
  CONV_ARITH_QLINEAR,      /* QLinearConv: requantized to 8 bits */
} conv_arith;

/* Attributes as read from the file; lengths are checked against the spatial
 * rank when it is known (infer). -1 counts mean "absent". */
typedef struct conv_params {
  bool transpose;
  conv_arith arith;
  conv_auto_pad auto_pad;
  int64_t group;
  int n_kernel_shape, n_strides, n_dilations, n_pads, n_output_padding, n_output_shape;
  int64_t kernel_shape[CONV_MAX_SPATIAL];
  int64_t strides[CONV_MAX_SPATIAL];
  int64_t dilations[CONV_MAX_SPATIAL];
  int64_t pads[2 * CONV_MAX_SPATIAL];
  int64_t output_padding[CONV_MAX_SPATIAL];
  int64_t output_shape[CONV_MAX_SPATIAL + 2];
} conv_params;

/* The image <-> columns mapping of one channel (see the file comment). */
typedef struct conv_lowering {
  int n_spatial;
  int64_t image[CONV_MAX_SPATIAL];
  int64_t grid[CONV_MAX_SPATIAL];
  int64_t kernel[CONV_MAX_SPATIAL];
  int64_t stride[CONV_MAX_SPATIAL];
  int64_t dilation[CONV_MAX_SPATIAL];
  int64_t pad[CONV_MAX_SPATIAL];        /* begin padding; may be negative for
                                           ConvTranspose with output_shape */
  int64_t image_size, grid_size, kernel_size;
} conv_lowering;

typedef enum conv_method {
  CONV_METHOD_GEMM,        /* im2col / col2im around a GEMM */
  CONV_METHOD_POINTWISE,   /* GEMM straight on X (Conv) or into Y (ConvTranspose) */
  CONV_METHOD_DEPTHWISE,   /* direct kernel, one input channel per group */
  CONV_METHOD_WINOGRAD,    /* 3x3 stride 1: Winograd F(2x2, 3x3), 16 GEMMs */
} conv_method;

/* Everything run needs, derived from params and input shapes. */
typedef struct conv_geometry {
  conv_lowering low;
  int64_t batch, in_channels, out_channels, group;
  int64_t in_per_group, out_per_group;
  int64_t out_dims[IMGREC_MAX_RANK];
  conv_method method;
  /* im2col: grid rows (first spatial axis) per column tile, and grid
   * positions per such row.  Winograd: rows of 2x2 tiles per chunk, and
   * tiles per row. */
  int64_t tile_rows;
  int64_t tile_inner;
  size_t scratch_bytes;    /* column / transform buffers */
  size_t weight_bytes;     /* Winograd weights, when not prepacked */
} conv_geometry;

/* Winograd F(2x2, 3x3): a 4x4 input tile d gives a 2x2 output tile
 * A^T [(G g G^T) .* (B^T d B)] A, so the 9 multiplies per output become
 * 16 per 4 outputs, done as 16 GEMMs of [M, C] x [C, tiles]. */
#define CONV_WINOGRAD_POINTS 16
#define CONV_WINOGRAD_BUDGET_BYTES ((size_t) 2 << 20)

/* Transformed weights U[point][m][c], prepacked when W is constant. */
typedef struct conv_winograd_pack {
  int64_t out_channels, in_channels;
  float u[];
} conv_winograd_pack;

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

/* Whether a Conv with weights of this shape takes the Winograd path (the
 * image size is checked separately): 2-D 3x3, stride 1, no dilation, one
 * group, and enough channels that the 16 GEMMs beat one im2col GEMM.  The
 * 16 GEMMs have K = C instead of 9 C, so they only run near peak for deep
 * inputs; measured (1 thread, AVX-512): 128/256 channels gain 1.5-2x,
 * 16-64 channels lose or tie against im2col. */
static bool
conv_winograd_weights_fit (const conv_params *p, const ir_tensor *w)
{
  if (p->transpose || p->arith != CONV_ARITH_FLOAT || p->group != 1 || w == NULL
      || w->rank != 4 || w->dims[2] != 3 || w->dims[3] != 3)
    return false;
  for (int i = 0; i < 2; i++)
    if ((p->n_strides >= 0 && p->strides[i] != 1)
        || (p->n_dilations >= 0 && p->dilations[i] != 1))
      return false;
  return w->dims[0] >= 64 && w->dims[1] >= 128;
}

static int
conv_winograd_tiles (conv_geometry *g, imgrec_error *err)
{
  const conv_lowering *l = &g->low;
  const int64_t tiles_w = (l->grid[1] + 1) / 2, tiles_h = (l->grid[0] + 1) / 2;
  int64_t per_tile;   /* floats of transformed input and product per tile */
  if (__builtin_mul_overflow (g->in_channels + g->out_channels,
          (int64_t) CONV_WINOGRAD_POINTS, &per_tile)
      || __builtin_mul_overflow (per_tile, tiles_w, &per_tile)
      || per_tile > (int64_t) (SIZE_MAX / 8 / sizeof (float)))
    return ir_fail (err, "the Winograd buffers would be too large");
  int64_t rows = (int64_t) (CONV_WINOGRAD_BUDGET_BYTES / sizeof (float)) / per_tile;
  g->tile_rows = rows < 1 ? 1 : rows > tiles_h ? tiles_h : rows;
  g->tile_inner = tiles_w;
  g->scratch_bytes = (size_t) g->tile_rows * (size_t) per_tile * sizeof (float);
  g->weight_bytes = (size_t) CONV_WINOGRAD_POINTS * (size_t) g->out_channels
      * (size_t) g->in_channels * sizeof (float);
  return 0;
}

/* The optional bias, NULL when the node has no third input or it is absent. */
static const ir_tensor *
conv_bias_input (const ir_node *node, ir_tensor *const *in)
{
  return node->n_inputs > 2 ? in[2] : NULL;
}

static int
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
  else if (conv_winograd_weights_fit (p, w) && l->grid[0] >= 4 && l->grid[1] >= 4
      && l->grid_size >= 64) {
    g->method = CONV_METHOD_WINOGRAD;
    if (conv_winograd_tiles (g, err) < 0)
      return -1;
  } else {
    g->method = CONV_METHOD_GEMM;
    if (conv_choose_tiles (g, col_rows, err) < 0)
      return -1;
  }
  return 0;
}

static int
conv_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  conv_geometry g;
  if (conv_geometry_compute (node->params, in, conv_bias_input (node, in), &g,
          ctx->err) < 0)
    return -1;
  ir_set_shape (out[0], in[0]->elem_type, in[0]->rank, g.out_dims);
  ctx->scratch_bytes = 0;
  if (g.method == CONV_METHOD_GEMM)
    ctx->scratch_bytes = g.scratch_bytes;
  else if (g.method == CONV_METHOD_WINOGRAD)
    ctx->scratch_bytes = g.scratch_bytes + (node->packed != NULL ? 0 : g.weight_bytes);
  return 0;
}

/* ------------------------------------------------------------- image <-> col */

/* Grid positions o >= 0 along one axis with 0 <= o * stride + offset < size,
 * as the half-open range [*lo, *hi). */
static inline void
conv_valid_range (int64_t offset, int64_t stride, int64_t size, int64_t *lo, int64_t *hi)
{
  *lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  *hi = (size - 1 - offset) < 0 ? 0 : (size - 1 - offset) / stride + 1;
  if (*hi < *lo)
    *hi = *lo;
}

/* Moves one column row (one channel, one kernel offset) between the image
 * and the column matrix, for grid rows [tile_begin, tile_end) of the first
 * spatial axis.  to_col: image -> col, zero where the kernel reads padding
 * (im2col).  Otherwise col is added into the image, skipping padding
 * (col2im). */
static inline __attribute__ ((always_inline)) void
conv_lower_row (const conv_lowering *l, int64_t kernel_index, float *image, float *col,
    int64_t tile_begin, int64_t tile_end, bool to_col)
{
  const int n = l->n_spatial, last = n - 1;
  int64_t offset[CONV_MAX_SPATIAL];
  for (int i = last; i >= 0; i--) {
    offset[i] = (kernel_index % l->kernel[i]) * l->dilation[i] - l->pad[i];
    kernel_index /= l->kernel[i];
  }

  /* The last axis is walked as rows; with one spatial axis the tile is a
   * piece of that row. */
  int64_t seg_begin = 0, seg_end = l->grid[last];
  int64_t outer_count = 1;
  if (n == 1) {
    seg_begin = tile_begin;
    seg_end = tile_end;
  } else {
    outer_count = tile_end - tile_begin;
    for (int i = 1; i < last; i++)
      outer_count *= l->grid[i];
  }
  const int64_t seg_len = seg_end - seg_begin;
  const int64_t stride = l->stride[last];
  int64_t lo, hi;
  conv_valid_range (offset[last], stride, l->image[last], &lo, &hi);
  lo = lo < seg_begin ? seg_begin : lo > seg_end ? seg_end : lo;
  hi = hi < lo ? lo : hi > seg_end ? seg_end : hi;

  int64_t pos[CONV_MAX_SPATIAL] = { 0 };
  pos[0] = tile_begin;
  for (int64_t o = 0; o < outer_count; o++) {
    bool inside = true;
    int64_t base = 0;
    for (int i = 0; i < last; i++) {
      int64_t at = pos[i] * l->stride[i] + offset[i];
      if (at < 0 || at >= l->image[i]) {
        inside = false;
        break;
      }
      base = base * l->image[i] + at;
    }
    /* Image element of grid position ow on this row: base + ow * stride. */
    base = base * l->image[last] + offset[last];
    float *row = col + o * seg_len - seg_begin;   /* indexed by ow */
    if (to_col) {
      if (!inside) {
        memset (row + seg_begin, 0, (size_t) seg_len * sizeof (float));
      } else {
        memset (row + seg_begin, 0, (size_t) (lo - seg_begin) * sizeof (float));
        if (stride == 1)
          memcpy (row + lo, image + base + lo, (size_t) (hi - lo) * sizeof (float));
        else
          for (int64_t ow = lo; ow < hi; ow++)
            row[ow] = image[base + ow * stride];
        memset (row + hi, 0, (size_t) (seg_end - hi) * sizeof (float));
      }
    } else if (inside) {
      if (stride == 1) {
        for (int64_t ow = lo; ow < hi; ow++)
          image[base + ow] += row[ow];
      } else {
        for (int64_t ow = lo; ow < hi; ow++)
          image[base + ow * stride] += row[ow];
      }
    }
    for (int i = last - 1; i >= 0; i--) {
      if (++pos[i] < l->grid[i])
        break;
      pos[i] = 0;
    }
  }
}

typedef struct conv_lower_task {
  const conv_lowering *low;
  float *image;            /* first channel of the group */
  float *col;
  int64_t tile_begin, tile_end, tile_positions;
} conv_lower_task;

/* im2col over column rows [begin, end). */
static void
conv_im2col_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const conv_lower_task *t = arg;
  const int64_t ksize = t->low->kernel_size;
  for (int64_t r = begin; r < end; r++)
    conv_lower_row (t->low, r % ksize, t->image + (r / ksize) * t->low->image_size,
        t->col + r * t->tile_positions, t->tile_begin, t->tile_end, true);
}

/* col2im over image channels [begin, end): each channel owns its column rows,
 * so threads never add into the same element. */
static void
conv_col2im_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const conv_lower_task *t = arg;
  const int64_t ksize = t->low->kernel_size;
  for (int64_t c = begin; c < end; c++)
    for (int64_t k = 0; k < ksize; k++)
      conv_lower_row (t->low, k, t->image + c * t->low->image_size,
          t->col + (c * ksize + k) * t->tile_positions, t->tile_begin, t->tile_end,
          false);
}

static int64_t
conv_grain (int64_t floats_per_item)
{
  if (floats_per_item < 1)
    floats_per_item = 1;
  int64_t grain = CONV_PARALLEL_GRAIN_FLOATS / floats_per_item;
  return grain < 1 ? 1 : grain;
}

/* ------------------------------------------------------------------ epilogue */

typedef struct conv_epilogue_task {
  float *out;              /* first channel of the block */
  const float *bias;       /* bias of the first channel, or NULL */
  const ir_activation *act;
  int64_t channel_stride, length;
  bool add_bias;
} conv_epilogue_task;

static void
conv_epilogue_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const conv_epilogue_task *t = arg;
  for (int64_t c = begin; c < end; c++) {
    float *row = t->out + c * t->channel_stride;
    if (t->add_bias && t->bias != NULL) {
      const float b = t->bias[c];
      for (int64_t i = 0; i < t->length; i++)
        row[i] += b;
    }
    if (t->act->kind != IR_ACT_NONE)
      ir_activation_apply (t->act, row, t->length);
  }
}

/* Adds bias (if add_bias) and applies the activation to `channels` rows of
 * `length` floats, channel_stride apart. */
static void
conv_epilogue (const op_run_ctx *ctx, const ir_activation *act, float *out,
    const float *bias, bool add_bias, int64_t channels, int64_t channel_stride,
    int64_t length)
{
  if ((!add_bias || bias == NULL) && act->kind == IR_ACT_NONE)
    return;
  conv_epilogue_task t = { out, bias, act, channel_stride, length, add_bias };
  ir_parallel_for (ctx->pool, channels, conv_grain (length), conv_epilogue_range, &t);
}

/* ----------------------------------------------------------------- depthwise */

/* A 1-D or 2-D conv with one input channel per group, viewed as 2-D. */
typedef struct conv_depthwise_shape {
  int64_t in_h, in_w, out_h, out_w, k_h, k_w;
  int64_t stride_h, stride_w, dil_h, dil_w, pad_h, pad_w;
} conv_depthwise_shape;

/* One output element with every bounds check: the border of a plane. */
static inline __attribute__ ((always_inline)) float
conv_depthwise_point (const conv_depthwise_shape *s, const float *in, const float *w,
    float bias, int64_t oh, int64_t ow)
{
  float sum = bias;
  for (int64_t kh = 0; kh < s->k_h; kh++) {
    const int64_t ih = oh * s->stride_h + kh * s->dil_h - s->pad_h;
    if (ih < 0 || ih >= s->in_h)
      continue;
    for (int64_t kw = 0; kw < s->k_w; kw++) {
      const int64_t iw = ow * s->stride_w + kw * s->dil_w - s->pad_w;
      if (iw >= 0 && iw < s->in_w)
        sum += w[kh * s->k_w + kw] * in[ih * s->in_w + iw];
    }
  }
  return sum;
}

/* 3x3 taps over the interior columns [lo, hi) of one output row whose three
 * input rows r0, r1, r2 are all inside the image: one pass, nine FMAs per
 * element, written once.  `o` is the input column of tap 0 at ow = 0. */
static inline __attribute__ ((always_inline)) void
conv_depthwise_row3x3 (float *restrict orow, const float *restrict r0,
    const float *restrict r1, const float *restrict r2, const float *w, float bias,
    int64_t lo, int64_t hi, int64_t stride, int64_t o, int64_t d)
{
  const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5];
  const float w6 = w[6], w7 = w[7], w8 = w[8];
  /* Constant strides let the compiler vectorise with plain / paired loads. */
#define CONV_DW3_LOOP(S)                                                     \
  for (int64_t ow = lo; ow < hi; ow++) {                                      \
    const int64_t i = (S) * ow + o;                                           \
    orow[ow] = bias + w0 * r0[i] + w1 * r0[i + d] + w2 * r0[i + 2 * d]        \
        + w3 * r1[i] + w4 * r1[i + d] + w5 * r1[i + 2 * d]                    \
        + w6 * r2[i] + w7 * r2[i + d] + w8 * r2[i + 2 * d];                   \
  }
  if (stride == 1)
    CONV_DW3_LOOP (1)
  else if (stride == 2)
    CONV_DW3_LOOP (2)
  else
    CONV_DW3_LOOP (stride)
#undef CONV_DW3_LOOP
}

/* One output plane: out = bias + sum over taps of w * in.  Rows whose 3x3
 * window lies fully inside the image take the fused one-pass path; other
 * rows keep the output row in L1 and add the kernel taps into it one at a
 * time over the columns where each tap is inside the image, so the
 * compiler can vectorise every inner loop. */
static inline __attribute__ ((always_inline)) void
conv_depthwise_plane_body (const conv_depthwise_shape *s, const float *in,
    const float *w, float bias, float *out)
{
  const int64_t sw = s->stride_w;
  /* Output columns where every tap of a kernel row is inside the input. */
  int64_t all_lo, all_hi, lo, hi;
  conv_valid_range (-s->pad_w, sw, s->in_w, &all_lo, &all_hi);
  for (int64_t kw = 1; kw < s->k_w; kw++) {
    conv_valid_range (kw * s->dil_w - s->pad_w, sw, s->in_w, &lo, &hi);
    all_lo = lo > all_lo ? lo : all_lo;
    all_hi = hi < all_hi ? hi : all_hi;
  }
  if (all_hi > s->out_w)
    all_hi = s->out_w;
  if (all_lo > all_hi)
    all_lo = all_hi;
  const bool is_3x3 = s->k_h == 3 && s->k_w == 3 && all_lo < all_hi;

  for (int64_t oh = 0; oh < s->out_h; oh++) {
    float *restrict orow = out + oh * s->out_w;
    const int64_t ih0 = oh * s->stride_h - s->pad_h;
    if (is_3x3 && ih0 >= 0 && ih0 + 2 * s->dil_h < s->in_h) {
      const float *r0 = in + ih0 * s->in_w;
      conv_depthwise_row3x3 (orow, r0, r0 + s->dil_h * s->in_w,
          r0 + 2 * s->dil_h * s->in_w, w, bias, all_lo, all_hi, sw, -s->pad_w,
          s->dil_w);
      for (int64_t ow = 0; ow < all_lo; ow++)
        orow[ow] = conv_depthwise_point (s, in, w, bias, oh, ow);
      for (int64_t ow = all_hi; ow < s->out_w; ow++)
        orow[ow] = conv_depthwise_point (s, in, w, bias, oh, ow);
      continue;
    }
    for (int64_t ow = 0; ow < s->out_w; ow++)
      orow[ow] = bias;
    for (int64_t kh = 0; kh < s->k_h; kh++) {
      const int64_t ih = ih0 + kh * s->dil_h;
      if (ih < 0 || ih >= s->in_h)
        continue;
      const float *restrict irow = in + ih * s->in_w;
      const float *wrow = w + kh * s->k_w;
      for (int64_t kw = 0; kw < s->k_w; kw++) {
        const int64_t off = kw * s->dil_w - s->pad_w;
        conv_valid_range (off, sw, s->in_w, &lo, &hi);
        if (hi > s->out_w)
          hi = s->out_w;
        const float wv = wrow[kw];
        if (sw == 1) {
          for (int64_t ow = lo; ow < hi; ow++)
            orow[ow] += wv * irow[ow + off];
        } else if (sw == 2) {
          for (int64_t ow = lo; ow < hi; ow++)
            orow[ow] += wv * irow[2 * ow + off];
        } else {
          for (int64_t ow = lo; ow < hi; ow++)
            orow[ow] += wv * irow[ow * sw + off];
        }
      }
    }
  }
}

typedef void (*conv_depthwise_plane_fn) (const conv_depthwise_shape *s, const float *in,
    const float *w, float bias, float *out);

static void
conv_depthwise_plane_generic (const conv_depthwise_shape *s, const float *in,
    const float *w, float bias, float *out)
{
  conv_depthwise_plane_body (s, in, w, bias, out);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__ ((target ("avx2,fma"))) static void
conv_depthwise_plane_avx2 (const conv_depthwise_shape *s, const float *in,
    const float *w, float bias, float *out)
{
  conv_depthwise_plane_body (s, in, w, bias, out);
}

__attribute__ ((target ("avx512f,avx2,fma"))) static void
conv_depthwise_plane_avx512 (const conv_depthwise_shape *s, const float *in,
    const float *w, float bias, float *out)
{
  conv_depthwise_plane_body (s, in, w, bias, out);
}
#endif

static conv_depthwise_plane_fn
conv_depthwise_select (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f"))
    return conv_depthwise_plane_avx512;
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return conv_depthwise_plane_avx2;
#endif
  return conv_depthwise_plane_generic;
}

typedef struct conv_depthwise_task {
  conv_depthwise_shape shape;
  conv_depthwise_plane_fn plane;
  const float *x, *w, *bias;
  float *y;
  const ir_activation *act;
  int64_t channels_in, channels_out, out_per_in;
} conv_depthwise_task;

/* Output planes [begin, end) of the flattened (batch, output channel). */
static void
conv_depthwise_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const conv_depthwise_task *t = arg;
  const conv_depthwise_shape *s = &t->shape;
  const int64_t in_plane = s->in_h * s->in_w, out_plane = s->out_h * s->out_w;
  const int64_t taps = s->k_h * s->k_w;
  for (int64_t item = begin; item < end; item++) {
    const int64_t n = item / t->channels_out, m = item % t->channels_out;
    const int64_t c = m / t->out_per_in;
    float *out = t->y + item * out_plane;
    t->plane (s, t->x + (n * t->channels_in + c) * in_plane, t->w + m * taps,
        t->bias != NULL ? t->bias[m] : 0.0f, out);
    if (t->act->kind != IR_ACT_NONE)
      ir_activation_apply (t->act, out, out_plane);
  }
}

static void
conv_run_depthwise (const ir_node *node, const op_run_ctx *ctx, const conv_geometry *g,
    const float *bias)
{
  const conv_lowering *l = &g->low;
  conv_depthwise_task t = { 0 };
  conv_depthwise_shape *s = &t.shape;
  /* 1-D is 2-D with a single row. */
  const int h = l->n_spatial == 2 ? 0 : -1, wd = l->n_spatial - 1;
  s->in_h = h < 0 ? 1 : l->image[h];
  s->out_h = h < 0 ? 1 : l->grid[h];
  s->k_h = h < 0 ? 1 : l->kernel[h];
  s->stride_h = h < 0 ? 1 : l->stride[h];
  s->dil_h = h < 0 ? 1 : l->dilation[h];
  s->pad_h = h < 0 ? 0 : l->pad[h];
  s->in_w = l->image[wd];
  s->out_w = l->grid[wd];
  s->k_w = l->kernel[wd];
  s->stride_w = l->stride[wd];
  s->dil_w = l->dilation[wd];
  s->pad_w = l->pad[wd];
  t.plane = conv_depthwise_select ();
  t.x = ir_f32 (ctx->in[0]);
  t.w = ir_f32 (ctx->in[1]);
  t.bias = bias;
  t.y = ir_f32 (ctx->out[0]);
  t.act = &node->fused;
  t.channels_in = g->in_channels;
  t.channels_out = g->out_channels;
  t.out_per_in = g->out_per_group;
  const int64_t work = s->out_h * s->out_w * s->k_h * s->k_w;
  ir_parallel_for (ctx->pool, g->batch * g->out_channels, conv_grain (work),
      conv_depthwise_range, &t);
}

/* ------------------------------------------------------------------ Winograd */

/* U = G g G^T for every (m, c), G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]. */
static void
conv_winograd_transform_weights (const float *w, int64_t out_channels,
    int64_t in_channels, float *u)
{
  const int64_t plane = out_channels * in_channels;
  for (int64_t mc = 0; mc < plane; mc++) {
    const float *k = w + mc * 9;
    float t[4][3];
    for (int j = 0; j < 3; j++) {
      t[0][j] = k[j];
      t[1][j] = 0.5f * (k[j] + k[3 + j] + k[6 + j]);
      t[2][j] = 0.5f * (k[j] - k[3 + j] + k[6 + j]);
      t[3][j] = k[6 + j];
    }
    for (int i = 0; i < 4; i++) {
      u[(i * 4 + 0) * plane + mc] = t[i][0];
      u[(i * 4 + 1) * plane + mc] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
      u[(i * 4 + 2) * plane + mc] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
      u[(i * 4 + 3) * plane + mc] = t[i][2];
    }
  }
}

static int
conv_prepare (ir_node *node, ir_tensor *const *in, imgrec_error *err)
{
  const conv_params *p = node->params;
  const ir_tensor *w = node->n_inputs > 1 ? in[1] : NULL;
  if (w == NULL || w->data == NULL || w->storage != IR_F32
      || !conv_winograd_weights_fit (p, w))
    return 0;
  const int64_t m = w->dims[0], c = w->dims[1];
  if (m > (INT64_MAX >> 8) / c)
    return 0;   /* absurd sizes: leave it to the checks in infer */
  conv_winograd_pack *pack = malloc (sizeof *pack
      + (size_t) CONV_WINOGRAD_POINTS * (size_t) (m * c) * sizeof (float));
  if (pack == NULL)
    return ir_fail (err, "out of memory for the prepacked Winograd weights");
  pack->out_channels = m;
  pack->in_channels = c;
  conv_winograd_transform_weights (ir_f32 (w), m, c, pack->u);
  node->packed = pack;
  return 0;
}

typedef struct conv_winograd_task {
  const conv_geometry *g;
  const float *x;          /* first channel of the image */
  float *v;                /* V[point][c][tile] */
  float *prod;             /* M[point][m][tile] */
  float *y;                /* first channel of the output image */
  const float *bias;
  const ir_activation *act;
  int64_t row_begin, row_end, tiles;   /* tile rows of this chunk */
} conv_winograd_task;

/* V = B^T d B for the chunk's tiles of channels [begin, end),
 * B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. */
static inline __attribute__ ((always_inline)) void
conv_winograd_input_body (const conv_winograd_task *t, int64_t begin, int64_t end)
{
  const conv_lowering *l = &t->g->low;
  const int64_t in_h = l->image[0], in_w = l->image[1];
  const int64_t tiles_w = t->g->tile_inner, pad_h = l->pad[0], pad_w = l->pad[1];
  const int64_t point_stride = t->g->in_channels * t->tiles;
  /* Tile columns whose 4 input columns are all inside the image. */
  int64_t lo, hi;
  conv_valid_range (-pad_w, 2, in_w - 3, &lo, &hi);
  if (hi > tiles_w)
    hi = tiles_w;
  if (lo > hi)
    lo = hi;
  for (int64_t c = begin; c < end; c++) {
    const float *xc = t->x + c * l->image_size;
    for (int64_t ty = t->row_begin; ty < t->row_end; ty++) {
      float *vrow = t->v + c * t->tiles + (ty - t->row_begin) * tiles_w;
      const int64_t iy = 2 * ty - pad_h;
      const bool rows_inside = iy >= 0 && iy + 3 < in_h;
      for (int64_t tx = 0; tx < tiles_w; tx++) {
        const bool fast = rows_inside && tx >= lo && tx < hi;
        if (fast && tx == lo) {
          /* Interior: no bounds checks, vectorisable over tx. */
          const float *r0 = xc + iy * in_w - pad_w, *r1 = r0 + in_w;
          const float *r2 = r1 + in_w, *r3 = r2 + in_w;
          for (int64_t x = lo; x < hi; x++) {
            float d[4][4], tt[4][4];
            for (int q = 0; q < 4; q++) {
              d[0][q] = r0[2 * x + q];
              d[1][q] = r1[2 * x + q];
              d[2][q] = r2[2 * x + q];
              d[3][q] = r3[2 * x + q];
            }
            for (int q = 0; q < 4; q++) {
              tt[0][q] = d[0][q] - d[2][q];
              tt[1][q] = d[1][q] + d[2][q];
              tt[2][q] = d[2][q] - d[1][q];
              tt[3][q] = d[1][q] - d[3][q];
            }
            for (int r = 0; r < 4; r++) {
              vrow[(r * 4 + 0) * point_stride + x] = tt[r][0] - tt[r][2];
              vrow[(r * 4 + 1) * point_stride + x] = tt[r][1] + tt[r][2];
              vrow[(r * 4 + 2) * point_stride + x] = tt[r][2] - tt[r][1];
              vrow[(r * 4 + 3) * point_stride + x] = tt[r][1] - tt[r][3];
            }
          }
          tx = hi - 1;
          continue;
        }
        float d[4][4], tt[4][4];
        for (int r = 0; r < 4; r++)
          for (int q = 0; q < 4; q++) {
            const int64_t yy = iy + r, xx = 2 * tx - pad_w + q;
            d[r][q] = (yy >= 0 && yy < in_h && xx >= 0 && xx < in_w)
                ? xc[yy * in_w + xx] : 0.0f;
          }
        for (int q = 0; q < 4; q++) {
          tt[0][q] = d[0][q] - d[2][q];
          tt[1][q] = d[1][q] + d[2][q];
          tt[2][q] = d[2][q] - d[1][q];
          tt[3][q] = d[1][q] - d[3][q];
        }
        for (int r = 0; r < 4; r++) {
          vrow[(r * 4 + 0) * point_stride + tx] = tt[r][0] - tt[r][2];
          vrow[(r * 4 + 1) * point_stride + tx] = tt[r][1] + tt[r][2];
          vrow[(r * 4 + 2) * point_stride + tx] = tt[r][2] - tt[r][1];
          vrow[(r * 4 + 3) * point_stride + tx] = tt[r][1] - tt[r][3];
        }
      }
    }
  }
}

/* Y = A^T m A + bias for output channels [begin, end), A^T = [1 1 1 0; 0 1 -1 -1],
 * then the activation over the rows this chunk produced. */
static inline __attribute__ ((always_inline)) void
conv_winograd_output_body (const conv_winograd_task *t, int64_t begin, int64_t end)
{
  const conv_lowering *l = &t->g->low;
  const int64_t out_h = l->grid[0], out_w = l->grid[1], tiles_w = t->g->tile_inner;
  const int64_t point_stride = t->g->out_channels * t->tiles;
  const int64_t full_w = out_w / 2;   /* tiles with both output columns inside */
  for (int64_t m = begin; m < end; m++) {
    float *ym = t->y + m * l->grid_size;
    const float b = t->bias != NULL ? t->bias[m] : 0.0f;
    for (int64_t ty = t->row_begin; ty < t->row_end; ty++) {
      const float *prow = t->prod + m * t->tiles + (ty - t->row_begin) * tiles_w;
      const bool second_row = 2 * ty + 1 < out_h;
      float *y0 = ym + 2 * ty * out_w;
      float *y1 = second_row ? y0 + out_w : y0;
      for (int64_t tx = 0; tx < tiles_w; tx++) {
        float mm[4][4], s[2][4];
        for (int k = 0; k < 16; k++)
          mm[k / 4][k % 4] = prow[k * point_stride + tx];
        for (int q = 0; q < 4; q++) {
          s[0][q] = mm[0][q] + mm[1][q] + mm[2][q];
          s[1][q] = mm[1][q] - mm[2][q] - mm[3][q];
        }
        const float a = b + s[0][0] + s[0][1] + s[0][2];
        const float a1 = b + s[0][1] - s[0][2] - s[0][3];
        const float c0 = b + s[1][0] + s[1][1] + s[1][2];
        const float c1 = b + s[1][1] - s[1][2] - s[1][3];
        y0[2 * tx] = a;
        if (second_row)
          y1[2 * tx] = c0;
        if (tx < full_w) {
          y0[2 * tx + 1] = a1;
          if (second_row)
            y1[2 * tx + 1] = c1;
        }
      }
    }
    if (t->act->kind != IR_ACT_NONE) {
      const int64_t row0 = 2 * t->row_begin;
      const int64_t row1 = 2 * t->row_end < out_h ? 2 * t->row_end : out_h;
      ir_activation_apply (t->act, ym + row0 * out_w, (row1 - row0) * out_w);
    }
  }
}

static void
conv_winograd_input_generic (void *arg, int64_t begin, int64_t end, int thread_index)
{
  conv_winograd_input_body (arg, begin, end);
}

static void
conv_winograd_output_generic (void *arg, int64_t begin, int64_t end, int thread_index)
{
  conv_winograd_output_body (arg, begin, end);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__ ((target ("avx512f,avx2,fma"))) static void
conv_winograd_input_avx512 (void *arg, int64_t begin, int64_t end, int thread_index)
{
  conv_winograd_input_body (arg, begin, end);
}

__attribute__ ((target ("avx512f,avx2,fma"))) static void
conv_winograd_output_avx512 (void *arg, int64_t begin, int64_t end, int thread_index)
{
  conv_winograd_output_body (arg, begin, end);
}
#endif

static void
conv_run_winograd (const ir_node *node, const op_run_ctx *ctx, const conv_geometry *g,
    const float *bias)
{
  const conv_lowering *l = &g->low;
  const conv_winograd_pack *pack = node->packed;
  const int64_t cin = g->in_channels, cout = g->out_channels;
  float *scratch = ctx->scratch;
  const float *u;
  if (pack != NULL && pack->in_channels == cin && pack->out_channels == cout) {
    u = pack->u;
  } else {
    conv_winograd_transform_weights (ir_f32 (ctx->in[1]), cout, cin, scratch);
    u = scratch;
    scratch += g->weight_bytes / sizeof (float);
  }
  ir_parallel_fn input_fn = conv_winograd_input_generic;
  ir_parallel_fn output_fn = conv_winograd_output_generic;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f")) {
    input_fn = conv_winograd_input_avx512;
    output_fn = conv_winograd_output_avx512;
  }
#endif
  const int64_t tiles_h = (l->grid[0] + 1) / 2, tiles_w = g->tile_inner;
  for (int64_t n = 0; n < g->batch; n++) {
    for (int64_t row = 0; row < tiles_h; row += g->tile_rows) {
      const int64_t row_end = row + g->tile_rows < tiles_h ? row + g->tile_rows : tiles_h;
      const int64_t tiles = (row_end - row) * tiles_w;
      conv_winograd_task t = {
        .g = g, .x = ir_f32 (ctx->in[0]) + n * cin * l->image_size,
        .v = scratch, .prod = scratch + CONV_WINOGRAD_POINTS * cin * tiles,
        .y = ir_f32 (ctx->out[0]) + n * cout * l->grid_size,
        .bias = bias, .act = &node->fused,
        .row_begin = row, .row_end = row_end, .tiles = tiles,
      };
      ir_parallel_for (ctx->pool, cin, conv_grain (16 * tiles), input_fn, &t);
      for (int k = 0; k < CONV_WINOGRAD_POINTS; k++)
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) cout, (int) tiles,
            (int) cin, 1.0f, u + k * cout * cin, (int) cin, t.v + k * cin * tiles,
            (int) tiles, 0.0f, t.prod + k * cout * tiles, (int) tiles);
      ir_parallel_for (ctx->pool, cout, conv_grain (16 * tiles), output_fn, &t);
    }
  }
}

/* ------------------------------------------------------------------ GEMM runs */

static void
conv_run_forward_gemm (const ir_node *node, const op_run_ctx *ctx, const conv_geometry *g,
    const float *bias)
{
  const conv_lowering *l = &g->low;
  const float *x = ir_f32 (ctx->in[0]), *w = ir_f32 (ctx->in[1]);
  float *y = ir_f32 (ctx->out[0]);
  float *col = ctx->scratch;
  const int64_t cg = g->in_per_group, mg = g->out_per_group;
  const int64_t k_total = cg * l->kernel_size, positions = l->grid_size;
  if (mg == 0 || positions == 0)
    return;

  for (int64_t n = 0; n < g->batch; n++) {
    for (int64_t grp = 0; grp < g->group; grp++) {
      const float *xg = x + (n * g->in_channels + grp * cg) * l->image_size;
      const float *wg = w + grp * mg * k_total;
      float *yg = y + (n * g->out_channels + grp * mg) * positions;
      if (g->method == CONV_METHOD_POINTWISE) {
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) mg, (int) positions,
            (int) k_total, 1.0f, wg, (int) k_total, xg, (int) positions, 0.0f, yg,
            (int) positions);
      } else {
        for (int64_t row = 0; row < l->grid[0]; row += g->tile_rows) {
          const int64_t row_end = row + g->tile_rows < l->grid[0] ? row + g->tile_rows
              : l->grid[0];
          const int64_t tile = (row_end - row) * g->tile_inner;
          conv_lower_task t = { l, (float *) xg, col, row, row_end, tile };
          ir_parallel_for (ctx->pool, k_total, conv_grain (tile), conv_im2col_range, &t);
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) mg, (int) tile,
              (int) k_total, 1.0f, wg, (int) k_total, col, (int) tile, 0.0f,
              yg + row * g->tile_inner, (int) positions);
        }
      }
      conv_epilogue (ctx, &node->fused, yg, bias != NULL ? bias + grp * mg : NULL, true,
          mg, positions, positions);
    }
  }
}

typedef struct conv_fill_task {
  float *out;
  const float *bias;
  int64_t length;
} conv_fill_task;

static void
conv_fill_bias_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const conv_fill_task *t = arg;
  for (int64_t c = begin; c < end; c++) {
    float *row = t->out + c * t->length;
    const float b = t->bias != NULL ? t->bias[c] : 0.0f;
    for (int64_t i = 0; i < t->length; i++)
      row[i] = b;
  }
}

static void
conv_run_transpose_gemm (const ir_node *node, const op_run_ctx *ctx,
    const conv_geometry *g, const float *bias)
{
  const conv_lowering *l = &g->low;
  const float *x = ir_f32 (ctx->in[0]), *w = ir_f32 (ctx->in[1]);
  float *y = ir_f32 (ctx->out[0]);
  float *col = ctx->scratch;
  const int64_t cg = g->in_per_group, mg = g->out_per_group;
  const int64_t rows = mg * l->kernel_size;   /* column rows per group */
  const int64_t in_positions = l->grid_size, out_positions = l->image_size;
  if (mg == 0 || out_positions == 0)
    return;

  for (int64_t n = 0; n < g->batch; n++) {
    for (int64_t grp = 0; grp < g->group; grp++) {
      const float *xg = x + (n * g->in_channels + grp * cg) * in_positions;
      const float *wg = w + grp * cg * rows;
      float *yg = y + (n * g->out_channels + grp * mg) * out_positions;
      const float *bg = bias != NULL ? bias + grp * mg : NULL;
      if (g->method == CONV_METHOD_POINTWISE) {
        cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) mg,
            (int) in_positions, (int) cg, 1.0f, wg, (int) rows, xg, (int) in_positions,
            0.0f, yg, (int) out_positions);
        conv_epilogue (ctx, &node->fused, yg, bg, true, mg, out_positions, out_positions);
        continue;
      }
      conv_fill_task fill = { yg, bg, out_positions };
      ir_parallel_for (ctx->pool, mg, conv_grain (out_positions), conv_fill_bias_range,
          &fill);
      for (int64_t row = 0; row < l->grid[0]; row += g->tile_rows) {
        const int64_t row_end = row + g->tile_rows < l->grid[0] ? row + g->tile_rows
            : l->grid[0];
        const int64_t tile = (row_end - row) * g->tile_inner;
        cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) rows, (int) tile,
            (int) cg, 1.0f, wg, (int) rows, xg + row * g->tile_inner, (int) in_positions,
            0.0f, col, (int) tile);
        conv_lower_task t = { l, yg, col, row, row_end, tile };
        ir_parallel_for (ctx->pool, mg, conv_grain (tile * l->kernel_size),
            conv_col2im_range, &t);
      }
      conv_epilogue (ctx, &node->fused, yg, NULL, false, mg, out_positions,
          out_positions);
    }
  }
}

static bool
conv_fits_blas_int (const conv_geometry *g)
{
  /* cblas takes int sizes and leading dimensions. */
  const conv_lowering *l = &g->low;
  const int64_t limits[] = {
    g->in_per_group * l->kernel_size, g->out_per_group * l->kernel_size,
    l->grid_size, l->image_size, g->in_per_group, g->out_per_group,
  };
  for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
    if (limits[i] > INT_MAX)
      return false;
  return true;
}

static int
conv_run (const ir_node *node, const op_run_ctx *ctx)
{
  const conv_params *p = node->params;
  conv_geometry g;
  const ir_tensor *b = conv_bias_input (node, ctx->in);
  if (conv_geometry_compute (p, ctx->in, b, &g, ctx->err) < 0)
    return -1;
  const ir_tensor *y = ctx->out[0];
  if (y == NULL || y->storage != IR_F32 || y->rank != ctx->in[0]->rank)
    return ir_fail (ctx->err, "output Y was not prepared as inferred");
  for (int i = 0; i < y->rank; i++)
    if (y->dims[i] != g.out_dims[i])
      return ir_fail (ctx->err, "output Y dimension %d is %lld; expected %lld", i,
          (long long) y->dims[i], (long long) g.out_dims[i]);
  size_t needed = 0;
  if (g.method == CONV_METHOD_GEMM)
    needed = g.scratch_bytes;
  else if (g.method == CONV_METHOD_WINOGRAD)
    needed = g.scratch_bytes + (node->packed != NULL ? 0 : g.weight_bytes);
  if (ctx->scratch_bytes < needed)
    return ir_fail (ctx->err, "the scratch buffer has %zu bytes; %zu are needed",
        ctx->scratch_bytes, needed);
  if (ir_numel (y) == 0)
    return 0;
  if (g.method != CONV_METHOD_DEPTHWISE && !conv_fits_blas_int (&g))
    return ir_fail (ctx->err, "the GEMM sizes exceed the BLAS integer range");

  const float *bias = (b != NULL && b->data != NULL) ? ir_f32 (b) : NULL;
  if (g.method == CONV_METHOD_DEPTHWISE)
    conv_run_depthwise (node, ctx, &g, bias);
  else if (g.method == CONV_METHOD_WINOGRAD)
    conv_run_winograd (node, ctx, &g, bias);
  else if (p->transpose)
    conv_run_transpose_gemm (node, ctx, &g, bias);
  else
    conv_run_forward_gemm (node, ctx, &g, bias);
  return 0;
}

static void
conv_describe (const ir_node *node, ir_tensor *const *in, char *buf, size_t size)
{
  conv_geometry g;
  imgrec_error err;
  if (conv_geometry_compute (node->params, in, conv_bias_input (node, in), &g, &err) < 0) {
    snprintf (buf, size, "?");
    return;
  }
  const conv_lowering *l = &g.low;
  const char *method = g.method == CONV_METHOD_DEPTHWISE ? "depthwise direct"
      : g.method == CONV_METHOD_WINOGRAD ? "winograd F(2x2,3x3)+openblas"
      : g.method == CONV_METHOD_POINTWISE ? "pointwise openblas"
      : ((const conv_params *) node->params)->transpose ? "gemm+col2im openblas"
      : "im2col+openblas";
  snprintf (buf, size, "%s %s k%lld s%lld g%lld", method,
      ir_cpu_isa_name (ir_cpu ()->isa), (long long) l->kernel[l->n_spatial - 1],
      (long long) l->stride[l->n_spatial - 1], (long long) g.group);
}

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

static int
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

static int
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
    conv_transpose_init, NULL, conv_infer, conv_run, conv_describe);
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
