/* Conv on the packed SGEMM: im2col into column tiles of whole output rows
 * (CONV_COL_BUDGET_BYTES), then one ir_sgemm per tile with bias, the fused
 * residual (input 3, when it has Y's shape) and the fused activation in its
 * epilogue; pointwise convs read X as B directly.
 * Also the lowering both directions share (ConvTranspose uses col2im). */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


#include "conv_internal.h"
#include "cpu.h"

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


/* im2col over column rows [begin, end). */
void
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
void
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
void
conv_epilogue (const op_run_ctx *ctx, const ir_activation *act, float *out,
    const float *bias, bool add_bias, int64_t channels, int64_t channel_stride,
    int64_t length)
{
  if ((!add_bias || bias == NULL) && act->kind == IR_ACT_NONE)
    return;
  conv_epilogue_task t = { out, bias, act, channel_stride, length, add_bias };
  ir_parallel_for (ctx->pool, channels, conv_grain (length), conv_epilogue_range, &t);
}

/* ------------------------------------------------------------------ GEMM runs */

/* The prepacked weights when they fit this geometry, else NULL. */
const conv_pack *
conv_gemm_pack_of (const ir_node *node, const conv_geometry *g)
{
  const conv_pack *pack = node->packed;
  if (pack != NULL && pack->kind == CONV_PACK_WINOGRAD)
    pack = ((const conv_winograd_pack *) node->packed)->gemm;
  if (pack == NULL || pack->kind != CONV_PACK_GEMM || pack->out_channels != g->out_channels
      || pack->in_per_group != g->in_per_group || pack->kernel_size != g->low.kernel_size
      || pack->group != g->group)
    return NULL;
  return pack;
}

static size_t
conv_round64 (size_t bytes)
{
  return (bytes + 63) & ~(size_t) 63;
}

/* im2col while packing (1-D and 2-D): B's row kk is (channel, kernel row,
 * kernel column), its column j an output position; each strip of nr
 * positions is split into runs along output rows, and each run of each row
 * kk is one contiguous read of an input row (stride 1) with zeros where the
 * kernel reads padding.  No column matrix is written. */

/* Floats of the zero-padded copy of one group's image that im2col packs
 * from (2-D and 1-D convs), 0 when the copy would exceed its budget. */
#define CONV_PADDED_BUDGET_FLOATS ((int64_t) 4 << 20)

static void
conv_padded_extent (const conv_lowering *l, int64_t *rows, int64_t *cols)
{
  const int h = l->n_spatial == 2 ? 0 : -1, w = l->n_spatial - 1;
  *rows = h < 0 ? 1 : (l->grid[h] - 1) * l->stride[h] + (l->kernel[h] - 1) * l->dilation[h] + 1;
  *cols = (l->grid[w] - 1) * l->stride[w] + (l->kernel[w] - 1) * l->dilation[w] + 1;
}

/* The AVX2 / AVX-512 rows for W strides 1 and 2 (conv_im2col_avx*.c), or
 * NULL: they read the image itself, with masked loads at its borders. */
static conv_im2col_rows_fn
conv_im2col_simd_rows (int64_t stride_w)
{
#if defined(IMGREC_HAVE_X86_KERNELS)
  if (stride_w == 1 || stride_w == 2) {
    if (ir_cpu ()->isa >= IR_ISA_AVX512)
      return conv_im2col_rows_avx512;
    if (ir_cpu ()->isa >= IR_ISA_AVX2)
      return conv_im2col_rows_avx2;
  }
#else
  (void) stride_w;
#endif
  return NULL;
}

/* Whether the SIMD rows read a zero-padded copy of the image rather than
 * the image with masks at its borders: AVX2's.  On AMD Zen the masks'
 * per-run setup and masked loads made im2col ~1 ns a float on 7- to 14-wide
 * maps; from the padded copy each run is plain loads and partial stores.
 * AVX-512's masks are one instruction each: it reads the image. */
static bool
conv_im2col_simd_padded (int64_t stride_w)
{
#if defined(IMGREC_HAVE_X86_KERNELS)
  return conv_im2col_simd_rows (stride_w) == conv_im2col_rows_avx2;
#else
  (void) stride_w;
  return false;
#endif
}

/* Floats the SIMD rows may read past the padded copy's last needed one
 * (a 16-float load pair at stride 2), zeroed after the copy. */
#define CONV_PADDED_SLACK_FLOATS 16

static int64_t
conv_im2col_padded_floats (const conv_geometry *g)
{
  const conv_lowering *l = &g->low;
  const int64_t sw = l->stride[l->n_spatial - 1];
  if (g->method != CONV_METHOD_GEMM || l->n_spatial > 2 || l->grid_size <= 0
      || (conv_im2col_simd_rows (sw) != NULL && !conv_im2col_simd_padded (sw)))
    return 0;
  for (int i = 0; i < l->n_spatial; i++)
    if (l->pad[i] < 0)
      return 0;
  int64_t rows, cols;
  conv_padded_extent (l, &rows, &cols);
  if (rows <= 0 || cols <= 0 || rows > CONV_PADDED_BUDGET_FLOATS
      || cols > CONV_PADDED_BUDGET_FLOATS / rows)
    return 0;
  const int64_t plane = rows * cols;
  if (plane > INT32_MAX / 4 || g->in_per_group > CONV_PADDED_BUDGET_FLOATS / plane)
    return 0;
  return g->in_per_group * plane + CONV_PADDED_SLACK_FLOATS;
}

typedef struct conv_pad_task {
  const conv_im2col_pack *t;
  float *dst;
} conv_pad_task;

/* Channels [begin, end) of the image into the padded copy. */
static void
conv_pad_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const conv_pad_task *task = arg;
  const conv_im2col_pack *t = task->t;
  (void) thread_index;
  const int64_t plane = t->pad_rows * t->pad_cols;
  for (int64_t c = begin; c < end; c++) {
    float *dst = task->dst + c * plane;
    const float *src = t->x + c * t->image_size;
    for (int64_t r = 0; r < t->pad_rows; r++) {
      float *restrict row = dst + r * t->pad_cols;
      const int64_t ih = r - t->pad_h;
      if (ih < 0 || ih >= t->in_h) {
        memset (row, 0, (size_t) t->pad_cols * sizeof (float));
        continue;
      }
      const int64_t lead = t->pad_w < t->pad_cols ? t->pad_w : t->pad_cols;
      int64_t body = t->pad_cols - lead < t->in_w ? t->pad_cols - lead : t->in_w;
      memset (row, 0, (size_t) lead * sizeof (float));
      memcpy (row + lead, src + ih * t->in_w, (size_t) body * sizeof (float));
      memset (row + lead + body, 0, (size_t) (t->pad_cols - lead - body) * sizeof (float));
    }
  }
}

/* B rows from the padded image: off[j] is column j's (0, 0) tap. */
static void
conv_pack_b_padded (const conv_im2col_pack *t, int nr, int64_t k0, int64_t kc, int64_t n0,
    int64_t n1, float *dst)
{
  const int64_t ks = t->k_h * t->k_w, plane = t->pad_rows * t->pad_cols;
  int32_t off[IR_SGEMM_MAX_NR];
  for (int64_t j0 = n0; j0 < n1; j0 += nr, dst += kc * nr) {
    const int width = (int) (n1 - j0 < nr ? n1 - j0 : nr);
    for (int j = 0; j < width; j++) {
      const int64_t p = j0 + j, oh = p / t->out_w, ow = p % t->out_w;
      off[j] = (int32_t) (oh * t->stride_h * t->pad_cols + ow * t->stride_w);
    }
    int64_t c = k0 / ks, r = k0 % ks, kh = r / t->k_w, kw = r % t->k_w;
    for (int64_t kk = 0; kk < kc; kk++) {
      const float *restrict src = t->xpad + c * plane + kh * t->dil_h * t->pad_cols
          + kw * t->dil_w;
      float *restrict row = dst + kk * nr;
      for (int j = 0; j < width; j++)
        row[j] = src[off[j]];
      for (int j = width; j < nr; j++)
        row[j] = 0.0f;
      if (++kw == t->k_w) {
        kw = 0;
        if (++kh == t->k_h) {
          kh = 0;
          c++;
        }
      }
    }
  }
}

static bool
conv_im2col_pack_init (const conv_lowering *l, const float *x, conv_im2col_pack *t)
{
  if (l->n_spatial > 2)
    return false;
  const int h = l->n_spatial == 2 ? 0 : -1, w = l->n_spatial - 1;
  t->x = x;
  t->image_size = l->image_size;
  t->in_h = h < 0 ? 1 : l->image[h];
  t->k_h = h < 0 ? 1 : l->kernel[h];
  t->stride_h = h < 0 ? 1 : l->stride[h];
  t->dil_h = h < 0 ? 1 : l->dilation[h];
  t->pad_h = h < 0 ? 0 : l->pad[h];
  t->in_w = l->image[w];
  t->out_w = l->grid[w];
  t->k_w = l->kernel[w];
  t->stride_w = l->stride[w];
  t->dil_w = l->dilation[w];
  t->pad_w = l->pad[w];
  t->xpad = NULL;
  t->rows = conv_im2col_simd_rows (t->stride_w);
  conv_padded_extent (l, &t->pad_rows, &t->pad_cols);
  return t->out_w > 0;
}

static void
conv_pack_b_im2col (const void *arg, int nr, int64_t k0, int64_t kc, int64_t n0, int64_t n1,
    float *dst)
{
  const conv_im2col_pack *t = arg;
  if (t->rows != NULL) {
    /* runs along output rows, masked at the image's borders */
    for (int64_t j0 = n0; j0 < n1; j0 += nr, dst += kc * nr) {
      conv_im2col_runs r;
      r.width = (int) (n1 - j0 < nr ? n1 - j0 : nr);
      r.runs = 0;
      for (int64_t at = 0; at < r.width; r.runs++) {
        const int64_t p = j0 + at, oh = p / t->out_w, ow = p % t->out_w;
        const int64_t len = t->out_w - ow < r.width - at ? t->out_w - ow : r.width - at;
        r.at[r.runs] = at;
        r.len[r.runs] = len;
        r.oh[r.runs] = oh;
        r.ow[r.runs] = ow;
        at += len;
      }
      t->rows (t, &r, k0, kc, nr, dst);
    }
    return;
  }
  if (t->xpad != NULL) {
    conv_pack_b_padded (t, nr, k0, kc, n0, n1, dst);
    return;
  }
  const int64_t ks = t->k_h * t->k_w;
  int64_t run_oh[IR_SGEMM_MAX_NR], run_ow[IR_SGEMM_MAX_NR], run_len[IR_SGEMM_MAX_NR];
  int64_t run_at[IR_SGEMM_MAX_NR];
  for (int64_t j0 = n0; j0 < n1; j0 += nr, dst += kc * nr) {
    const int64_t width = n1 - j0 < nr ? n1 - j0 : nr;
    int runs = 0;
    for (int64_t at = 0; at < width; runs++) {
      const int64_t p = j0 + at, ow = p % t->out_w;
      const int64_t len = t->out_w - ow < width - at ? t->out_w - ow : width - at;
      run_oh[runs] = p / t->out_w;
      run_ow[runs] = ow;
      run_len[runs] = len;
      run_at[runs] = at;
      at += len;
    }
    int64_t c = k0 / ks, r = k0 % ks, kh = r / t->k_w, kw = r % t->k_w;
    for (int64_t kk = 0; kk < kc; kk++) {
      float *restrict row = dst + kk * nr;
      const float *xc = t->x + c * t->image_size;
      for (int q = 0; q < runs; q++) {
        float *restrict d = row + run_at[q];
        const int64_t len = run_len[q];
        const int64_t ih = run_oh[q] * t->stride_h + kh * t->dil_h - t->pad_h;
        if (ih < 0 || ih >= t->in_h) {
          for (int64_t i = 0; i < len; i++)
            d[i] = 0.0f;
          continue;
        }
        const float *irow = xc + ih * t->in_w;
        const int64_t iw0 = run_ow[q] * t->stride_w + kw * t->dil_w - t->pad_w;
        int64_t lo, hi;   /* run positions whose input column is inside */
        if (t->stride_w == 1) {   /* no divisions on the common path */
          lo = iw0 < 0 ? -iw0 : 0;
          hi = t->in_w - iw0 < lo ? lo : t->in_w - iw0;
        } else {
          conv_valid_range (iw0, t->stride_w, t->in_w, &lo, &hi);
        }
        if (hi > len)
          hi = len;
        if (lo > hi)
          lo = hi;
        for (int64_t i = 0; i < lo; i++)
          d[i] = 0.0f;
        if (t->stride_w == 1) {
          const float *src = irow + iw0;
          for (int64_t i = lo; i < hi; i++)
            d[i] = src[i];
        } else if (t->stride_w == 2) {   /* constant stride: vectorised gather */
          const float *src = irow + iw0;
          for (int64_t i = lo; i < hi; i++)
            d[i] = src[2 * i];
        } else {
          for (int64_t i = lo; i < hi; i++)
            d[i] = irow[iw0 + i * t->stride_w];
        }
        for (int64_t i = hi; i < len; i++)
          d[i] = 0.0f;
      }
      for (int64_t i = width; i < nr; i++)
        row[i] = 0.0f;
      if (++kw == t->k_w) {
        kw = 0;
        if (++kh == t->k_h) {
          kh = 0;
          c++;
        }
      }
    }
  }
}

/* Column tile (im2col only), SGEMM strips, and the packed weights of one
 * group when they were not packed at load. */
size_t
conv_gemm_scratch_bytes (const ir_node *node, const conv_geometry *g, int threads)
{
  const ir_sgemm_kernel *kern = ir_sgemm_kernel_default ();
  size_t bytes = 0;
  if (g->method == CONV_METHOD_GEMM && g->low.n_spatial > 2)
    bytes += conv_round64 (g->scratch_bytes);   /* column tiles beyond 2-D */
  if (conv_gemm_pack_of (node, g) == NULL)
    bytes += conv_round64 (ir_sgemm_packed_a_floats (kern, g->out_per_group,
        g->in_per_group * g->low.kernel_size) * sizeof (float));
  bytes += conv_round64 ((size_t) conv_im2col_padded_floats (g) * sizeof (float));
  /* Last: the SGEMM's own, with a shared packed B for the whole map (the
   * column tiles beyond 2-D take the per-thread strips only). */
  if (g->method == CONV_METHOD_GEMM && g->low.n_spatial > 2)
    return bytes + ir_sgemm_scratch_bytes (kern, threads);
  return bytes + ir_sgemm_scratch_bytes_for (kern, threads, g->out_per_group,
      g->low.grid_size, g->in_per_group * g->low.kernel_size);
}

/* Y_g = W_g · im2col (X_g), built while packing for 1-D/2-D and through
 * column tiles of whole output rows beyond, or W_g · X_g (pointwise); bias,
 * residual and activation in the SGEMM's epilogue. */
void
conv_run_forward_gemm (const ir_node *node, const op_run_ctx *ctx, const conv_geometry *g,
    const float *bias)
{
  const conv_lowering *l = &g->low;
  const float *x = ir_f32 (ctx->in[0]);
  float *y = ir_f32 (ctx->out[0]);
  const int64_t cg = g->in_per_group, mg = g->out_per_group;
  const int64_t k_total = cg * l->kernel_size, positions = l->grid_size;
  if (mg == 0 || positions == 0)
    return;
  const conv_pack *pack = conv_gemm_pack_of (node, g);
  const ir_sgemm_kernel *kern = pack != NULL ? pack->kern : ir_sgemm_kernel_default ();
  const ir_tensor *sum_t = conv_sum_input (node, ctx->in);
  const float *sum = conv_sum_same_shape (g, ctx->in[0]->rank, sum_t) ? ir_f32 (sum_t) : NULL;
  uint8_t *scratch = ctx->scratch;
  float *col = NULL;
  if (g->method == CONV_METHOD_GEMM && l->n_spatial > 2) {
    col = (float *) scratch;
    scratch += conv_round64 (g->scratch_bytes);
  }
  float *a_run = NULL;
  if (pack == NULL) {
    a_run = (float *) scratch;
    scratch += conv_round64 (ir_sgemm_packed_a_floats (kern, mg, k_total) * sizeof (float));
  }
  float *xpad = NULL;
  const int64_t xpad_floats = conv_im2col_padded_floats (g);
  if (xpad_floats > 0) {
    xpad = (float *) scratch;
    scratch += conv_round64 ((size_t) xpad_floats * sizeof (float));
  }
  void *sgemm_scratch = scratch;   /* the rest (conv_gemm_scratch_bytes) */
  const size_t sgemm_bytes = ctx->scratch_bytes - (size_t) (scratch - (uint8_t *) ctx->scratch);

  for (int64_t grp = 0; grp < g->group; grp++) {
    const float *a = pack != NULL ? pack->a + (size_t) grp * pack->group_floats : a_run;
    if (pack == NULL)
      ir_sgemm_pack_a (kern, ir_f32 (ctx->in[1]) + grp * mg * k_total, k_total, 1, mg,
          k_total, a_run);
    for (int64_t n = 0; n < g->batch; n++) {
      const float *xg = x + (n * g->in_channels + grp * cg) * l->image_size;
      float *yg = y + (n * g->out_channels + grp * mg) * positions;
      const float *sg = sum != NULL ? sum + (n * g->out_channels + grp * mg) * positions
          : NULL;
      ir_sgemm_args args = {
        .m = mg, .k = k_total, .a_packed = a, .b_cs = 1, .ldc = positions,
        .bias = bias != NULL ? bias + grp * mg : NULL, .act = &node->fused,
        .residual = sg, .ldr = positions, .scratch_bytes = sgemm_bytes,
      };
      if (g->method == CONV_METHOD_POINTWISE) {
        args.n = positions;
        args.b = xg;
        args.b_rs = positions;
        args.c = yg;
        ir_sgemm (kern, &args, ctx->pool, sgemm_scratch);
        continue;
      }
      conv_im2col_pack im2col;
      if (col == NULL && conv_im2col_pack_init (l, xg, &im2col)) {
        if (xpad != NULL) {
          conv_pad_task pad = { &im2col, xpad };
          ir_parallel_for (ctx->pool, cg, conv_grain (im2col.pad_rows * im2col.pad_cols),
              conv_pad_range, &pad);
          memset (xpad + cg * im2col.pad_rows * im2col.pad_cols, 0,
              CONV_PADDED_SLACK_FLOATS * sizeof (float));
          im2col.xpad = xpad;
        } else if (conv_im2col_simd_padded (im2col.stride_w)) {
          im2col.rows = NULL;   /* no room for the copy (a huge image): plain C runs */
        }
        args.n = positions;
        args.pack_b = conv_pack_b_im2col;
        args.pack_b_ctx = &im2col;
        args.c = yg;
        ir_sgemm (kern, &args, ctx->pool, sgemm_scratch);
        continue;
      }
      for (int64_t row = 0; row < l->grid[0]; row += g->tile_rows) {
        const int64_t row_end = row + g->tile_rows < l->grid[0] ? row + g->tile_rows
            : l->grid[0];
        const int64_t tile = (row_end - row) * g->tile_inner;
        conv_lower_task t = { l, (float *) xg, col, row, row_end, tile };
        ir_parallel_for (ctx->pool, k_total, conv_grain (tile), conv_im2col_range, &t);
        args.n = tile;
        args.b = col;
        args.b_rs = tile;
        args.c = yg + row * g->tile_inner;
        args.residual = sg != NULL ? sg + row * g->tile_inner : NULL;
        ir_sgemm (kern, &args, ctx->pool, sgemm_scratch);
      }
    }
  }
}
