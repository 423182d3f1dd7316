/* Direct convolution for few output channels (see conv_direct_avx512.c for the tile).
 *
 * Applies to 2-D float Conv with group 1, dilation 1, W stride 2, 17 to
 * CONV_DIRECT_MAX_CHANNELS output channels and enough K per channel vector (conv_direct_fits
 * says what was measured), that would otherwise take im2col, when the CPU runs AVX-512 (AVX2
 * and ref keep im2col); IMGREC_CONV_DIRECT=0 turns it off (A/B runs).
 *
 * The weights are laid out per run for the tile, all output channels innermost (16 to 64
 * lanes, so that each input broadcast feeds every channel): from the SGEMM panels packed at
 * load, so the ONNX copy stays freed (K x M floats: a few microseconds against the conv).
 * Work items are (image, output row); each row is cut into tiles of 24, 12, 8 or 6
 * positions (16, 32, 48, 64 channels), a short last tile moved left over its neighbour.  A
 * tile whose window stays inside the image reads it in place; one on the left or right
 * border reads a zero-bordered copy of its window (masked loads) in the thread's scratch.
 * Rows of the window above or below the image are skipped. */
#include <stdlib.h>
#include <string.h>

#include "conv_internal.h"

#define CONV_DIRECT_MAX_CHANNELS 64
/* Largest weights: every tile reads them all, from L1 or L2 (the detector's
 * 48 -> 64-channel stride-2 conv, 108 KB of them, took 0.56 ms against
 * im2col's 0.49; its 32 -> 48, 54 KB, 0.83 against 1.06). */
#define CONV_DIRECT_WEIGHT_BYTES ((size_t) 64 << 10)
/* Largest zero-bordered window copy per thread (channels x kernel rows x span). */
#define CONV_DIRECT_WINDOW_BYTES ((size_t) 256 << 10)

static int64_t
direct_span (const conv_lowering *l)
{
  /* at most 24 positions (16 channels) */
  return (CONV_DIRECT_MAX_POSITIONS - 1) * l->stride[1] + l->kernel[1];
}

static size_t
direct_window_floats (const conv_geometry *g)
{
  const conv_lowering *l = &g->low;
  return (size_t) (g->in_channels * l->kernel[0] * direct_span (l));
}

static size_t direct_weight_floats (const conv_geometry *g);

static bool
direct_enabled (void)
{
  static int enabled = -1;
  if (enabled < 0) {
    const char *v = getenv ("IMGREC_CONV_DIRECT");
    enabled = v == NULL || strcmp (v, "0") != 0;
  }
  return enabled;
}

bool
conv_direct_fits (const conv_params *p, const conv_geometry *g)
{
#ifdef IMGREC_HAVE_X86_KERNELS
  const conv_lowering *l = &g->low;
  if (!direct_enabled () || ir_cpu ()->isa < IR_ISA_AVX512 || p->transpose
      || p->arith != CONV_ARITH_FLOAT || l->n_spatial != 2 || g->group != 1
      || g->out_channels < 1 || g->out_channels > CONV_DIRECT_MAX_CHANNELS
      || l->dilation[0] != 1 || l->dilation[1] != 1 || l->stride[1] != 2
      || l->grid[0] < 1 || l->grid[1] < 1)
    return false;
  /* Where it pays, measured against im2col (1 thread): with W stride 1,
   * whose im2col needs no permutes, it did not (16 -> 16 channels at 64x64:
   * 0.17-0.20 ms against 0.14-0.20); 16 channels are one vector, a broadcast
   * per FMA, load-bound (3 -> 16 at 384x640: 1.07 against 1.00); and the
   * in-register transposes, V^2 x 64 shuffles per 24 positions of V vectors,
   * must stay small beside the K x V FMAs (3 -> 64, K = 27: 0.60-0.76
   * against 0.44; K = 147, 7x7: 1.69 against 1.87; 3 -> 32, K = 27: 0.26
   * against 0.28; 16 -> 32, K = 144: 1.36 against 1.64; 32 -> 48, K = 288:
   * 0.85 against 1.04).  3 -> 32 with K = 27, a near tie on that Xeon, lost
   * on a Zen 4 EPYC (MobileNetV2's stem: 0.46-0.49 ms against 0.38; the
   * ResNet stem, K = 147, still won there, 2.44 against 2.55-2.70). */
  const int64_t v = (g->out_channels + 15) / 16, k = g->in_channels * l->kernel_size;
  if (v < 2 || k < 15 * v)
    return false;
  return direct_window_floats (g) * sizeof (float) <= CONV_DIRECT_WINDOW_BYTES
      && direct_weight_floats (g) * sizeof (float) <= CONV_DIRECT_WEIGHT_BYTES;
#else
  (void) p;
  (void) g;
  return false;
#endif
}

/* One block of all the channels, in 16-lane vectors: an input broadcast
 * feeds every channel. */
static int
direct_lanes (int64_t m)
{
  return (int) ((m + 15) / 16 * 16);
}

static int
direct_positions (int lanes)
{
  return CONV_DIRECT_MAX_POSITIONS / (lanes / 16);
}

static size_t
direct_weight_floats (const conv_geometry *g)
{
  return (size_t) (direct_lanes (g->out_channels) * g->in_channels * g->low.kernel_size);
}

size_t
conv_direct_scratch_bytes (const conv_geometry *g, int threads)
{
  const size_t w = (direct_weight_floats (g) * sizeof (float) + 63) & ~(size_t) 63;
  const size_t win = (direct_window_floats (g) * sizeof (float) + 63) & ~(size_t) 63;
  return w + (size_t) (threads > 0 ? threads : 1) * win;
}

/* W[oc][k] from the SGEMM panels of the load-time pack, or from W. */
static float
direct_weight (const conv_pack *pack, const float *w, int64_t k_total, int64_t oc, int64_t k)
{
  if (pack == NULL)
    return w[oc * k_total + k];
  const int mr = pack->kern->mr;
  const int64_t m_pad = (pack->out_channels + mr - 1) / mr * mr;
  const int64_t k0 = k / IR_SGEMM_KC * IR_SGEMM_KC;
  const int64_t kc = k_total - k0 < IR_SGEMM_KC ? k_total - k0 : IR_SGEMM_KC;
  return pack->a[k0 * m_pad + (oc / mr) * mr * kc + (k - k0) * mr + oc % mr];
}

typedef struct direct_task {
  const conv_geometry *g;
  const float *x, *w, *bias;
  float *y;
  uint8_t *windows;            /* per thread */
  size_t window_stride;
  const ir_activation *act;
  int reg_act;                 /* IR_SGEMM_ACT_* applied in the tile, or NONE */
  bool act_after;
  float lo, hi, alpha;
} direct_task;

static void
direct_rows (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const direct_task *t = arg;
  const conv_geometry *g = t->g;
  const conv_lowering *l = &g->low;
  const int64_t oh_n = l->grid[0], ow_n = l->grid[1], in_h = l->image[0], in_w = l->image[1];
  const int64_t kh_n = l->kernel[0], kw_n = l->kernel[1], s_h = l->stride[0];
  const int s_w = (int) l->stride[1];
  const int64_t c_n = g->in_channels, m = g->out_channels;
  const int64_t plane = l->grid_size;
  float *window = (float *) (t->windows + (size_t) thread_index * t->window_stride);
  const int lanes = direct_lanes (m), positions = direct_positions (lanes);
  const int64_t span = (positions - 1) * s_w + kw_n;
  for (int64_t item = begin; item < end; item++) {
    const int64_t oh = item % oh_n, n = item / oh_n;
    const int64_t ih0 = oh * s_h - l->pad[0];
    const int64_t kh0 = ih0 < 0 ? -ih0 : 0;
    const int64_t kh1 = in_h - ih0 < kh_n ? in_h - ih0 : kh_n;
    const float *xn = t->x + n * c_n * l->image_size;
    conv_direct_tile tile = {
      .stride = s_w, .lanes = lanes, .channels = c_n, .kh0 = kh0, .kh1 = kh1,
      .kh_n = kh_n, .kw_n = kw_n, .w = t->w, .w_ld = lanes, .bias = t->bias,
      .y_cs = plane, .nch = (int) m,
      .act = t->reg_act, .lo = t->lo, .hi = t->hi, .alpha = t->alpha,
    };
    float *y_row = t->y + n * m * plane + oh * ow_n;
    for (int64_t ow0 = 0; ow0 < ow_n; ow0 += positions) {
      /* a short last tile moves left over its neighbour (same values twice)
       * to stay a full one, inside the image where the row allows */
      const int64_t at = ow0 + positions > ow_n && ow_n >= positions ? ow_n - positions : ow0;
      const int npos = ow_n - at < positions ? (int) (ow_n - at) : positions;
      const int64_t iw0 = at * s_w - l->pad[1];
      tile.npos = npos;
      tile.y = y_row + at;
      if (kh1 <= kh0) {
        /* every kernel row in the padding: the bias alone */
        for (int j = 0; j < tile.nch; j++)
          for (int p = 0; p < npos; p++)
            tile.y[j * plane + p] = t->bias != NULL ? t->bias[j] : 0.0f;
      } else if (iw0 >= 0 && iw0 + span <= in_w) {
        tile.x = xn + (ih0 + kh0) * in_w + iw0;
        tile.cs = l->image_size;
        tile.rs = in_w;
        conv_direct_tile_avx512 (&tile);
      } else {
        /* the window with zeros outside the image */
        const int64_t rows = kh1 - kh0;
        for (int64_t c = 0; c < c_n; c++)
          for (int64_t r = 0; r < rows; r++)
            conv_direct_window_row_avx512 (xn + c * l->image_size + (ih0 + kh0 + r) * in_w,
                iw0, in_w, span, window + (c * rows + r) * span);
        tile.x = window;
        tile.cs = rows * span;
        tile.rs = span;
        conv_direct_tile_avx512 (&tile);
      }
      if (t->act_after || (kh1 <= kh0 && t->act != NULL))
        for (int j = 0; j < tile.nch; j++)
          ir_activation_apply (t->act, tile.y + j * plane, npos);
    }
  }
}

void
conv_run_direct (const ir_node *node, const op_run_ctx *ctx, const conv_geometry *g,
    const float *bias)
{
  const conv_lowering *l = &g->low;
  const int64_t m = g->out_channels, k_total = g->in_channels * l->kernel_size;
  const conv_pack *pack = conv_gemm_pack_of (node, g);
  const float *w_onnx = pack != NULL ? NULL : ir_f32 (ctx->in[1]);
  float *w = ctx->scratch;
  /* [k][lanes], channels past M zero */
  const int lanes = direct_lanes (m);
  for (int64_t k = 0; k < k_total; k++)
    for (int j = 0; j < lanes; j++)
      w[k * lanes + j] = j < m ? direct_weight (pack, w_onnx, k_total, j, k) : 0.0f;
  const size_t w_bytes = (direct_weight_floats (g) * sizeof (float) + 63) & ~(size_t) 63;
  direct_task t = {
    .g = g, .x = ir_f32 (ctx->in[0]), .w = w, .bias = bias, .y = ir_f32 (ctx->out[0]),
    .windows = (uint8_t *) ctx->scratch + w_bytes,
    .window_stride = (direct_window_floats (g) * sizeof (float) + 63) & ~(size_t) 63,
    .act = node->fused.kind != IR_ACT_NONE ? &node->fused : NULL,
  };
  t.act_after = !ir_sgemm_register_act (&node->fused, &t.reg_act, &t.lo, &t.hi, &t.alpha);
  const int64_t items = g->batch * l->grid[0];
  ir_parallel_for (ctx->pool, items, 1, direct_rows, &t);
}
