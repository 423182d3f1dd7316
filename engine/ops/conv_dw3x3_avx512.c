/* Depthwise 3x3 (dilation 1) on one plane, AVX-512: 16 outputs per vector,
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
  const __m512i one = _mm512_set1_epi32 (1), zero = _mm512_setzero_si512 ();
  const __m512i last_col = _mm512_set1_epi32 ((int) w - 1);
  const __m512i last_row = _mm512_set1_epi32 ((int) h - 1);
  /* Column and row of each lane's position (planes are below 2^31 floats). */
  __m512i col = _mm512_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512i row = zero;
  for (__mmask16 over = _mm512_cmpge_epi32_mask (col, vw); over;
       over = _mm512_cmpge_epi32_mask (col, vw)) {
    col = _mm512_mask_sub_epi32 (col, over, col, vw);
    row = _mm512_mask_add_epi32 (row, over, row, one);
  }
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
    for (__mmask16 over = _mm512_cmpge_epi32_mask (col, vw); over;
         over = _mm512_cmpge_epi32_mask (col, vw)) {
      col = _mm512_mask_sub_epi32 (col, over, col, vw);
      row = _mm512_mask_add_epi32 (row, over, row, one);
    }
  }
}

static void
dw3_s2_rows (const conv_dw3x3_args *a)
{
  __m512 wt[9];
  for (int k = 0; k < 9; k++)
    wt[k] = _mm512_set1_ps (a->w[k]);
  const __m512 bias = _mm512_set1_ps (a->bias);
  const __m512 lo = _mm512_set1_ps (a->lo), hi = _mm512_set1_ps (a->hi);
  const __m512 alpha = _mm512_set1_ps (a->alpha);
  const __m512i even = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
      28, 30);
  const __m512i odd = _mm512_add_epi32 (even, _mm512_set1_epi32 (1));
  const int64_t in_w = a->in_w;
  for (int64_t oh = 0; oh < a->out_h; oh++) {
    float *orow = a->out + oh * a->out_w;
    for (int64_t ow0 = 0; ow0 < a->out_w; ow0 += 16) {
      /* Tap kw of lane l reads input column base + 2 l + kw. */
      const int64_t base = 2 * ow0 - a->pad_w;
      const __mmask16 m0 = dw3_lanes (0, in_w, base), m1 = dw3_lanes (0, in_w, base + 16);
      const __mmask16 m2 = dw3_lanes (0, in_w, base + 2), m3 = dw3_lanes (0, in_w, base + 18);
      __m512 acc = bias;
      for (int kh = 0; kh < 3; kh++) {
        const int64_t ih = 2 * oh + kh - a->pad_h;
        if (ih < 0 || ih >= a->in_h)
          continue;
        const float *r = a->in + ih * in_w + base;   /* may lie before the row: masked */
        const __m512 l0 = _mm512_maskz_loadu_ps (m0, r), l1 = _mm512_maskz_loadu_ps (m1, r + 16);
        const __m512 s0 = _mm512_maskz_loadu_ps (m2, r + 2);
        const __m512 s1 = _mm512_maskz_loadu_ps (m3, r + 18);
        acc = _mm512_fmadd_ps (_mm512_permutex2var_ps (l0, even, l1), wt[kh * 3], acc);
        acc = _mm512_fmadd_ps (_mm512_permutex2var_ps (l0, odd, l1), wt[kh * 3 + 1], acc);
        acc = _mm512_fmadd_ps (_mm512_permutex2var_ps (s0, even, s1), wt[kh * 3 + 2], acc);
      }
      _mm512_mask_storeu_ps (orow + ow0, dw3_lanes (0, a->out_w, ow0),
          ir_sgemm_act512 (acc, a->act, lo, hi, alpha));
    }
  }
}

/* Stride 2 with output rows of 8 or fewer pixels (MobileNetV2's 14x14 ->
 * 7x7 layer): two output rows to a vector, lanes 0-7 and 8-15, stored with
 * one compress, so a 7-wide row pair fills 14 lanes of 16 where one row per
 * vector filled 7 (3.5x ONNX Runtime's time).  Each input row read is one
 * 16-float load per half (its elements 0-15 hold taps 0 and 1 of 8 outputs,
 * those from +2 tap 2), the halves paired by the even and odd permutes. */
static void
dw3_s2_row_pairs (const conv_dw3x3_args *a)
{
  __m512 wt[9];
  for (int k = 0; k < 9; k++)
    wt[k] = _mm512_set1_ps (a->w[k]);
  const __m512 bias = _mm512_set1_ps (a->bias);
  const __m512 lo = _mm512_set1_ps (a->lo), hi = _mm512_set1_ps (a->hi);
  const __m512 alpha = _mm512_set1_ps (a->alpha);
  const __m512i even = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
      28, 30);
  const __m512i odd = _mm512_add_epi32 (even, _mm512_set1_epi32 (1));
  const int64_t in_w = a->in_w, ow_n = a->out_w, base = -a->pad_w;
  const __mmask16 m0 = dw3_lanes (0, in_w, base), m2 = dw3_lanes (0, in_w, base + 2);
  const __mmask16 row_lanes = (__mmask16) ((1u << ow_n) - 1);
  for (int64_t oh = 0; oh < a->out_h; oh += 2) {
    const bool two = oh + 1 < a->out_h;
    __m512 acc = bias;
    for (int kh = 0; kh < 3; kh++) {
      /* input rows of output rows oh (first half) and oh + 1 (second) */
      const int64_t ih0 = 2 * oh + kh - a->pad_h, ih1 = ih0 + 2;
      const bool in0 = ih0 >= 0 && ih0 < a->in_h, in1 = two && ih1 >= 0 && ih1 < a->in_h;
      if (!in0 && !in1)
        continue;
      const float *r0 = a->in + (in0 ? ih0 : 0) * in_w + base;
      const float *r1 = a->in + (in1 ? ih1 : 0) * in_w + base;
      const __m512 l0 = _mm512_maskz_loadu_ps (in0 ? m0 : 0, r0);
      const __m512 l1 = _mm512_maskz_loadu_ps (in1 ? m0 : 0, r1);
      const __m512 s0 = _mm512_maskz_loadu_ps (in0 ? m2 : 0, r0 + 2);
      const __m512 s1 = _mm512_maskz_loadu_ps (in1 ? m2 : 0, r1 + 2);
      acc = _mm512_fmadd_ps (_mm512_permutex2var_ps (l0, even, l1), wt[kh * 3], acc);
      acc = _mm512_fmadd_ps (_mm512_permutex2var_ps (l0, odd, l1), wt[kh * 3 + 1], acc);
      acc = _mm512_fmadd_ps (_mm512_permutex2var_ps (s0, even, s1), wt[kh * 3 + 2], acc);
    }
    const __mmask16 store = (__mmask16) (row_lanes | (two ? row_lanes << 8 : 0));
    _mm512_mask_compressstoreu_ps (a->out + oh * ow_n, store,
        ir_sgemm_act512 (acc, a->act, lo, hi, alpha));
  }
}

void
conv_dw3x3_avx512 (const conv_dw3x3_args *a)
{
  if (a->stride == 1)
    dw3_s1_same (a);
  else if (a->out_w <= 8)
    dw3_s2_row_pairs (a);
  else
    dw3_s2_rows (a);
}
