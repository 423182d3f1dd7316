/* The fused activations of the AVX-512 kernels' epilogues (packed SGEMM,
 * depthwise 3x3): one copy, included only by files compiled with the
 * AVX-512 flags.  `act` is an IR_SGEMM_ACT_* value; lo/hi are Clip's bounds
 * and alpha LeakyRelu's slope, broadcast once by the caller.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef IMGREC_SGEMM_ACT_AVX512_H
#define IMGREC_SGEMM_ACT_AVX512_H

#include <immintrin.h>

#include "sgemm.h"

static inline __m512
ir_sgemm_act512 (__m512 v, int act, __m512 lo, __m512 hi, __m512 alpha)
{
  switch (act) {
    case IR_SGEMM_ACT_RELU: return _mm512_max_ps (v, _mm512_setzero_ps ());
    case IR_SGEMM_ACT_CLIP: return _mm512_min_ps (_mm512_max_ps (v, lo), hi);
    case IR_SGEMM_ACT_LEAKY: {
      const __mmask16 neg = _mm512_cmp_ps_mask (v, _mm512_setzero_ps (), _CMP_LT_OQ);
      return _mm512_mask_mul_ps (v, neg, v, alpha);
    }
    default: return v;
  }
}

#endif
