/* Depthwise conv (one input channel per group, incl. channel multipliers),
 * 1-D and 2-D.  3x3 with stride 1 ("same" size) or 2 and no dilation, on
 * AVX2 or AVX-512 (MobileNet's layers): the intrinsics kernels of
 * conv_dw3x3_avx2.c / conv_dw3x3_avx512.c, one pass per plane with bias and
 * activation in registers.  Otherwise planes up to CONV_DW_PHASE_MAX_FLOATS
 * of scratch with horizontal stride 1 go through phase planes and one flat
 * vector loop per tap (below); others through a row kernel that keeps each
 * output row in L1, with a fused one-pass 3x3 path.  Both compiled for
 * AVX-512 / AVX2 beside a baseline build, picked from ir_cpu (). */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


#include "conv_internal.h"
#include "cpu.h"

/* ----------------------------------------------------------------- depthwise */

/* A 1-D or 2-D conv with one input channel per group, viewed as 2-D. */
typedef struct conv_depthwise_shape {
  int64_t in_h, in_w, out_h, out_w, k_h, k_w;
  int64_t stride_h, stride_w, dil_h, dil_w, pad_h, pad_w;
} conv_depthwise_shape;

static bool dw_block_fits (const conv_geometry *g, const conv_depthwise_shape *s, int64_t *buf_h,
    int64_t *buf_w);
static void conv_depthwise_shape_of (const conv_geometry *g, conv_depthwise_shape *s);

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
  if (ir_cpu ()->isa >= IR_ISA_AVX512)
    return conv_depthwise_plane_avx512;
  if (ir_cpu ()->isa >= IR_ISA_AVX2)
    return conv_depthwise_plane_avx2;
#endif
  return conv_depthwise_plane_generic;
}

/* ---------------------------------------------- 3x3 intrinsics kernels */

void
conv_dw3x3_reference (const conv_dw3x3_args *a)
{
  for (int64_t oh = 0; oh < a->out_h; oh++)
    for (int64_t ow = 0; ow < a->out_w; ow++) {
      double sum = a->bias;
      for (int64_t kh = 0; kh < a->k; kh++)
        for (int64_t kw = 0; kw < a->k; kw++) {
          const int64_t ih = oh * a->stride + kh - a->pad_h;
          const int64_t iw = ow * a->stride + kw - a->pad_w;
          if (ih >= 0 && ih < a->in_h && iw >= 0 && iw < a->in_w)
            sum += (double) a->w[kh * a->k + kw] * a->in[ih * a->in_w + iw];
        }
      float v = (float) sum;
      if (a->act == IR_SGEMM_ACT_RELU)
        v = v > 0.0f ? v : 0.0f;
      else if (a->act == IR_SGEMM_ACT_CLIP)
        v = v < a->lo ? a->lo : v > a->hi ? a->hi : v;
      else if (a->act == IR_SGEMM_ACT_LEAKY)
        v = v >= 0.0f ? v : v * a->alpha;
      a->out[oh * a->out_w + ow] = v;
    }
}

conv_dw3x3_fn
conv_dw3x3_kernel_for (ir_isa isa, const conv_geometry *g)
{
  const conv_lowering *l = &g->low;
  const int64_t k = l->kernel[0];
  if (isa > ir_cpu ()->machine || l->n_spatial != 2 || g->in_per_group != 1
      || (k != 3 && k != 5 && k != 7) || l->kernel[1] != k || l->dilation[0] != 1
      || l->dilation[1] != 1 || l->image_size > INT_MAX / 2 || l->grid_size > INT_MAX / 2)
    return NULL;
  const bool same = l->stride[0] == 1 && l->stride[1] == 1 && l->pad[0] == (k - 1) / 2
      && l->pad[1] == (k - 1) / 2 && l->grid[0] == l->image[0] && l->grid[1] == l->image[1];
  const bool s2 = l->stride[0] == 2 && l->stride[1] == 2;
  if (!same && !s2)
    return NULL;
#if defined(IMGREC_HAVE_X86_KERNELS)
  if (isa == IR_ISA_AVX512)
    return conv_dw3x3_avx512;
  if (isa == IR_ISA_AVX2)
    return conv_dw3x3_avx2;
#endif
  return NULL;
}

const char *
conv_depthwise_isa (const conv_geometry *g)
{
  conv_depthwise_shape sh;
  int64_t bh, bw;
  conv_depthwise_shape_of (g, &sh);
  if (dw_block_fits (g, &sh, &bh, &bw))
    return "avx512 16-channel blocks";
  static const char *const names[2][3] = {
    { "avx2 3x3", "avx2 5x5", "avx2 7x7" }, { "avx512 3x3", "avx512 5x5", "avx512 7x7" },
  };
  if (conv_dw3x3_kernel_for (ir_cpu ()->isa, g) != NULL)
    return names[ir_cpu ()->isa == IR_ISA_AVX512][(g->low.kernel[0] - 3) / 2];
  conv_depthwise_plane_fn fn = conv_depthwise_select ();
  return fn == conv_depthwise_plane_generic ? "ref" : ir_cpu_isa_name (ir_cpu ()->isa);
}

/* ------------------------------------------------ phase-plane flat kernel */

/* The padded input split into stride_h x stride_w phase planes,
 * plane (ry, rx)[a][b] = padded[a * stride_h + ry][b * stride_w + rx], each
 * `ws` wide.  Tap (kh, kw) then reads one plane at a fixed offset from the
 * output position, and the whole output plane, taken `ws` wide, is one flat
 * vector loop per tap: rows of 7 or 14 pixels no longer leave vectors empty.
 * The valid out_w columns of each row are then copied out.  Horizontal
 * strides above 1 keep the row kernel: splitting the columns into phases
 * cost more than it saved (MobileNetV2's four stride-2 depthwise layers,
 * 1 thread, AVX-512: 1.2-1.9 ms in total with the row kernel, 1.6-2.9 ms
 * with phases). */
typedef struct conv_depthwise_phases {
  int64_t hs, ws;            /* rows and width of each phase plane */
  int64_t plane_floats;      /* per phase plane, with slack for the flat reads */
  int64_t flat;              /* out_h * ws */
  size_t floats;             /* scratch floats per thread */
} conv_depthwise_phases;

/* Above this the plane-per-row kernel runs (bounded scratch). */
#define CONV_DW_PHASE_MAX_FLOATS ((int64_t) 1 << 20)
#define CONV_DW_MAX_TAPS 64

static bool
conv_depthwise_phases_of (const conv_depthwise_shape *s, conv_depthwise_phases *ph)
{
  const int64_t taps = s->k_h * s->k_w;
  if (taps > CONV_DW_MAX_TAPS || s->out_h < 1 || s->out_w < 1)
    return false;
  const int64_t hp = s->stride_h * (s->out_h - 1) + (s->k_h - 1) * s->dil_h + 1;
  const int64_t wp = s->stride_w * (s->out_w - 1) + (s->k_w - 1) * s->dil_w + 1;
  if (hp > CONV_DW_PHASE_MAX_FLOATS || wp > CONV_DW_PHASE_MAX_FLOATS)
    return false;
  ph->hs = (hp + s->stride_h - 1) / s->stride_h;
  ph->ws = (wp + s->stride_w - 1) / s->stride_w;
  const int64_t slack = ((s->k_w - 1) * s->dil_w) / s->stride_w + 16;
  ph->plane_floats = ((ph->hs * ph->ws + slack + 15) / 16) * 16;
  ph->flat = s->out_h * ph->ws;
  const int64_t total = s->stride_h * s->stride_w * ph->plane_floats + ph->flat + 16;
  if (s->stride_w > 1 || s->stride_h > 16 || total > CONV_DW_PHASE_MAX_FLOATS)
    return false;
  /* whole 4 KB pages per thread: the threads' buffers side by side made 2
   * threads slower than 1 in the pools (pool.c, pool_line_floats) */
  ph->floats = (size_t) ((total + 1023) & ~(int64_t) 1023);
  return true;
}

static inline __attribute__ ((always_inline)) void
conv_depthwise_phase_body (const conv_depthwise_shape *s, const conv_depthwise_phases *ph,
    const float *in, const float *w, float bias, float *out, float *scratch)
{
  const int64_t sh = s->stride_h, sw = s->stride_w, ws = ph->ws;
  /* Phase planes of the zero-padded input. */
  for (int64_t ry = 0; ry < sh; ry++)
    for (int64_t rx = 0; rx < sw; rx++) {
      float *plane = scratch + (ry * sw + rx) * ph->plane_floats;
      for (int64_t a = 0; a < ph->hs; a++) {
        float *row = plane + a * ws;
        const int64_t ih = a * sh + ry - s->pad_h;
        if (ih < 0 || ih >= s->in_h) {
          memset (row, 0, (size_t) ws * sizeof (float));
          continue;
        }
        const float *irow = in + ih * s->in_w;
        /* Columns b with 0 <= b * sw + rx - pad_w < in_w. */
        int64_t lo, hi;
        conv_valid_range (rx - s->pad_w, sw, s->in_w, &lo, &hi);
        if (hi > ws)
          hi = ws;
        if (lo > hi)
          lo = hi;
        for (int64_t b = 0; b < lo; b++)
          row[b] = 0.0f;
        const float *src = irow + rx - s->pad_w;   /* column b reads src[b * sw] */
        if (sw == 1) {
          memcpy (row + lo, src + lo, (size_t) (hi - lo) * sizeof (float));
        } else if (sw == 2) {   /* constant stride: vectorised deinterleave */
          for (int64_t b = lo; b < hi; b++)
            row[b] = src[2 * b];
        } else {
          for (int64_t b = lo; b < hi; b++)
            row[b] = src[b * sw];
        }
        for (int64_t b = hi; b < ws; b++)
          row[b] = 0.0f;
      }
      memset (plane + ph->hs * ws, 0, (size_t) (ph->plane_floats - ph->hs * ws) * sizeof (float));
    }
  float *restrict t = scratch + sh * sw * ph->plane_floats;
  const float *src[CONV_DW_MAX_TAPS];
  const int64_t taps = s->k_h * s->k_w;
  for (int64_t kh = 0; kh < s->k_h; kh++)
    for (int64_t kw = 0; kw < s->k_w; kw++) {
      const int64_t dy = kh * s->dil_h, dx = kw * s->dil_w;
      src[kh * s->k_w + kw] = scratch + ((dy % sh) * sw + dx % sw) * ph->plane_floats
          + (dy / sh) * ws + dx / sw;
    }
  const int64_t n = ph->flat;
  if (taps == 9) {
    const float *s0 = src[0], *s1 = src[1], *s2 = src[2], *s3 = src[3], *s4 = src[4];
    const float *s5 = src[5], *s6 = src[6], *s7 = src[7], *s8 = src[8];
    const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5];
    const float w6 = w[6], w7 = w[7], w8 = w[8];
    for (int64_t i = 0; i < n; i++)
      t[i] = bias + w0 * s0[i] + w1 * s1[i] + w2 * s2[i] + w3 * s3[i] + w4 * s4[i]
          + w5 * s5[i] + w6 * s6[i] + w7 * s7[i] + w8 * s8[i];
  } else {
    for (int64_t i = 0; i < n; i++)
      t[i] = bias;
    for (int64_t k = 0; k < taps; k++) {
      const float *restrict sk = src[k];
      const float wk = w[k];
      for (int64_t i = 0; i < n; i++)
        t[i] += wk * sk[i];
    }
  }
  for (int64_t oh = 0; oh < s->out_h; oh++)
    memcpy (out + oh * s->out_w, t + oh * ws, (size_t) s->out_w * sizeof (float));
}

typedef void (*conv_depthwise_phase_fn) (const conv_depthwise_shape *s,
    const conv_depthwise_phases *ph, const float *in, const float *w, float bias, float *out,
    float *scratch);

static void
conv_depthwise_phase_generic (const conv_depthwise_shape *s, const conv_depthwise_phases *ph,
    const float *in, const float *w, float bias, float *out, float *scratch)
{
  conv_depthwise_phase_body (s, ph, in, w, bias, out, scratch);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__ ((target ("avx2,fma"))) static void
conv_depthwise_phase_avx2 (const conv_depthwise_shape *s, const conv_depthwise_phases *ph,
    const float *in, const float *w, float bias, float *out, float *scratch)
{
  conv_depthwise_phase_body (s, ph, in, w, bias, out, scratch);
}

__attribute__ ((target ("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))) static void
conv_depthwise_phase_avx512 (const conv_depthwise_shape *s, const conv_depthwise_phases *ph,
    const float *in, const float *w, float bias, float *out, float *scratch)
{
  conv_depthwise_phase_body (s, ph, in, w, bias, out, scratch);
}
#endif

static conv_depthwise_phase_fn
conv_depthwise_phase_select (void)
{
#if defined(__x86_64__) || defined(__i386__)
  if (ir_cpu ()->isa >= IR_ISA_AVX512)
    return conv_depthwise_phase_avx512;
  if (ir_cpu ()->isa >= IR_ISA_AVX2)
    return conv_depthwise_phase_avx2;
#endif
  return conv_depthwise_phase_generic;
}

/* The shape of a depthwise geometry, 1-D viewed as 2-D with a single row. */
static void
conv_depthwise_shape_of (const conv_geometry *g, conv_depthwise_shape *s)
{
  const conv_lowering *l = &g->low;
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
}

/* Whether the 16-channel block kernel takes this conv (conv_internal.h,
 * block16_args), and its buffer's rows and columns: room for the
 * taps of the last output row and of four positions past the last column
 * (the kernel computes positions four at a time). */
#define DW_BLOCK_MAX_BUFFER_BYTES ((size_t) 64 << 10)
static bool
dw_block_fits (const conv_geometry *g, const conv_depthwise_shape *s, int64_t *buf_h,
    int64_t *buf_w)
{
#ifdef IMGREC_HAVE_X86_KERNELS
  static int enabled = -1;   /* IMGREC_CONV_DW_BLOCK=0 turns it off (A/B runs) */
  if (enabled < 0) {
    const char *v = getenv ("IMGREC_CONV_DW_BLOCK");
    enabled = v == NULL || strcmp (v, "0") != 0;
  }
  if (!enabled || ir_cpu ()->isa < IR_ISA_AVX512 || g->out_per_group != 1
      || g->low.n_spatial != 2 || s->k_h != s->k_w || s->k_h > 7 || s->dil_h != 1
      || s->dil_w != 1 || s->stride_h != s->stride_w || s->stride_h > 2 || s->out_w > 16
      || s->out_w < 1 || s->out_h < 1)
    return false;
  /* At stride 2 the per-plane kernel's even/odd permutes did better on the
   * wider maps (192 channels 28x28 -> 14x14, 3x3: 0.032 ms against 0.057 in
   * blocks; 5x5 to 14x14 a tie) and worse on 7x7 outputs (5x5: 0.072
   * against 0.059); at stride 1 blocks won or tied everywhere (MnasNet's
   * 5x5 layers on 14x14 and 7x7: 0.56-0.69x the time, 3x3 0.92-1.0x). */
  if (s->stride_h == 2 && (s->k_h < 5 || s->out_w > 8))
    return false;
  *buf_h = (s->out_h - 1) * s->stride_h + s->k_h;
  *buf_w = (s->out_w + 2) * s->stride_w + s->k_w;
  return (size_t) (*buf_h * *buf_w) * 16 * sizeof (float) <= DW_BLOCK_MAX_BUFFER_BYTES;
#else
  (void) g;
  (void) s;
  (void) buf_h;
  (void) buf_w;
  return false;
#endif
}

size_t
conv_depthwise_scratch_bytes (const conv_geometry *g, int threads)
{
  conv_depthwise_shape s;
  conv_depthwise_phases ph;
  conv_depthwise_shape_of (g, &s);
  int64_t bh, bw;
  if (dw_block_fits (g, &s, &bh, &bw))
    return (size_t) (threads > 0 ? threads : 1) * (size_t) (bh * bw) * 16 * sizeof (float);
  if (conv_dw3x3_kernel_for (ir_cpu ()->isa, g) != NULL || !conv_depthwise_phases_of (&s, &ph))
    return 0;
  return (size_t) (threads > 0 ? threads : 1) * ph.floats * sizeof (float);
}

typedef struct conv_depthwise_task {
  conv_depthwise_shape shape;
  conv_depthwise_plane_fn plane;
  conv_depthwise_phase_fn phase;   /* NULL: the row kernel */
  conv_dw3x3_fn dw3;               /* set: the 3x3 intrinsics kernel, before all */
  conv_dw3x3_args dw3_base;        /* its sizes and register activation */
  conv_depthwise_phases phases;
  float *scratch;
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
    const float *in = t->x + (n * t->channels_in + c) * in_plane;
    const float b = t->bias != NULL ? t->bias[m] : 0.0f;
    if (t->dw3 != NULL) {
      conv_dw3x3_args a = t->dw3_base;
      a.in = in;
      a.w = t->w + m * taps;
      a.out = out;
      a.bias = b;
      t->dw3 (&a);
      if (a.act == IR_SGEMM_ACT_NONE && t->act->kind != IR_ACT_NONE)
        ir_activation_apply (t->act, out, out_plane);
      continue;
    }
    if (t->phase != NULL)
      t->phase (s, &t->phases, in, t->w + m * taps, b, out,
          t->scratch + (size_t) thread_index * t->phases.floats);
    else
      t->plane (s, in, t->w + m * taps, b, out);
    if (t->act->kind != IR_ACT_NONE)
      ir_activation_apply (t->act, out, out_plane);
  }
}

typedef struct dw_block_task {
  block16_args base;
  const float *x, *w, *bias;
  float *y;
  float *bufs;
  size_t buf_floats;
  int64_t channels, blocks;
  const ir_activation *act;    /* applied after the store when not in registers */
} dw_block_task;

/* Items: (image, block of 16 channels). */
static void
dw_block_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const dw_block_task *t = arg;
  const block16_args *b = &t->base;
  const int64_t in_plane = b->in_h * b->in_w, out_plane = b->out_h * b->out_w;
  for (int64_t item = begin; item < end; item++) {
    const int64_t n = item / t->blocks, c0 = item % t->blocks * 16;
    block16_args a = *b;
    a.nch = (int) (t->channels - c0 < 16 ? t->channels - c0 : 16);
    a.in = t->x + (n * t->channels + c0) * in_plane;
    a.w = t->w + c0 * b->k * b->k;
    a.bias = t->bias != NULL ? t->bias + c0 : NULL;
    a.out = t->y + (n * t->channels + c0) * out_plane;
    a.buf = t->bufs + (size_t) thread_index * t->buf_floats;
    block16_depthwise_avx512 (&a);
    if (t->act != NULL)
      ir_activation_apply (t->act, a.out, (int64_t) a.nch * out_plane);
  }
}

void
conv_run_depthwise (const ir_node *node, const op_run_ctx *ctx, const conv_geometry *g,
    const float *bias)
{
  conv_depthwise_task t = { 0 };
  conv_depthwise_shape *s = &t.shape;
  conv_depthwise_shape_of (g, s);
  int64_t bh, bw;
  if (dw_block_fits (g, s, &bh, &bw)
      && ctx->scratch_bytes >= conv_depthwise_scratch_bytes (g, ir_pool_threads (ctx->pool))) {
    dw_block_task bt = {
      .base = { .k = s->k_h, .in_h = s->in_h, .in_w = s->in_w, .out_h = s->out_h,
                .out_w = s->out_w, .stride = s->stride_h, .pad_h = s->pad_h, .pad_w = s->pad_w,
                .buf_h = bh, .buf_w = bw },
      .x = ir_f32 (ctx->in[0]), .w = ir_f32 (ctx->in[1]), .bias = bias,
      .y = ir_f32 (ctx->out[0]), .bufs = ctx->scratch, .buf_floats = (size_t) (bh * bw) * 16,
      .channels = g->out_channels, .blocks = (g->out_channels + 15) / 16,
    };
    if (!ir_sgemm_register_act (&node->fused, &bt.base.act, &bt.base.lo, &bt.base.hi,
            &bt.base.alpha))
      bt.act = &node->fused;
    ir_parallel_for (ctx->pool, g->batch * bt.blocks, 1, dw_block_range, &bt);
    return;
  }
  t.dw3 = conv_dw3x3_kernel_for (ir_cpu ()->isa, g);
  if (t.dw3 != NULL) {
    conv_dw3x3_args *a = &t.dw3_base;
    a->k = s->k_h;
    a->in_h = s->in_h;
    a->in_w = s->in_w;
    a->out_h = s->out_h;
    a->out_w = s->out_w;
    a->stride = s->stride_h;
    a->pad_h = s->pad_h;
    a->pad_w = s->pad_w;
    ir_sgemm_register_act (&node->fused, &a->act, &a->lo, &a->hi, &a->alpha);
  } else if (conv_depthwise_phases_of (s, &t.phases) && ctx->scratch_bytes
      >= (size_t) ir_pool_threads (ctx->pool) * t.phases.floats * sizeof (float)) {
    t.phase = conv_depthwise_phase_select ();
    t.scratch = ctx->scratch;
  }
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

