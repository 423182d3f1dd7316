/* Winograd F(4x4, 3x3) for 2-D 3x3 stride-1 convs on our packed SGEMM.
 *
 * A 6x6 input tile d gives a 4x4 output tile A^T [(G g G^T) .* (B^T d B)] A:
 * 36 multiplies per 16 outputs instead of 144.  Per chunk of tile rows:
 *
 *   V[p][c][tile] = (B^T d B)[p]    input transform, per input channel
 *   P[p] = U[p] · V[p]              36 GEMMs [M x C] x [C x tiles], U[p] packed
 *                                   once at load in the SGEMM's panel order,
 *                                   split over the pool a GEMM at a time
 *   Y = A^T P A + bias, activation  output transform, per output channel
 *
 * The matrices (Lavin & Gray; the points 0, +-1, +-2 as in ncnn and NNPACK):
 *   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0;
 *          0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 *   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6;
 *          1/24 -1/12 1/6; 0 0 1]
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
 * F(4x4) rounds about ten times worse than direct convolution (terms up to
 * 8 x 5); test_conv_random.py and the ORT comparison bound it. */
/* The transforms' short copy loops (a 64-float tile row, a 16-float point
 * row) must stay loops: GCC's loop-to-memcpy rewrite made them libc calls,
 * 8-15 % of a 55x55 Winograd conv. */
#pragma GCC optimize ("no-tree-loop-distribute-patterns")

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conv_internal.h"
#include "cpu.h"

/* ---------------------------------------------------------------- weights */

/* U[p][m][c] = (G g G^T)[p] for every (m, c). */
void
conv_winograd_transform_weights (const float *w, int64_t out_channels,
    int64_t in_channels, float *u)
{
  const int64_t plane = out_channels * in_channels;
  for (int64_t mc = 0; mc < plane; mc++) {
    const float *k = w + mc * 9;
    double t[6][3];   /* G g: rows of the kernel's columns */
    for (int j = 0; j < 3; j++) {
      const double g0 = k[j], g1 = k[3 + j], g2 = k[6 + j];
      t[0][j] = g0 / 4;
      t[1][j] = -(g0 + g1 + g2) / 6;
      t[2][j] = -(g0 - g1 + g2) / 6;
      t[3][j] = g0 / 24 + g1 / 12 + g2 / 6;
      t[4][j] = g0 / 24 - g1 / 12 + g2 / 6;
      t[5][j] = g2;
    }
    for (int i = 0; i < 6; i++) {
      const double g0 = t[i][0], g1 = t[i][1], g2 = t[i][2];
      const double row[6] = {
        g0 / 4, -(g0 + g1 + g2) / 6, -(g0 - g1 + g2) / 6,
        g0 / 24 + g1 / 12 + g2 / 6, g0 / 24 - g1 / 12 + g2 / 6, g2,
      };
      for (int j = 0; j < 6; j++)
        u[(i * 6 + j) * plane + mc] = (float) row[j];
    }
  }
}

size_t
conv_winograd_point_floats (const ir_sgemm_kernel *kern, int64_t out_channels,
    int64_t in_channels)
{
  return (ir_sgemm_packed_a_floats (kern, out_channels, in_channels) + 15) & ~(size_t) 15;
}

/* U transformed into `raw` ([p][m][c]), then each point packed for kern. */
void
conv_winograd_pack_weights (const ir_sgemm_kernel *kern, const float *w,
    int64_t out_channels, int64_t in_channels, float *raw, float *packed)
{
  conv_winograd_transform_weights (w, out_channels, in_channels, raw);
  const size_t point = conv_winograd_point_floats (kern, out_channels, in_channels);
  for (int p = 0; p < CONV_WINOGRAD_POINTS; p++)
    ir_sgemm_pack_a (kern, raw + (size_t) p * (size_t) (out_channels * in_channels),
        in_channels, 1, out_channels, in_channels, packed + (size_t) p * point);
}

/* ------------------------------------------------------------ transforms */

typedef struct conv_winograd_task {
  const conv_geometry *g;
  const float *x;          /* first channel of the image */
  float *v;                /* V[point][c][tile] */
  float *prod;             /* P[point][m][tile] */
  float *y;                /* first channel of the output image */
  const float *bias;
  const ir_activation *act;
  int64_t row_begin, row_end, tiles;   /* tile rows of this chunk, tiles in it */
  int64_t ld;              /* floats per (point, channel) row: tiles + CONV_WINOGRAD_SLACK */
} conv_winograd_task;

/* Tiles transformed together: every step below is a loop over the lanes of
 * a group (structure of arrays), which the compiler turns into vector code
 * for the ISA each wrapper is built for; tile by tile, the transforms took
 * 70% of a 64-channel 56x56 conv. */
/* Input columns a group of tiles reads: 4 per tile, 2 more for the last. */
#define WINO_GROUP_COLS (4 * WINO_LANES + 2)

/* V = B^T d B of the chunk's tiles for input channels [begin, end). */
static inline __attribute__ ((always_inline)) void
conv_winograd_input_body (const conv_winograd_task *t, int64_t begin, int64_t end)
{
  const conv_lowering *l = &t->g->low;
  const int64_t in_h = l->image[0], in_w = l->image[1];
  const int64_t tiles_w = t->g->tile_inner, pad_h = l->pad[0], pad_w = l->pad[1];
  const int64_t point_stride = t->g->in_channels * t->ld;
  for (int64_t c = begin; c < end; c++) {
    const float *xc = t->x + c * l->image_size;
    float *vc = t->v + c * t->ld;
    for (int64_t ty = t->row_begin; ty < t->row_end; ty++) {
      const int64_t iy = 4 * ty - pad_h;
      for (int64_t tx0 = 0; tx0 < tiles_w; tx0 += WINO_LANES) {
        /* The group's six input rows, zero outside the image. */
        float rows[6][WINO_GROUP_COLS];
        const int64_t ix = 4 * tx0 - pad_w;
        int64_t lo = -ix, hi = in_w - ix;   /* columns inside the image */
        lo = lo < 0 ? 0 : lo > WINO_GROUP_COLS ? WINO_GROUP_COLS : lo;
        hi = hi < lo ? lo : hi > WINO_GROUP_COLS ? WINO_GROUP_COLS : hi;
        for (int r = 0; r < 6; r++) {
          float *dst = rows[r];
          const int64_t yy = iy + r;
          if (yy < 0 || yy >= in_h) {
            memset (dst, 0, sizeof rows[r]);
            continue;
          }
          const float *src = xc + yy * in_w + ix;
          /* Loops, not memcpy: a libc call per row of 66 floats was 5 %
           * of the sign detector's run. */
          for (int64_t q = 0; q < lo; q++)
            dst[q] = 0.0f;
          for (int64_t q = lo; q < hi; q++)
            dst[q] = src[q];
          for (int64_t q = hi; q < WINO_GROUP_COLS; q++)
            dst[q] = 0.0f;
        }
        /* d[r][q][lane] = rows[r][4 lane + q], then h = B^T d per column. */
        float d[6][WINO_LANES], h[36][WINO_LANES];
        for (int q = 0; q < 6; q++) {
          for (int r = 0; r < 6; r++)
            for (int k = 0; k < WINO_LANES; k++)
              d[r][k] = rows[r][4 * k + q];
          for (int k = 0; k < WINO_LANES; k++) {
            const float d0 = d[0][k], d1 = d[1][k], d2 = d[2][k];
            const float d3 = d[3][k], d4 = d[4][k], d5 = d[5][k];
            h[0 * 6 + q][k] = 4.0f * d0 - 5.0f * d2 + d4;
            h[1 * 6 + q][k] = d4 + d3 - 4.0f * (d1 + d2);
            h[2 * 6 + q][k] = d4 - d3 + 4.0f * (d1 - d2);
            h[3 * 6 + q][k] = d4 - d2 + 2.0f * (d3 - d1);
            h[4 * 6 + q][k] = d4 - d2 - 2.0f * (d3 - d1);
            h[5 * 6 + q][k] = 4.0f * d1 - 5.0f * d3 + d5;
          }
        }
        /* V = h B per row; point (i, j) of lane k goes to V[i 6 + j][c][tile].
         * All lanes are stored: past the group's tiles they land on tiles
         * this loop writes next, or in the row's slack. */
        float *out = vc + (ty - t->row_begin) * tiles_w + tx0;
        for (int i = 0; i < 6; i++) {
          const float *h0 = h[i * 6], *h1 = h[i * 6 + 1], *h2 = h[i * 6 + 2];
          const float *h3 = h[i * 6 + 3], *h4 = h[i * 6 + 4], *h5 = h[i * 6 + 5];
          float v[6][WINO_LANES];
          for (int k = 0; k < WINO_LANES; k++) {
            v[0][k] = 4.0f * h0[k] - 5.0f * h2[k] + h4[k];
            v[1][k] = h4[k] + h3[k] - 4.0f * (h1[k] + h2[k]);
            v[2][k] = h4[k] - h3[k] + 4.0f * (h1[k] - h2[k]);
            v[3][k] = h4[k] - h2[k] + 2.0f * (h3[k] - h1[k]);
            v[4][k] = h4[k] - h2[k] - 2.0f * (h3[k] - h1[k]);
            v[5][k] = 4.0f * h1[k] - 5.0f * h3[k] + h5[k];
          }
          for (int j = 0; j < 6; j++) {
            float *restrict o = out + (i * 6 + j) * point_stride;
            for (int k = 0; k < WINO_LANES; k++)
              o[k] = v[j][k];
          }
        }
      }
    }
  }
}

/* Y = A^T P A + bias for output channels [begin, end), a group of tiles at
 * a time, then the activation over the output rows this chunk produced. */
static inline __attribute__ ((always_inline)) void
conv_winograd_output_body (const conv_winograd_task *t, int64_t begin, int64_t end)
{
  const conv_lowering *l = &t->g->low;
  const int64_t out_h = l->grid[0], out_w = l->grid[1], tiles_w = t->g->tile_inner;
  const int64_t point_stride = t->g->out_channels * t->ld;
  for (int64_t m = begin; m < end; m++) {
    float *ym = t->y + m * l->grid_size;
    const float b = t->bias != NULL ? t->bias[m] : 0.0f;
    const float *pm = t->prod + m * t->ld;
    for (int64_t ty = t->row_begin; ty < t->row_end; ty++) {
      const int64_t rows = out_h - 4 * ty < 4 ? out_h - 4 * ty : 4;
      for (int64_t tx0 = 0; tx0 < tiles_w; tx0 += WINO_LANES) {
        const float *src = pm + (ty - t->row_begin) * tiles_w + tx0;
        /* h = A^T m per column q (4 x 6 per lane). */
        float h[24][WINO_LANES];
        for (int q = 0; q < 6; q++) {
          /* Lanes past the group's tiles read other tiles or the row's
           * slack; their results are never stored. */
          float mm[6][WINO_LANES];
          for (int r = 0; r < 6; r++) {
            const float *restrict from = src + (r * 6 + q) * point_stride;
            for (int k = 0; k < WINO_LANES; k++)
              mm[r][k] = from[k];
          }
          for (int k = 0; k < WINO_LANES; k++) {
            const float a = mm[1][k] + mm[2][k], bb = mm[1][k] - mm[2][k];
            const float cc = mm[3][k] + mm[4][k], e = mm[3][k] - mm[4][k];
            h[0 * 6 + q][k] = mm[0][k] + a + cc;
            h[1 * 6 + q][k] = bb + 2.0f * e;
            h[2 * 6 + q][k] = a + 4.0f * cc;
            h[3 * 6 + q][k] = bb + 8.0f * e + mm[5][k];
          }
        }
        /* Y = h A per row, + bias, into a row of the group's outputs. */
        const int64_t cols = out_w - 4 * tx0 < 4 * WINO_LANES ? out_w - 4 * tx0 : 4 * WINO_LANES;
        for (int i = 0; i < rows; i++) {
          const float *h0 = h[i * 6], *h1 = h[i * 6 + 1], *h2 = h[i * 6 + 2];
          const float *h3 = h[i * 6 + 3], *h4 = h[i * 6 + 4], *h5 = h[i * 6 + 5];
          float line[4 * WINO_LANES];
          for (int k = 0; k < WINO_LANES; k++) {
            const float a = h1[k] + h2[k], bb = h1[k] - h2[k];
            const float cc = h3[k] + h4[k], e = h3[k] - h4[k];
            line[4 * k] = h0[k] + a + cc + b;
            line[4 * k + 1] = bb + 2.0f * e + b;
            line[4 * k + 2] = a + 4.0f * cc + b;
            line[4 * k + 3] = bb + 8.0f * e + h5[k] + b;
          }
          float *restrict dst = ym + (4 * ty + i) * out_w + 4 * tx0;
          for (int64_t q = 0; q < cols; q++)
            dst[q] = line[q];
        }
      }
    }
    if (t->act->kind != IR_ACT_NONE) {
      const int64_t row0 = 4 * t->row_begin;
      const int64_t row1 = 4 * t->row_end < out_h ? 4 * t->row_end : out_h;
      ir_activation_apply (t->act, ym + row0 * out_w, (row1 - row0) * out_w);
    }
  }
}

static void
conv_winograd_input_generic (void *arg, int64_t begin, int64_t end, int thread_index)
{
  (void) thread_index;
  conv_winograd_input_body (arg, begin, end);
}

static void
conv_winograd_output_generic (void *arg, int64_t begin, int64_t end, int thread_index)
{
  (void) thread_index;
  conv_winograd_output_body (arg, begin, end);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__ ((target ("avx2,fma"))) static void
conv_winograd_input_avx2 (void *arg, int64_t begin, int64_t end, int thread_index)
{
  (void) thread_index;
  conv_winograd_input_body (arg, begin, end);
}

__attribute__ ((target ("avx2,fma"))) static void
conv_winograd_output_avx2 (void *arg, int64_t begin, int64_t end, int thread_index)
{
  (void) thread_index;
  conv_winograd_output_body (arg, begin, end);
}

__attribute__ ((target ("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))) static void
conv_winograd_input_avx512 (void *arg, int64_t begin, int64_t end, int thread_index)
{
  (void) thread_index;
  conv_winograd_input_body (arg, begin, end);
}

__attribute__ ((target ("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))) static void
conv_winograd_output_avx512 (void *arg, int64_t begin, int64_t end, int thread_index)
{
  (void) thread_index;
  conv_winograd_output_body (arg, begin, end);
}
#endif

/* ------------------------------------------------------------------- run */

/* The 36 point GEMMs in one parallel region, a whole GEMM per work item
 * (one region per point cost a wake-up each: 72 per 56x56 conv, and on a
 * loaded machine each waits for the other thread's time slice). */
typedef struct conv_winograd_gemm_task {
  const ir_sgemm_kernel *kern;
  const conv_winograd_task *t;
  const float *u;
  size_t point;              /* packed floats per point */
  uint8_t *scratch;          /* SGEMM strips, per_thread bytes per thread */
  size_t per_thread;
  int64_t cin, cout;
} conv_winograd_gemm_task;

static void
conv_winograd_gemm_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const conv_winograd_gemm_task *g = arg;
  const conv_winograd_task *t = g->t;
  for (int64_t p = begin; p < end; p++) {
    ir_sgemm_args args = {
      .m = g->cout, .n = t->tiles, .k = g->cin, .a_packed = g->u + (size_t) p * g->point,
      .b = t->v + p * g->cin * t->ld, .b_rs = t->ld, .b_cs = 1,
      .c = t->prod + p * g->cout * t->ld, .ldc = t->ld,
    };
    ir_sgemm (g->kern, &args, NULL, g->scratch + (size_t) thread_index * g->per_thread);
  }
}

void
conv_run_winograd (const ir_node *node, const op_run_ctx *ctx, const conv_geometry *g,
    const float *bias)
{
  const conv_lowering *l = &g->low;
  const conv_winograd_pack *pack = node->packed;
  const int64_t cin = g->in_channels, cout = g->out_channels;
  if (pack != NULL && (pack->kind != CONV_PACK_WINOGRAD || pack->in_channels != cin
          || pack->out_channels != cout))
    pack = NULL;
  const ir_sgemm_kernel *kern = pack != NULL ? pack->kern : ir_sgemm_kernel_default ();
  uint8_t *scratch = ctx->scratch;
  uint8_t *sgemm_scratch = scratch;   /* ir_sgemm_scratch_bytes (kern, 1) per thread */
  scratch += (ir_sgemm_scratch_bytes (kern, ir_pool_threads (ctx->pool)) + 63) & ~(size_t) 63;
  const size_t point = conv_winograd_point_floats (kern, cout, cin);
  const float *u;
  if (pack != NULL) {
    u = pack->u;
  } else {
    float *packed = (float *) scratch, *raw = packed + CONV_WINOGRAD_POINTS * point;
    conv_winograd_pack_weights (kern, ir_f32 (ctx->in[1]), cout, cin, raw, packed);
    u = packed;
    scratch += g->weight_bytes;
  }
  float *buffers = (float *) scratch;
  ir_parallel_fn input_fn = conv_winograd_input_generic;
  ir_parallel_fn output_fn = conv_winograd_output_generic;
#if defined(__x86_64__) || defined(__i386__)
  if (kern->isa == IR_ISA_AVX512) {
    input_fn = conv_winograd_input_avx512;
    output_fn = conv_winograd_output_avx512;
  } else if (kern->isa == IR_ISA_AVX2) {
    input_fn = conv_winograd_input_avx2;
    output_fn = conv_winograd_output_avx2;
  }
#endif
  const int64_t tiles_h = (l->grid[0] + 3) / 4, tiles_w = g->tile_inner;
  for (int64_t n = 0; n < g->batch; n++) {
    for (int64_t row = 0; row < tiles_h; row += g->tile_rows) {
      const int64_t row_end = row + g->tile_rows < tiles_h ? row + g->tile_rows : tiles_h;
      const int64_t tiles = (row_end - row) * tiles_w, ld = tiles + CONV_WINOGRAD_SLACK;
      conv_winograd_task t = {
        .g = g, .x = ir_f32 (ctx->in[0]) + n * cin * l->image_size,
        .v = buffers, .prod = buffers + CONV_WINOGRAD_POINTS * cin * ld, .ld = ld,
        .y = ir_f32 (ctx->out[0]) + n * cout * l->grid_size,
        .bias = bias, .act = &node->fused,
        .row_begin = row, .row_end = row_end, .tiles = tiles,
      };
      ir_parallel_for (ctx->pool, cin, conv_grain (36 * tiles), input_fn, &t);
      conv_winograd_gemm_task gt = {
        .kern = kern, .t = &t, .u = u, .point = point, .scratch = sgemm_scratch,
        .per_thread = ir_sgemm_scratch_bytes (kern, 1), .cin = cin, .cout = cout,
      };
      ir_parallel_for (ctx->pool, CONV_WINOGRAD_POINTS, 1, conv_winograd_gemm_range, &gt);
      ir_parallel_for (ctx->pool, cout, conv_grain (36 * tiles), output_fn, &t);
    }
  }
}
