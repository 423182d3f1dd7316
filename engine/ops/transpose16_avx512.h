/* A 16 x 16 float transpose in AVX-512 registers, for the kernels that keep
 * channels in the vector lanes (conv_direct_avx512.c, block16_avx512.c):
 * r[i] (position i, 16 channels) <-> r[j] (channel j, 16 positions), in 4
 * stages of 16 unpacks or shuffles.  Include only from files compiled with
 * -mavx512f. */
#ifndef IMGREC_TRANSPOSE16_AVX512_H
#define IMGREC_TRANSPOSE16_AVX512_H

#include <immintrin.h>

static inline __attribute__ ((always_inline)) void
ir_transpose16_avx512 (__m512 r[16])
{
  __m512 t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps (r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps (r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; i++) {
    r[4 * i] = _mm512_shuffle_ps (t[4 * i], t[4 * i + 2], 0x44);
    r[4 * i + 1] = _mm512_shuffle_ps (t[4 * i], t[4 * i + 2], 0xee);
    r[4 * i + 2] = _mm512_shuffle_ps (t[4 * i + 1], t[4 * i + 3], 0x44);
    r[4 * i + 3] = _mm512_shuffle_ps (t[4 * i + 1], t[4 * i + 3], 0xee);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; i++) {
    t[i] = _mm512_shuffle_f32x4 (r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_f32x4 (r[i], r[i + 4], 0xdd);
    t[i + 8] = _mm512_shuffle_f32x4 (r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_f32x4 (r[i + 8], r[i + 12], 0xdd);
  }
#pragma GCC unroll 8
  for (int i = 0; i < 8; i++) {
    r[i] = _mm512_shuffle_f32x4 (t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4 (t[i], t[i + 8], 0xdd);
  }
}

#endif
