/* im2col rows from the zero-padded image with AVX2 (see
 * conv_im2col_avx512.c): 8-float masked loads for stride 1, load pairs
 * and an even-lane permute for stride 2, along the strip's output-row runs.
 * Compiled with -mavx2 (engine/meson.build); called only when ir_cpu ()
 * says AVX2. */
#include <immintrin.h>

#include "conv_internal.h"

/* Lanes [0, n) on (n clamped to [0, 8]). */
static inline __m256i
im2col_mask8 (int64_t n)
{
  const __m256i lanes = _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7);
  const int k = n <= 0 ? 0 : n >= 8 ? 8 : (int) n;
  return _mm256_cmpgt_epi32 (_mm256_set1_epi32 (k), lanes);
}

void
conv_im2col_rows_avx2 (const conv_im2col_runs *r, const float *xpad, int64_t plane,
    int64_t pad_cols, int64_t k_w, int64_t k_h, int64_t dil_h, int64_t dil_w, int64_t stride,
    int64_t k0, int64_t kc, int nr, float *dst)
{
  /* even lanes of each 8-float half into its low 4 lanes */
  const __m256i even = _mm256_setr_epi32 (0, 2, 4, 6, 1, 3, 5, 7);
  const int64_t ks = k_h * k_w;
  int64_t c = k0 / ks, rem = k0 % ks, kh = rem / k_w, kw = rem % k_w;
  for (int64_t kk = 0; kk < kc; kk++) {
    const float *tap = xpad + c * plane + kh * dil_h * pad_cols + kw * dil_w;
    float *row = dst + kk * nr;
    for (int q = 0; q < r->runs; q++) {
      const float *src = tap + r->src[q];
      float *d = row + r->at[q];
      const int64_t len = r->len[q];
      for (int64_t i = 0; i < len; i += 8) {
        const __m256i m = im2col_mask8 (len - i);
        __m256 v;
        if (stride == 1) {
          v = _mm256_maskload_ps (src + i, m);
        } else {
          const int64_t left = 2 * (len - i) - 1;   /* floats up to the last one read */
          const __m256 lo = _mm256_permutevar8x32_ps (
              _mm256_maskload_ps (src + 2 * i, im2col_mask8 (left)), even);
          const __m256 hi = _mm256_permutevar8x32_ps (
              _mm256_maskload_ps (src + 2 * i + 8, im2col_mask8 (left - 8)), even);
          v = _mm256_permute2f128_ps (lo, hi, 0x20);   /* lo's low half, hi's low half */
        }
        _mm256_maskstore_ps (d + i, m, v);
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
