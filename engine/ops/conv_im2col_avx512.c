/* im2col rows from the zero-padded image with AVX-512 (conv_gemm.c's
 * padded path): a strip's columns are split into runs along output rows,
 * and each run of each B row is a few 16-float loads (stride 1) or load
 * pairs with an even-lane permute (stride 2), masked at the run's end,
 * instead of one scalar gather per float (0.75 ms of ResNet-18's 7x7
 * stride-2 first layer: 1.8 M floats).  Compiled with -mavx512f
 * (engine/meson.build); called only when ir_cpu () says AVX-512. */
#include <immintrin.h>

#include "conv_internal.h"

static inline __mmask16
im2col_mask (int64_t n)
{
  return n >= 16 ? (__mmask16) 0xffff : (__mmask16) ((1u << n) - 1);
}

void
conv_im2col_rows_avx512 (const conv_im2col_runs *r, const float *xpad, int64_t plane,
    int64_t pad_cols, int64_t k_w, int64_t k_h, int64_t dil_h, int64_t dil_w, int64_t stride,
    int64_t k0, int64_t kc, int nr, float *dst)
{
  const __m512i even = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
      28, 30);
  const int64_t ks = k_h * k_w;
  int64_t c = k0 / ks, rem = k0 % ks, kh = rem / k_w, kw = rem % k_w;
  for (int64_t kk = 0; kk < kc; kk++) {
    const float *tap = xpad + c * plane + kh * dil_h * pad_cols + kw * dil_w;
    float *row = dst + kk * nr;
    for (int q = 0; q < r->runs; q++) {
      const float *src = tap + r->src[q];
      float *d = row + r->at[q];
      const int64_t len = r->len[q];
      for (int64_t i = 0; i < len; i += 16) {
        const __mmask16 m = im2col_mask (len - i);
        __m512 v;
        if (stride == 1) {
          v = _mm512_maskz_loadu_ps (m, src + i);
        } else {
          /* lanes 2j of src + 2i .. + 2i + 31; the masks keep the loads
           * inside the padded image */
          const int64_t left = 2 * (len - i) - 1;   /* floats up to the last one read */
          const __m512 lo = _mm512_maskz_loadu_ps (im2col_mask (left), src + 2 * i);
          const __m512 hi = _mm512_maskz_loadu_ps (im2col_mask (left - 16 > 0 ? left - 16 : 0),
              src + 2 * i + 16);
          v = _mm512_permutex2var_ps (lo, even, hi);
        }
        _mm512_mask_storeu_ps (d + i, m, v);
      }
    }
    for (int j = r->width; j < nr; j++)
      row[j] = 0.0f;
    if (++kw == k_w) {
      kw = 0;
      if (++kh == k_h) {
        kh = 0;
        c++;
      }
    }
  }
}
