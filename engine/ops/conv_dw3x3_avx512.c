/* Depthwise 3x3, 5x5 and 7x7 (dilation 1) on one plane, AVX-512: 16 outputs per vector,
 * bias and Relu / Clip / LeakyRelu in registers, one store (see
 * conv_internal.h, conv_dw3x3_args).  Masked loads read zeros where a tap
 * falls outside the image (masked-off lanes never fault), so nothing is
 * copied into a padded plane first.
 *
 *   stride 1, "same" size: the plane as one flat run of positions, so 7- and
 *     14-wide rows still fill vectors; per vector, lane masks for the first
 *     and last column and row say which taps are inside.
 *   stride 2: per output row, each of the three input rows is read as two
 *     pairs of vectors whose even and odd elements (one permute each) are
 *     the three taps of 16 outputs; rows of 8 or fewer outputs two to a
 *     vector.
 *
 * Compiled with -mavx512f -mavx512dq -mavx512bw -mavx512vl (engine/meson.build);
 * only called when ir_cpu () says the CPU and OS support AVX-512. */
#include <immintrin.h>
#include <stdbool.h>

#include "conv_internal.h"
#include "sgemm_act_avx512.h"

/* Bits [lo - at, hi - at) of a 16-lane mask. */
static inline __mmask16
dw3_lanes (int64_t lo, int64_t hi, int64_t at)
{
  int64_t a = lo - at, b = hi - at;
  a = a < 0 ? 0 : a > 16 ? 16 : a;
  b = b < 0 ? 0 : b > 16 ? 16 : b;
  if (b <= a)
    return 0;
  return (__mmask16) (((1u << b) - 1) & ~((1u << a) - 1));
}

/* Stride 1, "same" size, 3x3: the plane as one flat run; per vector, lane
 * masks for the first and last column and row say which taps are inside
 * (4 compares; the general kernel below needs 4 per tap row and column,
 * which made MobileNetV2's 3x3 layers 1.35x slower). */
/* Lanes whose column reached the plane's width w move to the next row
 * (the flat run's column and row per lane; planes are below 2^31 floats). */
static inline void
flat_wrap (__m512i *col, __m512i *row, __m512i vw)
{
  const __m512i one = _mm512_set1_epi32 (1);
  for (__mmask16 over = _mm512_cmpge_epi32_mask (*col, vw); over;
       over = _mm512_cmpge_epi32_mask (*col, vw)) {
    *col = _mm512_mask_sub_epi32 (*col, over, *col, vw);
    *row = _mm512_mask_add_epi32 (*row, over, *row, one);
  }
}

static void
dw3_s1_same (const conv_dw3x3_args *a)
{
  const int64_t h = a->out_h, w = a->out_w, n = h * w;
  __m512 wt[9];
  for (int k = 0; k < 9; k++)
    wt[k] = _mm512_set1_ps (a->w[k]);
  const __m512 bias = _mm512_set1_ps (a->bias);
  const __m512 lo = _mm512_set1_ps (a->lo), hi = _mm512_set1_ps (a->hi);
  const __m512 alpha = _mm512_set1_ps (a->alpha);
  const __m512i vw = _mm512_set1_epi32 ((int) w), step = _mm512_set1_epi32 (16);
  const __m512i zero = _mm512_setzero_si512 ();
  const __m512i last_col = _mm512_set1_epi32 ((int) w - 1);
  const __m512i last_row = _mm512_set1_epi32 ((int) h - 1);
  /* Column and row of each lane's position (planes are below 2^31 floats). */
  __m512i col = _mm512_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512i row = zero;
  flat_wrap (&col, &row, vw);
  const float *in = a->in;
  for (int64_t i0 = 0; i0 < n; i0 += 16) {
    const __mmask16 inside = dw3_lanes (0, n, i0);
    const __mmask16 left = _mm512_cmpgt_epi32_mask (col, zero);
    const __mmask16 right = _mm512_cmplt_epi32_mask (col, last_col);
    const __mmask16 rows[3] = {
      (__mmask16) (inside & _mm512_cmpgt_epi32_mask (row, zero)), inside,
      (__mmask16) (inside & _mm512_cmplt_epi32_mask (row, last_row)),
    };
    __m512 acc = bias;
#pragma GCC unroll 3
    for (int kh = 0; kh < 3; kh++) {
      const float *r = in + i0 + (kh - 1) * w;
      acc = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (rows[kh] & left, r - 1), wt[kh * 3], acc);
      acc = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (rows[kh], r), wt[kh * 3 + 1], acc);
      acc = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (rows[kh] & right, r + 1), wt[kh * 3 + 2],
          acc);
    }
    _mm512_mask_storeu_ps (a->out + i0, inside, ir_sgemm_act512 (acc, a->act, lo, hi, alpha));
    col = _mm512_add_epi32 (col, step);
    flat_wrap (&col, &row, vw);
  }
}

/* Stride 1, "same" size, a k x k kernel of radius R (k = 2 R + 1, a
 * compile-time constant in each caller): tap (dy, dx) of a lane is inside
 * when its column + dx and row + dy are, as lane masks. */
static inline __attribute__ ((always_inline)) void
dwk_s1_same (const conv_dw3x3_args *a, const int R)
{
  const int K = 2 * R + 1;
  const int64_t h = a->out_h, w = a->out_w, n = h * w;
  const __m512 bias = _mm512_set1_ps (a->bias);
  const __m512 lo = _mm512_set1_ps (a->lo), hi = _mm512_set1_ps (a->hi);
  const __m512 alpha = _mm512_set1_ps (a->alpha);
  const __m512i vw = _mm512_set1_epi32 ((int) w), step = _mm512_set1_epi32 (16);
  const __m512i zero = _mm512_setzero_si512 ();
  /* Column and row of each lane's position (planes are below 2^31 floats). */
  __m512i col = _mm512_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512i row = zero;
  flat_wrap (&col, &row, vw);
  const float *in = a->in;
  for (int64_t i0 = 0; i0 < n; i0 += 16) {
    const __mmask16 inside = dw3_lanes (0, n, i0);
    __mmask16 cols[7], rows[7];
#pragma GCC unroll 7
    for (int d = 0; d < K; d++) {
      /* 0 <= col + d - R < w, and the same for rows */
      cols[d] = (__mmask16) (_mm512_cmpge_epi32_mask (col, _mm512_set1_epi32 (R - d))
          & _mm512_cmplt_epi32_mask (col, _mm512_set1_epi32 ((int) w + R - d)));
      rows[d] = (__mmask16) (inside & _mm512_cmpge_epi32_mask (row, _mm512_set1_epi32 (R - d))
          & _mm512_cmplt_epi32_mask (row, _mm512_set1_epi32 ((int) h + R - d)));
    }
    __m512 acc = bias;
#pragma GCC unroll 7
    for (int kh = 0; kh < K; kh++) {
      const float *r = in + i0 + (kh - R) * w - R;
#pragma GCC unroll 7
      for (int kw = 0; kw < K; kw++)
        acc = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (rows[kh] & cols[kw], r + kw),
            _mm512_set1_ps (a->w[kh * K + kw]), acc);
    }
    _mm512_mask_storeu_ps (a->out + i0, inside, ir_sgemm_act512 (acc, a->act, lo, hi, alpha));
    col = _mm512_add_epi32 (col, step);
    flat_wrap (&col, &row, vw);
  }
}

/* Stride 2, radius R: per output row and 16 outputs, each input row is read
 * as R + 1 pairs of vectors (at even offsets 0, 2, .., 2 R) whose even
 * elements are taps kw = 0, 2, .., 2 R and whose odd elements (of the first
 * R pairs) are taps 1, 3, .., 2 R - 1: one permute per tap. */
static inline __attribute__ ((always_inline)) void
dwk_s2_rows (const conv_dw3x3_args *a, const int R)
{
  const int K = 2 * R + 1;
  const __m512 bias = _mm512_set1_ps (a->bias);
  const __m512 lo = _mm512_set1_ps (a->lo), hi = _mm512_set1_ps (a->hi);
  const __m512 alpha = _mm512_set1_ps (a->alpha);
  const __m512i even = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
      28, 30);
  const __m512i odd = _mm512_add_epi32 (even, _mm512_set1_epi32 (1));
  const int64_t in_w = a->in_w;
  /* Column blocks outside, rows inside: a block's load masks are worked out
   * once per plane, not once per output row (they were most of the
   * instructions of MobileNetV2's 56x56 -> 28x28 layer: 1.9x ORT's time). */
  for (int64_t ow0 = 0; ow0 < a->out_w; ow0 += 16) {
    /* Tap kw of lane l reads input column base + 2 l + kw. */
    const int64_t base = 2 * ow0 - a->pad_w;
    __mmask16 m[8];
#pragma GCC unroll 8
    for (int q = 0; q <= R; q++) {
      m[2 * q] = dw3_lanes (0, in_w, base + 2 * q);
      m[2 * q + 1] = dw3_lanes (0, in_w, base + 2 * q + 16);
    }
    const __mmask16 store = dw3_lanes (0, a->out_w, ow0);
    for (int64_t oh = 0; oh < a->out_h; oh++) {
      float *orow = a->out + oh * a->out_w;
      __m512 acc = bias;
      const int64_t ih0 = 2 * oh - a->pad_h;
      const int kh0 = ih0 < 0 ? (int) -ih0 : 0;
      const int kh1 = a->in_h - ih0 < K ? (int) (a->in_h - ih0) : K;
      for (int kh = kh0; kh < kh1; kh++) {
        const int64_t ih = ih0 + kh;
        const float *r = a->in + ih * in_w + base;   /* may lie before the row: masked */
        const float *wk = a->w + kh * K;
#pragma GCC unroll 4
        for (int q = 0; q <= R; q++) {
          const __m512 l0 = _mm512_maskz_loadu_ps (m[2 * q], r + 2 * q);
          const __m512 l1 = _mm512_maskz_loadu_ps (m[2 * q + 1], r + 2 * q + 16);
          acc = _mm512_fmadd_ps (_mm512_permutex2var_ps (l0, even, l1),
              _mm512_set1_ps (wk[2 * q]), acc);
          if (q < R)
            acc = _mm512_fmadd_ps (_mm512_permutex2var_ps (l0, odd, l1),
                _mm512_set1_ps (wk[2 * q + 1]), acc);
        }
      }
      _mm512_mask_storeu_ps (orow + ow0, store, ir_sgemm_act512 (acc, a->act, lo, hi, alpha));
    }
  }
}

/* Stride 2 with output rows of 8 or fewer pixels (MobileNetV2's 14x14 ->
 * 7x7 layer, the 5x5 ones of MnasNet and EfficientNet): two output rows to a
 * vector, lanes 0-7 and 8-15, stored with one compress, so a 7-wide row pair
 * fills 14 lanes of 16 where one row per vector filled 7 (3.5x ONNX
 * Runtime's time).  Each input row pair at offset 2 q is one 16-float load
 * per half (elements 0-15 hold taps 2 q and 2 q + 1 of 8 outputs), the
 * halves paired by the even and odd permutes. */
static inline __attribute__ ((always_inline)) void
dwk_s2_row_pairs (const conv_dw3x3_args *a, const int R)
{
  const int K = 2 * R + 1;
  const __m512 bias = _mm512_set1_ps (a->bias);
  const __m512 lo = _mm512_set1_ps (a->lo), hi = _mm512_set1_ps (a->hi);
  const __m512 alpha = _mm512_set1_ps (a->alpha);
  const __m512i even = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
      28, 30);
  const __m512i odd = _mm512_add_epi32 (even, _mm512_set1_epi32 (1));
  const int64_t in_w = a->in_w, ow_n = a->out_w, base = -a->pad_w;
  __mmask16 m[4];
#pragma GCC unroll 4
  for (int q = 0; q <= R; q++)
    m[q] = dw3_lanes (0, in_w, base + 2 * q);
  const __mmask16 row_lanes = (__mmask16) ((1u << ow_n) - 1);
  for (int64_t oh = 0; oh < a->out_h; oh += 2) {
    const bool two = oh + 1 < a->out_h;
    __m512 acc = bias;
    for (int kh = 0; kh < K; kh++) {
      /* input rows of output rows oh (first half) and oh + 1 (second) */
      const int64_t ih0 = 2 * oh + kh - a->pad_h, ih1 = ih0 + 2;
      const bool in0 = ih0 >= 0 && ih0 < a->in_h, in1 = two && ih1 >= 0 && ih1 < a->in_h;
      if (!in0 && !in1)
        continue;
      const float *r0 = a->in + (in0 ? ih0 : 0) * in_w + base;
      const float *r1 = a->in + (in1 ? ih1 : 0) * in_w + base;
      const float *wk = a->w + kh * K;
#pragma GCC unroll 4
      for (int q = 0; q <= R; q++) {
        const __m512 l0 = _mm512_maskz_loadu_ps (in0 ? m[q] : 0, r0 + 2 * q);
        const __m512 l1 = _mm512_maskz_loadu_ps (in1 ? m[q] : 0, r1 + 2 * q);
        acc = _mm512_fmadd_ps (_mm512_permutex2var_ps (l0, even, l1),
            _mm512_set1_ps (wk[2 * q]), acc);
        if (q < R)
          acc = _mm512_fmadd_ps (_mm512_permutex2var_ps (l0, odd, l1),
              _mm512_set1_ps (wk[2 * q + 1]), acc);
      }
    }
    const __mmask16 store = (__mmask16) (row_lanes | (two ? row_lanes << 8 : 0));
    _mm512_mask_compressstoreu_ps (a->out + oh * ow_n, store,
        ir_sgemm_act512 (acc, a->act, lo, hi, alpha));
  }
}

#define DWK_VARIANTS(R)                                                       \
  static void dwk_s2_rows_##R (const conv_dw3x3_args *a) { dwk_s2_rows (a, R); } \
  static void dwk_s2_row_pairs_##R (const conv_dw3x3_args *a) { dwk_s2_row_pairs (a, R); }
DWK_VARIANTS (1)
DWK_VARIANTS (2)
DWK_VARIANTS (3)

static void dwk_s1_same_2 (const conv_dw3x3_args *a) { dwk_s1_same (a, 2); }
static void dwk_s1_same_3 (const conv_dw3x3_args *a) { dwk_s1_same (a, 3); }

void
conv_dw3x3_avx512 (const conv_dw3x3_args *a)
{
  const bool pairs = a->out_w <= 8;
  switch (a->k) {
    case 5:
      if (a->stride == 1)
        dwk_s1_same_2 (a);
      else if (pairs)
        dwk_s2_row_pairs_2 (a);
      else
        dwk_s2_rows_2 (a);
      return;
    case 7:
      if (a->stride == 1)
        dwk_s1_same_3 (a);
      else if (pairs)
        dwk_s2_row_pairs_3 (a);
      else
        dwk_s2_rows_3 (a);
      return;
    default:
      if (a->stride == 1)
        dw3_s1_same (a);
      else if (pairs)
        dwk_s2_row_pairs_1 (a);
      else
        dwk_s2_rows_1 (a);
      return;
  }
}
