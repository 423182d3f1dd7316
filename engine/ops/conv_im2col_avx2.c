/* im2col rows straight from the image with AVX2 (see conv_im2col_avx512.c):
 * 8-float masked loads for W stride 1, load pairs, an in-lane shuffle and one
 * permute for stride 2, masked at the image's borders (plain loads inside it); stores
 * plain (avx2_partial.h: AMD's masked store is microcoded).  Compiled with -mavx2
 * (engine/meson.build); called only when ir_cpu () says AVX2. */
#include <immintrin.h>

#include "avx2_partial.h"
#include "conv_internal.h"

/* Lanes [a, b) of 8 on, both clamped to [0, 8]. */
static inline __m256i
lanes8 (int64_t a, int64_t b)
{
  const __m256i idx = _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7);
  a = a < 0 ? 0 : a > 8 ? 8 : a;
  b = b < a ? a : b > 8 ? 8 : b;
  return _mm256_andnot_si256 (_mm256_cmpgt_epi32 (_mm256_set1_epi32 ((int) a), idx),
      _mm256_cmpgt_epi32 (_mm256_set1_epi32 ((int) b), idx));
}

void
conv_im2col_rows_avx2 (const conv_im2col_pack *t, const conv_im2col_runs *r, int64_t k0,
    int64_t kc, int nr, float *dst)
{
  const __m256 zero = _mm256_setzero_ps ();
  const int64_t ks = t->k_h * t->k_w, sw = t->stride_w;
  int64_t c = k0 / ks, rem = k0 % ks, kh = rem / t->k_w, kw = rem % t->k_w;
  for (int64_t kk = 0; kk < kc; kk++) {
    const float *xc = t->x + c * t->image_size;
    float *row = dst + kk * nr;
    for (int q = 0; q < r->runs; q++) {
      float *d = row + r->at[q];
      const int64_t len = r->len[q];
      const int64_t ih = r->oh[q] * t->stride_h + kh * t->dil_h - t->pad_h;
      if (ih < 0 || ih >= t->in_h) {
        for (int64_t i = 0; i < len; i += 8)
          ir_avx2_store_first (d + i, zero, len - i);
        continue;
      }
      const int64_t iw0 = r->ow[q] * sw + kw * t->dil_w - t->pad_w;
      const float *src = xc + ih * t->in_w + iw0;
      for (int64_t i = 0; i < len; i += 8) {
        __m256 v;
        if (sw == 1) {
          if (iw0 + i >= 0 && iw0 + i + 8 <= t->in_w)
            v = _mm256_loadu_ps (src + i);
          else
            v = _mm256_maskload_ps (src + i, _mm256_and_si256 (
                lanes8 (-iw0 - i, t->in_w - iw0 - i), lanes8 (0, len - i)));
        } else {
          const int64_t base = iw0 + 2 * i, last = 2 * (len - i) - 1;
          __m256 l0, l1;
          if (base >= 0 && base + 16 <= t->in_w) {
            l0 = _mm256_loadu_ps (src + 2 * i);
            l1 = _mm256_loadu_ps (src + 2 * i + 8);
          } else {
            const int64_t a = -base, b = t->in_w - base < last ? t->in_w - base : last;
            l0 = _mm256_maskload_ps (src + 2 * i, lanes8 (a, b));
            l1 = _mm256_maskload_ps (src + 2 * i + 8, lanes8 (a - 8, b - 8));
          }
          /* elements 0 2 8 10 4 6 12 14 of l0:l1, then put in order */
          v = _mm256_castpd_ps (_mm256_permute4x64_pd (_mm256_castps_pd (
                  _mm256_shuffle_ps (l0, l1, _MM_SHUFFLE (2, 0, 2, 0))), _MM_SHUFFLE (3, 1, 2, 0)));
        }
        ir_avx2_store_first (d + i, v, len - i);
      }
    }
    for (int j = r->width; j < nr; j++)
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
