/* The fused activations of the AVX2 kernels' epilogues (packed SGEMM,
 * depthwise 3x3): one copy, included only by files compiled with -mavx2
 * -mfma.  `act` is an IR_SGEMM_ACT_* value; lo/hi are Clip's bounds and
 * alpha LeakyRelu's slope, broadcast once by the caller.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef IMGREC_SGEMM_ACT_AVX2_H
#define IMGREC_SGEMM_ACT_AVX2_H

#include <immintrin.h>

#include "sgemm.h"

static inline __m256
ir_sgemm_act256 (__m256 v, int act, __m256 lo, __m256 hi, __m256 alpha)
{
  switch (act) {
    case IR_SGEMM_ACT_RELU: return _mm256_max_ps (v, _mm256_setzero_ps ());
    case IR_SGEMM_ACT_CLIP: return _mm256_min_ps (_mm256_max_ps (v, lo), hi);
    case IR_SGEMM_ACT_LEAKY: {
      const __m256 neg = _mm256_cmp_ps (v, _mm256_setzero_ps (), _CMP_LT_OQ);
      return _mm256_blendv_ps (v, _mm256_mul_ps (v, alpha), neg);
    }
    default: return v;
  }
}

#endif
