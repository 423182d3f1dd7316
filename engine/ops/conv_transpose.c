/* ConvTranspose: col = W^T · X per group on our packed SGEMM (W^T packed at
 * load when W is constant, else per run), then col2im adds the columns into
 * Y, which starts as the bias; a 1x1 stride-1 ConvTranspose writes Y
 * straight from the SGEMM, bias and activation in its epilogue.  On
 * OpenBLAS 0.3.21, which fell back to its SSE3 kernels on a CPU it does not
 * know, the DCGAN generator took 3.9x ONNX Runtime's time. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

static size_t
round64 (size_t bytes)
{
  return (bytes + 63) & ~(size_t) 63;
}

/* W [C, M/group, k...] of group g as the A operand W_g^T [M/group * k x C/group]. */
static void
pack_group (const ir_sgemm_kernel *kern, const float *w, int64_t rows, int64_t cg, int64_t grp,
    float *dst)
{
  ir_sgemm_pack_a (kern, w + grp * cg * rows, 1, rows, rows, cg, dst);
}

int
conv_transpose_prepare (ir_node *node, const ir_tensor *w, imgrec_error *err)
{
  const conv_params *p = node->params;
  const int64_t group = p->group;
  if (group < 1 || w->dims[0] % group != 0)
    return 0;   /* infer says what is wrong */
  const int64_t cg = w->dims[0] / group, mg = w->dims[1];
  int64_t ks = 1;
  for (int i = 2; i < w->rank; i++)
    ks *= w->dims[i];
  if (ks > (INT64_MAX >> 34) / mg)
    return 0;
  const int64_t rows = mg * ks;
  const ir_sgemm_kernel *kern = ir_sgemm_kernel_default ();
  size_t group_floats = (ir_sgemm_packed_a_floats (kern, rows, cg) + 15) & ~(size_t) 15;
  if (group_floats > (SIZE_MAX / 8) / sizeof (float) / (size_t) group)
    return 0;
  const size_t header = round64 (sizeof (conv_pack));
  void *mem = NULL;
  if (posix_memalign (&mem, 64, header + (size_t) group * group_floats * sizeof (float)) != 0)
    return ir_fail (err, "out of memory for the prepacked ConvTranspose weights");
  conv_pack *pack = mem;
  pack->kind = CONV_PACK_TRANSPOSE;
  pack->kern = kern;
  pack->out_channels = mg * group;
  pack->in_per_group = cg;
  pack->kernel_size = ks;
  pack->group = group;
  pack->group_floats = group_floats;
  pack->a = (float *) ((uint8_t *) mem + header);
  for (int64_t grp = 0; grp < group; grp++)
    pack_group (kern, ir_f32 (w), rows, cg, grp, pack->a + (size_t) grp * group_floats);
  node->packed = pack;
  node->packed_inputs |= 1u << 1;
  return 0;
}

static const conv_pack *
transpose_pack_of (const ir_node *node, const conv_geometry *g)
{
  const conv_pack *pack = node->packed;
  if (pack == NULL || pack->kind != CONV_PACK_TRANSPOSE || pack->out_channels != g->out_channels
      || pack->in_per_group != g->in_per_group || pack->kernel_size != g->low.kernel_size
      || pack->group != g->group)
    return NULL;
  return pack;
}

/* The columns of a row tile (or Y, 1x1), W^T when packed per run, then the
 * SGEMM's own scratch. */
size_t
conv_transpose_scratch_bytes (const ir_node *node, const conv_geometry *g, int threads)
{
  const ir_sgemm_kernel *kern = ir_sgemm_kernel_default ();
  const int64_t rows = g->out_per_group * g->low.kernel_size, cg = g->in_per_group;
  size_t bytes = g->method == CONV_METHOD_GEMM ? round64 (g->scratch_bytes) : 0;
  if (transpose_pack_of (node, g) == NULL)
    bytes += round64 (ir_sgemm_packed_a_floats (kern, rows, cg) * sizeof (float));
  const int64_t n = g->method == CONV_METHOD_GEMM ? g->tile_rows * g->tile_inner
      : g->low.grid_size;
  return bytes + ir_sgemm_scratch_bytes_for (kern, threads, rows, n, cg);
}

void
conv_run_transpose_gemm (const ir_node *node, const op_run_ctx *ctx,
    const conv_geometry *g, const float *bias)
{
  const conv_lowering *l = &g->low;
  const float *x = ir_f32 (ctx->in[0]);
  float *y = ir_f32 (ctx->out[0]);
  const int64_t cg = g->in_per_group, mg = g->out_per_group;
  const int64_t rows = mg * l->kernel_size;   /* column rows per group */
  const int64_t in_positions = l->grid_size, out_positions = l->image_size;
  if (mg == 0 || out_positions == 0)
    return;
  const conv_pack *pack = transpose_pack_of (node, g);
  const ir_sgemm_kernel *kern = pack != NULL ? pack->kern : ir_sgemm_kernel_default ();
  uint8_t *scratch = ctx->scratch;
  float *col = NULL;
  if (g->method == CONV_METHOD_GEMM) {
    col = (float *) scratch;
    scratch += round64 (g->scratch_bytes);
  }
  float *a_run = NULL;
  if (pack == NULL) {
    a_run = (float *) scratch;
    scratch += round64 (ir_sgemm_packed_a_floats (kern, rows, cg) * sizeof (float));
  }
  const size_t sgemm_bytes = ctx->scratch_bytes - (size_t) (scratch - (uint8_t *) ctx->scratch);

  for (int64_t grp = 0; grp < g->group; grp++) {
    const float *a = pack != NULL ? pack->a + (size_t) grp * pack->group_floats : a_run;
    if (pack == NULL)
      pack_group (kern, ir_f32 (ctx->in[1]), rows, cg, grp, a_run);
    for (int64_t n = 0; n < g->batch; n++) {
      const float *xg = x + (n * g->in_channels + grp * cg) * in_positions;
      float *yg = y + (n * g->out_channels + grp * mg) * out_positions;
      const float *bg = bias != NULL ? bias + grp * mg : NULL;
      ir_sgemm_args args = {
        .m = rows, .k = cg, .a_packed = a, .b_cs = 1, .b_rs = in_positions,
        .scratch_bytes = sgemm_bytes,
      };
      if (g->method == CONV_METHOD_POINTWISE) {
        /* 1x1, stride 1: the columns are Y */
        args.n = in_positions;
        args.b = xg;
        args.c = yg;
        args.ldc = out_positions;
        args.bias = bg;
        args.act = &node->fused;
        ir_sgemm (kern, &args, ctx->pool, scratch);
        continue;
      }
      conv_fill_task fill = { yg, bg, out_positions };
      ir_parallel_for (ctx->pool, mg, conv_grain (out_positions), conv_fill_bias_range,
          &fill);
      for (int64_t row = 0; row < l->grid[0]; row += g->tile_rows) {
        const int64_t row_end = row + g->tile_rows < l->grid[0] ? row + g->tile_rows
            : l->grid[0];
        const int64_t tile = (row_end - row) * g->tile_inner;
        args.n = tile;
        args.b = xg + row * g->tile_inner;
        args.c = col;
        args.ldc = tile;
        ir_sgemm (kern, &args, ctx->pool, scratch);
        conv_lower_task t = { l, yg, col, row, row_end, tile };
        ir_parallel_for (ctx->pool, mg, conv_grain (tile * l->kernel_size),
            conv_col2im_range, &t);
      }
      conv_epilogue (ctx, &node->fused, yg, NULL, false, mg, out_positions,
          out_positions);
    }
  }
}
