/* Winograd F(2x2, 3x3) for 2-D 3x3 stride-1 convs with deep inputs: input
 * and output transforms per ISA, 16 GEMMs of [M, C] x [C, tiles]. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "conv_internal.h"
#include "cpu.h"

/* ------------------------------------------------------------------ Winograd */

/* U = G g G^T for every (m, c), G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]. */
void
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

/* The 16 point GEMMs, split over our pool (OpenBLAS runs single-threaded
 * inside each: one pool on the cores, never two). */
typedef struct conv_winograd_gemm_task {
  const float *u;
  const conv_winograd_task *t;
  int64_t cin, cout, tiles;
} conv_winograd_gemm_task;

static void
conv_winograd_gemm_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const conv_winograd_gemm_task *g = arg;
  for (int64_t k = begin; k < end; k++)
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) g->cout, (int) g->tiles,
        (int) g->cin, 1.0f, g->u + k * g->cout * g->cin, (int) g->cin,
        g->t->v + k * g->cin * g->tiles, (int) g->tiles, 0.0f,
        g->t->prod + k * g->cout * g->tiles, (int) g->tiles);
}

void
conv_run_winograd (const ir_node *node, const op_run_ctx *ctx, const conv_geometry *g,
    const float *bias)
{
  const conv_lowering *l = &g->low;
  const conv_winograd_pack *pack = node->packed;
  if (pack != NULL && pack->kind != CONV_PACK_WINOGRAD)
    pack = NULL;
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
  if (ir_cpu ()->isa >= IR_ISA_AVX512) {
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
      conv_winograd_gemm_task gt = { u, &t, cin, cout, tiles };
      ir_parallel_for (ctx->pool, CONV_WINOGRAD_POINTS, 1, conv_winograd_gemm_range, &gt);
      ir_parallel_for (ctx->pool, cout, conv_grain (16 * tiles), output_fn, &t);
    }
  }
}

