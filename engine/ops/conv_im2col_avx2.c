/* im2col rows with AVX2 from the zero-padded copy of the image (t->xpad,
 * conv_gemm.c; see conv_im2col_avx512.c for the masked reads of the image
 * itself): each run of a strip row is plain 8-float loads, for W stride 2 a
 * load pair, an in-lane shuffle and one permute, and partial stores
 * (avx2_partial.h).  On a Zen 3 EPYC the masked version (lane masks per run,
 * masked loads and stores) cost ~1 ns a float on 7- to 14-wide maps.
 * Compiled with -mavx2 (engine/meson.build); called only when ir_cpu () says
 * AVX2 and the padded copy is there. */
#include <immintrin.h>

#include "avx2_partial.h"
#include "conv_internal.h"

/* Every run is in bounds of the copy: plain loads (up to 15 floats past a
 * run, inside the copy or its slack) and partial stores. */
void
conv_im2col_rows_avx2 (const conv_im2col_pack *t, const conv_im2col_runs *r, int64_t k0,
    int64_t kc, int nr, float *dst)
{
  const int64_t ks = t->k_h * t->k_w, sw = t->stride_w;
  const int64_t plane = t->pad_rows * t->pad_cols;
  int64_t off[IR_SGEMM_MAX_NR];   /* each run's (0, 0) tap in the copy */
  for (int q = 0; q < r->runs; q++)
    off[q] = r->oh[q] * t->stride_h * t->pad_cols + r->ow[q] * sw;
  int64_t c = k0 / ks, rem = k0 % ks, kh = rem / t->k_w, kw = rem % t->k_w;
  for (int64_t kk = 0; kk < kc; kk++) {
    const float *xc = t->xpad + c * plane + kh * t->dil_h * t->pad_cols + kw * t->dil_w;
    float *row = dst + kk * nr;
    for (int q = 0; q < r->runs; q++) {
      float *d = row + r->at[q];
      const float *src = xc + off[q];
      const int64_t len = r->len[q];
      if (sw == 1) {
        for (int64_t i = 0; i < len; i += 8)
          ir_avx2_store_first (d + i, _mm256_loadu_ps (src + i), len - i);
      } else {
        for (int64_t i = 0; i < len; i += 8) {
          const __m256 l0 = _mm256_loadu_ps (src + 2 * i), l1 = _mm256_loadu_ps (src + 2 * i + 8);
          ir_avx2_store_first (d + i, _mm256_castpd_ps (_mm256_permute4x64_pd (_mm256_castps_pd (
                      _mm256_shuffle_ps (l0, l1, _MM_SHUFFLE (2, 0, 2, 0))),
                  _MM_SHUFFLE (3, 1, 2, 0))), len - i);
        }
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
