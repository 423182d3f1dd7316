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

/* Lanes whose column reached the plane's width w move to the next row
 * (the flat run's column and row per lane). */
static inline void
flat_wrap (__m256i *col, __m256i *row, __m256i vw)
{
  const __m256i vw1 = _mm256_sub_epi32 (vw, _mm256_set1_epi32 (1));
  const __m256i one = _mm256_set1_epi32 (1);
  for (__m256i over = _mm256_cmpgt_epi32 (*col, vw1); !_mm256_testz_si256 (over, over);
       over = _mm256_cmpgt_epi32 (*col, vw1)) {
    *col = _mm256_sub_epi32 (*col, _mm256_and_si256 (over, vw));
    *row = _mm256_add_epi32 (*row, _mm256_and_si256 (over, one));
  }
}

static void
dw3_s1_same (const conv_dw3x3_args *a)
{
  const int64_t h = a->out_h, w = a->out_w, n = h * w;
  __m256 wt[9];
  for (int k = 0; k < 9; k++)
    wt[k] = _mm256_set1_ps (a->w[k]);
  const __m256 bias = _mm256_set1_ps (a->bias);
  const __m256 lo = _mm256_set1_ps (a->lo), hi = _mm256_set1_ps (a->hi);
  const __m256 alpha = _mm256_set1_ps (a->alpha);
  const __m256i vw1 = _mm256_set1_epi32 ((int) w - 1), step = _mm256_set1_epi32 (8);
  const __m256i vw = _mm256_set1_epi32 ((int) w);
  const __m256i zero = _mm256_setzero_si256 (), last_row = _mm256_set1_epi32 ((int) h - 1);
  __m256i col = _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7), row = zero;
  flat_wrap (&col, &row, vw);
  const float *in = a->in;
  for (int64_t i0 = 0; i0 < n; i0 += 8) {
    const __m256i inside = dw3_lanes8 (0, n, i0);
    const __m256i left = _mm256_cmpgt_epi32 (col, zero);
    const __m256i right = _mm256_cmpgt_epi32 (vw1, col);
    const __m256i rows[3] = {
      _mm256_and_si256 (inside, _mm256_cmpgt_epi32 (row, zero)), inside,
      _mm256_and_si256 (inside, _mm256_cmpgt_epi32 (last_row, row)),
    };
    __m256 acc = bias;
    if (ir_avx2_mask_full (_mm256_and_si256 (_mm256_and_si256 (rows[0], rows[2]),
            _mm256_and_si256 (left, right)))) {
      /* no lane on an edge of the plane (most of a large one) */
#pragma GCC unroll 3
      for (int kh = 0; kh < 3; kh++) {
        const float *r = in + i0 + (kh - 1) * w;
        acc = _mm256_fmadd_ps (_mm256_loadu_ps (r - 1), wt[kh * 3], acc);
        acc = _mm256_fmadd_ps (_mm256_loadu_ps (r), wt[kh * 3 + 1], acc);
        acc = _mm256_fmadd_ps (_mm256_loadu_ps (r + 1), wt[kh * 3 + 2], acc);
      }
    } else {
#pragma GCC unroll 3
      for (int kh = 0; kh < 3; kh++) {
        const float *r = in + i0 + (kh - 1) * w;
        acc = _mm256_fmadd_ps (_mm256_maskload_ps (r - 1, _mm256_and_si256 (rows[kh], left)),
            wt[kh * 3], acc);
        acc = _mm256_fmadd_ps (_mm256_maskload_ps (r, rows[kh]), wt[kh * 3 + 1], acc);
        acc = _mm256_fmadd_ps (_mm256_maskload_ps (r + 1, _mm256_and_si256 (rows[kh], right)),
            wt[kh * 3 + 2], acc);
      }
    }
    ir_avx2_store_first (a->out + i0, ir_sgemm_act256 (acc, a->act, lo, hi, alpha), n - i0);
    col = _mm256_add_epi32 (col, step);
    flat_wrap (&col, &row, vw);
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

static void
dw3_s2 (const conv_dw3x3_args *a)
{
  __m256 wt[9];
  for (int k = 0; k < 9; k++)
    wt[k] = _mm256_set1_ps (a->w[k]);
  const __m256 bias = _mm256_set1_ps (a->bias);
  const __m256 lo = _mm256_set1_ps (a->lo), hi = _mm256_set1_ps (a->hi);
  const __m256 alpha = _mm256_set1_ps (a->alpha);
  const int64_t in_w = a->in_w;
  /* column blocks outside, rows inside: the masks once per plane (as in
   * conv_dw3x3_avx512.c) */
  for (int64_t ow0 = 0; ow0 < a->out_w; ow0 += 8) {
    const int64_t base = 2 * ow0 - a->pad_w;
    const __m256i m0 = dw3_lanes8 (0, in_w, base), m1 = dw3_lanes8 (0, in_w, base + 8);
    const __m256i m2 = dw3_lanes8 (0, in_w, base + 2), m3 = dw3_lanes8 (0, in_w, base + 10);
    const bool plain = base >= 0 && base + 18 <= in_w;
    for (int64_t oh = 0; oh < a->out_h; oh++) {
      float *orow = a->out + oh * a->out_w;
      __m256 acc = bias;
      const int64_t ih0 = 2 * oh - a->pad_h;
      const int kh0 = ih0 < 0 ? (int) -ih0 : 0;
      const int kh1 = a->in_h - ih0 < 3 ? (int) (a->in_h - ih0) : 3;
      for (int kh = kh0; kh < kh1; kh++) {
        const int64_t ih = ih0 + kh;
        const float *r = a->in + ih * in_w + base;   /* may lie before the row: masked */
        __m256 l0, l1, s0, s1;
        if (plain) {
          l0 = _mm256_loadu_ps (r);
          l1 = _mm256_loadu_ps (r + 8);
          s0 = _mm256_loadu_ps (r + 2);
          s1 = _mm256_loadu_ps (r + 10);
        } else {
          l0 = _mm256_maskload_ps (r, m0);
          l1 = _mm256_maskload_ps (r + 8, m1);
          s0 = _mm256_maskload_ps (r + 2, m2);
          s1 = _mm256_maskload_ps (r + 10, m3);
        }
        acc = _mm256_fmadd_ps (dw3_even (l0, l1), wt[kh * 3], acc);
        acc = _mm256_fmadd_ps (dw3_odd (l0, l1), wt[kh * 3 + 1], acc);
        acc = _mm256_fmadd_ps (dw3_even (s0, s1), wt[kh * 3 + 2], acc);
      }
      ir_avx2_store_first (orow + ow0,
          ir_sgemm_act256 (dw3_in_order (acc), a->act, lo, hi, alpha), a->out_w - ow0);
    }
  }
}

/* Stride 1, "same" size, k = 2 R + 1 (R = 2, 3; the 3x3 above keeps its
 * cheaper masks): tap (dy, dx) of a lane is inside when its column + dx and
 * row + dy are. */
static inline __attribute__ ((always_inline)) void
dwk_s1_same (const conv_dw3x3_args *a, const int R)
{
  const int K = 2 * R + 1;
  const int64_t h = a->out_h, w = a->out_w, n = h * w;
  const __m256 bias = _mm256_set1_ps (a->bias);
  const __m256 lo = _mm256_set1_ps (a->lo), hi = _mm256_set1_ps (a->hi);
  const __m256 alpha = _mm256_set1_ps (a->alpha);
  const __m256i step = _mm256_set1_epi32 (8), vw = _mm256_set1_epi32 ((int) w);
  __m256i col = _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7), row = _mm256_setzero_si256 ();
  flat_wrap (&col, &row, vw);
  for (int64_t i0 = 0; i0 < n; i0 += 8) {
    const __m256i inside = dw3_lanes8 (0, n, i0);
    __m256i cols[7], rows[7];
#pragma GCC unroll 7
    for (int d = 0; d < K; d++) {
      /* R - d - 1 < col < w + R - d, and the same for rows */
      cols[d] = _mm256_and_si256 (_mm256_cmpgt_epi32 (col, _mm256_set1_epi32 (R - d - 1)),
          _mm256_cmpgt_epi32 (_mm256_set1_epi32 ((int) w + R - d), col));
      rows[d] = _mm256_and_si256 (inside, _mm256_and_si256 (
          _mm256_cmpgt_epi32 (row, _mm256_set1_epi32 (R - d - 1)),
          _mm256_cmpgt_epi32 (_mm256_set1_epi32 ((int) h + R - d), row)));
    }
    __m256 acc = bias;
    if (ir_avx2_mask_full (_mm256_and_si256 (_mm256_and_si256 (rows[0], rows[K - 1]),
            _mm256_and_si256 (cols[0], cols[K - 1])))) {
#pragma GCC unroll 7
      for (int kh = 0; kh < K; kh++) {
        const float *r = a->in + i0 + (kh - R) * w - R;
#pragma GCC unroll 7
        for (int kw = 0; kw < K; kw++)
          acc = _mm256_fmadd_ps (_mm256_loadu_ps (r + kw), _mm256_set1_ps (a->w[kh * K + kw]),
              acc);
      }
    } else {
#pragma GCC unroll 7
      for (int kh = 0; kh < K; kh++) {
        const float *r = a->in + i0 + (kh - R) * w - R;
#pragma GCC unroll 7
        for (int kw = 0; kw < K; kw++)
          acc = _mm256_fmadd_ps (_mm256_maskload_ps (r + kw,
                  _mm256_and_si256 (rows[kh], cols[kw])), _mm256_set1_ps (a->w[kh * K + kw]),
              acc);
      }
    }
    ir_avx2_store_first (a->out + i0, ir_sgemm_act256 (acc, a->act, lo, hi, alpha), n - i0);
    col = _mm256_add_epi32 (col, step);
    flat_wrap (&col, &row, vw);
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
#pragma GCC unroll 4
        for (int q = 0; q <= R; q++) {
          const __m256 l0 = plain ? _mm256_loadu_ps (r + 2 * q)
              : _mm256_maskload_ps (r + 2 * q, m[2 * q]);
          const __m256 l1 = plain ? _mm256_loadu_ps (r + 2 * q + 8)
              : _mm256_maskload_ps (r + 2 * q + 8, m[2 * q + 1]);
          acc = _mm256_fmadd_ps (dw3_even (l0, l1), _mm256_set1_ps (wk[2 * q]), acc);
          if (q < R)
            acc = _mm256_fmadd_ps (dw3_odd (l0, l1), _mm256_set1_ps (wk[2 * q + 1]), acc);
        }
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
