/* AVX2+FMA SGEMM microkernel, 6 x 16: 12 ymm accumulators, two B vectors and
 * one broadcast per k (the layout of MLAS's and XNNPACK's FMA3 kernels);
 * 4- and 2-row and 8-column variants for the edges of M and N.
 * Compiled with -mavx2 -mfma (engine/meson.build); only called when ir_cpu ()
 * says the CPU and OS support AVX2 and FMA. */
#include <immintrin.h>
#include <stdbool.h>

#include "sgemm.h"
#include "avx2_partial.h"
#include "sgemm_act_avx2.h"

#define MR 6

/* The tile for R <= MR rows of an MR-row panel and V <= 2 vectors of 8
 * columns of a 16-column strip (compile-time constants per caller, as in
 * sgemm_avx512.c): M = 16 or 32 ends on a panel of 4 or 2 rows, a 14x14
 * map's last strip has 4 columns. */
static inline __attribute__ ((always_inline)) void
tile_rows (const int R, const int V, int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e)
{
  __m256 acc0[MR], acc1[MR];
#pragma GCC unroll 6
  for (int i = 0; i < R; i++) {
    acc0[i] = _mm256_setzero_ps ();
    acc1[i] = _mm256_setzero_ps ();
  }
  for (int64_t k = 0; k < kc; k++) {
    const __m256 b0 = _mm256_loadu_ps (b);
    const __m256 b1 = V == 2 ? _mm256_loadu_ps (b + 8) : b0;
    /* the next panel's same k (see sgemm_avx512.c) */
    _mm_prefetch ((const char *) (a + MR * kc), _MM_HINT_T1);
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
      const __m256 ai = _mm256_broadcast_ss (a + i);
      acc0[i] = _mm256_fmadd_ps (ai, b0, acc0[i]);
      if (V == 2)
        acc1[i] = _mm256_fmadd_ps (ai, b1, acc1[i]);
    }
    a += MR;
    b += 16;
  }
  const __m256 lo = _mm256_set1_ps (e->lo), hi = _mm256_set1_ps (e->hi);
  const __m256 alpha = _mm256_set1_ps (e->alpha);
  /* Edge tiles use masked loads/stores; full ones plain (faster on AVX2). */
  const bool full = V == 2 && cols >= 16;
  const __m256i lane = _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i m0 = _mm256_cmpgt_epi32 (_mm256_set1_epi32 (cols), lane);
  const __m256i m1 = _mm256_cmpgt_epi32 (_mm256_set1_epi32 (cols - 8), lane);
#pragma GCC unroll 6
  for (int i = 0; i < R; i++) {
    if (i >= rows)
      break;
    float *row = c + i * ldc;
    __m256 v0 = acc0[i], v1 = V == 2 ? acc1[i] : _mm256_setzero_ps ();
    if (e->accumulate) {
      v0 = _mm256_add_ps (v0, full ? _mm256_loadu_ps (row) : _mm256_maskload_ps (row, m0));
      if (V == 2)
        v1 = _mm256_add_ps (v1, full ? _mm256_loadu_ps (row + 8)
            : _mm256_maskload_ps (row + 8, m1));
    }
    if (e->last) {
      if (e->bias != NULL) {
        const __m256 bi = _mm256_set1_ps (e->bias[i]);
        v0 = _mm256_add_ps (v0, bi);
        if (V == 2)
          v1 = _mm256_add_ps (v1, bi);
      }
      if (e->residual != NULL) {
        const float *r = e->residual + i * e->ldr;
        v0 = _mm256_add_ps (v0, full ? _mm256_loadu_ps (r) : _mm256_maskload_ps (r, m0));
        if (V == 2)
          v1 = _mm256_add_ps (v1, full ? _mm256_loadu_ps (r + 8)
              : _mm256_maskload_ps (r + 8, m1));
      }
      v0 = ir_sgemm_act256 (v0, e->act, lo, hi, alpha);
      if (V == 2)
        v1 = ir_sgemm_act256 (v1, e->act, lo, hi, alpha);
    }
    if (full) {
      _mm256_storeu_ps (row, v0);
      _mm256_storeu_ps (row + 8, v1);
    } else {
      /* plain partial stores (avx2_partial.h: AMD's masked store is microcoded) */
      ir_avx2_store_first (row, v0, cols);
      if (V == 2)
        ir_avx2_store_first (row + 8, v1, cols - 8);
    }
  }
}

void
ir_sgemm_tile_avx2_6x16 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e)
{
  tile_rows (6, 2, kc, a, b, c, ldc, rows, cols, e);
}

void
ir_sgemm_tile_avx2_6x8 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e)
{
  tile_rows (6, 1, kc, a, b, c, ldc, rows, cols, e);
}

void
ir_sgemm_tile_avx2_4x16 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e)
{
  tile_rows (4, 2, kc, a, b, c, ldc, rows, cols, e);
}

void
ir_sgemm_tile_avx2_4x8 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e)
{
  tile_rows (4, 1, kc, a, b, c, ldc, rows, cols, e);
}

void
ir_sgemm_tile_avx2_2x16 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e)
{
  tile_rows (2, 2, kc, a, b, c, ldc, rows, cols, e);
}

void
ir_sgemm_tile_avx2_2x8 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e)
{
  tile_rows (2, 1, kc, a, b, c, ldc, rows, cols, e);
}

static inline float
sgemv_hsum256 (__m256 v)
{
  __m128 s = _mm_add_ps (_mm256_castps256_ps128 (v), _mm256_extractf128_ps (v, 1));
  s = _mm_add_ps (s, _mm_movehl_ps (s, s));
  s = _mm_add_ss (s, _mm_movehdup_ps (s));
  return _mm_cvtss_f32 (s);
}

/* Four rows at a time, 8 floats of k per FMA, a masked tail (see the
 * AVX-512 version in sgemm_avx512.c). */
void
ir_sgemv_rows_avx2 (int64_t n, int64_t k, float alpha, const float *x, const float *b,
    int64_t ldb, float *y)
{
  const int64_t k8 = k & ~(int64_t) 7;
  const __m256i tail = _mm256_cmpgt_epi32 (_mm256_set1_epi32 ((int) (k - k8)),
      _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7));
  const bool has_tail = k > k8;
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float *r0 = b + j * ldb, *r1 = r0 + ldb, *r2 = r1 + ldb, *r3 = r2 + ldb;
    __m256 a0 = _mm256_setzero_ps (), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t kk = 0; kk < k8; kk += 8) {
      const __m256 xv = _mm256_loadu_ps (x + kk);
      a0 = _mm256_fmadd_ps (xv, _mm256_loadu_ps (r0 + kk), a0);
      a1 = _mm256_fmadd_ps (xv, _mm256_loadu_ps (r1 + kk), a1);
      a2 = _mm256_fmadd_ps (xv, _mm256_loadu_ps (r2 + kk), a2);
      a3 = _mm256_fmadd_ps (xv, _mm256_loadu_ps (r3 + kk), a3);
    }
    if (has_tail) {
      const __m256 xv = _mm256_maskload_ps (x + k8, tail);
      a0 = _mm256_fmadd_ps (xv, _mm256_maskload_ps (r0 + k8, tail), a0);
      a1 = _mm256_fmadd_ps (xv, _mm256_maskload_ps (r1 + k8, tail), a1);
      a2 = _mm256_fmadd_ps (xv, _mm256_maskload_ps (r2 + k8, tail), a2);
      a3 = _mm256_fmadd_ps (xv, _mm256_maskload_ps (r3 + k8, tail), a3);
    }
    y[j] += alpha * sgemv_hsum256 (a0);
    y[j + 1] += alpha * sgemv_hsum256 (a1);
    y[j + 2] += alpha * sgemv_hsum256 (a2);
    y[j + 3] += alpha * sgemv_hsum256 (a3);
  }
  for (; j < n; j++) {
    const float *r = b + j * ldb;
    __m256 a = _mm256_setzero_ps ();
    for (int64_t kk = 0; kk < k8; kk += 8)
      a = _mm256_fmadd_ps (_mm256_loadu_ps (x + kk), _mm256_loadu_ps (r + kk), a);
    if (has_tail)
      a = _mm256_fmadd_ps (_mm256_maskload_ps (x + k8, tail), _mm256_maskload_ps (r + k8, tail),
          a);
    y[j] += alpha * sgemv_hsum256 (a);
  }
}

/* y[0, 16) += sum over k < kc of x[k] b[k][0, 16): one strip of a packed B
 * times a row (M = 1), four k at a time into separate accumulators (as in
 * sgemm_avx512.c). */
void
ir_sgemv_strip_avx2 (int64_t kc, const float *x, const float *b, float *y)
{
  __m256 s0 = _mm256_setzero_ps (), s1 = s0, t0 = s0, t1 = s0;
  __m256 u0 = s0, u1 = s0, v0 = s0, v1 = s0;
  int64_t k = 0;
  for (; k + 4 <= kc; k += 4, b += 4 * 16) {
    _mm_prefetch ((const char *) (b + 16 * 16), _MM_HINT_T0);
    const __m256 x0 = _mm256_set1_ps (x[k]), x1 = _mm256_set1_ps (x[k + 1]);
    const __m256 x2 = _mm256_set1_ps (x[k + 2]), x3 = _mm256_set1_ps (x[k + 3]);
    s0 = _mm256_fmadd_ps (x0, _mm256_loadu_ps (b), s0);
    s1 = _mm256_fmadd_ps (x0, _mm256_loadu_ps (b + 8), s1);
    t0 = _mm256_fmadd_ps (x1, _mm256_loadu_ps (b + 16), t0);
    t1 = _mm256_fmadd_ps (x1, _mm256_loadu_ps (b + 24), t1);
    u0 = _mm256_fmadd_ps (x2, _mm256_loadu_ps (b + 32), u0);
    u1 = _mm256_fmadd_ps (x2, _mm256_loadu_ps (b + 40), u1);
    v0 = _mm256_fmadd_ps (x3, _mm256_loadu_ps (b + 48), v0);
    v1 = _mm256_fmadd_ps (x3, _mm256_loadu_ps (b + 56), v1);
  }
  for (; k < kc; k++, b += 16) {
    const __m256 xk = _mm256_set1_ps (x[k]);
    s0 = _mm256_fmadd_ps (xk, _mm256_loadu_ps (b), s0);
    s1 = _mm256_fmadd_ps (xk, _mm256_loadu_ps (b + 8), s1);
  }
  s0 = _mm256_add_ps (_mm256_add_ps (s0, t0), _mm256_add_ps (u0, v0));
  s1 = _mm256_add_ps (_mm256_add_ps (s1, t1), _mm256_add_ps (u1, v1));
  _mm256_storeu_ps (y, _mm256_add_ps (_mm256_loadu_ps (y), s0));
  _mm256_storeu_ps (y + 8, _mm256_add_ps (_mm256_loadu_ps (y + 8), s1));
}
