/* Partial-vector stores for the AVX2 kernels: the first n lanes of a vector
 * written with plain 16-, 8- and 4-byte stores.
 *
 * Why not _mm256_maskstore_ps: on AMD Zen it is microcoded, ~20 cycles a
 * store on a Zen 3 EPYC here (6.8 ns against 1.6 for storeu, measured
 * 2026-12-03), where Intel runs it in one or two uops.  Every AVX2 kernel
 * stored each vector with it, full or not, and MaxPool took 4-5x ONNX
 * Runtime's time on that machine.  Kernels store full vectors with
 * _mm256_storeu_ps and only the tails through this.  Masked loads stay (one
 * uop, ~1.3x a plain load there) where a vector may cross an edge.
 *
 * Included only by files compiled with -mavx2. */
#ifndef IMGREC_AVX2_PARTIAL_H
#define IMGREC_AVX2_PARTIAL_H

#include <immintrin.h>
#include <stdint.h>

/* d[0, n) = v's lanes [0, n); n <= 0 stores nothing, n >= 8 all eight. */
static inline void
ir_avx2_store_first (float *d, __m256 v, int64_t n)
{
  if (n >= 8) {
    _mm256_storeu_ps (d, v);
    return;
  }
  if (n <= 0)
    return;
  __m128 part = _mm256_castps256_ps128 (v);
  if (n >= 4) {
    _mm_storeu_ps (d, part);
    part = _mm256_extractf128_ps (v, 1);
    d += 4;
    n -= 4;
  }
  if (n >= 2) {
    _mm_storel_pi ((__m64 *) d, part);
    part = _mm_movehl_ps (part, part);
    d += 2;
    n -= 2;
  }
  if (n >= 1)
    _mm_store_ss (d, part);
}

/* Whether every lane of a vector mask is set (its sign bits). */
static inline int
ir_avx2_mask_full (__m256i mask)
{
  return _mm256_movemask_ps (_mm256_castsi256_ps (mask)) == 0xff;
}

#endif
