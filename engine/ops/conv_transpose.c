/* ConvTranspose: col = W^T · X per group (OpenBLAS, split over our pool),
 * then col2im adds the columns into Y, which starts as the bias. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "conv_internal.h"
#include "cpu.h"

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

void
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
        ir_blas_sgemm_parallel (ctx->pool, true, false, mg, in_positions, cg, 1.0f, wg,
            rows, xg, in_positions, 0.0f, yg, out_positions);
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
        ir_blas_sgemm_parallel (ctx->pool, true, false, rows, tile, cg, 1.0f, wg, rows,
            xg + row * g->tile_inner, in_positions, 0.0f, col, tile);
        conv_lower_task t = { l, yg, col, row, row_end, tile };
        ir_parallel_for (ctx->pool, mg, conv_grain (tile * l->kernel_size),
            conv_col2im_range, &t);
      }
      conv_epilogue (ctx, &node->fused, yg, NULL, false, mg, out_positions,
          out_positions);
    }
  }
}

