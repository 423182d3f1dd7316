/* Depthwise 3x3, 5x5 and 7x7 (dilation 1) on one plane, AVX2+FMA: the
 * AVX-512 file's kernels (conv_dw3x3_avx512.c) with 8 lanes; masks are vectors
 * (_mm256_maskload_ps reads zeros for masked-off lanes and never faults;
 * vectors wholly inside load plainly), stores plain (avx2_partial.h: AMD's
 * masked store is microcoded), and stride 2 splits even and odd elements with a shuffle and a lane
 * permute.  Compiled with -mavx2 -mfma (engine/meson.build). */
#include <immintrin.h>

#include "avx2_partial.h"
#include "conv_internal.h"
#include "sgemm_act_avx2.h"

/* Lanes l with lo <= at + l < hi, as a vector mask. */
static inline __m256i
dw3_lanes8 (int64_t lo, int64_t hi, int64_t at)
{
  int64_t a = lo - at, b = hi - at;
  a = a < -1 ? -1 : a > 8 ? 8 : a;
  b = b < 0 ? 0 : b > 8 ? 8 : b;
  const __m256i lane = _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_and_si256 (_mm256_cmpgt_epi32 (lane, _mm256_set1_epi32 ((int) a - 1)),
      _mm256_cmpgt_epi32 (_mm256_set1_epi32 ((int) b), lane));
}

/* Lane masks of an 8-column block at ow0 of a w-wide row for the left,
 * centre and right taps (columns ow0 + l - 1, + 0, + 1 inside [0, w)). */
static inline void
dw3_s1_masks (int64_t ow0, int64_t w, __m256i m[3])
{
  m[0] = dw3_lanes8 (0, w, ow0 - 1);
  m[1] = dw3_lanes8 (0, w, ow0);
  m[2] = dw3_lanes8 (0, w, ow0 + 1);
}

/* acc + one input row's three taps (weights w[0..2]) for 8 outputs at r;
 * plain loads where the block is inside the row. */
static inline __attribute__ ((always_inline)) __m256
dw3_s1_row (const float *r, bool plain, const __m256i *m, const __m256 *w, __m256 acc)
{
  const __m256 l = plain ? _mm256_loadu_ps (r - 1) : _mm256_maskload_ps (r - 1, m[0]);
  const __m256 c = plain ? _mm256_loadu_ps (r) : _mm256_maskload_ps (r, m[1]);
  const __m256 rt = plain ? _mm256_loadu_ps (r + 1) : _mm256_maskload_ps (r + 1, m[2]);
  acc = _mm256_fmadd_ps (l, w[0], acc);
  acc = _mm256_fmadd_ps (c, w[1], acc);
  return _mm256_fmadd_ps (rt, w[2], acc);
}

/* Stride 1, pad 1, output the input's size.  Rows outside, 8-column blocks
 * inside, two output rows at a time from four input rows, one accumulator
 * per input row and output: six chains of three FMAs.  (The flat version,
 * one 9-FMA chain per 8 outputs and lane masks from per-lane row and column
 * counters, ran 1.3-1.4x ONNX Runtime's time on every MobileNetV2 layer on
 * a Zen 3 EPYC: bound by that chain's latency.)  Masks only for the blocks
 * at the row's ends, made once per plane. */
static void
dw3_s1_same (const conv_dw3x3_args *a)
{
  const int64_t h = a->out_h, w = a->out_w;
  __m256 wt[9];
  for (int k = 0; k < 9; k++)
    wt[k] = _mm256_set1_ps (a->w[k]);
  const __m256 bias = _mm256_set1_ps (a->bias), zero = _mm256_setzero_ps ();
  const __m256 lo = _mm256_set1_ps (a->lo), hi = _mm256_set1_ps (a->hi);
  const __m256 alpha = _mm256_set1_ps (a->alpha);
  const int64_t blocks = (w + 7) / 8;
  __m256i edge_m[3][3];   /* the first, second-to-last and last blocks */
  for (int e = 0; e < 3; e++) {
    const int64_t b = e == 0 ? 0 : blocks - 3 + e;
    if (e > 0 && b <= 0)
      continue;   /* not a block of its own: never looked up */
    dw3_s1_masks (8 * b, w, edge_m[e]);
  }
  const float *in = a->in;
  for (int64_t oh = 0; oh < h; oh += 2) {
    const bool two = oh + 1 < h;   /* a second output row */
    const bool above = oh > 0, below = oh + 1 < h, below2 = oh + 2 < h;
    float *orow = a->out + oh * w;
    for (int64_t b = 0, ow0 = 0; ow0 < w; b++, ow0 += 8) {
      const bool plain = ow0 >= 1 && ow0 + 9 <= w;
      const int e = b == 0 ? 0 : b == blocks - 1 ? 2 : b == blocks - 2 ? 1 : -1;
      __m256i own[3];
      const __m256i *m = e >= 0 ? edge_m[e] : own;
      if (!plain && e < 0)
        dw3_s1_masks (ow0, w, own);
      const float *r = in + oh * w + ow0;
      /* output row oh: input rows oh - 1, oh, oh + 1 (taps 0-2, 3-5, 6-8);
       * output row oh + 1: rows oh, oh + 1, oh + 2 */
      __m256 p0 = above ? dw3_s1_row (r - w, plain, m, wt, bias) : bias;
      __m256 p1 = dw3_s1_row (r, plain, m, wt + 3, zero);
      __m256 p2 = below ? dw3_s1_row (r + w, plain, m, wt + 6, zero) : zero;
      p0 = _mm256_add_ps (_mm256_add_ps (p0, p1), p2);
      ir_avx2_store_first (orow + ow0, ir_sgemm_act256 (p0, a->act, lo, hi, alpha), w - ow0);
      if (two) {
        __m256 q0 = dw3_s1_row (r, plain, m, wt, bias);
        __m256 q1 = dw3_s1_row (r + w, plain, m, wt + 3, zero);
        __m256 q2 = below2 ? dw3_s1_row (r + 2 * w, plain, m, wt + 6, zero) : zero;
        q0 = _mm256_add_ps (_mm256_add_ps (q0, q1), q2);
        ir_avx2_store_first (orow + w + ow0, ir_sgemm_act256 (q0, a->act, lo, hi, alpha),
            w - ow0);
      }
    }
  }
}

/* Even / odd elements of the 16 floats x0:x1 in the order of an in-lane
 * shuffle: outputs 0 1 4 5 2 3 6 7 (elements 0 2 8 10 4 6 12 14 for the even
 * ones).  Every tap of a stride-2 row comes in this same order, so the
 * accumulator does too and one dw3_in_order puts it right before the store:
 * one cross-lane permute per 8 outputs instead of one per tap. */
static inline __m256
dw3_even (__m256 x0, __m256 x1)
{
  return _mm256_shuffle_ps (x0, x1, _MM_SHUFFLE (2, 0, 2, 0));
}

static inline __m256
dw3_odd (__m256 x0, __m256 x1)
{
  return _mm256_shuffle_ps (x0, x1, _MM_SHUFFLE (3, 1, 3, 1));
}

static inline __m256
dw3_in_order (__m256 acc)
{
  return _mm256_castpd_ps (_mm256_permute4x64_pd (_mm256_castps_pd (acc),
          _MM_SHUFFLE (3, 1, 2, 0)));
}

/* Input row r's three taps for 8 stride-2 outputs, in dw3_even's order,
 * times weights w[0..2], added to acc. */
static inline __attribute__ ((always_inline)) __m256
dw3_s2_row (const float *r, bool plain, const __m256i *m, const __m256 *w, __m256 acc)
{
  __m256 l0, l1, s0, s1;
  if (plain) {
    l0 = _mm256_loadu_ps (r);
    l1 = _mm256_loadu_ps (r + 8);
    s0 = _mm256_loadu_ps (r + 2);
    s1 = _mm256_loadu_ps (r + 10);
  } else {   /* r may lie before the row: masked */
    l0 = _mm256_maskload_ps (r, m[0]);
    l1 = _mm256_maskload_ps (r + 8, m[1]);
    s0 = _mm256_maskload_ps (r + 2, m[2]);
    s1 = _mm256_maskload_ps (r + 10, m[3]);
  }
  acc = _mm256_fmadd_ps (dw3_even (l0, l1), w[0], acc);
  acc = _mm256_fmadd_ps (dw3_odd (l0, l1), w[1], acc);
  return _mm256_fmadd_ps (dw3_even (s0, s1), w[2], acc);
}

static void
dw3_s2 (const conv_dw3x3_args *a)
{
  __m256 wt[9];
  for (int k = 0; k < 9; k++)
    wt[k] = _mm256_set1_ps (a->w[k]);
  const __m256 bias = _mm256_set1_ps (a->bias), zero = _mm256_setzero_ps ();
  const __m256 lo = _mm256_set1_ps (a->lo), hi = _mm256_set1_ps (a->hi);
  const __m256 alpha = _mm256_set1_ps (a->alpha);
  const int64_t in_w = a->in_w, in_h = a->in_h, out_w = a->out_w;
  /* Rows outside, column blocks inside: the plane is read in order, as
   * the prefetchers like (column blocks outside were 1.3x slower on a
   * 112x112 plane that came from L3).  Only the blocks at the plane's left
   * and right edges need masks: those of the first and the last two blocks
   * are made once per plane (7x7 and 14x14 outputs have no other). */
  const int64_t blocks = (out_w + 7) / 8;
  __m256i edge_m[3][4];
  for (int e = 0; e < 3; e++) {
    const int64_t b = e == 0 ? 0 : blocks - 3 + e;
    if (e > 0 && b <= 0)
      continue;   /* not a block of its own: never looked up */
    const int64_t base = 2 * 8 * b - a->pad_w;
    edge_m[e][0] = dw3_lanes8 (0, in_w, base);
    edge_m[e][1] = dw3_lanes8 (0, in_w, base + 8);
    edge_m[e][2] = dw3_lanes8 (0, in_w, base + 2);
    edge_m[e][3] = dw3_lanes8 (0, in_w, base + 10);
  }
  for (int64_t oh = 0; oh < a->out_h;) {
    const int64_t ih0 = 2 * oh - a->pad_h;
    /* Two output rows from input rows ih0 .. ih0 + 4 (the middle one shared)
     * where all five are inside, each row's taps into its own accumulator:
     * six short chains instead of one of nine FMAs, whose latency bounded
     * it. */
    const bool pair = oh + 1 < a->out_h && ih0 >= 0 && ih0 + 5 <= in_h;
    const int kh0 = ih0 < 0 ? (int) -ih0 : 0;
    const int kh1 = in_h - ih0 < 3 ? (int) (in_h - ih0) : 3;
    float *orow = a->out + oh * out_w;
    for (int64_t b = 0, ow0 = 0; ow0 < out_w; b++, ow0 += 8) {
      const int64_t base = 2 * ow0 - a->pad_w;
      const bool plain = base >= 0 && base + 18 <= in_w;
      const int e = b == 0 ? 0 : b == blocks - 1 ? 2 : b == blocks - 2 ? 1 : -1;
      __m256i own[4];
      const __m256i *m = e >= 0 ? edge_m[e] : own;
      if (!plain && e < 0) {
        own[0] = dw3_lanes8 (0, in_w, base);
        own[1] = dw3_lanes8 (0, in_w, base + 8);
        own[2] = dw3_lanes8 (0, in_w, base + 2);
        own[3] = dw3_lanes8 (0, in_w, base + 10);
      }
      const float *col = a->in + base;
      if (pair) {
        const float *r = col + ih0 * in_w;
        __m256 p0 = dw3_s2_row (r, plain, m, wt, bias);
        __m256 p1 = dw3_s2_row (r + in_w, plain, m, wt + 3, zero);
        __m256 p2 = dw3_s2_row (r + 2 * in_w, plain, m, wt + 6, zero);
        __m256 q0 = dw3_s2_row (r + 2 * in_w, plain, m, wt, bias);
        __m256 q1 = dw3_s2_row (r + 3 * in_w, plain, m, wt + 3, zero);
        __m256 q2 = dw3_s2_row (r + 4 * in_w, plain, m, wt + 6, zero);
        p0 = _mm256_add_ps (_mm256_add_ps (p0, p1), p2);
        q0 = _mm256_add_ps (_mm256_add_ps (q0, q1), q2);
        ir_avx2_store_first (orow + ow0,
            ir_sgemm_act256 (dw3_in_order (p0), a->act, lo, hi, alpha), out_w - ow0);
        ir_avx2_store_first (orow + out_w + ow0,
            ir_sgemm_act256 (dw3_in_order (q0), a->act, lo, hi, alpha), out_w - ow0);
      } else {
        /* an edge row: the taps inside the image */
        __m256 acc = bias;
        for (int kh = kh0; kh < kh1; kh++)
          acc = dw3_s2_row (col + (ih0 + kh) * in_w, plain, m, wt + 3 * kh, acc);
        ir_avx2_store_first (orow + ow0,
            ir_sgemm_act256 (dw3_in_order (acc), a->act, lo, hi, alpha), out_w - ow0);
      }
    }
    oh += pair ? 2 : 1;
  }
}

/* Stride 1, "same" size, k = 2 R + 1 (R = 2, 3), as dw3_s1_same: rows
 * outside, 8-column blocks inside, each input row's K taps into its own
 * accumulator (K chains of K FMAs; the flat version's one chain of K^2 FMAs
 * and K^2 masked loads per vector took 2.9-3.7x ONNX Runtime's time on
 * MnasNet's 5x5 layers on a Zen 3 EPYC), plain loads for blocks inside the
 * row, the masks of the first and last two blocks made once per plane. */
static inline __attribute__ ((always_inline)) void
dwk_s1_same (const conv_dw3x3_args *a, const int R)
{
  enum { MAX_K = 7 };
  const int K = 2 * R + 1;
  const int64_t h = a->out_h, w = a->out_w;
  const __m256 bias = _mm256_set1_ps (a->bias), zero = _mm256_setzero_ps ();
  const __m256 lo = _mm256_set1_ps (a->lo), hi = _mm256_set1_ps (a->hi);
  const __m256 alpha = _mm256_set1_ps (a->alpha);
  const int64_t blocks = (w + 7) / 8;
  __m256i edge_m[3][MAX_K];   /* the first, second-to-last and last blocks */
  for (int e = 0; e < 3; e++) {
    const int64_t b = e == 0 ? 0 : blocks - 3 + e;
    if (e > 0 && b <= 0)
      continue;   /* not a block of its own: never looked up */
    for (int d = 0; d < K; d++)
      edge_m[e][d] = dw3_lanes8 (0, w, 8 * b + d - R);
  }
  for (int64_t oh = 0; oh < h; oh++) {
    float *orow = a->out + oh * w;
    for (int64_t b = 0, ow0 = 0; ow0 < w; b++, ow0 += 8) {
      const bool plain = ow0 - R >= 0 && ow0 + 8 + R <= w;
      const int e = b == 0 ? 0 : b == blocks - 1 ? 2 : b == blocks - 2 ? 1 : -1;
      __m256i own[MAX_K];
      const __m256i *m = e >= 0 ? edge_m[e] : own;
      if (!plain && e < 0)
        for (int d = 0; d < K; d++)
          own[d] = dw3_lanes8 (0, w, ow0 + d - R);
      __m256 part[MAX_K];
#pragma GCC unroll 7
      for (int kh = 0; kh < K; kh++) {
        const int64_t ih = oh + kh - R;
        __m256 acc = kh == R ? bias : zero;
        if (ih >= 0 && ih < h) {
          const float *r = a->in + ih * w + ow0 - R;   /* may lie before the row: masked */
          const float *wk = a->w + kh * K;
#pragma GCC unroll 7
          for (int kw = 0; kw < K; kw++)
            acc = _mm256_fmadd_ps (plain ? _mm256_loadu_ps (r + kw)
                : _mm256_maskload_ps (r + kw, m[kw]), _mm256_set1_ps (wk[kw]), acc);
        }
        part[kh] = acc;
      }
      __m256 sum = _mm256_add_ps (part[0], part[1]);
#pragma GCC unroll 7
      for (int kh = 2; kh < K; kh++)
        sum = _mm256_add_ps (sum, part[kh]);
      ir_avx2_store_first (orow + ow0, ir_sgemm_act256 (sum, a->act, lo, hi, alpha), w - ow0);
    }
  }
}

/* Stride 2, k = 2 R + 1: per 8 outputs and input row, R + 1 load pairs at
 * even offsets 0, 2, .., 2 R whose even elements are taps 0, 2, .., 2 R and
 * whose odd ones (of the first R pairs) taps 1, 3, .., 2 R - 1. */
static inline __attribute__ ((always_inline)) void
dwk_s2 (const conv_dw3x3_args *a, const int R)
{
  const int K = 2 * R + 1;
  const __m256 bias = _mm256_set1_ps (a->bias);
  const __m256 lo = _mm256_set1_ps (a->lo), hi = _mm256_set1_ps (a->hi);
  const __m256 alpha = _mm256_set1_ps (a->alpha);
  const int64_t in_w = a->in_w;
  for (int64_t ow0 = 0; ow0 < a->out_w; ow0 += 8) {
    const int64_t base = 2 * ow0 - a->pad_w;
    __m256i m[8];
#pragma GCC unroll 8
    for (int q = 0; q <= R; q++) {
      m[2 * q] = dw3_lanes8 (0, in_w, base + 2 * q);
      m[2 * q + 1] = dw3_lanes8 (0, in_w, base + 2 * q + 8);
    }
    const bool plain = base >= 0 && base + 2 * R + 16 <= in_w;
    for (int64_t oh = 0; oh < a->out_h; oh++) {
      float *orow = a->out + oh * a->out_w;
      __m256 acc = bias;
      const int64_t ih0 = 2 * oh - a->pad_h;
      const int kh0 = ih0 < 0 ? (int) -ih0 : 0;
      const int kh1 = a->in_h - ih0 < K ? (int) (a->in_h - ih0) : K;
      for (int kh = kh0; kh < kh1; kh++) {
        const int64_t ih = ih0 + kh;
        const float *r = a->in + ih * in_w + base;   /* may lie before the row: masked */
        const float *wk = a->w + kh * K;
        /* the row's taps in a chain of their own, added once: the rows'
         * chains overlap instead of one of K^2 FMAs */
        __m256 row = _mm256_setzero_ps ();
#pragma GCC unroll 4
        for (int q = 0; q <= R; q++) {
          const __m256 l0 = plain ? _mm256_loadu_ps (r + 2 * q)
              : _mm256_maskload_ps (r + 2 * q, m[2 * q]);
          const __m256 l1 = plain ? _mm256_loadu_ps (r + 2 * q + 8)
              : _mm256_maskload_ps (r + 2 * q + 8, m[2 * q + 1]);
          row = _mm256_fmadd_ps (dw3_even (l0, l1), _mm256_set1_ps (wk[2 * q]), row);
          if (q < R)
            row = _mm256_fmadd_ps (dw3_odd (l0, l1), _mm256_set1_ps (wk[2 * q + 1]), row);
        }
        acc = _mm256_add_ps (acc, row);
      }
      ir_avx2_store_first (orow + ow0,
          ir_sgemm_act256 (dw3_in_order (acc), a->act, lo, hi, alpha), a->out_w - ow0);
    }
  }
}

static void dwk_s1_same_2 (const conv_dw3x3_args *a) { dwk_s1_same (a, 2); }
static void dwk_s1_same_3 (const conv_dw3x3_args *a) { dwk_s1_same (a, 3); }
static void dwk_s2_2 (const conv_dw3x3_args *a) { dwk_s2 (a, 2); }
static void dwk_s2_3 (const conv_dw3x3_args *a) { dwk_s2 (a, 3); }

void
conv_dw3x3_avx2 (const conv_dw3x3_args *a)
{
  if (a->k == 5)
    (a->stride == 1 ? dwk_s1_same_2 : dwk_s2_2) (a);
  else if (a->k == 7)
    (a->stride == 1 ? dwk_s1_same_3 : dwk_s2_3) (a);
  else if (a->stride == 1)
    dw3_s1_same (a);
  else
    dw3_s2 (a);
}
