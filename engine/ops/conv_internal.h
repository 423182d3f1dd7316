/* Shared by the conv family's files: attributes, geometry and the entry
 * points of each algorithm (see conv.c for the dispatcher).
 *
 *   conv.c            attributes, geometry, algorithm choice, weight prepacking, registry
 *   conv_gemm.c       im2col / col2im lowering, Conv on our packed SGEMM (ops/sgemm.h), epilogue
 *   conv_depthwise.c  one input channel per group: direct kernel per ISA
 *   conv_winograd.c   Winograd F(4x4, 3x3) for 3x3 stride-1 convs, on our SGEMM
 *   conv_sum.c        the fused residual Add (input 3): broadcast path, post-pass
 *   conv_transpose.c  ConvTranspose: GEMM then col2im
 *   conv_int8.c       ConvInteger and QLinearConv (exact int64 loop) */
#ifndef IMGREC_CONV_INTERNAL_H
#define IMGREC_CONV_INTERNAL_H

#include <limits.h>
#include <stdint.h>

#include "op.h"
#include "sgemm.h"
#include "block16.h"

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
  CONV_METHOD_WINOGRAD,    /* 3x3 stride 1: Winograd F(4x4, 3x3), 36 GEMMs */
  CONV_METHOD_DIRECT,      /* few output channels: channels in the lanes (conv_direct.c) */
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

/* Winograd F(4x4, 3x3) (conv_winograd.c): a 6x6 input tile gives a 4x4
 * output tile with 36 multiplies instead of 144, done as 36 GEMMs of
 * [M, C] x [C, tiles] on our packed SGEMM. */
#define CONV_WINOGRAD_POINTS 36
#define CONV_WINOGRAD_BUDGET_BYTES ((size_t) 1 << 20)
/* Tiles the transforms handle together, and the floats after each
 * (point, channel) row of tiles that their full-width stores may fill. */
#define WINO_LANES 16
#define CONV_WINOGRAD_SLACK WINO_LANES
/* Smaller output maps take im2col: at 7x7 to 14x14 (2-4 tiles a side, most
 * of a 16-tile group empty, N = 4-16 per point GEMM) Winograd measured no
 * faster (64 channels at 7x7: 0.13-0.17 ms against 0.10 ms, 1 thread,
 * AVX-512), at 28x28 and 56x56 twice as fast. */
#define CONV_WINOGRAD_MIN_MAP 16

/* What node->packed holds (first member of either pack). */
typedef enum conv_pack_kind {
  CONV_PACK_GEMM = 1, CONV_PACK_WINOGRAD,
  CONV_PACK_TRANSPOSE,     /* a conv_pack of W_g^T [M/group * k x C/group] (ConvTranspose) */
} conv_pack_kind;

/* Constant weights packed at load (conv_prepare) for our SGEMM: W of each
 * group as the A operand [M/group x C/group * k]; the ONNX copy is then
 * released (ir_node.packed_inputs).  One allocation, 64-byte aligned. */
typedef struct conv_pack {
  conv_pack_kind kind;
  const ir_sgemm_kernel *kern;
  int64_t out_channels, in_per_group, kernel_size, group;
  size_t group_floats;     /* packed floats per group */
  float *a;                /* group g at a + g * group_floats */
} conv_pack;

/* Transformed weights U[point] = G g G^T as [M x C] SGEMM operands, each
 * packed for kern (conv_winograd_point_floats apart), prepacked at load when
 * W is constant, with W's conv_pack for the maps too small for Winograd (the
 * ONNX copy is then released).  One allocation, 64-byte aligned. */
typedef struct conv_winograd_pack {
  conv_pack_kind kind;
  const ir_sgemm_kernel *kern;
  int64_t out_channels, in_channels;
  float *u;
  const conv_pack *gemm;   /* in the same allocation */
} conv_winograd_pack;

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

static inline int64_t
conv_grain (int64_t floats_per_item)
{
  if (floats_per_item < 1)
    floats_per_item = 1;
  int64_t grain = CONV_PARALLEL_GRAIN_FLOATS / floats_per_item;
  return grain < 1 ? 1 : grain;
}

typedef struct conv_lower_task {
  const conv_lowering *low;
  float *image;            /* first channel of the group */
  float *col;
  int64_t tile_begin, tile_end, tile_positions;
} conv_lower_task;

bool conv_winograd_weights_fit (const conv_params *p, const ir_tensor *w);
int conv_geometry_compute (const conv_params *p, ir_tensor *const *in, const ir_tensor *b,
    conv_geometry *g, imgrec_error *err);

/* conv_direct.c: few output channels (17-64), 2-D, group 1, dilation 1, W
 * stride 2, with AVX-512: output channels in the vector lanes and positions
 * broadcast from the image, no im2col (conv_direct_avx512.c). */
typedef struct conv_direct_tile {
  /* input of channel c, kernel row kh0 + r, position p, tap kw at
   * x[c * cs + r * rs + p * stride + kw]: the image, or a zero-bordered copy */
  const float *x;
  int64_t cs, rs;
  int stride;                  /* 1 or 2 */
  int lanes;                   /* 16, 32, 48 or 64 channels: 24, 12, 8 or 6 positions */
  int64_t channels, kh0, kh1, kh_n, kw_n;
  const float *w;              /* [k = (c * kh_n + kh) * kw_n + kw][w_ld], the block's lanes */
  int64_t w_ld;
  const float *bias;           /* the block's first channel, or NULL */
  float *y;                    /* channel 0, position 0 of the tile; channels y_cs apart */
  int64_t y_cs;
  int npos, nch;               /* positions and channels stored */
  int act;                     /* IR_SGEMM_ACT_*, in registers */
  float lo, hi, alpha;
} conv_direct_tile;
#define CONV_DIRECT_MAX_POSITIONS 24
void conv_direct_tile_avx512 (const conv_direct_tile *t);
void conv_direct_window_row_avx512 (const float *src, int64_t iw0, int64_t in_w, int64_t span,
    float *dst);
bool conv_direct_fits (const conv_params *p, const conv_geometry *g);
size_t conv_direct_scratch_bytes (const conv_geometry *g, int threads);
void conv_run_direct (const ir_node *node, const op_run_ctx *ctx, const conv_geometry *g,
    const float *bias);

/* conv_gemm.c */
void conv_im2col_range (void *arg, int64_t begin, int64_t end, int thread_index);
void conv_col2im_range (void *arg, int64_t begin, int64_t end, int thread_index);
void conv_epilogue (const op_run_ctx *ctx, const ir_activation *act, float *out,
    const float *bias, bool add_bias, int64_t channels, int64_t channel_stride,
    int64_t length);
size_t conv_gemm_scratch_bytes (const ir_node *node, const conv_geometry *g, int threads);
const conv_pack *conv_gemm_pack_of (const ir_node *node, const conv_geometry *g);
void conv_run_forward_gemm (const ir_node *node, const op_run_ctx *ctx,
    const conv_geometry *g, const float *bias);

/* conv_sum.c: input 3 of a Conv that absorbed an Add (NULL when absent), the
 * output shape with it, whether it has the conv's own shape (then the SGEMM
 * epilogue adds it), and Y = act (C + S) with numpy broadcasting (C may be
 * Y itself when the shapes agree). */
const ir_tensor *conv_sum_input (const ir_node *node, ir_tensor *const *in);
int conv_sum_output_shape (const conv_geometry *g, int conv_rank, const ir_tensor *sum,
    int *rank, int64_t *dims, imgrec_error *err);
bool conv_sum_same_shape (const conv_geometry *g, int conv_rank, const ir_tensor *sum);
void conv_sum_apply (ir_thread_pool *pool, const ir_activation *act, const float *c,
    int c_rank, const int64_t *c_dims, const ir_tensor *sum, float *y, int rank,
    const int64_t *dims);

/* Depthwise k x k (k = 3, 5, 7), dilation 1, on one plane (conv_dw3x3_avx2.c,
 * conv_dw3x3_avx512.c): out = act (bias + sum of w * in), the
 * activation in registers when it is Relu / Clip / LeakyRelu (act, lo, hi,
 * alpha as ir_sgemm_tile_epilogue), else IR_SGEMM_ACT_NONE and the caller
 * applies it.  stride 1: out_h = in_h, out_w = in_w, pads (k - 1) / 2
 * ("same"); stride 2: any pads and sizes consistent with them. */
typedef struct conv_dw3x3_args {
  const float *in, *w;     /* w: k x k, row-major */
  float *out;
  float bias;
  int64_t k;
  int64_t in_h, in_w, out_h, out_w, stride, pad_h, pad_w;
  int act;
  float lo, hi, alpha;
} conv_dw3x3_args;

typedef void (*conv_dw3x3_fn) (const conv_dw3x3_args *a);
void conv_dw3x3_avx2 (const conv_dw3x3_args *a);
void conv_dw3x3_avx512 (const conv_dw3x3_args *a);
/* The kernel of an ISA for this geometry, or NULL (shape not covered, or no
 * such kernel on this machine); a reference for tests too. */
conv_dw3x3_fn conv_dw3x3_kernel_for (ir_isa isa, const conv_geometry *g);
void conv_dw3x3_reference (const conv_dw3x3_args *a);

/* The runs of one im2col strip along output rows (conv_gemm.c): run q is
 * len[q] columns from at[q], output row oh[q] from column ow[q]; width
 * columns in all. */
typedef struct conv_im2col_runs {
  int runs, width;
  int64_t at[IR_SGEMM_MAX_NR], len[IR_SGEMM_MAX_NR], oh[IR_SGEMM_MAX_NR], ow[IR_SGEMM_MAX_NR];
} conv_im2col_runs;

typedef struct conv_im2col_pack conv_im2col_pack;

/* B rows [k0, k0 + kc) of such a strip ([kk][nr], columns past width zero),
 * zeros where the kernel reads padding; W strides 1 and 2.  AVX-512's read
 * the image itself (masked loads: no lane outside it is read,
 * conv_im2col_avx512.c), AVX2's the zero-padded copy (conv_im2col_avx2.c). */
typedef void (*conv_im2col_rows_fn) (const conv_im2col_pack *t, const conv_im2col_runs *r,
    int64_t k0, int64_t kc, int nr, float *dst);
void conv_im2col_rows_avx512 (const conv_im2col_pack *t, const conv_im2col_runs *r,
    int64_t k0, int64_t kc, int nr, float *dst);
void conv_im2col_rows_avx2 (const conv_im2col_pack *t, const conv_im2col_runs *r,
    int64_t k0, int64_t kc, int nr, float *dst);

/* im2col while packing (1-D and 2-D): B's row kk is (channel, kernel row,
 * kernel column), its column j an output position. */
struct conv_im2col_pack {
  const float *x;          /* first channel of the group's image */
  int64_t image_size, in_h, in_w, out_w, k_h, k_w;
  int64_t stride_h, stride_w, dil_h, dil_w, pad_h, pad_w;
  /* The image zero-padded (conv_im2col_padded_floats), or NULL: each B row
   * of a strip is then one gather through the strip's column offsets (plain
   * C) or plain-load runs (AVX2), with no bounds or zero fills (those cost
   * ~1 ns a float on 7- and 14-wide rows: 12 % of a ResNet-18 run). */
  const float *xpad;
  int64_t pad_rows, pad_cols;
  conv_im2col_rows_fn rows;   /* the SIMD rows (AVX2's only with xpad), or NULL */
};

/* conv_depthwise.c */
void conv_run_depthwise (const ir_node *node, const op_run_ctx *ctx,
    const conv_geometry *g, const float *bias);
const char *conv_depthwise_isa (const conv_geometry *g);
size_t conv_depthwise_scratch_bytes (const conv_geometry *g, int threads);

/* conv_winograd.c: U[p][m][c] (raw), the packed floats of one point, and
 * raw then packed U of every point (raw: POINTS x M x C scratch floats). */
void conv_winograd_transform_weights (const float *w, int64_t out_channels,
    int64_t in_channels, float *u);
size_t conv_winograd_point_floats (const ir_sgemm_kernel *kern, int64_t out_channels,
    int64_t in_channels);
void conv_winograd_pack_weights (const ir_sgemm_kernel *kern, const float *w,
    int64_t out_channels, int64_t in_channels, float *raw, float *packed);
void conv_run_winograd (const ir_node *node, const op_run_ctx *ctx,
    const conv_geometry *g, const float *bias);

/* conv_transpose.c */
int conv_transpose_prepare (ir_node *node, const ir_tensor *w, imgrec_error *err);
size_t conv_transpose_scratch_bytes (const ir_node *node, const conv_geometry *g, int threads);
void conv_run_transpose_gemm (const ir_node *node, const op_run_ctx *ctx,
    const conv_geometry *g, const float *bias);

/* conv_int8.c */
int conv_integer_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx);
int conv_integer_run (const ir_node *node, const op_run_ctx *ctx);

#endif
