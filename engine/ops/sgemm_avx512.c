/* AVX-512 SGEMM microkernel, 12 x 32: 24 zmm accumulators, two B vectors and
 * one broadcast per k; 8- and 4-row variants for the last panel of M.  Compiled with -mavx512f -mavx512dq -mavx512bw
 * -mavx512vl -mfma (engine/meson.build); only called when ir_cpu () says the
 * CPU and OS support AVX-512. */
#include <immintrin.h>

#include "sgemm.h"
#include "sgemm_act_avx512.h"

#define MR 12

/* The tile for R <= MR rows of an MR-row A panel and V <= 2 vectors of 16
 * columns of a 32-column B strip (both compile-time constants in each
 * caller, so the accumulators stay in registers): the last panel of M = 16,
 * 32 or 64 output channels has 4 or 8 rows, on which the 12-row tile would
 * spend 3x or 1.5x the FMAs, and the last strip of a 14x14 map has 4
 * columns.  4 rows x 32 still keep 8 accumulators in flight, as 2 FMA
 * ports of latency 4 need. */
static inline __attribute__ ((always_inline)) void
tile_rows (const int R, const int V, int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e)
{
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 12
  for (int i = 0; i < R; i++) {
    acc0[i] = _mm512_setzero_ps ();
    acc1[i] = _mm512_setzero_ps ();
  }
  for (int64_t k = 0; k < kc; k++) {
    const __m512 b0 = _mm512_loadu_ps (b);
    const __m512 b1 = V == 2 ? _mm512_loadu_ps (b + 16) : b0;
    _mm_prefetch ((const char *) (b + 8 * 32), _MM_HINT_T0);
    /* the next panel's same k: A (the weights) streams from memory on deep
     * layers, and the L2 prefetcher alone fell behind (ResNet's 7x7 convs
     * with 9.4 MB of weights each: 0.75x the time with this) */
    _mm_prefetch ((const char *) (a + MR * kc), _MM_HINT_T1);
#pragma GCC unroll 12
    for (int i = 0; i < R; i++) {
      const __m512 ai = _mm512_set1_ps (a[i]);
      acc0[i] = _mm512_fmadd_ps (ai, b0, acc0[i]);
      if (V == 2)
        acc1[i] = _mm512_fmadd_ps (ai, b1, acc1[i]);
    }
    a += MR;
    b += 32;
  }
  const __m512 lo = _mm512_set1_ps (e->lo), hi = _mm512_set1_ps (e->hi);
  const __m512 alpha = _mm512_set1_ps (e->alpha);
  /* Column masks of the two vectors (all ones inside the tile). */
  const __mmask16 m0 = cols >= 16 ? (__mmask16) 0xffff : (__mmask16) ((1u << cols) - 1);
  const __mmask16 m1 = cols >= 32 ? (__mmask16) 0xffff
      : cols <= 16 ? (__mmask16) 0 : (__mmask16) ((1u << (cols - 16)) - 1);
  const __m512 zero = _mm512_setzero_ps ();
#pragma GCC unroll 12
  for (int i = 0; i < R; i++) {
    if (i >= rows)
      break;
    float *row = c + i * ldc;
    __m512 v0 = acc0[i], v1 = V == 2 ? acc1[i] : zero;
    if (e->accumulate) {
      v0 = _mm512_add_ps (v0, _mm512_maskz_loadu_ps (m0, row));
      if (V == 2)
        v1 = _mm512_add_ps (v1, _mm512_maskz_loadu_ps (m1, row + 16));
    }
    if (e->last) {
      if (e->bias != NULL) {
        const __m512 bi = _mm512_set1_ps (e->bias[i]);
        v0 = _mm512_add_ps (v0, bi);
        if (V == 2)
          v1 = _mm512_add_ps (v1, bi);
      }
      if (e->residual != NULL) {
        const float *r = e->residual + i * e->ldr;
        v0 = _mm512_add_ps (v0, _mm512_mask_loadu_ps (zero, m0, r));
        if (V == 2)
          v1 = _mm512_add_ps (v1, _mm512_mask_loadu_ps (zero, m1, r + 16));
      }
      v0 = ir_sgemm_act512 (v0, e->act, lo, hi, alpha);
      if (V == 2)
        v1 = ir_sgemm_act512 (v1, e->act, lo, hi, alpha);
    }
    _mm512_mask_storeu_ps (row, m0, v0);
    if (V == 2)
      _mm512_mask_storeu_ps (row + 16, m1, v1);
  }
}

void
ir_sgemm_tile_avx512_12x32 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e)
{
  tile_rows (12, 2, kc, a, b, c, ldc, rows, cols, e);
}

void
ir_sgemm_tile_avx512_12x16 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e)
{
  tile_rows (12, 1, kc, a, b, c, ldc, rows, cols, e);
}

void
ir_sgemm_tile_avx512_8x32 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e)
{
  tile_rows (8, 2, kc, a, b, c, ldc, rows, cols, e);
}

void
ir_sgemm_tile_avx512_8x16 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e)
{
  tile_rows (8, 1, kc, a, b, c, ldc, rows, cols, e);
}

void
ir_sgemm_tile_avx512_4x32 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e)
{
  tile_rows (4, 2, kc, a, b, c, ldc, rows, cols, e);
}

void
ir_sgemm_tile_avx512_4x16 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e)
{
  tile_rows (4, 1, kc, a, b, c, ldc, rows, cols, e);
}

/* Four rows at a time, 16 floats of k per FMA, a masked tail: each row of B
 * streams once from memory (the batch-1 classifier's weights). */
void
ir_sgemv_rows_avx512 (int64_t n, int64_t k, float alpha, const float *x, const float *b,
    int64_t ldb, float *y)
{
  const int64_t k16 = k & ~(int64_t) 15;
  const __mmask16 tail = (__mmask16) ((1u << (k - k16)) - 1);
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float *r0 = b + j * ldb, *r1 = r0 + ldb, *r2 = r1 + ldb, *r3 = r2 + ldb;
    __m512 a0 = _mm512_setzero_ps (), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t kk = 0; kk < k16; kk += 16) {
      const __m512 xv = _mm512_loadu_ps (x + kk);
      a0 = _mm512_fmadd_ps (xv, _mm512_loadu_ps (r0 + kk), a0);
      a1 = _mm512_fmadd_ps (xv, _mm512_loadu_ps (r1 + kk), a1);
      a2 = _mm512_fmadd_ps (xv, _mm512_loadu_ps (r2 + kk), a2);
      a3 = _mm512_fmadd_ps (xv, _mm512_loadu_ps (r3 + kk), a3);
    }
    if (tail) {
      const __m512 xv = _mm512_maskz_loadu_ps (tail, x + k16);
      a0 = _mm512_fmadd_ps (xv, _mm512_maskz_loadu_ps (tail, r0 + k16), a0);
      a1 = _mm512_fmadd_ps (xv, _mm512_maskz_loadu_ps (tail, r1 + k16), a1);
      a2 = _mm512_fmadd_ps (xv, _mm512_maskz_loadu_ps (tail, r2 + k16), a2);
      a3 = _mm512_fmadd_ps (xv, _mm512_maskz_loadu_ps (tail, r3 + k16), a3);
    }
    y[j] += alpha * _mm512_reduce_add_ps (a0);
    y[j + 1] += alpha * _mm512_reduce_add_ps (a1);
    y[j + 2] += alpha * _mm512_reduce_add_ps (a2);
    y[j + 3] += alpha * _mm512_reduce_add_ps (a3);
  }
  for (; j < n; j++) {
    const float *r = b + j * ldb;
    __m512 a = _mm512_setzero_ps ();
    for (int64_t kk = 0; kk < k16; kk += 16)
      a = _mm512_fmadd_ps (_mm512_loadu_ps (x + kk), _mm512_loadu_ps (r + kk), a);
    if (tail)
      a = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (tail, x + k16),
          _mm512_maskz_loadu_ps (tail, r + k16), a);
    y[j] += alpha * _mm512_reduce_add_ps (a);
  }
}

/* y[0, 32) += sum over k < kc of x[k] b[k][0, 32): one 32-column strip of
 * a packed B times a row (M = 1: a batch-1 fully connected layer).  Four k
 * at a time into separate accumulators, so the FMAs' latency hides behind
 * the stream of B, which is what bounds it. */
void
ir_sgemv_strip_avx512 (int64_t kc, const float *x, const float *b, float *y)
{
  __m512 s0 = _mm512_setzero_ps (), s1 = s0, t0 = s0, t1 = s0;
  __m512 u0 = s0, u1 = s0, v0 = s0, v1 = s0;
  int64_t k = 0;
  for (; k + 4 <= kc; k += 4, b += 4 * 32) {
    _mm_prefetch ((const char *) (b + 16 * 32), _MM_HINT_T0);
    _mm_prefetch ((const char *) (b + 16 * 32 + 64), _MM_HINT_T0);
    const __m512 x0 = _mm512_set1_ps (x[k]), x1 = _mm512_set1_ps (x[k + 1]);
    const __m512 x2 = _mm512_set1_ps (x[k + 2]), x3 = _mm512_set1_ps (x[k + 3]);
    s0 = _mm512_fmadd_ps (x0, _mm512_loadu_ps (b), s0);
    s1 = _mm512_fmadd_ps (x0, _mm512_loadu_ps (b + 16), s1);
    t0 = _mm512_fmadd_ps (x1, _mm512_loadu_ps (b + 32), t0);
    t1 = _mm512_fmadd_ps (x1, _mm512_loadu_ps (b + 48), t1);
    u0 = _mm512_fmadd_ps (x2, _mm512_loadu_ps (b + 64), u0);
    u1 = _mm512_fmadd_ps (x2, _mm512_loadu_ps (b + 80), u1);
    v0 = _mm512_fmadd_ps (x3, _mm512_loadu_ps (b + 96), v0);
    v1 = _mm512_fmadd_ps (x3, _mm512_loadu_ps (b + 112), v1);
  }
  for (; k < kc; k++, b += 32) {
    const __m512 xk = _mm512_set1_ps (x[k]);
    s0 = _mm512_fmadd_ps (xk, _mm512_loadu_ps (b), s0);
    s1 = _mm512_fmadd_ps (xk, _mm512_loadu_ps (b + 16), s1);
  }
  s0 = _mm512_add_ps (_mm512_add_ps (s0, t0), _mm512_add_ps (u0, v0));
  s1 = _mm512_add_ps (_mm512_add_ps (s1, t1), _mm512_add_ps (u1, v1));
  _mm512_storeu_ps (y, _mm512_add_ps (_mm512_loadu_ps (y), s0));
  _mm512_storeu_ps (y + 16, _mm512_add_ps (_mm512_loadu_ps (y + 16), s1));
}
